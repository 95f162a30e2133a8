"""Command line: ``tinycc build`` and ``tinycc verify``.

Errors in the user's input are printed as one line on stderr with exit code 2. An unexpected
exception (a bug in tinycc, never the user's fault) is also one line and exit code 2, so a script
driving tinycc sees "built" (0) or "refused" (2); ``TINYCC_DEBUG=1`` re-raises it with its
traceback for a bug report.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .driver import TARGETS
from .errors import TinyccError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tinycc", description="Compile TensorFlow Lite models into standalone C.")
    ap.add_argument("--version", action="version", version=f"tinycc {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)

    b = sub.add_parser("build", help="compile MODEL.tflite into C sources in OUT")
    b.add_argument("model")
    b.add_argument("-o", "--out", required=True, help="output folder (replaced on success)")
    b.add_argument("--name", default="model", help="C prefix of the API (default: model)")
    b.add_argument("--target", default="generic", choices=TARGETS)
    b.add_argument("--optimize", default=None, choices=("memory", "speed"),
                   help="speed (default on cortex-m4/m7/m33/m55): the fast DSP kernels wherever their scratch "
                        "keeps the arena within 1/16 of the smallest plan; memory (default elsewhere): plain "
                        "kernels only, the smallest RAM")
    b.add_argument("--format", default="plain", choices=("plain", "zephyr", "arduino"),
                   help="extra build glue: a Zephyr module or an Arduino library layout")
    b.add_argument("--arena-section", metavar="SECTION", help="place the arena in this linker section")
    b.add_argument("--weights-section", metavar="SECTION", help="place every constant in this linker section")
    b.add_argument("--app-arena", action="store_true",
                   help="no static arena: the application passes one to NAME_invoke_with_arena()")
    b.add_argument("--no-stack", action="store_true",
                   help="don't measure the worst-case stack for NAME.h (measured with arm-none-eabi-gcc by default)")

    r = sub.add_parser("report", help="per-op table of MACs, weights, live memory and arena offsets")
    r.add_argument("model")
    r.add_argument("--name", default="model")
    r.add_argument("--target", default="cortex-m4", choices=TARGETS)
    r.add_argument("--optimize", default=None, choices=("memory", "speed"), help="as for build")
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    r.add_argument("--html", metavar="FILE", help="also write an HTML page with an SVG chart of the arena")

    be = sub.add_parser("bench", help="instructions and estimated cycles per inference and per op in QEMU")
    be.add_argument("model")
    be.add_argument("--target", default="cortex-m4", choices=TARGETS[1:])
    be.add_argument("--optimize", default=None, choices=("memory", "speed"), help="as for build")
    be.add_argument("--json", action="store_true")

    v = sub.add_parser("verify", help="build, run on the host or in QEMU, compare with TFLite Micro")
    v.add_argument("model")
    v.add_argument("--target", default="host", choices=("host", *TARGETS[1:]))
    v.add_argument("--samples", type=int, default=10)
    v.add_argument("--optimize", default=None, choices=("memory", "speed"), help="as for build")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    v.add_argument("--keep", metavar="DIR", help="keep the build folder here")

    # -- issue 18 part 2: run on the user's data, on-target self-test, verify on user inputs --
    b.add_argument("--selftest", action="store_true",
                   help="add NAME_selftest(): one embedded input and TFLite Micro's output for it, compared on "
                        "the device (0 = bit-exact)")
    b.add_argument("--selftest-input", metavar="FILE", action="append",
                   help="the self-test's input instead of a seeded random one (.npy/.npz/raw, as for run; "
                        "implies --selftest; once per model input)")
    v.add_argument("--input", metavar="FILE|DIR", action="append",
                   help="compare on these inputs instead of random ones: a file is one sample (.npy, .npz or "
                        "raw bytes), a folder gives every file in it in sorted order")
    r.add_argument("--bench", action="store_true",
                   help="also run tinycc bench (QEMU) and add per-op instructions and estimated cycles")
    ru = sub.add_parser("run", help="run the generated C on your own inputs, on the host or in QEMU")
    ru.add_argument("model")
    ru.add_argument("--input", metavar="FILE", action="append", required=True,
                    help="one per model input: .npy (its dtype, or float for a quantized int8 input, quantized as "
                         "TFLite's QUANTIZE does), or raw bytes of exactly the input's size; or one .npz/raw file "
                         "with every input")
    ru.add_argument("--target", default="host", choices=("host", *TARGETS[1:]),
                    help="host (gcc) or a Cortex-M core in QEMU")
    ru.add_argument("--optimize", default=None, choices=("memory", "speed"), help="as for build")
    ru.add_argument("--output", metavar="FILE",
                    help="write the outputs instead of printing them: .npy (one output), .npz, or raw bytes")

    args = ap.parse_args(argv)
    try:
        if args.cmd == "build":
            from .driver import build
            from .selftest import selftest_data
            selftest = selftest_data(args.model, args.selftest_input) if args.selftest or args.selftest_input \
                else None
            files = build(args.model, args.out, args.name, args.target, arena_section=args.arena_section,
                          weights_section=args.weights_section, app_arena=args.app_arena, format=args.format,
                          optimize=args.optimize, stack=not args.no_stack, selftest=selftest)
            print(f"tinycc: wrote {len(files)} files to {args.out}")
            return 0
        if args.cmd == "report":
            from . import report as rp
            from .driver import report
            rep = report(args.model, args.name, args.target, optimize=args.optimize)
            if args.bench:
                from .bench import bench
                from .toolchain import ToolchainError
                try:
                    rp.attach_bench(rep, bench(args.model, args.target, args.optimize))
                except ToolchainError as e:
                    raise TinyccError(f"toolchain: {str(e).splitlines()[0]}") from None
            print(rep.to_json() if args.json else rp.format_text(rep))
            if args.html:
                try:
                    Path(args.html).write_text(rp.format_html(rep))
                except OSError as e:
                    raise TinyccError(f"cannot write {args.html}: {e.strerror}") from None
            return 0
        if args.cmd == "bench":
            from . import bench as bm
            from .toolchain import ToolchainError
            try:
                res = bm.bench(args.model, args.target, args.optimize)
            except ToolchainError as e:
                raise TinyccError(f"toolchain: {str(e).splitlines()[0]}") from None
            print(bm.to_json(res) if args.json else bm.format_text(res))
            return 0
        if args.cmd == "run":
            from .runner import main_run
            return main_run(args)
        if args.cmd == "verify":
            from .verify import main_verify
            return main_verify(args)
    except TinyccError as e:
        print(f"tinycc: error: {e}", file=sys.stderr)
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
    return 0
