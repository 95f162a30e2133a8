/* tinycc runtime: LOG_SOFTMAX and L2_NORMALIZATION over the last dimension.
 *
 * Semantics (TFLite Micro log_softmax.cc, l2norm.cc; reference log_softmax.h,
 * l2normalization.h, integer_ops/l2normalization.h; gemmlowp fixed point):
 *   LOG_SOFTMAX float32  out = x - max - log(sum(exp(x - max))).
 *   LOG_SOFTMAX int8     d = x - max(row); the d >= diff_min are rescaled to Q5.26 and
 *                        exp() summed in Q12.19; log(sum) in Q5.26; each output
 *                        (d_q5 - log_sum) / 2^22 + 127, or -128 where d is below the
 *                        range the sum leaves (output scale 16/256, zero point 127).
 *   L2_NORMALIZATION float32  out = x / max(sqrt(sum(x^2)), 1e-6).
 *   L2_NORMALIZATION int8     1/sqrt(sum((x - zp)^2)) as a multiplier
 *                        (GetInvSqrtQuantizedMultiplierExp), out = (x - zp) * it in
 *                        1/128 units, clamped.
 * Each row is read whole before its first output, then out[c] is written after
 * reading in[c]: the output may be the input buffer.
 */
#include "tcc_normalize.h"

#include <float.h>
#include <math.h>

#include "tcc_common.h"

/* ---- gemmlowp fixed point --------------------------------------------------------- */

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

/* x * 2^e, saturating (gemmlowp SaturatingRoundingMultiplyByPOT, e in 0..30). */
static inline int32_t sat_shl(int32_t x, int32_t e)
{
    if (e == 0) {
        return x;
    }
    const int32_t threshold = (int32_t)((1u << (31 - e)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << e);
}

static inline int32_t sat_add(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + b;
    return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}

static inline int32_t sat_sub(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a - b;
    return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}

static inline int32_t rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + b;
    return (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
}

/* 1 / (1 + a), a in [0, 1) in Q0.31. */
static inline int32_t one_over_one_plus_x(int32_t a)
{
    const int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
    int32_t x = 1515870810 + tcc_srdhm(half_denominator, -1010580540);
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus = (1 << 29) - tcc_srdhm(half_denominator, x);
        x = x + sat_shl(tcc_srdhm(x, one_minus), 2);
    }
    return sat_shl(x, 1);
}

/* exp(a) for a in [-1/4, 0), Q0.31. */
static inline int32_t exp_on_interval(int32_t a)
{
    const int32_t x = a + (1 << 28);
    const int32_t x2 = tcc_srdhm(x, x);
    const int32_t x3 = tcc_srdhm(x2, x);
    const int32_t x4 = tcc_srdhm(x2, x2);
    const int32_t x4_over_4 = tcc_rounding_div_pot(x4, 2);
    const int32_t poly = tcc_rounding_div_pot(tcc_srdhm(x4_over_4 + x3, 715827883) + x2, 1);
    return 1895147668 + tcc_srdhm(1895147668, x + poly);
}

/* exp(a) for a <= 0 given in Q5.26; result Q0.31 (gemmlowp exp_on_negative_values<5>). */
static int32_t exp_on_negative_values_q5(int32_t a)
{
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                           39332535, 720401, 242};
    const int32_t one_quarter = 1 << 24;
    const int32_t a_mod = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = exp_on_interval(sat_shl(a_mod, 5));
    const int32_t remainder = a_mod - a;
    for (int32_t k = 0; k < 7; ++k) {  /* exponents -2 .. 4: bits 24 .. 30 */
        if (remainder & (1 << (24 + k))) {
            result = tcc_srdhm(result, multipliers[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* log(x) for x >= 1 given in Q12.19; result Q5.26 (gemmlowp
 * log_x_for_x_greater_than_or_equal_to_1_impl<5, 12>). */
static int32_t log_q12_to_q5(int32_t z_a)
{
    const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
    const int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769, alpha_f = 638450708;
    const int32_t shifted_quarter = 536870912 >> 6;  /* 1/4 in Q6.25 */
    const int32_t input_integer_bits = 12, accum_integer_bits = 6;

    const int32_t z_a_headroom_plus_1 = clz32((uint32_t)z_a);
    const int32_t r_a_tmp = sat_shl(z_a, z_a_headroom_plus_1 - 1);
    const int32_t r_a = sat_shl(tcc_srdhm(r_a_tmp, sqrt_half), 1);
    const int32_t z_a_pow_2_adj =
        sat_add(sat_shl(input_integer_bits - z_a_headroom_plus_1, 31 - accum_integer_bits), shifted_quarter);

    const int32_t z_b = tcc_srdhm(z_a, sqrt_half);
    const int32_t z_b_headroom = clz32((uint32_t)z_b) - 1;
    const int32_t r_b = sat_shl(z_a, z_b_headroom);
    const int32_t z_b_pow_2_adj =
        sat_sub(sat_shl(input_integer_bits - z_b_headroom, 31 - accum_integer_bits), shifted_quarter);

    const int32_t r = r_a < r_b ? r_a : r_b;
    const int32_t z_pow_2_adj = z_a_pow_2_adj > z_b_pow_2_adj ? z_a_pow_2_adj : z_b_pow_2_adj;

    const int32_t p = rounding_half_sum(r, sqrt_sqrt_half);
    int32_t q = r - sqrt_sqrt_half;
    q = q + q;
    const int32_t common_sq = tcc_srdhm(q, q);
    const int32_t num = tcc_srdhm(q, r) + tcc_srdhm(tcc_srdhm(q, common_sq), alpha_n);
    const int32_t denom_minus_one =
        tcc_srdhm(p, alpha_i + q + tcc_srdhm(alpha_d, common_sq)) + tcc_srdhm(alpha_f, q);
    const int32_t recip_denom = one_over_one_plus_x(denom_minus_one);
    const int32_t num_scaled = tcc_rounding_div_pot(num, accum_integer_bits);
    return sat_shl(tcc_srdhm(z_pow_2_adj, log_2) + tcc_srdhm(num_scaled, recip_denom), 1);
}

/* GetInvSqrtQuantizedMultiplierExp(x, kReverseShift = -1): 1/sqrt(x) as mult * 2^shift. */
static void inv_sqrt_multiplier(int32_t x, int32_t *mult, int32_t *shift)
{
    if (x <= 1) {
        *mult = INT32_MAX;
        *shift = 0;
        return;
    }
    int32_t s = 11;
    while (x >= (1 << 29)) {
        x /= 4;
        ++s;
    }
    const int32_t pairs = (clz32((uint32_t)x) - 1) / 2 - 1;
    s -= pairs;
    x = (int32_t)((uint32_t)x << (2 * pairs));
    const int32_t half_input = tcc_rounding_div_pot(x >> 1, 1);   /* Q3.28 */
    const int32_t half_three = (1 << 28) + (1 << 27);
    int32_t r = 1 << 28;                                          /* 1.0 in Q3.28 */
    for (int i = 0; i < 5; ++i) {
        const int32_t r3 = sat_shl(tcc_srdhm(tcc_srdhm(r, r), r), 6);
        r = sat_shl(tcc_srdhm(half_three, r) - tcc_srdhm(half_input, r3), 3);
    }
    r = tcc_srdhm(r, 1518500250);                                 /* times sqrt(2)/2 */
    if (s < 0) {
        r = (int32_t)((uint32_t)r << -s);
        s = 0;
    }
    *mult = r;
    *shift = -s;
}

/* ---- kernels ------------------------------------------------------------------------ */

void tcc_log_softmax_s8(const tcc_log_softmax_s8_params *p, const int8_t *in, int8_t *out)
{
    for (int32_t row = 0; row < p->outer; ++row) {
        const int8_t *x = in + row * p->depth;
        int8_t *y = out + row * p->depth;
        int32_t max = -128;
        for (int32_t c = 0; c < p->depth; ++c) {
            max = x[c] > max ? x[c] : max;
        }
        int32_t sum_q12 = 0;
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = x[c] - max;
            if (diff >= p->diff_min) {
                const int32_t d_q5 = tcc_requantize(diff, p->in_mult, p->in_left_shift);
                sum_q12 += tcc_rounding_div_pot(exp_on_negative_values_q5(d_q5), 12);
            }
        }
        const int32_t log_sum_q5 = log_q12_to_q5(sum_q12);
        const int32_t rescaled_min = tcc_requantize(log_sum_q5 + INT32_MIN, p->reverse_mult, p->reverse_shift);
        const int32_t adjusted_min = p->diff_min - 1 > rescaled_min ? p->diff_min - 1 : rescaled_min;
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t diff = x[c] - max;
            if (diff > adjusted_min) {
                const int32_t d_q5 = tcc_requantize(diff, p->in_mult, p->in_left_shift);
                const int32_t r = tcc_rounding_div_pot(d_q5 - log_sum_q5, 31 - 5 - 4) + 127;
                y[c] = (int8_t)tcc_clamp(r, -128, 127);
            } else {
                y[c] = -128;
            }
        }
    }
}

void tcc_log_softmax_f32(const tcc_rows *p, const float *in, float *out)
{
    for (int32_t row = 0; row < p->outer; ++row) {
        const float *x = in + row * p->depth;
        float *y = out + row * p->depth;
        float max = -FLT_MAX;
        for (int32_t c = 0; c < p->depth; ++c) {
            max = max < x[c] ? x[c] : max;
        }
        float sum = 0.0f;
        for (int32_t c = 0; c < p->depth; ++c) {
            sum += expf(x[c] - max);
        }
        const float log_sum = logf(sum);
        for (int32_t c = 0; c < p->depth; ++c) {
            y[c] = x[c] - max - log_sum;
        }
    }
}

void tcc_l2_normalization_s8(const tcc_rows *p, int32_t in_zp, const int8_t *in, int8_t *out)
{
    for (int32_t row = 0; row < p->outer; ++row) {
        const int8_t *x = in + row * p->depth;
        int8_t *y = out + row * p->depth;
        int32_t acc = 0;
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t v = x[c] - in_zp;
            acc += v * v;
        }
        int32_t mult, shift;
        inv_sqrt_multiplier(acc, &mult, &shift);
        for (int32_t c = 0; c < p->depth; ++c) {
            const int32_t r = tcc_requantize(x[c] - in_zp, mult, shift + 7);
            y[c] = (int8_t)tcc_clamp(r, -128, 127);
        }
    }
}

void tcc_l2_normalization_f32(const tcc_rows *p, const float *in, float *out)
{
    for (int32_t row = 0; row < p->outer; ++row) {
        const float *x = in + row * p->depth;
        float *y = out + row * p->depth;
        float squared = 0.0f;
        for (int32_t c = 0; c < p->depth; ++c) {
            squared += x[c] * x[c];
        }
        float norm = sqrtf(squared);
        norm = norm < 1e-6f ? 1e-6f : norm;
        for (int32_t c = 0; c < p->depth; ++c) {
            y[c] = x[c] / norm;
        }
    }
}

#ifndef TCC_OMIT_RSQRT_S16
void tcc_rsqrt_s16(const tcc_rsqrt_s16_params *p, const int16_t *in, int16_t *out, int32_t n)
{
    const int32_t headroom = 20;
    for (int32_t i = 0; i < n; ++i) {
        const int32_t v = in[i];
        if (v == 0) {
            out[i] = INT16_MAX;
            continue;
        }
        int32_t mult, shift;
        inv_sqrt_multiplier(v, &mult, &shift);
        const int32_t data = tcc_requantize(1, mult, shift + headroom);
        out[i] = (int16_t)tcc_clamp(tcc_requantize(data, p->mult, p->shift - headroom), INT16_MIN, INT16_MAX);
    }
}
#endif
