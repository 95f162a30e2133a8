"""CUMSUM: running sums along the constant ``axis`` (options ``exclusive``, ``reverse``), float32
(TFLite Micro's int8 CUMSUM, which rescales like ADD, is not supported yet: refused naming the
op). ``tcc_cumsum_f32`` accumulates in TFLite's order; it runs in place."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tflite

from .. import ir
from . import OpDef, register
from ._datamove import const_ints


@dataclass(frozen=True, eq=False, kw_only=True)
class CumsumParams(ir.Params):
    """The line geometry [outer, axis, inner] of tcc_cumsum_f32."""
    outer: int
    axis: int
    inner: int


@register
class Cumsum(OpDef):
    kind = "CUMSUM"
    options_class = tflite.CumsumOptions
    kernel = "tcc_cumsum"

    def read_options(self, opts):
        return dict(exclusive=bool(opts.Exclusive()) if opts is not None else False,
                    reverse=bool(opts.Reverse()) if opts is not None else False)

    def axis(self, g, o) -> int:
        x = ir.tensor(g, o.inputs[0])
        a = const_ints(self, g, o, 1, "axis").ravel()
        if a.size != 1 or not -len(x.shape) <= int(a[0]) < len(x.shape):
            raise self.fail(o, f"axis {a.tolist()} is not one dimension of a {len(x.shape)}-D input")
        return int(a[0]) % len(x.shape)

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if x.dtype != "float32" or y.dtype != "float32":
            raise self.fail(o, f"{x.dtype} -> {y.dtype} is not supported (float32)", x.name)
        self.axis(g, o)
        self.expect_shape(g, o, o.outputs[0], x.shape)

    def prepare(self, g, o):
        x, a = ir.tensor(g, o.inputs[0]), self.axis(g, o)
        prod = lambda s: int(np.prod(s, dtype=np.int64))
        return CumsumParams(outer=prod(x.shape[:a]), axis=x.shape[a], inner=prod(x.shape[a + 1:]))

    def overlap(self, g, o, slot):
        return ("exactly", 0) if slot == 0 else None

    def emit(self, g, o, ctx):
        p = o.params
        ctx.call(o, f"tcc_cumsum_f32({ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {p.outer}, {p.axis}, "
                    f"{p.inner}, {int(o.attrs['exclusive'])}, {int(o.attrs['reverse'])});", self.kernel)

    def evaluate(self, g, o, inputs):
        p = self.prepare(g, o)
        x = np.asarray(inputs[0], np.float32).reshape(p.outer, p.axis, p.inner)
        out = np.zeros_like(x)
        acc = np.zeros((p.outer, p.inner), np.float32)
        order = range(p.axis - 1, -1, -1) if o.attrs["reverse"] else range(p.axis)
        for k in order:
            if o.attrs["exclusive"]:
                out[:, k], acc = acc, acc + x[:, k]
            else:
                acc = acc + x[:, k]
                out[:, k] = acc
        return [out.reshape(ir.tensor(g, o.outputs[0]).shape)]
