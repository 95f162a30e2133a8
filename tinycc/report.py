"""The memory report: what each op costs and where every buffer lives, from the plan codegen uses.

``build_report`` (``tinycc.memory_report``) runs the same pipeline and emitter as ``tinycc build``
and collects, per op, shapes, MACs, constant bytes, live activation bytes and arena offsets, plus
the totals. The same ``Report`` feeds the comment block of NAME.h, ``tinycc report`` (text, --json)
and the HTML page with an SVG chart of the arena (--html). ``attach_code`` and ``attach_bench`` add
per-op code bytes and instructions/cycles measured elsewhere.
"""
from __future__ import annotations

import html
import re

from .memory_report import BufferRow, OpRow, Report, build_report, occupied, shape_str  # noqa: F401


def attach_code(r: Report, sizes: dict[str, int], calls: dict[str, set[str]]) -> Report:
    """Per-op code bytes from the measured functions (``toolchain.function_sizes``): the kernel
    functions an op calls and everything they call in turn, each function counted at the first op
    that reaches it (so the column sums to the kernels' code)."""
    seen: set[str] = set()
    for row in r.ops:
        todo = [f"{r.name}_{c}" for c in row.calls]
        row.code_bytes = 0
        while todo:
            fn = todo.pop()
            if fn in seen:
                continue
            seen.add(fn)
            row.code_bytes += sizes.get(fn, 0)
            todo.extend(sorted(calls.get(fn, ())))
    return r


def attach_bench(r: Report, bench) -> Report:
    """Per-op figures from ``tinycc bench`` (a BenchResult: ``ops`` by step with ``instructions``
    and, where the bench estimates them, ``cycles``) into the report's op rows."""
    by_step = {o.step: o for o in bench.ops if o.subgraph is None}   # not the rows of subgraph ops
    for row in r.ops:
        b = by_step.get(row.step)
        if b is not None and b.index == row.index:
            row.instructions = b.instructions
            row.cycles = b.cycles or None   # 0: no estimate for this core
    r.bench = f"tinycc bench: QEMU {bench.target}, --optimize {bench.optimize}"
    return r


# -- renderers ----------------------------------------------------------------------

def format_text(r: Report) -> str:
    lines = [f"tinycc report {r.model} (name {r.name}, target {r.target}, --optimize {r.optimize})",
             f"arena {r.arena_bytes:,} B   tensor-level lower bound {r.lower_bound:,} B   "
             f"weights in flash {r.weight_bytes:,} B   MACs {r.macs:,}   planner: {r.strategy}",
             f"model's own constants {r.model_constant_bytes:,} B   flash budget {r.flash_budget:,} B"]
    if r.code_bytes is not None:
        lines.append(f"code (.text, arm-none-eabi-gcc -O2 for {r.measured_on}) {r.code_bytes:,} B   "
                     f"stack of {r.name}_invoke {r.stack_bytes:,} B   RAM total {r.arena_bytes + r.state_bytes + r.stack_bytes:,} B")
        lines.append(f"flash total {r.code_bytes + r.weight_bytes:,} B (code + constants) = "
                     f"{(r.code_bytes + r.weight_bytes) / max(r.model_constant_bytes, 1):.2f} x the model's constants, "
                     f"budget {r.flash_budget:,} B")
    lines.append("")
    timed = [k for k in ("instructions", "cycles") if any(getattr(o, k) is not None for o in r.ops)]
    if timed:
        lines.append(f"per-op {' and '.join(timed)} from {r.bench}")
    lines.append(f"{'step':>4} {'op':>4} {'kind':<20} {'input -> output':<44} {'MACs':>10} {'weights B':>10} "
                 f"{'live B':>8}" + "".join(f" {k:>12}" for k in timed) + "  arena offsets")
    for o in r.ops:
        io = " + ".join(o.inputs) + " -> " + ", ".join(o.outputs)
        figures = "".join(f" {getattr(o, k):>12,}" if getattr(o, k) is not None else f" {'-':>12}" for k in timed)
        lines.append(f"{o.step:>4} {o.index:>4} {o.kind:<20} {io:<44} {o.macs:>10,} {o.weight_bytes:>10,} "
                     f"{o.live_bytes:>8,}{figures}  {', '.join(x.rsplit('@', 1)[1] for x in o.offsets)}")
    weighted = [o for o in r.ops if o.weights]
    if weighted:
        model, stored = sum(o.model_weight_bytes for o in weighted), sum(o.stored_weight_bytes for o in weighted)
        lines.append("")
        lines.append(f"weights (tinycc/compress.py): the model's {model:,} B, stored {stored:,} B "
                     f"({stored / max(model, 1):.0%})")
        lines.append(f"{'step':>4} {'op':>4} {'kind':<20} {'model B':>10} {'as int8 B':>10} {'stored B':>10}  "
                     f"{'encoding':<16} {'decode cyc':>10}")
        for o in weighted:
            lines.append(f"{o.step:>4} {o.index:>4} {o.kind:<20} {o.model_weight_bytes:>10,} {o.int8_weight_bytes:>10,} "
                         f"{o.stored_weight_bytes:>10,}  {o.weights:<16} {_decode(o):>10}")
        lines.append(f"  decode cyc: {DECODE_NOTE}")
    lines.append("")
    lines.append("buffers (offset, end, bytes, live steps, name):")
    for b in r.buffers:
        lines.append(f"  [{b.offset:>7}, {b.offset + b.size:>7})  {b.size:>7} B  {b.first:>3}..{b.last:<3} {b.name}")
    if r.state:
        lines.append("")
        lines.append(f"state {r.state_bytes:,} B, kept between invokes (offset, end, bytes, initial byte, name, used by):")
        for x in r.state:
            lines.append(f"  [{x.offset:>7}, {x.offset + x.size:>7})  {x.size:>7} B  init {'model' if x.initial is None else x.initial:<5} "
                         f"{x.dtype} {x.shape} {x.tensor}  ({x.used_by})")
    if r.overlaps:
        lines.append("")
        lines.append("memory shared between an op's input and output:")
        lines.extend(f"  {x}" for x in r.overlaps)
    return "\n".join(lines)


SVG_W, SVG_H, MARGIN = 960, 520, 60
CHAR_W, LABEL_H = 6.0, 12.0          # width of one character and height of a label at font-size 10
TENSOR_COLORS = ("#9dc3e6", "#a9d18e", "#ffd966", "#c9b3e6")
SCRATCH_COLOR = "#f4b183"


def fit_label(text: str, width: float, short: str = "") -> str | None:
    """The label as it fits in ``width`` pixels: whole, else ``short`` (e.g. "op7"), else truncated
    with "...", or None (too narrow)."""
    room = int((width - 4) / CHAR_W)
    if len(text) <= room:
        return text
    if short and len(short) <= room:
        return short
    return text[:room - 3] + "..." if room >= 8 else None


def short_label(name: str) -> str:
    """"op7 DEPTHWISE_CONV_2D out" -> "op7", "scratch op13" -> "op13" (scratch has its own colour)."""
    words = name.split()
    if len(words) >= 2 and words[0] == "scratch":
        return words[1]
    return words[0] if words and re.fullmatch(r"op\d+", words[0]) else ""


def tick_every(steps: int, width: float) -> int:
    """Label every k-th op step, k the first of 1, 2, 5, 10, 20, 50, ... that keeps the numbers apart."""
    need = CHAR_W * len(str(steps)) + 6
    for k in (m * 10 ** p for p in range(9) for m in (1, 2, 5)):
        if width / steps * k >= need:
            return k
    return steps


def svg_chart(r: Report) -> str:
    """Time (op step) across, address up; one rectangle per buffer with a hover title. Labels are
    drawn last, each only where it fits inside its own rectangle (shortened if need be), clear of
    every other rectangle and label, with its width fixed (textLength) so that the check holds."""
    steps = max(len(r.ops), 1) + 1
    top = max(r.arena_bytes, 1)
    sx = (SVG_W - 2 * MARGIN) / steps
    sy = (SVG_H - 2 * MARGIN) / top
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_W}" height="{SVG_H}" '
           f'viewBox="0 0 {SVG_W} {SVG_H}" font-family="sans-serif" font-size="10">',
           f'<rect x="{MARGIN}" y="{MARGIN}" width="{SVG_W - 2 * MARGIN}" height="{SVG_H - 2 * MARGIN}" '
           f'fill="#fafafa" stroke="#999"/>']
    rects = []
    for i, b in enumerate(r.buffers):
        x = MARGIN + b.first * sx
        w = (b.last - b.first + 1) * sx
        y = SVG_H - MARGIN - (b.offset + b.size) * sy
        h = b.size * sy        # exact: tiny buffers stay thin rather than drawn over a neighbour
        rects.append((x, y, x + w, y + h))
        fill = SCRATCH_COLOR if b.kind == "scratch" else TENSOR_COLORS[i % len(TENSOR_COLORS)]
        title = html.escape(f"{b.name} {b.shape} {b.size} B at [{b.offset}, {b.offset + b.size}), "
                            f"steps {b.first}..{b.last}")
        out.append(f'<g class="buffer" data-offset="{b.offset}" data-size="{b.size}" data-first="{b.first}" '
                   f'data-last="{b.last}" data-name="{html.escape(b.name)}">'
                   f'<title>{title}</title>'
                   f'<rect x="{x:.3f}" y="{y:.3f}" width="{w:.3f}" height="{h:.3f}" fill="{fill}" '
                   f'fill-opacity="0.8" stroke="#333" stroke-width="0.5"/></g>')
    placed: list[tuple[float, float, float, float]] = []
    hits = lambda a, b: a[0] < b[2] - 0.01 and b[0] < a[2] - 0.01 and a[1] < b[3] - 0.01 and b[1] < a[3] - 0.01
    for i, (b, (x0, y0, x1, y1)) in enumerate(zip(r.buffers, rects)):
        text = fit_label(b.name, x1 - x0, short_label(b.name)) if y1 - y0 >= LABEL_H + 1 else None
        if not text:
            continue
        boxes = [(x0 + 2, top_, x0 + 2 + CHAR_W * len(text), top_ + LABEL_H) for top_ in (y0 + 1, y1 - 1 - LABEL_H)]
        free = [box for box in boxes if not any(hits(box, p) for p in placed)
                and not any(hits(box, q) for j, q in enumerate(rects) if j != i)]
        if not free:
            continue
        box = free[0]
        placed.append(box)
        out.append(f'<text class="label" data-buffer="{i}" x="{box[0]:.2f}" y="{box[1] + 9:.2f}" '
                   f'textLength="{CHAR_W * len(text):.0f}" lengthAdjust="spacingAndGlyphs">'
                   f'{html.escape(text)}</text>')
    every = tick_every(steps, SVG_W - 2 * MARGIN)
    for s in range(0, steps, every):
        out.append(f'<text class="tick" x="{MARGIN + (s + 0.5) * sx:.2f}" y="{SVG_H - MARGIN + 14}" '
                   f'text-anchor="middle">{s}</text>')
    for k in range(5):
        v = top * k // 4
        out.append(f'<text x="{MARGIN - 4}" y="{SVG_H - MARGIN - v * sy + 3:.2f}" text-anchor="end">{v:,}</text>')
    out.append(f'<text x="{SVG_W / 2}" y="{SVG_H - 12}" text-anchor="middle">op step</text>')
    out.append(f'<text x="14" y="{SVG_H / 2}" transform="rotate(-90 14 {SVG_H / 2})" '
               f'text-anchor="middle">arena offset (bytes)</text>')
    out.append("</svg>")
    return "\n".join(out)


def _bar(value: int | None, most: int, color: str) -> str:
    """A table cell with the number and a bar proportional to it."""
    if value is None:
        return "<td class=n>&ndash;</td>"
    width = 0 if most <= 0 else round(60 * value / most)
    return (f'<td class=n><span class=bar style="width:{width}px;background:{color}"></span>'
            f"{value:,}</td>")


DECODE_NOTE = ("estimated Cortex-M4 cycles the encoding adds to one run (negative: saves), the fast "
               "kernel's estimate minus its int8 twin's (tinycc/memory_report.py: decode_cycles); "
               "'-': not estimated")


def _decode(o) -> str:
    """An op's decode cost as the text and HTML tables show it."""
    return "-" if o.decode_cycles is None else f"{o.decode_cycles:+,}"


def format_html(r: Report) -> str:
    """One page: the totals, a legend, the arena chart, and per op (in execution order, which is
    numeric op order for a model in TFLite's order) MACs, flash (constant bytes), arena bytes and,
    after ``attach_bench``, instructions and estimated cycles."""
    e = html.escape
    has_cycles = any(o.cycles is not None for o in r.ops)
    has_instr = any(o.instructions is not None for o in r.ops)
    has_code = any(o.code_bytes is not None for o in r.ops)
    top = {k: max([getattr(o, k) or 0 for o in r.ops] or [0]) for k in
           ("macs", "weight_bytes", "code_bytes", "live_bytes", "instructions", "cycles")}
    heads = ["step", "op", "kind", "inputs", "outputs", "MACs", "flash B (constants)"]
    heads += ["flash B (kernel code)"] if has_code else []
    has_weights = any(o.weights for o in r.ops)
    heads += ["weights B: model / stored (encoding); decode cost"] if has_weights else []
    heads += ["live arena B"]
    heads += ["instructions (QEMU)"] if has_instr else []
    heads += ["cycles (estimated)"] if has_cycles else []
    heads += ["arena offsets"]
    rows = []
    for o in sorted(r.ops, key=lambda o: o.step):
        cells = (f"<td class=n>{o.step}</td><td class=n>op{o.index}</td><td>{e(o.kind)}</td>"
                 f"<td>{e(' + '.join(o.inputs))}</td><td>{e(', '.join(o.outputs))}</td>"
                 + _bar(o.macs, top["macs"], "#9dc3e6") + _bar(o.weight_bytes, top["weight_bytes"], "#c9b3e6")
                 + (_bar(o.code_bytes, top["code_bytes"], "#b4c7a0") if has_code else "")
                 + ((f"<td class=n>{o.model_weight_bytes:,} / {o.stored_weight_bytes:,} ({e(o.weights)}); "
                     f"decode {_decode(o)} cycles</td>"
                     if o.weights else "<td class=n>&ndash;</td>") if has_weights else "")
                 + _bar(o.live_bytes, top["live_bytes"], "#a9d18e")
                 + (_bar(o.instructions, top["instructions"], "#ffd966") if has_instr else "")
                 + (_bar(o.cycles, top["cycles"], "#f4b183") if has_cycles else "")
                 + f"<td>{e(', '.join(o.offsets))}</td>")
        rows.append(f"<tr>{cells}</tr>")
    code = (f"<li>code (.text, arm-none-eabi-gcc -O2): {r.code_bytes:,} B; stack of {e(r.name)}_invoke: "
            f"{r.stack_bytes:,} B; RAM total {r.arena_bytes + r.state_bytes + r.stack_bytes:,} B; flash total "
            f"{r.code_bytes + r.weight_bytes:,} B (code + constants)</li>" if r.code_bytes is not None else "")
    if has_cycles:
        timing = f"<li>per-op instructions and estimated cycles from {e(r.bench or 'tinycc bench')}</li>"
    elif has_instr:
        timing = (f"<li>per-op instructions from {e(r.bench or 'tinycc bench')} (no cycle estimate in this "
                  "build of tinycc)</li>")
    else:
        timing = "<li>per-op instructions and cycles: run <code>tinycc report --bench</code></li>"
    code_note = ("; kernel code: the kernel functions the op calls and all they call (arm-none-eabi-gcc -O2), "
                 f"each counted at the first op that reaches it ({sum(o.code_bytes or 0 for o in r.ops):,} of the {r.code_bytes:,} B "
                 "of .text; the rest is the model's own functions and kernel code no op calls, which the linker drops)"
                 if has_code and r.code_bytes is not None else "")
    state = "".join(f"<li>{e(x.tensor)}: {x.dtype} {e(x.shape)}, {x.size:,} B at state offset {x.offset} "
                    f"(initial {'values from the model' if x.initial is None else f'byte {x.initial}'}; {e(x.used_by)})</li>"
                    for x in r.state)
    overlaps = "".join(f"<li>{e(x)}</li>" for x in r.overlaps)
    swatch = lambda color, text: (f'<span class=swatch style="background:{color}"></span>{e(text)}')
    legend = " ".join([swatch(TENSOR_COLORS[0], "activation tensor (colours alternate)"),
                       swatch(SCRATCH_COLOR, "kernel scratch (live during its op only)")])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tinycc report: {e(r.model)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-size: 12px; }}
td, th {{ border: 1px solid #ccc; padding: 2px 6px; vertical-align: top; }}
th {{ background: #eee; }} td.n {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
.bar {{ display: inline-block; height: 8px; margin-right: 4px; opacity: 0.8; }}
.swatch {{ display: inline-block; width: 14px; height: 10px; border: 1px solid #333; margin: 0 4px 0 12px; }}
.legend {{ font-size: 12px; }}
</style></head><body>
<h1>tinycc report: {e(r.model)}</h1>
<ul>
<li>arena: <b id="arena">{r.arena_bytes:,}</b> B (tensor-level lower bound {r.lower_bound:,} B; planner: {e(r.strategy)})</li>
<li>constants in flash: {r.weight_bytes:,} B; MACs per inference: {r.macs:,}</li>
<li>state kept between invokes: {r.state_bytes:,} B<ul>{state}</ul></li>
{code}
{timing}
<li>kernels: {e(', '.join(r.kernels))}; name {e(r.name)}, target {e(r.target)}</li>
</ul>
<h2>Arena over time</h2>
<p class="legend">Op step across, arena address up; one box per buffer, from the step that writes it to the
last step that reads it. Hover a box for its name, shape and bytes; names too long for their box are
shortened (opN: the output of op N, or its scratch when orange) or left out.<br>{legend}</p>
{svg_chart(r)}
<h2>Operators</h2>
<p class="legend">In execution order. flash B: constant bytes the op adds (weights, biases, requantization
records){code_note}; weights B: the op's weights in the model file and as stored (int8, INT4, or k-bit
indices into value tables, see tinycc/compress.py; sparse: the nonzero weights only, see
tinycc/variants/sparse.py) and the decode cost: {e(DECODE_NOTE)}; live arena B: arena bytes occupied while it runs; bars compare ops within a column.</p>
<table><tr>{''.join(f'<th>{h}</th>' for h in heads)}</tr>
{chr(10).join(rows)}
</table>
<h2>Memory shared between an op's input and output</h2>
<ul>{overlaps or "<li>none</li>"}</ul>
</body></html>
"""
