/* tinycc runtime: UNIDIRECTIONAL_SEQUENCE_LSTM (TFLite builtin), float32. */
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

#endif /* TCC_LSTM_H */
