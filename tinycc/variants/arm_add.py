"""arm_add, arm_add_lin: int8 ADD of two same-shape tensors through per-input tables
(runtime/kernels/arm/tcc_arm_add.c).

* ``arm_add`` (``tcc_arm_add_s8``): each input byte indexes a table of its rescaled value, the sum
  is requantized once (``packing.pack_add``);
* ``arm_add_lin`` (``tcc_arm_add_s8_lin``): the output as SSAT(sum >> 20) of two tables, when
  ``linear_tables`` finds such tables, checked on all 65,536 pairs of input bytes (the
  requantization of the sum is a step function of it that one scale and one offset reproduce;
  the offset comes from the intervals every pair allows). No multiply, no shift by a register:
  8.8 cycles per element instead of 13 (18 before the asm loops)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, packing
from ..ops.add import LEFT_SHIFT_INT8, Add
from ..packing import PackError
from . import Variant, register

LIN_SHIFT = 20               # TCC_ARM_ADD_LIN_SHIFT
LIN_CYCLES_PER_ELEMENT = 9   # tcc_arm_add_s8_lin: ic_resnet8_int8's ADDs (no clamp) measure 8.8


@dataclass(frozen=True, eq=False)
class ArmAddLin(packing.ArmAdd):
    """tcc_arm_add_s8_lin: ``table`` holds the two linear tables (``rq`` unused)."""
    impl: ClassVar[str] = "arm_add_lin"


def linear_tables(table: np.ndarray, rq: np.ndarray) -> np.ndarray | None:
    """Tables u (int32 [512]) with ssat8((u[a] + u[256 + b]) >> LIN_SHIFT) equal to what
    tcc_arm_add_s8 outputs (``packing.requant_fast`` of table[a] + table[256 + b]) for every pair of
    input bytes, or None. u = the tables scaled by the requantization's slope (rounded), the second
    one plus an offset taken from the intersection of the offsets each pair allows."""
    t1, t2 = (np.asarray(table[i:i + 256], dtype=np.int64) for i in (0, 256))
    want = packing.requant_fast(t1[:, None] + t2[None, :], np.asarray(rq, dtype=np.int64))
    m, s = int(rq[0]), int(rq[2])
    sh = 32 + s - LIN_SHIFT                      # the slope m / 2^(32 + s), in units of 2^-LIN_SHIFT
    if sh < 1:
        return None
    u1, u2 = ((t * m + (1 << (sh - 1))) >> sh for t in (t1, t2))
    sums = u1[:, None] + u2[None, :]
    big = 1 << 62
    lo = np.where(want > -128, (want << LIN_SHIFT) - sums, -big).max()
    hi = np.where(want < 127, ((want + 1) << LIN_SHIFT) - 1 - sums, big).min()
    if lo > hi:
        return None
    u2 = u2 + (lo + hi) // 2
    lim = 1 << 30                                # |u| < 2^30: the sums fit int32
    u1, u2 = np.clip(u1, -lim, lim - 1), np.clip(u2, -lim, lim - 1)
    got = np.clip((u1[:, None] + u2[None, :]) >> LIN_SHIFT, -128, 127)
    if not np.array_equal(got, want):
        return None
    return np.concatenate([u1, u2]).astype(np.int32)

# tinycc bench, cortex-m4 estimated cycles per element
CYCLES_PER_ELEMENT = 13      # tcc_arm_add_s8 (asm loop): ic_resnet8_int8's ADDs with a clamp, 12.8
PLAIN_CYCLES_PER_ELEMENT = 161   # tcc_add_s8 (broadcast loops, two requantizations): tests/zoo/add_int8.tflite


def applies(g, o) -> bool:
    a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
    return y.dtype == "int8" and a.shape == b.shape and not a.is_const and not b.is_const


@register
class ArmAdd(Variant):
    name = "arm_add"
    kinds = (Add.kind,)
    sources = ("arm/tcc_arm_add",)
    entries = ("tcc_arm_add_s8",)

    def applies(self, g, o, target):
        return applies(g, o)

    def pack(self, g, o):
        p = o.params
        pk = packing.pack_add(p.offsets[0], p.offsets[1], LEFT_SHIFT_INT8, *p.in1, *p.in2, *p.out, p.offsets[2])
        return packing.ArmAdd(size=ir.tensor(g, o.outputs[0]).size, **pk)

    def cycles(self, g, o, pk):
        return CYCLES_PER_ELEMENT * pk.size

    def plain_cycles(self, g, o):
        return PLAIN_CYCLES_PER_ELEMENT * ir.tensor(g, o.outputs[0]).size

    def reads_min(self, g, o, slot, pk):
        """Element i of each input is read right before output element i is written."""
        return packing.reads_min_add(pk.size)

    def emit(self, g, o, ctx, pk):
        self.emit_call(g, o, ctx, pk, "tcc_arm_add_s8")

    def emit_call(self, g, o, ctx, pk, fn: str):
        p = o.params
        rq = "{" + ", ".join(str(int(v)) for v in pk.rq) + "}"
        fields = [("size", pk.size), ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                  ("table", ctx.const_array(o, "table", "int32_t", pk.table)), ("rq", rq)]
        params = ctx.struct(o, "tcc_arm_add_s8_params", fields)
        a, b = (ctx.buf(t) for t in o.inputs)
        self.call(ctx, o, f"{fn}(&{params}, {a}, {b}, {ctx.buf(o.outputs[0])});")


@register
class ArmAddLinear(ArmAdd):
    name = "arm_add_lin"
    entries = ("tcc_arm_add_s8_lin",)

    def pack(self, g, o):
        pk = super().pack(g, o)
        u = linear_tables(pk.table, pk.rq)
        if u is None:
            raise PackError("ADD: no linear tables reproduce the requantization")
        return ArmAddLin(table=u, rq=pk.rq, size=pk.size)

    def cycles(self, g, o, pk):
        return LIN_CYCLES_PER_ELEMENT * pk.size

    def emit(self, g, o, ctx, pk):
        self.emit_call(g, o, ctx, pk, "tcc_arm_add_s8_lin")
