/* tinycc runtime: TRANSPOSE_CONV.
 *
 * Semantics (TFLite reference TransposeConv / integer_ops::TransposeConv): input pixel
 * (iy, ix) adds in * w[oc][fy][fx][ic] to output (iy*stride_h - pad_top + fy,
 * ix*stride_w - pad_left + fx). TFLite scatters; this kernel gathers: for each output element
 * it visits the contributing (iy, ix, ic) in increasing order, which is the order the scatter
 * adds them in, so float sums match and no int32 scratch buffer is needed.
 *   int8:  acc = sum (in + in_offset) * w (+ bias), out = clamp(MultiplyByQuantizedMultiplier(
 *          acc, mult[oc], shift[oc]) + out_zp, act_min, act_max)
 *   float: acc = sum in * w (from 0.0f), + bias, clamp to the activation range.
 */
#include <float.h>
#include "tcc_transpose_conv.h"
#include "tcc_common.h"

/* Input rows whose window covers output row o: i*stride - pad + f == o with 0 <= f < k. */
static void source_range(int32_t o, int32_t pad, int32_t stride, int32_t k, int32_t in, int32_t *lo, int32_t *hi)
{
    const int32_t top = o + pad;                       /* i * stride + f */
    int32_t first = top - (k - 1);
    first = first <= 0 ? 0 : (first + stride - 1) / stride;
    int32_t last = top < 0 ? -1 : top / stride;
    *lo = first;
    *hi = TCC_MIN(last, in - 1);
}

#define TCC_TCONV_LOOP(p, body)                                                               \
    for (int32_t b = 0; b < (p)->batches; ++b)                                                \
    for (int32_t oy = 0; oy < (p)->out_h; ++oy) {                                             \
        int32_t iy0, iy1;                                                                     \
        source_range(oy, (p)->pad_top, (p)->stride_h, (p)->f_h, (p)->in_h, &iy0, &iy1);       \
        for (int32_t ox = 0; ox < (p)->out_w; ++ox) {                                         \
            int32_t ix0, ix1;                                                                 \
            source_range(ox, (p)->pad_left, (p)->stride_w, (p)->f_w, (p)->in_w, &ix0, &ix1);  \
            for (int32_t oc = 0; oc < (p)->out_ch; ++oc) {                                    \
                body                                                                          \
            }                                                                                 \
        }                                                                                     \
    }

void tcc_transpose_conv_s8(const tcc_transpose_conv_params *p, const int8_t *in, const int8_t *weights,
                           const int32_t *bias, const int32_t *mult, const int32_t *shift, int8_t *out)
{
    TCC_TCONV_LOOP(p, {
        int32_t acc = 0;
        for (int32_t iy = iy0; iy <= iy1; ++iy) {
            const int32_t fy = oy + p->pad_top - iy * p->stride_h;
            for (int32_t ix = ix0; ix <= ix1; ++ix) {
                const int32_t fx = ox + p->pad_left - ix * p->stride_w;
                const int8_t *px = in + ((b * p->in_h + iy) * p->in_w + ix) * p->in_ch;
                const int8_t *w = weights + ((oc * p->f_h + fy) * p->f_w + fx) * p->in_ch;
                for (int32_t ic = 0; ic < p->in_ch; ++ic) {
                    acc += (px[ic] + p->in_offset) * w[ic];
                }
            }
        }
        if (bias) {
            acc += bias[oc];
        }
        const int32_t v = tcc_requantize(acc, mult[oc], shift[oc]) + p->out_zp;
        *out++ = (int8_t)tcc_clamp(v, p->act_min, p->act_max);
    })
}

#ifndef TCC_OMIT_TRANSPOSE_CONV_S16  /* tinycc defines it when no op calls it */
/* 16x8 (integer_ops::TransposeConv for int16): the sum in int64, + bias, the int64
 * MultiplyByQuantizedMultiplier (tcc_requantize64), clamp. */
void tcc_transpose_conv_s16(const tcc_transpose_conv_params *p, const int16_t *in, const int8_t *weights,
                            const int64_t *bias, const int32_t *mult, const int32_t *shift, int16_t *out)
{
    TCC_TCONV_LOOP(p, {
        int64_t acc = 0;
        for (int32_t iy = iy0; iy <= iy1; ++iy) {
            const int32_t fy = oy + p->pad_top - iy * p->stride_h;
            for (int32_t ix = ix0; ix <= ix1; ++ix) {
                const int32_t fx = ox + p->pad_left - ix * p->stride_w;
                const int16_t *px = in + ((b * p->in_h + iy) * p->in_w + ix) * p->in_ch;
                const int8_t *w = weights + ((oc * p->f_h + fy) * p->f_w + fx) * p->in_ch;
                for (int32_t ic = 0; ic < p->in_ch; ++ic) {
                    acc += (int32_t)px[ic] * w[ic];
                }
            }
        }
        if (bias) {
            acc += bias[oc];
        }
        *out++ = (int16_t)tcc_clamp(tcc_requantize64(acc, mult[oc], shift[oc]), p->act_min, p->act_max);
    })
}
#endif

void tcc_transpose_conv_f32(const tcc_transpose_conv_params *p, const float *in, const float *weights,
                            const float *bias, float *out)
{
    TCC_TCONV_LOOP(p, {
        float acc = 0.0f;
        for (int32_t iy = iy0; iy <= iy1; ++iy) {
            const int32_t fy = oy + p->pad_top - iy * p->stride_h;
            for (int32_t ix = ix0; ix <= ix1; ++ix) {
                const int32_t fx = ox + p->pad_left - ix * p->stride_w;
                const float *px = in + ((b * p->in_h + iy) * p->in_w + ix) * p->in_ch;
                const float *w = weights + ((oc * p->f_h + fy) * p->f_w + fx) * p->in_ch;
                for (int32_t ic = 0; ic < p->in_ch; ++ic) {
                    acc += px[ic] * w[ic];
                }
            }
        }
        if (bias) {
            acc += bias[oc];
        }
        *out++ = tcc_clampf(acc, p->act_minf, p->act_maxf);
    })
}
