"""arm_avg_pool: int8 AVERAGE_POOL_2D, 4 channels at a time with SXTAB16 sums in int16 lanes
(tcc_arm_avg_pool_s8 in runtime/kernels/arm/tcc_arm_pool.c); the plain kernel's parameters
(``tcc_pool_params``), nothing packed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .. import ir, packing
from ..ops.pool2d import AveragePool2D
from . import Packed, Variant, register

# estimated Cortex-M4 cycles per output element and per window tap (tinycc bench on the shared
# models' global pools: kws 25x5 on 64 channels 20,666, ic 8x8 on 64 12,026, within 5 %; vww 3x3
# on 256 17,370, 35 % over)
CYCLES = (75, 1.9)
PLAIN_CYCLES = (90, 10)   # tcc_avg_pool_s8


@dataclass(frozen=True, eq=False)
class ArmAvgPoolPacked(Packed):
    impl: ClassVar[str] = "arm_avg_pool"


def _cost(g, o, per_out: int, per_tap: int) -> int:
    y, a = ir.tensor(g, o.outputs[0]), o.attrs
    return y.size * (per_out + per_tap * a["filter_h"] * a["filter_w"])


@register
class ArmAvgPool(Variant):
    name = "arm_avg_pool"
    kinds = (AveragePool2D.kind,)
    sources = ("arm/tcc_arm_pool",)
    entries = ("tcc_arm_avg_pool_s8",)

    def applies(self, g, o, target):
        return ir.tensor(g, o.inputs[0]).dtype == "int8"

    def pack(self, g, o):
        return ArmAvgPoolPacked()

    def cycles(self, g, o, pk):
        return _cost(g, o, *CYCLES)

    def plain_cycles(self, g, o):
        return _cost(g, o, *PLAIN_CYCLES)

    def reads_min(self, g, o, slot, pk):
        """Per output pixel, groups of 4 channels (then single channels) each read their window,
        then written (packing.reads_min_avg_pool)."""
        p, a = o.params, o.attrs
        return packing.reads_min_avg_pool(p.batches, p.in_h, p.in_w, p.channels, p.out_h, p.out_w,
                                          a["filter_h"], a["filter_w"], a["stride_h"], a["stride_w"], p.pad_top,
                                          p.pad_left)

    def emit(self, g, o, ctx, pk):
        params = ctx.struct(o, "tcc_pool_params", AveragePool2D().fields(o))
        self.call(ctx, o, f"tcc_arm_avg_pool_s8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});")
