"""The base class of a kernel variant unit (see ``tinycc/variants/__init__.py``).

A *variant* is one fast kernel for one or more op kinds on some targets: one registered object,
in one module next to (and naming) its C file(s). Everything the compiler must know about the
variant is a method of its unit; the op's own module keeps the plain kernel only.

Writing a unit (``tinycc/variants/arm_conv8.py`` style)::

    @dataclass(frozen=True, eq=False)
    class Conv8Packed(Packed):
        impl: ClassVar[str] = "arm_conv8"    # == the unit's name
        weights: np.ndarray                  # int8, reordered only (same bytes)
        ...

    @register
    class ArmConv8(Variant):
        name = "arm_conv8"
        kinds = (Conv2D.kind,)               # the op class's kind: no kind literal outside ops/
        sources = ("arm/tcc_arm_conv8",)     # runtime/kernels/<source>.c (+ its header)
        def applies(self, g, o, target): ...   # cheap shape/dtype test, no packing
        def pack(self, g, o): ...              # -> Conv8Packed, or raise PackError
        def scratch_bytes(self, g, o, pk): ...
        def reads_min(self, g, o, slot, pk): ...     # or overlap(g, o, slot, pk)
        def cycles(self, g, o, pk): ...        # estimated Cortex-M4 cycles of one run
        entries = ("tcc_arm_conv8_1x1",)      # the C functions emit calls
        def emit(self, g, o, ctx, pk):
            params = ctx.struct(o, "tcc_arm_conv8_params", [...])
            self.call(ctx, o, f"tcc_arm_conv8_1x1(&{params}, ...);")

Rules: ``pk.impl`` names the unit (several units may share a layout by subclassing its
dataclass with another ``impl``); the packed dataclass is frozen and holds numpy arrays for the
constants (``flash_bytes`` counts them by default); ``emit`` calls the variant's own C entry
point, so the C never re-decides what the unit decided; ``applies`` and ``pack`` decline a case
the kernel cannot run exactly (``pack`` by raising ``PackError``, e.g. an accumulator bound).
In a C file with several entry points each is guarded by ``#ifndef TCC_OMIT_<NAME>`` (NAME: the
function without ``tcc_``, upper case) so that a model compiles only the ones it calls. Record
layouts are C structs in the kernel's header, mirrored field by field in Python and checked by a
test (``packing.DW3X3_RECORD`` and tests/test_variants.py); asm text takes offsets from macros
that the C checks against the struct. After adding or changing a unit or its C, run
``python scripts/measure_kernel_code.py`` (the code per kernel file and entry point that
``pack_weights`` spends the flash budget by, ``tinycc.flash_estimate``; tests/test_flash_estimate.py
checks it is fresh) and ``python scripts/measure_kernel_facts.py`` (tests/test_objcache.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, ops, overlap, packing
from ..packing import PackError  # noqa: F401  (units raise it from here)
from ..targets import DSP_TARGETS

# Estimated Cortex-M4 cycles per MAC of the plain portable kernels (tinycc bench on the shared
# models): what a variant's ``cycles`` is compared with.
PLAIN_CYCLES_PER_MAC = 8.5


@dataclass(frozen=True, eq=False)
class Packed:
    """The compile-time constants of one variant for one op (``Op.params.packed``). Subclasses add
    frozen fields (numpy arrays for constant data, plain ints/bools for the rest) and set
    ``impl`` to the name of the unit that emits them."""
    impl: ClassVar[str] = ""



def conv_geometry(g, o: ir.Op, dilation: bool = True) -> list[tuple[str, int]]:
    """The leading fields of the convolution units' params structs (tcc_arm_conv8_params,
    tcc_arm_convk_params, tcc_arm_conv_s8_params, tcc_sparse_conv_s8_params,
    tcc_arm_sparse_conv_params), in their C order: shapes, strides, dilations (``dilation``: the
    struct has them), padding and the input zero point."""
    p, a = o.params, o.attrs
    out_c, k_h, k_w, _ = ir.tensor(g, o.inputs[1]).shape
    return ([("batches", p.batches), ("in_h", p.in_h), ("in_w", p.in_w), ("in_c", ir.tensor(g, o.inputs[0]).shape[3]),
             ("out_h", p.out_h), ("out_w", p.out_w), ("out_c", out_c), ("k_h", k_h), ("k_w", k_w),
             ("stride_h", a["stride_h"]), ("stride_w", a["stride_w"])]
            + ([("dil_h", a["dilation_h"]), ("dil_w", a["dilation_w"])] if dilation else [])
            + [("pad_top", p.pad_top), ("pad_left", p.pad_left), ("in_zp", p.in_zp)])


def plain_cycles(g, o: ir.Op) -> float:
    """Estimated Cortex-M4 cycles of the op's plain kernel."""
    return PLAIN_CYCLES_PER_MAC * ops.lookup(o.kind).macs(g, o)


class Variant:
    """One fast kernel variant. Facts are class attributes, hooks are methods; the hooks without
    a default (``applies``, ``pack``, ``emit``) must be defined by every unit."""
    name: str = ""                            # unique; the ``impl`` of its packed dataclass
    kinds: tuple[str, ...] = ()               # op kinds it implements (``OpClass.kind``)
    targets: tuple[str, ...] = DSP_TARGETS    # cores it runs on
    needs_optimize: str | None = "speed"      # only under this ``--optimize`` mode (None: any)
    sources: tuple[str, ...] = ()             # its C files: runtime/kernels/<source>.c (+ .h)
    entries: tuple[str, ...] = ()             # the C functions its emit calls (guarded in the C by
    #                                           #ifndef TCC_OMIT_<NAME without tcc_, upper case>)
    cycles_per_mac: float | None = None       # a flat estimate for ``cycles`` (None: override it)
    stores_less: bool = False                 # its constants may take less flash than the plain kernel's
    #                                           (pruned weights without their zeros): when the plain build
    #                                           alone is over the flash budget, pack_weights packs only these

    # -- choosing ------------------------------------------------------------------------------
    def applies(self, g, o: ir.Op, target: str) -> bool:
        """Whether the variant can run this op on ``target`` (dtypes, shapes, attrs): a cheap test
        made before ``pack``. ``variants_for`` has already checked ``kinds`` and ``targets``."""
        raise NotImplementedError(f"{self.name}.applies")

    def pack(self, g, o: ir.Op) -> Packed:
        """The variant's constants for this op (reordered int8 weights, requantization records, ...),
        or raise ``PackError`` when the kernel cannot compute these constants exactly."""
        raise NotImplementedError(f"{self.name}.pack")

    def packs(self, g, o: ir.Op) -> list[Packed]:
        """Every packing of this variant for the op, fastest first (e.g. the same kernel with less
        scratch: ``pack_weights`` steps down to the next one when the arena is over budget). By
        default the one of ``pack``. May raise ``PackError``."""
        return [self.pack(g, o)]

    def cycles(self, g, o: ir.Op, pk: Packed) -> float:
        """Estimated Cortex-M4 cycles of one run (``tinycc.cycles``' model: TRM timings, zero wait
        states), used to rank variants and to spend the flash budget. Default: ``cycles_per_mac``
        x the op's MACs."""
        if self.cycles_per_mac is None:
            raise NotImplementedError(f"{self.name}.cycles")
        return self.cycles_per_mac * ops.lookup(o.kind).macs(g, o)

    def plain_cycles(self, g, o: ir.Op) -> float:
        """Estimated Cortex-M4 cycles of the op's plain kernel, which ``cycles`` is compared with
        (the cycles a choice of this variant saves). Default: ``PLAIN_CYCLES_PER_MAC`` x MACs; a
        unit for an op without MACs (ADD, pooling) counts its elements instead."""
        return plain_cycles(g, o)

    # -- memory --------------------------------------------------------------------------------
    def scratch_bytes(self, g, o: ir.Op, pk: Packed) -> int:
        """Bytes of arena scratch the kernel needs while it runs (``Emitter.scratch``)."""
        return 0

    def reads_min(self, g, o: ir.Op, slot: int, pk: Packed) -> np.ndarray | None:
        """The kernel's access order on input ``slot`` (``OpDef.reads_min``'s convention: per output
        element in write order, the lowest input element read before it and after the previous
        write; ``overlap.NO_READ`` for none). None: never share memory with this input."""
        return None

    def overlap(self, g, o: ir.Op, slot: int, pk: Packed) -> tuple[str, int] | None:
        """How the output may share memory with input ``slot`` (``OpDef.overlap``'s rules); by
        default ("at_most", s) from ``reads_min``."""
        r = self.reads_min(g, o, slot, pk)
        if r is None:
            return None
        x, y = ir.tensor(g, o.inputs[slot]), ir.tensor(g, o.outputs[0])
        assert np.size(r) == y.size, f"{self.name}: access pattern has {np.size(r)} entries for {y.size} outputs"
        shift = overlap.shift_from_reads(r, x.nbytes, ir.DTYPE_SIZE[x.dtype], ir.DTYPE_SIZE[y.dtype])
        return None if shift is None else ("at_most", shift)

    # -- flash ---------------------------------------------------------------------------------
    def flash_bytes(self, g, o: ir.Op, pk: Packed) -> int:
        """Bytes of constants ``emit`` writes for this op (by default every numpy array of ``pk``)."""
        return packing.const_bytes(pk)

    def weight_code(self, g, o: ir.Op, pk: Packed) -> tuple[str, int] | None:
        """How the unit stores the op's weights, for the memory report: (encoding, bytes), e.g.
        ("sparse", 1040). None: "<unit> layout", its ``weights`` (or ``records``) array's bytes."""
        return None

    def decodes(self) -> bool:
        """Whether the unit reads its weights in another encoding than int8 (the memory report
        gives its decode cost: ``cycles`` minus its int8 twin's estimate): a unit reading
        compressed weights (``reads_compressed``, tinycc/variants/arm_palette.py) does."""
        return bool(getattr(self, "reads_compressed", False))

    # -- code ----------------------------------------------------------------------------------
    def emit(self, g, o: ir.Op, ctx, pk: Packed) -> None:
        """The op's constants and the call of the variant's own entry point, through ``ctx`` (a
        ``codegen.Emitter``); end with ``self.call(ctx, o, stmt)``."""
        raise NotImplementedError(f"{self.name}.emit")

    def call(self, ctx, o: ir.Op, stmt: str) -> None:
        """Emit the kernel call ``stmt`` and keep the variant's C files in the output folder."""
        ctx.call(o, stmt, None)
        for s in self.sources:
            ctx.kernels.add(s)
