"""TFLite Micro's compressed models (LUT compression, tensorflow/lite/micro/compression): read.

A compressed model names, in its metadata entry ``COMPRESSION_METADATA``, a buffer holding a
flatbuffer (tflite-micro's compression/metadata.fbs, no file identifier)::

    table Metadata  { schema_version:uint = 1; subgraphs:[Subgraph]; }
    table Subgraph  { lut_tensors:[LutTensor]; }
    table LutTensor { tensor:int; value_buffer:uint; index_bitwidth:uint8; }

Each listed tensor's own buffer then holds its elements, in their order, as ``index_bitwidth``-bit
indices (1-7 bits), most significant bit first, padded with zero bits to a byte; the value buffer
holds the value tables (elements of the tensor's type). A tensor whose quantization has more than
one scale has a table per channel, all of the same length (``stride`` = values / channels,
padded), the channel being the element's index along ``quantized_dimension`` (TFLite Micro
handles dimension 0 and the last one).

The frontend reads such a tensor as its values (``values``) and keeps the facts in
``g.graph["tflm_lut"]`` (tensor id -> ``Lut``); ``passes.compress_weights`` stores it as a
palette again (tinycc's own bit order and row layout, tinycc/compress.py), never as int8 in
flash. (The installed tflite_micro runs these models: tests compare with it directly.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dtypes import NUMPY_DTYPES
from .errors import TinyccError
from .flatbuffer import _Reader

KEY = "COMPRESSION_METADATA"
SCHEMA_VERSION = 1
MAX_BITS = 7


@dataclass(frozen=True, eq=False)
class Lut:
    """One LUT-compressed tensor as the file gives it."""
    bits: int                  # index bit width, 1..7
    value_buffer: int
    index_bytes: int = 0       # bytes of the packed indices in the file
    table_bytes: int = 0       # bytes of the value tables in the file

    @property
    def file_bytes(self) -> int:
        return self.index_bytes + self.table_bytes


def read_metadata(buf: bytes) -> dict[int, Lut]:
    """The LUT tensors of subgraph 0 (tensor index -> Lut) from the metadata flatbuffer."""
    r = _Reader(buf)
    root = r.table(r.uoffset_target(0, KEY), KEY)
    version = root.scalar(0, "I", "schema_version", SCHEMA_VERSION)
    if version > SCHEMA_VERSION:
        raise TinyccError(f"{KEY} has schema version {version}; tinycc reads version {SCHEMA_VERSION}")
    subgraphs = root.tables(1, "subgraphs")
    out: dict[int, Lut] = {}
    for k, pos in enumerate(subgraphs):
        sg = r.table(pos, f"{KEY} subgraph {k}")
        for i, tpos in enumerate(sg.tables(0, "lut_tensors")):
            t = r.table(tpos, f"{KEY} lut_tensor {i}")
            if k > 0:
                raise TinyccError(f"{KEY}: compressed tensors in subgraph {k} are not supported (subgraph 0 only)")
            out[t.scalar(0, "i", "tensor")] = Lut(t.scalar(2, "B", "index_bitwidth"), t.scalar(1, "I", "value_buffer"))
    return out


def unpack_msb(raw: bytes, bits: int, count: int) -> np.ndarray:
    """``count`` indices of ``bits`` bits, most significant bit first."""
    b = np.unpackbits(np.frombuffer(raw, np.uint8))[:count * bits].reshape(count, bits).astype(np.int64)
    return (b << np.arange(bits - 1, -1, -1)).sum(axis=1)


def values(raw: bytes, table: bytes, lut: Lut, dtype: str, shape, scales: int, axis: int, name: str) -> np.ndarray:
    """The tensor's elements from its packed indices ``raw`` and value buffer ``table``."""
    count = int(np.prod(shape, dtype=np.int64))
    if not 1 <= lut.bits <= MAX_BITS:
        raise TinyccError(f"TFLite Micro LUT tensor with {lut.bits}-bit indices (1-{MAX_BITS} are defined)", tensor=name)
    if len(raw) * 8 < count * lut.bits:
        raise TinyccError(f"TFLite Micro LUT tensor: {len(raw)} bytes hold fewer than its {count} "
                          f"{lut.bits}-bit indices", tensor=name)
    tab = np.frombuffer(table, NUMPY_DTYPES[dtype])
    channels = 1
    if scales > 1:
        if axis not in (0, len(shape) - 1):
            raise TinyccError(f"TFLite Micro LUT tensor with per-channel tables along dimension {axis} (tinycc "
                              "reads dimension 0 or the last)", tensor=name)
        channels = shape[axis]
    if tab.size == 0 or tab.size % channels:
        raise TinyccError(f"TFLite Micro LUT tensor: {tab.size} table values for {channels} channels", tensor=name)
    stride = tab.size // channels
    idx = unpack_msb(raw, lut.bits, count)
    if np.any(idx >= stride):
        raise TinyccError(f"TFLite Micro LUT tensor: an index is past its {stride}-value table", tensor=name)
    e = np.arange(count)
    ch = (e // (count // channels) if axis == 0 else e % channels) if channels > 1 else np.zeros(count, np.int64)
    return tab[ch * stride + idx].reshape(shape)
