"""arm_add: int8 ADD of two same-shape tensors through per-input tables (tcc_arm_add_s8 in
runtime/kernels/arm/tcc_arm_add.c): each input byte indexes a table of its rescaled value, the
sum is requantized once (``packing.pack_add``)."""
from __future__ import annotations

from .. import ir, packing
from ..ops.add import LEFT_SHIFT_INT8, Add
from . import Variant, register

# tinycc bench, cortex-m4 estimated cycles per element
CYCLES_PER_ELEMENT = 13      # tcc_arm_add_s8 (asm loop): ic_resnet8_int8's ADDs with a clamp, 12.8
PLAIN_CYCLES_PER_ELEMENT = 161   # tcc_add_s8 (broadcast loops, two requantizations): tests/zoo/add_int8.tflite


@register
class ArmAdd(Variant):
    name = "arm_add"
    kinds = (Add.kind,)
    sources = ("arm/tcc_arm_add",)
    entries = ("tcc_arm_add_s8",)

    def applies(self, g, o, target):
        a, b, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        return y.dtype == "int8" and a.shape == b.shape and not a.is_const and not b.is_const

    def pack(self, g, o):
        p = o.params
        pk = packing.pack_add(p.offsets[0], p.offsets[1], LEFT_SHIFT_INT8, *p.in1, *p.in2, *p.out, p.offsets[2])
        return packing.ArmAdd(size=ir.tensor(g, o.outputs[0]).size, **pk)

    def cycles(self, g, o, pk):
        return CYCLES_PER_ELEMENT * pk.size

    def plain_cycles(self, g, o):
        return PLAIN_CYCLES_PER_ELEMENT * ir.tensor(g, o.outputs[0]).size

    def reads_min(self, g, o, slot, pk):
        """Element i of each input is read right before output element i is written."""
        return packing.reads_min_add(pk.size)

    def emit(self, g, o, ctx, pk):
        p = o.params
        rq = "{" + ", ".join(str(int(v)) for v in pk.rq) + "}"
        fields = [("size", pk.size), ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                  ("table", ctx.const_array(o, "table", "int32_t", pk.table)), ("rq", rq)]
        params = ctx.struct(o, "tcc_arm_add_s8_params", fields)
        a, b = (ctx.buf(t) for t in o.inputs)
        self.call(ctx, o, f"tcc_arm_add_s8(&{params}, {a}, {b}, {ctx.buf(o.outputs[0])});")
