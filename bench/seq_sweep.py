"""tinycc against CMSIS-NN over the sizes real sequence and 16x8 models use (issue 15).

    python bench/seq_sweep.py CMSIS_NN_DIR [NAME ...] [--json OUT.json] [--resume]

``cmsis_nn_reference.py`` compares one representative size per layer type; this runs its
comparison (the CMSIS-NN kernels TFLite Micro calls, in QEMU, as a lower bound of TFLM+CMSIS-NN;
the same layer as a single-op model through ``tinycc bench --target cortex-m4``) over ``GRID``:
LSTM int8 and 16x8 from 1 to 49 steps, 8 to 64 inputs and 4 to 128 cells, SVDF int8 of rank 1
and 2, and 16x8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED with small and large reductions and
odd channel counts. An int8 LSTM is also built without the widened-weight unit (``lstm8_*/s8``:
``arm_lstm_s8``, what tinycc picks when the flash budget has no room for widened weights), and
the larger LSTMs, whose default budget has no room for widened weights, with 1 MB of flash
(``*/w``).

Prints one row per layer: CMSIS-NN's and tinycc's estimated cycles, their ratio (target <= 0.5),
tinycc's kernel, its RAM (arena + state + stack) and TFLite Micro's arena. ``--json`` keeps the
figures; with ``--resume`` the rows already in that file are not measured again.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cmsis_nn_reference import Layer, reference_cycles, tinycc_figures  # noqa: E402


def _lstm(dtype: str, t: int, i: int, c: int) -> Layer:
    return Layer("lstm", dtype, dict(time=t, batches=1, n_input=i, n_cell=c))


def _svdf(i: int, units: int, rank: int, mem: int) -> Layer:
    return Layer("svdf", "int8", dict(batches=1, input_size=i, filters=units * rank, rank=rank, memory=mem))


LSTM_SIZES = [(25, 32, 32), (1, 32, 32), (8, 8, 8), (49, 10, 16), (10, 40, 64), (25, 64, 128), (16, 13, 20)]
SVDF_SIZES = [(40, 64, 1, 10), (10, 16, 1, 4), (10, 32, 2, 8), (40, 128, 1, 32), (64, 64, 2, 16),
              (64, 128, 2, 32), (20, 16, 1, 32)]

GRID: dict[str, Layer] = {
    **{f"lstm8_{t}x{i}x{c}": _lstm("int8", t, i, c) for t, i, c in LSTM_SIZES},
    **{f"lstm8_{t}x{i}x{c}/s8": _lstm("int8", t, i, c) for t, i, c in LSTM_SIZES},
    **{f"lstm8_{t}x{i}x{c}/w": _lstm("int8", t, i, c) for t, i, c in LSTM_SIZES[-3:-1]},
    **{f"lstm16_{t}x{i}x{c}/w": _lstm("int16", t, i, c) for t, i, c in LSTM_SIZES[-3:-1]},
    **{f"lstm16_{t}x{i}x{c}": _lstm("int16", t, i, c) for t, i, c in LSTM_SIZES},
    **{f"svdf_{i}x{u}r{r}m{m}": _svdf(i, u, r, m) for i, u, r, m in SVDF_SIZES},
    # 16x8 CONV_2D: 1x1 (small K), 3x3 on odd channels, 3x3 32 -> 32 (K 288)
    "conv16_1x1_16to16_25x5": Layer("conv", "int16", dict(h=25, w=5, cin=16, cout=16, k=1)),
    "conv16_3x3_3to5_16x16": Layer("conv", "int16", dict(h=16, w=16, cin=3, cout=5, k=3)),
    "conv16_3x3_32to32_10x5": Layer("conv", "int16", dict(h=10, w=5, cin=32, cout=32, k=3)),
    # DEPTHWISE_CONV_2D 3x3: odd channels, few channels on a long map, many channels on a small one
    "dw16_3x3_5ch_16x16": Layer("dw", "int16", dict(h=16, w=16, cin=5, cout=5, k=3)),
    "dw16_3x3_8ch_49x10": Layer("dw", "int16", dict(h=49, w=10, cin=8, cout=8, k=3)),
    "dw16_3x3_64ch_6x6": Layer("dw", "int16", dict(h=6, w=6, cin=64, cout=64, k=3)),
    # FULLY_CONNECTED: small, odd, large
    "fc16_10to16": Layer("fc", "int16", dict(batches=1, n_in=10, n_out=16)),
    "fc16_33to17": Layer("fc", "int16", dict(batches=1, n_in=33, n_out=17)),
    "fc16_640to128": Layer("fc", "int16", dict(batches=1, n_in=640, n_out=128)),
}

# Units left out of the build for a row name's suffix (tinycc picks among the rest, as it does
# when the flash budget has no room for them); the flash budget for a suffix (default: the
# build's, 1.10 x the model's constants + 16 KB): "/w" has room for the widened weights.
WITHOUT = {"/s8": ("arm_lstm_w_s8",)}
FLASH_BUDGET = {"/w": 1 << 20}


@contextlib.contextmanager
def without_units(names):
    """The variant units ``names`` unregistered for the duration."""
    from tinycc import variants
    variants.units()
    saved = {n: variants._REGISTRY.pop(n) for n in names}
    try:
        yield
    finally:
        variants._REGISTRY.update(saved)


def measure(name: str, layer: Layer, cmsis: Path, work: Path, refs: dict) -> dict:
    key = json.dumps([layer.kind, layer.dtype, layer.dims], sort_keys=True)
    if key not in refs:
        refs[key] = reference_cycles(layer, cmsis, work / "ref")
    drop = next((v for s, v in WITHOUT.items() if name.endswith(s)), ())
    budget = next((v for s, v in FLASH_BUDGET.items() if name.endswith(s)), None)
    with without_units(drop):
        t = tinycc_figures(layer, work / "tinycc", budget)
    return {"layer": name, "kind": layer.kind, "dtype": layer.dtype, "dims": layer.dims,
            "cmsis_nn": refs[key], "tinycc": t}


def row_text(r: dict) -> str:
    t, ref = r["tinycc"], r["cmsis_nn"]["cycles"]
    ratio = t["cycles"] / ref
    flag = " <-- over 0.5" if ratio > 0.5 else ("" if t["ram"] <= t["tflm_arena"] else " <-- RAM")
    return (f"{r['layer']:26s} {ref:11,d} {t['cycles']:11,d} {ratio:6.3f} {t['kernel']:>16s} "
            f"{t['ram']:8,d} {t['tflm_arena']:8,d}{flag}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cmsis_nn_dir", help="a CMSIS-NN tree (headers and .c files); not shipped with tinycc")
    ap.add_argument("names", nargs="*", help="rows to run (default all); a prefix selects every row it starts")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--resume", action="store_true", help="keep the rows already in --json")
    args = ap.parse_args(argv)
    cmsis = Path(args.cmsis_nn_dir)
    if not cmsis.is_dir() or not any(cmsis.rglob("arm_nnfunctions.h")):
        print(f"seq_sweep: {cmsis} is not a CMSIS-NN tree (no arm_nnfunctions.h under it)", file=sys.stderr)
        return 2
    names = [n for n in GRID if not args.names or any(n.startswith(p) for p in args.names)]
    if not names:
        print(f"seq_sweep: no row matches {' '.join(args.names)}; rows: {', '.join(GRID)}", file=sys.stderr)
        return 2
    out = Path(args.json) if args.json else None
    rows = json.loads(out.read_text()) if out and args.resume and out.exists() else {}
    refs = {json.dumps([r["kind"], r["dtype"], r["dims"]], sort_keys=True): r["cmsis_nn"] for r in rows.values()}
    print(f"{'layer':26s} {'CMSIS-NN':>11s} {'tinycc':>11s} {'ratio':>6s} {'tinycc kernel':>16s} "
          f"{'RAM':>8s} {'TFLM':>8s}", flush=True)
    with tempfile.TemporaryDirectory(prefix="tinycc-seqsweep-") as tmp:
        for k, name in enumerate(names):
            if name not in rows:
                rows[name] = measure(name, GRID[name], cmsis, Path(tmp) / str(k), refs)
                if out:
                    out.write_text(json.dumps(rows, indent=1) + "\n")
            print(row_text(rows[name]), flush=True)
    over = [n for n in names if rows[n]["tinycc"]["cycles"] > 0.5 * rows[n]["cmsis_nn"]["cycles"]]
    print(f"{len(names) - len(over)} of {len(names)} rows at most 0.5x CMSIS-NN" +
          (f"; over: {', '.join(over)}" if over else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
