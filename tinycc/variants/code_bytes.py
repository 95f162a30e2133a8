"""Measured code size of the kernel variant units (written by scripts/measure_code_bytes.py:
.text + .rodata + .data, arm-none-eabi-gcc -O2 for cortex-m4). CODE_BYTES: per unit, its C file
with the other units' entry points left out; FILE_BYTES: per C file with all of them. Read by
``base.Variant.code_bytes`` and ``base.code_bytes_of``; a unit not listed counts
``base.DEFAULT_CODE_BYTES``."""

CODE_BYTES: dict[str, int] = {
    "arm_add": 1584,
    "arm_add_lin": 744,
    "arm_avg_pool": 1108,
    "arm_conv8": 4796,
    "arm_conv8w": 4668,
    "arm_conv_blocks": 4928,
    "arm_conv_pw": 5444,
    "arm_conv_pw8_pairs": 448,
    "arm_conv_s16": 2044,
    "arm_conv_store": 3708,
    "arm_dw": 1156,
    "arm_dw3x3": 6852,
    "arm_dw8": 4960,
    "arm_dw_s16": 1404,
    "arm_fc": 2940,
    "arm_fc8": 3852,
    "arm_fc_int8": 3776,
    "arm_fc_s16": 1128,
    "arm_lstm_s16": 2420,
    "arm_lstm_s8": 2048,
    "arm_lstm_w_s16": 3092,
    "arm_lstm_w_s8": 2032,
    "arm_palette": 10152,
    "arm_sparse": 1628,
    "arm_svdf_s8_s16": 1516,
    "sparse_conv": 564,
    "sparse_fc": 308,
}
FILE_BYTES: dict[str, int] = {
    "arm/tcc_arm_add": 2328,
    "arm/tcc_arm_conv": 9372,
    "arm/tcc_arm_conv8": 6478,
    "arm/tcc_arm_depthwise": 1156,
    "arm/tcc_arm_dw3x3": 6852,
    "arm/tcc_arm_dw8": 4960,
    "arm/tcc_arm_fc": 6716,
    "arm/tcc_arm_fc8": 3852,
    "arm/tcc_arm_lstm": 6152,
    "arm/tcc_arm_palette": 10152,
    "arm/tcc_arm_pool": 1108,
    "arm/tcc_arm_s16": 4040,
    "arm/tcc_arm_sparse": 1628,
    "arm/tcc_arm_svdf": 1516,
    "tcc_sparse": 872,
}
