/* tinycc runtime, Cortex-M DSP kernels: SVDF, int8 input and weights_feature, int16 state and
 * weights_time (state zero point 0), bit-exact with tcc_svdf_s8_s16 (TFLite Micro's order).
 *
 * 1. the state moves left by one element in words (unaligned LDR / aligned STR where possible);
 * 2. the feature products four filters at a time: each group of 4 inputs is one word whose
 *    SXTB16 / SXTB16 ROR 8 give the pairs (x0, x2), (x1, x3) (the last 1 to 3 inputs: one word
 *    zero-padded, made once a row); the weights, widened at build time
 *    (tcc_arm_svdf.h), are read four words in a row, then four SMLAD (the int32 sums TFLite Micro
 *    makes; the input zero point is in feature_bias); each sum requantized with SMMLAR as the
 *    other DSP kernels do (tcc_arm_lstm.c's tcc_arm_lstm_rq);
 * 3. the time products on int16 pairs with SMLAD (modular int32 sums, as the plain loop's), a
 *    unit's rank * memory products as one run (its filters are consecutive);
 * 4. the output's requantization (tcc_arm_svdf_time: the plain one's results).
 */
#include "tcc_arm_svdf.h"

#include "tcc_arm_dsp.h"
#include "tcc_arm_s16.h"
#include "tcc_common.h"

#ifndef TCC_OMIT_ARM_SVDF_S8_S16  /* tinycc defines it when no op calls it */
/* A condition seldom true (its code laid out of line). */
#if defined(__GNUC__)
#define TCC_ARM_SVDF_RARE(c) __builtin_expect(!!(c), 0)
#else
#define TCC_ARM_SVDF_RARE(c) (c)
#endif

/* state[i] = state[i + 1] for i < n - 1 (a forward copy: every read is ahead of the write). */
static void tcc_arm_svdf_shift16(int16_t *state, int32_t n)
{
    int16_t *d = state;
    const int16_t *s = state + 1, *end = state + n - 1;
    for (; d + 8 <= end; d += 8, s += 8) {
        const uint32_t v0 = tcc_ld32(s), v1 = tcc_ld32(s + 2), v2 = tcc_ld32(s + 4), v3 = tcc_ld32(s + 6);
        tcc_st32(d, v0);
        tcc_st32(d + 2, v1);
        tcc_st32(d + 4, v2);
        tcc_st32(d + 6, v3);
    }
    for (; d < end; ++d, ++s) {
        *d = *s;
    }
}

/* tcc_requantize(acc, mult1, shift1) from rq = {mult, add, s, lshift}, clamped to int16. */
TCC_ARM_INLINE int16_t tcc_arm_svdf_state(int32_t acc, const int32_t rq[4])
{
    const int32_t a = (int32_t)((uint32_t)acc << rq[3]);
    const int32_t r = tcc_smmlar(a, rq[0], rq[1]);
    return (int16_t)tcc_clamp(rq[2] > 0 ? (r + (a >> 31)) >> rq[2] : r, -32768, 32767);
}

/* Step 3 and 4 for one batch row: s its state, out its outputs. The requantization is
 * tcc_requantize(acc, mult2, shift2): for shift2 <= 0 (the usual case) TFLite's doubling high
 * multiply, (acc * mult2 + 2^30) >> 31 (its nudge and truncation give this floor; mult2 > 0 never
 * saturates), then its rounding right shift by e = -shift2 (half away from zero), its constants
 * made once; else the plain function. */
static void tcc_arm_svdf_time(const tcc_svdf_s8_params *p, const int16_t *s, int8_t *out)
{
    const int16_t *wt = (const int16_t *)p->weights_time;
    const int32_t len = p->rank * p->memory;     /* a unit's filters are consecutive: one run */
    const int32_t mult2 = p->mult2, shift2 = p->shift2, out_zp = p->out_zp;
    const int32_t e = shift2 > 0 ? 0 : -shift2, mask = (int32_t)((1u << e) - 1u), half = mask >> 1;
    const int32_t *bias = p->bias;
    for (int8_t *end = out + p->units; out < end; ++out, wt += len, s += len) {
        int32_t acc = *bias++, j = 0;
        for (; j + 4 <= len; j += 4) {
            uint32_t w0, s0, w1, s1;
            TCC_LDR_ANY(w0, wt + j, 0);
            TCC_LDR_ANY(s0, s + j, 0);
            TCC_LDR_ANY(w1, wt + j, 4);
            TCC_LDR_ANY(s1, s + j, 4);
            TCC_SMLAD_ACC(acc, w0, s0);
            TCC_SMLAD_ACC(acc, w1, s1);
        }
        if (j + 2 <= len) {
            acc = tcc_smlad(tcc_ld32(wt + j), tcc_ld32(s + j), acc);
            j += 2;
        }
        if (j < len) {
            acc += (int32_t)wt[j] * s[j];
        }
        int32_t v;
        if (TCC_ARM_SVDF_RARE(shift2 > 0)) {
            v = tcc_requantize(acc, mult2, shift2);
        } else {
            const int32_t hi = (int32_t)(((int64_t)acc * mult2 + ((int64_t)1 << 30)) >> 31);
            v = (hi >> e) + ((hi & mask) > half + (hi < 0));
        }
        *out = (int8_t)tcc_ssat8(v + out_zp);
    }
}

void tcc_arm_svdf_s8_s16(const tcc_svdf_s8_params *p, const int32_t *wf16, const int32_t *rq1, const int8_t *in,
                         int16_t *state, int8_t *out)
{
    const int32_t mem = p->memory, per_batch = p->filters * mem, n = p->input_size, n4 = n & ~3;
    tcc_arm_svdf_shift16(state, p->batches * per_batch);
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x0 = in + b * n;
        int16_t *s = state + b * per_batch;
        const uint32_t *w = (const uint32_t *)wf16;
        uint32_t tail = 0;          /* the inputs past the last whole group of 4, zero-padded */
        for (int32_t k = n - 1; k >= n4; --k) {
            tail = (tail << 8) | (uint8_t)x0[k];
        }
        const uint32_t ta = tcc_sxtb16(tail), tb = tcc_sxtb16_ror8(tail);
        for (int32_t f = 0; f < p->filters; f += 4) {
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            const int8_t *x = x0;
            for (; x + 8 <= x0 + n4; x += 8, w += 16) {     /* two groups of 4 inputs a pass */
                const uint32_t xv = tcc_ld32(x), xa = tcc_sxtb16(xv), xb = tcc_sxtb16_ror8(xv);
                const uint32_t yv = tcc_ld32(x + 4), ya = tcc_sxtb16(yv), yb = tcc_sxtb16_ror8(yv);
                TCC_ARM_S16_STEP4(xa, 0);
                TCC_ARM_S16_STEP4(xb, 16);
                TCC_ARM_S16_STEP4(ya, 32);
                TCC_ARM_S16_STEP4(yb, 48);
            }
            if (x < x0 + n4) {
                const uint32_t xv = tcc_ld32(x), xa = tcc_sxtb16(xv), xb = tcc_sxtb16_ror8(xv);
                TCC_ARM_S16_STEP4(xa, 0);
                TCC_ARM_S16_STEP4(xb, 16);
                w += 8;
            }
            if (n4 < n) {
                TCC_ARM_S16_STEP4(ta, 0);
                TCC_ARM_S16_STEP4(tb, 16);
                w += 8;
            }
            const int32_t *fb = p->feature_bias + f;
            int16_t *last = s + f * mem + mem - 1;
            const int32_t left = p->filters - f;
            last[0] = tcc_arm_svdf_state(a0 + fb[0], rq1);
            if (left >= 4) {
                last[mem] = tcc_arm_svdf_state(a1 + fb[1], rq1);
                last[2 * mem] = tcc_arm_svdf_state(a2 + fb[2], rq1);
                last[3 * mem] = tcc_arm_svdf_state(a3 + fb[3], rq1);
            } else {                /* the last block's filters */
                if (left > 1) last[mem] = tcc_arm_svdf_state(a1 + fb[1], rq1);
                if (left > 2) last[2 * mem] = tcc_arm_svdf_state(a2 + fb[2], rq1);
            }
        }
        tcc_arm_svdf_time(p, s, out + b * p->units);
    }
}
#endif
