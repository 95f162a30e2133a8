"""ADD: element-wise sum with numpy-style broadcasting (up to 6-D) and a fused activation.
int8, int16, float32, and int32 (wrapping; a WHILE loop's counter, say). uint8 (fully-uint8 legacy
models) in TFLite's uint8 reference arithmetic, which is int8's (left shift 20, per-input and output
multipliers): TFLite Micro has no uint8 ADD, so such a model's reference is TFLite."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from . import _uint8
from . import (INT32_RANGE, OpDef, activation, activation_range_float, activation_range_int8, int32_arithmetic,
               int32_shape_arithmetic, register)

LEFT_SHIFT_INT8 = 20  # headroom bits TFLite gives int8 operands before rescaling
LEFT_SHIFT = {"int8": LEFT_SHIFT_INT8, "uint8": LEFT_SHIFT_INT8, "int16": 15}   # and uint8, int16 operands
KERNEL = {"int8": "tcc_add_s8", "uint8": "tcc_add_u8", "int16": "tcc_add_s16"}   # one params struct
MAX_DIMS = 6


@dataclass(frozen=True, eq=False, kw_only=True)
class AddParams(ir.Params):
    """ADD: what tcc_add_*_params hold (and what the arm_add unit, tinycc/variants/arm_add.py, packs)."""
    broadcast: str            # C initializer of the tcc_broadcast (``broadcast_strides``)
    act_range: tuple          # the output clamp (int8 or float32)
    in1: tuple = (0, 0)       # int8: (multiplier, shift) of each input and of the output,
    in2: tuple = (0, 0)       # as TFLite's Prepare computes them
    out: tuple = (0, 0)
    offsets: tuple = (0, 0, 0)   # -in1_zp, -in2_zp, out_zp


def broadcast_strides(a_shape, b_shape) -> str:
    """C initializer of a tcc_broadcast: output dims and each input's strides (0 where broadcast).

    Same shapes collapse to one flat dimension, so the kernel runs a single loop.
    """
    if tuple(a_shape) == tuple(b_shape):
        n = int(np.prod(a_shape, dtype=np.int64))
        dims, sa, sb = [1] * (MAX_DIMS - 1) + [n], [0] * (MAX_DIMS - 1) + [1], [0] * (MAX_DIMS - 1) + [1]
    else:
        out = np.broadcast_shapes(a_shape, b_shape)
        dims = [1] * (MAX_DIMS - len(out)) + list(out)

        def strides(shape):
            shape = [1] * (MAX_DIMS - len(shape)) + list(shape)
            st, acc = [0] * MAX_DIMS, 1
            for d in reversed(range(MAX_DIMS)):
                st[d] = 0 if shape[d] == 1 and dims[d] != 1 else acc
                acc *= shape[d]
            return st
        sa, sb = strides(a_shape), strides(b_shape)
    arr = lambda v: "{" + ", ".join(str(int(x)) for x in v) + "}"
    return f"{{ .dims = {arr(dims)}, .a_strides = {arr(sa)}, .b_strides = {arr(sb)} }}"


def _int32(g, o: ir.Op) -> bool:
    """An int32 ADD computed at run time (every tensor int32)."""
    return all(t is not None and ir.tensor(g, t).dtype == "int32" for t in (*o.inputs, *o.outputs))


@register
class Add(OpDef):
    kind = "ADD"
    options_class = tflite.AddOptions
    clamp_keys = ("act_range", "act_range")
    kernel = "tcc_add"

    def read_options(self, opts):
        return dict(activation=activation(opts))

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        if int32_shape_arithmetic(g, o) or _int32(g, o):
            from .elementwise_binary import check_broadcast
            check_broadcast(self, g, o, (0, 1), int32=True)
            if len(ir.tensor(g, o.outputs[0]).shape) > MAX_DIMS:
                raise self.fail(o, f"output must be at most {MAX_DIMS}-D")
            return
        uint8 = _uint8.is_uint8(g, o)
        if uint8:
            _uint8.check_tensors(self, g, o, (*o.inputs, o.outputs[0]))
        dt = "uint8" if uint8 else self.dtype_of(g, o, int16=True)
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        if b.dtype != dt or (dt != "float32" and (b.quant is None or b.quant.per_channel)):
            raise self.fail(o, f"second input must be {dt} with per-tensor quantization", b.name)
        if dt == "int16" and b.quant.zero_point[0] != 0:
            raise self.fail(o, "int16 activations need a zero point of 0", b.name)
        try:
            out_shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise self.fail(o, f"shapes {list(a.shape)} and {list(b.shape)} do not broadcast") from None
        if tuple(out_shape) != tuple(y.shape) or len(y.shape) > MAX_DIMS:
            raise self.fail(o, f"{list(a.shape)} + {list(b.shape)} -> {list(y.shape)}: output shape must be "
                               f"the broadcast shape {list(out_shape)}, at most {MAX_DIMS}-D")
        if dt != "float32":  # issue 6: the output multiplier (see prepare) must be one the kernel applies
            twice_max = 2 * max(float(a.quant.scale[0]), float(b.quant.scale[0]))
            quant.check_requantization(self, o, [twice_max / ((1 << LEFT_SHIFT[dt]) * float(y.quant.scale[0]))],
                                          y.name, "output requantization multiplier")

    def tflm_reference_reliable(self, g, o):
        return not _uint8.is_uint8(g, o)    # TFLite Micro has no uint8 ADD

    def plain_only(self, g, o):
        return _uint8.is_uint8(g, o)

    def prepare(self, g, o):
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        broadcast = broadcast_strides(a.shape, b.shape)
        if y.dtype == "int32":
            return AddParams(broadcast=broadcast, act_range=INT32_RANGE[o.attrs["activation"]])
        if y.dtype == "float32":
            return AddParams(broadcast=broadcast, act_range=activation_range_float(o.attrs["activation"]))
        sa, sb, sy = (float(t.quant.scale[0]) for t in (a, b, y))
        twice_max = 2 * max(sa, sb)
        return AddParams(broadcast=broadcast,
                         act_range=activation_range_int8(o.attrs["activation"], sy, y.quant.zero_point[0], y.dtype),
                         in1=quant.quantize_multiplier(sa / twice_max),
                         in2=quant.quantize_multiplier(sb / twice_max),
                         out=quant.quantize_multiplier(twice_max / ((1 << LEFT_SHIFT[y.dtype]) * sy)),
                         offsets=(-a.quant.zero_point[0], -b.quant.zero_point[0], y.quant.zero_point[0]))

    def evaluate(self, g, o, inputs):
        """For constant folding: float32 a + b then tcc_clampf (exact in numpy); int8 stays at run time."""
        if int32_shape_arithmetic(g, o):
            return [int32_arithmetic("ADD", inputs[0], inputs[1], o.attrs["activation"])]
        if ir.tensor(g, o.outputs[0]).dtype != "float32":
            return None
        from .elementwise_binary import clamp_f32
        with np.errstate(all="ignore"):
            r = np.asarray(inputs[0], np.float32) + np.asarray(inputs[1], np.float32)
        return [clamp_f32(r, *activation_range_float(o.attrs["activation"]))]

    def reads_min(self, g, o, slot):
        """tcc_add.c walks the output in row-major order and reads each input once per output
        element, at its broadcast index: element k reads a[ia(k)] (or b[ib(k)])."""
        x, y = ir.tensor(g, o.inputs[slot]), ir.tensor(g, o.outputs[0])
        idx = np.arange(x.size, dtype=np.int64).reshape(x.shape) if x.shape else np.zeros((), np.int64)
        return np.broadcast_to(idx, y.shape).ravel()

    def emit(self, g, o, ctx):
        p = o.params
        dt = ir.tensor(g, o.outputs[0]).dtype
        if dt == "int32":
            fields = [("shape", p.broadcast), ("act_min", p.act_range[0]), ("act_max", p.act_range[1])]
            fn = ctype = "tcc_add_s32"
        elif dt != "float32":
            fields = [("shape", p.broadcast), ("in1_offset", p.offsets[0]), ("in2_offset", p.offsets[1]),
                      ("left_shift", LEFT_SHIFT[dt]),
                      ("in1_mult", p.in1[0]), ("in1_shift", p.in1[1]),
                      ("in2_mult", p.in2[0]), ("in2_shift", p.in2[1]),
                      ("out_mult", p.out[0]), ("out_shift", p.out[1]),
                      ("out_zp", p.offsets[2]), ("act_min", p.act_range[0]), ("act_max", p.act_range[1])]
            fn, ctype = KERNEL[dt], "tcc_add_s8"
        else:
            fields = [("shape", p.broadcast), ("act_min", p.act_range[0]), ("act_max", p.act_range[1])]
            fn = ctype = "tcc_add_f32"
        params = ctx.struct(o, f"{ctype}_params", fields)
        a, b = (ctx.buf(t) for t in o.inputs)
        ctx.call(o, f"{fn}(&{params}, {a}, {b}, {ctx.buf(o.outputs[0])});", self.kernel)
