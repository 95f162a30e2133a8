/* tinycc runtime, Cortex-M DSP: CONV_2D int8 with int8 weights (see tcc_arm_conv8.h).
 *
 * Same semantics as tcc_conv2d_s8 (TFLite ConvPerChannel): the input zero point is folded
 * into the bias, so a padded tap reads in_zp and the loop is a plain dot product.
 *
 * Blocking: 3 output pixels x 2 output channels = 6 accumulators. The 3 pixels' receptive
 * fields are widened once into the scratch (im2col, int16 pair words); each output channel's
 * 4 weights of a group are one word of the stream, widened in the loop by SXTB16 (shared by
 * the 3 pixels). Per group (4 reduction values, 24 MACs): 2 weight words + 6 column words
 * loaded, 4 SXTB16, 12 SMLAD: 26 estimated Cortex-M4 cycles (1.08 per MAC).
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
    int32_t wskip;                /* sp + 0: 8 * skip, skip = the groups the first pass skips */
    int32_t skip;                 /* sp + 4: (becomes the entry address of the first pass) */
    const uint32_t *col_entry;    /* sp + 8: the columns - 6 * skip words */
    const uint32_t *col_end;      /* sp + 12 */
    int8_t *out;                  /* sp + 16: pixel 0's channel 0 */
    int32_t off1, off2;           /* sp + 20, 24: pixels 1 and 2 - pixel 0 (bytes) */
    const int32_t *stream_end;    /* sp + 28 */
} c8_ctx;
#if TCC_ARM_HAVE_DSP   /* the asm's stack offsets (32-bit pointers) */
/* C99 has no _Static_assert: an array of negative size fails the build instead */
#define C8_STATIC_OFFSET(field, off) typedef char c8_ctx_##field##_ok[offsetof(c8_ctx, field) == (off) ? 1 : -1]
C8_STATIC_OFFSET(wskip, 0);
C8_STATIC_OFFSET(skip, 4);
C8_STATIC_OFFSET(col_entry, 8);
C8_STATIC_OFFSET(col_end, 12);
C8_STATIC_OFFSET(out, 16);
C8_STATIC_OFFSET(off1, 20);
C8_STATIC_OFFSET(off2, 24);
C8_STATIC_OFFSET(stream_end, 28);
#endif
typedef char c8_stream_records_ok[sizeof(tcc_arm_conv8_head) == 8 && sizeof(tcc_arm_conv8_tail) == 16 ? 1 : -1];

#define C8_UNROLL 8   /* groups per pass of the unrolled loop */

#if TCC_ARM_HAVE_DSP
/* Group J of a pass: 24 instructions, all 32-bit (96 bytes: the computed entry relies on it,
 * checked by the assembler below). Registers: r0-r2 channel a x pixels 0-2, r3-r5 channel b,
 * r6-r8 columns, r9/r10 the weight words of a/b, r11 a widened weight pair, r12 columns, lr
 * weights; immediate offsets (no writeback, so the loads pipeline), the pointers advance once
 * per pass. Cycles: 2 + 1 + 1 + 1 + 1 (5 pipelined loads), 1 + 3 + 1 + 3, 2 + 1 + 1,
 * 1 + 1 + 6 = 26 for 24 MACs. */
#define C8_GROUP(J)                                                                         \
    "ldr.w  r9, [lr, #" #J " * 8]\n\t"                                                      \
    "ldr.w  r10, [lr, #" #J " * 8 + 4]\n\t"                                                 \
    "ldr.w  r6, [r12, #" #J " * 24]\n\t"                                                    \
    "ldr.w  r7, [r12, #" #J " * 24 + 4]\n\t"                                                \
    "ldr.w  r8, [r12, #" #J " * 24 + 8]\n\t"                                                \
    "sxtb16 r11, r9\n\t"                                                                    \
    "smlad  r0, r6, r11, r0\n\t"                                                            \
    "smlad  r1, r7, r11, r1\n\t"                                                            \
    "smlad  r2, r8, r11, r2\n\t"                                                            \
    "sxtb16 r11, r10\n\t"                                                                   \
    "smlad  r3, r6, r11, r3\n\t"                                                            \
    "smlad  r4, r7, r11, r4\n\t"                                                            \
    "smlad  r5, r8, r11, r5\n\t"                                                            \
    "ldr.w  r6, [r12, #" #J " * 24 + 12]\n\t"                                               \
    "ldr.w  r7, [r12, #" #J " * 24 + 16]\n\t"                                               \
    "ldr.w  r8, [r12, #" #J " * 24 + 20]\n\t"                                               \
    "sxtb16 r9, r9, ror #8\n\t"                                                             \
    "sxtb16 r10, r10, ror #8\n\t"                                                           \
    "smlad  r0, r6, r9, r0\n\t"                                                             \
    "smlad  r1, r7, r9, r1\n\t"                                                             \
    "smlad  r2, r8, r9, r2\n\t"                                                             \
    "smlad  r3, r6, r10, r3\n\t"                                                            \
    "smlad  r4, r7, r10, r4\n\t"                                                            \
    "smlad  r5, r8, r10, r5\n\t"
#define C8_GROUP_BYTES 96
/* shift - 1 of a channel from its add = (2 * out_zp + 1) << (shift - 1): 2 cycles. */
#define C8_SHIFT(S, ADD)                                                                    \
    "rbit   " S ", " ADD "\n\t"                                                             \
    "clz    " S ", " S "\n\t"
/* Requantize accumulator A (tcc_arm_rq_pos of 2 * A; S = shift - 1, SSAT shifts the last
 * bit): 5 cycles. */
#define C8_RQ(A, M, ADD, S)                                                                 \
    "add    " A ", " A ", " A "\n\t"                                                        \
    "smmlar r12, " A ", " M ", " ADD "\n\t"                                                 \
    "add    " A ", r12, " A ", asr #31\n\t"                                                 \
    "asr    " A ", " A ", " S "\n\t"                                                        \
    "ssat   " A ", #8, " A ", asr #1\n\t"
#define C8_STR(x) #x
#define C8_XSTR(x) C8_STR(x)

/* (ctx, stream): every channel pair of one block of 3 pixels. Per pair: 7 cycles to start the
 * accumulators from the biases, 8 to enter the unrolled groups, 26 per group, 8 per pass of
 * C8_UNROLL groups, 5 + 4 + 30 to requantize, ~12 to store the 3 halfwords and 6 to loop.
 * Stack: the 9 saved registers and the 8 context words (68 bytes). */
#define C8_ARG __attribute__((unused))
static __attribute__((naked, noinline)) void c8_pairs(C8_ARG const c8_ctx *ctx, C8_ARG const int32_t *stream)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "mov    lr, r1\n\t"
        "ldm    r0, {r0-r7}\n\t"
        "adr    r8, 10f\n\t"
        "add    r8, r8, r1, lsl #6\n\t"          /* skip * 96 = skip * 64 + skip * 32 */
        "add    r1, r8, r1, lsl #5\n\t"
        "orr    r1, r1, #1\n\t"
        "push   {r0-r7}\n"
        "2:\n\t"
        "ldm    lr!, {r0, r3}\n\t"               /* tcc_arm_conv8_head */
        "mov    r1, r0\n\t"
        "mov    r2, r0\n\t"
        "mov    r4, r3\n\t"
        "mov    r5, r3\n\t"
        "ldm    sp, {r9, r11, r12}\n\t"          /* wskip, entry, col_entry */
        "sub    lr, lr, r9\n\t"
        "bx     r11\n\t"
        ".p2align 2\n"
        "10:\n\t"
        C8_GROUP(0) C8_GROUP(1) C8_GROUP(2) C8_GROUP(3) C8_GROUP(4) C8_GROUP(5) C8_GROUP(6) C8_GROUP(7)
        "11:\n\t"
        ".if (11b - 10b) != " C8_XSTR(C8_UNROLL) " * " C8_XSTR(C8_GROUP_BYTES) "\n\t"
        ".error \"c8_pairs: a group is not 96 bytes\"\n\t"
        ".endif\n\t"
        "add    r12, r12, #" C8_XSTR(C8_UNROLL) " * 24\n\t"
        "add    lr, lr, #" C8_XSTR(C8_UNROLL) " * 8\n\t"
        "ldr    r11, [sp, #12]\n\t"
        "cmp    r12, r11\n\t"
        "bne    10b\n\t"
        "ldm    lr!, {r6-r9}\n\t"                /* tcc_arm_conv8_tail */
        C8_SHIFT("r10", "r7")
        C8_SHIFT("r11", "r9")
        C8_RQ("r0", "r6", "r7", "r10")
        C8_RQ("r1", "r6", "r7", "r10")
        C8_RQ("r2", "r6", "r7", "r10")
        C8_RQ("r3", "r8", "r9", "r11")
        C8_RQ("r4", "r8", "r9", "r11")
        C8_RQ("r5", "r8", "r9", "r11")
        "ldr    r12, [sp, #16]\n\t"
        "ldrd   r6, r7, [sp, #20]\n\t"
        "bfi    r0, r3, #8, #8\n\t"              /* a pixel's 2 channels: one halfword */
        "bfi    r1, r4, #8, #8\n\t"
        "bfi    r2, r5, #8, #8\n\t"
        "strh   r1, [r12, r6]\n\t"
        "strh   r2, [r12, r7]\n\t"
        "strh   r0, [r12], #2\n\t"
        "str    r12, [sp, #16]\n\t"
        "ldr    r6, [sp, #28]\n\t"
        "cmp    lr, r6\n\t"
        "bne    2b\n\t"
        "add    sp, #32\n\t"
        "pop    {r4-r11, pc}\n\t");
}
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

static void c8_pairs(const c8_ctx *c, const int32_t *s)
{
    const uint32_t *col = tcc_arm_wadd(c->col_entry, 6 * c->skip);
    const int32_t groups = (int32_t)(c->col_end - col) / 6;
    int8_t *o = c->out;
    for (;;) {
        const tcc_arm_conv8_head *h = (const tcc_arm_conv8_head *)s;
        int32_t acc[2][PIX] = {{h->bias_a, h->bias_a, h->bias_a}, {h->bias_b, h->bias_b, h->bias_b}};
        const uint32_t *w = (const uint32_t *)(s + 2);
        const uint32_t *x = col;
        for (int32_t g = 0; g < groups; ++g, w += 2, x += 6) {
            for (int32_t ch = 0; ch < 2; ++ch) {
                const uint32_t even = tcc_sxtb16(w[ch]), odd = tcc_sxtb16_ror8(w[ch]);
                for (int32_t q = 0; q < PIX; ++q) {
                    acc[ch][q] = tcc_smlad(x[q], even, acc[ch][q]);
                    acc[ch][q] = tcc_smlad(x[3 + q], odd, acc[ch][q]);
                }
            }
        }
        const tcc_arm_conv8_tail *t = (const tcc_arm_conv8_tail *)(s + 2 + 2 * groups);
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
#endif

/* ------------------------------------------------------------------------------------
 * im2col: one pixel's column is every third word of the block's columns (lane q); per group
 * the even word at 6g + q, the odd word at 6g + 3 + q.
 * ------------------------------------------------------------------------------------ */

/* Widen `words` words of 4 int8 from src into lane dst (dst points at its even word). */
TCC_ARM_INLINE uint32_t *widen(uint32_t *dst, const int8_t *src, int32_t words)
{
    for (int32_t g = 0; g < words; ++g) {
        const uint32_t v = tcc_ld32(src);
        src += 4;
        dst[0] = tcc_sxtb16(v);
        dst[3] = tcc_sxtb16_ror8(v);
        dst += 6;
    }
    return dst;
}

TCC_ARM_INLINE uint32_t *fill(uint32_t *dst, uint32_t zpw, int32_t words)
{
    for (int32_t g = 0; g < words; ++g) {
        dst[0] = zpw;
        dst[3] = zpw;
        dst += 6;
    }
    return dst;
}

/* Three pixels whose in_c channels (in_c % 4 == 0) lie at s, s + step, s + 2 * step. */
static void widen3(uint32_t *col, const int8_t *s, int32_t step, int32_t words)
{
    for (int32_t g = 0; g < words; ++g, s += 4, col += 6) {
        const uint32_t v0 = tcc_ld32(s), v1 = tcc_ld32(s + step), v2 = tcc_ld32(s + 2 * step);
        col[0] = tcc_sxtb16(v0);
        col[1] = tcc_sxtb16(v1);
        col[2] = tcc_sxtb16(v2);
        col[3] = tcc_sxtb16_ror8(v0);
        col[4] = tcc_sxtb16_ror8(v1);
        col[5] = tcc_sxtb16_ror8(v2);
    }
}

/* in_c % 4 == 0: the field straight from the input, kernel row by kernel row. */
static void im2col_words(const tcc_arm_conv8_params *p, const int8_t *img, int32_t oy, int32_t ox,
                         uint32_t *dst, uint32_t zpw)
{
    const int32_t cg = p->in_c / 4;
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    const int32_t run_inside = p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        if (y < 0 || y >= p->in_h) {
            dst = fill(dst, zpw, cg * p->k_w);
            continue;
        }
        const int8_t *row = img + y * p->in_w * p->in_c;
        if (run_inside) {
            dst = widen(dst, row + x0 * p->in_c, cg * p->k_w);
            continue;
        }
        for (int32_t kx = 0; kx < p->k_w; ++kx) {
            const int32_t x = x0 + kx * p->dil_w;
            dst = (x < 0 || x >= p->in_w) ? fill(dst, zpw, cg) : widen(dst, row + x * p->in_c, cg);
        }
    }
}

/* in_c % 4 != 0, in the order of tcc_arm_conv8.h: each kernel row is a run of R = k_w * in_c
 * bytes; its whole words are widened straight from the input (a row crossing the left or right
 * border is assembled in rowbuf first), its R % 4 last bytes go to tail, widened last (the
 * tail's padding to a whole word stays zero). */
static void im2col_rows(const tcc_arm_conv8_params *p, const int8_t *img, int32_t oy, int32_t ox,
                        uint32_t *dst, int8_t *rowbuf, int8_t *tail, uint32_t zpw)
{
    const int32_t c = p->in_c;
    const int8_t zp = (int8_t)p->in_zp;
    const int32_t run = p->k_w * c, nw = run / 4, rem = run % 4;
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
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
        dst = widen(dst, src, nw);
        for (int32_t r = 0; r < rem; ++r) {
            t[r] = src[4 * nw + r];
        }
    }
    (void)widen(dst, tail, (p->k_h * rem + 3) / 4);
}

void tcc_arm_conv8_s8(const tcc_arm_conv8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    const int32_t groups = p->groups;
    uint32_t *col = (uint32_t *)scratch;                        /* 6 * groups words */
    /* in_c % 4 != 0: a kernel row (R = k_w * in_c bytes, rounded up to 4) and the rows' tails
     * of the 3 pixels (k_h * (R % 4) bytes each, rounded up to 4: tail_step) */
    int8_t *rowbuf = (int8_t *)(col + 6 * groups);
    int8_t *tail = rowbuf + (p->k_w * p->in_c + 3) / 4 * 4;
    const int32_t tail_step = (p->k_h * (p->k_w * p->in_c % 4) + 3) / 4 * 4;
    const int32_t words = p->in_c % 4 == 0;
    const int32_t pointwise = words && p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1
                              && p->pad_top == 0 && p->pad_left == 0;
    const uint32_t zpw = tcc_splat16(p->in_zp);
    const int32_t total = p->batches * p->out_h * p->out_w;
    const int32_t in_img = p->in_h * p->in_w * p->in_c;
    if (!words) {
        for (int32_t i = p->k_h * (p->k_w * p->in_c % 4); i < tail_step; ++i) {
            tail[i] = tail[tail_step + i] = tail[2 * tail_step + i] = 0;   /* times zero weights */
        }
    }
    c8_ctx c;
    c.skip = (C8_UNROLL - groups % C8_UNROLL) % C8_UNROLL;
    c.wskip = 8 * c.skip;
    c.col_entry = tcc_arm_wadd(col, -6 * c.skip);
    c.col_end = col + 6 * groups;
    c.stream_end = p->stream + p->out_c / 2 * (2 + 2 * groups + 4);
    /* 3 pixels of a row whose fields lie inside the image (in_c % 4 == 0, dil_w 1): the first
     * field starts at y in [0, y_last], x in [0, x_last] */
    const int32_t y_last = p->in_h - 1 - (p->k_h - 1) * p->dil_h;
    const int32_t x_last = p->in_w - p->k_w - 2 * p->stride_w;
    const int32_t rows3 = !pointwise && p->dil_w == 1 && y_last >= 0 && x_last >= 0;
    const int32_t run_words = p->k_w * p->in_c / 4, rem = p->k_w * p->in_c % 4;
    const int32_t row_step = p->dil_h * p->in_w * p->in_c;
    int32_t b = 0, oy = 0, ox = 0;      /* the position of the block's first pixel */
    for (int32_t i = 0; i < total; i += PIX) {
        const int32_t n = total - i < PIX ? total - i : PIX;
        if (pointwise && n == PIX) {
            widen3(col, in + i * p->in_c, p->in_c, groups);
        } else if (rows3 && n == PIX && ox + 2 < p->out_w
                   && (uint32_t)(oy * p->stride_h - p->pad_top) <= (uint32_t)y_last
                   && (uint32_t)(ox * p->stride_w - p->pad_left) <= (uint32_t)x_last) {
            /* 3 pixels of one row, their fields inside the image: kernel row by kernel row */
            const int8_t *s = in + b * in_img
                              + ((oy * p->stride_h - p->pad_top) * p->in_w + ox * p->stride_w - p->pad_left) * p->in_c;
            const int32_t step = p->stride_w * p->in_c;
            uint32_t *dst = col;
            int8_t *t = tail;
            for (int32_t ky = 0; ky < p->k_h; ++ky, s += row_step, dst += 6 * run_words, t += rem) {
                widen3(dst, s, step, run_words);
                for (int32_t r = 0; r < rem; ++r) {   /* in_c % 4 != 0: the rows' tails */
                    t[r] = s[4 * run_words + r];
                    t[tail_step + r] = s[step + 4 * run_words + r];
                    t[2 * tail_step + r] = s[2 * step + 4 * run_words + r];
                }
            }
            if (rem) {
                widen3(dst, tail, tail_step, tail_step / 4);
            }
            ox += PIX;
            if (ox == p->out_w) {
                ox = 0;
                if (++oy == p->out_h) {
                    oy = 0;
                    ++b;
                }
            }
        } else {
            if (pointwise) {    /* the short last block: its position */
                b = i / (p->out_h * p->out_w);
                oy = i % (p->out_h * p->out_w) / p->out_w;
                ox = i % p->out_w;
            }
            for (int32_t q = 0; q < n; ++q) {
                const int8_t *img = in + b * in_img;
                if (words) {
                    im2col_words(p, img, oy, ox, col + q, zpw);
                } else {
                    im2col_rows(p, img, oy, ox, col + q, rowbuf, tail, zpw);
                }
                if (++ox == p->out_w) {
                    ox = 0;
                    if (++oy == p->out_h) {
                        oy = 0;
                        ++b;
                    }
                }
            }
            for (int32_t q = n; q < PIX; ++q) {    /* a short last block: copies of its last pixel */
                for (int32_t g = 0; g < 2 * groups; ++g) {
                    col[3 * g + q] = col[3 * g + n - 1];
                }
            }
        }
        c.out = out + i * p->out_c;
        c.off1 = n > 1 ? p->out_c : 0;
        c.off2 = n > 2 ? 2 * p->out_c : c.off1;
        c8_pairs(&c, p->stream);
    }
}
