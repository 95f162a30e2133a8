/*
 * stack.c - the stack one inference of a tinycc model really uses, by painting (QEMU boards).
 *
 * Build with -DTCC_MODEL_HEADER='"model.h"' -DTCC_NAME=model together with the model's .c files
 * and the mps2 board layer (its linker script defines __stack_bottom). The inputs are filled with
 * a fixed pseudo-random pattern; every stack word below main's stack pointer is painted with a
 * pattern; one inference runs; the words from __stack_bottom up that still hold the pattern were
 * never written, and the rest, up to main's stack pointer, is what NAME_invoke used:
 *     "tinycc-stack: used <bytes>"
 * SysTick's wrap interrupt (every 2^24 timer periods) cannot fire during one inference here, so
 * no exception frame is counted.
 */
#include <stdint.h>

#include "board.h"
#include TCC_MODEL_HEADER

#define TCC_CAT_(a, b) a##b
#define TCC_CAT(a, b) TCC_CAT_(a, b)
#define TCC_FN(suffix) TCC_CAT(TCC_NAME, suffix)

#define PAINT 0x5AC3A55Cu

extern uint32_t __stack_bottom[];

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
    uint32_t *sp;
    board_init();
    for (int i = 0; i < TCC_FN(_INPUT_COUNT); ++i) {
        uint8_t *p = (uint8_t *)TCC_FN(_input)(i);
        for (size_t k = 0; k < TCC_FN(_input_bytes)(i); ++k) {
            seed = seed * 1664525u + 1013904223u;
            p[k] = (uint8_t)(seed >> 24);
        }
    }
    /* main's frame is complete here: everything below SP belongs to the calls that follow */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (volatile uint32_t *w = __stack_bottom; w < sp; ++w) {
        *w = PAINT;
    }
    if (TCC_FN(_invoke)() < 0) {
        board_print("tinycc-stack: invoke failed\n");
        return 1;
    }
    const uint32_t *w = __stack_bottom;
    while (w < sp && *w == PAINT) {
        ++w;
    }
    board_print("tinycc-stack: used ");
    print_uint((uint32_t)((uintptr_t)sp - (uintptr_t)w));
    board_print("\n");
    return 0;
}
