"""The TFLite Micro signal library's custom ops (its audio front end), by their custom codes:
SignalWindow, SignalRfft and SignalIrfft (int16, int32, float32), SignalEnergy, SignalFilterBank, SignalFilterBankSquareRoot,
SignalFilterBankSpectralSubtraction, SignalFilterBankLog, SignalPCAN, SignalFftAutoScale,
SignalDelay, SignalStacker, SignalFramer and SignalOverlapAdd (their noise estimates, delay lines,
queues and buffers are state, ``OpDef.internal_state``).

Their options are flexbuffer maps (``OpDef.custom``); the arithmetic is the library's integer
arithmetic (``runtime/kernels/tcc_signal.c`` states it). The filter bank's band tables must be
constants (they are in every converted front end): tinycc checks at compile time that every band
lies inside the spectrum and the weights, which TFLite Micro never checks. FilterBankLog's
table of log2(1 + k/128) - k/128 is computed here, at compile time, and so are SignalRfft's
twiddles, radix stages and input order (``rfft_plan``: the plan of TFLite Micro's fixed-point
kiss_fftr, whose arithmetic the kernel repeats).
"""
from __future__ import annotations

import numpy as np

from .. import ir
from . import OpDef, flexbuffer_map, register

KERNEL = "tcc_signal"
LOG_SEGMENTS = 128


def log_table() -> np.ndarray:
    """The 128-segment correction table of the signal library's integer log2, in 1/65536:
    round((log2(1 + k/128) - k/128) * 65536) for k = 0..128, and one 0 of padding."""
    k = np.arange(LOG_SEGMENTS + 1, dtype=np.float64) / LOG_SEGMENTS
    return np.append(np.round((np.log2(1 + k) - k) * 65536), 0).astype(np.uint16)


def kiss_factors(n: int) -> list[tuple[int, int]]:
    """kiss_fft's factorisation of an n-point FFT into stages (radix p, remaining length m):
    radix 4 while it divides, then 2, then odd primes; a remainder above sqrt(n) is one stage."""
    out, p, limit = [], 4, int(np.floor(np.sqrt(n)))
    while True:
        while n % p:
            p = {4: 2, 2: 3}.get(p, p + 2)
            if p > limit:
                p = n
        n //= p
        out.append((p, n))
        if n <= 1:
            return out


SAMP_MAX = {"int16": 32767, "int32": 2147483647}      # kiss_fft's FIXED_POINT 16 and 32


def unit_circle(phase: np.ndarray, dtype: str = "int16") -> np.ndarray:
    """kiss_fft's unit complex numbers (cos, sin), interleaved: floor(0.5 + SAMP_MAX * x) in fixed
    point, (float) x in float."""
    cs = np.stack([np.cos(phase), np.sin(phase)], 1).ravel()
    if dtype == "float32":
        return cs.astype(np.float32)
    return np.floor(0.5 + SAMP_MAX[dtype] * cs).astype(np.int16 if dtype == "int16" else np.int32)


def rfft_plan(fft_length: int, inverse: bool = False, dtype: str = "int16") -> dict[str, np.ndarray]:
    """What tcc_signal_rfft_* (tcc_signal_irfft_*: ``inverse``, the twiddles' phases turned the
    other way) needs for one fft_length (a power of two >= 4): the stages of the half-length
    complex FFT (deepest first: radix, twiddle stride, span m), the order in which its input is
    gathered (kiss_fft's recursion, flattened), its twiddles and the real FFT's twist, of
    ``dtype`` (the phases in double, as kiss_fft_alloc and kiss_fftr_alloc compute them)."""
    half = fft_length // 2
    stages = kiss_factors(half)
    order = np.zeros(half, np.int64)

    def gather(out: int, src: int, stride: int, k: int) -> None:
        p, m = stages[k]
        for j in range(p):
            if m == 1:
                order[out + j] = src + j * stride
            else:
                gather(out + j * m, src + j * stride, stride * p, k + 1)
    gather(0, 0, 1, 0)
    strides = np.cumprod([1] + [p for p, _ in stages[:-1]])
    sign = 1 if inverse else -1
    return dict(radix=np.array([p for p, _ in stages][::-1]), stride=strides[::-1],
                span=np.array([m for _, m in stages][::-1]), order=order,
                twiddles=unit_circle(sign * 2 * np.pi * np.arange(half) / half, dtype),
                super_twiddles=unit_circle(sign * np.pi * ((np.arange(half // 2) + 1) / half + 0.5), dtype))


class _Signal(OpDef):
    """A signal-library op: ``kind`` is its custom code, its options a flexbuffer map of numbers."""
    kernel = KERNEL
    dtypes: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())   # input and output dtypes

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        cls.custom_code = cls.kind

    def read_options(self, opts):
        return {k: int(v) for k, v in flexbuffer_map(opts).items() if isinstance(v, (int, bool))}

    def option(self, o: ir.Op, name: str) -> int:
        if name not in o.attrs:
            raise self.fail(o, f"custom option '{name}' is missing")
        return o.attrs[name]

    def types(self, g, o: ir.Op) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The input and output dtypes the op takes (``dtypes``, or from its input)."""
        return self.dtypes

    def check(self, g, o):
        ins, outs = self.types(g, o)
        self.expect_arity(o, (len(ins), len(ins)), len(outs))
        for t, want in zip((*o.inputs, *o.outputs), (*ins, *outs)):
            x = ir.tensor(g, t)
            if x.dtype != want:
                raise self.fail(o, f"tensor must be {want}, not {x.dtype}", x.name)

    def evaluate(self, g, o, inputs):
        return None

    def constant(self, g, o: ir.Op, slot: int) -> np.ndarray:
        t = ir.tensor(g, o.inputs[slot])
        if not t.is_const:
            raise self.fail(o, f"input {slot} must be a constant", t.name)
        return t.data.astype(np.int64).ravel()

    def rank1(self, g, o: ir.Op, *tids) -> None:
        for t in tids:
            if len(ir.tensor(g, t).shape) != 1:
                raise self.fail(o, "tensor must be 1-D", ir.tensor(g, t).name)


@register
class SignalWindow(_Signal):
    kind = "SignalWindow"
    dtypes = (("int16", "int16"), ("int16",))

    def check(self, g, o):
        super().check(g, o)
        x, w, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        self.rank1(g, o, o.inputs[1])
        if not x.shape or x.size != y.size or x.size % max(w.size, 1) or w.size == 0:
            raise self.fail(o, f"input {list(x.shape)} must be whole windows of {w.size} and the output's "
                               f"size", x.name)
        if not 0 <= self.option(o, "shift") < 32:
            raise self.fail(o, f"shift {o.attrs['shift']} must be in [0, 32)")

    def emit(self, g, o, ctx):
        x, w = (ir.tensor(g, t) for t in o.inputs)
        ctx.call(o, f"tcc_signal_window({ctx.buf(o.inputs[0])}, {ctx.buf(o.inputs[1])}, {x.size}, {w.size}, "
                    f"{o.attrs['shift']}, {ctx.buf(o.outputs[0])});", self.kernel)


FFT_TYPES = {"int16": ("int16_t", "s16"), "int32": ("int32_t", "s32"), "float32": ("float", "f32")}


class _Fft(_Signal):
    """SignalRfft and SignalIrfft in int16, int32 and float32 (the types TFLite Micro registers
    them for; the "T" option names it, the tensors decide): fft_length a power of two >= 4
    (radix-4 and radix-2 stages). Frames run along the last axis: the real side holds at most
    fft_length samples (the forward transform zero-pads them), the complex side the
    fft_length / 2 + 1 bins as (real, imag) pairs."""
    inverse = False

    def types(self, g, o):
        dt = ir.tensor(g, o.inputs[0]).dtype if o.inputs else "int16"
        return ((dt,), (dt,)) if dt in FFT_TYPES else (("int16",), ("int16",))

    def check(self, g, o):
        super().check(g, o)
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        n = self.option(o, "fft_length")
        if n < 4 or n & (n - 1) or n > 1 << 14:
            raise self.fail(o, f"fft_length {n} must be a power of two in [4, 16384]")
        real, spectrum = (y, x) if self.inverse else (x, y)
        if not x.shape or len(x.shape) != len(y.shape) or x.shape[:-1] != y.shape[:-1] \
                or not 0 < real.shape[-1] <= n or (self.inverse and real.shape[-1] != n) \
                or spectrum.shape[-1] != n + 2:
            raise self.fail(o, f"input {list(x.shape)}, output {list(y.shape)}: frames of "
                               f"{'' if self.inverse else 'at most '}{n} samples and {n // 2 + 1} complex bins "
                               f"({n + 2} values)")

    def scratch_bytes(self, g, o):
        return ir.DTYPE_SIZE[ir.tensor(g, o.inputs[0]).dtype] * o.attrs["fft_length"]

    def macs(self, g, o):
        n = o.attrs["fft_length"]
        frames = ir.tensor(g, o.inputs[0]).size // ir.tensor(g, o.inputs[0]).shape[-1]
        return frames * 2 * n * int(np.log2(n))

    def emit(self, g, o, ctx):
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        n = o.attrs["fft_length"]
        ctype, suffix = FFT_TYPES[x.dtype]
        plan = rfft_plan(n, self.inverse, x.dtype)
        arrays = {k: ctx.const_array(o, k, ctype if "twiddles" in k else "int16_t", v) for k, v in plan.items()}
        lengths = (x.shape[-1] // 2, n) if self.inverse else (x.shape[-1], n // 2 + 1)
        params = ctx.struct(o, "tcc_signal_rfft_params", [
            ("fft_length", n), ("input_length", lengths[0]), ("frames", x.size // x.shape[-1]),
            ("output_length", lengths[1]), ("stages", len(plan["radix"])), *arrays.items()])
        fn = f"tcc_signal_{'irfft' if self.inverse else 'rfft'}_{suffix}"
        ctx.call(o, f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])}, {ctx.scratch(o)});",
                 self.kernel)


@register
class SignalRfft(_Fft):
    kind = "SignalRfft"


@register
class SignalIrfft(_Fft):
    kind = "SignalIrfft"
    inverse = True


@register
class SignalEnergy(_Signal):
    """Elements outside [start_index, end_index) are 0 (TFLite Micro leaves them as they were)."""
    kind = "SignalEnergy"
    dtypes = (("int16",), ("uint32",))

    def check(self, g, o):
        super().check(g, o)
        self.rank1(g, o, o.inputs[0], o.outputs[0])
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        start, end = self.option(o, "start_index"), self.option(o, "end_index")
        if not 0 <= start <= end <= min(y.size, x.size // 2):
            raise self.fail(o, f"[start_index, end_index) = [{start}, {end}) must lie within the output "
                               f"({y.size}) and the input's {x.size // 2} complex values")

    def emit(self, g, o, ctx):
        y = ir.tensor(g, o.outputs[0])
        ctx.call(o, f"tcc_signal_energy({ctx.buf(o.inputs[0])}, {o.attrs['start_index']}, "
                    f"{o.attrs['end_index']}, {y.size}, {ctx.buf(o.outputs[0])});", self.kernel)


@register
class SignalFilterBank(_Signal):
    kind = "SignalFilterBank"
    dtypes = (("uint32", "int16", "int16", "int16", "int16", "int16"), ("uint64",))

    def check(self, g, o):
        super().check(g, o)
        self.rank1(g, o, *o.inputs, o.outputs[0])
        n = self.option(o, "num_channels")
        x, w, u, y = (ir.tensor(g, t) for t in (*o.inputs[:3], o.outputs[0]))
        if n < 1 or y.size != n or w.size != u.size:
            raise self.fail(o, f"num_channels {n}: output {list(y.shape)}, weights {w.size} and unweights "
                               f"{u.size} must agree")
        freq, start, width = (self.constant(g, o, k) for k in (3, 4, 5))
        if not len(freq) == len(start) == len(width) == n + 1:
            raise self.fail(o, f"the band tables must have num_channels + 1 = {n + 1} entries")
        if (width < 0).any() or (freq < 0).any() or (start < 0).any() or (freq + width > x.size).any() \
                or (start + width > w.size).any():
            raise self.fail(o, "a band lies outside the spectrum or the weights")

    def macs(self, g, o):
        return 2 * int(self.constant(g, o, 5).sum())

    def emit(self, g, o, ctx):
        fields = [("num_channels", o.attrs["num_channels"])] + [
            (name, ctx.buf(t)) for name, t in zip(("weights", "unweights", "freq_starts", "weight_starts", "widths"),
                                                  o.inputs[1:])]
        params = ctx.struct(o, "tcc_signal_filter_bank_params", fields)
        ctx.call(o, f"tcc_signal_filter_bank(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});",
                 self.kernel)


@register
class SignalFilterBankSquareRoot(_Signal):
    kind = "SignalFilterBankSquareRoot"
    dtypes = (("uint64", "int32"), ("uint32",))

    def check(self, g, o):
        super().check(g, o)
        self.rank1(g, o, o.inputs[0], o.outputs[0])
        x, s, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        if s.shape != () or y.size != x.size:
            raise self.fail(o, "scale_bits must be a scalar and the output the input's size", s.name)
        if s.is_const and not 0 <= int(s.data) < 32:
            raise self.fail(o, f"scale_bits {int(s.data)} must be in [0, 32)", s.name)

    def emit(self, g, o, ctx):
        n = ir.tensor(g, o.inputs[0]).size
        ctx.call(o, f"tcc_signal_filter_bank_sqrt({ctx.buf(o.inputs[0])}, {ctx.buf(o.inputs[1])}, {n}, "
                    f"{ctx.buf(o.outputs[0])});", self.kernel)


@register
class SignalFilterBankLog(_Signal):
    kind = "SignalFilterBankLog"
    dtypes = (("uint32",), ("int16",))

    def check(self, g, o):
        super().check(g, o)
        self.rank1(g, o, o.inputs[0], o.outputs[0])
        if ir.tensor(g, o.inputs[0]).size != ir.tensor(g, o.outputs[0]).size:
            raise self.fail(o, "the output must have the input's size")
        if not 0 <= self.option(o, "input_correction_bits") < 32:
            raise self.fail(o, f"input_correction_bits {o.attrs['input_correction_bits']} must be in [0, 32)")
        self.option(o, "output_scale")

    def emit(self, g, o, ctx):
        lut = ctx.const_array(o, "log_table", "uint16_t", log_table())
        params = ctx.struct(o, "tcc_signal_log_params", [
            ("n", ir.tensor(g, o.inputs[0]).size), ("output_scale", o.attrs["output_scale"] & 0xFFFFFFFF),
            ("correction_bits", o.attrs["input_correction_bits"]), ("lut", lut)])
        ctx.call(o, f"tcc_signal_filter_bank_log(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.outputs[0])});",
                 self.kernel)


PCAN_LUT_MIN = 4 * 32 - 6 + 3     # the gain table entries a 32-bit noise estimate can reach


@register
class SignalPCAN(_Signal):
    kind = "SignalPCAN"
    dtypes = (("uint32", "uint32", "int16"), ("uint32",))

    def check(self, g, o):
        super().check(g, o)
        self.rank1(g, o, *o.inputs, o.outputs[0])
        x, noise, lut, y = (ir.tensor(g, t) for t in (*o.inputs, o.outputs[0]))
        if not x.size == noise.size == y.size:
            raise self.fail(o, "input, noise estimate and output must have one size")
        if lut.size < PCAN_LUT_MIN:
            raise self.fail(o, f"the gain table has {lut.size} entries, the noise estimate may reach "
                               f"{PCAN_LUT_MIN}", lut.name)
        if not 0 <= self.option(o, "snr_shift") < 64:
            raise self.fail(o, f"snr_shift {o.attrs['snr_shift']} must be in [0, 64)")

    def emit(self, g, o, ctx):
        x, noise, lut = (ctx.buf(t) for t in o.inputs)
        ctx.call(o, f"tcc_signal_pcan({x}, {noise}, {lut}, {ir.tensor(g, o.inputs[0]).size}, "
                    f"{o.attrs['snr_shift']}, {ctx.buf(o.outputs[0])});", self.kernel)


@register
class SignalDelay(_Signal):
    """Each row of the last axis continues a stream delayed by delay_length samples; the delay
    lines (rows x delay_length int16) are state, zero at the start and after NAME_reset()."""
    kind = "SignalDelay"
    dtypes = (("int16", "int16"), ("int16",))     # the input, and the delay line (internal state)
    state_inputs = frozenset({1})

    def internal_state(self, g, o):
        if len(o.inputs) != 1 or len(o.outputs) != 1:
            raise self.fail(o, "expects 1 input and 1 output")
        x = ir.tensor(g, o.inputs[0])
        delay = self.option(o, "delay_length")
        if not x.shape or not 0 < delay <= 1 << 16:
            raise self.fail(o, f"delay_length {delay} must be in [1, 65536], the input not a scalar")
        rows = x.size // x.shape[-1]
        return [ir.Tensor(f"{o.name}_delay_line", (rows, delay), "int16", variable=True)]

    def check(self, g, o):
        super().check(g, o)
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        if x.shape != y.shape:
            raise self.fail(o, f"output {list(y.shape)} must have the input's shape {list(x.shape)}", y.name)

    def emit(self, g, o, ctx):
        x = ir.tensor(g, o.inputs[0])
        ctx.call(o, f"tcc_signal_delay({ctx.buf(o.inputs[0])}, {ctx.buf(o.inputs[1])}, {x.size // x.shape[-1]}, "
                    f"{x.shape[-1]}, {o.attrs['delay_length']}, {ctx.buf(o.outputs[0])});", self.kernel)


@register
class SignalStacker(_Signal):
    """Stacks left + 1 + right frames of num_channels values, every stacker_step frames; its queue
    and counters are state. While fewer frames than a stack have come, output 1 (valid) is false
    and output 0 is left as it was (TFLite Micro leaves it too: compare it only when valid)."""
    kind = "SignalStacker"
    dtypes = (("int16", "int16", "int32"), ("int16", "bool"))
    state_inputs = frozenset({1, 2})

    def sizes(self, o) -> tuple[int, int, int, int]:
        c, left = self.option(o, "num_channels"), self.option(o, "stacker_left_context")
        right, step = self.option(o, "stacker_right_context"), self.option(o, "stacker_step")
        if c < 1 or left < 0 or right < 0 or not 1 <= step <= left + right + 1:
            raise self.fail(o, f"num_channels {c}, contexts {left} and {right}, step {step}: the step must be "
                               f"in [1, left + right + 1]")
        return c, c * (left + right + 1), left, c * step

    def internal_state(self, g, o):
        if len(o.inputs) != 1 or len(o.outputs) != 2:
            raise self.fail(o, "expects 1 input and 2 outputs")
        c, size, _, _ = self.sizes(o)
        return [ir.Tensor(f"{o.name}_queue", (size + c,), "int16", variable=True),
                ir.Tensor(f"{o.name}_count", (2,), "int32", variable=True)]

    def check(self, g, o):
        super().check(g, o)
        c, size, _, _ = self.sizes(o)
        x, y, v = (ir.tensor(g, t) for t in (o.inputs[0], *o.outputs))
        if x.shape != (c,) or y.shape != (size,) or v.shape != ():
            raise self.fail(o, f"input {list(x.shape)}, output {list(y.shape)} and valid {list(v.shape)} must be "
                               f"[{c}], [{size}] and a scalar")

    def emit(self, g, o, ctx):
        c, size, left, step = self.sizes(o)
        params = ctx.struct(o, "tcc_signal_stacker_params",
                            [("channels", c), ("size", size), ("left", left), ("step", step)])
        x, queue, count = (ctx.buf(t) for t in o.inputs)
        ctx.call(o, f"tcc_signal_stacker(&{params}, {x}, {queue}, {count}, {ctx.buf(o.outputs[0])}, "
                    f"{ctx.buf(o.outputs[1])});", self.kernel)


@register
class SignalFramer(_Signal):
    """Frames of frame_size samples every frame_step samples of each row of the last axis (the
    input holds whole steps); queues and counts are state (prefill: the queues start with
    frame_size - frame_step zeros). Output 1 (valid) is false when a frame was not complete;
    that frame is left as it was (as TFLite Micro leaves it: compare it only when valid)."""
    kind = "SignalFramer"
    dtypes = (("int16", "int16", "int32"), ("int16", "bool"))
    state_inputs = frozenset({1, 2})

    def sizes(self, g, o) -> tuple[int, int, int, int, int]:
        """(rows, frames per invoke, frame size, step, queue capacity)"""
        x = ir.tensor(g, o.inputs[0])
        size, step = self.option(o, "frame_size"), self.option(o, "frame_step")
        if not x.shape or step < 1 or size < 1 or x.shape[-1] % step:
            raise self.fail(o, f"frame_step {step} must divide the input's last axis {list(x.shape)}, "
                               f"frame_size {size} be positive")
        return x.size // x.shape[-1], x.shape[-1] // step, size, step, -(-size // step) * step

    def internal_state(self, g, o):
        if len(o.inputs) != 1 or len(o.outputs) != 2:
            raise self.fail(o, "expects 1 input and 2 outputs")
        rows, _, size, step, capacity = self.sizes(g, o)
        start = max(size - step, 0) if o.attrs.get("prefill") else 0
        return [ir.Tensor(f"{o.name}_queues", (rows, capacity), "int16", variable=True),
                ir.Tensor(f"{o.name}_counts", (rows,), "int32", variable=True,
                          init=np.full(rows, start, np.int32) if start else None)]

    def check(self, g, o):
        super().check(g, o)
        _, frames, size, _, _ = self.sizes(g, o)
        x, y, v = (ir.tensor(g, t) for t in (o.inputs[0], *o.outputs))
        if y.shape != (*x.shape[:-1], frames, size) or v.shape != ():
            raise self.fail(o, f"output {list(y.shape)} must be {[*x.shape[:-1], frames, size]} and valid a scalar")

    def emit(self, g, o, ctx):
        rows, frames, size, step, capacity = self.sizes(g, o)
        params = ctx.struct(o, "tcc_signal_framer_params", [("rows", rows), ("frames", frames), ("size", size),
                                                            ("step", step), ("capacity", capacity)])
        x, queue, count = (ctx.buf(t) for t in o.inputs)
        ctx.call(o, f"tcc_signal_framer(&{params}, {x}, {queue}, {count}, {ctx.buf(o.outputs[0])}, "
                    f"{ctx.buf(o.outputs[1])});", self.kernel)


@register
class SignalFftAutoScale(_Signal):
    kind = "SignalFftAutoScale"
    dtypes = (("int16",), ("int16", "int32"))

    def check(self, g, o):
        super().check(g, o)
        self.rank1(g, o, o.inputs[0], o.outputs[0])
        x, y, s = (ir.tensor(g, t) for t in (o.inputs[0], *o.outputs))
        if y.size != x.size or s.shape != ():
            raise self.fail(o, "output 0 must have the input's size and output 1 be a scalar")

    def emit(self, g, o, ctx):
        ctx.call(o, f"tcc_signal_fft_auto_scale({ctx.buf(o.inputs[0])}, {ir.tensor(g, o.inputs[0]).size}, "
                    f"{ctx.buf(o.outputs[0])}, {ctx.buf(o.outputs[1])});", self.kernel)


SPECTRAL_OPTIONS = ("smoothing", "one_minus_smoothing", "alternate_smoothing", "alternate_one_minus_smoothing",
                    "min_signal_remaining", "smoothing_bits", "spectral_subtraction_bits", "clamping")


@register
class SignalFilterBankSpectralSubtraction(_Signal):
    """Outputs the noise-subtracted channels and the noise estimates; the estimates are state."""
    kind = "SignalFilterBankSpectralSubtraction"
    dtypes = (("uint32", "uint32"), ("uint32", "uint32"))
    state_inputs = frozenset({1})

    def internal_state(self, g, o):
        if len(o.inputs) != 1 or len(o.outputs) != 2:
            raise self.fail(o, "expects 1 input and 2 outputs")
        n = self.option(o, "num_channels")
        if n < 1:
            raise self.fail(o, f"num_channels {n} must be positive")
        return [ir.Tensor(f"{o.name}_noise_estimate", (n,), "uint32", variable=True)]

    def check(self, g, o):
        super().check(g, o)
        n = self.option(o, "num_channels")
        for t in (o.inputs[0], *o.outputs):
            if ir.tensor(g, t).shape != (n,):
                raise self.fail(o, f"tensor must be [{n}] (num_channels)", ir.tensor(g, t).name)
        for k in SPECTRAL_OPTIONS:
            if not 0 <= self.option(o, k) < (32 if k.endswith("bits") else 1 << 32):
                raise self.fail(o, f"custom option {k} = {o.attrs[k]} is out of range")

    def emit(self, g, o, ctx):
        names = dict(spectral_subtraction_bits="subtraction_bits")
        params = ctx.struct(o, "tcc_signal_spectral_subtraction_params", [
            ("channels", o.attrs["num_channels"]), *((names.get(k, k), o.attrs[k]) for k in SPECTRAL_OPTIONS)])
        ctx.call(o, f"tcc_signal_spectral_subtraction(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.inputs[1])}, "
                    f"{ctx.buf(o.outputs[0])}, {ctx.buf(o.outputs[1])});", self.kernel)


@register
class SignalOverlapAdd(_Signal):
    """int16 (saturating) or float32: frames [..., n, frame_size] -> [..., n * frame_step]; each
    row's overlap buffer (frame_size values) is state."""
    kind = "SignalOverlapAdd"
    state_inputs = frozenset({1})

    def sizes(self, g, o) -> tuple[int, int, int, int]:
        """(rows, frames, frame size, step)"""
        x = ir.tensor(g, o.inputs[0])
        step = self.option(o, "frame_step")
        if len(x.shape) < 2 or not 1 <= step <= x.shape[-1]:
            raise self.fail(o, f"input {list(x.shape)} must be [..., frames, frame_size] with frame_step {step} "
                               f"in [1, frame_size]")
        return x.size // (x.shape[-1] * x.shape[-2]), x.shape[-2], x.shape[-1], step

    def internal_state(self, g, o):
        if len(o.inputs) != 1 or len(o.outputs) != 1:
            raise self.fail(o, "expects 1 input and 1 output")
        rows, _, size, _ = self.sizes(g, o)
        dtype = ir.tensor(g, o.inputs[0]).dtype
        if dtype not in ("int16", "float32"):
            raise self.fail(o, f"type {dtype} is not supported (int16 or float32)")
        return [ir.Tensor(f"{o.name}_buffer", (rows, size), dtype, variable=True)]

    def types(self, g, o):
        dt = ir.tensor(g, o.inputs[0]).dtype
        return (dt, dt), (dt,)

    def check(self, g, o):
        super().check(g, o)
        x, y = ir.tensor(g, o.inputs[0]), ir.tensor(g, o.outputs[0])
        _, frames, _, step = self.sizes(g, o)
        if y.shape != (*x.shape[:-2], frames * step):
            raise self.fail(o, f"output {list(y.shape)} must be {[*x.shape[:-2], frames * step]}", y.name)

    def emit(self, g, o, ctx):
        rows, frames, size, step = self.sizes(g, o)
        params = ctx.struct(o, "tcc_signal_overlap_add_params",
                            [("rows", rows), ("frames", frames), ("size", size), ("step", step)])
        fn = "tcc_signal_overlap_add_" + ("s16" if ir.tensor(g, o.inputs[0]).dtype == "int16" else "f32")
        ctx.call(o, f"{fn}(&{params}, {ctx.buf(o.inputs[0])}, {ctx.buf(o.inputs[1])}, {ctx.buf(o.outputs[0])});",
                 self.kernel)
