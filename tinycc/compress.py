"""Weights kept compressed in flash: k-bit indices into value tables (a leaf module).

A weight tensor is seen as a matrix [channels][n]: one row per output channel, the weights each
output reads in the order the kernel reads them (CONV_2D and FULLY_CONNECTED: the model's own
layout; DEPTHWISE_CONV_2D: [kh*kw] taps of each channel, transposed from [1][kh][kw][C]).
Weight e = c * n + t is index ``(index[e * bits / 8] >> (e * bits % 8)) & (2**bits - 1)``
(a bit stream, low bits first, no padding between channels) into its table: one table of
2**bits int8 values for the tensor, or one per output channel. The kernels
(runtime/kernels/tcc_compressed.c) decode inside their inner loops; the values are exactly the
model's, so results are bit-exact.

Tables: channels whose values fit one table of 2**k values share it (a greedy cover, most
values first), so a model whose channels share a quantization scale needs one table, and one
whose channels differ needs a few; with several tables each channel names its own (uint8), and
past 256 tables every channel has its own (no names).

Encodings (``WeightCode.encoding``):
  int4          the file's INT4 weights as they are (the bit stream is TFLite's packing for
                CONV_2D and FULLY_CONNECTED), the table 0..7, -8..-1 computed (no table stored);
  palette<k>    k = 1, 2, 4 bits per weight, one table;
  palette<k>xT  T tables, one named per output channel;
  palette<k>/ch a table per output channel.
``choose`` takes the smallest (indices + tables + table numbers), and only when it takes at
most 3/4 of the int8 bytes (``MAX_STORED``) of a tensor of at least 256 weights (``MIN_WEIGHTS``):
a tensor whose tables eat most of the savings, or a first layer's few weights read at every
pixel, runs faster as int8 for a few hundred bytes of flash; with ``mode="off"`` only the file's INT4 weights are kept 4-bit. TFLite
Micro's LUT-compressed weights (tinycc/tflm_lut.py: its 1-4-bit indices, MSB first, in the
model's element order) are always kept a palette: re-encoded here, in this bit order and row
layout, never widened to int8 in flash.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

BITS = (1, 2, 4)               # whole indices per byte: no index straddles two bytes
MAX_STORED = 0.75              # a palette only in at most this share of the int8 bytes (else not worth decoding)
MIN_WEIGHTS = 256              # ... and of tensors with at least this many weights
INT4_TABLE = np.array([0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1], np.int8)
MODES = ("auto", "off")


@dataclass(frozen=True, eq=False)
class WeightCode:
    """One weight tensor as stored: the bit stream of indices and the value tables."""
    encoding: str              # "int4", "palette4", "palette2x3", ... (see the module docstring)
    bits: int
    index: np.ndarray          # uint8: the bit stream
    table: np.ndarray          # int8 [tables][2**bits]
    table_of: np.ndarray | None  # uint8 [channels]: each channel's table (None: see per_channel)
    per_channel: bool          # table c is channel c's (else, without table_of, one table)
    model_bytes: int           # the weights' bytes in the model file (int8, or INT4 packed)

    @property
    def stored_bytes(self) -> int:
        table = 0 if self.encoding == "int4" else self.table.size      # INT4: the kernels sign-extend
        return int(self.index.size + table + (0 if self.table_of is None else self.table_of.size))

    def decode(self, channels: int, n: int) -> np.ndarray:
        """The int8 matrix [channels][n] back (what the kernels compute with)."""
        e = np.arange(channels * n)
        per = 8 // self.bits
        idx = (self.index[e // per].astype(np.int64) >> ((e % per) * self.bits)) & ((1 << self.bits) - 1)
        tables = (self.table_of.astype(np.int64) if self.table_of is not None else
                  np.arange(channels) if self.per_channel else np.zeros(channels, np.int64))
        return self.table[tables[e // n], idx].reshape(channels, n)


def pack_bits(idx: np.ndarray, bits: int) -> np.ndarray:
    """Indices (each < 2**bits) as a bit stream, element e at bits [e * bits, (e + 1) * bits)."""
    per = 8 // bits
    flat = np.asarray(idx, np.uint8).ravel()
    flat = np.concatenate([flat, np.zeros((-flat.size) % per, np.uint8)]).reshape(-1, per).astype(np.uint16)
    return (flat << (np.arange(per, dtype=np.uint16) * bits)).sum(axis=1).astype(np.uint8)


MAX_NAMED = 256                # tables a channel can name (uint8); beyond, a table per channel


def cover(values: list[frozenset], size: int) -> tuple[list[set], list[int]] | None:
    """Tables of at most ``size`` values covering every channel's ``values``: channels with the
    most values first, each joining the first table it fits into (a superset first), else a new
    one. (tables, table of each channel), or None when a channel has more than ``size`` values.
    Past ``MAX_NAMED`` tables every channel gets its own."""
    c = _cover_masks(values, size)
    return None if c is None else ([_mask_values(m) for m in c[0]], c[1])


def _cover_masks(values: list[frozenset], size: int) -> tuple[list[int], list[int]] | None:
    """``cover`` with each set of int8 values as a bit mask (a subset test or a union's size is
    one integer operation)."""
    if any(len(v) > size for v in values):
        return None
    masks = [sum(1 << (x + 128) for x in v) for v in values]
    tables: list[int] = []
    table_of = [0] * len(values)
    for c in sorted(range(len(values)), key=lambda c: (-len(values[c]), c)):
        v = masks[c]
        t = next((k for k, ts in enumerate(tables) if v & ~ts == 0), None)
        if t is None:
            t = next((k for k, ts in enumerate(tables) if (ts | v).bit_count() <= size), None)
        if t is None:
            if len(tables) == MAX_NAMED:
                return masks, list(range(len(values)))
            tables.append(0)
            t = len(tables) - 1
        tables[t] |= v
        table_of[c] = t
    return tables, table_of


def _mask_values(mask: int) -> set[int]:
    """The int8 values of a bit mask (``cover``), lowest bit first."""
    out = set()
    while mask:
        low = mask & -mask
        out.add(low.bit_length() - 129)
        mask ^= low
    return out


def _palette_bytes(n: int, bits: int, tables: list, table_of: list[int]) -> int:
    """``_palette(...).stored_bytes`` without building it: the indices, the tables and, when
    channels name their table, one byte per channel."""
    per, per_channel = 8 // bits, len(tables) == len(table_of) > 1
    named = 1 < len(tables) and not per_channel
    return (n + per - 1) // per + len(tables) * (1 << bits) + (len(table_of) if named else 0)


def _palette(w: np.ndarray, bits: int, tables: list[set], table_of: list[int], model_bytes: int) -> WeightCode:
    """Indices of ``w``'s values into their channel's sorted table."""
    size = 1 << bits
    per_channel = len(tables) == len(table_of) > 1
    if per_channel:          # table c is channel c's: no names
        tables, table_of = [tables[t] for t in table_of], list(range(len(table_of)))
    table = np.zeros((len(tables), size), np.int8)
    lut = np.zeros((len(tables), 256), np.uint8)       # value + 128 -> index, per table
    for t, values in enumerate(tables):
        v = np.array(sorted(values), np.int64)
        table[t, :v.size] = v
        lut[t, v + 128] = np.arange(v.size)
    idx = lut[np.asarray(table_of)[:, None], w.astype(np.int64) + 128]
    named = 1 < len(tables) and not per_channel
    name = f"palette{bits}" + ("/ch" if per_channel else f"x{len(tables)}" if named else "")
    return WeightCode(name, bits, pack_bits(idx, bits), table, np.asarray(table_of, np.uint8) if named else None,
                      per_channel, model_bytes)


def int4_code(w: np.ndarray, model_bytes: int) -> WeightCode:
    """The weights (values in [-8, 7]) as INT4 nibbles with the fixed table."""
    return WeightCode("int4", 4, pack_bits(np.asarray(w, np.int64) & 0xF, 4), INT4_TABLE.reshape(1, -1), None,
                      False, model_bytes)


def _sorted_rows(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row of ``w`` sorted, and where a new value starts in it: each row's count of distinct
    values from one sort of the matrix (np.unique per row costs ~100x more on depthwise weights)."""
    rows = np.sort(w.reshape(len(w), -1), axis=1)
    starts = np.ones(rows.shape, bool)
    starts[:, 1:] = rows[:, 1:] != rows[:, :-1]
    return rows, starts


def _row_values(rows: np.ndarray, starts: np.ndarray) -> list[frozenset]:
    """Each row's distinct values (``_sorted_rows``)."""
    values, ends = rows[starts].tolist(), np.cumsum(starts.sum(axis=1)).tolist()
    return [frozenset(values[a:b]) for a, b in zip([0] + ends, ends)]


def choose(w: np.ndarray, int4_file: bool, mode: str = "auto", lut: tuple[int, int] | None = None) -> WeightCode | None:
    """The smallest encoding of the int8 matrix ``w`` [channels][n], or None to keep it int8.
    ``int4_file``: the model stored it as INT4 (kept 4-bit whatever the mode). ``lut``: TFLite
    Micro's LUT tensor (its index bits <= 4, its bytes in the file): kept a palette whatever the
    mode and size (``mode="off"``: the fewest bits holding the file's indices)."""
    w = np.asarray(w, np.int8)
    model_bytes = lut[1] if lut else (w.size + 1) // 2 if int4_file else w.size
    best = int4_code(w, model_bytes) if int4_file else None
    best_bytes = best.stored_bytes if best is not None else float("inf") if lut else \
        int(w.size * MAX_STORED) if w.size >= MIN_WEIGHTS else 0
    rows, starts = _sorted_rows(w) if w.size and (lut or mode == "auto") else (None, None)
    bits_tried = (BITS if mode == "auto" else (min(b for b in BITS if b >= lut[0]),)) if lut else \
        BITS if rows is not None and starts.sum(axis=1).max() <= 1 << BITS[-1] else ()   # (most tensors stop here)
    values = _row_values(rows, starts) if bits_tried and rows is not None else []
    # every table holds at most 2**bits of the tensor's distinct values: at least this many tables
    distinct = int(np.count_nonzero(np.bincount(w.ravel().astype(np.int64) + 128, minlength=256))) if bits_tried else 0
    for bits in bits_tried:
        if (w.size * bits + 7) // 8 + max(1, -(-distinct >> bits)) * (1 << bits) >= best_bytes:
            continue
        c = _cover_masks(values, 1 << bits)
        if c is None or _palette_bytes(w.size, bits, *c) >= best_bytes:
            continue
        code = _palette(w, bits, [_mask_values(m) for m in c[0]], c[1], model_bytes)
        if code.stored_bytes < best_bytes:
            best, best_bytes = code, code.stored_bytes
    return best


def pair_order(code: WeightCode, channels: int, n: int) -> WeightCode:
    """``code`` with each 4 weights of a row (n % 4 == 0) stored as w0 w2 w1 w3: every 2 * bits
    bits are then the indices of an int16 weight pair (w0, w2) or (w1, w3) as SXTB16 splits 4
    input bytes (tinycc/variants/arm_palette.py's pair tables). The same bytes, other order."""
    per = 8 // code.bits
    e = np.arange(channels * n)
    idx = (code.index[e // per].astype(np.int64) >> ((e % per) * code.bits)) & ((1 << code.bits) - 1)
    idx = idx.reshape(-1, 4)[:, [0, 2, 1, 3]].ravel()
    return replace(code, index=pack_bits(idx, code.bits))
