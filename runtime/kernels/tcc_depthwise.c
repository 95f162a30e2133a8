/* tinycc runtime: DEPTHWISE_CONV_2D.
 *
 * Semantics (TFLite reference DepthwiseConvPerChannel): output channel
 * oc = ic * depth_mult + m reads only input channel ic:
 *   acc = bias[oc] + sum over taps inside the image of w[ky][kx][oc] * (x[ic] - in_zp)
 *   out = clamp(requantize(acc, mult[oc], shift[oc]) + out_zp, act_min, act_max)
 * As in tcc_conv.c the zero point is folded into the bias at compile time and a
 * padded tap reads in_zp, which cancels its share of the folded term.
 *
 * Order (what lets the output share the input's memory): channel by channel, the
 * whole output plane of channel oc is computed into scratch (out_h * out_w values),
 * then stored into the output's channel-oc slots. With depth_mult == 1 every read of
 * input channel ic is done before any slot of channel ic is written, so the output
 * may lie exactly on top of the input (also for strides > 1, where the output is a
 * prefix of the input's bytes): each store lands in a consumed slot of the same channel.
 */
#include "tcc_depthwise.h"
#include "tcc_common.h"
#include "tcc_depthwise_loop.h"

#include <stddef.h>

/* int8 speed (issue 14): the output plane of one channel is split into the interior, where the
 * whole window lies inside the image (no bounds checks, the folded bias as is), and the border,
 * where each window is clipped to its inside taps [ky0, ky1) x [kx0, kx1) and the padded taps'
 * share in_zp * w is restored by summing w * (x - in_zp) from bias + in_zp * sum(w), the
 * model's own bias: both give TFLite's exact int32 sum. Taps of the channel are copied once
 * into wk (int32, so loads need no sign extension); pointers walk the input (dx: next tap in a
 * row, dy: next row of taps); 3x3 windows are written out. Windows over TCC_DW_MAX_TAPS taps
 * take the reference loop. */
#define TCC_DW_MAX_TAPS 25     /* up to 5x5 (100 B of stack) */

/* sum over rows x cols taps of w * (x - zp); w rows are w_row apart. */
static inline int32_t tcc_dw_window(const int8_t *x, const int32_t *w, int32_t rows, int32_t cols,
                                    int32_t w_row, int32_t dx, int32_t dy, int32_t zp)
{
    int32_t acc = 0;
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *xr = x + r * dy;
        const int32_t *wr = w + r * w_row;
        for (int32_t c = 0; c < cols; ++c) {
            acc += wr[c] * (xr[c * dx] - zp);
        }
    }
    return acc;
}

/* Taps [*lo, *hi) of a k-tap window starting at s (dil apart) that fall inside [0, n). */
static inline void tcc_dw_inside(int32_t s, int32_t k, int32_t dil, int32_t n, int32_t *lo, int32_t *hi)
{
    int32_t a = 0, b = k;
    while (a < k && s + a * dil < 0) ++a;
    while (b > a && s + (b - 1) * dil >= n) --b;
    *lo = a;
    *hi = b;
}

/* Outputs [*lo, *hi) (of out) whose k-tap window (start o * stride - pad, dil apart) is inside [0, n). */
static void tcc_dw_interior(int32_t n, int32_t k, int32_t dil, int32_t stride, int32_t pad, int32_t out,
                            int32_t *lo, int32_t *hi)
{
    const int32_t last = n - 1 - (k - 1) * dil + pad;   /* o * stride <= last */
    int32_t a = pad > 0 ? (pad + stride - 1) / stride : 0;
    int32_t b = last < 0 ? 0 : last / stride + 1;
    if (a > out) a = out;
    if (b > out) b = out;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

/* 3x3 taps, dilation in dx and dy: the tap loops written out, as fixed-size loops are not
 * unrolled at -O2. */
static inline int32_t tcc_dw_window3x3(const int8_t *x, const int32_t *w, int32_t dx, int32_t dy)
{
    const int8_t *x1 = x + dy, *x2 = x1 + dy;
    return w[0] * x[0] + w[1] * x[dx] + w[2] * x[2 * dx]
         + w[3] * x1[0] + w[4] * x1[dx] + w[5] * x1[2 * dx]
         + w[6] * x2[0] + w[7] * x2[dx] + w[8] * x2[2 * dx];
}

/* One output channel's requantization (copied out of the params, which an int8 store may alias). */
typedef struct {
    int32_t mult, shift, out_zp, act_min, act_max;
} tcc_dw_requant;

static inline int8_t tcc_dw_out(const tcc_dw_requant *q, int32_t acc)
{
    return (int8_t)tcc_clamp(tcc_requantize(acc, q->mult, q->shift) + q->out_zp, q->act_min, q->act_max);
}

/* One output row's interior, n outputs: x points at the first window's top-left tap, step
 * apart; the sum starts at the folded bias. */
static int8_t *tcc_dw_row(const tcc_dw_requant *q, int8_t *t, const int8_t *x, const int32_t *wk,
                          int32_t k_h, int32_t k_w, int32_t n, int32_t dx, int32_t dy, int32_t step, int32_t bias)
{
    const tcc_dw_requant r = *q;
    if (k_h == 3 && k_w == 3) {
        for (int32_t i = 0; i < n; ++i) {
            *t++ = tcc_dw_out(&r, bias + tcc_dw_window3x3(x + i * step, wk, dx, dy));
        }
    } else {
        for (int32_t i = 0; i < n; ++i) {
            *t++ = tcc_dw_out(&r, bias + tcc_dw_window(x + i * step, wk, k_h, k_w, k_w, dx, dy, 0));
        }
    }
    return t;
}

/* Any window size, bounds checked per tap (TFLite's loop): windows over TCC_DW_MAX_TAPS taps. */
static void tcc_dw_plane_any(const tcc_depthwise_s8_params *p, const int8_t *img, int32_t ic, int32_t oc, int8_t *t)
{
    const int32_t out_c = p->in_c * p->depth_mult;
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            int32_t acc = p->bias[oc];
            for (int32_t ky = 0; ky < p->k_h; ++ky) {
                const int32_t y = y0 + ky * p->dil_h;
                const int row_in = y >= 0 && y < p->in_h;
                for (int32_t kx = 0; kx < p->k_w; ++kx) {
                    const int32_t x = x0 + kx * p->dil_w;
                    const int32_t w = p->weights[(ky * p->k_w + kx) * out_c + oc];
                    acc += w * ((row_in && x >= 0 && x < p->in_w) ? img[(y * p->in_w + x) * p->in_c + ic] : p->in_zp);
                }
            }
            *t++ = (int8_t)tcc_clamp(tcc_requantize(acc, p->mult[oc], p->shift[oc]) + p->out_zp,
                                     p->act_min, p->act_max);
        }
    }
}

/* Channel oc's output plane (input channel ic of image img) into t, interior and border apart. */
static void tcc_dw_plane(const tcc_depthwise_s8_params *p, const int8_t *img, int32_t ic, int32_t oc, int8_t *t)
{
    const int32_t out_c = p->in_c * p->depth_mult, k_h = p->k_h, k_w = p->k_w;
    const int32_t dx = p->dil_w * p->in_c, dy = p->dil_h * p->in_w * p->in_c, step = p->stride_w * p->in_c;
    const int32_t bias = p->bias[oc];
    const tcc_dw_requant q = {p->mult[oc], p->shift[oc], p->out_zp, p->act_min, p->act_max};
    int32_t wk[TCC_DW_MAX_TAPS];
    int32_t wsum = 0;
    for (int32_t k = 0; k < k_h * k_w; ++k) {
        wk[k] = p->weights[k * out_c + oc];
        wsum += wk[k];
    }
    const int32_t bias_model = bias + p->in_zp * wsum;   /* the border sums x - in_zp */
    int32_t oy0, oy1, ox0, ox1;
    tcc_dw_interior(p->in_h, k_h, p->dil_h, p->stride_h, p->pad_top, p->out_h, &oy0, &oy1);
    tcc_dw_interior(p->in_w, k_w, p->dil_w, p->stride_w, p->pad_left, p->out_w, &ox0, &ox1);
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int inner_row = oy >= oy0 && oy < oy1;
        int32_t ky0, ky1;
        tcc_dw_inside(y0, k_h, p->dil_h, p->in_h, &ky0, &ky1);
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            if (inner_row && ox == ox0 && ox1 > ox0) {
                const int8_t *x = img + (y0 * p->in_w + ox0 * p->stride_w - p->pad_left) * p->in_c + ic;
                t = tcc_dw_row(&q, t, x, wk, k_h, k_w, ox1 - ox0, dx, dy, step, bias);
                ox = ox1 - 1;
                continue;
            }
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            int32_t kx0, kx1;
            tcc_dw_inside(x0, k_w, p->dil_w, p->in_w, &kx0, &kx1);
            int32_t acc = bias_model;
            if (ky1 > ky0 && kx1 > kx0) {
                const int8_t *x = img + ((y0 + ky0 * p->dil_h) * p->in_w + x0 + kx0 * p->dil_w) * p->in_c + ic;
                acc += tcc_dw_window(x, wk + ky0 * k_w + kx0, ky1 - ky0, kx1 - kx0, k_w, dx, dy, p->in_zp);
            }
            *t++ = tcc_dw_out(&q, acc);
        }
    }
}

void tcc_depthwise_s8(const tcc_depthwise_s8_params *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    const int32_t out_c = p->in_c * p->depth_mult;
    const int32_t plane = p->out_h * p->out_w;
    const int fits = p->k_h * p->k_w <= TCC_DW_MAX_TAPS;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * p->in_c;
        int8_t *dst = out + b * plane * out_c;
        for (int32_t ic = 0; ic < p->in_c; ++ic) {
            for (int32_t m = 0; m < p->depth_mult; ++m) {
                const int32_t oc = ic * p->depth_mult + m;
                if (fits) {
                    tcc_dw_plane(p, img, ic, oc, scratch);
                } else {
                    tcc_dw_plane_any(p, img, ic, oc, scratch);
                }
                for (int32_t q = 0; q < plane; ++q) {
                    dst[q * out_c + oc] = scratch[q];
                }
            }
        }
    }
}

#ifndef TCC_OMIT_DEPTHWISE_S16  /* tinycc defines it when no op calls it */
/* 16x8 (reference_integer_ops::DepthwiseConvPerChannel for int16): zero points are 0, so padded
 * taps add nothing; the sum is in the bias type (tcc_requantize_acc), the bias added last. Same
 * order and scratch as tcc_depthwise_s8 (the loop nest: TCC_DW_LOOP, tcc_depthwise_loop.h). */
#define TCC_DW_S16_TAP(w, at) ((int32_t)(w) * img[at])

void tcc_depthwise_s16(const tcc_depthwise_s16_params *p, const int16_t *in, int16_t *out, int16_t *scratch)
{
    TCC_DW_LOOP(int16_t, int16_t, int64_t, p, in, out, scratch, , 0, TCC_DW_S16_TAP,
                (int16_t)tcc_clamp(tcc_requantize_acc(p->bias != NULL ? acc + p->bias[oc] : acc, p->mult[oc],
                                                      p->shift[oc], p->acc64), p->act_min, p->act_max));
}
#endif

/* Float: out = clamp(sum over inside taps (ky, kx order) of x * w, then + bias), the order of
 * TFLite Micro's reference kernel; with bias_first the sum starts at the bias instead, the order
 * of TFLite's optimized kernel (used for hybrid models, whose reference is TFLite). Same
 * channel-plane order as the int8 kernel. */
#define TCC_DW_F32_TAP(w, at) (img[at] * (w))
#define TCC_DW_F32_BIAS (p->bias != NULL ? p->bias[oc] : 0.0f)

void tcc_depthwise_f32(const tcc_depthwise_f32_params *p, const float *in, float *out, float *scratch)
{
    TCC_DW_LOOP(float, float, float, p, in, out, scratch, , p->bias_first ? TCC_DW_F32_BIAS : 0.0f, TCC_DW_F32_TAP,
                tcc_clampf(p->bias_first ? acc : acc + TCC_DW_F32_BIAS, p->act_min, p->act_max));
}
