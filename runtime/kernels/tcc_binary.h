/* tinycc runtime: binary element-wise ops with broadcasting (TFLite builtins SUB, MUL,
 * DIV, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, PRELU, EQUAL, NOT_EQUAL, GREATER,
 * GREATER_EQUAL, LESS, LESS_EQUAL, SELECT_V2, SELECT, FLOOR_DIV, FLOOR_MOD, LOGICAL_AND,
 * LOGICAL_OR, LOGICAL_NOT), int8 and float32 (and the types each names). */
#ifndef TCC_BINARY_H
#define TCC_BINARY_H

#include <stdint.h>

#define TCC_BCAST_DIMS 6

/* Shapes right-aligned and padded with 1s to 6-D; an input's stride is 0 along a
 * dimension it broadcasts. Same-shape operands use dims {1,1,1,1,1,size}. */
typedef struct {
    int32_t dims[TCC_BCAST_DIMS];
    int32_t a_strides[TCC_BCAST_DIMS], b_strides[TCC_BCAST_DIMS];
} tcc_bcast;

/* Three operands (SELECT_V2: condition c, then a, b). */
typedef struct {
    int32_t dims[TCC_BCAST_DIMS];
    int32_t c_strides[TCC_BCAST_DIMS], a_strides[TCC_BCAST_DIMS], b_strides[TCC_BCAST_DIMS];
} tcc_bcast3;

/* SUB and SQUARED_DIFFERENCE: both inputs shifted left and rescaled to a common scale. */
typedef struct {
    tcc_bcast shape;
    int32_t in1_offset, in2_offset;         /* minus the inputs' zero points */
    int32_t left_shift;                     /* 20 (SUB; int16: 15) or 7 (SQUARED_DIFFERENCE) */
    int32_t in1_mult, in1_shift, in2_mult, in2_shift, out_mult, out_shift;
    int32_t out_zp, act_min, act_max;
} tcc_rescaled_s8_params;

/* MUL and DIV. */
typedef struct {
    tcc_bcast shape;
    int32_t in1_offset, in2_offset, out_mult, out_shift, out_zp, act_min, act_max;
} tcc_product_s8_params;

typedef struct {
    tcc_bcast shape;
    float act_min, act_max;
} tcc_binary_f32_params;

typedef struct {
    tcc_bcast shape;
    int32_t in_offset, alpha_offset, mult_pos, shift_pos, mult_neg, shift_neg, out_zp;
} tcc_prelu_s8_params;

/* Raw int32 arithmetic with the fused activation's int32 range (SUB, MUL, DIV). */
typedef struct {
    tcc_bcast shape;
    int32_t act_min, act_max;
} tcc_binary_s32_params;

/* Comparisons of int8: both sides rescaled (left shift 8, multiplier = the input scale). */
typedef struct {
    tcc_bcast shape;
    int32_t left_shift;
    int32_t in1_offset, in1_mult, in1_shift, in2_offset, in2_mult, in2_shift;
} tcc_compare_s8_params;

void tcc_sub_s8(const tcc_rescaled_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out);
void tcc_squared_difference_s8(const tcc_rescaled_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out);
void tcc_mul_s8(const tcc_product_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out);
/* int16 (zero points 0) with the int8 params: SUB shifts left by 15. */
void tcc_sub_s16(const tcc_rescaled_s8_params *p, const int16_t *a, const int16_t *b, int16_t *out);
void tcc_mul_u8(const tcc_product_s8_params *p, const uint8_t *a, const uint8_t *b, uint8_t *out);
void tcc_mul_s16(const tcc_product_s8_params *p, const int16_t *a, const int16_t *b, int16_t *out);
void tcc_squared_difference_s16(const tcc_rescaled_s8_params *p, const int16_t *a, const int16_t *b,
                                int16_t *out);   /* left shift 0 */
void tcc_div_s8(const tcc_product_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out);
void tcc_maximum_s8(const tcc_bcast *p, const int8_t *a, const int8_t *b, int8_t *out);
void tcc_minimum_s8(const tcc_bcast *p, const int8_t *a, const int8_t *b, int8_t *out);
void tcc_maximum_s16(const tcc_bcast *p, const int16_t *a, const int16_t *b, int16_t *out);
void tcc_minimum_s16(const tcc_bcast *p, const int16_t *a, const int16_t *b, int16_t *out);
void tcc_prelu_s8(const tcc_prelu_s8_params *p, const int8_t *x, const int8_t *alpha, int8_t *out);
/* int16 input and output (zero points 0), int8 alpha: the int8 formula clamped to int16. */
void tcc_prelu_s16(const tcc_prelu_s8_params *p, const int16_t *x, const int8_t *alpha, int16_t *out);

void tcc_sub_f32(const tcc_binary_f32_params *p, const float *a, const float *b, float *out);
void tcc_mul_f32(const tcc_binary_f32_params *p, const float *a, const float *b, float *out);
void tcc_div_f32(const tcc_binary_f32_params *p, const float *a, const float *b, float *out);
void tcc_squared_difference_f32(const tcc_bcast *p, const float *a, const float *b, float *out);
void tcc_maximum_f32(const tcc_bcast *p, const float *a, const float *b, float *out);
void tcc_minimum_f32(const tcc_bcast *p, const float *a, const float *b, float *out);
void tcc_prelu_f32(const tcc_bcast *p, const float *x, const float *alpha, float *out);

/* Raw integers, wrapping on overflow (TFLite Micro's int32 and int64 kernels): SUB, MUL, DIV
 * (truncating; a zero divisor gives 0) clamped to the activation range; SQUARED_DIFFERENCE,
 * MAXIMUM, MINIMUM. */
void tcc_sub_s32(const tcc_binary_s32_params *p, const int32_t *a, const int32_t *b, int32_t *out);
void tcc_mul_s32(const tcc_binary_s32_params *p, const int32_t *a, const int32_t *b, int32_t *out);
void tcc_div_s32(const tcc_binary_s32_params *p, const int32_t *a, const int32_t *b, int32_t *out);
void tcc_squared_difference_s32(const tcc_bcast *p, const int32_t *a, const int32_t *b, int32_t *out);
void tcc_maximum_s32(const tcc_bcast *p, const int32_t *a, const int32_t *b, int32_t *out);
void tcc_minimum_s32(const tcc_bcast *p, const int32_t *a, const int32_t *b, int32_t *out);
void tcc_maximum_s64(const tcc_bcast *p, const int64_t *a, const int64_t *b, int64_t *out);
void tcc_minimum_s64(const tcc_bcast *p, const int64_t *a, const int64_t *b, int64_t *out);

/* FLOOR_DIV, FLOOR_MOD: float32 and int32; int8 and int16 (raw values, TFLite's), FLOOR_MOD int64. */
void tcc_floor_div_f32(const tcc_bcast *p, const float *a, const float *b, float *out);
void tcc_floor_div_s32(const tcc_bcast *p, const int32_t *a, const int32_t *b, int32_t *out);
void tcc_floor_mod_f32(const tcc_bcast *p, const float *a, const float *b, float *out);
void tcc_floor_mod_s32(const tcc_bcast *p, const int32_t *a, const int32_t *b, int32_t *out);
void tcc_floor_div_s8(const tcc_bcast *p, const int8_t *a, const int8_t *b, int8_t *out);
void tcc_floor_div_s16(const tcc_bcast *p, const int16_t *a, const int16_t *b, int16_t *out);
void tcc_floor_mod_s8(const tcc_bcast *p, const int8_t *a, const int8_t *b, int8_t *out);
void tcc_floor_mod_s16(const tcc_bcast *p, const int16_t *a, const int16_t *b, int16_t *out);
void tcc_floor_mod_s64(const tcc_bcast *p, const int64_t *a, const int64_t *b, int64_t *out);

/* Logical ops on bool (one byte, 0 or 1). */
void tcc_logical_and_b8(const tcc_bcast *p, const uint8_t *a, const uint8_t *b, uint8_t *out);
void tcc_logical_or_b8(const tcc_bcast *p, const uint8_t *a, const uint8_t *b, uint8_t *out);
void tcc_logical_not_b8(const uint8_t *in, uint8_t *out, int32_t n);

/* Comparisons write bool as one byte, 0 or 1; int64 and int16 compare raw values (int16 as
 * TFLite does, its quantization ignored). */
#define TCC_COMPARE_DECL(name)                                                                  \
    void tcc_##name##_s8(const tcc_compare_s8_params *p, const int8_t *a, const int8_t *b, uint8_t *out); \
    void tcc_##name##_f32(const tcc_bcast *p, const float *a, const float *b, uint8_t *out); \
    void tcc_##name##_s32(const tcc_bcast *p, const int32_t *a, const int32_t *b, uint8_t *out); \
    void tcc_##name##_s64(const tcc_bcast *p, const int64_t *a, const int64_t *b, uint8_t *out); \
    void tcc_##name##_s16(const tcc_bcast *p, const int16_t *a, const int16_t *b, uint8_t *out);
TCC_COMPARE_DECL(equal)
TCC_COMPARE_DECL(not_equal)
TCC_COMPARE_DECL(greater)
TCC_COMPARE_DECL(greater_equal)
TCC_COMPARE_DECL(less)
TCC_COMPARE_DECL(less_equal)
/* bool (EQUAL, NOT_EQUAL): raw values. */
void tcc_equal_b8(const tcc_bcast *p, const uint8_t *a, const uint8_t *b, uint8_t *out);
void tcc_not_equal_b8(const tcc_bcast *p, const uint8_t *a, const uint8_t *b, uint8_t *out);

/* SELECT_V2 and SELECT: out = cond ? a : b, elements of ``size`` bytes copied (no requantization). */
void tcc_select(const tcc_bcast3 *p, const uint8_t *cond, const void *a, const void *b, void *out, int32_t size);

#endif /* TCC_BINARY_H */
