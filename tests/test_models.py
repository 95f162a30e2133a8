"""End-to-end: the MLPerf Tiny models, bit-exact on the host (all six) and in QEMU Cortex-M4."""
from __future__ import annotations

import pytest

from .conftest import SHARED_MODELS, model_path, needs_qemu


@pytest.mark.parametrize("name", SHARED_MODELS)
def test_shared_model_on_host(name, check_model):
    # kws_ref_model_float32 is hybrid: TFLite Micro refuses it, TFLite is its reference
    check_model(model_path(name), samples=20, seed=1, allow_litert=name == "kws_ref_model_float32")


@pytest.mark.parametrize("name,samples", [("kws_ref_model", 20), ("ad01_int8", 20), ("vww_96_int8", 3),
                                          ("ic_resnet8_int8", 3), ("ad01_fp32", 5)])
def test_shared_model_in_qemu(name, samples, check_model):
    needs_qemu()
    instr = check_model(model_path(name), samples=samples, seed=2, mode="qemu")
    assert len(instr) == samples and min(instr) > 0
