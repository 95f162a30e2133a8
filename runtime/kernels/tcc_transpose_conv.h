/* tinycc runtime: TRANSPOSE_CONV (TFLite builtin), int8 (per-channel weights), 16x8 and float32,
 * NHWC. */
#ifndef TCC_TRANSPOSE_CONV_H
#define TCC_TRANSPOSE_CONV_H

#include <stdint.h>

typedef struct {
    int32_t batches, in_h, in_w, in_ch, out_h, out_w, out_ch;
    int32_t f_h, f_w, stride_h, stride_w, pad_top, pad_left;
    int32_t in_offset, out_zp, act_min, act_max;   /* int8 */
    float act_minf, act_maxf;                      /* float32 */
} tcc_transpose_conv_params;

/* weights [out_ch][f_h][f_w][in_ch]; bias may be NULL; mult/shift per output channel. */
void tcc_transpose_conv_s8(const tcc_transpose_conv_params *p, const int8_t *in, const int8_t *weights,
                           const int32_t *bias, const int32_t *mult, const int32_t *shift, int8_t *out);
/* 16x8: int16 input and output (zero points 0, in_offset and out_zp unused), int64 bias. */
void tcc_transpose_conv_s16(const tcc_transpose_conv_params *p, const int16_t *in, const int8_t *weights,
                            const int64_t *bias, const int32_t *mult, const int32_t *shift, int16_t *out);
void tcc_transpose_conv_f32(const tcc_transpose_conv_params *p, const float *in, const float *weights,
                            const float *bias, float *out);

#endif /* TCC_TRANSPOSE_CONV_H */
