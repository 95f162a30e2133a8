"""Compile-time packing for the Cortex-M DSP kernels (runtime/kernels/arm).

Every function takes the plain kernels' layout and constants (what ``fold_quantization``
computes: int8 weights, the zero-point-folded int32 bias, per-channel ``mult``/``shift``,
zero points) and returns numpy arrays in the layout the fast kernel reads, or raises
:class:`PackError` when the fast kernel cannot be exact for these constants (the compiler
then keeps the plain kernel). The layouts are documented in ``tcc_arm.h``.

Shared ideas
------------
* Weights become int16 *pair words*: one uint32 holding two int16 lanes, ``lo | hi << 16``.
  Along the reduction axis (K) the values are taken in groups of 4 (k0..k3, zero-padded to a
  multiple of 4) and paired as (k0, k2) and (k1, k3): that is what SXTB16 and
  SXTB16-ROR8 make of a word of four int8 activations, so one SMLAD multiplies matching
  pairs.
* Each output channel's weights and bias are multiplied by ``2**(left + 1)``
  (``left = max(shift, 0)``): the accumulator the kernel ends with is then the doubled,
  left-shifted accumulator of TFLite, which SMMLAR multiplies by the Q31 multiplier with the
  rounding of SaturatingRoundingDoublingHighMul. This is exact (modular arithmetic) as long
  as the accumulator cannot overflow; :func:`check_bound` proves it from the weights and
  bias or raises PackError. int16 pre-scaled weights need ``left <= 7``.
* Requantization constants per output channel are three int32 (``tcc_arm_rq``):
  ``mult``, ``add = 2**(s-1) + out_zp * 2**s`` (``out_zp`` when s == 0) and the right shift
  ``s = max(-shift, 0)``. A channel whose output cannot depend on its accumulator
  (``mult == 0``, or a right shift so large that the rounded result is provably 0) gets
  ``mult = 0, s = 0, add = out_zp`` and a zero bias.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from . import overlap

INT31 = 2**31


class PackError(ValueError):
    """The constants are outside what the fast kernel computes exactly."""


# -- the packed constants of each fast kernel (``Params.packed``; ``impl`` names the kernel) ---------

def const_bytes(obj) -> int:
    """Flash bytes of the numpy arrays a params or packed dataclass holds (what its emit writes as
    constant arrays)."""
    return sum(v.nbytes for f in fields(obj) if isinstance(v := getattr(obj, f.name), np.ndarray))


@dataclass(frozen=True, eq=False)
class ArmDepthwise:
    """tcc_arm_depthwise_s8 (``pack_depthwise``): weight words, pre-scaled bias, requantization
    records (the fields every SMLAD kernel reads)."""
    impl: ClassVar[str] = "arm_dw"
    weights: np.ndarray
    bias: np.ndarray
    rq: np.ndarray


@dataclass(frozen=True, eq=False)
class ArmFC(ArmDepthwise):
    """tcc_arm_fc_s8 (``pack_fc``); ``row_in_scratch``: the input row is expanded into scratch."""
    impl: ClassVar[str] = "arm_fc"
    k_packed: int
    row_in_scratch: bool = True
    lshift: np.ndarray | None = None     # int8 weights (pack_fc_int8): per row, acc << lshift


@dataclass(frozen=True, eq=False)
class ArmFCInt8(ArmFC):
    """tcc_arm_fc_s8_w8_* (``pack_fc_int8``): the weights kept int8, ``lshift`` set."""
    impl: ClassVar[str] = "arm_fc_int8"


@dataclass(frozen=True, eq=False)
class ArmDepthwise3x3:
    """tcc_arm_depthwise3x3_s8 (``pack_depthwise_planar``): per-channel records, lines along
    columns (``transposed``) or rows, ``chunk`` channels at a time, outputs ``staged`` per chunk,
    and the ``scratch`` bytes that takes."""
    impl: ClassVar[str] = "arm_dw3x3"
    records: np.ndarray
    transposed: bool
    row_len: int
    chunk: int
    staged: bool
    scratch: int


@dataclass(frozen=True, eq=False)
class ArmAdd:
    """tcc_arm_add_s8 (``pack_add``): the two rescaled inputs as tables, the output rq."""
    impl: ClassVar[str] = "arm_add"
    table: np.ndarray
    rq: np.ndarray
    size: int



# Per-channel record layouts, field by field (name, int32 words), in the order of the C structs of
# tcc_arm.h (tcc_arm_dw3x3_record, tcc_arm_pw8_record, tcc_arm_pw16_record; tests/test_variants.py
# checks that they agree, and the C checks the numbers its asm uses against the structs).
DW3X3_RECORD = (("mult", 1), ("add", 1), ("shift", 1), ("bias", 1), ("w", 6))
PW8_RECORD = (("w", 4), ("bias", 1), ("mult", 1), ("add", 1), ("shift", 1))
PW16_RECORD = (("bias", 1), ("w", 8), ("mult", 1), ("add", 1), ("shift", 1))


def records(layout, n: int, **fields) -> np.ndarray:
    """[n, words] int32 records of ``layout``: each field's values (n x its words, any integer
    type, taken mod 2**32) in layout order."""
    cols = [np.asarray(fields[name], dtype=np.int64).reshape(n, k) for name, k in layout]
    rec = np.concatenate(cols, axis=1) if cols else np.zeros((n, 0), np.int64)
    return ((rec & 0xFFFFFFFF).astype(np.uint32)).view(np.int32)


def k4(n: int) -> int:
    """n rounded up to a multiple of 4 (the packed reduction length)."""
    return (int(n) + 3) // 4 * 4


# ---------------------------------------------------------------------------
# Requantization
# ---------------------------------------------------------------------------

MAX_RIGHT_SHIFT = 22   # add = 2^(s-1) + zp * 2^s must fit int32 next to SMMLAR's result
MAX_LEFT_SHIFT = 7     # 127 * 2^(left + 1) must fit int16


def _pair_words(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    lo = lo.astype(np.int64) & 0xFFFF
    hi = hi.astype(np.int64) & 0xFFFF
    return ((lo | (hi << 16)).astype(np.uint32)).view(np.int32)


def acc_bound(weights_2d: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Per output channel, the largest |TFLite accumulator| for any int8 input.

    ``weights_2d`` is [channels, K]; every input (and every padded tap, which reads the input
    zero point) lies in [-128, 127], so |acc| <= |bias| + 128 * sum |w|."""
    w = np.abs(weights_2d.astype(np.int64)).sum(axis=1)
    return np.abs(bias.astype(np.int64)) + 128 * w


def pack_requant(mult, shift, out_zp: int, bound, const_acc=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel requantization constants.

    ``bound``: per channel, the largest |accumulator| (:func:`acc_bound`).
    ``const_acc``: per channel, the accumulator if it does not depend on the input (all
    weights zero: it is the bias), else None; such channels output a compile-time constant.
    Returns ``(rq, scale_log2, const)``: rq int32 [n, 3] = (mult, add, s), the log2 of the
    factor each channel's weights and bias are multiplied by (left + 1), and a bool mask of
    channels whose output is the constant out_zp (bias to be zeroed)."""
    mult = np.asarray(mult, dtype=np.int64).reshape(-1)
    shift = np.asarray(shift, dtype=np.int64).reshape(-1)
    bound = np.asarray(bound, dtype=np.int64).reshape(-1)
    n = mult.size
    if not -128 <= out_zp <= 127:
        raise PackError(f"output zero point {out_zp} is not int8")
    rq = np.zeros((n, 3), dtype=np.int64)
    scale_log2 = np.ones(n, dtype=np.int64)
    const = np.zeros(n, dtype=bool)
    # the channels whose output is requantize(bias) + out_zp whatever the input: constants
    fixed = [i for i in range(n) if const_acc is not None and const_acc[i] is not None]
    if fixed:
        const[fixed] = True
        rq[fixed, 1] = requant_ref(np.array([const_acc[i] for i in fixed], dtype=np.int64), mult[fixed],
                                   shift[fixed], out_zp)
    for i in range(n):
        m, sh, b = int(mult[i]), int(shift[i]), int(bound[i])
        if m < 0 or m >= INT31 or (m != 0 and m < 2**30):
            raise PackError(f"channel {i}: multiplier {m} is not a normalized Q31 value")
        left, s = max(sh, 0), max(-sh, 0)
        if const[i]:
            continue
        if m != 0:
            if left > MAX_LEFT_SHIFT:
                raise PackError(f"channel {i}: left shift {left} > {MAX_LEFT_SHIFT}")
            if b * 2 ** (left + 1) >= INT31:
                raise PackError(f"channel {i}: accumulator bound {b} * 2^{left + 1} may overflow int32")
            if s > MAX_RIGHT_SHIFT:
                # |srdhm| <= |acc| * m / 2^31 + 1 < bound * 2^left + 1; below 2^(s-1) it rounds to 0
                if b * 2 ** left + 1 < 2 ** (s - 1):
                    m = 0
                else:
                    raise PackError(f"channel {i}: right shift {s} > {MAX_RIGHT_SHIFT}")
        if m == 0:
            const[i] = True
            rq[i] = (0, out_zp, 0)
            continue
        add = (1 << (s - 1)) + out_zp * (1 << s) if s > 0 else out_zp
        rq[i] = (m, add, s)
        scale_log2[i] = left + 1
    return rq.astype(np.int32), scale_log2, const


def requant_ref(acc, mult, shift, out_zp):
    """TFLite's MultiplyByQuantizedMultiplier(acc) + out_zp, saturated to int8 (numpy, exact)."""
    acc = np.asarray(acc, dtype=np.int64)
    mult = np.asarray(mult, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    x = (acc << left) & 0xFFFFFFFF
    x = np.where(x >= INT31, x - 2**32, x)
    ab = x * mult
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = ab + nudge
    r1 = np.where(q >= 0, q >> 31, -((-q) >> 31))  # C division truncates toward zero
    overflow = (x == -INT31) & (mult == -INT31)
    r1 = np.where(overflow, INT31 - 1, r1)
    mask = (1 << right) - 1
    rem = r1 & mask
    thr = (mask >> 1) + (r1 < 0)
    v = (r1 >> right) + (rem > thr) + out_zp
    return np.clip(v, -128, 127)


def requant_fast(acc_scaled, rq):
    """The kernels' requantization (tcc_arm_rq_pos / _zero) in numpy, for tests."""
    acc = np.asarray(acc_scaled, dtype=np.int64)
    m, add, s = (np.asarray(rq, dtype=np.int64)[..., i] for i in range(3))
    r = ((acc * m + (1 << 31)) >> 32) + add
    r = np.where(s > 0, (r + (acc >> 31)) >> s, r)
    return np.clip(r, -128, 127)


# ---------------------------------------------------------------------------
# Helpers shared by conv / fc / depthwise
# ---------------------------------------------------------------------------

def _scaled_weights_bias(w2d: np.ndarray, bias: np.ndarray, mult, shift, out_zp: int):
    """[n, K] int8 weights, int32 bias -> (int16-range scaled weights [n, K] int64,
    scaled bias int32 [n], rq [n, 3])."""
    w2d = np.asarray(w2d)
    if w2d.dtype != np.int8:
        raise PackError(f"weights must be int8, got {w2d.dtype}")
    bias = np.asarray(bias, dtype=np.int64).reshape(-1)
    zero_rows = ~np.any(w2d != 0, axis=1)
    const_acc = [int(b) if z else None for b, z in zip(bias, zero_rows)]
    rq, scale_log2, const = pack_requant(mult, shift, out_zp, acc_bound(w2d, bias), const_acc)
    w = w2d.astype(np.int64) << scale_log2[:, None]
    b = np.where(const, 0, bias) << scale_log2
    b = ((b & 0xFFFFFFFF).astype(np.uint32)).view(np.int32)
    assert w.min(initial=0) >= -32768 and w.max(initial=0) <= 32767
    return w, b, rq


def _pairs(w2d: np.ndarray) -> np.ndarray:
    """[n, K] -> [n, K4 / 2] pair words in SXTB16 order: (k0, k2), (k1, k3), (k4, k6), ..."""
    n, k = w2d.shape
    kk = k4(k)
    padded = np.zeros((n, kk), dtype=np.int64)
    padded[:, :k] = w2d
    g = padded.reshape(n, kk // 4, 4)
    even = _pair_words(g[:, :, 0], g[:, :, 2])
    odd = _pair_words(g[:, :, 1], g[:, :, 3])
    return np.stack([even, odd], axis=2).reshape(n, kk // 2)


# ---------------------------------------------------------------------------
# CONV_2D (tcc_arm_conv_s8)
# ---------------------------------------------------------------------------

def conv_k_order(k_h: int, k_w: int, in_c: int) -> np.ndarray:
    """The order in which tcc_arm_conv_s8 reads a receptive field (indices into the filter's
    (ky, kx, c) axis). in_c % 4 == 0: (ky, kx, c) itself. Otherwise each kernel row is a run of
    R = k_w * in_c input bytes: first the whole words (4 * (R // 4) bytes) of every row, row by
    row, then the R % 4 tail bytes of every row, row by row (so the kernel expands the rows
    straight from the input, word by word, and only the tails are gathered)."""
    run = k_w * in_c
    if in_c % 4 == 0 or run % 4 == 0:
        return np.arange(k_h * run)
    main = run // 4 * 4
    rows = np.arange(k_h * run).reshape(k_h, run)
    return np.concatenate([rows[:, :main].reshape(-1), rows[:, main:].reshape(-1)])


def pack_conv(weights: np.ndarray, bias, mult, shift, out_zp: int) -> dict:
    """CONV_2D, filter [out_c, k_h, k_w, in_c] int8 (groups == 1).

    Returns ``weights`` (int32 pair words), ``bias`` (int32 [out_c]), ``rq`` (int32
    [out_c, 3]) and ``k_packed`` (K4 = k_h*k_w*in_c rounded up to a multiple of 4).

    Weight layout: K runs over the filter in :func:`conv_k_order`, zero-padded to K4, paired as in
    :func:`_pairs`; out channels go in blocks of 4: for block b (channels 4b .. 4b+3) and pair
    j = 0 .. K4/2-1 the words ``P[4b][j], P[4b+1][j], P[4b+2][j], P[4b+3][j]``; the last
    out_c % 4 channels follow one by one as ``P[oc][0 .. K4/2-1]``. Total out_c * K4 / 2 words.
    """
    weights = np.asarray(weights)
    if weights.ndim != 4:
        raise PackError("conv weights must be [out_c, k_h, k_w, in_c]")
    out_c = weights.shape[0]
    w2d = weights.reshape(out_c, -1)[:, conv_k_order(*weights.shape[1:])]
    w, b, rq = _scaled_weights_bias(w2d, bias, mult, shift, out_zp)
    pairs = _pairs(w)
    words = []
    nb = out_c // 4
    if nb:
        words.append(pairs[: 4 * nb].reshape(nb, 4, -1).transpose(0, 2, 1).reshape(-1))
    for oc in range(4 * nb, out_c):
        words.append(pairs[oc])
    packed = np.concatenate(words) if words else np.zeros(0, np.int32)
    return dict(weights=packed.astype(np.int32), bias=b, rq=rq, k_packed=k4(w2d.shape[1]),
                records=conv_records(weights.shape, pairs, w, b, rq), blocks=conv_blocks(pairs, w, b, rq))


def _rq_always_adds_sign(w, b, rq) -> bool:
    """The records / blocks kernels always add acc >> 31 before the shift: fine when every
    channel with shift 0 has a zero accumulator (a constant channel)."""
    return all(rq[oc][2] != 0 or (not np.any(w[oc] != 0) and int(b[oc]) == 0) for oc in range(len(rq)))


def conv_blocks(pairs, w, b, rq):
    """The optional 2x2 blocks of tcc_arm_conv_s8 (tcc_arm.h: blocks), out_c even: per channel
    pair (a, b): bias_a, bias_b, bias_a, bias_b (the 4 accumulators in one LDM), then per group
    g of 2 pairs P_a[2g], P_a[2g+1], P_b[2g], P_b[2g+1], then the rq of a and of b, the last
    pair's shift_b | 0x100 (the end mark; ASR by a register uses its low byte); or None."""
    pairs = np.asarray(pairs, dtype=np.int64)
    out_c, npairs = pairs.shape
    if out_c == 0 or out_c % 2 or npairs % 2 or not _rq_always_adds_sign(w, b, rq):
        return None
    bias = np.asarray(b, dtype=np.int64)
    rqs = np.asarray(rq, dtype=np.int64).reshape(out_c, 3).copy()
    rqs[-1, 2] |= 0x100
    rows = []
    for c in range(0, out_c, 2):
        pa = pairs[c].reshape(-1, 2)
        pb = pairs[c + 1].reshape(-1, 2)
        rows.append(np.concatenate([[bias[c], bias[c + 1], bias[c], bias[c + 1]],
                                    np.concatenate([pa, pb], axis=1).reshape(-1), rqs[c], rqs[c + 1]]))
    blk = np.concatenate(rows)
    return ((blk & 0xFFFFFFFF).astype(np.uint32)).view(np.int32)


def conv_records(shape, pairs, w, b, rq):
    """The optional per-channel records of tcc_arm_conv_s8 (tcc_arm.h: records) for a 1x1 filter on
    8 or 16 input channels with out_c % 4 == 0: in_c 8: [out_c, 8] int32 = 4 pair words, scaled
    bias, mult, add, shift (| 0x100 on the last channel); in_c 16: [out_c, 12] = bias, 8 pair
    words, mult, add, shift. The kernel's requantization there always adds acc >> 31,
    so a channel with shift 0 must have a zero accumulator (a constant channel); otherwise None."""
    out_c, k_h, k_w, in_c = shape
    if (k_h, k_w) != (1, 1) or in_c not in (8, 16) or out_c == 0 or out_c % 4:
        return None
    for oc in range(out_c):
        if rq[oc][2] == 0 and (np.any(w[oc] != 0) or int(b[oc]) != 0):
            return None
    rqs = np.asarray(rq, dtype=np.int64).reshape(out_c, 3).copy()
    rqs[-1, 2] |= 0x100
    # 8 channels: pairs, bias, rq; 16 channels: bias, pairs, rq (the kernels' LDM register order)
    return records(PW8_RECORD if in_c == 8 else PW16_RECORD, out_c, w=pairs, bias=b, mult=rqs[:, 0],
                   add=rqs[:, 1], shift=rqs[:, 2])


CONV_PIX = 2   # output pixels per block of tcc_arm_conv_s8


def conv_scratch_bytes(k_h: int, k_w: int, in_c: int, out_c: int = 0) -> int:
    """Scratch of tcc_arm_conv_s8: 2 pixels of K4 int16 (im2col), plus 2 pixels of K4 int8
    staging when in_c is not a multiple of 4."""
    kk = k4(k_h * k_w * in_c)
    return 2 * CONV_PIX * kk + (CONV_PIX * kk if in_c % 4 else 0)


# ---------------------------------------------------------------------------
# FULLY_CONNECTED (tcc_arm_fc_s8)
# ---------------------------------------------------------------------------

FC_ROWS = 4


def pack_fc(weights: np.ndarray, bias, mult, shift, out_zp: int) -> dict:
    """FULLY_CONNECTED, weights [out_depth, in_depth] int8.

    Returns ``weights`` (int32 pair words), ``bias`` (int32, out_depth rounded up to 4,
    padding 0), ``rq`` (int32 [out_depth, 3]) and ``k_packed`` (K4 of in_depth).

    Weight layout: rows in blocks of 4 (the last block zero-padded); within a block, for each
    group of 4 inputs (two pairs j, j+1): ``P[r0][j], P[r0][j+1], P[r1][j], P[r1][j+1], ...,
    P[r3][j+1]`` (8 words). Total ceil(out_depth / 4) * 4 * K4 / 2 words.
    """
    weights = np.asarray(weights)
    if weights.ndim != 2:
        raise PackError("fc weights must be [out_depth, in_depth]")
    out_d = weights.shape[0]
    w, b, rq = _scaled_weights_bias(weights, bias, mult, shift, out_zp)
    pairs = _pairs(w)                                   # [out_d, K4/2]
    rows = (out_d + FC_ROWS - 1) // FC_ROWS * FC_ROWS
    padded = np.zeros((rows, pairs.shape[1]), dtype=np.int32)
    padded[:out_d] = pairs
    kk2 = pairs.shape[1]
    blocks = padded.reshape(rows // FC_ROWS, FC_ROWS, kk2 // 2, 2)   # [blk, r, g, 2]
    packed = blocks.transpose(0, 2, 1, 3).reshape(-1)               # [blk, g, r, 2]
    bias_p = np.zeros(rows, dtype=np.int32)
    bias_p[:out_d] = b
    return dict(weights=packed, bias=bias_p, rq=rq, k_packed=k4(weights.shape[1]))


def pack_fc_int8(weights: np.ndarray, bias, mult, shift, out_zp: int) -> dict:
    """FULLY_CONNECTED with the weights kept int8 (half the flash of ``pack_fc``): rows in blocks
    of 4 (zero-padded), per block and group of 4 inputs one int32 word per row holding its 4 int8
    weights (k0 in the low byte); the bias unscaled (0 for constant channels) and ``lshift`` per
    row, the log2 of ``pack_fc``'s weight scale: the kernel shifts the int32 accumulator left by it,
    which gives ``pack_fc``'s accumulator exactly (mod 2**32, and check_bound proved that one does
    not overflow)."""
    weights = np.asarray(weights)
    if weights.ndim != 2 or weights.dtype != np.int8:
        raise PackError("fc weights must be int8 [out_depth, in_depth]")
    out_d, in_d = weights.shape
    b64 = np.asarray(bias, dtype=np.int64).reshape(-1)
    zero_rows = ~np.any(weights != 0, axis=1)
    const_acc = [int(b) if z else None for b, z in zip(b64, zero_rows)]
    rq, scale_log2, const = pack_requant(mult, shift, out_zp, acc_bound(weights, b64), const_acc)
    rows = (out_d + FC_ROWS - 1) // FC_ROWS * FC_ROWS
    kk = k4(in_d)
    padded = np.zeros((rows, kk), dtype=np.int8)
    padded[:out_d, :in_d] = weights
    words = padded.reshape(rows // FC_ROWS, FC_ROWS, kk // 4, 4).transpose(0, 2, 1, 3)   # [blk, g, r, 4]
    packed = np.ascontiguousarray(words).reshape(-1).view(np.int32)    # little-endian: k0 low byte
    bias_p = np.zeros(rows, dtype=np.int32)
    bias_p[:out_d] = np.where(const, 0, b64)
    lshift = np.zeros(rows, dtype=np.uint8)
    lshift[:out_d] = scale_log2
    return dict(weights=packed, bias=bias_p, rq=rq, k_packed=kk, lshift=lshift)


def fc_scratch_bytes(in_depth: int, row_in_scratch: bool = False) -> int:
    """Scratch of tcc_arm_fc_s8: one input row as K4 int16, unless in_depth is a multiple of 4 and
    row_in_scratch is off (the kernel then expands each input word in registers)."""
    return 2 * k4(in_depth) if in_depth % 4 or row_in_scratch else 0


# ---------------------------------------------------------------------------
# DEPTHWISE_CONV_2D (tcc_arm_depthwise_s8, depth multiplier 1)
# ---------------------------------------------------------------------------

def pack_depthwise(weights: np.ndarray, bias, mult, shift, out_zp: int) -> dict:
    """DEPTHWISE_CONV_2D with depth multiplier 1, filter [1, k_h, k_w, C] int8.

    Returns ``weights`` (int32 pair words), ``bias`` (int32, C rounded up to 4, padding 0)
    and ``rq`` (int32 [C, 3]).

    Weight layout: channels in groups of 4 (the last zero-padded), taps t = ky*k_w + kx;
    for group q and tap t two words: ``(w[t][4q], w[t][4q+2]), (w[t][4q+1], w[t][4q+3])``
    (what SXTB16 / SXTB16-ROR8 make of 4 channels of an input pixel), in the order
    [q][t][2]. Total ceil(C / 4) * k_h * k_w * 2 words.
    """
    weights = np.asarray(weights)
    if weights.ndim != 4 or weights.shape[0] != 1:
        raise PackError("depthwise weights must be [1, k_h, k_w, C]")
    _, kh, kw, c = weights.shape
    w2d = weights.reshape(kh * kw, c).T                 # [C, taps]
    w, b, rq = _scaled_weights_bias(np.ascontiguousarray(w2d), bias, mult, shift, out_zp)
    c4 = k4(c)
    wp = np.zeros((c4, kh * kw), dtype=np.int64)
    wp[:c] = w
    g = wp.reshape(c4 // 4, 4, kh * kw)                 # [q, lane, t]
    even = _pair_words(g[:, 0, :], g[:, 2, :])          # [q, t]
    odd = _pair_words(g[:, 1, :], g[:, 3, :])
    packed = np.stack([even, odd], axis=2).reshape(-1)  # [q][t][2]
    bias_p = np.zeros(c4, dtype=np.int32)
    bias_p[:c] = b
    return dict(weights=packed, bias=bias_p, rq=rq)


def pack_depthwise_planar(weights: np.ndarray, bias, mult, shift, out_zp: int, transposed: bool = False) -> dict:
    """Constants of tcc_arm_depthwise3x3_s8 (3x3, depth multiplier 1), filter [1, 3, 3, C].

    Returns ``records``: int32 [C, 10], per channel the record ``mult, add, shift, bias,
    (w[0][0], w[0][1]), (w[0][1], w[0][2]), (w[1][0], w[1][1]), (w[1][1], w[1][2]), (w[2][0], w[2][1]),
    (w[2][1], w[2][2])`` (the channel's tcc_arm_rq first, so that one LDM loads it, the scaled bias,
    six pair words), where w[k][j] = filter[ky=k][kx=j], or filter[ky=j][kx=k] when ``transposed``.
    """
    weights = np.asarray(weights)
    if weights.ndim != 4 or tuple(weights.shape[:3]) != (1, 3, 3):
        raise PackError("depthwise 3x3 weights must be [1, 3, 3, C]")
    c = weights.shape[3]
    w2d = weights.reshape(9, c).T
    w, b, rq = _scaled_weights_bias(np.ascontiguousarray(w2d), bias, mult, shift, out_zp)
    w = w.reshape(c, 3, 3)
    if transposed:
        w = w.transpose(0, 2, 1)
    first = _pair_words(w[:, :, 0], w[:, :, 1])
    second = _pair_words(w[:, :, 1], w[:, :, 2])
    words = np.stack([first, second], axis=2).reshape(c, 6)
    rec = records(DW3X3_RECORD, c, mult=rq[:, 0], add=rq[:, 1], shift=rq[:, 2], bias=b, w=words)
    return dict(records=rec.reshape(-1))


def depthwise_planar_asm_lines(records, act_min: int, act_max: int) -> bool:
    """Whether tcc_arm_depthwise3x3_s8 may run every line through its asm functions (the
    `asm_lines` param): no clamp, and every channel either has shift > 0 (the asm always adds
    acc >> 31 before the shift) or is constant (bias and weights 0, records as packed above)."""
    rec = np.asarray(records, dtype=np.int64).reshape(-1, 10)
    return (act_min, act_max) == (-128, 127) and bool(np.all((rec[:, 2] != 0) | ~np.any(rec[:, 3:], axis=1)))


def depthwise_planar_block(asm_lines: bool, n_out: int) -> int:
    """Outputs per block of tcc_arm_depthwise3x3_s8's asm along a line of n_out outputs (its
    `block_n` param): 6 (dw_x6_asm, dw_x6s2_asm) when n_out is a multiple of 6, 3 (dw_x3_asm,
    dw_x3s2_asm) when it is 3, else 0: blocks of 4 (dw_s1_asm, dw_s2_asm)."""
    if not asm_lines:
        return 0
    return 6 if n_out % 6 == 0 else (3 if n_out == 3 else 0)


def depthwise_planar_scratch_bytes(in_len: int, pad: int, channels: int, out_len: int, stride: int,
                                   staged_pixels: int = 0) -> int:
    """Scratch of tcc_arm_depthwise3x3_s8: 3 planar int16 lines of ``channels`` channels (the
    chunk), plus the chunk's outputs when staged (``staged_pixels`` = out_h * out_w). The line
    geometry is (in_w, pad_left, out_w), or (in_h, pad_top, out_h) when transposed."""
    return 3 * channels * 2 * planar_row_len(in_len, pad, out_len, stride) + channels * staged_pixels


def depthwise3x3_in_place(batches, in_h, in_w, out_h, out_w, stride, pad_top, pad_left, transposed) -> bool:
    """Whether tcc_arm_depthwise3x3_s8 may write its output over its input at the same base
    (with any chunk; see its write order in tcc_arm.h): every output pixel must land on an input
    pixel of an earlier batch, or of the same batch on a line that was converted before the
    output line is written (lines are converted in order, each once per chunk)."""
    n_in, n_out = in_h * in_w, out_h * out_w
    b, oy, ox = np.meshgrid(np.arange(batches), np.arange(out_h), np.arange(out_w), indexing="ij")
    q = b * n_out + oy * out_w + ox                     # input pixel overwritten (same channel count)
    qb, qr = q // n_in, q % n_in
    qy, qx = qr // in_w, qr % in_w
    if transposed:
        line, q_line, pad, lines_in = ox, qx, pad_left, in_w
    else:
        line, q_line, pad, lines_in = oy, qy, pad_top, in_h
    converted = np.minimum(line * stride - pad + 2, lines_in - 1)
    ok = (qb < b) | ((qb == b) & (q_line <= converted))
    return bool(ok.all())


def planar_row_len(in_len: int, pad: int, out_len: int, stride: int) -> int:
    """int16 values per channel and line in tcc_arm_depthwise3x3_s8's scratch: every column
    the outputs read (out_len rounded up to a multiple of 4, plus the last pair load), even.
    The line geometry is (in_w, pad_left, out_w), or (in_h, pad_top, out_h) when transposed."""
    ow4 = (out_len + 3) // 4 * 4
    need = max(pad + in_len, (ow4 - 1) * stride + 3) + 1
    return (need + 1) // 2 * 2


def depthwise_planar_transposed(out_h: int, out_w: int) -> bool:
    """The line orientation tcc_arm_depthwise3x3_s8 should use: columns when the map is taller
    than wide (its blocks of 4 outputs run along a line)."""
    return out_h > out_w


# ---------------------------------------------------------------------------
# ADD (tcc_arm_add_s8)
# ---------------------------------------------------------------------------

def pack_add(in1_offset: int, in2_offset: int, left_shift: int, in1_mult: int, in1_shift: int,
             in2_mult: int, in2_shift: int, out_mult: int, out_shift: int, out_zp: int) -> dict:
    """ADD of two same-shape int8 tensors: the rescaled inputs as tables.

    Returns ``table`` (int32 [512]: entry i < 256 is requantize((a + in1_offset) << left_shift,
    in1_mult, in1_shift) for the int8 a whose byte is i (a = i - 256 * (i >= 128)), entries
    256..511 the same for input 2) and
    ``rq`` (int32 [3], the output requantization in the tcc_arm_rq format for an accumulator
    of 2 * (a' + b'), i.e. acc = table1[a] + table2[b] pre-doubled: the tables hold doubled
    values)."""
    a = np.arange(256, dtype=np.int64)
    a = np.where(a >= 128, a - 256, a)          # the int8 value of byte i
    t1 = _requant_int32(((a + in1_offset) << left_shift), in1_mult, in1_shift)
    t2 = _requant_int32((a + in2_offset) << left_shift, in2_mult, in2_shift)
    sums_bound = int(np.abs(t1).max() + np.abs(t2).max())
    rq, scale_log2, const = pack_requant([out_mult], [out_shift], out_zp, [sums_bound])
    sc = int(scale_log2[0])
    if const[0]:
        t1 = np.zeros_like(t1)
        t2 = np.zeros_like(t2)
    table = np.concatenate([t1 << sc, t2 << sc])
    if np.abs(table).max() >= 2**30:
        raise PackError("ADD tables overflow")
    return dict(table=table.astype(np.int32), rq=rq.reshape(3))


def _requant_int32(x, mult, shift):
    """tcc_requantize without the output offset and saturation (int64 numpy, exact)."""
    x = np.asarray(x, dtype=np.int64)
    left = max(shift, 0)
    right = max(-shift, 0)
    x = (x << left) & 0xFFFFFFFF
    x = np.where(x >= INT31, x - 2**32, x)
    ab = x * mult
    q = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    r1 = np.where(q >= 0, q >> 31, -((-q) >> 31))
    mask = (1 << right) - 1
    return (r1 >> right) + ((r1 & mask) > ((mask >> 1) + (r1 < 0)))


# ---------------------------------------------------------------------------
# Access order, for sharing memory between an input and the output
# ---------------------------------------------------------------------------
#
# Same convention as tinycc's OpDef.reads_min: for every output element k (in index order),
# the lowest element index of the input that the kernel reads after it has written output
# element k - 1 and before it writes element k (NO_READ: none). The fast kernels write in
# blocks whose reads all come before the block's writes, with no reads between those writes;
# the first element of a block therefore carries the block's reads and the others NO_READ,
# which is exact whatever the order of the writes inside the block.

NO_READ = overlap.NO_READ


def _first_tap(in_size, out_size, stride, pad, k, dil=1):
    taps = (np.arange(out_size) * stride - pad)[:, None] + np.arange(k)[None, :] * dil
    valid = (taps >= 0) & (taps < in_size)
    first = np.where(valid, taps, NO_READ).min(axis=1)
    last = np.where(valid, taps, -1).max(axis=1)
    return first, last          # first/last in-image coordinate (NO_READ / -1: all padding)


def _window_first_index(n, h, w, c, out_h, out_w, stride_h, stride_w, pad_top, pad_left, k_h, k_w,
                        dil_h=1, dil_w=1):
    """[n, out_h, out_w]: the lowest input element index of each output pixel's window."""
    fy, _ = _first_tap(h, out_h, stride_h, pad_top, k_h, dil_h)
    fx, _ = _first_tap(w, out_w, stride_w, pad_left, k_w, dil_w)
    ok = (fy[:, None] != NO_READ) & (fx[None, :] != NO_READ)
    pix = np.where(ok, (np.where(ok, fy[:, None], 0) * w + np.where(ok, fx[None, :], 0)) * c, NO_READ)
    base = (np.arange(n) * h * w * c)[:, None, None]
    return np.where(pix[None] != NO_READ, base + pix[None], NO_READ)


def reads_min_conv(batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, stride_h, stride_w,
                   pad_top, pad_left, dil_h=1, dil_w=1) -> np.ndarray:
    """tcc_arm_conv_s8: blocks of 2 output pixels (flat over batch, row, column); a block reads
    the windows of its 2 pixels, then writes all their out_c values."""
    first = _window_first_index(batches, in_h, in_w, in_c, out_h, out_w, stride_h, stride_w, pad_top,
                                pad_left, k_h, k_w, dil_h, dil_w).reshape(-1)
    npix = first.size
    P = CONV_PIX
    blocks = (npix + P - 1) // P
    padded = np.full(blocks * P, NO_READ, dtype=np.int64)
    padded[:npix] = first
    block_min = padded.reshape(blocks, P).min(axis=1)
    r = np.full((npix, out_c), NO_READ, dtype=np.int64)
    r[::P, 0] = block_min
    return r.reshape(-1)


def reads_min_fc(batches, in_depth, out_depth, row_in_scratch: bool = False) -> np.ndarray:
    """tcc_arm_fc_s8: with the row in the scratch (in_depth % 4 != 0) each batch row is read once,
    before its first output; otherwise every block of 4 outputs reads the whole row again (it
    expands each input word in registers) before writing its 4 values."""
    r = np.full((batches, out_depth), NO_READ, dtype=np.int64)
    starts = (np.arange(batches) * in_depth)[:, None]
    if in_depth % 4 or row_in_scratch:
        r[:, :1] = starts
    else:
        r[:, ::4] = starts
    return r.reshape(-1)


def reads_min_depthwise(batches, in_h, in_w, channels, out_h, out_w, k_h, k_w, stride_h, stride_w,
                        pad_top, pad_left, dil_h=1, dil_w=1) -> np.ndarray:
    """tcc_arm_depthwise_s8 (and tcc_arm_avg_pool_s8 with k = filter, dil = 1): per output pixel,
    channel groups of 4: reads the group's window, then writes the group's (up to) 4 values."""
    first = _window_first_index(batches, in_h, in_w, channels, out_h, out_w, stride_h, stride_w, pad_top,
                                pad_left, k_h, k_w, dil_h, dil_w).reshape(-1, 1)
    r = np.full((first.shape[0], channels), NO_READ, dtype=np.int64)
    g = np.arange(0, channels, 4)
    r[:, g] = np.where(first != NO_READ, first + g[None, :], NO_READ)
    return r.reshape(-1)


def reads_min_avg_pool(batches, in_h, in_w, channels, out_h, out_w, f_h, f_w, stride_h, stride_w,
                       pad_top, pad_left) -> np.ndarray:
    """tcc_arm_avg_pool_s8: as tcc_arm_depthwise_s8 (groups of 4 channels, then byte by byte for the
    last channels % 4: each of those reads its window, then writes its value)."""
    first = _window_first_index(batches, in_h, in_w, channels, out_h, out_w, stride_h, stride_w, pad_top,
                                pad_left, f_h, f_w).reshape(-1, 1)
    r = np.full((first.shape[0], channels), NO_READ, dtype=np.int64)
    heads = list(range(0, channels - channels % 4, 4)) + list(range(channels - channels % 4, channels))
    g = np.array(heads, dtype=np.int64)
    r[:, g] = np.where(first != NO_READ, first + g[None, :], NO_READ)
    return r.reshape(-1)


def reads_min_depthwise3x3(batches, in_h, in_w, channels, out_h, out_w, stride, pad_top, pad_left,
                           transposed=False) -> np.ndarray | None:
    """tcc_arm_depthwise3x3_s8 along rows: before writing output row oy it converts (reads) the
    input rows of its window it has not converted yet, then writes the whole row. Each input row
    is read once. Along columns (transposed) the writes are not in index order: None (share no
    memory; or see tcc_arm.h)."""
    if transposed:
        return None
    r = np.full((batches, out_h, out_w * channels), NO_READ, dtype=np.int64)
    done = -1
    for oy in range(out_h):
        top = oy * stride - pad_top
        new = [y for y in range(top, top + 3) if 0 <= y < in_h and y > done]
        if new:
            done = max(new)
            r[:, oy, 0] = np.arange(batches) * in_h * in_w * channels + new[0] * in_w * channels
    return r.reshape(-1)


def reads_min_add(size) -> np.ndarray:
    """tcc_arm_add_s8: element i of each input is read right before output element i is written."""
    return np.arange(size, dtype=np.int64)


def overlap_shift(reads_min, in_bytes: int, out_bytes_per_elem: int = 1, in_bytes_per_elem: int = 1):
    """The largest offset(output) - offset(input) (bytes) that is safe for this access order
    (``tinycc.overlap.shift_from_reads``); None if reads_min is None."""
    return overlap.shift_from_reads(reads_min, in_bytes, in_bytes_per_elem, out_bytes_per_elem)
