/* tinycc runtime, Cortex-M DSP: CONV_2D int8 with pruned (sparse) weights (tinycc/variants/arm_sparse.py).
 *
 * tcc_arm_sparse_conv_s8: same semantics as tcc_conv2d_s8 (TFLite ConvPerChannel), groups == 1,
 * any kernel size, stride, dilation and padding, no activation clamp (act_min -128, act_max
 * 127), every non-constant channel with a right shift (the unit decides; the C never re-decides).
 *
 * Output pixels (flat over batch, row, column) go 2 * pairs at a time (pairs = 4 or 2: 8 or 4
 * pixels). Their receptive fields are packed once into the scratch, tap-major: per tap, per pair
 * of pixels (2j, 2j + 1) the word x[2j] + x[2j + 1] * 2^23 (padded taps read in_zp; the pixels
 * past the last one copy it). Each output channel then runs over its nonzero weights only: one
 * SMLAL of a pair word by the weight accumulates both pixels' products in one 64-bit
 * accumulator, the first pixel's sum in its low 23 bits, the second's above them. The
 * accumulators start at 2^22 + 2^22 * 2^23, so each 23-bit field holds its sum + 2^22 in
 * [0, 2^23) while |sum| < 2^22 (tinycc/variants/arm_sparse.py checks 128 * sum |w| < 2^22), and
 * both are read back exactly.
 *
 * Stream (int32 words), per output channel: meta = 4 * n | entry << 16 (n: the words that
 * follow up to the tail; entry: the byte offset in the unrolled word loop where the channel's
 * first pass enters), the entry words, TCC_ARM_SPARSE_UNROLL per pass (the first pass takes the
 * words left over), a marker word -1 before each further pass; each entry word two entries,
 * bytes (d0, w0, d1, w1): d the distance in bytes of the scratch from the previous entry's tap
 * (4 * pairs per tap, at most 255: longer gaps are bridged by entries of weight 0; the first
 * from tap 0), w the model's int8 weight. Then the requantization tail (bias2, mult, add,
 * shift - 1): bias2 = 2 * (bias - 2^22) (bias zero-point folded), (mult, add) as
 * tcc_arm_conv8_tail's records (tcc_arm_conv8.h: add = (2 out_zp + 1) << (shift - 1); the
 * accumulator is doubled); a constant channel has no entries, bias 0, mult 0, add 2 v + 1 and
 * shift - 1 = 0.
 */
#ifndef TCC_ARM_SPARSE_H
#define TCC_ARM_SPARSE_H

#include <stdint.h>

#define TCC_ARM_SPARSE_UNROLL 16        /* entry words per pass of the unrolled loop */
#define TCC_ARM_SPARSE_WORD_BYTES4 84   /* code bytes of one entry word, 4 pairs */
#define TCC_ARM_SPARSE_WORD_BYTES2 52   /* and 2 pairs */
#define TCC_ARM_SPARSE_SCRATCH(pairs, k_h, k_w, in_c) (4 * (pairs) * (k_h) * (k_w) * (in_c))

typedef struct {
    int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    int32_t in_zp;
    int32_t pairs;                  /* 4 or 2 */
    int32_t stream_words;
    const int32_t *stream;
} tcc_arm_sparse_conv_params;

void tcc_arm_sparse_conv_s8(const tcc_arm_sparse_conv_params *p, const int8_t *in, int8_t *out, int32_t *scratch);

/* tcc_arm_sparse_dw_s8: DEPTHWISE_CONV_2D int8 with pruned weights: depth multiplier 1, any
 * kernel size, stride and dilation, no activation clamp; same semantics as tcc_depthwise_s8.
 * Channel by channel: the channel's padded plane (plane_h x plane_w bytes, the output's windows
 * over the input; padding in_zp, filled once per call) is copied into the scratch, then every
 * output of the channel is its nonzero taps times the plane's bytes, requantized, stored. As the
 * plain kernel, a channel's whole input plane is read before its outputs are written.
 *
 * Stream (int32 words), per channel: n (its nonzero taps), n tap words w * 2 << 16 | offset (the
 * tap's byte offset in the plane from the window's origin), then bias2 = 2 * bias (zero point
 * folded), mult, add (tcc_arm_conv8_tail's records; a constant channel: n 0, bias2 0, mult 0,
 * add 2 v + 1). */
typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
    int32_t stride_h, stride_w, pad_top, pad_left, in_zp;
    int32_t plane_h, plane_w;
    const int32_t *stream;
} tcc_arm_sparse_dw_params;

void tcc_arm_sparse_dw_s8(const tcc_arm_sparse_dw_params *p, const int8_t *in, int8_t *out, int8_t *scratch);

#endif /* TCC_ARM_SPARSE_H */
