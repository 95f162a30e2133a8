/* tinycc runtime, Cortex-M DSP: CONV_2D int8 for layers with few input channels (the first layer
 * of an image or spectrogram model: in_c 1..4), int8 or widened weights (issue 14).
 *
 * tcc_arm_convk_s8 / tcc_arm_convkw_s8: same semantics as tcc_conv2d_s8 (TFLite ConvPerChannel),
 * groups == 1, dilation 1, any kernel whose reduction fits TCC_ARM_CONVK_MAX_GROUPS groups of 4,
 * any stride and padding, any out_c (odd: see Stream), no activation clamp, every non-constant
 * channel with a right shift (tinycc/variants/arm_convk.py decides; the C never re-decides).
 *
 * Input rows: each input row the kernel needs is copied once, padded left and right with in_zp,
 * into a ring of `strip_rows` rows of `strip_w` pixels in the scratch (the padded rows above and
 * below the image are in_zp rows), just before the first block of output pixels that needs it;
 * the ring holds every row of a block's receptive fields, so the im2col has no border cases.
 *
 * Blocks of 3 output pixels (flat over row and column; a short last block computes copies of
 * its last pixel) x 2 output channels. The 3 receptive fields are widened into the scratch's
 * columns, pixel-interleaved: word 3 j + q is pair word j of pixel q (SXTB16 of 4 activations
 * for the even j of a group, SXTB16 ROR 8 for the odd one), in tinycc/packing.py's conv_k_order
 * (the whole words of every kernel row, then the R % 4 last bytes of every row, R = k_w * in_c),
 * zero-padded to 4 * groups values. tcc_arm_convk_s8 (int8 weights) widens the activations
 * doubled (2 x), tcc_arm_convkw_s8 reads doubled int16 weights: either way the asm accumulates
 * 2 * acc, which the exact requantization (tcc_arm_rq_pos of tcc_arm_dsp.h) takes.
 *
 * Stream (tinycc/variants/arm_convk.py: pack), per pair of output channels a = 2c, b = 2c + 1: a
 * tcc_arm_conv8_head with the biases doubled, per group g the weights as in tcc_arm_conv8.h
 * (int8: 2 words (a[4g], b[4g], a[4g+2], b[4g+2]), (a[4g+1], b[4g+1], a[4g+3], b[4g+3]); widened:
 * the 4 int16 pair words of tcc_arm_conv8w_s8, every weight doubled), then a tcc_arm_conv8_tail. With out_c odd the stream ends with a
 * constant dummy channel: the block's pixels are written out_c + 1 bytes apart into the
 * scratch, then copied.
 *
 * Scratch (TCC_ARM_CONVK_SCRATCH): the columns (3 x 8 * groups bytes), when R % 4 != 0 the 3
 * pixels' row tails (3 x k_h * (R % 4) bytes rounded up to 4), the ring (strip_rows x
 * strip_w x in_c bytes) followed by copies of its first k_h - 1 rows (so a field's rows never
 * wrap) and, when out_c is odd, 3 x (out_c + 1) bytes.
 *
 * Write order (arm_convk.reads_min): block by block; a block first copies the input rows its
 * fields need that the ring does not hold yet, then writes all out_c values of its pixels.
 */
#ifndef TCC_ARM_CONVK_H
#define TCC_ARM_CONVK_H

#include <stdint.h>

#include "tcc_arm_conv8.h"

typedef struct {
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;    /* out_c: the model's channels (odd: a dummy ends the stream) */
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t pad_top, pad_left;
    int32_t in_zp;
    int32_t groups;                 /* K4 / 4, at most TCC_ARM_CONVK_MAX_GROUPS */
    int32_t strip_rows, strip_w;    /* the ring: rows, pixels per (padded) row */
    const int32_t *stream;          /* see above */
} tcc_arm_convk_params;

#define TCC_ARM_CONVK_PIX 3
#define TCC_ARM_CONVK_MAX_GROUPS 10
#define TCC_ARM_CONVK_SCRATCH(groups, strip_rows, strip_w, in_c, k_h, k_w, out_c)                   \
    (3 * 8 * (groups) + 3 * TCC_ARM_CONV8_K4((k_h) * ((k_w) * (in_c) % 4))                           \
     + ((strip_rows) + (k_h) - 1) * (strip_w) * (in_c) + ((out_c) % 2 ? 3 * ((out_c) + 1) : 0))

void tcc_arm_convk_s8(const tcc_arm_convk_params *p, const int8_t *in, int8_t *out, void *scratch);
void tcc_arm_convkw_s8(const tcc_arm_convk_params *p, const int8_t *in, int8_t *out, void *scratch);

#endif /* TCC_ARM_CONVK_H */
