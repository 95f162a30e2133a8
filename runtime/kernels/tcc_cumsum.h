/* tinycc runtime: CUMSUM (TFLite builtin), float32. */
#ifndef TCC_CUMSUM_H
#define TCC_CUMSUM_H

#include <stdint.h>

/* Running sums along one axis of [outer, axis, inner], in TFLite's order (from the last element
 * when reverse; exclusive: each output is the sum before its element). */
void tcc_cumsum_f32(const float *in, float *out, int32_t outer, int32_t axis, int32_t inner,
                    int32_t exclusive, int32_t reverse);

#endif
