"""FULLY_CONNECTED: out[b][o] = sum_d in[b][d] * w[o][d] + bias[o]; weights [units, in_depth]."""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field, replace

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from . import _uint8
from ..errors import TinyccError
from . import (OpDef, activation, activation_range_float, activation_range_int8, compressed_weights, folded_bias,
               per_channel_scales, register)
from .conv2d import (bias_data, bias_tensor, check_hybrid_weights, check_s16, check_weights, hybrid_scales,
                     f32_fields, hybrid_fields, is_hybrid, s16_fields, s16_params, s8_fields)


FC_FAST_MIN_MACS = 2048


@dataclass(frozen=True, eq=False, kw_only=True)
class FCParams(ir.Params):
    """FULLY_CONNECTED: what tcc_fully_connected_*_params hold (and what tinycc/variants/arm_fc.py packs)."""
    batches: int
    in_depth: int
    out_depth: int
    act_range: tuple          # the output clamp (int8 or float32)
    out_zp: int = 0           # int8: requantization and the zero-point-folded bias
    mult: list = field(default_factory=list)
    shift: list = field(default_factory=list)
    bias: np.ndarray | None = None
    hybrid_asymmetric: bool = False   # int8 weights, float32 activations
    hybrid_scales: list = field(default_factory=list)
    acc64: bool = False       # 16x8: an int64 bias, accumulated in int64 (bias then holds it unfolded)
    single_round: bool = False    # int8: one rounding, as TFLite's kernel (the model's reference is TFLite)


def _fc_macs(o) -> int:
    p = o.params
    return p.batches * p.in_depth * p.out_depth


_HEAD_ONLY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fc_head_only(g) -> bool:
    """The int8 FCs are a small head of a larger model (see tinycc/variants/arm_fc.py). A whole-graph
    fact that every FC asks for: computed once per graph and node count (pack_weights asks per op)."""
    key = g.number_of_nodes()              # O(1); networkx counts edges by walking every node
    if _HEAD_ONLY.get(g, (None,))[0] != key:
        _HEAD_ONLY[g] = (key, _head_only(g))
    return _HEAD_ONLY[g][1]


def _head_only(g) -> bool:
    from . import lookup
    fc = 0
    for f in _int8_fcs(g):
        fc += _fc_macs(f)
        if fc >= FC_FAST_MIN_MACS:
            return False             # decided without the model's MACs (a scan of every op)
    total = 0
    for n in g.nodes:
        o = g.nodes[n]["value"]
        if isinstance(o, ir.Op) and lookup(o.kind) is not None:
            total += lookup(o.kind).macs(g, o)
    return fc < FC_FAST_MIN_MACS and 100 * fc < total


def _int8_fcs(g):
    """The model's int8 (not hybrid) FULLY_CONNECTED ops."""
    for n in g.nodes:
        o = g.nodes[n]["value"]
        if isinstance(o, ir.Op) and o.kind == FullyConnected.kind and ir.tensor(g, o.inputs[0]).dtype == "int8" \
                and not is_hybrid(g, o):
            yield o


@register
class FullyConnected(OpDef):
    kind = "FULLY_CONNECTED"
    options_class = tflite.FullyConnectedOptions
    optional_inputs = frozenset({2})            # bias
    clamp_keys = ("act_range", "act_range")
    kernel = "tcc_fully_connected"
    compressed_slot = 1

    def weight_rows(self, g, o):
        """int8: the weights [units][depth] (tcc_fully_connected_s8c)."""
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        return w.data if x.dtype == w.dtype == "int8" and not self.plain_only(g, o) else None

    def plain_only(self, g, o):
        """TFLite's int8 kernel rounds once (x * mult + 2^(30 - shift) >> 31 - shift), TFLite
        Micro's twice (a doubling high multiply, then a rounding shift): 1 LSB apart on about one
        output in a thousand. A model TFLite Micro cannot run follows TFLite (plain kernel only)."""
        return bool(o.params.get("single_round")) or _uint8.is_uint8(g, o)

    def tflm_reference_reliable(self, g, o):
        return not _uint8.is_uint8(g, o)    # TFLite Micro has no uint8 FULLY_CONNECTED

    def reference_note(self, g, o):
        if not o.params.get("single_round"):
            return ""
        return (f"{self.kind} int8 rounds once, as TFLite's kernel (TFLite Micro's rounds twice): the model's "
                f"reference is TFLite")

    def read_options(self, opts):
        if opts is None:
            return dict(activation="NONE", keep_num_dims=False, asymmetric_quantize_inputs=False)
        if opts.WeightsFormat() != 0:
            raise TinyccError("shuffled weights format is not supported")
        # asymmetric_quantize_inputs only matters for hybrid (int8 weights, float32 input).
        return dict(activation=activation(opts), keep_num_dims=bool(opts.KeepNumDims()),
                    asymmetric_quantize_inputs=bool(opts.AsymmetricQuantizeInputs()))

    def check(self, g, o):
        self.expect_arity(o, (2, 3))
        uint8 = _uint8.is_uint8(g, o)
        dt = "uint8" if uint8 else self.dtype_of(g, o, int16=True)
        x, w, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1]), ir.tensor(g, o.outputs[0])
        if len(w.shape) != 2 or w.shape[1] == 0:
            raise self.fail(o, f"weights must be 2-D [units, depth], got {list(w.shape)}", w.name)
        units, depth = w.shape
        if uint8:
            _uint8.check(self, g, o, depth)
        else:
            check_weights(self, g, o, dt)
        if x.size % depth:
            raise self.fail(o, f"input of {x.size} elements is not a multiple of depth {depth}", x.name)
        if len(o.inputs) > 2 and o.inputs[2] is not None:
            self.expect_shape(g, o, o.inputs[2], (units,))
        if y.size != (x.size // depth) * units:
            raise self.fail(o, f"output shape {list(y.shape)} does not hold {x.size // depth}x{units}", y.name)
        if is_hybrid(g, o):
            check_hybrid_weights(self, o, w, units, depth)
        if dt == "int8":  # issue 6: requantization range and int32 accumulator bound
            quant.check_int8_accumulation(self, o, x, w, y,
                                             bias_data(g, o), 0)
        if dt == "int16":
            check_s16(self, g, o, 0)
            b = bias_tensor(g, o)
            if not w.quant.per_channel and b is not None:
                # TFLite Micro's per-tensor path (GetQuantizedConvolutionMultipler) checks the bias scale
                prod = float(np.float32(x.quant.scale[0]) * np.float32(w.quant.scale[0]))
                bs = float(b.quant.scale[0]) if b.quant is not None and b.quant.scale else 0.0
                if not abs(prod - bs) / float(y.quant.scale[0]) <= 0.02:
                    raise self.fail(o, f"bias scale {bs:.6g} differs from input scale x weight scale {prod:.6g} "
                                       f"by more than 0.02 output steps", b.name)

    def prepare(self, g, o):
        x, w, y = (ir.tensor(g, t) for t in (o.inputs[0], o.inputs[1], o.outputs[0]))
        units, depth = w.shape
        shape = dict(batches=x.size // depth, in_depth=depth, out_depth=units)
        if x.dtype == "uint8":
            return _uint8.params(g, o, _uint8.fc_shape(x.size // depth, depth, units), w.data)
        if x.dtype == "float32":
            p = FCParams(**shape, act_range=activation_range_float(o.attrs["activation"]))
            if w.dtype == "int8":
                # TFLite's fully_connected.cc: per-channel scales whenever there is more
                # than one; asymmetric input quantization only when the option asks.
                p = replace(p, hybrid_asymmetric=bool(o.attrs.get("asymmetric_quantize_inputs", False)),
                            hybrid_scales=hybrid_scales(w, w.quant.per_channel))
            return p
        if x.dtype == "int16":
            return FCParams(**shape, **s16_params(g, o, 0, float_product=not w.quant.per_channel))
        bias = bias_data(g, o)
        in_zp, out_zp = x.quant.zero_point[0], y.quant.zero_point[0]
        mult, shift = quant.conv_output_multipliers(
            x.quant.scale[0], per_channel_scales(w, units), y.quant.scale[0])
        return FCParams(**shape, act_range=activation_range_int8(o.attrs["activation"], y.quant.scale[0], out_zp),
                        out_zp=out_zp, mult=mult, shift=shift, bias=folded_bias(bias, w.data, in_zp, axis_out=0),
                        single_round=bool(g.graph.get("tflite_reference")))

    def emit(self, g, o, ctx):
        if is_hybrid(g, o):
            return self.emit_hybrid(g, o, ctx)
        if _uint8.is_uint8(g, o):
            return _uint8.emit(ctx, o)
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p = o.params
        fields = [("batches", p.batches), ("in_depth", p.in_depth), ("out_depth", p.out_depth)]
        wc = compressed_weights(ctx, o)
        if x.dtype == "int8":
            fields += [("out_zp", p.out_zp)] + s8_fields(ctx, o, w, wc is not None)
            fields += [("single_round", 1)] if p.single_round else []
            fn = "tcc_fully_connected_s8"
        elif x.dtype == "int16":
            fields += s16_fields(ctx, o, w)
            fn = "tcc_fully_connected_s16"
        else:
            fields += f32_fields(ctx, g, o, w)
            fn = "tcc_fully_connected_f32"
        params = ctx.struct(o, f"{fn}_params", fields)
        if wc:      # compressed weights (compress_weights): the decoding kernel
            ctx.call(o, f"{fn}c(&{params}, &{wc}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});",
                     "tcc_compressed")
            return
        ctx.call(o, f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});", self.kernel)

    def emit_hybrid(self, g, o, ctx):
        """int8 weights, float32 input/output/bias: runtime/kernels/tcc_hybrid.c."""
        w = ir.tensor(g, o.inputs[1])
        p = o.params
        fields = [("batches", p.batches), ("in_depth", p.in_depth), ("out_depth", p.out_depth)] + \
            hybrid_fields(ctx, g, o, w)
        params = ctx.struct(o, "tcc_fully_connected_hybrid_params", fields)
        ctx.call(o, f"tcc_fully_connected_hybrid(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});",
                 "tcc_hybrid")

    def scratch_bytes(self, g, o):
        """uint8: tcc_conv2d_u8 keeps one output row; the other kernels store as they go."""
        return _uint8.scratch_bytes(o) if _uint8.is_uint8(g, o) else 0

    def macs(self, g, o):
        w = ir.tensor(g, o.inputs[1])
        return (ir.tensor(g, o.inputs[0]).size // w.shape[1]) * w.shape[0] * w.shape[1]
