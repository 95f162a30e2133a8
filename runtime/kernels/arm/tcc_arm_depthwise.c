/* tinycc runtime, Cortex-M DSP: DEPTHWISE_CONV_2D int8, depth multiplier 1 (see tcc_arm.h).
 *
 * Same semantics as tcc_depthwise_s8 (TFLite DepthwiseConvPerChannel, zero point folded into
 * the bias, padded taps read in_zp).
 *
 * tcc_arm_depthwise_s8: any geometry. Per output pixel, channels 4 at a time: a word of 4
 * input channels gives (c0, c2) and (c1, c3) with SXTB16 / SXTB16 ROR 8; SMLABB / SMLATT
 * multiply them with the tap's packed weights.
 *
 * tcc_arm_depthwise3x3_s8: 3x3, stride 1 or 2. The 3 input rows an output row needs are
 * kept as int16 planes (one per channel, in_zp in the padding columns) in a ring of 3 rows;
 * a 32-bit load at plane index i is the pair (x[i], x[i+1]) of horizontally adjacent taps,
 * so SMLAD multiplies two taps of a row at once with (w[ky][0], w[ky][1]).
 */
#include "tcc_arm.h"
#include "tcc_arm_dsp.h"

TCC_ARM_INLINE int32_t dw_rq(int32_t acc, const tcc_arm_rq *rq)
{
    return rq->shift != 0 ? tcc_arm_rq_pos(acc, rq->mult, rq->add, rq->shift)
                          : tcc_arm_rq_zero(acc, rq->mult, rq->add);
}

TCC_ARM_INLINE int32_t dw_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ------------------------------------------------------------------------------------ */

void tcc_arm_depthwise_s8(const tcc_arm_depthwise_s8_params *p, const int8_t *in, int8_t *out)
{
    const int32_t c_all = p->channels;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t clamp = lo > -128 || hi < 127;
    const uint32_t zp4 = tcc_splat8(p->in_zp);
    const int32_t row_bytes = p->in_w * c_all;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * row_bytes;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            const int32_t rows_in = y0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                const int32_t inside = rows_in && x0 >= 0 && x0 + (p->k_w - 1) * p->dil_w < p->in_w;
                const uint32_t *w = (const uint32_t *)p->weights;
                for (int32_t c = 0; c < c_all; c += 4) {
                    const int32_t full = c + 4 <= c_all;
                    int32_t a0 = p->bias[c], a1 = p->bias[c + 1], a2 = p->bias[c + 2], a3 = p->bias[c + 3];
                    for (int32_t ky = 0; ky < p->k_h; ++ky) {
                        const int32_t y = y0 + ky * p->dil_h;
                        const int32_t row_ok = y >= 0 && y < p->in_h;
                        for (int32_t kx = 0; kx < p->k_w; ++kx) {
                            const int32_t x = x0 + kx * p->dil_w;
                            uint32_t v;
                            if (inside || (row_ok && x >= 0 && x < p->in_w)) {
                                const int8_t *src = img + (y * p->in_w + x) * c_all + c;
                                if (full) {
                                    v = tcc_ld32(src);
                                } else {
                                    v = 0;
                                    for (int32_t k = 0; c + k < c_all; ++k) {
                                        v |= (uint32_t)(uint8_t)src[k] << (8 * k);
                                    }
                                }
                            } else {
                                v = zp4;
                            }
                            uint32_t w0, w1;
                            TCC_LDRD(w0, w1, w, 0);
                            w += 2;
                            const uint32_t e = tcc_sxtb16(v), o = tcc_sxtb16_ror8(v);
                            a0 = tcc_smlabb(e, w0, a0);
                            a2 = tcc_smlatt(e, w0, a2);
                            a1 = tcc_smlabb(o, w1, a1);
                            a3 = tcc_smlatt(o, w1, a3);
                        }
                    }
                    a0 = dw_rq(a0, &p->rq[c]);
                    if (clamp) a0 = dw_clamp(a0, lo, hi);
                    if (full) {
                        a1 = dw_rq(a1, &p->rq[c + 1]);
                        a2 = dw_rq(a2, &p->rq[c + 2]);
                        a3 = dw_rq(a3, &p->rq[c + 3]);
                        if (clamp) {
                            a1 = dw_clamp(a1, lo, hi);
                            a2 = dw_clamp(a2, lo, hi);
                            a3 = dw_clamp(a3, lo, hi);
                        }
                        uint32_t packed = tcc_bfi8_1((uint32_t)a0, (uint32_t)a1);
                        packed = tcc_bfi8_2(packed, (uint32_t)a2);
                        packed = tcc_bfi8_3(packed, (uint32_t)a3);
                        tcc_st32(out, packed);
                    } else {
                        out[0] = (int8_t)a0;
                        if (c + 1 < c_all) {
                            a1 = dw_rq(a1, &p->rq[c + 1]);
                            if (clamp) a1 = dw_clamp(a1, lo, hi);
                            out[1] = (int8_t)a1;
                        }
                        if (c + 2 < c_all) {
                            a2 = dw_rq(a2, &p->rq[c + 2]);
                            if (clamp) a2 = dw_clamp(a2, lo, hi);
                            out[2] = (int8_t)a2;
                        }
                    }
                    out += full ? 4 : c_all - c;
                }
            }
        }
    }
}

/* ------------------------------------------------------------------------------------
 * 3x3 via channel-planar int16 lines.
 *
 * A "line" is an image row, or a column when the params say transposed (for tall, narrow
 * maps such as 25x5, so that the 4-output blocks run along the long side). For a line of
 * outputs, the 3 input lines it reads are held as int16 planes, one per channel, with in_zp in
 * the padding; a ring of 3 line slots means that with stride 1 each input line is converted
 * once. Per channel, 4 outputs at a time: for each of the 3 lines, 2 SMLAD on pairs of
 * adjacent taps and 2 SMLABB/SMLATB for the third tap.
 * ------------------------------------------------------------------------------------ */

/* Convert one input line (n elements, elem_step bytes apart, c_all channels each) into the
 * c_all planes at `plane` (row_len int16 each), at columns pad .. pad + n - 1. */
static void planar_line(int16_t *plane, const int8_t *src, int32_t n, int32_t elem_step, int32_t c_all,
                        int32_t row_len, int32_t pad)
{
    int32_t c = 0;
    for (; c + 4 <= c_all; c += 4) {
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
    for (; c < c_all; ++c) {
        int16_t *d = plane + c * row_len + pad;
        const int8_t *s = src + c;
        for (int32_t x = 0; x < n; ++x) {
            d[x] = s[x * elem_step];
        }
    }
}

/* Fill n int16 (n even) with zp. */
static void fill16(int16_t *dst, int32_t n, int32_t zp)
{
    const uint32_t v = tcc_splat16(zp);
    for (int32_t i = 0; i < n; i += 2) {
        tcc_st32(dst + i, v);
    }
}

#if TCC_ARM_HAVE_DSP
/* One line of the window for 4 outputs, stride 1, as asm text: %[r<k>] (4-byte aligned) moves
 * on by 4 columns. l(j) = (x[j], x[j+1]); out i += smlad(l(i), (w0, w1)) + x[i+2] * w2. */
#define DW_S1_TEXT(k)                                                                       \
    "ldrd   %[w01], %[w2], [%[wk], #" #k "*8]\n\t"                                          \
    "ldrd   %[l0], %[l2], [%[r" #k "]], #8\n\t"                                             \
    "smlad  %[a0], %[l0], %[w01], %[a0]\n\t"                                                \
    "smlabb %[a0], %[l2], %[w2], %[a0]\n\t"                                                 \
    "smlad  %[a2], %[l2], %[w01], %[a2]\n\t"                                                \
    "smlatb %[a1], %[l2], %[w2], %[a1]\n\t"                                                 \
    "ldr    %[l0], [%[r" #k "], #-6]\n\t"                                                   \
    "smlad  %[a1], %[l0], %[w01], %[a1]\n\t"                                                \
    "ldr    %[l0], [%[r" #k "], #-2]\n\t"                                                   \
    "smlad  %[a3], %[l0], %[w01], %[a3]\n\t"                                                \
    "ldr    %[l0], [%[r" #k "]]\n\t"                                                        \
    "smlabb %[a2], %[l0], %[w2], %[a2]\n\t"                                                 \
    "smlatb %[a3], %[l0], %[w2], %[a3]\n\t"

/* Stride 2: output i reads columns 2i .. 2i+2; %[r<k>] moves on by 8 columns. */
#define DW_S2_TEXT(k)                                                                       \
    "ldrd   %[w01], %[w2], [%[wk], #" #k "*8]\n\t"                                          \
    "ldrd   %[l0], %[l2], [%[r" #k "]], #16\n\t"                                            \
    "smlad  %[a0], %[l0], %[w01], %[a0]\n\t"                                                \
    "smlabb %[a0], %[l2], %[w2], %[a0]\n\t"                                                 \
    "smlad  %[a1], %[l2], %[w01], %[a1]\n\t"                                                \
    "ldrd   %[l0], %[l2], [%[r" #k "], #-8]\n\t"                                            \
    "smlabb %[a1], %[l0], %[w2], %[a1]\n\t"                                                 \
    "smlad  %[a2], %[l0], %[w01], %[a2]\n\t"                                                \
    "smlabb %[a2], %[l2], %[w2], %[a2]\n\t"                                                 \
    "smlad  %[a3], %[l2], %[w01], %[a3]\n\t"                                                \
    "ldr    %[l0], [%[r" #k "]]\n\t"                                                        \
    "smlabb %[a3], %[l0], %[w2], %[a3]\n\t"

#define DW_BLOCK_ASM(TEXT)                                                                  \
    do {                                                                                    \
        uint32_t w01_, w2_, l0_, l2_;                                                       \
        __asm__ volatile(TEXT(0) TEXT(1) TEXT(2)                                            \
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),                   \
              [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2),                                  \
              [w01] "=&r"(w01_), [w2] "=&r"(w2_), [l0] "=&r"(l0_), [l2] "=&r"(l2_)          \
            : [wk] "r"(wk)                                                                  \
            : "memory");                                                                    \
    } while (0)
#define DW_BLOCK_S1() DW_BLOCK_ASM(DW_S1_TEXT)
#define DW_BLOCK_S2() DW_BLOCK_ASM(DW_S2_TEXT)
#else
#define DW_S1_LINE(k, P)                                                                    \
    do {                                                                                    \
        const uint32_t w01_ = wk[2 * (k)], w2_ = wk[2 * (k) + 1];                           \
        const uint32_t l0_ = tcc_ld32(P), l1_ = tcc_ld32((P) + 1), l2_ = tcc_ld32((P) + 2);  \
        const uint32_t l3_ = tcc_ld32((P) + 3), l4_ = tcc_ld32((P) + 4);                    \
        a0 = tcc_smlabb(l2_, w2_, tcc_smlad(l0_, w01_, a0));                                \
        a1 = tcc_smlatb(l2_, w2_, tcc_smlad(l1_, w01_, a1));                                \
        a2 = tcc_smlabb(l4_, w2_, tcc_smlad(l2_, w01_, a2));                                \
        a3 = tcc_smlatb(l4_, w2_, tcc_smlad(l3_, w01_, a3));                                \
        (P) += 4;                                                                           \
    } while (0)
#define DW_S2_LINE(k, P)                                                                    \
    do {                                                                                    \
        const uint32_t w01_ = wk[2 * (k)], w2_ = wk[2 * (k) + 1];                           \
        const uint32_t l0_ = tcc_ld32(P), l2_ = tcc_ld32((P) + 2), l4_ = tcc_ld32((P) + 4);  \
        const uint32_t l6_ = tcc_ld32((P) + 6), l8_ = tcc_ld32((P) + 8);                    \
        a0 = tcc_smlabb(l2_, w2_, tcc_smlad(l0_, w01_, a0));                                \
        a1 = tcc_smlabb(l4_, w2_, tcc_smlad(l2_, w01_, a1));                                \
        a2 = tcc_smlabb(l6_, w2_, tcc_smlad(l4_, w01_, a2));                                \
        a3 = tcc_smlabb(l8_, w2_, tcc_smlad(l6_, w01_, a3));                                \
        (P) += 8;                                                                           \
    } while (0)
#define DW_BLOCK_S1() do { DW_S1_LINE(0, r0); DW_S1_LINE(1, r1); DW_S1_LINE(2, r2); } while (0)
#define DW_BLOCK_S2() do { DW_S2_LINE(0, r0); DW_S2_LINE(1, r1); DW_S2_LINE(2, r2); } while (0)
#endif

/* One output: columns 0..2 from r (any stride). */
#define DW_ONE_LINE(k, r)                                                                   \
    do {                                                                                    \
        const uint32_t w01_ = wk[2 * (k)], w2_ = wk[2 * (k) + 1];                           \
        a0 = tcc_smlabb(tcc_ld32((r) + 2), w2_, tcc_smlad(tcc_ld32(r), w01_, a0));           \
    } while (0)

typedef struct {
    const int16_t *line[3];  /* the 3 input line slots (channel 0's plane) */
    int32_t row_len;         /* int16 per plane */
    int32_t stride;          /* 1 or 2 */
    int32_t n_out;           /* outputs along the line */
    int32_t out_step;        /* bytes between consecutive outputs of a line, for one channel */
    int32_t c_all;
    int32_t clamp, lo, hi;
    const int32_t *records;  /* per channel: 6 weight words, bias, mult, add, shift */
} dw_line_ctx;

/* Requantize, clamp and store the 4 outputs of a block (a3 only if `four`). */
#define DW_STORE4(four)                                                                     \
    do {                                                                                    \
        if (s != 0) {                                                                       \
            a0 = tcc_arm_rq_pos(a0, m, add, s);                                             \
            a1 = tcc_arm_rq_pos(a1, m, add, s);                                             \
            a2 = tcc_arm_rq_pos(a2, m, add, s);                                             \
            a3 = tcc_arm_rq_pos(a3, m, add, s);                                             \
        } else {                                                                            \
            a0 = tcc_arm_rq_zero(a0, m, add);                                               \
            a1 = tcc_arm_rq_zero(a1, m, add);                                               \
            a2 = tcc_arm_rq_zero(a2, m, add);                                               \
            a3 = tcc_arm_rq_zero(a3, m, add);                                               \
        }                                                                                   \
        if (clamp) {                                                                        \
            a0 = dw_clamp(a0, lo, hi);                                                      \
            a1 = dw_clamp(a1, lo, hi);                                                      \
            a2 = dw_clamp(a2, lo, hi);                                                      \
            a3 = dw_clamp(a3, lo, hi);                                                      \
        }                                                                                   \
        d[0] = (int8_t)a0;                                                                  \
        d[st] = (int8_t)a1;                                                                 \
        d[2 * st] = (int8_t)a2;                                                             \
        if (four) d[3 * st] = (int8_t)a3;                                                   \
        d += 4 * st;                                                                        \
    } while (0)

/* Every channel's line of outputs; o: channel 0's first output. */
static __attribute__((noinline)) void dw3x3_line(const dw_line_ctx *c, int8_t *o)
{
    const int32_t st = c->out_step;
    const int32_t n_out = c->n_out;
    const int32_t stride = c->stride;
    /* blocks of 4 outputs; a tail of 3 is a block storing 3, a tail of 1 or 2 goes one by one */
    const int32_t blocks = n_out / 4;
    const int32_t tail3 = n_out % 4 == 3;
    const int32_t rest = n_out % 4 == 3 ? 0 : n_out % 4;
    const int32_t len = c->row_len;
    const int32_t clamp = c->clamp, lo = c->lo, hi = c->hi;
    const int32_t *rec = c->records;
    const int32_t *const rec_end = rec + 10 * c->c_all;
    const int16_t *r0c = c->line[0], *r1c = c->line[1], *r2c = c->line[2];
    for (; rec != rec_end; rec += 10, r0c += len, r1c += len, r2c += len, ++o) {
        const uint32_t *wk = (const uint32_t *)rec;
        const int32_t bias = rec[6], m = rec[7], add = rec[8], s = rec[9];
        const int16_t *r0 = r0c, *r1 = r1c, *r2 = r2c;
        int8_t *d = o;
        if (stride == 1) {
            for (int32_t b = 0; b < blocks; ++b) {
                int32_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                DW_BLOCK_S1();
                DW_STORE4(1);
            }
            if (tail3) {
                int32_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                DW_BLOCK_S1();
                DW_STORE4(0);
            }
        } else {
            for (int32_t b = 0; b < blocks; ++b) {
                int32_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                DW_BLOCK_S2();
                DW_STORE4(1);
            }
            if (tail3) {
                int32_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                DW_BLOCK_S2();
                DW_STORE4(0);
            }
        }
        for (int32_t i = 0; i < rest; ++i) {
            int32_t a0 = bias;
            DW_ONE_LINE(0, r0);
            DW_ONE_LINE(1, r1);
            DW_ONE_LINE(2, r2);
            r0 += stride;
            r1 += stride;
            r2 += stride;
            a0 = s != 0 ? tcc_arm_rq_pos(a0, m, add, s) : tcc_arm_rq_zero(a0, m, add);
            if (clamp) a0 = dw_clamp(a0, lo, hi);
            d[0] = (int8_t)a0;
            d += st;
        }
    }
}

void tcc_arm_depthwise3x3_s8(const tcc_arm_depthwise3x3_s8_params *p, const int8_t *in, int8_t *out,
                             void *scratch)
{
    const int32_t c_all = p->channels;
    const int32_t len = p->row_len;
    const int32_t slot_len = c_all * len;
    const int32_t t = p->transposed;
    /* lines: rows (or columns when transposed) of the input and the output */
    const int32_t lines_in = t ? p->in_w : p->in_h;
    const int32_t elems_in = t ? p->in_h : p->in_w;
    const int32_t line_step_in = (t ? 1 : p->in_w) * c_all;
    const int32_t elem_step_in = (t ? p->in_w : 1) * c_all;
    const int32_t lines_out = t ? p->out_w : p->out_h;
    const int32_t line_step_out = (t ? 1 : p->out_w) * c_all;
    const int32_t pad_line = t ? p->pad_left : p->pad_top;
    const int32_t pad_elem = t ? p->pad_top : p->pad_left;
    int16_t *slots = (int16_t *)scratch;
    dw_line_ctx ctx;
    ctx.row_len = len;
    ctx.stride = p->stride;
    ctx.n_out = t ? p->out_h : p->out_w;
    ctx.out_step = (t ? p->out_w : 1) * c_all;
    ctx.c_all = c_all;
    ctx.lo = p->act_min;
    ctx.hi = p->act_max;
    ctx.clamp = ctx.lo > -128 || ctx.hi < 127;
    ctx.records = p->records;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c_all;
        int32_t tag[3] = {INT32_MIN, INT32_MIN, INT32_MIN};   /* input line held by each slot */
        fill16(slots, 3 * slot_len, p->in_zp);
        for (int32_t ol = 0; ol < lines_out; ++ol) {
            for (int32_t k = 0; k < 3; ++k) {
                const int32_t y = ol * p->stride - pad_line + k;
                const int32_t sl = ((y % 3) + 3) % 3;
                int16_t *slot = slots + sl * slot_len;
                if (tag[sl] != y) {
                    const int32_t was_inside = tag[sl] >= 0 && tag[sl] < lines_in;
                    if (y >= 0 && y < lines_in) {
                        planar_line(slot, img + y * line_step_in, elems_in, elem_step_in, c_all, len, pad_elem);
                    } else if (was_inside) {
                        fill16(slot, slot_len, p->in_zp);
                    }
                    tag[sl] = y;
                }
                ctx.line[k] = slot;
            }
            dw3x3_line(&ctx, out + b * p->out_h * p->out_w * c_all + ol * line_step_out);
        }
    }
}
