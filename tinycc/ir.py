"""The one IR of tinycc: a networkx DiGraph of tensors and operators.

Nodes
    Every node has one attribute, ``value``: a frozen dataclass.
    * A *tensor node* (``Tensor``) is a typed buffer: name, shape, dtype,
      quantization, and for constants the data (a numpy array).
    * An *op node* (``Op``) is one operator application: its kind (the TFLite
      builtin name, e.g. ``"CONV_2D"``), its attributes from the model (strides,
      padding, activation, ...), the ordered tensor ids it reads and writes, and
      ``params``: the compile-time constants that passes compute for it
      (requantization multipliers, folded biases, clamps, ...): a ``Params``
      dataclass of the op's family.

Edges
    * tensor -> op: the op reads the tensor (``Op.inputs`` holds the order and
      may name a tensor twice or hold ``None`` for an absent optional input).
    * op -> tensor: the op writes the tensor (``Op.outputs`` holds the order).
    * tensor -> tensor: a *view*: the target is the same bytes as the source,
      seen with another shape (what RESHAPE/SQUEEZE become). A view has no
      producer op; it lives wherever its source lives.

Zero-copy joins
    An op whose ``params.zero_copy`` maps some of its input tensor ids to byte
    offsets (CONCATENATION/PACK after ``alias_concats``) does not copy them: each
    such input *lives inside* the op's output at that offset, its producer writes
    it there, and the op emits no code. ``storage`` gives the tensor owning a
    tensor's bytes (through views and joins) and the offset in it.

Graph attributes (``graph.graph``)
    ``inputs``/``outputs``: ordered tensor ids of the model's inputs/outputs;
    ``name``: model name; ``source``: file it came from; ``plan``: the arena
    plan once ``plan_arena`` ran; ``fused``: the ``fuse_ops`` rules that fired;
    ``int4``: ids of the constants the file stored as INT4 (widened to int8 values);
    ``compress``: ``--compress`` ("auto" or "off", see ``compress_weights``).

State
    A tensor with ``variable`` set (the flatbuffer's ``is_variable``: SVDF/LSTM state) is
    persistent: it lives in the model's state region (``plan_arena`` lays it out apart from the
    arena, ``graph.graph["state"]``), keeps its bytes between invokes, and is updated in place by
    the ops that read it; it has no writer and is never a model input or output.

Every tensor has exactly one writer: an op, a view edge, or nothing (model
inputs, constants and state). ``check_invariants`` checks them; tests run it after
every pass.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from .dtypes import C_TYPE, DTYPE_SIZE  # noqa: F401  (ir.DTYPE_SIZE, ir.C_TYPE)
from .errors import TinyccError


@dataclass(frozen=True)
class Quant:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel along ``axis``."""
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True, eq=False)
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str
    quant: Quant | None = None
    data: np.ndarray | None = field(default=None, repr=False)  # constants only
    variable: bool = False   # persistent state (the flatbuffer's is_variable, or a resource
    #                          variable): lives in the state region, keeps its bytes from one invoke
    #                          to the next; no writer (the ops that read it update it in place)
    init: np.ndarray | None = field(default=None, repr=False)  # state: its initial values (None:
    #                          every byte is the zero point, as TFLite Micro starts it)

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def in_arena(self) -> bool:
        """An activation: planned in the arena (not a constant, not persistent state)."""
        return self.data is None and not self.variable

    @property
    def size(self) -> int:
        n = math.prod(self.shape)          # np.prod costs microseconds per call: passes ask often
        return int(n) if -(1 << 63) <= n < (1 << 63) else int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * DTYPE_SIZE[self.dtype]


@dataclass(frozen=True, eq=False, kw_only=True)
class Params:
    """Compile-time parameters of an op family (``Op.params``): a frozen dataclass per family
    (``ConvParams``, ...) whose fields its kernel's C params struct mirrors. ``packed``: the
    constants of the fast kernel ``pack_weights`` chose for the target (a ``packing`` dataclass
    with an ``impl`` name), None for the plain kernel.

    ``get`` lets generic code read a field only some families have (``zero_copy`` of the joins)."""
    packed: Any = None
    compressed: Any = None   # the weights as compress_weights stored them (a ``compress.WeightCode``)

    def get(self, key: str, default=None):
        """The field ``key`` when this family has it (and it is not None), else ``default``."""
        value = self.__dict__.get(key)
        return default if value is None else value

    def c_fields(self, *names: str) -> list[tuple[str, Any]]:
        """(name, value) of the named fields, for a C params struct that mirrors them."""
        return [(n, self.__dict__[n]) for n in names]


@dataclass(frozen=True, eq=False)
class Op:
    kind: str
    inputs: tuple[str | None, ...]
    outputs: tuple[str, ...]
    attrs: dict[str, Any] = field(default_factory=dict)
    params: Params = field(default_factory=Params)
    index: int = -1          # operator index in the source model, for messages
    name: str = ""           # readable id used in generated code, e.g. "op3_conv_2d"


def tensor(g: nx.DiGraph, tid: str) -> Tensor:
    return g.nodes[tid]["value"]


def op(g: nx.DiGraph, oid: str) -> Op:
    return g.nodes[oid]["value"]


def model_constant_bytes(g: nx.DiGraph) -> int:
    """Bytes of the model's own constant tensors (weights, biases, tables) as the frontend loaded
    them, those of the subgraphs IF/WHILE run included: ``driver.compile_graph`` records this
    before any pass folds or packs them."""
    if "model_const_bytes" in g.graph:
        return g.graph["model_const_bytes"]
    graphs = [g, *g.graph.get("subgraphs", {}).values()] if "subgraph_order" in g.graph else [g]
    return sum((v.size + 1) // 2 if n in h.graph.get("int4", ()) else v.nbytes
               for h in graphs for n, v in h.nodes(data="value") if isinstance(v, Tensor) and v.is_const)


def is_op(g: nx.DiGraph, n: str) -> bool:
    return isinstance(g.nodes[n]["value"], Op)


def ops_in_order(g: nx.DiGraph) -> list[str]:
    """Op node ids in execution order: topological, ties broken by source index (Kahn's
    algorithm with a heap, as networkx's lexicographical_topological_sort, without its overhead)."""
    waiting = dict(g.in_degree())
    value = dict(g.nodes(data="value"))
    succ = g.succ
    key = {n: (v.index if isinstance(v, Op) else -1, n) for n, v in value.items()}   # ops by source index
    ready = [key[n] for n, d in waiting.items() if d == 0]
    heapq.heapify(ready)
    order, seen = [], 0
    while ready:
        _, n = heapq.heappop(ready)
        seen += 1
        if isinstance(value[n], Op):
            order.append(n)
        for s in succ[n]:
            waiting[s] -= 1
            if waiting[s] == 0:
                heapq.heappush(ready, key[s])
    if seen != len(waiting):
        raise nx.NetworkXUnfeasible("the graph has a cycle")
    return order


def producer(g: nx.DiGraph, tid: str) -> str | None:
    """The op or view source that writes ``tid``, or None."""
    preds = list(g.predecessors(tid))
    return preds[0] if preds else None


def view_source(g: nx.DiGraph, tid: str) -> str:
    """Follow view edges back to the tensor that owns the bytes."""
    while True:
        p = producer(g, tid)
        if p is None or is_op(g, p):
            return tid
        tid = p


def storage(g: nx.DiGraph, tid: str) -> tuple[str, int]:
    """(owner, byte offset): the tensor whose buffer holds ``tid``'s bytes, and where.

    Follows view edges back to their source (offset 0), and from an input of a zero-copy
    join on to the join's output (at the input's offset), as often as they chain."""
    off = 0
    while True:
        tid = view_source(g, tid)
        for c in g.successors(tid):
            v = g.nodes[c]["value"]
            if isinstance(v, Op) and tid in v.params.get("zero_copy", {}):
                off += int(v.params.get("zero_copy")[tid])
                tid = v.outputs[0]
                break
        else:
            return tid, off


def scratch_id(o: Op) -> str:
    """The id of op ``o``'s kernel scratch buffer in the arena plan (``OpDef.scratch_bytes``)."""
    return f"scratch:{o.name}"


def consumers(g: nx.DiGraph, tid: str) -> list[str]:
    return [s for s in g.successors(tid) if is_op(g, s)]


def add_tensor(g: nx.DiGraph, tid: str, t: Tensor) -> None:
    g.add_node(tid, value=t)


def add_op(g: nx.DiGraph, oid: str, o: Op) -> None:
    g.add_node(oid, value=o)
    for t in o.inputs:
        if t is not None:
            g.add_edge(t, oid)
    for t in o.outputs:
        g.add_edge(oid, t)


def remove_if_unused(g: nx.DiGraph, tid: str | None) -> None:
    """Drop tensor ``tid`` once no op reads or writes it, unless it is a model input or output."""
    if tid is not None and tid in g and g.degree(tid) == 0 and tid not in g.graph["inputs"] \
            and tid not in g.graph["outputs"]:
        g.remove_node(tid)


def replace_value(g: nx.DiGraph, n: str, value) -> None:
    g.nodes[n]["value"] = value


def check_invariants(g: nx.DiGraph) -> None:
    """Check the IR invariants stated in the module docstring; raise TinyccError if broken."""
    def fail(msg):
        raise TinyccError(f"IR invariant broken: {msg}")

    if not nx.is_directed_acyclic_graph(g):
        fail("graph has a cycle")
    for n, d in g.nodes(data=True):
        v = d.get("value")
        if isinstance(v, Tensor):
            preds = list(g.predecessors(n))
            if len(preds) > 1:
                fail(f"tensor {v.name} has {len(preds)} writers")
            if v.is_const and preds:
                fail(f"constant {v.name} is written by {preds[0]}")
            if v.variable and (preds or v.is_const):
                fail(f"state tensor {v.name} is written or constant")
            if v.is_const and v.data.shape != v.shape:
                fail(f"constant {v.name} data shape {v.data.shape} != {v.shape}")
            for s in g.successors(n):
                sv = g.nodes[s]["value"]
                if isinstance(sv, Op) and n not in sv.inputs:
                    fail(f"edge {n}->{s} but {s} does not read it")
                if isinstance(sv, Tensor) and sv.size != v.size:
                    fail(f"view {sv.name} has {sv.size} elements, source {v.name} has {v.size}")
        elif isinstance(v, Op):
            for t in v.inputs:
                if t is not None and not g.has_edge(t, n):
                    fail(f"op {v.name} reads {t} without an edge")
            for t in v.outputs:
                if not g.has_edge(n, t):
                    fail(f"op {v.name} writes {t} without an edge")
            for s in g.successors(n):
                if s not in v.outputs:
                    fail(f"edge {n}->{s} but {v.name} does not write it")
            for p in g.predecessors(n):
                if p not in v.inputs:
                    fail(f"edge {p}->{n} but {v.name} does not read it")
            for t, off in v.params.get("zero_copy", {}).items():
                if t not in v.inputs or not 0 <= off <= tensor(g, v.outputs[0]).nbytes - tensor(g, t).nbytes:
                    fail(f"zero-copy input {t} of {v.name} is not read or lies outside its output")
        else:
            fail(f"node {n} has no Tensor/Op value")
    for t in list(g.graph.get("inputs", [])) + list(g.graph.get("outputs", [])):
        if t not in g or not isinstance(g.nodes[t]["value"], Tensor):
            fail(f"model input/output {t} is not a tensor")
