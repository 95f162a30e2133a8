"""Generate the sample models shipped in ``samples/``.

Run from the repository root::

    python samples/make_samples.py [OUTPUT_DIR]

It writes, deterministically (fixed seed, same bytes on every run):

* ``kws_tiny_int8.tflite``: a tiny keyword-spotting DS-CNN with random
  (seeded) weights and full-integer int8 quantization calibrated like
  TensorFlow's converter does;
* ``kws_tiny_f32.tflite``: its float32 twin (same float weights);
* ``kws_tiny_input.bin``: one int8 input (49x10 bytes, row-major) holding a
  synthetic spectrogram-like pattern, for the firmware demo.

Network (input 1x49x10x1, i.e. 49 frames of 10 spectral features)::

    CONV_2D 10x4 stride 2 SAME, 32 channels, ReLU     -> 1x25x5x32
    2 x [DEPTHWISE_CONV_2D 3x3 SAME ReLU,
         CONV_2D 1x1, 32 channels, ReLU]              -> 1x25x5x32
    AVERAGE_POOL_2D 25x5 VALID                        -> 1x1x1x32
    RESHAPE [1, 32]
    FULLY_CONNECTED 12 classes
    SOFTMAX                                           -> 1x12
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

_REPO_ROOT = Path(__file__).resolve().parent.parent
if str(_REPO_ROOT) not in sys.path:  # allow running without installing tinycc
    sys.path.insert(0, str(_REPO_ROOT))

from tinycc.testing.models import NetBuilder, quantize  # noqa: E402

SEED = 20240611
FRAMES, FEATURES = 49, 10
CHANNELS = 32
CLASSES = 12
#: Input quantization: log-spectrogram features in [0, 25.5].
INPUT_SCALE = 0.1
INPUT_ZERO_POINT = -128


def synthetic_spectrogram(rng: np.random.Generator) -> np.ndarray:
    """A spectrogram-like float pattern of shape (FRAMES, FEATURES).

    A noise floor plus a "word": an onset/decay envelope in the middle of
    the clip with two formant-like bands drifting across the features.
    """
    t = np.arange(FRAMES)[:, None].astype(np.float64)
    f = np.arange(FEATURES)[None, :].astype(np.float64)
    start = rng.uniform(8, 16)
    length = rng.uniform(18, 28)
    phase = np.clip((t - start) / length, 0.0, 1.0)
    envelope = np.sin(np.pi * phase) ** 0.7
    band1 = 2.0 + 1.5 * np.sin(2 * np.pi * phase * rng.uniform(0.5, 1.5))
    band2 = 6.5 + 1.0 * np.cos(2 * np.pi * phase * rng.uniform(0.5, 1.5))
    formants = np.exp(-0.5 * ((f - band1) / 0.9) ** 2) + 0.7 * np.exp(-0.5 * ((f - band2) / 1.1) ** 2)
    floor = 3.0 + rng.normal(0.0, 0.6, (FRAMES, FEATURES))
    spec = floor + 16.0 * envelope * formants
    return np.clip(spec, 0.0, 25.5)


def demo_input() -> np.ndarray:
    """The fixed int8 demo input, shape (1, FRAMES, FEATURES, 1)."""
    spec = synthetic_spectrogram(np.random.default_rng(SEED + 1))
    q = quantize(spec, INPUT_SCALE, INPUT_ZERO_POINT)
    return q.astype(np.int8).reshape(1, FRAMES, FEATURES, 1)


def kws_tiny(dtype: str) -> bytes:
    """Build the DS-CNN as int8 (``"int8"``) or float32 (``"float32"``) .tflite bytes.

    Both dtypes use the same seed and hence the same float weights.
    """
    rng = np.random.default_rng(SEED)
    calib_rng = np.random.default_rng(SEED + 2)
    calibration = np.stack([synthetic_spectrogram(calib_rng) for _ in range(8)])
    nb = NetBuilder(rng, dtype, description="tinycc kws_tiny DS-CNN (random weights)")
    x0 = nb.input(
        (1, FRAMES, FEATURES, 1),
        scale=INPUT_SCALE,
        zero_point=INPUT_ZERO_POINT,
        calibration=calibration.reshape(-1, 1, FRAMES, FEATURES, 1),
    )
    x = nb.conv2d(x0, CHANNELS, (10, 4), (2, 2), "SAME", (1, 1), "RELU")
    for _ in range(2):
        x = nb.depthwise_conv2d(x, 1, (3, 3), (1, 1), "SAME", (1, 1), "RELU")
        x = nb.conv2d(x, CHANNELS, (1, 1), (1, 1), "SAME", (1, 1), "RELU")
    _, h, w, _ = x.shape
    x = nb.pool2d(x, "avg", (h, w), (1, 1), "VALID")
    x = nb.reshape(x, [1, CHANNELS])
    # Keep the logits within a few units so the softmax is informative.
    rms = float(np.sqrt(np.mean(x.calib**2))) or 1.0
    logits = nb.fully_connected(x, CLASSES, weight_gain=2.0 / (np.sqrt(2.0) * rms))
    y = nb.softmax(logits)
    return nb.build([x0], [y])


def main(out_dir: str | Path | None = None) -> list[Path]:
    """Write the sample files into ``out_dir`` (default: this script's folder)."""
    out = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "kws_tiny_int8.tflite": kws_tiny("int8"),
        "kws_tiny_f32.tflite": kws_tiny("float32"),
        "kws_tiny_input.bin": demo_input().tobytes(),
    }
    written = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
        print(f"wrote {path} ({len(data)} bytes)")
    return written


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
