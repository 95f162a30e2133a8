/* tinycc runtime, Cortex-M DSP kernels: 16x8 CONV_2D / FULLY_CONNECTED (tcc_arm_conv_s16) and
 * DEPTHWISE_CONV_2D (tcc_arm_dw_s16), bit-exact with tcc_conv2d_s16, tcc_fully_connected_s16
 * and tcc_depthwise_s16.
 *
 * The int8 weights are widened to int16 at compile time (tcc_arm_s16.h), so one LDR gives the
 * pair of weights one SMLAD (conv) or SMLABB + SMLATT (depthwise) multiplies with a pair of
 * int16 activations read by one LDR. No im2col: the conv sums, for each output pixel and block
 * of 4 output channels, the taps inside the image (a run of k_w' * in_c contiguous activations
 * and weights per filter row: zero points are 0, so the padded taps add nothing). The sums are
 * int32: tinycc checks at build time that 32768 * sum |w| of every output channel stays below
 * 2^31; the bias (int64) is added after, and the requantization is the plain kernels'
 * (tcc_requantize_acc). Output pixels in order, each written after its inputs were read; the
 * output never shares memory with the input.
 */
#include "tcc_arm_s16.h"

#include "tcc_arm_dsp.h"
#include "tcc_arm_g8.h"
#include "tcc_common.h"

#if !defined(TCC_OMIT_ARM_CONV_S16) || !defined(TCC_OMIT_ARM_CONV_S16_IM2COL) || !defined(TCC_OMIT_ARM_FC_S16) || \
    !defined(TCC_OMIT_ARM_DW_S16) || !defined(TCC_OMIT_ARM_DW_S16_PLANES)
/* The plain kernels' requantization (out of line: rarely used, and long). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int32_t tcc_arm_s16_rq_plain(const tcc_arm_s16_params *p, int32_t acc, int32_t oc)
{
    return tcc_requantize_acc((int64_t)acc + p->bias[oc], p->mult[oc], p->shift[oc], p->acc64);
}
#endif

/* Channel c's value from its sum acc: SMMLAR of acc plus its bias with its multiplier (rq), or
 * the plain requantization (rq NULL), clamped to [lo, hi]. The kernels declare TCC_ARM_S16_OUTS
 * (the params' fields in locals: gcc keeps them in registers or one stack slot each). */
#define TCC_ARM_S16_OUTS const int32_t lo = p->act_min, hi = p->act_max, *rq = p->rq
#define TCC_ARM_S16_OUT(acc, c)                                                                    \
    ((int16_t)tcc_clamp(rq != NULL ? tcc_smmlar((acc) + rq[2 * (c)], rq[2 * (c) + 1], 0)            \
                                   : tcc_arm_s16_rq_plain(p, (acc), (c)), lo, hi))
/* The same where rq is known and the bias is in acc (tcc_arm_fc8_s16). */
#define TCC_ARM_S16_OUT_RQ(acc, c) ((int16_t)tcc_clamp(tcc_smmlar((acc), rq[2 * (c) + 1], 0), lo, hi))

/* The values of channels oc .. oc + n - 1 (n <= 4) from a0 .. a3. */
#define TCC_ARM_S16_STORE4(out, oc, n)                                                             \
    do {                                                                                           \
        (out)[oc] = TCC_ARM_S16_OUT(a0, oc);                                                       \
        if ((n) > 1) (out)[(oc) + 1] = TCC_ARM_S16_OUT(a1, (oc) + 1);                              \
        if ((n) > 2) (out)[(oc) + 2] = TCC_ARM_S16_OUT(a2, (oc) + 2);                              \
        if ((n) > 3) (out)[(oc) + 3] = TCC_ARM_S16_OUT(a3, (oc) + 3);                              \
    } while (0)

#ifndef TCC_OMIT_ARM_CONV_S16  /* tinycc defines it when no op calls it */
/* Per output
 * pixel, the window's rows inside the image (ky0 .. ky1) and columns (kx0 .. kx1), then per block
 * of 4 channels the sum over those rows of one run of (kx1 - kx0) * in_c activations each. */
void tcc_arm_conv_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out)
{
    TCC_ARM_S16_OUTS;
    const int32_t ci = p->in_c, kw = p->k_w, out_c = p->out_c;
    const int32_t block_words = p->k_h * kw * ci / 2 * TCC_ARM_S16_ROWS;
    const int32_t x_row = p->in_w * ci, w_row = kw * ci / 2 * TCC_ARM_S16_ROWS;
    const uint32_t *wts = (const uint32_t *)p->weights;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *img = in + b * p->in_h * x_row;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t ky0 = TCC_ARM_MAX(0, -y0), rows = TCC_ARM_MIN(p->k_h, p->in_h - y0) - ky0;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kx0 = TCC_ARM_MAX(0, -x0), kx1 = TCC_ARM_MIN(kw, p->in_w - x0);
                const int32_t pairs = kx1 > kx0 ? (kx1 - kx0) * ci / 2 : 0;
                const int32_t n8 = pairs >> 3, n4 = (pairs >> 2) & 1, n1 = pairs & 3;
                const int32_t x_skip = x_row - 2 * pairs, w_skip = w_row - TCC_ARM_S16_ROWS * pairs;   /* next row */
                const int16_t *x_first = img + ((y0 + ky0) * p->in_w + x0 + kx0) * ci;
                const uint32_t *w_first = wts + (ky0 * kw + kx0) * ci / 2 * TCC_ARM_S16_ROWS;
                for (int32_t oc = 0; oc < out_c; oc += TCC_ARM_S16_ROWS, w_first += block_words) {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    const int16_t *x = x_first;
                    const uint32_t *w = w_first;
                    for (int32_t r = rows; r > 0; --r, x += x_skip, w += w_skip) {
                        TCC_ARM_S16_DOT4_8(x, w, n8, n4, n1);
                    }
                    if (oc + 4 <= out_c) {
                        TCC_ARM_S16_STORE4(out, oc, 4);
                    } else {
                        TCC_ARM_S16_STORE4(out, oc, out_c - oc);
                    }
                }
                out += out_c;
            }
        }
    }
}
#endif

#ifndef TCC_OMIT_ARM_CONV_S16_IM2COL  /* tinycc defines it when no op calls it */
/* A CONV_2D of any input depth: per output pixel, its window gathered into the scratch (k_h x
 * k_w x in_c values, zeros outside the image, one more zero when that count is odd), then per
 * block of 4 channels the dot products with the rows of the weights (K = the even count). */
void tcc_arm_conv_s16_im2col(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out, int16_t *col)
{
    TCC_ARM_S16_OUTS;
    const int32_t ci = p->in_c, kh = p->k_h, kw = p->k_w, out_c = p->out_c;
    const int32_t k = (kh * kw * ci + 1) & ~1, pairs = k >> 1;
    const int32_t n8 = pairs >> 3, n4 = (pairs >> 2) & 1, n1 = pairs & 3;
    col[k - 1] = 0;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *img = in + b * p->in_h * p->in_w * ci;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kx0 = TCC_ARM_MAX(0, -x0), kx1 = TCC_ARM_MIN(kw, p->in_w - x0);
                const int32_t left = kx0 * ci, run = kx1 > kx0 ? (kx1 - kx0) * ci : 0, row = kw * ci;
                int16_t *c = col;
                for (int32_t ky = 0; ky < kh; ++ky, c += row) {
                    const int32_t y = y0 + ky;
                    int32_t j = 0;
                    if (y >= 0 && y < p->in_h) {    /* the row's taps inside the image, in one run */
                        const int16_t *src = img + (y * p->in_w + x0 + kx0) * ci;
                        for (; j < left; ++j) {
                            c[j] = 0;
                        }
                        for (int32_t i = 0; i < run; ++i) {
                            c[j + i] = src[i];
                        }
                        j += run;
                    }
                    for (; j < row; ++j) {
                        c[j] = 0;
                    }
                }
                const uint32_t *w = (const uint32_t *)p->weights;
                for (int32_t oc = 0; oc < out_c; oc += TCC_ARM_S16_ROWS) {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    const int16_t *x = col;
                    TCC_ARM_S16_DOT4_8(x, w, n8, n4, n1);
                    TCC_ARM_S16_STORE4(out, oc, out_c - oc);
                }
                out += out_c;
            }
        }
    }
}
#endif

#ifndef TCC_OMIT_ARM_FC_S16  /* tinycc defines it when no op calls it */
/* Per batch row and block of 4 outputs: the dot products with the whole row. */
void tcc_arm_fc_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out)
{
    TCC_ARM_S16_OUTS;
    const int32_t depth = p->in_c, out_c = p->out_c;
    for (int32_t b = 0; b < p->batches; ++b, in += depth, out += out_c) {
        const uint32_t *w = (const uint32_t *)p->weights;
        for (int32_t oc = 0; oc < out_c; oc += TCC_ARM_S16_ROWS) {
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            const int16_t *x = in;
            TCC_ARM_S16_PASSES8(x, w, depth >> 4);
            for (int32_t k = (depth >> 1) & 7; k > 0; --k, x += 2, w += 4) {
                TCC_ARM_S16_PAIR(0, 0);
            }
            TCC_ARM_S16_STORE4(out, oc, out_c - oc);
        }
    }
}
#endif

#ifndef TCC_OMIT_ARM_FC8_S16  /* tinycc defines it when no op calls it */
/* The FULLY_CONNECTED on int8 weights (tcc_arm_g8.h's layout for int16 activations read as they
 * are: per block of 4 output channels their int32 biases, then per group of 4 inputs their 4
 * words, bytes k0, k2, k1, k3): per block the 4 dot products from the biases over the row's whole
 * groups, then its last 1 to 3 inputs (zero-padded, made once a row), each sum requantized by its
 * SMMLAR multiplier (rq: {0, m} per channel, the bias being in the sums). */
void tcc_arm_fc8_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out)
{
    const int32_t depth = p->in_c, out_c = p->out_c, whole = depth >> 2, rest = depth & 3;
    TCC_ARM_S16_OUTS;
    for (int32_t b = 0; b < p->batches; ++b, in += depth, out += out_c) {
        const uint32_t *w = (const uint32_t *)p->weights;
        const int16_t *tail = in + 4 * whole;
        int16_t last[4] = {0, 0, 0, 0};
        if (rest > 0) last[0] = tail[0];
        if (rest > 1) last[1] = tail[1];
        if (rest > 2) last[2] = tail[2];
        for (int32_t oc = 0; oc < out_c; oc += TCC_ARM_S16_ROWS) {
            int32_t a0, a1, a2, a3;
            const uint32_t *x = (const uint32_t *)(const void *)in;
            TCC_ARM_G8_GROUPS(x, w, whole);
            if (rest) {
                const uint32_t *t = (const uint32_t *)(void *)last;
                TCC_ARM_G8_STEP(t, w);
            }
            out[oc] = TCC_ARM_S16_OUT_RQ(a0, oc);
            if (out_c - oc >= 4) {
                out[oc + 1] = TCC_ARM_S16_OUT_RQ(a1, oc + 1);
                out[oc + 2] = TCC_ARM_S16_OUT_RQ(a2, oc + 2);
                out[oc + 3] = TCC_ARM_S16_OUT_RQ(a3, oc + 3);
            } else {        /* the last block's channels */
                if (out_c - oc > 1) out[oc + 1] = TCC_ARM_S16_OUT_RQ(a1, oc + 1);
                if (out_c - oc > 2) out[oc + 2] = TCC_ARM_S16_OUT_RQ(a2, oc + 2);
            }
        }
    }
}
#endif

#if !defined(TCC_OMIT_ARM_DW_S16) || !defined(TCC_OMIT_ARM_DW_S16_PLANES)
/* One filter tap (xp, wp: the tap's activations and weights) of 4 channels (TCC_ARM_DW16_4: pair
 * words at byte offsets 0 and 4, loads first) or 2 (TCC_ARM_DW16_2); then xp and wp move to the
 * next tap of the row. */
#define TCC_ARM_DW16_4()                                                                           \
    uint32_t xa_, xb_, wa_, wb_;                                                                   \
    TCC_LDR_ANY(xa_, xp, 0);                                                                       \
    TCC_LDR_ANY(xb_, xp, 4);                                                                       \
    TCC_LDR_ANY(wa_, wp, 0);                                                                       \
    TCC_LDR_ANY(wb_, wp, 4);                                                                       \
    TCC_SMLABB_ACC(a0, xa_, wa_);                                                                  \
    TCC_SMLATT_ACC(a1, xa_, wa_);                                                                  \
    TCC_SMLABB_ACC(a2, xb_, wb_);                                                                  \
    TCC_SMLATT_ACC(a3, xb_, wb_)
#define TCC_ARM_DW16_2()                                                                           \
    uint32_t xa_, wa_;                                                                             \
    TCC_LDR_ANY(xa_, xp, 0);                                                                       \
    TCC_LDR_ANY(wa_, wp, 0);                                                                       \
    TCC_SMLABB_ACC(a0, xa_, wa_);                                                                  \
    TCC_SMLATT_ACC(a1, xa_, wa_)
#define TCC_ARM_DW16_1() a0 += (int32_t)xp[0] * wp[0]
#define TCC_ARM_DW16_TAP(LANES)                                                                    \
    do {                                                                                           \
        LANES();                                                                                   \
        xp += ch;                                                                                  \
        wp += ch;                                                                                  \
    } while (0)

/* The window of output pixel (oy, ox): its rows inside the image (TCC_ARM_DW16_ROWS, per output
 * row), its first tap's activations and weights (x_first, w_first; channel 0), its taps per row
 * inside the image, and the steps from a row's last tap to the next row's first (x_skip, w_skip). */
#define TCC_ARM_DW16_ROWS                                                                          \
    const int32_t y0 = oy * p->stride_h - p->pad_top;                                              \
    const int32_t ky0 = TCC_ARM_MAX(0, -y0), rows = TCC_ARM_MIN(p->k_h, p->in_h - y0) - ky0
#define TCC_ARM_DW16_WINDOW                                                                        \
    const int32_t x0 = ox * p->stride_w - p->pad_left;                                             \
    const int32_t kx0 = TCC_ARM_MAX(0, -x0), taps = TCC_ARM_MIN(kw, p->in_w - x0) - kx0;           \
    const int16_t *x_first = img + ((y0 + ky0) * p->in_w + x0 + kx0) * ch;                         \
    const int16_t *w_first = wts + (ky0 * kw + kx0) * ch;                                          \
    const int32_t x_skip = x_row - taps * ch, w_skip = (kw - taps) * ch
#endif

#ifndef TCC_OMIT_ARM_DW_S16_PLANES  /* tinycc defines it when no op calls it */
/* The depthwise conv in the plain kernel's order (the output may then share the input's memory
 * as tcc_depthwise.c's does): per channel, every output pixel's sum into the scratch plane
 * (out_h x out_w int16), then the plane into that channel's slots. */
void tcc_arm_dw_s16_planes(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out, int16_t *plane)
{
    TCC_ARM_S16_OUTS;
    const int32_t ch = p->in_c, kw = p->k_w, x_row = p->in_w * ch, pixels = p->out_h * p->out_w;
    const int16_t *wts = (const int16_t *)(const void *)p->weights;
    for (int32_t b = 0; b < p->batches; ++b, out += pixels * ch) {
        const int16_t *img = in + b * p->in_h * x_row;
        for (int32_t c = 0; c < ch; ++c) {
            int16_t *q = plane;
            for (int32_t oy = 0; oy < p->out_h; ++oy) {
                TCC_ARM_DW16_ROWS;
                for (int32_t ox = 0; ox < p->out_w; ++ox) {
                    TCC_ARM_DW16_WINDOW;
                    int32_t a0 = 0;
                    const int16_t *xp = x_first + c, *wp = w_first + c;
                    if (taps == 3) {    /* a 3-wide window inside the image: one row's taps at once */
                        for (int32_t r = rows; r > 0; --r, xp += x_row, wp += kw * ch) {
                            a0 += xp[0] * wp[0] + xp[ch] * wp[ch] + xp[2 * ch] * wp[2 * ch];
                        }
                    } else {
                        for (int32_t r = rows; r > 0; --r, xp += x_skip, wp += w_skip) {
                            for (int32_t t = taps; t > 0; --t) {
                                TCC_ARM_DW16_TAP(TCC_ARM_DW16_1);
                            }
                        }
                    }
                    *q++ = TCC_ARM_S16_OUT(a0, c);
                }
            }
            int16_t *dst = out + c;
            q = plane;
            for (int32_t k = pixels; k > 0; --k, dst += ch) {
                *dst = *q++;
            }
        }
    }
}
#endif

#ifndef TCC_OMIT_ARM_DW_S16  /* tinycc defines it when no op calls it */
/* Per output pixel, the window's taps inside the image, then per group of 4 channels (then a
 * pair, then a last channel) the sums over those taps. */
void tcc_arm_dw_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out)
{
    TCC_ARM_S16_OUTS;
    const int32_t ch = p->in_c, kw = p->k_w;
    const int32_t x_row = p->in_w * ch;
    const int16_t *wts = (const int16_t *)(const void *)p->weights;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *img = in + b * p->in_h * x_row;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            TCC_ARM_DW16_ROWS;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                TCC_ARM_DW16_WINDOW;
                int32_t c = 0;
                for (; c + 4 <= ch; c += 4) {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    const int16_t *xp = x_first + c, *wp = w_first + c;
                    for (int32_t r = rows; r > 0; --r, xp += x_skip, wp += w_skip) {
                        for (int32_t t = taps; t > 0; --t) {
                            TCC_ARM_DW16_TAP(TCC_ARM_DW16_4);
                        }
                    }
                    out[c] = TCC_ARM_S16_OUT(a0, c);
                    out[c + 1] = TCC_ARM_S16_OUT(a1, c + 1);
                    out[c + 2] = TCC_ARM_S16_OUT(a2, c + 2);
                    out[c + 3] = TCC_ARM_S16_OUT(a3, c + 3);
                }
                if (c + 2 <= ch) {  /* a pair after the groups of 4 */
                    int32_t a0 = 0, a1 = 0;
                    const int16_t *xp = x_first + c, *wp = w_first + c;
                    for (int32_t r = rows; r > 0; --r, xp += x_skip, wp += w_skip) {
                        for (int32_t t = taps; t > 0; --t) {
                            TCC_ARM_DW16_TAP(TCC_ARM_DW16_2);
                        }
                    }
                    out[c] = TCC_ARM_S16_OUT(a0, c);
                    out[c + 1] = TCC_ARM_S16_OUT(a1, c + 1);
                    c += 2;
                }
                if (c < ch) {       /* the last channel of an odd count */
                    int32_t a0 = 0;
                    const int16_t *xp = x_first + c, *wp = w_first + c;
                    for (int32_t r = rows; r > 0; --r, xp += x_skip, wp += w_skip) {
                        for (int32_t t = taps; t > 0; --t) {
                            TCC_ARM_DW16_TAP(TCC_ARM_DW16_1);
                        }
                    }
                    out[c] = TCC_ARM_S16_OUT(a0, c);
                }
                out += ch;
            }
        }
    }
}
#endif
