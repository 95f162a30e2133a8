/* tinycc runtime, Cortex-M DSP kernels: 16x8 CONV_2D, FULLY_CONNECTED and DEPTHWISE_CONV_2D
 * (int16 activations with zero point 0, int8 weights widened to int16 at compile time). */
#ifndef TCC_ARM_S16_H
#define TCC_ARM_S16_H

#include <stdint.h>

/* Weights (tinycc/variants/arm_s16.py packs them):
 *   conv / fc: output channels in blocks of TCC_ARM_S16_ROWS (the last one zero-padded); per
 *     block, for each tap (ky, kx) and pair of input channels (c, c + 1), TCC_ARM_S16_ROWS pair
 *     words (w[oc][ky][kx][c], w[oc][ky][kx][c + 1]), oc = the block's rows in order;
 *   depthwise: the filter [k_h][k_w][c] as int16, channel pairs being pair words.
 * in_c (conv, fc) and the channels (depthwise) are even. bias: int64, zeros when the model has
 * none. Requantization: TFLite's 64-bit one (tcc_requantize64: x * m16 rounded, shifted right by
 * t = 15 - shift) is one SMMLAR of x = acc + bias with m = m16 << (32 - t) when t is in [16, 32]
 * and x fits in int32 for every channel (tinycc checks both): (x * rq + 2^31) >> 32 is the same
 * floor of the same fraction. Otherwise rq is NULL and tcc_requantize_acc runs. A FULLY_CONNECTED is a 1x1 convolution of a batches x 1 x 1 x in_depth input. */
#define TCC_ARM_S16_ROWS 4

typedef struct {
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, pad_top, pad_left;
    int32_t act_min, act_max, acc64;
    const int32_t *weights;                 /* pair words (4-byte aligned) */
    const int64_t *bias;                    /* the plain kernels' requantization (rq == NULL) */
    const int32_t *mult, *shift;
    const int32_t *rq;                      /* or, per channel {bias, m}: SMMLAR(acc + bias, m) */
} tcc_arm_s16_params;

void tcc_arm_conv_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out);
void tcc_arm_fc_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out);
void tcc_arm_dw_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out);

#endif /* TCC_ARM_S16_H */
