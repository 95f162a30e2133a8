"""DETECTION_POSTPROCESS: the ``TFLite_Detection_PostProcess`` custom op of SSD detectors
(TFLite Micro detection_postprocess.cc), float32 as TFLite Micro; uint8 box encodings (with
uint8 anchors) and class predictions, dequantized first as TFLite does, against TFLite.

Inputs: box encodings [1, N, >= 4] (y, x, h, w per anchor), class predictions [1, N, C'] with
C' = num_classes or num_classes + 1 (a background column first, skipped), anchors [N, 4]
(y, x, h, w). Outputs, float32: boxes [1, R, 4] (ymin, xmin, ymax, xmax), classes [1, R],
scores [1, R], num_detections [1], R = M K (M = max_detections, K classes per box below).
Options (the custom options' flexbuffer map): max_detections, max_classes_per_detection, detections_per_class (default 100), use_regular_nms (default false),
nms_score_threshold, nms_iou_threshold, num_classes, y_scale, x_scale, h_scale, w_scale.

Semantics, as TFLite Micro computes them:
  decode   yc = y / y_scale * anchor_h + anchor_y (in double, then float), likewise xc;
           half_h = 0.5 * exp(h / h_scale) * anchor_h (double, then float), likewise half_w;
           box = (yc - half_h, xc - half_w, yc + half_h, xc + half_w) in float.
  NMS of one score column: the boxes scoring >= the threshold, stably sorted by decreasing
           score (ties: lower box first); greedily the best remaining box is selected and
           every later one whose IoU with it exceeds the IoU threshold dropped, until
           min(candidates, limit) are selected. IoU: 0 when an area is <= 0.
  fast     (use_regular_nms false): each box scored by its best class (ties: lower class),
           one NMS with limit M; outputs in selection order, K = max_classes_per_detection rows
           per selected box (its best K classes, ties to the lower class), num_detections the
           boxes. TFLite Micro writes past its outputs for K > 1: there TFLite's layout is
           followed and TFLite is the reference (``tflm_reference_reliable``).
  regular  one NMS per class (limit detections_per_class); after each class the running list
           (earlier kept entries first, then this class's selections) is sorted stably by
           decreasing score and cut to M; outputs the list, zeros after it.
num_detections is the count written. tinycc zeroes the unused rows of the fast variant's
outputs; TFLite Micro and TFLite leave them as the previous run left them, so ``verify`` does
not compare them (``reference_unset``). tinycc decodes only the boxes some class scores
at or above the threshold: the others can never be output nor suppress one (TFLite Micro
decodes all and stops with an error when one has ymin >= ymax or xmin >= xmax).

The scratch (``scratch_bytes``) holds decoded boxes, candidate lists and sort buffers.
"""
from __future__ import annotations

import numpy as np

from .. import ir
from ..cformat import format_float
from ..errors import TinyccError
from . import OpDef, flexbuffer_map, register

REQUIRED = ("max_detections", "max_classes_per_detection", "nms_score_threshold", "nms_iou_threshold",
            "num_classes", "y_scale", "x_scale", "h_scale", "w_scale")
FLOATS = ("nms_score_threshold", "nms_iou_threshold", "y_scale", "x_scale", "h_scale", "w_scale")


@register
class DetectionPostprocess(OpDef):
    kind = "DETECTION_POSTPROCESS"
    custom_code = "TFLite_Detection_PostProcess"
    kernel = "tcc_detection"

    def read_options(self, opts):
        m = flexbuffer_map(opts)
        missing = [k for k in REQUIRED if k not in m]
        if missing:
            raise TinyccError(f"custom options lack {', '.join(missing)}")
        try:
            attrs = {k: float(np.float32(m[k])) if k in FLOATS else int(m[k]) for k in REQUIRED}
            attrs["detections_per_class"] = int(m.get("detections_per_class", 100))
            attrs["use_regular_nms"] = bool(m.get("use_regular_nms", False))
        except (TypeError, ValueError, OverflowError):
            raise TinyccError("custom options hold a value of the wrong type") from None
        return attrs

    def n_out(self, o) -> int:
        return o.attrs["max_detections"] * self.classes_per_row(o)

    def check(self, g, o):
        self.expect_arity(o, (3, 3), 4)
        a = o.attrs
        box, cls, anchors = (ir.tensor(g, t) for t in o.inputs)
        for t in (box, cls):
            if t.dtype not in ("float32", "uint8"):
                raise self.fail(o, f"{t.dtype} is not supported (float32, or uint8 as TFLite)", t.name)
            if t.dtype == "uint8" and (t.quant is None or t.quant.per_channel):
                raise self.fail(o, "uint8 inputs need per-tensor quantization", t.name)
        if anchors.dtype != box.dtype or (anchors.dtype == "uint8" and (anchors.quant is None
                                                                        or anchors.quant.per_channel)):
            raise self.fail(o, f"anchors must be {box.dtype} like the box encodings"
                               f"{' (per-tensor quantized)' if box.dtype == 'uint8' else ''}", anchors.name)
        for t in (ir.tensor(g, t) for t in o.outputs):
            if t.dtype != "float32":
                raise self.fail(o, f"output type {t.dtype} is not supported (float32)", t.name)
        if len(box.shape) != 3 or box.shape[0] != 1 or box.shape[2] < 4:
            raise self.fail(o, f"box encodings must be [1, N, >= 4], not {list(box.shape)}", box.name)
        n = box.shape[1]
        if len(cls.shape) != 3 or cls.shape[:2] != (1, n) or cls.shape[2] - a["num_classes"] not in (0, 1):
            raise self.fail(o, f"class predictions must be [1, {n}, num_classes (+1)], not {list(cls.shape)}",
                            cls.name)
        self.expect_shape(g, o, o.inputs[2], (n, 4))
        if a["num_classes"] < 1 or a["max_detections"] < 1:
            raise self.fail(o, "num_classes and max_detections must be positive")
        if not 0.0 < a["nms_iou_threshold"] <= 1.0:
            raise self.fail(o, f"nms_iou_threshold {a['nms_iou_threshold']} is not in (0, 1]")
        if a["use_regular_nms"] and a["detections_per_class"] < 1:
            raise self.fail(o, "detections_per_class must be positive")
        if not a["use_regular_nms"] and not 1 <= a["max_classes_per_detection"] <= a["num_classes"]:
            raise self.fail(o, f"max_classes_per_detection {a['max_classes_per_detection']} is not in "
                               f"[1, num_classes]")
        m = self.n_out(o)
        for t, shape in zip(o.outputs, [(1, m, 4), (1, m), (1, m), (1,)]):
            self.expect_shape(g, o, t, shape)

    def output_shapes(self, g, o):
        m = self.n_out(o)
        return [(1, m, 4), (1, m), (1, m), (1,)]

    def classes_per_row(self, o) -> int:
        """K: the classes each selected box reports (the fast variant's max_classes_per_detection)."""
        return 1 if o.attrs["use_regular_nms"] else o.attrs["max_classes_per_detection"]

    def tflm_reference_reliable(self, g, o):
        """TFLite is the reference for uint8 inputs (TFLite Micro takes float32 only) and for the
        fast variant with more than one class per box (TFLite Micro writes past its outputs there;
        tinycc follows TFLite's layout)."""
        return self.classes_per_row(o) == 1 and not self.dequantized(g, o)

    def dequantized(self, g, o) -> list[int]:
        """The input slots that are uint8: dequantized to float32 first, (q - zp) * scale as TFLite
        does (the constant anchors at compile time, the others into the scratch's start)."""
        return [k for k, t in enumerate(o.inputs) if ir.tensor(g, t).dtype == "uint8"]

    def dequantized_floats(self, g, o) -> int:
        return sum(ir.tensor(g, o.inputs[k]).size for k in self.dequantized(g, o)
                   if not ir.tensor(g, o.inputs[k]).is_const)

    def reference_unset(self, g, o, outputs, run):
        """The fast variant's rows after the detections: TFLite Micro and TFLite leave them as the
        previous run left them (tinycc writes zeros there)."""
        if o.attrs["use_regular_nms"] or outputs[3] is None:
            return None
        unset = np.arange(self.n_out(o)) >= int(np.asarray(outputs[3]).ravel()[0]) * self.classes_per_row(o)
        return [np.repeat(unset, 4).reshape(1, -1, 4), unset.reshape(1, -1), unset.reshape(1, -1), None]

    def scratch_bytes(self, g, o):
        """The dequantized uint8 inputs (floats), then the kernel's (tcc_detection.c lays them out
        so): floats: decoded boxes 4N, candidate scores N, per-box scores N, two lists of L;
        int32: candidate boxes N, sort order S, merge buffer S, selection N, best classes N K,
        two lists of L; bytes: active flags N. L = M + min(N, detections_per_class) for the
        regular variant (its running lists), 0 for the fast one; S = max(N, L)."""
        a = o.attrs
        n = ir.tensor(g, o.inputs[0]).shape[1]
        lst = a["max_detections"] + min(n, a["detections_per_class"]) if a["use_regular_nms"] else 0
        kernel = 4 * (6 * n + 2 * lst) + 4 * (2 * n + 2 * max(n, lst) + n * self.classes_per_row(o) + 2 * lst) + n
        return 4 * self.dequantized_floats(g, o) + kernel

    def emit(self, g, o, ctx):
        a = o.attrs
        box, cls = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.inputs[1])
        params = ctx.struct(o, "tcc_detection_params", [
            ("num_boxes", box.shape[1]), ("box_stride", box.shape[2]), ("num_classes", a["num_classes"]),
            ("classes_with_bg", cls.shape[2]), ("label_offset", cls.shape[2] - a["num_classes"]),
            ("max_detections", a["max_detections"]), ("detections_per_class", a["detections_per_class"]),
            ("regular_nms", int(a["use_regular_nms"])), ("classes_per_detection", self.classes_per_row(o)),
            *((k, format_float(a[k])) for k in FLOATS)])
        scratch, at, ins = ctx.scratch(o), 0, []
        for k, tid in enumerate(o.inputs):
            x = ir.tensor(g, tid)
            if x.dtype == "float32":
                ins.append(ctx.buf(tid))
                continue
            scale, zp = np.float32(x.quant.scale[0]), int(x.quant.zero_point[0])
            if x.is_const:
                data = (np.asarray(x.data).astype(np.float32) - np.float32(zp)) * scale
                ins.append(ctx.const_array(o, f"input{k}", "float", data.astype(np.float32)))
                continue
            ins.append(f"({scratch} + {at})")
            ctx.call(o, f"tcc_dequantize_u8_f32({format_float(scale)}, {zp}, {ctx.buf(tid)}, {ins[-1]}, {x.size});",
                     "tcc_elementwise")
            at += x.size
        outs = ", ".join(ctx.buf(t) for t in o.outputs)
        ctx.call(o, f"tcc_detection_postprocess_f32(&{params}, {', '.join(ins)}, {outs}, ({scratch} + {at}));",
                 self.kernel)
