"""EXPAND_DIMS (a view), SHAPE and FILL.

EXPAND_DIMS only inserts a size-1 dimension: the ``alias_reshapes`` pass turns it into a view
(same bytes, no code). SHAPE's output depends only on the (static) input shape, and FILL with a
constant value is constant too: a constant-folding pass can evaluate both (``evaluate``); when
they reach codegen, SHAPE copies its constant and FILL repeats its value (which may be computed
at run time) with ``tcc_copy``/``tcc_fill``.
"""
from __future__ import annotations

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..errors import TinyccError
from . import OpDef, register
from ._datamove import KERNEL, MOVABLE, const_ints, operand

OUT_TYPES = {2: "int32", 4: "int64"}


@register
class ExpandDims(OpDef):
    kind = "EXPAND_DIMS"
    options_class = tflite.ExpandDimsOptions
    is_view = True

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        axis = int(const_ints(self, g, o, 1, "axis").ravel()[0])
        rank = len(x.shape) + 1
        if not -rank <= axis < rank:
            raise self.fail(o, f"axis {axis} is out of range for output rank {rank}")
        want = list(x.shape)
        want.insert(axis % rank, 1)
        self.expect_shape(g, o, o.outputs[0], want)
        if x.dtype != y.dtype:
            raise self.fail(o, f"input is {x.dtype}, output {y.dtype}")
        if x.dtype != "float32" and x.quant != y.quant:
            raise self.fail(o, "input and output quantization differ")

    def output_shapes(self, g, o):
        x, axis = ir.tensor(g, o.inputs[0]).shape, ir.tensor(g, o.inputs[1])
        if not axis.is_const:
            return None
        shape = list(x)
        shape.insert(int(np.asarray(axis.data).ravel()[0]) % (len(x) + 1), 1)
        return [tuple(shape)]

    def evaluate(self, g, o, inputs):
        return [np.asarray(inputs[0]).reshape(ir.tensor(g, o.outputs[0]).shape)]


@register
class Shape(OpDef):
    kind = "SHAPE"
    options_class = tflite.ShapeOptions
    kernel = KERNEL
    value_inputs = ()   # the value depends on the input's shape only (fold_constants)

    def read_options(self, opts):
        code = opts.OutType() if opts is not None else 2
        if code not in OUT_TYPES:
            raise TinyccError(f"SHAPE out_type {code} is not supported (int32 or int64)")
        return dict(out_type=OUT_TYPES[code])

    def check(self, g, o):
        self.expect_arity(o, (1, 1))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if y.dtype not in ("int32", "int64"):
            raise self.fail(o, f"output type {y.dtype} is not int32 or int64", y.name)
        self.expect_shape(g, o, o.outputs[0], (len(x.shape),))

    def value(self, g, o) -> np.ndarray:
        y = ir.tensor(g, o.outputs[0])
        return np.array(ir.tensor(g, o.inputs[0]).shape, dtype=y.dtype)

    def evaluate(self, g, o, inputs):
        return [self.value(g, o)]

    def emit(self, g, o, ctx):
        y = ir.tensor(g, o.outputs[0])
        arr = ctx.const_array(o, "shape", ir.C_TYPE[y.dtype], self.value(g, o))
        ctx.call(o, f"tcc_copy({ctx.buf(o.outputs[0])}, {arr}, {y.nbytes});", self.kernel)


@register
class Fill(OpDef):
    kind = "FILL"
    options_class = tflite.FillOptions
    kernel = KERNEL

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        dims = const_ints(self, g, o, 0, "dims").ravel()
        v, y = ir.tensor(g, o.inputs[1]), ir.tensor(g, o.outputs[0])
        if v.size != 1:
            raise self.fail(o, f"value must be a scalar, has shape {list(v.shape)}", v.name)
        if v.dtype != y.dtype or y.dtype not in MOVABLE:
            raise self.fail(o, f"value is {v.dtype}, output {y.dtype}", y.name)
        self.expect_shape(g, o, o.outputs[0], [int(d) for d in dims])

    def evaluate(self, g, o, inputs):
        y = ir.tensor(g, o.outputs[0])
        return [np.full(y.shape, np.asarray(inputs[1]).ravel()[0], dtype=np.asarray(inputs[1]).dtype)]

    def emit(self, g, o, ctx):
        y = ir.tensor(g, o.outputs[0])
        ctx.call(o, f"tcc_fill({ctx.buf(o.outputs[0])}, {operand(ctx, o, o.inputs[1], 'value')}, {y.size}, "
                    f"{ir.DTYPE_SIZE[y.dtype]});", self.kernel)
