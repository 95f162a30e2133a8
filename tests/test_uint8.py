"""Fully-uint8 (legacy asymmetric) CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, MUL, LOGISTIC, CONCATENATION, MEAN against TFLite's
uint8 reference kernels (TFLite Micro refuses uint8 for these ops): one model of many independent
single ops, each with random scales and zero points (weights too), so the requantization
multiplier and the offsets are checked on many draws in one build."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from tinycc import driver
from tinycc.errors import TinyccError
from tinycc.testing.models_datamove import OpBuilder
from tinycc.testing.tflite_writer import ModelBuilder
from tinycc.verify import Reference, tflm_unreliable

from .conftest import assert_match, needs_qemu, random_batch, run_compiled

ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _uint8_op(mb, rng, k, kind, x_shape, w_shape, y_shape, depth, x=None, **opts):
    """One uint8 op on its own input (or on ``x``, a (tensor, zero point, scale) before it): random input/weight/output scales and zero points, a random
    int32 bias, the output scale set so that the outputs spread over the byte."""
    act = ACTIVATIONS[k % len(ACTIVATIONS)]
    spread = float(rng.uniform(0.5, 4))     # the sums' real spread, near the clamp bounds 1 and 6
    xs = float(rng.uniform(0.005, 0.1)) if x is None else x[2]
    ws = spread / (xs * np.sqrt(depth) * 74 * 74)
    ys = spread / float(rng.uniform(20, 60))    # over 20-60 output steps
    out_zp = int(rng.integers(0, 60) if act in ("RELU", "RELU6") else rng.integers(100, 156))
    x_zp, w_zp = (int(rng.integers(64, 192)) if x is None else x[1]), int(rng.integers(64, 192))
    w_data = rng.integers(0, 256, w_shape).astype(np.uint8)
    x = mb.tensor(x_shape, "uint8", scale=xs, zero_point=x_zp, name=f"x{k}") if x is None else x[0]
    w = mb.tensor(w_shape, "uint8", data=w_data, scale=ws, zero_point=w_zp, name=f"w{k}")
    c = y_shape[-1]          # TFLite's uint8 kernels want a bias; it centres the sums (inputs average 127.5)
    wd = w_data.astype(np.int64) - w_zp
    sums = wd.reshape(-1, c).sum(axis=0) if kind == "DEPTHWISE_CONV_2D" else wd.reshape(c, -1).sum(axis=1)
    bias = -np.round((127.5 - x_zp) * sums).astype(np.int64) + rng.integers(-20000, 20000, c)
    b = mb.tensor([c], "int32", data=bias.astype(np.int32),
                  scale=float(np.float32(xs) * np.float32(ws)), zero_point=0, name=f"b{k}")
    y = mb.tensor(y_shape, "uint8", scale=ys, zero_point=out_zp, name=f"y{k}")
    mb.op(kind, [x, w, b], [y], fused_activation=act, **opts)
    return x, (y, out_zp, ys)


def uint8_ops_model(rng) -> bytes:
    """CONV_2D (SAME/VALID, strides, dilation), DEPTHWISE_CONV_2D (multipliers 1 and 2, strides,
    dilation), FULLY_CONNECTED (batches 1 and 3), PAD -> CONV_2D, AVERAGE_POOL_2D, MAX_POOL_2D, SOFTMAX and QUANTIZE uint8 -> uint8."""
    mb = ModelBuilder()
    ins, outs = [], []

    def add(pair):
        ins.append(pair[0])
        outs.append(pair[1] if isinstance(pair[1], int) else pair[1][0])
    k = 0
    for pad, s, d, cin, cout, kk in [("SAME", 1, 1, 3, 4, 3), ("VALID", 2, 1, 5, 3, 3), ("SAME", 2, 1, 8, 6, 1),
                                     ("SAME", 1, 2, 4, 5, 3), ("VALID", 1, 1, 16, 2, 2)]:
        h = w = 7
        oh = (h - (kk - 1) * d - 1) // s + 1 if pad == "VALID" else -(-h // s)
        add(_uint8_op(mb, rng, k, "CONV_2D", [1, h, w, cin], [cout, kk, kk, cin], [1, oh, oh, cout], kk * kk * cin,
                      padding=pad, stride_h=s, stride_w=s, dilation_h=d, dilation_w=d))
        k += 1
    for pad, s, d, c, m in [("SAME", 1, 1, 4, 1), ("VALID", 2, 1, 3, 2), ("SAME", 2, 1, 8, 1), ("SAME", 1, 2, 5, 1)]:
        h = 8
        oh = (h - 2 * d - 1) // s + 1 if pad == "VALID" else -(-h // s)
        add(_uint8_op(mb, rng, k, "DEPTHWISE_CONV_2D", [1, h, h, c], [1, 3, 3, c * m], [1, oh, oh, c * m], 9,
                      padding=pad, stride_h=s, stride_w=s, dilation_h=d, dilation_w=d, depth_multiplier=m))
        k += 1
    for batches, depth, units in [(1, 32, 5), (3, 20, 7), (1, 200, 10)]:
        add(_uint8_op(mb, rng, k, "FULLY_CONNECTED", [batches, depth], [units, depth], [batches, units], depth))
        k += 1
    xq = dict(scale=0.05, zero_point=int(rng.integers(64, 192)))     # a PAD (zero point fill) the CONV_2D absorbs
    x = mb.tensor([1, 5, 5, 2], "uint8", name=f"x{k}", **xq)
    xp = mb.tensor([1, 7, 7, 2], "uint8", name=f"padded{k}", **xq)
    mb.op("PAD", [x, mb.tensor([4, 2], "int32", data=np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32),
                               name=f"pads{k}")], [xp])
    add((x, _uint8_op(mb, rng, k, "CONV_2D", [1, 7, 7, 2], [3, 3, 3, 2], [1, 5, 5, 3], 18, padding="VALID",
                      x=(xp, xq["zero_point"], xq["scale"]))[1]))
    k += 1
    for kind, pad, f, st in [("AVERAGE_POOL_2D", "SAME", 3, 2), ("AVERAGE_POOL_2D", "VALID", 2, 1),
                             ("MAX_POOL_2D", "SAME", 3, 2)]:      # windows clipped at the edge: counts 4, 6, 9
        q = dict(scale=float(rng.uniform(0.01, 0.1)), zero_point=int(rng.integers(0, 256)))
        x = mb.tensor([1, 7, 7, 3], "uint8", name=f"x{k}", **q)
        oh = -(-7 // st) if pad == "SAME" else 7 - f + 1
        y = mb.tensor([1, oh, oh, 3], "uint8", name=f"y{k}", **q)
        mb.op(kind, [x], [y], padding=pad, stride_h=st, stride_w=st, filter_h=f, filter_w=f,
              fused_activation="RELU6" if pad == "VALID" else "NONE")
        add((x, y))
        k += 1
    for shape, xs, beta in [((2, 10), 0.1, 1.0), ((3, 40), 0.03, 0.5)]:
        x = mb.tensor(list(shape), "uint8", scale=xs, zero_point=int(rng.integers(0, 256)), name=f"x{k}")
        y = mb.tensor(list(shape), "uint8", scale=1 / 256, zero_point=0, name=f"y{k}")
        mb.op("SOFTMAX", [x], [y], beta=beta)
        add((x, y))
        k += 1
    x = mb.tensor([4, 64], "uint8", scale=0.00390625, zero_point=0, name=f"x{k}")      # as the converter ends
    y = mb.tensor([4, 64], "uint8", scale=1 / 255, zero_point=3, name=f"y{k}")        # a legacy model
    mb.op("QUANTIZE", [x], [y])
    add((x, y))
    return mb.build(inputs=ins, outputs=outs)


def uint8_chain_model(rng) -> bytes:
    """A legacy MobileNet-like chain: CONV_2D (stride 2) -> DEPTHWISE_CONV_2D -> CONV_2D 1x1 ->
    AVERAGE_POOL_2D -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX -> QUANTIZE to 1/255."""
    mb = ModelBuilder()
    x, h = _uint8_op(mb, rng, 0, "CONV_2D", [1, 12, 12, 3], [8, 3, 3, 3], [1, 6, 6, 8], 27, stride_h=2, stride_w=2)
    _, h = _uint8_op(mb, rng, 2, "DEPTHWISE_CONV_2D", [1, 6, 6, 8], [1, 3, 3, 8], [1, 6, 6, 8], 9, x=h)
    _, h = _uint8_op(mb, rng, 1, "CONV_2D", [1, 6, 6, 8], [16, 1, 1, 8], [1, 6, 6, 16], 8, x=h)
    p = mb.tensor([1, 1, 1, 16], "uint8", scale=h[2], zero_point=h[1], name="pool")
    mb.op("AVERAGE_POOL_2D", [h[0]], [p], padding="VALID", stride_h=6, stride_w=6, filter_h=6, filter_w=6)
    r = mb.tensor([1, 16], "uint8", scale=h[2], zero_point=h[1], name="flat")
    mb.op("RESHAPE", [p, mb.tensor([2], "int32", data=np.array([1, 16], np.int32), name="shape")], [r])
    _, h = _uint8_op(mb, rng, 4, "FULLY_CONNECTED", [1, 16], [5, 16], [1, 5], 16, x=(r, h[1], h[2]))
    s = mb.tensor([1, 5], "uint8", scale=1 / 256, zero_point=0, name="probs")
    mb.op("SOFTMAX", [h[0]], [s], beta=1.0)
    y = mb.tensor([1, 5], "uint8", scale=1 / 255, zero_point=0, name="output")
    mb.op("QUANTIZE", [s], [y])
    return mb.build(inputs=[x], outputs=[y])


@pytest.mark.parametrize("mode", ["host", "qemu"])
def test_uint8_chain_matches_tflite(tmp_path, mode):
    """The whole-model case (as make_unseen.py's legacy_uint8), on the host and in QEMU (Cortex-M4)."""
    if mode == "qemu":
        needs_qemu()
    path = tmp_path / "chain.tflite"
    path.write_bytes(uint8_chain_model(_rng("uint8 chain")))
    g = driver.compile_graph(str(path))
    batches = random_batch(g, np.random.default_rng(1), 4)
    ours, _ = run_compiled(path, batches, tmp_path, mode, g=g)
    ref = Reference(str(path), 1, lite=True)
    refs = [ref.run(xs) for xs in batches]
    assert len(np.unique(np.concatenate([r[0].ravel() for r in refs]))) > 4
    assert_match(ours, refs)


def matches_tflite(tmp_path, model: bytes, seed: int) -> None:
    """The model (fully uint8: TFLite Micro has no uint8 kernels, so the reference is TFLite) built
    on the host matches TFLite's reference kernels on 3 random samples, no output degenerate (all
    clamped to one value over the samples)."""
    path = tmp_path / "u8.tflite"
    path.write_bytes(model)
    g = driver.compile_graph(str(path))
    assert tflm_unreliable(g)
    batches = random_batch(g, np.random.default_rng(seed), 3)
    ours, _ = run_compiled(path, batches, tmp_path, "host", g=g)
    ref = Reference(str(path), len(g.graph["outputs"]), lite=True)
    refs = [ref.run(xs) for xs in batches]
    for k in range(len(refs[0])):
        assert len(np.unique(np.concatenate([r[k].ravel() for r in refs]))) > 2
    assert_match(ours, refs)


def test_uint8_conv_dw_fc_match_tflite(tmp_path):
    matches_tflite(tmp_path, uint8_ops_model(_rng("uint8 ops")), 0)


def test_uint8_refusals_name_the_operator(tmp_path):
    """uint8 activations with int8 weights, and a uint8 SOFTMAX output that is not 1/256 with zero
    point 0: one line naming the operator."""
    for w_dtype, want in [("int8", "operator 0 (CONV_2D): tensor 'w': mixed types uint8 and int8"),
                          ("uint8", "operator 1 (SOFTMAX): tensor 's': uint8 output must have scale 1/256")]:
        mb = ModelBuilder()
        x = mb.tensor([1, 4, 4, 2], "uint8", scale=0.1, zero_point=128, name="x")
        w = mb.tensor([3, 1, 1, 2], w_dtype, data=np.ones((3, 1, 1, 2), w_dtype), scale=0.1, zero_point=0, name="w")
        y = mb.tensor([1, 4, 4, 3], "uint8", scale=0.1, zero_point=128, name="y")
        mb.op("CONV_2D", [x, w], [y])
        s = mb.tensor([1, 4, 4, 3], "uint8", scale=1 / 256, zero_point=128, name="s")
        mb.op("SOFTMAX", [y], [s])
        path = tmp_path / "bad.tflite"
        path.write_bytes(mb.build(inputs=[x], outputs=[s]))
        with pytest.raises(TinyccError) as e:
            driver.compile_graph(str(path))
        assert want in str(e.value)


def test_uint8_logistic_output_quantization_refused(tmp_path):
    mb = ModelBuilder()
    x = mb.tensor([1, 8], "uint8", scale=0.1, zero_point=128, name="x")
    y = mb.tensor([1, 8], "uint8", scale=1 / 256, zero_point=128, name="y")
    mb.op("LOGISTIC", [x], [y])
    path = tmp_path / "bad.tflite"
    path.write_bytes(mb.build(inputs=[x], outputs=[y]))
    with pytest.raises(TinyccError) as e:
        driver.compile_graph(str(path))
    assert "operator 0 (LOGISTIC): tensor 'y': uint8 output must have scale 1/256 and zero point 0" in str(e.value)


def consecutive_sums_model(rng, units: int = 250) -> bytes:
    """CONV_2D 1x1, DEPTHWISE_CONV_2D (multiplier ``units``) and FULLY_CONNECTED whose weights are
    all 1 and whose channel u has bias 256 u: fed 0..255, their sums are 0 .. 256 units - 1, each
    once, requantized onto [0, 250] by a multiplier near 1 / 256 units."""
    mb = ModelBuilder()
    ins, outs = [], []
    for kind, x_shape, w_shape, y_shape in [("CONV_2D", [1, 16, 16, 1], [units, 1, 1, 1], [1, 16, 16, units]),
                                            ("DEPTHWISE_CONV_2D", [1, 16, 16, 1], [1, 1, 1, units], [1, 16, 16, units]),
                                            ("FULLY_CONNECTED", [256, 1], [units, 1], [256, units])]:
        xs, ws = np.float32(rng.uniform(0.005, 0.05)), np.float32(rng.uniform(0.001, 0.01))
        ys = float(xs) * float(ws) * 256 * units / 250 * float(rng.uniform(1, 1.02))
        x = mb.tensor(x_shape, "uint8", scale=float(xs), zero_point=0, name=f"x_{kind}")
        w = mb.tensor(w_shape, "uint8", data=np.ones(w_shape, np.uint8), scale=float(ws), zero_point=0, name=f"w_{kind}")
        b = mb.tensor([units], "int32", data=(np.arange(units) * 256).astype(np.int32), scale=float(xs * ws),
                      zero_point=0, name=f"b_{kind}")
        y = mb.tensor(y_shape, "uint8", scale=ys, zero_point=0, name=f"y_{kind}")
        mb.op(kind, [x, w, b], [y], **({"depth_multiplier": units} if kind == "DEPTHWISE_CONV_2D" else {}))
        ins.append(x)
        outs.append(y)
    return mb.build(inputs=ins, outputs=outs)


def test_uint8_requantization_as_tflite(tmp_path):
    """Every sum 0 .. 64 000 through each op's requantization, against TFLite: two roundings in
    CONV_2D and DEPTHWISE_CONV_2D, one in FULLY_CONNECTED (the other way misses some 125 of these
    64 000 outputs per op)."""
    path = tmp_path / "sums.tflite"
    path.write_bytes(consecutive_sums_model(_rng("consecutive sums")))
    counting = np.arange(256, dtype=np.uint8)
    batches = [[counting.reshape(1, 16, 16, 1), counting.reshape(1, 16, 16, 1), counting.reshape(256, 1)]]
    ours, _ = run_compiled(path, batches, tmp_path, "host")
    refs = [Reference(str(path), 3, lite=True).run(batches[0])]
    assert all(len(np.unique(r)) > 200 for r in refs[0])
    assert_match(ours, refs)


def uint8_elementwise_model(rng, n: int = 32) -> bytes:
    """``n`` independent uint8 ADDs and MULs (four of each in turn), each with random input and
    output scales and zero points (input scales up to 8x apart, either one the larger) and a fused
    activation in turn, over same-shape and broadcast operands (a scalar, a row, a column, 4-D
    against 1-D); then six LOGISTICs of random input scales and zero points, and a CONCATENATION
    whose inputs are quantized unlike its output."""
    shapes = [([4, 64], [4, 64]), ([3, 5, 16], [16]), ([2, 6, 1], [1, 1, 24]), ([1], [6, 40]),
              ([1, 4, 4, 8], [8])]
    mb = OpBuilder()                 # writes CONCATENATION's options
    ins, outs = [], []
    for k in range(n):
        sa, sb = shapes[k % len(shapes)]
        kind, act = ("ADD", "MUL")[k // len(ACTIVATIONS) % 2], ACTIVATIONS[k % len(ACTIVATIONS)]
        spread = float(rng.uniform(*{"RELU6": (3, 10), "RELU_N1_TO_1": (0.5, 2)}.get(act, (1, 10))))
        r = float(2 ** rng.uniform(-3, 3))
        # inputs near their zero points +- 100: a + b (a * b) spans about spread
        s1 = spread / (100 * (1 + r)) if kind == "ADD" else np.sqrt(spread / r) / 100
        s2 = s1 * r
        ys = spread / float(rng.uniform(40, 200))      # over 40-200 output steps
        out_zp = int(rng.integers(0, 60) if act in ("RELU", "RELU6") else rng.integers(64, 192))
        a = mb.tensor(sa, "uint8", scale=s1, zero_point=int(rng.integers(64, 192)), name=f"a{k}")
        b = mb.tensor(sb, "uint8", scale=s2, zero_point=int(rng.integers(64, 192)), name=f"b{k}")
        y = mb.tensor(list(np.broadcast_shapes(sa, sb)), "uint8", scale=ys, zero_point=out_zp, name=f"y{k}")
        mb.op(kind, [a, b], [y], fused_activation=act)
        ins += [a, b]
        outs.append(y)
    for k in range(n, n + 6):       # LOGISTIC: output 1/256, zero point 0 (TFLite's requirement)
        x = mb.tensor([4, 64], "uint8", scale=float(rng.uniform(0.005, 0.2)), zero_point=int(rng.integers(0, 256)),
                      name=f"a{k}")
        y = mb.tensor([4, 64], "uint8", scale=1 / 256, zero_point=0, name=f"y{k}")
        mb.op("LOGISTIC", [x], [y])
        ins.append(x)
        outs.append(y)
    # CONCATENATION of two op outputs and an input, each quantized unlike the output: rescaled
    x = mb.tensor([4, 8], "uint8", scale=0.03, zero_point=90, name="concat_in")
    y = mb.tensor([4, 136], "uint8", scale=0.04, zero_point=100, name="concat")
    mb.op("CONCATENATION", [outs[0], x, outs[-1]], [y], axis=1)
    return mb.build(inputs=ins + [x], outputs=outs + [y])


def test_uint8_elementwise_match_tflite(tmp_path):
    """uint8 ADD (TFLite's uint8 reference Add: offsets, left shift 20, per-input and output
    multipliers) and MUL ((a - zp_a)(b - zp_b) requantized once by s_a s_b / s_out, rounded twice)
    on many random scales and zero points, broadcasting included: some 22 000 outputs (a single
    rounding of MUL's requantization misses 60 of its 11 000); LOGISTIC as a table; CONCATENATION
    rescaling its inputs (before, uint8 bytes were copied unchanged: 890 of 900 bytes wrong)."""
    matches_tflite(tmp_path, uint8_elementwise_model(_rng("uint8 add mul")), 2)


# (input shape, axes, keep_dims): TFLite's own 4-D H, W keep_dims case (either axis order), other axes,
# a negative axis naming one already listed, all axes
MEAN_CASES = [
    ([1, 5, 6, 3], [1, 2], True), ([2, 7, 9, 4], [2, 1], True), ([1, 5, 6, 3], [1, 2], False),
    ([2, 7, 9], [2], False), ([4, 10], [0], True), ([2, 3, 4, 5], [0, 3], False), ([6, 33], [-1, 1], False),
    ([3, 4, 5], [0, 1, 2], True)]


def uint8_mean_model(rng) -> bytes:
    """One uint8 MEAN per case of MEAN_CASES and per quantization: the output's scale and zero point
    equal to the input's, or apart: a scale 1.5x to 4x finer (the means of random bytes gather near
    127.5), the zero point putting 127.5 near the middle of the byte."""
    mb = OpBuilder()                 # writes MEAN's ReducerOptions
    ins, outs = [], []
    for k, (shape, axes, keep) in enumerate(MEAN_CASES):
        for same in (True, False):
            xs, xz = float(rng.uniform(0.01, 0.1)), int(rng.integers(0, 256))
            ys = xs if same else xs / float(rng.uniform(1.5, 4))
            yz = xz if same else int(np.clip(round(128 - (127.5 - xz) * xs / ys + rng.integers(-8, 8)), 0, 255))
            red = {a % len(shape) for a in axes}
            out = [1 if d in red else n for d, n in enumerate(shape) if keep or d not in red]
            x = mb.tensor(shape, "uint8", scale=xs, zero_point=xz, name=f"x{k}{same}")
            y = mb.tensor(out, "uint8", scale=ys, zero_point=yz, name=f"mean{k}{same}")
            mb.op("MEAN", [x, mb.tensor([len(axes)], "int32", data=np.array(axes, np.int32), name=f"axes{k}{same}")],
                  [y], keep_dims=keep)
            ins.append(x)
            outs.append(y)
    return mb.build(inputs=ins, outputs=outs)


def test_uint8_mean_matches_tflite(tmp_path):
    """uint8 MEAN against TFLite's uint8 reference kernel (TFLite Micro has none): its integer
    QuantizedMeanOrSum, 1/n folded into the multiplier, in every case (the 4-D H, W keep_dims and the
    equal-quantization ones too; TFLite's optimized kernels differ in some)."""
    matches_tflite(tmp_path, uint8_mean_model(_rng("uint8 mean")), 3)


@pytest.mark.parametrize("kind, y_dtype, want", [
    ("SUM", "uint8", "operator 0 (SUM): tensor 'x': input type uint8 is not supported"),
    ("MEAN", "int8", "operator 0 (MEAN): tensor 'y': mixed types uint8 and int8"),
    ("DIV", "uint8", "operator 0 (DIV): tensor 'x': input type uint8 is not supported")])   # before: C that
def test_uint8_unsupported_refused(tmp_path, kind, y_dtype, want):                          # did not compile
    """What uint8 op is still unsupported is refused in one line naming the operator."""
    mb = OpBuilder()
    x = mb.tensor([2, 8], "uint8", scale=0.1, zero_point=128, name="x")
    if kind == "DIV":
        y = mb.tensor([2, 8], y_dtype, scale=0.1, zero_point=0, name="y")
        mb.op(kind, [x, x], [y])
    else:
        y = mb.tensor([2], y_dtype, scale=0.1, zero_point=0, name="y")
        mb.op(kind, [x, mb.tensor([1], "int32", data=np.array([1], np.int32), name="axes")], [y], keep_dims=False)
    path = tmp_path / "bad.tflite"
    path.write_bytes(mb.build(inputs=[x], outputs=[y]))
    with pytest.raises(TinyccError) as e:
        driver.compile_graph(str(path))
    assert want in str(e.value) and "\n" not in str(e.value)
