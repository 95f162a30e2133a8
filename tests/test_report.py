"""tinycc report: numbers agree with the built code; the SVG chart never overlaps where the plan forbids."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tinycc import driver
from tinycc.report import format_html

from .conftest import REPO, model_path

MLPERF_MACS = {"kws_ref_model": 2_656_768, "vww_96_int8": 7_489_664, "ic_resnet8_int8": 12_501_632,
               "ad01_int8": 264_192}


def test_report_json_and_html(tmp_path):
    html = tmp_path / "r.html"
    r = subprocess.run([sys.executable, "-m", "tinycc", "report", str(model_path("kws_ref_model")), "--json",
                        "--html", str(html)], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["arena_bytes"] > 0 and len(data["ops"]) == 12
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and page.count('class="buffer"') == len(
        data["buffers"])


FAST = 1 << 24      # flash to spare: the fast kernels with widened weights, as these tests were written for


@pytest.mark.parametrize("name", sorted(MLPERF_MACS))
def test_report_agrees_with_built_code(name, tmp_path):
    rep = driver.report(str(model_path(name)), "net", "cortex-m4", measure=False)
    assert rep.macs == MLPERF_MACS[name]
    out = tmp_path / "out"
    driver.build(str(model_path(name)), str(out), "net", "cortex-m4")
    h = (out / "net.h").read_text()
    assert f"#define net_ARENA_BYTES {rep.arena_bytes}\n" in h
    c = (out / "net.c").read_text()
    sizes = {"int8_t": 1, "uint8_t": 1, "uint16_t": 2, "int32_t": 4, "float": 4,
             "tcc_arm_rq": 12}   # tcc_arm_rq: fast kernels' records
    const = sum(sizes[t] * int(n) for t, n in re.findall(r"static const (u?int8_t|uint16_t|int32_t|float|\w*tcc_arm_rq) \w+\[(\d+)\]",
                                                         c)
                for t in [t if t in sizes else "tcc_arm_rq"])
    assert const == rep.weight_bytes
    assert f"uint8_t bytes[{rep.arena_bytes}]" in c
    assert max(o.live_bytes for o in rep.ops) == rep.arena_bytes or rep.arena_bytes > 0


@pytest.mark.parametrize("name", ["vww_96_int8", "ic_resnet8_int8", "kws_ref_model"])
def test_svg_rectangles_respect_the_plan(name):
    b = driver.generate(str(model_path(name)), target="cortex-m4")   # as driver.report (measure=False)
    plan, rep = b.graph.graph["plan"], b.report     # the plan of the build whose flash fit
    page = format_html(rep)
    rects = [dict(zip(("offset", "size", "first", "last"), map(int, m))) for m in
             re.findall(r'data-offset="(\d+)" data-size="(\d+)" data-first="(\d+)" data-last="(\d+)"', page)]
    assert len(rects) == len(plan.buffers)
    coords = [tuple(map(float, m)) for m in
              re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', page)[1:]]
    by_key = {(b.offset, b.size, b.first, b.last): b for b in plan.buffers}
    allowed = {frozenset((r.inp, r.out)) for r in plan.overlaps}
    for i, a in enumerate(rects):
        for j in range(i + 1, len(rects)):
            b = rects[j]
            (ax, ay, aw, ah), (bx, by, bw, bh) = coords[i], coords[j]
            drawn_overlap = ax < bx + bw - 0.01 and bx < ax + aw - 0.01 and ay < by + bh - 0.01 and by < ay + ah - 0.01
            if drawn_overlap:
                ba = by_key[(a["offset"], a["size"], a["first"], a["last"])]
                bb = by_key[(b["offset"], b["size"], b["first"], b["last"])]
                assert frozenset((ba.tid, bb.tid)) in allowed, f"{ba} and {bb} drawn on top of each other"


@pytest.mark.parametrize("name", ["vww_96_int8", "ic_resnet8_int8"])
def test_html_labels_fit_and_never_overlap(name):
    """Every drawn label lies inside its own rectangle, clear of every other rectangle and label, and
    is its buffer's name or a prefix of it with "..."; step numbers never touch; the page has a
    legend, ops in execution (numeric) order and each op's constant bytes."""
    import html
    from tinycc.report import CHAR_W, LABEL_H, short_label
    rep = driver.report(str(model_path(name)), target="cortex-m4", measure=False, flash_budget=FAST)   # the build it was drawn for
    page = format_html(rep)
    assert 'class="legend"' in page and "swatch" in page and "kernel scratch" in page
    rects = [tuple(map(float, m)) for m in re.findall(
        r'<g class="buffer"[^>]*><title>[^<]*</title><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" '
        r'height="([\d.]+)"', page)]
    assert len(rects) == len(rep.buffers)
    labels = [(int(i), float(x), float(y), float(n), html.unescape(t)) for i, x, y, n, t in re.findall(
        r'<text class="label" data-buffer="(\d+)" x="([\d.]+)" y="([\d.]+)" textLength="(\d+)"[^>]*>([^<]*)</text>',
        page)]
    assert len(labels) >= 3
    boxes = []
    for i, x, y, n, text in labels:
        full = rep.buffers[i].name
        assert text == full or text == short_label(full) or (text.endswith("...") and full.startswith(text[:-3]))
        assert n == CHAR_W * len(text)
        box = (x, y - 9, x + n, y - 9 + LABEL_H)
        rx, ry, rw, rh = rects[i]
        assert rx <= box[0] and box[2] <= rx + rw and ry <= box[1] and box[3] <= ry + rh, text
        for j, (qx, qy, qw, qh) in enumerate(rects):
            if j != i:
                assert not (box[0] < qx + qw - 0.01 and qx < box[2] - 0.01 and box[1] < qy + qh - 0.01
                            and qy < box[3] - 0.01), (text, rep.buffers[j].name)
        boxes.append(box)
    for k, a in enumerate(boxes):
        for b in boxes[k + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    ticks = [float(x) for x in re.findall(r'<text class="tick" x="([\d.]+)"', page)]
    assert len(ticks) >= 5 and min(b - a for a, b in zip(ticks, ticks[1:])) >= 6 * len(str(len(rep.ops))) + 6
    ops = [int(i) for i in re.findall(r"<td class=n>\d+</td><td class=n>op(\d+)</td>", page)]
    assert ops == [o.index for o in rep.ops] and ops == sorted(ops)
    flash = [int(v.replace(",", "")) for v in re.findall(r'background:#c9b3e6"></span>([\d,]+)</td>', page)]
    assert flash == [o.weight_bytes for o in rep.ops] and sum(flash) == rep.weight_bytes


def test_report_bench_adds_per_op_instructions(tmp_path):
    """tinycc report --bench: per-op instructions (and cycles once the bench estimates them) in the
    JSON and the HTML table, matching tinycc bench's figures."""
    from .conftest import needs_qemu
    needs_qemu()
    page = tmp_path / "r.html"
    r = subprocess.run([sys.executable, "-m", "tinycc", "report", str(model_path("ad01_int8")), "--json", "--bench",
                        "--html", str(page)], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    instr = [o["instructions"] for o in data["ops"]]
    assert all(isinstance(i, int) and i > 0 for i in instr) and data["bench"].startswith("tinycc bench")
    text = page.read_text()
    assert "instructions (QEMU)" in text
    shown = [int(v.replace(",", "")) for v in re.findall(r'background:#ffd966"></span>([\d,]+)</td>', text)]
    assert shown == instr
    if any(o["cycles"] is not None for o in data["ops"]):
        assert "cycles (estimated)" in text


def test_per_op_kernel_code():
    """With arm-none-eabi-gcc: each op's kernel code (the functions it reaches, counted once) adds up
    to most of the measured .text and never more; ops reusing a kernel add nothing."""
    from tinycc import toolchain
    if not toolchain.have_arm_toolchain():
        pytest.skip("arm-none-eabi-gcc not installed")
    rep = driver.report(str(model_path("kws_ref_model")), target="cortex-m4", flash_budget=FAST)   # the build it was written for
    code = [o.code_bytes for o in rep.ops]
    assert all(c is not None for c in code) and 0.8 * rep.code_bytes <= sum(code) <= rep.code_bytes
    first = {}
    for o in rep.ops:
        if tuple(o.calls) in first:
            assert o.code_bytes == 0
        first.setdefault(tuple(o.calls), o)
    assert "flash B (kernel code)" in format_html(rep)
