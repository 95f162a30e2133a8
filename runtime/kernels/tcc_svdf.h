/* tinycc runtime: SVDF (TFLite builtin), float32 and int8 with an int16 or int8 state. */
#ifndef TCC_SVDF_H
#define TCC_SVDF_H

#include <stdint.h>

/* input [batches][input_size]; state [batches][filters][memory], kept between calls;
 * output [batches][units], units = filters / rank. */
typedef struct {
    int32_t batches, input_size, filters, units, rank, memory;
    float act_min, act_max;                 /* the fused activation */
    const float *weights_feature;           /* [filters][input_size] */
    const float *weights_time;              /* [filters][memory] */
    const float *bias;                      /* [units] */
} tcc_svdf_f32_params;

typedef struct {
    int32_t batches, input_size, filters, units, rank, memory;
    int32_t state_zp, out_zp;
    int32_t mult1, shift1;                  /* input * weights_feature / state scales */
    int32_t mult2, shift2;                  /* state * weights_time / output scales */
    const int8_t *weights_feature;          /* [filters][input_size] */
    const int32_t *feature_bias;            /* -input_zp * sum(weights_feature[f]) */
    const void *weights_time;               /* [filters][memory], the state's type */
    const int32_t *bias;                    /* [units] */
} tcc_svdf_s8_params;

void tcc_svdf_f32(const tcc_svdf_f32_params *p, const float *in, float *state, float *out);
void tcc_svdf_s8_s16(const tcc_svdf_s8_params *p, const int8_t *in, int16_t *state, int8_t *out);
void tcc_svdf_s8_s8(const tcc_svdf_s8_params *p, const int8_t *in, int8_t *state, int8_t *out);

#endif /* TCC_SVDF_H */
