/* tinycc runtime: CONV_2D and FULLY_CONNECTED (int8) with pruned (sparse) weights: only the
 * nonzero weights are stored, and the multiply loop skips the zeros (tinycc/variants/sparse.py).
 *
 * Layout: per output channel, count[c] entries of two bytes (step, weight): step is the
 * distance in taps from the previous entry of the channel (from tap 0 for the first one), weight
 * the model's int8 value; a gap of more than 255 taps is bridged by entries of weight 0. Taps
 * are the model's filter order ([k_h][k_w][k_c] of one output channel, or the input index of a
 * FULLY_CONNECTED row), so an entry is the same product the dense kernel makes. */
#ifndef TCC_SPARSE_H
#define TCC_SPARSE_H

#include <stdint.h>

typedef struct {
    int32_t batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    int32_t in_zp, out_zp, act_min, act_max;
    const uint16_t *count;     /* [out_c] entries of each channel */
    const uint8_t *entries;    /* (step, weight) pairs, channel after channel */
    const int32_t *bias;       /* [out_c] the zero-point-folded bias */
    const int32_t *mult;
    const int32_t *shift;
} tcc_sparse_conv_s8_params;

typedef struct {
    int32_t batches, in_depth, out_depth;
    int32_t out_zp, act_min, act_max;
    const uint16_t *count;     /* [out_depth] */
    const uint8_t *entries;
    const int32_t *bias;
    const int32_t *mult;
    const int32_t *shift;
} tcc_sparse_fc_s8_params;

/* scratch: k_h * k_w * in_c bytes (one pixel's window, padded taps holding in_zp). Groups == 1. */
void tcc_sparse_conv_s8(const tcc_sparse_conv_s8_params *p, const int8_t *in, int8_t *out, int8_t *scratch);
void tcc_sparse_fc_s8(const tcc_sparse_fc_s8_params *p, const int8_t *in, int8_t *out);

#endif /* TCC_SPARSE_H */
