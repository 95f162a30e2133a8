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
 * stored, so a stored pixel never clobbers input its own channels still read. The loop
 * nest is TCC_CONV_LOOP (tcc_conv_loop.h), shared with uint8's tcc_conv2d_u8.
 */
#include "tcc_conv.h"
#include "tcc_common.h"
#include "tcc_conv_loop.h"

#include <stddef.h>

/* A tap's product (w * x), and a padded tap's (w * in_zp: it cancels the folded term). */
#define TCC_S8_TAP(w, x) ((int32_t)(w) * (x))
#define TCC_S8_PAD_TAP(w) ((int32_t)(w) * p->in_zp)

void tcc_conv2d_s8(const tcc_conv2d_s8_params *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    TCC_CONV_LOOP(int8_t, int8_t, int32_t, p, in, out, scratch, p->bias[oc], TCC_S8_TAP, p->in_zp != 0,
                  TCC_S8_PAD_TAP,
                  (int8_t)tcc_clamp(tcc_requantize(acc, p->mult[oc], p->shift[oc]) + p->out_zp, p->act_min,
                                    p->act_max));
}

#ifndef TCC_OMIT_CONV2D_S16  /* tinycc defines it when no op calls it */
/* 16x8 (reference_integer_ops::ConvPerChannel for int16): zero points are 0, so padded taps add
 * nothing; the sum is in the bias type (tcc_requantize_acc; int64, where the order of the terms does
 * not change it). */
void tcc_conv2d_s16(const tcc_conv2d_s16_params *p, const int16_t *in, int16_t *out, int16_t *scratch)
{
    TCC_CONV_LOOP(int16_t, int8_t, int64_t, p, in, out, scratch, p->bias != NULL ? p->bias[oc] : 0, TCC_S8_TAP,
                  0, TCC_CONV_NO_TAP,
                  (int16_t)tcc_clamp(tcc_requantize_acc(acc, p->mult[oc], p->shift[oc], p->acc64), p->act_min,
                                     p->act_max));
}
#endif

/* Float: out = clamp(sum over inside taps (ky, kx, c in that order) of x * w, then + bias). */
#define TCC_F32_TAP(w, x) ((x) * (w))

void tcc_conv2d_f32(const tcc_conv2d_f32_params *p, const float *in, float *out, float *scratch)
{
    TCC_CONV_LOOP(float, float, float, p, in, out, scratch, 0.0f, TCC_F32_TAP, 0, TCC_CONV_NO_TAP,
                  tcc_clampf(p->bias != NULL ? acc + p->bias[oc] : acc, p->act_min, p->act_max));
}
