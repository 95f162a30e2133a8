"""check_operators: run every op's type and shape rules before anything else touches the graph."""
from __future__ import annotations

import networkx as nx

from .. import ir, ops
from ..errors import TinyccError


def check_operators(g: nx.DiGraph) -> nx.DiGraph:
    for oid in ir.ops_in_order(g):
        o = ir.op(g, oid)
        spec = ops.lookup(o.kind)
        if spec is None:
            raise TinyccError("operator is not supported by tinycc", op_index=o.index, op_kind=o.kind)
        try:
            spec.check(g, o)
        except TinyccError as e:
            raise e.located(op_index=o.index, op_kind=o.kind)
    g.graph["tflite_reference"] = ops.tflite_reference(g)
    for tid in g.graph["inputs"]:
        if ir.tensor(g, tid).is_const or ir.producer(g, tid) is not None:
            raise TinyccError("model input is a constant or written by an operator", tensor=ir.tensor(g, tid).name)
    return g   # constant model outputs are fine: fold_constants gives each a copy op
