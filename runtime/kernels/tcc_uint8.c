/* tinycc runtime: uint8 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D,
 * SOFTMAX and LOGISTIC.
 *
 * Convolutions (TFLite reference_ops::Conv, DepthwiseConv and FullyConnected for uint8): for every
 * output pixel and channel,
 *   acc = sum over taps inside the image of (w + w_offset) * (x + in_offset), + bias[oc]
 *   out = clamp(MultiplyByQuantizedMultiplier(acc, mult, shift) + out_zp, act_min, act_max)
 * rounded twice as TFLite Micro's int8 kernels (tcc_requantize) for CONV_2D and DEPTHWISE_CONV_2D, once
 * (tcc_requantize_once, single_round) for FULLY_CONNECTED, as TFLite's uint8 kernels measure.
 * Taps outside the image contribute nothing. One kernel serves the three ops: tinycc lays a
 * DEPTHWISE_CONV_2D out as a grouped convolution (groups = in_c, k_c = 1, weights transposed to
 * [out_c][k_h][k_w][1]; output channel oc reads input channel oc / depth_multiplier) and a
 * FULLY_CONNECTED as a 1x1 convolution of a 1x1 image per batch.
 *
 * Order (what lets the output share the input's memory): as tcc_conv2d_s8, whose loop nest
 * (TCC_CONV_LOOP, tcc_conv_loop.h) it shares: pixel by pixel in row-major order, each pixel's out_c
 * values kept in scratch until all are computed.
 */
#include "tcc_uint8.h"
#include "tcc_common.h"
#include "tcc_conv_loop.h"
#include "tcc_pool_loop.h"

#include <stddef.h>

#ifndef TCC_OMIT_CONV2D_U8  /* tinycc defines it when no op calls it */
#define TCC_U8_TAP(w, x) (((int32_t)(w) + p->w_offset) * ((int32_t)(x) + p->in_offset))

void tcc_conv2d_u8(const tcc_conv2d_u8_params *p, const uint8_t *in, uint8_t *out, uint8_t *scratch)
{
    /* padded taps add nothing (no zero point is folded into the bias); the sum cannot overflow (checked at
     * compile time), so starting it from the bias gives TFLite's bias-last sum */
    TCC_CONV_LOOP(uint8_t, uint8_t, int32_t, p, in, out, scratch, p->bias != NULL ? p->bias[oc] : 0, TCC_U8_TAP,
                  0, TCC_CONV_NO_TAP,
                  (uint8_t)tcc_clamp((p->single_round ? tcc_requantize_once(acc, p->mult, p->shift)
                                                      : tcc_requantize(acc, p->mult, p->shift)) + p->out_zp,
                                     p->act_min, p->act_max));
}
#endif

#ifndef TCC_OMIT_AVG_POOL_U8  /* tinycc defines it when no op calls it */
/* reference_ops::AveragePool for uint8: the window clipped to the image, (sum + count / 2) / count
 * (the sum is never negative: int8's rounding), clamped. */
TCC_AVG_POOL_DEF(tcc_avg_pool_u8, uint8_t)
#endif

#ifndef TCC_OMIT_MAX_POOL_U8  /* tinycc defines it when no op calls it */
/* reference_ops::MaxPool for uint8: the largest byte of the window clipped to the image, clamped. */
TCC_MAX_POOL_DEF(tcc_max_pool_u8, uint8_t, 0)
#endif

#ifndef TCC_OMIT_SOFTMAX_U8  /* tinycc defines it when no op calls it */
/* reference_ops::Softmax for uint8 reads only differences of inputs and writes the unsaturated
 * output clamped to [0, 255]; for int8 it writes the same value - 128 clamped to [-128, 127]. So each
 * row, moved by -128 into scratch, goes through tcc_softmax_s8 (in place) and comes back by +128. */
void tcc_softmax_u8(const tcc_softmax_s8_params *p, const uint8_t *in, uint8_t *out, uint8_t *scratch)
{
    int8_t *moved = (int8_t *)scratch;
    tcc_softmax_s8_params row = *p;
    row.outer = 1;
    for (int32_t r = 0; r < p->outer; ++r) {
        for (int32_t c = 0; c < p->depth; ++c) {
            moved[c] = (int8_t)((int32_t)in[r * p->depth + c] - 128);
        }
        tcc_softmax_s8(&row, moved, moved);
        for (int32_t c = 0; c < p->depth; ++c) {
            out[r * p->depth + c] = (uint8_t)((int32_t)moved[c] + 128);
        }
    }
}
#endif

#ifndef TCC_OMIT_LUT_U8  /* tinycc defines it when no op calls it */
/* LOGISTIC (reference_ops::Logistic for uint8): one 256-entry table tinycc computes, indexed by the
 * input byte. In place is safe: element i is read just before it is written. */
void tcc_lut_u8(const uint8_t *lut, const uint8_t *in, uint8_t *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = lut[in[i]];
    }
}
#endif
