"""``tinycc build --selftest``: one input and the output the reference computed for it, for
``NAME_selftest()`` in ``NAME_selftest.c``, so a port can be checked on the device with no host link.

The input is the user's ``--selftest-input`` file(s) (read as ``tinycc run`` reads them) or one
seeded random sample (``verify``'s generator, seed 0). The expected output comes from TFLite Micro
(TFLite for hybrid models, as ``verify``), computed at build time in a child process.
``NAME_selftest`` returns 0 when every integer output is bit-exact and every float32 output within
``verify``'s tolerance, -1 when the inference fails, else the number of differing bytes (integer
outputs) plus out-of-tolerance elements (float32 outputs).
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

from . import frontend, ir
from .errors import TinyccError


def selftest_data(model, input_files=None, seed: int = 0) -> dict:
    """The self-test of ``model`` (path or bytes), for ``driver.build(selftest=...)``: {"inputs",
    "outputs" (arrays), "reference", "source" (names), "atol", "rtol"}. Only the model's inputs and
    outputs are needed, so the frontend's graph is enough (no passes run)."""
    from .runner import read_sample
    from .verify import FLOAT_ATOL, FLOAT_RTOL, random_inputs, reference_isolated, tflm_unreliable
    g = frontend.load(model)
    xs = read_sample(g, input_files) if input_files else random_inputs(g, np.random.default_rng(seed))
    n_out = len(g.graph["outputs"])
    if isinstance(model, (bytes, bytearray, memoryview)):
        with tempfile.TemporaryDirectory(prefix="tinycc-selftest-") as tmp:
            path = os.path.join(tmp, "model.tflite")
            with open(path, "wb") as f:
                f.write(bytes(model))
            name, outs, stopped = reference_isolated(path, n_out, [xs], tflm_unreliable(g))
    else:
        name, outs, stopped = reference_isolated(os.fspath(model), n_out, [xs], tflm_unreliable(g))
    if stopped[0]:
        raise TinyccError("--selftest: TFLite Micro ends the model's first invoke early (a CIRCULAR_BUFFER "
                          "with a period above 1), so one step has no outputs to check; build without --selftest")
    ys = [np.asarray(y).reshape(ir.tensor(g, t).shape) for y, t in zip(outs[0], g.graph["outputs"])]
    return dict(inputs=xs, outputs=ys, reference=name.split(";")[0], atol=FLOAT_ATOL, rtol=FLOAT_RTOL,
                source="--selftest-input" if input_files else f"seeded random, seed {seed}")
