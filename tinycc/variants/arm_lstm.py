"""arm_lstm_s8, arm_lstm_s16: the integer UNIDIRECTIONAL_SEQUENCE_LSTM with SMLAD gate products, two
weight rows at a time, on the int8 weights as they are (tcc_arm_lstm_s8 / _s16 in
runtime/kernels/arm/tcc_arm_lstm.c); the rest of the step is the plain kernel's (tcc_lstm_q.h), with
its parameters (``tcc_lstm_q_params``) and scratch. int8 also requantizes the gate products with
SMMLAR: per gate, records {mult, add, shift, lshift} (``lstm_rq``). arm_lstm_w_s8, arm_lstm_w_s16:
the same step with the gates' weights widened to int16 pair words (tcc_arm_lstm_w_s8 / _s16),
4 rows at a time; chosen first where the flash budget allows."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, packing
from ..ops.lstm import W_IN, W_REC, UnidirectionalSequenceLstm, c_ints
from . import Packed, Variant, register
from .arm_s16 import pack_groups4, pack_rows

MIN_ROW = 8   # rows of 5-7 elements run ~10 % slower than in the plain loop (QEMU, cortex-m4)

# Estimated Cortex-M4 cycles, calibrated with tinycc bench on bench/cmsis_nn_reference.py's LSTM
# layers (25 steps, 32 inputs, 32 cells; int8: arm_lstm_s8 1,257k, arm_lstm_w_s8 969k; 16x8:
# arm_lstm_s16 1,481k, arm_lstm_w_s16 1,034k): per gate MAC (the unit's ``mac_cycles``), and per
# cell and step the rest (the rows' requantizations, the gates' sigmoid / tanh, the cell update:
# the plain step of tcc_lstm_q.h, most of the time with widened weights).
CELL_CYCLES = {"int8": 834, "int16": 934}


@dataclass(frozen=True, eq=False)
class ArmLstmPacked(Packed):
    impl: ClassVar[str] = "arm_lstm_s8"
    rq_in: np.ndarray | None = None      # int8: [4, 4] int32 records of the input products
    rq_rec: np.ndarray | None = None     # and of the recurrent products


@dataclass(frozen=True, eq=False)
class ArmLstm16Packed(Packed):
    impl: ClassVar[str] = "arm_lstm_s16"


def lstm_rq(weights: list, biases: list, mults, shifts) -> np.ndarray:
    """[4, 4] int32: per gate, ``packing.pack_requant``'s record (output zero point 0) and the left
    shift (scale_log2) the kernel applies to the sum, for the largest |sum + bias| of the gate's rows
    (int8 inputs). Raises PackError where the kernel could overflow."""
    recs = []
    for w, b, m, sh in zip(weights, biases, mults, shifts):
        bound = int(packing.acc_bound(w, np.asarray(b, np.int64)).max())
        rq, scale_log2, _ = packing.pack_requant([m], [sh], 0, [bound])
        recs.append([*rq[0].tolist(), int(scale_log2[0])])
    return np.asarray(recs, np.int32)


class _ArmLstm(Variant):
    kinds = (UnidirectionalSequenceLstm.kind,)
    sources = ("arm/tcc_arm_lstm",)
    dtype = ""

    def applies(self, g, o, target):
        return (ir.tensor(g, o.inputs[0]).dtype == self.dtype
                and min(o.params.n_input, o.params.n_cell) >= MIN_ROW)

    def scratch_bytes(self, g, o, pk):
        return UnidirectionalSequenceLstm().scratch_bytes(g, o)

    mac_cycles = 0.0

    def cycles(self, g, o, pk):
        p = o.params
        return p.time * p.batches * p.n_cell * (self.mac_cycles * 4 * (p.n_input + p.n_cell) + CELL_CYCLES[self.dtype])

    def extra_fields(self, o, ctx, pk) -> list:
        """The fields of tcc_lstm_q_params beyond the plain kernel's."""
        return []

    def emit(self, g, o, ctx, pk):
        op = UnidirectionalSequenceLstm()
        params = ctx.struct(o, "tcc_lstm_q_params", op.q_fields(g, o, ctx) + self.extra_fields(o, ctx, pk))
        self.call(ctx, o, op.call(g, o, ctx, self.entries[0], params, "int16_t"))


@register
class ArmLstmS8(_ArmLstm):
    name = "arm_lstm_s8"
    entries = ("tcc_arm_lstm_s8",)
    dtype = "int8"
    mac_cycles = 2.88

    def pack(self, g, o):
        p = o.params
        return ArmLstmPacked(
            rq_in=lstm_rq([ir.tensor(g, o.inputs[s]).data for s in W_IN], p.bias_in, p.mult_in, p.shift_in),
            rq_rec=lstm_rq([ir.tensor(g, o.inputs[s]).data for s in W_REC], p.bias_rec, p.mult_rec, p.shift_rec))

    def extra_fields(self, o, ctx, pk):
        return [(k, "{" + ", ".join(c_ints(r) for r in getattr(pk, k)) + "}") for k in ("rq_in", "rq_rec")]


@register
class ArmLstmS16(_ArmLstm):
    name = "arm_lstm_s16"
    entries = ("tcc_arm_lstm_s16",)
    dtype = "int16"
    mac_cycles = 3.58

    def pack(self, g, o):
        """Every gate row's product must fit the int32 SMLAD sums: 32768 * sum |w| < 2^31."""
        rows = [np.abs(ir.tensor(g, o.inputs[s]).data.astype(np.int64)).sum(axis=1) for s in W_IN + W_REC]
        if max(int(r.max()) for r in rows) * 32768 >= 2**31:
            raise packing.PackError("a 16x8 gate row's product may overflow int32")
        return ArmLstm16Packed()


# The widened-weight units (tcc_arm_lstm_w_s8 / _s16): gate products 4 rows at a time on int16
# pair words (16x8: arm_s16.pack_rows' layout, even sizes; int8: pack_groups4's, sizes
# divisible by 4), flash twice the gates' weights, no scratch beyond the plain kernel's.
@dataclass(frozen=True, eq=False)
class ArmLstmWPacked(ArmLstmPacked):
    impl: ClassVar[str] = "arm_lstm_w_s8"
    w16_in: tuple = ()       # per gate, int32 pair words
    w16_rec: tuple = ()


@dataclass(frozen=True, eq=False)
class ArmLstmW16Packed(ArmLstmWPacked):
    impl: ClassVar[str] = "arm_lstm_w_s16"


class _ArmLstmW(_ArmLstm):
    base: type = _ArmLstm
    mac_cycles = 1.4

    def applies(self, g, o, target):
        return (ir.tensor(g, o.inputs[0]).dtype == self.dtype and o.params.n_input % 2 == 0
                and o.params.n_cell % 2 == 0)

    def widened(self, g, o, layout=pack_rows) -> dict:
        """The gates' weights widened in ``layout`` (arm_s16.pack_rows; int8: pack_groups4)."""
        return {k: tuple(layout(ir.tensor(g, o.inputs[s]).data) for s in slots)
                for k, slots in (("w16_in", W_IN), ("w16_rec", W_REC))}

    def flash_bytes(self, g, o, pk):
        return sum(int(a.nbytes) for a in (*pk.w16_in, *pk.w16_rec)) + super().flash_bytes(g, o, pk)

    def extra_fields(self, o, ctx, pk):
        return self.base.extra_fields(self, o, ctx, pk) + [
            (k, "{" + ", ".join(ctx.const_array(o, f"{k}_{n}", "int32_t", a) for n, a in enumerate(getattr(pk, k)))
             + "}") for k in ("w16_in", "w16_rec")]


@register
class ArmLstmWS8(_ArmLstmW):
    name = "arm_lstm_w_s8"
    entries = ("tcc_arm_lstm_w_s8",)
    dtype = "int8"
    base = ArmLstmS8

    def applies(self, g, o, target):
        """int8 rows in groups of 4 (SXTB16 widens the activations in registers)."""
        return (ir.tensor(g, o.inputs[0]).dtype == self.dtype and o.params.n_input % 4 == 0
                and o.params.n_cell % 4 == 0)

    def pack(self, g, o):
        rq = ArmLstmS8().pack(g, o)
        return ArmLstmWPacked(rq_in=rq.rq_in, rq_rec=rq.rq_rec, **self.widened(g, o, pack_groups4))


@register
class ArmLstmWS16(_ArmLstmW):
    name = "arm_lstm_w_s16"
    entries = ("tcc_arm_lstm_w_s16",)
    dtype = "int16"
    base = ArmLstmS16

    def pack(self, g, o):
        ArmLstmS16().pack(g, o)          # the int32 sums' check
        return ArmLstmW16Packed(**self.widened(g, o))
