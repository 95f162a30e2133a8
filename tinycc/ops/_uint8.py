"""Fully-uint8 (legacy asymmetric) CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, as TFLite's uint8
reference kernels compute them (TFLite Micro has none, so such a model's reference is TFLite):

    acc = sum (x - in_zp) * (w - w_zp) + bias        (int32, per-tensor weights with any zero point)
    out = clamp(MultiplyByQuantizedMultiplier(acc, m) + out_zp, activation range within [0, 255])

with m = in_scale * w_scale / out_scale in double, rounded as TFLite's uint8 kernels do: twice (a
doubling high multiply, then a rounding shift: tcc_requantize) in CONV_2D and DEPTHWISE_CONV_2D, once
((acc * m + 2^(30 - shift)) >> (31 - shift): tcc_requantize_once) in FULLY_CONNECTED. Measured
against ai_edge_litert's reference kernels on 64 000 consecutive sums per op (tests/test_uint8.py):
the other rounding misses about 1 output in 500; the float32 product of the scales missed 1 output
of 256 000 in FULLY_CONNECTED (TFLite's GetQuantizedConvolutionMultipler with a bias). The
weight zero point rules out the int8 kernels (w - w_zp spans 511 values), so one plain kernel,
tcc_conv2d_u8 (runtime/kernels/tcc_uint8.c), computes the three ops: a depthwise convolution as a
grouped one (one input channel per group) and a fully connected layer as a 1x1 convolution of a
1x1 image. No fast variant or compressed-weight kernel takes uint8 (``plain_only``)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ir, quant
from . import activation_range_int8


@dataclass(frozen=True, eq=False, kw_only=True)
class U8Params(ir.Params):
    """What tcc_conv2d_u8_params holds: the op as a (grouped) convolution."""
    shape: tuple              # (name, value) of the geometry fields, in the struct's order
    act_range: tuple
    in_offset: int
    w_offset: int
    out_zp: int
    mult: int
    shift: int
    single_round: bool        # FULLY_CONNECTED: one rounding (see above)
    weights: np.ndarray       # [out_c][k_h][k_w][k_c]
    bias: np.ndarray | None


@dataclass(frozen=True, eq=False, kw_only=True)
class U8TableParams(ir.Params):
    """A uint8 op computed by one 256-entry table indexed by the input byte (tcc_lut_u8); not a
    ``TableParams``, so no pass fuses it with int8 tables."""
    lut: np.ndarray           # uint8[256]


def is_uint8(g, o: ir.Op) -> bool:
    return ir.tensor(g, o.inputs[0]).dtype == "uint8"


def check(op_def, g, o: ir.Op, depth: int) -> None:
    """uint8 activations and weights, per tensor; an int32 bias or none; a multiplier the kernel
    applies; ``depth`` terms per output whose sum (each at most 255 * 255) cannot overflow int32."""
    x, w, y = (ir.tensor(g, t) for t in (o.inputs[0], o.inputs[1], o.outputs[0]))
    check_tensors(op_def, g, o, (o.inputs[0], o.inputs[1], o.outputs[0]))
    if not w.is_const:
        raise op_def.fail(o, "weights must be constant", w.name)
    b = ir.tensor(g, o.inputs[2]) if len(o.inputs) > 2 and o.inputs[2] is not None else None
    if b is not None and (not b.is_const or b.dtype != "int32"):
        raise op_def.fail(o, "bias must be a constant int32 tensor", b.name)
    quant.check_requantization(op_def, o, [real_multiplier(x, w, y)], w.name,
                               "input scale x weight scale / output scale:", quant.MAX_REQUANT_SHIFT, "uint8")
    worst = depth * 255 * 255 + (0 if b is None else int(np.abs(b.data.astype(np.int64)).max(initial=0)))
    if worst > 2**31 - 1:
        raise op_def.fail(o, f"{depth} terms per output may overflow the int32 accumulator", w.name)


def check_tensors(op_def, g, o: ir.Op, tids) -> None:
    """Every tensor of ``tids`` uint8 with per-tensor quantization."""
    for t in (ir.tensor(g, tid) for tid in tids):
        if t.dtype != "uint8":
            raise op_def.fail(o, f"mixed types uint8 and {t.dtype}", t.name)
        if t.quant is None or not t.quant.scale or len(t.quant.scale) != 1:
            raise op_def.fail(o, "uint8 tensors need per-tensor quantization", t.name)


def real_multiplier(x: ir.Tensor, w: ir.Tensor, y: ir.Tensor) -> float:
    """TFLite's GetQuantizedConvolutionMultipler with a bias: the scales multiplied in double."""
    return float(x.quant.scale[0]) * float(w.quant.scale[0]) / float(y.quant.scale[0])


def params(g, o: ir.Op, shape: list, weights: np.ndarray) -> U8Params:
    """``shape``: the geometry fields of tcc_conv2d_u8_params; ``weights``: [out_c][k_h][k_w][k_c]."""
    x, w, y = (ir.tensor(g, t) for t in (o.inputs[0], o.inputs[1], o.outputs[0]))
    mult, shift = quant.quantize_multiplier(real_multiplier(x, w, y))
    out_zp = int(y.quant.zero_point[0])
    b = ir.tensor(g, o.inputs[2]) if len(o.inputs) > 2 and o.inputs[2] is not None else None
    return U8Params(shape=tuple(shape), single_round=o.kind == "FULLY_CONNECTED",
                    in_offset=-int(x.quant.zero_point[0]), w_offset=-int(w.quant.zero_point[0]),
                    out_zp=out_zp, mult=mult, shift=shift, weights=np.ascontiguousarray(weights),
                    act_range=activation_range_int8(o.attrs["activation"], y.quant.scale[0], out_zp, "uint8"),
                    bias=None if b is None else b.data)


def emit(ctx, o: ir.Op) -> None:
    p = o.params
    fields = [*p.shape, ("in_offset", p.in_offset), ("w_offset", p.w_offset), ("out_zp", p.out_zp),
              ("act_min", p.act_range[0]), ("act_max", p.act_range[1]), ("mult", p.mult), ("shift", p.shift),
              ("single_round", int(p.single_round)),
              ("weights", ctx.const_array(o, "weights", "uint8_t", p.weights)),
              ("bias", ctx.const_array(o, "bias", "int32_t", p.bias) if p.bias is not None else None)]
    params_ = ctx.struct(o, "tcc_conv2d_u8_params", fields)
    ctx.call(o, f"tcc_conv2d_u8(&{params_}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {ctx.scratch(o)});",
             "tcc_uint8")


def scratch_bytes(o: ir.Op) -> int:
    """One output pixel (out_c bytes)."""
    return dict(o.params.shape)["out_c"]


def conv_shape(g, o: ir.Op, geo: dict, out_c: int, k_c: int) -> list:
    """The geometry fields of a CONV_2D or DEPTHWISE_CONV_2D (``geo``: conv_geometry's)."""
    x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
    a = o.attrs
    return [("batches", geo["batches"]), ("in_h", geo["in_h"]), ("in_w", geo["in_w"]), ("in_c", x.shape[3]),
            ("out_h", geo["out_h"]), ("out_w", geo["out_w"]), ("out_c", out_c),
            ("k_h", w.shape[1]), ("k_w", w.shape[2]), ("k_c", k_c),
            ("stride_h", a["stride_h"]), ("stride_w", a["stride_w"]),
            ("dil_h", a.get("dilation_h", 1)), ("dil_w", a.get("dilation_w", 1)),
            ("pad_top", geo["pad_top"]), ("pad_left", geo["pad_left"])]


def fc_shape(batches: int, depth: int, units: int) -> list:
    """A FULLY_CONNECTED as a 1x1 convolution of a 1x1 image per batch."""
    return [("batches", batches), ("in_h", 1), ("in_w", 1), ("in_c", depth), ("out_h", 1), ("out_w", 1),
            ("out_c", units), ("k_h", 1), ("k_w", 1), ("k_c", depth), ("stride_h", 1), ("stride_w", 1),
            ("dil_h", 1), ("dil_w", 1), ("pad_top", 0), ("pad_left", 0)]
