"""Issue 16's arithmetic, logical, reduction, pooling and select builtins on the host, each model
holding several single-op cases: against TFLite Micro where it has the op and type, against
TFLite's reference kernels where it has not (the op's ``tflm_reference_reliable`` says so)."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from tinycc import driver, ir
from tinycc.errors import TinyccError
from tinycc.testing import models_builtins_b as B
from tinycc.testing.models_datamove import Net, strided_shape
from tinycc.verify import Reference, random_inputs, tflm_unreliable

from .conftest import assert_match, run_compiled


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def check(tmp_path, data: bytes, tflm: bool = True, samples: int = 2):
    """Build and run the model on the host; compare with TFLite Micro (``tflm``) or TFLite's
    reference kernels, on ``sample``'s inputs."""
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    g = driver.compile_graph(str(path))
    assert tflm_unreliable(g) == (not tflm)
    rng = np.random.default_rng(0)
    batches = [sample(g, rng) for _ in range(samples)]
    ref = Reference(str(path), len(g.graph["outputs"]), lite=not tflm)
    assert ref.name.startswith("TFLite Micro" if tflm else "TFLite (LiteRT reference")
    ours, _ = run_compiled(path, batches, tmp_path, "host", g=g)
    assert_match(ours, [ref.run(xs) for xs in batches])
    return g


def sample(g, rng):
    """One sample; an input's name prefix picks its values: ``floor_`` no zero (divisors; int32
    in [-50, 50], floats of magnitude [0.25, 10.25)), ``topk_`` few distinct values (ties),
    ``cast_`` values every cast defines (floats in [0, 250), int64 in int32's range), the rest
    as ``verify`` makes them."""
    xs = []
    for x, tid in zip(random_inputs(g, rng), g.graph["inputs"]):
        t = ir.tensor(g, tid)
        if t.name.startswith("floor_"):
            sign = rng.choice([-1, 1], size=t.shape)
            x = (sign * rng.integers(1, 51, size=t.shape) if t.dtype == "int32"
                 else sign * (rng.random(t.shape) * 10 + 0.25)).astype(t.dtype)
        elif t.name.startswith("topk_"):
            x = (rng.integers(-3, 4, size=t.shape) * (0.5 if t.dtype == "float32" else 1)).astype(t.dtype)
        elif t.name.startswith("cast_") and t.dtype == "float32":
            x = (rng.random(t.shape) * 250).astype(np.float32)
        elif t.name.startswith("cast_") and t.dtype == "int64":
            x = rng.integers(-2**31, 2**31, size=t.shape).astype(np.int64)
        xs.append(x)
    return xs


def test_against_tflite_micro(tmp_path):
    """ADD_N (float32, int8), float32 FLOOR_DIV/FLOOR_MOD, LOGICAL_AND/OR/NOT, REDUCE_ALL,
    L2_POOL_2D, SELECT_V2 in TFLite Micro's types, DEQUANTIZE uint8: one model."""
    n = Net(_rng("tflm"))
    B.add_n(n, (2, 3, 5), [2, 3, 5])
    B.floor_ops(n, "float32", FLOOR_SHAPES)
    B.logicals(n, (2, 3, 4), (3, 1), [([1], False), ([0, 2], True), ([-1], False)])
    B.l2_pools(n, (2, 5, 6, 3), [(2, 2, 2, 2, "VALID", "NONE"), (3, 2, 2, 1, "SAME", "RELU6"),
                                  (3, 3, 1, 1, "SAME", "NONE")])
    B.selects(n, "SELECT_V2", ("int8", "int16", "float32"), SELECT_CASES)
    B.dequantize_uint8(n, (4, 9), [(0.02, 128), (0.5, 0), (0.007, 255)])
    check(tmp_path, n.build(), samples=3)


def test_against_tflite(tmp_path):
    """What TFLite Micro lacks, against TFLite's reference kernels: int32 FLOOR_DIV/FLOOR_MOD,
    SELECT (v1: same shapes, a scalar condition, a rank-1 condition along axis 0), SELECT_V2 of
    bool and int32, CAST from and to uint8 and int64, TOPK_V2 (ties), 5-D STRIDED_SLICE."""
    from tinycc.testing.models_datamove import strided_slices
    n = Net(_rng("lite"))
    B.floor_ops(n, "int32", FLOOR_SHAPES)
    B.selects(n, "SELECT", ("uint8", "int32", "float32"),
              [((2, 3, 4), (2, 3, 4), (2, 3, 4)), ((), (3, 5), (3, 5)), ((3,), (3, 2, 2), (3, 2, 2))])
    B.selects(n, "SELECT_V2", ("bool", "int32"), SELECT_CASES)
    B.casts(n, (3, 7), WIDE_CASTS)
    B.topks(n, (3, 2, 9), [1, 4, 9], ("float32", "int8", "int32"))
    n.dtype = "int8"
    x, q = n.input((2, 3, 4, 5, 6), name="ss5_x")
    for k, (begin, end, strides, masks) in enumerate(SLICES_5D):
        ins = [x, n.const(begin, name=f"begin{k}"), n.const(end, name=f"end{k}"), n.const(strides, name=f"strides{k}")]
        n.op("STRIDED_SLICE", ins, [n.act(strided_shape((2, 3, 4, 5, 6), begin, end, strides, **masks), q, f"ss{k}")],
             **{**dict(begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0), **masks})
    check(tmp_path, n.build(), tflm=False, samples=3)


FLOOR_SHAPES = [((3, 4), (3, 4)), ((2, 3, 4), (4,))]
SELECT_CASES = [((2, 3, 4), (2, 3, 4), (2, 3, 4)), ((3, 1), (2, 3, 4), (1, 4))]
WIDE_CASTS = [("uint8", "int8"), ("uint8", "float32"), ("uint8", "int32"), ("uint8", "bool"), ("int8", "uint8"),
              ("float32", "uint8"), ("int32", "int64"), ("int64", "int32"), ("int64", "float32"),
              ("float32", "int64"), ("bool", "uint8"), ("int16", "int64"), ("int64", "bool")]
SLICES_5D = [([0, 1, 0, 1, 0], [2, 3, 4, 5, 6], [1, 1, 2, 2, 3], {}),        # TFLite Micro stops at 4-D
             ([1, 0, 3, 0, 5], [2, 3, 0, 5, 0], [1, 1, -1, 1, -2], {"shrink_axis_mask": 1})]


def test_l2_pool_int8_refused(tmp_path):
    n = Net(_rng("l2q"), "int8")
    x, q = n.input((1, 4, 4, 2), name="x")
    n.op("L2_POOL_2D", [x], [n.act((1, 2, 2, 2), q, "y")], padding="VALID", stride_h=2, stride_w=2,
         filter_height=2, filter_width=2, fused_activation_function="NONE")
    path = tmp_path / "m.tflite"
    path.write_bytes(n.build())
    with pytest.raises(TinyccError, match=r"operator 0 \(L2_POOL_2D\).*float32 kernel"):
        driver.build(str(path), str(tmp_path / "out"))
