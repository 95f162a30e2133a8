"""Control-flow test models (IF, WHILE), written with ``tflite_writer``: subgraph 0 is the model,
the branches, conditions and bodies are subgraphs 1, 2, ... Every condition is computed inside
the model (a comparison), so random inputs take both ways."""
from __future__ import annotations

import numpy as np

from .models_datamove import OpBuilder as ModelBuilder   # + the options of SUM, GATHER, ...

Q = {"int8": dict(scale=0.05, zero_point=3)}   # one int8 quantization for every activation


def _q(dtype: str) -> dict:
    return Q.get(dtype, {})


def _const(mb: ModelBuilder, value, dtype: str, shape, name: str) -> int:
    """A constant holding the real ``value`` (quantized with ``Q`` for int8)."""
    v = np.broadcast_to(np.asarray(value, np.float64), shape)
    if dtype == "int8":
        q = Q["int8"]
        v = np.clip(np.round(v / q["scale"]) + q["zero_point"], -128, 127)
    return mb.tensor(shape, dtype, data=v, name=name, **_q(dtype))


def if_model(dtype: str = "float32", shape=(1, 6)) -> bytes:
    """y = IF(sum(x) > 0, then: tanh(x + 0.5), else: relu(x * -0.2)): the branches differ in
    ops and constants, the condition is a REDUCE over the input compared with a constant."""
    mb = ModelBuilder(f"tinycc IF test model ({dtype})")
    x = mb.tensor(shape, dtype, name="x", **_q(dtype))
    s = mb.tensor([], dtype, name="sum", **_q(dtype))
    axes = mb.tensor([len(shape)], "int32", data=np.arange(len(shape)), name="axes")
    c = mb.tensor([], "bool", name="positive")
    y = mb.tensor(shape, dtype, name="y", **_q(dtype))
    mb.op("SUM", [x, axes], [s])
    mb.op("GREATER", [s, _const(mb, 0.0, dtype, [], "zero")], [c])
    mb.op("IF", [c, x], [y], then_subgraph_index=1, else_subgraph_index=2)

    mb.subgraph()                                          # 1: then
    xi = mb.tensor(shape, dtype, name="then_x", **_q(dtype))
    a = mb.tensor(shape, dtype, name="then_sum", **_q(dtype))
    yo = mb.tensor(shape, dtype, name="then_y", **({"scale": 1 / 128, "zero_point": 0} if dtype == "int8" else {}))
    mb.op("ADD", [xi, _const(mb, 0.5, dtype, [1], "half")], [a])
    mb.op("TANH", [a], [yo])
    then_io = ([xi], [yo])

    mb.subgraph()                                          # 2: else
    xe = mb.tensor(shape, dtype, name="else_x", **_q(dtype))
    ye = mb.tensor(shape, dtype, name="else_y", **({"scale": 1 / 128, "zero_point": 0} if dtype == "int8" else {}))
    mb.op("MUL", [xe, _const(mb, -0.2, dtype, [1], "factor")], [ye], fused_activation="RELU")
    else_io = ([xe], [ye])
    mb.subgraph(0)
    if dtype == "int8":   # the model's output carries the branches' quantization
        mb._subgraphs[0][0][y].scale, mb._subgraphs[0][0][y].zero_point = [1 / 128], [0]
    return mb.build([x], [y], subgraph_io={1: then_io, 2: else_io})


def _add(mb: ModelBuilder, a: int, b: int, shape, dtype: str, name: str, **q) -> int:
    y = mb.tensor(shape, dtype, name=name, **(q or _q(dtype)))
    mb.op("ADD", [a, b], [y])
    return y


def while_accumulate_model(nested: bool = True) -> bytes:
    """A WHILE loop whose count depends on the input: (i, acc, x) start as (0, x, x); while
    sum(acc) < 6: i += 1, acc += |x| + 0.1 (with ``nested``, an IF inside the body adds twice
    that once i >= 3). Outputs: the count i and acc. The body passes x through unchanged."""
    f = "float32"
    mb = ModelBuilder("tinycc WHILE test model (accumulate)")
    x = mb.tensor([1, 4], f, name="x")
    i0 = mb.tensor([1], "int32", data=[0], name="i0")
    outs = [mb.tensor([1], "int32", name="count"), mb.tensor([1, 4], f, name="acc"),
            mb.tensor([1, 4], f, name="x_out")]
    mb.op("WHILE", [i0, x, x], outs, cond_subgraph_index=1, body_subgraph_index=2)
    io = {}

    mb.subgraph()                                          # 1: cond
    ci, ca, cx = mb.tensor([1], "int32", name="i"), mb.tensor([1, 4], f, name="acc"), mb.tensor([1, 4], f, name="x")
    s = mb.tensor([], f, name="sum")
    c = mb.tensor([], "bool", name="go_on")
    mb.op("SUM", [ca, mb.tensor([2], "int32", data=[0, 1], name="axes")], [s], keep_dims=False)
    mb.op("LESS", [s, mb.tensor([], f, data=6.0, name="limit")], [c])
    io[1] = ([ci, ca, cx], [c])

    mb.subgraph()                                          # 2: body
    bi, ba, bx = mb.tensor([1], "int32", name="i"), mb.tensor([1, 4], f, name="acc"), mb.tensor([1, 4], f, name="x")
    i1 = _add(mb, bi, mb.tensor([1], "int32", data=[1], name="one"), [1], "int32", "i_next")
    ax = mb.tensor([1, 4], f, name="abs_x")
    mb.op("ABS", [bx], [ax])
    step = _add(mb, ax, mb.tensor([1], f, data=[0.1], name="tenth"), [1, 4], f, "step")
    if nested:
        late = mb.tensor([1], "bool", name="late")
        mb.op("GREATER_EQUAL", [bi, mb.tensor([1], "int32", data=[3], name="three")], [late])
        a1 = mb.tensor([1, 4], f, name="acc_next")
        mb.op("IF", [late, ba, step], [a1], then_subgraph_index=3, else_subgraph_index=4)
    else:
        a1 = _add(mb, ba, step, [1, 4], f, "acc_next")
    io[2] = ([bi, ba, bx], [i1, a1, bx])
    if nested:
        mb.subgraph()                                      # 3: then: acc + 2 * step
        ta, ts = mb.tensor([1, 4], f, name="acc"), mb.tensor([1, 4], f, name="step")
        t2 = mb.tensor([1, 4], f, name="twice")
        mb.op("MUL", [ts, mb.tensor([1], f, data=[2.0], name="two")], [t2])
        io[3] = ([ta, ts], [_add(mb, ta, t2, [1, 4], f, "sum")])
        mb.subgraph()                                      # 4: else: acc + step
        ea, es = mb.tensor([1, 4], f, name="acc"), mb.tensor([1, 4], f, name="step")
        io[4] = ([ea, es], [_add(mb, ea, es, [1, 4], f, "sum")])
    mb.subgraph(0)
    return mb.build([x], outs[:2], subgraph_io=io)


def while_rnn_model(steps: int = 5, features: int = 4, units: int = 8, seed: int = 0) -> bytes:
    """An int8 recurrent cell run by WHILE over the time steps of the input sequence:
    h = tanh(FC(x_t) + FC(h)), x_t = GATHER(xs, i), i = 0 .. steps-1; h starts at 0; output h."""
    rng = np.random.default_rng(seed)
    xq, sq, hq = dict(scale=0.05, zero_point=3), dict(scale=0.1, zero_point=-2), dict(scale=1 / 128, zero_point=0)
    mb = ModelBuilder("tinycc WHILE test model (int8 recurrent cell)")
    xs = mb.tensor([steps, features], "int8", name="sequence", **xq)
    i0 = mb.tensor([1], "int32", data=[0], name="i0")
    h0 = mb.tensor([1, units], "int8", data=np.zeros(units), name="h0", **hq)
    outs = [mb.tensor([1], "int32", name="i_end"), mb.tensor([1, units], "int8", name="h", **hq),
            mb.tensor([steps, features], "int8", name="sequence_out", **xq)]
    mb.op("WHILE", [i0, h0, xs], outs, cond_subgraph_index=1, body_subgraph_index=2)
    io = {}

    mb.subgraph()                                          # 1: cond: i < steps
    ci = mb.tensor([1], "int32", name="i")
    ch, cx = mb.tensor([1, units], "int8", name="h", **hq), mb.tensor([steps, features], "int8", name="xs", **xq)
    c = mb.tensor([1], "bool", name="go_on")
    mb.op("LESS", [ci, mb.tensor([1], "int32", data=[steps], name="steps")], [c])
    io[1] = ([ci, ch, cx], [c])

    mb.subgraph()                                          # 2: body
    bi = mb.tensor([1], "int32", name="i")
    bh, bx = mb.tensor([1, units], "int8", name="h", **hq), mb.tensor([steps, features], "int8", name="xs", **xq)
    xt = mb.tensor([1, features], "int8", name="x_t", **xq)
    mb.op("GATHER", [bx, bi], [xt], axis=0, batch_dims=0)

    def fc(x, n_in, in_scale, name):
        w = mb.tensor([units, n_in], "int8", data=rng.integers(-25, 26, (units, n_in)), scale=0.01,
                      name=f"{name}_weights")
        b = mb.tensor([units], "int32", data=rng.integers(-300, 301, units), scale=0.01 * in_scale,
                      name=f"{name}_bias")
        y = mb.tensor([1, units], "int8", name=name, **sq)
        mb.op("FULLY_CONNECTED", [x, w, b], [y])
        return y
    s = _add(mb, fc(xt, features, xq["scale"], "input_gate"), fc(bh, units, hq["scale"], "recurrent_gate"),
             [1, units], "int8", "pre_activation", **sq)
    h1 = mb.tensor([1, units], "int8", name="h_next", **hq)
    mb.op("TANH", [s], [h1])
    i1 = _add(mb, bi, mb.tensor([1], "int32", data=[1], name="one"), [1], "int32", "i_next")
    io[2] = ([bi, bh, bx], [i1, h1, bx])
    mb.subgraph(0)
    return mb.build([xs], [outs[1]], subgraph_io=io)


def broken_model(fault: str) -> bytes:
    """A float32 WHILE/IF model with one fault tinycc must refuse in one line: "recursion" (the
    body runs the same WHILE again), "types" (a branch takes int8 where the op passes float32),
    "index" (a subgraph index past the model's subgraphs), "cond" (IF's condition is float32)."""
    mb = ModelBuilder(f"tinycc control-flow model with a fault ({fault})")
    x = mb.tensor([1, 4], "float32", name="x")
    y = mb.tensor([1, 4], "float32", name="y")
    if fault == "recursion":
        mb.op("WHILE", [x], [y], cond_subgraph_index=1, body_subgraph_index=2)
    else:
        c = mb.tensor([1], "float32" if fault == "cond" else "bool", name="c")
        mb.op("IF", [c, x], [y], then_subgraph_index=7 if fault == "index" else 1, else_subgraph_index=2)
    io = {}
    mb.subgraph()                                          # 1
    a = mb.tensor([1, 4], "int8" if fault == "types" else "float32", name="a", scale=0.1)
    flag = mb.tensor([1], "bool", name="flag")
    if fault == "recursion":
        mb.op("LESS", [a, mb.tensor([1], "float32", data=[0.0], name="zero")], [flag])
        io[1] = ([a], [flag])
    else:
        io[1] = ([a], [a])
    mb.subgraph()                                          # 2
    b = mb.tensor([1, 4], "float32", name="b")
    b2 = mb.tensor([1, 4], "float32", name="b2")
    mb.op("WHILE" if fault == "recursion" else "ABS", [b], [b2],
          **(dict(cond_subgraph_index=1, body_subgraph_index=2) if fault == "recursion" else {}))
    io[2] = ([b], [b2])
    mb.subgraph(0)
    inputs = [x] if fault == "recursion" else [c, x]
    return mb.build(inputs, [y], subgraph_io=io)
