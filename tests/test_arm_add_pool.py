"""arm_add, arm_add_lin (runtime/kernels/arm/tcc_arm_add.c) and arm_avg_pool (tcc_arm_pool.c)
against the plain kernels, byte for byte in QEMU (Cortex-M4; the linear loop's portable C also on
the host). ADD: the 4-element asm loops (the requantizing one and the linear tables' one) and the
C loop after them, sizes around the blocks of 4, no clamp, a ReLU-like lower bound, both bounds, in place, and the
shared models' kind of quantization (two inputs near one scale, the output coarser). Pool: the
loop for windows of at most 255 taps (odd and even row lengths, clipped at the borders, global
pools like kws's and ic's) and a longer window."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinycc import packing, quant
from tinycc.variants import arm_add

from .test_dsp_kernels import _check, add_case, build_and_run, c_array, needs_arm, needs_host, pool_case


def add_quant(rng):
    """Random scales and zero points as test_dsp_kernels.add_case draws them, and the packing."""
    sa, sb, sy = np.exp(rng.uniform(-6, -1, 3))
    za, zb, zy = (int(v) for v in rng.integers(-128, 128, 3))
    twice_max = 2 * max(sa, sb)
    m1, s1 = quant.quantize_multiplier(sa / twice_max)
    m2, s2 = quant.quantize_multiplier(sb / twice_max)
    mo, so = quant.quantize_multiplier(twice_max / ((1 << 20) * sy))
    return (sa, sb, sy), (za, zb, zy), packing.pack_add(-za, -zb, 20, m1, s1, m2, s2, mo, so, zy)


def lin_cases(seed: int):
    """tcc_arm_add_s8_lin on the linear tables of random quantizations (those that have them)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i, (size, act) in enumerate([(5, None), (64, (-128, 127)), (301, (-30, 100)), (1000, (-128, 127)),
                                     (17, (0, 127)), (256, None)]):
        for _ in range(20):
            scales, zps, pk = add_quant(rng)
            u = arm_add.linear_tables(pk["table"], pk["rq"])
            if u is not None:
                break
        assert u is not None
        c = add_case(rng, f"{seed}_l{i}", size=size, scales=scales, zps=zps, act=act)
        n = f"a{seed}_l{i}"
        lo, hi = (int(v) for v in c.decls.split(".act_min = ")[-1].replace(".act_max = ", "").split(",")[:2])
        c.decls += c_array(f"{n}_u", "int32_t", u) + (
            f"static const tcc_arm_add_s8_params {n}_lp = {{.size = {size}, .act_min = {lo}, .act_max = {hi}, "
            f".table = {n}_u}};\n")
        c.fast_call = f"(void){n}_fp; " + c.fast_call.replace("tcc_arm_add_s8(&" + n + "_fp",
                                                              "tcc_arm_add_s8_lin(&" + n + "_lp")
        c.inplace_call = c.inplace_call.replace("tcc_arm_add_s8(&" + n + "_fp", "tcc_arm_add_s8_lin(&" + n + "_lp")
        c.desc += " linear"
        cases.append(c)
    return cases


def test_linear_tables_exact_or_none():
    """linear_tables reproduces the requantizing kernel on every pair of input bytes (checked
    here again, independently of its own check), for most quantizations; None for the others."""
    rng = np.random.default_rng(8)
    found = 0
    for _ in range(40):
        _, _, pk = add_quant(rng)
        u = arm_add.linear_tables(pk["table"], pk["rq"])
        if u is None:
            continue
        found += 1
        t = pk["table"].astype(np.int64)
        want = packing.requant_fast(t[:256, None] + t[None, 256:], pk["rq"].astype(np.int64))
        u = u.astype(np.int64)
        assert np.array_equal(np.clip((u[:256, None] + u[None, 256:]) >> arm_add.LIN_SHIFT, -128, 127), want)
        assert u.min() >= -2**30 and u.max() < 2**30          # the sums fit int32
    assert found >= 30
    header = (Path(__file__).resolve().parent.parent / "runtime" / "kernels" / "arm" / "tcc_arm.h").read_text()
    assert f"#define TCC_ARM_ADD_LIN_SHIFT {arm_add.LIN_SHIFT}\n" in header


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
    cases = add_cases(31) + lin_cases(32)
    assert len(cases) >= 18
    rc, log = build_and_run(cases, tmp_path, "qemu")
    _check(rc, log, cases)


@needs_host
def test_arm_add_lin_host_sanitized(tmp_path):
    """The portable C loop of tcc_arm_add_s8_lin (no DSP) under ASan/UBSan."""
    cases = lin_cases(33)
    rc, log = build_and_run(cases, tmp_path, "host")
    _check(rc, log, cases)
