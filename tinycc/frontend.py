"""Frontend: read a .tflite flatbuffer into the tinycc IR (see ``tinycc.ir``).

Subgraph 0 is the model. The file is untrusted: ``tinycc.flatbuffer`` checks its flatbuffer
structure and reads it into plain data before anything else touches it, then
``tinycc.model_checks`` checks every index, tensor, quantization and the graph (see their
docstrings for the full list).
Tensors become tensor nodes (constants carry their data as numpy arrays; ``is_variable``
tensors become state, ``ir.Tensor.variable``), operators
become op nodes with their builtin options decoded by the op's registration
(``tinycc.ops``), from options tables whose fields were checked. Anything we cannot
represent is refused with a one-line TinyccError naming the file, operator and tensor.
"""
from __future__ import annotations

import dataclasses
import os

import networkx as nx
import numpy as np

from . import flatbuffer, ir, model_checks, ops, tflm_decode, tflm_lut
from .dtypes import DTYPE_SIZE, NUMPY_DTYPES, TENSOR_TYPES, file_bytes  # noqa: F401  (re-exported)
from .errors import TinyccError


def load_tflite(path: str) -> nx.DiGraph:
    """Parse the model file at ``path``; raise TinyccError on anything malformed or unsupported."""
    name = flatbuffer.printable(os.path.basename(path))
    try:
        size = os.path.getsize(path)
        if size > flatbuffer.MAX_FILE_BYTES:
            raise TinyccError(f"file is {size} bytes, more than a flatbuffer can address "
                              f"({flatbuffer.MAX_FILE_BYTES})", file=name)
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise TinyccError(f"cannot read model: {e.strerror}", file=flatbuffer.printable(str(path))) from None
    return parse_tflite(buf, name)


def load(model) -> nx.DiGraph:
    """A model given as a file path or as its bytes (bytes, bytearray, memoryview; named "<bytes>"
    in messages), with the same checks either way."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        if len(model) > flatbuffer.MAX_FILE_BYTES:
            raise TinyccError(f"model is {len(model)} bytes, more than a flatbuffer can address "
                              f"({flatbuffer.MAX_FILE_BYTES})", file=BYTES_NAME)
        return parse_tflite(bytes(model), BYTES_NAME)
    return load_tflite(os.fspath(model))


BYTES_NAME = "<bytes>"


def display_name(model) -> str:
    """How messages name a model: its file name, or "<bytes>"."""
    if isinstance(model, (bytes, bytearray, memoryview)):
        return BYTES_NAME
    return flatbuffer.printable(os.path.basename(os.fspath(model)))


def parse_tflite(buf: bytes, name: str = "<bytes>") -> nx.DiGraph:
    """Parse a model from its bytes; raise TinyccError (naming ``name``) on anything wrong."""
    try:
        return _parse(bytes(buf), name)
    except TinyccError as e:
        raise e.located(file=name)
    except RecursionError:
        raise TinyccError("model is too deeply nested", file=name) from None
    except MemoryError:
        raise TinyccError("model needs more memory than is available to compile", file=name) from None
    except Exception as e:  # a gap in validation: still one line, never a traceback
        raise TinyccError(f"not a valid TFLite model ({type(e).__name__}: {e})", file=name) from None


def _parse(buf: bytes, name: str) -> nx.DiGraph:
    m = flatbuffer.read_model(buf)
    m, decoded, encoded = tflm_decode.resolve(m)     # TFLite Micro's DECODE ops, read now
    model_checks.check_tensors(m)
    model_checks.check_model(m)

    g = _graph(m, name, decoded=decoded, leave_out=encoded)
    _resolve_variables(g, m)
    _load_subgraphs(g, m, name)
    return g


def _graph(m: flatbuffer.RawModel, name: str, label: str = "", decoded: dict | None = None,
           leave_out: frozenset[int] = frozenset()) -> nx.DiGraph:
    """The IR of one subgraph ``m`` (checked); ``label`` prefixes its op names (``sgK_``), so
    that the C names of the constants of several subgraphs never clash. ``decoded``: the
    tensors TFLite Micro's DECODE ops gave (``tflm_decode.resolve``), constants now;
    ``leave_out``: the tensors only those ops read."""
    g = nx.DiGraph(name="model", source=name)
    consts, int4 = set(), set()
    decoded = decoded or {}
    luts = {**(_luts(m) if not label else {}),    # COMPRESSION_METADATA describes subgraph 0 only
            **{i: d.lut for i, d in decoded.items() if d.lut is not None}}
    for t in m.tensors:
        if t.index in leave_out:
            continue
        try:
            tensor = _tensor(m, t, luts.get(t.index), decoded[t.index].values if t.index in decoded else None)
            if t.dtype == "float16" and not tensor.is_const:
                raise TinyccError("FLOAT16 activations are not supported (float16 constants are: tinycc "
                                  "widens them to float32)", tensor=t.name)
            if t.dtype == "int4" and not tensor.is_const:
                raise TinyccError("INT4 activations are not supported (INT4 weights are)", tensor=t.name)
        except TinyccError as e:
            raise model_checks.locate_tensor(e, m, t.index)
        if tensor.is_const:
            consts.add(f"t{t.index}")
        if t.dtype == "int4":
            int4.add(f"t{t.index}")
        ir.add_tensor(g, f"t{t.index}", tensor)
    # dims the file marks dynamic (shape_signature -1, stored as 1): what ``shapes.fix_input_shapes``
    # may change
    g.graph["dynamic_dims"] = {f"t{t.index}": tuple(k for k, d in enumerate(t.signature) if d == -1)
                               for t in m.tensors if len(t.signature) == len(t.shape) and -1 in t.signature}
    g.graph["int4"] = frozenset(int4)     # INT4 constants, widened to int8 (compress_weights)
    g.graph["tflm_lut"] = {f"t{i}": lut for i, lut in luts.items()}   # TFLite Micro LUT tensors (tflm_lut)
    g.graph["inputs"] = [f"t{i}" for i in m.inputs]
    g.graph["outputs"] = [f"t{i}" for i in m.outputs]

    for o in m.operators:
        spec = ops.lookup(o.kind)
        ins = tuple(None if i < 0 else f"t{i}" for i in o.inputs)
        outs = tuple(f"t{i}" for i in o.outputs)
        try:
            attrs = spec.read_options(_options(m, o, spec))
        except TinyccError as e:
            raise e.located(op_index=o.index, op_kind=o.kind)
        if spec.records_float16_input and o.inputs and 0 <= o.inputs[0] < len(m.tensors) \
                and m.tensors[o.inputs[0]].dtype == "float16":
            attrs = {**attrs, "from_float16": True}   # its input was widened to float32 above
        ir.add_op(g, f"op{o.index}", ir.Op(o.kind, ins, outs, attrs, index=o.index,
                                           name=f"{label}op{o.index}_{o.kind.lower()}"))
    model_checks.check_graph(g, m, consts)
    return g


def _load_subgraphs(g: nx.DiGraph, m: flatbuffer.RawModel, name: str) -> None:
    """The subgraphs IF and WHILE run (``OpDef.subgraph_attrs``), each read and checked as subgraph
    0 is, into ``g.graph["subgraphs"]`` {index: graph} (one dict, shared by every subgraph's graph)
    and ``g.graph["subgraph_order"]``: callees before their callers, so each is compiled before
    the ops that call it. A subgraph that calls itself, directly or not, is refused."""
    subs: dict[int, nx.DiGraph] = {}
    order: list[int] = []

    def visit(h: nx.DiGraph, calling: tuple[int, ...]) -> None:
        calls = any(ops.lookup(v.kind).subgraph_attrs for _, v in h.nodes(data="value") if isinstance(v, ir.Op))
        for n in ir.ops_in_order(h) if calls else ():       # (most models call none: no sort)
            o = ir.op(h, n)
            for attr in ops.lookup(o.kind).subgraph_attrs:
                k = o.attrs[attr]
                where = dict(op_index=o.index, op_kind=o.kind if len(calling) == 1 else
                             f"{o.kind} in subgraph {calling[-1]}")
                if k in calling:
                    raise TinyccError(f"{attr} {k} calls a subgraph that is running (recursion)", **where)
                if k in subs:
                    continue
                try:
                    sub, decoded, encoded = tflm_decode.resolve(flatbuffer.read_subgraph(m, k))
                    model_checks.check_subgraph(sub)
                    for i in (*sub.inputs, *sub.outputs):
                        if not 0 <= i < len(sub.tensors):
                            raise TinyccError(f"subgraph {k} input/output tensor index {i} out of range")
                    sg = _graph(sub, name, f"sg{k}_", decoded=decoded, leave_out=encoded)
                except TinyccError as e:
                    if e.op_index is not None:    # an operator of subgraph k: say so
                        e.op_kind = f"{e.op_kind or '?'} in subgraph {k}"
                    raise e.located(**where)
                if any(ops.lookup(ir.op(sg, x).kind).variable_role or ops.lookup(ir.op(sg, x).kind).state_inputs
                       for x in sg.nodes if ir.is_op(sg, x)) or \
                        any(ir.tensor(sg, x).variable for x in sg.nodes if not ir.is_op(sg, x)):
                    raise TinyccError(f"subgraph {k} holds variables (state), which tinycc supports only in "
                                      f"subgraph 0", **where)
                sg.graph["subgraphs"] = subs
                subs[k] = sg
                visit(sg, (*calling, k))
                order.append(k)

    visit(g, (0,))
    if subs:
        g.graph["subgraphs"], g.graph["subgraph_order"] = subs, order


def _resolve_variables(g: nx.DiGraph, m: flatbuffer.RawModel) -> None:
    """Resource variables become state tensors (see ``tinycc/ops/variables.py``): one per
    (container, shared_name), initialized with what the CALL_ONCE init subgraphs assign (or the
    zero point); READ_VARIABLE/ASSIGN_VARIABLE read/update it, VAR_HANDLE and CALL_ONCE go away."""
    _add_internal_state(g)
    role = {n: ops.lookup(ir.op(g, n).kind).variable_role for n in g.nodes if ir.is_op(g, n)}
    if any(role.values()):
        _variables_to_state(g, m, role)
    for n in g.nodes:
        if ir.is_op(g, n):
            o = ir.op(g, n)
            for slot, t in enumerate(o.inputs):
                if t is not None and ir.tensor(g, t).variable and slot not in ops.lookup(o.kind).state_inputs:
                    raise TinyccError(f"input {slot} is a variable (state) tensor, which this operator does not "
                                      f"keep", op_index=o.index, op_kind=o.kind, tensor=ir.tensor(g, t).name)
        elif ir.tensor(g, n).dtype == "resource":
            raise TinyccError("a RESOURCE tensor that is not a VAR_HANDLE's handle read by READ_VARIABLE or "
                              "ASSIGN_VARIABLE is not supported", tensor=ir.tensor(g, n).name)


def _add_internal_state(g: nx.DiGraph) -> None:
    """The state tensors ops keep without a model tensor (``OpDef.internal_state``), appended to
    their inputs."""
    for n in [n for n in g.nodes if ir.is_op(g, n)]:
        o = ir.op(g, n)
        try:
            extra = ops.lookup(o.kind).internal_state(g, o)
        except TinyccError as e:
            raise e.located(op_index=o.index, op_kind=o.kind)
        if not extra:
            continue
        tids = [f"{n}_state{k}" for k in range(len(extra))]
        for tid, t in zip(tids, extra):
            ir.add_tensor(g, tid, t)
            g.add_edge(tid, n)
        ir.replace_value(g, n, dataclasses.replace(o, inputs=(*o.inputs, *tids)))


def _variables_to_state(g: nx.DiGraph, m: flatbuffer.RawModel, role: dict) -> None:
    init: dict[tuple, np.ndarray] = {}
    for n in [n for n, r in role.items() if r == "call_once"]:
        o = ir.op(g, n)
        try:
            init.update(_init_values(m, o.attrs["init_subgraph_index"]))
        except TinyccError as e:
            raise e.located(op_index=o.index, op_kind=o.kind)
        g.remove_node(n)
    key_of = {}                                   # handle tensor id -> (container, shared_name)
    for n in [n for n, r in role.items() if r == "handle"]:
        o = ir.op(g, n)
        if len(o.outputs) != 1 or o.inputs or o.outputs[0] in g.graph["outputs"]:
            raise TinyccError("VAR_HANDLE must have no input and one output that is not a model output",
                              op_index=o.index, op_kind=o.kind)
        key_of[o.outputs[0]] = (o.attrs["container"], o.attrs["shared_name"])
        g.remove_node(n)
    state: dict[tuple, str] = {}
    for n in ir.ops_in_order(g):
        o = ir.op(g, n)
        if role.get(n) not in ("read", "assign"):
            if any(t in key_of for t in o.inputs):
                raise TinyccError("a resource handle is read by an operator other than READ_VARIABLE or "
                                  "ASSIGN_VARIABLE", op_index=o.index, op_kind=o.kind)
            continue
        if (len(o.inputs), len(o.outputs)) != ((1, 1) if role[n] == "read" else (2, 0)) or None in o.inputs:
            raise TinyccError(f"expects {'1 input and 1 output' if role[n] == 'read' else '2 inputs and no output'}",
                              op_index=o.index, op_kind=o.kind)
        h = o.inputs[0]
        if h not in key_of:
            raise TinyccError("input 0 is not a VAR_HANDLE's resource", op_index=o.index, op_kind=o.kind,
                              tensor=ir.tensor(g, h).name)
        key = key_of[h]
        value = ir.tensor(g, o.outputs[0] if role[n] == "read" else o.inputs[1])
        if key not in state:
            state[key] = f"var{len(state)}"
            data = init.get(key)
            if data is not None and (data.dtype != np.dtype(NUMPY_DTYPES[value.dtype]) or data.size != value.size):
                raise TinyccError(f"the init subgraph assigns {data.dtype} {list(data.shape)}, the model uses "
                                  f"{value.dtype} {list(value.shape)}", op_index=o.index, op_kind=o.kind,
                                  tensor=key[1])
            if data is None and value.quant is not None and value.dtype != "int8" and value.quant.zero_point[0] & 0xFF:
                # TFLite Micro fills a quantized variable with its zero point cast to int8, whatever its type
                fill = np.full(value.nbytes, value.quant.zero_point[0] & 0xFF, np.uint8)
                data = fill.view(NUMPY_DTYPES[value.dtype])
            ir.add_tensor(g, state[key], ir.Tensor(key[1] or state[key], value.shape, value.dtype, value.quant,
                                                  variable=True, init=None if data is None else
                                                  data.reshape(value.shape)))
        g.remove_edge(h, n)
        o = dataclasses.replace(o, inputs=(state[key], *o.inputs[1:]))
        ir.replace_value(g, n, o)
        g.add_edge(state[key], n)
    for h in key_of:
        if h in g:
            g.remove_node(h)


def _init_values(m: flatbuffer.RawModel, k: int) -> dict[tuple, np.ndarray]:
    """What CALL_ONCE's init subgraph ``k`` assigns: {(container, shared_name): constant values}.
    Only VAR_HANDLE and ASSIGN_VARIABLE of constants are supported there."""
    sub = flatbuffer.read_subgraph(m, k)
    model_checks.check_subgraph(sub)
    handles, values = {}, {}
    for o in sub.operators:
        spec = ops.lookup(o.kind)
        where = dict(op_index=o.index, op_kind=f"{o.kind} in init subgraph {k}")
        if spec.variable_role == "handle":
            attrs = spec.read_options(_options(sub, o, spec))
            handles[o.outputs[0]] = (attrs["container"], attrs["shared_name"])
        elif spec.variable_role == "assign" and len(o.inputs) == 2 and o.inputs[0] in handles \
                and _tensor(sub, sub.tensors[o.inputs[1]]).is_const:
            values[handles[o.inputs[0]]] = _tensor(sub, sub.tensors[o.inputs[1]]).data
        else:
            raise TinyccError("an init subgraph may only assign constants to resource variables", **where)
    return values


def _options(m: flatbuffer.RawModel, o: flatbuffer.RawOperator, spec):
    """The op's builtin options as its generated class, at a checked position (or None); a
    custom op's options bytes (``OpDef.custom_code``)."""
    if spec.custom_code is not None:
        return o.custom_options
    if spec.options_class is None or o.options_pos is None:
        return None
    opts = spec.options_class()
    opts.Init(m.buf, o.options_pos)
    return opts


def _luts(m: flatbuffer.RawModel) -> dict[int, tflm_lut.Lut]:
    """The model's TFLite Micro LUT-compressed tensors (tinycc/tflm_lut.py), by tensor index."""
    if tflm_lut.KEY not in m.metadata:
        return {}
    raw = m.buffer_bytes(m.metadata[tflm_lut.KEY], tflm_lut.KEY) if m.metadata[tflm_lut.KEY] < m.n_buffers else None
    if raw is None:
        raise TinyccError(f"metadata {tflm_lut.KEY} names buffer {m.metadata[tflm_lut.KEY]}, which is empty or missing")
    luts = tflm_lut.read_metadata(raw)
    for i, lut in luts.items():
        if not 0 <= i < len(m.tensors) or not lut.value_buffer < m.n_buffers:
            raise TinyccError(f"{tflm_lut.KEY} names tensor {i} and value buffer {lut.value_buffer}, out of range")
        size = [len(m.buffer_bytes(b, tflm_lut.KEY) or b"") for b in (m.tensors[i].buffer, lut.value_buffer)]
        luts[i] = dataclasses.replace(lut, index_bytes=size[0], table_bytes=size[1])
    return luts


def _tensor(m: flatbuffer.RawModel, t: flatbuffer.RawTensor, lut: tflm_lut.Lut | None = None,
            values: np.ndarray | None = None) -> ir.Tensor:
    """Tensor ``t`` of ``m``; ``values``: its values decoded from a DECODE op's input."""
    dtype = t.dtype
    quant = None
    if t.quant is not None:
        scales = tuple(float(s) for s in t.quant.scale)
        zps = tuple(int(z) for z in t.quant.zero_point) or (0,)
        if len(zps) == 1 and len(scales) > 1:
            zps = zps * len(scales)
        quant = ir.Quant(scales, zps, model_checks.quantized_axis(t))
    data = None
    raw = m.buffer_bytes(t.buffer, t.name)
    if t.variable:   # persistent state: TFLite Micro starts it at the zero point, whatever the buffer holds
        return ir.Tensor(t.name, t.shape, dtype, quant, None, variable=True)
    if values is not None:
        return ir.Tensor(t.name, t.shape, dtype, quant, values)
    if raw and lut is not None:
        table = m.buffer_bytes(lut.value_buffer, t.name) or b""
        data = tflm_lut.values(raw, table, lut, dtype, t.shape, len(quant.scale) if quant else 0,
                               quant.axis if quant else 0, t.name)
        return ir.Tensor(t.name, t.shape, dtype, quant, data.astype(dtype))
    if raw:
        want = file_bytes(dtype, model_checks.element_count(t.shape))
        if len(raw) != want:
            raise TinyccError(f"constant buffer {t.buffer} has {len(raw)} bytes, shape {list(t.shape)} {dtype} "
                              f"needs {want}", tensor=t.name)
        if dtype == "int4":      # two per byte, low nibble first: widened to int8 values in [-8, 7]
            data, dtype = unpack_int4(raw, t.shape), "int8"
        else:
            data = np.frombuffer(raw, dtype=NUMPY_DTYPES[dtype]).reshape(t.shape)
            data = data.astype(dtype if dtype != "bool" else np.uint8)
        if dtype == "float16":   # every float16 value is exactly a float32 value
            data, dtype = data.astype(np.float32), "float32"
    return ir.Tensor(t.name, t.shape, dtype, quant, data)


def unpack_int4(raw: bytes, shape) -> np.ndarray:
    """TFLite's INT4 buffer as int8 values: element 2i is the low nibble of byte i, 2i+1 the high
    one, each a two's complement 4-bit number (tflite::tensor_utils::UnpackDenseInt4IntoInt8)."""
    b = np.frombuffer(raw, np.uint8)
    nib = np.stack([b & 0xF, b >> 4], axis=1).ravel()[:model_checks.element_count(shape)].astype(np.int16)
    return ((nib ^ 8) - 8).astype(np.int8).reshape(shape)
