"""GATHER_ND: out[i.., r..] = in[idx[i.., 0], .., idx[i.., D-1], r..], int32 indices (TFLite
Micro's). Indices may be computed at run time: ``tcc_gather_nd`` checks each row's flat position
as TFLite Micro does and makes the model's invoke fail at the first one outside the input
(nothing is read). Constant indices are checked at compile time and the op folds with a constant
input."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from . import OpDef, register
from ._datamove import KERNEL, check_movable, operand


@dataclass(frozen=True, eq=False, kw_only=True)
class GatherNdParams(ir.Params):
    """tcc_gather_nd's descriptor: element size, slices, depth, slice, total, strides."""
    desc: list


@register
class GatherNd(OpDef):
    kind = "GATHER_ND"
    options_class = tflite.GatherNdOptions
    kernel = KERNEL

    def geometry(self, g, o):
        x, idx = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        depth = idx.shape[-1] if idx.shape else 0
        if not idx.shape or not 1 <= depth <= len(x.shape):
            raise self.fail(o, f"indices {list(idx.shape)} must end in a depth 1..{len(x.shape)}", idx.name)
        slice_shape = tuple(x.shape[depth:])
        slice_size = int(np.prod(slice_shape, dtype=np.int64))
        strides = [int(np.prod(x.shape[d + 1:depth], dtype=np.int64)) * slice_size for d in range(depth)]
        slices = int(np.prod(idx.shape[:-1], dtype=np.int64))
        return dict(out_shape=tuple(idx.shape[:-1]) + slice_shape, depth=depth, slice=slice_size,
                    strides=strides, slices=slices, total=x.size)

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        check_movable(self, g, o, [o.inputs[0]])
        idx = ir.tensor(g, o.inputs[1])
        if idx.dtype != "int32":
            raise self.fail(o, f"indices must be int32, not {idx.dtype}", idx.name)
        geo = self.geometry(g, o)
        self.expect_shape(g, o, o.outputs[0], geo["out_shape"])
        if idx.is_const and idx.size:
            pos = np.asarray(idx.data, np.int64).reshape(-1, geo["depth"]) @ np.asarray(geo["strides"], np.int64)
            if pos.min() < 0 or pos.max() + geo["slice"] > geo["total"]:
                raise self.fail(o, "constant index outside the input", idx.name)

    def prepare(self, g, o):
        geo = self.geometry(g, o)
        es = ir.DTYPE_SIZE[ir.tensor(g, o.inputs[0]).dtype]
        return GatherNdParams(desc=[es, geo["slices"], geo["depth"], geo["slice"], geo["total"], *geo["strides"]])

    def emit(self, g, o, ctx):
        desc = ctx.const_array(o, "desc", "int32_t", o.params.desc)
        x, idx = operand(ctx, o, o.inputs[0], "data"), operand(ctx, o, o.inputs[1], "indices")
        ctx.call(o, f"if (tcc_gather_nd({desc}, {x}, {idx}, {ctx.buf(o.outputs[0])}) != 0) {{ return -1; }}",
                 self.kernel)

    def evaluate(self, g, o, inputs):
        geo = self.geometry(g, o)
        x = np.asarray(inputs[0]).reshape(-1)
        pos = np.asarray(inputs[1], np.int64).reshape(-1, geo["depth"]) @ np.asarray(geo["strides"], np.int64)
        rows = [x[p:p + geo["slice"]] for p in pos]
        out = np.concatenate(rows) if rows else x[:0]
        return [out.reshape(geo["out_shape"])]
