/* tinycc runtime: UNIDIRECTIONAL_SEQUENCE_LSTM (TFLite builtin), float32, int8 (int16 cell state) and
 * 16x8 (int16 activations and cell state, int8 weights, int64 bias). */
#ifndef TCC_LSTM_H
#define TCC_LSTM_H

#include <stdint.h>

/* Gates in the order input, forget, cell, output. No peephole, projection or layer norm
 * (TFLite Micro supports none of them), so the hidden state has n_cell elements. */
typedef struct {
    int32_t time, batches, n_input, n_cell;
    int32_t time_major;                     /* input [time][batches][n_input], else [batches][time][n_input] */
    int32_t cell_sigmoid;                   /* the cell gate's activation: 1 sigmoid, 0 tanh */
    float cell_clip;                        /* > 0: the cell state is clipped to [-clip, clip] */
    const float *w_in[4];                   /* [n_cell][n_input] */
    const float *w_rec[4];                  /* [n_cell][n_cell] */
    const float *bias[4];                   /* [n_cell] */
} tcc_lstm_f32_params;

/* hidden, cell: [batches][n_cell], kept between calls; scratch: 4 * n_cell floats. */
void tcc_lstm_f32(const tcc_lstm_f32_params *p, const float *in, float *hidden, float *cell, float *out,
                  float *scratch);

/* The integer LSTM (TFLite Micro's integer LstmStep): gate pre-activations in Q3.12, gate outputs
 * in Q0.15, the cell state in int16 at a power-of-two scale. Gates in the order input, forget,
 * cell, output. */
typedef struct {
    int32_t time, batches, n_input, n_cell;
    int32_t time_major;                     /* input [time][batches][n_input], else [batches][time][n_input] */
    const int8_t *w_in[4];                  /* [n_cell][n_input] */
    const int8_t *w_rec[4];                 /* [n_cell][n_cell] */
    const int32_t *bias_in[4];              /* int8: bias - input zp * row sums of w_in */
    const int32_t *bias_rec[4];             /* int8: - hidden zp * row sums of w_rec */
    const int64_t *bias64[4];               /* 16x8: the model's int64 bias */
    int32_t mult_in[4], shift_in[4];        /* input x w_in -> Q3.12 */
    int32_t mult_rec[4], shift_rec[4];      /* hidden x w_rec -> Q3.12 */
    int32_t forget_mult, forget_shift;      /* forget gate x cell -> cell */
    int32_t input_mult, input_shift;        /* input gate x cell gate -> cell */
    int32_t hidden_mult, hidden_shift;      /* output gate x tanh(cell) -> hidden */
    int32_t hidden_zp, hidden_min, hidden_max;
    int32_t tanh_mult, tanh_shift;          /* the cell state onto the sigmoid table's units */
    int32_t cell_clip;                      /* > 0: the cell state is clipped to [-clip, clip] */
    const uint16_t *table;                  /* TFLite's 256-knot sigmoid table */
    /* the DSP kernels only (arm/tcc_arm_lstm.c): SMMLAR records {mult, add, shift, lshift} of the
     * requantizations, per gate of the input and recurrent products (rq_in, rq_rec), and of the cell
     * update's forget x cell, input x cell gate and tanh(cell) x output (rq_cell[0 .. 2]); rq_cell[3]:
     * the cell state onto tanh's input, {tanh_mult, its rounding constant, tanh_shift, 0} */
    int32_t rq_in[4][4], rq_rec[4][4], rq_cell[4][4];
    /* the DSP kernels' weights (they read neither w_in / w_rec nor the biases), per cell the 4
     * gates' biases (int32), then their rows: tcc_arm_lstm_s8 / _s16 int8 words of the 4 gates per
     * group of 4 inputs, the cell's input block then its recurrent one (w8); tcc_arm_lstm_w_s8 /
     * _s16 int16 pair words as one block of 4 rows (w16_in, w16_rec) */
    const int32_t *w8, *w16_in, *w16_rec;
} tcc_lstm_q_params;

/* hidden [batches][n_cell] (the activation type) and cell [batches][n_cell] (int16), kept between
 * calls; scratch: 4 * n_cell int16. */
void tcc_lstm_s8(const tcc_lstm_q_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
                 int16_t *scratch);
void tcc_lstm_s16(const tcc_lstm_q_params *p, const int16_t *in, int16_t *hidden, int16_t *cell, int16_t *out,
                  int16_t *scratch);

#endif /* TCC_LSTM_H */
