/*
 * bench.c - per-operator instruction counts of a tinycc model built with bench marks.
 *
 * Build with -DTCC_MODEL_HEADER='"model.h"' -DTCC_NAME=model -DTCC_OP_COUNT=<ops> together with
 * a model generated in bench mode (its run function calls NAME_bench_mark(step) before the first
 * op with step -1 and after every op with the op's step) and one board layer. The inputs are
 * filled with a fixed pseudo-random pattern, one inference runs, and every op's timer ticks are
 * printed as "tinycc-bench: op <step> <ticks>", then "tinycc-bench: ticks per instruction <k>".
 * Each mark costs a call and a timer read (a few tens of instructions) on top of the op.
 */
#include <stdint.h>

#include "board.h"
#include TCC_MODEL_HEADER

#define TCC_CAT_(a, b) a##b
#define TCC_CAT(a, b) TCC_CAT_(a, b)
#define TCC_FN(suffix) TCC_CAT(TCC_NAME, suffix)

static uint32_t op_ticks[TCC_OP_COUNT > 0 ? TCC_OP_COUNT : 1];

void TCC_FN(_bench_mark)(int step);

void TCC_FN(_bench_mark)(int step)
{
    const uint32_t t = board_timer_stop();
    if (step >= 0 && step < TCC_OP_COUNT) {
        op_ticks[step] = t;
    }
    board_timer_start();
}

static void print_uint(uint32_t v)
{
    char buf[12];
    int n = 11;
    buf[n] = 0;
    do {
        buf[--n] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u && n > 0);
    board_print(&buf[n]);
}

int main(void)
{
    uint32_t seed = 12345u;
    board_init();
    for (int i = 0; i < TCC_FN(_INPUT_COUNT); ++i) {
        uint8_t *p = (uint8_t *)TCC_FN(_input)(i);
        for (size_t k = 0; k < TCC_FN(_input_bytes)(i); ++k) {
            seed = seed * 1664525u + 1013904223u;
            p[k] = (uint8_t)(seed >> 24);
        }
    }
    board_timer_start();
    if (TCC_FN(_invoke)() < 0) {
        board_print("tinycc-bench: invoke failed\n");
        return 1;
    }
    for (int k = 0; k < TCC_OP_COUNT; ++k) {
        board_print("tinycc-bench: op ");
        print_uint((uint32_t)k);
        board_print(" ");
        print_uint(op_ticks[k]);
        board_print("\n");
    }
    board_print("tinycc-bench: instructions per tick ");
    print_uint(board_instructions_per_tick());
    board_print("\n");
    return 0;
}
