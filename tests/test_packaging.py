"""The wheel as a user installs it: built from a copy of the checkout, installed (not editable)
into a fresh virtual environment outside the checkout, and run from an unrelated folder."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tinycc import toolchain

from .conftest import REPO, needs_qemu

pytestmark = pytest.mark.slow    # a wheel, a virtual environment and four CLI runs in it

SAMPLE = REPO / "samples" / "kws_tiny_int8.tflite"
PACKAGED = ("pyproject.toml", "README.md", "tinycc", "runtime")   # what setuptools reads


def run(cmd, cwd, env, timeout=300):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{cmd}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, work folder, environment, wheel path): the wheel installed into a venv."""
    tmp = tmp_path_factory.mktemp("pkg")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # setuptools writes build/ and *.egg-info next to pyproject.toml: build from a copy, not the checkout
    src = tmp / "src"
    for name in PACKAGED:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", tmp / "dist", src], cwd=src, env=env)
    wheel = next((tmp / "dist").glob("tinycc-*.whl"))
    venv = tmp / "venv"
    # --system-site-packages: numpy, tflite, the reference interpreters need no download
    run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", venv], cwd=tmp, env=env)
    bin_dir = venv / "bin"
    run([bin_dir / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], cwd=tmp, env=env)
    work = tmp / "work"
    work.mkdir()
    shutil.copy2(SAMPLE, work / "kws.tflite")
    return bin_dir, work, env, wheel


def test_wheel_holds_every_module_template_and_runtime_file(installed):
    *_, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(p.relative_to(REPO)) for p in (REPO / "tinycc").rglob("*.py")}
    expected |= {str(p.relative_to(REPO)) for p in (REPO / "tinycc" / "codegen" / "templates").glob("*.j2")}
    expected |= {"tinycc/" + str(p.relative_to(REPO)) for p in (REPO / "runtime").rglob("*") if p.is_file()}
    expected.add("tinycc/kernel_facts.json")          # the kernels' measured stack frames and sizes
    assert expected - names == set()
    assert not [n for n in names if n.startswith(("runtime/", "tests/"))]


def test_installed_tinycc_runs_outside_the_checkout(installed):
    """build, verify (host), report and bench (QEMU) with the venv's `tinycc` in an unrelated
    folder: the package, its templates and its C runtime all come from the venv."""
    bin_dir, work, env, _ = installed
    where = run([bin_dir / "python", "-c", "import tinycc, tinycc.resources as r; print(tinycc.__file__); "
                 "print(r.RUNTIME)"], cwd=work, env=env).split()
    venv = bin_dir.parent.resolve()
    assert all(Path(p).resolve().is_relative_to(venv) for p in where), where
    assert not any(Path(p).resolve().is_relative_to(REPO.resolve()) for p in where)
    tinycc = bin_dir / "tinycc"
    out = run([tinycc, "build", "kws.tflite", "-o", "out"], cwd=work, env=env)
    assert out.startswith("tinycc: built model for generic (--optimize memory) in out: arena ")
    assert (work / "out" / "model.c").is_file() and (work / "out" / "model_tcc_conv.c").is_file()
    out = run([tinycc, "verify", "kws.tflite", "--samples", "2"], cwd=work, env=env)
    assert "generic build (--optimize memory) on the host" in out and out.strip().endswith("PASS"), out
    out = run([tinycc, "report", "kws.tflite"], cwd=work, env=env)
    assert "target generic, --optimize memory" in out
    if toolchain.have_arm_toolchain() and toolchain.have_qemu():
        out = run([tinycc, "bench", "kws.tflite"], cwd=work, env=env)
        assert "generic build (--optimize memory) in QEMU mps2-an386 (cortex-m4)" in out and "total: " in out, out
    else:
        needs_qemu()
    assert sorted(p.name for p in work.iterdir()) == ["kws.tflite", "out"]    # nothing else left in the folder
