"""The TFLite Micro signal library's custom ops (``tinycc/ops/signal.py``) against TFLite Micro,
which registers them: single ops on inputs spread over every magnitude, and the front end from a
PCM frame on the host (in QEMU: the PCM-to-keyword sample, ``test_pcm_keyword.py``)."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import driver, ir
from tinycc.errors import TinyccError
from tinycc.ops.signal import log_table
from tinycc.testing import models_signal
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import assert_match, reference_outputs, run_compiled


def spread(rng, t: ir.Tensor) -> np.ndarray:
    """Unsigned values of every bit length (0, 1, small, near the type's top), or random int16,
    int32 (full range) or float32 (normal)."""
    if t.dtype in ("int16", "int32"):
        info = np.iinfo(t.dtype)
        return rng.integers(info.min, info.max + 1, t.shape, dtype=np.int64).astype(t.dtype)
    if t.dtype == "float32":
        return (100 * rng.standard_normal(t.shape)).astype(np.float32)
    bits = 8 * ir.DTYPE_SIZE[t.dtype]
    length = rng.integers(0, bits + 1, t.shape)
    top = np.left_shift(np.uint64(1), length.astype(np.uint64), dtype=np.uint64)
    x = (rng.random(t.shape) * top.astype(np.float64)).astype(np.uint64)
    x = np.where(length == bits, np.uint64(2**bits - 1) - x % np.uint64(7), x)
    return x.astype(np.uint32 if bits == 32 else np.uint64)


def check(tmp_path, model: bytes, samples: int = 6, mode: str = "host", seed: int = 0):
    f = tmp_path / "m.tflite"
    f.write_bytes(model)
    g = driver.compile_graph(str(f))
    rng = np.random.default_rng(seed)
    batches = [[spread(rng, ir.tensor(g, t)) for t in g.graph["inputs"]] for _ in range(samples)]
    ours, _ = run_compiled(f, batches, tmp_path, mode, "cortex-m4", g=g)
    assert_match(ours, reference_outputs(f, batches, 1))


def test_log_table_is_log2_correction():
    t = log_table()
    assert len(t) == 130 and t[0] == 0 and t[128] == 0 and t[64] == 5568 and t.max() == 5641


def test_window(tmp_path):
    check(tmp_path, models_signal.window_model())


@pytest.mark.parametrize("fft_length, frame, dtype", [(32, 30, "int16"), (256, 256, "int16"),
                                                     (128, 100, "int32"), (64, 64, "float32")])
def test_rfft(tmp_path, fft_length, frame, dtype):
    """Full-range int16 and int32 frames: the butterflies' stores wrap, as kiss_fft's do; float32
    within the verify tolerance."""
    check(tmp_path, models_signal.rfft_model(fft_length, frame, frames=2, dtype=dtype), samples=3)


@pytest.mark.parametrize("fft_length, dtype", [(64, "int16"), (32, "int32"), (128, "float32")])
def test_irfft(tmp_path, fft_length, dtype):
    """Full-range spectra through the inverse transform (kiss_fftri)."""
    check(tmp_path, models_signal.irfft_model(fft_length, frames=2, dtype=dtype), samples=3)


@pytest.mark.parametrize("ops", ["energy", "bank", "sqrt", "log", "window,rfft,energy,bank,sqrt,log"])
def test_front_end_ops(tmp_path, ops):
    check(tmp_path, models_signal.front_end_model(ops=ops))


def test_pcan(tmp_path):
    """Energies and noise estimates of every magnitude: both halves of the shrink, every gain segment."""
    check(tmp_path, models_signal.pcan_model(snr_shift=6), samples=6)


def test_delay(tmp_path):
    """Two delay lines (5 and 30 samples, frames of 12) carried over a sequence of 8 invokes."""
    check(tmp_path, models_signal.delay_model(), samples=8)


def test_spectral_subtraction(tmp_path):
    """The noise estimates carried over a sequence of 8 invokes of every magnitude."""
    check(tmp_path, models_signal.spectral_subtraction_model(), samples=8)


@pytest.mark.parametrize("dtype", ["int16", "float32"])
def test_overlap_add(tmp_path, dtype):
    """Frames of 8 every 3 samples (int16: full-range frames, so the sums saturate) over 6 invokes."""
    if dtype == "int16":
        check(tmp_path, models_signal.overlap_add_model(dtype), samples=6)
        return
    f = tmp_path / "m.tflite"
    f.write_bytes(models_signal.overlap_add_model(dtype))
    rng = np.random.default_rng(0)
    batches = [[rng.standard_normal((2, 2, 8)).astype(np.float32)] for _ in range(6)]
    ours, _ = run_compiled(f, batches, tmp_path)
    assert_match(ours, reference_outputs(f, batches, 1))


def test_fft_auto_scale(tmp_path):
    """Frames of every magnitude, all zeros, a lone -32768 (the library's int16 maximum wraps)."""
    f = tmp_path / "m.tflite"
    f.write_bytes(models_signal.fft_auto_scale_model(32))
    rng = np.random.default_rng(0)
    frames = [rng.integers(-32768, 32768, 32) >> k for k in (0, 3, 9, 14, 15)]
    frames += [np.zeros(32), np.r_[-32768, rng.integers(-5, 6, 31)], np.r_[rng.integers(-5, 6, 31), 1024]]
    batches = [[np.asarray(x, np.int16)] for x in frames]
    ours, _ = run_compiled(f, batches, tmp_path)
    assert_match(ours, reference_outputs(f, batches, 2))


def check_valid(tmp_path, model: bytes, shape, invokes: int) -> list[bool]:
    """Run ``invokes`` random int16 inputs as one sequence; the valid flags (output 1) must be
    TFLite Micro's, and output 0 too where valid (TFLite Micro leaves it as it was otherwise).
    Returns the flags."""
    f = tmp_path / "m.tflite"
    f.write_bytes(model)
    rng = np.random.default_rng(0)
    batches = [[rng.integers(-32768, 32768, shape).astype(np.int16)] for _ in range(invokes)]
    ours, _ = run_compiled(f, batches, tmp_path)
    refs = reference_outputs(f, batches, 2)
    flags = [bool(r[1]) for r in refs]
    assert [bool(o[1]) for o in ours] == flags
    assert_match([o[:1] for o, r in zip(ours, refs) if r[1]], [r[:1] for r in refs if r[1]])
    return flags


def test_stacker(tmp_path):
    """Stacks of 2 + 1 + 1 frames every 2 frames over 9 invokes."""
    flags = check_valid(tmp_path, models_signal.stacker_model(), (4,), 9)
    assert flags == [False, True, False, True] * 2 + [False]


@pytest.mark.parametrize("prefill", [False, True])
def test_framer(tmp_path, prefill):
    """Frames of 10 samples every 4, two steps per invoke on two rows, over 5 invokes."""
    flags = check_valid(tmp_path, models_signal.framer_model(prefill=prefill), (2, 8), 5)
    assert flags == [prefill] + [True] * 4


def test_refused():
    mb = ModelBuilder()
    x, y = mb.tensor([4], "int16", name="x"), mb.tensor([4], "int16", name="y")
    mb.custom_op("SignalNoSuchOp", [x], [y], {"a": 1})
    with pytest.raises(TinyccError, match=r"operator 0 \(CUSTOM\): custom operator 'SignalNoSuchOp' is not "
                                          r"supported"):
        driver.compile_graph(mb.build([x], [y]))
    g = driver.compile_graph(models_signal.front_end_model(ops="bank", spectrum=9, channels=2))
    assert [ir.op(g, n).kind for n in ir.ops_in_order(g)] == ["SignalFilterBank"]
    mb = ModelBuilder()
    x, y = mb.tensor([8], "uint32", name="x"), mb.tensor([2], "uint64", name="y")
    tables = [mb.tensor([3], "int16", data=v, name=f"t{k}")
              for k, v in enumerate(([1] * 3, [1] * 3, [0, 4, 6], [0, 0, 0], [4, 2, 3]))]
    mb.custom_op("SignalFilterBank", [x, *tables], [y], {"num_channels": 2})
    with pytest.raises(TinyccError, match="a band lies outside the spectrum or the weights"):
        driver.compile_graph(mb.build([x], [y]))
