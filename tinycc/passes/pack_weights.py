"""pack_weights: choose the fastest kernel each op has for the target, and lay out its constants.

For a core with the DSP extension an op's registration may return (``OpDef.pack``) the
constants of a fast kernel (runtime/kernels/arm): weights reordered and interleaved into the
pairs the kernel's SMLAD loops read, biases and weights pre-scaled for its one-instruction
requantization, requantization records. They go into ``Op.params["packed"]`` with ``impl``
naming the kernel; scratch sizes, in-place rules and codegen follow that choice. An op whose
constants cannot be packed exactly (``tinycc.packing.PackError``) keeps the plain kernel.
"""
from __future__ import annotations

import dataclasses

import networkx as nx

from .. import ir, ops


def pack_weights(g: nx.DiGraph) -> nx.DiGraph:
    for oid in ir.ops_in_order(g):
        o = ir.op(g, oid)
        pk = ops.lookup(o.kind).pack(g, o)
        if pk is not None:
            ir.replace_value(g, oid, dataclasses.replace(o, params={**o.params, "packed": pk}))
    return g
