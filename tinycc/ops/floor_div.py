"""FLOOR_DIV and FLOOR_MOD with numpy broadcasting (up to 6-D): float32, int32, int8 and int16
(raw values: TFLite ignores their quantization), and int64 for FLOOR_MOD.

float32 is checked against TFLite Micro (floor_div.cc, floor_mod.cc: float32 only); the integer
types against TFLite's reference kernels (TFLite Micro has none). Semantics (reference floor_div.h,
floor_mod.h):
  FLOOR_DIV  floor((double)a / (double)b), the quotient in double even for float32 inputs.
  FLOOR_MOD  r = fmod(a, b) (int32: a % b); r + b when r != 0 and r, b differ in sign.
A zero divisor: TFLite and TFLite Micro stop with an error; the kernels give inf/NaN
(float32) or 0 (integers), and constant folding refuses to fold it. An int8/int16 quotient out of
range (-128 / -1) wraps, as TFLite's cast does on its hosts.

The kernels (tcc_binary.c) read element k's inputs just before writing out[k] (``reads_min``).
"""
from __future__ import annotations

import numpy as np

from .. import ir
from . import OpDef, register
from .elementwise_binary import bcast_fields, broadcast_reads, check_broadcast

SUFFIX = {"float32": "f32", "int32": "s32", "int8": "s8", "int16": "s16", "int64": "s64"}


def floor_div(a: np.ndarray, b: np.ndarray, dtype: str) -> np.ndarray:
    q = np.floor(np.asarray(a, np.float64) / np.asarray(b, np.float64))
    return q.astype(np.float32) if dtype == "float32" else q.astype(np.int64).astype(dtype)   # wraps


def floor_mod(a: np.ndarray, b: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "float32":
        a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
        r = np.fmod(a, b)
    else:
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        r = np.fmod(a, b)                     # C's %: the sign of the dividend
    r = np.where((r != 0) & ((b < 0) != (r < 0)), r + b, r)
    return r.astype(dtype)


class _FloorOp(OpDef):
    kernel = "tcc_binary"
    fn = ""
    formula = None
    types: tuple[str, ...] = ()

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        dt = ir.tensor(g, o.inputs[0]).dtype
        if dt not in self.types:
            raise self.fail(o, f"input type {dt} is not supported ({', '.join(self.types)})",
                            ir.tensor(g, o.inputs[0]).name)
        check_broadcast(self, g, o, (0, 1), ints=tuple(t for t in self.types if t != "float32"))

    def reads_min(self, g, o, slot):
        return broadcast_reads(g, o, slot)

    def evaluate(self, g, o, inputs):
        a, b = (np.asarray(v) for v in inputs)
        if np.any(b == 0):
            return None
        with np.errstate(all="ignore"):
            return [self.formula(a, b, ir.tensor(g, o.inputs[0]).dtype)]

    def emit(self, g, o, ctx):
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        params = ctx.struct(o, "tcc_bcast", bcast_fields(y.shape, a.shape, b.shape))
        ins = ", ".join(ctx.buf(t) for t in o.inputs)
        ctx.call(o, f"tcc_{self.fn}_{SUFFIX[a.dtype]}(&{params}, {ins}, {ctx.buf(o.outputs[0])});", self.kernel)

    def tflm_reference_reliable(self, g, o):
        """TFLite Micro has only float32 kernels: the integer types are checked against TFLite."""
        return ir.tensor(g, o.inputs[0]).dtype == "float32"


@register
class FloorDiv(_FloorOp):
    kind = "FLOOR_DIV"
    fn = "floor_div"
    types = ("float32", "int32", "int8", "int16")       # TFLite's floor_div.cc
    formula = staticmethod(floor_div)


@register
class FloorMod(_FloorOp):
    kind = "FLOOR_MOD"
    fn = "floor_mod"
    types = ("float32", "int32", "int8", "int16", "int64")   # TFLite's floor_mod.cc
    formula = staticmethod(floor_mod)
