"""Test models in TFLite Micro's DECODE form (tinycc/tflm_decode.py describes it), made by
tflite-micro's own compressor (``tflite_micro.tensorflow.lite.micro.compression.compress``, which
inserts the DECODE ops), from a normal model: the weights of its CONV_2D, DEPTHWISE_CONV_2D and
FULLY_CONNECTED ops (and their biases with ``bias=True``) LUT-compressed, a table per channel when
the tensor has per-channel scales (along its quantized dimension), else one."""
from __future__ import annotations

import warnings

import numpy as np
import tflite

from ..dtypes import NUMPY_DTYPES, TENSOR_TYPES

WEIGHT_OPS = (3, 4, 9)      # CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED


def _lut_spec(model, sg, t: int, bits: int | None):
    """(bit width, mode) for tensor t: the fewest bits holding its largest table, or ``bits``."""
    from tflite_micro.tensorflow.lite.micro.compression import spec
    ten = sg.Tensors(t)
    data = model.Buffers(ten.Buffer()).DataAsNumpy()
    values = np.frombuffer(data.tobytes(), NUMPY_DTYPES[TENSOR_TYPES[ten.Type()]]).reshape(ten.ShapeAsNumpy())
    q = ten.Quantization()
    axis = q.QuantizedDimension() if q is not None and q.ScaleLength() > 1 else None
    slices = [values] if axis is None else list(np.moveaxis(values, axis, 0))
    need = max(1, int(np.ceil(np.log2(max(np.unique(s).size for s in slices)))))
    mode = spec.PerTensor() if axis is None else spec.PerChannel(axis)
    return max(need, bits or need), mode


def compress(model: bytes, bits: int | None = None, bias: bool = False, subgraph: int = 0) -> bytes:
    """``model`` with the conv/FC weights (and biases) of subgraph ``subgraph`` LUT-compressed by
    tflite-micro's compressor."""
    from tflite_micro.tensorflow.lite.micro.compression import SpecBuilder
    from tflite_micro.tensorflow.lite.micro.compression import compress as tflm_compress
    m = tflite.Model.GetRootAsModel(model, 0)
    sg = m.Subgraphs(subgraph)
    sb, seen = SpecBuilder(), set()
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        if m.OperatorCodes(op.OpcodeIndex()).BuiltinCode() not in WEIGHT_OPS:
            continue
        for slot in (1, 2) if bias else (1,):
            t = op.Inputs(slot) if slot < op.InputsLength() else -1
            if t < 0 or t in seen:
                continue
            seen.add(t)
            width, mode = _lut_spec(m, sg, t, bits)
            sb.add_tensor(subgraph, t).with_lut(width, mode)
    with warnings.catch_warnings():      # a bias's value tables may outweigh its int32 values: expected
        warnings.simplefilter("ignore", UserWarning)
        return bytes(tflm_compress(model, sb.build()))


def with_decode_type(model: bytes, decode_type: int) -> bytes:
    """``model`` (DECODE form) with the decode type of its first ancillary data set to
    ``decode_type`` (1 Huffman, 2 pruning, ...): a model tinycc must refuse."""
    from tflite_micro.tensorflow.lite.micro.compression import model_editor
    m = model_editor.read(model)
    t = next(t for t in m.subgraphs[0].tensors if t.name and t.name.endswith("_ancillary"))
    data = bytearray(t.buffer.data)
    data[0] = decode_type
    t.buffer.data = bytes(data)
    return bytes(m.build())


def pruned_fc_model(rng: np.random.Generator, depth: int = 64, units: int = 16, sparsity: float = 0.75) -> bytes:
    """A FULLY_CONNECTED whose int8 weights (per-channel scales, ``sparsity`` of them 0) come from
    a DECODE op of TFLite Micro's pruning type, written here as decode_state_prune reads it (the
    installed compressor's pruning plugin is a stub): a mask bit per weight, most significant bit
    first, 1 for the next value of the table after the 16-byte DECODE header."""
    from .tflite_writer import ModelBuilder
    w = rng.integers(-127, 128, (units, depth))
    w[rng.random(w.shape) < sparsity] = 0
    mask = np.packbits((w != 0).ravel())
    header = bytes([2, 1, 0, 0, 1]) + bytes(11)         # DCM: decode type 2 (pruning), version 1, pruning version 1
    mb = ModelBuilder("tinycc DECODE pruning test model")
    x = mb.tensor([1, depth], "int8", scale=0.05, zero_point=3, name="x")
    enc = mb.tensor([mask.size], "uint8", data=mask, name="weights_mask")
    anc = mb.tensor([16 + int((w != 0).sum())], "uint8",
                    data=np.frombuffer(header + w[w != 0].astype(np.int8).tobytes(), np.uint8), name="weights_ancillary")
    scales = list(rng.uniform(0.002, 0.01, units))
    wt = mb.tensor([units, depth], "int8", scale=scales, zero_point=[0] * units, name="weights")
    mb.custom_op("TFLM_DECODE", [enc, anc], [wt], options=False)
    b = mb.tensor([units], "int32", data=rng.integers(-500, 500, units), scale=[0.05 * s for s in scales], name="bias")
    y = mb.tensor([1, units], "int8", scale=0.1, zero_point=-5, name="y")
    mb.op("FULLY_CONNECTED", [x, wt, b], [y])
    return mb.build([x], [y])
