"""fuse_ops: each rule of its table on a model where it must fire and one where it must not, the
graph before and after, and the compiled model bit-exact against TFLite Micro either way."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, frontend, ir, ops, toolchain
from tinycc.passes import fuse_ops, run_pipeline
from tinycc.passes.fuse_ops import RULES
from tinycc.testing import models as M

from .conftest import assert_match, needs_qemu, random_batch, reference_outputs, run_compiled


# -- model pieces ----------------------------------------------------------------------------

def pad(nb: M.NetBuilder, x: M.Act, hw, value=None) -> M.Act:
    """PAD (or PADV2 with ``value``, quantized like x) of H and W: hw = ((top, bottom), (left, right))."""
    pads = [(0, 0), hw[0], hw[1], (0, 0)]
    shape = [d + a + b for d, (a, b) in zip(x.shape, pads)]
    real = 0.0 if value is None or not nb.quantized else (value - x.zero_point) * x.scale
    calib = np.pad(x.calib.reshape((-1,) + x.shape), [(0, 0)] + pads, constant_values=real)
    out = nb._activation_tensor(shape, calib, "pad", same_as=x)
    p = nb.mb.tensor([4, 2], "int32", data=np.array(pads, np.int32), name=nb._name("paddings"))
    if value is None:
        nb.mb.op("PAD", [x.index, p], [out.index])
    else:
        q = dict(scale=x.scale, zero_point=x.zero_point) if nb.quantized else {}
        v = nb.mb.tensor([], nb.dtype, data=np.array(value), name=nb._name("pad_value"), **q)
        nb.mb.op("PADV2", [x.index, p, v], [out.index])
    return out


def activation(nb: M.NetBuilder, x: M.Act, kind: str) -> M.Act:
    lo, hi = {"RELU": (0, None), "RELU6": (0, 6), "RELU_N1_TO_1": (-1, 1)}[kind]
    out = nb._activation_tensor(x.shape, np.clip(x.calib, lo, hi), kind.lower(), same_as=x)
    nb.mb.op(kind, [x.index], [out.index])
    return out


def maximum_const(nb: M.NetBuilder, x: M.Act, q: int) -> M.Act:
    c = nb.mb.tensor([], "int8", data=np.array(q), scale=x.scale, zero_point=x.zero_point, name=nb._name("floor"))
    out = nb._activation_tensor(x.shape, np.maximum(x.calib, (q - x.zero_point) * x.scale), "max", same_as=x)
    nb.mb.op("MAXIMUM", [x.index, c], [out.index])
    return out


def kinds(g):
    return sorted(ir.op(g, n).kind for n in ir.ops_in_order(g))


def compile_kinds(data: bytes, **kw):
    g = frontend.parse_tflite(data)
    before = kinds(g)
    g.graph.update(target=kw.get("target", "generic"), optimize=kw.get("optimize", "memory"))
    g = run_pipeline(g, verify=True)
    return before, kinds(g), g


def run_vs_tflm(data: bytes, tmp_path: Path, mode="host", optimize="memory", samples=4, seed=0, allow_litert=False):
    """Build with tinycc (host or QEMU), run random samples, compare every output with TFLite Micro."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    target = "generic" if mode == "host" else "cortex-m4"
    if mode != "host":
        needs_qemu()
    g = driver.compile_graph(str(path), target=target, optimize=optimize)
    batches = random_batch(g, np.random.default_rng(seed), samples)
    ours, _ = run_compiled(path, batches, tmp_path, mode, g=g, optimize=optimize)
    assert_match(ours, reference_outputs(path, batches, len(g.graph["outputs"]), allow_litert))
    return g


def host_outputs(data: bytes, tmp_path: Path, batches):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    driver.build(str(path), str(tmp_path / "out"), "model")
    exe = toolchain.build_harness(tmp_path / "out", tmp_path / "h")
    raw, _, _ = toolchain.run_samples(exe, b"".join(x.tobytes() for xs in batches for x in xs), len(batches),
                                      workdir=tmp_path / "run")
    return raw


def assert_same_as_unfused(data: bytes, tmp_path: Path, samples=6):
    """The fused build's output bytes equal those of a build without fuse_ops."""
    from tinycc.passes import PIPELINE
    g = frontend.parse_tflite(data)
    batches = random_batch(g, np.random.default_rng(7), samples)
    fused = host_outputs(data, tmp_path / "fused", batches)
    k = PIPELINE.index(fuse_ops)
    PIPELINE.pop(k)
    try:
        plain = host_outputs(data, tmp_path / "plain", batches)
    finally:
        PIPELINE.insert(k, fuse_ops)
    assert fused == plain


# -- models ------------------------------------------------------------------------------------

def pad_conv(dtype="int8", value=None, hw=((1, 2), (0, 1)), depthwise=False, padding="VALID", stride=(1, 1)):
    nb = M.NetBuilder(np.random.default_rng(1), dtype)
    x = nb.input((1, 9, 8, 4))
    p = pad(nb, x, hw, value)
    if depthwise:
        y = nb.depthwise_conv2d(p, 1, (3, 3), stride, padding, activation="RELU")
    else:
        y = nb.conv2d(p, 5, (3, 3), stride, padding, activation="RELU")
    return nb.build([x], [y])


def pad_pool(kind="MAX_POOL_2D", relu=True, hw=((1, 1), (1, 1)), dtype="int8", zp=None):
    nb = M.NetBuilder(np.random.default_rng(2), dtype)
    x = nb.input((1, 8, 8, 3), zero_point=5 if dtype == "int8" else None)
    h = nb.conv2d(x, 4, (1, 1), activation="RELU" if relu else "NONE", out_zero_point=zp)
    p = pad(nb, h, hw)
    y = nb.pool2d(p, "max" if kind == "MAX_POOL_2D" else "avg", (3, 3), (2, 2), "VALID")
    return nb.build([x], [y])


def conv_act(kind="RELU", dtype="int8", shared=False):
    nb = M.NetBuilder(np.random.default_rng(3), dtype)
    x = nb.input((1, 6, 6, 3))
    h = nb.conv2d(x, 4, (3, 3))
    y = maximum_const(nb, h, -20) if kind == "MAXIMUM" else activation(nb, h, kind)
    return nb.build([x], [y, h] if shared else [y])


def fc_relu6_add_relu():
    nb = M.NetBuilder(np.random.default_rng(4), "int8")
    x = nb.input((1, 12))
    h = activation(nb, nb.fully_connected(x, 8), "RELU6")
    s = activation(nb, nb.add(h, h), "RELU")
    return nb.build([x], [s])


def quantize_chain(same=False):
    """int8 -> DEQUANTIZE -> QUANTIZE (another scale) -> QUANTIZE int8 (same or other scale) -> TANH."""
    from tinycc.testing.tflite_writer import ModelBuilder
    mb = ModelBuilder()
    x = mb.tensor([1, 40], "int8", scale=0.05, zero_point=3, name="x")
    f = mb.tensor([1, 40], "float32", name="f")
    q1 = mb.tensor([1, 40], "int8", scale=0.031, zero_point=-7, name="q1")
    q2 = mb.tensor([1, 40], "int8", scale=0.031 if same else 0.02, zero_point=-7 if same else 10, name="q2")
    t = mb.tensor([1, 40], "int8", scale=1 / 128, zero_point=0, name="t")
    mb.op("DEQUANTIZE", [x], [f])
    mb.op("QUANTIZE", [f], [q1])
    mb.op("QUANTIZE", [q1], [q2])
    mb.op("TANH", [q2], [t])
    return mb.build([x], [t])


# -- tests -------------------------------------------------------------------------------------

def test_rules_are_a_table():
    assert {r.name for r in RULES} == {"pad_into_window", "pad_into_max_pool", "clamp_activation",
                                       "dequantize_quantize", "table_chain", "identity_table"}
    assert all(callable(r.consumer) and callable(r.exact) and callable(r.rewrite) for r in RULES)
    # the rules' patterns are facts of the ops (OpDef properties); these are the ops they match
    defs = [ops.lookup(k) for k in ops.supported()]

    def kinds(pred):
        return {d.kind for d in defs if pred(d)}
    rule = {r.name: r for r in RULES}
    assert kinds(rule["clamp_activation"].producer) == {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD",
                                                        "AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"}
    assert kinds(rule["clamp_activation"].consumer) == {"RELU", "RELU6", "RELU_N1_TO_1", "MAXIMUM", "MINIMUM"}
    assert kinds(rule["pad_into_window"].producer) == kinds(rule["pad_into_max_pool"].producer) == {"PAD", "PADV2"}
    assert kinds(rule["pad_into_window"].consumer) == {"CONV_2D", "DEPTHWISE_CONV_2D"}
    assert kinds(rule["pad_into_max_pool"].consumer) == {"MAX_POOL_2D"}
    assert kinds(rule["dequantize_quantize"].producer) == {"DEQUANTIZE"}
    assert kinds(rule["dequantize_quantize"].consumer) == {"QUANTIZE"}
    table_ops = kinds(rule["table_chain"].consumer)
    int8_tables = {"QUANTIZE", "RELU", "RELU6", "RELU_N1_TO_1", "ABS", "RSQRT", "ELU", "HARD_SWISH", "LEAKY_RELU",
                   "LOGISTIC", "TANH", "GELU"}
    assert int8_tables <= table_ops == kinds(rule["table_chain"].producer)
    # the other table-kernel ops have no int8 kernel (float32 only): ``table`` never sees a lut on them
    assert all(not ops.lookup(k).int8 for k in table_ops - int8_tables)


@pytest.mark.parametrize("dtype,depthwise,padding,stride", [
    ("int8", False, "VALID", (1, 1)), ("int8", True, "SAME", (2, 2)), ("float32", False, "SAME", (1, 1)),
    ("float32", True, "VALID", (2, 1)), ("int8", True, "VALID", (1, 1)),
])
def test_pad_into_convolution(dtype, depthwise, padding, stride, tmp_path):
    data = pad_conv(dtype, depthwise=depthwise, padding=padding, stride=stride)
    before, after, g = compile_kinds(data)
    assert "PAD" in before and "PAD" not in after and len(after) == len(before) - 1
    o = ir.op(g, [n for n in ir.ops_in_order(g)][0])
    assert o.attrs["padding"] == "EXPLICIT" and g.graph["fused"] == ["pad_into_window"]
    assert o.params.pad_top == o.attrs["pad_h"][0]
    run_vs_tflm(data, tmp_path)


def test_pad_with_another_value_is_kept(tmp_path):
    data = pad_conv("int8", value=17)                 # PADV2 filling 17, not the zero point
    before, after, g = compile_kinds(data)
    assert "PADV2" in after and g.graph["fused"] == []
    run_vs_tflm(data, tmp_path)
    data = pad_conv("int8", value=None, hw=((1, 1), (1, 1)))
    nb_zp = frontend.parse_tflite(data)
    zp = ir.tensor(nb_zp, nb_zp.graph["inputs"][0]).quant.zero_point[0]
    _, after, _ = compile_kinds(pad_conv("int8", value=zp))   # PADV2 filling the zero point fuses
    assert "PADV2" not in after


def test_pad_into_pools(tmp_path):
    # max pool after a RELU convolution: the pad value (the zero point) is the clamp's floor
    before, after, g = compile_kinds(pad_pool("MAX_POOL_2D", relu=True))
    assert "PAD" not in after and g.graph["fused"] == ["pad_into_max_pool"]
    run_vs_tflm(pad_pool("MAX_POOL_2D", relu=True), tmp_path / "a")
    # without the RELU the input may lie below the pad value: not exact, kept
    _, after, g = compile_kinds(pad_pool("MAX_POOL_2D", relu=False))
    assert "PAD" in after
    run_vs_tflm(pad_pool("MAX_POOL_2D", relu=False), tmp_path / "b")
    # a window entirely in the padding: kept (the kernel would start from -128, not the pad value)
    _, after, _ = compile_kinds(pad_pool("MAX_POOL_2D", relu=True, hw=((3, 0), (0, 0)), zp=-100))
    assert "PAD" in after
    run_vs_tflm(pad_pool("MAX_POOL_2D", relu=True, hw=((3, 0), (0, 0)), zp=-100), tmp_path / "e")
    # ... unless the pad value is -128 itself (a RELU output's usual zero point)
    _, after, _ = compile_kinds(pad_pool("MAX_POOL_2D", relu=True, hw=((3, 0), (0, 0)), zp=-128))
    assert "PAD" not in after
    run_vs_tflm(pad_pool("MAX_POOL_2D", relu=True, hw=((3, 0), (0, 0)), zp=-128), tmp_path / "f")
    # average pooling never: TFLite divides by the count of image elements
    _, after, _ = compile_kinds(pad_pool("AVERAGE_POOL_2D"))
    assert "PAD" in after
    run_vs_tflm(pad_pool("AVERAGE_POOL_2D"), tmp_path / "c")
    _, after, _ = compile_kinds(pad_pool("MAX_POOL_2D", dtype="float32"))
    assert "PAD" not in after
    run_vs_tflm(pad_pool("MAX_POOL_2D", dtype="float32"), tmp_path / "d")


@pytest.mark.parametrize("kind,dtype", [("RELU", "int8"), ("RELU6", "int8"), ("RELU_N1_TO_1", "int8"),
                                        ("MAXIMUM", "int8"), ("RELU", "float32"), ("RELU6", "float32")])
def test_activation_into_clamp(kind, dtype, tmp_path):
    data = conv_act(kind, dtype)
    before, after, g = compile_kinds(data)
    assert after == ["CONV_2D"] and g.graph["fused"] == ["clamp_activation"]
    conv = ir.op(g, ir.ops_in_order(g)[0])
    lo, hi = conv.params.act_range
    assert lo > -128 or hi < 127 if dtype == "int8" else lo >= -1.0
    if kind != "RELU_N1_TO_1":
        run_vs_tflm(data, tmp_path)
    else:      # not in TFLite Micro (and LiteRT's convolution rounds differently): vs tinycc unfused
        assert_same_as_unfused(data, tmp_path)


def test_activation_of_a_shared_output_is_kept(tmp_path):
    data = conv_act("RELU", "int8", shared=True)     # the convolution's output is also a model output
    _, after, g = compile_kinds(data)
    assert after == ["CONV_2D", "RELU"] and g.graph["fused"] == []
    run_vs_tflm(data, tmp_path)


def test_activations_after_fc_and_add(tmp_path):
    data = fc_relu6_add_relu()
    _, after, g = compile_kinds(data)
    assert after == ["ADD", "FULLY_CONNECTED"]
    assert g.graph["fused"].count("clamp_activation") == 2
    run_vs_tflm(data, tmp_path)


@pytest.mark.parametrize("same", [False, True])
def test_quantize_pairs_become_one_table(same, tmp_path):
    data = quantize_chain(same)
    before, after, g = compile_kinds(data)
    assert before == ["DEQUANTIZE", "QUANTIZE", "QUANTIZE", "TANH"]
    assert after == ["QUANTIZE"]                      # one int8 table op
    assert g.graph["fused"][0] == "dequantize_quantize"
    run_vs_tflm(data, tmp_path)


def test_identity_quantize_becomes_a_view():
    from tinycc.testing.tflite_writer import ModelBuilder
    mb = ModelBuilder()
    x = mb.tensor([1, 8, 4], "int8", scale=0.1, zero_point=2, name="x")
    q = mb.tensor([1, 8, 4], "int8", scale=0.1, zero_point=2, name="q")
    mb.op("QUANTIZE", [x], [q])
    g = run_pipeline(frontend.parse_tflite(mb.build([x], [q])), verify=True)
    assert kinds(g) == [] and g.graph["fused"] == ["identity_table"]
    (i,), (o,) = g.graph["inputs"], g.graph["outputs"]
    assert ir.view_source(g, o) == i and g.graph["plan"].offsets[o] == g.graph["plan"].offsets[i]


def test_fusion_speed_kernels_in_qemu(tmp_path):
    """Fused (asymmetric) padding through the Cortex-M fast kernels, bit-exact in QEMU."""
    run_vs_tflm(pad_conv("int8", depthwise=True, padding="SAME", hw=((0, 1), (2, 0))), tmp_path / "a",
                mode="qemu", optimize="speed")
    run_vs_tflm(pad_conv("int8", depthwise=False, padding="VALID"), tmp_path / "b", mode="qemu", optimize="speed")


def test_fuse_ops_alone_keeps_invariants():
    g = frontend.parse_tflite(conv_act("RELU6", "int8"))
    from tinycc.passes import alias_reshapes, check_operators, fold_quantization
    g = fuse_ops(fold_quantization(alias_reshapes(check_operators(g))))
    ir.check_invariants(g)
    assert kinds(g) == ["CONV_2D"]
