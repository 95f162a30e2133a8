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

#include "tcc_arm_dsp.h"
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
#define TCC_PAL_PK(lo, hi) tcc_pkhbt((uint32_t)(int32_t)(lo), (uint32_t)(int32_t)(hi))   /* int16 pair (lo, hi) */
/* Where weight i of a run goes in its int16 copy: each 4 as w0 w2 w1 w3 (SXTB16's split). */
#define TCC_PAL_POS(i) (((i) & ~3) | (((i) & 1) << 1) | (((i) >> 1) & 1))

static inline uint32_t tcc_pal_word(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* A channel's requantization, computed once per channel and used at every pixel:
 * tcc_requantize (TFLite's MultiplyByQuantizedMultiplier, mult >= 0) + zero point, clamped.
 * With x = acc << left (wrapping, as TFLite's int32 product), its doubling high multiply
 * h = floor((x * mult + 2^30) / 2^31) (round half away from zero) and the rounding right shift
 * by s >= 1, round(h / 2^s) = floor((h + 2^(s-1) - (h < 0)) / 2^s), are one 64-bit multiply-add:
 *   out = (x * mult + base) >> (31 + s),  base = 2^30 + (2^(s-1) - (x < 0) + zp * 2^s) * 2^31
 * (h < 0 only when x < 0; where x < 0 gives h = 0 both roundings give 0). Exact while
 * |x * mult + base| < 2^63: s <= 23; other shifts (s = 0, s > 23) take the two-step path. */
typedef struct {
    int64_t base[2];                  /* [x >= 0, x < 0] */
    int32_t mult, left, s1;           /* s1 = s - 1 (-1: the two-step path, right shift in right) */
    int32_t right, zp, act_min, act_max;
} tcc_pal_q;

static inline void tcc_pal_rq(tcc_pal_q *q, int32_t mult, int32_t shift, int32_t zp, int32_t lo, int32_t hi)
{
    const int32_t s = shift > 0 ? 0 : -shift;
    q->mult = mult;
    q->left = shift > 0 ? shift : 0;
    q->s1 = s >= 1 && s <= 23 ? s - 1 : -1;
    q->right = s;
    q->zp = zp;
    q->act_min = lo;
    q->act_max = hi;
    if (q->s1 >= 0) {
        const int64_t c = (int64_t)(1 << (s - 1)) + (int64_t)zp * (1 << s);
        q->base[0] = (1LL << 30) + c * (1LL << 31);
        q->base[1] = q->base[0] - (1LL << 31);
    }
}

static inline int8_t tcc_pal_rq_out(int32_t acc, const tcc_pal_q *q)
{
    const int32_t x = (int32_t)((uint32_t)acc << q->left);
    int32_t r;
    if (q->s1 >= 0) {
        const int64_t t = (int64_t)x * q->mult + q->base[x < 0];
        r = (int32_t)(t >> 32) >> q->s1;
    } else {
        const int32_t h = (int32_t)(((int64_t)x * q->mult + (1LL << 30)) >> 31);
        const int32_t mask = (int32_t)((1u << q->right) - 1u);
        r = (h >> q->right) + ((h & mask) > (mask >> 1) + (h < 0)) + q->zp;
    }
    return (int8_t)tcc_clamp(r, q->act_min, q->act_max);
}

/* Four outputs (channels c .. c + 3 of a pixel) into r. */
static inline void tcc_pal_out4(int8_t *r, int32_t s0, int32_t s1, int32_t s2, int32_t s3, const tcc_pal_q *q)
{
    r[0] = tcc_pal_rq_out(s0, q);
    r[1] = tcc_pal_rq_out(s1, q + 1);
    r[2] = tcc_pal_rq_out(s2, q + 2);
    r[3] = tcc_pal_rq_out(s3, q + 3);
}

static inline int8_t tcc_pal_out(int32_t acc, int32_t mult, int32_t shift, int32_t zp, int32_t lo, int32_t hi)
{
    tcc_pal_q q;
    tcc_pal_rq(&q, mult, shift, zp, lo, hi);
    return tcc_pal_rq_out(acc, &q);
}

/* With a frame (tcc_arm_conv8.h's head and tail of a channel pair): the accumulator from the
 * head's bias, requantized as tcc_arm_conv8_s8 does (SMMLAR on the doubled accumulator). */
static inline int8_t tcc_pal_rq8(int32_t acc, int32_t mult, int32_t add, int32_t shift, int32_t lo, int32_t hi)
{
    return (int8_t)tcc_clamp(tcc_arm_rq_pos(2 * acc, mult, add, shift), lo, hi);
}

/* 1 + the trailing zero bits of a tail's add ((2 * out_zp + 1) << (shift - 1), never 0): the
 * shift. */
static inline int32_t tcc_pal_add_shift(int32_t add)
{
#if defined(__GNUC__)
    return 1 + __builtin_ctz((uint32_t)add);
#else
    int32_t n = 1;
    for (uint32_t v = (uint32_t)add; (v & 1u) == 0; v >>= 1) {
        ++n;
    }
    return n;
#endif
}

#if !defined(TCC_OMIT_ARM_PALETTE_CONV_S8) || !defined(TCC_OMIT_ARM_PALETTE_PW8_S8) || \
    !defined(TCC_OMIT_ARM_PALETTE_C8_S8) || !defined(TCC_OMIT_ARM_PALETTE_DW8_S8) || !defined(TCC_OMIT_ARM_PALETTE_DW3_S8)
/* INT4's values by nibble (the table tcc_wtable leaves NULL). */
static const int8_t tcc_pal_int4[16] = {0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1};
#endif

#ifndef TCC_OMIT_ARM_PALETTE_CONV_S8
/* Weights w0 .. w3 as the int16 pairs (w0, w2), (w1, w3) at dst[0], dst[1]. */
#define TCC_PAL_PUT4(dst, w0, w1, w2, w3)                                               \
    do {                                                                                \
        (dst)[0] = (uint32_t)(uint16_t)(w0) | (uint32_t)(w2) << 16;                     \
        (dst)[1] = (uint32_t)(uint16_t)(w1) | (uint32_t)(w3) << 16;                     \
    } while (0)

/* Channel oc's k weights as int16 pairs at dst[4 * g], dst[4 * g + 1] for each 4 of them (g):
 * (w0, w2) and (w1, w3), SXTB16's split of 4 input bytes; zeros up to kp. 4- and 2-bit
 * indices with k % 4 == 0 (each 4 weights in 2 bytes or 1): straight from the index bytes;
 * otherwise decoded to int8 in lin (kp bytes) first. */
static void tcc_pal_decode(const tcc_wcode *w, int32_t oc, int32_t k, int32_t kp, int8_t *lin, uint32_t *dst)
{
    const int8_t *tab = tcc_wtable(w, oc);
    if (k % 4 == 0 && (w->bits == 4 || w->bits == 2)) {
        const int8_t *t = tab != NULL ? tab : tcc_pal_int4;
        const uint8_t *d = w->index + oc * k * w->bits / 8;
        if (w->bits == 4) {
            for (int32_t g = 0; g < k / 4; ++g, d += 2, dst += 4) {
                const uint32_t b = (uint32_t)d[0] | (uint32_t)d[1] << 8;
                TCC_PAL_PUT4(dst, t[b & 15u], t[(b >> 4) & 15u], t[(b >> 8) & 15u], t[b >> 12]);
            }
        } else {
            for (int32_t g = 0; g < k / 4; ++g, ++d, dst += 4) {
                const uint32_t b = *d;
                TCC_PAL_PUT4(dst, t[b & 3u], t[(b >> 2) & 3u], t[(b >> 4) & 3u], t[b >> 6]);
            }
        }
        return;
    }
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

void tcc_arm_palette_conv_s8(const tcc_conv2d_s8_params *p, const tcc_wcode *w, const int32_t *frame, int32_t block,
                             int32_t direct, const int8_t *in, int8_t *out, void *scratch)
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
            tcc_pal_q rq[2] = {{{0, 0}, 0, 0, 0, 0, 0, 0, 0}, {{0, 0}, 0, 0, 0, 0, 0, 0, 0}};   /* framed: not used */
            tcc_pal_decode(w, oc, k, kp, lin, wk);
            tcc_pal_decode(w, oc + two, k, kp, lin, wk + 2);
            const int32_t *f = frame != NULL ? frame + 3 * oc : NULL;   /* oc even, two */
            const int32_t sa = f != NULL ? tcc_pal_add_shift(f[3]) : 0, sb = f != NULL ? tcc_pal_add_shift(f[5]) : 0;
            const int32_t bias_a = f != NULL ? f[0] : p->bias[oc], bias_b = f != NULL ? f[1] : p->bias[oc + two];
            if (f == NULL) {
                tcc_pal_rq(&rq[0], p->mult[oc], p->shift[oc], p->out_zp, p->act_min, p->act_max);
                tcc_pal_rq(rq + 1, p->mult[oc + two], p->shift[oc + two], p->out_zp, p->act_min, p->act_max);
            }
            for (int32_t j = 0; j < nq; j += 2) {
                const int32_t j1 = j + 1 < nq ? j + 1 : j;
                const int8_t *a = whole ? in + j * p->in_c : win[j], *b = whole ? in + j1 * p->in_c : win[j1];
                const uint32_t *wp = wk, *const wend = wp + 4 * groups;
                int32_t a0 = bias_a, a1 = bias_b, b0 = a0, b1 = a1;
                while (wp != wend) {
                    TCC_PAL_CONV_STEP();
                }
                int8_t *r = res + j * p->out_c + oc;
                if (f != NULL) {
                    r[0] = tcc_pal_rq8(a0, f[2], f[3], sa, p->act_min, p->act_max);
                    r[1] = tcc_pal_rq8(a1, f[4], f[5], sb, p->act_min, p->act_max);
                    if (j1 != j) {
                        r[p->out_c] = tcc_pal_rq8(b0, f[2], f[3], sa, p->act_min, p->act_max);
                        r[p->out_c + 1] = tcc_pal_rq8(b1, f[4], f[5], sb, p->act_min, p->act_max);
                    }
                    continue;
                }
                r[0] = tcc_pal_rq_out(a0, rq);
                if (two) {
                    r[1] = tcc_pal_rq_out(a1, rq + 1);
                }
                if (j1 != j) {
                    r += p->out_c;
                    r[0] = tcc_pal_rq_out(b0, rq);
                    if (two) {
                        r[1] = tcc_pal_rq_out(b1, rq + 1);
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

#if !defined(TCC_OMIT_ARM_PALETTE_PW8_S8) || !defined(TCC_OMIT_ARM_PALETTE_C8_S8)
/* n pixels' g outputs (r: [n][g]) into dst (stride out_c), clamped to lo .. hi: 4 at a time
 * (unaligned words; per-byte max and min) where g % 4 == 0. */
static void tcc_pal_pw8_store(const int8_t *r, int32_t n, int32_t g, int8_t *dst, int32_t out_c, int32_t lo,
                              int32_t hi)
{
    const int clamp = lo > -128 || hi < 127;
    const uint32_t lo4 = (uint32_t)(uint8_t)lo * 0x01010101u, hi4 = (uint32_t)(uint8_t)hi * 0x01010101u;
    for (int32_t i = 0; i < n; ++i, dst += out_c, r += g) {
        if (g % 4 == 0) {
            for (int32_t j = 0; j < g; j += 4) {
                uint32_t v = tcc_pal_word(r + j);
                if (clamp) {
                    v = tcc_min8(tcc_max8(v, lo4), hi4);
                }
                memcpy(dst + j, &v, 4);
            }
        } else if (clamp) {
            for (int32_t j = 0; j < g; ++j) {
                dst[j] = (int8_t)tcc_clamp(r[j], lo, hi);
            }
        } else {
            memcpy(dst, r, (size_t)g);
        }
    }
}
#endif

#ifndef TCC_OMIT_ARM_PALETTE_PW8_S8
/* The 4 indices of weights e .. e + 3 (e % 4 == 0) in the low 4 * bits bits. */
static inline uint32_t tcc_pal_idx4(const tcc_wcode *w, int32_t e)
{
    const uint32_t pos = (uint32_t)e * (uint32_t)w->bits;
    const uint8_t *d = w->index + pos / 8;
    return (w->bits == 4 ? (uint32_t)d[0] | (uint32_t)d[1] << 8 : (uint32_t)d[0]) >> (pos & 7u);
}

/* Channels a and a + 1 (k weights each, k % 4 == 0) as tcc_arm_conv8.h's stream words: per 4
 * weights (a0, b0, a2, b2) and (a1, b1, a3, b3), first byte low. */
static uint32_t *tcc_pal_decode_pair8(const tcc_wcode *w, int32_t a, int32_t k, uint32_t *dst)
{
    const int8_t *ta = tcc_wtable(w, a), *tb = tcc_wtable(w, a + 1);
    const uint32_t bits = (uint32_t)w->bits, m = (1u << bits) - 1u;
    ta = ta != NULL ? ta : tcc_pal_int4;
    tb = tb != NULL ? tb : tcc_pal_int4;
    if (bits == 4) {                                  /* 4 weights in 2 bytes: no shifts by bits */
        const uint8_t *ua = (const uint8_t *)ta, *ub = (const uint8_t *)tb;
        const uint8_t *da = w->index + a * k / 2, *db = da + k / 2;
        for (int32_t e = 0; e < k; e += 4, da += 2, db += 2, dst += 2) {
            const uint32_t va = (uint32_t)da[0] | (uint32_t)da[1] << 8, vb = (uint32_t)db[0] | (uint32_t)db[1] << 8;
            dst[0] = (uint32_t)ua[va & 15u] | (uint32_t)ub[vb & 15u] << 8 | (uint32_t)ua[(va >> 8) & 15u] << 16
                     | (uint32_t)ub[(vb >> 8) & 15u] << 24;
            dst[1] = (uint32_t)ua[(va >> 4) & 15u] | (uint32_t)ub[(vb >> 4) & 15u] << 8 | (uint32_t)ua[va >> 12] << 16
                     | (uint32_t)ub[vb >> 12] << 24;
        }
        return dst;
    }
    if (bits == 2) {                                  /* 4 weights in a byte */
        const uint8_t *ua = (const uint8_t *)ta, *ub = (const uint8_t *)tb;
        const uint8_t *da = w->index + a * k / 4, *db = da + k / 4;
        for (int32_t e = 0; e < k; e += 4, ++da, ++db, dst += 2) {
            const uint32_t va = *da, vb = *db;
            dst[0] = (uint32_t)ua[va & 3u] | (uint32_t)ub[vb & 3u] << 8 | (uint32_t)ua[(va >> 4) & 3u] << 16
                     | (uint32_t)ub[(vb >> 4) & 3u] << 24;
            dst[1] = (uint32_t)ua[(va >> 2) & 3u] | (uint32_t)ub[(vb >> 2) & 3u] << 8 | (uint32_t)ua[va >> 6] << 16
                     | (uint32_t)ub[vb >> 6] << 24;
        }
        return dst;
    }
    for (int32_t e = 0; e < k; e += 4, dst += 2) {
        const uint32_t va = tcc_pal_idx4(w, a * k + e), vb = tcc_pal_idx4(w, (a + 1) * k + e);
        dst[0] = (uint32_t)(uint8_t)ta[va & m] | (uint32_t)(uint8_t)tb[vb & m] << 8
                 | (uint32_t)(uint8_t)ta[(va >> 2 * bits) & m] << 16 | (uint32_t)(uint8_t)tb[(vb >> 2 * bits) & m] << 24;
        dst[1] = (uint32_t)(uint8_t)ta[(va >> bits) & m] | (uint32_t)(uint8_t)tb[(vb >> bits) & m] << 8
                 | (uint32_t)(uint8_t)ta[(va >> 3 * bits) & m] << 16 | (uint32_t)(uint8_t)tb[(vb >> 3 * bits) & m] << 24;
    }
    return dst;
}

/* Channels a and a + 1 (k weights each, k % 4 == 0, 4- or 2-bit indices) as
 * tcc_arm_conv8w_s8's stream words: per 4 weights the int16 pairs (a0, a2), (b0, b2), (a1, a3),
 * (b1, b3), first in the low half. */
static uint32_t *tcc_pal_decode_pair16(const tcc_wcode *w, int32_t a, int32_t k, uint32_t *dst)
{
    const int8_t *ta = tcc_wtable(w, a), *tb = tcc_wtable(w, a + 1);
    ta = ta != NULL ? ta : tcc_pal_int4;
    tb = tb != NULL ? tb : tcc_pal_int4;
    if (w->bits == 4) {                               /* 8 weights of each channel a word */
        const uint8_t *da = w->index + a * k / 2, *db = da + k / 2;
        int32_t e = 0;
        for (; e + 8 <= k; e += 8, da += 4, db += 4, dst += 8) {
            const uint32_t va = tcc_pal_word(da), vb = tcc_pal_word(db);
            dst[0] = TCC_PAL_PK(ta[va & 15u], ta[(va >> 8) & 15u]);
            dst[1] = TCC_PAL_PK(tb[vb & 15u], tb[(vb >> 8) & 15u]);
            dst[2] = TCC_PAL_PK(ta[(va >> 4) & 15u], ta[(va >> 12) & 15u]);
            dst[3] = TCC_PAL_PK(tb[(vb >> 4) & 15u], tb[(vb >> 12) & 15u]);
            dst[4] = TCC_PAL_PK(ta[(va >> 16) & 15u], ta[(va >> 24) & 15u]);
            dst[5] = TCC_PAL_PK(tb[(vb >> 16) & 15u], tb[(vb >> 24) & 15u]);
            dst[6] = TCC_PAL_PK(ta[(va >> 20) & 15u], ta[va >> 28]);
            dst[7] = TCC_PAL_PK(tb[(vb >> 20) & 15u], tb[vb >> 28]);
        }
        if (e < k) {                                  /* a last 4 */
            const uint32_t va = (uint32_t)da[0] | (uint32_t)da[1] << 8, vb = (uint32_t)db[0] | (uint32_t)db[1] << 8;
            dst[0] = TCC_PAL_PK(ta[va & 15u], ta[(va >> 8) & 15u]);
            dst[1] = TCC_PAL_PK(tb[vb & 15u], tb[(vb >> 8) & 15u]);
            dst[2] = TCC_PAL_PK(ta[(va >> 4) & 15u], ta[va >> 12]);
            dst[3] = TCC_PAL_PK(tb[(vb >> 4) & 15u], tb[vb >> 12]);
            dst += 4;
        }
        return dst;
    }
    const uint8_t *da = w->index + a * k / 4, *db = da + k / 4;   /* 2 bits: 4 weights a byte */
    for (int32_t e = 0; e < k; e += 4, ++da, ++db, dst += 4) {
        const uint32_t va = *da, vb = *db;
        dst[0] = TCC_PAL_PK(ta[va & 3u], ta[(va >> 4) & 3u]);
        dst[1] = TCC_PAL_PK(tb[vb & 3u], tb[(vb >> 4) & 3u]);
        dst[2] = TCC_PAL_PK(ta[(va >> 2) & 3u], ta[va >> 6]);
        dst[3] = TCC_PAL_PK(tb[(vb >> 2) & 3u], tb[vb >> 6]);
    }
    return dst;
}

/* The pair table of table t (bits-bit indices): entry (i1 << bits) | i0 is (t[i0], t[i1]) as int16
 * lanes. */
static void tcc_pal_pair_table(const int8_t *t, int32_t bits, uint32_t *pt)
{
    const int32_t size = 1 << bits;
    for (int32_t i1 = 0; i1 < size; ++i1) {
        for (int32_t i0 = 0; i0 < size; ++i0) {
            *pt++ = TCC_PAL_PK(t[i0], t[i1]);
        }
    }
}

#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
/* Four stream words from the index words va, vb (channels a, b): the W-bit pair indices at bits
 * LO (a, b) and HI (a, b) extracted first, then 4 loads and 4 stores in a run (no address waits
 * on the extraction), at dst + OFF. */
#define TCC_PAL_PAIR_BLOCK(LO, HI, W, OFF)                                              \
    "ubfx %[i0], %[va], #" #LO ", #" #W "\n\t"                                         \
    "ubfx %[i1], %[vb], #" #LO ", #" #W "\n\t"                                         \
    "ubfx %[i2], %[va], #" #HI ", #" #W "\n\t"                                         \
    "ubfx %[i3], %[vb], #" #HI ", #" #W "\n\t"                                         \
    "ldr %[i0], [%[pa], %[i0], lsl #2]\n\t"                                          \
    "ldr %[i1], [%[pb], %[i1], lsl #2]\n\t"                                          \
    "ldr %[i2], [%[pa], %[i2], lsl #2]\n\t"                                          \
    "ldr %[i3], [%[pb], %[i3], lsl #2]\n\t"                                          \
    "str %[i0], [%[dst], #" #OFF "]\n\t"                                              \
    "str %[i1], [%[dst], #" #OFF "+4]\n\t"                                            \
    "str %[i2], [%[dst], #" #OFF "+8]\n\t"                                            \
    "str %[i3], [%[dst], #" #OFF "+12]\n\t"
/* The loop over the index words from da (db: channel b's) to end, BODY per word pair, dst
 * advancing by STEP bytes. */
#define TCC_PAL_PAIR_LOOP(BODY, STEP)                                                   \
    do {                                                                                \
        uint32_t va, vb, i0, i1, i2, i3;                                                \
        __asm__ volatile("1:\n\t"                                                      \
                         "ldr %[va], [%[da]], #4\n\t"                                  \
                         "ldr %[vb], [%[db]], #4\n\t" BODY                            \
                         "add %[dst], %[dst], #" #STEP "\n\t"                          \
                         "cmp %[da], %[end]\n\t"                                       \
                         "bne 1b"                                                       \
                         : [va] "=&r"(va), [vb] "=&r"(vb), [i0] "=&r"(i0), [i1] "=&r"(i1), \
                           [i2] "=&r"(i2), [i3] "=&r"(i3), [da] "+r"(da), [db] "+r"(db), \
                           [dst] "+r"(dst)                                              \
                         : [pa] "r"(pa), [pb] "r"(pb), [end] "r"(end)                   \
                         : "cc", "memory");                                             \
    } while (0)
#endif

/* Channels a and a + 1 as tcc_pal_decode_pair16 gives them, from indices stored in pair order
 * (compress.pair_order: each 2 * bits bits a weight pair) through their tables' pair tables
 * (per-channel tables: the two channels' built first into pt's tables 0 and 1). Whole index
 * words first (8 pairs of 4-bit indices, 16 of 2-bit), then the bytes left. */
static uint32_t *tcc_pal_decode_pairs(const tcc_wcode *w, uint32_t *pt, int32_t a, int32_t k, uint32_t *dst)
{
    const int32_t shift = 2 * w->bits, per = 8 / w->bits;           /* weights a byte */
    const int32_t ia = w->table_of != NULL ? w->table_of[a] : 0, ib = w->table_of != NULL ? w->table_of[a + 1] : w->per_channel;
    const uint32_t *pa = pt + (ia << shift), *pb = pt + (ib << shift);
    if (w->per_channel) {                             /* the two channels' tables, built here */
        tcc_pal_pair_table(w->table + (a << w->bits), w->bits, pt);
        tcc_pal_pair_table(w->table + ((a + 1) << w->bits), w->bits, pt + (1 << shift));
    }
    const uint8_t *da = w->index + a * k / per, *db = da + k / per;
    const int32_t words = k / (4 * per);
    const uint8_t *const end = da + 4 * words;
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
    if (words > 0 && w->bits == 4) {
        TCC_PAL_PAIR_LOOP(TCC_PAL_PAIR_BLOCK(0, 8, 8, 0) TCC_PAL_PAIR_BLOCK(16, 24, 8, 16), 32);
    } else if (words > 0) {
        TCC_PAL_PAIR_LOOP(TCC_PAL_PAIR_BLOCK(0, 4, 4, 0) TCC_PAL_PAIR_BLOCK(8, 12, 4, 16)
                          TCC_PAL_PAIR_BLOCK(16, 20, 4, 32) TCC_PAL_PAIR_BLOCK(24, 28, 4, 48), 64);
    }
#else
    for (; da != end; da += 4, db += 4) {             /* per word: a pair a byte (4-bit), a nibble (2-bit) */
        const uint32_t va = tcc_pal_word(da), vb = tcc_pal_word(db), m = (1u << shift) - 1u;
        for (int32_t j = 0; j < 32; j += 2 * shift, dst += 4) {
            dst[0] = pa[(va >> j) & m];
            dst[1] = pb[(vb >> j) & m];
            dst[2] = pa[(va >> (j + shift)) & m];
            dst[3] = pb[(vb >> (j + shift)) & m];
        }
    }
#endif
    for (const uint8_t *const last = da + (k - 4 * per * words) / per; da != last; ++da, ++db, dst += 4) {
        /* a group of 4 weights: two pair indices (4-bit: 2 bytes, one group needs 2) */
        const uint32_t va = w->bits == 4 ? (uint32_t)da[0] | (uint32_t)da[1] << 8 : *da;
        const uint32_t vb = w->bits == 4 ? (uint32_t)db[0] | (uint32_t)db[1] << 8 : *db, m = (1u << shift) - 1u;
        dst[0] = pa[va & m];
        dst[1] = pb[vb & m];
        dst[2] = pa[(va >> shift) & m];
        dst[3] = pb[(vb >> shift) & m];
        if (w->bits == 4) {
            ++da, ++db;
        }
    }
    return dst;
}

/* The stream of channels c0 .. c0 + g - 1 (g even) into s (wide: tcc_arm_conv8w_s8's). */
static void tcc_pal_pw8_stream(const tcc_wcode *w, const int32_t *frame, uint32_t *pt, int32_t c0, int32_t g,
                               int32_t k, int32_t wide, int32_t *s)
{
    for (int32_t c = c0; c < c0 + g; c += 2) {
        const int32_t *f = frame + 3 * c;
        s[0] = f[0];
        s[1] = f[1];
        uint32_t *d = (uint32_t *)(s + 2);
        s = (int32_t *)(pt != NULL ? tcc_pal_decode_pairs(w, pt, c, k, d)
                        : wide ? tcc_pal_decode_pair16(w, c, k, d) : tcc_pal_decode_pair8(w, c, k, d));
        memcpy(s, f + 2, 4 * sizeof *s);
        s += 4;
    }
}

/* tcc_arm_conv8w_s8 (wide) or tcc_arm_conv8_s8: only the one the model calls is compiled. */
static void tcc_pal_conv8(int32_t wide, const tcc_arm_conv8_params *q, const int8_t *in, int8_t *out, void *col)
{
    (void)wide;
#ifndef TCC_OMIT_ARM_CONV8W_S8
    if (wide) {
        tcc_arm_conv8w_s8(q, in, out, col);
        return;
    }
#endif
#ifndef TCC_OMIT_ARM_CONV8_S8
    tcc_arm_conv8_s8(q, in, out, col);
#else
    (void)q, (void)in, (void)out, (void)col;
#endif
}

void tcc_arm_palette_pw8_s8(const tcc_arm_conv8_params *p, const tcc_wcode *w, const int32_t *frame, int32_t group,
                            int32_t chunk, int32_t in_place, int32_t wide, int32_t pairs, int32_t act_min,
                            int32_t act_max, const int8_t *in, int8_t *out, void *scratch)
{
    const int32_t k = p->in_c, out_c = p->out_c, npix = p->batches * p->out_h * p->out_w;
    uint32_t *pt = pairs ? (uint32_t *)scratch : NULL;        /* the pair tables */
    int32_t *stream = (int32_t *)scratch + (pairs << (2 * w->bits));
    int8_t *res = (int8_t *)(stream + group / 2 * (6 + (wide ? 4 : 2) * p->groups));
    void *col = res + (((in_place ? out_c : group) * chunk + 3) & ~3);
    tcc_arm_conv8_params q = *p;
    q.batches = q.in_h = q.out_h = 1;
    q.stream = stream;
    for (int32_t j = 0; pt != NULL && !w->per_channel && j < pairs; ++j) {   /* per channel: per pair */
        tcc_pal_pair_table(w->table != NULL ? w->table + (j << w->bits) : tcc_pal_int4, w->bits,
                           pt + (j << (2 * w->bits)));
    }
    if (in_place) {       /* per chunk: every group decoded again (one group: once), the chunk's outputs stored last */
        if (group >= out_c) {
            tcc_pal_pw8_stream(w, frame, pt, 0, out_c, k, wide, stream);
        }
        for (int32_t q0 = 0; q0 < npix; q0 += chunk) {
            const int32_t n = TCC_MIN(chunk, npix - q0);
            q.in_w = q.out_w = n;
            for (int32_t c0 = 0; c0 < out_c; c0 += group) {
                q.out_c = TCC_MIN(group, out_c - c0);
                if (group < out_c) {
                    tcc_pal_pw8_stream(w, frame, pt, c0, q.out_c, k, wide, stream);
                }
                tcc_pal_conv8(wide, &q, in + q0 * k, res + c0 * chunk, col);
            }
            for (int32_t c0 = 0; c0 < out_c; c0 += group) {
                tcc_pal_pw8_store(res + c0 * chunk, n, TCC_MIN(group, out_c - c0), out + q0 * out_c + c0, out_c,
                                  act_min, act_max);
            }
        }
        return;
    }
    for (int32_t c0 = 0; c0 < out_c; c0 += group) {  /* per group: decoded once for all pixels */
        const int32_t g = TCC_MIN(group, out_c - c0);
        tcc_pal_pw8_stream(w, frame, pt, c0, g, k, wide, stream);
        q.out_c = g;
        for (int32_t q0 = 0; q0 < npix; q0 += chunk) {
            const int32_t n = TCC_MIN(chunk, npix - q0);
            q.in_w = q.out_w = n;
            tcc_pal_conv8(wide, &q, in + q0 * k, res, col);
            tcc_pal_pw8_store(res, n, g, out + q0 * out_c + c0, out_c, act_min, act_max);
        }
    }
}
#endif

#ifndef TCC_OMIT_ARM_PALETTE_C8_S8
/* Weight e's value (its channel's table t; NULL: INT4). */
static inline uint32_t tcc_pal_byte(const tcc_wcode *w, const int8_t *t, int32_t e)
{
    const uint32_t pos = (uint32_t)e * (uint32_t)w->bits;
    const uint32_t i = ((uint32_t)w->index[pos / 8] >> (pos & 7u)) & ((1u << w->bits) - 1u);
    return (uint32_t)(uint8_t)(t != NULL ? t[i] : tcc_pal_int4[i]);
}

void tcc_arm_palette_c8_s8(const tcc_arm_conv8_params *p, const tcc_wcode *w, const int32_t *frame,
                           const uint16_t *order, int32_t group, int32_t rows, int32_t act_min, int32_t act_max,
                           const int8_t *in, int8_t *out, void *scratch)
{
    const int32_t k = p->k_h * p->k_w * p->in_c, k4 = 4 * p->groups, out_c = p->out_c;
    const int32_t plane = p->out_h * p->out_w, span = (p->k_h - 1) * p->dil_h;
    int32_t *stream = (int32_t *)scratch;
    int8_t *res = (int8_t *)(stream + group / 2 * (6 + 2 * p->groups));
    void *col = res + ((rows * p->out_w * group + 3) & ~3);
    tcc_arm_conv8_params q = *p;
    q.batches = 1;
    q.stream = stream;
    for (int32_t c0 = 0; c0 < out_c; c0 += group) {
        const int32_t g = TCC_MIN(group, out_c - c0);
        int32_t *s = stream;
        for (int32_t c = c0; c < c0 + g; c += 2) {       /* the channels' stream, in conv8's order */
            const int32_t *f = frame + 3 * c;
            const int8_t *ta = tcc_wtable(w, c), *tb = tcc_wtable(w, c + 1);
            uint32_t *d = (uint32_t *)(s + 2);
            s[0] = f[0];
            s[1] = f[1];
            for (int32_t j = 0; j < k4; j += 4, d += 2) {
                uint32_t va[4], vb[4];
                for (int32_t t = 0; t < 4; ++t) {
                    const int32_t e = j + t < k ? order[j + t] : -1;
                    va[t] = e < 0 ? 0u : tcc_pal_byte(w, ta, c * k + e);
                    vb[t] = e < 0 ? 0u : tcc_pal_byte(w, tb, (c + 1) * k + e);
                }
                d[0] = va[0] | vb[0] << 8 | va[2] << 16 | vb[2] << 24;
                d[1] = va[1] | vb[1] << 8 | va[3] << 16 | vb[3] << 24;
            }
            s = (int32_t *)d;
            memcpy(s, f + 2, 4 * sizeof *s);
            s += 4;
        }
        q.out_c = g;
        for (int32_t b = 0; b < p->batches; ++b) {
            const int8_t *img = in + b * p->in_h * p->in_w * p->in_c;
            for (int32_t r0 = 0; r0 < p->out_h; r0 += rows) {   /* a band of output rows: a sub-image */
                const int32_t n = TCC_MIN(rows, p->out_h - r0);
                const int32_t ys = r0 * p->stride_h - p->pad_top, ye = (r0 + n - 1) * p->stride_h - p->pad_top + span;
                const int32_t y0 = TCC_MAX(ys, 0), y1 = TCC_MIN(ye, p->in_h - 1);
                q.out_h = n;
                q.pad_top = y0 - ys;
                q.in_h = y1 - y0 + 1;
                tcc_arm_conv8_s8(&q, img + y0 * p->in_w * p->in_c, res, col);
                tcc_pal_pw8_store(res, n * p->out_w, g, out + (b * plane + r0 * p->out_w) * out_c + c0, out_c,
                                  act_min, act_max);
            }
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

/* Channel oc's taps e .. e + n - 1 as int16 at dst[step * i]. */
static void tcc_pal_decode_taps(const tcc_wcode *w, int32_t oc, int32_t e, int32_t n, int16_t *dst, int32_t step)
{
    const int8_t *tab = tcc_wtable(w, oc);
    TCC_WEIGHTS(e, n, dst[step * i_] = (int16_t)v_);
}

/* The input of channels c .. c + 3 (words) with the windows' padding, its rows first .. first +
 * ph - 1 (row 0: the image's row -pad_top) and columns -pad_left .. pw - 1 - pad_left (outside the
 * image: zp4), into pad [ph][pw]. */
static void tcc_pal_dw_pad(const tcc_depthwise_s8_params *p, const int8_t *img, int32_t c, uint32_t zp4,
                           int32_t first, int32_t ph, int32_t pw, uint32_t *pad)
{
    const int32_t c_n = p->in_c, y0 = first - p->pad_top, x0 = -p->pad_left;
    const int32_t xa = TCC_MIN(TCC_MAX(-x0, 0), pw), xb = TCC_MAX(TCC_MIN(p->in_w - x0, pw), xa);
    for (int32_t y = 0; y < ph; ++y, pad += pw) {
        const int32_t iy = y0 + y;
        if (iy < 0 || iy >= p->in_h) {
            for (int32_t x = 0; x < pw; ++x) {
                pad[x] = zp4;
            }
            continue;
        }
        const int8_t *src = img + (iy * p->in_w + x0) * c_n + c;
        int32_t x = 0;
        for (; x < xa; ++x) {
            pad[x] = zp4;
        }
        for (; x < xb; ++x) {
            pad[x] = tcc_pal_word(src + x * c_n);
        }
        for (; x < pw; ++x) {
            pad[x] = zp4;
        }
    }
}

void tcc_arm_palette_dw_s8(const tcc_depthwise_s8_params *p, const tcc_wcode *w, const int32_t *frame,
                           int32_t band, const int8_t *in, int8_t *out, void *scratch)
{

    const int32_t c_n = p->in_c, taps = p->k_h * p->k_w, plane = p->out_h * p->out_w;
    const uint32_t zp4 = (uint32_t)(uint8_t)p->in_zp * 0x01010101u;
    const int32_t ph = (p->out_h - 1) * p->stride_h + (p->k_h - 1) * p->dil_h + 1;
    const int32_t pw = (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dil_w + 1;
    const int32_t row_step = p->dil_h * pw;           /* to the next row of taps */
    const int three = p->k_h == 3 && p->k_w == 3 && p->dil_h == 1 && p->dil_w == 1;
    const int32_t k_h = p->k_h, k_w = p->k_w, dil_w = p->dil_w, out_h = p->out_h, out_w = p->out_w;
    const int32_t sh = p->stride_h, sw = p->stride_w, lo = p->act_min, hi = p->act_max;
    int16_t *wk = (int16_t *)scratch;                 /* [tap][w0 w2 w1 w3] */
    const int32_t rows = band ? (p->k_h - 1) * p->dil_h + 1 : ph;   /* padded rows held */
    const int32_t rstride = band ? 4 : c_n;
    uint32_t *pad = (uint32_t *)(wk + 4 * taps);      /* [rows][pw]: the 4 channels' padded input */
    int8_t *res = (int8_t *)(pad + rows * pw);        /* band: [plane][4], the 4 channels' outputs */
    for (int32_t bt = 0; bt < p->batches; ++bt) {
        const int8_t *img = in + bt * p->in_h * p->in_w * c_n;
        int8_t *dst = out + bt * plane * c_n;
        for (int32_t c = 0; c < c_n; c += 4) {
            tcc_pal_q rq[4];                          /* the 4 channels' requantization (no frame) */
            int32_t bias[4], fm[4] = {0, 0, 0, 0}, fa[4] = {0, 0, 0, 0}, fs[4] = {0, 0, 0, 0};   /* (frame) */
            for (int32_t m = 0; m < 4; ++m) {         /* channel c + m: lane TCC_PAL_POS(m) of each tap */
                tcc_pal_decode_taps(w, c + m, (c + m) * taps, taps, wk + TCC_PAL_POS(m), 4);
                if (frame != NULL) {
                    const int32_t *f = frame + 6 * ((c + m) / 2), lane = m % 2;
                    bias[m] = f[lane];
                    fm[m] = f[2 + 2 * lane];
                    fa[m] = f[3 + 2 * lane];
                    fs[m] = tcc_pal_add_shift(fa[m]);
                } else {
                    bias[m] = p->bias[c + m];
                    tcc_pal_rq(rq + m, p->mult[c + m], p->shift[c + m], p->out_zp, p->act_min, p->act_max);
                }
            }
            /* all the 4 channels' inputs are read before any of their outputs is stored (band: the
             * outputs wait in res) */
            if (!band) {
                tcc_pal_dw_pad(p, img, c, zp4, 0, ph, pw, pad);
            }
            for (int32_t oy = 0; oy < out_h; ++oy) {
                const uint32_t *row = pad + oy * sh * pw;
                int8_t *r = dst + oy * out_w * c_n + c;
                if (band) {
                    tcc_pal_dw_pad(p, img, c, zp4, oy * sh, rows, pw, pad);
                    row = pad;
                    r = res + oy * out_w * 4;
                }
                for (int32_t ox = 0; ox < out_w; ++ox, row += sw, r += rstride) {
                    int32_t s0 = bias[0], s1 = bias[1], s2 = bias[2], s3 = bias[3];
                    const uint32_t *wt = (const uint32_t *)wk;
                    if (three) {
                        const uint32_t *r1 = row + pw, *r2 = r1 + pw;
                        TCC_PAL_DW_TAP(row[0], wt);
                        TCC_PAL_DW_TAP(row[1], wt + 2);
                        TCC_PAL_DW_TAP(row[2], wt + 4);
                        TCC_PAL_DW_TAP(r1[0], wt + 6);
                        TCC_PAL_DW_TAP(r1[1], wt + 8);
                        TCC_PAL_DW_TAP(r1[2], wt + 10);
                        TCC_PAL_DW_TAP(r2[0], wt + 12);
                        TCC_PAL_DW_TAP(r2[1], wt + 14);
                        TCC_PAL_DW_TAP(r2[2], wt + 16);
                    } else {
                        const uint32_t *px = row;
                        for (int32_t ky = 0; ky < k_h; ++ky, px += row_step) {
                            for (int32_t kx = 0; kx < k_w; ++kx, wt += 2) {
                                TCC_PAL_DW_TAP(px[kx * dil_w], wt);
                            }
                        }
                    }
                    if (frame != NULL) {
                        r[0] = tcc_pal_rq8(s0, fm[0], fa[0], fs[0], lo, hi);
                        r[1] = tcc_pal_rq8(s1, fm[1], fa[1], fs[1], lo, hi);
                        r[2] = tcc_pal_rq8(s2, fm[2], fa[2], fs[2], lo, hi);
                        r[3] = tcc_pal_rq8(s3, fm[3], fa[3], fs[3], lo, hi);
                        continue;
                    }
                    tcc_pal_out4(r, s0, s1, s2, s3, rq);
                }
            }
            for (int32_t q = 0; band && q < plane; ++q) {     /* the 4 channels' planes, all inputs read */
                memcpy(dst + q * c_n + c, res + 4 * q, 4);
            }
        }
    }
}
#endif

#if !defined(TCC_OMIT_ARM_PALETTE_DW8_S8) || !defined(TCC_OMIT_ARM_PALETTE_DW3_S8)
/* Channel c's 9 taps (ky, kx) into t[pos[ky * 3 + kx]]. */
static void tcc_pal_taps9(const tcc_wcode *w, int32_t c, const uint8_t *pos, int8_t *t)
{
    const int8_t *tab = tcc_wtable(w, c);
    if (w->bits == 4) {                               /* nibbles 9c .. 9c + 8: a word and a byte */
        const int8_t *u = tab != NULL ? tab : tcc_pal_int4;
        const uint8_t *d = w->index + 9 * c / 2;
        uint32_t x = tcc_pal_word(d), x8 = d[4];
        if (c & 1) {
            x = x >> 4 | x8 << 28;
            x8 >>= 4;
        }
        for (int32_t i = 0; i < 8; ++i, x >>= 4) {
            t[pos[i]] = u[x & 15u];
        }
        t[8] = u[x8 & 15u];                       /* the centre: 8 either way */
        return;
    }
    if (w->bits == 2) {                               /* bits 18c .. 18c + 17: 3 bytes */
        const uint8_t *d = w->index + 18 * c / 8;
        uint32_t x = ((uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16) >> (18 * c % 8);
        for (int32_t i = 0; i < 9; ++i, x >>= 2) {
            t[pos[i]] = tab[x & 3u];
        }
        return;
    }
    TCC_WEIGHTS(9 * c, 9, t[pos[i_]] = (int8_t)v_);
}

/* Where tap (ky, kx) goes: k-major rows (w[k][j]: ky = k, kx = j), or transposed (ky = j, kx = k). */
static const uint8_t tcc_pal_tap_at[2][9] = {{0, 1, 2, 3, 4, 5, 6, 7, 8}, {0, 3, 6, 1, 4, 7, 2, 5, 8}};
#endif

#ifndef TCC_OMIT_ARM_PALETTE_DW8_S8
void tcc_arm_palette_dw8_s8(const tcc_arm_dw8_s8_params *p, const tcc_wcode *w, const uint8_t *shift,
                            int32_t clamp, const int8_t *in, int8_t *out, void *scratch)
{
    const uint8_t *pos = tcc_pal_tap_at[p->transposed != 0];
    int8_t *taps = (int8_t *)scratch;
    for (int32_t c = 0; c < p->channels; ++c) {
        int8_t *t = taps + c * TCC_ARM_DW8_TAP_BYTES;
        tcc_pal_taps9(w, c, pos, t);
        t[9] = (int8_t)shift[c];
    }
    tcc_arm_dw8_s8_params q = *p;
    q.taps = taps;
    void *rest = taps + ((p->channels * TCC_ARM_DW8_TAP_BYTES + 3) & ~3);
    (void)q, (void)clamp, (void)in, (void)out, (void)rest;   /* only the kernel the model calls is compiled */
#ifndef TCC_OMIT_ARM_DW8_CLAMP_S8
    if (clamp) {
        tcc_arm_dw8_clamp_s8(&q, in, out, rest);
        return;
    }
#endif
#ifndef TCC_OMIT_ARM_DW8_S8
    tcc_arm_dw8_s8(&q, in, out, rest);
#endif
}
#endif

#ifndef TCC_OMIT_ARM_PALETTE_DW3_S8
void tcc_arm_palette_dw3_s8(const tcc_arm_depthwise3x3_s8_params *p, const tcc_wcode *w, const int32_t *head,
                            const uint8_t *scale, const int8_t *in, int8_t *out, void *scratch)
{
    const uint8_t *pos = tcc_pal_tap_at[p->transposed != 0];
    tcc_arm_dw3x3_record *rec = (tcc_arm_dw3x3_record *)scratch;
    for (int32_t c = 0; c < p->channels; ++c, head += 4) {
        int8_t t[9];
        int32_t v[9];
        tcc_pal_taps9(w, c, pos, t);
        for (int32_t i = 0; i < 9; ++i) {
            v[i] = (int32_t)((uint32_t)(int32_t)t[i] << scale[c]);
        }
        rec[c].mult = head[0];
        rec[c].add = head[1];
        rec[c].shift = head[2];
        rec[c].bias = head[3];
        for (int32_t k = 0; k < 3; ++k) {
            rec[c].w[2 * k] = TCC_PAL_PK(v[3 * k], v[3 * k + 1]);
            rec[c].w[2 * k + 1] = TCC_PAL_PK(v[3 * k + 1], v[3 * k + 2]);
        }
    }
    tcc_arm_depthwise3x3_s8_params q = *p;
    q.records = (const int32_t *)rec;
    tcc_arm_depthwise3x3_s8(&q, in, out, rec + p->channels);
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
            int32_t k = 0;
            for (; per == 1 && k + 4 <= row_bytes; k += 4, xp += 4) {   /* 4-bit: a pair a byte, 4 a word */
                const uint32_t v = tcc_pal_word(idx + k);
                acc = TCC_PAL_SMLAD(xp[0], pairs[v & 255u], acc);
                acc = TCC_PAL_SMLAD(xp[1], pairs[(v >> 8) & 255u], acc);
                acc = TCC_PAL_SMLAD(xp[2], pairs[(v >> 16) & 255u], acc);
                acc = TCC_PAL_SMLAD(xp[3], pairs[v >> 24], acc);
            }
            for (; k < row_bytes; ++k) {
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
