"""Measure the code size of every kernel variant unit and write tinycc/variants/code_bytes.py.

    python scripts/measure_code_bytes.py [--check]

Each unit's C files are compiled as a model's build compiles them (arm-none-eabi-gcc -O2 for
cortex-m4, tinycc.toolchain.object_sizes) with the entry points of the other units in the same
file left out (TCC_OMIT_<ENTRY>), and each file once with all its units' entry points: .text +
.rodata + .data. pack_weights counts these bytes against the flash budget. --check: exit 1 when
the table differs from the measurement (tests/test_variants.py runs the same comparison).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinycc import toolchain, variants  # noqa: E402
from tinycc.resources import KERNELS  # noqa: E402

TABLE = ROOT / "tinycc" / "variants" / "code_bytes.py"
HEADER = '''"""Measured code size of the kernel variant units (written by scripts/measure_code_bytes.py:
.text + .rodata + .data, arm-none-eabi-gcc -O2 for cortex-m4). CODE_BYTES: per unit, its C file
with the other units' entry points left out; FILE_BYTES: per C file with all of them. Read by
``base.Variant.code_bytes`` and ``base.code_bytes_of``; a unit not listed counts
``base.DEFAULT_CODE_BYTES``."""
'''


def omit_name(entry: str) -> str:
    """The TCC_OMIT_ macro guarding a C entry point (Emitter.call: tcc_NAME -> NAME upper case)."""
    return "TCC_OMIT_" + entry.removeprefix("tcc_").upper()


def flash_of(source: str, omitted: list[str]) -> int:
    return toolchain.object_sizes([KERNELS / f"{source}.c"], "cortex-m4",
                                  include_dirs=[KERNELS, KERNELS / "arm"],
                                  defines={m: 1 for m in omitted})["flash"]


def measure() -> tuple[dict[str, int], dict[str, int]]:
    units = variants.units()
    per_unit, per_file = {}, {}
    for u in units:
        total = 0
        for s in u.sources:
            others = [e for v in units if v is not u and s in v.sources for e in v.entries]
            total += flash_of(s, [omit_name(e) for e in others])
        per_unit[u.name] = total
    for s in sorted({s for u in units for s in u.sources}):
        per_file[s] = flash_of(s, [])
    return per_unit, per_file


def render(per_unit: dict[str, int], per_file: dict[str, int]) -> str:
    lines = [HEADER, "CODE_BYTES: dict[str, int] = {"]
    lines += [f'    "{k}": {v},' for k, v in sorted(per_unit.items())]
    lines += ["}", "FILE_BYTES: dict[str, int] = {"]
    lines += [f'    "{k}": {v},' for k, v in sorted(per_file.items())]
    lines += ["}", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = render(*measure())
    if "--check" in argv:
        same = TABLE.read_text() == text
        print("code_bytes.py is up to date" if same else "code_bytes.py differs: run scripts/measure_code_bytes.py")
        return 0 if same else 1
    TABLE.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
