"""RAM as the planner issue measures it: .data + .bss of the generated objects plus the deepest
stack of NAME_invoke (arm-none-eabi-gcc -O2, Cortex-M4), for shared and unseen models."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver, toolchain
from tinycc.testing import models as M
from tinycc.verify import model_footprint

from .conftest import model_path, needs_qemu

RAM_LIMITS = {"kws_ref_model": 9000, "vww_96_int8": 40000, "ic_resnet8_int8": 36000, "ad01_int8": 1000}


@pytest.mark.parametrize("name", sorted(RAM_LIMITS))
def test_ram_limits(name, tmp_path):
    needs_qemu()
    driver.build(str(model_path(name)), str(tmp_path / "out"), "net", "cortex-m4")
    f = model_footprint(tmp_path / "out", "net", "cortex-m4")
    assert 0 < f["stack"] <= 1024 and f["data"] == 0     # asm frames included (tests/test_stack.py)
    assert f["ram"] <= RAM_LIMITS[name], f


@pytest.mark.parametrize("seed", range(6))
def test_unseen_models_near_the_tensor_level_bound(seed, tmp_path):
    needs_qemu()
    path = tmp_path / "net.tflite"
    path.write_bytes(M.random_network(np.random.default_rng(3000 + seed), "int8"))
    g = driver.compile_graph(str(path))
    driver.build(str(path), str(tmp_path / "out"), "net", "cortex-m4")
    f = model_footprint(tmp_path / "out", "net", "cortex-m4")
    assert f["ram"] <= 1.05 * g.graph["plan"].lower_bound() + 1024, f


def test_stack_usage_follows_calls(tmp_path):
    src = tmp_path / "s.c"
    src.write_text("static int leaf(volatile char *p) { volatile char b[100]; b[0] = p[0]; return b[0]; }\n"
                   "int mid(volatile char *p) { volatile char c[40]; c[1] = (char)leaf(p); return c[1]; }\n"
                   "int top(volatile char *p) { return mid(p) + 1; }\n")
    st = toolchain.stack_usage([src], "top", include_dirs=[tmp_path])
    assert st["bytes"] >= 140 and st["path"][0] == "top"
