"""arm_conv_s16, arm_fc_s16, arm_dw_s16: 16x8 CONV_2D, FULLY_CONNECTED and DEPTHWISE_CONV_2D for
Cortex-M DSP cores (runtime/kernels/arm/tcc_arm_s16.c).

The int8 weights are widened to int16 pair words here (flash: twice the model's weights), so the
kernels multiply a pair of int16 activations by a pair of weights with one SMLAD per two loads
(conv, FC: 4 output channels per block, the weights of a block interleaved so one pointer walks
them) or one SMLABB + SMLATT (depthwise: channel pairs). The sums are int32: ``pack`` refuses a
filter whose channel could overflow (32768 * sum |w| >= 2^31); the int64 bias and the
requantization are the plain kernels'. Conditions: groups == 1, no dilation (conv: an odd input
depth through a per-pixel window in the scratch), an even input depth (FC); depth multiplier 1
and no dilation (depthwise).

arm_fc8_s16: the FULLY_CONNECTED on the int8 weights (``pack_words8``, widened by SXTB16 as they
are read, runtime/kernels/arm/tcc_arm_g8.h; no flash beyond them, no scratch, any input depth),
the activations read as they are: where the flash budget has no room for arm_fc_s16's widened
weights, or the input depth is odd.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, ops, packing
from ..ops import NO_READ, window_first, window_reads_min
from ..ops.conv2d import Conv2D, is_hybrid
from ..ops.depthwise_conv2d import DepthwiseConv2D
from ..ops.fully_connected import FullyConnected
from . import Packed, Variant, register

ROWS = 4                   # TCC_ARM_S16_ROWS

# Estimated Cortex-M4 cycles (tinycc.cycles' model), calibrated with tinycc bench on the layers of
# bench/cmsis_nn_reference.py (conv 3x3 16 -> 16 on 25x5: 439k cycles, this model 439k; depthwise
# 3x3 on 25x5x16: 160k, 156k; FC 256 -> 64: 24.2k, 24.3k): per MAC,
# per block of 4 channels and filter row inside the image (conv), per filter tap of a group of 4
# channels (depthwise), per output value (requantization, clamp, store).
CONV_MAC_CYCLES = 1.15
FC_MAC_CYCLES = 1.35
FC_BLOCK_CYCLES = 40
IM2COL_CYCLES = 15           # tcc_arm_conv_s16_im2col: its window, per value (3x3 3 -> 5 on 16x16: 240k)
CONV_ROW_CYCLES = 40
DW_TAP_CYCLES = 24
# arm_dw_s16p (tinycc bench, 3x3 on 6x6x64: 393k, this model 392k): per tap of a channel, per
# pixel and channel (the window's set-up, requantization, the plane's copy)
DW1_TAP_CYCLES = 12
DW1_PIXEL_CYCLES = 62
OUT_CYCLES = 24
# arm_fc8_s16 (tinycc bench: 10 -> 16 905 cycles, this model 976; 33 -> 17 1,778, 1,768; 640 ->
# 128 133.8k, 133.6k): per MAC (SXTB16 on every weight word), per block of 4 output channels, per
# block when the depth is not a multiple of 4 (the last group), per output
FC8_MAC_CYCLES = 1.6
FC8_BLOCK_CYCLES = 40
FC8_TAIL_CYCLES = 100
FC8_OUT_CYCLES = 10
PLAIN_S16_OUTPUT_CYCLES = 400   # the plain 16x8 kernels' requantization per output (_ArmS16.plain_cycles)


@dataclass(frozen=True, eq=False)
class S16Packed(Packed):
    """The widened weights (int32 pair words, tcc_arm_s16.h) and the int64 bias (zeros if none)."""
    impl: ClassVar[str] = "arm_conv_s16"
    weights: np.ndarray
    bias: np.ndarray
    rq: np.ndarray | None = None          # the SMMLAR multipliers (tcc_arm_s16.h), or None


@dataclass(frozen=True, eq=False)
class Fc16Packed(S16Packed):
    impl: ClassVar[str] = "arm_fc_s16"


@dataclass(frozen=True, eq=False)
class Dw16Packed(S16Packed):
    impl: ClassVar[str] = "arm_dw_s16"


def check_int32_sums(rows: np.ndarray) -> None:
    """PackError unless every row's products with int16 activations sum within int32."""
    bound = np.abs(rows.astype(np.int64)).sum(axis=1).max(initial=0) * 32768
    if bound >= 2**31:
        raise packing.PackError("a 16x8 output channel's int32 sum may overflow")


def pair_words(a: np.ndarray) -> np.ndarray:
    """An int16 array whose last axis is even as int32 pair words (lo = even element)."""
    return np.ascontiguousarray(a.astype(np.int16)).view(np.int32).reshape(-1)


def pack_rows(w: np.ndarray) -> np.ndarray:
    """Weights [out_c, K] (K even) as tcc_arm_conv_s16's blocks: per block of ROWS output channels
    (zero-padded), per pair of K, the ROWS rows' pair words."""
    out_c, k = w.shape
    blocks = (out_c + ROWS - 1) // ROWS
    wp = np.zeros((blocks * ROWS, k), dtype=np.int16)
    wp[:out_c] = w
    return pair_words(wp.reshape(blocks, ROWS, k // 2, 2).transpose(0, 2, 1, 3))


def pack_groups4(wf: np.ndarray) -> np.ndarray:
    """Weights [rows, n] (n % 4 == 0) for int8 activations widened by SXTB16 (tcc_arm_svdf.h's
    layout, also the int8 LSTM's gates): per block of 4 rows (zero-padded) and group of 4 inputs,
    the rows' (k0, k2) words, then their (k1, k3) words."""
    rows, n = wf.shape
    blocks = (rows + 3) // 4
    w = np.zeros((blocks * 4, n), np.int16)
    w[:rows] = wf
    g = w.reshape(blocks, 4, n // 4, 4)[..., [0, 2, 1, 3]].reshape(blocks, 4, n // 4, 2, 2)
    return pair_words(g.transpose(0, 2, 3, 1, 4))       # [block, group, (k02, k13), row, lane]


def k2(n: int) -> int:
    """n rounded up to an even number."""
    return (int(n) + 1) // 2 * 2


def k4(n: int) -> int:
    """n rounded up to a multiple of 4 (tcc_arm_g8.h's groups)."""
    return (int(n) + 3) // 4 * 4


def pack_words8(w: np.ndarray, lanes=(0, 1, 2, 3)) -> np.ndarray:
    """Int8 weights [rows, K] as tcc_arm_g8.h reads them: per block of 4 rows (zero-padded), per
    group of 4 inputs (the last zero-padded), the 4 rows' words of 4 int8, their bytes the group's
    inputs ``lanes`` (0, 2, 1, 3 for int16 activations read as they are): [blocks, k4(K)] int32."""
    rows, k = w.shape
    blocks = (rows + 3) // 4
    wp = np.zeros((blocks * 4, k4(k)), np.int8)
    wp[:rows, :k] = w
    g = wp.reshape(blocks, 4, -1, 4)[..., list(lanes)]
    return np.ascontiguousarray(g.transpose(0, 2, 1, 3)).view("<i4").reshape(blocks, -1)


def bias64(p, n: int) -> np.ndarray:
    return np.zeros(n, np.int64) if p.bias is None else np.asarray(p.bias, np.int64)


def smmlar_rq(rows: np.ndarray, p) -> np.ndarray | None:
    """tcc_arm_s16.h's SMMLAR multipliers m16 << (32 - t) of an int64-bias op (rows: the weights
    [channel, K]), or None when some channel's t = 15 - shift is outside [16, 32] or its
    acc + bias may leave int32."""
    if not p.acc64:
        return None
    bias = bias64(p, rows.shape[0])
    bound = np.abs(rows.astype(np.int64)).sum(axis=1) * 32768 + np.abs(bias)
    mult, t = np.asarray(p.mult, np.int64), 15 - np.asarray(p.shift, np.int64)
    if bound.max(initial=0) >= 2**31 or t.min(initial=16) < 16 or t.max(initial=32) > 32:
        return None
    reduced = np.where(mult < 0x7FFF0000, (mult + (1 << 15)) >> 16, 0x7FFF)
    return (reduced << (32 - t)).astype(np.int32)


class _ArmS16(Variant):
    sources = ("arm/tcc_arm_s16",)

    def plain_cycles(self, g, o):
        """The plain 16x8 kernels requantize each output from a 64-bit sum in C (library calls on
        the M4): ~400 cycles per output on top of the MACs (tinycc bench, a 3x3 16x8 depthwise of
        96 outputs and 864 MACs: 46,626 cycles), which the flat per-MAC default leaves out."""
        out = ir.tensor(g, o.outputs[0])
        return super().plain_cycles(g, o) + PLAIN_S16_OUTPUT_CYCLES * out.size

    def geometry(self, g, o) -> list:
        """The shape fields of tcc_arm_s16_params, in order."""
        raise NotImplementedError

    def emit(self, g, o, ctx, pk):
        p, fast = o.params, pk.rq is not None
        fields = self.geometry(g, o) + [
            ("act_min", p.act_range[0]), ("act_max", p.act_range[1]), ("acc64", int(p.acc64)),
            ("weights", ctx.const_array(o, "weights", "int32_t", pk.weights)),
            ("bias", None if fast else ctx.const_array(o, "bias", "int64_t", pk.bias)),
            ("mult", None if fast else ctx.const_array(o, "mult", "int32_t", p.mult)),
            ("shift", None if fast else ctx.const_array(o, "shift", "int32_t", p.shift)),
            ("rq", ctx.const_array(o, "rq", "int32_t", np.stack([pk.bias, pk.rq], axis=1).reshape(-1))
                   if fast else None)]
        params = ctx.struct(o, "tcc_arm_s16_params", fields)
        self.call(ctx, o, f"{self.entry(g, o)}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}"
                          f"{self.more_args(ctx, g, o)});")

    def entry(self, g, o) -> str:
        """The C function the op calls."""
        return self.entries[0]

    def more_args(self, ctx, g, o) -> str:
        """The call's arguments after the output (none)."""
        return ""


def _s16_weighted(g, o) -> bool:
    x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
    return x.dtype == "int16" and w.dtype == "int8" and w.is_const and not is_hybrid(g, o)


def _conv_geometry(g, o, out_c: int) -> list:
    x, w, p, a = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1]), o.params, o.attrs
    return [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("in_c", x.shape[3]),
            ("out_h", p.out_h), ("out_w", p.out_w), ("out_c", out_c), ("k_h", w.shape[1]), ("k_w", w.shape[2]),
            ("stride_h", a["stride_h"]), ("stride_w", a["stride_w"]),
            ("pad_top", p.pad_top), ("pad_left", p.pad_left)]


def _fc_geometry(rows: int, depth: int, out_c: int) -> list:
    return [("batches", rows), ("in_h", 1), ("in_w", 1), ("in_c", depth), ("out_h", 1), ("out_w", 1),
            ("out_c", out_c), ("k_h", 1), ("k_w", 1), ("stride_h", 1), ("stride_w", 1), ("pad_top", 0),
            ("pad_left", 0)]


def _no_dilation(o) -> bool:
    return o.attrs.get("dilation_h", 1) == 1 and o.attrs.get("dilation_w", 1) == 1


@register
class ArmConvS16(_ArmS16):
    """A pointwise convolution (1x1, stride 1, no padding, even input depth) runs as the
    FULLY_CONNECTED of its pixels (tcc_arm_fc_s16: the same weights and order, without the
    window's bookkeeping); one of odd input depth gathers each pixel's window into the scratch
    first (tcc_arm_conv_s16_im2col: its rows zero-padded to an even length)."""
    name = "arm_conv_s16"
    kinds = (Conv2D.kind,)
    entries = ("tcc_arm_conv_s16", "tcc_arm_fc_s16", "tcc_arm_conv_s16_im2col")

    def applies(self, g, o, target):
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        return _s16_weighted(g, o) and w.shape[3] == x.shape[3] and _no_dilation(o)

    def pack(self, g, o):
        w = ir.tensor(g, o.inputs[1]).data
        rows = w.reshape(w.shape[0], -1)
        check_int32_sums(rows)
        even = np.pad(rows, ((0, 0), (0, rows.shape[1] % 2)))
        return S16Packed(weights=pack_rows(even), bias=bias64(o.params, w.shape[0]), rq=smmlar_rq(rows, o.params))

    @staticmethod
    def im2col(g, o) -> bool:
        return ir.tensor(g, o.inputs[1]).shape[3] % 2 == 1

    def scratch_bytes(self, g, o, pk):
        """tcc_arm_conv_s16_im2col's window: k_h * k_w * in_c int16, made even."""
        w = ir.tensor(g, o.inputs[1])
        return 2 * k2(w.shape[1] * w.shape[2] * w.shape[3]) if self.im2col(g, o) else 0

    def more_args(self, ctx, g, o) -> str:
        return f", {ctx.scratch(o)}" if self.im2col(g, o) else ""

    def cycles(self, g, o, pk):
        p, w = o.params, ir.tensor(g, o.inputs[1])
        pixels = p.batches * p.out_h * p.out_w
        blocks = (w.shape[0] + ROWS - 1) // ROWS
        if self.pointwise(g, o):
            return FC_MAC_CYCLES * ops.lookup(o.kind).macs(g, o) + pixels * (blocks * FC_BLOCK_CYCLES
                                                                              + w.shape[0] * OUT_CYCLES)
        if self.im2col(g, o):
            k = k2(w.shape[1] * w.shape[2] * w.shape[3])
            return pixels * (FC_MAC_CYCLES * k * blocks * ROWS + IM2COL_CYCLES * k + blocks * FC_BLOCK_CYCLES
                             + w.shape[0] * OUT_CYCLES)
        return (CONV_MAC_CYCLES * ops.lookup(o.kind).macs(g, o) + pixels * blocks * w.shape[1] * CONV_ROW_CYCLES
                + pixels * w.shape[0] * OUT_CYCLES)

    @staticmethod
    def pointwise(g, o) -> bool:
        w, a, p = ir.tensor(g, o.inputs[1]), o.attrs, o.params
        return (w.shape[1] == w.shape[2] == 1 and w.shape[3] % 2 == 0 and a["stride_h"] == a["stride_w"] == 1
                and p.pad_top == p.pad_left == 0 and p.out_h == p.in_h and p.out_w == p.in_w)

    def entry(self, g, o) -> str:
        return self.entries[1] if self.pointwise(g, o) else self.entries[2] if self.im2col(g, o) else self.entries[0]

    def reads_min(self, g, o, slot, pk):
        """Per output pixel in order and block of 4 channels: the pixel's window (from its first
        in-image pixel, channel 0), then the block's values."""
        if slot != 0:
            return None
        x, w, p, a = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1]), o.params, o.attrs
        out_c = w.shape[0]
        fy = window_first(p.in_h, p.out_h, a["stride_h"], p.pad_top, w.shape[1], 1)
        fx = window_first(p.in_w, p.out_w, a["stride_w"], p.pad_left, w.shape[2], 1)
        r = window_reads_min(p.batches, p.in_h, p.in_w, x.shape[3], fy, fx,
                             np.zeros(out_c, np.int64)).reshape(-1, out_c)
        r[:, np.arange(out_c) % ROWS != 0] = NO_READ
        return r.ravel()

    def geometry(self, g, o):
        w, p = ir.tensor(g, o.inputs[1]), o.params
        if self.pointwise(g, o):
            return _fc_geometry(p.batches * p.out_h * p.out_w, w.shape[3], w.shape[0])
        return _conv_geometry(g, o, w.shape[0])


@register
class ArmFcS16(_ArmS16):
    name = "arm_fc_s16"
    kinds = (FullyConnected.kind,)
    entries = ("tcc_arm_fc_s16",)

    def applies(self, g, o, target):
        return _s16_weighted(g, o) and o.params.in_depth % 2 == 0

    def pack(self, g, o):
        w = ir.tensor(g, o.inputs[1]).data
        check_int32_sums(w)
        return Fc16Packed(weights=pack_rows(w), bias=bias64(o.params, w.shape[0]), rq=smmlar_rq(w, o.params))

    def cycles(self, g, o, pk):
        p = o.params
        return (FC_MAC_CYCLES * p.batches * p.in_depth * p.out_depth
                + p.batches * ((p.out_depth + ROWS - 1) // ROWS * FC_BLOCK_CYCLES + p.out_depth * OUT_CYCLES))

    def reads_min(self, g, o, slot, pk):
        """Every block of 4 outputs reads its batch row again, then writes its values."""
        if slot != 0:
            return None
        p = o.params
        r = np.full((p.batches, p.out_depth), NO_READ, dtype=np.int64)
        r[:, ::ROWS] = (np.arange(p.batches) * p.in_depth)[:, None]
        return r.ravel()

    def geometry(self, g, o):
        return _fc_geometry(o.params.batches, o.params.in_depth, o.params.out_depth)


@dataclass(frozen=True, eq=False)
class Fc8Packed(S16Packed):
    impl: ClassVar[str] = "arm_fc8_s16"


@register
class ArmFc8S16(ArmFcS16):
    name = "arm_fc8_s16"
    entries = ("tcc_arm_fc8_s16",)

    def applies(self, g, o, target):
        return _s16_weighted(g, o)

    def pack(self, g, o):
        """The weight stream (per block of 4 channels their int32 biases, then ``pack_words8``'s
        words for int16 activations) and rq {0, m} (the biases are in the sums); needs the SMMLAR
        requantization."""
        p, w = o.params, ir.tensor(g, o.inputs[1]).data
        rq = smmlar_rq(w, p)
        if rq is None:
            raise packing.PackError("arm_fc8_s16 needs the SMMLAR requantization")
        words = pack_words8(w, (0, 2, 1, 3))
        bias = np.zeros(4 * words.shape[0], np.int32)
        bias[:w.shape[0]] = bias64(p, w.shape[0])          # fits int32: smmlar_rq checked
        stream = np.concatenate([bias.reshape(-1, 4), words], axis=1).reshape(-1)
        return Fc8Packed(weights=stream, bias=np.zeros(w.shape[0], np.int64), rq=rq)

    def cycles(self, g, o, pk):
        p = o.params
        blocks = (p.out_depth + ROWS - 1) // ROWS
        return p.batches * (FC8_MAC_CYCLES * p.in_depth * p.out_depth + p.out_depth * FC8_OUT_CYCLES
                            + blocks * (FC8_BLOCK_CYCLES + (FC8_TAIL_CYCLES if p.in_depth % 4 else 0)))


@register
class ArmDwS16(_ArmS16):
    name = "arm_dw_s16"
    kinds = (DepthwiseConv2D.kind,)
    entries = ("tcc_arm_dw_s16",)

    def applies(self, g, o, target):
        return _s16_weighted(g, o) and o.params.depth_mult == 1 and _no_dilation(o)

    def pack(self, g, o):
        w = ir.tensor(g, o.inputs[1]).data               # [1, k_h, k_w, channels]
        rows = w.reshape(-1, w.shape[3]).T
        check_int32_sums(rows)
        return Dw16Packed(weights=pair_words(np.append(w.reshape(-1), [0] * (w.size % 2))), bias=bias64(o.params, w.shape[3]),
                          rq=smmlar_rq(rows, o.params))

    def cycles(self, g, o, pk):
        p, w = o.params, ir.tensor(g, o.inputs[1])
        pixels = p.batches * p.out_h * p.out_w
        taps = w.shape[1] * w.shape[2]
        return pixels * ((w.shape[3] + 3) // 4 * taps * DW_TAP_CYCLES + w.shape[3] * OUT_CYCLES)

    def reads_min(self, g, o, slot, pk):
        """Per output pixel, channel groups of 4 (packing.reads_min_depthwise)."""
        if slot != 0:
            return None
        x, w, p, a = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1]), o.params, o.attrs
        return packing.reads_min_depthwise(p.batches, p.in_h, p.in_w, x.shape[3], p.out_h, p.out_w, w.shape[1],
                                           w.shape[2], a["stride_h"], a["stride_w"], p.pad_top, p.pad_left)

    def geometry(self, g, o):
        return _conv_geometry(g, o, ir.tensor(g, o.inputs[1]).shape[3])


@dataclass(frozen=True, eq=False)
class Dw16PlanesPacked(S16Packed):
    impl: ClassVar[str] = "arm_dw_s16p"


@register
class ArmDwS16Planes(ArmDwS16):
    """arm_dw_s16's arithmetic in the plain kernel's order (tcc_arm_dw_s16_planes: per channel,
    all output pixels into a scratch plane, then into the output): slower, but with the plain
    kernel's scratch and overlap (the output may share the input's memory), where arm_dw_s16's
    output must stay a row behind the input."""
    name = "arm_dw_s16p"
    entries = ("tcc_arm_dw_s16_planes",)

    def pack(self, g, o):
        pk = super().pack(g, o)
        return Dw16PlanesPacked(weights=pk.weights, bias=pk.bias, rq=pk.rq)

    def cycles(self, g, o, pk):
        p, w = o.params, ir.tensor(g, o.inputs[1])
        pixels = p.batches * p.out_h * p.out_w
        return pixels * w.shape[3] * (w.shape[1] * w.shape[2] * DW1_TAP_CYCLES + DW1_PIXEL_CYCLES)

    def scratch_bytes(self, g, o, pk):
        """The plane of a channel (as the plain kernel's)."""
        return 2 * o.params.out_h * o.params.out_w

    def reads_min(self, g, o, slot, pk):
        return None

    def overlap(self, g, o, slot, pk):
        """DepthwiseConv2D.overlap's rule: a channel is read whole before its slots are written."""
        return DepthwiseConv2D().overlap(g, o, slot)

    def more_args(self, ctx, g, o) -> str:
        return f", {ctx.scratch(o)}"
