"""Generate the PCM-to-keyword sample's models and input (``samples/pcm_keyword/``).

Run from the repository root::

    python samples/pcm_keyword/make_models.py [OUTPUT_DIR]

It writes, deterministically:

* ``front_end.tflite``: TFLite Micro's signal-library front end for one 30 ms frame of 16 kHz
  16-bit PCM (480 samples): SignalWindow (Hann, Q12) -> SignalRfft (512) -> SignalEnergy
  (257 bins) -> SignalFilterBank (40 channels, triangular bands, Q12 weights) ->
  SignalFilterBankSquareRoot -> SignalFilterBankLog: 40 int16 log energies (ln x 1600);
* ``keyword_int8.tflite``: a small classifier of our own over 10 frames of those features:
  QUANTIZE int16 -> int8, FULLY_CONNECTED to 4 classes, SOFTMAX (beta 0.25). Class k answers "which quarter
  of the filter bank holds the most energy" (its weights: +1 on the 10 channels of quarter k,
  -1/3 on the others, every frame);
* ``pcm_input.bin``: 3,360 samples (10 frames, 20 ms apart) of int16 PCM, little-endian: a tone
  gliding inside the third quarter of the bank, over noise.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:  # allow running without installing tinycc
    sys.path.insert(0, str(_REPO_ROOT))

from tinycc.testing.tflite_writer import ModelBuilder  # noqa: E402

RATE, FRAME, STRIDE, FRAMES = 16000, 480, 320, 10
FFT = 512
BINS = FFT // 2 + 1
CHANNELS, CLASSES = 40, 4
LOG_SCALE = 1600                 # SignalFilterBankLog output: ln(x) * LOG_SCALE
FEATURE_SCALE = 1 / LOG_SCALE    # int16 feature -> ln(energy)
SEED = 20261207


def bands() -> dict[str, np.ndarray]:
    """40 triangular bands over bins 2..255, equally spaced (each channel's band starts where the
    previous one's ends; weights rise over the band, unweights = 4096 - weights)."""
    edges = np.linspace(2, BINS - 2, CHANNELS + 2).round().astype(np.int64)
    freq, width = edges[:-1], np.diff(edges)
    start = np.concatenate([[0], np.cumsum(width)[:-1]])
    weights = np.concatenate([np.round(4096 * (np.arange(w) + 1) / (w + 1)) for w in width]).astype(np.int64)
    return dict(weights=weights, unweights=4096 - weights, freq=freq, start=start, width=width)


def front_end() -> bytes:
    mb = ModelBuilder("tinycc sample: TFLite Micro signal front end (one 30 ms frame)")
    x = mb.tensor([FRAME], "int16", name="pcm")
    hann = np.round(4096 * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / FRAME)))
    w = mb.tensor([FRAME], "int16", name="windowed")
    mb.custom_op("SignalWindow", [x, mb.tensor([FRAME], "int16", data=hann, name="hann")], [w], {"shift": 12})
    s = mb.tensor([FFT + 2], "int16", name="spectrum")
    mb.custom_op("SignalRfft", [w], [s], {"T": 7, "fft_length": FFT})
    e = mb.tensor([BINS], "uint32", name="energy")
    mb.custom_op("SignalEnergy", [s], [e], {"end_index": BINS, "start_index": 0})
    b = bands()
    tables = [mb.tensor([len(b[k])], "int16", data=b[k], name=k)
              for k in ("weights", "unweights", "freq", "start", "width")]
    c = mb.tensor([CHANNELS], "uint64", name="channels")
    mb.custom_op("SignalFilterBank", [e, *tables], [c], {"num_channels": CHANNELS})
    a = mb.tensor([CHANNELS], "uint32", name="amplitudes")
    mb.custom_op("SignalFilterBankSquareRoot", [c, mb.tensor([], "int32", data=np.int32(3),
                                                             name="scale_bits")], [a])
    y = mb.tensor([CHANNELS], "int16", name="features")
    mb.custom_op("SignalFilterBankLog", [a], [y], {"input_correction_bits": 3, "output_scale": LOG_SCALE})
    return mb.build([x], [y])


def keyword() -> bytes:
    """int16 features (10 x 40, ln x 1600) -> int8 -> FULLY_CONNECTED (4) -> SOFTMAX."""
    n = FRAMES * CHANNELS
    in_scale, in_zp = 16.0 / 255, -128            # ln energy in [0, 16]
    group = np.arange(CHANNELS) // (CHANNELS // CLASSES)
    w_real = np.where(group[None, :] == np.arange(CLASSES)[:, None], 1.0, -1 / 3)
    w_real = np.tile(w_real, (1, FRAMES)) / FRAMES
    w_scale = float(np.abs(w_real).max()) / 127
    wq = np.round(w_real / w_scale)
    out_scale = 0.25                               # logits (mean ln-energy contrasts) in [-32, 32)
    mb = ModelBuilder("tinycc sample: keyword classifier over 10 frames of log filter-bank energies")
    x = mb.tensor([1, n], "int16", name="features", scale=FEATURE_SCALE, zero_point=0)
    q = mb.tensor([1, n], "int8", name="features_int8", scale=in_scale, zero_point=in_zp)
    mb.op("QUANTIZE", [x], [q])
    wt = mb.tensor([CLASSES, n], "int8", data=wq, name="weights", scale=w_scale)
    bias = mb.tensor([CLASSES], "int32", data=np.zeros(CLASSES), name="bias", scale=in_scale * w_scale)
    logits = mb.tensor([1, CLASSES], "int8", name="logits", scale=out_scale, zero_point=0)
    mb.op("FULLY_CONNECTED", [q, wt, bias], [logits])
    y = mb.tensor([1, CLASSES], "int8", name="scores", scale=1 / 256, zero_point=-128)
    mb.op("SOFTMAX", [logits], [y], beta=0.25)   # a confident but unsaturated answer
    return mb.build([x], [y])


def pcm() -> np.ndarray:
    """10 frames of 16 kHz PCM: a tone gliding through the third quarter of the bank, over noise."""
    rng = np.random.default_rng(SEED)
    n = FRAME + (FRAMES - 1) * STRIDE
    t = np.arange(n) / RATE
    edges = np.linspace(2, BINS - 2, CHANNELS + 2) * RATE / FFT
    f0, f1 = edges[21], edges[28]                  # inside channels 20..29
    phase = 2 * np.pi * np.cumsum(np.linspace(f0, f1, n)) / RATE
    x = 6000 * np.sin(phase) * np.minimum(1, t / 0.02) + rng.normal(0, 300, n)
    return np.clip(np.round(x), -32768, 32767).astype("<i2")


def main(out_dir: str | Path | None = None) -> list[Path]:
    out = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    files = {"front_end.tflite": front_end(), "keyword_int8.tflite": keyword(), "pcm_input.bin": pcm().tobytes()}
    written = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
        print(f"wrote {path} ({len(data)} bytes)")
    return written


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
