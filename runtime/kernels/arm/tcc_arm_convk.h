/* tinycc runtime, Cortex-M DSP: CONV_2D int8 for a small reduction K (first layers, 1x1 on few
 * channels), int8 weights read from flash (the model's bytes, reordered).
 *
 * tcc_arm_convk_s8: same semantics as tcc_conv2d_s8 (TFLite ConvPerChannel), groups == 1, any
 * kernel size, stride, dilation and padding, K = k_h * k_w * in_c <= TCC_ARM_CONVK_MAX_K, no
 * activation clamp, every non-constant channel with a right shift and a scale of 2
 * (tinycc/variants/arm_convk.py decides; the C never re-decides).
 *
 * Output pixels (flat over batch, row, column) go `pix` at a time: their receptive fields are
 * expanded once to int16 pair words in the scratch (im2col; padded taps read in_zp), every value
 * doubled (the scale 2 of tinycc/packing.py's requantization, so the weights stay int8). Then the
 * output channels go one by one: a channel's weights (up to 16 at a time: one chunk) are widened
 * by SXTB16 into registers once per block and every pixel of the block streams through them
 * (LDM of its pair words, SMLAD), the accumulator is requantized (SMMLAR scheme of packing.py)
 * and stored. K is zero-padded to K8 (a multiple of 8); with K8 > 16 the partial sums of the
 * block's pixels wait in the scratch between chunks.
 *
 * Reduction order: tinycc/packing.py conv_k_order (the rows' whole words, then the rows' tails
 * when in_c % 4 != 0), zero-padded to K8; pair words as packing.py's: (k0, k2), (k1, k3) of
 * each group of 4.
 *
 * Records (tinycc/variants/arm_convk.py: pack), int32 words per output channel: a
 * tcc_arm_convk_head, then K8 / 4 words of int8 weights (k = 4g in the low byte of word g). A
 * constant channel has zero weights and bias, its output in add (mult 0, shift 0 is never used:
 * shift 1 and add = 2 v + 1 give v).
 *
 * Scratch (TCC_ARM_CONVK_SCRATCH): pix columns of K8 / 2 words, pix partial sums, and a field
 * row of R = k_w * in_c bytes plus the k_h row tails (R % 4 bytes each), each rounded up to 4.
 *
 * Write order (arm_convk.reads_min): blocks of `pix` output pixels (flat): a block reads the
 * receptive fields of its pixels, then writes all their out_c values.
 */
#ifndef TCC_ARM_CONVK_H
#define TCC_ARM_CONVK_H

#include <stdint.h>

typedef struct {
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t in_zp;
    int32_t k8;                     /* K rounded up to a multiple of 8 */
    int32_t pix;                    /* output pixels per block */
    const int32_t *records;         /* out_c x (head, K8 / 4 weight words) */
} tcc_arm_convk_params;

typedef struct {
    int32_t bias;                   /* zero-point-folded bias, doubled (0: constant channel) */
    int32_t mult, add, shift;       /* tcc_arm_rq: SMMLAR(acc, mult, add) + (acc >> 31), >> shift */
} tcc_arm_convk_head;

#define TCC_ARM_CONVK_MAX_K 64
#define TCC_ARM_CONVK_K4(n) (((n) + 3) / 4 * 4)
#define TCC_ARM_CONVK_SCRATCH(pix, k8, k_h, k_w, in_c)                                             \
    ((pix) * (2 * (k8) + 4) + TCC_ARM_CONVK_K4((k_w) * (in_c)) + TCC_ARM_CONVK_K4((k_h) * ((k_w) * (in_c) % 4)))

void tcc_arm_convk_s8(const tcc_arm_convk_params *p, const int8_t *in, int8_t *out, void *scratch);

#endif /* TCC_ARM_CONVK_H */
