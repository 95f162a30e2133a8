"""ADD_N: the element-wise sum of N >= 2 inputs of one shape, float32 and int8 (TFLite Micro
add_n.cc and reference add_n.h).

float32: x = 0, then x += in_j[i] for j in input order.
int8 (every input of one scale and zero point, as TFLite Micro requires; no activation):
each term (q - zp) << 20 is rescaled by 1/2 (the common scale 2 s), the N terms are summed
in int32 and the sum rescaled by 2 s / (2^20 s_out), + zp_out, clamped to int8. TFLite
Micro's accumulator starts from the rescaled term of -zp rather than 0 (its reference code
sets x = input1_offset), so the kernel does too: bit-exact, quirk included.

The kernel (tcc_add.c) reads element i of every input just before writing out[i]
(``reads_min``), so the output may be computed over a dying input.
"""
from __future__ import annotations

import numpy as np

from .. import ir, quant
from . import OpDef, register
from .add import LEFT_SHIFT_INT8


@register
class AddN(OpDef):
    kind = "ADD_N"
    kernel = "tcc_add"

    def check(self, g, o):
        if len(o.inputs) < 2 or any(t is None for t in o.inputs):
            raise self.fail(o, f"expects at least 2 inputs, has {len(o.inputs)}")
        self.expect_arity(o, (len(o.inputs), len(o.inputs)))
        dt = self.dtype_of(g, o)
        first = ir.tensor(g, o.inputs[0])
        for t in [*o.inputs[1:], o.outputs[0]]:
            self.expect_shape(g, o, t, first.shape)
        if dt == "int8":
            for t in (ir.tensor(g, t) for t in o.inputs[1:]):
                if t.dtype != dt:
                    raise self.fail(o, f"mixed types {dt} and {t.dtype}", t.name)
                if (np.float32(t.quant.scale[0]) != np.float32(first.quant.scale[0])
                        or t.quant.zero_point[0] != first.quant.zero_point[0]):
                    raise self.fail(o, "int8 inputs need one scale and zero point (TFLite Micro's rule)", t.name)
        elif any(ir.tensor(g, t).dtype != dt for t in o.inputs):
            raise self.fail(o, "inputs of mixed types")

    def reads_min(self, g, o, slot):
        return np.arange(ir.tensor(g, o.outputs[0]).size, dtype=np.int64)

    def evaluate(self, g, o, inputs):
        if ir.tensor(g, o.outputs[0]).dtype != "float32":
            return None
        x = np.zeros(np.shape(inputs[0]), np.float32)
        for v in inputs:
            x = (x + np.asarray(v, np.float32)).astype(np.float32)
        return [x]

    def emit(self, g, o, ctx):
        y = ir.tensor(g, o.outputs[0])
        ctype = ir.C_TYPE[y.dtype]
        ins = ", ".join(ctx.buf(t) for t in o.inputs)
        k = len(o.inputs)
        if y.dtype == "float32":
            call = f"tcc_add_n_f32(in, {k}, {ctx.buf(o.outputs[0])}, {y.size});"
        else:
            x = ir.tensor(g, o.inputs[0])
            s_in, s_out = float(np.float32(x.quant.scale[0])), float(np.float32(y.quant.scale[0]))
            m_in = quant.quantize_multiplier(s_in / (2.0 * s_in))
            m_out = quant.quantize_multiplier(2.0 * s_in / ((1 << LEFT_SHIFT_INT8) * s_out))
            params = ctx.struct(o, "tcc_add_n_s8_params", [
                ("size", y.size), ("in_offset", -int(x.quant.zero_point[0])), ("left_shift", LEFT_SHIFT_INT8),
                ("in_mult", m_in[0]), ("in_shift", m_in[1]), ("out_mult", m_out[0]), ("out_shift", m_out[1]),
                ("out_zp", int(y.quant.zero_point[0])), ("act_min", -128), ("act_max", 127)])
            call = f"tcc_add_n_s8(&{params}, in, {k}, {ctx.buf(o.outputs[0])});"
        ctx.call(o, f"{{\n        const {ctype} *const in[{k}] = {{{ins}}};\n        {call}\n    }}", self.kernel)
