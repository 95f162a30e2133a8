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
