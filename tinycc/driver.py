"""Driver: model file -> IR -> passes -> C files in an output folder, written atomically."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import tempfile
from pathlib import Path

import networkx as nx

from . import codegen, frontend
from .errors import TinyccError
from .passes import run_pipeline
from .targets import DSP_TARGETS, OPTIMIZE, TARGETS

C_KEYWORDS = {"auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
              "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
              "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
              "volatile", "while"}


def check_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name) or name in C_KEYWORDS:
        raise TinyccError(f"--name '{name}' is not a valid C identifier")


def default_optimize(target: str) -> str:
    """--optimize when not given: "speed" on cores with the DSP extension (fast kernels, the arena
    kept within 1/16 of the plain kernels' plan), "memory" elsewhere."""
    return "speed" if target in DSP_TARGETS else "memory"


def compile_graph(model_path, name: str = "model", verify: bool = False,
                  target: str = "generic", optimize: str | None = None) -> nx.DiGraph:
    """Parse ``model_path`` (a path, or the model's bytes) and run the pass pipeline. ``target``
    and ``optimize`` pick the kernels (and so their
    scratch and in-place rules): "memory" keeps the smallest-RAM kernels, "speed" uses the fast
    Cortex-M kernels where the target has the DSP extension."""
    optimize = optimize or default_optimize(target)
    if optimize not in OPTIMIZE:
        raise TinyccError(f"unknown --optimize '{optimize}' (one of {', '.join(OPTIMIZE)})")
    g = frontend.load(model_path)
    g.graph["name"] = name
    g.graph["target"] = target
    g.graph["optimize"] = optimize
    try:
        return run_pipeline(g, verify=verify)
    except TinyccError as e:
        raise e.located(file=frontend.display_name(model_path))


def build(*args, **kwargs) -> dict[str, str]:
    """``build_with_report`` without the report: {file name: contents} written into ``out_dir``."""
    return build_with_report(*args, **kwargs)[0]


def build_with_report(model_path, out_dir: str, name: str = "model", target: str = "generic", *,
                      arena_section: str | None = None, weights_section: str | None = None,
                      app_arena: bool = False, format: str = "plain", optimize: str | None = None,
                      stack: bool = False, selftest: dict | None = None):
    """Compile ``model_path`` (a path, or the model's bytes) into ``out_dir``; return the files
    written and the memory report (tinycc.report.Report). On any error ``out_dir`` is left untouched.

    With ``selftest`` (``tinycc.selftest.selftest_data``: one input and the output TFLite Micro
    computed for it), NAME_selftest.c embeds them and NAME_selftest() compares on the device.

    With ``stack`` (the CLI's default) and arm-none-eabi-gcc installed, the worst-case stack of
    the entry point is measured on the generated code and written into NAME.h
    (``NAME_STACK_BYTES``)."""
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
    opts = Options(name, target, arena_section, weights_section, app_arena, format)
    if selftest:
        opts = dataclasses.replace(opts, selftest=selftest)
    files, rep = generate_with_report(g, opts)
    if stack:
        measured = measure_stack(files, opts)
        if measured:
            files, rep = generate_with_report(g, dataclasses.replace(opts, stack=measured))
            rep.stack_bytes = measured["bytes"]
    write_atomically(Path(out_dir), files)
    return files, rep


def measure_cpu(target: str) -> str:
    """The core the generated code is measured on: the target's, a Cortex-M4 for a generic build."""
    return "cortex-m4" if target == "generic" else target


@contextlib.contextmanager
def generated_sources(files: dict[str, str]):
    """The generated C and headers in a temporary folder: yields (folder, sorted .c paths)."""
    with tempfile.TemporaryDirectory(prefix="tinycc-measure-") as tmp:
        for fname, text in files.items():
            if fname.endswith((".c", ".h")):
                (Path(tmp) / Path(fname).name).write_text(text)
        yield tmp, sorted(Path(tmp).glob("*.c"))


def measure_stack(files: dict[str, str], opts) -> dict | None:
    """Worst-case stack of the generated entry point on the target's core (``measure_cpu``), or
    None without arm-none-eabi-gcc. The header's stack comment cannot change the code, so
    measuring the first rendering is exact for the second."""
    from . import toolchain
    if not toolchain.have_arm_toolchain():
        return None
    cpu = measure_cpu(opts.target)
    entry = f"{opts.name}_invoke_with_arena" if opts.app_arena else f"{opts.name}_invoke"
    with generated_sources(files) as (tmp, sources):
        try:
            r = toolchain.stack_usage(sources, entry, target=cpu, include_dirs=[tmp])
        except toolchain.ToolchainError as e:
            raise TinyccError(f"cannot measure the stack of {entry}: {str(e).splitlines()[0]}") from None
    return dict(bytes=r["bytes"], path=r["path"], cpu=cpu, entry=entry)


def report(model_path, name: str = "model", target: str = "cortex-m4", measure: bool = True,
           optimize: str | None = None):
    """The memory report of ``model_path`` (tinycc.report.Report), computed from the same plan
    and emitter as ``build``; with ``measure`` and arm-none-eabi-gcc installed, the generated
    code's .text and the worst-case stack of NAME_invoke are measured too."""
    from . import toolchain
    from .codegen.emit import generate_with_report
    from .report import attach_code
    check_name(name)
    if target not in TARGETS:
        raise TinyccError(f"unknown target '{target}' (one of {', '.join(TARGETS)})")
    g = compile_graph(model_path, name, target=target, optimize=optimize)
    files, rep = generate_with_report(g, name, target)
    if measure and toolchain.have_arm_toolchain():
        arm = measure_cpu(target)
        with generated_sources(files) as (tmp, sources):
            rep.code_bytes = toolchain.object_sizes(sources, target=arm, include_dirs=[tmp])["text"]
            attach_code(rep, *toolchain.function_sizes(sources, target=arm, include_dirs=[tmp]))
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
