"""Models like the ones other projects deploy, to measure how many tinycc builds and matches
(issue 16's "real models no one here has seen"; dev time only, like scripts/make_zoo.py).

Keras applications and small networks in the styles other projects publish (camera, audio and
sensor classifiers, an auto-encoder, a segmentation U-Net, a FOMO-style detector, an attention
block), random weights with BatchNorm statistics from random data, each converted by TensorFlow's
TFLiteConverter in the forms people ship them:

  * ``f32``: float32;
  * ``int8``: full-integer int8 with int8 input and output;
  * ``uint8io``: full-integer int8 with uint8 input and output (camera bytes: the converter adds
    QUANTIZE uint8 -> int8 at the input and int8 -> uint8 at the output);
  * ``floatio``: full-integer int8 inside, float32 input and output.

Nothing goes into the repository (the models are 10 KB - 3 MB each, too big for the tests' time
budget): they are written to a folder, by default /tmp/unseen, and ``--verify`` runs
``python -m tinycc verify`` (host, generic C) on each and prints the pass rate.

    /work/tfenv/bin/python scripts/make_unseen.py [--out DIR] [NAME...]   # NAME: prefix of a network
    python scripts/make_unseen.py --verify [--out DIR]   # the project's Python, no TensorFlow needed
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ("f32", "int8", "uint8io", "floatio")
REP_SAMPLES = 8
BIG = {"person_detect_like", "mobilenet_v1_050_64", "mobilenet_v2_035_64", "mobilenet_v3_small_min",
       "mobilenet_v3_small", "efficientnet_b0_64", "fomo_detector"}


def networks(K, tf):
    """name -> (builder, input shape). Builders take no argument and return a Keras model."""
    L, A = K.layers, K.applications

    def hard_swish(x):                   # x * relu6(x + 3) / 6: the converter makes it HARD_SWISH
        return L.Lambda(lambda t: t * tf.nn.relu6(t + 3.0) * (1.0 / 6.0))(x)

    def seq(shape, *layers):
        x = inp = K.Input(shape)
        for layer in layers:
            x = layer(x)
        return K.Model(inp, x)

    def micro_speech_tiny_conv():        # the micro_speech example's architecture
        return seq((49, 40, 1), L.Conv2D(8, (10, 8), strides=2, padding="same", activation="relu"),
                   L.Dropout(0.5), L.Flatten(), L.Dense(4, activation="softmax"))

    def magic_wand():                    # 1-D CNN on accelerometer windows
        return seq((128, 3), L.Conv1D(8, 4, padding="same", activation="relu"), L.MaxPooling1D(3),
                   L.Conv1D(16, 4, padding="same", activation="relu"), L.MaxPooling1D(3),
                   L.Conv1D(16, 4, padding="same", activation="relu"), L.GlobalAveragePooling1D(),
                   L.Dense(16, activation="relu"), L.Dense(4, activation="softmax"))

    def conv_autoencoder():
        return seq((32, 32, 1), L.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
                   L.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
                   L.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu"),
                   L.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
                   L.Conv2D(1, 3, padding="same", activation="sigmoid"))

    def tiny_unet():
        inp = K.Input((48, 48, 3))
        c1 = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
        p1 = L.MaxPooling2D()(c1)
        c2 = L.Conv2D(16, 3, padding="same", activation="relu")(p1)
        p2 = L.MaxPooling2D()(c2)
        b = L.Conv2D(32, 3, padding="same", activation="relu")(p2)
        u2 = L.Concatenate()([L.UpSampling2D()(b), c2])
        c3 = L.Conv2D(16, 3, padding="same", activation="relu")(u2)
        u1 = L.Concatenate()([L.UpSampling2D(interpolation="bilinear")(c3), c1])
        c4 = L.Conv2D(8, 3, padding="same", activation="relu")(u1)
        return K.Model(inp, L.Conv2D(3, 1, activation="softmax")(c4))

    def se_hardswish_cnn():              # squeeze-excitation blocks, hard-swish (MobileNetV3 style)
        inp = K.Input((64, 64, 3))
        x = L.Conv2D(16, 3, strides=2, padding="same")(inp)
        x = L.BatchNormalization()(x)
        x = hard_swish(x)
        for c in (24, 40):
            y = L.DepthwiseConv2D(3, strides=2, padding="same")(x)
            y = L.BatchNormalization()(y)
            y = hard_swish(y)
            s = L.GlobalAveragePooling2D(keepdims=True)(y)
            s = L.Conv2D(8, 1, activation="relu")(s)
            s = L.Conv2D(y.shape[-1], 1, activation="hard_sigmoid")(s)
            y = L.Multiply()([y, s])
            x = L.Conv2D(c, 1)(y)
            x = L.BatchNormalization()(x)
        x = L.GlobalAveragePooling2D()(x)
        return K.Model(inp, L.Dense(5, activation="softmax")(x))

    def fomo_detector():                 # FOMO-style: a MobileNetV2 trunk cut at 1/8, per-cell classes
        trunk = A.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, weights=None, include_top=False)
        x = trunk.get_layer("block_6_expand_relu").output
        x = L.Conv2D(32, 1, activation="relu")(x)
        return K.Model(trunk.input, L.Conv2D(3, 1, activation="softmax")(x))

    def attention_block():               # one transformer encoder block on a short sequence
        inp = K.Input((16, 32))
        a = L.MultiHeadAttention(num_heads=2, key_dim=16)(inp, inp)
        x = L.LayerNormalization()(L.Add()([inp, a]))
        f = L.Dense(32)(L.Dense(64, activation="gelu")(x))
        x = L.LayerNormalization()(L.Add()([x, f]))
        return K.Model(inp, L.Dense(4, activation="softmax")(L.GlobalAveragePooling1D()(x)))

    def resnet_tiny():                   # residual stages with strided shortcuts
        inp = K.Input((32, 32, 3))
        x = L.ReLU()(L.BatchNormalization()(L.Conv2D(16, 3, padding="same")(inp)))
        for c, s in ((16, 1), (32, 2), (64, 2)):
            y = L.ReLU()(L.BatchNormalization()(L.Conv2D(c, 3, strides=s, padding="same")(x)))
            y = L.BatchNormalization()(L.Conv2D(c, 3, padding="same")(y))
            if s != 1 or x.shape[-1] != c:
                x = L.Conv2D(c, 1, strides=s)(x)
            x = L.ReLU()(L.Add()([x, y]))
        x = L.AveragePooling2D(8)(x)
        return K.Model(inp, L.Dense(10, activation="softmax")(L.Flatten()(x)))

    return {
        "person_detect_like": (lambda: A.MobileNet(input_shape=(96, 96, 1), alpha=0.25, weights=None,
                                                    classes=2), (96, 96, 1)),
        "mobilenet_v1_050_64": (lambda: A.MobileNet(input_shape=(64, 64, 3), alpha=0.5, weights=None,
                                                     classes=10), (64, 64, 3)),
        "mobilenet_v2_035_64": (lambda: A.MobileNetV2(input_shape=(64, 64, 3), alpha=0.35, weights=None,
                                                       classes=10), (64, 64, 3)),
        "mobilenet_v3_small_min": (lambda: A.MobileNetV3Small(input_shape=(64, 64, 3), alpha=0.75, weights=None,
                                                               minimalistic=True, classes=10), (64, 64, 3)),
        "mobilenet_v3_small": (lambda: A.MobileNetV3Small(input_shape=(64, 64, 3), alpha=0.75, weights=None,
                                                           classes=10), (64, 64, 3)),
        "efficientnet_b0_64": (lambda: A.EfficientNetB0(input_shape=(64, 64, 3), weights=None, classes=10),
                               (64, 64, 3)),
        "micro_speech_tiny_conv": (micro_speech_tiny_conv, (49, 40, 1)),
        "magic_wand_conv1d": (magic_wand, (128, 3)),
        "conv_autoencoder": (conv_autoencoder, (32, 32, 1)),
        "tiny_unet": (tiny_unet, (48, 48, 3)),
        "se_hardswish_cnn": (se_hardswish_cnn, (64, 64, 3)),
        "fomo_detector": (fomo_detector, (96, 96, 3)),
        "attention_block": (attention_block, (16, 32)),
        "resnet_tiny": (resnet_tiny, (32, 32, 3)),
    }


def convert(tf, K, model, shape, variant: str, seed: int) -> bytes:
    for layer in model.layers:          # BatchNorm statistics from one random batch
        if isinstance(layer, K.layers.BatchNormalization):
            layer.momentum = 0.0
    x = np.random.default_rng(seed).uniform(-1, 1, size=(16,) + shape).astype(np.float32)
    if any(isinstance(layer, K.layers.BatchNormalization) for layer in model.layers):
        model.compile(optimizer=K.optimizers.SGD(learning_rate=0.0), loss="mse")
        model.fit(x, model.predict(x, verbose=0), batch_size=16, epochs=1, verbose=0)
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    if variant == "f32":
        return c.convert()
    rng = np.random.default_rng(seed + 1)

    def representative():
        for _ in range(REP_SAMPLES):
            yield [rng.uniform(-1, 1, size=(1,) + shape).astype(np.float32)]
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = representative
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    io = {"int8": tf.int8, "uint8io": tf.uint8}.get(variant)
    if io is not None:
        c.inference_input_type = c.inference_output_type = io
    return c.convert()


def make(out: Path, only: list[str]) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf
    import tf_keras as K
    out.mkdir(parents=True, exist_ok=True)
    nets = networks(K, tf)
    for name in sorted(nets, key=lambda k: k in BIG):      # the small ones first
        build, shape = nets[name]
        if only and not any(name.startswith(p) for p in only):
            continue
        seed = zlib.crc32(name.encode())
        for variant in VARIANTS:
            path = out / f"{name}_{variant}.tflite"
            if path.exists():
                continue
            K.utils.set_random_seed(seed)
            try:
                data = convert(tf, K, build(), shape, variant, seed)
            except Exception as e:  # noqa: BLE001  (a converter failure is the converter's, not ours)
                print(f"{path.name}: the converter failed: {str(e).splitlines()[0][:200]}", flush=True)
                continue
            path.write_bytes(data)
            print(f"{path.name}: {len(data):,} B", flush=True)


def verify(out: Path, samples: int = 3) -> None:
    """``tinycc verify`` (host) on every model in ``out``; one line each, then the pass rate.
    Results go to out/results.json as they come; models already there are not verified again
    (``--again``: all of them)."""
    done = out / "results.json"
    results = json.loads(done.read_text()) if done.exists() and "--again" not in sys.argv else {}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for path in sorted(out.glob("*.tflite")):
        if path.name in results:
            continue
        t0 = time.time()
        p = subprocess.run([sys.executable, "-m", "tinycc", "verify", str(path), "--samples", str(samples)],
                           capture_output=True, text=True, env=env, cwd=REPO)
        text = (p.stdout + p.stderr).strip().splitlines()
        results[path.name] = dict(rc=p.returncode, last=text[-1] if text else "", seconds=round(time.time() - t0))
        print(f"{path.name}: rc {p.returncode} ({results[path.name]['seconds']} s) {results[path.name]['last'][:300]}",
              flush=True)
        done.write_text(json.dumps(results, indent=1))
    ok = sum(r["rc"] == 0 for r in results.values())
    print(f"{ok}/{len(results)} models build and match ({100 * ok / max(len(results), 1):.0f} %)")


if __name__ == "__main__":
    argv = sys.argv[1:]
    folder = Path(argv[argv.index("--out") + 1]) if "--out" in argv else Path("/tmp/unseen")
    names = [a for k, a in enumerate(argv) if not a.startswith("--") and (k == 0 or argv[k - 1] != "--out")]
    if "--verify" in argv:
        verify(folder)
    else:
        make(folder, names)
