/* tinycc runtime: the window loop of the plain pooling kernels, one definition for AVERAGE_POOL_2D,
 * MAX_POOL_2D and L2_POOL_2D of every type (tcc_pool.c) and uint8's (tcc_uint8.c).
 *
 * For every output element (batch, row, column, channel: row-major), over the window clipped to
 * the image (count taps, padding not counted; rows then columns):
 *   acc = INIT, then acc = STEP(acc, v) for each tap's value v, and the output is RESULT
 * (an expression of acc and count). STEP is the name of a function-like macro; P a
 * tcc_pool_params; T the element type, TACC the accumulator's. Output element k reads input
 * pixels of rows and columns at or after its own, so the output may share the input's memory
 * where the planner allows it. */
#ifndef TCC_POOL_LOOP_H
#define TCC_POOL_LOOP_H

#include <stdint.h>

#include "tcc_common.h"
#include "tcc_pool.h"

#define TCC_POOL_LOOP(T, TACC, P, IN, OUT, INIT, STEP, RESULT)                                      \
    do {                                                                                            \
        T *out_ = (OUT);                                                                            \
        for (int32_t b_ = 0; b_ < (P)->batches; ++b_) {                                             \
            const T *img_ = (IN) + b_ * (P)->in_h * (P)->in_w * (P)->channels;                      \
            for (int32_t oy_ = 0; oy_ < (P)->out_h; ++oy_) {                                        \
                const int32_t y0_ = oy_ * (P)->stride_h - (P)->pad_top;                             \
                const int32_t ky0_ = TCC_MAX(0, -y0_), ky1_ = TCC_MIN((P)->f_h, (P)->in_h - y0_);   \
                for (int32_t ox_ = 0; ox_ < (P)->out_w; ++ox_) {                                    \
                    const int32_t x0_ = ox_ * (P)->stride_w - (P)->pad_left;                        \
                    const int32_t kx0_ = TCC_MAX(0, -x0_), kx1_ = TCC_MIN((P)->f_w, (P)->in_w - x0_); \
                    const int32_t count = (ky1_ - ky0_) * (kx1_ - kx0_);                            \
                    (void)count;                                                                    \
                    for (int32_t c_ = 0; c_ < (P)->channels; ++c_) {                                \
                        TACC acc = (INIT);                                                          \
                        for (int32_t ky_ = ky0_; ky_ < ky1_; ++ky_) {                               \
                            for (int32_t kx_ = kx0_; kx_ < kx1_; ++kx_) {                           \
                                const T v_ = img_[((y0_ + ky_) * (P)->in_w + (x0_ + kx_)) * (P)->channels + c_]; \
                                acc = STEP(acc, v_);                                                \
                            }                                                                       \
                        }                                                                           \
                        *out_++ = (RESULT);                                                         \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    } while (0)

#define TCC_POOL_SUM(acc, v) ((acc) + (v))
#define TCC_POOL_MAX(acc, v) TCC_MAX(acc, v)

/* Integer AVERAGE_POOL_2D: the int32 sum / count rounded to nearest, ties away from zero (as
 * (sum +- count / 2) / count in integer division), clamped. */
#define TCC_AVG_POOL_DEF(fn, T)                                                                     \
    void fn(const tcc_pool_params *p, const T *in, T *out)                                          \
    {                                                                                               \
        TCC_POOL_LOOP(T, int32_t, p, in, out, 0, TCC_POOL_SUM,                                      \
                      (T)tcc_clamp(count > 0 ? (acc > 0 ? (acc + count / 2) / count                 \
                                                        : (acc - count / 2) / count) : 0,           \
                                   p->act_min, p->act_max));                                        \
    }

/* Integer MAX_POOL_2D: the largest value from `lowest` (the type's), clamped. */
#define TCC_MAX_POOL_DEF(fn, T, lowest)                                                             \
    void fn(const tcc_pool_params *p, const T *in, T *out)                                          \
    {                                                                                               \
        TCC_POOL_LOOP(T, int32_t, p, in, out, (lowest), TCC_POOL_MAX,                               \
                      (T)tcc_clamp(acc, p->act_min, p->act_max));                                   \
    }

#endif /* TCC_POOL_LOOP_H */
