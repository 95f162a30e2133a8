"""Record the arena size (and the planner's winning strategy) of every shared and zoo model.

    python bench/arena_baseline.py [OUT.json]      (default: tests/data/arena_baseline.json)

Builds each model's plan (no codegen) for the target/optimize pairs in CONFIGS. The file is a
regression guard: tests/test_planner_sizes.py checks that today's planner is never larger.
Shared models come from $TINYCC_MODELS (default /work/shared/models).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinycc.driver import compile_graph  # noqa: E402
from tinycc.errors import TinyccError  # noqa: E402

CONFIGS = (("generic", "memory"), ("cortex-m0", "memory"), ("cortex-m4", "speed"))


def models() -> list[Path]:
    shared = Path(os.environ.get("TINYCC_MODELS", "/work/shared/models"))
    return sorted(shared.glob("*.tflite")) + sorted((ROOT / "tests" / "zoo").glob("*.tflite"))


def key(path: Path) -> str:
    return ("zoo/" if path.parent.name == "zoo" else "shared/") + path.name


def measure(path: Path) -> dict:
    out = {}
    for target, optimize in CONFIGS:
        try:
            plan = compile_graph(str(path), target=target, optimize=optimize).graph["plan"]
            out[f"{target}/{optimize}"] = {"arena": plan.size, "strategy": plan.strategy}
        except TinyccError:
            out[f"{target}/{optimize}"] = None      # refused (e.g. int8 op without a TFLM kernel)
    return out


def main(argv: list[str]) -> int:
    dest = Path(argv[0]) if argv else ROOT / "tests" / "data" / "arena_baseline.json"
    result = {}
    for p in models():
        t0 = time.process_time()
        result[key(p)] = measure(p)
        print(f"{key(p):50s} {time.process_time() - t0:7.2f} s  "
              + " ".join(f"{c}={v['arena'] if v else '-'}" for c, v in result[key(p)].items()), flush=True)
    dest.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
