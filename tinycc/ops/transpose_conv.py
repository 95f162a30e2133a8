"""TRANSPOSE_CONV: inputs (output_shape, weights [O, kh, kw, I], input NHWC, optional bias).

Padding follows TFLite Micro: SAME/VALID padding computed on the *output* size (the size of
the convolution this op is the transpose of), top/left = total // 2. int8: weights symmetric
per output channel (axis 0, their zero points are not used, as in TFLite), int32 bias,
per-channel multipliers as for CONV_2D; fused activation clamps (NONE when absent).
16x8 (int16 input/output with zero points 0, int8 weights): TFLite Micro's int16 kernel sums
in int64 and takes an int64 bias (an int16 bias is widened; it would read an int32 one as int64,
so that is refused), then the int64 MultiplyByQuantizedMultiplier.
Hybrid (int8 weights, float32 input/output/bias, dynamic-range quantization): the input is
quantized per batch at run time as TFLite does (tcc_transpose_conv_hybrid in tcc_hybrid.c).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from . import (OpDef, activation, activation_range_float, activation_range_int8, padding, per_channel_scales,
               register)
from ._datamove import operand


@dataclass(frozen=True, eq=False, kw_only=True)
class TransposeConvParams(ir.Params):
    """What tcc_transpose_conv_params (and the hybrid kernel's struct) hold."""
    batches: int
    in_h: int
    in_w: int
    in_ch: int
    out_h: int
    out_w: int
    out_ch: int
    f_h: int
    f_w: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_left: int
    act_range_f: tuple            # float32 clamp
    act_range: tuple = (-128, 127)   # int8: clamp, offsets, per-channel requantization
    in_offset: int = 0
    out_zp: int = 0
    mult: list = field(default_factory=list)
    shift: list = field(default_factory=list)


@register
class TransposeConv(OpDef):
    kind = "TRANSPOSE_CONV"
    options_class = tflite.TransposeConvOptions
    kernel = "tcc_transpose_conv"
    optional_inputs = frozenset({3})   # bias
    activation_input = 2               # input 0 is the output shape

    def read_options(self, opts):
        if opts is None:
            return dict(padding="SAME", stride_h=1, stride_w=1, activation="NONE")
        act = activation(opts) if hasattr(opts, "FusedActivationFunction") else "NONE"
        return dict(padding=padding(opts), stride_h=opts.StrideH(), stride_w=opts.StrideW(), activation=act)

    def geometry(self, g, o):
        w, x, y = ir.tensor(g, o.inputs[1]), ir.tensor(g, o.inputs[2]), ir.tensor(g, o.outputs[0])
        a = o.attrs
        _, pad_top = quant.padding_amount(a["padding"], y.shape[1], w.shape[1], a["stride_h"])
        _, pad_left = quant.padding_amount(a["padding"], y.shape[2], w.shape[2], a["stride_w"])
        return dict(batches=x.shape[0], in_h=x.shape[1], in_w=x.shape[2], in_ch=x.shape[3], out_h=y.shape[1],
                    out_w=y.shape[2], out_ch=y.shape[3], f_h=w.shape[1], f_w=w.shape[2], stride_h=a["stride_h"],
                    stride_w=a["stride_w"], pad_top=pad_top, pad_left=pad_left)

    def check(self, g, o):
        self.expect_arity(o, (3, 4))
        shape_t, w, x, y = (ir.tensor(g, t) for t in (o.inputs[0], o.inputs[1], o.inputs[2], o.outputs[0]))
        dt = x.dtype
        if dt not in ("int8", "int16", "float32") or y.dtype != dt:
            raise self.fail(o, f"input {dt} / output {y.dtype}: int8, int16 or float32 expected", x.name)
        for t in (x, y):
            if dt != "float32" and (t.quant is None or t.quant.per_channel):
                raise self.fail(o, f"{dt} activations need per-tensor quantization", t.name)
            if dt == "int16" and t.quant.zero_point[0] != 0:
                raise self.fail(o, "int16 activations need a zero point of 0", t.name)
        hybrid = dt == "float32" and w.dtype == "int8"
        wdt = "int8" if dt == "int16" else dt
        if not w.is_const or (w.dtype != wdt and not hybrid):
            raise self.fail(o, f"weights must be a constant {wdt} tensor", w.name)
        if len(x.shape) != 4 or len(w.shape) != 4 or len(y.shape) != 4:
            raise self.fail(o, "input, weights and output must be 4-D")
        if w.shape[3] != x.shape[3] or w.shape[0] != y.shape[3] or x.shape[0] != y.shape[0]:
            raise self.fail(o, f"shapes do not fit: input {list(x.shape)}, weights {list(w.shape)}, "
                               f"output {list(y.shape)}")
        if shape_t.is_const and [int(v) for v in shape_t.data.ravel()] != list(y.shape):
            raise self.fail(o, f"output_shape {shape_t.data.ravel().tolist()} differs from the output {list(y.shape)}")
        for k in ("stride_h", "stride_w"):
            if not 1 <= o.attrs[k] <= 1024:
                raise self.fail(o, f"{k} = {o.attrs[k]} is out of range")
        if len(o.inputs) > 3 and o.inputs[3] is not None:
            b = ir.tensor(g, o.inputs[3])
            want = {"int8": ("int32",), "int16": ("int64", "int16"), "float32": ("float32",)}[dt]
            if not b.is_const or b.dtype not in want or b.size != y.shape[3]:
                raise self.fail(o, f"bias must be a constant {' or '.join(want)} tensor of {y.shape[3]} values",
                                b.name)
        if dt == "int8":
            per_channel_scales(w, y.shape[3])
        if dt == "int16":
            bias = ir.tensor(g, o.inputs[3]).data if len(o.inputs) > 3 and o.inputs[3] is not None else None
            quant.check_int16_accumulation(self, o, x, w, y, bias, 0, acc64=True)
        if hybrid:
            from .conv2d import check_hybrid_weights
            check_hybrid_weights(self, o, w, y.shape[3], w.shape[1] * w.shape[2] * w.shape[3])

    def prepare(self, g, o):
        geo = self.geometry(g, o)
        w, x, y = ir.tensor(g, o.inputs[1]), ir.tensor(g, o.inputs[2]), ir.tensor(g, o.outputs[0])
        act_range_f = activation_range_float(o.attrs["activation"])
        if x.dtype == "float32":
            return TransposeConvParams(**geo, act_range_f=act_range_f)
        mult, shift = quant.conv_output_multipliers(x.quant.scale[0], per_channel_scales(w, y.shape[3]),
                                                    y.quant.scale[0])
        return TransposeConvParams(
            **geo, act_range_f=act_range_f, mult=mult, shift=shift, in_offset=-x.quant.zero_point[0],
            out_zp=y.quant.zero_point[0],
            act_range=activation_range_int8(o.attrs["activation"], y.quant.scale[0], y.quant.zero_point[0],
                                            y.dtype))

    def emit_hybrid(self, g, o, ctx):
        """int8 weights, float32 input/output/bias: runtime/kernels/tcc_hybrid.c."""
        p = o.params
        w = ir.tensor(g, o.inputs[1])
        per_channel = len(w.quant.scale) > 1
        bias = ir.tensor(g, o.inputs[3]).data if len(o.inputs) > 3 and o.inputs[3] is not None else None
        keys = ("batches", "in_h", "in_w", "in_ch", "out_h", "out_w", "out_ch", "f_h", "f_w", "stride_h", "stride_w",
                "pad_top", "pad_left")
        fields = p.c_fields(*keys) + [
            ("scale_per_channel", int(per_channel)),
            ("act_min", p.act_range_f[0]), ("act_max", p.act_range_f[1]),
            ("weights", ctx.const_array(o, "weights", "int8_t", w.data)),
            ("w_scale", ctx.const_array(o, "w_scale", "float", list(w.quant.scale) if per_channel
                                        else [w.quant.scale[0]])),
            ("bias", ctx.const_array(o, "bias", "float", bias) if bias is not None else None)]
        params = ctx.struct(o, "tcc_transpose_conv_hybrid_params", fields)
        ctx.call(o, f"tcc_transpose_conv_hybrid(&{params}, {ctx.buf(o.inputs[2])}, {ctx.buf(o.outputs[0])});",
                 "tcc_hybrid")

    def emit(self, g, o, ctx):
        if ir.tensor(g, o.inputs[2]).dtype == "float32" and ir.tensor(g, o.inputs[1]).dtype == "int8":
            return self.emit_hybrid(g, o, ctx)
        p = o.params
        keys = ("batches", "in_h", "in_w", "in_ch", "out_h", "out_w", "out_ch", "f_h", "f_w", "stride_h", "stride_w",
                "pad_top", "pad_left", "in_offset", "out_zp")
        fields = p.c_fields(*keys) + [("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                                      ("act_minf", p.act_range_f[0]), ("act_maxf", p.act_range_f[1])]
        params = ctx.struct(o, "tcc_transpose_conv_params", fields)
        x, y = operand(ctx, o, o.inputs[2], "input"), ctx.buf(o.outputs[0])
        w = operand(ctx, o, o.inputs[1], "weights")
        dt = ir.tensor(g, o.inputs[2]).dtype
        bias = "NULL"
        if len(o.inputs) > 3 and o.inputs[3] is not None and dt == "int16":   # int64 (an int16 bias widened)
            bias = ctx.const_array(o, "bias", "int64_t", ir.tensor(g, o.inputs[3]).data.astype(np.int64))
        elif len(o.inputs) > 3 and o.inputs[3] is not None:
            bias = operand(ctx, o, o.inputs[3], "bias")
        if dt != "float32":
            mult = ctx.const_array(o, "mult", "int32_t", p.mult)
            shift = ctx.const_array(o, "shift", "int32_t", p.shift)
            fn = "tcc_transpose_conv_s8" if dt == "int8" else "tcc_transpose_conv_s16"
            ctx.call(o, f"{fn}(&{params}, {x}, {w}, {bias}, {mult}, {shift}, {y});", self.kernel)
        else:
            ctx.call(o, f"tcc_transpose_conv_f32(&{params}, {x}, {w}, {bias}, {y});", self.kernel)

    def macs(self, g, o):
        x, w = ir.tensor(g, o.inputs[2]), ir.tensor(g, o.inputs[1])
        return int(x.size) * w.shape[0] * w.shape[1] * w.shape[2]
