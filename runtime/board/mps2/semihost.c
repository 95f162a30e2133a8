/*
 * semihost.c - board.h for the Arm MPS2/MPS3 FPGA boards as emulated by QEMU
 * (mps2-an385 Cortex-M3, mps2-an386 Cortex-M4F, mps2-an500 Cortex-M7,
 * mps2-an505 Cortex-M33, mps3-an547 Cortex-M55), using ARM semihosting for
 * files/console/exit and SysTick for timing. One file for every board: what
 * differs (the SysTick clock) comes from the board's linker script.
 *
 * Semihosting: the program executes `bkpt 0xAB` with an operation number in
 * r0 and a pointer to an argument block in r1; QEMU (started with
 * `-semihosting-config enable=on,target=native`) performs the operation on
 * the host and returns the result in r0. File names are resolved relative to
 * the directory QEMU was started in.
 *
 * Timing: SysTick runs from the processor clock (CLKSOURCE = 1). With
 * `-icount shift=0` QEMU advances virtual time by exactly 1 ns per executed
 * instruction, so one SysTick period is 1e9 / f_cpu executed instructions:
 *
 *   board (QEMU -M)  core        f_cpu   instructions per SysTick period
 *   mps2-an385       Cortex-M3   25 MHz  40
 *   mps2-an386       Cortex-M4F  25 MHz  40
 *   mps2-an500       Cortex-M7   25 MHz  40
 *   mps2-an505       Cortex-M33  20 MHz  50
 *   mps3-an547       Cortex-M55  32 MHz  31.25
 *
 * A timer tick (what board_timer_stop() counts) is __board_systick_per_tick
 * SysTick periods and is worth __board_instructions_per_tick instructions;
 * both are absolute symbols set by the board's linker script (mps2.ld: 1 and
 * 40; mps2-an505.ld: 1 and 50; mps3-an547.ld: 4 and 125, as 31.25 is not a
 * whole number). A linker script that sets neither gets 1 and 40.
 *
 * The SysTick counter is 24 bits wide; an interrupt on every wrap extends it
 * in software, so long inferences are measured correctly (the 32-bit tick
 * result saturates only after about 1.7e11 instructions). Resolution is one
 * tick; a timer start/stop pair around an empty region measures 0-1 ticks.
 * (The reference clock, CLKSOURCE = 0, is 1 MHz on the MPS2 boards and not
 * connected on the SSE-200/SSE-300 ones, so it is not used.)
 *
 * On the TrustZone boards (AN505, AN547) the program runs in Secure state and
 * uses the Secure SysTick (the one at 0xE000E010 seen from Secure state).
 */
#include "../board.h"

/* ---------------------------------------------------------------------
 * ARM semihosting
 * ------------------------------------------------------------------- */

#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE0 0x04
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20

/* Reason code for a normal application exit (ADP_Stopped_ApplicationExit). */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

/* SYS_OPEN mode numbers (index into the fopen mode list "r","rb",...). */
#define SEMIHOST_MODE_RB 1
#define SEMIHOST_MODE_WB 5

/* Issue one semihosting call; returns the value QEMU leaves in r0. */
static long semihost_call(unsigned long op, const void *arg)
{
    register unsigned long r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    /* "memory": the host may read or write buffers referenced by arg. */
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return (long)r0;
}

/* Length of a C string (kept local so this file does not need <string.h>). */
static size_t semihost_strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') {
        ++n;
    }
    return n;
}

int board_open(const char *path, int mode)
{
    unsigned long block[3];
    long handle;
    block[0] = (unsigned long)path;
    block[1] = (mode == BOARD_OPEN_WRITE) ? SEMIHOST_MODE_WB : SEMIHOST_MODE_RB;
    block[2] = (unsigned long)semihost_strlen(path);
    handle = semihost_call(SYS_OPEN, block);
    return handle < 0 ? -1 : (int)handle;
}

long board_read(int handle, void *buf, size_t len)
{
    /* SYS_READ returns the number of bytes NOT read (len at end of file),
     * or -1 on error. Loop so a short read is only ever end of file. */
    unsigned char *p = (unsigned char *)buf;
    size_t done = 0;
    while (done < len) {
        unsigned long block[3];
        long left;
        size_t want = len - done;
        block[0] = (unsigned long)handle;
        block[1] = (unsigned long)(p + done);
        block[2] = (unsigned long)want;
        left = semihost_call(SYS_READ, block);
        if (left < 0 || (size_t)left > want) {
            return -1;
        }
        if ((size_t)left == want) {
            break; /* end of file */
        }
        done += want - (size_t)left;
    }
    return (long)done;
}

int board_write(int handle, const void *buf, size_t len)
{
    /* SYS_WRITE returns the number of bytes NOT written (0 on success). */
    const unsigned char *p = (const unsigned char *)buf;
    size_t done = 0;
    while (done < len) {
        unsigned long block[3];
        long left;
        size_t want = len - done;
        block[0] = (unsigned long)handle;
        block[1] = (unsigned long)(p + done);
        block[2] = (unsigned long)want;
        left = semihost_call(SYS_WRITE, block);
        if (left < 0 || (size_t)left >= want) {
            return -1; /* error, or no progress at all */
        }
        done += want - (size_t)left;
    }
    return 0;
}

int board_close(int handle)
{
    unsigned long block[1];
    block[0] = (unsigned long)handle;
    return semihost_call(SYS_CLOSE, block) == 0 ? 0 : -1;
}

void board_print(const char *s)
{
    semihost_call(SYS_WRITE0, s);
}

void board_exit(int status)
{
    /* SYS_EXIT_EXTENDED carries a full status code, which QEMU uses as its
     * own process exit code. Plain SYS_EXIT (32-bit) can only say
     * "success" or "failure"; it is tried if the extended call returns. */
    unsigned long block[2];
    block[0] = ADP_STOPPED_APPLICATION_EXIT;
    block[1] = (unsigned long)status;
    semihost_call(SYS_EXIT_EXTENDED, block);
    /* 0x20023 = ADP_Stopped_RunTimeErrorUnknown */
    semihost_call(SYS_EXIT,
                  (const void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT : 0x20023));
    for (;;) {
        /* Not reached under QEMU. */
    }
}

/* ---------------------------------------------------------------------
 * SysTick timer, extended to 64 bits by counting wraps in an interrupt
 * ------------------------------------------------------------------- */

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)

#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE_CPU (1u << 2)
#define SCB_ICSR_PENDSTSET (1u << 26)

/* Reload value; the counter period is SYSTICK_RELOAD + 1 ticks. It can be
 * overridden (e.g. made tiny) to exercise the wrap handling in tests. */
#ifndef SYSTICK_RELOAD
#define SYSTICK_RELOAD 0xFFFFFFu
#endif
#define SYSTICK_PERIOD ((uint64_t)SYSTICK_RELOAD + 1u)

/* Calibration symbols from the linker script (weak: absent means 0). Their
 * addresses are the values. */
extern const char __board_systick_per_tick[] __attribute__((weak));
extern const char __board_instructions_per_tick[] __attribute__((weak));

/* Defaults for a linker script without the symbols: the 25 MHz MPS2 boards. */
#define MPS2_INSTRUCTIONS_PER_TICK 40u

static uint32_t systick_per_tick(void)
{
    uint32_t n = (uint32_t)(uintptr_t)__board_systick_per_tick;
    return n == 0u ? 1u : n;
}

/* Number of times the counter has reached zero (incremented by the ISR). */
static volatile uint32_t systick_wraps;
/* Timestamp taken by board_timer_start(). */
static uint64_t timer_start_stamp;

/* Exception handler, installed by startup.c's vector table. */
void SysTick_Handler(void);
void SysTick_Handler(void)
{
    systick_wraps = systick_wraps + 1u;
}

void board_init(void)
{
    SYST_CSR = 0;              /* stop while configuring */
    SYST_RVR = SYSTICK_RELOAD;
    SYST_CVR = 0;              /* clears the counter; reloads on the next tick */
    systick_wraps = 0;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE_CPU;
}

/*
 * Ticks elapsed since board_init(), as a 64-bit value.
 *
 * The counter runs RELOAD, RELOAD-1, ..., 1, 0, RELOAD, ... and the wrap
 * interrupt becomes pending when it reaches 0, so with `wraps` zeros seen
 * the time is wraps * PERIOD + (PERIOD - value) for a non-zero value.
 * Interrupts are masked while sampling so the ISR cannot run in between;
 * a wrap that happened but was not yet counted shows up as a pending
 * SysTick exception and is added by hand. A reading of exactly 0 is
 * ambiguous (the wrap may or may not be accounted for yet), so it is
 * re-read; it changes within one SysTick period (at most 50 instructions).
 */
static uint64_t systick_now(void)
{
    uint32_t primask;
    uint32_t wraps;
    uint32_t value;

    __asm__ volatile("mrs %0, primask" : "=r"(primask));
    __asm__ volatile("cpsid i" ::: "memory");
    do {
        value = SYST_CVR;
    } while (value == 0u);
    wraps = systick_wraps;
    if ((SCB_ICSR & SCB_ICSR_PENDSTSET) != 0u) {
        /* A wrap is pending: re-read so value and wrap count agree. */
        do {
            value = SYST_CVR;
        } while (value == 0u);
        wraps += 1u;
    }
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");

    return (uint64_t)wraps * SYSTICK_PERIOD + (SYSTICK_PERIOD - value);
}

void board_timer_start(void)
{
    timer_start_stamp = systick_now();
}

uint32_t board_timer_stop(void)
{
    uint64_t elapsed = (systick_now() - timer_start_stamp) / systick_per_tick();
    return elapsed > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)elapsed;
}

uint32_t board_instructions_per_tick(void)
{
    uint32_t n = (uint32_t)(uintptr_t)__board_instructions_per_tick;
    return n == 0u ? MPS2_INSTRUCTIONS_PER_TICK : n;
}
