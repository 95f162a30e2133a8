"""Tests for the test-model infrastructure (tinycc.testing) and the samples.

Every generated model must load and run in the TFLite Micro interpreter,
carry converter-like quantization, and be byte-for-byte reproducible.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import tflite

from tinycc.testing import models as M
from tinycc.testing.tflite_writer import ModelBuilder

tflite_micro = pytest.importorskip("tflite_micro", reason="tflite-micro not installed")
runtime = tflite_micro.runtime

REPO = Path(__file__).resolve().parent.parent
ARENA = 512 * 1024


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def parse(buf: bytes) -> tflite.Model:
    return tflite.Model.GetRootAsModel(buf, 0)


def random_inputs(buf: bytes, seed: int) -> list[np.ndarray]:
    """Random inputs spread over each input's full range (int8) or [-1, 1]."""
    rng = np.random.default_rng(seed)
    sg = parse(buf).Subgraphs(0)
    arrays = []
    for i in range(sg.InputsLength()):
        t = sg.Tensors(sg.Inputs(i))
        shape = tuple(t.ShapeAsNumpy()) if t.ShapeLength() else ()
        if t.Type() == tflite.TensorType.INT8:
            arrays.append(rng.integers(-128, 128, size=shape).astype(np.int8))
        else:
            arrays.append(rng.uniform(-1.0, 1.0, size=shape).astype(np.float32))
    return arrays


def run_tflm(buf: bytes, inputs: list[np.ndarray]) -> np.ndarray:
    """Run the model in TFLite Micro and return output 0."""
    interp = runtime.Interpreter.from_bytes(buf, arena_size=ARENA)
    for i, arr in enumerate(inputs):
        interp.set_input(arr, i)
    interp.invoke()
    return interp.get_output(0)


def tensor_quant(t) -> tuple[np.ndarray, np.ndarray, int]:
    q = t.Quantization()
    return q.ScaleAsNumpy(), q.ZeroPointAsNumpy(), q.QuantizedDimension()


# ---------------------------------------------------------------------------
# writer
# ---------------------------------------------------------------------------


def _tiny_model(op="TANH", **options) -> bytes:
    mb = ModelBuilder()
    x = mb.tensor([1, 4], "float32", name="x")
    y = mb.tensor([1, 4], "float32", name="y")
    mb.op(op, [x], [y], **options)
    return mb.build([x], [y])


def test_writer_structure():
    mb = ModelBuilder()
    x = mb.tensor([1, 2, 2, 1], "int8", scale=0.5, zero_point=-3, name="x")
    w = mb.tensor([2, 1, 1, 1], "int8", data=np.array([1, -2]).reshape(2, 1, 1, 1),
                  scale=[0.1, 0.2], zero_point=[0, 0], name="w")
    b = mb.tensor([2], "int32", data=np.array([5, -5]), scale=[0.05, 0.1], name="b")
    y = mb.tensor([1, 2, 2, 2], "int8", scale=0.25, zero_point=7, name="y")
    mb.op("CONV_2D", [x, w, b], [y], padding="VALID", fused_activation="RELU")
    buf = mb.build([x], [y])

    assert buf[4:8] == b"TFL3"
    model = parse(buf)
    assert model.Version() == 3
    assert model.Buffers(0).DataLength() == 0
    sg = model.Subgraphs(0)
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        assert t.Buffer() != 0
        constant = t.Name().decode() in ("w", "b")
        assert (model.Buffers(t.Buffer()).DataLength() > 0) == constant
    scales, zps, _ = tensor_quant(sg.Tensors(w))
    np.testing.assert_allclose(scales, [0.1, 0.2], rtol=1e-6)
    assert list(zps) == [0, 0]
    assert list(tensor_quant(sg.Tensors(b))[1]) == [0, 0]  # zero points default to 0
    op = sg.Operators(0)
    assert op.BuiltinOptionsType() == tflite.BuiltinOptions.Conv2DOptions
    opts = tflite.Conv2DOptions()
    opts.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
    assert opts.Padding() == tflite.Padding.VALID
    assert opts.FusedActivationFunction() == tflite.ActivationFunctionType.RELU

    # Constant data is 16-byte aligned within the file.
    for i in range(1, model.BuffersLength()):
        buffer = model.Buffers(i)
        if buffer.DataLength():
            offset = buffer._tab.Vector(buffer._tab.Offset(4))
            assert offset % 16 == 0


def test_writer_opcodes_and_options():
    # Codes <= 127 are stored in both fields; larger ones use the placeholder.
    buf = _tiny_model("TANH")
    code = parse(buf).OperatorCodes(0)
    assert code.BuiltinCode() == code.DeprecatedBuiltinCode() == tflite.BuiltinOperator.TANH
    big = tflite.BuiltinOperator.GELU
    assert big > 127
    code = parse(_tiny_model(big)).OperatorCodes(0)
    assert (code.BuiltinCode(), code.DeprecatedBuiltinCode()) == (big, 127)
    # Option-less ops and ops whose options are optional carry no options.
    assert parse(_tiny_model("MUL")).Subgraphs(0).Operators(0).BuiltinOptionsType() == 0
    with pytest.raises(ValueError):
        _tiny_model("CONV_2D", bogus=1)
    with pytest.raises(ValueError):
        _tiny_model("TANH", fused_activation="RELU")
    with pytest.raises(ValueError):
        _tiny_model("NOT_AN_OP")


def test_writer_unsupported_op_runs_in_tflm():
    buf = _tiny_model("TANH")
    out = run_tflm(buf, [np.array([[0.0, 1.0, -1.0, 3.0]], np.float32)])
    np.testing.assert_allclose(out, np.tanh([[0.0, 1.0, -1.0, 3.0]]), rtol=1e-5)


def test_writer_optional_input():
    mb = ModelBuilder()
    x = mb.tensor([1, 4], "float32")
    w = mb.tensor([3, 4], "float32", data=np.ones((3, 4)))
    y = mb.tensor([1, 3], "float32")
    mb.op("FULLY_CONNECTED", [x, w, -1], [y])
    out = run_tflm(mb.build([x], [y]), [np.array([[1, 2, 3, 4]], np.float32)])
    np.testing.assert_allclose(out, [[10, 10, 10]])


# ---------------------------------------------------------------------------
# single-op generators
# ---------------------------------------------------------------------------

GENERATORS = {
    "conv_same_s2": lambda r, dt: M.conv2d(r, (1, 9, 7, 3), 5, (3, 2), (2, 1), "SAME", (1, 1), "RELU", dt),
    "conv_valid_dil": lambda r, dt: M.conv2d(r, (1, 10, 9, 2), 4, (3, 3), (1, 1), "VALID", (2, 2), "RELU6", dt),
    "conv_per_tensor": lambda r, dt: M.conv2d(r, (1, 6, 6, 4), 3, (1, 1), (1, 1), "VALID", (1, 1), "NONE", dt,
                                              per_channel=False),
    "depthwise_m2": lambda r, dt: M.depthwise_conv2d(r, (1, 9, 7, 3), 2, (3, 3), (2, 2), "SAME", (1, 1),
                                                     "RELU_N1_TO_1", dt),
    "depthwise_valid_dil": lambda r, dt: M.depthwise_conv2d(r, (1, 8, 8, 4), 1, (3, 2), (1, 1), "VALID", (2, 1),
                                                            "NONE", dt),
    "fc": lambda r, dt: M.fully_connected(r, (1, 20), 7, "RELU", dt),
    "fc_4d_rows": lambda r, dt: M.fully_connected(r, (1, 3, 4, 5), 6, "NONE", dt),
    "fc_keep_dims": lambda r, dt: M.fully_connected(r, (1, 3, 4, 5), 6, "NONE", dt, keep_num_dims=True),
    "avg_pool_same": lambda r, dt: M.average_pool2d(r, (1, 9, 7, 3), (3, 3), (2, 2), "SAME", "NONE", dt),
    "avg_pool_valid": lambda r, dt: M.average_pool2d(r, (1, 8, 8, 2), (2, 3), (2, 1), "VALID", "RELU", dt),
    "max_pool": lambda r, dt: M.max_pool2d(r, (1, 9, 7, 3), (3, 3), (2, 2), "SAME", "NONE", dt),
    "add": lambda r, dt: M.add(r, (1, 4, 5, 3), "NONE", dt),
    "add_relu": lambda r, dt: M.add(r, (1, 6, 2), "RELU", dt),
    "reshape": lambda r, dt: M.reshape(r, (1, 2, 3, 4), (1, -1), dt),
    "reshape_option_only": lambda r, dt: M.reshape(r, (1, 2, 3, 4), (6, 4), dt, shape_tensor=False),
    "reshape_tensor_only": lambda r, dt: M.reshape(r, (1, 24), (1, 2, 3, 4), dt, shape_option=False),
    "softmax": lambda r, dt: M.softmax(r, (1, 10), 1.0, dt),
    "softmax_3d_beta": lambda r, dt: M.softmax(r, (2, 3, 10), 0.5, dt),
}

EXPECTED_SHAPES = {
    "conv_same_s2": (1, 5, 7, 5),
    "conv_valid_dil": (1, 6, 5, 4),
    "conv_per_tensor": (1, 6, 6, 3),
    "depthwise_m2": (1, 5, 4, 6),
    "depthwise_valid_dil": (1, 4, 7, 4),
    "fc": (1, 7),
    "fc_4d_rows": (12, 6),
    "fc_keep_dims": (1, 3, 4, 6),
    "avg_pool_same": (1, 5, 4, 3),
    "avg_pool_valid": (1, 4, 6, 2),
    "max_pool": (1, 5, 4, 3),
    "add": (1, 4, 5, 3),
    "add_relu": (1, 6, 2),
    "reshape": (1, 24),
    "reshape_option_only": (6, 4),
    "reshape_tensor_only": (1, 2, 3, 4),
    "softmax": (1, 10),
    "softmax_3d_beta": (2, 3, 10),
}


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_runs_in_tflm(name, dtype):
    varied = 0
    seeds = range(4)
    for seed in seeds:
        buf = GENERATORS[name](np.random.default_rng(seed), dtype)
        out = run_tflm(buf, random_inputs(buf, seed + 100))
        assert out.shape == EXPECTED_SHAPES[name]
        assert out.dtype == (np.int8 if dtype == "int8" else np.float32)
        if dtype == "float32":
            assert np.all(np.isfinite(out))
        varied += np.unique(out).size > 1
    assert varied >= len(seeds) - 1, "outputs are constant on most seeds"


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_is_deterministic(name):
    a = GENERATORS[name](np.random.default_rng(7), "int8")
    b = GENERATORS[name](np.random.default_rng(7), "int8")
    c = GENERATORS[name](np.random.default_rng(8), "int8")
    assert a == b
    assert a != c


def test_int8_output_uses_the_range():
    """Calibrated outputs neither collapse nor saturate for random inputs."""
    for seed in range(3):
        buf = M.conv2d(np.random.default_rng(seed), (1, 8, 8, 3), 8)
        out = run_tflm(buf, random_inputs(buf, seed)).astype(int)
        assert out.max() - out.min() > 100
        assert np.mean((out == -128) | (out == 127)) < 0.05


def test_conv_quantization_is_converter_like():
    buf = M.conv2d(np.random.default_rng(3), (1, 6, 6, 3), 5, (3, 3))
    sg = parse(buf).Subgraphs(0)
    op = sg.Operators(0)
    x, w, b = (sg.Tensors(op.Inputs(i)) for i in range(3))
    y = sg.Tensors(op.Outputs(0))
    x_scale, x_zp, _ = tensor_quant(x)
    w_scale, w_zp, w_dim = tensor_quant(w)
    b_scale, b_zp, _ = tensor_quant(b)
    assert w.Type() == tflite.TensorType.INT8 and b.Type() == tflite.TensorType.INT32
    assert len(x_scale) == 1 and -128 <= x_zp[0] <= 127
    assert w_dim == 0 and len(w_scale) == 5 and not w_zp.any()
    np.testing.assert_allclose(b_scale, x_scale[0] * w_scale, rtol=1e-6)
    assert not b_zp.any()
    y_scale, y_zp, _ = tensor_quant(y)
    assert len(y_scale) == 1 and -128 <= y_zp[0] <= 127
    model = parse(buf)
    wq = np.frombuffer(model.Buffers(w.Buffer()).DataAsNumpy().tobytes(), np.int8)
    assert wq.min() >= -127  # symmetric narrow range
    assert np.abs(wq.reshape(5, -1)).max(axis=1).min() == 127  # each channel uses its range


def test_depthwise_and_fc_quantized_dimensions():
    sg = parse(M.depthwise_conv2d(np.random.default_rng(0), (1, 5, 5, 3), 2)).Subgraphs(0)
    scales, zps, dim = tensor_quant(sg.Tensors(sg.Operators(0).Inputs(1)))
    assert dim == 3 and len(scales) == 6 and not zps.any()
    sg = parse(M.fully_connected(np.random.default_rng(0), (1, 16), 4)).Subgraphs(0)
    w = sg.Tensors(sg.Operators(0).Inputs(1))
    assert list(w.ShapeAsNumpy()) == [4, 16]
    assert len(tensor_quant(w)[0]) == 1


def test_same_scale_ops_and_softmax_output():
    for buf in (M.average_pool2d(np.random.default_rng(0)), M.reshape(np.random.default_rng(0))):
        sg = parse(buf).Subgraphs(0)
        xin = tensor_quant(sg.Tensors(sg.Inputs(0)))
        out = tensor_quant(sg.Tensors(sg.Outputs(0)))
        assert xin[0][0] == out[0][0] and xin[1][0] == out[1][0]
    sg = parse(M.softmax(np.random.default_rng(0))).Subgraphs(0)
    scale, zp, _ = tensor_quant(sg.Tensors(sg.Outputs(0)))
    assert scale[0] == np.float32(1 / 256) and zp[0] == -128


STRESS = {
    "in_zp_min": lambda r: M.conv2d(r, (1, 6, 6, 2), 3, in_zero_point=-128),
    "in_zp_max": lambda r: M.conv2d(r, (1, 6, 6, 2), 3, in_zero_point=127),
    "out_zp_min": lambda r: M.depthwise_conv2d(r, (1, 6, 6, 2), 1, out_zero_point=-128),
    "out_zp_max": lambda r: M.fully_connected(r, (1, 16), 4, out_zero_point=127),
    "tiny_out_scale": lambda r: M.conv2d(r, (1, 6, 6, 2), 3, out_scale=1e-6),
    "huge_out_scale": lambda r: M.conv2d(r, (1, 6, 6, 2), 3, out_scale=1e4),
    "tiny_in_scale": lambda r: M.fully_connected(r, (1, 8), 3, in_scale=1e-7),
    "huge_weights": lambda r: M.depthwise_conv2d(r, (1, 6, 6, 2), 2, weight_gain=1e5),
    "tiny_weights": lambda r: M.conv2d(r, (1, 6, 6, 2), 3, weight_gain=1e-6),
    "add_mismatched_scales": lambda r: M.add(r, (1, 3, 3, 2), in_scale=(1e-4, 1.0), in_zero_point=(-128, 127)),
    "softmax_huge_in": lambda r: M.softmax(r, (1, 10), in_scale=10.0, in_zero_point=0),
    "pool_extreme_zp": lambda r: M.average_pool2d(r, (1, 6, 6, 2), in_scale=1e-3, in_zero_point=127),
}


@pytest.mark.parametrize("name", sorted(STRESS))
def test_stress_quantization_runs(name):
    buf = STRESS[name](np.random.default_rng(0))
    out = run_tflm(buf, random_inputs(buf, 1))
    assert out.dtype == np.int8


def test_choose_qparams():
    assert M.choose_qparams(0.0, 2.55) == (np.float32(0.01), -128)
    scale, zp = M.choose_qparams(-1.0, 1.0)
    assert abs(scale - 2 / 255) < 1e-7 and zp in (-1, 0)
    scale, zp = M.choose_qparams(-3.0, 1.0, zero_point=-128)  # fixed zp: range [0, ...]
    assert zp == -128 and scale == pytest.approx(1.0 / 255, rel=1e-6)
    assert M.choose_qparams(5.0, 5.0)[1] == -128  # range widened to contain 0


# ---------------------------------------------------------------------------
# random networks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_random_networks_run(dtype):
    ops_seen = set()
    varied = 0
    seeds = range(12)
    for seed in seeds:
        buf = M.random_network(np.random.default_rng(seed), dtype)
        model = parse(buf)
        for i in range(model.OperatorCodesLength()):
            ops_seen.add(model.OperatorCodes(i).BuiltinCode())
        out = run_tflm(buf, random_inputs(buf, seed))
        assert out.ndim == 2 and out.shape[0] == 1
        if dtype == "float32":
            assert abs(float(out.sum()) - 1.0) < 1e-4
        varied += np.unique(out).size > 1
    assert varied >= len(seeds) - 2
    B = tflite.BuiltinOperator
    assert {B.CONV_2D, B.DEPTHWISE_CONV_2D, B.ADD, B.RESHAPE, B.FULLY_CONNECTED, B.SOFTMAX,
            B.AVERAGE_POOL_2D} <= ops_seen


def test_random_network_twins_agree():
    """int8 and float32 models from one seed compute nearly the same thing."""
    for seed in range(6):
        qbuf = M.random_network(np.random.default_rng(seed), "int8")
        fbuf = M.random_network(np.random.default_rng(seed), "float32")
        interp = runtime.Interpreter.from_bytes(qbuf, arena_size=ARENA)
        qp = interp.get_input_details(0)["quantization_parameters"]
        q = random_inputs(qbuf, seed)[0]
        x = ((q.astype(np.float32) - qp["zero_points"][0]) * qp["scales"][0]).astype(np.float32)
        prob_q = (run_tflm(qbuf, [q]).astype(np.float32) + 128) / 256
        prob_f = run_tflm(fbuf, [x])
        assert np.abs(prob_q - prob_f).max() < 0.15


def test_random_network_deterministic():
    a = M.random_network(np.random.default_rng(42), "int8")
    assert a == M.random_network(np.random.default_rng(42), "int8")
    assert a != M.random_network(np.random.default_rng(43), "int8")


# ---------------------------------------------------------------------------
# samples
# ---------------------------------------------------------------------------


def _load_sample_script():
    path = REPO / "samples" / "make_samples.py"
    spec = importlib.util.spec_from_file_location("make_samples", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_samples_are_reproducible(tmp_path, capsys):
    script = _load_sample_script()
    first = {p.name: p.read_bytes() for p in script.main(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in script.main(tmp_path / "b")}
    assert first == second
    assert set(first) == {"kws_tiny_int8.tflite", "kws_tiny_f32.tflite", "kws_tiny_input.bin"}
    for name, data in first.items():
        assert len(data) < 50_000
        committed = REPO / "samples" / name
        if committed.exists():
            assert committed.read_bytes() == data, f"samples/{name} is stale: rerun samples/make_samples.py"


def test_kws_sample_runs():
    script = _load_sample_script()
    q = script.demo_input()
    assert q.shape == (1, 49, 10, 1) and q.dtype == np.int8
    qbuf, fbuf = script.kws_tiny("int8"), script.kws_tiny("float32")
    prob_q = (run_tflm(qbuf, [q]).astype(np.float32) + 128) / 256
    x = ((q.astype(np.float32) - script.INPUT_ZERO_POINT) * script.INPUT_SCALE).astype(np.float32)
    prob_f = run_tflm(fbuf, [x])
    assert prob_q.shape == prob_f.shape == (1, 12)
    assert np.abs(prob_q - prob_f).max() < 0.1
    assert prob_f.max() < 0.99  # informative, not one-hot
    ops = [parse(qbuf).OperatorCodes(i).BuiltinCode() for i in range(parse(qbuf).OperatorCodesLength())]
    B = tflite.BuiltinOperator
    assert set(ops) == {B.CONV_2D, B.DEPTHWISE_CONV_2D, B.AVERAGE_POOL_2D, B.RESHAPE, B.FULLY_CONNECTED,
                        B.SOFTMAX}
