"""arm_add (runtime/kernels/arm/tcc_arm_add.c) and arm_avg_pool (tcc_arm_pool.c) against the plain
kernels, byte for byte in QEMU (Cortex-M4). ADD: the 4-element asm loop and the C loop after it,
sizes around the blocks of 4, no clamp, a ReLU-like lower bound, both bounds, in place, and the
shared models' kind of quantization (two inputs near one scale, the output coarser). Pool: the
loop for windows of at most 255 taps (odd and even row lengths, clipped at the borders, global
pools like kws's and ic's) and a longer window."""
from __future__ import annotations

import numpy as np

from .test_dsp_kernels import _check, add_case, build_and_run, needs_arm, pool_case


def add_cases(seed: int):
    rng = np.random.default_rng(seed)
    cases = []
    for i, (size, act) in enumerate([(1, None), (3, (-128, 127)), (4, (-128, 127)), (7, (-5, 127)),
                                     (64, (-128, 127)), (257, (-20, 127)), (400, (-60, 90)), (1024, None)]):
        zy = int(rng.integers(-30, 30))
        c = add_case(rng, f"{seed}_{i}", size=size, act=act if act is None or act[0] != -20 else (zy, 127))
        if c is not None:
            cases.append(c)
    # ic_resnet8-like: inputs at close scales, the output at a larger one, a ReLU at the output zero point
    c = add_case(rng, f"{seed}_ic", size=999, scales=(0.081, 0.063, 0.11), zps=(-12, 7, -128), act=(-128, 127))
    cases.append(c)
    for i, (h, w, ch, f_h, f_w, s, pad) in enumerate([(25, 5, 64, 25, 5, 25, 0), (8, 8, 13, 8, 8, 8, 0),
                                                       (7, 9, 6, 3, 3, 2, 1), (5, 6, 9, 2, 3, 1, 1),
                                                       (17, 17, 5, 17, 17, 17, 0)]):
        cases.append(pool_case(rng, f"{seed}_p{i}", in_h=h, in_w=w, channels=ch, f_h=f_h, f_w=f_w, stride_h=s,
                               stride_w=s, pad_top=pad, pad_left=pad))
    return [c for c in cases if c is not None]


@needs_arm
def test_arm_add_pool_qemu(tmp_path):
    cases = add_cases(31)
    assert len(cases) >= 12
    rc, log = build_and_run(cases, tmp_path, "qemu")
    _check(rc, log, cases)
