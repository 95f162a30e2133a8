"""Compile the codegen templates ahead of time (``tinycc/codegen/precompiled.py``).

    python scripts/compile_templates.py

Run it after changing a template in tinycc/codegen/templates (or upgrading jinja2): it rewrites
tinycc/codegen/compiled/, which tests/test_compile_time.py checks is current.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinycc.codegen import emit, precompiled  # noqa: E402

for path in precompiled.write_all(emit._env()):
    print(path.relative_to(ROOT))
