/* tinycc runtime: DEPTHWISE_CONV_2D 3x3 (depth multiplier 1, stride 1 or 2, dilation 1, any
 * padding), int8, for cores with the DSP extension; channel by channel.
 *
 * Semantics: TFLite reference DepthwiseConvPerChannel (see ../tcc_depthwise.c), bit-exact.
 *
 * Per channel c: its input plane is converted once into the scratch as int16 with the padding
 * filled with in_zp (a padded tap then cancels its share of the zero point folded into the
 * bias), then every output of channel c is computed from the plane with SMLAD on pairs of
 * adjacent taps (the record's weights and bias are pre-scaled for the SMMLAR requantization,
 * see tcc_arm_dsp.h) and stored straight into its slot of the output.
 *
 * Order (for sharing memory): all reads of input channel c happen before the first store of
 * channel c, and stores of channel c only touch channel-c slots, so, as the plain kernel, the
 * output may start any whole number of pixels away from the input (batch 1), e.g. on it.
 * Scratch: plane_h * plane_w int16 (TCC_ARM_DW_PLANE_SCRATCH).
 */
#include "tcc_arm.h"
#include "tcc_arm_dsp.h"

static void convert_plane(const tcc_arm_dw_plane_s8_params *p, const int8_t *img, int32_t c, int16_t *plane)
{
    const int16_t zp = (int16_t)p->in_zp;
    for (int32_t y = 0; y < p->plane_h; ++y) {
        const int32_t iy = y - p->pad_top;
        int16_t *row = plane + y * p->plane_w;
        if (iy < 0 || iy >= p->in_h) {
            for (int32_t x = 0; x < p->plane_w; ++x) row[x] = zp;
            continue;
        }
        const int8_t *src = img + iy * p->in_w * p->channels + c;
        int32_t x = 0;
        for (; x < p->pad_left; ++x) row[x] = zp;
        for (int32_t ix = 0; ix < p->in_w && x < p->plane_w; ++ix, ++x) {
            row[x] = src[ix * p->channels];
        }
        for (; x < p->plane_w; ++x) row[x] = zp;
    }
}

void tcc_arm_dw_plane_s8(const tcc_arm_dw_plane_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    int16_t *plane = (int16_t *)scratch;
    const int32_t pw = p->plane_w, s = p->stride, ch = p->channels;
    const int32_t lo = p->act_min, hi = p->act_max;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * ch;
        int8_t *dst = out + b * p->out_h * p->out_w * ch;
        for (int32_t c = 0; c < ch; ++c) {
            const int32_t *rec = p->records + 10 * c;
            const uint32_t w0 = (uint32_t)rec[0], w0c = (uint32_t)rec[1], w1 = (uint32_t)rec[2];
            const uint32_t w1c = (uint32_t)rec[3], w2 = (uint32_t)rec[4], w2c = (uint32_t)rec[5];
            const int32_t bias = rec[6], m = rec[7], add = rec[8], sh = rec[9];
            convert_plane(p, img, c, plane);
            int8_t *d = dst + c;
            for (int32_t oy = 0; oy < p->out_h; ++oy) {
                const int16_t *r0 = plane + oy * s * pw;
                const int16_t *r1 = r0 + pw;
                const int16_t *r2 = r1 + pw;
                for (int32_t ox = 0; ox < p->out_w; ++ox, r0 += s, r1 += s, r2 += s, d += ch) {
                    int32_t acc = bias;
                    acc = tcc_smlad(tcc_ld32(r0), w0, acc);
                    acc = tcc_smlabb((uint32_t)(int32_t)r0[2], w0c, acc);
                    acc = tcc_smlad(tcc_ld32(r1), w1, acc);
                    acc = tcc_smlabb((uint32_t)(int32_t)r1[2], w1c, acc);
                    acc = tcc_smlad(tcc_ld32(r2), w2, acc);
                    acc = tcc_smlabb((uint32_t)(int32_t)r2[2], w2c, acc);
                    int32_t v = sh != 0 ? tcc_arm_rq_pos(acc, m, add, sh) : tcc_arm_rq_zero(acc, m, add);
                    v = v < lo ? lo : (v > hi ? hi : v);
                    *d = (int8_t)v;
                }
            }
        }
    }
}
