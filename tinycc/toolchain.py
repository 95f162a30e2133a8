"""Build, run and measure C code emitted by tinycc.

This module wraps the external tools used by ``tinycc verify`` and the
tests:

* ``gcc`` for host builds of the verification harness,
* ``arm-none-eabi-gcc`` (with newlib) for Cortex-M builds,
* ``qemu-system-arm`` to run those builds on an emulated MPS2/MPS3 board,
* ``arm-none-eabi-size`` to measure the code/data footprint of objects.

The harness protocol (see ``runtime/board/harness.c``): the program reads
``inputs.bin`` from its working directory (samples back to back, each one
the concatenation of all inputs), writes ``outputs.bin`` (all outputs of
each sample) and ``ticks.bin`` (one little-endian uint32 per sample) and
prints ``tinycc-harness: N samples``.

Boards: every target runs in QEMU on an Arm FPGA board that has its core
(:data:`BOARDS`, :data:`QEMU_BOARDS`): mps2-an385 (Cortex-M3; also runs the
ARMv6-M code of cortex-m0), mps2-an386 (M4F), mps2-an500 (M7, double-precision
FPU), mps2-an505 (M33, TrustZone, run in Secure state) and mps3-an547 (M55
with MVE, TrustZone, Secure state). One startup file and one semihosting /
SysTick layer (``runtime/board/mps2/``) serve them all; each board has its
linker script there.

Timing under QEMU: the board runs SysTick from the processor clock and QEMU
is started with ``-icount shift=0`` (exactly one instruction per virtual
nanosecond), so one timer tick is a fixed number of executed instructions:
40 on the 25 MHz MPS2 boards (:data:`QEMU_INSTRUCTIONS_PER_TICK`), 50 on the
20 MHz AN505 and 125 on the 32 MHz AN547 (where a tick is 4 SysTick periods
of 31.25 instructions), see :func:`instructions_per_tick`. The numbers are
instruction counts, not cycle counts of a real core.

Every failure (tool missing, compile error, crash, timeout, malformed
harness output) raises :class:`ToolchainError`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from . import objcache, resources

PathLike = Union[str, "os.PathLike[str]"]

#: The ``runtime/`` folder (``tinycc.resources`` finds it in a checkout or an installed wheel).
RUNTIME_DIR = resources.RUNTIME
#: Board support: ``board.h``, ``harness.c``, ``host.c`` and ``mps2/``.
BOARD_DIR = resources.BOARD
HARNESS_SOURCE = BOARD_DIR / "harness.c"
HOST_BOARD_SOURCE = BOARD_DIR / "host.c"
#: Startup, semihosting/SysTick and linker scripts of every QEMU board.
MPS2_DIR = BOARD_DIR / "mps2"
MPS2_SOURCES = (MPS2_DIR / "startup.c", MPS2_DIR / "semihost.c")
#: The linker script of mps2-an385, mps2-an386 and mps2-an500.
MPS2_LINKER_SCRIPT = MPS2_DIR / "mps2.ld"

#: Executed instructions per harness timer tick on the 25 MHz MPS2 boards
#: (mps2-an385/an386/an500; 1 instruction/ns under ``-icount shift=0``,
#: SysTick at 25 MHz). Other boards: :func:`instructions_per_tick`.
QEMU_INSTRUCTIONS_PER_TICK = 40

#: Exit status of a board fault handler (``BOARD_EXIT_FAULT`` in board.h).
EXIT_FAULT = 3
#: Harness exit statuses.
EXIT_INVOKE_FAILED = 1
EXIT_IO_ERROR = 2

HOST_CC = os.environ.get("TINYCC_HOST_CC", "gcc")
ARM_CC = "arm-none-eabi-gcc"
ARM_SIZE = "arm-none-eabi-size"
QEMU_ARM = "qemu-system-arm"

# Flags shared by every compile.
_COMMON_CFLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror")
_ARM_CFLAGS = ("-ffunction-sections", "-fdata-sections")

_CPU_FLAGS: dict[str, tuple[str, ...]] = {
    "cortex-m0": ("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"),
    "cortex-m3": ("-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"),
    "cortex-m4": ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"),
    "cortex-m7": ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"),
    "cortex-m33": ("-mcpu=cortex-m33", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"),
    "cortex-m55": ("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"),
}


@dataclass(frozen=True)
class Board:
    """A QEMU machine the harness runs on, and how it is built for.

    ``instructions_per_tick`` is the calibration of the harness timer under
    ``-icount shift=0``: 1e9 / ``cpu_hz`` instructions per SysTick period,
    times ``systick_per_tick`` periods per timer tick. The linker script
    carries the same two numbers (``__board_systick_per_tick``,
    ``__board_instructions_per_tick``) for ``runtime/board/mps2/semihost.c``.
    """

    machine: str               # qemu-system-arm -M
    core: str                  # the core QEMU emulates on it
    linker_script: Path
    cpu_hz: int                # SysTick clock (processor clock)
    systick_per_tick: int
    instructions_per_tick: int
    code: str                  # memory map summary (see the linker script)
    ram: str


#: Every QEMU machine used, by name. Memory addresses are those the program
#: uses: on the TrustZone boards (AN505, AN547) it runs in Secure state from
#: the Secure aliases (address bit 28 set).
BOARDS: dict[str, Board] = {
    "mps2-an385": Board("mps2-an385", "cortex-m3", MPS2_LINKER_SCRIPT, 25_000_000, 1, 40,
                        "0x00000000 4 MB ZBT SSRAM1", "0x20000000 4 MB ZBT SSRAM2/3"),
    "mps2-an386": Board("mps2-an386", "cortex-m4", MPS2_LINKER_SCRIPT, 25_000_000, 1, 40,
                        "0x00000000 4 MB ZBT SSRAM1", "0x20000000 4 MB ZBT SSRAM2/3"),
    "mps2-an500": Board("mps2-an500", "cortex-m7", MPS2_LINKER_SCRIPT, 25_000_000, 1, 40,
                        "0x00000000 4 MB ZBT SSRAM1", "0x20000000 4 MB ZBT SSRAM2/3"),
    "mps2-an505": Board("mps2-an505", "cortex-m33", MPS2_DIR / "mps2-an505.ld", 20_000_000, 1, 50,
                        "0x10000000 4 MB ZBT SSRAM1 (Secure alias)",
                        "0x38000000 4 MB ZBT SSRAM2/3 (Secure alias)"),
    "mps3-an547": Board("mps3-an547", "cortex-m55", MPS2_DIR / "mps3-an547.ld", 32_000_000, 4, 125,
                        "0x10000000 512 KB ITCM (code) + 0x38000000 8 MB QSPI flash (constants), "
                        "Secure aliases",
                        "0x31000000 4 MB SRAM (Secure alias)"),
}

#: Target -> QEMU machine that emulates a board with that core.
QEMU_BOARDS: dict[str, str] = {
    "cortex-m0": "mps2-an385",  # ARMv6-M code runs on the AN385's Cortex-M3
    "cortex-m3": "mps2-an385",
    "cortex-m4": "mps2-an386",
    "cortex-m7": "mps2-an500",
    "cortex-m33": "mps2-an505",
    "cortex-m55": "mps3-an547",
}

#: Targets that build and run under QEMU (all of them).
QEMU_SUPPORTED_TARGETS = frozenset(QEMU_BOARDS)

TARGETS = tuple(_CPU_FLAGS)


class ToolchainError(RuntimeError):
    """A tool is missing, failed, timed out or produced unexpected output.

    ``returncode`` and ``output`` carry the failing process's exit status
    and combined stdout/stderr when there was a process.
    """

    def __init__(self, message: str, *, returncode: int | None = None,
                 output: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.output = output


class ToolchainTimeout(ToolchainError):
    """A program ran longer than its timeout and was killed."""


# ---------------------------------------------------------------------------
# Targets and tools
# ---------------------------------------------------------------------------

def normalize_target(target: str) -> str:
    """Return the canonical target name ("m4", "Cortex-M4" -> "cortex-m4")."""
    name = target.strip().lower()
    if not name.startswith("cortex-"):
        name = "cortex-" + name
    if name not in _CPU_FLAGS:
        raise ToolchainError(
            f"unknown target {target!r}; expected one of: {', '.join(TARGETS)}")
    return name


def cpu_flags(target: str) -> list[str]:
    """arm-none-eabi-gcc code generation flags for ``target``."""
    return list(_CPU_FLAGS[normalize_target(target)])


def qemu_machine(target: str) -> str:
    """The QEMU machine for ``target`` ("cortex-m33" -> "mps2-an505")."""
    name = normalize_target(target)
    if name not in QEMU_SUPPORTED_TARGETS:
        raise ToolchainError(f"target {name} cannot run under QEMU")
    return QEMU_BOARDS[name]


def board(target: str) -> Board:
    """The :class:`Board` that ``target``'s code is built for and runs on."""
    return BOARDS[qemu_machine(target)]


def instructions_per_tick(target: str = "cortex-m4") -> int:
    """Executed instructions per harness timer tick on ``target``'s board.

    40 on mps2-an385/an386/an500 (M0, M3, M4, M7), 50 on mps2-an505 (M33),
    125 on mps3-an547 (M55), under ``-icount shift=0``.
    """
    return board(target).instructions_per_tick


def find_tool(name: str) -> str:
    """Absolute path of an executable on PATH, or ToolchainError."""
    path = shutil.which(name)
    if path is None:
        hints = {
            ARM_CC: "install gcc-arm-none-eabi and libnewlib-arm-none-eabi",
            ARM_SIZE: "install binutils-arm-none-eabi",
            QEMU_ARM: "install qemu-system-arm",
        }
        hint = hints.get(name, "install it or put it on PATH")
        raise ToolchainError(f"required tool {name!r} not found on PATH ({hint})")
    return path


def have_tools(*names: str) -> bool:
    """True if all named executables are on PATH (for skipping tests)."""
    return all(shutil.which(n) is not None for n in names)


def have_arm_toolchain() -> bool:
    return have_tools(ARM_CC, ARM_SIZE)


def have_qemu() -> bool:
    return have_tools(ARM_CC, QEMU_ARM)


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

def _run_process(cmd: Sequence[str], cwd: PathLike | None,
                 timeout: float | None) -> tuple[int, str]:
    """Run cmd with stdout+stderr merged; kill its process group on timeout."""
    try:
        proc = subprocess.Popen(
            [str(c) for c in cmd], cwd=None if cwd is None else str(cwd),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        raise ToolchainError(f"cannot run {cmd[0]}: {exc}") from exc
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # The process leads its own session; kill exactly that group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        text = out.decode("utf-8", errors="replace")
        raise ToolchainTimeout(
            f"{Path(str(cmd[0])).name} timed out after {timeout} s and was killed: "
            f"{' '.join(str(c) for c in cmd)}", output=text) from None
    return proc.returncode, out.decode("utf-8", errors="replace")


def _run_tool(cmd: Sequence[str], what: str, timeout: float = 300) -> str:
    """Run a build tool, raising ToolchainError with its output on failure."""
    rc, text = _run_process(cmd, None, timeout)
    if rc != 0:
        raise ToolchainError(
            f"{what} failed (exit status {rc}):\n$ {' '.join(str(c) for c in cmd)}\n"
            f"{text}", returncode=rc, output=text)
    return text


def _define_args(defines: Iterable | Mapping) -> list[str]:
    """-D flags from "NAME", "NAME=VALUE", (NAME, VALUE) or a mapping."""
    items = defines.items() if isinstance(defines, Mapping) else defines
    args = []
    for item in items:
        if isinstance(item, str):
            args.append("-D" + item)
        else:
            name, value = item
            args.append(f"-D{name}" if value is None else f"-D{name}={value}")
    return args


def _include_args(include_dirs: Iterable[PathLike]) -> list[str]:
    """-I flags; the board directory (board.h) is always searched last."""
    dirs = [Path(d) for d in include_dirs] + [BOARD_DIR]
    return ["-I" + str(d) for d in dirs]


def _unique_paths(paths: Iterable[PathLike]) -> list[str]:
    """Paths as strings, dropping later duplicates of the same file."""
    seen: set[Path] = set()
    out = []
    for p in paths:
        key = Path(p).resolve()
        if key not in seen:
            seen.add(key)
            out.append(str(p))
    return out


# ---------------------------------------------------------------------------
# Builds
# ---------------------------------------------------------------------------

def build_host(sources: Iterable[PathLike], include_dirs: Iterable[PathLike],
               out_exe: PathLike, cflags: Iterable[str] = (),
               defines: Iterable | Mapping = ()) -> Path:
    """Compile and link ``sources`` into a host executable.

    Uses ``gcc -std=c99 -O2 -Wall -Wextra -Werror`` and links ``-lm``. For
    the harness, pass ``harness.c`` and ``host.c`` with the model sources
    (or use :func:`build_harness`). Each ``.c`` file is compiled on its own
    (``tinycc.objcache``: an unchanged file is taken from the cache). Returns
    the executable's path.
    """
    cc = find_tool(HOST_CC)
    out = Path(out_exe)
    out.parent.mkdir(parents=True, exist_ok=True)
    cflags, include_dirs = list(cflags), list(include_dirs)
    flags = [*_COMMON_CFLAGS, *cflags, *_define_args(defines), *_include_args(include_dirs)]
    with tempfile.TemporaryDirectory(prefix="tinycc-host-") as tmp:
        objects = _compile(cc, flags, sources, include_dirs, Path(tmp), "host build")
        _run_tool([cc, *_COMMON_CFLAGS, *cflags, *objects, "-o", str(out), "-lm"], "host build")
    return out


def _compile(cc: str, flags: list[str], sources: Iterable[PathLike], include_dirs: Iterable[PathLike],
             work: Path, what: str, extras: tuple[str, ...] = ()) -> list[str]:
    """Objects of the ``.c`` files among ``sources`` (cached, see tinycc.objcache), other files
    (objects, archives) as given, in the order of ``sources``."""
    paths = [Path(p) for p in _unique_paths(sources)]
    c_files = [p for p in paths if p.suffix == ".c"]
    dirs = [Path(d) for d in include_dirs] + [BOARD_DIR]
    objs = iter(objcache.compile_all(cc, flags, c_files, dirs, work,
                                     lambda cmd, src: _run_tool(cmd, f"{what} ({src.name})"), extras))
    return [str(next(objs)) if p.suffix == ".c" else str(p) for p in paths]


def build_arm(sources: Iterable[PathLike], include_dirs: Iterable[PathLike],
              out_elf: PathLike, target: str = "cortex-m4",
              cflags: Iterable[str] = (), defines: Iterable | Mapping = ()) -> Path:
    """Compile and link ``sources`` into an ELF for ``target``'s QEMU board.

    Adds the board files (``mps2/startup.c``, ``mps2/semihost.c``) and the
    board's linker script (``mps2/mps2.ld`` for mps2-an385/an386/an500,
    ``mps2/mps2-an505.ld``, ``mps2/mps3-an547.ld``; see :data:`BOARDS`),
    links newlib-nano's libc/libm (for memcpy/memset/expf; no stdio or
    syscalls) and garbage-collects unused sections. A linker map is written
    next to the ELF (``.map``). Each ``.c`` file is compiled on its own
    (``tinycc.objcache``).
    """
    name = normalize_target(target)
    linker_script = board(name).linker_script
    cc = find_tool(ARM_CC)
    out = Path(out_elf)
    out.parent.mkdir(parents=True, exist_ok=True)
    include_dirs = list(include_dirs)
    common = [*cpu_flags(name), *_COMMON_CFLAGS, *_ARM_CFLAGS, "-g", *cflags, "--specs=nano.specs"]
    flags = [*common, *_define_args(defines), *_include_args(include_dirs)]
    with tempfile.TemporaryDirectory(prefix="tinycc-arm-") as tmp:
        objects = _compile(cc, flags, [*sources, *MPS2_SOURCES], include_dirs, Path(tmp), f"arm build for {name}")
        _run_tool([cc, *common, *objects, "-nostartfiles", "-T", str(linker_script),
                   "-Wl,--gc-sections", f"-Wl,-Map={out.with_suffix('.map')}",
                   "-Wl,--start-group", "-lm", "-lc", "-lgcc", "-Wl,--end-group",
                   "-o", str(out)], f"arm build for {name}")
    return out


def harness_defines(name: str = "model") -> list[str]:
    """-D values that point harness.c at the model ``name`` (NAME.h)."""
    return [f'TCC_MODEL_HEADER="{name}.h"', f"TCC_NAME={name}"]


def build_harness(model_dir: PathLike, out_path: PathLike, mode: str = "host",
                  name: str = "model", target: str = "cortex-m4",
                  cflags: Iterable[str] = (), defines: Iterable | Mapping = (),
                  extra_sources: Iterable[PathLike] = ()) -> Path:
    """Build the verification harness around a generated model folder.

    Compiles every ``*.c`` in ``model_dir`` (plus ``extra_sources``) with
    ``harness.c`` for the host (``mode="host"``) or for QEMU
    (``mode="qemu"``, board ``target``).
    """
    model_dir = Path(model_dir)
    sources = [*sorted(model_dir.glob("*.c")), *extra_sources, HARNESS_SOURCE]
    user_defines = list(defines.items()) if isinstance(defines, Mapping) else list(defines)
    all_defines = [*harness_defines(name), *user_defines]
    if mode == "host":
        return build_host([*sources, HOST_BOARD_SOURCE], [model_dir], out_path,
                          cflags=cflags, defines=all_defines)
    if mode == "qemu":
        return build_arm(sources, [model_dir], out_path, target=target,
                         cflags=cflags, defines=all_defines)
    raise ToolchainError(f"unknown mode {mode!r}; expected 'host' or 'qemu'")


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

def run_host(exe: PathLike, cwd: PathLike, timeout: float = 60) -> tuple[int, str]:
    """Run a host executable in ``cwd``; returns (exit status, output)."""
    exe_path = Path(exe).resolve()
    if not exe_path.is_file():
        raise ToolchainError(f"executable not found: {exe_path}")
    return _run_process([str(exe_path)], cwd, timeout)


def qemu_command(elf: PathLike, target: str = "cortex-m4", log: PathLike | None = None) -> list[str]:
    """The qemu-system-arm command line used to run ``elf`` built for ``target``.

    No ``-cpu`` is given: each machine only accepts its own core (AN385:
    Cortex-M3, AN386: Cortex-M4F, AN500: Cortex-M7, AN505: Cortex-M33,
    AN547: Cortex-M55), which is its default. Semihosting does the I/O and
    ``-icount shift=0`` makes the SysTick count instructions. With ``log``, QEMU writes its
    translation-block log there (what ``tinycc.cycles.profile_log`` reads).
    """
    machine = qemu_machine(target)
    logging = ["-d", "in_asm,exec,nochain", "-D", str(log)] if log is not None else []
    return [find_tool(QEMU_ARM), "-M", machine, "-nographic",
            "-monitor", "none", "-serial", "none",
            "-semihosting-config", "enable=on,target=native",
            "-icount", "shift=0", *logging, "-kernel", str(Path(elf).resolve())]


def run_qemu(elf: PathLike, cwd: PathLike, target: str = "cortex-m4",
             timeout: float = 60, log: PathLike | None = None) -> tuple[int, str]:
    """Run an ELF built by :func:`build_arm` under QEMU in ``cwd``.

    Semihosting file names are relative to ``cwd``. The exit status is the
    program's (main's return value, or 3 after a fault).
    """
    if not Path(elf).is_file():
        raise ToolchainError(f"ELF not found: {elf}")
    return _run_process(qemu_command(elf, target, log), cwd, timeout)


_SAMPLES_RE = re.compile(r"tinycc-harness: (\d+) samples")
_PER_TICK_RE = re.compile(r"tinycc-harness: \d+ samples, (\d+) instructions per tick")


def run_samples(exe_or_elf: PathLike, input_bytes: bytes, sample_count: int,
                mode: str = "host", target: str = "cortex-m4",
                timeout: float = 60,
                workdir: PathLike | None = None,
                qemu_log: PathLike | None = None
                ) -> tuple[bytes, list[int], list[int] | None]:
    """Run the harness on ``sample_count`` samples packed in ``input_bytes``.

    Returns ``(outputs, ticks, instructions)``: the raw bytes of
    ``outputs.bin`` (all outputs of sample 0, then sample 1, ...), the
    per-sample timer ticks and, for ``mode="qemu"``, the per-sample
    instruction counts (``ticks`` times the board's instructions per tick,
    which the harness reports and which must agree with
    :func:`instructions_per_tick`); for ``mode="host"`` the ticks are
    all 0 and ``instructions`` is None. ``workdir`` (default: a temporary
    folder, removed afterwards) receives inputs.bin/outputs.bin/ticks.bin; ``qemu_log``
    (qemu only) is where QEMU writes its block log (see :func:`qemu_command`).
    """
    if sample_count < 0:
        raise ToolchainError("sample_count must be >= 0")
    if sample_count and len(input_bytes) % sample_count:
        raise ToolchainError(
            f"{len(input_bytes)} input bytes do not split into {sample_count} samples")
    if mode not in ("host", "qemu"):
        raise ToolchainError(f"unknown mode {mode!r}; expected 'host' or 'qemu'")

    with tempfile.TemporaryDirectory(prefix="tinycc-run-") as tmp:
        cwd = Path(workdir) if workdir is not None else Path(tmp)
        cwd.mkdir(parents=True, exist_ok=True)
        for stale in ("outputs.bin", "ticks.bin"):
            (cwd / stale).unlink(missing_ok=True)
        (cwd / "inputs.bin").write_bytes(bytes(input_bytes))

        if mode == "host":
            rc, log = run_host(exe_or_elf, cwd, timeout)
        else:
            rc, log = run_qemu(exe_or_elf, cwd, target, timeout, log=qemu_log)
        if rc != 0:
            reason = {EXIT_INVOKE_FAILED: "invoke returned an error",
                      EXIT_IO_ERROR: "harness I/O error",
                      EXIT_FAULT: "the program faulted"}.get(rc, "harness failed")
            raise ToolchainError(f"{reason} (exit status {rc}):\n{log}",
                                 returncode=rc, output=log)

        match = _SAMPLES_RE.search(log)
        if match is None:
            raise ToolchainError(f"harness did not report a sample count:\n{log}",
                                 returncode=rc, output=log)
        ran = int(match.group(1))
        if ran != sample_count:
            raise ToolchainError(
                f"harness ran {ran} samples, expected {sample_count}:\n{log}",
                returncode=rc, output=log)

        try:
            outputs = (cwd / "outputs.bin").read_bytes()
            tick_bytes = (cwd / "ticks.bin").read_bytes()
        except OSError as exc:
            raise ToolchainError(f"harness output missing: {exc}\n{log}",
                                 returncode=rc, output=log) from exc

    if len(tick_bytes) != 4 * sample_count:
        raise ToolchainError(
            f"ticks.bin has {len(tick_bytes)} bytes, expected {4 * sample_count}")
    if sample_count and len(outputs) % sample_count:
        raise ToolchainError(
            f"outputs.bin has {len(outputs)} bytes, not a multiple of {sample_count}")
    ticks = list(struct.unpack(f"<{sample_count}I", tick_bytes))
    instructions = None
    if mode == "qemu":
        per_tick = instructions_per_tick(target)
        reported = _PER_TICK_RE.search(log)
        if reported is not None and int(reported.group(1)) != per_tick:
            raise ToolchainError(
                f"the program reports {reported.group(1)} instructions per tick, but "
                f"{target} runs on {qemu_machine(target)} with {per_tick}: was it "
                f"built for another board?\n{log}", returncode=rc, output=log)
        instructions = [t * per_tick for t in ticks]
    return outputs, ticks, instructions


# ---------------------------------------------------------------------------
# Footprint
# ---------------------------------------------------------------------------

# Section name -> category; the names produced by -ffunction-sections and
# -fdata-sections (".text.f", ".rodata.x", ".rodata.str1.4", ...) included.
_SECTION_GROUPS = (
    ("text", re.compile(r"^\.text(\..*)?$")),
    ("rodata", re.compile(r"^\.rodata(\..*)?$|^\.ARM\.(exidx|extab)(\..*)?$")),
    ("data", re.compile(r"^\.data(\..*)?$")),
    ("bss", re.compile(r"^\.bss(\..*)?$")),
)


def _parse_size_sysv(text: str) -> dict[str, int]:
    """Sum section sizes from ``arm-none-eabi-size -A`` output by category."""
    totals = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        section, size = parts[0], int(parts[1])
        for group, pattern in _SECTION_GROUPS:
            if pattern.match(section):
                totals[group] += size
                break
    return totals


def object_sizes(objects_or_sources: Iterable[PathLike], target: str = "cortex-m4",
                 include_dirs: Iterable[PathLike] = (), cflags: Iterable[str] = (),
                 defines: Iterable | Mapping = ()) -> dict[str, int]:
    """Code and data footprint of the given objects / C sources.

    ``.c`` files are compiled for ``target`` with the same flags as
    :func:`build_arm` (``-O2``, per-function/per-data sections); ``.o``
    files are measured as they are. Returns byte totals::

        {"text", "rodata", "data", "bss", "flash", "ram"}

    where flash = text + rodata + data (the .data image lives in flash) and
    ram = data + bss. This counts only the given code (not the harness,
    board or C library) and is measured before linking, so functions the
    linker would drop as unused are included. Stack use is not included.
    """
    name = normalize_target(target)
    include_dirs = list(include_dirs)
    flags = [*cpu_flags(name), *_COMMON_CFLAGS, *_ARM_CFLAGS, *cflags, *_define_args(defines),
             *_include_args(include_dirs)]
    with tempfile.TemporaryDirectory(prefix="tinycc-size-") as tmp:
        objects = _compile(find_tool(ARM_CC), flags, objects_or_sources, include_dirs, Path(tmp),
                           f"compiling for {name}")
        return _sizes_of(Path(o) for o in objects)


def _sizes_of(objects: Iterable[Path]) -> dict[str, int]:
    """Section totals of compiled objects (see object_sizes)."""
    objects = [str(o) for o in objects]
    totals = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    if objects:
        text = _run_tool([find_tool(ARM_SIZE), "-A", "-d", *objects], "measuring the objects")
        totals.update(_parse_size_sysv(text))
    totals["flash"] = totals["text"] + totals["rodata"] + totals["data"]
    totals["ram"] = totals["data"] + totals["bss"]
    return totals


def function_sizes(sources: Iterable[PathLike], target: str = "cortex-m4",
                   include_dirs: Iterable[PathLike] = ()) -> tuple[dict[str, int], dict[str, set[str]]]:
    """(bytes of code of every function defined in the C ``sources``, compiled as
    :func:`object_sizes` compiles them, from ``arm-none-eabi-nm -S``; {function: functions it
    calls}, from GCC's call graph). Static functions GCC inlined are part of their caller."""
    name = normalize_target(target)
    include_dirs = list(include_dirs)
    nm = find_tool("arm-none-eabi-nm")
    sizes: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    flags = [*cpu_flags(name), *_COMMON_CFLAGS, *_ARM_CFLAGS, *_include_args(include_dirs), "-fcallgraph-info"]
    with tempfile.TemporaryDirectory(prefix="tinycc-nm-") as tmp:
        for obj in map(Path, _compile(find_tool(ARM_CC), flags, sources, include_dirs, Path(tmp),
                                      f"compiling for {name}", (".ci",))):
            for line in _run_tool([nm, "-S", "--defined-only", str(obj)], f"listing {obj.name}").splitlines():
                parts = line.split()
                if len(parts) == 4 and parts[2] in "Tt":
                    sizes[parts[3]] = sizes.get(parts[3], 0) + int(parts[1], 16)
            for src, dst in _CI_EDGE.findall(obj.with_suffix(".ci").read_text()):
                calls.setdefault(_plain(src), set()).add(_plain(dst))
    return sizes, calls


# ---------------------------------------------------------------------------
# Stack
# ---------------------------------------------------------------------------

_CI_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "[^"]*?\\n[^"]*?\\n(\d+) bytes \((\w+)\)')
_CI_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
_OD_FUNCTION = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
_OD_RELOC = re.compile(r"^\s+[0-9a-f]+: (R_ARM_\w+)\s+(\S+)")
_CALL_RELOCS = ("R_ARM_THM_CALL", "R_ARM_THM_JUMP24", "R_ARM_THM_JUMP19", "R_ARM_THM_XPC22")
_OD_INSN = re.compile(r"^\s+[0-9a-f]+:\t([a-z][\w.]*)\t?([^\t]*)")
_OD_TARGET = re.compile(r"<([^>+]+)>$")
_BRANCHES = ("b", "bl", "blx")
_IMM = re.compile(r"#(-?\d+)")


def _sp_change(mnemonic: str, operands: str) -> int | None:
    """Bytes one instruction moves SP down (negative: up); 0 if it leaves SP alone; None if it sets
    SP from a register (a frame the object code cannot tell)."""
    base = mnemonic.split(".")[0]
    ops = operands.split("@")[0].strip()
    words = [w.strip() for w in ops.split(",")]
    if base in ("push", "pop", "vpush", "vpop") or (
            base in ("stmdb", "stmfd", "ldmia", "ldmfd", "ldm", "vstmdb", "vldmia") and words[0] == "sp!"):
        from .cycles import register_list     # (the cycle model's ~30 patterns: compiled only when a frame is read)
        regs = register_list(ops)
        size = sum(8 if r.startswith("d") else 4 for r in regs)
        return size if base in ("push", "vpush", "stmdb", "stmfd", "vstmdb") else -size
    if words[0] == "sp" and base in ("sub", "subw", "add", "addw") and (m := _IMM.search(ops)):
        return int(m.group(1)) * (1 if base.startswith("sub") else -1)
    if "[sp" in ops and (m := re.search(r"\[sp, #(-?\d+)\]!", ops)):
        return -int(m.group(1))                  # str rX, [sp, #-8]! (pre-indexed)
    if "[sp]," in ops and (m := _IMM.search(ops.split("[sp],")[1])):
        return -int(m.group(1))                  # ldr rX, [sp], #8 (post-indexed)
    if words[0] == "sp!" or (words[0] == "sp" and not base.startswith(("ld", "st", "vld", "vst", "cmp", "cmn", "tst", "teq"))):
        return None
    return 0


def object_frames(obj: PathLike) -> tuple[dict[str, int], dict[str, set[str]], set[str]]:
    """Each function's deepest stack from its object code, its calls, and the functions that set
    SP from a register.

    Walks every function of ``obj`` (arm-none-eabi-objdump -dr) in address order, adding what
    each push/stmdb sp!/vpush/sub sp takes and subtracting what pop/ldmia sp!/add sp gives back
    (except a pop that returns: the code after it is reached from the body), and keeps the
    deepest point: for a naked asm function, which GCC's call graph counts as 0 B, this is its
    frame. Calls are the BL/B.W relocations (an object) or the BL/B/BLX to another function's
    start (a linked ELF, tail calls counted as calls), so calls made from asm count too."""
    text = _run_tool([find_tool("arm-none-eabi-objdump"), "-dr", "--no-show-raw-insn", str(obj)],
                     f"disassembling {Path(obj).name}")
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    unknown: set[str] = set()
    fn, depth = None, 0
    for line in text.splitlines():
        if m := _OD_FUNCTION.match(line):
            fn, depth = m.group(1), 0
            frames[fn] = 0
        elif fn is None:
            continue
        elif (m := _OD_RELOC.match(line)) and m.group(1) in _CALL_RELOCS:
            calls.setdefault(fn, set()).add(_symbol(m.group(2)))
        elif m := _OD_INSN.match(line):
            target = _OD_TARGET.search(m.group(2).strip())
            if m.group(1).split(".")[0] in _BRANCHES and target and target.group(1) != fn:
                calls.setdefault(fn, set()).add(target.group(1))
            change = _sp_change(m.group(1), m.group(2))
            if change is None:
                unknown.add(fn)
            elif not (change < 0 and re.search(r"\bpc\}", m.group(2))):   # code after a return
                depth += change                                          # runs at the body's depth
                frames[fn] = max(frames[fn], depth)
    return frames, calls, unknown


def _symbol(reloc_value: str) -> str:
    """The function a relocation names ('.text.fn+0x4' -> 'fn': static functions are referred to
    through their section with -ffunction-sections)."""
    sym = reloc_value.split("+")[0]
    return sym[len(".text."):] if sym.startswith(".text.") else sym


def address_taken(obj: PathLike) -> set[str]:
    """Every symbol a relocation of ``obj`` refers to other than as a call (code or data:
    function pointers in tables count): the candidates of an indirect call."""
    text = _run_tool([find_tool("arm-none-eabi-objdump"), "-r", str(obj)], f"relocations of {Path(obj).name}")
    return {_symbol(p[2]) for p in (ln.split() for ln in text.splitlines())
            if len(p) == 3 and p[1].startswith("R_ARM_") and p[1] not in _CALL_RELOCS}


def stack_usage(sources: Iterable[PathLike], entry: str, target: str = "cortex-m4",
                include_dirs: Iterable[PathLike] = (), sizes: bool = False, prefix: str | None = None) -> dict:
    """Worst-case stack of ``entry`` (e.g. "model_invoke"), from GCC's call graph and the object code.

    Compiles the sources with ``-fcallgraph-info=su`` (-O2, the build_arm flags). A function's
    frame is the larger of GCC's figure and the deepest point of its object code
    (:func:`object_frames`): GCC counts a naked asm function as 0 B. Its calls are GCC's edges plus
    the call relocations of its code (calls from asm); an indirect call may reach any function
    whose address the code takes. Returns the deepest path:
    ``{"bytes": int, "path": [functions], "frames": [bytes per function on the path],
    "library_calls": [names]}``. Functions the sources call but do not define (the C library:
    expf, memcpy, the EABI helpers) are measured in the libraries they link with
    (:func:`_library_frames`). Recursion, or a function that sets SP from a register and has no
    frame from GCC, is an error. With ``sizes``, also ``"sizes"``: object_sizes of the same objects
    (one compilation for both).

    What one source gives (:func:`_source_facts`) is read, when it can be, from
    ``tinycc/kernel_facts.json`` (the runtime kernels, measured once per tinycc version, see
    scripts/measure_kernel_facts.py) or the cache, without compiling; ``prefix`` (tinycc's
    NAME_: the kernels' symbols are NAME_tcc_*) lets kernels of any model name share them.
    """
    name = normalize_target(target)
    include_dirs = list(include_dirs)
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    pointers: set[str] = set()
    ours: set[str] = set()
    cc = find_tool(ARM_CC)
    flags = [*cpu_flags(name), *_COMMON_CFLAGS, *_ARM_CFLAGS, *_include_args(include_dirs), "-fcallgraph-info=su"]
    paths = [Path(p) for p in sources]
    facts = _source_facts(cc, flags, paths, include_dirs, prefix)
    for path, fact in zip(paths, facts):
        gcc: dict[str, int] = {}
        for fn, size, kind in fact["nodes"]:
            if kind == "dynamic":
                raise ToolchainError(f"{fn} in {path.name} has a dynamic stack frame")
            gcc[_plain(fn)] = int(size)
        for src, dst in fact["edges"]:
            calls.setdefault(src, set()).add(dst)
        code, unknown = fact["code"], set(fact["unknown"])
        pointers.update(fact["pointers"])
        ours.update(gcc, code)
        for fn in sorted(unknown):
            if not gcc.get(fn):
                raise ToolchainError(f"{fn} in {path.name} sets SP from a register: its frame is unknown")
        for fn in {*gcc, *code}:
            frames[fn] = max(gcc.get(fn, 0), code.get(fn, 0) if fn not in unknown else 0)
        for fn, callees in fact["code_calls"].items():
            calls.setdefault(fn, set()).update(callees)
    targets = pointers & frames.keys()
    for fn, callees in calls.items():
        if "__indirect_call" in callees and targets:
            callees.discard("__indirect_call")
            callees.update(targets)
    if entry in frames and set().union(*calls.values()) - frames.keys():
        defined = {s.split()[1] for f in facts for s in f["symbols"] if s.split()[0] != "U"}
        undefined = sorted({s.split()[1] for f in facts for s in f["symbols"] if s.split()[0] == "U"} - defined)
        lib_frames, lib_calls = _library_frames(name, undefined)
        for fn in lib_frames.keys() - frames.keys():
            frames[fn] = lib_frames[fn]
            calls[fn] = set(lib_calls.get(fn, ()))
    if entry not in frames:
        raise ToolchainError(f"{entry} not found in the call graph")
    library: set[str] = set()
    library_names = frames.keys() - ours

    def deepest(fn: str, seen: tuple[str, ...]) -> tuple[int, list[str]]:
        if fn in seen:
            raise ToolchainError(f"recursion through {fn}: stack is unbounded")
        if fn not in frames:
            what = "an indirect call whose targets" if fn == "__indirect_call" else fn
            raise ToolchainError(f"{what} (in {seen[-1]}) cannot be found: its stack is unknown")
        if frames[fn] < 0:
            raise ToolchainError(f"{fn} (called by {seen[-1]}) sets SP from a register: its frame is unknown")
        if fn in library_names:
            library.add(fn)
        best = (0, [])
        for callee in sorted(calls.get(fn, ())):
            best = max(best, deepest(callee, seen + (fn,)), key=lambda r: r[0])
        return frames[fn] + best[0], [fn] + best[1]

    total, path = deepest(entry, ())
    result = {"bytes": total, "path": path,
              "frames": [frames[fn] for fn in path],
              "library_calls": sorted(library)}
    if sizes:
        totals = {k: sum(f["sizes"][k] for f in facts) for k in ("text", "rodata", "data", "bss")}
        result["sizes"] = dict(totals, flash=totals["text"] + totals["rodata"] + totals["data"],
                               ram=totals["data"] + totals["bss"])
    return result


#: What compiling each runtime kernel gives (:func:`_source_facts`), measured once per tinycc
#: version for the shared models on every core (scripts/measure_kernel_facts.py), by portable key.
KERNEL_FACTS = resources.PACKAGE / "kernel_facts.json"
_FACTS_VERSION = "facts-1"          # the form of one entry (bump when _source_facts changes)


@functools.lru_cache(maxsize=1)
def shipped_facts() -> dict:
    """tinycc/kernel_facts.json: {"sources": {key: facts}, "libraries": {key: [frames, calls]}}."""
    try:
        data = json.loads(KERNEL_FACTS.read_text())
    except (OSError, ValueError):
        return {"sources": {}, "libraries": {}}
    return data if data.get("version") == _FACTS_VERSION else {"sources": {}, "libraries": {}}


def _renaming(prefix: str | None, path: Path):
    """(canon, back) for a kernel file of a model whose runtime symbols are PREFIXtcc_*: canon maps
    its bytes (and its headers') to those of the kernel as the runtime folder has it (tcc_*), back
    maps facts (JSON text) to this model's names; (None, None) for any other file."""
    if not prefix or not path.name.startswith(f"{prefix}tcc_"):
        return None, None
    named = prefix.encode() + b"tcc_"
    bare = re.compile(rb"(?<![A-Za-z0-9_])tcc_")
    text = path.read_bytes()
    canonical = text.replace(named, b"tcc_")
    if bare.sub(lambda m: named, canonical) != text:
        return None, None        # not exactly a prefixed kernel: keyed as it is
    return (lambda b: b.replace(named, b"tcc_"),
            lambda s: re.sub(r"(?<![A-Za-z0-9_])tcc_", lambda m: f"{prefix}tcc_", s))


def _source_facts(cc: str, flags: list[str], paths: list[Path], include_dirs: list[Path],
                  prefix: str | None) -> list[dict]:
    """Per source, what stack_usage and the sizes need from its object: GCC's call graph nodes and
    edges, :func:`object_frames`, :func:`address_taken`, its global symbols ("T name", "U name":
    what the C library must supply) and its section sizes. From the shipped table or the cache
    under a portable key (the compiler's version, the flags, the source and every header it can
    include, kernel names made model-independent), else compiled (``objcache``) and kept."""
    out: list[dict | None] = [None] * len(paths)
    keys: list[str | None] = []
    backs = []
    for i, path in enumerate(paths):
        canon, back = _renaming(prefix, path)
        k = objcache.key(cc, flags, path, [*map(Path, include_dirs), BOARD_DIR], portable=True, canon=canon)
        keys.append(k)
        backs.append(back or (lambda s: s))
        if k is None:
            continue
        found = shipped_facts()["sources"].get(k) or objcache.recall(k, _FACTS_VERSION)
        if found is not None:
            out[i] = json.loads(backs[i](json.dumps(found)))
    missing = [i for i, f in enumerate(out) if f is None]
    if missing:
        with tempfile.TemporaryDirectory(prefix="tinycc-stack-") as tmp:
            objects = [Path(o) for o in _compile(cc, flags, [paths[i] for i in missing], include_dirs,
                                                 Path(tmp), "call graph", (".ci",))]
            for i, obj, size in zip(missing, objects, _sizes_each(objects)):
                out[i] = dict(_stack_facts(obj), sizes=size)
                if keys[i] is not None:
                    canon, _ = _renaming(prefix, paths[i])
                    stored = dict(json.loads(canon(json.dumps(out[i]).encode()).decode()), kernel=True) \
                        if canon else out[i]          # a kernel's (scripts/measure_kernel_facts.py ships them)
                    objcache.keep(keys[i], _FACTS_VERSION, stored)
    return out


def _sizes_each(objects: list[Path]) -> list[dict[str, int]]:
    """Section totals (text, rodata, data, bss) of each object, one arm-none-eabi-size run."""
    if not objects:
        return []
    text = _run_tool([find_tool(ARM_SIZE), "-A", "-d", *map(str, objects)], "measuring the objects")
    blocks = re.split(r"^(\S.*?)\s+:\s*$", text, flags=re.M)
    by_file = {blocks[i].strip(): blocks[i + 1] for i in range(1, len(blocks) - 1, 2)}
    return [_parse_size_sysv(by_file[str(o)]) for o in objects]


def _stack_facts(obj: Path) -> dict:
    """What stack_usage reads from one object compiled with -fcallgraph-info=su: GCC's nodes
    (function, bytes, kind) and edges, :func:`object_frames`, :func:`address_taken`, and its
    global symbols (what linking it with the C library depends on)."""
    text = obj.with_suffix(".ci").read_text()
    code, code_calls, unknown = object_frames(obj)
    listing = _run_tool([find_tool("arm-none-eabi-nm"), str(obj)], f"listing {obj.name}")
    symbols = sorted({" ".join(p[-2:]) for p in (ln.split() for ln in listing.splitlines())
                      if len(p) >= 2 and (p[-2].isupper() or p[-2] in "wv")})
    return {"nodes": [[_plain(fn), size, kind] for fn, size, kind in _CI_NODE.findall(text)],   # no temporary paths
            "edges": [[_plain(a), _plain(b)] for a, b in _CI_EDGE.findall(text)],
            "code": code, "code_calls": {fn: sorted(c) for fn, c in code_calls.items()},
            "unknown": sorted(unknown), "pointers": sorted(address_taken(obj)), "symbols": symbols}


def _library_frames(target: str, undefined: list[str]) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Frames and calls of the library functions that supply the ``undefined`` symbols: the
    libraries build_arm links (newlib-nano's libc and libm, libgcc) linked with every one of those
    symbols required (``-u``), and every function of the result walked as :func:`object_frames`
    does. Which library code is linked depends only on those symbols, so the result is kept
    under them and the compiler's version (shipped in tinycc/kernel_facts.json for the shared
    models)."""
    cc = find_tool(ARM_CC)
    version = objcache.compiler_version(cc)
    key = hashlib.sha256("\0".join([_FACTS_VERSION, Path(cc).name, version, *cpu_flags(target), *undefined])
                         .encode()).hexdigest()

    def compute():
        frames, calls = _link_library_frames(target, undefined)
        return [frames, {fn: sorted(c) for fn, c in calls.items()}]

    if not version:
        return tuple(compute())
    frames, calls = shipped_facts()["libraries"].get(key) or objcache.remember_key(key, "library-frames", compute)
    return frames, calls


def _link_library_frames(target: str, undefined: list[str]) -> tuple[dict[str, int], dict[str, set[str]]]:
    with tempfile.TemporaryDirectory(prefix="tinycc-lib-") as tmp:
        empty, elf = Path(tmp) / "empty.o", Path(tmp) / "stack-libraries.elf"
        _run_tool([find_tool(ARM_CC), *cpu_flags(target), "-x", "assembler", "-c", os.devnull, "-o", str(empty)],
                  "assembling an empty object")
        _run_tool([find_tool(ARM_CC), *cpu_flags(target), str(empty), "-nostartfiles", "--specs=nano.specs",
                   *(f"-Wl,-u,{s}" for s in undefined), f"-Wl,-e,{undefined[0] if undefined else '0'}",
                   "-Wl,--unresolved-symbols=ignore-all",
                   "-Wl,--start-group", "-lm", "-lc", "-lgcc", "-Wl,--end-group", "-o", str(elf)],
                  "linking the C library for the stack bound")
        frames, calls, unknown = object_frames(elf)
        nm = _run_tool([find_tool("arm-none-eabi-nm"), str(elf)], "listing the C library")
    for fn in unknown:
        frames[fn] = -1               # an error if a path reaches it (see stack_usage)
    at: dict[int, list[str]] = {}     # aliases (__aeabi_idiv = __divsi3): objdump names one of them
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            at.setdefault(int(parts[0], 16) & ~1, []).append(parts[2])
    for names in at.values():
        known = [n for n in names if n in frames]
        for alias in names:
            if known and alias not in frames:
                frames[alias], calls[alias] = frames[known[0]], calls.get(known[0], set())
    return frames, calls


STACK_SOURCE = BOARD_DIR / "stack.c"


def painted_stack(model_dir: PathLike, work: PathLike, name: str = "model", target: str = "cortex-m4",
                  timeout: float = 120) -> int:
    """Stack bytes one inference of the generated model in ``model_dir`` really uses in QEMU:
    ``runtime/board/stack.c`` paints the stack, runs NAME_invoke once and counts the words it
    wrote (see there)."""
    model_dir, work = Path(model_dir), Path(work)
    elf = build_arm([*sorted(model_dir.glob("*.c")), STACK_SOURCE], [model_dir, BOARD_DIR],
                    work / "stack.elf", target=target, defines=harness_defines(name))
    rc, out = run_qemu(elf, work, target, timeout)
    m = re.search(r"tinycc-stack: used (\d+)", out)
    if rc != 0 or m is None:
        raise ToolchainError(f"stack measurement failed (exit {rc}):\n{out}", returncode=rc, output=out)
    return int(m.group(1))


def _plain(fn: str) -> str:
    """'file.c:static_fn' -> 'static_fn' (GCC qualifies static functions with their file)."""
    return fn.rsplit(":", 1)[-1]
