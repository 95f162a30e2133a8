"""The command line as a user meets it: bad input, atomic output, determinism, warning-free C."""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import signal
import stat
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


ENV = {**os.environ, "PYTHONPATH": str(REPO)}     # this checkout's tinycc, from any working folder


def tinycc(*args, cwd=None, **kw):
    return subprocess.run([sys.executable, "-m", "tinycc", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=120, env=ENV, **kw)


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
    keep = tmp_path / "keep"
    r = tinycc("verify", model_path("ad01_int8"), "--samples", "3", "--keep", keep)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "mismatches 0" in r.stdout and r.stdout.strip().endswith("PASS")
    assert (keep / "model" / "model.c").is_file() and (keep / "harness").is_file()
    (keep / "notes.txt").write_text("mine\n")      # --keep onto a folder with the user's files: refused
    assert_clean_error(tinycc("verify", model_path("ad01_int8"), "--keep", keep), "notes.txt")
    assert (keep / "notes.txt").read_text() == "mine\n"


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


# -- the output folder: tinycc replaces only what it wrote ----------------------------------------

SAMPLE = REPO / "samples" / "kws_tiny_int8.tflite"


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under ``folder``, by relative path."""
    return {str(p.relative_to(folder)): (None if p.is_dir() else p.read_bytes()) for p in sorted(folder.rglob("*"))}


def user_folder(tmp_path: Path) -> Path:
    """A folder as a user has it: sources, a sub-folder and the model itself."""
    d = tmp_path / "project"
    (d / "lib").mkdir(parents=True)
    (d / "main.c").write_text("int main(void) { return 0; }\n")
    (d / "lib" / "util.c").write_text("int util;\n")
    (d / "kws.tflite").write_bytes(SAMPLE.read_bytes())
    return d


def test_output_into_a_user_folder_is_refused(tmp_path):
    """`-o .` in a folder holding the user's files (and the model) and `-o` onto any non-empty
    folder tinycc did not write are refused in one line naming --force; every file stays."""
    d = user_folder(tmp_path)
    before = tree(d)
    assert_clean_error(tinycc("build", "kws.tflite", "-o", ".", "--no-stack", cwd=d),
                       "output folder .", "not written by tinycc", "main.c", "--force")
    assert tree(d) == before
    assert_clean_error(tinycc("build", "kws.tflite", "-o", "lib", "--no-stack", cwd=d), "lib", "--force")
    # --force never replaces the folder holding the model, nor one holding the current folder
    assert_clean_error(tinycc("build", "kws.tflite", "-o", ".", "--force", "--no-stack", cwd=d), "kws.tflite")
    assert_clean_error(tinycc("build", "../kws.tflite", "-o", "..", "--force", "--no-stack", cwd=d / "lib"))
    assert tree(d) == before
    # --force replaces a folder of other files when told to
    r = tinycc("build", "kws.tflite", "-o", "lib", "--force", "--no-stack", cwd=d)
    assert r.returncode == 0, r.stderr
    assert not (d / "lib" / "util.c").exists() and (d / "lib" / "model.c").is_file()
    assert {k: v for k, v in tree(d).items() if not k.startswith("lib")} == \
        {k: v for k, v in before.items() if not k.startswith("lib")}


def test_own_output_is_replaced_and_extra_files_protect_it(tmp_path):
    out = tmp_path / "out"
    r = tinycc("build", SAMPLE, "-o", out, "--no-stack")
    assert r.returncode == 0, r.stderr
    marker = (out / ".tinycc").read_text().splitlines()
    assert marker[0].startswith("# Written by tinycc") and "model.c" in marker and "model.h" in marker
    (out / ".tinycc-new-0badc0de").mkdir()              # what a killed tinycc leaves behind
    (out / ".tinycc-new-0badc0de" / "model.c").write_text("half written")
    # its own earlier output is replaced: files of the old build that the new one lacks go
    r = tinycc("build", SAMPLE, "-o", out, "--name", "kws", "--format", "arduino", "--no-stack")
    assert r.returncode == 0, r.stderr
    assert not (out / "model.c").exists() and (out / "src" / "kws.c").is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".tinycc-")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]          # no temporary folders left
    # a file the user added to it makes it theirs: refused, kept
    (out / "src" / "app.c").write_text("/* mine */\n")
    before = tree(out)
    assert_clean_error(tinycc("build", SAMPLE, "-o", out, "--no-stack"), "src/app.c", "--force")
    assert tree(out) == before


def test_output_paths(tmp_path):
    """A file is refused, missing parents are created, a symlink to a folder is followed (the link
    stays), and the folder and files get the umask's permissions (not mkdtemp's 0700)."""
    (tmp_path / "notes.txt").write_text("keep me\n")
    assert_clean_error(tinycc("build", SAMPLE, "-o", tmp_path / "notes.txt"), "notes.txt", "not a folder")
    assert_clean_error(tinycc("build", SAMPLE, "-o", tmp_path / "notes.txt" / "out"), "notes.txt is a file")
    assert (tmp_path / "notes.txt").read_text() == "keep me\n"
    deep = tmp_path / "a" / "b" / "c"
    r = tinycc("build", SAMPLE, "-o", deep, "--no-stack", preexec_fn=lambda: os.umask(0o022))
    assert r.returncode == 0, r.stderr
    assert (deep / "model.c").is_file()
    assert stat.S_IMODE(deep.stat().st_mode) == 0o755 and stat.S_IMODE((deep / "model.c").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o755
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    for _ in range(2):    # created through the link, then replaced through it
        assert tinycc("build", SAMPLE, "-o", tmp_path / "link", "--no-stack").returncode == 0
    assert (tmp_path / "link").is_symlink() and (real / "model.c").is_file()


def assert_os_error(r, folder: Path, *fragments):
    assert_clean_error(r, *fragments)
    assert "internal error" not in r.stderr
    assert not [p for p in folder.iterdir() if ".tinycc-" in p.name], "temporary folders left behind"


def test_os_errors_are_one_line(tmp_path):
    """Read-only locations, a full disk and a file-size limit end as one line with exit 2 (root
    ignores mode bits, so this uses /sys, an immutable folder and a tiny tmpfs where it can)."""
    assert_clean_error(tinycc("build", SAMPLE, "-o", "/sys/tinycc-out", "--no-stack"),
                       "cannot write output folder /sys/tinycc-out")
    r = tinycc("report", SAMPLE, "--html", "/sys/tinycc-report.html")
    assert_clean_error(r, "/sys/tinycc-report.html")
    assert "internal error" not in r.stderr
    # a file-size limit (EFBIG) while writing the output: nothing is left behind
    r = tinycc("build", SAMPLE, "-o", tmp_path / "big", "--no-stack",
               preexec_fn=lambda: (signal.signal(signal.SIGXFSZ, signal.SIG_IGN),
                                   resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))))
    assert_os_error(r, tmp_path, "cannot write output folder", "File too large")
    assert not (tmp_path / "big").exists()
    # an immutable folder (chattr +i): even root cannot create anything in it
    ro = tmp_path / "ro"
    ro.mkdir()
    if subprocess.run(["chattr", "+i", str(ro)], capture_output=True).returncode == 0:
        try:
            assert_os_error(tinycc("build", SAMPLE, "-o", ro / "out", "--no-stack"), ro,
                            "cannot write output folder", "Operation not permitted")
        finally:
            subprocess.run(["chattr", "-i", str(ro)], check=True)
    # a full disk (a 64 KiB tmpfs), first a new folder, then over an earlier build, which stays
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
                      capture_output=True).returncode == 0:
        try:
            assert_os_error(tinycc("build", SAMPLE, "-o", disk / "out", "--no-stack"), disk,
                            "No space left on device")
            tiny = tmp_path / "tiny.tflite"
            tiny.write_bytes(unsupported_op_model())
            f = tmp_path / "small.tflite"
            f.write_bytes(M.softmax(np.random.default_rng(0), (1, 8), 1.0, "int8"))
            assert tinycc("build", f, "-o", disk / "out", "--no-stack").returncode == 0
            before = tree(disk / "out")
            assert_os_error(tinycc("build", SAMPLE, "-o", disk / "out", "--no-stack"), disk / "out",
                            "No space left on device")
            assert tree(disk / "out") == before
        finally:
            subprocess.run(["umount", str(disk)], check=True)


# -- one default build, help, summary -------------------------------------------------------

def test_bare_tinycc_prints_help_and_every_argument_has_help():
    r = tinycc()
    assert r.returncode == 0 and "usage: tinycc" in r.stdout and "build" in r.stdout
    from tinycc import cli
    ap = cli.parser()
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        for a in p._actions:
            assert a.help, f"tinycc {name}: {a.option_strings or a.dest} has no help"
        opts = {s for a in p._actions for s in a.option_strings}
        assert {"--target", "--optimize"} <= opts, name
        target = next(a for a in p._actions if "--target" in a.option_strings)
        assert target.default == driver.DEFAULT_TARGET, name


def test_build_report_and_verify_describe_the_same_build(tmp_path):
    """The defaults of build, report and verify are one build (generic, --optimize memory): the same
    arena, said in each output; build ends with its one-line summary."""
    out = tmp_path / "out"
    r = tinycc("build", SAMPLE, "-o", out)
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    assert len(line.splitlines()) == 1
    m = re.fullmatch(r"tinycc: built model for generic \(--optimize memory\) in \S+: arena ([\d,]+) B, (.*)", line)
    assert m, line
    arena = int(m.group(1).replace(",", ""))
    assert f"#define model_ARENA_BYTES {arena}\n" in (out / "model.h").read_text()
    g = driver.frontend.load_tflite(str(SAMPLE))
    consts = sum(ir.tensor(g, n).nbytes for n in g.nodes if not ir.is_op(g, n) and ir.tensor(g, n).is_const)
    macs = driver.report(str(SAMPLE), measure=False).macs
    budget = round(1.10 * consts + 16 * 1024)          # the default --flash-budget
    assert f"the model's constants {consts:,} B, flash budget {budget:,} B, {macs:,} MACs" in line
    if toolchain.have_arm_toolchain():
        stack = int(re.search(r"#define model_STACK_BYTES (\d+)", (out / "model.h").read_text()).group(1))
        assert f"stack {stack:,} B" in line and re.search(r"flash [\d,]+ B \(code [\d,]+ \+ data [\d,]+\)", line)
        assert "measured for cortex-m4" in line
    rep = tinycc("report", SAMPLE, "--json")
    assert rep.returncode == 0, rep.stderr
    data = json.loads(rep.stdout)
    assert (data["target"], data["optimize"], data["arena_bytes"]) == ("generic", "memory", arena)
    assert "target generic, --optimize memory" in tinycc("report", SAMPLE).stdout
    v = tinycc("verify", SAMPLE, "--samples", "2", "--json")
    assert v.returncode == 0, v.stderr
    data = json.loads(v.stdout)
    assert (data["target"], data["optimize"], data["arena_bytes"]) == ("generic", "memory", arena)
    # the deprecated `--target host` is the generic build on the host
    assert "generic build (--optimize memory) on the host" in tinycc("verify", SAMPLE, "--samples", "1",
                                                                   "--target", "host").stdout


def test_verify_without_the_reference_names_the_package(tmp_path):
    """Without tflite-micro, verify says which package is missing and how to install it, in one
    line, exit 2, not blaming the model."""
    code = ("import sys; sys.modules['tflite_micro'] = None; from tinycc.cli import main; "
            f"sys.exit(main(['verify', {str(SAMPLE)!r}, '--samples', '1']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert_clean_error(r, "tflite-micro", 'pip install "tinycc[verify]"')
    assert "kws_tiny_int8" not in r.stderr and "failed on this model" not in r.stderr
