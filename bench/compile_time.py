"""Compile time of ``tinycc build`` as models grow.

    python bench/compile_time.py [--sizes 100,1000,5000] [--shapes chain,wide,lstm] [--targets generic,cortex-m4]
                                 [--no-shared] [--no-stack] [--cold] [--models a,b]

Writes synthetic int8 models (``tinycc/testing/models_scale.py``: a chain, wide branches joined by
ADDs, an unrolled LSTM-style cell with many small long-lived tensors) of each size, then runs
``python -m tinycc build`` on them and on the shared MLPerf Tiny models ($TINYCC_MODELS) in a
fresh process each, with default options (stack measured when arm-none-eabi-gcc is installed).
Prints CPU seconds (user + sys of tinycc and its compiler runs; wall time is meaningless on a
shared machine) per model, and for each shape the growth ratio between consecutive sizes.

Every build runs twice with one compiled-object cache (``tinycc/objcache.py``) that starts
empty: "first" is a model built for the first time (its NAME.c compiled for the stack bound; the
kernels too unless an earlier model of the run compiled them), "again" the same build repeated
(nothing left to compile: the edit-build loop of an unchanged model). With ``--cold`` every
"first" build gets a fresh empty cache of its own (a model built once on a fresh machine: every
kernel compiled too), and "again" repeats it with that cache.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinycc.testing import models_scale  # noqa: E402


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def build_seconds(model: Path, target: str, out: Path, stack: bool = True, cache: Path | None = None) -> float:
    """CPU seconds of one ``tinycc build`` in a fresh interpreter (imports included)."""
    cmd = [sys.executable, "-m", "tinycc", "build", str(model), "-o", str(out), "--target", target]
    if not stack:
        cmd.append("--no-stack")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)     # as an installed tinycc runs: its bytecode cached
    if cache is not None:
        env["TINYCC_CACHE"] = str(cache)
    before = _children_cpu()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    return _children_cpu() - before


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--shapes", default=",".join(models_scale.SHAPES))
    ap.add_argument("--targets", default="generic,cortex-m4")
    ap.add_argument("--no-shared", action="store_true")
    ap.add_argument("--no-stack", action="store_true")
    ap.add_argument("--cold", action="store_true", help="a fresh empty object cache for every model and target")
    ap.add_argument("--models", default="", help="only these shared models (file stems, comma-separated)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    targets = args.targets.split(",")
    shared = Path(os.environ.get("TINYCC_MODELS", "/work/shared/models"))
    with tempfile.TemporaryDirectory(prefix="tinycc-compile-time-") as tmp:
        models = []
        if not args.no_shared:
            wanted = set(filter(None, args.models.split(",")))
            models += [(p.stem, p) for p in sorted(shared.glob("*.tflite")) if not wanted or p.stem in wanted]
        for shape in filter(None, args.shapes.split(",")):
            for n in sizes:
                path = Path(tmp) / f"{shape}_{n}.tflite"
                path.write_bytes(models_scale.SHAPES[shape](n))
                models.append((f"{shape}_{n}", path))
        print(f"{'model':28s}" + "".join(f"{t + ' first':>20s}{'again':>8s}" for t in targets)
              + "   (CPU seconds per build)")
        seconds = {}
        cache = Path(tmp) / "cache"
        for name, path in models:
            row = []
            for t in targets:
                if args.cold:
                    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=tmp))
                first = seconds[(name, t, "first")] = build_seconds(path, t, Path(tmp) / "out", not args.no_stack, cache)
                again = seconds[(name, t, "again")] = build_seconds(path, t, Path(tmp) / "out", not args.no_stack, cache)
                row.append(f"{first:20.2f}{again:8.2f}")
            print(f"{name:28s}" + "".join(row), flush=True)
        for shape in filter(None, args.shapes.split(",")):
            for a, b in zip(sizes, sizes[1:]):
                ratios = "  ".join(f"{t} {seconds[(f'{shape}_{b}', t, k)] / seconds[(f'{shape}_{a}', t, k)]:.1f}x {k}"
                                   for t in targets for k in ("first", "again"))
                print(f"growth {shape} {a} -> {b} ops ({b / a:.0f}x ops): {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
