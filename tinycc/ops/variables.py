"""Resource variables: VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE and CALL_ONCE.

TFLite Micro keeps each variable (named by container and shared_name) in a persistent buffer;
CALL_ONCE runs an init subgraph on the first invoke, which assigns the initial values. tinycc
resolves all of it at compile time (``frontend._resolve_variables``): every variable becomes one
state tensor (``ir.Tensor.variable``, its ``init`` the values the init subgraph assigns, or the
zero point when none does), VAR_HANDLE and CALL_ONCE disappear, READ_VARIABLE reads the state
tensor and ASSIGN_VARIABLE writes into it. Both are byte copies: ``memcpy`` in the generated code.
The planner keeps the ops touching one variable in the model's order (``plan_arena``).
"""
from __future__ import annotations

from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from . import OpDef, register


@register
class VarHandle(OpDef):
    kind = "VAR_HANDLE"
    options_class = tflite.VarHandleOptions
    variable_role = "handle"

    def read_options(self, opts):
        def text(b):
            return None if b is None else b.decode(errors="replace")
        return dict(container=text(opts.Container()) if opts else None,
                    shared_name=text(opts.SharedName()) if opts else "")

    def check(self, g, o):
        raise self.fail(o, "resource handle left unresolved")   # the frontend removes every handle


@register
class CallOnce(OpDef):
    kind = "CALL_ONCE"
    options_class = tflite.CallOnceOptions
    writes_nothing = True
    variable_role = "call_once"

    def read_options(self, opts):
        return dict(init_subgraph_index=int(opts.InitSubgraphIndex()) if opts else 0)

    def check(self, g, o):
        raise self.fail(o, "CALL_ONCE left unresolved")          # the frontend folds it into state


class _Copy(OpDef):
    """A byte copy between a state tensor and an activation of the same type and shape."""
    state_inputs = frozenset({0})
    src_dst: tuple[str, str]   # (source, destination): "in0"/"in1"/"out0"

    def _tensors(self, o):
        slots = {"in0": lambda: o.inputs[0], "in1": lambda: o.inputs[1], "out0": lambda: o.outputs[0]}
        return tuple(slots[s]() for s in self.src_dst)

    def check(self, g, o):
        src, dst = (ir.tensor(g, t) for t in self._tensors(o))
        if src.dtype != dst.dtype or src.size != dst.size:
            raise self.fail(o, f"variable is {dst.dtype} {list(dst.shape)}, the value {src.dtype} {list(src.shape)}",
                            src.name)

    def emit(self, g, o, ctx):
        src, dst = self._tensors(o)
        ctx.call(o, f"memcpy({ctx.buf(dst)}, {ctx.buf(src)}, {ir.tensor(g, src).nbytes});", None)


@register
class ReadVariable(_Copy):
    kind = "READ_VARIABLE"
    variable_role = "read"
    src_dst = ("in0", "out0")


@register
class AssignVariable(_Copy):
    kind = "ASSIGN_VARIABLE"
    writes_nothing = True
    variable_role = "assign"
    src_dst = ("in1", "in0")
