/* tinycc runtime: the loop nest of the plain depthwise convolutions whose padded taps add nothing,
 * one definition for tcc_depthwise_s16, tcc_depthwise_f32 (tcc_depthwise.c) and
 * tcc_depthwise_hybrid (tcc_hybrid.c), so that the channel-plane order and the window clipping
 * cannot drift apart between them.
 *
 * Output channel oc = ic * depth_mult + m reads input channel ic only. For every batch (img: its
 * input image; BATCH_INIT runs first), every oc and every output pixel (row-major):
 *   acc = ACC0 (oc in scope), + TAP(w, at) over the taps inside the image (w: the tap's weight,
 *   weights [k_h][k_w][out_c]; at: the tap's input index in img), and the pixel is RESULT (an
 *   expression of acc and oc);
 * the whole output plane of oc is kept in SCRATCH (out_h * out_w values) and then stored into the
 * output's channel-oc slots, so input channel ic is read completely before any slot of channel ic
 * is written (what lets the output share the input's memory when depth_mult is 1).
 * P holds the fields of tcc_depthwise_s16_params' geometry; T, TOUT, TACC: the input, output and
 * accumulator types; TAP the name of a function-like macro. */
#ifndef TCC_DEPTHWISE_LOOP_H
#define TCC_DEPTHWISE_LOOP_H

#include <stdint.h>

#define TCC_DW_LOOP(T, TOUT, TACC, P, IN, OUT, SCRATCH, BATCH_INIT, ACC0, TAP, RESULT)                 \
    do {                                                                                            \
        const int32_t out_c_ = (P)->in_c * (P)->depth_mult;                                         \
        const int32_t plane_ = (P)->out_h * (P)->out_w;                                             \
        for (int32_t b_ = 0; b_ < (P)->batches; ++b_) {                                             \
            const T *img = (IN) + b_ * (P)->in_h * (P)->in_w * (P)->in_c;                           \
            TOUT *dst_ = (OUT) + b_ * plane_ * out_c_;                                              \
            BATCH_INIT                                                                              \
            for (int32_t ic_ = 0; ic_ < (P)->in_c; ++ic_) {                                         \
                for (int32_t m_ = 0; m_ < (P)->depth_mult; ++m_) {                                  \
                    const int32_t oc = ic_ * (P)->depth_mult + m_;                                  \
                    TOUT *t_ = (SCRATCH);                                                           \
                    for (int32_t oy_ = 0; oy_ < (P)->out_h; ++oy_) {                                \
                        const int32_t y0_ = oy_ * (P)->stride_h - (P)->pad_top;                     \
                        for (int32_t ox_ = 0; ox_ < (P)->out_w; ++ox_) {                            \
                            const int32_t x0_ = ox_ * (P)->stride_w - (P)->pad_left;                \
                            TACC acc = (ACC0);                                                      \
                            for (int32_t ky_ = 0; ky_ < (P)->k_h; ++ky_) {                          \
                                const int32_t y_ = y0_ + ky_ * (P)->dil_h;                          \
                                if (y_ < 0 || y_ >= (P)->in_h) continue;                            \
                                for (int32_t kx_ = 0; kx_ < (P)->k_w; ++kx_) {                      \
                                    const int32_t x_ = x0_ + kx_ * (P)->dil_w;                      \
                                    if (x_ < 0 || x_ >= (P)->in_w) continue;                        \
                                    acc += TAP((P)->weights[(ky_ * (P)->k_w + kx_) * out_c_ + oc],   \
                                               (y_ * (P)->in_w + x_) * (P)->in_c + ic_);            \
                                }                                                                   \
                            }                                                                       \
                            *t_++ = (RESULT);                                                       \
                        }                                                                           \
                    }                                                                               \
                    for (int32_t q_ = 0; q_ < plane_; ++q_) {                                       \
                        dst_[q_ * out_c_ + oc] = (SCRATCH)[q_];                                     \
                    }                                                                               \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
    } while (0)

#endif /* TCC_DEPTHWISE_LOOP_H */
