/* tinycc runtime, Cortex-M DSP: CONV_2D int8 for few input channels (see tcc_arm_convk.h).
 *
 * Same semantics as tcc_conv2d_s8 (TFLite ConvPerChannel): the input zero point is folded into
 * the bias, so a padded tap reads in_zp and the loop is a plain dot product.
 *
 * Where the time goes in a first layer: K = k_h * k_w * in_c is small (27 for a 3x3 RGB layer,
 * 40 for a 10x4 spectrogram one), so the im2col of every output pixel weighs as much as its
 * dot products. Here it has no border cases (the rows come padded from the ring) and is a few
 * word loads and SXTB16 per kernel row; the pair loop below reads the 3 pixels' columns
 * interleaved, from one pointer (no step register: the output pointer stays in a register).
 */
#include "tcc_arm_convk.h"
#include "tcc_arm_dsp.h"

#include <stddef.h>

#if defined(__ARM_FEATURE_DSP) && !defined(__GNUC__)
#error "tcc_arm_convk.c: the DSP code path is GNU inline asm; build with gcc or clang"
#endif

#define PIX TCC_ARM_CONVK_PIX
#define MAXG TCC_ARM_CONVK_MAX_GROUPS

/* What the pair loop reads (copied to its stack; offsets used by the asm below). */
typedef struct {
    int32_t skip;                 /* the unrolled groups a pair skips: becomes its entry */
    const uint32_t *col;          /* the 3 pixels' columns, interleaved */
    int8_t *out;                  /* pixel 0's channel 0 */
    int32_t off1, off2;           /* pixels 1 and 2 - pixel 0 (bytes) */
    const int32_t *stream_end;
    const uint32_t *col_end;      /* col + 6 * groups */
} ck_ctx;
#if TCC_ARM_HAVE_DSP   /* the asm loads the context with one LDM (32-bit pointers) */
#define CK_STATIC_OFFSET(field, off) typedef char ck_ctx_##field##_ok[offsetof(ck_ctx, field) == (off) ? 1 : -1]
CK_STATIC_OFFSET(skip, 0);
CK_STATIC_OFFSET(col, 4);
CK_STATIC_OFFSET(out, 8);
CK_STATIC_OFFSET(off1, 12);
CK_STATIC_OFFSET(off2, 16);
CK_STATIC_OFFSET(stream_end, 20);
CK_STATIC_OFFSET(col_end, 24);
#endif
/* What ck_widen3 widens: `rows` runs of `nw` words (then `skip` bytes on), then `tail_words`
 * words of the tails (3 pixels tail_step bytes apart). */
typedef struct {
    int32_t nw, rows, skip, tail_words;
    const int8_t *tails;
    int32_t tail_step;
} ck_geo;
#if TCC_ARM_HAVE_DSP
typedef char ck_geo_ok[offsetof(ck_geo, tail_words) == 12 && offsetof(ck_geo, tails) == 16
                      && offsetof(ck_geo, tail_step) == 20 ? 1 : -1];
#endif
typedef char ck_stream_records_ok[sizeof(tcc_arm_conv8_head) == 8 && sizeof(tcc_arm_conv8_tail) == 16 ? 1 : -1];

#define CK_ARG __attribute__((unused))
#define CK_UNROLL8 5      /* groups per pass of the int8 stream's loop (flash: 96 bytes a group) */
/* The driver and the ring's row copies: compiled for size (flash is what the fast kernels
 * spend; the time goes into the pair loop and the im2col). */
#if defined(__GNUC__) && !defined(__clang__)
#define CK_COLD __attribute__((noinline, optimize("Os", "no-tree-loop-distribute-patterns")))
#define CK_SMALL __attribute__((optimize("Os", "no-tree-loop-distribute-patterns")))
#define CK_FAST __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define CK_COLD __attribute__((noinline))
#define CK_SMALL
#define CK_FAST
#endif

#if TCC_ARM_HAVE_DSP
/* Half a group of the int8 stream (2 reduction values of both channels, 3 pixels): r0-r2
 * channel a x pixels 0-2, r3-r5 channel b, r6-r8 the pixels' column words (consecutive: one
 * pointer, r12), r9 the stream word (a, b, a, b bytes; lr), r11 its a pair. Cycles: 2 + 1 + 1 +
 * 1 (pipelined loads), 8 = 13 for 12 MACs. A0..B2: what the products add to (the accumulators,
 * or in a pair's first group the biases r0 and r3). */
#define CK_HALF_ACC(A0, A1, A2, B0, B1, B2)                                                 \
    "ldr.w  r9, [lr], #4\n\t"                                                               \
    "ldr.w  r7, [r12, #4]\n\t"                                                              \
    "ldr.w  r8, [r12, #8]\n\t"                                                              \
    "ldr.w  r6, [r12], #12\n\t"                                                             \
    "sxtb16 r11, r9\n\t"                                                                    \
    "smlad  r1, r7, r11, " A1 "\n\t"                                                        \
    "smlad  r2, r8, r11, " A2 "\n\t"                                                        \
    "smlad  r0, r6, r11, " A0 "\n\t"                                                        \
    "sxtb16 r9, r9, ror #8\n\t"                                                             \
    "smlad  r4, r7, r9, " B1 "\n\t"                                                         \
    "smlad  r5, r8, r9, " B2 "\n\t"                                                         \
    "smlad  r3, r6, r9, " B0 "\n\t"
/* The widened stream: the pair words of a (r9) and b (r11). 2 + 1 + 1 + 1 + 1, 6 = 12 cycles. */
#define CKW_HALF_ACC(A0, A1, A2, B0, B1, B2)                                                \
    "ldr.w  r11, [lr, #4]\n\t"                                                              \
    "ldr.w  r9, [lr], #8\n\t"                                                               \
    "ldr.w  r7, [r12, #4]\n\t"                                                              \
    "ldr.w  r8, [r12, #8]\n\t"                                                              \
    "ldr.w  r6, [r12], #12\n\t"                                                             \
    "smlad  r1, r7, r9, " A1 "\n\t"                                                         \
    "smlad  r2, r8, r9, " A2 "\n\t"                                                         \
    "smlad  r0, r6, r9, " A0 "\n\t"                                                         \
    "smlad  r4, r7, r11, " B1 "\n\t"                                                        \
    "smlad  r5, r8, r11, " B2 "\n\t"                                                        \
    "smlad  r3, r6, r11, " B0 "\n\t"
#define CK_HALF CK_HALF_ACC("r0", "r1", "r2", "r3", "r4", "r5")
#define CKW_HALF CKW_HALF_ACC("r0", "r1", "r2", "r3", "r4", "r5")
#define CK_GROUP CK_HALF CK_HALF                                   /* 96 bytes, 26 cycles */
#define CKW_GROUP CKW_HALF CKW_HALF                                /* 88 bytes, 24 cycles */
#define CK_GROUPS10(G) G G G G G G G G G G
#define CK_GROUPS5(G) G G G G G
typedef char ck_unroll_ok[MAXG == 10 ? 1 : -1];   /* CK_GROUPS10 repeats a group MAXG times */

/* shift - 1 of a channel from its add = (2 * out_zp + 1) << (shift - 1): 2 cycles */
#define CK_SHIFT(S, ADD)                                                                    \
    "rbit   " S ", " ADD "\n\t"                                                             \
    "clz    " S ", " S "\n\t"
/* Requantize the doubled accumulator A: tcc_arm_rq_pos with S = shift - 1, SSAT shifting the
 * last bit: 4 cycles. */
#define CK_RQ(A, M, ADD, S)                                                                 \
    "smmlar r12, " A ", " M ", " ADD "\n\t"                                                 \
    "add    " A ", r12, " A ", asr #31\n\t"                                                 \
    "asr    " A ", " A ", " S "\n\t"                                                        \
    "ssat   " A ", #8, " A ", asr #1\n\t"
#define CK_STR(x) #x
#define CK_XSTR(x) CK_STR(x)

/* Every channel pair of one block (ctx, stream). START begins a pair (its biases in r0 and r3,
 * the column pointer in r12) and enters the unrolled GROUPS (BYTES each) at the computed entry
 * (sp + 0); PASSES ends them (or loops back for the next pass). Then 5 + 4 + 24 to requantize,
 * 3 + 3 + 3 to store the 3 halfwords (out in r10) and 5 to loop. Stack: 9 saved registers and
 * 6 context words (60 bytes). */
#define CK_PAIRS_ASM(START, GROUPS, BYTES, N, PASSES)                                        \
    "push   {r4-r11, lr}\n\t"                                                               \
    "mov    lr, r1\n\t"                                                                     \
    "ldm    r0, {r0-r6}\n\t"                 /* skip, col, out, off1, off2, stream_end, col_end */ \
    "adr    r7, 10f\n\t"                                                                    \
    "mov    r8, #" CK_XSTR(BYTES) "\n\t"                                                    \
    "mla    r0, r0, r8, r7\n\t"              /* the entry: 10f + skip * BYTES */            \
    "orr    r0, r0, #1\n\t"                                                                 \
    "mov    r10, r2\n\t"                     /* out, kept in r10 throughout */              \
    "push   {r0, r1, r3, r4, r5, r6}\n"      /* sp: entry, col, off1, off2, stream_end, col_end */ \
    "2:\n\t"                                                                                \
    "ldm    lr!, {r0, r3}\n\t"               /* tcc_arm_conv8_head */                       \
    "ldr    r12, [sp, #4]\n\t"                                                              \
    START                                                                                   \
    "ldr    pc, [sp]\n\t"                                                                   \
    ".p2align 2\n"                                                                          \
    "10:\n\t"                                                                               \
    GROUPS                                                                                  \
    "11:\n\t"                                                                               \
    ".if (11b - 10b) != " CK_XSTR(N) " * " CK_XSTR(BYTES) "\n\t"                             \
    ".error \"ck pairs: a group is not " CK_XSTR(BYTES) " bytes\"\n\t"                      \
    ".endif\n\t"                                                                            \
    PASSES                                                                                  \
    "ldm    lr!, {r6-r9}\n\t"                /* tcc_arm_conv8_tail */                       \
    CK_SHIFT("r11", "r7")                                                                   \
    CK_RQ("r0", "r6", "r7", "r11")                                                          \
    CK_RQ("r1", "r6", "r7", "r11")                                                          \
    CK_RQ("r2", "r6", "r7", "r11")                                                          \
    CK_SHIFT("r11", "r9")                                                                   \
    CK_RQ("r3", "r8", "r9", "r11")                                                          \
    CK_RQ("r4", "r8", "r9", "r11")                                                          \
    CK_RQ("r5", "r8", "r9", "r11")                                                          \
    "bfi    r0, r3, #8, #8\n\t"              /* a pixel's 2 channels: one halfword */       \
    "bfi    r1, r4, #8, #8\n\t"                                                             \
    "bfi    r2, r5, #8, #8\n\t"                                                             \
    "ldr    r6, [sp, #8]\n\t"                                                               \
    "ldr    r7, [sp, #12]\n\t"                                                              \
    "strh   r1, [r10, r6]\n\t"                                                              \
    "strh   r2, [r10, r7]\n\t"                                                              \
    "strh   r0, [r10], #2\n\t"                                                              \
    "ldr    r6, [sp, #16]\n\t"                                                              \
    "cmp    lr, r6\n\t"                                                                     \
    "bne    2b\n\t"                                                                         \
    "add    sp, #24\n\t"                                                                    \
    "pop    {r4-r11, pc}\n\t"
/* The int8 stream: the accumulators start from the biases (4 cycles), every group runs in
 * passes of CK_UNROLL8 (the first entered at skip = (5 - groups % 5) % 5), 6 cycles a pass
 * (4 the last). */
#define CK_START_MOV                                                                        \
    "mov    r1, r0\n\t"                                                                     \
    "mov    r2, r0\n\t"                                                                     \
    "mov    r4, r3\n\t"                                                                     \
    "mov    r5, r3\n\t"
#define CK_PASSES                                                                           \
    "ldr    r11, [sp, #20]\n\t"                                                             \
    "cmp    r12, r11\n\t"                                                                   \
    "bne    10b\n\t"
/* The widened stream: a pair's first group adds to the biases (FIRST), the other groups in one
 * pass (skip = MAXG + 1 - groups). */
#define CKW_FIRST CKW_HALF_ACC("r0", "r0", "r0", "r3", "r3", "r3") CKW_HALF

#ifndef TCC_OMIT_ARM_CONVK_S8
static __attribute__((naked, noinline)) void ck_pairs(CK_ARG const ck_ctx *ctx, CK_ARG const int32_t *stream)
{
    __asm__ volatile(CK_PAIRS_ASM(CK_START_MOV, CK_GROUPS5(CK_GROUP), 96, CK_UNROLL8, CK_PASSES));
}
#endif

#ifndef TCC_OMIT_ARM_CONVKW_S8
static __attribute__((naked, noinline)) void ckw_pairs(CK_ARG const ck_ctx *ctx, CK_ARG const int32_t *stream)
{
    __asm__ volatile(CK_PAIRS_ASM(CKW_FIRST, CK_GROUPS10(CKW_GROUP), 88, MAXG, ""));
}
#endif

#else
/* 1 + the number of trailing zero bits of add (odd << (shift - 1)) */
static int32_t ck_shift(int32_t add)
{
    int32_t n = 1;
    for (uint32_t v = (uint32_t)add; (v & 1u) == 0; v >>= 1) {
        ++n;
    }
    return n;
}

/* The pair loop in C: `wide` 0 reads a stream word per half group, 1 the pair words of a and b. */
static void ck_pairs_c(const ck_ctx *c, const int32_t *s, int32_t wide)
{
    const int32_t groups = (int32_t)(c->col_end - c->col) / (2 * PIX);
    int8_t *o = c->out;
    const int32_t off[PIX] = {0, c->off1, c->off2};
    while (s != c->stream_end) {
        const tcc_arm_conv8_head *h = (const tcc_arm_conv8_head *)s;
        int32_t acc[2][PIX] = {{h->bias_a, h->bias_a, h->bias_a}, {h->bias_b, h->bias_b, h->bias_b}};
        const uint32_t *w = (const uint32_t *)(s + 2);
        for (int32_t j = 0; j < 2 * groups; ++j) {    /* the halves of the groups */
            const uint32_t wa = wide ? w[2 * j] : tcc_sxtb16(w[j]);
            const uint32_t wb = wide ? w[2 * j + 1] : tcc_sxtb16_ror8(w[j]);
            for (int32_t q = 0; q < PIX; ++q) {
                acc[0][q] = tcc_smlad(c->col[PIX * j + q], wa, acc[0][q]);
                acc[1][q] = tcc_smlad(c->col[PIX * j + q], wb, acc[1][q]);
            }
        }
        const tcc_arm_conv8_tail *t = (const tcc_arm_conv8_tail *)(s + 2 + (2 + 2 * wide) * groups);
        const int32_t shift_a = ck_shift(t->add_a), shift_b = ck_shift(t->add_b);
        for (int32_t q = 0; q < PIX; ++q) {
            o[off[q]] = (int8_t)tcc_arm_rq_pos(acc[0][q], t->mult_a, t->add_a, shift_a);
            o[off[q] + 1] = (int8_t)tcc_arm_rq_pos(acc[1][q], t->mult_b, t->add_b, shift_b);
        }
        o += 2;
        s = (const int32_t *)(t + 1);
    }
}

#ifndef TCC_OMIT_ARM_CONVK_S8
static void ck_pairs(const ck_ctx *c, const int32_t *s)
{
    ck_pairs_c(c, s, 0);
}
#endif

#ifndef TCC_OMIT_ARM_CONVKW_S8
static void ckw_pairs(const ck_ctx *c, const int32_t *s)
{
    ck_pairs_c(c, s, 1);
}
#endif
#endif

/* dst[0 .. n) = in_zp */
static __attribute__((noinline)) CK_FAST void ck_fill(int8_t *dst, int32_t n, const tcc_arm_convk_params *p)
{
    const uint32_t zpw = tcc_splat8(p->in_zp);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        tcc_st32(dst + i, zpw);
    }
    for (; i < n; ++i) {
        dst[i] = (int8_t)p->in_zp;
    }
}

/* Padded row yp (image row yp - pad_top) of the batch's image into the ring slot dst: pad_left
 * pixels of in_zp, the image's pixels as many as fit strip_w, in_zp for the rest (all of it above
 * and below the image). */
static __attribute__((noinline)) CK_FAST void ring_row(const tcc_arm_convk_params *p, const int8_t *img, int32_t yp,
                                                     int8_t *dst)
{
    const int32_t c = p->in_c, y = yp - p->pad_top, n = p->strip_w * c;
    if (y < 0 || y >= p->in_h) {
        ck_fill(dst, n, p);
        return;
    }
    const int32_t left = p->pad_left * c;
    const int32_t w = (p->strip_w - p->pad_left < p->in_w ? p->strip_w - p->pad_left : p->in_w) * c;
    const int8_t *src = img + y * p->in_w * c;
    ck_fill(dst, left, p);
    dst += left;
    int32_t i = 0;
    for (; i + 4 <= w; i += 4) {
        tcc_st32(dst + i, tcc_ld32(src + i));
    }
    for (; i < w; ++i) {
        dst[i] = src[i];
    }
    ck_fill(dst + w, n - left - w, p);
}

#if TCC_ARM_HAVE_DSP
/* (dst, a, db, dc, geo): widen `rows` runs of `nw` words of 3 pixels (pixel 0's from a, pixel
 * 1's db and pixel 2's dc bytes further; a run then skip bytes on), then one run of tail_words
 * from the tails, to their interleaved pair words, 6 a word: 3 pipelined loads, 6 SXTB16
 * (DOUBLE: and 6 SADD16), 2 STM of 3, loop: 22 (28) cycles a word, 6 a run, 14 to start the
 * tails. Stack: 9 saved registers. */
#define CK_WIDEN3_ASM(DOUBLE)                                                               \
    "push   {r4-r11, lr}\n\t"                                                               \
    "ldr    r5, [sp, #36]\n\t"                                                              \
    "ldm    r5, {r4-r6}\n\t"                 /* nw, rows, skip */                           \
    "cbz    r4, 3f\n"                                                                       \
    "1:\n\t"                                                                                \
    "mov    r7, r4\n"                                                                       \
    "2:\n\t"                                                                                \
    "ldr    r9, [r1, r2]\n\t"                                                               \
    "ldr    r10, [r1, r3]\n\t"                                                              \
    "ldr    r8, [r1], #4\n\t"                                                               \
    "sxtb16 r11, r8\n\t"                                                                    \
    "sxtb16 r12, r9\n\t"                                                                    \
    "sxtb16 lr, r10\n\t"                                                                    \
    DOUBLE("r11") DOUBLE("r12") DOUBLE("lr")                                                \
    "stmia  r0!, {r11, r12, lr}\n\t"                                                        \
    "sxtb16 r8, r8, ror #8\n\t"                                                             \
    "sxtb16 r9, r9, ror #8\n\t"                                                             \
    "sxtb16 r10, r10, ror #8\n\t"                                                           \
    DOUBLE("r8") DOUBLE("r9") DOUBLE("r10")                                                 \
    "stmia  r0!, {r8-r10}\n\t"                                                              \
    "subs   r7, r7, #1\n\t"                                                                 \
    "bne    2b\n\t"                                                                         \
    "add    r1, r1, r6\n\t"                                                                 \
    "subs   r5, r5, #1\n\t"                                                                 \
    "bne    1b\n"                                                                           \
    "3:\n\t"                                 /* then the tails, one run (once: the stacked */ \
    "ldr    r5, [sp, #36]\n\t"               /* geo argument becomes 0) */                  \
    "cbz    r5, 4f\n\t"                                                                     \
    "ldr    r4, [r5, #12]\n\t"                                                              \
    "cbz    r4, 4f\n\t"                                                                     \
    "ldr    r1, [r5, #16]\n\t"                                                              \
    "ldr    r2, [r5, #20]\n\t"                                                              \
    "add    r3, r2, r2\n\t"                                                                 \
    "movs   r5, #0\n\t"                                                                     \
    "str    r5, [sp, #36]\n\t"                                                              \
    "movs   r5, #1\n\t"                                                                     \
    "b      1b\n"                                                                           \
    "4:\n\t"                                                                                \
    "pop    {r4-r11, pc}\n\t"
#define CK_SADD16(R) "sadd16 " R ", " R ", " R "\n\t"
#define CK_NONE(R)

#ifndef TCC_OMIT_ARM_CONVK_S8
static __attribute__((naked, noinline)) void ck_widen3_dbl(CK_ARG uint32_t *dst, CK_ARG const int8_t *a,
                                                           CK_ARG int32_t db, CK_ARG int32_t dc,
                                                           CK_ARG const ck_geo *geo)
{
    __asm__ volatile(CK_WIDEN3_ASM(CK_SADD16));
}
#endif

#ifndef TCC_OMIT_ARM_CONVKW_S8
static __attribute__((naked, noinline)) void ck_widen3(CK_ARG uint32_t *dst, CK_ARG const int8_t *a,
                                                       CK_ARG int32_t db, CK_ARG int32_t dc, CK_ARG const ck_geo *geo)
{
    __asm__ volatile(CK_WIDEN3_ASM(CK_NONE));
}
#endif
/* (t, a, db, dc, geo = {rem, rows, skip, tail_step}): the `rem` (>= 1) last bytes of `rows`
 * kernel rows of the 3 pixels (pixel 0's from a, the others db and dc bytes further; a row's
 * then skip bytes on) to the 3 pixels' tails, tail_step bytes apart: 3 loads and 3 stores a
 * byte, 10 cycles; 3 a row. Stack: 6 saved registers. */
static __attribute__((naked, noinline)) void ck_gather3(CK_ARG int8_t *t, CK_ARG const int8_t *a, CK_ARG int32_t db,
                                                        CK_ARG int32_t dc, CK_ARG const int32_t *geo)
{
    __asm__ volatile(
        "push   {r4-r8, lr}\n\t"
        "ldr    r4, [sp, #24]\n\t"
        "ldm    r4, {r4-r7}\n"                   /* rem, rows, skip, tail_step */
        "1:\n\t"
        "mov    r8, r4\n"
        "2:\n\t"
        "ldrb   r12, [r1, r2]\n\t"
        "ldrb   lr, [r1, r3]\n\t"
        "strb   r12, [r0, r7]\n\t"
        "ldrb   r12, [r1], #1\n\t"
        "strb   lr, [r0, r7, lsl #1]\n\t"
        "strb   r12, [r0], #1\n\t"
        "subs   r8, r8, #1\n\t"
        "bne    2b\n\t"
        "add    r1, r1, r6\n\t"
        "subs   r5, r5, #1\n\t"
        "bne    1b\n\t"
        "pop    {r4-r8, pc}\n\t");
}
#else
TCC_ARM_INLINE uint32_t ck_double(uint32_t x) { return tcc_pack16(2 * tcc_lo16(x), 2 * tcc_hi16(x)); }

static uint32_t *ck_widen3_run(uint32_t *dst, const int8_t *a, int32_t db, int32_t dc, int32_t nw, int32_t rows,
                               int32_t skip, int32_t dbl)
{
    for (int32_t r = 0; r < rows; ++r, a += skip) {
        for (int32_t g = 0; g < nw; ++g, a += 4, dst += 2 * PIX) {
            const uint32_t v[PIX] = {tcc_ld32(a), tcc_ld32(a + db), tcc_ld32(a + dc)};
            for (int32_t q = 0; q < PIX; ++q) {
                dst[q] = dbl ? ck_double(tcc_sxtb16(v[q])) : tcc_sxtb16(v[q]);
                dst[PIX + q] = dbl ? ck_double(tcc_sxtb16_ror8(v[q])) : tcc_sxtb16_ror8(v[q]);
            }
        }
    }
    return dst;
}

static void ck_widen3_any(uint32_t *dst, const int8_t *a, int32_t db, int32_t dc, const ck_geo *geo, int32_t dbl)
{
    dst = ck_widen3_run(dst, a, db, dc, geo->nw, geo->rows, geo->skip, dbl);
    (void)ck_widen3_run(dst, geo->tails, geo->tail_step, 2 * geo->tail_step, geo->tail_words, 1, 0, dbl);
}

#ifndef TCC_OMIT_ARM_CONVK_S8
static void ck_widen3_dbl(uint32_t *dst, const int8_t *a, int32_t db, int32_t dc, const ck_geo *geo)
{
    ck_widen3_any(dst, a, db, dc, geo, 1);
}
#endif

#ifndef TCC_OMIT_ARM_CONVKW_S8
static void ck_widen3(uint32_t *dst, const int8_t *a, int32_t db, int32_t dc, const ck_geo *geo)
{
    ck_widen3_any(dst, a, db, dc, geo, 0);
}
#endif
#endif

#if !TCC_ARM_HAVE_DSP
static void ck_gather3(int8_t *t, const int8_t *a, int32_t db, int32_t dc, const int32_t *geo)
{
    for (int32_t r = 0; r < geo[1]; ++r, a += geo[2]) {
        for (int32_t k = 0; k < geo[0]; ++k, ++a, ++t) {
            t[0] = a[0];
            t[geo[3]] = a[db];
            t[2 * geo[3]] = a[dc];
        }
    }
}
#endif

typedef void (*ck_widen_fn)(uint32_t *dst, const int8_t *a, int32_t db, int32_t dc, const ck_geo *geo);

typedef void (*ck_pairs_fn)(const ck_ctx *ctx, const int32_t *stream);

/* The driver of both entry points: `pairs` the pair loop, `gw` its stream words per group,
 * `widen` the im2col's widening (doubled or not), `skip` the pair loop's entry.
 *
 * Per block, the interleaved columns of its 3 pixels: pixel q's field is k_h consecutive rows
 * of the ring (with its mirrored rows: no wrap), the first at byte src[q]; the whole words of
 * every kernel row (widen), then the rows' R % 4 last bytes (conv_k_order), gathered into
 * `tails` (3 x tail_step bytes, zero-padded) and widened as one run. */
TCC_ARM_INLINE void convk(const tcc_arm_convk_params *p, const int8_t *in, int8_t *out, void *scratch,
                          ck_pairs_fn pairs, int32_t gw, ck_widen_fn widen, int32_t skip)
{
    const int32_t c_in = p->in_c, k_h = p->k_h, out_c = p->out_c, out_w = p->out_w;
    const int32_t row_bytes = p->strip_w * c_in, ring_bytes = p->strip_rows * row_bytes;
    const int32_t step_x = p->stride_w * c_in, step_y = p->stride_h * row_bytes;
    const int32_t plane = p->out_h * out_w, odd = out_c & 1, pix_bytes = out_c + odd;
    const int32_t run = p->k_w * c_in, nw = run / 4, rem = run % 4;
    const int32_t tail_step = TCC_ARM_CONV8_K4(k_h * rem);
    const int32_t gather_geo[4] = {rem, k_h, row_bytes - rem, tail_step};
    uint32_t *col = (uint32_t *)scratch;                       /* PIX x 2 * groups words, interleaved */
    int8_t *tails = (int8_t *)(col + PIX * 2 * p->groups);     /* PIX x tail_step */
    int8_t *ring = tails + PIX * tail_step;                    /* the ring, then k_h - 1 mirrored rows */
    int8_t *pixels = ring + ring_bytes + (k_h - 1) * row_bytes;   /* odd out_c: PIX x (out_c + 1) */
    const ck_geo geo = {nw, k_h, row_bytes - 4 * nw, tail_step / 4, tails, tail_step};
    ck_ctx c;
    c.skip = skip;
    c.col = col;
    c.col_end = col + 2 * PIX * p->groups;
    c.stream_end = p->stream + pix_bytes / 2 * (2 + gw * p->groups + 4);
    for (int32_t q = 0; q < PIX * tail_step; q += 4) {
        tcc_st32(tails + q, 0);                                /* the padding: times zero weights */
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c_in;
        int8_t *o = out + b * plane * out_c;
        int32_t next = 0;                  /* the next padded row to copy, its slot's offset */
        int32_t next_off = 0;
        int32_t x = 0, xo = 0, row = 0, need = k_h;   /* the next pixel: its column, its byte in its
                                                       * first row, that row's offset in the ring,
                                                       * the rows its field needs */
        for (int32_t i = 0; i < plane; i += PIX, o += PIX * out_c) {
            const int8_t *src[PIX];
            int32_t hi = need;
            for (int32_t q = 0; q < PIX; ++q) {
                src[q] = ring + row + xo;
                hi = need;
                if (i + q + 1 < plane) {        /* the next pixel (a short block repeats its last) */
                    xo += step_x;
                    if (++x == out_w) {
                        x = xo = 0;
                        need += p->stride_h;
                        for (row += step_y; row >= ring_bytes; row -= ring_bytes) {
                        }
                    }
                }
            }
            for (; next < hi; ++next) {
                ring_row(p, img, next, ring + next_off);
                if (next_off < (k_h - 1) * row_bytes) {   /* its mirror after the ring's last row */
                    ring_row(p, img, next, ring + ring_bytes + next_off);
                }
                next_off += row_bytes;
                next_off -= next_off == ring_bytes ? ring_bytes : 0;
            }
            const int32_t db = (int32_t)(src[1] - src[0]), dc = (int32_t)(src[2] - src[0]);
            if (rem) {
                ck_gather3(tails, src[0] + 4 * nw, db, dc, gather_geo);
            }
            widen(col, src[0], db, dc, &geo);
            c.out = odd ? pixels : o;
            c.off1 = i + 1 < plane ? pix_bytes : 0;
            c.off2 = i + 2 < plane ? 2 * pix_bytes : c.off1;
            pairs(&c, p->stream);
            for (int32_t q = 0; odd && q < PIX && i + q < plane; ++q) {
                for (int32_t k = 0; k < out_c; ++k) {
                    o[q * out_c + k] = pixels[q * pix_bytes + k];
                }
            }
        }
    }
}

#ifndef TCC_OMIT_ARM_CONVK_S8
CK_SMALL void tcc_arm_convk_s8(const tcc_arm_convk_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    convk(p, in, out, scratch, ck_pairs, 2, ck_widen3_dbl, (CK_UNROLL8 - p->groups % CK_UNROLL8) % CK_UNROLL8);
}
#endif

#ifndef TCC_OMIT_ARM_CONVKW_S8
CK_FAST void tcc_arm_convkw_s8(const tcc_arm_convk_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    convk(p, in, out, scratch, ckw_pairs, 4, ck_widen3, MAXG + 1 - p->groups);
}
#endif
