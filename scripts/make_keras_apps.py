"""Real Keras architectures for the tests (dev time only, like scripts/make_zoo.py).

tf_keras.applications networks exactly as users build them (random weights: there are no
downloads here), with their BatchNorm statistics estimated on random data so activations have
trained-like ranges, converted by TensorFlow's TFLiteConverter to full-integer int8. The files go
to tests/zoo/keras_apps/; tests/test_zoo.py runs them against TFLite Micro on the host and in QEMU.

    /work/tfenv/bin/python scripts/make_keras_apps.py    # see scripts/make_zoo.py for the venv

Larger networks (MobileNetV2 0.35, MobileNetV3-Small, EfficientNet-B0) compile and match TFLite
Micro as well but are not committed (0.6-5 MB each); pass --all to write them too.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tensorflow as tf  # noqa: E402
import tf_keras as K  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "zoo" / "keras_apps"
SHAPE = (96, 96, 3)


def convert(model, name: str) -> None:
    for layer in model.layers:          # BatchNorm statistics from one random batch
        if isinstance(layer, K.layers.BatchNormalization):
            layer.momentum = 0.0
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(1).uniform(-1, 1, size=(16,) + SHAPE).astype(np.float32)
    model.fit(x, np.zeros(16), batch_size=16, epochs=1, verbose=0)
    rng = np.random.default_rng(0)

    def representative():
        for _ in range(32):
            yield [rng.uniform(-1, 1, size=(1,) + SHAPE).astype(np.float32)]
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = representative
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = c.inference_output_type = tf.int8
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}_int8.tflite").write_bytes(c.convert())
    print(name, (OUT / f"{name}_int8.tflite").stat().st_size, "B")


def main() -> None:
    tf.random.set_seed(0)
    K.utils.set_random_seed(0)
    convert(K.applications.MobileNet(input_shape=SHAPE, alpha=0.25, weights=None, classes=10), "mobilenet_v1_025")
    if "--all" in sys.argv:
        convert(K.applications.MobileNetV2(input_shape=SHAPE, alpha=0.35, weights=None, classes=10), "mobilenet_v2_035")
        convert(K.applications.MobileNetV3Small(input_shape=SHAPE, alpha=0.75, weights=None, classes=10),
                "mobilenet_v3_small_075")
        convert(K.applications.EfficientNetB0(input_shape=SHAPE, weights=None, classes=10), "efficientnet_b0")


if __name__ == "__main__":
    main()
