/* tinycc runtime, Cortex-M DSP: CONV_2D int8 (see tcc_arm.h for layouts and write order).
 *
 * Same semantics as tcc_conv2d_s8 (TFLite ConvPerChannel): the input zero point is folded
 * into the bias, so a padded tap reads in_zp and the loop is a plain dot product.
 *
 * Blocking: 4 output pixels x 2 output channels = 8 accumulators in registers. The 4 pixels'
 * receptive fields are expanded once to int16 in the scratch, interleaved per pair index j:
 *   col[4 * j + p] = pair j of pixel p  (pair 2g = (x[4g], x[4g+2]), 2g+1 = (x[4g+1], x[4g+3]))
 * so one LDRD gives pair j of two pixels and one LDRD gives pair j of both channels'
 * weights: 3 loads and 8 SMLAD per 16 MACs.
 */
#include "tcc_arm.h"
#include "tcc_arm_dsp.h"

#define PIX 4   /* output pixels per block */

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

/* Expand 4 rows of `groups` words (one per pixel) into the interleaved columns. */
static void expand4(uint32_t *col, const int8_t *s0, const int8_t *s1, const int8_t *s2,
                    const int8_t *s3, int32_t groups)
{
    for (int32_t g = 0; g < groups; ++g) {
        const uint32_t v0 = tcc_ld32(s0), v1 = tcc_ld32(s1), v2 = tcc_ld32(s2), v3 = tcc_ld32(s3);
        s0 += 4;
        s1 += 4;
        s2 += 4;
        s3 += 4;
        col[0] = tcc_sxtb16(v0);
        col[1] = tcc_sxtb16(v1);
        col[2] = tcc_sxtb16(v2);
        col[3] = tcc_sxtb16(v3);
        col[4] = tcc_sxtb16_ror8(v0);
        col[5] = tcc_sxtb16_ror8(v1);
        col[6] = tcc_sxtb16_ror8(v2);
        col[7] = tcc_sxtb16_ror8(v3);
        col += 8;
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

/* Requantize 4 accumulators of one channel in place (saturated to int8). */
#define RQ4(a0, a1, a2, a3, rq)                                                             \
    do {                                                                                    \
        const int32_t m_ = (rq)->mult, add_ = (rq)->add, s_ = (rq)->shift;                  \
        if (s_ != 0) {                                                                      \
            a0 = tcc_arm_rq_pos(a0, m_, add_, s_);                                          \
            a1 = tcc_arm_rq_pos(a1, m_, add_, s_);                                          \
            a2 = tcc_arm_rq_pos(a2, m_, add_, s_);                                          \
            a3 = tcc_arm_rq_pos(a3, m_, add_, s_);                                          \
        } else {                                                                            \
            a0 = tcc_arm_rq_zero(a0, m_, add_);                                             \
            a1 = tcc_arm_rq_zero(a1, m_, add_);                                             \
            a2 = tcc_arm_rq_zero(a2, m_, add_);                                             \
            a3 = tcc_arm_rq_zero(a3, m_, add_);                                             \
        }                                                                                   \
    } while (0)

/* One step = one pair index j: pair j of channels 0/1 (LDRD) times pair j of pixels 0..3
 * (2 LDRD): 8 SMLAD. */
#define CONV2_STEP(s)                                                                       \
    do {                                                                                    \
        uint32_t w0_, w1_, x0_, x1_;                                                        \
        TCC_LDRD(w0_, w1_, w, 2 * (s));                                                     \
        TCC_LDRD(x0_, x1_, x, 4 * (s));                                                     \
        TCC_SMLAD_ACC(a00, x0_, w0_);                                                       \
        TCC_SMLAD_ACC(a01, x0_, w1_);                                                       \
        TCC_SMLAD_ACC(a10, x1_, w0_);                                                       \
        TCC_SMLAD_ACC(a11, x1_, w1_);                                                       \
        TCC_LDRD(x0_, x1_, x, 4 * (s) + 2);                                                 \
        TCC_SMLAD_ACC(a20, x0_, w0_);                                                       \
        TCC_SMLAD_ACC(a21, x0_, w1_);                                                       \
        TCC_SMLAD_ACC(a30, x1_, w0_);                                                       \
        TCC_SMLAD_ACC(a31, x1_, w1_);                                                       \
    } while (0)
#define CONV2_ADVANCE(k) (w = tcc_arm_wadd(w, 2 * (k)), x = tcc_arm_wadd(x, 4 * (k)))

/* Odd last channel: one step = pairs j, j+1 of the channel (LDRD) times pixels 0..3. */
#define CONV1_STEP(s)                                                                       \
    do {                                                                                    \
        uint32_t w0_, w1_, x0_, x1_;                                                        \
        TCC_LDRD(w0_, w1_, w, 2 * (s));                                                     \
        TCC_LDRD(x0_, x1_, x, 8 * (s));                                                     \
        TCC_SMLAD_ACC(a0, x0_, w0_);                                                        \
        TCC_SMLAD_ACC(a1, x1_, w0_);                                                        \
        TCC_LDRD(x0_, x1_, x, 8 * (s) + 2);                                                 \
        TCC_SMLAD_ACC(a2, x0_, w0_);                                                        \
        TCC_SMLAD_ACC(a3, x1_, w0_);                                                        \
        TCC_LDRD(x0_, x1_, x, 8 * (s) + 4);                                                 \
        TCC_SMLAD_ACC(a0, x0_, w1_);                                                        \
        TCC_SMLAD_ACC(a1, x1_, w1_);                                                        \
        TCC_LDRD(x0_, x1_, x, 8 * (s) + 6);                                                 \
        TCC_SMLAD_ACC(a2, x0_, w1_);                                                        \
        TCC_SMLAD_ACC(a3, x1_, w1_);                                                        \
    } while (0)
#define CONV1_ADVANCE(k) (w = tcc_arm_wadd(w, 2 * (k)), x = tcc_arm_wadd(x, 8 * (k)))

/* All output channels of the 4 pixels whose columns are in `col`, stored at out (4 pixels
 * of out_c bytes each). Channels 2 at a time: 8 accumulators, LDRD + 8 SMLAD steps; the loop
 * keeps only the weight pointer in a register across blocks, the rest lives on the stack
 * (volatile: gcc would otherwise keep them in registers the MAC loop needs). */
static __attribute__((noinline)) void matmul_store(const tcc_arm_conv_s8_params *p, const uint32_t *col,
                                                   int8_t *out)
{
    const int32_t npairs = p->k_packed / 2;
    /* steps: the npairs % 8 odd ones first (entered through a switch), then loops of 8; the
     * pointers start early by the skipped steps so that every step has a constant offset */
    const int32_t rem = npairs & 7;
    const int32_t skip = 8 - rem;
    const uint32_t *volatile const x_first = tcc_arm_wadd(col, -4 * skip);
    const uint32_t *volatile const x_end = tcc_arm_wadd(col, 4 * npairs);
    const int32_t volatile out_c = p->out_c;
    const int32_t volatile lo = p->act_min, hi = p->act_max;
    const int32_t volatile clamp = lo > -128 || hi < 127;
    const uint32_t *w = (const uint32_t *)p->weights;
    const int32_t *volatile bias = p->bias;
    const tcc_arm_rq *volatile rq = p->rq;
    int8_t *volatile o = out;
    int8_t *volatile const o_end = out + (out_c & ~1);
    while (o != o_end) {
        const int32_t *b = bias;
        int32_t a00 = b[0], a01 = b[1];
        int32_t a10 = a00, a11 = a01, a20 = a00, a21 = a01, a30 = a00, a31 = a01;
        const uint32_t *x = x_first;
        w = tcc_arm_wadd(w, -2 * skip);
        switch (rem) {
        case 7: CONV2_STEP(1); TCC_FALLTHROUGH;
        case 6: CONV2_STEP(2); TCC_FALLTHROUGH;
        case 5: CONV2_STEP(3); TCC_FALLTHROUGH;
        case 4: CONV2_STEP(4); TCC_FALLTHROUGH;
        case 3: CONV2_STEP(5); TCC_FALLTHROUGH;
        case 2: CONV2_STEP(6); TCC_FALLTHROUGH;
        case 1: CONV2_STEP(7); TCC_FALLTHROUGH;
        default: break;
        }
        CONV2_ADVANCE(8);
        while (x != x_end) {
            CONV2_STEP(0); CONV2_STEP(1); CONV2_STEP(2); CONV2_STEP(3);
            CONV2_STEP(4); CONV2_STEP(5); CONV2_STEP(6); CONV2_STEP(7);
            CONV2_ADVANCE(8);
        }
        /* w is now at the next block's weights */
        const tcc_arm_rq *r = rq;
        RQ4(a00, a10, a20, a30, &r[0]);
        RQ4(a01, a11, a21, a31, &r[1]);
        if (clamp) {
            const int32_t l = lo, h = hi;
            a00 = clampv(a00, l, h); a10 = clampv(a10, l, h);
            a20 = clampv(a20, l, h); a30 = clampv(a30, l, h);
            a01 = clampv(a01, l, h); a11 = clampv(a11, l, h);
            a21 = clampv(a21, l, h); a31 = clampv(a31, l, h);
        }
        int8_t *d = o;
        const int32_t st = out_c;
        tcc_st16(d, tcc_bfi8_1((uint32_t)a00, (uint32_t)a01));
        tcc_st16(d + st, tcc_bfi8_1((uint32_t)a10, (uint32_t)a11));
        tcc_st16(d + 2 * st, tcc_bfi8_1((uint32_t)a20, (uint32_t)a21));
        tcc_st16(d + 3 * st, tcc_bfi8_1((uint32_t)a30, (uint32_t)a31));
        o = d + 2;
        bias = b + 2;
        rq = r + 2;
    }
    if (out_c & 1) {
        const int32_t *b = bias;
        int32_t a0 = b[0];
        int32_t a1 = a0, a2 = a0, a3 = a0;
        const uint32_t *x = col;
        TCC_UNROLL8(npairs / 2, CONV1_STEP, CONV1_ADVANCE, x, 8);
        RQ4(a0, a1, a2, a3, rq);
        if (clamp) {
            const int32_t l = lo, h = hi;
            a0 = clampv(a0, l, h); a1 = clampv(a1, l, h);
            a2 = clampv(a2, l, h); a3 = clampv(a3, l, h);
        }
        int8_t *d = o;
        const int32_t st = out_c;
        d[0] = (int8_t)a0;
        d[st] = (int8_t)a1;
        d[2 * st] = (int8_t)a2;
        d[3 * st] = (int8_t)a3;
    }
}

/* The last block when it has a single pixel (lane 0 of the columns): 2 channels at a time,
 * one SMLAD each per pair word, written straight to out. */
static void matmul_store_1px(const tcc_arm_conv_s8_params *p, const uint32_t *col, int8_t *out)
{
    const int32_t npairs = p->k_packed / 2;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t clamp = lo > -128 || hi < 127;
    const uint32_t *w = (const uint32_t *)p->weights;
    int32_t oc = 0;
    for (; oc + 2 <= p->out_c; oc += 2) {
        int32_t a0 = p->bias[oc], a1 = p->bias[oc + 1];
        const uint32_t *x = col;
        for (int32_t j = 0; j < npairs; j += 2) {
            const uint32_t x0 = x[0], x1 = x[4];
            a0 = tcc_smlad(x0, w[0], a0);
            a1 = tcc_smlad(x0, w[1], a1);
            a0 = tcc_smlad(x1, w[2], a0);
            a1 = tcc_smlad(x1, w[3], a1);
            x += 8;
            w += 4;
        }
        for (int32_t k = 0; k < 2; ++k) {
            const tcc_arm_rq *r = &p->rq[oc + k];
            int32_t v = k ? a1 : a0;
            v = r->shift != 0 ? tcc_arm_rq_pos(v, r->mult, r->add, r->shift) : tcc_arm_rq_zero(v, r->mult, r->add);
            if (clamp) v = clampv(v, lo, hi);
            out[oc + k] = (int8_t)v;
        }
    }
    if (oc < p->out_c) {
        int32_t a0 = p->bias[oc];
        const uint32_t *x = col;
        for (int32_t j = 0; j < npairs; ++j) {
            a0 = tcc_smlad(x[0], w[0], a0);
            x += 4;
            w += 1;
        }
        const tcc_arm_rq *r = &p->rq[oc];
        a0 = r->shift != 0 ? tcc_arm_rq_pos(a0, r->mult, r->add, r->shift) : tcc_arm_rq_zero(a0, r->mult, r->add);
        if (clamp) a0 = clampv(a0, lo, hi);
        out[oc] = (int8_t)a0;
    }
}

void tcc_arm_conv_s8(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    const int32_t kk = p->k_packed;
    uint32_t *col = (uint32_t *)scratch;                 /* PIX * kk / 2 words */
    int8_t *tail = (int8_t *)(col + PIX * (kk / 2));      /* PIX * out_c bytes: last block's outputs */
    int8_t *stage = tail + PIX * p->out_c;               /* PIX * kk bytes, in_c % 4 != 0 only */
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
            const int8_t *s1 = n > 1 ? s0 + p->in_c : s0;
            const int8_t *s2 = n > 2 ? s1 + p->in_c : s1;
            const int8_t *s3 = n > 3 ? s2 + p->in_c : s2;
            expand4(col, s0, s1, s2, s3, p->in_c / 4);
        } else {
            for (int32_t q = 0; q < PIX; ++q) {
                if (q < n) {
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
                } else if (words) {
                    /* unused lanes: any defined values (their outputs are not stored) */
                    fill_run(col + q, zpw, kk / 4);
                } else {
                    for (int32_t j = 0; j < kk; ++j) stage[q * kk + j] = 0;
                }
            }
            if (!words) {
                expand4(col, stage, stage + kk, stage + 2 * kk, stage + 3 * kk, kk / 4);
            }
        }
        if (n == PIX) {
            matmul_store(p, col, out + i * p->out_c);
        } else if (n == 1) {
            matmul_store_1px(p, col, out + i * p->out_c);
        } else {
            /* last, partial block: compute 4 pixels into the scratch, copy the valid ones */
            matmul_store(p, col, tail);
            for (int32_t j = 0; j < n * p->out_c; ++j) out[i * p->out_c + j] = tail[j];
        }
    }
}
