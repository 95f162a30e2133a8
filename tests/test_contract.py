"""The op contract and the module layers (issue 13), checked on the source itself.

* What passes need to know about an op is a property or hook of its ``OpDef``: outside
  ``tinycc/ops/`` (and the frontend's opcode table) only a few string literals name an op
  kind, each listed here with the reason.
* Hooks are declared on ``OpDef`` and called directly, never looked up with ``getattr``.
* No import cycle among tinycc's modules, counting imports inside functions, both module by
  module and between the layers (a package counts as one node: ``tinycc.ops`` is every op).
* Every file path quoted in the README and the docs exists.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx

from tinycc import ops

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "tinycc"

# (file relative to the repository, the op kind): why the literal is there. At most 5.
ALLOWED_KIND_LITERALS: dict[tuple[str, str], str] = {}
MAX_KIND_LITERALS = 5


def _sources():
    for p in sorted(PKG.rglob("*.py")):
        yield p, ast.parse(p.read_text(), str(p))


def kind_literals() -> list[tuple[str, int, str]]:
    """(file, line, kind) of every string constant equal to a registered op kind outside
    tinycc/ops/ and tinycc/testing/ (test-model writers name the ops they write)."""
    kinds = set(ops.supported())
    found = []
    for p, tree in _sources():
        rel = p.relative_to(ROOT)
        if rel.parts[1] in ("ops", "testing"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in kinds:
                found.append((rel.as_posix(), node.lineno, node.value))
    return found


def test_op_kind_literals_outside_ops_are_few_and_explained():
    found = kind_literals()
    unexplained = [f for f in found if (f[0], f[2]) not in ALLOWED_KIND_LITERALS]
    assert not unexplained, f"op kinds named outside tinycc/ops (make it a fact of the op): {unexplained}"
    assert len(found) <= MAX_KIND_LITERALS
    assert len(ALLOWED_KIND_LITERALS) <= MAX_KIND_LITERALS


def hook_names() -> set[str]:
    return {n for n in vars(ops.OpDef) if not n.startswith("_")}


def test_no_getattr_of_op_hooks():
    """getattr/hasattr with a constant name that is an OpDef hook or property: the hook must be
    declared on OpDef and called directly."""
    hooks = hook_names()
    bad = []
    for p, tree in _sources():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant) and node.args[1].value in hooks):
                bad.append(f"{p.relative_to(ROOT)}:{node.lineno} {node.func.id}(..., {node.args[1].value!r})")
    assert not bad, bad


def _is_lookup(node) -> bool:
    f = node.func if isinstance(node, ast.Call) else None
    return (isinstance(f, ast.Attribute) and f.attr == "lookup") or (isinstance(f, ast.Name) and f.id == "lookup")


def hooks_used_outside_ops() -> set[str]:
    """Attributes read as ``lookup(kind).NAME``, or as ``spec.NAME`` where ``spec = lookup(kind)``
    in the same function, anywhere outside tinycc/ops/."""
    used = set()
    for p, tree in _sources():
        if p.relative_to(ROOT).parts[1] == "ops":
            continue
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.Lambda)):
                continue
            specs = {t.id for n in ast.walk(fn) if isinstance(n, ast.Assign) and _is_lookup(n.value)
                     for t in n.targets if isinstance(t, ast.Name)}
            for n in ast.walk(fn):
                if isinstance(n, ast.Attribute) and (_is_lookup(n.value) or
                                                     (isinstance(n.value, ast.Name) and n.value.id in specs)):
                    used.add(n.attr)
    return used


def test_hooks_used_by_passes_are_declared_on_opdef():
    """Every attribute of an op that a pass, the frontend, codegen or the report reads is declared
    on OpDef, and every hook OpDef declares has a docstring (the template a new op copies)."""
    hooks = hook_names()
    used = hooks_used_outside_ops()
    assert {"check", "prepare", "emit"} <= used, "the scan found too few hook uses: it is broken"
    assert used <= hooks, f"read from an op but not declared on OpDef: {sorted(used - hooks)}"
    for name in hooks:
        member = vars(ops.OpDef)[name]
        if callable(member):
            assert member.__doc__, f"OpDef.{name} has no docstring"


def import_graph() -> nx.DiGraph:
    """tinycc module -> module it imports, anywhere in the file (inside functions too)."""
    mods = {}
    for p in PKG.rglob("*.py"):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        mods[".".join(parts[:-1] if is_pkg else parts)] = (p, is_pkg)
    g = nx.DiGraph()
    for name, (p, is_pkg) in mods.items():
        g.add_node(name)
        pkg = name if is_pkg else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")[:len(pkg.split(".")) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
            else:
                continue
            for t in targets:
                if t in mods and t != name and t != "tinycc":
                    g.add_edge(name, t)
    return g


def layers(g: nx.DiGraph) -> nx.DiGraph:
    """The import graph with every subpackage (tinycc.ops, tinycc.passes, ...) as one node."""
    def layer(m):
        return ".".join(m.split(".")[:2])
    c = nx.DiGraph()
    c.add_nodes_from({layer(m) for m in g})
    c.add_edges_from((layer(a), layer(b)) for a, b in g.edges if layer(a) != layer(b))
    return c


def test_no_import_cycles():
    g = import_graph()
    assert g.number_of_edges() > 50, "the scan found too few imports: it is broken"
    assert list(nx.simple_cycles(g)) == []
    c = layers(g)
    assert c.has_edge("tinycc.passes", "tinycc.ops")
    assert list(nx.simple_cycles(c)) == []


def test_layers():
    """ops know nothing of the model checks, codegen, report or passes; codegen nothing of passes
    or report."""
    c = layers(import_graph())
    for low, high in (("tinycc.ops", "tinycc.model_checks"), ("tinycc.ops", "tinycc.codegen"),
                      ("tinycc.ops", "tinycc.report"), ("tinycc.ops", "tinycc.passes"),
                      ("tinycc.codegen", "tinycc.passes"), ("tinycc.codegen", "tinycc.report")):
        assert not nx.has_path(c, low, high), f"{low} reaches {high}"


DOCS = ["README.md", "bench/README.md", "runtime/kernels/arm/README.md", "tests/zoo/README.md",
        "tests/regressions/README.md"]
# a quoted path: `dir/name.ext` or `dir/sub/` with a known top-level folder
_PATH = re.compile(r"`((?:tinycc|runtime|tests|scripts|samples|bench|docs|\.ci)/[\w./-]*)`")


def quoted_paths(text: str) -> list[str]:
    return [m for m in _PATH.findall(text) if "*" not in m and "<" not in m]


def test_paths_quoted_in_docs_exist():
    checked = 0
    for doc in DOCS:
        path = ROOT / doc
        if not path.exists():
            continue
        text = path.read_text()
        missing = [q for q in quoted_paths(text) if not (ROOT / q).exists() and not (path.parent / q).exists()]
        assert not missing, f"{doc} quotes paths that do not exist: {missing}"
        checked += len(quoted_paths(text))
    assert checked > 20


TYPED_MODELS = [("mobilenetv2_int8", "cortex-m4"), ("max_pool_int8", "generic"), ("add_int8", "cortex-m4"),
                ("fully_connected_f32", "generic"), ("hybrid_layers_hybrid", "generic"),
                ("avg_pool_int8", "cortex-m4"), ("transformer_int8", "generic"), ("reduce_int8", "generic"),
                ("argminmax_int8", "generic"), ("resize_int8", "generic"), ("gather_int8", "generic"),
                ("batch_matmul_int8", "generic"), ("transpose_conv_int8", "generic"), ("pad_int8", "generic"),
                ("quantize_io_int8_floatio", "generic"), ("activations_int8", "generic"),
                ("concat_int8", "generic"), ("softmax_f32", "generic")]


def test_typed_params():
    """Every op keeps its compile-time parameters in a frozen dataclass of its family
    (``ir.Params``), packed constants too (a ``packing`` dataclass naming its kernel)."""
    import dataclasses

    import pytest

    from tinycc import driver, ir
    families, impls = set(), set()
    for model, target in TYPED_MODELS:
        # flash to spare: every fast kernel whose RAM fits (widened weights)
        g = driver.compile_graph(str(ROOT / "tests" / "zoo" / f"{model}.tflite"), target=target,
                                 flash_budget=1 << 24)
        for oid in ir.ops_in_order(g):
            o = ir.op(g, oid)
            assert isinstance(o.params, ir.Params), (model, o.kind, type(o.params))
            with pytest.raises(dataclasses.FrozenInstanceError):
                o.params.packed = None
            families.add(type(o.params).__name__)
            impls.add(ops.kernel_impl(o))
    assert {"ConvParams", "FCParams", "AddParams", "PoolParams", "TableParams", "QuantizeParams", "ReduceParams",
            "BilinearParams", "GatherParams", "BatchMatmulParams", "TransposeConvParams", "MapParams",
            "SoftmaxParams", "JoinParams"} <= families
    assert {"plain", "arm_convkw", "arm_conv_pw", "arm_add_lin", "arm_avg_pool"} <= impls   # mobilenetv2: its first layer on arm_convkw
