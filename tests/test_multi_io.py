"""Models with several inputs and outputs, declared in any order (an output listed before the
outputs it feeds, an output also read by another op, an input that is itself an output), and
zero-copy concatenation: against TFLite Micro on the host and in QEMU."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import frontend, ir
from tinycc.passes import run_pipeline
from tinycc.testing import models as M
from tinycc.testing.models_datamove import OpBuilder

from .test_fusion import run_vs_tflm


def net(seed, dtype) -> M.NetBuilder:
    nb = M.NetBuilder(np.random.default_rng(seed), dtype)
    nb.mb = OpBuilder()                      # writes CONCATENATION's options too
    return nb


def concat(nb: M.NetBuilder, xs, axis: int) -> M.Act:
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    calib = np.concatenate([x.calib.reshape((-1,) + x.shape) for x in xs], axis=axis + 1)
    out = nb._activation_tensor(shape, calib, "concat", same_as=xs[0])
    nb.mb.op("CONCATENATION", [x.index for x in xs], [out.index], axis=axis, fused_activation_function="NONE")
    return out


def conv_branches(dtype="int8", seed=0):
    """Inputs declared (b, a); outputs declared (head, b, h1): b is an input and an output, h1 an
    output also read by the concatenation; conv(a) and conv(b) are stacked along H in place."""
    nb = net(seed, dtype)
    a = nb.input((1, 6, 6, 3), name="a")
    b = nb.input((1, 4, 6, 3), name="b")
    q = dict(out_scale=0.04, out_zero_point=-20) if dtype == "int8" else {}
    h1 = nb.conv2d(a, 4, (3, 3), activation="RELU", **q)
    h2 = nb.conv2d(b, 4, (1, 1), **q)
    h3 = nb.conv2d(a, 4, (3, 3), (3, 1), "VALID", **q)      # (1, 2, 4, 4): not H-aligned, copied
    c = concat(nb, [h2, h1], axis=1)                         # (1, 10, 6, 4)
    head = nb.conv2d(c, 3, (3, 3), (2, 2))
    tail = concat(nb, [h3, nb.conv2d(h1, 4, (3, 3), (3, 1), "VALID", **q)], axis=2)
    return nb.build([b, a], [head, b, h1, tail])


def fc_fanin(dtype="float32", seed=1):
    """Three inputs declared (x3, x1, x2); FC(x1) and FC(x2) joined along the last axis, the
    model input x3 joined too (copied); outputs declared (f2, y, x3)."""
    nb = net(seed, dtype)
    x1, x2 = nb.input((1, 10), name="x1"), nb.input((1, 6), name="x2")
    q = dict(out_scale=0.05, out_zero_point=3) if dtype == "int8" else {}
    x3 = nb.input((1, 8), name="x3", **({"scale": 0.05, "zero_point": 3} if dtype == "int8" else {}))
    f1 = nb.fully_connected(x1, 8, **q)
    f2 = nb.fully_connected(x2, 8, activation="RELU", **q)
    c = concat(nb, [f1, x3, f2], axis=1)
    y = nb.fully_connected(c, 5)
    return nb.build([x3, x1, x2], [f2, y, x3])


def plan_of(data: bytes):
    from .test_passes import _assert_plan_sound
    g = run_pipeline(frontend.parse_tflite(data), verify=True)
    _assert_plan_sound(g)
    return g


def joins(g):
    return [ir.op(g, n) for n in ir.ops_in_order(g) if ir.op(g, n).kind == "CONCATENATION"]


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_declared_order_is_kept(dtype):
    g = plan_of(conv_branches(dtype))
    names = lambda ts: [ir.tensor(g, t).name for t in ts]
    assert names(g.graph["inputs"]) == ["b", "a"]
    assert names(g.graph["outputs"])[1:3] == ["b", "conv"]
    plan = g.graph["plan"]
    assert plan.offsets[g.graph["outputs"][1]] == plan.offsets[g.graph["inputs"][0]]   # b is both


def test_zero_copy_concatenation_places_inputs():
    g = plan_of(conv_branches("int8"))
    plan = g.graph["plan"]
    first, second = joins(g)
    h2, h1 = first.inputs
    assert set(first.params.zero_copy) == {h1, h2}
    out = plan.offsets[first.outputs[0]]
    assert plan.offsets[h2] == out and plan.offsets[h1] == out + ir.tensor(g, h2).nbytes
    assert ir.storage(g, h1) == (first.outputs[0], ir.tensor(g, h2).nbytes)
    # placed inputs are no buffers of their own; the join's output lives from their writers on
    assert {b.tid for b in plan.buffers}.isdisjoint({h1, h2})
    step = {o: k for k, o in enumerate(plan.order)}
    buf = next(b for b in plan.buffers if b.tid == first.outputs[0])
    assert buf.first == min(step[ir.producer(g, h1)], step[ir.producer(g, h2)])
    # along W with H > 1 the blocks are not contiguous: copied
    assert not second.params.zero_copy
    # the model input joined in fc_fanin is copied, the FC outputs are placed
    g = plan_of(fc_fanin("float32"))
    (j,) = joins(g)
    assert set(j.params.zero_copy) == {j.inputs[0], j.inputs[2]}


def test_zero_copy_emits_no_copy(tmp_path):
    from tinycc import driver
    path = tmp_path / "m.tflite"
    path.write_bytes(conv_branches("int8"))
    files = driver.build(str(path), str(tmp_path / "out"))
    assert files["model.c"].count("tcc_scatter_map(") == 2   # the W-axis join only; the H-axis one is free


@pytest.mark.parametrize("make,dtype", [(conv_branches, "int8"), (conv_branches, "float32"),
                                        (fc_fanin, "int8"), (fc_fanin, "float32")])
def test_multi_io_vs_tflm_host(make, dtype, tmp_path):
    run_vs_tflm(make(dtype), tmp_path, samples=4)


def test_multi_io_vs_tflm_qemu(tmp_path):
    run_vs_tflm(conv_branches("int8", seed=3), tmp_path / "a", mode="qemu", samples=2)
    run_vs_tflm(conv_branches("int8", seed=3), tmp_path / "b", mode="qemu", optimize="speed", samples=2)


def late_join(dtype="float32", seed=5):
    """concat(x0, x1) where x0 is written first and x1 only after a wide branch computed from x0:
    placing x1 inside the output would hold its bytes through the branch."""
    nb = net(seed, dtype)
    x = nb.input((1, 16), name="x")
    x0 = nb.fully_connected(x, 8)
    w = nb.fully_connected(nb.fully_connected(x0, 600), 600)
    x1 = nb.fully_connected(w, 200)
    return nb.build([x], [concat(nb, [x0, x1], axis=1)])


def test_zero_copy_only_when_it_does_not_cost_ram(tmp_path):
    from tinycc.passes import PIPELINE, alias_concats
    data = late_join()
    g = plan_of(data)
    copying = run_pipeline(frontend.parse_tflite(data), [p for p in PIPELINE if p is not alias_concats])
    placing = frontend.parse_tflite(data)
    for p in PIPELINE[:-1]:
        placing = p(placing)
    (j,) = joins(placing)
    assert j.params.zero_copy                   # the inputs could be placed ...
    assert g.graph["plan"].size == copying.graph["plan"].size
    (j,) = joins(g)
    assert not j.params.zero_copy               # ... but copying needs less RAM here
    run_vs_tflm(data, tmp_path, samples=2)
