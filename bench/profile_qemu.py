"""Where the instructions of one inference go, per function: the default build of a model for a
Cortex-M board, run once in QEMU with translation-block logging (``-d in_asm,exec,nochain``: every
executed block is logged, chaining off), each block's instruction count times its executions,
summed per symbol of the ELF. Slow (a log of ~30 MB per 8 M instructions) and for development only;
the totals agree with the SysTick count of ``tinycc bench`` to within the harness's own code.

    python bench/profile_qemu.py ../shared/models/vww_96_int8.tflite [--target cortex-m4] [--pcs]
"""
from __future__ import annotations

import argparse
import bisect
import collections
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tinycc import toolchain  # noqa: E402
from tinycc.driver import build, compile_graph, default_optimize  # noqa: E402
from tinycc.verify import random_inputs  # noqa: E402

_ADDR = re.compile(r"0x([0-9a-f]+):\s")
_EXEC = re.compile(r"Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")


def profile(model: str, target: str, work: Path) -> tuple[int, collections.Counter, collections.Counter]:
    optimize = default_optimize(target)
    build(model, str(work / "model"), "model", target, optimize=optimize)
    elf = toolchain.build_harness(work / "model", work / "h.elf", mode="qemu", target=target)
    g = compile_graph(model, target=target, optimize=optimize)
    blob = b"".join(x.tobytes() for x in random_inputs(g, np.random.default_rng(0)))
    log = work / "qemu.log"
    plain = toolchain.qemu_command

    def logged(elf_path, tgt="cortex-m4"):
        cmd = plain(elf_path, tgt)
        k = cmd.index("-kernel")
        return cmd[:k] + ["-d", "in_asm,exec,nochain", "-D", str(log)] + cmd[k:]

    toolchain.qemu_command = logged
    try:
        _, _, instr = toolchain.run_samples(elf, blob, 1, mode="qemu", target=target, timeout=3600,
                                            workdir=work / "run")
    finally:
        toolchain.qemu_command = plain
    size, execs, start, n = {}, collections.Counter(), None, 0
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("IN:"):
                start, n = None, 0
            elif m := _ADDR.match(line):
                start = int(m.group(1), 16) if start is None else start
                n += 1
                size[start] = n
            elif m := _EXEC.match(line):
                execs[int(m.group(1), 16)] += 1
                start = None
    nm = subprocess.run([toolchain.find_tool("arm-none-eabi-nm"), "-n", str(elf)], capture_output=True,
                        text=True, check=True).stdout
    syms = sorted((int(p[0], 16) & ~1, p[2]) for p in (ln.split() for ln in nm.splitlines())
                  if len(p) >= 3 and p[1] in "tT")
    addrs = [a for a, _ in syms]
    per_fn, per_pc = collections.Counter(), collections.Counter()
    for pc, k in execs.items():
        c = k * size.get(pc, 0)
        per_pc[pc] += c
        i = bisect.bisect_right(addrs, pc) - 1
        per_fn[syms[i][1] if i >= 0 else "?"] += c
    return instr[0], per_fn, per_pc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--target", default="cortex-m4")
    ap.add_argument("--pcs", action="store_true", help="also the 30 hottest block addresses")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tinycc-profile-") as tmp:
        total, per_fn, per_pc = profile(a.model, a.target, Path(tmp))
    print(f"{Path(a.model).name}: {total:,} instructions (SysTick), {sum(per_fn.values()):,} counted")
    for name, c in per_fn.most_common(25):
        print(f"{c:>12,}  {100 * c / max(total, 1):5.1f} %  {name}")
    if a.pcs:
        for pc, c in per_pc.most_common(30):
            print(f"{c:>12,}  block 0x{pc:x}")


if __name__ == "__main__":
    main()
