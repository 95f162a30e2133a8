"""SPACE_TO_BATCH_ND: pad the M spatial dims of [N, s_1..s_M, rest] with zeros (int8: the output
zero point, as TFLite pads: the float model's 0.0), cut each into blocks of block_shape[i] and move the block
offsets into the batch: out[(o_1*b_2*..*b_M + ...)*N + n, j_1, .., j_M, r] =
padded[n, j_1*b_1 + o_1, .., j_M*b_M + o_M, r]. int8 and float32 (TFLite Micro); uint8, int16,
int32, int64 and bool (TFLite's, checked against it; quantized types pad with the zero point); 3-D
or 4-D.

A gather through a compile-time index map: padding mixes the block offset and the spatial index,
so a padded case is one index table (an int32 per element); without padding the maps are
separable (the output batch split into block offsets and n).

TFLite Micro (space_to_batch_nd.cc) never sets SpaceToBatchParams.output_offset in the persistent
buffer it allocates, so its pad value (int8 and float32 alike) is whatever the arena held: padded
cases are checked against TFLite (``tflm_reference_reliable``).
"""
from __future__ import annotations

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..index_maps import index_array, maps_or_table
from . import register
from ._datamove import GatherMapOp, check_movable, const_ints, require_same_quant

TFLM_TYPES = ("int8", "float32")   # what TFLite Micro's kernels take; TFLite checks the other types


def block_args(op, g, o, second: str) -> tuple[list[int], np.ndarray]:
    """block_shape (M entries >= 1) and the [M, 2] paddings / crops (>= 0) of a 3-D or 4-D input."""
    op.expect_arity(o, (3, 3))
    x = ir.tensor(g, o.inputs[0])
    check_movable(op, g, o, [o.inputs[0]])
    require_same_quant(op, g, o)
    if len(x.shape) not in (3, 4):
        raise op.fail(o, f"expects a 3-D or 4-D input, got {list(x.shape)}", x.name)
    block = [int(b) for b in const_ints(op, g, o, 1, "block_shape").ravel()]
    pads = const_ints(op, g, o, 2, second)
    m = len(x.shape) - 2
    if len(block) != m or pads.shape != (m, 2):
        raise op.fail(o, f"block_shape {block} and {second} {pads.tolist()} must cover the {m} spatial "
                         f"dimension(s)")
    if min(block) < 1 or pads.min() < 0:
        raise op.fail(o, f"block_shape {block} must be >= 1 and {second} {pads.tolist()} >= 0")
    return block, pads


@register
class SpaceToBatchND(GatherMapOp):
    kind = "SPACE_TO_BATCH_ND"
    options_class = tflite.SpaceToBatchNDOptions

    def out_index(self, g, o):
        """(index array of the output, its view with the batch split into block offsets and n)."""
        x = ir.tensor(g, o.inputs[0])
        block, pads = block_args(self, g, o, "paddings")
        m = len(block)
        idx = np.pad(index_array(x.shape), [(0, 0), *[tuple(p) for p in pads], (0, 0)], constant_values=-1)
        padded = idx.shape
        for i, b in enumerate(block):
            if padded[1 + i] % b:
                raise self.fail(o, f"padded dimension {1 + i} of size {padded[1 + i]} is not a multiple of "
                                   f"block size {b}")
        split = [padded[0]]
        for i, b in enumerate(block):
            split += [padded[1 + i] // b, b]
        split.append(padded[-1])
        view = idx.reshape(split).transpose([2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)]
                                            + [len(split) - 1])
        out = view.reshape([int(np.prod(block)) * padded[0], *[padded[1 + i] // b for i, b in enumerate(block)],
                            padded[-1]])
        return out, view

    def out_maps(self, g, o, k):
        out, view = self.out_index(g, o)
        return maps_or_table(out, view)

    def check(self, g, o):
        self.expect_shape(g, o, o.outputs[0], self.out_index(g, o)[0].shape)

    def fill_value(self, g, o, inputs):
        """The output zero point of a quantized type (TFLite's output_offset), else 0."""
        y = ir.tensor(g, o.outputs[0])
        return y.quant.zero_point[0] if y.quant is not None and y.dtype in ("int8", "uint8", "int16") else 0

    def fill(self, g, o, ctx):
        y = ir.tensor(g, o.outputs[0])
        return ctx.const_array(o, "pad_value", ir.C_TYPE[y.dtype], [self.fill_value(g, o, [])])

    def tflm_reference_reliable(self, g, o):
        """TFLite Micro's pad value is uninitialised memory (see the module docstring), and it has
        int8 and float32 kernels only."""
        return not block_args(self, g, o, "paddings")[1].any() and ir.tensor(g, o.inputs[0]).dtype in TFLM_TYPES
