/* tinycc runtime: int8 convolutions and FULLY_CONNECTED with compressed weights for Cortex-M
 * cores with the DSP extension (tinycc/variants/arm_palette.py).
 *
 * The weights stay k-bit indices in flash (tinycc/compress.py). A convolution reuses its
 * weights at every pixel: per block of pixels, each pair of output channels' weights is
 * decoded once into the scratch as int16, in the order SXTB16 splits 4 input bytes (w0 w2 |
 * w1 w3), and an SMLAD loop computes 2 pixels x 2 channels per step. DEPTHWISE_CONV_2D decodes
 * 4 channels' taps and runs the 4 channels side by side (SMLABB / SMLATT). FULLY_CONNECTED uses
 * each weight once: a table of int16 weight pairs for every pair of indices (16 or 256 words,
 * rebuilt when a row's value table changes) turns each index byte into SMLADs on the batch row
 * widened to int16. Sums are the portable kernels' (the input zero point folded into the bias),
 * so the outputs are TFLite Micro's, bit for bit.
 */
#include <stddef.h>
#include <string.h>

#include "tcc_arm_palette.h"
#include "tcc_common.h"
/* The decoding loops of the encodings no op uses are left out (tinycc defines these): */
#if defined(TCC_OMIT_WINT4) || defined(TCC_OMIT_WPALETTE4) || defined(TCC_OMIT_WPALETTE2) || defined(TCC_OMIT_WPALETTE1)
#endif
#include "tcc_compressed_loop.h"

#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
#include <arm_acle.h>
#define TCC_PAL_SXTB16(x) ((uint32_t)__sxtb16((int8x4_t)(x)))
static inline uint32_t tcc_pal_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
#define TCC_PAL_SXTB16_ROR8(x) tcc_pal_sxtb16_ror8(x)
#define TCC_PAL_SMLAD(a, b, acc) __smlad((int16x2_t)(a), (int16x2_t)(b), (acc))
#define TCC_PAL_SMLABB(a, b, acc) __smlabb((int32_t)(a), (int32_t)(b), (acc))
#define TCC_PAL_SMLATT(a, b, acc) __smlatt((int32_t)(a), (int32_t)(b), (acc))
#else   /* the same arithmetic in C (a host build of this file) */
static inline int32_t tcc_pal_lo(uint32_t x) { return (int16_t)(x & 0xFFFFu); }
static inline int32_t tcc_pal_hi(uint32_t x) { return (int16_t)(x >> 16); }
#define TCC_PAL_SXTB16(x) (((uint32_t)(int32_t)(int8_t)((x) & 0xFFu) & 0xFFFFu) | \
                           ((uint32_t)(int32_t)(int8_t)(((x) >> 16) & 0xFFu) << 16))
#define TCC_PAL_SMLAD(a, b, acc) ((acc) + tcc_pal_lo(a) * tcc_pal_lo(b) + tcc_pal_hi(a) * tcc_pal_hi(b))
#define TCC_PAL_SMLABB(a, b, acc) ((acc) + tcc_pal_lo(a) * tcc_pal_lo(b))
#define TCC_PAL_SMLATT(a, b, acc) ((acc) + tcc_pal_hi(a) * tcc_pal_hi(b))
#define TCC_PAL_SXTB16_ROR8(x) TCC_PAL_SXTB16(((x) >> 8) | ((x) << 24))
#endif
/* Where weight i of a run goes in its int16 copy: each 4 as w0 w2 w1 w3 (SXTB16's split). */
#define TCC_PAL_POS(i) (((i) & ~3) | (((i) & 1) << 1) | (((i) >> 1) & 1))

static inline uint32_t tcc_pal_word(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* A channel's requantization as 5 words: mult, left shift, right shift, zero point,
 * act_min | act_max << 16 (computed once per channel, used at every pixel). */
static inline void tcc_pal_rq(int32_t *rq, int32_t mult, int32_t shift, int32_t zp, int32_t lo, int32_t hi)
{
    rq[0] = mult;
    rq[1] = shift > 0 ? shift : 0;
    rq[2] = shift > 0 ? 0 : -shift;
    rq[3] = zp;
    rq[4] = (int32_t)(((uint32_t)hi << 16) | ((uint32_t)lo & 0xFFFFu));
}

/* tcc_requantize (TFLite's MultiplyByQuantizedMultiplier) for mult >= 0: the doubling high
 * multiply, round(x * mult / 2^31) half away from zero, is floor((x * mult + 2^30) / 2^31) (an
 * arithmetic shift), then the rounding right shift; plus the zero point, clamped. */
static inline int8_t tcc_pal_rq_out(int32_t acc, const int32_t *rq)
{
    const int64_t ab = (int64_t)(int32_t)((uint32_t)acc << rq[1]) * rq[0];
    const int32_t h = (int32_t)((ab + (1LL << 30)) >> 31);
    const int32_t right = rq[2], mask = (int32_t)((1u << right) - 1u);
    const int32_t r = (h >> right) + ((h & mask) > (mask >> 1) + (h < 0)) + rq[3];
    return (int8_t)tcc_clamp(r, (int16_t)(rq[4] & 0xFFFF), rq[4] >> 16);
}

/* Four outputs (channels c .. c + 3 of a pixel) into r. */
static inline void tcc_pal_out4(int8_t *r, int32_t s0, int32_t s1, int32_t s2, int32_t s3, const int32_t *rq)
{
    r[0] = tcc_pal_rq_out(s0, rq);
    r[1] = tcc_pal_rq_out(s1, rq + 5);
    r[2] = tcc_pal_rq_out(s2, rq + 10);
    r[3] = tcc_pal_rq_out(s3, rq + 15);
}

static inline int8_t tcc_pal_out(int32_t acc, int32_t mult, int32_t shift, int32_t zp, int32_t lo, int32_t hi)
{
    int32_t rq[5];
    tcc_pal_rq(rq, mult, shift, zp, lo, hi);
    return tcc_pal_rq_out(acc, rq);
}

#ifndef TCC_OMIT_ARM_PALETTE_CONV_S8
/* Channel oc's k weights as int16 pairs at dst[4 * g], dst[4 * g + 1] for each 4 of them (g):
 * (w0, w2) and (w1, w3), SXTB16's split of 4 input bytes; zeros up to kp. Decoded to int8 in
 * lin (kp bytes) first. */
static void tcc_pal_decode(const tcc_wcode *w, int32_t oc, int32_t k, int32_t kp, int8_t *lin, uint32_t *dst)
{
    const int8_t *tab = tcc_wtable(w, oc);
    TCC_WEIGHTS(oc * k, k, lin[i_] = (int8_t)v_);
    for (int32_t i = k; i < kp; ++i) {
        lin[i] = 0;
    }
    for (int32_t g = 0; g < kp / 4; ++g, dst += 4) {
        const uint32_t x = tcc_pal_word(lin + 4 * g);
        dst[0] = TCC_PAL_SXTB16(x);
        dst[1] = TCC_PAL_SXTB16_ROR8(x);
    }
}

/* One group of 4 inputs of pixels a and b times channels u and v (words wp[0..3]). */
#define TCC_PAL_CONV_STEP()                                                             \
    do {                                                                                \
        const uint32_t xa_ = tcc_pal_word(a), xb_ = tcc_pal_word(b);                    \
        const uint32_t a02_ = TCC_PAL_SXTB16(xa_), a13_ = TCC_PAL_SXTB16_ROR8(xa_);     \
        const uint32_t b02_ = TCC_PAL_SXTB16(xb_), b13_ = TCC_PAL_SXTB16_ROR8(xb_);     \
        const uint32_t u02_ = wp[0], u13_ = wp[1], v02_ = wp[2], v13_ = wp[3];          \
        a += 4;                                                                         \
        b += 4;                                                                         \
        wp += 4;                                                                        \
        a0 = TCC_PAL_SMLAD(a02_, u02_, a0);                                             \
        a0 = TCC_PAL_SMLAD(a13_, u13_, a0);                                             \
        a1 = TCC_PAL_SMLAD(a02_, v02_, a1);                                             \
        a1 = TCC_PAL_SMLAD(a13_, v13_, a1);                                             \
        b0 = TCC_PAL_SMLAD(b02_, u02_, b0);                                             \
        b0 = TCC_PAL_SMLAD(b13_, u13_, b0);                                             \
        b1 = TCC_PAL_SMLAD(b02_, v02_, b1);                                             \
        b1 = TCC_PAL_SMLAD(b13_, v13_, b1);                                             \
    } while (0)

/* The window of output pixel q (flat over batch, row, column) as kp bytes: in the input
 * (direct) or copied into col (padding: the input zero point; past k: 0). */
static const int8_t *tcc_pal_window(const tcc_conv2d_s8_params *p, const int8_t *in, int32_t q, int32_t direct,
                                    int32_t kp, int8_t *col)
{
    const int32_t plane = p->out_h * p->out_w;
    const int32_t b = q / plane, oy = q % plane / p->out_w, ox = q % p->out_w;
    const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
    const int8_t *img = in + b * p->in_h * p->in_w * p->in_c;
    if (direct) {
        return img + (y0 * p->in_w + x0) * p->in_c;
    }
    int8_t *c = col;
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        for (int32_t kx = 0; kx < p->k_w; ++kx) {
            const int32_t x = x0 + kx * p->dil_w;
            const int in_image = y >= 0 && y < p->in_h && x >= 0 && x < p->in_w;
            if (p->in_c == 1) {                       /* one byte: no library call */
                *c = in_image ? img[y * p->in_w + x] : (int8_t)p->in_zp;
            } else if (in_image) {
                memcpy(c, img + (y * p->in_w + x) * p->in_c, (size_t)p->in_c);
            } else {
                memset(c, (int8_t)p->in_zp, (size_t)p->in_c);
            }
            c += p->in_c;
        }
    }
    memset(c, 0, (size_t)(col + kp - c));
    return col;
}

void tcc_arm_palette_conv_s8(const tcc_conv2d_s8_params *p, const tcc_wcode *w, int32_t block, int32_t direct,
                             const int8_t *in, int8_t *out, void *scratch)
{
    const int32_t k = p->k_h * p->k_w * p->k_c, kp = (k + 3) & ~3, groups = kp / 4;
    const int32_t npix = p->batches * p->out_h * p->out_w;
    uint32_t *wk = (uint32_t *)scratch;               /* two channels' weights, interleaved by 4 */
    int8_t *lin = (int8_t *)(wk + kp);                /* one channel's weights as int8 */
    int8_t *cols = lin + kp;                          /* the block's windows */
    /* whole: one block of every pixel, their windows the input's consecutive pixels, the outputs
     * stored in place as computed (the weights decoded once; the output never shares the input) */
    const int whole = direct && block >= npix && p->stride_h == 1 && p->stride_w == 1;
    int8_t *res = whole ? out : cols + (direct ? 0 : block * kp);   /* the block's outputs */
    for (int32_t q0 = 0; q0 < npix; q0 += block) {
        const int32_t nq = TCC_MIN(block, npix - q0);
        const int8_t *win[TCC_ARM_PALETTE_MAX_BLOCK];
        for (int32_t j = 0; j < nq && !whole; ++j) {
            win[j] = tcc_pal_window(p, in, q0 + j, direct, kp, cols + j * kp);
        }
        for (int32_t oc = 0; oc < p->out_c; oc += 2) {
            const int32_t two = oc + 1 < p->out_c;
            int32_t rq[2 * 5];
            tcc_pal_decode(w, oc, k, kp, lin, wk);
            tcc_pal_decode(w, oc + two, k, kp, lin, wk + 2);
            tcc_pal_rq(rq, p->mult[oc], p->shift[oc], p->out_zp, p->act_min, p->act_max);
            tcc_pal_rq(rq + 5, p->mult[oc + two], p->shift[oc + two], p->out_zp, p->act_min, p->act_max);
            for (int32_t j = 0; j < nq; j += 2) {
                const int32_t j1 = j + 1 < nq ? j + 1 : j;
                const int8_t *a = whole ? in + j * p->in_c : win[j], *b = whole ? in + j1 * p->in_c : win[j1];
                const uint32_t *wp = wk, *const wend = wp + 4 * groups;
                int32_t a0 = p->bias[oc], a1 = p->bias[oc + two], b0 = a0, b1 = a1;
                while (wp != wend) {
                    TCC_PAL_CONV_STEP();
                }
                int8_t *r = res + j * p->out_c + oc;
                r[0] = tcc_pal_rq_out(a0, rq);
                if (two) {
                    r[1] = tcc_pal_rq_out(a1, rq + 5);
                }
                if (j1 != j) {
                    r += p->out_c;
                    r[0] = tcc_pal_rq_out(b0, rq);
                    if (two) {
                        r[1] = tcc_pal_rq_out(b1, rq + 5);
                    }
                }
            }
        }
        if (!whole) {
            memcpy(out + q0 * p->out_c, res, (size_t)(nq * p->out_c));
        }
    }
}
#endif

#ifndef TCC_OMIT_ARM_PALETTE_DW_S8
/* One tap of 4 channels: the input word XV (channels c .. c + 3) times the tap's weights W[0]
 * (channels c, c + 2) and W[1] (c + 1, c + 3), into s0 .. s3. */
#define TCC_PAL_DW_TAP(XV, W)                                                           \
    do {                                                                                \
        const uint32_t xv_ = (XV), w02_ = (W)[0], w13_ = (W)[1];                        \
        const uint32_t x02_ = TCC_PAL_SXTB16(xv_), x13_ = TCC_PAL_SXTB16_ROR8(xv_);     \
        s0 = TCC_PAL_SMLABB(x02_, w02_, s0);                                            \
        s2 = TCC_PAL_SMLATT(x02_, w02_, s2);                                            \
        s1 = TCC_PAL_SMLABB(x13_, w13_, s1);                                            \
        s3 = TCC_PAL_SMLATT(x13_, w13_, s3);                                            \
    } while (0)

/* Channel oc's taps e .. e + n - 1 as int16 at dst[4 * i]. */
static void tcc_pal_decode_taps(const tcc_wcode *w, int32_t oc, int32_t e, int32_t n, int16_t *dst)
{
    const int8_t *tab = tcc_wtable(w, oc);
    TCC_WEIGHTS(e, n, dst[4 * i_] = (int16_t)v_);
}

void tcc_arm_palette_dw_s8(const tcc_depthwise_s8_params *p, const tcc_wcode *w, const int8_t *in, int8_t *out,
                           void *scratch)
{
    const int32_t c_n = p->in_c, taps = p->k_h * p->k_w, plane = p->out_h * p->out_w;
    const uint32_t zp4 = (uint32_t)(uint8_t)p->in_zp * 0x01010101u;
    const int32_t step = p->dil_w * c_n;              /* to the next tap of a row */
    const int32_t row_step = p->dil_h * p->in_w * c_n;   /* to the next row of taps */
    const int32_t span_w = (p->k_w - 1) * p->dil_w;   /* a window's last column - its first */
    int16_t *wk = (int16_t *)scratch;                 /* [tap][w0 w2 w1 w3] */
    int8_t *res = (int8_t *)(wk + 4 * taps);          /* [pixel][4] */
    for (int32_t bt = 0; bt < p->batches; ++bt) {
        const int8_t *img = in + bt * p->in_h * p->in_w * c_n;
        int8_t *dst = out + bt * plane * c_n;
        for (int32_t c = 0; c < c_n; c += 4) {
            int32_t rq[5 * 4];                        /* the 4 channels' requantization */
            for (int32_t m = 0; m < 4; ++m) {         /* channel c + m: lane TCC_PAL_POS(m) of each tap */
                tcc_pal_decode_taps(w, c + m, (c + m) * taps, taps, wk + TCC_PAL_POS(m));
                tcc_pal_rq(rq + 5 * m, p->mult[c + m], p->shift[c + m], p->out_zp, p->act_min, p->act_max);
            }
            int8_t *r = res;
            for (int32_t oy = 0; oy < p->out_h; ++oy) {
                const int32_t y0 = oy * p->stride_h - p->pad_top;
                const int rows_in = y0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h;
                for (int32_t ox = 0; ox < p->out_w; ++ox) {
                    const int32_t x0 = ox * p->stride_w - p->pad_left;
                    int32_t s0 = p->bias[c], s1 = p->bias[c + 1], s2 = p->bias[c + 2], s3 = p->bias[c + 3];
                    const uint32_t *wt = (const uint32_t *)wk;
                    if (rows_in && x0 >= 0 && x0 + span_w < p->in_w) {     /* the window inside: no checks */
                        const int8_t *row = img + (y0 * p->in_w + x0) * c_n + c;
                        if (p->k_w == 3) {
                            for (int32_t ky = 0; ky < p->k_h; ++ky, row += row_step, wt += 6) {
                                TCC_PAL_DW_TAP(tcc_pal_word(row), wt);
                                TCC_PAL_DW_TAP(tcc_pal_word(row + step), wt + 2);
                                TCC_PAL_DW_TAP(tcc_pal_word(row + 2 * step), wt + 4);
                            }
                        } else {
                            for (int32_t ky = 0; ky < p->k_h; ++ky, row += row_step) {
                                const int8_t *px = row;
                                for (int32_t kx = 0; kx < p->k_w; ++kx, px += step, wt += 2) {
                                    TCC_PAL_DW_TAP(tcc_pal_word(px), wt);
                                }
                            }
                        }
                    } else {
                        for (int32_t ky = 0; ky < p->k_h; ++ky) {
                            const int32_t y = y0 + ky * p->dil_h;
                            const int8_t *px = img + (y * p->in_w + x0) * c_n + c;
                            for (int32_t kx = 0; kx < p->k_w; ++kx, px += step, wt += 2) {
                                const int32_t x = x0 + kx * p->dil_w;
                                TCC_PAL_DW_TAP(y >= 0 && y < p->in_h && x >= 0 && x < p->in_w ? tcc_pal_word(px) : zp4,
                                               wt);
                            }
                        }
                    }
                    tcc_pal_out4(r, s0, s1, s2, s3, rq);
                    r += 4;
                }
            }
            for (int32_t q = 0; q < plane; ++q) {     /* the 4 channels, once all their inputs were read */
                memcpy(dst + q * c_n + c, res + 4 * q, 4);
            }
        }
    }
}
#endif

#ifndef TCC_OMIT_ARM_PALETTE_FC_S8
/* The table of index pairs: entry (i1 << bits) | i0 is (tab[i0], tab[i1]) as int16 lanes. */
static void tcc_pal_pairs(const int8_t *tab, int32_t bits, uint32_t *pairs)
{
    const int32_t n = 1 << bits;
    for (int32_t i1 = 0; i1 < n; ++i1) {
        const uint32_t hi = (uint32_t)(int32_t)(tab != NULL ? tab[i1] : (int8_t)(((i1 ^ 8) - 8))) << 16;
        for (int32_t i0 = 0; i0 < n; ++i0) {
            const int32_t lo = tab != NULL ? tab[i0] : ((i0 ^ 8) - 8);
            *pairs++ = hi | ((uint32_t)lo & 0xFFFFu);
        }
    }
}

void tcc_arm_palette_fc_s8(const tcc_fully_connected_s8_params *p, const tcc_wcode *w, const int8_t *in,
                           int8_t *out, void *scratch)
{
    const int32_t bits = w->bits, per = 8 / (2 * bits);       /* index pairs per byte */
    const uint32_t mask = (1u << (2 * bits)) - 1u;
    const int32_t row_bytes = p->in_depth * bits / 8;
    uint32_t *pairs = (uint32_t *)scratch;
    int16_t *x16 = (int16_t *)(pairs + (1 << (2 * bits)));
    const int8_t *built = NULL;
    int built_any = 0;
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t i = 0; i < p->in_depth; ++i) {
            x16[i] = in[b * p->in_depth + i];
        }
        for (int32_t o = 0; o < p->out_depth; ++o) {
            const int8_t *tab = tcc_wtable(w, o);
            if (!built_any || tab != built) {
                tcc_pal_pairs(tab, bits, pairs);
                built = tab;
                built_any = 1;
            }
            const uint8_t *idx = w->index + o * row_bytes;
            const uint32_t *xp = (const uint32_t *)x16;
            int32_t acc = p->bias[o];
            for (int32_t k = 0; k < row_bytes; ++k) {
                uint32_t byte = idx[k];
                for (int32_t j = 0; j < per; ++j) {
                    acc = TCC_PAL_SMLAD(*xp, pairs[byte & mask], acc);
                    ++xp;
                    byte >>= 2 * bits;
                }
            }
            *out++ = tcc_pal_out(acc, p->mult[o], p->shift[o], p->out_zp, p->act_min, p->act_max);
        }
    }
}
#endif
