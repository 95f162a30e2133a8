/*
 * host.c - board.h implemented with standard C stdio, for running the
 * verification harness natively on the development machine.
 *
 * The timer is not meaningful on the host: board_timer_stop() returns 0 and
 * board_instructions_per_tick() returns 0 ("not calibrated").
 */
#include "board.h"

#include <stdio.h>
#include <stdlib.h>

/* Handles are indexes into this small table of open streams. */
#define HOST_MAX_FILES 8
static FILE *host_files[HOST_MAX_FILES];

void board_init(void)
{
}

int board_open(const char *path, int mode)
{
    int h;
    for (h = 0; h < HOST_MAX_FILES; ++h) {
        if (host_files[h] == NULL) {
            FILE *f = fopen(path, mode == BOARD_OPEN_WRITE ? "wb" : "rb");
            if (f == NULL) {
                return -1;
            }
            host_files[h] = f;
            return h;
        }
    }
    return -1; /* table full */
}

/* Map a handle to its stream, or NULL if the handle is not open. */
static FILE *host_file(int handle)
{
    if (handle < 0 || handle >= HOST_MAX_FILES) {
        return NULL;
    }
    return host_files[handle];
}

long board_read(int handle, void *buf, size_t len)
{
    FILE *f = host_file(handle);
    size_t got;
    if (f == NULL) {
        return -1;
    }
    got = fread(buf, 1, len, f);
    if (got < len && ferror(f)) {
        return -1;
    }
    return (long)got;
}

int board_write(int handle, const void *buf, size_t len)
{
    FILE *f = host_file(handle);
    if (f == NULL) {
        return -1;
    }
    return fwrite(buf, 1, len, f) == len ? 0 : -1;
}

int board_close(int handle)
{
    FILE *f = host_file(handle);
    if (f == NULL) {
        return -1;
    }
    host_files[handle] = NULL;
    return fclose(f) == 0 ? 0 : -1;
}

void board_print(const char *s)
{
    fputs(s, stdout);
    fflush(stdout);
}

void board_exit(int status)
{
    fflush(stdout);
    exit(status);
}

void board_timer_start(void)
{
}

uint32_t board_timer_stop(void)
{
    return 0;
}

uint32_t board_instructions_per_tick(void)
{
    return 0;
}
