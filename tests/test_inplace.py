"""In-place execution: every op's overlap rule, pushed to its limit, on random shapes.

For each single-op model the planner's rule for (input, output) is taken at its most
aggressive offset difference (the largest allowed for "at_most", the allowed ones for
"exactly"/"multiple"), the arena plan is forced to it, and the generated C must still
match TFLite Micro exactly. A rule that is too permissive fails here.
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from tinycc import codegen, driver, ir, toolchain
from tinycc.passes.plan_arena import ALIGN, check_plan, make_plan, plan_order, scratch_id
from tinycc.testing import models as M

from .conftest import assert_match, random_batch, reference_outputs


def _forced_plan(g, d: int, check: bool = True):
    """Place the op's input at a base offset and its output d bytes from it, scratch above."""
    order = list(g.graph["plan"].order)
    prob, rules = plan_order(g, order)
    (oid,) = order
    o = ir.op(g, oid)
    src, out = ir.view_source(g, o.inputs[0]), o.outputs[0]
    base = max(0, -d)
    placed = {src: base, out: base + d}
    top = max(base + prob.sizes[src], base + d + prob.sizes[out])
    for t in prob.ids:
        if t not in placed:           # other inputs, scratch: above everything
            placed[t] = (top + ALIGN - 1) // ALIGN * ALIGN
            top = placed[t] + prob.sizes[t]
    plan = make_plan(g, order, prob, rules, placed, "forced")
    if check:
        check_plan(plan)
    return plan


def _run_forced(path, d, tmp_path, samples=3, seed=0, check=True):
    g = driver.compile_graph(str(path))
    g.graph["plan"] = _forced_plan(g, d, check)
    out = tmp_path / f"out{d}"
    out.mkdir()
    for name, text in codegen.generate(g, "model", "generic").items():
        (out / name).write_text(text)
    exe = toolchain.build_harness(out, tmp_path / f"h{d}")
    batches = random_batch(g, np.random.default_rng(seed), samples)
    raw, _, _ = toolchain.run_samples(exe, b"".join(x.tobytes() for xs in batches for x in xs), samples,
                                      workdir=tmp_path / f"run{d}")
    y = ir.tensor(g, g.graph["outputs"][0])
    from tinycc.verify import NUMPY
    ours = [[np.frombuffer(raw[s * y.nbytes:(s + 1) * y.nbytes], dtype=NUMPY[y.dtype]).reshape(y.shape)]
            for s in range(samples)]
    assert_match(ours, reference_outputs(path, batches))


def _rule(path):
    g = driver.compile_graph(str(path))
    (oid,) = g.graph["plan"].order
    prob, rules = plan_order(g, [oid])
    o = ir.op(g, oid)
    r = rules.get((ir.view_source(g, o.inputs[0]), o.outputs[0]))
    return g, r


def _extreme_offsets(g, r):
    o = ir.op(g, g.graph["plan"].order[0])
    s_in, s_out = ir.tensor(g, o.inputs[0]).nbytes, ir.tensor(g, o.outputs[0]).nbytes
    if r.kind == "at_most":
        d = r.shift - r.shift % ALIGN
        return [d] if -s_out < d < s_in else []
    if r.kind == "exactly":
        return [r.shift]
    m = r.shift
    cands = {0, m, -m, (s_in - s_out) // m * m}
    return sorted(c for c in cands if -s_out < c < s_in and c % ALIGN == 0)


CASES = {
    "conv3x3_s1": lambda r: M.conv2d(r, (1, 9, 7, 8), 8, (3, 3), (1, 1), "SAME", (1, 1), "RELU", "int8"),
    "conv1x1_shrink": lambda r: M.conv2d(r, (1, 6, 6, 16), 8, (1, 1), (1, 1), "VALID", (1, 1), "NONE", "int8"),
    "conv1x1_expand": lambda r: M.conv2d(r, (1, 6, 5, 4), 12, (1, 1), (1, 1), "VALID", (1, 1), "NONE", "int8"),
    "conv3x3_s2": lambda r: M.conv2d(r, (1, 11, 9, 3), 8, (3, 3), (2, 2), "SAME", (1, 1), "RELU6", "int8"),
    "conv_dilated": lambda r: M.conv2d(r, (1, 10, 10, 4), 4, (3, 3), (1, 1), "SAME", (2, 2), "NONE", "int8"),
    "conv_f32": lambda r: M.conv2d(r, (1, 7, 7, 4), 4, (3, 3), (1, 1), "SAME", (1, 1), "NONE", "float32"),
    "dw3x3_s1": lambda r: M.depthwise_conv2d(r, (1, 9, 8, 8), 1, (3, 3), (1, 1), "SAME", (1, 1), "RELU", "int8"),
    "dw3x3_s2": lambda r: M.depthwise_conv2d(r, (1, 12, 10, 4), 1, (3, 3), (2, 2), "SAME", (1, 1), "NONE", "int8"),
    "dw5x5_valid": lambda r: M.depthwise_conv2d(r, (1, 11, 9, 12), 1, (5, 5), (1, 2), "VALID", (1, 1), "NONE",
                                                "int8"),
    "dw_f32": lambda r: M.depthwise_conv2d(r, (1, 8, 8, 4), 1, (3, 3), (2, 2), "SAME", (1, 1), "NONE", "float32"),
    "dw_batch2": lambda r: M.depthwise_conv2d(r, (2, 6, 6, 4), 1, (3, 3), (2, 2), "SAME", (1, 1), "NONE", "int8"),
    "avgpool_global": lambda r: M.average_pool2d(r, (1, 5, 5, 8), (5, 5), (1, 1), "VALID", "NONE", "int8"),
    "avgpool_s2": lambda r: M.average_pool2d(r, (1, 9, 9, 4), (3, 3), (2, 2), "SAME", "NONE", "int8"),
    "maxpool": lambda r: M.max_pool2d(r, (1, 8, 8, 4), (2, 2), (2, 2), "VALID", "NONE", "int8"),
    "add": lambda r: M.add(r, (1, 5, 5, 8), "RELU", "int8"),
    "softmax": lambda r: M.softmax(r, (3, 10), 1.0, "int8"),
    "softmax_f32": lambda r: M.softmax(r, (2, 9), 1.0, "float32"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_overlap_rule_at_its_limit(case, tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(CASES[case](np.random.default_rng(zlib.crc32(case.encode()))))
    g, r = _rule(path)
    assert r is not None, f"{case}: expected an overlap rule"
    ds = _extreme_offsets(g, r)
    assert ds, f"{case}: rule {r} allows no overlapping placement"
    for d in ds:
        _run_forced(path, d, tmp_path, seed=len(ds))


def test_fully_connected_never_overlaps(tmp_path):
    path = tmp_path / "fc.tflite"
    path.write_bytes(M.fully_connected(np.random.default_rng(0), (1, 64), 16, "NONE", "int8"))
    assert _rule(path)[1] is None


def test_depth_multiplier_never_overlaps(tmp_path):
    path = tmp_path / "dw.tflite"
    path.write_bytes(M.depthwise_conv2d(np.random.default_rng(0), (1, 6, 6, 3), 2, (3, 3), (1, 1), "SAME", (1, 1),
                                        "NONE", "int8"))
    assert _rule(path)[1] is None


def test_a_too_permissive_placement_is_caught(tmp_path):
    """The limit is real: a 3x3 conv's output placed four pixels above its bound is refused by
    check_plan and, run anyway, corrupts the result."""
    path = tmp_path / "m.tflite"
    path.write_bytes(CASES["conv3x3_s1"](np.random.default_rng(5)))
    g, r = _rule(path)
    d = r.shift - r.shift % ALIGN + 32
    with pytest.raises(AssertionError):
        _forced_plan(g, d)
    with pytest.raises(AssertionError, match="differ"):
        _run_forced(path, d, tmp_path, samples=3, check=False)
