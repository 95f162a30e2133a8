"""DEPTH_TO_SPACE and SPACE_TO_DEPTH (NHWC, TFLite's DCR order), any type.

DEPTH_TO_SPACE: out[b, h*bs + dy, w*bs + dx, c] = in[b, h, w, (dy*bs + dx)*C_out + c];
SPACE_TO_DEPTH is its inverse. Both are a reshape-transpose-reshape, i.e. separable maps.
"""
from __future__ import annotations

from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..index_maps import index_array, maps_from_index
from . import register
from ._datamove import GatherMapOp, check_movable


class _Block(GatherMapOp):
    def read_options(self, opts):
        return dict(block_size=opts.BlockSize() if opts is not None else 0)

    def out_shape(self, g, o):
        raise NotImplementedError

    def check(self, g, o):
        self.expect_arity(o, (1, 1))
        check_movable(self, g, o, [o.inputs[0]])
        x = ir.tensor(g, o.inputs[0])
        if len(x.shape) != 4:
            raise self.fail(o, f"expects a 4-D input, got {list(x.shape)}", x.name)
        if o.attrs["block_size"] < 1:
            raise self.fail(o, f"block_size {o.attrs['block_size']} must be at least 1")
        self.expect_shape(g, o, o.outputs[0], self.out_shape(g, o))


@register
class DepthToSpace(_Block):
    kind = "DEPTH_TO_SPACE"
    options_class = tflite.DepthToSpaceOptions

    def out_shape(self, g, o):
        n, h, w, c = ir.tensor(g, o.inputs[0]).shape
        bs = o.attrs["block_size"]
        if c % (bs * bs):
            raise self.fail(o, f"depth {c} is not a multiple of block_size^2 = {bs * bs}")
        return (n, h * bs, w * bs, c // (bs * bs))

    def out_maps(self, g, o, k):
        n, h, w, c = ir.tensor(g, o.inputs[0]).shape
        bs = o.attrs["block_size"]
        idx = index_array((n, h, w, bs, bs, c // (bs * bs))).transpose(0, 1, 3, 2, 4, 5)
        return maps_from_index(idx.reshape(self.out_shape(g, o)))


@register
class SpaceToDepth(_Block):
    kind = "SPACE_TO_DEPTH"
    options_class = tflite.SpaceToDepthOptions

    def out_shape(self, g, o):
        n, h, w, c = ir.tensor(g, o.inputs[0]).shape
        bs = o.attrs["block_size"]
        if h % bs or w % bs:
            raise self.fail(o, f"height {h} and width {w} must be multiples of block_size {bs}")
        return (n, h // bs, w // bs, c * bs * bs)

    def out_maps(self, g, o, k):
        n, h, w, c = ir.tensor(g, o.inputs[0]).shape
        bs = o.attrs["block_size"]
        idx = index_array((n, h // bs, bs, w // bs, bs, c)).transpose(0, 1, 3, 2, 4, 5)
        return maps_from_index(idx.reshape(self.out_shape(g, o)))
