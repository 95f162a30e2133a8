/* tinycc runtime: the TFLite Micro signal library's custom ops, with its integer arithmetic.
 *
 *   SignalWindow      out = clamp_int16((int32)x * w >> shift), per block of the window's length
 *   SignalEnergy      out[i] = re^2 + im^2 (as uint32) over [start, end)
 *   SignalFilterBank  uint64 sums of the uint32 spectrum: each channel i adds weights * x over its
 *                     band, and its neighbour i + 1 adds unweights * x over the same band
 *                     (band 0 feeds only channel 0's unweighted part, which is dropped)
 *   SignalFilterBankSquareRoot  bitwise integer square root, rounded up when the remainder
 *                     exceeds the root (32-bit path when the high word is 0), >> scale_bits
 *   SignalFilterBankLog  x << correction_bits; 0 for 0 and 1; else log2 = msb + fraction (a
 *                     128-segment table, linear between entries), ln = log2 * 45426 / 2^16,
 *                     * output_scale / 2^16 (uint32 arithmetic, rounded), saturated to int16
 */
#include "tcc_signal.h"

#ifndef TCC_OMIT_SIGNAL_WINDOW
void tcc_signal_window(const int16_t *x, const int16_t *w, int32_t n, int32_t n_weights, int32_t shift,
                       int16_t *out)
{
    for (int32_t i = 0; i < n; ++i) {
        const int32_t raw = ((int32_t)x[i] * w[i % n_weights]) >> shift;
        out[i] = (int16_t)(raw < INT16_MIN ? INT16_MIN : raw > INT16_MAX ? INT16_MAX : raw);
    }
}
#endif

#ifndef TCC_OMIT_SIGNAL_ENERGY
void tcc_signal_energy(const int16_t *x, int32_t start, int32_t end, int32_t n_out, uint32_t *out)
{
    for (int32_t i = 0; i < n_out; ++i) {
        if (i < start || i >= end) {
            out[i] = 0;
        } else {
            const int32_t re = x[2 * i], im = x[2 * i + 1];
            out[i] = (uint32_t)(re * re) + (uint32_t)(im * im);
        }
    }
}
#endif

#ifndef TCC_OMIT_SIGNAL_FILTER_BANK
void tcc_signal_filter_bank(const tcc_signal_filter_bank_params *p, const uint32_t *x, uint64_t *out)
{
    uint64_t weighted = 0, unweighted = 0;
    for (int32_t i = 0; i <= p->num_channels; ++i) {
        const uint32_t *band = x + p->freq_starts[i];
        const int16_t *w = p->weights + p->weight_starts[i], *u = p->unweights + p->weight_starts[i];
        for (int32_t j = 0; j < p->widths[i]; ++j) {
            weighted += (uint64_t)(int64_t)w[j] * band[j];
            unweighted += (uint64_t)(int64_t)u[j] * band[j];
        }
        if (i > 0) {
            out[i - 1] = weighted;
        }
        weighted = unweighted;
        unweighted = 0;
    }
}
#endif

#if !defined(TCC_OMIT_SIGNAL_FILTER_BANK_SQRT) || !defined(TCC_OMIT_SIGNAL_FILTER_BANK_LOG) \
    || !defined(TCC_OMIT_SIGNAL_PCAN) || !defined(TCC_OMIT_SIGNAL_FFT_AUTO_SCALE)
static int32_t bit_length64(uint64_t v)
{
    int32_t n = 0;
    while (v) {
        v >>= 1;
        ++n;
    }
    return n;
}
#endif

#ifndef TCC_OMIT_SIGNAL_FILTER_BANK_SQRT
static uint32_t sqrt_rounded(uint64_t num)
{
    const int wide = (num >> 32) != 0;
    const int32_t top = wide ? 63 : 31;
    uint64_t res = 0, bit;
    int32_t start, iterations;
    if (num == 0) {
        return 0;
    }
    start = ((wide ? 64 : 32) - bit_length64(num)) | 1;
    bit = (uint64_t)1 << (top - start);
    for (iterations = (top - start) / 2 + 1; iterations > 0; --iterations) {
        if (num >= res + bit) {
            num -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if (num > res && res != (wide ? 0xFFFFFFFFu : 0xFFFFu)) {
        ++res;
    }
    return (uint32_t)res;
}

void tcc_signal_filter_bank_sqrt(const uint64_t *x, const int32_t *scale_bits, int32_t n, uint32_t *out)
{
    for (int32_t i = 0; i < n; ++i) {
        out[i] = sqrt_rounded(x[i]) >> scale_bits[0];
    }
}
#endif

#ifndef TCC_OMIT_SIGNAL_FILTER_BANK_LOG
static uint32_t log_scaled(const tcc_signal_log_params *p, uint32_t x)
{
    const uint32_t integer = (uint32_t)bit_length64(x) - 1u;
    int32_t frac = (int32_t)(x - ((uint32_t)1 << integer));
    uint32_t base, log2, ln;
    int32_t c0, c1, rel;
    frac = integer < 16u ? frac * (1 << (16u - integer)) : frac >> (integer - 16u);
    base = (uint32_t)frac >> 9;
    c0 = p->lut[base];
    c1 = p->lut[base + 1];
    rel = ((c1 - c0) * (frac - (int32_t)(512u * base))) >> 16;
    log2 = (integer << 16) + (uint32_t)(frac + c0 + rel);
    ln = (uint32_t)(((uint64_t)45426u * log2 + 32768u) >> 16);
    return (p->output_scale * ln + 32768u) >> 16;
}

void tcc_signal_filter_bank_log(const tcc_signal_log_params *p, const uint32_t *x, int16_t *out)
{
    for (int32_t i = 0; i < p->n; ++i) {
        const uint32_t scaled = x[i] << p->correction_bits;
        const uint32_t v = scaled > 1u ? log_scaled(p, scaled) : 0u;
        out[i] = (int16_t)(v < 32767u ? v : 32767u);
    }
}
#endif

#ifndef TCC_OMIT_SIGNAL_PCAN
/* The gain for a noise estimate: lut[x] up to 2; else, with b = bit length of x, the quadratic
 * (c0, c1, c2) = lut[4b - 6 ..] at the 10-bit fraction f of x below its top bit:
 * c0 + round(((c2 * f >> 5) + c1 * 32) * f / 2^15), in int32 wrapping as the library's C does. */
static int16_t pcan_gain(uint32_t x, const int16_t *lut)
{
    int32_t b, f;
    uint32_t r;
    if (x <= 2u) {
        return lut[x];
    }
    b = bit_length64(x);
    lut += 4 * b - 6;
    f = (int32_t)((b < 11 ? x << (11 - b) : x >> (b - 11)) & 0x3FFu);
    r = (uint32_t)(((int32_t)lut[2] * f) >> 5) + ((uint32_t)(int32_t)lut[1] << 5);
    r *= (uint32_t)f;
    return (int16_t)((((int32_t)(r + (1u << 14))) >> 15) + lut[0]);
}

void tcc_signal_pcan(const uint32_t *x, const uint32_t *noise, const int16_t *gain_lut, int32_t n,
                     int32_t snr_shift, uint32_t *out)
{
    for (int32_t i = 0; i < n; ++i) {
        const uint32_t gain = (uint32_t)(int32_t)pcan_gain(noise[i], gain_lut);
        const uint32_t snr = (uint32_t)(((uint64_t)x[i] * gain) >> snr_shift);
        out[i] = snr < (2u << 12) ? (snr * snr) >> 20 : (snr >> 6) - (1u << 6);
    }
}
#endif

#ifndef TCC_OMIT_SIGNAL_DELAY
/* The stream is state ++ x: out is its first frame samples, the new state its last delay. */
void tcc_signal_delay(const int16_t *x, int16_t *state, int32_t rows, int32_t frame, int32_t delay,
                      int16_t *out)
{
    for (int32_t r = 0; r < rows; ++r, x += frame, out += frame, state += delay) {
        int32_t i;
        if (delay <= frame) {
            for (i = 0; i < delay; ++i) {
                out[i] = state[i];
            }
            for (i = delay; i < frame; ++i) {
                out[i] = x[i - delay];
            }
            for (i = 0; i < delay; ++i) {
                state[i] = x[frame - delay + i];
            }
        } else {
            for (i = 0; i < frame; ++i) {
                out[i] = state[i];
            }
            for (i = 0; i < delay - frame; ++i) {
                state[i] = state[i + frame];
            }
            for (i = 0; i < frame; ++i) {
                state[delay - frame + i] = x[i];
            }
        }
    }
}
#endif

#ifndef TCC_OMIT_SIGNAL_STACKER
void tcc_signal_stacker(const tcc_signal_stacker_params *p, const int16_t *x, int16_t *queue, int32_t *count,
                        int16_t *out, uint8_t *valid)
{
    int32_t i, k;
    for (i = 0; i < p->channels; ++i) {
        queue[count[0] + i] = x[i];
    }
    count[0] += p->channels;
    if (!count[1]) {                      /* the first frame stands in for the left context */
        for (k = 0; k < p->left; ++k) {
            for (i = 0; i < p->channels; ++i) {
                queue[count[0] + i] = x[i];
            }
            count[0] += p->channels;
        }
        count[1] = 1;
    }
    if (count[0] < p->size) {
        valid[0] = 0;
        return;
    }
    for (i = 0; i < p->size; ++i) {
        out[i] = queue[i];
    }
    for (i = p->step; i < count[0]; ++i) {
        queue[i - p->step] = queue[i];
    }
    count[0] -= p->step;
    valid[0] = 1;
}
#endif

#ifndef TCC_OMIT_SIGNAL_FRAMER
void tcc_signal_framer(const tcc_signal_framer_params *p, const int16_t *x, int16_t *queue, int32_t *count,
                       int16_t *out, uint8_t *valid)
{
    valid[0] = 1;
    for (int32_t r = 0; r < p->rows; ++r) {
        int16_t *q = queue + r * p->capacity;
        for (int32_t f = 0; f < p->frames; ++f) {
            const int16_t *in = x + (r * p->frames + f) * p->step;
            int16_t *o = out + (r * p->frames + f) * p->size;
            int32_t i;
            for (i = 0; i < p->step; ++i) {
                q[count[r] + i] = in[i];
            }
            count[r] += p->step;
            if (count[r] < p->size) {
                valid[0] = 0;
                continue;
            }
            for (i = 0; i < p->size; ++i) {
                o[i] = q[i];
            }
            for (i = p->step; i < count[r]; ++i) {
                q[i - p->step] = q[i];
            }
            count[r] -= p->step;
        }
    }
}
#endif

#ifndef TCC_OMIT_SIGNAL_FFT_AUTO_SCALE
void tcc_signal_fft_auto_scale(const int16_t *x, int32_t n, int16_t *out, int32_t *scale)
{
    int16_t max = 0;
    int32_t i, s;
    for (i = 0; i < n; ++i) {
        if (x[i] > max) {
            max = x[i];
        } else if (-x[i] > max) {
            max = (int16_t)-x[i];
        }
    }
    /* the bit length of max as a uint32 (a maximum of 0 counts 32 bits, as the library's) */
    s = 15 - (max == 0 ? 32 : bit_length64((uint32_t)(int32_t)max));
    s = s < 0 ? 0 : s;
    for (i = 0; i < n; ++i) {
        out[i] = (int16_t)(x[i] * (1 << s));
    }
    scale[0] = s;
}
#endif

#ifndef TCC_OMIT_SIGNAL_SPECTRAL_SUBTRACTION
void tcc_signal_spectral_subtraction(const tcc_signal_spectral_subtraction_params *p, const uint32_t *x,
                                     uint32_t *noise, uint32_t *out, uint32_t *noise_out)
{
    for (int32_t i = 0; i < p->channels; ++i) {
        const uint32_t s = (i & 1) ? p->alternate_smoothing : p->smoothing;
        const uint32_t r = (i & 1) ? p->alternate_one_minus_smoothing : p->one_minus_smoothing;
        const uint32_t signal = x[i] << p->smoothing_bits;
        uint32_t estimate, floor, subtracted;
        noise[i] = (uint32_t)(((uint64_t)signal * s + (uint64_t)noise[i] * r) >> p->subtraction_bits);
        estimate = noise[i];
        if (estimate > signal) {
            estimate = signal;
            if (p->clamping) {
                noise[i] = estimate;
            }
        }
        floor = (uint32_t)(((uint64_t)x[i] * p->min_signal_remaining) >> p->subtraction_bits);
        subtracted = (signal - estimate) >> p->smoothing_bits;
        out[i] = subtracted > floor ? subtracted : floor;
        noise_out[i] = noise[i];
    }
}
#endif

#if !defined(TCC_OMIT_SIGNAL_OVERLAP_ADD_S16) || !defined(TCC_OMIT_SIGNAL_OVERLAP_ADD_F32)
/* The loop both types share: add, output step values, shift the buffer by step, zero its end. */
#define TCC_OVERLAP_ADD(T, ADD)                                                                  \
    for (int32_t r = 0; r < p->rows; ++r) {                                                      \
        T *buf = buffer + r * p->size;                                                           \
        for (int32_t f = 0; f < p->frames; ++f) {                                                \
            const T *in = x + (r * p->frames + f) * p->size;                                     \
            T *o = out + (r * p->frames + f) * p->step;                                          \
            int32_t i;                                                                           \
            for (i = 0; i < p->size; ++i) {                                                      \
                buf[i] = ADD(buf[i], in[i]);                                                     \
            }                                                                                    \
            for (i = 0; i < p->step; ++i) {                                                      \
                o[i] = buf[i];                                                                   \
            }                                                                                    \
            for (i = 0; i < p->size - p->step; ++i) {                                            \
                buf[i] = buf[i + p->step];                                                       \
            }                                                                                    \
            for (; i < p->size; ++i) {                                                           \
                buf[i] = 0;                                                                      \
            }                                                                                    \
        }                                                                                        \
    }
#endif

#ifndef TCC_OMIT_SIGNAL_OVERLAP_ADD_S16
static inline int16_t add_sat16(int16_t a, int16_t b)
{
    const int32_t s = (int32_t)a + b;
    return (int16_t)(s < INT16_MIN ? INT16_MIN : s > INT16_MAX ? INT16_MAX : s);
}

void tcc_signal_overlap_add_s16(const tcc_signal_overlap_add_params *p, const int16_t *x, int16_t *buffer,
                                int16_t *out)
{
    TCC_OVERLAP_ADD(int16_t, add_sat16)
}
#endif

#ifndef TCC_OMIT_SIGNAL_OVERLAP_ADD_F32
static inline float add_f32(float a, float b)
{
    return a + b;
}

void tcc_signal_overlap_add_f32(const tcc_signal_overlap_add_params *p, const float *x, float *buffer,
                                float *out)
{
    TCC_OVERLAP_ADD(float, add_f32)
}
#endif

/* SignalRfft / SignalIrfft: TFLite Micro's kiss_fftr / kiss_fftri, one copy of the algorithm per
 * kiss_fft_scalar type. The arithmetic each type brings (kiss_fft's _kiss_fft_guts.h):
 *   int16 (FIXED_POINT 16)  products in int32 rounded back by 15 bits; C_FIXDIV multiplies by
 *                           32767 / radix; sums stored as int16 (they wrap)
 *   int32 (FIXED_POINT 32)  products in int64 rounded back by 31 bits; C_FIXDIV by
 *                           2147483647 / radix; sums wrap in 32 bits
 *   float                   float products and sums, no division per stage, HALF_OF = * 0.5 */
#if !defined(TCC_OMIT_SIGNAL_RFFT_S16) || !defined(TCC_OMIT_SIGNAL_IRFFT_S16)
static inline int16_t kadd_s16(int16_t a, int16_t b) { return (int16_t)(a + b); }
static inline int16_t ksub_s16(int16_t a, int16_t b) { return (int16_t)(a - b); }
static inline int16_t kneg_s16(int16_t a) { return (int16_t)-a; }
static inline int16_t khalf_s16(int16_t a, int16_t b) { return (int16_t)((a + b) >> 1); }
static inline int16_t khalfsub_s16(int16_t a, int16_t b) { return (int16_t)((a - b) >> 1); }

static inline int16_t q15_round(int32_t x)
{
    return (int16_t)((x + (1 << 14)) >> 15);
}

static inline void kmul_s16(int16_t *re, int16_t *im, int16_t ar, int16_t ai, const int16_t *tw)
{
    const int32_t br = tw[0], bi = tw[1];
    *re = q15_round(ar * br - ai * bi);
    *im = q15_round(ar * bi + ai * br);
}

static inline void kdiv_s16(int16_t *c, int32_t radix)
{
    const int32_t k = 32767 / radix;
    c[0] = q15_round(c[0] * k);
    c[1] = q15_round(c[1] * k);
}
#endif

#if !defined(TCC_OMIT_SIGNAL_RFFT_S32) || !defined(TCC_OMIT_SIGNAL_IRFFT_S32)
static inline int32_t kadd_s32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t ksub_s32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static inline int32_t kneg_s32(int32_t a) { return (int32_t)(0u - (uint32_t)a); }
static inline int32_t khalf_s32(int32_t a, int32_t b) { return kadd_s32(a, b) >> 1; }
static inline int32_t khalfsub_s32(int32_t a, int32_t b) { return ksub_s32(a, b) >> 1; }

static inline int32_t q31_round(int64_t x)
{
    return (int32_t)((x + (1 << 30)) >> 31);
}

static inline void kmul_s32(int32_t *re, int32_t *im, int32_t ar, int32_t ai, const int32_t *tw)
{
    const int64_t br = tw[0], bi = tw[1];
    *re = q31_round(ar * br - ai * bi);
    *im = q31_round(ar * bi + ai * br);
}

static inline void kdiv_s32(int32_t *c, int32_t radix)
{
    const int64_t k = 2147483647 / radix;
    c[0] = q31_round(c[0] * k);
    c[1] = q31_round(c[1] * k);
}
#endif

#if !defined(TCC_OMIT_SIGNAL_RFFT_F32) || !defined(TCC_OMIT_SIGNAL_IRFFT_F32)
static inline float kadd_f32(float a, float b) { return a + b; }
static inline float ksub_f32(float a, float b) { return a - b; }
static inline float kneg_f32(float a) { return -a; }
static inline float khalf_f32(float a, float b) { return (a + b) * 0.5f; }
static inline float khalfsub_f32(float a, float b) { return (a - b) * 0.5f; }

static inline void kmul_f32(float *re, float *im, float ar, float ai, const float *tw)
{
    *re = ar * tw[0] - ai * tw[1];
    *im = ar * tw[1] + ai * tw[0];
}

static inline void kdiv_f32(float *c, int32_t radix)
{
    (void)c;
    (void)radix;
}
#endif

/* The butterflies and the half-length complex FFT for type T (suffix S): radix-2 pairs
 * (f[j], f[j + m]), radix-4 quads (the inverse turns the +-i rotation the other way), stages
 * deepest first over work already in the stages' input order. */
#define TCC_KISS_FFT(T, S)                                                                       \
    static void bfly2_##S(T *f, int32_t stride, const T *tw, int32_t m)                         \
    {                                                                                            \
        for (int32_t j = 0; j < m; ++j) {                                                        \
            T *a = f + 2 * j, *b = f + 2 * (j + m);                                              \
            T tr, ti;                                                                            \
            kdiv_##S(a, 2);                                                                    \
            kdiv_##S(b, 2);                                                                    \
            kmul_##S(&tr, &ti, b[0], b[1], tw + 2 * j * stride);                                 \
            b[0] = ksub_##S(a[0], tr);                                                            \
            b[1] = ksub_##S(a[1], ti);                                                            \
            a[0] = kadd_##S(a[0], tr);                                                            \
            a[1] = kadd_##S(a[1], ti);                                                            \
        }                                                                                        \
    }                                                                                            \
    static void bfly4_##S(T *f, int32_t stride, const T *tw, int32_t m, int inverse)            \
    {                                                                                            \
        for (int32_t j = 0; j < m; ++j) {                                                        \
            T *f0 = f + 2 * j, *f1 = f + 2 * (j + m), *f2 = f + 2 * (j + 2 * m), *f3 = f + 2 * (j + 3 * m); \
            T s0[2], s1[2], s2[2], s3[2], s4[2], s5[2];                                          \
            kdiv_##S(f0, 4);                                                                   \
            kdiv_##S(f1, 4);                                                                   \
            kdiv_##S(f2, 4);                                                                   \
            kdiv_##S(f3, 4);                                                                   \
            kmul_##S(&s0[0], &s0[1], f1[0], f1[1], tw + 2 * j * stride);                         \
            kmul_##S(&s1[0], &s1[1], f2[0], f2[1], tw + 4 * j * stride);                         \
            kmul_##S(&s2[0], &s2[1], f3[0], f3[1], tw + 6 * j * stride);                         \
            s5[0] = ksub_##S(f0[0], s1[0]);                                                       \
            s5[1] = ksub_##S(f0[1], s1[1]);                                                       \
            f0[0] = kadd_##S(f0[0], s1[0]);                                                       \
            f0[1] = kadd_##S(f0[1], s1[1]);                                                       \
            s3[0] = kadd_##S(s0[0], s2[0]);                                                       \
            s3[1] = kadd_##S(s0[1], s2[1]);                                                       \
            s4[0] = ksub_##S(s0[0], s2[0]);                                                       \
            s4[1] = ksub_##S(s0[1], s2[1]);                                                       \
            f2[0] = ksub_##S(f0[0], s3[0]);                                                       \
            f2[1] = ksub_##S(f0[1], s3[1]);                                                       \
            f0[0] = kadd_##S(f0[0], s3[0]);                                                       \
            f0[1] = kadd_##S(f0[1], s3[1]);                                                       \
            if (inverse) {                                                                       \
                f1[0] = ksub_##S(s5[0], s4[1]);                                                   \
                f1[1] = kadd_##S(s5[1], s4[0]);                                                   \
                f3[0] = kadd_##S(s5[0], s4[1]);                                                   \
                f3[1] = ksub_##S(s5[1], s4[0]);                                                   \
            } else {                                                                             \
                f1[0] = kadd_##S(s5[0], s4[1]);                                                   \
                f1[1] = ksub_##S(s5[1], s4[0]);                                                   \
                f3[0] = ksub_##S(s5[0], s4[1]);                                                   \
                f3[1] = kadd_##S(s5[1], s4[0]);                                                   \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
    static void complex_fft_##S(const tcc_signal_rfft_params *p, T *work, int inverse)          \
    {                                                                                            \
        const int32_t half = p->fft_length / 2;                                                  \
        const T *tw = (const T *)p->twiddles;                                                    \
        for (int32_t st = 0; st < p->stages; ++st) {                                             \
            const int32_t radix = p->radix[st], m = p->span[st], block = radix * m;              \
            for (int32_t b = 0; b < half; b += block) {                                          \
                if (radix == 4) {                                                                \
                    bfly4_##S(work + 2 * b, p->stride[st], tw, m, inverse);                      \
                } else {                                                                         \
                    bfly2_##S(work + 2 * b, p->stride[st], tw, m);                               \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    }

/* kiss_fftr: the half-length complex FFT of the (even, odd) sample pairs of each frame (zero
 * padded), gathered in digit-reversed order, then the twist that turns it into bins 0 .. half. */
#define TCC_RFFT(T, S)                                                                           \
    const int32_t half = p->fft_length / 2;                                                      \
    const T *super = (const T *)p->super_twiddles;                                               \
    for (int32_t frame = 0; frame < p->frames; ++frame) {                                        \
        const T *in = x + frame * p->input_length;                                               \
        T *o = out + 2 * frame * p->output_length;                                               \
        for (int32_t j = 0; j < half; ++j) {                                                     \
            const int32_t s = 2 * p->order[j];                                                   \
            work[2 * j] = s < p->input_length ? in[s] : 0;                                       \
            work[2 * j + 1] = s + 1 < p->input_length ? in[s + 1] : 0;                           \
        }                                                                                        \
        complex_fft_##S(p, work, 0);                                                             \
        {                                                                                        \
            T dc[2];                                                                             \
            dc[0] = work[0];                                                                     \
            dc[1] = work[1];                                                                     \
            kdiv_##S(dc, 2);                                                                   \
            o[0] = kadd_##S(dc[0], dc[1]);                                                        \
            o[1] = 0;                                                                            \
            o[2 * half] = ksub_##S(dc[0], dc[1]);                                                 \
            o[2 * half + 1] = 0;                                                                 \
        }                                                                                        \
        for (int32_t k = 1; k <= half / 2; ++k) {                                                \
            T fpk[2], fpnk[2], f1[2], f2[2], t[2];                                               \
            fpk[0] = work[2 * k];                                                                \
            fpk[1] = work[2 * k + 1];                                                            \
            fpnk[0] = work[2 * (half - k)];                                                      \
            fpnk[1] = kneg_##S(work[2 * (half - k) + 1]);                                         \
            kdiv_##S(fpk, 2);                                                                  \
            kdiv_##S(fpnk, 2);                                                                 \
            f1[0] = kadd_##S(fpk[0], fpnk[0]);                                                    \
            f1[1] = kadd_##S(fpk[1], fpnk[1]);                                                    \
            f2[0] = ksub_##S(fpk[0], fpnk[0]);                                                    \
            f2[1] = ksub_##S(fpk[1], fpnk[1]);                                                    \
            kmul_##S(&t[0], &t[1], f2[0], f2[1], super + 2 * (k - 1));                           \
            o[2 * k] = khalf_##S(f1[0], t[0]);                                                    \
            o[2 * k + 1] = khalf_##S(f1[1], t[1]);                                                \
            o[2 * (half - k)] = khalfsub_##S(f1[0], t[0]);                                       \
            o[2 * (half - k) + 1] = khalfsub_##S(t[1], f1[1]);                                   \
        }                                                                                        \
    }

/* kiss_fftri: untwist bins 0 .. half into a half-length complex spectrum (work), then its inverse
 * complex FFT gives the fft_length real samples as (even, odd) pairs. */
#define TCC_IRFFT(T, S)                                                                          \
    const int32_t half = p->fft_length / 2;                                                      \
    const T *super = (const T *)p->super_twiddles;                                               \
    for (int32_t frame = 0; frame < p->frames; ++frame) {                                        \
        const T *in = x + 2 * frame * p->input_length;                                           \
        T *o = out + frame * p->output_length;                                                   \
        work[0] = kadd_##S(in[0], in[2 * half]);                                                  \
        work[1] = ksub_##S(in[0], in[2 * half]);                                                  \
        kdiv_##S(work, 2);                                                                     \
        for (int32_t k = 1; k <= half / 2; ++k) {                                                \
            T fk[2], fnkc[2], even[2], diff[2], odd[2];                                          \
            fk[0] = in[2 * k];                                                                   \
            fk[1] = in[2 * k + 1];                                                               \
            fnkc[0] = in[2 * (half - k)];                                                        \
            fnkc[1] = kneg_##S(in[2 * (half - k) + 1]);                                           \
            kdiv_##S(fk, 2);                                                                   \
            kdiv_##S(fnkc, 2);                                                                 \
            even[0] = kadd_##S(fk[0], fnkc[0]);                                                   \
            even[1] = kadd_##S(fk[1], fnkc[1]);                                                   \
            diff[0] = ksub_##S(fk[0], fnkc[0]);                                                   \
            diff[1] = ksub_##S(fk[1], fnkc[1]);                                                   \
            kmul_##S(&odd[0], &odd[1], diff[0], diff[1], super + 2 * (k - 1));                   \
            work[2 * k] = kadd_##S(even[0], odd[0]);                                              \
            work[2 * k + 1] = kadd_##S(even[1], odd[1]);                                          \
            work[2 * (half - k)] = ksub_##S(even[0], odd[0]);                                     \
            work[2 * (half - k) + 1] = kneg_##S(ksub_##S(even[1], odd[1]));                        \
        }                                                                                        \
        for (int32_t j = 0; j < half; ++j) {                                                     \
            o[2 * j] = work[2 * p->order[j]];                                                    \
            o[2 * j + 1] = work[2 * p->order[j] + 1];                                            \
        }                                                                                        \
        complex_fft_##S(p, o, 1);                                                                \
    }

#if !defined(TCC_OMIT_SIGNAL_RFFT_S16) || !defined(TCC_OMIT_SIGNAL_IRFFT_S16)
TCC_KISS_FFT(int16_t, s16)
#endif
#if !defined(TCC_OMIT_SIGNAL_RFFT_S32) || !defined(TCC_OMIT_SIGNAL_IRFFT_S32)
TCC_KISS_FFT(int32_t, s32)
#endif
#if !defined(TCC_OMIT_SIGNAL_RFFT_F32) || !defined(TCC_OMIT_SIGNAL_IRFFT_F32)
TCC_KISS_FFT(float, f32)
#endif

#ifndef TCC_OMIT_SIGNAL_RFFT_S16
void tcc_signal_rfft_s16(const tcc_signal_rfft_params *p, const int16_t *x, int16_t *out, int16_t *work)
{
    TCC_RFFT(int16_t, s16)
}
#endif

#ifndef TCC_OMIT_SIGNAL_RFFT_S32
void tcc_signal_rfft_s32(const tcc_signal_rfft_params *p, const int32_t *x, int32_t *out, int32_t *work)
{
    TCC_RFFT(int32_t, s32)
}
#endif

#ifndef TCC_OMIT_SIGNAL_RFFT_F32
void tcc_signal_rfft_f32(const tcc_signal_rfft_params *p, const float *x, float *out, float *work)
{
    TCC_RFFT(float, f32)
}
#endif

#ifndef TCC_OMIT_SIGNAL_IRFFT_S16
void tcc_signal_irfft_s16(const tcc_signal_rfft_params *p, const int16_t *x, int16_t *out, int16_t *work)
{
    TCC_IRFFT(int16_t, s16)
}
#endif

#ifndef TCC_OMIT_SIGNAL_IRFFT_S32
void tcc_signal_irfft_s32(const tcc_signal_rfft_params *p, const int32_t *x, int32_t *out, int32_t *work)
{
    TCC_IRFFT(int32_t, s32)
}
#endif

#ifndef TCC_OMIT_SIGNAL_IRFFT_F32
/* float: kiss_fftri's output is n times the signal; TFLite Micro divides it by fft_length */
void tcc_signal_irfft_f32(const tcc_signal_rfft_params *p, const float *x, float *out, float *work)
{
    {
        TCC_IRFFT(float, f32)
    }
    for (int32_t i = 0; i < p->frames * p->output_length; ++i) {
        out[i] /= (float)p->fft_length;
    }
}
#endif
