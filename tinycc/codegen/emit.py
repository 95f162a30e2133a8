"""Codegen: turn a planned graph into C source files (strings), through jinja2 templates.

Templates (``templates/*.j2``) hold the file skeletons; every number, array and call
is computed and formatted here in Python. Each op's registration emits its own
constants and kernel call through an ``Emitter``.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import networkx as nx
import numpy as np

from .. import __version__, ir, objcache, ops, variants
from ..cformat import format_float, format_scalar, format_values  # noqa: F401  (ops' emit used them from here)
from ..dtypes import TFLITE_C_TYPES, ZERO_POINT_RANGE
from ..memory_report import build_report
from ..resources import KERNELS, TEMPLATES
from .precompiled import Loader as PrecompiledLoader
from .glue import LAYOUTS, SOURCE_DIR, lay_out


@dataclass
class OpCode:
    """What one op contributes: its constant declarations and its statements in invoke()."""
    oid: str
    decls: list[str] = field(default_factory=list)
    stmts: list[str] = field(default_factory=list)


class Emitter:
    """Collects constants, kernel calls and kernel files while ops emit themselves."""

    def __init__(self, g: nx.DiGraph, name: str, const_attr: str = "", label: str = "",
                 functions: set[int] | None = None):
        self.g, self.name = g, name
        self.const_attr = const_attr          # e.g. " model_WEIGHTS_SECTION" to place constants
        self.label = label                    # "sgK_" in subgraph K: its constants' names
        self.plan = g.graph["plan"]
        self.code: list[OpCode] = []
        self.kernels: set[str] = set()
        self.uses: set[str] = set()             # optional kernel parts some op needs (see use)
        self.const_bytes: dict[str, int] = {}   # op id -> bytes of constants it emitted
        self.array_bytes: dict[str, dict[str, int]] = {}   # op id -> {array label: bytes}
        self.declared: set[str] = set()         # model-level constant arrays already emitted
        self.functions = set() if functions is None else functions   # subgraphs emitted as functions
        self.subgraphs: dict[int, Emitter] = {}
        self.function = ""                      # a subgraph's C function (see subgraph)

    # -- used by op registrations ---------------------------------------------------
    def const_array(self, o: ir.Op, label: str, ctype: str, data) -> str:
        arr = np.asarray(data).ravel()
        cname = f"{o.name}_{label}"
        self._current.decls.append(
            f"static const {ctype} {cname}[{max(len(arr), 1)}]{self.const_attr} = {{\n{format_values(arr, ctype)}\n}};")
        self.const_bytes[self._current.oid] = self.const_bytes.get(self._current.oid, 0) + arr.size * _csize(ctype)
        self.array_bytes.setdefault(self._current.oid, {})[label] = arr.size * _csize(ctype)
        return cname

    def const_records(self, o: ir.Op, label: str, ctype: str, rows) -> str:
        """A static const array of structs (each row a brace-enclosed initializer of int32 fields)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(len(rows), -1)
        cname = f"{o.name}_{label}"
        body = ",\n".join("    {" + ", ".join(format_scalar(v) for v in r) + "}" for r in rows.tolist())
        self._current.decls.append(f"static const {ctype} {cname}[{len(rows)}]{self.const_attr} = {{\n{body}\n}};")
        self.const_bytes[self._current.oid] = self.const_bytes.get(self._current.oid, 0) + rows.size * 4
        self.array_bytes.setdefault(self._current.oid, {})[label] = rows.size * 4
        return cname

    def struct(self, o: ir.Op, ctype: str, fields: list[tuple[str, object]], label: str = "params") -> str:
        cname = f"{o.name}_{label}"
        body = "\n".join(f"    .{k} = {format_scalar(v)}," for k, v in fields)
        self._current.decls.append(f"static const {ctype} {cname}{self.const_attr} = {{\n{body}\n}};")
        return cname

    def buf(self, tid: str) -> str:
        """C pointer expression for a tensor: its place in the arena, or its constant array."""
        t = ir.tensor(self.g, tid)
        ctype = ir.C_TYPE[t.dtype]
        if t.is_const:
            cname = f"{self.name}_{self.label}const_{tid}"
            if cname not in self.declared:
                self.declared.add(cname)
                self._current.decls.append(
                    f"static const {ctype} {cname}[{max(t.size, 1)}]{self.const_attr} = "
                    f"{{\n{format_values(t.data.ravel(), ctype)}\n}};")
            return cname
        if t.variable:
            return f"({ctype} *)(state + {self.plan.state[tid]})"
        return f"({ctype} *)(arena + {self.plan.offsets[tid]})"

    def scratch(self, o: ir.Op) -> str:
        """C pointer to the op's scratch buffer in the arena (typed like its output)."""
        ctype = ir.C_TYPE[ir.tensor(self.g, o.outputs[0]).dtype]
        return f"({ctype} *)(arena + {self.plan.offsets[ir.scratch_id(o)]})"

    def scratch_offset(self, o: ir.Op) -> int:
        """Where the op's scratch buffer starts in the arena."""
        return self.plan.offsets[ir.scratch_id(o)]

    def subgraph(self, o: ir.Op, k: int) -> "Emitter":
        """Subgraph ``k`` (IF, WHILE) as the function ``NAME_subgraphK(arena, state)``, whose
        arena is a buffer of its plan's size (the calling op's scratch); emitted once, before the
        first op that calls it, with its constants. Returns its emitter: ``function`` names it,
        ``inner(tid, base)`` points at its tensors from the caller."""
        sub = self.subgraphs.get(k)
        if sub is None:
            sub = Emitter(self.g.graph["subgraphs"][k], self.name, self.const_attr, f"sg{k}_", self.functions)
            sub.function = f"{self.name}_subgraph{k}"
            sub.emit_all()
            self.subgraphs[k] = sub
            self.kernels |= sub.kernels
            self.uses |= sub.uses
            if k not in self.functions:
                self.functions.add(k)
                rows = [dict(index=ir.op(sub.g, oc.oid).index, kind=ir.op(sub.g, oc.oid).kind, decls=oc.decls,
                             stmts=oc.stmts) for oc in sub.code]
                self._current.decls.append(_env().get_template("subgraph.c.j2").render(
                    k=k, function=sub.function, rows=rows, arena=sub.plan.size))
                self.const_bytes[self._current.oid] = (self.const_bytes.get(self._current.oid, 0)
                                                       + sum(sub.const_bytes.values()))
        return sub

    def inner(self, tid: str, base: int) -> str:
        """C pointer, in the caller's code, to tensor ``tid`` of this subgraph whose arena starts at
        the caller's ``arena + base`` (a subgraph's inputs and outputs are arena buffers: a
        constant output is copied into one, see ``fold_constants``)."""
        t = ir.tensor(self.g, tid)
        return f"({ir.C_TYPE[t.dtype]} *)(arena + {base + self.plan.offsets[tid]})"

    def use(self, part: str) -> None:
        """Keep an optional part of a kernel file: code guarded by ``#ifndef TCC_OMIT_<part>`` (or
        ``defined(TCC_OMIT_<part>)``) is compiled out unless some op of the model asks for it."""
        self.uses.add(part)

    def call(self, o: ir.Op, stmt: str, kernel: str | None) -> None:
        """Emit the op's kernel call; the called tcc_NAME(...) is also a used part (NAME in
        capitals), so a kernel file can guard a function with ``#ifndef TCC_OMIT_NAME``."""
        self._current.stmts.append(stmt)
        if kernel:
            self.kernels.add(kernel)
        called = re.match(r"tcc_(\w+)\(", stmt)
        if called:
            self.uses.add(called.group(1).upper())

    # -- driving ----------------------------------------------------------------------
    def emit_all(self) -> None:
        for oid in self.plan.order:
            o = ir.op(self.g, oid)
            self._current = OpCode(oid)
            variants.emit(self.g, o, self)
            self.code.append(self._current)


C_SIZES = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4, "float": 4,
           "int64_t": 8, "uint64_t": 8}


def _csize(ctype: str) -> int:
    return C_SIZES[ctype]


# a constant array as const_array, buf and the templates write it, in the default section:
# "static const T NAME[N] = {" at the start of a line, its values, "};" alone on a line
_ARRAY_HEAD = re.compile(r"static const (%s) (\w+)\[(\d+)\] = \{\n" % "|".join(C_SIZES))
_READ_BY_INDEX = (re.compile(r"(\w+)\s*$"), re.compile(r"\*\s*\(?\s*(\w+)"))   # before "[", after "*"


def without_constant_data(text: str) -> tuple[str, int]:
    """A generated NAME.c for measuring its code, and the bytes of constants left out: every
    constant array of a scalar type in the default section becomes an ``extern`` declaration
    (the compiler parses no values), unless the code reads it by index or through "*" (then its
    values could be folded into the code). The others are only ever passed by address, so the
    code, its stack frames and its sections other than these arrays' .rodata are the same as the
    full file's, and each array's .rodata (its own section under -fdata-sections) is exactly
    N x sizeof(T). Plain string searches: a model's C holds megabytes of values."""
    arrays, pos = [], 0            # (start, end, type, name, count)
    while (pos := text.find("\nstatic const ", pos)) >= 0:
        m = _ARRAY_HEAD.match(text, pos + 1)
        pos += 1
        if m:
            end = text.find("\n};\n", m.end() - 1)
            if end < 0:
                break
            arrays.append((m.start(), end + 3, m.group(1), m.group(2), int(m.group(3))))
            pos = end + 3
    if not arrays:
        return text, 0
    rest = "".join(text[a[1]:b[0]] for a, b in zip([(0, 0)] + arrays, arrays + [(len(text), len(text))]))
    read = set()
    for mark, pattern in zip("[*", _READ_BY_INDEX):
        pos = 0
        while (pos := rest.find(mark, pos)) >= 0:
            m = pattern.search(rest, max(0, pos - 80), pos) if mark == "[" else pattern.match(rest, pos)
            if m:
                read.add(m.group(1))
            pos += 1
    out, pos, left_out = [], 0, 0
    for start, end, ctype, cname, count in arrays:
        if cname in read:
            continue
        out += [text[pos:start], f"extern const {ctype} {cname}[{count}];  /* {count * C_SIZES[ctype]} B left out */"]
        pos = end
        left_out += count * C_SIZES[ctype]
    out.append(text[pos:])
    return "".join(out), left_out


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    """One environment per process. The templates come compiled ahead of time (``precompiled``);
    one that changed since is compiled once, its code kept in tinycc's cache folder
    (``tinycc.objcache``) for the next process."""
    where = objcache.folder("jinja2-1")
    return jinja2.Environment(loader=PrecompiledLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                              bytecode_cache=jinja2.FileSystemBytecodeCache(str(where)) if where else None)


def shape_str(t: ir.Tensor) -> str:
    return "x".join(map(str, t.shape)) or "scalar"


@dataclass(frozen=True)
class Options:
    """How the output folder is generated (``tinycc build`` options)."""
    name: str = "model"
    target: str = "generic"
    arena_section: str | None = None     # linker section of the static arena
    weights_section: str | None = None   # linker section of every constant
    app_arena: bool = False              # no static arena: the application passes one in
    format: str = "plain"                # plain | zephyr | arduino
    maintainer: str | None = None        # library.properties maintainer (arduino; default: git's user.name)
    url: str | None = None               # library.properties url (arduino)
    bench: bool = False                  # call NAME_bench_mark(step) around every op (tinycc bench)
    stack: dict | None = None            # measured worst-case stack: {"bytes", "path", "cpu", "entry"}
    selftest: dict | None = None         # NAME_selftest(): tinycc.selftest.selftest_data(...)


FORMATS = tuple(LAYOUTS)
# NAME_run calls the ops in parts of at most this many, one function each when there is more than
# one part: GCC's time on one function grows faster than its length (-O2 on a 5,000-op NAME_run:
# 6.3 s, 8x that of 1,000 ops; in parts of 64: linear)
PART_OPS = 64
ARENA_ALIGN = 8                          # alignment NAME_invoke_with_arena() checks


def generate(g: nx.DiGraph, name: str, target: str) -> dict[str, str]:
    """Return {file name: contents} of the output folder."""
    return generate_with_report(g, Options(name=name, target=target))[0]


def prefixed(text: str, name: str) -> str:
    """Give every runtime symbol and file name (tcc_...) the model's prefix, so that several
    models' folders link into one firmware without clashes: ``re.sub(r"\btcc_", NAME_tcc_)``,
    by splitting at "tcc_" (a regex that starts with \b scans megabytes of weights slowly)."""
    pieces = text.split("tcc_")
    out = [pieces[0]]
    for i in range(1, len(pieces)):
        before = pieces[i - 1]
        # the character before this "tcc_": the end of the previous piece, the "_" of the previous
        # "tcc_" when that piece is empty, or none at the start of the text
        boundary = (not before and i == 1) or (bool(before) and not _word_char(before[-1]))
        out.append(f"{name}_tcc_" if boundary else "tcc_")
        out.append(pieces[i])
    return "".join(out)


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def generate_with_report(g: nx.DiGraph, opts: Options | str, target: str | None = None):
    """The output folder's files and the memory report they were generated with."""
    files, rep, _ = generate_parts(g, opts, target)
    return files, rep


def with_stack(files: dict[str, str], ctx: dict, opts: Options) -> dict[str, str]:
    """The files of ``generate_parts`` (which gave ``ctx``) with ``opts.stack``, the measured stack,
    in NAME.h: only the header says it, so only the header is rendered again."""
    ctx = dict(ctx, stack=_stack_context(opts.stack))
    header = SOURCE_DIR[opts.format] + f"{opts.name}.h"
    assert header in files
    return {**files, header: _env().get_template("model.h.j2").render(ctx)}


def _stack_context(stack: dict | None) -> dict | None:
    return stack and dict(stack, path=comment_safe(" -> ".join(stack["path"]), 200))


def generate_parts(g: nx.DiGraph, opts: Options | str, target: str | None = None):
    """(files, report, the templates' context): ``generate_with_report`` and what ``with_stack``
    needs."""
    if isinstance(opts, str):
        opts = Options(name=opts, target=target or "generic")
    name = opts.name
    em = Emitter(g, name, f" {name}_WEIGHTS_SECTION" if opts.weights_section else "")
    em.emit_all()
    rep = build_report(g, em, name, opts.target)
    plan = g.graph["plan"]
    rows = []
    for step, (oc, r) in enumerate(zip(em.code, rep.ops)):
        rows.append(dict(index=r.index, kind=r.kind, step=step,
                         shapes=comment_safe(" + ".join(r.inputs) + " -> " + ", ".join(r.outputs), 60),
                         macs=r.macs, flash=r.weight_bytes, ram=r.live_bytes,
                         offsets=", ".join(x.rsplit("@", 1)[1] for x in r.offsets),
                         decls=oc.decls, stmts=oc.stmts))
    idents = tensor_idents(g)
    io = lambda group: [dict(index=i, tid=t, name=comment_safe(ir.tensor(g, t).name), offset=plan.offsets[t],
                            bytes=ir.tensor(g, t).nbytes, dtype=ir.tensor(g, t).dtype,
                            shape=shape_str(ir.tensor(g, t)), quant=_quant_str(ir.tensor(g, t)),
                            ident=idents[group, t], **io_interface(ir.tensor(g, t)))
                        for i, t in enumerate(g.graph[group])]
    kernel_files = runtime_files(em.kernels)
    sources = [f"{name}.c"] + ([f"{name}_selftest.c"] if opts.selftest else []) \
        + [prefixed(f, name) for f in kernel_files if f.endswith(".c")]
    ctx = dict(name=name, NAME=name.upper(), version=__version__, target=opts.target, type_codes=TYPE_CODES,
               source=comment_safe(rep.model), rows=rows, arena=rep.arena_bytes,
               parts=[rows[i:i + PART_OPS] for i in range(0, len(rows), PART_OPS)], part_ops=PART_OPS,
               lower_bound=rep.lower_bound, macs=rep.macs, weights=rep.weight_bytes, strategy=rep.strategy,
               model_constants=rep.model_constant_bytes, flash_budget=rep.flash_budget,
               buffers=[dict(name=comment_safe(b.name), offset=b.offset, size=b.size, first=b.first, last=b.last)
                        for b in rep.buffers],
               overlaps=[comment_safe(x, 160) for x in rep.overlaps],
               state_bytes=rep.state_bytes,
               state=[dict(name=comment_safe(x.tensor), dtype=x.dtype, shape=x.shape, offset=x.offset,
                           size=x.size, initial=x.initial, used_by=comment_safe(x.used_by),
                           ctype=ir.C_TYPE[x.dtype], count=ir.tensor(g, tid).size,
                           init_values=None if x.initial is not None else
                           format_values(ir.tensor(g, tid).init.ravel(), ir.C_TYPE[x.dtype]))
                      for x, tid in zip(rep.state, plan.state)],
               inputs=io("inputs"), outputs=io("outputs"), not_ready=not_ready(g),
               kernel_headers=sorted({kernel_header(k) for k in em.kernels}), sources=sources,
               arena_section=opts.arena_section, weights_section=opts.weights_section,
               app_arena=opts.app_arena, arena_align=ARENA_ALIGN, bench=opts.bench,
               selftest=opts.selftest and selftest_context(g, opts.selftest),
               stack=_stack_context(opts.stack))
    env = _env()
    files = {f"{name}.h": env.get_template("model.h.j2").render(ctx),
             f"{name}.c": prefixed(env.get_template("model.c.j2").render(ctx), name)}
    if opts.selftest:
        files[f"{name}_selftest.c"] = env.get_template("selftest.c.j2").render(ctx)
    for f, path in kernel_files.items():
        files[prefixed(f, name)] = prefixed(omit_unused(path.read_text(), em.uses), name)
    return lay_out(g, files, opts, ctx, env), rep, ctx


_OPTIONAL = re.compile(r"#ifndef TCC_OMIT_(\w+)|defined\(TCC_OMIT_(\w+)\)")


def not_ready(g: nx.DiGraph) -> list[dict]:
    """The ops that may end an invoke early (``OpDef.ends_invoke_early``): index, kind and period."""
    out = []
    for n in ir.ops_in_order(g):
        o = ir.op(g, n)
        if ops.lookup(o.kind).ends_invoke_early(o):
            out.append(dict(index=o.index, kind=o.kind, period=o.params.get("period", 1)))
    return out


def omit_unused(text: str, uses: set[str]) -> str:
    """Define TCC_OMIT_<part> at the top of a kernel file (after its opening comment) for each
    optional part no op of the model uses (Emitter.use), so that its code is not compiled."""
    parts = sorted({a or b for a, b in _OPTIONAL.findall(text)} - uses)
    if not parts:
        return text
    defines = "".join(f"#define TCC_OMIT_{p_} 1  /* not used by this model */\n" for p_ in parts)
    end = text.find("*/\n") + 3 if text.startswith("/*") else 0
    return text[:end] + defines + text[end:]


def kernel_header(kernel: str) -> str:
    """The header declaring a kernel family's functions (the fast Cortex-M kernels share one)."""
    path = KERNELS / f"{kernel}.h"
    return path.name if path.exists() else "tcc_arm.h"


def runtime_files(kernels) -> dict[str, Path]:
    """Every runtime file the kernels need: their .c files and, transitively, the headers they
    include (found in runtime/kernels or runtime/kernels/arm). Keys are the flat names in OUT."""
    todo = [KERNELS / f"{k}.c" for k in sorted(kernels)] + [KERNELS / "tcc_common.h"]
    found: dict[str, Path] = {}
    while todo:
        path = todo.pop(0)
        if path.name in found:
            continue
        found[path.name] = path
        for inc in re.findall(r'^#include "([^"]+)"', path.read_text(), re.M):
            for d in (path.parent, KERNELS, KERNELS / "arm"):
                if (d / inc).exists():
                    todo.append(d / inc)
                    break
    return dict(sorted(found.items()))


def comment_safe(text: str, limit: int = 96) -> str:
    """Make a model-supplied string safe inside a C block comment: printable ASCII, no '*/', bounded."""
    text = "".join(c if " " <= c <= "~" else "?" for c in text).replace("*/", "*_/").replace("/*", "/_*")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def selftest_context(g: nx.DiGraph, data: dict) -> dict:
    """The self-test's constant arrays (input and expected output as C initializers) and tolerance."""

    def arrays(tids, values):
        out = []
        for tid, x in zip(tids, values):
            t = ir.tensor(g, tid)
            ctype = ir.C_TYPE[t.dtype]
            flat = np.asarray(x).reshape(-1)
            out.append(dict(ctype=ctype, count=max(t.size, 1), bytes=t.nbytes, is_float=t.dtype == "float32",
                            data=format_values(flat.astype(np.float32 if ctype == "float" else np.int64), ctype)))
        return out
    return dict(inputs=arrays(g.graph["inputs"], data["inputs"]), outputs=arrays(g.graph["outputs"], data["outputs"]),
                reference=comment_safe(data["reference"]), source=comment_safe(data["source"]),
                atol=format_float(data["atol"]), rtol=format_float(data["rtol"]))


TYPE_CODES = TFLITE_C_TYPES                  # NAME_TYPE_<T>: the codes of NAME_INPUTi_TYPE / NAME_OUTPUTi_TYPE
QUANTIZED_TYPES = ("int8", "uint8", "int16")  # integer types a quantize helper writes


def io_interface(t: ir.Tensor) -> dict:
    """What NAME.h says about a model input or output: C type, TfLiteType code, dims and, for a
    per-tensor quantized integer tensor, its scale (a float literal equal to the model's float32
    scale) and zero point, with the clamp range its quantize helper saturates to."""
    quantized = t.quant is not None and not t.quant.per_channel and t.dtype in QUANTIZED_TYPES
    qmin, qmax = ZERO_POINT_RANGE.get(t.dtype, (0, 0))
    return dict(ctype=ir.C_TYPE[t.dtype], type=t.dtype.upper(), rank=len(t.shape),
                dims="{" + ", ".join(map(str, t.shape)) + "}", elements=t.size, quantized=quantized,
                scale=format_float(t.quant.scale[0]) if quantized else None,
                zero_point=int(t.quant.zero_point[0]) if quantized else None,
                qmin=qmin, qmax=qmax)


RESERVED_IDENTS = {"COUNT"}                  # NAME_INPUT_COUNT / NAME_OUTPUT_COUNT exist already


def tensor_idents(g: nx.DiGraph) -> dict[tuple[str, str], str]:
    """C identifiers derived from the inputs' and outputs' tensor names (upper case, every other
    character an underscore, never starting with a digit), unique among the inputs and among the
    outputs: NAME_INPUT_<ident> / NAME_OUTPUT_<ident> give their index. Keys: (group, tensor id)."""
    idents: dict[tuple[str, str], str] = {}
    for group in ("inputs", "outputs"):
        taken = set(RESERVED_IDENTS)
        for tid in g.graph[group]:
            base = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9]", "_", ir.tensor(g, tid).name)).strip("_").upper()
            base = base[:40].rstrip("_") or "TENSOR"
            base = "T" + base if base[0].isdigit() else base
            ident, k = base, 2
            while ident in taken:
                ident, k = f"{base}_{k}", k + 1
            taken.add(ident)
            idents[group, tid] = ident
    return idents


def _quant_str(t: ir.Tensor) -> str:
    if t.quant is None:
        return ""
    return f"scale {t.quant.scale[0]:.9g}, zero point {t.quant.zero_point[0]}"
