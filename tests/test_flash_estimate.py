"""The flash estimate pack_weights spends the budget by (tinycc/flash_estimate.py) against the
measured flash of real builds, and the choices it leads to (issue 14: no redo, no fall to the
plain kernels; issue 19: nothing packed when the budget is already spent)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, flash_estimate, ir, toolchain, variants
from tinycc.testing import models_scale
from tinycc.testing import models_sparse as MS

from .conftest import model_path


def _needs_gcc():
    if not toolchain.have_arm_toolchain():
        pytest.skip("arm-none-eabi-gcc not installed")


def _impls(g) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for oid in ir.ops_in_order(g):
        o = ir.op(g, oid)
        out.setdefault(o.kind, []).append(o.params.packed.impl if o.params.packed else "plain")
    return out


def test_kernel_code_table_is_measured():
    """tinycc/kernel_code.py lists every runtime kernel file as it is now (digests of the file and
    its headers; re-run scripts/measure_kernel_code.py after changing a kernel)."""
    assert flash_estimate.stale_sources() == []


# two of scripts/make_pruned.py's models
PRUNED = {"mobilenet_dense": (MS.mobilenet, {}), "ds_cnn_p75": (MS.ds_cnn, {"sparsity": 0.75})}


def _model(tmp_path, name: str):
    if name not in PRUNED:
        return model_path(name)
    make, pruning = PRUNED[name]
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(make(np.random.default_rng(7), **pruning))
    return path


@pytest.mark.parametrize("name", ["kws_ref_model", "mobilenet_dense", "ds_cnn_p75"])
def test_estimate_bounds_the_measured_flash(tmp_path, monkeypatch, name):
    """The default cortex-m4 build: the estimate is at most 2.5 % above the measured flash and
    never below it, the build fits the default budget and was not redone, and no depthwise layer
    fell to the plain kernel (the pruned MobileNet's dense twin used to lose all of them)."""
    _needs_gcc()
    builds, real = [], driver.compile_graph
    monkeypatch.setattr(driver, "compile_graph", lambda *a, **k: builds.append(k["flash_overshoot"]) or real(*a, **k))
    b = driver.generate(str(_model(tmp_path, name)), "m", "cortex-m4", stack=True)
    measured, est = b.stack["sizes"]["flash"], flash_estimate.estimate(b.graph)
    assert measured <= est <= 1.025 * measured
    assert est == b.graph.graph["flash_estimate"]          # what pack_weights spent by
    assert measured <= b.graph.graph["flash_budget"] and builds == [0]
    assert "plain" not in _impls(b.graph)["DEPTHWISE_CONV_2D"]


def test_over_budget_model_packs_only_what_saves_flash(tmp_path, monkeypatch):
    """An LSTM-style model whose plain build is already above the flash budget (its per-op code
    alone): pack_weights packs none of the fast kernels (they could only add flash), and every op
    keeps the plain kernel."""
    path = tmp_path / "lstm.tflite"
    path.write_bytes(models_scale.lstm(300))
    asked = []
    real = variants.Variant.packs
    monkeypatch.setattr(variants.Variant, "packs", lambda self, g, o: asked.append(self.name) or real(self, g, o))
    g = driver.compile_graph(str(path), target="cortex-m4")
    assert g.graph["flash_estimate"] > g.graph["flash_budget"]
    assert all(variants.named(n).stores_less for n in asked)
    assert set(_impls(g)) >= {"ADD", "FULLY_CONNECTED"} and {i for v in _impls(g).values() for i in v} == {"plain"}


def test_small_model_default_budget_is_at_least_its_plain_build(tmp_path):
    """A small 16x8 DS-CNN (scripts/make_audio_models.py): 1.8 KB of constants, so the default
    budget (1.10 x constants + 16 KB) is below its plain kernels' own code. The default then
    becomes the plain build's estimated flash, and the fast 16x8 kernels, whose code is smaller
    than the plain ones', are taken: the build is faster and its flash no larger than the plain
    build's (with the user's own budget of the old default, the plain kernels stay)."""
    from tinycc.passes.pack_weights import default_flash_budget
    path = str(Path(__file__).resolve().parent / "data" / "audio" / "dscnn_16x8.tflite")
    g = driver.compile_graph(path, target="cortex-m4")
    old = default_flash_budget(g)
    assert g.graph["flash_budget"] > old
    assert g.graph["flash_estimate"] <= g.graph["flash_budget"]
    assert "plain" not in _impls(g)["CONV_2D"] and "plain" not in _impls(g)["DEPTHWISE_CONV_2D"]
    given = driver.compile_graph(path, target="cortex-m4", flash_budget=old)
    assert given.graph["flash_budget"] == old
    assert {i for v in _impls(given).values() for i in v} == {"plain"}
    if toolchain.have_arm_toolchain():
        b = driver.build(path, tmp_path / "fast", "model", "cortex-m4", stack=True)
        p = driver.build(path, tmp_path / "plain", "model", "cortex-m4", flash_budget=old, stack=True)
        assert b.stack["sizes"]["flash"] <= p.stack["sizes"]["flash"]
        from tinycc.verify import verify
        r = verify(path, target="cortex-m4", samples=2)
        assert r.ok and r.reference == "TFLite Micro", r
