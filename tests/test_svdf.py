"""SVDF (tinycc/ops/svdf.py, runtime/kernels/tcc_svdf.c) against TFLite Micro over sequences of
invokes on one interpreter: float32 and int8 with an int16 or int8 state, rank 1 and 2, several
batches, fused activations; and the refusals where TFLite Micro refuses."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver, ir
from tinycc.errors import TinyccError
from tinycc.testing.models_sequence import svdf_model
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import assert_match, needs_qemu, random_batch, reference_outputs, run_compiled

STEPS = 12    # invokes per sequence: longer than every memory below, so the state wraps


CASES = {
    "f32": dict(dtype="float32"),
    "f32_relu_b2": dict(dtype="float32", activation="RELU", batches=2, rank=1, memory=3),
    "s8_s16": dict(dtype="int8"),
    "s8_s16_b3_r1": dict(dtype="int8", batches=3, rank=1, filters=6, memory=4, input_size=11, seed=3),
    "s8_s8": dict(dtype="int8", state_dtype="int8", seed=1),
}


@pytest.mark.parametrize("case", list(CASES))
def test_svdf_sequence_matches_tflm(tmp_path, case):
    model = tmp_path / f"svdf_{case}.tflite"
    model.write_bytes(svdf_model(**CASES[case]))
    g = driver.compile_graph(str(model))
    batches = random_batch(g, np.random.default_rng(7), STEPS)
    ours, _ = run_compiled(model, batches, tmp_path, g=g)
    refs = reference_outputs(model, batches, 1)
    assert_match(ours, refs)
    # the state matters: the same input gives other outputs later in the sequence
    assert any(not np.array_equal(r[0], refs[0][0]) for r in refs[1:])


def _svdf_with(mutate, bias: bool = True) -> bytes:
    mb = ModelBuilder()
    args = dict(x=([1, 4], "float32"), wf=([2, 4], "float32"), wt=([2, 3], "float32"), st=([1, 6], "float32"),
                y=([1, 2], "float32"))
    variable = mutate(args)
    x = mb.tensor(*args["x"])
    wf = mb.tensor(*args["wf"], data=np.ones(args["wf"][0], np.float32))
    wt = mb.tensor(*args["wt"], data=np.ones(args["wt"][0], np.float32))
    st = mb.tensor(*args["st"], variable=variable, name="state")
    b = mb.tensor([2], "float32", data=np.zeros(2, np.float32)) if bias else -1
    y = mb.tensor(*args["y"])
    mb.op("SVDF", [x, wf, wt, b, st], [y], rank=1)
    return mb.build([x], [y])


@pytest.mark.parametrize("mutate, message", [
    (lambda a: False, "neither a constant, a model input nor written"),   # state not is_variable
    (lambda a: a.update(st=([1, 5], "float32")) or True, "does not match"),
    (lambda a: a.update(x=([1, 4], "int16"), y=([1, 2], "int16")) or True, "input type int16"),
    (lambda a: True, "without a bias"),
])
def test_svdf_refusals(tmp_path, mutate, message):
    model = tmp_path / "bad.tflite"
    model.write_bytes(_svdf_with(mutate, bias="bias" not in message))
    with pytest.raises(TinyccError, match=message) as e:
        driver.compile_graph(str(model))
    assert "SVDF" in str(e.value)


@pytest.mark.parametrize("case", ["s8_s16", "s8_s16_b3_r1"])
def test_svdf_dsp_kernel_qemu(tmp_path, case):
    """tcc_arm_svdf_s8_s16 (the cortex-m4 build's kernel: rank 2 with an odd memory; 3 batches and
    6 filters, a partial block of 4, 11 inputs: the last 3 in a zero-padded word) against TFLite
    Micro over a sequence of invokes in QEMU."""
    needs_qemu()
    model = tmp_path / f"svdf_{case}.tflite"
    model.write_bytes(svdf_model(**CASES[case]))
    g = driver.compile_graph(str(model), target="cortex-m4", optimize="speed")
    assert [ir.op(g, oid).params.packed.impl for oid in ir.ops_in_order(g)] == ["arm_svdf_s8_s16"]
    batches = random_batch(g, np.random.default_rng(8), STEPS)
    ours, _ = run_compiled(model, batches, tmp_path, "qemu", g=g)
    assert_match(ours, reference_outputs(model, batches, 1))
    assert list((tmp_path / "out").glob("*tcc_arm_svdf.c"))
