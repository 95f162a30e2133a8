"""Issue 16 part A against TFLite Micro on the host: uint8 QUANTIZE at a model's edges, the old
converter's 1-D per-channel quirk, refusals naming the operator, and the data-movement builtins
(TILE against TFLite: TFLite Micro has no TILE). Each model holds several cases (one output each),
so one build and one compile cover them."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from tinycc import driver, frontend, ir
from tinycc.errors import TinyccError
from tinycc.testing import models_builtins_a as A
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import needs_qemu
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


def test_space_to_batch_and_back(tmp_path, check_model):
    s2b = [((1, 6, 8, 3), [2, 2], [[0, 0], [0, 0]]),
           ((1, 5, 7, 2), [2, 3], [[1, 2], [0, 2]]),       # padding: the output zero point
           ((2, 4, 3), [2], [[1, 1]])]                     # 3-D
    b2s = [((4, 3, 4, 3), [2, 2], [[0, 0], [0, 0]]),
           ((6, 4, 3, 2), [2, 3], [[1, 2], [0, 2]]),
           ((4, 3, 5), [2], [[0, 1]])]
    check_model(_write(tmp_path, A.space_batch(_rng("s2b"), s2b, b2s)), samples=2)


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
def test_dilated_conv_uint8_model(tmp_path, check_model, mode):
    """The whole-model case: uint8 camera bytes in, SPACE_TO_BATCH_ND -> CONV_2D ->
    BATCH_TO_SPACE_ND, uint8 scores out; on the host and in QEMU (Cortex-M4)."""
    if mode == "qemu":
        needs_qemu()
    check_model(_write(tmp_path, A.dilated_conv_uint8(_rng("dilated"))), samples=2, mode=mode)
