"""Driver: model file -> IR -> passes -> C files in an output folder, written atomically."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import networkx as nx

from . import codegen, frontend
from .errors import TinyccError
from .passes import run_pipeline

TARGETS = ("generic", "cortex-m0", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55")
C_KEYWORDS = {"auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
              "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
              "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
              "volatile", "while"}


def check_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name) or name in C_KEYWORDS:
        raise TinyccError(f"--name '{name}' is not a valid C identifier")


OPTIMIZE = ("memory", "speed")


def compile_graph(model_path: str, name: str = "model", verify: bool = False,
                  target: str = "generic", optimize: str = "memory") -> nx.DiGraph:
    """Parse and run the pass pipeline. ``target`` and ``optimize`` pick the kernels (and so their
    scratch and in-place rules): "memory" keeps the smallest-RAM kernels, "speed" uses the fast
    Cortex-M kernels where the target has the DSP extension."""
    if optimize not in OPTIMIZE:
        raise TinyccError(f"unknown --optimize '{optimize}' (one of {', '.join(OPTIMIZE)})")
    g = frontend.load_tflite(model_path)
    g.graph["name"] = name
    g.graph["target"] = target
    g.graph["optimize"] = optimize
    try:
        return run_pipeline(g, verify=verify)
    except TinyccError as e:
        raise e.located(file=os.path.basename(model_path))


def build(model_path: str, out_dir: str, name: str = "model", target: str = "generic", *,
          arena_section: str | None = None, weights_section: str | None = None, app_arena: bool = False,
          format: str = "plain", optimize: str = "memory") -> dict[str, str]:
    """Compile ``model_path`` into ``out_dir``. On any error ``out_dir`` is left untouched."""
    from .codegen.emit import FORMATS, Options, generate_with_report
    check_name(name)
    if target not in TARGETS:
        raise TinyccError(f"unknown target '{target}' (one of {', '.join(TARGETS)})")
    if format not in FORMATS:
        raise TinyccError(f"unknown format '{format}' (one of {', '.join(FORMATS)})")
    for what, sec in (("--arena-section", arena_section), ("--weights-section", weights_section)):
        if sec is not None and not re.fullmatch(r"[A-Za-z0-9_.$]{1,64}", sec):
            raise TinyccError(f"{what} '{sec}' is not a valid section name")
    g = compile_graph(model_path, name, target=target, optimize=optimize)
    files, _ = generate_with_report(g, Options(name, target, arena_section, weights_section, app_arena, format))
    write_atomically(Path(out_dir), files)
    return files


def report(model_path: str, name: str = "model", target: str = "cortex-m4", measure: bool = True,
           optimize: str = "memory"):
    """The memory report of ``model_path`` (tinycc.report.Report), computed from the same plan
    and emitter as ``build``; with ``measure`` and arm-none-eabi-gcc installed, the generated
    code's .text and the worst-case stack of NAME_invoke are measured too."""
    from . import toolchain
    from .codegen.emit import generate_with_report
    check_name(name)
    if target not in TARGETS:
        raise TinyccError(f"unknown target '{target}' (one of {', '.join(TARGETS)})")
    g = compile_graph(model_path, name, target=target, optimize=optimize)
    files, rep = generate_with_report(g, name, target)
    if measure and toolchain.have_arm_toolchain():
        arm = "cortex-m4" if target == "generic" else target
        with tempfile.TemporaryDirectory(prefix="tinycc-report-") as tmp:
            for fname, text in files.items():
                (Path(tmp) / fname).write_text(text)
            sources = sorted(Path(tmp).glob("*.c"))
            rep.code_bytes = toolchain.object_sizes(sources, target=arm, include_dirs=[tmp])["text"]
            rep.stack_bytes = toolchain.stack_usage(sources, f"{name}_invoke", target=arm,
                                                    include_dirs=[tmp])["bytes"]
    return rep


def write_atomically(out: Path, files: dict[str, str]) -> None:
    """Write all files into a fresh sibling folder, then swap it in place of ``out``."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not out.is_dir():
        raise TinyccError(f"output path {out} exists and is not a folder")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for fname, text in sorted(files.items()):
            (tmp / fname).parent.mkdir(parents=True, exist_ok=True)
            (tmp / fname).write_text(text)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, old / "x")
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise TinyccError(f"cannot write output folder {out}: {e.strerror}") from None
