"""CUMSUM: running sums along the constant ``axis`` (options ``exclusive``, ``reverse``), float32
and int8. ``tcc_cumsum_f32`` accumulates in TFLite's order; int8 follows TFLite Micro's quantized
CumSum (cumsum.cc: inputs (x - zp) << 20 rescaled by s_in / (2 s_in), an int32 accumulator that
starts at the rescaled -zp_in, outputs rescaled by 2 s_in / (2^20 s_out)). Both run in place."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from .. import tflm_math as T
from . import OpDef, register
from ._datamove import const_ints


@dataclass(frozen=True, eq=False, kw_only=True)
class CumsumParams(ir.Params):
    """The line geometry [outer, axis, inner] of tcc_cumsum_*; int8: ``q``, the kernel's
    {input offset, input multiplier, input shift, output multiplier, output shift, output zp}."""
    outer: int
    axis: int
    inner: int
    q: list | None = None


LEFT_SHIFT = 20   # TFLite Micro's kCumSumIntegerShift


def int8_params(si: float, zi: int, so: float, zo: int) -> list[int]:
    """What TFLite Micro's CUMSUM Prepare computes (QuantizeMultiplierSmallerThanOneExp twice)."""
    twice = 2 * si
    mi, shi = quant.quantize_multiplier(si / twice)
    mo, sho = quant.quantize_multiplier(twice / ((1 << LEFT_SHIFT) * so))
    return [-zi, mi, shi, mo, sho, zo]


def cumsum_s8(x: np.ndarray, q: list[int], exclusive: bool, reverse: bool) -> np.ndarray:
    """tcc_cumsum_s8 on [outer, axis, inner] in numpy (for constant folding)."""
    def rq(v, m, s):
        return np.array([T.mbqm(int(a), m, s) for a in np.ravel(v)], np.int64).reshape(np.shape(v))

    outer, axis, inner = x.shape
    acc = np.full((outer, inner), T.mbqm(T.wrap(q[0] << LEFT_SHIFT), q[1], q[2]), np.int64)
    out = np.zeros(x.shape, np.int8)
    for a in range(axis):
        k = axis - 1 - a if reverse else a
        scaled = rq((x[:, k].astype(np.int64) + q[0]) << LEFT_SHIFT, q[1], q[2])
        before = acc
        acc = (acc + scaled + 2**31) % 2**32 - 2**31
        s = before if exclusive else acc
        out[:, k] = np.clip(rq(s, q[3], q[4]) + q[5], -128, 127)
    return out


@register
class Cumsum(OpDef):
    kind = "CUMSUM"
    options_class = tflite.CumsumOptions
    kernel = "tcc_cumsum"

    def read_options(self, opts):
        return dict(exclusive=bool(opts.Exclusive()) if opts is not None else False,
                    reverse=bool(opts.Reverse()) if opts is not None else False)

    def axis(self, g, o) -> int:
        x = ir.tensor(g, o.inputs[0])
        a = const_ints(self, g, o, 1, "axis").ravel()
        if a.size != 1 or not -len(x.shape) <= int(a[0]) < len(x.shape):
            raise self.fail(o, f"axis {a.tolist()} is not one dimension of a {len(x.shape)}-D input")
        return int(a[0]) % len(x.shape)

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if x.dtype != y.dtype or x.dtype not in ("float32", "int8"):
            raise self.fail(o, f"{x.dtype} -> {y.dtype} is not supported (float32 or int8)", x.name)
        if x.dtype == "int8":
            for t in (x, y):
                if t.quant is None or t.quant.per_channel:
                    raise self.fail(o, "int8 tensors need per-tensor quantization", t.name)
            if 2 * x.quant.scale[0] / ((1 << LEFT_SHIFT) * y.quant.scale[0]) >= 1:
                raise self.fail(o, "input scale too large for the output scale (TFLite Micro's rescaling)", y.name)
        self.axis(g, o)
        self.expect_shape(g, o, o.outputs[0], x.shape)

    def prepare(self, g, o):
        x, a = ir.tensor(g, o.inputs[0]), self.axis(g, o)
        prod = lambda s: int(np.prod(s, dtype=np.int64))
        y = ir.tensor(g, o.outputs[0])
        q = None if x.dtype == "float32" else int8_params(float(x.quant.scale[0]), int(x.quant.zero_point[0]),
                                                          float(y.quant.scale[0]), int(y.quant.zero_point[0]))
        return CumsumParams(outer=prod(x.shape[:a]), axis=x.shape[a], inner=prod(x.shape[a + 1:]), q=q)

    def overlap(self, g, o, slot):
        return ("exactly", 0) if slot == 0 else None

    def emit(self, g, o, ctx):
        p = o.params
        args = (f"{ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {p.outer}, {p.axis}, {p.inner}, "
                f"{int(o.attrs['exclusive'])}, {int(o.attrs['reverse'])}")
        if p.q is None:
            ctx.call(o, f"tcc_cumsum_f32({args});", self.kernel)
        else:
            q = ctx.const_array(o, "q", "int32_t", p.q)
            ctx.call(o, f"tcc_cumsum_s8({args}, {q});", self.kernel)

    def evaluate(self, g, o, inputs):
        p = self.prepare(g, o)
        if p.q is not None:
            x = np.asarray(inputs[0], np.int8).reshape(p.outer, p.axis, p.inner)
            out = cumsum_s8(x, p.q, o.attrs["exclusive"], o.attrs["reverse"])
            return [out.reshape(ir.tensor(g, o.outputs[0]).shape)]
        x = np.asarray(inputs[0], np.float32).reshape(p.outer, p.axis, p.inner)
        out = np.zeros_like(x)
        acc = np.zeros((p.outer, p.inner), np.float32)
        order = range(p.axis - 1, -1, -1) if o.attrs["reverse"] else range(p.axis)
        for k in order:
            if o.attrs["exclusive"]:
                out[:, k], acc = acc, acc + x[:, k]
            else:
                acc = acc + x[:, k]
                out[:, k] = acc
        return [out.reshape(ir.tensor(g, o.outputs[0]).shape)]
