/* tinycc runtime: ADD (TFLite builtin), int8, int16, int32 and float32, with broadcasting up to 6-D;
 * ADD_N, int8 and float32. */
#ifndef TCC_ADD_H
#define TCC_ADD_H

#include <stdint.h>

#define TCC_ADD_MAX_DIMS 6

/* Shapes are right-aligned and padded with 1s to 6-D; an input's stride is 0 along a
 * dimension it broadcasts. Same-shape operands use dims {1,1,1,1,1,size}. */
typedef struct {
    int32_t dims[TCC_ADD_MAX_DIMS];
    int32_t a_strides[TCC_ADD_MAX_DIMS], b_strides[TCC_ADD_MAX_DIMS];
} tcc_broadcast;

typedef struct {
    tcc_broadcast shape;
    int32_t in1_offset, in2_offset;         /* minus the inputs' zero points */
    int32_t left_shift;                     /* 20 for int8, 15 for int16 */
    int32_t in1_mult, in1_shift, in2_mult, in2_shift, out_mult, out_shift;
    int32_t out_zp, act_min, act_max;
} tcc_add_s8_params;                     /* also tcc_add_s16's and tcc_add_u8's */

typedef struct {
    tcc_broadcast shape;
    float act_min, act_max;
} tcc_add_f32_params;

/* ADD_N int8: every input of one quantization (in_offset = -zp); TFLite Micro's reference AddN. */
typedef struct {
    int32_t size;                           /* elements of each input and of the output */
    int32_t in_offset, left_shift, in_mult, in_shift, out_mult, out_shift;
    int32_t out_zp, act_min, act_max;
} tcc_add_n_s8_params;

typedef struct {
    tcc_broadcast shape;
    int32_t act_min, act_max;
} tcc_add_s32_params;

void tcc_add_s8(const tcc_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out);
void tcc_add_u8(const tcc_add_s8_params *p, const uint8_t *a, const uint8_t *b, uint8_t *out);
void tcc_add_s16(const tcc_add_s8_params *p, const int16_t *a, const int16_t *b, int16_t *out);
void tcc_add_f32(const tcc_add_f32_params *p, const float *a, const float *b, float *out);
void tcc_add_s32(const tcc_add_s32_params *p, const int32_t *a, const int32_t *b, int32_t *out);

/* ADD_N: out[i] = the sum of in[j][i] over the n inputs, in order. */
void tcc_add_n_s8(const tcc_add_n_s8_params *p, const int8_t *const *in, int32_t n, int8_t *out);
void tcc_add_n_f32(const float *const *in, int32_t n, float *out, int32_t size);

#endif /* TCC_ADD_H */
