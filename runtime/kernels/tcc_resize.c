/* tinycc runtime: RESIZE_BILINEAR.
 *
 * Semantics: int8 is TFLite's ResizeBilinearInteger (what TFLite Micro runs for int8): with
 * 10-bit fixed-point source coordinates, the four neighbours are weighted
 *   v = in[y0][x0]*(1024-wy)*(1024-wx) + in[y1][x0]*wy*(1024-wx)
 *     + in[y0][x1]*(1024-wy)*wx + in[y1][x1]*wy*wx            (64-bit)
 * and out = (v +- 2^19) / 2^20 (round half away from zero, C division). float32 is TFLite's
 * ResizeBilinear: in00*(1-dy)*(1-dx) + in10*dy*(1-dx) + in01*(1-dy)*dx + in11*dy*dx, summed
 * left to right. Source offsets and weights come from compile-time tables (tcc_resize.h).
 */
#include "tcc_resize.h"

void tcc_resize_bilinear_s8(const tcc_resize_params *p, const int32_t *ytab, const int32_t *xtab,
                            const int8_t *in, int8_t *out)
{
    const int32_t c = p->channels;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c;
        for (int32_t y = 0; y < p->out_h; ++y) {
            const int8_t *r0 = img + ytab[3 * y], *r1 = img + ytab[3 * y + 1];
            const int64_t wy = ytab[3 * y + 2];
            for (int32_t x = 0; x < p->out_w; ++x) {
                const int32_t x0 = xtab[3 * x], x1 = xtab[3 * x + 1];
                const int64_t wx = xtab[3 * x + 2];
                for (int32_t ch = 0; ch < c; ++ch) {
                    const int64_t v = (int64_t)r0[x0 + ch] * (1024 - wy) * (1024 - wx)
                                    + (int64_t)r1[x0 + ch] * wy * (1024 - wx)
                                    + (int64_t)r0[x1 + ch] * (1024 - wy) * wx
                                    + (int64_t)r1[x1 + ch] * wy * wx;
                    const int64_t round = v > 0 ? (1 << 19) : -(1 << 19);
                    *out++ = (int8_t)((v + round) / (1 << 20));
                }
            }
        }
    }
}

void tcc_resize_bilinear_f32(const tcc_resize_params *p, const int32_t *yidx, const int32_t *xidx,
                             const float *yw, const float *xw, const float *in, float *out)
{
    const int32_t c = p->channels;
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *img = in + b * p->in_h * p->in_w * c;
        for (int32_t y = 0; y < p->out_h; ++y) {
            const float *r0 = img + yidx[2 * y], *r1 = img + yidx[2 * y + 1];
            const float hy = yw[2 * y], ly = yw[2 * y + 1];
            for (int32_t x = 0; x < p->out_w; ++x) {
                const int32_t x0 = xidx[2 * x], x1 = xidx[2 * x + 1];
                const float hx = xw[2 * x], lx = xw[2 * x + 1];
                for (int32_t ch = 0; ch < c; ++ch) {
                    *out++ = r0[x0 + ch] * hy * hx + r1[x0 + ch] * ly * hx
                           + r0[x1 + ch] * hy * lx + r1[x1 + ch] * ly * lx + 0.0f;
                }
            }
        }
    }
}
