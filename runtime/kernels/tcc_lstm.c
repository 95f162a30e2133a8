/* tinycc runtime: UNIDIRECTIONAL_SEQUENCE_LSTM, float32 and integer (int8 and 16x8).
 *
 * Semantics (TFLite Micro lstm_eval.h, LstmStep), for every batch row and time step:
 *   gate[g][j] = (w_in[g][j] . x + bias[g][j]) + (w_rec[g][j] . h + 0)     (two FCs, then added)
 *   forget, input, output gates: logistic; cell gate: the fused activation (tanh or sigmoid);
 *   c = forget * c; c += input * cell_gate; clip c to [-cell_clip, cell_clip] when cell_clip > 0;
 *   h = tanh(c) * output; out[t] = h.
 * Rows are independent, so the time-major and batch-major layouts compute the same values;
 * only the input/output indexing differs.
 *
 * Integer (TFLite Micro's LstmStep on int16 cell state, lstm_eval.h), per row and time step:
 *   pre[g][j] = sat16(clamp16(rq(w_in[g][j] . (x - x_zp) + bias[g][j]))
 *                     + clamp16(rq(w_rec[g][j] . (h - h_zp))))           (two FCs onto Q3.12)
 *   int8 sums in int32 and requantizes like TFLite's int32 MultiplyByQuantizedMultiplier; 16x8 sums in
 *   int64 with the int64 bias and requantizes with the int64 one. The zero points are folded into
 *   the int32 biases at build time.
 *   gates: sigmoid (input, forget, output), tanh (cell), both on the Q3.12 value times 3 through
 *   TFLite's sigmoid table (tcc_sigmoid_s16.h), out in Q0.15;
 *   c = sat16(clamp16(rq(forget * c)) + clamp16(rq(input * cell_gate))), then the clip;
 *   h = clamp(h_zp + rq(tanh(c) * output), hidden range), tanh's input the cell state times
 *   tanh_mult >> tanh_shift; out[t] = h.
 */
#include "tcc_lstm.h"

#include <math.h>

#include "tcc_lstm_q.h"

#ifndef TCC_OMIT_LSTM_F32  /* tinycc defines it when no op calls it */
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

#endif

/* For activations of type xtype: name_dot, one row's product with an activation row summed in
 * acctype (int32: TFLite's int8 sums; int64: its 16x8 sums), and name, the gates function
 * (tcc_lstm_gates_fn) whose row pre-activation is PREACT, from the input product a and the
 * recurrent product r of gate g, row j. */
#define TCC_LSTM_GATES(name, xtype, acctype, PREACT)                                                  \
    static acctype name##_dot(const int8_t *w, const xtype *x, int32_t len)                             \
    {                                                                                                   \
        acctype acc = 0;                                                                                \
        for (int32_t k = 0; k < len; ++k) {                                                             \
            acc += (int32_t)w[k] * x[k];                                                                \
        }                                                                                               \
        return acc;                                                                                     \
    }                                                                                                   \
                                                                                                        \
    static void name(const tcc_lstm_q_params *p, const void *vx, const void *vh, int16_t *pre, void *work) \
    {                                                                                                   \
        const xtype *x = (const xtype *)vx, *h = (const xtype *)vh;                                     \
        const int32_t n = p->n_cell, ni = p->n_input;                                                   \
        (void)work;                                                                                     \
        for (int32_t g = 0; g < 4; ++g) {                                                               \
            for (int32_t j = 0; j < n; ++j) {                                                           \
                const acctype a = name##_dot(p->w_in[g] + j * ni, x, ni);                               \
                const acctype r = name##_dot(p->w_rec[g] + j * n, h, n);                                \
                pre[g * n + j] = (PREACT);                                                              \
            }                                                                                           \
        }                                                                                               \
    }

#ifndef TCC_OMIT_LSTM_S8  /* tinycc defines it when no op calls it */
TCC_LSTM_GATES(tcc_lstm_gates_s8, int8_t, int32_t,
               tcc_lstm_preact(tcc_requantize(a + p->bias_in[g][j], p->mult_in[g], p->shift_in[g]),
                               tcc_requantize(r + p->bias_rec[g][j], p->mult_rec[g], p->shift_rec[g])))

void tcc_lstm_s8(const tcc_lstm_q_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
                 int16_t *scratch)
{
    tcc_lstm_q_run(p, in, hidden, cell, out, scratch, 1, tcc_lstm_gates_s8, 0);
}
#endif

#ifndef TCC_OMIT_LSTM_S16  /* tinycc defines it when no op calls it */
TCC_LSTM_GATES(tcc_lstm_gates_s16, int16_t, int64_t,
               tcc_lstm_preact(tcc_requantize64(a + p->bias64[g][j], p->mult_in[g], p->shift_in[g]),
                               tcc_requantize64(r, p->mult_rec[g], p->shift_rec[g])))

void tcc_lstm_s16(const tcc_lstm_q_params *p, const int16_t *in, int16_t *hidden, int16_t *cell, int16_t *out,
                  int16_t *scratch)
{
    tcc_lstm_q_run(p, in, hidden, cell, out, scratch, 2, tcc_lstm_gates_s16, 0);
}
#endif
