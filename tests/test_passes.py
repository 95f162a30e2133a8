"""Unit tests per pass: graphs before and after, invariants, and the planner's no-overlap rule."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest

from tinycc import frontend, ir, quant
from tinycc.passes import PIPELINE, alias_reshapes, check_operators, fold_quantization, plan_arena, run_pipeline
from tinycc.passes.plan_arena import check_plan, scratch_id
from tinycc.testing import models as M

from .conftest import SHARED_MODELS, model_path


def kinds(g):
    return [ir.op(g, n).kind for n in ir.ops_in_order(g)]


def test_pipeline_is_one_list_of_verb_noun_functions():
    assert [p.__name__ for p in PIPELINE] == ["fold_constants", "check_operators", "alias_reshapes",
                                              "fold_quantization", "fuse_ops", "alias_concats", "compress_weights",
                                              "pack_weights",
                                              "plan_arena"]


def test_alias_reshapes_turns_reshape_into_a_view():
    g = frontend.parse_tflite(M.reshape(np.random.default_rng(0), (1, 4, 3, 2), (1, 24), "int8"))
    assert kinds(g) == ["RESHAPE"]
    g = alias_reshapes(check_operators(g))
    ir.check_invariants(g)
    assert kinds(g) == []
    (src,), (dst,) = g.graph["inputs"], g.graph["outputs"]
    assert g.has_edge(src, dst) and ir.view_source(g, dst) == src


def test_alias_reshapes_on_kws_keeps_everything_else():
    g = frontend.load_tflite(str(model_path("kws_ref_model")))
    before = kinds(g)
    g = alias_reshapes(check_operators(g))
    ir.check_invariants(g)
    assert kinds(g) == [k for k in before if k != "RESHAPE"]


def test_fold_quantization_computes_prepare_constants():
    g = frontend.load_tflite(str(model_path("kws_ref_model")))
    g = fold_quantization(alias_reshapes(check_operators(g)))
    ir.check_invariants(g)
    for n in ir.ops_in_order(g):
        o = ir.op(g, n)
        if o.kind not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            continue
        x, w, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        axis = 3 if o.kind == "DEPTHWISE_CONV_2D" else 0
        sums = np.moveaxis(w.data.astype(np.int64), axis, 0).reshape(w.shape[axis], -1).sum(1)
        np.testing.assert_array_equal(o.params.bias, b.data - x.quant.zero_point[0] * sums)
        for m, s, fs in zip(o.params.mult, o.params.shift, w.quant.scale * (w.shape[axis] // len(w.quant.scale))):
            assert 2**30 <= m < 2**31 and -31 <= s <= 30
            real = x.quant.scale[0] * fs / y.quant.scale[0]
            assert math.isclose(m * 2.0 ** (s - 31), real, rel_tol=2**-30)
        lo, hi = o.params.act_range
        assert -128 <= lo <= hi <= 127


def test_quantize_multiplier_known_values():
    assert quant.quantize_multiplier(0.5) == (2**30, 0)
    assert quant.quantize_multiplier(1.0) == (2**30, 1)
    assert quant.quantize_multiplier(0.0) == (0, 0)
    assert quant.quantize_multiplier(2.0**-40) == (0, 0)      # below 2^-31 flushes to zero
    assert quant.quantize_multiplier(0.75) == (3 * 2**29, 0)
    m, s = quant.quantize_multiplier(1 - 2**-40)              # rounds up to 2^31: renormalized
    assert (m, s) == (2**30, 1)


def test_padding_amount_matches_tflite():
    assert quant.padding_amount("SAME", 49, 10, 2) == (25, 4)
    assert quant.padding_amount("VALID", 10, 3, 2) == (4, 0)
    assert quant.padding_amount("SAME", 8, 3, 1, dilation=2) == (8, 2)


def _assert_plan_sound(g):
    """Live-together buffers share no byte unless an overlap rule allows it (check_plan);
    every op's tensors and scratch are live while it runs; views share their source's bytes."""
    plan = g.graph["plan"]
    check_plan(plan)
    step = {oid: k for k, oid in enumerate(plan.order)}
    life = {b.tid: (b.first, b.last) for b in plan.buffers}
    for b in plan.buffers:
        if not b.tid.startswith("scratch:"):
            assert b.size >= ir.tensor(g, b.tid).nbytes
    for oid in plan.order:
        o = ir.op(g, oid)
        for t in [*o.inputs, *o.outputs]:
            if t is None or ir.tensor(g, t).is_const:
                continue
            owner, off = ir.storage(g, t)          # views and inputs placed inside a join's output
            first, last = life[owner]
            assert first <= step[oid] <= last
            assert plan.offsets[t] == plan.offsets[owner] + off
            assert off + ir.tensor(g, t).nbytes <= ir.tensor(g, owner).nbytes
        sid = scratch_id(o)
        if sid in life:
            assert life[sid] == (step[oid], step[oid])
    for t in g.graph["outputs"]:
        assert life[ir.storage(g, t)[0]][1] == len(plan.order)
    # overlap rules only ever pair an op's output with an input that dies at that op
    for r in plan.overlaps:
        o = ir.op(g, r.op)
        assert r.out in o.outputs and r.inp in {ir.view_source(g, t) for t in o.inputs if t}
        assert life[r.inp][1] == step[r.op]


@pytest.mark.parametrize("name", SHARED_MODELS)
def test_plan_arena_no_overlap_shared_models(name):
    t0 = time.process_time()
    g = run_pipeline(frontend.load_tflite(str(model_path(name))), verify=True)
    cpu = time.process_time() - t0
    assert cpu < 2.0, f"{name}: the pipeline took {cpu:.2f} s of CPU"     # planning included
    _assert_plan_sound(g)


@pytest.mark.parametrize("seed", range(40))
def test_plan_arena_no_overlap_random_networks(seed):
    dtype = "int8" if seed % 2 else "float32"
    g = run_pipeline(frontend.parse_tflite(M.random_network(np.random.default_rng(seed), dtype)), verify=True)
    _assert_plan_sound(g)
    plan = g.graph["plan"]
    assert plan.size <= 1.05 * plan.lower_bound() + 1024     # the planner issue's bar for unseen models


def test_plan_arena_reuses_memory_on_a_chain():
    g = run_pipeline(frontend.load_tflite(str(model_path("kws_ref_model"))))
    plan = g.graph["plan"]
    total = sum(b.size for b in plan.buffers)
    assert plan.size < total / 5
    # in-place depthwise and pointwise: below the tensor-level bound (two 8000 B tensors)
    assert plan.size < plan.lower_bound() * 0.6


def test_greedy_rule_order_keeps_an_exactly_pair_together():
    """vww step 3 with the in-place dw8 ring (issue 14): the output ("exactly" 0 on its input)
    is placed right after the input, before the larger output of the next op takes offset 0
    (which left the ring's output only the top: 46,080 B instead of 36,864)."""
    from tinycc.passes.plan_arena import Overlap, _Problem, greedy_rule_order
    sizes = {"x": 36864, "y": 9216, "z": 18432}
    life = {"x": (2, 3), "y": (3, 4), "z": (4, 5)}
    rules = {("x", "y"): Overlap("x", "y", 0, "dw", "exactly"), ("y", "z"): Overlap("y", "z", -9184, "conv")}
    placed = greedy_rule_order(_Problem(sizes, life, rules))
    assert placed["y"] == placed["x"] == 0
    assert max(placed[t] + sizes[t] for t in sizes) == 36864


def test_verify_catches_a_broken_graph():
    g = run_pipeline(frontend.load_tflite(str(model_path("ad01_int8"))))
    oid = g.graph["plan"].order[0]
    g.remove_edge(ir.op(g, oid).inputs[0], oid)
    with pytest.raises(Exception, match="reads"):
        ir.check_invariants(g)


ARENA_LIMITS = {"kws_ref_model": 9000, "vww_96_int8": 40000, "ic_resnet8_int8": 36000, "ad01_int8": 1000}


@pytest.mark.parametrize("name", sorted(ARENA_LIMITS))
def test_arena_beats_the_planner_issue_limits(name):
    """Arena alone well inside the RAM limits (stack and .data come on top; see test_ram)."""
    g = run_pipeline(frontend.load_tflite(str(model_path(name))))
    assert g.graph["plan"].size <= ARENA_LIMITS[name] - 150


def test_pack_weights_flash_budget(tmp_path):
    """--flash-budget: the fast FC kernel with widened weights (int16 pairs, twice the flash) only
    when its extra bytes fit, else its int8-weight variant (slightly larger records), else the
    plain kernel; the default budget is 1.10 x the model's constants + 16 KB, and the header shows
    flash next to the model's constant bytes."""
    from tinycc import driver, ops
    from tinycc.cli import main
    path = tmp_path / "fc.tflite"
    path.write_bytes(M.fully_connected(np.random.default_rng(2), (1, 512), 64, "RELU", "int8"))

    def impl(**kw):
        g = driver.compile_graph(str(path), target="cortex-m4", **kw)
        (oid,) = [o for o in ir.ops_in_order(g) if ir.op(g, o).kind == "FULLY_CONNECTED"]
        return g, ops.kernel_impl(ir.op(g, oid))

    g, kernel = impl()
    consts = g.graph["model_const_bytes"]
    assert consts >= 512 * 64 and g.graph["flash_budget"] == round(1.10 * consts + 16 * 1024)
    assert kernel == "arm_fc8"                  # int8 weights; 32 KB of widening does not fit 0.10 x 33 KB + 16 KB
    assert impl(flash_budget=consts)[1] == "plain"
    assert impl(flash_budget=3 * consts)[1] == "arm_fc8"    # the fastest too: widening buys nothing now
    assert impl(flash_budget=3 * consts, optimize="memory")[1] == "plain"
    assert main(["build", str(path), "-o", str(tmp_path / "out"), "--target", "cortex-m4", "--no-stack",
                 "--flash-budget", str(3 * consts)]) == 0
    header = (tmp_path / "out" / "model.h").read_text()
    assert f"the model's own constants {consts} B; flash budget\n * {3 * consts} B" in header
    assert "tcc_arm_fc8_s8" in (tmp_path / "out" / "model.c").read_text()
    assert main(["build", str(path), "-o", str(tmp_path / "o2"), "--flash-budget", "0"]) == 2
