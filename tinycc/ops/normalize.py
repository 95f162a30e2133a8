"""LOG_SOFTMAX and L2_NORMALIZATION over the last dimension; int8 and float32.

TFLite Micro (log_softmax.cc, l2norm.cc) fixes the int8 output quantization:
LOG_SOFTMAX scale 16/256 and zero point 127 (refused otherwise, as TFLM does);
L2_NORMALIZATION computes in 1/128 units with zero point 0 and ignores the output
tensor's quantization (so does tinycc), takes at most 4-D inputs and no fused
activation. LOG_SOFTMAX int8 constants are PreprocessLogSoftmaxScalingExp(beta=1,
s_in, 5 integer bits) and diff_min = -CalculateInputRadius(5, left_shift).
Kernels: tcc_normalize.c (gemmlowp exp/log/inverse-sqrt in fixed point).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from .. import tflm_math as T
from . import OpDef, activation, register


@dataclass(frozen=True, eq=False, kw_only=True)
class LogSoftmaxParams(ir.Params):
    """What tcc_log_softmax_s8_params (tcc_rows for float32) hold."""
    outer: int
    depth: int
    in_mult: int = 0          # int8: PreprocessLogSoftmaxScalingExp and the input radius
    in_left_shift: int = 0
    reverse_mult: int = 0
    reverse_shift: int = 0
    diff_min: int = 0


class _RowOp(OpDef):
    kernel = "tcc_normalize"

    def check(self, g, o):
        self.expect_arity(o, (1, 1))
        self.dtype_of(g, o)
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if tuple(x.shape) != tuple(y.shape) or not x.shape:
            raise self.fail(o, f"input {list(x.shape)} and output {list(y.shape)} must have one shape", y.name)

    def rows(self, g, o) -> tuple[int, int]:
        x = ir.tensor(g, o.inputs[0])
        depth = x.shape[-1]
        return (x.size // depth if depth else 0), depth

    def reads_min(self, g, o, slot):
        """Row by row: the whole row is read before its first output, then in[c] before out[c]."""
        outer, depth = self.rows(g, o)
        r, c = np.divmod(np.arange(outer * depth, dtype=np.int64), max(depth, 1))
        return np.where(c == 0, r * depth, r * depth + c)


@register
class LogSoftmax(_RowOp):
    kind = "LOG_SOFTMAX"

    def check(self, g, o):
        super().check(g, o)
        y = ir.tensor(g, o.outputs[0])
        if y.dtype == "int8" and (y.quant.zero_point[0] != 127 or np.float32(y.quant.scale[0]) != np.float32(16 / 256)):
            raise self.fail(o, "int8 output must have scale 16/256 and zero point 127", y.name)

    def prepare(self, g, o):
        x = ir.tensor(g, o.inputs[0])
        outer, depth = self.rows(g, o)
        if x.dtype != "int8":
            return LogSoftmaxParams(outer=outer, depth=depth)
        real = min(1.0 * float(x.quant.scale[0]) * (1 << (31 - 5)), float((1 << 31) - 1))
        mult, left_shift = quant.quantize_multiplier(real)
        if left_shift < 0:
            raise self.fail(o, "int8 input scale is too small for TFLite's log-softmax scaling", x.name)
        rev_mult, rev_shift = quant.quantize_multiplier((1 << (31 - left_shift)) / float(mult))
        return LogSoftmaxParams(outer=outer, depth=depth, in_mult=mult, in_left_shift=left_shift,
                                reverse_mult=rev_mult, reverse_shift=rev_shift,
                                diff_min=-T.input_radius(5, left_shift))

    def emit(self, g, o, ctx):
        p = o.params
        x, y = ctx.buf(o.inputs[0]), ctx.buf(o.outputs[0])
        if ir.tensor(g, o.inputs[0]).dtype == "int8":
            params = ctx.struct(o, "tcc_log_softmax_s8_params", p.c_fields(
                "outer", "depth", "in_mult", "in_left_shift", "reverse_mult", "reverse_shift", "diff_min"))
            ctx.call(o, f"tcc_log_softmax_s8(&{params}, {x}, {y});", self.kernel)
        else:
            params = ctx.struct(o, "tcc_rows", p.c_fields("outer", "depth"))
            ctx.call(o, f"tcc_log_softmax_f32(&{params}, {x}, {y});", self.kernel)


@register
class L2Normalization(_RowOp):
    kind = "L2_NORMALIZATION"
    options_class = tflite.L2NormOptions

    def read_options(self, opts):
        return dict(activation=activation(opts))

    def check(self, g, o):
        super().check(g, o)
        if len(ir.tensor(g, o.inputs[0]).shape) > 4:
            raise self.fail(o, "input must be at most 4-D (TFLite Micro's limit)")
        if o.attrs.get("activation", "NONE") != "NONE":
            raise self.fail(o, f"fused activation {o.attrs['activation']} is not supported (TFLite Micro has none)")

    def emit(self, g, o, ctx):
        outer, depth = self.rows(g, o)
        x = ir.tensor(g, o.inputs[0])
        params = ctx.struct(o, "tcc_rows", [("outer", outer), ("depth", depth)])
        xb, yb = ctx.buf(o.inputs[0]), ctx.buf(o.outputs[0])
        if x.dtype == "int8":
            ctx.call(o, f"tcc_l2_normalization_s8(&{params}, {int(x.quant.zero_point[0])}, {xb}, {yb});", self.kernel)
        else:
            ctx.call(o, f"tcc_l2_normalization_f32(&{params}, {xb}, {yb});", self.kernel)
