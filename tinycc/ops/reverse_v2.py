"""REVERSE_V2: the input with the constant ``axis`` dims reversed (numpy.flip), any type TFLite
Micro takes. A gather through separable compile-time maps (a reversed dim is a map with step -1)."""
from __future__ import annotations

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..index_maps import index_array, maps_from_index
from . import register
from ._datamove import GatherMapOp, const_ints


@register
class ReverseV2(GatherMapOp):
    kind = "REVERSE_V2"
    options_class = tflite.ReverseV2Options
    any_quant = True    # TFLite Micro's reverse copies bytes; the converter gives the reversed
    #                     output of a bidirectional LSTM its consumer's scale

    def axes(self, g, o) -> list[int]:
        x = ir.tensor(g, o.inputs[0])
        axes = [int(a) for a in const_ints(self, g, o, 1, "axis").ravel()]
        axes = [a + len(x.shape) if a < 0 else a for a in axes]
        if any(not 0 <= a < len(x.shape) for a in axes) or len(set(axes)) != len(axes):
            raise self.fail(o, f"axis {axes} must be distinct dimensions of a {len(x.shape)}-D input")
        return axes

    def out_maps(self, g, o, k):
        x = ir.tensor(g, o.inputs[0])
        return maps_from_index(np.flip(index_array(x.shape), self.axes(g, o)))

    def check(self, g, o):
        def out_shape():
            self.axes(g, o)
            return ir.tensor(g, o.inputs[0]).shape
        self.check_gather_of_input(g, o, out_shape)
