"""Driver: model file -> IR -> passes -> C files in an output folder, written atomically."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import resource
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import networkx as nx

from . import frontend, ir, outdir
from .compress import MODES
from .errors import TinyccError
from .passes import run_pipeline
from .passes.pack_weights import default_flash_budget
from .shapes import fix_input_shapes
from .targets import DEFAULT_TARGET, DSP_TARGETS, OPTIMIZE, TARGET_ALIASES, TARGETS  # noqa: F401 (re-exported)

C_KEYWORDS = {"auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
              "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
              "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
              "volatile", "while"}


def check_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name) or name in C_KEYWORDS:
        raise TinyccError(f"--name '{name}' is not a valid C identifier")


def check_target(target: str) -> str:
    """The target's canonical name (aliases resolved), or a TinyccError."""
    target = TARGET_ALIASES.get(target, target)
    if target not in TARGETS:
        raise TinyccError(f"unknown target '{target}' (one of {', '.join(TARGETS)})")
    return target


def default_optimize(target: str) -> str:
    """--optimize when not given: "speed" on cores with the DSP extension (fast kernels, the arena
    kept within 1/16 of the plain kernels' plan), "memory" elsewhere."""
    return "speed" if target in DSP_TARGETS else "memory"


FLASH_ATTEMPTS = 3     # builds of one model at most, when the measured flash exceeds the budget
FLASH_MARGIN = 0.02    # pack_weights' estimate within this of the budget: measure the flash to be sure


def compile_graph(model_path, name: str = "model", verify: bool = False,
                  target: str = DEFAULT_TARGET, optimize: str | None = None,
                  timings: dict[str, float] | None = None, flash_budget: int | None = None,
                  shapes: dict[str, tuple[int, ...]] | None = None, compress: str = "auto",
                  flash_overshoot: int = 0) -> nx.DiGraph:
    """Parse ``model_path`` (a path, or the model's bytes) and run the pass pipeline. ``target``
    and ``optimize`` pick the kernels (and so their
    scratch and in-place rules): "memory" keeps the smallest-RAM kernels, "speed" uses the fast
    Cortex-M kernels where the target has the DSP extension, with widened weights only within
    ``flash_budget`` bytes of flash (default: 1.10 x the model's constant bytes + 16 KB).
    ``shapes`` (``--shape``, see ``tinycc.shapes``) fixes dynamic input dimensions. ``compress``
    (``--compress``): "auto" stores weights compressed where that saves flash, "off" only keeps
    the model's INT4 weights 4-bit (``passes.compress_weights``). ``flash_overshoot``: bytes by
    which a previous build of the same model measured above the flash budget (``generate``), taken
    off what pack_weights may spend."""
    target = check_target(target)
    if compress not in MODES:
        raise TinyccError(f"unknown --compress '{compress}' (one of {', '.join(MODES)})")
    optimize = optimize or default_optimize(target)
    if optimize not in OPTIMIZE:
        raise TinyccError(f"unknown --optimize '{optimize}' (one of {', '.join(OPTIMIZE)})")
    start = time.process_time()
    g = frontend.load(model_path)
    if shapes:
        try:
            fix_input_shapes(g, shapes)
        except TinyccError as e:
            raise e.located(file=frontend.display_name(model_path))
    if timings is not None:
        timings["frontend"] = time.process_time() - start
    g.graph["model_const_bytes"] = ir.model_constant_bytes(g)
    if flash_budget is not None and flash_budget <= 0:
        raise TinyccError(f"--flash-budget {flash_budget} must be a positive number of bytes")
    g.graph["flash_budget"] = flash_budget or default_flash_budget(g)
    g.graph["flash_budget_given"] = flash_budget is not None
    g.graph["name"] = name
    g.graph["target"] = target
    g.graph["optimize"] = optimize
    g.graph["compress"] = compress
    g.graph["flash_overshoot"] = flash_overshoot
    try:
        return run_pipeline(g, verify=verify, timings=timings)
    except TinyccError as e:
        raise e.located(file=frontend.display_name(model_path))


@dataclasses.dataclass
class Build(Mapping):
    """One build of a model: the output folder's files (a read-only mapping {path: text}, as
    ``build`` always returned) and what they cost."""
    name: str
    target: str
    optimize: str
    files: dict[str, str]
    report: object                      # tinycc.report.Report
    model_const_bytes: int              # constant bytes of the model as given (its weights)
    stack: dict | None = None           # measure_stack's result, when measured
    out: Path | None = None             # the folder written
    graph: object = None                # the compiled IR the files come from (its plan, choices)

    def __getitem__(self, path: str) -> str:
        return self.files[path]

    def __iter__(self):
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def summary(self) -> str:
        """One line: which build, arena, stack, flash against the model's constants, MACs."""
        r = self.report
        parts = [f"arena {r.arena_bytes:,} B"]
        sizes = self.stack and self.stack.get("sizes")
        if self.stack:
            parts.append(f"stack {self.stack['bytes']:,} B")
        if sizes:
            parts.append(f"flash {sizes['flash']:,} B (code {sizes['text']:,} + data "
                         f"{sizes['rodata'] + sizes['data']:,})")
        else:
            parts.append(f"constants {r.weight_bytes:,} B")
        parts.append(f"the model's constants {self.model_const_bytes:,} B")
        parts.append(f"flash budget {r.flash_budget:,} B")
        parts.append(f"{r.macs:,} MACs")
        measured = f"; measured for {self.stack['cpu']} (arm-none-eabi-gcc -O2)" if self.stack else ""
        where = f" in {self.out}" if self.out else ""
        return (f"tinycc: built {self.name} for {self.target} (--optimize {self.optimize}){where}: "
                f"{', '.join(parts)}{measured}")


def generate(model_path, name: str = "model", target: str = DEFAULT_TARGET, *,
             arena_section: str | None = None, weights_section: str | None = None, app_arena: bool = False,
             format: str = "plain", optimize: str | None = None, stack: bool = False,
             maintainer: str | None = None, url: str | None = None, selftest: dict | None = None,
             timings: dict[str, float] | None = None, flash_budget: int | None = None,
             shapes: dict[str, tuple[int, ...]] | None = None, compress: str = "auto") -> Build:
    """Compile ``model_path`` (a path, or the model's bytes) into the files of an output folder, in
    memory (``build`` writes them).

    With ``selftest`` (``tinycc.selftest.selftest_data``: one input and the output TFLite Micro
    computed for it), NAME_selftest.c embeds them and NAME_selftest() compares on the device.

    With ``stack`` and arm-none-eabi-gcc installed, the worst-case stack of the entry point (and
    the code's flash) is measured on the generated code and written into NAME.h
    (``NAME_STACK_BYTES``)."""
    from .codegen.emit import FORMATS, Options, generate_parts, with_stack
    check_name(name)
    target = check_target(target)
    if format not in FORMATS:
        raise TinyccError(f"unknown format '{format}' (one of {', '.join(FORMATS)})")
    for what, sec in (("--arena-section", arena_section), ("--weights-section", weights_section)):
        if sec is not None and not re.fullmatch(r"[A-Za-z0-9_.$]{1,64}", sec):
            raise TinyccError(f"{what} '{sec}' is not a valid section name")
    timings = {} if timings is None else timings     # CPU seconds per phase (--timings)
    for what, text in (("--maintainer", maintainer), ("--url", url)):
        if text is not None and not (text.isprintable() and text.strip()):
            raise TinyccError(f"{what} must be one printable line")
    opts = Options(name, target, arena_section, weights_section, app_arena, format, maintainer, url,
                   selftest=selftest)
    overshoot = 0
    for attempt in range(FLASH_ATTEMPTS):
        g = compile_graph(model_path, name, target=target, optimize=optimize, timings=timings,
                          flash_budget=flash_budget, shapes=shapes, compress=compress,
                          flash_overshoot=overshoot)
        start = time.process_time()
        files, rep, ctx = generate_parts(g, opts)
        timings["codegen"] = timings.get("codegen", 0.0) + time.process_time() - start
        # pack_weights spends the flash budget on an estimate of the build's flash (an upper bound,
        # tinycc/flash_estimate.py); when fast kernels were chosen and the estimate comes within
        # FLASH_MARGIN of the budget, the measured flash decides (with or without ``stack``): above
        # the budget, build again with the excess taken off what the fast kernels spent (the
        # allowance less what it left unspent, ``flash_room``: the excess alone may change nothing)
        check_flash = bool(g.graph.get("flash_spent")) and attempt + 1 < FLASH_ATTEMPTS and \
            g.graph.get("flash_estimate", g.graph["flash_budget"]) > (1 - FLASH_MARGIN) * g.graph["flash_budget"]
        start, children = time.process_time(), _child_cpu()
        measured = measure_stack(files, opts) if stack or check_flash else None
        if stack or check_flash:
            timings["stack"] = timings.get("stack", 0.0) + time.process_time() - start + _child_cpu() - children
        over = measured["sizes"]["flash"] - g.graph["flash_budget"] if measured and measured.get("sizes") else 0
        if over <= 0 or not check_flash:
            break
        overshoot += over + g.graph.get("flash_room", 0)
    if not stack:
        measured = None
    if measured:
        start = time.process_time()
        files = with_stack(files, ctx, dataclasses.replace(opts, stack=measured))
        timings["codegen"] += time.process_time() - start
        rep.stack_bytes = measured["bytes"]
    return Build(name, target, g.graph["optimize"], files, rep, g.graph["model_const_bytes"], measured, graph=g)


def build(model_path, out_dir: str, name: str = "model", target: str = DEFAULT_TARGET, *,
          arena_section: str | None = None, weights_section: str | None = None, app_arena: bool = False,
          format: str = "plain", optimize: str | None = None, stack: bool = False, force: bool = False,
          maintainer: str | None = None, url: str | None = None, selftest: dict | None = None,
          timings: dict[str, float] | None = None, flash_budget: int | None = None,
          shapes: dict[str, tuple[int, ...]] | None = None, compress: str = "auto") -> Build:
    """Compile ``model_path`` into the folder ``out_dir`` (``generate``, then ``outdir.write``: a
    folder tinycc did not write is refused unless ``force``). On any error ``out_dir`` is left
    untouched."""
    b = generate(model_path, name, target, arena_section=arena_section, weights_section=weights_section,
                 app_arena=app_arena, format=format, optimize=optimize, stack=stack, maintainer=maintainer, url=url,
                 selftest=selftest, timings=timings, flash_budget=flash_budget, shapes=shapes, compress=compress)
    b.out = Path(out_dir)
    model_file = [model_path] if isinstance(model_path, (str, os.PathLike)) else []   # not a model's bytes
    outdir.write(out_dir, b.files, force=force, keep=model_file)
    return b


def _child_cpu() -> float:
    """CPU seconds of the finished child processes (the compiler)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure_cpu(target: str) -> str:
    """The core the generated code is measured on: the target's, a Cortex-M4 for a generic build."""
    return "cortex-m4" if target == "generic" else target


@contextlib.contextmanager
def generated_sources(files: dict[str, str], name: str):
    """The generated C and headers in a temporary folder, for measuring: yields (folder, sorted .c
    paths, bytes of constants left out). NAME.c is written without the values of its constant
    arrays (``codegen.emit.without_constant_data``: the same code, each array's bytes counted
    here), so the compiler parses the code and not megabytes of weights."""
    from .codegen.emit import without_constant_data
    left_out = 0
    with tempfile.TemporaryDirectory(prefix="tinycc-measure-") as tmp:
        try:
            for fname, text in files.items():
                if Path(fname).name == f"{name}.c":
                    text, left_out = without_constant_data(text)
                if fname.endswith((".c", ".h")):
                    (Path(tmp) / Path(fname).name).write_text(text)
        except OSError as e:
            raise TinyccError(f"cannot write the generated code to measure it in {tempfile.gettempdir()}: "
                              f"{e.strerror}") from None
        yield tmp, sorted(Path(tmp).glob("*.c")), left_out


def measure_stack(files: dict[str, str], opts) -> dict | None:
    """Worst-case stack of the generated entry point on the target's core (``measure_cpu``), or
    None without arm-none-eabi-gcc. The header's stack comment cannot change the code, so
    measuring the first rendering is exact for the second."""
    from . import toolchain
    if not toolchain.have_arm_toolchain():
        return None
    cpu = measure_cpu(opts.target)
    entry = f"{opts.name}_invoke"
    if opts.app_arena:   # a model with state under --app-arena has only NAME_invoke_with_state
        header = next(v for k, v in files.items() if Path(k).name == f"{opts.name}.h")
        stateful = f"#define {opts.name}_STATE_BYTES 0\n" not in header
        entry = f"{opts.name}_invoke_with_{'state' if stateful else 'arena'}"
    with generated_sources(files, opts.name) as (tmp, sources, left_out):
        try:
            r = toolchain.stack_usage(sources, entry, target=cpu, include_dirs=[tmp], sizes=True,
                                      prefix=f"{opts.name}_")
        except toolchain.ToolchainError as e:
            raise TinyccError(f"cannot measure the stack of {entry}: {str(e).splitlines()[0]}") from None
    sizes = dict(r["sizes"])
    sizes["rodata"] += left_out
    sizes["flash"] += left_out
    return dict(bytes=r["bytes"], path=r["path"], cpu=cpu, entry=entry, sizes=sizes)


def report(model_path, name: str = "model", target: str = DEFAULT_TARGET, measure: bool = True,
           optimize: str | None = None, flash_budget: int | None = None,
           shapes: dict[str, tuple[int, ...]] | None = None, compress: str = "auto"):
    """The memory report of ``model_path`` (tinycc.report.Report), computed from the same plan
    and emitter as ``build``; with ``measure`` and arm-none-eabi-gcc installed, the generated
    code's .text and the worst-case stack of NAME_invoke are measured too (on ``measure_cpu``)."""
    from . import toolchain
    from .report import attach_code
    # the build's own choices: a build measured above the flash budget is redone (generate)
    # (with ``measure``, generate measures the stack and sizes too)
    measure = measure and toolchain.have_arm_toolchain()
    b = generate(model_path, name, target, optimize=optimize, flash_budget=flash_budget, shapes=shapes,
                 compress=compress, stack=measure)
    files, rep = b.files, b.report
    rep.optimize = b.optimize
    if measure:
        rep.measured_on = b.stack["cpu"]
        with generated_sources(files, name) as (tmp, sources, _):
            attach_code(rep, *toolchain.function_sizes(sources, target=rep.measured_on, include_dirs=[tmp]))
        rep.code_bytes, rep.stack_bytes = b.stack["sizes"]["text"], b.stack["bytes"]
    return rep
