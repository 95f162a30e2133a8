/* tinycc runtime: SOFTMAX.
 *
 * int8 semantics (TFLite reference quantized Softmax, gemmlowp fixed point):
 *   d = x - max(row), kept when d >= diff_min (else the output is -128)
 *   s = d * beta * input_scale as Q5.26 (multiplier with a left shift)
 *   e = exp(s) in Q0.31, by exact range reduction to [-1/4, 0) plus a 4th order
 *       Taylor polynomial around -1/8, then multiplying by exp(-2^k) constants
 *   sum = sum of e in Q12.19; 1/sum by Newton-Raphson (3 steps) on [1, 2)
 *   out = round(e / sum * 256) - 128, clamped to int8
 * The output is always scale 1/256, zero point -128.
 * Float: exp((x - max) * beta) / sum, as the TFLite reference.
 */
#include "tcc_softmax.h"
#include "tcc_common.h"

#include <math.h>

/* exp(a) for a in [-1/4, 0), a and the result in Q0.31. */
static int32_t exp_on_quarter_interval(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668;   /* exp(-1/8), Q0.31 */
    const int32_t one_third = 715827883;               /* 1/3, Q0.31 */
    const int32_t x = a + (1 << 28);                   /* x = a + 1/8, in [-1/8, 1/8) */
    const int32_t x2 = tcc_srdhm(x, x);
    const int32_t x3 = tcc_srdhm(x2, x);
    const int32_t x4 = tcc_srdhm(x2, x2);
    const int32_t x4_over_4 = tcc_rounding_div_pot(x4, 2);
    /* x^2/2 + x^3/6 + x^4/24 = ((x^4/4 + x^3) / 3 + x^2) / 2 */
    const int32_t poly = tcc_rounding_div_pot(tcc_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + tcc_srdhm(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0, a in Q5.26, result in Q0.31. */
static int32_t exp_on_negative_values(int32_t a)
{
    /* exp(-2^k) in Q0.31 for k = -2 .. 4, applied for each set bit of the remainder. */
    static const int32_t exp_of_minus_pot[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242,
    };
    const int32_t quarter = 1 << 24;                   /* 1/4 in Q5.26 */
    const int32_t a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter;
    /* Q5.26 -> Q0.31: exact, the value lies in [-1/4, 0). */
    int32_t result = exp_on_quarter_interval(a_mod_quarter_minus_quarter * 32);
    const int32_t remainder = a_mod_quarter_minus_quarter - a;   /* a multiple of 1/4, >= 0 */
    for (int k = 0; k < 7; ++k) {
        if (remainder & (1 << (24 + k))) {
            result = tcc_srdhm(result, exp_of_minus_pot[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

static int count_leading_zeros(uint32_t x)
{
    int n = 0;
    if (x == 0) return 32;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* 1 / (1 + a) for a in [0, 1) Q0.31, result in Q0.31 (Newton-Raphson in Q2.29). */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);  /* (1 + a) / 2 */
    const int32_t c48_over_17 = 1515870810;            /* 48/17, Q2.29 */
    const int32_t c_neg32_over_17 = -1010580540;       /* -32/17, Q2.29 */
    int32_t x = c48_over_17 + tcc_srdhm(half_denominator, c_neg32_over_17);
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus_hdx = (1 << 29) - tcc_srdhm(half_denominator, x);
        x = x + tcc_saturating_shl(tcc_srdhm(x, one_minus_hdx), 2);
    }
    return tcc_saturating_shl(x, 1);                   /* x / 2 in Q1.30, read back as Q0.31 */
}

void tcc_softmax_s8(const tcc_softmax_s8_params *p, const int8_t *in, int8_t *out)
{
    for (int32_t r = 0; r < p->outer; ++r) {
        const int8_t *x = in + r * p->depth;
        int8_t *y = out + r * p->depth;
        int32_t max = -128;
        for (int32_t c = 0; c < p->depth; ++c) {
            max = TCC_MAX(max, x[c]);
        }
        int32_t sum_of_exps = 0;                       /* Q12.19 */
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t d = x[c] - max;
            if (d >= p->diff_min) {
                const int32_t s = tcc_srdhm(d * (1 << p->in_left_shift), p->in_mult);
                sum_of_exps += tcc_rounding_div_pot(exp_on_negative_values(s), 12);
            }
        }
        /* 1 / sum: normalize sum to [1, 2), reciprocal in Q0.31, remember the exponent. */
        const int headroom_plus_one = count_leading_zeros((uint32_t)sum_of_exps);
        const int num_bits_over_unit = 12 - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - (1u << 31));
        const int32_t scale = one_over_one_plus_x(shifted_sum_minus_one);
        /* exponent > 31 means sum_of_exps >= 2^28 (512+ values near the maximum): every
         * probability is then below 1/512, i.e. under half an output step, so every output is
         * exactly the lowest value; shifting an int32 by 32+ bits would be undefined. */
        const int exponent = num_bits_over_unit + 31 - 8;
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t d = x[c] - max;
            int32_t v = -128;
            if (d >= p->diff_min && exponent <= 31) {
                const int32_t s = tcc_srdhm(d * (1 << p->in_left_shift), p->in_mult);
                const int32_t e = exp_on_negative_values(s);
                v = tcc_clamp(tcc_rounding_div_pot(tcc_srdhm(scale, e), exponent) - 128, -128, 127);
            }
            y[c] = (int8_t)v;
        }
    }
}

#ifndef TCC_OMIT_SOFTMAX_S16  /* tinycc defines it when no op calls it */
/* TFLite's generic_int16_table_lookup: a 513-entry table over the int16 range, linear
 * interpolation between entries 128 values apart, rounded. */
static int16_t lut16(const int16_t *lut, int32_t value)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t offset = value & 0x7f;
    const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
    return (int16_t)(lut[index] + ((slope * offset + (1 << 6)) >> 7));
}

/* exp(x - max) of one value in Q0.15: the difference rescaled onto [-65535, 0] (= [-10, 0]),
 * recentred to the int16 range, looked up. */
static int16_t softmax_exp16(const tcc_softmax_s16_params *p, int32_t diff)
{
    return lut16(p->exp_lut, tcc_clamp(tcc_requantize(diff, p->in_mult, p->in_shift) + 32767, -32768, 32767));
}

/* TFLite reference SoftmaxInt16: the row's sum of exps (Q16.15) normalised by its leading zeros
 * to [1, 2), 1 / sum from the reciprocal table, each exp times it with one rounding shift.
 * Row by row: the whole row is read (max, sum) before its first store, then x[c] is read again
 * just before y[c] is written (its exp is recomputed: no scratch). */
void tcc_softmax_s16(const tcc_softmax_s16_params *p, const int16_t *in, int16_t *out)
{
    for (int32_t r = 0; r < p->outer; ++r) {
        const int16_t *x = in + r * p->depth;
        int16_t *y = out + r * p->depth;
        int32_t max = INT16_MIN;
        for (int32_t c = 0; c < p->depth; ++c) {
            max = TCC_MAX(max, x[c]);
        }
        int32_t sum = 0;
        for (int32_t c = 0; c < p->depth; ++c) {
            sum += softmax_exp16(p, x[c] - max);
        }
        const int headroom_plus_one = count_leading_zeros((uint32_t)sum);
        const int32_t shifted = (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        const int16_t recip = lut16(p->recip_lut, tcc_clamp(shifted - (1 << 15) - (1 << 16), -32768, 32767));
        const int right_shift = 31 - headroom_plus_one;
        const int64_t round = (int64_t)1 << (right_shift - 1);
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t v = (int32_t)(((int64_t)softmax_exp16(p, x[c] - max) * recip + round) >> right_shift);
            y[c] = (int16_t)tcc_clamp(v, 0, 32767);
        }
    }
}
#endif

#ifndef TCC_OMIT_SOFTMAX_F32  /* tinycc defines it when no op calls it */
void tcc_softmax_f32(const tcc_softmax_f32_params *p, const float *in, float *out)
{
    for (int32_t r = 0; r < p->outer; ++r) {
        const float *x = in + r * p->depth;
        float *y = out + r * p->depth;
        float max = x[0];
        for (int32_t c = 1; c < p->depth; ++c) {
            max = x[c] > max ? x[c] : max;
        }
        float sum = 0.0f;
        for (int32_t c = 0; c < p->depth; ++c) {
            y[c] = expf((x[c] - max) * p->beta);
            sum += y[c];
        }
        for (int32_t c = 0; c < p->depth; ++c) {
            y[c] = y[c] / sum;
        }
    }
}
#endif
