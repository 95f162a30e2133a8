/* tinycc runtime: data movement.
 *
 * Semantics: these ops move elements without arithmetic (TFLite reference Slice,
 * StridedSlice, Transpose, Pad/PadV2 (pad value: the output zero point for int8 or the
 * constant_values input), MirrorPad (REFLECT/SYMMETRIC), DepthToSpace/SpaceToDepth (DCR
 * order), Split/SplitV/Unpack, Concatenation/Pack, ResizeNearestNeighbor (nearest source
 * pixel as TFLite's GetNearestNeighbor computes it), Gather, Shape, Fill). The compiler turns
 * each into separable index maps (see tcc_datamove.h); the kernels only follow them, so every
 * address they touch was fixed at compile time, except GATHER's run-time indices, which are
 * checked before use. Whole rows move with memmove, which stays correct when the planner lets
 * the output overlap the input it consumes.
 */
#include "tcc_datamove.h"

#include <math.h>
#include <string.h>

static void copy_elem(unsigned char *dst, const unsigned char *src, size_t es)
{
    switch (es) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memmove(dst, src, es); break;
    }
}

/* Offset of one more level: -1 (padding) is sticky. */
static int32_t add_level(int32_t outer, int32_t m)
{
    return (outer < 0 || m < 0) ? -1 : outer + m;
}

void tcc_gather_map(const int32_t *plan, const void *in, void *out, const void *fill)
{
    const size_t es = (size_t)plan[0];
    const int32_t contiguous = plan[1];
    const int32_t *n = plan + 2;
    const int32_t *m0 = plan + 8;
    const int32_t *m1 = m0 + n[0], *m2 = m1 + n[1], *m3 = m2 + n[2], *m4 = m3 + n[3], *m5 = m4 + n[4];
    const unsigned char *src = (const unsigned char *)in;
    const unsigned char *pad = (const unsigned char *)fill;
    unsigned char *dst = (unsigned char *)out;
    for (int32_t i0 = 0; i0 < n[0]; ++i0) {
        const int32_t o0 = m0[i0];
        for (int32_t i1 = 0; i1 < n[1]; ++i1) {
            const int32_t o1 = add_level(o0, m1[i1]);
            for (int32_t i2 = 0; i2 < n[2]; ++i2) {
                const int32_t o2 = add_level(o1, m2[i2]);
                for (int32_t i3 = 0; i3 < n[3]; ++i3) {
                    const int32_t o3 = add_level(o2, m3[i3]);
                    for (int32_t i4 = 0; i4 < n[4]; ++i4) {
                        const int32_t o4 = add_level(o3, m4[i4]);
                        if (contiguous && o4 >= 0) {
                            const size_t bytes = (size_t)n[5] * es;
                            memmove(dst, src + (size_t)(o4 + m5[0]) * es, bytes);
                            dst += bytes;
                            continue;
                        }
                        for (int32_t i5 = 0; i5 < n[5]; ++i5) {
                            const int32_t o = add_level(o4, m5[i5]);
                            copy_elem(dst, o < 0 ? pad : src + (size_t)o * es, es);
                            dst += es;
                        }
                    }
                }
            }
        }
    }
}

/* Walk the six levels; body sees the destination element offset o. */
#define TCC_SCATTER_LOOP(plan, body)                                                          \
    do {                                                                                      \
        const int32_t *n = (plan) + 2;                                                        \
        const int32_t *m0 = (plan) + 8;                                                       \
        const int32_t *m1 = m0 + n[0], *m2 = m1 + n[1], *m3 = m2 + n[2], *m4 = m3 + n[3];     \
        const int32_t *m5 = m4 + n[4];                                                        \
        for (int32_t i0 = 0; i0 < n[0]; ++i0)                                                 \
        for (int32_t i1 = 0; i1 < n[1]; ++i1)                                                 \
        for (int32_t i2 = 0; i2 < n[2]; ++i2)                                                 \
        for (int32_t i3 = 0; i3 < n[3]; ++i3)                                                 \
        for (int32_t i4 = 0; i4 < n[4]; ++i4) {                                               \
            const int32_t o4 = m0[i0] + m1[i1] + m2[i2] + m3[i3] + m4[i4];                    \
            body                                                                              \
        }                                                                                     \
    } while (0)

void tcc_scatter_map(const int32_t *plan, const void *in, void *out)
{
    const size_t es = (size_t)plan[0];
    const int32_t contiguous = plan[1];
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *dst = (unsigned char *)out;
    TCC_SCATTER_LOOP(plan, {
        if (contiguous) {
            const size_t bytes = (size_t)n[5] * es;
            memmove(dst + (size_t)(o4 + m5[0]) * es, src, bytes);
            src += bytes;
        } else {
            for (int32_t i5 = 0; i5 < n[5]; ++i5) {
                copy_elem(dst + (size_t)(o4 + m5[i5]) * es, src, es);
                src += es;
            }
        }
    });
}

/* TFLite's ConcatenationWithScaling rescale (float scale and bias, round half away from
 * zero), clamped to [lo, hi]. */
static inline int32_t requant_elem(int32_t v, float scale, float bias, int32_t out_zp, int32_t lo, int32_t hi)
{
    const int32_t q = (int32_t)roundf((float)v * scale + bias) + out_zp;
    return q < lo ? lo : (q > hi ? hi : q);
}

void tcc_scatter_map_requant_s8(const int32_t *plan, const int8_t *in, int8_t *out,
                                float scale, float bias, int32_t out_zp)
{
    TCC_SCATTER_LOOP(plan, {
        for (int32_t i5 = 0; i5 < n[5]; ++i5) {
            out[o4 + m5[i5]] = (int8_t)requant_elem(*in++, scale, bias, out_zp, -128, 127);
        }
    });
}

#ifndef TCC_OMIT_SCATTER_MAP_REQUANT_U8  /* fully-uint8 models (TFLite's uint8 CONCATENATION) */
void tcc_scatter_map_requant_u8(const int32_t *plan, const uint8_t *in, uint8_t *out,
                                float scale, float bias, int32_t out_zp)
{
    TCC_SCATTER_LOOP(plan, {
        for (int32_t i5 = 0; i5 < n[5]; ++i5) {
            out[o4 + m5[i5]] = (uint8_t)requant_elem(*in++, scale, bias, out_zp, 0, 255);
        }
    });
}
#endif

int tcc_gather_idx(const int32_t *desc, const void *in, const int32_t *idx, void *out)
{
    const size_t es = (size_t)desc[0];
    const int32_t batches = desc[1], outer = desc[2], axis = desc[3], coords = desc[4];
    const size_t row = (size_t)desc[5] * es;
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *dst = (unsigned char *)out;
    for (int32_t b = 0; b < batches; ++b) {
        const int32_t *ib = idx + (size_t)b * (size_t)coords;
        for (int32_t o = 0; o < outer; ++o) {
            const unsigned char *plane = src + ((size_t)b * (size_t)outer + (size_t)o) * (size_t)axis * row;
            for (int32_t k = 0; k < coords; ++k) {
                const int32_t i = ib[k];
                if (i < 0 || i >= axis) {
                    return -1;
                }
                memmove(dst, plane + (size_t)i * row, row);
                dst += row;
            }
        }
    }
    return 0;
}

int tcc_gather_nd(const int32_t *desc, const void *in, const int32_t *idx, void *out)
{
    const size_t es = (size_t)desc[0];
    const int32_t slices = desc[1], depth = desc[2], slice = desc[3], total = desc[4];
    const int32_t *stride = desc + 5;
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *dst = (unsigned char *)out;
    for (int32_t k = 0; k < slices; ++k) {
        int64_t pos = 0;
        for (int32_t d = 0; d < depth; ++d) {
            pos += (int64_t)idx[(size_t)k * (size_t)depth + (size_t)d] * stride[d];
        }
        if (pos < 0 || pos + slice > total) {
            return -1;
        }
        memmove(dst, src + (size_t)pos * es, (size_t)slice * es);
        dst += (size_t)slice * es;
    }
    return 0;
}

void tcc_dynamic_update_slice(const int32_t *desc, const void *operand, const void *update,
                              const int32_t *start, void *out)
{
    const size_t es = (size_t)desc[0];
    const int32_t rank = desc[1];
    const int32_t *dim = desc + 2, *udim = desc + 2 + rank;
    int32_t first[6], at[6];
    size_t total = 1, rows = 1, ostride[6];
    for (int32_t d = rank - 1; d >= 0; --d) {
        const int32_t hi = dim[d] - udim[d];
        first[d] = start[d] < 0 ? 0 : (start[d] > hi ? hi : start[d]);
        ostride[d] = total;
        total *= (size_t)dim[d];
        if (d < rank - 1) {
            rows *= (size_t)udim[d];
        }
        at[d] = 0;
    }
    if (out != operand) {
        memmove(out, operand, total * es);
    }
    const size_t row = (size_t)udim[rank - 1] * es;
    const unsigned char *src = (const unsigned char *)update;
    unsigned char *dst = (unsigned char *)out;
    for (size_t r = 0; r < rows; ++r) {
        size_t off = 0;
        for (int32_t d = 0; d < rank; ++d) {
            off += (size_t)(first[d] + at[d]) * ostride[d];
        }
        memmove(dst + off * es, src, row);
        src += row;
        for (int32_t d = rank - 2; d >= 0; --d) {   /* next row: odometer over the outer dims */
            if (++at[d] < udim[d]) {
                break;
            }
            at[d] = 0;
        }
    }
}

void tcc_fill(void *out, const void *value, int32_t count, int32_t elem_size)
{
    unsigned char *dst = (unsigned char *)out;
    unsigned char v[8];
    const size_t es = (size_t)elem_size;
    memcpy(v, value, es);   /* the value may live in the output's memory */
    for (int32_t i = 0; i < count; ++i) {
        copy_elem(dst, v, es);
        dst += es;
    }
}

void tcc_copy(void *out, const void *in, int32_t bytes)
{
    memmove(out, in, (size_t)bytes);
}
