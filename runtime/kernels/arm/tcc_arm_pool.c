/* tinycc runtime, Cortex-M DSP: AVERAGE_POOL_2D int8 (see tcc_arm.h).
 *
 * Same semantics as tcc_avg_pool_s8 (TFLite AveragePool: the window clipped to the image,
 * sum / count rounded half away from zero, then the activation clamp). Four channels at a
 * time: SXTAB16 adds (c0, c2) and (c1, c3) of a word of input into int16 lanes, which hold
 * up to 255 taps of int8 exactly; longer windows are flushed to int32 every 255 taps (a window of
 * at most 255 taps, the usual case, takes a loop without that count: two taps per pass, their
 * loads back to back).
 */
#include "tcc_arm.h"
#include "tcc_arm_dsp.h"

TCC_ARM_INLINE int32_t avg_div(int32_t sum, int32_t count)
{
    return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

/* The int16 lane sums (even, odd channels) of 4 channels over a window of at most 255 taps:
 * rows ky0..ky1 - 1 of `n` taps from src (a row of the image `row` bytes further on). */
TCC_ARM_INLINE void sum_small(const int8_t *src, int32_t rows, int32_t n, int32_t c_all, int32_t row,
                              uint32_t *even, uint32_t *odd)
{
    uint32_t se = 0, so = 0;
    for (int32_t r = 0; r < rows; ++r, src += row) {
        const int8_t *s = src;
        int32_t k = n;
        for (; k >= 2; k -= 2, s += 2 * c_all) {
            const uint32_t v0 = tcc_ld32(s), v1 = tcc_ld32(s + c_all);
            se = tcc_sxtab16(se, v0);
            so = tcc_sxtab16_ror8(so, v0);
            se = tcc_sxtab16(se, v1);
            so = tcc_sxtab16_ror8(so, v1);
        }
        if (k) {
            const uint32_t v0 = tcc_ld32(s);
            se = tcc_sxtab16(se, v0);
            so = tcc_sxtab16_ror8(so, v0);
        }
    }
    *even = se;
    *odd = so;
}

TCC_ARM_INLINE int32_t lo16(uint32_t v) { return (int32_t)(int16_t)(uint16_t)(v & 0xffffu); }
TCC_ARM_INLINE int32_t hi16(uint32_t v) { return (int32_t)(int16_t)(uint16_t)(v >> 16); }

void tcc_arm_avg_pool_s8(const tcc_pool_params *p, const int8_t *in, int8_t *out)
{
    const int32_t c_all = p->channels;
    const int32_t lo = p->act_min, hi = p->act_max;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c_all;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t ky0 = TCC_ARM_MAX(0, -y0), ky1 = TCC_ARM_MIN(p->f_h, p->in_h - y0);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kx0 = TCC_ARM_MAX(0, -x0), kx1 = TCC_ARM_MIN(p->f_w, p->in_w - x0);
                const int32_t count = (ky1 - ky0) * (kx1 - kx0);
                int32_t c = 0;
                for (; c + 4 <= c_all; c += 4) {
                    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    uint32_t se = 0, so = 0;
                    int32_t pending = 0;
                    if (count <= 255) {
                        if (count > 0) {
                            sum_small(img + ((y0 + ky0) * p->in_w + x0 + kx0) * c_all + c, ky1 - ky0, kx1 - kx0,
                                      c_all, p->in_w * c_all, &se, &so);
                        }
                    } else for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *src = img + ((y0 + ky) * p->in_w + x0 + kx0) * c_all + c;
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const uint32_t v = tcc_ld32(src);
                            src += c_all;
                            se = tcc_sxtab16(se, v);
                            so = tcc_sxtab16_ror8(so, v);
                            if (++pending == 255) {
                                s0 += lo16(se); s2 += hi16(se); s1 += lo16(so); s3 += hi16(so);
                                se = so = 0;
                                pending = 0;
                            }
                        }
                    }
                    s0 += lo16(se); s2 += hi16(se); s1 += lo16(so); s3 += hi16(so);
                    int32_t v0 = 0, v1 = 0, v2 = 0, v3 = 0;
                    if (count > 0) {
                        v0 = avg_div(s0, count); v1 = avg_div(s1, count);
                        v2 = avg_div(s2, count); v3 = avg_div(s3, count);
                    }
                    v0 = TCC_ARM_MIN(TCC_ARM_MAX(v0, lo), hi);
                    v1 = TCC_ARM_MIN(TCC_ARM_MAX(v1, lo), hi);
                    v2 = TCC_ARM_MIN(TCC_ARM_MAX(v2, lo), hi);
                    v3 = TCC_ARM_MIN(TCC_ARM_MAX(v3, lo), hi);
                    uint32_t packed = tcc_bfi8_1((uint32_t)v0, (uint32_t)v1);
                    packed = tcc_bfi8_2(packed, (uint32_t)v2);
                    packed = tcc_bfi8_3(packed, (uint32_t)v3);
                    tcc_st32(out, packed);
                    out += 4;
                }
                for (; c < c_all; ++c) {
                    int32_t sum = 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *src = img + ((y0 + ky) * p->in_w + x0 + kx0) * c_all + c;
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            sum += *src;
                            src += c_all;
                        }
                    }
                    int32_t v = count > 0 ? avg_div(sum, count) : 0;
                    *out++ = (int8_t)TCC_ARM_MIN(TCC_ARM_MAX(v, lo), hi);
                }
            }
        }
    }
}
