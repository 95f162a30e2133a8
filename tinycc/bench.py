"""``tinycc bench``: instructions and estimated cycles per inference in QEMU, per op, with MACs,
instructions per MAC and cycles per MAC.

Two builds of the model run in QEMU with ``-icount shift=0`` (one instruction per virtual ns,
SysTick calibrated per board) and QEMU's block log (``tinycc.cycles``):
  * the normal build under the verification harness gives the exact instructions of one
    inference (SysTick; what firmware runs) and its estimated cycles: every block executed from
    the entry of NAME_invoke to its return, costed with the target core's instruction timings;
  * a bench build calls NAME_bench_mark() between ops (runtime/board/bench.c); the log, cut at
    each mark (the mark's own code is not counted), gives each op's instructions and cycles.
    The call of each mark stays in the op before it (a few cycles), so the per-op columns sum
    to a little more than the totals.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import cycles as cycle_model, ir, ops, toolchain
from .codegen.emit import Options, generate_with_report
from .driver import DEFAULT_TARGET, build, check_target, default_optimize, measure_cpu
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
    cycles: int = 0                   # estimated, the target core's timings
    subgraph: int | None = None       # an op of this subgraph, run by the op above (IF, WHILE):
    #                                   its kernel and MACs per call, no count of its own


@dataclass
class BenchResult:
    model: str
    target: str
    optimize: str
    instructions: int                 # one inference, normal build
    macs: int
    ops: list[OpBench] = field(default_factory=list)
    cycles: int = 0                   # one inference, normal build, estimated
    core: str = ""                    # whose timings estimate the cycles
    assumptions: str = ""             # the cycle model's, for this core
    run_on: str = ""                  # the core it ran on (a generic build: cortex-m4)

    @property
    def per_mac(self) -> float:
        return self.instructions / self.macs if self.macs else float("nan")

    @property
    def cycles_per_mac(self) -> float:
        return self.cycles / self.macs if self.macs else float("nan")

    @property
    def cycles_per_instruction(self) -> float:
        return self.cycles / self.instructions if self.instructions else float("nan")


def estimate(elf: Path, log: Path, core: str, entry: str, mark: str | None = None) -> cycle_model.Profile:
    """The profile of one call of ``entry`` in a QEMU block log of ``elf`` (see cycle_model.profile_log),
    cut into segments at the calls of ``mark``."""
    insns, syms = cycle_model.disassemble(elf, toolchain.find_tool("arm-none-eabi-objdump"))
    addr = {s: a for a, s in syms}
    start = addr[entry]
    mark_at = addr.get(mark) if mark else None
    marks = cycle_model.call_return_sites(insns, mark_at) if mark_at is not None else set()
    return cycle_model.profile_log(log, insns, syms, cycle_model.core(core), start,
                                   cycle_model.call_return_sites(insns, start), mark_at, marks)


def bench(model_path: str, target: str = DEFAULT_TARGET, optimize: str | None = None,
          timeout: float = 600, shapes: dict[str, tuple[int, ...]] | None = None,
          compress: str = "auto", flash_budget: int | None = None) -> BenchResult:
    """Instructions (and estimated cycles) of ``target``'s build in QEMU on its core (a generic
    build on cortex-m4), with ``flash_budget`` bytes of flash (default: the build's)."""
    target = check_target(target)
    run_on = measure_cpu(target)
    if run_on not in toolchain.QEMU_BOARDS:
        raise TinyccError(f"bench runs in QEMU: --target must be one of {', '.join(toolchain.QEMU_BOARDS)}")
    optimize = optimize or default_optimize(target)
    with tempfile.TemporaryDirectory(prefix="tinycc-bench-") as tmp:
        tmp = Path(tmp)
        # 1. exact total: the normal build, one sample; the per-op build below takes its graph
        # (a build measured above the flash budget is redone with other kernels: driver.generate)
        g = build(model_path, str(tmp / "model"), "model", target, optimize=optimize, shapes=shapes,
                  compress=compress, flash_budget=flash_budget).graph
        order = g.graph["plan"].order
        elf = toolchain.build_harness(tmp / "model", tmp / "h.elf", mode="qemu", target=run_on)
        blob = b"".join(x.tobytes() for x in random_inputs(g, np.random.default_rng(0)))
        _, _, instr = toolchain.run_samples(elf, blob, 1, mode="qemu", target=run_on, timeout=timeout,
                                            workdir=tmp / "run", qemu_log=tmp / "h.log")
        total = estimate(elf, tmp / "h.log", run_on, "model_invoke")
        (tmp / "h.log").unlink()
        # 2. per op: the bench build
        files, _ = generate_with_report(g, Options("model", target, bench=True))
        bdir = tmp / "bench"
        bdir.mkdir()
        for name, text in files.items():
            (bdir / name).parent.mkdir(parents=True, exist_ok=True)
            (bdir / name).write_text(text)
        belf = toolchain.build_arm([*sorted(bdir.glob("*.c")), BENCH_SOURCE], [bdir, toolchain.BOARD_DIR],
                                   tmp / "b.elf", target=run_on,
                                   defines=[*toolchain.harness_defines("model"), f"TCC_OP_COUNT={len(order)}"])
        rc, out = toolchain.run_qemu(belf, tmp, run_on, timeout, log=tmp / "b.log")
        if rc != 0:
            raise TinyccError(f"bench build failed in QEMU (exit {rc}): {out.strip().splitlines()[-1:]}")
        per_op = estimate(belf, tmp / "b.log", run_on, "model_invoke", "model_bench_mark")
    res = BenchResult(Path(model_path).name, target, optimize, instr[0], 0, cycles=total.total_cycles,
                      core=cycle_model.core(run_on).name, assumptions=cycle_model.core(run_on).assumptions,
                      run_on=run_on)
    for k, oid in enumerate(order):
        o = ir.op(g, oid)
        macs = ops.lookup(o.kind).macs(g, o)
        res.macs += macs
        kernel = ops.kernel_impl(o)
        seg = k + 1 if k + 1 < len(per_op.cycles) else None    # segment 0: before the first op
        res.ops.append(OpBench(k, o.index, o.kind, kernel, macs,
                               per_op.instructions[seg] if seg else 0, per_op.cycles[seg] if seg else 0))
        res.ops += _subgraph_rows(g, o, k)
    return res


def _subgraph_rows(g, o: ir.Op, step: int) -> list[OpBench]:
    """The ops of the subgraphs an IF/WHILE runs (nested ones after their caller), with the kernel
    each was given: their instructions are counted in the calling op's row."""
    rows = []
    for attr in ops.lookup(o.kind).subgraph_attrs:
        k = o.attrs[attr]
        sub = g.graph["subgraphs"][k]
        for n in ir.ops_in_order(sub):
            so = ir.op(sub, n)
            rows.append(OpBench(step, so.index, so.kind, ops.kernel_impl(so), ops.lookup(so.kind).macs(sub, so),
                                0, 0, subgraph=k))
            rows += _subgraph_rows(sub, so, step)
    return rows


def format_text(r: BenchResult) -> str:
    lines = [f"tinycc bench {r.model}: {r.target} build (--optimize {r.optimize}) in QEMU "
             f"{toolchain.qemu_machine(r.run_on)} ({r.run_on})",
             f"{'step':>4} {'op':>4} {'kind':<20} {'kernel':<14} {'MACs':>11} {'instructions':>13} "
             f"{'instr/MAC':>9} {'cycles':>12} {'cyc/MAC':>8}"]
    for o in r.ops:
        if o.subgraph is not None:
            at = f"sg{o.subgraph}:{o.index}"
            lines.append(f"{'':>4} {at:>4} {o.kind:<20} {o.kernel:<14} {o.macs:>11,} {'(in step ' + str(o.step) + ')':>13}")
            continue
        per = f"{o.instructions / o.macs:9.2f} " if o.macs else f"{'-':>9} "
        cper = f"{o.cycles / o.macs:8.2f}" if o.macs else f"{'-':>8}"
        lines.append(f"{o.step:>4} {o.index:>4} {o.kind:<20} {o.kernel:<14} {o.macs:>11,} {o.instructions:>13,} "
                     f"{per}{o.cycles:>12,} {cper}")
    lines.append(f"total: {r.instructions:,} instructions per inference, {r.macs:,} MACs, "
                 f"{r.per_mac:.2f} instructions per MAC")
    lines.append(f"estimated {r.core} cycles: {r.cycles:,} per inference, {r.cycles_per_mac:.2f} per MAC, "
                 f"{r.cycles_per_instruction:.2f} per instruction ({r.assumptions})")
    return "\n".join(lines)


def to_json(r: BenchResult) -> str:
    d = asdict(r)
    d["instructions_per_mac"] = r.per_mac
    d["cycles_per_mac"] = r.cycles_per_mac
    d["cycles_per_instruction"] = r.cycles_per_instruction
    return json.dumps(d, indent=2)
