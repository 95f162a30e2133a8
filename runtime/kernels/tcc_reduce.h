/* tinycc runtime: MEAN, SUM, REDUCE_MAX, REDUCE_MIN, ARG_MAX, ARG_MIN (TFLite builtins), int8 and
 * float32; MEAN and SUM int16, MEAN uint8; REDUCE_ALL, bool. */
#ifndef TCC_REDUCE_H
#define TCC_REDUCE_H

#include <stdint.h>

#define TCC_REDUCE_DIMS 6

/* The input seen as kept dims (the output, row-major) and reduced dims, each with its input
 * strides in elements; unused dims are {1, 0} at the front. */
typedef struct {
    int32_t kdims[TCC_REDUCE_DIMS], kstrides[TCC_REDUCE_DIMS];
    int32_t rdims[TCC_REDUCE_DIMS], rstrides[TCC_REDUCE_DIMS];
    int32_t count;                          /* reduced elements per output */
    int32_t in_zp, mult, shift, out_zp;     /* int8 (int16, uint8) MEAN/SUM requantization */
    int32_t is_min, out64;                  /* ARG_MIN instead of ARG_MAX; int64 output */
} tcc_reduce_params;

void tcc_reduce_sum_s8(const tcc_reduce_params *p, const int8_t *in, int8_t *out);  /* MEAN and SUM */
void tcc_reduce_sum_s16(const tcc_reduce_params *p, const int16_t *in, int16_t *out);  /* MEAN and SUM */
void tcc_reduce_sum_u8(const tcc_reduce_params *p, const uint8_t *in, uint8_t *out);  /* MEAN */
void tcc_reduce_sum_f32(const tcc_reduce_params *p, const float *in, float *out);
void tcc_reduce_mean_f32(const tcc_reduce_params *p, const float *in, float *out);
void tcc_reduce_max_s8(const tcc_reduce_params *p, const int8_t *in, int8_t *out);
void tcc_reduce_min_s8(const tcc_reduce_params *p, const int8_t *in, int8_t *out);
void tcc_reduce_max_f32(const tcc_reduce_params *p, const float *in, float *out);
void tcc_reduce_min_f32(const tcc_reduce_params *p, const float *in, float *out);
void tcc_reduce_all_b8(const tcc_reduce_params *p, const uint8_t *in, uint8_t *out);  /* bool */
void tcc_arg_minmax_s8(const tcc_reduce_params *p, const int8_t *in, void *out);
void tcc_arg_minmax_f32(const tcc_reduce_params *p, const float *in, void *out);

#endif /* TCC_REDUCE_H */
