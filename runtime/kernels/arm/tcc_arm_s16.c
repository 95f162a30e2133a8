/* tinycc runtime, Cortex-M DSP kernels: 16x8 CONV_2D / FULLY_CONNECTED (tcc_arm_conv_s16) and
 * DEPTHWISE_CONV_2D (tcc_arm_dw_s16), bit-exact with tcc_conv2d_s16, tcc_fully_connected_s16
 * and tcc_depthwise_s16.
 *
 * The int8 weights are widened to int16 at compile time (tcc_arm_s16.h), so one LDR gives the
 * pair of weights one SMLAD (conv) or SMLABB + SMLATT (depthwise) multiplies with a pair of
 * int16 activations read by one LDR. No im2col: the conv sums, for each output pixel and block
 * of 4 output channels, the taps inside the image (a run of k_w' * in_c contiguous activations
 * and weights per filter row: zero points are 0, so the padded taps add nothing). The sums are
 * int32: tinycc checks at build time that 32768 * sum |w| of every output channel stays below
 * 2^31; the bias (int64) is added after, and the requantization is the plain kernels'
 * (tcc_requantize_acc). Output pixels in order, each written after its inputs were read; the
 * output never shares memory with the input.
 */
#include "tcc_arm_s16.h"

#include "tcc_arm_dsp.h"
#include "tcc_common.h"

TCC_ARM_INLINE int16_t tcc_arm_s16_out(const tcc_arm_s16_params *p, int32_t acc, int32_t oc)
{
    return (int16_t)tcc_clamp(tcc_requantize_acc((int64_t)acc + p->bias[oc], p->mult[oc], p->shift[oc], p->acc64),
                              p->act_min, p->act_max);
}

/* acc[r] += the dot product of x[0 .. 2 * pairs) with row r of the interleaved weights w. */
TCC_ARM_INLINE void tcc_arm_s16_dot4(const int16_t *x, const uint32_t *w, int32_t pairs, int32_t acc[4])
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int16_t *end = x + 2 * pairs;
    for (; x + 4 <= end; x += 4, w += 8) {
        const uint32_t x0 = tcc_ld32(x), x1 = tcc_ld32(x + 2);
        const uint32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        const uint32_t w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7];
        a0 = tcc_smlad(w0, x0, a0);
        a1 = tcc_smlad(w1, x0, a1);
        a2 = tcc_smlad(w2, x0, a2);
        a3 = tcc_smlad(w3, x0, a3);
        a0 = tcc_smlad(w4, x1, a0);
        a1 = tcc_smlad(w5, x1, a1);
        a2 = tcc_smlad(w6, x1, a2);
        a3 = tcc_smlad(w7, x1, a3);
    }
    if (x < end) {
        const uint32_t x0 = tcc_ld32(x);
        a0 = tcc_smlad(w[0], x0, a0);
        a1 = tcc_smlad(w[1], x0, a1);
        a2 = tcc_smlad(w[2], x0, a2);
        a3 = tcc_smlad(w[3], x0, a3);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* The conv of tcc_arm_conv_s16 and tcc_arm_fc_s16 (each entry inlines its own copy). */
TCC_ARM_INLINE void tcc_arm_s16_conv(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out)
{
    const int32_t ci = p->in_c, kw = p->k_w;
    const int32_t block_words = p->k_h * kw * ci / 2 * TCC_ARM_S16_ROWS;
    const uint32_t *wts = (const uint32_t *)p->weights;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *img = in + b * p->in_h * p->in_w * ci;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t ky0 = TCC_ARM_MAX(0, -y0), ky1 = TCC_ARM_MIN(p->k_h, p->in_h - y0);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kx0 = TCC_ARM_MAX(0, -x0), kx1 = TCC_ARM_MIN(kw, p->in_w - x0);
                const int32_t pairs = (kx1 - kx0) * ci / 2;
                for (int32_t oc = 0; oc < p->out_c; oc += TCC_ARM_S16_ROWS) {
                    int32_t acc[4] = {0, 0, 0, 0};
                    const uint32_t *wb = wts + oc / TCC_ARM_S16_ROWS * block_words;
                    for (int32_t ky = ky0; ky < ky1 && pairs > 0; ++ky) {
                        tcc_arm_s16_dot4(img + ((y0 + ky) * p->in_w + x0 + kx0) * ci,
                                         wb + (ky * kw + kx0) * ci / 2 * TCC_ARM_S16_ROWS, pairs, acc);
                    }
                    const int32_t n = TCC_ARM_MIN(TCC_ARM_S16_ROWS, p->out_c - oc);
                    for (int32_t r = 0; r < n; ++r) {
                        out[oc + r] = tcc_arm_s16_out(p, acc[r], oc + r);
                    }
                }
                out += p->out_c;
            }
        }
    }
}

#ifndef TCC_OMIT_ARM_CONV_S16  /* tinycc defines it when no op calls it */
void tcc_arm_conv_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out)
{
    tcc_arm_s16_conv(p, in, out);
}
#endif

#ifndef TCC_OMIT_ARM_FC_S16  /* tinycc defines it when no op calls it */
void tcc_arm_fc_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out)
{
    tcc_arm_s16_conv(p, in, out);
}
#endif

#ifndef TCC_OMIT_ARM_DW_S16  /* tinycc defines it when no op calls it */
void tcc_arm_dw_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out)
{
    const int32_t ch = p->in_c, kw = p->k_w;
    const int16_t *wts = (const int16_t *)(const void *)p->weights;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int16_t *img = in + b * p->in_h * p->in_w * ch;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t ky0 = TCC_ARM_MAX(0, -y0), ky1 = TCC_ARM_MIN(p->k_h, p->in_h - y0);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t kx0 = TCC_ARM_MAX(0, -x0), kx1 = TCC_ARM_MIN(kw, p->in_w - x0);
                int32_t c = 0;
                for (; c + 4 <= ch; c += 4) {
                    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int16_t *xp = img + ((y0 + ky) * p->in_w + x0 + kx0) * ch + c;
                        const int16_t *wp = wts + (ky * kw + kx0) * ch + c;
                        for (int32_t kx = kx0; kx < kx1; ++kx, xp += ch, wp += ch) {
                            const uint32_t xa = tcc_ld32(xp), xb = tcc_ld32(xp + 2);
                            const uint32_t wa = tcc_ld32(wp), wb = tcc_ld32(wp + 2);
                            a0 = tcc_smlabb(xa, wa, a0);
                            a1 = tcc_smlatt(xa, wa, a1);
                            a2 = tcc_smlabb(xb, wb, a2);
                            a3 = tcc_smlatt(xb, wb, a3);
                        }
                    }
                    out[c] = tcc_arm_s16_out(p, a0, c);
                    out[c + 1] = tcc_arm_s16_out(p, a1, c + 1);
                    out[c + 2] = tcc_arm_s16_out(p, a2, c + 2);
                    out[c + 3] = tcc_arm_s16_out(p, a3, c + 3);
                }
                for (; c < ch; c += 2) {
                    int32_t a0 = 0, a1 = 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int16_t *xp = img + ((y0 + ky) * p->in_w + x0 + kx0) * ch + c;
                        const int16_t *wp = wts + (ky * kw + kx0) * ch + c;
                        for (int32_t kx = kx0; kx < kx1; ++kx, xp += ch, wp += ch) {
                            const uint32_t xa = tcc_ld32(xp), wa = tcc_ld32(wp);
                            a0 = tcc_smlabb(xa, wa, a0);
                            a1 = tcc_smlatt(xa, wa, a1);
                        }
                    }
                    out[c] = tcc_arm_s16_out(p, a0, c);
                    out[c + 1] = tcc_arm_s16_out(p, a1, c + 1);
                }
                out += ch;
            }
        }
    }
}
#endif
