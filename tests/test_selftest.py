"""tinycc build --selftest: NAME_selftest() returns 0 on the target (QEMU: M0, M4, M55) and on the host,
and non-zero once one weight byte of the generated C is changed."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from tinycc import toolchain

from .conftest import REPO, model_path, needs_qemu

QEMU_MAIN = """#include "board.h"
#include "net.h"
int main(void)
{
    int r;
    board_init();
    r = net_selftest();
    return r == 0 ? 0 : (r < 0 ? 99 : 10 + (r > 80 ? 80 : r));
}
"""


def build(*args):
    r = subprocess.run([sys.executable, "-m", "tinycc", "build", *map(str, args), "--no-stack"],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr


def corrupt_one_weight(c_file):
    """Flip bit 6 of the first byte of the first op's first constant array in NAME.c (its int8
    weights), or bit 30 of its first word when the array is int32 (a fast kernel's stream of
    packed int8 weights, pre-scaled biases and requantization words: a low bit of a pre-scaled
    bias can vanish in the rounding, bit 30 of any of them cannot)."""
    text = c_file.read_text()
    m = re.search(r"static const (int8_t|int32_t) op0_\w+\[\d+\][^=]*= \{\n    (-?\d+)", text)
    if m.group(1) == "int8_t":
        v = ((int(m.group(2)) ^ 0x40) + 128) % 256 - 128
    else:
        v = int(m.group(2)) ^ 0x40000000
    c_file.write_text(text[:m.start(2)] + str(v) + text[m.end(2):])


@pytest.mark.parametrize("target", ["cortex-m0", "cortex-m4", "cortex-m55"])
def test_selftest_passes_in_qemu_and_catches_a_corrupted_weight(target, tmp_path):
    needs_qemu()
    out = tmp_path / "net"
    build(model_path("ad01_int8"), "-o", out, "--name", "net", "--target", target, "--selftest")
    (tmp_path / "main.c").write_text(QEMU_MAIN)
    sources = [tmp_path / "main.c", *sorted(out.glob("*.c"))]
    elf = toolchain.build_arm(sources, [out], tmp_path / "ok.elf", target=target)
    rc, log = toolchain.run_qemu(elf, tmp_path, target, timeout=300)
    assert rc == 0, log
    corrupt_one_weight(out / "net.c")
    elf = toolchain.build_arm(sources, [out], tmp_path / "bad.elf", target=target)
    rc, log = toolchain.run_qemu(elf, tmp_path, target, timeout=300)
    assert 10 < rc <= 90, (rc, log)


HOST_MAIN = """#include <stdio.h>
#include "net.h"
static union { double align; unsigned char bytes[net_ARENA_BYTES]; } arena;
int main(void)
{
    printf("%d\\n", net_selftest(arena.bytes));
    printf("%d\\n", net_selftest(arena.bytes + 1));
    return 0;
}
"""


def test_selftest_float_model_app_arena_and_user_input(tmp_path):
    """A float32 model (tolerance), --app-arena (the self-test takes the arena; a misaligned one is -1),
    and --selftest-input: the embedded input is the user's file."""
    path = model_path("ad01_fp32")
    x = np.linspace(-3, 3, 640, dtype=np.float32).reshape(1, 640)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "net"
    build(path, "-o", out, "--name", "net", "--app-arena", "--selftest-input", tmp_path / "x.npy")
    text = (out / "net_selftest.c").read_text()
    assert "--selftest-input" in text and "-3e+00f" in text.split("net_selftest_input0")[1][:200]
    assert "int net_selftest(void *arena);" in (out / "net.h").read_text()
    (tmp_path / "main.c").write_text(HOST_MAIN)
    exe = toolchain.build_host([tmp_path / "main.c", *sorted(out.glob("*.c"))], [out], tmp_path / "main")
    printed = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    assert printed == ["0", "-1"]
