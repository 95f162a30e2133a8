"""fold_quantization: compute at compile time what TFLite Micro computes in Prepare.

For every op, its registration's ``prepare`` derives the constants its kernel needs
(per-channel requantization multipliers and shifts, zero-point-corrected biases,
activation clamps in the quantized domain, paddings, softmax scaling) and they are
stored in ``Op.params``. Nothing of this is computed on the device.
"""
from __future__ import annotations

import dataclasses

import networkx as nx

from .. import ir, ops
from ..errors import TinyccError


def fold_quantization(g: nx.DiGraph) -> nx.DiGraph:
    for oid in ir.ops_in_order(g):
        o = ir.op(g, oid)
        try:
            params = ops.lookup(o.kind).prepare(g, o)
        except TinyccError as e:
            raise e.located(op_index=o.index, op_kind=o.kind)
        ir.replace_value(g, oid, dataclasses.replace(o, params=params))
    return g
