"""ADD: element-wise sum of two same-shape tensors with a fused activation."""
from __future__ import annotations

import tflite

from .. import ir, quant
from . import OpDef, activation, register

LEFT_SHIFT_INT8 = 20  # headroom bits TFLite gives int8 operands before rescaling


@register
class Add(OpDef):
    kind = "ADD"
    options_class = tflite.AddOptions
    kernel = "tcc_add"

    def read_options(self, opts):
        return dict(activation=activation(opts))

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        dt = self.dtype_of(g, o)
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        if b.dtype != dt or (dt == "int8" and (b.quant is None or b.quant.per_channel)):
            raise self.fail(o, f"second input must be {dt} with per-tensor quantization", b.name)
        if a.shape != b.shape or a.shape != y.shape:
            raise self.fail(o, f"broadcasting {list(a.shape)} + {list(b.shape)} -> {list(y.shape)} "
                               "is not supported yet (shapes must match)")

    def prepare(self, g, o):
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        p = dict(size=y.size)
        if y.dtype == "float32":
            p["act_range"] = quant.activation_range_float(o.attrs["activation"])
            return p
        sa, sb, sy = (float(t.quant.scale[0]) for t in (a, b, y))
        twice_max = 2 * max(sa, sb)
        p["in1"] = quant.quantize_multiplier(sa / twice_max)
        p["in2"] = quant.quantize_multiplier(sb / twice_max)
        p["out"] = quant.quantize_multiplier(twice_max / ((1 << LEFT_SHIFT_INT8) * sy))
        p["offsets"] = (-a.quant.zero_point[0], -b.quant.zero_point[0], y.quant.zero_point[0])
        p["act_range"] = quant.activation_range_int8(o.attrs["activation"], sy, y.quant.zero_point[0])
        return p

    def emit(self, g, o, ctx):
        p = o.params
        if ir.tensor(g, o.outputs[0]).dtype == "int8":
            fields = [("size", p["size"]), ("in1_offset", p["offsets"][0]), ("in2_offset", p["offsets"][1]),
                      ("left_shift", LEFT_SHIFT_INT8),
                      ("in1_mult", p["in1"][0]), ("in1_shift", p["in1"][1]),
                      ("in2_mult", p["in2"][0]), ("in2_shift", p["in2"][1]),
                      ("out_mult", p["out"][0]), ("out_shift", p["out"][1]),
                      ("out_zp", p["offsets"][2]), ("act_min", p["act_range"][0]), ("act_max", p["act_range"][1])]
            fn = "tcc_add_s8"
        else:
            fields = [("size", p["size"]), ("act_min", p["act_range"][0]), ("act_max", p["act_range"][1])]
            fn = "tcc_add_f32"
        params = ctx.struct(o, f"{fn}_params", fields)
        a, b = (ctx.buf(t) for t in o.inputs)
        ctx.call(o, f"{fn}(&{params}, {a}, {b}, {ctx.buf(o.outputs[0])});", self.kernel)
