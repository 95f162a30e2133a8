"""Measured code size of the variant units' C files (.text + .rodata, arm-none-eabi-gcc -O2 for
cortex-m4), keyed by ``Variant.sources`` name; read by ``base.source_code_bytes``. Files not
listed count ``base.DEFAULT_CODE_BYTES``."""
CODE_BYTES: dict[str, int] = {}
