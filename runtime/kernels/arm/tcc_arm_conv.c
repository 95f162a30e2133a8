/* tinycc runtime, Cortex-M DSP: CONV_2D int8 (see tcc_arm.h for layouts and write order).
 *
 * Same semantics as tcc_conv2d_s8 (TFLite ConvPerChannel): the input zero point is folded
 * into the bias, so a padded tap reads in_zp and the loop is a plain dot product.
 *
 * Blocking: 2 output pixels x 4 output channels = 8 accumulators in registers. The 2 pixels'
 * receptive fields are expanded once to int16 in the scratch, interleaved per pair index j:
 *   col[2 * j + p] = pair j of pixel p  (pair 2g = (x[4g], x[4g+2]), 2g+1 = (x[4g+1], x[4g+3]))
 * so one LDRD gives pair j of both pixels and two LDRD give pair j of the 4 channels'
 * weights: 3 loads and 8 SMLAD per 16 MACs. An odd last pixel is computed twice (both lanes).
 */
#include "tcc_arm.h"
#include "tcc_arm_dsp.h"

#define PIX 2   /* output pixels per block */

/* Expand `groups` words of 4 int8 from src into one pixel's column (stride PIX words). */
TCC_ARM_INLINE uint32_t *expand_run(uint32_t *dst, const int8_t *src, int32_t groups)
{
    for (int32_t g = 0; g < groups; ++g) {
        const uint32_t v = tcc_ld32(src);
        src += 4;
        dst[0] = tcc_sxtb16(v);
        dst[PIX] = tcc_sxtb16_ror8(v);
        dst += 2 * PIX;
    }
    return dst;
}

TCC_ARM_INLINE uint32_t *fill_run(uint32_t *dst, uint32_t zpw, int32_t groups)
{
    for (int32_t g = 0; g < groups; ++g) {
        dst[0] = zpw;
        dst[PIX] = zpw;
        dst += 2 * PIX;
    }
    return dst;
}

/* Expand 2 rows of `groups` words (one per pixel) into the interleaved columns: col[4g] =
 * SXTB16 of word g of pixel 0, col[4g + 1] of pixel 1, col[4g + 2], col[4g + 3] the same with
 * ROR 8. Two words per pixel and step (4 LDR, 8 SXTB16, 4 STRD). */
static __attribute__((noinline)) void expand2(uint32_t *col, const int8_t *s0, const int8_t *s1,
                                              int32_t groups)
{
    for (; groups >= 2; groups -= 2) {
        const uint32_t v0 = tcc_ld32(s0), v1 = tcc_ld32(s1);
        const uint32_t u0 = tcc_ld32(s0 + 4), u1 = tcc_ld32(s1 + 4);
        s0 += 8;
        s1 += 8;
        TCC_STRD(tcc_sxtb16(v0), tcc_sxtb16(v1), col, 0);
        TCC_STRD(tcc_sxtb16_ror8(v0), tcc_sxtb16_ror8(v1), col, 2);
        TCC_STRD(tcc_sxtb16(u0), tcc_sxtb16(u1), col, 4);
        TCC_STRD(tcc_sxtb16_ror8(u0), tcc_sxtb16_ror8(u1), col, 6);
        col += 8;
    }
    if (groups) {
        const uint32_t v0 = tcc_ld32(s0), v1 = tcc_ld32(s1);
        TCC_STRD(tcc_sxtb16(v0), tcc_sxtb16(v1), col, 0);
        TCC_STRD(tcc_sxtb16_ror8(v0), tcc_sxtb16_ror8(v1), col, 2);
    }
}

/* im2col of one output pixel straight into its column (in_c % 4 == 0). */
static __attribute__((noinline)) void im2col_words(const tcc_arm_conv_s8_params *p, const int8_t *img, int32_t oy, int32_t ox,
                         uint32_t *dst, uint32_t zpw)
{
    const int32_t cg = p->in_c / 4;
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    const int32_t run_inside = x0 >= 0 && x0 + (p->k_w - 1) * p->dil_w < p->in_w;
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        if (y < 0 || y >= p->in_h) {
            dst = fill_run(dst, zpw, cg * p->k_w);
            continue;
        }
        const int8_t *row = img + y * p->in_w * p->in_c;
        if (run_inside && p->dil_w == 1) {
            dst = expand_run(dst, row + x0 * p->in_c, cg * p->k_w);
            continue;
        }
        for (int32_t kx = 0; kx < p->k_w; ++kx) {
            const int32_t x = x0 + kx * p->dil_w;
            if (x < 0 || x >= p->in_w) {
                dst = fill_run(dst, zpw, cg);
            } else {
                dst = expand_run(dst, row + x * p->in_c, cg);
            }
        }
    }
}

/* Copy n bytes (word loads and stores at any alignment, then the tail). */
TCC_ARM_INLINE void copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        tcc_st32(dst + i, tcc_ld32(src + i));
    }
    for (; i < n; ++i) {
        dst[i] = src[i];
    }
}

/* Fill n bytes (a few: a kernel row's leftovers or one padded tap). The empty asm keeps gcc
 * from turning the loop into a memset call, which costs more than the loop for 1-4 bytes. */
TCC_ARM_INLINE void fill_bytes(int8_t *dst, int8_t v, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = v;
        __asm__ volatile("" ::: "memory");
    }
}

/* im2col of one output pixel when in_c % 4 != 0, straight into its column in the order of
 * packing.conv_k_order: each kernel row is a run of R = k_w * in_c bytes; the whole words of every
 * row are expanded from the input (unaligned word loads), the R % 4 tail bytes of every row are
 * gathered in tail[] (zero-padded to a whole word once per call of the kernel) and expanded
 * last. A row that crosses the left or right border is assembled in tmp[] (R bytes) first. */
static __attribute__((noinline)) void im2col_rows(const tcc_arm_conv_s8_params *p, const int8_t *img, int32_t oy, int32_t ox,
                        uint32_t *dst, int8_t *tail, int8_t *tmp, uint32_t zpw)
{
    const int32_t c = p->in_c;
    const int8_t zp = (int8_t)p->in_zp;
    const int32_t run = p->k_w * c;
    const int32_t nw = run / 4, rem = run % 4;
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    const int32_t run_inside = p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    int8_t *t = tail;
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        if (y < 0 || y >= p->in_h) {
            dst = fill_run(dst, zpw, nw);
            fill_bytes(t, zp, rem);
            t += rem;
            continue;
        }
        const int8_t *row = img + y * p->in_w * c;
        const int8_t *src;
        if (run_inside) {
            src = row + x0 * c;
        } else {
            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                const int32_t x = x0 + kx * p->dil_w;
                if (x < 0 || x >= p->in_w) {
                    fill_bytes(tmp + kx * c, zp, c);
                } else {
                    copy_bytes(tmp + kx * c, row + x * c, c);
                }
            }
            src = tmp;
        }
        dst = expand_run(dst, src, nw);
        src += 4 * nw;
        for (int32_t r = 0; r < rem; ++r) {
            t[r] = src[r];
        }
        t += rem;
    }
    (void)expand_run(dst, tail, TCC_ARM_K4(p->k_h * rem) / 4);
}

/* im2col of a block of 2 pixels of one output row whose receptive fields lie inside the image
 * (dil_w 1), any in_c: both columns in one pass, kernel row by kernel row (R = k_w * in_c
 * contiguous bytes: its whole words, then for in_c % 4 != 0 its R % 4 tail bytes into tail[]
 * and tail[T4], expanded last; see im2col_rows). */
static __attribute__((noinline)) void im2col_rows2(const tcc_arm_conv_s8_params *p, const int8_t *s0,
                                                   int32_t step, uint32_t *col, int8_t *tail)
{
    const int32_t c = p->in_c;
    const int32_t run = p->k_w * c;
    const int32_t nw = run / 4, rem = run % 4;
    const int32_t t4 = TCC_ARM_K4(p->k_h * rem);
    const int32_t row_step = p->dil_h * p->in_w * c;
    if (rem == 0) {
        for (int32_t ky = 0; ky < p->k_h; ++ky) {
            expand2(col, s0, s0 + step, nw);
            col += 4 * nw;
            s0 += row_step;
        }
        return;
    }
    int8_t *t = tail;
    for (int32_t ky = 0; ky < p->k_h; ++ky) {
        const int8_t *a = s0, *b = s0 + step;
        for (int32_t g = 0; g < nw; ++g) {
            const uint32_t v0 = tcc_ld32(a), v1 = tcc_ld32(b);
            a += 4;
            b += 4;
            TCC_STRD(tcc_sxtb16(v0), tcc_sxtb16(v1), col, 0);
            TCC_STRD(tcc_sxtb16_ror8(v0), tcc_sxtb16_ror8(v1), col, 2);
            col += 4;
        }
        for (int32_t r = 0; r < rem; ++r) {
            t[r] = a[r];
            t[t4 + r] = b[r];
        }
        t += rem;
        s0 += row_step;
    }
    expand2(col, tail, tail + t4, t4 / 4);
}

TCC_ARM_INLINE int32_t clampv(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

TCC_ARM_INLINE int32_t conv_rq(int32_t v, const tcc_arm_rq *r)
{
    return r->shift != 0 ? tcc_arm_rq_pos(v, r->mult, r->add, r->shift) : tcc_arm_rq_zero(v, r->mult, r->add);
}

/* Requantize the 2 pixels' accumulators of one channel in place (its constants loaded once). */
#define RQ2(x0, x1, rq)                                                                     \
    do {                                                                                    \
        const int32_t m_ = (rq)->mult, add_ = (rq)->add, s_ = (rq)->shift;                  \
        if (s_ != 0) {                                                                      \
            x0 = tcc_arm_rq_pos(x0, m_, add_, s_);                                          \
            x1 = tcc_arm_rq_pos(x1, m_, add_, s_);                                          \
        } else {                                                                            \
            x0 = tcc_arm_rq_zero(x0, m_, add_);                                             \
            x1 = tcc_arm_rq_zero(x1, m_, add_);                                             \
        }                                                                                   \
    } while (0)

/* One step = one pair index j: pair j of pixels 0/1 (LDRD) times pair j of channels 0..3
 * (2 LDRD): 8 SMLAD. */
#define CONV4_STEP(s)                                                                       \
    do {                                                                                    \
        uint32_t w0_, w1_, x0_, x1_;                                                        \
        TCC_LDRD(x0_, x1_, x, 2 * (s));                                                     \
        TCC_LDRD(w0_, w1_, w, 4 * (s));                                                     \
        TCC_SMLAD_ACC(a00, x0_, w0_);                                                       \
        TCC_SMLAD_ACC(a10, x1_, w0_);                                                       \
        TCC_SMLAD_ACC(a01, x0_, w1_);                                                       \
        TCC_SMLAD_ACC(a11, x1_, w1_);                                                       \
        TCC_LDRD(w0_, w1_, w, 4 * (s) + 2);                                                 \
        TCC_SMLAD_ACC(a02, x0_, w0_);                                                       \
        TCC_SMLAD_ACC(a12, x1_, w0_);                                                       \
        TCC_SMLAD_ACC(a03, x0_, w1_);                                                       \
        TCC_SMLAD_ACC(a13, x1_, w1_);                                                       \
    } while (0)
#define CONV4_ADVANCE(k) (w = tcc_arm_wadd(w, 4 * (k)), x = tcc_arm_wadd(x, 2 * (k)))

/* Which parts this model's entry points need (tinycc defines TCC_OMIT_<ENTRY> for the entry points
 * no op calls): matmul_store for _store and the odd last pixel of _pw8 / _pw16, mm2 for _blocks. */
#if !defined(TCC_OMIT_ARM_CONV_S8_STORE) || !defined(TCC_OMIT_ARM_CONV_S8_PW8) || !defined(TCC_OMIT_ARM_CONV_S8_PW16)
#define CONV_HAVE_STORE 1
#endif
#if !defined(TCC_OMIT_ARM_CONV_S8_BLOCKS)
#define CONV_HAVE_MM2 1
#endif

#ifdef CONV_HAVE_STORE
/* All output channels of the 2 pixels whose columns are in `col`, stored at out (2 pixels
 * of out_c bytes each). Channels 4 at a time: 8 accumulators, LDRD + 8 SMLAD steps; the loop
 * keeps only the weight pointer in a register across blocks, the rest lives on the stack
 * (volatile: gcc would otherwise keep them in registers the MAC loop needs). The last
 * out_c % 4 channels go one at a time. */
static __attribute__((noinline)) void matmul_store(const tcc_arm_conv_s8_params *p, const uint32_t *col,
                                                   int8_t *out, int32_t off1)
{
    const int32_t npairs = p->k_packed / 2;
    /* (the fallback of the 2x2 blocks: compact, 2 steps per iteration; npairs is even) */
    const uint32_t *volatile const x_first = col;
    const uint32_t *volatile const x_end = tcc_arm_wadd(col, 2 * npairs);
    const int32_t volatile out_c = p->out_c;
    const int32_t volatile o1 = off1;
    const int32_t volatile lo = p->act_min, hi = p->act_max;
    const int32_t volatile clamp = lo > -128 || hi < 127;
    const uint32_t *w = (const uint32_t *)p->weights;
    const int32_t *volatile bias = p->bias;
    const tcc_arm_rq *volatile rq = p->rq;
    int8_t *volatile o = out;
    int8_t *volatile const o_end = out + (out_c & ~3);
    while (o != o_end) {
        const int32_t *b = bias;
        int32_t a00 = b[0], a01 = b[1], a02 = b[2], a03 = b[3];
        int32_t a10 = a00, a11 = a01, a12 = a02, a13 = a03;
        const uint32_t *x = x_first;
        while (x != x_end) {
            CONV4_STEP(0); CONV4_STEP(1);
            CONV4_ADVANCE(2);
        }
        /* w is now at the next block's weights */
        const tcc_arm_rq *r = rq;
        int8_t *d = o;
        RQ2(a00, a10, &r[0]);
        RQ2(a01, a11, &r[1]);
        RQ2(a02, a12, &r[2]);
        RQ2(a03, a13, &r[3]);
        if (clamp) {
            const int32_t l = lo, h = hi;
            a00 = clampv(a00, l, h); a01 = clampv(a01, l, h); a02 = clampv(a02, l, h); a03 = clampv(a03, l, h);
            a10 = clampv(a10, l, h); a11 = clampv(a11, l, h); a12 = clampv(a12, l, h); a13 = clampv(a13, l, h);
        }
        tcc_st32(d, tcc_bfi8_3(tcc_bfi8_2(tcc_bfi8_1((uint32_t)a00, (uint32_t)a01), (uint32_t)a02), (uint32_t)a03));
        tcc_st32(d + o1, tcc_bfi8_3(tcc_bfi8_2(tcc_bfi8_1((uint32_t)a10, (uint32_t)a11), (uint32_t)a12),
                                       (uint32_t)a13));
        o = d + 4;
        bias = b + 4;
        rq = r + 4;
    }
    /* the last out_c % 4 channels: P[oc][0 .. npairs - 1] each */
    for (int32_t k = 0; k < (out_c & 3); ++k) {
        int32_t a0 = bias[k], a1 = a0;
        const uint32_t *x = col;
        for (int32_t j = 0; j < npairs; ++j) {
            a0 = tcc_smlad(x[0], w[j], a0);
            a1 = tcc_smlad(x[1], w[j], a1);
            x += 2;
        }
        w += npairs;
        a0 = conv_rq(a0, &rq[k]);
        a1 = conv_rq(a1, &rq[k]);
        if (clamp) {
            a0 = clampv(a0, lo, hi);
            a1 = clampv(a1, lo, hi);
        }
        o[k] = (int8_t)a0;
        o[o1 + k] = (int8_t)a1;
    }
}
#endif

/* ------------------------------------------------------------------------------------
 * 1x1 on 8 (or 16, below) input channels (p->records, see tcc_arm.h): a pixel's 8 inputs are expanded once
 * into 4 registers; per output channel one LDM of its record (4 pair words, bias, mult, add,
 * shift), 4 SMLAD, requantization and a byte store (10 instructions for 8 MACs); the end of
 * the channels is the 0x100 bit of the last record's shift (ASR by a register uses its low
 * byte). Pixels go in pairs, both read before either is written (the write order of the
 * 2-pixel blocks); one call runs every pair of the layer.
 * ------------------------------------------------------------------------------------ */
/* The asm loads a whole record with one LDM (8 registers for pw8, bias + 8 + 3 for pw16): the
 * records must have exactly these sizes (a negative array size stops the build otherwise). */
typedef char tcc_arm_pw8_record_ok[sizeof(tcc_arm_pw8_record) == 32 && offsetof(tcc_arm_pw8_record, bias) == 16
                                   ? 1 : -1];
typedef char tcc_arm_pw16_record_ok[sizeof(tcc_arm_pw16_record) == 48 && offsetof(tcc_arm_pw16_record, mult) == 36
                                    ? 1 : -1];

#if TCC_ARM_HAVE_DSP
#define PW8_CHANNEL                                                                         \
    "ldm    r12!, {r4-r11}\n\t"                                                             \
    "smlad  r8, r0, r4, r8\n\t"                                                             \
    "smlad  r8, r1, r5, r8\n\t"                                                             \
    "smlad  r8, r2, r6, r8\n\t"                                                             \
    "smlad  r8, r3, r7, r8\n\t"                                                             \
    "smmlar r4, r8, r9, r10\n\t"                                                            \
    "add    r4, r4, r8, asr #31\n\t"                                                        \
    "asr    r4, r4, r11\n\t"                                                                \
    "ssat   r4, #8, r4\n\t"                                                                 \
    "strb   r4, [lr], #1\n\t"
/* the pixel's words in r0, r1; records from r12, outputs to lr */
#define PW8_PIXEL(L)                                                                        \
    "sxtb16 r2, r1\n\t"                                                                     \
    "sxtb16 r3, r1, ror #8\n\t"                                                             \
    "sxtb16 r1, r0, ror #8\n\t"                                                             \
    "sxtb16 r0, r0\n"                                                                       \
    L ":\n\t"                                                                               \
    PW8_CHANNEL PW8_CHANNEL PW8_CHANNEL PW8_CHANNEL                                         \
    "tst    r11, #256\n\t"                                                                  \
    "beq    " L "b\n\t"

/* (records, out, input, pairs): every pixel pair of the layer, both pixels of a pair read
 * (one LDM of their 16 bytes, pixel 1's words kept on the stack) before either is written,
 * the outputs one after the other. Stack: sp+0 input, 4 pairs left, 8 records, 12 pixel 1. */
#define PW8_ARG __attribute__((unused))
#if !defined(TCC_OMIT_ARM_CONV_S8_PW8) || !defined(TCC_OMIT_ARM_CONV_S8_PW8_PAIRS)
static __attribute__((naked, noinline)) void pw8_run(PW8_ARG const int32_t *rec, PW8_ARG int8_t *out,
                                                     PW8_ARG const int8_t *in, PW8_ARG int32_t pairs)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "sub    sp, #20\n\t"
        "strd   r2, r3, [sp]\n\t"
        "str    r0, [sp, #8]\n\t"
        "mov    lr, r1\n"
        "5:\n\t"
        "ldr    r2, [sp]\n\t"
        "ldm    r2!, {r0, r1, r3, r4}\n\t"
        "str    r2, [sp]\n\t"
        "strd   r3, r4, [sp, #12]\n\t"
        "ldr    r12, [sp, #8]\n\t"
        PW8_PIXEL("1")
        "ldrd   r0, r1, [sp, #12]\n\t"
        "ldr    r12, [sp, #8]\n\t"
        PW8_PIXEL("2")
        "ldr    r2, [sp, #4]\n\t"
        "subs   r2, r2, #1\n\t"
        "str    r2, [sp, #4]\n\t"
        "bne    5b\n\t"
        "add    sp, #20\n\t"
        "pop    {r4-r11, pc}\n\t");
}
#endif

/* 16 input channels: the pixel's 8 pair words in r0..r7, per output channel a 12-word record
 * (bias, 8 pair words, mult, add, shift) loaded in 4 LDM: 17 instructions for 16 MACs. */
#define PW16_CHANNEL                                                                        \
    "ldm    r12!, {r8-r11}\n\t"                                                             \
    "smlad  r8, r0, r9, r8\n\t"                                                             \
    "smlad  r8, r1, r10, r8\n\t"                                                            \
    "smlad  r8, r2, r11, r8\n\t"                                                            \
    "ldm    r12!, {r9-r11}\n\t"                                                             \
    "smlad  r8, r3, r9, r8\n\t"                                                             \
    "smlad  r8, r4, r10, r8\n\t"                                                            \
    "smlad  r8, r5, r11, r8\n\t"                                                            \
    "ldm    r12!, {r9-r11}\n\t"                                                             \
    "smlad  r8, r6, r9, r8\n\t"                                                             \
    "smlad  r8, r7, r10, r8\n\t"                                                            \
    "ldm    r12!, {r9, r10}\n\t"                                                            \
    "smmlar r9, r8, r11, r9\n\t"                                                            \
    "add    r9, r9, r8, asr #31\n\t"                                                        \
    "asr    r9, r9, r10\n\t"                                                                \
    "ssat   r9, #8, r9\n\t"                                                                 \
    "strb   r9, [lr], #1\n\t"
/* the pixel's words in r0, r2, r4, r6 */
#define PW16_PIXEL(L)                                                                       \
    "sxtb16 r7, r6, ror #8\n\t"                                                             \
    "sxtb16 r6, r6\n\t"                                                                     \
    "sxtb16 r5, r4, ror #8\n\t"                                                             \
    "sxtb16 r4, r4\n\t"                                                                     \
    "sxtb16 r3, r2, ror #8\n\t"                                                             \
    "sxtb16 r2, r2\n\t"                                                                     \
    "sxtb16 r1, r0, ror #8\n\t"                                                             \
    "sxtb16 r0, r0\n"                                                                       \
    L ":\n\t"                                                                               \
    PW16_CHANNEL PW16_CHANNEL PW16_CHANNEL PW16_CHANNEL                                     \
    "tst    r10, #256\n\t"                                                                  \
    "beq    " L "b\n\t"

#if !defined(TCC_OMIT_ARM_CONV_S8_PW16)
/* (records, out, input, pairs) as pw8_run; pixel 1's 4 words on the stack at sp+12, one copy
 * of the pixel code (sp+28: 1 while pixel 1 of the pair is still to come). */
static __attribute__((naked, noinline)) void pw16_run(PW8_ARG const int32_t *rec, PW8_ARG int8_t *out,
                                                      PW8_ARG const int8_t *in, PW8_ARG int32_t pairs)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "sub    sp, #32\n\t"
        "strd   r2, r3, [sp]\n\t"
        "str    r0, [sp, #8]\n\t"
        "mov    lr, r1\n"
        "5:\n\t"
        "ldr    r8, [sp]\n\t"
        "ldm    r8!, {r0, r2, r4, r6}\n\t"
        "ldm    r8!, {r1, r3, r5, r7}\n\t"
        "str    r8, [sp]\n\t"
        "add    r8, sp, #12\n\t"
        "stm    r8, {r1, r3, r5, r7}\n\t"
        "movs   r8, #1\n\t"
        "str    r8, [sp, #28]\n"
        "6:\n\t"
        "ldr    r12, [sp, #8]\n\t"
        PW16_PIXEL("1")
        "ldr    r8, [sp, #28]\n\t"
        "cmp    r8, #0\n\t"
        "beq    7f\n\t"
        "movs   r8, #0\n\t"
        "str    r8, [sp, #28]\n\t"
        "add    r8, sp, #12\n\t"
        "ldm    r8, {r0, r2, r4, r6}\n\t"
        "b      6b\n"
        "7:\n\t"
        "ldr    r2, [sp, #4]\n\t"
        "subs   r2, r2, #1\n\t"
        "str    r2, [sp, #4]\n\t"
        "bne    5b\n\t"
        "add    sp, #32\n\t"
        "pop    {r4-r11, pc}\n\t");
}
#endif
#else
static inline int8_t *pw8_pixel(const int32_t *r, int8_t *o, uint32_t v0, uint32_t v1)
{
    const uint32_t x0 = tcc_sxtb16(v0), x1 = tcc_sxtb16_ror8(v0);
    const uint32_t x2 = tcc_sxtb16(v1), x3 = tcc_sxtb16_ror8(v1);
    for (;; r += TCC_ARM_PW8_RECORD_WORDS) {
        int32_t acc = r[4];
        acc = tcc_smlad(x0, (uint32_t)r[0], acc);
        acc = tcc_smlad(x1, (uint32_t)r[1], acc);
        acc = tcc_smlad(x2, (uint32_t)r[2], acc);
        acc = tcc_smlad(x3, (uint32_t)r[3], acc);
        const int32_t v = tcc_smmlar(acc, r[5], r[6]) + (acc >> 31);
        *o++ = (int8_t)TCC_SSAT8(v >> (r[7] & 255));
        if (r[7] & 256) {
            return o;
        }
    }
}

/* A pixel pair (both read first); returns the output after pixel 1's. */
static inline int8_t *pw8_pair(const int32_t *rec, int8_t *out, const int8_t *s0, const int8_t *s1)
{
    const uint32_t a0 = tcc_ld32(s0), a1 = tcc_ld32(s0 + 4), b0 = tcc_ld32(s1), b1 = tcc_ld32(s1 + 4);
    return pw8_pixel(rec, pw8_pixel(rec, out, a0, a1), b0, b1);
}

static inline int8_t *pw16_pixel(const int32_t *r, int8_t *o, const uint32_t *v)
{
    uint32_t x[8];
    for (int32_t g = 0; g < 4; ++g) {
        x[2 * g] = tcc_sxtb16(v[g]);
        x[2 * g + 1] = tcc_sxtb16_ror8(v[g]);
    }
    for (;; r += TCC_ARM_PW16_RECORD_WORDS) {
        int32_t acc = r[0];
        for (int32_t j = 0; j < 8; ++j) {
            acc = tcc_smlad(x[j], (uint32_t)r[1 + j], acc);
        }
        const int32_t q = tcc_smmlar(acc, r[9], r[10]) + (acc >> 31);
        *o++ = (int8_t)TCC_SSAT8(q >> (r[11] & 255));
        if (r[11] & 256) {
            return o;
        }
    }
}

static inline int8_t *pw16_pair(const int32_t *rec, int8_t *out, const int8_t *s0, const int8_t *s1)
{
    uint32_t a[4], b[4];
    for (int32_t g = 0; g < 4; ++g) {
        a[g] = tcc_ld32(s0 + 4 * g);
        b[g] = tcc_ld32(s1 + 4 * g);
    }
    return pw16_pixel(rec, pw16_pixel(rec, out, a), b);
}

static inline void pw8_run(const int32_t *rec, int8_t *out, const int8_t *in, int32_t pairs)
{
    for (int32_t i = 0; i < pairs; ++i, in += 16) {
        out = pw8_pair(rec, out, in, in + 8);
    }
}

static inline void pw16_run(const int32_t *rec, int8_t *out, const int8_t *in, int32_t pairs)
{
    for (int32_t i = 0; i < pairs; ++i, in += 32) {
        out = pw16_pair(rec, out, in, in + 16);
    }
}
#endif

/* ------------------------------------------------------------------------------------
 * The 2-pixel matmul through p->blocks (tcc_arm.h): 2 pixels x 2 output channels, per group
 * of 2 pairs one LDM of the columns (pairs j, j+1 of both pixels) and one LDM of the weights
 * (pairs j, j+1 of both channels), 8 SMLAD; the 4 accumulators start from one LDM of the
 * biases, the requantization constants follow in the same stream and the last channel pair's
 * shift carries the end mark (0x100), so the loop needs only the column and weight pointers.
 * The groups run MM2_UNROLL (32) to a pass; the first pass enters the unrolled body at group
 * `skip` = (32 - G % 32) % 32 (a computed branch, each group being 40 bytes of code).
 * ------------------------------------------------------------------------------------ */
#define MM2_UNROLL 32

typedef struct {
    const uint32_t *x_start;                   /* col */
    int32_t skip;                              /* groups skipped by the first pass */
    const uint32_t *x_end;                     /* end of col */
    int8_t *out;
    int32_t off1;                              /* pixel 1's outputs - pixel 0's */
} mm2_ctx;

#if TCC_ARM_HAVE_DSP
#define MM2_GROUP                                                                           \
    "ldmia.w r12!, {r0-r3}\n\t"                                                             \
    "ldmia.w lr!, {r4-r7}\n\t"                                                              \
    "smlad  r8, r0, r4, r8\n\t"                                                             \
    "smlad  r10, r1, r4, r10\n\t"                                                           \
    "smlad  r9, r0, r6, r9\n\t"                                                             \
    "smlad  r11, r1, r6, r11\n\t"                                                           \
    "smlad  r8, r2, r5, r8\n\t"                                                             \
    "smlad  r10, r3, r5, r10\n\t"                                                           \
    "smlad  r9, r2, r7, r9\n\t"                                                             \
    "smlad  r11, r3, r7, r11\n\t"
#define MM2_RQ(A, M, ADD, S)                                                                \
    "smmlar r6, " A ", " M ", " ADD "\n\t"                                                  \
    "add    " A ", r6, " A ", asr #31\n\t"                                                  \
    "asr    " A ", " A ", " S "\n\t"                                                        \
    "ssat   " A ", #8, " A "\n\t"

#ifdef CONV_HAVE_MM2
/* (ctx, blocks); the ctx words are copied to the stack: sp + 0 x_start, 4 the entry address
 * (computed from skip), 8 x_end, 12 out, 16 off1 */
static __attribute__((naked, noinline)) void mm2(PW8_ARG const mm2_ctx *ctx, PW8_ARG const int32_t *blk)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "mov    lr, r1\n\t"
        "ldm    r0, {r0-r4}\n\t"
        "adr    r6, 10f\n\t"
        "add    r6, r6, r1, lsl #5\n\t"
        "add    r1, r6, r1, lsl #3\n\t"
        "orr    r1, r1, #1\n\t"
        "push   {r0-r4}\n"
        "2:\n\t"
        "ldm    lr!, {r8-r11}\n\t"
        "ldrd   r12, r0, [sp]\n\t"
        "bx     r0\n\t"
        ".p2align 2\n"
        "10:\n\t"
        MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP
        MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP
        MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP
        MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP MM2_GROUP
        "ldr    r0, [sp, #8]\n\t"
        "cmp    r12, r0\n\t"
        "bne    10b\n\t"
        "ldm    lr!, {r0-r5}\n\t"
        MM2_RQ("r8", "r0", "r1", "r2")
        MM2_RQ("r10", "r0", "r1", "r2")
        MM2_RQ("r9", "r3", "r4", "r5")
        MM2_RQ("r11", "r3", "r4", "r5")
        "ldrd   r6, r7, [sp, #12]\n\t"
        "bfi    r8, r9, #8, #8\n\t"            /* the 2 channels of a pixel: one halfword */
        "bfi    r10, r11, #8, #8\n\t"
        "strh   r10, [r6, r7]\n\t"
        "strh   r8, [r6], #2\n\t"
        "str    r6, [sp, #12]\n\t"
        "tst    r5, #256\n\t"
        "beq    2b\n\t"
        "add    sp, #20\n\t"
        "pop    {r4-r11, pc}\n\t");
}
#endif
#else
static inline void mm2(const mm2_ctx *c, const int32_t *blk)
{
    int8_t *o = c->out;
    const int32_t groups = (int32_t)(c->x_end - c->x_start) / 4;
    for (;;) {
        int32_t a0 = blk[0], b0 = blk[1], a1 = blk[2], b1 = blk[3];
        const uint32_t *x = c->x_start;
        const uint32_t *w = (const uint32_t *)(blk + 4);
        for (int32_t g = 0; g < groups; ++g, x += 4, w += 4) {
            a0 = tcc_smlad(x[0], w[0], a0);
            a1 = tcc_smlad(x[1], w[0], a1);
            b0 = tcc_smlad(x[0], w[2], b0);
            b1 = tcc_smlad(x[1], w[2], b1);
            a0 = tcc_smlad(x[2], w[1], a0);
            a1 = tcc_smlad(x[3], w[1], a1);
            b0 = tcc_smlad(x[2], w[3], b0);
            b1 = tcc_smlad(x[3], w[3], b1);
        }
        const int32_t *r = blk + 4 + 4 * groups;
        o[0] = (int8_t)tcc_arm_rq_pos(a0, r[0], r[1], r[2]);
        o[1] = (int8_t)tcc_arm_rq_pos(b0, r[3], r[4], r[5] & 255);
        o[c->off1] = (int8_t)tcc_arm_rq_pos(a1, r[0], r[1], r[2]);
        o[c->off1 + 1] = (int8_t)tcc_arm_rq_pos(b1, r[3], r[4], r[5] & 255);
        o += 2;
        if (r[5] & 256) {
            return;
        }
        blk = r + 6;
    }
}
#endif

/* The column pair of a 3x3 kernel on 3 channels (first layers), both fields inside the image,
 * sizes constant: per kernel row the first 8 bytes of both pixels as 4 pair words each; then
 * the rows' ninth bytes t0..t2 in im2col_rows2's tail order, (t0, t2) and (t1, pad) per pixel,
 * without the tail buffer: the word at byte 5 of a row has byte 8 on top, SXTB16 ROR 8 puts it
 * in the high half and PKHTB moves it down (the pad lane multiplies a zero weight). */
#define PAIR333_ROW(a, b, col, ta, tb)                                                      \
    do {                                                                                    \
        const uint32_t v0_ = tcc_ld32(a), v1_ = tcc_ld32(b);                                \
        const uint32_t u0_ = tcc_ld32((a) + 4), u1_ = tcc_ld32((b) + 4);                    \
        TCC_STRD(tcc_sxtb16(v0_), tcc_sxtb16(v1_), col, 0);                                 \
        TCC_STRD(tcc_sxtb16_ror8(v0_), tcc_sxtb16_ror8(v1_), col, 2);                       \
        TCC_STRD(tcc_sxtb16(u0_), tcc_sxtb16(u1_), col, 4);                                 \
        TCC_STRD(tcc_sxtb16_ror8(u0_), tcc_sxtb16_ror8(u1_), col, 6);                       \
        ta = tcc_sxtb16_ror8(tcc_ld32((a) + 5));                                            \
        tb = tcc_sxtb16_ror8(tcc_ld32((b) + 5));                                            \
    } while (0)
TCC_ARM_INLINE void pair333(const int8_t *s0, int32_t step, int32_t row_step, uint32_t *col)
{
    uint32_t ta0, tb0, ta1, tb1, ta2, tb2;
    const int8_t *s1 = s0 + row_step, *s2 = s1 + row_step;
    PAIR333_ROW(s0, s0 + step, col, ta0, tb0);
    PAIR333_ROW(s1, s1 + step, col + 8, ta1, tb1);
    PAIR333_ROW(s2, s2 + step, col + 16, ta2, tb2);
    TCC_STRD(tcc_pkhtb(ta2, ta0), tcc_pkhtb(tb2, tb0), col, 24);
    TCC_STRD(tcc_pkhtb(ta1, ta1), tcc_pkhtb(tb1, tb1), col, 26);
}

/* The column pair of 2 pixels of one row whose receptive fields lie inside the image: the
 * 3x3-on-3-channels rows inline (pair333), any other geometry through im2col_rows2. */
TCC_ARM_INLINE void im2col_pair_inside(const tcc_arm_conv_s8_params *p, const int8_t *s0, uint32_t *col,
                                       int8_t *tail, int32_t k333, int32_t row_step333)
{
    if (k333) {
        pair333(s0, p->stride_w * 3, row_step333, col);
    } else {
        im2col_rows2(p, s0, p->stride_w * p->in_c, col, tail);
    }
}

/* The same, not inlined: the flat loop's copy (odd widths, no 2x2 blocks), off the fast path. */
static __attribute__((noinline)) void im2col_pair_inside_call(const tcc_arm_conv_s8_params *p, const int8_t *s0,
                                                              uint32_t *col, int8_t *tail, int32_t k333,
                                                              int32_t row_step333)
{
    im2col_pair_inside(p, s0, col, tail, k333, row_step333);
}

/* The column of one pixel (lane dst = col + q), any position. */
TCC_ARM_INLINE void im2col_pixel(const tcc_arm_conv_s8_params *p, const int8_t *img, int32_t oy, int32_t ox,
                                 uint32_t *dst, int8_t *tail, int8_t *tmp, uint32_t zpw, int32_t words)
{
    if (words) {
        im2col_words(p, img, oy, ox, dst, zpw);
    } else {
        im2col_rows(p, img, oy, ox, dst, tail, tmp, zpw);
    }
}

/* The calls conv_run makes into parts an entry point may leave out (never reached then). */
#ifdef CONV_HAVE_MM2
#define CONV_MM2(c, blk) mm2(c, blk)
#else
#define CONV_MM2(c, blk) ((void)(c), (void)(blk))
#endif
#ifdef CONV_HAVE_STORE
#define CONV_STORE(p, col, o, off1) matmul_store(p, col, o, off1)
#else
#define CONV_STORE(p, col, o, off1) ((void)(p), (void)(col), (void)(o), (void)(off1))
#endif
#if !defined(TCC_OMIT_ARM_CONV_S8_PW8) && !defined(TCC_OMIT_ARM_CONV_S8_PW16)
#define CONV_PW_RUN(c, rec, o, x, n) ((c) == 8 ? pw8_run(rec, o, x, n) : pw16_run(rec, o, x, n))
#elif !defined(TCC_OMIT_ARM_CONV_S8_PW8)
#define CONV_PW_RUN(c, rec, o, x, n) pw8_run(rec, o, x, n)
#elif !defined(TCC_OMIT_ARM_CONV_S8_PW16)
#define CONV_PW_RUN(c, rec, o, x, n) pw16_run(rec, o, x, n)
#else
#define CONV_PW_RUN(c, rec, o, x, n) ((void)(rec), (void)(o), (void)(x), (void)(n))
#endif

TCC_ARM_INLINE void mm2_init(mm2_ctx *c, const uint32_t *col, int32_t groups, int32_t off1)
{
    c->x_start = col;
    c->skip = (MM2_UNROLL - groups % MM2_UNROLL) % MM2_UNROLL;
    c->x_end = col + 4 * groups;
    c->off1 = off1;
}

/* The body of the entry points: `records` (8 or 16: the 1x1 records of that many input channels
 * run every pixel pair through pw8_run / pw16_run, an odd last pixel through matmul_store; 0:
 * none) and `blocks` (1: the 2x2 block matmul mm2 on p->blocks; 0: matmul_store on p->weights)
 * are constants of each entry point, chosen by the compiler (tinycc/variants/arm_conv.py). */
TCC_ARM_INLINE void conv_run(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out, void *scratch,
                             const int32_t records, const int32_t blocks)
{
    const int32_t kk = p->k_packed;
    uint32_t *col = (uint32_t *)scratch;                 /* PIX * kk / 2 words */
    /* in_c % 4 != 0 only, in the PIX * kk bytes that follow the columns: the tail bytes of 2
     * pixels (T4 = K4 of k_h * (R % 4) each) and one row of R bytes at tail + T4 (on the second
     * pixel's tails, which only im2col_rows2 uses). The padding of the tails up to T4 multiplies
     * zero weights: zero at first, and whatever bytes tmp leaves there later. */
    int8_t *tail = (int8_t *)(col + PIX * (kk / 2));
    int8_t *tmp = tail + TCC_ARM_K4(p->k_h * (p->k_w * p->in_c % 4));
    const int32_t words = p->in_c % 4 == 0;
    const int32_t pointwise = words && p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1
                              && p->pad_top == 0 && p->pad_left == 0
                              && p->out_h == p->in_h && p->out_w == p->in_w;
    const uint32_t zpw = tcc_splat16(p->in_zp);
    const int32_t opix = p->out_h * p->out_w;
    const int32_t total = p->batches * opix;
    const int32_t in_img = p->in_h * p->in_w * p->in_c;

    if (!words) {
        /* the tail padding up to a whole word multiplies zero weights; keep it defined */
        const int32_t t = p->k_h * (p->k_w * p->in_c % 4);
        fill_bytes(tail, 0, 2 * TCC_ARM_K4(t));
    }
    /* im2col_rows2 applies to a block whose first row starts at y in [0, y_last] and whose
     * first pixel's field starts at x in [0, x_last] (so that the second one ends inside) */
    const int32_t y_last = p->in_h - 1 - (p->k_h - 1) * p->dil_h;
    const int32_t x_last = p->in_w - p->k_w - p->stride_w;
    const int32_t fast_rows = p->dil_w == 1 && y_last >= 0 && x_last >= 0;
    /* 3x3 on 3 channels (first layers): the 2-pixel im2col inline, sizes constant */
    const int32_t k333 = p->k_h == 3 && p->k_w == 3 && p->in_c == 3;
    const int32_t row_step333 = p->dil_h * p->in_w * 3;
    const int32_t groups = kk / 4;
    int32_t i0 = 0;
    if (records && total >= 2) {   /* (pairs >= 1: the asm loop counts down to 0) */
        CONV_PW_RUN(records, p->records, out, in, total / 2);
        i0 = total & ~1;
    }
    if (!pointwise && blocks && (p->out_w & 1) == 0) {
        /* row by row (the pixel pairs never straddle a row): the fast im2col wherever both
         * fields lie inside the image, decided per row and per column pair */
        mm2_ctx c;
        mm2_init(&c, col, groups, p->out_c);
        int8_t *o = out;
        for (int32_t b = 0; b < p->batches; ++b) {
            const int8_t *img = in + b * in_img;
            for (int32_t oy = 0; oy < p->out_h; ++oy) {
                const int32_t y0 = oy * p->stride_h - p->pad_top;
                const int32_t row_ok = fast_rows && (uint32_t)y0 <= (uint32_t)y_last;
                for (int32_t ox = 0; ox < p->out_w; ox += 2, o += 2 * p->out_c) {
                    const int32_t x0 = ox * p->stride_w - p->pad_left;
                    if (row_ok && (uint32_t)x0 <= (uint32_t)x_last) {
                        im2col_pair_inside(p, img + (y0 * p->in_w + x0) * p->in_c, col, tail, k333,
                                           row_step333);
                    } else {
                        for (int32_t q = 0; q < PIX; ++q) {
                            im2col_pixel(p, img, oy, ox + q, col + q, tail, tmp, zpw, words);
                        }
                    }
                    c.out = o;
                    CONV_MM2(&c, p->blocks);
                }
            }
        }
        return;
    }
    /* position of the next output pixel */
    int32_t b = 0, oy = 0, ox = 0;
    for (int32_t i = i0; i < total; i += PIX) {
        const int32_t n = total - i < PIX ? total - i : PIX;
        if (pointwise) {
            const int8_t *s0 = in + i * p->in_c;
            expand2(col, s0, n > 1 ? s0 + p->in_c : s0, p->in_c / 4);
        } else if (n == PIX && fast_rows && ox + 1 < p->out_w
                   && (uint32_t)(oy * p->stride_h - p->pad_top) <= (uint32_t)y_last
                   && (uint32_t)(ox * p->stride_w - p->pad_left) <= (uint32_t)x_last) {
            /* both pixels in one row, inside the image */
            im2col_pair_inside_call(p, in + b * in_img + ((oy * p->stride_h - p->pad_top) * p->in_w
                                                     + ox * p->stride_w - p->pad_left) * p->in_c,
                               col, tail, k333, row_step333);
            ox += 2;
            if (ox == p->out_w) {
                ox = 0;
                if (++oy == p->out_h) {
                    oy = 0;
                    ++b;
                }
            }
        } else {
            for (int32_t q = 0; q < n; ++q) {
                im2col_pixel(p, in + b * in_img, oy, ox, col + q, tail, tmp, zpw, words);
                if (++ox == p->out_w) {
                    ox = 0;
                    if (++oy == p->out_h) {
                        oy = 0;
                        ++b;
                    }
                }
            }
        }
        if (n < PIX) {
            /* an odd last pixel: computed twice, both copies stored at its place */
            for (int32_t j = 0; j < kk / 2; ++j) {
                col[2 * j + 1] = col[2 * j];
            }
        }
        if (blocks) {
            mm2_ctx c;
            mm2_init(&c, col, groups, n < PIX ? 0 : p->out_c);
            c.out = out + i * p->out_c;
            CONV_MM2(&c, p->blocks);
        } else {
            CONV_STORE(p, col, out + i * p->out_c, n < PIX ? 0 : p->out_c);
        }
    }
}

#ifndef TCC_OMIT_ARM_CONV_S8_STORE
void tcc_arm_conv_s8_store(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    conv_run(p, in, out, scratch, 0, 0);
}
#endif

#ifndef TCC_OMIT_ARM_CONV_S8_BLOCKS
void tcc_arm_conv_s8_blocks(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    conv_run(p, in, out, scratch, 0, 1);
}
#endif

#ifndef TCC_OMIT_ARM_CONV_S8_PW8
void tcc_arm_conv_s8_pw8(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    conv_run(p, in, out, scratch, 8, 0);
}
#endif

#ifndef TCC_OMIT_ARM_CONV_S8_PW16
void tcc_arm_conv_s8_pw16(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    conv_run(p, in, out, scratch, 16, 0);
}
#endif

#ifndef TCC_OMIT_ARM_CONV_S8_PW8_PAIRS
void tcc_arm_conv_s8_pw8_pairs(const tcc_arm_conv_s8_params *p, const int8_t *in, int8_t *out)
{
    pw8_run(p->records, out, in, p->batches * p->out_h * p->out_w / 2);
}
#endif
