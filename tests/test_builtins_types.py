"""Every tensor type TFLite Micro accepts for an op, tinycc accepts too (issue 16).

tests/data/tflm_types.json lists, per op, the types of its data input (conversions: src->dst) that
the installed TFLite Micro, TFLite's reference kernels and tinycc accept, found by running one
single-op model per (op, type) (``tinycc.testing.models_types``) in each; ``scripts/make_tflm_types.py``
rewrites it. Here tinycc's side is recomputed: every type TFLite Micro accepts must compile, except
the file's ``gaps`` (each with its reason); a gap closed, or a new one, fails the test. The numbers
are checked elsewhere (each op's own tests, and the models below for the types added here).
"""
from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, ir
from tinycc.errors import TinyccError
from tinycc.testing import models_types as M
from tinycc.testing.tflite_writer import ModelBuilder

TABLE_FILE = Path(__file__).parent / "data" / "tflm_types.json"


def table() -> dict:
    return json.loads(TABLE_FILE.read_text())


def build(kind: str, dt: str) -> bytes:
    if "->" in dt:
        return M.conversion(kind, *dt.split("->"))
    return M.CASES[kind](dt)


def accepted(tmp_path, data: bytes) -> bool:
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    try:
        driver.compile_graph(str(path))
        return True
    except TinyccError:
        return False


def test_table_covers_the_cases():
    """The table was written from the current cases (rerun scripts/make_tflm_types.py if not)."""
    t = table()
    assert set(t["ops"]) == set(M.CASES) | set(M.CONVERSIONS)
    assert all(set(v["tinycc"]) >= set(v["tflm"]) - set(t["gaps"].get(k, {})) for k, v in t["ops"].items())


def test_every_type_tflite_micro_accepts(tmp_path):
    t, refused = table(), {}
    for kind, row in t["ops"].items():
        for dt in row["tflm"]:
            if not accepted(tmp_path, build(kind, dt)):
                refused.setdefault(kind, []).append(dt)
    gaps = {k: sorted(v) for k, v in t["gaps"].items()}
    assert {k: sorted(v) for k, v in refused.items()} == gaps


def test_circular_buffer_batch(tmp_path):
    """Batch 2: TFLite Micro's kernel shifts and writes the first batch's frames only; tinycc the
    same, the second batch zeros (not compared: TFLite Micro leaves its arena's bytes there)."""
    from tinycc.verify import verify
    mb = ModelBuilder()
    q = dict(scale=0.05, zero_point=-4)
    x = mb.tensor([2, 1, 2, 3], "int8", name="frame", **q)
    y = mb.tensor([2, 4, 2, 3], "int8", name="frames", **q)
    valid = mb.tensor([1], "bool", name="valid")
    mb.custom_op("CIRCULAR_BUFFER", [x], [y, valid], {"cycles_max": 2})
    model = tmp_path / "cb2.tflite"
    model.write_bytes(mb.build([x], [y, valid]))
    r = verify(str(model), samples=6)
    assert r.ok, r
    # batch 0's written slots only: 6 invokes of 4 slots x 6 bytes, less the 3 + 2 + 1 unwritten
    assert [o.bytes_compared for o in r.outputs] == [6 * 24 - (3 + 2 + 1) * 6, 6]


def int_samples(g, n: int):
    """``n`` samples: integers in [-3000, 3000] (int8/int16: their whole range), divisors (inputs
    named ``*_b*``) never 0, inputs named ``pos_*`` from 0 up, ``ids_*`` in [0, 5); bools at random;
    floats normal with a deviation of 3."""
    rng = np.random.default_rng(zlib.crc32(b"types"))
    out = []
    for _ in range(n):
        xs = []
        for tid in g.graph["inputs"]:
            t = ir.tensor(g, tid)
            if t.dtype == "bool":
                xs.append(rng.integers(0, 2, t.shape).astype(bool))
                continue
            if t.dtype == "float32":
                xs.append((rng.standard_normal(t.shape) * 3).astype(np.float32))
                continue
            info = np.iinfo(t.dtype)
            if t.name.startswith("ids_"):
                x = rng.integers(0, 5, t.shape)
            elif t.name.startswith("pos_"):
                x = rng.integers(0, info.max, t.shape, endpoint=True)
            elif "_b" in t.name:
                x = rng.choice([-1, 1], t.shape) * rng.integers(1, 20, t.shape)
            else:
                x = rng.integers(max(info.min, -3000), min(info.max, 3000), t.shape, endpoint=True)
            xs.append(np.asarray(x).astype(t.dtype))
        out.append(xs)
    return out


def check(tmp_path, data: bytes, tflm: bool, samples: int = 3, mode: str = "host"):
    """Build and run ``data`` (host, or QEMU cortex-m4), compare with TFLite Micro (``tflm``) or
    TFLite's reference kernels."""
    from tinycc.verify import Reference, tflm_unreliable
    from .conftest import assert_match, run_compiled
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    g = driver.compile_graph(str(path))
    assert tflm_unreliable(g) == (not tflm)
    batches = int_samples(g, samples)
    ref = Reference(str(path), len(g.graph["outputs"]), lite=not tflm)
    ours, _ = run_compiled(path, batches, tmp_path, mode, g=g)
    assert_match(ours, [ref.run(xs) for xs in batches])


def integer_ops(n) -> None:
    """int32 SUB, MUL, DIV (one with RELU6), SQUARED_DIFFERENCE, MAXIMUM, MINIMUM and int64
    MAXIMUM, MINIMUM (the second input broadcast along the last axis); int16 RSQRT."""
    for dt, kinds in (("int32", ("SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM")),
                      ("int64", ("MAXIMUM", "MINIMUM"))):
        n.dtype = dt
        a, _ = n.input((2, 3, 4), name=f"int_a_{dt}")
        b, _ = n.input((4,), name=f"int_b_{dt}")
        for kind in kinds:
            opts = dict(fused_activation_function="NONE") if kind in ("SUB", "DIV") else {}
            n.op(kind, [a, b], [n.act((2, 3, 4), {}, f"{kind.lower()}_{dt}")], **opts)
    n.dtype = "int16"
    x, _ = n.input((2, 9), q=(0.0007, 0), name="pos_rsqrt")
    n.op("RSQRT", [x], [n.act((2, 9), dict(scale=0.002, zero_point=0), "rsqrt_i16")])
    n.dtype = "int32"
    a, _ = n.input((3, 5), name="relu_a")
    b, _ = n.input((3, 5), name="relu_b")
    n.op("DIV", [a, b], [n.act((3, 5), {}, "div_relu6")], fused_activation_function="RELU6")


COMPARISONS = ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")


def comparisons(n, int16: bool = False) -> None:
    """Every comparison of int64, EQUAL and NOT_EQUAL of bool; with ``int16``, every comparison of
    int16 only (inputs on two scales: TFLite compares the raw values)."""
    cases = ((("int16", COMPARISONS, ((0.002, 0), (0.0013, 0))),) if int16 else
             (("int64", COMPARISONS, None), ("bool", ("EQUAL", "NOT_EQUAL"), None)))
    for dt, kinds, qs in cases:
        n.dtype = dt
        a, _ = n.input((2, 3, 4), q=qs and qs[0], name=f"cmp_a_{dt}")
        b, _ = n.input((3, 1), q=qs and qs[1], name=f"cmp_c_{dt}")
        for kind in kinds:
            n.op(kind, [a, b], [n.act((2, 3, 4), {}, f"{kind.lower()}_{dt}", dtype="bool")])


@pytest.mark.parametrize("mode", ["host", "qemu"])
def test_integer_arithmetic_against_tflite_micro(tmp_path, mode):
    """The integer arithmetic and comparisons TFLite Micro has and tinycc lacked (one model), on
    the host and in QEMU (cortex-m4)."""
    from tinycc.testing.models_datamove import Net
    from .conftest import needs_qemu
    if mode == "qemu":
        needs_qemu()
    n = Net(np.random.default_rng(1))
    integer_ops(n)
    comparisons(n)
    check(tmp_path, n.build(), tflm=True, mode=mode)


def test_integers_against_tflite(tmp_path):
    """FLOOR_DIV int8 and int16, FLOOR_MOD int8, int16 and int64 (TFLite's; TFLite Micro has
    float32 only), raw values with broadcasting and a constant divisor; the int16 comparisons."""
    from tinycc.testing import models_builtins_b as B
    from tinycc.testing.models_datamove import Net
    n = Net(np.random.default_rng(2))
    for dt in ("int8", "int16"):
        B.floor_ops(n, dt, [((3, 4), (3, 4)), ((2, 3, 4), (4,))])
    comparisons(n, int16=True)
    n.dtype = "int64"
    a, _ = n.input((2, 3, 4), name="floor_a_i64")
    b, _ = n.input((4,), name="floor_b_i64")
    n.op("FLOOR_MOD", [a, b], [n.act((2, 3, 4), {}, "floor_mod_i64")])
    check(tmp_path, n.build(), tflm=False)


def test_moved_types_against_tflite(tmp_path):
    """SPACE_TO_BATCH_ND (padded: the zero point of uint8), BATCH_TO_SPACE_ND and
    EMBEDDING_LOOKUP of uint8, int16, int32, int64 and bool, which TFLite Micro lacks: against
    TFLite."""
    from tinycc.testing.models_builtins_a import _batch_to_space_shape, _space_to_batch_shape
    from tinycc.testing.models_datamove import Net
    n = Net(np.random.default_rng(3))
    for dt in ("uint8", "int16", "int32", "int64", "bool"):
        n.dtype = dt
        q = dict(scale=0.05, zero_point=7) if dt == "uint8" else n.q()
        for kind, shape, shape_of, pads in (("SPACE_TO_BATCH_ND", (1, 3, 4, 2), _space_to_batch_shape, [[1, 0], [0, 2]]),
                                            ("BATCH_TO_SPACE_ND", (4, 2, 3, 2), _batch_to_space_shape, [[0, 1], [1, 0]])):
            x = n.b.tensor(list(shape), dt, name=f"{kind[:3]}_x_{dt}", **q)
            n.inputs.append(x)
            y = n.b.tensor(list(shape_of(shape, [2, 2], pads)), dt, name=f"{kind[:3]}_{dt}", **q)
            n.outputs.append(y)
            n.op(kind, [x, n.const([2, 2], name="block"), n.const(np.asarray(pads), name="pads")], [y])
        table = n.b.tensor([5, 3], dt, data=np.arange(15).reshape(5, 3).astype(dt), name=f"table_{dt}", **q)
        y = n.b.tensor([4, 3], dt, name=f"lookup_{dt}", **q)
        n.outputs.append(y)
        ids = n.b.tensor([4], "int32", name=f"ids_{dt}")
        n.inputs.append(ids)
        n.op("EMBEDDING_LOOKUP", [ids, table], [y])
    check(tmp_path, n.build(), tflm=False)


def test_gelu_and_reduce_prod_against_tflite(tmp_path):
    """GELU (TFLite's; TFLite Micro has none), exact and approximate, float32 and int8 (TFLite's
    table of the float function); REDUCE_PROD of a SHAPE, folded at compile time (Keras'
    LayerNormalization multiplies dims so)."""
    from tinycc.testing.models_datamove import Net
    n = Net(np.random.default_rng(4))
    for dt, q_out in (("float32", {}), ("int8", dict(scale=0.03, zero_point=-100))):
        n.dtype = dt
        x, _ = n.input((2, 40), q=(0.05, 3), name=f"gelu_x_{dt}")
        for approximate in (False, True):
            n.op("GELU", [x], [n.act((2, 40), q_out, f"gelu_{dt}_{approximate}")], approximate=approximate)
    shape = n.b.tensor([2], "int32", name="shape")
    n.b.op("SHAPE", [x], [shape], out_type="int32")
    prod = n.act((), {}, "prod", dtype="int32")
    n.op("REDUCE_PROD", [shape, n.const([0], name="axis")], [prod], keep_dims=False)
    check(tmp_path, n.build(), tflm=False)


def test_dynamic_fill_settles(tmp_path):
    """A dynamic-batch model fills by a computed shape (SHAPE -> REDUCE_PROD -> RESHAPE -> FILL, as
    Keras' LayerNormalization converts): the FILL's stored [1] becomes the [6] its folded dims
    give, and the model matches TFLite."""
    from tinycc.testing.models_datamove import Net
    n = Net(np.random.default_rng(5), "float32")
    x, _ = n.input((1, 2, 3), name="x")
    n.b.mark_dynamic(x, [0])
    shape = n.b.tensor([3], "int32", name="shape")
    n.b.op("SHAPE", [x], [shape], out_type="int32")
    count = n.b.tensor([], "int32", name="count")
    n.op("REDUCE_PROD", [shape, n.const([0], name="axis")], [count], keep_dims=False)
    dims = n.b.tensor([1], "int32", name="dims")
    n.b.op("RESHAPE", [count, n.const([1], name="one")], [dims])
    ones = n.b.tensor([1], "float32", name="ones")
    n.b.mark_dynamic(ones, [0])
    n.op("FILL", [dims, n.b.tensor([], "float32", data=np.float32(2.5), name="value")], [ones])
    flat = n.b.tensor([6], "float32", name="flat")
    n.b.op("RESHAPE", [x, n.const([6], name="six")], [flat])
    n.op("MUL", [flat, ones], [n.act((6,), {}, "y")])
    path = tmp_path / "dyn.tflite"
    path.write_bytes(n.build())
    g = driver.compile_graph(str(path))
    assert [ir.tensor(g, t).shape for t in g.graph["outputs"]] == [(6,)]
    # settled placeholder shapes (and REDUCE_PROD, which TFLite Micro refuses): TFLite checks
    assert g.graph["settled_shapes"]
    check(tmp_path, n.build(), tflm=False)


def fc_model(gelu: bool) -> bytes:
    """An int8 FULLY_CONNECTED [8, 16] -> [8, 12] whose multiplier (about 0.13) leaves many
    requantization ties; with ``gelu``, a GELU on a second input (TFLite Micro has none), so the
    model's reference is TFLite."""
    from tinycc.testing.models_datamove import Net
    rng = np.random.default_rng(16)
    n = Net(rng)
    x, _ = n.input((8, 16), q=(0.05, 3), name="fc_x")
    w = n.const(rng.integers(-4, 5, (12, 16)), "int8", name="fc_w", scale=0.01, zero_point=0)
    b = n.const(rng.integers(-500, 500, 12), "int32", name="fc_b", scale=0.05 * 0.01, zero_point=0)
    n.op("FULLY_CONNECTED", [x, w, b], [n.act((8, 12), dict(scale=0.00385, zero_point=-2), "fc_y")])
    if gelu:
        g, _ = n.input((2, 8), q=(0.05, 3), name="gelu_x")
        n.op("GELU", [g], [n.act((2, 8), dict(scale=0.03, zero_point=-100), "gelu_y")])
    return n.build()


def test_fully_connected_rounds_as_its_reference(tmp_path):
    """int8 FULLY_CONNECTED: TFLite's kernel rounds once, TFLite Micro's twice (1 LSB apart on
    ties). Alone it matches TFLite Micro; beside a GELU (reference TFLite) it matches TFLite, and
    the two references do differ on these samples (so each check can fail)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from tflite_micro import runtime
    check(tmp_path, fc_model(gelu=False), tflm=True, samples=2)
    check(tmp_path, fc_model(gelu=True), tflm=False, samples=2)
    path = tmp_path / "fc.tflite"
    path.write_bytes(fc_model(gelu=False))
    lite = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    lite.allocate_tensors()
    micro = runtime.Interpreter.from_file(str(path), arena_size=1 << 16)
    differ = 0
    g = driver.compile_graph(str(path))
    for (x,) in int_samples(g, 2):
        lite.set_tensor(lite.get_input_details()[0]["index"], x)
        micro.set_input(x, 0)
        lite.invoke()
        micro.invoke()
        differ += int(np.sum(lite.get_tensor(lite.get_output_details()[0]["index"]) != micro.get_output(0)))
    assert differ > 0


def test_verify_per_op_names_the_op(tmp_path):
    """``verify --per-op`` compares every op's output (FULLY_CONNECTED's, inside the model, beside
    the GELU's that is its output), names the op of each, and prints the rounding note of a model
    whose reference is TFLite."""
    from tinycc.testing.models_datamove import Net
    from tinycc.verify import format_text, verify
    rng = np.random.default_rng(17)
    n = Net(rng)
    x, _ = n.input((4, 16), q=(0.05, 3), name="x")
    w = n.const(rng.integers(-4, 5, (8, 16)), "int8", name="w", scale=0.01, zero_point=0)
    y = n.act((4, 8), dict(scale=0.00385, zero_point=-2), "fc_y", output=False)
    n.op("FULLY_CONNECTED", [x, w], [y])
    n.op("GELU", [y], [n.act((4, 8), dict(scale=0.03, zero_point=-100), "gelu_y")])
    path = tmp_path / "fc_gelu.tflite"
    path.write_bytes(n.build())
    r = verify(str(path), samples=1, per_op=True)
    assert r.ok and r.ops == ["", "op 0 FULLY_CONNECTED"] and [o.name for o in r.outputs] == ["gelu_y", "fc_y"]
    text = format_text(r)
    assert "--per-op: 2 tensors compared, 0 differ" in text and "rounds once" in text


def test_settled_placeholder_shapes_check_against_tflite(tmp_path):
    """A dynamic-batch model as the converter writes a dilated Conv1D: SPACE_TO_BATCH_ND makes the
    batch 2, but the op after it stores the placeholder 1 (its batch is -1 in shape_signature).
    tinycc settles it to 2 (``shapes.settle_dynamic_outputs``); TFLite Micro runs the stored
    shapes (it cannot resize), TFLite resizes, so the model is checked against TFLite."""
    from tinycc.testing.models_datamove import Net
    from tinycc.verify import reference_notes
    n = Net(np.random.default_rng(18))
    x, qq = n.input((1, 8, 4), q=(0.05, 3), name="x")
    s = n.act((2, 4, 4), qq, "s2b", output=False)
    n.op("SPACE_TO_BATCH_ND", [x, n.const([2], name="block"), n.const([[0, 0]], name="pad")], [s])
    r = n.act((1, 4, 4), qq, "relu", output=False)
    n.op("RELU", [s], [r])
    y = n.act((1, 8, 4), qq, "y")
    n.op("BATCH_TO_SPACE_ND", [r, n.const([2], name="block2"), n.const([[0, 0]], name="crop")], [y])
    for t in (x, s, r, y):
        n.b.mark_dynamic(t, [0])
    data = n.build()
    path = tmp_path / "settle.tflite"
    path.write_bytes(data)
    g = driver.compile_graph(str(path))
    assert g.graph["settled_shapes"] and any("placeholder shapes" in line for line in reference_notes(g))
    check(tmp_path, data, tflm=False)


def test_detection_postprocess_unshaped_outputs(tmp_path):
    """TFLite_Detection_PostProcess as the Object Detection API exports it: the converter stores
    its four outputs with no shape ([]). They get the op's shapes ([1, M, 4], [1, M], [1, M], [1])
    and the model matches TFLite, which sizes them the same way."""
    from tinycc.testing import models_detection as D
    from tinycc.verify import verify
    anchors = D.anchors_grid(4, 4, [(0.3, 0.3), (0.5, 0.25)])
    path = tmp_path / "unshaped.tflite"
    path.write_bytes(D.postprocess_alone(anchors, D.options(max_detections=6), unshaped=True))
    g = driver.compile_graph(str(path))
    assert [ir.tensor(g, t).shape for t in g.graph["outputs"]] == [(1, 6, 4), (1, 6), (1, 6), (1,)]
    r = verify(str(path), samples=2)
    assert r.ok and r.reference.startswith("TFLite (LiteRT reference") and r.outputs[0].bytes_compared > 0


def test_shape_through_expand_dims_and_squeeze(tmp_path):
    """--shape on a dynamic time axis through EXPAND_DIMS and SQUEEZE (as the converter writes a
    Conv1D: the axis moves to another position and rank): each takes the shape its own rule gives
    (``OpDef.output_shapes``), so the model's output gets the new length."""
    from tinycc.testing.models_datamove import Net
    n = Net(np.random.default_rng(19))
    x, qq = n.input((2, 1, 4), q=(0.05, 3), name="x")
    e = n.act((2, 1, 1, 4), qq, "expanded", output=False)
    n.op("EXPAND_DIMS", [x, n.const([1], name="axis")], [e])
    r = n.act((2, 1, 1, 4), qq, "relu", output=False)
    n.op("RELU", [e], [r])
    y = n.act((2, 1, 4), qq, "y")
    n.op("SQUEEZE", [r], [y])
    for t, dims in ((x, [0, 1]), (e, [0, 2]), (r, [0, 2]), (y, [0, 1])):    # batch and time dynamic
        n.b.mark_dynamic(t, dims)
    path = tmp_path / "squeeze.tflite"
    path.write_bytes(n.build())
    g = driver.compile_graph(str(path), shapes={"x": (2, 5, 4)})
    assert [ir.tensor(g, t).shape for t in g.graph["outputs"]] == [(2, 5, 4)]
