/* tinycc runtime: data movement (TFLite builtins SLICE, STRIDED_SLICE, TRANSPOSE, PAD, PADV2,
 * MIRROR_PAD, DEPTH_TO_SPACE, SPACE_TO_DEPTH, SPLIT, SPLIT_V, UNPACK, CONCATENATION, PACK,
 * RESIZE_NEAREST_NEIGHBOR, GATHER, SHAPE, FILL), any element type. */
#ifndef TCC_DATAMOVE_H
#define TCC_DATAMOVE_H

#include <stddef.h>
#include <stdint.h>

/* A plan is one int32 constant array, computed at compile time:
 *   plan[0]      element size in bytes (1, 2, 4 or 8)
 *   plan[1]      1 when the innermost map is 0, 1, 2, ... + c without padding (rows are copied whole)
 *   plan[2..7]   dims n0..n5 of the iteration space (row-major, outermost first)
 *   plan[8..]    the maps: n0 offsets for dim 0, then n1 for dim 1, ..., in elements
 * Gather: out[i0..i5] = in[map0[i0] + ... + map5[i5]], or *fill when any map entry is -1.
 * Scatter: out[map0[i0] + ... + map5[i5]] = in[i0..i5] (maps hold no -1). */
void tcc_gather_map(const int32_t *plan, const void *in, void *out, const void *fill);
void tcc_scatter_map(const int32_t *plan, const void *in, void *out);

/* Scatter of int8 values requantized to the output's scale and zero point (CONCATENATION of
 * inputs quantized differently): q_out = clamp(round(q_in * scale + bias) + out_zp). */
void tcc_scatter_map_requant_s8(const int32_t *plan, const int8_t *in, int8_t *out,
                                float scale, float bias, int32_t out_zp);
/* The same for uint8 (clamped to [0, 255]): TFLite's uint8 CONCATENATION of inputs quantized differently. */
void tcc_scatter_map_requant_u8(const int32_t *plan, const uint8_t *in, uint8_t *out,
                                float scale, float bias, int32_t out_zp);

/* GATHER with run-time indices: out[b][o][k][:] = in[b][o][idx[b][k]][:].
 * desc = {elem_size, batches, outer, axis_size, coords (per batch), inner}.
 * Every index is checked against [0, axis_size): returns -1 (nothing read out of bounds) at the
 * first one outside, 0 on success. */
int tcc_gather_idx(const int32_t *desc, const void *in, const int32_t *idx, void *out);

/* GATHER_ND: slice k of the output is the slice of `in` that index row idx[k][0..depth) names:
 * desc = {elem_size, slices, depth, slice (elements), total (elements of in), then depth
 * strides (elements)}. As TFLite Micro: returns -1 at the first row whose flat position
 * lies outside the input (nothing read), 0 on success. */
int tcc_gather_nd(const int32_t *desc, const void *in, const int32_t *idx, void *out);

/* DYNAMIC_UPDATE_SLICE: out = operand with `update` written at start (clamped per dim to
 * [0, operand_dim - update_dim]). desc = {elem_size, rank (<= 6), operand dims, update dims}.
 * out may be operand itself (the update is then written in place). */
void tcc_dynamic_update_slice(const int32_t *desc, const void *operand, const void *update,
                              const int32_t *start, void *out);

/* FILL: count copies of the element *value; SHAPE and constants: bytes copied. */
void tcc_fill(void *out, const void *value, int32_t count, int32_t elem_size);
void tcc_copy(void *out, const void *in, int32_t bytes);

#endif /* TCC_DATAMOVE_H */
