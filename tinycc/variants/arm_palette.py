"""Compressed weights (tinycc/compress.py) on Cortex-M DSP cores: runtime/kernels/arm/tcc_arm_palette.c.

The portable decoding kernels (tcc_compressed.c) cost ~8-40 cycles per MAC on a Cortex-M4;
these keep the weights compressed in flash and decode them into a small scratch:

  * CONV_2D (no groups): per block of pixels (a 1x1 stride-1 unpadded one: all pixels, its
    outputs stored in place, not sharing the input; else or if that is over the RAM budget at
    most 32, 16, 8 or 4: the largest that keeps the arena within its budget, blocks of equal size), their windows (im2col, none for a 1x1 unpadded convolution) and, per pair of output
    channels, the channels' weights as int16; 2 pixels x 2 channels per SMLAD step. The block's
    outputs are stored after all its windows were read (the portable kernel's order);
  * DEPTHWISE_CONV_2D (depth multiplier 1, channels % 4 == 0): 4 channels' taps decoded, the 4
    channels computed side by side (SMLABB / SMLATT), their planes stored once read: the
    portable kernel's overlap rule holds;
  * FULLY_CONNECTED (each row a whole number of bytes): the input row widened to int16 once,
    and a table of int16 weight pairs for every pair of indices (2^(2 bits) words, rebuilt when
    the row's value table changes), so each index byte gives its SMLADs directly.

``compress_weights`` asks for these packings (``reads_compressed``), since ``pack_weights``
leaves compressed ops alone; they are taken when their estimated cycles beat the portable
kernel's and the arena stays within 1/16 of the portable kernels' plan.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, ops, packing
from ..ops.conv2d import Conv2D
from ..ops.depthwise_conv2d import DepthwiseConv2D
from ..ops.fully_connected import FullyConnected
from . import Packed, Variant, register

MAX_BLOCK = 32              # TCC_ARM_PALETTE_MAX_BLOCK
BLOCKS = (MAX_BLOCK, 16, 8, 4)   # a convolution's pixel blocks, largest first

# Estimated Cortex-M4 cycles (tinycc.cycles' model), fitted to tinycc bench on a DS-CNN-like model
# (tinycc/testing/models_compress.py, 16 clusters: its 1x1 convolutions within 2 %, the 10x4
# one within 25 %, the depthwise ones within 5 %): per MAC of each kernel's loop, per weight
# decoded, per window byte copied, per output (requantization and store), per pair-table entry.
CONV_MAC_CYCLES = 2.3
DW_MAC_CYCLES = 12.0
FC_MAC_CYCLES = 2.8
DECODE_CYCLES = 12.0
COPY_CYCLES = 3.0
OUTPUT_CYCLES = 20.0
PAIR_CYCLES = 4.0
# The portable decoding kernels (tcc_compressed.c) the same way: per MAC (a convolution: plus per
# MAC divided by its window's channels, the cost of each window position).
PORTABLE_CONV_CYCLES, PORTABLE_CONV_POSITION_CYCLES = 11.0, 34.0
PORTABLE_DW_CYCLES = 43.0
PORTABLE_FC_CYCLES = 11.5


@dataclass(frozen=True, eq=False)
class PalettePacked(Packed):
    """tcc_arm_palette_*: the conv's pixel block and whether it reads windows in place."""
    impl: ClassVar[str] = "arm_palette"
    block: int = 1
    direct: bool = False


def _conv_dims(g, o):
    x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
    out_c, k_h, k_w, k_c = w.shape
    k = k_h * k_w * k_c
    return x, out_c, k, (k + 3) // 4 * 4


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
    entries = ("tcc_arm_palette_conv_s8", "tcc_arm_palette_dw_s8", "tcc_arm_palette_fc_s8")
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
        if o.kind != Conv2D.kind:
            return [PalettePacked()]
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p = o.params
        direct = (w.shape[1] == w.shape[2] == 1 and p.pad_top == p.pad_left == 0 and x.shape[3] % 4 == 0)
        pixels = p.batches * p.out_h * p.out_w
        blocks = sorted({-(-pixels // -(-pixels // most)) for most in BLOCKS}, reverse=True)
        whole = [PalettePacked(block=pixels, direct=True)] if _whole(o, direct, pixels) else []
        return whole + [PalettePacked(block=b, direct=direct) for b in blocks]

    def cycles(self, g, o, pk):
        code, macs = o.params.compressed, ops.lookup(o.kind).macs(g, o)
        y = ir.tensor(g, o.outputs[0])
        if o.kind == Conv2D.kind:
            x, out_c, k, kp = _conv_dims(g, o)
            pixels = y.size // out_c
            blocks = -(-pixels // pk.block)
            im2col = 0 if pk.direct else pixels * kp * COPY_CYCLES
            return (CONV_MAC_CYCLES * macs * kp / k + DECODE_CYCLES * blocks * out_c * kp + im2col
                    + OUTPUT_CYCLES * y.size)
        if o.kind == DepthwiseConv2D.kind:
            w = ir.tensor(g, o.inputs[1])
            return DW_MAC_CYCLES * macs + DECODE_CYCLES * w.size + OUTPUT_CYCLES * y.size
        p = o.params
        pairs = _table_changes(code, p.out_depth) * (1 << 2 * code.bits) * PAIR_CYCLES
        return FC_MAC_CYCLES * macs + p.batches * (pairs + 2 * p.in_depth) + OUTPUT_CYCLES * y.size

    def plain_cycles(self, g, o):
        """The portable decoding kernel's estimated cycles (what this unit is chosen against)."""
        macs = ops.lookup(o.kind).macs(g, o)
        if o.kind == Conv2D.kind:
            k_c = ir.tensor(g, o.inputs[1]).shape[3]
            return macs * (PORTABLE_CONV_CYCLES + PORTABLE_CONV_POSITION_CYCLES / k_c)
        return macs * (PORTABLE_DW_CYCLES if o.kind == DepthwiseConv2D.kind else PORTABLE_FC_CYCLES)

    def scratch_bytes(self, g, o, pk):
        if o.kind == Conv2D.kind:
            _, out_c, _, kp = _conv_dims(g, o)
            return 5 * kp + (0 if pk.direct else pk.block * kp) + (0 if _whole(o, pk.direct, pk.block) else
                                                                   pk.block * out_c)
        if o.kind == DepthwiseConv2D.kind:
            w, y = ir.tensor(g, o.inputs[1]), ir.tensor(g, o.outputs[0])
            return 8 * w.shape[1] * w.shape[2] + 4 * y.shape[1] * y.shape[2]
        return (4 << 2 * o.params.compressed.bits) + 2 * o.params.in_depth

    def reads_min(self, g, o, slot, pk):
        """CONV_2D: blocks of ``pk.block`` pixels read, then stored (the plain kernel's first reads,
        per block).
        FULLY_CONNECTED: each batch row is read (widened) before its first output."""
        if o.kind == Conv2D.kind:
            if _whole(o, pk.direct, pk.block):
                return None
            plain = dataclasses.replace(o, params=dataclasses.replace(o.params, compressed=None))
            r = ops.lookup(o.kind).reads_min(g, plain, slot)
            if r is None:
                return None
            r = r.reshape(-1, ir.tensor(g, o.outputs[0]).shape[3]).copy()
            first = r[:, 0].copy()
            r[:, 0] = ops.NO_READ
            r[::pk.block, 0] = np.minimum.reduceat(first, np.arange(0, first.size, pk.block))
            return r.ravel()
        if slot != 0:
            return None
        p = o.params
        return packing.reads_min_fc(p.batches, p.in_depth, p.out_depth, row_in_scratch=True)

    def overlap(self, g, o, slot, pk):
        if o.kind == DepthwiseConv2D.kind:      # 4 channels' planes stored once all their inputs were read
            return ops.lookup(o.kind).overlap(g, o, slot)
        return super().overlap(g, o, slot, pk)

    def emit(self, g, o, ctx, pk):
        p, a = o.params, o.attrs
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        wc = ops.compressed_weights(ctx, o)
        quant = [("bias", ctx.const_array(o, "bias", "int32_t", p.bias)),
                 ("mult", ctx.const_array(o, "mult", "int32_t", p.mult)),
                 ("shift", ctx.const_array(o, "shift", "int32_t", p.shift))]
        io = f"{ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {ctx.scratch(o)}"
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
            self.call(ctx, o, f"tcc_arm_palette_dw_s8(&{params}, &{wc}, {io});")
            return
        out_c, k_h, k_w, k_c = w.shape
        params = ctx.struct(o, "tcc_conv2d_s8_params", shape + [("out_c", out_c), ("k_h", k_h), ("k_w", k_w),
                                                                ("k_c", k_c)] + window)
        self.call(ctx, o, f"tcc_arm_palette_conv_s8(&{params}, &{wc}, {pk.block}, {int(pk.direct)}, {io});")
