/* tinycc runtime, Cortex-M DSP: DEPTHWISE_CONV_2D int8 with int8 weights (see tcc_arm_dw8.h).
 *
 * The records are built once per call: per channel about 40 cycles (12 byte loads, 9 shifts,
 * 6 PKHBT, 10 stores), against 9 * out_h * out_w MACs of the channel.
 */
#include <string.h>

#include "tcc_arm_dw8.h"
#include "tcc_arm_dsp.h"

#if defined(__ARM_FEATURE_DSP) && !defined(__GNUC__)
#error "tcc_arm_dw8.c: the DSP path uses GNU inline asm helpers; build it with GCC or clang"
#endif

/* (lo & 0xffff) | hi << 16 of two int16 values */
TCC_ARM_INLINE uint32_t dw8_pair(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
}

static void dw8_records(const tcc_arm_dw8_3x3_s8_params *p, int32_t *rec)
{
    const int32_t n = p->dw.channels;
    const int8_t *t = p->taps;
    for (int32_t c = 0; c < n; ++c, t += TCC_ARM_DW8_TAP_BYTES, rec += TCC_ARM_DW8_RECORD_BYTES / 4) {
        const int32_t m = p->mult[c];
        const uint32_t sb = (uint8_t)t[9];
        const int32_t s = (int32_t)(sb & 31u), l = (int32_t)(sb >> 5) + 1;
        if (m == 0) {                                   /* a constant channel */
            memset(rec, 0, TCC_ARM_DW8_RECORD_BYTES);
            rec[1] = p->bias[c];
            continue;
        }
        rec[0] = m;
        rec[1] = s ? (int32_t)((1u << (s - 1)) + ((uint32_t)p->out_zp << s)) : p->out_zp;
        rec[2] = s;
        rec[3] = p->bias[c];
        for (int32_t k = 0; k < 3; ++k) {
            const int32_t w0 = t[3 * k] * (1 << l), w1 = t[3 * k + 1] * (1 << l), w2 = t[3 * k + 2] * (1 << l);
            rec[4 + 2 * k] = (int32_t)dw8_pair(w0, w1);
            rec[5 + 2 * k] = (int32_t)dw8_pair(w1, w2);
        }
    }
}

void tcc_arm_dw8_3x3_s8(const tcc_arm_dw8_3x3_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    int32_t *rec = (int32_t *)scratch;
    tcc_arm_depthwise3x3_s8_params dw = p->dw;
    dw8_records(p, rec);
    dw.records = rec;
    tcc_arm_depthwise3x3_s8(&dw, in, out, (uint8_t *)scratch + TCC_ARM_DW8_RECORD_BYTES * p->dw.channels);
}
