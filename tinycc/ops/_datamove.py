"""Shared base class and helpers of the data-movement ops (not an op: the registry skips modules
named ``_*.py``). ``GatherMapOp``: an op whose outputs are separable gathers of one input, through
the index maps of ``tinycc.index_maps`` and ``tcc_gather_map`` (``runtime/kernels/tcc_datamove.c``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import ir
from ..index_maps import dense_from_maps, encode_plan
from . import NO_READ, OpDef

KERNEL = "tcc_datamove"


@dataclass(frozen=True, eq=False, kw_only=True)
class MapParams(ir.Params):
    """A gather-map op: the int32 plan of each output (``encode_plan``), ``has_pad``: some map
    has padding (the kernel then takes a pad value)."""
    plans: list
    has_pad: bool
# dtypes the byte-moving kernels accept (the kernel only knows element sizes)
MOVABLE = ("int8", "uint8", "int16", "int32", "int64", "float32", "bool")


def check_movable(op: OpDef, g, o: ir.Op, data_inputs, outputs=None) -> str:
    """All data inputs and the outputs share one dtype the byte kernels can move; return it."""
    outputs = list(o.outputs) if outputs is None else outputs
    tids = [t for t in data_inputs] + outputs
    dt = ir.tensor(g, tids[0]).dtype
    for t in tids:
        tt = ir.tensor(g, t)
        if tt.dtype != dt:
            raise op.fail(o, f"mixed types {dt} and {tt.dtype}", tt.name)
        if tt.dtype not in MOVABLE:
            raise op.fail(o, f"type {tt.dtype} is not supported", tt.name)
        if tt.dtype == "int8" and (tt.quant is None or tt.quant.per_channel):
            raise op.fail(o, "int8 tensors need per-tensor quantization", tt.name)
    return dt


def same_quant(a: ir.Tensor, b: ir.Tensor) -> bool:
    return a.dtype != "int8" or same_scale_and_zero_point(a, b)


def same_scale_and_zero_point(a: ir.Tensor, b: ir.Tensor) -> bool:
    """Per-tensor quantizations equal (the scales as float32, as TFLite compares them)."""
    return (float(np.float32(a.quant.scale[0])) == float(np.float32(b.quant.scale[0]))
            and a.quant.zero_point[0] == b.quant.zero_point[0])


def require_same_quant(op: OpDef, g, o: ir.Op) -> None:
    """A copy op's output must be quantized like its input 0 (the bytes move unchanged)."""
    x = ir.tensor(g, o.inputs[0])
    if not same_quant(x, ir.tensor(g, o.outputs[0])):
        raise op.fail(o, "input and output quantization must be equal", x.name)


def const_ints(op: OpDef, g, o: ir.Op, slot: int, what: str) -> np.ndarray:
    """The data of constant int32/int64 input ``slot`` (shapes and sizes must be known at compile time)."""
    if slot >= len(o.inputs) or o.inputs[slot] is None:
        raise op.fail(o, f"{what} input is missing")
    t = ir.tensor(g, o.inputs[slot])
    if not t.is_const:
        raise op.fail(o, f"{what} must be a constant tensor", t.name)
    if t.dtype not in ("int32", "int64"):
        raise op.fail(o, f"{what} must be int32 or int64, not {t.dtype}", t.name)
    return np.asarray(t.data, dtype=np.int64)


class GatherMapOp(OpDef):
    """An op whose every output is a separable gather of input 0 (pad value where a map is -1).

    Subclasses implement ``out_maps(g, o, k)``: the per-dim maps of output ``k`` (its shape).
    ``fill(g, o, ctx)`` gives the C pointer to the pad value when the maps have padding.
    """
    kernel = KERNEL
    data_slot = 0   # the input the outputs are gathered from
    any_quant = False   # TFLite Micro's kernel moves the bytes whatever the output's quantization

    def out_maps(self, g, o, k: int) -> list[np.ndarray]:
        raise NotImplementedError

    def fill(self, g, o, ctx) -> str:
        return "NULL"

    def check_gather_of_input(self, g, o, out_shape) -> None:
        """The checks of a gather with a constant second input (TILE, REVERSE_V2, BROADCAST_TO):
        two inputs, a type the byte kernels move, the input's quantization, and the output shape
        ``out_shape()`` (which checks the constant input)."""
        self.expect_arity(o, (2, 2))
        check_movable(self, g, o, [o.inputs[0]])
        if not self.any_quant:
            require_same_quant(self, g, o)
        self.expect_shape(g, o, o.outputs[0], out_shape())

    def prepare(self, g, o):
        es = ir.DTYPE_SIZE[ir.tensor(g, o.inputs[self.data_slot]).dtype]
        plans = []
        for k in range(len(o.outputs)):
            maps = self.out_maps(g, o, k)
            plans.append(encode_plan(maps, es, f"{o.kind} output {k}"))
        return MapParams(plans=plans, has_pad=any(bool((p[8:] < 0).any()) for p in plans))

    def emit(self, g, o, ctx):
        src = operand(ctx, o, o.inputs[self.data_slot], "data")
        fill = self.fill(g, o, ctx) if o.params.has_pad else "NULL"
        for k, out in enumerate(o.outputs):
            plan = ctx.const_array(o, f"plan{k}", "int32_t", o.params.plans[k])
            ctx.call(o, f"tcc_gather_map({plan}, {src}, {ctx.buf(out)}, {fill});", self.kernel)

    def reads_min(self, g, o, slot):
        """tcc_gather_map writes the output in row-major order and reads, for each element, the
        one input element its maps name (none for padding)."""
        if slot != self.data_slot or len(o.outputs) != 1:
            return None
        idx = dense_from_maps(self.out_maps(g, o, 0)).ravel()
        return np.where(idx < 0, NO_READ, idx)

    def fill_value(self, g, o, inputs):
        """The pad value for ``evaluate`` (None: no padding or unknown)."""
        return None

    def evaluate(self, g, o, inputs: list[np.ndarray]) -> list[np.ndarray] | None:
        """Outputs for constant inputs (for a constant-folding pass); None when it cannot tell."""
        x = np.asarray(inputs[self.data_slot]).ravel()
        outs = []
        for k, t in enumerate(o.outputs):
            idx = dense_from_maps(self.out_maps(g, o, k))
            out = x[np.maximum(idx, 0)] if x.size else np.zeros(idx.shape, x.dtype)
            if (idx < 0).any():
                v = self.fill_value(g, o, inputs)
                if v is None:
                    return None
                out = np.where(idx < 0, np.asarray(v, x.dtype), out)
            outs.append(out.reshape(ir.tensor(g, t).shape))
        return outs


def operand(ctx, o: ir.Op, tid: str, label: str) -> str:
    """C pointer to an op's input: an op-local constant array for constants, else its arena place.

    (Constants get op-local names because ``Emitter.buf`` decides whether a shared constant was
    already declared by a substring test, which confuses ``..._t1`` with ``..._t10``.)
    """
    t = ir.tensor(ctx.g, tid)
    if t.is_const:
        return ctx.const_array(o, label, ir.C_TYPE[t.dtype], t.data)
    return ctx.buf(tid)
