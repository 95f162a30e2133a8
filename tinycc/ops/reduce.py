"""MEAN, SUM, REDUCE_MAX, REDUCE_MIN over constant axes (keep_dims or not), int8 and float32; MEAN
and SUM also int16.

The kernel (tcc_reduce.c) sees the input as kept dims (the output, row-major) and reduced dims,
each merged where adjacent and padded to 6. int8 MEAN/SUM follow TFLite's integer
QuantizedMeanOrSum: the multiplier of in_scale / out_scale (QuantizeMultiplier, double), for
MEAN with 1/n folded in: shift = min(floor(log2 n), 32, 31 + shift_out), mult = (mult << shift)
/ n, shift_out -= shift. An empty axis list copies the input (TFLite's ReduceIsCopy).
int8 REDUCE_MAX/MIN need the same input and output quantization (as TFLite Micro requires).
int16 MEAN/SUM (zero points 0): the same arithmetic (QuantizedMeanOrSum with int16 data), clamped
to int16. TFLite Micro's REDUCE_MAX fails on int16: refused.
uint8 MEAN (fully-uint8 models; TFLite Micro has no uint8 reduction, so the reference is TFLite):
TFLite's uint8 reference kernel is the same integer QuantizedMeanOrSum on uint8 data, clamped to
[0, 255] (its 4-D H, W keep_dims and equal-quantization cases included; measured equal on 2,400
outputs of 14 cases, where TFLite's optimized kernels differ on 98). Other uint8 reductions are
refused in one line.
REDUCE_ALL (bool only, as TFLite Micro): the logical AND of the reduced elements, the kernel
a running minimum of 0/1 bytes from 1 (true for an empty reduction).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from . import OpDef, register
from . import _uint8
from ._datamove import KERNEL as COPY_KERNEL, const_ints, operand

MAX_DIMS = 6
SUFFIX = {"int8": "s8", "int16": "s16", "uint8": "u8", "float32": "f32"}   # of the kernel functions


@dataclass(frozen=True, eq=False, kw_only=True)
class ReduceParams(ir.Params):
    """The reduction ops (and ARG_MAX/ARG_MIN): tcc_reduce_params' layout fields, the count of
    reduced elements, ``copy`` for an empty axis list, and int8 MEAN/SUM's requantization
    (in_zp, mult, shift, out_zp)."""
    fields: list
    count: int
    copy: bool
    requant: tuple | None = None


def reduce_layout(shape, axes) -> tuple[list, list]:
    """(kept, reduced): lists of (size, input stride) after dropping size-1 dims and merging
    neighbours of the same kind, padded to MAX_DIMS at the front with (1, 0)."""
    shape = list(shape)
    strides = [int(np.prod(shape[d + 1:], dtype=np.int64)) for d in range(len(shape))]
    groups = []   # [reduced?, size, stride]
    for d, (n, s) in enumerate(zip(shape, strides)):
        if n == 1:
            continue
        red = d in axes
        if groups and groups[-1][0] == red and groups[-1][2] == n * s:
            groups[-1][1] *= n
            groups[-1][2] = s
        else:
            groups.append([red, n, s])
    kept = [(n, s) for red, n, s in groups if not red]
    reduced = [(n, s) for red, n, s in groups if red]
    if len(kept) > MAX_DIMS or len(reduced) > MAX_DIMS:
        raise ValueError("too many dimensions")
    pad = lambda v: [(1, 0)] * (MAX_DIMS - len(v)) + v
    return pad(kept), pad(reduced)


class Reduction(OpDef):
    kernel = "tcc_reduce"
    options_class = tflite.ReducerOptions
    c_name = ""          # tcc_reduce_<c_name>_s8 / _f32

    def read_options(self, opts):
        return dict(keep_dims=bool(opts.KeepDims()) if opts is not None else False)

    def axes(self, g, o) -> list[int]:
        x = ir.tensor(g, o.inputs[0])
        rank = len(x.shape)
        axes = []
        for a in const_ints(self, g, o, 1, "axis").ravel():
            if not -rank <= a < rank:
                raise self.fail(o, f"axis {a} is out of range for rank {rank}")
            if int(a) % rank not in axes:
                axes.append(int(a) % rank)
        return axes

    def out_shape(self, g, o):
        x = ir.tensor(g, o.inputs[0])
        axes = self.axes(g, o)
        if o.attrs.get("keep_dims"):
            return [1 if d in axes else n for d, n in enumerate(x.shape)]
        return [n for d, n in enumerate(x.shape) if d not in axes]

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        dt = self.dtype_of(g, o, int16=self.int16)
        self.expect_shape(g, o, o.outputs[0], self.out_shape(g, o))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        try:
            reduce_layout(x.shape, self.axes(g, o))
        except ValueError:
            raise self.fail(o, f"input {list(x.shape)} has too many dimensions") from None
        if dt != "float32" and self.same_quant_required and (
                np.float32(x.quant.scale[0]) != np.float32(y.quant.scale[0])
                or x.quant.zero_point[0] != y.quant.zero_point[0]):
            raise self.fail(o, f"{dt} input and output quantization must be equal")

    same_quant_required = False
    int16 = False        # an int16 kernel (tcc_reduce_<c_name>_s16)
    uint8 = False        # a uint8 kernel (tcc_reduce_<c_name>_u8)

    def dtype_of(self, g, o, int16=False):
        if self.uint8 and ir.tensor(g, o.inputs[0]).dtype == "uint8":
            _uint8.check_tensors(self, g, o, (o.inputs[0], o.outputs[0]))
            return "uint8"
        return super().dtype_of(g, o, int16=int16)

    def tflm_reference_reliable(self, g, o):
        return ir.tensor(g, o.inputs[0]).dtype != "uint8"      # TFLite Micro has no uint8 reduction

    def fields(self, g, o):
        x = ir.tensor(g, o.inputs[0])
        kept, red = reduce_layout(x.shape, self.axes(g, o))
        count = int(np.prod([n for n, _ in red]))
        f = [("kdims", _arr(n for n, _ in kept)), ("kstrides", _arr(s for _, s in kept)),
             ("rdims", _arr(n for n, _ in red)), ("rstrides", _arr(s for _, s in red)), ("count", count)]
        return f, count

    def prepare(self, g, o):
        fields, count = self.fields(g, o)
        return ReduceParams(fields=fields, count=count, copy=not self.axes(g, o))

    def emit(self, g, o, ctx):
        y = ir.tensor(g, o.outputs[0])
        if o.params.copy:
            src = operand(ctx, o, o.inputs[0], "data")
            ctx.call(o, f"tcc_copy({ctx.buf(o.outputs[0])}, {src}, {y.nbytes});", COPY_KERNEL)
            return
        fields = o.params.fields + self.extra_fields(g, o)
        params = ctx.struct(o, "tcc_reduce_params", fields)
        src = operand(ctx, o, o.inputs[0], "data")
        ctx.call(o, f"{self.function(g, o)}(&{params}, {src}, {ctx.buf(o.outputs[0])});", self.kernel)

    def function(self, g, o) -> str:
        return f"tcc_reduce_{self.c_name}_" + SUFFIX[ir.tensor(g, o.inputs[0]).dtype]

    def extra_fields(self, g, o):
        return [("in_zp", 0), ("mult", 0), ("shift", 0), ("out_zp", 0), ("is_min", 0), ("out64", 0)]

    def reads_min(self, g, o, slot):
        """tcc_reduce.c writes the output in order; output k reads its reduced elements, the
        first (lowest) at the kept coordinates with every reduced coordinate 0."""
        if slot != 0 or o.params.copy:
            return None
        x = ir.tensor(g, o.inputs[0])
        axes = self.axes(g, o)
        idx = np.arange(x.size, dtype=np.int64).reshape(x.shape)
        sl = tuple(slice(0, 1) if d in axes else slice(None) for d in range(len(x.shape)))
        return idx[sl].ravel()


def _arr(values) -> str:
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


class MeanOrSum(Reduction):
    is_mean = False
    int16 = True

    def prepare(self, g, o):
        p = super().prepare(g, o)
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if x.dtype != "float32" and not p.copy:
            mult, shift = quant.quantize_multiplier(float(np.float32(x.quant.scale[0])) /
                                                    float(np.float32(y.quant.scale[0])))
            n = p.count
            if self.is_mean:
                s = min(n.bit_length() - 1, 32, 31 + shift)
                mult = (mult << s) // n
                shift -= s
            p = replace(p, requant=(x.quant.zero_point[0], mult, shift, y.quant.zero_point[0]))
        return p

    def extra_fields(self, g, o):
        if o.params.requant is None:
            return super().extra_fields(g, o)
        zi, m, s, zo = o.params.requant
        return [("in_zp", zi), ("mult", m), ("shift", s), ("out_zp", zo), ("is_min", 0), ("out64", 0)]


@register
class Mean(MeanOrSum):
    kind = "MEAN"
    is_mean = True
    uint8 = True

    def function(self, g, o):
        dt = ir.tensor(g, o.inputs[0]).dtype
        return "tcc_reduce_mean_f32" if dt == "float32" else "tcc_reduce_sum_" + SUFFIX[dt]


@register
class Sum(MeanOrSum):
    kind = "SUM"
    c_name = "sum"


@register
class ReduceMax(Reduction):
    kind = "REDUCE_MAX"
    c_name = "max"
    same_quant_required = True


@register
class ReduceMin(Reduction):
    kind = "REDUCE_MIN"
    c_name = "min"
    same_quant_required = True


@register
class ReduceAll(Reduction):
    kind = "REDUCE_ALL"
    c_name = "all"

    def dtype_of(self, g, o, int16=False):
        for t in (o.inputs[0], o.outputs[0]):
            if ir.tensor(g, t).dtype != "bool":
                raise self.fail(o, f"type {ir.tensor(g, t).dtype} is not supported (bool only, as TFLite Micro)",
                                ir.tensor(g, t).name)
        return "bool"

    def function(self, g, o):
        return "tcc_reduce_all_b8"

    def evaluate(self, g, o, inputs):
        axes = tuple(self.axes(g, o))
        return [np.all(np.asarray(inputs[0]).astype(bool), axis=axes, keepdims=bool(o.attrs.get("keep_dims")))
                .reshape(ir.tensor(g, o.outputs[0]).shape)]
