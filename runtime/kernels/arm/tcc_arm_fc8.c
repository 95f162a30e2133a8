/* tinycc runtime, Cortex-M DSP: FULLY_CONNECTED int8 with int8 weights (see tcc_arm_fc8.h).
 *
 * Per batch row one pass sums the inputs (the correction -128 * sum(x)); tcc_arm_fc8_row_* also
 * widen the row into the scratch. Then one naked asm function runs every block of 4 output rows
 * (fc8_direct, fc8_row, with or without the clamp). Per block:
 *   start        LDM of the 4 accumulator starts, LDM of the layer's constants, the sum(x)
 *                correction, a computed branch into the unrolled loop (19 cycles)
 *   inner loop   per group of 4 inputs: 6 LDR (x pairs, 4 weight words; 7 cycles pipelined),
 *                4 SXTB16 ROR 8, 8 SMLAD: 19 cycles per 16 MACs (direct: 5 LDR and 2 more
 *                SXTB16 for the int8 inputs: 20 cycles); 8 groups per pass, the first
 *                pass entered at group (8 - groups % 8) % 8 so no remainder loop is needed;
 *                6 cycles of loop control per pass
 *   end          A = M - 256 B (2), the accumulators times 2^xshift (6), per row LDM of its tcc_arm_rq and the exact 4-instruction
 *                requantization (8 each), 3 BFI, [clamp: 6], one word store (about 50 cycles)
 * e.g. 128 inputs, direct: about 750 cycles per 512 MACs, 1.46 cycles per MAC.
 *
 * Cycle counts follow tinycc/cycles.py (Cortex-M4 TRM timings, zero wait states).
 */
#include <stddef.h>
#include <string.h>

#include "tcc_arm_fc8.h"
#include "tcc_arm_dsp.h"

#if defined(__ARM_FEATURE_DSP) && !defined(__GNUC__)
#error "tcc_arm_fc8.c: the DSP path is GNU inline asm; build it with GCC or clang (or drop the fast kernels)"
#endif

/* What the asm reads (byte offsets FC8_* below, checked against offsetof). */
typedef struct {
    int32_t corr;             /* -128 * sum(x): added to both M accumulators */
    int32_t skip_bytes;       /* 16 * skipped groups: the weight pointer starts that far back */
    int32_t group_bytes;      /* 16 * groups */
    uint32_t target;          /* the loop entry (set by the asm) */
    const void *x_start;      /* the input (row or widened row) minus the skipped groups */
    uint32_t lo4, hi4;        /* clamp bounds, 4 copies */
    int8_t *out;              /* the next block's 4 outputs */
    const int32_t *w_end;     /* the end of the blocks to run */
    int32_t entry_bytes;      /* code bytes of the skipped groups */
    const int32_t *w;         /* the first block */
    int32_t xshift;           /* the accumulators' left shift */
} fc8_ctx;

#define FC8_CORR 0
#define FC8_TARGET 12
#define FC8_LO4 20
#define FC8_OUT 28
#define FC8_W_END 32
#define FC8_ENTRY 36
#define FC8_W 40
#define FC8_XSHIFT 44
#define FC8_STR_(x) #x
#define FC8_STR(x) FC8_STR_(x)
/* the asm's offsets are the struct's (a negative array size fails the build otherwise) */
typedef char fc8_layout_check[(offsetof(fc8_ctx, corr) == FC8_CORR && offsetof(fc8_ctx, target) == FC8_TARGET
                               && offsetof(fc8_ctx, x_start) == 16 && offsetof(fc8_ctx, lo4) == FC8_LO4
                               && offsetof(fc8_ctx, hi4) == FC8_LO4 + 4 && offsetof(fc8_ctx, out) == FC8_OUT
                               && offsetof(fc8_ctx, w_end) == FC8_W_END
                               && offsetof(fc8_ctx, entry_bytes) == FC8_ENTRY && offsetof(fc8_ctx, w) == FC8_W
                               && offsetof(fc8_ctx, xshift) == FC8_XSHIFT && sizeof(void *) == 4)
                              || !TCC_ARM_HAVE_DSP ? 1 : -1];

#define FC8_UNROLL 8          /* groups per pass of the inner loop */
#define FC8_ROW_CODE 72       /* bytes of code per group: 18 32-bit instructions */
#define FC8_DIRECT_CODE 76    /* 19 */

#if TCC_ARM_HAVE_DSP

/* One group of 4 inputs, at position o of the pass. Registers: r0 M0, r1 B0, r2 M1, r3 B1,
 * r4/r5 the input pairs (x0, x2), (x1, x3), r6-r9 the weight words, r10 the input, r11 the
 * weights. Every instruction is 32-bit (ldr.w), so a group is FC8_*_CODE bytes.
 * FC8_X_ROW: the pairs from the widened row (2 LDR; 19 cycles per group);
 * FC8_X_DIRECT: one LDR of the 4 int8 inputs and 2 SXTB16 (20 cycles per group, no scratch). */
#define FC8_X_ROW(o)                                                                        \
    "ldr.w  r4, [r10, #8*" #o "]\n\t"                                                       \
    "ldr.w  r5, [r10, #8*" #o "+4]\n\t"                                                     \
    FC8_W_LOADS(o)
#define FC8_X_DIRECT(o)                                                                     \
    "ldr.w  r5, [r10, #4*" #o "]\n\t"                                                       \
    FC8_W_LOADS(o)                                                                          \
    "sxtb16 r4, r5\n\t"                                                                     \
    "sxtb16 r5, r5, ror #8\n\t"
#define FC8_W_LOADS(o)                                                                      \
    "ldr.w  r6, [r11, #16*" #o "]\n\t"                                                      \
    "ldr.w  r7, [r11, #16*" #o "+4]\n\t"                                                    \
    "ldr.w  r8, [r11, #16*" #o "+8]\n\t"                                                    \
    "ldr.w  r9, [r11, #16*" #o "+12]\n\t"
#define FC8_GROUP(X, o)                                                                     \
    X(o)                                                                                    \
    "smlad  r0, r4, r6, r0\n\t"                                                             \
    "sxtb16 r6, r6, ror #8\n\t"                                                             \
    "smlad  r1, r4, r6, r1\n\t"                                                             \
    "smlad  r0, r5, r7, r0\n\t"                                                             \
    "sxtb16 r7, r7, ror #8\n\t"                                                             \
    "smlad  r1, r5, r7, r1\n\t"                                                             \
    "smlad  r2, r4, r8, r2\n\t"                                                             \
    "sxtb16 r8, r8, ror #8\n\t"                                                             \
    "smlad  r3, r4, r8, r3\n\t"                                                             \
    "smlad  r2, r5, r9, r2\n\t"                                                             \
    "sxtb16 r9, r9, ror #8\n\t"                                                             \
    "smlad  r3, r5, r9, r3\n\t"

/* Requantize accumulator ACC into OUT with the next tcc_arm_rq (tcc_arm_rq_pos). */
#define FC8_RQ(ACC, OUT)                                                                    \
    "ldm    r11!, {r4, r5, r6}\n\t"                                                         \
    "smmlar " OUT ", " ACC ", r4, r5\n\t"                                                   \
    "add    " OUT ", " OUT ", " ACC ", asr #31\n\t"                                         \
    "asr    " OUT ", " OUT ", r6\n\t"                                                       \
    "ssat   " OUT ", #8, " OUT "\n\t"

/* The 4 packed outputs in r7: max(lo4), min(hi4) per byte (SSUB8 sets GE, SEL picks). */
#define FC8_CLAMP                                                                           \
    "ldrd   r4, r5, [lr, #" FC8_STR(FC8_LO4) "]\n\t"                                        \
    "ssub8  r6, r7, r4\n\t"                                                                 \
    "sel    r7, r7, r4\n\t"                                                                 \
    "ssub8  r6, r7, r5\n\t"                                                                 \
    "sel    r7, r5, r7\n\t"

#define FC8_FN(name, X, X_BYTES, CLAMP)                                                     \
    static __attribute__((naked, noinline)) void name(__attribute__((unused)) fc8_ctx *c)  \
    {                                                                                       \
        __asm__ volatile(                                                                   \
            "push   {r4-r11, lr}\n\t"                                                       \
            "mov    lr, r0\n\t"                                                             \
            "adr.w  r4, 2f\n\t"                                                             \
            "ldr    r5, [lr, #" FC8_STR(FC8_ENTRY) "]\n\t"                                  \
            "add    r4, r4, r5\n\t"                                                         \
            "orr    r4, r4, #1\n\t"                                                         \
            "str    r4, [lr, #" FC8_STR(FC8_TARGET) "]\n\t"                                 \
            "ldr    r11, [lr, #" FC8_STR(FC8_W) "]\n"                                       \
            "1:\n\t"                                                                        \
            "ldm    r11!, {r0-r3}\n\t"                                                      \
            "ldm    lr, {r4, r5, r6, r7, r10}\n\t"                                          \
            "add    r0, r0, r4\n\t"                                                         \
            "add    r2, r2, r4\n\t"                                                         \
            "add    r12, r11, r6\n\t"                                                       \
            "sub    r11, r11, r5\n\t"                                                       \
            "bx     r7\n"                                                                   \
            "2:\n\t"                                                                        \
            FC8_GROUP(X, 0) FC8_GROUP(X, 1) FC8_GROUP(X, 2) FC8_GROUP(X, 3)                 \
            FC8_GROUP(X, 4) FC8_GROUP(X, 5) FC8_GROUP(X, 6) FC8_GROUP(X, 7)                 \
            "add    r10, r10, #" #X_BYTES "*8\n\t"                                          \
            "add    r11, r11, #16*8\n\t"                                                    \
            "cmp    r11, r12\n\t"                                                           \
            "bne    2b\n\t"                                                                 \
            "sub    r0, r0, r1, lsl #8\n\t"                                                 \
            "sub    r2, r2, r3, lsl #8\n\t"                                                 \
            "ldr    r4, [lr, #" FC8_STR(FC8_XSHIFT) "]\n\t"                                 \
            "lsl    r0, r0, r4\n\t"                                                         \
            "lsl    r1, r1, r4\n\t"                                                         \
            "lsl    r2, r2, r4\n\t"                                                         \
            "lsl    r3, r3, r4\n\t"                                                         \
            FC8_RQ("r0", "r7") FC8_RQ("r1", "r8") FC8_RQ("r2", "r9") FC8_RQ("r3", "r10")    \
            "bfi    r7, r8, #8, #8\n\t"                                                     \
            "bfi    r7, r9, #16, #8\n\t"                                                    \
            "bfi    r7, r10, #24, #8\n\t"                                                   \
            CLAMP                                                                           \
            "ldr    r6, [lr, #" FC8_STR(FC8_OUT) "]\n\t"                                    \
            "str    r7, [r6], #4\n\t"                                                       \
            "str    r6, [lr, #" FC8_STR(FC8_OUT) "]\n\t"                                    \
            "ldr    r4, [lr, #" FC8_STR(FC8_W_END) "]\n\t"                                  \
            "cmp    r11, r4\n\t"                                                            \
            "bne    1b\n\t"                                                                 \
            "pop    {r4-r11, pc}\n\t");                                                     \
    }

#ifndef TCC_OMIT_ARM_FC8_S8
FC8_FN(fc8_direct, FC8_X_DIRECT, 4, "")
#endif
#ifndef TCC_OMIT_ARM_FC8_CLAMP_S8
FC8_FN(fc8_direct_clamp, FC8_X_DIRECT, 4, FC8_CLAMP)
#endif
#ifndef TCC_OMIT_ARM_FC8_ROW_S8
FC8_FN(fc8_row, FC8_X_ROW, 8, "")
#endif
#ifndef TCC_OMIT_ARM_FC8_ROW_CLAMP_S8
FC8_FN(fc8_row_clamp, FC8_X_ROW, 8, FC8_CLAMP)
#endif

#else /* portable C with the same arithmetic (hosts without the DSP extension, for tests) */

/* x_step: bytes of input per group, 4 (the int8 inputs) or 8 (the widened row) */
static void fc8_blocks(fc8_ctx *c, int32_t groups, int32_t x_step, int32_t clamp)
{
    const int32_t *w = c->w;
    const uint8_t *x = (const uint8_t *)((uintptr_t)c->x_start + (uintptr_t)(x_step * (c->skip_bytes / 16)));
    while (w != c->w_end) {
        const tcc_arm_fc8_head *h = (const tcc_arm_fc8_head *)(const void *)w;
        int32_t m0 = (int32_t)((uint32_t)h->m0 + (uint32_t)c->corr), b0 = h->b0;
        int32_t m1 = (int32_t)((uint32_t)h->m1 + (uint32_t)c->corr), b1 = h->b1;
        const uint32_t *g = (const uint32_t *)(const void *)(w + 4);
        for (int32_t k = 0; k < groups; ++k, g += 4) {
            uint32_t x02, x13;
            if (x_step == 8) {
                x02 = tcc_ld32(x + 8 * k);
                x13 = tcc_ld32(x + 8 * k + 4);
            } else {
                const uint32_t v = tcc_ld32(x + 4 * k);
                x02 = tcc_sxtb16(v);
                x13 = tcc_sxtb16_ror8(v);
            }
            m0 = tcc_smlad(x02, g[0], m0);
            b0 = tcc_smlad(x02, tcc_sxtb16_ror8(g[0]), b0);
            m0 = tcc_smlad(x13, g[1], m0);
            b0 = tcc_smlad(x13, tcc_sxtb16_ror8(g[1]), b0);
            m1 = tcc_smlad(x02, g[2], m1);
            b1 = tcc_smlad(x02, tcc_sxtb16_ror8(g[2]), b1);
            m1 = tcc_smlad(x13, g[3], m1);
            b1 = tcc_smlad(x13, tcc_sxtb16_ror8(g[3]), b1);
        }
        uint32_t acc[4];
        acc[0] = (uint32_t)m0 - ((uint32_t)b0 << 8);
        acc[1] = (uint32_t)b0;
        acc[2] = (uint32_t)m1 - ((uint32_t)b1 << 8);
        acc[3] = (uint32_t)b1;
        const tcc_arm_rq *rq = (const tcc_arm_rq *)(const void *)g;
        uint32_t v = 0;
        for (int32_t r = 0; r < 4; ++r) {
            const int32_t a = (int32_t)(acc[r] << c->xshift);
            const int32_t o = tcc_arm_rq_pos(a, rq[r].mult, rq[r].add, rq[r].shift);
            v |= ((uint32_t)o & 0xffu) << (8 * r);
        }
        if (clamp) {
            v = tcc_min8(tcc_max8(v, c->lo4), c->hi4);
        }
        tcc_st32(c->out, v);
        c->out += 4;
        w += TCC_ARM_FC8_BLOCK_WORDS(groups);
    }
}

#endif /* TCC_ARM_HAVE_DSP */

/* -128 * the sum of n int8 (n % 4 == 0 or the rest read bytewise), mod 2^32. */
static int32_t fc8_corr(const int8_t *src, int32_t n)
{
    uint32_t sum = 0;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32_t v = tcc_ld32(src + i);
        sum = (uint32_t)tcc_smlad(tcc_sxtb16(v), 0x00010001u, (int32_t)sum);
        sum = (uint32_t)tcc_smlad(tcc_sxtb16_ror8(v), 0x00010001u, (int32_t)sum);
    }
    for (; i < n; ++i) {
        sum += (uint32_t)(int32_t)src[i];
    }
    return (int32_t)(0u - (sum << 7));
}

/* The batch row into the scratch as int16 pairs (x0, x2), (x1, x3) per group of 4 (a short last
 * group zero-padded). */
static void fc8_widen(uint32_t *dst, const int8_t *src, int32_t n)
{
    for (int32_t i = 0; i < n; i += 4) {
        uint32_t v;
        if (i + 4 <= n) {
            v = tcc_ld32(src + i);
        } else {
            v = 0;
            for (int32_t k = 0; i + k < n; ++k) {
                v |= (uint32_t)(uint8_t)src[i + k] << (8 * k);
            }
        }
        dst[0] = tcc_sxtb16(v);
        dst[1] = tcc_sxtb16_ror8(v);
        dst += 2;
    }
}

typedef void (*fc8_fn)(fc8_ctx *c);

/* x_step: 4 (run reads the int8 row; in_depth % 4 == 0) or 8 (the row widened into scratch);
 * code: FC8_DIRECT_CODE or FC8_ROW_CODE. */
static void fc8(const tcc_arm_fc8_s8_params *p, const int8_t *in, int8_t *out, void *scratch,
                fc8_fn run, int32_t x_step, int32_t code, int32_t clamp)
{
    const int32_t groups = p->groups;
    const int32_t skip = (FC8_UNROLL - groups % FC8_UNROLL) % FC8_UNROLL;
    const int32_t full = p->out_depth / 4, rest = p->out_depth % 4;
    const int32_t bw = TCC_ARM_FC8_BLOCK_WORDS(groups);
    fc8_ctx c;
    c.skip_bytes = 16 * skip;
    c.group_bytes = 16 * groups;
    c.target = 0;
    c.lo4 = tcc_splat8(p->act_min);
    c.hi4 = tcc_splat8(p->act_max);
    c.entry_bytes = code * skip;
    c.xshift = p->xshift;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *row = in + b * p->in_depth;
        c.corr = fc8_corr(row, p->in_depth);
        if (x_step == 8) {
            fc8_widen((uint32_t *)scratch, row, p->in_depth);
            row = (const int8_t *)scratch;
        }
        c.x_start = (const void *)((uintptr_t)row - (uintptr_t)(x_step * skip));   /* never read there */
        for (int32_t part = 0; part < 2; ++part) {
            /* the full blocks into the output, then a short last one through a word */
            uint32_t last = 0;
            const int32_t first = part ? full : 0, n = part ? (rest ? 1 : 0) : full;
            if (n == 0) {
                continue;
            }
            c.w = p->blocks + first * bw;
            c.w_end = c.w + n * bw;
            c.out = part ? (int8_t *)&last : out + b * p->out_depth;
#if TCC_ARM_HAVE_DSP
            (void)clamp;
            run(&c);
#else
            (void)run;
            fc8_blocks(&c, groups, x_step, clamp);
#endif
            if (part) {
                memcpy(out + b * p->out_depth + 4 * full, &last, (size_t)rest);
            }
        }
    }
}

#if TCC_ARM_HAVE_DSP
#define FC8_RUN(fn) fn
#else
#define FC8_RUN(fn) NULL
#endif

#ifndef TCC_OMIT_ARM_FC8_S8
void tcc_arm_fc8_s8(const tcc_arm_fc8_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    fc8(p, in, out, scratch, FC8_RUN(fc8_direct), 4, FC8_DIRECT_CODE, 0);
}
#endif

#ifndef TCC_OMIT_ARM_FC8_CLAMP_S8
void tcc_arm_fc8_clamp_s8(const tcc_arm_fc8_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    fc8(p, in, out, scratch, FC8_RUN(fc8_direct_clamp), 4, FC8_DIRECT_CODE, 1);
}
#endif

#ifndef TCC_OMIT_ARM_FC8_ROW_S8
void tcc_arm_fc8_row_s8(const tcc_arm_fc8_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    fc8(p, in, out, scratch, FC8_RUN(fc8_row), 8, FC8_ROW_CODE, 0);
}
#endif

#ifndef TCC_OMIT_ARM_FC8_ROW_CLAMP_S8
void tcc_arm_fc8_row_clamp_s8(const tcc_arm_fc8_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    fc8(p, in, out, scratch, FC8_RUN(fc8_row_clamp), 8, FC8_ROW_CODE, 1);
}
#endif
