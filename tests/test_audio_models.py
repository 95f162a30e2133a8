"""Audio and sequence models made as other projects make them (tf_keras layers through
TensorFlow's TFLiteConverter, scripts/make_audio_models.py; files in tests/data/audio/), compared
with TFLite Micro over a sequence of 10 invokes on the host: a bidirectional LSTM (two
UNIDIRECTIONAL_SEQUENCE_LSTMs and a REVERSE_V2 whose output the converter quantizes like its
consumer), a streaming model keeping its last frames in a tf.Variable (resource variables) and a
float SimpleRNN, which the converter makes a WHILE loop over the time steps."""
from __future__ import annotations

from pathlib import Path

import pytest

from tinycc import ir

from .test_lstm import _sequence_matches

DATA = Path(__file__).resolve().parent / "data" / "audio"


@pytest.mark.parametrize("name, kinds", [
    ("bilstm_int8", {"UNIDIRECTIONAL_SEQUENCE_LSTM", "REVERSE_V2"}),
    ("stream_var_int8", {"READ_VARIABLE", "ASSIGN_VARIABLE"}),
    ("rnn_last_f32", {"WHILE"}),
])
def test_converted_audio_model(tmp_path, name, kinds):
    g = _sequence_matches(tmp_path, (DATA / f"{name}.tflite").read_bytes())
    assert kinds <= {ir.op(g, n).kind for n in ir.ops_in_order(g)}
