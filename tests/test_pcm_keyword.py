"""The PCM-to-keyword sample (samples/pcm_keyword) end to end: ``make run`` builds the signal
front end and the classifier with tinycc into one firmware and runs it in QEMU mps2-an386; its
features' sum, int8 scores and class must be TFLite Micro's (``reference.py``: the front end per
frame, then the classifier). The shipped models are what ``make_models.py`` writes."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tinycc import toolchain

from .test_firmware import require

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "pcm_keyword"
sys.path.insert(0, str(SAMPLE))
import make_models  # noqa: E402
import reference  # noqa: E402


def test_sample_files_are_generated():
    assert (SAMPLE / "front_end.tflite").read_bytes() == make_models.front_end()
    assert (SAMPLE / "keyword_int8.tflite").read_bytes() == make_models.keyword()
    assert (SAMPLE / "pcm_input.bin").read_bytes() == make_models.pcm().tobytes()


def test_pcm_to_keyword_in_qemu_matches_tflite_micro(tmp_path):
    require("make", toolchain.ARM_CC, toolchain.QEMU_ARM)
    cmd = ["make", "--no-print-directory", "-C", str(SAMPLE), f"BUILD={tmp_path / 'build'}",
           f"PYTHON={sys.executable}", "run"]
    log = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=600)
    out = log.stdout
    assert log.returncode == 0, out
    total, scores, best = reference.reference()
    assert f"pcm: features sum {total}\n" in out, out
    assert "pcm: scores " + " ".join(map(str, scores)) + "\n" in out, out
    assert f"pcm: class {best}\n" in out and best == 2, out
    per_frame = re.search(r"pcm: front end: (\d+) instructions per frame", out)
    assert per_frame and int(per_frame.group(1)) > 0, out
