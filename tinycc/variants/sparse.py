"""sparse_conv, sparse_fc: CONV_2D and FULLY_CONNECTED (int8) with pruned weights, portable C
(runtime/kernels/tcc_sparse.c), on every target.

A weight tensor with at least half of its values zero (pruned models: TF Model Optimization's
``prune_low_magnitude``, 50-90 % zeros, or 2:4 structured sparsity) keeps only its nonzero
weights: per output channel a count and (step, weight) byte pairs, the step being the distance in
taps from the previous nonzero weight (``entries``). The kernel's loop runs over those entries
only, with the plain kernels' arithmetic, order and requantization, so outputs are bit-exact.
Flash: 2 bytes per nonzero weight and 2 per channel instead of 1 per weight (at 75 % zeros, about
half of the int8 bytes). Chosen by ``pack_weights`` where its estimated cycles win (the plain
kernels' 8.5 cycles per MAC against ``CYCLES_PER_ENTRY`` per nonzero weight); on Cortex-M cores
with the DSP extension the blocked kernel of ``arm_sparse`` is faster still.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, ops
from ..ops.conv2d import Conv2D, is_hybrid
from ..ops.fully_connected import FullyConnected
from ..targets import TARGETS
from . import Packed, Variant, conv_geometry, register

MIN_ZEROS = 0.5          # the share of zero weights from which a sparse layout is considered
MAX_STEP = 255           # a step is one byte

# Estimated Cortex-M4 cycles, fitted to tinycc bench of a generic build of the 75 %-pruned
# DS-CNN-like model of tests/test_sparse.py (its 10x4 and 1x1 convolutions and its FC within 1 %):
# per (step, weight) entry, per output (tcc_requantize with its 64-bit product, clamp, store), per
# conv pixel (the window's copy: per tap, plus a fixed part).
CYCLES_PER_ENTRY = 9
CYCLES_PER_OUTPUT = 130
CYCLES_PER_TAP = 10
CYCLES_PER_PIXEL = 30


def weight_matrix(g, o) -> np.ndarray | None:
    """The op's int8 weights as [out channels][taps] (model order), or None when the op is not an
    int8 CONV_2D (groups == 1) / FULLY_CONNECTED with constant int8 weights."""
    x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
    if x.dtype != "int8" or w.dtype != "int8" or not w.is_const or is_hybrid(g, o):
        return None
    if o.kind == Conv2D.kind and w.shape[3] != x.shape[3]:
        return None
    return w.data.reshape(w.shape[0], -1)


def is_sparse(w2d: np.ndarray | None) -> bool:
    """At least ``MIN_ZEROS`` of the weights are zero (a 2:4 pattern has exactly half)."""
    return w2d is not None and w2d.size > 0 and np.count_nonzero(w2d) <= (1 - MIN_ZEROS) * w2d.size


def entries(w2d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(count uint16 [channels], entries uint8 [2 * total]): per channel its nonzero weights as
    (step, weight) pairs, a gap over ``MAX_STEP`` taps bridged by entries of weight 0."""
    counts, out = [], []
    for row in np.asarray(w2d, np.int8):
        prev, n = 0, 0
        for k in np.flatnonzero(row):
            while k - prev > MAX_STEP:
                out += [MAX_STEP, 0]
                prev, n = prev + MAX_STEP, n + 1
            out += [int(k - prev), int(row[k]) & 0xFF]
            prev, n = int(k), n + 1
        counts.append(n)
    return np.array(counts, np.uint16), np.array(out, np.uint8)


def decode(count: np.ndarray, pairs: np.ndarray, taps: int) -> np.ndarray:
    """The dense int8 matrix back from ``entries`` (tests)."""
    w = np.zeros((count.size, taps), np.int8)
    e = 0
    for c, n in enumerate(count):
        k = 0
        for _ in range(int(n)):
            k += int(pairs[2 * e])
            w[c, k] += np.uint8(pairs[2 * e + 1]).view(np.int8)     # bridging entries add 0
            e += 1
    return w


@dataclass(frozen=True, eq=False)
class SparsePacked(Packed):
    """tcc_sparse_*: entries per channel and the (step, weight) pairs."""
    impl: ClassVar[str] = "sparse_conv"
    count: np.ndarray
    pairs: np.ndarray


@dataclass(frozen=True, eq=False)
class SparseFcPacked(SparsePacked):
    impl: ClassVar[str] = "sparse_fc"


def requant_fields(ctx, o) -> list:
    """The plain kernels' requantization fields (the zero-point-folded bias, mult, shift)."""
    p = o.params
    return [("bias", ctx.const_array(o, "bias", "int32_t", p.bias)),
            ("mult", ctx.const_array(o, "mult", "int32_t", p.mult)),
            ("shift", ctx.const_array(o, "shift", "int32_t", p.shift))]


class _Sparse(Variant):
    """What the two portable units share."""
    stores_less = True
    targets = TARGETS
    needs_optimize = None
    sources = ("tcc_sparse",)
    packed = SparsePacked
    weight_encoding = "sparse"          # the memory report's name for the layout

    def applies(self, g, o, target):
        return is_sparse(weight_matrix(g, o))

    def pack(self, g, o):
        return self.packed(*entries(weight_matrix(g, o)))

    def flash_bytes(self, g, o, pk):
        """The entries and counts, and the plain kernel's bias, mult and shift (int32 each)."""
        return pk.count.nbytes + pk.pairs.nbytes + 12 * o.params.bias.size

    def weight_code(self, g, o, pk):
        return self.weight_encoding, pk.count.nbytes + pk.pairs.nbytes

    def decodes(self):
        return True

    def reads_min(self, g, o, slot, pk):
        """The plain kernel's order (a conv pixel's window is read before its outputs are stored)."""
        return ops.lookup(o.kind).reads_min(g, o, slot)


@register
class SparseConv(_Sparse):
    name = "sparse_conv"
    kinds = (Conv2D.kind,)
    entries = ("tcc_sparse_conv_s8",)

    def scratch_bytes(self, g, o, pk):
        _, k_h, k_w, k_c = ir.tensor(g, o.inputs[1]).shape
        return k_h * k_w * k_c

    def cycles(self, g, o, pk):
        p = o.params
        _, k_h, k_w, k_c = ir.tensor(g, o.inputs[1]).shape
        pixels = p.batches * p.out_h * p.out_w
        return pixels * (CYCLES_PER_ENTRY * int(pk.count.sum()) + CYCLES_PER_OUTPUT * pk.count.size
                         + CYCLES_PER_TAP * k_h * k_w * k_c + CYCLES_PER_PIXEL)

    def emit(self, g, o, ctx, pk):
        p = o.params
        fields = conv_geometry(g, o) + [
            ("out_zp", p.out_zp), ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
            ("count", ctx.const_array(o, "count", "uint16_t", pk.count)),
            ("entries", ctx.const_array(o, "entries", "uint8_t", pk.pairs))] + requant_fields(ctx, o)
        params = ctx.struct(o, "tcc_sparse_conv_s8_params", fields)
        self.call(ctx, o, f"tcc_sparse_conv_s8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                          f"{ctx.scratch(o)});")


@register
class SparseFc(_Sparse):
    name = "sparse_fc"
    kinds = (FullyConnected.kind,)
    entries = ("tcc_sparse_fc_s8",)
    packed = SparseFcPacked

    def cycles(self, g, o, pk):
        p = o.params
        return p.batches * (CYCLES_PER_ENTRY * int(pk.count.sum()) + CYCLES_PER_OUTPUT * pk.count.size)

    def emit(self, g, o, ctx, pk):
        p = o.params
        fields = [("batches", p.batches), ("in_depth", p.in_depth), ("out_depth", p.out_depth),
                  ("out_zp", p.out_zp), ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                  ("count", ctx.const_array(o, "count", "uint16_t", pk.count)),
                  ("entries", ctx.const_array(o, "entries", "uint8_t", pk.pairs))] + requant_fields(ctx, o)
        params = ctx.struct(o, "tcc_sparse_fc_s8_params", fields)
        self.call(ctx, o, f"tcc_sparse_fc_s8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});")
