"""The generated C under AddressSanitizer and UndefinedBehaviorSanitizer, on hostile inputs.

Every shared model is built, compiled on the host with the verification harness and
``-fsanitize=address,undefined -fno-sanitize-recover=all`` (so the first report aborts the
run), and run on random inputs and on extreme ones: every byte -128 / 127 (all integer
minimum / maximum) and, for float inputs, huge, tiny, zero and alternating-sign values.
AddressSanitizer puts red zones around every global, so a kernel that reads or writes
outside the arena or past a constant array is reported; UBSan reports signed overflow,
invalid shifts, misaligned and null accesses. A sample of random networks and of random
single-op models (with extreme quantization, see ``test_fuzz.random_op_model``) get the same.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, ir, toolchain
from tinycc.errors import TinyccError
from tinycc.verify import NUMPY, random_inputs

from .conftest import SHARED_MODELS, model_path

SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer", "-g", "-O1"]
SANITIZER_MARKS = ("runtime error", "AddressSanitizer", "UndefinedBehaviorSanitizer", "LeakSanitizer")
FLOAT_EXTREMES = [3.0e38, -3.0e38, 1.0e30, -1.0e30, 1.0e10, -1.0e10, 1.0e-38, -1.0e-38, 1.0e-45, 0.0, -0.0]


@pytest.fixture(autouse=True)
def _sanitizer_env(monkeypatch):
    if shutil.which(toolchain.HOST_CC) is None:
        pytest.skip("no host C compiler")
    monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:halt_on_error=1")
    monkeypatch.setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")


def extreme_samples(g, rng: np.random.Generator, n_random: int = 3) -> list[list[np.ndarray]]:
    """Small non-negative integers (valid indices for index inputs), random samples, then
    all-minimum and all-maximum ones, and for float inputs huge, tiny, zero and
    alternating-sign values."""
    ins = [ir.tensor(g, t) for t in g.graph["inputs"]]
    dts = [np.dtype(NUMPY[t.dtype]) for t in ins]

    def fill(float_value, int_pick):
        return [np.full(t.shape, float_value, dt) if np.issubdtype(dt, np.floating) else int_pick(t, dt)
                for t, dt in zip(ins, dts)]

    def small(t, dt):
        return rng.integers(0, 3, size=t.shape).astype(dt)

    def rand(t, dt):
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, size=t.shape, dtype=dt, endpoint=True)

    samples = [fill(0.5, small)]
    samples += [random_inputs(g, rng) for _ in range(n_random)]
    samples.append(fill(-3.0e38, lambda t, dt: np.full(t.shape, np.iinfo(dt).min, dt)))
    samples.append(fill(3.0e38, lambda t, dt: np.full(t.shape, np.iinfo(dt).max, dt)))
    if any(np.issubdtype(dt, np.floating) for dt in dts):
        samples += [fill(v, rand) for v in FLOAT_EXTREMES]
        row = []
        for t, dt in zip(ins, dts):
            if np.issubdtype(dt, np.floating):
                sign = np.where(np.arange(t.size) % 2 == 0, 1.0, -1.0).reshape(t.shape)
                row.append((sign * rng.choice([1e30, 1e-30, 3e38, 1.0], size=t.shape)).astype(dt))
            else:
                row.append(rand(t, dt))
        samples.append(row)
    return samples


def sanitized_run(model_file: Path, work: Path, seed: int = 0, n_random: int = 3,
                  allow_invoke_error: bool = False) -> int:
    """Build ``model_file``, compile it with the sanitizers and run the extreme samples; fail the
    test on any sanitizer report. With ``allow_invoke_error`` (models whose invoke checks
    run-time indices), each sample runs on its own and may make invoke return an error.
    Returns the number of samples that ran to completion."""
    out = work / "out"
    driver.build(str(model_file), str(out), "model", "generic")
    g = driver.compile_graph(str(model_file))
    exe = toolchain.build_harness(out, work / "h_asan", mode="host", cflags=SANITIZE)
    samples = extreme_samples(g, np.random.default_rng(seed), n_random)
    out_bytes = sum(ir.tensor(g, t).nbytes for t in g.graph["outputs"])
    batches = [samples] if not allow_invoke_error else [[row] for row in samples]
    completed = 0
    for k, batch in enumerate(batches):
        run = work / f"run{k}"
        run.mkdir(parents=True, exist_ok=True)
        (run / "inputs.bin").write_bytes(b"".join(np.ascontiguousarray(x).tobytes() for row in batch for x in row))
        rc, log = toolchain.run_host(exe, run, timeout=300)
        reports = [m for m in SANITIZER_MARKS if m in log]
        assert not reports, f"{model_file.name}: sanitizer report (exit {rc}):\n{log[-6000:]}"
        if allow_invoke_error and rc == toolchain.EXIT_INVOKE_FAILED and "invoke failed" in log:
            continue
        assert rc == 0, f"{model_file.name}: exit {rc}:\n{log[-3000:]}"
        assert f"tinycc-harness: {len(batch)} samples" in log, log[-2000:]
        assert (run / "outputs.bin").stat().st_size == len(batch) * out_bytes
        completed += len(batch)
    return completed


@pytest.mark.parametrize("name", SHARED_MODELS)
def test_shared_model_is_sanitizer_clean(name, tmp_path):
    assert sanitized_run(model_path(name), tmp_path) >= 5


def test_random_networks_are_sanitizer_clean(tmp_path):
    from tinycc.testing import models as M
    for seed, dtype in ((11, "int8"), (12, "float32")):
        f = tmp_path / f"net_{seed}_{dtype}.tflite"
        f.write_bytes(M.random_network(np.random.default_rng(seed), dtype))
        work = tmp_path / f.stem
        sanitized_run(f, work, seed)


def test_random_single_op_models_are_sanitizer_clean(tmp_path):
    """Random one-op models with extreme quantization and parameters (test_fuzz.random_op_model):
    the ones tinycc accepts must run clean. All the ops of a draw share one executable per model."""
    from .test_fuzz import RngChooser, random_op_model
    rng = np.random.default_rng(int(os.environ.get("TINYCC_SANITIZE_SEED", "5")))
    want = int(os.environ.get("TINYCC_SANITIZE_MODELS", "6"))
    done, tried = 0, 0
    while done < want and tried < 200:
        tried += 1
        kind, data = random_op_model(RngChooser(rng), extreme_percent=12)
        f = tmp_path / f"op{tried}_{kind.lower()}.tflite"
        f.write_bytes(data)
        try:
            driver.compile_graph(str(f))
        except TinyccError:
            continue
        sanitized_run(f, tmp_path / f.stem, tried, n_random=2)
        done += 1
    assert done == want


def test_data_dependent_ops_are_sanitizer_clean(tmp_path):
    """GATHER with indices the caller fills (any int32: invoke must fail cleanly on one out of
    range, never read outside its input) and ARG_MAX/ARG_MIN (the index they write)."""
    D = pytest.importorskip("tinycc.testing.models_datamove")
    rng = np.random.default_rng(7)
    gather = tmp_path / "gather.tflite"
    gather.write_bytes(D.gathers(rng, (4, 5, 3), [(0, 0, [[0, 3], [1, 2]], False), (1, 0, [2, 0, 4], False),
                                                  (-1, 0, [[2], [0]], False)]))
    assert sanitized_run(gather, tmp_path / "gather", allow_invoke_error=True) >= 1
    arg = tmp_path / "arg.tflite"
    arg.write_bytes(D.reductions(rng, (2, 5, 7), [("ARG_MAX", [2], False, False), ("ARG_MIN", [1], False, False),
                                                  ("ARG_MAX", [0], False, True)]))
    sanitized_run(arg, tmp_path / "arg")


def test_int8_softmax_over_1000_classes_is_sanitizer_clean(tmp_path):
    """A 1000-class int8 softmax (ImageNet-sized) on the all -128 input."""
    from tinycc.testing.tflite_writer import ModelBuilder
    b = ModelBuilder()
    x = b.tensor([1, 1000], "int8", name="logits", scale=0.05, zero_point=0)
    y = b.tensor([1, 1000], "int8", name="probs", scale=1 / 256, zero_point=-128)
    b.op("SOFTMAX", [x], [y], beta=1.0)
    f = tmp_path / "softmax1000.tflite"
    f.write_bytes(b.build([x], [y]))
    sanitized_run(f, tmp_path / "w", n_random=1)
