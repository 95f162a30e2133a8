"""BATCH_TO_SPACE_ND, the inverse of SPACE_TO_BATCH_ND: the batch [b_1*..*b_M*N] is split into
block offsets and n, the offsets interleave into the M spatial dims, then ``crops`` are cut:
out[n, j_1, .., r] = in[(o_1*b_2*..*b_M + ...)*N + n, i_1, .., r] with j + crop_begin = i*b + o.
int8 and float32 (TFLite Micro); uint8, int16, int32, int64 and bool (TFLite's); 3-D or 4-D.

A gather through compile-time index maps: separable over (n, i_1, o_1, .., i_M, o_M, r) without
crops, one index table when crops cut inside blocks.
"""
from __future__ import annotations

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..index_maps import index_array, maps_or_table
from . import register
from ._datamove import GatherMapOp
from .space_to_batch_nd import TFLM_TYPES, block_args


@register
class BatchToSpaceND(GatherMapOp):
    kind = "BATCH_TO_SPACE_ND"
    options_class = tflite.BatchToSpaceNDOptions

    def out_index(self, g, o):
        """(index array of the output, the uncropped interleaved view)."""
        x = ir.tensor(g, o.inputs[0])
        block, crops = block_args(self, g, o, "crops")
        m, nb = len(block), int(np.prod(block))
        if x.shape[0] % nb:
            raise self.fail(o, f"batch {x.shape[0]} is not a multiple of the block size product {nb}", x.name)
        n = x.shape[0] // nb
        idx = index_array(x.shape).reshape([*block, n, *x.shape[1:]])
        # (o_1..o_M, n, i_1..i_M, r) -> (n, i_1, o_1, .., i_M, o_M, r)
        perm = [m] + [a for i in range(m) for a in (m + 1 + i, i)] + [2 * m + 1]
        view = idx.transpose(perm)
        full = view.reshape([n, *[x.shape[1 + i] * b for i, b in enumerate(block)], x.shape[-1]])
        for i in range(m):
            lo, hi = int(crops[i][0]), full.shape[1 + i] - int(crops[i][1])
            if lo >= hi:
                raise self.fail(o, f"crops {crops.tolist()} leave nothing of dimension {1 + i}")
            full = np.take(full, np.arange(lo, hi), axis=1 + i)
        return full, (view if not crops.any() else full)

    def out_maps(self, g, o, k):
        out, view = self.out_index(g, o)
        return maps_or_table(out, view)

    def check(self, g, o):
        self.expect_shape(g, o, o.outputs[0], self.out_index(g, o)[0].shape)

    def tflm_reference_reliable(self, g, o):
        """TFLite Micro has int8 and float32 kernels only: TFLite checks the other types."""
        return ir.tensor(g, o.inputs[0]).dtype in TFLM_TYPES
