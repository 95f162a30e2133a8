"""arm_sparse: CONV_2D (int8) with pruned weights on Cortex-M cores with the DSP extension
(runtime/kernels/arm/tcc_arm_sparse.c, its stream in tcc_arm_sparse.h).

Blocks of 8 output pixels (4 pairs; 4 pixels, 2 pairs, where the scratch of 8 does not fit the
arena's budget): their receptive fields are packed once into the scratch as pair words
x[2j] + x[2j + 1] * 2^23, tap-major; each output channel then runs over its nonzero weights only,
two to an entry word (byte distance to the tap, weight), each weight applied to the block's pair
words by one SMLAL each (two pixels' products in one 64-bit accumulator, 23-bit fields read
back exactly). Requantization is arm_conv8's exact SMMLAR scheme on the doubled accumulator
(its tcc_arm_conv8_tail records: tinycc/packing.py's pack_requant with a scale of 2). Flash:
2 bytes per nonzero weight (whole words of two) and 4 words per channel, so at 75 % zeros about
0.6 of the int8 weights. ``pack_weights`` picks it over the dense arm_conv8 only where
``cycles`` says it wins: about 1.6 cycles per nonzero MAC (8 pixels; 1.75 for 4) against
arm_conv8's 1.1-1.3 per MAC, plus about 13 (17.5) per output for the channel's start,
requantization and stores, and the packing of the fields.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, ops, packing
from ..ops.conv2d import Conv2D
from ..ops.depthwise_conv2d import DepthwiseConv2D
from ..packing import PackError
from . import Packed, Variant, conv_geometry, named, register
from .arm_conv import no_clamp, pointwise
from .arm_conv8 import Conv8Packed
from .sparse import is_sparse, weight_matrix

UNROLL = 16                     # TCC_ARM_SPARSE_UNROLL: entry words per pass
WORD_BYTES = {4: 84, 2: 52}     # TCC_ARM_SPARSE_WORD_BYTES4 / 2: code bytes of an entry word
FIELD = 23                      # a pair word's second pixel at 2^23; each sum within +-2^22
HALF = 1 << (FIELD - 1)
MARKER = 0xFFFFFFFF             # between two passes of a channel's words (no entry word: distances < 255)

# Estimated Cortex-M4 cycles (tcc_arm_sparse.c's asm, tinycc/cycles.py's timings; fitted to
# tinycc bench on the pruned models of scripts/make_pruned.py), by pairs per block: per entry
# word, per pass of the unrolled loop after the first, per channel and block (start,
# requantization, stores), per block (the driver, the call), per tap and pixel of the packing,
# and per kernel row and pixel of a layer that is not pointwise (the pointwise layers of both
# models within 2 %; the first layers: MobileNet-like within 1 %, DS-CNN-like, most fields at a
# border, 10 % under).
CYCLES_WORD = {4: 25, 2: 14}
CYCLES_PASS = 7         # the marker: compare, branch, load, branch back
CYCLES_CHANNEL = {4: 104, 2: 70}
CYCLES_BLOCK = {4: 400, 2: 200}
CYCLES_TAP = 3.5
CYCLES_ROW = 85


@dataclass(frozen=True, eq=False)
class SparsePacked(Packed):
    """tcc_arm_sparse_conv_s8's stream (tcc_arm_sparse.h), its entry words per channel, the
    pairs of pixels per block."""
    impl: ClassVar[str] = "arm_sparse"
    stream: np.ndarray
    words: np.ndarray
    nonzero: int
    pairs: int


def channel_words(row: np.ndarray, tap_bytes: int) -> list[int]:
    """A channel's entry words: its nonzero weights as (byte distance, weight) entries, gaps over
    255 bytes bridged by entries of weight 0, an odd last one paired with (0, 0)."""
    gap = 255 // tap_bytes
    ent, prev = [], 0
    for k in np.flatnonzero(row):
        while k - prev > gap:
            ent.append((gap * tap_bytes, 0))
            prev += gap
        ent.append(((int(k) - prev) * tap_bytes, int(row[k]) & 0xFF))
        prev = int(k)
    ent += [(0, 0)] * (len(ent) % 2)
    return [d0 | w0 << 8 | d1 << 16 | w1 << 24 for (d0, w0), (d1, w1) in zip(ent[::2], ent[1::2])]


def entry_offset(words: int, pairs: int) -> int:
    """The byte offset in the unrolled loop where a channel of ``words`` entry words enters (its
    first pass runs the words left over by the whole passes; none: straight to the end)."""
    first = words - UNROLL * ((words - 1) // UNROLL) if words else 0
    return (UNROLL - first) * WORD_BYTES[pairs]


def pack_stream(w2d: np.ndarray, bias, mult, shift, out_zp: int, pairs: int = 4) -> SparsePacked:
    """The stream for weights [out_c][taps] int8 and the zero-point-folded bias; PackError when
    the kernel cannot be exact (a non-constant channel without a right shift or with a left
    one, a sum that may leave its 23-bit field, an accumulator bound that overflows doubled)."""
    w2d = np.asarray(w2d, np.int8)
    b64 = np.asarray(bias, np.int64).reshape(-1)
    zero = ~np.any(w2d != 0, axis=1)
    const_acc = [int(b) if z else None for b, z in zip(b64, zero)]
    bound = packing.acc_bound(w2d, b64)
    if np.any(bound - np.abs(b64) >= HALF):
        raise PackError("arm_sparse: a channel's sum may leave its 23-bit field")
    rq, scale_log2, const = packing.pack_requant(mult, shift, out_zp, bound + HALF, const_acc)
    if np.any(~const & ((scale_log2 != 1) | (rq[:, 2] == 0))):
        raise PackError("arm_sparse: a non-constant channel without a right shift")
    stream, words = [], []
    for c, row in enumerate(w2d):
        ws = [] if const[c] else channel_words(row, 4 * pairs)
        first = len(ws) - UNROLL * ((len(ws) - 1) // UNROLL) if ws else 0
        passes = [ws[:first]] + [ws[k:k + UNROLL] for k in range(first, len(ws), UNROLL)]
        ent = sum(([MARKER] + p for p in passes[1:]), passes[0])     # a marker before each further pass
        if 4 * len(ent) > 0xFFFF:
            raise PackError("arm_sparse: a channel of more than 16,383 entry words")
        meta = 4 * len(ent) | entry_offset(len(ws), pairs) << 16
        add = 2 * int(rq[c, 1]) + 1 if const[c] else int(rq[c, 1])
        shift = 0 if const[c] else int(rq[c, 2]) - 1
        stream += [meta] + ent + [2 * ((0 if const[c] else int(b64[c])) - HALF), int(rq[c, 0]), add, shift]
        words.append(len(ws))
    s = np.array(stream, np.int64)
    return SparsePacked(stream=((s & 0xFFFFFFFF).astype(np.uint32)).view(np.int32),
                        words=np.array(words, np.int64), nonzero=int(np.count_nonzero(w2d)), pairs=pairs)


def cycles(pixels: int, words: np.ndarray, k_h: int, taps: int, pointwise: bool, pairs: int) -> float:
    """Estimated Cortex-M4 cycles of one run (``taps``: k_h * k_w * in_c)."""
    blocks = -(-pixels // (2 * pairs))
    passes = np.maximum(0, (words - 1) // UNROLL)
    field = CYCLES_TAP * taps + (0 if pointwise else CYCLES_ROW * k_h)
    return blocks * (CYCLES_WORD[pairs] * int(words.sum()) + CYCLES_PASS * int(passes.sum())
                     + CYCLES_CHANNEL[pairs] * words.size + 2 * pairs * field + CYCLES_BLOCK[pairs])


def reads_min(g, o, pix: int) -> np.ndarray:
    """Blocks of ``pix`` pixels: a block reads its fields, then writes all their outputs (the
    plain kernel's per-pixel first reads, the least of each block at its first output)."""
    r = ops.lookup(o.kind).reads_min(g, o, 0).reshape(-1, ir.tensor(g, o.outputs[0]).shape[3])
    first = r[:, 0].copy()
    r[:, 0] = packing.NO_READ
    r[::pix, 0] = np.minimum.reduceat(first, np.arange(0, first.size, pix))
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
        return no_clamp(o.params.act_range) and is_sparse(weight_matrix(g, o))

    def pack(self, g, o, pairs: int = 4):
        p = o.params
        return pack_stream(weight_matrix(g, o), p.bias, p.mult, p.shift, p.out_zp, pairs)

    def packs(self, g, o):
        """The sparse stream by blocks of 8 pixels, of 4 (half the scratch), then arm_conv8's
        packing where that unit applies (``DenseFallback``)."""
        out = [self.pack(g, o, 4), self.pack(g, o, 2)]
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
        return 4 * pk.pairs * k_h * k_w * in_c

    def reads_min(self, g, o, slot, pk):
        if _dense(pk):
            return _dense(pk).reads_min(g, o, slot, pk)
        return reads_min(g, o, 2 * pk.pairs) if slot == 0 else None

    def flash_bytes(self, g, o, pk):
        """The stream (the words per channel are the compiler's)."""
        return pk.stream.nbytes

    def cycles(self, g, o, pk):
        if _dense(pk):
            return _dense(pk).cycles(g, o, pk)
        p = o.params
        _, k_h, k_w, in_c = ir.tensor(g, o.inputs[1]).shape
        pw = pointwise(k_h, k_w, o.attrs["stride_h"], o.attrs["stride_w"], p.pad_top, p.pad_left)
        return cycles(p.batches * p.out_h * p.out_w, pk.words, k_h, k_h * k_w * in_c, pw, pk.pairs)

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
        fields = conv_geometry(g, o) + [("pairs", pk.pairs), ("stream_words", pk.stream.size),
                                        ("stream", ctx.const_array(o, "stream", "int32_t", pk.stream))]
        params = ctx.struct(o, "tcc_arm_sparse_conv_params", fields)
        self.call(ctx, o, f"tcc_arm_sparse_conv_s8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                          f"(int32_t *){ctx.scratch(o)});")


# arm_sparse_dw: DEPTHWISE_CONV_2D with pruned weights (tcc_arm_sparse_dw_s8). Estimated Cortex-M4
# cycles, fitted to tinycc bench on the depthwise layers of scripts/make_pruned.py's 75 %-pruned
# models (within 4 %): per output, per nonzero tap of an output, per byte of a channel's plane
# copied from the input, per channel, per output row of a channel, per byte of the plane filled
# once per call. (gcc keeps the taps and both outputs' offsets in registers only for few taps:
# about 7 cycles per tap against arm_dw8's 3.4 per MAC, so it wins where the weights are very
# sparse or the dense kernels' scratch does not fit.)
DW_CYCLES_OUTPUT = 3.1
DW_CYCLES_TAP = 7.1
DW_CYCLES_COPY = 6.4
DW_CYCLES_CHANNEL = 172
DW_CYCLES_ROW = 69
DW_CYCLES_FILL = 0.3


@dataclass(frozen=True, eq=False)
class SparseDwPacked(Packed):
    """tcc_arm_sparse_dw_s8's stream (tcc_arm_sparse.h), its nonzero taps per channel and plane."""
    impl: ClassVar[str] = "arm_sparse_dw"
    stream: np.ndarray
    taps: np.ndarray
    plane_h: int
    plane_w: int


def dw_plane(p, a, k_h: int, k_w: int) -> tuple[int, int]:
    """The padded plane the outputs' windows cover: (rows, columns)."""
    return ((p.out_h - 1) * a["stride_h"] + (k_h - 1) * a["dilation_h"] + 1,
            (p.out_w - 1) * a["stride_w"] + (k_w - 1) * a["dilation_w"] + 1)


def pack_dw(w: np.ndarray, bias, mult, shift, out_zp: int, plane_w: int, dil_h: int, dil_w: int):
    """(stream, taps per channel) for a depthwise filter [1, k_h, k_w, C] int8; PackError when the
    kernel cannot be exact (a non-constant channel without a right shift, a doubled accumulator
    bound over 2^31)."""
    _, k_h, k_w, chans = w.shape
    w2d = np.asarray(w, np.int8).reshape(k_h * k_w, chans).T
    b64 = np.asarray(bias, np.int64).reshape(-1)
    zero = ~np.any(w2d != 0, axis=1)
    const_acc = [int(b) if z else None for b, z in zip(b64, zero)]
    rq, scale_log2, const = packing.pack_requant(mult, shift, out_zp, packing.acc_bound(w2d, b64), const_acc)
    if np.any(~const & ((scale_log2 != 1) | (rq[:, 2] == 0))):
        raise PackError("arm_sparse_dw: a non-constant channel without a right shift")
    offsets = [ky * dil_h * plane_w + kx * dil_w for ky in range(k_h) for kx in range(k_w)]
    if max(offsets) > 0xFFFF:
        raise PackError("arm_sparse_dw: a tap more than 65,535 bytes into the plane")
    stream, taps = [], []
    for c, row in enumerate(w2d):
        nz = [] if const[c] else np.flatnonzero(row)
        tw = [(2 * int(row[k])) << 16 | offsets[k] for k in nz]
        add = 2 * int(rq[c, 1]) + 1 if const[c] else int(rq[c, 1])
        stream += [len(tw)] + tw + [0 if const[c] else 2 * int(b64[c]), int(rq[c, 0]), add]
        taps.append(len(tw))
    s = np.array(stream, np.int64)
    return ((s & 0xFFFFFFFF).astype(np.uint32)).view(np.int32), np.array(taps, np.int64)


def dw_cycles(batches, in_h, in_w, out_h, out_w, pad_top, pad_left, plane_h, plane_w, taps: np.ndarray) -> float:
    """Estimated Cortex-M4 cycles of one run."""
    rows = min(plane_h, pad_top + in_h) - max(0, pad_top)
    cols = min(plane_w, pad_left + in_w) - max(0, pad_left)
    per_batch = (taps.size * (DW_CYCLES_CHANNEL + DW_CYCLES_COPY * rows * cols + DW_CYCLES_OUTPUT * out_h * out_w
                              + DW_CYCLES_ROW * out_h) + DW_CYCLES_TAP * out_h * out_w * int(taps.sum()))
    return batches * per_batch + DW_CYCLES_FILL * plane_h * plane_w


@register
class ArmSparseDw(Variant):
    name = "arm_sparse_dw"
    kinds = (DepthwiseConv2D.kind,)
    sources = ("arm/tcc_arm_sparse",)
    stores_less = True
    entries = ("tcc_arm_sparse_dw_s8",)

    def applies(self, g, o, target):
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        if not (x.dtype == w.dtype == "int8" and w.is_const and o.params.depth_mult == 1
                and no_clamp(o.params.act_range)):
            return False
        return is_sparse(w.data.reshape(-1, w.shape[3]).T)

    def pack(self, g, o):
        w, p, a = ir.tensor(g, o.inputs[1]), o.params, o.attrs
        plane_h, plane_w = dw_plane(p, a, w.shape[1], w.shape[2])
        stream, taps = pack_dw(w.data, p.bias, p.mult, p.shift, p.out_zp, plane_w, a["dilation_h"], a["dilation_w"])
        return SparseDwPacked(stream=stream, taps=taps, plane_h=plane_h, plane_w=plane_w)

    def scratch_bytes(self, g, o, pk):
        return pk.plane_h * pk.plane_w

    def overlap(self, g, o, slot, pk):
        """The plain kernel's rule: channel c's whole input plane is read before its outputs."""
        return ops.lookup(o.kind).overlap(g, o, slot)

    def flash_bytes(self, g, o, pk):
        return pk.stream.nbytes

    def cycles(self, g, o, pk):
        p = o.params
        return dw_cycles(p.batches, p.in_h, p.in_w, p.out_h, p.out_w, p.pad_top, p.pad_left, pk.plane_h,
                         pk.plane_w, pk.taps)

    def weight_code(self, g, o, pk):
        """The tap words (the rest is the plain kernel's bias, mult and shift, and one word)."""
        return "sparse dw", 4 * int(pk.taps.sum())

    def decodes(self):
        return True

    def emit(self, g, o, ctx, pk):
        x, p, a = ir.tensor(g, o.inputs[0]), o.params, o.attrs
        fields = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("channels", x.shape[3]),
                  ("out_h", p.out_h), ("out_w", p.out_w), ("stride_h", a["stride_h"]), ("stride_w", a["stride_w"]),
                  ("pad_top", p.pad_top), ("pad_left", p.pad_left), ("in_zp", p.in_zp),
                  ("plane_h", pk.plane_h), ("plane_w", pk.plane_w),
                  ("stream", ctx.const_array(o, "stream", "int32_t", pk.stream))]
        params = ctx.struct(o, "tcc_arm_sparse_dw_params", fields)
        self.call(ctx, o, f"tcc_arm_sparse_dw_s8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                          f"(int8_t *){ctx.scratch(o)});")
