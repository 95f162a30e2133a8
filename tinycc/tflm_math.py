"""TFLite Micro's int8 arithmetic for element-wise ops, emulated exactly in Python.

Used at compile time to build 256-entry lookup tables for unary int8 ops: an int8
input has only 256 values, so evaluating TFLite Micro's own integer (or float32)
formula on each of them gives a table the C kernel just indexes (``tcc_lut_s8``).
Every function here follows the reference code named in its docstring bit for bit:
int32 wrap-around where the C++ wraps, C's truncating division, gemmlowp's
rounding and saturation, float32 arithmetic through numpy.float32, and the host
C library's ``expf`` (through ctypes) where TFLite Micro calls ``std::exp(float)``.
No code here is shared with TFLite; it is written from its stated formulas.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from . import quant

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT8_MIN, INT8_MAX = -128, 127
F32 = np.float32


def wrap(x: int, bits: int = 32) -> int:
    """Two's-complement wrap of x to a signed ``bits``-wide integer."""
    m = (1 << bits) - 1
    x &= m
    return x - (1 << bits) if x >> (bits - 1) else x


def c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def clamp(x: int, lo: int = INT8_MIN, hi: int = INT8_MAX) -> int:
    return lo if x < lo else hi if x > hi else x


def clz32(x: int) -> int:
    """CountLeadingZeros of a uint32 (32 for 0)."""
    x &= 0xFFFFFFFF
    return 32 - x.bit_length()


# -- gemmlowp primitives (int32 unless stated) ---------------------------------------

def srdhm(a: int, b: int) -> int:
    """SaturatingRoundingDoublingHighMul (int32)."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return wrap(c_div(ab + nudge, 1 << 31))


def srdhm16(a: int, b: int) -> int:
    """SaturatingRoundingDoublingHighMul (int16)."""
    if a == b == -32768:
        return 32767
    ab = a * b
    nudge = (1 << 14) if ab >= 0 else 1 - (1 << 14)
    return wrap(c_div(ab + nudge, 1 << 15), 16)


def sdhm16(a: int, b: int) -> int:
    """SaturatingDoublingHighMul (int16, truncating; hard_swish.h)."""
    if a == b == -32768:
        return 32767
    return wrap(c_div(a * b, 1 << 15), 16)


def rdpot(x: int, exponent: int, bits: int = 32) -> int:
    """RoundingDivideByPOT on a ``bits``-wide integer.

    For exponents past the type width it reproduces what the host (x86) build of
    TFLite Micro computes: the mask is truncated to the type, and a 32-bit shift
    count is taken modulo 32 (int16 operands are promoted to int first).
    """
    mask = wrap((1 << exponent) - 1, bits)
    remainder = wrap(x & mask, bits)
    threshold = wrap((mask >> 1) + (1 if x < 0 else 0), bits)
    shift = exponent & 31 if bits == 32 else exponent
    return wrap((x >> shift) + (1 if remainder > threshold else 0), bits)


def mbqm(x: int, mult: int, shift: int) -> int:
    """MultiplyByQuantizedMultiplier (double rounding; the left shift wraps like C)."""
    left = shift if shift > 0 else 0
    right = -shift if shift < 0 else 0
    return rdpot(srdhm(wrap(x * (1 << left)), mult), right)


def sat_shl(x: int, exponent: int) -> int:
    """SaturatingRoundingMultiplyByPOT with a positive exponent (int32)."""
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return x << exponent


def rescale(x: int, src_int_bits: int, dst_int_bits: int) -> int:
    """gemmlowp Rescale between fixed-point formats with the given integer bits."""
    e = src_int_bits - dst_int_bits
    if e > 0:
        return sat_shl(x, e)
    if e < 0:
        return rdpot(x, -e)
    return x


def rounding_half_sum(a: int, b: int) -> int:
    s = a + b
    return wrap(c_div(s + (1 if s >= 0 else -1), 2))


def exp_on_interval_between_negative_one_quarter_and_0_excl(a: int) -> int:
    x = wrap(a + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdpot(x4, 2)
    poly = rdpot(wrap(srdhm(wrap(x4_over_4 + x3), 715827883) + x2), 1)
    return wrap(1895147668 + srdhm(1895147668, wrap(x + poly)))


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: int, int_bits: int) -> int:
    """exp(a) for a <= 0 in Q(int_bits), result in Q0.31."""
    frac_bits = 31 - int_bits
    one_quarter = 1 << (frac_bits - 2)
    a_mod = wrap((a & (one_quarter - 1)) - one_quarter)
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescale(a_mod, int_bits, 0))
    remainder = wrap(a_mod - a)
    for exponent, multiplier in _EXP_BARREL:
        if int_bits > exponent and remainder & (1 << (frac_bits + exponent)):
            result = srdhm(result, multiplier)
    if int_bits > 5 and a < -(1 << (36 - int_bits)):
        result = 0
    if a == 0:
        result = INT32_MAX
    return result


def _newton_reciprocal(half_denominator: int) -> int:
    x = wrap(1515870810 + srdhm(half_denominator, -1010580540))
    for _ in range(3):
        one_minus = wrap((1 << 29) - srdhm(half_denominator, x))
        x = wrap(x + rescale(srdhm(x, one_minus), 4, 2))
    return x


def one_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    return rescale(_newton_reciprocal(rounding_half_sum(a, INT32_MAX)), 1, 0)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: int) -> int:
    return rescale(wrap(_newton_reciprocal(rounding_half_sum(a, INT32_MAX)) - (1 << 29)), 2, 0)


def fixed_tanh(a: int, int_bits: int) -> int:
    """gemmlowp tanh of a Q(int_bits) value, result Q0.31."""
    n = a if a < 0 else wrap(-a)
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, int_bits + 1))
    if a == 0:
        return 0
    return wrap(-t) if a < 0 else t


def fixed_logistic(a: int, int_bits: int) -> int:
    """gemmlowp logistic of a Q(int_bits) value, result Q0.31."""
    abs_a = a if a > 0 else wrap(-a)
    pos = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(wrap(-abs_a), int_bits))
    if a == 0:
        return 1 << 30
    return pos if a > 0 else wrap(INT32_MAX - pos)


def inv_sqrt_multiplier(x: int, reverse_shift: int = -1) -> tuple[int, int]:
    """GetInvSqrtQuantizedMultiplierExp: (multiplier, shift) of 1/sqrt(x)."""
    if x <= 1:
        return INT32_MAX, 0
    shift = 11
    while x >= (1 << 29):
        x //= 4
        shift += 1
    pairs = (clz32(x) - 1) // 2 - 1
    shift -= pairs
    x <<= 2 * pairs
    half_input = rdpot(x >> 1, 1)
    half_three = (1 << 28) + (1 << 27)
    r = 1 << 28
    for _ in range(5):
        r3 = rescale(srdhm(srdhm(r, r), r), 9, 3)
        r = rescale(wrap(srdhm(half_three, r) - srdhm(half_input, r3)), 6, 3)
    r = srdhm(r, 1518500250)
    if shift < 0:
        r = wrap(r << -shift)
        shift = 0
    return r, shift * reverse_shift


def frexp_multiplier(real: float) -> tuple[int, int]:
    """TFLite's inline frexp + round(q * 2^31), without QuantizeMultiplier's renormalization."""
    q, shift = math.frexp(real)
    return wrap(quant.round_half_away(q * (1 << 31))), shift


def input_radius(int_bits: int, left_shift: int, total_bits: int = 31) -> int:
    """CalculateInputRadius."""
    return int(math.floor(((1 << int_bits) - 1) * (1 << (total_bits - int_bits)) / (1 << left_shift)))


# -- float32 helpers -------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _libm():
    """The host C library's libm, loaded on first use (finding it by name runs ldconfig: not at
    import time). glibc's soname first, so usually no search runs at all."""
    import ctypes           # (ctypes.util imports subprocess, shutil, ...: a build of an int8 model never needs it)
    import ctypes.util
    for find in (lambda: "libm.so.6", lambda: ctypes.util.find_library("m")):
        name = find()
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            lib.expf.restype = ctypes.c_float
            lib.expf.argtypes = [ctypes.c_float]
            return lib
        except (OSError, AttributeError):
            continue
    return None


def expf(x) -> np.float32:
    """The host C library's expf (what TFLite Micro's host build calls); float64 exp rounded otherwise."""
    libm = _libm()
    if libm is not None:
        return F32(libm.expf(float(x)))
    return F32(math.exp(float(x)))


def roundf(x) -> int:
    """TfLiteRound of a float32: half away from zero."""
    return quant.round_half_away(float(x))


# -- int8 lookup tables ----------------------------------------------------------------

def table(fn) -> np.ndarray:
    """A 256-entry int8 table indexed by the input byte (uint8 cast of the int8 value)."""
    lut = np.zeros(256, np.int8)
    for q in range(-128, 128):
        lut[q & 0xFF] = fn(q)
    return lut


def lut_from_float(in_scale: float, in_zp: int, out_scale: float, out_zp: int, transform) -> np.ndarray:
    """LUTPopulate<int8_t>: dequantize in float32, transform, rescale by 1/out_scale, round, clamp."""
    inverse_scale = F32(1.0) / F32(out_scale)

    def entry(q):
        x = F32(in_scale) * F32(q - in_zp)
        y = transform(x)
        rescaled = roundf(F32(y) * inverse_scale)
        return clamp(int(F32(rescaled) + F32(out_zp)))
    return table(entry)


# -- int16 lookup tables ---------------------------------------------------------------

def int16_lut(fn, input_min: float, input_max: float) -> np.ndarray:
    """gen_lut<float, int16_t, int16_t> with outputs in [-1, 1] (scale 32768): 513 entries over
    [input_min, input_max], all arithmetic in float32; each of the first 512 is the rounded sample
    minus half the rounded error of linear interpolation at the step's midpoint (so interpolation
    between entries splits the error), the last the rounded value at input_max."""
    lo, hi = F32(input_min), F32(input_max)
    step = (hi - lo) / F32(512)
    half, scale = step / F32(2), F32(32768)

    def rnd(x):
        return F32(roundf(F32(x)))
    lut = np.zeros(513, np.int16)
    for i in range(512):
        val, mid, nxt = fn(lo + F32(i) * step), fn(lo + F32(i) * step + half), fn(lo + F32(i + 1) * step)
        sample = rnd(val * scale)
        interp = rnd((nxt * scale + rnd(val * scale)) / F32(2))
        bias = rnd((interp - rnd(mid * scale)) / F32(2))
        lut[i] = int(min(max(sample - bias, F32(-32768)), F32(32767)))
    lut[512] = int(min(max(rnd(fn(hi) * scale), F32(-32768)), F32(32767)))
    return lut


# The knots of TFLite's int16 sigmoid table (sigmoid_table_uint16, 256 entries: sigmoid(i / 24) in
# units of 2^-16, 65535 at most) that lie one above round(65536 * sigmoid(i / 24)). Read from TFLite
# Micro's outputs: its int16 TANH with input scale 2^-13 * 4/3 evaluates exactly at knot i for
# input 128 i (table[i] - 32768), so every knot was measured; the rest follow the formula.
_SIGMOID_KNOTS_PLUS_ONE = (4, 8, 12, 14, 15, 16, 17, 19, 20, 21, 22, 25, 27, 28, 29, 30, 31, 33, 34, 35, 37,
                           39, 40, 41, 43, 44, 45, 46, 49, 50, 54, 62, 63, 64, 66, 82, 86, 93, 100, 103, 112,
                           116, 135, 255)


def sigmoid_table_u16() -> np.ndarray:
    """The 256 knots TFLite's int16 LOGISTIC and TANH (and the integer LSTM's gates) interpolate."""
    i = np.arange(256, dtype=np.float64)
    t = np.minimum(np.round(65536.0 / (1.0 + np.exp(-i / 24.0))), 65535).astype(np.int64)
    t[list(_SIGMOID_KNOTS_PLUS_ONE)] += 1
    return t.astype(np.uint16)


def sigmoid16_input(scale: float, tanh: bool) -> tuple[int, int]:
    """(multiplier, right shift) that bring an int16 LOGISTIC/TANH input (zero point 0) to the
    table's 1/(3 * 4096) units, as TFLite Micro's Prepare computes them: a power-of-two scale of
    2^-12 (TANH: also 2^-11) multiplies by 3 << shift; any other scale by the multiplier in
    (16383.5, 32767] that doubling scale * 12288 reaches, shifted right (rounding half up)."""
    log2 = math.log(F32(scale)) * (1.0 / math.log(2.0))
    rounded = roundf(log2)
    left = 12 + rounded
    if abs(log2 - rounded) < 1e-3 and (left == 0 or (tanh and left == 1)):
        return 3 << left, 0
    mult, shift = float(F32(scale)) * 4096.0 * 3.0, 0
    while mult <= 32767.0 / 2.0 and shift <= 30:
        shift, mult = shift + 1, mult * 2.0
    return int(mult), shift
