"""DEPTHWISE_CONV_2D int8 with int8 weights for Cortex-M DSP cores: runtime/kernels/arm/tcc_arm_dw8.c.

3x3, stride 1 or 2, multiplier 1: compact int8 constants in flash (18 bytes per channel); per group of
4 channels (2 or 1 where RAM is short) the kernel widens the input lines into int16 pair words and
runs blocks of 6 outputs (3 at a short end) with SMLAD on tap pairs in asm (tcc_arm_dw8.h). At stride
1 also ``plane``: tcc_arm_dw8_plane_s8, one channel's whole plane at a time (the least scratch), every
channel in one asm call that unpacks its constants, widens its lines and runs its blocks (a line of
6 k + 1 outputs ends with a block of 7).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, packing
from ..ops.depthwise_conv2d import DepthwiseConv2D
from ..packing import PackError
from . import Packed, Variant, register

TAP_BYTES = 10           # TCC_ARM_DW8_TAP_BYTES
JOB_BYTES = 40           # TCC_ARM_DW8_JOB_BYTES
GROUP = 4                # TCC_ARM_DW8_GROUP: channels widened together
GROUPS = (GROUP, 2, 1)   # channels widened and run together (each its own plane in the scratch)
BLOCK = 6                # TCC_ARM_DW8_BLOCK: outputs computed together along a line


def pack_dw8(weights, bias, mult, shift, out_zp: int, transposed: bool = False) -> dict:
    """The constants of tcc_arm_dw8_3x3_s8 for a [1, 3, 3, C] int8 filter and the zero-point-folded
    bias: ``taps`` (int8 [C, 10]), ``mult`` and ``bias`` (int32 [C]), see tcc_arm_dw8.h; and
    ``records``, what the kernel builds from them (int32 [C * 10], tcc_arm_depthwise3x3_s8's
    layout), for the compile-time decisions (asm lines) and tests."""
    w = np.asarray(weights)
    if w.ndim != 4 or tuple(w.shape[:3]) != (1, 3, 3) or w.dtype != np.int8:
        raise PackError("depthwise 3x3 weights must be int8 [1, 3, 3, C]")
    c = w.shape[3]
    w2d = np.ascontiguousarray(w.reshape(9, c).T)                      # [C, ky*3 + kx]
    b64 = np.asarray(bias, dtype=np.int64).reshape(-1)
    zero_rows = ~np.any(w2d != 0, axis=1)
    const_acc = [int(b) if z else None for b, z in zip(b64, zero_rows)]
    rq, scale_log2, const = packing.pack_requant(mult, shift, out_zp, packing.acc_bound(w2d, b64), const_acc)
    k = w2d.reshape(c, 3, 3)
    if transposed:
        k = k.transpose(0, 2, 1)
    k = np.where(const[:, None, None], 0, k).astype(np.int64)
    taps = np.zeros((c, TAP_BYTES), dtype=np.int64)
    taps[:, :9] = k.reshape(c, 9)
    taps[:, 9] = rq[:, 2] | ((scale_log2 - 1) << 5)
    taps = ((taps & 0xFF).astype(np.uint8)).view(np.int8)
    m = np.where(const, 0, rq[:, 0]).astype(np.int64)
    b = np.where(const, rq[:, 1], b64 << scale_log2)
    wrap = lambda v: ((np.asarray(v, dtype=np.int64) & 0xFFFFFFFF).astype(np.uint32)).view(np.int32)  # noqa: E731
    ks = k << scale_log2[:, None, None]
    pairs = np.stack([packing._pair_words(ks[:, :, 0], ks[:, :, 1]),
                      packing._pair_words(ks[:, :, 1], ks[:, :, 2])], axis=2).reshape(c, 6)
    rec = np.zeros((c, 10), dtype=np.int64)
    rec[:, 0] = m
    rec[:, 1] = np.where(const, rq[:, 1], rq[:, 1])
    rec[:, 2] = np.where(const, 0, rq[:, 2])
    rec[:, 3] = np.where(const, 0, b)
    rec[:, 4:] = np.where(const[:, None], 0, pairs.astype(np.int64))
    return dict(taps=taps.reshape(-1), mult=wrap(m), bias=wrap(b), records=wrap(rec.reshape(-1)))


def geometry(in_h, in_w, out_h, out_w, stride, pad_top, pad_left, transposed) -> tuple[int, int]:
    """(lines, line_len) of tcc_arm_dw8's widened plane: every input line and element the outputs'
    windows reach and the blocks read (a line's full blocks, then its last 1 output, 2..3 or
    4..5: the pair words of 1, 3 and 6 windows from the element after the full blocks)."""
    lines_in, elems_in = (in_w, in_h) if transposed else (in_h, in_w)
    lines_out, n_out = (out_w, out_h) if transposed else (out_h, out_w)
    pad_line, pad_elem = (pad_left, pad_top) if transposed else (pad_top, pad_left)
    lines = max(pad_line + lines_in, (lines_out - 1) * stride + 3)
    full, rest = divmod(n_out, BLOCK)
    reach = 2 if rest == 0 else 4 if rest == 1 else 4 + 2 * stride if rest <= 3 else 2 + BLOCK * stride
    length = max(pad_elem + elems_in, BLOCK * stride * full + reach)
    return lines, (length + 1) // 2 * 2


def scratch_bytes(lines: int, line_len: int, ring: bool, group: int = GROUP, plane: bool = False) -> int:
    """TCC_ARM_DW8_SCRATCH: the group's jobs, then per channel its whole plane or the ring of 3
    line slots and one of in_zp, of line_len int16; TCC_ARM_DW8_PLANE_SCRATCH (tcc_arm_dw8_plane_s8,
    its jobs in the asm's stack frame): one plane."""
    if plane:
        return 2 * lines * line_len
    slots = 4 if ring else lines
    return group * (JOB_BYTES + 2 * slots * line_len)


# Estimated Cortex-M4 cycles (tinycc.cycles' model) of tcc_arm_dw8, calibrated with the per-function
# cycles of one inference of kws_ref_model (every layout forced in turn, within 3 % per layer) and
# of vww_96_int8 with its depthwise layers forced onto arm_dw8 (within 7 %): per block of 6 outputs, of 3 (a line's last 2..3 outputs) at stride 1, 2 and of 1, per
# channel line (its job), per output line of a group (the asm call and the C around it), per
# channel (its constants unpacked), per widened input line (by ring and group: the ring widens
# line by line) and value (group 4: 4 channels a word; 2 and 1: channel by channel, 8 values an
# asm round, a line's last n % 8 one by one, UNROLLED_CYCLES more each for group 1).
BLOCK_CYCLES = {1: 124, 2: 146}
SHORT_BLOCK_CYCLES = {1: 77, 2: 78}
ONE_CYCLES = 52             # a line's last output alone
PARTIAL_CYCLES = 8          # a line's last block storing 4 or 5 of its 6 outputs
JOB_CYCLES = 20
GROUP_LINE_CYCLES = 250     # a call per output line (the ring)
RUN_LINE_CYCLES = 55        # the whole plane: all the lines in one call
CHANNEL_CYCLES = 100
WIDEN_LINE_CYCLES = {(False, GROUP): 100, (False, 2): 100, (False, 1): 20,
                     (True, GROUP): 247, (True, 2): 190, (True, 1): 96}
WIDEN_CYCLES = {GROUP: 3.2, 2: 3.0, 1: 3.4}
UNROLLED_CYCLES = 4


def cycles(batches, channels, in_h, in_w, out_h, out_w, stride, transposed, group=GROUP, ring=False) -> float:
    lines_out, n_out = (out_w, out_h) if transposed else (out_h, out_w)
    lines_in, n_in = (in_w, in_h) if transposed else (in_h, in_w)
    groups = -(-channels // group)
    full, rest = divmod(n_out, BLOCK)
    blocks = (BLOCK_CYCLES[stride] * (full + (rest > 3)) + SHORT_BLOCK_CYCLES[stride] * (1 < rest <= 3)
              + ONE_CYCLES * (rest == 1) + PARTIAL_CYCLES * (rest > 3))
    one_run = not ring
    per_group_line = (RUN_LINE_CYCLES if one_run else GROUP_LINE_CYCLES) + group * (JOB_CYCLES + blocks)
    widen_line = WIDEN_LINE_CYCLES[ring, group] + (group == 1) * UNROLLED_CYCLES * ((n_in - 1) % 8)
    per_group = (group * CHANNEL_CYCLES + GROUP_LINE_CYCLES * one_run + lines_in * widen_line
                 + WIDEN_CYCLES[group] * group * in_h * in_w + lines_out * per_group_line)
    return batches * groups * per_group


# tcc_arm_dw8_plane_s8 (one asm call for all the channels of a batch), calibrated with the
# per-function cycles of kws_ref_model (25x5x64, columns) and of vww_96_int8's op 1 (48x48x8, rows)
# on it (within 3 %): per call (the C, the plane's border: per plane line), per channel (its job,
# the widening's set-up), per widened line (its first value alone when the padding is odd, 8 values a
# round, the last 0..7 in pairs and one alone), per output line (the step to the next, the choice of
# its last block: more when the line is a multiple of 6) and per block (a line of 6 k + 1 ends with
# a block of 7).
PLANE_CALL_CYCLES = 350
PLANE_CALL_LINE_CYCLES = 40
PLANE_CHANNEL_CYCLES = 116
PLANE_WIDEN_LINE_CYCLES = 46
PLANE_WIDEN_ODD_CYCLES = 6
PLANE_WIDEN_CYCLES = 2.75
PLANE_WIDEN_PAIR_CYCLES = 9
PLANE_WIDEN_LAST_CYCLES = 5
PLANE_WIDEN_REST_CYCLES = 4
PLANE_LINE_CYCLES = {0: 49, 7: 22}      # by its last block (rest): 7, 0 and the others (32)
PLANE_BLOCK_CYCLES = 117
PLANE_SEVEN_CYCLES = 134
PLANE_SHORT_BLOCK_CYCLES = 75
PLANE_ONE_CYCLES = 52


def plane_cycles(batches, channels, in_h, in_w, out_h, out_w, pad_top, pad_left, transposed, lines) -> float:
    """``lines``: the plane's (geometry)."""
    lines_out, n_out = (out_w, out_h) if transposed else (out_h, out_w)
    lines_in, n_in = (in_w, in_h) if transposed else (in_h, in_w)
    odd = (pad_top if transposed else pad_left) % 2
    full, rest = divmod(n_out, BLOCK)
    seven = rest == 1 and full > 0
    blocks = (PLANE_BLOCK_CYCLES * (full - seven + (rest > 3)) + PLANE_SEVEN_CYCLES * seven
              + PLANE_SHORT_BLOCK_CYCLES * (1 < rest <= 3) + PLANE_ONE_CYCLES * (rest == 1 and not seven)
              + PARTIAL_CYCLES * (rest > 3))
    line = PLANE_LINE_CYCLES.get(7 if seven else rest, 32)
    rounds, last = divmod(n_in - odd, 8)
    widen = lines_in * (PLANE_WIDEN_LINE_CYCLES + PLANE_WIDEN_ODD_CYCLES * odd + PLANE_WIDEN_CYCLES * 8 * rounds
                        + PLANE_WIDEN_PAIR_CYCLES * (last // 2) + PLANE_WIDEN_LAST_CYCLES * (last % 2)
                        + PLANE_WIDEN_REST_CYCLES * (last > 0))
    return (PLANE_CALL_CYCLES + PLANE_CALL_LINE_CYCLES * lines
            + batches * channels * (PLANE_CHANNEL_CYCLES + widen + lines_out * (line + blocks)))


@dataclass(frozen=True, eq=False)
class Dw8Packed(Packed):
    """tcc_arm_dw8_s8: the compact constants (tcc_arm_dw8.h), the line orientation and the
    widened plane's geometry."""
    impl: ClassVar[str] = "arm_dw8"
    taps: np.ndarray
    mult: np.ndarray
    bias: np.ndarray
    transposed: bool
    lines: int
    line_len: int
    ring: bool = False
    group: int = GROUP
    plane: bool = False         # tcc_arm_dw8_plane_s8 (stride 1, group 1, whole plane)


@register
class ArmDw8(Variant):
    name = "arm_dw8"
    kinds = (DepthwiseConv2D.kind,)
    sources = ("arm/tcc_arm_dw8",)
    entries = ("tcc_arm_dw8_s8", "tcc_arm_dw8_clamp_s8", "tcc_arm_dw8_plane_s8")

    def applies(self, g, o, target):
        """int8, depth multiplier 1, a constant int8 3x3 filter, equal strides 1 or 2, no dilation."""
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        a = o.attrs
        return (x.dtype == "int8" and w.dtype == "int8" and w.is_const and o.params.depth_mult == 1
                and tuple(w.shape[1:3]) == (3, 3) and a["stride_h"] == a["stride_w"] in (1, 2)
                and a["dilation_h"] == a["dilation_w"] == 1)

    def pack(self, g, o):
        return self.packs(g, o)[0]

    def packs(self, g, o):
        """Lines along rows and along columns; each with the whole plane in the scratch or a ring of
        3 lines (less scratch, shares memory with the input only in place), of groups of 4 channels
        or one channel (a quarter of the scratch, slower widening): the fastest first."""
        w, p, s = ir.tensor(g, o.inputs[1]), o.params, o.attrs["stride_h"]
        out = []
        for tr in (False, True):
            pk = pack_dw8(w.data, p.bias, p.mult, p.shift, p.out_zp, transposed=tr)
            lines, length = geometry(p.in_h, p.in_w, p.out_h, p.out_w, s, p.pad_top, p.pad_left, tr)
            out += [Dw8Packed(taps=pk["taps"], mult=pk["mult"], bias=pk["bias"], transposed=tr, lines=lines,
                              line_len=length, ring=ring, group=group) for ring in (False, True) for group in GROUPS]
            if s == 1:
                out.append(Dw8Packed(taps=pk["taps"], mult=pk["mult"], bias=pk["bias"], transposed=tr, lines=lines,
                                     line_len=length, group=1, plane=True))
        return sorted(out, key=lambda pk: (self.cycles(g, o, pk), self.scratch_bytes(g, o, pk)))

    def cycles(self, g, o, pk):
        p = o.params
        c = ir.tensor(g, o.inputs[0]).shape[3]
        if pk.plane:
            return plane_cycles(p.batches, c, p.in_h, p.in_w, p.out_h, p.out_w, p.pad_top, p.pad_left, pk.transposed,
                                pk.lines)
        return cycles(p.batches, c, p.in_h, p.in_w, p.out_h, p.out_w, o.attrs["stride_h"], pk.transposed, pk.group,
                      pk.ring)

    def scratch_bytes(self, g, o, pk):
        return scratch_bytes(pk.lines, pk.line_len, pk.ring, pk.group, pk.plane)

    def overlap(self, g, o, slot, pk):
        """The whole plane: as the plain kernel (tcc_depthwise.c), channel c's whole input plane is
        read before any output of channel c is written, so one batch may share memory at any
        whole-pixel offset. The ring: in place when packing.depthwise3x3_in_place proves it."""
        x, p = ir.tensor(g, o.inputs[0]), o.params
        if slot != 0:
            return None
        if pk.ring:
            ok = packing.depthwise3x3_in_place(p.batches, p.in_h, p.in_w, p.out_h, p.out_w, o.attrs["stride_h"],
                                               p.pad_top, p.pad_left, pk.transposed)
            return ("exactly", 0) if ok else None
        return ("multiple", x.shape[3]) if p.batches == 1 else ("exactly", 0)

    def emit(self, g, o, ctx, pk):
        x, p, a = ir.tensor(g, o.inputs[0]), o.params, o.attrs
        clamp = tuple(p.act_range) != (-128, 127)
        fields = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("channels", x.shape[3]),
                  ("out_h", p.out_h), ("out_w", p.out_w), ("stride", a["stride_h"]), ("pad_top", p.pad_top),
                  ("pad_left", p.pad_left), ("in_zp", p.in_zp), ("out_zp", p.out_zp),
                  ("act_min", p.act_range[0]), ("act_max", p.act_range[1]), ("transposed", int(pk.transposed)),
                  ("lines", pk.lines), ("line_len", pk.line_len), ("ring", int(pk.ring)),
                  ("group", pk.group),
                  ("taps", ctx.const_array(o, "taps", "int8_t", pk.taps)),
                  ("mult", ctx.const_array(o, "mult", "int32_t", pk.mult)),
                  ("bias", ctx.const_array(o, "bias", "int32_t", pk.bias))]
        params = ctx.struct(o, "tcc_arm_dw8_s8_params", fields)
        fn = "tcc_arm_dw8_plane_s8" if pk.plane else "tcc_arm_dw8_clamp_s8" if clamp else "tcc_arm_dw8_s8"
        self.call(ctx, o, f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {ctx.scratch(o)});")
