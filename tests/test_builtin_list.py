"""tinycc's registered op kinds against the builtins TFLite Micro's op resolver registers.

The list is read from the installed tflite-micro package: its Python runtime (``_runtime.so``)
exports one ``tflite::micro::Register_<OP>()`` function per kernel the resolver can add. Their
names that are TFLite builtin operators (the schema's ``BuiltinOperator``), plus the custom ops
TFLite Micro registers by name, are TFLite Micro's builtins. The ones tinycc lacks must all be in
``NOT_YET`` below: the test fails when TFLite Micro adds an op (new gap) and when an op of
``NOT_YET`` gets registered without the list being updated (remove it from the list then).
"""
from __future__ import annotations

import re
from pathlib import Path

import tflite

from tinycc import ops

# Custom ops TFLite Micro registers under a Register_ name (not BuiltinOperator members).
TFLM_CUSTOM = {"DETECTION_POSTPROCESS", "CIRCULAR_BUFFER"}
# Register_ functions that are not ops of a model: Ethos-U's delegate op, a signal-library
# classifier, the compressed-tensor DECODE and a second L2_NORMALIZATION kernel.
NOT_OPS = {"BASIC_CLASSIFIER", "DECODE", "ETHOSU", "L2NORM_REF"}

# TFLite Micro builtins tinycc does not compile yet (issue 16; the helper working on each shrinks
# this list when the op is registered).
NOT_YET: set[str] = set()


def tflm_registered() -> set[str]:
    """The ops TFLite Micro's resolver can register, from the installed package's runtime."""
    import tflite_micro
    so = Path(tflite_micro.__file__).parent / "python" / "tflite_micro" / "_runtime.so"
    # mangled tflite::micro::Register_<NAME>(): _ZN6tflite5micro<len>Register_<NAME>Ev
    found = {m.decode() for m in re.findall(rb"_ZN6tflite5micro\d+Register_([A-Z0-9_]+)Ev", so.read_bytes())}
    builtins = {k for k in vars(tflite.BuiltinOperator) if not k.startswith("_")}
    unknown = found - builtins - TFLM_CUSTOM - NOT_OPS
    assert not unknown, f"Register_ functions that are neither builtins nor known customs: {sorted(unknown)}"
    return found & (builtins | TFLM_CUSTOM)


def test_registered_builtins_cover_tflite_micro():
    tflm = tflm_registered()
    assert len(tflm) > 90 and {"CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= tflm   # the read worked
    missing = tflm - set(ops.supported())
    print("TFLite Micro builtins tinycc lacks:", ", ".join(sorted(missing)) or "none")
    assert missing <= NOT_YET, f"new TFLite Micro builtins to implement: {sorted(missing - NOT_YET)}"
    done = NOT_YET - missing
    assert not done, f"registered now, remove from NOT_YET: {sorted(done)}"
