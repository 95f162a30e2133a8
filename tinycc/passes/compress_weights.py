"""compress_weights: store constant weights as k-bit indices into value tables where that saves
flash (``--compress auto``, the default), and always keep the file's INT4 weights 4-bit.

An op whose kernel can read compressed weights declares the input slot (``OpDef.compressed_slot``)
and gives the weights as its kernel reads them, one row per output channel
(``OpDef.weight_rows``: int8 activations and weights only). ``tinycc.compress.choose`` picks the
smallest lossless encoding (INT4 nibbles, one table of 2, 4 or 16 values for the tensor, or one
per output channel) and keeps the int8 weights when none is smaller; the choice goes into
``Op.params.compressed`` and the op emits its decoding kernel (runtime/kernels/tcc_compressed.c).
On cores with the DSP extension (--optimize speed) a kernel variant unit that reads compressed
weights (``reads_compressed``: tinycc/variants/arm_palette.py) is chosen here when its estimated
cycles beat the portable kernel's: its fastest packing that keeps the arena within 1/RAM_SLACK of
the portable kernels' plan (``pack_weights`` leaves compressed ops as they are).

TFLite Micro's LUT-compressed weights (``g.graph["tflm_lut"]``, tinycc/tflm_lut.py) are always
kept a palette (``choose(..., lut=...)``); their biases (int32, folded into the kernels'
constants) are read decompressed. Refused in one line naming the op and tensor: an INT4 constant
anything else reads, a LUT tensor anything else reads, and LUT weights of more than 4-bit indices.

Pruned weights (at least half zeros, ``variants.sparse.is_sparse``) stay int8 unless the file
stores them INT4 or as a TFLite Micro LUT: the sparse kernel units skip their zeros, faster than a
palette decodes them (depthwise taps run dense).
"""
from __future__ import annotations

import dataclasses

import networkx as nx

from .. import compress, ir, ops, variants
from ..errors import TinyccError
from ..variants.sparse import is_sparse
from .pack_weights import RAM_SLACK
from .plan_arena import plan_arena


def compress_weights(g: nx.DiGraph) -> nx.DiGraph:
    mode = g.graph.get("compress", "auto")
    int4 = g.graph.get("int4", frozenset())
    luts = g.graph.get("tflm_lut", {})
    for n in ir.ops_in_order(g):
        o = ir.op(g, n)
        spec = ops.lookup(o.kind)
        rows = spec.weight_rows(g, o) if spec.compressed_slot is not None else None
        for slot, t in enumerate(o.inputs):
            if t in int4 and (slot != spec.compressed_slot or rows is None):
                raise TinyccError("INT4 constants are supported only as the weights of convolutions and "
                                  "fully connected layers with int8 activations", op_index=o.index, op_kind=o.kind,
                                  tensor=ir.tensor(g, t).name)
            if t in luts:
                _check_lut(g, o, spec, slot, t, rows is not None)
        if rows is None:
            continue
        w = o.inputs[spec.compressed_slot]
        lut = (luts[w].bits, luts[w].file_bytes) if w in luts else None
        if w not in int4 and lut is None and is_sparse(rows):   # pruned: the sparse kernels (variants/sparse.py)
            continue
        code = compress.choose(rows, w in int4, mode, lut)
        if code is not None:
            ir.replace_value(g, n, dataclasses.replace(o, params=dataclasses.replace(o.params, compressed=code)))
    _fast_kernels(g)
    return g


def _with(g, n, pk) -> None:
    o = ir.op(g, n)
    ir.replace_value(g, n, dataclasses.replace(o, params=dataclasses.replace(o.params, packed=pk)))


def _fast_kernels(g) -> None:
    """Per compressed op, the packings of the units that read compressed weights
    (``reads_compressed``: tinycc/variants/arm_palette.py) whose estimated cycles beat the
    portable kernel's, fastest first; in schedule order each op takes the first whose quick plan
    keeps the arena within 1/RAM_SLACK of the portable kernels' plan (else the portable kernel)."""
    choices = {}
    for n in ir.ops_in_order(g):
        o = ir.op(g, n)
        if o.params.get("compressed") is None:
            continue
        units = {pk: variants.named(pk.impl) for pk in variants.candidates(g, o)}
        fast = [pk for pk, u in units.items()
                if getattr(u, "reads_compressed", False) and u.cycles(g, o, pk) < u.plain_cycles(g, o)]
        if fast:
            choices[n] = sorted(fast, key=lambda pk: units[pk].cycles(g, o, pk))
    if not choices:
        return
    plain = plan_arena(g.copy(), exact_steps=0).graph["plan"].size
    budget = plain + plain // RAM_SLACK
    for n, packs in choices.items():          # every op's fastest: one plan when that fits
        _with(g, n, packs[0])
    if plan_arena(g.copy(), exact_steps=0).graph["plan"].size <= budget:
        return
    for n in choices:
        _with(g, n, None)
    for n, packs in choices.items():
        for pk in packs:
            _with(g, n, pk)
            if plan_arena(g.copy(), exact_steps=0).graph["plan"].size <= budget:
                break
        else:
            _with(g, n, None)


def _check_lut(g, o, spec, slot: int, t: str, compressible: bool) -> None:
    """A TFLite Micro LUT tensor: the weights of a kernel that reads palettes (indices of at most
    4 bits), or a convolution's or FC's int32 bias; else one line."""
    where = dict(op_index=o.index, op_kind=o.kind, tensor=ir.tensor(g, t).name)
    bits = g.graph["tflm_lut"][t].bits
    if slot == spec.compressed_slot and compressible:
        if bits > compress.BITS[-1]:
            raise TinyccError(f"TFLite Micro LUT weights with {bits}-bit indices are not supported (at most "
                              f"{compress.BITS[-1]})", **where)
        return
    if not (spec.compressed_slot is not None and slot == 2 and ir.tensor(g, t).dtype == "int32"):
        raise TinyccError("TFLite Micro LUT-compressed constants are supported only as the weights (int8 "
                          "activations) and biases of convolutions and fully connected layers", **where)
