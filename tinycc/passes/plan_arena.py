"""plan_arena: place every activation buffer in one static arena, as small as we can.

Algorithm
  1. Buffers. Every non-constant tensor that owns its bytes (not a view) is a buffer of
     ``nbytes`` rounded up to ALIGN; a view shares its source's buffer, and an input placed
     inside a join's output (``alias_concats``) lives in the output's buffer at its offset
     (``ir.storage``). An op whose kernel
     needs scratch memory (``OpDef.scratch_bytes``) gets a scratch buffer too.
  2. Schedules. Candidate execution orders: the model's order, a memory-greedy order
     (always run the ready op that leaves the fewest live bytes; a heap of per-op deltas),
     and further topological orders while there are few (MAX_ORDERS). Op k of an order runs
     at step k. Orders are planned while the pairs of buffers live together, summed over
     them, stay within PAIR_BUDGET; beyond it, those with the smallest live peak first (at
     least one). The budget counts work, so plans do not depend on the machine.
     Ops touching one state tensor keep the model's order among themselves, and an op that may
     end the invoke early keeps its place in it (``state_edges``).
  3. Lifetimes. For one order, a buffer lives over [first, last]: from the step of its
     producer (0 for model inputs; the earliest producer of the tensors placed in it) to the
     last step that reads it, one of its views or a tensor placed in it;
     model outputs live to the end (step = number of ops), and from step 0 when an op may end
     the invoke early (they keep their values then). Scratch lives at its op's step.
  4. Overlap rules. Two buffers whose lifetimes intersect may not share a byte, except
     an op's output and an input that dies at that op, as the op's kernel allows
     (``OpDef.overlap``, derived from its access pattern; the rule itself is
     ``tinycc/overlap.py``): "at_most s" lets the output
     start at most s bytes after the input (s is often negative: the output starts a
     little below the input and its writes trail the reads); "exactly s" allows only that
     one offset difference (e.g. 0: computed in place); "multiple m" allows every
     difference that is a multiple of m. A rule punches allowed points or a prefix out of
     the interval of offsets where one buffer would clash with the other.
  5. Placement strategies, each giving an offset to every buffer (all offsets multiples
     of ALIGN, each at the lowest offset outside the forbidden intervals of the buffers
     already placed):
       greedy_by_size      largest first, ties by first use (TensorFlow Lite Micro's planner);
       greedy_by_size_late largest first, ties by latest first use;
       greedy_rule_order   largest first among buffers whose predecessors are placed,
                           where an output that must start below its input ("at_most"
                           with a negative shift) precedes that input, so the input can be
                           placed above it, and an output computed at an "exactly" offset
                           from its input is placed right after it (before a larger buffer
                           of a later step takes that one offset);
       best_fit_lifetime   by first use; among the free gaps, the tightest that fits;
       sweep               by first use, over a list of free holes that dead buffers give
                           back; no overlap rules (O(n log n + n * holes));
       improve             local search from the best of the above: the buffer on top of
                           the arena moves to the front of the placement order, and the
                           rest is re-placed (first-fit), while the arena shrinks, within
                           IMPROVE_WORK regions looked at;
       exact               branch and bound over placement orders (first-fit), pruned by
                           the best size so far, for up to MAX_EXACT buffers, capped at
                           EXACT_STEPS placements (a step budget, not a clock: the result
                           is the same on any machine, however loaded).
     First fit looks up each buffer's forbidden regions next to its placed neighbours
     (precomputed relative to them) in merged, sorted intervals. An order with more live
     pairs than PAIR_BUDGET (thousands of ops with long-lived tensors, e.g. an unrolled RNN
     whose time steps are all sliced up front) gets only the sweep, and no local search.
  6. The plan with the smallest arena wins (ties: earlier strategy, earlier order). Its
     size is the highest end offset. With zero-copy joins the whole search runs once more with
     every join copying; zero copy is kept unless that plan is smaller.
  7. State. State tensors (``ir.Tensor.variable``) are not activations: they get their own
     region (``state_layout``), one after the other, which no other buffer ever shares, so
     their bytes persist from one invoke to the next.
Invariant (checked by ``check_plan`` in the tests, on every case): two buffers live at
the same step share no byte unless a rule allows it, and then within its shift.
"""
from __future__ import annotations

import bisect
import dataclasses
import functools
import heapq
import itertools
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from .. import ir, ops, overlap, variants

ALIGN = 4
MAX_ORDERS = 24          # topological orders tried besides the model's and the greedy one
MAX_EXACT = 100          # buffers up to which the exact search runs
EXACT_STEPS = 60000      # placements one exact search may try (~0.3 s on the reference machine)
PAIR_BUDGET = 20_000     # live buffer pairs, summed over the orders planned (see affordable_orders)
IMPROVE_WORK = 20_000    # regions the local search may look at (a budget of work, not time)


@dataclass(frozen=True)
class Buffer:
    tid: str
    size: int       # bytes, rounded up to ALIGN
    first: int
    last: int
    offset: int


@dataclass(frozen=True)
class Overlap:
    """Output ``out`` of op ``op`` may overlap its dying input ``inp``: when offset(out) -
    offset(inp) <= shift (kind "at_most") or == shift (kind "exactly")."""
    inp: str
    out: str
    shift: int
    op: str
    kind: str = "at_most"

    def allows(self, d: int) -> bool:
        return overlap.allows(self.kind, self.shift, d)


scratch_id = ir.scratch_id   # (defined in ir: codegen and the report name it too)


@dataclass(frozen=True)
class ArenaPlan:
    order: tuple[str, ...]          # op ids in execution order
    buffers: tuple[Buffer, ...]     # owners only, by offset
    offsets: dict                   # tensor id (owner or view) -> byte offset
    size: int                       # arena bytes
    overlaps: tuple[Overlap, ...] = ()
    strategy: str = ""
    tried: dict = field(default_factory=dict)   # "strategy/order" -> arena bytes, for reports
    state: dict = field(default_factory=dict)   # state tensor id -> byte offset in the state region
    state_size: int = 0                         # bytes of the state region

    @functools.cached_property
    def _by_step(self) -> tuple[int, list[list[int]]]:
        """A segment tree over the steps: each buffer's index sits in the O(log n) nodes that
        cover its lifetime, so the buffers live at a step are the union along one leaf's path."""
        leaves = 1 << len(self.order).bit_length()        # steps 0 .. len(order)
        tree: list[list[int]] = [[] for _ in range(2 * leaves)]
        for i, b in enumerate(self.buffers):
            lo, hi = b.first + leaves, b.last + leaves + 1
            while lo < hi:
                if lo & 1:
                    tree[lo].append(i)
                    lo += 1
                if hi & 1:
                    hi -= 1
                    tree[hi].append(i)
                lo, hi = lo >> 1, hi >> 1
        return leaves, tree

    def live_at(self, step: int) -> list[Buffer]:
        """The buffers live at ``step``, by offset."""
        leaves, tree = self._by_step
        if not 0 <= step < leaves:
            return []
        found, node = [], step + leaves
        while node:
            found.extend(tree[node])
            node >>= 1
        return [self.buffers[i] for i in sorted(found)]

    def occupied_by_step(self) -> list[int]:
        """Per step, the arena bytes covered by the buffers live there (shared bytes once): one
        sweep over the steps with a coverage count per ALIGN bytes of the arena."""
        cover = np.zeros(self.size // ALIGN + 1, dtype=np.int32)
        starts = sorted(self.buffers, key=lambda b: b.first)
        ends = sorted(self.buffers, key=lambda b: b.last)
        out, i, j = [], 0, 0
        for step in range(len(self.order) + 1):
            while i < len(starts) and starts[i].first <= step:
                cover[starts[i].offset // ALIGN:(starts[i].offset + starts[i].size) // ALIGN] += 1
                i += 1
            while j < len(ends) and ends[j].last < step:
                cover[ends[j].offset // ALIGN:(ends[j].offset + ends[j].size) // ALIGN] -= 1
                j += 1
            out.append(int(np.count_nonzero(cover)) * ALIGN)
        return out

    def lower_bound(self) -> int:
        """Tensor-level bound: the most tensor bytes live at one step (scratch not counted).
        No plan without shared memory between an op's input and output goes below it."""
        diff = [0] * (len(self.order) + 2)
        for b in self.buffers:
            if not b.tid.startswith("scratch:"):
                diff[b.first] += b.size
                diff[b.last + 1] -= b.size
        return max(itertools.accumulate(diff))


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


# -- schedules ---------------------------------------------------------------------

def candidate_orders(g: nx.DiGraph, extra: int = MAX_ORDERS, first: list[list[str]] | None = None) -> list[list[str]]:
    """The model's order, the memory-greedy one, then up to ``extra`` topological orders.
    ``first``: the first two, computed before (``affordable_orders``)."""
    orders = list(first) if first else [ir.ops_in_order(g)]
    base = orders[0]
    if len(orders) == 1:
        orders.append(memory_greedy_order(g, base))
    if extra <= 0:
        return orders if orders[1] != base else [base]
    op_graph = nx.DiGraph()
    op_graph.add_nodes_from(base)
    for oid in base:
        for t in ir.op(g, oid).outputs:
            for reader in _readers(g, t):
                op_graph.add_edge(oid, reader)
    op_graph.add_edges_from(state_edges(g, base))
    for o in itertools.islice(nx.all_topological_sorts(op_graph), extra):
        orders.append(list(o))
    unique = []
    for o in orders:
        if o not in unique:
            unique.append(o)
    return unique


def state_edges(g: nx.DiGraph, base: list[str]) -> list[tuple[str, str]]:
    """(earlier, later) op pairs that must keep the model's order because both touch one state
    tensor (READ_VARIABLE before the ASSIGN_VARIABLE that follows it, ...): each state tensor's
    ops, in ``base`` order, chained. An op that may end the invoke early (``OpDef.ends_invoke_early``)
    is a barrier: the ops before it in the model run before it, the others after it, as in TFLite Micro."""
    step = {o: k for k, o in enumerate(base)}
    edges = []
    for k, oid in enumerate(base):
        if ops.lookup(ir.op(g, oid).kind).ends_invoke_early(ir.op(g, oid)):
            edges += [(a, oid) for a in base[:k]] + [(oid, b) for b in base[k + 1:]]
    for n in g.nodes:
        if not ir.is_op(g, n) and ir.tensor(g, n).variable:
            users = sorted(ir.consumers(g, n), key=step.__getitem__)
            edges += list(zip(users, users[1:]))
    return edges


def _readers(g: nx.DiGraph, tid: str) -> list[str]:
    """Ops reading ``tid`` directly or through views."""
    out = []
    for s in g.successors(tid):
        out.extend([s] if ir.is_op(g, s) else _readers(g, s))
    return out


def memory_greedy_order(g: nx.DiGraph, base: list[str] | None = None) -> list[str]:
    """Run, among the ready ops, the one that leaves the fewest live bytes (ties: model order).

    Incremental: running op o changes the live bytes by delta(o) = its outputs that someone
    reads (or model outputs) - its inputs whose last unfinished reader it is. delta(o) only
    changes when another reader of one of o's inputs finishes, so each op's delta sits in a
    heap and is recomputed only then: O(edges log ops)."""
    base = base or ir.ops_in_order(g)
    index = {o: k for k, o in enumerate(base)}
    owner_readers: dict[str, set[str]] = {}
    for n in g.nodes:
        if not ir.is_op(g, n) and ir.tensor(g, n).in_arena:
            owner_readers.setdefault(ir.view_source(g, n), set()).update(_readers(g, n))
    outputs = {ir.view_source(g, t) for t in g.graph["outputs"]}
    remaining = {t: set(r) for t, r in owner_readers.items()}
    reads = {}                      # op -> the owners it reads (activation inputs, through views)
    waits = {}                      # op -> producers not run yet
    users: dict[str, list[str]] = {}
    for oid in base:
        o = ir.op(g, oid)
        owners = {ir.view_source(g, t) for t in o.inputs if t is not None}
        reads[oid] = sorted(t for t in owners if oid in owner_readers.get(t, ()))
        prods = {ir.producer(g, t) for t in owners}
        waits[oid] = {p for p in prods if p is not None and ir.is_op(g, p)}
        for p in waits[oid]:
            users.setdefault(p, []).append(oid)
    for a, b in state_edges(g, base):         # ops sharing a persistent state keep their order
        if a not in waits[b]:
            waits[b].add(a)
            users.setdefault(a, []).append(b)

    def delta(oid: str) -> int:
        o = ir.op(g, oid)
        new = sum(ir.tensor(g, t).nbytes for t in set(o.outputs) if t in outputs or owner_readers.get(t))
        freed = sum(ir.tensor(g, t).nbytes for t in reads[oid] if t not in outputs and remaining[t] == {oid})
        return new - freed

    heap = [(delta(o), index[o], o) for o in base if not waits[o]]
    heapq.heapify(heap)
    current = {o: d for d, _, o in heap}         # the valid heap entry of each ready op
    order: list[str] = []
    done: set[str] = set()
    while heap:
        d, _, best = heapq.heappop(heap)
        if current.get(best) != d:
            continue                             # stale entry
        del current[best]
        order.append(best)
        done.add(best)
        touched = set()
        for t in reads[best]:
            remaining[t].discard(best)
            if len(remaining[t]) == 1:
                touched |= remaining[t]
        for u in users.get(best, ()):
            waits[u].discard(best)
            if not waits[u]:
                touched.add(u)
        for u in sorted(touched, key=index.get):
            if not waits[u] and u not in done:
                current[u] = delta(u)
                heapq.heappush(heap, (current[u], index[u], u))
    return order


# -- lifetimes and rules -----------------------------------------------------------

class _Facts:
    """What planning needs of ``g`` that no execution order changes, computed once per plan:
    each activation tensor's owner, producing op and readers, each op's scratch bytes and the
    overlap rules of its inputs."""

    def __init__(self, g: nx.DiGraph, order: list[str] | None = None):
        self.g = g
        outputs = set(g.graph["outputs"])
        self.tensors = []       # (owner, producing op or None, reading ops, is a model output)
        # an op may end the invoke early: the outputs keep their values, so they live from step 0
        self.order = order or ir.ops_in_order(g)     # the model's order
        self.outputs_from_start = any(ops.lookup(ir.op(g, n).kind).ends_invoke_early(ir.op(g, n))
                                      for n in self.order)
        for n in sorted(g.nodes):
            if ir.is_op(g, n) or not ir.tensor(g, n).in_arena:
                continue
            p = ir.producer(g, n)
            if p is not None and not ir.is_op(g, p):
                p = ir.producer(g, ir.view_source(g, n))     # a view: written with its source
            self.tensors.append((ir.storage(g, n)[0], p, ir.consumers(g, n), n in outputs))
        self.scratch = {}
        for oid in self.order:
            o = ir.op(g, oid)
            self.scratch[oid] = variants.scratch_bytes(g, o)
        self._rules: dict[tuple[str, int], tuple[str, int] | None] = {}
        self._whole: dict[str, bool] = {}

    def rule(self, oid: str, slot: int):
        if (oid, slot) not in self._rules:
            self._rules[(oid, slot)] = variants.overlap_rule(self.g, ir.op(self.g, oid), slot)
        return self._rules[(oid, slot)]

    def whole(self, tid: str) -> bool:
        if tid not in self._whole:
            self._whole[tid] = _whole(self.g, tid)
        return self._whole[tid]


def lifetimes(g: nx.DiGraph, order: list[str], facts: _Facts | None = None) -> dict[str, tuple[int, int]]:
    """[first, last] steps of each buffer-owning tensor under ``order``."""
    facts = facts or _Facts(g)
    step = {oid: k for k, oid in enumerate(order)}
    end = len(order)
    life: dict[str, list[int]] = {}
    for owner, p, readers, is_output in facts.tensors:
        first = step[p] if p is not None else 0
        lo_hi = life.setdefault(owner, [first, first])
        lo_hi[0] = min(lo_hi[0], first)                   # a placed input is written before its join
        lo_hi[1] = max(lo_hi[1], first)
        for c in readers:
            lo_hi[1] = max(lo_hi[1], step[c])
        if is_output:
            lo_hi[1] = end
            if facts.outputs_from_start:
                lo_hi[0] = 0
    for k, oid in enumerate(order):
        if facts.scratch[oid] > 0:
            life[scratch_id(ir.op(g, oid))] = [k, k]
    return {k: (v[0], v[1]) for k, v in life.items()}


def _whole(g: nx.DiGraph, tid: str) -> bool:
    """``tid`` is all of its buffer (itself or a view of it), not a part placed inside a join's output."""
    owner, off = ir.storage(g, tid)
    return off == 0 and ir.tensor(g, owner).nbytes == ir.tensor(g, tid).nbytes and owner == ir.view_source(g, tid)


def overlap_rules(g: nx.DiGraph, order: list[str], life, facts: _Facts | None = None) -> dict[tuple[str, str], Overlap]:
    """(input owner, output) -> rule, for inputs that die at the op writing the output."""
    facts = facts or _Facts(g)
    rules: dict[tuple[str, str], Overlap] = {}
    banned: set[tuple[str, str]] = set()   # an op reads the buffer through a slot that forbids sharing
    for k, oid in enumerate(order):
        o = ir.op(g, oid)
        if len(o.outputs) != 1:
            continue
        out = o.outputs[0]
        if not facts.whole(out):
            continue                     # an output placed inside a join's output shares with nothing
        if facts.outputs_from_start and any(is_output for owner, _, _, is_output in facts.tensors if owner == out):
            continue                     # a model output kept apart (an invoke may end early)
        for slot, t in enumerate(o.inputs):
            if t is None or not ir.tensor(g, t).in_arena or not facts.whole(t):
                continue
            a = ir.view_source(g, t)
            key = (a, out)
            if life[a][1] != k or a == out or key in banned:
                continue
            rule = facts.rule(oid, slot)
            prev = rules.get(key)
            if rule is None or (prev is not None and (prev.kind, rule[0]) != ("at_most", "at_most")
                                and (prev.kind, prev.shift) != tuple(rule)):
                banned.add(key)          # no sharing, or two slots with incompatible rules
                rules.pop(key, None)
                continue
            kind, shift = rule
            rules[key] = Overlap(a, out, min(shift, prev.shift) if prev else shift, oid, kind)
    return rules


# -- placement ---------------------------------------------------------------------

def _overlapping(life: dict[str, tuple[int, int]]) -> dict[str, list[str]]:
    """For each buffer, the buffers whose lifetimes intersect its own (a sweep over first use:
    O(n log n + pairs))."""
    out: dict[str, list[str]] = {t: [] for t in life}
    active: list[tuple[int, str]] = []           # heap of (last, id) of buffers still live
    for t in sorted(life, key=lambda t: (life[t][0], t)):
        first, last = life[t]
        while active and active[0][0] < first:
            heapq.heappop(active)
        for _, u in active:
            out[t].append(u)
            out[u].append(t)
        heapq.heappush(active, (last, t))
    return out


class _Free:
    """The offsets one buffer may take next to the buffers already placed: plain forbidden
    intervals (merged, so a lookup is a bisection) and the few "multiple" regions with their
    allowed points."""

    def __init__(self, plain: list[tuple[int, int]], special: list[tuple[int, int, int, int]]):
        self.special = special
        self.los, self.his = [], []
        for lo, hi in sorted(plain):
            if self.his and lo < self.his[-1]:
                self.his[-1] = max(self.his[-1], hi)
            else:
                self.los.append(lo)
                self.his.append(hi)

    def plain_end(self, off: int) -> int | None:
        """End of the plain interval that blocks ``off``, or None."""
        i = bisect.bisect_left(self.los, off) - 1
        return self.his[i] if i >= 0 and off < self.his[i] else None

    def blocked(self, off: int) -> bool:
        return self.plain_end(off) is not None or any(_Problem._blocked(off, rg) for rg in self.special)

    def lowest(self) -> int:
        """The lowest aligned offset no region blocks (every region's escape skips only blocked
        or unaligned offsets, so the order of escapes does not matter)."""
        off = 0
        while True:
            hi = self.plain_end(off)
            while hi is not None:
                off = _align(hi)
                hi = self.plain_end(off)
            moved = False
            for rg in self.special:
                if _Problem._blocked(off, rg):
                    off, moved = _Problem._escape(off, rg), True
            if not moved:
                return off


class _Problem:
    """Sizes, lifetimes and rules of one schedule, with the conflict test placements share."""

    def __init__(self, sizes: dict[str, int], life: dict[str, tuple[int, int]], rules):
        self.sizes, self.life = sizes, life
        self.ids = sorted(sizes)
        self.rule = {}
        for (a, b), r in rules.items():
            self.rule[(a, b)] = ("in", r)    # a is the input of b's op
            self.rule[(b, a)] = ("out", r)
        self.work = 0                        # regions looked at, for search budgets

    @functools.cached_property
    def conflicts(self) -> dict[str, list[str]]:
        return _overlapping(self.life)

    @functools.cached_property
    def relative(self) -> dict[str, list]:
        """t -> [(u, regions of t's offset relative to u's offset)], see ``forbidden``."""
        sizes = self.sizes
        return {t: [(u, self.forbidden(t, u, 0) if (u, t) in self.rule else ((-sizes[t], sizes[u], 0, 0),))
                    for u in self.conflicts[t]] for t in self.ids}

    def forbidden(self, t: str, u: str, off_u: int) -> list[tuple[int, int, int, int]]:
        """Regions (lo, hi, modulus, residue) of offsets for ``t`` that clash with ``u`` at ``off_u``:
        offsets strictly between lo and hi are forbidden, except (when modulus > 0) those
        congruent to residue modulo modulus (``tinycc.overlap.forbidden``)."""
        r = self.rule.get((u, t))
        if r is None:
            regions = [(-self.sizes[t], self.sizes[u], 0, 0)]
        else:
            side, rule = r          # side "in": u is the input of t's op
            regions = overlap.forbidden(rule.kind, rule.shift, side == "in", self.sizes[t], self.sizes[u])
        return [(lo + off_u, hi + off_u, m, off_u % m if m else 0) for lo, hi, m, _ in regions]

    def _split_regions(self, t: str, placed: dict[str, int]):
        """The forbidden regions of ``t`` next to the placed buffers: (plain, multiple)."""
        plain, special = [], []
        for u, regions in self.relative[t]:
            off_u = placed.get(u)
            if off_u is None:
                continue
            for lo, hi, m, _ in regions:
                if m:
                    special.append((off_u + lo, off_u + hi, m, off_u % m))
                else:
                    plain.append((off_u + lo, off_u + hi))
        self.work += len(self.relative[t]) + 1
        return plain, special

    def _regions(self, t: str, placed: dict[str, int]):
        plain, special = self._split_regions(t, placed)
        return sorted([(lo, hi, 0, 0) for lo, hi in plain] + special)

    @staticmethod
    def _blocked(off: int, region) -> bool:
        lo, hi, m, res = region
        return lo < off < hi and not (m and off % m == res)

    @staticmethod
    def _escape(off: int, region) -> int:
        """The next offset above ``off`` (aligned) that leaves ``region``'s forbidden set."""
        lo, hi, m, res = region
        out = _align(hi)
        if m and m % ALIGN == 0 and res % ALIGN == 0:
            out = min(out, off + (res - off) % m)
        return out

    def lowest_offset(self, t: str, placed: dict[str, int]) -> int:
        plain, special = self._split_regions(t, placed)
        if all(m % ALIGN == 0 and res % ALIGN == 0 for _, _, m, res in special):
            return _Free(plain, special).lowest()
        # a "multiple" rule whose allowed points are not all aligned: its escape skips some
        # allowed offsets, so the result depends on the order of escapes; keep the sorted one
        regions = sorted([(lo, hi, 0, 0) for lo, hi in plain] + special)
        off, moved = 0, True
        while moved:
            moved = False
            for rg in regions:
                if self._blocked(off, rg):
                    off, moved = self._escape(off, rg), True
        return off

    def lowest_candidate(self, t: str, placed: dict[str, int]) -> int:
        """The lowest feasible candidate offset: 0, a region's end or start, or the first
        allowed point of a "multiple" region."""
        plain, special = self._split_regions(t, placed)
        cands = {0}
        for lo, hi in plain:
            cands.add(_align(hi))
            if lo >= 0:
                cands.add(_align(lo))
        for lo, hi, m, res in special:
            cands.add(_align(hi))
            if lo >= 0:
                cands.add(_align(lo))
                cands.add(lo + 1 + (res - lo - 1) % m)
        free = _Free(plain, special)
        return next(c for c in sorted(cands) if c % ALIGN == 0 and not free.blocked(c))

    def lower_bound(self) -> int:
        """No placement beats this: at every step the live bytes, less what each overlap rule
        between two live buffers could at most share (the smaller of the two)."""
        if not self.ids:
            return 0
        n = max(last for _, last in self.life.values()) + 2
        diff = [0] * n
        for t in self.ids:
            first, last = self.life[t]
            diff[first] += self.sizes[t]
            diff[last + 1] -= self.sizes[t]
        for (a, b), (side, _) in self.rule.items():
            if side == "in":
                first = max(self.life[a][0], self.life[b][0])
                last = min(self.life[a][1], self.life[b][1])
                if first <= last:
                    diff[first] -= min(self.sizes[a], self.sizes[b])
                    diff[last + 1] += min(self.sizes[a], self.sizes[b])
        return max(max(itertools.accumulate(diff)), max(self.sizes.values()))

    def end(self, placed: dict[str, int]) -> int:
        return max((placed[t] + self.sizes[t] for t in placed), default=0)


def place_in_order(p: _Problem, order: list[str]) -> dict[str, int]:
    placed: dict[str, int] = {}
    for t in order:
        placed[t] = p.lowest_offset(t, placed)
    return placed


def greedy_by_size(p: _Problem) -> dict[str, int]:
    return place_in_order(p, sorted(p.ids, key=lambda t: (-p.sizes[t], p.life[t][0], t)))


def greedy_by_size_late(p: _Problem) -> dict[str, int]:
    return place_in_order(p, sorted(p.ids, key=lambda t: (-p.sizes[t], -p.life[t][0], t)))


def greedy_rule_order(p: _Problem) -> dict[str, int]:
    before = {t: set() for t in p.ids}            # t -> buffers that must be placed before t
    tied: dict[str, list[str]] = {}                # "exactly": placed one right after the other
    for (a, b), (side, rule) in p.rule.items():
        if side == "in" and rule.kind == "at_most" and rule.shift < 0:
            before[a].add(b)                       # output b first, its input a above it
        if side == "in" and rule.kind == "exactly":
            tied.setdefault(a, []).append(b)
            tied.setdefault(b, []).append(a)
    key = {t: (-p.sizes[t], p.life[t][0], t) for t in p.ids}
    after: dict[str, list[str]] = {}
    for t, bs in before.items():
        for b in bs:
            after.setdefault(b, []).append(t)
    waiting = {t: len(bs) for t, bs in before.items()}
    ready = [key[t] for t in p.ids if not waiting[t]]
    rest = [key[t] for t in p.ids]                 # everything, for a cycle of rules
    heapq.heapify(ready)
    heapq.heapify(rest)
    order, done = [], set()
    while len(order) < len(p.ids):
        while ready and ready[0][2] in done:
            heapq.heappop(ready)
        if ready:
            t = heapq.heappop(ready)[2]
        else:                                      # a cycle of rules: fall back to size order
            while rest[0][2] in done:
                heapq.heappop(rest)
            t = heapq.heappop(rest)[2]
        group = [t]                                # t and, transitively, its tied buffers
        while group:
            t = group.pop()
            if t in done:
                continue
            order.append(t)
            done.add(t)
            group += sorted(tied.get(t, ()), key=key.get, reverse=True)
            for u in after.get(t, ()):
                waiting[u] -= 1
                if not waiting[u] and u not in done:
                    heapq.heappush(ready, key[u])
    return place_in_order(p, order)


def best_fit_lifetime(p: _Problem) -> dict[str, int]:
    """By first use; each buffer at the candidate offset (0, a neighbour's end or start) that
    grows the arena least, then the lowest: since the arena's growth only rises with the
    offset, that is the lowest feasible candidate."""
    placed: dict[str, int] = {}
    for t in sorted(p.ids, key=lambda t: (p.life[t][0], -p.sizes[t], t)):
        placed[t] = p.lowest_candidate(t, placed)
    return placed


def sweep(p: _Problem) -> dict[str, int]:
    """First fit by first use over a list of free holes, ignoring the overlap rules: buffers
    that died before a buffer's first use give their bytes back as holes (merged with their
    neighbours; a hole reaching the top lowers it), and each buffer takes the lowest hole it
    fits in, else the top. O(n log n + n * holes): the strategy for problems with too many
    live pairs for the others (PAIR_BUDGET)."""
    placed: dict[str, int] = {}
    starts: list[int] = []                 # holes below the top, by offset
    ends: list[int] = []
    top = 0
    expiring: list[tuple[int, str]] = []   # (last step, id) of the placed buffers

    def release(off: int, end: int) -> None:
        nonlocal top
        i = bisect.bisect_left(starts, off)
        if i > 0 and ends[i - 1] == off:      # merge with the hole below
            i -= 1
            off = starts.pop(i)
            ends.pop(i)
        if i < len(starts) and starts[i] == end:  # and the hole above
            starts.pop(i)
            end = ends.pop(i)
        if end >= top:
            top = off
        else:
            starts.insert(i, off)
            ends.insert(i, end)

    for t in sorted(p.ids, key=lambda t: (p.life[t][0], -p.sizes[t], t)):
        first, size = p.life[t][0], p.sizes[t]
        while expiring and expiring[0][0] < first:
            u = heapq.heappop(expiring)[1]
            release(placed[u], placed[u] + p.sizes[u])
        for i, (a, b) in enumerate(zip(starts, ends)):
            if b - a >= size:
                placed[t] = a
                if b - a == size:
                    del starts[i], ends[i]
                else:
                    starts[i] = a + size
                break
        else:
            placed[t] = top
            top += size
        heapq.heappush(expiring, (p.life[t][1], t))
    return placed


def placement_order(placed: dict[str, int]) -> list[str]:
    """An order whose first-fit placement reproduces ``placed`` (by offset, then id)."""
    return sorted(placed, key=lambda t: (placed[t], t))


def improve(p: _Problem, start: dict[str, int], rounds: int = 200, work: int | None = None) -> dict[str, int]:
    """Local search over placement orders: move a buffer that reaches the arena's top to the
    front, re-place everything first-fit, keep the result when the arena shrinks. Stops after
    ``rounds`` improvements or once ``work`` regions have been looked at (IMPROVE_WORK)."""
    limit = p.work + (IMPROVE_WORK if work is None else work)
    best, best_end = dict(start), p.end(start)
    order = placement_order(start)
    for _ in range(rounds):
        tops = [t for t in order if best[t] + p.sizes[t] == best_end]
        for t in tops:
            if p.work >= limit:
                return best
            trial_order = [t] + [u for u in order if u != t]
            trial = place_in_order(p, trial_order)
            if p.end(trial) < best_end:
                best, best_end, order = trial, p.end(trial), trial_order
                break
        else:
            return best
    return best


def exact(p: _Problem, start: dict[str, int], steps: int = EXACT_STEPS) -> dict[str, int]:
    """Branch and bound over the order in which buffers are placed (each at its lowest offset).

    ``start`` is the best known placement (its arena size is the initial bound). Each tried
    placement of one buffer costs one step; after ``steps`` of them the search stops and returns
    the best placement found. The budget counts work, not time, so the plan is deterministic.

    Each node of the search keeps every unplaced buffer's lowest offset: placing one buffer can
    only raise the lowest offsets of the buffers it conflicts with, and only of those whose
    offset its new regions block, so only they are looked up again (the same offsets as a
    lookup from scratch: the lowest offset is the least aligned one no region blocks).
    """
    if len(p.ids) > MAX_EXACT or steps <= 0:
        return start
    best = [p.end(start), dict(start)]
    floor = p.lower_bound()
    budget = [steps]
    by_size = sorted(p.ids, key=lambda t: (-p.sizes[t], p.life[t][0], t))
    # t -> [(u, lo, hi, regions of u's offset relative to t's)]: what placing t does to its
    # neighbours (lo, hi: the one plain region of most pairs, else regions to test one by one)
    near: dict[str, list] = {t: [] for t in p.ids}
    for u, rel in p.relative.items():
        for t, regions in rel:
            plain = len(regions) == 1 and not regions[0][2]
            near[t].append((u, *regions[0][:2], None) if plain else (u, 0, 0, regions))
    # a "multiple" rule with unaligned points: the lowest offset depends on the order of escapes
    # (``lowest_offset``), so such a buffer is looked up again whenever a neighbour is placed
    always = {u for u, rel in p.relative.items()
              if any(m % ALIGN for _, regions in rel for _, _, m, _ in regions)}
    sizes = p.sizes

    def dfs(placed: dict[str, int], remaining: list[str], end: int) -> bool:
        if not remaining:
            if end < best[0]:
                best[0], best[1] = end, dict(placed)
            return best[0] <= floor
        for t in remaining:
            if budget[0] <= 0:
                return True
            budget[0] -= 1
            off = low[t]
            new_end = off + sizes[t]
            if new_end < end:
                new_end = end
            if new_end >= best[0]:
                continue
            placed[t] = off
            changed = []                        # (buffer, its lowest offset before t was placed)
            for u, lo, hi, regions in near[t]:
                if u in placed:
                    continue
                d = low[u] - off                # u's lowest offset, relative to t's
                if u in always or (lo < d < hi if regions is None else
                                   any(a < d < b and not (m and d % m == 0) for a, b, m, _ in regions)):
                    changed.append((u, low[u]))
                    low[u] = p.lowest_offset(u, placed)
            stop = dfs(placed, [u for u in remaining if u != t], new_end)
            for u, before in changed:
                low[u] = before
            del placed[t]
            if stop:
                return True
        return False

    low = dict.fromkeys(p.ids, 0)               # each unplaced buffer's lowest offset, at this node
    dfs({}, by_size, 0)
    return best[1]


STRATEGIES = {"greedy_by_size": greedy_by_size, "greedy_by_size_late": greedy_by_size_late,
              "greedy_rule_order": greedy_rule_order, "best_fit_lifetime": best_fit_lifetime, "sweep": sweep}


def plan_order(g: nx.DiGraph, order: list[str], facts: _Facts | None = None, life=None):
    facts = facts or _Facts(g)
    life = life or lifetimes(g, order, facts)
    scratch = {scratch_id(ir.op(g, oid)): facts.scratch[oid] for oid in order}
    sizes = {t: _align(scratch[t] if t in scratch else max(ir.tensor(g, t).nbytes, 1)) for t in life}
    rules = overlap_rules(g, order, life, facts)
    return _Problem(sizes, life, rules), rules


def live_pairs(life: dict[str, tuple[int, int]]) -> int:
    """How many pairs of buffers are live at a common step (the placements' work grows with it)."""
    lasts = sorted(last for _, last in life.values())
    n = len(lasts)
    apart = sum(bisect.bisect_left(lasts, first) for first, _ in life.values())   # a ends before b starts
    return n * (n - 1) // 2 - apart


def live_peak(life: dict[str, tuple[int, int]], sizes: dict[str, int]) -> int:
    """The most bytes live at one step (no sharing)."""
    diff = [0] * (max((last for _, last in life.values()), default=0) + 2)
    for t, (first, last) in life.items():
        diff[first] += sizes[t]
        diff[last + 1] -= sizes[t]
    return max(itertools.accumulate(diff))


def affordable_orders(g: nx.DiGraph, facts: _Facts) -> list[tuple[int, list[str], dict]]:
    """(index, order, lifetimes) of the candidate orders planned: all of them while their live
    pairs add up to at most PAIR_BUDGET; beyond, the orders with the smallest live peak
    (ties: earlier) until the budget is spent (at least one). A budget of work, not time."""
    cands = []
    first = [facts.order, memory_greedy_order(g, facts.order)]
    orders = candidate_orders(g, extra=0, first=first)
    for k, order in enumerate(orders):
        life = lifetimes(g, order, facts)
        cands.append((k, order, life, live_pairs(life)))
    if sum(c[3] for c in cands) * (MAX_ORDERS + 2) <= PAIR_BUDGET * len(cands):
        # the topological orders would likely fit in the budget too: enumerate them
        for k, order in enumerate(candidate_orders(g, first=first)[len(orders):], len(orders)):
            life = lifetimes(g, order, facts)
            cands.append((k, order, life, live_pairs(life)))
    if sum(c[3] for c in cands) <= PAIR_BUDGET:
        return [c[:3] for c in cands]
    sizes = {}
    for t in cands[0][2]:
        sizes[t] = max(ir.tensor(g, t).nbytes, 1) if not t.startswith("scratch:") else 0
    ranked = sorted(cands, key=lambda c: (live_peak(c[2], sizes), c[0]))
    chosen, spent = [], 0
    for c in ranked:
        if chosen and spent + c[3] > PAIR_BUDGET:
            continue
        chosen.append(c)
        spent += c[3]
    return [c[:3] for c in sorted(chosen, key=lambda c: c[0])]


def plan_arena(g: nx.DiGraph, exact_steps: int = EXACT_STEPS, order: list[str] | None = None) -> nx.DiGraph:
    """Plan ``g`` (``graph.graph["plan"]``). With zero-copy joins (``alias_concats``), the plan
    with every join copying is computed too, and wins if it is smaller (the joins then copy).
    ``exact_steps`` bounds the exact search (0: heuristics and local search only, a quick plan
    that is never smaller than the full one). ``order``: ``ir.ops_in_order(g)``, when the caller
    has it (pack_weights plans one graph many times)."""
    order = order or ir.ops_in_order(g)
    joins = [n for n in order if ir.op(g, n).params.get("zero_copy")]
    _plan(g, exact_steps, order)
    if joins:
        alt = g.copy()
        for n in joins:
            o = ir.op(alt, n)
            ir.replace_value(alt, n, dataclasses.replace(
                o, params=dataclasses.replace(o.params, zero_copy={})))
        _plan(alt, exact_steps, order)
        if alt.graph["plan"].size < g.graph["plan"].size:
            for n in joins:
                ir.replace_value(g, n, ir.op(alt, n))
            g.graph["plan"] = alt.graph["plan"]
    return g


def _plan(g: nx.DiGraph, exact_steps: int = EXACT_STEPS, order: list[str] | None = None) -> None:
    tried: dict[str, int] = {}
    results = []
    facts = _Facts(g, order)
    for k, order, life in affordable_orders(g, facts):
        prob, rules = plan_order(g, order, facts, life)
        big = live_pairs(life) > PAIR_BUDGET       # the sweep only, no local search
        for name, fn in ({"sweep": sweep} if big else STRATEGIES).items():
            placed = fn(prob)
            size = prob.end(placed)
            tried[f"{name}/order{k}"] = size
            results.append((size, len(results), name, k, order, prob, rules, placed))
    results.sort(key=lambda r: (r[0], r[1]))
    size, _, name, k, order, prob, rules, placed = results[0]
    better = improve(prob, placed, work=0 if live_pairs(prob.life) > PAIR_BUDGET else None)
    if prob.end(better) < size:
        placed, name, size = better, "improve", prob.end(better)
    tried[f"improve/order{k}"] = size
    refined = exact(prob, placed, exact_steps) if size > prob.lower_bound() else placed
    if prob.end(refined) < size:
        placed, name, size = refined, "exact", prob.end(refined)
    tried[f"exact/order{k}"] = size
    g.graph["plan"] = make_plan(g, order, prob, rules, placed, name, tried)


def make_plan(g, order, prob: _Problem, rules, placed, strategy="", tried=None) -> ArenaPlan:
    buffers = tuple(Buffer(t, prob.sizes[t], *prob.life[t], placed[t])
                    for t in sorted(placed, key=lambda t: (placed[t], t)))
    offsets = {}
    for n in g.nodes:
        if not ir.is_op(g, n) and ir.tensor(g, n).in_arena:
            owner, off = ir.storage(g, n)
            offsets[n] = placed[owner] + off
    offsets.update({t: off for t, off in placed.items() if t.startswith("scratch:")})
    state, state_size = state_layout(g, order)
    return ArenaPlan(tuple(order), buffers, offsets, prob.end(placed),
                     tuple(sorted(rules.values(), key=lambda r: (r.op, r.inp))), strategy, dict(tried or {}),
                     state, state_size)


def state_layout(g: nx.DiGraph, order: list[str]) -> tuple[dict[str, int], int]:
    """Offsets of the state tensors (``ir.Tensor.variable``) in the state region, in the order the
    ops first read them, each aligned to ALIGN; and the region's size. Nothing else lives there,
    so its bytes survive from one invoke to the next."""
    offsets: dict[str, int] = {}
    end = 0
    for oid in order:
        for t in ir.op(g, oid).inputs:
            if t is not None and t not in offsets and ir.tensor(g, t).variable:
                offsets[t] = end
                end += _align(ir.tensor(g, t).nbytes)
    return offsets, end


def check_plan(plan: ArenaPlan) -> None:
    """Raise AssertionError unless every pair of buffers live at a common step is either
    disjoint or allowed by an overlap rule (and within its shift)."""
    rule = {(r.inp, r.out): r for r in plan.overlaps}
    bufs = plan.buffers
    for i, a in enumerate(bufs):
        assert a.offset % ALIGN == 0 and a.offset + a.size <= plan.size, a
        for b in bufs[i + 1:]:
            if a.last < b.first or b.last < a.first:
                continue
            if a.offset + a.size <= b.offset or b.offset + b.size <= a.offset:
                continue
            if (a.tid, b.tid) in rule:
                assert rule[(a.tid, b.tid)].allows(b.offset - a.offset), (a, b)
            elif (b.tid, a.tid) in rule:
                assert rule[(b.tid, a.tid)].allows(a.offset - b.offset), (a, b)
            else:
                raise AssertionError(f"{a} and {b} are live together and overlap")
