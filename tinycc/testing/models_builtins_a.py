"""Generators of test models for issue 16 part A: uint8 at a model's edges, the old converter's
quantization quirk, and the data-movement builtins (SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND,
REVERSE_V2, TILE, BROADCAST_TO, BROADCAST_ARGS).

Like ``tinycc.testing.models_datamove`` (whose ``Net`` they use), a generator puts several
independent single-op cases into one model, one output each, once per dtype.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .models import NetBuilder
from .models_datamove import Net, _cases

BOTH = ("int8", "float32")


def _space_to_batch_shape(shape, block, pads):
    n, *sp, c = shape
    sp = [(s + p[0] + p[1]) // b for s, b, p in zip(sp, block, pads)]
    return [n * int(np.prod(block)), *sp, c]


def _batch_to_space_shape(shape, block, crops):
    n, *sp, c = shape
    sp = [s * b - cr[0] - cr[1] for s, b, cr in zip(sp, block, crops)]
    return [n // int(np.prod(block)), *sp, c]


def space_batch(rng, s2b_cases, b2s_cases, dtypes=BOTH) -> bytes:
    """Cases (input shape, block_shape, paddings or crops): one SPACE_TO_BATCH_ND or
    BATCH_TO_SPACE_ND each, on its own input."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        for kind, cases, shape_of in (("SPACE_TO_BATCH_ND", s2b_cases, _space_to_batch_shape),
                                      ("BATCH_TO_SPACE_ND", b2s_cases, _batch_to_space_shape)):
            for k, (shape, block, pads) in enumerate(cases):
                x, qq = n.input(shape, name=f"{kind[:3]}x{k}_{dt}")
                y = n.act(shape_of(shape, block, pads), qq, f"{kind[:3]}{k}_{dt}")
                n.op(kind, [x, n.const(block, name=f"block{k}"), n.const(np.asarray(pads), name=f"pads{k}")], [y])
    return n.build()


def reverse_broadcast(rng, shape, reverse_axes, broadcast_shapes, dtypes=BOTH + ("int32",)) -> bytes:
    """One input of ``shape`` per dtype; a REVERSE_V2 per axis list, a BROADCAST_TO per shape."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, axes in enumerate(reverse_axes):
            y = n.act(shape, qq, f"rev{k}_{dt}")
            n.op("REVERSE_V2", [x, n.const(axes, name=f"axes{k}")], [y])
        for k, to in enumerate(broadcast_shapes):
            y = n.act(to, qq, f"bcast{k}_{dt}")
            n.op("BROADCAST_TO", [x, n.const(to, name=f"shape{k}")], [y])
    return n.build()


def tiles(rng, shape, multiples, dtypes=BOTH + ("int32",)) -> bytes:
    """One input of ``shape`` per dtype, a TILE per multiples list (int64 multiples for the last)."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, mult in enumerate(multiples):
            y = n.act([d * m for d, m in zip(shape, mult)], qq, f"tile{k}_{dt}")
            mdt = "int64" if k == len(multiples) - 1 else "int32"
            n.op("TILE", [x, n.const(mult, dtype=mdt, name=f"mult{k}")], [y])
    return n.build()


def broadcast_args(rng, shape, other) -> bytes:
    """SHAPE(x) -> BROADCAST_ARGS(., other), which folds to a constant (TFLite Micro cannot take
    its result as BROADCAST_TO's shape: that would be a dynamic shape), and BROADCAST_TO(x) to
    that shape as a constant; outputs both (float32 x)."""
    n = Net(rng, "float32")
    x, _ = n.input(shape, name="x")
    s = n.act([len(shape)], {}, "shape", output=False, dtype="int32")
    n.op("SHAPE", [x], [s], out_type="int32")
    to = list(np.broadcast_shapes(tuple(shape), tuple(other)))
    bs = n.act([len(to)], {}, "bshape", dtype="int32")
    n.op("BROADCAST_ARGS", [s, n.const(other, name="other")], [bs])
    y = n.act(to, {}, "y")
    n.op("BROADCAST_TO", [x, n.const(to, name="to")], [y])
    return n.build()


def quantize_uint8(rng, shape, cases) -> bytes:
    """Cases (dtype in, dtype out, (scale, zp) in, (scale, zp) out): one QUANTIZE each on its own
    input (uint8 -> int8, int8 -> uint8)."""
    n = Net(rng)
    for k, (din, dout, qin, qout) in enumerate(cases):
        x = n.b.tensor(list(shape), din, scale=qin[0], zero_point=qin[1], name=f"x{k}_{din}")
        n.inputs.append(x)
        y = n.b.tensor(list(shape), dout, scale=qout[0], zero_point=qout[1], name=f"y{k}_{dout}")
        n.outputs.append(y)
        n.op("QUANTIZE", [x], [y])
    return n.build()


class OldConverterNet(NetBuilder):
    """A NetBuilder whose per-channel biases carry ``quantized_dimension`` 3 although they are
    1-D, as the older converter wrote them (TFLite Micro's person-detection model)."""

    def _bias(self, b, in_scale, w_scales, name):
        idx = super()._bias(b, in_scale, w_scales, name)
        t = self.mb._tensors[idx]
        if t.scale is not None and len(t.scale) > 1:
            self.mb._tensors[idx] = dataclasses.replace(t, quantized_dimension=3)
        return idx


def old_converter_conv(rng) -> bytes:
    """int8 CONV_2D and DEPTHWISE_CONV_2D with per-channel biases marked quantized_dimension 3."""
    nb = OldConverterNet(rng, "int8", "tinycc old-converter quirk model")
    x = nb.input((1, 6, 6, 3))
    h = nb.conv2d(x, 4, activation="RELU")
    y = nb.depthwise_conv2d(h, 1, stride=(2, 2))
    return nb.build([x], [y])


def _space_to_batch(x: np.ndarray, block, pads) -> np.ndarray:
    """Reference SPACE_TO_BATCH_ND of an NHWC batch (zero padding)."""
    n, h, w, c = x.shape
    (bh, bw), ((pt, pb), (pl, pr)) = block, pads
    p = np.pad(x, [(0, 0), (pt, pb), (pl, pr), (0, 0)])
    hh, ww = p.shape[1] // bh, p.shape[2] // bw
    return p.reshape(n, hh, bh, ww, bw, c).transpose(2, 4, 0, 1, 3, 5).reshape(bh * bw * n, hh, ww, c)


def _batch_to_space(x: np.ndarray, block) -> np.ndarray:
    """Reference BATCH_TO_SPACE_ND of an NHWC batch, no crops."""
    b, h, w, c = x.shape
    bh, bw = block
    n = b // (bh * bw)
    return x.reshape(bh, bw, n, h, w, c).transpose(2, 3, 0, 4, 1, 5).reshape(n, h * bh, w * bw, c)


def dilated_conv_uint8(rng, hw: int = 10, channels: int = 3, filters: int = 8, rate: int = 2) -> bytes:
    """A uint8-input, uint8-output int8 network whose 3x3 convolution of dilation ``rate`` (SAME)
    is written as TensorFlow's converter sometimes does: QUANTIZE uint8 -> int8,
    SPACE_TO_BATCH_ND -> CONV_2D (VALID) -> BATCH_TO_SPACE_ND, a 1x1 CONV_2D, QUANTIZE int8 -> uint8.
    The uint8 tensors have the int8 scale and the zero point + 128 (camera bytes)."""
    from .models import Act
    nb = NetBuilder(rng, "int8", "tinycc dilated convolution with uint8 edges")
    x = nb.input((1, hw, hw, channels))
    image = nb.mb.tensor(x.shape, "uint8", scale=x.scale, zero_point=x.zero_point + 128, name="image")
    nb.mb.op("QUANTIZE", [image], [x.index])
    block, pad = [rate, rate], rate          # SAME: (3 - 1) * rate / 2 on each side
    pads = [[pad, pad], [pad, pad]]
    calib = np.stack([_space_to_batch(c, block, pads) for c in x.calib])
    s = Act(nb.mb.tensor(calib.shape[1:], "int8", scale=x.scale, zero_point=x.zero_point, name="s2b"),
            calib.shape[1:], calib, x.scale, x.zero_point)
    nb.mb.op("SPACE_TO_BATCH_ND", [x.index,
                                   nb.mb.tensor([2], "int32", data=block, name="block"),
                                   nb.mb.tensor([2, 2], "int32", data=np.asarray(pads), name="paddings")], [s.index])
    h = nb.conv2d(s, filters, padding="VALID", activation="RELU")
    calib = np.stack([_batch_to_space(c, block) for c in h.calib])
    b = Act(nb.mb.tensor(calib.shape[1:], "int8", scale=h.scale, zero_point=h.zero_point, name="b2s"),
            calib.shape[1:], calib, h.scale, h.zero_point)
    nb.mb.op("BATCH_TO_SPACE_ND", [h.index, nb.mb.tensor([2], "int32", data=block, name="block2"),
                                   nb.mb.tensor([2, 2], "int32", data=np.zeros((2, 2)), name="crops")], [b.index])
    y = nb.conv2d(b, 4, kernel=(1, 1))
    out = nb.mb.tensor(y.shape, "uint8", scale=y.scale, zero_point=y.zero_point + 128, name="scores")
    nb.mb.op("QUANTIZE", [y.index], [out])
    return nb.mb.build([image], [out])


def dynamic_batch(rng, dynamic_height: bool = False) -> bytes:
    """An int8 classifier whose batch is dynamic (shape_signature -1, stored as 1) in every
    activation, as the converter writes a Keras model: CONV_2D -> RESHAPE -> FULLY_CONNECTED ->
    SOFTMAX. ``dynamic_height``: the input's height is marked dynamic too (nothing after it is)."""
    nb = NetBuilder(rng, "int8", "tinycc dynamic-batch model")
    x = nb.input((1, 6, 6, 3))
    h = nb.conv2d(x, 4, stride=(2, 2), activation="RELU")
    f = nb.reshape(h, [-1, 36])
    fc = nb.fully_connected(f, 5)
    y = nb.softmax(fc)
    for a in (x, h, f, fc, y):
        nb.mb.mark_dynamic(a.index, [0])
    if dynamic_height:
        nb.mb.mark_dynamic(x.index, [0, 1])
    return nb.build([x], [y])


def gathers_nd(rng, shape, index_cases, dtypes=BOTH) -> bytes:
    """One input of ``shape`` per dtype, a GATHER_ND per constant int32 index array, and an
    EMBEDDING_LOOKUP of the input's rows per index case of depth 1 (ids = the first column)."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, idx in enumerate(index_cases):
            idx = np.asarray(idx)
            y = n.act([*idx.shape[:-1], *shape[idx.shape[-1]:]], qq, f"gnd{k}_{dt}")
            n.op("GATHER_ND", [x, n.const(idx, name=f"idx{k}")], [y])
            if idx.shape[-1] == 1 and dt != "int32":
                ids = idx.reshape(-1)
                y = n.act([len(ids), *shape[1:]], qq, f"emb{k}_{dt}")
                n.op("EMBEDDING_LOOKUP", [n.const(ids, name=f"ids{k}"), x], [y])
    return n.build()


def update_slices(rng, shape, cases, dtypes=BOTH + ("int32",)) -> bytes:
    """Per dtype an input of ``shape``; per case (update shape, start) a DYNAMIC_UPDATE_SLICE of
    REVERSE_V2(x) (dying there: the output may take its place) with a second input as update."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, (ushape, start) in enumerate(cases):
            r = n.act(shape, qq, f"rev{k}_{dt}", output=False)
            n.op("REVERSE_V2", [x, n.const([0], name=f"axis{k}")], [r])
            u = n.b.tensor(list(ushape), dt, name=f"u{k}_{dt}", **qq)
            n.inputs.append(u)
            y = n.act(shape, qq, f"dus{k}_{dt}")
            n.op("DYNAMIC_UPDATE_SLICE", [r, u, n.const(start, name=f"start{k}")], [y])
    return n.build()


def cumsums(rng, shape, cases, dtypes=BOTH) -> bytes:
    """One input per dtype, a CUMSUM per (axis, exclusive, reverse) (int8: its own output
    quantization, a coarser scale as a running sum needs)."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, (axis, exclusive, reverse) in enumerate(cases):
            qo = dict(scale=qq["scale"] * 3, zero_point=int(rng.integers(-20, 20))) if qq else {}
            y = n.act(shape, qo, f"cumsum{k}_{dt}")
            n.op("CUMSUM", [x, n.const(np.int32(axis), name=f"axis{k}")], [y], exclusive=exclusive,
                 reverse=reverse)
    return n.build()
