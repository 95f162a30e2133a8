/* tinycc runtime: fast int8 kernels for Cortex-M cores with the DSP extension
 * (Cortex-M4, M7, M33, M35P, M55 scalar; any core with __ARM_FEATURE_DSP).
 *
 * Every kernel here is bit-exact with its plain counterpart in runtime/kernels (which is
 * bit-exact with TensorFlow Lite Micro). They read weights and constants that tinycc/packing.py
 * prepares at compile time from the plain kernels' constants; tinycc/packing.py refuses (PackError)
 * the rare constants a kernel cannot handle exactly, and the plain kernel stays in use.
 * Without the DSP extension the same C builds with portable helpers (slow; for testing).
 *
 * Common conventions
 * ------------------
 * Activations are NHWC int8, as for the plain kernels. Packed weights are arrays of
 * "pair words": uint32 = (int16 lo) | (int16 hi) << 16, 4-byte aligned. Along a reduction
 * of length K, values are zero-padded to K4 (a multiple of 4) and grouped by 4 as
 * (k0, k2), (k1, k3): the lanes SXTB16 / SXTB16 ROR #8 extract from a word of 4 int8.
 * Weights and biases of an output channel are pre-multiplied by 2^(left+1), left = max(shift, 0)
 * (tinycc/packing.py checks that nothing overflows), so requantization is SMMLAR + rounding shift.
 *
 * Scratch buffers are passed in by the caller (they live in the arena), 4-byte aligned;
 * their sizes are given below (and by tinycc/packing.py's *_scratch_bytes functions). They carry no
 * state between calls. Packed weight arrays are int32 (LDRD needs 4-byte alignment).
 *
 * Write order (for an arena planner that lets an output overlap a dying input): each kernel's
 * order is stated below and given exactly by tinycc/packing.py's reads_min_* functions, in tinycc's
 * OpDef.reads_min convention (per output element in index order, the lowest input element read
 * after the previous element was written); packing.overlap_shift() turns it into the largest safe
 * offset(output) - offset(input). tests/test_dsp_kernels.py runs every kernel at that offset.
 *
 * Implementation note: the kernels are C99 with arm_acle.h intrinsics; a few instructions
 * ACLE lacks or gcc 12 handles badly (SXTB16 ROR 8, SMMLAR, SSAT, BFI, PKH, LDRD, the
 * SMLAD steps of the blocked inner loops) are one-line GNU inline asm in tcc_arm_dsp.h, and the
 * 3x3 depthwise block is one asm statement: with 8 accumulators and two LDRD pairs in 14
 * registers gcc otherwise spills inside the inner loops.
 */
#ifndef TCC_ARM_H
#define TCC_ARM_H

#include <stddef.h>
#include <stdint.h>

#include "tcc_lstm.h"
#include "tcc_pool.h"

/* Requantization of one output channel (tinycc/packing.py: pack_requant):
 *   mult  Q31 multiplier in [2^30, 2^31), or 0 for a channel whose output is constant
 *   add   2^(shift-1) + out_zp * 2^shift  (out_zp when shift == 0)
 *   shift right shift 0..22
 * out = ssat8((SMMLAR(acc, mult, add) + (shift ? acc >> 31 : 0)) >> shift), then the
 * activation clamp; equal to clamp(tcc_requantize(acc', mult', shift') + out_zp). */
typedef struct {
    int32_t mult, add, shift;
} tcc_arm_rq;

/* ------------------------------------------------------------------------------------
 * CONV_2D, int8, groups == 1, any kernel size, stride, dilation and padding.
 *
 * Output pixels (flat over batch, row, column) are computed 2 at a time: the receptive
 * fields of the 2 pixels are expanded to int16 (im2col, padded taps read in_zp) into the
 * scratch, then every output channel of those 2 pixels is computed (4 channels at a time,
 * SMLAD on pair words) and stored; an odd last pixel alone.
 *
 * Weights (tinycc/packing.py: pack_conv): K = k_h * k_w * in_c in packing.conv_k_order (in_c % 4 == 0:
 * (ky, kx, c); otherwise the whole words of each kernel row's k_w * in_c bytes, row by row,
 * then the rows' leftover bytes, row by row), padded to
 * K4 = k_packed, pairs P[oc][j] (j < K4/2) as above; channel blocks of 4: for each block
 * b: P[4b][0], P[4b+1][0], P[4b+2][0], P[4b+3][0], P[4b][1], ...; the last out_c % 4
 * channels one by one: P[oc][0], P[oc][1], ...
 *
 * Scratch: 4 * K4 bytes, plus 2 * K4 more when in_c % 4 != 0 (TCC_ARM_CONV_SCRATCH).
 *
 * Write order (packing.reads_min_conv): output pixels in blocks of 2 (flat over batch, row,
 * column): a block reads the receptive fields of its 2 pixels (into the scratch), then writes
 * all out_c values of the 2 pixels, with no input read in between. So for a 1x1, stride-1
 * layer the output may share the input's base when out_c <= in_c.
 * ------------------------------------------------------------------------------------ */
typedef struct {
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t in_zp;
    int32_t act_min, act_max;
    int32_t k_packed;               /* K4 */
    const int32_t *weights;         /* pair words, see above */
    const int32_t *bias;            /* [out_c], scaled */
    const tcc_arm_rq *rq;           /* [out_c] */
    /* optional (NULL: unused), packing.conv_records: for a 1x1 layer on 8 or 16 input channels
     * with out_c % 4 == 0 (and every non-constant channel's shift > 0), one record per output
     * channel: in_c 8: its 4 pair words, scaled bias, mult, add, shift | 0x100 on the last
     * channel; in_c 16: bias, 8 pair words, mult, add, shift (| 0x100). Used when the layer is pointwise (stride 1, no padding) without a clamp: each
     * pixel's 8 inputs stay in registers, one LDM per output channel. */
    const int32_t *records;
    /* optional (NULL: unused), packing.conv_blocks: out_c % 2 == 0 (and every non-constant
     * channel's shift > 0); used when there is no clamp, then weights, bias and rq are not read
     * (the 1x1 records above still go first). Per pair of output channels a, b = 2c, 2c + 1:
     * bias_a, bias_b, bias_a, bias_b; for each group g of 2 pairs (K4 / 4 groups) P_a[2g],
     * P_a[2g+1], P_b[2g], P_b[2g+1]; then mult, add, shift of a and of b (10 + K4 words); the
     * last pair's shift_b carries 0x100, the end mark. */
    const int32_t *blocks;
} tcc_arm_conv_s8_params;

/* The per-output-channel records of the 1x1 layers on 8 / 16 input channels (p->records above,
 * packing.conv_records; field order = the registers one LDM loads, tests/test_variants.py checks
 * it against packing.PW8_RECORD / PW16_RECORD): pair words w, scaled bias, mult, add, shift (the
 * last channel's shift | 0x100). */
typedef struct {
    uint32_t w[4];
    int32_t bias, mult, add, shift;
} tcc_arm_pw8_record;
typedef struct {
    int32_t bias;
    uint32_t w[8];
    int32_t mult, add, shift;
} tcc_arm_pw16_record;
#define TCC_ARM_PW8_RECORD_WORDS ((int32_t)(sizeof(tcc_arm_pw8_record) / sizeof(int32_t)))
#define TCC_ARM_PW16_RECORD_WORDS ((int32_t)(sizeof(tcc_arm_pw16_record) / sizeof(int32_t)))

#define TCC_ARM_K4(n) ((((n) + 3) / 4) * 4)
#define TCC_ARM_CONV_SCRATCH(k_h, k_w, in_c) \
    (4 * TCC_ARM_K4((k_h) * (k_w) * (in_c)) + (((in_c) % 4) ? 2 * TCC_ARM_K4((k_h) * (k_w) * (in_c)) : 0))

/* The entry points (tinycc/variants/arm_conv.py), the same params and scratch: _store (any
 * geometry and clamp: weights, bias, rq), _blocks (no clamp, out_c even: blocks only), _pw8 /
 * _pw16 (1x1, stride 1, no padding, no clamp, in_c 8 / 16, out_c % 4 == 0: records, and weights,
 * bias, rq for an odd last pixel). */
void tcc_arm_conv_s8_store(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out, void *scratch);
void tcc_arm_conv_s8_blocks(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out, void *scratch);
void tcc_arm_conv_s8_pw8(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out, void *scratch);
void tcc_arm_conv_s8_pw16(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out, void *scratch);
/* _pw8 for an even pixel count: only the records' asm loop (no scratch, no fallback) */
void tcc_arm_conv_s8_pw8_pairs(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out);

/* ------------------------------------------------------------------------------------
 * FULLY_CONNECTED, int8.
 *
 * Per batch row: the input row is expanded to int16 pairs in the scratch, then outputs are
 * computed 4 rows at a time and written in order.
 *
 * Weights (tinycc/packing.py: pack_fc): rows in blocks of 4 (zero-padded), per block and per group
 * of 4 inputs the 8 words P[r][j], P[r][j+1] for r = 0..3. Bias padded to a multiple of 4.
 *
 * Scratch: 2 * K4(in_depth) bytes (TCC_ARM_FC_SCRATCH).
 *
 * Write order (packing.reads_min_fc): batch row b's input is read completely (into the scratch)
 * before its outputs are written; the output may overlap the input row freely.
 * ------------------------------------------------------------------------------------ */
typedef struct {
    int32_t batches, in_depth, out_depth;
    int32_t act_min, act_max;
    int32_t k_packed;               /* K4(in_depth) */
    const int32_t *weights;
    const int32_t *bias;            /* [ceil4(out_depth)], scaled */
    const tcc_arm_rq *rq;           /* [out_depth] */
    /* NULL: weights are the pre-scaled int16 pair words above. Otherwise the weights stay int8
     * (packing.pack_fc_int8: per block of 4 rows and group of 4 inputs, one word per row holding
     * its 4 int8 weights), the bias is not scaled, and row r's accumulator is shifted left by
     * lshift[r] (the scale of the pair words) before requantization. */
    const uint8_t *lshift;          /* [ceil4(out_depth)] */
} tcc_arm_fc_s8_params;

/* Scratch of the _row entries: one row as K4 int16 (the _direct ones: none). */
#define TCC_ARM_FC_SCRATCH(in_depth) (2 * TCC_ARM_K4(in_depth))

/* The entry points (tinycc/variants/arm_fc.py): weights as int16 pair words (lshift NULL) or int8
 * (_w8_); the input row expanded into the scratch first (_row: faster, any in_depth) or read in
 * place as words (_direct: in_depth % 4 == 0, no scratch). */
void tcc_arm_fc_s8_row(const tcc_arm_fc_s8_params *p, const int8_t *in, int8_t *out, void *scratch);
void tcc_arm_fc_s8_direct(const tcc_arm_fc_s8_params *p, const int8_t *in, int8_t *out);
void tcc_arm_fc_s8_w8_row(const tcc_arm_fc_s8_params *p, const int8_t *in, int8_t *out, void *scratch);
void tcc_arm_fc_s8_w8_direct(const tcc_arm_fc_s8_params *p, const int8_t *in, int8_t *out);

/* ------------------------------------------------------------------------------------
 * DEPTHWISE_CONV_2D, int8, depth multiplier 1, any kernel size, stride, dilation, padding.
 *
 * Channel-parallel: for each output pixel, 4 channels at a time (SXTB16 on a word of 4 input
 * channels, SMLABB/SMLATT against int16 weight pairs); a channel count that is not a multiple
 * of 4 ends with a byte-wise group.
 *
 * Weights (tinycc/packing.py: pack_depthwise): [channel group q][tap t][2 words]. Bias padded to a
 * multiple of 4. No scratch.
 *
 * Write order (packing.reads_min_depthwise): output pixels in NHWC order; per pixel, channel
 * groups of 4 in order, each group's window read, then the group's (up to) 4 bytes written.
 * ------------------------------------------------------------------------------------ */
typedef struct {
    int32_t batches, in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w;
    int32_t pad_top, pad_left;
    int32_t in_zp;
    int32_t act_min, act_max;
    const int32_t *weights;
    const int32_t *bias;            /* [ceil4(channels)], scaled */
    const tcc_arm_rq *rq;           /* [channels] */
} tcc_arm_depthwise_s8_params;

void tcc_arm_depthwise_s8(const tcc_arm_depthwise_s8_params *p, const int8_t *in, int8_t *out);

/* ------------------------------------------------------------------------------------
 * DEPTHWISE_CONV_2D 3x3, int8, depth multiplier 1, stride 1 or 2 (both directions equal),
 * dilation 1, any padding, via channel-planar int16 lines, `chunk` channels at a time.
 *
 * A line is an image row, or an image column when `transposed` (choose it when out_h > out_w,
 * e.g. 25x5: the kernel computes 4 outputs of a line at a time). For each chunk of channels
 * and each line of outputs, the 3 input lines it reads are converted to int16, one plane per
 * channel, with in_zp in the padding (a ring of 3 line slots in the scratch: with stride 1 only
 * the newest line is converted), then each channel's line of outputs is computed, 4 at a time,
 * with SMLAD on pairs of adjacent taps (11 instructions per line and block with stride 1).
 *
 * Constants (tinycc/packing.py: pack_depthwise_planar(..., transposed)): per channel a record of 10
 * int32 (`records`): mult, add, shift; the scaled bias; for k = 0..2 the words
 * (w[k][0], w[k][1]), (w[k][1], w[k][2]), where w[k][j] is the filter tap (ky=k, kx=j), or
 * (ky=j, kx=k) when transposed.
 *
 * Scratch: 3 * chunk * 2 * row_len bytes, row_len = packing.planar_row_len(...) of the line
 * geometry (TCC_ARM_DW3X3_SCRATCH); chunk = channels (or 0) for all channels at once; with
 * `staged`, chunk * out_h * out_w bytes more: a chunk's outputs are computed there and copied
 * to the output once the chunk's input channels were all read, so (one batch) the output may
 * then lie on the input at any multiple of the pixel size, like the plain kernel's.
 *
 * Write order: per chunk, output lines in order (per batch); before output line l is written,
 * the input lines of its window not converted yet are read (the chunk's channels only), each
 * input line exactly once per chunk; then line l of the chunk's channels is written. An input
 * element is therefore never read after the output element at the same index was written when
 * the output has the input's base (and batches == 1): with stride 1 that output element is the
 * same pixel and channel, whose line was converted before; with stride 2 along rows it lies in
 * an input row above the ones already converted. So the output may be computed in place
 * (packing.depthwise3x3_in_place), except along columns with stride 2.
 * ------------------------------------------------------------------------------------ */
/* One channel's record of tcc_arm_depthwise3x3_s8 (packing.pack_depthwise_planar; field order =
 * the registers one LDM loads, checked against packing.DW3X3_RECORD): mult, add, shift, the
 * scaled bias, 6 weight pair words. */
typedef struct {
    int32_t mult, add, shift, bias;
    uint32_t w[6];
} tcc_arm_dw3x3_record;
#define TCC_ARM_DW3X3_RECORD_WORDS ((int32_t)(sizeof(tcc_arm_dw3x3_record) / sizeof(int32_t)))
/* The same layout as plain numbers for the asm text (tcc_arm_dw3x3.c checks them against the
 * struct at compile time): the record's size, the offsets of bias and of the weight words. */
#define TCC_ARM_DW3X3_REC_BYTES 40
#define TCC_ARM_DW3X3_REC_BIAS 12
#define TCC_ARM_DW3X3_REC_W 16

typedef struct {
    int32_t batches, in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t stride;
    int32_t pad_top, pad_left;
    int32_t in_zp;
    int32_t act_min, act_max;
    int32_t transposed;             /* 1: lines are columns */
    int32_t row_len;                /* planar_row_len() of the line geometry */
    int32_t chunk;                  /* channels per pass (the scratch holds 3 lines of them) */
    int32_t staged;                 /* 1: a chunk's outputs go through the scratch (see above) */
    const int32_t *records;         /* [channels] tcc_arm_dw3x3_record */
    int32_t asm_lines;              /* 1: no clamp and every channel's shift > 0 or constant
                                       (packing.depthwise_planar_asm_lines): the asm line loops */
    int32_t block_n;                /* outputs per asm block along a line (asm_lines only,
                                       packing.depthwise_planar_block): 6, 3, or 0 for 4 */
} tcc_arm_depthwise3x3_s8_params;

#define TCC_ARM_DW3X3_SCRATCH(chunk, row_len, staged, out_pixels) \
    (3 * (chunk) * 2 * (row_len) + ((staged) ? (chunk) * (out_pixels) : 0))

void tcc_arm_depthwise3x3_s8(const tcc_arm_depthwise3x3_s8_params *p, const int8_t *in, int8_t *out,
                             void *scratch);

/* ------------------------------------------------------------------------------------
 * AVERAGE_POOL_2D, int8, same parameters and semantics as tcc_avg_pool_s8 (tcc_pool.h).
 * Channels 4 at a time with SXTAB16 sums in int16 lanes (flushed to int32 every 255 taps).
 * Write order (packing.reads_min_avg_pool): output pixels in NHWC order; per pixel, groups of 4
 * channels (then single channels) each read over the window, then written.
 * ------------------------------------------------------------------------------------ */
void tcc_arm_avg_pool_s8(const tcc_pool_params *p, const int8_t *in, int8_t *out);

/* ------------------------------------------------------------------------------------
 * ADD, int8, two tensors of the same shape (no broadcasting), via per-input tables of the
 * rescaled values indexed by the input byte as unsigned (tinycc/packing.py: pack_add; 2 KB of flash).
 * Write order (packing.reads_min_add): element i of the output is written right after reading
 * element i of both inputs (in place on either input is safe).
 * ------------------------------------------------------------------------------------ */
typedef struct {
    int32_t size;
    int32_t act_min, act_max;
    const int32_t *table;           /* [512] */
    tcc_arm_rq rq;
} tcc_arm_add_s8_params;

void tcc_arm_add_s8(const tcc_arm_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out);
/* The same ADD when the output is linear in the tables (tinycc/variants/arm_add.py checks every
 * pair of input bytes at compile time): out = ssat8((table[a] + table[256 + b]) >> 20), then the
 * clamp; rq is not used. */
#define TCC_ARM_ADD_LIN_SHIFT 20
void tcc_arm_add_s8_lin(const tcc_arm_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out);

/* ------------------------------------------------------------------------------------
 * UNIDIRECTIONAL_SEQUENCE_LSTM, int8 and 16x8 (tcc_arm_lstm.c; units tinycc/variants/arm_lstm.py):
 * the plain kernels' parameters (tcc_lstm_q_params) with the SMMLAR records rq_in / rq_rec /
 * rq_cell and the interleaved int8 weights w8 instead of w_in / w_rec and the biases;
 * scratch: the rows' pair words (tinycc/variants/arm_lstm.py); per cell the 4 gates' rows in one
 * pass (SMLAD), the cell update in registers.
 * Write order: the state in place after each step's reads; the output rows after them.
 * ------------------------------------------------------------------------------------ */
void tcc_arm_lstm_s8(const tcc_lstm_q_params *p, const int8_t *in, int8_t *hidden, int16_t *cell, int8_t *out,
                     int16_t *scratch);
void tcc_arm_lstm_s16(const tcc_lstm_q_params *p, const int16_t *in, int16_t *hidden, int16_t *cell,
                      int16_t *out, int16_t *scratch);

#endif /* TCC_ARM_H */
