"""Measure what compiling each runtime kernel gives the stack bound and the flash figures, and
write tinycc/kernel_facts.json, so that a build on a fresh machine compiles only its own NAME.c.

    python scripts/measure_kernel_facts.py [--check]

Builds every shared MLPerf Tiny model ($TINYCC_MODELS, default ../shared/models) for every
target with its default options and the stack measured, in a fresh object cache, then keeps
every kernel's facts (toolchain._source_facts: GCC's call graph, the frames read from the object
code, the symbols and the section sizes; keyed by the compiler's version, the flags and the
kernel's text with its model-name prefix taken off) and the C library's frames for each set of
library symbols. Figures are looked up by content, so an entry for a kernel that has changed
since is never used (that kernel is compiled, as without the table); regenerate after changing a
kernel. --check: exit 1 when a shared model's default build on cortex-m4 would compile a kernel
(tests/test_objcache.py checks the same).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinycc import driver, toolchain  # noqa: E402
from tinycc.targets import TARGETS  # noqa: E402

MODELS = Path(os.environ.get("TINYCC_MODELS", ROOT.parent / "shared" / "models"))


def measure(models: list[Path], targets: list[str], table: bool = False) -> dict:
    """The facts the builds computed (without ``table``: every kernel's and library set's; with it,
    those the shipped table lacks)."""
    shipped = toolchain.KERNEL_FACTS
    with tempfile.TemporaryDirectory(prefix="tinycc-kernel-facts-") as cache:
        os.environ["TINYCC_CACHE"] = cache
        toolchain.shipped_facts.cache_clear()
        if not table:
            toolchain.KERNEL_FACTS = Path(cache) / "none.json"      # measure everything afresh
        for model in models:
            for target in targets:
                driver.generate(str(model), "model", target, stack=True)
                print(f"measured {model.stem} {target}", flush=True)
        sources, libraries = {}, {}
        for f in sorted(Path(cache).glob("objects-1/??/*.json")):
            k, tag = f.name.split(".")[0], ".".join(f.name.split(".")[1:-1])
            data = json.loads(f.read_text())
            if tag == toolchain._FACTS_VERSION and data.get("kernel"):
                sources[k] = data
            elif tag == "library-frames":
                libraries[k] = data
    toolchain.KERNEL_FACTS = shipped
    toolchain.shipped_facts.cache_clear()
    return {"version": toolchain._FACTS_VERSION, "sources": sources, "libraries": libraries}


def write(table: dict, path: Path) -> None:
    """One entry per line, keys sorted: a regenerated table diffs by entry."""
    lines = [f'{{"version": {json.dumps(table["version"])},']
    for part in ("sources", "libraries"):
        entries = sorted(table[part].items())
        lines.append(f'"{part}": {{')
        lines += [f"{json.dumps(k)}: {json.dumps(v, sort_keys=True, separators=(',', ':'))}"
                  + ("," if i + 1 < len(entries) else "") for i, (k, v) in enumerate(entries)]
        lines.append("}," if part == "sources" else "}")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    models = sorted(MODELS.glob("*.tflite"))
    if not models:
        print(f"no models in {MODELS} (set TINYCC_MODELS)", file=sys.stderr)
        return 2
    if args.check:
        missing = measure(models, ["cortex-m4"], table=True)
        print(f"{len(missing['sources'])} kernel file(s) and {len(missing['libraries'])} library set(s) of the "
              f"cortex-m4 builds not in {toolchain.KERNEL_FACTS}")
        return 1 if missing["sources"] or missing["libraries"] else 0
    table = measure(models, list(TARGETS))
    write(table, toolchain.KERNEL_FACTS)
    print(f"wrote {toolchain.KERNEL_FACTS}: {len(table['sources'])} kernel files, "
          f"{len(table['libraries'])} library sets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
