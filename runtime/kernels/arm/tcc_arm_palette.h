/* tinycc runtime: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (int8) reading compressed
 * weights (tinycc/compress.py) on Cortex-M cores with the DSP extension: the weights a block
 * of outputs needs are decoded once into the scratch as int16 pairs, then SMLAD loops
 * (tinycc/variants/arm_palette.py). Params and weights structs are the portable kernels'. */
#ifndef TCC_ARM_PALETTE_H
#define TCC_ARM_PALETTE_H

#include <stdint.h>

#include "tcc_compressed.h"

#define TCC_ARM_PALETTE_MAX_BLOCK 32

/* kp: k_h * k_w * k_c rounded up to a multiple of 4. block: output pixels computed together
 * (1 .. TCC_ARM_PALETTE_MAX_BLOCK).
 * scratch (4-byte aligned): 2 * kp int16 (two output channels' weights), kp (one channel's
 * weights as int8), then block * kp
 * (the block's windows; none when `direct`: 1x1, no padding, in_c % 4 == 0), then
 * block * out_c (the block's outputs, stored after all its windows were read).
 * With `direct`, stride 1 and block >= the pixels, one block: the outputs are stored in place
 * as computed (no block * out_c; the output must not share the input's memory).
 * Requires k_c == in_c (no groups). */
void tcc_arm_palette_conv_s8(const tcc_conv2d_s8_params *p, const tcc_wcode *w, int32_t block, int32_t direct,
                             const int8_t *in, int8_t *out, void *scratch);
/* depth_mult 1, in_c % 4 == 0. scratch (4-byte aligned): 8 * k_h * k_w bytes (4 channels'
 * taps, int16), then 4 * out_h * out_w (4 channels' planes). */
void tcc_arm_palette_dw_s8(const tcc_depthwise_s8_params *p, const tcc_wcode *w, const int8_t *in, int8_t *out,
                           void *scratch);
/* in_depth * bits % 8 == 0 (every row starts a byte). scratch (4-byte aligned):
 * 4 << (2 * bits) bytes (the products table of index pairs: int16 weight pairs), then
 * 2 * in_depth (the batch row as int16). */
void tcc_arm_palette_fc_s8(const tcc_fully_connected_s8_params *p, const tcc_wcode *w, const int8_t *in,
                           int8_t *out, void *scratch);

#endif /* TCC_ARM_PALETTE_H */
