/* tinycc runtime: CONV_2D.
 *
 * Semantics (TFLite reference ConvPerChannel): for every output pixel and channel,
 *   acc = bias[oc] + sum over taps inside the image of w * (x - in_zp)
 *   out = clamp(requantize(acc, mult[oc], shift[oc]) + out_zp, act_min, act_max)
 * Taps outside the image contribute nothing. tinycc folds the zero point into the
 * bias at compile time (bias' = bias - in_zp * sum(w)), so the inner loop is a plain
 * sum of w * x; a padded tap must then read x = in_zp, which makes its w * x cancel
 * the folded term exactly. Groups: input channel block g feeds output channels
 * [g * out_c / groups, (g + 1) * out_c / groups).
 *
 * Order (what lets the output share the input's memory): pixel by pixel in row-major
 * order; all out_c values of a pixel are computed into scratch before the pixel is
 * stored, so a stored pixel never clobbers input its own channels still read.
 */
#include "tcc_conv.h"
#include "tcc_common.h"

#include <stddef.h>

void tcc_conv2d_s8(const tcc_conv2d_s8_params *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    const int32_t groups = p->in_c / p->k_c;
    const int32_t oc_per_group = p->out_c / groups;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    const int32_t ic0 = (oc / oc_per_group) * p->k_c;
                    const int8_t *w = p->weights + oc * p->k_h * p->k_w * p->k_c;
                    int32_t acc = p->bias[oc];
                    for (int32_t ky = 0; ky < p->k_h; ++ky) {
                        const int32_t y = y0 + ky * p->dil_h;
                        const int row_in = y >= 0 && y < p->in_h;
                        for (int32_t kx = 0; kx < p->k_w; ++kx) {
                            const int32_t x = x0 + kx * p->dil_w;
                            const int8_t *wk = w + (ky * p->k_w + kx) * p->k_c;
                            if (row_in && x >= 0 && x < p->in_w) {
                                const int8_t *px = img + (y * p->in_w + x) * p->in_c + ic0;
                                for (int32_t c = 0; c < p->k_c; ++c) {
                                    acc += (int32_t)wk[c] * px[c];
                                }
                            } else {
                                for (int32_t c = 0; c < p->k_c; ++c) {
                                    acc += (int32_t)wk[c] * p->in_zp;
                                }
                            }
                        }
                    }
                    acc = tcc_requantize(acc, p->mult[oc], p->shift[oc]) + p->out_zp;
                    scratch[oc] = (int8_t)tcc_clamp(acc, p->act_min, p->act_max);
                }
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    *out++ = scratch[oc];
                }
            }
        }
    }
}

#ifndef TCC_OMIT_CONV2D_S16  /* tinycc defines it when no op calls it */
/* 16x8 (reference_integer_ops::ConvPerChannel for int16): zero points are 0, so padded taps add
 * nothing; the sum is in the bias type (tcc_requantize_acc), the bias added last. Same order
 * and scratch as tcc_conv2d_s8. */
void tcc_conv2d_s16(const tcc_conv2d_s16_params *p, const int16_t *in, int16_t *out, int16_t *scratch)
{
    const int32_t groups = p->in_c / p->k_c;
    const int32_t oc_per_group = p->out_c / groups;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *img = in + b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    const int32_t ic0 = (oc / oc_per_group) * p->k_c;
                    const int8_t *w = p->weights + oc * p->k_h * p->k_w * p->k_c;
                    int64_t acc = 0;
                    for (int32_t ky = 0; ky < p->k_h; ++ky) {
                        const int32_t y = y0 + ky * p->dil_h;
                        if (y < 0 || y >= p->in_h) continue;
                        for (int32_t kx = 0; kx < p->k_w; ++kx) {
                            const int32_t x = x0 + kx * p->dil_w;
                            if (x < 0 || x >= p->in_w) continue;
                            const int8_t *wk = w + (ky * p->k_w + kx) * p->k_c;
                            const int16_t *px = img + (y * p->in_w + x) * p->in_c + ic0;
                            for (int32_t c = 0; c < p->k_c; ++c) {
                                acc += (int32_t)wk[c] * px[c];
                            }
                        }
                    }
                    if (p->bias != NULL) acc += p->bias[oc];
                    scratch[oc] = (int16_t)tcc_clamp(tcc_requantize_acc(acc, p->mult[oc], p->shift[oc], p->acc64),
                                                     p->act_min, p->act_max);
                }
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    *out++ = scratch[oc];
                }
            }
        }
    }
}
#endif

/* Float: out = clamp(sum over inside taps (ky, kx, c in that order) of x * w, then + bias). */
void tcc_conv2d_f32(const tcc_conv2d_f32_params *p, const float *in, float *out, float *scratch)
{
    const int32_t groups = p->in_c / p->k_c;
    const int32_t oc_per_group = p->out_c / groups;
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *img = in + b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    const int32_t ic0 = (oc / oc_per_group) * p->k_c;
                    const float *w = p->weights + oc * p->k_h * p->k_w * p->k_c;
                    float acc = 0.0f;
                    for (int32_t ky = 0; ky < p->k_h; ++ky) {
                        const int32_t y = y0 + ky * p->dil_h;
                        if (y < 0 || y >= p->in_h) continue;
                        for (int32_t kx = 0; kx < p->k_w; ++kx) {
                            const int32_t x = x0 + kx * p->dil_w;
                            if (x < 0 || x >= p->in_w) continue;
                            const float *px = img + (y * p->in_w + x) * p->in_c + ic0;
                            const float *wk = w + (ky * p->k_w + kx) * p->k_c;
                            for (int32_t c = 0; c < p->k_c; ++c) {
                                acc += px[c] * wk[c];
                            }
                        }
                    }
                    if (p->bias != NULL) acc += p->bias[oc];
                    scratch[oc] = tcc_clampf(acc, p->act_min, p->act_max);
                }
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    *out++ = scratch[oc];
                }
            }
        }
    }
}
