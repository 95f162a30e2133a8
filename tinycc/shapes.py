"""``--shape NAME=DIMS``: fix a model's dynamic input dimensions at compile time.

A converter marks a dimension it could not fix (usually the batch) with -1 in a tensor's
``shape_signature`` and stores 1 in its ``shape``; the frontend records these dims per tensor
(``g.graph["dynamic_dims"]``). ``fix_input_shapes`` sets the given inputs' shapes (only dynamic
dims may change, the rank may not) and propagates them through the ops in execution order: an op
whose inputs changed gets, for each output, the dynamic dims that make the op's own shape rules
(``OpDef.check``) pass: first the dims of its first input at the same positions (batch
propagation, same-shape ops), then, for one dynamic dim, the smallest value that passes. An op
whose rules no candidate passes refuses the shape in one line naming it. The pass pipeline then
runs on the fixed shapes as on any static model (SHAPE and shape arithmetic fold to the new
values).
"""
from __future__ import annotations

import dataclasses
import re

import networkx as nx

from . import ir, ops
from .errors import TinyccError

MAX_SEARCH = 1 << 16   # largest value tried for a lone dynamic output dim


def parse(specs: list[str] | None) -> dict[str, tuple[int, ...]]:
    """``["input=1,96,96,3", "1=4x10"]`` -> {"input": (1, 96, 96, 3), "1": (4, 10)}."""
    out = {}
    for spec in specs or []:
        m = re.fullmatch(r"\s*([^=]+?)\s*=\s*(\d+(?:\s*[,x]\s*\d+)*)\s*", spec)
        if not m:
            raise TinyccError(f"--shape '{spec}' is not NAME=DIMS (e.g. input=1,96,96,3)")
        out[m.group(1)] = tuple(int(d) for d in re.split(r"\s*[,x]\s*", m.group(2)))
    return out


def _input(g, key: str) -> str:
    inputs = g.graph["inputs"]
    named = [t for t in inputs if ir.tensor(g, t).name == key]
    if named:
        return named[0]
    if key.isdigit() and int(key) < len(inputs):
        return inputs[int(key)]
    names = ", ".join(f"{k}: '{ir.tensor(g, t).name}'" for k, t in enumerate(inputs))
    raise TinyccError(f"--shape {key}=...: no model input has that name or index (inputs {names})")


def _set_shape(g, tid: str, shape) -> None:
    t = ir.tensor(g, tid)
    g.nodes[tid]["value"] = dataclasses.replace(t, shape=tuple(int(d) for d in shape))


def fix_input_shapes(g: nx.DiGraph, specs: dict[str, tuple[int, ...]]) -> nx.DiGraph:
    """Set the inputs' dynamic dims and propagate them (see the module docstring)."""
    dynamic = g.graph.get("dynamic_dims", {})
    changed = set()
    for key, dims in specs.items():
        tid = _input(g, key)
        t = ir.tensor(g, tid)
        if len(dims) != len(t.shape):
            raise TinyccError(f"--shape {key}: {len(dims)} dimensions given, the input has rank {len(t.shape)} "
                              f"{list(t.shape)}", tensor=t.name)
        fixed = [k for k, (a, b) in enumerate(zip(dims, t.shape)) if a != b and k not in dynamic.get(tid, ())]
        if fixed:
            raise TinyccError(f"--shape {key}: dimension {fixed[0]} of {list(t.shape)} is not dynamic "
                              f"(shape_signature {_signature(g, tid)}), it cannot become {dims[fixed[0]]}",
                              tensor=t.name)
        if min(dims, default=1) < 1:
            raise TinyccError(f"--shape {key}: dimensions must be >= 1, got {list(dims)}", tensor=t.name)
        if tuple(dims) != tuple(t.shape):
            _set_shape(g, tid, dims)
            changed.add(tid)
    for n in nx.topological_sort(g):
        if not ir.is_op(g, n):
            continue
        o = ir.op(g, n)
        if not any(t in changed for t in o.inputs if t is not None):
            continue
        _propagate(g, o, dynamic)
        changed.update(o.outputs)
    return g


def settle_dynamic_outputs(g: nx.DiGraph) -> bool:
    """Give a dynamic output the dims its op's rules need when the stored 1s fail them (a FILL
    whose dims a folded SHAPE computation gives, the reshapes after it: Keras' LayerNormalization
    in a dynamic-batch model), and an output stored with no shape at all ([]: the outputs of a
    custom op the converter put in place of a stand-in function, TFLite_Detection_PostProcess)
    the shape its op gives, in execution order; an op no candidate satisfies keeps its shapes
    (``check_operators`` reports it). ``fold_constants`` calls this before each round. Returns
    whether some shape changed."""
    dynamic = g.graph.get("dynamic_dims", {})
    changed = False
    for n in ir.ops_in_order(g):
        o = ir.op(g, n)
        spec = ops.lookup(o.kind)
        unknown = {t for t in o.outputs if ir.tensor(g, t).shape == ()}
        if spec is None or not any(dynamic.get(t) or t in unknown for t in o.outputs) or _passes(spec, g, o):
            continue
        before = {t: ir.tensor(g, t).shape for t in o.outputs}
        for t, shape in zip(o.outputs, spec.output_shapes(g, o) or ()):
            if t in unknown or (len(shape) == len(before[t]) and all(
                    a == b or k in dynamic.get(t, ()) for k, (a, b) in enumerate(zip(shape, before[t])))):
                _set_shape(g, t, shape)
        if _passes(spec, g, o):
            changed = True
            continue
        try:
            _propagate(g, o, dynamic)
            changed = True
        except TinyccError:
            for t, shape in before.items():
                _set_shape(g, t, shape)
    if changed:     # TFLite Micro runs the stored shapes: TFLite, which resizes, is the reference
        g.graph["settled_shapes"] = True
    return changed


def _signature(g, tid: str) -> list[int]:
    dyn = g.graph.get("dynamic_dims", {}).get(tid, ())
    return [-1 if k in dyn else d for k, d in enumerate(ir.tensor(g, tid).shape)]


def _passes(spec, g, o) -> bool:
    try:
        spec.check(g, o)
        return True
    except TinyccError:
        return False


def _propagate(g, o: ir.Op, dynamic: dict) -> None:
    """Give the op's outputs the dynamic dims that its check accepts, or refuse."""
    spec = ops.lookup(o.kind)
    x = ir.tensor(g, o.inputs[0]) if o.inputs and o.inputs[0] is not None else None
    for tid in o.outputs:
        dyn = dynamic.get(tid, ())
        if not dyn:
            continue
        y = ir.tensor(g, tid)
        like = list(y.shape)
        if x is not None and len(x.shape) == len(y.shape):
            like = [x.shape[k] if k in dyn else d for k, d in enumerate(y.shape)]
        _set_shape(g, tid, like)
    if _passes(spec, g, o):
        return
    for tid, shape in zip(o.outputs, spec.output_shapes(g, o) or ()):    # the op's own rule (EXPAND_DIMS, SQUEEZE)
        before = ir.tensor(g, tid).shape
        if len(shape) == len(before) and all(a == b or k in dynamic.get(tid, ())
                                              for k, (a, b) in enumerate(zip(shape, before))):
            _set_shape(g, tid, shape)
    if _passes(spec, g, o):
        return
    if sum(len(dynamic.get(t, ())) for t in o.outputs) == 1:   # one unknown: the value the rules accept
        tid = next(t for t in o.outputs if dynamic.get(t))
        k = dynamic[tid][0]
        shape = list(ir.tensor(g, tid).shape)
        for v in range(1, MAX_SEARCH + 1):
            shape[k] = v
            _set_shape(g, tid, shape)
            if _passes(spec, g, o):
                return
    try:
        spec.check(g, o)
    except TinyccError as e:
        raise TinyccError(f"the model cannot take the --shape given: {e.detail}", op_index=o.index,
                          op_kind=o.kind, tensor=e.tensor) from None
    raise TinyccError("the model cannot take the --shape given", op_index=o.index, op_kind=o.kind)
