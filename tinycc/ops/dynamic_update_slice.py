"""DYNAMIC_UPDATE_SLICE: the operand with ``update`` written at ``start_indices`` (int32, may be
computed at run time; each clamped to [0, operand_dim - update_dim] as TFLite does), any type the
byte kernels move. ``tcc_dynamic_update_slice`` copies the operand, then the update's rows; when
the operand dies here the output takes its place (``overlap`` exactly 0) and only the update
is written: the fast path of a KV-cache or state update."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ir
from . import OpDef, register
from ._datamove import KERNEL, check_movable, operand, same_quant

MAX_RANK = 6


@dataclass(frozen=True, eq=False, kw_only=True)
class UpdateSliceParams(ir.Params):
    """tcc_dynamic_update_slice's descriptor: element size, rank, operand dims, update dims."""
    desc: list


def clamped_start(start, dims, udims) -> list[int]:
    return [int(min(max(int(s), 0), d - u)) for s, d, u in zip(start, dims, udims)]


@register
class DynamicUpdateSlice(OpDef):
    kind = "DYNAMIC_UPDATE_SLICE"
    kernel = KERNEL

    def check(self, g, o):
        self.expect_arity(o, (3, 3))
        check_movable(self, g, o, [o.inputs[0], o.inputs[1]])
        x, u, s = (ir.tensor(g, t) for t in o.inputs)
        if not same_quant(x, u) or not same_quant(x, ir.tensor(g, o.outputs[0])):
            raise self.fail(o, "operand, update and output quantization must be equal", u.name)
        if not 1 <= len(x.shape) <= MAX_RANK or len(u.shape) != len(x.shape):
            raise self.fail(o, f"operand {list(x.shape)} and update {list(u.shape)} must have one rank "
                               f"(1..{MAX_RANK})", u.name)
        if any(b > a for a, b in zip(x.shape, u.shape)):
            raise self.fail(o, f"update {list(u.shape)} is larger than the operand {list(x.shape)}", u.name)
        if s.dtype != "int32" or tuple(s.shape) != (len(x.shape),):
            raise self.fail(o, f"start_indices must be int32 of shape [{len(x.shape)}]", s.name)
        self.expect_shape(g, o, o.outputs[0], x.shape)

    def prepare(self, g, o):
        x, u = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        return UpdateSliceParams(desc=[ir.DTYPE_SIZE[x.dtype], len(x.shape), *x.shape, *u.shape])

    def overlap(self, g, o, slot):
        return ("exactly", 0) if slot == 0 else None

    def emit(self, g, o, ctx):
        desc = ctx.const_array(o, "desc", "int32_t", o.params.desc)
        x, u, s = (operand(ctx, o, t, k) for t, k in zip(o.inputs, ("operand", "update", "start")))
        ctx.call(o, f"tcc_dynamic_update_slice({desc}, {x}, {u}, {s}, {ctx.buf(o.outputs[0])});", self.kernel)

    def evaluate(self, g, o, inputs):
        x, u = np.array(inputs[0]), np.asarray(inputs[1])
        first = clamped_start(np.asarray(inputs[2]).ravel(), x.shape, u.shape)
        x[tuple(slice(f, f + n) for f, n in zip(first, u.shape))] = u
        return [x]
