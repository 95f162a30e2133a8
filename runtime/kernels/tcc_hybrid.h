/* tinycc runtime: hybrid (dynamic-range quantized) CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV
 * and FULLY_CONNECTED.
 *
 * Weights are int8 with per-tensor or per-channel scales; input, output and bias
 * are float32. At run time each batch of the input is quantized to int8 (scale
 * from its range), the dot products are accumulated in int32, and the result is
 * scaled back to float, as TensorFlow Lite's builtin hybrid kernels do (see
 * tcc_hybrid.c for the exact arithmetic).
 */
#ifndef TCC_HYBRID_H
#define TCC_HYBRID_H

#include <stdint.h>

typedef struct {
    int32_t batches, in_h, in_w, in_c;      /* input NHWC */
    int32_t out_h, out_w, out_c;            /* output NHWC */
    int32_t k_h, k_w;                       /* filter [out_c][k_h][k_w][in_c] */
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t asymmetric;                     /* 1: asymmetric input quantization (TFLite: per-channel) */
    int32_t scale_per_channel;              /* 1: w_scale has out_c entries; 0: one entry */
    float act_min, act_max;
    const int8_t *weights;
    const float *w_scale;                   /* weight scales */
    const float *bias;                      /* NULL when the model has none */
} tcc_conv2d_hybrid_params;

typedef struct {
    int32_t batches, in_depth, out_depth;   /* input [batches][in_depth] */
    int32_t asymmetric;                     /* 1: FullyConnectedOptions.asymmetric_quantize_inputs */
    int32_t scale_per_channel;              /* 1: w_scale has out_depth entries; 0: one entry */
    float act_min, act_max;
    const int8_t *weights;                  /* [out_depth][in_depth] */
    const float *w_scale;
    const float *bias;                      /* NULL when the model has none */
} tcc_fully_connected_hybrid_params;

typedef struct {
    int32_t batches, in_h, in_w, in_c;      /* input NHWC */
    int32_t out_h, out_w, depth_mult;       /* output NHWC, out_c = in_c * depth_mult */
    int32_t k_h, k_w;                       /* filter [1][k_h][k_w][out_c] */
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    float act_min, act_max;
    const int8_t *weights;
    const float *w_scale;                   /* one scale per output channel */
    const float *bias;                      /* NULL when the model has none */
} tcc_depthwise_hybrid_params;

typedef struct {
    int32_t batches, in_h, in_w, in_ch, out_h, out_w, out_ch;
    int32_t f_h, f_w, stride_h, stride_w, pad_top, pad_left;
    int32_t scale_per_channel;              /* 1: w_scale has out_ch entries; 0: one entry */
    float act_min, act_max;
    const int8_t *weights;                  /* [out_ch][f_h][f_w][in_ch] */
    const float *w_scale;
    const float *bias;                      /* NULL when the model has none */
} tcc_transpose_conv_hybrid_params;

void tcc_conv2d_hybrid(const tcc_conv2d_hybrid_params *p, const float *in, float *out);
void tcc_transpose_conv_hybrid(const tcc_transpose_conv_hybrid_params *p, const float *in, float *out);
/* scratch: out_h * out_w floats (one output channel plane, as tcc_depthwise_f32). */
void tcc_depthwise_hybrid(const tcc_depthwise_hybrid_params *p, const float *in, float *out, float *scratch);
void tcc_fully_connected_hybrid(const tcc_fully_connected_hybrid_params *p, const float *in, float *out);

#endif /* TCC_HYBRID_H */
