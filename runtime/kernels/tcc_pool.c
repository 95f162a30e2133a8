/* tinycc runtime: AVERAGE_POOL_2D and MAX_POOL_2D.
 *
 * Semantics (TFLite reference AveragePool): the window is clipped to the image and
 * the average is over the taps inside it only (padding is not counted). int8 and int16 round
 * the sum / count to nearest with ties away from zero, as integer division
 * (sum +- count/2) / count does, then clamps. Float divides the float sum.
 * MAX_POOL_2D (TFLite reference MaxPool): the largest value of the clipped window,
 * then the activation clamp. The window loop is TCC_POOL_LOOP (tcc_pool_loop.h), shared with
 * uint8's pools.
 */
#include <float.h>
#include <math.h>
#include "tcc_pool.h"
#include "tcc_common.h"
#include "tcc_pool_loop.h"

#include <stddef.h>

TCC_AVG_POOL_DEF(tcc_avg_pool_s8, int8_t)
#ifndef TCC_OMIT_AVG_POOL_S16  /* tinycc defines it when no op calls it */
TCC_AVG_POOL_DEF(tcc_avg_pool_s16, int16_t)
#endif

void tcc_avg_pool_f32(const tcc_pool_params *p, const float *in, float *out)
{
    TCC_POOL_LOOP(float, float, p, in, out, 0.0f, TCC_POOL_SUM,
                  tcc_clampf(count > 0 ? acc / (float)count : 0.0f, p->act_minf, p->act_maxf));
}

TCC_MAX_POOL_DEF(tcc_max_pool_s8, int8_t, -128)
#ifndef TCC_OMIT_MAX_POOL_S16  /* tinycc defines it when no op calls it */
TCC_MAX_POOL_DEF(tcc_max_pool_s16, int16_t, -32768)
#endif

#define TCC_POOL_MAXF(m, v) ((v) > (m) ? (v) : (m))     /* the first of equal values, a NaN skipped */

void tcc_max_pool_f32(const tcc_pool_params *p, const float *in, float *out)
{
    TCC_POOL_LOOP(float, float, p, in, out, -FLT_MAX, TCC_POOL_MAXF, tcc_clampf(acc, p->act_minf, p->act_maxf));
}

/* L2_POOL_2D (TFLite Micro l2_pool_2d.cc, reference L2Pool): sqrt(sum of squares / count)
 * over the window clipped to the image. */
#define TCC_POOL_SQUARES(sum, v) ((sum) + (v) * (v))

void tcc_l2_pool_f32(const tcc_pool_params *p, const float *in, float *out)
{
    TCC_POOL_LOOP(float, float, p, in, out, 0.0f, TCC_POOL_SQUARES,
                  tcc_clampf(sqrtf(acc / (float)count), p->act_minf, p->act_maxf));
}
