/* tinycc runtime: binary element-wise ops with broadcasting.
 *
 * Semantics (TFLite Micro, tensorflow/lite/micro/kernels/ sub.cc, mul.cc, div.cc,
 * maximum_minimum.cc, squared_difference.cc, prelu.cc, comparisons.cc, select.cc and
 * the reference kernels they call; requantize(x, m, s) is
 * MultiplyByQuantizedMultiplier, double rounding):
 *   SUB int8      a' = requantize((a - zp_a) << 20, m_a, s_a), b' likewise;
 *                 out = clamp(requantize(a' - b', m_out, s_out) + zp_out, act)
 *   SQUARED_DIFFERENCE int8  the same with a 7-bit shift and (a' - b')^2, no act.
 *   MUL int8      out = clamp(requantize((a - zp_a)(b - zp_b), s_a s_b / s_out) + zp_out)
 *   DIV int8      reciprocal of (b - zp_b) in fixed point (GetReciprocal), quotient
 *                 rescaled by s_a / (s_b s_out); see div_s8 below.
 *   MAXIMUM/MINIMUM  raw values compared and copied (one scale for all).
 *   PRELU int8    x >= 0: requantize(x - zp, s_x/s_out); else requantize((x - zp)(alpha -
 *                 zp_alpha), s_x s_alpha / s_out); + zp_out.
 *   comparisons int8: both sides (v - zp) << 8 rescaled by their own scale, compared.
 *   SELECT_V2     cond ? a : b, copied.
 *   float32       the plain formula, with the fused activation clamp for SUB/MUL/DIV.
 * Broadcasting only changes which elements meet: the output is walked in row-major
 * order, each input with its own strides (0 where broadcast). Element k's inputs are
 * read before element k is written, so the output may overlap an input.
 */
#include "tcc_binary.h"

#include "tcc_common.h"

#include <math.h>

/* The outer five dimensions of a broadcast, calling ``row`` on each innermost row
 * (length dims[5], input strides a_strides[5], b_strides[5]). One shared loop nest
 * keeps the code small; the per-element work is in the row functions. */
typedef void (*tcc_row_fn)(const void *params, const void *a, const void *b, void *out,
                           int32_t n, int32_t sa, int32_t sb);

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void bcast_rows(const tcc_bcast *s, tcc_row_fn row, const void *params,
                       const void *a, int32_t a_size, const void *b, int32_t b_size,
                       void *out, int32_t out_size)
{
    const uint8_t *pa = (const uint8_t *)a;
    const uint8_t *pb = (const uint8_t *)b;
    uint8_t *po = (uint8_t *)out;
    const int32_t n = s->dims[5];
    for (int32_t i0 = 0; i0 < s->dims[0]; ++i0)
    for (int32_t i1 = 0; i1 < s->dims[1]; ++i1)
    for (int32_t i2 = 0; i2 < s->dims[2]; ++i2)
    for (int32_t i3 = 0; i3 < s->dims[3]; ++i3)
    for (int32_t i4 = 0; i4 < s->dims[4]; ++i4) {
        const int32_t ia = i0 * s->a_strides[0] + i1 * s->a_strides[1] + i2 * s->a_strides[2]
                         + i3 * s->a_strides[3] + i4 * s->a_strides[4];
        const int32_t ib = i0 * s->b_strides[0] + i1 * s->b_strides[1] + i2 * s->b_strides[2]
                         + i3 * s->b_strides[3] + i4 * s->b_strides[4];
        row(params, pa + ia * a_size, pb + ib * b_size, po, n, s->a_strides[5], s->b_strides[5]);
        po += n * out_size;
    }
}

/* Define the row function NAME_row over element types TA, TB, TO with params type TP,
 * where EXPR computes the output from x = a[i * sa], y = b[i * sb] (and p). */
#define TCC_ROW(name, tp, ta, tb, to, expr)                                                    \
    static void name##_row(const void *params, const void *va, const void *vb, void *vo,        \
                           int32_t n, int32_t sa, int32_t sb)                                    \
    {                                                                                            \
        const tp *p = (const tp *)params;                                                        \
        const ta *a = (const ta *)va;                                                            \
        const tb *b = (const tb *)vb;                                                            \
        to *o = (to *)vo;                                                                        \
        (void)p;                                                                                 \
        for (int32_t i = 0; i < n; ++i) {                                                        \
            const ta x = a[i * sa];                                                              \
            const tb y = b[i * sb];                                                              \
            o[i] = (expr);                                                                       \
        }                                                                                        \
    }

/* ---- int8 helpers ------------------------------------------------------------------ */

static inline int32_t rescale_input(int32_t v, int32_t left_shift, int32_t mult, int32_t shift)
{
    return tcc_requantize(v * (1 << left_shift), mult, shift);
}

/* SUB of int8 or int16 values (left_shift 20 or 15), clamped to the output type's range. */
static inline int32_t sub_q(const tcc_rescaled_s8_params *p, int32_t a, int32_t b)
{
    const int32_t x = rescale_input(a + p->in1_offset, p->left_shift, p->in1_mult, p->in1_shift);
    const int32_t y = rescale_input(b + p->in2_offset, p->left_shift, p->in2_mult, p->in2_shift);
    const int32_t r = tcc_requantize(x - y, p->out_mult, p->out_shift) + p->out_zp;
    return tcc_clamp(r, p->act_min, p->act_max);
}

/* SQUARED_DIFFERENCE of int8 or int16 values (left_shift 7 or 0), clamped to the output type. */
static inline int32_t squared_difference_q(const tcc_rescaled_s8_params *p, int32_t a, int32_t b)
{
    const int32_t x = rescale_input(a + p->in1_offset, p->left_shift, p->in1_mult, p->in1_shift);
    const int32_t y = rescale_input(b + p->in2_offset, p->left_shift, p->in2_mult, p->in2_shift);
    const int32_t d = x - y;
    const int32_t r = tcc_requantize(d * d, p->out_mult, p->out_shift) + p->out_zp;
    return tcc_clamp(r, p->act_min, p->act_max);
}

/* MUL of int8 or int16 values (|product| <= 2^30), clamped to the output type's range. */
static inline int32_t mul_q(const tcc_product_s8_params *p, int32_t a, int32_t b)
{
    const int32_t r = tcc_requantize((a + p->in1_offset) * (b + p->in2_offset), p->out_mult, p->out_shift);
    return tcc_clamp(r + p->out_zp, p->act_min, p->act_max);
}

/* Count leading zeros of a uint32 (32 for 0). */
static inline int32_t clz32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* Leading redundant sign bits of an int32 (31 for 0 and -1). */
static inline int32_t clrsb32(int32_t x)
{
    const uint32_t u = (uint32_t)x;
    return clz32(x < 0 ? ~u : u) - 1;
}

/* gemmlowp Rescale up by 2^e (saturating), e in 1..30. */
static inline int32_t sat_shl(int32_t x, int32_t e)
{
    const int32_t threshold = (int32_t)((1u << (31 - e)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << e);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) for a in [0, 1) (Q0.31), by
 * three Newton-Raphson steps from 48/17 - 32/17 d (in Q2.29), d = (1 + a) / 2. */
static inline int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + tcc_srdhm(half_denominator, -1010580540);
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus = (1 << 29) - tcc_srdhm(half_denominator, x);
        x = x + sat_shl(tcc_srdhm(x, one_minus), 2);
    }
    return sat_shl(x, 1);
}

/* RoundingDivideByPOT as TFLite Micro's host (x86) build computes it for any exponent:
 * the mask is cut to 32 bits and the shift count taken modulo 32 (they exceed 31 when
 * the dividend is 0 or tiny). */
static inline int32_t div_rdpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(uint32_t)(((uint64_t)1 << (exponent & 63)) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> (exponent & 31)) + (remainder > threshold ? 1 : 0);
}

/* reference_ops::DivElementwise: a negative divisor flips both signs; 1/b from
 * GetReciprocal (b normalized to [1, 2) times 2^bits); a normalized by its headroom;
 * the product rescaled by the output multiplier and all the shifts at once. b == zp
 * (division by zero) follows the same arithmetic as the x86 build (shift by 32 -> 0). */
static inline int8_t div_s8(const tcc_product_s8_params *p, int32_t a, int32_t b)
{
    int32_t num = a + p->in1_offset;
    int32_t den = b + p->in2_offset;
    if (den < 0) {
        num = -num;
        den = -den;
    }
    const int32_t headroom_plus_one = clz32((uint32_t)den);
    const int32_t recip_shift = 31 - headroom_plus_one;
    const int32_t shifted_minus_one =
        (int32_t)(((uint32_t)den << (headroom_plus_one & 31)) - 0x80000000u);
    const int32_t inv = one_over_one_plus_x(shifted_minus_one);
    const int32_t headroom = clrsb32(num);
    const int32_t unscaled = tcc_srdhm((int32_t)((uint32_t)num << headroom), inv);
    const int32_t total_shift = p->out_shift - recip_shift - headroom;
    const int32_t r = div_rdpot(tcc_srdhm(unscaled, p->out_mult), -total_shift) + p->out_zp;
    return (int8_t)tcc_clamp(r, p->act_min, p->act_max);
}

/* Unclamped: the int8 kernel clamps to int8, the int16 one (int16 input, int8 alpha) to int16. */
static inline int32_t prelu_q(const tcc_prelu_s8_params *p, int32_t x, int32_t alpha)
{
    const int32_t v = x + p->in_offset;
    const int32_t r = v >= 0 ? tcc_requantize(v, p->mult_pos, p->shift_pos)
                             : tcc_requantize(v * (alpha + p->alpha_offset), p->mult_neg, p->shift_neg);
    return r + p->out_zp;
}

/* FLOOR_DIV and FLOOR_MOD (reference floor_div.h, floor_mod.h): the quotient in double, as
 * TFLite divides; the remainder with the sign of the divisor. A zero int32 divisor gives 0
 * (TFLite stops with an error there). */
static inline float floor_div_f32(float a, float b)
{
    return (float)floor((double)a / (double)b);
}

static inline int32_t floor_div_s32(int32_t a, int32_t b)
{
    if (b == 0) {
        return 0;
    }
    int64_t q = (int64_t)a / b;
    if (q * b != a && ((a < 0) != (b < 0))) {
        q -= 1;
    }
    return (int32_t)(uint32_t)q;    /* INT32_MIN / -1 wraps, as TFLite's cast does on its hosts */
}

static inline float floor_mod_f32(float a, float b)
{
    const float r = fmodf(a, b);
    return (r != 0.0f && ((b < 0.0f) != (r < 0.0f))) ? r + b : r;
}

static inline int32_t floor_mod_s32(int32_t a, int32_t b)
{
    if (b == 0 || b == -1) {
        return 0;
    }
    const int32_t r = a % b;
    return (r != 0 && ((b < 0) != (r < 0))) ? r + b : r;
}

/* FLOOR_DIV, FLOOR_MOD of narrower and wider integers (TFLite's floor_div.h, floor_mod.h on int8,
 * int16, int64): the same rules, the quotient of int8/int16 wrapped to the type (-128 / -1). */
static inline int32_t floor_div_int(int32_t a, int32_t b)
{
    if (b == 0) {
        return 0;
    }
    const int32_t q = a / b;
    return (q * b != a && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static inline int64_t floor_mod_s64(int64_t a, int64_t b)
{
    if (b == 0 || b == -1) {
        return 0;
    }
    const int64_t r = a % b;
    return (r != 0 && ((b < 0) != (r < 0))) ? r + b : r;
}

/* Raw int32 arithmetic wraps (two's complement), then the activation clamp. */
static inline int32_t wrap_s32(uint32_t v)
{
    return (int32_t)v;
}

static inline int32_t clamp_s32(int32_t v, const tcc_binary_s32_params *p)
{
    return v < p->act_min ? p->act_min : (v > p->act_max ? p->act_max : v);
}

static inline int32_t div_s32(int32_t a, int32_t b)
{
    if (b == 0) {
        return 0;
    }
    return b == -1 ? wrap_s32(0u - (uint32_t)a) : a / b;
}

/* ---- kernels ------------------------------------------------------------------------ */

TCC_ROW(sub_s8, tcc_rescaled_s8_params, int8_t, int8_t, int8_t, (int8_t)sub_q(p, x, y))
TCC_ROW(sub_s16, tcc_rescaled_s8_params, int16_t, int16_t, int16_t, (int16_t)sub_q(p, x, y))
TCC_ROW(squared_difference_s8, tcc_rescaled_s8_params, int8_t, int8_t, int8_t, (int8_t)squared_difference_q(p, x, y))
TCC_ROW(squared_difference_s16, tcc_rescaled_s8_params, int16_t, int16_t, int16_t,
        (int16_t)squared_difference_q(p, x, y))
TCC_ROW(mul_s8, tcc_product_s8_params, int8_t, int8_t, int8_t, (int8_t)mul_q(p, x, y))
TCC_ROW(mul_s16, tcc_product_s8_params, int16_t, int16_t, int16_t, (int16_t)mul_q(p, x, y))
TCC_ROW(div_s8, tcc_product_s8_params, int8_t, int8_t, int8_t, div_s8(p, x, y))
TCC_ROW(maximum_s8, tcc_bcast, int8_t, int8_t, int8_t, x > y ? x : y)
TCC_ROW(maximum_s16, tcc_bcast, int16_t, int16_t, int16_t, x > y ? x : y)
TCC_ROW(minimum_s8, tcc_bcast, int8_t, int8_t, int8_t, x < y ? x : y)
TCC_ROW(minimum_s16, tcc_bcast, int16_t, int16_t, int16_t, x < y ? x : y)
TCC_ROW(prelu_s8, tcc_prelu_s8_params, int8_t, int8_t, int8_t, (int8_t)tcc_clamp(prelu_q(p, x, y), -128, 127))
TCC_ROW(prelu_s16, tcc_prelu_s8_params, int16_t, int8_t, int16_t,
        (int16_t)tcc_clamp(prelu_q(p, x, y), INT16_MIN, INT16_MAX))
TCC_ROW(sub_f32, tcc_binary_f32_params, float, float, float, tcc_clampf(x - y, p->act_min, p->act_max))
TCC_ROW(mul_f32, tcc_binary_f32_params, float, float, float, tcc_clampf(x * y, p->act_min, p->act_max))
TCC_ROW(div_f32, tcc_binary_f32_params, float, float, float, tcc_clampf(x / y, p->act_min, p->act_max))
TCC_ROW(squared_difference_f32, tcc_bcast, float, float, float, (x - y) * (x - y))
TCC_ROW(maximum_f32, tcc_bcast, float, float, float, x > y ? x : y)
TCC_ROW(minimum_f32, tcc_bcast, float, float, float, x < y ? x : y)
TCC_ROW(prelu_f32, tcc_bcast, float, float, float, x >= 0.0f ? x : x * y)
TCC_ROW(floor_div_f32, tcc_bcast, float, float, float, floor_div_f32(x, y))
TCC_ROW(floor_div_s32, tcc_bcast, int32_t, int32_t, int32_t, floor_div_s32(x, y))
TCC_ROW(floor_mod_f32, tcc_bcast, float, float, float, floor_mod_f32(x, y))
TCC_ROW(floor_mod_s32, tcc_bcast, int32_t, int32_t, int32_t, floor_mod_s32(x, y))
#define TCC_BINARY_DEF(name, tp, shape, ta, tb, to)                                             \
    void tcc_##name(const tp *p, const ta *a, const tb *b, to *out)                              \
    {                                                                                            \
        bcast_rows(shape, name##_row, p, a, (int32_t)sizeof(ta), b, (int32_t)sizeof(tb), out,    \
                   (int32_t)sizeof(to));                                                         \
    }

/* The integer kernels few models need, each compiled only for a model that calls it. */
#ifndef TCC_OMIT_SUB_S32
TCC_ROW(sub_s32, tcc_binary_s32_params, int32_t, int32_t, int32_t, clamp_s32(wrap_s32((uint32_t)x - (uint32_t)y), p))
TCC_BINARY_DEF(sub_s32, tcc_binary_s32_params, &p->shape, int32_t, int32_t, int32_t)
#endif
#ifndef TCC_OMIT_MUL_S32
TCC_ROW(mul_s32, tcc_binary_s32_params, int32_t, int32_t, int32_t, clamp_s32(wrap_s32((uint32_t)x * (uint32_t)y), p))
TCC_BINARY_DEF(mul_s32, tcc_binary_s32_params, &p->shape, int32_t, int32_t, int32_t)
#endif
#ifndef TCC_OMIT_DIV_S32
TCC_ROW(div_s32, tcc_binary_s32_params, int32_t, int32_t, int32_t, clamp_s32(div_s32(x, y), p))
TCC_BINARY_DEF(div_s32, tcc_binary_s32_params, &p->shape, int32_t, int32_t, int32_t)
#endif
#ifndef TCC_OMIT_SQUARED_DIFFERENCE_S32
TCC_ROW(squared_difference_s32, tcc_bcast, int32_t, int32_t, int32_t,
        wrap_s32(((uint32_t)x - (uint32_t)y) * ((uint32_t)x - (uint32_t)y)))
TCC_BINARY_DEF(squared_difference_s32, tcc_bcast, p, int32_t, int32_t, int32_t)
#endif
#ifndef TCC_OMIT_MUL_U8     /* fully-uint8 models: TFLite's uint8 reference Mul is int8's arithmetic */
TCC_ROW(mul_u8, tcc_product_s8_params, uint8_t, uint8_t, uint8_t, (uint8_t)mul_q(p, x, y))
TCC_BINARY_DEF(mul_u8, tcc_product_s8_params, &p->shape, uint8_t, uint8_t, uint8_t)
#endif
#ifndef TCC_OMIT_MAXIMUM_S32
TCC_ROW(maximum_s32, tcc_bcast, int32_t, int32_t, int32_t, x > y ? x : y)
TCC_BINARY_DEF(maximum_s32, tcc_bcast, p, int32_t, int32_t, int32_t)
#endif
#ifndef TCC_OMIT_MINIMUM_S32
TCC_ROW(minimum_s32, tcc_bcast, int32_t, int32_t, int32_t, x < y ? x : y)
TCC_BINARY_DEF(minimum_s32, tcc_bcast, p, int32_t, int32_t, int32_t)
#endif
#ifndef TCC_OMIT_MAXIMUM_S64
TCC_ROW(maximum_s64, tcc_bcast, int64_t, int64_t, int64_t, x > y ? x : y)
TCC_BINARY_DEF(maximum_s64, tcc_bcast, p, int64_t, int64_t, int64_t)
#endif
#ifndef TCC_OMIT_MINIMUM_S64
TCC_ROW(minimum_s64, tcc_bcast, int64_t, int64_t, int64_t, x < y ? x : y)
TCC_BINARY_DEF(minimum_s64, tcc_bcast, p, int64_t, int64_t, int64_t)
#endif
#ifndef TCC_OMIT_FLOOR_DIV_S8
TCC_ROW(floor_div_s8, tcc_bcast, int8_t, int8_t, int8_t, (int8_t)(uint8_t)floor_div_int(x, y))
TCC_BINARY_DEF(floor_div_s8, tcc_bcast, p, int8_t, int8_t, int8_t)
#endif
#ifndef TCC_OMIT_FLOOR_DIV_S16
TCC_ROW(floor_div_s16, tcc_bcast, int16_t, int16_t, int16_t, (int16_t)(uint16_t)floor_div_int(x, y))
TCC_BINARY_DEF(floor_div_s16, tcc_bcast, p, int16_t, int16_t, int16_t)
#endif
#ifndef TCC_OMIT_FLOOR_MOD_S8
TCC_ROW(floor_mod_s8, tcc_bcast, int8_t, int8_t, int8_t, (int8_t)floor_mod_s32(x, y))
TCC_BINARY_DEF(floor_mod_s8, tcc_bcast, p, int8_t, int8_t, int8_t)
#endif
#ifndef TCC_OMIT_FLOOR_MOD_S16
TCC_ROW(floor_mod_s16, tcc_bcast, int16_t, int16_t, int16_t, (int16_t)floor_mod_s32(x, y))
TCC_BINARY_DEF(floor_mod_s16, tcc_bcast, p, int16_t, int16_t, int16_t)
#endif
#ifndef TCC_OMIT_FLOOR_MOD_S64
TCC_ROW(floor_mod_s64, tcc_bcast, int64_t, int64_t, int64_t, floor_mod_s64(x, y))
TCC_BINARY_DEF(floor_mod_s64, tcc_bcast, p, int64_t, int64_t, int64_t)
#endif

TCC_ROW(logical_and_b8, tcc_bcast, uint8_t, uint8_t, uint8_t, (uint8_t)(x && y))
TCC_ROW(logical_or_b8, tcc_bcast, uint8_t, uint8_t, uint8_t, (uint8_t)(x || y))

TCC_BINARY_DEF(sub_s8, tcc_rescaled_s8_params, &p->shape, int8_t, int8_t, int8_t)
TCC_BINARY_DEF(sub_s16, tcc_rescaled_s8_params, &p->shape, int16_t, int16_t, int16_t)
TCC_BINARY_DEF(squared_difference_s8, tcc_rescaled_s8_params, &p->shape, int8_t, int8_t, int8_t)
TCC_BINARY_DEF(squared_difference_s16, tcc_rescaled_s8_params, &p->shape, int16_t, int16_t, int16_t)
TCC_BINARY_DEF(mul_s8, tcc_product_s8_params, &p->shape, int8_t, int8_t, int8_t)
TCC_BINARY_DEF(mul_s16, tcc_product_s8_params, &p->shape, int16_t, int16_t, int16_t)
TCC_BINARY_DEF(div_s8, tcc_product_s8_params, &p->shape, int8_t, int8_t, int8_t)
TCC_BINARY_DEF(maximum_s8, tcc_bcast, p, int8_t, int8_t, int8_t)
TCC_BINARY_DEF(maximum_s16, tcc_bcast, p, int16_t, int16_t, int16_t)
TCC_BINARY_DEF(minimum_s8, tcc_bcast, p, int8_t, int8_t, int8_t)
TCC_BINARY_DEF(minimum_s16, tcc_bcast, p, int16_t, int16_t, int16_t)
TCC_BINARY_DEF(prelu_s8, tcc_prelu_s8_params, &p->shape, int8_t, int8_t, int8_t)
TCC_BINARY_DEF(prelu_s16, tcc_prelu_s8_params, &p->shape, int16_t, int8_t, int16_t)
TCC_BINARY_DEF(sub_f32, tcc_binary_f32_params, &p->shape, float, float, float)
TCC_BINARY_DEF(mul_f32, tcc_binary_f32_params, &p->shape, float, float, float)
TCC_BINARY_DEF(div_f32, tcc_binary_f32_params, &p->shape, float, float, float)
TCC_BINARY_DEF(squared_difference_f32, tcc_bcast, p, float, float, float)
TCC_BINARY_DEF(maximum_f32, tcc_bcast, p, float, float, float)
TCC_BINARY_DEF(minimum_f32, tcc_bcast, p, float, float, float)
TCC_BINARY_DEF(prelu_f32, tcc_bcast, p, float, float, float)
TCC_BINARY_DEF(floor_div_f32, tcc_bcast, p, float, float, float)
TCC_BINARY_DEF(floor_div_s32, tcc_bcast, p, int32_t, int32_t, int32_t)
TCC_BINARY_DEF(floor_mod_f32, tcc_bcast, p, float, float, float)
TCC_BINARY_DEF(floor_mod_s32, tcc_bcast, p, int32_t, int32_t, int32_t)
TCC_BINARY_DEF(logical_and_b8, tcc_bcast, p, uint8_t, uint8_t, uint8_t)
TCC_BINARY_DEF(logical_or_b8, tcc_bcast, p, uint8_t, uint8_t, uint8_t)

void tcc_logical_not_b8(const uint8_t *in, uint8_t *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = (uint8_t)!in[i];
    }
}

/* Comparisons: the outcome of one comparison as bits (less 1, equal 2, greater 4,
 * unordered 8: a NaN operand), tested against the predicate's mask. */
#define TCC_LT 1u
#define TCC_EQ 2u
#define TCC_GT 4u
#define TCC_UN 8u

static inline uint8_t compare_bits(int lt, int eq, int gt)
{
    const unsigned bits = (lt ? TCC_LT : 0u) | (eq ? TCC_EQ : 0u) | (gt ? TCC_GT : 0u);
    return (uint8_t)(bits ? bits : TCC_UN);
}

typedef struct {
    const void *params;
    uint8_t mask;
} compare_ctx;

static inline int32_t compare_scaled(const tcc_compare_s8_params *p, int32_t v, int first)
{
    return first ? rescale_input(v + p->in1_offset, p->left_shift, p->in1_mult, p->in1_shift)
                 : rescale_input(v + p->in2_offset, p->left_shift, p->in2_mult, p->in2_shift);
}

static void compare_s8_row(const void *params, const void *va, const void *vb, void *vo,
                           int32_t n, int32_t sa, int32_t sb)
{
    const compare_ctx *c = (const compare_ctx *)params;
    const tcc_compare_s8_params *p = (const tcc_compare_s8_params *)c->params;
    const int8_t *a = (const int8_t *)va;
    const int8_t *b = (const int8_t *)vb;
    uint8_t *o = (uint8_t *)vo;
    for (int32_t i = 0; i < n; ++i) {
        const int32_t x = compare_scaled(p, a[i * sa], 1);
        const int32_t y = compare_scaled(p, b[i * sb], 0);
        o[i] = (uint8_t)((compare_bits(x < y, x == y, x > y) & c->mask) != 0u);
    }
}

/* The row of a comparison of raw values (no rescaling): float, int32 and the types below. */
#define TCC_COMPARE_ROW(name, type)                                                              \
    static void name##_row(const void *params, const void *va, const void *vb, void *vo,          \
                           int32_t n, int32_t sa, int32_t sb)                                      \
    {                                                                                              \
        const compare_ctx *c = (const compare_ctx *)params;                                        \
        const type *a = (const type *)va;                                                          \
        const type *b = (const type *)vb;                                                          \
        uint8_t *o = (uint8_t *)vo;                                                                \
        for (int32_t i = 0; i < n; ++i) {                                                          \
            const type x = a[i * sa];                                                              \
            const type y = b[i * sb];                                                              \
            o[i] = (uint8_t)((compare_bits(x < y, x == y, x > y) & c->mask) != 0u);              \
        }                                                                                          \
    }
TCC_COMPARE_ROW(compare_f32, float)
#if !defined(TCC_OMIT_EQUAL_S32) || !defined(TCC_OMIT_NOT_EQUAL_S32) || !defined(TCC_OMIT_GREATER_S32) \
    || !defined(TCC_OMIT_GREATER_EQUAL_S32) || !defined(TCC_OMIT_LESS_S32) || !defined(TCC_OMIT_LESS_EQUAL_S32)
TCC_COMPARE_ROW(compare_s32, int32_t)
#endif

/* Raw comparisons of the types few models compare (int64 as TFLite Micro; int16 as TFLite, which
 * ignores the quantization; bool for EQUAL and NOT_EQUAL), each compiled only when called. */
#define TCC_COMPARE_RAW_DEF(name, suffix, type, mask_bits)                                       \
    TCC_COMPARE_ROW(name##_##suffix, type)                                                      \
    void tcc_##name##_##suffix(const tcc_bcast *p, const type *a, const type *b, uint8_t *out)     \
    {                                                                                              \
        const compare_ctx c = {p, (uint8_t)(mask_bits)};                                           \
        bcast_rows(p, name##_##suffix##_row, &c, a, (int32_t)sizeof(type), b, (int32_t)sizeof(type), out, 1); \
    }

#ifndef TCC_OMIT_EQUAL_S64
TCC_COMPARE_RAW_DEF(equal, s64, int64_t, TCC_EQ)
#endif
#ifndef TCC_OMIT_NOT_EQUAL_S64
TCC_COMPARE_RAW_DEF(not_equal, s64, int64_t, TCC_LT | TCC_GT)
#endif
#ifndef TCC_OMIT_GREATER_S64
TCC_COMPARE_RAW_DEF(greater, s64, int64_t, TCC_GT)
#endif
#ifndef TCC_OMIT_GREATER_EQUAL_S64
TCC_COMPARE_RAW_DEF(greater_equal, s64, int64_t, TCC_GT | TCC_EQ)
#endif
#ifndef TCC_OMIT_LESS_S64
TCC_COMPARE_RAW_DEF(less, s64, int64_t, TCC_LT)
#endif
#ifndef TCC_OMIT_LESS_EQUAL_S64
TCC_COMPARE_RAW_DEF(less_equal, s64, int64_t, TCC_LT | TCC_EQ)
#endif
#ifndef TCC_OMIT_EQUAL_B8
TCC_COMPARE_RAW_DEF(equal, b8, uint8_t, TCC_EQ)
#endif
#ifndef TCC_OMIT_NOT_EQUAL_B8
TCC_COMPARE_RAW_DEF(not_equal, b8, uint8_t, TCC_LT | TCC_GT)
#endif
#ifndef TCC_OMIT_EQUAL_S16
TCC_COMPARE_RAW_DEF(equal, s16, int16_t, TCC_EQ)
#endif
#ifndef TCC_OMIT_NOT_EQUAL_S16
TCC_COMPARE_RAW_DEF(not_equal, s16, int16_t, TCC_LT | TCC_GT)
#endif
#ifndef TCC_OMIT_GREATER_S16
TCC_COMPARE_RAW_DEF(greater, s16, int16_t, TCC_GT)
#endif
#ifndef TCC_OMIT_GREATER_EQUAL_S16
TCC_COMPARE_RAW_DEF(greater_equal, s16, int16_t, TCC_GT | TCC_EQ)
#endif
#ifndef TCC_OMIT_LESS_S16
TCC_COMPARE_RAW_DEF(less, s16, int16_t, TCC_LT)
#endif
#ifndef TCC_OMIT_LESS_EQUAL_S16
TCC_COMPARE_RAW_DEF(less_equal, s16, int16_t, TCC_LT | TCC_EQ)
#endif

/* int32 (loop counters, indices): raw values compared. */
#define TCC_COMPARE_S32_DEF(name, mask_bits)                                                     \
    void tcc_##name##_s32(const tcc_bcast *p, const int32_t *a, const int32_t *b, uint8_t *out)  \
    {                                                                                            \
        const compare_ctx c = {p, (uint8_t)(mask_bits)};                                         \
        bcast_rows(p, compare_s32_row, &c, a, 4, b, 4, out, 1);                                  \
    }

#define TCC_COMPARE_DEF(name, mask_bits)                                                         \
    void tcc_##name##_s8(const tcc_compare_s8_params *p, const int8_t *a, const int8_t *b, uint8_t *out) \
    {                                                                                            \
        const compare_ctx c = {p, (uint8_t)(mask_bits)};                                         \
        bcast_rows(&p->shape, compare_s8_row, &c, a, 1, b, 1, out, 1);                           \
    }                                                                                            \
    void tcc_##name##_f32(const tcc_bcast *p, const float *a, const float *b, uint8_t *out)      \
    {                                                                                            \
        const compare_ctx c = {p, (uint8_t)(mask_bits)};                                         \
        bcast_rows(p, compare_f32_row, &c, a, 4, b, 4, out, 1);                                  \
    }

TCC_COMPARE_DEF(equal, TCC_EQ)
TCC_COMPARE_DEF(not_equal, TCC_LT | TCC_GT | TCC_UN)
TCC_COMPARE_DEF(greater, TCC_GT)
TCC_COMPARE_DEF(greater_equal, TCC_GT | TCC_EQ)
TCC_COMPARE_DEF(less, TCC_LT)
TCC_COMPARE_DEF(less_equal, TCC_LT | TCC_EQ)
#ifndef TCC_OMIT_EQUAL_S32
TCC_COMPARE_S32_DEF(equal, TCC_EQ)
#endif
#ifndef TCC_OMIT_NOT_EQUAL_S32
TCC_COMPARE_S32_DEF(not_equal, TCC_LT | TCC_GT)
#endif
#ifndef TCC_OMIT_GREATER_S32
TCC_COMPARE_S32_DEF(greater, TCC_GT)
#endif
#ifndef TCC_OMIT_GREATER_EQUAL_S32
TCC_COMPARE_S32_DEF(greater_equal, TCC_GT | TCC_EQ)
#endif
#ifndef TCC_OMIT_LESS_S32
TCC_COMPARE_S32_DEF(less, TCC_LT)
#endif
#ifndef TCC_OMIT_LESS_EQUAL_S32
TCC_COMPARE_S32_DEF(less_equal, TCC_LT | TCC_EQ)
#endif

/* SELECT_V2 and SELECT: elements of ``size`` bytes copied, so one loop serves every type. */
void tcc_select(const tcc_bcast3 *s, const uint8_t *cond, const void *va, const void *vb, void *vout,
                int32_t size)
{
    const uint8_t *a = (const uint8_t *)va;
    const uint8_t *b = (const uint8_t *)vb;
    uint8_t *out = (uint8_t *)vout;
    for (int32_t i0 = 0; i0 < s->dims[0]; ++i0)
    for (int32_t i1 = 0; i1 < s->dims[1]; ++i1)
    for (int32_t i2 = 0; i2 < s->dims[2]; ++i2)
    for (int32_t i3 = 0; i3 < s->dims[3]; ++i3)
    for (int32_t i4 = 0; i4 < s->dims[4]; ++i4) {
        int32_t ic = i0 * s->c_strides[0] + i1 * s->c_strides[1] + i2 * s->c_strides[2]
                   + i3 * s->c_strides[3] + i4 * s->c_strides[4];
        int32_t ia = i0 * s->a_strides[0] + i1 * s->a_strides[1] + i2 * s->a_strides[2]
                   + i3 * s->a_strides[3] + i4 * s->a_strides[4];
        int32_t ib = i0 * s->b_strides[0] + i1 * s->b_strides[1] + i2 * s->b_strides[2]
                   + i3 * s->b_strides[3] + i4 * s->b_strides[4];
        for (int32_t i5 = 0; i5 < s->dims[5]; ++i5) {
            const uint8_t *src = cond[ic] ? a + ia * size : b + ib * size;
            for (int32_t k = 0; k < size; ++k) {
                *out++ = src[k];
            }
            ic += s->c_strides[5];
            ia += s->a_strides[5];
            ib += s->b_strides[5];
        }
    }
}
