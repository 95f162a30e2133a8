"""Tests for tinycc.toolchain and the runtime/board harness.

A tiny hand-written fake "model" (C implementing the generated-model API)
is built with the harness for the host and for QEMU (every target on its
board), and its outputs, timings and fault reports are checked.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tinycc import toolchain as tc

needs_host_cc = pytest.mark.skipif(not tc.have_tools(tc.HOST_CC),
                                   reason="host C compiler not installed")
needs_arm = pytest.mark.skipif(not tc.have_arm_toolchain(),
                               reason="arm-none-eabi toolchain not installed")
needs_qemu = pytest.mark.skipif(not tc.have_qemu(),
                                reason="arm-none-eabi-gcc / qemu-system-arm not installed")

IN_SIZES = (3, 5)

FAKE_HEADER = """\
#ifndef MODEL_H
#define MODEL_H
#include <stddef.h>
#define model_ARENA_BYTES 16
#define model_INPUT_COUNT 2
#define model_OUTPUT_COUNT 2
int model_invoke(void);
void *model_input(int i);
void *model_output(int i);
size_t model_input_bytes(int i);
size_t model_output_bytes(int i);
#endif
"""

# output 0 = input 1 + 1 (5 bytes), output 1 = input 0 + 1 (3 bytes), so a
# mix-up of input or output order shows; the 1 added to output 0 comes from
# .data, so the startup's .data copy is checked too. On Arm, FAKE_LOOPS
# iterations of a 2-instruction loop give a known instruction count. Input 0
# byte 0 selects failure modes: 0xEE -> invoke returns -7 (an error: negative); 0xFA -> bad memory
# access at FAKE_BAD_ADDRESS (Arm); 0xFC -> unbounded recursion (Arm).
FAKE_MODEL = """\
#include "model.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef FAKE_LOOPS
#define FAKE_LOOPS 0
#endif
#ifndef FAKE_BAD_ADDRESS
#define FAKE_BAD_ADDRESS 0x30000000u
#endif

static unsigned char in0[3], in1[5], out0[5], out1[3];
static volatile float sink = 0.5f;
static volatile double sink_double = 0.25;
static volatile unsigned char data_one = 1; /* in .data */

#if defined(__arm__)
/* Recursion the compiler cannot turn into a loop: 256 bytes per level. */
static int recurse(volatile unsigned char *prev, unsigned n)
{
    volatile unsigned char frame[256];
    frame[n & 255u] = (unsigned char)(prev[0] + 1u);
    return n == 0u ? frame[0] : recurse(frame, n - 1u) + frame[n & 255u];
}
#endif

int model_invoke(void)
{
    size_t i;
    uint32_t n = FAKE_LOOPS;
    if (in0[0] == 0xEE) {
        return -7;
    }
#if defined(__arm__)
    if (in0[0] == 0xFA) {
        return *(volatile int *)FAKE_BAD_ADDRESS;
    }
    if (in0[0] == 0xFC) {
        return recurse(in0, 0xFFFFFFFFu);
    }
    if (n != 0u) {
#if __ARM_ARCH_ISA_THUMB == 1
        __asm__ volatile("1: sub %0, #1\\n\\tbne 1b" : "+l"(n) : : "cc");
#else
        __asm__ volatile("1: subs %0, %0, #1\\n\\tbne 1b" : "+r"(n) : : "cc");
#endif
    }
#endif
    (void)n;
    for (i = 0; i < sizeof in1; ++i) {
        out0[i] = (unsigned char)(in1[i] + data_one);
    }
    memcpy(out1, in0, sizeof out1);
    for (i = 0; i < sizeof out1; ++i) {
        out1[i] = (unsigned char)(out1[i] + 1u);
    }
    sink = expf(sink) * 0.25f; /* exercise libm and the FPU */
    sink_double = sink_double * 1.5 + 0.125;
    return 0;
}

void *model_input(int i) { return i == 0 ? (void *)in0 : (void *)in1; }
void *model_output(int i) { return i == 0 ? (void *)out0 : (void *)out1; }
size_t model_input_bytes(int i) { return i == 0 ? sizeof in0 : sizeof in1; }
size_t model_output_bytes(int i) { return i == 0 ? sizeof out0 : sizeof out1; }
"""


def make_samples(count: int, first: int = 0) -> bytes:
    """``count`` samples of 3 + 5 bytes with distinct contents."""
    data = bytearray()
    for s in range(count):
        data += bytes((first + 10 * s + k) & 0xFF for k in range(sum(IN_SIZES)))
    return bytes(data)


def expected_outputs(samples: bytes) -> bytes:
    """What the fake model must produce for packed ``samples``."""
    n = sum(IN_SIZES)
    out = bytearray()
    for off in range(0, len(samples), n):
        in0 = samples[off:off + IN_SIZES[0]]
        in1 = samples[off + IN_SIZES[0]:off + n]
        out += bytes((b + 1) & 0xFF for b in in1)
        out += bytes((b + 1) & 0xFF for b in in0)
    return bytes(out)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fake_model")
    (d / "model.h").write_text(FAKE_HEADER)
    (d / "model.c").write_text(FAKE_MODEL)
    return d


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("build")


# ---------------------------------------------------------------------------
# Target tables
# ---------------------------------------------------------------------------

ALL_TARGETS = ["cortex-m0", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"]
# One target per QEMU board.
BOARD_TARGETS = ["cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"]
# Instructions per timer tick under -icount shift=0: 1e9 / f_cpu per SysTick
# period (25 MHz MPS2 boards, 20 MHz AN505, 32 MHz AN547 with 4 periods/tick).
PER_TICK = {"cortex-m0": 40, "cortex-m3": 40, "cortex-m4": 40, "cortex-m7": 40,
            "cortex-m33": 50, "cortex-m55": 125}


def test_cpu_flags_and_boards():
    assert tc.cpu_flags("cortex-m4") == [
        "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
    assert "-mfpu=fpv5-d16" in tc.cpu_flags("cortex-m7")
    assert "-mfpu=fpv5-sp-d16" in tc.cpu_flags("m33")
    assert tc.cpu_flags("cortex-m55") == ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"]
    assert tc.cpu_flags("Cortex-M0")[0] == "-mcpu=cortex-m0"
    assert tc.QEMU_BOARDS == {
        "cortex-m0": "mps2-an385", "cortex-m3": "mps2-an385", "cortex-m4": "mps2-an386",
        "cortex-m7": "mps2-an500", "cortex-m33": "mps2-an505", "cortex-m55": "mps3-an547"}
    assert sorted(tc.TARGETS) == sorted(ALL_TARGETS)
    with pytest.raises(tc.ToolchainError):
        tc.cpu_flags("cortex-a53")
    for target in ALL_TARGETS:
        assert tc.qemu_machine(target) == tc.QEMU_BOARDS[target]
        assert tc.instructions_per_tick(target) == PER_TICK[target]
        assert tc.board(target).linker_script.is_file()
    assert tc.instructions_per_tick("m4") == tc.QEMU_INSTRUCTIONS_PER_TICK


def test_board_calibration_is_consistent():
    """Board table = linker-script symbols = 1e9 / f_cpu * SysTick periods per tick."""
    for board in tc.BOARDS.values():
        assert board.instructions_per_tick * board.cpu_hz == board.systick_per_tick * 10**9, board
        text = board.linker_script.read_text()
        assert f"__board_instructions_per_tick = {board.instructions_per_tick};" in text
        assert f"__board_systick_per_tick = {board.systick_per_tick};" in text


@needs_arm
def test_unknown_target_is_rejected(model_dir, build_dir):
    with pytest.raises(tc.ToolchainError, match="unknown target"):
        tc.build_harness(model_dir, build_dir / "a53.elf", mode="qemu",
                         target="cortex-a53")


@needs_arm
def test_compile_error_includes_stderr(tmp_path):
    bad = tmp_path / "bad.c"
    bad.write_text("int f(void) { return undeclared_thing; }\n")
    with pytest.raises(tc.ToolchainError, match="undeclared_thing"):
        tc.object_sizes([bad], "cortex-m4")


# ---------------------------------------------------------------------------
# Host
# ---------------------------------------------------------------------------

@needs_host_cc
def test_host_roundtrip(model_dir, build_dir):
    exe = tc.build_harness(model_dir, build_dir / "host_harness", mode="host")
    samples = make_samples(3)
    outputs, ticks, instructions = tc.run_samples(exe, samples, 3, mode="host")
    assert outputs == expected_outputs(samples)
    assert ticks == [0, 0, 0]
    assert instructions is None


@needs_host_cc
def test_host_invoke_failure_and_truncated_input(model_dir, build_dir, tmp_path):
    exe = tc.build_harness(model_dir, build_dir / "host_harness2", mode="host")
    bad = make_samples(1) + bytes([0xEE]) + bytes(7)
    (tmp_path / "inputs.bin").write_bytes(bad)
    rc, log = tc.run_host(exe, tmp_path)
    assert rc == tc.EXIT_INVOKE_FAILED, log
    assert "invoke failed on sample 1" in log

    (tmp_path / "inputs.bin").write_bytes(make_samples(2)[:-1])
    rc, log = tc.run_host(exe, tmp_path)
    assert rc == tc.EXIT_IO_ERROR, log


# ---------------------------------------------------------------------------
# QEMU
# ---------------------------------------------------------------------------

@needs_qemu
@pytest.mark.parametrize("target", ALL_TARGETS)
def test_qemu_roundtrip(model_dir, build_dir, target, tmp_path):
    elf = tc.build_harness(model_dir, build_dir / f"{target}.elf", mode="qemu",
                           target=target)
    samples = make_samples(3, first=241)  # includes 0xFF -> 0x00
    outputs, ticks, instructions = tc.run_samples(elf, samples, 3, mode="qemu",
                                                  target=target)
    assert outputs == expected_outputs(samples)
    assert len(ticks) == 3
    assert instructions == [t * PER_TICK[target] for t in ticks]
    # An almost empty invoke (expf and doubles are soft-float on M0/M3):
    # a few thousand instructions at most.
    assert all(0 <= t * PER_TICK[target] < 8000 for t in ticks), ticks

    # The harness reports its board's calibration.
    (tmp_path / "inputs.bin").write_bytes(samples)
    rc, log = tc.run_qemu(elf, tmp_path, target=target)
    assert rc == 0, log
    assert f"tinycc-harness: 3 samples, {PER_TICK[target]} instructions per tick" in log


@needs_qemu
@pytest.mark.parametrize("target", BOARD_TARGETS)
def test_qemu_tick_calibration_and_scaling(model_dir, build_dir, target):
    """On every board, a loop of N 2-instruction iterations measures 2N instructions."""
    loops = 200_000
    small = tc.build_harness(model_dir, build_dir / f"loop1_{target}.elf", mode="qemu",
                             target=target, defines={"FAKE_LOOPS": loops})
    large = tc.build_harness(model_dir, build_dir / f"loop10_{target}.elf", mode="qemu",
                             target=target, defines={"FAKE_LOOPS": 10 * loops})
    _, ticks1, instr1 = tc.run_samples(small, make_samples(2), 2, mode="qemu", target=target)
    _, ticks10, instr10 = tc.run_samples(large, make_samples(2), 2, mode="qemu", target=target)

    # Calibration: PER_TICK instructions per tick. The overhead (the rest of
    # the fake invoke, soft-float expf and doubles on the M3, and the timer
    # itself) is small and the same in both builds, so the difference is
    # exactly the 18N extra loop instructions, to within the tick resolution.
    for measured in instr1:
        assert 0 <= measured - 2 * loops < 2000, measured
    for measured in instr10:
        assert 0 <= measured - 20 * loops < 2000, measured
    for a, b in zip(instr1, instr10):
        assert abs((b - a) - 18 * loops) <= 2 * PER_TICK[target], (instr1, instr10)
    # Scaling: 10x the work gives 10x the ticks (within 0.5 %).
    ratio = ticks10[1] / ticks1[1]
    assert 9.95 < ratio < 10.05, (ticks1, ticks10)


@needs_qemu
def test_qemu_failing_invoke_exit_code(model_dir, build_dir, tmp_path):
    elf = tc.build_harness(model_dir, build_dir / "fail.elf", mode="qemu")
    bad = make_samples(1) + bytes([0xEE]) + bytes(7)
    (tmp_path / "inputs.bin").write_bytes(bad)
    rc, log = tc.run_qemu(elf, tmp_path)
    assert rc == tc.EXIT_INVOKE_FAILED, log
    assert "invoke failed on sample 1" in log
    with pytest.raises(tc.ToolchainError) as info:
        tc.run_samples(elf, bad, 2, mode="qemu")
    assert info.value.returncode == tc.EXIT_INVOKE_FAILED

    # A bad memory access ends in the HardFault handler with status 3.
    (tmp_path / "inputs.bin").write_bytes(bytes([0xFA]) + bytes(7))
    rc, log = tc.run_qemu(elf, tmp_path)
    assert rc == tc.EXIT_FAULT, log
    assert "tinycc: fault" in log and "bfar=0x30000000" in log


@needs_qemu
@pytest.mark.parametrize("target", ["cortex-m0", *BOARD_TARGETS])
def test_qemu_fault_report_on_every_board(model_dir, build_dir, tmp_path, target):
    # 0xF0000000 is unmapped on every board (on the AN505/AN547 0x30000000 is RAM).
    elf = tc.build_harness(model_dir, build_dir / f"fault_{target}.elf", mode="qemu",
                           target=target, defines={"FAKE_BAD_ADDRESS": "0xF0000000u"})
    (tmp_path / "inputs.bin").write_bytes(bytes([0xFA]) + bytes(7))
    rc, log = tc.run_qemu(elf, tmp_path, target=target)
    assert rc == tc.EXIT_FAULT, log
    assert "tinycc: fault: exception 0x00000003 pc=" in log
    if target != "cortex-m0":  # ARMv6-M has no fault status registers
        assert "bfar=0xf0000000" in log


@needs_qemu
@pytest.mark.parametrize("target", ["cortex-m33", "cortex-m55"])
def test_qemu_stack_overflow_hits_msplim(model_dir, build_dir, tmp_path, target):
    """ARMv8-M Mainline: MSPLIM stops the stack at its lower end (CFSR.STKOF)."""
    elf = tc.build_harness(model_dir, build_dir / f"overflow_{target}.elf", mode="qemu",
                           target=target)
    (tmp_path / "inputs.bin").write_bytes(bytes([0xFC]) + bytes(7))
    rc, log = tc.run_qemu(elf, tmp_path, target=target, timeout=30)
    assert rc == tc.EXIT_FAULT, log
    assert "stack overflow: MSPLIM reached" in log and "cfsr=0x00100000" in log


@needs_qemu
def test_qemu_timeout_kills(model_dir, build_dir, tmp_path):
    elf = tc.build_harness(model_dir, build_dir / "forever.elf", mode="qemu",
                           defines={"FAKE_LOOPS": 4_000_000_000})
    (tmp_path / "inputs.bin").write_bytes(make_samples(1))
    with pytest.raises(tc.ToolchainTimeout):
        tc.run_qemu(elf, tmp_path, timeout=0.5)


# ---------------------------------------------------------------------------
# Footprint
# ---------------------------------------------------------------------------

@needs_arm
def test_object_sizes(model_dir, tmp_path):
    sizes = tc.object_sizes([model_dir / "model.c"], "cortex-m4")
    assert set(sizes) == {"text", "rodata", "data", "bss", "flash", "ram"}
    assert 50 < sizes["text"] < 2000
    assert sizes["bss"] == 16          # in0, in1, out0, out1
    assert sizes["data"] == 13         # sink, sink_double, data_one
    assert sizes["ram"] == sizes["data"] + sizes["bss"]
    assert sizes["flash"] == sizes["text"] + sizes["rodata"] + sizes["data"]

    table = tmp_path / "table.c"
    table.write_text(textwrap.dedent("""\
        #include <stdint.h>
        const int8_t weights[1000] = {1, 2, 3};
        int32_t scratch[64];
        int32_t sum(void) { int32_t s = 0; int i;
            for (i = 0; i < 1000; ++i) s += weights[i] + scratch[i & 63];
            return s; }
        """))
    both = tc.object_sizes([model_dir / "model.c", table], "cortex-m4")
    assert both["rodata"] >= sizes["rodata"] + 1000
    assert both["bss"] == sizes["bss"] + 256

    # Objects are measured as given; M0 code is plausible too.
    obj = tmp_path / "table.o"
    tc._run_tool([tc.ARM_CC, *tc.cpu_flags("cortex-m0"), "-O2", "-c", str(table),
                  "-o", str(obj)], "compile")
    m0 = tc.object_sizes([obj], "cortex-m0")
    assert m0["rodata"] == 1000 and m0["bss"] == 256 and m0["text"] > 0
