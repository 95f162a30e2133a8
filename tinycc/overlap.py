"""The overlap rule: where an op's output may lie relative to an input that dies at that op.

One implementation, used by the ops (deriving their rule from the kernel's access pattern), the
Cortex-M packing, the planner (forbidden offsets) and ``pack_weights`` (the bytes an op's input
and output occupy together). A leaf module: numpy only.

With d = offset(output) - offset(input) in bytes, a rule is (kind, s):
  ("at_most", s)   any d <= s is safe (writes trail the reads; s is often negative);
  ("exactly", s)   only d == s is safe (e.g. 0: computed in place);
  ("multiple", m)  any d that is a multiple of m is safe.
"""
from __future__ import annotations

import numpy as np

NO_READ = np.iinfo(np.int64).max        # reads_min entry: the kernel reads no input before this write


def shift_from_reads(reads_min, in_bytes: int, in_elem_bytes: int = 1, out_elem_bytes: int = 1) -> int | None:
    """The largest d at which the output may overlap the input, from the kernel's access pattern.

    ``reads_min[k]`` is the lowest input element the kernel reads after writing output element
    k - 1 and before writing element k (NO_READ: none). The kernel writes output element k
    (bytes [k*eo, (k+1)*eo) of the output) only after every read it makes for k, so the write is
    safe when it ends below the lowest input byte still to be read, min(reads_min[k+1:]) * ei:
    d + (k+1)*eo <= minfut(k)*ei for every k, and d is bounded by the smallest right-hand side.
    Any d at or below the bound is safe (writes only move further below the pending reads).
    None when ``reads_min`` is None (the kernel allows no sharing).
    """
    if reads_min is None:
        return None
    r = np.asarray(reads_min, dtype=np.int64).ravel()
    if r.size <= 1:
        return in_bytes                  # the only write comes after every read
    minfut = np.minimum.accumulate(r[::-1])[::-1][1:]          # min(r[k+1:]) for k < n-1
    k = np.arange(r.size - 1, dtype=np.int64)
    bound = np.where(minfut == NO_READ, np.iinfo(np.int64).max, minfut * in_elem_bytes - (k + 1) * out_elem_bytes)
    return int(min(bound.min(), in_bytes))


def allows(kind: str, shift: int, d: int) -> bool:
    """Whether the rule lets the output start d bytes after the input."""
    if kind == "at_most":
        return d <= shift
    if kind == "exactly":
        return d == shift
    return d % shift == 0               # "multiple"


def forbidden(kind: str, shift: int, t_is_output: bool, size_t: int, size_u: int) -> list[tuple[int, int, int, int]]:
    """Offsets of buffer t, relative to buffer u at offset 0, that the rule between them forbids,
    as regions (lo, hi, modulus, residue): offsets strictly between lo and hi clash, except (when
    modulus > 0) those congruent to residue modulo modulus. ``t_is_output``: t is the op's output
    and u its input (else the other way round)."""
    lo, hi = -size_t, size_u            # any overlap at all
    sign = 1 if t_is_output else -1     # d = offset(out) - offset(in)
    if kind == "exactly":
        return [(lo, sign * shift, 0, 0), (sign * shift, hi, 0, 0)]
    if kind == "multiple":
        return [(lo, hi, shift, 0)]
    if t_is_output:                     # allowed: off_t <= shift
        return [(max(lo, shift), hi, 0, 0)]
    return [(lo, min(hi, -shift), 0, 0)]  # allowed: off_t >= -shift


def shared_bytes(kind: str, shift: int, in_bytes: int, out_bytes: int) -> int:
    """The most bytes the input and output can share under the rule: their sizes summed, less
    the smallest span they can occupy together (input at 0, output at an allowed d)."""
    if kind == "at_most":
        span = min(in_bytes + out_bytes, max(in_bytes - min(shift, 0), out_bytes))
    elif kind == "exactly":
        span = max(in_bytes, shift + out_bytes) - min(shift, 0)
    else:                               # "multiple": d = 0 is allowed
        span = max(in_bytes, out_bytes)
    return in_bytes + out_bytes - span
