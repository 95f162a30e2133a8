/* tinycc runtime: fixed-point helpers shared by every int8 kernel.
 *
 * These reproduce TFLite's reference integer arithmetic (gemmlowp semantics), so
 * that every kernel's output is bit-exact with TensorFlow Lite Micro.
 */
#ifndef TCC_COMMON_H
#define TCC_COMMON_H

#include <stdint.h>

#define TCC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TCC_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Saturating rounding doubling high multiply: round(a * b / 2^31), saturating the
 * one overflow case a == b == INT32_MIN. Valid for all int32 a, b. Rounding is
 * half away from zero; the division truncates toward zero as in C. */
static inline int32_t tcc_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1LL << 30) : (1 - (1LL << 30));
    return (int32_t)((ab + nudge) / (1LL << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero. Valid for 0 <= exponent <= 31. */
static inline int32_t tcc_rounding_div_pot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)((1LL << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^shift, saturating to int32; valid for 0 <= shift <= 31. */
static inline int32_t tcc_saturating_shl(int32_t x, int shift)
{
    int64_t r = (int64_t)x * ((int64_t)1 << shift);
    if (r > INT32_MAX) return INT32_MAX;
    if (r < INT32_MIN) return INT32_MIN;
    return (int32_t)r;
}

/* Requantize an int32 accumulator by a real multiplier mult * 2^(shift - 31),
 * mult in [2^30, 2^31) (or 0), shift in [-31, 30]: TFLite's
 * MultiplyByQuantizedMultiplier (left shift, doubling high multiply, then a
 * rounding right shift). The left shift wraps like TFLite's x * (1 << shift). */
static inline int32_t tcc_requantize(int32_t x, int32_t mult, int32_t shift)
{
    int32_t left = shift > 0 ? shift : 0;
    int32_t right = shift > 0 ? 0 : -shift;
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return tcc_rounding_div_pot(tcc_srdhm(shifted, mult), right);
}

/* The same multiplier applied with one rounding, half up: (x * mult + 2^(30 - shift)) >> (31 - shift),
 * as TFLite's (not TFLite Micro's) int8 FULLY_CONNECTED requantizes. shift in [-31, 30]. */
static inline int32_t tcc_requantize_once(int32_t x, int32_t mult, int32_t shift)
{
    const int32_t total = 31 - shift;
    return (int32_t)(((int64_t)x * mult + ((int64_t)1 << (total - 1))) >> total);
}

/* TFLite's MultiplyByQuantizedMultiplier of an int64 accumulator (the 16x8 kernels with an
 * int64 bias): the multiplier rounded to 16 bits (0x7FFF from 0x7FFF0000 up), then one
 * shift by 15 - shift rounding half up. shift in [-31, 7]; |x| < 2^47. */
static inline int32_t tcc_requantize64(int64_t x, int32_t mult, int32_t shift)
{
    const int64_t reduced = mult < 0x7FFF0000 ? (mult + (1 << 15)) >> 16 : 0x7FFF;
    const int32_t total = 15 - shift;
    return (int32_t)((x * reduced + ((int64_t)1 << (total - 1))) >> total);
}

/* A 16x8 kernel's requantization: TFLite accumulates in the bias type, int64 (acc64) or int32
 * (tinycc sums in int64 and refuses at build time what could overflow an int32). */
static inline int32_t tcc_requantize_acc(int64_t acc, int32_t mult, int32_t shift, int32_t acc64)
{
    return acc64 ? tcc_requantize64(acc, mult, shift) : tcc_requantize((int32_t)acc, mult, shift);
}

static inline int32_t tcc_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

static inline float tcc_clampf(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* TCC_COMMON_H */
