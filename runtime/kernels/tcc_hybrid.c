/* tinycc runtime: hybrid CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (int8 weights,
 * float32 activations).
 *
 * Reproduces TensorFlow Lite's builtin hybrid kernels (conv.cc EvalHybrid /
 * EvalHybridPerChannel, fully_connected.cc EvalHybridDense) as built for x86,
 * where tensor_utils' Symmetric/AsymmetricQuantizeFloats are the NEON versions
 * (run through NEON_2_SSE). For every batch b of the input (a whole image for
 * CONV_2D, one row for FULLY_CONNECTED):
 *
 *   1. Choose the input quantization from the batch's values:
 *      symmetric:  range = max|x|, scale = range / 127, inv = 127 / range,
 *                  zp = 0, q in [-127, 127];
 *      asymmetric: lo = min(0, min x), hi = max(0, max x),
 *                  scale = (hi - lo) / 255 (float subtraction, double division),
 *                  zp nudged into [-128, 127] from whichever end has the smaller
 *                  error, inv = 1 / scale, q in [-128, 127].
 *      An all-zero batch gets scale 1 and q = 0.
 *   2. q = clamp(round(x * inv) + zp), rounding as TFLite's vector loop does for
 *      the first (n & ~7) elements of the batch and as its scalar tail does for
 *      the rest (see hybrid_q).
 *   3. acc = sum over the taps inside the input of w * (q - zp), in int32
 *      (padded taps contribute nothing: TFLite pads with zp).
 *   4. out = clamp((float)acc * (scale * w_scale[c]) + bias[c], act_min, act_max),
 *      each operation rounded to float in that order.
 *
 * TFLite's CONV_2D uses the asymmetric scheme when the weight scales differ per
 * channel and the symmetric one otherwise; FULLY_CONNECTED uses the asymmetric
 * one only with asymmetric_quantize_inputs; DEPTHWISE_CONV_2D (per-channel
 * weight scales) always uses the asymmetric one. The input is quantized on the fly
 * where it is read (to the same value every time), once per block of
 * TCC_HYBRID_BLOCK output channels, so no scratch memory is needed; the int32
 * sums are exact, so their order does not matter.
 *
 * Bit-exactness needs IEEE float arithmetic without contraction into fused
 * multiply-adds (gcc does not contract with -std=c99).
 *
 * Not reproduced: some x86 TFLite builds (ai_edge_litert 2.3.0 among them) take
 * the product of a -128 weight and a negative q as -128 * |q| in the SSE dot
 * product of FULLY_CONNECTED (and of per-tensor CONV_2D with out_c % 4 != 0);
 * tinycc computes the true product. Converters emit weights in [-127, 127].
 */
#include "tcc_hybrid.h"
#include "tcc_common.h"
#include "tcc_depthwise_loop.h"

#include <stddef.h>  /* NULL */

/* Output channels accumulated together, so that each input value is quantized
 * once per block instead of once per channel (64 bytes of stack). */
#define TCC_HYBRID_BLOCK 16

/* How one batch of the input is quantized. */
typedef struct {
    float scale;        /* real = scale * (q - zp) */
    float inv;          /* x * inv is rounded to q; 0 when the batch is all zero */
    int32_t zp;
    int32_t qmin, qmax;
    int32_t vec_end;    /* elements [0, vec_end) use the vector rounding */
} hybrid_quant;

/* Nearest integer, ties away from zero (TfLiteRound = roundf), for |v| <= 2^30.
 * Exact: t = trunc(v) and v - t are both exact in float. */
static int32_t round_away_f(float v)
{
    const int32_t t = (int32_t)v;       /* truncation toward zero */
    const float frac = v - (float)t;    /* exact */
    if (frac >= 0.5f) return t + 1;
    if (frac <= -0.5f) return t - 1;
    return t;
}

/* Nearest integer, ties away from zero (C's round), for |v| < 2^31. Exact like round_away_f. */
static int32_t round_away_d(double v)
{
    const int32_t t = (int32_t)v;       /* truncation toward zero */
    const double frac = v - (double)t;  /* exact */
    if (frac >= 0.5) return t + 1;
    if (frac <= -0.5) return t - 1;
    return t;
}

/* TFLite's vector RoundToNearest where no round-half-away instruction exists:
 * trunc(v + (v < 0 ? -0.5 : 0.5)). The sum is rounded to float first, so it
 * differs from round_away_f when that sum rounds up to the next integer
 * (v = 0.49999997f gives 1). */
static int32_t round_vector_f(float v)
{
    const float sum = v + (v < 0.0f ? -0.5f : 0.5f);   /* float sum, rounded to nearest */
    return (int32_t)sum;                                 /* truncation toward zero */
}

/* Quantize element i of the batch and return q - zp. */
static inline int32_t hybrid_q(const hybrid_quant *q, float x, int32_t i)
{
    float v = x * q->inv;               /* float product, rounded to nearest */
    int32_t r;
    /* Keep the conversions to int defined for huge, infinite or NaN values; any
     * |v| > 1024 saturates in the clamp below anyway. */
    if (!(v > -1024.0f)) v = -1024.0f;
    if (v > 1024.0f) v = 1024.0f;
    /* TFLite rounds first and adds the zero point in int (vector loop), or adds
     * it to the rounded float (scalar tail), which is the same integer. */
    r = (i < q->vec_end ? round_vector_f(v) : round_away_f(v)) + q->zp;
    r = r < q->qmin ? q->qmin : (r > q->qmax ? q->qmax : r);
    return r - q->zp;
}

/* SymmetricQuantizeFloats: scale = max|x| / 127. */
static void hybrid_choose_symmetric(const float *x, int32_t n, hybrid_quant *q)
{
    float lo = n > 0 ? x[0] : 0.0f, hi = lo;
    for (int32_t i = 1; i < n; ++i) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    const float abs_lo = lo < 0.0f ? -lo : lo;
    const float abs_hi = hi < 0.0f ? -hi : hi;
    const float range = abs_lo < abs_hi ? abs_hi : abs_lo;
    q->zp = 0;
    q->qmin = -127;
    q->qmax = 127;
    q->vec_end = n & ~7;
    if (range == 0.0f) {
        q->scale = 1.0f;
        q->inv = 0.0f;
        return;
    }
    q->scale = range / 127.0f;          /* float division, rounded */
    q->inv = 127.0f / range;            /* float division, rounded (not 1 / scale) */
}

/* AsymmetricQuantizeFloats: the range [min(0, min x), max(0, max x)] onto [-128, 127]. */
static void hybrid_choose_asymmetric(const float *x, int32_t n, hybrid_quant *q)
{
    float lo = 0.0f, hi = 0.0f;
    for (int32_t i = 0; i < n; ++i) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    q->qmin = -128;
    q->qmax = 127;
    q->vec_end = n & ~7;
    if (lo == hi) {
        q->scale = 1.0f;
        q->inv = 0.0f;
        q->zp = 0;
        return;
    }
    {
        const float span = hi - lo;                     /* float subtraction, rounded */
        const double scale = (double)span / 255.0;      /* double division, rounded */
        const double lo_q = (double)lo / scale;         /* double divisions, rounded */
        const double hi_q = (double)hi / scale;
        const double zp_from_min = -128.0 - lo_q;       /* double subtractions, rounded */
        const double zp_from_max = 127.0 - hi_q;
        const double err_min = 128.0 + (lo_q < 0.0 ? -lo_q : lo_q);
        const double err_max = 127.0 + (hi_q < 0.0 ? -hi_q : hi_q);
        const double zp = err_min < err_max ? zp_from_min : zp_from_max;
        if (zp <= -128.0) {
            q->zp = -128;
        } else if (zp >= 127.0) {
            q->zp = 127;
        } else {
            q->zp = round_away_d(zp);                   /* round(), ties away from zero */
        }
        q->scale = (float)scale;                        /* double -> float, rounded */
        /* 1 / scale in double from the float scale, then rounded to float. */
        q->inv = q->scale == 0.0f ? 0.0f : (float)(1.0 / (double)q->scale);
    }
}

/* Step 4: back to float. The two scales are multiplied first (TFLite folds the
 * weight scale into the batch's scaling factor), then the accumulator, rounded
 * to float, is multiplied by that product; the bias is added last. Without a
 * bias TFLite adds the product to 0. */
static inline float hybrid_output(int32_t acc, float in_scale, float w_scale, const float *bias, int32_t c)
{
    const float scale = in_scale * w_scale;             /* float product, rounded */
    const float prod = (float)acc * scale;              /* int32 -> float (nearest), product rounded */
    return prod + (bias != NULL ? bias[c] : 0.0f);      /* float sum, rounded */
}

void tcc_conv2d_hybrid(const tcc_conv2d_hybrid_params *p, const float *in, float *out)
{
    const int32_t image = p->in_h * p->in_w * p->in_c;
    const int32_t filter = p->k_h * p->k_w * p->in_c;
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *img = in + b * image;
        hybrid_quant q;
        if (p->asymmetric) {
            hybrid_choose_asymmetric(img, image, &q);
        } else {
            hybrid_choose_symmetric(img, image, &q);
        }
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_top;
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_left;
                for (int32_t oc0 = 0; oc0 < p->out_c; oc0 += TCC_HYBRID_BLOCK) {
                    const int32_t n = TCC_MIN(TCC_HYBRID_BLOCK, p->out_c - oc0);
                    const int8_t *w = p->weights + oc0 * filter;
                    int32_t acc[TCC_HYBRID_BLOCK];
                    for (int32_t j = 0; j < n; ++j) acc[j] = 0;
                    for (int32_t ky = 0; ky < p->k_h; ++ky) {
                        const int32_t y = y0 + ky * p->dil_h;
                        if (y < 0 || y >= p->in_h) continue;
                        for (int32_t kx = 0; kx < p->k_w; ++kx) {
                            const int32_t x = x0 + kx * p->dil_w;
                            if (x < 0 || x >= p->in_w) continue;
                            const int32_t at = (y * p->in_w + x) * p->in_c;
                            const int8_t *wk = w + (ky * p->k_w + kx) * p->in_c;
                            for (int32_t c = 0; c < p->in_c; ++c) {
                                const int32_t v = hybrid_q(&q, img[at + c], at + c);
                                for (int32_t j = 0; j < n; ++j) {
                                    acc[j] += (int32_t)wk[j * filter + c] * v;
                                }
                            }
                        }
                    }
                    for (int32_t j = 0; j < n; ++j) {
                        const int32_t oc = oc0 + j;
                        const float r = hybrid_output(acc[j], q.scale, p->w_scale[p->scale_per_channel ? oc : 0],
                                                      p->bias, oc);
                        *out++ = tcc_clampf(r, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}

void tcc_fully_connected_hybrid(const tcc_fully_connected_hybrid_params *p, const float *in, float *out)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *x = in + b * p->in_depth;
        hybrid_quant q;
        if (p->asymmetric) {
            hybrid_choose_asymmetric(x, p->in_depth, &q);
        } else {
            hybrid_choose_symmetric(x, p->in_depth, &q);
        }
        for (int32_t o0 = 0; o0 < p->out_depth; o0 += TCC_HYBRID_BLOCK) {
            const int32_t n = TCC_MIN(TCC_HYBRID_BLOCK, p->out_depth - o0);
            const int8_t *w = p->weights + o0 * p->in_depth;
            int32_t acc[TCC_HYBRID_BLOCK];
            for (int32_t j = 0; j < n; ++j) acc[j] = 0;
            for (int32_t d = 0; d < p->in_depth; ++d) {
                const int32_t v = hybrid_q(&q, x[d], d);
                for (int32_t j = 0; j < n; ++j) {
                    acc[j] += (int32_t)w[j * p->in_depth + d] * v;
                }
            }
            for (int32_t j = 0; j < n; ++j) {
                const int32_t o = o0 + j;
                const float r = hybrid_output(acc[j], q.scale, p->w_scale[p->scale_per_channel ? o : 0], p->bias, o);
                *out++ = tcc_clampf(r, p->act_min, p->act_max);
            }
        }
    }
}

/* DEPTHWISE_CONV_2D: output channel oc = c * depth_mult + m reads input channel c.
 * The batch's quantization is chosen first (a read of the whole batch); then, as
 * tcc_depthwise_f32 does (the same loop nest, TCC_DW_LOOP), one output channel plane
 * at a time is computed into scratch and stored, so input channel c is read completely
 * before any output slot of channel c is written (the planner's in-place rule for the
 * plain depthwise kernel holds for this one too). */
#define TCC_DW_HYBRID_TAP(w, at) ((int32_t)(w) * hybrid_q(&q, img[at], at))

void tcc_depthwise_hybrid(const tcc_depthwise_hybrid_params *p, const float *in, float *out, float *scratch)
{
    /* TFLite's depthwise kernel scales by the channel's weight scale first, then by the batch's input
     * scale (not by their product), then adds the bias. */
    TCC_DW_LOOP(float, float, int32_t, p, in, out, scratch,
                hybrid_quant q; hybrid_choose_asymmetric(img, p->in_h * p->in_w * p->in_c, &q);, 0, TCC_DW_HYBRID_TAP,
                tcc_clampf(p->bias != NULL ? ((float)acc * p->w_scale[oc]) * q.scale + p->bias[oc]
                                           : ((float)acc * p->w_scale[oc]) * q.scale, p->act_min, p->act_max));
}

/* Input rows whose window covers output row o: i * stride - pad + f == o with 0 <= f < k. */
static void tconv_sources(int32_t o, int32_t pad, int32_t stride, int32_t k, int32_t in, int32_t *lo, int32_t *hi)
{
    const int32_t top = o + pad;
    int32_t first = top - (k - 1);
    first = first <= 0 ? 0 : (first + stride - 1) / stride;
    *lo = first;
    *hi = TCC_MIN(top < 0 ? -1 : top / stride, in - 1);
}

/* TRANSPOSE_CONV: input pixel (iy, ix) adds (q - zp) * w[oc][fy][fx][ic] to output
 * (iy * stride_h - pad_top + fy, ix * stride_w - pad_left + fx), gathered per output
 * element (int32 sums are exact in any order). TFLite quantizes the input
 * asymmetrically for this op, with per-tensor and per-channel weights alike (found
 * against ai_edge_litert 2.3.0). TFLite's optimized kernel scales partial sums to
 * float before adding them up, so results agree to float rounding (within the
 * verify tolerance), not bit for bit. */
void tcc_transpose_conv_hybrid(const tcc_transpose_conv_hybrid_params *p, const float *in, float *out)
{
    const int32_t image = p->in_h * p->in_w * p->in_ch;
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *img = in + b * image;
        hybrid_quant q;
        hybrid_choose_asymmetric(img, image, &q);
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            int32_t iy0, iy1;
            tconv_sources(oy, p->pad_top, p->stride_h, p->f_h, p->in_h, &iy0, &iy1);
            for (int32_t ox = 0; ox < p->out_w; ++ox) {
                int32_t ix0, ix1;
                tconv_sources(ox, p->pad_left, p->stride_w, p->f_w, p->in_w, &ix0, &ix1);
                for (int32_t oc = 0; oc < p->out_ch; ++oc) {
                    int32_t acc = 0;
                    for (int32_t iy = iy0; iy <= iy1; ++iy) {
                        const int32_t fy = oy + p->pad_top - iy * p->stride_h;
                        for (int32_t ix = ix0; ix <= ix1; ++ix) {
                            const int32_t fx = ox + p->pad_left - ix * p->stride_w;
                            const int32_t at = (iy * p->in_w + ix) * p->in_ch;
                            const int8_t *w = p->weights + ((oc * p->f_h + fy) * p->f_w + fx) * p->in_ch;
                            for (int32_t ic = 0; ic < p->in_ch; ++ic) {
                                acc += (int32_t)w[ic] * hybrid_q(&q, img[at + ic], at + ic);
                            }
                        }
                    }
                    const float r = hybrid_output(acc, q.scale, p->w_scale[p->scale_per_channel ? oc : 0],
                                                  p->bias, oc);
                    *out++ = tcc_clampf(r, p->act_min, p->act_max);
                }
            }
        }
    }
}
