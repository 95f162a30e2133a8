"""BROADCAST_TO: the input broadcast to the constant ``shape`` (numpy.broadcast_to), any type.
A gather through separable compile-time maps (a broadcast dim is a map of zeros)."""
from __future__ import annotations

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..index_maps import index_array, maps_from_index
from . import register
from ._datamove import GatherMapOp, const_ints


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
        self.check_gather_of_input(g, o, lambda: self.out_index(g, o).shape)
