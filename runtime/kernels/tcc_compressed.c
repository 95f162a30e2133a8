/* tinycc runtime: int8 convolutions and FULLY_CONNECTED reading compressed weights.
 *
 * The weights are the model's int8 values, stored as k-bit indices (k = 1, 2, 4) into one
 * table or one of several, named per output channel (tinycc/compress.py; INT4 weights are 4-bit
 * indices into the table 0..7, -8..-1). Weight e of the stream is (index[e / (8 / k)] >> (e % (8 / k) * k)) & (2^k - 1);
 * the kernels decode a run of consecutive weights byte by byte inside their inner loop, never
 * into a copy of the tensor. Arithmetic, order and scratch are those of tcc_conv.c,
 * tcc_depthwise.c and tcc_fully_connected.c (the input zero point folded into the bias), so the
 * outputs are the plain kernels' and TFLite Micro's, bit for bit.
 */
#include "tcc_compressed.h"
#include "tcc_common.h"
/* The decoding loops of the encodings no op uses are left out (tinycc defines these): */
#if defined(TCC_OMIT_WINT4) || defined(TCC_OMIT_WPALETTE4) || defined(TCC_OMIT_WPALETTE2) || defined(TCC_OMIT_WPALETTE1)
#endif
#include "tcc_compressed_loop.h"

#include <stddef.h>

#ifndef TCC_OMIT_FULLY_CONNECTED_S8C
/* sum_i weight(e + i) * x[i] */
static int32_t tcc_wdot(const tcc_wcode *w, const int8_t *tab, int32_t e, const int8_t *x, int32_t n)
{
    int32_t acc = 0;
    TCC_WEIGHTS(e, n, acc += v_ * x[i_]);
    return acc;
}
#endif

#ifndef TCC_OMIT_CONV2D_S8C  /* tinycc defines it when no op calls it */
/* tcc_conv2d_s8 on blocks of `block` output pixels (flat over batch, row, column): for
 * each output channel oc its k_h * k_w * k_c weights (at e = oc * k_h * k_w * k_c) are decoded
 * once into the scratch after the block's outputs, then the block's pixels are computed as the
 * plain kernel computes them; the block's out_c values per pixel are stored after all its
 * windows were read (what lets the output share the input's memory). */
void tcc_conv2d_s8c(const tcc_conv2d_s8_params *p, const tcc_wcode *w, int32_t block, const int8_t *in,
                    int8_t *out, int8_t *scratch)
{
    const int32_t groups = p->in_c / p->k_c;
    const int32_t oc_per_group = p->out_c / groups;
    const int32_t per_oc = p->k_h * p->k_w * p->k_c;
    const int32_t plane = p->out_h * p->out_w;
    const int32_t npix = p->batches * plane;
    int8_t *wk = scratch + block * p->out_c;
    for (int32_t q0 = 0; q0 < npix; q0 += block) {
        const int32_t nq = TCC_MIN(block, npix - q0);
        for (int32_t oc = 0; oc < p->out_c; ++oc) {
            const int8_t *tab = tcc_wtable(w, oc);
            const int32_t ic0 = (oc / oc_per_group) * p->k_c;
            int32_t b = q0 / plane, oy = q0 % plane / p->out_w, ox = q0 % p->out_w;   /* pixel q0 + j */
            TCC_WEIGHTS(oc * per_oc, per_oc, wk[i_] = (int8_t)v_);
            for (int32_t j = 0; j < nq; ++j) {
                const int8_t *img = in + b * p->in_h * p->in_w * p->in_c;
                const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
                int32_t acc = p->bias[oc];
                for (int32_t ky = 0; ky < p->k_h; ++ky) {
                    const int32_t y = y0 + ky * p->dil_h;
                    const int row_in = y >= 0 && y < p->in_h;
                    for (int32_t kx = 0; kx < p->k_w; ++kx) {
                        const int32_t x = x0 + kx * p->dil_w;
                        const int8_t *wt = wk + (ky * p->k_w + kx) * p->k_c;
                        if (row_in && x >= 0 && x < p->in_w) {
                            const int8_t *px = img + (y * p->in_w + x) * p->in_c + ic0;
                            for (int32_t c = 0; c < p->k_c; ++c) {
                                acc += (int32_t)wt[c] * px[c];
                            }
                        } else {
                            for (int32_t c = 0; c < p->k_c; ++c) {
                                acc += (int32_t)wt[c] * p->in_zp;
                            }
                        }
                    }
                }
                acc = tcc_requantize(acc, p->mult[oc], p->shift[oc]) + p->out_zp;
                scratch[j * p->out_c + oc] = (int8_t)tcc_clamp(acc, p->act_min, p->act_max);
                if (++ox == p->out_w) {
                    ox = 0;
                    if (++oy == p->out_h) {
                        oy = 0;
                        ++b;
                    }
                }
            }
        }
        for (int32_t k = 0; k < nq * p->out_c; ++k) {
            out[q0 * p->out_c + k] = scratch[k];
        }
    }
}
#endif

#ifndef TCC_OMIT_DEPTHWISE_S8C  /* tinycc defines it when no op calls it */
/* tcc_depthwise_s8, channel by channel: channel oc's k_h * k_w taps (at e = oc * k_h * k_w) are
 * decoded once into the scratch after the channel plane, then read as the plain kernel reads. */
void tcc_depthwise_s8c(const tcc_depthwise_s8_params *p, const tcc_wcode *w, const int8_t *in, int8_t *out,
                       int8_t *scratch)
{
    const int32_t out_c = p->in_c * p->depth_mult;
    const int32_t plane = p->out_h * p->out_w;
    const int32_t taps = p->k_h * p->k_w;
    int8_t *wk = scratch + plane;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * p->in_c;
        int8_t *dst = out + b * plane * out_c;
        for (int32_t ic = 0; ic < p->in_c; ++ic) {
            for (int32_t m = 0; m < p->depth_mult; ++m) {
                const int32_t oc = ic * p->depth_mult + m;
                const int8_t *tab = tcc_wtable(w, oc);
                TCC_WEIGHTS(oc * taps, taps, wk[i_] = (int8_t)v_);
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
                                const int32_t v = (row_in && x >= 0 && x < p->in_w)
                                    ? img[(y * p->in_w + x) * p->in_c + ic] : p->in_zp;
                                acc += wk[ky * p->k_w + kx] * v;
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
#endif

#ifndef TCC_OMIT_FULLY_CONNECTED_S8C  /* tinycc defines it when no op calls it */
/* tcc_fully_connected_s8 with row o's weights at e = o * in_depth. */
void tcc_fully_connected_s8c(const tcc_fully_connected_s8_params *p, const tcc_wcode *w, const int8_t *in,
                             int8_t *out)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * p->in_depth;
        for (int32_t o = 0; o < p->out_depth; ++o) {
            int32_t acc = p->bias[o] + tcc_wdot(w, tcc_wtable(w, o), o * p->in_depth, x, p->in_depth);
            acc = tcc_requantize(acc, p->mult[o], p->shift[o]) + p->out_zp;
            *out++ = (int8_t)tcc_clamp(acc, p->act_min, p->act_max);
        }
    }
}
#endif
