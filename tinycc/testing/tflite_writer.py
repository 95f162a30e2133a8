"""A small writer for TensorFlow Lite flatbuffers, used to build test models.

The writer produces the same structure the TFLite converter emits (subgraph 0 is the model;
``ModelBuilder.subgraph`` adds the subgraphs that CALL_ONCE, IF and WHILE call):

* schema version 3 and file identifier ``"TFL3"``;
* buffer 0 is the empty sentinel buffer; every non-constant tensor refers to
  its own empty buffer, every constant tensor to a buffer holding its data
  (data is aligned to 16 bytes inside the file);
* operator codes are deduplicated by ``(builtin code, version)`` and, as the
  converter does, codes above 127 store ``127``
  (``PLACEHOLDER_FOR_GREATER_OP_CODES``) in ``deprecated_builtin_code``.

Example::

    mb = ModelBuilder()
    x = mb.tensor([1, 4], "float32", name="x")
    y = mb.tensor([1, 4], "float32", name="y")
    mb.op("TANH", [x], [y])
    tflite_bytes = mb.build(inputs=[x], outputs=[y])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import flatbuffers
import numpy as np
import tflite

__all__ = ["ModelBuilder", "DTYPES", "builtin_code", "builtin_name", "pack_int4"]

#: Supported tensor dtypes: name -> (TensorType value, numpy dtype).
DTYPES: dict[str, tuple[int, np.dtype]] = {
    "float32": (tflite.TensorType.FLOAT32, np.dtype("<f4")),
    "float16": (tflite.TensorType.FLOAT16, np.dtype("<f2")),
    "int8": (tflite.TensorType.INT8, np.dtype("i1")),
    "int4": (tflite.TensorType.INT4, np.dtype("i1")),   # constants only: values in [-8, 7], packed
    "uint8": (tflite.TensorType.UINT8, np.dtype("u1")),
    "int16": (tflite.TensorType.INT16, np.dtype("<i2")),
    "int32": (tflite.TensorType.INT32, np.dtype("<i4")),
    "int64": (tflite.TensorType.INT64, np.dtype("<i8")),
    "bool": (tflite.TensorType.BOOL, np.dtype("?")),
    "resource": (tflite.TensorType.RESOURCE, np.dtype("<i4")),
    "uint32": (tflite.TensorType.UINT32, np.dtype("<u4")),
    "uint64": (tflite.TensorType.UINT64, np.dtype("<u8")),
}

_SCHEMA_VERSION = 3
_FILE_IDENTIFIER = b"TFL3"
_DATA_ALIGNMENT = 16
_PLACEHOLDER_FOR_GREATER_OP_CODES = 127

_BUILTIN_CODES: dict[str, int] = {
    name: value
    for name, value in vars(tflite.BuiltinOperator).items()
    if not name.startswith("_") and isinstance(value, int)
}
_BUILTIN_NAMES: dict[int, str] = {v: k for k, v in _BUILTIN_CODES.items()}

_PADDINGS = {"SAME": tflite.Padding.SAME, "VALID": tflite.Padding.VALID}
_ACTIVATIONS = {
    "NONE": tflite.ActivationFunctionType.NONE,
    "RELU": tflite.ActivationFunctionType.RELU,
    "RELU_N1_TO_1": tflite.ActivationFunctionType.RELU_N1_TO_1,
    "RELU6": tflite.ActivationFunctionType.RELU6,
    "TANH": tflite.ActivationFunctionType.TANH,
}


def pack_int4(values: np.ndarray) -> bytes:
    """TFLite's INT4 constant layout: two values per byte, element 2i in the low nibble and 2i+1
    in the high nibble (an odd count leaves the last high nibble 0); values in [-8, 7]."""
    v = np.asarray(values, np.int64).ravel()
    if v.size and (v.min() < -8 or v.max() > 7):
        raise ValueError("int4 data out of [-8, 7]")
    nib = (v & 0xF).astype(np.uint8)
    if nib.size % 2:
        nib = np.append(nib, np.uint8(0))
    return (nib[0::2] | (nib[1::2] << 4)).astype(np.uint8).tobytes()


def builtin_code(opcode: str | int) -> int:
    """Return the BuiltinOperator code for an op name (``"CONV_2D"``) or code."""
    if isinstance(opcode, (int, np.integer)):
        code = int(opcode)
        if code not in _BUILTIN_NAMES:
            raise ValueError(f"unknown BuiltinOperator code {code}")
        return code
    try:
        return _BUILTIN_CODES[opcode.upper()]
    except KeyError:
        raise ValueError(f"unknown builtin operator {opcode!r}") from None


def builtin_name(code: int) -> str:
    """Return the BuiltinOperator name for a code (e.g. ``3 -> "CONV_2D"``)."""
    return _BUILTIN_NAMES[code]


# ---------------------------------------------------------------------------
# Builtin option tables
# ---------------------------------------------------------------------------


def _enum(table: dict[str, int], value: str | int, what: str) -> int:
    """Map an enum given by name (case-insensitive) or by value to its value."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        return table[value.upper()]
    except KeyError:
        raise ValueError(f"unknown {what} {value!r}; expected one of {sorted(table)}") from None


def _padding(opts: dict) -> int:
    return _enum(_PADDINGS, opts.pop("padding", "SAME"), "padding")


def _activation(opts: dict) -> int:
    return _enum(_ACTIVATIONS, opts.pop("fused_activation", "NONE"), "fused activation")


def _conv2d_options(b: flatbuffers.Builder, opts: dict) -> int:
    padding, act = _padding(opts), _activation(opts)
    tflite.Conv2DOptionsStart(b)
    tflite.Conv2DOptionsAddPadding(b, padding)
    tflite.Conv2DOptionsAddStrideW(b, int(opts.pop("stride_w", 1)))
    tflite.Conv2DOptionsAddStrideH(b, int(opts.pop("stride_h", 1)))
    tflite.Conv2DOptionsAddFusedActivationFunction(b, act)
    tflite.Conv2DOptionsAddDilationWFactor(b, int(opts.pop("dilation_w", 1)))
    tflite.Conv2DOptionsAddDilationHFactor(b, int(opts.pop("dilation_h", 1)))
    return tflite.Conv2DOptionsEnd(b)


def _depthwise_conv2d_options(b: flatbuffers.Builder, opts: dict) -> int:
    padding, act = _padding(opts), _activation(opts)
    tflite.DepthwiseConv2DOptionsStart(b)
    tflite.DepthwiseConv2DOptionsAddPadding(b, padding)
    tflite.DepthwiseConv2DOptionsAddStrideW(b, int(opts.pop("stride_w", 1)))
    tflite.DepthwiseConv2DOptionsAddStrideH(b, int(opts.pop("stride_h", 1)))
    tflite.DepthwiseConv2DOptionsAddDepthMultiplier(b, int(opts.pop("depth_multiplier", 1)))
    tflite.DepthwiseConv2DOptionsAddFusedActivationFunction(b, act)
    tflite.DepthwiseConv2DOptionsAddDilationWFactor(b, int(opts.pop("dilation_w", 1)))
    tflite.DepthwiseConv2DOptionsAddDilationHFactor(b, int(opts.pop("dilation_h", 1)))
    return tflite.DepthwiseConv2DOptionsEnd(b)


def _fully_connected_options(b: flatbuffers.Builder, opts: dict) -> int:
    act = _activation(opts)
    tflite.FullyConnectedOptionsStart(b)
    tflite.FullyConnectedOptionsAddFusedActivationFunction(b, act)
    tflite.FullyConnectedOptionsAddWeightsFormat(
        b, tflite.FullyConnectedOptionsWeightsFormat.DEFAULT
    )
    tflite.FullyConnectedOptionsAddKeepNumDims(b, bool(opts.pop("keep_num_dims", False)))
    tflite.FullyConnectedOptionsAddAsymmetricQuantizeInputs(
        b, bool(opts.pop("asymmetric_quantize_inputs", False)))
    return tflite.FullyConnectedOptionsEnd(b)


def _pool2d_options(b: flatbuffers.Builder, opts: dict) -> int:
    padding, act = _padding(opts), _activation(opts)
    tflite.Pool2DOptionsStart(b)
    tflite.Pool2DOptionsAddPadding(b, padding)
    tflite.Pool2DOptionsAddStrideW(b, int(opts.pop("stride_w", 1)))
    tflite.Pool2DOptionsAddStrideH(b, int(opts.pop("stride_h", 1)))
    tflite.Pool2DOptionsAddFilterWidth(b, int(opts.pop("filter_w", 1)))
    tflite.Pool2DOptionsAddFilterHeight(b, int(opts.pop("filter_h", 1)))
    tflite.Pool2DOptionsAddFusedActivationFunction(b, act)
    return tflite.Pool2DOptionsEnd(b)


def _add_options(b: flatbuffers.Builder, opts: dict) -> int:
    act = _activation(opts)
    tflite.AddOptionsStart(b)
    tflite.AddOptionsAddFusedActivationFunction(b, act)
    return tflite.AddOptionsEnd(b)


def _mul_options(b: flatbuffers.Builder, opts: dict) -> int:
    act = _activation(opts)
    tflite.MulOptionsStart(b)
    tflite.MulOptionsAddFusedActivationFunction(b, act)
    return tflite.MulOptionsEnd(b)


def _reshape_options(b: flatbuffers.Builder, opts: dict) -> int:
    new_shape = [int(d) for d in opts.pop("new_shape")]
    b.StartVector(4, len(new_shape), 4)
    for d in reversed(new_shape):
        b.PrependInt32(d)
    shape_vec = b.EndVector()
    tflite.ReshapeOptionsStart(b)
    tflite.ReshapeOptionsAddNewShape(b, shape_vec)
    return tflite.ReshapeOptionsEnd(b)


def _svdf_options(b: flatbuffers.Builder, opts: dict) -> int:
    rank, act = int(opts.pop("rank", 1)), _activation(opts)
    tflite.SVDFOptionsStart(b)
    tflite.SVDFOptionsAddRank(b, rank)
    tflite.SVDFOptionsAddFusedActivationFunction(b, act)
    tflite.SVDFOptionsAddAsymmetricQuantizeInputs(b, bool(opts.pop("asymmetric_quantize_inputs", False)))
    return tflite.SVDFOptionsEnd(b)


def _lstm_options(b: flatbuffers.Builder, opts: dict) -> int:
    act = _activation(opts)
    tflite.UnidirectionalSequenceLSTMOptionsStart(b)
    tflite.UnidirectionalSequenceLSTMOptionsAddFusedActivationFunction(b, act)
    tflite.UnidirectionalSequenceLSTMOptionsAddCellClip(b, float(opts.pop("cell_clip", 0.0)))
    tflite.UnidirectionalSequenceLSTMOptionsAddProjClip(b, float(opts.pop("proj_clip", 0.0)))
    tflite.UnidirectionalSequenceLSTMOptionsAddTimeMajor(b, bool(opts.pop("time_major", True)))
    return tflite.UnidirectionalSequenceLSTMOptionsEnd(b)


def _var_handle_options(b: flatbuffers.Builder, opts: dict) -> int:
    container, shared = opts.pop("container", None), opts.pop("shared_name", "")
    container = b.CreateString(container) if container is not None else None
    shared = b.CreateString(shared)
    tflite.VarHandleOptionsStart(b)
    if container is not None:
        tflite.VarHandleOptionsAddContainer(b, container)
    tflite.VarHandleOptionsAddSharedName(b, shared)
    return tflite.VarHandleOptionsEnd(b)


def _call_once_options(b: flatbuffers.Builder, opts: dict) -> int:
    index = int(opts.pop("init_subgraph_index"))
    tflite.CallOnceOptionsStart(b)
    tflite.CallOnceOptionsAddInitSubgraphIndex(b, index)
    return tflite.CallOnceOptionsEnd(b)


def _if_options(b: flatbuffers.Builder, opts: dict) -> int:
    then_index, else_index = int(opts.pop("then_subgraph_index")), int(opts.pop("else_subgraph_index"))
    tflite.IfOptionsStart(b)
    tflite.IfOptionsAddThenSubgraphIndex(b, then_index)
    tflite.IfOptionsAddElseSubgraphIndex(b, else_index)
    return tflite.IfOptionsEnd(b)


def _while_options(b: flatbuffers.Builder, opts: dict) -> int:
    cond_index, body_index = int(opts.pop("cond_subgraph_index")), int(opts.pop("body_subgraph_index"))
    tflite.WhileOptionsStart(b)
    tflite.WhileOptionsAddCondSubgraphIndex(b, cond_index)
    tflite.WhileOptionsAddBodySubgraphIndex(b, body_index)
    return tflite.WhileOptionsEnd(b)


def _softmax_options(b: flatbuffers.Builder, opts: dict) -> int:
    beta = float(opts.pop("beta", 1.0))
    tflite.SoftmaxOptionsStart(b)
    tflite.SoftmaxOptionsAddBeta(b, beta)
    return tflite.SoftmaxOptionsEnd(b)


@dataclass(frozen=True)
class _OptionsSpec:
    """How to serialise the builtin options of one operator."""

    options_type: int  # tflite.BuiltinOptions value
    write: Callable[[flatbuffers.Builder, dict], int]
    required: bool  # write the table even when no option was given


_OPTION_WRITERS: dict[int, _OptionsSpec] = {
    tflite.BuiltinOperator.CONV_2D: _OptionsSpec(
        tflite.BuiltinOptions.Conv2DOptions, _conv2d_options, True
    ),
    tflite.BuiltinOperator.DEPTHWISE_CONV_2D: _OptionsSpec(
        tflite.BuiltinOptions.DepthwiseConv2DOptions, _depthwise_conv2d_options, True
    ),
    tflite.BuiltinOperator.FULLY_CONNECTED: _OptionsSpec(
        tflite.BuiltinOptions.FullyConnectedOptions, _fully_connected_options, True
    ),
    tflite.BuiltinOperator.AVERAGE_POOL_2D: _OptionsSpec(
        tflite.BuiltinOptions.Pool2DOptions, _pool2d_options, True
    ),
    tflite.BuiltinOperator.MAX_POOL_2D: _OptionsSpec(
        tflite.BuiltinOptions.Pool2DOptions, _pool2d_options, True
    ),
    tflite.BuiltinOperator.ADD: _OptionsSpec(
        tflite.BuiltinOptions.AddOptions, _add_options, True
    ),
    # MUL is written without options unless some are given, so tests can
    # build an "option-less" op the compiler might not know.
    tflite.BuiltinOperator.MUL: _OptionsSpec(
        tflite.BuiltinOptions.MulOptions, _mul_options, False
    ),
    # RESHAPE: options only when new_shape is given (the 2-input form
    # with a shape tensor needs no options).
    tflite.BuiltinOperator.RESHAPE: _OptionsSpec(
        tflite.BuiltinOptions.ReshapeOptions, _reshape_options, False
    ),
    tflite.BuiltinOperator.SOFTMAX: _OptionsSpec(
        tflite.BuiltinOptions.SoftmaxOptions, _softmax_options, True
    ),
    tflite.BuiltinOperator.SVDF: _OptionsSpec(
        tflite.BuiltinOptions.SVDFOptions, _svdf_options, True
    ),
    tflite.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM: _OptionsSpec(
        tflite.BuiltinOptions.UnidirectionalSequenceLSTMOptions, _lstm_options, True
    ),
    tflite.BuiltinOperator.VAR_HANDLE: _OptionsSpec(
        tflite.BuiltinOptions.VarHandleOptions, _var_handle_options, True
    ),
    tflite.BuiltinOperator.CALL_ONCE: _OptionsSpec(
        tflite.BuiltinOptions.CallOnceOptions, _call_once_options, True
    ),
    tflite.BuiltinOperator.IF: _OptionsSpec(tflite.BuiltinOptions.IfOptions, _if_options, True),
    tflite.BuiltinOperator.WHILE: _OptionsSpec(tflite.BuiltinOptions.WhileOptions, _while_options, True),
}


# ---------------------------------------------------------------------------
# Model builder
# ---------------------------------------------------------------------------


@dataclass
class _Tensor:
    shape: list[int]
    dtype: str
    buffer: int
    name: str
    scale: list[float] | None
    zero_point: list[int] | None
    quantized_dimension: int
    variable: bool = False
    shape_signature: list[int] | None = None


@dataclass
class _Op:
    opcode_index: int
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any] = field(default_factory=dict)


def _as_list(value, cast) -> list | None:
    """Normalise a scalar or sequence quantization parameter to a list."""
    if value is None:
        return None
    if np.ndim(value) == 0:
        return [cast(value)]
    return [cast(v) for v in np.asarray(value).ravel()]


class ModelBuilder:
    """Incrementally describe a single-subgraph TFLite model and serialise it.

    Tensors and operators are added in order; ``build`` writes the flatbuffer.
    The builder is deterministic: the same sequence of calls yields the same
    bytes.
    """

    def __init__(self, description: str = "tinycc test model"):
        self.description = description
        self._subgraphs: list[tuple[list[_Tensor], list[_Op]]] = [([], [])]
        self._tensors, self._ops = self._subgraphs[0]
        self._buffers: list[bytes] = [b""]  # buffer 0: empty sentinel
        self._opcodes: list[tuple] = []  # (builtin code, version), (CUSTOM, version, custom code)

    # -- tensors -----------------------------------------------------------

    def tensor(
        self,
        shape: Sequence[int],
        dtype: str,
        *,
        data: np.ndarray | None = None,
        scale: float | Sequence[float] | None = None,
        zero_point: int | Sequence[int] | None = None,
        quantized_dimension: int = 0,
        name: str | None = None,
        variable: bool = False,
    ) -> int:
        """Add a tensor and return its index.

        Args:
            shape: tensor shape (a list of ints; ``[]`` for a scalar).
            dtype: one of ``DTYPES`` ("int8", "int32", "float32", ...).
            data: constant contents; converted to ``dtype`` and checked against
                ``shape``. ``None`` makes an activation/variable tensor.
            scale, zero_point: quantization parameters, scalars (per-tensor)
                or sequences (per-axis along ``quantized_dimension``). If only
                ``scale`` is given the zero points default to 0.
            quantized_dimension: axis of per-channel quantization.
            name: tensor name; defaults to ``"t<index>"``.
            variable: set ``is_variable`` (persistent state, e.g. SVDF's activation state).
        """
        if dtype not in DTYPES:
            raise ValueError(f"unsupported dtype {dtype!r}; expected one of {sorted(DTYPES)}")
        shape = [int(d) for d in shape]
        index = len(self._tensors)
        if data is not None:
            array = np.asarray(data)
            if list(array.shape) != shape and array.size != int(np.prod(shape, dtype=np.int64)):
                raise ValueError(f"data of shape {array.shape} does not fit tensor shape {shape}")
            np_dtype = DTYPES[dtype][1]
            if np.issubdtype(np_dtype, np.integer) and np.issubdtype(array.dtype, np.integer):
                info = np.iinfo(np_dtype)
                if array.size and (array.min() < info.min or array.max() > info.max):
                    raise ValueError(f"data for tensor {index} out of {dtype} range")
            payload = np.ascontiguousarray(array, dtype=np_dtype).tobytes()
            if dtype == "int4":
                payload = pack_int4(np.asarray(array).ravel())
        else:
            payload = b""
        self._buffers.append(payload)
        scales = _as_list(scale, float)
        zero_points = _as_list(zero_point, int)
        if scales is not None and zero_points is None:
            zero_points = [0] * len(scales)
        if zero_points is not None and scales is None:
            raise ValueError("zero_point given without scale")
        if scales is not None and len(scales) != len(zero_points):
            if len(zero_points) == 1:
                zero_points = zero_points * len(scales)
            else:
                raise ValueError("scale and zero_point lengths differ")
        self._tensors.append(
            _Tensor(
                shape=shape,
                dtype=dtype,
                buffer=len(self._buffers) - 1,
                name=name if name is not None else f"t{index}",
                scale=scales,
                zero_point=zero_points,
                quantized_dimension=int(quantized_dimension),
                variable=bool(variable),
            )
        )
        return index

    def mark_dynamic(self, index: int, dims: Sequence[int]) -> None:
        """Write a ``shape_signature`` for tensor ``index`` with -1 at ``dims`` (a dynamic
        dimension, as the converter writes it; its ``shape`` keeps the stored size)."""
        t = self._tensors[index]
        t.shape_signature = [-1 if k in dims else d for k, d in enumerate(t.shape)]

    def tensor_shape(self, index: int) -> list[int]:
        """Shape of a previously added tensor."""
        return list(self._tensors[index].shape)

    def tensor_dtype(self, index: int) -> str:
        """Dtype name of a previously added tensor."""
        return self._tensors[index].dtype

    # -- subgraphs -----------------------------------------------------------

    def subgraph(self, index: int | None = None) -> int:
        """Make subgraph ``index`` current (None: a new one) and return its index. Tensors and
        operators are added to the current subgraph; subgraph 0 (the model) is current at first."""
        if index is None:
            self._subgraphs.append(([], []))
            index = len(self._subgraphs) - 1
        self._tensors, self._ops = self._subgraphs[index]
        return index

    # -- operators ---------------------------------------------------------

    def op(
        self,
        opcode: str | int,
        inputs: Sequence[int],
        outputs: Sequence[int],
        *,
        version: int = 1,
        **options: Any,
    ) -> int:
        """Add an operator and return its index in the subgraph.

        Args:
            opcode: builtin name (``"CONV_2D"``) or BuiltinOperator code.
            inputs: input tensor indices; ``-1`` marks an absent optional input.
            outputs: output tensor indices.
            version: operator version stored in the OperatorCode.
            **options: builtin options (see the module docs); unknown keys
                raise ``ValueError``.
        """
        code = builtin_code(opcode)
        spec = _OPTION_WRITERS.get(code)
        if options and spec is None:
            raise ValueError(
                f"options {sorted(options)} given for {builtin_name(code)}, "
                "which this writer supports only without options"
            )
        for t in list(inputs) + list(outputs):
            if t != -1 and not 0 <= t < len(self._tensors):
                raise ValueError(f"tensor index {t} out of range")
        key = (code, int(version))
        if key not in self._opcodes:
            self._opcodes.append(key)
        self._ops.append(
            _Op(self._opcodes.index(key), [int(i) for i in inputs], [int(o) for o in outputs], dict(options))
        )
        return len(self._ops) - 1

    def custom_op(self, custom_code: str, inputs: Sequence[int], outputs: Sequence[int],
                  options: dict | None = None, *, version: int = 1) -> int:
        """Add a custom operator (e.g. ``"TFLite_Detection_PostProcess"``) whose custom options
        are ``options`` written as a flexbuffer map (``options`` False: no custom options at all),
        and return its index."""
        from flatbuffers import flexbuffers
        for t in list(inputs) + list(outputs):
            if t != -1 and not 0 <= t < len(self._tensors):
                raise ValueError(f"tensor index {t} out of range")
        key = (tflite.BuiltinOperator.CUSTOM, int(version), custom_code)
        if key not in self._opcodes:
            self._opcodes.append(key)
        blob = b"" if options is False else bytes(flexbuffers.Dumps(dict(options or {})))
        self._ops.append(_Op(self._opcodes.index(key), [int(i) for i in inputs], [int(o) for o in outputs],
                             {"custom_options": blob}))
        return len(self._ops) - 1

    # -- serialisation -----------------------------------------------------

    def build(self, inputs: Sequence[int], outputs: Sequence[int],
              subgraph_io: dict[int, tuple[Sequence[int], Sequence[int]]] | None = None) -> bytes:
        """Serialise the model with the given inputs and outputs of subgraph 0 (``subgraph_io``:
        those of the other subgraphs, by index; none by default)."""
        b = flatbuffers.Builder(1024)

        buffer_offsets = [self._write_buffer(b, data) for data in self._buffers]
        opcode_offsets = [self._write_opcode(b, *key) for key in self._opcodes]
        io = {0: (inputs, outputs), **(subgraph_io or {})}
        subgraphs = [self._write_subgraph(b, k, *io.get(k, ([], []))) for k in range(len(self._subgraphs))]

        opcodes_vec = _offset_vector(b, tflite.ModelStartOperatorCodesVector, opcode_offsets)
        subgraphs_vec = _offset_vector(b, tflite.ModelStartSubgraphsVector, subgraphs)
        description = b.CreateString(self.description)
        buffers_vec = _offset_vector(b, tflite.ModelStartBuffersVector, buffer_offsets)
        tflite.ModelStart(b)
        tflite.ModelAddVersion(b, _SCHEMA_VERSION)
        tflite.ModelAddOperatorCodes(b, opcodes_vec)
        tflite.ModelAddSubgraphs(b, subgraphs_vec)
        tflite.ModelAddDescription(b, description)
        tflite.ModelAddBuffers(b, buffers_vec)
        model = tflite.ModelEnd(b)
        b.Finish(model, file_identifier=_FILE_IDENTIFIER)
        return bytes(b.Output())

    def _write_subgraph(self, b: flatbuffers.Builder, k: int, inputs, outputs) -> int:
        tensors, ops = self._subgraphs[k]
        tensor_offsets = [self._write_tensor(b, t) for t in tensors]
        op_offsets = [self._write_op(b, op) for op in ops]
        tensors_vec = _offset_vector(b, tflite.SubGraphStartTensorsVector, tensor_offsets)
        inputs_vec = _int32_vector(b, inputs)
        outputs_vec = _int32_vector(b, outputs)
        ops_vec = _offset_vector(b, tflite.SubGraphStartOperatorsVector, op_offsets)
        sg_name = b.CreateString("main" if k == 0 else f"subgraph{k}")
        tflite.SubGraphStart(b)
        tflite.SubGraphAddTensors(b, tensors_vec)
        tflite.SubGraphAddInputs(b, inputs_vec)
        tflite.SubGraphAddOutputs(b, outputs_vec)
        tflite.SubGraphAddOperators(b, ops_vec)
        tflite.SubGraphAddName(b, sg_name)
        return tflite.SubGraphEnd(b)

    @staticmethod
    def _write_buffer(b: flatbuffers.Builder, data: bytes) -> int:
        data_vec = None
        if data:
            # Like CreateByteVector, but 16-byte aligned so int32/float
            # constants can be read in place.
            b.StartVector(1, len(data), _DATA_ALIGNMENT)
            b.head = b.head - len(data)
            b.Bytes[b.head : b.head + len(data)] = data
            b.vectorNumElems = len(data)
            data_vec = b.EndVector()
        tflite.BufferStart(b)
        if data_vec is not None:
            tflite.BufferAddData(b, data_vec)
        return tflite.BufferEnd(b)

    @staticmethod
    def _write_tensor(b: flatbuffers.Builder, t: _Tensor) -> int:
        name = b.CreateString(t.name)
        shape = _int32_vector(b, t.shape)
        signature = _int32_vector(b, t.shape_signature) if t.shape_signature is not None else None
        quant = None
        if t.scale is not None:
            scale_vec = b.CreateNumpyVector(np.asarray(t.scale, dtype="<f4"))
            zp_vec = b.CreateNumpyVector(np.asarray(t.zero_point, dtype="<i8"))
            tflite.QuantizationParametersStart(b)
            tflite.QuantizationParametersAddScale(b, scale_vec)
            tflite.QuantizationParametersAddZeroPoint(b, zp_vec)
            tflite.QuantizationParametersAddQuantizedDimension(b, t.quantized_dimension)
            quant = tflite.QuantizationParametersEnd(b)
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tflite.TensorAddType(b, DTYPES[t.dtype][0])
        tflite.TensorAddBuffer(b, t.buffer)
        tflite.TensorAddName(b, name)
        if signature is not None:
            tflite.TensorAddShapeSignature(b, signature)
        if quant is not None:
            tflite.TensorAddQuantization(b, quant)
        if t.variable:
            tflite.TensorAddIsVariable(b, True)
        return tflite.TensorEnd(b)

    def _write_op(self, b: flatbuffers.Builder, op: _Op) -> int:
        code = self._opcodes[op.opcode_index][0]
        inputs_vec = _int32_vector(b, op.inputs)
        outputs_vec = _int32_vector(b, op.outputs)
        options_offset = None
        spec = _OPTION_WRITERS.get(code)
        custom = None
        if code == tflite.BuiltinOperator.CUSTOM and op.options["custom_options"]:
            custom = b.CreateNumpyVector(np.frombuffer(op.options["custom_options"], np.uint8))
        elif spec is not None and (spec.required or op.options):
            remaining = dict(op.options)
            options_offset = spec.write(b, remaining)
            if remaining:
                raise ValueError(f"unknown options for {builtin_name(code)}: {sorted(remaining)}")
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, op.opcode_index)
        tflite.OperatorAddInputs(b, inputs_vec)
        tflite.OperatorAddOutputs(b, outputs_vec)
        if options_offset is not None:
            tflite.OperatorAddBuiltinOptionsType(b, spec.options_type)
            tflite.OperatorAddBuiltinOptions(b, options_offset)
        if custom is not None:
            tflite.OperatorAddCustomOptions(b, custom)
        return tflite.OperatorEnd(b)

    @staticmethod
    def _write_opcode(b: flatbuffers.Builder, code: int, version: int, custom_code: str | None = None) -> int:
        name = b.CreateString(custom_code) if custom_code is not None else None
        tflite.OperatorCodeStart(b)
        if name is not None:
            tflite.OperatorCodeAddCustomCode(b, name)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, _PLACEHOLDER_FOR_GREATER_OP_CODES))
        tflite.OperatorCodeAddVersion(b, version)
        tflite.OperatorCodeAddBuiltinCode(b, code)
        return tflite.OperatorCodeEnd(b)


def _int32_vector(b: flatbuffers.Builder, values: Sequence[int]) -> int:
    """Write a vector of int32 values."""
    return b.CreateNumpyVector(np.asarray(list(values), dtype="<i4"))


def _offset_vector(b: flatbuffers.Builder, start: Callable, offsets: Sequence[int]) -> int:
    """Write a vector of table offsets with the generated ``Start...Vector``."""
    start(b, len(offsets))
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()
