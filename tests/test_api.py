"""The Python API: tinycc.build on a path, bytes and bytearray (same validation, '<bytes>' in errors),
its figures agree with the files it wrote; tinycc.run returns TFLite Micro's outputs."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinycc
from tinycc import toolchain

from .conftest import model_path, reference_outputs


def test_build_from_bytes_like_a_notebook(tmp_path, monkeypatch):
    path = model_path("kws_ref_model")
    monkeypatch.chdir(tmp_path)
    res = tinycc.build(open(path, "rb").read(), "out")
    assert isinstance(res, tinycc.BuildResult)
    assert (tmp_path / "out" / "model.h").is_file() and "model.h" in res.files and "model.c" in res.files
    h = (tmp_path / "out" / "model.h").read_text()
    assert f"#define model_ARENA_BYTES {res.arena_bytes}\n" in h
    assert f"constants {res.constant_bytes} B in flash (" in h and f"{res.macs} MACs per inference" in h
    assert res.macs == 2_656_768 and res.report.arena_bytes == res.arena_bytes
    if toolchain.have_arm_toolchain():
        assert f"#define model_STACK_BYTES {res.stack_bytes}\n" in h
        assert res.code_bytes > 1000 and res.flash_bytes == res.code_bytes + res.constant_bytes
        assert res.ram_bytes == res.arena_bytes + res.stack_bytes
    # a path and a bytearray give the same code (the first line names the source)
    res2 = tinycc.build(str(path), tmp_path / "out2", measure=False, selftest=True)
    assert res2.stack_bytes is None and "model_selftest.c" in res2.files
    tinycc.build(bytearray(path.read_bytes()), tmp_path / "out3", measure=False)
    c2, c3 = ((tmp_path / d / "model.c").read_text().split("\n", 1) for d in ("out2", "out3"))
    assert "from kws_ref_model.tflite" in c2[0] and "from <bytes>" in c3[0] and c2[1] == c3[1]


def test_bad_bytes_are_one_line_errors(tmp_path):
    data = bytearray(model_path("kws_ref_model").read_bytes())
    with pytest.raises(tinycc.TinyccError) as e:
        tinycc.build(bytes(data[:1000]), tmp_path / "out")
    assert str(e.value).startswith("<bytes>: ") and "\n" not in str(e.value)
    with pytest.raises(tinycc.TinyccError) as e:
        tinycc.build(b"not a model at all", tmp_path / "out")
    assert str(e.value).startswith("<bytes>: ")
    assert not (tmp_path / "out").exists()


def test_run_returns_numpy_outputs():
    path = model_path("ic_resnet8_int8")
    x = np.random.default_rng(1).integers(-128, 128, size=(1, 32, 32, 3), dtype=np.int8)
    outs = tinycc.run(path, [x])
    ref = reference_outputs(path, [[x]])[0]
    assert len(outs) == 1 and outs[0].dtype == np.int8 and outs[0].shape == (1, 10)
    assert np.array_equal(outs[0], ref[0].reshape(1, 10))


def test_import_stays_light():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", "import sys, tinycc; print('numpy' in sys.modules, tinycc.__version__)"],
                       capture_output=True, text=True, check=True)
    assert r.stdout.split()[0] == "False" and re.fullmatch(r"\d+\.\d+\.\d+", r.stdout.split()[1])
