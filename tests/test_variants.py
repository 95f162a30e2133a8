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
    assert variants.named(unit.name) is unit


def test_add_unit_is_chosen_and_emits_its_own_entry_point():
    """add_int8 on the Cortex-M4: the same-shape ADD runs an ADD unit (arm_add_lin when its linear
    tables exist, else arm_add: its packing in the op, its C file in the output folder, its entry
    point called); the broadcast ADDs stay plain."""
    g = driver.compile_graph(str(ZOO / "add_int8.tflite"), target="cortex-m4")
    chosen = {ir.op(g, o).index: variants.chosen(ir.op(g, o)) for o in g.graph["plan"].order}
    assert [i for i, u in chosen.items() if u is not None and u.name in ("arm_add", "arm_add_lin")] == [0]
    unit = chosen[0]
    o = next(ir.op(g, oid) for oid in ir.ops_in_order(g) if ir.op(g, oid).index == 0)
    assert unit.cycles(g, o, o.params.packed) < unit.plain_cycles(g, o)
    assert variants.scratch_bytes(g, o) == 0
    assert variants.overlap_rule(g, o, 0) == ("at_most", 0)
    files = codegen.generate(g, "m", "cortex-m4")
    assert "m_tcc_arm_add.c" in files
    assert files["m.c"].count(f"m_{unit.entries[0]}(&") == 1
    # --optimize memory: no unit
    g = driver.compile_graph(str(ZOO / "add_int8.tflite"), target="cortex-m4", optimize="memory")
    assert all(variants.chosen(ir.op(g, o)) is None for o in g.graph["plan"].order)


def c_struct(header: str, name: str) -> list[tuple[str, int]]:
    """(field, int32 words) of ``typedef struct { ... } name;`` in a header (int32_t / uint32_t
    fields, arrays as name[N])."""
    import re
    body = re.search(r"typedef struct \{([^}]*)\} " + name + ";", header).group(1)
    fields = []
    for decl in body.split(";"):
        decl = decl.strip()
        if not decl:
            continue
        ctype, names = decl.split(None, 1)
        assert ctype in ("int32_t", "uint32_t"), decl
        for n in names.split(","):
            m = re.fullmatch(r"\s*(\w+)(?:\[(\d+)\])?\s*", n)
            fields.append((m.group(1), int(m.group(2) or 1)))
    return fields


def test_record_layouts_match_the_c_structs():
    """The per-channel records packing writes are the C structs of tcc_arm.h, field by field (the
    C checks at compile time that the numbers its asm uses are the structs' sizes and offsets)."""
    from tinycc import packing
    header = (KERNELS / "arm" / "tcc_arm.h").read_text()
    for struct, layout in (("tcc_arm_dw3x3_record", packing.DW3X3_RECORD),
                           ("tcc_arm_pw8_record", packing.PW8_RECORD), ("tcc_arm_pw16_record", packing.PW16_RECORD)):
        assert c_struct(header, struct) == list(layout), struct
    # and the packers fill them: the requantization constants sit where the struct says
    import numpy as np
    rng = np.random.default_rng(5)
    w = rng.integers(-128, 128, (1, 3, 3, 6)).astype(np.int8)
    mult, shift = rng.integers(2**30, 2**31 - 1, 6), -rng.integers(1, 9, 6)
    rec = packing.pack_depthwise_planar(w, rng.integers(-999, 999, 6), mult, shift, 5)["records"].reshape(6, -1)
    names = [n for n, k in packing.DW3X3_RECORD for _ in range(k)]
    assert (rec[:, names.index("mult")] == mult).all() and (rec[:, names.index("shift")] == -shift).all()


@pytest.mark.parametrize("unit", variants.units(), ids=lambda u: u.name)
def test_unit_entries_are_guarded_and_declared(unit):
    """Each entry point the unit calls is defined in its C file and declared in a header; in a file
    with several entry points each is under #ifndef TCC_OMIT_<NAME> (a model compiles only the
    ones it calls)."""
    assert unit.entries, f"{unit.name} names no entry point"
    text = "".join((KERNELS / f"{s}.c").read_text() for s in unit.sources)
    headers = "".join(p.read_text() for p in [*KERNELS.glob("*.h"), *(KERNELS / "arm").glob("*.h")])
    shared = len(unit.entries) > 1 or any(v is not unit and set(v.sources) & set(unit.sources)
                                          for v in variants.units())
    for e in unit.entries:
        assert f"void {e}(" in text and f"void {e}(" in headers, e
        assert not shared or f"#ifndef TCC_OMIT_{e.removeprefix('tcc_').upper()}" in text, e


FAST_MODELS = ["autoencoder_int8", "conv2d_b_int8", "conv2d_a_int8", "fully_connected_int8", "depthwise_int8",
               "avg_pool_int8", "add_int8"]


def test_emit_calls_the_units_own_entry_point():
    """With flash to spare, every op a unit was chosen for calls one of that unit's entry points,
    and every unit of the zoo's fast kernels is chosen somewhere."""
    from tinycc.codegen.emit import Emitter
    seen = set()
    for model in FAST_MODELS:
        g = driver.compile_graph(str(ZOO / f"{model}.tflite"), target="cortex-m4", flash_budget=1 << 24)
        em = Emitter(g, "m")
        em.emit_all()
        for oc in em.code:
            unit = variants.chosen(ir.op(g, oc.oid))
            if unit is None:
                continue
            seen.add(unit.name)
            assert any(f"{e}(&" in " ".join(oc.stmts) for e in unit.entries), (model, unit.name, oc.stmts)
    assert seen >= {"arm_conv_store", "arm_conv_blocks", "arm_conv_pw", "arm_fc", "arm_dw3x3", "arm_avg_pool",
                    "arm_add_lin"}, seen

