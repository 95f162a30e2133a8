"""CIRCULAR_BUFFER (``tinycc/ops/circular_buffer.py``) against TFLite Micro over sequences of
invokes: alone and ahead of CONV_2D -> FULLY_CONNECTED, with the period from its option or from
the output shape, with and without its bool ``valid`` output; the stream model in QEMU.

TFLite Micro keeps the frames in its arena and, on the invokes where the op ends the run
(kTfLiteAbort), its model outputs after the op hold whatever its arena holds there: the outputs
are compared where the model ran to its end, the frames once every slot was written (TFLite Micro
starts from its arena's contents, tinycc from zeros)."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver, ir
from tinycc.selftest import selftest_data
from tinycc.errors import TinyccError
from tinycc.ops.circular_buffer import periods
from tinycc.testing.models_sequence import circular_buffer_model
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import needs_qemu, run_compiled

ABORT = 15      # kTfLiteAbort as the installed TFLite Micro's Invoke returns it


def tflm_sequence(model, batches, n_outputs):
    """(statuses, outputs) of consecutive invokes on one TFLite Micro interpreter."""
    from tflite_micro import runtime
    it = runtime.Interpreter.from_file(str(model), arena_size=1 << 16)
    statuses, outs = [], []
    for xs in batches:
        it.set_input(xs[0], 0)
        statuses.append(it.invoke())
        outs.append([np.array(it.get_output(k)) for k in range(n_outputs)])
    return statuses, outs


def check(tmp_path, mode="host", invokes=12, **kw):
    """Build and run the model over ``invokes`` frames; returns the period tinycc derived."""
    model = tmp_path / "cb.tflite"
    model.write_bytes(circular_buffer_model(**kw))
    g = driver.compile_graph(str(model))
    (period,) = periods(g).values()
    rng = np.random.default_rng(7)
    batches = [[rng.integers(-128, 128, ir.tensor(g, g.graph["inputs"][0]).shape).astype(np.int8)]
               for _ in range(invokes)]
    ours, _ = run_compiled(model, batches, tmp_path, mode, "cortex-m4", g=g)
    statuses, refs = tflm_sequence(model, batches, len(g.graph["outputs"]))
    valid, head, slots = kw.get("valid", False), kw.get("head", False), kw.get("slots", 4)
    ran = [(i + 1) % period == 0 for i in range(invokes)]
    assert statuses == [0 if r or valid else ABORT for r in ran]
    frames = 1 if head else 0
    for i, (o, r) in enumerate(zip(ours, refs)):
        if i >= slots - 1:                               # every slot written
            np.testing.assert_array_equal(o[frames], r[frames].reshape(o[frames].shape), f"frames, invoke {i}")
        if valid:
            assert bool(o[-1].item()) == ran[i] == bool(r[-1].item()), f"valid, invoke {i}"
        if head and i >= slots - 1 and (ran[i] or valid):
            np.testing.assert_array_equal(o[0], r[0].reshape(o[0].shape), f"scores, invoke {i}")
        if head and not valid and not ran[i] and i > 0:
            np.testing.assert_array_equal(o[0], ours[i - 1][0], f"scores kept, invoke {i}")
    return period


@pytest.mark.parametrize("kw, period", [
    (dict(cycles_max=3), 3),
    (dict(cycles_max=None), 2),                       # no option: 2, from the output shape
    (dict(cycles_max=None, slots=5), 1),              # 5 slots: 1
    (dict(cycles_max=2, width=2, depth=4, valid=True), 2),
])
def test_single_op(tmp_path, kw, period):
    assert check(tmp_path, **kw) == period


@pytest.mark.parametrize("valid", [False, True])
def test_ahead_of_conv_and_fc(tmp_path, valid):
    """The ops after the buffer run every period-th invoke (or every invoke, with ``valid``)."""
    check(tmp_path, head=True, valid=valid, cycles_max=None if not valid else 3)


def test_stream_in_qemu(tmp_path):
    needs_qemu()
    check(tmp_path, mode="qemu", head=True, cycles_max=None, invokes=10)


def test_header_documents_not_ready(tmp_path):
    model = tmp_path / "cb.tflite"
    model.write_bytes(circular_buffer_model(head=True, cycles_max=None))
    driver.build(str(model), str(tmp_path / "out"), "kws", "generic")
    h = (tmp_path / "out" / "kws.h").read_text()
    assert "#define kws_NOT_READY 1" in h and "every 2 invoke(s)" in h


def test_refusals(tmp_path):
    """int16 frames (TFLite Micro takes int8 only) and a frame that is not [1, 1, W, C]."""
    for dtype, xshape in [("int16", [1, 1, 1, 3]), ("int8", [1, 2, 1, 3])]:
        mb = ModelBuilder()
        x = mb.tensor(xshape, dtype, scale=0.5)
        y = mb.tensor([1, 4, 1, 3], dtype, scale=0.5)
        mb.custom_op("CIRCULAR_BUFFER", [x], [y], {"cycles_max": 2})
        (tmp_path / "bad.tflite").write_bytes(mb.build([x], [y]))
        with pytest.raises(TinyccError, match="operator 0 .CIRCULAR_BUFFER."):
            driver.compile_graph(str(tmp_path / "bad.tflite"))


def test_verify_skips_stopped_invokes(tmp_path):
    """``tinycc verify`` compares the scores on the invokes TFLite Micro ran to the end (every
    second of 10) once every slot was written (invokes 3, 5, 7, 9), and the frames' written slots
    on every invoke: TFLite Micro shows its arena's bytes in the others, which are zeros in a fresh
    process only (under pytest-xdist they held an earlier test's bytes). The period is the
    option's (2), not guessed from the shape: TFLite Micro's guess also counts buffers of other
    interpreters in the process (a static counter)."""
    from tinycc.verify import verify
    model = tmp_path / "cb.tflite"
    model.write_bytes(circular_buffer_model(head=True, cycles_max=2))
    r = verify(str(model), samples=10)
    assert r.ok and [o.bytes_compared for o in r.outputs] == [4 * 5, 10 * 12 - (3 + 2 + 1) * 3]


def test_selftest_refused_when_the_first_invoke_stops(tmp_path):
    model = tmp_path / "cb.tflite"
    model.write_bytes(circular_buffer_model(head=True, cycles_max=None))
    with pytest.raises(TinyccError, match="CIRCULAR_BUFFER"):
        driver.build(str(model), str(tmp_path / "out"), "m", "generic", selftest=selftest_data(str(model)))


def test_period_rule_of_the_fifth_buffer(tmp_path):
    """Without cycles_max, TFLite Micro's Prepare gives period 1 to the fifth counted buffer with a
    [.., .., 2, 96] output (the count restarts there), 2 to the others but 5/13/25-slot ones."""
    mb = ModelBuilder()
    x = mb.tensor([1, 1, 2, 96], "int8", scale=0.5)
    ys = [mb.tensor([1, s, 2, 96], "int8", scale=0.5) for s in (3, 13, 3, 3, 3, 3, 3)]
    for y in ys:
        mb.custom_op("CIRCULAR_BUFFER", [x], [y], False)
    (tmp_path / "five.tflite").write_bytes(mb.build([x], ys))
    g = driver.compile_graph(str(tmp_path / "five.tflite"))
    assert [p for _, p in sorted(periods(g).items())] == [2, 1, 2, 2, 2, 2, 1]
