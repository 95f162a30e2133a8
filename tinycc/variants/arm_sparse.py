"""arm_sparse: CONV_2D (int8) with pruned weights on Cortex-M cores with the DSP extension
(runtime/kernels/arm/tcc_arm_sparse.c, its stream in tcc_arm_sparse.h).

Blocks of 8 output pixels: their receptive fields are widened once to int16, tap-major, in the
scratch; each output channel then runs over its nonzero weights only, two to an entry word
(byte distance to the tap, weight), each weight loaded once for the 8 pixels (one SMLAxy per
pixel). Requantization is the exact SMMLAR scheme of tinycc/packing.py on the accumulator times
2^(left + 1). Flash: 2 bytes per nonzero weight (rounded up to whole pairs of words per channel)
and 4 words per channel, so at 75 % zeros about 0.6 of the int8 weights. ``pack_weights`` picks it
over the dense arm_conv8 only where ``cycles`` says it wins: its loop takes about 2.3 cycles per
nonzero MAC against arm_conv8's 1.1 per MAC, but each output costs about 30 cycles (requantization
with 8 accumulators live), so it wins on wide layers (e.g. 128 input channels at 75 % zeros: 0.65 x
arm_conv8's cycles) and loses on narrow ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, ops, packing
from ..ops.conv2d import Conv2D
from ..packing import PackError
from . import Packed, Variant, named, register
from .arm_conv8 import Conv8Packed
from .sparse import is_sparse, weight_matrix

PIX = 8                  # TCC_ARM_SPARSE_PIX
HEAD = 4                 # TCC_ARM_SPARSE_HEAD
TAP_BYTES = 2 * PIX      # a tap's 8 int16 activations in the scratch
MAX_GAP = 255 // TAP_BYTES     # taps an entry's byte distance can reach

# Estimated Cortex-M4 cycles, fitted to tinycc bench on the 75 %-pruned MobileNet-like model of
# tests/test_sparse.py (its six convolutions, within 1 %): per entry word (2 nonzero weights x 8
# pixels; the asm's count is about 35), per channel and block (the head, the registers gcc saves
# around the asm, 8 requantizations, clamps and stores), per tap of a pixel's field (im2col: a
# pointwise layer's rows, or the general loops), per block.
CYCLES_WORD = 37
CYCLES_CHANNEL = 250
CYCLES_TAP = 23
CYCLES_TAP_POINTWISE = 8
CYCLES_BLOCK = 180


@dataclass(frozen=True, eq=False)
class SparsePacked(Packed):
    """tcc_arm_sparse_conv_s8's stream (tcc_arm_sparse.h) and its entry words per channel."""
    impl: ClassVar[str] = "arm_sparse"
    stream: np.ndarray
    words: np.ndarray
    nonzero: int


def channel_words(row: np.ndarray) -> list[int]:
    """A channel's entry words: its nonzero weights as (byte distance, weight) entries, gaps over
    ``MAX_GAP`` taps bridged by entries of weight 0, an odd last one paired with (0, 0)."""
    ent, prev = [], 0
    for k in np.flatnonzero(row):
        while k - prev > MAX_GAP:
            ent.append((MAX_GAP * TAP_BYTES, 0))
            prev += MAX_GAP
        ent.append(((int(k) - prev) * TAP_BYTES, int(row[k]) & 0xFF))
        prev = int(k)
    ent += [(0, 0)] * (len(ent) % 2)
    return [d0 | w0 << 8 | d1 << 16 | w1 << 24 for (d0, w0), (d1, w1) in zip(ent[::2], ent[1::2])]


def pack_stream(w2d: np.ndarray, bias, mult, shift, out_zp: int) -> SparsePacked:
    """The stream for weights [out_c][taps] int8 and the zero-point-folded bias; PackError when
    the kernel cannot be exact (a non-constant channel without a right shift, an accumulator
    bound that overflows once scaled)."""
    w2d = np.asarray(w2d, np.int8)
    b64 = np.asarray(bias, np.int64).reshape(-1)
    zero = ~np.any(w2d != 0, axis=1)
    const_acc = [int(b) if z else None for b, z in zip(b64, zero)]
    rq, scale_log2, const = packing.pack_requant(mult, shift, out_zp, packing.acc_bound(w2d, b64), const_acc)
    if np.any(~const & (rq[:, 2] == 0)):
        raise PackError("arm_sparse: a non-constant channel without a right shift")
    stream, words = [], []
    for c, row in enumerate(w2d):
        ws = [] if const[c] else channel_words(row)
        meta = len(ws) | int(scale_log2[c]) << 16 | int(rq[c, 2]) << 24
        stream += [0 if const[c] else int(b64[c]), int(rq[c, 0]), int(rq[c, 1]), meta] + ws
        words.append(len(ws))
    s = np.array(stream, np.int64)
    return SparsePacked(stream=((s & 0xFFFFFFFF).astype(np.uint32)).view(np.int32),
                        words=np.array(words, np.int64), nonzero=int(np.count_nonzero(w2d)))


def cycles(pixels: int, words: np.ndarray, taps: int, pointwise: bool) -> float:
    """Estimated Cortex-M4 cycles of one run."""
    blocks = (pixels + PIX - 1) // PIX
    tap = CYCLES_TAP_POINTWISE if pointwise else CYCLES_TAP
    return blocks * (CYCLES_WORD * int(words.sum()) + CYCLES_CHANNEL * words.size + PIX * tap * taps + CYCLES_BLOCK)


def reads_min(g, o) -> np.ndarray:
    """Blocks of 8 pixels: a block reads its fields, then writes all their outputs (the plain
    kernel's per-pixel first reads, the least of each block at its first output)."""
    r = ops.lookup(o.kind).reads_min(g, o, 0).reshape(-1, ir.tensor(g, o.outputs[0]).shape[3])
    first = r[:, 0].copy()
    r[:, 0] = packing.NO_READ
    r[::PIX, 0] = np.minimum.reduceat(first, np.arange(0, first.size, PIX))
    return r.ravel()


@dataclass(frozen=True, eq=False)
class DenseFallback(Conv8Packed):
    """arm_sparse's second packing: the layer on arm_conv8 (dense, less scratch), emitted by that
    unit. pack_weights steps an op down to the next packing of its list when the first one's
    scratch does not fit the arena's budget, and the list it keeps after spending the flash holds
    only the packings of units it charged code for; without this entry a pruned layer whose
    sparse scratch does not fit would fall back to the plain kernel rather than arm_conv8."""
    impl: ClassVar[str] = "arm_sparse"


def _dense(pk) -> Variant | None:
    """arm_conv8 for the fallback packing (it answers every question about it), else None."""
    return named("arm_conv8") if isinstance(pk, DenseFallback) else None


@register
class ArmSparse(Variant):
    name = "arm_sparse"
    kinds = (Conv2D.kind,)
    sources = ("arm/tcc_arm_sparse",)
    stores_less = True                # pruned / clustered weights stored in fewer bytes
    entries = ("tcc_arm_sparse_conv_s8",)

    def applies(self, g, o, target):
        return is_sparse(weight_matrix(g, o))

    def pack(self, g, o):
        p = o.params
        return pack_stream(weight_matrix(g, o), p.bias, p.mult, p.shift, p.out_zp)

    def packs(self, g, o):
        """The sparse stream, then arm_conv8's packing where that unit applies (``DenseFallback``)."""
        out = [self.pack(g, o)]
        dense = named("arm_conv8")
        if dense.applies(g, o, g.graph.get("target")):
            try:
                out.append(DenseFallback(**vars(dense.pack(g, o))))
            except PackError:
                pass
        return out

    def scratch_bytes(self, g, o, pk):
        if _dense(pk):
            return _dense(pk).scratch_bytes(g, o, pk)
        _, k_h, k_w, in_c = ir.tensor(g, o.inputs[1]).shape
        return TAP_BYTES * k_h * k_w * in_c

    def reads_min(self, g, o, slot, pk):
        if _dense(pk):
            return _dense(pk).reads_min(g, o, slot, pk)
        return reads_min(g, o) if slot == 0 else None

    def flash_bytes(self, g, o, pk):
        """The stream (the words per channel are the compiler's)."""
        return pk.stream.nbytes

    def cycles(self, g, o, pk):
        if _dense(pk):
            return _dense(pk).cycles(g, o, pk)
        p = o.params
        _, k_h, k_w, in_c = ir.tensor(g, o.inputs[1]).shape
        pw = k_h == k_w == 1 and o.attrs["stride_h"] == o.attrs["stride_w"] == 1 and p.pad_top == p.pad_left == 0
        return cycles(p.batches * p.out_h * p.out_w, pk.words, k_h * k_w * in_c, pw)

    def weight_code(self, g, o, pk):
        """The entry words (the heads are the plain kernel's bias, mult and shift, and one word)."""
        if _dense(pk):
            return "arm_conv8 layout", pk.stream.nbytes
        return "sparse8", 4 * int(pk.words.sum())

    def decodes(self):
        return True

    def emit(self, g, o, ctx, pk):
        if _dense(pk):
            return _dense(pk).emit(g, o, ctx, pk)
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        out_c, k_h, k_w, _ = w.shape
        fields = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("in_c", x.shape[3]),
                  ("out_h", p.out_h), ("out_w", p.out_w), ("out_c", out_c), ("k_h", k_h), ("k_w", k_w),
                  ("stride_h", a["stride_h"]), ("stride_w", a["stride_w"]),
                  ("dil_h", a["dilation_h"]), ("dil_w", a["dilation_w"]),
                  ("pad_top", p.pad_top), ("pad_left", p.pad_left), ("in_zp", p.in_zp),
                  ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                  ("stream", ctx.const_array(o, "stream", "int32_t", pk.stream))]
        params = ctx.struct(o, "tcc_arm_sparse_conv_params", fields)
        self.call(ctx, o, f"tcc_arm_sparse_conv_s8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                          f"(int16_t *){ctx.scratch(o)});")
