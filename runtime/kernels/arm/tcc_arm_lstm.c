/* tinycc runtime, Cortex-M DSP kernels: the integer UNIDIRECTIONAL_SEQUENCE_LSTM (int8 and 16x8).
 *
 * The plain kernels' step (tcc_lstm_q.h) with faster gate products, two weight rows at a time:
 * each group of 4 activations becomes two int16 pair words in the (k0, k2), (k1, k3) order (int8:
 * SXTB16 / SXTB16 ROR 8 of one word; int16: PKHBT / PKHTB of two words), each weight word of 4
 * int8 two pair words (SXTB16, SXTB16 ROR 8), and two SMLAD add the 4 products; the n % 4 last
 * elements are summed one by one. No scratch beyond the plain kernel's. Bit-exact with the plain
 * kernels: the int8 sums are TFLite's int32 sums, requantized as the other DSP kernels do (the sum
 * with its bias shifted left by lshift = left shift + 1, then SMMLAR with the rounding constant:
 * tcc_arm_lstm_rq; tinycc/packing.py's pack_requant checks that nothing overflows); the 16x8 sums
 * stay below 2^31 (tinycc checks 32768 * sum |w| of every row at build time) and take the int64
 * bias after.
 */
#include "tcc_arm_lstm.h"

#include "tcc_arm_dsp.h"
#include "tcc_arm_s16.h"
#include "tcc_lstm_q.h"

/* The activation words of a group of 4, (x0, x2) and (x1, x3): int8 from one word, int16 from two. */
TCC_ARM_INLINE void tcc_arm_lstm_pairs_s8(const int8_t *x, uint32_t *xa, uint32_t *xb)
{
    const uint32_t v = tcc_ld32(x);
    *xa = tcc_sxtb16(v);
    *xb = tcc_sxtb16_ror8(v);
}

TCC_ARM_INLINE void tcc_arm_lstm_pairs_s16(const int16_t *x, uint32_t *xa, uint32_t *xb)
{
    const uint32_t x01 = tcc_ld32(x), x23 = tcc_ld32(x + 2);
    *xa = tcc_pkhbt(x01, x23);
    *xb = tcc_pkhtb(x23, x01);
}

/* For activations of type xtype (pairs: tcc_arm_lstm_pairs_<sfx>): name_dot2, two rows' products
 * with an activation row (acc[0] = w0 . x, acc[1] = w1 . x), and name, the gates function
 * (tcc_lstm_gates_fn) whose row pre-activation is PREACT, from the input products a[i] and the
 * recurrent products r[i] of gate g, rows j and j1 (j1 == j for the last row of an odd n_cell). */
#define TCC_ARM_LSTM_GATES(name, xtype, sfx, PREACT)                                                    \
    TCC_ARM_INLINE void name##_dot2(const int8_t *w0, const int8_t *w1, const xtype *x, int32_t len,       \
                                    int32_t acc[2])                                                       \
    {                                                                                                     \
        int32_t a0 = 0, a1 = 0, k = 0;                                                                    \
        for (; k + 4 <= len; k += 4) {                                                                    \
            uint32_t xa, xb;                                                                              \
            tcc_arm_lstm_pairs_##sfx(x + k, &xa, &xb);                                                    \
            const uint32_t v0 = tcc_ld32(w0 + k), v1 = tcc_ld32(w1 + k);                                  \
            a0 = tcc_smlad(tcc_sxtb16(v0), xa, a0);                                                       \
            a0 = tcc_smlad(tcc_sxtb16_ror8(v0), xb, a0);                                                  \
            a1 = tcc_smlad(tcc_sxtb16(v1), xa, a1);                                                       \
            a1 = tcc_smlad(tcc_sxtb16_ror8(v1), xb, a1);                                                  \
        }                                                                                                 \
        for (; k < len; ++k) {                                                                            \
            a0 += (int32_t)w0[k] * x[k];                                                                  \
            a1 += (int32_t)w1[k] * x[k];                                                                  \
        }                                                                                                 \
        acc[0] = a0;                                                                                      \
        acc[1] = a1;                                                                                      \
    }                                                                                                     \
                                                                                                          \
    static void name(const tcc_lstm_q_params *p, const void *vx, const void *vh, int16_t *pre, void *work) \
    {                                                                                                     \
        const xtype *x = (const xtype *)vx, *h = (const xtype *)vh;                                       \
        const int32_t n = p->n_cell, ni = p->n_input;                                                     \
        (void)work;                                                                                       \
        for (int32_t g = 0; g < 4; ++g) {                                                                 \
            for (int32_t j = 0; j < n; j += 2) {                                                          \
                const int32_t j1 = j + 1 < n ? j + 1 : j;                                                 \
                int32_t a[2], r[2];                                                                       \
                name##_dot2(p->w_in[g] + j * ni, p->w_in[g] + j1 * ni, x, ni, a);                         \
                name##_dot2(p->w_rec[g] + j * n, p->w_rec[g] + j1 * n, h, n, r);                          \
                for (int32_t i = 0; i < 2; ++i) {                                                         \
                    const int32_t row = i ? j1 : j;                                                       \
                    pre[g * n + row] = (PREACT);                                                          \
                }                                                                                         \
            }                                                                                             \
        }                                                                                                 \
    }

/* tcc_requantize(acc, mult, shift) from rq = {mult, add, s, lshift} (tcc_arm_rq_pos / _zero with
 * an output zero point of 0, without the saturation: the caller saturates to int16). */
TCC_ARM_INLINE int32_t tcc_arm_lstm_rq(int32_t acc, const int32_t rq[4])
{
    const int32_t a = (int32_t)((uint32_t)acc << rq[3]);
    const int32_t r = tcc_smmlar(a, rq[0], rq[1]);
    return rq[2] > 0 ? (r + (a >> 31)) >> rq[2] : r;
}

#ifndef TCC_OMIT_ARM_LSTM_S8  /* tinycc defines it when no op calls it */
TCC_ARM_LSTM_GATES(tcc_arm_lstm_gates_s8, int8_t, s8,
                   tcc_lstm_preact(tcc_arm_lstm_rq(a[i] + p->bias_in[g][row], p->rq_in[g]),
                                   tcc_arm_lstm_rq(r[i] + p->bias_rec[g][row], p->rq_rec[g])))

void tcc_arm_lstm_s8(const tcc_lstm_q_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
                     int16_t *scratch)
{
    tcc_lstm_q_run(p, in, hidden, cell, out, scratch, 1, tcc_arm_lstm_gates_s8, 0);
}
#endif

#ifndef TCC_OMIT_ARM_LSTM_S16  /* tinycc defines it when no op calls it */
TCC_ARM_LSTM_GATES(tcc_arm_lstm_gates_s16, int16_t, s16,
                   tcc_lstm_preact(tcc_requantize64((int64_t)a[i] + p->bias64[g][row], p->mult_in[g], p->shift_in[g]),
                                   tcc_requantize64(r[i], p->mult_rec[g], p->shift_rec[g])))

void tcc_arm_lstm_s16(const tcc_lstm_q_params *p, const int16_t *in, int16_t *hidden, int16_t *cell,
                      int16_t *out, int16_t *scratch)
{
    tcc_lstm_q_run(p, in, hidden, cell, out, scratch, 2, tcc_arm_lstm_gates_s16, 0);
}
#endif

/* tcc_arm_lstm_w_s8 / _s16: the gate products on weights widened to int16 pairs (w16_in, w16_rec;
 * even n_input and n_cell), 4 rows at a time with tcc_arm_s16.h's dot products (five loads in a
 * row, then four SMLAD); the int8 kernel's own gates are below. name: the gates function
 * (tcc_lstm_gates_fn) with the row pre-activation PREACT from the input sum a[i] and the
 * recurrent sum r[i] of row `row` of gate g. */
/* res[0 .. 3] = the dot products of the int16 row src (len, even) with 4 rows of the weights at
 * wp (advanced past them). */
#define TCC_ARM_LSTM_W16_DOT(src, len, wp, res)                                                    \
    do {                                                                                           \
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;                                                    \
        const int16_t *x = (src);                                                                  \
        const uint32_t *w = (wp);                                                                  \
        TCC_ARM_S16_DOT4_8(x, w, (len) >> 4, ((len) >> 3) & 1, ((len) >> 1) & 3);                 \
        (wp) = w;                                                                                  \
        (res)[0] = a0, (res)[1] = a1, (res)[2] = a2, (res)[3] = a3;                                \
    } while (0)

#define TCC_ARM_LSTM_W_GATES(name, PREACT)                                                          \
    static void name##_rows(const tcc_lstm_q_params *p, const int16_t *xin, const int16_t *hin, int16_t *pre) \
    {                                                                                               \
        const int32_t n = p->n_cell, ni = p->n_input;                                               \
        for (int32_t g = 0; g < 4; ++g) {                                                           \
            const uint32_t *wi = (const uint32_t *)p->w16_in[g], *wr = (const uint32_t *)p->w16_rec[g]; \
            for (int32_t j = 0; j < n; j += TCC_ARM_S16_ROWS) {                                     \
                int32_t a[4], r[4];                                                                 \
                TCC_ARM_LSTM_W16_DOT(xin, ni, wi, a);                                               \
                TCC_ARM_LSTM_W16_DOT(hin, n, wr, r);                                                \
                const int32_t rows = TCC_ARM_MIN(TCC_ARM_S16_ROWS, n - j);                          \
                for (int32_t i = 0; i < rows; ++i) {                                                \
                    const int32_t row = j + i;                                                      \
                    pre[g * n + row] = (PREACT);                                                    \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }

#ifndef TCC_OMIT_ARM_LSTM_W_S8  /* tinycc defines it when no op calls it */
/* a0 .. a3 += 4 rows' products with the int8 row x of `groups` groups of 4 (x advances): the
 * rows' widened weights per group in tcc_arm_svdf.h's order (4 (k0, k2) words, then 4 (k1, k3)),
 * the activations' pairs from SXTB16 / SXTB16 ROR 8 of one word (n_input, n_cell % 4 == 0); res:
 * the 4 sums, wp: the weights, advanced past the block. */
#define TCC_ARM_LSTM_W8_DOT(src, groups, wp, res)                                                 \
    do {                                                                                           \
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;                                                    \
        const int8_t *x = (const int8_t *)(src);                                                   \
        const uint32_t *w = (wp);                                                                  \
        for (int32_t k_ = (groups); k_ > 0; --k_, x += 4, w += 8) {                                \
            const uint32_t xv_ = tcc_ld32(x), xa_ = tcc_sxtb16(xv_), xb_ = tcc_sxtb16_ror8(xv_);   \
            TCC_ARM_S16_STEP4(xa_, 0);                                                             \
            TCC_ARM_S16_STEP4(xb_, 16);                                                            \
        }                                                                                          \
        (wp) = w;                                                                                  \
        (res)[0] = a0, (res)[1] = a1, (res)[2] = a2, (res)[3] = a3;                                \
    } while (0)

static void tcc_arm_lstm_w_gates_s8(const tcc_lstm_q_params *p, const void *vx, const void *vh, int16_t *pre,
                                    void *work)
{
    const int32_t n = p->n_cell;
    (void)work;
    for (int32_t g = 0; g < 4; ++g) {
        const uint32_t *wi = (const uint32_t *)p->w16_in[g], *wr = (const uint32_t *)p->w16_rec[g];
        for (int32_t j = 0; j < n; j += 4) {
            int32_t a[4], r[4];
            TCC_ARM_LSTM_W8_DOT(vx, p->n_input / 4, wi, a);
            TCC_ARM_LSTM_W8_DOT(vh, n / 4, wr, r);
            for (int32_t i = 0; i < 4; ++i) {
                const int32_t row = j + i;
                pre[g * n + row] = tcc_lstm_preact(tcc_arm_lstm_rq(a[i] + p->bias_in[g][row], p->rq_in[g]),
                                                   tcc_arm_lstm_rq(r[i] + p->bias_rec[g][row], p->rq_rec[g]));
            }
        }
    }
}

void tcc_arm_lstm_w_s8(const tcc_lstm_q_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
                       int16_t *scratch)
{
    tcc_lstm_q_run(p, in, hidden, cell, out, scratch, 1, tcc_arm_lstm_w_gates_s8, 0);
}
#endif

#ifndef TCC_OMIT_ARM_LSTM_W_S16  /* tinycc defines it when no op calls it */
TCC_ARM_LSTM_W_GATES(tcc_arm_lstm_w_gates_s16,
                     tcc_lstm_preact(tcc_requantize64((int64_t)a[i] + p->bias64[g][row], p->mult_in[g], p->shift_in[g]),
                                     tcc_requantize64(r[i], p->mult_rec[g], p->shift_rec[g])))

static void tcc_arm_lstm_w_gates_s16(const tcc_lstm_q_params *p, const void *vx, const void *vh, int16_t *pre,
                                     void *work)
{
    (void)work;
    tcc_arm_lstm_w_gates_s16_rows(p, (const int16_t *)vx, (const int16_t *)vh, pre);
}

void tcc_arm_lstm_w_s16(const tcc_lstm_q_params *p, const int16_t *in, int16_t *hidden, int16_t *cell,
                        int16_t *out, int16_t *scratch)
{
    tcc_lstm_q_run(p, in, hidden, cell, out, scratch, 2, tcc_arm_lstm_w_gates_s16, 0);
}
#endif
