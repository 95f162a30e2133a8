"""Test models with compressible weights (tinycc/compress.py): clustered and INT4.

``CompressNetBuilder`` is ``models.NetBuilder`` with its weights made the way model optimization
makes them:
  * ``clusters=k``: every weight tensor's float values replaced by the nearest of k centres (1-D
    k-means over the tensor, as TF Model Optimization's ``cluster_weights`` does per tensor), then
    quantized as the converter does (per channel for convolutions): each output channel then takes
    at most k int8 values;
  * ``linear=True`` (with ``clusters``): centres started evenly spaced (see ``cluster``): channels
    then take one of several tables;
  * ``per_channel=True`` (with ``clusters``): k centres per output channel (TF Model Optimization's
    ``cluster_per_channel``): every channel has its own k int8 values (per-channel tables);
  * ``int4=True``: weights quantized symmetrically to 4 bits (scale max|w| / 7, values in [-8, 7])
    and written as INT4 tensors (``weight_dtype="int8"`` writes the same values as INT8: the model's
    int8 twin, which TFLite Micro runs where it refuses INT4).
"""
from __future__ import annotations

import numpy as np

from . import models as M


def cluster(w: np.ndarray, k: int, iterations: int = 8, linear: bool = False) -> np.ndarray:
    """``w`` with every value replaced by the nearest of ``k`` centres (1-D k-means started from
    evenly spaced quantiles, or with ``linear`` evenly spaced values from the minimum to the
    maximum: TF Model Optimization's CentroidInitialization.LINEAR, whose outer centres keep few
    weights, so that per-channel quantization gives channels without them other int8 values)."""
    flat = np.asarray(w, np.float64).ravel()
    centres = np.linspace(flat.min(), flat.max(), k) if linear else np.quantile(flat, (np.arange(k) + 0.5) / k)
    for _ in range(iterations):
        nearest = np.abs(flat[:, None] - centres[None, :]).argmin(axis=1)
        for j in range(k):
            if np.any(nearest == j):
                centres[j] = flat[nearest == j].mean()
    nearest = np.abs(flat[:, None] - centres[None, :]).argmin(axis=1)
    return centres[nearest].reshape(w.shape)


class CompressNetBuilder(M.NetBuilder):
    """An int8 NetBuilder whose weights are clustered (``clusters``) or 4-bit (``int4``)."""

    def __init__(self, rng: np.random.Generator, clusters: int | None = None, int4: bool = False,
                 weight_dtype: str = "int4", per_channel: bool = False, linear: bool = False):
        super().__init__(rng, "int8", "tinycc compression test model")
        self.clusters, self.int4, self.weight_dtype = clusters, int4, weight_dtype
        self.per_channel, self.linear = per_channel, linear

    def _weights(self, w, axis, name, quantized_dimension):
        if self.clusters and self.per_channel and axis is not None:    # each output channel its centres
            w = np.stack([cluster(c, self.clusters, linear=self.linear) for c in np.moveaxis(w, axis, 0)], axis=axis)
        elif self.clusters:
            w = cluster(w, self.clusters, linear=self.linear)
        if not self.int4:
            return super()._weights(w, axis, name, quantized_dimension)
        scales = M._symmetric_scales(w, axis) * 127.0 / 7.0
        q = np.clip(np.round(w / M._broadcast_scale(scales, w.ndim, axis)), -8, 7).astype(np.int64)
        idx = self.mb.tensor(w.shape, self.weight_dtype, data=q, scale=scales, zero_point=[0] * len(scales),
                             quantized_dimension=quantized_dimension, name=self._name(name))
        return idx, scales


def single(rng: np.random.Generator, kind: str, in_shape, size: int, **weights) -> bytes:
    """One CONV_2D ("conv": ``size`` output channels, 3x3), DEPTHWISE_CONV_2D ("dw": 3x3) or
    FULLY_CONNECTED ("fc": ``size`` units) with ``CompressNetBuilder(**weights)`` weights."""
    nb = CompressNetBuilder(rng, **weights)
    x = nb.input(in_shape)
    if kind == "conv":
        y = nb.conv2d(x, size, (3, 3), (1, 1), "SAME", activation="RELU")
    elif kind == "dw":
        y = nb.depthwise_conv2d(x, 1, (3, 3), (2, 2), "SAME", activation="RELU6")
    else:
        y = nb.fully_connected(x, size)
    return nb.build([x], [y])


def ds_cnn(rng: np.random.Generator, **weights) -> bytes:
    """A small DS-CNN-like keyword spotter (MLPerf's 64 channels: conv 10x4 stride 2, two
    depthwise-separable blocks,
    average pool, FC, softmax) with ``CompressNetBuilder(**weights)`` weights."""
    nb = CompressNetBuilder(rng, **weights)
    x = nb.input((1, 25, 10, 1))
    h = nb.conv2d(x, 64, (10, 4), (2, 2), "SAME", activation="RELU")
    for _ in range(2):
        h = nb.depthwise_conv2d(h, 1, (3, 3), (1, 1), "SAME", activation="RELU")
        h = nb.conv2d(h, 64, (1, 1), (1, 1), "SAME", activation="RELU")
    h = nb.pool2d(h, "avg", (13, 5), (1, 1), "VALID")
    h = nb.reshape(h, (1, 64))
    y = nb.softmax(nb.fully_connected(h, 12))
    return nb.build([x], [y])


SMALL_BLOCKS = ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1))
LARGE_BLOCKS = SMALL_BLOCKS + ((256, 2), (256, 1), (256, 1), (256, 1))


# MobileNet v1 0.25 (MLPerf Tiny's visual wake words model, 96x96x3): conv to 8 channels, then
VWW_BLOCKS = ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)) + ((128, 1),) * 5 + ((256, 2), (256, 1))


def mobilenet(rng: np.random.Generator, size: int = 32, blocks=SMALL_BLOCKS, first: int = 16, classes: int = 10,
              **weights) -> bytes:
    """A MobileNet-like image classifier (tinycc/testing/models_sparse.py's by default: size x
    size x 3, conv 3x3 stride 2 to ``first`` channels, depthwise-separable ``blocks`` of (channels,
    stride), average pool, FC to ``classes``) with ``CompressNetBuilder(**weights)`` weights."""
    nb = CompressNetBuilder(rng, **weights)
    x = nb.input((1, size, size, 3))
    h = nb.conv2d(x, first, (3, 3), (2, 2), "SAME", activation="RELU6")
    for c, s in blocks:
        h = nb.depthwise_conv2d(h, 1, (3, 3), (s, s), "SAME", activation="RELU6")
        h = nb.conv2d(h, c, (1, 1), (1, 1), "SAME", activation="RELU6")
    h = nb.pool2d(h, "avg", (h.shape[1], h.shape[2]), (1, 1), "VALID")
    h = nb.reshape(h, (1, blocks[-1][0]))
    y = nb.softmax(nb.fully_connected(h, classes))
    return nb.build([x], [y])


def vww(rng: np.random.Generator, **weights) -> bytes:
    """A visual-wake-words-like model: MobileNet v1 0.25 on 96x96x3 (``VWW_BLOCKS``), 2 classes."""
    return mobilenet(rng, 96, VWW_BLOCKS, first=8, classes=2, **weights)
