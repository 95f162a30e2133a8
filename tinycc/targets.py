"""The cores tinycc builds for and the --optimize modes (a leaf module)."""
from __future__ import annotations

TARGETS = ("generic", "cortex-m0", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55")
# cores with the DSP extension (SMLAD, SXTB16, ...): the fast kernels of runtime/kernels/arm
DSP_TARGETS = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55")
OPTIMIZE = ("memory", "speed")
#: The build every subcommand describes unless told otherwise: portable C, plain kernels.
DEFAULT_TARGET = "generic"
#: Deprecated spellings of a target (``tinycc verify --target host`` ran a generic build on the host).
TARGET_ALIASES = {"host": "generic"}
