/* tinycc runtime: SVDF.
 *
 * Semantics (TFLite Micro svdf_common.cc), per batch b, one call = one time step:
 *   1. shift the whole state left by one element;
 *   2. state[b][f][memory-1] = weights_feature[f] . in[b]
 *      int8: clamp(requantize(acc, mult1, shift1) + state_zp) to the state type;
 *   3. s[f] = sum_j weights_time[f][j] * (state[b][f][j] - state_zp), in order from 0;
 *   4. out[b][u] = bias[u], then += s[u*rank + k] for k = 0..rank-1;
 *      float: clamp to the fused activation; int8: clamp(requantize(., mult2, shift2) + out_zp).
 * Step 4 adds each s[f] as soon as it is computed: the same operations in the same order
 * as TFLite Micro's scratch buffers, without them.
 */
#include "tcc_svdf.h"
#include "tcc_common.h"

#include <stddef.h>
#include <string.h>

#ifndef TCC_OMIT_SVDF_F32  /* tinycc defines it when no op calls it */
void tcc_svdf_f32(const tcc_svdf_f32_params *p, const float *in, float *state, float *out)
{
    const int32_t per_batch = p->filters * p->memory;
    memmove(state, state + 1, ((size_t)p->batches * (size_t)per_batch - 1u) * sizeof(float));
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *x = in + b * p->input_size;
        float *s = state + b * per_batch;
        const float *wf = p->weights_feature;
        for (int32_t f = 0; f < p->filters; ++f) {
            float acc = 0.0f;
            for (int32_t d = 0; d < p->input_size; ++d) {
                acc += *wf++ * x[d];
            }
            s[f * p->memory + p->memory - 1] = acc;
        }
        const float *wt = p->weights_time;
        for (int32_t u = 0; u < p->units; ++u) {
            float acc = p->bias[u];
            for (int32_t k = 0; k < p->rank; ++k) {
                float dot = 0.0f;
                for (int32_t j = 0; j < p->memory; ++j) {
                    dot += *wt++ * *s++;
                }
                acc += dot;
            }
            *out++ = tcc_clampf(acc, p->act_min, p->act_max);
        }
    }
}
#endif

#if !defined(TCC_OMIT_SVDF_S8_S16) || !defined(TCC_OMIT_SVDF_S8_S8)
/* Steps 2 and 4 of the integer SVDF, shared by both state types. */
static int32_t tcc_svdf_feature(const tcc_svdf_s8_params *p, const int8_t *x, int32_t f, int32_t lo, int32_t hi)
{
    const int8_t *w = p->weights_feature + f * p->input_size;
    int32_t acc = p->feature_bias[f];
    for (int32_t d = 0; d < p->input_size; ++d) {
        acc += (int32_t)w[d] * x[d];
    }
    return tcc_clamp(tcc_requantize(acc, p->mult1, p->shift1) + p->state_zp, lo, hi);
}

static int8_t tcc_svdf_output(const tcc_svdf_s8_params *p, int32_t acc)
{
    return (int8_t)tcc_clamp(tcc_requantize(acc, p->mult2, p->shift2) + p->out_zp, -128, 127);
}
#endif

#ifndef TCC_OMIT_SVDF_S8_S16
void tcc_svdf_s8_s16(const tcc_svdf_s8_params *p, const int8_t *in, int16_t *state, int8_t *out)
{
    const int32_t per_batch = p->filters * p->memory;
    memmove(state, state + 1, ((size_t)p->batches * (size_t)per_batch - 1u) * sizeof(int16_t));
    for (int32_t b = 0; b < p->batches; ++b) {
        int16_t *s = state + b * per_batch;
        for (int32_t f = 0; f < p->filters; ++f) {
            s[f * p->memory + p->memory - 1] =
                (int16_t)tcc_svdf_feature(p, in + b * p->input_size, f, -32768, 32767);
        }
        const int16_t *wt = (const int16_t *)p->weights_time;
        for (int32_t u = 0; u < p->units; ++u) {
            int32_t acc = p->bias[u];
            for (int32_t k = 0; k < p->rank; ++k) {
                for (int32_t j = 0; j < p->memory; ++j) {
                    acc += (int32_t)*wt++ * ((int32_t)*s++ - p->state_zp);
                }
            }
            *out++ = tcc_svdf_output(p, acc);
        }
    }
}
#endif

#ifndef TCC_OMIT_SVDF_S8_S8
void tcc_svdf_s8_s8(const tcc_svdf_s8_params *p, const int8_t *in, int8_t *state, int8_t *out)
{
    const int32_t per_batch = p->filters * p->memory;
    memmove(state, state + 1, ((size_t)p->batches * (size_t)per_batch - 1u) * sizeof(int8_t));
    for (int32_t b = 0; b < p->batches; ++b) {
        int8_t *s = state + b * per_batch;
        for (int32_t f = 0; f < p->filters; ++f) {
            s[f * p->memory + p->memory - 1] =
                (int8_t)tcc_svdf_feature(p, in + b * p->input_size, f, -128, 127);
        }
        const int8_t *wt = (const int8_t *)p->weights_time;
        for (int32_t u = 0; u < p->units; ++u) {
            int32_t acc = p->bias[u];
            for (int32_t k = 0; k < p->rank; ++k) {
                for (int32_t j = 0; j < p->memory; ++j) {
                    acc += (int32_t)*wt++ * ((int32_t)*s++ - p->state_zp);
                }
            }
            *out++ = tcc_svdf_output(p, acc);
        }
    }
}
#endif
