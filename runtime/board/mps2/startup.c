/*
 * startup.c - reset and exception handling for the Arm MPS2/MPS3 FPGA boards
 * as emulated by QEMU. One file for every board; the memory map is the
 * board's linker script:
 *
 *   QEMU -M      core (QEMU)  linker script    code at     RAM at
 *   mps2-an385   Cortex-M3    mps2.ld          0x00000000  0x20000000
 *   mps2-an386   Cortex-M4F   mps2.ld          0x00000000  0x20000000
 *   mps2-an500   Cortex-M7    mps2.ld          0x00000000  0x20000000
 *   mps2-an505   Cortex-M33   mps2-an505.ld    0x10000000  0x38000000
 *   mps3-an547   Cortex-M55   mps3-an547.ld    0x10000000  0x31000000
 *
 * Works for ARMv6-M (Cortex-M0 code runs on the an385's M3), ARMv7-M,
 * ARMv7E-M, ARMv8-M Mainline and ARMv8.1-M Mainline. The AN505 and AN547 are
 * TrustZone systems: the core leaves reset in Secure state with its vector
 * table at INITSVTOR0 (AN505: 0x10000000, AN547: 0x00000000, the ITCM, also
 * seen at 0x10000000), the SAU disabled (so every address is Secure) and the
 * memory protection controllers in their reset state (every block Secure);
 * the program simply stays in Secure state and uses the Secure aliases of
 * the memories (address bit 28 set). See the linker scripts for details.
 *
 * The stack sits at the *bottom* of RAM so that an overflow runs below RAM
 * instead of silently corrupting .data/.bss. On ARMv8-M Mainline (M33, M55)
 * MSPLIM is set to the stack's lower end, so an overflow is a UsageFault
 * (CFSR.STKOF) at once. On the MPS2 boards below RAM is a region QEMU reads
 * as zeros and ignores writes to, so there an overflow typically ends in a
 * fault on a lost return address.
 *
 * Reset_Handler: enable the FPU (if compiled for one: single precision on
 * M4F/M33, double on M7 and M55; on the M55 this also enables MVE/Helium),
 * set the stack limit (ARMv8-M), copy .data, zero .bss, call main() and exit
 * through semihosting with main's return value. Faults are reported on the
 * semihosting console and end the program with status BOARD_EXIT_FAULT.
 */
#include "../board.h"

/* Symbols defined by the board's linker script (mps2.ld etc.). */
extern uint32_t __stack_bottom[];
extern uint32_t __stack_top[];
extern uint32_t __data_load[];
extern uint32_t __data_start[];
extern uint32_t __data_end[];
extern uint32_t __bss_start[];
extern uint32_t __bss_end[];
extern uint32_t __ram_start[];
extern uint32_t __ram_end[];

int main(void);

void Reset_Handler(void);
void HardFault_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void); /* in semihost.c */
void mps2_fault_report(const uint32_t *frame, uint32_t exc_return);

/* Private stack for mps2_fault_report(), so reporting neither depends on
 * the faulting stack nor overwrites the exception frame it reads. */
#define FAULT_STACK_WORDS 256
uint64_t mps2_fault_stack[FAULT_STACK_WORDS / 2];

/* ---------------------------------------------------------------------
 * Vector table
 * ------------------------------------------------------------------- */

/* Entry 0 is the initial stack pointer, the rest are handler addresses. */
typedef union {
    void (*handler)(void);
    void *stack;
} vector_entry;

/* 16 system exceptions + 32 external interrupts (the mps2 NVIC has 32). */
#define VECTOR_COUNT (16 + 32)

__attribute__((section(".vectors"), used))
const vector_entry mps2_vectors[VECTOR_COUNT] = {
    {.stack = __stack_top},
    {.handler = Reset_Handler},
    {.handler = HardFault_Handler}, /* NMI */
    {.handler = HardFault_Handler}, /* HardFault */
    {.handler = HardFault_Handler}, /* MemManage (ARMv7-M) */
    {.handler = HardFault_Handler}, /* BusFault (ARMv7-M) */
    {.handler = HardFault_Handler}, /* UsageFault (ARMv7-M) */
    {.handler = HardFault_Handler}, /* SecureFault (ARMv8-M Mainline) */
    {.handler = 0},                 /* reserved */
    {.handler = 0},                 /* reserved */
    {.handler = 0},                 /* reserved */
    {.handler = Default_Handler},   /* SVCall */
    {.handler = Default_Handler},   /* DebugMonitor */
    {.handler = 0},                 /* reserved */
    {.handler = Default_Handler},   /* PendSV */
    {.handler = SysTick_Handler},   /* SysTick */
    /* External interrupts 0..31: none are enabled, any one is a bug.
     * (The boards have more; none is ever enabled either.) */
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
    {.handler = Default_Handler}, {.handler = Default_Handler},
};

/* ---------------------------------------------------------------------
 * Reset
 * ------------------------------------------------------------------- */

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void)
{
#if defined(__ARM_FP)
    /* Grant full access to coprocessors 10 and 11 (the FPU) before any
     * floating-point instruction can execute. */
    SCB_CPACR |= (0xFu << 20);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif

#if defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB >= 2
    /* Point VTOR at the table as linked. It is where the core found it
     * already (mps2.ld: 0; AN505: 0x10000000) or an alias of it (AN547:
     * 0x00000000 is the ITCM, linked at its Secure alias 0x10000000). */
    SCB_VTOR = (uint32_t)(uintptr_t)mps2_vectors;
#endif

#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
    /* Stack limit: pushing below the stack's lower end is a UsageFault
     * (STKOF) instead of a silent write outside the stack. */
    __asm__ volatile("msr msplim, %0" ::"r"(__stack_bottom) : "memory");
#endif

    /* Copy initialised data from its load address in code memory. */
    {
        const uint32_t *src = __data_load;
        uint32_t *dst = __data_start;
        while (dst < __data_end) {
            *dst++ = *src++;
        }
    }
    /* Zero-initialise .bss. */
    {
        uint32_t *dst = __bss_start;
        while (dst < __bss_end) {
            *dst++ = 0;
        }
    }

    board_exit(main());
}

/* ---------------------------------------------------------------------
 * Faults
 * ------------------------------------------------------------------- */

/* Print "<label>0x<8 hex digits>". */
static void print_hex(const char *label, uint32_t value)
{
    static const char digits[] = "0123456789abcdef";
    char buf[11];
    int i;
    buf[0] = '0';
    buf[1] = 'x';
    for (i = 0; i < 8; ++i) {
        buf[2 + i] = digits[(value >> (28 - 4 * i)) & 0xFu];
    }
    buf[10] = '\0';
    board_print(label);
    board_print(buf);
}

static uint32_t read_ipsr(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    return ipsr;
}

/*
 * Called from HardFault_Handler with the stacked exception frame
 * (r0-r3, r12, lr, pc, xpsr) and the EXC_RETURN value. Runs on a fresh
 * stack, never returns.
 */
void mps2_fault_report(const uint32_t *frame, uint32_t exc_return)
{
    uintptr_t f = (uintptr_t)frame;
    board_print("tinycc: fault: exception ");
    print_hex("", read_ipsr() & 0x1FFu);
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
    /* CFSR.STKOF: the stack limit (MSPLIM) stopped an SP update. (If it was
     * the exception entry itself that overflowed, nothing was stacked and
     * the pc/lr below are stale.) */
    if ((*(volatile uint32_t *)0xE000ED28u & (1u << 20)) != 0u) {
        board_print(" (stack overflow: MSPLIM reached)");
    }
#endif
    /* Only trust the frame if it lies inside RAM (a stack overflow leaves
     * the stack pointer below RAM). */
    if (f >= (uintptr_t)__ram_start && f + 32u <= (uintptr_t)__ram_end && (f & 3u) == 0u) {
        print_hex(" pc=", frame[6]);
        print_hex(" lr=", frame[5]);
    } else {
        print_hex(" (stack pointer out of RAM) sp=", (uint32_t)f);
    }
    print_hex(" exc_return=", exc_return);
#if defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB >= 2
    /* Fault status registers exist on ARMv7-M / ARMv8-M Mainline only. */
    print_hex(" cfsr=", *(volatile uint32_t *)0xE000ED28u);
    print_hex(" hfsr=", *(volatile uint32_t *)0xE000ED2Cu);
    print_hex(" bfar=", *(volatile uint32_t *)0xE000ED38u);
#endif
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
    /* Secure fault status and address (TrustZone boards, Secure state). */
    print_hex(" sfsr=", *(volatile uint32_t *)0xE000EDE4u);
    print_hex(" sfar=", *(volatile uint32_t *)0xE000EDE8u);
#endif
    board_print("\n");
    board_exit(BOARD_EXIT_FAULT);
}

/*
 * Fault entry: pick the stack the frame was pushed to (EXC_RETURN bit 2:
 * 0 = MSP, 1 = PSP), switch to the private fault stack (the old one may be
 * the reason for the fault) and report. Written with
 * ARMv6-M instructions only so it also works for Cortex-M0 builds.
 */
__attribute__((naked)) void HardFault_Handler(void)
{
    __asm__ volatile(
        "movs r0, #4\n\t"
        "mov  r1, lr\n\t"
        "tst  r0, r1\n\t"
        "beq  1f\n\t"
        "mrs  r0, psp\n\t"
        "b    2f\n"
        "1:\n\t"
        "mrs  r0, msp\n"
        "2:\n\t"
        "ldr  r2, =mps2_fault_stack + 1024\n\t"
        "mov  sp, r2\n\t"
        "ldr  r2, =mps2_fault_report\n\t"
        "bx   r2\n\t"
        ".ltorg\n");
}

/* Any exception or interrupt that should never happen. */
void Default_Handler(void)
{
    board_print("tinycc: unexpected exception ");
    print_hex("", read_ipsr() & 0x1FFu);
    board_print("\n");
    board_exit(BOARD_EXIT_FAULT);
}
