"""arm_lstm_s8, arm_lstm_s16: the integer UNIDIRECTIONAL_SEQUENCE_LSTM with SMLAD gate products, two
weight rows at a time, on the int8 weights as they are (tcc_arm_lstm_s8 / _s16 in
runtime/kernels/arm/tcc_arm_lstm.c); the rest of the step is the plain kernel's (tcc_lstm_q.h), with
its parameters (``tcc_lstm_q_params``) and scratch. int8 also requantizes the gate products with
SMMLAR: per gate, records {mult, add, shift, lshift} (``lstm_rq``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, packing
from ..ops.lstm import W_IN, W_REC, UnidirectionalSequenceLstm, c_ints
from . import Packed, Variant, register

MIN_ROW = 8   # rows of 5-7 elements run ~10 % slower than in the plain loop (QEMU, cortex-m4)


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

    def extra_fields(self, pk) -> list:
        return []

    def emit(self, g, o, ctx, pk):
        op = UnidirectionalSequenceLstm()
        params = ctx.struct(o, "tcc_lstm_q_params", op.q_fields(g, o, ctx) + self.extra_fields(pk))
        self.call(ctx, o, op.call(g, o, ctx, self.entries[0], params, "int16_t"))


@register
class ArmLstmS8(_ArmLstm):
    name = "arm_lstm_s8"
    entries = ("tcc_arm_lstm_s8",)
    dtype = "int8"
    cycles_per_mac = 5.0   # QEMU instructions: 0.60 of the plain kernel's on a 2-layer 32-cell model

    def pack(self, g, o):
        p = o.params
        return ArmLstmPacked(
            rq_in=lstm_rq([ir.tensor(g, o.inputs[s]).data for s in W_IN], p.bias_in, p.mult_in, p.shift_in),
            rq_rec=lstm_rq([ir.tensor(g, o.inputs[s]).data for s in W_REC], p.bias_rec, p.mult_rec, p.shift_rec))

    def extra_fields(self, pk):
        return [(k, "{" + ", ".join(c_ints(r) for r in getattr(pk, k)) + "}") for k in ("rq_in", "rq_rec")]


@register
class ArmLstmS16(_ArmLstm):
    name = "arm_lstm_s16"
    entries = ("tcc_arm_lstm_s16",)
    dtype = "int16"
    cycles_per_mac = 6.0   # QEMU instructions: 0.73 of the plain kernel's on a 2-layer 32-cell model

    def pack(self, g, o):
        """Every gate row's product must fit the int32 SMLAD sums: 32768 * sum |w| < 2^31."""
        rows = [np.abs(ir.tensor(g, o.inputs[s]).data.astype(np.int64)).sum(axis=1) for s in W_IN + W_REC]
        if max(int(r.max()) for r in rows) * 32768 >= 2**31:
            raise packing.PackError("a 16x8 gate row's product may overflow int32")
        return ArmLstm16Packed()
