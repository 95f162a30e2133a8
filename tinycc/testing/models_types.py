"""One single-op model per (op, tensor type): the cases behind tests/data/tflm_types.json.

``CASES[kind](dtype)`` builds a model holding one ``kind`` op whose data input (and, for ops that
only move or compare values, data output) has ``dtype``; other inputs (axes, shapes, indices) are
int32 constants. The shapes are small and fixed; the quantization of int8/int16/uint8 tensors is
what the converter writes for the op (the output's fixed scale for LOGISTIC, TANH, SOFTMAX,
LOG_SOFTMAX, L2_NORMALIZATION; the input's for the ops that move values; int16 symmetric).

``scripts/make_tflm_types.py`` runs every case in TFLite Micro (and TFLite) and records which
types each accepts; ``tests/test_builtins_types.py`` checks that tinycc compiles every one of
them. The convolution family (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV,
BATCH_MATMUL, SVDF, UNIDIRECTIONAL_SEQUENCE_LSTM), the control-flow and variable ops, the signal
library and the custom ops have their own type tests and are not cases here.
"""
from __future__ import annotations

import numpy as np

from .models_datamove import OPTIONS_TABLE, OpBuilder

OPTIONS_TABLE.update({"LEAKY_RELU": "LeakyReluOptions", "SUB": "SubOptions", "DIV": "DivOptions",
                      "L2_POOL_2D": "Pool2DOptions", "REDUCE_ALL": "ReducerOptions",
                      "REDUCE_PROD": "ReducerOptions", "CAST": "CastOptions", "GELU": "GeluOptions"})

DTYPES = ("float32", "int8", "int16", "int32", "int64", "uint8", "bool")
QUANT = {"int8": (0.05, -3), "int16": (0.002, 0), "uint8": (0.05, 125)}
# int8/int16 outputs whose quantization TFLite Micro fixes, per op
FIXED_Q = {
    "LOGISTIC": {"int8": (1 / 256, -128), "int16": (1 / 32768, 0)},
    "TANH": {"int8": (1 / 128, 0), "int16": (1 / 32768, 0)},
    "SOFTMAX": {"int8": (1 / 256, -128), "int16": (1 / 32768, 0)},
    "LOG_SOFTMAX": {"int8": (16 / 256, 127)},
    "L2_NORMALIZATION": {"int8": (1 / 128, 0)},
}
X = (2, 3, 4)


class TypeNet:
    """A one-op model under construction, its tensors of one data type ``dt``."""

    def __init__(self, dt: str):
        self.dt, self.b = dt, OpBuilder("tinycc type-probe model")
        self.inputs: list[int] = []
        self.outputs: list[int] = []

    def q(self, dt=None, q=None) -> dict:
        dt = dt or self.dt
        if dt not in QUANT:
            return {}
        s, z = q or QUANT[dt]
        return dict(scale=float(np.float32(s)), zero_point=int(z))

    def input(self, shape=X, dt=None, q=None, name="x") -> int:
        t = self.b.tensor(list(shape), dt or self.dt, name=name, **self.q(dt, q))
        self.inputs.append(t)
        return t

    def out(self, shape=X, dt=None, q=None, name="y") -> int:
        t = self.b.tensor(list(shape), dt or self.dt, name=name, **self.q(dt, q))
        self.outputs.append(t)
        return t

    def const(self, data, dt="int32", name="c") -> int:
        data = np.asarray(data)
        return self.b.tensor(list(data.shape), dt, data=data.astype(dt), name=name, **self.q(dt))

    def build(self) -> bytes:
        return self.b.build(self.inputs, self.outputs)


def _unary(kind, **opts):
    def build(dt):
        n = TypeNet(dt)
        q = FIXED_Q.get(kind, {}).get(dt, (0.07, 5) if dt == "int8" else None)
        n.b.op(kind, [n.input()], [n.out(q=q)], **opts)
        return n.build()
    return build


def _binary(kind, b_shape=X, same_q=False, **opts):
    def build(dt):
        n = TypeNet(dt)
        a = n.input(name="a")
        b = n.input(b_shape, q=None if same_q else ((0.03, 7) if dt == "int8" else None), name="b")
        n.b.op(kind, [a, b], [n.out(q=None if same_q else ((0.09, -10) if dt == "int8" else None))], **opts)
        return n.build()
    return build


def _compare(kind):
    def build(dt):
        n = TypeNet(dt)
        n.b.op(kind, [n.input(name="a"), n.input(name="b")], [n.out(dt="bool")])
        return n.build()
    return build


def _move(kind, in_shape, out_shape, consts=(), const_first=False, **opts):
    """An op that moves values: output of the input's type and quantization."""
    def build(dt):
        n = TypeNet(dt)
        x = n.input(in_shape)
        cs = [n.const(v, name=f"c{k}") for k, v in enumerate(consts)]
        n.b.op(kind, cs + [x] if const_first else [x] + cs, [n.out(out_shape)], **opts)
        return n.build()
    return build


def _reduce(kind, out_dt=None):
    def build(dt):
        n = TypeNet(dt)
        n.b.op(kind, [n.input(), n.const([1], name="axes")], [n.out((2, 1, 4), dt=out_dt)], keep_dims=True)
        return n.build()
    return build


def _arg(kind):
    def build(dt):
        n = TypeNet(dt)
        n.b.op(kind, [n.input(), n.const([2], name="axis")], [n.out((2, 3), dt="int32")], output_type="int32")
        return n.build()
    return build


def _pool(kind, **extra):
    def build(dt):
        n = TypeNet(dt)
        n.b.op(kind, [n.input((1, 4, 4, 2))], [n.out((1, 2, 2, 2))], padding="VALID", stride_w=2, stride_h=2,
               **extra)
        return n.build()
    return build


def _multi(kind, n_in, n_out, in_shape, out_shape, const=None, **opts):
    def build(dt):
        n = TypeNet(dt)
        xs = [n.input(in_shape, name=f"x{k}") for k in range(n_in)]
        if const is not None:
            xs = [n.const(const, name="axis")] + xs
        n.b.op(kind, xs, [n.out(out_shape, name=f"y{k}") for k in range(n_out)], **opts)
        return n.build()
    return build


def _select(kind):
    def build(dt):
        n = TypeNet(dt)
        c = n.input(dt="bool", name="c")
        n.b.op(kind, [c, n.input(name="a"), n.input(name="b")], [n.out()])
        return n.build()
    return build


def _gather(dt):
    n = TypeNet(dt)
    n.b.op("GATHER", [n.input(), n.const([2, 0, 1, 2], name="idx")], [n.out((2, 4, 4))], axis=1, batch_dims=0)
    return n.build()


def _gather_nd(dt):
    n = TypeNet(dt)
    n.b.op("GATHER_ND", [n.input(), n.const([[1, 2], [0, 0]], name="idx")], [n.out((2, 4))])
    return n.build()


def _dynamic_update_slice(dt):
    n = TypeNet(dt)
    n.b.op("DYNAMIC_UPDATE_SLICE", [n.input(), n.input((1, 2, 2), name="u"), n.const([1, 0, 1], name="at")],
           [n.out()])
    return n.build()


def _embedding_lookup(dt):
    n = TypeNet(dt)
    value = n.b.tensor([5, 4], dt, data=(np.arange(20) % 7).reshape(5, 4).astype(dt), name="table", **n.q())
    n.b.op("EMBEDDING_LOOKUP", [n.input((3,), dt="int32", name="ids"), value], [n.out((3, 4))])
    return n.build()


def _fill(dt):
    n = TypeNet(dt)
    n.b.op("FILL", [n.const([2, 3], name="dims"), n.input((), name="value")], [n.out((2, 3))])
    return n.build()


def _shape(dt):
    n = TypeNet(dt)
    n.b.op("SHAPE", [n.input()], [n.out((3,), dt="int32")], out_type="int32")
    return n.build()


def _cumsum(dt):
    n = TypeNet(dt)
    n.b.op("CUMSUM", [n.input(), n.const(1, name="axis")], [n.out()], exclusive=False, reverse=False)
    return n.build()


def _topk(dt):
    n = TypeNet(dt)
    n.b.op("TOPK_V2", [n.input(), n.const(2, name="k")], [n.out((2, 3, 2)), n.out((2, 3, 2), dt="int32", name="i")])
    return n.build()


def _broadcast_args(dt):
    n = TypeNet(dt)
    n.b.op("BROADCAST_ARGS", [n.input((3,), name="s0"), n.input((2,), name="s1")], [n.out((3,))])
    return n.build()


def _resize(kind):
    def build(dt):
        n = TypeNet(dt)
        n.b.op(kind, [n.input((1, 2, 2, 3)), n.const([4, 4], name="size")], [n.out((1, 4, 4, 3))],
               align_corners=False, half_pixel_centers=False)
        return n.build()
    return build


def _padv2(dt):
    n = TypeNet(dt)
    n.b.op("PADV2", [n.input(), n.const([[0, 1], [1, 0], [0, 2]], name="pads"),
                     n.const(np.zeros((), dt), dt=dt, name="value")], [n.out((3, 4, 6))])
    return n.build()


CASES = {
    **{k: _unary(k) for k in ("ABS", "NEG", "CEIL", "FLOOR", "ROUND", "SQRT", "RSQRT", "SQUARE", "EXP", "LOG",
                              "SIN", "COS", "RELU", "RELU6", "RELU_N1_TO_1", "TANH", "LOGISTIC", "HARD_SWISH",
                              "ELU", "ZEROS_LIKE", "L2_NORMALIZATION", "LOG_SOFTMAX", "LOGICAL_NOT")},
    "LEAKY_RELU": _unary("LEAKY_RELU", alpha=0.2),
    "SOFTMAX": _unary("SOFTMAX", beta=1.0),
    "ADD": _binary("ADD"),
    "SUB": _binary("SUB", fused_activation_function="NONE"),
    "MUL": _binary("MUL"),
    "DIV": _binary("DIV", fused_activation_function="NONE"),
    **{k: _binary(k) for k in ("SQUARED_DIFFERENCE", "FLOOR_DIV", "FLOOR_MOD", "LOGICAL_AND", "LOGICAL_OR")},
    **{k: _binary(k, same_q=True) for k in ("MAXIMUM", "MINIMUM")},
    "PRELU": _binary("PRELU", b_shape=(4,)),
    "ADD_N": _multi("ADD_N", 3, 1, X, X),
    **{k: _compare(k) for k in ("EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL")},
    "RESHAPE": _move("RESHAPE", X, (6, 4), [[6, 4]]),
    "EXPAND_DIMS": _move("EXPAND_DIMS", X, (2, 1, 3, 4), [1]),
    "SQUEEZE": _move("SQUEEZE", (2, 1, 4), (2, 4), squeeze_dims=[1]),
    "TRANSPOSE": _move("TRANSPOSE", X, (4, 2, 3), [[2, 0, 1]]),
    "SLICE": _move("SLICE", X, (1, 2, 3), [[1, 0, 1], [1, 2, 3]]),
    "STRIDED_SLICE": _move("STRIDED_SLICE", X, (2, 2, 2), [[0, 1, 0], [2, 3, 4], [1, 1, 2]],
                           begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0),
    "PAD": _move("PAD", X, (3, 4, 6), [[[0, 1], [1, 0], [0, 2]]]),
    "PADV2": _padv2,
    "MIRROR_PAD": _move("MIRROR_PAD", X, (2, 5, 4), [[[0, 0], [1, 1], [0, 0]]], mode="REFLECT"),
    "TILE": _move("TILE", X, (2, 6, 4), [[1, 2, 1]]),
    "BROADCAST_TO": _move("BROADCAST_TO", (3, 1), (2, 3, 4), [[2, 3, 4]]),
    "REVERSE_V2": _move("REVERSE_V2", X, X, [[1]]),
    "DEPTH_TO_SPACE": _move("DEPTH_TO_SPACE", (1, 2, 2, 4), (1, 4, 4, 1), block_size=2),
    "SPACE_TO_DEPTH": _move("SPACE_TO_DEPTH", (1, 4, 4, 1), (1, 2, 2, 4), block_size=2),
    "BATCH_TO_SPACE_ND": _move("BATCH_TO_SPACE_ND", (4, 2, 2, 1), (1, 4, 4, 1), [[2, 2], [[0, 0], [0, 0]]]),
    "SPACE_TO_BATCH_ND": _move("SPACE_TO_BATCH_ND", (1, 4, 4, 1), (4, 2, 2, 1), [[2, 2], [[0, 0], [0, 0]]]),
    "CONCATENATION": _multi("CONCATENATION", 2, 1, X, (2, 6, 4), axis=1, fused_activation_function="NONE"),
    "PACK": _multi("PACK", 2, 1, X, (2,) + X, axis=0, values_count=2),
    "UNPACK": _multi("UNPACK", 1, 2, X, (3, 4), axis=0, num=2),
    "SPLIT": _multi("SPLIT", 1, 2, X, (2, 3, 2), const=2, num_splits=2),
    "SPLIT_V": _move("SPLIT_V", X, (2, 3, 4), [[4], 2], num_splits=1),
    "GATHER": _gather,
    "GATHER_ND": _gather_nd,
    "DYNAMIC_UPDATE_SLICE": _dynamic_update_slice,
    "EMBEDDING_LOOKUP": _embedding_lookup,
    "SELECT": _select("SELECT"),
    "SELECT_V2": _select("SELECT_V2"),
    "FILL": _fill,
    "SHAPE": _shape,
    "CUMSUM": _cumsum,
    "TOPK_V2": _topk,
    "BROADCAST_ARGS": _broadcast_args,
    **{k: _reduce(k) for k in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ALL")},
    "ARG_MAX": _arg("ARG_MAX"),
    "ARG_MIN": _arg("ARG_MIN"),
    "AVERAGE_POOL_2D": _pool("AVERAGE_POOL_2D", filter_w=2, filter_h=2),
    "MAX_POOL_2D": _pool("MAX_POOL_2D", filter_w=2, filter_h=2),
    "L2_POOL_2D": _pool("L2_POOL_2D", filter_width=2, filter_height=2, fused_activation_function="NONE"),
    "RESIZE_BILINEAR": _resize("RESIZE_BILINEAR"),
    "RESIZE_NEAREST_NEIGHBOR": _resize("RESIZE_NEAREST_NEIGHBOR"),
}


def conversion(kind: str, src: str, dst: str) -> bytes:
    """One CAST, QUANTIZE or DEQUANTIZE from ``src`` to ``dst`` (QUANTIZE to a type of another
    quantization: the converter's requantize)."""
    n = TypeNet(src)
    x = n.input(q=QUANT.get(src) if kind != "CAST" else None)
    if kind == "CAST":
        x = n.b.tensor(list(X), src, name="x")
        n.inputs[-1] = x
        y = n.b.tensor(list(X), dst, name="y")
        n.outputs.append(y)
        n.b.op("CAST", [x], [y])
    else:
        n.b.op(kind, [x], [n.out(dt=dst, q=(0.04, 1 if dst in ("int8", "uint8") else 0) if dst in QUANT else None)])
    return n.build()


CONVERSIONS = {
    "CAST": [(a, b) for a in DTYPES for b in DTYPES if a != b],
    "QUANTIZE": [(a, b) for a in ("float32", "int8", "int16", "uint8", "int32") for b in ("int8", "int16", "uint8", "int32")
                 if a != "int32"],
    "DEQUANTIZE": [(a, "float32") for a in ("int8", "int16", "uint8")],
}
