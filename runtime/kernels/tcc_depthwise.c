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

#include <stddef.h>

void tcc_depthwise_s8(const tcc_depthwise_s8_params *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    const int32_t out_c = p->in_c * p->depth_mult;
    const int32_t plane = p->out_h * p->out_w;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * p->in_c;
        int8_t *dst = out + b * plane * out_c;
        for (int32_t ic = 0; ic < p->in_c; ++ic) {
            for (int32_t m = 0; m < p->depth_mult; ++m) {
                const int32_t oc = ic * p->depth_mult + m;
                int8_t *t = scratch;
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
                                const int32_t v = (row_in && x >= 0 && x < p->in_w)
                                    ? img[(y * p->in_w + x) * p->in_c + ic] : p->in_zp;
                                acc += w * v;
                            }
                        }
                        acc = tcc_requantize(acc, p->mult[oc], p->shift[oc]) + p->out_zp;
                        *t++ = (int8_t)tcc_clamp(acc, p->act_min, p->act_max);
                    }
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
 * order and scratch as tcc_depthwise_s8. */
void tcc_depthwise_s16(const tcc_depthwise_s16_params *p, const int16_t *in, int16_t *out, int16_t *scratch)
{
    const int32_t out_c = p->in_c * p->depth_mult;
    const int32_t plane = p->out_h * p->out_w;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *img = in + b * p->in_h * p->in_w * p->in_c;
        int16_t *dst = out + b * plane * out_c;
        for (int32_t ic = 0; ic < p->in_c; ++ic) {
            for (int32_t m = 0; m < p->depth_mult; ++m) {
                const int32_t oc = ic * p->depth_mult + m;
                int16_t *t = scratch;
                for (int32_t oy = 0; oy < p->out_h; ++oy) {
                    const int32_t y0 = oy * p->stride_h - p->pad_top;
                    for (int32_t ox = 0; ox < p->out_w; ++ox) {
                        const int32_t x0 = ox * p->stride_w - p->pad_left;
                        int64_t acc = 0;
                        for (int32_t ky = 0; ky < p->k_h; ++ky) {
                            const int32_t y = y0 + ky * p->dil_h;
                            if (y < 0 || y >= p->in_h) continue;
                            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                                const int32_t x = x0 + kx * p->dil_w;
                                if (x < 0 || x >= p->in_w) continue;
                                acc += (int32_t)p->weights[(ky * p->k_w + kx) * out_c + oc]
                                       * img[(y * p->in_w + x) * p->in_c + ic];
                            }
                        }
                        if (p->bias != NULL) acc += p->bias[oc];
                        *t++ = (int16_t)tcc_clamp(tcc_requantize_acc(acc, p->mult[oc], p->shift[oc], p->acc64),
                                                  p->act_min, p->act_max);
                    }
                }
                for (int32_t q = 0; q < plane; ++q) {
                    dst[q * out_c + oc] = scratch[q];
                }
            }
        }
    }
}
#endif

/* Float: out = clamp(sum over inside taps (ky, kx order) of x * w, then + bias), the order of
 * TFLite Micro's reference kernel; with bias_first the sum starts at the bias instead, the order
 * of TFLite's optimized kernel (used for hybrid models, whose reference is TFLite). Same
 * channel-plane order as the int8 kernel. */
void tcc_depthwise_f32(const tcc_depthwise_f32_params *p, const float *in, float *out, float *scratch)
{
    const int32_t out_c = p->in_c * p->depth_mult;
    const int32_t plane = p->out_h * p->out_w;
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *img = in + b * p->in_h * p->in_w * p->in_c;
        float *dst = out + b * plane * out_c;
        for (int32_t ic = 0; ic < p->in_c; ++ic) {
            for (int32_t m = 0; m < p->depth_mult; ++m) {
                const int32_t oc = ic * p->depth_mult + m;
                const float bias = p->bias != NULL ? p->bias[oc] : 0.0f;
                float *t = scratch;
                for (int32_t oy = 0; oy < p->out_h; ++oy) {
                    const int32_t y0 = oy * p->stride_h - p->pad_top;
                    for (int32_t ox = 0; ox < p->out_w; ++ox) {
                        const int32_t x0 = ox * p->stride_w - p->pad_left;
                        float acc = p->bias_first ? bias : 0.0f;
                        for (int32_t ky = 0; ky < p->k_h; ++ky) {
                            const int32_t y = y0 + ky * p->dil_h;
                            if (y < 0 || y >= p->in_h) continue;
                            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                                const int32_t x = x0 + kx * p->dil_w;
                                if (x < 0 || x >= p->in_w) continue;
                                acc += img[(y * p->in_w + x) * p->in_c + ic]
                                     * p->weights[(ky * p->k_w + kx) * out_c + oc];
                            }
                        }
                        if (!p->bias_first) acc += bias;
                        *t++ = tcc_clampf(acc, p->act_min, p->act_max);
                    }
                }
                for (int32_t q = 0; q < plane; ++q) {
                    dst[q * out_c + oc] = scratch[q];
                }
            }
        }
    }
}
