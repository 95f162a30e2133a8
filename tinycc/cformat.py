"""C literals of numbers, as the generated code writes them (a leaf: ops and codegen both use it)."""
from __future__ import annotations

import functools
import math

import numpy as np


INT32_MIN = "INT32_MIN"


def format_scalar(v) -> str:
    """An int, bool, float, None (NULL) or C expression (a str, as is) as a C initializer."""
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        v = int(v)
        return INT32_MIN if v == -(2**31) else str(v)
    return format_float(float(v))


def format_float(x: float) -> str:
    """A float32 C literal that round-trips exactly; infinities become +-FLT_MAX (TFLite's clamp)."""
    if math.isinf(x):
        return "FLT_MAX" if x > 0 else "-FLT_MAX"
    if math.isnan(x):
        return "NAN"
    s = np.format_float_scientific(np.float32(x), unique=True, trim="-") if x != 0 else "0.0"
    return s + "f"


def format_values(arr: np.ndarray, ctype: str, per_line: int = 16) -> str:
    """The body of an array initializer of ``ctype``: ``per_line`` values a line (8 for floats).
    Memoized by content: a build renders its files twice when it measures the stack, and
    formatting a large float model's weights is most of codegen."""
    a = np.ascontiguousarray(arr)
    return _format_values(a.tobytes(), a.dtype.str, a.shape, ctype, per_line)


try:        # numpy's Dragon4 itself: np.format_float_scientific checks its arguments on every call
    from numpy._core._multiarray_umath import dragon4_scientific as _dragon4
except ImportError:     # numpy < 2
    try:
        from numpy.core.multiarray import dragon4_scientific as _dragon4
    except ImportError:
        _dragon4 = None


def _format_floats(arr: np.ndarray) -> list[str]:
    """format_float of every element of a float32 array (the same strings, faster)."""
    if _dragon4 is None or not np.isfinite(arr).all():
        return [format_float(v) for v in arr.tolist()]
    return ["0.0f" if v == 0 else _dragon4(v, unique=True, trim="-") + "f" for v in arr.reshape(-1)]


@functools.lru_cache(maxsize=64)
def _format_values(data: bytes, dtype: str, shape: tuple, ctype: str, per_line: int) -> str:
    arr = np.frombuffer(data, dtype=dtype).reshape(shape)
    if ctype == "float":
        items = _format_floats(arr.astype(np.float32))
        per_line = 8
    elif ctype == "int32_t" and arr.dtype.kind in "iu":     # format_scalar's ints, without its type tests
        items = [INT32_MIN if v == "-2147483648" else v for v in map(str, arr.ravel().tolist())]
    else:
        items = [format_scalar(v) for v in arr.tolist()] if ctype == "int32_t" else list(map(str, arr.tolist()))
    if not items:
        items = ["0"]
    lines = (", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line))
    return ",\n".join("    " + line for line in lines)
