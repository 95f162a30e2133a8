/* tinycc runtime, Cortex-M DSP: DEPTHWISE_CONV_2D int8 with int8 weights in flash (issue 14).
 *
 * tcc_arm_dw8_3x3_s8: 3x3, stride 1 or 2 (both ways), dilation 1, depth multiplier 1. The
 * constants stay compact in flash (18 bytes per channel, against 21 for the plain kernel): the
 * 9 int8 taps and one shift byte, the Q31 multiplier and the scaled bias. At each call the
 * kernel writes every channel's 10-word record of tcc_arm_depthwise3x3_s8 (tcc_arm.h: mult,
 * add, shift, bias, 6 int16 pair words of the taps times 2^(left+1)) into the start of its
 * scratch, then runs tcc_arm_depthwise3x3_s8 on them (planar int16 lines, SMLAD on tap pairs):
 * the same arithmetic, lines, chunks, write order and in-place rules.
 *
 * Constants (tinycc/variants/arm_dw8.py: pack):
 *   taps   [channels][TCC_ARM_DW8_TAP_BYTES] int8: the 9 taps w[k][j] (k-major), where w[k][j]
 *          is the filter tap (ky=k, kx=j), or (ky=j, kx=k) when transposed; then the shift
 *          byte s | (left + 1 - 1) << 5 (s the right shift 0..22, left + 1 in 1..8)
 *   mult   [channels] int32: the Q31 multiplier, 0 for a constant channel
 *   bias   [channels] int32: the zero-point-folded bias times 2^(left+1); for a constant
 *          channel (mult 0) its output value (the record's add; taps and bias then 0)
 *
 * Scratch: TCC_ARM_DW8_RECORD_BYTES * channels bytes of records, then the scratch of
 * tcc_arm_depthwise3x3_s8 (TCC_ARM_DW3X3_SCRATCH).
 */
#ifndef TCC_ARM_DW8_H
#define TCC_ARM_DW8_H

#include <stdint.h>

#include "tcc_arm.h"

#define TCC_ARM_DW8_TAP_BYTES 10
#define TCC_ARM_DW8_RECORD_BYTES 40

typedef struct {
    tcc_arm_depthwise3x3_s8_params dw;  /* its records are ignored (built in the scratch) */
    int32_t out_zp;
    const int8_t *taps;
    const int32_t *mult;
    const int32_t *bias;
} tcc_arm_dw8_3x3_s8_params;

void tcc_arm_dw8_3x3_s8(const tcc_arm_dw8_3x3_s8_params *p, const int8_t *in, int8_t *out, void *scratch);

#endif /* TCC_ARM_DW8_H */
