"""Write pruned (sparse) test models and their dense twins.

    python scripts/make_pruned.py OUT_DIR [--seed S]

TensorFlow (and so TF Model Optimization's ``prune_low_magnitude``) is not installed here, so the
models are pruned the way it leaves them: magnitude pruning of the float weights before
quantization, written with tinycc's flatbuffer writer (tinycc/testing/models_sparse.py).
For each architecture (``ds_cnn``: a DS-CNN-like keyword spotter, 64 channels; ``mobilenet``: a
small MobileNet-like classifier) it writes NAME_dense.tflite (nothing pruned), NAME_p50.tflite
and NAME_p75.tflite (50 % / 75 % of every weight tensor's values zero) and NAME_2to4.tflite (2 of
every 4 consecutive weights along the input depth zero), all from the same random draws.
Compare them with ``tinycc bench MODEL --target cortex-m4`` and ``tinycc verify``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinycc.testing import models_sparse  # noqa: E402

PRUNINGS = {"dense": {}, "p50": {"sparsity": 0.5}, "p75": {"sparsity": 0.75}, "2to4": {"pattern": "2:4"}}
MODELS = {"ds_cnn": models_sparse.ds_cnn, "mobilenet": models_sparse.mobilenet}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, make in MODELS.items():
        for tag, pruning in PRUNINGS.items():
            path = args.out / f"{name}_{tag}.tflite"
            path.write_bytes(make(np.random.default_rng(args.seed), **pruning))
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
