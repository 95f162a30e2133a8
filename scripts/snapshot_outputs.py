"""Build every shared and zoo model for a few targets and hash every generated file.

    python scripts/snapshot_outputs.py OUT.json [--models DIR] [--only SUBSTR]

A refactoring must not change the generated C: run it before and after, then `diff` the two
JSON files (one line per generated file: "model target file sha256"). Stack measurement is
skipped (--no-stack). Each build runs in this process through the CLI entry point.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinycc.cli import main as tinycc_main  # noqa: E402

TARGETS = ("generic", "cortex-m4", "cortex-m0")


def models(shared: Path) -> list[Path]:
    return sorted(shared.glob("*.tflite")) + sorted((ROOT / "tests" / "zoo").glob("*.tflite"))


def snapshot(paths: list[Path]) -> dict[str, str]:
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="tinycc-snap-") as tmp:
        for m in paths:
            for target in TARGETS:
                d = Path(tmp) / f"{m.stem}-{target}"
                rc = tinycc_main(["build", str(m), "-o", str(d), "--target", target, "--no-stack"])
                if rc != 0:
                    out[f"{m.name} {target}"] = f"exit {rc}"
                    continue
                for f in sorted(d.rglob("*")):
                    if f.is_file():
                        out[f"{m.name} {target} {f.relative_to(d)}"] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--models", default=os.environ.get("TINYCC_MODELS", "/work/shared/models"))
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    paths = [p for p in models(Path(a.models)) if a.only in p.name]
    Path(a.out).write_text(json.dumps(snapshot(paths), indent=0, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
