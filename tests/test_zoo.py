"""The model zoo (tests/zoo/): models made by TensorFlow's own converter, against TFLite Micro.

Every file of tests/zoo/manifest.json (written by scripts/make_zoo.py) is built with tinycc, run
on the host on random inputs plus the extremes of each input's range, and compared with the
reference: int8 bit-exact, float32 within the verify tolerance. A representative subset (the two
composite networks and a spread of operators) also runs in QEMU on a Cortex-M4.

The manifest says which operators each model is meant to show; the test checks that the
committed file really contains them (so regenerating the zoo cannot silently lose coverage) and
that, together, the zoo covers every operator of tinycc's list that the converter can produce.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, frontend, ir, ops
from tinycc.verify import NUMPY

from .conftest import assert_match, needs_qemu, reference_outputs, run_compiled

ZOO = Path(__file__).resolve().parent / "zoo"
MANIFEST = json.loads((ZOO / "manifest.json").read_text())
MODELS = {k: v for k, v in MANIFEST["models"].items() if "file" in v}
# float16 weights (DEQUANTIZE float16 -> float32 constants): folded into float32 constants.
FLOAT16 = sorted(k for k, v in MODELS.items() if v["variant"] == "f16")
COMPOSITES = ["mobilenetv2", "yolo", "transformer", "kws_conv1d", "autoencoder", "torch_classifier", "torch_detector"]

# The operators of issue 5: every one must be in some zoo model, unless the manifest says why
# TensorFlow's converter does not produce it.
OPERATORS = """ABS ADD ARG_MAX ARG_MIN AVERAGE_POOL_2D BATCH_MATMUL CAST CEIL CONCATENATION CONV_2D COS
DEPTH_TO_SPACE DEPTHWISE_CONV_2D DEQUANTIZE DIV ELU EQUAL EXP EXPAND_DIMS FILL FLOOR FULLY_CONNECTED GATHER
GREATER GREATER_EQUAL HARD_SWISH L2_NORMALIZATION LEAKY_RELU LESS LESS_EQUAL LOG LOGISTIC LOG_SOFTMAX MAXIMUM
MAX_POOL_2D MEAN MINIMUM MIRROR_PAD MUL NEG NOT_EQUAL PACK PAD PADV2 PRELU QUANTIZE REDUCE_MAX REDUCE_MIN RELU
RELU6 RELU_N1_TO_1 RESHAPE RESIZE_BILINEAR RESIZE_NEAREST_NEIGHBOR RSQRT SELECT_V2 SHAPE SIN SLICE SOFTMAX
SPACE_TO_DEPTH SPLIT SPLIT_V SQRT SQUARE SQUARED_DIFFERENCE SQUEEZE STRIDED_SLICE SUB SUM TANH TRANSPOSE
TRANSPOSE_CONV UNPACK ZEROS_LIKE""".split()

# Operators TFLite Micro does not have: models with them are compared with TFLite (LiteRT).
NOT_IN_TFLM = {"RELU_N1_TO_1"}

# In QEMU (Cortex-M4): the composites and a spread of operator families, int8 and float32.
QEMU_SUBSET = ["mobilenetv2_int8", "yolo_int8", "mobilenetv2_f32", "torch_classifier_int8", "torch_detector_int8", "conv2d_b_int8", "depthwise_int8_pertensor",
               "transpose_conv_int8", "resize_int8", "softmax_int8", "strided_slice_int8", "activations_int8",
               "float_only_int8_mixed", "fully_connected_3d_f32", "pad_int8"]

# --optimize speed (DSP kernels) in QEMU: the int8 networks and the operators with fast kernels.
QEMU_SPEED = ["mobilenetv2_int8", "yolo_int8", "torch_classifier_int8", "conv2d_a_int8", "depthwise_int8",
              "fully_connected_int8_pertensor", "avg_pool_int8", "add_int8"]


@pytest.fixture(autouse=True)
def _quick_planner(request, monkeypatch):
    """Single-operator models test kernels: cap the planner's exact search (any plan it returns is
    valid, only maybe larger). The composite networks are planned as a user's build would be."""
    if any(request.node.name.find(c) >= 0 for c in COMPOSITES):
        return
    import sys

    import tinycc.passes  # noqa: F401
    pa = sys.modules["tinycc.passes.plan_arena"]
    monkeypatch.setattr(pa, "EXACT_STEPS", 3000)
    monkeypatch.setattr(pa.exact, "__defaults__", (3000,))


def _input_values(t: ir.Tensor, domain, rng: np.random.Generator, kind: str) -> np.ndarray:
    """One input array: ``kind`` is "random", "low" or "high" (the ends of the domain)."""
    dt = NUMPY[t.dtype]
    shape = t.shape
    if isinstance(domain, list) and domain[0] == "index":
        lo, hi = 0, domain[1] - 1
    elif domain == "bool":
        lo, hi = 0, 1
    elif t.dtype == "int8":
        zp = int(t.quant.zero_point[0]) if t.quant is not None else 0
        # "positive": the real value must be > 0 (RSQRT, DIV's denominator), so above the zero point
        lo, hi = (zp + 1, 127) if domain == "positive" else (-128, 127)
    elif np.issubdtype(dt, np.integer):
        info = np.iinfo(dt)
        lo, hi = max(info.min, -1000), min(info.max, 1000)
    else:  # float32
        if kind == "random":
            x = rng.standard_normal(shape) * rng.choice([0.5, 1.0, 4.0])
            return (np.abs(x) + 0.01 if domain == "positive" else x).astype(dt)
        if domain == "positive":
            return np.full(shape, 1e-3 if kind == "low" else 60.0, dt)
        return rng.choice([-1.0, 1.0], size=shape).astype(dt) * (0.0 if kind == "low" else 30.0) + \
            (np.float32(-30.0) if kind == "low" else np.float32(0.0))
    if kind == "random":
        return rng.integers(lo, hi, size=shape, endpoint=True).astype(dt)
    return np.full(shape, lo if kind == "low" else hi, dtype=dt)


def zoo_batches(g, info: dict, samples: int, seed: int = 0):
    """``samples`` random inputs, then every input at the low and at the high end of its range."""
    rng = np.random.default_rng(seed)
    tensors = [ir.tensor(g, t) for t in g.graph["inputs"]]
    domains = [i["domain"] for i in info["inputs"]]
    assert len(domains) == len(tensors)
    kinds = ["random"] * samples + ["low", "high"]
    return [[_input_values(t, d, rng, k) for t, d in zip(tensors, domains)] for k in kinds]


SPARE_FLASH = 1 << 24   # --flash-budget for the tests of the fast kernels: room for every widened weight

def check_zoo(name: str, tmp_path: Path, mode: str = "host", samples: int = 3, optimize: str | None = None,
              flash_budget: int | None = None):
    info = MODELS[name]
    path = ZOO / info["file"]
    target = "generic" if mode == "host" else "cortex-m4"
    g = driver.compile_graph(str(path), target=target, optimize=optimize, flash_budget=flash_budget)
    batches = zoo_batches(g, info, samples)
    ours, instr = run_compiled(path, batches, tmp_path, mode, g=g, optimize=optimize,
                               flash_budget=flash_budget)
    # hybrid models (int8 weights, float activations) and float16 weights: TFLite Micro refuses
    # them, TFLite is the reference
    allow_litert = bool(NOT_IN_TFLM & set(info["ops"])) or info["variant"].startswith(("hybrid", "f16"))
    assert_match(ours, reference_outputs(path, batches, len(g.graph["outputs"]), allow_litert=allow_litert))
    return instr


@pytest.mark.parametrize("name", sorted(MODELS))
def test_zoo_host(name, tmp_path):
    check_zoo(name, tmp_path, samples=4 if any(name.startswith(c) for c in COMPOSITES) else 3)


@pytest.mark.parametrize("name", QEMU_SUBSET)
def test_zoo_qemu(name, tmp_path):
    needs_qemu()
    instr = check_zoo(name, tmp_path, mode="qemu", samples=1)
    assert len(instr) == 3 and min(instr) > 0


def test_hybrid_depthwise_in_place_at_its_limit(tmp_path):
    """The hybrid depthwise kernel keeps the plain kernel's in-place rule (output at any whole-pixel
    offset from its input): run it with the output forced to the rule's extreme offsets."""
    from tinycc import codegen, toolchain

    from .test_inplace import _extreme_offsets, _forced_plan, _rule
    info = MODELS["hybrid_depthwise_hybrid"]
    path = ZOO / info["file"]
    g, r = _rule(path)
    assert r is not None and r.kind == "multiple", r
    offsets = _extreme_offsets(g, r)
    assert any(d != 0 for d in offsets), offsets
    batches = zoo_batches(g, info, 2)
    refs = reference_outputs(path, batches, 1, allow_litert=True)
    for d in offsets:
        g.graph["plan"] = _forced_plan(g, d)
        out = tmp_path / f"out{d}"
        out.mkdir()
        for fname, text in codegen.generate(g, "model", "generic").items():
            (out / fname).write_text(text)
        exe = toolchain.build_harness(out, tmp_path / f"h{d}")
        raw, _, _ = toolchain.run_samples(exe, b"".join(x.tobytes() for xs in batches for x in xs), len(batches),
                                          workdir=tmp_path / f"run{d}")
        y = ir.tensor(g, g.graph["outputs"][0])
        ours = [[np.frombuffer(raw[s * y.nbytes:(s + 1) * y.nbytes], dtype=np.float32).reshape(y.shape)]
                for s in range(len(batches))]
        assert_match(ours, refs)


@pytest.mark.parametrize("name", FLOAT16)
def test_zoo_float16_weights_fold_away(name):
    """float16 weights are widened to float32 at compile time: no DEQUANTIZE is left to run
    (test_zoo_host checks the results against TFLite Micro)."""
    g = driver.compile_graph(str(ZOO / MODELS[name]["file"]))
    kinds = [ir.op(g, o).kind for o in g.graph["plan"].order]
    assert "DEQUANTIZE" not in kinds and kinds, kinds


@pytest.mark.parametrize("name", QEMU_SPEED)
def test_zoo_qemu_speed(name, tmp_path):
    """``--optimize speed`` on the Cortex-M4: the DSP kernels (packed weights) on converter output,
    with flash to spare for their widened weights (the default budget may leave them out)."""
    needs_qemu()
    g = driver.compile_graph(str(ZOO / MODELS[name]["file"]), target="cortex-m4", optimize="speed",
                             flash_budget=SPARE_FLASH)
    assert any(ops.kernel_impl(ir.op(g, o)) != "plain" for o in g.graph["plan"].order), "no fast kernel was used"
    instr = check_zoo(name, tmp_path, mode="qemu", samples=1, optimize="speed", flash_budget=SPARE_FLASH)
    assert len(instr) == 3 and min(instr) > 0


@pytest.mark.parametrize("name", sorted(MODELS))
def test_zoo_model_has_its_operators(name):
    """The committed file holds what the manifest claims: the intended operators, int8 or float32
    as its name says, per-channel or per-tensor weights as the converter was asked for."""
    info = MODELS[name]
    g = frontend.load_tflite(str(ZOO / info["file"]))
    kinds = {ir.op(g, n).kind for n in g.nodes if isinstance(g.nodes[n]["value"], ir.Op)}
    assert set(info["intended"]) <= kinds, f"{name}: intended {info['intended']}, has {sorted(kinds)}"
    assert sorted(kinds) == info["ops"]
    weights = [ir.tensor(g, ir.op(g, n).inputs[1]) for n in g.nodes
               if isinstance(g.nodes[n]["value"], ir.Op)
               and ir.op(g, n).kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")]
    if info["variant"] == "f32" or info["variant"].startswith("hybrid"):
        assert all(ir.tensor(g, t).dtype != "int8" for t in g.graph["inputs"])
    if info["variant"].startswith("hybrid"):
        assert any(w.dtype == "int8" for w in weights), f"{name}: no int8 weights, not a hybrid model"
    elif info["variant"] in ("int8", "int8_pertensor"):
        assert all(ir.tensor(g, t).dtype in ("int8", "int32") for t in g.graph["inputs"])
        per_channel = [w.quant.per_channel for w in weights if w.dtype == "int8"]
        if info["variant"] == "int8_pertensor":
            assert per_channel and not any(per_channel)
        elif any(w.shape[0] > 1 for w in weights):
            assert any(per_channel), f"{name}: the converter's default is per-channel weights"


def test_zoo_covers_every_operator():
    have = set().union(*(set(v["intended"]) for v in MODELS.values()))
    explained = set().union(*(set(v.get("not_produced", {})) for v in MODELS.values()))
    missing = set(OPERATORS) - have - explained
    assert not missing, f"no zoo model has {sorted(missing)}"
    # composite networks: int8 and float32 of each
    for c in COMPOSITES:
        assert {f"{c}_int8", f"{c}_f32"} <= set(MODELS)


KERAS_APPS = sorted((ZOO / "keras_apps").glob("*.tflite"))


@pytest.mark.parametrize("mode", ["host", "qemu"])
@pytest.mark.parametrize("path", KERAS_APPS, ids=lambda p: p.stem)
def test_keras_applications(path, mode, tmp_path):
    """tf_keras.applications networks as users build them (scripts/make_keras_apps.py): the
    default build for the mode (host: generic; QEMU: Cortex-M4 DSP kernels), bit-exact with
    TFLite Micro on random and extreme inputs."""
    if mode == "qemu":
        needs_qemu()
    g = driver.compile_graph(str(path), target="generic" if mode == "host" else "cortex-m4")
    rng = np.random.default_rng(3)
    x = ir.tensor(g, g.graph["inputs"][0])
    batches = [[rng.integers(-128, 128, size=x.shape, dtype=np.int8)] for _ in range(2 if mode == "host" else 1)]
    batches.append([np.full(x.shape, 127, np.int8)])
    ours, _ = run_compiled(path, batches, tmp_path, mode, g=g)
    assert_match(ours, reference_outputs(path, batches, 1))


def test_keras_applications_present():
    assert [p.stem for p in KERAS_APPS] == ["mobilenet_v1_025_int8"]
