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

#if !defined(TCC_OMIT_SIGNAL_FILTER_BANK_SQRT) || !defined(TCC_OMIT_SIGNAL_FILTER_BANK_LOG)
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
