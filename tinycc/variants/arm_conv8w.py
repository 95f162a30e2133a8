"""arm_conv8w: arm_conv8 with the weights widened to int16 pair words (tcc_arm_conv8w_s8 in
runtime/kernels/arm/tcc_arm_conv8.c): the same blocks, scratch and write order, 24 cycles per
group of 24 MACs instead of 26 (no SXTB16 of the weights), for twice the weights' flash. It is what pack_weights buys with the flash budget where the cycles saved per
byte are many (layers with few weights and many pixels)."""
from __future__ import annotations

from . import register
from .arm_conv8 import CYCLES_PAIR, ArmConv8

CYCLES_GROUP_WIDE = 24          # tcc_arm_conv8.c: C8W_HALF, twice
CYCLES_PAIR_WIDE = CYCLES_PAIR     # the same requantization (the stream's layout is also the palette's, tcc_arm_palette.c)


@register
class ArmConv8W(ArmConv8):
    name = "arm_conv8w"
    entries = ("tcc_arm_conv8w_s8",)
    wide = True
    group_cycles = CYCLES_GROUP_WIDE
    pair_cycles = CYCLES_PAIR_WIDE
