"""Separable index maps: how the data-movement ops describe, at compile time, where each element goes.

Every op that only moves elements (SLICE, STRIDED_SLICE, TRANSPOSE, PAD, PADV2, MIRROR_PAD,
DEPTH_TO_SPACE, SPACE_TO_DEPTH, SPLIT, SPLIT_V, UNPACK, RESIZE_NEAREST_NEIGHBOR; CONCATENATION and
PACK in the other direction) is described at compile time by *separable index maps*: for an
iteration space of dims (n_0, ..., n_{k-1}) (the output's shape, or any reshape of it in row-major
order), one int32 array per dim, and

    gather:   out[i_0, ..., i_{k-1}] = in[map_0[i_0] + ... + map_{k-1}[i_{k-1}]]   (pad value if any map is -1)
    scatter:  out[map_0[i_0] + ... + map_{k-1}[i_{k-1}]] = in[i_0, ..., i_{k-1}]

Size-1 dims are folded away and adjacent dims whose maps are affine and nest (outer step =
inner size * inner step) are merged, so a slice, a split or a concat part becomes a few long
contiguous runs. The canonical form has at most ``MAX_DIMS`` dims; it is emitted as one int32
constant array (``plan``: element size, contiguous-inner flag, 6 dims, then the maps) read by
``tcc_gather_map`` / ``tcc_scatter_map`` in ``runtime/kernels/tcc_datamove.c``.
"""
from __future__ import annotations

import numpy as np

from .errors import TinyccError

MAX_DIMS = 6


def index_array(shape) -> np.ndarray:
    """Flat element index of every element of a tensor of ``shape``."""
    shape = tuple(int(d) for d in shape)
    return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)


def maps_from_index(idx: np.ndarray) -> list[np.ndarray]:
    """Per-dim maps of a separable index array (no padding): idx == sum of broadcast maps."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.ndim == 0:
        return [idx.reshape(1)]
    base = int(idx.flat[0]) if idx.size else 0
    maps = []
    for d in range(idx.ndim):
        sl = [0] * idx.ndim
        sl[d] = slice(None)
        maps.append(idx[tuple(sl)] - base if idx.size else np.zeros(idx.shape[d], np.int64))
    # offsets must be >= 0 (-1 means padding): move each dim's minimum into dim 0
    for d in range(1, len(maps)):
        low = int(maps[d].min()) if len(maps[d]) else 0
        maps[d] = maps[d] - low
        base += low
    maps[0] = maps[0] + base
    if idx.size and not np.array_equal(dense_from_maps(maps), idx):
        raise AssertionError("index array is not separable")
    return maps


def dense_from_maps(maps: list[np.ndarray]) -> np.ndarray:
    """The full index array of separable maps (-1 where any map is -1)."""
    k = len(maps)
    total = np.zeros([len(m) for m in maps], dtype=np.int64)
    pad = np.zeros(total.shape, dtype=bool)
    for d, m in enumerate(maps):
        shape = [1] * k
        shape[d] = len(m)
        m = np.asarray(m, np.int64).reshape(shape)
        total = total + m
        pad = pad | (m < 0)
    return np.where(pad, -1, total)


def _affine(m: np.ndarray):
    """(start, step) when m is affine with at least 2 entries and no padding, else None."""
    if len(m) < 2 or (m < 0).any():
        return None
    step = int(m[1] - m[0])
    if not np.array_equal(m, m[0] + step * np.arange(len(m), dtype=np.int64)):
        return None
    return int(m[0]), step


def canonical(maps: list[np.ndarray]) -> list[np.ndarray]:
    """Fold size-1 dims into another dim and merge nested affine neighbours."""
    maps = [np.asarray(m, np.int64).copy() for m in maps]
    if any(len(m) == 0 for m in maps):
        return [np.zeros(0, np.int64)]
    const, pad = 0, False
    kept = []
    for m in maps:
        if len(m) == 1:
            if m[0] < 0:
                pad = True
            else:
                const += int(m[0])
        else:
            kept.append(m)
    if not kept:
        kept = [np.array([-1 if pad else 0], np.int64)]
    kept[0] = np.where(kept[0] < 0, -1, kept[0] + const)
    if pad:
        kept[0][:] = -1
    merged = True
    while merged:
        merged = False
        for d in range(len(kept) - 1):
            a, b = _affine(kept[d]), _affine(kept[d + 1])
            if a and b and a[1] == len(kept[d + 1]) * b[1]:
                n = len(kept[d]) * len(kept[d + 1])
                kept[d:d + 2] = [a[0] + b[0] + b[1] * np.arange(n, dtype=np.int64)]
                merged = True
                break
    return kept


def encode_plan(maps: list[np.ndarray], elem_size: int, what: str = "") -> np.ndarray:
    """The int32 plan array of ``tcc_gather_map``/``tcc_scatter_map`` (see tcc_datamove.h)."""
    maps = canonical(maps)
    if len(maps) > MAX_DIMS:
        raise TinyccError(f"{what}: the element mapping needs {len(maps)} dimensions after merging, "
                          f"the kernel supports {MAX_DIMS}")
    maps = [np.zeros(1, np.int64)] * (MAX_DIMS - len(maps)) + maps
    last = maps[-1]
    contiguous = int(len(last) > 0 and not (last < 0).any()
                     and np.array_equal(last, last[0] + np.arange(len(last), dtype=np.int64)))
    flat = np.concatenate([m for m in maps]) if maps else np.zeros(0, np.int64)
    if flat.size and (flat.max() >= 2**31 or flat.min() < -1):
        raise TinyccError(f"{what}: tensor too large for 32-bit element offsets")
    head = [elem_size, contiguous] + [len(m) for m in maps]
    return np.concatenate([np.array(head, np.int64), flat]).astype(np.int32)


def maps_or_table(idx: np.ndarray, *views) -> list[np.ndarray]:
    """Maps of an output's gather index array ``idx`` (-1 for padding): separable maps of the
    first of ``idx`` and ``views`` (row-major reshapes of it, e.g. an output dim split in two)
    that has them, else the whole index array as one map (a copy through a compile-time table,
    one int32 per element)."""
    idx = np.asarray(idx, np.int64)
    if idx.size and not (idx < 0).any():
        for v in (idx, *views):
            try:
                return maps_from_index(np.asarray(v, np.int64))
            except AssertionError:
                continue
    return [idx.ravel()]
