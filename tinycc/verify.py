"""``tinycc verify``: build a model, run it on the host or in QEMU, compare with the reference.

The reference is the TFLite Micro Python interpreter (``tflite_micro``). The N samples are one
sequence: the harness invokes the compiled model N times without a reset and the reference
invokes one interpreter N times, so models with state (SVDF, resource variables) are compared
step by step. Hybrid models
(int8 weights with float activations), which TFLite Micro refuses, are compared with
TFLite itself (``ai_edge_litert``); the report says which reference ran.

Pass criteria
  * int8 (and every integer) output: bit-exact, every byte.
  * float32 output: |ours - ref| <= FLOAT_ATOL + FLOAT_RTOL * |ref| element-wise.
    Float kernels sum in the reference's order, but the C library's expf and the
    compiler may still differ from the reference build in the last bits.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import ir, toolchain
from .driver import check_target, compile_graph
from .errors import TinyccError
from .resources import MissingPackage, require
from .runner import NUMPY  # noqa: F401  (re-exported)

FLOAT_RTOL = 1e-4
FLOAT_ATOL = 1e-5
TFLM_ARENA = 4 * 1024 * 1024
KEPT = {"model", "harness", "harness.elf", "run"}     # what verify writes into --keep DIR


@dataclass
class OutputResult:
    index: int
    name: str
    dtype: str
    bytes_compared: int
    max_abs_diff: float
    mismatches: int
    ok: bool


@dataclass
class VerifyResult:
    model: str
    target: str                       # the build: generic runs on the host, cortex-m* in QEMU
    samples: int
    reference: str
    outputs: list[OutputResult] = field(default_factory=list)
    instructions: list[int] | None = None
    footprint: dict | None = None
    arena_bytes: int = 0
    state_bytes: int = 0          # > 0: the samples ran as one sequence through the model's state
    ok: bool = False
    optimize: str = ""
    inputs: str = "random"              # "random" (seeded) or "user" (verify --input)
    ops: list[str] | None = None        # --per-op: output index -> "op K KIND" that writes it
    notes: list[str] = field(default_factory=list)    # ops following TFLite where TFLite Micro differs


class Reference:
    """Runs the model in TFLite Micro, or in TFLite (LiteRT) when TFLite Micro refuses it."""

    def __init__(self, model_path: str, n_outputs: int, lite: bool = False):
        """``lite``: TFLite even if TFLite Micro takes the model (some op says TFLite Micro's kernel
        is unreliable, ``OpDef.tflm_reference_reliable``)."""
        self.n_outputs = n_outputs
        self.name = "TFLite Micro"
        self.stopped = False    # the last run ended early (CIRCULAR_BUFFER's kTfLiteAbort)
        require("tflite_micro")
        try:
            if lite:
                raise RuntimeError("TFLite Micro lacks an op (or type) of this model or computes it unreliably")
            from tflite_micro import runtime
            with _silenced_stderr():  # TFLite Micro logs its refusal of hybrid models on fd 2
                self._tflm = runtime.Interpreter.from_file(model_path, arena_size=TFLM_ARENA)
            self._lite = None
        except RuntimeError:
            require("ai_edge_litert")
            from ai_edge_litert.interpreter import Interpreter, OpResolverType
            self.name = ("TFLite (LiteRT reference kernels); TFLite Micro lacks an op (or type) of this "
                         "model or computes it unreliably" if lite
                         else "TFLite (LiteRT builtin kernels); TFLite Micro refuses this model")
            self._tflm = None
            # Builtin kernels only: the default XNNPACK delegate quantizes hybrid inputs its own way.
            # In place of TFLite Micro (``lite``): TFLite's reference kernels, whose int8
            # arithmetic is TFLite Micro's.
            resolver = OpResolverType.BUILTIN_REF if lite else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
            self._lite = Interpreter(model_path=model_path, num_threads=1, experimental_op_resolver_type=resolver)
            self._lite.allocate_tensors()

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        if self._tflm is not None:
            for i, x in enumerate(inputs):
                self._tflm.set_input(x, i)
            self.stopped = self._tflm.invoke() != 0    # kTfLiteAbort: an op ended the invoke early
            outs, i = [], 0
            while len(outs) < self.n_outputs:
                outs.append(np.array(self._tflm.get_output(i)))
                i += 1
            return outs
        for d, x in zip(self._lite.get_input_details(), inputs):
            self._lite.set_tensor(d["index"], x)
        self._lite.invoke()
        return [np.array(self._lite.get_tensor(d["index"])) for d in self._lite.get_output_details()]


def tflm_unreliable(g) -> bool:
    """Some op of the model says TFLite Micro's kernel cannot be the reference for it: decided
    before the passes (``ops.tflite_reference``), so the ops that follow TFLite's arithmetic then
    and the reference agree."""
    from . import ops
    return g.graph.get("tflite_reference", ops.tflite_reference(g))


def reference_notes(g) -> list[str]:
    """What the compiled ops say about following TFLite's arithmetic (``OpDef.reference_note``)."""
    from . import ops
    notes = {ops.lookup(ir.op(g, n).kind).reference_note(g, ir.op(g, n)) for n in ir.ops_in_order(g)}
    if g.graph.get("settled_shapes"):
        notes.add("the model stores placeholder shapes (dynamic dims, or none) that its ops settle (TFLite Micro runs "
                  "the stored ones, TFLite resizes): the reference is TFLite")
    return sorted(n for n in notes if n)


def reference_isolated(model_path: str, n_outputs: int, batches, lite: bool = False) -> tuple[str, list, list]:
    """(reference name, [outputs per sample], [whether the run ended early, per sample]) computed in
    a child process: TFLite Micro aborts
    the whole process on some models (e.g. its own assertions in SOFTMAX), which must end as
    one clear error, not kill ``tinycc verify``."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def child():
        try:
            ref = Reference(model_path, n_outputs, lite)
            outs, stopped = [], []
            for xs in batches:
                outs.append(ref.run(xs))
                stopped.append(ref.stopped)
            send.send(("ok", ref.name, (outs, stopped)))
        except MissingPackage as e:
            send.send(("missing", str(e), None))
        except BaseException as e:  # noqa: BLE001 - reported by the parent
            send.send(("error", f"{type(e).__name__}: {e}", None))
        finally:
            send.close()

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()
    try:
        status, name, outs = recv.recv()
    except EOFError:
        proc.join()
        raise TinyccError(f"the reference interpreter (TFLite Micro / TFLite) crashed on this model (exit code "
                          f"{proc.exitcode}), so it cannot check tinycc's output",
                          file=os.path.basename(model_path)) from None
    proc.join()
    if status == "missing":
        raise MissingPackage(name)
    if status != "ok":
        raise TinyccError(f"the reference interpreter failed on this model: {name}",
                          file=os.path.basename(model_path))
    return name, outs[0], outs[1]


def stopped_unset(g) -> dict[int, np.ndarray]:
    """Model output index -> all-true mask, for the outputs written after the first op that may end
    an invoke early (``OpDef.ends_invoke_early``): on a run the reference ended there, it leaves
    them as its arena holds them (tinycc: as they were)."""
    from . import ops
    order = ir.ops_in_order(g)
    first = next((k for k, n in enumerate(order) if ops.lookup(ir.op(g, n).kind).ends_invoke_early(ir.op(g, n))),
                 None)
    if first is None:
        return {}
    late = {t for n in order[first + 1:] for t in ir.op(g, n).outputs}
    return {i: np.ones(ir.tensor(g, t).size, bool) for i, t in enumerate(g.graph["outputs"])
            if ir.view_source(g, t) in late or t in late}


@contextlib.contextmanager
def _silenced_stderr():
    """Silence the process's file descriptor 2 (C++ logging bypasses sys.stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def random_inputs(g, rng: np.random.Generator) -> list[np.ndarray]:
    """One sample: integers uniform over their type's range, bools 0 or 1, floats standard normal."""
    xs = []
    for tid in g.graph["inputs"]:
        t = ir.tensor(g, tid)
        dt = NUMPY[t.dtype]
        if t.dtype == "bool":
            xs.append(rng.integers(0, 2, size=t.shape).astype(np.bool_))
        elif np.issubdtype(dt, np.integer):
            info = np.iinfo(dt)
            xs.append(rng.integers(info.min, info.max, size=t.shape, endpoint=True, dtype=dt))
        else:
            xs.append(rng.standard_normal(t.shape).astype(dt))
    return xs


def reference_unset(g, expected: list[np.ndarray], run: int = 0) -> dict[int, np.ndarray]:
    """Model output index -> the mask of its elements the reference left unwritten on run ``run``
    of the sequence, whose outputs are ``expected`` (``OpDef.reference_unset`` of the op writing
    it). Outputs computed from such elements (downstream of the op) are left out whole: the
    reference computed them from bytes it never set."""
    from . import ops
    position = {tid: i for i, tid in enumerate(g.graph["outputs"])}
    masks, tainted = {}, set()
    for n in ir.ops_in_order(g):
        o = ir.op(g, n)
        if any(ir.view_source(g, t) in tainted for t in o.inputs if t):
            tainted.update(o.outputs)
            continue
        values = [expected[position[t]] if t in position else None for t in o.outputs]
        for t, mask in zip(o.outputs, ops.lookup(o.kind).reference_unset(g, o, values, run) or []):
            if mask is None or not np.any(mask):
                continue
            if t in position:
                masks[position[t]] = np.asarray(mask, bool).reshape(-1)
            tainted.add(t)
    for t, i in position.items():
        if i not in masks and (t in tainted or ir.view_source(g, t) in tainted):
            masks[i] = np.ones(ir.tensor(g, t).size, bool)
    return masks


def compare(i: int, t: ir.Tensor, ours: np.ndarray, ref: np.ndarray,
            unset: np.ndarray | None = None) -> OutputResult:
    """Output ``i`` of every sample against the reference's, except the elements ``unset`` marks."""
    ours = ours.reshape(-1)
    ref = ref.reshape(-1).astype(ours.dtype)
    if ref.size != ours.size:       # the reference ran another shape (--per-op on a stored placeholder)
        return OutputResult(i, t.name, t.dtype, 0, float("nan"), ours.size, False)
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    if unset is not None:
        diff = np.where(unset.reshape(-1), 0.0, diff)
    if t.dtype == "float32":
        bad = ~(diff <= FLOAT_ATOL + FLOAT_RTOL * np.abs(ref.astype(np.float64)))
    else:
        bad = diff != 0
    compared = ours.nbytes
    if unset is not None:
        bad &= ~unset.reshape(-1)
        compared -= int(unset.sum()) * ours.itemsize
    return OutputResult(i, t.name, t.dtype, int(compared), float(diff.max(initial=0.0)), int(bad.sum()),
                        not bad.any())


def every_tensor_out(model_path: str, dst: Path) -> list[str]:
    """Write to ``dst`` the model with every op output of its main subgraph made a model output
    (after its own outputs), as ``verify --per-op`` compares them; return, per output, the op that
    writes it ("op K KIND", "" for the model's own outputs)."""
    require("ai_edge_litert")
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema
    from .testing.tflite_writer import builtin_name
    m = schema.ModelT.InitFromPackedBuf(Path(model_path).read_bytes(), 0)
    sg = m.subgraphs[0]
    outs, writer = list(sg.outputs), [""] * len(sg.outputs)
    for k, op in enumerate(sg.operators):
        code = m.operatorCodes[op.opcodeIndex]
        kind = builtin_name(max(code.builtinCode, code.deprecatedBuiltinCode))
        for t in op.outputs:
            if t >= 0 and t not in outs:
                outs.append(t)
                writer.append(f"op {k} {kind}")
    sg.outputs = outs
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    dst.write_bytes(b.Output())
    return writer


def verify(model_path: str, target: str = "generic", samples: int = 10, seed: int = 0,
           keep: str | None = None, timeout: float = 600, optimize: str | None = None,
           inputs: list | None = None, per_op: bool = False) -> VerifyResult:
    """Build for ``target`` and compare with the reference: a generic build runs on the host,
    a cortex-m* build in QEMU on its board; on ``samples`` seeded random inputs, or on the user's
    ``inputs`` (files, one sample each, read as ``tinycc run`` reads them). ``per_op``: compare
    every op's output (``every_tensor_out``)."""
    if per_op:
        with tempfile.TemporaryDirectory(prefix="tinycc-per-op-") as tmp:
            copy = Path(tmp) / os.path.basename(model_path)
            writers = every_tensor_out(model_path, copy)
            res = verify(str(copy), target, samples, seed, keep, timeout, optimize, inputs)
        res.ops = writers
        return res
    from .runner import execute, read_sample
    if samples < 1:
        raise TinyccError("--samples must be at least 1")
    if keep and os.path.isdir(keep) and set(os.listdir(keep)) - KEPT:
        stray = ", ".join(sorted(set(os.listdir(keep)) - KEPT)[:3])
        raise TinyccError(f"--keep {keep} holds files verify did not write ({stray}); choose a new or empty folder")
    target = check_target(target)
    g = compile_graph(model_path, target=target, optimize=optimize)
    if inputs:
        batches = [read_sample(g, [f]) for f in inputs]
    else:
        rng = np.random.default_rng(seed)
        batches = [random_inputs(g, rng) for _ in range(samples)]
    ref_name, expected, stopped = reference_isolated(model_path, len(g.graph["outputs"]), batches,
                                                     tflm_unreliable(g))
    with tempfile.TemporaryDirectory(prefix="tinycc-verify-") as tmp:
        work = Path(keep) if keep else Path(tmp)
        ours, instructions = execute(model_path, g, batches, target, optimize, workdir=work, timeout=timeout)
        footprint = None
        if toolchain.have_arm_toolchain():
            footprint = model_footprint(work / "model", "model", "cortex-m4" if target == "generic" else target)

    res = VerifyResult(os.path.basename(model_path), target, len(batches), ref_name, instructions=instructions,
                       footprint=footprint, arena_bytes=g.graph["plan"].size, optimize=g.graph["optimize"],
                       inputs="user" if inputs else "random",
                       state_bytes=g.graph["plan"].state_size, notes=reference_notes(g))
    unset = [{**reference_unset(g, e, run), **(stopped_unset(g) if stop else {})}
             for run, (e, stop) in enumerate(zip(expected, stopped))]
    for i, tid in enumerate(g.graph["outputs"]):
        size = ir.tensor(g, tid).size
        mask = (np.stack([u.get(i, np.zeros(size, bool)) for u in unset]) if any(i in u for u in unset)
                else None)
        res.outputs.append(compare(i, ir.tensor(g, tid), np.stack([o[i].reshape(-1) for o in ours]),
                                   np.stack([e[i].reshape(-1) for e in expected]), mask))
    res.ok = all(o.ok for o in res.outputs)
    return res


def model_footprint(out: Path, name: str, target: str) -> dict:
    """RAM and flash of the generated code alone (arm-none-eabi-gcc -O2), RAM with the stack.

    ram = .data + .bss + the worst-case stack of NAME_invoke (from GCC's call graph)."""
    sources = sorted(Path(out).glob("*.c"))
    f = toolchain.object_sizes(sources, target=target, include_dirs=[out])
    st = toolchain.stack_usage(sources, f"{name}_invoke", target=target, include_dirs=[out])
    f["stack"] = st["bytes"]
    f["stack_path"] = st["path"]
    f["static_ram"] = f["ram"]
    f["ram"] = f["data"] + f["bss"] + st["bytes"]
    return f


def format_text(r: VerifyResult) -> str:
    seq = f" as one sequence through {r.state_bytes:,} B of state" if r.state_bytes else ""
    where = "on the host" if r.target == "generic" else f"in QEMU {toolchain.qemu_machine(r.target)}"
    lines = [f"tinycc verify {r.model}: {r.target} build (--optimize {r.optimize}) {where}, {r.samples} {r.inputs} "
             f"samples{seq}, reference {r.reference}"]
    lines += [f"  {n}" for n in r.notes]
    failed = [o for o in r.outputs if not o.ok and r.ops and r.ops[o.index]]
    if r.ops:
        lines.append(f"  --per-op: {len(r.outputs)} tensors compared, {len(failed)} differ"
                     + (f"; the first op that differs: {r.ops[failed[0].index]}" if failed else ""))
    for o in r.outputs:
        if r.ops and o.ok and r.ops[o.index]:
            continue                    # --per-op: only the model's outputs and the differing tensors
        rule = "bit-exact" if o.dtype != "float32" else f"tolerance {FLOAT_ATOL:g} + {FLOAT_RTOL:g}*|ref|"
        by = f" ({r.ops[o.index]})" if r.ops and r.ops[o.index] else ""
        lines.append(f"  output {o.index}{by} '{o.name}' {o.dtype}: {o.bytes_compared} bytes compared, "
                     f"max abs diff {o.max_abs_diff:.6g}, mismatches {o.mismatches} "
                     f"({rule}: {'ok' if o.ok else 'FAIL'})")
    if r.instructions:
        lo, hi = min(r.instructions), max(r.instructions)
        spread = "" if lo == hi else f" (range {lo:,}..{hi:,})"
        lines.append(f"  instructions per inference: {r.instructions[0]:,}{spread} (SysTick under -icount shift=0)")
    lines.append(f"  arena: {r.arena_bytes:,} B")
    if r.footprint:
        f = r.footprint
        lines.append(f"  model code (arm-none-eabi-gcc -O2): RAM {f['ram']:,} B (.data+.bss {f['static_ram']:,} "
                     f"+ stack {f['stack']:,}), flash {f['flash']:,} B (.text {f['text']:,} + .rodata "
                     f"{f['rodata']:,} + .data {f['data']:,})")
    lines.append("PASS" if r.ok else "FAIL")
    return "\n".join(lines)


def main_verify(args) -> int:
    from .runner import sample_files
    try:
        inputs = [f for spec in (args.input or []) for f in sample_files(spec)]
        r = verify(args.model, args.target, args.samples, args.seed, args.keep, optimize=args.optimize,
                   inputs=inputs, per_op=args.per_op)
    except toolchain.ToolchainError as e:
        raise TinyccError(f"toolchain: {str(e).splitlines()[0]}") from None
    print(json.dumps(asdict(r), indent=2) if args.json else format_text(r))
    return 0 if r.ok else 1
