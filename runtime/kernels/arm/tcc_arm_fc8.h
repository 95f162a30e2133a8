/* tinycc runtime, Cortex-M DSP: FULLY_CONNECTED int8 with int8 weights in flash (issue 14).
 *
 * Same semantics as tcc_fully_connected_s8 (TFLite FullyConnected, the input zero point folded
 * into the bias). The weights stay one byte each (the same bytes as the model's, reordered and
 * offset), so the op needs no more flash than the plain kernel.
 *
 * The row trick: two output rows A and B share one weight word per 2 reduction values,
 * bytes (a0 + 128, b0, a2 + 128, b2) (k0 and k2; a second word holds k1 and k3). Read as two
 * int16 lanes the word is exactly (a0 + 128 + 256 b0, a2 + 128 + 256 b2), so one SMLAD with the
 * input pair (x0, x2) adds  A + 256 B + 128 (x0 + x2)  to a "mixed" accumulator M, and
 * SXTB16 ROR 8 of the same word gives (b0, b2) for B's own SMLAD. At the end
 * A = M - 256 B - 128 * sum(x) (mod 2^32, exact since A and B fit int32): per 4 MACs of a row
 * pair one LDR, one SXTB16 and two SMLAD instead of two LDR, four SXTB16 and four SMLAD.
 *
 * Input: tcc_arm_fc8_s8 reads the int8 row (in_depth % 4 == 0) and widens each word in registers
 * (SXTB16, SXTB16 ROR 8) for every block of rows; tcc_arm_fc8_row_s8 first widens each batch row
 * once into the scratch as int16 pairs (x0, x2), (x1, x3) per group of 4 inputs (one cycle per
 * group less in the loop). sum(x) is taken once per batch row. The accumulators are multiplied
 * by 2^xshift (the requantization's 2^(left+1), equal for every row; tinycc's pack checks it)
 * before the requantization.
 *
 * Constants (tinycc/variants/arm_fc8.py: pack): rows in blocks of 4 (r0..r3, the last block
 * zero-padded); per block TCC_ARM_FC8_BLOCK_WORDS(groups) int32:
 *   tcc_arm_fc8_head    the accumulators' starts: M0 = b0 + 256 b1, B0 = b1, M1 = b2 + 256 b3,
 *                       B1 = b3 (mod 2^32; b the zero-point-folded bias, 0 for constant rows)
 *   groups x 4 words    per group of 4 inputs: (r0, r1) k0/k2, (r0, r1) k1/k3, (r2, r3) k0/k2,
 *                       (r2, r3) k1/k3, bytes as above (0 for the padding past in_depth)
 *   tcc_arm_rq[4]       the 4 rows' requantization (tcc_arm.h)
 * Rows with a right shift of 0 need not apply (the asm always adds acc >> 31 before the shift),
 * unless constant (mult 0).
 *
 * Scratch: tcc_arm_fc8_row_*: 8 * groups bytes (TCC_ARM_FC8_SCRATCH); the row is widened before
 * any output of the batch row is written (packing.reads_min_fc with the row in the scratch).
 * tcc_arm_fc8_s8 / _clamp_s8: none; every block of 4 outputs reads the whole row again
 * (packing.reads_min_fc without it).
 *
 * Entry points (the compiler picks one; the C does not re-decide): tcc_arm_fc8_s8 and
 * tcc_arm_fc8_row_s8 without an activation clamp, tcc_arm_fc8_clamp_s8 and
 * tcc_arm_fc8_row_clamp_s8 with [act_min, act_max].
 */
#ifndef TCC_ARM_FC8_H
#define TCC_ARM_FC8_H

#include <stdint.h>

#include "tcc_arm.h"

typedef struct {
    int32_t m0, b0, m1, b1;
} tcc_arm_fc8_head;

#define TCC_ARM_FC8_ROWS 4
#define TCC_ARM_FC8_GROUP_WORDS 4
#define TCC_ARM_FC8_BLOCK_WORDS(groups) \
    ((int32_t)(sizeof(tcc_arm_fc8_head) / 4) + TCC_ARM_FC8_GROUP_WORDS * (groups) \
     + TCC_ARM_FC8_ROWS * (int32_t)(sizeof(tcc_arm_rq) / 4))
#define TCC_ARM_FC8_SCRATCH(groups) (8 * (groups))

typedef struct {
    int32_t batches, in_depth, out_depth;
    int32_t groups;              /* ceil(in_depth / 4) */
    int32_t xshift;              /* the accumulators are multiplied by 2^xshift (1..8) */
    int32_t act_min, act_max;    /* tcc_arm_fc8_clamp_s8 only */
    const int32_t *blocks;       /* ceil(out_depth / 4) blocks, layout above */
} tcc_arm_fc8_s8_params;

void tcc_arm_fc8_s8(const tcc_arm_fc8_s8_params *p, const int8_t *in, int8_t *out, void *scratch);
void tcc_arm_fc8_clamp_s8(const tcc_arm_fc8_s8_params *p, const int8_t *in, int8_t *out, void *scratch);
void tcc_arm_fc8_row_s8(const tcc_arm_fc8_s8_params *p, const int8_t *in, int8_t *out, void *scratch);
void tcc_arm_fc8_row_clamp_s8(const tcc_arm_fc8_s8_params *p, const int8_t *in, int8_t *out, void *scratch);

#endif /* TCC_ARM_FC8_H */
