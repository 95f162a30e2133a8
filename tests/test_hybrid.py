"""Hybrid (dynamic-range quantized) CONV_2D and FULLY_CONNECTED against TensorFlow Lite.

A hybrid op has int8 weights (per-tensor or per-channel scale) and float32 input,
output and bias. TFLite Micro refuses such models, so the reference is TFLite
itself (ai_edge_litert) with its builtin kernels. tinycc's code is built with gcc,
run on random inputs, and compared with the interpreter:

* single-op models from ModelBuilder (per-tensor/per-channel scales, symmetric and
  asymmetric input quantization, strides, padding, dilation, batches, activations),
  on the host and in QEMU (Cortex-M4 and M0);
* every hybrid CONV_2D of the MLPerf Tiny keyword-spotting model
  (kws_ref_model_float32.tflite) alone, fed with the input TFLite computed for it;
* the whole keyword-spotting model.

Measured with ai_edge_litert 2.3.0 on x86-64: single-op models and the KWS
CONV_2D layers are bit-exact (max abs diff 0), on the host and in QEMU. The whole
KWS model differs by ~1e-9..6e-7 in its softmax output on the inputs below:
rounding of its float ops, which tinycc computes in another order than TFLite's
optimized kernels; see test_kws_model for the occasional larger difference.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
import tflite

from tinycc import driver
from tinycc.errors import TinyccError
from tinycc.testing import tflite_writer as tw
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import needs_qemu, run_compiled

litert = pytest.importorskip("ai_edge_litert.interpreter", reason="ai_edge_litert not installed")

REPO = Path(__file__).resolve().parent.parent
MODELS = Path(os.environ.get("TINYCC_MODELS", REPO.parent / "shared" / "models"))
KWS = MODELS / "kws_ref_model_float32.tflite"

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not found")

# Single ops and the KWS layers run the same arithmetic as TFLite and come out
# bit-exact on x86. The allowance, 2^-21 of the largest output (4 ulps of it),
# only absorbs a TFLite build that fuses the final multiply and bias add into
# one FMA (as aarch64 builds may); one quantization step of difference changes
# an output by |w| * input_scale * weight_scale, orders of magnitude more.
SINGLE_OP_RTOL = 2.0**-21

MAIN_C = r"""
#include <stdio.h>
#include "model.h"

/* Read one set of inputs from stdin, invoke, write the outputs to stdout; repeat until EOF. */
int main(void)
{
    for (;;) {
        for (int i = 0; i < model_INPUT_COUNT; ++i) {
            size_t n = model_input_bytes(i);
            if (fread(model_input(i), 1, n, stdin) != n) return 0;
        }
        if (model_invoke() != 0) return 1;
        for (int i = 0; i < model_OUTPUT_COUNT; ++i) {
            fwrite(model_output(i), 1, model_output_bytes(i), stdout);
        }
    }
}
"""


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def compile_model(model: Path | bytes, work: Path) -> tuple[Path, list[str]]:
    """tinycc-build a model and compile it with gcc; return the executable and the generated file names."""
    work.mkdir(parents=True, exist_ok=True)
    if isinstance(model, bytes):
        (work / "m.tflite").write_bytes(model)
        model = work / "m.tflite"
    out = work / "out"
    files = driver.build(str(model), str(out))
    (work / "main.c").write_text(MAIN_C)
    exe = work / "model.exe"
    cmd = ["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{out}",
           *sorted(str(p) for p in out.glob("*.c")), str(work / "main.c"), "-lm", "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe, sorted(files)


def run_exe(exe: Path, samples: list[np.ndarray], out_size: int) -> np.ndarray:
    """Run the compiled model on float32 inputs (one model input); return [samples, out_size] float32."""
    stdin = b"".join(np.ascontiguousarray(x, np.float32).tobytes() for x in samples)
    res = subprocess.run([str(exe)], input=stdin, capture_output=True, check=True, timeout=120)
    return np.frombuffer(res.stdout, np.float32).reshape(len(samples), out_size)


def tflite_interpreter(model: Path | bytes, **kw):
    """TFLite with its builtin kernels.

    The default resolver would hand the ops to the XNNPACK delegate, which quantizes
    the input its own way (it differs from the builtin hybrid kernels by whole
    quantization steps, ~1e-2 relative); the builtin kernels are "TFLite's hybrid
    arithmetic" that tinycc reproduces.
    """
    content = model.read_bytes() if isinstance(model, Path) else model
    it = litert.Interpreter(model_content=content,
                            experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                            **kw)
    it.allocate_tensors()
    return it


def run_tflite(model: Path | bytes, samples: list[np.ndarray]) -> np.ndarray:
    it = tflite_interpreter(model)
    i_in, i_out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    outs = []
    for x in samples:
        it.set_tensor(i_in, x)
        it.invoke()
        outs.append(it.get_tensor(i_out).ravel().copy())
    return np.stack(outs)


def assert_close(got: np.ndarray, ref: np.ndarray, rtol: float, what: str) -> float:
    """Assert max |got - ref| <= rtol * max|ref| and return the max abs diff (also printed)."""
    diff = float(np.abs(got.astype(np.float64) - ref.astype(np.float64)).max())
    mag = float(np.abs(ref).max())
    print(f"{what}: max abs diff {diff:.3g}, max |ref| {mag:.3g}, relative {diff / max(mag, 1e-30):.3g}, "
          f"bit-exact {bool(np.array_equal(got, ref))}")
    assert diff <= rtol * mag, f"{what}: max abs diff {diff} > {rtol} * {mag}"
    return diff


def random_samples(rng, shape, n=6) -> list[np.ndarray]:
    """Normal inputs at a few scales and offsets, plus one all-zero input (TFLite's zero-range case)."""
    out = []
    for k in range(n - 1):
        scale, offset = [(1.0, 0.0), (10.0, 0.0), (5.0, 3.0), (30.0, -20.0), (0.01, 0.0)][k % 5]
        out.append((rng.normal(size=shape) * scale + offset).astype(np.float32))
    out.append(np.zeros(shape, np.float32))
    return out


# ---------------------------------------------------------------------------
# single-op models
# ---------------------------------------------------------------------------


def conv_model(rng, xshape, out_c, k, *, scale, stride=(1, 1), dilation=(1, 1), padding="SAME",
               activation="NONE") -> bytes:
    n, h, w, c = xshape
    kh, kw = k
    mb = ModelBuilder()
    x = mb.tensor(list(xshape), "float32", name="x")
    wt = mb.tensor([out_c, kh, kw, c], "int8", data=rng.integers(-127, 128, size=(out_c, kh, kw, c)),
                   scale=scale, name="w")
    b = mb.tensor([out_c], "float32", data=rng.normal(size=out_c).astype(np.float32), name="b")

    def out_size(i, k_, s, d):
        ek = (k_ - 1) * d + 1
        return (i + s - 1) // s if padding == "SAME" else (i - ek + s) // s

    oh, ow = out_size(h, kh, stride[0], dilation[0]), out_size(w, kw, stride[1], dilation[1])
    y = mb.tensor([n, oh, ow, out_c], "float32", name="y")
    mb.op("CONV_2D", [x, wt, b], [y], padding=padding, stride_h=stride[0], stride_w=stride[1],
          dilation_h=dilation[0], dilation_w=dilation[1], fused_activation=activation)
    return mb.build([x], [y])


CONV_CASES = {
    # KWS first layer: 10x4 filter, stride 2, per-tensor scale (symmetric input quantization).
    "kws_first": dict(xshape=(1, 49, 10, 1), out_c=8, k=(10, 4), scale=0.002, stride=(2, 2), activation="RELU"),
    "3x3_batches": dict(xshape=(2, 9, 8, 3), out_c=6, k=(3, 3), scale=0.01, activation="RELU6"),
    "1x1_valid": dict(xshape=(1, 7, 6, 13), out_c=4, k=(1, 1), scale=0.004, padding="VALID"),
    "dilated": dict(xshape=(1, 9, 8, 3), out_c=5, k=(3, 3), scale=0.01, dilation=(2, 2)),
    "tiny_input": dict(xshape=(1, 2, 3, 1), out_c=3, k=(1, 1), scale=0.02),  # < 8 values: scalar rounding only
    # Distinct per-channel scales: TFLite's per-channel path, asymmetric input quantization.
    "per_channel": dict(xshape=(2, 9, 8, 3), out_c=6, k=(3, 3), scale="per_channel", stride=(2, 1)),
    "per_channel_dilated_valid": dict(xshape=(1, 9, 8, 3), out_c=4, k=(3, 3), scale="per_channel",
                                      dilation=(2, 2), padding="VALID", activation="RELU"),
    # Equal per-channel scales: TFLite runs the per-tensor path.
    "per_channel_equal": dict(xshape=(1, 7, 6, 5), out_c=4, k=(3, 3), scale=[0.01] * 4),
}


def conv_case(name: str) -> tuple[bytes, list[np.ndarray]]:
    """The model and input samples of CONV_CASES[name]."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    case = dict(CONV_CASES[name])
    if case["scale"] == "per_channel":
        case["scale"] = rng.uniform(0.001, 0.02, size=case["out_c"]).astype(np.float32)
    model = conv_model(rng, **case)
    return model, random_samples(rng, case["xshape"])


@pytest.mark.parametrize("name", sorted(CONV_CASES))
def test_conv2d_hybrid(name, tmp_path):
    model, samples = conv_case(name)
    exe, files = compile_model(model, tmp_path)
    assert "model_tcc_hybrid.c" in files
    ref = run_tflite(model, samples)
    got = run_exe(exe, samples, ref.shape[1])
    assert_close(got, ref, SINGLE_OP_RTOL, f"CONV_2D {name}")


def fc_model(rng, xshape, units, *, scale, bias=True, activation="NONE", asymmetric=False,
             weights=None) -> bytes:
    depth = xshape[-1]
    batches = int(np.prod(xshape[:-1]))
    mb = ModelBuilder()
    x = mb.tensor(list(xshape), "float32", name="x")
    # Weights in [-127, 127], as converters emit them: the x86 TFLite this was measured
    # with multiplies a -128 weight by a negative quantized input as -128 * |q| (its SSE
    # dot product moves the input's sign onto the weight, and -(-128) wraps in int8)
    # in the column blocks of 16 it vectorizes; tinycc computes the true product.
    w = rng.integers(-127, 128, size=(units, depth)) if weights is None else weights
    wt = mb.tensor([units, depth], "int8", data=w, scale=scale, name="w")
    b = mb.tensor([units], "float32", data=rng.normal(size=units).astype(np.float32), name="b") if bias else -1
    y = mb.tensor([batches, units], "float32", name="y")
    extra = dict(asymmetric_quantize_inputs=True) if asymmetric else {}
    mb.op("FULLY_CONNECTED", [x, wt, b], [y], fused_activation=activation, **extra)
    return mb.build([x], [y])


FC_CASES = {
    "kws_dense": dict(xshape=(1, 64), units=12, scale=0.01),
    "batches_relu": dict(xshape=(3, 100), units=16, scale=0.003, activation="RELU"),
    "no_bias_3d_input": dict(xshape=(2, 3, 20), units=7, scale=0.02, bias=False),
    "per_channel": dict(xshape=(3, 33), units=7, scale="per_channel", activation="RELU6"),
    "asymmetric": dict(xshape=(2, 33), units=7, scale=0.02, asymmetric=True),
    "asymmetric_per_channel": dict(xshape=(2, 40), units=9, scale="per_channel", asymmetric=True,
                                   activation="RELU_N1_TO_1"),
}


def fc_case(name: str) -> tuple[bytes, list[np.ndarray]]:
    """The model and input samples of FC_CASES[name]."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    case = dict(FC_CASES[name])
    if case["scale"] == "per_channel":
        case["scale"] = rng.uniform(0.001, 0.02, size=case["units"]).astype(np.float32)
    model = fc_model(rng, **case)
    samples = random_samples(rng, case["xshape"])
    # A batch row of zeros next to a non-zero one (TFLite's zero-range case per row).
    mixed = samples[0].copy().reshape(-1, case["xshape"][-1])
    if mixed.shape[0] > 1:
        mixed[0] = 0.0
        samples.append(mixed.reshape(case["xshape"]))
    return model, samples


@pytest.mark.parametrize("name", sorted(FC_CASES))
def test_fully_connected_hybrid(name, tmp_path):
    model, samples = fc_case(name)
    exe, files = compile_model(model, tmp_path)
    assert "model_tcc_hybrid.c" in files
    ref = run_tflite(model, samples)
    got = run_exe(exe, samples, ref.shape[1])
    assert_close(got, ref, SINGLE_OP_RTOL, f"FULLY_CONNECTED {name}")


@pytest.mark.parametrize("kind,name", [("conv", "kws_first"), ("conv", "per_channel"),
                                       ("fc", "asymmetric_per_channel")])
@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m0"])
def test_hybrid_in_qemu(kind, name, target, tmp_path):
    """The same arithmetic on Cortex-M (hard float on M4, soft float on M0): as exact as on the host."""
    needs_qemu()
    model, samples = conv_case(name) if kind == "conv" else fc_case(name)
    (tmp_path / "m.tflite").write_bytes(model)
    ours, _ = run_compiled(tmp_path / "m.tflite", [[x] for x in samples], tmp_path / "run", "qemu", target)
    got = np.stack([row[0].ravel() for row in ours])
    assert_close(got, run_tflite(model, samples), SINGLE_OP_RTOL, f"{kind} {name} on {target}")


def test_input_rounding_details(tmp_path):
    """The rounding of x * inv as TFLite's x86 build does it, at the one value where it matters.

    With max|x| = 127 the input scale and its inverse are exactly 1, so x = 0.49999997f
    is quantized as is. TFLite's vector loop (the first n & ~7 values of a batch)
    computes trunc(x + 0.5) with a float sum that rounds to 1.0, so q = 1; its scalar
    tail rounds half away from zero and gets 0. One step on a weight of 1 and a weight
    scale of 1 moves the output by 1.0, so the comparison is exact.
    """
    depth = 13  # values 0..7 take the vector path, 8..12 the scalar tail
    x = np.zeros(depth, np.float32)
    x[1] = 127.0
    x[[0, 9]] = np.float32(0.49999997)
    x[[2, 12]] = np.float32(-0.49999997)
    x[3], x[10] = np.float32(0.5), np.float32(-2.5)
    weights = np.eye(depth, dtype=np.int64)  # output d is exactly q[d]
    model = fc_model(np.random.default_rng(0), (1, depth), depth, scale=1.0, bias=False, weights=weights)
    exe, _ = compile_model(model, tmp_path)
    ref = run_tflite(model, [x[None]])
    got = run_exe(exe, [x[None]], depth)
    np.testing.assert_array_equal(got, ref)
    # What this pins down (with the x86 build of TFLite this test was written against).
    expected = [1, 127, -1, 1, 0, 0, 0, 0, 0, 0, -3, 0, 0]
    if not np.array_equal(ref[0], expected):
        pytest.skip(f"this TFLite build rounds differently: {ref[0].tolist()}")


# ---------------------------------------------------------------------------
# the keyword-spotting model
# ---------------------------------------------------------------------------


def kws_inputs(rng) -> list[np.ndarray]:
    """10 inputs of shape [1, 49, 10, 1] at MFCC-like scales: 49 frames x 10 coefficients.

    MFCC coefficient 0 (log energy) is large and negative, the others are spread
    around 0; plus plain normal inputs at a few ranges.
    """
    samples = []
    for _ in range(3):
        mfcc = rng.normal(size=(49, 10)) * np.array([40.0] + [12.0] * 9) + np.array([-100.0] + [0.0] * 9)
        samples.append(mfcc)
    samples += [rng.normal(size=(49, 10)) * 10.0 for _ in range(3)]
    samples += [rng.normal(size=(49, 10)) * 30.0 - 20.0 for _ in range(2)]
    samples += [rng.normal(size=(49, 10)) * 1.0 for _ in range(2)]
    return [s.reshape(1, 49, 10, 1).astype(np.float32) for s in samples]


@pytest.fixture(scope="module")
def kws_model() -> Path:
    if not KWS.exists():
        pytest.skip(f"{KWS} not found (set TINYCC_MODELS)")
    return KWS


def _kws_op_as_model(model: tflite.Model, op_index: int) -> bytes:
    """One CONV_2D of the KWS model as a single-op model (same tensors, weights and options)."""
    sg = model.Subgraphs(0)
    op = sg.Operators(op_index)
    types = {tflite.TensorType.FLOAT32: ("float32", "<f4"), tflite.TensorType.INT8: ("int8", "i1")}
    mb = ModelBuilder()

    def copy(ti: int, const: bool) -> int:
        t = sg.Tensors(ti)
        dtype, np_type = types[t.Type()]
        q = t.Quantization()
        kw = {}
        if q is not None and q.ScaleLength():
            kw = dict(scale=q.ScaleAsNumpy(), zero_point=q.ZeroPointAsNumpy(),
                      quantized_dimension=q.QuantizedDimension())
        data = None
        if const:
            raw = model.Buffers(t.Buffer()).DataAsNumpy().tobytes()
            data = np.frombuffer(raw, np_type).reshape(t.ShapeAsNumpy())
        return mb.tensor(list(t.ShapeAsNumpy()), dtype, data=data, name=f"t{ti}", **kw)

    ins = [copy(ti, const=j > 0) for j, ti in enumerate(op.InputsAsNumpy())]
    out = copy(int(op.OutputsAsNumpy()[0]), const=False)
    o = tflite.Conv2DOptions()
    table = op.BuiltinOptions()
    o.Init(table.Bytes, table.Pos)
    mb.op("CONV_2D", ins, [out], padding={0: "SAME", 1: "VALID"}[o.Padding()],
          stride_h=o.StrideH(), stride_w=o.StrideW(), dilation_h=o.DilationHFactor(),
          dilation_w=o.DilationWFactor(), fused_activation=o.FusedActivationFunction())
    return mb.build([ins[0]], [out])


def test_kws_hybrid_layers(kws_model, tmp_path):
    """Every hybrid CONV_2D of KWS alone, fed with the input TFLite computed for it in the full model."""
    buf = kws_model.read_bytes()
    model = tflite.Model.GetRootAsModel(buf, 0)
    sg = model.Subgraphs(0)
    it = tflite_interpreter(kws_model, experimental_preserve_all_tensors=True)
    samples = kws_inputs(np.random.default_rng(2024))
    recorded = []
    for x in samples:
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        recorded.append({ti: it.get_tensor(ti).copy() for ti in range(sg.TensorsLength())
                         if sg.Tensors(ti).Type() == tflite.TensorType.FLOAT32})
    hybrid = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if kind == tflite.BuiltinOperator.CONV_2D and \
                sg.Tensors(int(op.InputsAsNumpy()[1])).Type() == tflite.TensorType.INT8:
            hybrid.append(i)
    assert len(hybrid) == 5  # the five CONV_2D of DS-CNN, all with int8 weights
    for i in hybrid:
        op = sg.Operators(i)
        t_in, t_out = int(op.InputsAsNumpy()[0]), int(op.OutputsAsNumpy()[0])
        exe, _ = compile_model(_kws_op_as_model(model, i), tmp_path / f"op{i}")
        ref = np.stack([r[t_out].ravel() for r in recorded])
        got = run_exe(exe, [r[t_in] for r in recorded], ref.shape[1])
        assert_close(got, ref, SINGLE_OP_RTOL, f"KWS op {i} CONV_2D")


def test_kws_model(kws_model, tmp_path):
    """The whole model (hybrid CONV_2D + float DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, FC, SOFTMAX).

    Tolerances: the hybrid layers are bit-exact given the same input
    (test_kws_hybrid_layers), but tinycc's float DEPTHWISE_CONV_2D rounds about an
    ulp away from TFLite's (~4e-6 on values ~50; it adds the bias last, TFLite
    first). Mostly that stays at rounding level in the output (softmax
    probabilities, measured 1e-9..6e-7 here, so <= 1e-5); now and then such an ulp
    moves one input of the next hybrid CONV_2D across a quantization step (about
    2% of random inputs in a run of 1200), which shows as up to ~3e-3 in a
    probability. So: every sample within 1e-2 with the same top class, and at
    least 8 of the 10 within 1e-5.
    """
    exe, files = compile_model(kws_model, tmp_path)
    assert "model_tcc_hybrid.c" in files
    samples = kws_inputs(np.random.default_rng(1234))
    ref = run_tflite(kws_model, samples)
    got = run_exe(exe, samples, ref.shape[1])
    per_sample = np.abs(got.astype(np.float64) - ref).max(axis=1)
    print("KWS per-sample max abs diff:", " ".join(f"{d:.2g}" for d in per_sample))
    assert per_sample.max() <= 1e-2
    assert np.array_equal(got.argmax(axis=1), ref.argmax(axis=1))
    assert (per_sample <= 1e-5).sum() >= 8


# ---------------------------------------------------------------------------
# what tinycc refuses
# ---------------------------------------------------------------------------


def test_hybrid_rejects_weight_zero_point(tmp_path):
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    x = mb.tensor([1, 8], "float32", name="x")
    w = mb.tensor([4, 8], "int8", data=rng.integers(-127, 128, size=(4, 8)), scale=0.1, zero_point=3, name="w")
    y = mb.tensor([1, 4], "float32", name="y")
    mb.op("FULLY_CONNECTED", [x, w, -1], [y])
    (tmp_path / "m.tflite").write_bytes(mb.build([x], [y]))
    with pytest.raises(TinyccError, match="zero points"):
        driver.build(str(tmp_path / "m.tflite"), str(tmp_path / "out"))


def test_hybrid_rejects_grouped_conv(tmp_path):
    rng = np.random.default_rng(0)
    mb = ModelBuilder()
    x = mb.tensor([1, 4, 4, 4], "float32", name="x")
    w = mb.tensor([4, 1, 1, 2], "int8", data=rng.integers(-127, 128, size=(4, 1, 1, 2)), scale=0.1, name="w")
    b = mb.tensor([4], "float32", data=np.zeros(4, np.float32), name="b")
    y = mb.tensor([1, 4, 4, 4], "float32", name="y")
    mb.op("CONV_2D", [x, w, b], [y])
    (tmp_path / "m.tflite").write_bytes(mb.build([x], [y]))
    with pytest.raises(TinyccError, match="grouped"):
        driver.build(str(tmp_path / "m.tflite"), str(tmp_path / "out"))
