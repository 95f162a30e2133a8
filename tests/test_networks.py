"""Models no one here has seen: random networks of the supported ops, int8 and float32."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver, ir
from tinycc.testing import models as M

from .conftest import needs_qemu


@pytest.mark.parametrize("dtype", ["int8", "float32"])
@pytest.mark.parametrize("seed", range(12))
def test_random_network_host(seed, dtype, tmp_path, check_model):
    path = tmp_path / "net.tflite"
    path.write_bytes(M.random_network(np.random.default_rng(1000 + seed), dtype))
    g = driver.compile_graph(str(path), verify=True)   # IR invariants hold after every pass
    assert any(ir.op(g, o).kind == "SOFTMAX" for o in g.graph["plan"].order)
    check_model(path, samples=4, seed=seed)


@pytest.mark.parametrize("seed", range(3))
def test_random_network_qemu(seed, tmp_path, check_model):
    needs_qemu()
    path = tmp_path / "net.tflite"
    path.write_bytes(M.random_network(np.random.default_rng(2000 + seed), "int8"))
    check_model(path, samples=3, seed=seed, mode="qemu")
