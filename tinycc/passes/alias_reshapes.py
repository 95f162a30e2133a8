"""alias_reshapes: ops that only reinterpret bytes (``OpDef.is_view``: RESHAPE, SQUEEZE, ...) become view edges.

Before:  x -> [RESHAPE] -> y        After:  x -> y  (a tensor->tensor view edge)
The planner then gives y the bytes of x and codegen emits nothing for it. A reshape
of a constant becomes a constant with reshaped data. A shape-operand tensor left
without readers is dropped.
"""
from __future__ import annotations

import networkx as nx

from .. import ir, ops


def alias_reshapes(g: nx.DiGraph) -> nx.DiGraph:
    for oid in ir.ops_in_order(g):
        o = ir.op(g, oid)
        if not ops.lookup(o.kind).is_view:
            continue
        src, dst = o.inputs[0], o.outputs[0]
        g.remove_node(oid)
        t_src, t_dst = ir.tensor(g, src), ir.tensor(g, dst)
        if t_src.is_const:
            ir.replace_value(g, dst, ir.Tensor(t_dst.name, t_dst.shape, t_dst.dtype, t_dst.quant,
                                               t_src.data.reshape(t_dst.shape)))
        else:
            g.add_edge(src, dst)
        for t in o.inputs[1:]:
            if t is not None and t in g and g.degree(t) == 0 and t not in g.graph["inputs"]:
                g.remove_node(t)
    return g
