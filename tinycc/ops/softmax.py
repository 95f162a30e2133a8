"""SOFTMAX over the last dimension, with beta; int8 output is scale 1/256, zero point -128; int16
(TFLite Micro's SoftmaxInt16: an exp table on [-10, 0] and a 1 / (1 + x) table) is scale 1/32768,
zero points 0."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from .. import tflm_math as T
from . import OpDef, register

# The int16 kernel's tables (gen_lut in TFLite Micro's Prepare), the same for every op.
_EXP_LUT = None


def int16_luts() -> tuple[np.ndarray, np.ndarray]:
    """exp on [-10, 0] and 1 / (1 + x) on [0, 1], 513 int16 entries each (Q0.15)."""
    global _EXP_LUT
    if _EXP_LUT is None:
        _EXP_LUT = (T.int16_lut(T.expf, -10.0, 0.0),
                    T.int16_lut(lambda v: T.F32(1.0) / (T.F32(1.0) + v), 0.0, 1.0))
    return _EXP_LUT


@dataclass(frozen=True, eq=False, kw_only=True)
class SoftmaxParams(ir.Params):
    """What tcc_softmax_*_params hold: rows of ``depth`` values; int8: TFLite's input scaling."""
    outer: int
    depth: int
    mult: int = 0
    left_shift: int = 0       # int16: the shift of the requantization onto [-65535, 0]
    diff_min: int = 0


@register
class Softmax(OpDef):
    kind = "SOFTMAX"
    options_class = tflite.SoftmaxOptions
    kernel = "tcc_softmax"

    def read_options(self, opts):
        return dict(beta=float(opts.Beta()) if opts is not None else 1.0)

    def tflm_reference_reliable(self, g, o):
        return ir.tensor(g, o.inputs[0]).dtype != "uint8"     # TFLite Micro has no uint8 SOFTMAX

    def check(self, g, o):
        self.expect_arity(o, (1, 1))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if x.dtype == "uint8":      # the int8 rules with the output zero point 0 (tcc_softmax_u8)
            if y.dtype != "uint8" or x.quant is None or y.quant is None or x.quant.per_channel:
                raise self.fail(o, "uint8 softmax needs uint8 output and per-tensor quantization", y.name)
            if y.quant.zero_point[0] != 0 or abs(y.quant.scale[0] - 1 / 256) > 0.001 / 256:
                raise self.fail(o, "uint8 output must have scale 1/256 and zero point 0", y.name)
        dt = "int8" if x.dtype == "uint8" else self.dtype_of(g, o, int16=True)
        if x.shape != y.shape or not x.shape:
            raise self.fail(o, f"input {list(x.shape)} and output {list(y.shape)} must have one shape")
        if dt == "int8" and y.dtype == "int8" and (y.quant.zero_point[0] != -128 or abs(y.quant.scale[0] - 1 / 256) > 0.001 / 256):
            raise self.fail(o, "int8 output must have scale 1/256 and zero point -128", y.name)
        beta = o.attrs["beta"]
        if not np.isfinite(beta):
            raise self.fail(o, f"beta {beta} is not finite")
        if dt == "int16":
            if abs(y.quant.scale[0] - 1 / 32768) > 0.001 / 32768:
                raise self.fail(o, "int16 output must have scale 1/32768", y.name)
            if x.shape[-1] > 65535:
                raise self.fail(o, f"int16 softmax over {x.shape[-1]} values overflows the kernel's sum", x.name)
            quant.check_requantization(self, o, [self.int16_rescale(g, o)], x.name,
                                       "input scale x beta / (10 / 65535):", kernels="16x8")
        if dt == "int8" and x.shape[-1] > 4095:
            raise self.fail(o, f"int8 softmax over {x.shape[-1]} values: more than 4095 overflow the kernel's "
                               f"Q12.19 sum of exponentials", x.name)
        if dt == "int8":
            # TFLite's PreprocessSoftmaxScaling: beta * scale * 2^26 must exceed 1, and the
            # kernel's d * (1 << left_shift) needs left_shift <= 30.
            real = beta * x.quant.scale[0] * (1 << 26)
            if not real > 1.0 or quant.quantize_multiplier(min(real, float((1 << 31) - 1)))[1] > 30:
                raise self.fail(o, f"beta {beta} times input scale {x.quant.scale[0]} is outside the int8 "
                                   f"kernel's range (2^-26, 16)", x.name)

    def prepare(self, g, o):
        x = ir.tensor(g, o.inputs[0])
        depth = x.shape[-1]
        rows = dict(outer=x.size // depth if depth else 0, depth=depth)
        if x.dtype == "int16":
            mult, shift = quant.quantize_multiplier(self.int16_rescale(g, o))
            return SoftmaxParams(**rows, mult=mult, left_shift=shift)
        if x.dtype not in ("int8", "uint8"):
            return SoftmaxParams(**rows)
        mult, left_shift, diff_min = quant.softmax_input_params(o.attrs["beta"], x.quant.scale[0])
        return SoftmaxParams(**rows, mult=mult, left_shift=left_shift, diff_min=diff_min)

    def int16_rescale(self, g, o) -> float:
        """The int16 kernel's input multiplier: input differences onto [-65535, 0] = [-10, 0]."""
        return float(ir.tensor(g, o.inputs[0]).quant.scale[0]) * float(o.attrs["beta"]) / (10.0 / 65535.0)

    def reads_min(self, g, o, slot):
        """tcc_softmax.c, row by row: it reads the whole row (max, then sum) before writing the
        row's first output, then reads x[c] just before writing y[c] (int8); the float kernel
        writes exp values in its second pass reading x[c] each, and rescales y in place."""
        p = o.params
        r, c = np.divmod(np.arange(p.outer * p.depth, dtype=np.int64), p.depth)
        return np.where(c == 0, r * p.depth, r * p.depth + c)

    def s8_fields(self, p):
        return [("outer", p.outer), ("depth", p.depth), ("in_mult", p.mult),
                ("in_left_shift", p.left_shift), ("diff_min", p.diff_min)]

    def scratch_bytes(self, g, o):
        """uint8: one row moved into int8 (tcc_softmax_u8)."""
        return o.params.depth if ir.tensor(g, o.inputs[0]).dtype == "uint8" else 0

    def emit(self, g, o, ctx):
        p = o.params
        if ir.tensor(g, o.inputs[0]).dtype == "uint8":    # runtime/kernels/tcc_uint8.c, through tcc_softmax_s8
            params = ctx.struct(o, "tcc_softmax_s8_params", self.s8_fields(p))
            ctx.kernels.add(self.kernel)
            ctx.call(o, f"tcc_softmax_u8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                        f"{ctx.scratch(o)});", "tcc_uint8")
            return
        if ir.tensor(g, o.inputs[0]).dtype == "int8":
            fields = self.s8_fields(p)
            fn = "tcc_softmax_s8"
        elif ir.tensor(g, o.inputs[0]).dtype == "int16":
            exp_lut, recip_lut = int16_luts()
            fields = [("outer", p.outer), ("depth", p.depth), ("in_mult", p.mult), ("in_shift", p.left_shift),
                      ("exp_lut", ctx.const_array(o, "exp_lut", "int16_t", exp_lut)),
                      ("recip_lut", ctx.const_array(o, "recip_lut", "int16_t", recip_lut))]
            fn = "tcc_softmax_s16"
        else:
            fields = [("outer", p.outer), ("depth", p.depth), ("beta", o.attrs["beta"])]
            fn = "tcc_softmax_f32"
        params = ctx.struct(o, f"{fn}_params", fields)
        ctx.call(o, f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});", self.kernel)
