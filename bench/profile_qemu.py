"""Where the instructions and estimated cycles of one inference go, per function: the default
build of a model for a Cortex-M board, run once in QEMU with translation-block logging, costed by
tinycc's cycle model (``tinycc/cycles.py``: every executed block from the entry of NAME_invoke to
its return, with the target core's instruction timings), summed per symbol of the ELF. For
development; ``tinycc bench`` gives the same totals per op.

    python bench/profile_qemu.py ../shared/models/vww_96_int8.tflite [--target cortex-m4]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tinycc import toolchain  # noqa: E402
from tinycc.bench import estimate  # noqa: E402
from tinycc.driver import build, compile_graph, default_optimize  # noqa: E402
from tinycc.verify import random_inputs  # noqa: E402


def profile(model: str, target: str, work: Path):
    """(SysTick instructions of the inference, its cycles.Profile)."""
    optimize = default_optimize(target)
    build(model, str(work / "model"), "model", target, optimize=optimize)
    elf = toolchain.build_harness(work / "model", work / "h.elf", mode="qemu", target=target)
    g = compile_graph(model, target=target, optimize=optimize)
    blob = b"".join(x.tobytes() for x in random_inputs(g, np.random.default_rng(0)))
    _, _, instr = toolchain.run_samples(elf, blob, 1, mode="qemu", target=target, timeout=3600,
                                        workdir=work / "run", qemu_log=work / "qemu.log")
    return instr[0], estimate(elf, work / "qemu.log", target, "model_invoke")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--target", default="cortex-m4")
    ap.add_argument("--top", type=int, default=25, help="functions listed (default 25)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tinycc-profile-") as tmp:
        total, prof = profile(a.model, a.target, Path(tmp))
    print(f"{Path(a.model).name}: {total:,} instructions (SysTick), {prof.total_instructions:,} counted, "
          f"{prof.total_cycles:,} estimated {a.target} cycles")
    print(f"{'instructions':>12} {'cycles':>12} {'share':>6} {'CPI':>5}  function")
    for name, (n, c) in sorted(prof.per_symbol.items(), key=lambda kv: -kv[1][1])[:a.top]:
        print(f"{n:>12,} {c:>12,} {100 * c / max(prof.total_cycles, 1):5.1f}% {c / max(n, 1):5.2f}  {name}")


if __name__ == "__main__":
    main()
