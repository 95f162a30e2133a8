/* tinycc runtime, Cortex-M DSP kernels: the int8 SVDF with an int16 state (zero point 0). */
#ifndef TCC_ARM_SVDF_H
#define TCC_ARM_SVDF_H

#include <stdint.h>

#include "tcc_svdf.h"

/* p: the plain kernel's params (tcc_svdf.h; state_zp is 0; weights_feature unused, may be NULL).
 * wf16: weights_feature widened to int16 pair words, per block of 4 filters (the last one padded
 * with zero filters) and group of 4 inputs (k0 .. k3; the last group zero-padded) 8 words: the 4 filters' (w[k0], w[k2]), then
 * their (w[k1], w[k3]). rq1: the state's requantization record {mult, add, shift, lshift}
 * (tinycc/packing.py pack_requant for the feature sums' bound). */
void tcc_arm_svdf_s8_s16(const tcc_svdf_s8_params *p, const int32_t *wf16, const int32_t *rq1, const int8_t *in,
                         int16_t *state, int8_t *out);

#endif /* TCC_ARM_SVDF_H */
