/* tinycc runtime, Cortex-M DSP: CONV_2D int8 with pruned (sparse) weights (tinycc/variants/arm_sparse.py).
 *
 * tcc_arm_sparse_conv_s8: same semantics as tcc_conv2d_s8 (TFLite ConvPerChannel), groups == 1,
 * any kernel size, stride, dilation and padding; every non-constant channel has a right shift
 * (the unit decides; the C never re-decides).
 *
 * Output pixels (flat over batch, row, column) go TCC_ARM_SPARSE_PIX = 8 at a time: their receptive
 * fields are widened once to int16 in the scratch, tap-major (tap k of pixel p at k * 8 + p, padded
 * taps = in_zp; the pixels past the last one read in_zp), then each output channel runs over its
 * nonzero weights only, each weight multiplying the 8 pixels' activations of its tap (SMLAxB /
 * SMLAxT into 8 accumulators), and the 8 outputs are requantized and stored.
 *
 * Stream (int32 words), per output channel: bias (zero-point folded), mult, add (tcc_arm_rq),
 * meta = words | scale << 16 | shift << 24, then `words` (even) entry words of two entries, bytes
 * (d0, w0, d1, w1): d the distance in bytes of the scratch from the previous entry's tap (16 per
 * tap, at most 240: longer gaps are bridged by entries of weight 0; the first from tap 0), w the
 * model's int8 weight. The accumulator times 2^scale is requantized as tcc_arm.h's rq records say
 * (tinycc/packing.py: pack_requant bounds it). A constant channel has no entries, mult 0 and add
 * its output value.
 */
#ifndef TCC_ARM_SPARSE_H
#define TCC_ARM_SPARSE_H

#include <stdint.h>

#define TCC_ARM_SPARSE_PIX 8
#define TCC_ARM_SPARSE_HEAD 4           /* words before a channel's entries */
#define TCC_ARM_SPARSE_SCRATCH(k_h, k_w, in_c) (2 * TCC_ARM_SPARSE_PIX * (k_h) * (k_w) * (in_c))

typedef struct {
    int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    int32_t in_zp, act_min, act_max;
    const int32_t *stream;
} tcc_arm_sparse_conv_params;

void tcc_arm_sparse_conv_s8(const tcc_arm_sparse_conv_params *p, const int8_t *in, int8_t *out, int16_t *scratch);

#endif /* TCC_ARM_SPARSE_H */
