/* tinycc runtime: ROUND (TFLite builtin), float32. */
#ifndef TCC_ROUND_H
#define TCC_ROUND_H

#include <stdint.h>

/* out[i] = x rounded to the nearest integer, halves to even; in and out may be the same buffer. */
void tcc_round_f32(const float *in, float *out, int32_t n);

#endif
