"""CIRCULAR_BUFFER: the custom op TFLite Micro registers for strided streaming models.

Each invoke shifts the output buffer (num_slots frames of depth bytes, int8) by one frame, the
oldest frame dropped, and writes the input frame at its end. The buffer is state (``internal_state``:
the frames and an invoke counter), kept from one invoke to the next as TFLite Micro keeps it in
its arena. Every ``period`` invokes the op lets the model run on; on the others:
  * with one output, TFLite Micro's kernel returns kTfLiteAbort and its interpreter ends the
    invoke there (the ops after it do not run, the model's outputs keep their values): tinycc's
    NAME_invoke() returns NAME_NOT_READY (a positive code) at the same point;
  * with a second output (bool, one element), the op writes false there instead and the model runs
    on (true on the invokes where a period is complete).
A batch (dim 0) above 1 is TFLite Micro's too: its kernel shifts and writes the first batch's
frames only (the input's first frame); tinycc zeros the other batches of the output, where TFLite
Micro leaves its arena's bytes (``reference_unset``: not compared).
The period is the custom option ``cycles_max`` (TFLite Micro reads the flexbuffer map's first
value, in key order). When it is missing or <= 0, TFLite Micro's Prepare derives it from the
output shape: 1 for 5, 13 or 25 slots, or for the fifth such buffer prepared (counted since the last
one that matched) whose output is [.., .., 2, 96]; 2 otherwise. TFLite Micro counts those buffers
over every interpreter of the process; tinycc counts them in the model, as a fresh process does.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .. import ir
from ..errors import TinyccError
from . import OpDef, flexbuffer_map, register

SHAPE_PERIOD_ONE = (5, 13, 25)      # output slot counts TFLite Micro's Prepare gives period 1
COUNTED_SHAPE = (2, 96)             # output dims 2 and 3 of the fifth counted buffer (period 1)


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class CircularBufferParams(ir.Params):
    slots: int      # frames kept (output dim 1)
    depth: int      # bytes of one frame (output dims 2 * 3)
    period: int     # invokes per run of the rest of the model


def periods(g) -> dict[int, int]:
    """The period of every CIRCULAR_BUFFER of ``g`` by op index, as TFLite Micro's Prepare sets it
    (see the module docstring), the buffers prepared in model order."""
    out, count = {}, 0
    for n in ir.ops_in_order(g):
        o = ir.op(g, n)
        if o.kind != CircularBuffer.kind:
            continue
        cycles_max = o.attrs["cycles_max"]
        if cycles_max > 0:
            out[o.index] = cycles_max
            continue
        count += 1
        y = ir.tensor(g, o.outputs[0]).shape
        if y[1] in SHAPE_PERIOD_ONE or (count == 5 and tuple(y[2:]) == COUNTED_SHAPE):
            out[o.index], count = 1, 0
        else:
            out[o.index] = 2
    return out


@register
class CircularBuffer(OpDef):
    kind = "CIRCULAR_BUFFER"
    custom_code = "CIRCULAR_BUFFER"
    kernel = "tcc_circular_buffer"
    state_inputs = frozenset({1, 2})

    def read_options(self, opts):
        m = flexbuffer_map(opts)
        first = m[min(m)] if m else 0       # TFLite Micro reads element 0 of the (sorted) map
        if isinstance(first, float) or not isinstance(first, (int, bool)):
            raise TinyccError(f"custom option '{min(m)}' (read as cycles_max) must be an integer")
        return {"cycles_max": int(first)}

    def sizes(self, g, o) -> tuple[int, int]:
        """(slots, depth) after checking the shapes TFLite Micro's Prepare checks."""
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if len(x.shape) != 4 or len(y.shape) != 4:
            raise self.fail(o, f"input {list(x.shape)} and output {list(y.shape)} must be 4-D")
        if x.shape[0] != y.shape[0] or x.shape[1] != 1 or x.shape[2:] != y.shape[2:]:
            raise self.fail(o, f"input {list(x.shape)} must be [B, 1, W, C] and the output [B, slots, W, C]",
                            y.name)
        return y.shape[1], y.shape[2] * y.shape[3]

    def internal_state(self, g, o):
        if len(o.inputs) != 1 or len(o.outputs) not in (1, 2):
            raise self.fail(o, "expects 1 input and 1 or 2 outputs")
        slots, depth = self.sizes(g, o)
        return [ir.Tensor(f"{o.name}_frames", (slots * depth,), "int8", variable=True),
                ir.Tensor(f"{o.name}_count", (1,), "int32", variable=True)]

    def check(self, g, o):
        self.sizes(g, o)
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if x.dtype != "int8" or y.dtype != "int8":
            raise self.fail(o, f"only int8 is supported (as in TFLite Micro), not {x.dtype} -> {y.dtype}", y.name)
        if len(o.outputs) == 2:
            v = ir.tensor(g, o.outputs[1])
            if v.dtype != "bool" or v.size != 1:
                raise self.fail(o, "output 1 (valid) must be one bool", v.name)

    def ends_invoke_early(self, o: ir.Op) -> bool:
        return len(o.outputs) == 1

    def reference_unset(self, g, o, outputs, run):
        """The frames' slots no run has written yet (the first ``slots - 1 - run``), and every
        batch after the first (TFLite Micro's kernel shifts and writes batch 0 only): TFLite Micro
        shows its arena's bytes there, tinycc zeros."""
        slots, depth = self.sizes(g, o)
        y = ir.tensor(g, o.outputs[0])
        unset = np.ones(y.size, bool)
        unset[:slots * depth] = np.repeat(np.arange(slots) < slots - 1 - run, depth)
        return [unset.reshape(y.shape)] + [None] * (len(o.outputs) - 1)

    def prepare(self, g, o):
        slots, depth = self.sizes(g, o)
        return CircularBufferParams(slots=slots, depth=depth, period=periods(g)[o.index])

    def evaluate(self, g, o, inputs):
        return None

    def emit(self, g, o, ctx):
        p = o.params
        x, frames, count = (ctx.buf(t) for t in o.inputs)
        valid = ctx.buf(o.outputs[1]) if len(o.outputs) == 2 else "NULL"
        size = ir.tensor(g, o.outputs[0]).size
        call = (f"tcc_circular_buffer_s8({x}, {frames}, {count}, {p.slots}, {p.depth}, {p.period}, "
                f"{ctx.buf(o.outputs[0])}, {size}, {valid})")
        ctx.use("CIRCULAR_BUFFER_S8")
        if self.ends_invoke_early(o):
            ctx.call(o, f"if ({call} != 0) return {ctx.name}_NOT_READY;", self.kernel)
        else:
            ctx.call(o, f"(void){call};", self.kernel)
