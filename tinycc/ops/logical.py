"""LOGICAL_AND, LOGICAL_OR (with numpy broadcasting, up to 6-D) and LOGICAL_NOT on bool tensors
(TFLite Micro logical.cc and logical_not.cc: bool only, one byte per element, 0 or 1).

The kernels (tcc_binary.c) read element k's inputs just before writing out[k], so the output
may be computed over an input that dies here (``reads_min``); constant inputs fold.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from . import OpDef, register
from .elementwise_binary import MAX_DIMS, bcast_fields, broadcast_reads


class _Logical(OpDef):
    kernel = "tcc_binary"
    fn = ""              # C name: tcc_<fn>_b8
    numpy = None         # the numpy function of the op

    def check(self, g, o):
        arity = 1 if self.kind == "LOGICAL_NOT" else 2
        self.expect_arity(o, (arity, arity))
        ts = [ir.tensor(g, t) for t in (*o.inputs, o.outputs[0])]
        for t in ts:
            if t.dtype != "bool":
                raise self.fail(o, f"type {t.dtype} is not supported (bool only, as TFLite Micro)", t.name)
        try:
            shape = np.broadcast_shapes(*(t.shape for t in ts[:-1]))
        except ValueError:
            raise self.fail(o, "shapes " + " and ".join(str(list(t.shape)) for t in ts[:-1]) + " do not broadcast") from None
        if tuple(shape) != tuple(ts[-1].shape) or len(shape) > MAX_DIMS:
            raise self.fail(o, f"output shape {list(ts[-1].shape)} must be the broadcast shape {list(shape)}, "
                               f"at most {MAX_DIMS}-D", ts[-1].name)

    def reads_min(self, g, o, slot):
        return broadcast_reads(g, o, slot)

    def evaluate(self, g, o, inputs):
        return [self.numpy(*(np.asarray(v).astype(bool) for v in inputs))]

    def emit(self, g, o, ctx):
        y = ir.tensor(g, o.outputs[0])
        ins = [ir.tensor(g, t) for t in o.inputs]
        if len(ins) == 1:
            ctx.call(o, f"tcc_{self.fn}_b8({ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {y.size});", self.kernel)
            return
        params = ctx.struct(o, "tcc_bcast", bcast_fields(y.shape, *(t.shape for t in ins)))
        args = ", ".join(ctx.buf(t) for t in o.inputs)
        ctx.call(o, f"tcc_{self.fn}_b8(&{params}, {args}, {ctx.buf(o.outputs[0])});", self.kernel)


@register
class LogicalAnd(_Logical):
    kind = "LOGICAL_AND"
    fn = "logical_and"
    numpy = np.logical_and


@register
class LogicalOr(_Logical):
    kind = "LOGICAL_OR"
    fn = "logical_or"
    numpy = np.logical_or


@register
class LogicalNot(_Logical):
    kind = "LOGICAL_NOT"
    fn = "logical_not"
    numpy = np.logical_not
