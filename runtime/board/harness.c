/*
 * harness.c - generic verification harness for a tinycc-generated model.
 *
 * Build with
 *     -DTCC_MODEL_HEADER='"model.h"' -DTCC_NAME=model
 * together with the model's .c files and one board layer (host.c, or
 * mps2/semihost.c + mps2/startup.c).
 *
 * Protocol (all files in the current directory of the host process):
 *   inputs.bin   read:   a stream of samples; one sample is the bytes of
 *                        input 0, input 1, ... concatenated in input order.
 *   outputs.bin  written: for every sample, the bytes of output 0,
 *                        output 1, ... concatenated in output order.
 *   ticks.bin    written: for every sample, the timer ticks spent in
 *                        NAME_invoke() as a little-endian uint32.
 * The harness stops at the end of inputs.bin, prints
 *     "tinycc-harness: N samples"
 * followed, on a board whose timer is instruction-calibrated, by
 *     ", K instructions per tick"
 * (board_instructions_per_tick()), and exits with status 0.
 *
 * Exit status:
 *   0  success
 *   1  NAME_invoke() returned a negative status (a positive one, NAME_NOT_READY, is not an
 *      error: the outputs are written as they are, as TFLite Micro's after kTfLiteAbort)
 *   2  I/O error, or inputs.bin ends in the middle of a sample
 */
#include "board.h"

#ifndef TCC_MODEL_HEADER
#error "define TCC_MODEL_HEADER, e.g. -DTCC_MODEL_HEADER='\"model.h\"'"
#endif
#ifndef TCC_NAME
#error "define TCC_NAME, e.g. -DTCC_NAME=model"
#endif

#include TCC_MODEL_HEADER

/* Token pasting helpers: TCC_FN(_invoke) expands to model_invoke etc. The
 * extra level of indirection makes TCC_NAME expand before pasting. */
#define TCC_CAT_(a, b) a##b
#define TCC_CAT(a, b) TCC_CAT_(a, b)
#define TCC_FN(suffix) TCC_CAT(TCC_NAME, suffix)

/* The input/output counts default to NAME_INPUT_COUNT / NAME_OUTPUT_COUNT;
 * a build may override them (e.g. if the header spells them differently). */
#ifndef TCC_INPUT_COUNT
#define TCC_INPUT_COUNT TCC_FN(_INPUT_COUNT)
#endif
#ifndef TCC_OUTPUT_COUNT
#define TCC_OUTPUT_COUNT TCC_FN(_OUTPUT_COUNT)
#endif

#define EXIT_INVOKE_FAILED 1
#define EXIT_IO_ERROR 2

/* Format an unsigned value in decimal into buf (at least 11 chars). */
static char *format_uint(char *buf, unsigned long value)
{
    char tmp[24];
    int n = 0;
    int i = 0;
    do {
        tmp[n++] = (char)('0' + (int)(value % 10u));
        value /= 10u;
    } while (value != 0u);
    while (n > 0) {
        buf[i++] = tmp[--n];
    }
    buf[i] = '\0';
    return buf;
}

/* Print "tinycc-harness: <msg><number><tail>". */
static void report(const char *msg, unsigned long number, const char *tail)
{
    char num[24];
    board_print("tinycc-harness: ");
    board_print(msg);
    board_print(format_uint(num, number));
    board_print(tail);
}

/*
 * Fill one input buffer from the input file. Returns the number of bytes
 * read (== len unless the file ended), or -1 on a read error.
 */
static long read_fully(int handle, void *buf, size_t len)
{
    unsigned char *p = (unsigned char *)buf;
    size_t done = 0;
    while (done < len) {
        long got = board_read(handle, p + done, len - done);
        if (got < 0) {
            return -1;
        }
        if (got == 0) {
            break; /* end of file */
        }
        done += (size_t)got;
    }
    return (long)done;
}

/* Close whichever of the three files are open; -1 if any close failed. */
static int close_all(int in_fd, int out_fd, int ticks_fd)
{
    int rc = 0;
    if (in_fd >= 0 && board_close(in_fd) != 0) {
        rc = -1;
    }
    if (out_fd >= 0 && board_close(out_fd) != 0) {
        rc = -1;
    }
    if (ticks_fd >= 0 && board_close(ticks_fd) != 0) {
        rc = -1;
    }
    return rc;
}

int main(void)
{
    int in_fd;
    int out_fd;
    int ticks_fd;
    unsigned long samples = 0;
    size_t sample_bytes = 0;
    int i;

    board_init();

    for (i = 0; i < (int)TCC_INPUT_COUNT; ++i) {
        sample_bytes += TCC_FN(_input_bytes)(i);
    }

    in_fd = board_open("inputs.bin", BOARD_OPEN_READ);
    out_fd = board_open("outputs.bin", BOARD_OPEN_WRITE);
    ticks_fd = board_open("ticks.bin", BOARD_OPEN_WRITE);
    if (in_fd < 0 || out_fd < 0 || ticks_fd < 0) {
        board_print("tinycc-harness: cannot open inputs.bin/outputs.bin/ticks.bin\n");
        (void)close_all(in_fd, out_fd, ticks_fd);
        return EXIT_IO_ERROR;
    }

    for (;;) {
        size_t consumed = 0; /* bytes of the current sample read so far */
        int status;
        uint32_t ticks;
        unsigned char tick_le[4];

        /* 1. Load one sample into the model's input buffers. */
        for (i = 0; i < (int)TCC_INPUT_COUNT; ++i) {
            size_t len = TCC_FN(_input_bytes)(i);
            long got = read_fully(in_fd, TCC_FN(_input)(i), len);
            if (got < 0) {
                board_print("tinycc-harness: read error on inputs.bin\n");
                (void)close_all(in_fd, out_fd, ticks_fd);
                return EXIT_IO_ERROR;
            }
            consumed += (size_t)got;
            if ((size_t)got < len) {
                break;
            }
        }
        if (consumed == 0 && sample_bytes != 0) {
            break; /* clean end of input */
        }
        if (consumed < sample_bytes) {
            report("inputs.bin ends inside sample ", samples, "\n");
            (void)close_all(in_fd, out_fd, ticks_fd);
            return EXIT_IO_ERROR;
        }

        /* 2. Run and time one inference. */
        board_timer_start();
        status = TCC_FN(_invoke)();
        ticks = board_timer_stop();
        if (status < 0) {
            report("invoke failed on sample ", samples, "\n");
            (void)close_all(in_fd, out_fd, ticks_fd);
            return EXIT_INVOKE_FAILED;
        }

        /* 3. Append the outputs and the tick count. */
        for (i = 0; i < (int)TCC_OUTPUT_COUNT; ++i) {
            if (board_write(out_fd, TCC_FN(_output)(i), TCC_FN(_output_bytes)(i)) != 0) {
                board_print("tinycc-harness: write error on outputs.bin\n");
                (void)close_all(in_fd, out_fd, ticks_fd);
                return EXIT_IO_ERROR;
            }
        }
        tick_le[0] = (unsigned char)(ticks & 0xFFu);
        tick_le[1] = (unsigned char)((ticks >> 8) & 0xFFu);
        tick_le[2] = (unsigned char)((ticks >> 16) & 0xFFu);
        tick_le[3] = (unsigned char)((ticks >> 24) & 0xFFu);
        if (board_write(ticks_fd, tick_le, sizeof tick_le) != 0) {
            board_print("tinycc-harness: write error on ticks.bin\n");
            (void)close_all(in_fd, out_fd, ticks_fd);
            return EXIT_IO_ERROR;
        }
        ++samples;

        /* A model without input bytes is run exactly once. */
        if (sample_bytes == 0) {
            break;
        }
    }

    if (close_all(in_fd, out_fd, ticks_fd) != 0) {
        board_print("tinycc-harness: error closing files\n");
        return EXIT_IO_ERROR;
    }
    report("", samples, " samples");
    if (board_instructions_per_tick() != 0u) {
        char num[24];
        board_print(", ");
        board_print(format_uint(num, (unsigned long)board_instructions_per_tick()));
        board_print(" instructions per tick");
    }
    board_print("\n");
    return 0;
}
