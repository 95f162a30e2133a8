/* tinycc runtime: ADD.
 *
 * Semantics (TFLite reference integer Add): both inputs are shifted left by 20 bits
 * (int16: 15; uint8 as int8: 20) of headroom, rescaled to a common scale (2 * max input scale) by multipliers < 1,
 * summed, and the sum is rescaled to the output scale:
 *   a' = requantize((a + in1_offset) << 20, in1_mult, in1_shift)
 *   b' = requantize((b + in2_offset) << 20, in2_mult, in2_shift)
 *   out = clamp(requantize(a' + b', out_mult, out_shift) + out_zp, act_min, act_max)
 * All shifts here are <= 0, so requantize is a doubling high multiply followed by a
 * rounding right shift. Broadcasting (TFLite BroadcastAdd6DSlow) only changes which
 * elements meet: the output is walked in row-major order, each input with its own
 * strides (0 where it is broadcast).
 */
#include "tcc_add.h"
#include "tcc_common.h"

static inline int32_t add_q(const tcc_add_s8_params *p, int32_t a, int32_t b)
{
    const int32_t x = (a + p->in1_offset) * (1 << p->left_shift);
    const int32_t y = (b + p->in2_offset) * (1 << p->left_shift);
    const int32_t sx = tcc_requantize(x, p->in1_mult, p->in1_shift);
    const int32_t sy = tcc_requantize(y, p->in2_mult, p->in2_shift);
    const int32_t r = tcc_requantize(sx + sy, p->out_mult, p->out_shift) + p->out_zp;
    return tcc_clamp(r, p->act_min, p->act_max);
}

/* Walk a 6-D broadcast: the body sees the flat input offsets ia, ib. */
#define TCC_BROADCAST_LOOP(s, body)                                                       \
    for (int32_t i0 = 0; i0 < (s)->dims[0]; ++i0)                                          \
    for (int32_t i1 = 0; i1 < (s)->dims[1]; ++i1)                                          \
    for (int32_t i2 = 0; i2 < (s)->dims[2]; ++i2)                                          \
    for (int32_t i3 = 0; i3 < (s)->dims[3]; ++i3)                                          \
    for (int32_t i4 = 0; i4 < (s)->dims[4]; ++i4) {                                        \
        int32_t ia = i0 * (s)->a_strides[0] + i1 * (s)->a_strides[1] + i2 * (s)->a_strides[2] \
                   + i3 * (s)->a_strides[3] + i4 * (s)->a_strides[4];                        \
        int32_t ib = i0 * (s)->b_strides[0] + i1 * (s)->b_strides[1] + i2 * (s)->b_strides[2] \
                   + i3 * (s)->b_strides[3] + i4 * (s)->b_strides[4];                        \
        for (int32_t i5 = 0; i5 < (s)->dims[5]; ++i5) {                                    \
            body;                                                                          \
            ia += (s)->a_strides[5];                                                       \
            ib += (s)->b_strides[5];                                                       \
        }                                                                                  \
    }

void tcc_add_s8(const tcc_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    TCC_BROADCAST_LOOP(&p->shape, *out++ = (int8_t)add_q(p, a[ia], b[ib]))
}

#ifndef TCC_OMIT_ADD_U8   /* fully-uint8 models (TFLite's uint8 reference Add: the same arithmetic) */
void tcc_add_u8(const tcc_add_s8_params *p, const uint8_t *a, const uint8_t *b, uint8_t *out)
{
    TCC_BROADCAST_LOOP(&p->shape, *out++ = (uint8_t)add_q(p, a[ia], b[ib]))
}
#endif

#ifndef TCC_OMIT_ADD_S16  /* tinycc defines it when no op calls it */
void tcc_add_s16(const tcc_add_s8_params *p, const int16_t *a, const int16_t *b, int16_t *out)
{
    TCC_BROADCAST_LOOP(&p->shape, *out++ = (int16_t)add_q(p, a[ia], b[ib]))
}
#endif

void tcc_add_f32(const tcc_add_f32_params *p, const float *a, const float *b, float *out)
{
    TCC_BROADCAST_LOOP(&p->shape, *out++ = tcc_clampf(a[ia] + b[ib], p->act_min, p->act_max))
}

/* ADD_N (TFLite Micro add_n.cc, reference AddN): int8 terms rescaled like ADD's operands and
 * summed in int32. The accumulator starts from the rescaled term of the zero point offset, as
 * TFLite Micro's reference does (not from 0). Element i of every input is read before out[i]
 * is written. */
void tcc_add_n_s8(const tcc_add_n_s8_params *p, const int8_t *const *in, int32_t n, int8_t *out)
{
    const int32_t start = tcc_requantize(p->in_offset * (1 << p->left_shift), p->in_mult, p->in_shift);
    for (int32_t i = 0; i < p->size; ++i) {
        int32_t acc = start;
        for (int32_t j = 0; j < n; ++j) {
            acc += tcc_requantize((in[j][i] + p->in_offset) * (1 << p->left_shift), p->in_mult, p->in_shift);
        }
        const int32_t r = tcc_requantize(acc, p->out_mult, p->out_shift) + p->out_zp;
        out[i] = (int8_t)tcc_clamp(r, p->act_min, p->act_max);
    }
}

void tcc_add_n_f32(const float *const *in, int32_t n, float *out, int32_t size)
{
    for (int32_t i = 0; i < size; ++i) {
        float x = 0.0f;
        for (int32_t j = 0; j < n; ++j) {
            x += in[j][i];
        }
        out[i] = x;
    }
}

#ifndef TCC_OMIT_ADD_S32
/* int32 (TFLite Micro's integer Add without rescaling: loop counters, indices): the sum wraps
 * like two's complement instead of overflowing, then the activation clamp. */
void tcc_add_s32(const tcc_add_s32_params *p, const int32_t *a, const int32_t *b, int32_t *out)
{
    TCC_BROADCAST_LOOP(&p->shape,
                       *out++ = tcc_clamp((int32_t)((uint32_t)a[ia] + (uint32_t)b[ib]), p->act_min, p->act_max))
}
#endif
