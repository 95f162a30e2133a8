/* tinycc runtime: CIRCULAR_BUFFER (TFLite Micro's custom op for strided streaming models), int8. */
#ifndef TCC_CIRCULAR_BUFFER_H
#define TCC_CIRCULAR_BUFFER_H

#include <stdint.h>

/* frames (slots * depth bytes, state) drops its oldest frame and takes x (depth bytes) at its end;
 * out (the op's output, out_size bytes) gets a copy of it, then zeros (the batches after the first). *count (state, 0 at the start) counts the invokes of
 * the current period. Returns 0 when the period is complete (count back to 0), 1 on the other
 * invokes (TFLite Micro's kernel returns kTfLiteAbort there). valid (NULL: none) gets !result. */
int tcc_circular_buffer_s8(const int8_t *x, int8_t *frames, int32_t *count, int32_t slots, int32_t depth,
                           int32_t period, int8_t *out, int32_t out_size, uint8_t *valid);

#endif
