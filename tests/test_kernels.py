"""Kernel tests: every op alone, many shapes and parameters, against TFLite Micro (host; a subset in QEMU)."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from tinycc.testing import models as M

from .conftest import needs_qemu

ACTS = ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]

CONV_CASES = [
    # in_shape, out_ch, kernel, stride, padding, dilation, act
    ((1, 8, 8, 3), 4, (3, 3), (1, 1), "SAME", (1, 1), "NONE"),
    ((1, 9, 7, 5), 6, (3, 3), (2, 2), "SAME", (1, 1), "RELU"),
    ((1, 10, 10, 4), 8, (3, 3), (2, 2), "VALID", (1, 1), "RELU6"),
    ((1, 12, 9, 2), 3, (3, 2), (1, 2), "SAME", (2, 2), "RELU_N1_TO_1"),
    ((1, 49, 10, 1), 16, (10, 4), (2, 2), "SAME", (1, 1), "RELU"),
    ((1, 6, 6, 16), 8, (1, 1), (1, 1), "VALID", (1, 1), "NONE"),
    ((2, 7, 7, 3), 5, (5, 5), (3, 3), "SAME", (1, 1), "RELU"),
    ((1, 11, 13, 7), 2, (4, 4), (1, 1), "SAME", (3, 2), "NONE"),
]


def _id(case):
    return "-".join(str(x).replace(" ", "") for x in case)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("case", CONV_CASES, ids=_id)
def test_conv2d(case, dtype, tmp_path, check_model):
    in_shape, oc, k, s, pad, dil, act = case
    rng = np.random.default_rng(zlib.crc32(_id(case).encode()))
    path = tmp_path / "m.tflite"
    path.write_bytes(M.conv2d(rng, in_shape, oc, k, s, pad, dil, act, dtype))
    check_model(path, samples=4)


def test_conv2d_per_tensor_weights(tmp_path, check_model):
    path = tmp_path / "m.tflite"
    path.write_bytes(M.conv2d(np.random.default_rng(1), (1, 8, 8, 4), 6, (3, 3), (1, 1), "SAME", (1, 1),
                              "RELU", "int8", per_channel=False))
    check_model(path, samples=4)


@pytest.mark.parametrize("zp", [-128, 127, 0])
def test_conv2d_extreme_zero_points(zp, tmp_path, check_model):
    path = tmp_path / "m.tflite"
    path.write_bytes(M.conv2d(np.random.default_rng(zp + 500), (1, 7, 7, 3), 4, (3, 3), (2, 2), "SAME", (1, 1),
                              "NONE", "int8", in_zero_point=zp, out_zero_point=-zp if zp != -128 else 127))
    check_model(path, samples=4)


DW_CASES = [
    ((1, 8, 8, 4), 1, (3, 3), (1, 1), "SAME", (1, 1), "RELU"),
    ((1, 9, 9, 3), 2, (3, 3), (2, 2), "SAME", (1, 1), "NONE"),
    ((1, 10, 7, 8), 1, (3, 3), (2, 2), "VALID", (1, 1), "RELU6"),
    ((1, 12, 12, 2), 3, (5, 3), (1, 1), "SAME", (2, 3), "RELU_N1_TO_1"),
    ((2, 6, 6, 5), 1, (2, 2), (2, 1), "SAME", (1, 1), "NONE"),
    ((1, 10, 11, 2), 1, (9, 8), (1, 2), "SAME", (1, 1), "RELU"),   # over 25 taps: tcc_depthwise.c's reference loop
]


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("case", DW_CASES, ids=_id)
def test_depthwise_conv2d(case, dtype, tmp_path, check_model):
    in_shape, mult, k, s, pad, dil, act = case
    rng = np.random.default_rng(zlib.crc32(_id(case).encode()))
    path = tmp_path / "m.tflite"
    path.write_bytes(M.depthwise_conv2d(rng, in_shape, mult, k, s, pad, dil, act, dtype))
    check_model(path, samples=4)


FC_CASES = [((1, 16), 8, "NONE", False), ((1, 64), 12, "RELU", False), ((3, 10), 5, "RELU6", False),
            ((1, 2, 2, 8), 4, "NONE", False), ((2, 3, 6), 7, "RELU_N1_TO_1", True), ((1, 640), 128, "RELU", False)]


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("case", FC_CASES, ids=_id)
def test_fully_connected(case, dtype, tmp_path, check_model):
    in_shape, units, act, keep = case
    rng = np.random.default_rng(zlib.crc32(_id(case).encode()))
    path = tmp_path / "m.tflite"
    path.write_bytes(M.fully_connected(rng, in_shape, units, act, dtype, keep_num_dims=keep))
    check_model(path, samples=4)


POOL_CASES = [((1, 8, 8, 3), (2, 2), (2, 2), "VALID", "NONE"), ((1, 9, 9, 4), (3, 3), (2, 2), "SAME", "RELU"),
              ((1, 25, 5, 64), (25, 5), (1, 1), "VALID", "NONE"), ((1, 7, 5, 2), (3, 2), (1, 2), "SAME", "RELU6"),
              ((2, 6, 6, 3), (4, 4), (3, 3), "SAME", "NONE")]


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("case", POOL_CASES, ids=_id)
def test_average_pool2d(case, dtype, tmp_path, check_model):
    in_shape, f, s, pad, act = case
    rng = np.random.default_rng(zlib.crc32(_id(case).encode()))
    path = tmp_path / "m.tflite"
    path.write_bytes(M.average_pool2d(rng, in_shape, f, s, pad, act, dtype))
    check_model(path, samples=4)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("shape,act", [((1, 8, 8, 3), "NONE"), ((1, 5, 5, 16), "RELU"), ((4, 7), "RELU6"),
                                       ((1, 33), "RELU_N1_TO_1")])
def test_add(shape, act, dtype, tmp_path, check_model):
    rng = np.random.default_rng(sum(shape) + len(act))
    path = tmp_path / "m.tflite"
    path.write_bytes(M.add(rng, shape, act, dtype))
    check_model(path, samples=4)


def test_add_different_scales(tmp_path, check_model):
    path = tmp_path / "m.tflite"
    path.write_bytes(M.add(np.random.default_rng(3), (1, 4, 4, 8), "NONE", "int8",
                           in_scale=(0.02, 0.5), in_zero_point=(-100, 30)))
    check_model(path, samples=4)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("shape,beta", [((1, 10), 1.0), ((1, 12), 0.5), ((3, 7), 2.0), ((1, 2, 2, 5), 1.0),
                                        ((1, 1000), 1.0)])
def test_softmax(shape, beta, dtype, tmp_path, check_model):
    rng = np.random.default_rng(len(shape) * 100 + shape[-1])
    path = tmp_path / "m.tflite"
    path.write_bytes(M.softmax(rng, shape, beta, dtype))
    check_model(path, samples=6)


@pytest.mark.parametrize("in_scale", [0.001, 0.05, 0.5, 4.0])
def test_softmax_input_scales(in_scale, tmp_path, check_model):
    path = tmp_path / "m.tflite"
    path.write_bytes(M.softmax(np.random.default_rng(7), (2, 16), 1.0, "int8", in_scale=in_scale,
                               in_zero_point=3))
    check_model(path, samples=6)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_reshape(dtype, tmp_path, check_model):
    path = tmp_path / "m.tflite"
    path.write_bytes(M.reshape(np.random.default_rng(2), (1, 4, 3, 2), (1, 24), dtype))
    check_model(path, samples=3)


# A representative subset on the device: every kernel once in QEMU (Cortex-M4).
QEMU_MODELS = [
    lambda r: M.conv2d(r, (1, 9, 7, 5), 6, (3, 3), (2, 2), "SAME", (1, 1), "RELU", "int8"),
    lambda r: M.depthwise_conv2d(r, (1, 9, 9, 3), 2, (3, 3), (2, 2), "SAME", (1, 1), "NONE", "int8"),
    lambda r: M.fully_connected(r, (1, 64), 12, "RELU", "int8"),
    lambda r: M.average_pool2d(r, (1, 9, 9, 4), (3, 3), (2, 2), "SAME", "RELU", "int8"),
    lambda r: M.add(r, (1, 5, 5, 16), "RELU", "int8"),
    lambda r: M.softmax(r, (3, 7), 2.0, "int8"),
    lambda r: M.conv2d(r, (1, 8, 8, 3), 4, (3, 3), (1, 1), "SAME", (1, 1), "RELU6", "float32"),
    lambda r: M.softmax(r, (2, 10), 1.0, "float32"),
]


@pytest.mark.parametrize("k", range(len(QEMU_MODELS)))
def test_kernels_in_qemu(k, tmp_path, check_model):
    needs_qemu()
    path = tmp_path / "m.tflite"
    path.write_bytes(QEMU_MODELS[k](np.random.default_rng(k)))
    instr = check_model(path, samples=3, mode="qemu")
    assert instr and all(i > 0 for i in instr)


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("case", POOL_CASES, ids=_id)
def test_max_pool2d(case, dtype, tmp_path, check_model):
    in_shape, f, s, pad, act = case
    rng = np.random.default_rng(zlib.crc32(_id(case).encode()) + 1)
    path = tmp_path / "m.tflite"
    path.write_bytes(M.max_pool2d(rng, in_shape, f, s, pad, act, dtype))
    check_model(path, samples=4)


BROADCASTS = [((1, 4, 4, 8), (8,)), ((1, 4, 4, 8), (1, 1, 1, 8)), ((1, 4, 1, 3), (1, 1, 5, 1)),
              ((2, 3), (1,)), ((1, 2, 3, 4, 5), (1, 2, 1, 4, 1)), ((5,), (3, 1))]


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("sa,sb", BROADCASTS, ids=_id)
@pytest.mark.parametrize("const_b", [False, True])
def test_add_broadcast(sa, sb, const_b, dtype, tmp_path, check_model):
    from tinycc.testing.tflite_writer import ModelBuilder
    rng = np.random.default_rng(zlib.crc32(_id((sa, sb, const_b, dtype)).encode()))
    out_shape = np.broadcast_shapes(sa, sb)
    q = (lambda s, z: dict(scale=s, zero_point=z)) if dtype == "int8" else (lambda s, z: {})
    b = ModelBuilder()
    x = b.tensor(list(sa), dtype, name="a", **q(0.05, -3))
    if const_b:
        data = (rng.integers(-128, 128, sb).astype(np.int8) if dtype == "int8"
                else rng.standard_normal(sb).astype(np.float32))
        y = b.tensor(list(sb), dtype, name="b", data=data, **q(0.11, 7))
    else:
        y = b.tensor(list(sb), dtype, name="b", **q(0.11, 7))
    z = b.tensor(list(out_shape), dtype, name="sum", **q(0.09, 2))
    b.op("ADD", [x, y], [z], fused_activation="RELU" if const_b else "NONE")
    path = tmp_path / "m.tflite"
    path.write_bytes(b.build([x] if const_b else [x, y], [z]))
    check_model(path, samples=3)


def test_softmax_int8_large_sums(tmp_path):
    """Rows whose sum of exponentials reaches 2^28 (512+ values near the maximum): TFLite's
    formula would shift an int32 by 32+ bits there and TFLite Micro aborts on an assertion, so
    those rows are checked against the real softmax: every probability is below 1/512, under
    half an output step (1/256), so every output is the lowest value. Ordinary rows of the
    same model are checked against TFLite Micro."""
    from .conftest import assert_match, reference_outputs, run_compiled
    path = tmp_path / "m.tflite"
    scale = 0.05
    path.write_bytes(M.softmax(np.random.default_rng(3), (1, 1000), 1.0, "int8", in_scale=scale, in_zero_point=0))
    rng = np.random.default_rng(5)
    normal = [[rng.integers(-128, 128, size=(1, 1000), dtype=np.int8)] for _ in range(2)]
    large = [[np.full((1, 1000), v, np.int8)] for v in (-128, 0, 127)]
    large += [[rng.integers(124, 128, size=(1, 1000), dtype=np.int8)],
              [np.where(rng.random((1, 1000)) < 0.6, 127, -128).astype(np.int8)]]
    ours, _ = run_compiled(path, normal + large, tmp_path)
    assert_match(ours[:len(normal)], reference_outputs(path, normal, 1))
    for (x,), (y,) in zip(large, ours[len(normal):]):
        e = np.exp((x.astype(np.float64) - x.max()) * scale)
        p = e / e.sum()
        assert p.max() < 1 / 512
        assert (y == -128).all(), np.unique(y)
