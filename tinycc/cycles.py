"""Estimated cycles of code that ran in QEMU: the instructions QEMU executed, each costed from its
core's documented instruction timings (zero wait states).

QEMU runs with ``-d in_asm,exec,nochain``: every translation block (TB) is listed once when it is
translated (``in_asm``: the address and encoding of each instruction) and logged every time it
runs (``exec``, one ``Trace`` line; ``nochain`` makes every run visible). A TB is straight-line
code ending at most at one branch, so its cost is the sum of its instructions' costs, plus the
pipeline refill when its final branch was taken, which the address of the next TB executed tells.
Under ``-icount`` QEMU logs a block and then may not run it ("Stopped execution of TB chain"):
such a block is not counted.
The mnemonics come from ``arm-none-eabi-objdump`` of the same ELF. The log is read line by line
(a few tens of MB per 10 M instructions), never held in memory.

The timings (tables below, one per core) follow the cores' Technical Reference Manuals,
"Processor instruction timings" / "Instruction set summary", with these modelling choices:

* zero wait-state memory; no interrupts; P, the pipeline refill of a taken branch, is 2 on the
  ARMv7-M cores (the TRMs give 1-3 depending on the target's alignment and width);
* a single load or store (LDR/STR, byte, halfword, exclusive) costs 2, but 1 right after another
  single load or store, unless that one was a load of a register this one's address uses (so a run
  of N independent loads/stores costs N + 1); LDRD/STRD 3, never pipelined; LDM/STM/PUSH/POP
  1 + N, a load of PC adds P;
* a load or store whose address register the previous data-processing instruction wrote waits one
  more cycle (no forwarding path to the address generator; M3/M4 TRM "Load/store timings");
* an instruction inside an IT block costs what it costs when its condition passes (skipped ones
  cost 1 on the core; the log cannot tell them apart), so IT code is costed from above;
* SDIV/UDIV cost 12 (the TRM's upper bound, 2-12: it depends on the operands);
* Cortex-M0: the ARMv6-M TRM (loads 2, no pipelining, taken branch 3, BL 4, MULS 1: the fast
  multiplier option); Cortex-M3: as M4 but MLA/MLS 2, long multiplies 5/7 (upper bounds), no DSP;
  Cortex-M33 is costed as the M4 (its manual publishes no table; it resolves branches and forms
  load addresses one stage earlier, so this is an upper estimate);
  Cortex-M7 (dual issue, branch prediction) and Cortex-M55 (dual-beat MVE) are rough: loads and
  stores 1 (M55 LDRD 2), VMLA 1, taken branches 1 + P with P = 1, LDM 1 + N/2, MVE vector
  instructions 2, the rest as the M4; dual issue is not modelled.
"""
from __future__ import annotations

import bisect
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

_COND = r"(?:eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?"

# Instruction classes: (regex on the mnemonic without width/type suffix, class). First match wins;
# anything else is "alu".
_CLASSES: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p + "$"), c) for p, c in (
    (rf"bl{_COND}", "call"),
    (rf"b{_COND}", "branch"),
    (rf"(bx|blx){_COND}", "branch_reg"),
    (r"cbn?z", "branch"),
    (r"tb[bh]", "table_branch"),
    (r"it[te]{0,3}", "it"),
    (rf"(push|stm|stmia|stmea|stmdb|stmfd){_COND}", "store_multiple"),
    (rf"(pop|ldm|ldmia|ldmfd|ldmdb|ldmea){_COND}", "load_multiple"),
    (rf"(ldrd|strd|ldrexd|strexd){_COND}", "double"),
    (rf"ldr(b|h|sb|sh|ex|exb|exh|t|bt|ht|sbt|sht)?{_COND}", "load"),
    (rf"str(b|h|ex|exb|exh|t|bt|ht)?{_COND}", "store"),
    (r"(pld|pli)", "load"),
    (rf"[su]div{_COND}", "divide"),
    (rf"(mul|muls){_COND}", "mul"),
    (rf"(mla|mls){_COND}", "mla"),
    (rf"[su]mull{_COND}", "mull"),
    (rf"([su]mlal|umaal){_COND}", "mlal"),
    (rf"(smla[bt][bt]|smlaw[bt]|smul[bt][bt]|smulw[bt]|smlad|smladx|smlsd|smlsdx|smuad|smuadx|smusd|"
     rf"smusdx|smmul|smmulr|smmla|smmlar|smmls|smmlsr|smlal[bt][bt]|smlald|smlaldx|smlsld|"
     rf"smlsldx|usad8|usada8){_COND}", "dsp_mul"),
    (r"(vpush|vpop|vldm|vldmia|vldmdb|vstm|vstmia|vstmdb)" + _COND, "fp_multiple"),
    (r"(vldr|vstr)" + _COND, "fp_load"),
    (r"(vldr[bhw]|vstr[bhw]|vld[24][0-3]|vst[24][0-3])" + _COND, "mve"),
    (r"(vmla|vmls|vnmla|vnmls|vfma|vfms|vfnma|vfnms)" + _COND, "fp_mac"),
    (r"(vdiv|vsqrt)" + _COND, "fp_div"),
    (r"(vmlav|vmlava|vmladav|vmladava|vmlaldav|vaddv|vaddva|vctp|vpst|vpt|vmaxv|vminv|vdup|"
     r"vqdmulh|vqrdmulh|vrshl|vqmovn|vqmovun|vmovl[bt]|vmovn[bt]|vshl|vshr|vrshr|vqadd|vqsub|"
     r"vhadd|vmaxa|vmina|vmullb|vmullt|vidup|vddup)", "mve"),
    (r"(dmb|dsb|isb)", "barrier"),
    (r"(wfi|wfe|bkpt|svc|udf)", "alu"),
))

_REG = re.compile(r"\b(r\d{1,2}|sl|fp|ip|sp|lr|pc|[sdq]\d{1,2})\b")
_ALIAS = {"sl": "r10", "fp": "r11", "ip": "r12", "sp": "r13", "lr": "r14", "pc": "r15"}
_NO_DEST = frozenset(("cmp", "cmn", "tst", "teq", "it", "nop", "vcmp", "vcmpe"))


@dataclass(frozen=True)
class Insn:
    """One decoded instruction: its class and the facts the timing rules need."""
    mnemonic: str
    cls: str
    regs: int = 0                      # registers moved by a multiple load/store
    writes: frozenset = frozenset()    # registers written
    address: frozenset = frozenset()   # registers used to form a load/store address
    writes_pc: bool = False


def _regs(text: str) -> list[str]:
    return [_ALIAS.get(r, r) for r in _REG.findall(text)]


def register_list(text: str) -> list[str]:
    """Registers of a {list}, ranges (d8-d15, r4-r7) expanded."""
    inner = text[text.find("{") + 1: text.rfind("}")]
    out = []
    for part in inner.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            out += [f"{a.strip()[0]}{k}" for k in range(int(a.strip()[1:]), int(b.strip()[1:]) + 1)]
        elif part:
            out.append(_ALIAS.get(part, part))
    return out


def decode(mnemonic: str, operands: str) -> Insn:
    """Classify one objdump instruction (``ldr.w``, ``r3, [r2, #4]``)."""
    base = mnemonic.split(".")[0]
    cls = next((c for p, c in _CLASSES if p.match(base)), "alu")
    operands = operands.split(";")[0].split("@")[0].strip()
    regs = 0
    writes: set[str] = set()
    address: set[str] = set()
    if cls in ("load_multiple", "store_multiple", "fp_multiple"):
        lst = register_list(operands)
        regs = len(lst) * (2 if lst and lst[0].startswith("d") else 1)
        if cls == "load_multiple":
            writes.update(lst)
        head = operands.split("{")[0]
        if "!" in head or base in ("push", "pop", "vpush", "vpop"):
            writes.add("r13" if base in ("push", "pop", "vpush", "vpop") else _regs(head)[0])
    elif cls in ("load", "store", "double", "fp_load"):
        bracket = operands[operands.find("[") + 1: operands.find("]")] if "[" in operands else ""
        address.update(_regs(bracket))
        head = _regs(operands.split("[")[0])
        if cls in ("load", "fp_load") or (cls == "double" and base.startswith("ldr")):
            writes.update(head[:2] if cls == "double" else head[:1])
        if "!" in operands or "]," in operands:       # writeback / post-index
            writes.update(_regs(bracket)[:1])
    elif base not in _NO_DEST and not cls.startswith("branch") and cls not in ("call", "table_branch"):
        r = _regs(operands)
        if r:
            writes.add(r[0])
            if cls in ("mull", "mlal") or base.startswith(("smlal", "umaal")):
                writes.update(r[1:2])
    if cls == "call" or base.startswith("blx"):
        writes.add("r14")
    writes_pc = "r15" in writes
    return Insn(base, cls, regs, frozenset(writes), frozenset(address), writes_pc)


@dataclass(frozen=True)
class Core:
    """A core's timings: cycles per class (branches: not taken; + ``refill`` when taken)."""
    name: str
    cost: dict
    refill: int                         # P
    pipelined_loads: bool = True       # a run of N single loads/stores costs N + 1
    agu_stall: int = 1                 # address written by the previous ALU instruction
    multiple_per_reg: float = 1.0      # LDM/STM/PUSH/POP: 1 + this * N
    call_extra: int = 0                # BL beyond a taken branch (Cortex-M0: BL 4, B 3)
    notes: str = ""

    @property
    def assumptions(self) -> str:
        return (f"zero wait states, no interrupts, taken branch 1+P with P={self.refill}, "
                f"IT-block instructions costed as executed, divide {self.cost['divide']}; {self.notes}")


_ARMV7M = dict(alu=1, it=1, branch=1, branch_reg=1, call=1, table_branch=3, load=2, store=2,
               double=3, load_multiple=1, store_multiple=1, mul=1, mla=1, mull=1, mlal=1,
               dsp_mul=1, divide=12, fp_load=2, fp_multiple=1, fp_mac=3, fp_div=14, mve=1,
               barrier=4)

CORES: dict[str, Core] = {
    "cortex-m4": Core("cortex-m4", _ARMV7M, refill=2,
                      notes="Cortex-M4 TRM (r0p1) 3.3 instruction timings"),
    "cortex-m33": Core("cortex-m33", _ARMV7M, refill=2,
                       notes="costed as the Cortex-M4: no published table; its pipeline "
                             "resolves branches and forms load addresses a stage earlier, so "
                             "this is an upper estimate"),
    "cortex-m3": Core("cortex-m3", {**_ARMV7M, "mla": 2, "mull": 5, "mlal": 7}, refill=2,
                      notes="Cortex-M3 TRM (r2p1) 3.3; long multiplies at their upper bound"),
    "cortex-m0": Core("cortex-m0", {**_ARMV7M, "table_branch": 4, "divide": 32}, refill=2,
                      pipelined_loads=False, agu_stall=0, call_extra=1,
                      notes="Cortex-M0 TRM 3.3: loads 2, taken branch 3, BL 4, MULS 1 (fast multiplier)"),
    "cortex-m0plus": Core("cortex-m0plus", {**_ARMV7M, "divide": 32}, refill=1,
                          pipelined_loads=False, agu_stall=0, call_extra=1,
                          notes="Cortex-M0+ TRM: loads 2, taken branch 2, BL 3, MULS 1 (fast multiplier)"),
    "cortex-m7": Core("cortex-m7", {**_ARMV7M, "load": 1, "store": 1, "double": 1, "divide": 10,
                                    "fp_mac": 1}, refill=1, pipelined_loads=False, agu_stall=0,
                      multiple_per_reg=0.5, notes="rough: dual issue not modelled beyond loads"),
    "cortex-m55": Core("cortex-m55", {**_ARMV7M, "load": 1, "store": 1, "double": 2, "mve": 2,
                                      "fp_mac": 1}, refill=1, pipelined_loads=False, agu_stall=0,
                       multiple_per_reg=0.5, notes="rough: MVE instructions 2 cycles (dual beat)"),
}


def core(name: str) -> Core:
    if name not in CORES:
        raise ValueError(f"no cycle model for {name} (one of {', '.join(CORES)})")
    return CORES[name]


def straight_cycles(c: Core, insns: Iterable[Insn]) -> tuple[int, int]:
    """Cycles of straight-line code with its last branch (if any) not taken, and what taking it
    adds: (cycles, taken_extra)."""
    total, prev, extra = 0, None, 0
    for ins in insns:
        k = ins.cls
        cyc = c.cost[k]
        if k in ("load_multiple", "store_multiple", "fp_multiple"):
            cyc = 1 + int(c.multiple_per_reg * ins.regs + 0.5)
        if k in ("load", "store") and prev is not None:
            if c.pipelined_loads and prev.cls in ("load", "store") and not (prev.writes & ins.address):
                cyc -= 1
            elif c.agu_stall and prev.cls not in ("load", "store", "double", "load_multiple") \
                    and prev.writes & ins.address:
                cyc += c.agu_stall
        if k == "call":
            cyc += c.refill + c.call_extra            # always taken
        elif k == "branch_reg" or k == "table_branch" or (ins.writes_pc and not k.startswith("branch")):
            cyc += c.refill                           # indirect, returns, POP {pc}, LDR pc: taken
        total += cyc
        prev = ins
    extra = c.refill if prev is not None and prev.cls == "branch" else 0
    return total, extra


# ---------------------------------------------------------------------------
# The ELF and the QEMU log
# ---------------------------------------------------------------------------

_OBJDUMP_LINE = re.compile(r"^\s*([0-9a-f]+):\t([a-z][\w.]*)\t?([^\t]*)")
_OBJDUMP_SYM = re.compile(r"^([0-9a-f]+) <([^>]+)>:")


def disassemble(elf: Path, objdump: str = "arm-none-eabi-objdump") -> tuple[dict, list]:
    """{address: (mnemonic, operands)} of every instruction, and [(address, symbol)] sorted."""
    text = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(elf)], capture_output=True,
                          text=True, check=True).stdout
    insns, syms = {}, []
    for line in text.splitlines():
        if m := _OBJDUMP_LINE.match(line):
            insns[int(m.group(1), 16)] = (m.group(2), m.group(3))
        elif m := _OBJDUMP_SYM.match(line):
            syms.append((int(m.group(1), 16), m.group(2)))
    syms.sort()
    return insns, syms


def call_return_sites(insns: dict, target: int) -> set[int]:
    """Addresses right after every ``bl`` to ``target`` (where the call returns)."""
    out = set()
    addrs = sorted(insns)
    for i, a in enumerate(addrs[:-1]):
        mn, ops = insns[a]
        if mn.split(".")[0] in ("bl", "blx") and ops.split()[:1] == [f"{target:x}"]:
            out.add(addrs[i + 1])
    return out


_IN_ADDR = re.compile(r"0x([0-9a-f]+):\s+([0-9a-f]{4})( [0-9a-f]{4})?\s")


@dataclass
class Block:
    pc: int
    instructions: int
    cycles: int          # last branch not taken
    taken_extra: int
    fallthrough: int


@dataclass
class Profile:
    """Instructions and cycles of one window of a run, in segments (see :func:`profile_log`)."""
    instructions: list[int] = field(default_factory=list)
    cycles: list[int] = field(default_factory=list)
    per_symbol: dict = field(default_factory=dict)   # symbol -> [instructions, cycles]

    @property
    def total_cycles(self) -> int:
        return sum(self.cycles)

    @property
    def total_instructions(self) -> int:
        return sum(self.instructions)


def profile_log(log: Path, elf_insns: dict, syms: list, c: Core, start: int, stop: set[int],
                mark: int | None = None, mark_return: set[int] = frozenset()) -> Profile:
    """Count the blocks QEMU ran between the first entry to ``start`` and the next block at one of
    ``stop``. With ``mark`` (a function the window calls between segments), the window is split
    into segments at each call of ``mark``, and the code from its entry to its return (one of
    ``mark_return``) is not counted. Segment 0 is from ``start`` to the first mark."""
    prof = Profile([0], [0])
    sym_addr = [a for a, _ in syms]
    blocks: dict[str, Block] = {}
    pending_pc, pending = None, []
    state = "before"             # before | in | paused | done
    prev: Block | None = None
    prev_seg = -1

    def make_block(addrs: list[tuple[int, int]]) -> Block:
        insns = [decode(*elf_insns.get(a, ("nop", ""))) for a, _ in addrs]
        cyc, extra = straight_cycles(c, insns)
        return Block(addrs[0][0], len(addrs), cyc, extra, addrs[-1][0] + addrs[-1][1])

    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("Trace"):
                parts = line.split()
                fields = parts[3][1:].split("/")
                pc = int(fields[1], 16)
                key = parts[2] + fields[1]
                if pending and pending_pc == pc:
                    blocks[key] = make_block(pending)
                    pending = []
                blk = blocks.get(key)
                if prev is not None and prev_seg >= 0:
                    cyc = prev.cycles + (prev.taken_extra if pc != prev.fallthrough else 0)
                    prof.cycles[prev_seg] += cyc
                    prof.instructions[prev_seg] += prev.instructions
                    i = bisect.bisect_right(sym_addr, prev.pc) - 1
                    s = prof.per_symbol.setdefault(syms[i][1] if i >= 0 else "?", [0, 0])
                    s[0] += prev.instructions
                    s[1] += cyc
                if state == "before" and pc == start:
                    state = "in"
                elif state in ("in", "paused") and pc in stop:
                    state = "done"
                elif state == "in" and pc == mark:
                    state = "paused"
                    prof.instructions.append(0)
                    prof.cycles.append(0)
                elif state == "paused" and pc in mark_return:
                    state = "in"
                prev = blk
                prev_seg = len(prof.cycles) - 1 if state == "in" else -1
                if state == "done":
                    break
            elif line.startswith("Stopped execution of TB chain"):
                prev, prev_seg = None, -1       # icount: the block just logged did not run
            elif line.startswith("IN:"):
                pending, pending_pc = [], None
            elif m := _IN_ADDR.match(line):
                a = int(m.group(1), 16)
                pending_pc = a if not pending else pending_pc
                pending.append((a, 4 if m.group(3) else 2))
    if state == "before":
        raise RuntimeError(f"the QEMU log {log} never reaches 0x{start:x}")
    return prof

