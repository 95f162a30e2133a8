/* tinycc runtime: DEPTHWISE_CONV_2D (TFLite builtin), int8 per-channel, 16x8 and float32. */
#ifndef TCC_DEPTHWISE_H
#define TCC_DEPTHWISE_H

#include <stdint.h>

typedef struct {
    int32_t batches, in_h, in_w, in_c;      /* input NHWC */
    int32_t out_h, out_w, depth_mult;       /* output channels = in_c * depth_mult */
    int32_t k_h, k_w;                       /* filter [1][k_h][k_w][in_c * depth_mult] */
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t in_zp;                          /* value read for padded taps */
    int32_t out_zp, act_min, act_max;
    const int8_t *weights;
    const int32_t *bias;                    /* bias - in_zp * sum(weights[.., oc]) */
    const int32_t *mult, *shift;
} tcc_depthwise_s8_params;

typedef struct {
    int32_t batches, in_h, in_w, in_c;      /* int16 input and output (zero points 0), int8 weights */
    int32_t out_h, out_w, depth_mult;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t act_min, act_max, acc64;        /* acc64: an int64 bias (see tcc_requantize_acc) */
    const int8_t *weights;
    const int64_t *bias;                    /* NULL when the model has none */
    const int32_t *mult, *shift;
} tcc_depthwise_s16_params;

typedef struct {
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, depth_mult;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    float act_min, act_max;
    int32_t bias_first;                     /* 1: start the sum at the bias (TFLite's order), 0: add it last (TFLite Micro's) */
    const float *weights;
    const float *bias;                      /* NULL when the model has none */
} tcc_depthwise_f32_params;

/* scratch: out_h * out_w elements of the output type (one output channel plane). */
void tcc_depthwise_s8(const tcc_depthwise_s8_params *p, const int8_t *in, int8_t *out, int8_t *scratch);
void tcc_depthwise_s16(const tcc_depthwise_s16_params *p, const int16_t *in, int16_t *out, int16_t *scratch);
void tcc_depthwise_f32(const tcc_depthwise_f32_params *p, const float *in, float *out, float *scratch);

#endif /* TCC_DEPTHWISE_H */
