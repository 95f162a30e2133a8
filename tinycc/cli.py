"""Command line: ``tinycc build|report|verify|bench|run``.

Every subcommand describes the same default build (``--target generic``, the target's default
``--optimize``): ``add_model_options`` gives each one the model and those options, so a new
subcommand is one entry in ``COMMANDS`` with a function adding its own options and one running it.
Bare ``tinycc`` prints the help and exits 0.

Errors in the user's input are printed as one line on stderr with exit code 2, and so are OS
errors (a read-only folder, a full disk). An unexpected exception (a bug in tinycc, never the
user's fault) is also one line and exit code 2, so a script driving tinycc sees "built" (0) or
"refused" (2); ``TINYCC_DEBUG=1`` re-raises it with its traceback for a bug report.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

# tinycc multiplies no large matrices, and OpenBLAS starts its thread pool when numpy is imported:
# ~0.1 s of CPU on every command for nothing (a user's own setting wins).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from . import __version__  # noqa: E402  (after the setting above, before numpy is imported)
from .driver import check_target  # noqa: E402
from .targets import DEFAULT_TARGET, OPTIMIZE, TARGETS  # noqa: E402
from .errors import TinyccError  # noqa: E402


def target_arg(text: str) -> str:
    try:
        return check_target(text)
    except TinyccError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_model_options(p: argparse.ArgumentParser) -> None:
    """The model and the build it describes: the same options and defaults for every subcommand."""
    p.add_argument("model", help="the TensorFlow Lite model (.tflite)")
    p.add_argument("--target", default=DEFAULT_TARGET, type=target_arg, metavar="TARGET",
                   help=f"the core the C is built for: {', '.join(TARGETS)} (default: {DEFAULT_TARGET}, "
                        "portable C; 'host' is a deprecated alias of generic)")
    p.add_argument("--optimize", default=None, choices=OPTIMIZE,
                   help="speed (default on cortex-m4/m7/m33/m55): the fast DSP kernels wherever their scratch "
                        "keeps the arena within 1/16 of the smallest plan; memory (default elsewhere): plain "
                        "kernels only, the smallest RAM")


def add_shape_option(p: argparse.ArgumentParser) -> None:
    """``--shape`` (build, report, bench: the subcommands whose reference needs no resized model)."""
    p.add_argument("--shape", action="append", metavar="NAME=DIMS",
                   help="fix a dynamic input's dimensions (NAME: input name or index; DIMS: 1,96,96,3); "
                        "repeatable")


def add_compress_option(p: argparse.ArgumentParser) -> None:
    """``--compress`` (build, report, bench)."""
    p.add_argument("--compress", default="auto", choices=("auto", "off"),
                   help="auto (default): store weights as 1/2/4-bit indices into value tables where every output "
                        "channel takes few enough values and that saves flash (lossless); off: int8 weights "
                        "(the model's INT4 weights stay 4-bit either way)")


def shapes_of(args) -> dict:
    from .shapes import parse
    return parse(args.shape)


# -- build ---------------------------------------------------------------------------------

def flash_budget_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--flash-budget", type=int, metavar="BYTES",
                   help="flash for all generated code and data (default: 1.10 x the model's constant bytes + "
                        "16 KB, or the plain kernels' flash where that is larger on a model of at most 256 ops); fast kernels with widened weights only where they fit, most cycles per byte first")


def build_options(p: argparse.ArgumentParser) -> None:
    flash_budget_option(p)
    p.add_argument("-o", "--out", required=True, metavar="DIR",
                   help="output folder: created (with its parents), or replaced if tinycc wrote it before; "
                        "a folder holding other files is refused")
    p.add_argument("--force", action="store_true",
                   help="replace the output folder even if it holds files tinycc did not write")
    p.add_argument("--name", default="model", help="C prefix of the API and of the file names (default: model)")
    p.add_argument("--format", default="plain", choices=("plain", "zephyr", "arduino"),
                   help="extra build glue: a Zephyr module or an Arduino library layout (default: plain)")
    p.add_argument("--maintainer", metavar="'NAME <EMAIL>'",
                   help="maintainer of the Arduino library (default: git's user.name and user.email)")
    p.add_argument("--url", help="url of the Arduino library (default: tinycc's page)")
    p.add_argument("--arena-section", metavar="SECTION", help="place the arena in this linker section")
    p.add_argument("--weights-section", metavar="SECTION", help="place every constant in this linker section")
    p.add_argument("--app-arena", action="store_true",
                   help="no static arena: the application passes one to NAME_invoke_with_arena()")
    p.add_argument("--no-stack", action="store_true",
                   help="don't measure the worst-case stack and flash with arm-none-eabi-gcc (measured by default "
                        "when it is installed)")
    p.add_argument("--timings", action="store_true",
                   help="print the CPU seconds of the frontend, each pass, codegen and the stack measurement")
    p.add_argument("--selftest", action="store_true",
                   help="add NAME_selftest(): one embedded input and TFLite Micro's output for it, compared on "
                        "the device (0 = bit-exact)")
    p.add_argument("--selftest-input", metavar="FILE", action="append",
                   help="the self-test's input instead of a seeded random one (.npy/.npz/raw, as for run; "
                        "implies --selftest; once per model input)")
    add_shape_option(p)
    add_compress_option(p)


def run_build(args) -> int:
    from . import driver
    shapes = shapes_of(args)
    if shapes and (args.selftest or args.selftest_input):
        raise TinyccError("--selftest with --shape is not supported: its reference output comes from "
                          "TFLite Micro, which runs the model's stored shape")
    selftest = None
    if args.selftest or args.selftest_input:
        from .selftest import selftest_data
        selftest = selftest_data(args.model, args.selftest_input)
    timings: dict[str, float] = {}
    b = driver.build(args.model, args.out, args.name, args.target, arena_section=args.arena_section,
                     weights_section=args.weights_section, app_arena=args.app_arena, format=args.format,
                     optimize=args.optimize, stack=not args.no_stack, force=args.force,
                     maintainer=args.maintainer, url=args.url, selftest=selftest, timings=timings,
                     flash_budget=args.flash_budget, shapes=shapes, compress=args.compress)
    print(f"{b.summary()}; {len(b.files)} files")
    if args.timings:
        for what, seconds in timings.items():
            print(f"  {what:18s} {seconds:8.3f} s")
        print(f"  {'total':18s} {sum(timings.values()):8.3f} s (CPU)")
    return 0


# -- report --------------------------------------------------------------------------------

def report_options(p: argparse.ArgumentParser) -> None:
    flash_budget_option(p)
    p.add_argument("--name", default="model", help="C prefix the report names functions with (default: model)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--html", metavar="FILE", help="also write an HTML page with an SVG chart of the arena")
    p.add_argument("--bench", action="store_true",
                   help="also run tinycc bench (QEMU) and add per-op instructions and estimated cycles")
    add_shape_option(p)
    add_compress_option(p)


def run_report(args) -> int:
    from . import report as rp
    from .driver import report
    shapes = shapes_of(args)
    rep = report(args.model, args.name, args.target, optimize=args.optimize, flash_budget=args.flash_budget,
                 shapes=shapes, compress=args.compress)
    if args.bench:
        from .bench import bench
        from .toolchain import ToolchainError
        try:
            rp.attach_bench(rep, bench(args.model, args.target, args.optimize, shapes=shapes, compress=args.compress))
        except ToolchainError as e:
            raise TinyccError(f"toolchain: {str(e).splitlines()[0]}") from None
    print(rep.to_json() if args.json else rp.format_text(rep))
    if args.html:
        Path(args.html).write_text(rp.format_html(rep))
    return 0


# -- bench ---------------------------------------------------------------------------------

def bench_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_shape_option(p)
    add_compress_option(p)


def run_bench(args) -> int:
    from . import bench as bm
    from .toolchain import ToolchainError
    try:
        res = bm.bench(args.model, args.target, args.optimize, shapes=shapes_of(args), compress=args.compress)
    except ToolchainError as e:
        raise TinyccError(f"toolchain: {str(e).splitlines()[0]}") from None
    print(bm.to_json(res) if args.json else bm.format_text(res))
    return 0


# -- verify --------------------------------------------------------------------------------

def verify_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples", type=int, default=10, help="random inputs to compare (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default: 0)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--keep", metavar="DIR", help="keep the build folder and the harness here")
    p.add_argument("--input", metavar="FILE|DIR", action="append",
                   help="compare on these inputs instead of random ones: a file is one sample (.npy, .npz or "
                        "raw bytes), a folder gives every file in it in sorted order")
    p.add_argument("--per-op", action="store_true",
                   help="compare every op's output, not only the model's, and name the first op that differs "
                        "(a debugging aid: every tensor stays in the arena, so the build is not the normal one)")


def run_verify(args) -> int:
    from .verify import main_verify
    return main_verify(args)


# -- run -----------------------------------------------------------------------------------

def run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", metavar="FILE", action="append", required=True,
                   help="one per model input: .npy (its dtype, or float for a quantized int8 input, quantized as "
                        "TFLite's QUANTIZE does), or raw bytes of exactly the input's size; or one .npz/raw file "
                        "with every input")
    p.add_argument("--output", metavar="FILE",
                   help="write the outputs instead of printing them: .npy (one output), .npz, or raw bytes")


def run_run(args) -> int:
    from .runner import main_run
    return main_run(args)


#: name -> (help, function adding its own options, function running it)
COMMANDS = {
    "build": ("compile MODEL into C sources and build glue in a folder", build_options, run_build),
    "report": ("per-op table of MACs, weights, live memory and arena offsets", report_options, run_report),
    "verify": ("build, run on the host (generic) or in QEMU (cortex-m*), compare with TFLite Micro",
               verify_options, run_verify),
    "bench": ("instructions and estimated cycles per inference and per op in QEMU; a generic build runs on "
              "cortex-m4", bench_options, run_bench),
    "run": ("run the generated C on your own inputs: a generic build on the host, a cortex-m* build in QEMU",
            run_options, run_run),
}


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tinycc", description="Compile TensorFlow Lite models into standalone, "
                                 "interpreter-free C for microcontrollers.")
    ap.add_argument("--version", action="version", version=f"tinycc {__version__}")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")
    for name, (text, add_options, _) in COMMANDS.items():
        p = sub.add_parser(name, help=text, description=text)
        add_model_options(p)
        add_options(p)
    return ap


# Commands that compile, without the cycle collector: a compile's garbage is nearly all freed by
# reference counting, and the collector's passes over the imported modules' objects and the IR
# took 10-20 % of its CPU (0.1 s of a 1 s vww build, 1-2 s of a 9 s 5,000-op one) to keep ~10 MB
# less (issue 19).
NO_GC_COMMANDS = {"build", "report"}


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if args.cmd is None:
        ap.print_help()
        return 0
    collecting = gc.isenabled()
    if args.cmd in NO_GC_COMMANDS:
        gc.disable()
    try:
        return COMMANDS[args.cmd][2](args)
    except TinyccError as e:
        print(f"tinycc: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:   # the environment, not tinycc: a read-only folder, a full disk, a missing tool
        where = f"{e.filename}: " if e.filename else ""
        print(" ".join(f"tinycc: error: {where}{e.strerror or e}".split()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - the last line of defence, see the module docstring
        if os.environ.get("TINYCC_DEBUG"):
            raise
        what = " ".join(f"{type(e).__name__}: {e}".split())[:300]
        model = getattr(args, "model", None)
        where = f" on {model}" if model else ""
        print(f"tinycc: internal error{where}: {what} (a bug in tinycc; TINYCC_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 2
    finally:
        if collecting:
            gc.enable()
