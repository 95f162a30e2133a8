"""IF and WHILE: ops that run other subgraphs of the model, as TFLite Micro runs them.

Each subgraph they name (``subgraph_attrs``) is loaded by the frontend, compiled by the same
pass pipeline before the calling graph (``passes.compile_subgraphs``), with an arena plan of its
own, and emitted as a static C function ``NAME_subgraphK(arena, state)``
(``Emitter.subgraph``). The calling op's scratch buffer is that arena: the subgraph's tensors
live only while the op runs, and every subgraph the op calls shares it (they never run at the
same time). Nested calls work the same way, inside the subgraph's own arena.

Data moves by byte copies, as TFLite Micro's kernels do (``CopyOpInputsToSubgraphInputs`` and
friends), so quantization parameters need not agree, only types and byte sizes:
  IF     input 0 is a one-element bool; ``then`` runs if it is true, else ``else``: the op's
         inputs 1.. are copied into the branch's inputs, the branch runs, its outputs are
         copied into the op's outputs.
  WHILE  outputs = inputs; then, while ``cond(outputs)`` is true: outputs = ``body(outputs)``
         (each call gets copies: the condition's and the body's inputs are their own buffers).
"""
from __future__ import annotations

from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from . import OpDef, lookup, register
from ._datamove import KERNEL


def _subgraph(g, o: ir.Op, attr: str):
    k = o.attrs[attr]
    return k, g.graph["subgraphs"][k]


def _same_bytes(op: OpDef, o: ir.Op, g, ours, sub, theirs, what: str) -> None:
    """The op's tensors ``ours`` and the subgraph's ``theirs`` pair up: same count, types, sizes."""
    if len(ours) != len(theirs):
        raise op.fail(o, f"{what} has {len(theirs)} tensors, the operator passes {len(ours)}")
    for a, b in zip(ours, theirs):
        ta, tb = ir.tensor(g, a), ir.tensor(sub, b)
        if ta.dtype != tb.dtype or ta.nbytes != tb.nbytes:
            raise op.fail(o, f"{what} tensor {tb.name} is {tb.dtype} {list(tb.shape)}, the operator's "
                             f"{ta.dtype} {list(ta.shape)}", ta.name)


def _one_bool(op: OpDef, o: ir.Op, t: ir.Tensor, what: str) -> None:
    if t.dtype != "bool" or t.size != 1:
        raise op.fail(o, f"{what} must be a bool of one element, not {t.dtype} {list(t.shape)}", t.name)


def _subgraph_macs(sub) -> int:
    return sum(lookup(ir.op(sub, n).kind).macs(sub, ir.op(sub, n)) for n in sub.nodes if ir.is_op(sub, n))


class _Calls(OpDef):
    """What IF and WHILE share: the subgraphs' arena is the op's scratch; nothing folds."""
    kernel = KERNEL

    def subgraphs(self, g, o: ir.Op):
        return [_subgraph(g, o, a) for a in self.subgraph_attrs]

    def evaluate(self, g, o, inputs):
        return None

    def scratch_bytes(self, g, o):
        return max(max(sub.graph["plan"].size for _, sub in self.subgraphs(g, o)), 4)

    def copy(self, ctx, o: ir.Op, dst: str, src: str, nbytes: int, indent: str) -> None:
        ctx.call(o, f"{indent}tcc_copy({dst}, {src}, {nbytes});", self.kernel)

    def run(self, ctx, o: ir.Op, k: int, ins: list[str], outs: list[str] | None, indent: str,
            loop: bool = False) -> None:
        """Copy the C pointers ``ins`` into subgraph k's inputs, call it, copy its outputs into
        ``outs`` (None: leave them in its arena). Copies that cannot change a byte are left out:
        an input nothing reads; with ``loop`` (a WHILE body, ``ins`` = ``outs``), output j that is
        input j passed through (it already holds that value)."""
        base = ctx.scratch_offset(o)
        sub = ctx.subgraph(o, k)
        sg = sub.g
        ins_, outs_ = sg.graph["inputs"], sg.graph["outputs"]
        kept = [not (loop and j < len(ins_) and t == ins_[j]) for j, t in enumerate(outs_)]
        for src, t in zip(ins, ins_):
            if any(sg.successors(t)) or any(u == t for u, keep in zip(outs_, kept) if keep):
                self.copy(ctx, o, sub.inner(t, base), src, ir.tensor(sg, t).nbytes, indent)
        ctx.call(o, f"{indent}if ({sub.function}(arena + {base}, state) != 0) return -1;", None)
        for dst, t, keep in zip(outs or [], outs_, kept):
            if keep:
                self.copy(ctx, o, dst, sub.inner(t, base), ir.tensor(sg, t).nbytes, indent)


@register
class If(_Calls):
    kind = "IF"
    options_class = tflite.IfOptions
    subgraph_attrs = ("then_subgraph_index", "else_subgraph_index")

    def read_options(self, opts):
        return dict(then_subgraph_index=int(opts.ThenSubgraphIndex()) if opts else 0,
                    else_subgraph_index=int(opts.ElseSubgraphIndex()) if opts else 0)

    def check(self, g, o):
        if not o.inputs or None in o.inputs:
            raise self.fail(o, "expects a condition input and no absent inputs")
        _one_bool(self, o, ir.tensor(g, o.inputs[0]), "the condition (input 0)")
        for (k, sub), branch in zip(self.subgraphs(g, o), ("then", "else")):
            _same_bytes(self, o, g, o.inputs[1:], sub, sub.graph["inputs"], f"{branch} subgraph {k}'s input")
            _same_bytes(self, o, g, o.outputs, sub, sub.graph["outputs"], f"{branch} subgraph {k}'s output")

    def macs(self, g, o):
        return max(_subgraph_macs(sub) for _, sub in self.subgraphs(g, o))

    def emit(self, g, o, ctx):
        (k_then, _), (k_else, _) = self.subgraphs(g, o)
        ins, outs = [ctx.buf(t) for t in o.inputs[1:]], [ctx.buf(t) for t in o.outputs]
        ctx.call(o, f"if (({ctx.buf(o.inputs[0])})[0]) {{", None)
        self.run(ctx, o, k_then, ins, outs, "    ")
        ctx.call(o, "} else {", None)
        self.run(ctx, o, k_else, ins, outs, "    ")
        ctx.call(o, "}", None)


@register
class While(_Calls):
    kind = "WHILE"
    options_class = tflite.WhileOptions
    subgraph_attrs = ("cond_subgraph_index", "body_subgraph_index")

    def read_options(self, opts):
        return dict(cond_subgraph_index=int(opts.CondSubgraphIndex()) if opts else 0,
                    body_subgraph_index=int(opts.BodySubgraphIndex()) if opts else 0)

    def check(self, g, o):
        if None in o.inputs:
            raise self.fail(o, "absent inputs are not allowed")
        _same_bytes(self, o, g, o.inputs, g, o.outputs, "output")
        (kc, cond), (kb, body) = self.subgraphs(g, o)
        _same_bytes(self, o, g, o.inputs, cond, cond.graph["inputs"], f"cond subgraph {kc}'s input")
        if len(cond.graph["outputs"]) != 1:
            raise self.fail(o, f"cond subgraph {kc} must have one output, not {len(cond.graph['outputs'])}")
        _one_bool(self, o, ir.tensor(cond, cond.graph["outputs"][0]), f"cond subgraph {kc}'s output")
        _same_bytes(self, o, g, o.inputs, body, body.graph["inputs"], f"body subgraph {kb}'s input")
        _same_bytes(self, o, g, o.outputs, body, body.graph["outputs"], f"body subgraph {kb}'s output")

    def macs(self, g, o):
        """One evaluation of the condition and one of the body (the count of loops is data)."""
        return sum(_subgraph_macs(sub) for _, sub in self.subgraphs(g, o))

    def emit(self, g, o, ctx):
        (kc, _), (kb, _) = self.subgraphs(g, o)
        cond = ctx.subgraph(o, kc)
        outs = [ctx.buf(t) for t in o.outputs]
        for dst, src in zip(o.outputs, o.inputs):
            self.copy(ctx, o, ctx.buf(dst), ctx.buf(src), ir.tensor(g, src).nbytes, "")
        ctx.call(o, "for (;;) {", None)
        self.run(ctx, o, kc, outs, None, "    ")
        flag = cond.inner(cond.g.graph["outputs"][0], ctx.scratch_offset(o))
        ctx.call(o, f"    if (!({flag})[0]) break;", None)
        self.run(ctx, o, kb, outs, outs, "    ", loop=True)
        ctx.call(o, "}", None)
