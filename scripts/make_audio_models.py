"""Audio and sequence models made the ways other projects make them (dev time only, like
scripts/make_keras_lstm.py): tf_keras layers converted by TensorFlow's TFLiteConverter, random
weights, written to a folder given on the command line (default tests/data/audio/). None of them is
used to tune tinycc: they are the "models no one here has seen" of issue 15, run by
`tinycc verify` on the host and in QEMU (tests/test_audio_models.py runs the small ones).

    bilstm_int8          Bidirectional(LSTM(12)) over 6 steps of 8 features, then Dense: int8
    lstm_last_int8       two stacked LSTMs, the second returning only the last step: int8
    lstm_f32             one LSTM(10) + Dense, float32 (no quantization)
    gru_int8, gru_f32    GRU(8) returning the last step (the converter makes it a WHILE loop over
                         the time steps): int8, float32
    rnn_f32              SimpleRNN(8), float32 (a WHILE loop too, writing each step into a
                         TensorList: SLICE sizes from the loop counter)
    rnn_last_f32/int8    SimpleRNN(16) returning the last step: a WHILE loop whose body holds
                         the cell's FULLY_CONNECTEDs
    conv1d_16x8          a SEANet-like 1-D conv encoder/decoder (Conv1D, Conv1DTranspose, skip ADD)
                         with int16 activations and int8 weights (16x8)
    dscnn_16x8           a small DS-CNN keyword model, 16x8
    stream_var_int8      a streaming model keeping its last 3 frames in a tf.Variable (resource
                         variables: VAR_HANDLE, READ/ASSIGN_VARIABLE, CALL_ONCE), Dense on them: int8

    TF_USE_LEGACY_KERAS=1 PYTHON_WITH_TF scripts/make_audio_models.py [OUT_DIR [NAME...]]   # tensorflow-cpu 2.16 + tf_keras
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tensorflow as tf  # noqa: E402
import tf_keras as K  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "audio"


def _randomize(model, rng, scale=0.4) -> None:
    for w in model.weights:
        w.assign(rng.standard_normal(w.shape).astype(np.float32) * scale)


def _convert(fn, specs, model=None, quant: str = "int8", rng=None, resource: bool = False) -> bytes:
    """TFLiteConverter from a concrete function: "int8" full-integer, "16x8" int16 activations and
    int8 weights, "float" none."""
    conv = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function(*specs)], model)
    if resource:
        conv.experimental_enable_resource_variables = True
    if quant != "float":
        def representative():
            for _ in range(40):
                yield [rng.standard_normal(s.shape).astype(np.float32) for s in specs]
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        if quant == "int8":
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            conv.inference_input_type = conv.inference_output_type = tf.int8
        else:
            conv.target_spec.supported_ops = [
                tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
            conv.inference_input_type = conv.inference_output_type = tf.int16
    return conv.convert()


def _keras(build, shape, quant, rng) -> bytes:
    inp = K.Input(shape=shape[1:], batch_size=shape[0])
    model = K.Model(inp, build(inp))
    _randomize(model, rng)
    return _convert(tf.function(lambda v: model(v)), [tf.TensorSpec(shape, tf.float32)], model, quant, rng)


def bilstm(x):
    return K.layers.Dense(4)(K.layers.Bidirectional(K.layers.LSTM(12, return_sequences=True))(x))


def lstm_last(x):
    return K.layers.Dense(3)(K.layers.LSTM(8)(K.layers.LSTM(10, return_sequences=True)(x)))


def lstm_f32(x):
    return K.layers.Dense(4)(K.layers.LSTM(10, return_sequences=True)(x))


def gru(x):
    return K.layers.Dense(4)(K.layers.GRU(8)(x))


def rnn(x):
    return K.layers.Dense(3)(K.layers.SimpleRNN(8, return_sequences=True)(x))


def rnn_last(x):
    return K.layers.Dense(3)(K.layers.SimpleRNN(16)(x))


def conv1d(x):
    e1 = K.layers.Conv1D(8, 5, strides=2, padding="same", activation="relu")(x)
    e2 = K.layers.Conv1D(16, 5, strides=2, padding="same", activation="relu")(e1)
    d1 = K.layers.Conv1DTranspose(8, 5, strides=2, padding="same", activation="relu")(e2)
    d1 = K.layers.Add()([d1, e1])
    return K.layers.Conv1DTranspose(1, 5, strides=2, padding="same", activation="tanh")(d1)


def dscnn(x):
    y = K.layers.Conv2D(16, (5, 3), strides=(2, 2), padding="same", activation="relu")(x)
    for _ in range(2):
        y = K.layers.DepthwiseConv2D(3, padding="same", activation="relu")(y)
        y = K.layers.Conv2D(16, 1, activation="relu")(y)
    y = K.layers.GlobalAveragePooling2D()(y)
    return K.layers.Softmax()(K.layers.Dense(6)(y))


class Stream(tf.Module):
    """Keeps the last 3 frames of 8 features in a variable; Dense(4) over them."""

    def __init__(self, rng):
        super().__init__()
        self.frames = tf.Variable(tf.zeros([1, 3, 8]), trainable=False)
        self.w = tf.constant(rng.standard_normal((24, 4)).astype(np.float32) * 0.4)
        self.b = tf.constant(rng.standard_normal(4).astype(np.float32) * 0.1)

    @tf.function
    def __call__(self, x):
        frames = tf.concat([self.frames[:, 1:, :], tf.reshape(x, [1, 1, 8])], axis=1)
        self.frames.assign(frames)
        return tf.nn.relu(tf.matmul(tf.reshape(frames, [1, 24]), self.w) + self.b)


MODELS = {
    "bilstm_int8": (bilstm, (1, 6, 8), "int8"),
    "lstm_last_int8": (lstm_last, (1, 7, 6), "int8"),
    "lstm_f32": (lstm_f32, (1, 5, 6), "float"),
    "gru_int8": (gru, (1, 5, 6), "int8"),
    "rnn_f32": (rnn, (1, 5, 4), "float"),
    "rnn_last_f32": (rnn_last, (1, 6, 12), "float"),
    "rnn_last_int8": (rnn_last, (1, 6, 12), "int8"),
    "gru_f32": (gru, (1, 5, 6), "float"),
    "conv1d_16x8": (conv1d, (1, 64, 1), "16x8"),
    "dscnn_16x8": (dscnn, (1, 25, 10, 1), "16x8"),
}


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    names = sys.argv[2:] or [*MODELS, "stream_var_int8"]
    out.mkdir(parents=True, exist_ok=True)
    for name, (build, shape, quant) in MODELS.items():
        if name not in names:
            continue
        try:
            data = _keras(build, shape, quant, np.random.default_rng(len(name)))
        except Exception as e:  # noqa: BLE001 - report and go on with the others
            print(name, "FAILED to convert:", str(e).splitlines()[0][:200])
            continue
        (out / f"{name}.tflite").write_bytes(data)
        print(name, len(data), "bytes")
    if "stream_var_int8" not in names:
        return
    rng = np.random.default_rng(7)
    s = Stream(rng)
    with tempfile.TemporaryDirectory() as d:      # variables convert through a SavedModel
        spec = tf.TensorSpec([1, 8], tf.float32)
        tf.saved_model.save(s, d, signatures=s.__call__.get_concrete_function(spec))
        conv = tf.lite.TFLiteConverter.from_saved_model(d)
        conv.experimental_enable_resource_variables = True
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([rng.standard_normal((1, 8)).astype(np.float32)] for _ in range(40))
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = conv.inference_output_type = tf.int8
        data = conv.convert()
    (out / "stream_var_int8.tflite").write_bytes(data)
    print("stream_var_int8", len(data), "bytes")


if __name__ == "__main__":
    main()
