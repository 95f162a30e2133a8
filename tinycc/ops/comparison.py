"""Comparisons EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL (bool output) and
SELECT_V2, with numpy broadcasting (up to 6-D); int8 (per-tensor), float32, and int32 and int64
for the comparisons (raw values: loop counters of WHILE conditions, indices), bool for EQUAL and
NOT_EQUAL: the types TFLite Micro's comparisons.cc takes; int16 as TFLite compares it (raw values,
the quantization ignored; TFLite Micro's GREATER takes int16 but writes false everywhere).

int8 comparisons (TFLite Micro comparisons.cc, reference ComparisonWithScaling): each side
becomes requantize((q - zp) << 8, its own scale as a multiplier < 1) and the two int32
values are compared, so inputs on different scales compare by real value (up to that
rounding). TFLite Micro aborts on an input scale >= 1 (QuantizeMultiplierSmallerThanOneExp);
tinycc refuses it. float32: C comparison. The output is one byte per element, 0 or 1.

SELECT_V2 (select.cc): out = cond ? x : y, elements copied (for int8 without
requantization: x, y and the output share one quantization in converted models): int8, int16
and float32 checked against TFLite Micro; bool, uint8, int32 and int64 (which TFLite Micro
refuses) against TFLite. Broadcasting over the three operands.
SELECT (TFLite's v1; TFLite Micro has none, so it is checked against TFLite's reference kernels):
x and y of one shape, the condition of that shape, a scalar, or rank 1 along the first axis
(TFLite's RankOneSelect).

Element k's inputs are read just before out[k] is written (``reads_min``).
"""
from __future__ import annotations

import numpy as np

from .. import ir, quant
from . import OpDef, register
from .elementwise_binary import MAX_DIMS, bcast_fields, bcast_init, broadcast_reads, check_broadcast

LEFT_SHIFT = 8


SUFFIX = {"int8": "s8", "int16": "s16", "int32": "s32", "int64": "s64", "bool": "b8", "float32": "f32"}


class _Compare(OpDef):
    kernel = "tcc_binary"
    fn = ""
    raw_types: tuple[str, ...] = ("int32", "int64", "int16")   # compared as they are

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        dt = check_broadcast(self, g, o, (0, 1), out_dtype="bool", ints=self.raw_types)
        if dt == "int8":
            for t in (ir.tensor(g, i) for i in o.inputs):
                if not 0.0 < t.quant.scale[0] < 1.0:
                    raise self.fail(o, "int8 input scale must be in (0, 1) (TFLite Micro's limit)", t.name)

    def tflm_reference_reliable(self, g, o):
        """TFLite Micro compares no int16 (its GREATER takes int16 and writes false everywhere):
        TFLite, which compares the raw values, checks them."""
        return ir.tensor(g, o.inputs[0]).dtype != "int16"

    def reads_min(self, g, o, slot):
        return broadcast_reads(g, o, slot)

    def emit(self, g, o, ctx):
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        if a.dtype == "int8":
            m1 = quant.quantize_multiplier(float(a.quant.scale[0]))
            m2 = quant.quantize_multiplier(float(b.quant.scale[0]))
            params = ctx.struct(o, "tcc_compare_s8_params", [
                ("shape", bcast_init(y.shape, a.shape, b.shape)), ("left_shift", LEFT_SHIFT),
                ("in1_offset", -int(a.quant.zero_point[0])), ("in1_mult", m1[0]), ("in1_shift", m1[1]),
                ("in2_offset", -int(b.quant.zero_point[0])), ("in2_mult", m2[0]), ("in2_shift", m2[1])])
        else:
            params = ctx.struct(o, "tcc_bcast", bcast_fields(y.shape, a.shape, b.shape))
        fn = f"tcc_{self.fn}_{SUFFIX[a.dtype]}"
        ins = ", ".join(ctx.buf(t) for t in o.inputs)
        ctx.call(o, f"{fn}(&{params}, {ins}, {ctx.buf(o.outputs[0])});", self.kernel)


# TFLite Micro's comparisons.cc: bool for EQUAL and NOT_EQUAL too
for _kind, _facts in (("EQUAL", dict(raw_types=("int32", "int64", "int16", "bool"))),
                      ("NOT_EQUAL", dict(raw_types=("int32", "int64", "int16", "bool"))),
                      ("GREATER", {}), ("GREATER_EQUAL", {}), ("LESS", {}), ("LESS_EQUAL", {})):
    register(type(_kind.title().replace("_", ""), (_Compare,), dict(kind=_kind, fn=_kind.lower(), **_facts)))


@register
class SelectV2(OpDef):
    kind = "SELECT_V2"
    kernel = "tcc_binary"
    types = ("bool", "uint8", "int8", "int16", "int32", "int64", "float32")
    tflm_types = ("int8", "int16", "float32")     # TFLite Micro's select.cc; TFLite's for the rest

    def cond_shape(self, g, o) -> tuple:
        """The condition's shape as the kernel broadcasts it."""
        return tuple(ir.tensor(g, o.inputs[0]).shape)

    def check(self, g, o):
        self.expect_arity(o, (3, 3))
        c, a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        if c.dtype != "bool":
            raise self.fail(o, "condition must be bool", c.name)
        if a.dtype not in self.types:
            raise self.fail(o, f"type {a.dtype} is not supported ({', '.join(self.types)})", a.name)
        for t in (b, y):
            if t.dtype != a.dtype:
                raise self.fail(o, f"mixed types {a.dtype} and {t.dtype}", t.name)
        try:
            shape = np.broadcast_shapes(self.cond_shape(g, o), a.shape, b.shape)
        except ValueError:
            raise self.fail(o, f"shapes {list(c.shape)}, {list(a.shape)}, {list(b.shape)} do not broadcast") from None
        if tuple(shape) != tuple(y.shape) or len(y.shape) > MAX_DIMS:
            raise self.fail(o, f"output shape {list(y.shape)} must be the broadcast shape {list(shape)}, "
                               f"at most {MAX_DIMS}-D", y.name)

    def reads_min(self, g, o, slot):
        if slot == 0:
            y = ir.tensor(g, o.outputs[0])
            idx = np.arange(int(np.prod(self.cond_shape(g, o), dtype=np.int64)), dtype=np.int64)
            return np.broadcast_to(idx.reshape(self.cond_shape(g, o)), y.shape).ravel()
        return broadcast_reads(g, o, slot)

    def evaluate(self, g, o, inputs):
        c, a, b = (np.asarray(v) for v in inputs)
        return [np.where(c.reshape(self.cond_shape(g, o)).astype(bool), a, b)]

    def emit(self, g, o, ctx):
        c, a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        params = ctx.struct(o, "tcc_bcast3", bcast_fields(y.shape, self.cond_shape(g, o), a.shape, b.shape,
                                                         names=("c_strides", "a_strides", "b_strides")))
        ins = ", ".join(ctx.buf(t) for t in o.inputs)
        ctx.call(o, f"tcc_select(&{params}, {ins}, {ctx.buf(o.outputs[0])}, {ir.DTYPE_SIZE[y.dtype]});", self.kernel)

    def tflm_reference_reliable(self, g, o):
        """TFLite Micro selects int8, int16 and float32 only: TFLite checks the other types."""
        return ir.tensor(g, o.outputs[0]).dtype in self.tflm_types


@register
class Select(SelectV2):
    kind = "SELECT"
    tflm_types = ()

    def cond_shape(self, g, o):
        c, x = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        if len(c.shape) == 1 and len(x.shape) > 1 and c.shape[0] == x.shape[0]:
            return (c.shape[0],) + (1,) * (len(x.shape) - 1)      # RankOneSelect
        return tuple(c.shape)

    def check(self, g, o):
        super().check(g, o)
        c, a, b = (ir.tensor(g, t) for t in o.inputs)
        if tuple(a.shape) != tuple(b.shape):
            raise self.fail(o, f"x {list(a.shape)} and y {list(b.shape)} must have one shape", b.name)
        rank_one = len(c.shape) == 1 and len(a.shape) >= 1 and c.shape[0] == a.shape[0]
        if c.shape and tuple(c.shape) != tuple(a.shape) and not rank_one:
            raise self.fail(o, f"condition {list(c.shape)} must be a scalar, of shape {list(a.shape)} or rank 1 "
                               f"along the first axis", c.name)

