"""Generators of test models for issue 16's arithmetic, logical, reduction, pooling and select
builtins: ADD_N, FLOOR_DIV, FLOOR_MOD, LOGICAL_AND/OR/NOT, REDUCE_ALL, L2_POOL_2D, SELECT_V2 in
every type, SELECT (v1), CAST's uint8 and int64 pairs, DEQUANTIZE from uint8.

Like ``tinycc.testing.models_datamove`` (whose ``Net`` they use), a generator adds several
independent single-op cases to a ``Net``, one output each, so one model (one build) holds the
cases of several generators. Input names start with the generator's prefix (``floor_``,
``topk_``, ``cast_``, ...), which tells a test how to make their values.
"""
from __future__ import annotations

import numpy as np

from .models_datamove import OPTIONS_TABLE, Net

OPTIONS_TABLE.update({"REDUCE_ALL": "ReducerOptions", "L2_POOL_2D": "Pool2DOptions"})


def add_n(n: Net, shape, counts) -> None:
    """One ADD_N of k inputs per k in ``counts``, float32 and int8 (inputs of one quantization)."""
    n.dtype = "float32"
    for dt in ("float32", "int8"):
        n.dtype = dt
        for k in counts:
            q = n.q()
            xs = [n.input(shape, q=(q["scale"], q["zero_point"]) if q else None, name=f"addn_x{k}_{j}_{dt}")[0]
                  for j in range(k)]
            y = n.act(shape, n.q(), f"addn{k}_{dt}")
            n.op("ADD_N", xs, [y])


def floor_ops(n: Net, dtype, shapes) -> None:
    """FLOOR_DIV and FLOOR_MOD of two inputs per (a_shape, b_shape) pair (broadcast), and of an
    input by a constant divisor."""
    n.dtype = dtype
    for k, (sa, sb) in enumerate(shapes):
        a, _ = n.input(sa, name=f"floor_a{k}_{dtype}")
        b, _ = n.input(sb, name=f"floor_b{k}_{dtype}")
        out = list(np.broadcast_shapes(tuple(sa), tuple(sb)))
        for kind in ("FLOOR_DIV", "FLOOR_MOD"):
            n.op(kind, [a, b], [n.act(out, {}, f"{kind.lower()}{k}_{dtype}")])
    a, _ = n.input(shapes[0][0], name=f"floor_a_{dtype}")
    div = np.array([3, -3, 7, -2], dtype=dtype)
    c = n.const(div, dtype=dtype, name=f"divisor_{dtype}")
    for kind in ("FLOOR_DIV", "FLOOR_MOD"):
        n.op(kind, [a, c], [n.act(np.broadcast_shapes(tuple(shapes[0][0]), (4,)), {}, f"{kind.lower()}_c_{dtype}")])


def logicals(n: Net, shape, other, axes_cases) -> None:
    """LOGICAL_AND and LOGICAL_OR of a bool input with one of shape ``other`` (broadcast),
    LOGICAL_NOT, and a REDUCE_ALL per (axes, keep_dims)."""
    n.dtype = "bool"
    a, _ = n.input(shape, name="logic_a")
    b, _ = n.input(other, name="logic_b")
    out = list(np.broadcast_shapes(tuple(shape), tuple(other)))
    n.op("LOGICAL_AND", [a, b], [n.act(out, {}, "and")])
    n.op("LOGICAL_OR", [a, b], [n.act(out, {}, "or")])
    n.op("LOGICAL_NOT", [a], [n.act(shape, {}, "not")])
    for k, (axes, keep) in enumerate(axes_cases):
        red = [1 if d in [x % len(shape) for x in axes] else s for d, s in enumerate(shape)]
        if not keep:
            red = [s for d, s in enumerate(shape) if d not in [x % len(shape) for x in axes]]
        n.op("REDUCE_ALL", [a, n.const(axes, name=f"all_axes{k}")], [n.act(red, {}, f"all{k}")], keep_dims=keep)


def l2_pools(n: Net, shape, cases) -> None:
    """One float32 L2_POOL_2D per case (filter_h, filter_w, stride_h, stride_w, padding, activation)."""
    from ..quant import padding_amount
    n.dtype = "float32"
    x, _ = n.input(shape, name="l2pool_x")
    for k, (fh, fw, sh, sw, pad, act) in enumerate(cases):
        oh, _ = padding_amount(pad, shape[1], fh, sh)
        ow, _ = padding_amount(pad, shape[2], fw, sw)
        n.op("L2_POOL_2D", [x], [n.act([shape[0], oh, ow, shape[3]], {}, f"l2pool{k}")], padding=pad,
             stride_h=sh, stride_w=sw, filter_height=fh, filter_width=fw, fused_activation_function=act)


def selects(n: Net, kind, dtypes, cases) -> None:
    """One SELECT or SELECT_V2 per case (cond shape, x shape, y shape) and dtype."""
    n.dtype = "float32"
    for dt in dtypes:
        n.dtype = dt
        q = n.q()
        for k, (sc, sx, sy) in enumerate(cases):
            c = n.b.tensor(list(sc), "bool", name=f"{kind.lower()}_c{k}_{dt}")
            n.inputs.append(c)
            x, _ = n.input(sx, q=(q["scale"], q["zero_point"]) if q else None, name=f"{kind.lower()}_x{k}_{dt}")
            y, _ = n.input(sy, q=(q["scale"], q["zero_point"]) if q else None, name=f"{kind.lower()}_y{k}_{dt}")
            out = sx if kind == "SELECT" else list(np.broadcast_shapes(tuple(sc), tuple(sx), tuple(sy)))
            n.op(kind, [c, x, y], [n.act(out, q, f"{kind.lower()}{k}_{dt}")])


def casts(n: Net, shape, pairs) -> None:
    """One CAST per (from, to) dtype pair, each on its own input."""
    n.dtype = "float32"
    for k, (src, dst) in enumerate(pairs):
        n.dtype = src
        x = n.b.tensor(list(shape), src, name=f"cast_x{k}_{src}")
        n.inputs.append(x)
        n.op("CAST", [x], [n.act(shape, {}, f"cast{k}_{src}_{dst}", dtype=dst)])


def dequantize_uint8(n: Net, shape, qparams) -> None:
    """One DEQUANTIZE uint8 -> float32 per (scale, zero point)."""
    n.dtype = "float32"
    for k, (s, z) in enumerate(qparams):
        x = n.b.tensor(list(shape), "uint8", scale=s, zero_point=z, name=f"deq_x{k}")
        n.inputs.append(x)
        n.op("DEQUANTIZE", [x], [n.act(shape, {}, f"deq{k}", dtype="float32")])


def topks(n: Net, shape, ks, dtypes) -> None:
    """One TOPK_V2 per k and dtype (values and int32 indices as outputs)."""
    n.dtype = "float32"
    for dt in dtypes:
        n.dtype = dt
        q = n.q()
        x = n.b.tensor(list(shape), dt, name=f"topk_x_{dt}", **q)
        n.inputs.append(x)
        for k in ks:
            out = [*shape[:-1], k]
            n.op("TOPK_V2", [x, n.const(np.int32(k), name=f"k{k}_{dt}")],
                 [n.act(out, q, f"top{k}_{dt}"), n.act(out, {}, f"idx{k}_{dt}", dtype="int32")])
