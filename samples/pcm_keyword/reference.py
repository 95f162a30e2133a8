"""TFLite Micro's answer for the PCM-to-keyword sample: run front_end.tflite on each of the 10
frames of pcm_input.bin, then keyword_int8.tflite on the features; print the lines main.c prints
(features sum, scores, class), so ``make run`` and ``make reference`` can be compared."""
from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FRAME, STRIDE, FRAMES = 480, 320, 10


def reference(folder: Path = HERE) -> tuple[int, list[int], int]:
    """(features sum, int8 scores, class) by TFLite Micro."""
    from tflite_micro import runtime
    fe = runtime.Interpreter.from_file(str(folder / "front_end.tflite"))
    kw = runtime.Interpreter.from_file(str(folder / "keyword_int8.tflite"))
    pcm = np.fromfile(folder / "pcm_input.bin", "<i2")
    features = []
    for f in range(FRAMES):
        fe.set_input(pcm[f * STRIDE:f * STRIDE + FRAME], 0)
        fe.invoke()
        features.append(np.array(fe.get_output(0)))
    x = np.stack(features).astype(np.int16).reshape(1, -1)
    kw.set_input(x, 0)
    kw.invoke()
    scores = np.array(kw.get_output(0)).reshape(-1)
    return int(x.astype(np.int64).sum()), [int(s) for s in scores], int(scores.argmax())


if __name__ == "__main__":
    total, scores, best = reference()
    print(f"pcm: features sum {total}")
    print("pcm: scores " + " ".join(map(str, scores)))
    print(f"pcm: class {best}")
