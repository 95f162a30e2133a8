"""The memory report: what each op costs and where every buffer lives, from the plan codegen uses.

``build_report`` runs the same pipeline and emitter as ``tinycc build`` and collects, per op,
shapes, MACs, constant bytes, live activation bytes and arena offsets, plus the totals. The
same ``Report`` feeds the comment block of NAME.h, ``tinycc report`` (text, --json) and the
HTML page with an SVG chart of the arena (--html).
"""
from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field

import networkx as nx

from . import ir, ops


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
    code_bytes: int | None = None          # .text of the generated code, when measured
    stack_bytes: int | None = None         # worst-case stack of NAME_invoke, when measured

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
               strategy=plan.strategy, kernels=sorted(emitter.kernels))
    for step, oid in enumerate(plan.order):
        o = ir.op(g, oid)
        macs = ops.lookup(o.kind).macs(g, o)
        r.macs += macs
        acts = [t for t in o.inputs if t is not None and not ir.tensor(g, t).is_const]
        from .passes.plan_arena import scratch_id
        placed = [*acts, *o.outputs] + ([scratch_id(o)] if scratch_id(o) in plan.offsets else [])
        r.ops.append(OpRow(
            step=step, index=o.index, kind=o.kind,
            inputs=[f"{shape_str(ir.tensor(g, t))} {ir.tensor(g, t).dtype}" for t in acts],
            outputs=[f"{shape_str(ir.tensor(g, t))} {ir.tensor(g, t).dtype}" for t in o.outputs],
            macs=macs, weight_bytes=emitter.const_bytes.get(oid, 0),
            live_bytes=occupied(plan.live_at(step)),
            offsets=[f"{label(t)}@{plan.offsets[t]}" for t in placed]))
    for b in plan.buffers:
        scratch = b.tid.startswith("scratch:")
        r.buffers.append(BufferRow(label(b.tid), "" if scratch else ir.tensor(g, b.tid).name,
                                   "scratch" if scratch else "tensor",
                                   "" if scratch else shape_str(ir.tensor(g, b.tid)), b.offset, b.size,
                                   b.first, b.last))
    for ov in plan.overlaps:
        d = bufs[ov.out].offset - bufs[ov.inp].offset
        if not (d < bufs[ov.inp].size and -d < bufs[ov.out].size):
            continue  # allowed but not used: the two buffers do not touch
        rule = {"at_most": f"allowed up to {ov.shift:+d}", "exactly": f"allowed exactly {ov.shift:+d}",
                "multiple": f"allowed: multiples of {ov.shift}"}[ov.kind]
        o = ir.op(g, ov.op)
        r.overlaps.append(f"op{o.index} {o.kind}: output at {d:+d} B from its input {label(ov.inp)} ({rule})")
    return r


# -- renderers ----------------------------------------------------------------------

def format_text(r: Report) -> str:
    lines = [f"tinycc report {r.model} (name {r.name}, target {r.target})",
             f"arena {r.arena_bytes:,} B   tensor-level lower bound {r.lower_bound:,} B   "
             f"weights in flash {r.weight_bytes:,} B   MACs {r.macs:,}   planner: {r.strategy}"]
    if r.code_bytes is not None:
        lines.append(f"code (.text, arm-none-eabi-gcc -O2) {r.code_bytes:,} B   "
                     f"stack of {r.name}_invoke {r.stack_bytes:,} B   RAM total {r.arena_bytes + r.stack_bytes:,} B")
    lines.append("")
    lines.append(f"{'step':>4} {'op':>4} {'kind':<20} {'input -> output':<44} {'MACs':>10} {'weights B':>10} "
                 f"{'live B':>8}  arena offsets")
    for o in r.ops:
        io = " + ".join(o.inputs) + " -> " + ", ".join(o.outputs)
        lines.append(f"{o.step:>4} {o.index:>4} {o.kind:<20} {io:<44} {o.macs:>10,} {o.weight_bytes:>10,} "
                     f"{o.live_bytes:>8,}  {', '.join(x.rsplit('@', 1)[1] for x in o.offsets)}")
    lines.append("")
    lines.append("buffers (offset, end, bytes, live steps, name):")
    for b in r.buffers:
        lines.append(f"  [{b.offset:>7}, {b.offset + b.size:>7})  {b.size:>7} B  {b.first:>3}..{b.last:<3} {b.name}")
    if r.overlaps:
        lines.append("")
        lines.append("memory shared between an op's input and output:")
        lines.extend(f"  {x}" for x in r.overlaps)
    return "\n".join(lines)


SVG_W, SVG_H, MARGIN = 960, 520, 60


def svg_chart(r: Report) -> str:
    """Time (op step) across, address up; one rectangle per buffer with a hover title."""
    steps = max(len(r.ops), 1) + 1
    top = max(r.arena_bytes, 1)
    sx = (SVG_W - 2 * MARGIN) / steps
    sy = (SVG_H - 2 * MARGIN) / top
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_W}" height="{SVG_H}" '
           f'viewBox="0 0 {SVG_W} {SVG_H}" font-family="sans-serif" font-size="10">',
           f'<rect x="{MARGIN}" y="{MARGIN}" width="{SVG_W - 2 * MARGIN}" height="{SVG_H - 2 * MARGIN}" '
           f'fill="#fafafa" stroke="#999"/>']
    for i, b in enumerate(r.buffers):
        x = MARGIN + b.first * sx
        w = (b.last - b.first + 1) * sx
        y = SVG_H - MARGIN - (b.offset + b.size) * sy
        h = b.size * sy        # exact: tiny buffers stay thin rather than drawn over a neighbour
        fill = "#f4b183" if b.kind == "scratch" else ["#9dc3e6", "#a9d18e", "#ffd966", "#c9b3e6"][i % 4]
        title = html.escape(f"{b.name} {b.shape} {b.size} B at [{b.offset}, {b.offset + b.size}), "
                            f"steps {b.first}..{b.last}")
        out.append(f'<g class="buffer" data-offset="{b.offset}" data-size="{b.size}" data-first="{b.first}" '
                   f'data-last="{b.last}" data-name="{html.escape(b.name)}">'
                   f'<title>{title}</title>'
                   f'<rect x="{x:.3f}" y="{y:.3f}" width="{w:.3f}" height="{h:.3f}" fill="{fill}" '
                   f'fill-opacity="0.8" stroke="#333" stroke-width="0.5"/>')
        if h > 12 and w > 40:
            out.append(f'<text x="{x + 3:.2f}" y="{y + 11:.2f}">{html.escape(b.name[:int(w / 6)])}</text>')
        out.append("</g>")
    for s in range(steps):
        if steps <= 40 or s % 5 == 0:
            out.append(f'<text x="{MARGIN + (s + 0.5) * sx:.2f}" y="{SVG_H - MARGIN + 14}" '
                       f'text-anchor="middle">{s}</text>')
    for k in range(5):
        v = top * k // 4
        out.append(f'<text x="{MARGIN - 4}" y="{SVG_H - MARGIN - v * sy + 3:.2f}" text-anchor="end">{v:,}</text>')
    out.append(f'<text x="{SVG_W / 2}" y="{SVG_H - 12}" text-anchor="middle">op step</text>')
    out.append(f'<text x="14" y="{SVG_H / 2}" transform="rotate(-90 14 {SVG_H / 2})" '
               f'text-anchor="middle">arena offset (bytes)</text>')
    out.append("</svg>")
    return "\n".join(out)


def format_html(r: Report) -> str:
    e = html.escape
    rows = "\n".join(
        f"<tr><td>{o.step}</td><td>{o.index}</td><td>{e(o.kind)}</td><td>{e(' + '.join(o.inputs))}</td>"
        f"<td>{e(', '.join(o.outputs))}</td><td class=n>{o.macs:,}</td><td class=n>{o.weight_bytes:,}</td>"
        f"<td class=n>{o.live_bytes:,}</td><td>{e(', '.join(o.offsets))}</td></tr>" for o in r.ops)
    code = (f"<li>code (.text, arm-none-eabi-gcc -O2): {r.code_bytes:,} B; stack of {e(r.name)}_invoke: "
            f"{r.stack_bytes:,} B; RAM total {r.arena_bytes + r.stack_bytes:,} B</li>" if r.code_bytes is not None else "")
    overlaps = "".join(f"<li>{e(x)}</li>" for x in r.overlaps)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tinycc report: {e(r.model)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 12px; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; }}
th {{ background: #eee; }} td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
</style></head><body>
<h1>tinycc report: {e(r.model)}</h1>
<ul>
<li>arena: <b id="arena">{r.arena_bytes:,}</b> B (tensor-level lower bound {r.lower_bound:,} B; planner: {e(r.strategy)})</li>
<li>weights in flash: {r.weight_bytes:,} B; MACs per inference: {r.macs:,}</li>
{code}
<li>kernels: {e(', '.join(r.kernels))}; name {e(r.name)}, target {e(r.target)}</li>
</ul>
<h2>Arena over time</h2>
<p>Time (op step) across, address up; hover a buffer for its name, shape and bytes.</p>
{svg_chart(r)}
<h2>Operators</h2>
<table><tr><th>step</th><th>op</th><th>kind</th><th>inputs</th><th>outputs</th><th>MACs</th>
<th>weights B</th><th>live B</th><th>arena offsets</th></tr>
{rows}
</table>
<h2>Memory shared between an op's input and output</h2>
<ul>{overlaps or "<li>none</li>"}</ul>
</body></html>
"""
