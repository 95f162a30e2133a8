"""The bare-metal firmware example (samples/firmware) end to end.

``make -C samples/firmware run`` generates the model C with tinycc, builds the
firmware with arm-none-eabi-gcc and runs it in QEMU mps2-an386; the class it
prints must be the argmax of the TFLite Micro Python interpreter's output on
the same input (samples/kws_tiny_input.bin). ``make host`` builds the same
main.c for the host. Everything is built in a temporary BUILD folder, so the
repository is left clean.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinycc import toolchain

REPO = Path(__file__).resolve().parents[1]
FIRMWARE = REPO / "samples" / "firmware"
MODEL = REPO / "samples" / "kws_tiny_int8.tflite"
INPUT = REPO / "samples" / "kws_tiny_input.bin"

CLASS_RE = re.compile(r"^kws: class (\d+) score (-?\d+) ", re.MULTILINE)
INSTRUCTIONS_RE = re.compile(r"^kws: inference: (\d+) instructions", re.MULTILINE)
ARENA_RE = re.compile(r"^kws: arena: (\d+) B", re.MULTILINE)
MODEL_SIZE_RE = re.compile(r"^model: RAM (\d+) B .*flash (\d+) B", re.MULTILINE)


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} required in CI")
        pytest.skip(f"{', '.join(missing)} not installed")


def make(build: Path, *targets: str) -> str:
    """Run make in samples/firmware with BUILD=build; returns stdout+stderr."""
    cmd = ["make", "--no-print-directory", "-C", str(FIRMWARE), f"BUILD={build}",
           f"PYTHON={sys.executable}", *targets]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}"
    return proc.stdout


@pytest.fixture(scope="module")
def reference() -> tuple[int, int]:
    """(argmax, max score) of TFLite Micro's int8 output on kws_tiny_input.bin."""
    from tflite_micro import runtime
    interp = runtime.Interpreter.from_file(str(MODEL))
    details = interp.get_input_details(0)
    x = np.fromfile(INPUT, dtype=details["dtype"]).reshape(details["shape"])
    interp.set_input(x, 0)
    interp.invoke()
    y = np.array(interp.get_output(0)).reshape(-1)
    assert y.dtype == np.int8 and y.size == 12
    return int(y.argmax()), int(y.max())


def samples_status() -> list[str]:
    """git's view of samples/, ignored files included, less Python's bytecode caches (another test,
    possibly running at the same time in another worker, imports samples/make_samples.py)."""
    out = subprocess.run(["git", "status", "--porcelain", "--ignored", "samples"], cwd=REPO,
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "__pycache__" not in line]


def parse_class(log: str) -> tuple[int, int]:
    match = CLASS_RE.search(log)
    assert match, f"no 'kws: class N score S' line in:\n{log}"
    return int(match.group(1)), int(match.group(2))


def test_firmware_runs_in_qemu_and_matches_tflite_micro(tmp_path, reference):
    require("make", toolchain.ARM_CC, toolchain.ARM_SIZE, toolchain.QEMU_ARM)
    before = samples_status()
    log = make(tmp_path / "build", "run")

    assert parse_class(log) == reference, log
    instructions = INSTRUCTIONS_RE.search(log)
    assert instructions and int(instructions.group(1)) > 0, log
    arena = ARENA_RE.search(log)
    assert arena, log
    header = (tmp_path / "build" / "kws" / "kws.h").read_text()
    assert f"#define kws_ARENA_BYTES {arena.group(1)}\n" in header
    sizes = MODEL_SIZE_RE.search(log)
    assert sizes, log
    ram, flash = map(int, sizes.groups())
    assert ram >= int(arena.group(1)) and flash > 0

    # All artifacts went to the temporary BUILD folder.
    assert samples_status() == before


def test_firmware_host_build_matches_tflite_micro(tmp_path, reference):
    require("make", toolchain.HOST_CC)
    log = make(tmp_path / "build", "host")
    assert parse_class(log) == reference, log
    assert "instructions not measured (host build)" in log
