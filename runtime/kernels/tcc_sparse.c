/* tinycc runtime: int8 CONV_2D and FULLY_CONNECTED reading sparse weights (tcc_sparse.h).
 *
 * TFLite semantics (reference_integer_ops::ConvPerChannel and FullyConnected, as tcc_conv.c and
 * tcc_fully_connected.c compute them): acc = bias + sum over taps of w * x, padded taps reading
 * the input zero point (folded into the bias with the other zero-point terms), then
 * MultiplyByQuantizedMultiplier(acc, mult, shift) + out_zp, clamped. A zero weight adds nothing,
 * so summing the nonzero entries only gives the same int32 accumulator, bit for bit.
 */
#include "tcc_sparse.h"
#include "tcc_common.h"

/* bias + the channel's entries times the taps at ``x``; ``*e`` advances past them. */
static int32_t sparse_dot(const uint8_t **e, int32_t n, const int8_t *x, int32_t acc)
{
    const uint8_t *q = *e;
    for (int32_t i = 0; i < n; ++i, q += 2) {
        x += q[0];
        acc += (int32_t)(int8_t)q[1] * *x;
    }
    *e = q;
    return acc;
}

#ifndef TCC_OMIT_SPARSE_CONV_S8  /* tinycc defines it when no op calls it */
/* Pixel by pixel (flat over batch, row, column): the window is copied into the scratch (padded
 * taps = in_zp), then the pixel's out_c values are computed and stored. */
void tcc_sparse_conv_s8(const tcc_sparse_conv_s8_params *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * p->in_c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                int8_t *win = scratch;
                for (int32_t ky = 0; ky < p->k_h; ++ky) {
                    const int32_t y = y0 + ky * p->dil_h;
                    for (int32_t kx = 0; kx < p->k_w; ++kx) {
                        const int32_t x = x0 + kx * p->dil_w;
                        const int inside = y >= 0 && y < p->in_h && x >= 0 && x < p->in_w;
                        const int8_t *px = img + (y * p->in_w + x) * p->in_c;
                        for (int32_t c = 0; c < p->in_c; ++c) {
                            *win++ = inside ? px[c] : (int8_t)p->in_zp;
                        }
                    }
                }
                const uint8_t *e = p->entries;
                for (int32_t oc = 0; oc < p->out_c; ++oc) {
                    int32_t acc = sparse_dot(&e, p->count[oc], scratch, p->bias[oc]);
                    acc = tcc_requantize(acc, p->mult[oc], p->shift[oc]) + p->out_zp;
                    *out++ = (int8_t)tcc_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}
#endif

#ifndef TCC_OMIT_SPARSE_FC_S8
void tcc_sparse_fc_s8(const tcc_sparse_fc_s8_params *p, const int8_t *in, int8_t *out)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * p->in_depth;
        const uint8_t *e = p->entries;
        for (int32_t o = 0; o < p->out_depth; ++o) {
            int32_t acc = sparse_dot(&e, p->count[o], x, p->bias[o]);
            acc = tcc_requantize(acc, p->mult[o], p->shift[o]) + p->out_zp;
            *out++ = (int8_t)tcc_clamp(acc, p->act_min, p->act_max);
        }
    }
}
#endif
