"""Fully-uint8 (legacy asymmetric) CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED against TFLite's
uint8 reference kernels (TFLite Micro refuses uint8 for these ops): one model of many independent
single ops, each with random scales and zero points (weights too), so the requantization
multiplier and the offsets are checked on many draws in one build."""
from __future__ import annotations

import zlib

import numpy as np

from tinycc import driver
from tinycc.testing.tflite_writer import ModelBuilder
from tinycc.verify import Reference, tflm_unreliable

from .conftest import assert_match, random_batch, run_compiled

ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _uint8_op(mb, rng, k, kind, x_shape, w_shape, y_shape, depth, **opts):
    """One uint8 op on its own input: random input/weight/output scales and zero points, a random
    int32 bias, the output scale set so that the outputs spread over the byte."""
    act = ACTIVATIONS[k % len(ACTIVATIONS)]
    spread = float(rng.uniform(0.5, 4))     # the sums' real spread, near the clamp bounds 1 and 6
    xs = float(rng.uniform(0.005, 0.1))
    ws = spread / (xs * np.sqrt(depth) * 74 * 74)
    ys = spread / float(rng.uniform(20, 60))    # over 20-60 output steps
    out_zp = int(rng.integers(0, 60) if act in ("RELU", "RELU6") else rng.integers(100, 156))
    x_zp, w_zp = int(rng.integers(64, 192)), int(rng.integers(64, 192))
    w_data = rng.integers(0, 256, w_shape).astype(np.uint8)
    x = mb.tensor(x_shape, "uint8", scale=xs, zero_point=x_zp, name=f"x{k}")
    w = mb.tensor(w_shape, "uint8", data=w_data, scale=ws, zero_point=w_zp, name=f"w{k}")
    c = y_shape[-1]          # TFLite's uint8 kernels want a bias; it centres the sums (inputs average 127.5)
    wd = w_data.astype(np.int64) - w_zp
    sums = wd.reshape(-1, c).sum(axis=0) if kind == "DEPTHWISE_CONV_2D" else wd.reshape(c, -1).sum(axis=1)
    bias = -np.round((127.5 - x_zp) * sums).astype(np.int64) + rng.integers(-20000, 20000, c)
    b = mb.tensor([c], "int32", data=bias.astype(np.int32),
                  scale=float(np.float32(xs) * np.float32(ws)), zero_point=0, name=f"b{k}")
    y = mb.tensor(y_shape, "uint8", scale=ys, zero_point=out_zp, name=f"y{k}")
    mb.op(kind, [x, w, b], [y], fused_activation=act, **opts)
    return x, y


def uint8_ops_model(rng) -> bytes:
    """CONV_2D (SAME/VALID, strides, dilation, a grouped one), DEPTHWISE_CONV_2D (multipliers 1
    and 2, strides, dilation) and FULLY_CONNECTED (batches 1 and 3)."""
    mb = ModelBuilder()
    ins, outs = [], []

    def add(pair):
        ins.append(pair[0])
        outs.append(pair[1])
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
    return mb.build(inputs=ins, outputs=outs)


def test_uint8_conv_dw_fc_match_tflite(tmp_path):
    path = tmp_path / "u8.tflite"
    path.write_bytes(uint8_ops_model(_rng("uint8 ops")))
    g = driver.compile_graph(str(path))
    assert tflm_unreliable(g)           # TFLite Micro has no uint8 kernels: the reference is TFLite
    batches = random_batch(g, np.random.default_rng(0), 3)
    ours, _ = run_compiled(path, batches, tmp_path, "host", g=g)
    ref = Reference(str(path), len(g.graph["outputs"]), lite=True)
    refs = [ref.run(xs) for xs in batches]
    for out in refs[0]:        # the outputs are not degenerate (all clamped to one value)
        assert len(np.unique(out)) > 2
    assert_match(ours, refs)
