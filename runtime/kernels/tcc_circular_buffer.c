/* tinycc runtime: CIRCULAR_BUFFER, as TFLite Micro's circular_buffer kernel computes it: shift the
 * buffer one frame towards its start (memmove), the new frame at the end, then count the invoke
 * (cycles_until_run: the op lets the model run on every period-th invoke). A batch above 1: the first
 * batch only, as TFLite Micro's kernel; the rest of the output (out_size bytes in all) is zeroed. */
#include "tcc_circular_buffer.h"

#include <string.h>

int tcc_circular_buffer_s8(const int8_t *x, int8_t *frames, int32_t *count, int32_t slots, int32_t depth,
                           int32_t period, int8_t *out, int32_t out_size, uint8_t *valid)
{
    int ready;
    memmove(frames, frames + depth, (size_t)(slots - 1) * (size_t)depth);
    memcpy(frames + (size_t)(slots - 1) * (size_t)depth, x, (size_t)depth);
    memcpy(out, frames, (size_t)slots * (size_t)depth);
    memset(out + (size_t)slots * (size_t)depth, 0, (size_t)out_size - (size_t)slots * (size_t)depth);
    *count += 1;
    ready = *count >= period;
    if (ready) {
        *count = 0;
    }
    if (valid != NULL) {
        *valid = (uint8_t)ready;
    }
    return ready ? 0 : 1;
}
