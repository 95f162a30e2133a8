/* tinycc runtime: unary element-wise ops (TFLite builtins) and type conversions.
 *
 * int8: ABS, RSQRT, ELU, HARD_SWISH, LEAKY_RELU, LOGISTIC, TANH, RELU, RELU6,
 * RELU_N1_TO_1 and QUANTIZE int8->int8 all map each of the 256 input values to
 * one output value, so the compiler evaluates TFLite Micro's integer formula (or
 * its float LUTPopulate) for every input at compile time and the kernel is a
 * table lookup, tcc_lut_s8.
 * float32: one function per op, the TFLite reference formula.
 * QUANTIZE float32->int8/int16 and between integer types, DEQUANTIZE int8/int16->float32,
 * CAST, ZEROS_LIKE.
 */
#ifndef TCC_ELEMENTWISE_H
#define TCC_ELEMENTWISE_H

#include <stdint.h>

/* out[i] = lut[(uint8_t)in[i]]; in and out may be the same buffer. */
void tcc_lut_s8(const int8_t *lut, const int8_t *in, int8_t *out, int32_t n);

void tcc_abs_f32(const float *in, float *out, int32_t n);
void tcc_neg_f32(const float *in, float *out, int32_t n);
void tcc_ceil_f32(const float *in, float *out, int32_t n);
void tcc_floor_f32(const float *in, float *out, int32_t n);
void tcc_cos_f32(const float *in, float *out, int32_t n);
void tcc_sin_f32(const float *in, float *out, int32_t n);
void tcc_exp_f32(const float *in, float *out, int32_t n);
void tcc_log_f32(const float *in, float *out, int32_t n);
void tcc_rsqrt_f32(const float *in, float *out, int32_t n);
void tcc_sqrt_f32(const float *in, float *out, int32_t n);
void tcc_square_f32(const float *in, float *out, int32_t n);
void tcc_elu_f32(const float *in, float *out, int32_t n);
void tcc_gelu_f32(const float *in, float *out, int32_t n);
void tcc_gelu_approx_f32(const float *in, float *out, int32_t n);
void tcc_hard_swish_f32(const float *in, float *out, int32_t n);
void tcc_logistic_f32(const float *in, float *out, int32_t n);
void tcc_tanh_f32(const float *in, float *out, int32_t n);
void tcc_relu_f32(const float *in, float *out, int32_t n);
void tcc_relu6_f32(const float *in, float *out, int32_t n);
void tcc_relu_n1_to_1_f32(const float *in, float *out, int32_t n);
void tcc_leaky_relu_f32(float alpha, const float *in, float *out, int32_t n);

/* int16 RELU, RELU6, LEAKY_RELU (zero points 0): clamp(requantize(x, pos or neg multiplier by
 * the sign of x), act_min, act_max). */
typedef struct {
    int32_t mult_pos, shift_pos, mult_neg, shift_neg, act_min, act_max;
} tcc_piecewise_s16_params;
void tcc_piecewise_s16(const tcc_piecewise_s16_params *p, const int16_t *in, int16_t *out, int32_t n);

/* int16 LOGISTIC and TANH (zero points 0, output scale 2^-15): the input times mult, shifted right
 * by shift (to units of 1/(3 * 4096)), then TFLite's interpolated 256-knot sigmoid table. */
typedef struct {
    const uint16_t *table;
    int32_t mult, shift;
} tcc_sigmoid_s16_params;
void tcc_logistic_s16(const tcc_sigmoid_s16_params *p, const int16_t *in, int16_t *out, int32_t n);
void tcc_tanh_s16(const tcc_sigmoid_s16_params *p, const int16_t *in, int16_t *out, int32_t n);

/* QUANTIZE float32 -> int8: clamp(round(x / scale) + zero_point). */
void tcc_quantize_f32_s8(float scale, int32_t zero_point, const float *in, int8_t *out, int32_t n);
/* QUANTIZE float32 -> int16: the same, clamped to int16. */
void tcc_quantize_f32_s16(float scale, int32_t zero_point, const float *in, int16_t *out, int32_t n);
/* DEQUANTIZE int8, int16 or uint8 -> float32: scale * (x - zero_point). */
void tcc_dequantize_u8_f32(float scale, int32_t zero_point, const uint8_t *in, float *out, int32_t n);
void tcc_dequantize_s8_f32(float scale, int32_t zero_point, const int8_t *in, float *out, int32_t n);
void tcc_dequantize_s16_f32(float scale, int32_t zero_point, const int16_t *in, float *out, int32_t n);

/* QUANTIZE between integer types (TFLite's Requantize; int8 -> int8 is a table):
 * clamp(requantize(x - in_zp, mult, shift) + out_zp) to the output type. */
#define TCC_REQUANTIZE_DECL(fn, tin, tout, lo, hi) \
    void fn(int32_t mult, int32_t shift, int32_t in_zp, int32_t out_zp, const tin *in, tout *out, int32_t n);
#define TCC_REQUANTIZE_PAIRS(X) \
    X(tcc_requantize_s8_s16, int8_t, int16_t, INT16_MIN, INT16_MAX) \
    X(tcc_requantize_s8_s32, int8_t, int32_t, INT32_MIN, INT32_MAX) \
    X(tcc_requantize_s16_s8, int16_t, int8_t, INT8_MIN, INT8_MAX) \
    X(tcc_requantize_s16_s16, int16_t, int16_t, INT16_MIN, INT16_MAX) \
    X(tcc_requantize_s16_s32, int16_t, int32_t, INT32_MIN, INT32_MAX) \
    X(tcc_requantize_s32_s8, int32_t, int8_t, INT8_MIN, INT8_MAX) \
    X(tcc_requantize_s32_s16, int32_t, int16_t, INT16_MIN, INT16_MAX)
TCC_REQUANTIZE_PAIRS(TCC_REQUANTIZE_DECL)

/* CAST: C conversion (static_cast); to bool (b8, one byte 0/1) is x != 0. */
#define TCC_CAST_DECL(fn, tin, tout) void fn(const tin *in, tout *out, int32_t n);
#define TCC_CAST_TYPES(X, from, tin) \
    X(tcc_cast_##from##_s8, tin, int8_t) X(tcc_cast_##from##_s16, tin, int16_t) \
    X(tcc_cast_##from##_s32, tin, int32_t) X(tcc_cast_##from##_f32, tin, float) \
    X(tcc_cast_##from##_b8, tin, uint8_t)
TCC_CAST_TYPES(TCC_CAST_DECL, s8, int8_t)
TCC_CAST_TYPES(TCC_CAST_DECL, s16, int16_t)
TCC_CAST_TYPES(TCC_CAST_DECL, s32, int32_t)
TCC_CAST_TYPES(TCC_CAST_DECL, f32, float)
TCC_CAST_TYPES(TCC_CAST_DECL, b8, uint8_t)
/* and from or to uint8 (u8) and int64 (s64) */
#define TCC_CAST_WIDE_TYPES(X, from, tin) X(tcc_cast_##from##_u8, tin, uint8_t) X(tcc_cast_##from##_s64, tin, int64_t)
TCC_CAST_TYPES(TCC_CAST_DECL, u8, uint8_t)
TCC_CAST_TYPES(TCC_CAST_DECL, s64, int64_t)
TCC_CAST_WIDE_TYPES(TCC_CAST_DECL, s8, int8_t)
TCC_CAST_WIDE_TYPES(TCC_CAST_DECL, s16, int16_t)
TCC_CAST_WIDE_TYPES(TCC_CAST_DECL, s32, int32_t)
TCC_CAST_WIDE_TYPES(TCC_CAST_DECL, f32, float)
TCC_CAST_WIDE_TYPES(TCC_CAST_DECL, b8, uint8_t)
TCC_CAST_WIDE_TYPES(TCC_CAST_DECL, u8, uint8_t)
TCC_CAST_WIDE_TYPES(TCC_CAST_DECL, s64, int64_t)

/* ZEROS_LIKE: every byte 0 (TFLite Micro writes raw zeros, whatever the zero point). */
void tcc_zeros(void *out, int32_t nbytes);

#endif /* TCC_ELEMENTWISE_H */
