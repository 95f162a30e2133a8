"""Test models with pruned (sparse) weights (tinycc/variants/sparse.py, arm_sparse.py).

``PrunedNetBuilder`` is ``models.NetBuilder`` with its float weights pruned the way TF Model
Optimization's ``prune_low_magnitude`` leaves them before conversion: ``sparsity=0.75`` sets the
75 % of each weight tensor's values with the smallest magnitude to zero; ``pattern="2:4"`` keeps the
2 largest of every 4 consecutive weights along the input depth (the structured 2:4 pattern). The
converter's quantization keeps zeros zero, so each int8 tensor has at least that share of zeros.
``sparsity=0`` gives the dense twin: the same architecture and random draws, nothing pruned.
"""
from __future__ import annotations

import numpy as np

from . import models as M


def prune(w: np.ndarray, sparsity: float = 0.0, pattern: str | None = None) -> np.ndarray:
    """``w`` with its smallest-magnitude values zeroed: a ``sparsity`` share of the tensor, or
    ``pattern`` "2:4" (2 of every 4 consecutive values along the last axis, padded groups kept)."""
    w = np.array(w, np.float64)
    if pattern == "2:4":
        flat = w.reshape(-1, w.shape[-1])
        for g in range(0, flat.shape[1] - 3, 4):
            grp = flat[:, g:g + 4]
            small = np.argsort(np.abs(grp), axis=1, kind="stable")[:, :2]
            np.put_along_axis(grp, small, 0.0, axis=1)
        return flat.reshape(w.shape)
    if sparsity > 0:
        k = int(round(sparsity * w.size))
        order = np.argsort(np.abs(w).ravel(), kind="stable")
        w.ravel()[order[:k]] = 0.0
    return w


class PrunedNetBuilder(M.NetBuilder):
    """An int8 NetBuilder whose weights are pruned (``sparsity`` or ``pattern``)."""

    def __init__(self, rng: np.random.Generator, sparsity: float = 0.0, pattern: str | None = None,
                 prune_depthwise: bool = True, dead_channel: bool = False):
        super().__init__(rng, "int8", "tinycc pruning test model")
        self.sparsity, self.pattern, self.prune_depthwise = sparsity, pattern, prune_depthwise
        self.dead_channel = dead_channel      # output channel 0 of convolutions pruned entirely

    def _weights(self, w, axis, name, quantized_dimension):
        if self.prune_depthwise or "depthwise" not in str(name):
            w = prune(w, self.sparsity, self.pattern)
            if self.dead_channel and "depthwise" not in str(name) and w.ndim == 4:
                w[0] = 0.0
        return super()._weights(w, axis, name, quantized_dimension)


def single(rng: np.random.Generator, kind: str, in_shape, size: int, **pruning) -> bytes:
    """One CONV_2D ("conv": ``size`` output channels, 3x3 SAME, RELU; "pw": 1x1) or
    FULLY_CONNECTED ("fc": ``size`` units) with ``PrunedNetBuilder(**pruning)`` weights."""
    nb = PrunedNetBuilder(rng, **pruning)
    x = nb.input(in_shape)
    if kind == "conv":
        y = nb.conv2d(x, size, (3, 3), (1, 1), "SAME", activation="RELU")
    elif kind == "pw":
        y = nb.conv2d(x, size, (1, 1), (1, 1), "SAME")
    else:
        y = nb.fully_connected(x, size)
    return nb.build([x], [y])


def pooled_conv(rng: np.random.Generator, **pruning) -> bytes:
    """A large input pooled 4x4 (the arena's peak), then a 3x3 SAME convolution 32 -> 64 channels
    with stride 2 and one 3x3 stride-1 (padded windows at the borders, pixels in blocks that
    cross rows) with ``PrunedNetBuilder`` weights."""
    nb = PrunedNetBuilder(rng, **pruning)
    x = nb.input((1, 36, 44, 32))
    h = nb.pool2d(x, "avg", (4, 4), (4, 4), "VALID")
    h = nb.conv2d(h, 64, (3, 3), (2, 2), "SAME", activation="RELU")
    y = nb.conv2d(h, 48, (3, 3), (1, 1), "SAME", activation="RELU6")
    return nb.build([x], [y])


def ds_cnn(rng: np.random.Generator, **pruning) -> bytes:
    """A DS-CNN-like keyword spotter (MLPerf's 64 channels: conv 10x4 stride 2, four
    depthwise-separable blocks, average pool, FC, softmax) with ``PrunedNetBuilder`` weights."""
    nb = PrunedNetBuilder(rng, **pruning)
    x = nb.input((1, 49, 10, 1))
    h = nb.conv2d(x, 64, (10, 4), (2, 2), "SAME", activation="RELU")
    for _ in range(4):
        h = nb.depthwise_conv2d(h, 1, (3, 3), (1, 1), "SAME", activation="RELU")
        h = nb.conv2d(h, 64, (1, 1), (1, 1), "SAME", activation="RELU")
    h = nb.pool2d(h, "avg", (25, 5), (1, 1), "VALID")
    h = nb.reshape(h, (1, 64))
    y = nb.softmax(nb.fully_connected(h, 12))
    return nb.build([x], [y])


def mobilenet(rng: np.random.Generator, **pruning) -> bytes:
    """A small MobileNet-like image classifier (32x32x3, conv 3x3 stride 2, depthwise-separable
    blocks widening 16 -> 128 channels with strides, average pool, FC) with ``PrunedNetBuilder``
    weights."""
    nb = PrunedNetBuilder(rng, **pruning)
    x = nb.input((1, 32, 32, 3))
    h = nb.conv2d(x, 16, (3, 3), (2, 2), "SAME", activation="RELU6")
    for c, s in ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1)):
        h = nb.depthwise_conv2d(h, 1, (3, 3), (s, s), "SAME", activation="RELU6")
        h = nb.conv2d(h, c, (1, 1), (1, 1), "SAME", activation="RELU6")
    h = nb.pool2d(h, "avg", (4, 4), (1, 1), "VALID")
    h = nb.reshape(h, (1, 128))
    y = nb.softmax(nb.fully_connected(h, 10))
    return nb.build([x], [y])
