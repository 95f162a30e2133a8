/* tinycc runtime, Cortex-M DSP kernels: the integer UNIDIRECTIONAL_SEQUENCE_LSTM (tcc_arm_lstm.c).
 * tcc_arm_lstm_s8 / _s16 (declared in tcc_arm.h): the int8 weights interleaved (w8);
 * tcc_arm_lstm_w_s8 / _s16: the gates' weights widened to int16 pair words (tcc_lstm_q_params'
 * w16_in / w16_rec; even n_input and n_cell); scratch: tinycc/variants/arm_lstm.py's
 * scratch_bytes. */
#ifndef TCC_ARM_LSTM_H
#define TCC_ARM_LSTM_H

#include "tcc_arm.h"

void tcc_arm_lstm_w_s8(const tcc_lstm_q_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
                       int16_t *scratch);
void tcc_arm_lstm_w_s16(const tcc_lstm_q_params *p, const int16_t *in, int16_t *hidden, int16_t *cell,
                        int16_t *out, int16_t *scratch);

#endif /* TCC_ARM_LSTM_H */
