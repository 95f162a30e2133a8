"""Models like the ones other projects deploy, to measure how many tinycc builds and matches
(issue 16's "real models no one here has seen"; dev time only, like scripts/make_zoo.py).

Keras applications and small networks in the styles other projects publish (camera, audio and
sensor classifiers, auto-encoders, a segmentation U-Net, a FOMO-style detector, an attention
block and a tiny ViT, dilated/atrous convolutions, DS-CNN keyword spotting, TFLite Micro's
hello_world, the TensorFlow tutorial CNN, a model with a dynamic time axis), random weights with
BatchNorm statistics from random data, each converted by TensorFlow's TFLiteConverter in the
forms people ship them:

  * ``f32``: float32;
  * ``int8``: full-integer int8 with int8 input and output;
  * ``uint8io``: full-integer int8 with uint8 input and output (camera bytes: the converter adds
    QUANTIZE uint8 -> int8 at the input and int8 -> uint8 at the output);
  * ``floatio``: full-integer int8 inside, float32 input and output;

and an SSD detector exported the Object Detection API's way (``ssd_postprocess``: the converter puts
TFLite_Detection_PostProcess in place of a stand-in function), and a fully-uint8 model the TF1 way
(``legacy_uint8``: fake-quant nodes, ``inference_type`` uint8). ``--verify`` also builds the
dynamic-length model with ``--shape`` and compares it with TFLite resized alike (``SHAPED``).

Nothing goes into the repository (the models are 10 KB - 3 MB each, too big for the tests' time
budget): they are written to a folder, by default /tmp/unseen, and ``--verify`` runs
``python -m tinycc verify`` (host, generic C) on each and prints the pass rate.

    TFPY scripts/make_unseen.py [--out DIR] [NAME...]   # NAME: prefix of a network; TFPY: a Python
                                                        # with tensorflow and tf-keras (make_zoo.py says how)
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

    def dilated_tcn():                   # keyword/audio TCN: causal dilated Conv1D stack (WaveNet style)
        inp = K.Input((64, 20))
        x = L.Conv1D(16, 1)(inp)
        for d in (1, 2, 4, 8):
            y = L.Conv1D(16, 3, dilation_rate=d, padding="causal", activation="relu")(x)
            y = L.Conv1D(16, 1)(y)
            x = L.Add()([x, y])
        x = L.GlobalAveragePooling1D()(x)
        return K.Model(inp, L.Dense(6, activation="softmax")(x))

    def dilated_seg():                   # DeepLab-style atrous conv: SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND
        inp = K.Input((32, 32, 3))
        x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inp)
        a = L.Lambda(lambda t: tf.nn.atrous_conv2d(t, tf.constant(
            np.random.default_rng(3).normal(0, 0.3, (3, 3, 8, 8)).astype(np.float32)), rate=2, padding="SAME"))(x)
        x = L.ReLU()(L.Add()([x, a]))
        x = L.DepthwiseConv2D(3, dilation_rate=2, padding="same", activation="relu")(x)
        return K.Model(inp, L.Conv2D(4, 1, activation="softmax")(L.UpSampling2D()(x)))

    def dscnn_kws():                     # DS-CNN keyword spotting (the ARM/MLPerf recipe), 10x4 first conv
        inp = K.Input((49, 10, 1))
        x = L.ReLU()(L.BatchNormalization()(L.Conv2D(32, (10, 4), strides=2, padding="same")(inp)))
        for _ in range(3):
            x = L.ReLU()(L.BatchNormalization()(L.DepthwiseConv2D(3, padding="same")(x)))
            x = L.ReLU()(L.BatchNormalization()(L.Conv2D(32, 1)(x)))
        x = L.AveragePooling2D((25, 5))(x)
        return K.Model(inp, L.Dense(12, activation="softmax")(L.Flatten()(x)))

    def tiny_vit():                      # ViT/KWT: patch embedding, class token, position embedding, 2 blocks
        inp = K.Input((32, 32, 3))
        x = L.Reshape((16, 32))(L.Conv2D(32, 8, strides=8)(inp))
        cls = L.Lambda(lambda t: tf.zeros_like(t[:, :1, :]) + 0.1)(x)
        x = L.Concatenate(axis=1)([cls, x])
        x = L.Lambda(lambda t: t + tf.constant(
            np.random.default_rng(5).normal(0, 0.1, (1, 17, 32)).astype(np.float32)))(x)
        for _ in range(2):
            y = L.LayerNormalization()(x)
            x = L.Add()([x, L.MultiHeadAttention(num_heads=4, key_dim=8)(y, y)])
            y = L.LayerNormalization()(x)
            x = L.Add()([x, L.Dense(32)(L.Dense(64, activation="gelu")(y))])
        x = L.Lambda(lambda t: t[:, 0, :])(L.LayerNormalization()(x))
        return K.Model(inp, L.Dense(10, activation="softmax")(x))

    def activations_cnn():               # the layers hobby projects reach for: LeakyReLU, PReLU, ELU, tanh,
        inp = K.Input((24, 24, 3))       # ZeroPadding2D, SeparableConv2D, Cropping2D, sigmoid gating
        x = L.LeakyReLU(0.1)(L.Conv2D(8, 3)(L.ZeroPadding2D(1)(inp)))
        x = L.PReLU(shared_axes=[1, 2])(L.SeparableConv2D(16, 3, padding="same")(x))
        x = L.ELU()(L.Conv2D(16, 3, strides=2)(L.Cropping2D(1)(x)))
        g = L.Conv2D(16, 1, activation="sigmoid")(x)
        x = L.Multiply()([L.Activation("tanh")(x), g])
        x = L.GlobalMaxPooling2D()(x)
        return K.Model(inp, L.Dense(3, activation="softmax")(x))

    def kws_any_length():                # a dynamic time axis (shape_signature -1): 1-D conv over frames
        inp = K.Input((None, 40))
        x = L.Conv1D(16, 3, padding="same", activation="relu")(inp)
        x = L.Conv1D(16, 3, padding="same", activation="relu")(x)
        return K.Model(inp, L.Dense(4, activation="softmax")(L.GlobalMaxPooling1D()(x)))

    def hello_world_sine():              # TFLite Micro's hello_world: sin(x) by 3 Dense layers
        return seq((1,), L.Dense(16, activation="relu"), L.Dense(16, activation="relu"), L.Dense(1))

    def tutorial_cnn():                  # TensorFlow's image-classification tutorial: Rescaling at the input
        return seq((32, 32, 3), L.Rescaling(1.0 / 255), L.Conv2D(8, 3, padding="same", activation="relu"),
                   L.MaxPooling2D(), L.Conv2D(16, 3, padding="same", activation="relu"), L.MaxPooling2D(),
                   L.Dropout(0.2), L.Flatten(), L.Dense(32, activation="relu"), L.Dense(5))

    def dense_autoencoder():             # MLPerf Tiny anomaly detection's shape, smaller: Dense + BatchNorm
        x = inp = K.Input((160,))
        for units in (64, 64, 8, 64, 64):
            x = L.ReLU()(L.BatchNormalization()(L.Dense(units)(x)))
        return K.Model(inp, L.Dense(160)(x))

    return {
        "hello_world_sine": (hello_world_sine, (1,)),
        "tutorial_cnn": (tutorial_cnn, (32, 32, 3)),
        "dense_autoencoder": (dense_autoencoder, (160,)),
        "dilated_tcn": (dilated_tcn, (64, 20)),
        "dilated_seg": (dilated_seg, (32, 32, 3)),
        "dscnn_kws": (dscnn_kws, (49, 10, 1)),
        "tiny_vit": (tiny_vit, (32, 32, 3)),
        "activations_cnn": (activations_cnn, (24, 24, 3)),
        "kws_any_length": (kws_any_length, (49, 40)),
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


def legacy_uint8(tf, name: str, seed: int) -> bytes:
    """A fully-uint8 model as TensorFlow 1 quantization-aware training left them (MobileNet v1
    quant and the old model zoos): a graph with fake-quant nodes after every layer, converted by
    the TF1 converter with ``inference_type`` uint8 (asymmetric weights and activations; TFLite Micro
    refuses such models, TFLite runs them)."""
    tf1 = tf.compat.v1
    rng = np.random.default_rng(seed)
    graph = tf1.Graph()
    with graph.as_default():
        x = tf1.placeholder(tf.float32, (1, 32, 32, 3), name="input")
        fq = tf.quantization.fake_quant_with_min_max_args
        h = fq(x, -1.0, 1.0)

        def conv(h, cout, k, stride, depthwise=False, lo=0.0, hi=6.0):
            cin = h.shape[-1]
            w = rng.normal(0, 1 / np.sqrt(k * k * cin), (k, k, cin, 1 if depthwise else cout)).astype(np.float32)
            w = fq(tf.constant(w), float(w.min()), float(w.max()))
            y = (tf.nn.depthwise_conv2d(h, w, (1, stride, stride, 1), "SAME") if depthwise
                 else tf.nn.conv2d(h, w, stride, "SAME"))
            y = y + tf.constant(rng.normal(0, 0.1, y.shape[-1]).astype(np.float32))
            return fq(tf.nn.relu6(y), lo, hi)
        h = conv(h, 8, 3, 2)
        h = conv(h, 8, 3, 1, depthwise=True)
        h = conv(h, 16, 1, 1)
        h = conv(h, 16, 3, 2, depthwise=True)
        h = conv(h, 32, 1, 1)
        h = fq(tf.nn.avg_pool2d(h, 8, 8, "VALID"), 0.0, 6.0)
        h = tf.reshape(h, (1, 32))
        w = rng.normal(0, 0.2, (32, 5)).astype(np.float32)
        logits = fq(tf.matmul(h, fq(tf.constant(w), float(w.min()), float(w.max()))), -8.0, 8.0)
        y = tf.identity(fq(tf.nn.softmax(logits), 0.0, 1.0), name="output")
        with tf1.Session(graph=graph) as sess:
            c = tf1.lite.TFLiteConverter.from_session(sess, [x], [y])
            c.inference_type = tf.uint8
            c.quantized_input_stats = {"input": (127.5, 127.5)}
            return c.convert()


LEGACY = {"legacy_uint8_mobilenet": legacy_uint8}


def ssd_postprocess(tf, K, variant: str, seed: int) -> bytes:
    """An SSD detector exported as the TensorFlow Object Detection API does it: a Keras trunk with
    box and class heads on two feature maps, then a stand-in tf.function that declares (through
    ``experimental_implements``) the ``TFLite_Detection_PostProcess`` custom op, which the
    converter puts in its place (regular NMS off, 10 detections, 3 classes + background)."""
    L = K.layers
    K.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    inp = K.Input((64, 64, 3))
    x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inp)
    x = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    f1 = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)            # 8x8
    f2 = L.Conv2D(16, 3, strides=2, padding="same", activation="relu")(f1)           # 4x4
    boxes, scores, anchors = [], [], []
    for f, cells in ((f1, 8), (f2, 4)):
        boxes.append(L.Reshape((-1, 4))(L.Conv2D(3 * 4, 3, padding="same")(f)))
        scores.append(L.Reshape((-1, 4))(L.Conv2D(3 * 4, 3, padding="same")(f)))
        for i in range(cells):
            for j in range(cells):
                for a in (0.5, 1.0, 2.0):
                    size = 1.5 / cells
                    anchors.append(((i + 0.5) / cells, (j + 0.5) / cells, size * np.sqrt(a), size / np.sqrt(a)))
    trunk = K.Model(inp, [L.Concatenate(axis=1)(boxes), L.Activation("sigmoid")(L.Concatenate(axis=1)(scores))])
    anchors = tf.constant(np.array(anchors, np.float32))
    attrs = dict(max_detections=("i", 10), max_classes_per_detection=("i", 1), use_regular_nms=("b", "false"),
                 nms_score_threshold=("f", 0.3), nms_iou_threshold=("f", 0.6), y_scale=("f", 10.0),
                 x_scale=("f", 10.0), h_scale=("f", 5.0), w_scale=("f", 5.0), num_classes=("i", 3))
    signature = " ".join(['name: "TFLite_Detection_PostProcess"'] +
                         [f'attr {{ key: "{k}" value {{ {t}: {v} }} }}' for k, (t, v) in attrs.items()])

    @tf.function(experimental_implements=signature)
    def postprocess(box_encodings, class_predictions, anchor_boxes):
        zero = tf.constant(0.0, tf.float32)
        return zero, zero, zero, zero

    @tf.function(input_signature=[tf.TensorSpec((1, 64, 64, 3), tf.float32)])
    def detect(image):
        b, c = trunk(image)
        return postprocess(b, c, anchors)

    c = tf.lite.TFLiteConverter.from_concrete_functions([detect.get_concrete_function()], trunk)
    c.allow_custom_ops = True
    if variant != "f32":
        def representative():
            for _ in range(REP_SAMPLES):
                yield [rng.uniform(-1, 1, size=(1, 64, 64, 3)).astype(np.float32)]
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = representative
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
        io = {"int8": tf.int8, "uint8io": tf.uint8}.get(variant)
        if io is not None:
            c.inference_input_type = io
    return c.convert()


def make(out: Path, only: list[str]) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf
    import tf_keras as K
    out.mkdir(parents=True, exist_ok=True)
    nets = networks(K, tf)
    for variant in ("f32", "int8", "uint8io", "floatio"):
        path = out / f"ssd_postprocess_{variant}.tflite"
        if path.exists() or (only and not any("ssd_postprocess".startswith(p) for p in only)):
            continue
        path.write_bytes(ssd_postprocess(tf, K, variant, zlib.crc32(b"ssd_postprocess")))
        print(f"{path.name}: {path.stat().st_size:,} B", flush=True)
    for name, build in LEGACY.items():
        path = out / f"{name}_uint8.tflite"
        if path.exists() or (only and not any(name.startswith(p) for p in only)):
            continue
        path.write_bytes(build(tf, name, zlib.crc32(name.encode())))
        print(f"{path.name}: {path.stat().st_size:,} B", flush=True)
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


SHAPED = {"kws_any_length": 49}   # network -> the length its dynamic (non-batch) input dims get


def verify_shaped(path: Path, length: int, samples: int = 3) -> tuple[bool, str]:
    """``tinycc build --shape`` on a model with dynamic input dims: the non-batch ones fixed to
    ``length``, built and run on the host, compared with TFLite (reference kernels) resized the
    same way (TFLite Micro cannot resize an input). One line: PASS or FAIL with the differences."""
    import tempfile
    sys.path.insert(0, str(REPO))
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from tinycc import driver, ir, toolchain
    from tinycc.runner import NUMPY
    from tinycc.verify import compare, random_inputs
    g0 = driver.compile_graph(str(path))
    name = ir.tensor(g0, g0.graph["inputs"][0]).name
    dyn = g0.graph["dynamic_dims"].get(g0.graph["inputs"][0], ())
    shape = tuple(length if k in dyn and k else d for k, d in enumerate(ir.tensor(g0, g0.graph["inputs"][0]).shape))
    shapes = {name: shape}
    g = driver.compile_graph(str(path), shapes=shapes)
    rng = np.random.default_rng(0)
    batches = [random_inputs(g, rng) for _ in range(samples)]
    lite = Interpreter(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    lite.resize_tensor_input(lite.get_input_details()[0]["index"], shape)
    lite.allocate_tensors()
    refs = []
    for (x,) in batches:
        lite.set_tensor(lite.get_input_details()[0]["index"], x)
        lite.invoke()
        refs.append([lite.get_tensor(d["index"]) for d in lite.get_output_details()])
    with tempfile.TemporaryDirectory(prefix="unseen-shape-") as tmp:
        work = Path(tmp)
        driver.build(str(path), str(work / "out"), "model", "generic", shapes=shapes)
        exe = toolchain.build_harness(work / "out", work / "harness", mode="host")
        raw, _, _ = toolchain.run_samples(exe, b"".join(x.tobytes() for xs in batches for x in xs), samples,
                                          mode="host", workdir=work / "run")
    tensors = [ir.tensor(g, t) for t in g.graph["outputs"]]
    ours, pos = [], 0
    for _ in batches:
        row = []
        for t in tensors:
            row.append(np.frombuffer(raw[pos:pos + t.nbytes], NUMPY[t.dtype]).copy())
            pos += t.nbytes
        ours.append(row)
    res = [compare(i, t, np.stack([o[i] for o in ours]), np.stack([r[i].reshape(-1) for r in refs]))
           for i, t in enumerate(tensors)]
    ok = all(r.ok for r in res)
    detail = "; ".join(f"output {r.index}: max abs diff {r.max_abs_diff:g}, mismatches {r.mismatches}" for r in res)
    return ok, f"--shape {name}={','.join(map(str, shape))} vs TFLite resized: {detail}: {'PASS' if ok else 'FAIL'}"


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
        length = next((n for net, n in SHAPED.items() if path.name.startswith(net)), None)
        if length is not None and p.returncode == 0:
            t0 = time.time()
            try:
                good, line = verify_shaped(path, length, samples)
            except Exception as e:  # noqa: BLE001  (reported as this model's failure)
                good, line = False, f"--shape: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
            key = f"{path.name} --shape"
            results[key] = dict(rc=0 if good else 1, last=line, seconds=round(time.time() - t0))
            print(f"{key}: {line}", flush=True)
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
