"""``tinycc bench``: instructions per inference in QEMU, per op, with MACs and instructions per MAC.

Two builds of the model run in QEMU with ``-icount shift=0`` (one instruction per virtual ns,
SysTick calibrated per board):
  * the normal build under the verification harness gives the exact instructions of one
    inference (what firmware runs);
  * a bench build calls NAME_bench_mark() between ops (runtime/board/bench.c) and gives each
    op's share; each mark adds a few tens of instructions, so the per-op column sums to a little
    more than the total.
"""
from __future__ import annotations

import json
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import ir, ops, toolchain
from .codegen.emit import Options, generate_with_report
from .driver import build, compile_graph, default_optimize
from .errors import TinyccError
from .verify import random_inputs

BENCH_SOURCE = toolchain.BOARD_DIR / "bench.c"


@dataclass
class OpBench:
    step: int
    index: int
    kind: str
    kernel: str
    macs: int
    instructions: int


@dataclass
class BenchResult:
    model: str
    target: str
    optimize: str
    instructions: int                 # one inference, normal build
    macs: int
    ops: list[OpBench] = field(default_factory=list)

    @property
    def per_mac(self) -> float:
        return self.instructions / self.macs if self.macs else float("nan")


def bench(model_path: str, target: str = "cortex-m4", optimize: str | None = None, timeout: float = 600) -> BenchResult:
    if target not in toolchain.QEMU_BOARDS:
        raise TinyccError(f"bench runs in QEMU: --target must be one of {', '.join(toolchain.QEMU_BOARDS)}")
    optimize = optimize or default_optimize(target)
    g = compile_graph(model_path, target=target, optimize=optimize)
    order = g.graph["plan"].order
    with tempfile.TemporaryDirectory(prefix="tinycc-bench-") as tmp:
        tmp = Path(tmp)
        # 1. exact total: the normal build, one sample
        build(model_path, str(tmp / "model"), "model", target, optimize=optimize)
        elf = toolchain.build_harness(tmp / "model", tmp / "h.elf", mode="qemu", target=target)
        blob = b"".join(x.tobytes() for x in random_inputs(g, np.random.default_rng(0)))
        _, _, instr = toolchain.run_samples(elf, blob, 1, mode="qemu", target=target, timeout=timeout,
                                            workdir=tmp / "run")
        # 2. per op: the bench build
        files, _ = generate_with_report(g, Options("model", target, bench=True))
        bdir = tmp / "bench"
        bdir.mkdir()
        for name, text in files.items():
            (bdir / name).parent.mkdir(parents=True, exist_ok=True)
            (bdir / name).write_text(text)
        belf = toolchain.build_arm([*sorted(bdir.glob("*.c")), BENCH_SOURCE], [bdir, toolchain.BOARD_DIR],
                                   tmp / "b.elf", target=target,
                                   defines=[*toolchain.harness_defines("model"), f"TCC_OP_COUNT={len(order)}"])
        rc, out = toolchain.run_qemu(belf, tmp, target, timeout)
        if rc != 0:
            raise TinyccError(f"bench build failed in QEMU (exit {rc}): {out.strip().splitlines()[-1:]}")
    ticks = {int(k): int(v) for k, v in re.findall(r"tinycc-bench: op (\d+) (\d+)", out)}
    ipt = int(re.search(r"instructions per tick (\d+)", out).group(1))
    res = BenchResult(Path(model_path).name, target, optimize, instr[0], 0)
    for k, oid in enumerate(order):
        o = ir.op(g, oid)
        macs = ops.lookup(o.kind).macs(g, o)
        res.macs += macs
        kernel = ops.kernel_impl(o)
        res.ops.append(OpBench(k, o.index, o.kind, kernel, macs, ticks.get(k, 0) * ipt))
    return res


def format_text(r: BenchResult) -> str:
    lines = [f"tinycc bench {r.model}: QEMU {toolchain.qemu_machine(r.target)} ({r.target}), "
             f"--optimize {r.optimize}",
             f"{'step':>4} {'op':>4} {'kind':<20} {'kernel':<14} {'MACs':>11} {'instructions':>13} {'instr/MAC':>9}"]
    for o in r.ops:
        per = f"{o.instructions / o.macs:9.2f}" if o.macs else f"{'-':>9}"
        lines.append(f"{o.step:>4} {o.index:>4} {o.kind:<20} {o.kernel:<14} {o.macs:>11,} {o.instructions:>13,} {per}")
    lines.append(f"total: {r.instructions:,} instructions per inference, {r.macs:,} MACs, "
                 f"{r.per_mac:.2f} instructions per MAC (per-op figures include ~30 instructions of timing each)")
    return "\n".join(lines)


def to_json(r: BenchResult) -> str:
    d = asdict(r)
    d["instructions_per_mac"] = r.per_mac
    return json.dumps(d, indent=2)
