/* tinycc runtime: ADD.
 *
 * Semantics (TFLite reference integer Add): both inputs are shifted left by 20 bits
 * of headroom, rescaled to a common scale (2 * max input scale) by multipliers < 1,
 * summed, and the sum is rescaled to the output scale:
 *   a' = requantize((a + in1_offset) << 20, in1_mult, in1_shift)
 *   b' = requantize((b + in2_offset) << 20, in2_mult, in2_shift)
 *   out = clamp(requantize(a' + b', out_mult, out_shift) + out_zp, act_min, act_max)
 * All shifts here are <= 0, so requantize is a doubling high multiply followed by a
 * rounding right shift.
 */
#include "tcc_add.h"
#include "tcc_common.h"

void tcc_add_s8(const tcc_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    for (int32_t i = 0; i < p->size; ++i) {
        const int32_t x = (a[i] + p->in1_offset) * (1 << p->left_shift);
        const int32_t y = (b[i] + p->in2_offset) * (1 << p->left_shift);
        const int32_t sx = tcc_requantize(x, p->in1_mult, p->in1_shift);
        const int32_t sy = tcc_requantize(y, p->in2_mult, p->in2_shift);
        const int32_t r = tcc_requantize(sx + sy, p->out_mult, p->out_shift) + p->out_zp;
        out[i] = (int8_t)tcc_clamp(r, p->act_min, p->act_max);
    }
}

void tcc_add_f32(const tcc_add_f32_params *p, const float *a, const float *b, float *out)
{
    for (int32_t i = 0; i < p->size; ++i) {
        out[i] = tcc_clampf(a[i] + b[i], p->act_min, p->act_max);
    }
}
