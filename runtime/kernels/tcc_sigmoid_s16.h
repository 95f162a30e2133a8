/* tinycc runtime: TFLite's int16 sigmoid and tanh (reference_integer_ops::Logistic and Tanh), shared
 * by the int16 LOGISTIC/TANH ops and the integer LSTM's gates.
 *
 * The input is first brought to units of 1/(3 * 4096) (tcc_sigmoid16_scale: times mult, shifted
 * right by shift rounding half up). Both functions interpolate linearly between the 256 knots of
 * table (sigmoid(i / 24) in units of 2^-16, computed by tinycc at build time):
 *   sigmoid: knot |d| >> 9, 9 fraction bits; out = result / 2^10 in Q0.15, rounded, mirrored
 *            for d < 0 (1 - sigmoid(|d|)); |d| >= 255 * 2^9 saturates;
 *   tanh:    tanh(x) = 2 sigmoid(2x) - 1: knot |d| >> 8, 8 fraction bits, out in Q0.15.
 */
#ifndef TCC_SIGMOID_S16_H
#define TCC_SIGMOID_S16_H

#include <stdint.h>

static inline int32_t tcc_sigmoid16_scale(int32_t x, int32_t mult, int32_t shift)
{
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    return (x * mult + round) >> shift;
}

static inline int16_t tcc_sigmoid16(const uint16_t *table, int32_t d)
{
    const uint32_t a = (uint32_t)(d < 0 ? -d : d);
    const uint32_t k = a >> 9;
    uint32_t r;
    if (k >= 255) {
        r = (uint32_t)0x7FFF << 10;
    } else {
        const uint32_t lo = table[k], hi = table[k + 1];
        r = (lo << 9) + (a & 0x1FF) * (hi - lo);    /* unsigned wrap when hi < lo never happens */
    }
    r = d >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(r >> 10);
}

static inline int16_t tcc_tanh16(const uint16_t *table, int32_t d)
{
    const uint32_t a = (uint32_t)(d < 0 ? -d : d);
    const uint32_t k = a >> 8;
    int32_t r;
    if (k >= 255) {
        r = 0xFFFF << 8;
    } else {
        const int32_t lo = table[k], hi = table[k + 1];
        r = (lo << 8) + (int32_t)(a & 0xFF) * (hi - lo);
    }
    r = d >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)(r >> 8);
}

#endif /* TCC_SIGMOID_S16_H */
