"""The flash of a build before it is generated: what ``pack_weights`` spends the flash budget by.

A build's flash (.text + .rodata + .data of its objects, ``driver.measure_stack``) is

  * the constants every op writes (its weights, folded bias, requantization arrays: measured by
    emitting the op through ``Probe``, a stand-in for codegen's Emitter that formats nothing);
  * NAME.c's own code: the invoke function, its calls and the ops' parameter structs
    (``NAME_C_BYTES``: fitted on measured builds, see below);
  * the code of the kernel files the ops keep (runtime/kernels, ``tinycc/kernel_code.py``,
    measured part by part by scripts/measure_kernel_code.py): per file its base (every optional
    part compiled out) and, per part an op calls (``TCC_OMIT_<PART>``), that part's bytes beyond
    the base.

``Code`` holds the kernel code charged so far as (file, part) items, each charged once, so that a
set of choices is costed as the build will link it: a fast kernel's file costs only the first op
that uses it, and the plain kernel's file is freed when its last op moves to a fast kernel.
"""
from __future__ import annotations

import functools
import hashlib
import re

import numpy as np

from . import ir, ops, variants
from .resources import KERNELS

# NAME.c without its constant arrays, cortex-m4 -O2: the invoke function and the model's tables,
# per kernel call its code and per word of the ops' parameter structs (in .rodata) 4 bytes.
# Fitted on the builds of the shared, tests/zoo, make_pruned and 1,000-op models (least squares:
# 217 + 14.1 per call + 4.1 per word), raised to bound all of them from above: the estimate of
# the whole flash is then 0.2-2.2 % above the measured one on every model above 30 KB.
NAME_C_BYTES = dict(base=400, per_call=24, per_word=4)
DEFAULT_FILE_BYTES = 2048      # a kernel file the table does not list (a new one: run the script)
# Code measured on cortex-m4 (the tables, the fit) grows on some cores: kws_ref_model's and
# ic_resnet8_int8's builds for cortex-m55 take 3.3-4.3 % more code (M7, M33: within 1 %).
CODE_FACTOR = {"cortex-m55": 1.05}

_OPTIONAL = re.compile(r"#ifndef TCC_OMIT_(\w+)|defined\(TCC_OMIT_(\w+)\)")
_CALLED = re.compile(r"tcc_(\w+)\(")
_C_SIZES = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4, "float": 4,
            "int64_t": 8, "uint64_t": 8}


@functools.lru_cache(maxsize=1)
def _table() -> dict:
    from .kernel_code import KERNEL_CODE
    return KERNEL_CODE


class Unknown(Exception):
    """An op whose emit the probe cannot follow (a subgraph): its code is not estimated."""


class Probe:
    """Stands in for ``codegen.emit.Emitter`` while one op emits itself: counts the bytes of its
    constants, its structs' words and its calls, and keeps the kernel files and optional parts it
    uses. Constant inputs shared by several ops are counted once (``buf``)."""

    def __init__(self, g, name: str = "model"):
        self.g, self.name = g, name
        self.kernels: set[str] = set()
        self.uses: set[str] = set()
        self.const = self.words = self.calls = 0
        self.declared: set[str] = set()

    def const_array(self, o, label, ctype, data) -> str:
        self.const += np.size(data) * _C_SIZES[ctype]
        return f"{o.name}_{label}"

    def const_records(self, o, label, ctype, rows) -> str:
        self.const += np.size(rows) * 4
        return f"{o.name}_{label}"

    def struct(self, o, ctype, fields, label="params") -> str:
        self.words += sum(v.count(",") + 1 if isinstance(v, str) else 1 for _, v in fields)   # its words
        return f"{o.name}_{label}"

    def buf(self, tid: str) -> str:
        t = ir.tensor(self.g, tid)
        if t.is_const and tid not in self.declared:
            self.declared.add(tid)
            self.const += t.nbytes
        return f"(({ir.C_TYPE[t.dtype]} *)0)"

    def scratch(self, o) -> str:
        return "((void *)0)"

    def scratch_offset(self, o) -> int:
        return 0

    def subgraph(self, o, k):
        raise Unknown(o.name)

    def use(self, part: str) -> None:
        self.uses.add(part)

    def call(self, o, stmt: str, kernel: str | None) -> None:
        self.calls += 1
        if kernel:
            self.kernels.add(kernel)
        called = _CALLED.match(stmt)
        if called:
            self.uses.add(called.group(1).upper())


class OpCost:
    """What one op's kernel (plain, or a packing ``pk``) puts in flash: its constants, its share
    of NAME.c and the (file, part) code items it needs."""
    __slots__ = ("const", "own_code", "items")

    def __init__(self, const: int, own_code: int, items: frozenset):
        self.const, self.own_code, self.items = const, own_code, items


def op_cost(g, o: ir.Op, pk=None, probe: Probe | None = None) -> OpCost:
    """The flash of op ``o`` with packing ``pk`` (None: its plain kernel), by emitting it through a
    probe (``probe``: a model-wide one, so shared constants count once)."""
    p = probe or Probe(g)
    before = (p.const, p.words, p.calls, set(p.kernels), set(p.uses))
    p.kernels, p.uses = set(), set()
    try:
        if pk is None:
            ops.lookup(o.kind).emit(g, o, p)
        else:
            variants.named(pk.impl).emit(g, o, p, pk)
        kernels, uses = p.kernels, p.uses
    except (Unknown, AttributeError):     # a subgraph, or an Emitter feature the probe lacks
        kernels, uses = set(), set()
    items = frozenset(_items(kernels, uses))
    own = NAME_C_BYTES["per_call"] * (p.calls - before[2]) + NAME_C_BYTES["per_word"] * (p.words - before[1])
    cost = OpCost(p.const - before[0], round(own * code_factor(g)), items)
    p.kernels, p.uses = before[3] | kernels, before[4] | uses
    return cost


def _items(kernels, uses) -> list[tuple[str, str]]:
    """(file, part) code items: each kernel file's base ("") and the parts of it the uses name."""
    table = _table()
    out = []
    for k in kernels:
        entry = table.get(k, {})
        out.append((k, ""))
        out += [(k, u) for u in uses if u in entry]
    return out


def item_bytes(item: tuple[str, str]) -> int:
    """Bytes the item adds: a file's base, or a part's bytes beyond its file's base."""
    source, part = item
    entry = _table().get(source)
    if entry is None:
        return DEFAULT_FILE_BYTES if not part else 0
    return entry["base"] if not part else max(entry[part] - entry["base"], 0)


def code_factor(g) -> float:
    """How much more code the build's core takes than a Cortex-M4 (``CODE_FACTOR``)."""
    return CODE_FACTOR.get(g.graph.get("target"), 1.0)


class Code:
    """The kernel code charged so far: (file, part) items, each with the ops that use it. An
    item's bytes (times ``factor``: the core's, ``code_factor``) count while some op uses it."""

    def __init__(self, factor: float = 1.0):
        self.users: dict[tuple[str, str], set] = {}
        self.factor = factor

    def more(self, items) -> int:
        """Bytes charging ``items`` would add."""
        return round(self.factor * sum(item_bytes(i) for i in items if not self.users.get(i)))

    def charge(self, items, oid) -> None:
        for i in items:
            self.users.setdefault(i, set()).add(oid)

    def release(self, items, oid) -> None:
        for i in items:
            self.users.get(i, set()).discard(oid)

    def has(self, items) -> bool:
        return all(self.users.get(i) for i in items)

    def total(self) -> int:
        return round(self.factor * sum(item_bytes(i) for i, users in self.users.items() if users))


def estimate(g) -> int:
    """Estimated flash of the build of ``g`` as its ops' packings stand (``Op.params.packed``)."""
    probe, code, own = Probe(g), Code(code_factor(g)), round(NAME_C_BYTES["base"] * code_factor(g))
    for oid in ir.ops_in_order(g):
        o = ir.op(g, oid)
        c = op_cost(g, o, o.params.packed, probe)
        own += c.const + c.own_code
        code.charge(c.items, oid)
    return own + code.total()


# -- the table's upkeep (scripts/measure_kernel_code.py, tests) -----------------------------------

def kernel_sources() -> list[str]:
    """Every runtime kernel file, as ``OpDef.kernel`` and ``Variant.sources`` name them."""
    return sorted(str(p.relative_to(KERNELS).with_suffix("")) for p in [*KERNELS.glob("*.c"), *KERNELS.glob("arm/*.c")])


def optional_parts(source: str) -> list[str]:
    """The optional parts (TCC_OMIT_<PART>) of runtime/kernels/<source>.c."""
    text = (KERNELS / f"{source}.c").read_text()
    return sorted({a or b for a, b in _OPTIONAL.findall(text)})


def source_digest(source: str) -> str:
    """A digest of runtime/kernels/<source>.c and every header it includes."""
    from .codegen.emit import runtime_files
    h = hashlib.sha256()
    for name, path in runtime_files([source]).items():
        h.update(name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def stale_sources() -> list[str]:
    """Kernel files whose text changed (or that are new) since the table was measured."""
    table, found = _table(), kernel_sources()
    return [s for s in found if s not in table or table[s]["digest"] != source_digest(s)] + \
        [s for s in table if s not in found]
