"""Frontend: read a .tflite flatbuffer into the tinycc IR (see ``tinycc.ir``).

Subgraph 0 is the model. Tensors become tensor nodes (constants carry their data as
numpy arrays), operators become op nodes with their builtin options decoded by the
op's registration (``tinycc.ops``). Anything we cannot represent is refused with a
TinyccError naming the file, operator and tensor.
"""
from __future__ import annotations

import os

import networkx as nx
import numpy as np
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

from . import ir, ops
from .errors import TinyccError

TENSOR_TYPES = {0: "float32", 2: "int32", 3: "uint8", 4: "int64", 6: "bool", 7: "int16", 9: "int8"}
NUMPY_DTYPES = {"float32": "<f4", "int32": "<i4", "uint8": "u1", "int64": "<i8", "bool": "u1",
                "int16": "<i2", "int8": "i1"}


def load_tflite(path: str) -> nx.DiGraph:
    """Parse the model file at ``path``; raise TinyccError on anything malformed or unsupported."""
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise TinyccError(f"cannot read model: {e.strerror}", file=path) from None
    try:
        return parse_tflite(buf, name)
    except TinyccError as e:
        raise e.located(file=name)
    except Exception as e:  # the flatbuffer library raises anything on corrupt input
        raise TinyccError(f"not a valid TFLite flatbuffer ({type(e).__name__}: {e})", file=name) from None


def parse_tflite(buf: bytes, name: str = "<bytes>") -> nx.DiGraph:
    if len(buf) < 8:
        raise TinyccError(f"file is {len(buf)} bytes, too short to be a TFLite model")
    if buf[4:8] != b"TFL3":
        raise TinyccError(f"not a TFLite model (file identifier {bytes(buf[4:8])!r}, expected b'TFL3')")
    model = tflite.Model.GetRootAsModel(buf, 0)
    if model.SubgraphsLength() < 1:
        raise TinyccError("model has no subgraph")
    sg = model.Subgraphs(0)
    g = nx.DiGraph(name="model", source=name)

    n_tensors = sg.TensorsLength()
    for i in range(n_tensors):
        t = _read_tensor(model, sg, i, buf)
        ir.add_tensor(g, f"t{i}", t)

    def tensor_id(i: int, what: str, op_index=None, kind=None) -> str:
        if not 0 <= i < n_tensors:
            raise TinyccError(f"{what} tensor index {i} out of range (model has {n_tensors} tensors)",
                              op_index=op_index, op_kind=kind)
        return f"t{i}"

    g.graph["inputs"] = [tensor_id(int(i), "input") for i in sg.InputsAsNumpy()] if sg.InputsLength() else []
    g.graph["outputs"] = [tensor_id(int(i), "output") for i in sg.OutputsAsNumpy()] if sg.OutputsLength() else []
    if not g.graph["inputs"] or not g.graph["outputs"]:
        raise TinyccError("model declares no inputs or no outputs")

    for k in range(sg.OperatorsLength()):
        o = sg.Operators(k)
        kind = _op_kind(model, o.OpcodeIndex(), k)
        spec = ops.lookup(kind)
        if spec is None:
            raise TinyccError("operator is not supported by tinycc", op_index=k, op_kind=kind)
        ins = tuple(None if i < 0 else tensor_id(int(i), "input", k, kind)
                    for i in (o.InputsAsNumpy() if o.InputsLength() else []))
        outs = tuple(tensor_id(int(i), "output", k, kind)
                     for i in (o.OutputsAsNumpy() if o.OutputsLength() else []))
        try:
            attrs = spec.read_options(_options(o, spec))
        except TinyccError as e:
            raise e.located(op_index=k, op_kind=kind)
        for t in outs:
            if any(ir.is_op(g, p) for p in g.predecessors(t)):
                raise TinyccError(f"tensor {t} is written by two operators", op_index=k, op_kind=kind)
            if ir.tensor(g, t).is_const:
                raise TinyccError(f"operator writes constant tensor '{ir.tensor(g, t).name}'",
                                  op_index=k, op_kind=kind)
        ir.add_op(g, f"op{k}", ir.Op(kind, ins, outs, attrs, index=k, name=f"op{k}_{kind.lower()}"))
    if not nx.is_directed_acyclic_graph(g):
        raise TinyccError("operator graph has a cycle")
    return g


def _op_kind(model, opcode_index: int, k: int) -> str:
    if not 0 <= opcode_index < model.OperatorCodesLength():
        raise TinyccError(f"opcode index {opcode_index} out of range", op_index=k)
    code = model.OperatorCodes(opcode_index)
    builtin = code.BuiltinCode()
    if builtin == 32:  # CUSTOM
        cname = code.CustomCode()
        cname = cname.decode(errors="replace") if cname else "?"
        raise TinyccError(f"custom operator '{cname}' is not supported", op_index=k, op_kind="CUSTOM")
    kind = BUILTIN_OPCODE2NAME.get(builtin)
    if kind is None:
        raise TinyccError(f"unknown builtin operator code {builtin}", op_index=k)
    return kind


def _options(o, spec):
    if spec.options_class is None:
        return None
    table = o.BuiltinOptions()
    if table is None:
        return None
    opts = spec.options_class()
    opts.Init(table.Bytes, table.Pos)
    return opts


def _read_tensor(model, sg, i: int, buf: bytes) -> ir.Tensor:
    t = sg.Tensors(i)
    tname = (t.Name() or b"").decode(errors="replace") or f"tensor{i}"
    if t.Type() not in TENSOR_TYPES:
        raise TinyccError(f"tensor type {t.Type()} is not supported", tensor=tname)
    dtype = TENSOR_TYPES[t.Type()]
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    if any(d < 0 for d in shape):
        raise TinyccError(f"dynamic or negative shape {list(shape)} is not supported", tensor=tname)
    quant = None
    q = t.Quantization()
    if q is not None and q.ScaleLength() > 0:
        scales = tuple(float(s) for s in q.ScaleAsNumpy())
        zps = tuple(int(z) for z in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else (0,) * len(scales)
        if len(zps) == 1 and len(scales) > 1:
            zps = zps * len(scales)
        if len(zps) != len(scales):
            raise TinyccError(f"{len(scales)} scales but {len(zps)} zero points", tensor=tname)
        quant = ir.Quant(scales, zps, int(q.QuantizedDimension()))
    data = None
    b = t.Buffer()
    if not 0 <= b < model.BuffersLength():
        raise TinyccError(f"buffer index {b} out of range", tensor=tname)
    raw = _buffer_bytes(model.Buffers(b), buf)
    if raw is not None and len(raw):
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        want = count * ir.DTYPE_SIZE[dtype]
        if len(raw) != want:
            raise TinyccError(f"constant buffer has {len(raw)} bytes, shape {list(shape)} {dtype} needs {want}",
                              tensor=tname)
        data = np.frombuffer(bytes(raw), dtype=NUMPY_DTYPES[dtype]).reshape(shape)
        data = data.astype(dtype if dtype != "bool" else np.uint8)
    return ir.Tensor(tname, shape, dtype, quant, data)


def _buffer_bytes(buffer, buf: bytes):
    off = buffer.Offset() if hasattr(buffer, "Offset") else 0
    if off > 1:  # large models keep data outside the flatbuffer
        size = buffer.Size()
        if off + size > len(buf):
            raise TinyccError(f"buffer data [{off}, {off + size}) lies outside the {len(buf)}-byte file")
        return buf[off:off + size]
    if buffer.DataLength() == 0:
        return None
    return buffer.DataAsNumpy().tobytes()
