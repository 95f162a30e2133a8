/* tinycc runtime: BATCH_MATMUL.
 *
 * Semantics (TFLite reference BatchMatMul, as TFLite Micro runs it): for every broadcast batch
 * and output (m, n), total = sum over k in increasing order of
 *   int8:  (lhs + lhs_offset) * (rhs + rhs_offset)   (int32), then
 *          out = clamp(MultiplyByQuantizedMultiplier(total, out_mult, out_shift) + out_zp, -128, 127)
 *   float: lhs * rhs, from 0.0f.
 * No fused activation. adj_x / adj_y only change the element strides.
 */
#include "tcc_batch_matmul.h"
#include "tcc_common.h"

#define TCC_BMM_LOOP(p, body)                                                                 \
    for (int32_t b0 = 0; b0 < (p)->bdims[0]; ++b0)                                            \
    for (int32_t b1 = 0; b1 < (p)->bdims[1]; ++b1)                                            \
    for (int32_t b2 = 0; b2 < (p)->bdims[2]; ++b2)                                            \
    for (int32_t b3 = 0; b3 < (p)->bdims[3]; ++b3) {                                          \
        const int32_t lb = b0 * (p)->lhs_bstrides[0] + b1 * (p)->lhs_bstrides[1]              \
                         + b2 * (p)->lhs_bstrides[2] + b3 * (p)->lhs_bstrides[3];             \
        const int32_t rb = b0 * (p)->rhs_bstrides[0] + b1 * (p)->rhs_bstrides[1]              \
                         + b2 * (p)->rhs_bstrides[2] + b3 * (p)->rhs_bstrides[3];             \
        for (int32_t i = 0; i < (p)->m; ++i)                                                  \
        for (int32_t j = 0; j < (p)->n; ++j) {                                                \
            const int32_t li = lb + i * (p)->lhs_sm, rj = rb + j * (p)->rhs_sn;               \
            body                                                                              \
        }                                                                                     \
    }

void tcc_batch_matmul_s8(const tcc_batch_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *out)
{
    TCC_BMM_LOOP(p, {
        int32_t total = 0;
        for (int32_t k = 0; k < p->k; ++k) {
            total += (lhs[li + k * p->lhs_sk] + p->lhs_offset) * (rhs[rj + k * p->rhs_sk] + p->rhs_offset);
        }
        const int32_t v = tcc_requantize(total, p->out_mult, p->out_shift) + p->out_zp;
        *out++ = (int8_t)tcc_clamp(v, -128, 127);
    })
}

#ifndef TCC_OMIT_BATCH_MATMUL_S16  /* tinycc defines it when no op calls it */
/* int16 (zero points 0): BatchMatMul<int16_t, int64_t>, the int64 MultiplyByQuantizedMultiplier. */
void tcc_batch_matmul_s16(const tcc_batch_matmul_params *p, const int16_t *lhs, const int16_t *rhs, int16_t *out)
{
    TCC_BMM_LOOP(p, {
        int64_t total = 0;
        for (int32_t k = 0; k < p->k; ++k) {
            total += (int32_t)lhs[li + k * p->lhs_sk] * rhs[rj + k * p->rhs_sk];
        }
        *out++ = (int16_t)tcc_clamp(tcc_requantize64(total, p->out_mult, p->out_shift), INT16_MIN, INT16_MAX);
    })
}
#endif

void tcc_batch_matmul_f32(const tcc_batch_matmul_params *p, const float *lhs, const float *rhs, float *out)
{
    TCC_BMM_LOOP(p, {
        float total = 0.0f;
        for (int32_t k = 0; k < p->k; ++k) {
            total += lhs[li + k * p->lhs_sk] * rhs[rj + k * p->rhs_sk];
        }
        *out++ = total;
    })
}
