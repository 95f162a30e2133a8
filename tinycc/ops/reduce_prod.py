"""REDUCE_PROD: the product over the axes (TFLite's; TFLite Micro has none). Models use it for
shape arithmetic (Keras' LayerNormalization and attention layers multiply dims of a SHAPE):
shapes are static in tinycc, so an int32 or int64 input is a constant once SHAPE folds, and the op
always folds at compile time (``evaluate``, wrapping like TFLite's integer product): no kernel.
A run-time input (a product of activations) is refused."""
from __future__ import annotations

import numpy as np

from .. import ir
from . import register
from ._datamove import const_ints
from .reduce import Reduction


@register
class ReduceProd(Reduction):
    kind = "REDUCE_PROD"

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if x.dtype not in ("int32", "int64") or not x.is_const:
            raise self.fail(o, f"only a constant int32 or int64 input (shape arithmetic) is supported, not a "
                               f"{'constant' if x.is_const else 'run-time'} {x.dtype} one", x.name)
        if y.dtype != x.dtype:
            raise self.fail(o, f"output type {y.dtype} differs from the input's", y.name)
        self.expect_shape(g, o, o.outputs[0], self.out_shape(g, o))

    def evaluate(self, g, o, inputs):
        x = const_ints(self, g, o, 0, "input")
        p = np.prod(x, axis=tuple(self.axes(g, o)), keepdims=bool(o.attrs.get("keep_dims")), dtype=np.int64)
        bits = 8 * ir.DTYPE_SIZE[ir.tensor(g, o.inputs[0]).dtype]
        wrapped = (p.astype(object) + 2 ** (bits - 1)) % 2 ** bits - 2 ** (bits - 1)
        return [np.asarray(wrapped, np.int64)]

    def prepare(self, g, o):
        return ir.Params()

    def emit(self, g, o, ctx):
        raise self.fail(o, "internal: REDUCE_PROD is always folded at compile time")
