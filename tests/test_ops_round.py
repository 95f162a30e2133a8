"""ROUND, the op added by the README's "Adding an op" recipe: tinycc/ops/round.py,
runtime/kernels/tcc_round.c/.h and this test, nothing else. Bit-exact with TFLite Micro on the
host (float32: every rounding case, halves to even, -0.0, large values, infinities)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, frontend, ir, ops
from tinycc.errors import TinyccError
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import reference_outputs, run_compiled

SHAPE = (2, 3, 64)


def round_model(dtype: str = "float32", const_input: np.ndarray | None = None) -> bytes:
    mb = ModelBuilder("tinycc ROUND test model")
    q = dict(scale=0.05, zero_point=3) if dtype == "int8" else {}
    if const_input is None:
        x = mb.tensor(SHAPE, dtype, **q)
        y = mb.tensor(SHAPE, dtype, **q)
        mb.op("ROUND", [x], [y])
        return mb.build([x], [y])
    # ROUND of a constant, added to the input: the ROUND folds at compile time
    x = mb.tensor(SHAPE, dtype)
    c = mb.tensor(SHAPE, dtype, data=const_input)
    r = mb.tensor(SHAPE, dtype)
    y = mb.tensor(SHAPE, dtype)
    mb.op("ROUND", [c], [r])
    mb.op("ADD", [x, r], [y])
    return mb.build([x], [y])


def special_values(rng) -> np.ndarray:
    halves = np.arange(-40, 40, dtype=np.float32) + np.float32(0.5)          # every x.5 near 0
    near = np.nextafter(halves, np.float32(np.inf)), np.nextafter(halves, np.float32(-np.inf))
    big = np.float32(2.0 ** 22) + np.arange(-3, 3, dtype=np.float32) * np.float32(0.5)   # halves up to 2^22
    edge = np.array([0.0, -0.0, 0.49999997, -0.49999997, 2.0 ** 23 + 1, -(2.0 ** 24), 3.4e38, -3.4e38,
                     np.inf, -np.inf, 1e-45, -1e-45], np.float32)
    vals = np.concatenate([halves, *near, big, edge, (rng.standard_normal(384) * 100).astype(np.float32)])
    return np.resize(vals, SHAPE).astype(np.float32)


ROOT = Path(__file__).resolve().parent.parent
OWN_FILES = {"tinycc/ops/round.py", "runtime/kernels/tcc_round.c", "runtime/kernels/tcc_round.h"}


def test_registered_by_its_module_alone():
    """Nothing outside its own files knows the op: the registry finds the module, codegen copies
    the kernel the op names (test-model generators in tinycc/testing name ops as a model does)."""
    spec = ops.lookup("ROUND")
    assert spec is not None and spec.kernel == "tcc_round"
    assert spec.reads_min is not ops.OpDef.reads_min     # it runs in place
    for path in [*ROOT.joinpath("tinycc").rglob("*.py"), *ROOT.joinpath("runtime").rglob("*.[ch]")]:
        rel = path.relative_to(ROOT).as_posix()
        if rel not in OWN_FILES and not rel.startswith("tinycc/testing/"):
            assert not re.search(r"\bROUND\b|\btcc_round(_f32\b|\.)", path.read_text()), rel


def test_round_float32_bit_exact(tmp_path):
    path = tmp_path / "round.tflite"
    path.write_bytes(round_model())
    g = frontend.load_tflite(str(path))
    rng = np.random.default_rng(0)
    batches = [[special_values(rng)], [(rng.standard_normal(SHAPE) * 3).astype(np.float32)]]
    ours, _ = run_compiled(path, batches, tmp_path, "host", g=g)
    refs = reference_outputs(path, batches, 1)
    for o, r in zip(ours, refs):
        r = np.asarray(r[0]).reshape(SHAPE)
        assert o[0].tobytes() == r.tobytes()        # bit for bit, -0.0 included
        assert np.array_equal(o[0], np.rint(o[0]))  # and halves to even


def test_round_runs_in_place(tmp_path):
    """Its reads_min lets the planner put the output on the input: one buffer of 2*3*64 floats."""
    path = tmp_path / "round.tflite"
    path.write_bytes(round_model())
    g = driver.compile_graph(str(path))
    plan = g.graph["plan"]
    (x,), (y,) = g.graph["inputs"], g.graph["outputs"]
    assert plan.offsets[x] == plan.offsets[y] and plan.size == 2 * 3 * 64 * 4


def test_round_of_constant_folds(tmp_path):
    c = special_values(np.random.default_rng(1))
    c[~np.isfinite(c)] = 0            # the ADD's float32 sum stays finite
    c = np.clip(c, -1e6, 1e6)
    path = tmp_path / "round_const.tflite"
    path.write_bytes(round_model(const_input=c))
    g = driver.compile_graph(str(path))
    assert [ir.op(g, o).kind for o in ir.ops_in_order(g)] == ["ADD"]       # ROUND was computed now
    batches = [[np.zeros(SHAPE, np.float32)]]
    ours, _ = run_compiled(path, batches, tmp_path, "host", g=g)
    assert ours[0][0].tobytes() == np.asarray(reference_outputs(path, batches, 1)[0][0]).reshape(SHAPE).tobytes()


def test_round_int8_refused(tmp_path):
    path = tmp_path / "round_int8.tflite"
    path.write_bytes(round_model("int8"))
    with pytest.raises(TinyccError, match=r"operator 0 \(ROUND\).*float32 kernel"):
        driver.build(str(path), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
