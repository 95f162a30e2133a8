"""The memory report: what each op costs and where every buffer lives, from the plan codegen uses.

``build_report`` runs the same pipeline and emitter as ``tinycc build`` and collects, per op,
shapes, MACs, constant bytes, live activation bytes and arena offsets, plus the totals. The
same ``Report`` feeds the comment block of NAME.h, ``tinycc report`` (text, --json) and the
HTML page with an SVG chart of the arena (--html).
"""
from __future__ import annotations

import html

from .memory_report import BufferRow, OpRow, Report, build_report, occupied, shape_str  # noqa: F401


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
