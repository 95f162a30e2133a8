"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR (NHWC, output size = the output's H and W).

Every source coordinate and weight depends only on the output coordinate, so they are computed
here, in TFLite's exact arithmetic, and baked into tables:
  * nearest (TFLite GetNearestNeighbor, float32): scale = in/out, or (in-1)/(out-1) with
    align_corners; src = floor((x + 0.5*hpc) * scale), or round half away with align_corners;
    clamped to [0, in-1]. The op then becomes separable maps for ``tcc_gather_map``.
  * bilinear float32 (TFLite ResizeBilinear): src = x*scale, or (x+0.5)*scale-0.5 with
    half_pixel_centers; y0 = max(floor, 0), y1 = min(ceil, in-1), weight = src - y0.
  * bilinear int8 (TFLite ResizeBilinearInteger, no floating point at run time): scale_10 =
    round(1024*in/out); src_10 = x*scale_10 (+ scale_10/2 - 512 with half_pixel_centers),
    y0 = max(src_10/1024, 0), y1 = min((src_10+1023)/1024, in-1) (C division); the four
    products of int8 values and 10-bit weights are summed in 64 bits and divided by 2^20,
    rounding half away from zero. int8 output keeps the input's quantization.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..quant import round_half_away
from . import OpDef, register
from ._datamove import GatherMapOp, check_movable, operand

f32 = np.float32


@dataclass(frozen=True, eq=False, kw_only=True)
class BilinearParams(ir.Params):
    """RESIZE_BILINEAR: tcc_resize_params (``geo``: batches, in_h, in_w, channels, out_h, out_w)
    and per output row / column the two source coordinates and the weight (``ys``, ``xs``)."""
    geo: tuple
    ys: tuple
    xs: tuple


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _read(opts):
    if opts is None:
        return dict(align_corners=False, half_pixel_centers=False)
    return dict(align_corners=bool(opts.AlignCorners()), half_pixel_centers=bool(opts.HalfPixelCenters()))


class _Resize:
    def geometry(self, g, o):
        n, h, w, c = ir.tensor(g, o.inputs[0]).shape
        y = ir.tensor(g, o.outputs[0])
        return n, h, w, c, y.shape[1], y.shape[2]

    def check_resize(self, g, o):
        self.expect_arity(o, (2, 2))
        check_movable(self, g, o, [o.inputs[0]])
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if len(x.shape) != 4 or len(y.shape) != 4:
            raise self.fail(o, f"expects 4-D input and output, got {list(x.shape)} -> {list(y.shape)}")
        if o.attrs["align_corners"] and o.attrs["half_pixel_centers"]:
            raise self.fail(o, "align_corners and half_pixel_centers cannot both be set")
        size = ir.tensor(g, o.inputs[1])
        if size.is_const and [int(v) for v in size.data.ravel()] != list(y.shape[1:3]):
            raise self.fail(o, f"size {size.data.ravel().tolist()} does not match the output {list(y.shape)}")
        if y.shape[0] != x.shape[0] or y.shape[3] != x.shape[3] or min(y.shape[1:3]) < 1:
            raise self.fail(o, f"output {list(y.shape)} does not fit input {list(x.shape)}")


def nearest_source(out_size: int, in_size: int, align: bool, hpc: bool) -> np.ndarray:
    scale = (f32(in_size - 1) / f32(out_size - 1)) if align and out_size > 1 else f32(in_size) / f32(out_size)
    offset = f32(0.5) if hpc else f32(0.0)
    src = []
    for v in range(out_size):
        s = f32(f32(f32(v) + offset) * scale)
        i = round_half_away(float(s)) if align else int(np.floor(s))
        i = min(i, in_size - 1)
        if hpc:
            i = max(0, i)
        src.append(i)
    return np.array(src, np.int64)


@register
class ResizeNearestNeighbor(_Resize, GatherMapOp):
    kind = "RESIZE_NEAREST_NEIGHBOR"
    options_class = tflite.ResizeNearestNeighborOptions

    def read_options(self, opts):
        return _read(opts)

    def check(self, g, o):
        self.check_resize(g, o)

    def out_maps(self, g, o, k):
        n, h, w, c, oh, ow = self.geometry(g, o)
        a, hp = o.attrs["align_corners"], o.attrs["half_pixel_centers"]
        return [np.arange(n) * h * w * c, nearest_source(oh, h, a, hp) * w * c,
                nearest_source(ow, w, a, hp) * c, np.arange(c)]


def bilinear_float(out_size: int, in_size: int, align: bool, hpc: bool):
    """(lower, upper, weight of upper) per output coordinate, float32 as TFLite computes them."""
    scale = f32(in_size) / f32(out_size)
    if align and out_size > 1:
        scale = f32(in_size - 1) / f32(out_size - 1)
    lo, hi, wt = [], [], []
    for v in range(out_size):
        s = f32(f32(f32(v) + f32(0.5)) * scale) - f32(0.5) if hpc else f32(f32(v) * scale)
        s = f32(s)
        lo.append(max(int(np.floor(s)), 0))
        hi.append(min(int(np.ceil(s)), in_size - 1))
        wt.append(f32(s - f32(lo[-1])))
    return np.array(lo), np.array(hi), np.array(wt, np.float32)


def bilinear_int(out_size: int, in_size: int, align: bool, hpc: bool):
    """(lower, upper, 10-bit weight of upper) per output coordinate (ResizeBilinearInteger)."""
    scale = ((1 << 10) * in_size + out_size // 2) // out_size
    if align and out_size > 1:
        scale = ((1 << 10) * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
    lo, hi, wt = [], [], []
    for v in range(out_size):
        s = v * scale + _cdiv(scale, 2) - (1 << 9) if hpc else v * scale
        lo.append(max(_cdiv(s, 1 << 10), 0))
        hi.append(min(_cdiv(s + (1 << 10) - 1, 1 << 10), in_size - 1))
        wt.append(s - (1 << 10) * lo[-1])
    return np.array(lo), np.array(hi), np.array(wt)


@register
class ResizeBilinear(_Resize, OpDef):
    kind = "RESIZE_BILINEAR"
    options_class = tflite.ResizeBilinearOptions
    kernel = "tcc_resize"

    def read_options(self, opts):
        return _read(opts)

    def check(self, g, o):
        self.check_resize(g, o)
        if ir.tensor(g, o.inputs[0]).dtype not in ("int8", "float32"):
            raise self.fail(o, "input type must be int8 or float32")

    def prepare(self, g, o):
        n, h, w, c, oh, ow = self.geometry(g, o)
        a, hp = o.attrs["align_corners"], o.attrs["half_pixel_centers"]
        fn = bilinear_int if ir.tensor(g, o.inputs[0]).dtype == "int8" else bilinear_float
        return BilinearParams(geo=(n, h, w, c, oh, ow), ys=fn(oh, h, a, hp), xs=fn(ow, w, a, hp))

    def emit(self, g, o, ctx):
        n, h, w, c, oh, ow = o.params.geo
        (y0, y1, wy), (x0, x1, wx) = o.params.ys, o.params.xs
        fields = [("batches", n), ("in_h", h), ("in_w", w), ("channels", c), ("out_h", oh), ("out_w", ow)]
        params = ctx.struct(o, "tcc_resize_params", fields)
        src, dst = operand(ctx, o, o.inputs[0], "data"), ctx.buf(o.outputs[0])
        if ir.tensor(g, o.inputs[0]).dtype == "int8":
            yt = ctx.const_array(o, "ytab", "int32_t", np.stack([y0 * w * c, y1 * w * c, wy], 1))
            xt = ctx.const_array(o, "xtab", "int32_t", np.stack([x0 * c, x1 * c, wx], 1))
            ctx.call(o, f"tcc_resize_bilinear_s8(&{params}, {yt}, {xt}, {src}, {dst});", self.kernel)
        else:
            yi = ctx.const_array(o, "yidx", "int32_t", np.stack([y0 * w * c, y1 * w * c], 1))
            xi = ctx.const_array(o, "xidx", "int32_t", np.stack([x0 * c, x1 * c], 1))
            yw = ctx.const_array(o, "yw", "float", np.stack([f32(1) - wy, wy], 1))
            xw = ctx.const_array(o, "xw", "float", np.stack([f32(1) - wx, wx], 1))
            ctx.call(o, f"tcc_resize_bilinear_f32(&{params}, {yi}, {xi}, {yw}, {xw}, {src}, {dst});", self.kernel)

    def reads_min(self, g, o, slot):
        """tcc_resize.c writes (b, y, x, c) in row-major order; each reads its four source
        pixels in channel c, the lowest at (y0, x0)."""
        if slot != 0:
            return None
        n, h, w, c, oh, ow = o.params.geo
        y0, x0 = o.params.ys[0], o.params.xs[0]
        idx = (np.arange(n)[:, None, None, None] * h * w * c + y0[None, :, None, None] * w * c
               + x0[None, None, :, None] * c + np.arange(c)[None, None, None, :])
        return idx.ravel()
