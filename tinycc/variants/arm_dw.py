"""arm_dw: int8 DEPTHWISE_CONV_2D with depth multiplier 1, any window, stride, dilation and padding
(tcc_arm_depthwise_s8 in runtime/kernels/arm/tcc_arm_depthwise.c): per output pixel 4 channels at
a time, SXTB16 on a word of 4 input channels against int16 weight pairs; no scratch
(``packing.pack_depthwise``)."""
from __future__ import annotations

from .. import ir, packing
from ..ops.depthwise_conv2d import DepthwiseConv2D
from . import Variant, register


def depthwise_int8_mult1(g, o) -> bool:
    """int8 activations and depth multiplier 1: what the fast depthwise kernels compute."""
    return ir.tensor(g, o.inputs[0]).dtype == "int8" and o.params.depth_mult == 1


def common_fields(g, o) -> list:
    """The leading fields of tcc_arm_depthwise_s8_params and tcc_arm_depthwise3x3_s8_params."""
    p = o.params
    return [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("channels", ir.tensor(g, o.inputs[0]).shape[3]),
            ("out_h", p.out_h), ("out_w", p.out_w)]


@register
class ArmDepthwise(Variant):
    name = "arm_dw"
    kinds = (DepthwiseConv2D.kind,)
    sources = ("arm/tcc_arm_depthwise",)
    entries = ("tcc_arm_depthwise_s8",)
    cycles_per_mac = 16.5         # tinycc bench on vww_96_int8 (12 instructions per MAC; 2.0 was instructions long ago)

    def applies(self, g, o, target):
        return depthwise_int8_mult1(g, o)

    def pack(self, g, o):
        p, w = o.params, ir.tensor(g, o.inputs[1])
        return packing.ArmDepthwise(**packing.pack_depthwise(w.data, p.bias, p.mult, p.shift, p.out_zp))

    def reads_min(self, g, o, slot, pk):
        """Per output pixel, groups of 4 channels each read their window, then write
        (packing.reads_min_depthwise)."""
        if slot != 0:
            return None
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        return packing.reads_min_depthwise(p.batches, p.in_h, p.in_w, x.shape[3], p.out_h, p.out_w,
                                           w.shape[1], w.shape[2], a["stride_h"], a["stride_w"], p.pad_top,
                                           p.pad_left, a["dilation_h"], a["dilation_w"])

    def emit(self, g, o, ctx, pk):
        w = ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        fields = common_fields(g, o) + [
            ("k_h", w.shape[1]), ("k_w", w.shape[2]), ("stride_h", a["stride_h"]),
            ("stride_w", a["stride_w"]), ("dil_h", a["dilation_h"]), ("dil_w", a["dilation_w"]),
            ("pad_top", p.pad_top), ("pad_left", p.pad_left), ("in_zp", p.in_zp),
            ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
            ("weights", ctx.const_array(o, "weights", "int32_t", pk.weights)),
            ("bias", ctx.const_array(o, "bias", "int32_t", pk.bias)),
            ("rq", ctx.const_records(o, "rq", "tcc_arm_rq", pk.rq))]
        params = ctx.struct(o, "tcc_arm_depthwise_s8_params", fields)
        self.call(ctx, o, f"tcc_arm_depthwise_s8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});")
