/* tinycc runtime: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (int8) reading compressed
 * weights (tinycc/compress.py) on Cortex-M cores with the DSP extension: the weights a block
 * of outputs needs are decoded once into the scratch as int16 pairs, then SMLAD loops
 * (tinycc/variants/arm_palette.py). Params and weights structs are the portable kernels'. */
#ifndef TCC_ARM_PALETTE_H
#define TCC_ARM_PALETTE_H

#include <stdint.h>

#include "tcc_arm_conv8.h"
#include "tcc_arm.h"
#include "tcc_arm_dw8.h"
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
 * frame (out_c even, or NULL): per channel pair tcc_arm_conv8.h's head and tail (6 words), the
 * biases and tcc_arm_conv8_s8's requantization (checked exact by tinycc/variants/arm_conv8.py's
 * pack_stream); NULL: the params' bias, mult and shift (tcc_requantize).
 * Requires k_c == in_c (no groups). */
void tcc_arm_palette_conv_s8(const tcc_conv2d_s8_params *p, const tcc_wcode *w, const int32_t *frame, int32_t block,
                             int32_t direct, const int8_t *in, int8_t *out, void *scratch);
/* A pointwise CONV_2D (1x1, stride 1, no padding, in_c % 4 == 0, out_c even) on
 * tcc_arm_conv8_s8's SMLAD loops (or with `wide` tcc_arm_conv8w_s8's, 4- and 2-bit indices only): per `group` output channels (even) their weights are decoded
 * once into tcc_arm_conv8.h's stream (int8, or wide its int16 pair words) in the scratch, then
 * that kernel computes them for `chunk` pixels at a time (a chunk of the flat pixels: a 1 x chunk
 * image) into the scratch, and the chunk's outputs are stored in place (clamped to act_min ..
 * act_max), so the output never shares the input. p: the layer's tcc_arm_conv8_params (its
 * stream unused); frame: per channel pair the stream's tcc_arm_conv8_head and tcc_arm_conv8_tail
 * (6 words).
 * scratch (4-byte aligned): group / 2 * (6 + 2 * p->groups) words (the stream; wide: 6 + 4 *
 * p->groups), chunk * group bytes rounded up to 4 (the outputs), TCC_ARM_CONV8_SCRATCH(p->groups,
 * 1, 1, p->in_c).
 * in_place: chunk by chunk instead, every group decoded again for each chunk and the chunk's
 * outputs (chunk * out_c bytes instead of chunk * group) stored once all groups read its
 * pixels: the output may then share the input as the block kernel's does.
 * pairs (wide): the indices are in pair order (tinycc/compress.py: pair_order) and the tables
 * 0 .. pairs - 1 are first turned into pair tables (each 1 << (2 * bits) int16 pair words, at
 * the start of the scratch, before the stream; per-channel tables: pairs 2, each channel pair's
 * two built before it is decoded), so that each 2 * bits index bits give a stream word with
 * one load. */
void tcc_arm_palette_pw8_s8(const tcc_arm_conv8_params *p, const tcc_wcode *w, const int32_t *frame, int32_t group,
                            int32_t chunk, int32_t in_place, int32_t wide, int32_t pairs, int32_t act_min,
                            int32_t act_max, const int8_t *in, int8_t *out, void *scratch);
/* Any other CONV_2D that tcc_arm_conv8_s8 runs (out_c even) the same way: per `group` output
 * channels their stream is decoded once (order: tinycc/packing.py's conv_k_order, the model's
 * weight index of each stream position), then tcc_arm_conv8_s8 computes them for `rows` output
 * rows at a time (a band: the input rows its windows read, as a sub-image with its own top
 * padding) into the scratch, stored in place (clamped), so the output never shares the input.
 * scratch (4-byte aligned): the stream as above, rows * out_w * group bytes rounded up to 4,
 * TCC_ARM_CONV8_SCRATCH(p->groups, p->k_h, p->k_w, p->in_c). */
void tcc_arm_palette_c8_s8(const tcc_arm_conv8_params *p, const tcc_wcode *w, const int32_t *frame,
                           const uint16_t *order, int32_t group, int32_t rows, int32_t act_min, int32_t act_max,
                           const int8_t *in, int8_t *out, void *scratch);
/* depth_mult 1, in_c % 4 == 0. 4 channels at a time: all their inputs are read before their
 * outputs are written. frame (or NULL): per channel pair tcc_arm_conv8.h's head and tail (6
 * words), as tcc_arm_palette_conv_s8's. scratch (4-byte aligned): 8 * k_h * k_w bytes (4
 * channels' taps, int16), then 4 * ph * pw (the 4 channels' input with the windows' padding:
 * ph = (out_h - 1) * stride_h + (k_h - 1) * dil_h + 1, pw the same across); with `band` only
 * the (k_h - 1) * dil_h + 1 padded rows of one output row at a time (4 * rows * pw), then
 * 4 * out_h * out_w (the 4 channels' outputs, stored once all their inputs were read). */
void tcc_arm_palette_dw_s8(const tcc_depthwise_s8_params *p, const tcc_wcode *w, const int32_t *frame,
                           int32_t band, const int8_t *in, int8_t *out, void *scratch);
/* A 3x3 DEPTHWISE_CONV_2D on tcc_arm_dw8's loops (tcc_arm_dw8_s8, or with clamp tcc_arm_dw8_clamp_s8):
 * every channel's 9 taps are decoded once into the scratch as tcc_arm_dw8.h's taps (k-major,
 * transposed as p->transposed says) with the channel's shift byte from `shift` (p->taps unused;
 * p->mult, p->bias tinycc/variants/arm_dw8.py's), then that kernel computes the layer. scratch
 * (4-byte aligned): TCC_ARM_DW8_TAP_BYTES * channels rounded up to 4, then the kernel's. */
void tcc_arm_palette_dw8_s8(const tcc_arm_dw8_s8_params *p, const tcc_wcode *w, const uint8_t *shift,
                            int32_t clamp, const int8_t *in, int8_t *out, void *scratch);
/* A 3x3 DEPTHWISE_CONV_2D on tcc_arm_depthwise3x3_s8: every channel's record is built once in
 * the scratch from head (per channel its mult, add, shift and scaled bias: tinycc/packing.py's
 * pack_depthwise_planar) and its 9 taps decoded, shifted left by scale[c] (the record's weight
 * scale) and paired as that kernel's words (p->transposed as its params say; p->records unused).
 * scratch (4-byte aligned): TCC_ARM_DW3X3_REC_BYTES * channels, then the kernel's. */
void tcc_arm_palette_dw3_s8(const tcc_arm_depthwise3x3_s8_params *p, const tcc_wcode *w, const int32_t *head,
                            const uint8_t *scale, const int8_t *in, int8_t *out, void *scratch);
/* in_depth * bits % 8 == 0 (every row starts a byte). scratch (4-byte aligned):
 * 4 << (2 * bits) bytes (the products table of index pairs: int16 weight pairs), then
 * 2 * in_depth (the batch row as int16). */
void tcc_arm_palette_fc_s8(const tcc_fully_connected_s8_params *p, const tcc_wcode *w, const int8_t *in,
                           int8_t *out, void *scratch);

#endif /* TCC_ARM_PALETTE_H */
