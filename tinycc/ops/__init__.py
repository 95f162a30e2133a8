"""Operator registry: one module per operator, each defining one ``OpDef`` subclass.

An op's module holds everything tinycc knows about it:
  * ``read_options``: decode the flatbuffer builtin options into plain attrs;
  * ``check``: type and shape rules (raise TinyccError for what we don't support);
  * ``prepare``: compile-time constants, what TFLite Micro computes in Prepare
    (stored in ``Op.params`` by the ``fold_quantization`` pass);
  * ``emit``: the C call(s) and constant data, through a ``codegen.Emitter``;
  * ``macs``: multiply-accumulates, for reports;
and every other hook and fact ``OpDef`` declares (each with its docstring): what the passes
need to know about the op is asked there, never by its kind.
Its C kernel lives in ``runtime/kernels/<kernel>.c``. Adding an op = adding a module
here, a kernel file, and a test; modules are discovered automatically (modules named
``_*.py`` hold base classes and helpers shared by several ops and are not ops).
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from pathlib import Path

import numpy as np

from .. import ir, overlap, quant
from ..dtypes import ZERO_POINT_RANGE
from ..errors import TinyccError
from ..quant import per_channel_scales  # noqa: F401  (the convolution-like ops import it from here)

ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
PADDINGS = {0: "SAME", 1: "VALID"}
QUANTIZED_DTYPES = ("int8", "int16")   # activations with integer clamps (``clamp_keys`` slot 0)

_REGISTRY: dict[str, "OpDef"] = {}


class OpDef:
    """What tinycc knows about one operator kind: the TEMPLATE a new op copies.

    Passes ask an op through these hooks and properties only (never ``getattr``): they hold
    the mechanisms, the op holds the facts. Facts are class attributes, hooks are methods;
    every one has a safe default, so an op defines only what it has.
    """
    kind: str = ""             # the TFLite builtin name, e.g. "CONV_2D"
    options_class = None       # tflite.*Options class for the builtin options table
    custom_code: str | None = None  # a custom op: its custom_code in the file (then ``kind`` is
    #                            the name TFLite Micro registers it under); ``read_options`` gets
    #                            the custom options bytes (a flexbuffer)
    kernel: str | None = None  # runtime/kernels/<kernel>.c/.h

    # -- facts about the op's inputs (the model validator, fold_constants, ...) ---------------
    optional_inputs: frozenset[int] = frozenset()   # input slots the model may leave absent (-1)
    unread_inputs: frozenset[int] = frozenset()     # input slots whose contents are never read (only
    #                                                 their constant value or shape): need no writer
    value_inputs: tuple[int, ...] | None = None     # slots the op's value depends on (fold_constants);
    #                                                 None: every present input; (): none (SHAPE)
    activation_input: int = 0  # the slot of the activation input (for hybrid detection)
    records_float16_input = False  # the frontend sets attrs["from_float16"] when input 0 was a
    #                                float16 constant (widened to float32)
    writes_nothing = False     # the op may have no output tensor (ASSIGN_VARIABLE, CALL_ONCE)
    state_inputs: frozenset[int] = frozenset()  # slots that take a state tensor (ir.Tensor.variable),
    #                            which the kernel reads and updates in place (SVDF's activation state)
    variable_role: str | None = None  # resource variables, resolved by the frontend into state
    #                            tensors: "handle" (VAR_HANDLE), "read", "assign", "call_once"
    subgraph_attrs: tuple[str, ...] = ()  # attrs holding the indices of the subgraphs the op runs
    #                            (IF, WHILE): the frontend loads each into graph["subgraphs"], the
    #                            pipeline compiles and plans it first, codegen makes it a function

    # -- facts the rewriting passes use ---------------------------------------------------------
    is_view = False            # output 0 is input 0's bytes under another shape (alias_reshapes)
    zero_copy_join = False     # inputs may be written in place inside the output (alias_concats,
    #                            with ``block_index``)
    clamp_keys: tuple[str, str] | None = None  # the kernel clamps its output to these fields of its
    #                            params (int8 or int16, float32): fuse_ops folds a following activation into it
    fused_activation: str | None = None   # the op is this fused activation ("RELU", ...) on its own:
    #                            fuse_ops folds it into its producer's clamp
    constant_bound: str | None = None     # "lo" / "hi": int8 with a constant scalar the op is a clamp
    #                            from below (MAXIMUM) / above (MINIMUM)
    table_kernel = False       # the int8 kernel is one 256-entry table, ``TableParams.lut`` (fuse_ops
    #                            chains tables; fold_constants applies them)
    is_constant_pad = False    # pads with one constant value (fuse_ops folds it into a window op)
    absorbs_pad: str | None = None  # a window op that can take explicit padding in place of a PAD
    #                            before it: "zero_point" (padding contributes the input zero point,
    #                            as a convolution's) or "lowest" (padding may be any value <= every
    #                            input, as max pooling's)

    compressed_slot: int | None = None  # the input slot of constant weights the op's kernel can
    #                            read compressed (compress_weights, with ``weight_rows``)

    def read_options(self, opts) -> dict:
        """Decode the flatbuffer builtin options (an ``options_class`` instance, or None; a custom
        op's options bytes) into attrs."""
        return {}

    def ends_invoke_early(self, o: ir.Op) -> bool:
        """The op may end the invoke (TFLite Micro's kTfLiteAbort: the ops after it do not run,
        NAME_invoke() returns NAME_NOT_READY); its ``emit`` returns from the run then. The planner
        keeps the model's outputs apart from every other buffer, so they keep their values."""
        return False

    def internal_state(self, g, o: ir.Op) -> list[ir.Tensor]:
        """State the kernel keeps from one invoke to the next that the model holds no tensor for
        (the signal library's delay lines): the frontend appends these state tensors
        (``ir.Tensor.variable``, zero at the start, as TFLite Micro's Prepare and Reset leave
        them) to the op's inputs, whose slots ``state_inputs`` names."""
        return []

    def check(self, g, o: ir.Op) -> None:
        """Type and shape rules: raise ``self.fail(...)`` for anything the kernel cannot compute."""

    def output_shapes(self, g, o: ir.Op) -> list[tuple[int, ...]] | None:
        """The outputs' shapes as the op computes them from its inputs' shapes and constant
        operands, where its rules fix them (RESHAPE: its shape operand), else None. Settles the
        dynamic tensors whose stored shapes are placeholders (``shapes.settle_dynamic_outputs``)."""
        return None

    def prepare(self, g, o: ir.Op) -> ir.Params:
        """Compile-time constants of the kernel, what TFLite Micro computes in Prepare
        (``fold_quantization`` stores them in ``Op.params``): a frozen dataclass of the op's
        family derived from ``ir.Params``, its fields what the kernel's params struct holds."""
        return ir.Params()

    def evaluate(self, g, o: ir.Op, inputs: list) -> list | None:
        """The outputs for constant inputs (``fold_constants``; inputs not in ``value_inputs`` are
        None), bit-exact with the kernel, or None when they cannot be told at compile time.
        Default: an int8 -> int8 op whose ``prepare`` gives a 256-entry table applies it."""
        if len(o.outputs) != 1 or len(inputs) != 1:
            return None
        if ir.tensor(g, o.inputs[0]).dtype != "int8" or ir.tensor(g, o.outputs[0]).dtype != "int8":
            return None
        p = self.prepare(g, o)
        if not isinstance(p, TableParams):
            return None
        return [np.asarray(p.lut, np.int8)[np.asarray(inputs[0]).astype(np.int64) & 0xFF]]

    def tflm_reference_reliable(self, g, o: ir.Op) -> bool:
        """False when TFLite Micro cannot be this op's reference: it has no kernel for the op or
        its types (SELECT, TOPK_V2, int32 FLOOR_DIV, 5-D STRIDED_SLICE, ...), or its kernel
        computes it unreliably (it reads memory it never set). ``verify`` and the tests then
        check the model against TFLite's reference kernels instead, saying so."""
        return True

    def plain_only(self, g, o: ir.Op) -> bool:
        """True when only the op's plain kernel computes it as its reference does (no variant,
        no compressed-weight kernel): e.g. FULLY_CONNECTED rounding once, as TFLite's kernel."""
        return False

    def reference_note(self, g, o: ir.Op) -> str:
        """One line ``verify`` prints when this op follows TFLite's arithmetic where TFLite
        Micro's differs (the model's reference is TFLite: ``tflite_reference``), else ""."""
        return ""

    def reference_unset(self, g, o: ir.Op, outputs: list, run: int) -> list | None:
        """The elements of its outputs the reference leaves as they were on a run (it writes them
        only on some runs, or only from some run of a sequence on), given the reference's
        ``outputs`` of the op (None where one is not a model output) and the run's index ``run``
        in the sequence (0 first): per output a boolean mask of its shape, or None (all written).
        ``verify`` compares the other elements only. Default: every element is written."""
        return None

    def emit(self, g, o: ir.Op, ctx) -> None:
        """The op's constants and kernel call, through ``ctx`` (a ``codegen.Emitter``)."""
        raise NotImplementedError

    def macs(self, g, o: ir.Op) -> int:
        """Multiply-accumulates of one run, for reports."""
        return 0

    def weight_rows(self, g, o: ir.Op) -> np.ndarray | None:
        """The int8 weights of ``compressed_slot`` as the op's compressed kernel reads them: a
        matrix [output channels][weights of one output] (see tinycc/compress.py), or None when
        that kernel does not apply (activations not int8, ...)."""
        return None

    def scratch_bytes(self, g, o: ir.Op) -> int:
        """Bytes of arena scratch the kernel needs while it runs (``Emitter.scratch`` points at it)."""
        return 0

    def overlap(self, g, o: ir.Op, slot: int) -> tuple[str, int] | None:
        """How the output may share memory with input ``slot`` when that input dies here.

        With d = offset(out) - offset(in) in bytes:
        ("at_most", s): any d <= s is safe (the default, derived from ``reads_min``);
        ("exactly", s): only d == s is safe;
        ("multiple", m): any d that is a multiple of m is safe;
        None: the output must never overlap this input.
        """
        shift = overlap_shift(g, o, slot)
        return None if shift is None else ("at_most", shift)

    def reads_min(self, g, o: ir.Op, slot: int) -> np.ndarray | None:
        """The kernel's access pattern on input ``slot``, for sharing memory with the output.

        Returns, for every output element in the order the kernel writes them, the lowest
        element index of that input the kernel reads after writing the previous output
        element (NO_READ when it reads none). None means the output must never overlap
        this input. ``overlap_shift`` turns this into the planner's rule.
        """
        return None

    def block_index(self, g, o: ir.Op, k: int) -> np.ndarray:
        """A ``zero_copy_join``: the flat output element index of every element of input ``k``."""
        raise NotImplementedError

    def requant(self, g, o: ir.Op, k: int):
        """A ``zero_copy_join``: how input ``k`` is rescaled to the output's quantization (the
        kernel's (scale, bias, out_zp)), or None when its bytes are copied as they are; only such
        inputs may be written in place inside the output (alias_concats)."""
        return None

    def window(self, g, o: ir.Op) -> tuple[int, int, int, int]:
        """An op that ``absorbs_pad``: (filter_h, filter_w, dilation_h, dilation_w) of its window."""
        raise NotImplementedError

    def output_clamp(self, o: ir.Op, dtype: str) -> tuple | None:
        """(lo, hi) the kernel clamps its ``dtype`` output to (``clamp_keys``), or None."""
        if self.clamp_keys is None:
            return None
        return o.params.get(self.clamp_keys[0 if dtype in QUANTIZED_DTYPES else 1])

    def with_output_clamp(self, o: ir.Op, dtype: str, rng: tuple) -> ir.Op:
        """The op with its output clamp narrowed to ``rng`` (``fuse_ops``)."""
        key = self.clamp_keys[0 if dtype in QUANTIZED_DTYPES else 1]
        return dataclasses.replace(o, params=dataclasses.replace(o.params, **{key: rng}))

    # -- helpers for subclasses -------------------------------------------------
    def fail(self, o: ir.Op, msg: str, tensor: str | None = None) -> TinyccError:
        """The one-line error naming the op (and ``tensor``) for ``raise self.fail(o, ...)``."""
        return TinyccError(msg, op_index=o.index, op_kind=o.kind, tensor=tensor)

    def expect_arity(self, o: ir.Op, n_in: tuple[int, int], n_out: int = 1) -> None:
        """Between n_in[0] and n_in[1] inputs (the first n_in[0] present) and ``n_out`` outputs."""
        present = len(o.inputs)
        if not n_in[0] <= present <= n_in[1]:
            raise self.fail(o, f"expects {n_in[0]}..{n_in[1]} inputs, has {present}")
        if len(o.outputs) != n_out:
            raise self.fail(o, f"expects {n_out} output(s), has {len(o.outputs)}")
        for i, t in enumerate(o.inputs[:n_in[0]]):
            if t is None:
                raise self.fail(o, f"required input {i} is missing")

    def dtype_of(self, g, o: ir.Op, int16: bool = False) -> str:
        """The op's activation dtype (int8 or float32, and int16 when the op has 16x8 kernels),
        checked across its inputs and outputs. int16 activations are symmetric (zero point 0),
        as TFLite's 16x8 quantization specifies and TFLite Micro checks."""
        dt = ir.tensor(g, o.inputs[0]).dtype
        allowed = ("int8", "int16", "float32") if int16 else ("int8", "float32")
        if dt not in allowed:
            raise self.fail(o, f"input type {dt} is not supported ({' or '.join(allowed)})",
                            ir.tensor(g, o.inputs[0]).name)
        for t in [o.inputs[0], *o.outputs]:
            tt = ir.tensor(g, t)
            if tt.dtype != dt:
                raise self.fail(o, f"mixed types {dt} and {tt.dtype}", tt.name)
            if dt != "float32" and (tt.quant is None or tt.quant.per_channel):
                raise self.fail(o, f"{dt} activations need per-tensor quantization", tt.name)
            if dt == "int16" and tt.quant.zero_point[0] != 0:
                raise self.fail(o, "int16 activations need a zero point of 0", tt.name)
        return dt

    def expect_shape(self, g, o: ir.Op, tid: str, shape) -> None:
        """Tensor ``tid`` has exactly ``shape``."""
        t = ir.tensor(g, tid)
        if tuple(t.shape) != tuple(shape):
            raise self.fail(o, f"shape {list(t.shape)} does not match the expected {list(shape)}", t.name)


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class TableParams(ir.Params):
    """An int8 op whose kernel is one 256-entry table (``OpDef.table_kernel``): tcc_lut_s8's
    table, indexed by the input byte."""
    lut: np.ndarray


def register(cls):
    """Class decorator: instantiate and register an OpDef under its ``kind``."""
    inst = cls()
    _REGISTRY[inst.kind] = inst
    return cls


def lookup(kind: str) -> OpDef | None:
    if kind not in _REGISTRY:
        _load(kind)
    return _REGISTRY.get(kind)


def flexbuffer_map(raw) -> dict:
    """A custom op's options bytes as the flexbuffer map they hold ({} for none); anything else is
    one clear refusal."""
    from flatbuffers import flexbuffers
    if not raw:
        return {}
    try:
        m = flexbuffers.Loads(bytes(raw))
    except Exception:  # noqa: BLE001 - any malformed flexbuffer is one clear refusal
        raise TinyccError("custom options are not a valid flexbuffer") from None
    if not isinstance(m, dict):
        raise TinyccError("custom options are not a flexbuffer map")
    return m


def lookup_custom(custom_code: str) -> OpDef | None:
    """The op that declares this ``custom_code`` (e.g. "TFLite_Detection_PostProcess"), or None."""
    _load()
    return next((d for d in _REGISTRY.values() if d.custom_code == custom_code), None)


def supported() -> list[str]:
    _load()
    return sorted(_REGISTRY)


_loaded = False
_NAMED: dict[str, list[str]] = {}      # "KIND" -> the op modules whose text holds that string


def _load(kind: str | None = None) -> None:
    """Import the op modules (_*.py: base classes and helpers shared by several ops): with ``kind``,
    first only those whose text names it (a build imports the few its model uses, ~0.1 s of CPU
    less: issue 19), all of them if that does not register it."""
    global _loaded
    if _loaded:
        return
    modules = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    if kind is not None:
        if not _NAMED:
            for name in modules:
                try:
                    text = (Path(__file__).parent / f"{name}.py").read_text()
                except OSError:         # no source (bytecode only): found by the full load below
                    text = ""
                for k in set(re.findall(r"[\"']([A-Z][A-Z0-9_]*)[\"']", text)):
                    _NAMED.setdefault(k, []).append(name)
        for name in _NAMED.get(kind, ()):
            importlib.import_module(f"{__name__}.{name}")
        if kind in _REGISTRY:
            return
    _loaded = True
    for name in modules:
        importlib.import_module(f"{__name__}.{name}")


NO_READ = overlap.NO_READ


def kernel_impl(o: ir.Op) -> str:
    """The kernel ``pack_weights`` chose for the op: its packed ``impl`` (the name of a unit in
    tinycc/variants), or "plain"."""
    pk = o.params.packed
    return "plain" if pk is None else pk.impl


def compressed_weights(ctx, o: ir.Op) -> str | None:
    """The op's compressed weights (``compress_weights``) as a tcc_wcode struct (its C name, to
    pass to the tcc_*_s8c kernel), or None when its weights are plain int8."""
    code = o.params.compressed
    if code is None:
        return None
    ctx.use("WINT4" if code.encoding == "int4" else f"WPALETTE{code.bits}")   # its decoding loop
    table_of = None if code.table_of is None else ctx.const_array(o, "wtable_of", "uint8_t", code.table_of)
    return ctx.struct(o, "tcc_wcode", [("bits", code.bits),
                                       ("index", ctx.const_array(o, "windex", "uint8_t", code.index)),
                                       ("table", None if code.encoding == "int4" else
                                        ctx.const_array(o, "wtable", "int8_t", code.table)),
                                       ("table_of", table_of), ("per_channel", int(code.per_channel))], "wcode")


def tflite_reference(g) -> bool:
    """Some op of ``g`` says TFLite Micro cannot be its reference (``tflm_reference_reliable``):
    the model is checked against TFLite's reference kernels, so where those and TFLite Micro's
    compute an op differently (FULLY_CONNECTED's rounding) the op follows TFLite.
    ``check_operators`` stores the answer in ``g.graph["tflite_reference"]``. So does a model whose
    stored shapes are placeholders that the ops' rules had to settle (``shapes.settle_dynamic_outputs``:
    a dynamic batch that SPACE_TO_BATCH_ND multiplies): TFLite Micro cannot resize them."""
    return g.graph.get("settled_shapes", False) or any(not lookup(ir.op(g, n).kind).tflm_reference_reliable(g, ir.op(g, n))
               for n in g.nodes if ir.is_op(g, n))


def overlap_rule(g, o: ir.Op, slot: int) -> tuple[str, int] | None:
    """The op's overlap rule for input ``slot`` (see ``OpDef.overlap``); None if the dtypes differ."""
    return lookup(o.kind).overlap(g, o, slot)


def overlap_shift(g, o: ir.Op, slot: int) -> int | None:
    """Largest ``offset(output) - offset(input)`` in bytes at which the output may overlap input
    ``slot``, from the kernel's ``reads_min`` (the rule: ``tinycc.overlap.shift_from_reads``).
    None when the op's kernel does not allow sharing."""
    r = lookup(o.kind).reads_min(g, o, slot)
    if r is None:
        return None
    x, y = ir.tensor(g, o.inputs[slot]), ir.tensor(g, o.outputs[0])
    assert np.size(r) == y.size, f"{o.kind}: access pattern has {np.size(r)} entries for {y.size} outputs"
    return overlap.shift_from_reads(r, x.nbytes, ir.DTYPE_SIZE[x.dtype], ir.DTYPE_SIZE[y.dtype])


def int32_shape_arithmetic(g, o: ir.Op) -> bool:
    """An int32 ADD/SUB/MUL/MAXIMUM/MINIMUM whose inputs are all constants: shape arithmetic the
    converter leaves in (e.g. ``tf.shape(x)[1] * tf.shape(x)[2]`` after SHAPE is folded).
    fold_constants computes it (``int32_arithmetic``); no kernel is ever emitted for it."""
    ts = [t for t in (*o.inputs, *o.outputs) if t is not None]
    return (len(o.inputs) == 2 and all(t is not None and ir.tensor(g, t).is_const for t in o.inputs)
            and all(ir.tensor(g, t).dtype == "int32" for t in ts))


INT32_RANGE = {"NONE": (-2**31, 2**31 - 1), "RELU": (0, 2**31 - 1), "RELU6": (0, 6), "RELU_N1_TO_1": (-1, 1)}
"""The clamp of each fused activation on int32 results."""


def int32_arithmetic(kind: str, a: np.ndarray, b: np.ndarray, activation: str = "NONE") -> np.ndarray:
    """TFLite's int32 element-wise arithmetic with broadcasting, wrapping like two's complement
    (TFLite's int32 overflow is undefined; shapes never overflow), then the activation clamp."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    r = {"ADD": np.add, "SUB": np.subtract, "MUL": np.multiply, "MAXIMUM": np.maximum,
         "MINIMUM": np.minimum}[kind](a, b)
    r = ((r + 2**31) % 2**32 - 2**31).astype(np.int64)
    lo, hi = INT32_RANGE[activation]
    return np.clip(r, lo, hi).astype(np.int32)


def window_first(in_size: int, out_size: int, stride: int, pad: int, k: int, dil: int = 1) -> np.ndarray:
    """For each output coordinate, the first input coordinate inside [0, in_size) its window
    touches (taps in increasing order), or -1 when the whole window is padding."""
    start = np.arange(out_size, dtype=np.int64) * stride - pad     # tap 0 of each window
    j = np.where(start >= 0, 0, (-start + dil - 1) // dil)          # first tap at or past 0
    first = start + j * dil
    return np.where((j < k) & (first < in_size), first, -1)


def window_reads_min(n: int, h: int, w: int, c: int, fy: np.ndarray, fx: np.ndarray,
                     channel_of_output: np.ndarray) -> np.ndarray:
    """reads_min of an NHWC windowed kernel that writes (n, oy, ox, oc) in row-major order and,
    for each output element, reads its window starting at pixel (fy[oy], fx[ox]) and at
    input channel channel_of_output[oc]."""
    pix = fy[:, None] * w + fx[None, :]
    pix = np.where((fy[:, None] >= 0) & (fx[None, :] >= 0), pix, -1)
    base = (np.arange(n) * h * w * c)[:, None, None, None]
    idx = base + pix[None, :, :, None] * c + channel_of_output[None, None, None, :]
    return np.where(pix[None, :, :, None] >= 0, idx, NO_READ).ravel()


def is_hybrid_model(g) -> bool:
    """True when some op has int8 weights with float32 activations (dynamic-range quantization).

    TFLite Micro refuses such models, so their reference is TFLite, whose optimized float
    kernels round in a slightly different order; float kernels follow it for these models.
    """
    for n in g.nodes:
        o = g.nodes[n]["value"]
        if isinstance(o, ir.Op) and len(o.inputs) > 1 and o.inputs[1] is not None:
            xi = lookup(o.kind).activation_input
            xi = xi if len(o.inputs) > xi else 0
            x, w = ir.tensor(g, o.inputs[xi]), ir.tensor(g, o.inputs[1])
            if x.dtype == "float32" and w.dtype == "int8" and w.is_const:
                return True
    return False


def activation_range_int8(activation: str, scale: float, zero_point: int, dtype: str = "int8") -> tuple[int, int]:
    """Clamp bounds of a fused activation (ACTIVATIONS) in the output's quantized domain.

    TFLite computes zero_point + round(f / scale) in float32 and intersects with the range of
    the output type (int8, or int16 for the 16x8 kernels).
    """
    def q(f: float) -> int:
        return zero_point + quant.round_half_away(float(np.float32(f) / np.float32(scale)))

    lo, hi = ZERO_POINT_RANGE[dtype]
    if activation == "RELU":
        lo = max(lo, q(0.0))
    elif activation == "RELU6":
        lo, hi = max(lo, q(0.0)), min(hi, q(6.0))
    elif activation == "RELU_N1_TO_1":
        lo, hi = max(lo, q(-1.0)), min(hi, q(1.0))
    elif activation != "NONE":
        raise ValueError(f"fused activation {activation} is not supported")
    return lo, hi


def activation_range_float(activation: str) -> tuple[float, float]:
    inf = float("inf")
    return {"NONE": (-inf, inf), "RELU": (0.0, inf), "RELU6": (0.0, 6.0),
            "RELU_N1_TO_1": (-1.0, 1.0)}[activation]


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
