"""int16 activations (TFLite's 16x8 quantization: int16 activations with zero point 0, int8 weights,
int64 or int32 bias): single-op models on the host and one small conv -> dw -> fc -> softmax model
on the host and in QEMU, bit for bit against TFLite Micro; the refusals TFLite Micro also makes."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver
from tinycc.errors import TinyccError
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import needs_qemu

RNG = np.random.default_rng(16)


def _weights(mb, shape, channels, axis):
    """int8 weights with per-channel scales along ``axis`` (``channels`` > 1) or one scale."""
    scales = list(RNG.uniform(0.002, 0.02, channels)) if channels > 1 else 0.01
    return mb.tensor(shape, "int8", data=RNG.integers(-127, 128, shape), scale=scales, quantized_dimension=axis)


def _bias(mb, n, dtype):
    if dtype is None:
        return -1
    lim = 2**20 if dtype == "int64" else 2**16
    return mb.tensor([n], dtype, data=RNG.integers(-lim, lim, n), scale=1e-5)


def weighted_model(kind: str, bias: str | None = "int64", channels: int = 8, activation: str = "NONE",
                   **opts) -> bytes:
    """One 16x8 FULLY_CONNECTED, CONV_2D or DEPTHWISE_CONV_2D: input scale 1/4096, output 1/512."""
    mb = ModelBuilder(f"tinycc int16 {kind}")
    if kind == "FULLY_CONNECTED":
        x = mb.tensor([3, 40], "int16", scale=1 / 4096, zero_point=0)
        w = _weights(mb, [channels, 40], channels, 0)
        y = mb.tensor([3, channels], "int16", scale=1 / 512, zero_point=0)
    elif kind == "CONV_2D":
        x = mb.tensor([1, 7, 6, 4], "int16", scale=1 / 4096, zero_point=0)
        w = _weights(mb, [channels, 3, 3, 4], channels, 0)
        oh, ow = (7 + opts.get("stride_h", 1) - 1) // opts.get("stride_h", 1), 6
        y = mb.tensor([1, oh, ow, channels], "int16", scale=1 / 512, zero_point=0)
    else:
        x = mb.tensor([1, 6, 5, channels], "int16", scale=1 / 4096, zero_point=0)
        w = _weights(mb, [1, 3, 3, channels], channels, 3)
        y = mb.tensor([1, 6, 5, channels], "int16", scale=1 / 512, zero_point=0)
    mb.op(kind, [x, w, _bias(mb, channels, bias)], [y], fused_activation=activation, **opts)
    return mb.build([x], [y])


@pytest.mark.parametrize("kind,bias,channels,activation,opts", [
    ("FULLY_CONNECTED", "int64", 8, "NONE", {}),
    ("FULLY_CONNECTED", "int32", 1, "RELU", {}),
    ("FULLY_CONNECTED", None, 5, "RELU6", {}),
    ("CONV_2D", "int64", 8, "RELU", {}),
    ("CONV_2D", "int32", 6, "NONE", {"stride_h": 2}),
    ("CONV_2D", None, 1, "RELU_N1_TO_1", {}),
    ("DEPTHWISE_CONV_2D", "int64", 8, "NONE", {}),
    ("DEPTHWISE_CONV_2D", "int64", 3, "RELU6", {"dilation_h": 2}),
])
def test_weighted_ops(tmp_path, check_model, kind, bias, channels, activation, opts):
    path = tmp_path / "m.tflite"
    path.write_bytes(weighted_model(kind, bias, channels, activation, **opts))
    check_model(path, samples=3)


@pytest.mark.parametrize("bias", ["int32", None])
def test_depthwise_needs_int64_bias(tmp_path, bias):
    """TFLite Micro's 16x8 depthwise kernel reads its bias as int64 whatever its type (garbage from
    an int32 bias, a crash without one): tinycc refuses both, naming the op."""
    path = tmp_path / "m.tflite"
    path.write_bytes(weighted_model("DEPTHWISE_CONV_2D", bias, 3))
    with pytest.raises(TinyccError, match=r"operator 0 \(DEPTHWISE_CONV_2D\).*int64 bias"):
        driver.compile_graph(str(path))
