"""TOPK_V2: the k largest values along the last axis, largest first, and their int32 indices.

TFLite Micro has no TOPK_V2: it is checked against TFLite's reference kernels (topk_v2.cc),
whose order is by decreasing value, equal values by increasing index. k is a constant. Types:
float32, int8 (the values keep the input's quantization), uint8, int16, int32, int64.

The kernel (runtime/kernels/tcc_topk.c) keeps each row's best k sorted in the outputs while
it scans the row: an element moves up past the kept ones it strictly beats (a later element
never beats an equal earlier one), so it needs no scratch.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from . import OpDef, register
from ._datamove import const_ints, same_quant

SUFFIX = {"float32": "f32", "int8": "s8", "uint8": "u8", "int16": "s16", "int32": "s32", "int64": "s64"}


@register
class TopKV2(OpDef):
    kind = "TOPK_V2"
    kernel = "tcc_topk"
    unread_inputs = frozenset({1})     # k: only its constant value

    def k(self, g, o) -> int:
        k = const_ints(self, g, o, 1, "k").ravel()
        if k.size != 1:
            raise self.fail(o, f"k must be one value, has {k.size}", ir.tensor(g, o.inputs[1]).name)
        return int(k[0])

    def check(self, g, o):
        self.expect_arity(o, (2, 2), 2)
        x, values, indices = (ir.tensor(g, t) for t in (o.inputs[0], *o.outputs))
        if x.dtype not in SUFFIX or values.dtype != x.dtype:
            raise self.fail(o, f"type {x.dtype} -> {values.dtype} is not supported "
                               f"({', '.join(SUFFIX)}, values of the input's type)", x.name)
        if indices.dtype != "int32":
            raise self.fail(o, f"indices of type {indices.dtype} are not supported (int32)", indices.name)
        if not same_quant(x, values):
            raise self.fail(o, "values need the input's quantization", values.name)
        if not x.shape:
            raise self.fail(o, "input must have at least one dimension", x.name)
        k = self.k(g, o)
        if not 1 <= k <= x.shape[-1]:
            raise self.fail(o, f"k = {k} is not in [1, {x.shape[-1]}]")
        for t in o.outputs:
            self.expect_shape(g, o, t, (*x.shape[:-1], k))

    def tflm_reference_reliable(self, g, o):
        """TFLite Micro has no TOPK_V2: TFLite's reference kernels check it."""
        return False

    def evaluate(self, g, o, inputs):
        x = np.asarray(inputs[0])
        k = self.k(g, o)
        order = np.argsort(-x.astype(np.float64), axis=-1, kind="stable")[..., :k]
        return [np.take_along_axis(x, order, axis=-1), order.astype(np.int32)]

    def emit(self, g, o, ctx):
        x = ir.tensor(g, o.inputs[0])
        n = x.shape[-1]
        rows = x.size // n if n else 0
        ctx.call(o, f"tcc_topk_{SUFFIX[x.dtype]}({ctx.buf(o.inputs[0])}, {rows}, {n}, {self.k(g, o)}, "
                    f"{ctx.buf(o.outputs[0])}, {ctx.buf(o.outputs[1])});", self.kernel)
