/* tinycc runtime, Cortex-M DSP: CONV_2D int8 with sparse weights (see tcc_arm_sparse.h).
 *
 * Per entry word (two nonzero weights) the inner loop does one LDR of the word, UXTAB (the next
 * tap's address), SXTB16 ROR 8 (both weights as int16 lanes), per weight 4 LDR of the 8 pixels'
 * int16 activations and 8 SMLAxB / SMLAxT: about 33 cycles per 16 MACs, plus 6 of loop control
 * per 2 words (tinycc/cycles.py's Cortex-M4 timings).
 */
#include <stddef.h>
#include <string.h>

#include "tcc_arm_sparse.h"
#include "tcc_arm_dsp.h"

#if defined(__ARM_FEATURE_DSP) && !defined(__GNUC__)
#error "tcc_arm_sparse.c: the DSP path is GNU inline asm; build it with GCC or clang (or drop the fast kernels)"
#endif

#define SP_PIX TCC_ARM_SPARSE_PIX

/* The receptive fields of pixels pix .. pix + 7 (flat index; past npix: in_zp) into cols. */
static void sparse_im2col(const tcc_arm_sparse_conv_params *p, const int8_t *in, int32_t pix, int32_t npix,
                          int16_t *cols)
{
    const int32_t run = p->k_w * p->in_c;
    if (p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0
        && p->pad_left == 0 && pix + SP_PIX <= npix) {   /* pointwise: 8 consecutive input pixels */
        const int8_t *x = in + pix * p->in_c;
        for (int32_t i = 0; i < SP_PIX; ++i, x += p->in_c) {
            int16_t *c = cols + i;
            for (int32_t ch = 0; ch < p->in_c; ++ch, c += SP_PIX) {
                *c = x[ch];
            }
        }
        return;
    }
    for (int32_t i = 0; i < SP_PIX; ++i, ++pix) {
        int16_t *c = cols + i;
        if (pix >= npix) {
            for (int32_t k = 0; k < p->k_h * run; ++k) {
                c[k * SP_PIX] = (int16_t)p->in_zp;
            }
            continue;
        }
        const int32_t ox = pix % p->out_w, oy = pix / p->out_w % p->out_h, b = pix / (p->out_w * p->out_h);
        const int8_t *img = in + b * p->in_h * p->in_w * p->in_c;
        const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
        for (int32_t ky = 0; ky < p->k_h; ++ky) {
            const int32_t y = y0 + ky * p->dil_h;
            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                const int32_t x = x0 + kx * p->dil_w;
                if (y >= 0 && y < p->in_h && x >= 0 && x < p->in_w) {
                    const int8_t *px = img + (y * p->in_w + x) * p->in_c;
                    for (int32_t ch = 0; ch < p->in_c; ++ch) {
                        c[ch * SP_PIX] = px[ch];
                    }
                } else {
                    for (int32_t ch = 0; ch < p->in_c; ++ch) {
                        c[ch * SP_PIX] = (int16_t)p->in_zp;
                    }
                }
                c += p->in_c * SP_PIX;
            }
        }
    }
}

#if TCC_ARM_HAVE_DSP
/* One weight of the entry word (its tap's address in a): the tap's 8 activations times the
 * weight in half H (b or t) of w. The UXTAB of the next address comes one instruction before
 * the LDR that uses it only for the first weight of a word (SXTB16 in between). */
#define SP_ENTRY(H)                                                                        \
    "ldr    %[x], [%[a]]\n\t"                                                              \
    "ldr    %[y], [%[a], #4]\n\t"                                                          \
    "smlab" H " %[c0], %[x], %[w], %[c0]\n\t"                                              \
    "smlat" H " %[c1], %[x], %[w], %[c1]\n\t"                                              \
    "smlab" H " %[c2], %[y], %[w], %[c2]\n\t"                                              \
    "smlat" H " %[c3], %[y], %[w], %[c3]\n\t"                                              \
    "ldr    %[x], [%[a], #8]\n\t"                                                          \
    "ldr    %[y], [%[a], #12]\n\t"                                                         \
    "smlab" H " %[c4], %[x], %[w], %[c4]\n\t"                                              \
    "smlat" H " %[c5], %[x], %[w], %[c5]\n\t"                                              \
    "smlab" H " %[c6], %[y], %[w], %[c6]\n\t"                                              \
    "smlat" H " %[c7], %[y], %[w], %[c7]\n\t"
#define SP_WORD                                                                            \
    "ldr    %[e], [%[s]], #4\n\t"                                                          \
    "uxtab  %[a], %[a], %[e]\n\t"                                                          \
    "sxtb16 %[w], %[e], ror #8\n\t"                                                        \
    SP_ENTRY("b")                                                                          \
    "uxtab  %[a], %[a], %[e], ror #16\n\t"                                                 \
    SP_ENTRY("t")
#endif

/* r clamped to [lo, hi] (compare and conditional move: gcc's branches cost more). */
TCC_ARM_INLINE int32_t sparse_clamp(int32_t r, int32_t lo, int32_t hi)
{
#if TCC_ARM_HAVE_DSP
    __asm__("cmp %0, %1\n\tit lt\n\tmovlt %0, %1\n\tcmp %0, %2\n\tit gt\n\tmovgt %0, %2"
            : "+r"(r) : "r"(lo), "r"(hi) : "cc");
    return r;
#else
    return TCC_ARM_MIN(TCC_ARM_MAX(r, lo), hi);
#endif
}

/* One output channel of the block: bias + its entries times the columns, requantized, clamped
 * and stored for the block's n pixels (o: pixel 0's value, stride out_c). Returns the next channel. */
static const int32_t *sparse_channel(const int32_t *s, const int16_t *cols, int8_t *o, int32_t stride, int32_t n,
                                     int32_t lo, int32_t hi)
{
    const uint32_t meta = (uint32_t)s[3];
    const int32_t words = (int32_t)(meta & 0xffffu), scale = (int32_t)((meta >> 16) & 0xffu);
    const int32_t shift = (int32_t)(meta >> 24), mult = s[1], add = s[2];
    const int32_t *e = s + TCC_ARM_SPARSE_HEAD, *end = e + words;
    int32_t c[SP_PIX];
    if (shift == 0) {                   /* a constant channel: its output is add */
        const int32_t v = sparse_clamp(add, lo, hi);
        for (int32_t i = 0; i < n; ++i, o += stride) {
            *o = (int8_t)v;
        }
        return end;
    }
#if TCC_ARM_HAVE_DSP
    int32_t c0 = s[0], c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    if (words) {
        /* two words per pass; an odd count enters at the second (bit 0 of a says so) */
        uint32_t x, y, w = (uint32_t)(uintptr_t)end;     /* the end, kept on the stack by the asm */
        uint32_t ew;
        uintptr_t a = (uintptr_t)cols | (uintptr_t)(words & 1);
        __asm__ volatile(
            "push   {%[w]}\n\t"
            "tst    %[a], #1\n\t"
            "bic    %[a], %[a], #1\n\t"
            "bne    2f\n\t"
            "1:\n\t"
            SP_WORD
            "2:\n\t"
            SP_WORD
            "ldr    %[w], [sp]\n\t"
            "cmp    %[s], %[w]\n\t"
            "bne    1b\n\t"
            "add    sp, sp, #4\n\t"
            : [c0] "+r"(c0), [c1] "+r"(c1), [c2] "+r"(c2), [c3] "+r"(c3), [c4] "+r"(c4), [c5] "+r"(c5),
              [c6] "+r"(c6), [c7] "+r"(c7), [s] "+r"(e), [a] "+r"(a), [w] "+r"(w), [e] "=&r"(ew),
              [x] "=&r"(x), [y] "=&r"(y)
            :
            : "memory", "cc");
    }
    c[0] = c0, c[1] = c1, c[2] = c2, c[3] = c3, c[4] = c4, c[5] = c5, c[6] = c6, c[7] = c7;
#else
    const int16_t *col = cols;
    for (int32_t i = 0; i < SP_PIX; ++i) {
        c[i] = s[0];
    }
    for (const uint8_t *b = (const uint8_t *)e; b < (const uint8_t *)end; b += 2) {
        col += b[0] / 2;
        for (int32_t i = 0; i < SP_PIX; ++i) {
            c[i] += (int32_t)(int8_t)b[1] * col[i];
        }
    }
#endif
#define SP_RQ(k)                                                                            \
    (*o = (int8_t)sparse_clamp(tcc_arm_rq_pos((int32_t)((uint32_t)c[k] << scale), mult, add, shift), lo, hi), \
     o += stride)
    if (n == SP_PIX) {                  /* unrolled for a whole block */
        SP_RQ(0), SP_RQ(1), SP_RQ(2), SP_RQ(3), SP_RQ(4), SP_RQ(5), SP_RQ(6), SP_RQ(7);
        return end;
    }
    for (int32_t i = 0; i < n; ++i) {
        SP_RQ(i);
    }
#undef SP_RQ
    return end;
}

#ifndef TCC_OMIT_ARM_SPARSE_CONV_S8  /* tinycc defines it when no op calls it */
void tcc_arm_sparse_conv_s8(const tcc_arm_sparse_conv_params *p, const int8_t *in, int8_t *out, int16_t *scratch)
{
    const int32_t npix = p->batches * p->out_h * p->out_w, out_c = p->out_c, lo = p->act_min, hi = p->act_max;
    for (int32_t pix = 0; pix < npix; pix += SP_PIX) {
        const int32_t n = TCC_ARM_MIN(SP_PIX, npix - pix);
        sparse_im2col(p, in, pix, npix, scratch);
        const int32_t *s = p->stream;
        int8_t *o = out + pix * out_c;
        for (int32_t oc = 0; oc < out_c; ++oc) {
            s = sparse_channel(s, scratch, o + oc, out_c, n, lo, hi);
        }
    }
}
#endif
