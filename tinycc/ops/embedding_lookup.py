"""EMBEDDING_LOOKUP: out[i, ..] = value[ids[i], ..], int32 ids (input 0), value (input 1) of the
output's type (float32, int8 with the output's quantization as TFLite Micro; uint8, int16, int32,
int64 and bool as TFLite, checked against it; TFLite Micro's hybrid int8 value with float32 output
is not supported). The GATHER kernel along axis 0 (``tcc_gather_idx``): run-time
ids are checked against the rows, and an invoke with one outside fails as in TFLite Micro."""
from __future__ import annotations

import numpy as np

from .. import ir
from . import OpDef, register
from ._datamove import KERNEL, check_movable, operand, same_quant
from .gather import GatherParams


@register
class EmbeddingLookup(OpDef):
    kind = "EMBEDDING_LOOKUP"
    kernel = KERNEL

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        ids, value = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        check_movable(self, g, o, [o.inputs[1]])
        if not same_quant(value, ir.tensor(g, o.outputs[0])):
            raise self.fail(o, "value and output quantization must be equal", value.name)
        if ids.dtype != "int32" or len(ids.shape) != 1:
            raise self.fail(o, f"ids must be a 1-D int32 tensor, not {list(ids.shape)} {ids.dtype}", ids.name)
        if len(value.shape) < 2:
            raise self.fail(o, f"value must be at least 2-D, got {list(value.shape)}", value.name)
        self.expect_shape(g, o, o.outputs[0], (ids.shape[0], *value.shape[1:]))
        if ids.is_const and ids.size and (ids.data.min() < 0 or ids.data.max() >= value.shape[0]):
            raise self.fail(o, f"constant id outside [0, {value.shape[0]})", ids.name)

    def prepare(self, g, o):
        ids, value = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        inner = int(np.prod(value.shape[1:], dtype=np.int64))
        return GatherParams(desc=[ir.DTYPE_SIZE[value.dtype], 1, 1, value.shape[0], ids.size, inner])

    def emit(self, g, o, ctx):
        desc = ctx.const_array(o, "desc", "int32_t", o.params.desc)
        value, ids = operand(ctx, o, o.inputs[1], "value"), operand(ctx, o, o.inputs[0], "ids")
        ctx.call(o, f"if (tcc_gather_idx({desc}, {value}, {ids}, {ctx.buf(o.outputs[0])}) != 0) {{ return -1; }}",
                 self.kernel)

    def tflm_reference_reliable(self, g, o):
        """TFLite Micro looks up float32 and int8 values only: TFLite checks the other types."""
        return ir.tensor(g, o.inputs[1]).dtype in ("float32", "int8")

    def evaluate(self, g, o, inputs):
        return [np.asarray(inputs[1])[np.asarray(inputs[0], np.int64)]]
