"""Measure the code of every runtime kernel file, part by part, and write tinycc/kernel_code.py.

    python scripts/measure_kernel_code.py [--check]

A build keeps the kernel files its ops call (runtime/kernels/*.c, arm/*.c) with the optional parts
no op uses compiled out (``#ifndef TCC_OMIT_<PART>``, ``codegen.emit.omit_unused``). For each
file this compiles (arm-none-eabi-gcc -O2 for cortex-m4, ``toolchain.object_sizes``) the file with
every optional part left out ("base"), and once per part with only that part kept: .text +
.rodata + .data. ``tinycc.flash_estimate`` adds, per file a model keeps, the base and each used
part's bytes beyond it (parts sharing a helper count it twice: an upper bound). Each entry also
holds a digest of the file and the headers it includes, so a test sees a stale table without
compiling (tests/test_flash_estimate.py). --check: exit 1 when a digest differs.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinycc import toolchain  # noqa: E402
from tinycc.flash_estimate import kernel_sources, optional_parts, source_digest  # noqa: E402
from tinycc.resources import KERNELS  # noqa: E402

TABLE = ROOT / "tinycc" / "kernel_code.py"
HEADER = '''"""Measured code of the runtime kernel files (written by scripts/measure_kernel_code.py:
.text + .rodata + .data, arm-none-eabi-gcc -O2 for cortex-m4). Per file (its path under
runtime/kernels without .c): "digest" of its text and headers, "base" with every optional part
(TCC_OMIT_<PART>) left out, and per part the bytes with only that part kept. Read by
``tinycc.flash_estimate``."""
'''


def flash_of(source: str, omitted) -> int:
    return toolchain.object_sizes([KERNELS / f"{source}.c"], "cortex-m4", include_dirs=[KERNELS, KERNELS / "arm"],
                                  cflags=["-w", "-Wno-error"],      # a part left alone may leave helpers unused
                                  defines={f"TCC_OMIT_{p}": 1 for p in omitted})["flash"]


def measure_one(source: str) -> dict:
    """A file's entry; a part that does not compile alone (it needs another part's helpers)
    counts the whole file."""
    parts = optional_parts(source)
    full = flash_of(source, [])
    entry = {"digest": source_digest(source), "base": flash_of(source, parts) if parts else full}
    for p in parts:
        try:
            entry[p] = flash_of(source, [q for q in parts if q != p])
        except toolchain.ToolchainError:
            entry[p] = full
    return entry


def render(table: dict) -> str:
    lines = [HEADER, "KERNEL_CODE: dict[str, dict[str, object]] = {"]
    for src, entry in sorted(table.items()):
        body = ", ".join(f'"{k}": {v!r}' for k, v in entry.items())
        lines.append(f'    "{src}": {{{body}}},')
    lines += ["}", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if "--check" in argv:
        from tinycc.flash_estimate import stale_sources
        stale = stale_sources()
        print("kernel_code.py is up to date" if not stale else
              f"kernel_code.py is stale for {', '.join(stale)}: run scripts/measure_kernel_code.py")
        return 1 if stale else 0
    table = {}
    for s in kernel_sources():
        table[s] = measure_one(s)
        print(s, table[s], flush=True)
    TABLE.write_text(render(table))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
