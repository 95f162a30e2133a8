"""int16 activations (TFLite's 16x8 quantization: int16 activations with zero point 0, int8 weights,
int64 or int32 bias): single-op models on the host and one small conv -> dw -> fc -> softmax model
on the host and in QEMU, bit for bit against TFLite Micro; the refusals TFLite Micro also makes."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver, ir
from tinycc.errors import TinyccError
from tinycc.testing.models_elementwise import ElementwiseBuilder
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import assert_match, needs_qemu, reference_outputs, run_compiled

RNG = np.random.default_rng(16)


def _weights(mb, shape, channels, axis, rng=RNG):
    """int8 weights with per-channel scales along ``axis`` (``channels`` > 1) or one scale."""
    scales = list(rng.uniform(0.002, 0.02, channels)) if channels > 1 else [0.01]
    return mb.tensor(shape, "int8", data=rng.integers(-127, 128, shape), scale=scales, quantized_dimension=axis)


def _bias(mb, n, dtype, scale=1e-5, rng=RNG, lim=None):
    """A bias of ``n`` values below ``lim`` (absent for None) whose scale is ``scale`` (input x
    weight scale)."""
    if dtype is None:
        return -1
    lim = lim or (2**20 if dtype == "int64" else 2**16)
    return mb.tensor([n], dtype, data=rng.integers(-lim, lim, n), scale=scale)


def weighted_model(kind: str, bias: str | None = "int64", channels: int = 8, activation: str = "NONE",
                   **opts) -> bytes:
    """One 16x8 FULLY_CONNECTED, CONV_2D (``groups`` of the 4 input channels) or DEPTHWISE_CONV_2D:
    input scale 1/4096, output 1/512."""
    groups = opts.pop("groups", 1)
    mb = ModelBuilder(f"tinycc int16 {kind}")
    if kind == "FULLY_CONNECTED":
        x = mb.tensor([3, 40], "int16", scale=1 / 4096, zero_point=0)
        w = _weights(mb, [channels, 40], channels, 0)
        y = mb.tensor([3, channels], "int16", scale=1 / 512, zero_point=0)
    elif kind == "CONV_2D":
        x = mb.tensor([1, 7, 6, 4], "int16", scale=1 / 4096, zero_point=0)
        w = _weights(mb, [channels, 3, 3, 4 // groups], channels, 0)
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
    ("FULLY_CONNECTED", None, 8, "NONE", {}),            # no bias: TFLite Micro's int64 path
    ("CONV_2D", "int64", 8, "RELU", {}),
    ("CONV_2D", "int32", 6, "NONE", {"stride_h": 2}),
    ("CONV_2D", None, 1, "RELU_N1_TO_1", {}),
    ("CONV_2D", None, 8, "NONE", {}),                     # no bias: TFLite Micro's int64 path
    ("CONV_2D", "int64", 6, "NONE", {"groups": 2}),
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


QUANT = {"int8": dict(scale=0.05, zero_point=3), "int16": dict(scale=0.002, zero_point=0),
         "int32": dict(scale=0.0001, zero_point=-7), "float32": {}}


def convert_model(kind: str, src: str, dst: str, shape=(4, 50)) -> bytes:
    mb = ModelBuilder(f"tinycc {kind} {src} -> {dst}")
    x, y = mb.tensor(shape, src, **QUANT[src]), mb.tensor(shape, dst, **QUANT[dst])
    mb.op(kind, [x], [y])
    return mb.build([x], [y])


def _samples(dtype: str, shape, n: int):
    """Integers over the whole type (int32: over +-2^20, so some land inside the output range);
    float32: normal values, exact halves of the int16 step, out-of-range values (below 2^31 steps:
    beyond, x86 TFLite Micro converts to INT32_MIN, Cortex-M saturates; tinycc saturates) and NaN."""
    if dtype == "float32":
        xs = [(RNG.standard_normal(shape) * 30).astype(np.float32) for _ in range(n)]
        special = np.resize(np.array([0.001, -0.001, 0.003, -0.003, 65.535, -65.537, 1e6, -1e6, np.nan], np.float32),
                            shape)
        return [[x] for x in xs] + [[special]]
    lim = 2**20 if dtype == "int32" else np.iinfo(dtype).max
    return [[RNG.integers(-lim, lim, shape, endpoint=True).astype(dtype)] for _ in range(n)]


CONVERSIONS = [("QUANTIZE", "float32", "int16"), ("QUANTIZE", "int16", "int8"), ("QUANTIZE", "int8", "int16"),
               ("QUANTIZE", "int16", "int16"), ("QUANTIZE", "int16", "int32"), ("QUANTIZE", "int8", "int32"),
               ("QUANTIZE", "int32", "int16"), ("QUANTIZE", "int32", "int8"), ("DEQUANTIZE", "int16", "float32")]


def conversions_model(shape=(4, 50)) -> bytes:
    """One input per source type (float32, int8, int16, int32), one output per CONVERSIONS pair."""
    mb = ModelBuilder("tinycc int16 conversions")
    xs = {dt: mb.tensor(shape, dt, **QUANT[dt]) for dt in ("float32", "int8", "int16", "int32")}
    ys = []
    for kind, src, dst in CONVERSIONS:
        ys.append(mb.tensor(shape, dst, **QUANT[dst]))
        mb.op(kind, [xs[src]], [ys[-1]])
    return mb.build(list(xs.values()), ys)


def test_conversions(tmp_path):
    """QUANTIZE float32 -> int16 and between int8, int16, int32 (requantization), DEQUANTIZE int16."""
    path = tmp_path / "m.tflite"
    path.write_bytes(conversions_model())
    per_type = [_samples(dt, (4, 50), 2) for dt in ("float32", "int8", "int16", "int32")]
    batches = [[b[k % len(b)][0] for b in per_type] for k in range(3)]   # the float specials included
    ours, _ = run_compiled(path, batches, tmp_path, "host")
    assert_match(ours, reference_outputs(path, batches), float_tol=(0.0, 0.0))


@pytest.mark.parametrize("kind,src,dst", [("QUANTIZE", "float32", "int32"), ("QUANTIZE", "int32", "int32"),
                                          ("DEQUANTIZE", "int32", "float32")])
def test_conversions_tflm_refuses(tmp_path, kind, src, dst):
    path = tmp_path / "m.tflite"
    path.write_bytes(convert_model(kind, src, dst))
    with pytest.raises(TinyccError, match=rf"operator 0 \({kind}\).*{src} -> {dst} is not supported"):
        driver.compile_graph(str(path))


def softmax_model(beta: float = 1.0, in_scale: float = 1 / 2048, shape=(3, 37)) -> bytes:
    mb = ModelBuilder("tinycc int16 SOFTMAX")
    x = mb.tensor(shape, "int16", scale=in_scale, zero_point=0)
    y = mb.tensor(shape, "int16", scale=1 / 32768, zero_point=0)
    mb.op("SOFTMAX", [x], [y], beta=beta)
    return mb.build([x], [y])


@pytest.mark.parametrize("beta,in_scale", [(1.0, 1 / 2048), (0.7, 1 / 256)])
def test_softmax(tmp_path, beta, in_scale):
    """Rows over the whole int16 range (mostly one winner) and within a few units of each other
    (every table entry and the reciprocal's interpolation matter)."""
    path = tmp_path / "m.tflite"
    path.write_bytes(softmax_model(beta, in_scale))
    lim = int(4 / in_scale)
    batches = [[RNG.integers(-32768, 32767, (3, 37), endpoint=True).astype(np.int16)],
               [RNG.integers(-lim, lim, (3, 37)).astype(np.int16)], [RNG.integers(-lim // 8, lim // 8, (3, 37)).astype(np.int16)]]
    ours, _ = run_compiled(path, batches, tmp_path, "host")
    assert_match(ours, reference_outputs(path, batches, 1))


def small_16x8_model(logits_scale: float = 1 / 1024) -> bytes:
    """conv 3x3 (int64 bias, RELU) -> depthwise 3x3 stride 2 -> reshape -> fully connected (int32 bias)
    -> softmax, int16 activations throughout (its own random weights)."""
    rng = np.random.default_rng(1608)
    mb = ModelBuilder("tinycc 16x8 conv-dw-fc-softmax")
    x = mb.tensor([1, 8, 8, 2], "int16", scale=1 / 4096, zero_point=0)
    w1 = _weights(mb, [6, 3, 3, 2], 6, 0, rng)
    c1 = mb.tensor([1, 8, 8, 6], "int16", scale=1 / 1024, zero_point=0)
    mb.op("CONV_2D", [x, w1, _bias(mb, 6, "int64", rng=rng, lim=2**12)], [c1], fused_activation="RELU")
    w2 = _weights(mb, [1, 3, 3, 6], 6, 3, rng)
    c2 = mb.tensor([1, 4, 4, 6], "int16", scale=1 / 2048, zero_point=0)
    mb.op("DEPTHWISE_CONV_2D", [c1, w2, _bias(mb, 6, "int64", rng=rng, lim=2**12)], [c2], stride_h=2, stride_w=2)
    flat = mb.tensor([1, 96], "int16", scale=1 / 2048, zero_point=0)
    mb.op("RESHAPE", [c2], [flat], new_shape=[1, 96])
    w3 = _weights(mb, [10, 96], 1, 0, rng)
    logits = mb.tensor([1, 10], "int16", scale=logits_scale, zero_point=0)
    mb.op("FULLY_CONNECTED", [flat, w3, _bias(mb, 10, "int32", 0.01 / 2048, rng, 2**10)], [logits])
    y = mb.tensor([1, 10], "int16", scale=1 / 32768, zero_point=0)
    mb.op("SOFTMAX", [logits], [y], beta=1.0)
    return mb.build([x], [y])


@pytest.mark.parametrize("mode", ["host", "qemu"])
def test_small_16x8_model(tmp_path, mode):
    if mode == "qemu":
        needs_qemu()
    path = tmp_path / "m.tflite"
    path.write_bytes(small_16x8_model())
    g = driver.compile_graph(str(path))
    rng = np.random.default_rng(5)   # inputs within +-0.25: softmax outputs spread over the classes
    batches = [[rng.integers(-1024, 1024, (1, 8, 8, 2)).astype(np.int16)] for _ in range(4)]
    ours, _ = run_compiled(path, batches, tmp_path, mode, g=g)
    refs = reference_outputs(path, batches, 1)
    assert_match(ours, refs)
    assert len({r[0].tobytes() for r in refs}) == len(batches) and max(int(r[0].max()) for r in refs) < 32767
    if mode == "qemu":   # cortex-m4 builds with --optimize speed: the 16x8 DSP kernels (tcc_arm_s16.c)
        assert_s16_units(path, tmp_path, {"arm_conv_s16", "arm_dw_s16", "arm_fc_s16"})


def assert_s16_units(path, tmp_path, units: set) -> None:
    """The cortex-m4 build chose exactly ``units`` for its ops and keeps tcc_arm_s16.c."""
    g = driver.compile_graph(str(path), target="cortex-m4", optimize="speed")
    chosen = {o.params.packed.impl for o in map(lambda oid: ir.op(g, oid), ir.ops_in_order(g))
              if getattr(o.params, "packed", None) is not None}
    assert chosen == units
    assert list((tmp_path / "out").glob("*tcc_arm_s16.c"))


def edges_16x8_model() -> bytes:
    """The 16x8 DSP kernels' edge cases: conv 3x3 stride 2 SAME from 3 to 6 channels (an odd
    input depth: the window gathered per pixel; a partial block of 4) on a 5x3 image (windows cut
    on every side), conv 1x3 SAME on 2 columns
    (int32 bias, RELU6 clamp), depthwise 3x3 stride 2 SAME with 11 channels (a pair and a single
    channel after the groups of 4) and FULLY_CONNECTED of 22 inputs to 3 outputs."""
    rng = np.random.default_rng(1615)
    mb = ModelBuilder("tinycc 16x8 DSP kernel edges")
    x = mb.tensor([1, 5, 3, 3], "int16", scale=1 / 4096, zero_point=0)
    c1 = mb.tensor([1, 3, 2, 6], "int16", scale=1 / 1024, zero_point=0)
    mb.op("CONV_2D", [x, _weights(mb, [6, 3, 3, 3], 6, 0, rng), _bias(mb, 6, "int64", rng=rng)], [c1], stride_h=2,
          stride_w=2)
    c2 = mb.tensor([1, 3, 2, 11], "int16", scale=1 / 2048, zero_point=0)
    mb.op("CONV_2D", [c1, _weights(mb, [11, 1, 3, 6], 11, 0, rng),
                      _bias(mb, 11, "int32", 1e-5, rng, 2**10)], [c2], fused_activation="RELU6")
    c3 = mb.tensor([1, 2, 1, 11], "int16", scale=1 / 2048, zero_point=0)
    mb.op("DEPTHWISE_CONV_2D", [c2, _weights(mb, [1, 3, 3, 11], 11, 3, rng), _bias(mb, 11, "int64", rng=rng)], [c3],
          stride_h=2, stride_w=2)
    flat = mb.tensor([1, 22], "int16", scale=1 / 2048, zero_point=0)
    mb.op("RESHAPE", [c3], [flat], new_shape=[1, 22])
    y = mb.tensor([1, 3], "int16", scale=1 / 256, zero_point=0)
    mb.op("FULLY_CONNECTED", [flat, _weights(mb, [3, 22], 1, 0, rng), _bias(mb, 3, "int32", 0.01 / 2048, rng, 2**10)],
          [y])
    return mb.build([x], [y])


def test_16x8_dsp_kernels_edges_qemu(tmp_path):
    """tcc_arm_conv_s16 / tcc_arm_dw_s16 on cut windows, partial channel blocks and both bias types, against TFLite Micro in QEMU."""
    needs_qemu()
    path = tmp_path / "m.tflite"
    path.write_bytes(edges_16x8_model())
    rng = np.random.default_rng(6)
    batches = [[rng.integers(-32768, 32768, (1, 5, 3, 3)).astype(np.int16)] for _ in range(3)]
    batches.append([np.full((1, 5, 3, 3), 32767, np.int16)])
    ours, _ = run_compiled(path, batches, tmp_path, "qemu")
    assert_match(ours, reference_outputs(path, batches, 1))
    assert_s16_units(path, tmp_path, {"arm_conv_s16", "arm_dw_s16", "arm_fc_s16"})


def fc8_model() -> bytes:
    """A 16x8 CONV_2D 3x3 SAME from 3 to 8 channels on 3x3 (an odd input depth: each pixel's window
    gathered in the scratch, cut on every side), a pointwise CONV_2D 8 -> 37 channels (int64 bias;
    arm_conv_s16 as the FULLY_CONNECTED of its 9 pixels), reshaped to 9 rows of 37, then two 16x8 FULLY_CONNECTED of
    odd input depths (arm_fc_s16 needs an even one): 37 (2 passes of 4 groups and 2 single groups)
    to 9 outputs (a partial block), then 9 (3 groups) to 6 (RELU): arm_fc8_s16's cases."""
    rng = np.random.default_rng(1608)
    mb = ModelBuilder("tinycc 16x8 pointwise conv and FC on int8 weights")
    x = mb.tensor([1, 3, 3, 3], "int16", scale=1 / 4096, zero_point=0)
    c0 = mb.tensor([1, 3, 3, 8], "int16", scale=1 / 4096, zero_point=0)
    mb.op("CONV_2D", [x, _weights(mb, [8, 3, 3, 3], 8, 0, rng), _bias(mb, 8, "int64", rng=rng)], [c0])
    c = mb.tensor([1, 3, 3, 37], "int16", scale=1 / 4096, zero_point=0)
    mb.op("CONV_2D", [c0, _weights(mb, [37, 1, 1, 8], 37, 0, rng), _bias(mb, 37, "int64", rng=rng)], [c])
    rows = mb.tensor([9, 37], "int16", scale=1 / 4096, zero_point=0)
    mb.op("RESHAPE", [c], [rows], new_shape=[9, 37])
    h = mb.tensor([9, 9], "int16", scale=1 / 1024, zero_point=0)
    mb.op("FULLY_CONNECTED", [rows, _weights(mb, [9, 37], 1, 0, rng), _bias(mb, 9, "int64", rng=rng)], [h])
    y = mb.tensor([9, 6], "int16", scale=1 / 256, zero_point=0)
    mb.op("FULLY_CONNECTED", [h, _weights(mb, [6, 9], 1, 0, rng), _bias(mb, 6, "int64", rng=rng)], [y],
          fused_activation="RELU")
    return mb.build([x], [y])


def test_16x8_fc_int8_weights_qemu(tmp_path):
    """tcc_arm_fc8_s16 (int8 weights widened as they are read, the rows read as they are, the
    biases in the weight stream), tcc_arm_conv_s16_im2col and the pointwise conv on tcc_arm_fc_s16,
    against TFLite Micro in QEMU: inputs within +-0.5 (outputs spread, not clipped), then
    full-range ones."""
    needs_qemu()
    path = tmp_path / "m.tflite"
    path.write_bytes(fc8_model())
    rng = np.random.default_rng(8)
    batches = [[rng.integers(-lim, lim, (1, 3, 3, 3)).astype(np.int16)] for lim in (2048, 2048, 32768)]
    ours, _ = run_compiled(path, batches, tmp_path, "qemu")
    assert_match(ours, reference_outputs(path, batches, 1))
    assert_s16_units(path, tmp_path, {"arm_conv_s16", "arm_fc8_s16"})
    code = " ".join(f.read_text() for f in (tmp_path / "out").glob("*.c"))
    assert "tcc_arm_fc_s16(&" in code and "tcc_arm_conv_s16_im2col(&" in code


def test_16x8_depthwise_planes_qemu(tmp_path):
    """16x8 DEPTHWISE_CONV_2D 3x3 SAME (RELU6), then 5x5 SAME (windows of 3 to 5 taps), on 4x4x15:
    their outputs fit only where they share their inputs' memory (the arena budget), so the
    cortex-m4 build takes tcc_arm_dw_s16_planes (the plain kernel's order: a channel over all
    pixels, then its slots), against TFLite Micro in QEMU."""
    needs_qemu()
    rng = np.random.default_rng(1617)
    mb = ModelBuilder("tinycc 16x8 depthwise in place")
    x = mb.tensor([1, 4, 4, 15], "int16", scale=1 / 4096, zero_point=0)
    h = mb.tensor([1, 4, 4, 15], "int16", scale=1 / 2048, zero_point=0)
    mb.op("DEPTHWISE_CONV_2D", [x, _weights(mb, [1, 3, 3, 15], 15, 3, rng), _bias(mb, 15, "int64", rng=rng)], [h],
          fused_activation="RELU6")
    y = mb.tensor([1, 4, 4, 15], "int16", scale=1 / 1024, zero_point=0)
    mb.op("DEPTHWISE_CONV_2D", [h, _weights(mb, [1, 5, 5, 15], 15, 3, rng), _bias(mb, 15, "int64", rng=rng)], [y])
    path = tmp_path / "m.tflite"
    path.write_bytes(mb.build([x], [y]))
    batches = [[rng.integers(-lim, lim, (1, 4, 4, 15)).astype(np.int16)] for lim in (4096, 4096, 32768)]
    ours, _ = run_compiled(path, batches, tmp_path, "qemu")
    assert_match(ours, reference_outputs(path, batches, 1))
    assert_s16_units(path, tmp_path, {"arm_dw_s16p"})


def add_model(shape_b=(1, 5, 6, 4), activation="NONE") -> bytes:
    """ADD of two int16 inputs on different scales (broadcast when ``shape_b`` differs)."""
    mb = ModelBuilder("tinycc int16 ADD")
    a = mb.tensor([1, 5, 6, 4], "int16", scale=1 / 1000, zero_point=0)
    b = mb.tensor(list(shape_b), "int16", scale=1 / 3000, zero_point=0)
    y = mb.tensor([1, 5, 6, 4], "int16", scale=1 / 1500, zero_point=0)
    mb.op("ADD", [a, b], [y], fused_activation=activation)
    return mb.build([a, b], [y])


@pytest.mark.parametrize("shape_b,activation", [((1, 5, 6, 4), "NONE"), ((1, 1, 6, 1), "RELU6")])
def test_add(tmp_path, check_model, shape_b, activation):
    path = tmp_path / "m.tflite"
    path.write_bytes(add_model(shape_b, activation))
    check_model(path, samples=2)


def binary_model(kind: str, shape_b=(1, 5, 6, 4), activation="NONE") -> bytes:
    """SUB, MUL, MAXIMUM, MINIMUM or SQUARED_DIFFERENCE of two int16 inputs on different scales (broadcast when ``shape_b``
    differs); ``activation`` None: the op has no options."""
    mb = ElementwiseBuilder(f"tinycc int16 {kind}")
    a = mb.tensor([1, 5, 6, 4], "int16", scale=1 / 1000, zero_point=0)
    b = mb.tensor(list(shape_b), "int16", scale=1 / 3000, zero_point=0)
    y = mb.tensor([1, 5, 6, 4], "int16", scale={"SUB": 1 / 1500, "SQUARED_DIFFERENCE": 1 / 20}.get(kind, 1 / 50),
                  zero_point=0)
    mb.op(kind, [a, b], [y], **({} if activation is None else dict(fused_activation_function=activation)))
    return mb.build([a, b], [y])


@pytest.mark.parametrize("kind,shape_b,activation", [("SUB", (1, 5, 6, 4), "RELU"), ("SUB", (4,), "NONE"),
                                                     ("MUL", (1, 5, 6, 4), "NONE"), ("MUL", (1, 5, 1, 4), "RELU6"),
                                                     ("MAXIMUM", (1, 5, 6, 4), None), ("MINIMUM", (6, 1), None),
                                                     ("SQUARED_DIFFERENCE", (1, 5, 6, 4), None),
                                                     ("SQUARED_DIFFERENCE", (1, 1, 6, 4), None)])
def test_sub_mul(tmp_path, check_model, kind, shape_b, activation):
    path = tmp_path / "m.tflite"
    path.write_bytes(binary_model(kind, shape_b, activation))
    check_model(path, samples=2)


def pool_model(kind: str, activation="NONE") -> bytes:
    mb = ModelBuilder(f"tinycc int16 {kind}")
    x = mb.tensor([1, 7, 9, 3], "int16", scale=1 / 1000, zero_point=0)
    y = mb.tensor([1, 4, 3, 3], "int16", scale=1 / 1000, zero_point=0)
    mb.op(kind, [x], [y], padding="SAME", stride_h=2, stride_w=3, filter_h=3, filter_w=4, fused_activation=activation)
    return mb.build([x], [y])


@pytest.mark.parametrize("kind,activation", [("AVERAGE_POOL_2D", "NONE"), ("MAX_POOL_2D", "RELU6")])
def test_pool(tmp_path, check_model, kind, activation):
    path = tmp_path / "m.tflite"
    path.write_bytes(pool_model(kind, activation))
    check_model(path, samples=2)


@pytest.mark.parametrize("kind,opts,out_scale", [("RELU", {}, 1 / 3000), ("RELU6", {}, 1 / 700),
                                                 ("ABS", {}, 1 / 700), ("ABS", {}, 1 / 1000),
                                                 ("LEAKY_RELU", {"alpha": 0.3}, 1 / 3000),
                                                 ("LEAKY_RELU", {"alpha": -1.7}, 1 / 500)])
def test_piecewise_unary(tmp_path, check_model, kind, opts, out_scale):
    """RELU, RELU6, LEAKY_RELU and ABS (rescaled or not) over int16."""
    mb = ElementwiseBuilder(f"tinycc int16 {kind}")
    x = mb.tensor([4, 64], "int16", scale=1 / 1000, zero_point=0)
    y = mb.tensor([4, 64], "int16", scale=out_scale, zero_point=0)
    mb.op(kind, [x], [y], **opts)
    path = tmp_path / "m.tflite"
    path.write_bytes(mb.build([x], [y]))
    check_model(path, samples=2)


def test_data_movement(tmp_path, check_model):
    """Ops that move 2-byte elements without arithmetic: SLICE, STRIDED_SLICE, CONCATENATION/PACK,
    TRANSPOSE, PAD/PADV2, SPLIT/UNPACK, RESIZE_NEAREST_NEIGHBOR (RESHAPE is a view: see the 16x8
    model)."""
    from tinycc.testing import models_datamove as D

    from .test_ops_datamove import JOIN_CASES, PAD_CASES, SS_CASES, TRANSPOSE_CASES
    i16 = ("int16",)
    models = [D.slices(RNG, (2, 5, 6), [([0, 1, 2], [2, 3, -1]), ([1, 0, 0], [1, -1, 3])], dtypes=i16),
              D.strided_slices(RNG, (1, 4, 6, 5), SS_CASES[:4], dtypes=i16),
              D.concats(RNG, JOIN_CASES[:4], dtypes=i16),
              D.transposes(RNG, TRANSPOSE_CASES[:1], dtypes=i16),
              D.pads(RNG, (1, 3, 4, 2), PAD_CASES[:4], dtypes=i16),
              D.splits(RNG, (2, 6, 4, 3), split_cases=[(1, 3)], unpack_axes=[0], dtypes=i16),
              D.resizes(RNG, (1, 3, 4, 2), [("RESIZE_NEAREST_NEIGHBOR", (6, 8), False, False)], dtypes=i16)]
    for k, m in enumerate(models):
        path = tmp_path / f"m{k}.tflite"
        path.write_bytes(m)
        check_model(path, samples=1)


def test_mirror_pad_refused(tmp_path):
    """TFLite Micro's MIRROR_PAD fails on int16: tinycc refuses it at build time."""
    from tinycc.testing import models_datamove as D

    from .test_ops_datamove import PAD_CASES
    path = tmp_path / "m.tflite"
    path.write_bytes(D.pads(RNG, (1, 3, 4, 2), PAD_CASES[4:5], dtypes=("int16",)))
    with pytest.raises(TinyccError, match=r"MIRROR_PAD.*int16 is not supported"):
        driver.compile_graph(str(path))


def transpose_conv_model(bias: str | None, activation: str = "NONE") -> bytes:
    """16x8 TRANSPOSE_CONV 2x upsampling: [1, 4, 5, 3] -> [1, 8, 10, 4], 3x3, SAME."""
    from tinycc.testing.models_datamove import OpBuilder
    mb = OpBuilder("tinycc int16 TRANSPOSE_CONV")
    x = mb.tensor([1, 4, 5, 3], "int16", scale=1 / 4096, zero_point=0)
    shape = mb.tensor([4], "int32", data=np.array([1, 8, 10, 4]))
    w = _weights(mb, [4, 3, 3, 3], 4, 0)
    b = _bias(mb, 4, bias) if bias != "int16" else mb.tensor([4], "int16", data=RNG.integers(-3000, 3000, 4),
                                                               scale=1e-5)
    y = mb.tensor([1, 8, 10, 4], "int16", scale=1 / 1024, zero_point=0)
    mb.op("TRANSPOSE_CONV", [shape, w, x, b], [y], padding="SAME", stride_h=2, stride_w=2,
          fused_activation_function=activation)
    return mb.build([x], [y])


@pytest.mark.parametrize("bias,activation", [("int64", "NONE"), ("int16", "RELU"), (None, "NONE")])
def test_transpose_conv(tmp_path, check_model, bias, activation):
    path = tmp_path / "m.tflite"
    path.write_bytes(transpose_conv_model(bias, activation))
    check_model(path, samples=2)


def test_transpose_conv_int32_bias_refused(tmp_path):
    """TFLite Micro's 16x8 TRANSPOSE_CONV reads an int32 bias as int64: refused."""
    path = tmp_path / "m.tflite"
    path.write_bytes(transpose_conv_model("int32"))
    with pytest.raises(TinyccError, match=r"TRANSPOSE_CONV.*bias must be a constant int64 or int16"):
        driver.compile_graph(str(path))


def test_mean_sum(tmp_path, check_model):
    """MEAN and SUM over int16, requantized or not; REDUCE_MAX refused (TFLite Micro fails on it)."""
    from tinycc.testing import models_datamove as D

    from .test_ops_datamove import MEAN_SUM_CASES, MINMAX_CASES
    path = tmp_path / "m.tflite"
    path.write_bytes(D.reductions(RNG, (2, 5, 6, 7), MEAN_SUM_CASES[:3] + MEAN_SUM_CASES[-3:], dtypes=("int16",)))
    check_model(path, samples=2)
    path.write_bytes(D.reductions(RNG, (2, 5, 6, 7), MINMAX_CASES[:1], dtypes=("int16",)))
    with pytest.raises(TinyccError, match=r"REDUCE_MAX.*int16 is not supported"):
        driver.compile_graph(str(path))


def test_batch_matmul(tmp_path, check_model):
    """int16 BATCH_MATMUL: broadcast batches, adj_x/adj_y, a constant rhs."""
    from tinycc.testing import models_datamove as D

    from .test_ops_datamove import BMM_CASES
    path = tmp_path / "m.tflite"
    path.write_bytes(D.batch_matmuls(RNG, BMM_CASES, dtypes=("int16",)))
    check_model(path, samples=2)


def _pair_model(kind: str, zero_point: int = 0, out_dtype: str = "int16") -> bytes:
    mb = ElementwiseBuilder(f"tinycc int16 {kind}")
    a = mb.tensor([8], "int16", scale=1 / 1000, zero_point=zero_point)
    b = mb.tensor([8], "int16", scale=1 / 1000, zero_point=0)
    y = mb.tensor([8], out_dtype, **(dict(scale=1 / 1000, zero_point=0) if out_dtype == "int16" else {}))
    mb.op(kind, [a, b], [y])
    return mb.build([a, b], [y])


@pytest.mark.parametrize("kind,zero_point,out_dtype,message", [
    ("SUB", 3, "int16", r"zero point of 0"),                   # TFLite's 16x8: symmetric int16
    ("PRELU", 0, "int16", r"int8 alpha"),                      # TFLite Micro: an int16 PRELU has an int8 alpha
    ("DIV", 0, "int16", r"int16 is not supported"),
])
def test_refusals(tmp_path, kind, zero_point, out_dtype, message):
    path = tmp_path / "m.tflite"
    path.write_bytes(_pair_model(kind, zero_point, out_dtype))
    with pytest.raises(TinyccError, match=rf"operator 0 \({kind}\).*{message}"):
        driver.compile_graph(str(path))


def mixed_16x8_model() -> bytes:
    """float32 in -> QUANTIZE int16 -> MAX_POOL_2D -> TRANSPOSE_CONV (2x) -> ADD (the skip) -> MUL
    -> MEAN over H, W -> DEQUANTIZE -> float32 out: the elementwise, pooling, reduction and
    conversion kernels of int16 in one model (for QEMU)."""
    from tinycc.testing.models_datamove import OpBuilder
    rng = np.random.default_rng(1616)
    mb = OpBuilder("tinycc 16x8 mixed ops")
    x = mb.tensor([1, 8, 8, 3], "float32")
    q = mb.tensor([1, 8, 8, 3], "int16", scale=1 / 8192, zero_point=0)
    mb.op("QUANTIZE", [x], [q])
    p = mb.tensor([1, 4, 4, 3], "int16", scale=1 / 8192, zero_point=0)
    mb.op("MAX_POOL_2D", [q], [p], padding="VALID", stride_h=2, stride_w=2, filter_h=2, filter_w=2)
    shape = mb.tensor([4], "int32", data=np.array([1, 8, 8, 3]))
    w = _weights(mb, [3, 3, 3, 3], 3, 0, rng)
    t = mb.tensor([1, 8, 8, 3], "int16", scale=1 / 2048, zero_point=0)
    mb.op("TRANSPOSE_CONV", [shape, w, p, _bias(mb, 3, "int64", rng=rng, lim=2**10)], [t], padding="SAME",
          stride_h=2, stride_w=2)
    s = mb.tensor([1, 8, 8, 3], "int16", scale=1 / 2048, zero_point=0)
    mb.op("ADD", [q, t], [s])
    m = mb.tensor([1, 8, 8, 3], "int16", scale=1 / 128, zero_point=0)
    mb.op("MUL", [s, t], [m])
    axes = mb.tensor([2], "int32", data=np.array([1, 2]))
    r = mb.tensor([1, 3], "int16", scale=1 / 256, zero_point=0)
    mb.op("MEAN", [m, axes], [r], keep_dims=False)
    y = mb.tensor([1, 3], "float32")
    mb.op("DEQUANTIZE", [r], [y])
    return mb.build([x], [y, s])


def test_mixed_16x8_model_qemu(tmp_path):
    needs_qemu()
    path = tmp_path / "m.tflite"
    path.write_bytes(mixed_16x8_model())
    rng = np.random.default_rng(9)
    batches = [[(rng.standard_normal((1, 8, 8, 3)) * 1.5).astype(np.float32)] for _ in range(3)]
    ours, _ = run_compiled(path, batches, tmp_path, "qemu")
    assert_match(ours, reference_outputs(path, batches), float_tol=(0.0, 0.0))


@pytest.mark.parametrize("in_scale", [2**-12, 2**-11, 1 / 3000])
def test_sigmoid_tables(tmp_path, in_scale):
    """LOGISTIC and TANH over every int16 input: TFLite's interpolated sigmoid table, the input
    scale a power of two (2^-12 for both, 2^-11 for TANH: multiplier 3 << shift) or not (rescaled
    with rounding)."""
    mb = ElementwiseBuilder("tinycc int16 LOGISTIC and TANH")
    x = mb.tensor([256, 256], "int16", scale=in_scale, zero_point=0)
    ys = [mb.tensor([256, 256], "int16", scale=2**-15, zero_point=0) for _ in range(2)]
    mb.op("LOGISTIC", [x], [ys[0]])
    mb.op("TANH", [x], [ys[1]])
    path = tmp_path / "m.tflite"
    path.write_bytes(mb.build([x], ys))
    batches = [[np.arange(-32768, 32768, dtype=np.int16).reshape(256, 256)]]
    ours, _ = run_compiled(path, batches, tmp_path)
    assert_match(ours, reference_outputs(path, batches))


def test_sigmoid_output_scale_refused(tmp_path):
    mb = ElementwiseBuilder("tinycc int16 LOGISTIC")
    x = mb.tensor([4], "int16", scale=2**-12, zero_point=0)
    y = mb.tensor([4], "int16", scale=2**-14, zero_point=0)
    mb.op("LOGISTIC", [x], [y])
    (tmp_path / "m.tflite").write_bytes(mb.build([x], [y]))
    with pytest.raises(TinyccError, match="2\\^-15"):
        driver.compile_graph(str(tmp_path / "m.tflite"))


@pytest.mark.parametrize("alpha_shape", [[1, 1, 6], [3, 5, 6]])
def test_prelu(tmp_path, check_model, alpha_shape):
    """PRELU with an int16 input and output and an int8 alpha (TFLite Micro's int16 kernel),
    alpha broadcast over the leading axes or not."""
    mb = ModelBuilder("tinycc int16 PRELU")
    x = mb.tensor([3, 5, 6], "int16", scale=1 / 700, zero_point=0)
    a = mb.tensor(alpha_shape, "int8", data=RNG.integers(-128, 128, alpha_shape), scale=0.01, zero_point=5)
    y = mb.tensor([3, 5, 6], "int16", scale=1 / 900, zero_point=0)
    mb.op("PRELU", [x, a], [y])
    path = tmp_path / "m.tflite"
    path.write_bytes(mb.build([x], [y]))
    check_model(path, samples=2)
