"""RESHAPE and SQUEEZE: the same bytes under another shape.

The ``alias_reshapes`` pass turns them into view edges, so they never reach codegen;
only the element counts are checked here.
"""
from __future__ import annotations

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

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

    def output_shapes(self, g, o):
        """A constant shape operand (one -1 takes the rest of the elements)."""
        if len(o.inputs) < 2 or o.inputs[1] is None or not ir.tensor(g, o.inputs[1]).is_const:
            return None
        dims = [int(d) for d in np.asarray(ir.tensor(g, o.inputs[1]).data).ravel()]
        known = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
        if dims.count(-1) == 1 and known:
            dims[dims.index(-1)] = ir.tensor(g, o.inputs[0]).size // known
        return [tuple(dims)]

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

    def read_options(self, opts):
        dims = opts.SqueezeDimsAsNumpy() if opts is not None and opts.SqueezeDimsLength() else []
        return dict(squeeze_dims=tuple(int(d) for d in np.asarray(dims).ravel()))

    def output_shapes(self, g, o):
        """The input's shape without the squeezed dims (without every 1 when none are named)."""
        x = ir.tensor(g, o.inputs[0]).shape
        named = {d % len(x) for d in o.attrs.get("squeeze_dims", ())} if x else set()
        return [tuple(d for k, d in enumerate(x) if not (k in named if named else d == 1))]

    def check(self, g, o):
        self.expect_arity(o, (1, 1))
        super().check(g, o)
