"""ROUND: float32 rounding to the nearest integer, halves to even (TFLite Micro round.cc,
reference_ops::Round / RoundToNearest). TFLite Micro has no int8 kernel: int8 is refused.

The kernel (runtime/kernels/tcc_round.c) reads element i before writing element i, so the
output may be computed in place; a constant input folds at compile time (numpy's rint rounds
halves to even too, bit for bit on every float32, -0.0, infinities and NaN included).
"""
from __future__ import annotations

import numpy as np

from .. import ir
from . import OpDef, register


@register
class Round(OpDef):
    kind = "ROUND"
    kernel = "tcc_round"

    def check(self, g, o):
        self.expect_arity(o, (1, 1))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if x.dtype != "float32" or y.dtype != "float32":
            raise self.fail(o, f"{x.dtype} is not supported (TFLite Micro has only a float32 kernel)", x.name)
        if tuple(x.shape) != tuple(y.shape):
            raise self.fail(o, f"input {list(x.shape)} and output {list(y.shape)} must have one shape", y.name)

    def evaluate(self, g, o, inputs):
        return [np.rint(np.asarray(inputs[0], np.float32))]

    def reads_min(self, g, o, slot):
        """Element i is read just before element i is written."""
        return np.arange(ir.tensor(g, o.outputs[0]).size, dtype=np.int64)

    def emit(self, g, o, ctx):
        n = ir.tensor(g, o.outputs[0]).size
        ctx.call(o, f"tcc_round_f32({ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {n});", self.kernel)
