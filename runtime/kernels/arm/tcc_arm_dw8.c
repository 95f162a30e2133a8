/* tinycc runtime, Cortex-M DSP: DEPTHWISE_CONV_2D int8 with int8 weights (see tcc_arm_dw8.h).
 *
 * Per group of channels: their constants are unpacked into jobs in the scratch (~100 cycles a
 * channel); every input line is widened once into each channel's own plane (4 channels: per 2
 * elements 2 LDR, 4 SXTB16, 4 PKH, 4 STR, ~3.2 cycles a value; fewer channels one by one: the
 * asm loop of dw8_widen_lane, ~3.4 cycles a value and ~20 a line); then the asm
 * below runs the group's channels one after the other, 6 outputs a block (~124 cycles at stride
 * 1, ~146 at stride 2; a line's last 2..3 outputs a 3-output block, ~77, its last one alone, ~52):
 * with the whole plane all the group's lines in one call (~55 cycles a line), with the ring one
 * call per output line (~250 cycles with the C around it). tinycc/variants/arm_dw8.py: cycles has
 * the calibrated figures.
 */
#include <stddef.h>
#include <string.h>

#include "tcc_arm_dw8.h"
#include "tcc_arm_dsp.h"

#if defined(__ARM_FEATURE_DSP) && !defined(__GNUC__)
#error "tcc_arm_dw8.c: the DSP path is GNU asm; build it with GCC or clang"
#endif

/* The parts: the kernel of groups of channels (tcc_arm_dw8_s8 and its clamp) and the one of a
 * channel's whole plane at stride 1 (tcc_arm_dw8_plane_s8); a model links only what it calls. */
#if !defined(TCC_OMIT_ARM_DW8_S8) || !defined(TCC_OMIT_ARM_DW8_CLAMP_S8)
#define DW8_GROUPS 1
#else
#define DW8_GROUPS 0
#endif

/* One channel's constants, read by the asm at the byte offsets given (checked below). */
typedef struct {
    int32_t mult;               /*  0: the Q31 multiplier (0: a constant channel) */
    int32_t add;                /*  4: 2^(s-1) + out_zp * 2^s (out_zp when s == 0; the output of a constant channel) */
    int32_t shift;              /*  8: s, the right shift */
    int32_t bias;               /* 12: the scaled bias */
    uint32_t w[6];              /* 16: A0, B0, A1, B1, A2, B2 */
} dw8_job;

/* `lines` output lines of a group's `lanes` channels (jobs one after the other; channel k reads
 * from in + lane_bytes k and writes from out0 + k; the next line from in + lane_bytes (lanes - 1)
 * + in_step and out0 + lanes - 1 + out_step): the asm copies it to its stack frame and reads it there at the
 * offsets given, advancing lanes, out, end, in, out0 and lines from lane to lane. */
typedef struct {
    int32_t lanes;              /*  0: lanes left in the line */
    int8_t *out;                /*  4: the next output */
    int32_t st;                 /*  8: bytes between outputs along the line */
    const uint8_t *end;         /* 12: `in` after the full blocks */
    int32_t d1;                 /* 16: bytes from window line 0 to line 1 */
    int32_t d12;                /* 20: bytes from window line 1 to line 2 */
    int32_t rest;               /* 24: outputs of the partial last block (0..5) */
    const uint8_t *in;          /* 28: the lane's first pair word of window line 0 */
    int8_t *out0;               /* 32: the lane's first output */
    int32_t lines;              /* 36: lines left, this one included */
    int32_t in_step;            /* 40: in from the last lane of a line to the first of the next */
    int32_t out_step;           /* 44: out0 likewise */
    int32_t group;              /* 48: lanes a line */
    int32_t lane_bytes;         /* 52: in from lane to lane (the channels' planes) */
} dw8_line;

#define DW8_PAIR_BYTES 4          /* a pair word: the asm reads element pair k at 4 k (#4, #8, ...) */
#define DW8_XSTR(x) #x
#define DW8_STR(x) DW8_XSTR(x)

#if TCC_ARM_HAVE_DSP
typedef char dw8_job_ok[offsetof(dw8_job, bias) == 12 && offsetof(dw8_job, w) == 16
                        && sizeof(dw8_job) == TCC_ARM_DW8_JOB_BYTES ? 1 : -1];
typedef char dw8_line_ok[offsetof(dw8_line, end) == 12 && offsetof(dw8_line, rest) == 24
                         && offsetof(dw8_line, out0) == 32 && offsetof(dw8_line, group) == 48
                         && offsetof(dw8_line, lane_bytes) == 52 && sizeof(dw8_line) == 56 ? 1 : -1];
typedef char dw8_geometry_ok[TCC_ARM_DW8_GROUP == 4 && TCC_ARM_DW8_BLOCK == 6 && DW8_PAIR_BYTES == 4 ? 1 : -1];

/* The MACs of one window line (taps A in r3, B in r4; input words through r5, r6 from r0; the
 * 6 accumulators r7..r12, each starting from its own register or, on line 0, the bias in lr).
 * Stride 1: words X0..X3 at r0 + 4 k; 4 loads (7 cycles) + 12 MACs = 19 cycles. */
#define DW8_S1_LINE(TAPS, I7, I8, I9, I10, I11, I12)                                        \
    "ldr    r5, [r0]\n\t"                                                                  \
    "ldr    r6, [r0, #4]\n\t"                                                             \
    TAPS                                                                                    \
    "smlad  r7, r5, r3, " I7 "\n\t"       /* o0 = x0 w0 + x1 w1 */                          \
    "smlabt r7, r6, r4, r7\n\t"           /*    + x2 w2 */                                  \
    "smlatb r8, r5, r3, " I8 "\n\t"       /* o1 = x1 w0 */                                  \
    "smlad  r8, r6, r4, r8\n\t"           /*    + x2 w1 + x3 w2 */                          \
    "smlad  r9, r6, r3, " I9 "\n\t"                                                        \
    "ldr    r5, [r0, #8]\n\t"                                                             \
    "smlabt r9, r5, r4, r9\n\t"                                                            \
    "smlatb r10, r6, r3, " I10 "\n\t"                                                      \
    "smlad  r10, r5, r4, r10\n\t"                                                          \
    "smlad  r11, r5, r3, " I11 "\n\t"                                                      \
    "ldr    r6, [r0, #12]\n\t"                                                             \
    "smlabt r11, r6, r4, r11\n\t"                                                          \
    "smlatb r12, r5, r3, " I12 "\n\t"                                                      \
    "smlad  r12, r6, r4, r12\n\t"
/* Stride 2: words X0..X6; ok = Xk.A + Xk+1.lo * B.hi: 7 loads (12 cycles) + 12 MACs = 24. */
#define DW8_S2_LINE(TAPS, I7, I8, I9, I10, I11, I12)                                        \
    "ldr    r5, [r0]\n\t"                                                                  \
    "ldr    r6, [r0, #4]\n\t"                                                             \
    TAPS                                                                                    \
    "smlad  r7, r5, r3, " I7 "\n\t"                                                        \
    "smlabt r7, r6, r4, r7\n\t"                                                            \
    "ldr    r5, [r0, #8]\n\t"                                                             \
    "smlad  r8, r6, r3, " I8 "\n\t"                                                        \
    "smlabt r8, r5, r4, r8\n\t"                                                            \
    "ldr    r6, [r0, #12]\n\t"                                                             \
    "smlad  r9, r5, r3, " I9 "\n\t"                                                        \
    "smlabt r9, r6, r4, r9\n\t"                                                            \
    "ldr    r5, [r0, #16]\n\t"                                                             \
    "smlad  r10, r6, r3, " I10 "\n\t"                                                      \
    "smlabt r10, r5, r4, r10\n\t"                                                          \
    "ldr    r6, [r0, #20]\n\t"                                                             \
    "smlad  r11, r5, r3, " I11 "\n\t"                                                      \
    "smlabt r11, r6, r4, r11\n\t"                                                          \
    "ldr    r5, [r0, #24]\n\t"                                                             \
    "smlad  r12, r6, r3, " I12 "\n\t"                                                      \
    "smlabt r12, r5, r4, r12\n\t"

/* The same for 3 outputs (r7..r9; words through r5, r6, r10, r11): 3 (stride 2: 4) loads. */
#define DW8_S1_LINE3(I7, I8, I9)                                                            \
    "ldr    r5, [r0]\n\t"                                                                  \
    "ldr    r6, [r0, #4]\n\t"                                                             \
    "ldr    r10, [r0, #8]\n\t"                                                            \
    "smlad  r7, r5, r3, " I7 "\n\t"                                                        \
    "smlabt r7, r6, r4, r7\n\t"                                                            \
    "smlatb r8, r5, r3, " I8 "\n\t"                                                        \
    "smlad  r8, r6, r4, r8\n\t"                                                            \
    "smlad  r9, r6, r3, " I9 "\n\t"                                                        \
    "smlabt r9, r10, r4, r9\n\t"
#define DW8_S2_LINE3(I7, I8, I9)                                                            \
    "ldr    r5, [r0]\n\t"                                                                  \
    "ldr    r6, [r0, #4]\n\t"                                                             \
    "ldr    r10, [r0, #8]\n\t"                                                            \
    "ldr    r11, [r0, #12]\n\t"                                                            \
    "smlad  r7, r5, r3, " I7 "\n\t"                                                        \
    "smlabt r7, r6, r4, r7\n\t"                                                            \
    "smlad  r8, r6, r3, " I8 "\n\t"                                                        \
    "smlabt r8, r10, r4, r8\n\t"                                                           \
    "smlad  r9, r10, r3, " I9 "\n\t"                                                       \
    "smlabt r9, r11, r4, r9\n\t"

/* One output (r7) of one window line, either stride: o0 = SMLAD(X0, A) + SMLABT(X1, B). */
#define DW8_LINE1(I7)                                                                       \
    "ldr    r5, [r0]\n\t"                                                                  \
    "ldr    r6, [r0, #4]\n\t"                                                              \
    "smlad  r7, r5, r3, " I7 "\n\t"                                                        \
    "smlabt r7, r6, r4, r7\n\t"

/* tcc_arm_rq_pos / _zero of one accumulator (mult r3, add r4, shift r5; r1 a temporary) */
#define DW8_RQ_POS(r)                                                                       \
    "smmlar r1, " r ", r3, r4\n\t"                                                         \
    "add    " r ", r1, " r ", asr #31\n\t"                                                 \
    "asr    " r ", " r ", r5\n\t"                                                          \
    "ssat   " r ", #8, " r "\n\t"
#define DW8_RQ_ZERO(r)                                                                      \
    "smmlar " r ", " r ", r3, r4\n\t"                                                      \
    "ssat   " r ", #8, " r "\n\t"

/* The lanes' blocks: r2 the job, the line on the stack. Per block: the 3 window lines (with the
 * taps' LDRD and the pointer steps about 3 x 19 + 16 cycles at stride 1, 3 x 24 + 16 at stride 2),
 * the requantization (7 cycles of loads, 24 of arithmetic) and 6 byte stores (about 10), the loop
 * test (about 7): ~124 cycles per 6 outputs at stride 1, ~146 at stride 2. The last block stores
 * only `rest` outputs when the line is not a multiple of 6. About 20 cycles from lane to lane. */
#define DW8_RUN(LINE, LINE3, STEP)                                                               \
    "push   {r4-r11, lr}\n\t"                                                              \
    "sub    sp, sp, #56\n\t"                /* the lines */                                \
    "ldm    r1!, {r3-r9}\n\t"                                                              \
    "stm    sp, {r3-r9}\n\t"                                                               \
    "add    r2, sp, #28\n\t"                                                               \
    "ldm    r1, {r3-r9}\n\t"                                                               \
    "stm    r2, {r3-r9}\n\t"                                                               \
    "mov    r2, r0\n\t"                                                                    \
    "ldr    r0, [sp, #28]\n"                                                               \
    "0:\n\t"                               /* a lane's first block */                     \
    "ldr    r1, [sp, #12]\n\t"                                                             \
    "cmp    r0, r1\n\t"                                                                    \
    "beq    2f\n"                           /* no full blocks */                           \
    "1:\n\t"                                                                               \
    "ldr    r1, [sp, #16]\n\t"              /* d1 */                                       \
    "ldr    lr, [r2, #12]\n\t"              /* bias */                                     \
    LINE("ldrd   r3, r4, [r2, #16]\n\t", "lr", "lr", "lr", "lr", "lr", "lr")  /* A0, B0 */  \
    "add    r0, r0, r1\n\t"                                                                \
    "ldr    lr, [sp, #20]\n\t"              /* d12 */                                      \
    LINE("ldrd   r3, r4, [r2, #24]\n\t", "r7", "r8", "r9", "r10", "r11", "r12")  /* A1, B1 */ \
    "add    r0, r0, lr\n\t"                                                                \
    "ldrd   r3, r4, [r2, #32]\n\t"          /* A2, B2 */                                   \
    LINE("", "r7", "r8", "r9", "r10", "r11", "r12")                                        \
    "sub    r0, r0, r1\n\t"                                                                \
    "sub    r0, r0, lr\n\t"                                                                \
    "add    r0, r0, #" STEP "\n\t"           /* the next block */                          \
    "ldm    r2, {r3, r4, r5}\n\t"           /* mult, add, shift */                         \
    "ldrd   r6, lr, [sp, #4]\n\t"           /* out, st */                                  \
    "cmp    r5, #0\n\t"                                                                    \
    "beq    7f\n\t"                                                                        \
    DW8_RQ_POS("r7") DW8_RQ_POS("r8") DW8_RQ_POS("r9")                                     \
    DW8_RQ_POS("r10") DW8_RQ_POS("r11") DW8_RQ_POS("r12")                                  \
    "4:\n\t"                                                                               \
    "ldr    r1, [sp, #12]\n\t"              /* end */                                      \
    "add    r3, r6, lr, lsl #1\n\t"                                                        \
    "add    r4, r3, lr, lsl #1\n\t"                                                        \
    "cmp    r0, r1\n\t"                                                                    \
    "bhi    5f\n\t"                         /* past the full blocks: the partial one */    \
    "strb   r7, [r6]\n\t"                                                                  \
    "strb   r8, [r6, lr]\n\t"                                                              \
    "strb   r9, [r3]\n\t"                                                                  \
    "strb   r10, [r3, lr]\n\t"                                                             \
    "strb   r11, [r4]\n\t"                                                                 \
    "strb   r12, [r4, lr]\n\t"                                                             \
    "add    r6, r4, lr, lsl #1\n\t"                                                        \
    "str    r6, [sp, #4]\n\t"                                                              \
    "bne    1b\n"                           /* flags of cmp r0, end */                     \
    "2:\n\t"                                                                               \
    "ldr    r1, [sp, #24]\n\t"              /* rest */                                     \
    "cmp    r1, #3\n\t"                                                                    \
    "bgt    1b\n\t"                         /* 4 or 5: a block, partly stored */           \
    "cmp    r1, #1\n\t"                                                                    \
    "bgt    6f\n\t"                         /* 2 or 3: a 3-output block */                 \
    "beq    14f\n"                          /* 1: one output */                            \
    "8:\n\t"                               /* the next lane */                            \
    "ldr    r1, [sp]\n\t"                                                                  \
    "subs   r1, r1, #1\n\t"                                                                \
    "beq    12f\n\t"                                                                       \
    "str    r1, [sp]\n\t"                                                                  \
    "add    r2, r2, #" DW8_STR(TCC_ARM_DW8_JOB_BYTES) "\n\t"                               \
    "ldr    r3, [sp, #52]\n\t"            /* lane_bytes */                              \
    "movs   r1, #1\n"                                                                      \
    "13:\n\t"                              /* in, end += r3; out0, out = out0 + r1 */     \
    "ldr    r0, [sp, #28]\n\t"                                                             \
    "ldr    r4, [sp, #32]\n\t"                                                             \
    "ldr    r5, [sp, #12]\n\t"                                                             \
    "add    r0, r0, r3\n\t"                                                                \
    "add    r4, r4, r1\n\t"                                                                \
    "add    r5, r5, r3\n\t"                                                                \
    "str    r0, [sp, #28]\n\t"                                                             \
    "str    r4, [sp, #32]\n\t"                                                             \
    "str    r4, [sp, #4]\n\t"                                                              \
    "str    r5, [sp, #12]\n\t"                                                             \
    "b      0b\n"                                                                          \
    "12:\n\t"                              /* the next line */                            \
    "ldr    r1, [sp, #36]\n\t"                                                             \
    "subs   r1, r1, #1\n\t"                                                                \
    "beq    9f\n\t"                                                                        \
    "str    r1, [sp, #36]\n\t"                                                             \
    "ldr    r1, [sp, #48]\n\t"                                                             \
    "str    r1, [sp]\n\t"                                                                  \
    "subs   r1, r1, #1\n\t"                                                                \
    "movs   r3, #" DW8_STR(TCC_ARM_DW8_JOB_BYTES) "\n\t"                                   \
    "mls    r2, r1, r3, r2\n\t"             /* the first job */                            \
    "ldr    r3, [sp, #40]\n\t"                                                             \
    "ldr    r1, [sp, #44]\n\t"                                                             \
    "b      13b\n"                                                                         \
    "9:\n\t"                                                                               \
    "add    sp, sp, #56\n\t"                                                               \
    "pop    {r4-r11, pc}\n"                                                                \
    "5:\n\t"                                                                               \
    "ldr    r1, [sp, #24]\n\t"                                                             \
    "strb   r7, [r6]\n\t"                                                                  \
    "cmp    r1, #2\n\t"                                                                    \
    "blt    8b\n\t"                                                                        \
    "add    r6, r6, lr\n\t"                                                                \
    "strb   r8, [r6]\n\t"                                                                  \
    "cmp    r1, #3\n\t"                                                                    \
    "blt    8b\n\t"                                                                        \
    "add    r6, r6, lr\n\t"                                                                \
    "strb   r9, [r6]\n\t"                                                                  \
    "cmp    r1, #4\n\t"                                                                    \
    "blt    8b\n\t"                                                                        \
    "add    r6, r6, lr\n\t"                                                                \
    "strb   r10, [r6]\n\t"                                                                 \
    "cmp    r1, #5\n\t"                                                                    \
    "blt    8b\n\t"                                                                        \
    "add    r6, r6, lr\n\t"                                                                \
    "strb   r11, [r6]\n\t"                                                                 \
    "b      8b\n"                                                                          \
    "7:\n\t"                                /* s == 0 */                                   \
    DW8_RQ_ZERO("r7") DW8_RQ_ZERO("r8") DW8_RQ_ZERO("r9")                                  \
    DW8_RQ_ZERO("r10") DW8_RQ_ZERO("r11") DW8_RQ_ZERO("r12")                               \
    "b      4b\n"                                                                          \
    "6:\n\t"                               /* 3 outputs, `rest` of them stored */         \
    "ldr    r1, [sp, #16]\n\t"                                                             \
    "ldr    lr, [r2, #12]\n\t"                                                             \
    "ldrd   r3, r4, [r2, #16]\n\t"                                                         \
    LINE3("lr", "lr", "lr")                                                                \
    "ldr    lr, [sp, #20]\n\t"                                                             \
    "add    r0, r0, r1\n\t"                                                                \
    "ldrd   r3, r4, [r2, #24]\n\t"                                                         \
    LINE3("r7", "r8", "r9")                                                                \
    "add    r0, r0, lr\n\t"                                                                \
    "ldrd   r3, r4, [r2, #32]\n\t"                                                         \
    LINE3("r7", "r8", "r9")                                                                \
    "ldm    r2, {r3, r4, r5}\n\t"                                                          \
    "ldrd   r6, lr, [sp, #4]\n\t"                                                          \
    "cmp    r5, #0\n\t"                                                                    \
    "beq    10f\n\t"                                                                       \
    DW8_RQ_POS("r7") DW8_RQ_POS("r8") DW8_RQ_POS("r9")                                     \
    "11:\n\t"                                                                              \
    "ldr    r1, [sp, #24]\n\t"                                                             \
    "strb   r7, [r6]\n\t"                                                                  \
    "cmp    r1, #2\n\t"                                                                    \
    "blt    8b\n\t"                                                                        \
    "strb   r8, [r6, lr]\n\t"                                                              \
    "cmp    r1, #3\n\t"                                                                    \
    "blt    8b\n\t"                                                                        \
    "strb   r9, [r6, lr, lsl #1]\n\t"                                                      \
    "b      8b\n"                                                                          \
    "10:\n\t"                                                                              \
    DW8_RQ_ZERO("r7") DW8_RQ_ZERO("r8") DW8_RQ_ZERO("r9")                                  \
    "b      11b\n"                                                                         \
    "14:\n\t"                               /* one output (either stride) */               \
    "ldr    r1, [sp, #16]\n\t"                                                             \
    "ldr    lr, [r2, #12]\n\t"                                                             \
    "ldrd   r3, r4, [r2, #16]\n\t"                                                         \
    DW8_LINE1("lr")                                                                        \
    "ldr    lr, [sp, #20]\n\t"                                                             \
    "add    r0, r0, r1\n\t"                                                                \
    "ldrd   r3, r4, [r2, #24]\n\t"                                                         \
    DW8_LINE1("r7")                                                                        \
    "add    r0, r0, lr\n\t"                                                                \
    "ldrd   r3, r4, [r2, #32]\n\t"                                                         \
    DW8_LINE1("r7")                                                                        \
    "ldm    r2, {r3, r4, r5}\n\t"                                                          \
    "ldr    r6, [sp, #4]\n\t"                                                              \
    "cmp    r5, #0\n\t"                                                                    \
    "beq    15f\n\t"                                                                       \
    DW8_RQ_POS("r7")                                                                       \
    "strb   r7, [r6]\n\t"                                                                  \
    "b      8b\n"                                                                          \
    "15:\n\t"                                                                              \
    DW8_RQ_ZERO("r7")                                                                      \
    "strb   r7, [r6]\n\t"                                                                  \
    "b      8b\n\t"

#if DW8_GROUPS
static __attribute__((naked, noinline)) void dw8_run_s1(__attribute__((unused)) const dw8_job *j,
                                                        __attribute__((unused)) const dw8_line *ln)
{
    __asm__ volatile(DW8_RUN(DW8_S1_LINE, DW8_S1_LINE3, "12"));
}

static __attribute__((naked, noinline)) void dw8_run_s2(__attribute__((unused)) const dw8_job *j,
                                                        __attribute__((unused)) const dw8_line *ln)
{
    __asm__ volatile(DW8_RUN(DW8_S2_LINE, DW8_S2_LINE3, "24"));
}

#define DW8_RUN_LINE(j, ln, stride) ((stride) == 1 ? dw8_run_s1(j, ln) : dw8_run_s2(j, ln))
#endif
#else
/* Element e of the window line at byte address q (int16 lanes of the pair words). */
static inline int32_t dw8_el(const uint8_t *q, int32_t e)
{
    int16_t v;
    memcpy(&v, q + 2 * e, 2);
    return v;
}

/* What the asm computes, in portable C. */
static inline void dw8_run_line(const dw8_job *job, const dw8_line *ln, int32_t stride)
{
    for (int32_t run = 0; run < ln->lines * ln->group; ++run) {
        const int32_t lane = run % ln->group, line = run / ln->group;
        const dw8_job *j = job + lane;
        const int32_t in_off = ln->lane_bytes * lane + line * (ln->lane_bytes * (ln->group - 1) + ln->in_step);
        const uint8_t *in = ln->in + in_off, *end = ln->end + in_off;
        int8_t *out = ln->out0 + lane + line * (ln->group - 1 + ln->out_step);
        for (;;) {
            const uint8_t *q[3] = {in, in + ln->d1, in + ln->d1 + ln->d12};
            int32_t acc[TCC_ARM_DW8_BLOCK];
            for (int32_t i = 0; i < TCC_ARM_DW8_BLOCK; ++i) {
                acc[i] = j->bias;
                for (int32_t l = 0; l < 3; ++l) {
                    const int32_t w0 = (int16_t)j->w[2 * l], w1 = (int16_t)(j->w[2 * l] >> 16);
                    const int32_t w2 = (int16_t)(j->w[2 * l + 1] >> 16), e = i * stride;
                    acc[i] += dw8_el(q[l], e) * w0 + dw8_el(q[l], e + 1) * w1 + dw8_el(q[l], e + 2) * w2;
                }
                acc[i] = j->shift ? tcc_arm_rq_pos(acc[i], j->mult, j->add, j->shift)
                                  : tcc_arm_rq_zero(acc[i], j->mult, j->add);
            }
            in += TCC_ARM_DW8_BLOCK / 2 * DW8_PAIR_BYTES * stride;
            const int32_t n = in > end ? ln->rest : TCC_ARM_DW8_BLOCK;
            for (int32_t i = 0; i < n; ++i) {
                out[i * ln->st] = (int8_t)acc[i];
            }
            out += TCC_ARM_DW8_BLOCK * ln->st;
            if (n < TCC_ARM_DW8_BLOCK || (in == end && ln->rest == 0)) {
                break;
            }
        }
    }
}

#define DW8_RUN_LINE(j, ln, stride) dw8_run_line(j, ln, stride)
#endif

/* The channel's constants into its job: taps as pair words times 2^(left+1), the
 * requantization (a constant channel: mult 0, its output in add). */
static inline void dw8_setup(const tcc_arm_dw8_s8_params *p, int32_t c, dw8_job *j)
{
    const int8_t *t = p->taps + TCC_ARM_DW8_TAP_BYTES * c;
    const uint32_t sb = (uint8_t)t[9];
    const int32_t s = (int32_t)(sb & 31u), l = (int32_t)(sb >> 5) + 1;
    j->mult = p->mult[c];
    if (j->mult == 0) {
        j->add = p->bias[c];
        j->bias = 0;
        j->shift = 0;
    } else {
        j->add = s ? (int32_t)((1u << (s - 1)) + ((uint32_t)p->out_zp << s)) : p->out_zp;
        j->bias = p->bias[c];
        j->shift = s;
    }
    for (int32_t k = 0; k < 3; ++k) {
        const int32_t w0 = t[3 * k] * (1 << l), w1 = t[3 * k + 1] * (1 << l), w2 = t[3 * k + 2] * (1 << l);
        j->w[2 * k] = tcc_pkhbt((uint32_t)w0, (uint32_t)w1);
        j->w[2 * k + 1] = tcc_pkhbt((uint32_t)w1, (uint32_t)w2);
    }
}

/* What the widening of lines needs besides their source and first slot. */
typedef struct {
    int32_t n;                  /* input elements a line */
    int32_t step;               /* bytes between them */
    int32_t pad;                /* the slot element of the first */
    int32_t g;                  /* channels (4: from word loads; fewer: value by value) */
    uint32_t zz;                /* in_zp in both lanes */
    int32_t lines;              /* lines, line_step bytes apart in the input, into consecutive slots */
    int32_t line_step;
    int32_t line_words;         /* a slot */
    int32_t lane_words;         /* a channel's plane */
} dw8_widening;

#if DW8_GROUPS
/* wd->lines input lines of the group's 4 channels (from src) into consecutive slots of each
 * channel's plane from `slot` (channel 0's): per 2 elements 2 LDR, 4 SXTB16, 4 PKH, 4 STR. */
static void dw8_widen4(const dw8_widening *wd, uint32_t *slot, const int8_t *line_src)
{
    const int32_t n = wd->n, step = wd->step, pad = wd->pad, lw = wd->lane_words;
    const uint32_t zz = wd->zz;
    for (int32_t l = 0; l < wd->lines; ++l, slot += wd->line_words, line_src += wd->line_step) {
        const int8_t *src = line_src;
        uint32_t *d = slot + (pad >> 1);
        int32_t e = 0;
        if (pad & 1) {                                  /* (in_zp, x0) */
            const uint32_t v = tcc_ld32(src), s0 = tcc_sxtb16(v), s1 = tcc_sxtb16_ror8(v);
            d[0] = tcc_pkhbt(zz, s0);
            d[lw] = tcc_pkhbt(zz, s1);
            d[2 * lw] = tcc_pkhtb(s0, zz);
            d[3 * lw] = tcc_pkhtb(s1, zz);
            d += 1;
            src += step;
            e = 1;
        }
        for (; e + 2 <= n; e += 2, d += 1, src += 2 * step) {
            const uint32_t a = tcc_ld32(src), b = tcc_ld32(src + step);
            const uint32_t ea = tcc_sxtb16(a), eb = tcc_sxtb16(b), oa = tcc_sxtb16_ror8(a), ob = tcc_sxtb16_ror8(b);
            d[0] = tcc_pkhbt(ea, eb);
            d[lw] = tcc_pkhbt(oa, ob);
            d[2 * lw] = tcc_pkhtb(eb, ea);
            d[3 * lw] = tcc_pkhtb(ob, oa);
        }
        if (e < n) {                                    /* (x_last, in_zp) */
            const uint32_t v = tcc_ld32(src), s0 = tcc_sxtb16(v), s1 = tcc_sxtb16_ror8(v);
            d[0] = tcc_pkhbt(s0, zz);
            d[lw] = tcc_pkhbt(s1, zz);
            d[2 * lw] = tcc_pkhtb(zz, s0);
            d[3 * lw] = tcc_pkhtb(zz, s1);
        }
    }
}

#endif

#if DW8_GROUPS || !defined(TCC_OMIT_ARM_DW8_PLANE_S8)
/* `lines` lines (line_step bytes apart) of n values (step bytes apart) from p into the int16
 * at h (line_words words apart; the same alignment in every line). */
#if TCC_ARM_HAVE_DSP
typedef char dw8_widening_ok[offsetof(dw8_widening, step) == 4 && offsetof(dw8_widening, lines) == 20
                             && offsetof(dw8_widening, line_step) == 24 && offsetof(dw8_widening, line_words) == 28
                             ? 1 : -1];

/* The widening of dw8_widen_lane (h in r0, p in r1, wd in r2; every register but sp clobbered), its
 * 28 bytes of line state at sp + F: 0 p, 4 h (the line's), 8 n - odd, 12 odd, 16 line bytes,
 * 20 line_step, 24 lines. Per 8 values 8 LDRSB (from two bases 4 values apart, so they
 * pipeline), 4 PKHBT, an STM of 4: ~22 cycles; a line's last 0..7 values in pairs (~9 cycles)
 * and one alone; ~40 cycles a line around it. */
#define DW8_WIDEN_LINES(F)                                                                   \
    "ldr    r4, [r2]\n\t"              /* n */                                               \
    "ldr    r3, [r2, #4]\n\t"          /* step */                                            \
    "and    r8, r0, #2\n\t"            /* 2: h is odd, its first value alone */              \
    "sub    r4, r4, r8, lsr #1\n\t"                                                          \
    "ldr    r9, [r2, #28]\n\t"         /* line_words */                                      \
    "ldr    r10, [r2, #24]\n\t"        /* line_step */                                       \
    "ldr    r11, [r2, #20]\n\t"        /* lines */                                           \
    "lsl    r9, r9, #2\n\t"                                                                  \
    "add    r12, r3, r3, lsl #1\n\t"   /* 3 step */                                          \
    "strd   r1, r0, [sp, #" F "]\n\t"                                                        \
    "add    r2, sp, #(" F " + 8)\n\t"                                                        \
    "stm    r2, {r4, r8, r9, r10, r11}\n\t"                                                  \
    "cmp    r11, #0\n\t"                                                                     \
    "ble    39f\n"                                                                           \
    "31:\n\t"                           /* a line: r5 its next value, r6 where it goes */    \
    "ldrd   r5, r6, [sp, #" F "]\n\t"                                                        \
    "ldrd   r7, r8, [sp, #(" F " + 8)]\n\t"      /* n - odd, odd */                          \
    "cmp    r8, #0\n\t"                                                                      \
    "beq    32f\n\t"                                                                         \
    "ldrsb  r2, [r5]\n\t"                                                                    \
    "add    r5, r5, r3\n\t"                                                                  \
    "strh   r2, [r6], #2\n"                                                                  \
    "32:\n\t"                                                                                \
    "add    lr, r5, r3, lsl #2\n\t"    /* r5's value 4 */                                    \
    "subs   r7, r7, #8\n\t"                                                                  \
    "blt    34f\n"                                                                           \
    "33:\n\t"                           /* 8 values */                                       \
    "ldrsb  r0, [r5]\n\t"                                                                    \
    "ldrsb  r8, [r5, r3]\n\t"                                                                \
    "ldrsb  r1, [r5, r3, lsl #1]\n\t"                                                        \
    "ldrsb  r9, [r5, r12]\n\t"                                                               \
    "ldrsb  r2, [lr]\n\t"                                                                    \
    "ldrsb  r10, [lr, r3]\n\t"                                                               \
    "ldrsb  r4, [lr, r3, lsl #1]\n\t"                                                        \
    "ldrsb  r11, [lr, r12]\n\t"                                                              \
    "pkhbt  r0, r0, r8, lsl #16\n\t"                                                         \
    "pkhbt  r1, r1, r9, lsl #16\n\t"                                                         \
    "pkhbt  r2, r2, r10, lsl #16\n\t"                                                        \
    "pkhbt  r4, r4, r11, lsl #16\n\t"                                                        \
    "add    r5, r5, r3, lsl #3\n\t"                                                          \
    "add    lr, lr, r3, lsl #3\n\t"                                                          \
    "stm    r6!, {r0, r1, r2, r4}\n\t"                                                       \
    "subs   r7, r7, #8\n\t"                                                                  \
    "bge    33b\n"                                                                           \
    "34:\n\t"                                                                                \
    "adds   r7, r7, #8\n\t"          /* the rest (0..7): pairs, then one value */            \
    "beq    36f\n\t"                                                                         \
    "subs   r7, r7, #2\n\t"                                                                  \
    "blt    37f\n"                                                                           \
    "35:\n\t"                                                                                \
    "ldrsb  r0, [r5]\n\t"                                                                    \
    "ldrsb  r1, [r5, r3]\n\t"                                                                \
    "add    r5, r5, r3, lsl #1\n\t"                                                          \
    "pkhbt  r0, r0, r1, lsl #16\n\t"                                                         \
    "str    r0, [r6], #4\n\t"                                                                \
    "subs   r7, r7, #2\n\t"                                                                  \
    "bge    35b\n"                                                                           \
    "37:\n\t"                                                                                \
    "cmn    r7, #1\n\t"              /* -1: one value left, -2: none */                      \
    "bne    36f\n\t"                                                                         \
    "ldrsb  r2, [r5]\n\t"                                                                    \
    "strh   r2, [r6]\n"                                                                      \
    "36:\n\t"                                                                                \
    "ldrd   r5, r6, [sp, #" F "]\n\t"                                                        \
    "ldrd   r9, r10, [sp, #(" F " + 16)]\n\t"    /* line bytes, line_step */                 \
    "ldr    r11, [sp, #(" F " + 24)]\n\t"                                                    \
    "add    r5, r5, r10\n\t"                                                                 \
    "add    r6, r6, r9\n\t"                                                                  \
    "subs   r11, r11, #1\n\t"                                                                \
    "strd   r5, r6, [sp, #" F "]\n\t"                                                        \
    "str    r11, [sp, #(" F " + 24)]\n\t"                                                    \
    "bne    31b\n"                                                                           \
    "39:\n\t"

#if DW8_GROUPS
static __attribute__((naked, noinline)) void dw8_widen_lane(__attribute__((unused)) int16_t *h,
                                                            __attribute__((unused)) const int8_t *p,
                                                            __attribute__((unused)) const dw8_widening *wd)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "sub    sp, sp, #28\n\t"
        DW8_WIDEN_LINES("0")
        "add    sp, sp, #28\n\t"
        "pop    {r4-r11, pc}\n\t");
}
#endif
#else
static void dw8_widen_lane(int16_t *h, const int8_t *p, const dw8_widening *wd)
{
    const int32_t step = wd->step, odd = ((uintptr_t)h & 2u) != 0;
    const int32_t n8 = (wd->n - odd) >> 3, rest = (wd->n - odd) & 7;
    for (int32_t l = wd->lines; l > 0; --l, h += 2 * wd->line_words, p += wd->line_step) {
        const int8_t *q = p;
        int16_t *e = h;
        if (odd) {
            *e++ = *q;
            q += step;
        }
        uint32_t *d = (uint32_t *)(void *)e;
        for (int32_t i = n8; i > 0; --i, d += 4, q += 8 * step) {
            const int8_t *r = q + 4 * step;
            const uint32_t v0 = (uint32_t)q[0], v1 = (uint32_t)q[step], v2 = (uint32_t)q[2 * step];
            const uint32_t v3 = (uint32_t)q[3 * step], v4 = (uint32_t)r[0], v5 = (uint32_t)r[step];
            const uint32_t v6 = (uint32_t)r[2 * step], v7 = (uint32_t)r[3 * step];
            d[0] = tcc_pkhbt(v0, v1);
            d[1] = tcc_pkhbt(v2, v3);
            d[2] = tcc_pkhbt(v4, v5);
            d[3] = tcc_pkhbt(v6, v7);
        }
        e = (int16_t *)(void *)d;
        for (int32_t i = rest; i > 0; --i, q += step) {
            *e++ = *q;
        }
    }
}
#endif

#endif

#if DW8_GROUPS
/* The same for g < 4 channels (group 2 or 1, or a group at the end): channel by channel. */
static void dw8_widen1(const dw8_widening *wd, uint32_t *slot, const int8_t *line_src)
{
    for (int32_t c = 0; c < wd->g; ++c) {
        dw8_widen_lane((int16_t *)(void *)(slot + c * wd->lane_words) + wd->pad, line_src + c, wd);
    }
}

#define DW8_WIDEN(wd, slot, src) ((wd)->g == TCC_ARM_DW8_GROUP ? dw8_widen4(wd, slot, src) : dw8_widen1(wd, slot, src))

/* The activation range over `lines` output lines of `lanes` channels from out. */
static void dw8_clamp(const tcc_arm_dw8_s8_params *p, int8_t *out, int32_t lanes, int32_t lines, int32_t line_step,
                      int32_t n, int32_t st)
{
    for (int32_t l = 0; l < lines; ++l, out += line_step) {
        for (int32_t k = 0; k < lanes; ++k) {
            int8_t *e = out + k;
            for (int32_t i = 0; i < n; ++i, e += st) {
                *e = (int8_t)TCC_ARM_MIN(TCC_ARM_MAX(*e, p->act_min), p->act_max);
            }
        }
    }
}

TCC_ARM_INLINE void dw8(const tcc_arm_dw8_s8_params *p, const int8_t *in, int8_t *out, void *scratch, int32_t clamp)
{
    const int32_t c_all = p->channels, group = p->group, ring = p->ring;
    const int32_t t = p->transposed, s = p->stride, len = p->line_len;
    const int32_t lines_in = t ? p->in_w : p->in_h;
    const int32_t line_step_in = (t ? 1 : p->in_w) * c_all;
    const int32_t lines_out = t ? p->out_w : p->out_h;
    const int32_t n_out = t ? p->out_h : p->out_w;
    const int32_t pad_line = t ? p->pad_left : p->pad_top;
    const int32_t line_step_out = (t ? 1 : p->out_w) * c_all;
    const int32_t n_pix = p->out_h * p->out_w;
    const int32_t slots = ring ? 4 : p->lines;      /* the ring's slot 3: the padding */
    const int32_t line_words = len / 2, lane_words = slots * line_words;
    const int32_t full_bytes = n_out / TCC_ARM_DW8_BLOCK * TCC_ARM_DW8_BLOCK / 2 * DW8_PAIR_BYTES * s;
#if TCC_ARM_HAVE_DSP
    dw8_job *job = (dw8_job *)scratch;                      /* the group's jobs, then the planes */
#else
    dw8_job job[TCC_ARM_DW8_GROUP];
#endif
    uint32_t *plane = (uint32_t *)scratch + group * TCC_ARM_DW8_JOB_BYTES / 4;
    dw8_widening wd;
    wd.n = t ? p->in_h : p->in_w;
    wd.step = (t ? p->in_w : 1) * c_all;
    wd.pad = t ? p->pad_top : p->pad_left;
    wd.zz = (uint32_t)(uint16_t)p->in_zp * 0x10001u;
    wd.lines = 1;
    wd.line_step = line_step_in;
    wd.line_words = line_words;
    wd.lane_words = lane_words;
    dw8_line ln;
    ln.st = (t ? p->out_w : 1) * c_all;
    ln.rest = n_out % TCC_ARM_DW8_BLOCK;
    ln.lane_bytes = 4 * lane_words;
    for (int32_t i = 0; i < group * lane_words; ++i) {
        plane[i] = wd.zz;              /* the border; the inside is overwritten per line */
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *img = in + b * p->in_h * p->in_w * c_all;
        int8_t *img_out = out + b * n_pix * c_all;
        for (int32_t c0 = 0; c0 < c_all; c0 += group) {
            wd.g = ln.lanes = ln.group = TCC_ARM_MIN(group, c_all - c0);
            for (int32_t k = 0; k < ln.lanes; ++k) {
                dw8_setup(p, c0 + k, &job[k]);
            }
            if (!ring) {   /* the whole planes first (any whole-pixel overlap is safe), one run */
                const int32_t line_bytes = 4 * line_words;
                wd.lines = lines_in;
                DW8_WIDEN(&wd, plane + pad_line * line_words, img + c0);
                ln.lines = lines_out;
                ln.in_step = s * line_bytes - ln.lane_bytes * (ln.lanes - 1);
                ln.out_step = line_step_out - (ln.lanes - 1);
                ln.out = ln.out0 = img_out + c0;
                ln.in = (const uint8_t *)plane;
                ln.end = ln.in + full_bytes;
                ln.d1 = ln.d12 = line_bytes;
                DW8_RUN_LINE(job, &ln, s);
                if (clamp) {
                    dw8_clamp(p, img_out + c0, ln.lanes, lines_out, line_step_out, n_out, ln.st);
                }
                continue;
            }
            /* the ring: widen the lines before their first use (line l in slot l % 3; the
             * padding lines read slot 3), one run per output line */
            int32_t next = 0, qn = 0;       /* the next plane line to widen, its slot */
            int32_t q0 = 0;                 /* the slot of line ol * s */
            wd.lines = ln.lines = 1;
            for (int32_t ol = 0; ol < lines_out; ++ol) {
                const int32_t l0 = ol * s;
                for (; next <= l0 + 2; ++next, qn = qn == 2 ? 0 : qn + 1) {
                    const uint32_t y = (uint32_t)(next - pad_line);
                    if (y < (uint32_t)lines_in) {
                        DW8_WIDEN(&wd, plane + qn * line_words, img + (int32_t)y * line_step_in + c0);
                    }
                }
                const uint32_t y = (uint32_t)(l0 - pad_line), n_in = (uint32_t)lines_in;
                const int32_t q1 = q0 == 2 ? 0 : q0 + 1, q2 = q1 == 2 ? 0 : q1 + 1;
                const uint8_t *r0 = (const uint8_t *)(plane + (y < n_in ? q0 : 3) * line_words);
                const uint8_t *r1 = (const uint8_t *)(plane + (y + 1 < n_in ? q1 : 3) * line_words);
                const uint8_t *r2 = (const uint8_t *)(plane + (y + 2 < n_in ? q2 : 3) * line_words);
                q0 = s == 1 ? q1 : q2;
                ln.out = ln.out0 = img_out + ol * line_step_out + c0;
                ln.in = r0;
                ln.end = r0 + full_bytes;
                ln.d1 = (int32_t)(r1 - r0);
                ln.d12 = (int32_t)(r2 - r1);
                DW8_RUN_LINE(job, &ln, s);
                if (clamp) {
                    dw8_clamp(p, ln.out0, ln.lanes, 1, 0, n_out, ln.st);
                }
            }
        }
    }
}

#endif /* DW8_GROUPS */

#ifndef TCC_OMIT_ARM_DW8_PLANE_S8
/* tcc_arm_dw8_plane_s8: one channel at a time (its whole plane widened, stride 1), every channel of
 * a batch in one asm call. What the asm reads at the offsets given (checked below) and advances
 * from channel to channel (channels, taps, mult, bias, src, dst). */
typedef struct {
    int32_t channels;           /*  0: channels left */
    const int8_t *taps;         /*  4: the channel's taps and shift byte */
    const int32_t *mult;        /*  8 */
    const int32_t *bias;        /* 12 */
    const int8_t *src;          /* 16: the channel's first input */
    int8_t *dst;                /* 20: its first output */
    int32_t out_zp;             /* 24 */
    int16_t *wdst;              /* 28: where the plane's first input element goes */
    const uint8_t *plane;       /* 32: the first pair word of output line 0's window */
    int32_t lines_out;          /* 36 */
    int32_t out_step;           /* 40: bytes from output line to output line */
    int32_t full_bytes;         /* 44: `in` from a line's first block to after its full blocks (but a 7's) */
    int32_t d;                  /* 48: bytes from plane line to plane line */
    int32_t st;                 /* 52: bytes between outputs along a line */
    int32_t rest;               /* 56: outputs of a line's partial last block (0..5), 7: 6 + 1 */
    dw8_widening wd;            /* 60: the channel's input lines into the plane (dw8_widen_lane) */
} dw8_plane;

#if TCC_ARM_HAVE_DSP
typedef char dw8_plane_ok[offsetof(dw8_plane, taps) == 4 && offsetof(dw8_plane, src) == 16
                          && offsetof(dw8_plane, out_zp) == 24 && offsetof(dw8_plane, plane) == 32
                          && offsetof(dw8_plane, d) == 48 && offsetof(dw8_plane, rest) == 56
                          && offsetof(dw8_plane, wd) == 60 ? 1 : -1];

/* DW8_S1_LINE with the words X0..X2 loaded together (r5, r6, r1; X3 into r5): 4 loads in 6
 * cycles. TAPS after the first three loads (line 0) or before the macro (lines 1, 2: their
 * address is then not waiting on the ADD of r0). */
#define DW8P_LINE(TAPS, I7, I8, I9, I10, I11, I12)                                          \
    "ldr    r5, [r0]\n\t"                                                                  \
    "ldr    r6, [r0, #4]\n\t"                                                              \
    "ldr    r1, [r0, #8]\n\t"                                                              \
    TAPS                                                                                    \
    "smlad  r7, r5, r3, " I7 "\n\t"                                                        \
    "smlabt r7, r6, r4, r7\n\t"                                                            \
    "smlatb r8, r5, r3, " I8 "\n\t"                                                        \
    "smlad  r8, r6, r4, r8\n\t"                                                            \
    "smlad  r9, r6, r3, " I9 "\n\t"                                                        \
    "smlabt r9, r1, r4, r9\n\t"                                                            \
    "smlatb r10, r6, r3, " I10 "\n\t"                                                      \
    "smlad  r10, r1, r4, r10\n\t"                                                          \
    "ldr    r5, [r0, #12]\n\t"                                                             \
    "smlad  r11, r1, r3, " I11 "\n\t"                                                      \
    "smlabt r11, r5, r4, r11\n\t"                                                          \
    "smlatb r12, r1, r3, " I12 "\n\t"                                                      \
    "smlad  r12, r5, r4, r12\n\t"

/* 7 outputs (the 7th in lr, which holds the bias until its own first MAC): X4 into r6. */
#define DW8P_LINE7(TAPS, I7, I8, I9, I10, I11, I12)                                         \
    DW8P_LINE(TAPS, I7, I8, I9, I10, I11, I12)                                              \
    "ldr    r6, [r0, #16]\n\t"                                                             \
    "smlad  lr, r5, r3, lr\n\t"                                                            \
    "smlabt lr, r6, r4, lr\n\t"

/* The 3 window lines of a block (LINE: DW8P_LINE or DW8P_LINE7), the accumulators from the bias;
 * r0 ends on window line 2. */
#define DW8P_ROWS(LINE)                                                                     \
    "ldr    lr, [sp, #12]\n\t"                                                             \
    LINE("ldrd   r3, r4, [sp, #16]\n\t", "lr", "lr", "lr", "lr", "lr", "lr")                 \
    "add    r0, r0, r2\n\t"                                                                \
    "ldrd   r3, r4, [sp, #24]\n\t"                                                         \
    LINE("", "r7", "r8", "r9", "r10", "r11", "r12")                                         \
    "add    r0, r0, r2\n\t"                                                                \
    "ldrd   r3, r4, [sp, #32]\n\t"                                                         \
    LINE("", "r7", "r8", "r9", "r10", "r11", "r12")

/* Every channel of a batch: its job into the frame (the dw8_job layout at sp; 9 LDRSB, 9 LSL,
 * 6 PKHBT, ~60 cycles), its input lines widened (DW8_WIDEN_LINES), then its output lines, blocks of
 * 6 as dw8_run_s1's with the job at sp and the plane's line bytes in r2 (~119 cycles a block; a
 * line's last 2..3 outputs a 3-output block, its last one alone), ~20 cycles from line to line.
 * A line of 6 k + 1 outputs (k > 0) ends with a block of 7 (~140 cycles, against ~165 for 6 and 1).
 * The frame after the job: 40 out, 44 st, 48 end, 52 rest, 56 lines left, 60 out0, 64 in0, 68 the
 * dw8_plane, 72 d, 76 the widening's line state (DW8_WIDEN_LINES). */
static __attribute__((naked, noinline)) void dw8_plane_run(__attribute__((unused)) dw8_plane *c)
{
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "sub    sp, sp, #108\n\t"
        "str    r0, [sp, #68]\n\t"
        "ldr    r1, [r0, #48]\n\t"
        "str    r1, [sp, #72]\n\t"              /* d */
        "ldr    r1, [r0, #52]\n\t"
        "str    r1, [sp, #44]\n\t"              /* st */
        "ldr    r1, [r0, #56]\n\t"
        "str    r1, [sp, #52]\n"                /* rest */
        "20:\n\t"                               /* a channel (r0: the dw8_plane) */
        "ldr    r1, [r0, #4]\n\t"               /* the taps: pair words times 2^(left+1) */
        "ldrb   r12, [r1, #9]\n\t"
        "ldrsb  r3, [r1]\n\t"
        "ldrsb  r4, [r1, #1]\n\t"
        "ldrsb  r5, [r1, #2]\n\t"
        "ldrsb  r6, [r1, #3]\n\t"
        "ldrsb  r7, [r1, #4]\n\t"
        "ldrsb  r8, [r1, #5]\n\t"
        "ldrsb  r9, [r1, #6]\n\t"
        "ldrsb  r10, [r1, #7]\n\t"
        "ldrsb  r11, [r1, #8]\n\t"
        "add    r1, r1, #" DW8_STR(TCC_ARM_DW8_TAP_BYTES) "\n\t"
        "str    r1, [r0, #4]\n\t"
        "lsr    lr, r12, #5\n\t"
        "add    lr, lr, #1\n\t"
        "lsl    r3, r3, lr\n\t"
        "lsl    r4, r4, lr\n\t"
        "lsl    r5, r5, lr\n\t"
        "lsl    r6, r6, lr\n\t"
        "lsl    r7, r7, lr\n\t"
        "lsl    r8, r8, lr\n\t"
        "lsl    r9, r9, lr\n\t"
        "lsl    r10, r10, lr\n\t"
        "lsl    r11, r11, lr\n\t"
        "pkhbt  r1, r3, r4, lsl #16\n\t"        /* A0 */
        "pkhbt  r2, r4, r5, lsl #16\n\t"        /* B0 */
        "strd   r1, r2, [sp, #16]\n\t"
        "pkhbt  r1, r6, r7, lsl #16\n\t"
        "pkhbt  r2, r7, r8, lsl #16\n\t"
        "strd   r1, r2, [sp, #24]\n\t"
        "pkhbt  r1, r9, r10, lsl #16\n\t"
        "pkhbt  r2, r10, r11, lsl #16\n\t"
        "strd   r1, r2, [sp, #32]\n\t"
        "and    r5, r12, #31\n\t"               /* shift s */
        "ldr    r1, [r0, #8]\n\t"
        "ldr    r3, [r1], #4\n\t"               /* mult */
        "str    r1, [r0, #8]\n\t"
        "ldr    r1, [r0, #12]\n\t"
        "ldr    r6, [r1], #4\n\t"               /* bias */
        "str    r1, [r0, #12]\n\t"
        "ldr    r4, [r0, #24]\n\t"              /* add = out_zp 2^s + 2^s / 2 */
        "movs   r1, #1\n\t"
        "lsl    r1, r1, r5\n\t"
        "lsl    r4, r4, r5\n\t"
        "add    r4, r4, r1, lsr #1\n\t"
        "cmp    r3, #0\n\t"                     /* a constant channel: its output in add */
        "ittt   eq\n\t"
        "moveq  r4, r6\n\t"
        "moveq  r6, #0\n\t"
        "moveq  r5, #0\n\t"
        "stm    sp, {r3, r4, r5, r6}\n\t"       /* mult, add, shift, bias */
        "ldr    r1, [r0, #36]\n\t"
        "str    r1, [sp, #56]\n\t"              /* lines */
        "ldr    r1, [r0, #20]\n\t"
        "str    r1, [sp, #60]\n\t"              /* out0 = out = dst */
        "str    r1, [sp, #40]\n\t"
        "add    r1, r1, #1\n\t"
        "str    r1, [r0, #20]\n\t"
        "ldr    r1, [r0, #32]\n\t"
        "ldr    r2, [r0, #44]\n\t"
        "str    r1, [sp, #64]\n\t"              /* in0 = plane */
        "add    r2, r1, r2\n\t"
        "str    r2, [sp, #48]\n\t"              /* end */
        "ldr    r1, [r0, #16]\n\t"              /* the input lines into the plane */
        "add    r2, r1, #1\n\t"
        "str    r2, [r0, #16]\n\t"
        "add    r2, r0, #60\n\t"
        "ldr    r0, [r0, #28]\n\t"
        DW8_WIDEN_LINES("76")
        "ldr    r1, [sp, #68]\n\t"
        "ldr    r2, [r1, #48]\n\t"              /* d, the plane's line bytes, from here on */
        "ldr    r0, [sp, #64]\n"
        "0:\n\t"                                /* a line's first block */
        "ldr    r1, [sp, #48]\n\t"
        "cmp    r0, r1\n\t"
        "beq    2f\n"
        "1:\n\t"
        DW8P_ROWS(DW8P_LINE)
        "sub    r0, r0, r2, lsl #1\n\t"
        "add    r0, r0, #12\n\t"                /* the next block */
        "ldm    sp, {r3, r4, r5}\n\t"           /* mult, add, shift */
        "ldrd   r6, lr, [sp, #40]\n\t"          /* out, st */
        "cmp    r5, #0\n\t"
        "beq    7f\n\t"
        DW8_RQ_POS("r7") DW8_RQ_POS("r8") DW8_RQ_POS("r9")
        DW8_RQ_POS("r10") DW8_RQ_POS("r11") DW8_RQ_POS("r12")
        "4:\n\t"
        "ldr    r1, [sp, #48]\n\t"              /* end */
        "add    r3, r6, lr, lsl #1\n\t"
        "add    r4, r3, lr, lsl #1\n\t"
        "cmp    r0, r1\n\t"
        "bhi    5f\n\t"                         /* past the full blocks: the partial one */
        "add    r1, r4, lr, lsl #1\n\t"
        "strb   r7, [r6]\n\t"
        "strb   r8, [r6, lr]\n\t"
        "strb   r9, [r3]\n\t"
        "strb   r10, [r3, lr]\n\t"
        "strb   r11, [r4]\n\t"
        "strb   r12, [r4, lr]\n\t"
        "str    r1, [sp, #40]\n\t"
        "bne    1b\n"                           /* flags of cmp r0, end */
        "2:\n\t"
        "ldr    r1, [sp, #52]\n\t"              /* rest */
        "cmp    r1, #7\n\t"
        "beq    16f\n\t"                        /* 7: the last full block and 1 more */
        "cmp    r1, #3\n\t"
        "bgt    1b\n\t"                         /* 4 or 5: a block, partly stored */
        "cmp    r1, #1\n\t"
        "bgt    6f\n\t"                         /* 2 or 3: a 3-output block */
        "beq    14f\n"                          /* 1: one output */
        "8:\n\t"                                /* the next line */
        "ldr    r1, [sp, #56]\n\t"
        "subs   r1, r1, #1\n\t"
        "beq    21f\n\t"
        "str    r1, [sp, #56]\n\t"
        "ldr    r0, [sp, #64]\n\t"
        "ldr    r1, [sp, #68]\n\t"
        "add    r0, r0, r2\n\t"
        "ldr    r3, [r1, #40]\n\t"              /* out_step */
        "ldr    r4, [r1, #44]\n\t"              /* full_bytes */
        "ldr    r5, [sp, #60]\n\t"
        "str    r0, [sp, #64]\n\t"
        "add    r5, r5, r3\n\t"
        "add    r4, r0, r4\n\t"
        "str    r5, [sp, #60]\n\t"
        "str    r5, [sp, #40]\n\t"
        "str    r4, [sp, #48]\n\t"
        "b      0b\n"
        "21:\n\t"                               /* the next channel */
        "ldr    r0, [sp, #68]\n\t"
        "ldr    r1, [r0]\n\t"
        "subs   r1, r1, #1\n\t"
        "str    r1, [r0]\n\t"
        "bne    20b\n\t"
        "add    sp, sp, #108\n\t"
        "pop    {r4-r11, pc}\n"
        "5:\n\t"                                /* 4 or 5 of the block's outputs */
        "ldr    r1, [sp, #52]\n\t"
        "strb   r7, [r6]\n\t"
        "strb   r8, [r6, lr]\n\t"
        "strb   r9, [r3]\n\t"
        "strb   r10, [r3, lr]\n\t"
        "cmp    r1, #5\n\t"
        "blt    8b\n\t"
        "strb   r11, [r4]\n\t"
        "b      8b\n"
        "7:\n\t"                                /* s == 0 */
        DW8_RQ_ZERO("r7") DW8_RQ_ZERO("r8") DW8_RQ_ZERO("r9")
        DW8_RQ_ZERO("r10") DW8_RQ_ZERO("r11") DW8_RQ_ZERO("r12")
        "b      4b\n"
        "6:\n\t"                                /* 3 outputs, `rest` of them stored */
        "ldr    lr, [sp, #12]\n\t"
        "ldrd   r3, r4, [sp, #16]\n\t"
        DW8_S1_LINE3("lr", "lr", "lr")
        "add    r0, r0, r2\n\t"
        "ldrd   r3, r4, [sp, #24]\n\t"
        DW8_S1_LINE3("r7", "r8", "r9")
        "add    r0, r0, r2\n\t"
        "ldrd   r3, r4, [sp, #32]\n\t"
        DW8_S1_LINE3("r7", "r8", "r9")
        "ldm    sp, {r3, r4, r5}\n\t"
        "ldrd   r6, lr, [sp, #40]\n\t"
        "cmp    r5, #0\n\t"
        "beq    10f\n\t"
        DW8_RQ_POS("r7") DW8_RQ_POS("r8") DW8_RQ_POS("r9")
        "11:\n\t"
        "ldr    r1, [sp, #52]\n\t"
        "strb   r7, [r6]\n\t"
        "strb   r8, [r6, lr]\n\t"
        "cmp    r1, #3\n\t"
        "blt    8b\n\t"
        "strb   r9, [r6, lr, lsl #1]\n\t"
        "b      8b\n"
        "10:\n\t"
        DW8_RQ_ZERO("r7") DW8_RQ_ZERO("r8") DW8_RQ_ZERO("r9")
        "b      11b\n"
        "16:\n\t"                               /* 7 outputs */
        DW8P_ROWS(DW8P_LINE7)
        "ldm    sp, {r3, r4, r5}\n\t"
        "ldrd   r6, r2, [sp, #40]\n\t"          /* out, st (r2: d again below) */
        "cmp    r5, #0\n\t"
        "beq    17f\n\t"
        DW8_RQ_POS("r7") DW8_RQ_POS("r8") DW8_RQ_POS("r9") DW8_RQ_POS("r10")
        DW8_RQ_POS("r11") DW8_RQ_POS("r12") DW8_RQ_POS("lr")
        "18:\n\t"
        "add    r3, r6, r2, lsl #1\n\t"
        "add    r4, r3, r2, lsl #1\n\t"
        "add    r5, r4, r2, lsl #1\n\t"
        "strb   r7, [r6]\n\t"
        "strb   r8, [r6, r2]\n\t"
        "strb   r9, [r3]\n\t"
        "strb   r10, [r3, r2]\n\t"
        "strb   r11, [r4]\n\t"
        "strb   r12, [r4, r2]\n\t"
        "strb   lr, [r5]\n\t"
        "ldr    r2, [sp, #72]\n\t"
        "b      8b\n"
        "17:\n\t"
        DW8_RQ_ZERO("r7") DW8_RQ_ZERO("r8") DW8_RQ_ZERO("r9") DW8_RQ_ZERO("r10")
        DW8_RQ_ZERO("r11") DW8_RQ_ZERO("r12") DW8_RQ_ZERO("lr")
        "b      18b\n"
        "14:\n\t"                               /* one output */
        "ldr    lr, [sp, #12]\n\t"
        "ldrd   r3, r4, [sp, #16]\n\t"
        DW8_LINE1("lr")
        "add    r0, r0, r2\n\t"
        "ldrd   r3, r4, [sp, #24]\n\t"
        DW8_LINE1("r7")
        "add    r0, r0, r2\n\t"
        "ldrd   r3, r4, [sp, #32]\n\t"
        DW8_LINE1("r7")
        "ldm    sp, {r3, r4, r5}\n\t"
        "ldr    r6, [sp, #40]\n\t"
        "cmp    r5, #0\n\t"
        "beq    15f\n\t"
        DW8_RQ_POS("r7")
        "strb   r7, [r6]\n\t"
        "b      8b\n"
        "15:\n\t"
        DW8_RQ_ZERO("r7")
        "strb   r7, [r6]\n\t"
        "b      8b\n\t");
}
#else
/* What the asm computes, in portable C. */
static void dw8_plane_run(dw8_plane *c)
{
    for (; c->channels > 0; --c->channels, c->taps += TCC_ARM_DW8_TAP_BYTES, ++c->mult, ++c->bias, ++c->src, ++c->dst) {
        dw8_job job;
        tcc_arm_dw8_s8_params p;
        p.taps = c->taps;
        p.mult = c->mult;
        p.bias = c->bias;
        p.out_zp = c->out_zp;
        dw8_setup(&p, 0, &job);
        dw8_widen_lane(c->wdst, c->src, &c->wd);
        dw8_line ln;
        ln.lanes = ln.group = 1;
        ln.lines = c->lines_out;
        ln.out = ln.out0 = c->dst;
        ln.st = c->st;
        ln.in = c->plane;
        ln.end = c->plane + c->full_bytes + (c->rest == 7) * TCC_ARM_DW8_BLOCK / 2 * DW8_PAIR_BYTES;
        ln.d1 = ln.d12 = ln.in_step = c->d;
        ln.rest = c->rest == 7 ? 1 : c->rest;
        ln.out_step = c->out_step;
        ln.lane_bytes = 0;
        dw8_run_line(&job, &ln, 1);
    }
}
#endif

void tcc_arm_dw8_plane_s8(const tcc_arm_dw8_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    const int32_t t = p->transposed, c_all = p->channels, line_words = p->line_len / 2;
    const int32_t n_out = t ? p->out_h : p->out_w, pad_line = t ? p->pad_left : p->pad_top;
    const int32_t n_pix = p->out_h * p->out_w;
    uint32_t *plane = (uint32_t *)scratch;
    dw8_plane c;
    c.wd.n = t ? p->in_h : p->in_w;
    c.wd.step = (t ? p->in_w : 1) * c_all;
    c.wd.pad = t ? p->pad_top : p->pad_left;
    c.wd.g = 1;
    c.wd.zz = (uint32_t)(uint16_t)p->in_zp * 0x10001u;
    c.wd.lines = t ? p->in_w : p->in_h;
    c.wd.line_step = (t ? 1 : p->in_w) * c_all;
    c.wd.line_words = line_words;
    c.wd.lane_words = p->lines * line_words;
    c.out_zp = p->out_zp;
    c.wdst = (int16_t *)(void *)(plane + pad_line * line_words) + c.wd.pad;
    c.plane = (const uint8_t *)plane;
    c.lines_out = t ? p->out_w : p->out_h;
    c.out_step = (t ? 1 : p->out_w) * c_all;
    c.full_bytes = n_out / TCC_ARM_DW8_BLOCK * TCC_ARM_DW8_BLOCK / 2 * DW8_PAIR_BYTES;
    c.d = 4 * line_words;
    c.st = (t ? p->out_w : 1) * c_all;
    c.rest = n_out % TCC_ARM_DW8_BLOCK;
    if (c.rest == 1 && n_out > TCC_ARM_DW8_BLOCK) {    /* the last full block and the last output: 7 */
        c.rest = 7;
        c.full_bytes -= TCC_ARM_DW8_BLOCK / 2 * DW8_PAIR_BYTES;
    }
    /* the border (in_zp): the padding lines whole, the other lines' words around the input
     * elements (a word half theirs too: the widening writes that half alone) */
    const int32_t left = (c.wd.pad + 1) / 2, right = (c.wd.pad + c.wd.n) / 2;
    for (int32_t l = 0; l < p->lines; ++l) {
        const int32_t inside = l >= pad_line && l < pad_line + c.wd.lines;
        uint32_t *w = plane + l * line_words;
        for (int32_t i = 0; i < (inside ? left : line_words); ++i) {
            w[i] = c.wd.zz;
        }
        for (int32_t i = inside ? right : line_words; i < line_words; ++i) {
            w[i] = c.wd.zz;
        }
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        c.channels = c_all;
        c.taps = p->taps;
        c.mult = p->mult;
        c.bias = p->bias;
        c.src = in + b * p->in_h * p->in_w * c_all;
        c.dst = out + b * n_pix * c_all;
        dw8_plane_run(&c);
    }
    if (p->act_min > -128 || p->act_max < 127) {
        for (int32_t i = 0; i < p->batches * n_pix * c_all; ++i) {
            out[i] = (int8_t)TCC_ARM_MIN(TCC_ARM_MAX(out[i], p->act_min), p->act_max);
        }
    }
}
#endif

#ifndef TCC_OMIT_ARM_DW8_S8
void tcc_arm_dw8_s8(const tcc_arm_dw8_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    dw8(p, in, out, scratch, 0);
}
#endif

#ifndef TCC_OMIT_ARM_DW8_CLAMP_S8
void tcc_arm_dw8_clamp_s8(const tcc_arm_dw8_s8_params *p, const int8_t *in, int8_t *out, void *scratch)
{
    dw8(p, in, out, scratch, 1);
}
#endif
