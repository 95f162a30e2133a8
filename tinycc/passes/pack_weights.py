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
The arena stays within ``RAM_SLACK`` of the plain kernels' plan:

  1. plan the arena with the plain kernels (the smallest RAM): budget = its size * (1 + 1/16);
  2. keep the variants whose footprint at the op's step fits: the bytes of the other buffers
     live there (from the plain plan) + the op's own input/output under the variant's overlap
     rule + its scratch; the flash budget is spent on these (below); each op takes the first
     (fastest) of them whose flash is paid for;
  3. plan with those choices; while the arena is above the budget, the packed ops at the steps
     whose buffers reach above it step down to their next variant whose flash is still paid
     for (those with another fast variant first, the plain kernel last), and plan again;
  4. those step-downs were made together: each stepped-down op (those that lost the most
     estimated cycles first) gets back the fastest of its skipped variants with which the plan
     stays within the budget. A step-down may take a faster variant whose flash is not paid
     for; then (4b) the ops whose slower variant frees flash for the fewest cycles lost per
     byte step down until the estimate is within the flash budget again.

Flash-aware choice (``--flash-budget``, default ``default_flash_budget``: 1.10 x the model's
constant bytes + 16 KB, for all generated code and data; where the plain kernels' build alone
would be over that default, on a model of at most ``PLAIN_BUDGET_MAX_OPS`` ops, the default is the
plain build's estimated flash instead, so fast kernels are still taken where they add no flash:
a small 16x8 DS-CNN's fast kernels take less code than the plain ones, 2.67 M -> 0.49 M
cycles). ``_Flash`` keeps an estimate of the build's flash (``tinycc.flash_estimate``: every op's constants and NAME.c share measured by
emitting it through a probe, the kernel files' code from measured tables, part by part; an
upper bound within ~2 % of the measured flash) as choices are made: a fast kernel's code counts
once, and the plain kernel's code is freed when its last op leaves it. ``_flash_filter``
spends the budget in two rounds, by estimated cycles saved (the units' ``plain_cycles`` -
``cycles``) per byte: every op's variant with the least flash (the int8-weight kernels), unit
by unit (a unit's group of ops pays its code once, and may free the plain kernel's); then op by
op the step to a faster variant (widened weights) with the most cycles per further byte, while
one fits. Step 5, after step 4: the flash the RAM step left unspent goes to the ops left out
whose variant also keeps the arena within the budget. The build is measured only when the
estimate comes within ``driver.FLASH_MARGIN`` of the budget (redone if above it).

Compile time: the plans of steps 3 and 4 are quick plans (``plan_arena(g, exact_steps=0)``:
every order and heuristic and the local search, no exact search); the exact search runs once,
in the ``plan_arena`` pass that follows. Step 2 uses the live bytes per step of the plain plan
(difference arrays), not a scan of every buffer per op. When the plain build alone is over the
flash budget only the units that may store weights in fewer bytes (``Variant.stores_less``) are
packed (a 1,000-op model otherwise packs ~3 ms an op for nothing).
"""
from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import os

import networkx as nx

from .. import flash_estimate, ir, overlap, variants
from .plan_arena import ALIGN, plan_arena, scratch_id

RAM_SLACK = 16          # the arena may exceed the plain kernels' plan by 1/RAM_SLACK
MAX_ROUNDS = 40

# flash: estimates for choosing variants (the build summary reports the measured figures)
FLASH_SLACK, FLASH_CODE = 1.10, 16 * 1024   # default budget: 1.10 x constants + 16 KB
# ... or the plain build's estimated flash where that is larger, on models of at most this many
# ops (beyond it every op's candidates would be packed to find the few that free flash: ~3 ms an op)
PLAIN_BUDGET_MAX_OPS = 256


def _variants(g, o, over: bool = False) -> list:
    """Every unit's packing for the op, fastest (estimated cycles) first; the sort is stable, so a
    unit's own order (e.g. less scratch next) is kept. ``over``: the plain build alone is over the
    flash budget, so only the units that may store the weights in fewer bytes are asked (packing
    the others, ~3 ms an op, would buy nothing)."""
    if o.params.compressed is not None:     # compressed weights (compress_weights): the portable decoding kernel
        return []
    return sorted(variants.candidates(g, o, stores_less=over), key=lambda pk: _unit(pk).cycles(g, o, pk))


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


def _quick_plan(g: nx.DiGraph, order: list[str]):
    return plan_arena(g.copy(), exact_steps=0, order=order).graph["plan"]


def _live_bytes(plan) -> list[int]:
    """Bytes of the buffers live at each step of ``plan``."""
    diff = [0] * (len(plan.order) + 2)
    for b in plan.buffers:
        diff[b.first] += b.size
        diff[b.last + 1] -= b.size
    return list(itertools.accumulate(diff))


def default_flash_budget(g) -> int:
    return round(FLASH_SLACK * ir.model_constant_bytes(g) + FLASH_CODE)


_COST: dict = {}      # (id(pk) or None, op name) -> flash_estimate.OpCost, and cycles saved, for one run


def _cost(g, o, pk) -> flash_estimate.OpCost:
    """What the op's kernel (packing ``pk``, None: plain) puts in flash (``flash_estimate.op_cost``:
    its emit through a probe). Cached for the run (the ranking asks many times)."""
    key = (None if pk is None else id(pk), o.name)
    if key not in _COST:
        _COST[key] = flash_estimate.op_cost(g, o, pk)
    return _COST[key]


def _extra_flash(g, o, pk) -> int:
    """Flash the variant's constants and parameters take beyond the plain kernel's (weights,
    folded bias, mult/shift); negative when they take less (a sparse layout of pruned weights):
    the bytes it saves go to the other ops' fast kernels."""
    a, b = _cost(g, o, pk), _cost(g, o, None)
    return a.const + a.own_code - b.const - b.own_code


def _cycles_saved(g, o, pk) -> float:
    key = ("cycles", id(pk), o.name)
    if key not in _COST:
        unit = _unit(pk)
        _COST[key] = unit.plain_cycles(g, o) - unit.cycles(g, o, pk)
    return _COST[key]


class _Flash:
    """The flash of the choices made so far, as ``flash_estimate`` costs a build: every op's
    constants (the plain kernel's, plus a packing's extra bytes) and NAME.c share, and the kernel
    code items charged (``flash_estimate.Code``: a file or part costs once, while some op uses
    it). ``left`` is the budget minus all of it."""

    def __init__(self, g, budget: int, order: list[str]):
        self.g, probe = g, flash_estimate.Probe(g)
        self.code, self.now, self.plain_items = flash_estimate.Code(flash_estimate.code_factor(g)), {}, {}
        fixed = round(flash_estimate.NAME_C_BYTES["base"] * flash_estimate.code_factor(g))
        for oid in order:
            c = flash_estimate.op_cost(g, ir.op(g, oid), None, probe)
            fixed += c.const + c.own_code
            self.plain_items[oid] = c.items
            self.code.charge(c.items, oid)
        self.extra, self.budget = 0, budget
        self.left = budget - fixed - self.code.total()

    def items(self, oid, pk) -> frozenset:
        return self.plain_items[oid] if pk is None else _cost(self.g, ir.op(self.g, oid), pk).items

    def move(self, moves: dict) -> int:
        """Give each op of ``moves`` ({op: packing or None}) its packing; returns the bytes it
        added (negative: freed)."""
        before = self.extra + self.code.total()
        for oid, pk in moves.items():
            old = self.now.get(oid)
            self.code.release(self.items(oid, old), oid)
            self.code.charge(self.items(oid, pk), oid)
            self.extra += _extra(self.g, oid, pk) - _extra(self.g, oid, old)
            self.now[oid] = pk
        added = self.extra + self.code.total() - before
        self.left -= added
        return added

    def cost(self, moves: dict) -> int:
        """The bytes ``move(moves)`` would add, the state left as it is."""
        undo = {oid: self.now.get(oid) for oid in moves}
        added = self.move(moves)
        self.move(undo)
        return added

    def grant(self, groups: dict) -> None:
        """Give ops their proposed packings ({unit: {op: packing}}), the groups that save the
        most estimated cycles per byte first (a group's bytes: its constants beyond the ops'
        current kernels, its unit's code unless charged, less the code of kernels no op uses
        any more: moving every depthwise to one fast kernel frees the plain one's code; so a
        group is also tried with its ops whose estimate gains nothing). A group that does not
        fit goes op by op (most cycles per byte first)."""
        while groups:
            rank = []
            for u, group in groups.items():
                gaining = {o: pk for o, pk in group.items() if self._saved(o, pk) > 0}
                for moves in ([gaining, group] if len(gaining) < len(group) else [group]):
                    if not moves:
                        continue
                    gain = sum(self._saved(o, pk) for o, pk in moves.items())
                    cost = self.cost(moves)
                    if gain > 0:
                        rank.append((-(gain / cost) if cost > 0 else -math.inf, -gain, u, moves, cost))
            if not rank:
                return
            _, _, u, moves, cost = min(rank, key=lambda r: r[:3])
            del groups[u]
            if cost <= self.left:
                self.move(moves)
                continue
            for oid, pk in sorted(moves.items(), key=lambda m: -self._saved(*m) / max(self.cost(dict([m])), 1)):
                if self._saved(oid, pk) > 0 and self.cost({oid: pk}) <= self.left:
                    self.move({oid: pk})

    def upgrade(self, choices: dict, fits) -> None:
        """Op by op, the step to a faster variant that saves the most estimated cycles per byte
        (its constants beyond the current kernel's, plus its code unless charged), while one
        fits: a lazy heap whose top is re-costed when it comes up; after a unit's code is
        charged, the ops that may use it are ranked again."""
        order = itertools.count()
        users: dict = {}
        for oid, vs in choices.items():
            for pk in vs:
                users.setdefault(pk.impl, set()).add(oid)

        # packings alike for the flash (same cycles, constants, code: e.g. one kernel with less
        # scratch) are costed once, and the first whose footprint fits stands for them
        alike: dict = {}
        for oid, vs in choices.items():
            for pk in vs:
                key = (self._saved_abs(oid, pk), _extra(self.g, oid, pk), self.items(oid, pk))
                alike.setdefault(oid, {}).setdefault(key, []).append(pk)

        def best(oid):
            cur, top = self.now.get(oid), None
            base = (self._saved_abs(oid, cur) if cur else 0, _extra(self.g, oid, cur))
            tried = set()
            for (saved, extra, items), pks in alike[oid].items():
                gain = saved - base[0]
                cost = extra - base[1] + self.code.more(items)
                if gain <= 0 or cost > self.left or gain in tried:    # equal cycles: the first listed
                    continue
                tried.add(gain)
                key = (gain / cost if cost > 0 else math.inf, gain)
                if top is None or key > top[0]:
                    pk = next((p for p in pks if fits(oid, p)), None)
                    if pk is not None:
                        top = (key, pk)
            return top

        heap = []

        def push(oid):
            top = best(oid)
            if top:
                heapq.heappush(heap, (-top[0][0], -top[0][1], next(order), oid, top[1]))

        for oid in choices:
            push(oid)
        while heap:
            eff, gain, _, oid, pk = heapq.heappop(heap)
            top = best(oid)
            if top is None:
                continue
            if top[1] is not pk or (-top[0][0], -top[0][1]) != (eff, gain):
                heapq.heappush(heap, (-top[0][0], -top[0][1], next(order), oid, top[1]))
                continue
            new_code = self.code.more(self.items(oid, pk)) > 0
            self.move({oid: pk})
            for other in (users[pk.impl] if new_code else {oid}):
                push(other)

    def more_saved(self, oid, pk, than) -> bool:
        """Whether ``pk`` saves more estimated cycles than ``than`` (None: the plain kernel)."""
        return self._saved_abs(oid, pk) > (self._saved_abs(oid, than) if than else 0)

    def _saved_abs(self, oid, pk) -> float:
        return _cycles_saved(self.g, ir.op(self.g, oid), pk)

    def _saved(self, oid, pk) -> float:
        o = ir.op(self.g, oid)
        return _cycles_saved(self.g, o, pk) - (_cycles_saved(self.g, o, self.now[oid]) if self.now.get(oid) else 0)


def _extra(g, oid, pk) -> int:
    return 0 if pk is None else _extra_flash(g, ir.op(g, oid), pk)


def _by_unit(moves: dict) -> dict:
    groups: dict = {}
    for oid, pk in moves.items():
        groups.setdefault(pk.impl, {})[oid] = pk
    return groups


def _flash_filter(g, choices: dict, flash: _Flash, fits) -> tuple[dict, list]:
    """Spend the flash budget in two rounds (``_Flash.grant``): every op first gets its variant
    with the least extra flash (the int8-weight kernels: none), then the ops whose fastest
    variant (widened weights) buys the most cycles per further byte get it. Returns per op the
    variants the RAM step may use, fastest first: the granted one, the faster ones whose flash is
    paid for (extra constants at most the granted one's, code charged) and every slower one (the
    RAM step takes one only while the estimated flash stays within the budget); and the ops not
    upgraded, in rank order, with their variants (for the give-back)."""
    base = {oid: next((pk for pk in sorted(v, key=lambda pk: _extra_flash(g, ir.op(g, oid), pk))
                       if fits(oid, pk)), None) for oid, v in choices.items()}
    flash.grant(_by_unit({oid: pk for oid, pk in base.items() if pk is not None}))
    flash.upgrade(choices, fits)
    granted, left_out = {}, []
    for oid, v in choices.items():
        now = flash.now.get(oid)
        if any(flash.more_saved(oid, pk, now) and fits(oid, pk) for pk in v):    # the flash refused it
            left_out.append((oid, v))
        if now is None:
            continue
        cap, at = _extra_flash(g, ir.op(g, oid), now), v.index(now)
        granted[oid] = [pk for i, pk in enumerate(v) if i >= at or (_extra_flash(g, ir.op(g, oid), pk) <= cap
                                                                     and flash.code.has(flash.items(oid, pk)))]
    left_out.sort(key=lambda x: -_cycles_saved(g, ir.op(g, x[0]), x[1][0]))
    return granted, left_out


def _estimates(g, flash: _Flash) -> None:
    """The graph's estimated flash (``flash_own``), and with what its subgraphs and an earlier
    build over the budget took (``flash_overshoot``) the figure the driver checks."""
    g.graph["flash_own"] = flash.budget - flash.left
    g.graph["flash_estimate"] = g.graph["flash_own"] + g.graph.get("flash_overshoot", 0)


def pack_weights(g: nx.DiGraph) -> nx.DiGraph:
    _COST.clear()
    try:
        return _pack_weights(g)
    finally:
        _COST.clear()


def _pack_weights(g: nx.DiGraph) -> nx.DiGraph:
    flash_budget = g.graph.get("flash_budget") or default_flash_budget(g)
    g.graph["flash_budget"] = flash_budget
    target, optimize = g.graph.get("target"), g.graph.get("optimize")
    order = ir.ops_in_order(g)      # (this pass replaces ops' values only: one order throughout)
    if not any(v.applies(g, ir.op(g, oid), target) for oid in order
               for v in variants.variants_for(ir.op(g, oid).kind, target, optimize)):
        return g
    flash = _Flash(g, flash_budget - g.graph.get("flash_overshoot", 0), order)
    if (flash.left < 0 and not g.graph.get("flash_budget_given") and not g.graph.get("flash_overshoot")
            and len(order) <= PLAIN_BUDGET_MAX_OPS):
        # the default budget is below the plain kernels' own flash (a small model: its constants
        # leave less room than the plain kernels' code): it becomes that flash, so the fast kernels
        # are taken where they add no flash (their code may be smaller than the plain kernels')
        flash_budget -= flash.left
        g.graph["flash_budget"], flash.left = flash_budget, 0
    choices, over = {}, flash.left < 0
    for oid in order:
        v = _variants(g, ir.op(g, oid), over=over)
        if v:
            choices[oid] = v
    offered = dict(choices)
    if not choices:
        _estimates(g, flash)
        return g
    # 1. the plain kernels' plan and the budget
    plain = plan_arena(g.copy(), order=order).graph["plan"]
    budget = plain.size + plain.size // RAM_SLACK
    life_last = {b.tid: b.last for b in plain.buffers}
    size_of = {b.tid: b.size for b in plain.buffers}
    live = _live_bytes(plain)
    step_of = {oid: k for k, oid in enumerate(plain.order)}
    by_id = {b.tid: b for b in plain.buffers}

    fit: dict = {}

    def fits(oid, pk) -> bool:
        """Whether the op's footprint with ``pk`` at its step fits the budget: the bytes of the
        other buffers live there (from the plain plan) + its own input/output and scratch."""
        if (oid, id(pk)) not in fit:
            k, was = step_of[oid], ir.op(g, oid).params.packed
            _with(g, oid, pk)
            own, counted = _own_bytes(g, oid, k, life_last)
            _with(g, oid, was)
            fit[oid, id(pk)] = live[k] + own - sum(size_of[t] for t in counted if t in size_of
                                                   and by_id[t].first <= k <= by_id[t].last) <= budget
        return fit[oid, id(pk)]

    # 2. the flash budget is spent on the variants whose footprint fits, alone
    choices, left_out = _flash_filter(g, choices, flash, fits)

    def paid(oid, i: int) -> bool:
        """Whether variant i of the op (past the last: the plain kernel) keeps the estimated
        flash within the budget, the other ops' choices as they stand."""
        return flash.cost({oid: _variant_or_plain(choices[oid], i)}) <= flash.left

    def take(oid, i: int) -> None:
        pick[oid] = i
        pk = _variant_or_plain(choices[oid], i)
        _with(g, oid, pk)
        flash.move({oid: pk})

    pick = {}
    for oid, vs in choices.items():
        take(oid, next((i for i, pk in enumerate(vs) if fits(oid, pk) and paid(oid, i)), len(vs)))
    first = dict(pick)
    # 3. plan; step the ops at over-budget steps down until the arena fits
    for _ in range(MAX_ROUNDS):
        plan = _quick_plan(g, order)
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
        for oid in demote:      # the next variant whose flash is paid for, unless an unpaid one is
            later = range(pick[oid] + 1, len(choices[oid]) + 1)     # faster (step 4b finds the flash)
            i = next((i for i in later if paid(oid, i)), later[0])
            near = next((j for j in later if j == len(choices[oid]) or fits(oid, choices[oid][j])), i)
            take(oid, near if near < i and flash.more_saved(oid, choices[oid][near], _variant_or_plain(
                choices[oid], i)) else i)
    # 4. the demotions of step 3 are made together, so some were not needed once the others
    #    took effect: give each demoted op back its fastest variant that keeps the plan in budget,
    #    the ops that lost the most estimated cycles first
    def lost(oid) -> float:
        o, now = ir.op(g, oid), _variant_or_plain(choices[oid], pick[oid])
        return _cycles_saved(g, o, choices[oid][first[oid]]) - (_cycles_saved(g, o, now) if now else 0)

    if plan.size <= budget:
        for oid in sorted((o for o in plan.order if o in pick and pick[o] > first[o]), key=lambda o: -lost(o)):
            was = pick[oid]
            for i in range(first[oid], was):
                if not paid(oid, i):
                    continue
                take(oid, i)
                if _quick_plan(g, order).size <= budget:
                    break
                take(oid, was)
    # 4b. over the flash budget after the RAM step: step down the ops whose slower variant frees
    #     flash for the fewest estimated cycles lost per byte, while the plan stays in budget
    tried: set = set()
    while flash.left < 0:
        best = None
        for oid in pick:
            now = _variant_or_plain(choices[oid], pick[oid])
            for j in range(pick[oid] + 1, len(choices[oid]) + 1):
                pk = _variant_or_plain(choices[oid], j)
                freed = -flash.cost({oid: pk})
                if freed <= 0 or (oid, j) in tried or (pk is not None and not fits(oid, pk)):
                    continue
                loss = flash._saved_abs(oid, now) - (flash._saved_abs(oid, pk) if pk is not None else 0)
                if best is None or loss / freed < best[0]:
                    best = (loss / freed, oid, j)
        if best is None:
            break
        _, oid, j = best
        tried.add((oid, j))
        was = pick[oid]
        take(oid, j)
        if _quick_plan(g, order).size > budget:
            take(oid, was)
    # 5. give-back: the flash the RAM step left unspent goes to the ops left out, in rank order,
    #    each its fastest variant whose flash is paid for, if the plan stays within the budget
    for oid, vs in left_out:
        now = ir.op(g, oid).params.packed
        pk = next((pk for pk in vs if flash.more_saved(oid, pk, now) and fits(oid, pk)
                   and flash.cost({oid: pk}) <= flash.left), None)
        if pk is None:
            continue
        _with(g, oid, pk)
        if _quick_plan(g, order).size <= budget:
            flash.move({oid: pk})
        else:
            _with(g, oid, now)
    g.graph["ram_budget"] = budget
    if not over:    # every unit's packings were made: the memory report's decode cost reads its twin here
        g.graph["int8_twin_cycles"] = {
            ir.op(g, oid).name: variants.int8_twin_cycles(g, ir.op(g, oid), vs) for oid, vs in offered.items()
            if (u := variants.chosen(ir.op(g, oid))) is not None and u.decodes()}
    g.graph["flash_room"] = max(flash.left, 0)          # the budget left unspent (estimates)
    _estimates(g, flash)
    g.graph["flash_spent"] = sum(1 for oid in order if ir.op(g, oid).params.packed is not None)
    return g
