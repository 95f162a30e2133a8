"""arm_conv_pw8_pairs (tcc_arm_conv_s8_pw8_pairs in runtime/kernels/arm/tcc_arm_conv.c): the 1x1
records' asm loop alone, for 8 input channels and an even pixel count, against the plain kernel
byte for byte in QEMU (Cortex-M4) and on the host (the portable C loop), in place too."""
from __future__ import annotations

import math

import numpy as np

from .test_dsp_kernels import (_check, build_and_run, conv_case, fold_bias, needs_arm, needs_host, rand_requant,
                               rand_weights)


def pw8_pairs_cases(seed: int):
    rng = np.random.default_rng(seed)
    cases = []
    for i, (batches, in_h, in_w, out_c) in enumerate([(1, 3, 4, 16), (2, 5, 2, 4), (1, 1, 2, 8), (1, 6, 6, 12)]):
        w = rand_weights(rng, (out_c, 1, 1, 8))
        in_zp, out_zp = (int(v) for v in rng.integers(-128, 128, 2))
        acc_std = math.sqrt(8) * 60 * np.abs(w).mean() + 1
        bias = fold_bias(rng, w.reshape(out_c, -1), in_zp, acc_std)
        mult, shift = rand_requant(rng, out_c, acc_std, special=False)
        shift = np.minimum(shift, -1)                     # the records need a right shift everywhere
        data = dict(w=w, bias=bias, mult=mult, shift=shift, in_zp=in_zp, out_zp=out_zp, act=(-128, 127))
        c = conv_case(rng, f"p{seed}_{i}", batches=batches, in_h=in_h, in_w=in_w, in_c=8, out_c=out_c, k_h=1,
                      k_w=1, data=data)
        assert c is not None and "tcc_arm_conv_s8_pw8(" in c.fast_call, c and c.fast_call
        c.fast_call = c.fast_call.replace("tcc_arm_conv_s8_pw8(", "tcc_arm_conv_s8_pw8_pairs(").replace(
            ", scratch);", ");")
        c.inplace_call = c.inplace_call.replace("tcc_arm_conv_s8_pw8(", "tcc_arm_conv_s8_pw8_pairs(").replace(
            ", scratch);", ");")
        c.scratch_bytes = 0
        cases.append(c)
    return cases


@needs_arm
def test_pw8_pairs_qemu(tmp_path):
    cases = pw8_pairs_cases(41)
    rc, log = build_and_run(cases, tmp_path, "qemu")
    _check(rc, log, cases)


@needs_host
def test_pw8_pairs_host_sanitized(tmp_path):
    cases = pw8_pairs_cases(42)
    rc, log = build_and_run(cases, tmp_path, "host")
    _check(rc, log, cases)
