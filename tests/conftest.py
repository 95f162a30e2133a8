"""Shared fixtures: where the MLPerf Tiny models are, and how to run a compiled model.

TINYCC_MODELS names the folder of the shared models. When it is set (as .ci/run does),
a missing model is a test failure, not a skip.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, ir, toolchain
from tinycc.verify import NUMPY, Reference

REPO = Path(__file__).resolve().parents[1]
MODELS_ENV = os.environ.get("TINYCC_MODELS")
MODELS_DIR = Path(MODELS_ENV) if MODELS_ENV else REPO.parent / "shared" / "models"

SHARED_MODELS = ["kws_ref_model", "kws_ref_model_float32", "vww_96_int8", "ic_resnet8_int8", "ad01_int8",
                 "ad01_fp32"]


def model_path(name: str) -> Path:
    p = MODELS_DIR / f"{name}.tflite"
    if not p.is_file():
        if MODELS_ENV:
            pytest.fail(f"TINYCC_MODELS={MODELS_ENV} is set but {p} is missing")
        pytest.skip(f"{p} not found (set TINYCC_MODELS)")
    return p


def needs_qemu():
    if not (toolchain.have_arm_toolchain() and toolchain.have_qemu()):
        if os.environ.get("CI"):
            pytest.fail("arm-none-eabi-gcc and qemu-system-arm are required in CI")
        pytest.skip("arm-none-eabi-gcc / qemu-system-arm not installed")


def random_batch(g, rng, samples):
    from tinycc.verify import random_inputs
    return [random_inputs(g, rng) for _ in range(samples)]


def run_compiled(model_file: Path, batches, work: Path, mode: str = "host", target: str = "cortex-m4", g=None,
                 optimize: str | None = None, flash_budget: int | None = None):
    """Build ``model_file`` with tinycc (``optimize`` as ``tinycc build --optimize``, None for the
    target's default; ``flash_budget`` as ``--flash-budget``), run every sample, return
    ([[output arrays] per sample], instructions)."""
    out = work / "out"
    driver.build(str(model_file), str(out), "model", "generic" if mode == "host" else target, optimize=optimize,
                 flash_budget=flash_budget)
    if g is None:
        g = driver.compile_graph(str(model_file))
    exe = toolchain.build_harness(out, work / ("h" if mode == "host" else "h.elf"), mode=mode, target=target)
    blob = b"".join(x.tobytes() for xs in batches for x in xs)
    raw, _, instr = toolchain.run_samples(exe, blob, len(batches), mode=mode, target=target,
                                          workdir=work / "run", timeout=300)
    outs = [ir.tensor(g, t) for t in g.graph["outputs"]]
    per = sum(t.nbytes for t in outs)
    assert len(raw) == per * len(batches)
    result = []
    for s in range(len(batches)):
        row, pos = [], s * per
        for t in outs:
            row.append(np.frombuffer(raw[pos:pos + t.nbytes], dtype=NUMPY[t.dtype]).reshape(t.shape))
            pos += t.nbytes
        result.append(row)
    return result, instr


def reference_outputs(model_file: Path, batches, n_outputs: int | None = None, allow_litert: bool = False):
    """The reference's outputs: TFLite Micro; TFLite (LiteRT) only where a test allows it
    (hybrid models, which TFLite Micro refuses), so no test passes against the wrong reference."""
    if n_outputs is None:
        n_outputs = len(driver.compile_graph(str(model_file)).graph["outputs"])
    ref = Reference(str(model_file), n_outputs)
    if not allow_litert:
        assert ref.name == "TFLite Micro", f"TFLite Micro refused {model_file.name}; reference was {ref.name}"
    return [ref.run(xs) for xs in batches]


def assert_match(ours, refs, float_tol=None):
    """int outputs bit-exact; float within the verify tolerance (or float_tol)."""
    from tinycc.verify import FLOAT_ATOL, FLOAT_RTOL
    for s, (o_row, r_row) in enumerate(zip(ours, refs)):
        for i, (o, r) in enumerate(zip(o_row, r_row)):
            r = np.asarray(r).reshape(o.shape)
            if o.dtype == np.float32:
                atol, rtol = float_tol or (FLOAT_ATOL, FLOAT_RTOL)
                np.testing.assert_allclose(o, r, rtol=rtol, atol=atol, err_msg=f"sample {s} output {i}")
            else:
                bad = np.flatnonzero(o.reshape(-1) != r.reshape(-1).astype(o.dtype))
                assert bad.size == 0, (f"sample {s} output {i}: {bad.size} of {o.size} values differ, first at "
                                       f"{bad[0]}: ours {o.reshape(-1)[bad[0]]} ref {r.reshape(-1)[bad[0]]}")


@pytest.fixture
def check_model(tmp_path):
    """Build, run on the host (or QEMU) and compare a model file with the reference."""
    def check(model_file, samples=5, seed=0, mode="host", target="cortex-m4", allow_litert=False):
        g = driver.compile_graph(str(model_file))
        batches = random_batch(g, np.random.default_rng(seed), samples)
        ours, instr = run_compiled(Path(model_file), batches, tmp_path, mode, target, g=g)
        assert_match(ours, reference_outputs(Path(model_file), batches, len(g.graph["outputs"]), allow_litert))
        return instr
    return check
