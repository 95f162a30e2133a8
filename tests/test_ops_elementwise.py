"""Element-wise ops against TFLite Micro: int8 bit-exact, float32 within the verify tolerance.

Most tests compile one model holding many ops on the same inputs (one output each), and
int8 tests feed every input value (unary: all 256; binary: all 65536 pairs through a
(1, 256) x (256, 1) broadcast), so each op's whole int8 function is compared. A subset
runs in QEMU (Cortex-M4).
"""
from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, frontend, toolchain
from tinycc.errors import TinyccError
from tinycc.testing import models_elementwise as E

from .conftest import assert_match, needs_qemu, random_batch, reference_outputs, run_compiled

ALL_INT8 = np.arange(-128, 128, dtype=np.int8)
UNARY_INT8 = ["ABS", "ELU", "HARD_SWISH", "LEAKY_RELU", "LOGISTIC", "TANH", "RELU", "RELU6", "ZEROS_LIKE"]
UNARY_F32 = ["ABS", "NEG", "CEIL", "FLOOR", "COS", "SIN", "EXP", "SQUARE", "ELU", "HARD_SWISH", "LEAKY_RELU",
             "LOGISTIC", "TANH", "RELU", "RELU6", "ZEROS_LIKE"]
POSITIVE_F32 = ["LOG", "SQRT", "RSQRT"]
BINARY = ["SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "EQUAL", "NOT_EQUAL", "GREATER",
          "GREATER_EQUAL", "LESS", "LESS_EQUAL"]


@pytest.fixture(autouse=True)
def _quick_planner(monkeypatch):
    """These tests are about kernels: shorten the planner's time-capped exact search so the
    many small models build fast (any plan it returns is valid, only maybe larger)."""
    import functools
    import inspect

    from tinycc.passes import plan_arena
    exact = getattr(plan_arena, "exact", None)
    if exact is not None and "seconds" in inspect.signature(exact).parameters:
        monkeypatch.setattr(plan_arena, "exact", functools.partial(exact, seconds=0.02))


def _seed(*parts) -> int:
    return zlib.crc32(repr(parts).encode())


def check(tmp_path: Path, model: bytes, batches=None, samples: int = 2, mode: str = "host", seed: int = 0,
          extra_batches=None, allow_litert: bool = False):
    """Build ``model``, run ``batches`` (random ones by default, plus ``extra_batches``) on the
    host or in QEMU, compare every output with TFLite Micro (LiteRT only where allowed: an op
    TFLite Micro does not have)."""
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    g = frontend.load_tflite(str(path))
    if batches is None:
        batches = random_batch(g, np.random.default_rng(seed), samples)
    batches = list(batches) + list(extra_batches or [])
    ours, _ = run_compiled(path, batches, tmp_path, mode, g=g)
    kw = dict(allow_litert=True) if allow_litert else {}
    assert_match(ours, reference_outputs(path, batches, len(g.graph["outputs"]), **kw))


# ---------------------------------------------------------------------------
# Unary
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("in_q", [(0.02, 0), (0.05, -128), (0.1, 127), (0.004, 17), (0.5, -60)], ids=str)
def test_unary_int8_every_input(in_q, tmp_path):
    kinds = UNARY_INT8 + ["LEAKY_RELU:0.01", "LEAKY_RELU:1.7", "LEAKY_RELU:-0.3"]
    model = E.unary_bundle(np.random.default_rng(_seed(in_q)), kinds, (1, 256), "int8",
                           in_scale=in_q[0], in_zero_point=in_q[1])
    check(tmp_path, model, samples=1, extra_batches=[[ALL_INT8.reshape(1, 256)]])


def test_unary_int8_extreme_output_quantization(tmp_path):
    out_q = {"ABS": (0.03, -128), "ELU": (0.04, 127), "HARD_SWISH": (0.05, -128), "LEAKY_RELU": (0.02, 127),
             "RELU": (0.1, -128), "LOGISTIC": (0.01, -128), "TANH": (0.5, 100)}
    model = E.unary_bundle(np.random.default_rng(3), list(out_q), (1, 256), "int8", in_scale=0.03,
                           in_zero_point=3, out_q=out_q)
    check(tmp_path, model, samples=1, extra_batches=[[ALL_INT8.reshape(1, 256)]])


@pytest.mark.parametrize("in_q", [(0.02, -128), (0.3, 40)], ids=str)
def test_rsqrt_int8(in_q, tmp_path):
    """TFLite Micro fails on inputs below the zero point (negative reals): feed the others."""
    model = E.unary_bundle(np.random.default_rng(_seed(in_q)), ["RSQRT"], (2, 128), "int8",
                           in_scale=in_q[0], in_zero_point=in_q[1])
    valid = np.resize(np.arange(in_q[1], 128, dtype=np.int8), (2, 128))
    check(tmp_path, model, batches=[[valid], [np.random.default_rng(1).permutation(valid.ravel()).reshape(2, 128)]])


@pytest.mark.parametrize("shape", [(2, 3, 17), (1, 5, 5, 8)], ids=str)
def test_unary_float32(shape, tmp_path):
    kinds = UNARY_F32 + ["LEAKY_RELU:0.01", "LEAKY_RELU:-0.3"]
    model = E.unary_bundle(np.random.default_rng(_seed(shape)), kinds, shape, "float32")
    rng = np.random.default_rng(5)
    wide = [[(rng.standard_normal(shape) * 8).astype(np.float32)]]  # past LOGISTIC's cut-offs, ELU's tail
    check(tmp_path, model, samples=2, extra_batches=wide)


def test_unary_float32_positive_domain(tmp_path):
    model = E.unary_bundle(np.random.default_rng(4), POSITIVE_F32, (3, 11), "float32", positive=True)
    rng = np.random.default_rng(6)
    batches = [[(np.abs(rng.standard_normal((3, 11))) * s + 1e-3).astype(np.float32)] for s in (0.1, 1, 100)]
    check(tmp_path, model, batches=batches)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_relu_n1_to_1(dtype, tmp_path):
    """Not in TFLite Micro: compared with TFLite (LiteRT), as ``tinycc verify`` does."""
    model = E.unary_bundle(np.random.default_rng(7), ["RELU_N1_TO_1"], (1, 256), dtype, in_scale=0.02,
                           in_zero_point=-9)
    extra = [[ALL_INT8.reshape(1, 256)]] if dtype == "int8" else [[np.linspace(-3, 3, 256, dtype=np.float32)[None]]]
    check(tmp_path, model, samples=1, extra_batches=extra, allow_litert=True)


# ---------------------------------------------------------------------------
# Binary
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("act,scales,zps,out_q", [
    ("NONE", (0.02, 0.05), (0, 0), None),
    ("RELU", (0.1, 0.003), (-128, 127), {"MUL": (0.0002, 5)}),
    ("RELU6", (0.05, 0.05), (127, -128), {"SUB": (0.01, 127), "DIV": (0.5, -128)}),
    ("RELU_N1_TO_1", (0.9, 0.7), (5, -20), None),
], ids=lambda v: str(v).replace(" ", ""))
def test_binary_int8_every_pair(act, scales, zps, out_q, tmp_path):
    model = E.binary_bundle(np.random.default_rng(_seed(act, scales)), BINARY, (1, 256), (256, 1), "int8",
                            activation=act, in_scale=scales, in_zero_point=zps, out_q=out_q)
    check(tmp_path, model, batches=[[ALL_INT8.reshape(1, 256), ALL_INT8.reshape(256, 1)]])


BROADCASTS = [((1, 4, 4, 3), (1, 4, 4, 3)), ((2, 3, 1, 5), (3, 4, 1)), ((1, 5), ()), ((2, 1, 3, 1, 4), (1, 2, 1, 5, 1)),
              ((1, 2, 1, 2, 1, 3), (2, 1, 3, 1, 1, 1))]


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("shapes", BROADCASTS, ids=lambda s: f"{list(s[0])}x{list(s[1])}".replace(" ", ""))
def test_binary_broadcast(shapes, dtype, tmp_path):
    rng = np.random.default_rng(_seed(shapes, dtype))
    act = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"][_seed(shapes) % 4]
    model = E.binary_bundle(rng, BINARY, *shapes, dtype, activation=act)
    check(tmp_path, model, samples=3)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_binary_constant_operand(dtype, tmp_path):
    model = E.binary_bundle(np.random.default_rng(8), BINARY, (1, 3, 3, 8), (8,), dtype, const_b=True)
    check(tmp_path, model, samples=3)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("shapes", [((1, 4, 4, 3), (1, 4, 4, 3), (1, 4, 4, 3)), ((1, 2, 1, 3, 2), (2, 1, 4, 3, 1), (1,))],
                         ids=lambda s: "x".join(str(list(t)) for t in s).replace(" ", ""))
def test_select_v2(shapes, dtype, tmp_path):
    check(tmp_path, E.select_v2(np.random.default_rng(_seed(shapes, dtype)), *shapes, dtype), samples=3)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("shapes", [((1, 4, 4, 3), (1, 1, 3)), ((2, 3, 1, 5), (3, 4, 1))], ids=str)
def test_prelu(shapes, dtype, tmp_path):
    check(tmp_path, E.prelu(np.random.default_rng(_seed(shapes, dtype)), *shapes, dtype), samples=3)


# ---------------------------------------------------------------------------
# Conversions and row-wise ops
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("in_q,out_zps", [((0.05, 3), (None, None)), ((0.2, -128), (127, -128)),
                                          ((0.01, 127), (-128, 127))], ids=str)
def test_quantize_dequantize(in_q, out_zps, tmp_path):
    model = E.conversions(np.random.default_rng(_seed(in_q)), (1, 256), in_scale=in_q[0], in_zero_point=in_q[1],
                          out_zero_points=out_zps)
    rng = np.random.default_rng(9)
    # Float values on and next to the rounding ties of the output scale, and far outside its range.
    g = frontend.load_tflite(str(_write(tmp_path, model)))
    scale = float(g.nodes[g.graph["outputs"][0]]["value"].quant.scale[0])
    ties = ((np.arange(256) - 128) * 0.5 * scale).astype(np.float32)
    wide = (rng.standard_normal(256) * 50).astype(np.float32)
    check(tmp_path, model, batches=[[ties[None], ALL_INT8[None]], [wide[None], ALL_INT8[::-1][None]]])


def _write(tmp_path, model):
    p = tmp_path / "probe.tflite"
    p.write_bytes(model)
    return p


@pytest.mark.parametrize("src", ["int8", "int16", "int32", "float32", "bool"])
def test_cast(src, tmp_path):
    outs = [d for d in ("int8", "int16", "int32", "float32", "bool") if d != src or src == "bool"]
    check(tmp_path, E.casts(np.random.default_rng(10), src, outs, (3, 7)), samples=3)


@pytest.mark.parametrize("dtype,shape,in_scale", [
    ("int8", (2, 10), None), ("int8", (1, 1, 3, 33), 0.005), ("int8", (4, 1), 1.5), ("int8", (1, 300), 0.1),
    ("float32", (2, 2, 2, 33), None)], ids=str)
def test_log_softmax_l2_normalization(dtype, shape, in_scale, tmp_path):
    model = E.row_ops(np.random.default_rng(_seed(shape)), ["LOG_SOFTMAX", "L2_NORMALIZATION"], shape, dtype,
                      in_scale=in_scale)
    check(tmp_path, model, samples=3)


# ---------------------------------------------------------------------------
# In place, device, generated code
# ---------------------------------------------------------------------------

CHAIN = ["SUB", "ABS", "QUANTIZE", "MUL", "TANH", "LEAKY_RELU", "MAXIMUM", "LOG_SOFTMAX", "DEQUANTIZE", "EXP",
         "L2_NORMALIZATION", "SQUARED_DIFFERENCE", "QUANTIZE", "HARD_SWISH", "DIV", "ABS", "RSQRT", "DEQUANTIZE",
         "SQUARE", "MINIMUM", "QUANTIZE", "SQUARED_DIFFERENCE", "RELU6", "DEQUANTIZE"]


def test_chain_runs_in_place(tmp_path):
    """A chain of element-wise ops, each over the previous output: the whole chain fits in one
    tensor's bytes (every op in place, int8 <-> float32 conversions included) and matches."""
    model = E.chain(np.random.default_rng(11), CHAIN, (1, 6, 6, 4))
    g = driver.compile_graph(str(_write(tmp_path, model)))
    assert g.graph["plan"].size <= 6 * 6 * 4 * 4
    check(tmp_path, model, samples=3)


INPLACE_CASES = {
    "dequantize": lambda r: E.convert(r, "DEQUANTIZE", (1, 6, 6, 4)),
    "quantize": lambda r: E.convert(r, "QUANTIZE", (1, 6, 6, 4)),
    "cast_s8_f32": lambda r: E.casts(r, "int8", ["float32"], (5, 12)),
    "less_f32": lambda r: E.binary(r, "LESS", (1, 5, 5, 4), (4,), "float32"),
    "sub_s8_broadcast": lambda r: E.binary(r, "SUB", (2, 3, 8), (3, 1), "int8"),
    "tanh_s8": lambda r: E.unary(r, "TANH", (1, 6, 6, 4), "int8"),
    "log_softmax_s8": lambda r: E.row_ops(r, ["LOG_SOFTMAX"], (3, 10), "int8"),
    "l2_normalization_f32": lambda r: E.row_ops(r, ["L2_NORMALIZATION"], (4, 7), "float32"),
}


@pytest.mark.parametrize("case", sorted(INPLACE_CASES))
def test_overlap_rule_at_its_limit(case, tmp_path):
    """Each kernel's ``reads_min`` claim, with the output forced to the most aggressive offset
    the planner's rule allows (the harness of tests/test_inplace.py)."""
    from .test_inplace import _extreme_offsets, _rule, _run_forced
    path = _write(tmp_path, INPLACE_CASES[case](np.random.default_rng(_seed(case))))
    g, r = _rule(path)
    assert r is not None, f"{case}: expected an overlap rule"
    ds = _extreme_offsets(g, r)
    assert ds, f"{case}: rule {r} allows no overlapping placement"
    for d in ds:
        _run_forced(path, d, tmp_path, seed=len(ds))


QEMU_MODELS = {
    "unary_int8": lambda r: E.unary_bundle(r, UNARY_INT8 + ["RSQRT"], (1, 8, 8, 4), "int8", in_zero_point=-128),
    "binary_int8": lambda r: E.binary_bundle(r, BINARY, (2, 3, 1, 5), (3, 4, 1), "int8", activation="RELU"),
    "float32": lambda r: E.unary_bundle(r, UNARY_F32, (2, 3, 17), "float32"),
    "rows_int8": lambda r: E.row_ops(r, ["LOG_SOFTMAX", "L2_NORMALIZATION"], (2, 2, 2, 33), "int8"),
}


@pytest.mark.parametrize("name", sorted(QEMU_MODELS))
def test_qemu(name, tmp_path):
    needs_qemu()
    check(tmp_path, QEMU_MODELS[name](np.random.default_rng(_seed(name))), samples=2, mode="qemu")


def test_generated_c_is_warning_free(tmp_path):
    """Every kernel of this family, compiled as generated with the strict flags (host and Cortex-M0)."""
    rng = np.random.default_rng(12)
    out = tmp_path / "out"
    model = E.chain(rng, CHAIN, (1, 2, 2, 4))
    driver.build(str(_write(tmp_path, model)), str(out), "net", "generic")
    flags = ["-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wconversion", "-O2",
             "-fsyntax-only"]
    sources = sorted(out.glob("*.c"))
    for family in ("tcc_binary", "tcc_elementwise", "tcc_normalize"):
        assert any(family in p.name for p in sources), family
    cmds = [["gcc", *flags]]
    if toolchain.have_arm_toolchain():
        cmds.append(["arm-none-eabi-gcc", *toolchain.cpu_flags("cortex-m0"), *flags])
    for cmd in cmds:
        r = subprocess.run([*cmd, "-I", str(out), *map(str, sources)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------------
# What TFLite Micro does not support is refused at build time
# ---------------------------------------------------------------------------

def _bad_broadcast() -> bytes:
    b = E.ElementwiseBuilder()
    x, y, z = (b.tensor(s, "float32") for s in ([2, 4], [3, 4], [2, 4]))
    b.op("SUB", [x, y], [z], fused_activation_function="NONE")
    return b.build([x, y], [z])


@pytest.mark.parametrize("build,match", [
    (lambda r: E.unary(r, "NEG", dtype="int8"), "int8 is not supported"),
    (lambda r: E.unary(r, "EXP", dtype="int8"), "int8 is not supported"),
    (lambda r: E.unary(r, "LOGISTIC", dtype="int8", out_q={"LOGISTIC": (1 / 256, 0)}), "zero point must be -128"),
    (lambda r: E.unary(r, "HARD_SWISH", dtype="int8", in_scale=0.5, out_q={"HARD_SWISH": (0.001, 0)}),
     "output scale"),
    (lambda r: E.binary(r, "LESS", (1, 4), (1, 4), "int8", in_scale=(2.0, 0.1)), r"scale must be in \(0, 1\)"),
    (lambda r: _bad_broadcast(), "do not broadcast"),
    (lambda r: E.row_ops(r, ["L2_NORMALIZATION"], (1, 2, 2, 2, 3), "int8"), "at most 4-D"),
    (lambda r: E.prelu(r, (2, 1, 3, 1, 5), (3, 1, 5), "float32"), "at most 4-D"),
    (lambda r: E.row_ops(r, ["LOG_SOFTMAX"], (2, 5), "int8", out_q=(1 / 256, -128)), "16/256"),
], ids=["neg", "exp", "logistic-zp", "hard-swish-scale", "compare-scale", "broadcast", "l2-rank", "prelu-rank",
        "log-softmax-q"])
def test_refused(build, match, tmp_path):
    p = _write(tmp_path, build(np.random.default_rng(13)))
    with pytest.raises(TinyccError, match=match):
        driver.compile_graph(str(p))
