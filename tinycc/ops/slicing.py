"""SLICE, STRIDED_SLICE, SPLIT, SPLIT_V, UNPACK: outputs that are (strided) sub-blocks of input 0.

Begin/end/strides/sizes/axes must be constant (static shapes). Each output is described by
applying the same numpy indexing to the flat index array of the input (numpy's slice clamping
is TensorFlow's), which gives separable maps for ``tcc_gather_map``. Bytes are moved as they
are: TFLite Micro copies int8 values without looking at the quantization, and so do we.
"""
from __future__ import annotations

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..index_maps import index_array, maps_from_index
from . import register
from ._datamove import GatherMapOp, check_movable, const_ints


class _Sub(GatherMapOp):
    def index_of(self, g, o, k: int) -> np.ndarray:
        raise NotImplementedError

    def out_maps(self, g, o, k):
        return maps_from_index(self.index_of(g, o, k))

    def check_outputs(self, g, o):
        for k, t in enumerate(o.outputs):
            want = self.index_of(g, o, k).shape
            self.expect_shape(g, o, t, want)


def _axis(op, o, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise op.fail(o, f"axis {axis} is out of range for rank {rank}")
    return axis % rank


@register
class Slice(_Sub):
    kind = "SLICE"
    options_class = tflite.SliceOptions

    def index_of(self, g, o, k):
        x = ir.tensor(g, o.inputs[0])
        begin = const_ints(self, g, o, 1, "begin").ravel()
        size = const_ints(self, g, o, 2, "size").ravel()
        if len(begin) != len(x.shape) or len(size) != len(x.shape):
            raise self.fail(o, f"begin/size have {len(begin)}/{len(size)} entries for rank {len(x.shape)}")
        sl = []
        for d, (b, s, n) in enumerate(zip(begin, size, x.shape)):
            e = n if s == -1 else b + s
            if not (0 <= b <= n and b <= e <= n):
                raise self.fail(o, f"slice [{b}, {e}) is outside dimension {d} of size {n}")
            sl.append(slice(int(b), int(e)))
        return index_array(x.shape)[tuple(sl)]

    def check(self, g, o):
        self.expect_arity(o, (3, 3))
        check_movable(self, g, o, [o.inputs[0]])
        self.check_outputs(g, o)


def strided_slice_index(shape, begin, end, strides, begin_mask=0, end_mask=0, ellipsis_mask=0,
                        new_axis_mask=0, shrink_axis_mask=0, offset=False) -> np.ndarray:
    """Flat input index of every output element of STRIDED_SLICE, as TFLite computes it.

    TFLite's BuildStridedSliceParams first expands the ellipsis (to full-range dims) and new
    axes (dims of size 1), then per dim: start = begin (+size if negative), clamped to
    [0, size] ([-1, size-1] for negative strides), or 0 / size-1 under begin_mask; stop likewise
    from end (end_mask: size / -1; with ``offset`` end counts from start); a shrink axis takes
    [start, start+1) and is dropped from the output.
    """
    shape = [int(d) for d in shape]
    n_spec = len(begin)
    bit = lambda mask, i: bool(mask & (1 << i))
    num_add = sum(1 for i in range(n_spec) if bit(new_axis_mask, i) and not bit(ellipsis_mask, i))
    eff = len(shape) + num_add
    # effective ellipsis / new-axis masks over the effective dims
    eff_ell, eff_new, ell_start, expanded = 0, 0, eff, 0
    i = 0
    while i < eff:
        if bit(ellipsis_mask, i):
            ell_start = i
            ell_end = max(i + 1, min(i + 1 + num_add + len(shape) - n_spec, eff))
            expanded = ell_end - ell_start - 1
            while i < ell_end:
                eff_ell |= 1 << i
                i += 1
            continue
        if i - expanded >= 0 and bit(new_axis_mask, i - expanded):
            eff_new |= 1 << i
        i += 1
    dims, ranges, shrink = [], [], []
    added_ell, added_axes = 0, 0
    for i in range(eff):
        if bit(eff_ell, i):
            added_ell = max(0, i - ell_start)
            size = shape[i - added_axes]
            dims.append(size)
            ranges.append(range(0, size))
            shrink.append(False)
        elif bit(eff_new, i):
            dims.append(1)
            ranges.append(range(0, 1))
            shrink.append(False)
            added_axes += 1
        elif i >= n_spec + expanded:
            size = shape[i - added_axes]
            dims.append(size)
            ranges.append(range(0, size))
            shrink.append(False)
        else:
            k = i - added_ell
            size = shape[i - added_axes]
            b, e, st = int(begin[k]), int(end[k]), int(strides[k])
            if st == 0:
                raise ValueError(f"stride {k} is 0")
            start = b + size if b < 0 else b
            start = min(max(start, 0), size) if st > 0 else min(max(start, -1), size - 1)
            if bit(begin_mask, k):
                start = 0 if st > 0 else size - 1
            if bit(shrink_axis_mask, k):
                stop = start if start >= size else start + 1
                st = 1
            else:
                stop = e + start if offset else e
                stop = stop + size if stop < 0 else stop
                stop = min(max(stop, 0), size) if st > 0 else min(max(stop, -1), size - 1)
                if bit(end_mask, k):
                    stop = size if st > 0 else -1
            dims.append(size)
            ranges.append(range(start, stop, st))
            shrink.append(bit(shrink_axis_mask, k))
    idx = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(dims)
    for d, r in enumerate(ranges):
        idx = np.take(idx, np.array(list(r), dtype=np.int64), axis=d)
    return idx.reshape([len(r) for r, s in zip(ranges, shrink) if not s])


@register
class StridedSlice(_Sub):
    kind = "STRIDED_SLICE"
    options_class = tflite.StridedSliceOptions
    optional_inputs = frozenset({3})   # strides

    def read_options(self, opts):
        if opts is None:
            return dict(begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0,
                        offset=False)
        return dict(begin_mask=opts.BeginMask(), end_mask=opts.EndMask(), ellipsis_mask=opts.EllipsisMask(),
                    new_axis_mask=opts.NewAxisMask(), shrink_axis_mask=opts.ShrinkAxisMask(),
                    offset=bool(opts.Offset()) if hasattr(opts, "Offset") else False)

    def index_of(self, g, o, k):
        x = ir.tensor(g, o.inputs[0])
        begin = const_ints(self, g, o, 1, "begin").ravel()
        end = const_ints(self, g, o, 2, "end").ravel()
        strides = (const_ints(self, g, o, 3, "strides").ravel() if len(o.inputs) > 3 and o.inputs[3] is not None
                   else np.ones(len(begin), np.int64))
        if not len(begin) == len(end) == len(strides):
            raise self.fail(o, "begin, end and strides differ in length")
        if bin(o.attrs["ellipsis_mask"]).count("1") > 1:
            raise self.fail(o, "more than one ellipsis")
        masks = {k: o.attrs[k] for k in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
                                         "shrink_axis_mask", "offset")}
        try:
            return strided_slice_index(x.shape, begin, end, strides, **masks)
        except (ValueError, IndexError) as err:
            raise self.fail(o, f"slice does not fit the input shape {list(x.shape)}: {err}") from None

    def check(self, g, o):
        self.expect_arity(o, (3, 4))
        check_movable(self, g, o, [o.inputs[0]])
        if len(ir.tensor(g, o.inputs[0]).shape) > 5:
            raise self.fail(o, "input has more than 5 dimensions (TFLite's limit)", ir.tensor(g, o.inputs[0]).name)
        self.check_outputs(g, o)

    def tflm_reference_reliable(self, g, o):
        """TFLite Micro slices at most 4-D inputs: a 5-D one is checked against TFLite."""
        return len(ir.tensor(g, o.inputs[0]).shape) <= 4


@register
class Split(_Sub):
    kind = "SPLIT"
    options_class = tflite.SplitOptions
    data_slot = 1

    def read_options(self, opts):
        return dict(num_splits=opts.NumSplits() if opts is not None else 0)

    def index_of(self, g, o, k):
        x = ir.tensor(g, o.inputs[1])
        axis = _axis(self, o, int(const_ints(self, g, o, 0, "axis").ravel()[0]), len(x.shape))
        n = len(o.outputs)
        if x.shape[axis] % n:
            raise self.fail(o, f"dimension {axis} of size {x.shape[axis]} does not split into {n}")
        s = x.shape[axis] // n
        sl = [slice(None)] * len(x.shape)
        sl[axis] = slice(k * s, (k + 1) * s)
        return index_array(x.shape)[tuple(sl)]

    def check(self, g, o):
        self.expect_arity(o, (2, 2), len(o.outputs))
        if o.attrs["num_splits"] not in (0, len(o.outputs)):
            raise self.fail(o, f"num_splits {o.attrs['num_splits']} but {len(o.outputs)} outputs")
        check_movable(self, g, o, [o.inputs[1]])
        self.check_outputs(g, o)


@register
class SplitV(_Sub):
    kind = "SPLIT_V"
    options_class = tflite.SplitVOptions

    def read_options(self, opts):
        return dict(num_splits=opts.NumSplits() if opts is not None else 0)

    def sizes(self, g, o):
        x = ir.tensor(g, o.inputs[0])
        axis = _axis(self, o, int(const_ints(self, g, o, 2, "axis").ravel()[0]), len(x.shape))
        sizes = [int(v) for v in const_ints(self, g, o, 1, "size_splits").ravel()]
        if len(sizes) != len(o.outputs):
            raise self.fail(o, f"{len(sizes)} split sizes for {len(o.outputs)} outputs")
        if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
            raise self.fail(o, f"invalid split sizes {sizes}")
        if -1 in sizes:
            sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
        if sum(sizes) != x.shape[axis] or min(sizes) < 0:
            raise self.fail(o, f"split sizes {sizes} do not add up to dimension {axis} of size {x.shape[axis]}")
        return axis, sizes

    def index_of(self, g, o, k):
        x = ir.tensor(g, o.inputs[0])
        axis, sizes = self.sizes(g, o)
        start = sum(sizes[:k])
        sl = [slice(None)] * len(x.shape)
        sl[axis] = slice(start, start + sizes[k])
        return index_array(x.shape)[tuple(sl)]

    def check(self, g, o):
        self.expect_arity(o, (3, 3), len(o.outputs))
        check_movable(self, g, o, [o.inputs[0]])
        self.check_outputs(g, o)


@register
class Unpack(_Sub):
    kind = "UNPACK"
    options_class = tflite.UnpackOptions

    def read_options(self, opts):
        return dict(num=opts.Num() if opts is not None else 0, axis=opts.Axis() if opts is not None else 0)

    def index_of(self, g, o, k):
        x = ir.tensor(g, o.inputs[0])
        axis = _axis(self, o, o.attrs["axis"], len(x.shape))
        return np.take(index_array(x.shape), k, axis=axis)

    def check(self, g, o):
        self.expect_arity(o, (1, 1), len(o.outputs))
        x = ir.tensor(g, o.inputs[0])
        axis = _axis(self, o, o.attrs["axis"], len(x.shape))
        if x.shape[axis] != len(o.outputs) or o.attrs["num"] not in (0, len(o.outputs)):
            raise self.fail(o, f"unpacking dimension {axis} of size {x.shape[axis]} into {len(o.outputs)} outputs")
        check_movable(self, g, o, [o.inputs[0]])
        self.check_outputs(g, o)
