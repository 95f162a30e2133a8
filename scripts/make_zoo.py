"""Build the model zoo in tests/zoo/ with TensorFlow's own converter (dev time only).

The zoo is what TensorFlow's TFLiteConverter really emits for each operator tinycc supports
(alone, with varied shapes and parameters) and for two composite networks (a MobileNetV2-style
classifier and a YOLO-style two-head detector). The .tflite files and tests/zoo/manifest.json
are committed, so the tests (tests/test_zoo.py) and CI never need TensorFlow.

How to run (TensorFlow lives in its own venv, outside the repo, because its numpy pin differs
from the project's):

    python3.11 -m venv /work/tfenv
    /work/tfenv/bin/pip install tensorflow==2.17.0 tf-keras==2.17.0
    /work/tfenv/bin/python scripts/make_zoo.py            # every model
    /work/tfenv/bin/python scripts/make_zoo.py conv2d_a   # only the models named (prefix match)

Keras 2 (tf-keras) builds the layer models: TensorFlow 2.17's converter cannot lower the Keras 3
that pip brings along. Everything is deterministic: every model's weights and representative data
come from numpy generators seeded by the model's name, and the converter's output for the same
graph and data is the same.

Each model is converted to
  * ``<name>_f32.tflite``: float32;
  * ``<name>_int8.tflite``: full-integer int8 (``Optimize.DEFAULT`` + a representative dataset of
    64 samples, ``TFLITE_BUILTINS_INT8`` only, int8 input and output), weights per channel (the
    converter's default) unless the entry asks for per tensor
    (``converter._experimental_disable_per_channel``);
  * some entries also have variants: int8 with float input/output (the converter adds QUANTIZE
    and DEQUANTIZE), or int8 where float-only operators stay float ("mixed": ``TFLITE_BUILTINS``
    allowed as well, so the converter wraps them in DEQUANTIZE/QUANTIZE).

manifest.json records, per file: the operators each model is meant to exercise, the operators the
converter actually produced (the test asserts the intended ones are still there, so the zoo can
not silently lose coverage), and the input domains the test must feed (e.g. positive for LOG).
Operators the converter folds away or rewrites are listed under ``not_produced`` in the manifest
and in tests/zoo/README.md.
"""
from __future__ import annotations

import json
import os
import re
import sys
import warnings
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tensorflow.lite.python import schema_py_generated as schema  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "tests" / "zoo"
REP_SAMPLES = 64
OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}

ENTRIES: list[dict] = []


def seed_of(name: str) -> int:
    return zlib.crc32(name.encode())


def entry(name, ops, inputs, variants=("f32", "int8"), domains=None, not_produced=None, note="",
          dynamic_batch=False):
    """Register a model builder. ``inputs``: list of (shape, dtype); ``domains``: per input one of
    "normal" (standard normal floats, any int8), "positive" (floats > 0; int8 at or above the zero
    point), ("index", n) (integers in [0, n)), "bool" (0/1). ``ops``: the builtin operators this model
    must contain (per variant a dict, or one list for all). ``not_produced``: operators the model was
    meant to show but the converter does not emit, with the reason."""
    def deco(fn):
        ENTRIES.append(dict(name=name, ops=ops, inputs=inputs, variants=variants,
                            domains=domains or ["normal"] * len(inputs), build=fn,
                            not_produced=not_produced or {}, note=note, dynamic_batch=dynamic_batch))
        return fn
    return deco


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def randomize(model, rng):
    """Give every weight a random value of a sensible scale (Keras zero-initialises biases and
    BatchNorm statistics, which would leave those paths untested)."""
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        names = [w.name for w in layer.weights]
        new = []
        for n, w in zip(names, ws):
            if "moving_variance" in n or "gamma" in n:
                v = rng.uniform(0.5, 1.5, w.shape)
            elif "bias" in n or "beta" in n or "moving_mean" in n:
                v = rng.normal(0, 0.2, w.shape)
            elif "alpha" in n:
                v = rng.uniform(-0.5, 0.5, w.shape)
            else:
                fan_in = int(np.prod(w.shape[:-1])) if w.ndim > 1 else 1
                if "depthwise" in n:
                    fan_in = int(np.prod(w.shape[:2]))
                v = rng.normal(0, 1.0 / np.sqrt(max(fan_in, 1)), w.shape)
            new.append(v.astype(w.dtype))
        layer.set_weights(new)
    return model


def keras_inputs(specs, dynamic_batch=False):
    """Named x0, x1, ...: the representative data is matched by name. With ``dynamic_batch`` the
    batch dimension is unknown to the converter (the .tflite shape is 1, its shape_signature -1),
    which keeps shape operators that a fully static graph would fold away."""
    if dynamic_batch == "two":
        return [keras.Input((None, *shape[2:]), batch_size=None, dtype=dt, name=f"x{i}")
                for i, (shape, dt) in enumerate(specs)]
    return [keras.Input(shape[1:], batch_size=None if dynamic_batch else shape[0], dtype=dt, name=f"x{i}")
            for i, (shape, dt) in enumerate(specs)]


def sample(rng, shape, dtype, domain):
    if isinstance(domain, (list, tuple)) and domain[0] == "index":
        return rng.integers(0, domain[1], size=shape).astype(dtype)
    if domain == "bool":
        return rng.integers(0, 2, size=shape).astype(dtype)
    x = rng.standard_normal(shape) * rng.choice([0.5, 1.0, 2.0])
    if domain == "positive":
        x = np.abs(x) + 0.05
    return x.astype(dtype)


def ops_of(buf: bytes) -> list[str]:
    m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(buf, 0))
    out = []
    for sg in m.subgraphs[:1]:
        for op in sg.operators:
            oc = m.operatorCodes[op.opcodeIndex]
            code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
            out.append(OP_NAMES.get(code, f"CUSTOM:{oc.customCode}"))
    return out


TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


def io_info(buf: bytes):
    """Per model input (name, type), per output type, and the operators whose output is float32
    (in an int8 model: what the converter left in float)."""
    m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(buf, 0))
    sg = m.subgraphs[0]
    ins = [(sg.tensors[i].name.decode(), TYPE_NAMES[sg.tensors[i].type]) for i in sg.inputs]
    outs = [TYPE_NAMES[sg.tensors[i].type] for i in sg.outputs]
    float_ops = set()
    for op in sg.operators:
        oc = m.operatorCodes[op.opcodeIndex]
        if any(sg.tensors[t].type == schema.TensorType.FLOAT32 for t in op.outputs):
            float_ops.add(OP_NAMES.get(max(oc.builtinCode, oc.deprecatedBuiltinCode), "CUSTOM"))
    return ins, outs, sorted(float_ops)


def convert(e, model, variant):
    rng = np.random.default_rng(seed_of(e["name"]) + 1)

    def rep():
        for _ in range(REP_SAMPLES):
            # by name: the converter's input order is not the Keras model's
            yield {f"x{i}": sample(rng, s, d, dom) for i, ((s, d), dom) in enumerate(zip(e["inputs"], e["domains"]))}

    c = tf.lite.TFLiteConverter.from_keras_model(model)
    if variant == "f32":
        return c.convert()
    if variant == "f16":        # float16 weights, DEQUANTIZE to float32 at load
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.target_spec.supported_types = [tf.float16]
        return c.convert()
    if variant.startswith("hybrid"):     # dynamic range: int8 weights, float activations
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        if "pertensor" in variant:
            c._experimental_disable_per_channel = True
        return c.convert()
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = rep
    if variant.startswith("int8_mixed"):
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    else:
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if "floatio" not in variant:
        c.inference_input_type = tf.int8
        c.inference_output_type = tf.int8
    if "pertensor" in variant:
        c._experimental_disable_per_channel = True
    return c.convert()


# ---------------------------------------------------------------------------
# One operator at a time (several instances side by side where parameters vary)
# ---------------------------------------------------------------------------

F = "float32"
I32 = "int32"


def lam(fn, name=None):
    return keras.layers.Lambda(fn, name=name)


@entry("abs", ["ABS"], [((1, 6, 6, 5), F)])
def _abs(x):
    return lam(tf.abs)(x)


@entry("add", ["ADD"], [((1, 5, 5, 8), F), ((1, 5, 5, 8), F), ((1, 1, 1, 8), F)],
       variants=("f32", "int8", "int8_floatio"))
def _add(a, b, c):
    k = np.linspace(-1, 1, 8).astype(np.float32)
    return [lam(lambda t: t[0] + t[1])([a, b]),                 # same shape
            lam(lambda t: tf.nn.relu(t[0] + t[1]))([a, c]),     # broadcast, fused RELU
            lam(lambda t: t + k)(b)]                            # constant operand


@entry("argminmax", ["ARG_MAX", "ARG_MIN"], [((1, 4, 5, 7), F)])
def _argminmax(x):
    return [lam(lambda t: tf.math.argmax(t, axis=-1, output_type=tf.int32))(x),
            lam(lambda t: tf.math.argmax(t, axis=1, output_type=tf.int32))(x),
            lam(lambda t: tf.math.argmin(t, axis=2, output_type=tf.int32))(x)]


@entry("avg_pool", ["AVERAGE_POOL_2D"], [((1, 9, 9, 6), F)])
def _avg_pool(x):
    return [keras.layers.AveragePooling2D(2)(x),
            keras.layers.AveragePooling2D(3, strides=2, padding="same")(x),
            keras.layers.AveragePooling2D((2, 3), strides=(1, 2), padding="valid")(x)]


@entry("max_pool", ["MAX_POOL_2D"], [((1, 9, 9, 6), F)])
def _max_pool(x):
    return [keras.layers.MaxPooling2D(2)(x),
            keras.layers.MaxPooling2D(3, strides=2, padding="same")(x),
            keras.layers.MaxPooling2D((3, 2), strides=(2, 1), padding="valid")(x)]


@entry("batch_matmul", ["BATCH_MATMUL"], [((1, 2, 4, 6), F), ((1, 2, 6, 5), F), ((1, 2, 5, 6), F)])
def _batch_matmul(a, b, c):
    return [lam(lambda t: tf.matmul(t[0], t[1]))([a, b]),
            lam(lambda t: tf.matmul(t[0], t[1], transpose_b=True))([a, c])]


@entry("cast", ["CAST"], [((2, 3, 7), F), ((2, 3, 7), I32)], variants=("f32",),
       domains=["normal", ("index", 100)])
def _cast(x, i):
    return [lam(lambda t: tf.cast(t * 10.0, tf.int32))(x), lam(lambda t: tf.cast(t, tf.float32) * 0.5)(i)]


@entry("unary_float", ["CEIL", "FLOOR", "COS", "SIN", "EXP", "NEG", "SQUARE"], [((1, 4, 4, 6), F)],
       variants=("f32",))
def _unary_float(x):
    return [lam(tf.math.ceil)(x), lam(tf.math.floor)(x), lam(tf.math.cos)(x), lam(tf.math.sin)(x),
            lam(tf.math.exp)(x), lam(tf.math.negative)(x), lam(tf.math.square)(x)]


@entry("float_only", ["CEIL", "FLOOR", "COS", "SIN", "NEG", "SQUARE", "DEQUANTIZE", "QUANTIZE"],
       [((1, 4, 4, 6), F)], variants=("int8_mixed",),
       note="operators without an int8 kernel stay float between DEQUANTIZE and QUANTIZE (EXP is left out: "
            "the converter makes it int8, which TFLite has and TFLite Micro has not)")
def _float_only(x):
    return [lam(tf.math.ceil)(x), lam(tf.math.floor)(x), lam(tf.math.cos)(x), lam(tf.math.sin)(x),
            lam(tf.math.negative)(x), lam(tf.math.square)(x)]


@entry("unary_positive", ["LOG", "SQRT", "RSQRT"], [((2, 3, 9), F)], variants=("f32",), domains=["positive"])
def _unary_positive(x):
    return [lam(tf.math.log)(x), lam(tf.math.sqrt)(x), lam(tf.math.rsqrt)(x)]


@entry("rsqrt", ["RSQRT"], [((1, 40), F)], variants=("int8",), domains=["positive"])
def _rsqrt(x):
    return lam(tf.math.rsqrt)(x)


@entry("concat", ["CONCATENATION"], [((1, 4, 4, 3), F), ((1, 4, 4, 5), F), ((1, 2, 4, 3), F)])
def _concat(a, b, c):
    return [keras.layers.Concatenate(axis=-1)([a, b, a]), keras.layers.Concatenate(axis=1)([a, c])]


@entry("conv2d_a", ["CONV_2D"], [((1, 12, 12, 3), F)], variants=("f32", "int8", "int8_pertensor"))
def _conv2d_a(x):
    return [keras.layers.Conv2D(8, 3, padding="same", activation="relu")(x),
            keras.layers.Conv2D(6, 5, strides=2, padding="valid", activation="relu6")(x),
            keras.layers.Conv2D(4, (3, 1), strides=(2, 1), padding="same")(x),
            keras.layers.Conv2D(5, 2, strides=3, padding="same")(x)]


@entry("conv2d_b", ["CONV_2D"], [((1, 11, 11, 8), F)], variants=("f32", "int8"))
def _conv2d_b(x):
    return [keras.layers.Conv2D(8, 3, dilation_rate=2, padding="same")(x),
            keras.layers.Conv2D(6, 3, dilation_rate=(2, 3), padding="valid", activation="relu")(x),
            keras.layers.Conv2D(8, 3, groups=2, padding="same", activation="relu6")(x),
            keras.layers.Conv2D(12, 1, groups=4, use_bias=False)(x),
            keras.layers.Conv2D(16, 1, use_bias=False)(x)]


@entry("depthwise", ["DEPTHWISE_CONV_2D"], [((1, 10, 10, 6), F)], variants=("f32", "int8", "int8_pertensor"))
def _depthwise(x):
    return [keras.layers.DepthwiseConv2D(3, padding="same", activation="relu6")(x),
            keras.layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2, padding="same")(x),
            keras.layers.DepthwiseConv2D(3, dilation_rate=2, padding="valid", activation="relu")(x),
            keras.layers.DepthwiseConv2D((5, 3), depth_multiplier=3, padding="valid", use_bias=False)(x)]


@entry("space_depth", ["DEPTH_TO_SPACE", "SPACE_TO_DEPTH"], [((1, 4, 6, 8), F)])
def _space_depth(x):
    return [lam(lambda t: tf.nn.depth_to_space(t, 2))(x), lam(lambda t: tf.nn.space_to_depth(t, 2))(x)]


@entry("binary", ["SUB", "MUL", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE"],
       [((1, 4, 4, 6), F), ((1, 1, 4, 6), F)])
def _binary(a, b):
    return [lam(lambda t: t[0] - t[1])([a, b]), lam(lambda t: t[0] * t[1])([a, b]),
            lam(lambda t: tf.maximum(t[0], t[1]))([a, b]), lam(lambda t: tf.minimum(t[0], t[1]))([a, b]),
            lam(lambda t: tf.math.squared_difference(t[0], t[1]))([a, b])]


@entry("div", ["DIV"], [((1, 3, 4, 5), F), ((1, 3, 4, 5), F)], variants=("f32", "int8"),
       domains=["normal", "positive"])
def _div(a, b):
    return lam(lambda t: t[0] / t[1])([a, b])


@entry("activations", ["ELU", "LEAKY_RELU", "LOGISTIC", "TANH", "RELU", "RELU6"], [((1, 5, 5, 8), F)])
def _activations(x):
    return [lam(tf.nn.elu)(x), lam(lambda t: tf.nn.leaky_relu(t, 0.2))(x), lam(tf.math.sigmoid)(x),
            lam(tf.math.tanh)(x), lam(tf.nn.relu)(x), lam(tf.nn.relu6)(x)]


@entry("relu_n1_to_1", ["RELU_N1_TO_1"], [((1, 5, 5, 8), F)],
       note="not in TFLite Micro: the test compares it with TFLite (LiteRT)")
def _relu_n1_to_1(x):
    return lam(lambda t: tf.clip_by_value(t, -1.0, 1.0))(x)


@entry("hard_swish", ["HARD_SWISH"], [((1, 6, 6, 8), F)])
def _hard_swish(x):
    return lam(lambda t: t * tf.nn.relu6(t + 3.0) * (1.0 / 6.0))(x)


@entry("compare", ["EQUAL", "NOT_EQUAL", "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL"],
       [((1, 4, 6), F), ((1, 1, 6), F)])
def _compare(a, b):
    return [lam(lambda t: tf.equal(t[0], t[1]))([a, b]), lam(lambda t: tf.not_equal(t[0], t[1]))([a, b]),
            lam(lambda t: tf.greater(t[0], t[1]))([a, b]), lam(lambda t: tf.greater_equal(t[0], t[1]))([a, b]),
            lam(lambda t: tf.less(t[0], t[1]))([a, b]), lam(lambda t: tf.less_equal(t[0], t[1]))([a, b])]


@entry("shape_views", ["RESHAPE"], [((1, 4, 6, 2), F)],
       note="with static shapes the converter turns expand_dims and squeeze into RESHAPE; the expand_dims and "
            "squeeze models keep them by leaving dimensions unknown to the converter")
def _shape_views(x):
    return [lam(lambda t: tf.reshape(t, (1, 12, 4)))(x), lam(lambda t: tf.expand_dims(t, 2))(x),
            lam(lambda t: tf.squeeze(tf.reshape(t, (1, 4, 1, 12)), axis=2))(x)]


@entry("squeeze", ["SQUEEZE"], [((1, 1, 6, 1), F)], dynamic_batch="two",
       note="dims 0 and 1 unknown to the converter, else it emits RESHAPE")
def _squeeze(x):
    return lam(lambda t: tf.squeeze(t, axis=[3]))(x)


@entry("expand_dims", ["EXPAND_DIMS"], [((1, 4, 6), F)], dynamic_batch=True)
def _expand_dims(x):
    return [lam(lambda t: tf.expand_dims(t, 2))(x), lam(lambda t: tf.expand_dims(t, -1))(x)]


@entry("fill", ["FILL"], [((1,), F)])
def _fill(x):
    return lam(lambda t: tf.fill([2, 3, 4], tf.reshape(t, ())))(x)


@entry("fully_connected", ["FULLY_CONNECTED"], [((1, 32), F)], variants=("f32", "int8", "int8_pertensor", "f16"))
def _fully_connected(x):
    return [keras.layers.Dense(16, activation="relu")(x), keras.layers.Dense(10, use_bias=False)(x),
            keras.layers.Dense(7, activation="relu6")(x)]


@entry("fully_connected_3d", ["FULLY_CONNECTED"], [((1, 5, 12), F)])
def _fully_connected_3d(x):
    return [keras.layers.Dense(8)(x), keras.layers.Dense(6, use_bias=False, activation="tanh")(x)]


@entry("gather", ["GATHER"], [((1, 6, 5), F), ((4,), I32)], domains=["normal", ("index", 5)])
def _gather(x, idx):
    k = np.array([3, 0, 0, 5, 2], dtype=np.int32)
    return [lam(lambda t: tf.gather(t, k, axis=1))(x), lam(lambda t: tf.gather(t[0], t[1], axis=2))([x, idx])]


@entry("l2_norm", ["L2_NORMALIZATION"], [((1, 3, 3, 16), F)])
def _l2_norm(x):
    return lam(lambda t: tf.math.l2_normalize(t, axis=-1))(x)


@entry("softmax", ["SOFTMAX", "LOG_SOFTMAX"], [((1, 4, 10), F)],
       not_produced={"SOFTMAX beta != 1": "the converter keeps softmax(x * b) as MUL + SOFTMAX(beta=1); "
                                          "tests/test_kernels.py covers other betas"})
def _softmax(x):
    return [lam(tf.nn.softmax)(x), lam(lambda t: tf.nn.softmax(t * 0.5))(x),
            lam(lambda t: tf.nn.softmax(t * 2.5))(x), lam(tf.nn.log_softmax)(x)]


@entry("reduce", ["MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN"], [((1, 5, 6, 8), F)])
def _reduce(x):
    return [lam(lambda t: tf.reduce_mean(t, axis=[1, 2], keepdims=True))(x),
            lam(lambda t: tf.reduce_mean(t, axis=-1))(x),
            lam(lambda t: tf.reduce_sum(t, axis=[2]))(x),
            lam(lambda t: tf.reduce_max(t, axis=[1, 3], keepdims=True))(x),
            lam(lambda t: tf.reduce_min(t, axis=-1))(x)]


@entry("pad", ["PAD", "PADV2", "MIRROR_PAD"], [((1, 5, 6, 3), F)])
def _pad(x):
    return [lam(lambda t: tf.pad(t, [[0, 0], [1, 2], [2, 0], [0, 0]]))(x),
            lam(lambda t: tf.pad(t, [[0, 0], [1, 1], [1, 1], [0, 1]], constant_values=0.75))(x),
            lam(lambda t: tf.pad(t, [[0, 0], [2, 1], [1, 2], [0, 0]], mode="REFLECT"))(x),
            lam(lambda t: tf.pad(t, [[0, 0], [1, 2], [2, 2], [0, 0]], mode="SYMMETRIC"))(x)]


@entry("pack_unpack", ["PACK", "UNPACK"], [((1, 3, 4), F), ((1, 3, 4), F)])
def _pack_unpack(a, b):
    u = lam(lambda t: tf.unstack(t, axis=1))(a)
    return [lam(lambda t: tf.stack(t, axis=1))([a, b]), lam(lambda t: tf.stack(t, axis=-1))([a, b]), *u]


@entry("prelu", ["PRELU"], [((1, 5, 5, 6), F), ((1, 4, 4, 6), F)],
       note="one input per PReLU: the converter only fuses relu(x) - alpha * relu(-x) whose parts have one use")
def _prelu(x, y):
    return [keras.layers.PReLU()(x), keras.layers.PReLU(shared_axes=[1, 2])(y)]


@entry("requantize", ["QUANTIZE", "CONCATENATION"], [((1, 4, 4, 4), F), ((1, 4, 4, 4), F)],
       variants=("int8",), note="the converter requantizes a LOGISTIC output to the concatenation's scale")
def _requantize(a, b):
    return keras.layers.Concatenate()([lam(tf.math.sigmoid)(a), b * 3.0])


@entry("quantize_io", ["QUANTIZE", "DEQUANTIZE", "CONV_2D"], [((1, 8, 8, 3), F)], variants=("int8_floatio",))
def _quantize_io(x):
    return keras.layers.Conv2D(4, 3, padding="same")(x)


@entry("resize", ["RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"], [((1, 5, 6, 3), F)])
def _resize(x):
    return [lam(lambda t: tf.compat.v1.image.resize_bilinear(t, (10, 12), align_corners=True))(x),
            lam(lambda t: tf.compat.v1.image.resize_bilinear(t, (8, 9), half_pixel_centers=True))(x),
            lam(lambda t: tf.compat.v1.image.resize_bilinear(t, (7, 11)))(x),
            keras.layers.UpSampling2D(2, interpolation="nearest")(x),
            lam(lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, (9, 7), half_pixel_centers=True))(x),
            lam(lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, (8, 8), align_corners=True))(x)]


@entry("select", ["SELECT_V2", "GREATER"], [((1, 4, 6), F), ((1, 4, 6), F), ((1, 1, 6), F)])
def _select(c, a, b):
    return lam(lambda t: tf.where(t[0] > 0.3, t[1], t[2]))([c, a, b])


@entry("slice", ["SLICE"], [((1, 6, 7, 4), F)])
def _slice(x):
    return [lam(lambda t: tf.slice(t, [0, 1, 2, 0], [1, 3, 4, 4]))(x),
            lam(lambda t: tf.slice(t, [0, 0, 3, 1], [1, -1, 2, 2]))(x)]


@entry("strided_slice", ["STRIDED_SLICE"], [((1, 6, 7, 4), F), ((1, 6, 7), F)])
def _strided_slice(x, y):
    return [lam(lambda t: t[:, 1:5:2, ::3, :])(x),           # begin/end masks, strides
            lam(lambda t: t[:, ::-1, 5:1:-2, 1:3])(x),        # negative strides
            lam(lambda t: t[:, 2, :, 1:])(x),                 # shrink axis
            lam(lambda t: t[..., 1:3])(x),                    # ellipsis
            lam(lambda t: t[:, tf.newaxis, 1:4, -1])(y),      # new axis + shrink (RESHAPE + 4-D slice)
            lam(lambda t: t[:, -3:, :-2])(x)]                 # negative begin/end


@entry("split", ["SPLIT", "SPLIT_V"], [((1, 4, 6, 8), F)])
def _split(x):
    a = lam(lambda t: tf.split(t, 2, axis=-1))(x)
    b = lam(lambda t: tf.split(t, [1, 2, 3], axis=2))(x)
    return [*a, *b]


@entry("transpose", ["TRANSPOSE"], [((1, 3, 4, 5), F)])
def _transpose(x):
    return [lam(lambda t: tf.transpose(t, [0, 3, 1, 2]))(x), lam(lambda t: tf.transpose(t, [0, 2, 3, 1]))(x),
            lam(lambda t: tf.transpose(tf.reshape(t, (3, 4, 5)), [2, 0, 1]))(x)]


@entry("transpose_conv", ["TRANSPOSE_CONV"], [((1, 5, 5, 6), F)], variants=("f32", "int8", "int8_pertensor"))
def _transpose_conv(x):
    return [keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")(x),
            keras.layers.Conv2DTranspose(3, 2, strides=2, padding="valid", use_bias=False)(x),
            keras.layers.Conv2DTranspose(5, (3, 2), strides=(1, 2), padding="same")(x)]


@entry("zeros_like", ["ZEROS_LIKE"], [((1, 3, 5), F)], dynamic_batch=True)
def _zeros_like(x):
    return lam(lambda t: tf.zeros_like(t))(x)


@entry("shape", ["SHAPE"], [((1, 3, 5), F)], variants=("f32",), dynamic_batch=True)
def _shape(x):
    return lam(lambda t: tf.shape(t))(x)


# ---------------------------------------------------------------------------
# Composite networks
# ---------------------------------------------------------------------------

def _conv_bn_relu6(x, filters, k=3, s=1):
    x = keras.layers.Conv2D(filters, k, strides=s, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    return keras.layers.ReLU(6.0)(x)


def _inverted_residual(x, expand, out, stride):
    inp = x.shape[-1]
    h = _conv_bn_relu6(x, inp * expand, 1) if expand != 1 else x
    h = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU(6.0)(h)
    h = keras.layers.Conv2D(out, 1, use_bias=False)(h)
    h = keras.layers.BatchNormalization()(h)
    if stride == 1 and inp == out:
        h = keras.layers.Add()([x, h])
    return h


@entry("mobilenetv2", ["CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MEAN", "FULLY_CONNECTED", "SOFTMAX"],
       [((1, 96, 96, 3), F)], variants=("f32", "int8", "f16"))
def _mobilenetv2(x):
    h = _conv_bn_relu6(x, 16, 3, 2)                       # 48x48
    h = _inverted_residual(h, 1, 8, 1)
    h = _inverted_residual(h, 4, 12, 2)                   # 24x24
    h = _inverted_residual(h, 4, 12, 1)
    h = _inverted_residual(h, 4, 16, 2)                   # 12x12
    h = _inverted_residual(h, 4, 16, 1)
    h = _inverted_residual(h, 4, 16, 1)
    h = _inverted_residual(h, 4, 24, 2)                   # 6x6
    h = _inverted_residual(h, 4, 24, 1)
    h = _inverted_residual(h, 4, 32, 1)
    h = _conv_bn_relu6(h, 64, 1)
    h = keras.layers.GlobalAveragePooling2D()(h)
    return keras.layers.Dense(10, activation="softmax")(h)


def _dw_separable(x, out, stride):
    h = keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU(6.0)(h)
    h = keras.layers.Conv2D(out, 1, use_bias=False)(h)
    h = keras.layers.BatchNormalization()(h)
    return keras.layers.ReLU(6.0)(h)


@entry("yolo", ["CONV_2D", "DEPTHWISE_CONV_2D", "RESIZE_NEAREST_NEIGHBOR", "CONCATENATION"],
       [((1, 160, 160, 3), F)], variants=("f32", "int8"))
def _yolo(x):
    h = _conv_bn_relu6(x, 8, 3, 2)                        # 80
    h = _dw_separable(h, 16, 2)                           # 40
    h = _dw_separable(h, 16, 1)
    h = _dw_separable(h, 24, 2)                           # 20
    h = _dw_separable(h, 24, 1)
    p4 = _dw_separable(h, 32, 2)                          # 10
    h = _dw_separable(p4, 32, 1)
    p5 = _dw_separable(h, 32, 2)                          # 5
    a = _conv_bn_relu6(p5, 32, 1)
    head1 = keras.layers.Conv2D(3 * (5 + 3), 1, name="head_5x5")(_dw_separable(a, 32, 1))
    u = _conv_bn_relu6(a, 16, 1)
    u = keras.layers.UpSampling2D(2, interpolation="nearest")(u)
    c = keras.layers.Concatenate()([u, p4])
    c = _dw_separable(c, 32, 1)
    head2 = keras.layers.Conv2D(3 * (5 + 3), 1, name="head_10x10")(c)
    return [head1, head2]


@entry("transformer", ["FULLY_CONNECTED", "BATCH_MATMUL", "SOFTMAX", "TRANSPOSE", "RESHAPE", "ADD", "MEAN",
                      "SQUARED_DIFFERENCE", "RSQRT", "MUL", "SUB"],
       [((1, 8, 16), F)], variants=("f32", "int8"),
       note="a tiny encoder block: Keras MultiHeadAttention (2 heads), LayerNormalization, GELU-free MLP")
def _transformer(x):
    a = keras.layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    h = keras.layers.LayerNormalization()(keras.layers.Add()([x, a]))
    f = keras.layers.Dense(32, activation="relu")(h)
    f = keras.layers.Dense(16)(f)
    h = keras.layers.LayerNormalization()(keras.layers.Add()([h, f]))
    h = keras.layers.GlobalAveragePooling1D()(h)
    return keras.layers.Dense(4, activation="softmax")(h)


@entry("kws_conv1d", ["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "REDUCE_MAX", "FULLY_CONNECTED", "SOFTMAX"], [((1, 49, 10), F)],
       variants=("f32", "int8", "hybrid"), note="keyword-spotting style: Conv1D layers (the converter lowers them to CONV_2D)")
def _kws_conv1d(x):
    h = keras.layers.Conv1D(16, 5, strides=2, padding="same", activation="relu")(x)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.SeparableConv1D(24, 3, padding="same", activation="relu")(h)
    h = keras.layers.MaxPooling1D(2)(h)
    h = keras.layers.Conv1D(24, 3, dilation_rate=2, padding="causal", activation="relu")(h)
    h = keras.layers.GlobalMaxPooling1D()(h)
    h = keras.layers.Dense(12)(h)
    return keras.layers.Softmax()(h)


@entry("autoencoder", ["CONV_2D", "TRANSPOSE_CONV", "PAD", "LOGISTIC"], [((1, 28, 28, 1), F)],
       variants=("f32", "int8", "hybrid"), note="ZeroPadding2D, SeparableConv2D, Conv2DTranspose, Flatten/Dense bottleneck")
def _autoencoder(x):
    h = keras.layers.ZeroPadding2D(((1, 1), (1, 1)))(x)
    h = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(h)               # 14
    h = keras.layers.SeparableConv2D(16, 3, strides=2, padding="same", activation="relu")(h)   # 7
    z = keras.layers.Dense(16, activation="relu")(keras.layers.Flatten()(h))
    h = keras.layers.Reshape((7, 7, 16))(keras.layers.Dense(7 * 7 * 16)(z))
    h = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(h)   # 14
    h = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same")(h)                      # 28
    h = keras.layers.BatchNormalization()(h)
    return keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")(h)


@entry("hybrid_layers", ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"], [((1, 8, 8, 32), F)],
       variants=("hybrid",), note="dynamic-range quantization: int8 weights (>= 1024 elements), float activations")
def _hybrid_layers(x):
    return [keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x),
            keras.layers.Conv2D(40, 3, strides=2, use_bias=False)(x),
            keras.layers.DepthwiseConv2D(3, depth_multiplier=4, padding="same")(x),
            keras.layers.DepthwiseConv2D(5, strides=2, depth_multiplier=8, padding="valid", use_bias=False,
                                         activation="relu")(x),
            keras.layers.DepthwiseConv2D(3, dilation_rate=2, depth_multiplier=5, padding="same",
                                         activation="relu6")(x),
            keras.layers.Dense(24, activation="relu6")(keras.layers.Flatten()(x)),
            keras.layers.Dense(48)(x)]


@entry("hybrid_depthwise", ["DEPTHWISE_CONV_2D"], [((1, 7, 6, 128), F)], variants=("hybrid",),
       note="one hybrid depthwise convolution, depth multiplier 1 (its output may overlap its input)")
def _hybrid_depthwise(x):
    return keras.layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")(x)


@entry("hybrid_transpose_conv", ["TRANSPOSE_CONV"], [((1, 5, 5, 48), F)], variants=("hybrid", "hybrid_pertensor"),
       note="hybrid transposed convolutions")
def _hybrid_transpose_conv(x):
    return [keras.layers.Conv2DTranspose(24, 3, strides=2, padding="same")(x),
            keras.layers.Conv2DTranspose(16, 2, strides=2, padding="valid", use_bias=False, activation="relu")(x)]


# ---------------------------------------------------------------------------

def build_model(e):
    keras.backend.clear_session()
    tf.random.set_seed(seed_of(e["name"]) % (2 ** 31))
    ins = keras_inputs(e["inputs"], e["dynamic_batch"])
    outs = e["build"](*ins)
    m = keras.Model(ins, outs if isinstance(outs, list) else [outs])
    return randomize(m, np.random.default_rng(seed_of(e["name"])))


def main(argv):
    ZOO.mkdir(parents=True, exist_ok=True)
    manifest_path = ZOO / "manifest.json"
    old = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    manifest = old.get("models", {}) if argv else {k: v for k, v in old.get("models", {}).items()
                                                    if k.startswith("torch_")}
    todo = [e for e in ENTRIES if not argv or any(e["name"].startswith(a) for a in argv)]
    for e in todo:
        model = build_model(e)
        for variant in e["variants"]:
            fname = f"{e['name']}_{variant}.tflite"
            try:
                buf = convert(e, model, variant)
            except Exception as ex:  # noqa: BLE001  (record what the converter refuses)
                msg = str(ex).strip().splitlines()[-1][:300] if str(ex).strip() else type(ex).__name__
                print(f"{fname}: converter failed: {msg}")
                manifest[fname[:-7]] = dict(error=msg)
                continue
            ops = ops_of(buf)
            want = e["ops"].get(variant, e["ops"].get("*", [])) if isinstance(e["ops"], dict) else e["ops"]
            missing = sorted(set(want) - set(ops))
            (ZOO / fname).write_bytes(buf)
            ins_t, outs_t, float_ops = io_info(buf)
            doms = []
            for tname, _ in ins_t:   # the converter's input order, matched to ours by name
                k = re.search(r"x(\d+)", tname)
                d = e["domains"][int(k.group(1))] if k else "normal"
                doms.append(list(d) if isinstance(d, tuple) else d)
            manifest[fname[:-7]] = dict(
                file=fname, model=e["name"], variant=variant, intended=sorted(set(want) - set(missing)),
                not_produced={**{m: "the converter did not emit it" for m in missing}, **e["not_produced"]},
                ops=sorted(set(ops)), op_count=len(ops), inputs=[dict(dtype=t, domain=d) for (_, t), d in zip(ins_t, doms)],
                outputs=outs_t, float_ops=float_ops if variant != "f32" else [], bytes=len(buf), note=e["note"])
            print(f"{fname:40s} {len(buf):8d} B  ops={','.join(sorted(set(ops)))}"
                  + (f"  MISSING {missing}" if missing else ""))
    current = {f"{e['name']}_{v}" for e in ENTRIES for v in e["variants"]}
    ours = lambda k: not k.startswith("torch_")  # noqa: E731  (those are scripts/make_zoo_torch.py's)
    manifest = {k: v for k, v in sorted(manifest.items()) if k in current or not ours(k)}
    for f in ZOO.glob("*.tflite"):
        if ours(f.stem) and f.stem not in current:
            print(f"removing {f.name}: no longer in the zoo")
            f.unlink()
    head = {k: v for k, v in old.items() if k not in ("models", "tensorflow", "keras")}
    manifest_path.write_text(json.dumps(dict(tensorflow=tf.__version__, keras=keras.__version__, **head,
                                             models=manifest), indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
