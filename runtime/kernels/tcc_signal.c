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

#if !defined(TCC_OMIT_SIGNAL_RFFT_S16) || !defined(TCC_OMIT_SIGNAL_IRFFT_S16)
/* Q15 fixed point as kiss_fft's FIXED_POINT 16: products in int32, rounded back by 15 bits;
 * every intermediate complex value is stored as int16 (sums wrap like int16 stores). */
static inline int16_t q15_round(int32_t x)
{
    return (int16_t)((x + (1 << 14)) >> 15);
}

static inline void cmul(int16_t *re, int16_t *im, int16_t ar, int16_t ai, const int16_t *tw)
{
    const int32_t br = tw[0], bi = tw[1];
    *re = q15_round(ar * br - ai * bi);
    *im = q15_round(ar * bi + ai * br);
}

static inline void fixdiv(int16_t *c, int32_t radix)
{
    const int32_t k = 32767 / radix;
    c[0] = q15_round(c[0] * k);
    c[1] = q15_round(c[1] * k);
}

/* Radix-2 butterflies of one block: m pairs (f[j], f[j + m]). */
static void bfly2(int16_t *f, int32_t stride, const int16_t *tw, int32_t m)
{
    for (int32_t j = 0; j < m; ++j) {
        int16_t *a = f + 2 * j, *b = f + 2 * (j + m);
        int16_t tr, ti;
        fixdiv(a, 2);
        fixdiv(b, 2);
        cmul(&tr, &ti, b[0], b[1], tw + 2 * j * stride);
        b[0] = (int16_t)(a[0] - tr);
        b[1] = (int16_t)(a[1] - ti);
        a[0] = (int16_t)(a[0] + tr);
        a[1] = (int16_t)(a[1] + ti);
    }
}

/* Radix-4 butterflies of one block: quads (f[j], f[j+m], f[j+2m], f[j+3m]); the inverse
 * transform turns the +-i rotation the other way. */
static void bfly4(int16_t *f, int32_t stride, const int16_t *tw, int32_t m, int inverse)
{
    for (int32_t j = 0; j < m; ++j) {
        int16_t *f0 = f + 2 * j, *f1 = f + 2 * (j + m), *f2 = f + 2 * (j + 2 * m), *f3 = f + 2 * (j + 3 * m);
        int16_t s0[2], s1[2], s2[2], s3[2], s4[2], s5[2];
        fixdiv(f0, 4);
        fixdiv(f1, 4);
        fixdiv(f2, 4);
        fixdiv(f3, 4);
        cmul(&s0[0], &s0[1], f1[0], f1[1], tw + 2 * j * stride);
        cmul(&s1[0], &s1[1], f2[0], f2[1], tw + 4 * j * stride);
        cmul(&s2[0], &s2[1], f3[0], f3[1], tw + 6 * j * stride);
        s5[0] = (int16_t)(f0[0] - s1[0]);
        s5[1] = (int16_t)(f0[1] - s1[1]);
        f0[0] = (int16_t)(f0[0] + s1[0]);
        f0[1] = (int16_t)(f0[1] + s1[1]);
        s3[0] = (int16_t)(s0[0] + s2[0]);
        s3[1] = (int16_t)(s0[1] + s2[1]);
        s4[0] = (int16_t)(s0[0] - s2[0]);
        s4[1] = (int16_t)(s0[1] - s2[1]);
        f2[0] = (int16_t)(f0[0] - s3[0]);
        f2[1] = (int16_t)(f0[1] - s3[1]);
        f0[0] = (int16_t)(f0[0] + s3[0]);
        f0[1] = (int16_t)(f0[1] + s3[1]);
        if (inverse) {
            f1[0] = (int16_t)(s5[0] - s4[1]);
            f1[1] = (int16_t)(s5[1] + s4[0]);
            f3[0] = (int16_t)(s5[0] + s4[1]);
            f3[1] = (int16_t)(s5[1] - s4[0]);
        } else {
            f1[0] = (int16_t)(s5[0] + s4[1]);
            f1[1] = (int16_t)(s5[1] - s4[0]);
            f3[0] = (int16_t)(s5[0] - s4[1]);
            f3[1] = (int16_t)(s5[1] + s4[0]);
        }
    }
}

/* The half-length complex FFT of work, in place (work already in the stages' input order). */
static void complex_fft(const tcc_signal_rfft_params *p, int16_t *work, int inverse)
{
    const int32_t half = p->fft_length / 2;
    for (int32_t st = 0; st < p->stages; ++st) {
        const int32_t radix = p->radix[st], m = p->span[st], block = radix * m;
        for (int32_t b = 0; b < half; b += block) {
            if (radix == 4) {
                bfly4(work + 2 * b, p->stride[st], p->twiddles, m, inverse);
            } else {
                bfly2(work + 2 * b, p->stride[st], p->twiddles, m);
            }
        }
    }
}

#endif

#ifndef TCC_OMIT_SIGNAL_RFFT_S16
void tcc_signal_rfft_s16(const tcc_signal_rfft_params *p, const int16_t *x, int16_t *out, int16_t *work)
{
    const int32_t half = p->fft_length / 2;
    for (int32_t frame = 0; frame < p->frames; ++frame) {
        const int16_t *in = x + frame * p->input_length;
        int16_t *o = out + 2 * frame * p->output_length;
        /* the half-length complex FFT of the (even, odd) sample pairs, in digit-reversed order */
        for (int32_t j = 0; j < half; ++j) {
            const int32_t s = 2 * p->order[j];
            work[2 * j] = s < p->input_length ? in[s] : 0;
            work[2 * j + 1] = s + 1 < p->input_length ? in[s + 1] : 0;
        }
        complex_fft(p, work, 0);
        /* the twist that turns it into the real FFT: bins 0 .. half */
        {
            int16_t dc[2] = {work[0], work[1]};
            fixdiv(dc, 2);
            o[0] = (int16_t)(dc[0] + dc[1]);
            o[1] = 0;
            o[2 * half] = (int16_t)(dc[0] - dc[1]);
            o[2 * half + 1] = 0;
        }
        for (int32_t k = 1; k <= half / 2; ++k) {
            int16_t fpk[2] = {work[2 * k], work[2 * k + 1]};
            int16_t fpnk[2] = {work[2 * (half - k)], (int16_t)-work[2 * (half - k) + 1]};
            int16_t f1[2], f2[2], t[2];
            fixdiv(fpk, 2);
            fixdiv(fpnk, 2);
            f1[0] = (int16_t)(fpk[0] + fpnk[0]);
            f1[1] = (int16_t)(fpk[1] + fpnk[1]);
            f2[0] = (int16_t)(fpk[0] - fpnk[0]);
            f2[1] = (int16_t)(fpk[1] - fpnk[1]);
            cmul(&t[0], &t[1], f2[0], f2[1], p->super_twiddles + 2 * (k - 1));
            o[2 * k] = (int16_t)((f1[0] + t[0]) >> 1);
            o[2 * k + 1] = (int16_t)((f1[1] + t[1]) >> 1);
            o[2 * (half - k)] = (int16_t)((f1[0] - t[0]) >> 1);
            o[2 * (half - k) + 1] = (int16_t)((t[1] - f1[1]) >> 1);
        }
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

#ifndef TCC_OMIT_SIGNAL_IRFFT_S16
/* kiss_fftri: untwist the bins 0 .. half into a half-length complex spectrum (work), then its
 * inverse complex FFT gives the fft_length real samples as (even, odd) pairs. */
void tcc_signal_irfft_s16(const tcc_signal_rfft_params *p, const int16_t *x, int16_t *out, int16_t *work)
{
    const int32_t half = p->fft_length / 2;
    for (int32_t frame = 0; frame < p->frames; ++frame) {
        const int16_t *in = x + 2 * frame * p->input_length;
        int16_t *o = out + frame * p->output_length;
        work[0] = (int16_t)(in[0] + in[2 * half]);
        work[1] = (int16_t)(in[0] - in[2 * half]);
        fixdiv(work, 2);
        for (int32_t k = 1; k <= half / 2; ++k) {
            int16_t fk[2] = {in[2 * k], in[2 * k + 1]};
            int16_t fnkc[2] = {in[2 * (half - k)], (int16_t)-in[2 * (half - k) + 1]};
            int16_t even[2], diff[2], odd[2];
            fixdiv(fk, 2);
            fixdiv(fnkc, 2);
            even[0] = (int16_t)(fk[0] + fnkc[0]);
            even[1] = (int16_t)(fk[1] + fnkc[1]);
            diff[0] = (int16_t)(fk[0] - fnkc[0]);
            diff[1] = (int16_t)(fk[1] - fnkc[1]);
            cmul(&odd[0], &odd[1], diff[0], diff[1], p->super_twiddles + 2 * (k - 1));
            work[2 * k] = (int16_t)(even[0] + odd[0]);
            work[2 * k + 1] = (int16_t)(even[1] + odd[1]);
            work[2 * (half - k)] = (int16_t)(even[0] - odd[0]);
            work[2 * (half - k) + 1] = (int16_t)-(int16_t)(even[1] - odd[1]);
        }
        for (int32_t j = 0; j < half; ++j) {
            o[2 * j] = work[2 * p->order[j]];
            o[2 * j + 1] = work[2 * p->order[j] + 1];
        }
        complex_fft(p, o, 1);
    }
}
#endif
