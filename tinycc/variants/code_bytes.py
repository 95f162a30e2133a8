"""Measured code size of each variant unit's C (.text + .rodata, arm-none-eabi-gcc -O2 for
cortex-m4), read by ``Variant.code_bytes``. Units not listed count ``base.DEFAULT_CODE_BYTES``."""
CODE_BYTES: dict[str, int] = {}
