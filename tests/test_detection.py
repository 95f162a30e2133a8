"""DETECTION_POSTPROCESS (the ``TFLite_Detection_PostProcess`` custom op) against TFLite Micro on
the host: alone on crafted scores (ties, no box above the threshold, more candidates than
max_detections, with and without a background column, both NMS variants), and a small
SSD-style detector on the host and in QEMU (Cortex-M4)."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver, verify
from tinycc.errors import TinyccError
from tinycc.testing import models_detection as D
from tinycc.verify import Reference, random_inputs, tflm_unreliable

from .conftest import needs_qemu, run_compiled

ANCHORS = D.anchors_grid(4, 4, [(0.3, 0.3), (0.5, 0.25)])      # 32 anchors


def assert_detections(ours, refs, per_box: int = 1):
    """Per op (four outputs each): num_detections equal; the first num * ``per_box`` rows of
    boxes, classes and scores equal (boxes within 1e-5: the decode's exp is the C library's);
    the rows after them zero in ours (TFLite Micro's fast variant leaves them unwritten)."""
    for o_all, r_all in zip(ours, refs):
        for k in range(0, len(o_all), 4):
            o, r = o_all[k:k + 4], r_all[k:k + 4]
            assert o[3].ravel()[0] == np.asarray(r[3]).ravel()[0]
            n = int(np.asarray(r[3]).ravel()[0]) * per_box
            boxes, rboxes = o[0].reshape(-1, 4), np.asarray(r[0]).reshape(-1, 4)
            np.testing.assert_allclose(boxes[:n], rboxes[:n], rtol=1e-5, atol=1e-6)
            assert np.array_equal(o[1].ravel()[:n], np.asarray(r[1]).ravel()[:n])
            assert np.array_equal(o[2].ravel()[:n], np.asarray(r[2]).ravel()[:n])
            assert not boxes[n:].any() and not o[1].ravel()[n:].any() and not o[2].ravel()[n:].any()


def crafted(rng, kind: str):
    """(box encodings, class predictions [1, N, 4]) for one sample: scores on a 0.05 grid (many
    ties), all below 0.3 for "none"."""
    box = (rng.standard_normal((1, len(ANCHORS), 4)) * 0.8).astype(np.float32)
    scale = {"many": 1.0, "none": 0.25, "few": 0.5}[kind]
    cls = (np.round(rng.random((1, len(ANCHORS), 4)) * 20) / 20 * scale).astype(np.float32)
    return [box, cls]


def test_postprocess_alone(tmp_path):
    """Three ops on one pair of inputs: fast NMS and regular NMS (3 classes after a background
    column), regular NMS on all 4 columns as classes (no background), a tight IoU threshold."""
    ops = [D.options(use_regular_nms=False, max_detections=6),
           D.options(use_regular_nms=True, max_detections=6, detections_per_class=4),
           D.options(use_regular_nms=True, num_classes=4, nms_iou_threshold=0.1, nms_score_threshold=0.5,
                     max_detections=8, detections_per_class=5)]
    path = tmp_path / "m.tflite"
    path.write_bytes(D.postprocess_alone(ANCHORS, *ops, columns=4))
    batches = [crafted(np.random.default_rng(s), k) for s, k in enumerate(("many", "few", "none", "many"))]
    ref = Reference(str(path), 12)
    assert ref.name == "TFLite Micro"
    refs = [ref.run(xs) for xs in batches]
    counts = [[int(r[k][0]) for k in (3, 7, 11)] for r in refs]
    assert counts[0][:2] == [6, 6] and counts[2] == [0, 0, 0] and min(counts[1]) > 0   # cut, none, some
    ours, _ = run_compiled(path, batches, tmp_path, "host")
    assert_detections(ours, refs)


def test_postprocess_classes_per_box_against_tflite(tmp_path):
    """The fast variant reporting 2 classes per box: TFLite Micro writes past its outputs there,
    TFLite is the reference (its layout: a box's rows together, num_detections counts boxes)."""
    path = tmp_path / "m.tflite"
    path.write_bytes(D.postprocess_alone(ANCHORS, D.options(max_classes_per_detection=2, max_detections=5)))
    g = driver.compile_graph(str(path))
    assert tflm_unreliable(g)
    batches = [crafted(np.random.default_rng(s), k) for s, k in enumerate(("many", "few"))]
    ref = Reference(str(path), 4, lite=True)
    refs = [ref.run(xs) for xs in batches]
    assert [int(r[3][0]) for r in refs][0] == 5
    ours, _ = run_compiled(path, batches, tmp_path, "host", g=g)
    assert_detections(ours, refs, per_box=2)


def test_postprocess_uint8_against_tflite(tmp_path):
    """uint8 box encodings, class predictions and anchors (TFLite's legacy quantized detectors;
    TFLite Micro takes float32 only): dequantized as TFLite does, both variants in one model."""
    path = tmp_path / "m.tflite"
    path.write_bytes(D.postprocess_alone(ANCHORS, D.options(max_detections=6),
                                         D.options(use_regular_nms=True, max_detections=6), dtype="uint8"))
    g = driver.compile_graph(str(path))
    assert tflm_unreliable(g)
    rng = np.random.default_rng(5)
    batches = [[rng.integers(96, 160, (1, len(ANCHORS), 4)).astype(np.uint8),
                (rng.integers(0, 21, (1, len(ANCHORS), 4)) * 12).astype(np.uint8)] for _ in range(2)]
    ref = Reference(str(path), 8, lite=True)
    refs = [ref.run(xs) for xs in batches]
    assert all(int(r[3][0]) == 6 for r in refs)
    ours, _ = run_compiled(path, batches, tmp_path, "host", g=g)
    assert_detections(ours, refs)


def test_postprocess_refusals(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(D.postprocess_alone(ANCHORS, D.options(max_classes_per_detection=4)))
    with pytest.raises(TinyccError, match=r"operator 0 \(DETECTION_POSTPROCESS\).*max_classes_per_detection 4"):
        driver.compile_graph(str(path))
    opts = D.options()
    del opts["num_classes"]
    path.write_bytes(D.postprocess_alone(ANCHORS, {**opts, "num_classes": 3}).replace(b"num_classes", b"num_clashes"))
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


SSD_OPTIONS = D.options(max_detections=10, nms_score_threshold=0.8)


def test_ssd_detector_verify(tmp_path):
    """``tinycc verify`` on the host passes on a detector whose detections vary between samples
    (6, 7, 3, 8): the reference leaves the fast variant's rows after the detections as the
    previous sample left them, and verify does not compare those (``reference_unset``)."""
    path = tmp_path / "ssd.tflite"
    path.write_bytes(D.ssd_detector(np.random.default_rng(3), SSD_OPTIONS))
    g = driver.compile_graph(str(path))
    rng = np.random.default_rng(0)
    ref = Reference(str(path), 4)
    refs = [ref.run(random_inputs(g, rng)) for _ in range(4)]
    assert [int(r[3][0]) for r in refs] == [6, 7, 3, 8]
    assert np.asarray(refs[2][2]).ravel()[3:7].all()          # sample 1's scores left in rows 3..6
    res = verify.verify(str(path), samples=4, seed=0)
    assert res.ok and res.reference == "TFLite Micro", verify.format_text(res)


def test_ssd_detector_qemu(tmp_path):
    needs_qemu()
    path = tmp_path / "ssd.tflite"
    path.write_bytes(D.ssd_detector(np.random.default_rng(3), SSD_OPTIONS))
    g = driver.compile_graph(str(path))
    batches = [random_inputs(g, np.random.default_rng(s)) for s in range(2)]
    ref = Reference(str(path), 4)
    refs = [ref.run(xs) for xs in batches]
    assert all(0 < r[3][0] for r in refs)
    ours, _ = run_compiled(path, batches, tmp_path, "qemu", g=g)
    assert_detections(ours, refs)
