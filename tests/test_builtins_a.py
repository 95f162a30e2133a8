"""Issue 16 part A against TFLite Micro on the host: uint8 QUANTIZE at a model's edges, the old
converter's 1-D per-channel quirk, refusals naming the operator, and the data-movement builtins
(TILE against TFLite: TFLite Micro has no TILE). Each model holds several cases (one output each),
so one build and one compile cover them."""
from __future__ import annotations

import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

from tinycc import driver, frontend, ir, toolchain
from tinycc.errors import TinyccError
from tinycc.shapes import parse as parse_shapes
from tinycc.testing import models_builtins_a as A
from tinycc.testing.tflite_writer import ModelBuilder

from tinycc.verify import Reference, tflm_unreliable

from .conftest import REPO, assert_match, needs_qemu, random_batch, run_compiled
from .test_ops_datamove import check_model  # noqa: F401  (fixture: TFLite Micro must be the reference)


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _write(tmp_path, data: bytes):
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    return path


def test_quantize_uint8_edges(tmp_path, check_model):
    cases = [("uint8", "int8", (0.5, 128), (0.5, 0)),        # camera bytes: the 128 shift
             ("uint8", "int8", (0.02, 120), (0.05, -3)),
             ("uint8", "int8", (0.05, 3), (0.02, 100)),      # saturates
             ("int8", "uint8", (0.5, 0), (0.5, 128)),
             ("int8", "uint8", (0.02, -8), (0.05, 125)),
             ("int8", "uint8", (0.05, -125), (0.02, 228))]
    check_model(_write(tmp_path, A.quantize_uint8(_rng("q8"), (4, 64), cases)), samples=3)


def test_old_converter_bias_quantized_dimension(tmp_path, check_model):
    """1-D per-channel biases with quantized_dimension 3: TFLite Micro reads their only axis."""
    check_model(_write(tmp_path, A.old_converter_conv(_rng("quirk"))), samples=2)


def test_tensor_refusals_name_the_operator():
    mb = ModelBuilder()
    x = mb.tensor([1, 4], "int8", scale=0.1, zero_point=0)
    w = mb.tensor([3, 4], "int8", data=np.ones((3, 4)), scale=[0.1, 0.2], zero_point=0)  # 2 scales, 3 rows
    y = mb.tensor([1, 3], "int8", scale=0.1, zero_point=0)
    mb.op("FULLY_CONNECTED", [x, w, -1], [y])
    with pytest.raises(TinyccError) as e:
        frontend.parse_tflite(mb.build([x], [y]), "m.tflite")
    assert str(e.value).startswith("m.tflite: operator 0 (FULLY_CONNECTED): tensor 't1': 2 per-channel scales")


def check_against_tflite(path, work, mode="host", samples=2):
    """A model some op of which TFLite Micro computes unreliably: TFLite is the reference."""
    g = driver.compile_graph(str(path))
    assert tflm_unreliable(g)
    batches = random_batch(g, np.random.default_rng(0), samples)
    ours, _ = run_compiled(path, batches, work, mode, g=g)
    ref = Reference(str(path), len(g.graph["outputs"]), lite=True)
    assert_match(ours, [ref.run(xs) for xs in batches])


S2B_PADDED = [((1, 5, 7, 2), [2, 3], [[1, 2], [0, 2]]),   # padding: the output zero point (int8)
              ((2, 4, 3), [2], [[1, 1]])]                 # 3-D


def test_space_to_batch_and_back(tmp_path, check_model):
    s2b = [((1, 6, 8, 3), [2, 2], [[0, 0], [0, 0]]), ((2, 4, 3), [2], [[0, 0]])]
    b2s = [((4, 3, 4, 3), [2, 2], [[0, 0], [0, 0]]),
           ((6, 4, 3, 2), [2, 3], [[1, 2], [0, 2]]),
           ((4, 3, 5), [2], [[0, 1]])]
    check_model(_write(tmp_path, A.space_batch(_rng("s2b"), s2b, b2s)), samples=2)


def test_space_to_batch_padding_against_tflite(tmp_path):
    """TFLite Micro pads with uninitialised memory; tinycc pads with zeros (int8: the zero point)
    as TFLite does."""
    check_against_tflite(_write(tmp_path, A.space_batch(_rng("s2b8"), S2B_PADDED, [])), tmp_path)


def test_reverse_and_broadcast_to(tmp_path, check_model):
    m = A.reverse_broadcast(_rng("rev"), (2, 1, 3, 4), [[0], [3], [1, 2], [0, 1, 2]],
                            [(2, 5, 3, 4), (3, 2, 2, 3, 4)])
    check_model(_write(tmp_path, m), samples=2)


def test_tile_against_tflite(tmp_path, check_model):
    m = A.tiles(_rng("tile"), (2, 3, 1), [(1, 1, 4), (2, 3, 1), (3, 1, 2)])
    check_model(_write(tmp_path, m), samples=2, tflm=False)


def test_broadcast_args_folds(tmp_path, check_model):
    path = _write(tmp_path, A.broadcast_args(_rng("bargs"), (2, 1, 3), (4, 1, 1, 1)))
    g = driver.compile_graph(str(path))
    assert not any(ir.is_op(g, n) and ir.op(g, n).kind in ("SHAPE", "BROADCAST_ARGS") for n in g.nodes)
    check_model(path, samples=2)


@pytest.mark.parametrize("mode", ["host", "qemu"])
def test_dilated_conv_uint8_model(tmp_path, mode):
    """The whole-model case: uint8 camera bytes in, SPACE_TO_BATCH_ND -> CONV_2D ->
    BATCH_TO_SPACE_ND, uint8 scores out; on the host and in QEMU (Cortex-M4). Its int8
    SPACE_TO_BATCH_ND pads, so the reference is TFLite (see space_to_batch_nd.py)."""
    if mode == "qemu":
        needs_qemu()
    check_against_tflite(_write(tmp_path, A.dilated_conv_uint8(_rng("dilated"))), tmp_path, mode)


def test_shape_fixes_dynamic_batch(tmp_path):
    """--shape input=3,6,6,3 on a dynamic-batch model: every activation gets batch 3 through the
    ops' shape rules, and each batch row matches TFLite Micro on the batch-1 model."""
    path = _write(tmp_path, A.dynamic_batch(_rng("dyn")))
    shapes = parse_shapes(["input=3,6,6,3"])
    g = driver.compile_graph(str(path), shapes=shapes)
    assert [ir.tensor(g, t).shape for t in g.graph["outputs"]] == [(3, 5)]
    batches = random_batch(g, np.random.default_rng(1), 2)
    driver.build(str(path), str(tmp_path / "out"), "model", "generic", shapes=shapes)
    exe = toolchain.build_harness(tmp_path / "out", tmp_path / "h", mode="host")
    raw, _, _ = toolchain.run_samples(exe, b"".join(xs[0].tobytes() for xs in batches), len(batches),
                                      mode="host", workdir=tmp_path / "run")
    ours = [[o] for o in np.frombuffer(raw, np.int8).reshape(len(batches), 3, 5)]
    ref = Reference(str(path), 1)
    assert ref.name == "TFLite Micro"
    for got, (x,) in zip(ours, batches):
        want = np.concatenate([ref.run([x[i:i + 1]])[0].reshape(1, 5) for i in range(3)])
        assert np.array_equal(got[0], want)


@pytest.mark.parametrize("spec, message", [
    ("input=1,6,7,3", "dimension 2 of [1, 6, 6, 3] is not dynamic"),
    ("0=2,6,3", "3 dimensions given, the input has rank 4"),
    ("nope=2,6,6,3", "no model input has that name or index"),
    ("input=2;6", "is not NAME=DIMS"),
    ("0=2,8,6,3", "operator 0 (CONV_2D): tensor 'conv': the model cannot take the --shape given"),
])
def test_shape_refusals(tmp_path, spec, message):
    """One line, exit 2, nothing written: the input's height is dynamic too, the conv's is not."""
    path = _write(tmp_path, A.dynamic_batch(_rng("dyn"), dynamic_height=True))
    r = subprocess.run([sys.executable, "-m", "tinycc", "build", str(path), "-o", str(tmp_path / "out"),
                        "--no-stack", "--shape", spec], capture_output=True, text=True, cwd=REPO,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert message in r.stderr
    assert not (tmp_path / "out").exists()


def test_gather_nd_and_embedding_lookup(tmp_path, check_model):
    cases = [[[2], [0]], [[1, 3], [2, 0], [0, 0]], [[[2, 3, 4], [0, 1, 2]], [[1, 0, 0], [2, 3, 1]]]]
    check_model(_write(tmp_path, A.gathers_nd(_rng("gnd"), (3, 4, 5), cases)), samples=2)


def test_dynamic_update_slice(tmp_path, check_model):
    cases = [((2, 2, 3), [1, 4, 0]),        # start clamped to [1, 3, 0]
             ((1, 5, 2), [-2, 0, 1]),
             ((4, 5, 3), [0, 0, 0])]
    path = _write(tmp_path, A.update_slices(_rng("dus"), (4, 5, 3), cases))
    g = driver.compile_graph(str(path))
    plan = g.graph["plan"]
    dus = [ir.op(g, n) for n in g.nodes if ir.is_op(g, n) and ir.op(g, n).kind == "DYNAMIC_UPDATE_SLICE"]
    assert any(plan.offsets[o.inputs[0]] == plan.offsets[o.outputs[0]] for o in dus)   # updated in place
    check_model(path, samples=2)


def test_cumsum(tmp_path, check_model):
    cases = [(1, False, False), (1, True, False), (2, False, True), (-1, True, True), (0, False, False)]
    check_model(_write(tmp_path, A.cumsums(_rng("cumsum"), (3, 4, 5), cases)), samples=2)
