/*
 * board.h - the tiny I/O layer used by the tinycc verification harness.
 *
 * The harness (harness.c) is written only against the functions below so
 * the same file runs unchanged on a development host (host.c, plain stdio)
 * and on an emulated Cortex-M board (mps2/semihost.c, ARM semihosting, for
 * every QEMU MPS2/MPS3 board).
 *
 * Everything here is deliberately minimal: binary files on the host's file
 * system, a way to print a line, a way to exit with a status code and a
 * cycle-ish timer for measuring one inference.
 */
#ifndef TINYCC_BOARD_H
#define TINYCC_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BOARD_NORETURN __attribute__((noreturn))
#else
#define BOARD_NORETURN
#endif

/* Modes for board_open(). Files are always opened in binary mode. */
#define BOARD_OPEN_READ 0  /* existing file, read from the start        */
#define BOARD_OPEN_WRITE 1 /* create or truncate, then write sequentially */

/*
 * Exit status used by a board's fault handler (e.g. a Cortex-M HardFault).
 * The harness itself uses 0 (ok), 1 (invoke failed) and 2 (I/O error).
 */
#define BOARD_EXIT_FAULT 3

/* One-time initialisation (timer set-up etc.). Call before anything else. */
void board_init(void);

/*
 * Open a file on the host. Relative paths are relative to the current
 * directory of the host process (for QEMU: the directory QEMU runs in).
 * Returns a non-negative handle, or -1 on failure.
 */
int board_open(const char *path, int mode);

/*
 * Read up to `len` bytes. Returns the number of bytes read, which is less
 * than `len` only at end of file, or -1 on error.
 */
long board_read(int handle, void *buf, size_t len);

/* Write exactly `len` bytes. Returns 0 on success, -1 on error. */
int board_write(int handle, const void *buf, size_t len);

/* Close a handle. Returns 0 on success, -1 on error. */
int board_close(int handle);

/* Print a NUL-terminated string on the console (no newline is added). */
void board_print(const char *s);

/* Terminate the program; `status` becomes the process exit code. */
void board_exit(int status) BOARD_NORETURN;

/*
 * Timer for one measurement: board_timer_start() marks the beginning,
 * board_timer_stop() returns the ticks elapsed since the matching start
 * (saturating at 0xFFFFFFFF). The host implementation always returns 0.
 */
void board_timer_start(void);
uint32_t board_timer_stop(void);

/*
 * How many executed instructions one timer tick represents, or 0 if the
 * timer is not instruction-calibrated (host). On the QEMU boards run with
 * `-icount shift=0` it is 40 (mps2-an385/an386/an500), 50 (mps2-an505) or
 * 125 (mps3-an547); see mps2/semihost.c.
 */
uint32_t board_instructions_per_tick(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYCC_BOARD_H */
