"""Tests for tinycc.toolchain and the runtime/board harness.

A tiny hand-written fake "model" (C implementing the generated-model API)
is built with the harness for the host and for QEMU, and its outputs and
timings are checked.
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
# mix-up of input or output order shows. On Arm, FAKE_LOOPS iterations of a
# 2-instruction loop give a known instruction count. Input 0 byte 0 selects
# failure modes: 0xEE -> invoke returns 7; 0xFA -> bad memory access (Arm).
FAKE_MODEL = """\
#include "model.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef FAKE_LOOPS
#define FAKE_LOOPS 0
#endif

static unsigned char in0[3], in1[5], out0[5], out1[3];
static volatile float sink = 0.5f;

int model_invoke(void)
{
    size_t i;
    uint32_t n = FAKE_LOOPS;
    if (in0[0] == 0xEE) {
        return 7;
    }
#if defined(__arm__)
    if (in0[0] == 0xFA) {
        return *(volatile int *)0x30000000u;
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
        out0[i] = (unsigned char)(in1[i] + 1u);
    }
    memcpy(out1, in0, sizeof out1);
    for (i = 0; i < sizeof out1; ++i) {
        out1[i] = (unsigned char)(out1[i] + 1u);
    }
    sink = expf(sink) * 0.25f; /* exercise libm */
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

def test_cpu_flags_and_boards():
    assert tc.cpu_flags("cortex-m4") == [
        "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
    assert "-mfpu=fpv5-d16" in tc.cpu_flags("cortex-m7")
    assert "-mfpu=fpv5-sp-d16" in tc.cpu_flags("m33")
    assert tc.cpu_flags("Cortex-M0")[0] == "-mcpu=cortex-m0"
    assert tc.QEMU_BOARDS["cortex-m4"] == "mps2-an386"
    assert tc.QEMU_BOARDS["cortex-m3"] == "mps2-an385"
    assert tc.QEMU_BOARDS["cortex-m55"] == "mps3-an547"
    with pytest.raises(tc.ToolchainError):
        tc.cpu_flags("cortex-a53")
    for target in ("cortex-m7", "cortex-m33", "cortex-m55"):
        with pytest.raises(tc.ToolchainError, match="not supported yet"):
            tc.qemu_machine(target)


@needs_arm
def test_unsupported_board_is_rejected(model_dir, build_dir):
    with pytest.raises(tc.ToolchainError, match="not supported yet"):
        tc.build_harness(model_dir, build_dir / "m7.elf", mode="qemu",
                         target="cortex-m7")


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
@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m3", "cortex-m0"])
def test_qemu_roundtrip(model_dir, build_dir, target):
    elf = tc.build_harness(model_dir, build_dir / f"{target}.elf", mode="qemu",
                           target=target)
    samples = make_samples(3, first=241)  # includes 0xFF -> 0x00
    outputs, ticks, instructions = tc.run_samples(elf, samples, 3, mode="qemu",
                                                  target=target)
    assert outputs == expected_outputs(samples)
    assert len(ticks) == 3
    assert instructions == [t * tc.QEMU_INSTRUCTIONS_PER_TICK for t in ticks]
    # An almost empty invoke (expf is soft-float on M0/M3): a few thousand
    # instructions at most.
    assert all(0 < t < 200 for t in ticks), ticks


@needs_qemu
def test_qemu_tick_calibration_and_scaling(model_dir, build_dir):
    """A loop of N 2-instruction iterations must measure 2N instructions."""
    loops = 200_000
    small = tc.build_harness(model_dir, build_dir / "loop1.elf", mode="qemu",
                             defines={"FAKE_LOOPS": loops})
    large = tc.build_harness(model_dir, build_dir / "loop10.elf", mode="qemu",
                             defines={"FAKE_LOOPS": 10 * loops})
    _, ticks1, instr1 = tc.run_samples(small, make_samples(2), 2, mode="qemu")
    _, ticks10, instr10 = tc.run_samples(large, make_samples(2), 2, mode="qemu")

    # Calibration: 40 instructions per tick, overhead (the rest of the fake
    # invoke and the timer itself) well under 1000 instructions.
    for measured in instr1:
        assert 0 <= measured - 2 * loops < 1000, measured
    for measured in instr10:
        assert 0 <= measured - 20 * loops < 1000, measured
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
    assert sizes["data"] == 4          # sink
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
