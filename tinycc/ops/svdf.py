"""SVDF: a rank-r factorised filter over time, with persistent state (TFLite Micro's svdf_common.cc).

Inputs: 0 input [batches, input_size], 1 weights_feature [filters, input_size], 2 weights_time
[filters, memory], 3 bias [units] (TFLite's schema makes it optional, but TFLite Micro crashes
without it, so tinycc requires it), 4 activation_state [batches, memory *
filters], a variable tensor (``ir.Tensor.variable``) that lives in the state region. units =
filters / rank. One step:
  1. the state shifts left by one element (the oldest column of every filter drops out);
  2. feature: state[b][f][memory-1] = weights_feature[f] . input[b]
     (int8: requantized by (input * weights_feature / state) scales, plus the state zero point,
     saturated to the state type: int16 or int8);
  3. time: s[f] = weights_time[f] . (state[b][f] - state_zp), summed in order;
  4. out[b][u] = bias[u] + sum over the rank of s[u * rank + k]; float32 applies the fused
     activation; int8 requantizes by (state * weights_time / output) scales, adds the output zero
     point and saturates (TFLite Micro ignores the fused activation of int8 SVDF).
TFLite Micro starts the state at zero (the zero point for an int8 state); so does NAME_reset().
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from . import OpDef, activation, activation_range_float, register


@dataclass(frozen=True, eq=False, kw_only=True)
class SvdfParams(ir.Params):
    """What tcc_svdf_f32_params / tcc_svdf_s8_params hold."""
    batches: int
    input_size: int
    filters: int
    units: int
    rank: int
    memory: int
    act_range: tuple = (0.0, 0.0)          # float32: the fused activation as a clamp
    state_zp: int = 0                       # int8 arithmetic below
    out_zp: int = 0
    mult1: int = 0
    shift1: int = 0
    mult2: int = 0
    shift2: int = 0
    feature_bias: np.ndarray | None = None  # -input_zp * sum(weights_feature[f])


@register
class Svdf(OpDef):
    kind = "SVDF"
    options_class = tflite.SVDFOptions
    optional_inputs = frozenset({3})        # bias: optional in the schema (refused by check)
    state_inputs = frozenset({4})
    kernel = "tcc_svdf"

    def read_options(self, opts):
        if opts is None:
            return dict(rank=0, activation="NONE")
        return dict(rank=int(opts.Rank()), activation=activation(opts))

    def check(self, g, o):
        self.expect_arity(o, (3, 5))
        if len(o.inputs) != 5 or o.inputs[4] is None:
            raise self.fail(o, "input 4 (the activation state) is missing")
        x, wf, wt, st, y = (ir.tensor(g, t) for t in (*o.inputs[:3], o.inputs[4], o.outputs[0]))
        if o.inputs[3] is None:
            raise self.fail(o, "SVDF without a bias is not supported (TFLite Micro crashes on it)")
        bias = ir.tensor(g, o.inputs[3])
        if not st.variable:
            raise self.fail(o, "the activation state (input 4) must be a variable tensor", st.name)
        for t in (wf, wt, bias):
            if not t.is_const:
                raise self.fail(o, "weights and bias must be constant", t.name)
        rank = o.attrs["rank"]
        if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2:
            raise self.fail(o, "input, weights_feature and weights_time must be 2-D", x.name)
        batches, input_size = x.shape
        filters, memory = wt.shape
        if rank <= 0 or filters % rank or wf.shape != (filters, input_size):
            raise self.fail(o, f"rank {rank} and weights_feature {list(wf.shape)} do not fit "
                               f"weights_time {list(wt.shape)} and input {list(x.shape)}", wf.name)
        units = filters // rank
        self.expect_shape(g, o, o.outputs[0], (batches, units))
        self.expect_shape(g, o, o.inputs[4], (batches, memory * filters))
        self.expect_shape(g, o, o.inputs[3], (units,))
        if x.dtype == "float32":
            for t in (wf, wt, st, y, bias):
                if t.dtype != "float32":
                    raise self.fail(o, f"float32 SVDF with a {t.dtype} tensor is not supported", t.name)
            return
        if x.dtype != "int8":
            raise self.fail(o, f"input type {x.dtype} is not supported (int8 or float32)", x.name)
        want = {wf.name: ("int8",), wt.name: ("int16", "int8"), st.name: ("int16", "int8"), y.name: ("int8",)}
        for t in (wf, wt, st, y):
            if t.dtype not in want[t.name]:
                raise self.fail(o, f"int8 SVDF needs {' or '.join(want[t.name])} here, not {t.dtype}", t.name)
            if t.quant is None:
                raise self.fail(o, "int8 SVDF needs quantized tensors", t.name)
        if wt.dtype != st.dtype:
            raise self.fail(o, f"weights_time ({wt.dtype}) and state ({st.dtype}) types differ", st.name)
        if bias.dtype != "int32" or bias.quant is None:
            raise self.fail(o, "int8 SVDF needs an int32 quantized bias (TFLite Micro reads its scale)", bias.name)
        if abs(bias.quant.scale[0] - float(np.float32(st.quant.scale[0]) * np.float32(wt.quant.scale[0]))) >= 1e-5:
            raise self.fail(o, "bias scale is not state scale * weights_time scale (TFLite Micro refuses it)",
                            bias.name)
        s1, s2 = self._scales(x, wf, wt, st, y)
        quant.check_requantization(self, o, [s1, s2])

    @staticmethod
    def _scales(x, wf, wt, st, y) -> tuple[float, float]:
        """TFLite Micro's effective scales: float32 products and quotients, then widened."""
        f = np.float32
        s1 = f(f(x.quant.scale[0]) * f(wf.quant.scale[0])) / f(st.quant.scale[0])
        s2 = f(f(st.quant.scale[0]) * f(wt.quant.scale[0])) / f(y.quant.scale[0])
        return float(f(s1)), float(f(s2))

    def prepare(self, g, o):
        x, wf, wt, st, y = (ir.tensor(g, t) for t in (*o.inputs[:3], o.inputs[4], o.outputs[0]))
        filters, memory = wt.shape
        rank = o.attrs["rank"]
        shape = dict(batches=x.shape[0], input_size=x.shape[1], filters=filters, units=filters // rank,
                     rank=rank, memory=memory)
        if x.dtype == "float32":
            return SvdfParams(**shape, act_range=activation_range_float(o.attrs["activation"]))
        s1, s2 = self._scales(x, wf, wt, st, y)
        m1, sh1 = quant.quantize_multiplier(s1)
        m2, sh2 = quant.quantize_multiplier(s2)
        sums = wf.data.astype(np.int64).sum(axis=1)
        return SvdfParams(**shape, state_zp=st.quant.zero_point[0], out_zp=y.quant.zero_point[0],
                          mult1=m1, shift1=sh1, mult2=m2, shift2=sh2,
                          feature_bias=(-int(x.quant.zero_point[0]) * sums).astype(np.int32))

    def c_params(self, g, o, ctx, feature_weights: bool = True) -> tuple[str, str]:
        """The kernel's name for this op and its params struct (emitted), as tcc_svdf.h has them
        (runtime/kernels/arm/tcc_arm_svdf.c takes the same struct; without ``feature_weights``
        the int8 weights_feature is NULL: that kernel reads its own copy)."""
        p = o.params
        wf, wt = ir.tensor(g, o.inputs[1]), ir.tensor(g, o.inputs[2])
        bias, st = ir.tensor(g, o.inputs[3]), ir.tensor(g, o.inputs[4])
        fields = [(k, getattr(p, k)) for k in ("batches", "input_size", "filters", "units", "rank", "memory")]
        if wf.dtype == "float32":
            fields += [("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                       ("weights_feature", ctx.const_array(o, "weights_feature", "float", wf.data)),
                       ("weights_time", ctx.const_array(o, "weights_time", "float", wt.data)),
                       ("bias", ctx.const_array(o, "bias", "float", bias.data))]
            fn, struct = "tcc_svdf_f32", "tcc_svdf_f32_params"
        else:
            fields += p.c_fields("state_zp", "out_zp", "mult1", "shift1", "mult2", "shift2")
            fields += [("weights_feature", ctx.const_array(o, "weights_feature", "int8_t", wf.data)
                        if feature_weights else "NULL"),
                       ("feature_bias", ctx.const_array(o, "feature_bias", "int32_t", p.feature_bias)),
                       ("weights_time", ctx.const_array(o, "weights_time", ir.C_TYPE[wt.dtype], wt.data)),
                       ("bias", ctx.const_array(o, "bias", "int32_t", bias.data))]
            fn, struct = f"tcc_svdf_s8_{'s16' if st.dtype == 'int16' else 's8'}", "tcc_svdf_s8_params"
        return fn, ctx.struct(o, struct, fields)

    def call(self, g, o, ctx, fn: str, params: str) -> str:
        """The C call of kernel ``fn`` on this op's buffers (input, state, output)."""
        return f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.inputs[4])}, {ctx.buf(o.outputs[0])});"

    def emit(self, g, o, ctx):
        fn, params = self.c_params(g, o, ctx)
        ctx.call(o, self.call(g, o, ctx, fn, params), self.kernel)

    def macs(self, g, o):
        x, wt = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[2])
        filters, memory = wt.shape
        return x.shape[0] * filters * (x.shape[1] + memory)
