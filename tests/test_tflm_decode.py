"""TFLite Micro's DECODE operator (tinycc/tflm_decode.py): models made by tflite-micro's own
compressor (``tinycc/testing/tflm_decode_models.py``), read with their weights kept palettes,
bit-exact with TFLite Micro running the compressed model."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver, ir
from tinycc.errors import TinyccError
from tinycc.testing import models_compress as MC
from tinycc.testing import models_control
from tinycc.testing import tflm_decode_models as TD

from .conftest import needs_qemu
from .test_compress import _check, _stored


def test_ds_cnn_decode_lut_kept_compressed(tmp_path):
    """4-cluster DS-CNN, weights and int32 biases LUT-compressed (2-bit indices, per-channel
    tables, the depthwise ones along the last dimension): the DECODE ops are gone, the weights
    stay palettes (the biases become plain constants), bit-exact with TFLite Micro, and the
    conv/FC weights take at most 30 % of their int8 bytes, even with --compress off."""
    model = TD.compress(MC.ds_cnn(np.random.default_rng(3), clusters=4), bias=True)
    codes = _check(tmp_path, model, samples=3)
    assert len(codes) == 6 and all(c.encoding.startswith("palette") for c in codes.values())
    g = driver.compile_graph(model)
    assert not any(ir.op(g, n).kind == "TFLM_DECODE" for n in ir.ops_in_order(g))
    stored, int8 = _stored(model, tmp_path, "off")
    assert stored <= 0.30 * int8


@pytest.mark.parametrize("kind,shape,size,clusters,bits,enc", [
    ("conv", (1, 5, 6, 8), 6, 8, None, "palette4"),     # 3-bit indices: tinycc's 4-bit palette
    ("fc", (1, 40), 9, 2, None, "palette1"),
    ("fc", (1, 40), 9, 32, None, None),                 # 5-bit indices: decoded into int8 constants
])
def test_single_op_decode_lut(kind, shape, size, clusters, bits, enc, tmp_path):
    plain = MC.single(np.random.default_rng(size), kind, shape, size, clusters=clusters)
    model = TD.compress(plain, bits=bits)
    codes = _check(tmp_path, model)
    luts = driver.compile_graph(model).graph["tflm_lut"]
    if enc is None:     # a plain constant: compress_weights chooses for it as for any int8 weights
        assert not luts
    else:
        (c,) = codes.values()
        assert c.encoding.startswith(enc) and len(luts) == 1


def test_decode_in_qemu(tmp_path):
    """A compressed FC in QEMU (cortex-m4): bit-exact with TFLite Micro."""
    needs_qemu()
    plain = MC.single(np.random.default_rng(4), "fc", (1, 64), 16, clusters=4)
    codes = _check(tmp_path, TD.compress(plain, bias=True), samples=2, mode="qemu")
    assert [c.encoding[:8] for c in codes.values()] == ["palette2"]


def test_decode_in_a_while_body(tmp_path):
    """The recurrent cell's FC weights compressed inside the WHILE body (subgraph 2; 51 values
    each: 6-bit indices, so plain constants): the body's DECODE ops are read too, bit-exact with
    TFLite Micro running the compressed model."""
    model = TD.compress(models_control.while_rnn_model(steps=4, features=16, units=8), subgraph=2)
    _check(tmp_path, model, samples=3)
    body = driver.compile_graph(model).graph["subgraphs"][2]
    kinds = [ir.op(body, n).kind for n in ir.ops_in_order(body)]
    assert kinds.count("FULLY_CONNECTED") == 2 and "TFLM_DECODE" not in kinds and not body.graph["tflm_lut"]


def test_decode_pruning(tmp_path):
    """A FULLY_CONNECTED whose 75 %-zero weights come from a pruning DECODE op: decoded at compile
    time into int8 constants (which the sparse kernels then take), bit-exact with TFLite Micro
    running the pruned model."""
    model = TD.pruned_fc_model(np.random.default_rng(6))
    _check(tmp_path, model, samples=3)
    g = driver.compile_graph(model)
    (w,) = [ir.tensor(g, ir.op(g, n).inputs[1]) for n in ir.ops_in_order(g)]
    assert (w.data == 0).mean() > 0.7 and not g.graph["tflm_lut"]


@pytest.mark.parametrize("decode_type, name", [(1, "Huffman"), (200, "custom (200)")])
def test_other_decode_types_refused(decode_type, name):
    plain = MC.single(np.random.default_rng(2), "fc", (1, 40), 9, clusters=4)
    model = TD.with_decode_type(TD.compress(plain), decode_type)
    with pytest.raises(TinyccError) as e:
        driver.compile_graph(model)
    msg = str(e.value)
    assert f"DECODE type {name} is not supported (LUT and pruning are)" in msg and "TFLM_DECODE" in msg and "\n" not in msg
