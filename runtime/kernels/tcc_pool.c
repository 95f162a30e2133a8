/* tinycc runtime: AVERAGE_POOL_2D and MAX_POOL_2D.
 *
 * Semantics (TFLite reference AveragePool): the window is clipped to the image and
 * the average is over the taps inside it only (padding is not counted). int8 and int16 round
 * the sum / count to nearest with ties away from zero, as integer division
 * (sum +- count/2) / count does, then clamps. Float divides the float sum.
 * MAX_POOL_2D (TFLite reference MaxPool): the largest value of the clipped window,
 * then the activation clamp.
 */
#include <float.h>
#include <math.h>
#include "tcc_pool.h"
#include "tcc_common.h"

#include <stddef.h>

#define TCC_AVG_POOL_DEF(fn, T)                                                                     \
    void fn(const tcc_pool_params *p, const T *in, T *out)                                          \
    {                                                                                               \
        for (int32_t b = 0; b < p->batches; ++b) {                                                  \
            const T *img = in + b * p->in_h * p->in_w * p->channels;                                \
            for (int32_t oy = 0; oy < p->out_h; ++oy) {                                             \
                const int32_t y0 = oy * p->stride_h - p->pad_top;                                   \
                const int32_t ky0 = TCC_MAX(0, -y0), ky1 = TCC_MIN(p->f_h, p->in_h - y0);           \
                for (int32_t ox = 0; ox < p->out_w; ++ox) {                                         \
                    const int32_t x0 = ox * p->stride_w - p->pad_left;                              \
                    const int32_t kx0 = TCC_MAX(0, -x0), kx1 = TCC_MIN(p->f_w, p->in_w - x0);       \
                    const int32_t count = (ky1 - ky0) * (kx1 - kx0);                                \
                    for (int32_t c = 0; c < p->channels; ++c) {                                     \
                        int32_t sum = 0;                                                            \
                        for (int32_t ky = ky0; ky < ky1; ++ky) {                                    \
                            for (int32_t kx = kx0; kx < kx1; ++kx) {                                \
                                sum += img[((y0 + ky) * p->in_w + (x0 + kx)) * p->channels + c];    \
                            }                                                                       \
                        }                                                                           \
                        int32_t avg = 0;                                                            \
                        if (count > 0) {                                                            \
                            avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;  \
                        }                                                                           \
                        *out++ = (T)tcc_clamp(avg, p->act_min, p->act_max);                         \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }

TCC_AVG_POOL_DEF(tcc_avg_pool_s8, int8_t)
#ifndef TCC_OMIT_AVG_POOL_S16  /* tinycc defines it when no op calls it */
TCC_AVG_POOL_DEF(tcc_avg_pool_s16, int16_t)
#endif

void tcc_avg_pool_f32(const tcc_pool_params *p, const float *in, float *out)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *img = in + b * p->in_h * p->in_w * p->channels;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t ky0 = TCC_MAX(0, -y0), ky1 = TCC_MIN(p->f_h, p->in_h - y0);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kx0 = TCC_MAX(0, -x0), kx1 = TCC_MIN(p->f_w, p->in_w - x0);
                const int32_t count = (ky1 - ky0) * (kx1 - kx0);
                for (int32_t c = 0; c < p->channels; ++c) {
                    float sum = 0.0f;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            sum += img[((y0 + ky) * p->in_w + (x0 + kx)) * p->channels + c];
                        }
                    }
                    const float avg = count > 0 ? sum / (float)count : 0.0f;
                    *out++ = tcc_clampf(avg, p->act_minf, p->act_maxf);
                }
            }
        }
    }
}

#define TCC_MAX_POOL_DEF(fn, T, lowest)                                                             \
    void fn(const tcc_pool_params *p, const T *in, T *out)                                          \
    {                                                                                               \
        for (int32_t b = 0; b < p->batches; ++b) {                                                  \
            const T *img = in + b * p->in_h * p->in_w * p->channels;                                \
            for (int32_t oy = 0; oy < p->out_h; ++oy) {                                             \
                const int32_t y0 = oy * p->stride_h - p->pad_top;                                   \
                const int32_t ky0 = TCC_MAX(0, -y0), ky1 = TCC_MIN(p->f_h, p->in_h - y0);           \
                for (int32_t ox = 0; ox < p->out_w; ++ox) {                                         \
                    const int32_t x0 = ox * p->stride_w - p->pad_left;                              \
                    const int32_t kx0 = TCC_MAX(0, -x0), kx1 = TCC_MIN(p->f_w, p->in_w - x0);       \
                    for (int32_t c = 0; c < p->channels; ++c) {                                     \
                        int32_t m = lowest;                                                         \
                        for (int32_t ky = ky0; ky < ky1; ++ky) {                                    \
                            for (int32_t kx = kx0; kx < kx1; ++kx) {                                \
                                m = TCC_MAX(m, img[((y0 + ky) * p->in_w + (x0 + kx)) * p->channels + c]);\
                            }                                                                       \
                        }                                                                           \
                        *out++ = (T)tcc_clamp(m, p->act_min, p->act_max);                           \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    }

TCC_MAX_POOL_DEF(tcc_max_pool_s8, int8_t, -128)
#ifndef TCC_OMIT_MAX_POOL_S16  /* tinycc defines it when no op calls it */
TCC_MAX_POOL_DEF(tcc_max_pool_s16, int16_t, -32768)
#endif

void tcc_max_pool_f32(const tcc_pool_params *p, const float *in, float *out)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *img = in + b * p->in_h * p->in_w * p->channels;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t ky0 = TCC_MAX(0, -y0), ky1 = TCC_MIN(p->f_h, p->in_h - y0);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kx0 = TCC_MAX(0, -x0), kx1 = TCC_MIN(p->f_w, p->in_w - x0);
                for (int32_t c = 0; c < p->channels; ++c) {
                    float m = -FLT_MAX;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const float v = img[((y0 + ky) * p->in_w + (x0 + kx)) * p->channels + c];
                            m = v > m ? v : m;
                        }
                    }
                    *out++ = tcc_clampf(m, p->act_minf, p->act_maxf);
                }
            }
        }
    }
}

/* L2_POOL_2D (TFLite Micro l2_pool_2d.cc, reference L2Pool): sqrt(sum of squares / count)
 * over the window clipped to the image. */
void tcc_l2_pool_f32(const tcc_pool_params *p, const float *in, float *out)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *img = in + b * p->in_h * p->in_w * p->channels;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t ky0 = TCC_MAX(0, -y0), ky1 = TCC_MIN(p->f_h, p->in_h - y0);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kx0 = TCC_MAX(0, -x0), kx1 = TCC_MIN(p->f_w, p->in_w - x0);
                const int32_t count = (ky1 - ky0) * (kx1 - kx0);
                for (int32_t c = 0; c < p->channels; ++c) {
                    float sum = 0.0f;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const float v = img[((y0 + ky) * p->in_w + (x0 + kx)) * p->channels + c];
                            sum += v * v;
                        }
                    }
                    *out++ = tcc_clampf(sqrtf(sum / (float)count), p->act_minf, p->act_maxf);
                }
            }
        }
    }
}
