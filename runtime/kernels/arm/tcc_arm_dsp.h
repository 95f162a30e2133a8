/* tinycc runtime, Cortex-M DSP kernels: internal helpers (not part of the API).
 *
 * One-instruction wrappers for the Armv7E-M / Armv8-M DSP extension. Most come from
 * arm_acle.h; the few that ACLE (as shipped with arm-none-eabi-gcc 12) lacks or that gcc
 * handles badly (SXTB16 with a rotation, SMMLAR, SSAT, BFI, PKHBT/PKHTB, LDRD, and SMLAD /
 * SMLAxy on a tied accumulator for the unrolled inner loops) are one-line inline asm.
 * Without __ARM_FEATURE_DSP every helper is plain C with the same result, so the kernels
 * also build and can be tested on a host.
 */
#ifndef TCC_ARM_DSP_H
#define TCC_ARM_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
#define TCC_ARM_HAVE_DSP 1
#include <arm_acle.h>
#else
#define TCC_ARM_HAVE_DSP 0
#endif

#define TCC_ARM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TCC_ARM_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define TCC_ARM_INLINE static inline __attribute__((always_inline))
#else
#define TCC_ARM_INLINE static inline
#endif

/* Word loads and stores at any byte address (Cortex-M3 and later allow unaligned LDR/STR;
 * gcc turns these memcpy calls into one instruction). */
TCC_ARM_INLINE uint32_t tcc_ld32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

TCC_ARM_INLINE void tcc_st32(void *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

TCC_ARM_INLINE void tcc_st16(void *p, uint32_t v)
{
    uint16_t h = (uint16_t)v;
    memcpy(p, &h, 2);
}

/* p + k words, computed on addresses: the unrolled loops start pointers before the start of
 * an array (never dereferenced there), which C does not allow on pointers. */
TCC_ARM_INLINE const uint32_t *tcc_arm_wadd(const uint32_t *p, int32_t k)
{
    return (const uint32_t *)((uintptr_t)p + (uintptr_t)(intptr_t)(4 * k));
}

/* Two consecutive words p[off], p[off + 1] (off a compile-time constant, p 4-byte aligned)
 * in one LDRD. gcc splits 64-bit loads into two LDR when registers are scarce, which is
 * exactly when the blocked kernels need LDRD, hence the asm. The "memory" clobber orders it
 * after the C stores that filled the buffer (an "m" operand would make gcc materialize, and
 * spill, the address). */
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
#define TCC_LDRD(lo, hi, p, off)                                                  \
    __asm__ volatile("ldrd %0, %1, [%2, #%c3]" : "=r"(lo), "=r"(hi)                \
                     : "r"(p), "n"(4 * (off)) : "memory")
/* Two words to p[off], p[off + 1] in one STRD (word-aligned p). */
#define TCC_STRD(lo, hi, p, off)                                                  \
    __asm__ volatile("strd %0, %1, [%2, #%c3]" : : "r"(lo), "r"(hi), "r"(p),       \
                     "n"(4 * (off)) : "memory")
#else
#define TCC_LDRD(lo, hi, p, off) ((lo) = (p)[off], (hi) = (p)[(off) + 1])
#define TCC_STRD(lo, hi, p, off) ((p)[off] = (lo), (p)[(off) + 1] = (hi))
#endif

#if defined(__GNUC__) && __GNUC__ >= 7
#define TCC_FALLTHROUGH __attribute__((fallthrough))
#else
#define TCC_FALLTHROUGH ((void)0)
#endif

/* Run STEP n times (n >= 0): first the n % 8 odd steps straight-line (a switch falling
 * through), then a loop of 8 unrolled steps. Every step addresses its operands at a constant
 * offset from pointers that ADVANCE(k) moves by k steps, so there is no index arithmetic; the
 * loop ends when PTR (one of those pointers, moving PTR_WORDS words per step) reaches an end
 * kept in memory (volatile), which leaves every register to the accumulators and operands.
 *
 * Why the asm above is volatile: the steps must stay in source order. gcc otherwise hoists
 * all the loads of the unrolled loop to its top and spills them. */
#define TCC_UNROLL8(n, STEP, ADVANCE, PTR, PTR_WORDS)                                      \
    TCC_UNROLL8_END(n, STEP, ADVANCE, PTR, ((n) >> 3) * 8 * (PTR_WORDS))
/* The same with the distance from PTR after the odd steps to the end given (in words). */
#define TCC_UNROLL8_END(n, STEP, ADVANCE, PTR, END_WORDS)                                   \
    do {                                                                                    \
        const int32_t rem_ = (n) & 7;                                                       \
        ADVANCE(rem_ - 8);                                                                  \
        switch (rem_) {                                                                     \
        case 7: STEP(1); TCC_FALLTHROUGH;                                                   \
        case 6: STEP(2); TCC_FALLTHROUGH;                                                   \
        case 5: STEP(3); TCC_FALLTHROUGH;                                                   \
        case 4: STEP(4); TCC_FALLTHROUGH;                                                   \
        case 3: STEP(5); TCC_FALLTHROUGH;                                                   \
        case 2: STEP(6); TCC_FALLTHROUGH;                                                   \
        case 1: STEP(7); TCC_FALLTHROUGH;                                                   \
        default: break;                                                                     \
        }                                                                                   \
        ADVANCE(8);                                                                         \
        const uint32_t *volatile end_ = tcc_arm_wadd((PTR), (END_WORDS));                   \
        while ((PTR) != end_) {                                                             \
            STEP(0); STEP(1); STEP(2); STEP(3); STEP(4); STEP(5); STEP(6); STEP(7);         \
            ADVANCE(8);                                                                     \
        }                                                                                   \
    } while (0)

#if TCC_ARM_HAVE_DSP

/* (sign_extend(x.byte0), sign_extend(x.byte2)) as two int16 lanes */
TCC_ARM_INLINE uint32_t tcc_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int8x4_t)x); }

/* (sign_extend(x.byte1), sign_extend(x.byte3)) */
TCC_ARM_INLINE uint32_t tcc_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* acc + a.lo * b.lo + a.hi * b.hi (int16 lanes, modular int32 sum) */
TCC_ARM_INLINE int32_t tcc_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}

/* acc += a.lo * b.lo + a.hi * b.hi in place: the accumulator keeps its register, so gcc
 * needs no moves where the switch enters the unrolled steps (with the builtin it renames
 * accumulators from step to step and then lays the steps out with a branch each); volatile
 * keeps the steps in source order (see TCC_UNROLL8). */
#define TCC_SMLAD_ACC(acc, a, b) __asm__ volatile("smlad %0, %1, %2, %0" : "+r"(acc) : "r"(a), "r"(b))

#define TCC_SMLABB_ACC(acc, a, b) __asm__ volatile("smlabb %0, %1, %2, %0" : "+r"(acc) : "r"(a), "r"(b))
#define TCC_SMLATB_ACC(acc, a, b) __asm__ volatile("smlatb %0, %1, %2, %0" : "+r"(acc) : "r"(a), "r"(b))
#define TCC_SMLATT_ACC(acc, a, b) __asm__ volatile("smlatt %0, %1, %2, %0" : "+r"(acc) : "r"(a), "r"(b))
/* One word from any address, ordered with the asm above (gcc may not move it across). */
#define TCC_LDR_ANY(v, p, byte_off) __asm__ volatile("ldr %0, [%1, #%c2]" : "=r"(v) : "r"(p), "n"(byte_off) : "memory")

/* acc + a.lo * b.lo, acc + a.hi * b.hi, acc + a.hi * b.lo, acc + a.lo * b.hi */
TCC_ARM_INLINE int32_t tcc_smlabb(uint32_t a, uint32_t b, int32_t acc) { return __smlabb((int32_t)a, (int32_t)b, acc); }
TCC_ARM_INLINE int32_t tcc_smlatt(uint32_t a, uint32_t b, int32_t acc) { return __smlatt((int32_t)a, (int32_t)b, acc); }
TCC_ARM_INLINE int32_t tcc_smlatb(uint32_t a, uint32_t b, int32_t acc) { return __smlatb((int32_t)a, (int32_t)b, acc); }
TCC_ARM_INLINE int32_t tcc_smlabt(uint32_t a, uint32_t b, int32_t acc) { return __smlabt((int32_t)a, (int32_t)b, acc); }

/* c + ((int64)a * b + 2^31) >> 32: SMMLAR */
TCC_ARM_INLINE int32_t tcc_smmlar(int32_t a, int32_t b, int32_t c)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
    return r;
}

/* (lo & 0xffff) | (hi << 16): PKHBT */
TCC_ARM_INLINE uint32_t tcc_pkhbt(uint32_t lo, uint32_t hi)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

/* (hi & 0xffff0000) | (lo >> 16): PKHTB */
TCC_ARM_INLINE uint32_t tcc_pkhtb(uint32_t hi, uint32_t lo)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}

/* Insert the low byte of b into byte lane 1 of a (BFI a, b, #8, #8). */
TCC_ARM_INLINE uint32_t tcc_bfi8_1(uint32_t a, uint32_t b)
{
    __asm__("bfi %0, %1, #8, #8" : "+r"(a) : "r"(b));
    return a;
}
TCC_ARM_INLINE uint32_t tcc_bfi8_2(uint32_t a, uint32_t b)
{
    __asm__("bfi %0, %1, #16, #8" : "+r"(a) : "r"(b));
    return a;
}
TCC_ARM_INLINE uint32_t tcc_bfi8_3(uint32_t a, uint32_t b)
{
    __asm__("bfi %0, %1, #24, #8" : "+r"(a) : "r"(b));
    return a;
}

/* Per-byte signed max / min of packed int8 lanes (SSUB8 sets GE, SEL picks). */
TCC_ARM_INLINE uint32_t tcc_max8(uint32_t a, uint32_t b)
{
    (void)__ssub8((int8x4_t)a, (int8x4_t)b);
    return __sel(a, b);
}
TCC_ARM_INLINE uint32_t tcc_min8(uint32_t a, uint32_t b)
{
    (void)__ssub8((int8x4_t)a, (int8x4_t)b);
    return __sel(b, a);
}

/* acc.lo + sign_extend(x.byte0), acc.hi + sign_extend(x.byte2) in int16 lanes; and the
 * same with bytes 1 and 3. */
TCC_ARM_INLINE uint32_t tcc_sxtab16(uint32_t acc, uint32_t x) { return (uint32_t)__sxtab16((int16x2_t)acc, (int8x4_t)x); }
TCC_ARM_INLINE uint32_t tcc_sxtab16_ror8(uint32_t acc, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}

#else /* portable C with the same results */

TCC_ARM_INLINE int32_t tcc_lo16(uint32_t x) { return (int32_t)(int16_t)(uint16_t)(x & 0xffffu); }
TCC_ARM_INLINE int32_t tcc_hi16(uint32_t x) { return (int32_t)(int16_t)(uint16_t)(x >> 16); }
TCC_ARM_INLINE uint32_t tcc_pack16(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
}
TCC_ARM_INLINE uint32_t tcc_sxtb16(uint32_t x)
{
    return tcc_pack16((int8_t)(uint8_t)(x & 0xffu), (int8_t)(uint8_t)((x >> 16) & 0xffu));
}
TCC_ARM_INLINE uint32_t tcc_sxtb16_ror8(uint32_t x) { return tcc_sxtb16(x >> 8); }
TCC_ARM_INLINE int32_t tcc_wrap_add(int32_t a, int64_t b)
{
    return (int32_t)(uint32_t)((uint64_t)(int64_t)a + (uint64_t)b);
}
TCC_ARM_INLINE int32_t tcc_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return tcc_wrap_add(acc, (int64_t)tcc_lo16(a) * tcc_lo16(b) + (int64_t)tcc_hi16(a) * tcc_hi16(b));
}
#define TCC_SMLAD_ACC(acc, a, b) ((acc) = tcc_smlad((a), (b), (acc)))
#define TCC_SMLABB_ACC(acc, a, b) ((acc) = tcc_smlabb((a), (b), (acc)))
#define TCC_SMLATB_ACC(acc, a, b) ((acc) = tcc_smlatb((a), (b), (acc)))
#define TCC_SMLATT_ACC(acc, a, b) ((acc) = tcc_smlatt((a), (b), (acc)))
#define TCC_LDR_ANY(v, p, byte_off) ((v) = tcc_ld32((const uint8_t *)(p) + (byte_off)))
TCC_ARM_INLINE int32_t tcc_smlabb(uint32_t a, uint32_t b, int32_t acc) { return tcc_wrap_add(acc, (int64_t)tcc_lo16(a) * tcc_lo16(b)); }
TCC_ARM_INLINE int32_t tcc_smlatt(uint32_t a, uint32_t b, int32_t acc) { return tcc_wrap_add(acc, (int64_t)tcc_hi16(a) * tcc_hi16(b)); }
TCC_ARM_INLINE int32_t tcc_smlatb(uint32_t a, uint32_t b, int32_t acc) { return tcc_wrap_add(acc, (int64_t)tcc_hi16(a) * tcc_lo16(b)); }
TCC_ARM_INLINE int32_t tcc_smlabt(uint32_t a, uint32_t b, int32_t acc) { return tcc_wrap_add(acc, (int64_t)tcc_lo16(a) * tcc_hi16(b)); }
TCC_ARM_INLINE int32_t tcc_smmlar(int32_t a, int32_t b, int32_t c)
{
    int64_t p = (int64_t)a * b + ((int64_t)1 << 31);
    /* arithmetic shift of a negative value written as floor division */
    int64_t q = p >= 0 ? p / ((int64_t)1 << 32) : -((-p + ((int64_t)1 << 32) - 1) / ((int64_t)1 << 32));
    return tcc_wrap_add(c, q);
}
TCC_ARM_INLINE uint32_t tcc_pkhbt(uint32_t lo, uint32_t hi) { return (lo & 0xffffu) | (hi << 16); }
TCC_ARM_INLINE uint32_t tcc_pkhtb(uint32_t hi, uint32_t lo) { return (hi & 0xffff0000u) | (lo >> 16); }
TCC_ARM_INLINE uint32_t tcc_bfi8_1(uint32_t a, uint32_t b) { return (a & ~0x0000ff00u) | ((b & 0xffu) << 8); }
TCC_ARM_INLINE uint32_t tcc_bfi8_2(uint32_t a, uint32_t b) { return (a & ~0x00ff0000u) | ((b & 0xffu) << 16); }
TCC_ARM_INLINE uint32_t tcc_bfi8_3(uint32_t a, uint32_t b) { return (a & ~0xff000000u) | ((b & 0xffu) << 24); }
TCC_ARM_INLINE uint32_t tcc_lanes8(uint32_t a, uint32_t b, int want_max)
{
    uint32_t r = 0;
    for (int i = 0; i < 4; ++i) {
        int32_t x = (int8_t)(uint8_t)((a >> (8 * i)) & 0xffu);
        int32_t y = (int8_t)(uint8_t)((b >> (8 * i)) & 0xffu);
        int32_t v = want_max ? (x > y ? x : y) : (x < y ? x : y);
        r |= ((uint32_t)v & 0xffu) << (8 * i);
    }
    return r;
}
TCC_ARM_INLINE uint32_t tcc_max8(uint32_t a, uint32_t b) { return tcc_lanes8(a, b, 1); }
TCC_ARM_INLINE uint32_t tcc_min8(uint32_t a, uint32_t b) { return tcc_lanes8(a, b, 0); }
TCC_ARM_INLINE uint32_t tcc_sxtab16(uint32_t acc, uint32_t x)
{
    uint32_t e = tcc_sxtb16(x);
    return tcc_pack16(tcc_lo16(acc) + tcc_lo16(e), tcc_hi16(acc) + tcc_hi16(e));
}
TCC_ARM_INLINE uint32_t tcc_sxtab16_ror8(uint32_t acc, uint32_t x) { return tcc_sxtab16(acc, x >> 8); }
#endif /* TCC_ARM_HAVE_DSP */

/* Saturate to int8: SSAT #8 (gcc recognises the C pattern only in simple contexts, and the
 * ACLE __ssat macro trips -Wsign-conversion). */
#if TCC_ARM_HAVE_DSP
TCC_ARM_INLINE int32_t tcc_ssat8(int32_t x)
{
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
}
#else
TCC_ARM_INLINE int32_t tcc_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }
#endif
#define TCC_SSAT8(x) tcc_ssat8(x)

/* Four copies of a byte. */
TCC_ARM_INLINE uint32_t tcc_splat8(int32_t v)
{
    return ((uint32_t)v & 0xffu) * 0x01010101u;
}

/* Two int16 copies of v. */
TCC_ARM_INLINE uint32_t tcc_splat16(int32_t v)
{
    return ((uint32_t)v & 0xffffu) * 0x00010001u;
}

/*
 * Requantization, bit-exact with tcc_requantize() + out_zp followed by saturation to int8,
 * given the packed constants of tcc_arm_rq (see tcc_arm.h and tinycc/packing.py) and an accumulator
 * that tinycc/packing.py's bound guarantees to be 2^(left + 1) * (TFLite's accumulator) without
 * overflow (the weights and bias are pre-scaled by 2^(left + 1)):
 *
 *   r = SMMLAR(acc, mult, add)       = srdhm(acc / 2, mult) + add   (acc even, |acc| < 2^31)
 *   r = r + (acc >> 31)              only when shift > 0: ties of the rounding right shift go
 *                                    away from zero (the sign of acc is that of srdhm's result
 *                                    except when srdhm is 0, where the -1 cannot matter)
 *   v = ssat8(r >> shift)            add holds 2^(shift-1) + out_zp * 2^shift, so this is
 *                                    rounding_div_pot(srdhm, shift) + out_zp, saturated
 */
TCC_ARM_INLINE int32_t tcc_arm_rq_pos(int32_t acc, int32_t mult, int32_t add, int32_t shift)
{
    int32_t r = tcc_smmlar(acc, mult, add) + (acc >> 31);
    return TCC_SSAT8(r >> shift);
}

TCC_ARM_INLINE int32_t tcc_arm_rq_zero(int32_t acc, int32_t mult, int32_t add)
{
    return TCC_SSAT8(tcc_smmlar(acc, mult, add));
}

#endif /* TCC_ARM_DSP_H */
