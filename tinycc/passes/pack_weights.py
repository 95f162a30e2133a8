"""pack_weights: choose the fastest kernel each op has for the target, within the RAM of the
smallest plan, and lay out its constants.

For a core with the DSP extension the kernel variant units (``tinycc/variants``: one registered
object per fast kernel, ``variants.candidates``) offer the constants of fast kernels
(runtime/kernels/arm): weights reordered for the kernel's SMLAD loops, requantization records,
...; they are ranked by the units' estimated Cortex-M4 cycles (``Variant.cycles``). The chosen
one goes into ``Op.params.packed`` with ``impl`` naming its unit; scratch sizes, in-place rules
and codegen follow that choice (``variants.scratch_bytes`` / ``overlap_rule`` / ``emit``). An op
whose constants no unit can pack exactly (``tinycc.packing.PackError``) keeps the plain kernel.

RAM-aware choice (``--optimize speed``, the default on DSP targets): the fast kernels need
scratch (im2col rows, int16 lines) and share memory differently, so they may raise the arena.
The arena stays within ``RAM_BUDGET`` of the plain kernels' plan:

  1. plan the arena with the plain kernels (the smallest RAM): budget = its size * (1 + 1/16);
  2. per op, in schedule order, take the first variant (fastest first) whose footprint at its
     step fits: the bytes of the other buffers live there (from the plain plan) + the op's own
     input/output under the variant's overlap rule + its scratch;
  3. plan with those choices; while the arena is above the budget, the packed ops at the steps
     whose buffers reach above it step down to their next variant (those with another fast
     variant first, the plain kernel last), and plan again;
  4. those step-downs were made together: each stepped-down op (in schedule order) gets back
     the fastest of its skipped variants with which the plan stays within the budget.

Flash-aware choice (``--flash-budget``, default ``default_flash_budget``: 1.10 x the model's
constant bytes + 16 KB, for all generated code and data): a variant whose constants are larger
than the plain kernel's (weights widened to int16 pairs) spends flash. Before step 2, the
allowance (the budget minus the model's constants minus an estimate of the plain code,
``CODE_BYTES_PER_OP`` per op) goes to the ops whose fastest variant saves the most estimated
cycles (the units' ``plain_cycles`` - ``cycles``) per extra byte: its constants beyond the plain
kernel's, plus the measured code of its unit (``Variant.code_bytes``, tinycc/variants/code_bytes.py)
when no op was granted that unit yet: first every op's variant with the least extra flash, then
the fastest variants (``_flash_filter``). After step 4,
flash the RAM step gave up is handed back to the ops left out, whose variant must also keep the
arena within the budget.

Compile time: the plans of steps 3 and 4 are quick plans (``plan_arena(g, exact_steps=0)``:
every order and heuristic and the local search, no exact search); the exact search runs once,
in the ``plan_arena`` pass that follows. Step 2 uses the live bytes per step of the plain plan
(difference arrays), not a scan of every buffer per op.
"""
from __future__ import annotations

import dataclasses
import itertools
import os

import networkx as nx

from .. import ir, overlap, variants
from .plan_arena import ALIGN, plan_arena, scratch_id

RAM_SLACK = 16          # the arena may exceed the plain kernels' plan by 1/RAM_SLACK
MAX_ROUNDS = 40

# flash: estimates for choosing variants (the build summary reports the measured figures)
FLASH_SLACK, FLASH_CODE = 1.10, 16 * 1024   # default budget: 1.10 x constants + 16 KB
CODE_BYTES_PER_OP = 700     # plain code per op: the shared models' cortex-m4 builds measure 240-560 B
                            # (a build above the budget is redone with less to spend: driver.generate)


def _variants(g, o) -> list:
    """Every unit's packing for the op, fastest (estimated cycles) first; the sort is stable, so a
    unit's own order (e.g. less scratch next) is kept."""
    if o.params.compressed is not None:     # compressed weights (compress_weights): the portable decoding kernel
        return []
    return sorted(variants.candidates(g, o), key=lambda pk: _unit(pk).cycles(g, o, pk))


def _unit(pk):
    return variants.named(pk.impl)


def _variant_or_plain(vs: list, i: int):
    """Variant i of an op; past the last one, None: the plain kernel."""
    return vs[i] if i < len(vs) else None


def _with(g, oid, pk) -> None:
    o = ir.op(g, oid)
    ir.replace_value(g, oid, dataclasses.replace(o, params=dataclasses.replace(o.params, packed=pk)))


def _al(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _own_bytes(g, oid, step: int, life_last: dict) -> tuple[int, set]:
    """Bytes of the op's activation inputs and output (sharing memory as its overlap rule allows
    when an input dies here) plus its scratch; and the buffer ids counted. State tensors (LSTM,
    SVDF) live in the state region, not the arena."""
    o = ir.op(g, oid)
    out = o.outputs[0] if len(o.outputs) == 1 else None
    counted, total = set(), 0
    out_b = _al(max(ir.tensor(g, out).nbytes, 1)) if out else 0
    best = None
    for slot, t in enumerate(o.inputs):
        if t is None or ir.tensor(g, t).is_const or ir.tensor(g, t).variable:
            continue
        a = ir.view_source(g, t)
        if a in counted:
            continue
        counted.add(a)
        size = _al(max(ir.tensor(g, a).nbytes, 1))
        total += size
        if out is None or life_last.get(a) != step:
            continue
        rule = variants.overlap_rule(g, o, slot)
        if rule is None:
            continue
        saving = overlap.shared_bytes(*rule, size, out_b)
        best = saving if best is None else max(best, saving)
    if out is not None:
        counted.add(out)
        total += out_b - (best or 0)
    total += _al(variants.scratch_bytes(g, o))
    counted.add(scratch_id(o))
    return total, counted


def _quick_plan(g: nx.DiGraph):
    return plan_arena(g.copy(), exact_steps=0).graph["plan"]


def _live_bytes(plan) -> list[int]:
    """Bytes of the buffers live at each step of ``plan``."""
    diff = [0] * (len(plan.order) + 2)
    for b in plan.buffers:
        diff[b.first] += b.size
        diff[b.last + 1] -= b.size
    return list(itertools.accumulate(diff))


def default_flash_budget(g) -> int:
    return round(FLASH_SLACK * ir.model_constant_bytes(g) + FLASH_CODE)


_EXTRA: dict = {}      # (id(pk), op id) -> _extra_flash, for the packings of one pack_weights run


def _extra_flash(g, o, pk) -> int:
    """Flash the variant's constants take beyond the plain kernel's (weights, folded bias,
    mult/shift); negative when they take less (a sparse layout of pruned weights): the bytes it
    saves go to the other ops' fast kernels (if the RAM step later takes the variant back, the
    measured flash decides, driver.generate). Cached for the run (the ranking asks many times)."""
    key = (id(pk), o.name)
    if key not in _EXTRA:
        _EXTRA[key] = _unit(pk).flash_bytes(g, o, pk) - variants.plain_flash_bytes(g, o)
    return _EXTRA[key]


def _cycles_saved(g, o, pk) -> float:
    unit = _unit(pk)
    return unit.plain_cycles(g, o) - unit.cycles(g, o, pk)


class _Code:
    """The fast kernels' code charged to the flash allowance so far: a unit's measured code
    (``variants.code_bytes_of``) is charged once, with the first op granted one of its variants."""

    def __init__(self):
        self.units: list = []

    def more(self, pk) -> int:
        """Bytes charging ``pk``'s unit would add."""
        u = _unit(pk)
        return 0 if u in self.units else variants.code_bytes_of(self.units + [u]) - variants.code_bytes_of(self.units)

    def charge(self, pk) -> None:
        if _unit(pk) not in self.units:
            self.units.append(_unit(pk))

    def has(self, pk) -> bool:
        return _unit(pk) in self.units


def _flash_filter(g, choices: dict, allowance: int) -> tuple[dict, list, int]:
    """Spend the flash allowance in two rounds, most estimated cycles saved per extra byte first
    (the extra bytes of a variant: its constants beyond the plain kernel's, plus its unit's code
    the first time the unit is granted): every op first gets its variant with the least extra
    flash, then the ops whose fastest variant (widened weights) buys the most cycles per further
    byte get it and the variants after it of units already charged. Returns the filtered choices,
    the ops not upgraded, in rank order, with their variants (for the give-back), and the flash
    left."""
    code = _Code()

    def extra(oid, pk):
        return _extra_flash(g, ir.op(g, oid), pk)

    def per_byte(oid, pk, base_pk, base_b):
        saved = _cycles_saved(g, ir.op(g, oid), pk) - (_cycles_saved(g, ir.op(g, oid), base_pk) if base_pk else 0)
        return saved / max(extra(oid, pk) + code.more(pk) - base_b, 1)

    base = {oid: min(v, key=lambda pk: extra(oid, pk)) for oid, v in choices.items()}
    granted, base_b = {}, {}
    for oid in sorted(base, key=lambda o: -per_byte(o, base[o], None, 0)):
        b = extra(oid, base[oid])
        if b + code.more(base[oid]) <= allowance:
            allowance -= b + code.more(base[oid])
            code.charge(base[oid])
            base_b[oid] = b
            granted[oid] = [pk for pk in choices[oid] if extra(oid, pk) <= b and code.has(pk)]
    left_out = []
    for oid in sorted(choices, key=lambda o: -per_byte(o, choices[o][0], base.get(o) if o in base_b else None,
                                                      base_b.get(o, 0))):
        best = choices[oid][0]
        more = extra(oid, best) - base_b.get(oid, 0)
        if more <= 0 and code.has(best):
            continue
        if more + code.more(best) <= allowance:
            allowance -= more + code.more(best)
            code.charge(best)
            granted[oid] = [pk for pk in choices[oid] if code.has(pk)]
        else:
            left_out.append((oid, choices[oid]))
    return granted, left_out, allowance


def _allowance(g, budget: int) -> int:
    """The flash the fast kernels may spend: the budget minus the model's constants and an
    estimate of the plain code (``CODE_BYTES_PER_OP`` per op)."""
    n_ops = sum(1 for _ in ir.ops_in_order(g))
    return budget - ir.model_constant_bytes(g) - CODE_BYTES_PER_OP * n_ops - g.graph.get("flash_overshoot", 0)


def pack_weights(g: nx.DiGraph) -> nx.DiGraph:
    _EXTRA.clear()
    try:
        return _pack_weights(g)
    finally:
        _EXTRA.clear()


def _pack_weights(g: nx.DiGraph) -> nx.DiGraph:
    choices = {}
    for oid in ir.ops_in_order(g):
        v = _variants(g, ir.op(g, oid))
        if v:
            choices[oid] = v
    flash_budget = g.graph.get("flash_budget") or default_flash_budget(g)
    g.graph["flash_budget"] = flash_budget
    if not choices:
        return g
    choices, left_out, _ = _flash_filter(g, choices, _allowance(g, flash_budget))
    choices = {oid: v for oid, v in choices.items() if v}
    # 1. the plain kernels' plan and the budget
    plain = plan_arena(g.copy()).graph["plan"]
    budget = plain.size + plain.size // RAM_SLACK
    life_last = {b.tid: b.last for b in plain.buffers}
    size_of = {b.tid: b.size for b in plain.buffers}
    live = _live_bytes(plain)
    step_of = {oid: k for k, oid in enumerate(plain.order)}
    by_id = {b.tid: b for b in plain.buffers}

    def plain_live(t: str, k: int) -> bool:
        return by_id[t].first <= k <= by_id[t].last

    # 2. per op, the fastest variant whose footprint fits
    pick = {}
    for oid, vs in choices.items():
        k = step_of[oid]
        pick[oid] = len(vs)                           # the plain kernel
        for i, pk in enumerate(vs):
            _with(g, oid, pk)
            own, counted = _own_bytes(g, oid, k, life_last)
            others = live[k] - sum(size_of[t] for t in counted
                                   if t in size_of and plain_live(t, k))
            if others + own <= budget:
                pick[oid] = i
                break
        _with(g, oid, _variant_or_plain(vs, pick[oid]))
    first = dict(pick)
    # 3. plan; step the ops at over-budget steps down until the arena fits
    for _ in range(MAX_ROUNDS):
        plan = _quick_plan(g)
        if os.environ.get("TINYCC_DEBUG_PACK"):
            print("pack_weights:", plan.size, budget, {ir.op(g, o).index: pick[o] for o in pick})
        if plan.size <= budget:
            break
        over = [k for k in range(len(plan.order))
                if max((b.offset + b.size for b in plan.live_at(k)), default=0) > budget]
        at = [plan.order[k] for k in over if plan.order[k] in pick]
        # first another fast variant (less scratch, other sharing) of the ops at those steps,
        # only then the plain kernel
        demote = [oid for oid in at if pick[oid] + 1 < len(choices[oid])]
        if not demote:
            demote = [oid for oid in at if pick[oid] < len(choices[oid])]
        if not demote:
            demote = [oid for oid in plan.order if oid in pick and pick[oid] < len(choices[oid])][:1]
            if not demote:
                break
        for oid in demote:
            pick[oid] += 1
            _with(g, oid, _variant_or_plain(choices[oid], pick[oid]))
    # 4. the demotions of step 3 are made together, so some were not needed once the others
    #    took effect: give each demoted op back its fastest variant that keeps the plan in budget
    if plan.size <= budget:
        for oid in [o for o in plan.order if o in pick and pick[o] > first[o]]:
            for i in range(first[oid], pick[oid]):
                _with(g, oid, choices[oid][i])
                if _quick_plan(g).size <= budget:
                    pick[oid] = i
                    break
            _with(g, oid, _variant_or_plain(choices[oid], pick[oid]))
    # 5. give-back: flash the RAM step left unspent goes to the ops left out, in rank order
    picked = [(o, choices[o][pick[o]]) for o in pick if pick[o] < len(choices[o])]
    code = _Code()
    for _, pk in picked:
        code.charge(pk)
    spent = sum(_extra_flash(g, ir.op(g, o), pk) for o, pk in picked) + variants.code_bytes_of(code.units)
    room = _allowance(g, flash_budget) - spent
    for oid, vs in left_out:
        for pk in vs:
            extra = _extra_flash(g, ir.op(g, oid), pk) + code.more(pk)
            if extra > room:
                continue
            old = ir.op(g, oid).params.packed
            _with(g, oid, pk)
            if _quick_plan(g).size <= budget:
                room -= extra
                code.charge(pk)
                break
            _with(g, oid, old)
    g.graph["ram_budget"] = budget
    g.graph["flash_room"] = max(room, 0)        # the allowance left unspent (estimates)
    g.graph["flash_spent"] = sum(1 for oid in ir.ops_in_order(g) if ir.op(g, oid).params.packed is not None)
    return g
