"""--optimize speed: the fast Cortex-M DSP kernels in the whole compiler, bit-exact in QEMU."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, ir, toolchain
from tinycc.testing import models as M

from .conftest import assert_match, model_path, needs_qemu, random_batch, reference_outputs


def run_speed(path: Path, tmp_path, samples=3, seed=0):
    needs_qemu()
    g = driver.compile_graph(str(path), target="cortex-m4", optimize="speed")
    out = tmp_path / "out"
    driver.build(str(path), str(out), "model", "cortex-m4", optimize="speed")
    elf = toolchain.build_harness(out, tmp_path / "h.elf", mode="qemu", target="cortex-m4")
    batches = random_batch(g, np.random.default_rng(seed), samples)
    raw, _, instr = toolchain.run_samples(elf, b"".join(x.tobytes() for xs in batches for x in xs), samples,
                                          mode="qemu", workdir=tmp_path / "run", timeout=300)
    outs = [ir.tensor(g, t) for t in g.graph["outputs"]]
    per = sum(t.nbytes for t in outs)
    ours = [[np.frombuffer(raw[s * per:(s + 1) * per], dtype=np.int8).reshape(outs[0].shape)] for s in range(samples)]
    assert_match(ours, reference_outputs(path, batches, len(outs)))
    return g, instr


@pytest.mark.parametrize("name", ["kws_ref_model", "vww_96_int8", "ic_resnet8_int8", "ad01_int8"])
def test_shared_models_fast_kernels(name, tmp_path):
    g, instr = run_speed(model_path(name), tmp_path, samples=3, seed=4)
    impls = {ir.op(g, o).params.get("packed", {}).get("impl") for o in g.graph["plan"].order}
    assert impls & {"arm_conv", "arm_fc", "arm_dw3x3"}


@pytest.mark.parametrize("seed", range(4))
def test_random_networks_fast_kernels(seed, tmp_path):
    path = tmp_path / "net.tflite"
    path.write_bytes(M.random_network(np.random.default_rng(5000 + seed), "int8"))
    run_speed(path, tmp_path, samples=3, seed=seed)


@pytest.mark.parametrize("case", [
    lambda r: M.depthwise_conv2d(r, (1, 9, 7, 8), 1, (3, 3), (1, 1), "SAME", (1, 1), "RELU", "int8"),
    lambda r: M.depthwise_conv2d(r, (1, 12, 10, 5), 1, (3, 3), (2, 2), "SAME", (1, 1), "NONE", "int8"),
    lambda r: M.depthwise_conv2d(r, (1, 11, 9, 6), 1, (3, 3), (2, 2), "VALID", (1, 1), "RELU6", "int8"),
    lambda r: M.depthwise_conv2d(r, (2, 6, 6, 4), 1, (5, 5), (1, 1), "SAME", (1, 1), "NONE", "int8"),
    lambda r: M.fully_connected(r, (2, 30), 7, "RELU", "int8"),
    lambda r: M.fully_connected(r, (1, 64), 10, "NONE", "int8"),
    lambda r: M.conv2d(r, (1, 9, 9, 3), 6, (3, 3), (2, 2), "SAME", (1, 1), "RELU", "int8"),
    lambda r: M.average_pool2d(r, (1, 8, 8, 6), (3, 3), (2, 2), "SAME", "NONE", "int8"),
    lambda r: M.add(r, (1, 5, 5, 8), "RELU", "int8"),
])
def test_single_ops_fast_kernels(case, tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(case(np.random.default_rng(11)))
    run_speed(path, tmp_path, samples=3)
