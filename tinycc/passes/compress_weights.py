"""compress_weights: store constant weights as k-bit indices into value tables where that saves
flash (``--compress auto``, the default), and always keep the file's INT4 weights 4-bit.

An op whose kernel can read compressed weights declares the input slot (``OpDef.compressed_slot``)
and gives the weights as its kernel reads them, one row per output channel
(``OpDef.weight_rows``: int8 activations and weights only). ``tinycc.compress.choose`` picks the
smallest lossless encoding (INT4 nibbles, one table of 2, 4 or 16 values for the tensor, or one
per output channel) and keeps the int8 weights when none is smaller; the choice goes into
``Op.params.compressed`` and the op emits its decoding kernel (runtime/kernels/tcc_compressed.c).
Compressed ops keep that portable kernel (``pack_weights`` gives them no fast variant).

An INT4 constant anything else reads is refused in one line naming the op and tensor.
"""
from __future__ import annotations

import dataclasses

import networkx as nx

from .. import compress, ir, ops
from ..errors import TinyccError


def compress_weights(g: nx.DiGraph) -> nx.DiGraph:
    mode = g.graph.get("compress", "auto")
    int4 = g.graph.get("int4", frozenset())
    for n in ir.ops_in_order(g):
        o = ir.op(g, n)
        spec = ops.lookup(o.kind)
        rows = spec.weight_rows(g, o) if spec.compressed_slot is not None else None
        for slot, t in enumerate(o.inputs):
            if t in int4 and (slot != spec.compressed_slot or rows is None):
                raise TinyccError("INT4 constants are supported only as the weights of convolutions and "
                                  "fully connected layers with int8 activations", op_index=o.index, op_kind=o.kind,
                                  tensor=ir.tensor(g, t).name)
        if rows is None:
            continue
        code = compress.choose(rows, o.inputs[spec.compressed_slot] in int4, mode)
        if code is not None:
            ir.replace_value(g, n, dataclasses.replace(o, params=dataclasses.replace(o.params, compressed=code)))
    return g
