"""Compressed weights (tinycc/compress.py) on Cortex-M DSP cores: runtime/kernels/arm/tcc_arm_palette.c.

The portable decoding kernels (tcc_compressed.c) cost ~8-40 cycles per MAC on a Cortex-M4;
these keep the weights compressed in flash and decode them into a small scratch:

  * CONV_2D that arm_conv8 runs exactly (``_frame``: arm_conv8.pack_stream on the decoded
    weights) on arm_conv8's own loops: per group of at most half the output channels (all of
    them where their stream takes at most WHOLE_STREAM_BYTES) their weights decoded once into
    tcc_arm_conv8_s8's stream in the scratch (pointwise, 4- and 2-bit: ``wide``, tcc_arm_conv8w_s8's
    int16 pair words; through ``pairs`` pair tables where the channels share at most
    MAX_PAIR_TABLES tables, or per channel pair with 2-bit indices, the indices then stored in
    compress.pair_order), then that kernel called on chunks of pixels (pointwise:
    tcc_arm_palette_pw8_s8) or bands of output rows as sub-images (tcc_arm_palette_c8_s8), its
    outputs stored in place: never sharing the input;
  * other CONV_2D (no groups): per block of pixels (a 1x1 stride-1 unpadded one: all pixels, its
    outputs stored in place, not sharing the input; else or if that is over the RAM budget at
    most 32, 16, 8 or 4: the largest that keeps the arena within its budget, blocks of equal
    size), their windows (im2col, none for a 1x1 unpadded convolution) and, per pair of output
    channels, the channels' weights as int16; 2 pixels x 2 channels per SMLAD step. The block's
    outputs are stored after all its windows were read (the portable kernel's order);
  * DEPTHWISE_CONV_2D 3x3 (strides 1 or 2): the int8 kernels' constants built from the decoded
    taps in the scratch once per run, then tcc_arm_depthwise3x3_s8 (``dw3``: arm_dw3x3's packing,
    its records' heads and weight scales in flash) or tcc_arm_dw8 (``dw8``: arm_dw8's, its shift
    bytes in flash);
  * other DEPTHWISE_CONV_2D (depth multiplier 1, channels % 4 == 0): 4 channels' taps decoded, their
    input copied with the windows' padding (the whole plane, or one output row's rows:
    ``direct``), the 4 channels computed side by side (SMLABB / SMLATT), their planes stored
    once read: the portable kernel's overlap rule holds;
  * FULLY_CONNECTED (each row a whole number of bytes): the input row widened to int16 once,
    and a table of int16 weight pairs for every pair of indices (2^(2 bits) words, rebuilt when
    the row's value table changes), so each index byte gives its SMLADs directly.

Convolutions and depthwise requantize as tcc_arm_conv8_s8 (SMMLAR on the doubled accumulator,
the frame's heads and tails) where ``_frame`` proves it exact, else with one exact 64-bit
multiply-add per output.

``compress_weights`` asks for these packings (``reads_compressed``), since ``pack_weights``
leaves compressed ops alone; they are taken when their estimated cycles beat the portable
kernel's and the arena stays within 1/16 of the portable kernels' plan.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import compress, ir, ops, packing
from ..ops.conv2d import Conv2D
from ..ops.depthwise_conv2d import DepthwiseConv2D
from ..ops.fully_connected import FullyConnected
from . import Packed, Variant, register
from . import arm_conv8, arm_conv8w, arm_dw3x3, arm_dw8
from .arm_conv import pointwise
from .arm_dw import common_fields

MAX_BLOCK = 32              # TCC_ARM_PALETTE_MAX_BLOCK
BLOCKS = (MAX_BLOCK, 16, 8, 4)   # a convolution's pixel blocks, largest first

# Estimated Cortex-M4 cycles (tinycc.cycles' model), fitted to tinycc bench on the 16-cluster
# MobileNet-like models of tinycc/testing/models_compress.py (32x32 and 48x48 inputs: the 3x3 and
# 1x1 convolutions on tcc_arm_palette_conv_s8 within 5 % and 25 %, the depthwise ones within 5 %).
# Convolution: per MAC of the 2 x 2 SMLAD loop, per step of it (2 pixels x 2 channels: entry, 4
# requantizations and stores), per weight decoded (4- or 2-bit with k % 4 == 0; others), per window
# and per window position copied (im2col). Depthwise: per MAC, per group of 4 channels (taps
# decoded, padded plane), per output without a frame (the two-step requantization). FC: per MAC,
# per pair-table entry, per output.
CONV_MAC_CYCLES = 1.65
CONV_STEP_CYCLES = 200.0
DECODE_CYCLES, DECODE_SLOW_CYCLES = 3.0, 12.0
WINDOW_CYCLES, POSITION_CYCLES = 60.0, 35.0
DW_MAC_CYCLES, DW_GROUP_CYCLES, DW_RQ_CYCLES = 7.0, 1225.0, 10.0
# tcc_arm_palette_dw3_s8: arm_dw3x3's estimate (1.6 a MAC) and, fitted to bench on the MobileNet-like
# 48x48 models, per channel (its record built), per channel and output line, per chunk and line.
DW3_CHANNEL_CYCLES, DW3_LINE_CYCLES, DW3_PASS_LINE_CYCLES = 150.0, 100.0, 600.0
DW8_DECODE_CYCLES = 12.0       # tcc_arm_palette_dw8_s8: per tap decoded (then arm_dw8's estimate)
DW_BAND_CYCLES = 4.0            # band: per output pixel per 4 channels (the copy from res; rows padded again)
FC_MAC_CYCLES = 2.8
OUTPUT_CYCLES = 20.0
PAIR_CYCLES = 4.0
# The portable decoding kernels (tcc_compressed.c) the same way: per MAC (a convolution: plus per
# MAC divided by its window's channels, the cost of each window position).
PORTABLE_CONV_CYCLES, PORTABLE_CONV_POSITION_CYCLES = 11.0, 34.0
PORTABLE_DW_CYCLES = 43.0
PORTABLE_FC_CYCLES = 11.5


# tcc_arm_palette_pw8_s8 (a pointwise convolution on tcc_arm_conv8_s8): per weight decoded into
# the stream, per output stored from the scratch (+ per pixel and channel group), per call.
PW8_DECODE_CYCLES = 4.5
PW8_DECODE16_CYCLES = 3.0       # the same into int16 pair words (tcc_arm_conv8w_s8's stream)
PW8_PAIR_CYCLES = 1.8           # the same through pair tables (one load a weight pair)
PAIR_ENTRY_CYCLES = 3.0         # per pair-table entry built (per call)
MAX_PAIR_TABLES = 8             # pair tables at most (each 1 << (2 * bits) words of scratch)
PW8_STORE_CYCLES, PW8_STORE_PIXEL_CYCLES = 1.0, 12.0
PW8_CALL_CYCLES = 60.0
PW8_GROUPS = (64, 32, 16, 8)    # output channels decoded together (at most half of them), most first
WHOLE_STREAM_BYTES = 1536       # ... or all of them, where their stream takes at most this
PW8_CHUNKS = (48, 12)           # pixels per call of tcc_arm_conv8_s8 (at most)
PW8_IN_PLACE_CHUNKS = (24, 12)  # the same, in place (every group decoded again per chunk)
C8_ROWS = (6, 3)                # tcc_arm_palette_c8_s8: output rows per call (at most)
C8_DECODE_CYCLES = 25.0         # per weight decoded into the stream (any position, any bits)
C8_FIELD_ROW_CYCLES = 58.0      # per output pixel, kernel row and channel group beyond arm_conv8's estimate


@dataclass(frozen=True, eq=False)
class PalettePacked(Packed):
    """tcc_arm_palette_*: the conv's pixel block and whether it reads windows in place; for
    tcc_arm_palette_pw8_s8 the stream's heads and tails (``frame``, int32 [out_c / 2][6]), its
    channel group and pixel chunk."""
    impl: ClassVar[str] = "arm_palette"
    block: int = 1
    direct: bool = False
    frame: np.ndarray | None = None
    group: int = 0
    chunk: int = 0
    rows: int = 0               # tcc_arm_palette_c8_s8: output rows per call (group > 0)
    in_place: bool = False      # tcc_arm_palette_pw8_s8 chunk by chunk (the output may share the input)
    wide: bool = False          # tcc_arm_palette_pw8_s8 on tcc_arm_conv8w_s8 (int16 pair words decoded)
    pairs: int = 0              # ... through this many pair tables (indices in compress.pair_order)
    dw8: arm_dw8.Dw8Packed | None = None   # tcc_arm_palette_dw8_s8: arm_dw8's packing (taps: the shift bytes)
    dw3: packing.ArmDepthwise3x3 | None = None   # tcc_arm_palette_dw3_s8: arm_dw3x3's packing (records unused),
    dw3_head: np.ndarray | None = None           # its records' mult, add, shift, bias [C][4]
    dw3_scale: np.ndarray | None = None          # and weight scales (uint8 [C])


def _frame(g, o) -> np.ndarray | None:
    """tcc_arm_conv8.h's heads and tails (biases, requantization) of a convolution whose
    requantization tcc_arm_conv8_s8 does exactly (arm_conv8.pack_stream on the decoded weights:
    out_c even, right shifts, the accumulator bound), else None. The activation clamp is the
    kernels' own."""
    w = ir.tensor(g, o.inputs[1])
    if o.kind == DepthwiseConv2D.kind:     # [1][k_h][k_w][C]: per channel its taps
        out_c, n = w.shape[3], w.shape[1] * w.shape[2]
    else:
        out_c, n = w.shape[0], w.size // w.shape[0]
    if out_c % 2:
        return None
    weights = o.params.compressed.decode(out_c, n).reshape(out_c, 1, 1, n)
    p = o.params
    try:
        pk = arm_conv8.pack_stream(weights, p.bias, p.mult, p.shift, p.out_zp)
    except packing.PackError:
        return None
    rec = pk.stream.reshape(out_c // 2, -1)
    return np.ascontiguousarray(np.concatenate([rec[:, :arm_conv8.HEAD_WORDS], rec[:, -arm_conv8.TAIL_WORDS:]],
                                               axis=1))


def _pointwise(g, o) -> bool:
    """tcc_arm_palette_pw8_s8's layers: 1x1, stride 1, no padding, in_c % 4 == 0."""
    x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
    p, a = o.params, o.attrs
    _, k_h, k_w, in_c = w.shape
    return (pointwise(k_h, k_w, a["stride_h"], a["stride_w"], p.pad_top, p.pad_left) and in_c % 4 == 0
            and in_c == x.shape[3])


def _groups(g, o, wide: bool) -> list[int]:
    """The channel groups decoded together into arm_conv8's stream, most first: at most half the
    output channels (64, 32, 16, 8), never the whole tensor, unless its whole stream takes at most
    WHOLE_STREAM_BYTES (the first layers: few weights, many pixels; decoded once)."""
    _, out_c, _, kp = _conv_dims(g, o)
    whole = [out_c] if 4 * out_c // 2 * (6 + kp // (1 if wide else 2)) <= WHOLE_STREAM_BYTES else []
    return whole + [n for n in PW8_GROUPS if n <= out_c // 2]


def _c8_packs(g, o, frame) -> list:
    """tcc_arm_palette_c8_s8's packings: channel groups x bands of rows (not pointwise)."""
    if frame is None or _pointwise(g, o):
        return []
    out_h = o.params.out_h
    groups = _groups(g, o, False)
    rows = sorted({min(out_h, n) for n in C8_ROWS}, reverse=True)
    return [PalettePacked(frame=frame, group=gr, rows=r) for gr in groups for r in rows]


def _pw8_packs(g, o, frame) -> list:
    if frame is None or not _pointwise(g, o):
        return []
    pixels = o.params.batches * o.params.out_h * o.params.out_w
    chunks = sorted({min(pixels, n) for n in PW8_CHUNKS}, reverse=True)
    code = o.params.compressed
    decodes = [(False, 0)]                            # (wide, pair tables)
    if code.bits in (2, 4):
        decodes.insert(0, (True, 0))
        tables = 1 if code.table_of is None else code.table.shape[0]
        if not code.per_channel and tables <= MAX_PAIR_TABLES:
            decodes.insert(0, (True, tables))
        elif code.per_channel and code.bits == 2:     # each channel pair's two, 16 words each
            decodes.insert(0, (True, 2))
    in_place = sorted({min(pixels, n) for n in PW8_IN_PLACE_CHUNKS}, reverse=True)
    return ([PalettePacked(frame=frame, group=gr, chunk=ch, wide=wd, pairs=pt) for wd, pt in decodes
             for gr in _groups(g, o, wd) for ch in chunks]
            + [PalettePacked(frame=frame, group=gr, chunk=ch, in_place=True, wide=wd, pairs=pt) for wd, pt in decodes
               for gr in _groups(g, o, wd)[:2] for ch in in_place])


def _dw8_packs(g, o) -> list:
    """tcc_arm_palette_dw8_s8's packings: arm_dw8's (3x3, strides 1 or 2, no dilation) on the
    decoded taps, its taps array cut to the shift bytes (the taps are decoded at run time), where
    arm_dw8 keeps every tap (it zeroes a constant channel's: only an all-zero one here)."""
    w, p, a = ir.tensor(g, o.inputs[1]), o.params, o.attrs
    if not (tuple(w.shape[1:3]) == (3, 3) and a["stride_h"] == a["stride_w"] in (1, 2)
            and a["dilation_h"] == a["dilation_w"] == 1):
        return []
    c = w.shape[3]
    taps = o.params.compressed.decode(c, 9).astype(np.int8)          # [C][ky * 3 + kx]
    out = []
    for tr in (False, True):
        try:
            pk = arm_dw8.pack_dw8(taps.T.reshape(1, 3, 3, c), p.bias, p.mult, p.shift, p.out_zp, transposed=tr)
        except packing.PackError:
            return []
        t = pk["taps"].reshape(c, arm_dw8.TAP_BYTES)
        if not np.array_equal(t[:, :9], taps.reshape(c, 3, 3).transpose(0, 2, 1).reshape(c, 9) if tr else taps):
            return []
        lines, length = arm_dw8.geometry(p.in_h, p.in_w, p.out_h, p.out_w, a["stride_h"], p.pad_top, p.pad_left, tr)
        out += [PalettePacked(dw8=arm_dw8.Dw8Packed(taps=np.ascontiguousarray(t[:, 9]).view(np.uint8),
                                                    mult=pk["mult"], bias=pk["bias"], transposed=tr, lines=lines,
                                                    line_len=length, ring=ring, group=group))
                for ring in (False, True) for group in arm_dw8.GROUPS]
    return out


def _dw3_packs(g, o) -> list:
    """tcc_arm_palette_dw3_s8's packings: arm_dw3x3's on the decoded taps (a copy of the graph
    holding them), each with its records' heads and per-channel weight scales, where the records
    are exactly those rebuilt from the decoded taps (the kernel's decoding)."""
    w = ir.tensor(g, o.inputs[1])
    unit = arm_dw3x3.ArmDepthwise3x3()
    if w.shape[1:3] != (3, 3):
        return []
    c = w.shape[3]
    taps = o.params.compressed.decode(c, 9).astype(np.int64)          # [C][ky * 3 + kx]
    g2 = g.copy()
    ir.replace_value(g2, o.inputs[1], dataclasses.replace(w, dtype="int8", data=taps.T.reshape(1, 3, 3, c).astype(np.int8)))
    if not unit.applies(g2, o, "cortex-m4"):
        return []
    out = []
    for pk in unit.packs(g2, o):
        rec = np.asarray(pk.records, np.int64).reshape(c, 10)
        t = taps.reshape(c, 3, 3).transpose(0, 2, 1).reshape(c, 9) if pk.transposed else taps
        scale = np.full(c, -1)
        for sh in range(16):                                          # each channel's weight scale
            v = (t << sh).reshape(c, 3, 3)
            words = np.stack([packing._pair_words(v[:, :, 0], v[:, :, 1]),
                              packing._pair_words(v[:, :, 1], v[:, :, 2])], axis=2).reshape(c, 6)
            scale[(scale < 0) & (words.astype(np.int64) == rec[:, 4:]).all(axis=1)] = sh
        if (scale < 0).any():
            return []
        out.append(PalettePacked(dw3=pk, dw3_head=np.ascontiguousarray(rec[:, :4].astype(np.int64)).astype(np.int32),
                                 dw3_scale=scale.astype(np.uint8)))
    return out


def _conv_dims(g, o):
    x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
    out_c, k_h, k_w, k_c = w.shape
    k = k_h * k_w * k_c
    return x, out_c, k, (k + 3) // 4 * 4


def _taps(g, o) -> int:
    w = ir.tensor(g, o.inputs[1])
    return w.shape[1] * w.shape[2]


def _padded_plane(g, o) -> int:
    """tcc_arm_palette_dw_s8's padded input plane (words): ph * pw."""
    p, a, w = o.params, o.attrs, ir.tensor(g, o.inputs[1])
    ph = (p.out_h - 1) * a["stride_h"] + (w.shape[1] - 1) * a["dilation_h"] + 1
    pw = (p.out_w - 1) * a["stride_w"] + (w.shape[2] - 1) * a["dilation_w"] + 1
    return ph * pw


def _whole(o, direct: bool, block: int) -> bool:
    """tcc_arm_palette_conv_s8's one block of every pixel (a 1x1, stride 1, unpadded convolution):
    the weights decoded once, the outputs stored in place, so never sharing the input."""
    p = o.params
    return direct and block >= p.batches * p.out_h * p.out_w and o.attrs["stride_h"] == o.attrs["stride_w"] == 1


def _table_changes(code, rows: int) -> int:
    """How often tcc_arm_palette_fc_s8 builds its pair table: once, or at each row whose table
    differs from the previous row's."""
    if code.table_of is not None:
        return 1 + int((code.table_of[1:] != code.table_of[:-1]).sum())
    return rows if code.per_channel else 1


@register
class ArmPalette(Variant):
    name = "arm_palette"
    kinds = (Conv2D.kind, DepthwiseConv2D.kind, FullyConnected.kind)
    sources = ("arm/tcc_arm_palette",)
    stores_less = True                # pruned / clustered weights stored in fewer bytes
    entries = ("tcc_arm_palette_conv_s8", "tcc_arm_palette_pw8_s8", "tcc_arm_palette_c8_s8", "tcc_arm_palette_dw_s8",
               "tcc_arm_palette_dw8_s8", "tcc_arm_palette_dw3_s8", "tcc_arm_palette_fc_s8")
    reads_compressed = True     # chosen by compress_weights, for ops with compressed weights

    def applies(self, g, o, target):
        code = o.params.compressed
        if code is None or ir.tensor(g, o.inputs[0]).dtype != "int8":
            return False
        if o.kind == Conv2D.kind:
            x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
            return w.shape[3] == x.shape[3]
        if o.kind == DepthwiseConv2D.kind:
            return o.params.depth_mult == 1 and ir.tensor(g, o.inputs[0]).shape[3] % 4 == 0
        return o.params.in_depth * code.bits % 8 == 0

    def pack(self, g, o):
        return self.packs(g, o)[0]

    def packs(self, g, o):
        """A convolution: blocks of at most 32, 16, 8 and 4 pixels (equal blocks), fastest (fewest
        decodes of the weights) first, each less scratch (compress_weights steps down while the
        arena is over its budget)."""
        if o.kind == DepthwiseConv2D.kind:       # the padded plane, then one output row's rows (band)
            frame = _frame(g, o)
            return (_dw3_packs(g, o) + _dw8_packs(g, o)
                    + [PalettePacked(frame=frame), PalettePacked(frame=frame, direct=True)])
        if o.kind != Conv2D.kind:
            return [PalettePacked()]
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p = o.params
        direct = (w.shape[1] == w.shape[2] == 1 and p.pad_top == p.pad_left == 0 and x.shape[3] % 4 == 0)
        pixels = p.batches * p.out_h * p.out_w
        blocks = sorted({-(-pixels // -(-pixels // most)) for most in BLOCKS}, reverse=True)
        whole = [PalettePacked(block=pixels, direct=True)] if _whole(o, direct, pixels) else []
        frame = _frame(g, o)
        whole = [dataclasses.replace(pk, frame=frame) for pk in whole]
        return _pw8_packs(g, o, frame) + _c8_packs(g, o, frame) + whole + [PalettePacked(block=b, direct=direct, frame=frame) for b in blocks]

    def cycles(self, g, o, pk):
        code, macs = o.params.compressed, ops.lookup(o.kind).macs(g, o)
        y = ir.tensor(g, o.outputs[0])
        if o.kind == Conv2D.kind and pk.rows:
            return self._c8_cycles(g, o, pk)
        if o.kind == Conv2D.kind and pk.group:
            return self._pw8_cycles(g, o, pk)
        if o.kind == Conv2D.kind:
            x, out_c, k, kp = _conv_dims(g, o)
            w = ir.tensor(g, o.inputs[1])
            pixels = y.size // out_c
            blocks = -(-pixels // pk.block)
            steps = blocks * -(-min(pk.block, pixels) // 2) * -(-out_c // 2)
            decode = DECODE_CYCLES if k % 4 == 0 and code.bits in (2, 4) else DECODE_SLOW_CYCLES
            im2col = 0 if pk.direct else pixels * (WINDOW_CYCLES + POSITION_CYCLES * w.shape[1] * w.shape[2])
            return CONV_MAC_CYCLES * macs * kp / k + CONV_STEP_CYCLES * steps + decode * blocks * out_c * kp + im2col
        if o.kind == DepthwiseConv2D.kind and pk.dw3 is not None:
            c, lines = y.shape[3], y.shape[2] if pk.dw3.transposed else y.shape[1]
            return (arm_dw3x3.ArmDepthwise3x3().cycles(g, o, pk.dw3) + DW3_CHANNEL_CYCLES * c
                    + lines * (DW3_LINE_CYCLES * c + DW3_PASS_LINE_CYCLES * -(-c // pk.dw3.chunk)))
        if o.kind == DepthwiseConv2D.kind and pk.dw8 is not None:
            p = o.params
            return DW8_DECODE_CYCLES * y.size / (p.out_h * p.out_w) * _taps(g, o) + arm_dw8.ArmDw8().cycles(g, o, pk.dw8)
        if o.kind == DepthwiseConv2D.kind:
            rq = 0 if pk.frame is not None else DW_RQ_CYCLES * y.size
            band = DW_BAND_CYCLES * y.size / y.shape[3] * 4 if pk.direct else 0    # per pixel per 4 channels
            return DW_MAC_CYCLES * macs + DW_GROUP_CYCLES * y.shape[0] * y.shape[3] / 4 + rq + band
        p = o.params
        pairs = _table_changes(code, p.out_depth) * (1 << 2 * code.bits) * PAIR_CYCLES
        return FC_MAC_CYCLES * macs + p.batches * (pairs + 2 * p.in_depth) + OUTPUT_CYCLES * y.size

    def _c8_cycles(self, g, o, pk):
        """tcc_arm_conv8_s8's estimate for each channel group and band, the decoding, the stores."""
        x, out_c, k, kp = _conv_dims(g, o)
        p, a = o.params, o.attrs
        _, k_h, k_w, in_c = ir.tensor(g, o.inputs[1]).shape
        banded = arm_conv8.band(in_c, k_h, a["stride_h"], a["dilation_h"])
        pixels = ir.tensor(g, o.outputs[0]).size // out_c
        total = (C8_DECODE_CYCLES * out_c * kp + pixels * out_c * PW8_STORE_CYCLES
                 + C8_FIELD_ROW_CYCLES * pixels * k_h * -(-out_c // pk.group))
        for c0 in range(0, out_c, pk.group):
            gr = min(pk.group, out_c - c0)
            for r0 in range(0, p.out_h, pk.rows):
                n = min(pk.rows, p.out_h - r0)
                total += p.batches * (PW8_CALL_CYCLES + arm_conv8.cycles(1, n, p.out_w, gr, kp // 4, k_h, k_w, in_c,
                                                                           a["stride_h"], False, banded))
        return total

    def _pw8_cycles(self, g, o, pk):
        """tcc_arm_conv8_s8's estimate for each channel group and chunk, the decoding, the stores."""
        _, out_c, k, kp = _conv_dims(g, o)
        pixels = ir.tensor(g, o.outputs[0]).size // out_c
        decodes = -(-pixels // pk.chunk) if pk.in_place and pk.group < out_c else 1
        decode = PW8_PAIR_CYCLES if pk.pairs else PW8_DECODE16_CYCLES if pk.wide else PW8_DECODE_CYCLES
        group_cycles = arm_conv8w.CYCLES_GROUP_WIDE if pk.wide else arm_conv8.CYCLES_GROUP
        built = out_c // 2 * decodes if o.params.compressed.per_channel else 1      # per channel pair: 2 tables
        tables = PAIR_ENTRY_CYCLES * (pk.pairs << 2 * o.params.compressed.bits) * built
        total = tables + decode * out_c * k * decodes + pixels * (PW8_STORE_CYCLES * out_c
                                                          + PW8_STORE_PIXEL_CYCLES * -(-out_c // pk.group))
        for c0 in range(0, out_c, pk.group):
            gr = min(pk.group, out_c - c0)
            for q0 in range(0, pixels, pk.chunk):
                n = min(pk.chunk, pixels - q0)
                total += PW8_CALL_CYCLES + arm_conv8.cycles(1, 1, n, gr, kp // 4, 1, 1, k, 1, True, False, group_cycles)
        return total

    def plain_cycles(self, g, o):
        """The portable decoding kernel's estimated cycles (what this unit is chosen against)."""
        macs = ops.lookup(o.kind).macs(g, o)
        if o.kind == Conv2D.kind:
            k_c = ir.tensor(g, o.inputs[1]).shape[3]
            return macs * (PORTABLE_CONV_CYCLES + PORTABLE_CONV_POSITION_CYCLES / k_c)
        return macs * (PORTABLE_DW_CYCLES if o.kind == DepthwiseConv2D.kind else PORTABLE_FC_CYCLES)

    def scratch_bytes(self, g, o, pk):
        if o.kind == Conv2D.kind and pk.rows:
            _, _, _, kp = _conv_dims(g, o)
            _, k_h, k_w, in_c = ir.tensor(g, o.inputs[1]).shape
            return (4 * pk.group // 2 * (6 + kp // 2) + (pk.rows * o.params.out_w * pk.group + 3) // 4 * 4
                    + arm_conv8.scratch_bytes(kp // 4, k_h, k_w, in_c))
        if o.kind == Conv2D.kind and pk.group:
            _, out_c, _, kp = _conv_dims(g, o)
            held = out_c if pk.in_place else pk.group                # outputs held per pixel
            return ((4 * pk.pairs << 2 * o.params.compressed.bits) + 4 * pk.group // 2 * (6 + kp // (1 if pk.wide else 2)) + (pk.chunk * held + 3) // 4 * 4
                    + arm_conv8.scratch_bytes(kp // 4, 1, 1, kp))
        if o.kind == Conv2D.kind:
            _, out_c, _, kp = _conv_dims(g, o)
            return 5 * kp + (0 if pk.direct else pk.block * kp) + (0 if _whole(o, pk.direct, pk.block) else
                                                                   pk.block * out_c)
        if o.kind == DepthwiseConv2D.kind and pk.dw3 is not None:   # the records, arm_dw3x3's scratch
            return 40 * ir.tensor(g, o.outputs[0]).shape[3] + pk.dw3.scratch
        if o.kind == DepthwiseConv2D.kind and pk.dw8 is not None:   # the decoded taps, arm_dw8's scratch
            return (arm_dw8.TAP_BYTES * ir.tensor(g, o.outputs[0]).shape[3] + 3) // 4 * 4 + arm_dw8.ArmDw8().scratch_bytes(g, o, pk.dw8)
        if o.kind == DepthwiseConv2D.kind and pk.direct:     # band
            p, a, y = o.params, o.attrs, ir.tensor(g, o.outputs[0])
            rows = (ir.tensor(g, o.inputs[1]).shape[1] - 1) * a["dilation_h"] + 1
            ph = (p.out_h - 1) * a["stride_h"] + rows
            return 8 * _taps(g, o) + 4 * _padded_plane(g, o) // ph * rows + 4 * y.shape[1] * y.shape[2]
        if o.kind == DepthwiseConv2D.kind:
            return 8 * _taps(g, o) + 4 * _padded_plane(g, o)
        return (4 << 2 * o.params.compressed.bits) + 2 * o.params.in_depth

    def reads_min(self, g, o, slot, pk):
        """CONV_2D: blocks of ``pk.block`` pixels read, then stored (the plain kernel's first reads,
        per block).
        FULLY_CONNECTED: each batch row is read (widened) before its first output."""
        if o.kind == Conv2D.kind:
            if (pk.group and not pk.in_place) or _whole(o, pk.direct, pk.block):
                return None
            block = pk.chunk if pk.in_place else pk.block
            plain = dataclasses.replace(o, params=dataclasses.replace(o.params, compressed=None))
            r = ops.lookup(o.kind).reads_min(g, plain, slot)
            if r is None:
                return None
            r = r.reshape(-1, ir.tensor(g, o.outputs[0]).shape[3]).copy()
            first = r[:, 0].copy()
            r[:, 0] = ops.NO_READ
            r[::block, 0] = np.minimum.reduceat(first, np.arange(0, first.size, block))
            return r.ravel()
        if slot != 0:
            return None
        p = o.params
        return packing.reads_min_fc(p.batches, p.in_depth, p.out_depth, row_in_scratch=True)

    def overlap(self, g, o, slot, pk):
        if o.kind == DepthwiseConv2D.kind and pk.dw3 is not None:      # the records built before any read
            return arm_dw3x3.ArmDepthwise3x3().overlap(g, o, slot, pk.dw3)
        if o.kind == DepthwiseConv2D.kind and pk.dw8 is not None:      # the taps decoded before any read
            return arm_dw8.ArmDw8().overlap(g, o, slot, pk.dw8)
        if o.kind == DepthwiseConv2D.kind:      # 4 channels' planes stored once all their inputs were read
            return ops.lookup(o.kind).overlap(g, o, slot)
        return super().overlap(g, o, slot, pk)

    def emit(self, g, o, ctx, pk):
        p, a = o.params, o.attrs
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        if pk.pairs:                              # the indices in pair order
            w = ir.tensor(g, o.inputs[1])
            code = compress.pair_order(p.compressed, w.shape[0], w.size // w.shape[0])
            wc = ops.compressed_weights(ctx, dataclasses.replace(o, params=dataclasses.replace(p, compressed=code)))
        else:
            wc = ops.compressed_weights(ctx, o)
        io = f"{ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {ctx.scratch(o)}"
        if o.kind == Conv2D.kind and pk.rows:
            self._emit_c8(g, o, ctx, pk, wc, io)
            return
        if o.kind == Conv2D.kind and pk.group:
            self._emit_pw8(g, o, ctx, pk, wc, io)
            return
        if pk.dw8 is not None:
            self._emit_dw8(g, o, ctx, pk, wc, io)
            return
        if pk.dw3 is not None:
            self._emit_dw3(g, o, ctx, pk, wc, io)
            return
        framed = pk.frame is not None         # no bias, mult, shift arrays
        quant = [("bias", None), ("mult", None), ("shift", None)] if framed else [
            ("bias", ctx.const_array(o, "bias", "int32_t", p.bias)),
            ("mult", ctx.const_array(o, "mult", "int32_t", p.mult)),
            ("shift", ctx.const_array(o, "shift", "int32_t", p.shift))]
        if o.kind == FullyConnected.kind:
            fields = [("batches", p.batches), ("in_depth", p.in_depth), ("out_depth", p.out_depth),
                      ("out_zp", p.out_zp), ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                      ("weights", None)] + quant
            params = ctx.struct(o, "tcc_fully_connected_s8_params", fields)
            self.call(ctx, o, f"tcc_arm_palette_fc_s8(&{params}, &{wc}, {io});")
            return
        window = [("stride_h", a["stride_h"]), ("stride_w", a["stride_w"]),
                  ("dil_h", a["dilation_h"]), ("dil_w", a["dilation_w"]),
                  ("pad_top", p.pad_top), ("pad_left", p.pad_left), ("in_zp", p.in_zp), ("out_zp", p.out_zp),
                  ("act_min", p.act_range[0]), ("act_max", p.act_range[1]), ("weights", None)] + quant
        shape = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("in_c", x.shape[3]),
                 ("out_h", p.out_h), ("out_w", p.out_w)]
        if o.kind == DepthwiseConv2D.kind:
            params = ctx.struct(o, "tcc_depthwise_s8_params", shape + [("depth_mult", p.depth_mult),
                                                                      ("k_h", w.shape[1]), ("k_w", w.shape[2])] + window)
            frame = ctx.const_array(o, "frame", "int32_t", pk.frame.ravel()) if framed else "NULL"
            self.call(ctx, o, f"tcc_arm_palette_dw_s8(&{params}, &{wc}, {frame}, {int(pk.direct)}, {io});")
            return
        out_c, k_h, k_w, k_c = w.shape
        params = ctx.struct(o, "tcc_conv2d_s8_params", shape + [("out_c", out_c), ("k_h", k_h), ("k_w", k_w),
                                                                ("k_c", k_c)] + window)
        frame = ctx.const_array(o, "frame", "int32_t", pk.frame.ravel()) if framed else "NULL"
        self.call(ctx, o, f"tcc_arm_palette_conv_s8(&{params}, &{wc}, {frame}, {pk.block}, {int(pk.direct)}, {io});")

    def _emit_pw8(self, g, o, ctx, pk, wc, io):
        """tcc_arm_palette_pw8_s8: the layer's tcc_arm_conv8_params (no stream), the frame; the
        call keeps tcc_arm_conv8_s8 in the build."""
        p = o.params
        out_c, _, _, k_c = ir.tensor(g, o.inputs[1]).shape
        fields = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("in_c", k_c),
                  ("out_h", p.out_h), ("out_w", p.out_w), ("out_c", out_c), ("k_h", 1), ("k_w", 1),
                  ("stride_h", 1), ("stride_w", 1), ("dil_h", 1), ("dil_w", 1), ("pad_top", 0),
                  ("pad_left", 0), ("in_zp", p.in_zp), ("groups", k_c // 4), ("band", 0), ("stream", None)]
        params = ctx.struct(o, "tcc_arm_conv8_params", fields)
        frame = ctx.const_array(o, "frame", "int32_t", pk.frame.ravel())
        conv = "tcc_arm_conv8w_s8" if pk.wide else "tcc_arm_conv8_s8"
        ctx.kernels.add("arm/tcc_arm_conv8")
        ctx.use(conv[4:].upper())
        self.call(ctx, o, f"tcc_arm_palette_pw8_s8(&{params}, &{wc}, {frame}, {pk.group}, {pk.chunk}, "
                          f"{int(pk.in_place)}, {int(pk.wide)}, {pk.pairs}, {p.act_range[0]}, {p.act_range[1]}, "
                          f"{io});")

    def _emit_c8(self, g, o, ctx, pk, wc, io):
        """tcc_arm_palette_c8_s8: the layer's tcc_arm_conv8_params (no stream), the frame, the
        stream's order of the weights; the call keeps tcc_arm_conv8_s8 in the build."""
        p, a = o.params, o.attrs
        out_c, k_h, k_w, k_c = ir.tensor(g, o.inputs[1]).shape
        kp = (k_h * k_w * k_c + 3) // 4 * 4
        fields = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("in_c", k_c),
                  ("out_h", p.out_h), ("out_w", p.out_w), ("out_c", out_c), ("k_h", k_h), ("k_w", k_w),
                  ("stride_h", a["stride_h"]), ("stride_w", a["stride_w"]),
                  ("dil_h", a["dilation_h"]), ("dil_w", a["dilation_w"]), ("pad_top", p.pad_top),
                  ("pad_left", p.pad_left), ("in_zp", p.in_zp), ("groups", kp // 4),
                  ("band", int(arm_conv8.band(k_c, k_h, a["stride_h"], a["dilation_h"]))), ("stream", None)]
        params = ctx.struct(o, "tcc_arm_conv8_params", fields)
        frame = ctx.const_array(o, "frame", "int32_t", pk.frame.ravel())
        order = ctx.const_array(o, "order", "uint16_t", packing.conv_k_order(k_h, k_w, k_c))
        ctx.kernels.add("arm/tcc_arm_conv8")
        ctx.use("ARM_CONV8_S8")
        arm_conv8.use_parts(ctx, k_c)
        self.call(ctx, o, f"tcc_arm_palette_c8_s8(&{params}, &{wc}, {frame}, {order}, {pk.group}, {pk.rows}, "
                          f"{p.act_range[0]}, {p.act_range[1]}, {io});")

    def _emit_dw8(self, g, o, ctx, pk, wc, io):
        """tcc_arm_palette_dw8_s8: arm_dw8's params (its taps NULL), the shift bytes, the run."""
        x, p, a, d = ir.tensor(g, o.inputs[0]), o.params, o.attrs, pk.dw8
        fields = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("channels", x.shape[3]),
                  ("out_h", p.out_h), ("out_w", p.out_w), ("stride", a["stride_h"]), ("pad_top", p.pad_top),
                  ("pad_left", p.pad_left), ("in_zp", p.in_zp), ("out_zp", p.out_zp),
                  ("act_min", p.act_range[0]), ("act_max", p.act_range[1]), ("transposed", int(d.transposed)),
                  ("lines", d.lines), ("line_len", d.line_len), ("ring", int(d.ring)), ("group", d.group),
                  ("taps", None), ("mult", ctx.const_array(o, "mult", "int32_t", d.mult)),
                  ("bias", ctx.const_array(o, "bias", "int32_t", d.bias))]
        params = ctx.struct(o, "tcc_arm_dw8_s8_params", fields)
        clamp = tuple(p.act_range) != (-128, 127)
        ctx.kernels.add("arm/tcc_arm_dw8")
        ctx.use("ARM_DW8_CLAMP_S8" if clamp else "ARM_DW8_S8")
        shift = ctx.const_array(o, "shift", "uint8_t", d.taps)
        self.call(ctx, o, f"tcc_arm_palette_dw8_s8(&{params}, &{wc}, {shift}, {int(clamp)}, {io});")

    def _emit_dw3(self, g, o, ctx, pk, wc, io):
        """tcc_arm_palette_dw3_s8: arm_dw3x3's params (its records NULL; its asm lines decided
        from the records built at compile time), the heads and weight scales."""
        p, a, d = o.params, o.attrs, pk.dw3
        fields = common_fields(g, o) + [
            ("stride", a["stride_h"]), ("pad_top", p.pad_top), ("pad_left", p.pad_left),
            ("in_zp", p.in_zp), ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
            ("transposed", int(d.transposed)), ("row_len", d.row_len), ("chunk", d.chunk),
            ("staged", int(d.staged)), ("records", None)]
        asm_lines = packing.depthwise_planar_asm_lines(d.records, *p.act_range)
        n_out = p.out_h if d.transposed else p.out_w
        block_n = packing.depthwise_planar_block(asm_lines, n_out)
        fields += [("asm_lines", int(asm_lines)), ("block_n", block_n)]
        ctx.kernels.add("arm/tcc_arm_dw3x3")
        if not asm_lines:
            ctx.use("DW_C_LINES")
        else:
            ctx.use(f"DW_X{block_n or 4}" + ("O" if n_out == block_n == 6 else "") + ("S2" if a["stride_h"] == 2 else ""))
        params = ctx.struct(o, "tcc_arm_depthwise3x3_s8_params", fields)
        head = ctx.const_array(o, "head", "int32_t", pk.dw3_head.ravel())
        scale = ctx.const_array(o, "scale", "uint8_t", pk.dw3_scale)
        self.call(ctx, o, f"tcc_arm_palette_dw3_s8(&{params}, &{wc}, {head}, {scale}, {io});")

    def flash_bytes(self, g, o, pk):
        return packing.const_bytes(pk) + (packing.const_bytes(pk.dw8) if pk.dw8 is not None else 0)
