/* tinycc runtime, Cortex-M DSP: CONV_2D int8 reading int8 weights (the model's bytes, reordered).
 *
 * tcc_arm_conv8_s8: same semantics as tcc_conv2d_s8 (TFLite ConvPerChannel), groups == 1, any
 * kernel size, stride, dilation and padding, out_c even, no activation clamp (act_min -128,
 * act_max 127), every non-constant channel with a right shift (tinycc/variants/arm_conv8.py
 * decides; the C never re-decides).
 *
 * Output pixels go 3 at a time: the receptive fields of the 3 pixels are widened to int16 pair
 * words in the scratch (padded taps read in_zp), then every pair of output channels is computed
 * for the 3 pixels (2 x 3 accumulators, SMLAD) and stored; a last block of 1 or 2 pixels
 * computes copies of its last pixel. With `band` set (in_c % 4 == 0, dil_h == 1,
 * stride_h < k_h: tinycc/variants/arm_conv8.py decides), each batch's output rows go 3 * band
 * at a time (band 1 or 2 blocks of 3 rows; fewer blocks where the rows run out), column by
 * column: the vertically adjacent pixels' fields are k_h + (3 * band - 1) * stride_h input rows
 * of k_w taps (a strip, widened once; 2 blocks where that fits the 3 columns of the scratch);
 * the rows left over (out_h % 3, or all rows without `band`) go 3 pixels at a time along the
 * rows (flat over row and column).
 *
 * Reduction order (tinycc/packing.py: conv_k_order): K = k_h * k_w * in_c in the filter's
 * (ky, kx, c) order when in_c % 4 == 0; otherwise each kernel row is a run of R = k_w * in_c
 * bytes, and the order is the whole words of every row, row by row, then the R % 4 last bytes
 * of every row, row by row (so the rows are widened straight from the input). Zero-padded to
 * K4 = 4 * groups; group g holds k = 4g .. 4g+3.
 *
 * Stream (tinycc/variants/arm_conv8.py: pack), int32 words, per pair of output channels
 * a = 2c, b = 2c + 1: a tcc_arm_conv8_head, then for each group g the two words
 * (a[4g], b[4g], a[4g+2], b[4g+2]) and (a[4g+1], b[4g+1], a[4g+3], b[4g+3]) (int8 weights,
 * first in the low byte: SXTB16 gives channel a's pair, SXTB16 ROR 8 channel b's; a constant
 * channel's weights are zero), then a tcc_arm_conv8_tail. Per output channel that is the
 * model's weights (K4 bytes) and 3 words, as many as the plain kernel's bias, mult and shift.
 * The accumulator (bias + dot product) is doubled before requantization (SMMLAR needs 2 * acc,
 * as the pre-scaled weights of tcc_arm.h give it); the bound is that of tinycc/packing.py's
 * check (pack_requant with a scale of 2).
 *
 * Scratch (TCC_ARM_CONV8_SCRATCH): 3 columns of 8 * groups bytes (a pixel's column: per group g
 * the words even = SXTB16 of the 4 activations, odd = SXTB16 ROR 8; a strip of the band takes
 * no more: k_h + (3 * band - 1) * stride_h <= 3 * k_h); when in_c % 4 != 0 also a kernel row (R rounded up to 4 bytes) and the
 * rows' tails of 3 pixels (3 x k_h * (R % 4) rounded up to 4 bytes).
 *
 * Write order (arm_conv8.reads_min): block by block in the order above; a block reads the
 * receptive fields of its 3 pixels, then writes all out_c values of the 3 pixels (a strip of 2
 * blocks is read before the first of them writes: earlier than that, so the bound holds).
 */
#ifndef TCC_ARM_CONV8_H
#define TCC_ARM_CONV8_H

#include <stdint.h>

typedef struct {
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t in_zp;
    int32_t groups;                 /* K4 / 4 */
    int32_t band;                   /* 0, or the blocks of 3 output rows sharing a strip (see above) */
    const int32_t *stream;          /* see above */
} tcc_arm_conv8_params;

/* the stream's record of a channel pair: head, groups x (W_a, W_b), tail */
typedef struct {
    int32_t bias_a, bias_b;         /* zero-point-folded biases (0: constant channel) */
} tcc_arm_conv8_head;

/* Requantization of a channel: tcc_arm_rq (tcc_arm.h) without its shift, which add tells:
 * add = (2 * out_zp + 1) << (shift - 1), shift = 1 + the trailing zero bits of add (1..22);
 * a constant channel (output v) has mult 0, add 2 * v + 1. */
typedef struct {
    int32_t mult_a, add_a;
    int32_t mult_b, add_b;
} tcc_arm_conv8_tail;

#define TCC_ARM_CONV8_PIX 3
#define TCC_ARM_CONV8_K4(n) (((n) + 3) / 4 * 4)
#define TCC_ARM_CONV8_SCRATCH(groups, k_h, k_w, in_c)                                              \
    (3 * 8 * (groups) + ((in_c) % 4 ? TCC_ARM_CONV8_K4((k_w) * (in_c))                              \
                                          + 3 * TCC_ARM_CONV8_K4((k_h) * ((k_w) * (in_c) % 4)) : 0))

void tcc_arm_conv8_s8(const tcc_arm_conv8_params *p, const int8_t *in, int8_t *out, void *scratch);

/* The same with the weights widened (tinycc/variants/arm_conv8w.py, where the flash budget
 * allows): per group g of a channel pair the int16 pair words (a[4g], a[4g+2]), (b[4g], b[4g+2]),
 * (a[4g+1], a[4g+3]), (b[4g+1], b[4g+3]) instead of the 2 int8 words (24 cycles a group
 * instead of 26). */
void tcc_arm_conv8w_s8(const tcc_arm_conv8_params *p, const int8_t *in, int8_t *out, void *scratch);

#endif /* TCC_ARM_CONV8_H */
