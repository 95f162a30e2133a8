/* tinycc runtime: FULLY_CONNECTED.
 *
 * Semantics (TFLite reference FullyConnected, int8 with symmetric weights):
 *   acc = bias[o] + sum_d w[o][d] * (x[d] - in_zp)
 *   out = clamp(requantize(acc, mult[o], shift[o]) + out_zp, act_min, act_max)
 * The in_zp term is folded into the bias at compile time. TFLite's int8 kernel rounds once
 * (single_round), TFLite Micro's twice.
 */
#include "tcc_fully_connected.h"
#include "tcc_common.h"

#include <stddef.h>

void tcc_fully_connected_s8(const tcc_fully_connected_s8_params *p, const int8_t *in, int8_t *out)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * p->in_depth;
        const int8_t *w = p->weights;
        for (int32_t o = 0; o < p->out_depth; ++o) {
            int32_t acc = p->bias[o];
            for (int32_t d = 0; d < p->in_depth; ++d) {
                acc += (int32_t)w[d] * x[d];
            }
            w += p->in_depth;
            acc = (p->single_round ? tcc_requantize_once(acc, p->mult[o], p->shift[o])
                                   : tcc_requantize(acc, p->mult[o], p->shift[o])) + p->out_zp;
            *out++ = (int8_t)tcc_clamp(acc, p->act_min, p->act_max);
        }
    }
}

#ifndef TCC_OMIT_FULLY_CONNECTED_S16  /* tinycc defines it when no op calls it */
/* 16x8 (reference_integer_ops::FullyConnected for int16): acc = sum_d w[o][d] * x[d] + bias[o]
 * in the bias type, requantized, clamped; zero points are 0. */
void tcc_fully_connected_s16(const tcc_fully_connected_s16_params *p, const int16_t *in, int16_t *out)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *x = in + b * p->in_depth;
        const int8_t *w = p->weights;
        for (int32_t o = 0; o < p->out_depth; ++o) {
            int64_t acc = 0;
            for (int32_t d = 0; d < p->in_depth; ++d) {
                acc += (int32_t)w[d] * x[d];
            }
            w += p->in_depth;
            if (p->bias != NULL) acc += p->bias[o];
            *out++ = (int16_t)tcc_clamp(tcc_requantize_acc(acc, p->mult[o], p->shift[o], p->acc64),
                                        p->act_min, p->act_max);
        }
    }
}
#endif

#ifndef TCC_OMIT_FULLY_CONNECTED_F32  /* tinycc defines it when no op calls it */
/* Float: out = clamp(sum_d x[d] * w[o][d] (in order), then + bias). */
void tcc_fully_connected_f32(const tcc_fully_connected_f32_params *p, const float *in, float *out)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *x = in + b * p->in_depth;
        const float *w = p->weights;
        for (int32_t o = 0; o < p->out_depth; ++o) {
            float acc = 0.0f;
            for (int32_t d = 0; d < p->in_depth; ++d) {
                acc += x[d] * w[d];
            }
            w += p->in_depth;
            if (p->bias != NULL) acc += p->bias[o];
            *out++ = tcc_clampf(acc, p->act_min, p->act_max);
        }
    }
}
#endif
