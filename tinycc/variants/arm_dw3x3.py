"""arm_dw3x3: int8 DEPTHWISE_CONV_2D 3x3, depth multiplier 1, equal strides 1 or 2, no dilation
(tcc_arm_depthwise3x3_s8 in runtime/kernels/arm/tcc_arm_dw3x3.c): channel-planar int16 lines of a
chunk of channels, SMLAD on tap pairs, 4 (or 6, 3) outputs at a time along a line; lines are rows,
or columns on tall maps (kws' 25x5) when that can run in place (``packing.pack_depthwise_planar``).

Its packings (``packs``), fastest first: all channels at once, then smaller chunks (less
scratch), then staged (a chunk's outputs through the scratch: any whole-pixel overlap)."""
from __future__ import annotations

from .. import ir, packing
from ..ops.depthwise_conv2d import DepthwiseConv2D
from . import Variant, register
from .arm_dw import common_fields, depthwise_int8_mult1

CHUNKS = (64, 32, 16, 8, 4, 2, 1)    # the smaller chunks tried after all channels

# Estimated Cortex-M4 cycles (tinycc.cycles' model), fitted on ``tinycc bench`` of vww_96_int8's 13
# depthwise layers (all channels a chunk, strides 1 and 2: within 10 % per layer) and of a
# kws_ref_model 25x5x64 layer in chunks of 8 (the largest its RAM allows; 25 lines of 5): per
# output by stride, per line of a chunk (the C around the asm, the chunk's lines widened), per
# line of a channel.
OUTPUT_CYCLES = {1: 21.5, 2: 34.5}
CHUNK_LINE_CYCLES = 862
CHANNEL_LINE_CYCLES = 35


@register
class ArmDepthwise3x3(Variant):
    name = "arm_dw3x3"
    kinds = (DepthwiseConv2D.kind,)
    sources = ("arm/tcc_arm_dw3x3",)
    entries = ("tcc_arm_depthwise3x3_s8",)

    def applies(self, g, o, target):
        w, a = ir.tensor(g, o.inputs[1]), o.attrs
        return (depthwise_int8_mult1(g, o) and w.shape[1:3] == (3, 3)
                and a["stride_h"] == a["stride_w"] in (1, 2) and a["dilation_h"] == a["dilation_w"] == 1)

    def pack(self, g, o):
        return self.packs(g, o)[0]

    def packs(self, g, o):
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, s = o.params, o.attrs["stride_h"]
        orients = [False]
        if packing.depthwise_planar_transposed(p.out_h, p.out_w) and packing.depthwise3x3_in_place(
                p.batches, p.in_h, p.in_w, p.out_h, p.out_w, s, p.pad_top, p.pad_left, True):
            orients = [True, False]
        c = x.shape[3]
        chunks = [c] + [k for k in CHUNKS if k < c]
        out = []
        for tr in orients:
            geo = (p.in_h, p.pad_top, p.out_h) if tr else (p.in_w, p.pad_left, p.out_w)
            pk = packing.pack_depthwise_planar(w.data, p.bias, p.mult, p.shift, p.out_zp, transposed=tr)
            row_len = packing.planar_row_len(*geo, s)
            for staged in (False, True) if not tr else (False,):
                npix = p.out_h * p.out_w if staged else 0
                for ch in chunks:
                    out.append(packing.ArmDepthwise3x3(
                        transposed=tr, row_len=row_len, chunk=ch, staged=staged,
                        scratch=packing.depthwise_planar_scratch_bytes(geo[0], geo[1], ch, geo[2], s, npix), **pk))
        return out

    def cycles(self, g, o, pk):
        p, c = o.params, ir.tensor(g, o.inputs[0]).shape[3]
        lines = p.out_w if pk.transposed else p.out_h
        chunks = -(-c // pk.chunk)
        return p.batches * (OUTPUT_CYCLES[o.attrs["stride_h"]] * p.out_h * p.out_w * c
                            + (CHUNK_LINE_CYCLES * chunks + CHANNEL_LINE_CYCLES * c) * lines)

    def scratch_bytes(self, g, o, pk):
        """3 int16 lines of a chunk of channels (+ the chunk's outputs when staged)."""
        return pk.scratch

    def reads_min(self, g, o, slot, pk):
        """Along rows, all channels at once: each input row is read once, before the first output
        row needing it (packing.reads_min_depthwise3x3); see ``overlap`` for the others."""
        x = ir.tensor(g, o.inputs[0])
        if slot != 0 or pk.chunk < x.shape[3] or pk.staged:
            return None
        p = o.params
        return packing.reads_min_depthwise3x3(p.batches, p.in_h, p.in_w, x.shape[3], p.out_h, p.out_w,
                                              o.attrs["stride_h"], p.pad_top, p.pad_left, pk.transposed)

    def overlap(self, g, o, slot, pk):
        """Staged: a chunk's outputs are stored only after all its input channels were read (as the
        plain kernel's channel planes): any whole-pixel offset for one batch, else in place. Along
        columns or by chunks: in place when ``packing.depthwise3x3_in_place`` proves it."""
        x, y, p = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0]), o.params
        if slot == 0 and pk.staged and x.dtype == y.dtype:
            return ("multiple", x.shape[3]) if p.batches == 1 else ("exactly", 0)
        if slot == 0 and (pk.transposed or pk.chunk < x.shape[3]):
            ok = packing.depthwise3x3_in_place(p.batches, p.in_h, p.in_w, p.out_h, p.out_w,
                                               o.attrs["stride_h"], p.pad_top, p.pad_left, pk.transposed)
            return ("exactly", 0) if ok else None
        return super().overlap(g, o, slot, pk)

    def emit(self, g, o, ctx, pk):
        p, a = o.params, o.attrs
        fields = common_fields(g, o) + [
            ("stride", a["stride_h"]), ("pad_top", p.pad_top), ("pad_left", p.pad_left),
            ("in_zp", p.in_zp), ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
            ("transposed", int(pk.transposed)), ("row_len", pk.row_len),
            ("chunk", pk.chunk), ("staged", int(pk.staged)),
            ("records", ctx.const_array(o, "records", "int32_t", pk.records))]
        asm_lines = packing.depthwise_planar_asm_lines(pk.records, *p.act_range)
        n_out = p.out_h if pk.transposed else p.out_w
        block_n = packing.depthwise_planar_block(asm_lines, n_out)
        fields += [("asm_lines", int(asm_lines)), ("block_n", block_n)]
        if not asm_lines:
            ctx.use("DW_C_LINES")
        else:           # the asm functions of this layer's block size, line length and stride
            ctx.use(f"DW_X{block_n or 4}" + ("O" if n_out == block_n == 6 else "") + ("S2" if a["stride_h"] == 2 else ""))
        params = ctx.struct(o, "tcc_arm_depthwise3x3_s8_params", fields)
        self.call(ctx, o, f"tcc_arm_depthwise3x3_s8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                          f"{ctx.scratch(o)});")
