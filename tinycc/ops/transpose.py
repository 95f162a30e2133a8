"""TRANSPOSE: out = in permuted by the constant ``perm`` (numpy.transpose semantics), any type."""
from __future__ import annotations

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..index_maps import index_array, maps_from_index
from . import register
from ._datamove import GatherMapOp, check_movable, const_ints


@register
class Transpose(GatherMapOp):
    kind = "TRANSPOSE"
    options_class = tflite.TransposeOptions

    def perm(self, g, o):
        x = ir.tensor(g, o.inputs[0])
        perm = [int(p) for p in const_ints(self, g, o, 1, "perm").ravel()]
        perm = [p + len(x.shape) if p < 0 else p for p in perm]
        if sorted(perm) != list(range(len(x.shape))):
            raise self.fail(o, f"perm {perm} is not a permutation of the {len(x.shape)} dimensions")
        return perm

    def out_maps(self, g, o, k):
        x = ir.tensor(g, o.inputs[0])
        return maps_from_index(np.transpose(index_array(x.shape), self.perm(g, o)))

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        check_movable(self, g, o, [o.inputs[0]])
        x = ir.tensor(g, o.inputs[0])
        self.expect_shape(g, o, o.outputs[0], [x.shape[p] for p in self.perm(g, o)])
