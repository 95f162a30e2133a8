/* tinycc runtime, Cortex-M DSP kernels: 16x8 CONV_2D, FULLY_CONNECTED and DEPTHWISE_CONV_2D
 * (int16 activations with zero point 0, int8 weights widened to int16 at compile time). */
#ifndef TCC_ARM_S16_H
#define TCC_ARM_S16_H

#include <stdint.h>

#include "tcc_arm_dsp.h"

/* Weights (tinycc/variants/arm_s16.py packs them):
 *   conv / fc: output channels in blocks of TCC_ARM_S16_ROWS (the last one zero-padded); per
 *     block, for each tap (ky, kx) and pair of input channels (c, c + 1), TCC_ARM_S16_ROWS pair
 *     words (w[oc][ky][kx][c], w[oc][ky][kx][c + 1]), oc = the block's rows in order;
 *   depthwise: the filter [k_h][k_w][c] as int16 (read as pairs at any element: unaligned LDR;
 *     one zero after an odd number of them).
 * in_c (conv, fc) is even. bias: int64, zeros when the model has
 * none. Requantization: TFLite's 64-bit one (tcc_requantize64: x * m16 rounded, shifted right by
 * t = 15 - shift) is one SMMLAR of x = acc + bias with m = m16 << (32 - t) when t is in [16, 32]
 * and x fits in int32 for every channel (tinycc checks both): (x * rq + 2^31) >> 32 is the same
 * floor of the same fraction. Otherwise rq is NULL and tcc_requantize_acc runs. A FULLY_CONNECTED is a 1x1 convolution of a batches x 1 x 1 x in_depth input. */
#define TCC_ARM_S16_ROWS 4

typedef struct {
    int32_t batches, in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, pad_top, pad_left;
    int32_t act_min, act_max, acc64;
    const int32_t *weights;                 /* pair words (4-byte aligned) */
    const int64_t *bias;                    /* the plain kernels' requantization (rq == NULL) */
    const int32_t *mult, *shift;
    const int32_t *rq;                      /* or, per channel {bias, m}: SMMLAR(acc + bias, m) */
} tcc_arm_s16_params;

void tcc_arm_conv_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out);
/* A conv of any in_c: weights as conv's with each channel's row of k_h * k_w * in_c zero-padded to
 * an even count K; col: the scratch of K int16 (4-byte aligned). */
void tcc_arm_conv_s16_im2col(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out, int16_t *col);
void tcc_arm_fc_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out);
void tcc_arm_dw_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out);
/* The same in the plain kernel's order (a channel over all pixels into plane: out_h * out_w
 * int16), so the output may share the input's memory likewise. */
void tcc_arm_dw_s16_planes(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out, int16_t *plane);
/* FULLY_CONNECTED on int8 weights (tcc_arm_g8.h's layout for int16 activations, the biases in
 * it, rq = {0, m} per channel; any in_c). */
void tcc_arm_fc8_s16(const tcc_arm_s16_params *p, const int16_t *in, int16_t *out);

/* The dot products of 4 interleaved weight rows (the layout above) with a row of int16 pairs,
 * shared with the LSTM's gates (tcc_arm_lstm.c): a0 .. a3, x (const int16_t *) and w (const
 * uint32_t *) are the caller's variables, with these names (TCC_ARM_S16_PAIR reads them). */
/* Four rows' steps on one pair word of activations xv (STEP4: the rows' pair words at byte offset
 * WO of w loaded in a row, one cycle each after the first on the M4, then the four SMLAD; PAIR:
 * xv loaded from byte offset XO of x first). The asm statements are volatile: gcc keeps this order. */
#define TCC_ARM_S16_STEP4(xv, WO)                                                                  \
    do {                                                                                           \
        uint32_t v0_, v1_, v2_, v3_;                                                               \
        TCC_LDR_ANY(v0_, w, WO);                                                                   \
        TCC_LDR_ANY(v1_, w, (WO) + 4);                                                             \
        TCC_LDR_ANY(v2_, w, (WO) + 8);                                                             \
        TCC_LDR_ANY(v3_, w, (WO) + 12);                                                            \
        TCC_SMLAD_ACC(a0, v0_, xv);                                                                \
        TCC_SMLAD_ACC(a1, v1_, xv);                                                                \
        TCC_SMLAD_ACC(a2, v2_, xv);                                                                \
        TCC_SMLAD_ACC(a3, v3_, xv);                                                                \
    } while (0)
#define TCC_ARM_S16_PAIR(XO, WO)                                                                   \
    do {                                                                                           \
        uint32_t xv_;                                                                              \
        TCC_LDR_ANY(xv_, x, XO);                                                                   \
        TCC_ARM_S16_STEP4(xv_, WO);                                                                \
    } while (0)

/* Four pairs of a0..a3's dot products (x and w advance past them). */
#define TCC_ARM_S16_PASS4(x, w)                                                                    \
    do {                                                                                           \
        TCC_ARM_S16_PAIR(0, 0);                                                                    \
        TCC_ARM_S16_PAIR(4, 16);                                                                   \
        TCC_ARM_S16_PAIR(8, 32);                                                                   \
        TCC_ARM_S16_PAIR(12, 48);                                                                  \
        (x) += 8;                                                                                  \
        (w) += 16;                                                                                 \
    } while (0)
/* a0..a3 += the dot products of x's pairs with the 4 rows of the interleaved weights w (x and w
 * advance past them): n8 passes of 8 pairs, n4 (0 or 1) of 4, n1 single pairs. With the DSP
 * extension the passes of 8 are one asm loop (gcc otherwise keeps the pointers on the stack). */
#if TCC_ARM_HAVE_DSP
#define TCC_ARM_S16_PASSES8(x, w, n8)                                                              \
    do {                                                                                           \
        int32_t n_ = (n8);                                                                         \
        uint32_t xv_, v0_, v1_, v2_, v3_;                                                          \
        if (n_ > 0) {                                                                              \
            __asm__ volatile(                                                                      \
                "1:\n\t"                                                                           \
                "ldr %[xv], [%[xp], #0]\n\t"                                                        \
                "ldr %[v0], [%[wp], #0]\n\t"                                                        \
                "ldr %[v1], [%[wp], #4]\n\t"                                                        \
                "ldr %[v2], [%[wp], #8]\n\t"                                                        \
                "ldr %[v3], [%[wp], #12]\n\t"                                                       \
                "smlad %[a0], %[v0], %[xv], %[a0]\n\t"                                             \
                "smlad %[a1], %[v1], %[xv], %[a1]\n\t"                                             \
                "smlad %[a2], %[v2], %[xv], %[a2]\n\t"                                             \
                "smlad %[a3], %[v3], %[xv], %[a3]\n\t"                                             \
                "ldr %[xv], [%[xp], #4]\n\t"                                                        \
                "ldr %[v0], [%[wp], #16]\n\t"                                                       \
                "ldr %[v1], [%[wp], #20]\n\t"                                                       \
                "ldr %[v2], [%[wp], #24]\n\t"                                                       \
                "ldr %[v3], [%[wp], #28]\n\t"                                                       \
                "smlad %[a0], %[v0], %[xv], %[a0]\n\t"                                             \
                "smlad %[a1], %[v1], %[xv], %[a1]\n\t"                                             \
                "smlad %[a2], %[v2], %[xv], %[a2]\n\t"                                             \
                "smlad %[a3], %[v3], %[xv], %[a3]\n\t"                                             \
                "ldr %[xv], [%[xp], #8]\n\t"                                                        \
                "ldr %[v0], [%[wp], #32]\n\t"                                                       \
                "ldr %[v1], [%[wp], #36]\n\t"                                                       \
                "ldr %[v2], [%[wp], #40]\n\t"                                                       \
                "ldr %[v3], [%[wp], #44]\n\t"                                                       \
                "smlad %[a0], %[v0], %[xv], %[a0]\n\t"                                             \
                "smlad %[a1], %[v1], %[xv], %[a1]\n\t"                                             \
                "smlad %[a2], %[v2], %[xv], %[a2]\n\t"                                             \
                "smlad %[a3], %[v3], %[xv], %[a3]\n\t"                                             \
                "ldr %[xv], [%[xp], #12]\n\t"                                                       \
                "ldr %[v0], [%[wp], #48]\n\t"                                                       \
                "ldr %[v1], [%[wp], #52]\n\t"                                                       \
                "ldr %[v2], [%[wp], #56]\n\t"                                                       \
                "ldr %[v3], [%[wp], #60]\n\t"                                                       \
                "smlad %[a0], %[v0], %[xv], %[a0]\n\t"                                             \
                "smlad %[a1], %[v1], %[xv], %[a1]\n\t"                                             \
                "smlad %[a2], %[v2], %[xv], %[a2]\n\t"                                             \
                "smlad %[a3], %[v3], %[xv], %[a3]\n\t"                                             \
                "ldr %[xv], [%[xp], #16]\n\t"                                                       \
                "ldr %[v0], [%[wp], #64]\n\t"                                                       \
                "ldr %[v1], [%[wp], #68]\n\t"                                                       \
                "ldr %[v2], [%[wp], #72]\n\t"                                                       \
                "ldr %[v3], [%[wp], #76]\n\t"                                                       \
                "smlad %[a0], %[v0], %[xv], %[a0]\n\t"                                             \
                "smlad %[a1], %[v1], %[xv], %[a1]\n\t"                                             \
                "smlad %[a2], %[v2], %[xv], %[a2]\n\t"                                             \
                "smlad %[a3], %[v3], %[xv], %[a3]\n\t"                                             \
                "ldr %[xv], [%[xp], #20]\n\t"                                                       \
                "ldr %[v0], [%[wp], #80]\n\t"                                                       \
                "ldr %[v1], [%[wp], #84]\n\t"                                                       \
                "ldr %[v2], [%[wp], #88]\n\t"                                                       \
                "ldr %[v3], [%[wp], #92]\n\t"                                                       \
                "smlad %[a0], %[v0], %[xv], %[a0]\n\t"                                             \
                "smlad %[a1], %[v1], %[xv], %[a1]\n\t"                                             \
                "smlad %[a2], %[v2], %[xv], %[a2]\n\t"                                             \
                "smlad %[a3], %[v3], %[xv], %[a3]\n\t"                                             \
                "ldr %[xv], [%[xp], #24]\n\t"                                                       \
                "ldr %[v0], [%[wp], #96]\n\t"                                                       \
                "ldr %[v1], [%[wp], #100]\n\t"                                                      \
                "ldr %[v2], [%[wp], #104]\n\t"                                                      \
                "ldr %[v3], [%[wp], #108]\n\t"                                                      \
                "smlad %[a0], %[v0], %[xv], %[a0]\n\t"                                             \
                "smlad %[a1], %[v1], %[xv], %[a1]\n\t"                                             \
                "smlad %[a2], %[v2], %[xv], %[a2]\n\t"                                             \
                "smlad %[a3], %[v3], %[xv], %[a3]\n\t"                                             \
                "ldr %[xv], [%[xp], #28]\n\t"                                                       \
                "ldr %[v0], [%[wp], #112]\n\t"                                                      \
                "ldr %[v1], [%[wp], #116]\n\t"                                                      \
                "ldr %[v2], [%[wp], #120]\n\t"                                                      \
                "ldr %[v3], [%[wp], #124]\n\t"                                                      \
                "smlad %[a0], %[v0], %[xv], %[a0]\n\t"                                             \
                "smlad %[a1], %[v1], %[xv], %[a1]\n\t"                                             \
                "smlad %[a2], %[v2], %[xv], %[a2]\n\t"                                             \
                "smlad %[a3], %[v3], %[xv], %[a3]\n\t"                                             \
                "add %[xp], %[xp], #32\n\t"                                                          \
                "add %[wp], %[wp], #128\n\t"                                                         \
                "subs %[n], %[n], #1\n\t"                                                          \
                "bne 1b\n\t"                                                                       \
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xp] "+r"(x), [wp] "+r"(w), \
                  [n] "+r"(n_), [xv] "=&r"(xv_), [v0] "=&r"(v0_), [v1] "=&r"(v1_), [v2] "=&r"(v2_),  \
                  [v3] "=&r"(v3_)                                                                  \
                :                                                                                  \
                : "cc", "memory");                                                                 \
        }                                                                                          \
    } while (0)
#else
#define TCC_ARM_S16_PASSES8(x, w, n8)                                                              \
    do {                                                                                           \
        for (int32_t k_ = (n8); k_ > 0; --k_) {                                                    \
            TCC_ARM_S16_PASS4(x, w);                                                               \
            TCC_ARM_S16_PASS4(x, w);                                                               \
        }                                                                                          \
    } while (0)
#endif
#define TCC_ARM_S16_DOT4_8(x, w, n8, n4, n1)                                                       \
    do {                                                                                           \
        TCC_ARM_S16_PASSES8(x, w, n8);                                                             \
        if (n4) {                                                                                  \
            TCC_ARM_S16_PASS4(x, w);                                                               \
        }                                                                                          \
        for (int32_t k_ = (n1); k_ > 0; --k_, (x) += 2, (w) += 4) {                                \
            TCC_ARM_S16_PAIR(0, 0);                                                                \
        }                                                                                          \
    } while (0)

#endif /* TCC_ARM_S16_H */
