/* tinycc runtime: CUMSUM, TFLite reference CumSum: for every (outer, inner) line, one float
 * accumulator runs along the axis (backwards when reverse); an exclusive sum stores the
 * accumulator before adding the element, an inclusive one after. In place is safe: each element
 * is read before its output is written. */
#include "tcc_cumsum.h"

#include <stddef.h>

void tcc_cumsum_f32(const float *in, float *out, int32_t outer, int32_t axis, int32_t inner,
                    int32_t exclusive, int32_t reverse)
{
    for (int32_t o = 0; o < outer; ++o) {
        for (int32_t i = 0; i < inner; ++i) {
            float acc = 0.0f;
            for (int32_t a = 0; a < axis; ++a) {
                const int32_t k = reverse ? axis - 1 - a : a;
                const size_t at = ((size_t)o * (size_t)axis + (size_t)k) * (size_t)inner + (size_t)i;
                const float x = in[at];
                if (exclusive) {
                    out[at] = acc;
                    acc += x;
                } else {
                    acc += x;
                    out[at] = acc;
                }
            }
        }
    }
}
