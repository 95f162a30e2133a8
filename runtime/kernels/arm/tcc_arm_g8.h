/* tinycc runtime, Cortex-M DSP kernels: dot products of 4 rows of int8 weights with a row of
 * activations as int16 pair words, the weights widened by SXTB16 as they are read (no flash beyond
 * the int8 weights): the integer LSTM's gates (tcc_arm_lstm.c: arm_lstm_s8 / _s16) and the 16x8
 * FULLY_CONNECTED on int8 weights (tcc_arm_s16.c: arm_fc8_s16).
 *
 * Layout: the activations in groups of 4 (k0 .. k3; the last group zero-padded), each as the pair
 * words (k0, k2), (k1, k3) (TCC_ARM_G8_PAIRS: SXTB16 of an int8 word, PKHBT / PKHTB of int16
 * ones); a block of 4 rows as its 4 biases (int32), then per group the 4 rows' words of 4 int8.
 * Or, for int16 activations read as they are, pairs (k0, k1), (k2, k3), with the weight bytes of
 * each word stored in the order k0, k2, k1, k3. The caller declares int32_t a0 .. a3. */
#ifndef TCC_ARM_G8_H
#define TCC_ARM_G8_H

#include "tcc_arm_dsp.h"

/* Groups of 4 in a row of len elements. */
#define TCC_ARM_G8_NGROUPS(len) (((len) + 3) >> 2)

/* a0 .. a3 += the 4 rows' products of one group (x: its 2 pair words, w: the 4 rows' weight
 * words; both advance); TCC_ARM_G8_GROUPS: a0 .. a3 = the 4 biases at w, plus the products
 * of `groups` groups (> 0), with the DSP extension one asm block: passes of 4 groups, then the
 * last 0 to 3 one at a time. */
#define TCC_ARM_G8_STEP(x, w)                                                                      \
    do {                                                                                           \
        const uint32_t xa_ = tcc_ld32(x), xb_ = tcc_ld32((x) + 1);                                 \
        a0 = tcc_smlad(tcc_sxtb16_ror8((w)[0]), xb_, tcc_smlad(tcc_sxtb16((w)[0]), xa_, a0));      \
        a1 = tcc_smlad(tcc_sxtb16_ror8((w)[1]), xb_, tcc_smlad(tcc_sxtb16((w)[1]), xa_, a1));      \
        a2 = tcc_smlad(tcc_sxtb16_ror8((w)[2]), xb_, tcc_smlad(tcc_sxtb16((w)[2]), xa_, a2));      \
        a3 = tcc_smlad(tcc_sxtb16_ror8((w)[3]), xb_, tcc_smlad(tcc_sxtb16((w)[3]), xa_, a3));      \
        (x) += 2;                                                                                  \
        (w) += 4;                                                                                  \
    } while (0)
#if TCC_ARM_HAVE_DSP
/* Immediate offsets and one add per pass (loads with writeback on one base do not pipeline); n
 * counts the groups left. */
#define TCC_ARM_G8_GROUPS(x_, w_, groups)                                                          \
    do {                                                                                           \
        int32_t n_ = (groups);                                                                     \
        uint32_t xa_, xb_, v0_, v1_, t_;                                                           \
        __asm__ volatile(                                                                          \
            "ldr %[a0], [%[wp], #0]\n\t"                                                           \
            "ldr %[a1], [%[wp], #4]\n\t"                                                           \
            "ldr %[a2], [%[wp], #8]\n\t"                                                           \
            "ldr %[a3], [%[wp], #12]\n\t"                                                          \
            "add %[wp], %[wp], #16\n\t"                                                            \
            "subs %[n], %[n], #4\n\t"                                                              \
            "blt 2f\n\t"                                                                           \
            "1:\n\t"                                                                               \
            "ldr %[xa], [%[xp], #0]\n\t"                                                           \
            "ldr %[xb], [%[xp], #4]\n\t"                                                           \
            "ldr %[v0], [%[wp], #0]\n\t"                                                           \
            "ldr %[v1], [%[wp], #4]\n\t"                                                           \
            "sxtb16 %[t], %[v0]\n\t"                                                               \
            "smlad %[a0], %[t], %[xa], %[a0]\n\t"                                                  \
            "sxtb16 %[t], %[v0], ror #8\n\t"                                                       \
            "smlad %[a0], %[t], %[xb], %[a0]\n\t"                                                  \
            "sxtb16 %[t], %[v1]\n\t"                                                               \
            "smlad %[a1], %[t], %[xa], %[a1]\n\t"                                                  \
            "sxtb16 %[t], %[v1], ror #8\n\t"                                                       \
            "smlad %[a1], %[t], %[xb], %[a1]\n\t"                                                  \
            "ldr %[v0], [%[wp], #8]\n\t"                                                           \
            "ldr %[v1], [%[wp], #12]\n\t"                                                          \
            "sxtb16 %[t], %[v0]\n\t"                                                               \
            "smlad %[a2], %[t], %[xa], %[a2]\n\t"                                                  \
            "sxtb16 %[t], %[v0], ror #8\n\t"                                                       \
            "smlad %[a2], %[t], %[xb], %[a2]\n\t"                                                  \
            "sxtb16 %[t], %[v1]\n\t"                                                               \
            "smlad %[a3], %[t], %[xa], %[a3]\n\t"                                                  \
            "sxtb16 %[t], %[v1], ror #8\n\t"                                                       \
            "smlad %[a3], %[t], %[xb], %[a3]\n\t"                                                  \
            "ldr %[xa], [%[xp], #8]\n\t"                                                           \
            "ldr %[xb], [%[xp], #12]\n\t"                                                          \
            "ldr %[v0], [%[wp], #16]\n\t"                                                          \
            "ldr %[v1], [%[wp], #20]\n\t"                                                          \
            "sxtb16 %[t], %[v0]\n\t"                                                               \
            "smlad %[a0], %[t], %[xa], %[a0]\n\t"                                                  \
            "sxtb16 %[t], %[v0], ror #8\n\t"                                                       \
            "smlad %[a0], %[t], %[xb], %[a0]\n\t"                                                  \
            "sxtb16 %[t], %[v1]\n\t"                                                               \
            "smlad %[a1], %[t], %[xa], %[a1]\n\t"                                                  \
            "sxtb16 %[t], %[v1], ror #8\n\t"                                                       \
            "smlad %[a1], %[t], %[xb], %[a1]\n\t"                                                  \
            "ldr %[v0], [%[wp], #24]\n\t"                                                          \
            "ldr %[v1], [%[wp], #28]\n\t"                                                          \
            "sxtb16 %[t], %[v0]\n\t"                                                               \
            "smlad %[a2], %[t], %[xa], %[a2]\n\t"                                                  \
            "sxtb16 %[t], %[v0], ror #8\n\t"                                                       \
            "smlad %[a2], %[t], %[xb], %[a2]\n\t"                                                  \
            "sxtb16 %[t], %[v1]\n\t"                                                               \
            "smlad %[a3], %[t], %[xa], %[a3]\n\t"                                                  \
            "sxtb16 %[t], %[v1], ror #8\n\t"                                                       \
            "smlad %[a3], %[t], %[xb], %[a3]\n\t"                                                  \
            "ldr %[xa], [%[xp], #16]\n\t"                                                          \
            "ldr %[xb], [%[xp], #20]\n\t"                                                          \
            "ldr %[v0], [%[wp], #32]\n\t"                                                          \
            "ldr %[v1], [%[wp], #36]\n\t"                                                          \
            "sxtb16 %[t], %[v0]\n\t"                                                               \
            "smlad %[a0], %[t], %[xa], %[a0]\n\t"                                                  \
            "sxtb16 %[t], %[v0], ror #8\n\t"                                                       \
            "smlad %[a0], %[t], %[xb], %[a0]\n\t"                                                  \
            "sxtb16 %[t], %[v1]\n\t"                                                               \
            "smlad %[a1], %[t], %[xa], %[a1]\n\t"                                                  \
            "sxtb16 %[t], %[v1], ror #8\n\t"                                                       \
            "smlad %[a1], %[t], %[xb], %[a1]\n\t"                                                  \
            "ldr %[v0], [%[wp], #40]\n\t"                                                          \
            "ldr %[v1], [%[wp], #44]\n\t"                                                          \
            "sxtb16 %[t], %[v0]\n\t"                                                               \
            "smlad %[a2], %[t], %[xa], %[a2]\n\t"                                                  \
            "sxtb16 %[t], %[v0], ror #8\n\t"                                                       \
            "smlad %[a2], %[t], %[xb], %[a2]\n\t"                                                  \
            "sxtb16 %[t], %[v1]\n\t"                                                               \
            "smlad %[a3], %[t], %[xa], %[a3]\n\t"                                                  \
            "sxtb16 %[t], %[v1], ror #8\n\t"                                                       \
            "smlad %[a3], %[t], %[xb], %[a3]\n\t"                                                  \
            "ldr %[xa], [%[xp], #24]\n\t"                                                          \
            "ldr %[xb], [%[xp], #28]\n\t"                                                          \
            "ldr %[v0], [%[wp], #48]\n\t"                                                          \
            "ldr %[v1], [%[wp], #52]\n\t"                                                          \
            "sxtb16 %[t], %[v0]\n\t"                                                               \
            "smlad %[a0], %[t], %[xa], %[a0]\n\t"                                                  \
            "sxtb16 %[t], %[v0], ror #8\n\t"                                                       \
            "smlad %[a0], %[t], %[xb], %[a0]\n\t"                                                  \
            "sxtb16 %[t], %[v1]\n\t"                                                               \
            "smlad %[a1], %[t], %[xa], %[a1]\n\t"                                                  \
            "sxtb16 %[t], %[v1], ror #8\n\t"                                                       \
            "smlad %[a1], %[t], %[xb], %[a1]\n\t"                                                  \
            "ldr %[v0], [%[wp], #56]\n\t"                                                          \
            "ldr %[v1], [%[wp], #60]\n\t"                                                          \
            "sxtb16 %[t], %[v0]\n\t"                                                               \
            "smlad %[a2], %[t], %[xa], %[a2]\n\t"                                                  \
            "sxtb16 %[t], %[v0], ror #8\n\t"                                                       \
            "smlad %[a2], %[t], %[xb], %[a2]\n\t"                                                  \
            "sxtb16 %[t], %[v1]\n\t"                                                               \
            "smlad %[a3], %[t], %[xa], %[a3]\n\t"                                                  \
            "sxtb16 %[t], %[v1], ror #8\n\t"                                                       \
            "smlad %[a3], %[t], %[xb], %[a3]\n\t"                                                  \
            "add %[xp], %[xp], #32\n\t"                                                            \
            "add %[wp], %[wp], #64\n\t"                                                            \
            "subs %[n], %[n], #4\n\t"                                                              \
            "bge 1b\n\t"                                                                           \
            "2:\n\t"                                                                               \
            "adds %[n], %[n], #4\n\t"                                                              \
            "beq 4f\n\t"                                                                           \
            "3:\n\t"                                                                               \
            "ldr %[xa], [%[xp], #0]\n\t"                                                           \
            "ldr %[xb], [%[xp], #4]\n\t"                                                           \
            "ldr %[v0], [%[wp], #0]\n\t"                                                           \
            "ldr %[v1], [%[wp], #4]\n\t"                                                           \
            "sxtb16 %[t], %[v0]\n\t"                                                               \
            "smlad %[a0], %[t], %[xa], %[a0]\n\t"                                                  \
            "sxtb16 %[t], %[v0], ror #8\n\t"                                                       \
            "smlad %[a0], %[t], %[xb], %[a0]\n\t"                                                  \
            "sxtb16 %[t], %[v1]\n\t"                                                               \
            "smlad %[a1], %[t], %[xa], %[a1]\n\t"                                                  \
            "sxtb16 %[t], %[v1], ror #8\n\t"                                                       \
            "smlad %[a1], %[t], %[xb], %[a1]\n\t"                                                  \
            "ldr %[v0], [%[wp], #8]\n\t"                                                           \
            "ldr %[v1], [%[wp], #12]\n\t"                                                          \
            "sxtb16 %[t], %[v0]\n\t"                                                               \
            "smlad %[a2], %[t], %[xa], %[a2]\n\t"                                                  \
            "sxtb16 %[t], %[v0], ror #8\n\t"                                                       \
            "smlad %[a2], %[t], %[xb], %[a2]\n\t"                                                  \
            "sxtb16 %[t], %[v1]\n\t"                                                               \
            "smlad %[a3], %[t], %[xa], %[a3]\n\t"                                                  \
            "sxtb16 %[t], %[v1], ror #8\n\t"                                                       \
            "smlad %[a3], %[t], %[xb], %[a3]\n\t"                                                  \
            "add %[xp], %[xp], #8\n\t"                                                             \
            "add %[wp], %[wp], #16\n\t"                                                            \
            "subs %[n], %[n], #1\n\t"                                                              \
            "bne 3b\n\t"                                                                           \
            "4:\n\t"                                                                               \
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [xp] "+r"(x_),       \
              [wp] "+r"(w_), [n] "+r"(n_), [xa] "=&r"(xa_), [xb] "=&r"(xb_), [v0] "=&r"(v0_),      \
              [v1] "=&r"(v1_), [t] "=&r"(t_)                                                       \
            :                                                                                      \
            : "cc", "memory");                                                                     \
    } while (0)
#else
#define TCC_ARM_G8_GROUPS(x_, w_, groups)                                                          \
    do {                                                                                           \
        a0 = (int32_t)(w_)[0], a1 = (int32_t)(w_)[1], a2 = (int32_t)(w_)[2], a3 = (int32_t)(w_)[3];  \
        (w_) += 4;                                                                                 \
        for (int32_t k_ = (groups); k_ > 0; --k_) {                                                \
            TCC_ARM_G8_STEP(x_, w_);                                                               \
        }                                                                                          \
    } while (0)
#endif

/* name(x, dst, len): dst[2q], dst[2q + 1] = the pair words of x[4q .. 4q + 3] (x of xtype, len
 * of them, the last group zero-padded), PAIRS(v, dst) making both from the 4 elements at v. */
#define TCC_ARM_G8_PAIRS(name, xtype, PAIRS)                                                       \
    static void name(const xtype *x, uint32_t *dst, int32_t len)                                   \
    {                                                                                              \
        int32_t k = 0;                                                                             \
        for (; k + 4 <= len; k += 4, dst += 2) {                                                   \
            PAIRS(x + k, dst);                                                                     \
        }                                                                                          \
        if (k < len) {                                                                             \
            xtype t[4] = {0, 0, 0, 0};                                                             \
            for (int32_t i = 0; k + i < len; ++i) {                                                \
                t[i] = x[k + i];                                                                   \
            }                                                                                      \
            PAIRS(t, dst);                                                                         \
        }                                                                                          \
    }
/* PAIRS of int8 activations: SXTB16 and SXTB16 ROR 8 of one word; of int16: PKHBT / PKHTB of two. */
#define TCC_ARM_G8_PAIRS8(v, dst)                                                                  \
    do {                                                                                           \
        const uint32_t w_ = tcc_ld32(v);                                                           \
        (dst)[0] = tcc_sxtb16(w_);                                                                 \
        (dst)[1] = tcc_sxtb16_ror8(w_);                                                            \
    } while (0)
#define TCC_ARM_G8_PAIRS16(v, dst)                                                                 \
    do {                                                                                           \
        const uint32_t x01_ = tcc_ld32(v), x23_ = tcc_ld32((v) + 2);                               \
        (dst)[0] = tcc_pkhbt(x01_, x23_);                                                          \
        (dst)[1] = tcc_pkhtb(x23_, x01_);                                                          \
    } while (0)

#endif /* TCC_ARM_G8_H */
