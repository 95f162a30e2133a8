"""Generators of small TFLite test models with realistic int8 quantization.

Every generator returns the ``.tflite`` bytes of a model built with
:class:`~tinycc.testing.tflite_writer.ModelBuilder`. Quantization follows what
TensorFlow's full-integer post-training converter produces:

* activations: int8, asymmetric, per-tensor scale, zero point in [-128, 127];
  the range always contains 0.0;
* conv / depthwise weights: int8 symmetric (zero point 0, values in
  [-127, 127]) per output channel, along axis 0 for CONV_2D filters
  ``[O, kh, kw, I]`` and axis 3 for DEPTHWISE_CONV_2D filters
  ``[1, kh, kw, C*M]``;
* fully connected weights: int8 symmetric per tensor, shape ``[units, in]``;
* biases: int32, scale ``input_scale * weight_scale[c]``, zero point 0;
* "same scale" ops (pooling, RESHAPE) keep the input's quantization;
* SOFTMAX int8 output: scale 1/256, zero point -128.

Each output's scale and zero point are *calibrated* as the converter does:
the float network (numpy, float64) is run on a batch of random inputs spread
over the input's quantized range, and each tensor's observed range is mapped
onto [-128, 127]. Because calibration only uses float values, the int8 and
float32 models generated from the same seed are twins: they draw the same
random numbers and share the same float weights (the int8 model stores them
quantized).

Stress knobs: ``in_scale`` / ``in_zero_point`` fix the input quantization,
``out_scale`` / ``out_zero_point`` fix the output quantization (a fixed zero
point alone gets a scale fitted to it, and vice versa), and ``weight_gain``
multiplies the float weights (making weight scales tiny or huge).

Limits of TFLite Micro to keep in mind with the stress knobs:

* AVERAGE_POOL_2D / MAX_POOL_2D int8 must keep the input's scale and zero
  point exactly; a model with ``out_scale``/``out_zero_point`` overrides on a
  pool fails to prepare ("TFLM failed to allocate tensors").
* int8 ADD needs ``2 * max(input scales) / output scale < 2**20``; beyond that
  TFLM hits a TFLITE_CHECK and *aborts the whole process* (no exception).

The building block is :class:`NetBuilder`, which tracks calibration data for
every tensor and can assemble arbitrary chains/DAGs; the single-op functions
and :func:`random_network` are thin wrappers around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .tflite_writer import ModelBuilder

__all__ = [
    "ACTIVATIONS",
    "Act",
    "NetBuilder",
    "conv2d",
    "depthwise_conv2d",
    "fully_connected",
    "average_pool2d",
    "max_pool2d",
    "add",
    "reshape",
    "softmax",
    "random_network",
    "conv_output_size",
    "choose_qparams",
    "quantize",
    "dequantize",
]

#: Number of random samples used to calibrate each tensor's range.
CALIBRATION_SAMPLES = 8

_QMIN, _QMAX = -128, 127
#: Fused activations the generators support.
ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


# ---------------------------------------------------------------------------
# Quantization helpers
# ---------------------------------------------------------------------------


def _f32(x: float) -> float:
    """Round a Python float to the nearest float32 (as stored in the model)."""
    return float(np.float32(x))


def quantize(x: np.ndarray, scale, zero_point=0, qmin: int = _QMIN, qmax: int = _QMAX) -> np.ndarray:
    """Affine-quantize ``x`` (round half away from zero, then clamp)."""
    q = np.round(np.asarray(x, np.float64) / scale) + zero_point
    return np.clip(q, qmin, qmax).astype(np.int64)


def dequantize(q: np.ndarray, scale, zero_point=0) -> np.ndarray:
    """Inverse of :func:`quantize` (float64 result)."""
    return (np.asarray(q, np.float64) - zero_point) * scale


def choose_qparams(
    lo: float, hi: float, scale: float | None = None, zero_point: int | None = None
) -> tuple[float, int]:
    """Choose int8 asymmetric (scale, zero_point) covering ``[lo, hi]``.

    The range is widened to contain 0, as TensorFlow does. If ``scale`` or
    ``zero_point`` is given it is kept and the other one is fitted to it.
    The returned scale is already rounded to float32.
    """
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-8:
        hi = lo + 1e-3  # degenerate (e.g. all-zero) range
    if scale is not None and zero_point is not None:
        return _f32(scale), int(zero_point)
    if zero_point is not None:
        zp = int(zero_point)
        candidates = []
        if _QMAX - zp > 0:
            candidates.append(hi / (_QMAX - zp))
        if _QMIN - zp < 0:
            candidates.append(lo / (_QMIN - zp))
        fitted = max(candidates) if candidates else 1.0
        return _f32(max(fitted, 1e-8)), zp
    if scale is None:
        scale = (hi - lo) / (_QMAX - _QMIN)
    scale = _f32(scale)
    zp = int(np.clip(round(_QMIN - lo / scale), _QMIN, _QMAX))
    return scale, zp


def _symmetric_scales(w: np.ndarray, axis: int | None) -> np.ndarray:
    """Per-axis (or per-tensor if ``axis`` is None) symmetric int8 scales."""
    if axis is None:
        amax = np.array([np.max(np.abs(w))])
    else:
        other = tuple(a for a in range(w.ndim) if a != axis)
        amax = np.max(np.abs(w), axis=other)
    amax = np.where(amax > 0, amax, 1e-6)
    return (amax / 127.0).astype(np.float32).astype(np.float64)


def _broadcast_scale(scales: np.ndarray, ndim: int, axis: int | None) -> np.ndarray:
    if axis is None:
        return scales.reshape((1,) * ndim)
    shape = [1] * ndim
    shape[axis] = -1
    return scales.reshape(shape)


# ---------------------------------------------------------------------------
# Float reference ops (NHWC, float64, used for calibration)
# ---------------------------------------------------------------------------


def conv_output_size(size: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    """Output length of a conv/pool window along one axis (TFLite rules)."""
    eff = (kernel - 1) * dilation + 1
    if padding == "SAME":
        return -(-size // stride)
    return (size - eff) // stride + 1 if size >= eff else 0


def _pad_amounts(size: int, kernel: int, stride: int, dilation: int, padding: str) -> tuple[int, int]:
    """(before, after) padding along one axis (extra padding goes after)."""
    if padding != "SAME":
        return 0, 0
    out = conv_output_size(size, kernel, stride, dilation, padding)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _windows(x, kernel, stride, dilation, padding, pad_value=0.0):
    """Yield ``(kh, kw, patch)`` where patch is the strided input view (N,OH,OW,C)."""
    _, h, w, _ = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh = conv_output_size(h, kh, sh, dh, padding)
    ow = conv_output_size(w, kw, sw, dw, padding)
    ph, pw = _pad_amounts(h, kh, sh, dh, padding), _pad_amounts(w, kw, sw, dw, padding)
    xp = np.pad(x, ((0, 0), ph, pw, (0, 0)), constant_values=pad_value)
    for i in range(kh):
        for j in range(kw):
            yield i, j, xp[:, i * dh : i * dh + (oh - 1) * sh + 1 : sh, j * dw : j * dw + (ow - 1) * sw + 1 : sw, :]


def _apply_activation(y: np.ndarray, activation: str) -> np.ndarray:
    if activation == "RELU":
        return np.maximum(y, 0.0)
    if activation == "RELU6":
        return np.clip(y, 0.0, 6.0)
    if activation == "RELU_N1_TO_1":
        return np.clip(y, -1.0, 1.0)
    if activation == "NONE":
        return y
    raise ValueError(f"unsupported fused activation {activation!r}")


def ref_conv2d(x, w, b, stride, padding, dilation, activation="NONE"):
    """Float CONV_2D: x [N,H,W,I], w [O,kh,kw,I], b [O]."""
    acc = None
    for i, j, patch in _windows(x, w.shape[1:3], stride, dilation, padding):
        term = np.einsum("nhwc,oc->nhwo", patch, w[:, i, j, :])
        acc = term if acc is None else acc + term
    return _apply_activation(acc + b, activation)


def ref_depthwise_conv2d(x, w, b, depth_multiplier, stride, padding, dilation, activation="NONE"):
    """Float DEPTHWISE_CONV_2D: x [N,H,W,C], w [1,kh,kw,C*M], b [C*M]."""
    acc = None
    for i, j, patch in _windows(x, w.shape[1:3], stride, dilation, padding):
        term = np.repeat(patch, depth_multiplier, axis=-1) * w[0, i, j, :]
        acc = term if acc is None else acc + term
    return _apply_activation(acc + b, activation)


def ref_pool2d(x, filter, stride, padding, kind, activation="NONE"):
    """Float AVERAGE_POOL_2D / MAX_POOL_2D; padded cells are ignored."""
    if kind == "max":
        out = None
        for _, _, patch in _windows(x, filter, stride, (1, 1), padding, pad_value=-np.inf):
            out = patch if out is None else np.maximum(out, patch)
    else:
        total = count = None
        ones = np.ones_like(x[..., :1])
        for (_, _, patch), (_, _, cpatch) in zip(
            _windows(x, filter, stride, (1, 1), padding),
            _windows(ones, filter, stride, (1, 1), padding),
        ):
            total = patch if total is None else total + patch
            count = cpatch if count is None else count + cpatch
        out = total / count
    return _apply_activation(out, activation)


# ---------------------------------------------------------------------------
# Network builder
# ---------------------------------------------------------------------------


@dataclass
class Act:
    """An activation tensor of the network being built.

    Attributes:
        index: tensor index in the ModelBuilder.
        shape: model shape (batch 1 for our inputs).
        calib: float-model calibration values, shape ``(k, *shape)`` with
            ``k`` samples (``CALIBRATION_SAMPLES`` plus any extra given to
            :meth:`NetBuilder.input`).
        scale, zero_point: int8 quantization (``None`` for float32 models).
    """

    index: int
    shape: tuple[int, ...]
    calib: np.ndarray
    scale: float | None = None
    zero_point: int | None = None


class NetBuilder:
    """Build a quantization-calibrated int8 (or float32) TFLite network.

    Each method adds one operator, calibrates its output on the float
    calibration batch and returns the output :class:`Act`.
    """

    def __init__(self, rng: np.random.Generator, dtype: str = "int8", description: str = "tinycc test model"):
        if dtype not in ("int8", "float32"):
            raise ValueError(f"dtype must be 'int8' or 'float32', not {dtype!r}")
        self.rng = rng
        self.dtype = dtype
        self.mb = ModelBuilder(description)
        self._names: dict[str, int] = {}

    @property
    def quantized(self) -> bool:
        return self.dtype == "int8"

    # -- helpers -------------------------------------------------------------

    def _name(self, base: str) -> str:
        n = self._names.get(base, 0)
        self._names[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def _activation_tensor(self, shape, calib, name, scale=None, zero_point=None, same_as: Act | None = None) -> Act:
        """Add a non-constant tensor, calibrating int8 params from ``calib``."""
        shape = tuple(int(d) for d in shape)
        if not self.quantized:
            idx = self.mb.tensor(shape, "float32", name=self._name(name))
            return Act(idx, shape, calib)
        if same_as is not None and scale is None and zero_point is None:
            s, zp = same_as.scale, same_as.zero_point
        else:
            s, zp = choose_qparams(calib.min(), calib.max(), scale, zero_point)
        idx = self.mb.tensor(shape, "int8", scale=s, zero_point=zp, name=self._name(name))
        return Act(idx, shape, calib, s, zp)

    def _weights(self, w, axis, name, quantized_dimension):
        """Add a weight tensor; return (index, per-channel scales or None).

        For int8 models ``w`` is quantized symmetrically along ``axis``
        (per tensor if ``axis`` is None) to [-127, 127].
        """
        if not self.quantized:
            idx = self.mb.tensor(w.shape, "float32", data=w, name=self._name(name))
            return idx, None
        scales = _symmetric_scales(w, axis)
        bscale = _broadcast_scale(scales, w.ndim, axis)
        q = quantize(w, bscale, 0, -127, 127)
        idx = self.mb.tensor(
            w.shape, "int8", data=q, scale=scales, zero_point=[0] * len(scales),
            quantized_dimension=quantized_dimension, name=self._name(name),
        )
        return idx, scales

    def _bias(self, b, in_scale, w_scales, name):
        """Add a bias tensor (int32 with scale in_scale*w_scale for int8); return its index."""
        if not self.quantized:
            return self.mb.tensor(b.shape, "float32", data=b, name=self._name(name))
        # One bias scale per weight scale (a single one for per-tensor weights).
        scales = np.array([_f32(in_scale * s) for s in w_scales])
        q = np.clip(np.round(b / scales), -(2**31) + 1, 2**31 - 1).astype(np.int64)
        return self.mb.tensor(
            b.shape, "int32", data=q, scale=scales, zero_point=[0] * len(scales), name=self._name(name)
        )

    def _random_bias(self, pre_bias: np.ndarray, n: int) -> np.ndarray:
        """Realistic random bias: normal with half the pre-bias output spread."""
        spread = float(np.std(pre_bias)) or 1.0
        return self.rng.normal(0.0, 0.5 * spread, n)

    # -- graph inputs ----------------------------------------------------------

    def input(
        self,
        shape: Sequence[int],
        *,
        scale: float | None = None,
        zero_point: int | None = None,
        calibration: np.ndarray | None = None,
        name: str = "input",
    ) -> Act:
        """Add a graph input.

        int8 inputs get a random realistic quantization (scale log-uniform in
        [0.005, 0.1], zero point uniform in [-128, 127]) unless given. The
        calibration batch is uniform over the quantized range; an optional
        ``calibration`` array (float, ``(k, *shape)``) is appended to it.
        """
        shape = tuple(int(d) for d in shape)
        if scale is None:
            scale = math.exp(self.rng.uniform(math.log(0.005), math.log(0.1)))
        if zero_point is None:
            zero_point = int(self.rng.integers(_QMIN, _QMAX + 1))
        scale = _f32(scale)
        q = self.rng.integers(_QMIN, _QMAX + 1, size=(CALIBRATION_SAMPLES,) + shape)
        calib = dequantize(q, scale, zero_point)
        if calibration is not None:
            calib = np.concatenate([calib, np.asarray(calibration, np.float64).reshape((-1,) + shape)])
        if self.quantized:
            idx = self.mb.tensor(shape, "int8", scale=scale, zero_point=zero_point, name=self._name(name))
            return Act(idx, shape, calib, scale, int(zero_point))
        idx = self.mb.tensor(shape, "float32", name=self._name(name))
        return Act(idx, shape, calib)

    # -- operators -------------------------------------------------------------

    def conv2d(
        self,
        x: Act,
        out_channels: int,
        kernel=(3, 3),
        stride=(1, 1),
        padding: str = "SAME",
        dilation=(1, 1),
        activation: str = "NONE",
        *,
        per_channel: bool = True,
        weight_gain: float = 1.0,
        out_scale: float | None = None,
        out_zero_point: int | None = None,
    ) -> Act:
        """CONV_2D with random He-initialised weights and a random bias."""
        n, h, w, c = x.shape
        kh, kw = kernel
        oh = conv_output_size(h, kh, stride[0], dilation[0], padding)
        ow = conv_output_size(w, kw, stride[1], dilation[1], padding)
        if oh <= 0 or ow <= 0:
            raise ValueError(f"conv kernel {kernel} too large for input {x.shape}")
        wf = self.rng.normal(0.0, math.sqrt(2.0 / (kh * kw * c)), (out_channels, kh, kw, c)) * weight_gain
        w_idx, w_scales = self._weights(wf, 0 if per_channel else None, "conv/weights", 0)
        xs = x.calib.reshape((-1, h, w, c))
        pre = ref_conv2d(xs, wf, 0.0, stride, padding, dilation)
        bf = self._random_bias(pre, out_channels)
        b_idx = self._bias(bf, x.scale, w_scales, "conv/bias")
        y = _apply_activation(pre + bf, activation)
        shape = (n, oh, ow, out_channels)
        out = self._activation_tensor(shape, y.reshape((-1,) + shape), "conv", out_scale, out_zero_point)
        self.mb.op(
            "CONV_2D", [x.index, w_idx, b_idx], [out.index],
            padding=padding, stride_h=stride[0], stride_w=stride[1],
            dilation_h=dilation[0], dilation_w=dilation[1], fused_activation=activation,
        )
        return out

    def depthwise_conv2d(
        self,
        x: Act,
        depth_multiplier: int = 1,
        kernel=(3, 3),
        stride=(1, 1),
        padding: str = "SAME",
        dilation=(1, 1),
        activation: str = "NONE",
        *,
        per_channel: bool = True,
        weight_gain: float = 1.0,
        out_scale: float | None = None,
        out_zero_point: int | None = None,
    ) -> Act:
        """DEPTHWISE_CONV_2D; filter ``[1, kh, kw, C*M]`` quantized along axis 3."""
        n, h, w, c = x.shape
        kh, kw = kernel
        oc = c * depth_multiplier
        oh = conv_output_size(h, kh, stride[0], dilation[0], padding)
        ow = conv_output_size(w, kw, stride[1], dilation[1], padding)
        if oh <= 0 or ow <= 0:
            raise ValueError(f"depthwise kernel {kernel} too large for input {x.shape}")
        wf = self.rng.normal(0.0, math.sqrt(2.0 / (kh * kw)), (1, kh, kw, oc)) * weight_gain
        w_idx, w_scales = self._weights(wf, 3 if per_channel else None, "depthwise/weights", 3)
        xs = x.calib.reshape((-1, h, w, c))
        pre = ref_depthwise_conv2d(xs, wf, 0.0, depth_multiplier, stride, padding, dilation)
        bf = self._random_bias(pre, oc)
        b_idx = self._bias(bf, x.scale, w_scales, "depthwise/bias")
        y = _apply_activation(pre + bf, activation)
        shape = (n, oh, ow, oc)
        out = self._activation_tensor(shape, y.reshape((-1,) + shape), "depthwise", out_scale, out_zero_point)
        self.mb.op(
            "DEPTHWISE_CONV_2D", [x.index, w_idx, b_idx], [out.index],
            padding=padding, stride_h=stride[0], stride_w=stride[1], depth_multiplier=depth_multiplier,
            dilation_h=dilation[0], dilation_w=dilation[1], fused_activation=activation,
        )
        return out

    def fully_connected(
        self,
        x: Act,
        units: int,
        activation: str = "NONE",
        *,
        keep_num_dims: bool = False,
        in_features: int | None = None,
        weight_gain: float = 1.0,
        out_scale: float | None = None,
        out_zero_point: int | None = None,
    ) -> Act:
        """FULLY_CONNECTED with weights ``[units, in_features]`` (per-tensor int8).

        ``in_features`` defaults to the input's last dimension; the input is
        viewed as ``[-1, in_features]``. Without ``keep_num_dims`` the output
        shape is ``[rows, units]``, otherwise ``input.shape[:-1] + [units]``.
        """
        size = int(np.prod(x.shape))
        in_features = int(in_features or x.shape[-1])
        if size % in_features:
            raise ValueError(f"input {x.shape} is not a multiple of in_features={in_features}")
        if keep_num_dims and in_features != x.shape[-1]:
            raise ValueError("keep_num_dims requires in_features == input.shape[-1]")
        wf = self.rng.normal(0.0, math.sqrt(2.0 / in_features), (units, in_features)) * weight_gain
        w_idx, w_scales = self._weights(wf, None, "fc/weights", 0)
        rows = size // in_features
        xs = x.calib.reshape((-1, rows, in_features))
        pre = np.einsum("nri,ui->nru", xs, wf)
        bf = self._random_bias(pre, units)
        b_idx = self._bias(bf, x.scale, w_scales, "fc/bias")
        y = _apply_activation(pre + bf, activation)
        shape = tuple(x.shape[:-1]) + (units,) if keep_num_dims else (rows, units)
        out = self._activation_tensor(shape, y.reshape((-1,) + shape), "fc", out_scale, out_zero_point)
        self.mb.op(
            "FULLY_CONNECTED", [x.index, w_idx, b_idx], [out.index],
            fused_activation=activation, keep_num_dims=keep_num_dims,
        )
        return out

    def pool2d(
        self,
        x: Act,
        kind: str = "avg",
        filter=(2, 2),
        stride=(2, 2),
        padding: str = "VALID",
        activation: str = "NONE",
        *,
        out_scale: float | None = None,
        out_zero_point: int | None = None,
    ) -> Act:
        """AVERAGE_POOL_2D (``kind="avg"``) or MAX_POOL_2D (``kind="max"``).

        The output keeps the input's quantization unless overridden (the
        converter treats pooling as a same-scale op).
        """
        n, h, w, c = x.shape
        oh = conv_output_size(h, filter[0], stride[0], 1, padding)
        ow = conv_output_size(w, filter[1], stride[1], 1, padding)
        if oh <= 0 or ow <= 0:
            raise ValueError(f"pool filter {filter} too large for input {x.shape}")
        y = ref_pool2d(x.calib.reshape((-1, h, w, c)), filter, stride, padding, kind, activation)
        shape = (n, oh, ow, c)
        out = self._activation_tensor(
            shape, y.reshape((-1,) + shape), f"{kind}_pool", out_scale, out_zero_point, same_as=x
        )
        self.mb.op(
            "AVERAGE_POOL_2D" if kind == "avg" else "MAX_POOL_2D", [x.index], [out.index],
            padding=padding, stride_h=stride[0], stride_w=stride[1],
            filter_h=filter[0], filter_w=filter[1], fused_activation=activation,
        )
        return out

    def add(
        self,
        a: Act,
        b: Act,
        activation: str = "NONE",
        *,
        out_scale: float | None = None,
        out_zero_point: int | None = None,
    ) -> Act:
        """Element-wise ADD of two tensors of the same shape."""
        if a.shape != b.shape:
            raise ValueError(f"ADD shapes differ: {a.shape} vs {b.shape}")
        y = _apply_activation(a.calib + b.calib, activation)
        out = self._activation_tensor(a.shape, y, "add", out_scale, out_zero_point)
        self.mb.op("ADD", [a.index, b.index], [out.index], fused_activation=activation)
        return out

    def reshape(
        self, x: Act, new_shape: Sequence[int], *, shape_tensor: bool = True, shape_option: bool = True
    ) -> Act:
        """RESHAPE to ``new_shape`` (may contain one -1).

        As the converter does, by default both the shape input tensor (int32)
        and the ``new_shape`` option are written; either can be turned off.
        """
        new_shape = [int(d) for d in new_shape]
        size = int(np.prod(x.shape))
        resolved = list(new_shape)
        if -1 in resolved:
            known = int(np.prod([d for d in resolved if d != -1]))
            resolved[resolved.index(-1)] = size // known
        if int(np.prod(resolved)) != size:
            raise ValueError(f"cannot reshape {x.shape} to {new_shape}")
        shape = tuple(resolved)
        out = self._activation_tensor(shape, x.calib.reshape((-1,) + shape), "reshape", same_as=x)
        inputs = [x.index]
        if shape_tensor:
            inputs.append(
                self.mb.tensor([len(new_shape)], "int32", data=np.array(new_shape), name=self._name("reshape/shape"))
            )
        options = {"new_shape": new_shape} if shape_option else {}
        self.mb.op("RESHAPE", inputs, [out.index], **options)
        return out

    def softmax(self, x: Act, beta: float = 1.0) -> Act:
        """SOFTMAX over the last axis; int8 output is fixed at scale 1/256, zp -128."""
        z = x.calib * beta
        z = np.exp(z - z.max(axis=-1, keepdims=True))
        y = z / z.sum(axis=-1, keepdims=True)
        out = self._activation_tensor(x.shape, y, "softmax", 1.0 / 256.0, -128)
        self.mb.op("SOFTMAX", [x.index], [out.index], beta=beta)
        return out

    # -- output ----------------------------------------------------------------

    def build(self, inputs: Sequence[Act], outputs: Sequence[Act]) -> bytes:
        """Serialise the network with the given graph inputs and outputs."""
        return self.mb.build([a.index for a in inputs], [a.index for a in outputs])


# ---------------------------------------------------------------------------
# Single-op model generators
# ---------------------------------------------------------------------------


def _pair(v) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    a, b = v
    return int(a), int(b)


def conv2d(
    rng: np.random.Generator,
    in_shape=(1, 8, 8, 3),
    out_channels: int = 4,
    kernel=(3, 3),
    stride=(1, 1),
    padding: str = "SAME",
    dilation=(1, 1),
    activation: str = "NONE",
    dtype: str = "int8",
    per_channel: bool = True,
    *,
    in_scale: float | None = None,
    in_zero_point: int | None = None,
    out_scale: float | None = None,
    out_zero_point: int | None = None,
    weight_gain: float = 1.0,
) -> bytes:
    """Single CONV_2D model (input -> conv -> output)."""
    nb = NetBuilder(rng, dtype)
    x = nb.input(in_shape, scale=in_scale, zero_point=in_zero_point)
    y = nb.conv2d(
        x, out_channels, _pair(kernel), _pair(stride), padding, _pair(dilation), activation,
        per_channel=per_channel, weight_gain=weight_gain, out_scale=out_scale, out_zero_point=out_zero_point,
    )
    return nb.build([x], [y])


def depthwise_conv2d(
    rng: np.random.Generator,
    in_shape=(1, 8, 8, 3),
    depth_multiplier: int = 1,
    kernel=(3, 3),
    stride=(1, 1),
    padding: str = "SAME",
    dilation=(1, 1),
    activation: str = "NONE",
    dtype: str = "int8",
    per_channel: bool = True,
    *,
    in_scale: float | None = None,
    in_zero_point: int | None = None,
    out_scale: float | None = None,
    out_zero_point: int | None = None,
    weight_gain: float = 1.0,
) -> bytes:
    """Single DEPTHWISE_CONV_2D model."""
    nb = NetBuilder(rng, dtype)
    x = nb.input(in_shape, scale=in_scale, zero_point=in_zero_point)
    y = nb.depthwise_conv2d(
        x, depth_multiplier, _pair(kernel), _pair(stride), padding, _pair(dilation), activation,
        per_channel=per_channel, weight_gain=weight_gain, out_scale=out_scale, out_zero_point=out_zero_point,
    )
    return nb.build([x], [y])


def fully_connected(
    rng: np.random.Generator,
    in_shape=(1, 16),
    units: int = 8,
    activation: str = "NONE",
    dtype: str = "int8",
    keep_num_dims: bool = False,
    *,
    in_features: int | None = None,
    in_scale: float | None = None,
    in_zero_point: int | None = None,
    out_scale: float | None = None,
    out_zero_point: int | None = None,
    weight_gain: float = 1.0,
) -> bytes:
    """Single FULLY_CONNECTED model (see :meth:`NetBuilder.fully_connected`)."""
    nb = NetBuilder(rng, dtype)
    x = nb.input(in_shape, scale=in_scale, zero_point=in_zero_point)
    y = nb.fully_connected(
        x, units, activation, keep_num_dims=keep_num_dims, in_features=in_features,
        weight_gain=weight_gain, out_scale=out_scale, out_zero_point=out_zero_point,
    )
    return nb.build([x], [y])


def _pool(rng, kind, in_shape, filter, stride, padding, activation, dtype, in_scale, in_zero_point, out_scale, out_zero_point):
    nb = NetBuilder(rng, dtype)
    x = nb.input(in_shape, scale=in_scale, zero_point=in_zero_point)
    y = nb.pool2d(
        x, kind, _pair(filter), _pair(stride), padding, activation, out_scale=out_scale, out_zero_point=out_zero_point
    )
    return nb.build([x], [y])


def average_pool2d(
    rng: np.random.Generator,
    in_shape=(1, 8, 8, 3),
    filter=(2, 2),
    stride=(2, 2),
    padding: str = "VALID",
    activation: str = "NONE",
    dtype: str = "int8",
    *,
    in_scale: float | None = None,
    in_zero_point: int | None = None,
    out_scale: float | None = None,
    out_zero_point: int | None = None,
) -> bytes:
    """Single AVERAGE_POOL_2D model (output quantization = input's by default)."""
    return _pool(rng, "avg", in_shape, filter, stride, padding, activation, dtype,
                 in_scale, in_zero_point, out_scale, out_zero_point)


def max_pool2d(
    rng: np.random.Generator,
    in_shape=(1, 8, 8, 3),
    filter=(2, 2),
    stride=(2, 2),
    padding: str = "VALID",
    activation: str = "NONE",
    dtype: str = "int8",
    *,
    in_scale: float | None = None,
    in_zero_point: int | None = None,
    out_scale: float | None = None,
    out_zero_point: int | None = None,
) -> bytes:
    """Single MAX_POOL_2D model (output quantization = input's by default)."""
    return _pool(rng, "max", in_shape, filter, stride, padding, activation, dtype,
                 in_scale, in_zero_point, out_scale, out_zero_point)


def add(
    rng: np.random.Generator,
    shape=(1, 4, 4, 3),
    activation: str = "NONE",
    dtype: str = "int8",
    *,
    in_scale=None,
    in_zero_point=None,
    out_scale: float | None = None,
    out_zero_point: int | None = None,
) -> bytes:
    """ADD of two graph inputs of the same shape, each with its own quantization.

    ``in_scale`` / ``in_zero_point`` may be scalars (both inputs) or pairs.
    """
    scales = in_scale if isinstance(in_scale, (tuple, list)) else (in_scale, in_scale)
    zps = in_zero_point if isinstance(in_zero_point, (tuple, list)) else (in_zero_point, in_zero_point)
    nb = NetBuilder(rng, dtype)
    a = nb.input(shape, scale=scales[0], zero_point=zps[0], name="input_a")
    b = nb.input(shape, scale=scales[1], zero_point=zps[1], name="input_b")
    y = nb.add(a, b, activation, out_scale=out_scale, out_zero_point=out_zero_point)
    return nb.build([a, b], [y])


def reshape(
    rng: np.random.Generator,
    in_shape=(1, 2, 3, 4),
    new_shape=(1, 24),
    dtype: str = "int8",
    *,
    shape_tensor: bool = True,
    shape_option: bool = True,
    in_scale: float | None = None,
    in_zero_point: int | None = None,
) -> bytes:
    """Single RESHAPE model (see :meth:`NetBuilder.reshape` for the two forms)."""
    nb = NetBuilder(rng, dtype)
    x = nb.input(in_shape, scale=in_scale, zero_point=in_zero_point)
    y = nb.reshape(x, new_shape, shape_tensor=shape_tensor, shape_option=shape_option)
    return nb.build([x], [y])


def softmax(
    rng: np.random.Generator,
    shape=(1, 10),
    beta: float = 1.0,
    dtype: str = "int8",
    *,
    in_scale: float | None = None,
    in_zero_point: int | None = None,
) -> bytes:
    """Single SOFTMAX model.

    Without an explicit ``in_scale``, int8 inputs get a logit-like scale
    (log-uniform in [0.01, 0.05], i.e. logit ranges of about 2.5 to 13) so
    the output distribution is not trivially one-hot.
    """
    if in_scale is None:
        in_scale = math.exp(rng.uniform(math.log(0.01), math.log(0.05)))
    nb = NetBuilder(rng, dtype)
    x = nb.input(shape, scale=in_scale, zero_point=in_zero_point)
    y = nb.softmax(x, beta)
    return nb.build([x], [y])


# ---------------------------------------------------------------------------
# Random composite networks
# ---------------------------------------------------------------------------


def _random_activation(rng, none_weight: float = 0.4) -> str:
    if rng.random() < none_weight:
        return "NONE"
    return str(rng.choice(["RELU", "RELU", "RELU6", "RELU_N1_TO_1"]))


def _random_window(rng, size_hw, max_kernel=5, allow_dilation=True):
    """Pick (kernel, stride, padding, dilation) valid for a ``size_hw`` map."""
    h, w = size_hw
    kernel = (int(rng.integers(1, min(max_kernel, h) + 1)), int(rng.integers(1, min(max_kernel, w) + 1)))
    stride = (int(rng.integers(1, 3)) if h >= 4 else 1, int(rng.integers(1, 3)) if w >= 4 else 1)
    dilation = (1, 1)
    if allow_dilation and stride == (1, 1) and rng.random() < 0.25:
        dilation = (2 if (kernel[0] - 1) * 2 + 1 <= h else 1, 2 if (kernel[1] - 1) * 2 + 1 <= w else 1)
    padding = "SAME" if rng.random() < 0.6 else "VALID"
    return kernel, stride, padding, dilation


def random_network(rng: np.random.Generator, dtype: str = "int8", *, max_blocks: int = 4) -> bytes:
    """A random small CNN chain/DAG ending in FULLY_CONNECTED + SOFTMAX.

    Input 1xHxWxC with H, W in [5, 24] and C in [1, 8]. A stem CONV_2D is
    followed by 1..``max_blocks`` random blocks:

    * ``conv``: CONV_2D with random kernel/stride/padding/dilation/activation;
    * ``dwsep``: DEPTHWISE_CONV_2D (+ optional 1x1 CONV_2D);
    * ``residual``: x + conv(x) (SAME, stride 1), joined by ADD;
    * ``branches``: conv1x1(x) + depthwise3x3(x), joined by ADD;
    * ``pool``: AVERAGE_POOL_2D or MAX_POOL_2D.

    Then an optional global average pool, RESHAPE to [1, N], one or two
    FULLY_CONNECTED layers and a final SOFTMAX.
    """
    nb = NetBuilder(rng, dtype, description="tinycc random network")
    h, w, c = int(rng.integers(5, 25)), int(rng.integers(5, 25)), int(rng.integers(1, 9))
    x0 = nb.input((1, h, w, c))
    kernel, stride, padding, dilation = _random_window(rng, (h, w))
    x = nb.conv2d(x0, int(rng.integers(2, 13)), kernel, stride, padding, dilation, _random_activation(rng))

    for _ in range(int(rng.integers(1, max_blocks + 1))):
        _, h, w, c = x.shape
        kind = str(rng.choice(["conv", "dwsep", "residual", "branches", "pool"]))
        if kind == "conv":
            kernel, stride, padding, dilation = _random_window(rng, (h, w))
            x = nb.conv2d(x, int(rng.integers(2, 13)), kernel, stride, padding, dilation, _random_activation(rng))
        elif kind == "dwsep":
            kernel, stride, padding, dilation = _random_window(rng, (h, w), max_kernel=3)
            mult = int(rng.choice([1, 1, 2]))
            x = nb.depthwise_conv2d(x, mult, kernel, stride, padding, dilation, _random_activation(rng))
            if rng.random() < 0.7:
                x = nb.conv2d(x, int(rng.integers(2, 13)), (1, 1), (1, 1), "SAME", (1, 1), _random_activation(rng))
        elif kind == "residual":
            k = (int(rng.choice([1, 3])), int(rng.choice([1, 3])))
            branch = nb.conv2d(x, c, k, (1, 1), "SAME", (1, 1), _random_activation(rng))
            x = nb.add(x, branch, _random_activation(rng, none_weight=0.6))
        elif kind == "branches":
            a = nb.conv2d(x, c, (1, 1), (1, 1), "SAME", (1, 1), _random_activation(rng))
            b = nb.depthwise_conv2d(x, 1, (3, 3), (1, 1), "SAME", (1, 1), _random_activation(rng))
            x = nb.add(a, b, _random_activation(rng, none_weight=0.6))
        else:
            kernel, stride, padding, _ = _random_window(rng, (h, w), max_kernel=3, allow_dilation=False)
            pool_kind = "avg" if rng.random() < 0.6 else "max"
            x = nb.pool2d(x, pool_kind, kernel, stride, padding, _random_activation(rng, none_weight=0.8))

    _, h, w, c = x.shape
    if h * w * c > 256 or rng.random() < 0.3:
        x = nb.pool2d(x, "avg", (h, w), (1, 1), "VALID")
    flat = int(np.prod(x.shape))
    x = nb.reshape(x, [1, flat] if rng.random() < 0.5 else [1, -1])
    if rng.random() < 0.4:
        x = nb.fully_connected(x, int(rng.integers(4, 17)), _random_activation(rng))
    # Scale the classifier so the logits spread over a few units: softmax
    # outputs then stay informative instead of saturating to one-hot.
    rms = float(np.sqrt(np.mean(x.calib**2))) or 1.0
    logits = nb.fully_connected(x, int(rng.integers(2, 11)), weight_gain=1.5 / (math.sqrt(2.0) * rms))
    y = nb.softmax(logits)
    return nb.build([x0], [y])
