"""The ``tflite`` package's generated schema classes, each loaded from its own module on first use
(a leaf module): ``import tflite`` imports all ~190 of them, while a build reads the options of
the op kinds tinycc knows and a few enums. ``tflite_schema.Conv2DOptions`` is
``tflite.Conv2DOptions``; ``tflite_schema.utils`` is the module ``tflite.utils``.

A module loaded here is registered under its own name (``tflite.Conv2DOptions``), so a later
``import tflite`` (tests, the reference interpreters) takes the same module and classes; once
``tflite`` is imported, its attributes are returned.
"""
from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path


@functools.lru_cache(maxsize=1)
def _package_dir() -> Path | None:
    spec = importlib.util.find_spec("tflite")          # finds the package without importing it
    return Path(spec.submodule_search_locations[0]) if spec else None


def _load(name: str):
    full = f"tflite.{name}"
    if full in sys.modules:
        return sys.modules[full]
    path = _package_dir() / f"{name}.py" if _package_dir() else None
    if path is None or not path.is_file():
        raise AttributeError(f"the tflite package has no module {name!r}")
    mspec = importlib.util.spec_from_file_location(full, path)
    module = importlib.util.module_from_spec(mspec)
    sys.modules[full] = module
    try:
        mspec.loader.exec_module(module)
    except BaseException:
        del sys.modules[full]
        raise
    return module


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    package = sys.modules.get("tflite")
    if package is not None and not name == "utils":
        value = getattr(package, name)
    else:
        module = _load(name)
        value = getattr(module, name, module)      # a generated class X lives in module X
    globals()[name] = value
    return value
