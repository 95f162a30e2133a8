"""The shared models' default cortex-m4 builds with arm_conv8 allowed on every CONV_2D it applies
to (the flash estimate of pack_weights refuses it on kws and vww today: see the report of the
conv8 branch), everything else as pack_weights chooses within its budget: flash (measured,
arm-none-eabi-gcc -O2), arena + stack, and tinycc bench's estimated cycles per op.

    python bench/bench_conv8_models.py kws_ref_model [vww_96_int8 ...] [--only-conv8]
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import tinycc.passes.pack_weights  # noqa: E402,F401
from tinycc import bench, driver, variants  # noqa: E402

pw = sys.modules["tinycc.passes.pack_weights"]
_extra = pw._extra_flash
# arm_conv8 writes the plain kernel's bytes (weights, and 3 words per channel: bias, mult, add
# for the plain kernel's bias, mult, shift)
pw._extra_flash = lambda g, o, pk: 0 if pk.impl == "arm_conv8" else _extra(g, o, pk)
if "--only-conv8" in sys.argv:
    _cands = variants.candidates
    variants.candidates = lambda g, o: [pk for pk in _cands(g, o) if pk.impl == "arm_conv8"]
    pw.ops.lookup("CONV_2D").__class__.pack_variants = lambda self, g, o: []

models = os.environ.get("TINYCC_MODELS", "/work/shared/models")
for name in [a for a in sys.argv[1:] if not a.startswith("--")]:
    path = f"{models}/{name}.tflite"
    with tempfile.TemporaryDirectory() as tmp:
        b = driver.build(path, tmp + "/out", "model", "cortex-m4", stack=True)
        print(b.summary())
    r = bench.bench(path, target="cortex-m4")
    print(bench.format_text(r), flush=True)
