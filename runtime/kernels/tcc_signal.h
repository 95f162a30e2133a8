/* tinycc runtime: the TFLite Micro signal library's custom ops (the audio front end):
 * SignalWindow, SignalRfft, SignalIrfft, SignalEnergy, SignalFilterBank, SignalFilterBankSquareRoot,
 * SignalFilterBankSpectralSubtraction, SignalFilterBankLog, SignalPCAN, SignalDelay, SignalStacker,
 * SignalFramer, SignalOverlapAdd, SignalFftAutoScale. */
#ifndef TCC_SIGNAL_H
#define TCC_SIGNAL_H

#include <stdint.h>

/* out = saturate_int16((x * w) >> shift), the window of n_weights repeated over n elements. */
void tcc_signal_window(const int16_t *x, const int16_t *w, int32_t n, int32_t n_weights, int32_t shift,
                       int16_t *out);

/* x: interleaved (real, imag) int16 pairs; out[i] = real^2 + imag^2 for start <= i < end, 0 elsewhere
 * (n_out elements). */
void tcc_signal_energy(const int16_t *x, int32_t start, int32_t end, int32_t n_out, uint32_t *out);

typedef struct {
    int32_t num_channels;
    const int16_t *weights, *unweights;
    const int16_t *freq_starts, *weight_starts, *widths;   /* num_channels + 1 each */
} tcc_signal_filter_bank_params;

void tcc_signal_filter_bank(const tcc_signal_filter_bank_params *p, const uint32_t *x, uint64_t *out);

/* out[i] = isqrt_rounded(x[i]) >> scale_bits[0] */
void tcc_signal_filter_bank_sqrt(const uint64_t *x, const int32_t *scale_bits, int32_t n, uint32_t *out);

typedef struct {
    int32_t n;
    uint32_t output_scale, correction_bits;
    const uint16_t *lut;                 /* 130 entries: log2(1 + k/128) - k/128 in 1/65536 */
} tcc_signal_log_params;

void tcc_signal_filter_bank_log(const tcc_signal_log_params *p, const uint32_t *x, int16_t *out);


/* SignalRfft: the real FFT of TFLite Micro's kiss_fftr, each frame zero-padded to fft_length, in
 * int16 (FIXED_POINT 16: every butterfly stage divides by its radix, output = FFT / n), int32
 * (FIXED_POINT 32, the same in Q31) or float (no scaling). */
typedef struct {
    int32_t fft_length, input_length, frames, output_length;   /* output_length: complex values */
    int32_t stages;
    const int16_t *radix, *stride, *span;   /* per stage, last first: radix p, twiddle stride, m */
    const int16_t *order;                   /* digit-reversed order of the half-length input */
    const void *twiddles;                   /* fft_length / 2 (cos, sin) pairs of the op's type:
                                               int16 Q15, int32 Q31 or float */
    const void *super_twiddles;             /* fft_length / 4 pairs: the real-FFT twist */
} tcc_signal_rfft_params;

/* work: fft_length values of scratch, of the op's type */
void tcc_signal_rfft_s16(const tcc_signal_rfft_params *p, const int16_t *x, int16_t *out, int16_t *work);
void tcc_signal_rfft_s32(const tcc_signal_rfft_params *p, const int32_t *x, int32_t *out, int32_t *work);
void tcc_signal_rfft_f32(const tcc_signal_rfft_params *p, const float *x, float *out, float *work);

/* SignalIrfft: kiss_fftri with the same plan (inverse twiddles); input_length: complex bins per
 * frame (at least fft_length / 2 + 1), output_length: samples per frame (fft_length). */
void tcc_signal_irfft_s16(const tcc_signal_rfft_params *p, const int16_t *x, int16_t *out, int16_t *work);
void tcc_signal_irfft_s32(const tcc_signal_rfft_params *p, const int32_t *x, int32_t *out, int32_t *work);
void tcc_signal_irfft_f32(const tcc_signal_rfft_params *p, const float *x, float *out, float *work);

/* SignalPCAN: per-channel automatic gain control. gain = wide_dynamic(noise[i]) (a piecewise
 * quadratic from gain_lut, per power of two of the noise), snr = (x[i] * gain) >> snr_shift
 * (12 fractional bits), out = shrink(snr) with 6 fractional bits (snr^2 / 4 below 2, else snr - 1). */
void tcc_signal_pcan(const uint32_t *x, const uint32_t *noise, const int16_t *gain_lut, int32_t n,
                     int32_t snr_shift, uint32_t *out);

/* SignalDelay: each of the rows of frame samples continues a stream delayed by delay samples;
 * state holds the last delay samples of each row's stream (zeros at the start). */
void tcc_signal_delay(const int16_t *x, int16_t *state, int32_t rows, int32_t frame, int32_t delay,
                      int16_t *out);

/* SignalStacker: frames of channels values are queued in a buffer of size values (state: the
 * queue, and count[0] = values queued, count[1] = 1 once the first frame came, which is queued
 * left + 1 times); when size values are queued they are the output (valid = 1) and the first
 * step values leave the queue; else valid = 0 and the output is left as it was. */
typedef struct {
    int32_t channels, size, left, step;    /* size = channels * (left + right + 1), step in values */
} tcc_signal_stacker_params;

void tcc_signal_stacker(const tcc_signal_stacker_params *p, const int16_t *x, int16_t *queue, int32_t *count,
                        int16_t *out, uint8_t *valid);

/* SignalFramer: each row's samples arrive step at a time into a queue of capacity values
 * (state: queues and counts, a count starting at size - step when prefilled with zeros); each
 * time size samples are queued they are a frame of the output and the first step leave; valid
 * is 0 when some frame was not complete (that frame is left as it was). */
typedef struct {
    int32_t rows, frames, size, step, capacity;
} tcc_signal_framer_params;

void tcc_signal_framer(const tcc_signal_framer_params *p, const int16_t *x, int16_t *queue, int32_t *count,
                       int16_t *out, uint8_t *valid);

/* SignalFftAutoScale: out = x << s with s = 15 - bit length of max |x| (0 when that is <= 0), and
 * scale[0] = s. The running maximum is an int16 as in the library: |-32768| stays -32768. */
void tcc_signal_fft_auto_scale(const int16_t *x, int32_t n, int16_t *out, int32_t *scale);

/* SignalFilterBankSpectralSubtraction: per channel, the noise estimate (state, zero at the start)
 * follows the signal (x << smoothing_bits) through a one-pole filter (smoothing on even channels,
 * the alternate one on odd ones, >> subtraction_bits), is kept at most the signal (clamping:
 * also in the state), and out = max((signal - estimate) >> smoothing_bits,
 * x * min_signal_remaining >> subtraction_bits); noise_out gets the estimates. */
typedef struct {
    int32_t channels;
    uint32_t smoothing, one_minus_smoothing, alternate_smoothing, alternate_one_minus_smoothing;
    uint32_t min_signal_remaining, smoothing_bits, subtraction_bits, clamping;
} tcc_signal_spectral_subtraction_params;

void tcc_signal_spectral_subtraction(const tcc_signal_spectral_subtraction_params *p, const uint32_t *x,
                                     uint32_t *noise, uint32_t *out, uint32_t *noise_out);

/* SignalOverlapAdd: each frame of size values is added into the row's buffer (state: size values,
 * zero at the start; int16 saturates), whose first step values are output and shifted out. */
typedef struct {
    int32_t rows, frames, size, step;
} tcc_signal_overlap_add_params;

void tcc_signal_overlap_add_s16(const tcc_signal_overlap_add_params *p, const int16_t *x, int16_t *buffer,
                                int16_t *out);
void tcc_signal_overlap_add_f32(const tcc_signal_overlap_add_params *p, const float *x, float *buffer,
                                float *out);

#endif /* TCC_SIGNAL_H */
