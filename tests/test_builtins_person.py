"""TFLite Micro's person-detection model (person_detect.tflite: MobileNet v1 0.25, 96x96x1 int8,
two classes, converted by the older converter whose 1-D biases carry quantized_dimension 3),
bit-exact with TFLite Micro on the host and in QEMU (cortex-m4).

The file is TFLite Micro's, not ours, so it is not in the repository: the test runs when
TINYCC_MODELS holds a person_detect.tflite and is skipped otherwise (the shared MLPerf models do
not include it)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tinycc.verify import verify


def model() -> Path:
    path = Path(os.environ.get("TINYCC_MODELS", "")) / "person_detect.tflite"
    if not os.environ.get("TINYCC_MODELS") or not path.is_file():
        pytest.skip("TINYCC_MODELS holds no person_detect.tflite (TFLite Micro's person-detection model)")
    return path


@pytest.mark.parametrize("target", ["generic", "cortex-m4"])
def test_person_detect_bit_exact(target):
    r = verify(str(model()), target=target, samples=3)
    assert r.ok and r.reference == "TFLite Micro", r
    assert all(o.bytes_compared == 3 * 2 for o in r.outputs)
