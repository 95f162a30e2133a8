"""QUANTIZE, DEQUANTIZE and CAST: element-wise type conversions.

TFLite Micro semantics (quantize_common.cc, dequantize_common.cc, cast.cc,
reference quantize.h / requantize.h / dequantize.h):
  QUANTIZE float32 -> int8 or int16  clamp(TfLiteRound(x / s_out) + zp_out), the division in
                            float32 (tcc_quantize_f32_s8/_s16).
  QUANTIZE int8 -> int8     requantize: zp_out + MultiplyByQuantizedMultiplier(q - zp_in,
  (also uint8 -> int8,      s_in/s_out), clamped to the output type; a 256-entry table built at
   int8 -> uint8)           compile time, indexed by the input byte, holding the output byte
                            (reference requantize.h; camera bytes in, uint8 results out).
                            (``fuse_ops`` also makes QUANTIZE ops carrying any fused int8
                            table in ``attrs["table"]``: DEQUANTIZE -> QUANTIZE, table chains.)
  QUANTIZE between int8, int16, int32 (the other pairs TFLite Micro runs, REQUANTIZE_PAIRS):
                            the same requantization at run time (tcc_requantize_<in>_<out>).
  DEQUANTIZE int8, int16 or uint8 -> float32  s_in * (float)(q - zp_in).
  CAST  static_cast between bool, int8, int16, int32 and float32 (to bool: x != 0), checked
        against TFLite Micro; also from and to uint8 and int64 (TFLite's cast.cc: TFLite
        Micro has none), float to a narrower integer through int32 as x86 builds convert.
Other QUANTIZE/DEQUANTIZE types (float32 <-> uint8, float32 -> int32, int32 -> int32) are refused,
as TFLite Micro refuses them.
Every kernel reads element i before writing element i: the output may overlap
its input (``reads_min`` is the identity; the planner accounts for the sizes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ir, quant
from .. import tflm_math as T
from ..dtypes import NUMPY_DTYPES, ZERO_POINT_RANGE
from . import OpDef, TableParams, register

_CAST_TYPES = {"int8": "s8", "int16": "s16", "int32": "s32", "float32": "f32", "bool": "b8", "uint8": "u8",
               "int64": "s64"}
# CAST pairs with one of these types: TFLite Micro has none, TFLite checks them; their kernels are
# the kernel file's CAST_WIDE part.
WIDE_CAST_TYPES = ("uint8", "int64")
# QUANTIZE between integer types at run time (tcc_requantize_<in>_<out>; int8 -> int8 is a table).
REQUANTIZE_PAIRS = {("int8", "int16"), ("int8", "int32"), ("int16", "int8"), ("int16", "int16"),
                    ("int16", "int32"), ("int32", "int8"), ("int32", "int16")}
# QUANTIZE float32 -> these (tcc_quantize_f32_<out>); DEQUANTIZE these -> float32.
FLOAT_QUANTIZED = ("int8", "int16")
DEQUANTIZED = FLOAT_QUANTIZED + ("uint8",)   # DEQUANTIZE also from uint8 (legacy asymmetric models)


def _identity_reads(g, o):
    return np.arange(ir.tensor(g, o.outputs[0]).size, dtype=np.int64)


def _check_same_shape(spec, g, o):
    spec.expect_arity(o, (1, 1))
    x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
    if tuple(x.shape) != tuple(y.shape):
        raise spec.fail(o, f"input {list(x.shape)} and output {list(y.shape)} must have one shape", y.name)
    return x, y


def quantize_f32(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """tcc_quantize_f32_s8 in numpy: float32 x / scale, rounded half away from zero (exact in
    float64), limited to [-256, 256] (NaN -> -256), + zero point, clamped to int8."""
    q = np.asarray(x, np.float32) / np.float32(scale)
    r = q.astype(np.float64)
    r = np.sign(r) * np.floor(np.abs(r) + 0.5)
    r = np.where(np.isnan(r), -256.0, np.clip(r, -256.0, 256.0))
    return np.clip(r.astype(np.int64) + int(zero_point), -128, 127).astype(np.int8)


def quantize_f32_to(dtype: str, x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """tcc_quantize_f32_<dtype> in numpy (int8: ``quantize_f32``; int16 limits to [-65536, 65536])."""
    if dtype == "int8":
        return quantize_f32(x, scale, zero_point)
    r = (np.asarray(x, np.float32) / np.float32(scale)).astype(np.float64)
    r = np.sign(r) * np.floor(np.abs(r) + 0.5)
    r = np.where(np.isnan(r), -65536.0, np.clip(r, -65536.0, 65536.0))
    return np.clip(r.astype(np.int64) + int(zero_point), -32768, 32767).astype(np.int16)


def requantize(x: np.ndarray, m: int, s: int, zi: int, zo: int, dtype: str) -> np.ndarray:
    """tcc_requantize_<in>_<out> in numpy: int32 wrap of x - zi and of + zo, clamp to ``dtype``."""
    lo, hi = ZERO_POINT_RANGE[dtype]
    out = [T.clamp(T.wrap(T.mbqm(T.wrap(int(v) - zi), m, s) + zo), lo, hi) for v in np.asarray(x).ravel()]
    return np.asarray(out, NUMPY_DTYPES[dtype]).reshape(np.shape(x))


def dequantize_s8(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """tcc_dequantize_s8_f32 (and _s16_f32) in numpy: scale * (float)(q - zero_point), one float32
    product."""
    return np.float32(scale) * (np.asarray(q, np.int64) - int(zero_point)).astype(np.float32)


@dataclass(frozen=True, eq=False, kw_only=True)
class QuantizeParams(ir.Params):
    """QUANTIZE float32 -> int8/int16: tcc_quantize_f32_*'s output scale and zero point; between
    integer types also the requantization (int8 -> int8 is a table: ``TableParams``)."""
    scale: float
    zero_point: int
    in_zp: int = 0
    mult: int = 0
    shift: int = 0


# QUANTIZE pairs with a requantizing table (input, output): TFLite Micro's Requantize
_REQUANTIZE = {("int8", "int8"), ("uint8", "int8"), ("int8", "uint8"), ("uint8", "uint8")}
_RANGE = {"int8": (-128, 127), "uint8": (0, 255)}


def requantize_table(si: float, zi: int, so: float, zo: int, dt_in: str, dt_out: str) -> np.ndarray:
    """The 256-entry table of QUANTIZE dt_in -> dt_out (both 8-bit): entry b (the input byte)
    holds the output byte of zo + MultiplyByQuantizedMultiplier(q - zi, si/so), clamped."""
    m, s = quant.quantize_multiplier(si / so)
    lo, hi = _RANGE[dt_out]
    q = np.arange(256, dtype=np.int64)
    q = q if dt_in == "uint8" else q.astype(np.uint8).view(np.int8).astype(np.int64)
    out = [T.clamp(T.mbqm(int(v) - zi, m, s) + zo, lo, hi) for v in q]
    return np.asarray(out, np.int64).astype(np.uint8).view(np.int8)


def _per_tensor(spec, o, t):
    if t.quant is None or t.quant.per_channel:
        raise spec.fail(o, "needs per-tensor quantization", t.name)


@register
class Quantize(OpDef):
    kind = "QUANTIZE"
    kernel = "tcc_elementwise"
    table_kernel = True

    def check(self, g, o):
        x, y = _check_same_shape(self, g, o)
        pair = (x.dtype, y.dtype)
        if not (pair in _REQUANTIZE or pair in REQUANTIZE_PAIRS
                or (x.dtype == "float32" and y.dtype in FLOAT_QUANTIZED)):
            raise self.fail(o, f"{x.dtype} -> {y.dtype} is not supported (float32 -> int8 or int16, between "
                               f"int8, int16 and int32 but int32 -> int32, uint8 <-> int8, uint8 -> uint8)", y.name)
        _per_tensor(self, o, y)
        if x.dtype != "float32":
            _per_tensor(self, o, x)
            if pair not in _REQUANTIZE:
                quant.check_requantization(self, o, [float(x.quant.scale[0]) / float(y.quant.scale[0])], y.name,
                                           "input scale / output scale:")

    def prepare(self, g, o):
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if "table" in o.attrs:       # set by fuse_ops: a fused chain of int8 tables
            return TableParams(lut=np.asarray(o.attrs["table"], np.int8))
        so, zo = float(y.quant.scale[0]), int(y.quant.zero_point[0])
        if x.dtype == "float32":
            return QuantizeParams(scale=so, zero_point=zo)
        si, zi = float(x.quant.scale[0]), int(x.quant.zero_point[0])
        m, s = quant.quantize_multiplier(si / so)
        if (x.dtype, y.dtype) in REQUANTIZE_PAIRS:
            return QuantizeParams(scale=so, zero_point=zo, in_zp=zi, mult=m, shift=s)
        return TableParams(lut=requantize_table(si, zi, so, zo, x.dtype, y.dtype))

    def reads_min(self, g, o, slot):
        return _identity_reads(g, o)

    def evaluate(self, g, o, inputs):
        """What the kernel computes, for constant folding: the table (int8 input) or
        tcc_quantize_f32_s8's float32 division, round half away from zero, clamp."""
        x = np.asarray(inputs[0])
        p = self.prepare(g, o)
        if isinstance(p, TableParams):
            out = np.asarray(p.lut, np.int8)[x.astype(np.int64) & 0xFF]
            return [out.view(np.uint8) if ir.tensor(g, o.outputs[0]).dtype == "uint8" else out]
        xt, yt = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if xt.dtype == "float32":
            return [quantize_f32_to(yt.dtype, x, p.scale, p.zero_point)]
        return [requantize(x, p.mult, p.shift, p.in_zp, p.zero_point, yt.dtype)]

    def emit(self, g, o, ctx):
        x, y, p = ctx.buf(o.inputs[0]), ctx.buf(o.outputs[0]), o.params
        xt, yt = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        n = yt.size
        if isinstance(p, TableParams):   # uint8 bytes go through the int8 byte table as they are
            lut = ctx.const_array(o, "lut", "int8_t", p.lut)
            x = f"(const int8_t *){x}" if ir.tensor(g, o.inputs[0]).dtype == "uint8" else x
            y = f"(int8_t *){y}" if ir.tensor(g, o.outputs[0]).dtype == "uint8" else y
            ctx.call(o, f"tcc_lut_s8({lut}, {x}, {y}, {n});", self.kernel)
        elif xt.dtype == "float32":
            from ..cformat import format_float
            ctx.call(o, f"tcc_quantize_f32_{_CAST_TYPES[yt.dtype]}({format_float(p.scale)}, {p.zero_point}, "
                        f"{x}, {y}, {n});", self.kernel)
        else:
            ctx.use("REQUANTIZE")
            ctx.call(o, f"tcc_requantize_{_CAST_TYPES[xt.dtype]}_{_CAST_TYPES[yt.dtype]}({p.mult}, {p.shift}, "
                        f"{p.in_zp}, {p.zero_point}, {x}, {y}, {n});", self.kernel)


@register
class Dequantize(OpDef):
    kind = "DEQUANTIZE"
    kernel = "tcc_elementwise"
    records_float16_input = True

    def check(self, g, o):
        x, y = _check_same_shape(self, g, o)
        if o.attrs.get("from_float16"):
            # float16 weights, widened to float32 by the frontend: fold_constants makes this a
            # float32 constant; nothing runs on the device.
            if not (ir.tensor(g, o.inputs[0]).is_const and y.dtype == "float32"):
                raise self.fail(o, "float16 -> float32 is supported for constants only", x.name)
            return
        if x.dtype not in DEQUANTIZED or y.dtype != "float32":
            raise self.fail(o, f"{x.dtype} -> {y.dtype} is not supported (int8, int16 or uint8 -> float32)", x.name)
        _per_tensor(self, o, x)

    def reads_min(self, g, o, slot):
        return _identity_reads(g, o)

    def evaluate(self, g, o, inputs):
        """s_in * (float)(q - zp_in) in float32, as tcc_dequantize_s8_f32."""
        if o.attrs.get("from_float16"):
            return [np.asarray(inputs[0], np.float32)]
        x = ir.tensor(g, o.inputs[0])
        return [dequantize_s8(np.asarray(inputs[0]), x.quant.scale[0], x.quant.zero_point[0])]

    def emit(self, g, o, ctx):
        from ..cformat import format_float
        x = ir.tensor(g, o.inputs[0])
        ctx.call(o, f"tcc_dequantize_{_CAST_TYPES[x.dtype]}_f32({format_float(x.quant.scale[0])}, {int(x.quant.zero_point[0])}, "
                    f"{ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {x.size});", self.kernel)


@register
class Cast(OpDef):
    kind = "CAST"
    kernel = "tcc_elementwise"

    def check(self, g, o):
        x, y = _check_same_shape(self, g, o)
        for t in (x, y):
            if t.dtype not in _CAST_TYPES:
                raise self.fail(o, f"type {t.dtype} is not supported (bool, uint8, int8, int16, int32, int64, "
                                   "float32)", t.name)

    def tflm_reference_reliable(self, g, o):
        """TFLite Micro casts neither uint8 nor int64: TFLite checks those pairs."""
        return not any(ir.tensor(g, t).dtype in WIDE_CAST_TYPES for t in (o.inputs[0], o.outputs[0]))

    def reads_min(self, g, o, slot):
        return _identity_reads(g, o)

    def emit(self, g, o, ctx):
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        fn = f"tcc_cast_{_CAST_TYPES[x.dtype]}_{_CAST_TYPES[y.dtype]}"
        if x.dtype in WIDE_CAST_TYPES or y.dtype in WIDE_CAST_TYPES:
            ctx.use("CAST_WIDE")
        ctx.call(o, f"{fn}({ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {x.size});", self.kernel)
