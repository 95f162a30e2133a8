"""The command line as a user meets it: bad input, atomic output, determinism, warning-free C."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, ir, toolchain
from tinycc.errors import TinyccError
from tinycc.testing import models as M
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import REPO, model_path


def tinycc(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tinycc", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=120)


def assert_clean_error(r, *fragments):
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr          # one line, no traceback
    assert lines[0].startswith("tinycc: error:")
    assert "Traceback" not in r.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def unsupported_op_model() -> bytes:
    b = ModelBuilder()
    x = b.tensor([1, 8], "float32", name="x")
    y = b.tensor([1, 8], "float32", name="y")
    b.op("LSH_PROJECTION", [x], [y])   # an op tinycc does not compile
    return b.build([x], [y])


def test_not_a_flatbuffer(tmp_path):
    bad = tmp_path / "notes.tflite"
    bad.write_text("this is not a model\n" * 10)
    out = tmp_path / "out"
    assert_clean_error(tinycc("build", bad, "-o", out), "notes.tflite", "not a TFLite model")
    assert not out.exists()


def test_truncated_model(tmp_path):
    data = model_path("kws_ref_model").read_bytes()
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(data[: len(data) // 3])
    out = tmp_path / "out"
    assert_clean_error(tinycc("build", bad, "-o", out), "cut.tflite")
    assert not out.exists()


def test_unsupported_op_names_index_and_op(tmp_path):
    bad = tmp_path / "lsh.tflite"
    bad.write_bytes(unsupported_op_model())
    out = tmp_path / "out"
    assert_clean_error(tinycc("build", bad, "-o", out), "lsh.tflite", "operator 0 (LSH_PROJECTION)", "not supported")
    assert not out.exists()


def test_missing_file_and_bad_name(tmp_path):
    assert_clean_error(tinycc("build", tmp_path / "nope.tflite", "-o", tmp_path / "o"), "nope.tflite")
    assert_clean_error(tinycc("build", model_path("ad01_int8"), "-o", tmp_path / "o", "--name", "2bad"), "2bad")
    assert not (tmp_path / "o").exists()


def test_failed_build_leaves_existing_output_untouched(tmp_path):
    out = tmp_path / "out"
    assert tinycc("build", model_path("ad01_int8"), "-o", out).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "tanh.tflite"
    bad.write_bytes(unsupported_op_model())
    assert_clean_error(tinycc("build", bad, "-o", out))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tanh.tflite"]  # no temp folders left


def test_mutated_models_never_crash(tmp_path):
    """Truncations and byte flips: either a build or a TinyccError, never another exception."""
    data = bytearray(model_path("kws_ref_model").read_bytes())
    rng = np.random.default_rng(0)
    outcomes = {"ok": 0, "error": 0}
    for k in range(120):
        m = bytearray(data)
        if k % 3 == 0:
            m = m[: int(rng.integers(0, len(m)))]
        else:
            for _ in range(int(rng.integers(1, 8))):
                m[int(rng.integers(0, len(m)))] = int(rng.integers(0, 256))
        f = tmp_path / "m.tflite"
        f.write_bytes(bytes(m))
        try:
            driver.build(str(f), str(tmp_path / "out"))
            outcomes["ok"] += 1
        except TinyccError as e:
            assert "\n" not in str(e)
            outcomes["error"] += 1
    assert outcomes["error"] > 0


def test_build_is_deterministic(tmp_path):
    for name in ("kws_ref_model", "ic_resnet8_int8"):
        a, b = tmp_path / f"{name}_a", tmp_path / f"{name}_b"
        assert tinycc("build", model_path(name), "-o", a).returncode == 0
        assert tinycc("build", model_path(name), "-o", b).returncode == 0
        files_a = {p.name: p.read_bytes() for p in a.iterdir()}
        assert files_a == {p.name: p.read_bytes() for p in b.iterdir()}


def test_header_declares_the_api(tmp_path):
    out = tmp_path / "out"
    assert tinycc("build", model_path("kws_ref_model"), "-o", out, "--name", "kws").returncode == 0
    h = (out / "kws.h").read_text()
    for decl in ("int kws_invoke(void);", "void *kws_input(int i);", "void *kws_output(int i);",
                 "size_t kws_input_bytes(int i);", "size_t kws_output_bytes(int i);",
                 "#define kws_ARENA_BYTES", "#define kws_INPUT_COUNT 1", "#define kws_OUTPUT_COUNT 1"):
        assert decl in h
    c = (out / "kws.c").read_text()
    assert "malloc" not in c and "free(" not in c
    assert "static const int8_t" in c


@pytest.mark.parametrize("target", ["host", "cortex-m4", "cortex-m0"])
@pytest.mark.parametrize("name", ["kws_ref_model", "ic_resnet8_int8", "ad01_fp32"])
def test_generated_c_is_warning_free(name, target, tmp_path):
    out = tmp_path / "out"
    driver.build(str(model_path(name)), str(out), "net", "generic" if target == "host" else target)
    flags = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wconversion", "-O2", "-c"]
    if target == "host":
        cmd = ["gcc", *flags]
    else:
        if not toolchain.have_arm_toolchain():
            pytest.skip("arm-none-eabi-gcc missing")
        cmd = ["arm-none-eabi-gcc", *toolchain.cpu_flags(target), *flags]
    for c in sorted(out.glob("*.c")):
        r = subprocess.run([*cmd, str(c), "-I", str(out), "-o", str(tmp_path / (c.stem + ".o"))],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


def test_verify_command(tmp_path):
    r = tinycc("verify", model_path("ad01_int8"), "--samples", "3")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "mismatches 0" in r.stdout and r.stdout.strip().endswith("PASS")


def test_kernel_suite_samples_are_single_op(tmp_path):
    """The kernel-test generator really produces one-op models (guards the test tier's meaning)."""
    f = tmp_path / "c.tflite"
    f.write_bytes(M.conv2d(np.random.default_rng(0)))
    g = driver.compile_graph(str(f))
    assert len(g.graph["plan"].order) == 1


def test_hostile_tensor_names_stay_inside_comments(tmp_path):
    b = ModelBuilder()
    x = b.tensor([1, 8], "float32", name="in */ #error boom /*")
    y = b.tensor([1, 8], "float32", name="out\n*/ int x;")
    b.op("SOFTMAX", [x], [y], beta=1.0)
    f = tmp_path / "evil.tflite"
    f.write_bytes(b.build([x], [y]))
    out = tmp_path / "out"
    driver.build(str(f), str(out))
    r = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-c", str(out / "model.c"), "-I", str(out),
                        "-o", str(tmp_path / "m.o")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m0"])
def test_header_reports_worst_case_stack(target, tmp_path):
    """NAME.h states the worst-case stack of NAME_invoke, as toolchain.stack_usage gives it for the
    target core (GCC's call graph, asm frames from the object code); --no-stack leaves it out."""
    if not toolchain.have_arm_toolchain():
        pytest.skip("arm-none-eabi-gcc not installed")
    import re
    out = tmp_path / "out"
    assert tinycc("build", model_path("kws_ref_model"), "-o", out, "--name", "kws", "--target", target).returncode == 0
    h = (out / "kws.h").read_text()
    m = re.search(r"#define kws_STACK_BYTES (\d+)", h)
    assert m, "no kws_STACK_BYTES in kws.h"
    measured = toolchain.stack_usage(sorted(out.glob("*.c")), "kws_invoke", target=target, include_dirs=[out])
    assert int(m.group(1)) == measured["bytes"] > 0
    assert f"measured for {target}" in h and "#define KWS_STACK_BYTES kws_STACK_BYTES" in h
    bare = tmp_path / "bare"
    assert tinycc("build", model_path("kws_ref_model"), "-o", bare, "--name", "kws", "--no-stack").returncode == 0
    assert "STACK_BYTES" not in (bare / "kws.h").read_text()


def test_unexpected_exception_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    """A bug inside tinycc (here: an exception injected into the build) still ends as one
    stderr line and exit 2, with nothing written; TINYCC_DEBUG=1 re-raises it."""
    from tinycc import cli

    def broken(*a, **k):
        raise ValueError("first line\nsecond line")
    monkeypatch.setattr(driver, "build", broken)
    out = tmp_path / "out"
    assert cli.main(["build", str(model_path("kws_ref_model")), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tinycc: internal error on ") and "first line second line" in err[0]
    assert not out.exists()
    monkeypatch.setenv("TINYCC_DEBUG", "1")
    with pytest.raises(ValueError):
        cli.main(["build", str(model_path("kws_ref_model")), "-o", str(out)])


def test_float16_activations_refused_constants_widened(tmp_path):
    """float16 constants (TensorFlow's float16 weights) are widened to float32 exactly; a float16
    tensor computed at run time is refused in one line naming it."""
    b = ModelBuilder()
    x = b.tensor([1, 4], "float16", name="half_in")
    y = b.tensor([1, 4], "float32", name="y")
    b.op("DEQUANTIZE", [x], [y])
    f = tmp_path / "act16.tflite"
    f.write_bytes(b.build([x], [y]))
    assert_clean_error(tinycc("build", f, "-o", tmp_path / "o"), "act16.tflite", "half_in", "FLOAT16 activations")
    b = ModelBuilder()
    w = b.tensor([1, 4], "float16", name="w16", data=np.array([[1.5, -2.25, 65504.0, 6e-8]], np.float16))
    x = b.tensor([1, 4], "float32", name="x")
    wf = b.tensor([1, 4], "float32", name="w32")
    y = b.tensor([1, 4], "float32", name="y")
    b.op("DEQUANTIZE", [w], [wf])
    b.op("ADD", [x, wf], [y])
    f = tmp_path / "w16.tflite"
    f.write_bytes(b.build([x], [y]))
    g = driver.compile_graph(str(f))
    assert [ir.op(g, o).kind for o in g.graph["plan"].order] == ["ADD"]
    consts = [ir.tensor(g, t).data for t in g.nodes if not ir.is_op(g, t) and ir.tensor(g, t).is_const]
    assert any(c.dtype == np.float32 and (c == np.array([[1.5, -2.25, 65504.0, 6e-8]], np.float16)).all()
               for c in consts)


def test_verify_survives_a_reference_that_aborts(tmp_path):
    """TFLite Micro aborts the process (an assertion in its int8 SOFTMAX) when 512+ logits sit
    near the maximum, as with 1000 classes at a small input scale: `tinycc verify` runs the
    reference in a child process and says so in one line."""
    f = tmp_path / "sm.tflite"
    f.write_bytes(M.softmax(np.random.default_rng(3), (1, 1000), 1.0, "int8", in_scale=0.001, in_zero_point=0))
    r = tinycc("verify", f, "--samples", "1")
    assert_clean_error(r, "sm.tflite", "reference interpreter", "crashed")
