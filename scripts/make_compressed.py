"""Write compressed test models (tinycc/testing/models_compress.py) and, with --bench, compare each
one's estimated Cortex-M4 cycles (tinycc bench, QEMU, default cortex-m4 build) with its int8
twin's: the same model built with --compress off (for INT4 models: the same values written as
INT8), and the conv/FC weight bytes stored against their int8 bytes.

    python scripts/make_compressed.py OUT [--bench] [--only NAME ...]

Models: DS-CNN-like, MobileNet-like 32x32 and 48x48 (to 256 channels), and a visual-wake-words-like
MobileNet v1 0.25 on 96x96x3 (``vww``) clustered from evenly spaced centres (``linear=True``, TF Model
Optimization's LINEAR initialization: per-channel quantization then gives the channels several
tables); 16 and 4 clusters, INT4. Benching the 96x96 ones takes a few minutes.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from tinycc import bench, driver
from tinycc.testing import models_compress as MC


def _models() -> dict[str, tuple]:
    """name -> (maker, keyword arguments); each made with default_rng(3)."""
    large = dict(size=48, blocks=MC.LARGE_BLOCKS)
    return {
        "ds_cnn_c16": (MC.ds_cnn, dict(clusters=16)),
        "ds_cnn_c4": (MC.ds_cnn, dict(clusters=4)),
        "ds_cnn_int4": (MC.ds_cnn, dict(int4=True)),
        "mobilenet32_c16": (MC.mobilenet, dict(clusters=16)),
        "mobilenet32_c4": (MC.mobilenet, dict(clusters=4)),
        "mobilenet48_c16": (MC.mobilenet, dict(large, clusters=16)),
        "mobilenet48_c4": (MC.mobilenet, dict(large, clusters=4)),
        "mobilenet48_int4": (MC.mobilenet, dict(large, int4=True)),
        "vww_c16": (MC.vww, dict(clusters=16, linear=True)),
        "vww_c4": (MC.vww, dict(clusters=4, linear=True)),
        "vww_int4": (MC.vww, dict(int4=True)),
    }


def write(out: Path, names: list[str]) -> dict[str, tuple[Path, Path]]:
    """Each model and its int8 twin's file (the model itself for clustered ones)."""
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in names:
        make, kw = _models()[name]
        path = out / f"{name}.tflite"
        path.write_bytes(make(np.random.default_rng(3), **kw))
        twin = path
        if kw.get("int4"):
            twin = out / f"{name}_twin.tflite"
            twin.write_bytes(make(np.random.default_rng(3), **kw, weight_dtype="int8"))
        files[name] = (path, twin)
    return files


def _weights(path: Path) -> tuple[int, int]:
    """(stored, int8) bytes of the conv/FC weights, from the report."""
    rep = driver.report(str(path), measure=False, target="cortex-m4")
    rows = [r for r in rep.ops if r.kind in ("CONV_2D", "FULLY_CONNECTED")]
    return sum(r.stored_weight_bytes for r in rows), sum(r.int8_weight_bytes for r in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--only", nargs="*", default=None, help="model names (default: all)")
    a = ap.parse_args()
    files = write(a.out, a.only or list(_models()))
    if not a.bench:
        print("\n".join(str(p) for p, _ in files.values()))
        return
    print(f"{'model':18s} {'int8 twin':>12s} {'compressed':>12s} {'ratio':>6s} {'weights':>8s}")
    for name, (path, twin) in files.items():
        ours = bench.bench(str(path), "cortex-m4")
        base = bench.bench(str(twin), "cortex-m4", compress="off")
        stored, int8 = _weights(path)
        print(f"{name:18s} {base.cycles:>12,} {ours.cycles:>12,} {ours.cycles / base.cycles:>6.2f} "
              f"{stored / int8:>7.0%}", flush=True)


if __name__ == "__main__":
    main()
