"""Models of the TFLite Micro signal library's custom ops (``tinycc/ops/signal.py``), written with
``tflite_writer`` (custom codes and flexbuffer options as the library's Python ops write them)."""
from __future__ import annotations

import numpy as np

from .tflite_writer import ModelBuilder


def window_model(n: int = 32, blocks: int = 2, shift: int = 12, seed: int = 0) -> bytes:
    """SignalWindow: a Hann window in Q12 (with a few weights > 1.0, so outputs saturate) over
    ``blocks`` frames of ``n`` int16 samples."""
    rng = np.random.default_rng(seed)
    hann = np.round(4096 * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)))
    hann[rng.integers(0, n, 3)] = 30000
    mb = ModelBuilder("tinycc SignalWindow test model")
    x = mb.tensor([blocks, n], "int16", name="frames")
    w = mb.tensor([n], "int16", data=hann, name="window")
    y = mb.tensor([blocks, n], "int16", name="windowed")
    mb.custom_op("SignalWindow", [x, w], [y], {"shift": shift})
    return mb.build([x], [y])


def _bands(spectrum: int, channels: int, rng) -> dict[str, np.ndarray]:
    """Filter-bank tables as the library's mel helper lays them out: channel i + 1's band starts
    where channel i's ends, weights in Q12 and unweights = 4096 - weights."""
    edges = np.linspace(1, spectrum - 1, channels + 2).astype(np.int64)
    freq = edges[:-1]
    width = np.diff(edges)
    start = np.concatenate([[0], np.cumsum(width)[:-1]])
    weights = rng.integers(0, 4097, int(width.sum()))
    return dict(freq=freq, start=start, width=width, weights=weights, unweights=4096 - weights)


def front_end_model(spectrum: int = 33, channels: int = 8, scale_bits: int = 3, correction: int = 3,
                    output_scale: int = 1600, seed: int = 0, ops: str = "energy,bank,sqrt,log",
                    frame: int = 60) -> bytes:
    """The audio front end: SignalWindow (a Hann window, Q12) and SignalRfft of one int16 frame of
    ``frame`` samples (fft_length = 2 * (spectrum - 1)), SignalEnergy (-> uint32), SignalFilterBank
    (-> uint64 channels), SignalFilterBankSquareRoot (-> uint32), SignalFilterBankLog (-> int16).
    ``ops`` picks a contiguous part of that chain (its first op's input is the model's input)."""
    rng = np.random.default_rng(seed)
    chain = ops.split(",")
    fft_length = 2 * (spectrum - 1)
    mb = ModelBuilder(f"tinycc signal front end test model ({ops})")
    first = {"window": ([frame], "int16"), "rfft": ([frame], "int16"), "energy": ([2 * spectrum], "int16"),
             "bank": ([spectrum], "uint32"), "sqrt": ([channels], "uint64"), "log": ([channels], "uint32")}[chain[0]]
    x = cur = mb.tensor(*first, name="input")
    for kind in chain:
        if kind == "window":
            nxt = mb.tensor([frame], "int16", name="windowed")
            hann = np.round(4096 * (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / frame)))
            mb.custom_op("SignalWindow", [cur, mb.tensor([frame], "int16", data=hann, name="window")], [nxt],
                         {"shift": 12})
        elif kind == "rfft":
            nxt = mb.tensor([fft_length + 2], "int16", name="spectrum")
            mb.custom_op("SignalRfft", [cur], [nxt], {"T": 7, "fft_length": fft_length})
        elif kind == "energy":
            nxt = mb.tensor([spectrum], "uint32", name="energy")
            mb.custom_op("SignalEnergy", [cur], [nxt], {"end_index": spectrum, "start_index": 0})
        elif kind == "bank":
            b = _bands(spectrum, channels, rng)
            nxt = mb.tensor([channels], "uint64", name="channels")
            tables = [mb.tensor([len(b[k])], "int16", data=b[k], name=k)
                      for k in ("weights", "unweights", "freq", "start", "width")]
            mb.custom_op("SignalFilterBank", [cur, *tables], [nxt], {"num_channels": channels})
        elif kind == "sqrt":
            nxt = mb.tensor([channels], "uint32", name="amplitudes")
            bits = mb.tensor([], "int32", data=np.int32(scale_bits), name="scale_bits")
            mb.custom_op("SignalFilterBankSquareRoot", [cur, bits], [nxt])
        else:
            nxt = mb.tensor([channels], "int16", name="log_channels")
            mb.custom_op("SignalFilterBankLog", [cur], [nxt],
                         {"input_correction_bits": correction, "output_scale": output_scale})
        cur = nxt
    return mb.build([x], [cur])


FFT_TYPES = {"float32": 0, "int32": 2, "int16": 7}      # the op's "T" option: a TensorType


def rfft_model(fft_length: int = 256, input_length: int = 240, frames: int = 2, dtype: str = "int16") -> bytes:
    """SignalRfft (int16, int32 or float32): ``frames`` frames of ``input_length`` samples,
    zero-padded to fft_length."""
    mb = ModelBuilder(f"tinycc SignalRfft test model ({fft_length}, {dtype})")
    x = mb.tensor([frames, input_length], dtype, name="frames")
    y = mb.tensor([frames, fft_length + 2], dtype, name="spectrum")
    mb.custom_op("SignalRfft", [x], [y], {"T": FFT_TYPES[dtype], "fft_length": fft_length})
    return mb.build([x], [y])


def pcan_model(channels: int = 16, snr_shift: int = 6, seed: int = 0) -> bytes:
    """SignalPCAN: filter-bank energies and noise estimates (both inputs) and a gain table of
    modest values (132 entries, as the library's helper makes)."""
    rng = np.random.default_rng(seed)
    mb = ModelBuilder("tinycc SignalPCAN test model")
    x = mb.tensor([channels], "uint32", name="energies")
    noise = mb.tensor([channels], "uint32", name="noise_estimate")
    lut = mb.tensor([132], "int16", data=rng.integers(-2000, 2001, 132), name="gain_lut")
    y = mb.tensor([channels], "uint32", name="output")
    mb.custom_op("SignalPCAN", [x, noise, lut], [y], {"snr_shift": snr_shift})
    return mb.build([x, noise], [y])


def delay_model(shape=(2, 12), delays=(5, 30)) -> bytes:
    """SignalDelay ops in a chain over ``shape`` (rows of the last axis), each delaying the stream
    by its number of samples (one shorter than a frame, one longer)."""
    mb = ModelBuilder(f"tinycc SignalDelay test model {list(delays)}")
    x = cur = mb.tensor(list(shape), "int16", name="input")
    for k, delay in enumerate(delays):
        y = mb.tensor(list(shape), "int16", name=f"delayed{k}")
        mb.custom_op("SignalDelay", [cur], [y], {"delay_length": delay})
        cur = y
    return mb.build([x], [cur])


def stacker_model(channels: int = 4, left: int = 2, right: int = 1, step: int = 2) -> bytes:
    """SignalStacker: frames of ``channels`` int16 values stacked with their context; outputs the
    stack and its valid flag."""
    mb = ModelBuilder("tinycc SignalStacker test model")
    x = mb.tensor([channels], "int16", name="frame")
    y = mb.tensor([channels * (left + right + 1)], "int16", name="stack")
    v = mb.tensor([], "bool", name="valid")
    mb.custom_op("SignalStacker", [x], [y, v], {"num_channels": channels, "stacker_left_context": left,
                                                "stacker_right_context": right, "stacker_step": step})
    return mb.build([x], [y, v])


def framer_model(rows: int = 2, steps: int = 2, step: int = 4, size: int = 10, prefill: bool = False) -> bytes:
    """SignalFramer: ``rows`` streams, ``steps`` steps of ``step`` samples per invoke, frames of
    ``size`` samples; outputs the frames and the valid flag."""
    mb = ModelBuilder("tinycc SignalFramer test model")
    x = mb.tensor([rows, steps * step], "int16", name="samples")
    y = mb.tensor([rows, steps, size], "int16", name="frames")
    v = mb.tensor([], "bool", name="valid")
    mb.custom_op("SignalFramer", [x], [y, v], {"frame_size": size, "frame_step": step, "prefill": prefill})
    return mb.build([x], [y, v])


def fft_auto_scale_model(n: int = 32) -> bytes:
    """SignalFftAutoScale: the frame scaled up to use the int16 range, and the shift."""
    mb = ModelBuilder("tinycc SignalFftAutoScale test model")
    x = mb.tensor([n], "int16", name="frame")
    y = mb.tensor([n], "int16", name="scaled")
    s = mb.tensor([], "int32", name="scale_bits")
    mb.custom_op("SignalFftAutoScale", [x], [y, s])
    return mb.build([x], [y, s])


def spectral_subtraction_model(channels: int = 8, clamping: bool = True) -> bytes:
    """SignalFilterBankSpectralSubtraction with the micro_speech front end's constants (Q14
    smoothing 0.04 / alternate 0.04, 10 smoothing bits, min signal remaining 0.05)."""
    mb = ModelBuilder("tinycc SignalFilterBankSpectralSubtraction test model")
    x = mb.tensor([channels], "uint32", name="channels")
    y = mb.tensor([channels], "uint32", name="subtracted")
    noise = mb.tensor([channels], "uint32", name="noise_estimate")
    mb.custom_op("SignalFilterBankSpectralSubtraction", [x], [y, noise], {
        "alternate_one_minus_smoothing": 15729, "alternate_smoothing": 655, "clamping": clamping,
        "min_signal_remaining": 819, "num_channels": channels, "one_minus_smoothing": 15729,
        "smoothing": 655, "smoothing_bits": 10, "spectral_subtraction_bits": 14})
    return mb.build([x], [y, noise])


def overlap_add_model(dtype: str = "int16", rows: int = 2, frames: int = 2, size: int = 8, step: int = 3) -> bytes:
    """SignalOverlapAdd: [rows, frames, size] -> [rows, frames * step]."""
    mb = ModelBuilder(f"tinycc SignalOverlapAdd test model ({dtype})")
    x = mb.tensor([rows, frames, size], dtype, name="frames")
    y = mb.tensor([rows, frames * step], dtype, name="signal")
    mb.custom_op("SignalOverlapAdd", [x], [y], {"T": 7 if dtype == "int16" else 0, "frame_step": step})
    return mb.build([x], [y])


def irfft_model(fft_length: int = 64, frames: int = 2, dtype: str = "int16") -> bytes:
    """SignalIrfft (int16, int32 or float32): ``frames`` spectra of fft_length / 2 + 1 bins ->
    fft_length samples."""
    mb = ModelBuilder(f"tinycc SignalIrfft test model ({fft_length}, {dtype})")
    x = mb.tensor([frames, fft_length + 2], dtype, name="spectrum")
    y = mb.tensor([frames, fft_length], dtype, name="samples")
    mb.custom_op("SignalIrfft", [x], [y], {"T": FFT_TYPES[dtype], "fft_length": fft_length})
    return mb.build([x], [y])
