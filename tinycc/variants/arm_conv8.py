"""arm_conv8: CONV_2D on Cortex-M cores with the DSP extension, int8 weights read from flash
(runtime/kernels/arm/tcc_arm_conv8.c, its layouts in tcc_arm_conv8.h).

Blocks of 3 output pixels x 2 output channels: the 3 receptive fields are widened into int16
pair words (im2col, scratch; the asm reads pixel q's column q * step bytes after pixel 0's), each
stream word holds 2 weights of each channel of the pair, widened by SXTB16 in the loop and shared
by the 3 pixels (26 cycles per 24 MACs). Layers whose kernel rows overlap (stride_h < k_h, e.g.
3x3 stride 1 or 2: :func:`band`) go 3 output rows at a time, column by column (6, 2 blocks, where
the strip fits the scratch: 3x3 stride 1): the vertically adjacent fields are one strip of
k_h + 2 stride_h input rows (k_h + 5 stride_h for 2 blocks), widened once (5 rows instead of 9
for a 3x3 stride 1, 8 instead of 18), which changes the write order (:func:`block_order`,
:func:`reads_min`).

The stream holds the model's weights as int8 (reordered by channel pairs, zero-padded to whole
groups of 4) and 3 words per output channel (bias, multiplier and the rounding constant that
also tells the shift), so it takes the plain kernel's flash. Requantization is the exact SMMLAR
scheme of tinycc/packing.py on the doubled accumulator (``add acc, acc, acc`` instead of weights pre-scaled by 2): the
variant applies when every non-constant channel has a right shift (``left == 0``, so the scale
is 2 for all) and ``packing.pack_requant`` proves |2 acc| < 2^31. A constant channel (multiplier
0) gets zero weights and bias, so its accumulator is 0 and the asm's ``acc >> 31`` is 0.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, packing
from ..ops.conv2d import Conv2D, is_hybrid
from ..packing import PackError
from . import Packed, Variant, conv_geometry, register
from .arm_conv import no_clamp, pointwise

PIX = 3             # output pixels per block (TCC_ARM_CONV8_PIX)
HEAD_WORDS, TAIL_WORDS = 2, 4   # tcc_arm_conv8_head, tcc_arm_conv8_tail (int32 words)
UNROLL = 18         # C8_UNROLL: groups per pass of the asm loop
ROWS_PART = "ARM_CONV8_ROWS"    # tcc_arm_conv8.c's optional part: the fields of layers with in_c % 4 != 0

# estimated Cortex-M4 cycles (tcc_arm_conv8.c's comments, tinycc/cycles.py's model; checked with
# bench/bench_conv8.py on the shared models' layers)
CYCLES_GROUP = 26               # one group: 24 MACs
CYCLES_PAIR = 8 + 39 + 11 + 3 - 2   # per channel pair and block: start and entry; requantization,
#                                     stores, end test; the last pass's check falls through
CYCLES_PASS = 6                 # per pass of UNROLL groups after a pair's first group (at least one check)
CYCLES_BLOCK = 80               # per block: the driver's loop (compiled for size) and the call of the pair loop
CYCLES_WIDEN_WORD = 6           # im2col: one word of 4 activations (a band's strip, a field)
CYCLES_FLAT = 30                # per flat block (not a band's) beyond CYCLES_BLOCK: the driver's tests
CYCLES_ROW1 = 60                # and for a layer of one kernel row (not pointwise) the fields' addresses
CYCLES_FIELD, CYCLES_ROW = 60, 25   # im2col of a field or strip (not pointwise): each, per input row
CYCLES_ROW_BYTES = 93           # per kernel row of a field when in_c % 4 != 0: field_rows (compiled for size),
CYCLES_ROW_BYTES3 = 23          # or field3_rows (3 fields inside a row; :func:`inside_share`)


@dataclass(frozen=True, eq=False)
class Conv8Packed(Packed):
    """tcc_arm_conv8_s8's constants: the stream (tcc_arm_conv8.h) and its group count; ``band``
    the params' band (:func:`band`: 2 the fastest; 1 writes less far ahead of its reads)."""
    impl: ClassVar[str] = "arm_conv8"
    stream: np.ndarray
    groups: int
    band: int = 0


@dataclass(frozen=True, eq=False)
class Conv8WPacked(Conv8Packed):
    """tcc_arm_conv8w_s8's constants: the stream with the weights as int16 pair words."""
    impl: ClassVar[str] = "arm_conv8w"


def applies(x: ir.Tensor, w: ir.Tensor, act_range) -> bool:
    """int8 activations and weights, groups == 1, out_c even, no activation clamp."""
    return (x.dtype == "int8" and w.dtype == "int8" and len(w.shape) == 4 and w.shape[3] == x.shape[3]
            and w.shape[0] % 2 == 0 and no_clamp(act_range))


def pack_stream(weights: np.ndarray, bias, mult, shift, out_zp: int, wide: bool = False) -> Conv8Packed:
    """The stream of tcc_arm_conv8_s8 (``wide``: tcc_arm_conv8w_s8, the weights as int16 pair
    words) for filter [out_c, k_h, k_w, in_c] int8 (out_c even), the zero-point-folded int32
    bias and TFLite's per-channel (mult, shift); PackError when the kernel cannot be exact (a
    left shift or shift 0 on a non-constant channel, an accumulator bound over 2^30)."""
    weights = np.asarray(weights)
    if weights.ndim != 4 or weights.dtype != np.int8 or weights.shape[0] % 2:
        raise PackError("conv8 weights must be int8 [out_c, k_h, k_w, in_c] with out_c even")
    out_c = weights.shape[0]
    w2d = weights.reshape(out_c, -1)
    b64 = np.asarray(bias, dtype=np.int64).reshape(-1)
    zero = ~np.any(w2d != 0, axis=1)
    const_acc = [int(b) if z else None for b, z in zip(b64, zero)]
    rq, scale_log2, const = packing.pack_requant(mult, shift, out_zp, packing.acc_bound(w2d, b64), const_acc)
    live = ~const
    if np.any(live & ((scale_log2 != 1) | (rq[:, 2] == 0))):
        raise PackError("conv8: a non-constant channel without a right shift")
    k = w2d.shape[1]
    w2d = w2d[:, packing.conv_k_order(*weights.shape[1:])]
    groups = packing.k4(k) // 4
    wp = np.zeros((out_c, 4 * groups), dtype=np.int8)
    wp[:, :k] = np.where(const[:, None], 0, w2d)
    wg = wp.reshape(out_c // 2, 2, groups, 4)
    if wide:    # per channel pair and group: the pair words (a0, a2), (b0, b2), (a1, a3), (b1, b3)
        inter = np.stack([wg[:, 0, :, [0, 2]], wg[:, 1, :, [0, 2]], wg[:, 0, :, [1, 3]], wg[:, 1, :, [1, 3]]],
                         axis=-1).astype(np.int16)                # [half, pair, g, word]
        words = np.ascontiguousarray(inter.transpose(1, 2, 3, 0)).view(np.int32).reshape(out_c // 2, 4 * groups)
    else:       # per channel pair and group: the words (a0, b0, a2, b2) and (a1, b1, a3, b3), first byte low
        inter = np.stack([wg[:, 0, :, [0, 1]], wg[:, 1, :, [0, 1]], wg[:, 0, :, [2, 3]], wg[:, 1, :, [2, 3]]],
                         axis=-1)                                 # [j, pair, g, byte]
        words = np.ascontiguousarray(inter.transpose(1, 2, 0, 3)).view(np.int32).reshape(out_c // 2, 2 * groups)
    words = words.astype(np.int64)
    b0 = np.where(const, 0, b64)
    # (mult, add): the shift is 1 + the trailing zeros of add = (2 zp + 1) << (shift - 1); a
    # constant channel's output v as (0, 2 v + 1), shift 1
    rqs = rq[:, :2].astype(np.int64).copy()
    rqs[const, 1] = 2 * rqs[const, 1] + 1
    pairs = []
    for c in range(0, out_c, 2):
        pairs.append(np.concatenate([b0[c:c + 2], words[c // 2], rqs[c], rqs[c + 1]]))
    stream = np.concatenate(pairs)
    return (Conv8WPacked if wide else Conv8Packed)(stream=((stream & 0xFFFFFFFF).astype(np.uint32)).view(np.int32),
                                                  groups=groups)


def use_parts(ctx, in_c: int) -> None:
    """Keep the optional part of tcc_arm_conv8.c a layer on ``in_c`` input channels needs (the
    fields of layers with in_c % 4 != 0: 1.4 KB of code a build without such a layer leaves out)."""
    if in_c % 4:
        ctx.use(ROWS_PART)


def scratch_bytes(groups: int, k_h: int, k_w: int, in_c: int) -> int:
    """TCC_ARM_CONV8_SCRATCH: the 3 columns (8 * groups bytes each); when in_c % 4 != 0 also a
    kernel row and 3 pixels' row tails."""
    run = k_w * in_c
    return 3 * 8 * groups + (packing.k4(run) + 3 * packing.k4(k_h * (run % 4)) if in_c % 4 else 0)


def band(in_c: int, k_h: int, stride_h: int, dil_h: int) -> int:
    """The params' ``band``: 0, or how many blocks of 3 output rows go at a time, column by
    column (their vertically adjacent fields share input rows, widened once as a strip of
    k_h + (3 band - 1) stride_h rows): 2 where that strip fits the scratch's 3 columns (3 k_h
    kernel rows), else 1."""
    if not (in_c % 4 == 0 and dil_h == 1 and stride_h < k_h):
        return 0
    return 2 if k_h + (2 * PIX - 1) * stride_h <= PIX * k_h else 1


def strips(out_h: int, banded: int) -> list[tuple[int, int]]:
    """(first output row, blocks) of each strip of the band (tcc_arm_conv8_s8's loop)."""
    out, oy = [], 0
    while banded and (out_h - oy) // PIX > 0:
        nb = min(banded, (out_h - oy) // PIX)
        out.append((oy, nb))
        oy += PIX * nb
    return out


def block_order(batches: int, out_h: int, out_w: int, banded: int) -> np.ndarray:
    """[blocks, 3] the output pixels (flat over batch, row, column) of each block, in the order
    tcc_arm_conv8_s8 computes them; a short block repeats its last pixel."""
    out = []
    for b in range(batches):
        base = b * out_h * out_w
        rows = out_h // PIX * PIX if banded else 0
        for oy, nb in strips(out_h, banded):
            y = oy + np.arange(PIX * nb).reshape(1, nb, PIX)                 # [1, block, q]
            x = np.arange(out_w)[:, None, None]                               # [column, 1, 1]
            out.append((base + y * out_w + x).reshape(-1, PIX))
        rest = base + np.arange(rows * out_w, out_h * out_w)
        if rest.size:
            n = (rest.size + PIX - 1) // PIX
            idx = np.minimum(np.arange(n * PIX), rest.size - 1)
            out.append(rest[idx].reshape(n, PIX))
    return np.concatenate(out)


def reads_min(batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, stride_h, stride_w,
              pad_top, pad_left, dil_h=1, dil_w=1, banded=None) -> np.ndarray:
    """Block by block (:func:`block_order`), a block reads the windows of its pixels, then writes
    all their out_c values. The writes are not in the order of the output's elements (a band
    writes 3 rows column by column): overlap.shift_from_reads bounds a write of element k by the
    reads after it through reads_min[k + 1], so that entry gets the lowest input element the
    blocks after k's block read."""
    first = packing._window_first_index(batches, in_h, in_w, in_c, out_h, out_w, stride_h, stride_w,
                                        pad_top, pad_left, k_h, k_w, dil_h, dil_w).reshape(-1)
    order = block_order(batches, out_h, out_w, band(in_c, k_h, stride_h, dil_h) if banded is None else banded)
    reads = first[order].min(axis=1)                                   # per block, in time order
    later = np.append(np.minimum.accumulate(reads[::-1])[::-1][1:], packing.NO_READ)
    npix = first.size
    r = np.full(npix * out_c + 1, packing.NO_READ, dtype=np.int64)
    elem = order[:, :, None] * out_c + np.arange(out_c)[None, None, :]   # [block, q, channel]
    np.minimum.at(r, (elem + 1).reshape(-1), np.repeat(later, PIX * out_c))
    return r[:-1]


def widen_cycles(words: int, rows: int) -> int:
    """widen_rows (tcc_arm_conv8.c) widening ``rows`` runs of ``words`` words: 48 cycles per 8
    words, 26 for 4 left over, 11 per word left then, 10 per run, 24 per call (fitted on
    bench/bench_conv8.py)."""
    return 24 + rows * (10 + 48 * (words // 8) + 26 * (words % 8 // 4) + 11 * (words % 4))


def cycles(batches: int, out_h: int, out_w: int, out_c: int, groups: int, k_h: int, k_w: int, in_c: int,
           stride_h: int, pointwise: bool, banded: int, group_cycles: int = CYCLES_GROUP,
           inside: float = 0.0, pair_cycles: int = CYCLES_PAIR) -> float:
    """Estimated Cortex-M4 cycles of one run (the asm's counts; im2col by the words it widens,
    its fields and their kernel rows; ``inside``: :func:`inside_share`)."""
    passes = max(1, (groups - 1 + UNROLL - 1) // UNROLL)
    per_block = out_c // 2 * (pair_cycles + group_cycles * groups + CYCLES_PASS * passes) + CYCLES_BLOCK
    band_rows = out_h // PIX * PIX if banded else 0
    band_blocks = band_rows // PIX * out_w
    flat_blocks = -(-(out_h - band_rows) * out_w // PIX)
    band_fields = sum(out_w * ((k_h + (PIX * nb - 1) * stride_h) * (CYCLES_ROW + k_w * in_c // 4 * CYCLES_WIDEN_WORD)
                               + CYCLES_FIELD) for _, nb in strips(out_h, banded))
    if pointwise:
        flat_field = widen_cycles(PIX * groups, 1) + CYCLES_FLAT
    elif k_h == 1 and in_c % 4 == 0:    # 3 runs of k_w taps (row1)
        flat_field = widen_cycles(k_w * in_c // 4, PIX) + CYCLES_FLAT + CYCLES_ROW1
    else:
        row = CYCLES_ROW + (inside * CYCLES_ROW_BYTES3 + (1 - inside) * CYCLES_ROW_BYTES if in_c % 4 else 0)
        flat_field = PIX * (groups * CYCLES_WIDEN_WORD + CYCLES_FIELD + row * k_h)
    return batches * (band_blocks * per_block + band_fields + flat_blocks * (per_block + flat_field))


def inside_share(in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w, pad_top, pad_left, dil_h,
                 dil_w) -> float:
    """About the share of the flat blocks whose 3 fields lie inside one row of the image
    (tcc_arm_conv8_s8's field3_rows when in_c % 4 != 0): the output rows whose fields lie inside
    vertically times the columns from which 3 fields do horizontally."""
    if dil_w != 1:
        return 0.0
    y_last, x_last = in_h - 1 - (k_h - 1) * dil_h, in_w - k_w - 2 * stride_w
    rows = sum(1 for y in range(out_h) if 0 <= y * stride_h - pad_top <= y_last)
    cols = sum(1 for x in range(out_w - 2) if 0 <= x * stride_w - pad_left <= x_last)
    return rows / out_h * cols / out_w


def reference(pk: Conv8Packed, cols: np.ndarray, out_c: int) -> np.ndarray:
    """What the kernel computes from the im2col'd fields ``cols`` [pixels, K] int8 (padded taps
    = in_zp, in ``packing.conv_k_order``): [pixels, out_c] int8, from the stream alone (tests)."""
    g = pk.groups
    gw = 4 if pk.impl == Conv8WPacked.impl else 2                 # stream words per group
    s = np.asarray(pk.stream, dtype=np.int64).reshape(out_c // 2, HEAD_WORDS + gw * g + TAIL_WORDS)
    x = np.zeros((cols.shape[0], 4 * g), dtype=np.int64)
    x[:, :cols.shape[1]] = cols
    words = np.ascontiguousarray(s[:, HEAD_WORDS:HEAD_WORDS + gw * g] & 0xFFFFFFFF).astype(np.uint32)
    if gw == 4:
        hw = words.view(np.int16).reshape(out_c // 2, g, 2, 2, 2)   # [pair, g, odd, channel, lane]
        w = hw.transpose(0, 3, 1, 4, 2).reshape(out_c, 4 * g).astype(np.int64)   # k = 4g + 2 lane + odd
    else:
        by = words.view(np.int8).reshape(out_c // 2, g, 2, 2, 2)    # [pair, g, word, hi, channel]
        w = by.transpose(0, 4, 1, 3, 2).reshape(out_c, 4 * g).astype(np.int64)   # k = 4g + 2 hi + word
    bias = s[:, :HEAD_WORDS].reshape(out_c)
    tail = s[:, HEAD_WORDS + gw * g:].reshape(out_c, 2)
    low = tail[:, 1] & -tail[:, 1]                              # the lowest set bit of add
    rq = np.stack([tail[:, 0], tail[:, 1], np.log2(low).astype(np.int64) + 1], axis=1)
    acc = (2 * (x @ w.T + bias[None, :])) & 0xFFFFFFFF
    acc = np.where(acc >= 2**31, acc - 2**32, acc)
    return packing.requant_fast(acc, rq[None, :, :]).astype(np.int8)


# -- the unit -----------------------------------------------------------------------------------

@register
class ArmConv8(Variant):
    name = "arm_conv8"
    kinds = (Conv2D.kind,)
    sources = ("arm/tcc_arm_conv8",)
    entries = ("tcc_arm_conv8_s8",)
    wide = False                    # the stream's weights: int8 (tcc_arm_conv8_s8) or int16 pair words
    group_cycles = CYCLES_GROUP
    pair_cycles = CYCLES_PAIR

    def applies(self, g, o, target):
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        return not is_hybrid(g, o) and applies(x, w, o.params.act_range)

    def pack(self, g, o):
        p, a = o.params, o.attrs
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        pk = pack_stream(w.data, p.bias, p.mult, p.shift, p.out_zp, self.wide)
        return dataclasses.replace(pk, band=band(x.shape[3], w.shape[1], a["stride_h"], a["dilation_h"]))

    def packs(self, g, o):
        """Strips of 2 blocks, then (writing less far ahead of the reads, so the output can
        overlap more of the input: pack_weights steps down to it when the arena is over budget)
        strips of 1."""
        pk = self.pack(g, o)
        return [pk, dataclasses.replace(pk, band=1)] if pk.band == 2 else [pk]

    def scratch_bytes(self, g, o, pk):
        _, k_h, k_w, in_c = ir.tensor(g, o.inputs[1]).shape
        return scratch_bytes(pk.groups, k_h, k_w, in_c)

    def reads_min(self, g, o, slot, pk):
        if slot != 0:
            return None
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        return reads_min(p.batches, p.in_h, p.in_w, x.shape[3], p.out_h, p.out_w, w.shape[0], w.shape[1],
                         w.shape[2], a["stride_h"], a["stride_w"], p.pad_top, p.pad_left, a["dilation_h"],
                         a["dilation_w"], pk.band)

    def cycles(self, g, o, pk):
        p, a = o.params, o.attrs
        out_c, k_h, k_w, _ = ir.tensor(g, o.inputs[1]).shape
        in_c = ir.tensor(g, o.inputs[0]).shape[3]
        pw = pointwise(k_h, k_w, a["stride_h"], a["stride_w"], p.pad_top, p.pad_left) and in_c % 4 == 0
        inside = inside_share(p.in_h, p.in_w, p.out_h, p.out_w, k_h, k_w, a["stride_h"], a["stride_w"], p.pad_top,
                              p.pad_left, a["dilation_h"], a["dilation_w"])
        return cycles(p.batches, p.out_h, p.out_w, out_c, pk.groups, k_h, k_w, in_c, a["stride_h"], pw,
                      pk.band, self.group_cycles, inside, self.pair_cycles)

    def emit(self, g, o, ctx, pk):
        """The params struct and the call of tcc_arm_conv8_s8."""
        fields = conv_geometry(g, o) + [("groups", pk.groups), ("band", pk.band),
                                        ("stream", ctx.const_array(o, "stream", "int32_t", pk.stream))]
        params = ctx.struct(o, "tcc_arm_conv8_params", fields)
        use_parts(ctx, ir.tensor(g, o.inputs[0]).shape[3])
        self.call(ctx, o, f"{self.entries[0]}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                          f"{ctx.scratch(o)});")
