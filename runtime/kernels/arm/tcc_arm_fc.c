/* tinycc runtime, Cortex-M DSP: FULLY_CONNECTED int8 (see tcc_arm.h).
 *
 * Same semantics as tcc_fully_connected_s8 (TFLite FullyConnected, the input zero point
 * folded into the bias). 4 output rows at a time: per group of 4 inputs one LDR of the 4 input
 * bytes, SXTB16 and SXTB16 ROR 8 into the pairs (x0,x2), (x1,x3), and one LDRD per row of the
 * row's weight pairs, 2 SMLAD per row (15 instructions per 16 MACs), with no scratch when
 * in_depth is a multiple of 4 (the row is then word-aligned in the arena). With row_in_scratch
 * (or an in_depth that is not a multiple of 4) the row is first expanded once to int16 pairs in
 * the scratch, and each step loads them with one LDRD (13 instructions per 16 MACs).
 * One entry point per variant (weights int16 pairs or int8, row in the scratch or read in place):
 * the compiler chose it, the C does not decide again.
 */
#include "tcc_arm.h"
#include "tcc_arm_dsp.h"

/* The 4 rows' weight pairs of step s (one LDRD each) times the input pairs x0_, x1_. */
#define FC_ROWS4(s)                                                                         \
        TCC_LDRD(w0_, w1_, w, 8 * (s));                                                     \
        TCC_SMLAD_ACC(a0, x0_, w0_);                                                       \
        TCC_SMLAD_ACC(a0, x1_, w1_);                                                       \
        TCC_LDRD(w0_, w1_, w, 8 * (s) + 2);                                                 \
        TCC_SMLAD_ACC(a1, x0_, w0_);                                                       \
        TCC_SMLAD_ACC(a1, x1_, w1_);                                                       \
        TCC_LDRD(w0_, w1_, w, 8 * (s) + 4);                                                 \
        TCC_SMLAD_ACC(a2, x0_, w0_);                                                       \
        TCC_SMLAD_ACC(a2, x1_, w1_);                                                       \
        TCC_LDRD(w0_, w1_, w, 8 * (s) + 6);                                                 \
        TCC_SMLAD_ACC(a3, x0_, w0_);                                                       \
        TCC_SMLAD_ACC(a3, x1_, w1_);                                                       \
        (void)0

#define FC_STEP(s)                                                                          \
    do {                                                                                    \
        uint32_t x0_, x1_, w0_, w1_;                                                        \
        TCC_LDRD(x0_, x1_, x, 2 * (s));                                                     \
        FC_ROWS4(s);                                                                        \
    } while (0)
#define FC_ADVANCE(k) (x = tcc_arm_wadd(x, 2 * (k)), w = tcc_arm_wadd(w, 8 * (k)))

/* The same step reading 4 int8 inputs (one word) and expanding them in registers. */
#define FC_STEP_I8(s)                                                                       \
    do {                                                                                    \
        uint32_t x0_, x1_, w0_, w1_, v_;                                                    \
        TCC_LDR_ANY(v_, xi, 4 * (s));                                                       \
        x0_ = tcc_sxtb16(v_);                                                               \
        x1_ = tcc_sxtb16_ror8(v_);                                                          \
        FC_ROWS4(s);                                                                        \
    } while (0)
#define FC_ADVANCE_I8(k) (xi = tcc_arm_wadd(xi, (k)), w = tcc_arm_wadd(w, 8 * (k)))

/* int8 weights (lshift != NULL): per row one LDR of its 4 weights, SXTB16 and SXTB16 ROR 8 into
 * the pairs (w0,w2), (w1,w3) that match the input pairs, 2 SMLAD. */
#define FC_ROW_W8(acc, s, r)                                                                \
        TCC_LDR_ANY(v_, w, 16 * (s) + 4 * (r));                                             \
        TCC_SMLAD_ACC(acc, x0_, tcc_sxtb16(v_));                                            \
        TCC_SMLAD_ACC(acc, x1_, tcc_sxtb16_ror8(v_))
#define FC_STEP_W8(s)                                                                       \
    do {                                                                                    \
        uint32_t x0_, x1_, v_;                                                              \
        TCC_LDRD(x0_, x1_, x, 2 * (s));                                                     \
        FC_ROW_W8(a0, s, 0); FC_ROW_W8(a1, s, 1); FC_ROW_W8(a2, s, 2); FC_ROW_W8(a3, s, 3); \
    } while (0)
#define FC_ADVANCE_W8(k) (x = tcc_arm_wadd(x, 2 * (k)), w = tcc_arm_wadd(w, 4 * (k)))
/* The same reading 4 int8 inputs (one word) and expanding them in registers (no scratch). */
#define FC_STEP_W8_I8(s)                                                                    \
    do {                                                                                    \
        uint32_t x0_, x1_, v_;                                                              \
        TCC_LDR_ANY(v_, xi, 4 * (s));                                                       \
        x0_ = tcc_sxtb16(v_);                                                               \
        x1_ = tcc_sxtb16_ror8(v_);                                                          \
        FC_ROW_W8(a0, s, 0); FC_ROW_W8(a1, s, 1); FC_ROW_W8(a2, s, 2); FC_ROW_W8(a3, s, 3); \
    } while (0)
#define FC_ADVANCE_W8_I8(k) (xi = tcc_arm_wadd(xi, (k)), w = tcc_arm_wadd(w, 4 * (k)))

TCC_ARM_INLINE int32_t fc_rq(int32_t acc, const tcc_arm_rq *rq)
{
    return rq->shift != 0 ? tcc_arm_rq_pos(acc, rq->mult, rq->add, rq->shift)
                          : tcc_arm_rq_zero(acc, rq->mult, rq->add);
}

TCC_ARM_INLINE int32_t fc_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Expand n int8 (n > 0) to K4 / 2 pair words; the padding lanes are 0. */
static inline void expand_row(uint32_t *dst, const int8_t *src, int32_t n)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32_t v = tcc_ld32(src + i);
        dst[0] = tcc_sxtb16(v);
        dst[1] = tcc_sxtb16_ror8(v);
        dst += 2;
    }
    if (i < n) {
        uint32_t v = 0;
        for (int32_t k = 0; i + k < n; ++k) {
            v |= (uint32_t)(uint8_t)src[i + k] << (8 * k);
        }
        dst[0] = tcc_sxtb16(v);
        dst[1] = tcc_sxtb16_ror8(v);
    }
}

/* The body of the four entry points: w8 (int8 weights, lshift) and direct (the input row read
 * as words in place, in_depth % 4 == 0) are constants of each entry, chosen by the compiler
 * (tinycc/variants/arm_fc.py). */
TCC_ARM_INLINE void fc_run(const tcc_arm_fc_s8_params *p, const int8_t *in, int8_t *out, void *scratch,
                           const int32_t w8, const int32_t direct)
{
    uint32_t *row = (uint32_t *)scratch;
    const int32_t groups = p->k_packed / 4;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t clamp = lo > -128 || hi < 127;
    for (int32_t b = 0; b < p->batches; ++b) {
        if (!direct) {
            expand_row(row, in + b * p->in_depth, p->in_depth);
        }
        const uint32_t *w = (const uint32_t *)p->weights;
        const int32_t *bias = p->bias;
        const tcc_arm_rq *rq = p->rq;
        int8_t *o = out + b * p->out_depth;
        for (int32_t r = 0; r < p->out_depth; r += 4) {
            int32_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
            if (w8) {
                if (direct) {
                    const uint32_t *xi = (const uint32_t *)(const void *)(in + b * p->in_depth);
                    TCC_UNROLL8(groups, FC_STEP_W8_I8, FC_ADVANCE_W8_I8, xi, 1);
                } else {
                    const uint32_t *x = row;
                    TCC_UNROLL8(groups, FC_STEP_W8, FC_ADVANCE_W8, x, 2);
                }
                const uint8_t *ls = p->lshift + r;
                a0 = (int32_t)((uint32_t)a0 << ls[0]);
                a1 = (int32_t)((uint32_t)a1 << ls[1]);
                a2 = (int32_t)((uint32_t)a2 << ls[2]);
                a3 = (int32_t)((uint32_t)a3 << ls[3]);
            } else if (direct) {
                const uint32_t *xi = (const uint32_t *)(const void *)(in + b * p->in_depth);
                TCC_UNROLL8(groups, FC_STEP_I8, FC_ADVANCE_I8, xi, 1);
            } else {
                const uint32_t *x = row;
                TCC_UNROLL8(groups, FC_STEP, FC_ADVANCE, x, 2);
            }
            const int32_t left = p->out_depth - r;
            a0 = fc_rq(a0, &rq[0]);
            if (clamp) a0 = fc_clamp(a0, lo, hi);
            o[0] = (int8_t)a0;
            if (left > 1) {
                a1 = fc_rq(a1, &rq[1]);
                if (clamp) a1 = fc_clamp(a1, lo, hi);
                o[1] = (int8_t)a1;
            }
            if (left > 2) {
                a2 = fc_rq(a2, &rq[2]);
                if (clamp) a2 = fc_clamp(a2, lo, hi);
                o[2] = (int8_t)a2;
            }
            if (left > 3) {
                a3 = fc_rq(a3, &rq[3]);
                if (clamp) a3 = fc_clamp(a3, lo, hi);
                o[3] = (int8_t)a3;
            }
            bias += 4;
            rq += 4;
            o += 4;
        }
    }
}

#ifndef TCC_OMIT_ARM_FC_S8_ROW
void tcc_arm_fc_s8_row(const tcc_arm_fc_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    fc_run(p, in, out, scratch, 0, 0);
}
#endif

#ifndef TCC_OMIT_ARM_FC_S8_DIRECT
void tcc_arm_fc_s8_direct(const tcc_arm_fc_s8_params *p, const int8_t *in, int8_t *out)
{
    fc_run(p, in, out, NULL, 0, 1);
}
#endif

#ifndef TCC_OMIT_ARM_FC_S8_W8_ROW
void tcc_arm_fc_s8_w8_row(const tcc_arm_fc_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    fc_run(p, in, out, scratch, 1, 0);
}
#endif

#ifndef TCC_OMIT_ARM_FC_S8_W8_DIRECT
void tcc_arm_fc_s8_w8_direct(const tcc_arm_fc_s8_params *p, const int8_t *in, int8_t *out)
{
    fc_run(p, in, out, NULL, 1, 1);
}
#endif
