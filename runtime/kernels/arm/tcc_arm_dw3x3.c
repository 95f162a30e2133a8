/* tinycc runtime, Cortex-M DSP: DEPTHWISE_CONV_2D 3x3 int8, depth multiplier 1, stride 1 or 2
 * (see tcc_arm.h). Same semantics as tcc_depthwise_s8 (TFLite DepthwiseConvPerChannel, zero
 * point folded into the bias, padded taps read in_zp). A file of its own so that a model using
 * only this kernel does not carry the general one (and vice versa).
 */
#include "tcc_arm.h"
#include "tcc_arm_dsp.h"

/* The record layout in the asm text: numbers from tcc_arm.h, checked against the struct here
 * (a negative array size stops the build if they disagree). */
#define DW_XSTR(x) #x
#define DW_STR(x) DW_XSTR(x)
typedef char tcc_arm_dw3x3_rec_bytes_ok[sizeof(tcc_arm_dw3x3_record) == TCC_ARM_DW3X3_REC_BYTES ? 1 : -1];
typedef char tcc_arm_dw3x3_rec_bias_ok[offsetof(tcc_arm_dw3x3_record, bias) == TCC_ARM_DW3X3_REC_BIAS ? 1 : -1];
typedef char tcc_arm_dw3x3_rec_w_ok[offsetof(tcc_arm_dw3x3_record, w) == TCC_ARM_DW3X3_REC_W ? 1 : -1];
typedef char tcc_arm_dw3x3_rec_rq_ok[offsetof(tcc_arm_dw3x3_record, mult) == 0
                                     && offsetof(tcc_arm_dw3x3_record, shift) == 8 ? 1 : -1];

TCC_ARM_INLINE int32_t dw_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ------------------------------------------------------------------------------------
 * 3x3 via channel-planar int16 lines, a chunk of channels at a time.
 *
 * A "line" is an image row, or a column when the params say transposed (for tall, narrow
 * maps such as 25x5, so that the 4-output blocks run along the long side). The channels are
 * processed in chunks of p->chunk (the scratch holds 3 lines of one chunk, so the caller picks
 * the chunk from the RAM it can spare). For a line of outputs, the 3 input lines it reads are
 * held as int16 planes, one per channel, with in_zp in the padding; a ring of 3 line slots
 * means that with stride 1 each input line is converted once. Per channel, 4 outputs at a
 * time: per line 3 loads and 8 multiply-accumulates (4 SMLAD on pairs of adjacent taps, 4
 * SMLAxy for the single taps).
 * ------------------------------------------------------------------------------------ */

#if TCC_ARM_HAVE_DSP
/* The element pairs of every 4-channel group of a line (see planar_line): groups of 4 planes
 * (plane_bytes apart), per pair of elements 2 LDR, 4 SXTB16, 4 PKH, 4 STR (17 instructions
 * for 8 values with the loop). Context on the stack: sp+0 pairs, 4 groups left, 8 plane_bytes,
 * 12 the group's first plane (advanced per group), 16 4 * plane_bytes. */
typedef struct {
    const int8_t *src;        /* the chunk's first channel of the line's first element */
    int32_t pairs;            /* element pairs (n / 2, >= 1) */
    int32_t elem_step;        /* bytes between elements */
    int32_t groups;           /* 4-channel groups (>= 1) */
    int32_t plane_bytes;      /* 2 * row_len */
    int16_t *dst;             /* the first plane at the line's first column */
} planar4_ctx;

static __attribute__((naked, noinline)) void planar4_asm(__attribute__((unused)) const planar4_ctx *c)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "ldm    r0, {r0-r5}\n\t"          /* r0 src, r1 pairs, r2 elem_step, r3 groups, r4 plane, r5 dst */
        "lsl    r6, r4, #2\n\t"
        "push   {r1, r3, r4, r5, r6}\n"   /* sp+0 pairs, 4 groups, 8 plane, 12 dst, 16 4 * plane */
        "1:\n\t"
        "ldr    lr, [sp]\n\t"               /* pairs */
        "ldr    r4, [sp, #8]\n\t"
        "ldr    r7, [sp, #12]\n\t"
        "add    r8, r7, r4\n\t"
        "add    r9, r8, r4\n\t"
        "add    r10, r9, r4\n\t"
        "mov    r6, r0\n"
        "2:\n\t"
        "ldr    r11, [r6]\n\t"
        "ldr    r12, [r6, r2]\n\t"
        "add    r6, r6, r2, lsl #1\n\t"
        "sxtb16 r1, r11\n\t"
        "sxtb16 r3, r12\n\t"
        "pkhbt  r4, r1, r3, lsl #16\n\t"
        "str    r4, [r7], #4\n\t"
        "pkhtb  r4, r3, r1, asr #16\n\t"
        "str    r4, [r9], #4\n\t"
        "sxtb16 r1, r11, ror #8\n\t"
        "sxtb16 r3, r12, ror #8\n\t"
        "pkhbt  r4, r1, r3, lsl #16\n\t"
        "str    r4, [r8], #4\n\t"
        "pkhtb  r4, r3, r1, asr #16\n\t"
        "str    r4, [r10], #4\n\t"
        "subs   lr, lr, #1\n\t"
        "bne    2b\n\t"
        "add    r0, r0, #4\n\t"
        "ldrd   r4, r5, [sp, #12]\n\t"      /* dst, 4 * plane */
        "add    r4, r4, r5\n\t"
        "str    r4, [sp, #12]\n\t"
        "ldr    r4, [sp, #4]\n\t"
        "subs   r4, r4, #1\n\t"
        "str    r4, [sp, #4]\n\t"
        "bne    1b\n\t"
        "add    sp, #20\n\t"
        "pop    {r4-r11, pc}\n\t");
}
#endif

/* Convert one input line (n elements, elem_step bytes apart, c_n channels each) into the
 * c_n planes at `plane` (row_len int16 each), at columns pad .. pad + n - 1. */
static void planar_line(int16_t *plane, const int8_t *src, int32_t n, int32_t elem_step, int32_t c_n,
                        int32_t row_len, int32_t pad)
{
    int32_t c = 0;
#if TCC_ARM_HAVE_DSP
    if (c_n >= 4 && n >= 2) {
        planar4_ctx x;
        x.src = src;
        x.pairs = n >> 1;
        x.elem_step = elem_step;
        x.groups = c_n >> 2;
        x.plane_bytes = 2 * row_len;
        x.dst = plane + pad;
        planar4_asm(&x);
        c = c_n & ~3;
        if (n & 1) {
            /* the odd last element of every group's 4 planes */
            const int8_t *s = src + (n - 1) * elem_step;
            int16_t *d = plane + pad + n - 1;
            for (int32_t k = 0; k < c; ++k, d += row_len) {
                *d = s[k];
            }
        }
    }
#endif
    for (; c + 4 <= c_n; c += 4) {
        int16_t *d0 = plane + c * row_len + pad;
        int16_t *d1 = d0 + row_len;
        int16_t *d2 = d1 + row_len;
        int16_t *d3 = d2 + row_len;
        const int8_t *s = src + c;
        int32_t x = 0;
        for (; x + 2 <= n; x += 2) {
            const uint32_t a = tcc_ld32(s), b = tcc_ld32(s + elem_step);
            s += 2 * elem_step;
            const uint32_t ea = tcc_sxtb16(a), eb = tcc_sxtb16(b);
            const uint32_t oa = tcc_sxtb16_ror8(a), ob = tcc_sxtb16_ror8(b);
            tcc_st32(d0, tcc_pkhbt(ea, eb));
            tcc_st32(d2, tcc_pkhtb(eb, ea));
            tcc_st32(d1, tcc_pkhbt(oa, ob));
            tcc_st32(d3, tcc_pkhtb(ob, oa));
            d0 += 2;
            d1 += 2;
            d2 += 2;
            d3 += 2;
        }
        if (x < n) {
            *d0 = s[0];
            *d1 = s[1];
            *d2 = s[2];
            *d3 = s[3];
        }
    }
    /* 2 channels: a halfword of each of 2 elements, SXTB16 splits the channels */
    for (; c + 2 <= c_n; c += 2) {
        int16_t *d0 = plane + c * row_len + pad;
        int16_t *d1 = d0 + row_len;
        const int8_t *s = src + c;
        int32_t x = 0;
        for (; x + 2 <= n; x += 2) {
            uint16_t ha, hb;
            memcpy(&ha, s, 2);
            memcpy(&hb, s + elem_step, 2);
            s += 2 * elem_step;
            const uint32_t v = (uint32_t)ha | ((uint32_t)hb << 16);
            tcc_st32(d0 + x, tcc_sxtb16(v));
            tcc_st32(d1 + x, tcc_sxtb16_ror8(v));
        }
        if (x < n) {
            d0[x] = s[0];
            d1[x] = s[1];
        }
    }
    /* one channel: 2 elements per word store */
    for (; c < c_n; ++c) {
        int16_t *d = plane + c * row_len + pad;
        const int8_t *s = src + c;
        int32_t x = 0;
        for (; x + 2 <= n; x += 2) {
            const int32_t a = s[0], b = s[elem_step];
            s += 2 * elem_step;
            tcc_st32(d + x, tcc_pkhbt((uint32_t)a, (uint32_t)b));
        }
        if (x < n) {
            d[x] = s[0];
        }
    }
}

/* Fill n int16 (n even) with zp: 8 words per 2 STM. */
#if TCC_ARM_HAVE_DSP
static __attribute__((naked, noinline)) void fill_words(__attribute__((unused)) uint32_t *dst,
                                                        __attribute__((unused)) int32_t words,
                                                        __attribute__((unused)) uint32_t v)
{
    __asm__ volatile(
        "push   {r4, r5}\n\t"
        "mov    r3, r2\n\t"
        "mov    r4, r2\n\t"
        "mov    r5, r2\n\t"
        "subs   r1, r1, #8\n\t"
        "blt    2f\n"
        "1:\n\t"
        "stmia  r0!, {r2-r5}\n\t"
        "stmia  r0!, {r2-r5}\n\t"
        "subs   r1, r1, #8\n\t"
        "bge    1b\n"
        "2:\n\t"
        "adds   r1, r1, #8\n\t"
        "beq    3f\n"
        "4:\n\t"
        "str    r2, [r0], #4\n\t"
        "subs   r1, r1, #1\n\t"
        "bne    4b\n"
        "3:\n\t"
        "pop    {r4, r5}\n\t"
        "bx     lr\n\t");
}
#else
static void fill_words(uint32_t *dst, int32_t words, uint32_t v)
{
    for (int32_t i = 0; i < words; ++i) {
        dst[i] = v;
    }
}
#endif

static void fill16(int16_t *dst, int32_t n, int32_t zp)
{
    fill_words((uint32_t *)(void *)dst, n / 2, tcc_splat16(zp));
}

/* Per channel record (tinycc/packing.py: pack_depthwise_planar): mult, add, shift at words 0..2 (one LDM),
 * the scaled bias at word 3; for line k = 0..2 the words A_k = (w[k][0], w[k][1]) and
 * D_k = (w[k][1], w[k][2]) at word 4 + 2k, 5 + 2k. With x the line's int16 values from the block's first
 * column and pairs P_j = (x[2j], x[2j+1]) (aligned words):
 *   stride 1: out0 += P0.A + P1.lo*D.hi   out1 += P0.hi*A.lo + P1.D
 *             out2 += P1.A + P2.lo*D.hi   out3 += P1.hi*A.lo + P2.D
 *   stride 2: out_i += P_2i.A + P_2i+1.lo*D.hi                                                */
#if TCC_ARM_HAVE_DSP
/* Line k of a stride-1 block; FIRST: the accumulators start at the bias (held in a3). */
#define DW1_TEXT(k, A0, A1, A2)                                                             \
    "ldrd   %[A], %[D], [%[wk], #16+" #k "*8]\n\t"                                          \
    "ldrd   %[P0], %[P1], [%[r" #k "]], #8\n\t"                                             \
    "smlad  %[a0], %[P0], %[A], " A0 "\n\t"                                                 \
    "smlatb %[a1], %[P0], %[A], " A1 "\n\t"                                                 \
    "ldr    %[P0], [%[r" #k "]]\n\t"                                                        \
    "smlabt %[a0], %[P1], %[D], %[a0]\n\t"                                                  \
    "smlad  %[a1], %[P1], %[D], %[a1]\n\t"                                                  \
    "smlad  %[a2], %[P1], %[A], " A2 "\n\t"                                                 \
    "smlatb %[a3], %[P1], %[A], %[a3]\n\t"                                                  \
    "smlabt %[a2], %[P0], %[D], %[a2]\n\t"                                                  \
    "smlad  %[a3], %[P0], %[D], %[a3]\n\t"
#define DW1_ASM                                                                             \
    "ldr    %[a3], [%[wk], #12]\n\t"                                                        \
    DW1_TEXT(0, "%[a3]", "%[a3]", "%[a3]")                                                  \
    DW1_TEXT(1, "%[a0]", "%[a1]", "%[a2]")                                                  \
    DW1_TEXT(2, "%[a0]", "%[a1]", "%[a2]")

#define DW2_TEXT(k, A0, A1, A2)                                                             \
    "ldrd   %[A], %[D], [%[wk], #16+" #k "*8]\n\t"                                          \
    "ldrd   %[P0], %[P1], [%[r" #k "]], #16\n\t"                                            \
    "smlad  %[a0], %[P0], %[A], " A0 "\n\t"                                                 \
    "smlabt %[a0], %[P1], %[D], %[a0]\n\t"                                                  \
    "smlad  %[a1], %[P1], %[A], " A1 "\n\t"                                                 \
    "ldrd   %[P0], %[P1], [%[r" #k "], #-8]\n\t"                                            \
    "smlabt %[a1], %[P0], %[D], %[a1]\n\t"                                                  \
    "smlad  %[a2], %[P0], %[A], " A2 "\n\t"                                                 \
    "smlabt %[a2], %[P1], %[D], %[a2]\n\t"                                                  \
    "smlad  %[a3], %[P1], %[A], %[a3]\n\t"                                                  \
    "ldr    %[P0], [%[r" #k "]]\n\t"                                                        \
    "smlabt %[a3], %[P0], %[D], %[a3]\n\t"
#define DW2_ASM                                                                             \
    "ldr    %[a3], [%[wk], #12]\n\t"                                                        \
    DW2_TEXT(0, "%[a3]", "%[a3]", "%[a3]")                                                  \
    DW2_TEXT(1, "%[a0]", "%[a1]", "%[a2]")                                                  \
    DW2_TEXT(2, "%[a0]", "%[a1]", "%[a2]")

#define DW_BLOCK_ASM(TEXT)                                                                  \
    do {                                                                                    \
        uint32_t A_, D_, P0_, P1_;                                                          \
        __asm__ volatile(TEXT                                                               \
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3),               \
              [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2),                                  \
              [A] "=&r"(A_), [D] "=&r"(D_), [P0] "=&r"(P0_), [P1] "=&r"(P1_)                \
            : [wk] "r"(wk)                                                                  \
            : "memory");                                                                    \
    } while (0)
#define DW_BLOCK_S1() DW_BLOCK_ASM(DW1_ASM)
#define DW_BLOCK_S2() DW_BLOCK_ASM(DW2_ASM)
#else
#define DW_S1_LINE(k, P)                                                                    \
    do {                                                                                    \
        const uint32_t A_ = wk[4 + 2 * (k)], D_ = wk[5 + 2 * (k)];                              \
        const uint32_t p0_ = tcc_ld32(P), p1_ = tcc_ld32((P) + 2), p2_ = tcc_ld32((P) + 4);  \
        a0 = tcc_smlabt(p1_, D_, tcc_smlad(p0_, A_, a0));                                   \
        a1 = tcc_smlad(p1_, D_, tcc_smlatb(p0_, A_, a1));                                   \
        a2 = tcc_smlabt(p2_, D_, tcc_smlad(p1_, A_, a2));                                   \
        a3 = tcc_smlad(p2_, D_, tcc_smlatb(p1_, A_, a3));                                   \
        (P) += 4;                                                                           \
    } while (0)
#define DW_S2_LINE(k, P)                                                                    \
    do {                                                                                    \
        const uint32_t A_ = wk[4 + 2 * (k)], D_ = wk[5 + 2 * (k)];                              \
        const uint32_t p0_ = tcc_ld32(P), p1_ = tcc_ld32((P) + 2), p2_ = tcc_ld32((P) + 4);  \
        const uint32_t p3_ = tcc_ld32((P) + 6), p4_ = tcc_ld32((P) + 8);                    \
        a0 = tcc_smlabt(p1_, D_, tcc_smlad(p0_, A_, a0));                                   \
        a1 = tcc_smlabt(p2_, D_, tcc_smlad(p1_, A_, a1));                                   \
        a2 = tcc_smlabt(p3_, D_, tcc_smlad(p2_, A_, a2));                                   \
        a3 = tcc_smlabt(p4_, D_, tcc_smlad(p3_, A_, a3));                                   \
        (P) += 8;                                                                           \
    } while (0)
#define DW_BLOCK_S1()                                                                       \
    do {                                                                                    \
        a0 = a1 = a2 = a3 = (int32_t)wk[3];                                                 \
        DW_S1_LINE(0, r0); DW_S1_LINE(1, r1); DW_S1_LINE(2, r2);                            \
    } while (0)
#define DW_BLOCK_S2()                                                                       \
    do {                                                                                    \
        a0 = a1 = a2 = a3 = (int32_t)wk[3];                                                 \
        DW_S2_LINE(0, r0); DW_S2_LINE(1, r1); DW_S2_LINE(2, r2);                            \
    } while (0)
#endif

#if TCC_ARM_HAVE_DSP
/* The stride-1 line of every channel of a chunk in one asm function (no clamp; every channel's
 * shift > 0 or its accumulator 0, so the requantization always adds acc >> 31). Registers:
 * a0..a3 r0..r3, A D P0 P1 r4..r7, the 3 lines r8..r10, the record r11, the output r12, the
 * blocks left lr; the context words are copied to the stack: */
typedef struct {
    const int16_t *l0, *l1, *l2;   /* sp + 0, 4, 8: the channel's lines */
    const int32_t *rec;            /* 12: the channel's record */
    int8_t *out;                   /* 16: the channel's first output */
    const int32_t *rec_end;        /* 20 */
    int32_t st;                    /* 24: bytes between outputs */
    int32_t nblk;                  /* 28: blocks of 4 outputs (the last one maybe partial) */
    int32_t last;                  /* 32: outputs of the last of them, 1..4 */
    int32_t len2;                  /* 36: bytes per plane */
    int32_t n2;                    /* 40: outputs (0..2) of a 2-output block after them */
} dw_s1_asm_ctx;

/* Line k of a 2-output block: out0 += P0.A + P1.lo*D.hi, out1 += P0.hi*A.lo + P1.D */
#define DWA_LINE2(k, R, A0, A1)                                                             \
    "ldrd   r4, r5, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_W) "+" #k "*8]\n\t"                   \
    "ldrd   r6, r7, [" R "]\n\t"                                                            \
    "smlad  r0, r6, r4, " A0 "\n\t"                                                         \
    "smlabt r0, r7, r5, r0\n\t"                                                             \
    "smlatb r1, r6, r4, " A1 "\n\t"                                                         \
    "smlad  r1, r7, r5, r1\n\t"

#define DWA_LINE(k, R, A0, A1, A2)                                                          \
    "ldrd   r4, r5, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_W) "+" #k "*8]\n\t"                   \
    "ldrd   r6, r7, [" R "], #8\n\t"                                                        \
    "smlad  r0, r6, r4, " A0 "\n\t"                                                         \
    "smlatb r1, r6, r4, " A1 "\n\t"                                                         \
    "ldr    r6, [" R "]\n\t"                                                                \
    "smlabt r0, r7, r5, r0\n\t"                                                             \
    "smlad  r1, r7, r5, r1\n\t"                                                             \
    "smlad  r2, r7, r4, " A2 "\n\t"                                                         \
    "smlatb r3, r7, r4, r3\n\t"                                                             \
    "smlabt r2, r6, r5, r2\n\t"                                                             \
    "smlad  r3, r6, r5, r3\n\t"
#define DWA_RQ(A)                                                                           \
    "smmlar r7, " A ", r4, r5\n\t"                                                          \
    "add    " A ", r7, " A ", asr #31\n\t"                                                  \
    "asr    " A ", " A ", r6\n\t"                                                           \
    "ssat   " A ", #8, " A "\n\t"

#define DWA2_LINE(k, R, A0, A1, A2)                                                         \
    "ldrd   r4, r5, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_W) "+" #k "*8]\n\t"                   \
    "ldrd   r6, r7, [" R "], #16\n\t"                                                       \
    "smlad  r0, r6, r4, " A0 "\n\t"                                                         \
    "smlabt r0, r7, r5, r0\n\t"                                                             \
    "smlad  r1, r7, r4, " A1 "\n\t"                                                         \
    "ldrd   r6, r7, [" R ", #-8]\n\t"                                                       \
    "smlabt r1, r6, r5, r1\n\t"                                                             \
    "smlad  r2, r6, r4, " A2 "\n\t"                                                         \
    "smlabt r2, r7, r5, r2\n\t"                                                             \
    "smlad  r3, r7, r4, r3\n\t"                                                             \
    "ldr    r6, [" R "]\n\t"                                                                \
    "smlabt r3, r6, r5, r3\n\t"
#define DWA_BLOCK_S1                                                                        \
    "ldr    r3, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_BIAS) "]\n\t"                             \
    DWA_LINE(0, "r8", "r3", "r3", "r3") \
    DWA_LINE(1, "r9", "r0", "r1", "r2") \
    DWA_LINE(2, "r10", "r0", "r1", "r2")
#define DWA_BLOCK_S2                                                                        \
    "ldr    r3, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_BIAS) "]\n\t"                             \
    DWA2_LINE(0, "r8", "r3", "r3", "r3") \
    DWA2_LINE(1, "r9", "r0", "r1", "r2") \
    DWA2_LINE(2, "r10", "r0", "r1", "r2")
#define DWA_TWO_S1                                                                           \
    "ldr    r3, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_BIAS) "]\n\t"                             \
    DWA_LINE2(0, "r8", "r3", "r3") \
    DWA_LINE2(1, "r9", "r0", "r1") \
    DWA_LINE2(2, "r10", "r0", "r1") \
    "ldm    r11, {r4-r6}\n\t" \
    DWA_RQ("r0") DWA_RQ("r1") \
    "strb   r0, [r12]\n\t" \
    "ldr    r5, [sp, #40]\n\t" \
    "cmp    r5, #1\n\t" \
    "beq    4f\n\t" \
    "ldr    r4, [sp, #24]\n\t" \
    "strb   r1, [r12, r4]\n"
#define DWA_STORE4                                                                          \
            "strb   r0, [r12]\n\t" \
            "strb   r1, [r12, r4]\n\t" \
            "add    r12, r12, r4, lsl #1\n\t" \
            "strb   r2, [r12]\n\t" \
            "strb   r3, [r12, r4]\n\t" \
            "add    r12, r12, r4, lsl #1\n\t"
/* Channel loop: lines r8..r10, record r11 and output r12 live in registers between channels
 * and are advanced together (one LDM/STM of the context's first 5 words). */
#define DW_ASM_FN(NAME, BLOCK, TWO)                                                         \
    static __attribute__((naked, noinline)) void NAME(__attribute__((unused)) const dw_s1_asm_ctx *c) \
    {                                                                                   \
        __asm__ volatile(                                                               \
            "push   {r4-r11, lr}\n\t" \
            "ldm    r0, {r1-r11}\n\t" \
            "push   {r1-r11}\n\t" \
            "ldm    sp, {r8-r12}\n" \
            "0:\n\t" \
            "ldr    lr, [sp, #28]\n\t" \
            "cmp    lr, #0\n\t" \
            "beq    3f\n" \
            "1:\n\t" \
            BLOCK \
            "ldm    r11, {r4-r6}\n\t" \
            DWA_RQ("r0") DWA_RQ("r1") DWA_RQ("r2") DWA_RQ("r3") \
            "ldr    r4, [sp, #24]\n\t" \
            "subs   lr, lr, #1\n\t" \
            "beq    5f\n\t" \
            DWA_STORE4 \
            "b      1b\n" \
            "5:\n\t" \
            "ldr    r5, [sp, #32]\n\t" \
            "cmp    r5, #4\n\t" \
            "beq    6f\n\t" \
            "strb   r0, [r12]\n\t" \
            "cmp    r5, #1\n\t" \
            "beq    4f\n\t" \
            "strb   r1, [r12, r4]\n\t" \
            "cmp    r5, #2\n\t" \
            "beq    4f\n\t" \
            "strb   r2, [r12, r4, lsl #1]\n\t" \
            "b      4f\n" \
            "6:\n\t" \
            DWA_STORE4 \
            "3:\n\t" \
            "ldr    r5, [sp, #40]\n\t" \
            "cmp    r5, #0\n\t" \
            "beq    4f\n\t" \
            TWO \
            "4:\n\t" \
            "ldm    sp, {r8-r12}\n\t" \
            "ldr    r4, [sp, #36]\n\t" \
            "add    r8, r8, r4\n\t" \
            "add    r9, r9, r4\n\t" \
            "add    r10, r10, r4\n\t" \
            "add    r11, r11, #" DW_STR(TCC_ARM_DW3X3_REC_BYTES) "\n\t"                     \
            "add    r12, r12, #1\n\t" \
            "stm    sp, {r8-r12}\n\t" \
            "ldr    r4, [sp, #20]\n\t" \
            "cmp    r11, r4\n\t" \
            "bne    0b\n\t" \
            "add    sp, #44\n\t" \
            "pop    {r4-r11, pc}\n\t" \
        );                                                                              \
    }
#ifndef TCC_OMIT_DW_X4  /* blocks of 4: lines of other lengths */
DW_ASM_FN(dw_s1_asm, DWA_BLOCK_S1, DWA_TWO_S1)
#endif
#ifndef TCC_OMIT_DW_X4S2
DW_ASM_FN(dw_s2_asm, DWA_BLOCK_S2, "")
#endif

/* Lines of 6k outputs (p->block_n 6), 6 at a time; stride 1: per line of the window one LDRD of
 * the weights and two of the inputs (x0..x3, then x4..x7) for 12 multiply-accumulates, so a
 * block costs 46 + 24 (requantization) + 11 (stores) instructions for 6 outputs, against
 * 61 for 4 in dw_s1_asm; stride 2: four loads of the inputs (x0..x12) per line, 52 + 24 + 11
 * against 64 for 4 in dw_s2_asm. Registers: a0..a5 r0..r5, A D r6 r7, P r12 lr, the 3 lines r8..r10,
 * the record r11 (the output pointer lives on the stack). */
typedef struct {
    const int16_t *l0, *l1, *l2;   /* sp + 0, 4, 8: the channel's lines */
    const int32_t *rec;            /* 12: the channel's record */
    int8_t *out;                   /* 16: the channel's first output */
    int8_t *cur;                   /* 20: the next block's first output */
    int32_t st;                    /* 24: bytes between outputs */
    const int16_t *l0_end;         /* 28: l0 + 6 * blocks: the end of the channel's blocks */
    const int32_t *rec_end;        /* 32 */
    int32_t len2;                  /* 36: bytes per plane */
} dw_x6_ctx;
#define DWX6_RQ(A)                                                                          \
    "smmlar lr, " A ", r6, r7\n\t"                                                          \
    "add    " A ", lr, " A ", asr #31\n\t"                                                  \
    "asr    " A ", " A ", r12\n\t"                                                          \
    "ssat   " A ", #8, " A "\n\t"

/* The functions over dw_x6_ctx: the context copied to the stack, lines and record in r8..r11,
 * label 1 at the first channel's block; at the end, the next channel while the record is not
 * rec_end (r6 free there). */
#define DWX_ENTER                                                                           \
    "push   {r4-r11, lr}\n\t"                                                               \
    "ldm    r0, {r1-r10}\n\t"                                                               \
    "push   {r1-r10}\n\t"                                                                   \
    "ldm    sp, {r8-r11}\n"                                                                 \
    "1:\n\t"
#define DWX_LEAVE                                                                           \
    "ldr    r6, [sp, #32]\n\t"                                                              \
    "cmp    r11, r6\n\t"                                                                    \
    "bne    1b\n\t"                                                                         \
    "add    sp, #40\n\t"                                                                    \
    "pop    {r4-r11, pc}\n\t"

#if !defined(TCC_OMIT_DW_X6) || !defined(TCC_OMIT_DW_X6S2) || !defined(TCC_OMIT_DW_X6O) \
    || !defined(TCC_OMIT_DW_X6OS2)  /* lines of 6k outputs in use */

/* Line k of a 6-output block, x the line's int16 values from the block's first column:
 *   out0 += x0 w0 + x1 w1 + x2 w2 = P0.A + P1.lo D.hi     out1 = P0.hi A.lo + P1.D
 *   out2 = P1.A + P2.lo D.hi   out3 = P1.hi A.lo + P2.D   out4, out5 likewise from P2, P3.
 * A0..A5: what each accumulator adds to (the bias r5 on the first line). */
#define DWX6_LINE_AT(k, R, M0, M1, A0, A1, A2, A3, A4, A5)                                  \
    "ldrd   r6, r7, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_W) "+" #k "*8]\n\t"                   \
    "ldrd   r12, lr, [" R M0 "\n\t"                                                        \
    "smlad  r0, r12, r6, " A0 "\n\t"                                                        \
    "smlatb r1, r12, r6, " A1 "\n\t"                                                        \
    "smlabt r0, lr, r7, r0\n\t"                                                             \
    "smlad  r1, lr, r7, r1\n\t"                                                             \
    "smlad  r2, lr, r6, " A2 "\n\t"                                                         \
    "smlatb r3, lr, r6, " A3 "\n\t"                                                         \
    "ldrd   r12, lr, [" R M1 "\n\t"                                                        \
    "smlabt r2, r12, r7, r2\n\t"                                                            \
    "smlad  r3, r12, r7, r3\n\t"                                                            \
    "smlad  r4, r12, r6, " A4 "\n\t"                                                        \
    "smlatb r5, r12, r6, " A5 "\n\t"                                                        \
    "smlabt r4, lr, r7, r4\n\t"                                                             \
    "smlad  r5, lr, r7, r5\n\t"
/* in the block loop the line pointer moves on by 12 bytes (6 values) per block */
#define DWX6_LINE(k, R, ...) DWX6_LINE_AT(k, R, "], #12", ", #-4]", __VA_ARGS__)
#define DWX6_LINE_1(k, R, ...) DWX6_LINE_AT(k, R, "]", ", #8]", __VA_ARGS__)
/* Stride 2, pairs P_j = (x[2j], x[2j+1]): out_i = P_i.A + P_i+1.lo D.hi, P0..P6 in 4 loads. */
#define DWX6_LINE2_AT(k, R, M0, M1, M2, M3, A0, A1, A2, A3, A4, A5)                         \
    "ldrd   r6, r7, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_W) "+" #k "*8]\n\t"                   \
    "ldrd   r12, lr, [" R M0 "\n\t"                                                     \
    "smlad  r0, r12, r6, " A0 "\n\t"                                                        \
    "smlabt r0, lr, r7, r0\n\t"                                                             \
    "smlad  r1, lr, r6, " A1 "\n\t"                                                         \
    "ldrd   r12, lr, [" R M1 "\n\t"                                                     \
    "smlabt r1, r12, r7, r1\n\t"                                                            \
    "smlad  r2, r12, r6, " A2 "\n\t"                                                        \
    "smlabt r2, lr, r7, r2\n\t"                                                             \
    "smlad  r3, lr, r6, " A3 "\n\t"                                                         \
    "ldrd   r12, lr, [" R M2 "\n\t"                                                      \
    "smlabt r3, r12, r7, r3\n\t"                                                            \
    "smlad  r4, r12, r6, " A4 "\n\t"                                                        \
    "smlabt r4, lr, r7, r4\n\t"                                                             \
    "smlad  r5, lr, r6, " A5 "\n\t"                                                         \
    "ldr    r12, [" R M3 "\n\t"                                                               \
    "smlabt r5, r12, r7, r5\n\t"
#define DWX6_LINE2(k, R, ...) DWX6_LINE2_AT(k, R, "], #24", ", #-16]", ", #-8]", "]", __VA_ARGS__)
#define DWX6_LINE2_1(k, R, ...) DWX6_LINE2_AT(k, R, "]", ", #8]", ", #16]", ", #24]", __VA_ARGS__)

/* A channel's 6-output block: bias, the 3 window lines, requantization, the stores (from
 * cur at sp+20 with r7 = st; r6 keeps cur, r12 ends at cur + 4 st). */
#define DWX6_BLOCK(LINE)                                                                    \
    "ldr    r5, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_BIAS) "]\n\t"                             \
    LINE(0, "r8", "r5", "r5", "r5", "r5", "r5", "r5")                                       \
    LINE(1, "r9", "r0", "r1", "r2", "r3", "r4", "r5")                                       \
    LINE(2, "r10", "r0", "r1", "r2", "r3", "r4", "r5")                                      \
    "ldm    r11, {r6, r7, r12}\n\t"                                                         \
    DWX6_RQ("r0") DWX6_RQ("r1") DWX6_RQ("r2") DWX6_RQ("r3") DWX6_RQ("r4") DWX6_RQ("r5")     \
    "ldrd   r6, r7, [sp, #20]\n\t"                                                          \
    "strb   r0, [r6]\n\t"                                                                   \
    "strb   r1, [r6, r7]\n\t"                                                               \
    "strb   r2, [r6, r7, lsl #1]\n\t"                                                       \
    "add    r12, r6, r7, lsl #1\n\t"                                                        \
    "strb   r3, [r12, r7]\n\t"                                                              \
    "add    r12, r12, r7, lsl #1\n\t"                                                       \
    "strb   r4, [r12]\n\t"                                                                  \
    "strb   r5, [r12, r7]\n\t"
#define DWX6_FN(NAME, LINE)                                                                \
    static __attribute__((naked, noinline)) void NAME(__attribute__((unused)) const dw_x6_ctx *c) \
    { \
        __asm__ volatile( \
            DWX_ENTER \
            DWX6_BLOCK(LINE) \
            "add    r6, r12, r7, lsl #1\n\t" \
            "str    r6, [sp, #20]\n\t" \
            "ldr    lr, [sp, #28]\n\t" \
            "cmp    r8, lr\n\t" \
            "bne    1b\n\t" \
            /* the next channel: its lines one plane on, its record, the next output byte */ \
            "ldr    lr, [sp, #36]\n\t" \
            "ldm    sp, {r8-r12}\n\t" \
            "add    r8, r8, lr\n\t" \
            "add    r9, r9, lr\n\t" \
            "add    r10, r10, lr\n\t" \
            "add    r11, r11, #" DW_STR(TCC_ARM_DW3X3_REC_BYTES) "\n\t"                     \
            "add    r12, r12, #1\n\t" \
            "stm    sp, {r8-r12}\n\t" \
            "ldr    r6, [sp, #28]\n\t" \
            "add    r6, r6, lr\n\t" \
            "str    r6, [sp, #28]\n\t" \
            "str    r12, [sp, #20]\n\t" \
            DWX_LEAVE); \
    }
#ifndef TCC_OMIT_DW_X6
DWX6_FN(dw_x6_asm, DWX6_LINE)
#endif
#ifndef TCC_OMIT_DW_X6S2
DWX6_FN(dw_x6s2_asm, DWX6_LINE2)
#endif
#endif

/* Lines of 3 or of exactly 6 outputs (the 3x3 and 6x6 maps of the last layers): one block
 * per channel, so no block loop: the lines (not post-indexed) move on by one plane per channel.
 * The context is dw_x6_ctx's (cur: the channel's first output; l0_end unused). BLOCK: the
 * channel's block from the bias to the stores (outputs at r6 = cur, + k * r7). Lines of 3:
 * a0..a2 r0..r2, the bias r3, A D r6 r7, P r12 lr (and r4, r5), 55 instructions per
 * channel-line against 96 for a 4-output block with one output unused (stride 1 reads x0..x4,
 * stride 2 x0..x6); lines of 6: the registers of the 6k loop, 90 per channel-line against 102
 * through it. */
#define DWX1_FN(NAME, BLOCK)                                                                \
    static __attribute__((naked, noinline)) void NAME(__attribute__((unused)) const dw_x6_ctx *c) \
    {                                                                                       \
        __asm__ volatile(                                                                   \
            DWX_ENTER                                                                       \
            BLOCK                                                                           \
            "ldr    lr, [sp, #36]\n\t"                                                      \
            "add    r8, r8, lr\n\t"                                                         \
            "add    r9, r9, lr\n\t"                                                         \
            "add    r10, r10, lr\n\t"                                                       \
            "add    r11, r11, #" DW_STR(TCC_ARM_DW3X3_REC_BYTES) "\n\t"                     \
            "add    r6, r6, #1\n\t"                                                         \
            "str    r6, [sp, #20]\n\t"                                                      \
            DWX_LEAVE);                                                                     \
    }

#if !defined(TCC_OMIT_DW_X3) || !defined(TCC_OMIT_DW_X3S2)  /* lines of 3 outputs in use */
#define DWX3_LINE(k, R, A0, A1, A2)                                                         \
    "ldrd   r6, r7, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_W) "+" #k "*8]\n\t"                   \
    "ldrd   r12, lr, [" R "]\n\t"                                                           \
    "ldr    r4, [" R ", #8]\n\t"                                                            \
    "smlad  r0, r12, r6, " A0 "\n\t"                                                        \
    "smlatb r1, r12, r6, " A1 "\n\t"                                                        \
    "smlabt r0, lr, r7, r0\n\t"                                                             \
    "smlad  r1, lr, r7, r1\n\t"                                                             \
    "smlad  r2, lr, r6, " A2 "\n\t"                                                         \
    "smlabt r2, r4, r7, r2\n\t"
#define DWX3_LINE2(k, R, A0, A1, A2)                                                        \
    "ldrd   r6, r7, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_W) "+" #k "*8]\n\t"                   \
    "ldrd   r12, lr, [" R "]\n\t"                                                           \
    "ldrd   r4, r5, [" R ", #8]\n\t"                                                        \
    "smlad  r0, r12, r6, " A0 "\n\t"                                                        \
    "smlabt r0, lr, r7, r0\n\t"                                                             \
    "smlad  r1, lr, r6, " A1 "\n\t"                                                         \
    "smlabt r1, r4, r7, r1\n\t"                                                             \
    "smlad  r2, r4, r6, " A2 "\n\t"                                                         \
    "smlabt r2, r5, r7, r2\n\t"
#define DWX3_BLOCK(LINE)                                                                    \
    "ldr    r3, [r11, #" DW_STR(TCC_ARM_DW3X3_REC_BIAS) "]\n\t"                             \
    LINE(0, "r8", "r3", "r3", "r3")                                                         \
    LINE(1, "r9", "r0", "r1", "r2")                                                         \
    LINE(2, "r10", "r0", "r1", "r2")                                                        \
    "ldm    r11, {r6, r7, r12}\n\t"                                                         \
    DWX6_RQ("r0") DWX6_RQ("r1") DWX6_RQ("r2")                                               \
    "ldrd   r6, r7, [sp, #20]\n\t"                                                          \
    "strb   r0, [r6]\n\t"                                                                   \
    "strb   r1, [r6, r7]\n\t"                                                               \
    "strb   r2, [r6, r7, lsl #1]\n\t"
#ifndef TCC_OMIT_DW_X3
DWX1_FN(dw_x3_asm, DWX3_BLOCK(DWX3_LINE))
#endif
#ifndef TCC_OMIT_DW_X3S2
DWX1_FN(dw_x3s2_asm, DWX3_BLOCK(DWX3_LINE2))
#endif
#endif

#ifndef TCC_OMIT_DW_X6O  /* lines of exactly 6 outputs */
DWX1_FN(dw_x6o_asm, DWX6_BLOCK(DWX6_LINE_1))
#endif
#ifndef TCC_OMIT_DW_X6OS2
DWX1_FN(dw_x6os2_asm, DWX6_BLOCK(DWX6_LINE2_1))
#endif
#endif

typedef struct {
    const int16_t *line[3];  /* the 3 input line slots (the chunk's first channel plane) */
    int32_t row_len;         /* int16 per plane */
    int32_t n_out;           /* outputs along the line */
    int32_t out_step;        /* bytes between consecutive outputs of a line, for one channel */
    int32_t count;           /* channels in the chunk */
    int32_t clamp, lo, hi;
    const int32_t *records;  /* the chunk's first channel record */
    int32_t asm_ok;          /* through the asm functions (p->asm_lines) */
    int32_t stride;          /* 1 or 2 */
    int32_t block_n;         /* p->block_n: 6 or 3 through dw_x6* / dw_x3*, 0: blocks of 4 */
} dw_line_ctx;

/* Requantize, clamp and store the 4 outputs of a block. */
#define DW_RQ4(RQ)                                                                          \
    do {                                                                                    \
        a0 = RQ(a0);                                                                        \
        a1 = RQ(a1);                                                                        \
        a2 = RQ(a2);                                                                        \
        a3 = RQ(a3);                                                                        \
        if (clamp) {                                                                        \
            a0 = dw_clamp(a0, lo, hi);                                                      \
            a1 = dw_clamp(a1, lo, hi);                                                      \
            a2 = dw_clamp(a2, lo, hi);                                                      \
            a3 = dw_clamp(a3, lo, hi);                                                      \
        }                                                                                   \
    } while (0)
#define DW_RQ_POS(v) tcc_arm_rq_pos(v, m, add, s)
#define DW_RQ_ZERO(v) tcc_arm_rq_zero(v, m, add)

/* All blocks of one channel's output line: blocks of 4, the last one maybe partial (the
 * scratch line is long enough for its reads; only the valid outputs are stored). One copy of
 * the block (code size: this is the fallback of the asm lines). */
#define DW_CHANNEL(BLOCK, RQ)                                                               \
    do {                                                                                    \
        for (int32_t b_ = nb; b_ > 0; --b_) {                                               \
            int32_t a0, a1, a2, a3;                                                         \
            BLOCK();                                                                        \
            DW_RQ4(RQ);                                                                     \
            d[0] = (int8_t)a0;                                                              \
            if (b_ > 1 || last > 1) d[st] = (int8_t)a1;                                     \
            if (b_ > 1 || last > 2) d[2 * st] = (int8_t)a2;                                 \
            if (b_ > 1 || last > 3) d[3 * st] = (int8_t)a3;                                 \
            d += 4 * st;                                                                    \
        }                                                                                   \
    } while (0)

/* Every channel's line of outputs; o: the chunk's first channel's first output. */
static __attribute__((noinline)) void dw3x3_line(const dw_line_ctx *c, int8_t *o)
{
#if TCC_ARM_HAVE_DSP
    if (c->asm_ok && c->block_n) {
        /* lines of 6k or 3 outputs */
        dw_x6_ctx y;
        y.l0 = c->line[0];
        y.l1 = c->line[1];
        y.l2 = c->line[2];
        y.rec = c->records;
        y.out = o;
        y.cur = o;
        y.st = c->out_step;
        y.l0_end = c->line[0] + c->stride * c->n_out;
        y.rec_end = c->records + TCC_ARM_DW3X3_RECORD_WORDS * c->count;
        y.len2 = 2 * c->row_len;
        void (*fn)(const dw_x6_ctx *) = NULL;
#ifndef TCC_OMIT_DW_X6
        fn = c->block_n == 6 && c->stride == 1 ? dw_x6_asm : fn;
#endif
#ifndef TCC_OMIT_DW_X6S2
        fn = c->block_n == 6 && c->stride == 2 ? dw_x6s2_asm : fn;
#endif
#ifndef TCC_OMIT_DW_X6O
        fn = c->block_n == 6 && c->n_out == 6 && c->stride == 1 ? dw_x6o_asm : fn;
#endif
#ifndef TCC_OMIT_DW_X6OS2
        fn = c->block_n == 6 && c->n_out == 6 && c->stride == 2 ? dw_x6os2_asm : fn;
#endif
#ifndef TCC_OMIT_DW_X3
        fn = c->block_n == 3 && c->stride == 1 ? dw_x3_asm : fn;
#endif
#ifndef TCC_OMIT_DW_X3S2
        fn = c->block_n == 3 && c->stride == 2 ? dw_x3s2_asm : fn;
#endif
        if (fn != NULL) {
            fn(&y);
        }
        return;
    }
#if !defined(TCC_OMIT_DW_X4) || !defined(TCC_OMIT_DW_X4S2)
    if (c->asm_ok) {
        /* blocks of 4 */
        dw_s1_asm_ctx x;
        x.l0 = c->line[0];
        x.l1 = c->line[1];
        x.l2 = c->line[2];
        x.rec = c->records;
        x.rec_end = c->records + TCC_ARM_DW3X3_RECORD_WORDS * c->count;
        x.out = o;
        x.st = c->out_step;
        x.len2 = 2 * c->row_len;
#ifndef TCC_OMIT_DW_X4
        if (c->stride == 1) {
            const int32_t r = c->n_out & 3;
            x.n2 = r == 1 || r == 2 ? r : 0;        /* a short end as a 2-output block */
            x.nblk = (c->n_out - x.n2 + 3) >> 2;
            x.last = x.nblk > 0 ? c->n_out - x.n2 - 4 * (x.nblk - 1) : 4;
            dw_s1_asm(&x);
            return;
        }
#endif
#ifndef TCC_OMIT_DW_X4S2
        x.n2 = 0;
        x.nblk = (c->n_out + 3) >> 2;
        x.last = c->n_out - 4 * (x.nblk - 1);
        dw_s2_asm(&x);
#endif
        return;
    }
#endif
#endif
#if !(TCC_ARM_HAVE_DSP && defined(TCC_OMIT_DW_C_LINES))  /* every layer runs the asm lines */
    const int32_t st = c->out_step;
    const int32_t nb = (c->n_out + 3) >> 2, last = c->n_out - 4 * (nb - 1);
    const int32_t len = c->row_len;
    const int32_t clamp = c->clamp, lo = c->lo, hi = c->hi;
    const int32_t *rec = c->records;
    const int32_t *const rec_end = rec + TCC_ARM_DW3X3_RECORD_WORDS * c->count;
    const int16_t *r0c = c->line[0], *r1c = c->line[1], *r2c = c->line[2];
    for (; rec != rec_end; rec += TCC_ARM_DW3X3_RECORD_WORDS, r0c += len, r1c += len, r2c += len, ++o) {
        const uint32_t *wk = (const uint32_t *)rec;
        const int32_t m = rec[0], add = rec[1], s = rec[2];
        const int16_t *r0 = r0c, *r1 = r1c, *r2 = r2c;
        int8_t *d = o;
        if (c->stride == 1) {
            if (s != 0) {
                DW_CHANNEL(DW_BLOCK_S1, DW_RQ_POS);
            } else {
                DW_CHANNEL(DW_BLOCK_S1, DW_RQ_ZERO);
            }
        } else if (s != 0) {
            DW_CHANNEL(DW_BLOCK_S2, DW_RQ_POS);
        } else {
            DW_CHANNEL(DW_BLOCK_S2, DW_RQ_ZERO);
        }
    }
#endif
}

void tcc_arm_depthwise3x3_s8(const tcc_arm_depthwise3x3_s8_params *p, const int8_t *in, int8_t *out,
                             void *scratch)
{
    const int32_t c_all = p->channels;
    const int32_t len = p->row_len;
    const int32_t chunk = p->chunk > 0 && p->chunk < c_all ? p->chunk : c_all;
    const int32_t t = p->transposed;
    /* lines: rows (or columns when transposed) of the input and the output */
    const int32_t lines_in = t ? p->in_w : p->in_h;
    const int32_t elems_in = t ? p->in_h : p->in_w;
    const int32_t line_step_in = (t ? 1 : p->in_w) * c_all;
    const int32_t elem_step_in = (t ? p->in_w : 1) * c_all;
    const int32_t lines_out = t ? p->out_w : p->out_h;
    const int32_t pad_line = t ? p->pad_left : p->pad_top;
    const int32_t pad_elem = t ? p->pad_top : p->pad_left;
    int16_t *slots = (int16_t *)scratch;
    dw_line_ctx ctx;
    ctx.row_len = len;
    ctx.stride = p->stride;
    ctx.n_out = t ? p->out_h : p->out_w;
    ctx.lo = p->act_min;
    ctx.hi = p->act_max;
    ctx.clamp = ctx.lo > -128 || ctx.hi < 127;
    ctx.asm_ok = p->asm_lines;
    ctx.block_n = p->block_n;
    const int32_t n_pix = p->out_h * p->out_w;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c_all;
        int8_t *img_out = out + b * n_pix * c_all;
        for (int32_t c0 = 0; c0 < c_all; c0 += chunk) {
            const int32_t cn = TCC_ARM_MIN(chunk, c_all - c0);
            const int32_t slot_len = cn * len;
            int32_t tag[3] = {INT32_MIN, INT32_MIN, INT32_MIN};   /* input line held by each slot */
            /* staged: the chunk's outputs go to the scratch ([pixel][cn]) and are copied out
             * after all its input was read */
            int8_t *const stage = (int8_t *)(slots + 3 * chunk * len);
            int8_t *const dst = p->staged ? stage : img_out + c0;
            const int32_t cs = p->staged ? cn : c_all;
            const int32_t step_out = (t ? 1 : p->out_w) * cs;
            fill16(slots, 3 * slot_len, p->in_zp);
            ctx.count = cn;
            ctx.records = p->records + TCC_ARM_DW3X3_RECORD_WORDS * c0;
            ctx.out_step = (t ? p->out_w : 1) * cs;
            int32_t sl0 = 0;                                   /* slot of the window's first line */
            for (int32_t ol = 0; ol < lines_out; ++ol) {
                const int32_t y0 = ol * p->stride - pad_line;
                for (int32_t k = 0, sl = sl0; k < 3; ++k, sl = sl == 2 ? 0 : sl + 1) {
                    const int32_t y = y0 + k;
                    int16_t *slot = slots + sl * slot_len;
                    if (tag[sl] != y) {
                        if (y >= 0 && y < lines_in) {
                            planar_line(slot, img + y * line_step_in + c0, elems_in, elem_step_in, cn, len,
                                        pad_elem);
                        } else if (tag[sl] >= 0 && tag[sl] < lines_in) {
                            fill16(slot, slot_len, p->in_zp);
                        }
                        tag[sl] = y;
                    }
                    ctx.line[k] = slot;
                }
                dw3x3_line(&ctx, dst + ol * step_out);
                sl0 += p->stride;
                sl0 = sl0 >= 3 ? sl0 - 3 : sl0;
            }
            if (p->staged) {
                int8_t *o = img_out + c0;
                if (cn == 1) {
                    for (int32_t i = 0; i < n_pix; ++i, o += c_all) *o = stage[i];
                } else if (cn == 2) {
                    for (int32_t i = 0; i < n_pix; ++i, o += c_all) memcpy(o, stage + 2 * i, 2);
                } else {
                    for (int32_t i = 0; i < n_pix; ++i, o += c_all) {
                        for (int32_t k = 0; k < cn; ++k) o[k] = stage[i * cn + k];
                    }
                }
            }
        }
    }
}
