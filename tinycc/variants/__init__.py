"""Kernel variant units: one registered object per fast kernel variant (issue 14).

A unit (a ``base.Variant`` subclass in its own module here, decorated with ``@register``) holds
everything about one fast kernel: which ops and targets it applies to, how it packs the op's
constants, its scratch bytes, its overlap rule, its estimated cycles, its flash and code bytes, the
exact C call of its own entry point and the C files it needs. See ``base.py`` for the hooks and a
template. Modules are discovered automatically (``_*.py`` and ``base`` is not a unit); those named
``arm_*`` hold units for the cores with the DSP extension only (``targets.DSP_TARGETS``), so a
build for another core does not import them (tests/test_compile_time.py checks the rule).

Who asks what:
  * ``pack_weights`` takes every applicable packing (``candidates``), ranks them by ``cycles``,
    spends the flash budget on them (``tinycc.flash_estimate``: the constants and parameters
    ``emit`` writes, the code of the kernel files and entry points it calls) and stores the
    chosen one in ``Op.params.packed``;
  * ``plan_arena`` asks ``scratch_bytes`` / ``overlap_rule`` here, which answer from the chosen
    unit, or from the op (plain kernel);
  * codegen calls ``emit`` here: the chosen unit's ``emit``, else the op's.
"""
from __future__ import annotations

import dataclasses

import importlib
import pkgutil

from .. import ir, ops, packing
from ..targets import DSP_TARGETS
from .base import Packed, Variant, conv_geometry, plain_cycles  # noqa: F401  (units import them from here)

_REGISTRY: dict[str, Variant] = {}
_NOT_UNITS = {"base", "code_bytes"}
DSP_ONLY = "arm_"           # the prefix of the modules whose units run on DSP_TARGETS only
_loaded: set[bool] = set()  # which modules are imported: False the portable ones, True the DSP ones


def register(cls):
    """Class decorator: instantiate and register a ``Variant`` under its ``name``."""
    inst = cls()
    assert inst.name and inst.name not in _REGISTRY, f"variant name {inst.name!r} missing or taken"
    assert inst.kinds and all(ops.lookup(k) for k in inst.kinds), f"{inst.name}: unknown op kinds {inst.kinds}"
    _REGISTRY[inst.name] = inst
    return cls


def _load(dsp: bool = True) -> None:
    """Import the portable unit modules, and with ``dsp`` the DSP-only ones (``DSP_ONLY``)."""
    want = {False, dsp}
    if want <= _loaded:
        return
    for m in pkgutil.iter_modules(__path__):
        if not m.name.startswith("_") and m.name not in _NOT_UNITS and (dsp or not m.name.startswith(DSP_ONLY)):
            importlib.import_module(f"{__name__}.{m.name}")
    _loaded.update(want)


def units() -> list[Variant]:
    """Every registered unit, by name."""
    _load()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


def named(name: str) -> Variant | None:
    """The unit called ``name`` (a packed dataclass's ``impl``), or None."""
    _load(dsp=name.startswith(DSP_ONLY))
    if name not in _REGISTRY:
        _load()
    return _REGISTRY.get(name)


def variants_for(kind: str, target: str, optimize: str | None = None) -> list[Variant]:
    """The units for op ``kind`` on ``target`` (under ``optimize``), by name."""
    _load(dsp=target in DSP_TARGETS)
    return [_REGISTRY[n] for n in sorted(_REGISTRY) if kind in (v := _REGISTRY[n]).kinds and target in v.targets
            and (v.needs_optimize is None or v.needs_optimize == optimize)]


def candidates(g, o: ir.Op, stores_less: bool = False) -> list[Packed]:
    """Every packing the registered units offer for op ``o`` of graph ``g`` (units that do not
    apply, or raise ``PackError``, offer none); with ``stores_less``, only the units whose
    constants may take less flash than the plain kernel's (``Variant.stores_less``)."""
    target, out = g.graph.get("target"), []
    if ops.lookup(o.kind).plain_only(g, o):
        return out
    for v in variants_for(o.kind, target, g.graph.get("optimize")):
        if (stores_less and not v.stores_less) or not v.applies(g, o, target):
            continue
        try:
            out += v.packs(g, o)
        except packing.PackError:
            continue
    return out


def int8_twin_cycles(g, o: ir.Op, packings: list[Packed]) -> float:
    """Estimated cycles of the op's int8 twin among ``packings`` (its ``candidates``): the fastest
    unit reading int8 weights (not ``decodes``) in no more flash than the plain kernel's, else the
    plain kernel (what a unit reading another encoding is compared with)."""
    plain_flash = plain_flash_bytes(g, o)
    return min((u.cycles(g, o, pk) for pk in packings
                if not (u := named(pk.impl)).decodes() and u.flash_bytes(g, o, pk) <= plain_flash),
               default=plain_cycles(g, o))


def chosen(o: ir.Op) -> Variant | None:
    """The unit whose packing ``pack_weights`` stored in the op, or None (plain kernel)."""
    pk = o.params.packed
    return None if pk is None else named(pk.impl)


# -- what the passes and codegen ask: the chosen unit, else the op ------------------------------

def scratch_bytes(g, o: ir.Op) -> int:
    v = chosen(o)
    return v.scratch_bytes(g, o, o.params.packed) if v else ops.lookup(o.kind).scratch_bytes(g, o)


def overlap_rule(g, o: ir.Op, slot: int) -> tuple[str, int] | None:
    v = chosen(o)
    return v.overlap(g, o, slot, o.params.packed) if v else ops.overlap_rule(g, o, slot)


def emit(g, o: ir.Op, ctx) -> None:
    v = chosen(o)
    if v:
        v.emit(g, o, ctx, o.params.packed)
    else:
        ops.lookup(o.kind).emit(g, o, ctx)


def plain_flash_bytes(g, o: ir.Op) -> int:
    """Constant bytes the plain kernel writes for the op: its params' arrays (folded bias,
    mult, shift) and its constant inputs but the bias (slot 2, folded into the params). Per-channel
    lists (``mult``, ``shift``) are emitted as int32 arrays: 4 bytes an entry."""
    lists = sum(4 * len(v) for f in dataclasses.fields(o.params)
                if isinstance(v := getattr(o.params, f.name), list))
    return lists + packing.const_bytes(o.params) + sum(ir.tensor(g, t).nbytes for slot, t in enumerate(o.inputs)
                                               if t and slot != 2 and ir.tensor(g, t).is_const)
