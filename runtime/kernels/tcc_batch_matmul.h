/* tinycc runtime: BATCH_MATMUL (TFLite builtin), int8 (per-tensor), int16 and float32. */
#ifndef TCC_BATCH_MATMUL_H
#define TCC_BATCH_MATMUL_H

#include <stdint.h>

/* out[b][m][n] = sum_k lhs[b][m][k] * rhs[b][k][n]; batch dims (up to 4, padded with 1s at the
 * front) broadcast through zero strides; the matrices may be stored transposed (adj_x/adj_y)
 * through their element strides. */
typedef struct {
    int32_t bdims[4], lhs_bstrides[4], rhs_bstrides[4];
    int32_t m, n, k;
    int32_t lhs_sm, lhs_sk, rhs_sk, rhs_sn;
    int32_t lhs_offset, rhs_offset;         /* int8: minus the zero points */
    int32_t out_mult, out_shift, out_zp;    /* int8: lhs_scale * rhs_scale / out_scale */
} tcc_batch_matmul_params;

void tcc_batch_matmul_s8(const tcc_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *out);
void tcc_batch_matmul_s16(const tcc_batch_matmul_params *p, const int16_t *lhs, const int16_t *rhs, int16_t *out);
void tcc_batch_matmul_f32(const tcc_batch_matmul_params *p, const float *lhs, const float *rhs, float *out);

#endif /* TCC_BATCH_MATMUL_H */
