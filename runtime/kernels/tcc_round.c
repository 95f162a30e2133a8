/* tinycc runtime: ROUND, float32.
 *
 * Semantics (TFLite Micro round.cc, reference_ops::Round): RoundToNearest, i.e. floor(x),
 * plus one when the remainder x - floor(x) is above one half, or exactly one half with an
 * odd floor (halves go to the even neighbour). The parity test uses fmodf rather than
 * TFLite's cast to int, which is the same wherever a remainder of one half is possible
 * (|x| < 2^23) and has no undefined cast elsewhere. Infinities and NaN pass through.
 * Reads in[i] before writing out[i], so in and out may be one buffer.
 */
#include "tcc_round.h"

#include <math.h>

void tcc_round_f32(const float *in, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        const float x = in[i];
        const float floor_x = floorf(x);
        const float diff = x - floor_x;
        const int down = diff < 0.5f || (diff == 0.5f && fmodf(floor_x, 2.0f) == 0.0f);
        out[i] = down ? floor_x : floor_x + 1.0f;
    }
}
