/* tinycc runtime: reductions.
 *
 * Semantics (TFLite Micro reduce.cc / reference reduce.h, arg_min_max.h):
 *  - int8 (int16, uint8) MEAN and SUM (QuantizedMeanOrSum): the int32 sum s of the n reduced values gives
 *      out = clamp(MultiplyByQuantizedMultiplier(s - in_zp * n, mult, shift) + out_zp)
 *    where mult/shift encode in_scale / out_scale, for MEAN with 1/n folded in at compile time
 *    (shift' = floor(log2 n) capped, mult' = (mult << shift') / n), clamped to the type. uint8 MEAN
 *    is TFLite's uint8 reference (TFLite Micro has none; its optimized kernels round differently).
 *  - float MEAN/SUM: the float sum in the input's row-major order (MEAN divides by (float)n).
 *  - REDUCE_MAX/MIN: running max/min from the type's lowest/highest value (int8 keeps the
 *    input's quantization).
 *  - ARG_MAX/ARG_MIN: index of the first largest/smallest value along the axis (strict
 *    comparison), written as int32 or int64.
 * Every output element is produced in one pass over its reduced elements (in row-major order,
 * the order TFLite adds them in), so no scratch accumulator is needed.
 */
#include <float.h>
#include "tcc_reduce.h"
#include "tcc_common.h"

/* For every output element (kept dims, row-major): base = its first input element; the body
 * `per_out` runs with `base` and `o` (output index) and may use TCC_REDUCE_INNER. */
#define TCC_REDUCE_OUTER(p, per_out)                                                          \
    do {                                                                                      \
        int32_t o = 0;                                                                        \
        for (int32_t k0 = 0; k0 < (p)->kdims[0]; ++k0)                                        \
        for (int32_t k1 = 0; k1 < (p)->kdims[1]; ++k1)                                        \
        for (int32_t k2 = 0; k2 < (p)->kdims[2]; ++k2)                                        \
        for (int32_t k3 = 0; k3 < (p)->kdims[3]; ++k3)                                        \
        for (int32_t k4 = 0; k4 < (p)->kdims[4]; ++k4)                                        \
        for (int32_t k5 = 0; k5 < (p)->kdims[5]; ++k5, ++o) {                                 \
            const int32_t base = k0 * (p)->kstrides[0] + k1 * (p)->kstrides[1]                \
                + k2 * (p)->kstrides[2] + k3 * (p)->kstrides[3] + k4 * (p)->kstrides[4]       \
                + k5 * (p)->kstrides[5];                                                      \
            per_out                                                                           \
        }                                                                                     \
    } while (0)

/* Visit the reduced elements of one output in row-major order: `i` is the input index, `r`
 * counts visited elements from 0. */
#define TCC_REDUCE_INNER(p, base, body)                                                       \
    do {                                                                                      \
        int32_t r = 0;                                                                        \
        for (int32_t r0 = 0; r0 < (p)->rdims[0]; ++r0)                                        \
        for (int32_t r1 = 0; r1 < (p)->rdims[1]; ++r1)                                        \
        for (int32_t r2 = 0; r2 < (p)->rdims[2]; ++r2)                                        \
        for (int32_t r3 = 0; r3 < (p)->rdims[3]; ++r3)                                        \
        for (int32_t r4 = 0; r4 < (p)->rdims[4]; ++r4) {                                      \
            int32_t i = (base) + r0 * (p)->rstrides[0] + r1 * (p)->rstrides[1]                \
                + r2 * (p)->rstrides[2] + r3 * (p)->rstrides[3] + r4 * (p)->rstrides[4];      \
            for (int32_t r5 = 0; r5 < (p)->rdims[5]; ++r5, ++r, i += (p)->rstrides[5]) {      \
                body                                                                          \
            }                                                                                 \
        }                                                                                     \
        (void)r;                                                                              \
    } while (0)

/* MEAN and SUM of a quantized type (QuantizedMeanOrSum): the int32 sum, less in_zp per element,
 * requantized, + out_zp, clamped to [lo, hi]. */
#define TCC_REDUCE_QSUM(name, type, lo, hi)                                                   \
    void name(const tcc_reduce_params *p, const type *in, type *out)                          \
    {                                                                                         \
        TCC_REDUCE_OUTER(p, {                                                                 \
            int32_t sum = 0;                                                                  \
            TCC_REDUCE_INNER(p, base, { sum += in[i]; });                                     \
            const int32_t shifted = (int32_t)((int64_t)sum - (int64_t)p->in_zp * p->count);   \
            const int32_t v = tcc_requantize(shifted, p->mult, p->shift) + p->out_zp;         \
            out[o] = (type)tcc_clamp(v, (lo), (hi));                                          \
        });                                                                                   \
    }

TCC_REDUCE_QSUM(tcc_reduce_sum_s8, int8_t, -128, 127)
#ifndef TCC_OMIT_REDUCE_SUM_S16  /* tinycc defines it when no op calls it */
TCC_REDUCE_QSUM(tcc_reduce_sum_s16, int16_t, INT16_MIN, INT16_MAX)   /* zero points 0 */
#endif
#ifndef TCC_OMIT_REDUCE_SUM_U8  /* tinycc defines it when no op calls it */
TCC_REDUCE_QSUM(tcc_reduce_sum_u8, uint8_t, 0, 255)                  /* MEAN of fully-uint8 models */
#endif

void tcc_reduce_sum_f32(const tcc_reduce_params *p, const float *in, float *out)
{
    TCC_REDUCE_OUTER(p, {
        float sum = 0.0f;
        TCC_REDUCE_INNER(p, base, { sum = in[i] + sum; });
        out[o] = sum;
    });
}

void tcc_reduce_mean_f32(const tcc_reduce_params *p, const float *in, float *out)
{
    TCC_REDUCE_OUTER(p, {
        float sum = 0.0f;
        TCC_REDUCE_INNER(p, base, { sum += in[i]; });
        out[o] = sum / (float)p->count;
    });
}

#define TCC_REDUCE_EXTREME(name, type, init, better)                                          \
    void name(const tcc_reduce_params *p, const type *in, type *out)                          \
    {                                                                                         \
        TCC_REDUCE_OUTER(p, {                                                                 \
            type best = (init);                                                               \
            TCC_REDUCE_INNER(p, base, { if (in[i] better best) { best = in[i]; } });          \
            out[o] = best;                                                                    \
        });                                                                                   \
    }

TCC_REDUCE_EXTREME(tcc_reduce_max_s8, int8_t, INT8_MIN, >)
TCC_REDUCE_EXTREME(tcc_reduce_min_s8, int8_t, INT8_MAX, <)
TCC_REDUCE_EXTREME(tcc_reduce_max_f32, float, -FLT_MAX, >)
TCC_REDUCE_EXTREME(tcc_reduce_min_f32, float, FLT_MAX, <)
TCC_REDUCE_EXTREME(tcc_reduce_all_b8, uint8_t, 1u, <)    /* REDUCE_ALL: the minimum of 0/1 bytes */

static void store_index(const tcc_reduce_params *p, void *out, int32_t o, int32_t index)
{
    if (p->out64) {
        ((int64_t *)out)[o] = index;
    } else {
        ((int32_t *)out)[o] = index;
    }
}

#define TCC_ARG_MINMAX(name, type)                                                            \
    void name(const tcc_reduce_params *p, const type *in, void *out)                          \
    {                                                                                         \
        TCC_REDUCE_OUTER(p, {                                                                 \
            type best = in[base];                                                             \
            int32_t best_index = 0;                                                           \
            TCC_REDUCE_INNER(p, base, {                                                       \
                if (p->is_min ? in[i] < best : in[i] > best) { best = in[i]; best_index = r; } \
            });                                                                               \
            store_index(p, out, o, best_index);                                               \
        });                                                                                   \
    }

TCC_ARG_MINMAX(tcc_arg_minmax_s8, int8_t)
TCC_ARG_MINMAX(tcc_arg_minmax_f32, float)
