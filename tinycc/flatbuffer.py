"""The flatbuffer layer of reading an untrusted .tflite file (the model checks are in
``tinycc.model_checks``).

A model file is input from strangers: training pipelines, colleagues, downloads. The
flatbuffers Python library does no bounds checks (a corrupt offset reads any byte, a
corrupt vector length makes a loop run for billions of steps), so tinycc never hands it
an unchecked position. ``read_model``: a small flatbuffer reader of its own walks the part of
the TFLite schema tinycc uses (Model, OperatorCode, SubGraph 0, Tensor,
QuantizationParameters, Operator and its builtin options, Buffer) and checks, before
any value is used: the file size and identifier, every table's position, its vtable
(inside the file, even length of at least 4 bytes), every field inside its table,
every offset to a sub-object, every vector (length x element size inside the file)
and string. Loops only run over vectors checked this way, so their length is bounded
by the file size and nothing allocates more than the file. The result is a plain
``RawModel``; builtin options stay flatbuffer tables (each op decodes its own with
its generated ``options_class``) but only at positions whose fields were checked
(``check_options_table``).

Every failure is a ``TinyccError``: one line naming what is wrong (the frontend adds the file).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .dtypes import FILE_ONLY_TYPES, TENSOR_TYPES
from .errors import TinyccError

MAX_FILE_BYTES = 2**31 - 1        # flatbuffers address with 32-bit offsets
MAX_NAME_CHARS = 256   # tensor names longer than this are cut (they only label messages and comments)
SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"


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
    variable: bool = False    # is_variable: persistent state (SVDF/LSTM)
    signature: tuple[int, ...] = ()   # shape_signature: -1 marks a dynamic dimension (stored as 1 in shape)

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
    custom_options: bytes = b""  # a custom op's options (a flexbuffer), inside the file
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
    metadata: dict[str, int] = field(default_factory=dict)   # Model.metadata: name -> buffer index

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
    tensors, inputs, outputs, operators = _read_subgraph(r, subgraphs[0], 0)
    metadata = {}
    for i, pos in enumerate(root.tables(6, "metadata")):
        t = r.table(pos, f"metadata {i}")
        metadata[(t.string(0, "name") or b"").decode(errors="replace")] = t.scalar(1, "I", "buffer")
    return RawModel(buf, version, opcodes, len(subgraphs), tensors, inputs, outputs, operators,
                    len(buffer_pos), buffer_pos, trace, metadata)


def _read_subgraph(r: _Reader, pos: int, k: int):
    """(tensors, inputs, outputs, operators) of subgraph ``k``, whose table is at ``pos``."""
    sg = r.table(pos, f"subgraph {k}")
    tensors = []
    for i, tpos in enumerate(sg.tables(0, "tensors")):
        tensors.append(_read_tensor(r, r.table(tpos, f"tensor {i}"), i))
    operators = []
    for j, opos in enumerate(sg.tables(3, "operators")):
        operators.append(_read_operator(r, r.table(opos, f"operator {j}"), j))
    return tensors, sg.scalars(1, "i", "inputs"), sg.scalars(2, "i", "outputs"), operators


def read_subgraph(m: RawModel, k: int) -> RawModel:
    """Subgraph ``k`` of the model (e.g. CALL_ONCE's init subgraph) as a RawModel of its own, sharing
    the file's operator codes and buffers; checked like subgraph 0 by the same reader."""
    if not 0 <= k < m.n_subgraphs:
        raise TinyccError(f"subgraph index {k} out of range (model has {m.n_subgraphs} subgraphs)")
    r = _Reader(m.buf, m.trace)
    root = r.table(r.uoffset_target(0, "root offset"), "model")
    tensors, inputs, outputs, operators = _read_subgraph(r, root.tables(2, "subgraphs")[k], k)
    return RawModel(m.buf, m.version, m.opcodes, m.n_subgraphs, tensors, inputs, outputs, operators,
                    m.n_buffers, m._buffer_pos, m.trace)


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
    signature = tuple(t.scalars(7, "i", "shape_signature"))
    return RawTensor(i, name or f"tensor{i}", t.scalar(1, "b", "type"), shape, t.scalar(2, "I", "buffer"),
                     quant, sparse, bool(t.scalar(5, "B", "is_variable")), signature)


def printable(text: str, limit: int = MAX_NAME_CHARS) -> str:
    """A name from the file as it may appear in a one-line message: control characters become
    '?', and very long names are cut."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_operator(r: _Reader, t: _Table, k: int) -> RawOperator:
    options_type = t.scalar(3, "B", "builtin_options_type")
    opts = t.table(4, "builtin_options")
    return RawOperator(k, t.scalar(0, "I", "opcode_index"), t.scalars(1, "i", "inputs"),
                       t.scalars(2, "i", "outputs"), options_type, None if opts is None else opts.pos,
                       t.bytes_(5, "custom_options"))


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
