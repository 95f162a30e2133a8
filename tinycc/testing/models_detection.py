"""Test models of DETECTION_POSTPROCESS (the ``TFLite_Detection_PostProcess`` custom op): the op
alone on given box encodings and class predictions, and a small SSD-style detector (a float32
convolution backbone, a box head and a class head reshaped to [1, N, 4] and [1, N, C + 1], a
LOGISTIC on the class logits, then the post-processing op)."""
from __future__ import annotations

import numpy as np

from .tflite_writer import ModelBuilder

CUSTOM_CODE = "TFLite_Detection_PostProcess"


def anchors_grid(rows: int, cols: int, sizes) -> np.ndarray:
    """SSD-style anchors (y, x, h, w) on a rows x cols grid, one per size per cell, row-major."""
    out = []
    for r in range(rows):
        for c in range(cols):
            for h, w in sizes:
                out.append(((r + 0.5) / rows, (c + 0.5) / cols, h, w))
    return np.asarray(out, np.float32)


def options(max_detections=5, max_classes_per_detection=1, detections_per_class=3, use_regular_nms=False,
            nms_score_threshold=0.3, nms_iou_threshold=0.5, num_classes=3, scales=(10.0, 10.0, 5.0, 5.0)) -> dict:
    y, x, h, w = scales
    return dict(max_detections=max_detections, max_classes_per_detection=max_classes_per_detection,
                detections_per_class=detections_per_class, use_regular_nms=use_regular_nms,
                nms_score_threshold=nms_score_threshold, nms_iou_threshold=nms_iou_threshold,
                num_classes=num_classes, y_scale=y, x_scale=x, h_scale=h, w_scale=w)


ANCHOR_SCALE = 1 / 255      # uint8 anchors: (q - 0) / 255


def _postprocess(mb: ModelBuilder, box: int, cls: int, anchors: np.ndarray, opts: dict, tag: str = "",
                 unshaped: bool = False) -> list[int]:
    m = opts["max_detections"] * (1 if opts["use_regular_nms"] else opts["max_classes_per_detection"])
    if mb.tensor_dtype(box) == "uint8":
        q = np.clip(np.round(anchors / ANCHOR_SCALE), 0, 255).astype(np.uint8)
        a = mb.tensor(list(anchors.shape), "uint8", data=q, scale=ANCHOR_SCALE, zero_point=0, name=f"anchors{tag}")
    else:
        a = mb.tensor(list(anchors.shape), "float32", data=anchors, name=f"anchors{tag}")
    shapes = [[], [], [], []] if unshaped else [[1, m, 4], [1, m], [1, m], [1]]
    outs = [mb.tensor(shape, "float32", name=f"{name}{tag}") for shape, name in
            zip(shapes, ("detection_boxes", "detection_classes", "detection_scores", "num_detections"))]
    mb.custom_op(CUSTOM_CODE, [box, cls, a], outs, opts)
    return outs


def postprocess_alone(anchors: np.ndarray, *opts: dict, columns: int | None = None, dtype: str = "float32",
                      unshaped: bool = False) -> bytes:
    """One op per options dict on two model inputs: box encodings [1, N, 4] and class
    predictions [1, N, columns] (default: the first op's num_classes + 1, a background column);
    an op whose num_classes equals ``columns`` reads no background column. Four outputs per op.
    ``dtype`` "uint8": quantized inputs and anchors (TFLite's legacy quantized detectors).
    ``unshaped``: the outputs stored with shape [], as the converter writes them when the op
    replaces a stand-in function (the Object Detection API's export)."""
    n = anchors.shape[0]
    columns = columns or opts[0]["num_classes"] + 1
    mb = ModelBuilder("tinycc DETECTION_POSTPROCESS test model")
    q = (dict(scale=0.05, zero_point=128), dict(scale=1 / 256, zero_point=0)) if dtype == "uint8" else ({}, {})
    box = mb.tensor([1, n, 4], dtype, name="box_encodings", **q[0])
    cls = mb.tensor([1, n, columns], dtype, name="class_predictions", **q[1])
    outs = [t for k, o in enumerate(opts) for t in _postprocess(mb, box, cls, anchors, o, f"_{k}", unshaped)]
    return mb.build([box, cls], outs)


def ssd_detector(rng: np.random.Generator, opts: dict, size: int = 16, per_cell=((0.2, 0.2), (0.35, 0.2))) -> bytes:
    """image [1, size, size, 3] -> CONV_2D 3x3/2 + RELU -> box head (1x1 CONV_2D) and class head
    (1x1 CONV_2D) -> RESHAPE -> LOGISTIC on the classes -> DETECTION_POSTPROCESS."""
    mb = ModelBuilder("tinycc SSD-style detector")
    g, k = size // 2, len(per_cell)
    n, c1 = g * g * k, opts["num_classes"] + 1

    def conv(x, cin, cout, ksize, stride, act, name):
        w = mb.tensor([cout, ksize, ksize, cin], "float32", name=f"{name}_w",
                      data=(rng.standard_normal((cout, ksize, ksize, cin)) / np.sqrt(ksize * ksize * cin)).astype(np.float32))
        b = mb.tensor([cout], "float32", data=(rng.standard_normal(cout) * 0.1).astype(np.float32), name=f"{name}_b")
        hw = (mb.tensor_shape(x)[1] + stride - 1) // stride
        y = mb.tensor([1, hw, hw, cout], "float32", name=name)
        mb.op("CONV_2D", [x, w, b], [y], padding="SAME", stride_h=stride, stride_w=stride, fused_activation=act)
        return y

    image = mb.tensor([1, size, size, 3], "float32", name="image")
    feat = conv(image, 3, 8, 3, 2, "RELU", "backbone")
    box_map = conv(feat, 8, 4 * k, 1, 1, "NONE", "box_head")
    cls_map = conv(feat, 8, c1 * k, 1, 1, "NONE", "class_head")
    box = mb.tensor([1, n, 4], "float32", name="box_encodings")
    mb.op("RESHAPE", [box_map], [box], new_shape=[1, n, 4])
    logits = mb.tensor([1, n, c1], "float32", name="class_logits")
    mb.op("RESHAPE", [cls_map], [logits], new_shape=[1, n, c1])
    cls = mb.tensor([1, n, c1], "float32", name="class_predictions")
    mb.op("LOGISTIC", [logits], [cls])
    return mb.build([image], _postprocess(mb, box, cls, anchors_grid(g, g, per_cell), opts))
