"""DEPTHWISE_CONV_2D int8 with int8 weights for Cortex-M DSP cores: runtime/kernels/arm/tcc_arm_dw8.c.

3x3, stride 1 or 2, multiplier 1: compact int8 constants in flash (18 bytes per channel); the kernel
builds the int16 records of tcc_arm_depthwise3x3_s8 in its scratch at each call and runs it.
"""
from __future__ import annotations

import numpy as np

from .. import packing
from ..packing import PackError

TAP_BYTES = 10           # TCC_ARM_DW8_TAP_BYTES
RECORD_BYTES = 40        # TCC_ARM_DW8_RECORD_BYTES


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


def scratch_bytes(channels: int, dw3x3_scratch: int) -> int:
    """The records (TCC_ARM_DW8_RECORD_BYTES per channel), then tcc_arm_depthwise3x3_s8's scratch."""
    return RECORD_BYTES * channels + dw3x3_scratch
