"""Validation of untrusted .tflite files, before and while the frontend builds the IR.

A model file is input from strangers: training pipelines, colleagues, downloads. The
flatbuffers Python library does no bounds checks (a corrupt offset reads any byte, a
corrupt vector length makes a loop run for billions of steps), so tinycc never hands it
an unchecked position. Two layers:

1. Structure (``read_model``). A small flatbuffer reader of its own walks the part of
   the TFLite schema tinycc uses (Model, OperatorCode, SubGraph 0, Tensor,
   QuantizationParameters, Operator and its builtin options, Buffer) and checks, before
   any value is used: the file size and identifier, every table's position, its vtable
   (inside the file, even length of at least 4 bytes), every field inside its table,
   every offset to a sub-object, every vector (length x element size inside the file)
   and string. Loops only run over vectors checked this way, so their length is bounded
   by the file size and nothing allocates more than the file. The result is a plain
   ``RawModel``; builtin options stay flatbuffer tables (each op decodes its own with
   its generated ``options_class``) but only at positions whose fields were checked.

2. Meaning (``check_model``, ``check_tensor``, ``check_graph``). Indices in range
   (opcode, tensor, buffer; -1 only for an op's ``optional_inputs``),
   tensor types supported, shapes non-negative, constant buffers of exactly element
   count x dtype size bytes, quantization arrays of the right length (per-channel
   length equal to the quantized dimension, which must exist), scales finite and > 0,
   zero points inside the dtype's range, one producer per tensor, no operator writing
   a constant or a model input, nothing read that nobody writes, an acyclic graph, and
   sizes the device can address with 32-bit offsets.

Every failure is a ``TinyccError``: one line naming the file (filled in by the
frontend), the operator index and kind, the tensor, and what is wrong.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

import networkx as nx

from .errors import TinyccError

# -- limits ---------------------------------------------------------------------------

MAX_FILE_BYTES = 2**31 - 1        # flatbuffers address with 32-bit offsets
MAX_DEVICE_BYTES = 2**31 - 1      # tensor and arena sizes are 32-bit on the device
MAX_ACTIVATION_ELEMENTS = 1 << 24  # per activation tensor: far beyond any microcontroller's RAM;
#                                    keeps int32 sums in the kernels (e.g. pooling) exact and the
#                                    planner's per-element work bounded
MAX_RANK = 16
MAX_NAME_CHARS = 256   # tensor names longer than this are cut (they only label messages and comments)
# Quantization scales of integer tensors: wide enough for any real model, narrow enough that
# what is computed from them in float32 (activation clamps: 6 / scale, ...) stays finite.
MIN_SCALE, MAX_SCALE = 1e-30, 1e30
SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"

# TFLite TensorType -> tinycc dtype name.
TENSOR_TYPES = {0: "float32", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8"}
TENSOR_TYPE_NAMES = {0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64", 5: "STRING", 6: "BOOL",
                     7: "INT16", 8: "COMPLEX64", 9: "INT8", 10: "FLOAT64", 11: "COMPLEX128", 12: "UINT64",
                     13: "RESOURCE", 14: "VARIANT", 15: "UINT32", 16: "UINT16", 17: "INT4", 18: "BFLOAT16"}
# FLOAT16 is read only for constants (TensorFlow's float16 weight quantization); the frontend
# widens them to float32 exactly, so the IR never holds a float16 tensor.
FILE_ONLY_TYPES = {1: "float16"}
NUMPY_DTYPES = {"float32": "<f4", "int32": "<i4", "uint8": "u1", "int64": "<i8", "bool": "u1",
                "int16": "<i2", "int8": "i1", "float16": "<f2"}
DTYPE_SIZE = {"int8": 1, "uint8": 1, "int16": 2, "int32": 4, "int64": 8, "float32": 4, "bool": 1, "float16": 2}
ZERO_POINT_RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767),
                    "int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1), "bool": (0, 1)}

# -- the structural layer -------------------------------------------------------------

_SCALARS = {"b": 1, "B": 1, "?": 1, "h": 2, "H": 2, "i": 4, "I": 4, "f": 4, "q": 8, "Q": 8, "d": 8}

# Field layouts (slot number -> struct code, or "vector:<code>") of the builtin options
# tables of the first ops; options classes not listed get the generic check (every field
# present starts inside its table).
OPTION_FIELDS = {
    "Conv2DOptions": ["b", "i", "i", "b", "i", "i", "b"],
    "DepthwiseConv2DOptions": ["b", "i", "i", "i", "b", "i", "i"],
    "FullyConnectedOptions": ["b", "b", "?", "?", "b"],
    "Pool2DOptions": ["b", "i", "i", "i", "i", "b"],
    "AddOptions": ["b", "?"],
    "SoftmaxOptions": ["f"],
    "ReshapeOptions": ["vector:i"],
    "SqueezeOptions": ["vector:i"],
}


class _Reader:
    """Bounds-checked reads from the file's bytes; every failure is a TinyccError."""

    def __init__(self, buf: bytes, trace: list | None = None):
        self.buf = buf
        self.n = len(buf)
        self.trace = trace  # fuzzing: every (position, struct code, count) read is appended

    def fail(self, what: str, msg: str) -> TinyccError:
        return TinyccError(f"corrupt flatbuffer: {what}: {msg}")

    def scalar(self, pos: int, code: str, what: str):
        size = _SCALARS[code]
        if pos < 0 or pos + size > self.n:
            raise self.fail(what, f"{size}-byte value at offset {pos} lies outside the {self.n}-byte file")
        if self.trace is not None:
            self.trace.append((pos, code, 1))
        return struct.unpack_from("<" + code, self.buf, pos)[0]

    def table(self, pos: int, what: str) -> "_Table":
        """The table at ``pos``, with its vtable checked."""
        if pos < 0 or pos + 4 > self.n:
            raise self.fail(what, f"table at offset {pos} lies outside the {self.n}-byte file")
        vt = pos - self.scalar(pos, "i", what)
        if vt < 0 or vt + 4 > self.n:
            raise self.fail(what, f"vtable at offset {vt} lies outside the {self.n}-byte file")
        vt_len = self.scalar(vt, "H", what)
        obj_len = self.scalar(vt + 2, "H", what)
        if vt_len < 4 or vt_len % 2 or vt + vt_len > self.n:
            raise self.fail(what, f"vtable at offset {vt} has an invalid length {vt_len}")
        if obj_len < 4 or pos + obj_len > self.n:
            raise self.fail(what, f"table at offset {pos} claims {obj_len} bytes past the end of the file")
        return _Table(self, pos, vt, vt_len, obj_len, what)

    def uoffset_target(self, pos: int, what: str) -> int:
        target = pos + self.scalar(pos, "I", what)
        if target + 4 > self.n:
            raise self.fail(what, f"offset at {pos} points to {target}, outside the {self.n}-byte file")
        return target

    def vector(self, pos: int, elem_size: int, what: str) -> tuple[int, int]:
        """(start, length) of the vector whose offset is stored at ``pos``."""
        target = self.uoffset_target(pos, what)
        length = self.scalar(target, "I", what)
        start = target + 4
        if length * elem_size > self.n - start:
            raise self.fail(what, f"vector of {length} elements of {elem_size} bytes at offset {start} "
                                  f"runs past the end of the {self.n}-byte file")
        return start, length


class _Table:
    __slots__ = ("r", "pos", "vt", "vt_len", "obj_len", "what")

    def __init__(self, r: _Reader, pos: int, vt: int, vt_len: int, obj_len: int, what: str):
        self.r, self.pos, self.vt, self.vt_len, self.obj_len, self.what = r, pos, vt, vt_len, obj_len, what

    def field_pos(self, slot: int, size: int, name: str) -> int | None:
        """Absolute position of field ``slot`` (None when absent), checked to lie in the table."""
        entry = 4 + 2 * slot
        if entry + 2 > self.vt_len:
            return None
        off = self.r.scalar(self.vt + entry, "H", self.what)
        if off == 0:
            return None
        if off < 4 or off + size > self.obj_len:
            raise self.r.fail(f"{self.what} {name}", f"field at table offset {off} lies outside the "
                                                     f"{self.obj_len}-byte table")
        return self.pos + off

    def scalar(self, slot: int, code: str, name: str, default=0):
        p = self.field_pos(slot, _SCALARS[code], name)
        return default if p is None else self.r.scalar(p, code, f"{self.what} {name}")

    def table(self, slot: int, name: str) -> "_Table | None":
        p = self.field_pos(slot, 4, name)
        if p is None:
            return None
        what = f"{self.what} {name}"
        return self.r.table(self.r.uoffset_target(p, what), what)

    def vector(self, slot: int, code: str, name: str) -> tuple[int, int] | None:
        """(start, length) of a vector of scalars (``code``) or of offsets (``code`` "I")."""
        p = self.field_pos(slot, 4, name)
        if p is None:
            return None
        return self.r.vector(p, _SCALARS[code], f"{self.what} {name}")

    def scalars(self, slot: int, code: str, name: str) -> list:
        v = self.vector(slot, code, name)
        if v is None:
            return []
        start, length = v
        if self.r.trace is not None:
            self.r.trace.append((start, code, length))
        return list(struct.unpack_from(f"<{length}{code}", self.r.buf, start))

    def tables(self, slot: int, name: str) -> list[int]:
        """Positions of the elements of a vector of tables (each checked when it is read)."""
        v = self.vector(slot, "I", name)
        if v is None:
            return []
        start, length = v
        if self.r.trace is not None:
            self.r.trace.append((start, "I", length))
        return [start + 4 * i + off for i, off in enumerate(struct.unpack_from(f"<{length}I", self.r.buf, start))]

    def string(self, slot: int, name: str) -> bytes | None:
        v = self.vector(slot, "B", name)
        if v is None:
            return None
        start, length = v
        return bytes(self.r.buf[start:start + length])

    def bytes_(self, slot: int, name: str) -> bytes:
        return self.string(slot, name) or b""


# -- the model as plain data ----------------------------------------------------------

@dataclass
class RawQuant:
    scale: list[float]
    zero_point: list[int]
    axis: int


@dataclass
class RawTensor:
    index: int
    name: str
    type: int
    shape: tuple[int, ...]
    buffer: int
    quant: RawQuant | None
    sparse: bool = False

    @property
    def dtype(self) -> str | None:
        return TENSOR_TYPES.get(self.type) or FILE_ONLY_TYPES.get(self.type)


@dataclass
class RawOperator:
    index: int
    opcode_index: int
    inputs: list[int]
    outputs: list[int]
    options_type: int
    options_pos: int | None     # position of the builtin options table, fields checked
    kind: str = ""              # filled by check_model


@dataclass
class RawOpcode:
    builtin: int
    custom: str | None


@dataclass
class RawModel:
    buf: bytes
    version: int
    opcodes: list[RawOpcode]
    n_subgraphs: int
    tensors: list[RawTensor]
    inputs: list[int]
    outputs: list[int]
    operators: list[RawOperator]
    n_buffers: int
    _buffer_pos: list[int] = field(repr=False, default_factory=list)
    trace: list | None = field(repr=False, default=None)

    def buffer_bytes(self, index: int, what: str) -> bytes | None:
        """The bytes of buffer ``index`` (None when empty), inside the file."""
        r = _Reader(self.buf, self.trace)
        t = r.table(self._buffer_pos[index], f"buffer {index}")
        data = t.vector(0, "B", "data")
        offset = t.scalar(1, "Q", "offset")
        size = t.scalar(2, "Q", "size")
        if offset > 1:  # large models keep data outside the flatbuffer, after it
            if offset + size > r.n:
                raise TinyccError(f"buffer {index} data [{offset}, {offset + size}) lies outside the "
                                  f"{r.n}-byte file", tensor=what)
            return bytes(self.buf[offset:offset + size]) if size else None
        if data is None or data[1] == 0:
            return None
        start, length = data
        return bytes(self.buf[start:start + length])


def read_model(buf: bytes, trace: list | None = None) -> RawModel:
    """Check the flatbuffer structure of a TFLite model and read subgraph 0 into plain data.

    With ``trace`` (a list), every read is recorded as (position, struct code, count): the
    fuzz tests use it to find the bytes that carry structure."""
    n = len(buf)
    if n > MAX_FILE_BYTES:
        raise TinyccError(f"file is {n} bytes, more than a flatbuffer can address ({MAX_FILE_BYTES})")
    if n < 8:
        raise TinyccError(f"file is {n} bytes, too short to be a TFLite model")
    if bytes(buf[4:8]) != FILE_IDENTIFIER:
        raise TinyccError(f"not a TFLite model (file identifier {bytes(buf[4:8])!r}, expected b'TFL3')")
    r = _Reader(buf, trace)
    root = r.table(r.uoffset_target(0, "root offset"), "model")
    version = root.scalar(0, "I", "version")
    if version != SCHEMA_VERSION:
        raise TinyccError(f"model has schema version {version}; tinycc reads version {SCHEMA_VERSION}")

    opcodes = []
    for i, pos in enumerate(root.tables(1, "operator_codes")):
        t = r.table(pos, f"operator code {i}")
        deprecated = t.scalar(0, "b", "deprecated_builtin_code")
        builtin = t.scalar(3, "i", "builtin_code")
        custom = t.string(1, "custom_code")
        # TFLite's GetBuiltinCode: newer files set builtin_code; older only the deprecated byte.
        opcodes.append(RawOpcode(max(builtin, deprecated),
                                 printable(custom.decode(errors="replace")) if custom is not None else None))

    subgraphs = root.tables(2, "subgraphs")
    if not subgraphs:
        raise TinyccError("model has no subgraph")
    buffer_pos = root.tables(4, "buffers")
    sg = r.table(subgraphs[0], "subgraph 0")

    tensors = []
    for i, pos in enumerate(sg.tables(0, "tensors")):
        tensors.append(_read_tensor(r, r.table(pos, f"tensor {i}"), i))
    inputs = sg.scalars(1, "i", "inputs")
    outputs = sg.scalars(2, "i", "outputs")
    operators = []
    for k, pos in enumerate(sg.tables(3, "operators")):
        operators.append(_read_operator(r, r.table(pos, f"operator {k}"), k))
    return RawModel(buf, version, opcodes, len(subgraphs), tensors, inputs, outputs, operators,
                    len(buffer_pos), buffer_pos, trace)


def _read_tensor(r: _Reader, t: _Table, i: int) -> RawTensor:
    raw_name = t.string(3, "name")
    name = printable(raw_name.decode(errors="replace")) if raw_name else ""
    t.what = f"tensor {i} '{name}'" if name else f"tensor {i}"
    shape = tuple(t.scalars(0, "i", "shape"))
    quant = None
    q = t.table(4, "quantization")
    if q is not None:
        scale = q.scalars(2, "f", "scale")
        zero_point = q.scalars(3, "q", "zero_point")
        axis = q.scalar(6, "i", "quantized_dimension")
        if scale or zero_point:
            quant = RawQuant(scale, zero_point, axis)
    sparse = t.field_pos(6, 4, "sparsity") is not None
    return RawTensor(i, name or f"tensor{i}", t.scalar(1, "b", "type"), shape, t.scalar(2, "I", "buffer"),
                     quant, sparse)


def printable(text: str, limit: int = MAX_NAME_CHARS) -> str:
    """A name from the file as it may appear in a one-line message: control characters become
    '?', and very long names are cut."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_operator(r: _Reader, t: _Table, k: int) -> RawOperator:
    options_type = t.scalar(3, "B", "builtin_options_type")
    opts = t.table(4, "builtin_options")
    return RawOperator(k, t.scalar(0, "I", "opcode_index"), t.scalars(1, "i", "inputs"),
                       t.scalars(2, "i", "outputs"), options_type, None if opts is None else opts.pos)


def check_options_table(buf: bytes, pos: int, options_class, what: str, trace: list | None = None) -> None:
    """Check every field of a builtin options table that its generated class may read."""
    r = _Reader(buf, trace)
    t = r.table(pos, what)
    layout = OPTION_FIELDS.get(getattr(options_class, "__name__", ""))
    if layout is None:  # generic: every present field lies inside the table
        for slot in range((t.vt_len - 4) // 2):
            t.field_pos(slot, 1, f"field {slot}")
        return
    for slot, code in enumerate(layout):
        if code.startswith("vector:"):
            t.vector(slot, code[7:], f"field {slot}")
        else:
            p = t.field_pos(slot, _SCALARS[code], f"field {slot}")
            if p is not None and trace is not None:
                trace.append((p, code, 1))


# -- the semantic layer ---------------------------------------------------------------

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
        if not 0 <= q.axis < len(t.shape):
            raise fail(f"quantized dimension {q.axis} is out of range for shape {list(t.shape)}")
        if len(q.scale) != t.shape[q.axis]:
            raise fail(f"{len(q.scale)} per-channel scales for dimension {q.axis} of size "
                       f"{t.shape[q.axis]} (shape {list(t.shape)})")


def check_model(m: RawModel) -> None:
    """Indices, op kinds and the graph of subgraph 0 (tensors are checked by ``check_tensor``)."""
    from tflite.utils import BUILTIN_OPCODE2NAME

    from . import ops

    n_tensors = len(m.tensors)

    def tensor_name(i: int) -> str | None:
        return m.tensors[i].name if 0 <= i < n_tensors else None

    for t in m.tensors:
        if not t.buffer < m.n_buffers:
            raise TinyccError(f"buffer index {t.buffer} out of range (model has {m.n_buffers} buffers)",
                              tensor=t.name)

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
        if not o.opcode_index < len(m.opcodes):
            raise TinyccError(f"opcode index {o.opcode_index} out of range (model has {len(m.opcodes)} "
                              f"operator codes)", op_index=o.index)
        code = m.opcodes[o.opcode_index]
        if code.builtin == 32:  # CUSTOM
            raise TinyccError(f"custom operator '{code.custom or '?'}' is not supported",
                              op_index=o.index, op_kind="CUSTOM")
        kind = BUILTIN_OPCODE2NAME.get(code.builtin)
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
        if not o.outputs:
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
            if tid not in consts and tid not in g.graph["inputs"] and ir.producer(g, tid) is None:
                raise TinyccError(f"input {slot} is neither a constant, a model input nor written by an "
                                  f"operator", op_index=o.index, op_kind=o.kind, tensor=t.name)
        for slot, i in enumerate(list(o.inputs) + list(o.outputs)):
            if i < 0 or (slot < len(o.inputs) and slot in unread):
                continue
            t = ir.tensor(g, f"t{i}")
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
    import tflite
    name = options_class.__name__
    if name not in _OPTIONS_TYPES:
        v = getattr(tflite.BuiltinOptions, name, None)
        _OPTIONS_TYPES[name] = v if isinstance(v, int) else None
    return _OPTIONS_TYPES[name]


# -- checks the int8 ops call from their ``check`` ------------------------------------

MAX_REQUANT_SHIFT = 30  # tcc_requantize (tcc_common.h) takes shifts in [-31, 30]


def check_requantization(op_def, o, reals, tensor: str | None = None, what: str = "requantization multiplier") -> None:
    """Every real multiplier ``reals`` must be one the kernels can apply: finite, >= 0, and
    with a shift of at most MAX_REQUANT_SHIFT (a multiplier below 2^30)."""
    from . import quant
    for k, r in enumerate(reals):
        r = float(r)
        if not (math.isfinite(r) and r >= 0) or (r > 0 and quant.quantize_multiplier(r)[1] > MAX_REQUANT_SHIFT):
            where = f" (channel {k})" if len(reals) > 1 else ""
            raise op_def.fail(o, f"{what} {r:.6g}{where} is outside what the int8 kernels apply "
                                 f"(below 2^{MAX_REQUANT_SHIFT})", tensor)


def check_int8_accumulation(op_def, o, x, w, y, bias, axis_out: int) -> None:
    """int8 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: their kernels sum w * x in an int32
    that starts at the zero-point-folded bias (bias - in_zp * sum(w)), then requantize by
    in_scale * w_scale / out_scale. Refuse per-channel scales on another axis than the output
    channels, multipliers the kernels cannot apply, and weights whose worst partial sum,
    |bias| + (|in_zp| + 128) * sum|w|, could overflow the int32 for some input."""
    import numpy as np

    from .ops import per_channel_scales
    channels = w.shape[axis_out]
    if w.quant is not None and w.quant.per_channel and w.quant.axis != axis_out:
        raise op_def.fail(o, f"per-channel weight scales along dimension {w.quant.axis}; the output channels "
                             f"are dimension {axis_out}", w.name)
    scales = per_channel_scales(w, channels)
    reals = [float(x.quant.scale[0]) * float(s) / float(y.quant.scale[0]) for s in scales]
    check_requantization(op_def, o, reals, w.name, "input scale x weight scale / output scale:")
    wa = np.abs(w.data.astype(np.int64))
    sums = np.moveaxis(wa, axis_out, 0).reshape(channels, -1).sum(axis=1)
    b = np.zeros(channels, np.int64) if bias is None else np.abs(np.asarray(bias, np.int64)).reshape(-1)
    worst = b + (abs(int(x.quant.zero_point[0])) + 128) * sums
    if channels and int(worst.max()) > 2**31 - 1:
        k = int(worst.argmax())
        raise op_def.fail(o, f"output channel {k} may overflow the int32 accumulator (|bias| + (|zero point| + 128) "
                             f"x sum|w| = {int(worst[k])})", w.name)
