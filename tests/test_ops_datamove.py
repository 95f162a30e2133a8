"""Kernel tests of the data-movement, shape, resize and reduction ops against TFLite Micro.

Every model holds several cases of one op family, each once int8 and once float32 (one output
per case), so one build and one compile cover them. int8 must be bit-exact, float32 within the
verify tolerance. A representative subset runs in QEMU (Cortex-M4).
"""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, toolchain
from tinycc.testing import models_datamove as D
from tinycc.verify import Reference

from .conftest import assert_match, needs_qemu, random_batch, run_compiled


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


@pytest.fixture
def check_model(tmp_path):
    """Like conftest's check_model, but the reference must be TFLite Micro itself (verify's
    Reference silently falls back to TFLite when TFLite Micro refuses a model); with
    ``tflm=False`` the model must be one TFLite Micro refuses and TFLite is the reference."""
    def check(model_file, samples=2, seed=0, mode="host", tflm=True):
        g = driver.compile_graph(str(model_file))
        ref = Reference(str(model_file), len(g.graph["outputs"]))
        assert (ref.name == "TFLite Micro") == tflm, f"reference: {ref.name}"
        batches = random_batch(g, np.random.default_rng(seed), samples)
        ours, instr = run_compiled(Path(model_file), batches, tmp_path, mode, g=g)
        assert_match(ours, [ref.run(xs) for xs in batches])
        return instr
    return check


def _tflm_outputs(path, batches, n_outputs):
    ref = Reference(str(path), n_outputs)
    assert ref.name == "TFLite Micro", f"reference: {ref.name}"
    return [ref.run(xs) for xs in batches]


def _write(tmp_path, data: bytes) -> Path:
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    return path


# -- slicing --------------------------------------------------------------------------

def test_slice(tmp_path, check_model):
    cases = [([0, 1, 0, 2], [1, 2, 5, 3]), ([0, 0, 2, 0], [-1, -1, -1, -1]), ([0, 2, 1, 4], [1, 1, 3, 1]),
             ([0, 0, 0, 0], [1, 4, 6, 5])]
    check_model(_write(tmp_path, D.slices(_rng("slice"), (1, 4, 6, 5), cases)), samples=2)


SS_CASES = [
    ([0, 1, 0, 1], [1, 4, 6, 5], [1, 1, 2, 2], {}),
    ([0, -1, 5, 4], [1, -5, 0, 0], [1, -1, -2, -3], {}),
    ([0, 1, 0, 0], [0, 3, 0, 0], [1, 1, 1, 1], dict(begin_mask=0b1101, end_mask=0b1101)),
    ([0, 2, 0, 0], [1, 3, 6, 5], [1, 1, 1, 1], dict(shrink_axis_mask=0b0011)),
    ([0, 0, 0, 3], [1, 4, 6, 1], [1, 1, 1, 1], dict(shrink_axis_mask=0b1000)),
    ([-9, 10, -100, 1], [9, -100, 100, 4], [1, -2, 3, 1], {}),
    ([0, -3, 1, 0], [1, 3, 4, 5], [1, 1, 1, 1], dict(shrink_axis_mask=0b001, begin_mask=0b010)),
]
# TFLite Micro fails to prepare these (ellipsis, new axis, offset, fewer indices than dims);
# TFLite runs them.
SS_CASES_TFLITE = [
    ([0, -3, 1], [1, 3, 4], [1, 1, 1], dict(shrink_axis_mask=0b001, begin_mask=0b010)),
    ([0, 1], [0, 5], [1, 2], dict(ellipsis_mask=0b01)),
    ([0, 0, 1, 0], [1, 0, 3, 2], [1, 1, 1, 1], dict(new_axis_mask=0b0010)),
    ([0, 0, 1], [0, 0, 3], [1, 1, 1], dict(new_axis_mask=0b001, ellipsis_mask=0b010)),
    ([0, 1, 2, 0], [1, 2, 3, 5], [1, 1, 1, 1], dict(offset=True)),
]


def test_strided_slice(tmp_path, check_model):
    check_model(_write(tmp_path, D.strided_slices(_rng("ss"), (1, 4, 6, 5), SS_CASES)))


def test_strided_slice_tflite_masks(tmp_path, check_model):
    check_model(_write(tmp_path, D.strided_slices(_rng("ss2"), (1, 4, 6, 5), SS_CASES_TFLITE)), tflm=False)


def test_split_split_v_unpack(tmp_path, check_model):
    data = D.splits(_rng("split"), (2, 6, 4, 3), split_cases=[(1, 3), (-1, 3)],
                    split_v_cases=[([1, -1, 2], 1), ([3, 1], -2)], unpack_axes=[0, -1])
    check_model(_write(tmp_path, data), samples=2)


# -- joining --------------------------------------------------------------------------

JOIN_CASES = [
    ([(1, 4, 4, 3), (1, 4, 4, 5), (1, 4, 4, 1)], 3, None, False, True),
    ([(2, 3, 5), (2, 1, 5), (2, 4, 5), (2, 2, 5)], -2, 1, False, True),
    ([(3, 7), (5, 7)], 0, 0, False, True),
    ([(2, 3)] * 3, 0, None, True, True),
    ([(4, 5, 2)] * 2, -1, 1, True, True),
    ([(3, 4)] * 4, 1, None, True, True),
]


def test_concatenation_pack(tmp_path, check_model):
    check_model(_write(tmp_path, D.concats(_rng("concat"), JOIN_CASES)), samples=2)


def test_concatenation_requantize(tmp_path):
    """int8 inputs quantized differently from the output: TFLite (Micro) refuse the model, so the
    reference is TFLite's ConcatenationWithScaling arithmetic in numpy."""
    shapes = [(1, 3, 4, 2), (1, 3, 4, 5)]
    path = _write(tmp_path, D.concats(_rng("requant"), [(shapes, 3, None, False, False)], dtypes=("int8",)))
    g = driver.compile_graph(str(path))
    rng = np.random.default_rng(5)
    batches = [[rng.integers(-128, 128, s).astype(np.int8) for s in shapes] for _ in range(3)]
    ours, _ = run_compiled(path, batches, tmp_path, g=g)
    from tinycc import ir
    y = ir.tensor(g, g.graph["outputs"][0]).quant
    f32 = np.float32
    for xs, (out,) in zip(batches, ours):
        parts = []
        for tid, x in zip(g.graph["inputs"], xs):
            q = ir.tensor(g, tid).quant
            scale = f32(f32(q.scale[0]) * (f32(1) / f32(y.scale[0])))
            bias = f32(f32(-q.zero_point[0]) * scale)
            v = (x.astype(f32) * scale + bias).astype(f32)
            r = np.sign(v) * np.floor(np.abs(v).astype(np.float64) + 0.5)
            parts.append(np.clip(r + y.zero_point[0], -128, 127).astype(np.int8))
        np.testing.assert_array_equal(out, np.concatenate(parts, axis=3))


# -- permuting and padding ------------------------------------------------------------

TRANSPOSE_CASES = [((2, 3, 4, 5), [(0, 3, 1, 2), (0, 2, 3, 1), (3, 2, 1, 0), (0, 1, 3, 2), (0, 1, 2, 3), (2, 0, 3, 1)]),
                   ((2, 3, 2, 4, 3), [(0, 4, 2, 1, 3), (4, 3, 2, 1, 0)])]


def test_transpose(tmp_path, check_model):
    check_model(_write(tmp_path, D.transposes(_rng("transpose"), TRANSPOSE_CASES)), samples=2)


PAD_CASES = [
    ("PAD", [[0, 0], [1, 2], [2, 1], [0, 0]], None),
    ("PAD", [[1, 0], [0, 3], [0, 0], [2, 2]], None),
    ("PADV2", [[0, 0], [2, 2], [1, 1], [0, 1]], 0.75),
    ("PADV2", [[0, 1], [1, 0], [0, 2], [1, 0]], "input"),
    ("MIRROR_PAD", [[0, 0], [2, 1], [3, 3], [0, 0]], "REFLECT"),
    ("MIRROR_PAD", [[0, 0], [3, 2], [1, 4], [1, 0]], "SYMMETRIC"),
]


def test_pad(tmp_path, check_model):
    check_model(_write(tmp_path, D.pads(_rng("pad"), (1, 3, 4, 2), PAD_CASES)), samples=2)


def test_space_depth(tmp_path, check_model):
    cases = [((1, 4, 6, 3), 2), ((2, 6, 3, 2), 3)]
    check_model(_write(tmp_path, D.space_depth(_rng("s2d"), cases)), samples=2)


# -- gather ---------------------------------------------------------------------------

GATHER_CONST = [
    (0, 0, [3, 0, 0, 2], True),
    (1, 0, [[1, 4], [0, 2], [4, 4]], True),
    (-1, 0, [2, 1], True),
    (2, 1, [[0, 2, 2], [1, 1, 0], [2, 0, 1], [0, 0, 0]], True),
]


def test_gather(tmp_path, check_model):
    check_model(_write(tmp_path, D.gathers(_rng("gather"), (4, 5, 3), GATHER_CONST)), samples=2)


def test_gather_runtime_indices(tmp_path):
    """Indices computed at run time: in-range ones match TFLite Micro; one out-of-range index
    makes invoke fail (as TFLite Micro's does) instead of reading outside the input."""
    cases = [(1, 0, np.zeros((2, 3), np.int32), False), (0, 0, np.zeros(4, np.int32), False)]
    path = _write(tmp_path, D.gathers(_rng("gather_rt"), (4, 5, 3), cases, dtypes=("int8",)))
    g = driver.compile_graph(str(path))
    rng = np.random.default_rng(1)
    batches = [[rng.integers(-128, 128, (4, 5, 3)).astype(np.int8), rng.integers(0, 5, (2, 3)).astype(np.int32),
                rng.integers(0, 4, 4).astype(np.int32)] for _ in range(3)]
    ours, _ = run_compiled(path, batches, tmp_path, g=g)
    assert_match(ours, _tflm_outputs(path, batches, len(g.graph["outputs"])))
    exe = tmp_path / "h"                  # the harness run_compiled built
    for k, bad in enumerate((5, -1, 2**31 - 1)):
        xs = [batches[0][0], batches[0][1].copy(), batches[0][2]]
        xs[1][1, 2] = bad
        with pytest.raises(toolchain.ToolchainError) as err:
            toolchain.run_samples(exe, b"".join(x.tobytes() for x in xs), 1, workdir=tmp_path / f"bad{k}")
        assert err.value.returncode == 1


# -- resize ---------------------------------------------------------------------------

RESIZE_CASES = [(kind, size, align, hpc)
                for kind in ("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR")
                for size, align, hpc in [((10, 14), False, False), ((10, 14), True, False), ((10, 14), False, True),
                                         ((3, 5), False, False), ((3, 5), True, False), ((3, 5), False, True),
                                         ((7, 4), False, True), ((1, 1), True, False)]]


def test_resize(tmp_path, check_model):
    check_model(_write(tmp_path, D.resizes(_rng("resize"), (2, 5, 7, 3), RESIZE_CASES)), samples=3)


# -- reductions -----------------------------------------------------------------------

MEAN_SUM_CASES = [(kind, axes, keep, requant)
                  for kind in ("MEAN", "SUM")
                  for axes, keep, requant in [([1, 2], True, False), ([1, 2], False, True), ([3], False, True),
                                              ([0, 3], True, True), ([-1, 1], False, False), ([0, 1, 2, 3], True, True),
                                              ([2, 2], True, True)]]


def test_mean_sum(tmp_path, check_model):
    check_model(_write(tmp_path, D.reductions(_rng("mean"), (2, 5, 6, 7), MEAN_SUM_CASES)), samples=3)


MINMAX_CASES = [(kind, axes, keep, False) for kind in ("REDUCE_MAX", "REDUCE_MIN")
                for axes, keep in [([1, 2], True), ([3], False), ([0, 2], False), ([0, 1, 2, 3], True)]]
ARG_CASES = [(kind, axes, False, False) for kind in ("ARG_MAX", "ARG_MIN") for axes in ([3], [1], [0], [-2])]


def test_reduce_max_min_arg(tmp_path, check_model):
    check_model(_write(tmp_path, D.reductions(_rng("max"), (2, 5, 6, 7), MINMAX_CASES + ARG_CASES)), samples=3)


def test_reduce_ties(tmp_path):
    """Few distinct values: ARG_MAX/ARG_MIN pick the first of equal values."""
    data = D.reductions(_rng("ties"), (3, 40), [("ARG_MAX", [1], False, False), ("ARG_MIN", [0], False, False),
                                                ("REDUCE_MAX", [1], False, False)], dtypes=("int8",))
    path = _write(tmp_path, data)
    g = driver.compile_graph(str(path))
    rng = np.random.default_rng(3)
    batches = [[rng.integers(-2, 2, (3, 40)).astype(np.int8)] for _ in range(3)]
    ours, _ = run_compiled(path, batches, tmp_path, g=g)
    assert_match(ours, _tflm_outputs(path, batches, len(g.graph["outputs"])))


# -- matrix ops -----------------------------------------------------------------------

BMM_CASES = [
    ((2, 3, 4), (2, 4, 5), False, False, False),
    ((1, 6, 8), (8, 3), False, False, True),
    ((2, 1, 4, 3), (1, 3, 5, 4), True, True, False),
    ((3, 2, 5), (3, 4, 5), False, True, True),
    ((2, 7, 3), (1, 7, 4), True, False, False),
]


def test_batch_matmul(tmp_path, check_model):
    check_model(_write(tmp_path, D.batch_matmuls(_rng("bmm"), BMM_CASES)), samples=3)


TCONV_CASES = [
    ((1, 4, 4, 3), 5, (3, 3), (2, 2), "SAME", "NONE", True),
    ((1, 5, 3, 2), 4, (3, 2), (2, 1), "VALID", "RELU", True),
    ((2, 3, 3, 4), 3, (2, 2), (2, 2), "SAME", "NONE", False),
    ((1, 4, 5, 2), 2, (4, 4), (3, 2), "SAME", "RELU6", True),
    ((1, 3, 3, 3), 2, (1, 1), (1, 1), "VALID", "NONE", True),
    ((1, 2, 3, 2), 3, (3, 3), (1, 2), "VALID", "RELU_N1_TO_1", None),
]


def test_transpose_conv(tmp_path, check_model):
    check_model(_write(tmp_path, D.transpose_convs(_rng("tconv"), TCONV_CASES)), samples=3)


# -- shape ops ------------------------------------------------------------------------

def test_shape_fill_expand_dims(tmp_path, check_model):
    check_model(_write(tmp_path, D.shape_fill_expand(_rng("shape"), (2, 3, 4))), samples=2)


def test_int64_outputs(tmp_path):
    """TFLite Micro writes SHAPE and ARG_MAX/ARG_MIN only as int32; the int64 forms are checked
    against numpy (ties included: the first of equal values wins)."""
    n = D.Net(_rng("int64"), "float32")
    x, _ = n.input((3, 40), name="x")
    ys = [n.act([2], {}, "shape", dtype="int64"), n.act([3], {}, "argmax", dtype="int64"),
          n.act([40], {}, "argmin", dtype="int64")]
    n.op("SHAPE", [x], [ys[0]], out_type="int64")
    n.op("ARG_MAX", [x, n.const(np.array([1], np.int32))], [ys[1]], output_type="int64")
    n.op("ARG_MIN", [x, n.const(np.array([0], np.int32))], [ys[2]], output_type="int64")
    path = _write(tmp_path, n.build())
    rng = np.random.default_rng(4)
    batches = [[rng.integers(-2, 2, (3, 40)).astype(np.float32) * 0.5] for _ in range(3)]
    ours, _ = run_compiled(path, batches, tmp_path, g=driver.compile_graph(str(path)))
    for (x,), (shape, amax, amin) in zip(batches, ours):
        assert shape.dtype == amax.dtype == amin.dtype == np.int64
        assert shape.tolist() == [3, 40]
        np.testing.assert_array_equal(amax, np.argmax(x, axis=1))
        np.testing.assert_array_equal(amin, np.argmin(x, axis=0))


# -- in place ----------------------------------------------------------------------------

INPLACE_CASES = {
    "pad": lambda r: D.pads(r, (1, 5, 6, 3), [("PAD", [[0, 0], [1, 2], [2, 1], [0, 1]], None)], dtypes=("int8",)),
    "mirror_pad": lambda r: D.pads(r, (1, 5, 6, 3), [("MIRROR_PAD", [[0, 0], [2, 1], [0, 2], [0, 0]], "REFLECT")],
                                   dtypes=("int8",)),
    "reverse": lambda r: D.strided_slices(r, (2, 6, 5), [([1, -1, 0], [-3, -7, 5], [-1, -1, 1], {})],
                                          dtypes=("int8",)),
    "transpose": lambda r: D.transposes(r, [((2, 5, 4, 3), [(0, 2, 1, 3)])], dtypes=("int8",)),
    "bilinear": lambda r: D.resizes(r, (1, 4, 5, 3), [("RESIZE_BILINEAR", (7, 9), False, True)], dtypes=("int8",)),
    "mean": lambda r: D.reductions(r, (2, 5, 6, 4), [("MEAN", [1, 2], True, True)], dtypes=("int8",)),
    "arg_max": lambda r: D.reductions(r, (3, 4, 9), [("ARG_MAX", [1], False, False)], dtypes=("int8",)),
}


@pytest.mark.parametrize("case", sorted(INPLACE_CASES))
def test_overlap_rule_at_its_limit(case, tmp_path):
    """Each kernel family's overlap rule (from its reads_min), pushed to the limit the planner
    allows, still matches TFLite Micro (helpers of test_inplace.py)."""
    from .test_inplace import _extreme_offsets, _rule, _run_forced
    path = _write(tmp_path, INPLACE_CASES[case](_rng("inplace", case)))
    g, r = _rule(path)
    assert r is not None, f"{case}: expected an overlap rule"
    ds = _extreme_offsets(g, r)
    for d in ds:
        _run_forced(path, d, tmp_path, seed=len(ds))


# -- QEMU -----------------------------------------------------------------------------

# On the device: every kernel family once (the gather-map kernel through PAD/MIRROR_PAD and the
# detector head's upsample, slice and transpose; scatter through its concatenation).
QEMU_MODELS = [
    lambda r: D.pads(r, (1, 3, 4, 2), PAD_CASES[::2] + PAD_CASES[5:]),
    lambda r: D.resizes(r, (1, 5, 7, 3), RESIZE_CASES[::3]),
    lambda r: D.reductions(r, (2, 5, 6, 7), MEAN_SUM_CASES[::3] + MINMAX_CASES[:1] + ARG_CASES[:2]),
    lambda r: D.batch_matmuls(r, BMM_CASES[:2]),
    lambda r: D.transpose_convs(r, TCONV_CASES[:2]),
    lambda r: D.detector_head(r, "int8"),
]


@pytest.mark.parametrize("k", range(len(QEMU_MODELS)))
def test_datamove_in_qemu(k, tmp_path, check_model):
    needs_qemu()
    instr = check_model(_write(tmp_path, QEMU_MODELS[k](np.random.default_rng(k))), samples=2, mode="qemu")
    assert instr and all(i > 0 for i in instr)
