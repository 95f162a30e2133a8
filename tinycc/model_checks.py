"""The model checks: what an untrusted .tflite file means, before and while the frontend builds
the IR (its flatbuffer structure is checked by ``tinycc.flatbuffer`` first).

``check_tensor``, ``check_model``, ``check_graph``: indices in range (opcode, tensor, buffer;
-1 only for an op's ``optional_inputs``), tensor types supported, shapes non-negative, constant
buffers of exactly element count x dtype size bytes, quantization arrays of the right length
(per-channel length equal to the quantized dimension, which must exist), scales finite and > 0,
zero points inside the dtype's range, one producer per tensor, no operator writing a constant or
a model input, nothing read that nobody writes, an acyclic graph, and sizes the device can
address with 32-bit offsets.

Every failure is a ``TinyccError``: one line naming the file (filled in by the
frontend), the operator index and kind, the tensor, and what is wrong.
"""
from __future__ import annotations

import math

import networkx as nx

from .dtypes import DTYPE_SIZE, TENSOR_TYPE_NAMES, ZERO_POINT_RANGE
from .errors import TinyccError
from .flatbuffer import RawModel, RawTensor, check_options_table

MAX_DEVICE_BYTES = 2**31 - 1      # tensor and arena sizes are 32-bit on the device
MAX_ACTIVATION_ELEMENTS = 1 << 24  # per activation tensor: far beyond any microcontroller's RAM;
#                                    keeps int32 sums in the kernels (e.g. pooling) exact and the
#                                    planner's per-element work bounded
MAX_RANK = 16
# Quantization scales of integer tensors: wide enough for any real model, narrow enough that
# what is computed from them in float32 (activation clamps: 6 / scale, ...) stays finite.
MIN_SCALE, MAX_SCALE = 1e-30, 1e30


def element_count(shape) -> int:
    """Exact element count (Python ints: no overflow)."""
    return math.prod(int(d) for d in shape)


def check_tensor(t: RawTensor) -> None:
    """Type, shape, size and quantization of one tensor, on its own."""
    def fail(msg):
        return TinyccError(msg, tensor=t.name)

    if t.sparse:
        raise fail("sparse tensors are not supported")
    if t.dtype is None:
        raise fail(f"tensor type {TENSOR_TYPE_NAMES.get(t.type, t.type)} is not supported")
    if t.dtype == "float16" and t.quant is not None:
        raise fail("a quantized FLOAT16 tensor is not supported")
    if t.dtype == "int4" and t.quant is None:
        raise fail("an INT4 tensor needs quantization")
    if len(t.shape) > MAX_RANK:
        raise fail(f"rank {len(t.shape)} is more than {MAX_RANK}")
    if any(d < 0 for d in t.shape):
        raise fail(f"dynamic or negative shape {list(t.shape)} is not supported")
    nbytes = element_count(t.shape) * DTYPE_SIZE[t.dtype]
    if nbytes > MAX_DEVICE_BYTES:
        raise fail(f"shape {list(t.shape)} {t.dtype} is {nbytes} bytes, more than a 32-bit device "
                   f"can address ({MAX_DEVICE_BYTES})")
    q = t.quant
    if q is None:
        return
    if not q.scale:
        raise fail(f"quantization has {len(q.zero_point)} zero points but no scale")
    if len(q.zero_point) not in (0, 1, len(q.scale)):
        raise fail(f"quantization has {len(q.scale)} scales but {len(q.zero_point)} zero points")
    bad = [s for s in q.scale if not (math.isfinite(s) and s > 0)]
    if bad:
        raise fail(f"quantization scale {bad[0]!r} is not finite and positive")
    if t.dtype != "float32":
        bad = [s for s in q.scale if not MIN_SCALE <= s <= MAX_SCALE]
        if bad:
            raise fail(f"quantization scale {bad[0]!r} is outside [{MIN_SCALE:g}, {MAX_SCALE:g}]")
    lo, hi = ZERO_POINT_RANGE[t.dtype] if t.dtype != "float32" else ZERO_POINT_RANGE["int32"]
    bad = [z for z in q.zero_point if not lo <= z <= hi]
    if bad:
        raise fail(f"zero point {bad[0]} is outside the {t.dtype} range [{lo}, {hi}]")
    if len(q.scale) > 1 or len(q.zero_point) > 1:
        axis = quantized_axis(t)
        if not 0 <= axis < len(t.shape):
            raise fail(f"quantized dimension {axis} is out of range for shape {list(t.shape)}")
        if len(q.scale) != t.shape[axis]:
            raise fail(f"{len(q.scale)} per-channel scales for dimension {axis} of size "
                       f"{t.shape[axis]} (shape {list(t.shape)})")


def quantized_axis(t: RawTensor) -> int:
    """The axis of a per-channel tensor as TFLite Micro reads it: a 1-D tensor's only axis,
    whatever ``quantized_dimension`` says (older converters wrote 3 on 1-D biases, e.g. in
    TFLite Micro's person-detection model), else the field."""
    return 0 if len(t.shape) == 1 else int(t.quant.axis)


def check_tensors(m: RawModel) -> None:
    """``check_tensor`` for every tensor; a refusal names the first operator that reads or
    writes the tensor."""
    for t in m.tensors:
        try:
            check_tensor(t)
        except TinyccError as e:
            raise locate_tensor(e, m, t.index)


def locate_tensor(e: TinyccError, m: RawModel, index: int) -> TinyccError:
    """``e`` located at the first operator that reads or writes tensor ``index``, if any (its
    kind from its opcode, which ``check_model`` may not have checked yet)."""
    from .tflite_schema import utils
    BUILTIN_OPCODE2NAME = utils.BUILTIN_OPCODE2NAME
    user = next((o for o in m.operators if index in o.inputs or index in o.outputs), None)
    if user is None:
        return e
    code = m.opcodes[user.opcode_index] if 0 <= user.opcode_index < len(m.opcodes) else None
    kind = user.kind or (None if code is None else
                         "CUSTOM" if code.builtin == 32 else BUILTIN_OPCODE2NAME.get(code.builtin))
    return e.located(op_index=user.index, op_kind=kind)


def check_model(m: RawModel) -> None:
    """Indices, op kinds and the graph of subgraph 0 (tensors are checked by ``check_tensor``)."""
    n_tensors = len(m.tensors)
    for t in m.tensors:
        if not t.buffer < m.n_buffers:
            raise locate_tensor(TinyccError(f"buffer index {t.buffer} out of range (model has {m.n_buffers} "
                                            f"buffers)", tensor=t.name), m, t.index)

    def tensor_name(i: int) -> str | None:
        return m.tensors[i].name if 0 <= i < n_tensors else None

    for what, ids in (("input", m.inputs), ("output", m.outputs)):
        if not ids:
            raise TinyccError(f"model declares no {what}s")
        for i in ids:
            if not 0 <= i < n_tensors:
                raise TinyccError(f"model {what} tensor index {i} out of range (model has {n_tensors} tensors)")
        dup = next((i for k, i in enumerate(ids) if i in ids[:k]), None)
        if dup is not None:
            raise TinyccError(f"tensor is listed twice as a model {what}", tensor=tensor_name(dup))

    producer: dict[int, int] = {}
    for o in m.operators:
        check_operator(m, o, producer)


def check_subgraph(m: RawModel) -> None:
    """A subgraph other than 0 (``flatbuffer.read_subgraph``): its tensors and operators."""
    for t in m.tensors:
        check_tensor(t)
        if not t.buffer < m.n_buffers:
            raise TinyccError(f"buffer index {t.buffer} out of range (model has {m.n_buffers} buffers)",
                              tensor=t.name)
    producer: dict[int, int] = {}
    for o in m.operators:
        check_operator(m, o, producer)


def check_operator(m: RawModel, o, producer: dict[int, int]) -> None:
    """One operator of a subgraph ``m``: opcode, kind, tensor indices, its options table;
    ``producer`` (tensor index -> operator index) collects the writers seen so far."""
    from .tflite_schema import utils
    BUILTIN_OPCODE2NAME = utils.BUILTIN_OPCODE2NAME

    from . import ops

    n_tensors = len(m.tensors)

    def tensor_name(i: int) -> str | None:
        return m.tensors[i].name if 0 <= i < n_tensors else None

    if not o.opcode_index < len(m.opcodes):
        raise TinyccError(f"opcode index {o.opcode_index} out of range (model has {len(m.opcodes)} "
                          f"operator codes)", op_index=o.index)
    code = m.opcodes[o.opcode_index]
    if code.builtin == 32:  # CUSTOM: an op that declares this custom code, or refused
        spec = ops.lookup_custom(code.custom or "")
        if spec is None:
            raise TinyccError(f"custom operator '{code.custom or '?'}' is not supported",
                              op_index=o.index, op_kind="CUSTOM")
    kind = spec.kind if code.builtin == 32 else BUILTIN_OPCODE2NAME.get(code.builtin)
    if kind is None:
        raise TinyccError(f"unknown builtin operator code {code.builtin}", op_index=o.index)
    o.kind = kind
    spec = ops.lookup(kind)
    if spec is None:
        raise TinyccError("operator is not supported by tinycc", op_index=o.index, op_kind=kind)

    def fail(msg, tensor=None):
        return TinyccError(msg, op_index=o.index, op_kind=kind, tensor=tensor)

    optional = spec.optional_inputs
    for slot, i in enumerate(o.inputs):
        if i == -1 and slot in optional:
            continue
        if not 0 <= i < n_tensors:
            raise fail(f"input {slot} tensor index {i} out of range (model has {n_tensors} tensors"
                       f"{'' if slot in optional else '; -1 only marks an absent optional input'})")
    if not o.outputs and not spec.writes_nothing:
        raise fail("operator has no outputs")
    for slot, i in enumerate(o.outputs):
        if not 0 <= i < n_tensors:
            raise fail(f"output {slot} tensor index {i} out of range (model has {n_tensors} tensors)")
        if i in o.outputs[:slot]:
            raise fail("operator writes one tensor twice", tensor_name(i))
        if i in producer:
            raise fail(f"tensor is written by operators {producer[i]} and {o.index}", tensor_name(i))
        producer[i] = o.index
        if i in o.inputs:
            raise fail("operator reads the tensor it writes", tensor_name(i))
        if i in m.inputs:
            raise fail("operator writes a model input", tensor_name(i))
    if o.options_pos is not None and spec.options_class is not None:
        want = _options_type(spec.options_class)
        if want is not None and o.options_type != want:
            raise fail(f"builtin options type {o.options_type} does not match {kind} "
                       f"(expected {want}, {spec.options_class.__name__})")
        check_options_table(m.buf, o.options_pos, spec.options_class, f"operator {o.index} options", m.trace)


def check_graph(g: nx.DiGraph, m: RawModel, constants: set[str]) -> None:
    """Checks over the IR the frontend built: writers, cycles, sizes."""
    from . import ir, ops

    consts = constants
    for o in m.operators:
        unread = ops.lookup(o.kind).unread_inputs
        for slot, i in enumerate(o.inputs):
            if i < 0 or slot in unread:
                continue
            tid = f"t{i}"
            t = ir.tensor(g, tid)
            if tid not in consts and tid not in g.graph["inputs"] and ir.producer(g, tid) is None \
                    and not t.variable:
                raise TinyccError(f"input {slot} is neither a constant, a model input nor written by an "
                                  f"operator", op_index=o.index, op_kind=o.kind, tensor=t.name)
        for slot, i in enumerate(list(o.inputs) + list(o.outputs)):
            if i < 0 or (slot < len(o.inputs) and slot in unread):
                continue
            t = ir.tensor(g, f"t{i}")
            if t.variable and slot >= len(o.inputs):
                raise TinyccError("operator writes a variable (state) tensor as its output", op_index=o.index,
                                  op_kind=o.kind, tensor=t.name)
            if t.is_const:
                if slot >= len(o.inputs):
                    raise TinyccError("operator writes a constant tensor", op_index=o.index, op_kind=o.kind,
                                      tensor=t.name)
                continue
            if t.size == 0:
                raise TinyccError(f"tensor has no elements (shape {list(t.shape)})", op_index=o.index,
                                  op_kind=o.kind, tensor=t.name)
            if t.size > MAX_ACTIVATION_ELEMENTS:
                raise TinyccError(f"activation of {t.size} elements (shape {list(t.shape)}) is more than "
                                  f"tinycc supports ({MAX_ACTIVATION_ELEMENTS})", op_index=o.index,
                                  op_kind=o.kind, tensor=t.name)
    for tid in [*g.graph["inputs"], *g.graph["outputs"]]:
        if ir.tensor(g, tid).variable:
            raise TinyccError("a variable (state) tensor is a model input or output", tensor=ir.tensor(g, tid).name)
    for tid in g.graph["outputs"]:
        t = ir.tensor(g, tid)
        if not t.is_const and tid not in g.graph["inputs"] and ir.producer(g, tid) is None:
            raise TinyccError("model output is neither a constant, a model input nor written by an operator",
                              tensor=t.name)
        if t.size > MAX_ACTIVATION_ELEMENTS:
            raise TinyccError(f"model output of {t.size} elements is more than tinycc supports "
                              f"({MAX_ACTIVATION_ELEMENTS})", tensor=t.name)
    for tid in g.graph["inputs"]:
        t = ir.tensor(g, tid)
        if t.is_const:
            raise TinyccError("model input has constant data", tensor=t.name)
        if t.size > MAX_ACTIVATION_ELEMENTS:
            raise TinyccError(f"model input of {t.size} elements is more than tinycc supports "
                              f"({MAX_ACTIVATION_ELEMENTS})", tensor=t.name)
    if not nx.is_directed_acyclic_graph(g):
        cycle = nx.find_cycle(g)
        ops_on_cycle = sorted({ir.op(g, n).index for edge in cycle for n in edge if ir.is_op(g, n)})
        first = ops_on_cycle[0] if ops_on_cycle else None
        raise TinyccError(f"operator graph has a cycle through operators {ops_on_cycle}", op_index=first,
                          op_kind=ir.op(g, f"op{first}").kind if first is not None else None)
    # The arena holds at most every activation (each aligned) plus one op's scratch, which is
    # never larger than the op's output: twice the activation total bounds it.
    total = sum((ir.tensor(g, n).nbytes + 3) // 4 * 4 for n in g.nodes
                if not ir.is_op(g, n) and not ir.tensor(g, n).is_const)
    if 2 * total > MAX_DEVICE_BYTES:
        raise TinyccError(f"activations total {total} bytes: the arena could exceed the {MAX_DEVICE_BYTES} "
                          f"bytes a 32-bit device can address")


_OPTIONS_TYPES: dict[str, int | None] = {}


def _options_type(options_class) -> int | None:
    """The BuiltinOptions union value of a generated options class (None if unknown)."""
    from . import tflite_schema as tflite
    name = options_class.__name__
    if name not in _OPTIONS_TYPES:
        v = getattr(tflite.BuiltinOptions, name, None)
        _OPTIONS_TYPES[name] = v if isinstance(v, int) else None
    return _OPTIONS_TYPES[name]
