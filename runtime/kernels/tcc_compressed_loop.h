/* tinycc runtime: the decoding loops of compressed weights (tinycc/compress.py), shared by
 * tcc_compressed.c and the Cortex-M kernels that read palettes (arm/tcc_arm_palette.c).
 * TCC_WEIGHTS is used inside a function with `const tcc_wcode *w` and `const int8_t *tab` (the
 * channel's table, NULL: INT4) in scope. */
#ifndef TCC_COMPRESSED_LOOP_H
#define TCC_COMPRESSED_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "tcc_compressed.h"

/* For the N weights from E: v_ = weight (GET of the index bits b_), i_ = 0..N-1, then TERM.
 * A partial first byte, whole bytes of 8 / BITS weights (unrolled by the compiler), a partial
 * last byte. */
#define TCC_WLOOP(BITS, E, N, GET, TERM)                                                \
    do {                                                                                \
        enum { PER_ = 8 / (BITS) };                                                     \
        const uint8_t *d_ = w->index + (E) / PER_;                                      \
        int32_t i_ = 0, v_;                                                             \
        uint32_t b_;                                                                    \
        if ((E) % PER_ != 0) {                                                          \
            b_ = (uint32_t)*d_++ >> ((E) % PER_ * (BITS));                              \
            for (int32_t k_ = (E) % PER_; k_ < PER_ && i_ < (N); ++k_, ++i_) {          \
                v_ = GET; TERM; b_ >>= (BITS);                                          \
            }                                                                           \
        }                                                                               \
        for (; i_ + PER_ <= (N); ) {                                                    \
            b_ = *d_++;                                                                 \
            for (int32_t k_ = 0; k_ < PER_; ++k_, ++i_) {                               \
                v_ = GET; TERM; b_ >>= (BITS);                                          \
            }                                                                           \
        }                                                                               \
        if (i_ < (N)) {                                                                 \
            b_ = *d_;                                                                   \
            for (; i_ < (N); ++i_) {                                                    \
                v_ = GET; TERM; b_ >>= (BITS);                                          \
            }                                                                           \
        }                                                                               \
    } while (0)

#define TCC_INT4 ((int32_t)((b_ & 15u) ^ 8u) - 8)        /* INT4: the nibble, sign-extended */
#define TCC_LOOKUP(BITS) tab[b_ & ((1u << (BITS)) - 1u)]  /* a palette: its table's value */

/* One decoding loop per encoding the model uses (tinycc omits the others: TCC_OMIT_W*). */
#ifndef TCC_OMIT_WINT4
#define TCC_IF_INT4(e, n, TERM) if (tab == NULL) { TCC_WLOOP(4, e, n, TCC_INT4, TERM); } else
#else
#define TCC_IF_INT4(e, n, TERM)
#endif
#ifndef TCC_OMIT_WPALETTE4
#define TCC_IF_PALETTE4(e, n, TERM) if (w->bits == 4) { TCC_WLOOP(4, e, n, TCC_LOOKUP(4), TERM); } else
#else
#define TCC_IF_PALETTE4(e, n, TERM)
#endif
#ifndef TCC_OMIT_WPALETTE2
#define TCC_IF_PALETTE2(e, n, TERM) if (w->bits == 2) { TCC_WLOOP(2, e, n, TCC_LOOKUP(2), TERM); } else
#else
#define TCC_IF_PALETTE2(e, n, TERM)
#endif
#ifndef TCC_OMIT_WPALETTE1
#define TCC_IF_PALETTE1(e, n, TERM) if (w->bits == 1) { TCC_WLOOP(1, e, n, TCC_LOOKUP(1), TERM); } else
#else
#define TCC_IF_PALETTE1(e, n, TERM)
#endif

/* TERM over the n weights from e, whose table is tab (NULL: INT4). */
#define TCC_WEIGHTS(e, n, TERM)                                                         \
    do {                                                                                \
        TCC_IF_INT4(e, n, TERM)                                                         \
        TCC_IF_PALETTE4(e, n, TERM)                                                     \
        TCC_IF_PALETTE2(e, n, TERM)                                                     \
        TCC_IF_PALETTE1(e, n, TERM)                                                     \
        {}                                                                              \
    } while (0)


/* The table of output channel oc (NULL: INT4, no table). */
static inline const int8_t *tcc_wtable(const tcc_wcode *w, int32_t oc)
{
    const int32_t t = w->table_of != NULL ? w->table_of[oc] : w->per_channel ? oc : 0;
    return w->table != NULL ? w->table + (t << w->bits) : NULL;
}

#endif /* TCC_COMPRESSED_LOOP_H */
