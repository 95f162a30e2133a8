/* tinycc runtime: TOPK_V2 (TFLite builtin; TFLite's semantics, TFLite Micro has none). */
#ifndef TCC_TOPK_H
#define TCC_TOPK_H

#include <stdint.h>

/* For each of ``rows`` rows of ``n`` elements: the k largest values, largest first (equal values:
 * lower index first), into values[row * k ...], their indices into indices[row * k ...]. */
#define TCC_TOPK_DECL(suffix, type)                                                                \
    void tcc_topk_##suffix(const type *in, int32_t rows, int32_t n, int32_t k, type *values, int32_t *indices);
TCC_TOPK_DECL(f32, float)
TCC_TOPK_DECL(s8, int8_t)
TCC_TOPK_DECL(u8, uint8_t)
TCC_TOPK_DECL(s16, int16_t)
TCC_TOPK_DECL(s32, int32_t)
TCC_TOPK_DECL(s64, int64_t)

#endif /* TCC_TOPK_H */
