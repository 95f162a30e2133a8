"""arm_convk: CONV_2D with few input channels (in_c 1..4: the first layer of an image or
spectrogram model) on Cortex-M cores with the DSP extension (runtime/kernels/arm/tcc_arm_convk.c,
its layout in tcc_arm_convk.h), int8 weights (``arm_convk``) or doubled int16 ones
(``arm_convkw``, where the flash budget buys it).

There K = k_h * k_w * in_c is small (27, 40), so arm_conv8's im2col of every output pixel (its
border cases, the rows' odd bytes) costs as much as the pixel's dot products. Here each input row
is copied once, padded with in_zp, into a ring of rows in the scratch (:func:`geometry`), so a
pixel's field is k_h runs of the ring with no border case, widened a word at a time; the pair
loop (3 pixels x 2 channels, the stream of arm_conv8 with the biases doubled) reads the 3 columns
interleaved through one pointer and keeps the output pointer in a register. The accumulator is
doubled before requantization (tinycc/packing.py's exact scheme) by the columns (int8 weights:
the activations are widened to 2 x) or by the weights (widened: 2 w fits int16), not in the loop.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, packing
from ..ops.conv2d import Conv2D, is_hybrid
from . import Packed, Variant, conv_geometry, register
from .arm_conv import no_clamp
from .arm_conv8 import HEAD_WORDS, TAIL_WORDS, pack_stream

PIX = 3             # output pixels per block (TCC_ARM_CONVK_PIX)
MAX_GROUPS = 10     # TCC_ARM_CONVK_MAX_GROUPS: the groups of 4 reduction values the asm unrolls
MAX_IN_C = 4

# estimated Cortex-M4 cycles (tcc_arm_convk.c's comments, tinycc/cycles.py's model; fitted to
# bench/profile_qemu.py on the shared models' first layers: kws 10x4x1 int8, ic 3x3x3 and vww 3x3x3
# stride 2 widened)
CYCLES_GROUP = {False: 26, True: 24}    # one group of 24 MACs: int8 / widened stream
CYCLES_PAIR = {False: 61, True: 59}     # per channel pair and block: start, entry, requantization,
#                                         stores, loop (int8: the accumulators' start, passes below)
CYCLES_PASS = 6                         # int8 stream: per pass of UNROLL8 groups
UNROLL8 = 5                             # CK_UNROLL8
CYCLES_BLOCK = {False: 255, True: 180}  # per block: the driver (int8 entry compiled for size)
CYCLES_WIDEN_CALL, CYCLES_WIDEN_ROW, CYCLES_WIDEN_TAILS = 28, 4, 14   # ck_widen3: a call, a run, the tails' start
CYCLES_WIDEN_WORD = {False: 28, True: 22}           # a word of the 3 pixels (int8 stream: doubled)
CYCLES_GATHER_CALL, CYCLES_GATHER_ROW, CYCLES_GATHER_BYTE = 25, 4, 10   # ck_gather3
CYCLES_RING_ROW, CYCLES_RING_COPY, CYCLES_RING_FILL = 60, 8, 5      # ring_row: a row, a word copied / filled


@dataclass(frozen=True, eq=False)
class ConvKPacked(Packed):
    """tcc_arm_convk_s8's constants: the stream (tcc_arm_convk.h) and the geometry."""
    impl: ClassVar[str] = "arm_convk"
    stream: np.ndarray
    groups: int
    strip_rows: int
    strip_w: int


@dataclass(frozen=True, eq=False)
class ConvKWPacked(ConvKPacked):
    """tcc_arm_convkw_s8's: the weights as doubled int16 pair words."""
    impl: ClassVar[str] = "arm_convkw"


def pack(weights: np.ndarray, bias, mult, shift, out_zp: int, wide: bool) -> tuple[np.ndarray, int]:
    """(stream, groups) for filter [out_c, k_h, k_w, in_c] int8: arm_conv8's stream (an odd out_c
    with a constant dummy channel last) with the biases doubled, and with ``wide`` the weights;
    PackError where arm_conv8's stream cannot be exact."""
    weights = np.asarray(weights)
    bias, mult, shift = (np.asarray(a, dtype=np.int64).reshape(-1) for a in (bias, mult, shift))
    if weights.shape[0] % 2:
        weights = np.concatenate([weights, np.zeros((1,) + weights.shape[1:], np.int8)])
        bias, mult, shift = np.append(bias, 0), np.append(mult, mult[-1]), np.append(shift, shift[-1])
    pk = pack_stream(weights, bias, mult, shift, out_zp, wide)
    rec = pk.stream.astype(np.int64).reshape(weights.shape[0] // 2, -1)
    rec[:, :HEAD_WORDS] *= 2
    if wide:
        body = np.ascontiguousarray(rec[:, HEAD_WORDS:-TAIL_WORDS] & 0xFFFFFFFF).astype(np.uint32).view(np.int16)
        rec[:, HEAD_WORDS:-TAIL_WORDS] = (body * 2).view(np.int32).reshape(rec.shape[0], -1)   # |2 w| <= 256
    stream = ((rec.reshape(-1) & 0xFFFFFFFF).astype(np.uint32)).view(np.int32)
    return stream, pk.groups


def blocks(out_h: int, out_w: int) -> np.ndarray:
    """[blocks, 3] the output pixels (flat over row and column, one batch) of each block; a short
    last block repeats its last pixel."""
    plane = out_h * out_w
    n = -(-plane // PIX)
    return np.minimum(np.arange(n * PIX), plane - 1).reshape(n, PIX)


def geometry(out_h: int, out_w: int, k_h: int, k_w: int, stride_h: int, stride_w: int) -> tuple[int, int]:
    """(strip_rows, strip_w): the ring's rows (the most padded rows a block's fields span) and
    pixels per padded row (those the fields read)."""
    rows = blocks(out_h, out_w) // out_w
    return int(((rows[:, -1] - rows[:, 0]) * stride_h + k_h).max()), (out_w - 1) * stride_w + k_w


def ring_loads(out_h: int, out_w: int, k_h: int, stride_h: int) -> np.ndarray:
    """Per block, the padded rows copied into the ring before it: [first, end) as [blocks, 2]."""
    hi = blocks(out_h, out_w)[:, -1] // out_w * stride_h + k_h
    ends = np.maximum.accumulate(hi)
    return np.stack([np.concatenate([[0], ends[:-1]]), ends], axis=1)


def scratch_bytes(groups: int, strip_rows: int, strip_w: int, in_c: int, k_h: int, k_w: int, out_c: int) -> int:
    """TCC_ARM_CONVK_SCRATCH: the columns, the rows' tails, the ring and its k_h - 1 mirrored
    rows, an odd out_c's pixels."""
    return (PIX * 8 * groups + PIX * packing.k4(k_h * (k_w * in_c % 4)) + (strip_rows + k_h - 1) * strip_w * in_c
            + (PIX * (out_c + 1) if out_c % 2 else 0))


def reads_min(batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, stride_h, pad_top) -> np.ndarray:
    """A block first copies the image rows the ring lacks (whole rows), then writes all out_c
    values of its pixels: its reads go to its first output element."""
    loads = ring_loads(out_h, out_w, k_h, stride_h)
    first = np.clip(loads[:, 0] - pad_top, 0, None)
    last = np.clip(loads[:, 1] - pad_top, None, in_h)
    plane = out_h * out_w
    r = np.full(batches * plane * out_c, packing.NO_READ, dtype=np.int64)
    starts = blocks(out_h, out_w)[:, 0] * out_c
    for b in range(batches):
        reads = np.where(last > first, (b * in_h + first) * in_w * in_c, packing.NO_READ)
        r[b * plane * out_c + starts] = reads
    return r


def cycles(batches, out_h, out_w, out_c, groups, k_h, k_w, in_c, stride_h, strip_rows, strip_w, pad_left,
           in_w, wide) -> float:
    """Estimated Cortex-M4 cycles of one run: per block the pair loop, the im2col (whole words,
    the rows' gathered tails) and the driver; the rows copied into the ring (and its mirror)."""
    nblocks = -(-out_h * out_w // PIX)
    run = k_w * in_c
    nw, rem = run // 4, run % 4
    pair = CYCLES_PAIR[wide] + CYCLES_GROUP[wide] * groups + (0 if wide else CYCLES_PASS * -(-groups // UNROLL8))
    widen = CYCLES_WIDEN_CALL + (k_h * (CYCLES_WIDEN_ROW + nw * CYCLES_WIDEN_WORD[wide]) if nw else 0)
    if rem:
        widen += (CYCLES_GATHER_CALL + k_h * (CYCLES_GATHER_ROW + rem * CYCLES_GATHER_BYTE) + CYCLES_WIDEN_TAILS
                  + CYCLES_WIDEN_ROW + packing.k4(k_h * rem) // 4 * CYCLES_WIDEN_WORD[wide])
    per_block = (out_c + 1) // 2 * pair + CYCLES_BLOCK[wide] + widen
    rows = int(ring_loads(out_h, out_w, k_h, stride_h)[-1, 1]) * (1 + (k_h - 1) / strip_rows)
    copied = min(in_w, strip_w - pad_left) * in_c
    ring = rows * (CYCLES_RING_ROW + CYCLES_RING_COPY * (copied // 4) + CYCLES_RING_FILL * ((strip_w * in_c - copied) // 4))
    return batches * (nblocks * per_block + ring)


# -- the units ----------------------------------------------------------------------------------

@register
class ArmConvK(Variant):
    name = "arm_convk"
    kinds = (Conv2D.kind,)
    sources = ("arm/tcc_arm_convk",)
    entries = ("tcc_arm_convk_s8",)
    wide = False
    packed = ConvKPacked

    def applies(self, g, o, target):
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        a = o.attrs
        return (not is_hybrid(g, o) and x.dtype == "int8" and w.dtype == "int8" and len(w.shape) == 4
                and w.shape[3] == x.shape[3] <= MAX_IN_C and a["dilation_h"] == a["dilation_w"] == 1
                and packing.k4(int(np.prod(w.shape[1:]))) // 4 <= MAX_GROUPS and no_clamp(o.params.act_range))

    def pack(self, g, o):
        p, a = o.params, o.attrs
        w = ir.tensor(g, o.inputs[1])
        stream, groups = pack(w.data, p.bias, p.mult, p.shift, p.out_zp, self.wide)
        rows, width = geometry(p.out_h, p.out_w, w.shape[1], w.shape[2], a["stride_h"], a["stride_w"])
        return self.packed(stream=stream, groups=groups, strip_rows=rows, strip_w=width)

    def scratch_bytes(self, g, o, pk):
        out_c, k_h, k_w, in_c = ir.tensor(g, o.inputs[1]).shape
        return scratch_bytes(pk.groups, pk.strip_rows, pk.strip_w, in_c, k_h, k_w, out_c)

    def reads_min(self, g, o, slot, pk):
        if slot != 0:
            return None
        p = o.params
        out_c, k_h, _, in_c = ir.tensor(g, o.inputs[1]).shape
        return reads_min(p.batches, p.in_h, p.in_w, in_c, p.out_h, p.out_w, out_c, k_h, o.attrs["stride_h"],
                         p.pad_top)

    def cycles(self, g, o, pk):
        p = o.params
        out_c, k_h, k_w, in_c = ir.tensor(g, o.inputs[1]).shape
        return cycles(p.batches, p.out_h, p.out_w, out_c, pk.groups, k_h, k_w, in_c, o.attrs["stride_h"],
                      pk.strip_rows, pk.strip_w, p.pad_left, p.in_w, self.wide)

    def emit(self, g, o, ctx, pk):
        """The params struct and the call of the unit's entry point."""
        fields = conv_geometry(g, o, dilation=False) + [
            ("groups", pk.groups), ("strip_rows", pk.strip_rows), ("strip_w", pk.strip_w),
            ("stream", ctx.const_array(o, "stream", "int32_t", pk.stream))]
        params = ctx.struct(o, "tcc_arm_convk_params", fields)
        self.call(ctx, o, f"{self.entries[0]}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                          f"{ctx.scratch(o)});")


@register
class ArmConvKW(ArmConvK):
    name = "arm_convkw"
    entries = ("tcc_arm_convkw_s8",)
    wide = True
    packed = ConvKWPacked
