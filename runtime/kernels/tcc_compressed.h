/* tinycc runtime: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED (int8) with weights kept
 * compressed in flash (tinycc/compress.py): k-bit indices into tables of int8 values, decoded
 * in the inner loops. The params structs are the plain kernels' (their weights pointer NULL). */
#ifndef TCC_COMPRESSED_H
#define TCC_COMPRESSED_H

#include <stdint.h>

#include "tcc_conv.h"
#include "tcc_depthwise.h"
#include "tcc_fully_connected.h"

typedef struct {
    int32_t bits;              /* 1, 2 or 4 bits per weight */
    const uint8_t *index;      /* weight e (one row per output channel, see each kernel) at bits
                                  [e * bits, (e + 1) * bits) of the stream, low bits first */
    const int8_t *table;       /* tables of 1 << bits int8 values the indices select (NULL: INT4,
                                  4-bit two's complement values) */
    const uint8_t *table_of;   /* the table of each output channel (NULL: see per_channel) */
    int32_t per_channel;       /* without table_of: 1, table oc is channel oc's; 0, one table */
} tcc_wcode;

/* block: output pixels computed together (>= 1). scratch: block * out_c + k_h * k_w * k_c bytes
 * (the block's outputs, then one channel's decoded weights). Weights [out_c][k_h][k_w][k_c]. */
void tcc_conv2d_s8c(const tcc_conv2d_s8_params *p, const tcc_wcode *w, int32_t block, const int8_t *in,
                    int8_t *out, int8_t *scratch);
/* scratch: out_h * out_w + k_h * k_w bytes (a channel plane, then that channel's decoded taps).
 * Weights transposed to [out_c][k_h][k_w]. */
void tcc_depthwise_s8c(const tcc_depthwise_s8_params *p, const tcc_wcode *w, const int8_t *in, int8_t *out,
                       int8_t *scratch);
/* Weights [out_depth][in_depth]. */
void tcc_fully_connected_s8c(const tcc_fully_connected_s8_params *p, const tcc_wcode *w, const int8_t *in,
                             int8_t *out);

#endif /* TCC_COMPRESSED_H */
