/* tinycc runtime: RESIZE_BILINEAR (TFLite builtin), int8 and float32, NHWC. */
#ifndef TCC_RESIZE_H
#define TCC_RESIZE_H

#include <stdint.h>

typedef struct {
    int32_t batches, in_h, in_w, channels, out_h, out_w;
} tcc_resize_params;

/* ytab: per output row {y0 * in_w * channels, y1 * in_w * channels, w_y}, xtab: per output
 * column {x0 * channels, x1 * channels, w_x}; w is the 10-bit fixed-point weight of y1/x1
 * (it may be negative with half_pixel_centers, as in TFLite). */
void tcc_resize_bilinear_s8(const tcc_resize_params *p, const int32_t *ytab, const int32_t *xtab,
                            const int8_t *in, int8_t *out);

/* yidx/xidx: per output row/column the offsets of the lower and upper source; yw/xw: their
 * float weights {1 - d, d}. */
void tcc_resize_bilinear_f32(const tcc_resize_params *p, const int32_t *yidx, const int32_t *xidx,
                             const float *yw, const float *xw, const float *in, float *out);

#endif /* TCC_RESIZE_H */
