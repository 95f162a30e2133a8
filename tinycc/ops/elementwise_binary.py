"""Binary element-wise ops with numpy broadcasting (up to 6-D): SUB, MUL, DIV, MAXIMUM,
MINIMUM, SQUARED_DIFFERENCE, PRELU; int8 (per-tensor) and float32; SUB, MUL, MAXIMUM, MINIMUM,
SQUARED_DIFFERENCE also int16 (zero points 0; int16 operands are shifted left by 15, not 20, in SUB
and by 0, not 7, in SQUARED_DIFFERENCE).

int8 semantics (TFLite Micro; multipliers as its Prepare computes them, in double):
  SUB       like ADD: both inputs (q - zp) << 20, rescaled to 2*max(s_a, s_b), subtracted,
            rescaled to the output, fused activation clamp.
  MUL       (a - zp_a)(b - zp_b) requantized by s_a s_b / s_out, + zp_out, clamp. uint8 MUL
            (fully-uint8 legacy models; TFLite's uint8 reference Mul, checked against TFLite) too.
  DIV       fixed-point reciprocal of the divisor (GetReciprocal), quotient rescaled by
            s_a / (s_b s_out), + zp_out, clamp.
            Division by zero (b == zp_b) follows the arithmetic of TFLite Micro's host
            build (which has no check there).
  MAXIMUM, MINIMUM  raw int8 (and int16) compare-and-copy; TFLite Micro ignores the quantization,
            so inputs and output are expected on one scale (the converter's choice).
  SQUARED_DIFFERENCE  inputs (q - zp) << 7 rescaled to 2*max(s_a, s_b), difference
            squared, rescaled by (2 max)^2 / (2^14 s_out), no activation.
  PRELU     x >= 0: requantize(x - zp_x, s_x/s_out); else requantize((x - zp_x)(alpha -
            zp_alpha), s_x s_alpha / s_out); + zp_out. At most 4-D (TFLite Micro aborts past that).
            int16 too: int16 input and output (zero points 0) with an int8 alpha, clamped to int16.
float32: the plain formula; SUB, MUL, DIV clamp to the fused activation.
int32 (SUB, MUL, DIV, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM) and int64 (MAXIMUM, MINIMUM): raw
values, as TFLite Micro's kernels take them (``int_types``): two's complement wrapping, DIV
truncating (a zero divisor gives 0 where TFLite Micro's host build traps), SUB, MUL, DIV clamped
to the fused activation's int32 range.

The kernels (tcc_binary.c) walk the output in row-major order and read each input once
per output element, at its broadcast index, before writing it; so the output may be
computed over an input that dies here (``reads_min``).
"""
from __future__ import annotations

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from ..dtypes import ZERO_POINT_RANGE
from . import _uint8
from . import (INT32_RANGE, OpDef, activation, activation_range_float, activation_range_int8,
               int32_arithmetic, int32_shape_arithmetic, register)

MAX_DIMS = 6


def bcast_strides(out_shape, *in_shapes) -> tuple[list[int], list[list[int]]]:
    """6-D dims of the output and each input's element strides (0 where it broadcasts).

    When every input has the output's shape, one flat dimension: a single loop.
    """
    out_shape = tuple(int(d) for d in out_shape)
    if all(tuple(s) == out_shape for s in in_shapes):
        n = int(np.prod(out_shape, dtype=np.int64))
        flat = [0] * (MAX_DIMS - 1) + [1]
        return [1] * (MAX_DIMS - 1) + [n], [list(flat) for _ in in_shapes]
    dims = [1] * (MAX_DIMS - len(out_shape)) + list(out_shape)
    strides = []
    for shape in in_shapes:
        shape = [1] * (MAX_DIMS - len(shape)) + [int(d) for d in shape]
        st, acc = [0] * MAX_DIMS, 1
        for d in reversed(range(MAX_DIMS)):
            st[d] = 0 if shape[d] == 1 and dims[d] != 1 else acc
            acc *= shape[d]
        strides.append(st)
    return dims, strides


def _c_array(v) -> str:
    return "{" + ", ".join(str(int(x)) for x in v) + "}"


def bcast_init(out_shape, *in_shapes, names=("a_strides", "b_strides")) -> str:
    """C initializer of a tcc_bcast (two inputs) or tcc_bcast3 (names c, a, b)."""
    dims, strides = bcast_strides(out_shape, *in_shapes)
    fields = [f".dims = {_c_array(dims)}"] + [f".{n} = {_c_array(s)}" for n, s in zip(names, strides)]
    return "{ " + ", ".join(fields) + " }"


def bcast_fields(out_shape, *in_shapes, names=("a_strides", "b_strides")) -> list[tuple[str, str]]:
    """The fields of a top-level tcc_bcast / tcc_bcast3 struct."""
    dims, strides = bcast_strides(out_shape, *in_shapes)
    return [("dims", _c_array(dims))] + [(n, _c_array(s)) for n, s in zip(names, strides)]


def broadcast_reads(g, o, slot) -> np.ndarray:
    """For every output element (row-major), the element index of input ``slot`` it reads."""
    x, y = ir.tensor(g, o.inputs[slot]), ir.tensor(g, o.outputs[0])
    idx = np.arange(x.size, dtype=np.int64).reshape(x.shape) if x.shape else np.zeros((), np.int64)
    return np.broadcast_to(idx, y.shape).ravel()


def check_broadcast(spec: OpDef, g, o, slots, out_dtype=None, int32: bool = False, int16: bool = False,
                    ints: tuple[str, ...] = ()) -> str:
    """Common type/shape rules: inputs ``slots`` of one dtype (int8 per-tensor or float32; int32
    for constant shape arithmetic; int16 with zero point 0 where the op has int16 kernels; any of
    ``ints`` as raw integers, their quantization ignored), the output the broadcast shape (at most
    6-D); returns the input dtype."""
    ts = [ir.tensor(g, o.inputs[s]) for s in slots]
    y = ir.tensor(g, o.outputs[0])
    dt = ts[0].dtype
    if (dt not in ("int8", "float32") + ints and not (int32 and dt == "int32")
            and not (int16 and dt == "int16")):
        known = ["int8"] + (["int16"] if int16 else []) + [t for t in ints if t != "int8"] + ["float32"]
        raise spec.fail(o, f"input type {dt} is not supported ({', '.join(dict.fromkeys(known))})", ts[0].name)
    for t in ts + ([y] if out_dtype is None else []):
        if t.dtype != dt:
            raise spec.fail(o, f"mixed types {dt} and {t.dtype}", t.name)
        if dt in ints:
            continue
        if dt in ("int8", "int16") and (t.quant is None or t.quant.per_channel):
            raise spec.fail(o, f"{dt} tensors need per-tensor quantization", t.name)
        if dt == "int16" and t.quant.zero_point[0] != 0:
            raise spec.fail(o, "int16 activations need a zero point of 0", t.name)
    if out_dtype is not None and y.dtype != out_dtype:
        raise spec.fail(o, f"output must be {out_dtype}", y.name)
    try:
        shape = np.broadcast_shapes(*(t.shape for t in ts))
    except ValueError:
        raise spec.fail(o, "shapes " + " and ".join(str(list(t.shape)) for t in ts) + " do not broadcast") from None
    if tuple(shape) != tuple(y.shape) or len(y.shape) > MAX_DIMS:
        raise spec.fail(o, f"output shape {list(y.shape)} must be the broadcast shape {list(shape)}, "
                           f"at most {MAX_DIMS}-D", y.name)
    return dt


def clamp_f32(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """tcc_clampf(x, lo, hi) with the bounds as codegen writes them (infinities become +-FLT_MAX)."""
    fmax = np.finfo(np.float32).max
    lo, hi = np.float32(max(lo, -fmax)), np.float32(min(hi, fmax))
    x = np.asarray(x, np.float32)
    return np.where(x < lo, lo, np.where(x > hi, hi, x)).astype(np.float32)


def _q(t: ir.Tensor) -> tuple[float, int]:
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


SUFFIX = {"uint8": "u8", "int8": "s8", "int16": "s16", "int32": "s32", "int64": "s64", "float32": "f32"}


class _Binary(OpDef):
    kernel = "tcc_binary"
    fn = ""              # C name stem: tcc_<fn>_s8 / tcc_<fn>_s16 / tcc_<fn>_f32 (/ _s32, _s64)
    has_activation = False
    int16 = False        # has an int16 kernel (tcc_<fn>_s16, with int8_fields' params)
    int_types: tuple[str, ...] = ()   # raw integer types with a kernel (TFLite Micro's int32/int64)

    def read_options(self, opts):
        return dict(activation=activation(opts)) if self.has_activation else {}

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        if self.kind in ("SUB", "MUL", "MAXIMUM", "MINIMUM") and int32_shape_arithmetic(g, o):
            return check_broadcast(self, g, o, (0, 1), int32=True)
        check_broadcast(self, g, o, (0, 1), int16=self.int16, ints=self.int_types)

    def reads_min(self, g, o, slot):
        """tcc_binary.c reads a[ia(k)] and b[ib(k)] just before writing out[k]."""
        return broadcast_reads(g, o, slot)

    def shape_init(self, g, o) -> str:
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        return bcast_init(y.shape, a.shape, b.shape)

    def int8_fields(self, g, o) -> tuple[str, list]:
        raise NotImplementedError

    def int_fields(self, g, o) -> tuple[str, list]:
        """Raw integers: the shape, and the int32 activation range for SUB, MUL, DIV."""
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        if self.has_activation:
            lo, hi = INT32_RANGE[o.attrs["activation"]]
            return "tcc_binary_s32_params", [("shape", self.shape_init(g, o)), ("act_min", lo), ("act_max", hi)]
        return "tcc_bcast", bcast_fields(y.shape, a.shape, b.shape)

    def float_fields(self, g, o) -> tuple[str, list]:
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        if self.has_activation:
            lo, hi = activation_range_float(o.attrs["activation"])
            return "tcc_binary_f32_params", [("shape", self.shape_init(g, o)), ("act_min", lo), ("act_max", hi)]
        return "tcc_bcast", bcast_fields(y.shape, a.shape, b.shape)

    def evaluate(self, g, o, inputs):
        """For constant folding: float32 SUB/MUL/DIV (one IEEE operation, then tcc_clampf to the
        activation range with infinities as +-FLT_MAX), MAXIMUM/MINIMUM (a comparison, also
        int8 on raw bytes); None for the rest (their int8 arithmetic stays in the kernels)."""
        a, b = (np.asarray(v) for v in inputs)
        dt = ir.tensor(g, o.inputs[0]).dtype
        if dt == "int32" and self.kind in ("SUB", "MUL"):
            return [int32_arithmetic(self.kind, a, b, o.attrs.get("activation", "NONE"))]
        if self.kind in ("MAXIMUM", "MINIMUM"):
            pick = (a > b) if self.kind == "MAXIMUM" else (a < b)
            return [np.where(pick, a, b)]
        op = {"SUB": np.subtract, "MUL": np.multiply, "DIV": np.divide}.get(self.kind)
        if dt != "float32" or op is None:
            return None
        with np.errstate(all="ignore"):
            r = op(a.astype(np.float32), b.astype(np.float32))
        return [clamp_f32(r, *activation_range_float(o.attrs.get("activation", "NONE")))]

    def emit(self, g, o, ctx):
        dt = ir.tensor(g, o.inputs[0]).dtype
        fields = (self.float_fields if dt == "float32" else self.int_fields if dt in self.int_types
                  else self.int8_fields)
        ctype, fields = fields(g, o)
        params = ctx.struct(o, ctype, fields)
        a, b = (ctx.buf(t) for t in o.inputs)
        ctx.call(o, f"tcc_{self.fn}_{SUFFIX[dt]}(&{params}, {a}, {b}, {ctx.buf(o.outputs[0])});", self.kernel)


def _act_range(o, y):
    s, z = _q(y)
    return activation_range_int8(o.attrs.get("activation", "NONE"), s, z, y.dtype)


def _rescaled_fields(self, g, o, left_shift: int, squared: bool):
    """SUB / SQUARED_DIFFERENCE int8 parameters (sub.cc, squared_difference.cc)."""
    a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
    (sa, za), (sb, zb), (sy, zy) = _q(a), _q(b), _q(y)
    twice_max = 2.0 * max(sa, sb)
    m1, m2 = quant.quantize_multiplier(sa / twice_max), quant.quantize_multiplier(sb / twice_max)
    if squared:
        mo = quant.quantize_multiplier(twice_max * twice_max / float(np.float32((1 << (2 * left_shift)) * np.float32(sy))))
        lo, hi = ZERO_POINT_RANGE[y.dtype]
    else:
        mo = quant.quantize_multiplier(twice_max / ((1 << left_shift) * sy))
        lo, hi = _act_range(o, y)
    return "tcc_rescaled_s8_params", [
        ("shape", self.shape_init(g, o)), ("in1_offset", -za), ("in2_offset", -zb), ("left_shift", left_shift),
        ("in1_mult", m1[0]), ("in1_shift", m1[1]), ("in2_mult", m2[0]), ("in2_shift", m2[1]),
        ("out_mult", mo[0]), ("out_shift", mo[1]), ("out_zp", zy), ("act_min", lo), ("act_max", hi)]


@register
class Sub(_Binary):
    kind = "SUB"
    options_class = tflite.SubOptions
    fn = "sub"
    int_types = ("int32",)
    has_activation = True
    int16 = True

    def int8_fields(self, g, o):
        """int8 and int16 (TFLite Micro shifts int16 operands left by 15, int8 by 20)."""
        return _rescaled_fields(self, g, o, 15 if ir.tensor(g, o.outputs[0]).dtype == "int16" else 20, squared=False)


@register
class SquaredDifference(_Binary):
    kind = "SQUARED_DIFFERENCE"
    fn = "squared_difference"
    int_types = ("int32",)
    int16 = True

    def int8_fields(self, g, o):
        """int8 and int16 (TFLite Micro shifts int8 operands left by 7, int16 ones by 0)."""
        return _rescaled_fields(self, g, o, 0 if ir.tensor(g, o.outputs[0]).dtype == "int16" else 7, squared=True)


def _product_fields(self, g, o, real: float):
    a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
    (_, za), (_, zb), (_, zy) = _q(a), _q(b), _q(y)
    m, s = quant.quantize_multiplier(real)
    lo, hi = _act_range(o, y)
    return "tcc_product_s8_params", [
        ("shape", self.shape_init(g, o)), ("in1_offset", -za), ("in2_offset", -zb),
        ("out_mult", m), ("out_shift", s), ("out_zp", zy), ("act_min", lo), ("act_max", hi)]


@register
class Mul(_Binary):
    kind = "MUL"
    options_class = tflite.MulOptions
    fn = "mul"
    int_types = ("int32",)
    has_activation = True
    int16 = True

    def check(self, g, o):
        """int8, int16, float32, int32 as the other binary ops; uint8 (fully-uint8 legacy models)
        per tensor, in TFLite's uint8 reference Mul, which is int8's arithmetic."""
        if _uint8.is_uint8(g, o):
            self.expect_arity(o, (2, 2))
            _uint8.check_tensors(self, g, o, (*o.inputs, o.outputs[0]))
            return check_broadcast(self, g, o, (0, 1), ints=("uint8",))
        return super().check(g, o)

    def tflm_reference_reliable(self, g, o):
        return not _uint8.is_uint8(g, o)    # TFLite Micro has no uint8 MUL

    def int8_fields(self, g, o):
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        return _product_fields(self, g, o, _q(a)[0] * _q(b)[0] / _q(y)[0])

    def macs(self, g, o):
        return ir.tensor(g, o.outputs[0]).size


@register
class Div(_Binary):
    kind = "DIV"
    options_class = tflite.DivOptions
    fn = "div"
    int_types = ("int32",)
    has_activation = True

    def int8_fields(self, g, o):      # no uint8 kernel: a uint8 DIV is refused by the types check
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        return _product_fields(self, g, o, _q(a)[0] / (_q(b)[0] * _q(y)[0]))


class _SameScale(_Binary):
    int16 = True         # raw int16 compare-and-copy too (TFLite Micro's int16 MAXIMUM/MINIMUM)
    int_types = ("int32", "int64")

    def int8_fields(self, g, o):
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        return "tcc_bcast", bcast_fields(y.shape, a.shape, b.shape)


@register
class Maximum(_SameScale):
    kind = "MAXIMUM"
    constant_bound = "lo"
    fn = "maximum"


@register
class Minimum(_SameScale):
    kind = "MINIMUM"
    constant_bound = "hi"
    fn = "minimum"


@register
class Prelu(_Binary):
    kind = "PRELU"
    fn = "prelu"

    def check(self, g, o):
        """int8 and float32 as the other binary ops; int16 input and output (zero points 0) with
        an int8 alpha, as TFLite Micro's int16 kernel takes them."""
        if ir.tensor(g, o.inputs[0]).dtype == "int16" and len(o.inputs) == 2:
            x, alpha, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
            if alpha.dtype != "int8" or alpha.quant is None or alpha.quant.per_channel:
                raise self.fail(o, "an int16 PRELU needs a per-tensor int8 alpha (TFLite Micro's kernel)", alpha.name)
            check_broadcast(self, g, o, (0,), int16=True)
            if tuple(np.broadcast_shapes(x.shape, alpha.shape)) != tuple(y.shape):
                raise self.fail(o, f"alpha {list(alpha.shape)} must broadcast into the input {list(x.shape)}", alpha.name)
        else:
            super().check(g, o)
        if len(ir.tensor(g, o.outputs[0]).shape) > 4:
            raise self.fail(o, "PRELU is at most 4-D (TFLite and TFLite Micro broadcast it in 4-D)")

    def int8_fields(self, g, o):
        x, alpha, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        (sx, zx), (sa, za), (sy, zy) = _q(x), _q(alpha), _q(y)
        m1 = quant.quantize_multiplier(sx / sy)
        m2 = quant.quantize_multiplier(sx * sa / sy)
        return "tcc_prelu_s8_params", [
            ("shape", self.shape_init(g, o)), ("in_offset", -zx), ("alpha_offset", -za),
            ("mult_pos", m1[0]), ("shift_pos", m1[1]), ("mult_neg", m2[0]), ("shift_neg", m2[1]), ("out_zp", zy)]
