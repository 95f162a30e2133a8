"""arm_svdf_s8_s16: the int8 SVDF with an int16 state for Cortex-M DSP cores
(runtime/kernels/arm/tcc_arm_svdf.c): the state shifted in words, the feature products four
filters at a time with SMLAD on weights widened to int16 here (flash: twice weights_feature),
their requantization with SMMLAR (``lstm_rq``'s record), the time products with SMLAD on int16
pairs. The plain kernel's params struct (``Svdf.c_params``, without its int8 weights_feature)
plus those two arrays. Needs a symmetric int16 state (zero point 0, as TFLite makes it); the
feature weights are zero-padded to a multiple of 4 inputs (the kernel makes the input's last
word once a row)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir
from ..ops.svdf import Svdf
from . import Packed, Variant, register
from .arm_lstm import lstm_rq
from .arm_s16 import pack_groups4

# Estimated Cortex-M4 cycles (tinycc.cycles' model), calibrated with tinycc bench on
# bench/seq_sweep.py's SVDF rows (40 inputs, 64 filters, memory 10: 13.5k measured, this model
# 14.1k; 20 x 16, memory 32: 5.1k, 4.8k; 64 x 128 rank 2, memory 32: 87.8k, 84.7k): per feature
# MAC, per time MAC, per state element shifted, per filter (requantization into the state), per
# unit (rank sums, requantization, store).
FEATURE_MAC_CYCLES = 1.5
TIME_MAC_CYCLES = 3.0
SHIFT_CYCLES = 2.0
FILTER_CYCLES = 40
UNIT_CYCLES = 70


@dataclass(frozen=True, eq=False)
class ArmSvdfPacked(Packed):
    impl: ClassVar[str] = "arm_svdf_s8_s16"
    wf16: np.ndarray         # int32 pair words (tcc_arm_svdf.h)
    rq1: np.ndarray          # int32 [4]: the state's requantization record


@register
class ArmSvdfS8S16(Variant):
    name = "arm_svdf_s8_s16"
    kinds = (Svdf.kind,)
    sources = ("arm/tcc_arm_svdf",)
    entries = ("tcc_arm_svdf_s8_s16",)

    def applies(self, g, o, target):
        x, st = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[4])
        return x.dtype == "int8" and st.dtype == "int16" and o.params.state_zp == 0

    def pack(self, g, o):
        p, wf = o.params, ir.tensor(g, o.inputs[1]).data
        padded = np.zeros((wf.shape[0], -(-wf.shape[1] // 4) * 4), wf.dtype)
        padded[:, :wf.shape[1]] = wf
        return ArmSvdfPacked(wf16=pack_groups4(padded), rq1=lstm_rq([wf], [p.feature_bias], [p.mult1], [p.shift1])[0])

    def cycles(self, g, o, pk):
        p = o.params
        return p.batches * (FEATURE_MAC_CYCLES * p.filters * p.input_size + TIME_MAC_CYCLES * p.filters * p.memory
                            + SHIFT_CYCLES * p.filters * p.memory + FILTER_CYCLES * p.filters
                            + UNIT_CYCLES * p.units)

    def plain_cycles(self, g, o):
        """The plain kernel also moves the state byte by byte (newlib's memmove)."""
        p = o.params
        return super().plain_cycles(g, o) + 10 * p.batches * p.filters * p.memory

    def emit(self, g, o, ctx, pk):
        op = Svdf()
        _, params = op.c_params(g, o, ctx, feature_weights=False)
        wf16 = ctx.const_array(o, "wf16", "int32_t", pk.wf16)
        rq1 = ctx.const_array(o, "rq1", "int32_t", pk.rq1)
        self.call(ctx, o, f"{self.entries[0]}(&{params}, {wf16}, {rq1}, {ctx.buf(o.inputs[0])}, "
                          f"{ctx.buf(o.inputs[4])}, {ctx.buf(o.outputs[0])});")
