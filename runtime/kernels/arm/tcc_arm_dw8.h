/* tinycc runtime, Cortex-M DSP: DEPTHWISE_CONV_2D int8 with int8 weights in flash (issue 14).
 *
 * tcc_arm_dw8_s8 (no clamp) / tcc_arm_dw8_clamp_s8: 3x3, stride 1 or 2 (both ways), dilation 1,
 * depth multiplier 1; same semantics as tcc_depthwise_s8 (TFLite DepthwiseConvPerChannel, zero
 * point folded into the bias, padded taps read in_zp). The constants stay compact in flash (18
 * bytes per channel, against 21 for the plain kernel): 9 int8 taps and a shift byte, the Q31
 * multiplier, the scaled bias.
 *
 * Channels in groups of 4 (or 2, 1, see Scratch): the input lines (rows, or columns when
 * transposed) of a group are widened into the scratch, each channel into its own plane of int16
 * pair words (element pairs (x0, x1), (x2, x3), ... 4 bytes apart) with in_zp around them (the
 * border is filled once per call), one word load of 4 channels giving 4 pair words (SXTB16,
 * PKHBT/PKHTB): all the lines (`lines` slots) first or, with `ring`, each just before the first
 * output line that needs it into a ring of 3 slots (line l in slot l % 3; the padding lines read
 * slot 3). Each output line of each channel is computed 6 outputs at a time (a last 2 or 3 as 3,
 * a last one alone) from its 3 window lines: per window line the taps' pair words A = (w0, w1) and B = (w1, w2)
 * (times 2^(left+1), unpacked per channel) and the input pair words X0 = (x0, x1), X1 = (x2, x3):
 *   stride 1: o0 += SMLAD(X0, A) + SMLABT(X1, B)   o1 += SMLATB(X0, A) + SMLAD(X1, B)
 *             o2 += SMLAD(X1, A) + SMLABT(X2, B)   ...            (words X0..X3)
 *   stride 2: ok += SMLAD(Xk, A) + SMLABT(Xk+1, B)                (words X0..X6)
 * then the exact requantization of tcc_arm.h (tcc_arm_rq) per output. The whole plane: all the
 * group's output lines in one asm call; the ring: one call per output line.
 *
 * Constants (tinycc/variants/arm_dw8.py: pack):
 *   taps   [channels][TCC_ARM_DW8_TAP_BYTES] int8: the 9 taps w[k][j] (k-major), where w[k][j]
 *          is the filter tap (ky=k, kx=j), or (ky=j, kx=k) when transposed; then the shift
 *          byte s | (left + 1 - 1) << 5 (s the right shift 0..22, left + 1 in 1..8)
 *   mult   [channels] int32: the Q31 multiplier, 0 for a constant channel
 *   bias   [channels] int32: the zero-point-folded bias times 2^(left+1); for a constant
 *          channel (mult 0) its output value (its taps are then 0)
 *
 * Scratch (TCC_ARM_DW8_SCRATCH; tinycc/variants/arm_dw8.py: geometry, scratch_bytes): the group's
 * unpacked constants (TCC_ARM_DW8_JOB_BYTES per channel), then per channel of the group its plane:
 * `lines` slots (with `ring` 3 and one holding in_zp) of line_len int16.
 *
 * Write order: group of channels by group. Whole plane: the group's input is all read before
 * any output of the group is written, so (one batch) the output may lie on the input at any offset
 * that is a multiple of the pixel size (a channel's output only overwrites its own channel's
 * input, and the plain kernel reads each channel's whole plane before writing it). Ring: before
 * output line l of the group is written, the input lines of its window not read yet (the group's
 * channels) are read, each once per group: per channel the order of tcc_arm_depthwise3x3_s8 with
 * chunks of one channel (reads of the other channels of the group only come earlier), so the
 * output may lie on the input's base when packing.depthwise3x3_in_place says so.
 */
#ifndef TCC_ARM_DW8_H
#define TCC_ARM_DW8_H

#include <stdint.h>

#define TCC_ARM_DW8_TAP_BYTES 10
#define TCC_ARM_DW8_GROUP 4             /* channels widened together */
#define TCC_ARM_DW8_BLOCK 6             /* outputs computed together along a line */
#define TCC_ARM_DW8_JOB_BYTES 40        /* one channel's unpacked constants (tcc_arm_dw8.c) */
/* the group's jobs, then its channels' planes */
#define TCC_ARM_DW8_SCRATCH(group, slots, line_len)                                          \
    ((group) * (TCC_ARM_DW8_JOB_BYTES + 2 * (slots) * (line_len)))

/* tcc_arm_dw8_plane_s8: one channel's plane, no jobs */
#define TCC_ARM_DW8_PLANE_SCRATCH(lines, line_len) (2 * (lines) * (line_len))

typedef struct {
    int32_t batches, in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t stride;
    int32_t pad_top, pad_left;
    int32_t in_zp, out_zp;
    int32_t act_min, act_max;       /* tcc_arm_dw8_clamp_s8 only */
    int32_t transposed;             /* 1: lines are columns */
    int32_t lines, line_len;        /* the widened plane: lines of line_len int16 (even) */
    int32_t ring;                   /* 1: a ring of 3 line slots instead of the whole plane */
    int32_t group;                  /* channels a time: 4, 2 or 1 (each its own plane) */
    const int8_t *taps;
    const int32_t *mult;
    const int32_t *bias;
} tcc_arm_dw8_s8_params;

void tcc_arm_dw8_s8(const tcc_arm_dw8_s8_params *p, const int8_t *in, int8_t *out, void *scratch);
void tcc_arm_dw8_clamp_s8(const tcc_arm_dw8_s8_params *p, const int8_t *in, int8_t *out, void *scratch);
/* Stride 1, group 1, the whole plane (ring 0), with or without a clamp: channel by channel, each
 * channel's job in the asm's stack frame and its plane (TCC_ARM_DW8_PLANE_SCRATCH) widened and
 * run in one asm call for all the channels of a batch (no C per channel or line). */
void tcc_arm_dw8_plane_s8(const tcc_arm_dw8_s8_params *p, const int8_t *in, int8_t *out, void *scratch);

#endif /* TCC_ARM_DW8_H */
