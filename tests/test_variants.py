"""The kernel variant units (tinycc/variants, issue 14): every unit declares every hook, names C
files that exist, and is the one place its kernel is chosen, packed and emitted from."""
from __future__ import annotations

from pathlib import Path

import pytest

from tinycc import codegen, driver, ir, ops, variants
from tinycc.variants import Variant

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "runtime" / "kernels"
ZOO = ROOT / "tests" / "zoo"
REQUIRED = ("applies", "pack", "emit")      # no default on Variant


def overrides(unit, name: str) -> bool:
    return getattr(type(unit), name) is not getattr(Variant, name)


def test_units_are_registered():
    names = [u.name for u in variants.units()]
    assert "arm_add" in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize("unit", variants.units(), ids=lambda u: u.name)
def test_unit_declares_every_hook(unit):
    for hook in REQUIRED:
        assert overrides(unit, hook), f"{unit.name} does not define {hook}"
    assert unit.cycles_per_mac is not None or overrides(unit, "cycles"), f"{unit.name}: no cycle estimate"
    assert unit.kinds and all(ops.lookup(k) is not None for k in unit.kinds)
    assert unit.sources, f"{unit.name} names no C file"
    for s in unit.sources:
        assert (KERNELS / f"{s}.c").is_file(), f"{unit.name}: runtime/kernels/{s}.c is missing"
    assert unit.code_bytes() > 0
    assert variants.named(unit.name) is unit


def test_add_unit_is_chosen_and_emits_its_own_entry_point():
    """add_int8 on the Cortex-M4: the same-shape ADD runs the arm_add unit (its packing in the op,
    its C file in the output folder, its entry point called); the broadcast ADDs stay plain."""
    g = driver.compile_graph(str(ZOO / "add_int8.tflite"), target="cortex-m4")
    chosen = {ir.op(g, o).index: variants.chosen(ir.op(g, o)) for o in g.graph["plan"].order}
    assert [i for i, u in chosen.items() if u is not None and u.name == "arm_add"] == [0]
    unit = variants.named("arm_add")
    o = next(ir.op(g, oid) for oid in ir.ops_in_order(g) if ir.op(g, oid).index == 0)
    assert unit.cycles(g, o, o.params.packed) < unit.plain_cycles(g, o)
    assert variants.scratch_bytes(g, o) == 0
    assert variants.overlap_rule(g, o, 0) == ("at_most", 0)
    files = codegen.generate(g, "m", "cortex-m4")
    assert "m_tcc_arm_add.c" in files
    assert files["m.c"].count("m_tcc_arm_add_s8(&") == 1
    # --optimize memory: no unit
    g = driver.compile_graph(str(ZOO / "add_int8.tflite"), target="cortex-m4", optimize="memory")
    assert all(variants.chosen(ir.op(g, o)) is None for o in g.graph["plan"].order)
