/* tinycc runtime: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, SOFTMAX and LOGISTIC of
 * fully-uint8 (legacy asymmetric) models, TFLite's uint8 reference arithmetic (TFLite Micro has no
 * uint8 kernels for them). */
#ifndef TCC_UINT8_H
#define TCC_UINT8_H

#include <stdint.h>

#include "tcc_pool.h"
#include "tcc_softmax.h"

typedef struct {
    int32_t batches, in_h, in_w, in_c;      /* input NHWC */
    int32_t out_h, out_w, out_c;            /* output NHWC */
    int32_t k_h, k_w, k_c;                  /* filter [out_c][k_h][k_w][k_c], k_c = in_c / groups */
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t in_offset, w_offset;            /* minus the input's and the weights' zero points */
    int32_t out_zp, act_min, act_max;
    int32_t mult, shift;                    /* per-tensor requantization */
    int32_t single_round;                   /* 1: one rounding (FULLY_CONNECTED), 0: two (tcc_requantize) */
    const uint8_t *weights;
    const int32_t *bias;                    /* NULL when the model has none */
} tcc_conv2d_u8_params;

/* scratch: out_c bytes (one output pixel). */
void tcc_conv2d_u8(const tcc_conv2d_u8_params *p, const uint8_t *in, uint8_t *out, uint8_t *scratch);
void tcc_avg_pool_u8(const tcc_pool_params *p, const uint8_t *in, uint8_t *out);
void tcc_max_pool_u8(const tcc_pool_params *p, const uint8_t *in, uint8_t *out);
void tcc_lut_u8(const uint8_t *lut, const uint8_t *in, uint8_t *out, int32_t n);
/* scratch: depth bytes (one row). */
void tcc_softmax_u8(const tcc_softmax_s8_params *p, const uint8_t *in, uint8_t *out, uint8_t *scratch);

#endif /* TCC_UINT8_H */
