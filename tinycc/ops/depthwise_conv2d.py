"""DEPTHWISE_CONV_2D: per-channel 2-D convolution, filter [1, kh, kw, in_c * depth_multiplier]."""
from __future__ import annotations

from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from . import _uint8
from . import (activation_range_float, activation_range_int8, compressed_weights, folded_bias, is_hybrid_model,
               per_channel_scales, register)
from .conv2d import (HYBRID_MAX_TERM, ConvParams, Convolution, acc64, bias_data, bias_tensor, check_s16, check_strides,
                     check_weights, conv_geometry, f32_fields, is_hybrid, read_conv_options, s16_fields,
                     s16_params, s8_fields)


@register
class DepthwiseConv2D(Convolution):
    kind = "DEPTHWISE_CONV_2D"
    options_class = tflite.DepthwiseConv2DOptions
    kernel = "tcc_depthwise"

    def weight_rows(self, g, o):
        """int8: the taps of each channel, [C][k_h * k_w] (the filter transposed; tcc_depthwise_s8c)."""
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        return w.data.reshape(-1, w.shape[3]).T if x.dtype == w.dtype == "int8" else None

    def read_options(self, opts):
        attrs = read_conv_options(opts)
        attrs["depth_multiplier"] = opts.DepthMultiplier() if opts is not None else 1
        return attrs

    def plain_only(self, g, o):
        return _uint8.is_uint8(g, o)

    def tflm_reference_reliable(self, g, o):
        return not _uint8.is_uint8(g, o)    # TFLite Micro has no uint8 DEPTHWISE_CONV_2D

    def check(self, g, o):
        self.expect_arity(o, (2, 3))
        check_strides(self, o)
        uint8 = _uint8.is_uint8(g, o)
        dt = "uint8" if uint8 else self.dtype_of(g, o, int16=True)
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        if len(x.shape) != 4 or len(w.shape) != 4 or w.shape[0] != 1:
            raise self.fail(o, f"expects 4-D input and [1,kh,kw,C] filter, got {list(x.shape)} and {list(w.shape)}")
        if uint8:
            _uint8.check(self, g, o, w.shape[1] * w.shape[2])
        else:
            check_weights(self, g, o, dt)
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
                                             bias_data(g, o), 3)
        if dt == "int16":
            # TFLite Micro reads any 16x8 depthwise bias as int64 (and crashes on none)
            if bias_tensor(g, o) is None or not acc64(g, o):
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
        bias = bias_data(g, o)
        geo = conv_geometry(g, o, w.shape[1], w.shape[2])
        depth_mult = w.shape[3] // x.shape[3]  # the filter shape is authoritative
        if x.dtype == "uint8":      # a grouped convolution, one input channel per group
            return _uint8.params(g, o, _uint8.conv_shape(g, o, geo, w.shape[3], 1), w.data.transpose(3, 1, 2, 0))
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
        if _uint8.is_uint8(g, o):
            return _uint8.emit(ctx, o)
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        fields = [("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("in_c", x.shape[3]),
                  ("out_h", p.out_h), ("out_w", p.out_w), ("depth_mult", p.depth_mult),
                  ("k_h", w.shape[1]), ("k_w", w.shape[2]),
                  ("stride_h", a["stride_h"]), ("stride_w", a["stride_w"]),
                  ("dil_h", a["dilation_h"]), ("dil_w", a["dilation_w"]),
                  ("pad_top", p.pad_top), ("pad_left", p.pad_left)]
        if is_hybrid(g, o):  # int8 weights, float32 activations: runtime/kernels/tcc_hybrid.c
            bias = bias_data(g, o)
            fields += [("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                       ("weights", ctx.const_array(o, "weights", "int8_t", w.data)),
                       ("w_scale", ctx.const_array(o, "w_scale", "float", list(w.quant.scale))),
                       ("bias", ctx.const_array(o, "bias", "float", bias) if bias is not None else None)]
            params = ctx.struct(o, "tcc_depthwise_hybrid_params", fields)
            ctx.call(o, f"tcc_depthwise_hybrid(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                        f"{ctx.scratch(o)});", "tcc_hybrid")
            return
        wc = compressed_weights(ctx, o)
        if x.dtype == "int8":
            fields += [("in_zp", p.in_zp), ("out_zp", p.out_zp)] + s8_fields(ctx, o, w, wc is not None)
            fn = "tcc_depthwise_s8"
        elif x.dtype == "int16":
            fields += s16_fields(ctx, o, w)
            fn = "tcc_depthwise_s16"
        else:
            fields += [("bias_first", int(is_hybrid_model(g)))] + f32_fields(ctx, g, o, w)
            fn = "tcc_depthwise_f32"
        params = ctx.struct(o, f"{fn}_params", fields)
        if wc:      # compressed weights (compress_weights): the decoding kernel
            ctx.call(o, f"{fn}c(&{params}, &{wc}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                        f"{ctx.scratch(o)});", "tcc_compressed")
            return
        ctx.call(o, f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {ctx.scratch(o)});",
                 self.kernel)

    def scratch_bytes(self, g, o):
        """Plain kernel: one output channel plane (out_h * out_w values), see tcc_depthwise.c (the
        fast kernels: tinycc/variants/arm_dw3x3.py, arm_dw.py); tcc_depthwise_s8c also one channel's
        decoded taps."""
        if _uint8.is_uint8(g, o):
            return _uint8.scratch_bytes(o)
        y, w = ir.tensor(g, o.outputs[0]), ir.tensor(g, o.inputs[1])
        taps = w.shape[1] * w.shape[2] if o.params.compressed is not None else 0
        return y.shape[1] * y.shape[2] * ir.DTYPE_SIZE[y.dtype] + taps

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
        if slot != 0 or _uint8.is_uint8(g, o) or o.params.depth_mult != 1 or x.dtype != y.dtype:
            return None
        if o.params.batches != 1:
            return ("exactly", 0)
        return ("multiple", x.shape[3] * ir.DTYPE_SIZE[x.dtype])

    def macs(self, g, o):
        w, y = ir.tensor(g, o.inputs[1]), ir.tensor(g, o.outputs[0])
        return y.size * w.shape[1] * w.shape[2]
