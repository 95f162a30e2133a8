"""Which tensor types TFLite Micro (and TFLite) accept per op: writes tests/data/tflm_types.json.

Every case of ``tinycc.testing.models_types`` (one single-op model per op and type, and the
CAST / QUANTIZE / DEQUANTIZE pairs) is loaded and invoked once in the installed tflite-micro
interpreter and in TFLite's reference kernels (ai-edge-litert), each in a child process (TFLite
Micro aborts the process on some refusals). A type is TFLite Micro's when its interpreter
prepares and invokes the model. tinycc's verdict is recorded next to them (does
``driver.compile_graph`` take the model): the test (tests/test_builtins_types.py) recomputes it and
fails on any type TFLite Micro accepts that tinycc refuses, unless the file's ``gaps`` lists it
with its reason.

    python scripts/make_tflm_types.py            # rewrites tests/data/tflm_types.json (keeps "gaps")
    python scripts/make_tflm_types.py --tinycc   # tinycc's column only
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "tests" / "data" / "tflm_types.json"

from tinycc.testing import models_types as M  # noqa: E402


def _run(path: str, lite: bool) -> None:
    """Load and invoke ``path`` once (random inputs); exits 0 when the interpreter takes it."""
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 2)
    os.dup2(fd, 1)
    rng = np.random.default_rng(0)
    if lite:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        it = Interpreter(model_path=path, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        it.allocate_tensors()
        for d in it.get_input_details():
            it.set_tensor(d["index"], _sample(rng, d["shape"], d["dtype"]))
        it.invoke()
    else:
        from tflite_micro import runtime
        it = runtime.Interpreter.from_file(path, arena_size=1 << 20)
        for k, d in enumerate(it.get_input_details(i) for i in range(len(_inputs(it)))):
            it.set_input(_sample(rng, d["shape"], d["dtype"]), k)
        it.invoke()
    os._exit(0)


def _inputs(it):
    n = 0
    while True:
        try:
            it.get_input_details(n)
        except Exception:  # noqa: BLE001
            return range(n)
        n += 1


def _sample(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.kind == "f":
        return (rng.random(shape) * 4 + 0.5).astype(dtype)
    return rng.integers(1, 5, size=shape).astype(dtype)


def accepts(data: bytes, lite: bool) -> bool:
    with tempfile.NamedTemporaryFile(suffix=".tflite", delete=False) as f:
        f.write(data)
    try:
        p = mp.get_context("fork").Process(target=_run, args=(f.name, lite))
        p.start()
        p.join(60)
        if p.is_alive():
            p.kill()
            return False
        return p.exitcode == 0
    finally:
        os.unlink(f.name)


def tinycc_accepts(data: bytes) -> bool:
    from tinycc import driver
    from tinycc.errors import TinyccError
    with tempfile.NamedTemporaryFile(suffix=".tflite", delete=False) as f:
        f.write(data)
    try:
        driver.compile_graph(f.name)
        return True
    except TinyccError:
        return False
    finally:
        os.unlink(f.name)


def main() -> None:
    """``--tinycc``: recompute tinycc's column only (after a change to tinycc), keeping the rest."""
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    only_tinycc = "--tinycc" in sys.argv
    table: dict[str, dict] = {}
    cases = [(k, dt, lambda f=f, dt=dt: f(dt)) for k, f in M.CASES.items() for dt in M.DTYPES]
    cases += [(k, f"{a}->{b}", lambda k=k, a=a, b=b: M.conversion(k, a, b))
              for k, pairs in M.CONVERSIONS.items() for a, b in pairs]
    for kind, dt, build in cases:
        data = build()
        row = table.setdefault(kind, {"tflm": [], "tflite": [], "tinycc": []})
        for key, ok in (("tflm", lambda: accepts(data, False)), ("tflite", lambda: accepts(data, True)),
                        ("tinycc", lambda: tinycc_accepts(data))):
            if only_tinycc and key != "tinycc":
                if dt in old["ops"][kind][key]:
                    row[key].append(dt)
            elif ok():
                row[key].append(dt)
        print(kind, dt, *(k for k in ("tflm", "tflite", "tinycc") if dt in row[k]), flush=True)
    doc = {"about": "per op, the types of its data input (or src->dst of a conversion) that TFLite Micro, "
                    "TFLite's reference kernels and tinycc accept; written by scripts/make_tflm_types.py "
                    "from the cases of tinycc/testing/models_types.py",
           "gaps": old.get("gaps", {}), "ops": table}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    missing = {k: sorted(set(r["tflm"]) - set(r["tinycc"])) for k, r in table.items()}
    print("TFLite Micro accepts, tinycc refuses:", {k: v for k, v in missing.items() if v})
    lite_only = {k: sorted(set(r["tflite"]) - set(r["tflm"]) - set(r["tinycc"])) for k, r in table.items()}
    print("TFLite only, tinycc refuses:", {k: v for k, v in lite_only.items() if v})


if __name__ == "__main__":
    main()
