/* tinycc runtime, Cortex-M DSP: CONV_2D int8 with sparse weights (see tcc_arm_sparse.h).
 *
 * The channel loop is one naked asm routine per block size (sp4_block: 8 pixels, sp2_block: 4),
 * all registers its own. Per entry word (two nonzero weights) of 4 pairs: UXTAB (the tap's
 * address), SXTB / ASR (the weight), per weight 4 LDR of the pair words and 4 SMLAL, the next
 * entry word's LDR among them: 25 cycles per 16 MACs (tinycc/cycles.py's Cortex-M4 timings);
 * of 2 pairs: 14 per 8.
 * The words of a channel run unrolled, TCC_ARM_SPARSE_UNROLL per pass, the first pass entered at
 * the offset its meta word gives. Per channel and block: the accumulators' start, both fields
 * of each accumulator read back, doubled, biased (5 instructions a pair), requantized (4 an
 * output: SMMLAR, the sign correction, the shift, SSAT) and stored through the block's output
 * pointers.
 */
#include <stddef.h>
#include <string.h>

#include "tcc_arm_sparse.h"
#include "tcc_arm_dsp.h"

#if defined(__ARM_FEATURE_DSP) && !defined(__GNUC__)
#error "tcc_arm_sparse.c: the DSP path is GNU inline asm; build it with GCC or clang (or drop the fast kernels)"
#endif

#define SP_MAXPIX 8
#define SP_FIELD (1 << 23)              /* the second pixel's place in a pair word */

/* What the block routine copies to its stack: [sp + 4 k] = word k (the asm's offsets). */
typedef struct {
    const int32_t *cols;            /* sp + 0 */
    const int32_t *stream_end;      /* sp + 4 */
    int32_t oc;                     /* sp + 8: the channel being stored */
    int32_t unused;                 /* sp + 12 */
    int8_t *out[SP_MAXPIX];         /* sp + 16: pixel q's channel 0 (past the last pixel: the last one's) */
} sp_ctx;
typedef char sp_ctx_ok[sizeof(void *) != 4 || offsetof(sp_ctx, out) == 16 ? 1 : -1];

#ifndef TCC_OMIT_ARM_SPARSE_CONV_S8  /* tinycc defines it when no op calls it */
/* n pair words a[t] + b[t] * 2^23, pairs words apart (4 bytes of each pixel per word load). */
TCC_ARM_INLINE void pair_run(int32_t *c, const int8_t *a, const int8_t *b, int32_t n, int32_t pairs)
{
    int32_t t = 0;
    for (; t + 4 <= n; t += 4, c += 4 * pairs) {
        const uint32_t x = tcc_ld32(a + t), y = tcc_ld32(b + t);
        c[0] = (int8_t)x + (int8_t)y * SP_FIELD;
        c[pairs] = (int8_t)(x >> 8) + (int8_t)(y >> 8) * SP_FIELD;
        c[2 * pairs] = (int8_t)(x >> 16) + (int8_t)(y >> 16) * SP_FIELD;
        c[3 * pairs] = (int8_t)(x >> 24) + (int8_t)(y >> 24) * SP_FIELD;
    }
    for (; t < n; ++t, c += pairs) {
        *c = a[t] + b[t] * SP_FIELD;
    }
}

/* The pair words of the block's pixels pix .. pix + 2 pairs - 1 (past npix: the last one). */
static void sparse_cols(const tcc_arm_sparse_conv_params *p, const int8_t *in, int32_t pix, int32_t npix,
                        int32_t *cols)
{
    const int32_t pairs = p->pairs, in_c = p->in_c;
    if (p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0
        && p->pad_left == 0 && pix + 2 * pairs <= npix) {   /* pointwise: consecutive input pixels */
        for (int32_t j = 0; j < pairs; ++j) {
            const int8_t *a = in + (pix + 2 * j) * in_c;
            pair_run(cols + j, a, a + in_c, in_c, pairs);
        }
        return;
    }
    /* the window origin (row, column, image) of each pixel; the pixels past npix copy the last.
     * Every parameter is a local: the int32 stores into cols may alias the params' fields. */
    const int32_t k_h = p->k_h, k_w = p->k_w, in_h = p->in_h, in_w = p->in_w, dil_h = p->dil_h;
    const int32_t dil_w = p->dil_w, zp = p->in_zp, run = k_w * in_c, span = (k_w - 1) * dil_w;
    const int32_t hw = p->out_w * p->out_h, out_w = p->out_w, out_h = p->out_h;
    int32_t y0s[SP_MAXPIX], x0s[SP_MAXPIX], ofs[SP_MAXPIX];
    int32_t img = pix / hw, oy = pix % hw / out_w, ox = pix % out_w;
    for (int32_t q = 0; q < 2 * pairs; ++q) {
        y0s[q] = oy * p->stride_h - p->pad_top, x0s[q] = ox * p->stride_w - p->pad_left;
        ofs[q] = img * in_h * in_w * in_c;
        if (pix + q + 1 < npix && ++ox == out_w) {
            ox = 0;
            if (++oy == out_h) {
                oy = 0, ++img;
            }
        }
    }
    for (int32_t j = 0; j < pairs; ++j) {           /* pixels a = 2j and b = 2j + 1 */
        const int8_t *ia = in + ofs[2 * j], *ib = in + ofs[2 * j + 1];
        const int32_t ya = y0s[2 * j], xa = x0s[2 * j], yb = y0s[2 * j + 1], xb = x0s[2 * j + 1];
        const int cols_in = xa >= 0 && xb >= 0 && xa + span < in_w && xb + span < in_w;
        int32_t *c = cols + j;
        for (int32_t ky = 0; ky < k_h; ++ky, c += run * pairs) {
            const int32_t y1 = ya + ky * dil_h, y2 = yb + ky * dil_h;
            const int8_t *a = ia + (y1 * in_w + xa) * in_c, *b = ib + (y2 * in_w + xb) * in_c;
            if (dil_w == 1 && cols_in && y1 >= 0 && y1 < in_h && y2 >= 0 && y2 < in_h) {  /* both rows inside */
                pair_run(c, a, b, run, pairs);
                continue;
            }
            /* a border: tap by tap (unsigned compares: in range, not negative) */
            const int in_a = (uint32_t)y1 < (uint32_t)in_h, in_b = (uint32_t)y2 < (uint32_t)in_h;
            const int32_t step = dil_w * in_c;
            int32_t x1 = xa, x2 = xb, *d = c;
            for (int32_t kx = 0; kx < k_w; ++kx, a += step, b += step, x1 += dil_w, x2 += dil_w) {
                const int in1 = in_a && (uint32_t)x1 < (uint32_t)in_w, in2 = in_b && (uint32_t)x2 < (uint32_t)in_w;
                for (int32_t ch = 0; ch < in_c; ++ch, d += pairs) {
                    *d = (in1 ? a[ch] : zp) + (in2 ? b[ch] : zp) * SP_FIELD;
                }
            }
        }
    }
}

#if TCC_ARM_HAVE_DSP
#define SP_STR(x) #x
#define SP_XSTR(x) SP_STR(x)
#define SP_ARG __attribute__((unused))

/* One entry word, 4 pairs (accumulators r0:r1 .. r6:r7, tap address r9, stream r8; the word
 * already in r10, the next one loaded among the second weight's loads): 84 bytes. */
#define SP4_LOADS(NEXT)                                                                     \
    "ldr.w  r12, [r9]\n\t"                                                                  \
    "ldr.w  lr, [r9, #4]\n\t"                                                               \
    NEXT                                                                                    \
    "smlal  r0, r1, r12, r11\n\t"                                                           \
    "smlal  r2, r3, lr, r11\n\t"                                                            \
    "ldr.w  r12, [r9, #8]\n\t"                                                              \
    "ldr.w  lr, [r9, #12]\n\t"                                                              \
    "smlal  r4, r5, r12, r11\n\t"                                                           \
    "smlal  r6, r7, lr, r11\n\t"
#define SP4_WORD                                                                            \
    "uxtab  r9, r9, r10\n\t"                                                                \
    "sxtb.w r11, r10, ror #8\n\t"                                                           \
    SP4_LOADS("")                                                                           \
    "uxtab  r9, r9, r10, ror #16\n\t"                                                       \
    "asr.w  r11, r10, #24\n\t"                                                              \
    SP4_LOADS("ldr.w  r10, [r8], #4\n\t")
/* One entry word, 2 pairs (accumulators r0:r1, r2:r3; the previous entry's tap r4): both
 * weights decoded first, the next word loaded with the pair words: 52 bytes. */
#define SP2_WORD                                                                            \
    "uxtab  r9, r4, r10\n\t"                                                                \
    "sxtb.w r11, r10, ror #8\n\t"                                                           \
    "uxtab  r4, r9, r10, ror #16\n\t"                                                       \
    "asr.w  r5, r10, #24\n\t"                                                               \
    "ldr.w  r12, [r9]\n\t"                                                                  \
    "ldr.w  lr, [r9, #4]\n\t"                                                               \
    "ldr.w  r6, [r4]\n\t"                                                                   \
    "ldr.w  r7, [r4, #4]\n\t"                                                               \
    "ldr.w  r10, [r8], #4\n\t"                                                              \
    "smlal  r0, r1, r12, r11\n\t"                                                           \
    "smlal  r2, r3, lr, r11\n\t"                                                            \
    "smlal  r0, r1, r6, r5\n\t"                                                             \
    "smlal  r2, r3, r7, r5\n\t"
#define SP_W16(W) W W W W W W W W W W W W W W W W

/* A channel's start: meta, its first entry word (its tail's first word when it has none; the
 * stream then runs one word ahead), the entry address, the accumulators at 2^22 + 2^45, then
 * into the unrolled words; after them, the next pass where the word ahead is a marker (-1),
 * else the tail (bias2 in r10, then mult r9, add r11, shift - 1 lr). */
#define SP_CHANNEL(BASE, INIT, WORD, BYTES)                                                 \
    "2:\n\t"                                                                                \
    "ldr.w  r12, [r8], #4\n\t"                                                              \
    "ldr.w  r10, [r8], #4\n\t"                                                              \
    "ldr    " BASE ", [sp]\n\t"                                                             \
    "adr    lr, 10f\n\t"                                                                    \
    "add    lr, lr, r12, lsr #16\n\t"                                                       \
    INIT                                                                                    \
    "mov    pc, lr\n\t"                                                                     \
    ".p2align 2\n"                                                                          \
    "10:\n\t"                                                                               \
    SP_W16(WORD)                                                                            \
    "11:\n\t"                                                                               \
    ".if (11b - 10b) != " SP_XSTR(TCC_ARM_SPARSE_UNROLL) " * " SP_XSTR(BYTES) "\n\t"        \
    ".error \"arm_sparse: an entry word is not " SP_XSTR(BYTES) " bytes\"\n\t"             \
    ".endif\n\t"                                                                            \
    "cmn    r10, #1\n\t"                                                                    \
    "beq    12f\n\t"                                                                        \
    "ldm    r8!, {r9, r11, lr}\n\t"
/* the marker's branch: the next pass (after SP_NEXT's return) */
#define SP_MORE                                                                             \
    "12:\n\t"                                                                               \
    "ldr.w  r10, [r8], #4\n\t"                                                              \
    "b      10b\n\t"
#define SP_INIT(L, H) "mov    " L ", #0x400000\n\t" "mov    " H ", #0x2000\n\t"
/* Both pixels of accumulator L:H, doubled and biased: 2 (sum + bias) each. */
#define SP_EXTRACT(L, H)                                                                    \
    "lsr    r12, " L ", #23\n\t"                                                            \
    "orr    r12, r12, " H ", lsl #9\n\t"                                                    \
    "ubfx   " L ", " L ", #0, #23\n\t"                                                      \
    "add    " L ", r10, " L ", lsl #1\n\t"                                                  \
    "add    " H ", r10, r12, lsl #1\n\t"
/* tcc_arm_rq_pos of the doubled accumulator A (mult r9, add r11, shift - 1 in lr) */
#define SP_RQ(A)                                                                            \
    "smmlar r12, " A ", r9, r11\n\t"                                                       \
    "add    " A ", r12, " A ", asr #31\n\t"                                                 \
    "asr    " A ", " A ", lr\n\t"                                                           \
    "ssat   " A ", #8, " A ", asr #1\n\t"
/* the next channel, or return (the context's WORDS words off the stack) */
#define SP_NEXT(WORDS)                                                                      \
    "add    r9, r9, #1\n\t"                                                                 \
    "str    r9, [sp, #8]\n\t"                                                               \
    "ldr    r10, [sp, #4]\n\t"                                                              \
    "cmp    r8, r10\n\t"                                                                    \
    "bne    2b\n\t"                                                                         \
    "add    sp, #" SP_XSTR(WORDS) " * 4\n\t"                                                \
    "pop    {r4-r11, pc}\n\t"

static __attribute__((naked, noinline)) void sp4_block(SP_ARG const sp_ctx *ctx, SP_ARG const int32_t *stream)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "mov    r8, r1\n\t"
        "ldm    r0, {r0-r7, r9-r12}\n\t"
        "push   {r0-r7, r9-r12}\n\t"
        SP_CHANNEL("r9", SP_INIT("r0", "r1") SP_INIT("r2", "r3") SP_INIT("r4", "r5") SP_INIT("r6", "r7"),
                   SP4_WORD, TCC_ARM_SPARSE_WORD_BYTES4)
        SP_EXTRACT("r0", "r1") SP_EXTRACT("r2", "r3") SP_EXTRACT("r4", "r5") SP_EXTRACT("r6", "r7")
        SP_RQ("r0") SP_RQ("r1") SP_RQ("r2") SP_RQ("r3") SP_RQ("r4") SP_RQ("r5") SP_RQ("r6") SP_RQ("r7")
        "ldr    r9, [sp, #8]\n\t"
        "ldr    r10, [sp, #16]\n\t"
        "ldr    r11, [sp, #20]\n\t"
        "ldr    r12, [sp, #24]\n\t"
        "ldr    lr, [sp, #28]\n\t"
        "strb   r0, [r10, r9]\n\t"
        "strb   r1, [r11, r9]\n\t"
        "strb   r2, [r12, r9]\n\t"
        "strb   r3, [lr, r9]\n\t"
        "ldr    r10, [sp, #32]\n\t"
        "ldr    r11, [sp, #36]\n\t"
        "ldr    r12, [sp, #40]\n\t"
        "ldr    lr, [sp, #44]\n\t"
        "strb   r4, [r10, r9]\n\t"
        "strb   r5, [r11, r9]\n\t"
        "strb   r6, [r12, r9]\n\t"
        "strb   r7, [lr, r9]\n\t"
        SP_NEXT(12) SP_MORE);
}

static __attribute__((naked, noinline)) void sp2_block(SP_ARG const sp_ctx *ctx, SP_ARG const int32_t *stream)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "mov    r8, r1\n\t"
        "ldm    r0, {r0-r7}\n\t"
        "push   {r0-r7}\n\t"
        SP_CHANNEL("r4", SP_INIT("r0", "r1") SP_INIT("r2", "r3"), SP2_WORD, TCC_ARM_SPARSE_WORD_BYTES2)
        SP_EXTRACT("r0", "r1") SP_EXTRACT("r2", "r3")
        SP_RQ("r0") SP_RQ("r1") SP_RQ("r2") SP_RQ("r3")
        "ldr    r9, [sp, #8]\n\t"
        "ldr    r4, [sp, #16]\n\t"
        "ldr    r5, [sp, #20]\n\t"
        "ldr    r6, [sp, #24]\n\t"
        "ldr    r7, [sp, #28]\n\t"
        "strb   r0, [r4, r9]\n\t"
        "strb   r1, [r5, r9]\n\t"
        "strb   r2, [r6, r9]\n\t"
        "strb   r3, [r7, r9]\n\t"
        SP_NEXT(8) SP_MORE);
}
#else
/* The block routine in C (hosts): the same pair words, fields and requantization. */
static void sp_block_c(const sp_ctx *c, const int32_t *s, int32_t pairs)
{
    for (int32_t oc = 0; s != c->stream_end; ++oc) {
        const uint32_t meta = (uint32_t)*s++;
        const int32_t *end = s + (meta & 0xffffu) / 4;
        int64_t acc[SP_MAXPIX / 2];
        const uint8_t *tap = (const uint8_t *)c->cols;
        for (int32_t j = 0; j < pairs; ++j) {
            acc[j] = ((int64_t)1 << 22) + ((int64_t)1 << 45);
        }
        for (; s != end; ++s) {
            const uint32_t e = (uint32_t)*s;
            for (int32_t k = 0; k < 2 && e != 0xffffffffu; ++k) {      /* not a pass's marker */
                const int32_t w = (int8_t)(uint8_t)(e >> (16 * k + 8));
                int32_t x[SP_MAXPIX / 2];
                tap += (e >> (16 * k)) & 0xffu;
                memcpy(x, tap, sizeof(int32_t) * (size_t)pairs);
                for (int32_t j = 0; j < pairs; ++j) {
                    acc[j] += (int64_t)x[j] * w;
                }
            }
        }
        const int32_t bias2 = s[0], mult = s[1], add = s[2], shift = s[3] + 1;
        s += 4;
        for (int32_t j = 0; j < pairs; ++j) {
            const int32_t lo = (int32_t)(acc[j] & (SP_FIELD - 1)), hi = (int32_t)(acc[j] >> 23);
            c->out[2 * j][oc] = (int8_t)tcc_arm_rq_pos(bias2 + 2 * lo, mult, add, shift);
            c->out[2 * j + 1][oc] = (int8_t)tcc_arm_rq_pos(bias2 + 2 * hi, mult, add, shift);
        }
    }
}
#endif

void tcc_arm_sparse_conv_s8(const tcc_arm_sparse_conv_params *p, const int8_t *in, int8_t *out, int32_t *scratch)
{
    const int32_t npix = p->batches * p->out_h * p->out_w, pix_n = 2 * p->pairs;
    sp_ctx c;
    c.cols = scratch;
    c.stream_end = p->stream + p->stream_words;
    c.unused = 0;
    for (int32_t pix = 0; pix < npix; pix += pix_n) {
        sparse_cols(p, in, pix, npix, scratch);
        for (int32_t q = 0; q < pix_n; ++q) {
            c.out[q] = out + TCC_ARM_MIN(pix + q, npix - 1) * p->out_c;
        }
        c.oc = 0;
#if TCC_ARM_HAVE_DSP
        if (pix_n == 8) {
            sp4_block(&c, p->stream);
        } else {
            sp2_block(&c, p->stream);
        }
#else
        sp_block_c(&c, p->stream, p->pairs);
#endif
    }
}
#endif /* TCC_OMIT_ARM_SPARSE_CONV_S8 */

#ifndef TCC_OMIT_ARM_SPARSE_DW_S8
/* 1 + the trailing zero bits of add (tcc_arm_conv8_tail: odd << (shift - 1)) */
static int32_t spdw_shift(int32_t add)
{
    int32_t n = 1;
    for (uint32_t v = (uint32_t)add; (v & 1u) == 0; v >>= 1) {
        ++n;
    }
    return n;
}

/* Tap i's products for outputs u (at pl) and v (at pl + sw), n a compile-time constant where inlined. */
#define SPDW_TAP2(i) if (n > (i)) { u += (t##i >> 16) * pl[t##i & 0xffff]; v += (t##i >> 16) * pl[(t##i & 0xffff) + sw]; }
#define SPDW_TAP(i) if (n > (i)) u += (t##i >> 16) * pl[t##i & 0xffff]

/* One channel's outputs (out: its first, stride channels) from its plane; tw its n tap words;
 * two outputs of a row at a time. Everything the loops read is a local: the int8 stores may
 * alias any memory. */
TCC_ARM_INLINE void spdw_channel(const tcc_arm_sparse_dw_params *p, const int8_t *plane, int8_t *out,
                                 const int32_t *tw, const int32_t n, int32_t bias2, int32_t mult, int32_t add)
{
    const int32_t shift = spdw_shift(add), step = p->channels, out_h = p->out_h, out_w = p->out_w;
    const int32_t sw = p->stride_w, row = p->stride_h * p->plane_w;
    const int32_t t0 = n > 0 ? tw[0] : 0, t1 = n > 1 ? tw[1] : 0, t2 = n > 2 ? tw[2] : 0, t3 = n > 3 ? tw[3] : 0;
    const int32_t t4 = n > 4 ? tw[4] : 0, t5 = n > 5 ? tw[5] : 0, t6 = n > 6 ? tw[6] : 0, t7 = n > 7 ? tw[7] : 0;
    const int32_t t8 = n > 8 ? tw[8] : 0;
    for (int32_t oy = 0; oy < out_h; ++oy) {
        const int8_t *pl = plane + oy * row;
        int8_t *q = out + oy * out_w * step;
        int32_t ox = 0;
        for (; ox + 2 <= out_w; ox += 2, pl += 2 * sw, q += 2 * step) {
            int32_t u = bias2, v = bias2;
            SPDW_TAP2(0); SPDW_TAP2(1); SPDW_TAP2(2); SPDW_TAP2(3); SPDW_TAP2(4);
            SPDW_TAP2(5); SPDW_TAP2(6); SPDW_TAP2(7); SPDW_TAP2(8);
            for (int32_t i = 9; i < n; ++i) {
                u += (tw[i] >> 16) * pl[tw[i] & 0xffff];
                v += (tw[i] >> 16) * pl[(tw[i] & 0xffff) + sw];
            }
            q[0] = (int8_t)tcc_arm_rq_pos(u, mult, add, shift);
            q[step] = (int8_t)tcc_arm_rq_pos(v, mult, add, shift);
        }
        if (ox < out_w) {
            int32_t u = bias2;
            SPDW_TAP(0); SPDW_TAP(1); SPDW_TAP(2); SPDW_TAP(3); SPDW_TAP(4);
            SPDW_TAP(5); SPDW_TAP(6); SPDW_TAP(7); SPDW_TAP(8);
            for (int32_t i = 9; i < n; ++i) {
                u += (tw[i] >> 16) * pl[tw[i] & 0xffff];
            }
            q[0] = (int8_t)tcc_arm_rq_pos(u, mult, add, shift);
        }
    }
}
#undef SPDW_TAP
#undef SPDW_TAP2

void tcc_arm_sparse_dw_s8(const tcc_arm_sparse_dw_params *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    const int32_t C = p->channels, pw = p->plane_w, in_w = p->in_w, pad_top = p->pad_top, pad_left = p->pad_left;
    /* the plane's part over the input: rows y0 .. y1 - 1, columns x0 .. x1 - 1 of the plane */
    const int32_t y0 = TCC_ARM_MAX(0, p->pad_top), y1 = TCC_ARM_MIN(p->plane_h, p->pad_top + p->in_h);
    const int32_t x0 = TCC_ARM_MAX(0, p->pad_left), x1 = TCC_ARM_MIN(pw, p->pad_left + p->in_w);
    memset(scratch, p->in_zp, (size_t)(p->plane_h * pw));
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * C;
        int8_t *o = out + b * p->out_h * p->out_w * C;
        const int32_t *s = p->stream;
        for (int32_t c = 0; c < C; ++c) {
            for (int32_t y = y0; y < y1; ++y) {
                const int8_t *src = img + ((y - pad_top) * in_w + (x0 - pad_left)) * C + c;
                int8_t *dst = scratch + y * pw + x0;
                int32_t x = x0;
                for (; x + 4 <= x1; x += 4, src += 4 * C, dst += 4) {
                    const int8_t v0 = src[0], v1 = src[C], v2 = src[2 * C], v3 = src[3 * C];
                    dst[0] = v0, dst[1] = v1, dst[2] = v2, dst[3] = v3;
                }
                for (; x < x1; ++x, src += C) {
                    *dst++ = *src;
                }
            }
            const int32_t n = s[0];
            const int32_t *tw = s + 1, bias2 = tw[n], mult = tw[n + 1], add = tw[n + 2];
            switch (n) {        /* the common tap counts inlined with n constant */
            case 0: spdw_channel(p, scratch, o + c, tw, 0, bias2, mult, add); break;
            case 1: spdw_channel(p, scratch, o + c, tw, 1, bias2, mult, add); break;
            case 2: spdw_channel(p, scratch, o + c, tw, 2, bias2, mult, add); break;
            case 3: spdw_channel(p, scratch, o + c, tw, 3, bias2, mult, add); break;
            case 4: spdw_channel(p, scratch, o + c, tw, 4, bias2, mult, add); break;
            case 5: spdw_channel(p, scratch, o + c, tw, 5, bias2, mult, add); break;
            default: spdw_channel(p, scratch, o + c, tw, n, bias2, mult, add); break;
            }
            s = tw + n + 3;
        }
    }
}
#endif
