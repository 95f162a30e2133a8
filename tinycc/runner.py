"""``tinycc run``: the generated C on the user's own data, on the host or in QEMU.

Input files, one per model input (or one file holding a whole sample):
  * ``.npy``: an array with the input's element count. Its dtype is the input's, or, for a
    quantized integer input, float (real values), which is quantized exactly as TFLite's QUANTIZE
    does (float32 x / scale, rounded half away from zero, + zero point, saturated; the same formula
    as the ``NAME_inputi_quantize`` helper in NAME.h). Any other dtype is refused.
  * ``.npz``: one whole sample, the arrays in input order (``np.savez(f, a0, a1)``), each as ``.npy``.
  * anything else is raw bytes: exactly the input's byte size (or, as the only file of a model with
    several inputs, all inputs back to back, as the harness reads them).

Outputs are printed (shape, dtype, values, and the dequantized values of quantized outputs) or
written with ``--output``: ``.npy`` (one output), ``.npz`` (every output) or raw bytes (all outputs
back to back). Building and running reuse ``toolchain.build_harness``/``run_samples``, as
``tinycc verify`` does (``execute``).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from . import ir, toolchain
from .errors import TinyccError

NUMPY = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32, "float32": np.float32,
         "int64": np.int64, "bool": np.uint8, "uint32": np.uint32, "uint64": np.uint64}


HOST_TARGETS = ("host", "generic")      # a generic build runs on the host (gcc)


def build_target(target: str) -> str:
    """The build target of a run target: host runs a generic build."""
    return "generic" if target in HOST_TARGETS else target


def execute(model, g, batches: list[list[np.ndarray]], target: str = "generic", optimize: str | None = None,
            workdir: str | os.PathLike | None = None, timeout: float = 600):
    """Build ``model`` (a path or bytes, compiled as ``g``), run every sample of ``batches`` (a list
    of samples, each the list of input arrays) with the verification harness on the host or in
    QEMU, and return ([[output arrays] per sample], instructions per sample or None)."""
    from .driver import build
    with tempfile.TemporaryDirectory(prefix="tinycc-run-") as tmp:
        work = Path(workdir) if workdir else Path(tmp)
        out = work / "model"
        build(model, str(out), "model", build_target(target), optimize=optimize)
        mode = "host" if target in HOST_TARGETS else "qemu"
        exe = toolchain.build_harness(out, work / ("harness" if mode == "host" else "harness.elf"),
                                      mode=mode, target=target if mode == "qemu" else "cortex-m4")
        blob = b"".join(np.ascontiguousarray(x).tobytes() for xs in batches for x in xs)
        raw, _ticks, instructions = toolchain.run_samples(exe, blob, len(batches), mode=mode, target=target,
                                                          timeout=timeout, workdir=work / "run")
    tensors = [ir.tensor(g, t) for t in g.graph["outputs"]]
    per_sample = sum(t.nbytes for t in tensors)
    if len(raw) != per_sample * len(batches):
        raise TinyccError(f"harness wrote {len(raw)} output bytes, expected {per_sample * len(batches)}")
    results, pos = [], 0
    for _ in batches:
        row = []
        for t in tensors:
            row.append(np.frombuffer(raw[pos:pos + t.nbytes], dtype=NUMPY[t.dtype]).reshape(t.shape).copy())
            pos += t.nbytes
        results.append(row)
    return results, instructions


# -- reading the user's inputs --------------------------------------------------------------

def as_input(x, t: ir.Tensor, what: str) -> np.ndarray:
    """An array for input tensor ``t``: the same element count, its dtype, or real values quantized
    like TFLite's QUANTIZE for a quantized integer input."""
    from .ops.quantize import quantize_f32
    x = np.asarray(x)
    if x.size != t.size:
        raise TinyccError(f"{what} has {x.size} elements, input '{t.name}' {list(t.shape)} needs {t.size}")
    if x.dtype == NUMPY[t.dtype] or (t.dtype == "bool" and x.dtype == np.bool_):
        return x.astype(NUMPY[t.dtype]).reshape(t.shape)
    if np.issubdtype(x.dtype, np.floating) and t.dtype == "int8" and t.quant is not None \
            and not t.quant.per_channel:
        return quantize_f32(x, t.quant.scale[0], t.quant.zero_point[0]).reshape(t.shape)
    if np.issubdtype(x.dtype, np.floating) and t.dtype == "float32":
        return x.astype(np.float32).reshape(t.shape)
    raise TinyccError(f"{what} is {x.dtype}, input '{t.name}' is {t.dtype}"
                      + (" (float values are quantized only for a per-tensor quantized int8 input)"
                         if np.issubdtype(x.dtype, np.floating) else ""))


def _load(path: Path):
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                return [z[k] for k in z.files]
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        return path.read_bytes()
    except OSError as e:
        raise TinyccError(f"cannot read input {path}: {e.strerror}") from None
    except ValueError as e:
        raise TinyccError(f"{path}: not a numpy file ({e})") from None


def _raw(data: bytes, tensors: list[ir.Tensor], what: str) -> list[np.ndarray]:
    want = sum(t.nbytes for t in tensors)
    if len(data) != want:
        names = " + ".join(f"'{t.name}' {t.nbytes}" for t in tensors)
        raise TinyccError(f"{what} has {len(data)} bytes; raw input must be exactly {want} bytes ({names})")
    xs, pos = [], 0
    for t in tensors:
        xs.append(np.frombuffer(data[pos:pos + t.nbytes], dtype=NUMPY[t.dtype]).reshape(t.shape))
        pos += t.nbytes
    return xs


def read_sample(g, files) -> list[np.ndarray]:
    """One sample from the user's files: one file per model input, or one file for all of them."""
    tensors = [ir.tensor(g, t) for t in g.graph["inputs"]]
    paths = [Path(f) for f in files]
    if len(paths) == len(tensors):
        xs = []
        for p, t in zip(paths, tensors):
            data = _load(p)
            if isinstance(data, list):
                if len(data) != 1:
                    raise TinyccError(f"{p} holds {len(data)} arrays; give one file per input or one .npz "
                                      f"with all {len(tensors)}")
                data = data[0]
            xs.append(_raw(data, [t], str(p))[0] if isinstance(data, bytes) else as_input(data, t, str(p)))
        return xs
    if len(paths) == 1:
        data = _load(paths[0])
        if isinstance(data, bytes):
            return _raw(data, tensors, str(paths[0]))
        arrays = data if isinstance(data, list) else [data]
        if len(arrays) == len(tensors):
            return [as_input(x, t, f"{paths[0]} array {i}") for i, (x, t) in enumerate(zip(arrays, tensors))]
    raise TinyccError(f"the model has {len(tensors)} inputs; got {len(paths)} input files "
                      f"(give one file per input, or one .npz / raw file with all of them)")


def sample_files(spec: str) -> list[Path]:
    """``verify --input``: a file is one sample; a folder gives every file in it, in sorted order."""
    p = Path(spec)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        if not files:
            raise TinyccError(f"input folder {p} holds no files")
        return files
    if not p.is_file():
        raise TinyccError(f"input {p} does not exist")
    return [p]


# -- showing and writing the outputs --------------------------------------------------------

def format_outputs(g, outs: list[np.ndarray]) -> str:
    from .ops.quantize import dequantize_s8
    lines = []
    for i, (tid, y) in enumerate(zip(g.graph["outputs"], outs)):
        t = ir.tensor(g, tid)
        lines.append(f"output {i} '{t.name}' {t.dtype} {list(t.shape)}:")
        lines.append("  " + np.array2string(y.reshape(-1), threshold=1 << 30, max_line_width=100)
                     .replace("\n", "\n  "))
        if t.quant is not None and not t.quant.per_channel and t.dtype == "int8":
            real = dequantize_s8(y, t.quant.scale[0], t.quant.zero_point[0]).reshape(-1)
            lines.append(f"  dequantized (scale {t.quant.scale[0]:.9g}, zero point {t.quant.zero_point[0]}):")
            lines.append("  " + np.array2string(real, threshold=1 << 30, max_line_width=100)
                         .replace("\n", "\n  "))
    return "\n".join(lines)


def write_outputs(path: str, outs: list[np.ndarray]) -> None:
    p = Path(path)
    try:
        if p.suffix == ".npy":
            if len(outs) != 1:
                raise TinyccError(f"the model has {len(outs)} outputs: write them to a .npz or a raw file")
            with open(p, "wb") as f:
                np.save(f, outs[0])
        elif p.suffix == ".npz":
            with open(p, "wb") as f:
                np.savez(f, *outs)
        else:
            p.write_bytes(b"".join(np.ascontiguousarray(y).tobytes() for y in outs))
    except OSError as e:
        raise TinyccError(f"cannot write {p}: {e.strerror}") from None


def run(model, inputs, target: str = "generic", optimize: str | None = None) -> list[np.ndarray]:
    """One inference of ``model`` (path or bytes) on ``inputs``: a list of arrays (one per input,
    read like ``.npy`` files: float values for a quantized int8 input are quantized) or of file
    names. Returns the outputs as numpy arrays."""
    from .driver import compile_graph
    g = compile_graph(model, target=build_target(target), optimize=optimize)
    if isinstance(inputs, np.ndarray):
        inputs = [inputs]
    if all(isinstance(x, (str, os.PathLike)) for x in inputs):
        xs = read_sample(g, inputs)
    else:
        tensors = [ir.tensor(g, t) for t in g.graph["inputs"]]
        if len(inputs) != len(tensors):
            raise TinyccError(f"the model has {len(tensors)} inputs, got {len(inputs)} arrays")
        xs = [as_input(x, t, f"input {i}") for i, (x, t) in enumerate(zip(inputs, tensors))]
    outs, _ = execute(model, g, [xs], target, optimize)
    return outs[0]


def main_run(args) -> int:
    from .driver import compile_graph
    try:
        g = compile_graph(args.model, target=build_target(args.target), optimize=args.optimize)
        xs = read_sample(g, args.input)
        outs, instructions = execute(args.model, g, [xs], args.target, args.optimize)
    except toolchain.ToolchainError as e:
        raise TinyccError(f"toolchain: {str(e).splitlines()[0]}") from None
    if args.output:
        write_outputs(args.output, outs[0])
    else:
        print(format_outputs(g, outs[0]))
    if instructions:
        print(f"instructions: {instructions[0]:,} ({args.target} in QEMU)")
    return 0
