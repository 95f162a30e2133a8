/* tinycc runtime, Cortex-M DSP: ADD int8 of two same-shape tensors (see tcc_arm.h).
 *
 * Same semantics as tcc_add_s8 without broadcasting (TFLite's integer Add). Each input's
 * rescaling (offset, << 20, requantize) depends on one int8 value only, so tinycc/packing.py
 * tabulates it, indexed by the byte as unsigned (LDRB + one table load): table[(uint8_t)a] and
 * table[256 + (uint8_t)b], pre-doubled for the output requantization (tcc_arm_rq), which is
 * exact on their sum.
 *
 * With a right shift (the usual case) the elements go 4 at a time through an asm loop: two
 * elements' 4 byte loads and 4 table loads back to back (9 cycles), their sums requantized
 * (10), the 4 results packed into one word (3 BFI), clamped per byte (SSUB8 + SEL against the
 * replicated bounds) and stored with one STR: about 12 cycles per element against 18 for the
 * C loop, which still runs the last size % 4 elements and the shift-0 case.
 *
 * tcc_arm_add_s8_lin: when tinycc/variants/arm_add.py finds tables whose sum, shifted right by 20
 * and saturated, gives this output for every pair of input bytes (the requantization of the sum
 * is a step function of it, linear but for the roundings: the tables scaled by its slope and one
 * offset, found exactly, reproduce it), SSAT with its shift is the whole requantization: 13
 * cycles per 2 elements instead of 19, about 9 per element in all.
 */
#include "tcc_arm.h"
#include "tcc_arm_dsp.h"

#ifndef TCC_OMIT_ARM_ADD_S8
#define ADD_ONE(i, RQ)                                                                      \
    do {                                                                                    \
        int32_t v_ = RQ(ta[ua[i]] + tb[ub[i]]);                                             \
        if (clamp) v_ = TCC_ARM_MIN(TCC_ARM_MAX(v_, lo), hi);                               \
        out[i] = (int8_t)v_;                                                                \
    } while (0)

#define ADD_LOOP(RQ)                                                                        \
    do {                                                                                    \
        int32_t i = 0;                                                                      \
        for (; i + 4 <= n; i += 4, ua += 4, ub += 4, out += 4) {                            \
            ADD_ONE(0, RQ);                                                                 \
            ADD_ONE(1, RQ);                                                                 \
            ADD_ONE(2, RQ);                                                                 \
            ADD_ONE(3, RQ);                                                                 \
        }                                                                                   \
        for (; i < n; ++i, ++ua, ++ub, ++out) {                                             \
            ADD_ONE(0, RQ);                                                                 \
        }                                                                                   \
    } while (0)

static void add_pos(const tcc_arm_add_s8_params *p, const uint8_t *ua, const uint8_t *ub, int8_t *out,
                    int32_t clamp)
{
    const int32_t *ta = p->table, *tb = p->table + 256;
    const int32_t m = p->rq.mult, add = p->rq.add, s = p->rq.shift;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t n = p->size;
#define RQ_POS(acc) tcc_arm_rq_pos((acc), m, add, s)
    ADD_LOOP(RQ_POS);
#undef RQ_POS
}

static void add_zero(const tcc_arm_add_s8_params *p, const uint8_t *ua, const uint8_t *ub, int8_t *out,
                     int32_t clamp)
{
    const int32_t *ta = p->table, *tb = p->table + 256;
    const int32_t m = p->rq.mult, add = p->rq.add;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t n = p->size;
#define RQ_ZERO(acc) tcc_arm_rq_zero((acc), m, add)
    ADD_LOOP(RQ_ZERO);
#undef RQ_ZERO
}

#if TCC_ARM_HAVE_DSP
/* The asm loop's constants (add_run4 reads them with LDM / LDRD at these offsets). */
typedef struct {
    const int32_t *ta, *tb;        /* r4, r5: the two tables */
    int32_t mult, add, shift;      /* r6, r7, r8 */
    uint32_t lo4, hi4;             /* the clamp bounds in the 4 byte lanes (sp + 0, sp + 4) */
} add_ctx;
typedef char add_ctx_ok[sizeof(add_ctx) == 28 && offsetof(add_ctx, lo4) == 20 ? 1 : -1];

/* Two elements: a at [r0] and [r0 + 1] (r0 advances by 2), b at r0 + r1 (r1 = b - a - 1 after
 * the post-increment), results in RA, RB (9 cycles of loads, 2 ADD, 8 requantization). */
#define ADD_TWO(RA, RB)                                                                     \
    "ldrb   r9, [r0], #1\n\t"                                                                \
    "ldrb   r10, [r0, r1]\n\t"                                                               \
    "ldrb   r12, [r0], #1\n\t"                                                               \
    "ldrb   lr, [r0, r1]\n\t"                                                                \
    "ldr    r9, [r4, r9, lsl #2]\n\t"                                                        \
    "ldr    r10, [r5, r10, lsl #2]\n\t"                                                      \
    "ldr    r12, [r4, r12, lsl #2]\n\t"                                                      \
    "ldr    lr, [r5, lr, lsl #2]\n\t"                                                        \
    "add    r9, r9, r10\n\t"                                                                 \
    "add    r12, r12, lr\n\t"                                                                \
    "smmlar r10, r9, r6, r7\n\t"                                                             \
    "smmlar lr, r12, r6, r7\n\t"                                                             \
    "add    r10, r10, r9, asr #31\n\t"                                                       \
    "add    lr, lr, r12, asr #31\n\t"                                                        \
    "asr    r10, r10, r8\n\t"                                                                \
    "asr    lr, lr, r8\n\t"                                                                  \
    "ssat   " RA ", #8, r10\n\t"                                                             \
    "ssat   " RB ", #8, lr\n\t"

/* (a, b, out, ctx): n4 = blocks of 4 elements (>= 1) in ctx's word 7. Per block: ADD_TWO twice,
 * 3 BFI, the clamp (SSUB8 sets the byte lanes' GE flags, SEL picks), one STR at r0 + r2
 * (r2 = out - a - 4 after the block's 4 post-increments); r3 = the end of a. */
#define ADD_RUN4(NAME, CLAMP)                                                               \
    static __attribute__((naked, noinline)) void NAME(__attribute__((unused)) const uint8_t *a, \
                                                      __attribute__((unused)) const uint8_t *b, \
                                                      __attribute__((unused)) int8_t *out,     \
                                                      __attribute__((unused)) const add_ctx *c, \
                                                      __attribute__((unused)) int32_t n4)      \
    {                                                                                       \
        __asm__ volatile(                                                                   \
            "push   {r4-r11, lr}\n\t"                                                       \
            "ldr    r12, [sp, #36]\n\t"        /* n4 */                                     \
            "ldm    r3!, {r4-r8}\n\t"                                                       \
            "ldrd   r9, r10, [r3]\n\t"                                                      \
            "sub    sp, #8\n\t"                                                             \
            "strd   r9, r10, [sp]\n\t"                                                      \
            "subs   r1, r1, r0\n\t"                                                         \
            "subs   r1, r1, #1\n\t"                                                         \
            "subs   r2, r2, r0\n\t"                                                         \
            "subs   r2, r2, #4\n\t"                                                         \
            "add    r3, r0, r12, lsl #2\n"                                                   \
            "1:\n\t"                                                                         \
            ADD_TWO("r11", "r9")                                                            \
            "bfi    r11, r9, #8, #8\n\t"                                                    \
            ADD_TWO("r10", "r9")                                                            \
            "bfi    r11, r10, #16, #8\n\t"                                                  \
            "bfi    r11, r9, #24, #8\n\t"                                                   \
            CLAMP                                                                           \
            "str    r11, [r0, r2]\n\t"                                                      \
            "cmp    r0, r3\n\t"                                                             \
            "bne    1b\n\t"                                                                 \
            "add    sp, #8\n\t"                                                             \
            "pop    {r4-r11, pc}\n\t");                                                     \
    }
#define ADD_CLAMP                                                                           \
    "ldrd   r9, r10, [sp]\n\t"                                                              \
    "ssub8  r12, r11, r9\n\t"                                                               \
    "sel    r11, r11, r9\n\t"                                                               \
    "ssub8  r12, r11, r10\n\t"                                                              \
    "sel    r11, r10, r11\n\t"
ADD_RUN4(add_run4, "")
ADD_RUN4(add_run4_clamp, ADD_CLAMP)
#endif

void tcc_arm_add_s8(const tcc_arm_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    const int32_t clamp = p->act_min > -128 || p->act_max < 127;
    const uint8_t *ua = (const uint8_t *)a, *ub = (const uint8_t *)b;
    if (p->rq.shift != 0) {
#if TCC_ARM_HAVE_DSP
        const int32_t n4 = p->size / 4;
        if (n4 > 0) {
            const add_ctx c = {p->table, p->table + 256, p->rq.mult, p->rq.add, p->rq.shift,
                               0x01010101u * (uint8_t)p->act_min, 0x01010101u * (uint8_t)p->act_max};
            if (clamp) {
                add_run4_clamp(ua, ub, out, &c, n4);
            } else {
                add_run4(ua, ub, out, &c, n4);
            }
            tcc_arm_add_s8_params rest = *p;
            rest.size = p->size - 4 * n4;
            p = &rest;
            ua += 4 * n4;
            ub += 4 * n4;
            out += 4 * n4;
            if (clamp) {
                add_pos(p, ua, ub, out, 1);
            } else {
                add_pos(p, ua, ub, out, 0);
            }
            return;
        }
#endif
        if (clamp) {
            add_pos(p, ua, ub, out, 1);
        } else {
            add_pos(p, ua, ub, out, 0);
        }
    } else if (clamp) {
        add_zero(p, ua, ub, out, 1);
    } else {
        add_zero(p, ua, ub, out, 0);
    }
}
#endif

/* ------------------------------------------------------------------------------------ */
#ifndef TCC_OMIT_ARM_ADD_S8_LIN
#define LIN_STR_(x) #x
#define LIN_STR(x) LIN_STR_(x)
#if TCC_ARM_HAVE_DSP
/* Elements I and I + 1: a at r0 + I, b at r1 + I (no writeback: a load right after one that
 * writes its address register waits), the requantization one SSAT with its shift (13 cycles). */
#define LIN_TWO(I, J, RA, RB)                                                               \
    "ldrb   r9, [r0, #" I "]\n\t"                                                            \
    "ldrb   r10, [r1, #" I "]\n\t"                                                           \
    "ldrb   r12, [r0, #" J "]\n\t"                                                           \
    "ldrb   lr, [r1, #" J "]\n\t"                                                            \
    "ldr    r9, [r4, r9, lsl #2]\n\t"                                                        \
    "ldr    r10, [r5, r10, lsl #2]\n\t"                                                      \
    "ldr    r12, [r4, r12, lsl #2]\n\t"                                                      \
    "ldr    lr, [r5, lr, lsl #2]\n\t"                                                        \
    "add    r9, r9, r10\n\t"                                                                 \
    "add    r12, r12, lr\n\t"                                                                \
    "ssat   " RA ", #8, r9, asr #" LIN_STR(TCC_ARM_ADD_LIN_SHIFT) "\n\t"                    \
    "ssat   " RB ", #8, r12, asr #" LIN_STR(TCC_ARM_ADD_LIN_SHIFT) "\n\t"

/* One block of 4 elements: two LIN_TWO, 3 BFI, the clamp (SSUB8 sets the byte lanes' GE flags,
 * SEL picks), one STR, a and b advanced (33 cycles). */
#define LIN_BLOCK(CLAMP)                                                                    \
    LIN_TWO("0", "1", "r11", "r8")                                                          \
    "bfi    r11, r8, #8, #8\n\t"                                                            \
    LIN_TWO("2", "3", "r10", "r8")                                                          \
    "bfi    r11, r10, #16, #8\n\t"                                                          \
    "bfi    r11, r8, #24, #8\n\t"                                                           \
    CLAMP                                                                                   \
    "str    r11, [r0, r2]\n\t"                                                              \
    "adds   r0, r0, #4\n\t"                                                                 \
    "adds   r1, r1, #4\n\t"

/* (a, b, out, ctx = {ta, tb, lo4, hi4}, n4 >= 1): r0 a, r1 b, r2 = out - a, r3 the end of a, the
 * tables in r4, r5, the bounds in r6, r7; two blocks per pass (an odd count enters at the
 * second): 70 cycles per 8 elements. */
#define LIN_RUN4(NAME, CLAMP)                                                               \
    static __attribute__((naked, noinline)) void NAME(__attribute__((unused)) const uint8_t *a, \
                                                      __attribute__((unused)) const uint8_t *b, \
                                                      __attribute__((unused)) int8_t *out,     \
                                                      __attribute__((unused)) const uint32_t *c, \
                                                      __attribute__((unused)) int32_t n4)      \
    {                                                                                       \
        __asm__ volatile(                                                                   \
            "push   {r4-r11, lr}\n\t"                                                       \
            "ldr    r12, [sp, #36]\n\t"        /* n4 */                                     \
            "ldm    r3, {r4-r7}\n\t"                                                        \
            "subs   r2, r2, r0\n\t"                                                         \
            "add    r3, r0, r12, lsl #2\n\t"                                                \
            "tst    r12, #1\n\t"                                                            \
            "bne    2f\n"                                                                    \
            "1:\n\t"                                                                         \
            LIN_BLOCK(CLAMP)                                                                \
            "2:\n\t"                                                                         \
            LIN_BLOCK(CLAMP)                                                                \
            "cmp    r0, r3\n\t"                                                             \
            "bne    1b\n\t"                                                                 \
            "pop    {r4-r11, pc}\n\t");                                                     \
    }
#define LIN_CLAMP                                                                           \
    "ssub8  r12, r11, r6\n\t"                                                               \
    "sel    r11, r11, r6\n\t"                                                               \
    "ssub8  r12, r11, r7\n\t"                                                               \
    "sel    r11, r7, r11\n\t"
LIN_RUN4(lin_run4, "")
LIN_RUN4(lin_run4_clamp, LIN_CLAMP)
#endif

void tcc_arm_add_s8_lin(const tcc_arm_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    const int32_t *ta = p->table, *tb = p->table + 256;
    const uint8_t *ua = (const uint8_t *)a, *ub = (const uint8_t *)b;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t i = 0;
#if TCC_ARM_HAVE_DSP
    const int32_t n4 = p->size / 4;
    if (n4 > 0) {
        const uint32_t c[4] = {(uint32_t)(uintptr_t)ta, (uint32_t)(uintptr_t)tb, 0x01010101u * (uint8_t)lo,
                               0x01010101u * (uint8_t)hi};
        if (lo > -128 || hi < 127) {
            lin_run4_clamp(ua, ub, out, c, n4);
        } else {
            lin_run4(ua, ub, out, c, n4);
        }
        i = 4 * n4;
    }
#endif
    for (; i < p->size; ++i) {
        const int32_t v = TCC_SSAT8((ta[ua[i]] + tb[ub[i]]) >> TCC_ARM_ADD_LIN_SHIFT);
        out[i] = (int8_t)TCC_ARM_MIN(TCC_ARM_MAX(v, lo), hi);
    }
}
#endif
