"""Instructions per MAC of the Cortex-M DSP kernels on the layers of the shared models.

For every CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D and ADD of the MLPerf Tiny
models (their real weights and quantization constants, as tinycc's passes compute them; random
input), one Cortex-M4 program per model times the plain kernel and the fast kernel (SysTick in
QEMU mps2-an386 with -icount shift=0: 40 instructions per tick) and checks that both outputs
are equal. Prints one row per layer and per model the totals, with an estimate of the whole
model (fast layers + whatever the model spends outside these layers in the plain build).

    python bench/bench_dsp.py [--models ../shared/models] [--json results.json] [MODEL ...]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import test_dsp_kernels as T  # noqa: E402  (case generators and C writer)
from tinycc import driver, ir, toolchain  # noqa: E402

MODELS = ["kws_ref_model", "vww_96_int8", "ic_resnet8_int8", "ad01_int8"]
# Whole-model instruction counts (README, QEMU mps2-an386): tinycc plain C, TFLM + CMSIS-NN.
PLAIN_TOTAL = {"kws_ref_model": 36_292_800, "vww_96_int8": 85_927_080, "ic_resnet8_int8": 94_268_600,
               "ad01_int8": 1_426_320}
TFLM_CMSIS = {"kws_ref_model": 7_698_280, "vww_96_int8": 24_101_560, "ic_resnet8_int8": 29_860_800,
              "ad01_int8": 582_920}


def layer_kind(c: T.Case) -> str:
    """Coarse layer type for the per-type summary."""
    d = c.desc
    if c.kind == "conv":
        m = re.search(r"'k_h': (\d+), 'k_w': (\d+)", d)
        kh, kw = int(m.group(1)), int(m.group(2))
        cin = int(re.search(r"'in_c': (\d+)", d).group(1))
        s2 = " s2" if "s2x2" in d else ""
        if kh == kw == 1:
            return f"conv 1x1{s2}"
        return f"conv {kh}x{kw}{s2}" + (" (in_c<4)" if cin < 4 else "")
    if c.kind in ("dw", "dw3x3"):
        return f"{c.kind} {'s2' if 's2x2' in d else 's1'}"
    return c.kind


def model_cases(path: Path, seed: int = 0) -> list[T.Case]:
    g = driver.compile_graph(str(path))
    rng = np.random.default_rng(seed)
    cases = []
    for node in nx_topo(g):
        o = g.nodes[node]["value"]
        if not isinstance(o, ir.Op):
            continue
        x = ir.tensor(g, o.inputs[0])
        if x.dtype != "int8":
            continue
        p, a = o.params, o.attrs
        tag = f"{len(cases)}"
        if o.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w = ir.tensor(g, o.inputs[1]).data
            data = dict(w=w, bias=np.asarray(p.bias), mult=np.asarray(p.mult), shift=np.asarray(p.shift),
                        in_zp=p.in_zp, out_zp=p.out_zp, act=tuple(p.act_range))
            geo = dict(batches=p.batches, in_h=p.in_h, in_w=p.in_w, stride_h=a["stride_h"],
                       stride_w=a["stride_w"], dil_h=a.get("dilation_h", 1), dil_w=a.get("dilation_w", 1),
                       pad_top=p.pad_top, pad_left=p.pad_left, out_h=p.out_h, out_w=p.out_w, data=data)
            if o.kind == "CONV_2D":
                c = T.conv_case(rng, tag, in_c=x.shape[3], out_c=w.shape[0], k_h=w.shape[1], k_w=w.shape[2], **geo)
            else:
                planar = (tuple(w.shape[1:3]) == (3, 3) and a["stride_h"] == a["stride_w"] in (1, 2)
                          and geo["dil_h"] == geo["dil_w"] == 1 and p.depth_mult == 1)
                c = T.dw_case(rng, tag, channels=x.shape[3], k_h=w.shape[1], k_w=w.shape[2], planar=planar, **geo)
        elif o.kind == "FULLY_CONNECTED":
            w = ir.tensor(g, o.inputs[1]).data
            data = dict(w=w, bias=np.asarray(p.bias), mult=np.asarray(p.mult), shift=np.asarray(p.shift),
                        out_zp=p.out_zp, act=tuple(p.act_range))
            c = T.fc_case(rng, tag, batches=p.batches, in_depth=p.in_depth, out_depth=p.out_depth, data=data)
        elif o.kind == "AVERAGE_POOL_2D":
            c = T.pool_case(rng, tag, batches=p.batches, in_h=p.in_h, in_w=p.in_w, channels=p.channels,
                            f_h=a["filter_h"], f_w=a["filter_w"], stride_h=a["stride_h"], stride_w=a["stride_w"],
                            pad_top=p.pad_top, pad_left=p.pad_left, out_h=p.out_h, out_w=p.out_w)
            c = _with_act(c, p.act_range)
        elif o.kind == "ADD":
            y = ir.tensor(g, o.outputs[0])
            za, zb, zy = -p.offsets[0], -p.offsets[1], p.offsets[2]
            c = T.add_case(rng, tag, size=y.size, zps=(za, zb, zy), act=tuple(p.act_range),
                           mults=(p.in1, p.in2, p.out))
        else:
            continue
        if c is None:
            print(f"  {path.stem}: {o.kind} #{tag}: pack.py refused the constants (plain kernel stays)")
            continue
        cases.append(c)
    return cases


def constant_bytes(path: Path) -> tuple[int, int]:
    """Bytes of constants (weights, biases, requantization, tables) of the layers above: what the
    plain kernels read (int8 weights, int32 bias / mult / shift per channel) and what the fast
    kernels read (pack.py's arrays)."""
    g = driver.compile_graph(str(path))
    plain = fast = 0
    for node in g.nodes:
        o = g.nodes[node]["value"]
        if not isinstance(o, ir.Op) or ir.tensor(g, o.inputs[0]).dtype != "int8":
            continue
        p = o.params
        if o.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            w = ir.tensor(g, o.inputs[1]).data
            plain += w.size + 12 * len(p.bias)
            args = (w, np.asarray(p.bias), p.mult, p.shift, p.out_zp)
            try:
                if o.kind == "CONV_2D":
                    pk = T.pack.pack_conv(*args)
                elif o.kind == "FULLY_CONNECTED":
                    pk = T.pack.pack_fc(*args)
                elif tuple(w.shape[1:3]) == (3, 3):
                    pk = T.pack.pack_depthwise_planar(*args)
                else:
                    pk = T.pack.pack_depthwise(*args)
            except T.pack.PackError:
                fast += w.size + 12 * len(p.bias)
                continue
            fast += sum(np.asarray(v).nbytes for k, v in pk.items() if isinstance(v, np.ndarray))
        elif o.kind == "ADD":
            plain += 0
            fast += 512 * 4 + 12
    return plain, fast


def _with_act(c: T.Case, act) -> T.Case:
    lo, hi = act
    c.decls = re.sub(r"\.act_min = -?\d+, \.act_max = -?\d+", f".act_min = {lo}, .act_max = {hi}", c.decls)
    return c


def nx_topo(g):
    import networkx as nx
    return list(nx.topological_sort(g))


def bench_program(cases: list[T.Case]) -> str:
    out = max(max(c.out_bytes, c.in_bytes) for c in cases)
    scr = max(c.scratch_bytes for c in cases)
    parts = [T.PROGRAM_HEAD % dict(canary=T.CANARY, out=out, scratch=max(scr, 8))]
    for i, c in enumerate(cases):
        parts.append(c.decls)
        parts.append(f"""static void run{i}(void)
{{
    uint32_t tp, tf;
    long bad;
    board_timer_start();
    {c.plain_call}
    tp = board_timer_stop();
    arm({c.out_bytes}, {c.scratch_bytes});
    board_timer_start();
    {c.fast_call}
    tf = board_timer_stop();
    bad = check({c.out_bytes}, {c.scratch_bytes});
    put_num("L ", {i}); put_num(" ", (long)tp); put_num(" ", (long)tf); put_num(" ", bad); board_print("\\n");
}}
""")
    parts.append("int main(void)\n{\n    board_init();\n")
    parts += [f"    run{i}();\n" for i in range(len(cases))]
    parts.append("    board_print(\"END\\n\");\n    return 0;\n}\n")
    return "".join(parts)


def run_model(name: str, path: Path, work: Path) -> list[dict]:
    cases = model_cases(path)
    src = work / f"bench_{name}.c"
    src.write_text(bench_program(cases))
    elf = toolchain.build_arm([src, *T.PLAIN_SOURCES, *T.ARM_SOURCES], [T.KERNELS, T.ARM_KERNELS],
                              work / f"bench_{name}.elf", target="cortex-m4")
    rc, log = toolchain.run_qemu(elf, work, timeout=600)
    if rc != 0 or "END" not in log:
        raise SystemExit(f"{name}: benchmark failed (exit {rc}):\n{log[-2000:]}")
    ipt = toolchain.QEMU_INSTRUCTIONS_PER_TICK
    rows = []
    for i, tp, tf, bad in re.findall(r"L (\d+) (\d+) (\d+) (-?\d+)", log):
        c = cases[int(i)]
        rows.append(dict(model=name, layer=int(i), kind=layer_kind(c), desc=c.desc, macs=c.macs,
                         plain=int(tp) * ipt, fast=int(tf) * ipt, exact=int(bad) == 0))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=MODELS)
    ap.add_argument("--models-dir", default=str(REPO.parent / "shared" / "models"))
    ap.add_argument("--json", help="write every row as JSON")
    args = ap.parse_args(argv)
    all_rows = []
    with tempfile.TemporaryDirectory(prefix="tcc-bench-") as tmp:
        for name in args.models:
            path = Path(args.models_dir) / f"{name}.tflite"
            rows = run_model(name, path, Path(tmp))
            all_rows += rows
            print(f"\n== {name}")
            print(f"{'#':>3} {'layer':<20} {'MACs':>10} {'plain':>11} {'fast':>10} {'fast/MAC':>8} {'x':>5}  exact")
            for r in rows:
                ipm = f"{r['fast'] / r['macs']:.3f}" if r["macs"] else "-"
                print(f"{r['layer']:>3} {r['kind']:<20} {r['macs']:>10,} {r['plain']:>11,} {r['fast']:>10,} {ipm:>8} "
                      f"{r['plain'] / max(r['fast'], 1):>5.1f}  {'yes' if r['exact'] else 'NO'}")
            macs = sum(r["macs"] for r in rows)
            plain = sum(r["plain"] for r in rows)
            fast = sum(r["fast"] for r in rows)
            other = PLAIN_TOTAL[name] - plain
            est = fast + max(other, 0)
            print(f"    layers: {macs:,} MACs, plain {plain:,}, fast {fast:,} ({fast / max(macs, 1):.3f}/MAC)")
            print(f"    model estimate: fast layers + {max(other, 0):,} outside them = {est:,} instructions "
                  f"({est / max(macs, 1):.3f}/MAC); TFLM+CMSIS-NN {TFLM_CMSIS[name]:,}, half of it "
                  f"{TFLM_CMSIS[name] // 2:,}")
            cp, cf = constant_bytes(path)
            print(f"    constants (weights, biases, requantization, tables): plain {cp:,} B, fast {cf:,} B")
            for r in rows:
                r["model_estimate"] = est
    print("\n== per layer type (all models)")
    kinds: dict[str, list] = {}
    for r in all_rows:
        kinds.setdefault(r["kind"], []).append(r)
    for k, rs in sorted(kinds.items()):
        macs = sum(r["macs"] for r in rs)
        fast = sum(r["fast"] for r in rs)
        plain = sum(r["plain"] for r in rs)
        ipm = f"{fast / macs:.3f}" if macs else "-"
        print(f"  {k:<20} {len(rs):>3} layers {macs:>11,} MACs  plain {plain:>11,}  fast {fast:>10,}  "
              f"fast/MAC {ipm}")
    if args.json:
        Path(args.json).write_text(json.dumps(all_rows, indent=1))
    bad = [r for r in all_rows if not r["exact"]]
    if bad:
        print(f"\n{len(bad)} layers NOT bit-exact")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
