"""The memory report's data: what each op costs and where every buffer lives, from the plan and
the emitter codegen uses (``build_report``). Codegen writes it into NAME.h's comment block;
``tinycc.report`` renders it as text, JSON and HTML.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

import networkx as nx

from . import ir, ops, variants


@dataclass
class BufferRow:
    name: str            # short label: "op3 CONV_2D out", "scratch op3", or a model input's name
    tensor: str          # the model's tensor name ("" for scratch)
    kind: str            # "tensor" or "scratch"
    shape: str
    offset: int
    size: int
    first: int
    last: int


@dataclass
class StateRow:
    """One state buffer (``ir.Tensor.variable``): in the state region, kept between invokes."""
    tensor: str          # the model's tensor name
    dtype: str
    shape: str
    offset: int          # in the state region
    size: int
    initial: int | None  # the byte every element starts from (TFLite Micro: the int8 zero point, else
    #                      0), or None: the values the model's init subgraph assigns
    used_by: str         # "op4 SVDF", ...


@dataclass
class OpRow:
    step: int
    index: int           # operator index in the model
    kind: str
    inputs: list[str]    # "shape dtype" of non-constant inputs
    outputs: list[str]
    macs: int
    weight_bytes: int    # constants this op emits into flash
    live_bytes: int      # arena bytes occupied while it runs (union of its live buffers)
    offsets: list[str]   # "name@offset" of its inputs, outputs and scratch
    calls: list[str] = field(default_factory=list)   # kernel functions its code calls (tcc_...)
    code_bytes: int | None = None     # code of those functions not already counted at an earlier op
    instructions: int | None = None   # measured in QEMU by tinycc bench (report.attach_bench)
    cycles: int | None = None         # estimated cycles, when the bench gives an estimate
    weights: str = ""                 # how its weights are stored: "int8", "int4", "palette4x2" (tinycc/
    #                                   compress.py), "arm_conv layout" (a fast kernel's); "" without weights
    model_weight_bytes: int = 0       # its weights' bytes in the model file
    int8_weight_bytes: int = 0        # ... as int8 (or float32) values
    stored_weight_bytes: int = 0      # ... as tinycc stores them
    decode_cycles: int | None = None  # estimated Cortex-M4 cycles its encoding adds to one run
    #                                   (negative: saves; ``decode_cycles``), None: not estimated


@dataclass
class Report:
    model: str
    name: str
    target: str
    arena_bytes: int
    lower_bound: int     # tensor-level: most tensor bytes live at once
    weight_bytes: int
    macs: int
    strategy: str
    ops: list[OpRow] = field(default_factory=list)
    buffers: list[BufferRow] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    kernels: list[str] = field(default_factory=list)
    state_bytes: int = 0                   # the state region (persistent between invokes)
    state: list[StateRow] = field(default_factory=list)
    model_constant_bytes: int = 0          # the model's own constants, as stored in the .tflite
    flash_budget: int = 0                  # --flash-budget (all generated code and data)
    code_bytes: int | None = None          # .text of the generated code, when measured
    stack_bytes: int | None = None         # worst-case stack of NAME_invoke, when measured
    bench: str | None = None               # where the per-op instructions/cycles come from
    optimize: str = ""                     # the build's --optimize mode
    measured_on: str | None = None         # the core code and stack were measured for

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def occupied(buffers) -> int:
    """Bytes covered by the union of the buffers' [offset, offset + size) intervals."""
    total, reach = 0, 0
    for b in sorted(buffers, key=lambda b: b.offset):
        start, end = max(b.offset, reach), b.offset + b.size
        if end > start:
            total += end - start
        reach = max(reach, end)
    return total


def shape_str(t: ir.Tensor) -> str:
    return "x".join(map(str, t.shape)) or "scalar"


def state_initial_byte(t: ir.Tensor) -> int | None:
    """The byte a state tensor starts from and returns to on reset, as TFLite Micro fills it: the
    zero point of an int8 tensor, 0 otherwise; None when the model gives initial values
    (``ir.Tensor.init``)."""
    if t.init is not None:
        return None
    return (t.quant.zero_point[0] & 0xFF) if t.dtype == "int8" and t.quant is not None else 0


def weight_columns(g: nx.DiGraph, o: ir.Op, arrays: dict[str, int]) -> dict:
    """OpRow's weight fields of an op whose kernels may read compressed weights
    (``OpDef.compressed_slot``): the model's bytes, int8 bytes, what tinycc stores and how."""
    slot = ops.lookup(o.kind).compressed_slot
    if slot is None or len(o.inputs) <= slot or o.inputs[slot] is None or not ir.tensor(g, o.inputs[slot]).is_const:
        return {}
    t = ir.tensor(g, o.inputs[slot])
    code, impl = o.params.compressed, ops.kernel_impl(o)
    model = code.model_bytes if code is not None else t.nbytes
    unit = variants.chosen(o)
    own = unit.weight_code(g, o, o.params.packed) if unit else None
    if code is not None:
        how, stored = code.encoding, code.stored_bytes
    elif impl == "plain":
        how, stored = t.dtype, t.nbytes
    elif own is not None:
        how, stored = own
    else:       # a fast kernel's layout (its weights, or its records holding them)
        how, stored = f"{impl} layout", arrays.get("weights", arrays.get("records", 0))
    return dict(weights=how, model_weight_bytes=model, int8_weight_bytes=t.nbytes, stored_weight_bytes=stored,
                decode_cycles=decode_cycles(g, o))


def decode_cycles(g: nx.DiGraph, o: ir.Op) -> int | None:
    """Estimated Cortex-M4 cycles the op's weight encoding adds to one run (negative: it saves
    cycles). A unit that reads another encoding than int8 (``Variant.decodes``: sparse weights,
    palettes on a fast kernel): its ``cycles`` minus its int8 twin's, the fastest unit reading int8
    weights in no more flash than the plain kernel's (arm_conv8, arm_dw8, ...: what the default
    flash budget affords) that applies to the op (else the plain kernel, ``variants.plain_cycles``), both
    tinycc.cycles-calibrated estimates of the units. int8 weights: 0. The portable kernels
    decoding palette and INT4 weights (tinycc/compress.py) have no estimate: None."""
    unit = variants.chosen(o)
    if unit is None or not unit.decodes():
        return None if o.params.compressed is not None else 0
    twins = g.graph.get("int8_twin_cycles", {})        # pack_weights' figure (it packed every candidate)
    twin = twins[o.name] if o.name in twins else variants.int8_twin_cycles(g, o, variants.candidates(g, o))
    return round(unit.cycles(g, o, o.params.packed) - twin)


def build_report(g: nx.DiGraph, emitter, name: str, target: str) -> Report:
    """Report of a planned graph whose code ``emitter`` (codegen.Emitter, after emit_all) produced."""
    plan = g.graph["plan"]
    bufs = {b.tid: b for b in plan.buffers}

    def label(bid: str) -> str:
        if bid.startswith("scratch:"):
            return "scratch " + bid.split(":", 1)[1].split("_", 1)[0]
        p = ir.producer(g, bid)
        if p is not None and ir.is_op(g, p):
            o = ir.op(g, p)
            return f"op{o.index} {o.kind} out" + (f"{o.outputs.index(bid)}" if len(o.outputs) > 1 else "")
        name = ir.tensor(g, bid).name
        return name if len(name) <= 40 else name[:37] + "..."

    r = Report(model=g.graph.get("source", "?"), name=name, target=target, arena_bytes=plan.size,
               lower_bound=plan.lower_bound(), weight_bytes=sum(emitter.const_bytes.values()), macs=0,
               strategy=plan.strategy, kernels=sorted(emitter.kernels),
               model_constant_bytes=ir.model_constant_bytes(g), flash_budget=g.graph.get("flash_budget", 0))
    live = plan.occupied_by_step()
    for step, oid in enumerate(plan.order):
        o = ir.op(g, oid)
        macs = ops.lookup(o.kind).macs(g, o)
        r.macs += macs
        acts = [t for t in o.inputs if t is not None and ir.tensor(g, t).in_arena]
        placed = [*acts, *o.outputs] + ([ir.scratch_id(o)] if ir.scratch_id(o) in plan.offsets else [])
        r.ops.append(OpRow(
            step=step, index=o.index, kind=o.kind,
            inputs=[f"{shape_str(ir.tensor(g, t))} {ir.tensor(g, t).dtype}" for t in acts],
            outputs=[f"{shape_str(ir.tensor(g, t))} {ir.tensor(g, t).dtype}" for t in o.outputs],
            macs=macs, weight_bytes=emitter.const_bytes.get(oid, 0),
            live_bytes=live[step],
            offsets=[f"{label(t)}@{plan.offsets[t]}" for t in placed],
            calls=sorted({c for stmt in emitter.code[step].stmts for c in re.findall(r"\b(tcc_\w+)\(", stmt)}),
            **weight_columns(g, o, emitter.array_bytes.get(oid, {}))))
    for b in plan.buffers:
        scratch = b.tid.startswith("scratch:")
        r.buffers.append(BufferRow(label(b.tid), "" if scratch else ir.tensor(g, b.tid).name,
                                   "scratch" if scratch else "tensor",
                                   "" if scratch else shape_str(ir.tensor(g, b.tid)), b.offset, b.size,
                                   b.first, b.last))
    r.state_bytes = plan.state_size
    for tid, off in plan.state.items():
        t = ir.tensor(g, tid)
        users = [ir.op(g, c) for c in ir.consumers(g, tid)]
        r.state.append(StateRow(t.name, t.dtype, shape_str(t), off, ir.DTYPE_SIZE[t.dtype] * t.size,
                                state_initial_byte(t), ", ".join(f"op{u.index} {u.kind}" for u in users)))
    for ov in plan.overlaps:
        d = bufs[ov.out].offset - bufs[ov.inp].offset
        if not (d < bufs[ov.inp].size and -d < bufs[ov.out].size):
            continue  # allowed but not used: the two buffers do not touch
        rule = {"at_most": f"allowed up to {ov.shift:+d}", "exactly": f"allowed exactly {ov.shift:+d}",
                "multiple": f"allowed: multiples of {ov.shift}"}[ov.kind]
        o = ir.op(g, ov.op)
        r.overlaps.append(f"op{o.index} {o.kind}: output at {d:+d} B from its input {label(ov.inp)} ({rule})")
    return r
