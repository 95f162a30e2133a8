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
from tinycc.verify import Reference, random_inputs, tflm_unreliable

from .conftest import assert_match, run_compiled


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def check(tmp_path, data: bytes, tflm: bool = True, samples: int = 2, inputs=None):
    """Build and run the model on the host; compare with TFLite Micro (``tflm``) or TFLite's
    reference kernels. ``inputs(g, rng)`` makes one sample (default: verify's random inputs)."""
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    g = driver.compile_graph(str(path))
    assert tflm_unreliable(g) == (not tflm)
    rng = np.random.default_rng(0)
    batches = [(inputs or random_inputs)(g, rng) for _ in range(samples)]
    ref = Reference(str(path), len(g.graph["outputs"]), lite=not tflm)
    assert ref.name.startswith("TFLite Micro" if tflm else "TFLite (LiteRT reference")
    ours, _ = run_compiled(path, batches, tmp_path, "host", g=g)
    assert_match(ours, [ref.run(xs) for xs in batches])
    return g


def nonzero(g, rng):
    """Random inputs with no zero (divisors), ints in [-50, 50], floats standard normal * 10."""
    xs = []
    for tid in g.graph["inputs"]:
        t = ir.tensor(g, tid)
        if t.dtype == "int32":
            v = rng.integers(1, 51, size=t.shape) * rng.choice([-1, 1], size=t.shape)
            xs.append(v.astype(np.int32))
        else:
            xs.append(np.where(rng.random(t.shape) < 0.5, 1, -1).astype(np.float32)
                      * (rng.random(t.shape).astype(np.float32) * 10 + np.float32(0.25)))
    return xs


def test_add_n(tmp_path):
    check(tmp_path, B.add_n(_rng("addn"), (2, 3, 5), [2, 3, 5]))


FLOOR_SHAPES = [((3, 4), (3, 4)), ((2, 3, 4), (4,))]


@pytest.mark.parametrize("dtype, tflm", [("float32", True), ("int32", False)])
def test_floor_div_and_mod(tmp_path, dtype, tflm):
    check(tmp_path, B.floor_ops(_rng("floor", dtype), dtype, FLOOR_SHAPES), tflm=tflm, inputs=nonzero)


def test_logical_and_reduce_all(tmp_path):
    check(tmp_path, B.logicals(_rng("logic"), (2, 3, 4), (3, 1), [([1], False), ([0, 2], True), ([-1], False)]),
          samples=3)


def test_l2_pool(tmp_path):
    cases = [(2, 2, 2, 2, "VALID", "NONE"), (3, 2, 2, 1, "SAME", "RELU6"), (3, 3, 1, 1, "SAME", "NONE")]
    check(tmp_path, B.l2_pools(_rng("l2"), (2, 5, 6, 3), cases))


def test_l2_pool_int8_refused(tmp_path):
    from tinycc.testing.models_datamove import Net
    n = Net(_rng("l2q"), "int8")
    x, q = n.input((1, 4, 4, 2), name="x")
    n.op("L2_POOL_2D", [x], [n.act((1, 2, 2, 2), q, "y")], padding="VALID", stride_h=2, stride_w=2,
         filter_height=2, filter_width=2, fused_activation_function="NONE")
    path = tmp_path / "m.tflite"
    path.write_bytes(n.build())
    with pytest.raises(TinyccError, match=r"operator 0 \(L2_POOL_2D\).*float32 kernel"):
        driver.build(str(path), str(tmp_path / "out"))


SELECT_CASES = [((2, 3, 4), (2, 3, 4), (2, 3, 4)), ((3, 1), (2, 3, 4), (1, 4))]


def test_select_v2_every_type(tmp_path):
    """TFLite Micro's types against it, the others against TFLite."""
    check(tmp_path, B.selects(_rng("selv2"), "SELECT_V2", ("int8", "int16", "float32"), SELECT_CASES))
    check(tmp_path, B.selects(_rng("selv2"), "SELECT_V2", ("bool", "int32"), SELECT_CASES), tflm=False)


def test_select_v1_against_tflite(tmp_path):
    """SELECT (v1): same shapes, a scalar condition, a rank-1 condition along axis 0."""
    cases = [((2, 3, 4), (2, 3, 4), (2, 3, 4)), ((), (3, 5), (3, 5)), ((3,), (3, 2, 2), (3, 2, 2))]
    check(tmp_path, B.selects(_rng("sel"), "SELECT", ("uint8", "int32", "float32"), cases), tflm=False)


WIDE_CASTS = [("uint8", "int8"), ("uint8", "float32"), ("uint8", "int32"), ("uint8", "bool"), ("int8", "uint8"),
              ("float32", "uint8"), ("int32", "int64"), ("int64", "int32"), ("int64", "float32"),
              ("float32", "int64"), ("bool", "uint8"), ("int16", "int64"), ("int64", "bool")]


def cast_inputs(g, rng):
    """Integers over their type's range (int64 over int32's), bools 0/1, floats in [0, 250)
    (a float cast to uint8 is defined there)."""
    xs = []
    for tid in g.graph["inputs"]:
        t = ir.tensor(g, tid)
        if t.dtype == "float32":
            xs.append((rng.random(t.shape) * 250).astype(np.float32))
        elif t.dtype == "int64":
            xs.append(rng.integers(-2**31, 2**31, size=t.shape).astype(np.int64))
        elif t.dtype == "bool":
            xs.append(rng.integers(0, 2, size=t.shape).astype(np.bool_))
        else:
            info = np.iinfo(t.dtype)
            xs.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True).astype(t.dtype))
    return xs


def test_cast_uint8_int64_against_tflite(tmp_path):
    check(tmp_path, B.casts(_rng("cast"), (3, 7), WIDE_CASTS), tflm=False, inputs=cast_inputs)


def test_dequantize_uint8(tmp_path):
    check(tmp_path, B.dequantize_uint8(_rng("deq"), (4, 9), [(0.02, 128), (0.5, 0), (0.007, 255)]))


def tied_inputs(g, rng):
    """Few distinct values (many ties): integers in [-3, 3] of each type, floats on a 0.5 grid."""
    return [(rng.integers(-3, 4, size=ir.tensor(g, t).shape) * (0.5 if ir.tensor(g, t).dtype == "float32" else 1))
            .astype(ir.tensor(g, t).dtype) for t in g.graph["inputs"]]


def test_topk_v2_against_tflite(tmp_path):
    check(tmp_path, B.topks(_rng("topk"), (3, 2, 9), [1, 4, 9], ("float32", "int8", "int32")), tflm=False,
          inputs=tied_inputs)


def test_strided_slice_5d_against_tflite(tmp_path):
    """TFLite Micro stops at 4-D; TFLite (and tinycc) slice 5-D inputs."""
    from tinycc.testing.models_datamove import strided_slices
    cases = [([0, 1, 0, 1, 0], [2, 3, 4, 5, 6], [1, 1, 2, 2, 3], {}),
             ([1, 0, 3, 0, 5], [2, 3, 0, 5, 0], [1, 1, -1, 1, -2], {"shrink_axis_mask": 1})]
    check(tmp_path, strided_slices(_rng("ss5"), (2, 3, 4, 5, 6), cases), tflm=False)
