"""BATCH_MATMUL: out[..., m, n] = sum_k lhs[..., m, k] * rhs[..., k, n], int8 and float32.

adj_x / adj_y read lhs / rhs transposed in their last two dims; batch dims (rank 2..5, so up
to 3) broadcast numpy-style. Both operands may be constants or activations. int8 is per tensor
(zero points allowed), with TFLite Micro's multiplier QuantizeMultiplier(lhs_scale * rhs_scale /
out_scale) in double (checked against the interpreter on exact-power-of-two ratios, where a
float product would round differently); no fused activation, the result is clamped to int8.
int16 (zero points 0): TFLite Micro sums in int64 and requantizes with the int64
MultiplyByQuantizedMultiplier (a multiplier below 2^7), clamped to int16.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from . import OpDef, register
from ._datamove import operand

BATCH_DIMS = 4


@dataclass(frozen=True, eq=False, kw_only=True)
class BatchMatmulParams(ir.Params):
    """What tcc_batch_matmul_params holds: batch dims and each operand's batch strides (in
    matrices, 0 where broadcast), m, n, k, element strides of both operands, int8 requantization."""
    bdims: list
    lhs_b: list
    rhs_b: list
    m: int
    n: int
    k: int
    lhs_sm: int
    lhs_sk: int
    rhs_sk: int
    rhs_sn: int
    mult: int = 0
    shift: int = 0
    offsets: tuple = (0, 0, 0)   # -lhs_zp, -rhs_zp, out_zp


def _arr(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


@register
class BatchMatMul(OpDef):
    kind = "BATCH_MATMUL"
    options_class = tflite.BatchMatMulOptions
    kernel = "tcc_batch_matmul"

    def read_options(self, opts):
        if opts is None:
            return dict(adj_x=False, adj_y=False)
        return dict(adj_x=bool(opts.AdjX()), adj_y=bool(opts.AdjY()))

    def geometry(self, g, o):
        a, b = ir.tensor(g, o.inputs[0]).shape, ir.tensor(g, o.inputs[1]).shape
        if not (2 <= len(a) <= 5 and 2 <= len(b) <= 5):
            raise self.fail(o, f"operands must have rank 2..5, got {list(a)} and {list(b)}")
        m, k = (a[-1], a[-2]) if o.attrs["adj_x"] else (a[-2], a[-1])
        k2, n = (b[-1], b[-2]) if o.attrs["adj_y"] else (b[-2], b[-1])
        if k != k2:
            raise self.fail(o, f"inner dimensions differ: {list(a)} x {list(b)} (adj_x={o.attrs['adj_x']}, "
                               f"adj_y={o.attrs['adj_y']})")
        try:
            batch = np.broadcast_shapes(tuple(a[:-2]), tuple(b[:-2]))
        except ValueError:
            raise self.fail(o, f"batch dimensions of {list(a)} and {list(b)} do not broadcast") from None
        return a, b, tuple(batch), m, n, k

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        dt = self.dtype_of(g, o, int16=True)
        r = ir.tensor(g, o.inputs[1])
        if r.dtype != dt:
            raise self.fail(o, f"operands are {dt} and {r.dtype}", r.name)
        if dt != "float32" and (r.quant is None or r.quant.per_channel):
            raise self.fail(o, f"{dt} operands need per-tensor quantization", r.name)
        if dt == "int16":
            if r.quant.zero_point[0] != 0:
                raise self.fail(o, "int16 activations need a zero point of 0", r.name)
            quant.check_requantization(self, o, [self.real_multiplier(g, o)], r.name, "lhs scale x rhs scale / "
                                       "output scale:", quant.MAX_REQUANT_SHIFT_64, "16x8")
        a, b, batch, m, n, k = self.geometry(g, o)
        self.expect_shape(g, o, o.outputs[0], batch + (m, n))

    def prepare(self, g, o):
        a, b, batch, m, n, k = self.geometry(g, o)
        nb = len(batch)

        def bstrides(shape):
            """Batch strides in matrices, 0 where the operand is broadcast."""
            shape = [1] * (nb - len(shape[:-2])) + list(shape[:-2])
            st, acc = [0] * nb, 1
            for d in reversed(range(nb)):
                st[d] = 0 if shape[d] == 1 else acc
                acc *= shape[d]
            return st

        la, lb = a[-2] * a[-1], b[-2] * b[-1]
        ls = [s * la for s in bstrides(a)]
        rs = [s * lb for s in bstrides(b)]
        pad = BATCH_DIMS - nb
        lhs_sm, lhs_sk = (1, m) if o.attrs["adj_x"] else (k, 1)
        rhs_sk, rhs_sn = (1, k) if o.attrs["adj_y"] else (n, 1)
        p = dict(bdims=[1] * pad + list(batch), lhs_b=[0] * pad + ls, rhs_b=[0] * pad + rs, m=m, n=n, k=k,
                 lhs_sm=lhs_sm, lhs_sk=lhs_sk, rhs_sk=rhs_sk, rhs_sn=rhs_sn)
        x, w, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        if y.dtype == "float32":
            return BatchMatmulParams(**p)
        mult, shift = quant.quantize_multiplier(self.real_multiplier(g, o))
        return BatchMatmulParams(**p, mult=mult, shift=shift,
                                 offsets=(-x.quant.zero_point[0], -w.quant.zero_point[0], y.quant.zero_point[0]))

    def real_multiplier(self, g, o) -> float:
        """lhs_scale * rhs_scale / out_scale (float32 scales, the rest in double)."""
        x, w, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        real = float(np.float32(x.quant.scale[0])) * float(np.float32(w.quant.scale[0]))
        return real / float(np.float32(y.quant.scale[0]))

    def emit(self, g, o, ctx):
        p = o.params
        fields = [("bdims", _arr(p.bdims)), ("lhs_bstrides", _arr(p.lhs_b)), ("rhs_bstrides", _arr(p.rhs_b)),
                  ("m", p.m), ("n", p.n), ("k", p.k), ("lhs_sm", p.lhs_sm), ("lhs_sk", p.lhs_sk),
                  ("rhs_sk", p.rhs_sk), ("rhs_sn", p.rhs_sn), ("lhs_offset", p.offsets[0]),
                  ("rhs_offset", p.offsets[1]), ("out_mult", p.mult), ("out_shift", p.shift),
                  ("out_zp", p.offsets[2])]
        params = ctx.struct(o, "tcc_batch_matmul_params", fields)
        fn = "tcc_batch_matmul_" + {"int8": "s8", "int16": "s16", "float32": "f32"}[ir.tensor(g, o.outputs[0]).dtype]
        lhs, rhs = operand(ctx, o, o.inputs[0], "lhs"), operand(ctx, o, o.inputs[1], "rhs")
        ctx.call(o, f"{fn}(&{params}, {lhs}, {rhs}, {ctx.buf(o.outputs[0])});", self.kernel)

    def macs(self, g, o):
        a, b, batch, m, n, k = self.geometry(g, o)
        return int(np.prod(batch, dtype=np.int64)) * m * n * k
