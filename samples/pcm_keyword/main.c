/*
 * main.c - raw 16-bit PCM in, class out: TFLite Micro's signal-library front end and a small
 * keyword classifier, both compiled by tinycc and linked into one bare-metal firmware.
 *
 * The model C comes from (see the Makefile)
 *     python3 -m tinycc build samples/pcm_keyword/front_end.tflite -o build/fe --name fe ...
 *     python3 -m tinycc build samples/pcm_keyword/keyword_int8.tflite -o build/kw --name kw ...
 * pcm_input_data.h (generated from pcm_input.bin) holds 3,360 samples of 16 kHz PCM.
 *
 * For each of the 10 frames (480 samples, 20 ms apart) the front end turns the frame into 40
 * int16 log filter-bank energies, written straight into the classifier's input; then the
 * classifier runs once. The program prints the features' sum, the four int8 scores, the class
 * (argmax, the first on ties), the instructions of each part (SysTick in QEMU) and the arenas.
 * The same file builds for QEMU mps2-an386 and for the host. Exit status: 0 ok, 1 an invoke
 * failed, 2 a size does not match.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "fe.h"
#include "kw.h"
#include "pcm_input_data.h" /* static const unsigned char pcm_input_data[] */

#define FRAMES 10
#define STRIDE_SAMPLES 320

/* Append text, or the decimal digits of value, to line at *pos (no printf: newlib-nano's
 * would need a heap). */
static void put_str(char *line, size_t *pos, const char *s)
{
    while (*s != '\0') {
        line[(*pos)++] = *s++;
    }
}

static void put_int(char *line, size_t *pos, long value)
{
    char digits[24];
    unsigned long u = value < 0 ? (unsigned long)(-(value + 1)) + 1u : (unsigned long)value;
    int n = 0;
    if (value < 0) {
        line[(*pos)++] = '-';
    }
    do {
        digits[n++] = (char)('0' + (int)(u % 10u));
        u /= 10u;
    } while (u != 0u);
    while (n > 0) {
        line[(*pos)++] = digits[--n];
    }
}

static void print_value(const char *label, long value, const char *suffix)
{
    char line[128];
    size_t pos = 0;
    put_str(line, &pos, label);
    put_int(line, &pos, value);
    put_str(line, &pos, suffix);
    line[pos++] = '\n';
    line[pos] = '\0';
    board_print(line);
}

int main(void)
{
    const size_t frame_bytes = fe_input_bytes(0), feature_bytes = fe_output_bytes(0);
    const int8_t *scores;
    uint8_t *features = (uint8_t *)kw_input(0);
    uint32_t fe_ticks = 0, kw_ticks, per_tick;
    long checksum = 0;
    char line[128];
    int f, i, best = 0;

    board_init();
    if (feature_bytes * FRAMES != kw_input_bytes(0) ||
        (FRAMES - 1) * STRIDE_SAMPLES * 2 + frame_bytes != sizeof pcm_input_data || kw_output_bytes(0) != 4) {
        board_print("pcm: error: the models' sizes do not match the input\n");
        return 2;
    }
    for (f = 0; f < FRAMES; ++f) {
        memcpy(fe_input(0), pcm_input_data + (size_t)f * STRIDE_SAMPLES * 2, frame_bytes);
        board_timer_start();
        if (fe_invoke() != 0) {
            board_print("pcm: error: fe_invoke() failed\n");
            return 1;
        }
        fe_ticks += board_timer_stop();
        memcpy(features + (size_t)f * feature_bytes, fe_output(0), feature_bytes);
    }
    for (i = 0; i < FRAMES * (int)(feature_bytes / 2); ++i) {
        int16_t v;
        memcpy(&v, features + 2 * i, 2);
        checksum += v;
    }
    board_timer_start();
    if (kw_invoke() != 0) {
        board_print("pcm: error: kw_invoke() failed\n");
        return 1;
    }
    kw_ticks = board_timer_stop();

    scores = (const int8_t *)kw_output(0);
    for (i = 1; i < 4; ++i) {
        if (scores[i] > scores[best]) {
            best = i;
        }
    }
    print_value("pcm: features sum ", checksum, "");
    {
        size_t pos = 0;
        put_str(line, &pos, "pcm: scores");
        for (i = 0; i < 4; ++i) {
            put_str(line, &pos, " ");
            put_int(line, &pos, scores[i]);
        }
        line[pos++] = '\n';
        line[pos] = '\0';
        board_print(line);
    }
    print_value("pcm: class ", best, "");
    per_tick = board_instructions_per_tick();
    if (per_tick != 0u) {
        print_value("pcm: front end: ", (long)(fe_ticks * per_tick / FRAMES), " instructions per frame");
        print_value("pcm: keyword model: ", (long)(kw_ticks * per_tick), " instructions");
    }
    print_value("pcm: arenas: front end ", (long)fe_ARENA_BYTES, " B");
    print_value("pcm: arenas: keyword model ", (long)kw_ARENA_BYTES, " B");
    return 0;
}
