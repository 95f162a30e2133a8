"""fold_constants: ops whose inputs are all constant are computed at compile time.

An op folds when every input its value depends on is a constant tensor (SHAPE depends on
no input's data, only on shapes: its registration says so with ``value_inputs = ()``) and
its registration can compute it:
  * ``OpDef.is_view`` ops (RESHAPE, SQUEEZE, EXPAND_DIMS): the data under the new shape;
  * ``OpDef.evaluate(g, o, inputs) -> [arrays] | None``: the op's own compile-time model
    of its kernel (data movement, SHAPE, FILL, QUANTIZE, DEQUANTIZE, exact float unary
    ops, ...), returning None when it cannot tell; by default, int8 ops whose ``prepare``
    gives a 256-entry table (``TableParams.lut``) apply it to the data, which is exactly what
    the kernel computes.
The pass runs first, before ``check_operators``, so that ops whose checks need constant
operands (a convolution whose weights come out of a DEQUANTIZE) see them; it folds only ops
whose own ``check`` passes. The op disappears; its outputs become constants (in flash, emitted by the ops that read
them). Ops left without any reader (and not writing a model output) are removed too, so
SHAPE of an activation does not keep the activation's producer alive. This repeats until
nothing changes. Outputs larger than FOLD_MAX_BYTES stay computed at run time (a large
FILL costs less as code than as flash).

A dynamic tensor (shape_signature -1) whose stored 1s its op's rules refuse gets the dims they
need first (``shapes.settle_dynamic_outputs``): shape arithmetic that folds decides them.

A model output that is (or became) constant is still an arena buffer the application
reads: a TINYCC_COPY op (``tinycc/ops/const_copy.py``) copies the constant into it, and the
output's other readers read the constant directly.
"""
from __future__ import annotations

import networkx as nx
import numpy as np

from .. import ir, ops
from ..errors import TinyccError
from ..ops.const_copy import KIND as COPY
from ..dtypes import NUMPY_DTYPES
from ..shapes import settle_dynamic_outputs

FOLD_MAX_BYTES = 1 << 16


def _numpy_dtype(dtype: str):
    return np.uint8 if dtype == "bool" else NUMPY_DTYPES[dtype]


def evaluate(g: nx.DiGraph, o: ir.Op) -> list[np.ndarray] | None:
    """The op's outputs when they are known at compile time (cast to each output's dtype), else None."""
    spec = ops.lookup(o.kind)
    if spec is None or o.kind == COPY:
        return None
    try:
        spec.check(g, o)          # the pass runs before check_operators: fold only what checks
    except TinyccError:
        return None               # (check_operators reports it)
    slots = spec.value_inputs
    if slots is None:
        slots = [k for k, t in enumerate(o.inputs) if t is not None]
        if not slots:
            return None                           # no inputs at all: nothing to fold from
    if any(o.inputs[k] is None or not ir.tensor(g, o.inputs[k]).is_const for k in slots):
        return None
    outs = [ir.tensor(g, t) for t in o.outputs]
    if sum(t.nbytes for t in outs) > FOLD_MAX_BYTES:
        return None
    inputs = [ir.tensor(g, t).data if k in slots else None for k, t in enumerate(o.inputs)]
    try:
        if spec.is_view:
            values = [np.asarray(inputs[0]).reshape(outs[0].shape)]
        else:
            values = spec.evaluate(g, o, inputs)
    except (TinyccError, ValueError, IndexError, KeyError, TypeError, ArithmeticError):
        return None               # cannot tell at compile time: the op stays and runs
    if values is None or len(values) != len(outs):
        return None
    result = []
    for t, v in zip(outs, values):
        v = np.asarray(v)
        if v.size != t.size:
            return None
        cast = v.astype(_numpy_dtype(t.dtype)).reshape(t.shape)
        if not np.array_equal(cast, v.reshape(t.shape), equal_nan=v.dtype.kind == "f"):
            return None                           # the model's value does not fit the output type
        result.append(cast)
    return result


def _fold(g: nx.DiGraph, oid: str, values: list[np.ndarray], origin: dict[str, int]) -> None:
    o = ir.op(g, oid)
    g.remove_node(oid)
    for tid, v in zip(o.outputs, values):
        t = ir.tensor(g, tid)
        ir.replace_value(g, tid, ir.Tensor(t.name, t.shape, t.dtype, t.quant, v))
        origin[tid] = o.index
    for tid in o.inputs:
        if tid is not None:
            ir.remove_if_unused(g, tid)


def _dead(g: nx.DiGraph, oid: str) -> bool:
    """A supported, well-formed op none of whose outputs is read, viewed or a model output
    and that touches no state (an op we could not compile is left for check_operators to refuse)."""
    o = ir.op(g, oid)
    if any(t is not None and ir.tensor(g, t).variable for t in o.inputs):
        return False       # it updates state that later invokes read (ASSIGN_VARIABLE, SVDF, ...)
    if not all(g.out_degree(t) == 0 and t not in g.graph["outputs"] for t in o.outputs):
        return False
    spec = ops.lookup(o.kind)
    try:
        return spec is not None and spec.check(g, o) is None
    except TinyccError:
        return False


def _remove_dead(g: nx.DiGraph, oid: str) -> None:
    o = ir.op(g, oid)
    g.remove_node(oid)
    for tid in [*o.outputs, *o.inputs]:
        if tid is not None:
            ir.remove_if_unused(g, tid)


def copy_constant_outputs(g: nx.DiGraph, origin: dict[str, int] | None = None) -> nx.DiGraph:
    """Give every constant model output a TINYCC_COPY op that writes it from its constant
    (placed where the op that computed it was, ``origin``: tensor -> op index)."""
    for k, tid in enumerate(list(dict.fromkeys(g.graph["outputs"]))):
        t = ir.tensor(g, tid)
        if not t.is_const:
            continue
        cid = f"{tid}_value"          # ids appear in C names
        ir.add_tensor(g, cid, ir.Tensor(f"{t.name} (value)", t.shape, t.dtype, t.quant, t.data))
        for c in ir.consumers(g, tid):                 # readers take the constant itself
            co = ir.op(g, c)
            ir.replace_value(g, c, ir.Op(co.kind, tuple(cid if i == tid else i for i in co.inputs), co.outputs,
                                         co.attrs, co.params, co.index, co.name))
            g.remove_edge(tid, c)
            g.add_edge(cid, c)
        index = (origin or {}).get(tid, -1)
        ir.replace_value(g, tid, ir.Tensor(t.name, t.shape, t.dtype, t.quant))
        ir.add_op(g, f"copy_{tid}", ir.Op(COPY, (cid,), (tid,), {}, ir.Params(), index, f"out{k}_const_copy"))
    return g


def fold_constants(g: nx.DiGraph) -> nx.DiGraph:
    origin: dict[str, int] = {}
    changed = True
    while changed:
        changed = settle_dynamic_outputs(g)
        for oid in ir.ops_in_order(g):
            if oid not in g:
                continue
            if _dead(g, oid):
                _remove_dead(g, oid)
                changed = True
                continue
            values = evaluate(g, ir.op(g, oid))
            if values is not None:
                _fold(g, oid, values, origin)
                changed = True
    return copy_constant_outputs(g, origin)
