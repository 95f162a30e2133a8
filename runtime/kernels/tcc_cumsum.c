/* tinycc runtime: CUMSUM, TFLite reference CumSum: for every (outer, inner) line, one float
 * accumulator runs along the axis (backwards when reverse); an exclusive sum stores the
 * accumulator before adding the element, an inclusive one after. In place is safe: each element
 * is read before its output is written. */
#include "tcc_cumsum.h"

#include <stddef.h>

#include "tcc_common.h"

#define TCC_CUMSUM_LEFT_SHIFT 20

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

void tcc_cumsum_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t axis, int32_t inner,
                   int32_t exclusive, int32_t reverse, const int32_t *q)
{
    const int32_t start = tcc_requantize((int32_t)((uint32_t)q[0] << TCC_CUMSUM_LEFT_SHIFT), q[1], q[2]);
    for (int32_t o = 0; o < outer; ++o) {
        for (int32_t i = 0; i < inner; ++i) {
            int32_t acc = start;
            for (int32_t a = 0; a < axis; ++a) {
                const int32_t k = reverse ? axis - 1 - a : a;
                const size_t at = ((size_t)o * (size_t)axis + (size_t)k) * (size_t)inner + (size_t)i;
                const int32_t y = (int32_t)((uint32_t)(q[0] + in[at]) << TCC_CUMSUM_LEFT_SHIFT);
                const int32_t scaled = tcc_requantize(y, q[1], q[2]);
                int32_t sum = acc;
                acc = (int32_t)((uint32_t)acc + (uint32_t)scaled);   /* wraps like TFLite Micro's */
                if (!exclusive) {
                    sum = acc;
                }
                out[at] = (int8_t)tcc_clamp(tcc_requantize(sum, q[3], q[4]) + q[5], -128, 127);
            }
        }
    }
}
