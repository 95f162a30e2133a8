"""RESHAPE and SQUEEZE: the same bytes under another shape.

The ``alias_reshapes`` pass turns them into view edges, so they never reach codegen;
only the element counts are checked here.
"""
from __future__ import annotations

import tflite

from .. import ir
from . import OpDef, register


@register
class Reshape(OpDef):
    kind = "RESHAPE"
    options_class = tflite.ReshapeOptions
    is_view = True
    optional_inputs = frozenset({1})   # the shape operand: absent, or only its value matters
    unread_inputs = frozenset({1})

    def read_options(self, opts):
        return {}

    def check(self, g, o):
        self.expect_arity(o, (1, 2))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if x.size != y.size:
            raise self.fail(o, f"cannot reshape {list(x.shape)} ({x.size} elements) to {list(y.shape)}")
        if x.dtype != y.dtype:
            raise self.fail(o, f"input is {x.dtype}, output {y.dtype}")
        if x.quant != y.quant and x.dtype != "float32":
            raise self.fail(o, "input and output quantization differ")


@register
class Squeeze(Reshape):
    kind = "SQUEEZE"
    options_class = tflite.SqueezeOptions
    optional_inputs = unread_inputs = frozenset()

    def check(self, g, o):
        self.expect_arity(o, (1, 1))
        super().check(g, o)
