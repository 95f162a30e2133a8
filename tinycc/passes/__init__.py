"""The pass pipeline. A pass is a plain function ``graph -> graph``; they run in PIPELINE order.

    fold_constants     ops whose inputs are all constant are computed now and disappear
    check_operators    every op's type and shape rules (refuse what we cannot compile)
    alias_reshapes     RESHAPE/SQUEEZE become views (no copy, no code)
    fold_quantization  everything TFLite computes in Prepare becomes compile-time constants
    fuse_ops           exact fusions from a rule table: PAD into convolutions, activations into
                       clamps, quantize/dequantize pairs and int8 table chains into one table
    alias_concats      concatenation inputs that are contiguous blocks of the output are written
                       there by their producers (zero copy, no code)
    compress_weights   weights stored as k-bit indices into value tables where that saves flash
                       (and the model's INT4 weights kept 4-bit)
    pack_weights       per target, the fastest kernel of each op and its packed constants
    plan_arena         liveness and offsets of every activation buffer in one static arena
"""
from __future__ import annotations

import time
from typing import Callable

import networkx as nx

from .. import flash_estimate, ir
from ..errors import TinyccError
from .alias_concats import alias_concats
from .alias_reshapes import alias_reshapes
from .check_operators import check_operators
from .compress_weights import compress_weights
from .fold_constants import fold_constants
from .fold_quantization import fold_quantization
from .fuse_ops import fuse_ops
from .pack_weights import pack_weights
from .plan_arena import plan_arena

Pass = Callable[[nx.DiGraph], nx.DiGraph]

PIPELINE: list[Pass] = [fold_constants, check_operators, alias_reshapes, fold_quantization, fuse_ops,
                        alias_concats, compress_weights, pack_weights, plan_arena]


def run_pipeline(g: nx.DiGraph, passes: list[Pass] = PIPELINE, verify: bool = False,
                 timings: dict[str, float] | None = None) -> nx.DiGraph:
    """Run ``passes`` in order; with ``verify``, check the IR invariants after each one. With
    ``timings``, each pass's CPU seconds are stored there under its name. The subgraphs that
    IF/WHILE run (``graph["subgraphs"]``) go through the same passes first, callees first, so
    that each calling op knows the arena its subgraphs need (``compile_subgraphs``)."""
    sub_packed, sub_room = compile_subgraphs(g, passes, verify)
    if verify:
        ir.check_invariants(g)
    for p in passes:
        start = time.process_time()
        g = p(g)
        if timings is not None:
            timings[p.__name__] = time.process_time() - start
        if verify:
            ir.check_invariants(g)
    if sub_packed:          # the fast kernels of the subgraphs count as the model's (driver.generate),
        #                     and a build above the flash budget takes the largest room left off each
        g.graph["flash_spent"] = g.graph.get("flash_spent", 0) + sub_packed
        g.graph["flash_room"] = max(g.graph.get("flash_room", 0), sub_room)
    return g


SUBGRAPH_OWN = ("inputs", "outputs", "dynamic_dims", "int4", "tflm_lut", "subgraphs", "subgraph_order",
                "plan", "flash_room", "flash_spent", "ram_budget", "flash_own", "flash_estimate")    # facts of each graph's own tensors


def compile_subgraphs(g: nx.DiGraph, passes: list[Pass] = PIPELINE, verify: bool = False) -> tuple[int, int]:
    """Run ``passes`` on every subgraph of ``g`` (``graph["subgraph_order"]``: callees first).
    Each takes the model's build settings (target, name, --optimize, ...), so pack_weights picks
    the fast kernels of its ops as in subgraph 0; its arena (their scratch included) is planned on
    its own and lives inside the calling op's scratch buffer.

    Flash is one budget for the whole model: what each subgraph takes (its ops' plain code, the
    estimate pack_weights makes, and the extra flash of the fast kernels it was granted) is taken
    off what the subgraphs after it and subgraph 0 may spend (``flash_overshoot``, which
    pack_weights subtracts from its allowance). Returns the count of their ops with a fast kernel
and the largest allowance a subgraph left unspent (``flash_room``)."""
    subs = g.graph.get("subgraphs", {})
    taken, packed, room = 0, 0, 0
    for k in g.graph.get("subgraph_order", ()):
        sub = subs[k]
        sub.graph.update({key: v for key, v in g.graph.items() if key not in SUBGRAPH_OWN})
        sub.graph["flash_overshoot"] = g.graph.get("flash_overshoot", 0) + taken
        try:
            subs[k] = sub = run_pipeline(sub, passes, verify)
        except TinyccError as e:
            if e.op_index is not None:        # an operator of subgraph k: say so
                e.op_kind = f"{e.op_kind or '?'} in subgraph {k}"
            raise
        taken += _flash_taken(sub)
        packed += sub.graph.get("flash_spent", 0)
        room = max(room, sub.graph.get("flash_room", 0))
    if taken:
        g.graph["flash_overshoot"] = g.graph.get("flash_overshoot", 0) + taken
    return packed, room


def _flash_taken(sub: nx.DiGraph) -> int:
    """The flash a compiled subgraph takes from the model's budget: pack_weights' estimate of its
    constants and code (``tinycc.flash_estimate``)."""
    return sub.graph.get("flash_own") or flash_estimate.estimate(sub)
