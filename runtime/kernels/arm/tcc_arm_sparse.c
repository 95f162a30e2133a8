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
__attribute__((noinline)) static void sparse_im2col(const tcc_arm_sparse_conv_params *p, const int8_t *in, int32_t pix, int32_t npix,
                          int16_t *cols)
{
    const int32_t run = p->k_w * p->in_c;
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
/* One weight of the entry word e: the next tap (UXTAB of byte ROT), its 8 activations times the
 * weight in half H (B or T) of w. */
#define SP_ENTRY(ROT, H)                                                                   \
    "uxtab  %[a], %[a], %[e]" ROT "\n\t"                                                   \
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
    "sxtb16 %[w], %[e], ror #8\n\t"                                                        \
    SP_ENTRY("", "b")                                                                      \
    SP_ENTRY(", ror #16", "t")
#endif

/* acc[0..7] += the channel's entries (words of them, even, > 0) times the columns. */
__attribute__((noinline)) static void sparse_dot8(const int32_t *s, int32_t words, const int16_t *cols, int32_t acc[SP_PIX])
{
#if TCC_ARM_HAVE_DSP
    int32_t c0 = acc[0], c1 = acc[1], c2 = acc[2], c3 = acc[3], c4 = acc[4], c5 = acc[5], c6 = acc[6], c7 = acc[7];
    uint32_t e, x, y;
    uint32_t w = (uint32_t)(uintptr_t)(s + words);       /* the end, kept on the stack by the asm */
    uintptr_t a = (uintptr_t)cols;
    __asm__ volatile(
        "push   {%[w]}\n\t"
        "1:\n\t"
        SP_WORD
        SP_WORD
        "ldr    %[w], [sp]\n\t"
        "cmp    %[s], %[w]\n\t"
        "bne    1b\n\t"
        "add    sp, sp, #4\n\t"
        : [c0] "+r"(c0), [c1] "+r"(c1), [c2] "+r"(c2), [c3] "+r"(c3), [c4] "+r"(c4), [c5] "+r"(c5),
          [c6] "+r"(c6), [c7] "+r"(c7), [s] "+r"(s), [a] "+r"(a), [w] "+r"(w), [e] "=&r"(e), [x] "=&r"(x),
          [y] "=&r"(y)
        :
        : "memory", "cc");
    acc[0] = c0, acc[1] = c1, acc[2] = c2, acc[3] = c3, acc[4] = c4, acc[5] = c5, acc[6] = c6, acc[7] = c7;
#else
    const uint8_t *b = (const uint8_t *)s, *end = b + 4 * words;
    const int16_t *c = cols;
    for (; b < end; b += 2) {
        c += b[0] / 2;
        for (int32_t i = 0; i < SP_PIX; ++i) {
            acc[i] += (int32_t)(int8_t)b[1] * c[i];
        }
    }
#endif
}

#ifndef TCC_OMIT_ARM_SPARSE_CONV_S8  /* tinycc defines it when no op calls it */
void tcc_arm_sparse_conv_s8(const tcc_arm_sparse_conv_params *p, const int8_t *in, int8_t *out, int16_t *scratch)
{
    const int32_t npix = p->batches * p->out_h * p->out_w;
    for (int32_t pix = 0; pix < npix; pix += SP_PIX) {
        const int32_t n = TCC_ARM_MIN(SP_PIX, npix - pix);
        sparse_im2col(p, in, pix, npix, scratch);
        const int32_t *s = p->stream;
        int8_t *o = out + pix * p->out_c;
        for (int32_t oc = 0; oc < p->out_c; ++oc, ++o) {
            const int32_t mult = s[1], add = s[2];
            const uint32_t meta = (uint32_t)s[3];
            const int32_t words = (int32_t)(meta & 0xffffu), scale = (int32_t)((meta >> 16) & 0xffu);
            const int32_t shift = (int32_t)(meta >> 24);
            int32_t acc[SP_PIX];
            for (int32_t i = 0; i < SP_PIX; ++i) {
                acc[i] = s[0];
            }
            s += TCC_ARM_SPARSE_HEAD;
            if (words) {
                sparse_dot8(s, words, scratch, acc);
            }
            s += words;
            for (int32_t i = 0; i < n; ++i) {
                const int32_t v = (int32_t)((uint32_t)acc[i] << scale);
                const int32_t r = shift ? tcc_arm_rq_pos(v, mult, add, shift) : tcc_arm_rq_zero(v, mult, add);
                o[i * p->out_c] = (int8_t)TCC_ARM_MIN(TCC_ARM_MAX(r, p->act_min), p->act_max);
            }
        }
    }
}
#endif
