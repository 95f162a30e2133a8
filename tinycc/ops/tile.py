"""TILE: the input repeated ``multiples[i]`` times along each dim (numpy.tile), any type.
TFLite Micro has no TILE: the reference is TFLite's kernel (SSD anchor generation in vendor
detectors). A gather through separable compile-time maps (out index i reads i mod size)."""
from __future__ import annotations

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..index_maps import index_array, maps_from_index
from . import register
from ._datamove import GatherMapOp, const_ints


@register
class Tile(GatherMapOp):
    kind = "TILE"
    options_class = tflite.TileOptions

    def multiples(self, g, o) -> list[int]:
        x = ir.tensor(g, o.inputs[0])
        mult = [int(v) for v in const_ints(self, g, o, 1, "multiples").ravel()]
        if len(mult) != len(x.shape) or min(mult, default=1) < 1:
            raise self.fail(o, f"multiples {mult} must be {len(x.shape)} values >= 1")
        return mult

    def out_maps(self, g, o, k):
        x = ir.tensor(g, o.inputs[0])
        return maps_from_index(np.tile(index_array(x.shape), self.multiples(g, o)))

    def check(self, g, o):
        x = ir.tensor(g, o.inputs[0])
        self.check_gather_of_input(g, o, lambda: [d * m for d, m in zip(x.shape, self.multiples(g, o))])
