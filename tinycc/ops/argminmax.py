"""ARG_MAX and ARG_MIN along one constant axis; int8 or float32 input, int32 or int64 output.

TFLite's ArgMinMax: the index of the first largest (smallest) value, strict comparison.
Runs on the reduction kernel with the axis as the only reduced dim.
"""
from __future__ import annotations

from dataclasses import replace

from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..errors import TinyccError
from . import register
from .reduce import Reduction

OUT_TYPES = {2: "int32", 4: "int64"}


class ArgMinMax(Reduction):
    is_min = 0

    def read_options(self, opts):
        code = opts.OutputType() if opts is not None else 4
        if code not in OUT_TYPES:
            raise TinyccError(f"{self.kind} output type {code} is not supported (int32 or int64)")
        return dict(output_type=OUT_TYPES[code], keep_dims=False)

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if x.dtype not in ("int8", "float32"):
            raise self.fail(o, f"input type {x.dtype} is not supported (int8 or float32)", x.name)
        if y.dtype not in ("int32", "int64"):
            raise self.fail(o, f"output type {y.dtype} is not int32 or int64", y.name)
        if len(self.axes(g, o)) != 1:
            raise self.fail(o, "expects exactly one axis")
        self.expect_shape(g, o, o.outputs[0], self.out_shape(g, o))

    def function(self, g, o):
        return "tcc_arg_minmax_" + ("s8" if ir.tensor(g, o.inputs[0]).dtype == "int8" else "f32")

    def extra_fields(self, g, o):
        out64 = int(ir.tensor(g, o.outputs[0]).dtype == "int64")
        return [("in_zp", 0), ("mult", 0), ("shift", 0), ("out_zp", 0), ("is_min", self.is_min), ("out64", out64)]

    def prepare(self, g, o):
        return replace(super().prepare(g, o), copy=False)


@register
class ArgMax(ArgMinMax):
    kind = "ARG_MAX"
    options_class = tflite.ArgMaxOptions


@register
class ArgMin(ArgMinMax):
    kind = "ARG_MIN"
    options_class = tflite.ArgMinOptions
    is_min = 1
