/* tinycc runtime: TOPK_V2.
 *
 * Semantics (TFLite topk_v2.cc, TopContainer): the k elements of each last-axis row that come
 * first in the order "larger value first, equal values by lower index", in that order. The
 * row is scanned once; the kept elements stay sorted in the outputs, and element i moves up
 * past every kept element whose value it strictly exceeds (kept ones have lower indices, so
 * they win ties). The input must not overlap the outputs.
 */
#include "tcc_topk.h"

#define TCC_TOPK_DEF(suffix, type)                                                                 \
    void tcc_topk_##suffix(const type *in, int32_t rows, int32_t n, int32_t k, type *values, int32_t *indices) \
    {                                                                                              \
        for (int32_t r = 0; r < rows; ++r) {                                                       \
            const type *x = in + r * n;                                                            \
            type *v = values + r * k;                                                              \
            int32_t *idx = indices + r * k;                                                        \
            int32_t kept = 0;                                                                      \
            for (int32_t i = 0; i < n && k > 0; ++i) {                                             \
                if (kept == k && !(x[i] > v[k - 1])) {                                             \
                    continue;                                                                      \
                }                                                                                  \
                int32_t p = kept < k ? kept++ : k - 1;                                             \
                while (p > 0 && x[i] > v[p - 1]) {                                                 \
                    v[p] = v[p - 1];                                                               \
                    idx[p] = idx[p - 1];                                                           \
                    --p;                                                                           \
                }                                                                                  \
                v[p] = x[i];                                                                       \
                idx[p] = i;                                                                        \
            }                                                                                      \
        }                                                                                          \
    }
TCC_TOPK_DEF(f32, float)
TCC_TOPK_DEF(s8, int8_t)
TCC_TOPK_DEF(u8, uint8_t)
TCC_TOPK_DEF(s16, int16_t)
TCC_TOPK_DEF(s32, int32_t)
TCC_TOPK_DEF(s64, int64_t)
