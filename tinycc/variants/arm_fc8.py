"""FULLY_CONNECTED int8 with int8 weights for Cortex-M DSP cores: runtime/kernels/arm/tcc_arm_fc8.c.

Two output rows share one weight word per 2 inputs (tcc_arm_fc8.h: the row trick), so per 4 MACs
of a row pair the inner loop does one LDR, one SXTB16 and two SMLAD; the weights stay one byte each
(the model's bytes, reordered, the first row of each pair offset by 128).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from .. import ir, packing
from ..ops.conv2d import is_hybrid
from ..ops.fully_connected import FullyConnected, fc_head_only
from ..packing import PackError
from . import Packed, Variant, register

ROWS = 4                 # TCC_ARM_FC8_ROWS: output rows per block
HEAD_WORDS = 4           # tcc_arm_fc8_head
GROUP_WORDS = 4          # TCC_ARM_FC8_GROUP_WORDS
RQ_WORDS = 3             # tcc_arm_rq
UNROLL = 8               # FC8_UNROLL: groups per pass of the inner loop

# Estimated Cortex-M4 cycles (tinycc.cycles' model), counted on the asm of tcc_arm_fc8.c and checked
# with tinycc bench on ad01_int8 (a 128 x 128 layer without the row in the scratch: 23,566 cycles,
# this model 23,900): per group of 4 inputs and block of 4 rows, per pass of UNROLL groups, per
# block (start, requantization, store; the clamp adds 6), per call and batch row (the sum of the
# inputs, and the widening into the scratch: per group).
GROUP_CYCLES = {False: 20, True: 19}        # by ``row``
PASS_CYCLES = 6
BLOCK_CYCLES = 80
CLAMP_CYCLES = 6
ROW_CYCLES = 120
SUM_GROUP_CYCLES = 6
WIDEN_GROUP_CYCLES = 7


@dataclass(frozen=True, eq=False)
class Fc8Packed(Packed):
    """tcc_arm_fc8_*: the blocks (tcc_arm_fc8.h), the input groups, the accumulators' shift, and
    whether the row is widened into the scratch first (``row``: tcc_arm_fc8_row_s8)."""
    impl: ClassVar[str] = "arm_fc8"
    blocks: np.ndarray
    groups: int
    xshift: int
    row: bool = False


def block_words(groups: int) -> int:
    """TCC_ARM_FC8_BLOCK_WORDS(groups)."""
    return HEAD_WORDS + GROUP_WORDS * groups + ROWS * RQ_WORDS


def scratch_bytes(in_depth: int) -> int:
    """TCC_ARM_FC8_SCRATCH: the widened batch row, 8 bytes per group of 4 inputs."""
    return 8 * ((in_depth + 3) // 4)


def pack_fc8(weights, bias, mult, shift, out_zp: int) -> dict:
    """The constants of tcc_arm_fc8_s8 for int8 weights [out_depth, in_depth] and the
    zero-point-folded bias: ``blocks`` (int32, the layout of tcc_arm_fc8.h), ``groups`` and
    ``xshift``. Raises PackError when the kernel cannot be exact: rows whose requantization
    left shifts differ (the inputs carry one 2^xshift for all rows), or a non-constant row with a
    right shift of 0 (the asm always adds acc >> 31), or an accumulator that may overflow."""
    w = np.asarray(weights)
    if w.ndim != 2 or w.dtype != np.int8:
        raise PackError("fc weights must be int8 [out_depth, in_depth]")
    out_d, in_d = w.shape
    b64 = np.asarray(bias, dtype=np.int64).reshape(-1)
    zero_rows = ~np.any(w != 0, axis=1)
    const_acc = [int(b) if z else None for b, z in zip(b64, zero_rows)]
    rq, scale_log2, const = packing.pack_requant(mult, shift, out_zp, packing.acc_bound(w, b64), const_acc)
    live = ~const
    shifts = set(scale_log2[live].tolist())
    if len(shifts) > 1:
        raise PackError(f"rows need different left shifts {sorted(shifts)}")
    if np.any(live & (rq[:, 2] == 0)):
        raise PackError("a row has a right shift of 0")
    xshift = shifts.pop() if shifts else 1
    groups = (in_d + 3) // 4
    rows = (out_d + ROWS - 1) // ROWS * ROWS
    wp = np.zeros((rows, 4 * groups), dtype=np.int64)
    wp[:out_d, :in_d] = w
    bp = np.zeros(rows, dtype=np.int64)
    bp[:out_d] = np.where(const, 0, b64)
    rqp = np.zeros((rows, 3), dtype=np.int64)
    rqp[:out_d] = rq
    nb = rows // ROWS
    wb = wp.reshape(nb, 2, 2, groups, 4)                 # [block, pair, A/B, group, k]
    a, b = wb[:, :, 0], wb[:, :, 1]                      # [block, pair, group, k]
    real = (np.arange(4 * groups) < in_d).reshape(groups, 4)
    lo = np.where(real, (a + 128) | ((b & 0xFF) << 8), 0)   # bytes (a + 128, b): one int16 lane
    w02 = lo[..., 0] | (lo[..., 2] << 16)                # k0 / k2
    w13 = lo[..., 1] | (lo[..., 3] << 16)                # k1 / k3
    words = np.stack([w02, w13], axis=3)                 # [block, pair, group, 2]
    words = words.transpose(0, 2, 1, 3).reshape(nb, 4 * groups)
    bb = bp.reshape(nb, 4)
    head = np.stack([bb[:, 0] + 256 * bb[:, 1], bb[:, 1], bb[:, 2] + 256 * bb[:, 3], bb[:, 3]], axis=1)
    blocks = np.concatenate([head, words, rqp.reshape(nb, 12)], axis=1).reshape(-1)
    blocks = ((blocks & 0xFFFFFFFF).astype(np.uint32)).view(np.int32)
    return dict(blocks=blocks, groups=groups, xshift=int(xshift))


def reference(x, pk: dict, out_depth: int, act_min: int = -128, act_max: int = 127) -> np.ndarray:
    """tcc_arm_fc8_s8's arithmetic in numpy (int64, wrapped to int32 where the kernel wraps):
    the outputs [batches, out_depth] for int8 inputs x [batches, in_depth]."""
    x = np.asarray(x, dtype=np.int64)
    groups, xs = pk["groups"], pk["xshift"]
    blk = pk["blocks"].astype(np.int64).reshape(-1, block_words(groups))
    wrap = lambda v: ((v + 2**31) % 2**32) - 2**31          # noqa: E731
    out = []
    for row in x:
        xp = np.zeros(4 * groups, dtype=np.int64)
        xp[:row.size] = row
        corr = -128 * int(xp.sum())
        res = []
        for bl in blk:
            head, g, rq = bl[:4], bl[4:4 + 4 * groups].reshape(groups, 2, 2), bl[4 + 4 * groups:].reshape(4, 3)
            accs = []
            for pair in range(2):
                wd = g[:, pair] & 0xFFFFFFFF                               # [group, (k02, k13)]
                lanes = np.stack([wd & 0xFFFF, wd >> 16], axis=-1)        # [group, 2, lane]
                lanes = np.where(lanes >= 2**15, lanes - 2**16, lanes)
                bsx = np.where((lanes >> 8) & 0x80, ((lanes >> 8) & 0xFF) - 256, (lanes >> 8) & 0xFF)
                xg = xp.reshape(groups, 4)[:, [[0, 2], [1, 3]]]            # [group, 2, lane]
                m = wrap(head[2 * pair] + corr + int((xg * lanes).sum()))
                bacc = wrap(head[2 * pair + 1] + int((xg * bsx).sum()))
                accs += [wrap(wrap(m - (bacc << 8)) << xs), wrap(bacc << xs)]
            res += packing.requant_fast(np.array(accs), rq).tolist()
        out.append(np.clip(res[:out_depth], act_min, act_max))
    return np.array(out, dtype=np.int64)


@register
class ArmFc8(Variant):
    name = "arm_fc8"
    kinds = (FullyConnected.kind,)
    sources = ("arm/tcc_arm_fc8",)
    entries = ("tcc_arm_fc8_s8", "tcc_arm_fc8_clamp_s8", "tcc_arm_fc8_row_s8", "tcc_arm_fc8_row_clamp_s8")

    def applies(self, g, o, target):
        """int8 FULLY_CONNECTED with constant int8 weights; not a small classifier head (the plain
        kernel's code is smaller: see FullyConnected.pack)."""
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        return (x.dtype == "int8" and w.dtype == "int8" and w.is_const and not is_hybrid(g, o)
                and not fc_head_only(g))

    def pack(self, g, o):
        p, w = o.params, ir.tensor(g, o.inputs[1])
        return Fc8Packed(**pack_fc8(w.data, p.bias, p.mult, p.shift, p.out_zp), row=o.params.in_depth % 4 != 0)

    def packs(self, g, o):
        """The row widened into the scratch (one cycle per group less), then (in_depth % 4 == 0)
        reading the int8 row, no scratch."""
        pk = replace(self.pack(g, o), row=True)
        return [pk] + ([replace(pk, row=False)] if o.params.in_depth % 4 == 0 else [])

    def cycles(self, g, o, pk):
        p = o.params
        blocks = (p.out_depth + 3) // 4
        passes = (pk.groups + UNROLL - 1) // UNROLL
        clamp = tuple(p.act_range) != (-128, 127)
        per_block = (GROUP_CYCLES[pk.row] * pk.groups + PASS_CYCLES * passes + BLOCK_CYCLES
                     + CLAMP_CYCLES * clamp)
        per_row = ROW_CYCLES + pk.groups * (SUM_GROUP_CYCLES + WIDEN_GROUP_CYCLES * pk.row)
        return p.batches * (blocks * per_block + per_row)

    def scratch_bytes(self, g, o, pk):
        return scratch_bytes(o.params.in_depth) if pk.row else 0

    def reads_min(self, g, o, slot, pk):
        """Row in the scratch: each batch row is read before its first output; else every block
        of 4 outputs reads the whole row again (packing.reads_min_fc)."""
        if slot != 0:
            return None
        p = o.params
        return packing.reads_min_fc(p.batches, p.in_depth, p.out_depth, row_in_scratch=pk.row)

    def emit(self, g, o, ctx, pk):
        p = o.params
        clamp = tuple(p.act_range) != (-128, 127)
        fields = [("batches", p.batches), ("in_depth", p.in_depth), ("out_depth", p.out_depth),
                  ("groups", pk.groups), ("xshift", pk.xshift), ("act_min", p.act_range[0]),
                  ("act_max", p.act_range[1]), ("blocks", ctx.const_array(o, "blocks", "int32_t", pk.blocks))]
        params = ctx.struct(o, "tcc_arm_fc8_s8_params", fields)
        fn = "tcc_arm_fc8" + ("_row" if pk.row else "") + ("_clamp" if clamp else "") + "_s8"
        scratch = ctx.scratch(o) if pk.row else "NULL"
        self.call(ctx, o, f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {scratch});")
