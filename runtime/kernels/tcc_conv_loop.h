/* tinycc runtime: the loop nest of the plain convolutions, one definition for tcc_conv2d_s8,
 * tcc_conv2d_s16, tcc_conv2d_f32 (tcc_conv.c) and tcc_conv2d_u8 (tcc_uint8.c), so that grouping,
 * dilation, the padding test and the pixel order cannot drift apart between them.
 *
 * For every output pixel (batch, row, column: row-major) and channel oc:
 *   acc = ACC0 (oc in scope), + TAP(w, x) over the taps inside the image,
 *                             + PAD_TAP(w) over the taps outside it when PADDED is non-zero,
 *   scratch[oc] = RESULT (an expression of acc and oc);
 * then the pixel's out_c values are stored, so a stored pixel never clobbers input its own
 * channels still read (what lets the output share the input's memory). Group g of the
 * in_c / k_c groups reads input channels [g * k_c, (g + 1) * k_c) and feeds output channels
 * [g * out_c / groups, (g + 1) * out_c / groups). Weights: [out_c][k_h][k_w][k_c].
 *
 * P is a params struct with the geometry fields of tcc_conv2d_s8_params (batches, in_h, in_w,
 * in_c, out_h, out_w, out_c, k_h, k_w, k_c, stride_*, dil_*, pad_top, pad_left, weights);
 * T, TW, TACC: the input and output, weight and accumulator types; TAP(w, x) and PAD_TAP(w):
 * function-like macros (their names), PADDED a condition (0: padded taps add nothing). */
#ifndef TCC_CONV_LOOP_H
#define TCC_CONV_LOOP_H

#include <stdint.h>

#define TCC_CONV_LOOP(T, TW, TACC, P, IN, OUT, SCRATCH, ACC0, TAP, PADDED, PAD_TAP, RESULT)                \
    do {                                                                                            \
        const int32_t groups_ = (P)->in_c / (P)->k_c;                                               \
        const int32_t oc_per_group_ = (P)->out_c / groups_;                                         \
        T *out_ = (OUT);                                                                            \
        for (int32_t b_ = 0; b_ < (P)->batches; ++b_) {                                             \
            const T *img_ = (IN) + b_ * (P)->in_h * (P)->in_w * (P)->in_c;                          \
            for (int32_t oy_ = 0; oy_ < (P)->out_h; ++oy_) {                                        \
                const int32_t y0_ = oy_ * (P)->stride_h - (P)->pad_top;                             \
                for (int32_t ox_ = 0; ox_ < (P)->out_w; ++ox_) {                                    \
                    const int32_t x0_ = ox_ * (P)->stride_w - (P)->pad_left;                        \
                    for (int32_t oc = 0; oc < (P)->out_c; ++oc) {                                   \
                        const int32_t ic0_ = (oc / oc_per_group_) * (P)->k_c;                       \
                        const TW *w_ = (P)->weights + oc * (P)->k_h * (P)->k_w * (P)->k_c;          \
                        TACC acc = (ACC0);                                                          \
                        for (int32_t ky_ = 0; ky_ < (P)->k_h; ++ky_) {                              \
                            const int32_t y_ = y0_ + ky_ * (P)->dil_h;                              \
                            const int row_in_ = y_ >= 0 && y_ < (P)->in_h;                          \
                            for (int32_t kx_ = 0; kx_ < (P)->k_w; ++kx_) {                          \
                                const int32_t x_ = x0_ + kx_ * (P)->dil_w;                          \
                                const TW *wk_ = w_ + (ky_ * (P)->k_w + kx_) * (P)->k_c;             \
                                if (row_in_ && x_ >= 0 && x_ < (P)->in_w) {                         \
                                    const T *px_ = img_ + (y_ * (P)->in_w + x_) * (P)->in_c + ic0_; \
                                    for (int32_t c_ = 0; c_ < (P)->k_c; ++c_) {                     \
                                        acc += TAP(wk_[c_], px_[c_]);                               \
                                    }                                                               \
                                } else if (PADDED) {                                                \
                                    for (int32_t c_ = 0; c_ < (P)->k_c; ++c_) {                     \
                                        acc += PAD_TAP(wk_[c_]);                                    \
                                    }                                                               \
                                }                                                                   \
                            }                                                                       \
                        }                                                                           \
                        (SCRATCH)[oc] = (RESULT);                                                  \
                    }                                                                               \
                    for (int32_t oc = 0; oc < (P)->out_c; ++oc) {                                   \
                        *out_++ = (SCRATCH)[oc];                                                    \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    } while (0)

/* PAD_TAP of the kernels whose padded taps add nothing (PADDED 0). */
#define TCC_CONV_NO_TAP(w) 0

#endif /* TCC_CONV_LOOP_H */
