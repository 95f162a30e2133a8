/* tinycc runtime: unary element-wise ops and type conversions.
 *
 * Semantics (TFLite Micro reference kernels, tensorflow/lite/micro/kernels/
 * elementwise.cc, activations.cc, elu.cc, hard_swish.cc, leaky_relu.cc,
 * logistic.cc, tanh.cc, exp.cc, neg.cc, ceil.cc, floor.cc, quantize.cc,
 * dequantize.cc, cast.cc, zeros_like.cc):
 *   int8 unary ops   out = table[in], the table computed at compile time from
 *                    TFLite Micro's formula for each of the 256 inputs.
 *   float32          ABS |x|, NEG -x, CEIL, FLOOR, COS, SIN, EXP, LOG, SQRT,
 *                    RSQRT 1/sqrt(x), SQUARE x*x, ELU x<0 ? expm1(x) : x,
 *                    HARD_SWISH x*min(6, max(0, x+3))/6, LOGISTIC 1/(1+exp(-x))
 *                    (1 above 16.619047, exp(x) below -9), TANH, RELU max(x,0),
 *                    RELU6, RELU_N1_TO_1 clamps, LEAKY_RELU x>0 ? x : alpha*x.
 *   int16 LOGISTIC, TANH  TFLite's interpolated sigmoid table (tcc_sigmoid_s16.h).
 *   QUANTIZE         clamp(round_half_away(x / scale) + zero_point, -128, 127).
 *   DEQUANTIZE       scale * (float)(q - zero_point).
 *   CAST             C conversion; to bool, x != 0.
 * Every loop reads in[i] before writing out[i], so in and out may be one buffer.
 */
#include "tcc_elementwise.h"

#include <math.h>

#include "tcc_common.h"
#include "tcc_sigmoid_s16.h"

void tcc_lut_s8(const int8_t *lut, const int8_t *in, int8_t *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = lut[(uint8_t)in[i]];
    }
}

#define TCC_UNARY_F32(name, expr)                                  \
    void name(const float *in, float *out, int32_t n)              \
    {                                                              \
        for (int32_t i = 0; i < n; ++i) {                          \
            const float x = in[i];                                 \
            out[i] = (expr);                                       \
        }                                                          \
    }

TCC_UNARY_F32(tcc_abs_f32, fabsf(x))
TCC_UNARY_F32(tcc_neg_f32, -x)
TCC_UNARY_F32(tcc_ceil_f32, ceilf(x))
TCC_UNARY_F32(tcc_floor_f32, floorf(x))
TCC_UNARY_F32(tcc_cos_f32, cosf(x))
TCC_UNARY_F32(tcc_sin_f32, sinf(x))
TCC_UNARY_F32(tcc_exp_f32, expf(x))
TCC_UNARY_F32(tcc_log_f32, logf(x))
TCC_UNARY_F32(tcc_rsqrt_f32, 1.0f / sqrtf(x))
TCC_UNARY_F32(tcc_sqrt_f32, sqrtf(x))
TCC_UNARY_F32(tcc_square_f32, x * x)
TCC_UNARY_F32(tcc_elu_f32, x < 0.0f ? expm1f(x) : x)
TCC_UNARY_F32(tcc_tanh_f32, tanhf(x))
/* GELU (TFLite's gelu.h): 0.5 x erfc(-x / sqrt(2)), or the tanh approximation. */
#ifndef TCC_OMIT_GELU_F32
TCC_UNARY_F32(tcc_gelu_f32, 0.5f * x * erfcf(x * -0.70710678118654752440f))
#endif
#ifndef TCC_OMIT_GELU_APPROX_F32
TCC_UNARY_F32(tcc_gelu_approx_f32, 0.5f * x * (1.0f + tanhf(0.79788456080286535588f * (x + 0.044715f * x * x * x))))
#endif
TCC_UNARY_F32(tcc_relu_f32, x < 0.0f ? 0.0f : x)
TCC_UNARY_F32(tcc_relu6_f32, x > 6.0f ? 6.0f : (x < 0.0f ? 0.0f : x))
TCC_UNARY_F32(tcc_relu_n1_to_1_f32, x > 1.0f ? 1.0f : (x < -1.0f ? -1.0f : x))

/* std::min(6, std::max(0, x + 3)) with std::max(a, b) = a < b ? b : a, std::min(a, b) = b < a ? b : a. */
static inline float hard_swish_f32(float x)
{
    const float t = x + 3.0f;
    const float lo = 0.0f < t ? t : 0.0f;
    const float r = lo < 6.0f ? lo : 6.0f;
    return x * r / 6.0f;
}
TCC_UNARY_F32(tcc_hard_swish_f32, hard_swish_f32(x))

static inline float logistic_f32(float x)
{
    if (x > 16.619047164916992188f) {
        return 1.0f;
    }
    if (x < -9.0f) {
        return expf(x);
    }
    return 1.0f / (1.0f + expf(-x));
}
TCC_UNARY_F32(tcc_logistic_f32, logistic_f32(x))

void tcc_leaky_relu_f32(float alpha, const float *in, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        const float x = in[i];
        out[i] = x > 0.0f ? x : x * alpha;
    }
}

/* round(x / scale), limited to [-limit, limit] to keep the conversion defined: every value
 * outside (and NaN, which x86 converts to INT32_MIN) clamps to the same bound of the output
 * type, whose range plus any zero point lies within the limit. */
static inline int32_t tcc_quantize_f32(float x, float scale, float limit)
{
    float r = roundf(x / scale);
    if (!(r >= -limit)) {
        r = -limit;
    } else if (r > limit) {
        r = limit;
    }
    return (int32_t)r;
}

void tcc_quantize_f32_s8(float scale, int32_t zero_point, const float *in, int8_t *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = (int8_t)tcc_clamp(tcc_quantize_f32(in[i], scale, 256.0f) + zero_point, INT8_MIN, INT8_MAX);
    }
}

#ifndef TCC_OMIT_QUANTIZE_F32_S16  /* tinycc defines it when no op calls it */
void tcc_quantize_f32_s16(float scale, int32_t zero_point, const float *in, int16_t *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = (int16_t)tcc_clamp(tcc_quantize_f32(in[i], scale, 65536.0f) + zero_point, INT16_MIN, INT16_MAX);
    }
}
#endif

void tcc_dequantize_s8_f32(float scale, int32_t zero_point, const int8_t *in, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = scale * (float)((int32_t)in[i] - zero_point);
    }
}

#ifndef TCC_OMIT_DEQUANTIZE_U8_F32  /* tinycc defines it when no op calls it */
void tcc_dequantize_u8_f32(float scale, int32_t zero_point, const uint8_t *in, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = scale * (float)((int32_t)in[i] - zero_point);
    }
}
#endif

#ifndef TCC_OMIT_DEQUANTIZE_S16_F32  /* tinycc defines it when no op calls it */
void tcc_dequantize_s16_f32(float scale, int32_t zero_point, const int16_t *in, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = scale * (float)((int32_t)in[i] - zero_point);
    }
}
#endif

#ifndef TCC_OMIT_PIECEWISE_S16  /* tinycc defines it when no op calls it */
void tcc_piecewise_s16(const tcc_piecewise_s16_params *p, const int16_t *in, int16_t *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        const int32_t x = in[i];
        const int32_t r = x >= 0 ? tcc_requantize(x, p->mult_pos, p->shift_pos)
                                 : tcc_requantize(x, p->mult_neg, p->shift_neg);
        out[i] = (int16_t)tcc_clamp(r, p->act_min, p->act_max);
    }
}
#endif

#ifndef TCC_OMIT_LOGISTIC_S16  /* tinycc defines it when no op calls it */
void tcc_logistic_s16(const tcc_sigmoid_s16_params *p, const int16_t *in, int16_t *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = tcc_sigmoid16(p->table, tcc_sigmoid16_scale(in[i], p->mult, p->shift));
    }
}
#endif

#ifndef TCC_OMIT_TANH_S16  /* tinycc defines it when no op calls it */
void tcc_tanh_s16(const tcc_sigmoid_s16_params *p, const int16_t *in, int16_t *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = tcc_tanh16(p->table, tcc_sigmoid16_scale(in[i], p->mult, p->shift));
    }
}
#endif

#ifndef TCC_OMIT_REQUANTIZE  /* tinycc defines it when no op calls it */
/* x - in_zp and + out_zp wrap like TFLite's int32 arithmetic (an int32 input may be anywhere). */
#define TCC_REQUANTIZE_DEF(fn, tin, tout, lo, hi)                                                   \
    void fn(int32_t mult, int32_t shift, int32_t in_zp, int32_t out_zp, const tin *in, tout *out, int32_t n) \
    {                                                                                                \
        for (int32_t i = 0; i < n; ++i) {                                                            \
            const int32_t x = (int32_t)((uint32_t)(int32_t)in[i] - (uint32_t)in_zp);                  \
            const int32_t r = (int32_t)((uint32_t)tcc_requantize(x, mult, shift) + (uint32_t)out_zp); \
            out[i] = (tout)tcc_clamp(r, lo, hi);                                                      \
        }                                                                                            \
    }
TCC_REQUANTIZE_PAIRS(TCC_REQUANTIZE_DEF)
#endif

/* Conversions: float to integer goes through int32 as x86 builds do. */
#define TCC_CONV_s8(x) ((int8_t)(x))
#define TCC_CONV_s16(x) ((int16_t)(x))
#define TCC_CONV_s32(x) ((int32_t)(x))
#define TCC_CONV_f32(x) ((float)(x))
#define TCC_CONV_b8(x) ((uint8_t)((x) != 0))

#define TCC_CAST_DEF(fn, tin, tout, conv)                          \
    void fn(const tin *in, tout *out, int32_t n)                   \
    {                                                              \
        for (int32_t i = 0; i < n; ++i) {                          \
            out[i] = conv(in[i]);                                  \
        }                                                          \
    }
#define TCC_CAST_FROM_INT(from, tin)                                          \
    TCC_CAST_DEF(tcc_cast_##from##_s8, tin, int8_t, TCC_CONV_s8)              \
    TCC_CAST_DEF(tcc_cast_##from##_s16, tin, int16_t, TCC_CONV_s16)           \
    TCC_CAST_DEF(tcc_cast_##from##_s32, tin, int32_t, TCC_CONV_s32)           \
    TCC_CAST_DEF(tcc_cast_##from##_f32, tin, float, TCC_CONV_f32)             \
    TCC_CAST_DEF(tcc_cast_##from##_b8, tin, uint8_t, TCC_CONV_b8)

TCC_CAST_FROM_INT(s8, int8_t)
TCC_CAST_FROM_INT(s16, int16_t)
TCC_CAST_FROM_INT(s32, int32_t)
TCC_CAST_FROM_INT(b8, uint8_t)

#define TCC_CONV_F2s8(x) ((int8_t)(int32_t)(x))
#define TCC_CONV_F2s16(x) ((int16_t)(int32_t)(x))
TCC_CAST_DEF(tcc_cast_f32_s8, float, int8_t, TCC_CONV_F2s8)
TCC_CAST_DEF(tcc_cast_f32_s16, float, int16_t, TCC_CONV_F2s16)
TCC_CAST_DEF(tcc_cast_f32_s32, float, int32_t, TCC_CONV_s32)
TCC_CAST_DEF(tcc_cast_f32_f32, float, float, TCC_CONV_f32)
TCC_CAST_DEF(tcc_cast_f32_b8, float, uint8_t, TCC_CONV_b8)

#ifndef TCC_OMIT_CAST_WIDE  /* tinycc defines it when no CAST from or to uint8 or int64 */
#define TCC_CONV_u8(x) ((uint8_t)(x))
#define TCC_CONV_s64(x) ((int64_t)(x))
#define TCC_CONV_F2u8(x) ((uint8_t)(int32_t)(x))
#define TCC_CAST_WIDE_FROM_INT(from, tin)                                     \
    TCC_CAST_DEF(tcc_cast_##from##_u8, tin, uint8_t, TCC_CONV_u8)             \
    TCC_CAST_DEF(tcc_cast_##from##_s64, tin, int64_t, TCC_CONV_s64)
TCC_CAST_FROM_INT(u8, uint8_t)
TCC_CAST_FROM_INT(s64, int64_t)
TCC_CAST_WIDE_FROM_INT(s8, int8_t)
TCC_CAST_WIDE_FROM_INT(s16, int16_t)
TCC_CAST_WIDE_FROM_INT(s32, int32_t)
TCC_CAST_WIDE_FROM_INT(b8, uint8_t)
TCC_CAST_WIDE_FROM_INT(u8, uint8_t)
TCC_CAST_WIDE_FROM_INT(s64, int64_t)
TCC_CAST_DEF(tcc_cast_f32_u8, float, uint8_t, TCC_CONV_F2u8)
TCC_CAST_DEF(tcc_cast_f32_s64, float, int64_t, TCC_CONV_s64)
#endif

void tcc_zeros(void *out, int32_t nbytes)
{
    uint8_t *p = (uint8_t *)out;
    for (int32_t i = 0; i < nbytes; ++i) {
        p[i] = 0;
    }
}
