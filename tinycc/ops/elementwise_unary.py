"""Unary element-wise ops: ABS, NEG, CEIL, FLOOR, COS, SIN, EXP, LOG, RSQRT, SQRT, SQUARE,
ELU, GELU (TFLite's), HARD_SWISH, LEAKY_RELU, LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1, ZEROS_LIKE.

float32: one C function per op (tcc_elementwise.c), TFLite's reference formula.

int8 (per-tensor): every op here maps each of the 256 input values to one output
value, so ``prepare`` evaluates TFLite Micro's int8 kernel for every input at compile
time (``tflm_math``) and the C kernel is one table lookup per element. What each
table reproduces (TFLite Micro, tensorflow/lite/micro/kernels/):
  ABS        |q - zp_in|, rescaled by MultiplyByQuantizedMultiplier(s_in/s_out) unless
             the scales are equal, + zp_out (elementwise.cc).
  RSQRT      GetInvSqrtQuantizedMultiplierExp(q - zp_in), then two multiplies with a
             2^20 headroom by 1/(sqrt(s_in) s_out); q == zp_in gives 127. TFLite Micro
             fails Invoke for q < zp_in (negative reals); the table holds the same
             formula's value there (that of q - zp_in = 1).
  ELU        LUTPopulate: float32 dequantize, expf(x) - 1 for x < 0, round(y / s_out)
             + zp_out (elu.cc, built on the host's expf like the reference).
  HARD_SWISH int16 fixed point of reference_ops::HardSwish with the 16-bit multipliers
             of hard_swish_common.cc (refused when s_in / 128 >= s_out, as TFLM does).
  LEAKY_RELU two multipliers, s_in/s_out and s_in*alpha/s_out (in double; alpha may be
             negative or above 1).
  LOGISTIC   gemmlowp logistic on Q4.27 input (input multiplier from frexp, radius
             cut-offs); output is always in 1/256 units + (-128): TFLite Micro requires
             zp_out == -128 and ignores s_out.
  TANH       gemmlowp tanh on Q4.27; output always in 1/128 units, zero point 0
             (s_out and zp_out are ignored, as in TFLite Micro).
  RELU       zp_out + MultiplyByQuantizedMultiplier(q - zp_in, s_in/s_out), clamped
             to [zp_out, 127].
  RELU6      clamp(q, zp_in, quantize(6.0)) in the *input* scale (TFLite Micro does
             not rescale RELU6).
  RELU_N1_TO_1 not in TFLite Micro; TFLite's QuantizedReluX(-1, 1) (checked against
             LiteRT).
int16 (zero points 0): RSQRT (TFLite Micro's formula per element at run time, tcc_rsqrt_s16 in
tcc_normalize.c, which has the inverse square root); ABS, RELU, RELU6 and LEAKY_RELU, the same formulas at run time
(tcc_piecewise_s16: one multiplier for x >= 0, one for x < 0, then the clamp; ``piecewise``);
LOGISTIC and TANH (output scale 2^-15) through TFLite's interpolated 256-knot sigmoid table
(tcc_logistic_s16 / tcc_tanh_s16, the input rescaled as TFLite Micro's Prepare does:
``tflm_math.sigmoid16_input``).
NEG, CEIL, FLOOR, COS, SIN, EXP, LOG, SQRT, SQUARE have no int8 kernel in TFLite
Micro and are refused for int8. ZEROS_LIKE writes raw zero bytes for every type.

All kernels read element i before writing element i, so the output may be computed
in place (``reads_min`` is the identity).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from .. import tflm_math as T
from . import _uint8
from . import OpDef, TableParams, register


# float32 kernels (tcc_elementwise.c) whose numpy equivalent is exact: one IEEE operation or a
# comparison, so a constant operand can be folded at compile time.
_F = np.float32
_FLOAT_EXACT = {
    "ABS": np.abs, "NEG": np.negative, "CEIL": np.ceil, "FLOOR": np.floor, "SQRT": np.sqrt,
    "SQUARE": lambda x: x * x,
    "RELU": lambda x: np.where(x < _F(0), _F(0), x),
    "RELU6": lambda x: np.where(x > _F(6), _F(6), np.where(x < _F(0), _F(0), x)),
    "RELU_N1_TO_1": lambda x: np.where(x > _F(1), _F(1), np.where(x < _F(-1), _F(-1), x)),
}


def _qparams(g, o):
    x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
    return float(x.quant.scale[0]), int(x.quant.zero_point[0]), float(y.quant.scale[0]), int(y.quant.zero_point[0])


class _Unary(OpDef):
    """A same-shape unary op: int8 through a compile-time table, float32 through ``float_fn``."""
    kernel = "tcc_elementwise"
    table_kernel = True
    float_fn: str = ""
    int8 = True
    int16 = False     # an int16 kernel: tcc_piecewise_s16 with ``piecewise``
    sigmoid16: str | None = None   # the int16 kernel is TFLite's sigmoid table: "logistic" or "tanh"

    def check(self, g, o):
        self.expect_arity(o, (1, 1))
        dt = self.dtype_of(g, o, int16=True)
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if tuple(x.shape) != tuple(y.shape):
            raise self.fail(o, f"input {list(x.shape)} and output {list(y.shape)} must have one shape", y.name)
        if dt == "int8" and not self.int8:
            raise self.fail(o, "int8 is not supported (TFLite Micro has only a float32 kernel)", x.name)
        if dt == "int16" and not self.int16:
            raise self.fail(o, "int16 is not supported (TFLite Micro has no int16 kernel)", x.name)
        if dt == "int8":
            self.check_int8(g, o)
        if dt == "int16" and self.sigmoid16:
            so = float(ir.tensor(g, o.outputs[0]).quant.scale[0])
            if round(math.log2(so)) != -15 or abs(math.log2(so) + 15) >= 1e-3:
                raise self.fail(o, "int16 output scale must be 2^-15 (TFLite Micro's requirement)",
                                ir.tensor(g, o.outputs[0]).name)

    def check_int8(self, g, o):
        pass

    def lut(self, g, o) -> np.ndarray:
        raise NotImplementedError

    def piecewise(self, g, o) -> tuple[tuple[int, int], tuple[int, int], int, int]:
        """int16: ((mult, shift) for x >= 0, (mult, shift) for x < 0, act_min, act_max)."""
        raise NotImplementedError

    def prepare(self, g, o):
        dt = ir.tensor(g, o.inputs[0]).dtype
        if dt == "int8":
            return TableParams(lut=self.lut(g, o))
        if dt == "int16" and self.sigmoid16:
            mult, shift = T.sigmoid16_input(_qparams(g, o)[0], self.sigmoid16 == "tanh")
            return Sigmoid16Params(mult=mult, shift=shift)
        if dt == "int16":
            pos, neg, lo, hi = self.piecewise(g, o)
            return PiecewiseParams(mult_pos=pos[0], shift_pos=pos[1], mult_neg=neg[0], shift_neg=neg[1],
                                   act_min=lo, act_max=hi)
        return ir.Params()

    def reads_min(self, g, o, slot):
        """Element i is read just before element i is written."""
        return np.arange(ir.tensor(g, o.outputs[0]).size, dtype=np.int64)

    def evaluate(self, g, o, inputs):
        """For constant folding: int8 through the kernel's table; float32 only where numpy's
        float32 result is the C kernel's bit for bit (``_FLOAT_EXACT``), else None."""
        x = np.asarray(inputs[0])
        if ir.tensor(g, o.inputs[0]).dtype == "int8":
            return [np.asarray(self.lut(g, o), np.int8)[x.astype(np.int64) & 0xFF]]
        if ir.tensor(g, o.inputs[0]).dtype == "int16":
            return None
        fn = _FLOAT_EXACT.get(self.kind)
        return None if fn is None else [fn(x.astype(np.float32)).astype(np.float32)]

    def float_call(self, o, x, y, n) -> str:
        return f"{self.float_fn}({x}, {y}, {n});"

    def emit(self, g, o, ctx):
        x, y = ctx.buf(o.inputs[0]), ctx.buf(o.outputs[0])
        n = ir.tensor(g, o.outputs[0]).size
        dt = ir.tensor(g, o.inputs[0]).dtype
        if dt == "int8":
            lut = ctx.const_array(o, "lut", "int8_t", o.params.lut)
            ctx.call(o, f"tcc_lut_s8({lut}, {x}, {y}, {n});", self.kernel)
        elif dt == "int16" and self.sigmoid16:
            table = ctx.const_array(o, "sigmoid_table", "uint16_t", T.sigmoid_table_u16())
            params = ctx.struct(o, "tcc_sigmoid_s16_params", [("table", table), *o.params.c_fields("mult", "shift")])
            ctx.call(o, f"tcc_{self.sigmoid16}_s16(&{params}, {x}, {y}, {n});", self.kernel)
        elif dt == "int16":
            params = ctx.struct(o, "tcc_piecewise_s16_params", o.params.c_fields(
                "mult_pos", "shift_pos", "mult_neg", "shift_neg", "act_min", "act_max"))
            ctx.call(o, f"tcc_piecewise_s16(&{params}, {x}, {y}, {n});", self.kernel)
        else:
            ctx.call(o, self.float_call(o, x, y, n), self.kernel)


@dataclass(frozen=True, eq=False, kw_only=True)
class PiecewiseParams(ir.Params):
    """int16 RELU, RELU6, LEAKY_RELU: what tcc_piecewise_s16_params holds."""
    mult_pos: int
    shift_pos: int
    mult_neg: int
    shift_neg: int
    act_min: int
    act_max: int


@dataclass(frozen=True, eq=False, kw_only=True)
class Sigmoid16Params(ir.Params):
    """int16 LOGISTIC and TANH: what tcc_sigmoid_s16_params holds besides the table (the input's
    multiplier and right shift onto the table's 1/(3 * 4096) units, ``tflm_math.sigmoid16_input``)."""
    mult: int
    shift: int


IDENTITY_MULTIPLIER = (1 << 30, 1)   # quantize_multiplier(1.0): x unchanged


def _float_only(kind_, fn):
    @register
    class _Op(_Unary):
        kind = kind_
        float_fn = fn
        int8 = False
    _Op.__name__ = _Op.__qualname__ = kind_.title().replace("_", "")
    return _Op


for _k, _fn in (("NEG", "tcc_neg_f32"), ("CEIL", "tcc_ceil_f32"), ("FLOOR", "tcc_floor_f32"),
                ("COS", "tcc_cos_f32"), ("SIN", "tcc_sin_f32"), ("EXP", "tcc_exp_f32"),
                ("LOG", "tcc_log_f32"), ("SQRT", "tcc_sqrt_f32"), ("SQUARE", "tcc_square_f32")):
    _float_only(_k, _fn)


@register
class Abs(_Unary):
    kind = "ABS"
    float_fn = "tcc_abs_f32"
    int16 = True

    def piecewise(self, g, o):
        """|x| rescaled when the scales differ: x < 0 takes the negated multiplier (the kernel's
        rounding is symmetric, so requantize(x, -m) == requantize(|x|, m))."""
        si, _, so, _ = _qparams(g, o)
        m, s = quant.quantize_multiplier(si / so) if T.F32(si) != T.F32(so) else IDENTITY_MULTIPLIER
        return (m, s), (-m, s), -32768, 32767

    def lut(self, g, o):
        si, zi, so, zo = _qparams(g, o)
        rescale = T.F32(si) != T.F32(so)
        m, s = quant.quantize_multiplier(si / so)

        def f(q):
            v = abs(q - zi)
            return T.clamp((T.mbqm(v, m, s) if rescale else v) + zo)
        return T.table(f)


@dataclass(frozen=True, eq=False, kw_only=True)
class RsqrtParams(ir.Params):
    """int16 RSQRT: the output multiplier 1 / (sqrt(s_in) s_out) (tcc_rsqrt_s16_params)."""
    mult: int
    shift: int


@register
class Rsqrt(_Unary):
    kind = "RSQRT"
    float_fn = "tcc_rsqrt_f32"
    int16 = True      # its own kernel (tcc_rsqrt_s16 in tcc_normalize.c), not the piecewise one

    def prepare(self, g, o):
        if ir.tensor(g, o.inputs[0]).dtype != "int16":
            return super().prepare(g, o)
        si, _, so, _ = _qparams(g, o)
        m, s = quant.quantize_multiplier(1.0 / (math.sqrt(si) * so))
        return RsqrtParams(mult=m, shift=s)

    def emit(self, g, o, ctx):
        if ir.tensor(g, o.inputs[0]).dtype != "int16":
            return super().emit(g, o, ctx)
        params = ctx.struct(o, "tcc_rsqrt_s16_params", o.params.c_fields("mult", "shift"))
        n = ir.tensor(g, o.outputs[0]).size
        ctx.call(o, f"tcc_rsqrt_s16(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {n});",
                 "tcc_normalize")

    def lut(self, g, o):
        si, zi, so, zo = _qparams(g, o)
        m, s = quant.quantize_multiplier(1.0 / (math.sqrt(si) * so))
        shift = 20  # headroom TFLite keeps to stay integer

        def f(q):
            v = q - zi
            if v == 0:
                return T.INT8_MAX
            inv_m, inv_s = T.inv_sqrt_multiplier(v, -1)
            data = T.mbqm(1, inv_m, inv_s + shift)
            return T.clamp(T.mbqm(data, m, s - shift) + zo)
        return T.table(f)


@register
class Elu(_Unary):
    kind = "ELU"
    float_fn = "tcc_elu_f32"

    def lut(self, g, o):
        si, zi, so, zo = _qparams(g, o)
        return T.lut_from_float(si, zi, so, zo, lambda x: T.expf(x) - T.F32(1.0) if x < 0 else x)


def _libm_f32(name: str, x) -> np.float32:
    """The host C library's float function ``name`` (what TFLite's host build calls), float64
    rounded to float32 where there is none."""
    libm = T._libm()
    if libm is not None:
        import ctypes
        fn = getattr(libm, name)
        fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
        return T.F32(fn(float(x)))
    return T.F32({"erfcf": math.erfc, "tanhf": math.tanh}[name](float(x)))


def gelu_f32(x, approximate: bool) -> np.float32:
    """TFLite's GeluTransform / GeluTransformApproximate in float32 (gelu.h)."""
    x, half = T.F32(x), T.F32(0.5)
    if approximate:
        k = T.F32(math.sqrt(2.0 / math.pi))
        return half * x * (T.F32(1.0) + _libm_f32("tanhf", k * (x + T.F32(0.044715) * x * x * x)))
    return half * x * _libm_f32("erfcf", x * T.F32(-math.sqrt(0.5)))


@register
class Gelu(_Unary):
    """GELU (TFLite's; TFLite Micro has none): float32 0.5 x erfc(-x / sqrt(2)) (or the tanh
    approximation), int8 through TFLite's LUTPopulate of that float function."""
    kind = "GELU"
    options_class = tflite.GeluOptions
    float_fn = "tcc_gelu_f32"

    def read_options(self, opts):
        return dict(approximate=bool(opts.Approximate()) if opts is not None else False)

    def lut(self, g, o):
        si, zi, so, zo = _qparams(g, o)
        return T.lut_from_float(si, zi, so, zo, lambda x: gelu_f32(x, o.attrs["approximate"]))

    def float_call(self, o, x, y, n):
        return f"tcc_gelu{'_approx' if o.attrs['approximate'] else ''}_f32({x}, {y}, {n});"

    def tflm_reference_reliable(self, g, o):
        """TFLite Micro has no GELU: TFLite's reference kernel checks it."""
        return False


def _downscale_int16(m32: int) -> int:
    """DownScaleInt32ToInt16Multiplier."""
    if m32 >= T.INT32_MAX - (1 << 15):
        return 32767
    return (m32 + (1 << 15)) >> 16


def _sat_shl16(v: int, amount: int) -> int:
    return T.clamp(v * (1 << amount), -32768, 32767)


@register
class HardSwish(_Unary):
    kind = "HARD_SWISH"
    float_fn = "tcc_hard_swish_f32"

    @staticmethod
    def _multipliers(si, so):
        hires = T.F32(1.0 / 128.0) * T.F32(si)
        out_m, out_e = quant.quantize_multiplier(float(hires / T.F32(so)))
        rel_m, rel_e = quant.quantize_multiplier(float(hires / (T.F32(3.0) / T.F32(32768.0))))
        return _downscale_int16(out_m), out_e, _downscale_int16(rel_m), rel_e

    def check_int8(self, g, o):
        si, _, so, _ = _qparams(g, o)
        if self._multipliers(si, so)[1] > 0:
            raise self.fail(o, "int8 output scale must exceed input scale / 128 (TFLite Micro's limit)",
                            ir.tensor(g, o.outputs[0]).name)

    def lut(self, g, o):
        si, zi, so, zo = _qparams(g, o)
        out_m, out_e, rel_m, rel_e = self._multipliers(si, so)

        def f(q):
            hires = T.wrap(T.wrap(q - zi, 16) * (1 << 7), 16)
            preshift = T.srdhm16(hires, out_m)
            r = hires
            if rel_e > 0:
                r = _sat_shl16(r, rel_e - 1)
            r = T.srdhm16(r, rel_m)
            if rel_e > 0:
                r = _sat_shl16(r, 1)
            if rel_e < 0:
                r = T.rdpot(r, -rel_e, 16)
            r = T.wrap((r + (1 << 15)) >> 1, 16)
            out = T.rdpot(T.sdhm16(r, preshift), -out_e, 16)
            return T.clamp(T.wrap(out + zo, 16))
        return T.table(f)


@register
class LeakyRelu(_Unary):
    kind = "LEAKY_RELU"
    options_class = tflite.LeakyReluOptions
    float_fn = "tcc_leaky_relu_f32"
    int16 = True

    def read_options(self, opts):
        return dict(alpha=float(opts.Alpha()) if opts is not None else 0.2)

    def piecewise(self, g, o):
        si, _, so, _ = _qparams(g, o)
        alpha = float(T.F32(o.attrs["alpha"]))
        return (quant.quantize_multiplier(si / so), quant.quantize_multiplier(si * alpha / so),
                -32768, 32767)

    def lut(self, g, o):
        si, zi, so, zo = _qparams(g, o)
        alpha = float(T.F32(o.attrs["alpha"]))
        am, ash = quant.quantize_multiplier(si * alpha / so)
        im, ish = quant.quantize_multiplier(si / so)

        def f(q):
            v = q - zi
            return T.clamp(zo + (T.mbqm(v, im, ish) if v >= 0 else T.mbqm(v, am, ash)))
        return T.table(f)

    def float_call(self, o, x, y, n):
        from ..cformat import format_float
        return f"tcc_leaky_relu_f32({format_float(o.attrs['alpha'])}, {x}, {y}, {n});"


def _q4_input(si):
    """Input multiplier of the int8 LOGISTIC/TANH: s_in * 2^27 split by frexp, and the radius."""
    m, shift = T.frexp_multiplier(si * (1 << 27))
    return m, shift, T.input_radius(4, shift)


@register
class Logistic(_Unary):
    kind = "LOGISTIC"
    float_fn = "tcc_logistic_f32"
    int16 = True
    sigmoid16 = "logistic"

    def check(self, g, o):
        """int8, int16, float32 as the other unary ops; uint8 (fully-uint8 legacy models) with TFLite's
        output quantization 1/256, zero point 0: TFLite's uint8 reference Logistic, int8's arithmetic
        on the uint8 bytes (output not moved by -128), as a table (``_uint8.U8TableParams``)."""
        if not _uint8.is_uint8(g, o):
            return super().check(g, o)
        self.expect_arity(o, (1, 1))
        _uint8.check_tensors(self, g, o, (o.inputs[0], o.outputs[0]))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if tuple(x.shape) != tuple(y.shape):
            raise self.fail(o, f"input {list(x.shape)} and output {list(y.shape)} must have one shape", y.name)
        if y.quant.zero_point[0] != 0 or abs(float(y.quant.scale[0]) * 256 - 1) > 1e-6:
            raise self.fail(o, "uint8 output must have scale 1/256 and zero point 0 (TFLite's requirement)", y.name)

    def tflm_reference_reliable(self, g, o):
        return not _uint8.is_uint8(g, o)    # TFLite Micro has no uint8 LOGISTIC

    def prepare(self, g, o):
        if _uint8.is_uint8(g, o):
            return _uint8.U8TableParams(lut=np.array([self.logistic(g, o, q, 0) for q in range(256)], np.uint8))
        return super().prepare(g, o)

    def evaluate(self, g, o, inputs):
        if _uint8.is_uint8(g, o):
            return [self.prepare(g, o).lut[np.asarray(inputs[0]).astype(np.int64)]]
        return super().evaluate(g, o, inputs)

    def emit(self, g, o, ctx):
        if not _uint8.is_uint8(g, o):
            return super().emit(g, o, ctx)
        lut = ctx.const_array(o, "lut", "uint8_t", o.params.lut)
        n = ir.tensor(g, o.outputs[0]).size
        ctx.call(o, f"tcc_lut_u8({lut}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {n});", "tcc_uint8")

    def check_int8(self, g, o):
        y = ir.tensor(g, o.outputs[0])
        if y.quant.zero_point[0] != -128:
            raise self.fail(o, "int8 output zero point must be -128 (TFLite Micro's requirement)", y.name)

    def logistic(self, g, o, q: int, out_zp: int) -> int:
        """The gemmlowp logistic of input byte ``q`` in 1/256 units, + ``out_zp`` (int8: -128, uint8: 0),
        clamped to the output type (uint8: measured equal to TFLite's on all 256 bytes of 40 scales)."""
        si, zi, _, _ = _qparams(g, o)
        m, shift, radius = _q4_input(si)
        lo, hi = (T.INT8_MIN, T.INT8_MAX) if out_zp == -128 else (0, 255)
        v = q - zi
        if v <= -radius:
            return lo
        if v >= radius:
            return hi
        return T.clamp(T.rdpot(T.fixed_logistic(T.mbqm(v, m, shift), 4), 31 - 8) + out_zp, lo, hi)

    def lut(self, g, o):
        return T.table(lambda q: self.logistic(g, o, q, -128))


@register
class Tanh(_Unary):
    kind = "TANH"
    float_fn = "tcc_tanh_f32"
    int16 = True
    sigmoid16 = "tanh"

    def lut(self, g, o):
        si, zi, _, _ = _qparams(g, o)
        m, shift, radius = _q4_input(si)

        def f(q):
            v = q - zi
            if v <= -radius:
                return T.INT8_MIN
            if v >= radius:
                return T.INT8_MAX
            return T.clamp(T.rdpot(T.fixed_tanh(T.mbqm(v, m, shift), 4), 31 - 7))
        return T.table(f)


def _relu_x_lut(si, zi, so, zo, lo: float, hi: float | None):
    """zp_out + MultiplyByQuantizedMultiplier(q - zp_in, s_in/s_out), clamped to the quantized [lo, hi]."""
    m, s = quant.quantize_multiplier(si / so)
    qmin = max(T.INT8_MIN, zo + T.roundf(T.F32(lo) / T.F32(so)))
    qmax = T.INT8_MAX if hi is None else min(T.INT8_MAX, zo + T.roundf(T.F32(hi) / T.F32(so)))
    return T.table(lambda q: min(qmax, max(qmin, zo + T.mbqm(q - zi, m, s))))


@register
class Relu(_Unary):
    kind = "RELU"
    fused_activation = "RELU"
    float_fn = "tcc_relu_f32"
    int16 = True

    def lut(self, g, o):
        return _relu_x_lut(*_qparams(g, o), 0.0, None)

    def piecewise(self, g, o):
        si, _, so, _ = _qparams(g, o)
        m = quant.quantize_multiplier(si / so)
        return m, m, 0, 32767


@register
class ReluN1To1(_Unary):
    kind = "RELU_N1_TO_1"
    fused_activation = "RELU_N1_TO_1"
    float_fn = "tcc_relu_n1_to_1_f32"

    def lut(self, g, o):
        return _relu_x_lut(*_qparams(g, o), -1.0, 1.0)


@register
class Relu6(_Unary):
    kind = "RELU6"
    fused_activation = "RELU6"
    float_fn = "tcc_relu6_f32"
    int16 = True

    def piecewise(self, g, o):
        """As int8: clamp(x, 0, quantize(6.0)) in the input scale, no rescaling."""
        si, _, _, _ = _qparams(g, o)
        six = min(32767, T.roundf(T.F32(6.0) / T.F32(si)))
        return IDENTITY_MULTIPLIER, IDENTITY_MULTIPLIER, 0, six

    def lut(self, g, o):
        si, zi, _, _ = _qparams(g, o)
        six = T.clamp(T.roundf(T.F32(6.0) / T.F32(si)) + zi)
        return T.table(lambda q: min(six, max(zi, q)))


@register
class ZerosLike(OpDef):
    kind = "ZEROS_LIKE"
    kernel = "tcc_elementwise"

    def check(self, g, o):
        self.expect_arity(o, (1, 1))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if tuple(x.shape) != tuple(y.shape) or x.dtype != y.dtype:
            raise self.fail(o, "output must have the input's shape and type", y.name)

    def reads_min(self, g, o, slot):
        """The kernel reads nothing."""
        from . import NO_READ
        return np.full(ir.tensor(g, o.outputs[0]).size, NO_READ, dtype=np.int64)

    def emit(self, g, o, ctx):
        y = ir.tensor(g, o.outputs[0])
        ctx.call(o, f"tcc_zeros({ctx.buf(o.outputs[0])}, {y.nbytes});", self.kernel)
