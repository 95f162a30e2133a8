"""TFLite Micro's LUT-compressed models (tinycc/tflm_lut.py): read, kept compressed, bit-exact.

The models are made here by tinycc/testing/tflm_compress.py (a flatbuffer rewrite of a normal
int8 model into TFLite Micro's COMPRESSION_METADATA format). The installed tflite_micro runs
them itself, so the reference is TFLite Micro running the compressed model; its uncompressed
twin (``tflm_compress.decompress``) must give the same outputs.
"""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver
from tinycc.errors import TinyccError
from tinycc.testing import models_compress as MC
from tinycc.testing import tflm_compress as TC

from .conftest import assert_match, needs_qemu, random_batch, reference_outputs
from .test_compress import _check, _stored


def test_ds_cnn_lut_model_bit_exact_and_kept_compressed(tmp_path):
    """4-cluster DS-CNN, weights and biases LUT-compressed (1- and 2-bit indices, per-channel
    tables, depthwise along the last dimension): bit-exact with TFLite Micro running it (QEMU
    cortex-m4: tcc_arm_palette.c), its twin agrees, and tinycc stores palettes, even with
    --compress off."""
    needs_qemu()
    plain = MC.ds_cnn(np.random.default_rng(3), clusters=4)
    model = TC.compress(plain, bias=True)
    codes = _check(tmp_path, model, samples=2, mode="qemu")
    assert len(codes) == 6 and all(c.encoding.startswith("palette") for c in codes.values())
    twin = tmp_path / "twin.tflite"
    twin.write_bytes(TC.decompress(model))
    batches = random_batch(driver.compile_graph(str(twin)), np.random.default_rng(1), 2)
    assert_match(reference_outputs(twin, batches), reference_outputs(tmp_path / "m.tflite", batches))
    stored, int8 = _stored(model, tmp_path, "off")
    assert stored <= 0.30 * int8


@pytest.mark.parametrize("kind,shape,size,bits,enc", [
    ("conv", (1, 5, 6, 8), 6, 3, "palette4"),       # 3-bit indices: tinycc's 4-bit palette
    ("fc", (1, 40), 9, 1, "palette1"),
])
def test_single_op_lut_bits(kind, shape, size, bits, enc, tmp_path):
    plain = MC.single(np.random.default_rng(size), kind, shape, size, clusters=1 << bits)
    (c,) = _check(tmp_path, TC.compress(plain, bits=bits)).values()
    assert c.encoding.startswith(enc)


def test_unsupported_lut_width_is_refused(tmp_path):
    """5-bit indices: one line naming the op and the tensor."""
    path = tmp_path / "m.tflite"
    path.write_bytes(TC.compress(MC.single(np.random.default_rng(2), "fc", (1, 40), 9, clusters=32), bits=5))
    with pytest.raises(TinyccError, match="5-bit indices are not supported") as e:
        driver.compile_graph(str(path))
    assert "FULLY_CONNECTED" in str(e.value) and "tensor" in str(e.value)
