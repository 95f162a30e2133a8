"""Generators of test models with persistent state: SVDF (variable state tensor).

Each returns the model's bytes (``tinycc.testing.tflite_writer``). The state tensor is written
with ``is_variable`` set, as TensorFlow's converter writes it. int8 models are quantized as the
converter does for SVDF: int8 input/output and feature weights, int16 (or int8) time weights
and state, int32 bias whose scale is state scale x time-weights scale.
"""
from __future__ import annotations

import numpy as np

from .tflite_writer import ModelBuilder


def _sym_scale(values: np.ndarray, qmax: int) -> float:
    return float(np.float32(max(float(np.abs(values).max()), 1e-6) / qmax))


def svdf_model(dtype: str = "float32", *, state_dtype: str = "int16", batches: int = 1, input_size: int = 12,
               filters: int = 8, rank: int = 2, memory: int = 5, activation: str = "NONE",
               seed: int = 0) -> bytes:
    """One SVDF op: input [batches, input_size] -> output [batches, filters // rank]."""
    rng = np.random.default_rng(seed)
    units = filters // rank
    wf = rng.standard_normal((filters, input_size)).astype(np.float32) * 0.4
    wt = rng.standard_normal((filters, memory)).astype(np.float32) * 0.5
    b = rng.standard_normal(units).astype(np.float32) * 0.3
    mb = ModelBuilder(f"tinycc SVDF test model ({dtype})")
    if dtype == "float32":
        x = mb.tensor([batches, input_size], "float32", name="input")
        twf = mb.tensor(wf.shape, "float32", data=wf, name="weights_feature")
        twt = mb.tensor(wt.shape, "float32", data=wt, name="weights_time")
        tb = mb.tensor([units], "float32", data=b, name="bias")
        st = mb.tensor([batches, memory * filters], "float32", name="state", variable=True)
        y = mb.tensor([batches, units], "float32", name="output")
    else:
        qmax = 32767 if state_dtype == "int16" else 127
        in_s, in_zp = 1.0 / 40, int(rng.integers(-20, 20))
        wf_s = _sym_scale(wf, 127)
        st_s = float(np.float32(4.0 * np.sqrt(input_size) * 0.4 * 3.0 / qmax * (1 if qmax == 127 else 1)))
        st_zp = int(rng.integers(-10, 10)) if state_dtype == "int8" else 0
        wt_s = _sym_scale(wt, qmax)
        b_s = float(np.float32(st_s) * np.float32(wt_s))
        out_s, out_zp = 3.0 * np.sqrt(memory * rank) * 2.0 / 255, int(rng.integers(-10, 10))
        x = mb.tensor([batches, input_size], "int8", scale=in_s, zero_point=in_zp, name="input")
        twf = mb.tensor(wf.shape, "int8", data=np.clip(np.round(wf / wf_s), -127, 127), scale=wf_s, name="weights_feature")
        twt = mb.tensor(wt.shape, state_dtype, data=np.clip(np.round(wt / wt_s), -qmax, qmax), scale=wt_s,
                        name="weights_time")
        tb = mb.tensor([units], "int32", data=np.round(b / b_s), scale=b_s, name="bias")
        st = mb.tensor([batches, memory * filters], state_dtype, scale=st_s, zero_point=st_zp, name="state",
                       variable=True)
        y = mb.tensor([batches, units], "int8", scale=out_s, zero_point=out_zp, name="output")
    mb.op("SVDF", [x, twf, twt, tb, st], [y], rank=rank, fused_activation=activation)
    return mb.build([x], [y])


def accumulator_model(dtype: str = "float32", shape=(1, 6), init: bool = True, seed: int = 0) -> bytes:
    """A resource variable that sums the inputs: CALL_ONCE runs subgraph 1, which assigns the
    variable its initial value (a constant); subgraph 0 reads it, adds the input, assigns the sum
    back and outputs it (``init=False``: no CALL_ONCE, the variable starts at its zero point)."""
    rng = np.random.default_rng(seed)
    q = dict(scale=0.05, zero_point=int(rng.integers(-5, 5))) if dtype == "int8" else {}
    start = rng.standard_normal(shape).astype(np.float32)
    if dtype == "int8":
        start = np.clip(np.round(start / q["scale"]) + q["zero_point"], -128, 127)
    mb = ModelBuilder(f"tinycc resource variable test model ({dtype})")
    x = mb.tensor(shape, dtype, name="input", **q)
    h = mb.tensor([], "resource", name="handle")
    v = mb.tensor(shape, dtype, name="value", **q)
    y = mb.tensor(shape, dtype, name="sum", **q)
    if init:
        mb.op("CALL_ONCE", [], [], init_subgraph_index=1)
    mb.op("VAR_HANDLE", [], [h], shared_name="acc")
    mb.op("READ_VARIABLE", [h], [v])
    mb.op("ADD", [x, v], [y])
    mb.op("ASSIGN_VARIABLE", [h, y], [])
    if init:
        mb.subgraph()
        h1 = mb.tensor([], "resource", name="handle")
        c = mb.tensor(shape, dtype, data=start, name="initial", **q)
        mb.op("VAR_HANDLE", [], [h1], shared_name="acc")
        mb.op("ASSIGN_VARIABLE", [h1, c], [])
        mb.subgraph(0)
    return mb.build([x], [y])


def delay_model(dtype: str = "int8", shape=(2, 3)) -> bytes:
    """Output = the previous invoke's input (zero point at first): READ_VARIABLE first, then
    ASSIGN_VARIABLE of the input, with no data dependency between them, so only the model's
    order says the read comes first. Two handles name the one variable."""
    q = dict(scale=0.1, zero_point=-3) if dtype == "int8" else {}
    mb = ModelBuilder(f"tinycc delay-line test model ({dtype})")
    x = mb.tensor(shape, dtype, name="input", **q)
    h1 = mb.tensor([], "resource", name="h1")
    h2 = mb.tensor([], "resource", name="h2")
    y = mb.tensor(shape, dtype, name="previous", **q)
    mb.op("VAR_HANDLE", [], [h1], container="c", shared_name="line")
    mb.op("READ_VARIABLE", [h1], [y])
    mb.op("VAR_HANDLE", [], [h2], container="c", shared_name="line")
    mb.op("ASSIGN_VARIABLE", [h2, x], [])
    return mb.build([x], [y])


def lstm_model(*, time: int = 3, batches: int = 2, n_input: int = 5, n_cell: int = 4, time_major: bool = True,
               cell_clip: float = 0.0, seed: int = 0, dtype: str = "float32", cell_power: int = -11,
               in_scale: float | None = None, mb: ModelBuilder | None = None, x: int | None = None,
               cell_dtype: str | None = None):
    """One UNIDIRECTIONAL_SEQUENCE_LSTM without peephole, projection or layer norm (what TFLite
    Micro supports): input [time, batches, n_input] (time-major) or [batches, time, n_input];
    output_state [batches, n_cell] and cell_state [batches, n_cell] are variable.

    ``dtype`` float32; int8 (int8 weights, int32 bias, int16 cell state of scale 2^cell_power, the
    input and hidden state with zero points); int16 (16x8: int8 weights, int64 bias, symmetric
    int16 activations; ``cell_dtype`` another cell state type). With ``mb`` (and the input tensor ``x``) the op is added to that model and
    its output tensor returned, else the model's bytes."""
    rng = np.random.default_rng(seed)
    own = mb is None
    mb = mb or ModelBuilder(f"tinycc UNIDIRECTIONAL_SEQUENCE_LSTM test model ({dtype})")
    seq = [time, batches] if time_major else [batches, time]
    quantized = dtype != "float32"
    qmax = {"int8": 127, "int16": 32767}.get(dtype, 0)
    if in_scale is None:
        in_scale = {"int8": 1 / 40, "int16": 1 / 4096}.get(dtype)
    act_q = {"float32": {}, "int16": dict(scale=2**-15)}.get(dtype) or dict(scale=1 / 128,
                                                                             zero_point=int(rng.integers(-8, 8)))
    if x is None:
        in_q = dict(scale=in_scale, zero_point=int(rng.integers(-10, 10)) if dtype == "int8" else 0) if quantized else {}
        x = mb.tensor([*seq, n_input], dtype, name="input", **in_q)
    x_scale = float(np.float32(in_scale)) if quantized else 1.0

    def weights(shape, name, k=0.5):
        w = rng.standard_normal(shape).astype(np.float32) * k
        if not quantized:
            return mb.tensor(shape, "float32", data=w, name=name), 1.0
        s = _sym_scale(w, 127)
        return mb.tensor(shape, "int8", data=np.clip(np.round(w / s), -127, 127), scale=s, name=name), s

    def bias(name, w_scale, k=0.2):
        b = rng.standard_normal(n_cell).astype(np.float32) * k
        if not quantized:
            return mb.tensor([n_cell], "float32", data=b, name=name)
        bs = float(np.float32(x_scale) * np.float32(w_scale))
        bt = "int32" if dtype == "int8" else "int64"
        return mb.tensor([n_cell], bt, data=np.round(b / bs).astype(np.int64), scale=bs, name=name)
    gates = ("input", "forget", "cell", "output")
    w_in = [weights([n_cell, n_input], f"input_to_{g}_weights") for g in gates]
    w_rec = [weights([n_cell, n_cell], f"recurrent_to_{g}_weights")[0] for g in gates]
    b = [bias(f"{g}_gate_bias", s) for g, (_, s) in zip(gates, w_in)]
    h = mb.tensor([batches, n_cell], dtype, name="output_state", variable=True, **act_q)
    cq = dict(scale=2.0**cell_power, zero_point=0) if quantized else {}
    c = mb.tensor([batches, n_cell], cell_dtype or ("int16" if quantized else "float32"), name="cell_state",
                  variable=True, **cq)
    y = mb.tensor([*seq, n_cell], dtype, name="output", **act_q)
    inputs = [x, *(w for w, _ in w_in), *w_rec, -1, -1, -1, *b, -1, -1, h, c, -1, -1, -1, -1]
    mb.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], fused_activation="TANH", cell_clip=cell_clip,
          time_major=time_major)
    return mb.build([x], [y]) if own else y


def lstm_stack_model(dtype: str = "int8", *, time: int = 4, n_input: int = 6, cells=(8, 5), seed: int = 3) -> bytes:
    """Two stacked LSTM layers (batch-major, batch 1), the first's output sequence the second's
    input, as Keras' LSTM(return_sequences=True) layers convert."""
    mb = ModelBuilder(f"tinycc two-layer LSTM test model ({dtype})")
    first = lstm_model(time=time, batches=1, n_input=n_input, n_cell=cells[0], time_major=False, seed=seed,
                       dtype=dtype, mb=mb)
    in_scale = {"int8": 1 / 128, "int16": 2**-15}.get(dtype)
    y = lstm_model(time=time, batches=1, n_input=cells[0], n_cell=cells[1], time_major=False, seed=seed + 1,
                   dtype=dtype, mb=mb, x=first, in_scale=in_scale, cell_clip=3.0)
    return mb.build([0], [y])


def stream_model(seed: int = 0) -> bytes:
    """Three kinds of state in one float32 model: SVDF [1, 12] -> [1, 4], RESHAPE to [1, 1, 4],
    an LSTM (n_cell 3, time-major) and a resource variable that sums the LSTM's outputs
    (initialized by CALL_ONCE); output: the running sum [1, 1, 3]."""
    rng = np.random.default_rng(seed)
    mb = ModelBuilder("tinycc streaming test model (SVDF, LSTM, resource variable)")

    def const(shape, k=0.5):
        return mb.tensor(shape, "float32", data=rng.standard_normal(shape).astype(np.float32) * k)
    x = mb.tensor([1, 12], "float32", name="input")
    svdf_state = mb.tensor([1, 5 * 8], "float32", name="svdf_state", variable=True)
    s = mb.tensor([1, 4], "float32", name="svdf_out")
    mb.op("SVDF", [x, const([8, 12], 0.3), const([8, 5]), const([4], 0.1), svdf_state], [s], rank=2,
          fused_activation="RELU")
    r = mb.tensor([1, 1, 4], "float32", name="frames")
    mb.op("RESHAPE", [s], [r], new_shape=[1, 1, 4])
    h = mb.tensor([1, 3], "float32", name="lstm_hidden", variable=True)
    c = mb.tensor([1, 3], "float32", name="lstm_cell", variable=True)
    lo = mb.tensor([1, 1, 3], "float32", name="lstm_out")
    lstm_in = [r, *[const([3, 4]) for _ in range(4)], *[const([3, 3]) for _ in range(4)], -1, -1, -1,
               *[const([3], 0.2) for _ in range(4)], -1, -1, h, c, -1, -1, -1, -1]
    mb.op("UNIDIRECTIONAL_SEQUENCE_LSTM", lstm_in, [lo], fused_activation="TANH")
    handle = mb.tensor([], "resource", name="handle")
    acc = mb.tensor([1, 1, 3], "float32", name="acc")
    y = mb.tensor([1, 1, 3], "float32", name="sum")
    mb.op("CALL_ONCE", [], [], init_subgraph_index=1)
    mb.op("VAR_HANDLE", [], [handle], shared_name="sum")
    mb.op("READ_VARIABLE", [handle], [acc])
    mb.op("ADD", [lo, acc], [y])
    mb.op("ASSIGN_VARIABLE", [handle, y], [])
    mb.subgraph()
    h1 = mb.tensor([], "resource", name="handle")
    mb.op("VAR_HANDLE", [], [h1], shared_name="sum")
    mb.op("ASSIGN_VARIABLE", [h1, const([1, 1, 3])], [])
    mb.subgraph(0)
    return mb.build([x], [y])


def circular_buffer_model(*, slots: int = 4, width: int = 1, depth: int = 3, cycles_max: int | None = None,
                          valid: bool = False, head: bool = False, seed: int = 0) -> bytes:
    """TFLite Micro's CIRCULAR_BUFFER (int8): frames [1, 1, width, depth] -> [1, slots, width, depth]
    (``cycles_max`` None: no custom options, the period from the shape), with a bool ``valid``
    output, and with ``head``: a CONV_2D over all the slots (RELU) and a FULLY_CONNECTED after it,
    the model's output then."""
    rng = np.random.default_rng(seed)
    mb = ModelBuilder("tinycc CIRCULAR_BUFFER test model")
    q = dict(scale=0.05, zero_point=-4)
    x = mb.tensor([1, 1, width, depth], "int8", name="frame", **q)
    buf = mb.tensor([1, slots, width, depth], "int8", name="frames", **q)
    outs = [buf]
    if valid:
        outs.append(mb.tensor([1], "bool", name="valid"))
    mb.custom_op("CIRCULAR_BUFFER", [x], outs, False if cycles_max is None else {"cycles_max": cycles_max})
    if head:
        ch, n = 6, 5
        w = mb.tensor([ch, slots, width, depth], "int8", data=rng.integers(-127, 128, (ch, slots, width, depth)),
                      scale=[0.01 + 0.002 * k for k in range(ch)], zero_point=[0] * ch, name="conv_w")
        b = mb.tensor([ch], "int32", data=rng.integers(-300, 300, ch), scale=[0.05 * (0.01 + 0.002 * k)
                                                                           for k in range(ch)], name="conv_b")
        c = mb.tensor([1, 1, 1, ch], "int8", scale=0.04, zero_point=-128, name="conv")
        mb.op("CONV_2D", [buf, w, b], [c], padding="VALID", fused_activation="RELU")
        fw = mb.tensor([n, ch], "int8", data=rng.integers(-127, 128, (n, ch)), scale=0.02, name="fc_w")
        y = mb.tensor([1, n], "int8", scale=0.1, zero_point=3, name="scores")
        mb.op("FULLY_CONNECTED", [c, fw, -1], [y])
        outs = [y] + outs     # the frames an output too: TFLite Micro keeps them in its arena,
        #                      where only a model output is never reused by later tensors
    return mb.build([x], outs)
