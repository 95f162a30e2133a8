"""UNIDIRECTIONAL_SEQUENCE_LSTM, float32 (tinycc/ops/lstm.py, runtime/kernels/tcc_lstm.c), against
TFLite Micro over sequences of invokes on one interpreter (the hidden and cell states persist):
time-major and batch-major, with a cell clip; and TFLite Micro's refusals (peephole,
projection, layer norm, CIFG)."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver
from tinycc.errors import TinyccError
from tinycc.testing.models_sequence import lstm_model
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import assert_match, random_batch, reference_outputs, run_compiled


@pytest.mark.parametrize("kw", [dict(), dict(time_major=False, cell_clip=0.8, batches=3, time=4, seed=2)],
                         ids=["time_major", "batch_major_clip"])
def test_lstm_sequence_matches_tflm(tmp_path, kw):
    model = tmp_path / "lstm.tflite"
    model.write_bytes(lstm_model(**kw))
    g = driver.compile_graph(str(model))
    assert g.graph["plan"].state_size == 2 * 4 * (kw.get("batches", 2) * 4)     # hidden + cell, float32
    batches = random_batch(g, np.random.default_rng(5), 10)
    ours, _ = run_compiled(model, batches, tmp_path, g=g)
    refs = reference_outputs(model, batches, 1)
    assert_match(ours, refs)


def _with_extra_input(slot: int) -> bytes:
    """The LSTM test model with input ``slot`` (absent in it) given a constant."""
    import tflite
    data = bytearray(lstm_model())
    m = tflite.Model.GetRootAs(data, 0)
    op = m.Subgraphs(0).Operators(0)
    mb = ModelBuilder()
    sg = m.Subgraphs(0)
    ids = []
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        buf = m.Buffers(t.Buffer()).DataAsNumpy()
        shape = list(t.ShapeAsNumpy())
        arr = None if isinstance(buf, int) else np.frombuffer(buf.tobytes(), np.float32).reshape(shape)
        ids.append(mb.tensor(shape, "float32", data=arr, variable=t.IsVariable(), name=t.Name().decode()))
    extra = mb.tensor([4], "float32", data=np.ones(4, np.float32), name="extra")
    inputs = [int(i) for i in op.InputsAsNumpy()]
    inputs[slot] = extra
    mb.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [int(op.Outputs(0))], fused_activation="TANH")
    return mb.build([int(sg.Inputs(0))], [int(sg.Outputs(0))])


@pytest.mark.parametrize("slot, what", [(9, "peephole"), (17, "projection"), (21, "layer norm")])
def test_lstm_variants_tflm_refuses(tmp_path, slot, what):
    (tmp_path / "m.tflite").write_bytes(_with_extra_input(slot))
    with pytest.raises(TinyccError, match=what) as e:
        driver.compile_graph(str(tmp_path / "m.tflite"))
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in str(e.value)
