"""arm_fc and arm_fc_int8: int8 FULLY_CONNECTED, 4 output rows at a time with SMLAD
(runtime/kernels/arm/tcc_arm_fc.c). One C entry point per packing:

* ``arm_fc``: weights as pre-scaled int16 pair words (``packing.pack_fc``, twice the flash of the
  int8 weights): ``tcc_arm_fc_s8_row`` (the input row expanded into the scratch first, 13
  instructions per 16 MACs) or ``tcc_arm_fc_s8_direct`` (in_depth % 4 == 0: input words expanded
  in registers, 15 per 16, no scratch);
* ``arm_fc_int8``: the weights kept int8 (``packing.pack_fc_int8``; the accumulator is shifted
  left by the row's ``lshift`` before requantization): ``tcc_arm_fc_s8_w8_row`` / ``_w8_direct``.

Code size: when the model's int8 FCs are only a classifier head (together fewer than
``FC_FAST_MIN_MACS`` MACs and under 1 % of the model's MACs), they keep the plain kernel:
tcc_arm_fc.c is ~2.5 KB of code against ~0.3 KB, for a saving of at most ~2 instructions per MAC
on a few hundred MACs."""
from __future__ import annotations

from dataclasses import replace

from .. import ir, packing
from ..ops.conv2d import is_hybrid
from ..ops.fully_connected import FullyConnected, fc_head_only
from . import Variant, register


def _row(o, pk) -> bool:
    """The entry that expands the input row into the scratch (always when in_depth % 4 != 0)."""
    return pk.row_in_scratch or o.params.in_depth % 4 != 0


class _ArmFC(Variant):
    kinds = (FullyConnected.kind,)
    sources = ("arm/tcc_arm_fc",)
    entry = ""                  # the C entry point's prefix

    def applies(self, g, o, target):
        return ir.tensor(g, o.inputs[0]).dtype == "int8" and not is_hybrid(g, o) and not fc_head_only(g)

    def packs(self, g, o):
        """The input row in the scratch first (faster), then read in place (no scratch, in_depth
        % 4 == 0 only)."""
        pk = self.pack(g, o)
        return [pk] + ([replace(pk, row_in_scratch=False)] if o.params.in_depth % 4 == 0 else [])

    def scratch_bytes(self, g, o, pk):
        return packing.fc_scratch_bytes(o.params.in_depth, pk.row_in_scratch)

    def reads_min(self, g, o, slot, pk):
        """With the row in the scratch each batch row is read once, before its first output;
        otherwise every block of 4 outputs reads the whole row again (packing.reads_min_fc)."""
        if slot != 0:
            return None
        p = o.params
        return packing.reads_min_fc(p.batches, p.in_depth, p.out_depth, pk.row_in_scratch)

    def emit(self, g, o, ctx, pk):
        p = o.params
        fields = [("batches", p.batches), ("in_depth", p.in_depth), ("out_depth", p.out_depth),
                  ("act_min", p.act_range[0]), ("act_max", p.act_range[1]), ("k_packed", pk.k_packed),
                  ("weights", ctx.const_array(o, "weights", "int32_t", pk.weights)),
                  ("bias", ctx.const_array(o, "bias", "int32_t", pk.bias)),
                  ("rq", ctx.const_records(o, "rq", "tcc_arm_rq", pk.rq))]
        if pk.lshift is not None:
            fields.append(("lshift", ctx.const_array(o, "lshift", "uint8_t", pk.lshift)))
        params = ctx.struct(o, "tcc_arm_fc_s8_params", fields)
        args = f"&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}"
        if _row(o, pk):
            self.call(ctx, o, f"{self.entry}_row({args}, {ctx.scratch(o)});")
        else:
            self.call(ctx, o, f"{self.entry}_direct({args});")


@register
class ArmFC(_ArmFC):
    name = "arm_fc"
    entry = "tcc_arm_fc_s8"
    entries = ("tcc_arm_fc_s8_row", "tcc_arm_fc_s8_direct")
    cycles_per_mac = 1.8          # tinycc bench on ad01 (row in the scratch)

    def pack(self, g, o):
        p, w = o.params, ir.tensor(g, o.inputs[1])
        return packing.ArmFC(row_in_scratch=True, **packing.pack_fc(w.data, p.bias, p.mult, p.shift, p.out_zp))


@register
class ArmFCInt8(_ArmFC):
    name = "arm_fc_int8"
    entry = "tcc_arm_fc_s8_w8"
    entries = ("tcc_arm_fc_s8_w8_row", "tcc_arm_fc_s8_w8_direct")
    cycles_per_mac = 2.1          # tinycc bench on ad01 (row in the scratch)

    def pack(self, g, o):
        p, w = o.params, ir.tensor(g, o.inputs[1])
        return packing.ArmFCInt8(row_in_scratch=True,
                                 **packing.pack_fc_int8(w.data, p.bias, p.mult, p.shift, p.out_zp))
