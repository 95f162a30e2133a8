"""plan_arena: place every activation buffer in one static arena.

Algorithm
  1. Schedule: ops run in ``ir.ops_in_order`` (topological, source order for ties);
     op k runs at time step k.
  2. Buffers: every non-constant tensor that owns its bytes (is not a view) is a
     buffer of ``nbytes`` rounded up to ALIGN. A view shares its source's buffer.
  3. Lifetime of a buffer: [first, last] where first is the step of its producer
     (0 for model inputs) and last is the latest step of any reader of the buffer
     or of its views; model outputs (or their sources) live to the end.
  4. Placement, greedy by size (as TFLite Micro's planner): buffers sorted by size
     (largest first, then by first use, then id); each goes at the lowest offset,
     a multiple of ALIGN, where it overlaps no already placed buffer whose lifetime
     intersects its own.
  5. The arena size is the highest end offset.
Invariant (tested on every case): two buffers whose lifetimes intersect never share a byte.
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from .. import ir

ALIGN = 4


@dataclass(frozen=True)
class Buffer:
    tid: str
    size: int       # bytes, rounded up to ALIGN
    first: int
    last: int
    offset: int


@dataclass(frozen=True)
class ArenaPlan:
    order: tuple[str, ...]          # op ids in execution order
    buffers: tuple[Buffer, ...]     # owners only, in placement order
    offsets: dict                   # tensor id (owner or view) -> byte offset
    size: int                       # arena bytes

    def lower_bound(self) -> int:
        """The largest total of simultaneously live buffers: no placement can beat it."""
        steps = range(len(self.order) + 1)
        return max((sum(b.size for b in self.buffers if b.first <= t <= b.last) for t in steps), default=0)


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def lifetimes(g: nx.DiGraph, order: list[str]) -> dict[str, tuple[int, int]]:
    """[first, last] time steps of each buffer-owning tensor."""
    step = {oid: k for k, oid in enumerate(order)}
    end = len(order)
    life: dict[str, list[int]] = {}
    for n in g.nodes:
        if ir.is_op(g, n) or ir.tensor(g, n).is_const:
            continue
        owner = ir.view_source(g, n)
        p = ir.producer(g, owner)
        first = step[p] if p is not None else 0
        lo_hi = life.setdefault(owner, [first, first])
        for c in ir.consumers(g, n):
            lo_hi[1] = max(lo_hi[1], step[c])
        if n in g.graph["outputs"]:
            lo_hi[1] = end
        if n in g.graph["inputs"]:
            lo_hi[0] = 0
    return {k: (v[0], v[1]) for k, v in life.items()}


def place_greedy(sizes: dict[str, int], life: dict[str, tuple[int, int]]) -> dict[str, int]:
    """Greedy by size: each buffer at the lowest free offset among time-overlapping placed ones."""
    placed: list[tuple[int, int, str]] = []  # (offset, end, tid)
    offsets: dict[str, int] = {}
    for tid in sorted(sizes, key=lambda t: (-sizes[t], life[t][0], t)):
        lo, hi = life[tid]
        busy = sorted((o, e) for o, e, other in placed
                      if not (life[other][1] < lo or hi < life[other][0]))
        offset = 0
        for o, e in busy:
            if offset + sizes[tid] <= o:
                break
            offset = max(offset, _align(e))
        offsets[tid] = offset
        placed.append((offset, offset + sizes[tid], tid))
    return offsets


def plan_arena(g: nx.DiGraph) -> nx.DiGraph:
    order = ir.ops_in_order(g)
    life = lifetimes(g, order)
    sizes = {t: _align(max(ir.tensor(g, t).nbytes, 1)) for t in life}
    offsets = place_greedy(sizes, life)
    buffers = tuple(Buffer(t, sizes[t], *life[t], offsets[t]) for t in sorted(offsets, key=offsets.get))
    all_offsets = {n: offsets[ir.view_source(g, n)] for n in g.nodes
                   if not ir.is_op(g, n) and not ir.tensor(g, n).is_const}
    size = max((b.offset + b.size for b in buffers), default=0)
    g.graph["plan"] = ArenaPlan(tuple(order), buffers, all_offsets, size)
    return g
