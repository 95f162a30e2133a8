/* tinycc runtime, Cortex-M DSP kernels: the integer UNIDIRECTIONAL_SEQUENCE_LSTM (int8 and 16x8).
 *
 * The plain kernels' arithmetic (tcc_lstm.c, tcc_lstm_q.h), fused per cell: for cell j of a step,
 * the four gates' rows j are summed together in one pass over the input row and one over the
 * hidden row, from the 4 gates' biases (the first words of the cell's block in the weight
 * stream), the 8 sums requantized onto Q3.12, the gates, the cell update and the new hidden value
 * computed in registers and stored into the output row, which the next step reads as its hidden
 * row (the hidden state takes the last one: no copy per step).
 *
 * Gate products (SMLAD on int16 pairs): tcc_arm_lstm_s8 / _s16 read the int8 weights interleaved
 * at build time (w8: per group of 4 inputs the 4 gates' words, rows zero-padded to a
 * multiple of 4), each word widened by SXTB16 / SXTB16 ROR 8 into its (k0, k2), (k1, k3) pairs,
 * against the rows' pair words in that order, made once a step in the scratch (int8: SXTB16 of
 * one word; int16: PKHBT / PKHTB of two). tcc_arm_lstm_w_s8 / _s16 read weights widened at build
 * time (w16_in / w16_rec: the 4 gates' rows of a cell as one block of 4 rows in tcc_arm_s16.h's
 * layout, even sizes; the int8 rows widened to int16 once a step).
 *
 * Requantizations, all SMMLAR records {mult, add, shift, lshift} (tcc_arm_lstm_rq): the gate
 * products (rq_in, rq_rec; int8: packing.pack_requant's scheme, the sum with its bias shifted
 * left by lshift; 16x8: TFLite's int64 requantization (sum * m16 + 2^(t-1)) >> t as SMMLAR of the
 * sum shifted left by lshift with m16 << (32 - t - lshift), exact because tinycc checks at build
 * time that the sum with its bias stays in int32 after the shift), and the cell update's three
 * (rq_cell[0 .. 2]: forget x cell, input x cell gate, tanh(cell) x output plus the hidden zero
 * point; products of two int16, the pack_requant scheme with lshift 1 and a right shift > 0
 * (its output zero point the hidden one's in rq_cell[2]); rq_cell[3]: the cell state onto
 * tanh's input, {tanh_mult, its rounding constant, tanh_shift, 0}). Bit-exact with the plain
 * kernels.
 */
#include "tcc_arm_lstm.h"

#include "tcc_arm_dsp.h"
#include "tcc_arm_g8.h"
#include "tcc_arm_s16.h"
#include "tcc_lstm_q.h"

/* A condition seldom true (its code laid out of line). */
#if defined(__GNUC__)
#define TCC_ARM_LSTM_RARE(c) __builtin_expect(!!(c), 0)
#else
#define TCC_ARM_LSTM_RARE(c) (c)
#endif

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
    if (TCC_ARM_LSTM_RARE(p->cell_clip > 0)) {  /* out of line: a taken branch costs 2 more cycles */
        cj = tcc_clamp(cj, -p->cell_clip, p->cell_clip);
    }
    *c = (int16_t)cj;
    const int32_t *ts = p->rq_cell[3];          /* tcc_sigmoid16_scale, its rounding constant precomputed */
    const int32_t th = tcc_arm_lstm_tanh(t, (cj * ts[0] + ts[1]) >> ts[2]);
    const int32_t hv = tcc_arm_lstm_rq_pos(th * og, p->rq_cell[2]);   /* hidden_zp in the record */
    return act_bytes == 1 ? tcc_ssat8(hv) : tcc_arm_lstm_ssat16(hv);
}

/* name: one step of one batch row (xin: the input row, hin: the hidden row, both of type xtype;
 * c: the cell row; y: the output row, of type otype, where the new hidden row goes: the next step
 * reads it from there, the hidden state takes the last one: tcc_arm_lstm_keep). SETUP_DOTS once,
 * then per cell j DOTS fills a[g] (input) and r[g] (recurrent) for the 4 gates' rows j, biases
 * included. */
#define TCC_ARM_LSTM_STEP(name, xtype, otype, SETUP_DOTS, DOTS)                                     \
    static void name(const tcc_lstm_q_params *p, const xtype *xin, const xtype *hin, int16_t *c, otype *y) \
    {                                                                                               \
        const int32_t n = p->n_cell, ni = p->n_input;                                               \
        SETUP_DOTS;                                                                                 \
        (void)ni;                                                                                   \
        for (int32_t j = 0; j < n; ++j) {                                                           \
            int32_t a[4], r[4];                                                                     \
            DOTS;                                                                                   \
            const int32_t pi = TCC_ARM_LSTM_PRE(0), pf = TCC_ARM_LSTM_PRE(1);                       \
            const int32_t pc = TCC_ARM_LSTM_PRE(2), po = TCC_ARM_LSTM_PRE(3);                       \
            y[j] = (otype)tcc_arm_lstm_cell(p, pi, pf, pc, po, c + j, (int32_t)sizeof(otype));      \
        }                                                                                           \
    }
/* Gate g's pre-activation of cell j in TCC_ARM_LSTM_STEP. */
#define TCC_ARM_LSTM_PRE(g) tcc_arm_lstm_pre(a[g], r[g], p->rq_in[g], p->rq_rec[g])

/* name: every row and time step of step (TCC_ARM_LSTM_STEP): step t reads the hidden row from the
 * hidden state (t = 0) or from the output row of step t - 1, through the scratch when PREP makes
 * the rows' words there (PREP sets xs, hs from x, hr), and the hidden state takes the last output
 * row. stype: the rows' type in the step. */
#define TCC_ARM_LSTM_RUN(name, xtype, stype, PREP, step)                                            \
    static void name(const tcc_lstm_q_params *p, const xtype *in, xtype *hidden, int16_t *cell, xtype *out, \
                     int16_t *scratch)                                                              \
    {                                                                                               \
        const int32_t n = p->n_cell, ni = p->n_input;                                               \
        (void)scratch;                                                                              \
        for (int32_t b = 0; b < p->batches; ++b) {                                                  \
            xtype *h = hidden + b * n;                                                              \
            const xtype *hr = h;                                                                    \
            for (int32_t t = 0; t < p->time; ++t) {                                                 \
                const int32_t row = p->time_major ? t * p->batches + b : b * p->time + t;           \
                const xtype *x = in + row * ni;                                                     \
                const stype *xs, *hs;                                                               \
                PREP;                                                                               \
                step(p, xs, hs, cell + b * n, out + row * n);                                       \
                hr = out + row * n;                                                                 \
            }                                                                                       \
            for (int32_t j = 0; hr != h && j < n; ++j) {                                            \
                h[j] = hr[j];                                                                       \
            }                                                                                       \
        }                                                                                           \
    }
/* PREP of TCC_ARM_LSTM_RUN: the rows as they are; through rows (tcc_arm_lstm_pairs8 / 16: uint32_t
 * pair words; tcc_arm_lstm_widen: int16) at the scratch, the input row's then the hidden row's,
 * the input row's taking `words` of them. */
#define TCC_ARM_LSTM_AS_IS (xs = x, hs = hr)
#define TCC_ARM_LSTM_THROUGH(rows, stype, words)                                                    \
    (rows(x, (stype *)(void *)scratch, ni), rows(hr, (stype *)(void *)scratch + (words), n),        \
     xs = (stype *)(void *)scratch, hs = xs + (words))

/* arm_lstm_s8 / _s16: the int8 weights interleaved at build time in one stream (w8), per cell the
 * 4 gates' input biases (int32 words), then per group of 4 inputs the 4 gates' words of 4 int8,
 * then the recurrent biases and words likewise (rows zero-padded to a multiple of 4); the
 * activations as pair words (k0, k2), (k1, k3) per group,
 * made once a step in the scratch (tcc_arm_lstm_pairs8 / 16, zero-padded alike). Per group and
 * gate: SXTB16 and SXTB16 ROR 8 of the weight word, two SMLAD. */

/* res[0 .. 3] = the 4 gates' biases at wp plus their products with the pair words at src
 * (`groups` groups of 4); wp advances past the cell's block. */
#define TCC_ARM_LSTM_G8_DOT(src, groups, wp, res)                                                   \
    do {                                                                                            \
        const uint32_t *w = (wp), *xq = (src);                                                      \
        int32_t a0, a1, a2, a3;                                                                     \
        TCC_ARM_G8_GROUPS(xq, w, groups);                                                           \
        (wp) = w;                                                                                   \
        (res)[0] = a0, (res)[1] = a1, (res)[2] = a2, (res)[3] = a3;                                 \
    } while (0)
#define TCC_ARM_LSTM_G8_SETUP                                                                       \
    const uint32_t *w8 = (const uint32_t *)p->w8;                                                   \
    const int32_t gi = TCC_ARM_G8_NGROUPS(ni), gr = TCC_ARM_G8_NGROUPS(n)
#define TCC_ARM_LSTM_G8_DOTS TCC_ARM_LSTM_G8_DOT(xin, gi, w8, a); TCC_ARM_LSTM_G8_DOT(hin, gr, w8, r)

#ifndef TCC_OMIT_ARM_LSTM_S8  /* tinycc defines it when no op calls it */
TCC_ARM_G8_PAIRS(tcc_arm_lstm_pairs8, int8_t, TCC_ARM_G8_PAIRS8)

TCC_ARM_LSTM_STEP(tcc_arm_lstm_step_s8, uint32_t, int8_t, TCC_ARM_LSTM_G8_SETUP, TCC_ARM_LSTM_G8_DOTS)
TCC_ARM_LSTM_RUN(tcc_arm_lstm_run_s8, int8_t, uint32_t,
                 TCC_ARM_LSTM_THROUGH(tcc_arm_lstm_pairs8, uint32_t, 2 * TCC_ARM_G8_NGROUPS(ni)),
                 tcc_arm_lstm_step_s8)

void tcc_arm_lstm_s8(const tcc_lstm_q_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
                     int16_t *scratch)
{
    tcc_arm_lstm_run_s8(p, in, hidden, cell, out, scratch);
}
#endif

#ifndef TCC_OMIT_ARM_LSTM_S16  /* tinycc defines it when no op calls it */
TCC_ARM_G8_PAIRS(tcc_arm_lstm_pairs16, int16_t, TCC_ARM_G8_PAIRS16)

TCC_ARM_LSTM_STEP(tcc_arm_lstm_step_s16, uint32_t, int16_t, TCC_ARM_LSTM_G8_SETUP, TCC_ARM_LSTM_G8_DOTS)
TCC_ARM_LSTM_RUN(tcc_arm_lstm_run_s16, int16_t, uint32_t,
                 TCC_ARM_LSTM_THROUGH(tcc_arm_lstm_pairs16, uint32_t, 2 * TCC_ARM_G8_NGROUPS(ni)),
                 tcc_arm_lstm_step_s16)

void tcc_arm_lstm_s16(const tcc_lstm_q_params *p, const int16_t *in, int16_t *hidden, int16_t *cell, int16_t *out,
                      int16_t *scratch)
{
    tcc_arm_lstm_run_s16(p, in, hidden, cell, out, scratch);
}
#endif

/* The widened weights: per cell, the 4 gates' biases, then their rows as one block of 4 rows, wi
 * and wr advancing through w16_in and w16_rec. */
#define TCC_ARM_LSTM_W_SETUP                                                                        \
    const uint32_t *wi = (const uint32_t *)p->w16_in, *wr = (const uint32_t *)p->w16_rec

#if !defined(TCC_OMIT_ARM_LSTM_W_S8) || !defined(TCC_OMIT_ARM_LSTM_W_S16)
/* res[0 .. 3] = the 4 rows' biases at wp, plus the dot products of the int16 row src (len, even)
 * with the 4 rows of weights after them (tcc_arm_s16.h's dot products; wp advances past them). */
#define TCC_ARM_LSTM_W16_DOT(src, len, wp, res)                                                     \
    do {                                                                                            \
        const uint32_t *w = (wp);                                                                   \
        int32_t a0 = (int32_t)w[0], a1 = (int32_t)w[1], a2 = (int32_t)w[2], a3 = (int32_t)w[3];     \
        const int16_t *x = (src);                                                                   \
        w += 4;                                                                                     \
        TCC_ARM_S16_DOT4_8(x, w, (len) >> 4, ((len) >> 3) & 1, ((len) >> 1) & 3);                   \
        (wp) = w;                                                                                   \
        (res)[0] = a0, (res)[1] = a1, (res)[2] = a2, (res)[3] = a3;                                 \
    } while (0)
#define TCC_ARM_LSTM_W16_DOTS TCC_ARM_LSTM_W16_DOT(xin, ni, wi, a); TCC_ARM_LSTM_W16_DOT(hin, n, wr, r)
#endif

#ifndef TCC_OMIT_ARM_LSTM_W_S8  /* tinycc defines it when no op calls it */
/* The int8 rows widened to int16 once a step (scratch: the input row, then the hidden row), then
 * the 16x8 kernel's products. */
TCC_ARM_LSTM_STEP(tcc_arm_lstm_w_step_s8, int16_t, int8_t, TCC_ARM_LSTM_W_SETUP, TCC_ARM_LSTM_W16_DOTS)

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

TCC_ARM_LSTM_RUN(tcc_arm_lstm_run_w_s8, int8_t, int16_t, TCC_ARM_LSTM_THROUGH(tcc_arm_lstm_widen, int16_t, ni),
                 tcc_arm_lstm_w_step_s8)

void tcc_arm_lstm_w_s8(const tcc_lstm_q_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
                       int16_t *scratch)
{
    tcc_arm_lstm_run_w_s8(p, in, hidden, cell, out, scratch);
}
#endif

#ifndef TCC_OMIT_ARM_LSTM_W_S16  /* tinycc defines it when no op calls it */
TCC_ARM_LSTM_STEP(tcc_arm_lstm_w_step_s16, int16_t, int16_t, TCC_ARM_LSTM_W_SETUP, TCC_ARM_LSTM_W16_DOTS)
TCC_ARM_LSTM_RUN(tcc_arm_lstm_run_w_s16, int16_t, int16_t, TCC_ARM_LSTM_AS_IS, tcc_arm_lstm_w_step_s16)

void tcc_arm_lstm_w_s16(const tcc_lstm_q_params *p, const int16_t *in, int16_t *hidden, int16_t *cell, int16_t *out,
                        int16_t *scratch)
{
    tcc_arm_lstm_run_w_s16(p, in, hidden, cell, out, scratch);
}
#endif
