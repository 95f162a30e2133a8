"""Operator registry: one module per operator, each defining one ``OpDef`` subclass.

An op's module holds everything tinycc knows about it:
  * ``read_options``: decode the flatbuffer builtin options into plain attrs;
  * ``check``: type and shape rules (raise TinyccError for what we don't support);
  * ``prepare``: compile-time constants, what TFLite Micro computes in Prepare
    (stored in ``Op.params`` by the ``fold_quantization`` pass);
  * ``emit``: the C call(s) and constant data, through a ``codegen.Emitter``;
  * ``macs``: multiply-accumulates, for reports.
Its C kernel lives in ``runtime/kernels/<kernel>.c``. Adding an op = adding a module
here, a kernel file, and a test; modules are discovered automatically.
"""
from __future__ import annotations

import importlib
import pkgutil

import numpy as np

from .. import ir
from ..errors import TinyccError

ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
PADDINGS = {0: "SAME", 1: "VALID"}

_REGISTRY: dict[str, "OpDef"] = {}


class OpDef:
    kind: str = ""
    options_class = None       # tflite.*Options class for the builtin options table
    kernel: str | None = None  # runtime/kernels/<kernel>.c/.h

    def read_options(self, opts) -> dict:
        return {}

    def check(self, g, o: ir.Op) -> None:
        pass

    def prepare(self, g, o: ir.Op) -> dict:
        return {}

    def emit(self, g, o: ir.Op, ctx) -> None:
        raise NotImplementedError

    def macs(self, g, o: ir.Op) -> int:
        return 0

    # -- helpers for subclasses -------------------------------------------------
    def fail(self, o: ir.Op, msg: str, tensor: str | None = None) -> TinyccError:
        return TinyccError(msg, op_index=o.index, op_kind=o.kind, tensor=tensor)

    def expect_arity(self, o: ir.Op, n_in: tuple[int, int], n_out: int = 1) -> None:
        present = len(o.inputs)
        if not n_in[0] <= present <= n_in[1]:
            raise self.fail(o, f"expects {n_in[0]}..{n_in[1]} inputs, has {present}")
        if len(o.outputs) != n_out:
            raise self.fail(o, f"expects {n_out} output(s), has {len(o.outputs)}")
        for i, t in enumerate(o.inputs[:n_in[0]]):
            if t is None:
                raise self.fail(o, f"required input {i} is missing")

    def dtype_of(self, g, o: ir.Op) -> str:
        """The op's activation dtype (int8 or float32), checked across its inputs and outputs."""
        dt = ir.tensor(g, o.inputs[0]).dtype
        if dt not in ("int8", "float32"):
            raise self.fail(o, f"input type {dt} is not supported (int8 or float32)",
                            ir.tensor(g, o.inputs[0]).name)
        for t in [o.inputs[0], *o.outputs]:
            tt = ir.tensor(g, t)
            if tt.dtype != dt:
                raise self.fail(o, f"mixed types {dt} and {tt.dtype}", tt.name)
            if dt == "int8" and (tt.quant is None or tt.quant.per_channel):
                raise self.fail(o, "int8 activations need per-tensor quantization", tt.name)
        return dt

    def expect_shape(self, g, o: ir.Op, tid: str, shape) -> None:
        t = ir.tensor(g, tid)
        if tuple(t.shape) != tuple(shape):
            raise self.fail(o, f"shape {list(t.shape)} does not match the expected {list(shape)}", t.name)


def register(cls):
    """Class decorator: instantiate and register an OpDef under its ``kind``."""
    inst = cls()
    _REGISTRY[inst.kind] = inst
    return cls


def lookup(kind: str) -> OpDef | None:
    _load()
    return _REGISTRY.get(kind)


def supported() -> list[str]:
    _load()
    return sorted(_REGISTRY)


_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for m in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{m.name}")


def is_hybrid_model(g) -> bool:
    """True when some op has int8 weights with float32 activations (dynamic-range quantization).

    TFLite Micro refuses such models, so their reference is TFLite, whose optimized float
    kernels round in a slightly different order; float kernels follow it for these models.
    """
    for n in g.nodes:
        o = g.nodes[n]["value"]
        if isinstance(o, ir.Op) and len(o.inputs) > 1 and o.inputs[1] is not None:
            x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
            if x.dtype == "float32" and w.dtype == "int8" and w.is_const:
                return True
    return False


# -- shared pieces of int8 convolution-like ops -----------------------------------

def activation(opts) -> str:
    code = opts.FusedActivationFunction() if opts is not None else 0
    if code not in ACTIVATIONS:
        raise TinyccError(f"fused activation code {code} is not supported")
    return ACTIVATIONS[code]


def padding(opts) -> str:
    code = opts.Padding()
    if code not in PADDINGS:
        raise TinyccError(f"padding code {code} is not supported")
    return PADDINGS[code]


def folded_bias(bias: np.ndarray | None, weights: np.ndarray, in_zp: int, axis_out: int) -> np.ndarray:
    """int32 bias with the input zero point folded in: bias - in_zp * sum(weights of each output).

    Exact in int64 and checked to fit int32 (the C kernel's accumulator type).
    """
    w = weights.astype(np.int64)
    sums = np.moveaxis(w, axis_out, 0).reshape(w.shape[axis_out], -1).sum(axis=1)
    b = np.zeros(w.shape[axis_out], np.int64) if bias is None else bias.astype(np.int64)
    out = b - int(in_zp) * sums
    if out.min(initial=0) < -(2**31) or out.max(initial=0) >= 2**31:
        raise TinyccError("folded bias overflows int32")
    return out.astype(np.int32)


def per_channel_scales(t: ir.Tensor, channels: int) -> tuple[float, ...]:
    if t.quant is None:
        raise TinyccError("int8 weights need quantization parameters", tensor=t.name)
    s = t.quant.scale
    if len(s) == 1:
        return s * channels
    if len(s) != channels:
        raise TinyccError(f"{len(s)} per-channel scales for {channels} channels", tensor=t.name)
    return s
