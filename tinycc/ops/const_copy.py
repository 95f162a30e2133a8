"""TINYCC_COPY: an internal op (not a TFLite builtin) that copies a constant into a model output.

``fold_constants`` evaluates at compile time every op whose inputs are constant. A model output
computed that way is still an arena buffer the application reads after ``invoke``, so the pass
writes it with this op: one ``tcc_copy`` from the constant in flash.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from . import NO_READ, OpDef, register
from ._datamove import KERNEL

KIND = "TINYCC_COPY"


@register
class ConstCopy(OpDef):
    kind = KIND
    kernel = KERNEL

    def check(self, g, o):
        self.expect_arity(o, (1, 1))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if not x.is_const or x.dtype != y.dtype or x.size != y.size:
            raise self.fail(o, "copies a constant of the output's type and size", y.name)

    def evaluate(self, g, o, inputs):
        return [np.asarray(inputs[0]).reshape(ir.tensor(g, o.outputs[0]).shape)]

    def reads_min(self, g, o, slot):
        return np.full(ir.tensor(g, o.outputs[0]).size, NO_READ, dtype=np.int64)

    def emit(self, g, o, ctx):
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        src = ctx.const_array(o, "value", ir.C_TYPE[x.dtype], x.data)
        ctx.call(o, f"tcc_copy({ctx.buf(o.outputs[0])}, {src}, {y.nbytes});", self.kernel)
