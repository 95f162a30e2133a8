/* tinycc runtime: UNIDIRECTIONAL_SEQUENCE_LSTM, float32.
 *
 * Semantics (TFLite Micro lstm_eval.h, LstmStep), for every batch row and time step:
 *   gate[g][j] = (w_in[g][j] . x + bias[g][j]) + (w_rec[g][j] . h + 0)     (two FCs, then added)
 *   forget, input, output gates: logistic; cell gate: the fused activation (tanh or sigmoid);
 *   c = forget * c; c += input * cell_gate; clip c to [-cell_clip, cell_clip] when cell_clip > 0;
 *   h = tanh(c) * output; out[t] = h.
 * Rows are independent, so the time-major and batch-major layouts compute the same values;
 * only the input/output indexing differs.
 */
#include "tcc_lstm.h"

#include <math.h>

static float tcc_lstm_logistic(float x)
{
    /* reference_ops::Logistic (float) */
    if (x > 16.619047164916992188f) return 1.0f;
    if (x < -9.0f) return expf(x);
    return 1.0f / (1.0f + expf(-x));
}

static float tcc_lstm_dot(const float *w, const float *x, int32_t n)
{
    float acc = 0.0f;
    for (int32_t k = 0; k < n; ++k) {
        acc += x[k] * w[k];
    }
    return acc;
}

void tcc_lstm_f32(const tcc_lstm_f32_params *p, const float *in, float *hidden, float *cell, float *out,
                  float *scratch)
{
    const int32_t n = p->n_cell;
    for (int32_t b = 0; b < p->batches; ++b) {
        float *h = hidden + b * n;
        float *c = cell + b * n;
        for (int32_t t = 0; t < p->time; ++t) {
            const int32_t row = p->time_major ? t * p->batches + b : b * p->time + t;
            const float *x = in + row * p->n_input;
            for (int32_t g = 0; g < 4; ++g) {
                float *gate = scratch + g * n;
                for (int32_t j = 0; j < n; ++j) {
                    float a = tcc_lstm_dot(p->w_in[g] + j * p->n_input, x, p->n_input) + p->bias[g][j];
                    float r = tcc_lstm_dot(p->w_rec[g] + j * n, h, n) + 0.0f;
                    float v = a + r;
                    gate[j] = (g == 2 && !p->cell_sigmoid) ? tanhf(v) : tcc_lstm_logistic(v);
                }
            }
            for (int32_t j = 0; j < n; ++j) {
                float cj = scratch[n + j] * c[j];          /* forget * cell */
                cj = cj + scratch[j] * scratch[2 * n + j];  /* + input * cell gate */
                if (p->cell_clip > 0.0f) {
                    cj = cj < -p->cell_clip ? -p->cell_clip : (cj > p->cell_clip ? p->cell_clip : cj);
                }
                c[j] = cj;
            }
            float *y = out + row * n;
            for (int32_t j = 0; j < n; ++j) {
                h[j] = tanhf(c[j]) * scratch[3 * n + j];
                y[j] = h[j];
            }
        }
    }
}
