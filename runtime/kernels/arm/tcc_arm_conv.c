/* tinycc runtime, Cortex-M DSP: CONV_2D int8 (see tcc_arm.h for layouts and write order).
 *
 * Same semantics as tcc_conv2d_s8 (TFLite ConvPerChannel): the input zero point is folded
 * into the bias, so a padded tap reads in_zp and the loop is a plain dot product.
 *
 * Blocking: 2 output pixels x 4 output channels = 8 accumulators in registers. The 2 pixels'
 * receptive fields are expanded once to int16 in the scratch, interleaved per pair index j:
 *   col[2 * j + p] = pair j of pixel p  (pair 2g = (x[4g], x[4g+2]), 2g+1 = (x[4g+1], x[4g+3]))
 * so one LDRD gives pair j of both pixels and two LDRD give pair j of the 4 channels'
 * weights: 3 loads and 8 SMLAD per 16 MACs. An odd last pixel goes through a 1-pixel loop.
 */
#include "tcc_arm.h"
#include "tcc_arm_dsp.h"

#define PIX 2   /* output pixels per block */

/* Expand `groups` words of 4 int8 from src into one pixel's column (stride PIX words). */
TCC_ARM_INLINE uint32_t *expand_run(uint32_t *dst, const int8_t *src, int32_t groups)
{
    for (int32_t g = 0; g < groups; ++g) {
        const uint32_t v = tcc_ld32(src);
        src += 4;
        dst[0] = tcc_sxtb16(v);
        dst[PIX] = tcc_sxtb16_ror8(v);
        dst += 2 * PIX;
    }
    return dst;
}

TCC_ARM_INLINE uint32_t *fill_run(uint32_t *dst, uint32_t zpw, int32_t groups)
{
    for (int32_t g = 0; g < groups; ++g) {
        dst[0] = zpw;
        dst[PIX] = zpw;
        dst += 2 * PIX;
    }
    return dst;
}

/* Expand 2 rows of `groups` words (one per pixel) into the interleaved columns. */
static void expand2(uint32_t *col, const int8_t *s0, const int8_t *s1, int32_t groups)
{
    for (int32_t g = 0; g < groups; ++g) {
        const uint32_t v0 = tcc_ld32(s0), v1 = tcc_ld32(s1);
        s0 += 4;
        s1 += 4;
        col[0] = tcc_sxtb16(v0);
        col[1] = tcc_sxtb16(v1);
        col[2] = tcc_sxtb16_ror8(v0);
        col[3] = tcc_sxtb16_ror8(v1);
        col += 4;
    }
}

/* im2col of one output pixel straight into its column (in_c % 4 == 0). */
static void im2col_words(const tcc_arm_conv_s8_params *p, const int8_t *img, int32_t oy, int32_t ox,
                         uint32_t *dst, uint32_t zpw)
{
    const int32_t cg = p->in_c / 4;
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    const int32_t run_inside = x0 >= 0 && x0 + (p->k_w - 1) * p->dil_w < p->in_w;
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        if (y < 0 || y >= p->in_h) {
            dst = fill_run(dst, zpw, cg * p->k_w);
            continue;
        }
        const int8_t *row = img + y * p->in_w * p->in_c;
        if (run_inside && p->dil_w == 1) {
            dst = expand_run(dst, row + x0 * p->in_c, cg * p->k_w);
            continue;
        }
        for (int32_t kx = 0; kx < p->k_w; ++kx) {
            const int32_t x = x0 + kx * p->dil_w;
            if (x < 0 || x >= p->in_w) {
                dst = fill_run(dst, zpw, cg);
            } else {
                dst = expand_run(dst, row + x * p->in_c, cg);
            }
        }
    }
}

/* Copy n bytes (word loads and stores at any alignment, then the tail). */
TCC_ARM_INLINE void copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        tcc_st32(dst + i, tcc_ld32(src + i));
    }
    for (; i < n; ++i) {
        dst[i] = src[i];
    }
}

TCC_ARM_INLINE void fill_bytes(int8_t *dst, int8_t v, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = v;
    }
}

/* im2col of one output pixel into an int8 staging row (any in_c). */
static void im2col_bytes(const tcc_arm_conv_s8_params *p, const int8_t *img, int32_t oy, int32_t ox,
                         int8_t *dst)
{
    const int32_t c = p->in_c;
    const int8_t zp = (int8_t)p->in_zp;
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    const int32_t run_inside = p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    const int32_t run = p->k_w * c;
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        if (y < 0 || y >= p->in_h) {
            fill_bytes(dst, zp, run);
        } else if (run_inside) {
            copy_bytes(dst, img + (y * p->in_w + x0) * c, run);
        } else {
            const int8_t *row = img + y * p->in_w * c;
            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                const int32_t x = x0 + kx * p->dil_w;
                if (x < 0 || x >= p->in_w) {
                    fill_bytes(dst + kx * c, zp, c);
                } else {
                    copy_bytes(dst + kx * c, row + x * c, c);
                }
            }
        }
        dst += run;
    }
}

TCC_ARM_INLINE int32_t clampv(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

TCC_ARM_INLINE int32_t conv_rq(int32_t v, const tcc_arm_rq *r)
{
    return r->shift != 0 ? tcc_arm_rq_pos(v, r->mult, r->add, r->shift) : tcc_arm_rq_zero(v, r->mult, r->add);
}

/* Requantize the 2 pixels' accumulators of one channel in place (its constants loaded once). */
#define RQ2(x0, x1, rq)                                                                     \
    do {                                                                                    \
        const int32_t m_ = (rq)->mult, add_ = (rq)->add, s_ = (rq)->shift;                  \
        if (s_ != 0) {                                                                      \
            x0 = tcc_arm_rq_pos(x0, m_, add_, s_);                                          \
            x1 = tcc_arm_rq_pos(x1, m_, add_, s_);                                          \
        } else {                                                                            \
            x0 = tcc_arm_rq_zero(x0, m_, add_);                                             \
            x1 = tcc_arm_rq_zero(x1, m_, add_);                                             \
        }                                                                                   \
    } while (0)

/* One step = one pair index j: pair j of pixels 0/1 (LDRD) times pair j of channels 0..3
 * (2 LDRD): 8 SMLAD. */
#define CONV4_STEP(s)                                                                       \
    do {                                                                                    \
        uint32_t w0_, w1_, x0_, x1_;                                                        \
        TCC_LDRD(x0_, x1_, x, 2 * (s));                                                     \
        TCC_LDRD(w0_, w1_, w, 4 * (s));                                                     \
        TCC_SMLAD_ACC(a00, x0_, w0_);                                                       \
        TCC_SMLAD_ACC(a10, x1_, w0_);                                                       \
        TCC_SMLAD_ACC(a01, x0_, w1_);                                                       \
        TCC_SMLAD_ACC(a11, x1_, w1_);                                                       \
        TCC_LDRD(w0_, w1_, w, 4 * (s) + 2);                                                 \
        TCC_SMLAD_ACC(a02, x0_, w0_);                                                       \
        TCC_SMLAD_ACC(a12, x1_, w0_);                                                       \
        TCC_SMLAD_ACC(a03, x0_, w1_);                                                       \
        TCC_SMLAD_ACC(a13, x1_, w1_);                                                       \
    } while (0)
#define CONV4_ADVANCE(k) (w = tcc_arm_wadd(w, 4 * (k)), x = tcc_arm_wadd(x, 2 * (k)))

/* Four requantized, clamped values as the bytes of a word. */
TCC_ARM_INLINE uint32_t conv_pack4(int32_t v0, int32_t v1, int32_t v2, int32_t v3, const tcc_arm_rq *r,
                                   int32_t clamp, int32_t lo, int32_t hi)
{
    v0 = conv_rq(v0, &r[0]);
    v1 = conv_rq(v1, &r[1]);
    v2 = conv_rq(v2, &r[2]);
    v3 = conv_rq(v3, &r[3]);
    if (clamp) {
        v0 = clampv(v0, lo, hi);
        v1 = clampv(v1, lo, hi);
        v2 = clampv(v2, lo, hi);
        v3 = clampv(v3, lo, hi);
    }
    return tcc_bfi8_3(tcc_bfi8_2(tcc_bfi8_1((uint32_t)v0, (uint32_t)v1), (uint32_t)v2), (uint32_t)v3);
}

/* All output channels of the 2 pixels whose columns are in `col`, stored at out (2 pixels
 * of out_c bytes each). Channels 4 at a time: 8 accumulators, LDRD + 8 SMLAD steps; the loop
 * keeps only the weight pointer in a register across blocks, the rest lives on the stack
 * (volatile: gcc would otherwise keep them in registers the MAC loop needs). The last
 * out_c % 4 channels go one at a time. */
static __attribute__((noinline)) void matmul_store(const tcc_arm_conv_s8_params *p, const uint32_t *col,
                                                   int8_t *out)
{
    const int32_t npairs = p->k_packed / 2;
    /* steps: the npairs % 8 odd ones first (entered through a switch), then loops of 8; the
     * pointers start early by the skipped steps so that every step has a constant offset */
    const int32_t rem = npairs & 7;
    const int32_t skip = 8 - rem;
    const uint32_t *volatile const x_first = tcc_arm_wadd(col, -2 * skip);
    const uint32_t *volatile const x_end = tcc_arm_wadd(col, 2 * npairs);
    const int32_t volatile out_c = p->out_c;
    const int32_t volatile lo = p->act_min, hi = p->act_max;
    const int32_t volatile clamp = lo > -128 || hi < 127;
    const uint32_t *w = (const uint32_t *)p->weights;
    const int32_t *volatile bias = p->bias;
    const tcc_arm_rq *volatile rq = p->rq;
    int8_t *volatile o = out;
    int8_t *volatile const o_end = out + (out_c & ~3);
    while (o != o_end) {
        const int32_t *b = bias;
        int32_t a00 = b[0], a01 = b[1], a02 = b[2], a03 = b[3];
        int32_t a10 = a00, a11 = a01, a12 = a02, a13 = a03;
        const uint32_t *x = x_first;
        w = tcc_arm_wadd(w, -4 * skip);
        switch (rem) {
        case 7: CONV4_STEP(1); TCC_FALLTHROUGH;
        case 6: CONV4_STEP(2); TCC_FALLTHROUGH;
        case 5: CONV4_STEP(3); TCC_FALLTHROUGH;
        case 4: CONV4_STEP(4); TCC_FALLTHROUGH;
        case 3: CONV4_STEP(5); TCC_FALLTHROUGH;
        case 2: CONV4_STEP(6); TCC_FALLTHROUGH;
        case 1: CONV4_STEP(7); TCC_FALLTHROUGH;
        default: break;
        }
        CONV4_ADVANCE(8);
        while (x != x_end) {
            CONV4_STEP(0); CONV4_STEP(1); CONV4_STEP(2); CONV4_STEP(3);
            CONV4_STEP(4); CONV4_STEP(5); CONV4_STEP(6); CONV4_STEP(7);
            CONV4_ADVANCE(8);
        }
        /* w is now at the next block's weights */
        const tcc_arm_rq *r = rq;
        int8_t *d = o;
        RQ2(a00, a10, &r[0]);
        RQ2(a01, a11, &r[1]);
        RQ2(a02, a12, &r[2]);
        RQ2(a03, a13, &r[3]);
        if (clamp) {
            const int32_t l = lo, h = hi;
            a00 = clampv(a00, l, h); a01 = clampv(a01, l, h); a02 = clampv(a02, l, h); a03 = clampv(a03, l, h);
            a10 = clampv(a10, l, h); a11 = clampv(a11, l, h); a12 = clampv(a12, l, h); a13 = clampv(a13, l, h);
        }
        tcc_st32(d, tcc_bfi8_3(tcc_bfi8_2(tcc_bfi8_1((uint32_t)a00, (uint32_t)a01), (uint32_t)a02), (uint32_t)a03));
        tcc_st32(d + out_c, tcc_bfi8_3(tcc_bfi8_2(tcc_bfi8_1((uint32_t)a10, (uint32_t)a11), (uint32_t)a12),
                                       (uint32_t)a13));
        o = d + 4;
        bias = b + 4;
        rq = r + 4;
    }
    /* the last out_c % 4 channels: P[oc][0 .. npairs - 1] each */
    for (int32_t k = 0; k < (out_c & 3); ++k) {
        int32_t a0 = bias[k], a1 = a0;
        const uint32_t *x = col;
        for (int32_t j = 0; j < npairs; ++j) {
            a0 = tcc_smlad(x[0], w[j], a0);
            a1 = tcc_smlad(x[1], w[j], a1);
            x += 2;
        }
        w += npairs;
        a0 = conv_rq(a0, &rq[k]);
        a1 = conv_rq(a1, &rq[k]);
        if (clamp) {
            a0 = clampv(a0, lo, hi);
            a1 = clampv(a1, lo, hi);
        }
        o[k] = (int8_t)a0;
        o[out_c + k] = (int8_t)a1;
    }
}

/* The last pixel when the pixel count is odd (lane 0 of the columns): 4 channels at a time,
 * written straight to out. */
static void matmul_store_1px(const tcc_arm_conv_s8_params *p, const uint32_t *col, int8_t *out)
{
    const int32_t npairs = p->k_packed / 2;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t clamp = lo > -128 || hi < 127;
    const uint32_t *w = (const uint32_t *)p->weights;
    int32_t oc = 0;
    for (; oc + 4 <= p->out_c; oc += 4) {
        int32_t a0 = p->bias[oc], a1 = p->bias[oc + 1], a2 = p->bias[oc + 2], a3 = p->bias[oc + 3];
        const uint32_t *x = col;
        for (int32_t j = 0; j < npairs; ++j) {
            const uint32_t x0 = x[0];
            a0 = tcc_smlad(x0, w[0], a0);
            a1 = tcc_smlad(x0, w[1], a1);
            a2 = tcc_smlad(x0, w[2], a2);
            a3 = tcc_smlad(x0, w[3], a3);
            x += 2;
            w += 4;
        }
        tcc_st32(out + oc, conv_pack4(a0, a1, a2, a3, &p->rq[oc], clamp, lo, hi));
    }
    for (; oc < p->out_c; ++oc) {
        int32_t a0 = p->bias[oc];
        const uint32_t *x = col;
        for (int32_t j = 0; j < npairs; ++j) {
            a0 = tcc_smlad(x[0], w[0], a0);
            x += 2;
            w += 1;
        }
        a0 = conv_rq(a0, &p->rq[oc]);
        if (clamp) a0 = clampv(a0, lo, hi);
        out[oc] = (int8_t)a0;
    }
}

void tcc_arm_conv_s8(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    const int32_t kk = p->k_packed;
    uint32_t *col = (uint32_t *)scratch;                 /* PIX * kk / 2 words */
    int8_t *stage = (int8_t *)(col + PIX * (kk / 2));    /* PIX * kk bytes, in_c % 4 != 0 only */
    const int32_t words = p->in_c % 4 == 0;
    const int32_t pointwise = words && p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1
                              && p->pad_top == 0 && p->pad_left == 0
                              && p->out_h == p->in_h && p->out_w == p->in_w;
    const uint32_t zpw = tcc_splat16(p->in_zp);
    const int32_t opix = p->out_h * p->out_w;
    const int32_t total = p->batches * opix;
    const int32_t in_img = p->in_h * p->in_w * p->in_c;

    if (!words) {
        /* the padding between K and K4 multiplies zero weights; keep it defined */
        const int32_t k = p->k_h * p->k_w * p->in_c;
        for (int32_t i = 0; i < PIX; ++i) {
            for (int32_t j = k; j < kk; ++j) stage[i * kk + j] = 0;
        }
    }
    /* position of the next output pixel */
    int32_t b = 0, oy = 0, ox = 0;
    for (int32_t i = 0; i < total; i += PIX) {
        const int32_t n = total - i < PIX ? total - i : PIX;
        if (pointwise) {
            const int8_t *s0 = in + i * p->in_c;
            expand2(col, s0, n > 1 ? s0 + p->in_c : s0, p->in_c / 4);
        } else {
            for (int32_t q = 0; q < n; ++q) {
                const int8_t *img = in + b * in_img;
                if (words) {
                    im2col_words(p, img, oy, ox, col + q, zpw);
                } else {
                    im2col_bytes(p, img, oy, ox, stage + q * kk);
                }
                if (++ox == p->out_w) {
                    ox = 0;
                    if (++oy == p->out_h) {
                        oy = 0;
                        ++b;
                    }
                }
            }
            if (!words) {
                expand2(col, stage, n > 1 ? stage + kk : stage, kk / 4);
            }
        }
        if (n == PIX) {
            matmul_store(p, col, out + i * p->out_c);
        } else {
            matmul_store_1px(p, col, out + i * p->out_c);
        }
    }
}
