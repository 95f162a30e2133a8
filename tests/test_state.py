"""Persistent state (``ir.Tensor.variable``): its own region, NAME_STATE_BYTES, NAME_reset,
NAME_reset_state / NAME_invoke_with_state (and --app-arena), the header and report listing the
state buffers; consecutive invokes continue one sequence as consecutive TFLite Micro invokes on
one interpreter do (on the host and, for one model, on a Cortex-M4 in QEMU)."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from tinycc import driver, ir, toolchain
from tinycc.errors import TinyccError
from tinycc.report import format_text
from tinycc.testing.models_sequence import svdf_model
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import assert_match, needs_qemu, random_batch, reference_outputs, run_compiled

STEPS = 10

# Reads STEPS inputs from stdin and writes the output sequence three times: with the static state,
# again after NAME_reset(), and on the application's own arena and state.
APP_C = r"""
#include "model.h"
#include <stdio.h>
#include <string.h>
#define STEPS %(steps)d
static union { double d; unsigned char b[model_ARENA_BYTES + 8]; } arena;
static union { double d; unsigned char b[model_STATE_BYTES + 8]; } state;
static unsigned char in[STEPS][64];
int main(void)
{
    size_t n = model_input_bytes(0);
    int s, pass;
    for (s = 0; s < STEPS; ++s) {
        if (fread(in[s], 1, n, stdin) != n) return 2;
    }
    for (pass = 0; pass < 2; ++pass) {
        for (s = 0; s < STEPS; ++s) {
            memcpy(model_input(0), in[s], n);
            if (model_invoke() != 0) return 1;
            fwrite(model_output(0), 1, model_output_bytes(0), stdout);
        }
        if (model_reset() != 0) return 3;
    }
    if (model_reset_state(NULL) != -1 || model_reset_state(state.b + 1) != -1) return 4;
    if (model_invoke_with_state(arena.b, state.b + 2) != -1) return 5;
    if (model_reset_state(state.b) != 0) return 6;
    for (s = 0; s < STEPS; ++s) {
        memcpy(arena.b + model_input_offset(0), in[s], n);
        if (model_invoke_with_state(arena.b, state.b) != 0) return 1;
        fwrite(arena.b + model_output_offset(0), 1, model_output_bytes(0), stdout);
    }
    return 0;
}
"""


def _svdf(tmp_path, **kw):
    model = tmp_path / "svdf.tflite"
    model.write_bytes(svdf_model("int8", **kw))
    return model


def test_state_region_apart_from_the_arena(tmp_path):
    model = _svdf(tmp_path, state_dtype="int8", batches=2)
    g = driver.compile_graph(str(model))
    plan = g.graph["plan"]
    (state,) = [t for t in g.nodes if not ir.is_op(g, t) and ir.tensor(g, t).variable]
    assert plan.state == {state: 0} and plan.state_size == ir.tensor(g, state).nbytes
    assert state not in plan.offsets and all(b.tid != state for b in plan.buffers)
    files = driver.build(str(model), str(tmp_path / "out"), "kws", stack=False)
    h = files["kws.h"]
    assert f"#define kws_STATE_BYTES {plan.state_size}" in h and "int kws_reset(void);" in h
    zp = ir.tensor(g, state).quant.zero_point[0] & 0xFF
    assert f"init {zp}  int8 2x{ir.tensor(g, state).shape[1]}  state  (op0 SVDF)" in h
    assert f"memset(state + 0, {zp}, {plan.state_size});" in files["kws.c"]
    rep = format_text(driver.report(str(model), "kws", measure=False))
    assert f"state {plan.state_size} B, kept between invokes" in rep


def test_stateless_model_has_an_empty_state(tmp_path):
    mb = ModelBuilder()
    x, y = mb.tensor([1, 4], "float32"), mb.tensor([1, 4], "float32")
    mb.op("TANH", [x], [y])
    (tmp_path / "m.tflite").write_bytes(mb.build([x], [y]))
    files = driver.build(str(tmp_path / "m.tflite"), str(tmp_path / "out"), "m", stack=False)
    assert "#define m_STATE_BYTES 0" in files["m.h"] and "int m_reset(void);" in files["m.h"]
    assert "State buffers" not in files["m.h"] and "memset" not in files["m.c"]


def assert_reset_repeats_the_sequence(tmp_path, model) -> np.ndarray:
    """APP_C on an int8 model: its STEPS outputs with the static state, after NAME_reset() and on
    the application's own state all equal TFLite Micro's sequence (returned, [STEPS, -1])."""
    g = driver.compile_graph(str(model))
    batches = random_batch(g, np.random.default_rng(1), STEPS)
    ref = np.stack([r[0].reshape(-1) for r in reference_outputs(model, batches, 1)])
    driver.build(str(model), str(tmp_path / "model"), "model", stack=False)
    (tmp_path / "app.c").write_text(APP_C % dict(steps=STEPS))
    exe = toolchain.build_host([tmp_path / "app.c", *sorted((tmp_path / "model").glob("*.c"))],
                               [tmp_path / "model"], tmp_path / "app")
    r = subprocess.run([str(exe)], input=b"".join(b[0].tobytes() for b in batches), capture_output=True, timeout=60)
    assert r.returncode == 0, r.returncode
    out = np.frombuffer(r.stdout, np.int8).reshape(3, STEPS, -1)
    for k in range(3):   # static state, after NAME_reset(), the application's state
        assert np.array_equal(out[k], ref), k
    return ref


def test_reset_and_application_state_repeat_the_sequence(tmp_path):
    ref = assert_reset_repeats_the_sequence(tmp_path, _svdf(tmp_path, seed=4))
    assert len({row.tobytes() for row in ref}) > 1


def test_app_arena_passes_the_state_too(tmp_path):
    model = _svdf(tmp_path, state_dtype="int8", seed=2)
    files = driver.build(str(model), str(tmp_path / "model"), "model", app_arena=True, stack=True)
    h = files["model.h"]
    assert "model_invoke_with_arena" not in h and "int model_invoke_with_state(void *arena, void *state);" in h
    assert "model_state;" not in files["model.c"]      # no static state: the application's
    if toolchain.have_arm_toolchain():                 # the stack is measured from the entry that exists
        assert h.split("Stack: ")[1].startswith("model_invoke_with_state needs at most")


@pytest.mark.parametrize("role", ["output", "written"])
def test_variable_tensor_refusals(tmp_path, role):
    mb = ModelBuilder()
    x = mb.tensor([1, 4], "float32")
    v = mb.tensor([1, 4], "float32", variable=True, name="v")
    if role == "output":
        y = mb.tensor([1, 4], "float32")
        mb.op("TANH", [x], [y])
        data = mb.build([x], [y, v])
    else:
        mb.op("TANH", [x], [v])
        data = mb.build([x], [x])
    (tmp_path / "m.tflite").write_bytes(data)
    with pytest.raises(TinyccError, match="variable \\(state\\) tensor") as e:
        driver.compile_graph(str(tmp_path / "m.tflite"))
    assert "tensor 'v'" in str(e.value)


def test_sequence_in_qemu(tmp_path):
    """One stateful model on a Cortex-M4 (QEMU): int8 SVDF with an int16 state, 2 batches."""
    needs_qemu()
    model = _svdf(tmp_path, batches=2, rank=2, filters=8, memory=6, seed=5)
    g = driver.compile_graph(str(model), target="cortex-m4")
    batches = random_batch(g, np.random.default_rng(3), 12)
    ours, _ = run_compiled(model, batches, tmp_path, mode="qemu", target="cortex-m4", g=g)
    assert_match(ours, reference_outputs(model, batches, 1))


# -- resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, CALL_ONCE) -----------------

@pytest.mark.parametrize("dtype, init", [("float32", True), ("int8", True), ("int8", False)])
def test_resource_variable_sequence_matches_tflm(tmp_path, dtype, init):
    from tinycc.testing.models_sequence import accumulator_model
    model = tmp_path / "acc.tflite"
    model.write_bytes(accumulator_model(dtype, init=init, seed=3))
    g = driver.compile_graph(str(model))
    (var,) = [t for t in g.nodes if not ir.is_op(g, t) and ir.tensor(g, t).variable]
    assert (ir.tensor(g, var).init is not None) == init      # CALL_ONCE's constant, or the zero point
    assert not any(ir.is_op(g, n) and ir.op(g, n).kind in ("VAR_HANDLE", "CALL_ONCE") for n in g.nodes)
    batches = random_batch(g, np.random.default_rng(2), STEPS)
    if dtype == "int8":   # small steps, so the sum takes a while to saturate
        batches = [[np.clip(b[0] // 16, -8, 8).astype(np.int8)] for b in batches]
    ours, _ = run_compiled(model, batches, tmp_path, g=g)
    refs = reference_outputs(model, batches, 1)
    assert_match(ours, refs)
    assert not np.array_equal(refs[0][0], refs[-1][0])


def test_read_before_assign_keeps_model_order(tmp_path):
    from tinycc.passes.plan_arena import candidate_orders
    from tinycc.testing.models_sequence import delay_model
    model = tmp_path / "delay.tflite"
    model.write_bytes(delay_model("int8"))
    g = driver.compile_graph(str(model))
    kinds = {n: ir.op(g, n).kind for n in g.nodes if ir.is_op(g, n)}
    read = next(n for n, k in kinds.items() if k == "READ_VARIABLE")
    assign = next(n for n, k in kinds.items() if k == "ASSIGN_VARIABLE")
    assert all(o.index(read) < o.index(assign) for o in candidate_orders(g))
    batches = random_batch(g, np.random.default_rng(0), STEPS)
    ours, _ = run_compiled(model, batches, tmp_path, g=g)
    refs = reference_outputs(model, batches, 1)
    assert_match(ours, refs)
    for k in range(1, STEPS):   # the output is the previous input
        assert np.array_equal(ours[k][0], batches[k - 1][0])


def test_init_subgraph_with_other_ops_is_refused(tmp_path):
    mb = ModelBuilder()
    x, y = mb.tensor([1, 2], "float32"), mb.tensor([1, 2], "float32")
    mb.op("CALL_ONCE", [], [], init_subgraph_index=1)
    mb.op("TANH", [x], [y])
    mb.subgraph()
    a, b = mb.tensor([1, 2], "float32"), mb.tensor([1, 2], "float32")
    mb.op("TANH", [a], [b])
    (tmp_path / "m.tflite").write_bytes(mb.build([x], [y]))
    with pytest.raises(TinyccError, match="init subgraph may only assign constants"):
        driver.compile_graph(str(tmp_path / "m.tflite"))


def test_three_kinds_of_state_in_qemu(tmp_path):
    """SVDF, LSTM and a resource variable in one float32 model, one sequence on a Cortex-M4 (QEMU):
    four state tensors side by side in the state region, none in the arena."""
    needs_qemu()
    from tinycc.passes.plan_arena import check_plan
    from tinycc.testing.models_sequence import stream_model
    model = tmp_path / "stream.tflite"
    model.write_bytes(stream_model(seed=1))
    g = driver.compile_graph(str(model), target="cortex-m4")
    plan = g.graph["plan"]
    check_plan(plan)
    sizes = {t: ir.tensor(g, t).nbytes for t in plan.state}
    assert len(sizes) == 4 and plan.state_size == sum(sizes.values())
    assert sorted(plan.state.values()) == [0, 160, 172, 184]   # SVDF 160 B, LSTM hidden and cell, the sum
    batches = random_batch(g, np.random.default_rng(4), STEPS)
    ours, _ = run_compiled(model, batches, tmp_path, mode="qemu", target="cortex-m4", g=g)
    assert_match(ours, reference_outputs(model, batches, 1))


def test_variable_tensor_read_by_a_stateless_op_is_refused(tmp_path):
    mb = ModelBuilder()
    x, y = mb.tensor([1, 4], "float32"), mb.tensor([2, 2], "float32")
    v = mb.tensor([1, 4], "float32", variable=True, name="v")
    mb.op("RESHAPE", [v], [y], new_shape=[2, 2])
    (tmp_path / "m.tflite").write_bytes(mb.build([x], [y]))
    with pytest.raises(TinyccError, match="does not keep") as e:
        driver.compile_graph(str(tmp_path / "m.tflite"))
    assert "RESHAPE" in str(e.value) and "tensor 'v'" in str(e.value)


@pytest.mark.parametrize("app_arena", [False, True], ids=["static", "app_arena"])
def test_selftest_of_a_stateful_model_starts_from_the_initial_state(tmp_path, app_arena):
    """NAME_selftest() checks TFLite Micro's first step: it passes twice in a row (it resets the state,
    or with --app-arena uses a state buffer of its own)."""
    from tinycc.testing.models_sequence import stream_model
    model = tmp_path / "stream.tflite"
    model.write_bytes(stream_model(seed=2))
    out = tmp_path / "m"
    import tinycc
    tinycc.build(str(model), str(out), name="m", app_arena=app_arena, selftest=True, measure=False)
    call = "m_selftest(ar.b)" if app_arena else "m_selftest()"
    (tmp_path / "app.c").write_text(
        '#include "m.h"\nstatic union { double d; unsigned char b[m_ARENA_BYTES]; } ar;\n'
        f"int main(void) {{ (void)ar; return {call} != 0 || {call} != 0; }}\n")
    exe = toolchain.build_host([tmp_path / "app.c", *sorted(out.glob("*.c"))], [out], tmp_path / "app")
    assert subprocess.run([str(exe)], timeout=60).returncode == 0
