"""arm_convk: CONV_2D with a small reduction K = k_h * k_w * in_c (first layers, 1x1 on few
channels) on Cortex-M cores with the DSP extension, int8 weights read from flash
(runtime/kernels/arm/tcc_arm_convk.c, its layouts in tcc_arm_convk.h).

Few MACs per output make the requantization and the set-up the cost, so the loops are turned
around: a block of ``pix`` output pixels is widened once into int16 pair words (im2col, every
activation doubled: the requantization's scale of 2), then channel by channel the weights (16 at
a time) are widened into registers once and every pixel of the block streams through them (LDM of
its pair words, SMLAD), is requantized and stored. Per output channel the records hold the model's
weights (zero-padded to K8) and 4 words (bias, mult, add, shift): about the plain kernel's flash.

Requantization is the exact SMMLAR scheme of tinycc/packing.py on the doubled accumulator: the
variant applies when every non-constant channel has a right shift (scale 2) and
``packing.pack_requant`` proves |2 acc| < 2^31; a constant channel gets zero weights and bias and
its output v as (mult 0, add 2 v + 1, shift 1)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, packing
from ..ops.conv2d import Conv2D, is_hybrid
from ..packing import PackError
from . import Packed, Variant, register
from .arm_conv import no_clamp

MAX_K = 64                  # TCC_ARM_CONVK_MAX_K
HEAD_WORDS = 4              # tcc_arm_convk_head
PIXELS = (16, 4)            # pixels per block, most scratch (fastest) first

# estimated Cortex-M4 cycles (tcc_arm_convk.c; calibrated with tinycc bench on the shared models)
CYCLES_OUT = 9              # per output: requantization, store, loop
CYCLES_PAIR = 1.6           # per pair word of K8 and output: LDM of the column, SMLAD
CYCLES_CHUNK = 4            # per further chunk of 16 and output: the partial sum's load and store
CYCLES_CHANNEL = 30         # per channel and block: call, head, weights widened
CYCLES_WORD = 9             # im2col: per word of 4 activations of a pixel
CYCLES_PIXEL, CYCLES_ROW = 40, 20   # im2col: per pixel, per kernel row


@dataclass(frozen=True, eq=False)
class ConvKPacked(Packed):
    """tcc_arm_convk_s8's constants: the records (tcc_arm_convk.h), K8 and the block size."""
    impl: ClassVar[str] = "arm_convk"
    records: np.ndarray
    k8: int
    pix: int


def k8(k: int) -> int:
    return (k + 7) // 8 * 8


def pack_records(weights: np.ndarray, bias, mult, shift, out_zp: int, pix: int = PIXELS[0]) -> ConvKPacked:
    """The records of tcc_arm_convk_s8 for filter [out_c, k_h, k_w, in_c] int8, the
    zero-point-folded int32 bias and TFLite's per-channel (mult, shift); PackError when the kernel
    cannot be exact (K over MAX_K, a left shift or shift 0 on a non-constant channel, an
    accumulator bound over 2^30)."""
    weights = np.asarray(weights)
    if weights.ndim != 4 or weights.dtype != np.int8:
        raise PackError("convk weights must be int8 [out_c, k_h, k_w, in_c]")
    out_c = weights.shape[0]
    w2d = weights.reshape(out_c, -1)
    k = w2d.shape[1]
    if k > MAX_K:
        raise PackError(f"convk: K = {k} over {MAX_K}")
    b64 = np.asarray(bias, dtype=np.int64).reshape(-1)
    zero = ~np.any(w2d != 0, axis=1)
    const_acc = [int(b) if z else None for b, z in zip(b64, zero)]
    rq, scale_log2, const = packing.pack_requant(mult, shift, out_zp, packing.acc_bound(w2d, b64), const_acc)
    live = ~const
    if np.any(live & ((scale_log2 != 1) | (rq[:, 2] == 0))):
        raise PackError("convk: a non-constant channel without a right shift")
    kk = k8(k)
    wp = np.zeros((out_c, kk), dtype=np.int8)
    wp[:, :k] = np.where(const[:, None], 0, w2d[:, packing.conv_k_order(*weights.shape[1:])])
    head = np.zeros((out_c, HEAD_WORDS), dtype=np.int64)
    head[:, 0] = np.where(const, 0, b64) * 2
    head[:, 1:] = rq
    head[const, 2] = 2 * rq[const, 1] + 1
    head[const, 3] = 1
    rec = np.concatenate([head, wp.view(np.int32).astype(np.int64)], axis=1)
    return ConvKPacked(records=((rec.reshape(-1) & 0xFFFFFFFF).astype(np.uint32)).view(np.int32), k8=kk, pix=pix)


def scratch_bytes(pix: int, kk: int, k_h: int, k_w: int, in_c: int) -> int:
    """TCC_ARM_CONVK_SCRATCH."""
    run = k_w * in_c
    return pix * (2 * kk + 4) + packing.k4(run) + packing.k4(k_h * (run % 4))


def reads_min(batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, stride_h, stride_w,
              pad_top, pad_left, dil_h, dil_w, pix: int) -> np.ndarray:
    """Blocks of ``pix`` output pixels (flat): a block reads the windows of its pixels, then
    writes all their out_c values."""
    return packing.reads_min_conv(batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, stride_h,
                                  stride_w, pad_top, pad_left, dil_h, dil_w, pix=pix)


def cycles(pixels: int, out_c: int, kk: int, k_h: int, k_w: int, in_c: int, pix: int) -> float:
    """Estimated Cortex-M4 cycles of one run."""
    blocks = (pixels + pix - 1) // pix
    chunks = (kk + 15) // 16
    per_out = CYCLES_OUT + CYCLES_PAIR * kk / 2 + CYCLES_CHUNK * (chunks - 1)
    field = CYCLES_PIXEL + CYCLES_ROW * k_h + CYCLES_WORD * kk / 4
    return pixels * (out_c * per_out + field) + blocks * out_c * CYCLES_CHANNEL


# -- the unit -----------------------------------------------------------------------------------

@register
class ArmConvK(Variant):
    name = "arm_convk"
    kinds = (Conv2D.kind,)
    sources = ("arm/tcc_arm_convk",)
    entries = ("tcc_arm_convk_s8",)

    def applies(self, g, o, target):
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        return (not is_hybrid(g, o) and x.dtype == "int8" and w.dtype == "int8" and len(w.shape) == 4
                and w.shape[3] == x.shape[3] and w.shape[1] * w.shape[2] * w.shape[3] <= MAX_K
                and no_clamp(o.params.act_range))

    def packs(self, g, o):
        p = o.params
        pk = pack_records(ir.tensor(g, o.inputs[1]).data, p.bias, p.mult, p.shift, p.out_zp)
        return [ConvKPacked(records=pk.records, k8=pk.k8, pix=pix) for pix in PIXELS]

    def pack(self, g, o):
        return self.packs(g, o)[0]

    def scratch_bytes(self, g, o, pk):
        _, k_h, k_w, in_c = ir.tensor(g, o.inputs[1]).shape
        return scratch_bytes(pk.pix, pk.k8, k_h, k_w, in_c)

    def reads_min(self, g, o, slot, pk):
        if slot != 0:
            return None
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        return reads_min(p.batches, p.in_h, p.in_w, x.shape[3], p.out_h, p.out_w, w.shape[0], w.shape[1],
                         w.shape[2], a["stride_h"], a["stride_w"], p.pad_top, p.pad_left, a["dilation_h"],
                         a["dilation_w"], pk.pix)

    def cycles(self, g, o, pk):
        p = o.params
        out_c, k_h, k_w, in_c = ir.tensor(g, o.inputs[1]).shape
        return cycles(p.batches * p.out_h * p.out_w, out_c, pk.k8, k_h, k_w, in_c, pk.pix)

    def emit(self, g, o, ctx, pk):
        """The params struct and the call of tcc_arm_convk_s8."""
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        out_c, k_h, k_w, _ = w.shape
        fields = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("in_c", x.shape[3]),
                  ("out_h", p.out_h), ("out_w", p.out_w), ("out_c", out_c), ("k_h", k_h), ("k_w", k_w),
                  ("stride_h", a["stride_h"]), ("stride_w", a["stride_w"]),
                  ("dil_h", a["dilation_h"]), ("dil_w", a["dilation_w"]),
                  ("pad_top", p.pad_top), ("pad_left", p.pad_left), ("in_zp", p.in_zp), ("k8", pk.k8),
                  ("pix", pk.pix), ("records", ctx.const_array(o, "records", "int32_t", pk.records))]
        params = ctx.struct(o, "tcc_arm_convk_params", fields)
        self.call(ctx, o, f"tcc_arm_convk_s8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                          f"{ctx.scratch(o)});")
