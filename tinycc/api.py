"""The Python API: ``tinycc.build`` and ``tinycc.run``, for notebooks and scripts.

    import tinycc
    result = tinycc.build(converter.convert(), "out", name="kws", target="cortex-m4", selftest=True)
    print(result.arena_bytes, result.flash_bytes, result.files)
    outputs = tinycc.run("model.tflite", [x])          # a generic build, on the host

``model`` is a path or the model's bytes (``bytes``/``bytearray``/``memoryview``, named ``<bytes>`` in
errors); invalid models raise ``tinycc.TinyccError`` with the same one-line message the CLI prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .report import Report


@dataclass
class BuildResult:
    """What ``tinycc.build`` wrote and measured."""
    out_dir: Path
    files: list[str]                   # file names written into out_dir, sorted
    arena_bytes: int                   # the one static arena (activations and scratch)
    constant_bytes: int                # weights and every constant, in flash
    macs: int
    stack_bytes: int | None            # worst-case stack of NAME_invoke, when measured (arm-none-eabi-gcc)
    code_bytes: int | None             # .text of the generated code, when measured
    report: Report = field(repr=False)

    @property
    def ram_bytes(self) -> int | None:
        """Arena + worst-case stack (RAM of the model), when the stack was measured."""
        return None if self.stack_bytes is None else self.arena_bytes + self.stack_bytes

    @property
    def flash_bytes(self) -> int | None:
        """Code + constants, when the code was measured."""
        return None if self.code_bytes is None else self.code_bytes + self.constant_bytes


def build(model, out_dir, name: str = "model", target: str = "generic", *, measure: bool = True,
          **options) -> BuildResult:
    """Compile ``model`` (path or bytes) into ``out_dir``, as ``tinycc build``. ``options`` are
    ``tinycc.driver.build``'s: optimize, format, app_arena, arena_section, weights_section,
    selftest, selftest_input. With ``measure`` and arm-none-eabi-gcc installed, the stack and the
    code size are measured (the stack is also written into NAME.h)."""
    from . import driver, toolchain
    from .selftest import selftest_data
    options.setdefault("stack", measure)
    selftest_input = options.pop("selftest_input", None)
    if options.pop("selftest", False) or selftest_input:
        options["selftest"] = selftest_data(model, selftest_input)
    built = driver.build(model, str(out_dir), name, target, **options)
    files, rep = built.files, built.report
    if measure and toolchain.have_arm_toolchain():
        sources = [Path(out_dir) / f for f in files if f.endswith(".c") and not f.endswith("_selftest.c")]
        rep.code_bytes = toolchain.object_sizes(sources, target=driver.measure_cpu(built.target),
                                                include_dirs=[sources[0].parent])["text"]
    return BuildResult(Path(out_dir), sorted(files), rep.arena_bytes, rep.weight_bytes, rep.macs,
                       rep.stack_bytes, rep.code_bytes, rep)


def run(model, inputs, target: str = "generic", optimize: str | None = None) -> list[np.ndarray]:
    """One inference of the generated C on ``inputs`` (arrays, one per model input; float arrays for a
    quantized int8 input are quantized as TFLite's QUANTIZE does; or file names as for ``tinycc run``)
    on the host or a Cortex-M core in QEMU. Returns the outputs as numpy arrays."""
    from .runner import run as run_model
    return run_model(model, inputs, target, optimize)
