"""Test models in TFLite Micro's compressed format (tinycc/tflm_lut.py describes it).

``compress`` rewrites a normal model: the weights of its CONV_2D, DEPTHWISE_CONV_2D and
FULLY_CONNECTED ops (and their biases with ``bias=True``) become LUT tensors, as
tflite-micro's compressor writes them with the metadata entry ``COMPRESSION_METADATA``: a value
table per channel when the tensor has per-channel scales (along its quantized dimension), else
one; indices of the fewest bits that hold the largest table (or ``bits``), most significant bit
first. The flatbuffer is rewritten with TFLite Micro's schema classes (tflite_micro package).
"""
from __future__ import annotations

import flatbuffers
import numpy as np

from ..dtypes import NUMPY_DTYPES, TENSOR_TYPES
from ..flatbuffer import FILE_IDENTIFIER
from ..tflm_lut import KEY

WEIGHT_OPS = {3: "CONV_2D", 4: "DEPTHWISE_CONV_2D", 9: "FULLY_CONNECTED"}   # builtin codes


def _metadata(luts: list[tuple[int, int, int]]) -> bytes:
    """The Metadata flatbuffer of subgraph 0's (tensor, value buffer, bit width) list."""
    b = flatbuffers.Builder(256)
    tables = []
    for tensor, value_buffer, bits in luts:
        b.StartObject(3)
        b.PrependInt32Slot(0, tensor, 0)
        b.PrependUint32Slot(1, value_buffer, 0)
        b.PrependUint8Slot(2, bits, 0)
        tables.append(b.EndObject())
    b.StartVector(4, len(tables), 4)
    for t in reversed(tables):
        b.PrependUOffsetTRelative(t)
    vec = b.EndVector()
    b.StartObject(1)
    b.PrependUOffsetTRelativeSlot(0, vec, 0)
    sg = b.EndObject()
    b.StartVector(4, 1, 4)
    b.PrependUOffsetTRelative(sg)
    sgs = b.EndVector()
    b.StartObject(2)
    b.PrependUint32Slot(0, 1, 0)        # schema_version 1
    b.PrependUOffsetTRelativeSlot(1, sgs, 0)
    b.Finish(b.EndObject())
    return bytes(b.Output())


def lut_encode(data: np.ndarray, channels: int, axis: int, bits: int | None) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(packed indices, value tables [channels][stride], bit width) of ``data``, or None when a
    channel has more than 2**7 values (or 2**bits)."""
    count = data.size
    e = np.arange(count)
    ch = (e // (count // channels) if axis == 0 else e % channels) if channels > 1 else np.zeros(count, np.int64)
    flat = data.reshape(-1)
    uniq = [np.unique(flat[ch == c]) for c in range(channels)]
    stride = max(u.size for u in uniq)
    need = max(1, int(np.ceil(np.log2(stride))))
    bits = bits or need
    if need > bits or bits > 7:
        return None
    table = np.zeros((channels, stride), flat.dtype)
    idx = np.zeros(count, np.int64)
    for c, u in enumerate(uniq):
        table[c, :u.size] = u
        idx[ch == c] = np.searchsorted(u, flat[ch == c])
    stream = ((idx[:, None] >> np.arange(bits - 1, -1, -1)) & 1).astype(np.uint8).ravel()
    return np.packbits(stream), table, bits


def compress(model: bytes, bias: bool = False, bits: int | None = None) -> bytes:
    """``model`` with its weights (and biases) LUT-compressed as TFLite Micro writes them."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as S
    m = S.ModelT.InitFromPackedBuf(bytearray(model), 0)
    sg = m.subgraphs[0]
    slots = (1, 2) if bias else (1,)
    luts, done = [], set()
    for op in sg.operators:
        code = m.operatorCodes[op.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) not in WEIGHT_OPS:
            continue
        for slot in slots:
            ti = op.inputs[slot] if slot < len(op.inputs) else -1
            if ti < 0 or ti in done:
                continue
            t = sg.tensors[ti]
            raw = m.buffers[t.buffer].data
            if raw is None or len(raw) == 0 or TENSOR_TYPES.get(t.type) not in ("int8", "int32"):
                continue
            data = np.frombuffer(np.asarray(raw, np.uint8).tobytes(), NUMPY_DTYPES[TENSOR_TYPES[t.type]])
            q = t.quantization
            per_channel = q is not None and q.scale is not None and len(q.scale) > 1
            axis = q.quantizedDimension if per_channel else 0
            channels = t.shape[axis] if per_channel else 1
            enc = lut_encode(data.reshape(t.shape), channels, axis, bits)
            if enc is None:
                continue
            packed, table, b = enc
            m.buffers[t.buffer].data = packed
            vb = S.BufferT()
            vb.data = np.frombuffer(table.tobytes(), np.uint8)
            m.buffers.append(vb)
            luts.append((ti, len(m.buffers) - 1, b))
            done.add(ti)
    mb = S.BufferT()
    mb.data = np.frombuffer(_metadata(luts), np.uint8)
    m.buffers.append(mb)
    md = S.MetadataT()
    md.name, md.buffer = KEY.encode(), len(m.buffers) - 1
    m.metadata = (m.metadata or []) + [md]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=FILE_IDENTIFIER)
    return bytes(b.Output())


def decompress(buf: bytes) -> bytes:
    """The model with every LUT tensor written out uncompressed and the metadata entry dropped
    (TFLite Micro's schema classes, from the tflite_micro package)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as S

    from .. import flatbuffer
    from ..tflm_lut import read_metadata, values
    m = flatbuffer.read_model(buf)
    model = S.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    entry = next(md for md in model.metadata if md.name.decode() == KEY)
    luts = read_metadata(bytes(model.buffers[entry.buffer].data))
    for i, lut in luts.items():
        t = m.tensors[i]
        q = t.quant
        data = values(bytes(model.buffers[t.buffer].data), bytes(model.buffers[lut.value_buffer].data), lut,
                      t.dtype, t.shape, len(q.scale) if q else 0, q.axis if q else 0, t.name)
        model.buffers[t.buffer].data = np.frombuffer(data.astype(NUMPY_DTYPES[t.dtype]).tobytes(), np.uint8)
        model.buffers[lut.value_buffer].data = None
    model.buffers[entry.buffer].data = None
    model.metadata = [md for md in model.metadata if md.name.decode() != KEY] or None
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=flatbuffer.FILE_IDENTIFIER)
    return bytes(b.Output())
