"""UNIDIRECTIONAL_SEQUENCE_LSTM as TFLite Micro runs it (lstm_eval.h): float32, int8 (int8
activations and weights, int32 bias, int16 cell state) and 16x8 (int16 activations, int8 weights,
int64 bias, int16 cell state).

Inputs (TFLite's 24 slots): 0 input [time, batches, n_input] (time-major) or [batches, time,
n_input]; 1-4 input-to-{input, forget, cell, output} weights [n_cell, n_input]; 5-8 recurrent
weights [n_cell, n_cell]; 12-15 gate biases [n_cell]; 18 output (hidden) state and 19 cell state
[batches, n_cell], variable tensors kept in the state region. TFLite Micro refuses CIFG,
peephole (9-11), projection (16-17) and layer norm (20-23), and so does tinycc. The fused
activation (TANH) is the cell gate's; the other gates use the logistic. Output: [time, batches,
n_cell] or [batches, time, n_cell]: the hidden state of every step.

Integer LSTMs (TFLite Micro's PrepareGateParametersInteger): each gate is two fully connected
layers onto Q3.12 (scale 2^-12, int16), input x w_in with the bias and hidden x w_rec without, their
multipliers input scale x weight scale (a float32 product, as GetQuantizedConvolutionMultipler)
/ 2^-12; the gate outputs are Q0.15; forget x cell -> cell (2^-15), input x cell gate -> cell
(2^-30 / cell scale) and output x tanh(cell) -> hidden (2^-30 / hidden scale, plus the hidden
zero point) are TFLite's int16 element-wise MUL. The cell scale is taken as the power of two
nearest to it (CheckedLog2), which sets tanh's input shift; the converter's intermediate tensors
are not read (TFLite Micro ignores them too). The kernels' semantics are in
runtime/kernels/tcc_lstm.c.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from .. import tflite_schema as tflite  # the schema classes on first use, not all of tflite

from .. import ir, quant
from .. import tflm_math as T
from . import OpDef, register

REQUIRED = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 18, 19)
UNSUPPORTED = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection", 17: "projection",
               20: "layer norm", 21: "layer norm", 22: "layer norm", 23: "layer norm"}
TANH = 4   # ActivationFunctionType
W_IN, W_REC, BIAS = (1, 2, 3, 4), (5, 6, 7, 8), (12, 13, 14, 15)
GATES = ("input", "forget", "cell", "output")
# Per activation type: the weights', biases' and cell state's types TFLite Micro's kernel takes.
TYPES = {"float32": ("float32", "float32", "float32"), "int8": ("int8", "int32", "int16"),
         "int16": ("int8", "int64", "int16")}
GATE_SCALE, GATE_OUT_SCALE = 2.0 ** -12, 2.0 ** -15    # Q3.12 pre-activations, Q0.15 gate outputs


@dataclass(frozen=True, eq=False, kw_only=True)
class LstmParams(ir.Params):
    """What tcc_lstm_f32_params holds (besides the weight arrays)."""
    time: int
    batches: int
    n_input: int
    n_cell: int
    time_major: int
    cell_clip: float


@dataclass(frozen=True, eq=False, kw_only=True)
class LstmQParams(LstmParams):
    """What tcc_lstm_q_params holds besides the weights and the sigmoid table (``cell_clip``
    quantized). int8: the zero points folded into ``bias_in`` / ``bias_rec`` (int32); 16x8:
    ``bias_in`` is the model's int64 bias and ``bias_rec`` is None."""
    bias_in: tuple
    bias_rec: tuple | None
    mult_in: tuple
    shift_in: tuple
    mult_rec: tuple
    shift_rec: tuple
    forget_mult: int
    forget_shift: int
    input_mult: int
    input_shift: int
    hidden_mult: int
    hidden_shift: int
    hidden_zp: int
    hidden_min: int
    hidden_max: int
    tanh_mult: int
    tanh_shift: int


def _scale(t: ir.Tensor) -> float:
    return float(t.quant.scale[0])


def cell_scale_power(scale: float) -> int:
    """CheckedLog2 of the cell state's scale: log2 in float32, rounded half away from zero."""
    return T.roundf(np.float32(math.log(np.float32(scale))) * np.float32(1.0 / math.log(2.0)))


def tanh_input(power: int) -> tuple[int, int]:
    """(multiplier, right shift) that bring a cell state of scale 2^power to the sigmoid table's
    1/(3 * 4096) units (TFLite Micro's Tanh with left shift 12 + power)."""
    left = 12 + power
    return (3 << left, 0) if left >= 0 else (3, -left)


def c_ints(values) -> str:
    """A C brace list of ints."""
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


@register
class UnidirectionalSequenceLstm(OpDef):
    kind = "UNIDIRECTIONAL_SEQUENCE_LSTM"
    options_class = tflite.UnidirectionalSequenceLSTMOptions
    optional_inputs = frozenset(range(24)) - frozenset(REQUIRED)
    state_inputs = frozenset({18, 19})      # output (hidden) state, cell state
    kernel = "tcc_lstm"

    def read_options(self, opts):
        if opts is None:
            return dict(activation_code=TANH, cell_clip=0.0, proj_clip=0.0, time_major=True)
        return dict(activation_code=int(opts.FusedActivationFunction()), cell_clip=float(opts.CellClip()),
                    proj_clip=float(opts.ProjClip()), time_major=bool(opts.TimeMajor()))

    def check(self, g, o):
        if len(o.inputs) != 24 or len(o.outputs) != 1:
            raise self.fail(o, f"expects 24 inputs and 1 output, has {len(o.inputs)} and {len(o.outputs)}")
        for slot in REQUIRED:
            if o.inputs[slot] is None:
                raise self.fail(o, f"input {slot} is missing (TFLite Micro supports no CIFG LSTM)")
        for slot, what in UNSUPPORTED.items():
            if o.inputs[slot] is not None:
                raise self.fail(o, f"{what} (input {slot}) is not supported (TFLite Micro does not support it either)",
                                ir.tensor(g, o.inputs[slot]).name)
        if o.attrs["activation_code"] != TANH:
            raise self.fail(o, f"fused activation code {o.attrs['activation_code']} is not supported (TANH)")
        if o.attrs["cell_clip"] < 0:
            raise self.fail(o, "a negative cell clip is not supported (TFLite Micro refuses it)")
        x = ir.tensor(g, o.inputs[0])
        if x.dtype not in TYPES:
            raise self.fail(o, f"input type {x.dtype} is not supported (float32, int8 or int16)", x.name)
        w_type, b_type, c_type = TYPES[x.dtype]
        expected = {**{s: w_type for s in W_IN + W_REC}, **{s: b_type for s in BIAS}, 18: x.dtype, 19: c_type}
        for slot, dt in expected.items():
            t = ir.tensor(g, o.inputs[slot])
            if t.dtype != dt:
                raise self.fail(o, f"a {x.dtype} LSTM needs {dt} for input {slot}, not {t.dtype}", t.name)
        y = ir.tensor(g, o.outputs[0])
        if y.dtype != x.dtype:
            raise self.fail(o, f"mixed types {x.dtype} and {y.dtype}", y.name)
        if len(x.shape) != 3:
            raise self.fail(o, f"input must be 3-D, got {list(x.shape)}", x.name)
        time, batches = x.shape[:2] if o.attrs["time_major"] else x.shape[1::-1]
        n_input = x.shape[2]
        n_cell = ir.tensor(g, o.inputs[2]).shape[0] if len(ir.tensor(g, o.inputs[2]).shape) == 2 else 0
        for slot in W_IN:
            self.expect_shape(g, o, o.inputs[slot], (n_cell, n_input))
        for slot in W_REC:
            self.expect_shape(g, o, o.inputs[slot], (n_cell, n_cell))
        for slot in BIAS:
            self.expect_shape(g, o, o.inputs[slot], (n_cell,))
        for slot in W_IN + W_REC + BIAS:
            if not ir.tensor(g, o.inputs[slot]).is_const:
                raise self.fail(o, "weights and biases must be constant", ir.tensor(g, o.inputs[slot]).name)
        for slot in (18, 19):
            if not ir.tensor(g, o.inputs[slot]).variable:
                raise self.fail(o, f"input {slot} (a state) must be a variable tensor", ir.tensor(g, o.inputs[slot]).name)
            self.expect_shape(g, o, o.inputs[slot], (batches, n_cell))
        self.expect_shape(g, o, o.outputs[0], (*x.shape[:2], n_cell))
        if x.dtype != "float32":
            self.check_quantized(g, o)

    def check_quantized(self, g, o):
        """Per-tensor quantization everywhere (the gates' fully connected layers take one
        multiplier); int16 activations and the cell state symmetric."""
        for slot in (0, 18, 19, *W_IN, *W_REC):
            t = ir.tensor(g, o.inputs[slot])
            if t.quant is None or t.quant.per_channel:
                raise self.fail(o, f"input {slot} needs per-tensor quantization", t.name)
            if t.dtype in ("int16", "int8") and slot not in (0, 18) and t.quant.zero_point[0] != 0:
                raise self.fail(o, f"input {slot} needs a zero point of 0", t.name)
        x = ir.tensor(g, o.inputs[0])
        if x.dtype == "int16":
            for t in (x, ir.tensor(g, o.inputs[18])):
                if t.quant.zero_point[0] != 0:
                    raise self.fail(o, "int16 activations need a zero point of 0", t.name)
        p = self.prepare(g, o)
        if x.dtype == "int16" and max(p.shift_in + p.shift_rec) > 7:
            raise self.fail(o, "a gate's requantization multiplier is at least 2^7 (TFLite's int64 "
                               "requantization takes less)", x.name)
        biases = p.bias_in + (p.bias_rec or ())
        if x.dtype == "int8" and any(np.abs(np.asarray(b, np.int64)).max(initial=0) >= 2**31 for b in biases):
            raise self.fail(o, "the bias with the input zero point folded in overflows int32")

    def prepare(self, g, o):
        x = ir.tensor(g, o.inputs[0])
        time, batches = x.shape[:2] if o.attrs["time_major"] else x.shape[1::-1]
        shape = dict(time=time, batches=batches, n_input=x.shape[2], n_cell=ir.tensor(g, o.inputs[2]).shape[0],
                     time_major=int(o.attrs["time_major"]))
        if x.dtype == "float32":
            return LstmParams(**shape, cell_clip=o.attrs["cell_clip"])
        h, c = ir.tensor(g, o.inputs[18]), ir.tensor(g, o.inputs[19])
        w_in = [ir.tensor(g, o.inputs[s]) for s in W_IN]
        w_rec = [ir.tensor(g, o.inputs[s]) for s in W_REC]

        def fc(src: ir.Tensor, w: ir.Tensor) -> tuple[int, int]:
            # GetQuantizedConvolutionMultipler: the scales' product in float32, then double
            return quant.quantize_multiplier(float(np.float32(_scale(src)) * np.float32(_scale(w))) / GATE_SCALE)
        ins, recs = [fc(x, w) for w in w_in], [fc(h, w) for w in w_rec]
        if x.dtype == "int8":
            x_zp, h_zp = int(x.quant.zero_point[0]), int(h.quant.zero_point[0])
            bias_in = tuple(tuple(int(v) for v in ir.tensor(g, o.inputs[b]).data.astype(np.int64)
                                  - x_zp * w.data.astype(np.int64).sum(axis=1)) for b, w in zip(BIAS, w_in))
            bias_rec = tuple(tuple(int(v) for v in -h_zp * w.data.astype(np.int64).sum(axis=1)) for w in w_rec)
            hidden_range = (-128, 127)
        else:
            bias_in = tuple(tuple(int(v) for v in ir.tensor(g, o.inputs[b]).data.astype(np.int64)) for b in BIAS)
            bias_rec, h_zp, hidden_range = None, 0, (-32768, 32767)
        cs = _scale(c)
        forget = quant.quantize_multiplier(GATE_OUT_SCALE * cs / cs)
        inp = quant.quantize_multiplier(GATE_OUT_SCALE * GATE_OUT_SCALE / cs)
        hidden = quant.quantize_multiplier(GATE_OUT_SCALE * GATE_OUT_SCALE / _scale(h))
        tanh_mult, tanh_shift = tanh_input(cell_scale_power(cs))
        clip = o.attrs["cell_clip"]
        qclip = int(min(max(float(np.float32(clip)) / cs, -32768.0), 32767.0)) if clip > 0 else 0
        return LstmQParams(**shape, cell_clip=qclip, bias_in=bias_in, bias_rec=bias_rec,
                           mult_in=tuple(m for m, _ in ins), shift_in=tuple(s for _, s in ins),
                           mult_rec=tuple(m for m, _ in recs), shift_rec=tuple(s for _, s in recs),
                           forget_mult=forget[0], forget_shift=forget[1], input_mult=inp[0], input_shift=inp[1],
                           hidden_mult=hidden[0], hidden_shift=hidden[1], hidden_zp=h_zp,
                           hidden_min=hidden_range[0], hidden_max=hidden_range[1],
                           tanh_mult=tanh_mult, tanh_shift=tanh_shift)

    def scratch_bytes(self, g, o):
        """The four gates of one step (float32, or int16 for the integer kernels)."""
        size = 4 if ir.tensor(g, o.inputs[0]).dtype == "float32" else 2
        return size * 4 * o.params.n_cell

    def emit(self, g, o, ctx):
        x = ir.tensor(g, o.inputs[0])
        if x.dtype == "float32":
            p = o.params
            arrays = [(k, "{" + ", ".join(ctx.const_array(o, f"{gate}_{k}", "float", ir.tensor(g, o.inputs[s]).data)
                                          for gate, s in zip(GATES, slots)) + "}")
                      for k, slots in (("w_in", W_IN), ("w_rec", W_REC), ("bias", BIAS))]
            decl = ctx.struct(o, "tcc_lstm_f32_params", [*self.shape_fields(o), ("cell_sigmoid", 0),
                                                         ("cell_clip", p.cell_clip), *arrays])
            fn, ctype = "tcc_lstm_f32", "float"
        else:
            decl = ctx.struct(o, "tcc_lstm_q_params", self.q_fields(g, o, ctx))
            fn, ctype = f"tcc_lstm_{'s8' if x.dtype == 'int8' else 's16'}", "int16_t"
        ctx.call(o, self.call(g, o, ctx, fn, decl, ctype), self.kernel)

    @staticmethod
    def shape_fields(o) -> list:
        return [(k, getattr(o.params, k)) for k in ("time", "batches", "n_input", "n_cell", "time_major")]

    def q_fields(self, g, o, ctx, weights: bool = True) -> list:
        """The fields of tcc_lstm_q_params (an integer LSTM), its constant arrays emitted (the gates'
        int8 weights only with ``weights``: the units on widened weights do without them)."""
        p = o.params

        def arrays(what, ctype, values):
            return "{" + ", ".join(ctx.const_array(o, f"{gate}_{what}", ctype, v) for gate, v in zip(GATES, values)) + "}"

        def int8(slots, what):
            return arrays(what, "int8_t", [ir.tensor(g, o.inputs[s]).data for s in slots])
        fields = [*self.shape_fields(o)]
        if weights:
            fields += [("w_in", int8(W_IN, "w_in")), ("w_rec", int8(W_REC, "w_rec"))]
        if ir.tensor(g, o.inputs[0]).dtype == "int8":
            fields += [("bias_in", arrays("bias_in", "int32_t", p.bias_in)),
                       ("bias_rec", arrays("bias_rec", "int32_t", p.bias_rec))]
        else:
            fields += [("bias64", arrays("bias", "int64_t", p.bias_in))]
        fields += [(k, c_ints(getattr(p, k))) for k in ("mult_in", "shift_in", "mult_rec", "shift_rec")]
        fields += p.c_fields("forget_mult", "forget_shift", "input_mult", "input_shift", "hidden_mult",
                             "hidden_shift", "hidden_zp", "hidden_min", "hidden_max", "tanh_mult", "tanh_shift",
                             "cell_clip")
        fields.append(("table", ctx.const_array(o, "sigmoid_table", "uint16_t", T.sigmoid_table_u16())))
        return fields

    @staticmethod
    def call(g, o, ctx, fn: str, params: str, scratch_ctype: str) -> str:
        """The kernel call: params, input, hidden state, cell state, output, scratch."""
        return (f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.inputs[18])}, {ctx.buf(o.inputs[19])}, "
                f"{ctx.buf(o.outputs[0])}, ({scratch_ctype} *){ctx.scratch(o)});")

    def macs(self, g, o):
        p = o.params if isinstance(o.params, LstmParams) else self.prepare(g, o)
        return p.time * p.batches * 4 * p.n_cell * (p.n_input + p.n_cell)
