/* tinycc runtime, Cortex-M DSP: CONV_2D int8 for a small reduction K (see tcc_arm_convk.h).
 *
 * Cycles per output (Cortex-M4, tinycc/cycles.py's model), one pixel of the channel loop with
 * the chunk's weights in registers: the pixel's pair words (LDM, 1 + K8 / 2 per chunk), one
 * SMLAD per pair, the requantization (SMMLAR, ADD, ASR, SSAT: 4) and the byte store; plus per
 * chunk of a multi-chunk K8 the partial sum's load and store. Per block and channel the head
 * and the weights are loaded and widened once (SXTB16).
 */
#include "tcc_arm.h"
#include "tcc_arm_convk.h"
#include "tcc_arm_dsp.h"

/* 2 x each int16 lane (every activation doubled: the requantization's scale of 2) */
TCC_ARM_INLINE uint32_t ck_dbl(uint32_t x)
{
#if TCC_ARM_HAVE_DSP
    return (uint32_t)__sadd16((int16x2_t)x, (int16x2_t)x);
#else
    return (x << 1) & 0xfffefffeu;
#endif
}

/* Widen `words` words of 4 int8 at src into pair words at dst (doubled); returns the end. */
TCC_ARM_INLINE uint32_t *ck_expand(uint32_t *dst, const int8_t *src, int32_t words)
{
    for (int32_t g = 0; g < words; ++g) {
        const uint32_t v = tcc_ld32(src + 4 * g);
        dst[0] = ck_dbl(tcc_sxtb16(v));
        dst[1] = ck_dbl(tcc_sxtb16_ror8(v));
        dst += 2;
    }
    return dst;
}

/* The column of one output pixel (oy, ox of image img): K8 / 2 pair words in conv_k_order.
 * row: R bytes (a kernel row that crosses the border), tails: the rows' R % 4 last bytes. */
static __attribute__((noinline)) void ck_im2col(const tcc_arm_convk_params *p, const int8_t *img, int32_t oy,
                                                int32_t ox, uint32_t *dst, int8_t *row, int8_t *tails)
{
    const int32_t c = p->in_c, run = p->k_w * c;
    const int32_t nw = run / 4, rem = run % 4;
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    const int32_t inside = p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    const uint32_t zpw = ck_dbl(tcc_splat16(p->in_zp));
    uint32_t *const end = dst + p->k8 / 2;
    int8_t *t = tails;
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        if (y < 0 || y >= p->in_h) {
            for (int32_t g = 0; g < 2 * nw; ++g) {
                *dst++ = zpw;
            }
            for (int32_t r = 0; r < rem; ++r) {
                *t++ = (int8_t)p->in_zp;
            }
            continue;
        }
        const int8_t *src = img + y * p->in_w * c;
        if (inside) {
            src += x0 * c;
        } else {
            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                const int32_t x = x0 + kx * p->dil_w;
                for (int32_t i = 0; i < c; ++i) {
                    row[kx * c + i] = x < 0 || x >= p->in_w ? (int8_t)p->in_zp : src[x * c + i];
                }
            }
            src = row;
        }
        dst = ck_expand(dst, src, nw);
        for (int32_t r = 0; r < rem; ++r) {
            *t++ = src[4 * nw + r];
        }
    }
    if (rem) {
        dst = ck_expand(dst, tails, TCC_ARM_CONVK_K4(p->k_h * rem) / 4);
    }
    while (dst != end) {                 /* K4 .. K8: zero weights */
        *dst++ = 0;
    }
}

/* The chunk loops. A chunk is NP pair words of the column (NP / 2 int8 weight words of the
 * record); INIT is the pixel's starting sum, DONE what happens to the sum after the chunk. The
 * weights of the chunk are widened into registers once, then every pixel of the block: LDM of
 * its NP pair words, NP SMLAD. */
#define CK_W2(i, v) const uint32_t w##i = tcc_sxtb16(v), w##i##r = tcc_sxtb16_ror8(v)
#define CK_MAC2(i)                                                                          \
    acc = tcc_smlad(x[2 * (i)], w##i, acc);                                                 \
    acc = tcc_smlad(x[2 * (i) + 1], w##i##r, acc)

#define CK_CHUNK4(INIT, DONE)                                                               \
    do {                                                                                    \
        CK_W2(0, (uint32_t)wt[0]);                                                          \
        CK_W2(1, (uint32_t)wt[1]);                                                          \
        for (int32_t q = 0; q < n; ++q, x += stride) {                                      \
            int32_t acc = INIT;                                                             \
            CK_MAC2(0); CK_MAC2(1);                                                         \
            DONE;                                                                           \
        }                                                                                   \
    } while (0)

#define CK_CHUNK8(INIT, DONE)                                                               \
    do {                                                                                    \
        CK_W2(0, (uint32_t)wt[0]);                                                          \
        CK_W2(1, (uint32_t)wt[1]);                                                          \
        CK_W2(2, (uint32_t)wt[2]);                                                          \
        CK_W2(3, (uint32_t)wt[3]);                                                          \
        for (int32_t q = 0; q < n; ++q, x += stride) {                                      \
            int32_t acc = INIT;                                                             \
            CK_MAC2(0); CK_MAC2(1); CK_MAC2(2); CK_MAC2(3);                                 \
            DONE;                                                                           \
        }                                                                                   \
    } while (0)

#define CK_STORE_OUT (*o = (int8_t)tcc_arm_rq_pos(acc, m, a, s), o += out_c)
#define CK_STORE_SUM (sums[q] = acc)

/* One channel of the block: n pixels' columns at col (stride words apart), the channel's record
 * at h, outputs at o (out_c apart). */
static __attribute__((noinline)) void ck_channel(const tcc_arm_convk_head *h, const uint32_t *col, int32_t stride,
                                                 int32_t n, int8_t *o, int32_t out_c, int32_t *sums)
{
    const int32_t *wt = (const int32_t *)(h + 1);
    const int32_t bias = h->bias, m = h->mult, a = h->add, s = h->shift;
    const uint32_t *x = col;
    if (stride == 4) {
        CK_CHUNK4(bias, CK_STORE_OUT);
        return;
    }
    if (stride == 8) {
        CK_CHUNK8(bias, CK_STORE_OUT);
        return;
    }
    /* K8 >= 24: chunks of 16 (the first one 8 or 16), partial sums in sums[] */
    int32_t left = stride;
    if (left % 8) {
        CK_CHUNK4(bias, CK_STORE_SUM);
        left -= 4;
        wt += 2;
    } else {
        CK_CHUNK8(bias, CK_STORE_SUM);
        left -= 8;
        wt += 4;
    }
    for (; left > 8; left -= 8, wt += 4) {
        x = col + (stride - left);
        CK_CHUNK8(sums[q], CK_STORE_SUM);
    }
    x = col + (stride - 8);
    CK_CHUNK8(sums[q], CK_STORE_OUT);
}

#ifndef TCC_OMIT_ARM_CONVK_S8
void tcc_arm_convk_s8(const tcc_arm_convk_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    const int32_t np = p->k8 / 2, pix = p->pix, out_c = p->out_c;
    const int32_t rec_words = 4 + p->k8 / 4;
    uint32_t *col = (uint32_t *)scratch;
    int32_t *sums = (int32_t *)(col + pix * np);
    int8_t *row = (int8_t *)(sums + pix);
    int8_t *tails = row + TCC_ARM_CONVK_K4(p->k_w * p->in_c);
    const int32_t tail_bytes = TCC_ARM_CONVK_K4(p->k_h * (p->k_w * p->in_c % 4));
    for (int32_t i = 0; i < tail_bytes; ++i) {
        tails[i] = 0;                    /* (the padding up to a whole word meets zero weights) */
    }
    const int32_t total = p->batches * p->out_h * p->out_w;
    const int32_t in_img = p->in_h * p->in_w * p->in_c;
    int32_t b = 0, oy = 0, ox = 0;
    for (int32_t i = 0; i < total; i += pix) {
        const int32_t n = total - i < pix ? total - i : pix;
        for (int32_t q = 0; q < n; ++q) {
            ck_im2col(p, in + b * in_img, oy, ox, col + q * np, row, tails);
            if (++ox == p->out_w) {
                ox = 0;
                if (++oy == p->out_h) {
                    oy = 0;
                    ++b;
                }
            }
        }
        const int32_t *r = p->records;
        int8_t *o = out + i * out_c;
        for (int32_t c = 0; c < out_c; ++c, r += rec_words) {
            ck_channel((const tcc_arm_convk_head *)r, col, np, n, o + c, out_c, sums);
        }
    }
}
#endif
