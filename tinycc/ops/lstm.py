"""UNIDIRECTIONAL_SEQUENCE_LSTM, float32, as TFLite Micro runs it (lstm_eval.h).

Inputs (TFLite's 24 slots): 0 input [time, batches, n_input] (time-major) or [batches, time,
n_input]; 1-4 input-to-{input, forget, cell, output} weights [n_cell, n_input]; 5-8 recurrent
weights [n_cell, n_cell]; 12-15 gate biases [n_cell]; 18 output (hidden) state and 19 cell state
[batches, n_cell], variable tensors kept in the state region. TFLite Micro refuses CIFG,
peephole (9-11), projection (16-17) and layer norm (20-23), and so does tinycc. The fused
activation (TANH) is the cell gate's; the other gates use the logistic. Output: [time, batches,
n_cell] or [batches, time, n_cell]: the hidden state of every step. The kernel's semantics are
in runtime/kernels/tcc_lstm.c.
"""
from __future__ import annotations

from dataclasses import dataclass

import tflite

from .. import ir
from . import OpDef, register

REQUIRED = (0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 18, 19)
UNSUPPORTED = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection", 17: "projection",
               20: "layer norm", 21: "layer norm", 22: "layer norm", 23: "layer norm"}
TANH = 4   # ActivationFunctionType


@dataclass(frozen=True, eq=False, kw_only=True)
class LstmParams(ir.Params):
    """What tcc_lstm_f32_params holds (besides the weight arrays)."""
    time: int
    batches: int
    n_input: int
    n_cell: int
    time_major: int
    cell_clip: float


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
        x = ir.tensor(g, o.inputs[0])
        if x.dtype != "float32":
            raise self.fail(o, f"input type {x.dtype} is not supported (float32; int8 LSTM is not done yet)",
                            x.name)
        for slot in REQUIRED[1:]:
            t = ir.tensor(g, o.inputs[slot])
            if t.dtype != "float32":
                raise self.fail(o, f"a float32 LSTM with a {t.dtype} tensor is not supported", t.name)
        if len(x.shape) != 3:
            raise self.fail(o, f"input must be 3-D, got {list(x.shape)}", x.name)
        time, batches = x.shape[:2] if o.attrs["time_major"] else x.shape[1::-1]
        n_input = x.shape[2]
        n_cell = ir.tensor(g, o.inputs[2]).shape[0] if len(ir.tensor(g, o.inputs[2]).shape) == 2 else 0
        for slot in (1, 2, 3, 4):
            self.expect_shape(g, o, o.inputs[slot], (n_cell, n_input))
        for slot in (5, 6, 7, 8):
            self.expect_shape(g, o, o.inputs[slot], (n_cell, n_cell))
        for slot in (12, 13, 14, 15):
            self.expect_shape(g, o, o.inputs[slot], (n_cell,))
        for slot in (1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15):
            if not ir.tensor(g, o.inputs[slot]).is_const:
                raise self.fail(o, "weights and biases must be constant", ir.tensor(g, o.inputs[slot]).name)
        for slot in (18, 19):
            if not ir.tensor(g, o.inputs[slot]).variable:
                raise self.fail(o, f"input {slot} (a state) must be a variable tensor", ir.tensor(g, o.inputs[slot]).name)
            self.expect_shape(g, o, o.inputs[slot], (batches, n_cell))
        self.expect_shape(g, o, o.outputs[0], (*x.shape[:2], n_cell))

    def prepare(self, g, o):
        x = ir.tensor(g, o.inputs[0])
        time, batches = x.shape[:2] if o.attrs["time_major"] else x.shape[1::-1]
        return LstmParams(time=time, batches=batches, n_input=x.shape[2], n_cell=ir.tensor(g, o.inputs[2]).shape[0],
                          time_major=int(o.attrs["time_major"]), cell_clip=o.attrs["cell_clip"])

    def scratch_bytes(self, g, o):
        return 4 * 4 * o.params.n_cell     # the four gates of one step

    def emit(self, g, o, ctx):
        p = o.params
        labels = ("input", "forget", "cell", "output")

        def arrays(slots, what):
            return "{" + ", ".join(ctx.const_array(o, f"{lab}_{what}", "float", ir.tensor(g, o.inputs[s]).data)
                                   for lab, s in zip(labels, slots)) + "}"
        fields = [(k, getattr(p, k)) for k in ("time", "batches", "n_input", "n_cell", "time_major")]
        fields += [("cell_sigmoid", 0), ("cell_clip", p.cell_clip), ("w_in", arrays((1, 2, 3, 4), "w_in")),
                   ("w_rec", arrays((5, 6, 7, 8), "w_rec")), ("bias", arrays((12, 13, 14, 15), "bias"))]
        decl = ctx.struct(o, "tcc_lstm_f32_params", fields)
        ctx.call(o, f"tcc_lstm_f32(&{decl}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.inputs[18])}, "
                    f"{ctx.buf(o.inputs[19])}, {ctx.buf(o.outputs[0])}, (float *){ctx.scratch(o)});", self.kernel)

    def macs(self, g, o):
        p = o.params if isinstance(o.params, LstmParams) else self.prepare(g, o)
        return p.time * p.batches * 4 * p.n_cell * (p.n_input + p.n_cell)
