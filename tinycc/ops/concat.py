"""CONCATENATION and PACK: every input is scattered into its block of the output.

Each input gets separable maps into the output (its block along ``axis``; PACK inserts the new
axis first) and one ``tcc_scatter_map`` call. int8 inputs whose scale or zero point differ from
the output's are requantized while they are copied, with TFLite's ConcatenationWithScaling
arithmetic (float scale = in_scale / out_scale, bias = -in_zp * scale, round half away from
zero, + out_zp, clamp). TFLite and TFLite Micro refuse such int8 models (they require every
input to share the output's quantization; the converter inserts QUANTIZE ops instead), so this
case has no reference to compare with; same-quantization inputs are plain copies, bit-exact. uint8
CONCATENATION (fully-uint8 legacy models) rescales the same way, clamped to [0, 255], as TFLite's
uint8 kernel does (checked against TFLite: tests/test_uint8.py).
CONCATENATION's fused activation must be NONE (as TFLite Micro requires).

Zero copy: when an input's block of the output is contiguous and needs no requantization, the
``alias_concats`` pass places it inside the output (``JoinParams.zero_copy``): its producer
writes it there and nothing is emitted for it here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir
from ..index_maps import encode_plan, index_array, maps_from_index
from . import OpDef, activation, register
from ._datamove import KERNEL, check_movable, operand, same_scale_and_zero_point


@dataclass(frozen=True, eq=False)
class JoinPart:
    """One input of a join: its tcc_scatter_map plan into the output, and (scale, bias, out_zp)
    when its int8 values must be rescaled on the way (else None)."""
    plan: np.ndarray
    requant: tuple | None


@dataclass(frozen=True, eq=False, kw_only=True)
class JoinParams(ir.Params):
    """CONCATENATION and PACK: one part per input; ``zero_copy``: input tensor id -> byte offset
    in the output of the inputs ``alias_concats`` placed there (they are not copied)."""
    parts: list
    zero_copy: dict = field(default_factory=dict)


class _Join(OpDef):
    kernel = KERNEL
    zero_copy_join = True
    requant_types = ("int8",)   # inputs of these types quantized unlike the output are rescaled

    def axis(self, g, o) -> int:
        """The option ``axis`` of the output's rank, from 0 (a negative one counts from the end)."""
        rank = len(ir.tensor(g, o.outputs[0]).shape)
        a = o.attrs["axis"]
        if not -rank <= a < rank:
            raise self.fail(o, f"axis {a} is out of range for rank {rank}")
        return a % rank

    def check_inputs(self, g, o) -> None:
        """At least one input, none missing."""
        if not o.inputs or any(t is None for t in o.inputs):
            raise self.fail(o, "expects at least one input")
        self.expect_arity(o, (len(o.inputs), len(o.inputs)))

    def block_index(self, g, o, k) -> np.ndarray:
        """Flat output element index of every element of input ``k`` (input k's shape)."""
        raise NotImplementedError

    def requant(self, g, o, k):
        """(scale, bias, out_zp) when int8 input ``k`` must be rescaled to the output, else None."""
        x, y = ir.tensor(g, o.inputs[k]), ir.tensor(g, o.outputs[0])
        if y.dtype not in self.requant_types or same_scale_and_zero_point(x, y):
            return None
        scale = np.float32(np.float32(x.quant.scale[0]) * (np.float32(1.0) / np.float32(y.quant.scale[0])))
        bias = np.float32(np.float32(-x.quant.zero_point[0]) * scale)
        return float(scale), float(bias), int(y.quant.zero_point[0])

    def prepare(self, g, o):
        es = ir.DTYPE_SIZE[ir.tensor(g, o.outputs[0]).dtype]
        parts = []
        for k in range(len(o.inputs)):
            plan = encode_plan(maps_from_index(self.block_index(g, o, k)), es, f"{o.kind} input {k}")
            parts.append(JoinPart(plan, self.requant(g, o, k)))
        return JoinParams(parts=parts)

    def emit(self, g, o, ctx):
        from ..cformat import format_float
        out = ctx.buf(o.outputs[0])
        placed = o.params.zero_copy   # alias_concats: written in place by their producers
        for k, (t, part) in enumerate(zip(o.inputs, o.params.parts)):
            if t in placed:
                continue
            plan = ctx.const_array(o, f"plan{k}", "int32_t", part.plan)
            src = operand(ctx, o, t, f"in{k}")
            if part.requant is None:
                ctx.call(o, f"tcc_scatter_map({plan}, {src}, {out});", self.kernel)
            else:
                s, b, z = part.requant
                sfx = "u8" if ir.tensor(g, o.outputs[0]).dtype == "uint8" else "s8"
                ctx.call(o, f"tcc_scatter_map_requant_{sfx}({plan}, {src}, {out}, {format_float(s)}, "
                            f"{format_float(b)}, {z});", self.kernel)

    def evaluate(self, g, o, inputs):
        """Output for constant inputs (constant folding); None when int8 inputs need rescaling."""
        y = ir.tensor(g, o.outputs[0])
        if any(self.requant(g, o, k) for k in range(len(o.inputs))):
            return None
        out = np.zeros(y.size, dtype=np.asarray(inputs[0]).dtype)
        for k, x in enumerate(inputs):
            out[self.block_index(g, o, k).ravel()] = np.asarray(x).ravel()
        return [out.reshape(y.shape)]


@register
class Concatenation(_Join):
    kind = "CONCATENATION"
    options_class = tflite.ConcatenationOptions
    requant_types = ("int8", "uint8")   # TFLite's uint8 kernel rescales (ConcatenationWithScaling)

    def read_options(self, opts):
        return dict(axis=opts.Axis() if opts is not None else 0, activation=activation(opts))

    def check(self, g, o):
        self.check_inputs(g, o)
        check_movable(self, g, o, list(o.inputs))
        if o.attrs["activation"] != "NONE":
            raise self.fail(o, f"fused activation {o.attrs['activation']} is not supported")
        y = ir.tensor(g, o.outputs[0])
        axis = self.axis(g, o)
        shapes = [ir.tensor(g, t).shape for t in o.inputs]
        for s in shapes:
            if len(s) != len(y.shape) or any(a != b for d, (a, b) in enumerate(zip(s, y.shape)) if d != axis):
                raise self.fail(o, f"input shape {list(s)} does not fit output {list(y.shape)} along axis {axis}")
        if sum(s[axis] for s in shapes) != y.shape[axis]:
            raise self.fail(o, f"inputs add up to {sum(s[axis] for s in shapes)} along axis {axis}, "
                               f"output has {y.shape[axis]}")

    def block_index(self, g, o, k):
        y = ir.tensor(g, o.outputs[0])
        axis = self.axis(g, o)
        start = sum(ir.tensor(g, t).shape[axis] for t in o.inputs[:k])
        sl = [slice(None)] * len(y.shape)
        sl[axis] = slice(start, start + ir.tensor(g, o.inputs[k]).shape[axis])
        return index_array(y.shape)[tuple(sl)]


@register
class Pack(_Join):
    kind = "PACK"
    options_class = tflite.PackOptions

    def read_options(self, opts):
        return dict(values_count=opts.ValuesCount() if opts is not None else 0,
                    axis=opts.Axis() if opts is not None else 0)

    def check(self, g, o):
        self.check_inputs(g, o)
        if o.attrs["values_count"] not in (0, len(o.inputs)):
            raise self.fail(o, f"values_count {o.attrs['values_count']} but {len(o.inputs)} inputs")
        check_movable(self, g, o, list(o.inputs))
        x = ir.tensor(g, o.inputs[0])
        for t in o.inputs:
            if ir.tensor(g, t).shape != x.shape:
                raise self.fail(o, "inputs differ in shape", ir.tensor(g, t).name)
        axis = self.axis(g, o)
        want = list(x.shape)
        want.insert(axis, len(o.inputs))
        self.expect_shape(g, o, o.outputs[0], want)

    def block_index(self, g, o, k):
        y = ir.tensor(g, o.outputs[0])
        return np.take(index_array(y.shape), k, axis=self.axis(g, o))
