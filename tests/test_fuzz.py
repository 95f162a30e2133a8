"""Untrusted models: mutated and random models never crash, hang or half-write the compiler's output.

Every outcome of ``tinycc.driver.build`` on a mutant must be a build or a ``TinyccError`` whose
message is one line naming the file; a failed build leaves no output folder. Mutants come from
the shared models (seeded, reproducible):

  flip      1..8 random bit flips anywhere
  byte      1..8 bytes set to random or boundary values anywhere
  field     a field the parser reads (offset, vector length, vtable entry, index, shape, type,
            scale, zero point, option...; found by tracing ``flatbuffer.read_model``) set to an
            extreme: 0, 1, -1, 0x7fffffff, 0x80000000, len-1, len, value+-1, NaN, inf, ...
  fields    2..6 such fields at once
  truncate  the file cut anywhere
  splice    the head of one model and the tail of another (at any or at aligned positions)
  chunk     a slice of one model copied over another (mostly over structure)

Hypothesis builds single-op models with arbitrary (also invalid) parameters. A subprocess
sample checks the CLI: exit 0 or 2, one stderr line, no partial output. Valid mutants and
random networks are compiled with gcc; builds are deterministic.

Long run with one command: ``bash scripts/fuzz.sh [N] [SECONDS]`` (this file's ``main``).
Inputs that fail are written to tests/regressions/ and replayed by ``test_regressions``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tinycc import driver, flatbuffer, model_checks
from tinycc.errors import TinyccError

from .conftest import MODELS_DIR, REPO, SHARED_MODELS, model_path

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
MUTANT_SECONDS = 20          # one in-process build longer than this is a hang
MEMORY_HEADROOM = 3 << 30    # address space a build may add (numpy raises MemoryError past it)

STRUCTURE_BIAS = 0.8         # share of flips and byte sets aimed at structure rather than anywhere
MIN_SEED_SHARE = 0.03
STRATEGIES = ("flip", "byte", "field", "field", "field", "fields", "fields", "truncate", "splice", "chunk")


# -- mutation engine --------------------------------------------------------------------

def structure_fields(buf: bytes) -> list[tuple[int, str]]:
    """(position, struct code) of every value the parser reads from ``buf`` (not bulk data)."""
    trace: list = []
    m = flatbuffer.read_model(buf, trace)
    m.trace = trace
    for t in m.tensors:
        if t.buffer < m.n_buffers:
            m.buffer_bytes(t.buffer, t.name)
    try:
        for t in m.tensors:
            model_checks.check_tensor(t)
        model_checks.check_model(m)  # traces the fields of the builtin options
    except TinyccError:
        pass
    seen, fields = set(), []
    for pos, code, count in trace:
        size = struct.calcsize("<" + code)
        for k in range(min(count, 64)):  # long vectors: their first elements are enough
            p = pos + k * size
            if (p, code) not in seen:
                seen.add((p, code))
                fields.append((p, code))
    # every vector's length word sits just before its first element: trace those too
    for pos, code, count in trace:
        if count != 1 and pos >= 4 and (pos - 4, "I") not in seen:
            seen.add((pos - 4, "I"))
            fields.append((pos - 4, "I"))
    return fields


def _extremes(code: str, value, n: int, rng: np.random.Generator) -> list:
    if code == "f":
        return [0.0, -0.0, -1.0, float("nan"), float("inf"), float("-inf"), 1e-45, 3.4e38, 1e-30, 1e30,
                value * 2 if np.isfinite(value) else 1.0, float(rng.standard_normal())]
    bits = struct.calcsize(code) * 8
    signed = code.islower()
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    cands = [0, 1, 2, 3, 4, lo, hi, value - 1, value + 1, value + 2, value - 2, value - 4, value + 4,
             value * 2, n - 1, n, n + 1, n - value, int(rng.integers(lo, hi, endpoint=True))]
    if bits >= 32:
        cands += [-1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 1 << 24]
    mask = (1 << bits) - 1
    out = []
    for c in cands:
        c &= mask
        if signed and c > hi:
            c -= 1 << bits
        out.append(c)
    return out


@dataclass
class Seed:
    name: str
    data: bytes
    fields: list = field(default_factory=list)
    cost: float = 0.1          # seconds one successful build of it takes


def make_seed(name: str, data: bytes, work: Path) -> Seed:
    t0 = time.monotonic()
    kind, why = build_outcome(data, work, "seed.tflite")
    assert kind == "ok", f"{name} does not build: {why}"
    return Seed(name, data, structure_fields(data), time.monotonic() - t0)


def seed_weights(seeds: list[Seed]) -> list[float]:
    """Pick seeds in inverse proportion to what a successful build of them costs (at least
    MIN_SEED_SHARE each), so the large float model does not eat the time budget."""
    inv = np.array([1.0 / max(s.cost, 1e-3) for s in seeds])
    w = np.maximum(inv / inv.sum(), MIN_SEED_SHARE)
    return list(w / w.sum())


class Mutator:
    def __init__(self, seeds: list[Seed], rng: np.random.Generator, weights=None, op_share: float = 0.0):
        self.seeds, self.rng, self.op_share = seeds, rng, op_share
        self.weights = None if weights is None else np.asarray(weights, float) / np.sum(weights)

    def pick(self) -> Seed:
        if self.weights is None:
            return self.seeds[int(self.rng.integers(len(self.seeds)))]
        return self.seeds[int(self.rng.choice(len(self.seeds), p=self.weights))]

    def position(self, seed: Seed) -> int:
        """A byte to damage: mostly one that carries structure (bulk weights rarely matter)."""
        if self.rng.random() < STRUCTURE_BIAS and seed.fields:
            pos, code = seed.fields[int(self.rng.integers(len(seed.fields)))]
            return pos + int(self.rng.integers(struct.calcsize("<" + code)))
        return int(self.rng.integers(len(seed.data)))

    def mutate(self, strategy: str | None = None) -> tuple[bytes, str]:
        rng = self.rng
        if strategy is None and self.op_share and rng.random() < self.op_share:
            kind, data = random_op_model(RngChooser(rng), extreme_percent=10)
            return data, f"op {kind}"
        seed = self.pick()
        m = bytearray(seed.data)
        n = len(m)
        strategy = strategy or STRATEGIES[int(rng.integers(len(STRATEGIES)))]
        if strategy == "flip":
            for _ in range(int(rng.integers(1, 9))):
                m[self.position(seed)] ^= 1 << int(rng.integers(8))
        elif strategy == "byte":
            for _ in range(int(rng.integers(1, 9))):
                m[self.position(seed)] = int(rng.choice([0, 1, 0x7F, 0x80, 0xFF, int(rng.integers(256))]))
        elif strategy in ("field", "fields"):
            for _ in range(1 if strategy == "field" else int(rng.integers(2, 7))):
                pos, code = seed.fields[int(rng.integers(len(seed.fields)))]
                value = struct.unpack_from("<" + code, m, pos)[0]
                cands = _extremes(code, value, n, rng)
                struct.pack_into("<" + code, m, pos, cands[int(rng.integers(len(cands)))])
        elif strategy == "truncate":
            m = m[: int(rng.integers(0, n))]
        elif strategy == "splice":
            other = self.pick().data
            a = int(rng.integers(0, n))
            b = int(rng.integers(0, len(other)))
            if rng.random() < 0.5:
                a, b = a & ~3, b & ~3
            m = m[:a] + other[b:]
        elif strategy == "chunk":
            other = self.pick().data
            length = int(rng.integers(1, min(256, len(other)) + 1))
            src = int(rng.integers(0, len(other) - length + 1))
            dst = min(self.position(seed), max(n - length, 0))
            m[dst:dst + length] = other[src:src + length]
        else:
            raise ValueError(strategy)
        return bytes(m), f"{strategy} of {seed.name}"


def shared_seeds(folder: Path | None = None) -> list[Seed]:
    with fast_builds(), tempfile.TemporaryDirectory(prefix="tinycc-seed-") as tmp:
        return [make_seed(name, (folder / f"{name}.tflite").read_bytes() if folder else model_path(name).read_bytes(),
                          Path(tmp)) for name in SHARED_MODELS]


# -- running one input --------------------------------------------------------------------

class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    """Raise Hang once this process has spent ``seconds`` of CPU time (not wall time, so a
    machine loaded by other jobs does not turn a slow build into a 'hang')."""
    def on_alarm(signum, frame):
        raise Hang(f"no result after {seconds} s of CPU time")
    old = signal.signal(signal.SIGPROF, on_alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


@contextmanager
def memory_limit(extra: int):
    """Cap the address space at its current size plus ``extra`` bytes (Linux), so that a build
    that tries to allocate gigabytes fails with MemoryError instead of swapping."""
    try:
        with open("/proc/self/statm") as f:
            current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = current + extra
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def build_outcome(data: bytes, work: Path, fname: str = "mutant.tflite") -> tuple[str, str]:
    """Build ``data`` in-process. Returns ("ok", "") or ("error", message) for the allowed
    outcomes, ("FAIL", why) for anything else."""
    model = work / fname
    model.write_bytes(data)
    out = work / "out"
    if out.exists():
        shutil.rmtree(out)
    try:
        with time_limit(MUTANT_SECONDS):
            driver.build(str(model), str(out))
    except TinyccError as e:
        msg = str(e)
        if len(msg.splitlines()) != 1 or not msg.strip():
            return "FAIL", f"error message is not one line: {msg!r}"
        if not msg.startswith(fname):
            return "FAIL", f"error message does not name the file: {msg!r}"
        if out.exists():
            return "FAIL", f"output folder written by a failed build ({msg})"
        return "error", msg
    except Hang as e:
        return "FAIL", f"hang: {e}"
    except BaseException as e:  # noqa: BLE001 - everything else is a bug
        if isinstance(e, KeyboardInterrupt):
            raise
        import traceback
        tb = traceback.format_exception(type(e), e, e.__traceback__)
        return "FAIL", f"{type(e).__name__}: {e} | " + " ".join(line.strip() for line in tb[-3:])
    leftovers = [p.name for p in work.iterdir() if p.name.startswith(".out.")]
    if leftovers:
        return "FAIL", f"temporary folders left behind: {leftovers}"
    return "ok", ""


@dataclass
class FuzzStats:
    mutants: int = 0
    ok: int = 0
    error: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0      # CPU time of the builds, summed over the workers
    failures: list = field(default_factory=list)      # (description, why, saved path)
    by_strategy: dict = field(default_factory=dict)


def fuzz(seeds: list[Seed], n: int, seconds: float, seed: int, work: Path, save: Path | None = None,
         progress: bool = False, workers: int = 1, op_share: float = 0.0) -> FuzzStats:
    """Build up to ``n`` mutants (stopping after ``seconds``) in ``workers`` forked processes
    (worker k draws from seed + k); record every failure."""
    if workers <= 1:
        return _fuzz_loop(seeds, n, seconds, seed, work, save, progress, op_share)
    import multiprocessing
    global _WORKER_ARGS
    _WORKER_ARGS = (seeds, -(-n // workers), seconds, seed, work, save, progress, op_share)
    t0 = time.monotonic()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.map(_fuzz_worker, range(workers))
    st = FuzzStats()
    for p in parts:
        st.mutants += p.mutants
        st.ok += p.ok
        st.error += p.error
        st.cpu_seconds += p.cpu_seconds
        st.failures += p.failures
        for k, v in p.by_strategy.items():
            acc = st.by_strategy.setdefault(k, {"ok": 0, "error": 0, "FAIL": 0})
            for kk, vv in v.items():
                acc[kk] += vv
    st.seconds = time.monotonic() - t0
    return st


_WORKER_ARGS: tuple = ()


def _fuzz_worker(k: int) -> FuzzStats:
    seeds, n, seconds, seed, work, save, progress, op_share = _WORKER_ARGS
    w = Path(work) / f"worker{k}"
    w.mkdir(parents=True, exist_ok=True)
    return _fuzz_loop(seeds, n, seconds, seed + k, w, save, progress, op_share)


def _fuzz_loop(seeds, n, seconds, seed, work, save, progress, op_share=0.0) -> FuzzStats:
    rng = np.random.default_rng(seed)
    mut = Mutator(seeds, rng, seed_weights(seeds), op_share)
    st = FuzzStats()
    t0, cpu0 = time.monotonic(), time.process_time()
    with memory_limit(MEMORY_HEADROOM):
        while st.mutants < n and time.monotonic() - t0 < seconds:
            data, desc = mut.mutate()
            kind, why = build_outcome(data, work)
            st.mutants += 1
            strat = desc.split()[0]
            st.by_strategy.setdefault(strat, {"ok": 0, "error": 0, "FAIL": 0})[kind] += 1
            if kind == "ok":
                st.ok += 1
            elif kind == "error":
                st.error += 1
            else:
                path = save_failure(data, save) if save else None
                st.failures.append((desc, why, str(path) if path else None))
                if progress:
                    print(f"FAIL {desc}: {why} -> {path}", flush=True)
            if progress and st.mutants % 500 == 0:
                print(f"[seed {seed}] {st.mutants} mutants, {st.ok} built, {st.error} refused, "
                      f"{len(st.failures)} failures, {time.monotonic() - t0:.0f} s", flush=True)
    st.seconds = time.monotonic() - t0
    st.cpu_seconds = time.process_time() - cpu0
    return st


def save_failure(data: bytes, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"fuzz-{hashlib.sha256(data).hexdigest()[:16]}.tflite"
    path.write_bytes(data)
    return path


@contextmanager
def fast_builds():
    """Mutants exercise validation and codegen, not the planner's search: cap its exact search
    short, and compile the jinja2 templates once instead of once per build. Restored on exit,
    so no other test sees it."""
    import pytest as _pytest
    mp = _pytest.MonkeyPatch()
    try:
        speed_up_builds(mp.setattr)
        yield
    finally:
        mp.undo()


def speed_up_builds(setattr_=setattr):
    """What ``fast_builds`` does, through ``setattr_`` (permanent with the default: only for the
    standalone fuzzer, ``main``)."""
    import tinycc.passes  # noqa: F401
    pa = sys.modules["tinycc.passes.plan_arena"]
    setattr_(pa, "EXACT_STEPS", 3000)
    setattr_(pa.exact, "__defaults__", (3000,))


def _fast_planner(monkeypatch):
    speed_up_builds(monkeypatch.setattr)


# -- tests ----------------------------------------------------------------------------------

def cpu_workers(limit: int = 4) -> int:
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:
        n = os.cpu_count() or 1
    return max(1, min(limit, n))


CI_MUTANTS = int(os.environ.get("TINYCC_FUZZ_MUTANTS", "600"))
CPU_SECONDS_PER_MUTANT = 0.08   # the bar: dev machine 0.03-0.04 s of CPU per mutant (builds, refusals)
CI_MAX_SECONDS = float(os.environ.get("TINYCC_FUZZ_SECONDS", "600"))   # wall clock: stop anyway


@pytest.fixture(scope="module")
def seeds():
    return shared_seeds()


def test_structure_tracing_finds_the_fields(seeds):
    for s in seeds:
        assert len(s.fields) > 100, s.name
        assert all(0 <= p < len(s.data) for p, _ in s.fields)


@pytest.mark.slow
def test_mutants_never_crash(seeds, tmp_path, monkeypatch):
    """The CI fuzz run: 600 mutants (the long run is ``scripts/fuzz.sh``), every one a build or a
    clean error, at most 0.08 s of CPU each on average (CPU time, summed over the worker
    processes, so other jobs on the machine do not make it flaky)."""
    _fast_planner(monkeypatch)
    st = fuzz(seeds, CI_MUTANTS, CI_MAX_SECONDS, seed=int(os.environ.get("TINYCC_FUZZ_SEED", "6")),
              work=tmp_path, save=tmp_path / "failures", workers=cpu_workers())
    print(f"\nfuzz: {st.mutants} mutants in {st.cpu_seconds:.1f} s of CPU ({st.seconds:.1f} s wall, "
          f"{cpu_workers()} workers): {st.ok} built, {st.error} refused; {json.dumps(st.by_strategy)}")
    assert not st.failures, "\n".join(f"{d}: {w} ({p})" for d, w, p in st.failures[:20])
    assert st.mutants >= CI_MUTANTS, f"only {st.mutants} mutants in {st.seconds:.1f} s"
    assert st.error > st.mutants // 4 and st.ok > 0
    assert st.cpu_seconds < CPU_SECONDS_PER_MUTANT * st.mutants, \
        f"{st.mutants} mutants took {st.cpu_seconds:.1f} s of CPU"


def test_fields_at_extremes(tmp_path, monkeypatch):
    """Systematic: every 25th structural field of kws_ref_model (offsets, lengths, vtable
    entries, indices, shapes, types, scales, options), one at a time, set to 0, to all ones
    (-1 / 0xff..) and to the largest positive value."""
    _fast_planner(monkeypatch)
    data = model_path("kws_ref_model").read_bytes()
    fields = structure_fields(data)[::25]
    failures, outcomes = [], {"ok": 0, "error": 0}
    with memory_limit(MEMORY_HEADROOM):
        for pos, code in fields:
            bits = 8 * struct.calcsize("<" + code)
            values = [0.0, float("nan"), 3.4e38] if code == "f" else \
                [0, -1 if code.islower() else (1 << bits) - 1, (1 << (bits - 1)) - 1]
            for v in values:
                m = bytearray(data)
                struct.pack_into("<" + code, m, pos, v)
                kind, why = build_outcome(bytes(m), tmp_path)
                if kind == "FAIL":
                    failures.append(f"field at {pos} ({code}) = {v}: {why}")
                else:
                    outcomes[kind] += 1
    assert len(fields) >= 100
    assert not failures, "\n".join(failures[:20])
    assert outcomes["error"] > len(fields)


def _regression_params():
    params = []
    for f in sorted(REGRESSIONS.glob("*.tflite")):
        xfail = f.with_suffix(".xfail")
        marks = [pytest.mark.xfail(strict=True, reason=xfail.read_text().strip())] if xfail.exists() else []
        params.append(pytest.param(f, id=f.stem, marks=marks))
    return params


def test_regression_folder_is_populated():
    assert list(REGRESSIONS.glob("*.tflite")), "tests/regressions/ holds no regression inputs"


@pytest.mark.parametrize("path", _regression_params())
def test_regression(path, tmp_path, monkeypatch):
    """Every input that once broke tinycc (a traceback, a hang, gigabytes, or C with undefined
    behaviour): now a build or a clean error. ``NAME.expect`` holds a fragment the error must
    contain; ``NAME.xfail`` marks a known open bug (its text says where)."""
    _fast_planner(monkeypatch)
    with memory_limit(MEMORY_HEADROOM):
        kind, why = build_outcome(path.read_bytes(), tmp_path, fname=path.name)
    assert kind != "FAIL", f"{path.name}: {why}"
    expect = path.with_suffix(".expect")
    if expect.exists():
        frag = expect.read_text().strip()
        assert kind == "error" and frag in why, f"{path.name}: expected an error containing {frag!r}, got {why!r}"


# -- the CLI as a subprocess ----------------------------------------------------------------

def test_cli_on_mutants(seeds, tmp_path):
    """Exit status 0 or 2 only; on 2 exactly one stderr line and no output folder."""
    rng = np.random.default_rng(1)
    mut = Mutator(seeds, rng)
    procs = []
    cases = [mut.mutate(s) for s in ("field", "fields", "truncate", "splice", "flip", "byte", "chunk", "field",
                                      "fields", "truncate", "field", "fields")]
    for k, (data, desc) in enumerate(cases):
        f = tmp_path / f"m{k}.tflite"
        f.write_bytes(data)
        out = tmp_path / f"out{k}"
        procs.append((desc, f, out, subprocess.Popen(
            [sys.executable, "-m", "tinycc", "build", str(f), "-o", str(out)], cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        if len(procs) % 4 == 0:
            for p in procs[-4:]:
                p[3].wait(timeout=120)
    codes = []
    for desc, f, out, p in procs:
        stdout, stderr = p.communicate(timeout=120)
        codes.append(p.returncode)
        assert p.returncode in (0, 2), f"{desc}: exit {p.returncode}\n{stderr}"
        if p.returncode == 2:
            lines = stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("tinycc: error: ") and f.name in lines[0], \
                f"{desc}: {stderr!r}"
            assert not out.exists(), f"{desc}: partial output"
        else:
            assert (out / "model.c").exists() and (out / "model.h").exists()
    assert 2 in codes
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")], "temporary folders left behind"


# -- valid mutants compile --------------------------------------------------------------------

def gcc_compile(out: Path, work: Path) -> None:
    objs = work / "objs"
    objs.mkdir(exist_ok=True)
    for c in sorted(out.glob("*.c")):
        r = subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O0", "-c", str(c), "-I", str(out),
                            "-o", str(objs / (c.stem + ".o"))], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"{c.name}:\n{r.stderr[:2000]}"


def test_valid_mutants_compile(seeds, tmp_path, monkeypatch):
    """Mutants of the small int8 models that still build produce C that gcc compiles (-Werror)."""
    _fast_planner(monkeypatch)
    small = [s for s in seeds if s.name in ("kws_ref_model", "ad01_int8", "ic_resnet8_int8")]
    rng = np.random.default_rng(3)
    mut = Mutator(small, rng)
    built = 0
    for _ in range(200):
        data, desc = mut.mutate(str(rng.choice(["field", "fields", "flip"])))
        kind, why = build_outcome(data, tmp_path)
        assert kind != "FAIL", f"{desc}: {why}"
        if kind == "ok" and data not in [s.data for s in small]:
            gcc_compile(tmp_path / "out", tmp_path)
            built += 1
            if built == 4:
                break
    assert built >= 2


# -- random op parameters (hypothesis) ----------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as hs  # noqa: E402

from tinycc.testing.tflite_writer import ModelBuilder  # noqa: E402

OP_KINDS = ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD",
            "SOFTMAX", "RESHAPE"]
EXTREME_INTS = [0, -1, 2, 3, 1 << 16, 1 << 20, 2**31 - 1, -(2**31)]
EXTREME_SCALES = [0.0, -1.0, float("nan"), float("inf"), 1e-38, 1e-30, 1e-12, 1e-6, 1e6, 1e12, 1e30, 3e38]
EXTREME_ZPS = [-129, 128, 255, -32768, 2**31 - 1]


class HypothesisChooser:
    """Choices drawn by hypothesis (so failures shrink)."""

    def __init__(self, draw):
        self.draw = draw

    def int(self, lo, hi):
        return self.draw(hs.integers(lo, hi))

    def choice(self, seq):
        return self.draw(hs.sampled_from(list(seq)))

    def chance(self, percent):
        return self.draw(hs.integers(0, 99)) < percent

    def log_uniform(self, lo, hi):
        return float(np.exp(self.draw(hs.floats(np.log(lo), np.log(hi)))))

    def seed(self):
        return self.draw(hs.integers(0, 2**32 - 1))


class RngChooser:
    """The same choices from a seeded numpy generator (for samples outside hypothesis)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def int(self, lo, hi):
        return int(self.rng.integers(lo, hi, endpoint=True))

    def choice(self, seq):
        seq = list(seq)
        return seq[int(self.rng.integers(len(seq)))]

    def chance(self, percent):
        return self.rng.random() * 100 < percent

    def log_uniform(self, lo, hi):
        return float(np.exp(self.rng.uniform(np.log(lo), np.log(hi))))

    def seed(self):
        return int(self.rng.integers(2**32))


def random_op_model(c, extreme_percent: int = 8) -> tuple[str, bytes]:
    """A one-op model: consistent shapes and quantization, with each parameter replaced by an
    extreme or wrong value (0, -1, 2^31-1, NaN scales, out-of-range zero points, ...) with
    probability ``extreme_percent``."""
    def maybe(valid, extremes):
        return c.choice(extremes) if c.chance(extreme_percent) else valid

    from tinycc.testing.models import conv_output_size
    kind = c.choice(OP_KINDS)
    dtype = c.choice(["int8", "int8", "float32"])
    rng = np.random.default_rng(c.seed())
    b = ModelBuilder()

    def quant(percent_none=0):
        if dtype == "float32" or c.chance(percent_none):
            return {}
        return dict(scale=maybe(c.log_uniform(1e-3, 1.0), EXTREME_SCALES),
                    zero_point=maybe(c.int(-128, 127), EXTREME_ZPS))

    def act_tensor(shape, name, q=None):
        return b.tensor([maybe(d, EXTREME_INTS) for d in shape], dtype, name=name,
                        **(quant() if q is None else q))

    act = c.choice(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])
    n, h, w, ch = c.int(1, 2), c.int(1, 9), c.int(1, 9), c.int(1, 6)
    inputs, ins, opts = [], [], {}
    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"):
        kh, kw = c.int(1, 4), c.int(1, 4)
        sh, sw = maybe(c.int(1, 3), EXTREME_INTS), maybe(c.int(1, 3), EXTREME_INTS)
        pad = c.choice(["SAME", "VALID"])
        pool = kind.endswith("POOL_2D")
        dh, dw = (1, 1) if pool else (maybe(c.int(1, 2), EXTREME_INTS), maybe(c.int(1, 2), EXTREME_INTS))
        oh = conv_output_size(h, kh, max(sh, 1), max(dh, 1), pad)
        ow = conv_output_size(w, kw, max(sw, 1), max(dw, 1), pad)
        x = act_tensor([n, h, w, ch], "x")
        inputs.append(x)
        if pool:
            q = b._tensors[x]
            same = {} if dtype == "float32" else dict(scale=q.scale, zero_point=q.zero_point)
            y = act_tensor([n, oh, ow, ch], "y", same if c.chance(80) else None)
            opts = dict(padding=pad, stride_h=sh, stride_w=sw, filter_h=maybe(kh, EXTREME_INTS),
                        filter_w=maybe(kw, EXTREME_INTS), fused_activation=act)
            ins = [x]
        else:
            if kind == "CONV_2D":
                groups = c.choice([1, 1, 1, ch]) if ch > 1 else 1
                oc = c.int(1, 6) * groups
                wshape, out_c, axis = [oc, kh, kw, ch // groups], oc, 0
            else:
                mult = c.int(1, 3)
                out_c = ch * mult
                wshape, axis = [1, kh, kw, out_c], 3
                opts["depth_multiplier"] = maybe(mult, EXTREME_INTS)
            ins = [x, weights_tensor(b, c, rng, wshape, dtype, out_c, axis, maybe)]
            ins += bias_tensor(b, c, rng, dtype, out_c, maybe)
            y = act_tensor([n, oh, ow, out_c], "y")
            opts.update(padding=pad, stride_h=sh, stride_w=sw, dilation_h=dh, dilation_w=dw, fused_activation=act)
    elif kind == "FULLY_CONNECTED":
        depth, units = c.int(1, 24), c.int(1, 8)
        x = act_tensor(c.choice([[n, depth], [n, 1, 1, depth], [n * depth]]), "x")
        inputs.append(x)
        ins = [x, weights_tensor(b, c, rng, [units, depth], dtype, units, 0, maybe)]
        ins += bias_tensor(b, c, rng, dtype, units, maybe)
        y = act_tensor([n, units], "y")
        opts = dict(fused_activation=act, keep_num_dims=c.chance(20))
    elif kind == "ADD":
        shape = [n, h, w, ch][c.int(0, 3):]
        other = [d if c.chance(70) else 1 for d in shape][c.int(0, len(shape)):]
        x = act_tensor(shape, "a")
        inputs.append(x)
        if c.chance(70):
            x2 = act_tensor(other, "b")
            inputs.append(x2)
        else:
            data = rng.integers(-128, 128, size=other) if dtype == "int8" else rng.standard_normal(other)
            x2 = b.tensor(other, dtype, data=data, name="c", **quant())
        ins = [x, x2] if c.chance(80) else [x2, x]
        y = act_tensor(list(np.broadcast_shapes(tuple(shape), tuple(other))), "y")
        opts = dict(fused_activation=act)
    elif kind == "SOFTMAX":
        shape = c.choice([[n, ch * 3], [n, h, w, ch], [ch]])
        x = act_tensor(shape, "x")
        inputs.append(x)
        ins = [x]
        yq = {} if dtype == "float32" else maybe(dict(scale=1 / 256, zero_point=-128), [quant()])
        y = act_tensor(shape, "y", yq)
        opts = dict(beta=maybe(c.log_uniform(0.1, 10), [0.0, -1.0, float("nan"), float("inf"), 1e-30, 1e30, 100.0]))
    else:  # RESHAPE
        shape = [n, h, w, ch]
        x = act_tensor(shape, "x")
        inputs.append(x)
        new = c.choice([[n * h * w * ch], [n, h * w * ch], [n, h, w * ch], [h, n, w, ch, 1]])
        q = b._tensors[x]
        same = {} if dtype == "float32" else dict(scale=q.scale, zero_point=q.zero_point)
        y = act_tensor(new, "y", same if c.chance(85) else None)
        ins = [x]
        if c.chance(60):
            new_data = [maybe(d, EXTREME_INTS) for d in new]
            ins.append(b.tensor([len(new_data)], "int32", data=np.array(new_data, np.int32), name="shape"))
        elif c.chance(30):
            ins.append(-1)
    b.op(kind, ins, [y], **opts)
    return kind, b.build(inputs, [y])


def weights_tensor(b, c, rng, shape, dtype, channels, axis, maybe):
    wdt = "int8" if dtype == "int8" or c.chance(25) else "float32"  # float32 + int8 weights: hybrid
    if wdt == "float32":
        return b.tensor(shape, "float32", data=rng.standard_normal(shape) * 0.5, name="w")
    per_channel = c.chance(60)
    scales = ([c.log_uniform(1e-4, 0.1) for _ in range(channels)] if per_channel else c.log_uniform(1e-4, 0.1))
    scales = maybe(scales, EXTREME_SCALES + [[0.01] * (channels + 1), [0.01, 0.0] * channels])
    return b.tensor(shape, "int8", data=rng.integers(-127, 128, size=shape), name="w", scale=scales,
                    zero_point=maybe(0, [1, -128, 127]), quantized_dimension=maybe(axis, [axis + 1, -1, 9]))


def bias_tensor(b, c, rng, dtype, channels, maybe) -> list:
    if c.chance(20):
        return [] if c.chance(50) else [-1]
    nb = maybe(channels, [channels + 1, 1, 0])
    if dtype == "int8":
        data = rng.integers(-3000, 3000, size=[nb]) if c.chance(90) else np.full([nb], c.choice([2**31 - 1, -(2**31)]))
        return [b.tensor([nb], "int32", data=data, name="bias")]
    return [b.tensor([nb], "float32", data=rng.standard_normal([nb]), name="bias")]


@hs.composite
def op_models(draw):
    return random_op_model(HypothesisChooser(draw))


@settings(max_examples=int(os.environ.get("TINYCC_FUZZ_EXAMPLES", "250")), deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(case=op_models())
def test_random_op_parameters(case):
    kind, data = case
    with tempfile.TemporaryDirectory() as tmp, fast_builds():
        with memory_limit(MEMORY_HEADROOM):
            outcome, why = build_outcome(data, Path(tmp), fname=f"{kind.lower()}.tflite")
        assert outcome != "FAIL", f"{kind}: {why}"


# -- determinism --------------------------------------------------------------------------------

def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("name", SHARED_MODELS)
def test_shared_model_builds_are_byte_identical(name, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    driver.build(str(model_path(name)), str(a), "net")
    driver.build(str(model_path(name)), str(b), "net")
    assert _tree(a) == _tree(b)


def test_random_network_builds_are_byte_identical(tmp_path):
    from tinycc.testing import models as M
    for seed in range(6):
        for dtype in ("int8", "float32"):
            f = tmp_path / f"net{seed}{dtype}.tflite"
            f.write_bytes(M.random_network(np.random.default_rng(seed), dtype))
            assert f.read_bytes() == M.random_network(np.random.default_rng(seed), dtype)
            driver.build(str(f), str(tmp_path / "a"))
            driver.build(str(f), str(tmp_path / "b"))
            assert _tree(tmp_path / "a") == _tree(tmp_path / "b"), f"seed {seed} {dtype}"


def test_build_does_not_depend_on_machine_speed(tmp_path, monkeypatch):
    """The same model on this machine and on a 'very slow' one, where every clock read is a
    second later than the last: no pass may cut its work by the clock."""
    import itertools
    import time as time_module
    from tinycc.testing import models as M
    f = tmp_path / "net.tflite"
    f.write_bytes(M.random_network(np.random.default_rng(30), "int8"))
    driver.build(str(f), str(tmp_path / "fast"))
    tick = itertools.count()
    for clock in ("perf_counter", "monotonic", "time", "process_time"):
        monkeypatch.setattr(time_module, clock, lambda: float(next(tick)))
    driver.build(str(f), str(tmp_path / "slow"))
    assert _tree(tmp_path / "fast") == _tree(tmp_path / "slow")


# -- long run -------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="tinycc fuzzing: mutants of the shared models through driver.build")
    ap.add_argument("n", nargs="?", type=int, default=100000, help="mutants (default 100000)")
    ap.add_argument("seconds", nargs="?", type=float, default=3600, help="time limit (default 3600)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--save", default=str(REGRESSIONS), help="where failing inputs go")
    ap.add_argument("--ops", type=float, default=0.15,
                    help="share of random single-op models (test_random_op_parameters' generator) among the inputs")
    ap.add_argument("--workers", type=int, default=cpu_workers(16), help="processes (default: one per CPU)")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())
    if not MODELS_DIR.is_dir():
        print(f"shared models not found in {MODELS_DIR} (set TINYCC_MODELS)", file=sys.stderr)
        return 2
    speed_up_builds()  # for the whole run
    seeds = shared_seeds(MODELS_DIR)
    print(f"fuzzing: seed {seed}, up to {args.n} mutants or {args.seconds:.0f} s; failures -> {args.save}", flush=True)
    with tempfile.TemporaryDirectory(prefix="tinycc-fuzz-") as tmp:
        st = fuzz(seeds, args.n, args.seconds, seed, Path(tmp), save=Path(args.save), progress=True,
                  workers=args.workers, op_share=args.ops)
    print(f"done: {st.mutants} mutants in {st.seconds:.0f} s ({st.mutants / max(st.seconds, 1e-9):.0f}/s), "
          f"{st.ok} built, {st.error} refused, {len(st.failures)} failures")
    print(json.dumps(st.by_strategy))
    for desc, why, path in st.failures:
        print(f"  {path}: {desc}: {why}")
    return 1 if st.failures else 0


if __name__ == "__main__":
    sys.exit(main())
