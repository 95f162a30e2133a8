"""Generators of test models for the element-wise ops.

Binary (with numpy broadcasting): SUB, MUL, DIV, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE,
EQUAL, NOT_EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL, SELECT_V2, PRELU; unary: ABS,
NEG, CEIL, FLOOR, COS, SIN, EXP, LOG, RSQRT, SQRT, SQUARE, ELU, HARD_SWISH, LEAKY_RELU,
LOGISTIC, TANH, RELU, RELU6, RELU_N1_TO_1, ZEROS_LIKE; conversions QUANTIZE, DEQUANTIZE,
CAST; row-wise LOG_SOFTMAX and L2_NORMALIZATION.

Quantization follows TensorFlow's full-integer converter (see ``tinycc.testing.models``):
int8 activations per tensor, each output's range calibrated on the float function over
random inputs spread across the input's quantized range; the ops whose int8 output
TFLite fixes get it (LOGISTIC 1/256 and -128, TANH and L2_NORMALIZATION 1/128 and 0,
LOG_SOFTMAX 16/256 and 127); "same scale" ops (MAXIMUM, MINIMUM, SELECT_V2, RELU6 by
default) keep their input's scale and zero point.

Most generators put several ops on the same inputs into one model (a *bundle*), one
output each, so a test compiles and runs once for many ops.
"""
from __future__ import annotations

import math
from typing import Sequence

import flatbuffers
import numpy as np
import tflite

from .models import CALIBRATION_SAMPLES, choose_qparams, dequantize
from .tflite_writer import ModelBuilder, builtin_code, builtin_name

_ACT = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}

#: Options table of each op (the converter writes one for all of these).
OPTIONS_TABLE = {
    "SUB": "SubOptions", "MUL": "MulOptions", "DIV": "DivOptions",
    "MAXIMUM": "MaximumMinimumOptions", "MINIMUM": "MaximumMinimumOptions",
    "SQUARED_DIFFERENCE": "SquaredDifferenceOptions", "EQUAL": "EqualOptions",
    "NOT_EQUAL": "NotEqualOptions", "GREATER": "GreaterOptions", "GREATER_EQUAL": "GreaterEqualOptions",
    "LESS": "LessOptions", "LESS_EQUAL": "LessEqualOptions", "SELECT_V2": "SelectV2Options",
    "ABS": "AbsOptions", "NEG": "NegOptions", "COS": "CosOptions", "EXP": "ExpOptions",
    "SQUARE": "SquareOptions", "HARD_SWISH": "HardSwishOptions", "LEAKY_RELU": "LeakyReluOptions",
    "ZEROS_LIKE": "ZerosLikeOptions", "LOG_SOFTMAX": "LogSoftmaxOptions",
    "L2_NORMALIZATION": "L2NormOptions", "CAST": "CastOptions", "DEQUANTIZE": "DequantizeOptions",
    "QUANTIZE": "QuantizeOptions",
}
_TENSOR_TYPES = {"float32": tflite.TensorType.FLOAT32, "int8": tflite.TensorType.INT8,
                 "int16": tflite.TensorType.INT16, "int32": tflite.TensorType.INT32,
                 "bool": tflite.TensorType.BOOL}


class ElementwiseBuilder(ModelBuilder):
    """ModelBuilder writing the options tables of the ops above (``fused_activation_function``
    by name, ``alpha``, ``in_data_type``/``out_data_type`` by dtype name)."""

    def op(self, opcode, inputs, outputs, *, version: int = 1, **options):
        kind = builtin_name(builtin_code(opcode))
        if kind not in OPTIONS_TABLE:
            return super().op(opcode, inputs, outputs, version=version, **options)
        index = super().op(opcode, inputs, outputs, version=version)
        self._ops[index].options = dict(options)
        return index

    def _write_op(self, b: flatbuffers.Builder, op) -> int:
        kind = builtin_name(self._opcodes[op.opcode_index][0])
        if kind not in OPTIONS_TABLE:
            return super()._write_op(b, op)
        cls = OPTIONS_TABLE[kind]
        getattr(tflite, cls + "Start")(b)
        for k, v in op.options.items():
            adder = getattr(tflite, cls + "Add" + "".join(p.capitalize() for p in k.split("_")), None)
            if adder is None:
                raise ValueError(f"{kind} has no option {k!r}")
            if k == "fused_activation_function":
                v = _ACT[v]
            elif k in ("in_data_type", "out_data_type"):
                v = _TENSOR_TYPES[v]
            adder(b, v)
        options = getattr(tflite, cls + "End")(b)
        inputs = b.CreateNumpyVector(np.asarray(op.inputs, dtype="<i4"))
        outputs = b.CreateNumpyVector(np.asarray(op.outputs, dtype="<i4"))
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, op.opcode_index)
        tflite.OperatorAddInputs(b, inputs)
        tflite.OperatorAddOutputs(b, outputs)
        tflite.OperatorAddBuiltinOptionsType(b, getattr(tflite.BuiltinOptions, cls))
        tflite.OperatorAddBuiltinOptions(b, options)
        return tflite.OperatorEnd(b)


# ---------------------------------------------------------------------------
# Float references (numpy, float64) used for calibration
# ---------------------------------------------------------------------------

def _relu6(x):
    return np.clip(x, 0.0, 6.0)


UNARY_FLOAT = {
    "ABS": np.abs, "NEG": np.negative, "CEIL": np.ceil, "FLOOR": np.floor, "COS": np.cos, "SIN": np.sin,
    "EXP": np.exp, "LOG": lambda x: np.log(np.maximum(x, 1e-6)), "SQRT": lambda x: np.sqrt(np.maximum(x, 0)),
    "RSQRT": lambda x: 1.0 / np.sqrt(np.maximum(x, 1e-3)), "SQUARE": np.square,
    "ELU": lambda x: np.where(x < 0, np.expm1(np.minimum(x, 0)), x),
    "HARD_SWISH": lambda x: x * _relu6(x + 3) / 6, "LOGISTIC": lambda x: 1 / (1 + np.exp(-x)),
    "TANH": np.tanh, "RELU": lambda x: np.maximum(x, 0), "RELU6": _relu6,
    "RELU_N1_TO_1": lambda x: np.clip(x, -1, 1), "ZEROS_LIKE": np.zeros_like,
    "LEAKY_RELU": lambda x: np.where(x > 0, x, 0.2 * x),
}
#: int8 output quantization TFLite fixes for these ops (scale, zero point).
FIXED_OUTPUT_Q = {"LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0), "LOG_SOFTMAX": (16 / 256, 127),
                  "L2_NORMALIZATION": (1 / 128, 0)}
#: Ops whose int8 output keeps the input quantization.
SAME_SCALE = {"MAXIMUM", "MINIMUM", "SELECT_V2", "ZEROS_LIKE"}

BINARY_FLOAT = {
    "ADD": np.add, "SUB": np.subtract, "MUL": np.multiply, "DIV": lambda a, b: a / np.where(b == 0, 1e-3, b),
    "MAXIMUM": np.maximum, "MINIMUM": np.minimum, "SQUARED_DIFFERENCE": lambda a, b: (a - b) ** 2,
}
COMPARISONS = {"EQUAL": np.equal, "NOT_EQUAL": np.not_equal, "GREATER": np.greater,
               "GREATER_EQUAL": np.greater_equal, "LESS": np.less, "LESS_EQUAL": np.less_equal}


def _align(calib, shape, ndim):
    """Calibration values ``(k, *shape)`` viewed with ``ndim`` dims after k, for numpy broadcasting."""
    shape = tuple(shape)
    return np.asarray(calib).reshape((-1,) + (1,) * (ndim - len(shape)) + shape)


def _apply_activation(y, activation):
    return {"NONE": lambda v: v, "RELU": lambda v: np.maximum(v, 0), "RELU6": _relu6,
            "RELU_N1_TO_1": lambda v: np.clip(v, -1, 1)}[activation](y)


# ---------------------------------------------------------------------------
# Model under construction
# ---------------------------------------------------------------------------

class Net:
    """Inputs, outputs and calibration data of an element-wise test model."""

    def __init__(self, rng: np.random.Generator, dtype: str):
        if dtype not in ("int8", "float32"):
            raise ValueError(f"dtype must be int8 or float32, not {dtype!r}")
        self.rng, self.dtype = rng, dtype
        self.b = ElementwiseBuilder("tinycc element-wise test model")
        self.inputs: list[int] = []
        self.outputs: list[int] = []

    @property
    def quantized(self) -> bool:
        return self.dtype == "int8"

    def input(self, shape, scale=None, zero_point=None, *, dtype=None, name="input", positive=False):
        """A graph input; returns (tensor index, calibration values, (scale, zp) or None)."""
        dtype = dtype or self.dtype
        shape = tuple(int(d) for d in shape)
        if dtype == "int8":
            if scale is None:
                scale = math.exp(self.rng.uniform(math.log(0.005), math.log(0.1)))
            if zero_point is None:
                zero_point = int(self.rng.integers(-128, 128))
            scale = float(np.float32(scale))
            q = self.rng.integers(-128, 128, size=(CALIBRATION_SAMPLES,) + shape)
            calib = dequantize(q, scale, zero_point)
            t = self.b.tensor(shape, "int8", scale=scale, zero_point=zero_point, name=name)
            qp = (scale, int(zero_point))
        else:
            calib = self.rng.standard_normal((CALIBRATION_SAMPLES,) + shape)
            if positive:
                calib = np.abs(calib) + 0.05
            t = self.b.tensor(shape, dtype, name=name)
            qp = None
        self.inputs.append(t)
        return t, calib, qp

    def output(self, shape, calib, name, *, dtype=None, q=None, fixed=None, output=True):
        """An op's output tensor; int8 quantization calibrated on ``calib`` unless fixed."""
        dtype = dtype or self.dtype
        shape = tuple(int(d) for d in shape)
        if dtype == "int8":
            if fixed is not None:
                s, z = float(np.float32(fixed[0])), int(fixed[1])
            else:
                s, z = choose_qparams(float(np.min(calib)), float(np.max(calib)), *(q or (None, None)))
            t = self.b.tensor(shape, "int8", scale=s, zero_point=z, name=name)
        else:
            t = self.b.tensor(shape, dtype, name=name)
        if output:
            self.outputs.append(t)
        return t

    def build(self) -> bytes:
        return self.b.build(self.inputs, self.outputs)


# ---------------------------------------------------------------------------
# Unary ops
# ---------------------------------------------------------------------------

def unary_bundle(rng: np.random.Generator, kinds: Sequence[str], shape=(1, 256), dtype: str = "int8", *,
                 in_scale: float | None = None, in_zero_point: int | None = None,
                 out_q: dict | None = None, alpha: float = 0.2, positive: bool = False) -> bytes:
    """One input, then each unary op of ``kinds`` on it, one model output per op.

    A kind may carry LEAKY_RELU's alpha: ``"LEAKY_RELU:0.01"`` (default ``alpha``).
    ``out_q`` maps an op to a fixed int8 output (scale, zero point); others are calibrated
    (or TFLite's fixed quantization, or the input's for same-scale ops). ``positive``
    calibrates float inputs as positive (LOG, SQRT, RSQRT); the test must feed such values.
    """
    net = Net(rng, dtype)
    x, calib, qp = net.input(shape, in_scale, in_zero_point, positive=positive)
    for i, spec in enumerate(kinds):
        kind, _, arg = spec.partition(":")
        a = float(arg) if arg else alpha
        y = UNARY_FLOAT[kind](calib) if kind != "LEAKY_RELU" else np.where(calib > 0, calib, calib * a)
        fixed = (out_q or {}).get(spec) or FIXED_OUTPUT_Q.get(kind)
        if fixed is None and kind in SAME_SCALE | {"RELU6"} and qp is not None:
            fixed = qp
        out = net.output(shape, y, f"{kind.lower()}_{i}", fixed=fixed)
        net.b.op(kind, [x], [out], **(dict(alpha=a) if kind == "LEAKY_RELU" else {}))
    return net.build()


def unary(rng, kind: str, shape=(1, 4, 4, 3), dtype: str = "int8", **kw) -> bytes:
    """A single unary op (see :func:`unary_bundle`)."""
    return unary_bundle(rng, [kind], shape, dtype, **kw)


# ---------------------------------------------------------------------------
# Binary ops
# ---------------------------------------------------------------------------

def binary_bundle(rng: np.random.Generator, kinds: Sequence[str], shape_a, shape_b, dtype: str = "int8", *,
                  activation: str = "NONE", in_scale=(None, None), in_zero_point=(None, None),
                  out_q: dict | None = None, const_b: bool = False, same_q: bool = False) -> bytes:
    """Inputs a, b (b a constant when ``const_b``), then each binary op of ``kinds`` on (a, b).

    Arithmetic ops (ADD, SUB, MUL, DIV) get the fused ``activation``; comparisons output
    bool. ``same_q`` gives b the quantization of a (MAXIMUM/MINIMUM int8 compare raw values
    and copy them to the output, so the converter puts inputs and output on one scale).
    """
    net = Net(rng, dtype)
    a, ca, qa = net.input(shape_a, in_scale[0], in_zero_point[0], name="input_a")
    sb, zb = qa if (same_q and qa is not None) else (in_scale[1], in_zero_point[1])
    if const_b and qa is not None:
        sb = sb if sb is not None else float(np.float32(math.exp(rng.uniform(math.log(0.005), math.log(0.1)))))
        zb = zb if zb is not None else int(rng.integers(-128, 128))
        qv = rng.integers(-128, 128, size=tuple(shape_b))
        b = net.b.tensor(list(shape_b), "int8", data=qv, scale=sb, zero_point=zb, name="const_b")
        cb = np.broadcast_to(dequantize(qv, sb, zb), (CALIBRATION_SAMPLES,) + tuple(shape_b))
    elif const_b:
        vb = rng.standard_normal(tuple(shape_b))
        b = net.b.tensor(list(shape_b), "float32", data=vb.astype(np.float32), name="const_b")
        cb = np.broadcast_to(vb, (CALIBRATION_SAMPLES,) + tuple(shape_b))
    else:
        b, cb, _ = net.input(shape_b, sb, zb, name="input_b")
    out_shape = tuple(np.broadcast_shapes(tuple(shape_a), tuple(shape_b)))
    for kind in kinds:
        if kind in COMPARISONS:
            out = net.output(out_shape, None, kind.lower(), dtype="bool")
            net.b.op(kind, [a, b], [out])
            continue
        y = BINARY_FLOAT[kind](_align(ca, shape_a, len(out_shape)), _align(cb, shape_b, len(out_shape)))
        has_act = kind in ("ADD", "SUB", "MUL", "DIV")
        if has_act:
            y = _apply_activation(y, activation)
        fixed = (out_q or {}).get(kind)
        if fixed is None and kind in SAME_SCALE and qa is not None:
            fixed = qa
        out = net.output(out_shape, y, kind.lower(), fixed=fixed)
        net.b.op(kind, [a, b], [out], **(dict(fused_activation_function=activation) if has_act else {}))
    return net.build()


def binary(rng, kind: str, shape_a=(1, 4, 4, 3), shape_b=(1, 4, 4, 3), dtype: str = "int8", **kw) -> bytes:
    """A single binary op (see :func:`binary_bundle`)."""
    return binary_bundle(rng, [kind], shape_a, shape_b, dtype, **kw)


def select_v2(rng: np.random.Generator, cond_shape, x_shape, y_shape, dtype: str = "int8") -> bytes:
    """SELECT_V2(c > 0, x, y): inputs c, x, y; the condition is a GREATER against a constant zero.

    x, y and the output share one quantization, as the converter makes them.
    """
    net = Net(rng, dtype)
    c, _, qc = net.input(cond_shape, name="input_c")
    x, cx, qx = net.input(x_shape, name="input_x")
    y, cy, _ = net.input(y_shape, *(qx or (None, None)), name="input_y")
    if qc is not None:
        zero = net.b.tensor([1], "int8", data=np.array([qc[1]]), scale=qc[0], zero_point=qc[1], name="zero")
    else:
        zero = net.b.tensor([1], "float32", data=np.zeros(1, np.float32), name="zero")
    cond = net.output(cond_shape, None, "cond", dtype="bool", output=False)
    net.b.op("GREATER", [c, zero], [cond])
    out_shape = tuple(np.broadcast_shapes(tuple(cond_shape), tuple(x_shape), tuple(y_shape)))
    out = net.output(out_shape, None, "select", fixed=qx)
    net.b.op("SELECT_V2", [cond, x, y], [out])
    return net.build()


def prelu(rng: np.random.Generator, in_shape, alpha_shape, dtype: str = "int8", *,
          in_scale=None, in_zero_point=None) -> bytes:
    """PRELU with a constant alpha (int8 per-tensor, values in [-0.5, 1]); the output calibrated."""
    net = Net(rng, dtype)
    x, cx, _ = net.input(in_shape, in_scale, in_zero_point)
    af = rng.uniform(-0.5, 1.0, tuple(alpha_shape))
    if net.quantized:
        s, z = choose_qparams(float(af.min()), float(af.max()))
        qv = np.clip(np.round(af / s) + z, -128, 127).astype(np.int64)
        alpha = net.b.tensor(list(alpha_shape), "int8", data=qv, scale=s, zero_point=z, name="alpha")
        af = dequantize(qv, s, z)
    else:
        alpha = net.b.tensor(list(alpha_shape), "float32", data=af.astype(np.float32), name="alpha")
    out_shape = tuple(np.broadcast_shapes(tuple(in_shape), tuple(alpha_shape)))
    cx = _align(cx, in_shape, len(out_shape))
    out = net.output(out_shape, np.where(cx >= 0, cx, cx * _align(af[None], alpha_shape, len(out_shape))), "prelu")
    net.b.op("PRELU", [x, alpha], [out])
    return net.build()


# ---------------------------------------------------------------------------
# Conversions and row-wise ops
# ---------------------------------------------------------------------------

def conversions(rng: np.random.Generator, shape=(1, 64), *, in_scale=None, in_zero_point=None,
                out_scales=(None, None), out_zero_points=(None, None)) -> bytes:
    """Float input f and int8 input q: QUANTIZE(f), DEQUANTIZE(q), QUANTIZE(q) (requantize)."""
    net = Net(rng, "int8")
    f = net.b.tensor(list(shape), "float32", name="input_f")
    net.inputs.append(f)
    q, cq, _ = net.input(shape, in_scale, in_zero_point, name="input_q")
    cf = rng.standard_normal((CALIBRATION_SAMPLES,) + tuple(shape))
    y1 = net.output(shape, cf, "quantize", q=(out_scales[0], out_zero_points[0]))
    net.b.op("QUANTIZE", [f], [y1])
    y2 = net.output(shape, None, "dequantize", dtype="float32")
    net.b.op("DEQUANTIZE", [q], [y2])
    y3 = net.output(shape, cq, "requantize", q=(out_scales[1], out_zero_points[1]))
    net.b.op("QUANTIZE", [q], [y3])
    return net.build()


def convert(rng: np.random.Generator, kind: str, shape=(1, 8, 8, 4)) -> bytes:
    """A single QUANTIZE (float32 -> int8) or DEQUANTIZE (int8 -> float32)."""
    net = Net(rng, "int8")
    if kind == "QUANTIZE":
        x = net.b.tensor(list(shape), "float32", name="input")
        net.inputs.append(x)
        y = net.output(shape, rng.standard_normal((CALIBRATION_SAMPLES,) + tuple(shape)), "quantize")
    else:
        x, _, _ = net.input(shape)
        y = net.output(shape, None, "dequantize", dtype="float32")
    net.b.op(kind, [x], [y])
    return net.build()


def casts(rng: np.random.Generator, in_dtype: str, out_dtypes: Sequence[str], shape=(2, 5)) -> bytes:
    """One input of ``in_dtype``, then CAST to each of ``out_dtypes``. A bool source (which a
    model input cannot be for the reference) is LESS(a, b) of two float32 inputs."""
    b = ElementwiseBuilder("tinycc cast test model")
    if in_dtype == "bool":
        ins = [b.tensor(list(shape), "float32", name="input_a"), b.tensor(list(shape), "float32", name="input_b")]
        x = b.tensor(list(shape), "bool", name="less")
        b.op("LESS", ins, [x])
    else:
        x = b.tensor(list(shape), in_dtype, name="input")
        ins = [x]
    outs = []
    for dt in out_dtypes:
        y = b.tensor(list(shape), dt, name=f"cast_{dt}")
        b.op("CAST", [x], [y], in_data_type=in_dtype, out_data_type=dt)
        outs.append(y)
    return b.build(ins, outs)


def row_ops(rng: np.random.Generator, kinds: Sequence[str], shape=(2, 10), dtype: str = "int8", *,
            in_scale=None, in_zero_point=None, out_q=None) -> bytes:
    """LOG_SOFTMAX and/or L2_NORMALIZATION over the last axis of one input (int8 output
    quantization TFLite's fixed one unless ``out_q`` is given)."""
    net = Net(rng, dtype)
    x, calib, _ = net.input(shape, in_scale, in_zero_point)
    for kind in kinds:
        out = net.output(shape, None, kind.lower(), fixed=(out_q or FIXED_OUTPUT_Q[kind]) if net.quantized else None)
        net.b.op(kind, [x], [out], **(dict(fused_activation_function="NONE") if kind == "L2_NORMALIZATION" else {}))
    return net.build()


def chain(rng: np.random.Generator, steps: Sequence[str], shape=(1, 6, 6, 4), in_dtype: str = "float32") -> bytes:
    """A chain of element-wise ops, each consuming the previous output (so the planner can run
    them in place). Unary kinds apply directly; binary kinds take a constant second operand of
    shape ``(shape[-1],)``; ``QUANTIZE`` turns a float32 value into int8 (calibrated),
    ``DEQUANTIZE`` back; LOG_SOFTMAX / L2_NORMALIZATION work on the last axis."""
    net = Net(rng, in_dtype)
    t, c, qp = net.input(shape)
    dt = in_dtype
    shape = tuple(shape)
    for i, kind in enumerate(steps):
        name = f"{kind.lower()}_{i}"
        if kind == "QUANTIZE":
            out = net.output(shape, c, name, dtype="int8", output=False)
            qp = net.b._tensors[out].scale[0], net.b._tensors[out].zero_point[0]
            net.b.op(kind, [t], [out])
            t, dt = out, "int8"
            continue
        if kind == "DEQUANTIZE":
            out = net.output(shape, c, name, dtype="float32", output=False)
            net.b.op(kind, [t], [out])
            t, dt, qp = out, "float32", None
            continue
        if kind in UNARY_FLOAT:
            y = UNARY_FLOAT[kind](c)
            inputs = [t]
            opts = dict(alpha=0.2) if kind == "LEAKY_RELU" else {}
        elif kind in ("LOG_SOFTMAX", "L2_NORMALIZATION"):
            e = np.exp(c - c.max(axis=-1, keepdims=True))
            y = np.log(e / e.sum(axis=-1, keepdims=True)) if kind == "LOG_SOFTMAX" else \
                c / np.maximum(np.sqrt((c ** 2).sum(axis=-1, keepdims=True)), 1e-6)
            inputs = [t]
            opts = dict(fused_activation_function="NONE") if kind == "L2_NORMALIZATION" else {}
        else:
            vb = rng.uniform(0.5, 1.5, shape[-1:]) * rng.choice([-1.0, 1.0], shape[-1:])
            if dt == "int8":
                sb, zb = choose_qparams(float(vb.min()), float(vb.max()))
                qv = np.clip(np.round(vb / sb) + zb, -128, 127).astype(np.int64)
                b = net.b.tensor(list(shape[-1:]), "int8", data=qv, scale=sb, zero_point=zb, name=f"const_{i}")
                vb = dequantize(qv, sb, zb)
            else:
                b = net.b.tensor(list(shape[-1:]), "float32", data=vb.astype(np.float32), name=f"const_{i}")
            y = BINARY_FLOAT[kind](c, vb)
            inputs = [t, b]
            opts = dict(fused_activation_function="NONE") if kind in ("ADD", "SUB", "MUL", "DIV") else {}
        fixed = FIXED_OUTPUT_Q.get(kind) if dt == "int8" else None
        if fixed is None and dt == "int8" and kind in SAME_SCALE | {"RELU6"}:
            fixed = qp
        out = net.output(shape, y, name, dtype=dt, fixed=fixed, output=False)
        if dt == "int8":
            qp = net.b._tensors[out].scale[0], net.b._tensors[out].zero_point[0]
        net.b.op(kind, inputs, [out])
        t, c = out, y
    net.outputs.append(t)
    return net.build()
