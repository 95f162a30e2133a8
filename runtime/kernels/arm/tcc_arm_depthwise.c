/* tinycc runtime, Cortex-M DSP: DEPTHWISE_CONV_2D int8, depth multiplier 1 (see tcc_arm.h).
 *
 * Same semantics as tcc_depthwise_s8 (TFLite DepthwiseConvPerChannel, zero point folded into
 * the bias, padded taps read in_zp).
 *
 * tcc_arm_depthwise_s8: any geometry. Per output pixel, channels 4 at a time: a word of 4
 * input channels gives (c0, c2) and (c1, c3) with SXTB16 / SXTB16 ROR 8; SMLABB / SMLATT
 * multiply them with the tap's packed weights.
 *
 * tcc_arm_depthwise3x3_s8 (3x3, stride 1 or 2) is in tcc_arm_dw3x3.c.
 */
#include "tcc_arm.h"
#include "tcc_arm_dsp.h"

TCC_ARM_INLINE int32_t dw_rq(int32_t acc, const tcc_arm_rq *rq)
{
    return rq->shift != 0 ? tcc_arm_rq_pos(acc, rq->mult, rq->add, rq->shift)
                          : tcc_arm_rq_zero(acc, rq->mult, rq->add);
}

TCC_ARM_INLINE int32_t dw_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ------------------------------------------------------------------------------------ */

void tcc_arm_depthwise_s8(const tcc_arm_depthwise_s8_params *p, const int8_t *in, int8_t *out)
{
    const int32_t c_all = p->channels;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t clamp = lo > -128 || hi < 127;
    const uint32_t zp4 = tcc_splat8(p->in_zp);
    const int32_t row_bytes = p->in_w * c_all;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * row_bytes;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t rows_in = y0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t inside = rows_in && x0 >= 0 && x0 + (p->k_w - 1) * p->dil_w < p->in_w;
                const uint32_t *w = (const uint32_t *)p->weights;
                for (int32_t c = 0; c < c_all; c += 4) {
                    const int32_t full = c + 4 <= c_all;
                    int32_t a0 = p->bias[c], a1 = p->bias[c + 1], a2 = p->bias[c + 2], a3 = p->bias[c + 3];
                    for (int32_t ky = 0; ky < p->k_h; ++ky) {
                        const int32_t y = y0 + ky * p->dil_h;
                        const int32_t row_ok = y >= 0 && y < p->in_h;
                        for (int32_t kx = 0; kx < p->k_w; ++kx) {
                            const int32_t x = x0 + kx * p->dil_w;
                            uint32_t v;
                            if (inside || (row_ok && x >= 0 && x < p->in_w)) {
                                const int8_t *src = img + (y * p->in_w + x) * c_all + c;
                                if (full) {
                                    v = tcc_ld32(src);
                                } else {
                                    v = 0;
                                    for (int32_t k = 0; c + k < c_all; ++k) {
                                        v |= (uint32_t)(uint8_t)src[k] << (8 * k);
                                    }
                                }
                            } else {
                                v = zp4;
                            }
                            uint32_t w0, w1;
                            TCC_LDRD(w0, w1, w, 0);
                            w += 2;
                            const uint32_t e = tcc_sxtb16(v), o = tcc_sxtb16_ror8(v);
                            a0 = tcc_smlabb(e, w0, a0);
                            a2 = tcc_smlatt(e, w0, a2);
                            a1 = tcc_smlabb(o, w1, a1);
                            a3 = tcc_smlatt(o, w1, a3);
                        }
                    }
                    a0 = dw_rq(a0, &p->rq[c]);
                    if (clamp) a0 = dw_clamp(a0, lo, hi);
                    if (full) {
                        a1 = dw_rq(a1, &p->rq[c + 1]);
                        a2 = dw_rq(a2, &p->rq[c + 2]);
                        a3 = dw_rq(a3, &p->rq[c + 3]);
                        if (clamp) {
                            a1 = dw_clamp(a1, lo, hi);
                            a2 = dw_clamp(a2, lo, hi);
                            a3 = dw_clamp(a3, lo, hi);
                        }
                        uint32_t packed = tcc_bfi8_1((uint32_t)a0, (uint32_t)a1);
                        packed = tcc_bfi8_2(packed, (uint32_t)a2);
                        packed = tcc_bfi8_3(packed, (uint32_t)a3);
                        tcc_st32(out, packed);
                    } else {
                        out[0] = (int8_t)a0;
                        if (c + 1 < c_all) {
                            a1 = dw_rq(a1, &p->rq[c + 1]);
                            if (clamp) a1 = dw_clamp(a1, lo, hi);
                            out[1] = (int8_t)a1;
                        }
                        if (c + 2 < c_all) {
                            a2 = dw_rq(a2, &p->rq[c + 2]);
                            if (clamp) a2 = dw_clamp(a2, lo, hi);
                            out[2] = (int8_t)a2;
                        }
                    }
                    out += full ? 4 : c_all - c;
                }
            }
        }
    }
}
