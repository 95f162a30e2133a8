"""TFLite Micro's DECODE operator (custom code ``TFLM_DECODE``), which tflite-micro's compression
package (``tflite_micro...compression.compress``) inserts before each op that reads a compressed
constant: read at compile time, the weights kept compressed.

One DECODE op takes pairs (encoded tensor, ancillary data tensor) and gives one decoded tensor per
pair, in pair order. Both inputs are UINT8 constants. The ancillary data starts with the 16-byte
DECODE Common Metadata (DCM):

    byte 0      decode type: 0 LUT, 1 Huffman, 2 pruning, 128-255 an application's own
    byte 1      DCM version (1)
    LUT only:   byte 4  LUT version (1)
                byte 5  bits 7-4: the channel axis of the decoded tensor (0-14), 15 for one table;
                        bits 2-0: the index bit width (1-7)
                byte 6  values per channel table (the stride)
                byte 16 on: the tables, one per channel, ``stride`` values of the decoded type

and the encoded bytes are the indices of the decoded tensor's elements, in their order, each
``bit width`` bits, most significant bit first (zero bits pad the last byte). Pruning
(TFLite Micro's decode_state_prune; byte 4 its version, 1): the encoded bytes are one bit per element, most significant
first, 1 for the next value of the table that follows the DCM (values of the decoded type; float32
as its bits), 0 for the zero point (the element's channel's, per-channel int8 along the quantized
dimension, 0 or the last; else the tensor's).

``resolve`` takes the DECODE ops out of a subgraph (0, or one IF/WHILE runs) before the frontend
reads it: each decoded
tensor becomes a constant holding the decoded values, and the encoded and ancillary tensors go
(nothing else reads them). Pruned tensors are decoded into plain constants: their zeros are
what the sparse kernels skip (tinycc/variants/sparse.py), where they win. A LUT tensor whose every reader takes it as the int8 weights of a
CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED with int8 activations, with indices of at most 4
bits, is also entered as a ``tflm_lut.Lut``, like the older COMPRESSION_METADATA form: then
``passes.compress_weights`` keeps it a palette (tinycc/compress.py), never int8 in flash. Any other
LUT tensor (a bias, a constant of another op, 5-7-bit indices) is decoded into a plain constant,
as TFLite Micro decodes it into RAM before each use.

Huffman and custom DECODE data are refused in one line: the installed tflite-micro compressor
cannot write Huffman data (its plugin is a stub), so there is no model to check a reader against
TFLite Micro (its pruning plugin is a stub too: tests/test_tflm_decode.py writes pruned models
itself, and the installed TFLite Micro runs them).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from . import ops
from .compress import BITS
from .dtypes import NUMPY_DTYPES
from .errors import TinyccError
from .flatbuffer import RawModel
from .tflm_lut import Lut, unpack_msb

CUSTOM_CODE = "TFLM_DECODE"
DCM_BYTES = 16
LUT, HUFFMAN, PRUNING = 0, 1, 2
DECODE_TYPES = {LUT: "LUT", HUFFMAN: "Huffman", PRUNING: "pruning"}
PER_TENSOR_AXIS = 15


@dataclasses.dataclass(frozen=True, eq=False)
class Decoded:
    """One decoded tensor: its values, and its Lut when it stays a palette."""
    values: np.ndarray
    lut: Lut | None


def _is_decode(m: RawModel, o) -> bool:
    if not 0 <= o.opcode_index < len(m.opcodes):
        return False             # model_checks refuses it, in one line
    code = m.opcodes[o.opcode_index]
    return code.builtin == 32 and code.custom == CUSTOM_CODE


def resolve(m: RawModel) -> tuple[RawModel, dict[int, Decoded], frozenset[int]]:
    """Subgraph 0 without its DECODE ops; the decoded tensors (tensor index -> Decoded); the
    encoded and ancillary tensors no other op reads (to leave out of the graph)."""
    decodes = [o for o in m.operators if _is_decode(m, o)]
    if not decodes:
        return m, {}, frozenset()
    rest = [o for o in m.operators if not _is_decode(m, o)]
    decoded: dict[int, tuple[np.ndarray, int, int, int]] = {}
    sources: set[int] = set()
    for o in decodes:
        where = dict(op_index=o.index, op_kind=CUSTOM_CODE)
        if not o.outputs or len(o.inputs) != 2 * len(o.outputs):
            raise TinyccError(f"expects an (encoded, ancillary) pair of inputs per output, has {len(o.inputs)} "
                              f"inputs and {len(o.outputs)} outputs", **where)
        for j, out in enumerate(o.outputs):
            ids = (o.inputs[2 * j], o.inputs[2 * j + 1], out)
            if not all(0 <= i < len(m.tensors) for i in ids):
                raise TinyccError(f"tensor index out of range in pair {j}", **where)
            enc, anc, t = (m.tensors[i] for i in ids)
            if not (enc.buffer < m.n_buffers and anc.buffer < m.n_buffers):
                raise TinyccError(f"buffer index out of range in pair {j}", **where)
            try:
                decoded[out] = _decode(m, enc, anc, t)
            except TinyccError as e:
                raise e.located(**where)
            sources.update(ids[:2])
    used = {i for o in rest for i in o.inputs} | set(m.outputs)
    out = {i: Decoded(values, _palette_lut(m, rest, i, Lut(bits, -1, index_bytes, table_bytes)))
           for i, (values, bits, index_bytes, table_bytes) in decoded.items()}
    # the encoded and ancillary tensors are bytes: the quantization the compressor leaves on the
    # encoded one (its original's) means nothing for them
    tensors = [dataclasses.replace(t, quant=None) if t.index in sources else t for t in m.tensors]
    return dataclasses.replace(m, operators=rest, tensors=tensors), out, frozenset(sources - used)


def _decode(m: RawModel, enc, anc, t) -> tuple[np.ndarray, int, int, int]:
    """(values of the decoded tensor ``t``, index bits, encoded bytes, ancillary bytes)."""
    raw = m.buffer_bytes(enc.buffer, enc.name) or b""
    meta = m.buffer_bytes(anc.buffer, anc.name) or b""
    if len(meta) < DCM_BYTES:
        raise TinyccError(f"ancillary data of {len(meta)} bytes, shorter than its {DCM_BYTES}-byte header",
                          tensor=anc.name)
    kind = meta[0]
    if kind not in (LUT, PRUNING):
        name = DECODE_TYPES.get(kind, f"custom ({kind})" if kind >= 128 else f"reserved ({kind})")
        raise TinyccError(f"DECODE type {name} is not supported (LUT and pruning are)", tensor=t.name)
    if kind == PRUNING:
        return _pruned(raw, meta, t), 8, len(raw), len(meta)
    if meta[1] != 1 or meta[4] != 1:
        raise TinyccError(f"DECODE LUT version {meta[1]}.{meta[4]} is not supported (1.1 is)", tensor=t.name)
    if t.dtype not in NUMPY_DTYPES or t.dtype == "int4":
        raise TinyccError(f"DECODE LUT into a {t.dtype} tensor is not supported", tensor=t.name)
    axis, bits, stride = meta[5] >> 4, meta[5] & 7, meta[6]
    shape = tuple(t.shape)
    count = int(np.prod(shape, dtype=np.int64))
    if not bits or not stride or (axis != PER_TENSOR_AXIS and axis >= len(shape)):
        raise TinyccError(f"DECODE LUT header (axis {axis}, {bits}-bit indices, {stride} values per table) "
                          f"does not fit a tensor of shape {list(shape)}", tensor=t.name)
    if len(raw) * 8 < count * bits:
        raise TinyccError(f"{len(raw)} encoded bytes hold fewer than the tensor's {count} {bits}-bit indices",
                          tensor=t.name)
    channels = 1 if axis == PER_TENSOR_AXIS else shape[axis]
    body = meta[DCM_BYTES:]
    itemsize = np.dtype(NUMPY_DTYPES[t.dtype]).itemsize
    tables = np.frombuffer(body[:len(body) // itemsize * itemsize], NUMPY_DTYPES[t.dtype])
    if tables.size < channels * stride:
        raise TinyccError(f"the ancillary data holds {tables.size} table values, its {channels} tables need "
                          f"{channels * stride}", tensor=t.name)
    idx = unpack_msb(raw, bits, count)
    if idx.size and idx.max() >= stride:
        raise TinyccError(f"an index is past its {stride}-value table", tensor=t.name)
    if channels == 1:
        ch = np.zeros(count, np.int64)
    else:
        ch = np.broadcast_to(np.arange(channels).reshape([-1 if k == axis else 1 for k in range(len(shape))]),
                             shape).ravel()
    values = tables[ch * stride + idx].reshape(shape).astype(NUMPY_DTYPES[t.dtype])
    return values, bits, len(raw), len(meta)


def _pruned(raw: bytes, meta: bytes, t) -> np.ndarray:
    """The values of pruned tensor ``t``: its table's values where its mask bit is 1, else the
    zero point of the element's channel."""
    if meta[1] != 1 or meta[4] != 1:
        raise TinyccError(f"DECODE pruning version {meta[1]}.{meta[4]} is not supported (1.1 is)", tensor=t.name)
    if t.dtype not in ("int8", "int16", "int32", "int64", "float32", "bool"):
        raise TinyccError(f"DECODE pruning into a {t.dtype} tensor is not supported", tensor=t.name)
    shape = tuple(t.shape)
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) * 8 < count:
        raise TinyccError(f"{len(raw)} encoded bytes hold fewer than the tensor's {count} mask bits", tensor=t.name)
    mask = unpack_msb(raw, 1, count).astype(bool)
    dtype = NUMPY_DTYPES[t.dtype]
    itemsize = np.dtype(dtype).itemsize
    n = int(mask.sum())
    table = np.frombuffer(meta[DCM_BYTES:DCM_BYTES + n * itemsize], dtype)
    if table.size < n:
        raise TinyccError(f"the ancillary data holds {table.size} values, the mask keeps {n}", tensor=t.name)
    zp = np.zeros(count, dtype)
    q = t.quant
    if q is not None and len(q.zero_point):
        zps = np.asarray(q.zero_point, np.int64)
        if zps.size > 1 and t.dtype == "int8":
            axis = q.axis
            if axis not in (0, len(shape) - 1) or zps.size != shape[axis]:
                raise TinyccError(f"DECODE pruning with {zps.size} zero points along dimension {axis}", tensor=t.name)
            ch = np.broadcast_to(np.arange(zps.size).reshape([-1 if k == axis else 1 for k in range(len(shape))]),
                                 shape).ravel()
            zp = zps[ch].astype(dtype)
        elif t.dtype in ("int8", "int16"):
            if zps[0] != 0 and t.dtype != "int8":
                raise TinyccError("DECODE pruning: a zero point other than 0 (TFLite Micro refuses it)",
                                  tensor=t.name)
            zp[:] = zps[0]
    out = zp.copy()
    out[mask] = table
    return out.reshape(shape)


def _palette_lut(m: RawModel, readers_ops, i: int, lut: Lut) -> Lut | None:
    """``lut``, to keep tensor ``i`` a palette, when every op reading it takes it as the int8
    weights its palette kernel reads (``OpDef.compressed_slot``, int8 activations) and its
    indices fit those kernels (``compress.BITS``); else None."""
    from tflite.utils import BUILTIN_OPCODE2NAME
    if lut.bits > BITS[-1] or m.tensors[i].dtype != "int8" or i in m.outputs:
        return None
    readers = [(o, slot) for o in readers_ops for slot, x in enumerate(o.inputs) if x == i]
    for o, slot in readers:
        code = m.opcodes[o.opcode_index] if 0 <= o.opcode_index < len(m.opcodes) else None
        spec = ops.lookup(BUILTIN_OPCODE2NAME.get(code.builtin, "")) if code and code.builtin != 32 else None
        x = o.inputs[0] if o.inputs else -1
        if spec is None or spec.compressed_slot != slot or not 0 <= x < len(m.tensors) \
                or m.tensors[x].dtype != "int8":
            return None
    return lut if readers else None
