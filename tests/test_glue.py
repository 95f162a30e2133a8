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


def test_zephyr_layout(tmp_path):
    """module.yml names the CMake folder and the Kconfig file (Zephyr's module.yml schema); the
    Kconfig option guards the library; a float model selects a full C library (libm), an int8
    one does not."""
    import yaml
    for model, name, is_float in ((SAMPLE, "kws", False), (REPO / "samples" / "kws_tiny_f32.tflite", "kwsf", True)):
        z = tmp_path / name
        driver.build(str(model), str(z), name, format="zephyr")
        module = yaml.safe_load((z / "zephyr" / "module.yml").read_text())
        assert module["name"] == name
        assert (z / module["build"]["cmake"] / "CMakeLists.txt").is_file()
        kconfig = (z / module["build"]["kconfig"]).read_text()
        option = re.search(r"^config (TINYCC_\w+)$", kconfig, re.M).group(1)
        assert option == f"TINYCC_{name.upper()}" and re.search(r'^\tbool "', kconfig, re.M)
        assert ("select REQUIRES_FULL_LIBC" in kconfig) == is_float
        # Kconfig's own parser (kconfiglib, what Zephyr runs): the option exists, enabling it
        # selects a full C library for a float model
        import kconfiglib
        root = tmp_path / f"Kconfig.{name}"
        root.write_text(f'config REQUIRES_FULL_LIBC\n\tbool\n\nsource "{z / module["build"]["kconfig"]}"\n')
        kc = kconfiglib.Kconfig(str(root), warn_to_stderr=False)
        assert not kc.warnings, kc.warnings
        kc.syms[option].set_value(2)
        assert kc.syms[option].str_value == "y"
        assert kc.syms["REQUIRES_FULL_LIBC"].str_value == ("y" if is_float else "n")
        zc = (z / "zephyr" / "CMakeLists.txt").read_text()
        assert f"if(CONFIG_{option})" in zc and f"zephyr_library_named({name})" in zc and f"{name}.c" in zc
        assert ("zephyr_link_libraries_ifdef(CONFIG_NEWLIB_LIBC m)" in zc) == is_float
        for src in re.findall(r"\$\{CMAKE_CURRENT_LIST_DIR\}/\.\./(\S+\.c)", zc):
            assert (z / src).is_file()


ARDUINO_STUB = """
#include <stdio.h>
struct SerialPort {
    void begin(unsigned long) {}
    operator bool() const { return true; }
    void print(const char *s) { fputs(s, stdout); }
    void print(int v) { printf("%d", v); }
    void print(long v) { printf("%ld", v); }
    void print(unsigned long v) { printf("%lu", v); }
    void print(double v, int digits = 2) { printf("%.*f", digits, v); }
    void println(const char *s = "") { puts(s); }
};
inline SerialPort Serial;
static inline unsigned long micros(void) { return 0; }
static inline void delay(unsigned long) {}
"""

ARDUINO_MAIN = """
#include "Arduino.h"
void setup();
void loop();
int main() { setup(); loop(); return 0; }
"""

LIBRARY_FIELDS = ("name", "version", "author", "maintainer", "sentence", "paragraph", "category", "url",
                  "architectures")
ARDUINO_CATEGORIES = ("Display", "Communication", "Signal Input/Output", "Sensors", "Device Control", "Timing",
                      "Data Storage", "Data Processing", "Other")


@pytest.mark.parametrize("target,app_arena", [("generic", False), ("cortex-m4", True)])
def test_arduino_library(target, app_arena, tmp_path):
    """library.properties has every field of the Arduino library specification, a maintainer, a
    url and the architectures of the build; the example sketch compiles as C++ (against a stub
    Arduino.h) with the library's C sources and prints TFLite Micro's output for its zero input."""
    a = tmp_path / "kws"
    driver.build(str(SAMPLE), str(a), "kws", target, format="arduino", app_arena=app_arena,
                 maintainer="Ada Lovelace <ada@example.org>")
    props = dict(line.split("=", 1) for line in (a / "library.properties").read_text().splitlines())
    assert all(props.get(k) for k in LIBRARY_FIELDS), props
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.-]*", props["name"]) and props["category"] in ARDUINO_CATEGORIES
    assert props["maintainer"] == "Ada Lovelace <ada@example.org>" and props["url"].startswith("https://")
    assert props["includes"] == "kws.h" and (a / "src" / "kws.h").is_file()
    arch = props["architectures"].split(",")
    assert arch == ["*"] if target == "generic" else ("*" not in arch and {"stm32", "nrf52"} <= set(arch))
    sketch = a / "examples" / "kws" / "kws.ino"
    assert sketch.is_file()
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "Arduino.h").write_text(ARDUINO_STUB)
    (stub / "main.cpp").write_text(ARDUINO_MAIN)
    objs = []
    for c in sorted((a / "src").glob("*.c")):
        objs.append(tmp_path / (c.stem + ".o"))
        r = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-c", str(c), "-I", str(a / "src"),
                            "-o", str(objs[-1])], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
    exe = tmp_path / "sketch"
    r = subprocess.run(["g++", "-std=gnu++17", "-Wall", "-Wextra", "-Werror", "-x", "c++", str(sketch), "-x", "none",
                        str(stub / "main.cpp"), *map(str, objs), "-I", str(stub), "-I", str(a / "src"), "-lm",
                        "-o", str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60).stdout
    assert "kws: status 0" in out, out
    x = np.zeros_like(_inputs(SAMPLE, 0)[0])
    ref = np.asarray(reference_outputs(SAMPLE, [[x]])[0][0]).reshape(-1)
    printed = re.search(r"^output 0:(.*)$", out, re.M).group(1).split()
    assert [int(v) for v in printed] == ref.tolist()


STD_APP_C = """
#include <stdio.h>
#include <string.h>
#include "model.h"
_Static_assert(sizeof(int) >= 2, "C11, not C99: -pedantic -std=c99 would reject this");
int run_cpp(const unsigned char *in, size_t n);
int main(void)
{
    unsigned char in[4096];
    size_t n = fread(in, 1, sizeof in, stdin);
    if (run_cpp(in, n) != 0) return 1;
    fwrite(model_output(0), 1, model_output_bytes(0), stdout);
    return 0;
}
"""

STD_APP_CPP = """
#include <cstring>
#include "model.h"
extern "C" int run_cpp(const unsigned char *in, std::size_t n)
{
    if (n != model_input_bytes(0)) return 2;
    std::memcpy(model_input(0), in, n);
    return model_invoke();
}
"""

STD_MAKEFILE = """
include model/model.mk
CFLAGS = -std=gnu11 -pedantic -Wall -Wextra -Werror -O2 $(MODEL_CFLAGS)
CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -O2 $(MODEL_CFLAGS)
app: app.o run.o $(MODEL_OBJS)
\t$(CXX) -o $@ $^ $(MODEL_LDLIBS)
"""


def test_makefile_fragment_keeps_its_standard_to_its_own_objects(tmp_path):
    """An application built with -std=gnu11 -pedantic (C11 code) and C++17 includes NAME.mk: the
    model's objects get -std=c99 from the fragment's own rule, the application's sources keep
    their flags (a -std=c99 in NAME_CFLAGS would fail both), the fragment's rule does not become
    the default goal, and the program gives TFLite Micro's output."""
    driver.build(str(SAMPLE), str(tmp_path / "model"), "model")
    (tmp_path / "app.c").write_text(STD_APP_C)
    (tmp_path / "run.cpp").write_text(STD_APP_CPP)
    (tmp_path / "Makefile").write_text(STD_MAKEFILE)
    r = subprocess.run(["make", "-C", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    model_lines = [line for line in r.stdout.splitlines() if "build/model/" in line and " -c " in line]
    app_line = next(line for line in r.stdout.splitlines() if "app.c" in line)
    assert model_lines and all(line.rstrip().split(" -c ")[0].endswith("-std=c99") for line in model_lines)
    assert "-std=c99" not in app_line and "-std=c99" not in next(line for line in r.stdout.splitlines()
                                                                   if "run.cpp" in line)
    assert (tmp_path / "build" / "model" / "model.o").is_file()
    assert sorted(p.name for p in (tmp_path / "model").glob("*.o")) == []     # nothing added to tinycc's folder
    x = _inputs(SAMPLE, 6)[0]
    ref = reference_outputs(SAMPLE, [[x]])[0][0]
    assert (_run_app(tmp_path / "app", x) == np.asarray(ref).reshape(-1)).all()
    # the same fragment with C99 forced on the whole application fails, so the test can fail
    bad = (tmp_path / "model" / "model.mk").read_text().replace("MODEL_CFLAGS := -I", "MODEL_CFLAGS := -std=c99 -I")
    (tmp_path / "model" / "model.mk").write_text(bad)
    r = subprocess.run(["make", "-C", str(tmp_path), "-B"], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
