/* tinycc runtime, Cortex-M DSP kernels: the integer UNIDIRECTIONAL_SEQUENCE_LSTM (int8 and 16x8).
 *
 * The plain kernels' arithmetic (tcc_lstm.c, tcc_lstm_q.h), fused per cell: for cell j of a step,
 * the four gates' rows j are summed together in one pass over the input row and one over the
 * hidden row (the activations widened once for the 4 rows), the 8 sums requantized onto Q3.12,
 * the gates, the cell update and the new hidden value computed in registers; the new hidden row
 * goes to the scratch and, after the step, to the hidden state and the output row.
 *
 * Gate products (SMLAD on int16 pairs): each group of 4 activations becomes two pair words in the
 * (k0, k2), (k1, k3) order (int8: SXTB16 / SXTB16 ROR 8 of one word; int16: PKHBT / PKHTB of two
 * words); tcc_arm_lstm_s8 / _s16 widen each weight word of 4 int8 the same way (the weights as
 * they are, n % 4 last elements one by one); tcc_arm_lstm_w_s8 / _s16 read weights widened at
 * build time (w16_in / w16_rec: the 4 gates' rows of a cell as one block of 4 rows; int8:
 * tinycc's pack_groups4 layout, sizes divisible by 4; 16x8: tcc_arm_s16.h's pack_rows layout, even
 * sizes).
 *
 * Requantizations, all SMMLAR records {mult, add, shift, lshift} (tcc_arm_lstm_rq): the gate
 * products (rq_in, rq_rec; int8: packing.pack_requant's scheme, the sum with its bias shifted
 * left by lshift; 16x8: TFLite's int64 requantization (sum * m16 + 2^(t-1)) >> t as SMMLAR of the
 * sum shifted left by lshift with m16 << (32 - t - lshift), exact because tinycc checks at build
 * time that the sum with its bias stays in int32 after the shift), and the cell update's three
 * (rq_cell[0 .. 2]: forget x cell, input x cell gate, tanh(cell) x output; products of two int16,
 * the pack_requant scheme with lshift 1 and a right shift > 0; rq_cell[3]: the cell state onto
 * tanh's input, {tanh_mult, its rounding constant, tanh_shift, 0}). Bit-exact with the plain
 * kernels.
 */
#include "tcc_arm_lstm.h"

#include "tcc_arm_dsp.h"
#include "tcc_arm_s16.h"
#include "tcc_lstm_q.h"

/* Saturate to int16: SSAT #16. */
#if TCC_ARM_HAVE_DSP
TCC_ARM_INLINE int32_t tcc_arm_lstm_ssat16(int32_t x)
{
    int32_t r;
    __asm__("ssat %0, #16, %1" : "=r"(r) : "r"(x));
    return r;
}
#else
TCC_ARM_INLINE int32_t tcc_arm_lstm_ssat16(int32_t x) { return tcc_clamp(x, INT16_MIN, INT16_MAX); }
#endif

/* The requantization of acc by the record rq = {mult, add, s, lshift} (tcc_arm_rq_pos / _zero
 * with an output zero point of 0, without the saturation: the caller saturates). */
TCC_ARM_INLINE int32_t tcc_arm_lstm_rq(int32_t acc, const int32_t rq[4])
{
    const int32_t a = (int32_t)((uint32_t)acc << rq[3]);
    const int32_t r = tcc_smmlar(a, rq[0], rq[1]);
    return rq[2] > 0 ? (r + (a >> 31)) >> rq[2] : r;
}

/* tcc_arm_lstm_rq for a record whose shift is > 0 (the cell update's: tinycc checks). */
TCC_ARM_INLINE int32_t tcc_arm_lstm_rq_pos(int32_t acc, const int32_t rq[4])
{
    const int32_t a = (int32_t)((uint32_t)acc << rq[3]);
    return (tcc_smmlar(a, rq[0], rq[1]) + (a >> 31)) >> rq[2];
}

/* A gate's pre-activation (Q3.12): its input and recurrent sums (biases included) requantized,
 * each saturated to int16, added with saturation (tcc_lstm_preact). */
TCC_ARM_INLINE int32_t tcc_arm_lstm_pre(int32_t a, int32_t r, const int32_t rq_a[4], const int32_t rq_r[4])
{
    return tcc_arm_lstm_ssat16(tcc_arm_lstm_ssat16(tcc_arm_lstm_rq(a, rq_a)) +
                               tcc_arm_lstm_ssat16(tcc_arm_lstm_rq(r, rq_r)));
}

/* tcc_sigmoid16 and tcc_tanh16 (tcc_sigmoid_s16.h) in fewer instructions, equal for every
 * d (checked exhaustively for |d| < 2^20; beyond 255 knots both saturate alike): knots k and k + 1
 * in one (unaligned) word, and the sign handled after the rounding shift, as
 * sigmoid(-d) = 32768 - sigmoid(d) and tanh(-d) = -tanh(d) hold for those rounded results. */
TCC_ARM_INLINE int32_t tcc_arm_lstm_sigmoid(const uint16_t *table, int32_t d)
{
    const uint32_t a = (uint32_t)(d < 0 ? -d : d);
    const uint32_t k = a >> 9;
    int32_t s = 32767;
    if (k < 255) {
        const uint32_t w = tcc_ld32(table + k), lo = w & 0xffffu, hi = w >> 16;
        s = (int32_t)(((lo << 9) + (a & 0x1ffu) * (hi - lo) + 512u) >> 10);
    }
    return d < 0 ? 32768 - s : s;
}

TCC_ARM_INLINE int32_t tcc_arm_lstm_tanh(const uint16_t *table, int32_t d)
{
    const uint32_t a = (uint32_t)(d < 0 ? -d : d);
    const uint32_t k = a >> 8;
    int32_t t = 32767;
    if (k < 255) {
        const uint32_t w = tcc_ld32(table + k), lo = w & 0xffffu, hi = w >> 16;
        t = ((int32_t)((lo << 8) + (a & 0xffu) * (hi - lo)) + 128 - (1 << 23)) >> 8;
    }
    return d < 0 ? -t : t;
}

/* One cell of tcc_lstm_q_update: the gates from the pre-activations (input, forget, cell,
 * output), the cell state *c updated, and the new hidden value returned, saturated to int8
 * (act_bytes 1) or int16 (2): tinycc's hidden range is always the whole type's. */
TCC_ARM_INLINE int32_t tcc_arm_lstm_cell(const tcc_lstm_q_params *p, int32_t pi, int32_t pf, int32_t pc,
                                         int32_t po, int16_t *c, int32_t act_bytes)
{
    const uint16_t *t = p->table;
    const int32_t ig = tcc_arm_lstm_sigmoid(t, pi * 3), fg = tcc_arm_lstm_sigmoid(t, pf * 3);
    const int32_t cg = tcc_arm_lstm_tanh(t, pc * 3), og = tcc_arm_lstm_sigmoid(t, po * 3);
    int32_t cj = tcc_arm_lstm_ssat16(tcc_arm_lstm_ssat16(tcc_arm_lstm_rq_pos(fg * *c, p->rq_cell[0])) +
                                     tcc_arm_lstm_ssat16(tcc_arm_lstm_rq_pos(ig * cg, p->rq_cell[1])));
    if (p->cell_clip > 0) {
        cj = tcc_clamp(cj, -p->cell_clip, p->cell_clip);
    }
    *c = (int16_t)cj;
    const int32_t *ts = p->rq_cell[3];          /* tcc_sigmoid16_scale, its rounding constant precomputed */
    const int32_t th = tcc_arm_lstm_tanh(t, (cj * ts[0] + ts[1]) >> ts[2]);
    const int32_t hv = p->hidden_zp + tcc_arm_lstm_rq_pos(th * og, p->rq_cell[2]);
    return act_bytes == 1 ? tcc_ssat8(hv) : tcc_arm_lstm_ssat16(hv);
}

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

/* name: acc[g] = w[g][0 .. len) . x[0 .. len) for the 4 gates' rows w[g] (int8 as they are),
 * activations of type xtype (pairs: tcc_arm_lstm_pairs_<sfx>). */
#define TCC_ARM_LSTM_DOT4(name, xtype, sfx)                                                         \
    TCC_ARM_INLINE void name(const int8_t *w0, const int8_t *w1, const int8_t *w2, const int8_t *w3,  \
                             const xtype *x, int32_t len, int32_t acc[4])                              \
    {                                                                                               \
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, k = 0;                                              \
        for (; k + 4 <= len; k += 4) {                                                              \
            uint32_t xa, xb;                                                                        \
            tcc_arm_lstm_pairs_##sfx(x + k, &xa, &xb);                                              \
            const uint32_t v0 = tcc_ld32(w0 + k), v1 = tcc_ld32(w1 + k);                            \
            const uint32_t v2 = tcc_ld32(w2 + k), v3 = tcc_ld32(w3 + k);                            \
            a0 = tcc_smlad(tcc_sxtb16(v0), xa, a0);                                                 \
            a0 = tcc_smlad(tcc_sxtb16_ror8(v0), xb, a0);                                            \
            a1 = tcc_smlad(tcc_sxtb16(v1), xa, a1);                                                 \
            a1 = tcc_smlad(tcc_sxtb16_ror8(v1), xb, a1);                                            \
            a2 = tcc_smlad(tcc_sxtb16(v2), xa, a2);                                                 \
            a2 = tcc_smlad(tcc_sxtb16_ror8(v2), xb, a2);                                            \
            a3 = tcc_smlad(tcc_sxtb16(v3), xa, a3);                                                 \
            a3 = tcc_smlad(tcc_sxtb16_ror8(v3), xb, a3);                                            \
        }                                                                                           \
        for (; k < len; ++k) {                                                                      \
            a0 += (int32_t)w0[k] * x[k];                                                            \
            a1 += (int32_t)w1[k] * x[k];                                                            \
            a2 += (int32_t)w2[k] * x[k];                                                            \
            a3 += (int32_t)w3[k] * x[k];                                                            \
        }                                                                                           \
        acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;                                         \
    }

/* name: one step of one batch row (xin: the input row, hin: the hidden row, both of type xtype;
 * c: the cell row; hn: the new hidden row, of type otype). Per cell j: SETUP_DOTS once, then DOTS fills a[g]
 * (input) and r[g] (recurrent) for the 4 gates' rows j; BIAS_IN / BIAS_REC (g, j): the sums' biases. */
#define TCC_ARM_LSTM_STEP(name, xtype, otype, SETUP_DOTS, DOTS, BIAS_IN, BIAS_REC)                  \
    static void name(const tcc_lstm_q_params *p, const xtype *xin, const xtype *hin, int16_t *c, otype *hn) \
    {                                                                                               \
        const int32_t n = p->n_cell, ni = p->n_input;                                               \
        SETUP_DOTS;                                                                                 \
        (void)ni;                                                                                   \
        for (int32_t j = 0; j < n; ++j) {                                                           \
            int32_t a[4], r[4];                                                                     \
            DOTS;                                                                                   \
            const int32_t pi = TCC_ARM_LSTM_PRE(0, BIAS_IN, BIAS_REC), pf = TCC_ARM_LSTM_PRE(1, BIAS_IN, BIAS_REC); \
            const int32_t pc = TCC_ARM_LSTM_PRE(2, BIAS_IN, BIAS_REC), po = TCC_ARM_LSTM_PRE(3, BIAS_IN, BIAS_REC); \
            hn[j] = (otype)tcc_arm_lstm_cell(p, pi, pf, pc, po, c + j, (int32_t)sizeof(otype));     \
        }                                                                                           \
    }
/* Gate g's pre-activation of cell j in TCC_ARM_LSTM_STEP. */
#define TCC_ARM_LSTM_PRE(g, BIAS_IN, BIAS_REC)                                                      \
    tcc_arm_lstm_pre(a[g] + BIAS_IN(g, j), r[g] + BIAS_REC(g, j), p->rq_in[g], p->rq_rec[g])

/* name: every row and time step of step (TCC_ARM_LSTM_STEP), the new hidden row through the
 * scratch into the hidden state and the output row. */
#define TCC_ARM_LSTM_RUN(name, xtype, step)                                                         \
    void name(const tcc_lstm_q_params *p, const xtype *in, xtype *hidden, int16_t *cell, xtype *out,   \
              int16_t *scratch)                                                                     \
    {                                                                                               \
        const int32_t n = p->n_cell;                                                                \
        xtype *hn = (xtype *)(void *)scratch;                                                       \
        for (int32_t b = 0; b < p->batches; ++b) {                                                  \
            xtype *h = hidden + b * n;                                                              \
            for (int32_t t = 0; t < p->time; ++t) {                                                 \
                const int32_t row = p->time_major ? t * p->batches + b : b * p->time + t;           \
                step(p, in + row * p->n_input, h, cell + b * n, hn);                                \
                xtype *y = out + row * n;                                                           \
                for (int32_t j = 0; j < n; ++j) {                                                   \
                    h[j] = y[j] = hn[j];                                                            \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }

/* The sums' biases of gate g, cell j: int8 (zero points folded in), 16x8 (the int64 bias, which
 * tinycc checks to fit int32 with the sums). */
#define TCC_ARM_LSTM_BIAS_IN(g, j) p->bias_in[g][j]
#define TCC_ARM_LSTM_BIAS_REC(g, j) p->bias_rec[g][j]
#define TCC_ARM_LSTM_BIAS64(g, j) (int32_t)p->bias64[g][j]
#define TCC_ARM_LSTM_NO_BIAS(g, j) 0

/* The int8 weights as they are: the 4 gates' rows j. */
#define TCC_ARM_LSTM_DOTS_PLAIN(dot)                                                                \
    do {                                                                                            \
        dot(p->w_in[0] + j * ni, p->w_in[1] + j * ni, p->w_in[2] + j * ni, p->w_in[3] + j * ni, xin, ni, a); \
        dot(p->w_rec[0] + j * n, p->w_rec[1] + j * n, p->w_rec[2] + j * n, p->w_rec[3] + j * n, hin, n, r);  \
    } while (0)

#ifndef TCC_OMIT_ARM_LSTM_S8  /* tinycc defines it when no op calls it */
TCC_ARM_LSTM_DOT4(tcc_arm_lstm_dot4_s8, int8_t, s8)
TCC_ARM_LSTM_STEP(tcc_arm_lstm_step_s8, int8_t, int8_t, (void)0, TCC_ARM_LSTM_DOTS_PLAIN(tcc_arm_lstm_dot4_s8),
                  TCC_ARM_LSTM_BIAS_IN, TCC_ARM_LSTM_BIAS_REC)
TCC_ARM_LSTM_RUN(tcc_arm_lstm_s8, int8_t, tcc_arm_lstm_step_s8)
#endif

#ifndef TCC_OMIT_ARM_LSTM_S16  /* tinycc defines it when no op calls it */
TCC_ARM_LSTM_DOT4(tcc_arm_lstm_dot4_s16, int16_t, s16)
TCC_ARM_LSTM_STEP(tcc_arm_lstm_step_s16, int16_t, int16_t, (void)0, TCC_ARM_LSTM_DOTS_PLAIN(tcc_arm_lstm_dot4_s16),
                  TCC_ARM_LSTM_BIAS64, TCC_ARM_LSTM_NO_BIAS)
TCC_ARM_LSTM_RUN(tcc_arm_lstm_s16, int16_t, tcc_arm_lstm_step_s16)
#endif

/* The widened weights: per cell, the 4 gates' biases, then their rows as one block of 4 rows, wi
 * and wr advancing through w16_in and w16_rec. */
#define TCC_ARM_LSTM_W_SETUP                                                                        \
    const uint32_t *wi = (const uint32_t *)p->w16_in, *wr = (const uint32_t *)p->w16_rec

#if !defined(TCC_OMIT_ARM_LSTM_W_S8) || !defined(TCC_OMIT_ARM_LSTM_W_S16)
/* res[0 .. 3] = the 4 rows' biases at wp, plus the dot products of the int16 row src (len, even)
 * with the 4 rows of weights after them (tcc_arm_s16.h's dot products; wp advances past them). */
#define TCC_ARM_LSTM_W16_DOT(src, len, wp, res)                                                    \
    do {                                                                                           \
        const uint32_t *w = (wp);                                                                  \
        int32_t a0 = (int32_t)w[0], a1 = (int32_t)w[1], a2 = (int32_t)w[2], a3 = (int32_t)w[3];    \
        const int16_t *x = (src);                                                                  \
        w += 4;                                                                                    \
        TCC_ARM_S16_DOT4_8(x, w, (len) >> 4, ((len) >> 3) & 1, ((len) >> 1) & 3);                \
        (wp) = w;                                                                                  \
        (res)[0] = a0, (res)[1] = a1, (res)[2] = a2, (res)[3] = a3;                                \
    } while (0)
#define TCC_ARM_LSTM_W16_DOTS TCC_ARM_LSTM_W16_DOT(xin, ni, wi, a); TCC_ARM_LSTM_W16_DOT(hin, n, wr, r)
#endif

#ifndef TCC_OMIT_ARM_LSTM_W_S8  /* tinycc defines it when no op calls it */
/* The int8 rows widened to int16 once a step (scratch: the new hidden row, n_cell int16 slots,
 * then the input row, then the hidden row), then the 16x8 kernel's products. */
TCC_ARM_LSTM_STEP(tcc_arm_lstm_w_step_s8, int16_t, int8_t, TCC_ARM_LSTM_W_SETUP, TCC_ARM_LSTM_W16_DOTS,
                  TCC_ARM_LSTM_NO_BIAS, TCC_ARM_LSTM_NO_BIAS)

/* dst[0 .. len) = src[0 .. len) as int16 (len even), 4 at a time: SXTB16 and PKHBT / PKHTB. */
static void tcc_arm_lstm_widen(const int8_t *src, int16_t *dst, int32_t len)
{
    int32_t k = 0;
    for (; k + 4 <= len; k += 4) {
        const uint32_t v = tcc_ld32(src + k), e = tcc_sxtb16(v), o = tcc_sxtb16_ror8(v);
        tcc_st32(dst + k, tcc_pkhbt(e, o));
        tcc_st32(dst + k + 2, tcc_pkhtb(o, e));
    }
    for (; k < len; ++k) {
        dst[k] = src[k];
    }
}

void tcc_arm_lstm_w_s8(const tcc_lstm_q_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
                       int16_t *scratch)
{
    const int32_t n = p->n_cell, ni = p->n_input;
    int8_t *hn = (int8_t *)(void *)scratch;
    int16_t *xw = scratch + n, *hw = xw + ni;
    for (int32_t b = 0; b < p->batches; ++b) {
        int8_t *h = hidden + b * n;
        for (int32_t t = 0; t < p->time; ++t) {
            const int32_t row = p->time_major ? t * p->batches + b : b * p->time + t;
            const int8_t *x = in + row * ni;
            tcc_arm_lstm_widen(x, xw, ni);
            tcc_arm_lstm_widen(h, hw, n);
            tcc_arm_lstm_w_step_s8(p, xw, hw, cell + b * n, hn);
            int8_t *y = out + row * n;
            for (int32_t j = 0; j < n; ++j) {
                h[j] = y[j] = hn[j];
            }
        }
    }
}
#endif

#ifndef TCC_OMIT_ARM_LSTM_W_S16  /* tinycc defines it when no op calls it */
TCC_ARM_LSTM_STEP(tcc_arm_lstm_w_step_s16, int16_t, int16_t, TCC_ARM_LSTM_W_SETUP, TCC_ARM_LSTM_W16_DOTS,
                  TCC_ARM_LSTM_NO_BIAS, TCC_ARM_LSTM_NO_BIAS)
TCC_ARM_LSTM_RUN(tcc_arm_lstm_w_s16, int16_t, tcc_arm_lstm_w_step_s16)
#endif
