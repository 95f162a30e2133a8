/* tinycc runtime: CUMSUM (TFLite builtin), float32 and int8. */
#ifndef TCC_CUMSUM_H
#define TCC_CUMSUM_H

#include <stdint.h>

/* Running sums along one axis of [outer, axis, inner], in TFLite's order (from the last element
 * when reverse; exclusive: each output is the sum before its element). */
void tcc_cumsum_f32(const float *in, float *out, int32_t outer, int32_t axis, int32_t inner,
                    int32_t exclusive, int32_t reverse);

/* int8, TFLite Micro's quantized CumSum: q = {input offset (-zp_in), input multiplier, input
 * shift, output multiplier, output shift, output zero point}. Every input (x - zp_in) << 20 is
 * rescaled by the input multiplier into an int32 accumulator that starts at the rescaled input
 * offset, as TFLite Micro's does; each output is the accumulator rescaled, + zp_out, clamped. */
void tcc_cumsum_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t axis, int32_t inner,
                   int32_t exclusive, int32_t reverse, const int32_t *q);

#endif
