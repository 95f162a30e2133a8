/* tinycc runtime: the integer LSTM's step outside the gates' matrix products, shared by the plain
 * kernels (tcc_lstm.c) and the Cortex-M DSP ones (arm/tcc_arm_lstm.c). Semantics: tcc_lstm.c. */
#ifndef TCC_LSTM_Q_H
#define TCC_LSTM_Q_H

#include <stdint.h>

#include "tcc_common.h"
#include "tcc_lstm.h"
#include "tcc_sigmoid_s16.h"

/* One step's gate pre-activations (Q3.12) of one row: pre[g * n_cell + j] from the input row x
 * and the hidden row h (int8 or int16); work: the kernel's own scratch after the gates. */
typedef void (*tcc_lstm_gates_fn)(const tcc_lstm_q_params *p, const void *x, const void *h, int16_t *pre,
                                  void *work);

static inline int16_t tcc_lstm_sat16(int32_t x)
{
    return (int16_t)tcc_clamp(x, INT16_MIN, INT16_MAX);
}

/* The two fully connected layers' int16 outputs added with saturation. */
static inline int16_t tcc_lstm_preact(int32_t a, int32_t r)
{
    return tcc_lstm_sat16(tcc_lstm_sat16(a) + tcc_lstm_sat16(r));
}

/* The gates from their pre-activations (gate: 4 rows of n_cell, Q3.12 in, Q0.15 out), the cell
 * update, and the new hidden values in the output gate's row. */
static inline void tcc_lstm_q_update(const tcc_lstm_q_params *p, int16_t *gate, int16_t *c)
{
    const int32_t n = p->n_cell;
    for (int32_t j = 0; j < 4 * n; ++j) {
        const int32_t d = gate[j] * 3;
        gate[j] = j / n == 2 ? tcc_tanh16(p->table, d) : tcc_sigmoid16(p->table, d);
    }
    for (int32_t j = 0; j < n; ++j) {
        const int32_t kept = tcc_requantize(gate[n + j] * c[j], p->forget_mult, p->forget_shift);
        const int32_t added = tcc_requantize(gate[j] * gate[2 * n + j], p->input_mult, p->input_shift);
        int32_t cj = tcc_lstm_preact(kept, added);
        if (p->cell_clip > 0) {
            cj = tcc_clamp(cj, -p->cell_clip, p->cell_clip);
        }
        c[j] = (int16_t)cj;
        const int32_t t = tcc_tanh16(p->table, tcc_sigmoid16_scale(cj, p->tanh_mult, p->tanh_shift));
        const int32_t h = p->hidden_zp + tcc_requantize(t * gate[3 * n + j], p->hidden_mult, p->hidden_shift);
        gate[3 * n + j] = (int16_t)tcc_clamp(h, p->hidden_min, p->hidden_max);
    }
}

/* Every row and time step: the gates (gates), the update, the hidden state and output row
 * (act_bytes 1: int8, 2: int16). scratch: the 4 gate rows, then the gates function's work. */
static inline void tcc_lstm_q_run(const tcc_lstm_q_params *p, const void *in, void *hidden, int16_t *cell,
                                  void *out, int16_t *scratch, int32_t act_bytes, tcc_lstm_gates_fn gates,
                                  void *work)
{
    const int32_t n = p->n_cell;
    for (int32_t b = 0; b < p->batches; ++b) {
        for (int32_t t = 0; t < p->time; ++t) {
            const int32_t row = p->time_major ? t * p->batches + b : b * p->time + t;
            const uint8_t *x = (const uint8_t *)in + row * p->n_input * act_bytes;
            gates(p, x, (uint8_t *)hidden + b * n * act_bytes, scratch, work);
            tcc_lstm_q_update(p, scratch, cell + b * n);
            for (int32_t j = 0; j < n; ++j) {
                const int16_t v = scratch[3 * n + j];
                if (act_bytes == 1) {
                    ((int8_t *)hidden)[b * n + j] = ((int8_t *)out)[row * n + j] = (int8_t)v;
                } else {
                    ((int16_t *)hidden)[b * n + j] = ((int16_t *)out)[row * n + j] = v;
                }
            }
        }
    }
}

#endif /* TCC_LSTM_Q_H */
