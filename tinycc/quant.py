"""Compile-time quantization arithmetic: what TFLite Micro computes in its Prepare step.

Each function reproduces the TFLite reference semantics exactly, so the constants
we bake into C are the ones the reference interpreter uses at run time.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import TinyccError

INT8_MIN, INT8_MAX = -128, 127


def round_half_away(x: float) -> int:
    """C's round(): halves go away from zero (TfLiteRound)."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Split a positive real multiplier into (q31 significand, shift) with real ~= q * 2^(shift-31).

    frexp gives real = q * 2^shift with q in [0.5, 1); q is rounded to 31 fractional
    bits; a rounding overflow to 2^31 renormalizes; multipliers below 2^-31 flush to 0.
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    assert q_fixed <= (1 << 31)
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def conv_output_multipliers(input_scale: float, filter_scales, output_scale: float):
    """Per-channel requantization (multiplier, shift) as TFLite computes them in double."""
    mults, shifts = [], []
    for fs in filter_scales:
        m, s = quantize_multiplier(float(input_scale) * float(fs) / float(output_scale))
        mults.append(m)
        shifts.append(s)
    return mults, shifts


def softmax_input_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """(multiplier, left_shift, diff_min) of the int8 softmax, with 5 integer bits for the scaled diff."""
    integer_bits = 5
    real = min(beta * input_scale * (1 << (31 - integer_bits)), float((1 << 31) - 1))
    mult, left_shift = quantize_multiplier(real)
    assert left_shift >= 0
    # The largest input difference whose rescaled value still fits Q5.26 (floored).
    max_rescaled = 1.0 * ((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << left_shift)
    diff_min = -int(math.floor(max_rescaled))
    return mult, left_shift, diff_min


def padding_amounts(padding, in_size: int, filter_size: int, stride: int, dilation: int = 1):
    """(out_size, pad_before, pad_after) along one axis.

    ``padding`` is "SAME" or "VALID", computed as TFLite does (the extra odd pad goes after), or
    an explicit ``(before, after)`` pair (what ``fuse_ops`` gives an op that absorbed a PAD):
    then out = (in + before + after - effective filter) // stride + 1.
    """
    eff = (filter_size - 1) * dilation + 1
    if isinstance(padding, (tuple, list)):
        before, after = (int(v) for v in padding)
        return (in_size + before + after - eff) // stride + 1, before, after
    if padding == "SAME":
        out = (in_size + stride - 1) // stride
    else:
        out = (in_size + stride - eff) // stride
    total = max((out - 1) * stride + eff - in_size, 0)
    return out, total // 2, total - total // 2


def padding_amount(padding, in_size: int, filter_size: int, stride: int, dilation: int = 1):
    """(out_size, pad_before) for SAME/VALID, as TFLite computes them (extra odd pad goes after),
    or for an explicit (before, after) pair; kernels take the top/left pad and the output size."""
    return padding_amounts(padding, in_size, filter_size, stride, dilation)[:2]


def axis_padding(attrs: dict, axis: str):
    """The padding of a windowed op along ``axis`` ("h" or "w"): its "SAME"/"VALID" attr, or the
    explicit (before, after) pair ``attrs["pad_h"]``/``attrs["pad_w"]`` when padding is "EXPLICIT"."""
    return attrs[f"pad_{axis}"] if attrs["padding"] == "EXPLICIT" else attrs["padding"]


# -- rules the int8 ops check (``op_def`` is the calling OpDef: its ``fail`` names the op) ---------

MAX_REQUANT_SHIFT = 30  # tcc_requantize (tcc_common.h) takes shifts in [-31, 30]


def check_requantization(op_def, o, reals, tensor: str | None = None, what: str = "requantization multiplier",
                         max_shift: int = MAX_REQUANT_SHIFT, kernels: str = "int8") -> None:
    """Every real multiplier ``reals`` must be one the kernels can apply: finite, >= 0, and
    with a shift of at most ``max_shift`` (a multiplier below 2^max_shift)."""
    for k, r in enumerate(reals):
        r = float(r)
        if not (math.isfinite(r) and r >= 0) or (r > 0 and quantize_multiplier(r)[1] > max_shift):
            where = f" (channel {k})" if len(reals) > 1 else ""
            raise op_def.fail(o, f"{what} {r:.6g}{where} is outside what the {kernels} kernels apply "
                                 f"(below 2^{max_shift})", tensor)


def check_int8_accumulation(op_def, o, x, w, y, bias, axis_out: int) -> None:
    """int8 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: their kernels sum w * x in an int32
    that starts at the zero-point-folded bias (bias - in_zp * sum(w)), then requantize by
    in_scale * w_scale / out_scale. Refuse per-channel scales on another axis than the output
    channels, multipliers the kernels cannot apply, and weights whose worst partial sum,
    |bias| + (|in_zp| + 128) * sum|w|, could overflow the int32 for some input."""
    _check_accumulation(op_def, o, x, w, y, bias, axis_out, MAX_REQUANT_SHIFT, abs(int(x.quant.zero_point[0])) + 128,
                        32, "(|zero point| + 128)", "int8")


MAX_REQUANT_SHIFT_64 = 7   # TFLite's MultiplyByQuantizedMultiplier(int64_t x, ...) takes shifts below 8


def check_int16_accumulation(op_def, o, x, w, y, bias, axis_out: int, acc64: bool) -> None:
    """16x8 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: TFLite sums w * x in the bias type, int64
    (``acc64``) or int32 (int32 bias or none), then requantizes (tcc_requantize_acc). Refuse what
    ``check_int8_accumulation`` refuses, with |x| <= 32768, a shift below 8 for the int64
    requantization and sums that fit 48 bits there (its int64 product)."""
    _check_accumulation(op_def, o, x, w, y, bias, axis_out, MAX_REQUANT_SHIFT_64 if acc64 else MAX_REQUANT_SHIFT,
                        32768, 48 if acc64 else 32, "32768", "16x8")


def _check_accumulation(op_def, o, x, w, y, bias, axis_out, max_shift, max_input, acc_bits, input_text,
                        kernels) -> None:
    channels = w.shape[axis_out]
    if w.quant is not None and w.quant.per_channel and w.quant.axis != axis_out:
        raise op_def.fail(o, f"per-channel weight scales along dimension {w.quant.axis}; the output channels "
                             f"are dimension {axis_out}", w.name)
    scales = per_channel_scales(w, channels)
    reals = [float(x.quant.scale[0]) * float(s) / float(y.quant.scale[0]) for s in scales]
    check_requantization(op_def, o, reals, w.name, "input scale x weight scale / output scale:", max_shift,
                         kernels)
    wa = np.abs(w.data.astype(np.int64))
    sums = np.moveaxis(wa, axis_out, 0).reshape(channels, -1).sum(axis=1)
    b = np.zeros(channels, np.int64) if bias is None else np.abs(np.asarray(bias, np.int64)).reshape(-1)
    worst = b + max_input * sums
    if channels and int(worst.max()) > 2**(acc_bits - 1) - 1:
        k = int(worst.argmax())
        raise op_def.fail(o, f"output channel {k} may overflow the int{acc_bits} accumulator (|bias| + {input_text} "
                             f"x sum|w| = {int(worst[k])})", w.name)


def per_channel_scales(t, channels: int) -> tuple[float, ...]:
    """The weight scales of tensor ``t`` (an ir.Tensor), one per output channel."""
    if t.quant is None:
        raise TinyccError("int8 weights need quantization parameters", tensor=t.name)
    s = t.quant.scale
    if len(s) == 1:
        return s * channels
    if len(s) != channels:
        raise TinyccError(f"{len(s)} per-channel scales for {channels} channels", tensor=t.name)
    return s
