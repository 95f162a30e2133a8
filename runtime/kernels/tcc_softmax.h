/* tinycc runtime: SOFTMAX (TFLite builtin) over the last dimension, int8, int16 and float32. */
#ifndef TCC_SOFTMAX_H
#define TCC_SOFTMAX_H

#include <stdint.h>

typedef struct {
    int32_t outer, depth;                   /* rows x row length */
    int32_t in_mult, in_left_shift;         /* beta * input_scale as a Q5.26 rescale */
    int32_t diff_min;                       /* differences below this give exp() == 0 */
} tcc_softmax_s8_params;

typedef struct {
    int32_t outer, depth;                   /* int16: output scale 1/32768, zero points 0 */
    int32_t in_mult, in_shift;              /* input_scale * beta / (10 / 65535): diffs onto [-65535, 0] */
    const int16_t *exp_lut;                 /* 513 entries: exp on [-10, 0] in Q0.15 */
    const int16_t *recip_lut;               /* 513 entries: 1 / (1 + x) on [0, 1] in Q0.15 */
} tcc_softmax_s16_params;

typedef struct {
    int32_t outer, depth;
    float beta;
} tcc_softmax_f32_params;

void tcc_softmax_s8(const tcc_softmax_s8_params *p, const int8_t *in, int8_t *out);
void tcc_softmax_s16(const tcc_softmax_s16_params *p, const int16_t *in, int16_t *out);
void tcc_softmax_f32(const tcc_softmax_f32_params *p, const float *in, float *out);

#endif /* TCC_SOFTMAX_H */
