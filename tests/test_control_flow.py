"""IF and WHILE (``tinycc/ops/control_flow.py``): subgraphs as static functions whose arena is the
calling op's scratch, checked against TFLite Micro on models from ``models_control``."""
from __future__ import annotations

import pytest

from tinycc.testing import models_control


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_if(tmp_path, check_model, dtype):
    f = tmp_path / "if.tflite"
    f.write_bytes(models_control.if_model(dtype))
    check_model(f, samples=8)


@pytest.mark.parametrize("model", ["accumulate", "accumulate_nested", "rnn"])
def test_while(tmp_path, check_model, model):
    build = {"accumulate": lambda: models_control.while_accumulate_model(nested=False),
             "accumulate_nested": models_control.while_accumulate_model,
             "rnn": models_control.while_rnn_model}[model]
    f = tmp_path / "while.tflite"
    f.write_bytes(build())
    check_model(f, samples=6)
