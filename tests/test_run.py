"""tinycc run on the user's files (host and QEMU) gives TFLite Micro's outputs; verify --input compares
user samples; bad input files are one line and exit 2."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tinycc import driver
from tinycc.ops.quantize import quantize_f32
from tinycc.runner import format_outputs

from .conftest import REPO, model_path, needs_qemu, reference_outputs


def tinycc(*args):
    return subprocess.run([sys.executable, "-m", "tinycc", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=600)


@pytest.mark.parametrize("target", ["generic", "cortex-m4"])
def test_run_prints_tflite_micro_outputs(target, tmp_path):
    if target != "generic":
        needs_qemu()
    path = model_path("ad01_int8")
    g = driver.compile_graph(str(path))
    x = np.random.default_rng(3).integers(-128, 128, size=(1, 640), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    r = tinycc("run", path, "--input", tmp_path / "x.npy", "--target", target)
    assert r.returncode == 0, r.stderr
    ref = reference_outputs(path, [[x]])[0]
    assert format_outputs(g, ref) in r.stdout
    assert "dequantized (scale" in r.stdout
    assert ("instructions:" in r.stdout) == (target != "generic")
    # --output writes the same arrays
    r = tinycc("run", path, "--input", tmp_path / "x.npy", "--target", target, "--output", tmp_path / "y.npy")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(tmp_path / "y.npy"), ref[0].reshape(1, 640))


def test_run_quantizes_float_npy_like_tflite_and_reads_raw(tmp_path):
    """A float .npy for an int8 input is quantized with TFLite's QUANTIZE formula; a raw file of the
    input's exact size is taken as its bytes; the Python API gives the same arrays."""
    import tinycc as api
    path = model_path("kws_ref_model")
    real = np.random.default_rng(5).normal(0, 20, size=(1, 49, 10, 1)).astype(np.float32)
    np.save(tmp_path / "real.npy", real)
    q = quantize_f32(real, 0.5847029089927673, 83)
    (tmp_path / "x.bin").write_bytes(q.tobytes())
    ref = reference_outputs(path, [[q]])[0][0]
    r = tinycc("run", path, "--input", tmp_path / "real.npy", "--output", tmp_path / "a.bin")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a.bin").read_bytes() == ref.tobytes()
    r = tinycc("run", path, "--input", tmp_path / "x.bin", "--output", tmp_path / "b.npz")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(tmp_path / "b.npz")["arr_0"].reshape(-1), ref.reshape(-1))
    outs = api.run(path.read_bytes(), [real])
    assert np.array_equal(outs[0].reshape(-1), ref.reshape(-1))


def test_bad_inputs_are_one_line(tmp_path, capsys):
    from tinycc import cli
    path = str(model_path("ad01_int8"))
    (tmp_path / "short.bin").write_bytes(b"\0" * 639)
    np.save(tmp_path / "i32.npy", np.zeros((1, 640), np.int32))
    np.save(tmp_path / "big.npy", np.zeros((1, 641), np.int8))
    for f, words in (("short.bin", "639 bytes; raw input must be exactly 640"), ("i32.npy", "is int32"),
                     ("big.npy", "641 elements"), ("missing.npy", "cannot read input")):
        assert cli.main(["run", path, "--input", str(tmp_path / f)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and words in err, err
    assert cli.main(["run", path, "--input", str(tmp_path / "big.npy"), "--input", str(tmp_path / "big.npy")]) == 2
    assert "the model has 1 inputs; got 2 input files" in capsys.readouterr().err


def test_verify_on_user_inputs(tmp_path):
    path = model_path("ad01_int8")
    d = tmp_path / "samples"
    d.mkdir()
    rng = np.random.default_rng(9)
    for k in range(3):
        np.save(d / f"s{k}.npy", rng.integers(-128, 128, size=(1, 640), dtype=np.int8))
    (d / "s3.bin").write_bytes(rng.integers(-128, 128, size=640, dtype=np.int8).tobytes())
    r = tinycc("verify", path, "--input", d)
    assert r.returncode == 0, r.stderr
    assert "4 user samples" in r.stdout and "PASS" in r.stdout
    assert "mismatches 0" in r.stdout and "2560 bytes compared" in r.stdout


def test_several_inputs_and_outputs(tmp_path):
    """One --input per model input (in declared order) or one .npz; .npz output with every output;
    the index macros name the tensors (an input that is also an output gets both)."""
    from .test_multi_io import conv_branches
    model = tmp_path / "branches.tflite"
    model.write_bytes(conv_branches("int8"))
    rng = np.random.default_rng(2)
    b = rng.integers(-128, 128, size=(1, 4, 6, 3), dtype=np.int8)
    a = rng.integers(-128, 128, size=(1, 6, 6, 3), dtype=np.int8)
    np.save(tmp_path / "b.npy", b)
    np.save(tmp_path / "a.npy", a)
    np.savez(tmp_path / "ba.npz", b, a)
    ref = reference_outputs(model, [[b, a]])[0]
    for inputs in (["--input", tmp_path / "b.npy", "--input", tmp_path / "a.npy"], ["--input", tmp_path / "ba.npz"]):
        r = tinycc("run", model, *inputs, "--output", tmp_path / "y.npz")
        assert r.returncode == 0, r.stderr
        with np.load(tmp_path / "y.npz") as z:
            assert len(z.files) == len(ref) == 4
            for k, y in enumerate(ref):
                assert np.array_equal(z[f"arr_{k}"].reshape(-1), y.reshape(-1))
    out = tmp_path / "c"
    driver.build(str(model), str(out), "m")
    h = (out / "m.h").read_text()
    assert "#define m_INPUT_B 0\n" in h and "#define m_INPUT_A 1\n" in h and "#define m_OUTPUT_B 1\n" in h
