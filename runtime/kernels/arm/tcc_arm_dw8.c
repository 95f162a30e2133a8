/* tinycc runtime, Cortex-M DSP: DEPTHWISE_CONV_2D int8 with int8 weights (see tcc_arm_dw8.h).
 *
 * Per channel: the taps' six pair words are built (about 40 cycles), then every output line is
 * computed in blocks of 4 (per window line an LDRD of its pair words, 3 (stride 2: 5) input
 * words and 8 multiplies, then 4 requantizations of 4 instructions and 4 byte stores), each input
 * line of the channel widened into the scratch (an LDRSB and a STRH per value) just before the
 * first output line that needs it.
 */
#include <string.h>

#include "tcc_arm_dw8.h"
#include "tcc_arm_dsp.h"

#if defined(__ARM_FEATURE_DSP) && !defined(__GNUC__)
#error "tcc_arm_dw8.c: the DSP path uses GNU inline asm helpers; build it with GCC or clang"
#endif

#if TCC_ARM_HAVE_DSP
#define DW8_SMLABT_ACC(acc, a, b) __asm__ volatile("smlabt %0, %1, %2, %0" : "+r"(acc) : "r"(a), "r"(b))
#else
#define DW8_SMLABT_ACC(acc, a, b) ((acc) = tcc_smlabt((a), (b), (acc)))
#endif

/* One window line (r: its words from the block's first input pair; A, B its pair words) into the
 * 4 accumulators. */
#define DW8_LINE_S1(r, A, B)                                                                \
    do {                                                                                    \
        const uint32_t x0_ = (r)[0], x1_ = (r)[1], x2_ = (r)[2];                            \
        TCC_SMLAD_ACC(a0, x0_, A);                                                          \
        DW8_SMLABT_ACC(a0, x1_, B);                                                         \
        TCC_SMLATB_ACC(a1, x0_, A);                                                         \
        TCC_SMLAD_ACC(a1, x1_, B);                                                          \
        TCC_SMLAD_ACC(a2, x1_, A);                                                          \
        DW8_SMLABT_ACC(a2, x2_, B);                                                         \
        TCC_SMLATB_ACC(a3, x1_, A);                                                         \
        TCC_SMLAD_ACC(a3, x2_, B);                                                          \
    } while (0)
#define DW8_LINE_S2(r, A, B)                                                                \
    do {                                                                                    \
        const uint32_t x0_ = (r)[0], x1_ = (r)[1], x2_ = (r)[2], x3_ = (r)[3], x4_ = (r)[4];  \
        TCC_SMLAD_ACC(a0, x0_, A);                                                          \
        DW8_SMLABT_ACC(a0, x1_, B);                                                         \
        TCC_SMLAD_ACC(a1, x1_, A);                                                          \
        DW8_SMLABT_ACC(a1, x2_, B);                                                         \
        TCC_SMLAD_ACC(a2, x2_, A);                                                          \
        DW8_SMLABT_ACC(a2, x3_, B);                                                         \
        TCC_SMLAD_ACC(a3, x3_, A);                                                          \
        DW8_SMLABT_ACC(a3, x4_, B);                                                         \
    } while (0)

typedef struct {
    uint32_t w[6];              /* A0, B0, A1, B1, A2, B2 */
    int32_t bias, mult, add, shift;
} dw8_channel;

/* (lo & 0xffff) | hi << 16 of two int16 values */
TCC_ARM_INLINE uint32_t dw8_pair(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
}

static void dw8_setup(const tcc_arm_dw8_s8_params *p, int32_t c, dw8_channel *ch)
{
    const int8_t *t = p->taps + TCC_ARM_DW8_TAP_BYTES * c;
    const uint32_t sb = (uint8_t)t[9];
    const int32_t s = (int32_t)(sb & 31u), l = (int32_t)(sb >> 5) + 1;
    ch->mult = p->mult[c];
    if (ch->mult == 0) {                 /* a constant channel: its output is in bias */
        ch->add = p->bias[c];
        ch->bias = 0;
        ch->shift = 0;
    } else {
        ch->add = s ? (int32_t)((1u << (s - 1)) + ((uint32_t)p->out_zp << s)) : p->out_zp;
        ch->bias = p->bias[c];
        ch->shift = s;
    }
    for (int32_t k = 0; k < 3; ++k) {
        const int32_t w0 = t[3 * k] * (1 << l), w1 = t[3 * k + 1] * (1 << l), w2 = t[3 * k + 2] * (1 << l);
        ch->w[2 * k] = dw8_pair(w0, w1);
        ch->w[2 * k + 1] = dw8_pair(w1, w2);
    }
}

/* n int8 values step bytes apart into n int16: 4 loads, then 4 stores (pipelined). */
static void dw8_widen(int16_t *dst, const int8_t *src, int32_t n, int32_t step)
{
    int32_t e = 0;
    for (; e + 4 <= n; e += 4, src += 4 * step) {
        const int16_t v0 = src[0], v1 = src[step], v2 = src[2 * step], v3 = src[3 * step];
        dst[e] = v0;
        dst[e + 1] = v1;
        dst[e + 2] = v2;
        dst[e + 3] = v3;
    }
    for (; e < n; ++e, src += step) {
        dst[e] = *src;
    }
}

/* Requantize and clamp the 4 accumulators of a block. */
#define DW8_RQ4(RQ)                                                                         \
    do {                                                                                    \
        a0 = RQ(a0);                                                                        \
        a1 = RQ(a1);                                                                        \
        a2 = RQ(a2);                                                                        \
        a3 = RQ(a3);                                                                        \
        if (clamp) {                                                                        \
            a0 = TCC_ARM_MIN(TCC_ARM_MAX(a0, lo), hi);                                      \
            a1 = TCC_ARM_MIN(TCC_ARM_MAX(a1, lo), hi);                                      \
            a2 = TCC_ARM_MIN(TCC_ARM_MAX(a2, lo), hi);                                      \
            a3 = TCC_ARM_MIN(TCC_ARM_MAX(a3, lo), hi);                                      \
        }                                                                                   \
    } while (0)
#define DW8_RQ_POS(v) tcc_arm_rq_pos(v, ch->mult, ch->add, ch->shift)
#define DW8_RQ_ZERO(v) tcc_arm_rq_zero(v, ch->mult, ch->add)

/* Every block of one output line: the full blocks, then a short last one (n of 4 stored). The
 * row pointers move WORDS words per block. */
#define DW8_WLINE(LINE, r, k)                                                               \
    do {                                                                                    \
        uint32_t wa_, wb_;                                                                  \
        TCC_LDRD(wa_, wb_, ch->w, 2 * (k));                                                 \
        LINE(r, wa_, wb_);                                                                  \
    } while (0)
#define DW8_BLOCK(LINE, RQ)                                                                 \
    int32_t a0 = ch->bias, a1 = a0, a2 = a0, a3 = a0;                                       \
    DW8_WLINE(LINE, r0, 0);                                                                 \
    DW8_WLINE(LINE, r1, 1);                                                                 \
    DW8_WLINE(LINE, r2, 2);                                                                 \
    DW8_RQ4(RQ)
#define DW8_BLOCKS(LINE, WORDS, RQ)                                                         \
    do {                                                                                    \
        for (int32_t b_ = full; b_ > 0; --b_) {                                             \
            DW8_BLOCK(LINE, RQ);                                                            \
            d[0] = (int8_t)a0;                                                              \
            d[st] = (int8_t)a1;                                                             \
            d[2 * st] = (int8_t)a2;                                                         \
            d[3 * st] = (int8_t)a3;                                                         \
            d += 4 * st;                                                                    \
            r0 += (WORDS);                                                                  \
            r1 += (WORDS);                                                                  \
            r2 += (WORDS);                                                                  \
        }                                                                                   \
        if (rest) {                                                                         \
            DW8_BLOCK(LINE, RQ);                                                            \
            d[0] = (int8_t)a0;                                                              \
            if (rest > 1) d[st] = (int8_t)a1;                                               \
            if (rest > 2) d[2 * st] = (int8_t)a2;                                           \
        }                                                                                   \
    } while (0)

/* One output line of one channel: r0, r1, r2 the window lines' words, d the first output. */
static void dw8_line(const dw8_channel *ch, const uint32_t *r0, const uint32_t *r1, const uint32_t *r2,
                      int8_t *d, int32_t st, int32_t n_out, int32_t stride, int32_t clamp, int32_t lo,
                      int32_t hi)
{
    const int32_t sh = ch->shift;
    const int32_t full = n_out >> 2, rest = n_out & 3;
    if (stride == 1) {
        if (sh) {
            DW8_BLOCKS(DW8_LINE_S1, 2, DW8_RQ_POS);
        } else {
            DW8_BLOCKS(DW8_LINE_S1, 2, DW8_RQ_ZERO);
        }
    } else if (sh) {
        DW8_BLOCKS(DW8_LINE_S2, 4, DW8_RQ_POS);
    } else {
        DW8_BLOCKS(DW8_LINE_S2, 4, DW8_RQ_ZERO);
    }
}

TCC_ARM_INLINE void dw8(const tcc_arm_dw8_s8_params *p, const int8_t *in, int8_t *out, void *scratch, int32_t clamp)
{
    const int32_t c_all = p->channels;
    const int32_t t = p->transposed, s = p->stride, len = p->line_len;
    const int32_t lines_in = t ? p->in_w : p->in_h;
    const int32_t elems_in = t ? p->in_h : p->in_w;
    const int32_t line_step_in = (t ? 1 : p->in_w) * c_all;
    const int32_t elem_step_in = (t ? p->in_w : 1) * c_all;
    const int32_t lines_out = t ? p->out_w : p->out_h;
    const int32_t n_out = t ? p->out_h : p->out_w;
    const int32_t pad_line = t ? p->pad_left : p->pad_top;
    const int32_t pad_elem = t ? p->pad_top : p->pad_left;
    const int32_t st = (t ? p->out_w : 1) * c_all;            /* along an output line */
    const int32_t line_step_out = (t ? 1 : p->out_w) * c_all;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t n_pix = p->out_h * p->out_w;
    const int32_t slots = p->ring ? 3 : p->lines;
    int16_t *plane = (int16_t *)scratch;
    const int16_t zp = (int16_t)p->in_zp;
    for (int32_t i = 0; i < slots * len; ++i) {
        plane[i] = zp;                 /* the border; the inside is overwritten per line */
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c_all;
        int8_t *img_out = out + b * n_pix * c_all;
        for (int32_t c = 0; c < c_all; ++c) {
            dw8_channel ch;
            dw8_setup(p, c, &ch);
            if (!p->ring) {        /* the whole plane first: any whole-pixel overlap is safe */
                for (int32_t y = 0; y < lines_in; ++y) {
                    dw8_widen(plane + (y + pad_line) * len + pad_elem, img + y * line_step_in + c, elems_in,
                              elem_step_in);
                }
                for (int32_t ol = 0; ol < lines_out; ++ol) {
                    const uint32_t *r0 = (const uint32_t *)(const void *)(plane + ol * s * len);
                    dw8_line(&ch, r0, r0 + len / 2, r0 + len, img_out + ol * line_step_out + c, st, n_out, s,
                             clamp, lo, hi);
                }
                continue;
            }
            int32_t done = -1;                 /* the ring: plane lines widened so far */
            int32_t first = 0;                 /* the slot of line ol * s */
            for (int32_t ol = 0; ol < lines_out; ++ol) {
                const uint32_t *r[3];
                for (int32_t k = 0, sl = first; k < 3; ++k, sl = sl == 2 ? 0 : sl + 1) {
                    int16_t *slot = plane + sl * len;
                    const int32_t l = ol * s + k;
                    if (l > done) {
                        const int32_t y = l - pad_line;
                        if (y >= 0 && y < lines_in) {
                            dw8_widen(slot + pad_elem, img + y * line_step_in + c, elems_in, elem_step_in);
                        } else {
                            for (int32_t e = 0; e < elems_in; ++e) slot[pad_elem + e] = zp;
                        }
                        done = l;
                    }
                    r[k] = (const uint32_t *)(const void *)slot;
                }
                dw8_line(&ch, r[0], r[1], r[2], img_out + ol * line_step_out + c, st, n_out, s, clamp, lo, hi);
                first += s;
                first = first >= 3 ? first - 3 : first;
            }
        }
    }
}

#ifndef TCC_OMIT_ARM_DW8_S8
void tcc_arm_dw8_s8(const tcc_arm_dw8_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    dw8(p, in, out, scratch, 0);
}
#endif

#ifndef TCC_OMIT_ARM_DW8_CLAMP_S8
void tcc_arm_dw8_clamp_s8(const tcc_arm_dw8_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    dw8(p, in, out, scratch, 1);
}
#endif
