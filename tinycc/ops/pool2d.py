"""AVERAGE_POOL_2D and MAX_POOL_2D: mean / max over a window clipped to the image (padding not counted), NHWC.
L2_POOL_2D (float32 only, as TFLite Micro's l2_pool_2d.cc): sqrt(sum of squares / count) over
the same clipped window, squares summed row by row in float32, then the activation clamp."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from . import (OpDef, activation, activation_range_float, activation_range_int8, padding, register, window_first,
               window_reads_min)


@dataclass(frozen=True, eq=False, kw_only=True)
class PoolParams(ir.Params):
    """AVERAGE_POOL_2D and MAX_POOL_2D: what tcc_pool_params holds besides the attrs."""
    batches: int
    in_h: int
    in_w: int
    channels: int
    out_h: int
    out_w: int
    pad_top: int
    pad_left: int
    act_range: tuple = (-128, 127)   # int8 or int16 clamp
    act_range_f: tuple = (0.0, 0.0)  # float32 clamp


class Pool2D(OpDef):
    """Shared by AVERAGE_POOL_2D and MAX_POOL_2D: same options, geometry and kernel struct."""
    options_class = tflite.Pool2DOptions
    kernel = "tcc_pool"
    c_function = ""  # tcc_avg_pool / tcc_max_pool, suffixed _s8, _s16 or _f32
    clamp_keys = ("act_range", "act_range_f")

    def window(self, g, o):
        return o.attrs["filter_h"], o.attrs["filter_w"], 1, 1

    def read_options(self, opts):
        return dict(padding=padding(opts), stride_h=opts.StrideH(), stride_w=opts.StrideW(),
                    filter_h=opts.FilterHeight(), filter_w=opts.FilterWidth(), activation=activation(opts))

    def geometry(self, g, o):
        n, h, w, c = ir.tensor(g, o.inputs[0]).shape
        a = o.attrs
        out_h, pad_top = quant.padding_amount(quant.axis_padding(a, "h"), h, a["filter_h"], a["stride_h"])
        out_w, pad_left = quant.padding_amount(quant.axis_padding(a, "w"), w, a["filter_w"], a["stride_w"])
        return dict(batches=n, in_h=h, in_w=w, channels=c, out_h=out_h, out_w=out_w,
                    pad_top=pad_top, pad_left=pad_left)

    def tflm_reference_reliable(self, g, o):
        return ir.tensor(g, o.inputs[0]).dtype != "uint8"     # TFLite Micro has no uint8 pooling

    def check(self, g, o):
        self.expect_arity(o, (1, 1))
        dt = self.uint8_dtype(g, o) or self.dtype_of(g, o, int16=True)
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if len(x.shape) != 4:
            raise self.fail(o, f"expects a 4-D input, got {list(x.shape)}", x.name)
        for k in ("stride_h", "stride_w", "filter_h", "filter_w"):
            if not 1 <= o.attrs[k] <= 65535:
                raise self.fail(o, f"{k} = {o.attrs[k]} is out of range")
        if dt != "float32" and (x.quant.scale != y.quant.scale or x.quant.zero_point != y.quant.zero_point):
            raise self.fail(o, f"{dt} pooling needs the same input and output quantization")
        geo = self.geometry(g, o)
        if geo["out_h"] <= 0 or geo["out_w"] <= 0:
            raise self.fail(o, "window is larger than the padded input")
        self.expect_shape(g, o, o.outputs[0], (geo["batches"], geo["out_h"], geo["out_w"], geo["channels"]))

    def uint8_dtype(self, g, o) -> str | None:
        """"uint8" when the op has uint8 input and output (AVERAGE_POOL_2D and MAX_POOL_2D:
        tcc_avg_pool_u8 and tcc_max_pool_u8 in runtime/kernels/tcc_uint8.c), else None (dtype_of's rules)."""
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if x.dtype != "uint8" or self.kind not in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            return None
        if y.dtype != "uint8" or x.quant is None or y.quant is None or x.quant.per_channel:
            raise self.fail(o, "uint8 pooling needs uint8 output and per-tensor quantization", y.name)
        return "uint8"

    def prepare(self, g, o):
        y = ir.tensor(g, o.outputs[0])
        return PoolParams(**self.geometry(g, o), act_range_f=activation_range_float(o.attrs["activation"]),
                          act_range=(activation_range_int8(o.attrs["activation"], y.quant.scale[0],
                                                           y.quant.zero_point[0], y.dtype)
                                     if y.dtype != "float32" else (-128, 127)))

    def fields(self, o):
        p, a = o.params, o.attrs
        fields = p.c_fields("batches", "in_h", "in_w", "channels", "out_h", "out_w")
        fields += [("f_h", a["filter_h"]), ("f_w", a["filter_w"]), ("stride_h", a["stride_h"]),
                   ("stride_w", a["stride_w"]), ("pad_top", p.pad_top), ("pad_left", p.pad_left),
                   ("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                   ("act_minf", p.act_range_f[0]), ("act_maxf", p.act_range_f[1])]
        return fields

    def emit(self, g, o, ctx):
        fields = self.fields(o)
        dt = ir.tensor(g, o.inputs[0]).dtype
        fn = self.c_function + {"int8": "_s8", "int16": "_s16", "float32": "_f32", "uint8": "_u8"}[dt]
        params = ctx.struct(o, "tcc_pool_params", fields)
        ctx.call(o, f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});",
                 "tcc_uint8" if dt == "uint8" else self.kernel)
    def reads_min(self, g, o, slot):
        """Plain kernels (tcc_pool.c): write (n, oy, ox, c) in row-major order; each reads channel
        c over its window clipped to the image, lowest at the window's first in-image pixel."""
        p, a = o.params, o.attrs
        fy = window_first(p.in_h, p.out_h, a["stride_h"], p.pad_top, a["filter_h"])
        fx = window_first(p.in_w, p.out_w, a["stride_w"], p.pad_left, a["filter_w"])
        return window_reads_min(p.batches, p.in_h, p.in_w, p.channels, fy, fx,
                                np.arange(p.channels))


@register
class AveragePool2D(Pool2D):
    kind = "AVERAGE_POOL_2D"
    c_function = "tcc_avg_pool"

    def macs(self, g, o):
        return 0  # additions only: MAC counts (as in MLPerf Tiny's tables) leave pooling out


@register
class MaxPool2D(Pool2D):
    kind = "MAX_POOL_2D"
    absorbs_pad = "lowest"      # (never AVERAGE_POOL_2D: TFLite divides by the image elements only)
    c_function = "tcc_max_pool"


@register
class L2Pool2D(Pool2D):
    kind = "L2_POOL_2D"
    c_function = "tcc_l2_pool"

    def check(self, g, o):
        x = ir.tensor(g, o.inputs[0])
        if x.dtype != "float32":
            raise self.fail(o, f"{x.dtype} is not supported (TFLite Micro has only a float32 kernel)", x.name)
        super().check(g, o)
