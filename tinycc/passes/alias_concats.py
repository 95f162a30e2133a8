"""alias_concats: inputs of zero-copy joins (``OpDef.zero_copy_join``: CONCATENATION, PACK) that are contiguous blocks of the output are written in
place by their producers; the join copies nothing and emits no code.

Input k of a join is *placed* inside the output (``Op.params.zero_copy[input] = byte offset``,
see ``ir.storage``) when
  * its block of the output is one contiguous run of elements (true for every input when all
    output dims before the axis are 1), starting at a byte offset that is a multiple of the
    arena alignment (kernels may store whole words);
  * its bytes need no conversion: same dtype and, for int8, the output's scale and zero point;
  * it is an ordinary activation: written by an op (not a model input, a constant or a view of
    another tensor), read only once by this join (a tensor read twice by a join, or by two joins,
    cannot sit in two places) and not already placed by another join.
Other readers of a placed input are fine: they read it inside the output. The planner
(``plan_arena``) gives the output one buffer living from the first step any of its placed
inputs is written to its last reader's, and lets no kernel share memory with a placed input.
"""
from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np

from .. import ir, ops
from .plan_arena import ALIGN

def placements(g: nx.DiGraph, oid: str) -> dict[str, int]:
    """input tensor id -> byte offset in the output, for the inputs of join ``oid`` that can be placed."""
    o = ir.op(g, oid)
    spec = ops.lookup(o.kind)
    y = ir.tensor(g, o.outputs[0])
    es = ir.DTYPE_SIZE[y.dtype]
    placed = {}
    for k, t in enumerate(o.inputs):
        x = ir.tensor(g, t)
        p = ir.producer(g, t)
        if (x.is_const or p is None or not ir.is_op(g, p) or t in g.graph["inputs"]
                or list(o.inputs).count(t) != 1 or x.dtype != y.dtype or spec.requant(g, o, k) is not None):
            continue
        if any(ir.is_op(g, c) and t in ir.op(g, c).params.get("zero_copy", {}) for c in g.successors(t)):
            continue
        idx = np.asarray(spec.block_index(g, o, k)).ravel()
        if idx.size == 0:
            continue
        start = int(idx[0])
        if not np.array_equal(idx, np.arange(start, start + idx.size)) or (start * es) % ALIGN:
            continue
        placed[t] = start * es
    return placed


def alias_concats(g: nx.DiGraph) -> nx.DiGraph:
    for oid in ir.ops_in_order(g):
        o = ir.op(g, oid)
        if not ops.lookup(o.kind).zero_copy_join:
            continue
        placed = placements(g, oid)
        if placed:
            ir.replace_value(g, oid, dataclasses.replace(o, params=dataclasses.replace(o.params, zero_copy=placed)))
    return g
