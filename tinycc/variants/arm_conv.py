"""arm_conv_store, arm_conv_blocks, arm_conv_pw: int8 CONV_2D (groups 1) with weights as pre-scaled
int16 pair words (``packing.pack_conv``; twice the flash of int8 weights), im2col of 2 output
pixels into the scratch (runtime/kernels/arm/tcc_arm_conv.c, layouts in tcc_arm.h). One C entry
point per unit, the same ``tcc_arm_conv_s8_params``:

* ``arm_conv_pw`` (``tcc_arm_conv_s8_pw8`` / ``_pw16``): 1x1, stride 1, no padding, no clamp, 8 or
  16 input channels, out_c % 4 == 0: per output channel one record (pair words, bias, rq) loaded
  with LDM, each pixel's inputs in registers (``packing.conv_records``); an odd last pixel goes
  through the weights of ``arm_conv_store`` (emitted only then, with the scratch);
* ``arm_conv_blocks`` (``tcc_arm_conv_s8_blocks``): no clamp, out_c even: the 2 pixels x 2
  channels asm matmul ``mm2`` on one stream of biases, pair words and rq (``packing.conv_blocks``);
* ``arm_conv_store`` (``tcc_arm_conv_s8_store``): any geometry and clamp, 2 pixels x 4 channels
  in C (``weights``, ``bias``, ``rq``);
* ``arm_conv_pw8_pairs`` (``tcc_arm_conv_s8_pw8_pairs``): ``arm_conv_pw``'s 8-channel records for
  an even pixel count, the asm loop alone (no scratch, no fallback: ~450 B of code against
  ``arm_conv_pw``'s 5 KB, so it fits where flash is short).

``pack_conv`` computes all three layouts at once; it runs once per op (``_packed``)."""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import ir, packing
from ..ops.conv2d import Conv2D, is_hybrid
from . import Packed, Variant, conv_geometry, register

_PACKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # o.params -> pack_conv's dict or error


def _packed(g, o) -> dict:
    """``packing.pack_conv`` of the op's constants, computed once for the three units."""
    if o.params not in _PACKS:
        p, w = o.params, ir.tensor(g, o.inputs[1])
        try:
            _PACKS[o.params] = packing.pack_conv(w.data, p.bias, p.mult, p.shift, p.out_zp)
        except packing.PackError as e:
            _PACKS[o.params] = e
    r = _PACKS[o.params]
    if isinstance(r, packing.PackError):
        raise r
    return r


def no_clamp(act_range) -> bool:
    return tuple(act_range) == (-128, 127)


def pointwise(k_h, k_w, stride_h, stride_w, pad_top, pad_left) -> bool:
    return k_h == k_w == 1 and stride_h == stride_w == 1 and pad_top == pad_left == 0


def entry(pk: dict, in_c, k_h, k_w, stride_h, stride_w, pad_top, pad_left, act_range) -> str:
    """The fastest entry point for a layer packed by ``packing.pack_conv`` (what pack_weights picks
    when RAM and flash allow): "pw8" / "pw16", "blocks" or "store" (tests call the kernel so)."""
    if pk["records"] is not None and no_clamp(act_range) and pointwise(k_h, k_w, stride_h, stride_w, pad_top,
                                                                        pad_left):
        return f"pw{in_c}"
    return "blocks" if pk["blocks"] is not None and no_clamp(act_range) else "store"


@dataclass(frozen=True, eq=False)
class ConvStorePacked(Packed):
    impl: ClassVar[str] = "arm_conv_store"
    k_packed: int
    weights: np.ndarray | None          # None: not emitted (arm_conv_pw with an even pixel count)
    bias: np.ndarray | None
    rq: np.ndarray | None


@dataclass(frozen=True, eq=False)
class ConvBlocksPacked(Packed):
    impl: ClassVar[str] = "arm_conv_blocks"
    k_packed: int
    blocks: np.ndarray


@dataclass(frozen=True, eq=False)
class ConvPWPacked(ConvStorePacked):
    impl: ClassVar[str] = "arm_conv_pw"
    records: np.ndarray = None


# estimated Cortex-M4 cycles (tinycc bench on vww_96_int8's early layers, tinycc/cycles.py's model)
BLOCKS_OUT, BLOCKS_PAIR = 12.3, 2.38      # arm_conv_blocks per output: mm2's overhead, per pair word of K4
BLOCKS_PIXEL_PW, BLOCKS_PIXEL_K4 = 83, 4.3   # per pixel: 1x1 (expand2, the call); else per value of K4
STORE_OUT, STORE_VALUE = 21.3, 1.06      # arm_conv_store per output, per value of K4 (matmul_store)
STORE_PIXEL_PW, STORE_PIXEL_K4 = 19, 6.5  # per pixel: 1x1 (expand2); else per value of K4 (im2col)
PW_OUT = {8: 20.5, 16: 31.5}              # pw8 / pw16 per output (LDM of the record, SMLAD, rq, STRB)
PW_PIXEL = 15                             # per pixel (its words widened, the loop)


def blocks_cycles(pixels: int, out_c: int, k4: int, pointwise_: bool) -> float:
    """arm_conv_blocks: 18 cycles per 16 MACs in mm2 plus its per-output and per-pixel costs
    (vww: 2.25 / 3.37 / 2.12 / 1.65 cycles per MAC at K4 = 28 / 8 / 16 / 32, within 3 %)."""
    per_pixel = BLOCKS_PIXEL_PW if pointwise_ else BLOCKS_PIXEL_K4 * k4
    return pixels * (out_c * (BLOCKS_OUT + BLOCKS_PAIR * k4 / 2) + per_pixel)


def _geometry(g, o) -> tuple[int, int, int, bool]:
    """(pixels, out_c, K4, pointwise) of a conv op."""
    p, a = o.params, o.attrs
    out_c, k_h, k_w, in_c = ir.tensor(g, o.inputs[1]).shape
    pw = pointwise(k_h, k_w, a["stride_h"], a["stride_w"], p.pad_top, p.pad_left)
    return p.batches * p.out_h * p.out_w, out_c, packing.k4(k_h * k_w * in_c), pw


class _ArmConv(Variant):
    kinds = (Conv2D.kind,)
    sources = ("arm/tcc_arm_conv",)

    def applies(self, g, o, target):
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        return x.dtype == "int8" and not is_hybrid(g, o) and w.shape[3] == x.shape[3]

    def scratch_bytes(self, g, o, pk):
        """im2col of 2 pixels (packing.conv_scratch_bytes)."""
        w = ir.tensor(g, o.inputs[1])
        return packing.conv_scratch_bytes(w.shape[1], w.shape[2], w.shape[3], w.shape[0])

    def reads_min(self, g, o, slot, pk):
        """Blocks of 2 pixels: both windows read, then all their outputs written
        (packing.reads_min_conv)."""
        if slot != 0:
            return None
        x, w = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        p, a = o.params, o.attrs
        out_c, k_h, k_w, _ = w.shape
        return packing.reads_min_conv(p.batches, p.in_h, p.in_w, x.shape[3], p.out_h, p.out_w, out_c, k_h, k_w,
                                      a["stride_h"], a["stride_w"], p.pad_top, p.pad_left, a["dilation_h"],
                                      a["dilation_w"])

    def fields(self, g, o, ctx, pk, **arrays) -> list:
        p = o.params
        fields = conv_geometry(g, o) + [("act_min", p.act_range[0]), ("act_max", p.act_range[1]),
                                        ("k_packed", pk.k_packed)]
        for name in ("weights", "bias", "rq", "records", "blocks"):
            v = arrays.get(name)
            if v is None:
                fields.append((name, None))
            elif name == "rq":
                fields.append((name, ctx.const_records(o, "rq", "tcc_arm_rq", v)))
            else:
                fields.append((name, ctx.const_array(o, name, "int32_t", v)))
        return fields

    def call_entry(self, g, o, ctx, name: str, fields: list, scratch: bool = True) -> None:
        params = ctx.struct(o, "tcc_arm_conv_s8_params", fields)
        self.call(ctx, o, f"tcc_arm_conv_s8_{name}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, "
                          f"{ctx.scratch(o) if scratch else 'NULL'});")


@register
class ArmConvStore(_ArmConv):
    name = "arm_conv_store"
    entries = ("tcc_arm_conv_s8_store",)

    def cycles(self, g, o, pk):
        """(vww: 2.74 / 3.88 / 2.43 cycles per MAC at K4 = 28 / 8 / 16, within 2 %)"""
        pixels, out_c, k4, pw = _geometry(g, o)
        return pixels * (out_c * (STORE_OUT + STORE_VALUE * k4) + (STORE_PIXEL_PW if pw else STORE_PIXEL_K4 * k4))

    def pack(self, g, o):
        pk = _packed(g, o)
        return ConvStorePacked(k_packed=pk["k_packed"], weights=pk["weights"], bias=pk["bias"], rq=pk["rq"])

    def emit(self, g, o, ctx, pk):
        self.call_entry(g, o, ctx, "store", self.fields(g, o, ctx, pk, weights=pk.weights, bias=pk.bias, rq=pk.rq))


@register
class ArmConvBlocks(_ArmConv):
    name = "arm_conv_blocks"
    entries = ("tcc_arm_conv_s8_blocks",)

    def cycles(self, g, o, pk):
        return blocks_cycles(*_geometry(g, o))

    def applies(self, g, o, target):
        return super().applies(g, o, target) and no_clamp(o.params.act_range)

    def pack(self, g, o):
        pk = _packed(g, o)
        if pk["blocks"] is None:
            raise packing.PackError("no 2x2 blocks for this layer (out_c odd, or a channel with shift 0)")
        return ConvBlocksPacked(k_packed=pk["k_packed"], blocks=pk["blocks"])

    def emit(self, g, o, ctx, pk):
        self.call_entry(g, o, ctx, "blocks", self.fields(g, o, ctx, pk, blocks=pk.blocks))


@register
class ArmConvPW(_ArmConv):
    name = "arm_conv_pw"
    entries = ("tcc_arm_conv_s8_pw8", "tcc_arm_conv_s8_pw16")

    def cycles(self, g, o, pk):
        """(vww: 2.62 / 2.00 cycles per MAC on 8 / 16 input channels, within 2 %)"""
        pixels, out_c, k4, _ = _geometry(g, o)
        return pixels * (out_c * PW_OUT[k4] + PW_PIXEL)

    def applies(self, g, o, target):
        w, p, a = ir.tensor(g, o.inputs[1]), o.params, o.attrs
        return (super().applies(g, o, target) and no_clamp(p.act_range) and w.shape[3] in (8, 16)
                and pointwise(w.shape[1], w.shape[2], a["stride_h"], a["stride_w"], p.pad_top, p.pad_left))

    def _odd(self, o) -> bool:
        p = o.params
        return p.batches * p.out_h * p.out_w % 2 == 1

    def pack(self, g, o):
        pk = _packed(g, o)
        if pk["records"] is None:
            raise packing.PackError("no 1x1 records for this layer (out_c % 4, or a channel with shift 0)")
        odd = self._odd(o)
        return ConvPWPacked(k_packed=pk["k_packed"], records=pk["records"], weights=pk["weights"] if odd else None,
                            bias=pk["bias"] if odd else None, rq=pk["rq"] if odd else None)

    def scratch_bytes(self, g, o, pk):
        """None unless the pixel count is odd (the last pixel then goes through the im2col)."""
        return super().scratch_bytes(g, o, pk) if self._odd(o) else 0

    def emit(self, g, o, ctx, pk):
        odd = self._odd(o)
        fields = self.fields(g, o, ctx, pk, records=pk.records, weights=pk.weights, bias=pk.bias, rq=pk.rq)
        self.call_entry(g, o, ctx, f"pw{ir.tensor(g, o.inputs[1]).shape[3]}", fields, scratch=odd)


@dataclass(frozen=True, eq=False)
class ConvPW8PairsPacked(Packed):
    impl: ClassVar[str] = "arm_conv_pw8_pairs"
    k_packed: int
    records: np.ndarray


@register
class ArmConvPW8Pairs(_ArmConv):
    name = "arm_conv_pw8_pairs"
    entries = ("tcc_arm_conv_s8_pw8_pairs",)

    def applies(self, g, o, target):
        w, p, a = ir.tensor(g, o.inputs[1]), o.params, o.attrs
        return (super().applies(g, o, target) and no_clamp(p.act_range) and w.shape[3] == 8
                and pointwise(w.shape[1], w.shape[2], a["stride_h"], a["stride_w"], p.pad_top, p.pad_left)
                and p.batches * p.out_h * p.out_w % 2 == 0)

    def pack(self, g, o):
        pk = _packed(g, o)
        if pk["records"] is None:
            raise packing.PackError("no 1x1 records for this layer (out_c % 4, or a channel with shift 0)")
        return ConvPW8PairsPacked(k_packed=pk["k_packed"], records=pk["records"])

    def scratch_bytes(self, g, o, pk):
        return 0

    def cycles(self, g, o, pk):
        pixels, out_c, _, _ = _geometry(g, o)
        return pixels * (out_c * PW_OUT[8] + PW_PIXEL)

    def emit(self, g, o, ctx, pk):
        fields = self.fields(g, o, ctx, pk, records=pk.records)
        params = ctx.struct(o, "tcc_arm_conv_s8_params", fields)
        self.call(ctx, o, f"tcc_arm_conv_s8_pw8_pairs(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});")
