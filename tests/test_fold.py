"""fold_constants: ops with constant inputs disappear from the generated code; constant model
outputs are still written; results bit-exact with TFLite Micro (or equal to the constant)."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver, frontend, ir, toolchain
from tinycc.passes import fold_constants, run_pipeline
from tinycc.passes.fold_constants import FOLD_MAX_BYTES
from tinycc.testing.models_datamove import OpBuilder

from .test_fusion import run_vs_tflm


def kinds(g):
    return sorted(ir.op(g, n).kind for n in ir.ops_in_order(g))


def shape_arithmetic() -> bytes:
    """SHAPE(x) ++ [7] (CONCATENATION of int32) is an output; x -> RELU is the other one."""
    b = OpBuilder()
    x = b.tensor([1, 5, 3, 2], "float32", name="x")
    s = b.tensor([4], "int32", name="shape")
    c = b.tensor([1], "int32", data=np.array([7], np.int32), name="seven")
    y = b.tensor([5], "int32", name="shape_and_7")
    r = b.tensor([1, 5, 3, 2], "float32", name="relu")
    b.op("SHAPE", [x], [s], out_type="int32")
    b.op("CONCATENATION", [s, c], [y], axis=0, fused_activation_function="NONE")
    b.op("RELU", [x], [r])
    return b.build([x], [y, r])


def quantized_constants(also_output=False) -> bytes:
    """ADD(x, QUANTIZE(float constant)) and FULLY_CONNECTED(x2, DEQUANTIZE(int8 weights))."""
    b = OpBuilder()
    x = b.tensor([1, 6], "int8", scale=0.04, zero_point=-3, name="x")
    cf = b.tensor([1, 6], "float32", data=np.linspace(-2.4, 2.7, 6).astype(np.float32), name="cf")
    cq = b.tensor([1, 6], "int8", scale=0.03, zero_point=5, name="cq")
    y = b.tensor([1, 6], "int8", scale=0.06, zero_point=1, name="sum")
    b.op("QUANTIZE", [cf], [cq])
    b.op("ADD", [x, cq], [y], fused_activation="NONE")
    x2 = b.tensor([2, 4], "float32", name="x2")
    wq = b.tensor([3, 4], "int8", data=np.arange(-6, 6, dtype=np.int8).reshape(3, 4) * 9, scale=0.02,
                  zero_point=0, name="wq")
    wf = b.tensor([3, 4], "float32", name="wf")
    bias = b.tensor([3], "float32", data=np.array([0.5, -1.0, 0.25], np.float32), name="bias")
    z = b.tensor([2, 3], "float32", name="fc")
    b.op("DEQUANTIZE", [wq], [wf])
    b.op("FULLY_CONNECTED", [x2, wf, bias], [z], fused_activation="NONE")
    return b.build([x, x2], [y, z, cq] if also_output else [y, z])


def test_shape_arithmetic_folds_and_the_output_is_copied(tmp_path):
    data = shape_arithmetic()
    g = frontend.parse_tflite(data)
    assert kinds(g) == ["CONCATENATION", "RELU", "SHAPE"]
    g = fold_constants(g)
    ir.check_invariants(g)
    assert kinds(g) == ["RELU", "TINYCC_COPY"]           # the constant output is still written
    out = g.graph["outputs"][0]
    copy = ir.op(g, ir.producer(g, out))
    np.testing.assert_array_equal(ir.tensor(g, copy.inputs[0]).data, [1, 5, 3, 2, 7])
    run_vs_tflm(data, tmp_path)


def test_quantize_and_dequantize_of_constants(tmp_path):
    data = quantized_constants()
    g = run_pipeline(frontend.parse_tflite(data), verify=True)
    assert kinds(g) == ["ADD", "FULLY_CONNECTED"]
    run_vs_tflm(data, tmp_path)


def test_folded_tensor_that_is_also_an_output(tmp_path):
    data = quantized_constants(also_output=True)
    g = run_pipeline(frontend.parse_tflite(data), verify=True)
    assert kinds(g) == ["ADD", "FULLY_CONNECTED", "TINYCC_COPY"]
    add = next(ir.op(g, n) for n in ir.ops_in_order(g) if ir.op(g, n).kind == "ADD")
    assert ir.tensor(g, add.inputs[1]).is_const            # ADD reads the constant, not the copy
    run_vs_tflm(data, tmp_path)


def test_constant_model_output(tmp_path):
    """A model output that is a constant in the file: written by a copy, read back on the host."""
    b = OpBuilder()
    x = b.tensor([2, 3], "float32", name="x")
    r = b.tensor([2, 3], "float32", name="r")
    k = b.tensor([2, 2], "int32", data=np.array([[3, -1], [40000, 2]], np.int32), name="k")
    b.op("RELU", [x], [r])
    path = tmp_path / "m.tflite"
    path.write_bytes(b.build([x], [k, r]))
    g = driver.compile_graph(str(path), verify=True)
    assert kinds(g) == ["RELU", "TINYCC_COPY"]
    driver.build(str(path), str(tmp_path / "out"))
    exe = toolchain.build_harness(tmp_path / "out", tmp_path / "h")
    xs = np.array([[-1, 2, -3], [4, -5, 6]], np.float32)
    raw, _, _ = toolchain.run_samples(exe, xs.tobytes(), 1, workdir=tmp_path / "run")
    np.testing.assert_array_equal(np.frombuffer(raw[:16], np.int32), [3, -1, 40000, 2])
    np.testing.assert_array_equal(np.frombuffer(raw[16:], np.float32), np.maximum(xs, 0).ravel())


def test_what_must_not_fold():
    b = OpBuilder()
    v = b.tensor([], "float32", name="v")                   # run-time value
    dims = b.tensor([2], "int32", data=np.array([2, 3], np.int32), name="dims")
    y = b.tensor([2, 3], "float32", name="fill")
    big_dims = b.tensor([1], "int32", data=np.array([FOLD_MAX_BYTES // 4 + 1], np.int32), name="big_dims")
    c = b.tensor([], "float32", data=np.array(1.5, np.float32), name="c")
    big = b.tensor([FOLD_MAX_BYTES // 4 + 1], "float32", name="big")
    b.op("FILL", [dims, v], [y])
    b.op("FILL", [big_dims, c], [big])                      # too large to keep in flash
    g = run_pipeline(frontend.parse_tflite(b.build([v], [y, big])), verify=True)
    assert kinds(g) == ["FILL", "FILL"]


def test_fold_reaches_a_fixed_point():
    """A chain of constant ops folds entirely, however long."""
    b = OpBuilder()
    t = b.tensor([1, 8], "float32", data=np.linspace(-1, 1, 8).astype(np.float32), name="c0")
    for k in range(5):
        u = b.tensor([1, 8], "float32", name=f"c{k + 1}")
        b.op("ABS" if k % 2 else "NEG", [t], [u])
        t = u
    x = b.tensor([1, 8], "float32", name="x")
    y = b.tensor([1, 8], "float32", name="y")
    b.op("ADD", [x, t], [y], fused_activation="NONE")
    g = run_pipeline(frontend.parse_tflite(b.build([x], [y])), verify=True)
    assert kinds(g) == ["ADD"]
    add = ir.op(g, ir.ops_in_order(g)[0])
    want = -np.abs(np.linspace(-1, 1, 8).astype(np.float32)).reshape(1, 8)   # NEG ABS NEG ABS NEG
    np.testing.assert_array_equal(ir.tensor(g, add.inputs[1]).data, want)


def float_arithmetic() -> bytes:
    """((c1 - c2, RELU) * c3 / c4 + c5, RELU6) on constants (broadcasting), MAXIMUM of int8
    constants, then each added to a model input: only the last ADDs run."""
    from tinycc.testing.models_elementwise import ElementwiseBuilder
    b = ElementwiseBuilder()
    f = lambda v, n: b.tensor(list(np.shape(v)), "float32", data=np.asarray(v, np.float32), name=n)
    c1 = f([[0.3, -2.0, 5.5, 1e38]], "c1")
    c2 = f([0.1, 0.7, -1.25, -3e38], "c2")
    c3, c4, c5 = f([[3.0]], "c3"), f([[0.7, -0.3, 0.11, 2.0]], "c4"), f([[-4.0, 0.5, 1.0, 2.0]], "c5")
    t = [b.tensor([1, 4], "float32", name=f"t{k}") for k in range(4)]
    b.op("SUB", [c1, c2], [t[0]], fused_activation_function="RELU")
    b.op("MUL", [t[0], c3], [t[1]], fused_activation_function="NONE")
    b.op("DIV", [t[1], c4], [t[2]], fused_activation_function="NONE")
    b.op("ADD", [t[2], c5], [t[3]], fused_activation="RELU6")
    x = b.tensor([1, 4], "float32", name="x")
    y = b.tensor([1, 4], "float32", name="y")
    b.op("ADD", [x, t[3]], [y], fused_activation="NONE")
    q = dict(scale=0.05, zero_point=-4)
    i1 = b.tensor([2, 3], "int8", data=np.array([[5, -100, 7], [0, 127, -128]]), name="i1", **q)
    i2 = b.tensor([3], "int8", data=np.array([6, -101, -3]), name="i2", **q)
    m = b.tensor([2, 3], "int8", name="m", **q)
    xi = b.tensor([2, 3], "int8", name="xi", **q)
    yi = b.tensor([2, 3], "int8", name="yi", **q)
    b.op("MAXIMUM", [i1, i2], [m])
    b.op("ADD", [xi, m], [yi], fused_activation="NONE")
    return b.build([x, xi], [y, yi])


def test_float_and_max_arithmetic_on_constants(tmp_path):
    data = float_arithmetic()
    g = run_pipeline(frontend.parse_tflite(data), verify=True)
    assert kinds(g) == ["ADD", "ADD"]
    run_vs_tflm(data, tmp_path)


def test_ops_left_without_readers_go():
    """SHAPE(RELU(x)) folds; the RELU then feeds nothing and is removed too."""
    b = OpBuilder()
    x = b.tensor([2, 7], "float32", name="x")
    r = b.tensor([2, 7], "float32", name="r")
    s = b.tensor([2], "int32", name="s")
    b.op("RELU", [x], [r])
    b.op("SHAPE", [r], [s], out_type="int32")
    g = run_pipeline(frontend.parse_tflite(b.build([x], [s])), verify=True)
    assert kinds(g) == ["TINYCC_COPY"]
    assert ir.tensor(g, ir.op(g, ir.ops_in_order(g)[0]).inputs[0]).data.tolist() == [2, 7]


def int32_shape_math() -> bytes:
    """RESHAPE(x, SUB(ADD(MUL(SHAPE(x), [2,1,0]), [0,0,2]), MAXIMUM([0,0,0], [-1,0,-5])))):
    int32 arithmetic on shapes, [2,3,4] -> [4,3,2]."""
    b = OpBuilder()
    x = b.tensor([2, 3, 4], "float32", name="x")
    s = b.tensor([3], "int32", name="shape")
    c = {k: b.tensor([3], "int32", data=np.array(v, np.int32), name=k)
         for k, v in dict(m=[2, 1, 0], a=[0, 0, 2], z=[0, 0, 0], n=[-1, 0, -5]).items()}
    t1, t2, t3, t4 = (b.tensor([3], "int32", name=f"t{i}") for i in range(1, 5))
    y = b.tensor([4, 3, 2], "float32", name="y")
    b.op("SHAPE", [x], [s], out_type="int32")
    b.op("MUL", [s, c["m"]], [t1], fused_activation="NONE")
    b.op("ADD", [t1, c["a"]], [t2], fused_activation="NONE")
    b.op("MAXIMUM", [c["z"], c["n"]], [t3])
    b.op("SUB", [t2, t3], [t4])
    b.op("RESHAPE", [x, t4], [y])
    return b.build([x], [y])


def test_int32_shape_arithmetic_folds(tmp_path):
    """int32 ADD/SUB/MUL/MAXIMUM on constants (TFLite's shape arithmetic) fold away; only the
    reshape (a view) is left, and the result matches TFLite Micro."""
    data = int32_shape_math()
    g = run_pipeline(frontend.parse_tflite(data), verify=True)
    assert kinds(g) in ([], ["RESHAPE"]), kinds(g)
    run_vs_tflm(data, tmp_path)


def test_int32_arithmetic_on_activations_runs():
    """int32 MUL of activations is not folded: it runs (TFLite Micro's int32 kernel, see
    tests/test_builtins_types.py)."""
    b = OpBuilder()
    x = b.tensor([3], "int32", name="xi")
    y = b.tensor([3], "int32", name="yi")
    b.op("MUL", [x, x], [y], fused_activation="NONE")
    assert kinds(run_pipeline(frontend.parse_tflite(b.build([x], [y])))) == ["MUL"]
