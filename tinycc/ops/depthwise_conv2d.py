"""DEPTHWISE_CONV_2D: per-channel 2-D convolution, filter [1, kh, kw, in_c * depth_multiplier]."""
from __future__ import annotations

import tflite

from .. import ir, packing, quant
from . import (OpDef, activation_range_float, activation_range_int8, dsp_target, folded_bias, is_hybrid_model,
               packed, per_channel_scales, register)
from .conv2d import (HYBRID_MAX_TERM, ConvParams, acc64, check_s16, check_strides, check_weights, conv_geometry,
                     conv_window, is_hybrid, read_conv_options, s16_fields, s16_params)


@register
class DepthwiseConv2D(OpDef):
    kind = "DEPTHWISE_CONV_2D"
    options_class = tflite.DepthwiseConv2DOptions
    optional_inputs = frozenset({2})            # bias
    clamp_keys = ("act_range", "act_range")
    absorbs_pad = "zero_point"
    kernel = "tcc_depthwise"

    def window(self, g, o):
        return conv_window(g, o)

    def read_options(self, opts):
        attrs = read_conv_options(opts)
        attrs["depth_multiplier"] = opts.DepthMultiplier() if opts is not None else 1
        return attrs

    def check(self, g, o):
        self.expect_arity(o, (2, 3))
        check_strides(self, o)
        dt = self.dtype_of(g, o, int16=True)
        check_weights(self, g, o, dt)
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        if len(x.shape) != 4 or len(w.shape) != 4 or w.shape[0] != 1:
            raise self.fail(o, f"expects 4-D input and [1,kh,kw,C] filter, got {list(x.shape)} and {list(w.shape)}")
        in_c, out_c = x.shape[3], w.shape[3]
        if in_c == 0 or out_c % in_c:
            raise self.fail(o, f"filter channels {out_c} are not a multiple of input channels {in_c}")
        if len(o.inputs) > 2 and o.inputs[2] is not None:
            self.expect_shape(g, o, o.inputs[2], (out_c,))
        geo = conv_geometry(g, o, w.shape[1], w.shape[2])
        if geo["out_h"] <= 0 or geo["out_w"] <= 0:
            raise self.fail(o, "filter is larger than the padded input")
        self.expect_shape(g, o, o.outputs[0], (geo["batches"], geo["out_h"], geo["out_w"], out_c))
        if is_hybrid(g, o):
            self.check_hybrid(o, w, out_c)
        if dt == "int8":  # issue 6: requantization range and int32 accumulator bound
            quant.check_int8_accumulation(self, o, x, w, ir.tensor(g, o.outputs[0]),
                                             ir.tensor(g, o.inputs[2]).data if len(o.inputs) > 2 and o.inputs[2] else None, 3)
        if dt == "int16":
            if not acc64(g, o):   # TFLite Micro reads any 16x8 depthwise bias as int64 (and crashes on none)
                raise self.fail(o, "16x8 depthwise convolution needs an int64 bias (as TFLite Micro's kernel)")
            check_s16(self, g, o, 3)

    def check_hybrid(self, o, w, out_c):
        """Hybrid (int8 weights, float32 activations): TFLite's kernel is per channel only
        (one scale per output channel on axis 3, zero points 0)."""
        q = w.quant
        if q is None or len(q.scale) != out_c or (out_c > 1 and q.axis != 3):
            raise self.fail(o, f"int8 weights of a float32 depthwise convolution need {out_c} per-channel "
                               f"scales on axis 3", w.name)
        if any(z != 0 for z in q.zero_point):
            raise self.fail(o, "int8 weights of a float32 op need zero points of 0", w.name)
        if any(not (s > 0 and s < float("inf")) for s in q.scale):
            raise self.fail(o, "weight scales must be positive and finite", w.name)
        if w.shape[1] * w.shape[2] * HYBRID_MAX_TERM > 2**31 - 1:
            raise self.fail(o, "the window may overflow the int32 accumulator", w.name)

    def prepare(self, g, o):
        x, w, y = (ir.tensor(g, t) for t in (o.inputs[0], o.inputs[1], o.outputs[0]))
        bias = ir.tensor(g, o.inputs[2]).data if len(o.inputs) > 2 and o.inputs[2] else None
        geo = conv_geometry(g, o, w.shape[1], w.shape[2])
        depth_mult = w.shape[3] // x.shape[3]  # the filter shape is authoritative
        if x.dtype == "float32":
            return ConvParams(**geo, depth_mult=depth_mult, act_range=activation_range_float(o.attrs["activation"]))
        if x.dtype == "int16":
            return ConvParams(**geo, depth_mult=depth_mult, **s16_params(g, o, 3))
        in_zp, out_zp = x.quant.zero_point[0], y.quant.zero_point[0]
        mult, shift = quant.conv_output_multipliers(
            x.quant.scale[0], per_channel_scales(w, w.shape[3]), y.quant.scale[0])
        return ConvParams(**geo, depth_mult=depth_mult,
                          act_range=activation_range_int8(o.attrs["activation"], y.quant.scale[0], out_zp),
                          in_zp=in_zp, out_zp=out_zp, mult=mult, shift=shift,
                          bias=folded_bias(bias, w.data, in_zp, axis_out=3))

    def emit(self, g, o, ctx):
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        common = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("channels", x.shape[3]),
                  ("out_h", p.out_h), ("out_w", p.out_w)]
        pk = packed(o, "arm_dw3x3")
        if pk:
            fields = common + [("stride", a["stride_h"]), ("pad_top", p.pad_top), ("pad_left", p.pad_left),
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
                ctx.use(f"DW_X{block_n or 4}" + ("O" if n_out == block_n == 6 else "")
                        + ("S2" if a["stride_h"] == 2 else ""))
            params = ctx.struct(o, "tcc_arm_depthwise3x3_s8_params", fields)
            ctx.call(o, f"tcc_arm_depthwise3x3_s8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                        f"{ctx.scratch(o)});", "arm/tcc_arm_dw3x3")
            return
        pk = packed(o, "arm_dw")
        if pk:
            fields = common + [("k_h", w.shape[1]), ("k_w", w.shape[2]), ("stride_h", a["stride_h"]),
                               ("stride_w", a["stride_w"]), ("dil_h", a["dilation_h"]), ("dil_w", a["dilation_w"]),
                               ("pad_top", p.pad_top), ("pad_left", p.pad_left), ("in_zp", p.in_zp),
                               ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                               ("weights", ctx.const_array(o, "weights", "int32_t", pk.weights)),
                               ("bias", ctx.const_array(o, "bias", "int32_t", pk.bias)),
                               ("rq", ctx.const_records(o, "rq", "tcc_arm_rq", pk.rq))]
            params = ctx.struct(o, "tcc_arm_depthwise_s8_params", fields)
            ctx.call(o, f"tcc_arm_depthwise_s8(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});",
                     "arm/tcc_arm_depthwise")
            return
        fields = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("in_c", x.shape[3]),
                  ("out_h", p.out_h), ("out_w", p.out_w), ("depth_mult", p.depth_mult),
                  ("k_h", w.shape[1]), ("k_w", w.shape[2]),
                  ("stride_h", a["stride_h"]), ("stride_w", a["stride_w"]),
                  ("dil_h", a["dilation_h"]), ("dil_w", a["dilation_w"]),
                  ("pad_top", p.pad_top), ("pad_left", p.pad_left)]
        if is_hybrid(g, o):  # int8 weights, float32 activations: runtime/kernels/tcc_hybrid.c
            bias = ir.tensor(g, o.inputs[2]).data if len(o.inputs) > 2 and o.inputs[2] else None
            fields += [("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                       ("weights", ctx.const_array(o, "weights", "int8_t", w.data)),
                       ("w_scale", ctx.const_array(o, "w_scale", "float", list(w.quant.scale))),
                       ("bias", ctx.const_array(o, "bias", "float", bias) if bias is not None else None)]
            params = ctx.struct(o, "tcc_depthwise_hybrid_params", fields)
            ctx.call(o, f"tcc_depthwise_hybrid(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                        f"{ctx.scratch(o)});", "tcc_hybrid")
            return
        if x.dtype == "int8":
            fields += [("in_zp", p.in_zp), ("out_zp", p.out_zp),
                       ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                       ("weights", ctx.const_array(o, "weights", "int8_t", w.data)),
                       ("bias", ctx.const_array(o, "bias", "int32_t", p.bias)),
                       ("mult", ctx.const_array(o, "mult", "int32_t", p.mult)),
                       ("shift", ctx.const_array(o, "shift", "int32_t", p.shift))]
            fn = "tcc_depthwise_s8"
        elif x.dtype == "int16":
            fields += s16_fields(ctx, o, w)
            fn = "tcc_depthwise_s16"
        else:
            bias = ir.tensor(g, o.inputs[2]).data if len(o.inputs) > 2 and o.inputs[2] else None
            fields += [("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                       ("bias_first", int(is_hybrid_model(g))),
                       ("weights", ctx.const_array(o, "weights", "float", w.data)),
                       ("bias", ctx.const_array(o, "bias", "float", bias) if bias is not None else None)]
            fn = "tcc_depthwise_f32"
        params = ctx.struct(o, f"{fn}_params", fields)
        ctx.call(o, f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {ctx.scratch(o)});",
                 self.kernel)

    def pack(self, g, o):
        """The fastest variant (see pack_variants)."""
        v = self.pack_variants(g, o)
        return v[0] if v else None

    def pack_variants(self, g, o):
        """Cortex-M DSP, depth multiplier 1, fastest first. 3x3 with equal strides 1 or 2 and no
        dilation runs tcc_arm_depthwise3x3_s8 (int16 lines of a chunk of channels, SMLAD on tap
        pairs, 4 outputs at a time), along columns on tall maps (kws' 25x5) when that can run in
        place, with all channels at once, then with smaller chunks (less scratch); then (and for
        any other window) tcc_arm_depthwise_s8 (4 channels at a time, no scratch)."""
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        if not dsp_target(g) or x.dtype != "int8" or p.depth_mult != 1:
            return []
        out = []
        plane = (w.shape[1:3] == (3, 3) and a["stride_h"] == a["stride_w"] in (1, 2)
                 and a["dilation_h"] == a["dilation_w"] == 1)
        c = x.shape[3]
        s = a["stride_h"]
        try:
            if plane:
                orients = [False]
                if packing.depthwise_planar_transposed(p.out_h, p.out_w) and packing.depthwise3x3_in_place(
                        p.batches, p.in_h, p.in_w, p.out_h, p.out_w, s, p.pad_top, p.pad_left,
                        True):
                    orients = [True, False]
                chunks = [c] + [k for k in (64, 32, 16, 8, 4, 2, 1) if k < c]
                for tr in orients:
                    geo = (p.in_h, p.pad_top, p.out_h) if tr else (p.in_w, p.pad_left, p.out_w)
                    pk = packing.pack_depthwise_planar(w.data, p.bias, p.mult, p.shift, p.out_zp,
                                                       transposed=tr)
                    row_len = packing.planar_row_len(*geo, s)
                    for staged in (False, True):
                        for ch in chunks:
                            if staged and tr:
                                continue
                            npix = p.out_h * p.out_w if staged else 0
                            out.append(packing.ArmDepthwise3x3(
                                transposed=tr, row_len=row_len, chunk=ch, staged=staged,
                                scratch=packing.depthwise_planar_scratch_bytes(geo[0], geo[1], ch, geo[2], s, npix),
                                **pk))
            pk = packing.pack_depthwise(w.data, p.bias, p.mult, p.shift, p.out_zp)
            out.append(packing.ArmDepthwise(**pk))
        except packing.PackError:
            return []
        return out

    def scratch_bytes(self, g, o):
        """Plain kernel: one output channel plane (out_h * out_w values), see tcc_depthwise.c;
        tcc_arm_depthwise3x3_s8: 3 int16 lines of every channel; tcc_arm_depthwise_s8: none."""
        y = ir.tensor(g, o.outputs[0])
        pk = packed(o, "arm_dw3x3")
        if pk:
            return pk.scratch
        if packed(o, "arm_dw"):
            return 0
        return y.shape[1] * y.shape[2] * ir.DTYPE_SIZE[y.dtype]

    def reads_min(self, g, o, slot):
        """tcc_arm_depthwise_s8: per output pixel, groups of 4 channels each read their window and
        then write (packing.reads_min_depthwise); tcc_arm_depthwise3x3_s8 along rows: each input
        row is read once, before the first output row needing it (none along columns). The plain
        channel-plane kernel uses ``overlap``."""
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        pk = packed(o, "arm_dw3x3")
        if pk:
            if slot != 0 or pk.chunk < x.shape[3] or pk.staged:
                return None
            return packing.reads_min_depthwise3x3(
                p.batches, p.in_h, p.in_w, x.shape[3], p.out_h, p.out_w, a["stride_h"],
                p.pad_top, p.pad_left, pk.transposed)
        if slot != 0 or not packed(o, "arm_dw"):
            return None
        return packing.reads_min_depthwise(p.batches, p.in_h, p.in_w, x.shape[3], p.out_h, p.out_w,
                                           w.shape[1], w.shape[2], a["stride_h"], a["stride_w"], p.pad_top,
                                           p.pad_left, a["dilation_h"], a["dilation_w"])

    def overlap(self, g, o, slot):
        """tcc_depthwise.c computes a whole channel plane into scratch before storing it into
        that channel's slots. With depth multiplier 1, input channel c is fully read before any
        slot of channel c is written, and the output has the input's channel count: if the
        output starts a multiple of one pixel (C elements) away from the input, every store
        lands either outside the input or in a slot of channel c, already consumed. So any
        offset difference that is a multiple of the pixel size is safe ("multiple"), for any
        stride; e.g. a stride-2 output can sit at the end of its input. With several batches
        a later batch could land on a batch not yet read, so only 0 is allowed then (batch b's
        output then lies within input batches 0..b)."""
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        pk = packed(o, "arm_dw3x3")
        if pk and slot == 0 and pk.staged and x.dtype == y.dtype:
            # a chunk's outputs are stored only after all its input channels were read (as the
            # plain kernel's channel planes): any whole-pixel offset for one batch, else in place
            return ("multiple", x.shape[3]) if o.params.batches == 1 else ("exactly", 0)
        if pk and slot == 0 and (pk.transposed or pk.chunk < x.shape[3]):
            p = o.params
            ok = packing.depthwise3x3_in_place(p.batches, p.in_h, p.in_w, p.out_h, p.out_w,
                                               o.attrs["stride_h"], p.pad_top, p.pad_left, pk.transposed)
            return ("exactly", 0) if ok else None
        if packed(o, "arm_dw") or pk:
            return super().overlap(g, o, slot)
        if slot != 0 or o.params.depth_mult != 1 or x.dtype != y.dtype:
            return None
        if o.params.batches != 1:
            return ("exactly", 0)
        return ("multiple", x.shape[3] * ir.DTYPE_SIZE[x.dtype])

    def macs(self, g, o):
        w, y = ir.tensor(g, o.inputs[1]), ir.tensor(g, o.outputs[0])
        return y.size * w.shape[1] * w.shape[2]
