"""Where tinycc's own files are, and which optional packages are installed (a leaf module).

The C kernels and board files live in the repository's top-level ``runtime/`` folder. A wheel
installs that folder as ``tinycc/runtime`` (pyproject.toml maps it there); a checkout or an
editable install uses ``runtime/`` next to the ``tinycc`` package. ``RUNTIME`` is the one place
that decides which.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from .errors import TinyccError

PACKAGE = Path(__file__).resolve().parent


def _runtime_dir() -> Path:
    for candidate in (PACKAGE / "runtime", PACKAGE.parent / "runtime"):
        if (candidate / "kernels" / "tcc_common.h").is_file():
            return candidate
    return PACKAGE / "runtime"   # missing: the first file opened names this path


RUNTIME = _runtime_dir()
KERNELS = RUNTIME / "kernels"          # tcc_*.c/.h, arm/ (the Cortex-M DSP kernels)
BOARD = RUNTIME / "board"              # harness, host and mps2 board support
TEMPLATES = PACKAGE / "codegen" / "templates"

#: Optional packages: import name -> (pip distribution, what needs it). ``pip install "tinycc[verify]"``.
OPTIONAL = {
    "tflite_micro": ("tflite-micro", "the reference interpreter TFLite Micro"),
    "ai_edge_litert": ("ai-edge-litert", "the reference interpreter TFLite (LiteRT) for hybrid models"),
}


class MissingPackage(TinyccError):
    """An optional package is not installed: one line naming it and the pip command."""


def require(module: str):
    """Import an optional package (a key of OPTIONAL), or raise MissingPackage naming it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        dist, what = OPTIONAL[module]
        raise MissingPackage(f"{what} is not installed (Python package {dist}): "
                             f'pip install "tinycc[verify]"') from None
