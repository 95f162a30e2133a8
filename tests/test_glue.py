"""Drop-in for firmware: two models in one image, CMake and Makefile glue with both compilers,
an arena owned by the application, linker sections, Zephyr and Arduino layouts."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, ir, toolchain

from .conftest import REPO, needs_qemu, reference_outputs

SAMPLE = REPO / "samples" / "kws_tiny_int8.tflite"


def _inputs(model: Path, seed: int) -> list[np.ndarray]:
    g = driver.compile_graph(str(model))
    from tinycc.verify import random_inputs
    return random_inputs(g, np.random.default_rng(seed))


def _c_array(name: str, data: bytes) -> str:
    return f"static const unsigned char {name}[{len(data)}] = {{{', '.join(map(str, data))}}};\n"


TWO_MODEL_MAIN = """
#include <string.h>
#include "board.h"
#include "kws.h"
#include "ad.h"
%(arrays)s
static void hex(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char line[2];
    for (size_t i = 0; i < n; ++i) {
        line[0] = digits[p[i] >> 4]; line[1] = 0; board_print(line);
        line[0] = digits[p[i] & 15]; board_print(line);
    }
    board_print("\\n");
}

int main(void)
{
    board_init();
    memcpy(kws_input(0), kws_in, sizeof kws_in);
    memcpy(ad_input(0), ad_in, sizeof ad_in);
    if (kws_invoke() != 0 || ad_invoke() != 0) return 1;
    board_print("kws "); hex((const unsigned char *)kws_output(0), kws_output_bytes(0));
    board_print("ad "); hex((const unsigned char *)ad_output(0), ad_output_bytes(0));
    return 0;
}
"""


def _two_models(tmp_path, target):
    from .conftest import model_path
    ad = model_path("ad01_int8")
    driver.build(str(SAMPLE), str(tmp_path / "kws"), "kws", target)
    driver.build(str(ad), str(tmp_path / "ad"), "ad", target)
    xk, xa = _inputs(SAMPLE, 1)[0], _inputs(ad, 2)[0]
    (tmp_path / "main.c").write_text(TWO_MODEL_MAIN % {
        "arrays": _c_array("kws_in", xk.tobytes()) + _c_array("ad_in", xa.tobytes())})
    sources = [tmp_path / "main.c", *sorted((tmp_path / "kws").glob("*.c")), *sorted((tmp_path / "ad").glob("*.c"))]
    ref = {"kws": reference_outputs(SAMPLE, [[xk]])[0][0], "ad": reference_outputs(ad, [[xa]])[0][0]}
    return sources, [tmp_path / "kws", tmp_path / "ad", toolchain.BOARD_DIR], ref


def _check_printed(text: str, ref):
    for key in ("kws", "ad"):
        m = re.search(rf"^{key} ([0-9a-f]+)$", text, re.M)
        assert m, text
        assert bytes.fromhex(m.group(1)) == np.asarray(ref[key]).astype(np.int8).tobytes(), key


def test_two_models_in_one_host_program(tmp_path):
    sources, incs, ref = _two_models(tmp_path, "generic")
    exe = toolchain.build_host([*sources, toolchain.HOST_BOARD_SOURCE], incs, tmp_path / "app")
    rc, out = toolchain.run_host(exe, tmp_path)
    assert rc == 0, out
    _check_printed(out, ref)


def test_two_models_in_one_qemu_image(tmp_path):
    needs_qemu()
    sources, incs, ref = _two_models(tmp_path, "cortex-m4")
    elf = toolchain.build_arm(sources, incs, tmp_path / "app.elf", target="cortex-m4")
    rc, out = toolchain.run_qemu(elf, tmp_path, "cortex-m4")
    assert rc == 0, out
    _check_printed(out, ref)
    # every public symbol carries its model's prefix; nothing else is global
    nm = subprocess.run(["arm-none-eabi-nm", "-g", "--defined-only", str(elf)], capture_output=True, text=True)
    model_syms = [line.split()[-1] for line in nm.stdout.splitlines()
                  if re.search(r"\b(kws|ad)_", line.split()[-1]) or "tcc" in line.split()[-1]]
    assert model_syms and all(s.startswith(("kws_", "ad_")) for s in model_syms)


APP_CMAKE = """
cmake_minimum_required(VERSION 3.13)
project(app C)
add_subdirectory(model)
add_executable(app app.c)
target_link_libraries(app PRIVATE model)
"""

APP_C = """
#include <stdio.h>
#include <string.h>
#include "model.h"
int main(void)
{
    unsigned char in[4096];
    size_t n = fread(in, 1, sizeof in, stdin);
    if (n != model_input_bytes(0)) return 2;
    memcpy(model_input(0), in, n);
    if (model_invoke() != 0) return 1;
    fwrite(model_output(0), 1, model_output_bytes(0), stdout);
    return 0;
}
"""


def _run_app(exe, x):
    r = subprocess.run([str(exe)], input=x.tobytes(), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return np.frombuffer(r.stdout, dtype=np.int8)


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_cmake_glue_host_and_arm(tmp_path):
    driver.build(str(SAMPLE), str(tmp_path / "model"), "model")
    (tmp_path / "CMakeLists.txt").write_text(APP_CMAKE)
    (tmp_path / "app.c").write_text(APP_C)
    b = tmp_path / "build"
    for cmd in (["cmake", "-S", str(tmp_path), "-B", str(b), "-DCMAKE_C_FLAGS=-Wall -Wextra -Werror"],
                ["cmake", "--build", str(b)]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
    x = _inputs(SAMPLE, 3)[0]
    ref = reference_outputs(SAMPLE, [[x]])[0][0]
    assert (_run_app(b / "app", x) == np.asarray(ref).reshape(-1)).all()
    if not toolchain.have_arm_toolchain():
        return
    # cross: the library target alone, with arm-none-eabi-gcc
    tc = tmp_path / "arm.cmake"
    tc.write_text("set(CMAKE_SYSTEM_NAME Generic)\nset(CMAKE_SYSTEM_PROCESSOR arm)\n"
                  "set(CMAKE_C_COMPILER arm-none-eabi-gcc)\nset(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)\n"
                  "set(CMAKE_C_FLAGS_INIT \"-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard\")\n")
    ab = tmp_path / "build-arm"
    for cmd in (["cmake", "-S", str(tmp_path / "model"), "-B", str(ab), f"-DCMAKE_TOOLCHAIN_FILE={tc}",
                 "-DCMAKE_C_FLAGS=-Wall -Wextra -Werror -O2"], ["cmake", "--build", str(ab)]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
    lib = ab / "libmodel.a"
    assert lib.is_file()
    objdump = subprocess.run(["arm-none-eabi-objdump", "-f", str(lib)], capture_output=True, text=True).stdout
    assert "elf32-littlearm" in objdump


def test_makefile_glue_host_and_arm(tmp_path):
    driver.build(str(SAMPLE), str(tmp_path / "model"), "model")
    (tmp_path / "app.c").write_text(APP_C)
    (tmp_path / "Makefile").write_text(
        "include model/model.mk\n"
        "CC ?= cc\n"
        "app: app.c $(MODEL_SRCS)\n\t$(CC) -O2 -Wall -Wextra -Werror $(MODEL_CFLAGS) -o $@ $^ $(MODEL_LDLIBS)\n"
        "objs: $(MODEL_SRCS)\n\t$(CC) -O2 -Wall -Wextra -Werror $(MODEL_CFLAGS) $(ARCH) -c $^\n")
    r = subprocess.run(["make", "-C", str(tmp_path), "app", "CC=gcc"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    x = _inputs(SAMPLE, 4)[0]
    ref = reference_outputs(SAMPLE, [[x]])[0][0]
    assert (_run_app(tmp_path / "app", x) == np.asarray(ref).reshape(-1)).all()
    if toolchain.have_arm_toolchain():
        r = subprocess.run(["make", "-C", str(tmp_path), "objs", "CC=arm-none-eabi-gcc",
                            "ARCH=-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        assert (tmp_path / "model.o").is_file()


APP_ARENA_C = """
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "model.h"
static union { double d; unsigned char b[model_ARENA_BYTES + 8]; } arena;
int main(void)
{
    unsigned char *a = arena.b;
    size_t n = fread(a + model_input_offset(0), 1, model_input_bytes(0), stdin);
    if (n != model_input_bytes(0)) return 2;
    if (model_invoke_with_arena(a + 1) != -1) return 3;      /* misaligned: refused */
    if (model_invoke_with_arena(NULL) != -1) return 4;
    if (model_invoke_with_arena(a) != 0) return 1;
    fwrite(a + model_output_offset(0), 1, model_output_bytes(0), stdout);
    return 0;
}
"""


def test_application_owned_arena(tmp_path):
    driver.build(str(SAMPLE), str(tmp_path / "model"), "model", app_arena=True)
    c = (tmp_path / "model" / "model.c").read_text()
    assert "model_arena" not in c and "model_invoke(void)" not in (tmp_path / "model" / "model.h").read_text()
    (tmp_path / "app.c").write_text(APP_ARENA_C)
    exe = toolchain.build_host([tmp_path / "app.c", *sorted((tmp_path / "model").glob("*.c"))],
                               [tmp_path / "model"], tmp_path / "app")
    x = _inputs(SAMPLE, 5)[0]
    ref = reference_outputs(SAMPLE, [[x]])[0][0]
    assert (_run_app(exe, x) == np.asarray(ref).reshape(-1)).all()


def test_sections(tmp_path):
    if not toolchain.have_arm_toolchain():
        pytest.skip("arm-none-eabi-gcc missing")
    out = tmp_path / "m"
    driver.build(str(SAMPLE), str(out), "m", "cortex-m4", arena_section=".tcm_arena",
                 weights_section=".ext_flash")
    obj = tmp_path / "m.o"
    r = subprocess.run(["arm-none-eabi-gcc", *toolchain.cpu_flags("cortex-m4"), "-O2", "-std=c99", "-Wall",
                        "-Wextra", "-Werror", "-I", str(out), "-c", str(out / "m.c"), "-o", str(obj)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    sections = subprocess.run(["arm-none-eabi-size", "-A", str(obj)], capture_output=True, text=True).stdout
    sizes = {line.split()[0]: int(line.split()[1]) for line in sections.splitlines()[2:] if len(line.split()) >= 2
             and line.split()[1].isdigit()}
    g = driver.compile_graph(str(SAMPLE), target="cortex-m4")
    assert sizes.get(".tcm_arena") == g.graph["plan"].size
    assert sizes.get(".ext_flash", 0) > 0.9 * sum(ir.tensor(g, n).nbytes for n in g.nodes
                                                   if not ir.is_op(g, n) and ir.tensor(g, n).is_const)
    assert sizes.get(".rodata", 0) < 64


def test_zephyr_and_arduino_layouts(tmp_path):
    z = tmp_path / "z"
    driver.build(str(SAMPLE), str(z), "kws", format="zephyr")
    assert "cmake: zephyr" in (z / "zephyr" / "module.yml").read_text()
    zc = (z / "zephyr" / "CMakeLists.txt").read_text()
    assert "zephyr_library_named(kws)" in zc and "kws.c" in zc
    a = tmp_path / "a"
    driver.build(str(SAMPLE), str(a), "kws", format="arduino")
    props = (a / "library.properties").read_text()
    assert "name=kws" in props and "includes=kws.h" in props
    assert (a / "src" / "kws.h").is_file() and (a / "src" / "kws.c").is_file()
    # the Arduino sources compile as they are
    for c in sorted((a / "src").glob("*.c")):
        r = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", str(c), "-I", str(a / "src"),
                            "-o", str(tmp_path / (c.stem + ".o"))], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
