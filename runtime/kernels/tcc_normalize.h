/* tinycc runtime: row-wise normalizations over the last dimension (TFLite builtins
 * LOG_SOFTMAX and L2_NORMALIZATION), int8 and float32; and int16 RSQRT, which shares their
 * inverse square root. */
#ifndef TCC_NORMALIZE_H
#define TCC_NORMALIZE_H

#include <stdint.h>

typedef struct {
    int32_t outer, depth;
    int32_t in_mult, in_left_shift;                       /* input diff -> Q5.26 */
    int32_t reverse_mult, reverse_shift;                  /* Q5.26 -> input diff (shift <= 0) */
    int32_t diff_min;
} tcc_log_softmax_s8_params;

typedef struct {
    int32_t outer, depth;
} tcc_rows;

/* Output scale 16/256, zero point 127. */
void tcc_log_softmax_s8(const tcc_log_softmax_s8_params *p, const int8_t *in, int8_t *out);
void tcc_log_softmax_f32(const tcc_rows *p, const float *in, float *out);

/* int8 output scale 1/128, zero point 0. */
void tcc_l2_normalization_s8(const tcc_rows *p, int32_t in_zp, const int8_t *in, int8_t *out);
void tcc_l2_normalization_f32(const tcc_rows *p, const float *in, float *out);

/* RSQRT of int16 (zero points 0), TFLite Micro's RsqrtEvalQuantized<int16_t>: 1/sqrt(x) from
 * GetInvSqrtQuantizedMultiplierExp (the one L2_NORMALIZATION uses), then two multiplies with a 2^20
 * headroom by mult * 2^shift = 1 / (sqrt(s_in) s_out); x == 0 gives 32767 (TFLite Micro fails its
 * invoke for x < 0: the kernel gives the value of x == 1 there). */
typedef struct {
    int32_t mult, shift;
} tcc_rsqrt_s16_params;
void tcc_rsqrt_s16(const tcc_rsqrt_s16_params *p, const int16_t *in, int16_t *out, int32_t n);

#endif /* TCC_NORMALIZE_H */
