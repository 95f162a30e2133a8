/* tinycc runtime: FULLY_CONNECTED (TFLite builtin), int8, 16x8 and float32. */
#ifndef TCC_FULLY_CONNECTED_H
#define TCC_FULLY_CONNECTED_H

#include <stdint.h>

typedef struct {
    int32_t batches, in_depth, out_depth;   /* input [batches][in_depth] */
    int32_t out_zp, act_min, act_max;
    const int8_t *weights;                  /* [out_depth][in_depth] */
    const int32_t *bias;                    /* bias - in_zp * sum(weights[o]) */
    const int32_t *mult, *shift;            /* per output (a per-tensor scale is repeated) */
    int32_t single_round;                   /* 1: TFLite's one rounding (tcc_requantize_once) */
} tcc_fully_connected_s8_params;

typedef struct {
    int32_t batches, in_depth, out_depth;   /* int16 input and output (zero points 0), int8 weights */
    int32_t act_min, act_max, acc64;        /* acc64: an int64 bias (see tcc_requantize_acc) */
    const int8_t *weights;                  /* [out_depth][in_depth] */
    const int64_t *bias;                    /* NULL when the model has none */
    const int32_t *mult, *shift;
} tcc_fully_connected_s16_params;

typedef struct {
    int32_t batches, in_depth, out_depth;
    float act_min, act_max;
    const float *weights;
    const float *bias;                      /* NULL when the model has none */
} tcc_fully_connected_f32_params;

void tcc_fully_connected_s8(const tcc_fully_connected_s8_params *p, const int8_t *in, int8_t *out);
void tcc_fully_connected_s16(const tcc_fully_connected_s16_params *p, const int16_t *in, int16_t *out);
void tcc_fully_connected_f32(const tcc_fully_connected_f32_params *p, const float *in, float *out);

#endif /* TCC_FULLY_CONNECTED_H */
