"""Generators of test models for the data-movement, shape, resize and reduction ops.

CONCATENATION, PACK, UNPACK, SPLIT, SPLIT_V, SLICE, STRIDED_SLICE, TRANSPOSE, GATHER, PAD,
PADV2, MIRROR_PAD, DEPTH_TO_SPACE, SPACE_TO_DEPTH, EXPAND_DIMS, SQUEEZE, SHAPE, FILL,
RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR, MEAN, SUM, REDUCE_MAX, REDUCE_MIN, ARG_MAX, ARG_MIN,
BATCH_MATMUL and TRANSPOSE_CONV.

The options of these ops are written by :class:`OpBuilder`, a :class:`ModelBuilder` that
serialises any builtin options table generically: ``op(kind, ..., begin_mask=3)`` calls
``tflite.StridedSliceOptionsAddBeginMask``. Quantization follows the converter (see
``tinycc.testing.models``): int8 activations per tensor, "same scale" ops (everything that only
moves bytes, REDUCE_MAX/MIN) keep the input's scale and zero point, TRANSPOSE_CONV weights are
symmetric per output channel (axis 0), biases int32 at input_scale * weight_scale.

A generator puts several independent cases into one model (one output each), usually once
int8 and once float32: a test then compiles and runs once for all of them. ``detector_head`` is
a small network (convolutions from ``tinycc.testing.models`` around these ops).
"""
from __future__ import annotations

import math

import flatbuffers
import numpy as np
import tflite

from ..dtypes import ZERO_POINT_RANGE
from .tflite_writer import ModelBuilder, builtin_code, builtin_name

OPTIONS_TABLE = {
    "CONCATENATION": "ConcatenationOptions", "PACK": "PackOptions", "UNPACK": "UnpackOptions",
    "SPLIT": "SplitOptions", "SPLIT_V": "SplitVOptions", "SLICE": "SliceOptions",
    "STRIDED_SLICE": "StridedSliceOptions", "TRANSPOSE": "TransposeOptions", "GATHER": "GatherOptions",
    "PAD": "PadOptions", "PADV2": "PadV2Options", "MIRROR_PAD": "MirrorPadOptions",
    "DEPTH_TO_SPACE": "DepthToSpaceOptions", "SPACE_TO_DEPTH": "SpaceToDepthOptions",
    "EXPAND_DIMS": "ExpandDimsOptions", "SQUEEZE": "SqueezeOptions", "SHAPE": "ShapeOptions",
    "FILL": "FillOptions", "RESIZE_BILINEAR": "ResizeBilinearOptions",
    "RESIZE_NEAREST_NEIGHBOR": "ResizeNearestNeighborOptions", "MEAN": "ReducerOptions",
    "SUM": "ReducerOptions", "REDUCE_MAX": "ReducerOptions", "REDUCE_MIN": "ReducerOptions",
    "ARG_MAX": "ArgMaxOptions", "ARG_MIN": "ArgMinOptions", "BATCH_MATMUL": "BatchMatMulOptions",
    "TRANSPOSE_CONV": "TransposeConvOptions",
    "CUMSUM": "CumsumOptions",   # (issue 16 part A, tinycc.testing.models_builtins_a)
}
_ENUMS = {
    "padding": {"SAME": 0, "VALID": 1},
    "fused_activation_function": {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3},
    "mode": {"REFLECT": 0, "SYMMETRIC": 1},
    "out_type": {"int32": tflite.TensorType.INT32, "int64": tflite.TensorType.INT64},
    "output_type": {"int32": tflite.TensorType.INT32, "int64": tflite.TensorType.INT64},
}


def _camel(key: str) -> str:
    return "".join(p.capitalize() for p in key.split("_"))


class OpBuilder(ModelBuilder):
    """ModelBuilder that writes the builtin options of the ops in ``OPTIONS_TABLE`` generically.

    Options are keyword arguments named like the schema's fields (``begin_mask``, ``axis``,
    ``squeeze_dims``...); enum fields take names (``padding="SAME"``, ``mode="REFLECT"``).
    An op of these kinds always gets its options table, as the converter writes it.
    """

    def op(self, opcode, inputs, outputs, *, version: int = 1, **options):
        kind = builtin_name(builtin_code(opcode))
        if kind not in OPTIONS_TABLE:
            return super().op(opcode, inputs, outputs, version=version, **options)
        index = super().op(opcode, inputs, outputs, version=version)
        self._ops[index].options = dict(options)
        return index

    def _write_op(self, b: flatbuffers.Builder, op) -> int:
        code = self._opcodes[op.opcode_index][0]
        kind = builtin_name(code)
        if kind not in OPTIONS_TABLE:
            return super()._write_op(b, op)
        cls = OPTIONS_TABLE[kind]
        vectors = {}
        for k, v in op.options.items():
            if isinstance(v, (list, tuple, np.ndarray)):
                vectors[k] = b.CreateNumpyVector(np.asarray(v, dtype="<i4"))
        getattr(tflite, cls + "Start")(b)
        for k, v in op.options.items():
            adder = getattr(tflite, f"{cls}Add{_camel(k)}", None)
            if adder is None:
                raise ValueError(f"{kind} has no option {k!r}")
            if k in vectors:
                adder(b, vectors[k])
            elif k in _ENUMS and isinstance(v, str):
                adder(b, _ENUMS[k][v])
            else:
                adder(b, v)
        options_offset = getattr(tflite, cls + "End")(b)
        inputs_vec = b.CreateNumpyVector(np.asarray(op.inputs, dtype="<i4"))
        outputs_vec = b.CreateNumpyVector(np.asarray(op.outputs, dtype="<i4"))
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, op.opcode_index)
        tflite.OperatorAddInputs(b, inputs_vec)
        tflite.OperatorAddOutputs(b, outputs_vec)
        tflite.OperatorAddBuiltinOptionsType(b, getattr(tflite.BuiltinOptions, cls))
        tflite.OperatorAddBuiltinOptions(b, options_offset)
        return tflite.OperatorEnd(b)


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------


def random_qparams(rng: np.random.Generator) -> tuple[float, int]:
    """A converter-like int8 activation quantization: scale log-uniform in [0.005, 0.1], any zero point."""
    return float(np.float32(math.exp(rng.uniform(math.log(0.005), math.log(0.1))))), int(rng.integers(-128, 128))


QUANTIZED = ("int8", "int16")   # activation types with quantization (int16: zero point 0)


class Net:
    """A model of independent single-op cases under construction.

    ``dtype`` (int8 or float32) is the type of the activations added next; a generator sets it
    per case, so one model can hold int8 and float32 cases side by side (one build and one
    compile test both).
    """

    def __init__(self, rng: np.random.Generator, dtype: str = "int8"):
        self.rng, self.dtype, self.b = rng, dtype, OpBuilder("tinycc data-movement test model")
        self.inputs: list[int] = []
        self.outputs: list[int] = []

    def q(self, q=None) -> dict:
        """Quantization of a new activation: int8 any zero point, int16 symmetric (zero point 0)."""
        if self.dtype not in QUANTIZED:
            return {}
        s, z = q if q is not None else random_qparams(self.rng)
        return dict(scale=s, zero_point=z if self.dtype == "int8" else 0)

    def input(self, shape, q=None, name="input") -> tuple[int, dict]:
        qq = self.q(q)
        t = self.b.tensor(list(shape), self.dtype, name=name, **qq)
        self.inputs.append(t)
        return t, qq

    def act(self, shape, qq: dict, name="y", output=True, dtype=None) -> int:
        dtype = dtype or self.dtype
        t = self.b.tensor(list(shape), dtype, name=name, **(qq if dtype in QUANTIZED else {}))
        if output:
            self.outputs.append(t)
        return t

    def const(self, data, dtype="int32", name="c", **quant) -> int:
        data = np.asarray(data)
        return self.b.tensor(list(data.shape), dtype, data=data, name=name, **quant)

    def data(self, shape, name="w") -> tuple[int, dict]:
        """A random constant tensor of the net's dtype, with its (int8) quantization."""
        if self.dtype in QUANTIZED:
            qq, info = self.q(), np.iinfo(self.dtype)
            return self.b.tensor(list(shape), self.dtype, data=self.rng.integers(info.min, info.max, shape,
                                                                                 endpoint=True),
                                 name=name, **qq), qq
        return self.b.tensor(list(shape), "float32", data=self.rng.standard_normal(shape).astype(np.float32),
                             name=name), {}

    def op(self, kind, inputs, outputs, **options):
        self.b.op(kind, inputs, outputs, **options)

    def build(self) -> bytes:
        return self.b.build(self.inputs, self.outputs)


def _idx(shape):
    return np.arange(int(np.prod(shape))).reshape(shape)


# ---------------------------------------------------------------------------
# Generators. Every one takes ``dtypes`` and builds its cases once per dtype in one model.
# ---------------------------------------------------------------------------

BOTH = ("int8", "float32")


def _cases(n: Net, dtypes):
    for dt in dtypes:
        n.dtype = dt
        yield dt


def slices(rng, shape, cases, dtypes=BOTH) -> bytes:
    """One SLICE per case (begin, size) on one input per dtype."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, (begin, size) in enumerate(cases):
            out = _idx(shape)[tuple(slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))].shape
            y = n.act(out, qq, f"slice{k}_{dt}")
            n.op("SLICE", [x, n.const(begin, name=f"begin{k}"), n.const(size, name=f"size{k}")], [y])
    return n.build()


def strided_shape(shape, begin, end, strides, **masks):
    """Output shape of STRIDED_SLICE as TFLite computes it."""
    from ..ops.slicing import strided_slice_index
    return strided_slice_index(shape, begin, end, strides, **masks).shape


def strided_slices(rng, shape, cases, dtypes=BOTH) -> bytes:
    """One STRIDED_SLICE per case (begin, end, strides, masks dict)."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, (begin, end, strides, masks) in enumerate(cases):
            y = n.act(strided_shape(shape, begin, end, strides, **masks), qq, f"ss{k}_{dt}")
            ins = [x, n.const(begin, name=f"begin{k}"), n.const(end, name=f"end{k}"),
                   n.const(strides, name=f"strides{k}")]
            opts = dict(begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0)
            opts.update(masks)
            n.op("STRIDED_SLICE", ins, [y], **opts)
    return n.build()


def splits(rng, shape, split_cases=(), split_v_cases=(), unpack_axes=(), dtypes=BOTH) -> bytes:
    """SPLIT (axis, num), SPLIT_V (sizes with at most one -1, axis) and UNPACK (axis) of one input."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, (axis, num) in enumerate(split_cases):
            out = list(shape)
            out[axis % len(shape)] //= num
            ys = [n.act(out, qq, f"split{k}_{j}_{dt}") for j in range(num)]
            n.op("SPLIT", [n.const(np.array(axis, np.int32), name="axis"), x], ys, num_splits=num)
        for k, (sizes, axis) in enumerate(split_v_cases):
            a = axis % len(shape)
            real = list(sizes)
            if -1 in real:
                real[real.index(-1)] = shape[a] - (sum(real) + 1)
            ys = []
            for j, s in enumerate(real):
                out = list(shape)
                out[a] = s
                ys.append(n.act(out, qq, f"splitv{k}_{j}_{dt}"))
            n.op("SPLIT_V", [x, n.const(sizes, name="sizes"), n.const(np.array([axis], np.int32), name="axis")],
                 ys, num_splits=len(sizes))
        for k, axis in enumerate(unpack_axes):
            a = axis % len(shape)
            out = [d for i, d in enumerate(shape) if i != a]
            ys = [n.act(out, qq, f"unpack{k}_{j}_{dt}") for j in range(shape[a])]
            n.op("UNPACK", [x], ys, num=shape[a], axis=axis)
    return n.build()


def concats(rng, cases, dtypes=BOTH) -> bytes:
    """Cases: (shapes, axis, const_input, pack, same_quant): CONCATENATION (or PACK) of one input
    per shape; input ``const_input`` (an index or None) is a constant. int8 inputs share the
    output's quantization unless ``same_quant`` is False (a model TFLite and TFLite Micro refuse;
    tinycc requantizes)."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        for c, (shapes, axis, const_input, pack, same_quant) in enumerate(cases):
            qq = n.q()
            xs = []
            for k, s in enumerate(shapes):
                shared = dt in QUANTIZED and same_quant
                if k == const_input and shared:
                    info = np.iinfo(dt)
                    xs.append(n.b.tensor(list(s), dt, data=n.rng.integers(info.min, info.max, s, endpoint=True),
                                         name=f"c{c}_{k}_{dt}", **qq))
                elif k == const_input:
                    xs.append(n.data(s, name=f"c{c}_{k}_{dt}")[0])
                else:
                    xs.append(n.input(s, (qq["scale"], qq["zero_point"]) if shared else None,
                                      name=f"x{c}_{k}_{dt}")[0])
            if pack:
                out = list(shapes[0])
                out.insert(axis % (len(out) + 1), len(shapes))
                y = n.act(out, qq, f"pack{c}_{dt}")
                n.op("PACK", xs, [y], values_count=len(xs), axis=axis)
            else:
                a = axis % len(shapes[0])
                out = list(shapes[0])
                out[a] = sum(s[a] for s in shapes)
                y = n.act(out, qq, f"concat{c}_{dt}")
                n.op("CONCATENATION", xs, [y], axis=axis, fused_activation_function="NONE")
    return n.build()


def transposes(rng, cases, dtypes=BOTH) -> bytes:
    """Cases: (shape, perms): one input per shape, one TRANSPOSE per permutation."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        for c, (shape, perms) in enumerate(cases):
            x, qq = n.input(shape, name=f"x{c}_{dt}")
            for k, perm in enumerate(perms):
                y = n.act([shape[p] for p in perm], qq, f"t{c}_{k}_{dt}")
                n.op("TRANSPOSE", [x, n.const(perm, name=f"perm{k}")], [y])
    return n.build()


def pads(rng, shape, cases, dtypes=BOTH) -> bytes:
    """Cases: (kind, paddings, extra) with kind PAD, PADV2 (extra: constant value as a float, or
    "input" for a run-time value) or MIRROR_PAD (extra: REFLECT or SYMMETRIC)."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, (kind, paddings, extra) in enumerate(cases):
            out = [d + a + b for d, (a, b) in zip(shape, paddings)]
            y = n.act(out, qq, f"pad{k}_{dt}")
            ins = [x, n.const(np.array(paddings, np.int32), name=f"paddings{k}")]
            opts = {}
            if kind == "PADV2" and extra == "input":
                ins.append(n.input([], (qq["scale"], qq["zero_point"]) if qq else None, name=f"value{k}_{dt}")[0])
            elif kind == "PADV2":
                v = (np.clip(np.round(extra / qq["scale"]) + qq["zero_point"], *ZERO_POINT_RANGE[dt]).astype(dt)
                     if dt in QUANTIZED else np.float32(extra))
                ins.append(n.b.tensor([], dt, data=np.array(v), name=f"value{k}_{dt}", **qq))
            elif kind == "MIRROR_PAD":
                opts = dict(mode=extra)
            n.op(kind, ins, [y], **opts)
    return n.build()


def space_depth(rng, cases, dtypes=BOTH) -> bytes:
    """Cases: (shape, block): SPACE_TO_DEPTH of one input and DEPTH_TO_SPACE of its depth-major twin."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        for c, ((b, h, w, ch), block) in enumerate(cases):
            x, qq = n.input([b, h, w, ch], name=f"x{c}_{dt}")
            y = n.act([b, h // block, w // block, ch * block * block], qq, f"s2d{c}_{dt}")
            n.op("SPACE_TO_DEPTH", [x], [y], block_size=block)
            x2, q2 = n.input([b, h // block, w // block, ch * block * block], name=f"x2{c}_{dt}")
            y2 = n.act([b, h, w, ch], q2, f"d2s{c}_{dt}")
            n.op("DEPTH_TO_SPACE", [x2], [y2], block_size=block)
    return n.build()


def gathers(rng, shape, cases, dtypes=BOTH) -> bytes:
    """Cases: (axis, batch_dims, indices array, const?); run-time indices become a model input."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, (axis, batch_dims, indices, const) in enumerate(cases):
            indices = np.asarray(indices, np.int32)
            if const:
                it = n.const(indices, name=f"idx{k}_{dt}")
            else:
                it = n.b.tensor(list(indices.shape), "int32", name=f"idx{k}_{dt}")
                n.inputs.append(it)
            a = axis % len(shape)
            out = list(shape[:a]) + list(indices.shape[batch_dims:]) + list(shape[a + 1:])
            y = n.act(out, qq, f"gather{k}_{dt}")
            n.op("GATHER", [x, it], [y], axis=axis, batch_dims=batch_dims)
    return n.build()


def resizes(rng, shape, cases, dtypes=BOTH) -> bytes:
    """Cases: (kind, (out_h, out_w), align_corners, half_pixel_centers)."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, (kind, size, align, hpc) in enumerate(cases):
            y = n.act([shape[0], size[0], size[1], shape[3]], qq, f"resize{k}_{dt}")
            n.op(kind, [x, n.const(np.array(size, np.int32), name=f"size{k}")], [y],
                 align_corners=align, half_pixel_centers=hpc)
    return n.build()


def reductions(rng, shape, cases, dtypes=BOTH) -> bytes:
    """Cases: (kind, axes, keep_dims, requantize). int8 MEAN/SUM outputs get their own
    quantization when ``requantize`` (calibrated to the result's range), else the input's."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for k, (kind, axes, keep, requant) in enumerate(cases):
            ax = sorted({a % len(shape) for a in axes})
            out = [1 if d in ax else s for d, s in enumerate(shape)] if keep else \
                  [s for d, s in enumerate(shape) if d not in ax]
            if kind in ("ARG_MAX", "ARG_MIN"):
                otype = "int64" if requant else "int32"
                y = n.act(out, {}, f"{kind.lower()}{k}_{dt}", dtype=otype)
                n.op(kind, [x, n.const(np.array(axes, np.int32), name=f"axis{k}")], [y], output_type=otype)
                continue
            oq = qq
            if dt in QUANTIZED and requant and kind in ("MEAN", "SUM"):
                count = int(np.prod([shape[a] for a in ax]))
                span = 255 * qq["scale"] * (count if kind == "SUM" else 1) * float(rng.uniform(0.2, 1.0))
                oq = dict(scale=float(np.float32(span / 255)),
                          zero_point=int(rng.integers(-60, 60)) if dt == "int8" else 0)
            y = n.act(out, oq, f"{kind.lower()}{k}_{dt}")
            n.op(kind, [x, n.const(np.array(axes, np.int32), name=f"axis{k}")], [y], keep_dims=keep)
    return n.build()


def batch_matmuls(rng, cases, dtypes=BOTH) -> bytes:
    """Cases: (lhs_shape, rhs_shape, adj_x, adj_y, rhs_const)."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        for k, (ls, rs, adj_x, adj_y, rhs_const) in enumerate(cases):
            x, qx = n.input(ls, name=f"lhs{k}_{dt}")
            if rhs_const:
                w, qw = n.data(rs, name=f"rhs{k}_{dt}")
            else:
                w, qw = n.input(rs, name=f"rhs{k}_{dt}")
            m = ls[-1] if adj_x else ls[-2]
            depth = ls[-2] if adj_x else ls[-1]
            cols = rs[-2] if adj_y else rs[-1]
            batch = np.broadcast_shapes(tuple(ls[:-2]), tuple(rs[:-2]))
            oq = {}
            if dt in QUANTIZED:
                # a spread like the converter's: about the range of the dot products
                if dt == "int8":
                    oq = dict(scale=float(np.float32(qx["scale"] * qw["scale"] * 128 * 128 * math.sqrt(depth) / 96)),
                              zero_point=int(rng.integers(-20, 20)))
                else:   # int16: operands 256 times larger
                    oq = dict(scale=float(np.float32(qx["scale"] * qw["scale"] * 32768 * 32768 * math.sqrt(depth)
                                                     / (96 * 256))), zero_point=0)
            y = n.act(list(batch) + [m, cols], oq, f"bmm{k}_{dt}")
            n.op("BATCH_MATMUL", [x, w], [y], adj_x=adj_x, adj_y=adj_y)
    return n.build()


def transpose_convs(rng, cases, dtypes=BOTH) -> bytes:
    """Cases: (in_shape, out_channels, kernel, stride, padding, activation, bias); bias False
    leaves the bias input out, None writes it as absent (-1).

    Output size: SAME in*stride, VALID (in-1)*stride + kernel. int8 weights symmetric per
    output channel (axis 0), int32 bias at in_scale * w_scale.
    """
    n = Net(rng)
    for dt in _cases(n, dtypes):
        for k, (ish, oc, ker, stride, padding, act, bias) in enumerate(cases):
            x, qx = n.input(ish, name=f"x{k}_{dt}")
            b_, h, w_, ic = ish
            oh = h * stride[0] if padding == "SAME" else (h - 1) * stride[0] + ker[0]
            ow = w_ * stride[1] if padding == "SAME" else (w_ - 1) * stride[1] + ker[1]
            wf = rng.normal(0, 1.0 / math.sqrt(ker[0] * ker[1] * ic), (oc, ker[0], ker[1], ic))
            bf = rng.normal(0, 0.3, oc)
            if dt == "int8":
                ws = np.maximum(np.abs(wf).reshape(oc, -1).max(axis=1), 1e-6) / 127.0
                ws = ws.astype(np.float32)
                wq = np.clip(np.round(wf / ws[:, None, None, None]), -127, 127).astype(np.int8)
                wt = n.b.tensor(list(wf.shape), "int8", data=wq, scale=ws, zero_point=[0] * oc,
                                quantized_dimension=0, name=f"w{k}")
                bs = (np.float32(qx["scale"]) * ws).astype(np.float32)
                bt = n.b.tensor([oc], "int32", data=np.round(bf / bs).astype(np.int32), scale=bs,
                                zero_point=[0] * oc, name=f"b{k}") if bias else -1
                spread = 128 * qx["scale"] * math.sqrt(ker[0] * ker[1] * ic) * 0.8
                oq = dict(scale=float(np.float32(spread / 128)), zero_point=int(rng.integers(-30, 30)))
            else:
                wt = n.b.tensor(list(wf.shape), "float32", data=wf.astype(np.float32), name=f"w{k}")
                bt = n.b.tensor([oc], "float32", data=bf.astype(np.float32), name=f"b{k}") if bias else -1
                oq = {}
            y = n.act([b_, oh, ow, oc], oq, f"tconv{k}_{dt}")
            shape_t = n.const(np.array([b_, oh, ow, oc], np.int32), name=f"oshape{k}")
            ins = [shape_t, wt, x] + ([bt] if bias else [-1] if bias is None else [])
            n.op("TRANSPOSE_CONV", ins, [y], padding=padding, stride_h=stride[0], stride_w=stride[1],
                 fused_activation_function=act)
    return n.build()


def shape_fill_expand(rng, shape, shape_types=("int32",), dtypes=BOTH) -> bytes:
    """SHAPE of an input (TFLite Micro writes only int32), FILL with a run-time and with a
    constant value, and EXPAND_DIMS (a view) followed by a PAD."""
    n = Net(rng)
    for dt in _cases(n, dtypes):
        x, qq = n.input(shape, name=f"x_{dt}")
        for ot in shape_types:
            y = n.act([len(shape)], {}, f"shape_{ot}_{dt}", dtype=ot)
            n.op("SHAPE", [x], [y], out_type=ot)
        v, qv = n.input([], name=f"value_{dt}")
        y = n.act([2, 3, 4], qv, f"fill_{dt}")
        n.op("FILL", [n.const(np.array([2, 3, 4], np.int32), name="dims"), v], [y])
        cv = n.b.tensor([], dt, data=np.array(-3 if dt == "int8" else -1.25), name=f"cvalue_{dt}", **qv)
        y = n.act([3, 1], qv, f"fill_const_{dt}")
        n.op("FILL", [n.const(np.array([3, 1], np.int64), dtype="int64", name="dims64"), cv], [y])
        e = n.act([shape[0], 1] + list(shape[1:]), qq, f"expand_{dt}", output=False)
        n.op("EXPAND_DIMS", [x, n.const(np.array(1, np.int32), name="axis")], [e])
        y = n.act([shape[0], 1] + list(shape[1:-1]) + [shape[-1] + 2], qq, f"expand_pad_{dt}")
        n.op("PAD", [e, n.const(np.array([[0, 0]] * len(shape) + [[1, 1]], np.int32), name="p")], [y])
    return n.build()


def detector_head(rng, dtype="int8") -> bytes:
    """A small YOLO-style two-scale head with these ops between convolutions (calibrated like
    ``tinycc.testing.models``): conv stem -> stride-2 conv -> RESIZE_NEAREST_NEIGHBOR x2 ->
    CONCATENATION with the stem (both RELU6 convs output the concat's quantization, as the
    converter arranges) -> PAD -> conv -> two heads: MEAN over H, W and a TRANSPOSE of a SLICE."""
    from .models import NetBuilder

    nb = NetBuilder(rng, dtype, description="tinycc detector-head test model")
    nb.mb = OpBuilder("tinycc detector-head test model")
    relu6 = dict(out_scale=6.0 / 255.0, out_zero_point=-128) if nb.quantized else {}
    x = nb.input((1, 12, 12, 3))
    stem = nb.conv2d(x, 8, (3, 3), (2, 2), "SAME", (1, 1), "RELU6", **relu6)         # 6x6x8
    deep = nb.conv2d(stem, 8, (3, 3), (2, 2), "SAME", (1, 1), "RELU6", **relu6)      # 3x3x8
    const = lambda v: nb.mb.tensor(list(np.shape(v)), "int32", data=np.array(v))
    up = nb._activation_tensor((1, 6, 6, 8), deep.calib.repeat(2, axis=2).repeat(2, axis=3), "upsample",
                               same_as=deep)
    nb.mb.op("RESIZE_NEAREST_NEIGHBOR", [deep.index, const([6, 6])], [up.index], align_corners=False,
             half_pixel_centers=True)
    cat = nb._activation_tensor((1, 6, 6, 16), np.concatenate([up.calib, stem.calib], axis=4), "concat",
                                same_as=up)
    nb.mb.op("CONCATENATION", [up.index, stem.index], [cat.index], axis=3, fused_activation_function="NONE")
    padded = nb._activation_tensor((1, 8, 8, 16), np.pad(cat.calib, ((0, 0), (0, 0), (1, 1), (1, 1), (0, 0))),
                                   "pad", same_as=cat)
    nb.mb.op("PAD", [cat.index, const([[0, 0], [1, 1], [1, 1], [0, 0]])], [padded.index])
    feat = nb.conv2d(padded, 12, (3, 3), (1, 1), "VALID", (1, 1), "RELU")          # 6x6x12
    mean = nb._activation_tensor((1, 1, 1, 12), feat.calib.mean(axis=(2, 3), keepdims=True), "mean")
    nb.mb.op("MEAN", [feat.index, const([1, 2])], [mean.index], keep_dims=True)
    sl = nb._activation_tensor((1, 6, 6, 4), feat.calib[..., 2:6], "slice", same_as=feat)
    nb.mb.op("SLICE", [feat.index, const([0, 0, 0, 2]), const([1, 6, 6, 4])], [sl.index])
    tr = nb._activation_tensor((1, 4, 6, 6), sl.calib.transpose(0, 1, 4, 2, 3), "transpose", same_as=sl)
    nb.mb.op("TRANSPOSE", [sl.index, const([0, 3, 1, 2])], [tr.index])
    return nb.build([x], [mean, tr])
