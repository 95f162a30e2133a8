/* tinycc runtime: AVERAGE_POOL_2D and MAX_POOL_2D (TFLite builtins), int8, int16 and float32;
 * L2_POOL_2D, float32. */
#ifndef TCC_POOL_H
#define TCC_POOL_H

#include <stdint.h>

typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
    int32_t f_h, f_w, stride_h, stride_w, pad_top, pad_left;
    int32_t act_min, act_max;               /* int8/int16: clamp; input and output share scale and zero point */
    float act_minf, act_maxf;               /* float32: clamp */
} tcc_pool_params;

void tcc_avg_pool_s8(const tcc_pool_params *p, const int8_t *in, int8_t *out);
void tcc_avg_pool_s16(const tcc_pool_params *p, const int16_t *in, int16_t *out);
void tcc_avg_pool_f32(const tcc_pool_params *p, const float *in, float *out);
void tcc_max_pool_s8(const tcc_pool_params *p, const int8_t *in, int8_t *out);
void tcc_max_pool_s16(const tcc_pool_params *p, const int16_t *in, int16_t *out);
void tcc_max_pool_f32(const tcc_pool_params *p, const float *in, float *out);
void tcc_l2_pool_f32(const tcc_pool_params *p, const float *in, float *out);

#endif /* TCC_POOL_H */
