"""BROADCAST_ARGS: the broadcast shape of two shape vectors (numpy.broadcast_shapes), int32 or
int64. Shapes are static in tinycc, so both inputs are constants (SHAPE folds first) and the op
always folds at compile time (``evaluate``): no kernel."""
from __future__ import annotations

import numpy as np

from .. import ir
from . import OpDef, register
from ._datamove import const_ints


@register
class BroadcastArgs(OpDef):
    kind = "BROADCAST_ARGS"

    def shape(self, g, o) -> tuple[int, ...]:
        a, b = (const_ints(self, g, o, k, f"shape {k}") for k in (0, 1))
        if a.ndim != 1 or b.ndim != 1:
            raise self.fail(o, "shapes must be 1-D vectors")
        try:
            return np.broadcast_shapes(tuple(int(d) for d in a), tuple(int(d) for d in b))
        except ValueError:
            raise self.fail(o, f"shapes {a.tolist()} and {b.tolist()} do not broadcast") from None

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        y = ir.tensor(g, o.outputs[0])
        if y.dtype != ir.tensor(g, o.inputs[0]).dtype:
            raise self.fail(o, f"output type {y.dtype} differs from the inputs'", y.name)
        self.expect_shape(g, o, o.outputs[0], [len(self.shape(g, o))])

    def evaluate(self, g, o, inputs):
        return [np.asarray(self.shape(g, o), np.int64)]

    def emit(self, g, o, ctx):
        raise self.fail(o, "internal: BROADCAST_ARGS is always folded at compile time")
