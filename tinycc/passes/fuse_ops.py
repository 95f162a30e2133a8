"""fuse_ops: merge an op into its neighbour where that saves work and changes no result.

The pass is driven by RULES, a table. Each rule names a pattern (a producer op, the tensor
between, a consumer op), the condition under which merging is *exact* (the fused kernel computes
the very bytes the two kernels did) and the rewrite. Every rule needs the tensor between to be
*private*: written by the producer, read once by the consumer and by nothing else, not a model
output, not viewed. The pass runs after ``fold_quantization`` (it reads and adjusts the
compile-time constants in ``Op.params``) and repeats until no rule fires.

  rule                 pattern                                 exact when
  pad_into_window      PAD/PADV2 -> CONV_2D/DEPTHWISE_CONV_2D  padding only on H and W; int8: PAD keeps
                                                               the quantization and fills with the zero
                                                               point (padding a convolution contributes
                                                               the zero point); float32: fills with 0 and
                                                               the weights are finite; not hybrid (its
                                                               run-time input quantization would see the pad)
  pad_into_max_pool    PAD/PADV2 -> MAX_POOL_2D                the pad value is <= every value the input can
                                                               hold (its producer's clamp), and every window
                                                               keeps an image element (int8: or the pad is
                                                               -128, the kernel's start value)
                       (never into AVERAGE_POOL_2D: TFLite divides by the count of image elements only)
  clamp_activation     conv/depthwise/FC/ADD/pool -> RELU,      the activation's int8 table is exactly a clamp
                       RELU6, RELU_N1_TO_1, int8 MAXIMUM/       to [lo, hi] (checked on all 256 values) with the
                       MINIMUM with a constant scalar          same quantization on both sides, or float32
                                                               RELU*; the clamps intersect
  dequantize_quantize  DEQUANTIZE -> QUANTIZE (int8 -> f32 ->  always: the float32 path is a function of the
                       int8)                                   256 input values, tabulated bit for bit
  table_chain          int8 table op -> int8 table op          always: table composition
  identity_table       an int8 table op whose table is the     always: the output is the input's bytes
                       identity (e.g. QUANTIZE with equal      (becomes a view, no code)
                       scale and zero point)

The rules fired are listed in ``graph.graph["fused"]`` (for tests and reports).

The rewrites: a fused PAD becomes explicit padding of the window op (``padding="EXPLICIT"``,
``pad_h``/``pad_w`` = (before, after), possibly asymmetric; kernels take top/left and the
output size); a fused activation narrows the producer's ``act_range``; fused tables become one
QUANTIZE int8 -> int8 op carrying its table (``attrs["table"]``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import networkx as nx
import numpy as np

from .. import ir, ops, quant
from ..ops.quantize import Dequantize, Quantize, QuantizeParams, dequantize_s8, quantize_f32

IDENTITY = np.array([q & 0xFF for q in range(256)], np.uint8).view(np.int8)  # table index -> same byte


@dataclass(frozen=True)
class Rule:
    """Pattern: a ``consumer`` op reading the private output of a ``producer`` op (or, with
    ``producer`` None, the consumer op alone). Both are predicates on the ops' ``OpDef``: the
    facts about an op (does it clamp, is it a table, ...) live in its registration."""
    name: str
    producer: Callable[[ops.OpDef], bool] | None
    consumer: Callable[[ops.OpDef], bool]
    exact: Callable      # (g, a, b) -> match (anything but None) when fusing is exact; a is None alone
    rewrite: Callable    # (g, a_oid, b_oid, match) -> None


# -- helpers -------------------------------------------------------------------------

def private(g: nx.DiGraph, tid: str, reader: str) -> bool:
    """``tid`` is read once, by ``reader`` only, and is neither a model output nor viewed."""
    succ = list(g.successors(tid))
    return (succ == [reader] and list(ir.op(g, reader).inputs).count(tid) == 1
            and tid not in g.graph["outputs"] and tid not in g.graph["inputs"])


def same_quant(a: ir.Tensor, b: ir.Tensor) -> bool:
    if a.dtype != b.dtype:
        return False
    if a.dtype != "int8":
        return True
    return (a.quant is not None and b.quant is not None and not a.quant.per_channel and not b.quant.per_channel
            and np.float32(a.quant.scale[0]) == np.float32(b.quant.scale[0])
            and a.quant.zero_point[0] == b.quant.zero_point[0])


def table(g: nx.DiGraph, o: ir.Op) -> np.ndarray | None:
    """The op's int8 -> int8 256-entry table (indexed by the input byte), if its kernel is one."""
    if len(o.inputs) != 1 or len(o.outputs) != 1 or not isinstance(o.params, ops.TableParams):
        return None
    if ir.tensor(g, o.inputs[0]).dtype != "int8" or ir.tensor(g, o.outputs[0]).dtype != "int8":
        return None
    return np.asarray(o.params.lut, np.int8)


def table_op(g: nx.DiGraph, like: ir.Op, src: str, dst: str, lut: np.ndarray) -> ir.Op:
    """A QUANTIZE int8 -> int8 op applying ``lut`` (Quantize.prepare honours attrs["table"])."""
    lut = np.asarray(lut, np.int8)
    return ir.Op(Quantize.kind, (src,), (dst,), {"table": lut}, ops.TableParams(lut=lut), like.index, like.name)


def replace_op(g: nx.DiGraph, oid: str, new: ir.Op) -> None:
    """Swap the op at ``oid`` for ``new`` (its edges follow new.inputs/outputs)."""
    g.remove_node(oid)
    ir.add_op(g, oid, new)


def bypass(g: nx.DiGraph, a_oid: str, b_oid: str, new_b: ir.Op) -> None:
    """Remove producer ``a`` and the tensor between; ``b`` becomes ``new_b`` (reading a's input)."""
    a = ir.op(g, a_oid)
    mid = a.outputs[0]
    g.remove_node(a_oid)
    g.remove_node(mid)
    replace_op(g, b_oid, new_b)
    for t in a.inputs:
        ir.remove_if_unused(g, t)


def absorb(g: nx.DiGraph, a_oid: str, b_oid: str, new_a: ir.Op) -> None:
    """Remove consumer ``b`` and the tensor between; ``a`` becomes ``new_a`` (writing b's output)."""
    b = ir.op(g, b_oid)
    mid = ir.op(g, a_oid).outputs[0]
    g.remove_node(b_oid)
    g.remove_node(mid)
    replace_op(g, a_oid, new_a)
    for t in b.inputs:
        ir.remove_if_unused(g, t)


def reprepare(g: nx.DiGraph, oid: str) -> None:
    o = ir.op(g, oid)
    ir.replace_value(g, oid, dataclasses.replace(o, params=ops.lookup(o.kind).prepare(g, o)))


# -- PAD into a windowed op --------------------------------------------------------------

def pad_geometry(g, pad: ir.Op):
    """((top, bottom), (left, right), fill value) of a PAD/PADV2 that pads only H and W of a 4-D
    tensor and keeps its quantization, else None."""
    x, y = ir.tensor(g, pad.inputs[0]), ir.tensor(g, pad.outputs[0])
    if len(x.shape) != 4 or not same_quant(x, y) or x.dtype not in ("int8", "float32"):
        return None
    p = ir.tensor(g, pad.inputs[1])
    if not p.is_const or p.data.shape != (4, 2):
        return None
    p = np.asarray(p.data, np.int64)
    if p[0].any() or p[3].any() or (p < 0).any():
        return None
    if len(pad.inputs) > 2 and pad.inputs[2] is not None:   # PADV2's constant_values
        v = ir.tensor(g, pad.inputs[2])
        if not v.is_const:
            return None
        fill = v.data.ravel()[0]
    else:
        fill = y.quant.zero_point[0] if y.dtype in ("int8", "uint8") else 0.0
    return (int(p[1][0]), int(p[1][1])), (int(p[2][0]), int(p[2][1])), fill


def _merged_padding(g, pad: ir.Op, win: ir.Op, geo):
    """The window op's attrs with the PAD folded into explicit padding (its own SAME/VALID
    padding computed on the padded size, as before, plus the PAD's)."""
    (pt, pb), (pl, pr), _ = geo
    k_h, k_w, dil_h, dil_w = ops.lookup(win.kind).window(g, win)
    _, h, w, _ = ir.tensor(g, pad.outputs[0]).shape
    a = win.attrs
    _, t, b = quant.padding_amounts(quant.axis_padding(a, "h"), h, k_h, a["stride_h"], dil_h)
    _, l, r = quant.padding_amounts(quant.axis_padding(a, "w"), w, k_w, a["stride_w"], dil_w)
    return {**a, "padding": "EXPLICIT", "pad_h": (pt + t, pb + b), "pad_w": (pl + l, pr + r)}


def exact_pad_into_conv(g, pad: ir.Op, conv: ir.Op):
    geo = pad_geometry(g, pad)
    if geo is None or conv.inputs[0] != pad.outputs[0]:
        return None
    x, w = ir.tensor(g, pad.inputs[0]), ir.tensor(g, conv.inputs[1])
    if w.dtype != x.dtype:                     # hybrid: the run-time input quantization would see the pad
        return None
    fill = geo[2]
    if x.dtype in ("int8", "uint8"):
        ok = int(fill) == x.quant.zero_point[0]
    else:
        ok = float(fill) == 0.0 and bool(np.isfinite(w.data).all())
    return geo if ok else None


def rewrite_pad_into_window(g, pad_oid, win_oid, geo):
    pad, win = ir.op(g, pad_oid), ir.op(g, win_oid)
    attrs = _merged_padding(g, pad, win, geo)
    bypass(g, pad_oid, win_oid, dataclasses.replace(win, inputs=(pad.inputs[0], *win.inputs[1:]), attrs=attrs))
    reprepare(g, win_oid)


def lower_bound(g, tid: str):
    """The smallest value tensor ``tid`` can hold at run time, from its producer's clamp."""
    t = ir.tensor(g, tid)
    lo = -128 if t.dtype == "int8" else -float("inf")
    p = ir.producer(g, tid)
    if p is not None and ir.is_op(g, p):
        po = ir.op(g, p)
        clamp = ops.lookup(po.kind).output_clamp(po, t.dtype)
        if clamp is not None and len(po.outputs) == 1:
            lo = max(lo, clamp[0])
    return lo


def exact_pad_into_max_pool(g, pad: ir.Op, pool: ir.Op):
    geo = pad_geometry(g, pad)
    if geo is None:
        return None
    (pt, pb), (pl, pr), fill = geo
    x = ir.tensor(g, pad.inputs[0])
    if float(fill) > lower_bound(g, pad.inputs[0]):
        return None
    if x.dtype == "int8" and int(fill) == -128:
        return geo                               # an all-padding window gives -128 either way
    # every window of the fused op must keep at least one image element
    a = _merged_padding(g, pad, pool, geo)
    for axis, size, k, s in (("h", x.shape[1], a["filter_h"], a["stride_h"]),
                             ("w", x.shape[2], a["filter_w"], a["stride_w"])):
        out, before, _ = quant.padding_amounts(a[f"pad_{axis}"], size, k, s)
        starts = np.arange(out) * s - before
        if ((starts + k <= 0) | (starts >= size)).any():
            return None
    return geo


# -- activations into the producer's clamp -------------------------------------------------

def clamp_of_activation(g, act: ir.Op, mid: str):
    """(lo, hi) when the activation op, applied to ``mid``, is exactly a clamp of its values, else None."""
    x, y = ir.tensor(g, mid), ir.tensor(g, act.outputs[0])
    if not same_quant(x, y) or tuple(x.shape) != tuple(y.shape):
        return None
    spec = ops.lookup(act.kind)
    if spec.constant_bound is not None:
        # int8 only: TFLite Micro compares raw bytes; float32 NaN handling differs from a clamp
        others = [t for t in act.inputs if t != mid]
        if x.dtype != "int8" or len(act.inputs) != 2 or len(others) != 1 or others[0] is None:
            return None
        c = ir.tensor(g, others[0])
        if not c.is_const or c.size != 1 or c.dtype != "int8":
            return None
        v = int(c.data.ravel()[0])
        return (v, 127) if spec.constant_bound == "lo" else (-128, v)
    if act.inputs[0] != mid:
        return None
    if x.dtype == "float32":
        return ops.activation_range_float(spec.fused_activation) if spec.fused_activation else None
    lut = table(g, act)
    if lut is None:
        return None
    q = np.arange(-128, 128)
    out = lut[q & 0xFF].astype(np.int64)
    lo, hi = int(out[0]), int(out[-1])
    return (lo, hi) if lo <= hi and np.array_equal(out, np.clip(q, lo, hi)) else None


def exact_clamp_activation(g, prod: ir.Op, act: ir.Op):
    if len(prod.outputs) != 1:
        return None
    y = ir.tensor(g, prod.outputs[0])
    clamp = ops.lookup(prod.kind).output_clamp(prod, y.dtype)
    if clamp is None or y.dtype not in ("int8", "float32"):
        return None
    c = clamp_of_activation(g, act, prod.outputs[0])
    if c is None:
        return None
    lo, hi = clamp
    new = (max(lo, c[0]), min(hi, c[1]))
    if new[0] > new[1]:
        return None
    if y.dtype == "int8":
        new = (int(new[0]), int(new[1]))
    return y.dtype, new


def rewrite_clamp_activation(g, prod_oid, act_oid, match):
    dtype, rng = match
    prod, act = ir.op(g, prod_oid), ir.op(g, act_oid)
    narrowed = ops.lookup(prod.kind).with_output_clamp(prod, dtype, rng)
    absorb(g, prod_oid, act_oid, dataclasses.replace(narrowed, outputs=act.outputs))


# -- tables ------------------------------------------------------------------------------------

def exact_dequantize_quantize(g, dq: ir.Op, q: ir.Op):
    x, y = ir.tensor(g, dq.inputs[0]), ir.tensor(g, q.outputs[0])
    if x.dtype != "int8" or y.dtype != "int8" or ir.tensor(g, dq.outputs[0]).dtype != "float32":
        return None
    if not isinstance(q.params, QuantizeParams):       # QUANTIZE float32 -> int8
        return None
    vals = np.arange(-128, 128)
    f = dequantize_s8(vals, x.quant.scale[0], x.quant.zero_point[0])
    out = quantize_f32(f, q.params.scale, q.params.zero_point)
    lut = np.zeros(256, np.int8)
    lut[vals & 0xFF] = out
    return lut


def exact_table_chain(g, a: ir.Op, b: ir.Op):
    ta, tb = table(g, a), table(g, b)
    if ta is None or tb is None:
        return None
    return tb[ta.astype(np.int64) & 0xFF]


def rewrite_tables(g, a_oid, b_oid, lut):
    a, b = ir.op(g, a_oid), ir.op(g, b_oid)
    bypass(g, a_oid, b_oid, table_op(g, b, a.inputs[0], b.outputs[0], lut))


def exact_identity(g, _, o: ir.Op):
    t = table(g, o)
    return True if t is not None and np.array_equal(t, IDENTITY) and not ir.tensor(g, o.inputs[0]).is_const \
        else None


def rewrite_to_view(g, _, oid: str, match) -> None:
    o = ir.op(g, oid)
    g.remove_node(oid)
    g.add_edge(o.inputs[0], o.outputs[0])


def _table(d: ops.OpDef) -> bool:
    return d.table_kernel        # ``table`` checks each op's params


RULES = [
    Rule("pad_into_window", lambda d: d.is_constant_pad, lambda d: d.absorbs_pad == "zero_point",
         exact_pad_into_conv, rewrite_pad_into_window),
    Rule("pad_into_max_pool", lambda d: d.is_constant_pad, lambda d: d.absorbs_pad == "lowest",
         exact_pad_into_max_pool, rewrite_pad_into_window),
    Rule("clamp_activation", lambda d: d.clamp_keys is not None,
         lambda d: d.fused_activation is not None or d.constant_bound is not None,
         exact_clamp_activation, rewrite_clamp_activation),
    # a rule about one specific pair of ops: the float32 round trip between them is a table
    Rule("dequantize_quantize", lambda d: d.kind == Dequantize.kind, lambda d: d.kind == Quantize.kind,
         exact_dequantize_quantize, rewrite_tables),
    Rule("table_chain", _table, _table, exact_table_chain, rewrite_tables),
    Rule("identity_table", None, _table, exact_identity, rewrite_to_view),
]


def _fire_once(g: nx.DiGraph, fired: list[str]) -> bool:
    """Apply the first rule that matches (ops in execution order, rules in table order)."""
    for b_oid in ir.ops_in_order(g):
        b = ir.op(g, b_oid)
        b_def = ops.lookup(b.kind)
        for rule in RULES:
            if not rule.consumer(b_def):
                continue
            if rule.producer is None:
                candidates = [(None, None)]
            else:
                candidates = []
                for t in dict.fromkeys(b.inputs):
                    a_oid = ir.producer(g, t) if t is not None else None
                    if (a_oid is not None and ir.is_op(g, a_oid) and rule.producer(ops.lookup(ir.op(g, a_oid).kind))
                            and len(ir.op(g, a_oid).outputs) == 1 and private(g, t, b_oid)):
                        candidates.append((a_oid, ir.op(g, a_oid)))
            for a_oid, a in candidates:
                match = rule.exact(g, a, b)
                if match is not None:
                    rule.rewrite(g, a_oid, b_oid, match)
                    fired.append(rule.name)
                    return True
    return False


def fuse_ops(g: nx.DiGraph) -> nx.DiGraph:
    fired: list[str] = []
    while _fire_once(g, fired):
        pass
    g.graph["fused"] = fired
    return g
