"""A Keras LSTM model for the tests (dev time only, like scripts/make_keras_apps.py).

Two stacked tf_keras LSTM layers (16 and 12 units, return_sequences) and a Dense head over 8 time
steps of 10 features, random weights, converted by TensorFlow's TFLiteConverter to full-integer
int8 (the converter fuses each layer into one UNIDIRECTIONAL_SEQUENCE_LSTM with an int16 cell
state and its intermediate tensors). Written to tests/data/keras_lstm_int8.tflite;
tests/test_lstm.py runs it against TFLite Micro over a sequence of invokes. (TensorFlow 2.16's
converter refuses 16x8 LSTMs: "Quantization to 16x8-bit not yet supported for op
UNIDIRECTIONAL_SEQUENCE_LSTM"; the 16x8 tests use tinycc's flatbuffer writer.)

    TF_USE_LEGACY_KERAS=1 /work/tfenv/bin/python scripts/make_keras_lstm.py   # tensorflow-cpu 2.16 + tf_keras
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tensorflow as tf  # noqa: E402
import tf_keras as K  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "keras_lstm_int8.tflite"
TIME, FEATURES, UNITS = 8, 10, (16, 12)


def main() -> None:
    rng = np.random.default_rng(0)
    inp = K.Input(shape=(TIME, FEATURES), batch_size=1)
    x = inp
    for units in UNITS:
        x = K.layers.LSTM(units, return_sequences=True)(x)
    model = K.Model(inp, K.layers.Dense(4)(x))
    for w in model.weights:
        w.assign(rng.standard_normal(w.shape).astype(np.float32) * 0.4)

    def representative():
        for _ in range(50):
            yield [rng.standard_normal((1, TIME, FEATURES)).astype(np.float32) * 1.5]
    run = tf.function(lambda v: model(v))
    conv = tf.lite.TFLiteConverter.from_concrete_functions(
        [run.get_concrete_function(tf.TensorSpec([1, TIME, FEATURES], tf.float32))], model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    OUT.write_bytes(conv.convert())
    print(OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
