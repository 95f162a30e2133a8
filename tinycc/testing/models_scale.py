"""Large synthetic int8 models for compile-time benchmarks and tests (bench/compile_time.py).

Each generator takes the number of operators wanted and returns ``.tflite`` bytes with about
that many ops (within a cell's size), built with :class:`~tinycc.testing.models.NetBuilder`:

* ``chain``: one long path of small FULLY_CONNECTED layers (every tensor dies at the next op);
* ``wide``: the input feeds many parallel branches of FULLY_CONNECTED layers, joined by a tree
  of ADDs (many buffers live at once, many topological orders);
* ``lstm``: an LSTM-like recurrent cell unrolled over time, as the converter writes an RNN:
  every time step's input slice is computed up front (live until its step), then per step
  gate FCs from the slice and from the state, ADDs into the state, and the new state.
"""
from __future__ import annotations

import numpy as np

from .models import NetBuilder

UNITS = 16      # features of every small tensor


def chain(n_ops: int, seed: int = 0) -> bytes:
    nb = NetBuilder(np.random.default_rng(seed), description=f"chain of {n_ops} ops")
    x = nb.input([1, UNITS])
    y = x
    for _ in range(n_ops):
        y = nb.fully_connected(y, UNITS, "RELU")
    return nb.build([x], [y])


def wide(n_ops: int, branches: int = 25, seed: int = 0) -> bytes:
    """``branches`` parallel chains of FCs, then ADDs joining them pairwise."""
    nb = NetBuilder(np.random.default_rng(seed), description=f"{branches} branches, {n_ops} ops")
    x = nb.input([1, UNITS])
    depth = max(1, (n_ops - (branches - 1)) // branches)
    tips = []
    for _ in range(branches):
        y = x
        for _ in range(depth):
            y = nb.fully_connected(y, UNITS, "RELU")
        tips.append(y)
    while len(tips) > 1:
        tips = [nb.add(tips[i], tips[i + 1]) if i + 1 < len(tips) else tips[i] for i in range(0, len(tips), 2)]
    return nb.build([x], tips)


def lstm(n_ops: int, seed: int = 0) -> bytes:
    """6 ops per time step: the step's input slice (computed up front), two gate FCs, two ADDs,
    the new state."""
    nb = NetBuilder(np.random.default_rng(seed), description=f"unrolled cell, {n_ops} ops")
    x = nb.input([1, UNITS])
    steps = max(1, n_ops // 6)
    slices = [nb.fully_connected(x, UNITS) for _ in range(steps)]
    h = c = nb.fully_connected(x, UNITS, "RELU")
    for xt in slices:
        gate = nb.add(nb.fully_connected(xt, UNITS), nb.fully_connected(h, UNITS), "RELU")
        c = nb.add(c, gate, "RELU_N1_TO_1")
        h = nb.fully_connected(c, UNITS, "RELU")
    return nb.build([x], [h])


SHAPES = {"chain": chain, "wide": wide, "lstm": lstm}
