"""arm_lstm_s8, arm_lstm_s16: the integer UNIDIRECTIONAL_SEQUENCE_LSTM for Cortex-M DSP cores
(tcc_arm_lstm_s8 / _s16 in runtime/kernels/arm/tcc_arm_lstm.c), fused per cell: the 4 gates' rows
of a cell summed in one pass with SMLAD on their int8 weights, interleaved here with the biases
(``words8``, ``streams``; the flash of the plain weights), the cell update in registers, every
requantization SMMLAR from per-gate records {mult, add, shift, lshift} (``gate_rq``: the gate
products; ``cell_rq``: the cell update's three). The plain kernel's parameters
(``tcc_lstm_q_params``) without its weights and biases. arm_lstm_w_s8, arm_lstm_w_s16: the same
step with the gates' weights widened to int16 pair words, the 4 gates of a cell as one block of 4
rows (``widened``; tcc_arm_lstm_w_s8 / _s16); chosen first where the flash budget allows."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, packing
from ..ops.lstm import W_IN, W_REC, UnidirectionalSequenceLstm, c_ints
from . import Packed, Variant, plain_flash_bytes, register
from .arm_s16 import k4, pack_rows, pack_words8

MIN_ROW = 8   # shorter rows: the plain kernel (rows of 5-7 ran ~10 % slower in the first DSP kernel)

# Estimated Cortex-M4 cycles, calibrated with tinycc bench on bench/cmsis_nn_reference.py's LSTM
# layers (25 steps, 32 inputs, 32 cells; int8: arm_lstm_w_s8 568k, arm_lstm_s8 582k; 16x8:
# arm_lstm_w_s16 558k, arm_lstm_s16 583k): per gate MAC (the unit's ``mac_cycles``), and per cell
# and step the rest (8 requantizations, 4 sigmoid / tanh, the cell update, the hidden value).
CELL_CYCLES = {"int8": 366, "int16": 373}

PRODUCT_BOUND = 32767 * 32768     # |a * b| of two gate outputs, or of a gate output and the cell state


@dataclass(frozen=True, eq=False)
class ArmLstmPacked(Packed):
    impl: ClassVar[str] = "arm_lstm_s8"
    rq_in: np.ndarray | None = None      # [4, 4] int32 records of the input products
    rq_rec: np.ndarray | None = None     # and of the recurrent products
    rq_cell: np.ndarray | None = None    # [4, 4]: forget x cell, input x cell gate, tanh x output, tanh input
    weights_in: np.ndarray | None = None  # int32 words: per cell the 4 biases, then the gates' weights
    weights_rec: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class ArmLstm16Packed(ArmLstmPacked):
    impl: ClassVar[str] = "arm_lstm_s16"


def rq_records(mults, shifts, bounds, zps=None) -> np.ndarray:
    """[n, 4] int32: per multiplier, ``packing.pack_requant``'s record (output zero point ``zps``,
    default 0) and the left shift (scale_log2) the kernel applies to the sum, for sums up to
    ``bounds``. Raises PackError where the kernel could overflow."""
    recs = []
    for m, sh, bound, zp in zip(mults, shifts, bounds, zps or [0] * len(mults)):
        rq, scale_log2, _ = packing.pack_requant([m], [sh], int(zp), [int(bound)])
        recs.append([*rq[0].tolist(), int(scale_log2[0])])
    return np.asarray(recs, np.int32)


def lstm_rq(weights: list, biases: list, mults, shifts) -> np.ndarray:
    """[4, 4] int32 (``rq_records``): per gate, the record for the largest |sum + bias| of the
    gate's rows (int8 inputs)."""
    bounds = [int(packing.acc_bound(w, np.asarray(b, np.int64)).max()) for w, b in zip(weights, biases)]
    return rq_records(mults, shifts, bounds)


def cell_rq(p) -> np.ndarray:
    """[4, 4] int32: the records of the cell update's requantizations (products of two int16; the
    kernel takes their right shift > 0; the hidden value's with the hidden zero point), and the cell state onto tanh's input {mult, rounding
    constant, shift, 0} (tcc_sigmoid16_scale)."""
    recs = rq_records([p.forget_mult, p.input_mult, p.hidden_mult],
                      [p.forget_shift, p.input_shift, p.hidden_shift], [PRODUCT_BOUND] * 3, [0, 0, p.hidden_zp])
    if (recs[:, 2] <= 0).any():
        raise packing.PackError("the LSTM cell update's requantization has no right shift")
    tanh_round = 1 << (p.tanh_shift - 1) if p.tanh_shift > 0 else 0
    return np.concatenate([recs, np.asarray([[p.tanh_mult, tanh_round, p.tanh_shift, 0]], np.int32)])


def rq64_records(weights: list, biases: list, mults, shifts) -> np.ndarray:
    """[4, 4] int32: per gate, TFLite's int64 requantization (sum * m16 + 2^(t-1)) >> t of the 16x8
    sums as an SMMLAR record {m16 << v, 0, 0, u} (u + v = 32 - t): exact while the sum with its
    bias, shifted left by u, stays in int32. Raises PackError where it may not."""
    recs = []
    for w, b, m, sh in zip(weights, biases, mults, shifts):
        reduced = (int(m) + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF
        t = 15 - int(sh)
        v = min(16, 32 - t)
        u = 32 - t - v
        bound = int((np.abs(w.astype(np.int64)).sum(axis=1) * 32768 + np.abs(np.asarray(b, np.int64))).max())
        if v < 0 or (bound << u) >= 2**31:
            raise packing.PackError(f"a 16x8 gate's sum (bound {bound}) may overflow int32 before its "
                                    f"requantization (shift {t})")
        recs.append([reduced << v, 0, 0, u])
    return np.asarray(recs, np.int32)


def gate_rq(g, o) -> dict:
    """The unit's records: rq_in, rq_rec (int8: ``lstm_rq``; 16x8: ``rq64_records``), rq_cell."""
    p = o.params
    w_in = [ir.tensor(g, o.inputs[s]).data for s in W_IN]
    w_rec = [ir.tensor(g, o.inputs[s]).data for s in W_REC]
    if ir.tensor(g, o.inputs[0]).dtype == "int8":
        rq_in = lstm_rq(w_in, p.bias_in, p.mult_in, p.shift_in)
        rq_rec = lstm_rq(w_rec, p.bias_rec, p.mult_rec, p.shift_rec)
    else:
        zeros = [np.zeros(p.n_cell, np.int64)] * 4
        rq_in = rq64_records(w_in, p.bias_in, p.mult_in, p.shift_in)
        rq_rec = rq64_records(w_rec, zeros, p.mult_rec, p.shift_rec)
    return dict(rq_in=rq_in, rq_rec=rq_rec, rq_cell=cell_rq(p))


def with_biases(blocks: np.ndarray, biases) -> np.ndarray:
    """The weights' blocks (one per cell) each after the 4 gates' biases of that cell (int32: 16x8's
    int64 biases fit, gate_rq checks)."""
    b = np.stack([np.asarray(v, np.int64) for v in biases], axis=1)          # [n_cell, 4]
    return np.concatenate([b.astype(np.int32), blocks.reshape(b.shape[0], -1)], axis=1).reshape(-1)


def words8(weights: list) -> np.ndarray:
    """The 4 gates' int8 [n_cell, K] weights as arm_lstm_s8 / _s16 read them (``pack_words8`` of
    the [4 n_cell, K] matrix of the cells' gate rows, row 4 j + g: gate g's row j): per cell, per
    group of 4 inputs (the last one zero-padded), the 4 gates' words: [n_cell, k4(K)] int32."""
    return pack_words8(np.stack(weights, axis=1).reshape(-1, weights[0].shape[1]))


def streams(g, o, layout) -> dict:
    """The unit's two weight streams (``with_biases`` of ``layout`` of the gates' weights): w_in
    with the input sums' biases, w_rec with the recurrent ones (16x8: none, zeros)."""
    p = o.params
    rec_bias = p.bias_rec if p.bias_rec is not None else [np.zeros(p.n_cell, np.int64)] * 4
    return {k: with_biases(layout([ir.tensor(g, o.inputs[s]).data for s in slots]), b)
            for k, slots, b in (("in", W_IN, p.bias_in), ("rec", W_REC, rec_bias))}


class _ArmLstm(Variant):
    """The gates' weights (``words8``: the int8 weights interleaved) in the C fields ``fields``
    (w8: one stream)."""
    kinds = (UnidirectionalSequenceLstm.kind,)
    sources = ("arm/tcc_arm_lstm",)
    dtype = ""
    packed: type = ArmLstmPacked
    mac_cycles = 0.0
    fields = ("w8",)

    def applies(self, g, o, target):
        return (ir.tensor(g, o.inputs[0]).dtype == self.dtype
                and min(o.params.n_input, o.params.n_cell) >= MIN_ROW)

    def pack(self, g, o):
        """The records and one weight stream: each cell's input block, then its recurrent block."""
        w, n = streams(g, o, words8), o.params.n_cell
        stream = np.concatenate([w["in"].reshape(n, -1), w["rec"].reshape(n, -1)], axis=1).reshape(-1)
        return self.packed(**gate_rq(g, o), weights_in=stream)

    def scratch_bytes(self, g, o, pk):
        """The input and hidden rows' pair words."""
        p = o.params
        return max(UnidirectionalSequenceLstm().scratch_bytes(g, o), 2 * (k4(p.n_input) + k4(p.n_cell)))

    def flash_bytes(self, g, o, pk):
        """The plain kernel's constants but the gates' int8 weights (the unit reads its own), and
        the unit's arrays."""
        dropped = sum(ir.tensor(g, o.inputs[s]).nbytes for s in W_IN + W_REC)
        return plain_flash_bytes(g, o) - dropped + packing.const_bytes(pk)

    def cycles(self, g, o, pk):
        p = o.params
        return p.time * p.batches * p.n_cell * (self.mac_cycles * 4 * (p.n_input + p.n_cell) + CELL_CYCLES[self.dtype])

    def extra_fields(self, o, ctx, pk) -> list:
        """The fields of tcc_lstm_q_params beyond the plain kernel's: the records, the weights."""
        return ([(k, "{" + ", ".join(c_ints(r) for r in getattr(pk, k)) + "}") for k in ("rq_in", "rq_rec", "rq_cell")]
                + [(f, ctx.const_array(o, f, "int32_t", a)) for f, a in zip(self.fields, (pk.weights_in, pk.weights_rec))])

    def emit(self, g, o, ctx, pk):
        op = UnidirectionalSequenceLstm()
        params = ctx.struct(o, "tcc_lstm_q_params", op.q_fields(g, o, ctx, False) + self.extra_fields(o, ctx, pk))
        self.call(ctx, o, op.call(g, o, ctx, self.entries[0], params, "int16_t"))


@register
class ArmLstmS8(_ArmLstm):
    name = "arm_lstm_s8"
    entries = ("tcc_arm_lstm_s8",)
    dtype = "int8"
    mac_cycles = 1.44


@register
class ArmLstmS16(_ArmLstm):
    name = "arm_lstm_s16"
    entries = ("tcc_arm_lstm_s16",)
    dtype = "int16"
    packed = ArmLstm16Packed
    mac_cycles = 1.35


# The widened-weight units (tcc_arm_lstm_w_s8 / _s16): the 4 gates' rows of a cell as one block of
# 4 rows of int16 pair words (arm_s16.pack_rows' layout, even sizes), flash twice the gates' int8
# weights, which they do without.
@dataclass(frozen=True, eq=False)
class ArmLstmWPacked(ArmLstmPacked):
    impl: ClassVar[str] = "arm_lstm_w_s8"


@dataclass(frozen=True, eq=False)
class ArmLstmW16Packed(ArmLstmWPacked):
    impl: ClassVar[str] = "arm_lstm_w_s16"


def widened(weights: list) -> np.ndarray:
    """The 4 gates' weights as arm_lstm_w_* read them: the [4 n_cell, K] matrix of the cells' gate
    rows (row 4 j + g: gate g's row j) in arm_s16.pack_rows' layout, [n_cell, 2 K] int32."""
    return pack_rows(np.stack(weights, axis=1).reshape(-1, weights[0].shape[1])).reshape(len(weights[0]), -1)


class _ArmLstmW(_ArmLstm):
    packed = ArmLstmWPacked
    mac_cycles = 1.31
    fields = ("w16_in", "w16_rec")

    def pack(self, g, o):
        w = streams(g, o, widened)
        return self.packed(**gate_rq(g, o), weights_in=w["in"], weights_rec=w["rec"])

    def applies(self, g, o, target):
        """Even sizes (int16 pair words)."""
        return (ir.tensor(g, o.inputs[0]).dtype == self.dtype and o.params.n_input % 2 == 0
                and o.params.n_cell % 2 == 0)

    def scratch_bytes(self, g, o, pk):
        return UnidirectionalSequenceLstm().scratch_bytes(g, o)


@register
class ArmLstmWS8(_ArmLstmW):
    """The int8 rows widened to int16 once a step into the scratch, then the 16x8 unit's products."""
    name = "arm_lstm_w_s8"
    entries = ("tcc_arm_lstm_w_s8",)
    dtype = "int8"

    def scratch_bytes(self, g, o, pk):
        """The input and hidden rows as int16."""
        p = o.params
        return max(super().scratch_bytes(g, o, pk), 2 * (p.n_cell + p.n_input))


@register
class ArmLstmWS16(_ArmLstmW):
    name = "arm_lstm_w_s16"
    entries = ("tcc_arm_lstm_w_s16",)
    dtype = "int16"
    packed = ArmLstmW16Packed
