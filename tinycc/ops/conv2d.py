"""CONV_2D: 2-D convolution, NHWC input, filter [out_c, kh, kw, in_c / groups], optional bias."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import SimpleNamespace

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from . import _uint8
from . import (NO_READ, OpDef, activation, activation_range_float, activation_range_int8, compressed_weights,
               folded_bias, padding, per_channel_scales, register, window_first, window_reads_min)


def conv_geometry(g, o: ir.Op, k_h: int, k_w: int) -> dict:
    """Output size and top/left padding from the op's stride, dilation and padding attrs."""
    n, h, w, _ = ir.tensor(g, o.inputs[0]).shape
    a = o.attrs
    out_h, pad_top = quant.padding_amount(quant.axis_padding(a, "h"), h, k_h, a["stride_h"], a.get("dilation_h", 1))
    out_w, pad_left = quant.padding_amount(quant.axis_padding(a, "w"), w, k_w, a["stride_w"], a.get("dilation_w", 1))
    return dict(batches=n, in_h=h, in_w=w, out_h=out_h, out_w=out_w, pad_top=pad_top, pad_left=pad_left)


def compressed_block(g) -> int:
    """Output pixels per block of tcc_conv2d_s8c (runtime/kernels/tcc_compressed.c): each
    block decodes every output channel's weights once, into scratch of block * out_c + the
    channel's weights. --optimize speed: 16 (a DS-CNN-like model: +0.2 % est. Cortex-M4 cycles over
    its int8 build); memory: 4 (+8 %, 12 x out_c bytes less scratch)."""
    return 16 if g.graph.get("optimize") == "speed" else 4


@dataclass(frozen=True, eq=False, kw_only=True)
class ConvParams(ir.Params):
    """CONV_2D and DEPTHWISE_CONV_2D: what their kernels' params structs hold besides the attrs
    and shapes (tcc_conv2d_*, tcc_depthwise_*; the fast kernels' units in tinycc/variants pack theirs)."""
    batches: int
    in_h: int
    in_w: int
    out_h: int
    out_w: int
    pad_top: int
    pad_left: int
    act_range: tuple          # the output clamp (int8 or float32)
    depth_mult: int = 1       # DEPTHWISE_CONV_2D
    in_zp: int = 0            # int8: zero points, per-channel requantization, zero-point-folded bias
    out_zp: int = 0
    mult: list = field(default_factory=list)
    shift: list = field(default_factory=list)
    bias: np.ndarray | None = None
    hybrid_asymmetric: bool = False   # CONV_2D with int8 weights and float32 activations
    hybrid_scales: list = field(default_factory=list)
    acc64: bool = False       # 16x8: an int64 bias, accumulated in int64 (bias then holds it unfolded)


def conv_window(g, o: ir.Op) -> tuple[int, int, int, int]:
    """(filter_h, filter_w, dilation_h, dilation_w) of a CONV_2D or DEPTHWISE_CONV_2D (weights [., kh, kw, .])."""
    w = ir.tensor(g, o.inputs[1])
    return w.shape[1], w.shape[2], o.attrs.get("dilation_h", 1), o.attrs.get("dilation_w", 1)


def read_conv_options(opts) -> dict:
    if opts is None:
        return dict(padding="SAME", stride_h=1, stride_w=1, dilation_h=1, dilation_w=1, activation="NONE")
    return dict(padding=padding(opts), stride_h=opts.StrideH(), stride_w=opts.StrideW(),
                dilation_h=opts.DilationHFactor(), dilation_w=opts.DilationWFactor(),
                activation=activation(opts))


def check_strides(op_def: OpDef, o: ir.Op) -> None:
    for k in ("stride_h", "stride_w", "dilation_h", "dilation_w"):
        if k in o.attrs and not 1 <= o.attrs[k] <= 1024:
            raise op_def.fail(o, f"{k} = {o.attrs[k]} is out of range")


def is_hybrid(g, o: ir.Op) -> bool:
    """Hybrid (dynamic-range quantized) op: int8 weights with float32 activations."""
    return ir.tensor(g, o.inputs[0]).dtype == "float32" and ir.tensor(g, o.inputs[1]).dtype == "int8"


# Largest |w * (q - zp)| of a hybrid kernel: int8 weights (-128) times the quantized
# input minus its zero point (at most 255 apart); the int32 accumulator must hold the sum.
HYBRID_MAX_TERM = 128 * 255


def check_hybrid_weights(op_def: OpDef, o: ir.Op, w: ir.Tensor, channels: int, depth: int) -> None:
    """Rules for the int8 weights of a hybrid op (``channels`` outputs, ``depth`` terms per output)."""
    q = w.quant
    if q is None or not q.scale:
        raise op_def.fail(o, "int8 weights of a float32 op need a quantization scale", w.name)
    if any(z != 0 for z in q.zero_point):
        raise op_def.fail(o, "int8 weights of a float32 op need zero points of 0", w.name)
    if any(not (s > 0 and math.isfinite(s)) for s in q.scale):
        raise op_def.fail(o, "weight scales must be positive and finite", w.name)
    if q.per_channel and (q.axis != 0 or len(q.scale) != channels):
        raise op_def.fail(o, f"{len(q.scale)} weight scales along axis {q.axis} do not match "
                             f"{channels} output channels on axis 0", w.name)
    if depth * HYBRID_MAX_TERM > 2**31 - 1:
        raise op_def.fail(o, f"{depth} terms per output may overflow the int32 accumulator", w.name)


def hybrid_scales(w: ir.Tensor, per_channel: bool) -> list[float]:
    """The weight scales a hybrid kernel multiplies by: one per output channel, or the first one."""
    return list(w.quant.scale) if per_channel else [w.quant.scale[0]]


def check_weights(op_def: OpDef, g, o: ir.Op, dtype: str) -> None:
    w = ir.tensor(g, o.inputs[1])
    if not w.is_const:
        raise op_def.fail(o, "weights must be constant", w.name)
    if w.dtype not in WEIGHT_TYPES[dtype]:
        raise op_def.fail(o, f"weights are {w.dtype}, activations {dtype}", w.name)
    b = bias_tensor(g, o)
    if b is not None:
        want = BIAS_TYPES[dtype]
        if not b.is_const or b.dtype not in want:
            raise op_def.fail(o, f"bias must be a constant {' or '.join(want)} tensor", b.name)


# The weight types of each activation type (float32 with int8 weights: hybrid; int16: 16x8).
WEIGHT_TYPES = {"int8": ("int8",), "int16": ("int8",), "float32": ("float32", "int8")}
# The bias types of each activation type (16x8: TFLite accumulates in the bias type).
BIAS_TYPES = {"int8": ("int32",), "int16": ("int64", "int32"), "float32": ("float32",)}


def bias_tensor(g, o: ir.Op) -> ir.Tensor | None:
    """The op's bias tensor (input 2), or None when it has none."""
    return ir.tensor(g, o.inputs[2]) if len(o.inputs) > 2 and o.inputs[2] is not None else None


def bias_data(g, o: ir.Op) -> np.ndarray | None:
    """The op's constant bias (input 2), or None when it has none."""
    b = bias_tensor(g, o)
    return None if b is None else b.data


def acc64(g, o: ir.Op) -> bool:
    """A 16x8 op accumulates (and requantizes) in int64 unless its bias is int32, as TFLite Micro
    does: with no bias it takes its int64 path too (an int32 one rounds some outputs 1 apart)."""
    b = bias_tensor(g, o)
    return b is None or b.dtype != "int32"


def check_s16(op_def: OpDef, g, o: ir.Op, axis_out: int) -> None:
    """16x8 accumulation and requantization rules (quant.check_int16_accumulation)."""
    x, w, y = (ir.tensor(g, t) for t in (o.inputs[0], o.inputs[1], o.outputs[0]))
    quant.check_int16_accumulation(op_def, o, x, w, y, bias_data(g, o), axis_out, acc64(g, o))


def s16_params(g, o: ir.Op, axis_out: int, float_product: bool = False) -> dict:
    """The requantization fields of a 16x8 op's params: per-channel multipliers, the int64 bias
    (unfolded: zero points are 0), the accumulator type and the output clamp. ``float_product``:
    the multiplier is float32(input scale * weight scale) / output scale in double (TFLite
    Micro's per-tensor FULLY_CONNECTED, GetQuantizedConvolutionMultipler)."""
    x, w, y = (ir.tensor(g, t) for t in (o.inputs[0], o.inputs[1], o.outputs[0]))
    if float_product:
        prod = float(np.float32(x.quant.scale[0]) * np.float32(w.quant.scale[0]))
        m, sh = quant.quantize_multiplier(prod / float(y.quant.scale[0]))
        mult, shift = [m] * w.shape[axis_out], [sh] * w.shape[axis_out]
    else:
        mult, shift = quant.conv_output_multipliers(x.quant.scale[0], per_channel_scales(w, w.shape[axis_out]),
                                                    y.quant.scale[0])
    bias = bias_data(g, o)
    return dict(act_range=activation_range_int8(o.attrs["activation"], y.quant.scale[0], 0, "int16"),
                mult=mult, shift=shift, bias=None if bias is None else bias.astype(np.int64), acc64=acc64(g, o))


def s8_fields(ctx, o: ir.Op, w: ir.Tensor, compressed: bool) -> list:
    """The fields every int8 tcc_*_s8_params struct of a weighted op ends with (after its shapes
    and zero points): the clamp, the weights (None: the compressed-weight kernel reads them), the
    bias with the input zero point folded in and the per-channel requantization."""
    p = o.params
    return [("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
            ("weights", None if compressed else ctx.const_array(o, "weights", "int8_t", w.data)),
            ("bias", ctx.const_array(o, "bias", "int32_t", p.bias)),
            ("mult", ctx.const_array(o, "mult", "int32_t", p.mult)),
            ("shift", ctx.const_array(o, "shift", "int32_t", p.shift))]


def f32_fields(ctx, g, o: ir.Op, w: ir.Tensor) -> list:
    """The fields every tcc_*_f32_params struct of a weighted op ends with: the clamp, the weights
    and the bias (None when the model has none)."""
    p, bias = o.params, bias_data(g, o)
    return [("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
            ("weights", ctx.const_array(o, "weights", "float", w.data)),
            ("bias", ctx.const_array(o, "bias", "float", bias) if bias is not None else None)]


def hybrid_fields(ctx, g, o: ir.Op, w: ir.Tensor) -> list:
    """The fields the hybrid CONV_2D and FULLY_CONNECTED structs end with (tcc_hybrid.h): the input
    quantization scheme, the clamp, the int8 weights, their scales and the float bias."""
    p, bias = o.params, bias_data(g, o)
    return [("asymmetric", int(p.hybrid_asymmetric)), ("scale_per_channel", int(len(p.hybrid_scales) > 1)),
            ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
            ("weights", ctx.const_array(o, "weights", "int8_t", w.data)),
            ("w_scale", ctx.const_array(o, "w_scale", "float", p.hybrid_scales)),
            ("bias", ctx.const_array(o, "bias", "float", bias) if bias is not None else None)]


def s16_fields(ctx, o: ir.Op, w: ir.Tensor) -> list:
    """The fields every tcc_*_s16_params struct ends with (after its shapes)."""
    p = o.params
    return [("act_min", p.act_range[0]), ("act_max", p.act_range[1]), ("acc64", int(p.acc64)),
            ("weights", ctx.const_array(o, "weights", "int8_t", w.data)),
            ("bias", ctx.const_array(o, "bias", "int64_t", p.bias) if p.bias is not None else None),
            ("mult", ctx.const_array(o, "mult", "int32_t", p.mult)),
            ("shift", ctx.const_array(o, "shift", "int32_t", p.shift))]


class Convolution(OpDef):
    """What CONV_2D and DEPTHWISE_CONV_2D share: an optional bias, the output clamp, a PAD of the
    input zero point absorbed, weights in input 1 (compressible), the window of conv_window."""
    optional_inputs = frozenset({2})            # bias
    clamp_keys = ("act_range", "act_range")
    absorbs_pad = "zero_point"
    compressed_slot = 1

    def window(self, g, o):
        return conv_window(g, o)

    def read_options(self, opts):
        return read_conv_options(opts)


@register
class Conv2D(Convolution):
    kind = "CONV_2D"
    options_class = tflite.Conv2DOptions
    kernel = "tcc_conv"

    def weight_rows(self, g, o):
        """int8: the filter [out_c][k_h * k_w * k_c] (tcc_conv2d_s8c)."""
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        return w.data.reshape(w.shape[0], -1) if x.dtype == w.dtype == "int8" else None

    def plain_only(self, g, o):
        return _uint8.is_uint8(g, o)

    def tflm_reference_reliable(self, g, o):
        return not _uint8.is_uint8(g, o)    # TFLite Micro has no uint8 CONV_2D

    def check(self, g, o):
        self.expect_arity(o, (2, 3))
        check_strides(self, o)
        uint8 = _uint8.is_uint8(g, o)
        dt = "uint8" if uint8 else self.dtype_of(g, o, int16=True)
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        if len(x.shape) != 4 or len(w.shape) != 4:
            raise self.fail(o, f"expects 4-D input and filter, got {list(x.shape)} and {list(w.shape)}")
        out_c, k_h, k_w, k_c = w.shape
        if uint8:
            _uint8.check(self, g, o, k_h * k_w * k_c)
        else:
            check_weights(self, g, o, dt)
        if k_c == 0 or x.shape[3] % k_c or out_c % (x.shape[3] // k_c):
            raise self.fail(o, f"filter depth {k_c} does not divide input depth {x.shape[3]} into groups")
        if is_hybrid(g, o):
            if k_c != x.shape[3]:
                raise self.fail(o, "grouped convolution with int8 weights and float32 activations "
                                   "is not supported")
            check_hybrid_weights(self, o, w, out_c, k_h * k_w * k_c)
        if len(o.inputs) > 2 and o.inputs[2] is not None:
            self.expect_shape(g, o, o.inputs[2], (out_c,))
        geo = conv_geometry(g, o, k_h, k_w)
        if geo["out_h"] <= 0 or geo["out_w"] <= 0:
            raise self.fail(o, "filter is larger than the padded input")
        self.expect_shape(g, o, o.outputs[0], (geo["batches"], geo["out_h"], geo["out_w"], out_c))
        if dt == "int8":  # issue 6: requantization range and int32 accumulator bound
            quant.check_int8_accumulation(self, o, x, w, ir.tensor(g, o.outputs[0]),
                                             bias_data(g, o), 0)
        if dt == "int16":
            check_s16(self, g, o, 0)

    def prepare(self, g, o):
        x, w, y = (ir.tensor(g, t) for t in (o.inputs[0], o.inputs[1], o.outputs[0]))
        bias = bias_data(g, o)
        geo = conv_geometry(g, o, w.shape[1], w.shape[2])
        if x.dtype == "uint8":
            return _uint8.params(g, o, _uint8.conv_shape(g, o, geo, w.shape[0], w.shape[3]), w.data)
        if x.dtype == "int16":
            return ConvParams(**geo, **s16_params(g, o, 0))
        if x.dtype == "float32":
            p = ConvParams(**geo, act_range=activation_range_float(o.attrs["activation"]))
            if w.dtype == "int8":
                # TFLite's conv.cc takes the per-channel path (asymmetric input
                # quantization) only when the weight scales actually differ;
                # equal scales run the per-tensor path with the first scale.
                scales = w.quant.scale
                asymmetric = len(scales) > 1 and any(s != scales[0] for s in scales)
                p = replace(p, hybrid_asymmetric=asymmetric, hybrid_scales=hybrid_scales(w, asymmetric))
            return p
        in_zp, out_zp = x.quant.zero_point[0], y.quant.zero_point[0]
        mult, shift = quant.conv_output_multipliers(
            x.quant.scale[0], per_channel_scales(w, w.shape[0]), y.quant.scale[0])
        return ConvParams(**geo, act_range=activation_range_int8(o.attrs["activation"], y.quant.scale[0], out_zp),
                          in_zp=in_zp, out_zp=out_zp, mult=mult, shift=shift,
                          bias=folded_bias(bias, w.data, in_zp, axis_out=0))

    def emit(self, g, o, ctx):
        if is_hybrid(g, o):
            return self.emit_hybrid(g, o, ctx)
        if _uint8.is_uint8(g, o):
            return _uint8.emit(ctx, o)
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        out_c, k_h, k_w, k_c = w.shape
        fields = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("in_c", x.shape[3]),
                  ("out_h", p.out_h), ("out_w", p.out_w), ("out_c", out_c),
                  ("k_h", k_h), ("k_w", k_w), ("k_c", k_c),
                  ("stride_h", a["stride_h"]), ("stride_w", a["stride_w"]),
                  ("dil_h", a["dilation_h"]), ("dil_w", a["dilation_w"]),
                  ("pad_top", p.pad_top), ("pad_left", p.pad_left)]
        wc = compressed_weights(ctx, o)
        if x.dtype == "int8":
            fields += [("in_zp", p.in_zp), ("out_zp", p.out_zp)] + s8_fields(ctx, o, w, wc is not None)
            fn = "tcc_conv2d_s8"
        elif x.dtype == "int16":
            fields += s16_fields(ctx, o, w)
            fn = "tcc_conv2d_s16"
        else:
            fields += f32_fields(ctx, g, o, w)
            fn = "tcc_conv2d_f32"
        params = ctx.struct(o, f"{fn}_params", fields)
        if wc:      # compressed weights (compress_weights): the decoding kernel
            ctx.call(o, f"{fn}c(&{params}, &{wc}, {compressed_block(g)}, {ctx.buf(o.inputs[0])}, "
                        f"{ctx.buf(o.outputs[0])}, {ctx.scratch(o)});", "tcc_compressed")
            return
        ctx.call(o, f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {ctx.scratch(o)});",
                 self.kernel)

    def emit_hybrid(self, g, o, ctx):
        """int8 weights, float32 input/output/bias: runtime/kernels/tcc_hybrid.c."""
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        out_c, k_h, k_w, _ = w.shape
        fields = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("in_c", x.shape[3]),
                  ("out_h", p.out_h), ("out_w", p.out_w), ("out_c", out_c),
                  ("k_h", k_h), ("k_w", k_w),
                  ("stride_h", a["stride_h"]), ("stride_w", a["stride_w"]),
                  ("dil_h", a["dilation_h"]), ("dil_w", a["dilation_w"]),
                  ("pad_top", p.pad_top), ("pad_left", p.pad_left)] + hybrid_fields(ctx, g, o, w)
        params = ctx.struct(o, "tcc_conv2d_hybrid_params", fields)
        ctx.call(o, f"tcc_conv2d_hybrid(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});",
                 "tcc_hybrid")

    def scratch_bytes(self, g, o):
        """The plain kernel keeps one output pixel (out_c values) before storing it; tcc_conv2d_s8c a
        block of pixels and one output channel's decoded weights (the fast kernels:
        tinycc/variants/arm_conv.py)."""
        if is_hybrid(g, o):
            return 0
        w, y = ir.tensor(g, o.inputs[1]), ir.tensor(g, o.outputs[0])
        if o.params.compressed is not None:
            return compressed_block(g) * y.shape[3] + w.shape[1] * w.shape[2] * w.shape[3]
        return y.shape[3] * ir.DTYPE_SIZE[y.dtype]

    def reads_min(self, g, o, slot):
        """Plain kernel (tcc_conv.c): pixel by pixel in row-major order, it reads every window
        its out_c channels need, then stores the pixel's out_c values. So before writing element
        (pixel, 0) the lowest read is the window's first in-image pixel at channel 0; the other
        channels of the pixel are stored with no read in between. tcc_conv2d_s8c (compressed
        weights) does the same per block of ``compressed_block`` pixels. The hybrid kernel scans
        the whole input first, so it never shares memory."""
        if slot != 0 or is_hybrid(g, o):
            return None
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        a = o.attrs
        p = SimpleNamespace(**dict(o.params.shape)) if _uint8.is_uint8(g, o) else o.params   # same order
        out_c, k_h, k_w, _ = w.shape
        fy = window_first(p.in_h, p.out_h, a["stride_h"], p.pad_top, k_h, a["dilation_h"])
        fx = window_first(p.in_w, p.out_w, a["stride_w"], p.pad_left, k_w, a["dilation_w"])
        r = window_reads_min(p.batches, p.in_h, p.in_w, x.shape[3], fy, fx,
                             np.zeros(out_c, np.int64)).reshape(-1, out_c)
        r[:, 1:] = NO_READ
        if o.params.compressed is not None:     # tcc_conv2d_s8c: blocks of pixels read, then written
            first, block = r[:, 0].copy(), compressed_block(g)
            r[:, 0] = NO_READ
            r[::block, 0] = np.minimum.reduceat(first, np.arange(0, first.size, block))
        return r.ravel()

    def macs(self, g, o):
        w, y = ir.tensor(g, o.inputs[1]), ir.tensor(g, o.outputs[0])
        return y.size * w.shape[1] * w.shape[2] * w.shape[3]
