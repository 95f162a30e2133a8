"""Compile-time quantization arithmetic: what TFLite Micro computes in its Prepare step.

Each function reproduces the TFLite reference semantics exactly, so the constants
we bake into C are the ones the reference interpreter uses at run time.
"""
from __future__ import annotations

import math


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
