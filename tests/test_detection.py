"""DETECTION_POSTPROCESS (the ``TFLite_Detection_PostProcess`` custom op) against TFLite Micro on
the host: alone on crafted scores (ties, no box above the threshold, more candidates than
max_detections, with and without a background column, both NMS variants), and a small
SSD-style detector on the host and in QEMU (Cortex-M4)."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver
from tinycc.errors import TinyccError
from tinycc.testing import models_detection as D
from tinycc.verify import Reference, random_inputs

from .conftest import needs_qemu, run_compiled

ANCHORS = D.anchors_grid(4, 4, [(0.3, 0.3), (0.5, 0.25)])      # 32 anchors


def assert_detections(ours, refs):
    """num_detections equal; the first num rows of boxes, classes and scores equal (floats within
    1e-5: the decode's exp is the C library's); the rows after them zero in ours (TFLite Micro's
    fast variant leaves them unwritten)."""
    for o, r in zip(ours, refs):
        n = int(np.asarray(r[3]).ravel()[0])
        assert o[3].ravel()[0] == n
        boxes, rboxes = o[0].reshape(-1, 4), np.asarray(r[0]).reshape(-1, 4)
        np.testing.assert_allclose(boxes[:n], rboxes[:n], rtol=1e-5, atol=1e-6)
        assert np.array_equal(o[1].ravel()[:n], np.asarray(r[1]).ravel()[:n])
        assert np.array_equal(o[2].ravel()[:n], np.asarray(r[2]).ravel()[:n])
        assert not boxes[n:].any() and not o[1].ravel()[n:].any() and not o[2].ravel()[n:].any()


def crafted(rng, classes: int, kind: str):
    """(box encodings, class predictions) for one sample: scores on a 0.05 grid (many ties)."""
    box = (rng.standard_normal((1, len(ANCHORS), 4)) * 0.8).astype(np.float32)
    scale = {"many": 1.0, "none": 0.25, "few": 0.5}[kind]
    cls = (np.round(rng.random((1, len(ANCHORS), classes)) * 20) / 20 * scale).astype(np.float32)
    return [box, cls]


def run_case(tmp_path, data: bytes, batches):
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    ref = Reference(str(path), 4)
    assert ref.name == "TFLite Micro"
    ours, _ = run_compiled(path, batches, tmp_path, "host")
    refs = [ref.run(xs) for xs in batches]
    assert_detections(ours, refs)
    return ours, refs


@pytest.mark.parametrize("regular", [False, True])
def test_postprocess_alone(tmp_path, regular):
    rng = np.random.default_rng(7)
    opts = D.options(use_regular_nms=regular, max_detections=6, detections_per_class=4)
    batches = [crafted(rng, 4, k) for k in ("many", "few", "none", "many")]
    ours, refs = run_case(tmp_path, D.postprocess_alone(ANCHORS, opts), batches)
    counts = [int(r[3][0]) for r in refs]
    assert counts[0] == 6 and counts[2] == 0 and 0 < counts[1]      # cut to max, some, none


def test_postprocess_without_background_and_tight_iou(tmp_path):
    rng = np.random.default_rng(8)
    opts = D.options(use_regular_nms=True, num_classes=3, nms_iou_threshold=0.1, nms_score_threshold=0.5,
                     max_detections=8, detections_per_class=5)
    run_case(tmp_path, D.postprocess_alone(ANCHORS, opts, background=False),
             [crafted(rng, 3, "many") for _ in range(2)])


def test_postprocess_refusals(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(D.postprocess_alone(ANCHORS, D.options(max_classes_per_detection=2)))
    with pytest.raises(TinyccError, match=r"operator 0 \(DETECTION_POSTPROCESS\).*max_classes_per_detection 2"):
        driver.compile_graph(str(path))
    opts = D.options()
    del opts["num_classes"]
    path.write_bytes(D.postprocess_alone(ANCHORS, {**opts, "num_classes": 3}, background=True)
                     .replace(b"num_classes", b"num_clashes"))
    with pytest.raises(TinyccError, match=r"operator 0 \(DETECTION_POSTPROCESS\).*lack num_classes"):
        driver.compile_graph(str(path))


@pytest.mark.parametrize("seed", range(3))
def test_postprocess_garbage_options_refused(tmp_path, seed):
    """Untrusted custom options: random bytes of the options' length give one clear refusal."""
    good = D.postprocess_alone(ANCHORS, D.options())
    from flatbuffers import flexbuffers
    blob = bytes(flexbuffers.Dumps(D.options()))
    at = good.index(blob)
    junk = np.random.default_rng(seed).integers(0, 256, len(blob), dtype=np.uint8).tobytes()
    path = tmp_path / "m.tflite"
    path.write_bytes(good[:at] + junk + good[at + len(blob):])
    with pytest.raises(TinyccError, match=r"operator 0 \(DETECTION_POSTPROCESS\): custom options"):
        driver.compile_graph(str(path))


@pytest.mark.parametrize("mode", ["host", "qemu"])
def test_ssd_detector(tmp_path, mode):
    if mode == "qemu":
        needs_qemu()
    path = tmp_path / "ssd.tflite"
    path.write_bytes(D.ssd_detector(np.random.default_rng(3), D.options(max_detections=10,
                                                                        nms_score_threshold=0.55)))
    g = driver.compile_graph(str(path))
    batches = [random_inputs(g, np.random.default_rng(s)) for s in range(2)]
    ref = Reference(str(path), 4)
    assert ref.name == "TFLite Micro"
    refs = [ref.run(xs) for xs in batches]
    assert all(0 < r[3][0] for r in refs)
    ours, _ = run_compiled(path, batches, tmp_path, mode, g=g)
    assert_detections(ours, refs)
