"""PAD, PADV2 and MIRROR_PAD: separable per-dimension source maps with constant paddings.

PAD fills with 0 (float) or the output zero point (int8, TFLite Micro's choice; uint8 as TFLite); PADV2 fills
with its constant_values input (a scalar, constant or computed at run time), copied as is.
MIRROR_PAD maps every padded coordinate back into the input as TFLite's GetInputDimension does:
REFLECT mirrors around the edge element (offset 1), SYMMETRIC repeats it (offset 0); paddings
must not exceed the size (REFLECT: size - 1).
"""
from __future__ import annotations

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..errors import TinyccError
from . import register
from ._datamove import GatherMapOp, check_movable, const_ints, operand

MIRROR_MODES = {0: "REFLECT", 1: "SYMMETRIC"}


class _PadBase(GatherMapOp):
    def paddings(self, g, o):
        x = ir.tensor(g, o.inputs[0])
        p = const_ints(self, g, o, 1, "paddings")
        if p.shape != (len(x.shape), 2):
            raise self.fail(o, f"paddings have shape {list(p.shape)}, expected [{len(x.shape)}, 2]")
        if (p < 0).any():
            raise self.fail(o, "negative paddings are not supported")
        return [(int(a), int(b)) for a, b in p]

    def source(self, n: int, before: int, after: int, mode: str) -> np.ndarray:
        """Input coordinate of every output coordinate along one dim (-1: padding)."""
        out = np.arange(n + before + after) - before
        return np.where((out >= 0) & (out < n), out, -1)

    def out_maps(self, g, o, k):
        x = ir.tensor(g, o.inputs[0])
        stride = np.cumprod([1] + list(x.shape[::-1]))[:-1][::-1] if x.shape else []
        maps = []
        for d, ((before, after), n) in enumerate(zip(self.paddings(g, o), x.shape)):
            src = self.source(n, before, after, o.attrs.get("mode", ""))
            maps.append(np.where(src < 0, -1, src * int(stride[d])))
        return maps or [np.zeros(1, np.int64)]

    def check(self, g, o):
        check_movable(self, g, o, [o.inputs[0]])
        x = ir.tensor(g, o.inputs[0])
        self.expect_shape(g, o, o.outputs[0], [n + a + b for (a, b), n in zip(self.paddings(g, o), x.shape)])


@register
class Pad(_PadBase):
    kind = "PAD"
    options_class = tflite.PadOptions
    is_constant_pad = True

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        super().check(g, o)

    def fill_value(self, g, o, inputs):
        y = ir.tensor(g, o.outputs[0])
        return y.quant.zero_point[0] if y.dtype in ("int8", "uint8") and y.quant else 0

    def fill(self, g, o, ctx):
        y = ir.tensor(g, o.outputs[0])
        return ctx.const_array(o, "pad_value", ir.C_TYPE[y.dtype], [Pad.fill_value(self, g, o, [])])


@register
class PadV2(_PadBase):
    kind = "PADV2"
    options_class = tflite.PadV2Options
    is_constant_pad = True
    optional_inputs = frozenset({2})   # constant_values

    def check(self, g, o):
        self.expect_arity(o, (2, 3))
        super().check(g, o)
        if len(o.inputs) > 2 and o.inputs[2] is not None:
            v, y = ir.tensor(g, o.inputs[2]), ir.tensor(g, o.outputs[0])
            if v.dtype != y.dtype or v.size != 1:
                raise self.fail(o, f"constant_values must be one {y.dtype} value", v.name)

    def fill_value(self, g, o, inputs):
        if len(o.inputs) > 2 and o.inputs[2] is not None:
            return np.asarray(inputs[2]).ravel()[0]
        return Pad.fill_value(self, g, o, inputs)

    def fill(self, g, o, ctx):
        if len(o.inputs) > 2 and o.inputs[2] is not None:
            return operand(ctx, o, o.inputs[2], "pad_value")
        return Pad.fill(self, g, o, ctx)

    def reads_min(self, g, o, slot):
        return super().reads_min(g, o, slot) if slot == 0 else None


@register
class MirrorPad(_PadBase):
    kind = "MIRROR_PAD"
    options_class = tflite.MirrorPadOptions

    def read_options(self, opts):
        code = opts.Mode() if opts is not None else 0
        if code not in MIRROR_MODES:
            raise TinyccError(f"mirror pad mode {code} is not supported")
        return dict(mode=MIRROR_MODES[code])

    def check(self, g, o):
        self.expect_arity(o, (2, 2))
        super().check(g, o)
        x = ir.tensor(g, o.inputs[0])
        if x.dtype == "int16":
            raise self.fail(o, "int16 is not supported (TFLite Micro's MIRROR_PAD fails on it)", x.name)
        limit = 1 if o.attrs["mode"] == "REFLECT" else 0
        for d, ((a, b), n) in enumerate(zip(self.paddings(g, o), x.shape)):
            if max(a, b) > n - limit:
                raise self.fail(o, f"{o.attrs['mode']} padding ({a}, {b}) is too large for dimension {d} of size {n}")

    def source(self, n, before, after, mode):
        offset = 1 if mode == "REFLECT" else 0
        out = []
        for p in range(n + before + after):
            if p < before:
                orig = before + offset - 1
                out.append(orig - min(p, orig - offset))
            elif p - before >= n:
                q = p - before - n
                orig = n - (1 + offset)
                out.append(orig - min(q, orig))
            else:
                out.append(p - before)
        return np.array(out, np.int64)
