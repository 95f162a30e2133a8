"""BROADCAST_TO: the input broadcast to the constant ``shape`` (numpy.broadcast_to), any type.
A gather through separable compile-time maps (a broadcast dim is a map of zeros)."""
from __future__ import annotations

import numpy as np
import tflite

from .. import ir
from ..index_maps import index_array, maps_from_index
from . import register
from ._datamove import GatherMapOp, check_movable, const_ints, same_quant


@register
class BroadcastTo(GatherMapOp):
    kind = "BROADCAST_TO"
    options_class = tflite.BroadcastToOptions

    def out_index(self, g, o) -> np.ndarray:
        x = ir.tensor(g, o.inputs[0])
        shape = [int(d) for d in const_ints(self, g, o, 1, "shape").ravel()]
        try:
            return np.broadcast_to(index_array(x.shape), shape)
        except ValueError:
            raise self.fail(o, f"input {list(x.shape)} cannot be broadcast to {shape}", x.name) from None

    def out_maps(self, g, o, k):
        return maps_from_index(self.out_index(g, o))

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        check_movable(self, g, o, [o.inputs[0]])
        x = ir.tensor(g, o.inputs[0])
        if not same_quant(x, ir.tensor(g, o.outputs[0])):
            raise self.fail(o, "input and output quantization must be equal", x.name)
        self.expect_shape(g, o, o.outputs[0], self.out_index(g, o).shape)
