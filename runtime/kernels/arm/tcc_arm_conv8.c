/* tinycc runtime, Cortex-M DSP: CONV_2D int8 with int8 weights (see tcc_arm_conv8.h).
 *
 * Same semantics as tcc_conv2d_s8 (TFLite ConvPerChannel): the input zero point is folded
 * into the bias, so a padded tap reads in_zp and the loop is a plain dot product.
 *
 * Blocking: 3 output pixels x 2 output channels = 6 accumulators. The 3 pixels' receptive
 * fields are widened into the scratch (int16 pair words; pixel q's column starts q * step bytes
 * after pixel 0's, so vertically adjacent pixels of a band share one widened strip); each
 * stream word holds 2 weights of each of the 2 channels, widened in the loop by SXTB16 and
 * SXTB16 ROR 8 (shared by the 3 pixels). Per group (4 reduction values, 24 MACs): 2 stream
 * words + 6 column words loaded, 4 SXTB16, 12 SMLAD: 26 estimated Cortex-M4 cycles (1.08 per
 * MAC).
 */
#include "tcc_arm_conv8.h"
#include "tcc_arm_dsp.h"

#include <stddef.h>

#if defined(__ARM_FEATURE_DSP) && !defined(__GNUC__)
#error "tcc_arm_conv8.c: the DSP code path is GNU inline asm; build with gcc or clang"
#endif

#define PIX TCC_ARM_CONV8_PIX

/* The context the block routine copies to its stack (offsets used by the asm below). */
typedef struct {
    int32_t skip;                 /* sp + 0: the groups the first pass skips (after a pair's first
                                   * group; becomes its entry address) */
    const uint32_t *col;          /* sp + 4: pixel 0's column */
    const uint32_t *col_end;      /* sp + 8: col + 2 * groups */
    int32_t step;                 /* sp + 12: pixel q's column starts q * step bytes after col */
    int8_t *out;                  /* sp + 16: pixel 0's channel 0 */
    int32_t off1, off2;           /* sp + 20, 24: pixels 1 and 2 - pixel 0 (bytes) */
    const int32_t *stream_end;    /* sp + 28 */
} c8_ctx;
#if TCC_ARM_HAVE_DSP   /* the asm's stack offsets (32-bit pointers) */
/* C99 has no _Static_assert: an array of negative size fails the build instead */
#define C8_STATIC_OFFSET(field, off) typedef char c8_ctx_##field##_ok[offsetof(c8_ctx, field) == (off) ? 1 : -1]
C8_STATIC_OFFSET(skip, 0);
C8_STATIC_OFFSET(col, 4);
C8_STATIC_OFFSET(col_end, 8);
C8_STATIC_OFFSET(step, 12);
C8_STATIC_OFFSET(out, 16);
C8_STATIC_OFFSET(off1, 20);
C8_STATIC_OFFSET(off2, 24);
C8_STATIC_OFFSET(stream_end, 28);
#endif
typedef char c8_stream_records_ok[sizeof(tcc_arm_conv8_head) == 8 && sizeof(tcc_arm_conv8_tail) == 16 ? 1 : -1];

/* The fields of layers with in_c % 4 != 0 (field_rows, field3_rows): an optional part, kept when
 * such a layer calls the kernel (tinycc/variants/arm_conv8.py: use_parts); without it every
 * layer has in_c % 4 == 0. */
#ifndef TCC_OMIT_ARM_CONV8_ROWS
#define C8_ROWS 1
#else
#define C8_ROWS 0
#endif

/* groups per pass of the unrolled loop (a pair's first group runs before it: 16-group layers,
 * kws's 1x1, in one pass; 36, ic's 16-channel 3x3, in 2) */
#define C8_UNROLL 18
#define C8_ARG __attribute__((unused))
/* The driver and the im2col of fields at the borders: compiled for size (flash is what the
 * fast kernels spend; the time goes into the pair loop and widen_rows). */
#if defined(__GNUC__) && !defined(__clang__)
#define C8_COLD __attribute__((noinline, optimize("Os")))
#else
#define C8_COLD __attribute__((noinline))
#endif

#if TCC_ARM_HAVE_DSP
/* Half a group (2 reduction values of both channels, 3 pixels): 12 instructions, all 32-bit.
 * Registers: r0-r2 channel a x pixels 0-2, r3-r5 channel b, r6-r8 the pixels' column words,
 * r9 the stream word (a, b, a, b bytes), r11 its a pair, r10 step, r12 pixel 0's column, lr the
 * stream. Every pointer advances by its load's writeback, so the groups are all alike and the
 * computed entry needs no pointer adjustment. Cycles: 2 + 1 + 1 + 1 (4 pipelined loads, the
 * columns' first: the pair start's loads of the biases from lr pipeline into them), 1 + 3 + 1 +
 * 3 = 13 for 12 MACs. A0..B2: the registers the 6 products
 * add to (the accumulators themselves; in a pair's first group the biases r0 and r3). */
#define C8_HALF_ACC(A0, A1, A2, B0, B1, B2)                                                 \
    "ldr.w  r7, [r12, r10]\n\t"                                                             \
    "ldr.w  r8, [r12, r10, lsl #1]\n\t"                                                     \
    "ldr.w  r6, [r12], #4\n\t"                                                              \
    "ldr.w  r9, [lr], #4\n\t"                                                               \
    "sxtb16 r11, r9\n\t"                                                                    \
    "smlad  r1, r7, r11, " A1 "\n\t"                                                        \
    "smlad  r2, r8, r11, " A2 "\n\t"                                                        \
    "smlad  r0, r6, r11, " A0 "\n\t"                                                        \
    "sxtb16 r9, r9, ror #8\n\t"                                                             \
    "smlad  r4, r7, r9, " B1 "\n\t"                                                         \
    "smlad  r5, r8, r9, " B2 "\n\t"                                                         \
    "smlad  r3, r6, r9, " B0 "\n\t"
#define C8_HALF C8_HALF_ACC("r0", "r1", "r2", "r3", "r4", "r5")
#define C8_GROUP C8_HALF C8_HALF   /* 96 bytes, 26 cycles for 24 MACs */
#define C8_FIRST C8_HALF_ACC("r0", "r0", "r0", "r3", "r3", "r3") C8_HALF
#define C8_GROUP_BYTES 96
/* The widened stream (tcc_arm_conv8w_s8): per half group the pair words of a (r9) and b (r11).
 * Cycles: 2 + 1 + 1 + 1 + 1 (5 pipelined loads), 6 = 12 for 12 MACs; 88 bytes a
 * group. */
#define C8W_HALF_ACC(A0, A1, A2, B0, B1, B2)                                                \
    "ldr.w  r7, [r12, r10]\n\t"                                                             \
    "ldr.w  r8, [r12, r10, lsl #1]\n\t"                                                     \
    "ldr.w  r6, [r12], #4\n\t"                                                              \
    "ldr.w  r11, [lr, #4]\n\t"                                                              \
    "ldr.w  r9, [lr], #8\n\t"                                                              \
    "smlad  r1, r7, r9, " A1 "\n\t"                                                         \
    "smlad  r2, r8, r9, " A2 "\n\t"                                                         \
    "smlad  r0, r6, r9, " A0 "\n\t"                                                         \
    "smlad  r4, r7, r11, " B1 "\n\t"                                                        \
    "smlad  r5, r8, r11, " B2 "\n\t"                                                        \
    "smlad  r3, r6, r11, " B0 "\n\t"
#define C8W_HALF C8W_HALF_ACC("r0", "r1", "r2", "r3", "r4", "r5")
#define C8W_GROUP C8W_HALF C8W_HALF
#define C8W_FIRST C8W_HALF_ACC("r0", "r0", "r0", "r3", "r3", "r3") C8W_HALF
#define C8W_GROUP_BYTES 88
/* shift - 1 of a channel from its add = (2 * out_zp + 1) << (shift - 1): 2 cycles. */
#define C8_SHIFT(S, ADD)                                                                    \
    "rbit   " S ", " ADD "\n\t"                                                             \
    "clz    " S ", " S "\n\t"
/* Requantize accumulator A (tcc_arm_rq_pos of 2 * A; S = shift - 1, SSAT shifts the last
 * bit): DOUBLE(A) doubles A (1 cycle; both streams, whose layout tcc_arm_palette.c also decodes
 * into, hold the weights as they are), then 4 cycles. */
#define C8_DOUBLE(A) "add    " A ", " A ", " A "\n\t"
#define C8_RQ(A, M, ADD, S, DOUBLE)                                                         \
    DOUBLE(A)                                                                               \
    "smmlar r12, " A ", " M ", " ADD "\n\t"                                                 \
    "add    " A ", r12, " A ", asr #31\n\t"                                                 \
    "asr    " A ", " A ", " S "\n\t"                                                        \
    "ssat   " A ", #8, " A ", asr #1\n\t"
#define C8_STR(x) #x
#define C8_XSTR(x) C8_STR(x)

/* Start a channel pair (r12 = col): its biases into r0 and r3 (tcc_arm_conv8_head; 2
 * pipelined loads), its first group (FIRST: the 6 accumulators start from the biases), then the
 * other groups from the computed entry (sp + 0): 3 + 25 + 4 cycles. It sits after the loop's end
 * test, which falls through to it (a block's first pair branches to it). */
#define C8_HEAD(FIRST)                                                                      \
    "ldr    r3, [lr, #4]\n\t"                                                               \
    "ldr    r0, [lr], #8\n\t"                                                               \
    FIRST                                                                                   \
    "ldr    pc, [sp]\n\t"

/* The body of a pair loop (ctx, stream): every channel pair of one block of 3 pixels, GROUP
 * the code of a group (BYTES long, all alike), FIRST that of a pair's first group, DOUBLE the
 * accumulators' doubling (C8_DOUBLE). Per pair: 8 cycles to start and enter the
 * unrolled groups (C8_HEAD and the load of col), the groups, 6 per pass of C8_UNROLL groups (4 for the last; a pair
 * of one group makes one check), 5 + 4 + 30 to requantize (24 when the accumulators come out
 * doubled), 11 to store the 3 halfwords and 3 to test the end. Stack: the 9 saved registers and
 * the 8 context words (68 bytes). */
#define C8_PAIRS_ASM(GROUP, FIRST, BYTES, DOUBLE)                                                 \
    "push   {r4-r11, lr}\n\t"                                                               \
    "mov    lr, r1\n\t"                                                                     \
    "ldm    r0, {r0-r7}\n\t"                                                                \
    "adr    r8, 10f\n\t"                                                                    \
    "mov    r9, #" C8_XSTR(BYTES) "\n\t"                                                    \
    "mla    r0, r0, r9, r8\n\t"              /* the entry: 10f + skip * BYTES */            \
    "orr    r0, r0, #1\n\t"                                                                 \
    "mov    r10, r3\n\t"                     /* step, kept in r10 throughout */             \
    "push   {r0-r7}\n\t"                                                                    \
    "mov    r12, r1\n\t"                   /* col */                                      \
    "b      2f\n\t"                                                                         \
    ".p2align 2\n"                                                                          \
    "10:\n\t"                                                                               \
    GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP GROUP \
    "11:\n\t"                                                                               \
    ".if (11b - 10b) != " C8_XSTR(C8_UNROLL) " * " C8_XSTR(BYTES) "\n\t"                     \
    ".error \"c8 pairs: a group is not " C8_XSTR(BYTES) " bytes\"\n\t"                      \
    ".endif\n\t"                                                                            \
    "ldr    r11, [sp, #8]\n\t"                                                              \
    "cmp    r12, r11\n\t"                                                                   \
    "bne    10b\n\t"                                                                        \
    "ldm    lr!, {r6-r9}\n\t"                /* tcc_arm_conv8_tail */                       \
    C8_SHIFT("r11", "r7")                                                                   \
    C8_RQ("r0", "r6", "r7", "r11", DOUBLE)                                                  \
    C8_RQ("r1", "r6", "r7", "r11", DOUBLE)                                                  \
    C8_RQ("r2", "r6", "r7", "r11", DOUBLE)                                                  \
    C8_SHIFT("r11", "r9")                                                                   \
    C8_RQ("r3", "r8", "r9", "r11", DOUBLE)                                                  \
    C8_RQ("r4", "r8", "r9", "r11", DOUBLE)                                                  \
    C8_RQ("r5", "r8", "r9", "r11", DOUBLE)                                                  \
    "bfi    r0, r3, #8, #8\n\t"              /* a pixel's 2 channels: one halfword */       \
    "bfi    r1, r4, #8, #8\n\t"                                                             \
    "bfi    r2, r5, #8, #8\n\t"                                                             \
    "ldr    r12, [sp, #16]\n\t"              /* out, off1, off2: 3 pipelined loads */       \
    "ldr    r6, [sp, #20]\n\t"                                                              \
    "ldr    r7, [sp, #24]\n\t"                                                              \
    "strh   r1, [r12, r6]\n\t"                                                              \
    "strh   r2, [r12, r7]\n\t"                                                              \
    "strh   r0, [r12], #2\n\t"                                                              \
    "str    r12, [sp, #16]\n\t"                                                             \
    "ldr    r6, [sp, #28]\n\t"                                                              \
    "ldr    r12, [sp, #4]\n\t"              /* col, for the next pair */                   \
    "cmp    lr, r6\n\t"                                                                     \
    "beq    3f\n"                                                                            \
    "2:\n\t"                                                                                \
    C8_HEAD(FIRST)                                                                          \
    "3:\n\t"                                                                                \
    "add    sp, #32\n\t"                                                                    \
    "pop    {r4-r11, pc}\n\t"

#ifndef TCC_OMIT_ARM_CONV8_S8
/* the int8 stream: 26 cycles a group */
static __attribute__((naked, noinline)) void c8_pairs(C8_ARG const c8_ctx *ctx, C8_ARG const int32_t *stream)
{
    __asm__ volatile(C8_PAIRS_ASM(C8_GROUP, C8_FIRST, C8_GROUP_BYTES, C8_DOUBLE));
}
#endif

#ifndef TCC_OMIT_ARM_CONV8W_S8
/* the widened stream: 24 cycles a group */
static __attribute__((naked, noinline)) void c8w_pairs(C8_ARG const c8_ctx *ctx, C8_ARG const int32_t *stream)
{
    __asm__ volatile(C8_PAIRS_ASM(C8W_GROUP, C8W_FIRST, C8W_GROUP_BYTES, C8_DOUBLE));
}
#endif
#else
/* 1 + the number of trailing zero bits of add (odd << (shift - 1)) */
static int32_t c8_shift(int32_t add)
{
    int32_t n = 1;
    for (uint32_t v = (uint32_t)add; (v & 1u) == 0; v >>= 1) {
        ++n;
    }
    return n;
}

/* The pair loops in C: `wide` 0 reads a stream word per half group (2 int8 weights of each
 * channel), 1 the pair words of a and b. */
static void c8_pairs_c(const c8_ctx *c, const int32_t *s, int32_t wide)
{
    const int32_t groups = (int32_t)(c->col_end - c->col) / 2;
    const uint32_t *x[PIX];
    for (int32_t q = 0; q < PIX; ++q) {
        x[q] = (const uint32_t *)(const void *)((const uint8_t *)c->col + q * c->step);
    }
    int8_t *o = c->out;
    for (;;) {
        const tcc_arm_conv8_head *h = (const tcc_arm_conv8_head *)s;
        int32_t acc[2][PIX] = {{h->bias_a, h->bias_a, h->bias_a}, {h->bias_b, h->bias_b, h->bias_b}};
        const uint32_t *w = (const uint32_t *)(s + 2);
        for (int32_t j = 0; j < 2 * groups; ++j) {    /* the halves of the groups */
            const uint32_t wa = wide ? w[2 * j] : tcc_sxtb16(w[j]);
            const uint32_t wb = wide ? w[2 * j + 1] : tcc_sxtb16_ror8(w[j]);
            for (int32_t q = 0; q < PIX; ++q) {
                acc[0][q] = tcc_smlad(x[q][j], wa, acc[0][q]);
                acc[1][q] = tcc_smlad(x[q][j], wb, acc[1][q]);
            }
        }
        const tcc_arm_conv8_tail *t = (const tcc_arm_conv8_tail *)(s + 2 + (2 + 2 * wide) * groups);
        const int32_t off[PIX] = {0, c->off1, c->off2};
        const int32_t shift_a = c8_shift(t->add_a), shift_b = c8_shift(t->add_b);
        for (int32_t q = 0; q < PIX; ++q) {
            o[off[q]] = (int8_t)tcc_arm_rq_pos(2 * acc[0][q], t->mult_a, t->add_a, shift_a);
            o[off[q] + 1] = (int8_t)tcc_arm_rq_pos(2 * acc[1][q], t->mult_b, t->add_b, shift_b);
        }
        o += 2;
        s = (const int32_t *)(t + 1);
        if (s == c->stream_end) {
            return;
        }
    }
}

#ifndef TCC_OMIT_ARM_CONV8_S8
static void c8_pairs(const c8_ctx *c, const int32_t *s)
{
    c8_pairs_c(c, s, 0);
}
#endif

#ifndef TCC_OMIT_ARM_CONV8W_S8
static void c8w_pairs(const c8_ctx *c, const int32_t *s)
{
    c8_pairs_c(c, s, 1);
}
#endif
#endif

/* ------------------------------------------------------------------------------------
 * im2col: a pixel's column is its receptive field widened to int16 pair words, per group of
 * 4 activations the words even (SXTB16) and odd (SXTB16 ROR 8), in the reduction order.
 * ------------------------------------------------------------------------------------ */

#if TCC_ARM_HAVE_DSP
/* 4 words of 4 int8 from r1 (advanced) widened into r3-r10 and stored at r0 (advanced): 4
 * pipelined loads, 8 SXTB16, an STM of 8: 22 cycles. */
#define C8_WIDEN4                                                                           \
    "ldr    r6, [r1, #4]\n\t"                                                               \
    "ldr    r8, [r1, #8]\n\t"                                                               \
    "ldr    r10, [r1, #12]\n\t"                                                             \
    "ldr    r4, [r1], #16\n\t"                                                              \
    "sxtb16 r3, r4\n\t"                                                                     \
    "sxtb16 r4, r4, ror #8\n\t"                                                             \
    "sxtb16 r5, r6\n\t"                                                                     \
    "sxtb16 r6, r6, ror #8\n\t"                                                             \
    "sxtb16 r7, r8\n\t"                                                                     \
    "sxtb16 r8, r8, ror #8\n\t"                                                             \
    "sxtb16 r9, r10\n\t"                                                                    \
    "sxtb16 r10, r10, ror #8\n\t"                                                           \
    "stmia  r0!, {r3-r10}\n\t"

/* (dst, src, words, rows, skip): widen `rows` runs of `words` (>= 0) words of 4 int8 into dst
 * (2 words each), src advancing by skip bytes after each run; return the end of dst. 8 words
 * per pass (2 x C8_WIDEN4 and the loop: 48 cycles, 6 per word), then 4 words (26 with their
 * tests), then one word at a time (11 cycles); 5 to 9 more per run. Stack: 9 saved registers. */
static __attribute__((naked, noinline)) uint32_t *widen_rows(C8_ARG uint32_t *dst, C8_ARG const int8_t *src,
                                                             C8_ARG int32_t words, C8_ARG int32_t rows,
                                                             C8_ARG int32_t skip)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "ldr    r11, [sp, #36]\n\t"
        "mov    lr, r3\n"
        "5:\n\t"
        "subs   r12, r2, #8\n\t"         /* r12 = words left - 8 */
        "blt    2f\n"
        "1:\n\t"
        C8_WIDEN4
        C8_WIDEN4
        "subs   r12, r12, #8\n\t"
        "bge    1b\n"
        "2:\n\t"
        "adds   r12, r12, #4\n\t"        /* words left (0..7) - 4 */
        "blt    6f\n\t"
        C8_WIDEN4                          /* (the flags stay) */
        "beq    4f\n\t"
        "b      3f\n"
        "6:\n\t"
        "adds   r12, r12, #4\n\t"
        "beq    4f\n"
        "3:\n\t"
        "ldr    r4, [r1], #4\n\t"
        "sxtb16 r3, r4\n\t"
        "sxtb16 r4, r4, ror #8\n\t"
        "stmia  r0!, {r3, r4}\n\t"
        "subs   r12, r12, #1\n\t"
        "bne    3b\n"
        "4:\n\t"
        "add    r1, r1, r11\n\t"
        "subs   lr, lr, #1\n\t"
        "bne    5b\n\t"
        "pop    {r4-r11, pc}\n\t");
}
#else
static uint32_t *widen_rows(uint32_t *dst, const int8_t *src, int32_t words, int32_t rows, int32_t skip)
{
    for (int32_t r = 0; r < rows; ++r, src += skip) {
        for (int32_t g = 0; g < words; ++g, src += 4, dst += 2) {
            const uint32_t v = tcc_ld32(src);
            dst[0] = tcc_sxtb16(v);
            dst[1] = tcc_sxtb16_ror8(v);
        }
    }
    return dst;
}
#endif

#if C8_ROWS
/* widen for a few words (the rows' tails) (out of line: code size) */
static __attribute__((noinline)) uint32_t *widen_short(uint32_t *dst, const int8_t *src, int32_t words)
{
    for (int32_t g = 0; g < words; ++g, src += 4, dst += 2) {
        const uint32_t v = tcc_ld32(src);
        dst[0] = tcc_sxtb16(v);
        dst[1] = tcc_sxtb16_ror8(v);
    }
    return dst;
}
#endif

/* padded taps (out of line: code size) */
static __attribute__((noinline)) uint32_t *fill(uint32_t *dst, uint32_t zpw, int32_t words)
{
    for (int32_t g = 0; g < words; ++g, dst += 2) {
        dst[0] = zpw;
        dst[1] = zpw;
    }
    return dst;
}

/* in_c % 4 == 0: `rows` kernel rows (dil_h apart) from input row y0, the taps x0 + kx * dil_w
 * of each, straight from the input; padded taps read in_zp. */
static C8_COLD void field_words(const tcc_arm_conv8_params *p, const int8_t *img, int32_t y0, int32_t x0, int32_t rows,
                        uint32_t *dst, uint32_t zpw)
{
    const int32_t cg = p->in_c / 4, run = cg * p->k_w;
    const int32_t row_bytes = p->in_w * p->in_c;
    int32_t r_lo = 0, r_hi = rows;      /* the rows r in [r_lo, r_hi) lie inside the image */
    while (r_lo < r_hi && y0 + r_lo * p->dil_h < 0) {
        ++r_lo;
    }
    while (r_hi > r_lo && y0 + (r_hi - 1) * p->dil_h >= p->in_h) {
        --r_hi;
    }
    if (r_lo) {
        dst = fill(dst, zpw, r_lo * run);
    }
    if (p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w) {
        if (r_hi > r_lo) {
            dst = widen_rows(dst, img + (y0 + r_lo * p->dil_h) * row_bytes + x0 * p->in_c, run, r_hi - r_lo,
                             p->dil_h * row_bytes - 4 * run);
        }
    } else if (p->dil_w == 1) {    /* the taps [kx_lo, kx_hi) inside, one run per row */
        int32_t kx_lo = 0, kx_hi = p->k_w;
        while (kx_lo < kx_hi && x0 + kx_lo < 0) {
            ++kx_lo;
        }
        while (kx_hi > kx_lo && x0 + kx_hi - 1 >= p->in_w) {
            --kx_hi;
        }
        for (int32_t r = r_lo; r < r_hi; ++r) {
            dst = fill(dst, zpw, kx_lo * cg);
            if (kx_hi > kx_lo) {
                dst = widen_rows(dst, img + (y0 + r * p->dil_h) * row_bytes + (x0 + kx_lo) * p->in_c,
                                 (kx_hi - kx_lo) * cg, 1, 0);
            }
            dst = fill(dst, zpw, (p->k_w - kx_hi) * cg);
        }
    } else {
        for (int32_t r = r_lo; r < r_hi; ++r) {
            const int8_t *row = img + (y0 + r * p->dil_h) * row_bytes;
            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                const int32_t x = x0 + kx * p->dil_w;
                dst = (x < 0 || x >= p->in_w) ? fill(dst, zpw, cg) : widen_rows(dst, row + x * p->in_c, cg, 1, 0);
            }
        }
    }
    if (r_hi < rows) {
        (void)fill(dst, zpw, (rows - r_hi) * run);
    }
}

#if C8_ROWS
/* in_c % 4 != 0, in the order of tcc_arm_conv8.h: each kernel row is a run of R = k_w * in_c
 * bytes; its whole words are widened straight from the input (a row crossing the left or right
 * border is assembled in rowbuf first), its R % 4 last bytes go to tail, widened last (the
 * tail's padding to a whole word stays zero). */
static C8_COLD void field_rows(const tcc_arm_conv8_params *p, const int8_t *img, int32_t y0, int32_t x0,
                       uint32_t *dst, int8_t *rowbuf, int8_t *tail, uint32_t zpw)
{
    const int32_t c = p->in_c;
    const int8_t zp = (int8_t)p->in_zp;
    const int32_t run = p->k_w * c, nw = run / 4, rem = run % 4;
    /* the taps kx in [kx_lo, kx_hi) lie inside the image (the same for every kernel row) */
    int32_t kx_lo = 0, kx_hi = p->k_w;
    while (kx_lo < kx_hi && x0 + kx_lo * p->dil_w < 0) {
        ++kx_lo;
    }
    while (kx_hi > kx_lo && x0 + (kx_hi - 1) * p->dil_w >= p->in_w) {
        --kx_hi;
    }
    const int32_t run_inside = p->dil_w == 1 && kx_lo == 0 && kx_hi == p->k_w;
    if (!run_inside) {   /* the padded taps of rowbuf, once for all rows */
        for (int32_t i = 0; i < run; ++i) {
            rowbuf[i] = zp;
        }
    }
    int8_t *t = tail;
    for (int32_t ky = 0; ky < p->k_h; ++ky, t += rem) {
        const int32_t y = y0 + ky * p->dil_h;
        if (y < 0 || y >= p->in_h) {
            dst = fill(dst, zpw, nw);
            for (int32_t r = 0; r < rem; ++r) {
                t[r] = zp;
            }
            continue;
        }
        const int8_t *row = img + y * p->in_w * c;
        const int8_t *src = rowbuf;
        if (run_inside) {
            src = row + x0 * c;
        } else {
            for (int32_t kx = kx_lo; kx < kx_hi; ++kx) {
                const int8_t *tap = row + (x0 + kx * p->dil_w) * c;
                for (int32_t i = 0; i < c; ++i) {
                    rowbuf[kx * c + i] = tap[i];
                }
            }
        }
        dst = widen_short(dst, src, nw);
        for (int32_t r = 0; r < rem; ++r) {
            t[r] = src[4 * nw + r];
        }
    }
    (void)widen_short(dst, tail, (p->k_h * rem + 3) / 4);
}

/* in_c % 4 != 0, dil_w == 1: 3 pixels of a row whose fields lie inside the image, pixel 0's
 * from s, the others step and 2 * step bytes further: per kernel row the whole words of the 3
 * pixels, their R % 4 last bytes to the 3 tails (tail_step bytes apart), widened last. */
static __attribute__((noinline)) void field3_rows(const tcc_arm_conv8_params *p, const int8_t *s, int32_t step, uint32_t *col,
                        int8_t *tail, int32_t tail_step)
{
    const int32_t run = p->k_w * p->in_c, nw = run / 4, rem = run % 4;
    const int32_t row_step = p->dil_h * p->in_w * p->in_c;
    uint32_t *d0 = col, *d1 = col + 2 * p->groups, *d2 = col + 4 * p->groups;
    int8_t *t = tail;
    for (int32_t ky = 0; ky < p->k_h; ++ky, s += row_step, t += rem) {
        for (int32_t g = 0; g < nw; ++g, d0 += 2, d1 += 2, d2 += 2) {
            const uint32_t v0 = tcc_ld32(s + 4 * g), v1 = tcc_ld32(s + step + 4 * g);
            const uint32_t v2 = tcc_ld32(s + 2 * step + 4 * g);
            d0[0] = tcc_sxtb16(v0);
            d0[1] = tcc_sxtb16_ror8(v0);
            d1[0] = tcc_sxtb16(v1);
            d1[1] = tcc_sxtb16_ror8(v1);
            d2[0] = tcc_sxtb16(v2);
            d2[1] = tcc_sxtb16_ror8(v2);
        }
        for (int32_t r = 0; r < rem; ++r) {
            t[r] = s[4 * nw + r];
            t[tail_step + r] = s[step + 4 * nw + r];
            t[2 * tail_step + r] = s[2 * step + 4 * nw + r];
        }
    }
    const int32_t tw = tail_step / 4;
    (void)widen_short(d0, tail, tw);
    (void)widen_short(d1, tail + tail_step, tw);
    (void)widen_short(d2, tail + 2 * tail_step, tw);
}
#endif

typedef void (*c8_pairs_fn)(const c8_ctx *ctx, const int32_t *stream);

/* The driver of both entry points: `pairs` the pair loop, `gw` its stream words per group.
 * Compiled even when both entry points are left out (`used`): it is the file's base, which
 * scripts/measure_kernel_code.py measures once, not once per entry point. */
static C8_COLD __attribute__((used)) void conv8(const tcc_arm_conv8_params *p, const int8_t *in, int8_t *out,
                                            void *scratch, c8_pairs_fn pairs, int32_t gw)
{
    const int32_t groups = p->groups;
    uint32_t *col = (uint32_t *)scratch;                        /* 3 columns of 2 * groups words */
    /* in_c % 4 != 0: a kernel row (R = k_w * in_c bytes, rounded up to 4) and the rows' tails
     * (k_h * (R % 4) bytes, rounded up to 4) */
    int8_t *rowbuf = (int8_t *)(col + PIX * 2 * groups);
    int8_t *tail = rowbuf + TCC_ARM_CONV8_K4(p->k_w * p->in_c);
    const int32_t tail_step = TCC_ARM_CONV8_K4(p->k_h * (p->k_w * p->in_c % 4));
    const int32_t words = !C8_ROWS || p->in_c % 4 == 0;
    /* 3 pixels of a row whose fields lie inside the image (dil_w == 1): the first field starts
     * at y in [0, y_last], x in [0, x_last] */
    const int32_t x_last = p->in_w - p->k_w - 2 * p->stride_w;
#if C8_ROWS
    const int32_t y_last = p->in_h - 1 - (p->k_h - 1) * p->dil_h;
    const int32_t rows3 = !words && p->dil_w == 1 && y_last >= 0 && x_last >= 0;
#endif
    const int32_t row1 = words && p->k_h == 1 && p->dil_w == 1 && x_last >= 0;   /* the same, k_h == 1 */
    /* k_h == 1 and every column's field inside the image: a pixel of a block crossing a row's
     * end is a run of k_w taps (when its row is inside) */
    const int32_t cols_inside = row1 && p->pad_left == 0 && (p->out_w - 1) * p->stride_w + p->k_w <= p->in_w;
    const int32_t pointwise = words && p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1
                              && p->pad_top == 0 && p->pad_left == 0;
    const uint32_t zpw = tcc_splat16(p->in_zp);
    const int32_t plane = p->out_h * p->out_w;
    if (!words) {
        for (int32_t i = p->k_h * (p->k_w * p->in_c % 4); i < tail_step; ++i) {
            tail[i] = tail[tail_step + i] = tail[2 * tail_step + i] = 0;   /* times zero weights */
        }
    }
    c8_ctx c;
    /* a pair's first group runs before the entry; with no other group the entry is the end
     * of the unrolled groups */
    c.skip = groups == 1 ? C8_UNROLL : (C8_UNROLL - (groups - 1) % C8_UNROLL) % C8_UNROLL;
    c.col = col;
    c.col_end = col + 2 * groups;
    c.stream_end = p->stream + p->out_c / 2 * (2 + gw * groups + 4);
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * p->in_c;
        int8_t *o = out + b * plane * p->out_c;
        int32_t oy = 0;
        if (p->band) {
            /* p->band blocks of 3 output rows at a time (fewer where the rows run out), column
             * by column: the kernel rows of their pixels' fields are k_h + (3 band - 1) *
             * stride_h input rows (a strip, k_w taps wide), widened once; pixel q of block k
             * has the field from the strip's row (3 k + q) * stride_h on */
            const int32_t run = p->k_w * p->in_c / 4, row_bytes = p->in_w * p->in_c;
            c.step = p->stride_h * p->k_w * p->in_c * 2;
            c.off1 = p->out_w * p->out_c;
            c.off2 = 2 * c.off1;
            for (int32_t nb; (nb = (p->out_h - oy) / PIX) > 0; oy += PIX * nb) {
                nb = nb < p->band ? nb : p->band;
                const int32_t rows = p->k_h + (PIX * nb - 1) * p->stride_h;
                const int32_t y0 = oy * p->stride_h - p->pad_top;
                const int32_t rows_inside = y0 >= 0 && y0 + rows <= p->in_h && p->dil_w == 1;
                for (int32_t ox = 0; ox < p->out_w; ++ox) {
                    const int32_t x0 = ox * p->stride_w - p->pad_left;
                    if (rows_inside && x0 >= 0 && x0 + p->k_w <= p->in_w) {   /* the strip lies inside */
                        (void)widen_rows(col, img + y0 * row_bytes + x0 * p->in_c, run, rows, row_bytes - 4 * run);
                    } else {
                        field_words(p, img, y0, x0, rows, col, zpw);
                    }
                    for (int32_t k = 0; k < nb; ++k) {
                        c.col = (const uint32_t *)(const void *)((const uint8_t *)col + PIX * k * c.step);
                        c.col_end = c.col + 2 * groups;
                        c.out = o + ((oy + PIX * k) * p->out_w + ox) * p->out_c;
                        pairs(&c, p->stream);
                    }
                }
            }
            c.col = col;
            c.col_end = col + 2 * groups;
        }
        /* the other pixels 3 at a time along the rows; a short last block computes copies
         * of its last pixel */
        int32_t y = oy, x = 0;
        for (int32_t i = oy * p->out_w; i < plane; i += PIX) {
            const int32_t n = plane - i < PIX ? plane - i : PIX;
            if (pointwise && n == PIX) {    /* the 3 pixels' channels are consecutive */
                (void)widen_rows(col, img + i * p->in_c, PIX * p->in_c / 4, 1, 0);
                c.step = 2 * p->in_c;
            } else if (row1 && n == PIX && x + 2 < p->out_w && (uint32_t)(y * p->stride_h - p->pad_top) < (uint32_t)p->in_h
                       && (uint32_t)(x * p->stride_w - p->pad_left) <= (uint32_t)x_last) {
                /* one kernel row, 3 pixels of a row inside the image: 3 runs of k_w taps */
                const int32_t run = p->k_w * p->in_c / 4;
                (void)widen_rows(col, img + ((y * p->stride_h - p->pad_top) * p->in_w + x * p->stride_w - p->pad_left) * p->in_c,
                                 run, PIX, p->stride_w * p->in_c - 4 * run);
                c.step = 8 * groups;
                if ((x += PIX) == p->out_w) {
                    x = 0;
                    ++y;
                }
#if C8_ROWS
            } else if (rows3 && n == PIX && x + 2 < p->out_w
                       && (uint32_t)(y * p->stride_h - p->pad_top) <= (uint32_t)y_last
                       && (uint32_t)(x * p->stride_w - p->pad_left) <= (uint32_t)x_last) {
                field3_rows(p, img + ((y * p->stride_h - p->pad_top) * p->in_w + x * p->stride_w - p->pad_left) * p->in_c,
                            p->stride_w * p->in_c, col, tail, tail_step);
                c.step = 8 * groups;
                if ((x += PIX) == p->out_w) {
                    x = 0;
                    ++y;
                }
#endif
            } else {
                if (pointwise) {    /* the short last block */
                    y = i / p->out_w;
                    x = i % p->out_w;
                }
                c.step = 8 * groups;
                for (int32_t q = 0; q < PIX; ++q) {
                    uint32_t *dst = col + q * 2 * groups;
                    const int32_t y0 = y * p->stride_h - p->pad_top, x0 = x * p->stride_w - p->pad_left;
                    if (cols_inside && (uint32_t)y0 < (uint32_t)p->in_h) {
                        (void)widen_rows(dst, img + (y0 * p->in_w + x0) * p->in_c, p->k_w * p->in_c / 4, 1, 0);
                    } else if (words) {
                        field_words(p, img, y0, x0, p->k_h, dst, zpw);
                    }
#if C8_ROWS
                    else {
                        field_rows(p, img, y0, x0, dst, rowbuf, tail, zpw);
                    }
#endif
                    if (q + 1 < n && ++x == p->out_w) {
                        x = 0;
                        ++y;
                    }
                }
                if (++x == p->out_w) {    /* the next block's first pixel */
                    x = 0;
                    ++y;
                }
            }
            c.out = o + i * p->out_c;
            c.off1 = n > 1 ? p->out_c : 0;
            c.off2 = n > 2 ? 2 * p->out_c : c.off1;
            pairs(&c, p->stream);
        }
    }
}

#ifndef TCC_OMIT_ARM_CONV8_S8
void tcc_arm_conv8_s8(const tcc_arm_conv8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    conv8(p, in, out, scratch, c8_pairs, 2);
}
#endif

#ifndef TCC_OMIT_ARM_CONV8W_S8
void tcc_arm_conv8w_s8(const tcc_arm_conv8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    conv8(p, in, out, scratch, c8w_pairs, 4);
}
#endif
