/* tinycc runtime, Cortex-M DSP: ADD int8 of two same-shape tensors (see tcc_arm.h).
 *
 * Same semantics as tcc_add_s8 without broadcasting (TFLite's integer Add). Each input's
 * rescaling (offset, << 20, requantize) depends on one int8 value only, so tinycc/packing.py
 * tabulates it, indexed by the byte as unsigned (LDRB + one table load): table[(uint8_t)a] and
 * table[256 + (uint8_t)b], pre-doubled for the output requantization (tcc_arm_rq), which is
 * exact on their sum.
 */
#include "tcc_arm.h"
#include "tcc_arm_dsp.h"

#define ADD_ONE(i, RQ)                                                                      \
    do {                                                                                    \
        int32_t v_ = RQ(ta[ua[i]] + tb[ub[i]]);                                             \
        if (clamp) v_ = TCC_ARM_MIN(TCC_ARM_MAX(v_, lo), hi);                               \
        out[i] = (int8_t)v_;                                                                \
    } while (0)

#define ADD_LOOP(RQ)                                                                        \
    do {                                                                                    \
        int32_t i = 0;                                                                      \
        for (; i + 4 <= n; i += 4, ua += 4, ub += 4, out += 4) {                            \
            ADD_ONE(0, RQ);                                                                 \
            ADD_ONE(1, RQ);                                                                 \
            ADD_ONE(2, RQ);                                                                 \
            ADD_ONE(3, RQ);                                                                 \
        }                                                                                   \
        for (; i < n; ++i, ++ua, ++ub, ++out) {                                             \
            ADD_ONE(0, RQ);                                                                 \
        }                                                                                   \
    } while (0)

static void add_pos(const tcc_arm_add_s8_params *p, const uint8_t *ua, const uint8_t *ub, int8_t *out,
                    int32_t clamp)
{
    const int32_t *ta = p->table, *tb = p->table + 256;
    const int32_t m = p->rq.mult, add = p->rq.add, s = p->rq.shift;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t n = p->size;
#define RQ_POS(acc) tcc_arm_rq_pos((acc), m, add, s)
    ADD_LOOP(RQ_POS);
#undef RQ_POS
}

static void add_zero(const tcc_arm_add_s8_params *p, const uint8_t *ua, const uint8_t *ub, int8_t *out,
                     int32_t clamp)
{
    const int32_t *ta = p->table, *tb = p->table + 256;
    const int32_t m = p->rq.mult, add = p->rq.add;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t n = p->size;
#define RQ_ZERO(acc) tcc_arm_rq_zero((acc), m, add)
    ADD_LOOP(RQ_ZERO);
#undef RQ_ZERO
}

void tcc_arm_add_s8(const tcc_arm_add_s8_params *p, const int8_t *a, const int8_t *b, int8_t *out)
{
    const int32_t clamp = p->act_min > -128 || p->act_max < 127;
    const uint8_t *ua = (const uint8_t *)a, *ub = (const uint8_t *)b;
    if (p->rq.shift != 0) {
        if (clamp) {
            add_pos(p, ua, ub, out, 1);
        } else {
            add_pos(p, ua, ub, out, 0);
        }
    } else if (clamp) {
        add_zero(p, ua, ub, out, 1);
    } else {
        add_zero(p, ua, ub, out, 0);
    }
}
