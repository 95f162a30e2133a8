"""GATHER: slices of input 0 along ``axis`` picked by int32 indices, with ``batch_dims``.

out[b, o, k, i] = in[b, o, idx[b, k], i] over (batch, outer, coords, inner) as TFLite Micro
walks it. Indices may be computed at run time, so ``tcc_gather_idx`` checks each against
[0, axis size) before it reads anything and makes the model's invoke fail on the first one
outside (TFLite Micro's Eval fails the same way): a caller-filled index can never read outside
the input. Constant indices are checked at compile time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from . import OpDef, register
from ._datamove import KERNEL, check_movable, operand


@dataclass(frozen=True, eq=False, kw_only=True)
class GatherParams(ir.Params):
    """The int32 descriptor tcc_gather_idx reads: element size, batches, outer, axis size,
    coordinates, inner."""
    desc: list


@register
class Gather(OpDef):
    kind = "GATHER"
    options_class = tflite.GatherOptions
    kernel = KERNEL

    def read_options(self, opts):
        return dict(axis=opts.Axis() if opts is not None else 0,
                    batch_dims=opts.BatchDims() if opts is not None else 0)

    def geometry(self, g, o):
        x, idx = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        rank, irank = len(x.shape), len(idx.shape)
        axis, bd = o.attrs["axis"], o.attrs["batch_dims"]
        axis = axis + rank if axis < 0 else axis
        bd = bd + irank if bd < 0 else bd
        if not 0 <= axis < rank:
            raise self.fail(o, f"axis {o.attrs['axis']} is out of range for rank {rank}")
        if not (0 <= bd <= axis and bd < rank and bd <= irank):
            raise self.fail(o, f"batch_dims {o.attrs['batch_dims']} is out of range")
        if tuple(x.shape[:bd]) != tuple(idx.shape[:bd]):
            raise self.fail(o, "batch dimensions of input and indices differ")
        prod = lambda s: int(np.prod(s, dtype=np.int64))
        out_shape = tuple(x.shape[:axis]) + tuple(idx.shape[bd:]) + tuple(x.shape[axis + 1:])
        return dict(batches=prod(x.shape[:bd]), outer=prod(x.shape[bd:axis]), axis_size=x.shape[axis],
                    coords=prod(idx.shape[bd:]), inner=prod(x.shape[axis + 1:]), out_shape=out_shape)

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        dt = check_movable(self, g, o, [o.inputs[0]])
        if dt not in ("int8", "float32", "int32", "int16", "int64", "bool", "uint8"):
            raise self.fail(o, f"type {dt} is not supported")
        idx = ir.tensor(g, o.inputs[1])
        if idx.dtype != "int32":
            raise self.fail(o, f"indices must be int32 (as TFLite Micro requires), not {idx.dtype}", idx.name)
        geo = self.geometry(g, o)
        self.expect_shape(g, o, o.outputs[0], geo["out_shape"])
        if idx.is_const and idx.size and (idx.data.min() < 0 or idx.data.max() >= geo["axis_size"]):
            raise self.fail(o, f"constant index outside [0, {geo['axis_size']})", idx.name)

    def prepare(self, g, o):
        geo = self.geometry(g, o)
        es = ir.DTYPE_SIZE[ir.tensor(g, o.inputs[0]).dtype]
        return GatherParams(desc=[es, geo["batches"], geo["outer"], geo["axis_size"], geo["coords"], geo["inner"]])

    def emit(self, g, o, ctx):
        desc = ctx.const_array(o, "desc", "int32_t", o.params.desc)
        x, idx = operand(ctx, o, o.inputs[0], "data"), operand(ctx, o, o.inputs[1], "indices")
        y = ctx.buf(o.outputs[0])
        ctx.call(o, f"if (tcc_gather_idx({desc}, {x}, {idx}, {y}) != 0) {{ return -1; }}", self.kernel)

    def evaluate(self, g, o, inputs):
        geo = self.geometry(g, o)
        x = np.asarray(inputs[0]).reshape(geo["batches"], geo["outer"], geo["axis_size"], geo["inner"])
        idx = np.asarray(inputs[1]).reshape(geo["batches"], geo["coords"])
        out = np.stack([x[b][:, idx[b], :] for b in range(geo["batches"])])
        return [out.reshape(geo["out_shape"])]
