"""The int8-weight Cortex-M4 kernels of issue 14 (tcc_arm_fc8.c, tcc_arm_dw8*.c) against the plain
kernels, byte for byte: random layers (odd sizes, every right shift, per-channel and per-tensor
requantization, constant rows, clamps, in place and at the largest overlap their access order
allows) in one program, in QEMU (Cortex-M4, the asm) and on the host (the portable C, under
ASan/UBSan). Uses the case machinery of test_dsp_kernels."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.test_dsp_kernels import (ARM_KERNELS, KERNELS, Case, _check, _plain_call, _struct, c_array, fold_bias,
                                    needs_arm, needs_host, program, rand_act, rand_requant, rand_weights)
from tinycc import packing as pack
from tinycc import toolchain
from tinycc.variants import arm_fc8


# only the kernels under test (test_dsp_kernels builds every kernel file; the sanitizer build is slow)
SOURCES = [KERNELS / "tcc_fully_connected.c", KERNELS / "tcc_depthwise.c", ARM_KERNELS / "tcc_arm_fc8.c"]


def build_and_run(cases: list[Case], work, mode: str) -> tuple[int, str]:
    src = work / "w8_test.c"
    src.write_text(program(cases))
    incs = [KERNELS, ARM_KERNELS]
    if mode == "qemu":
        elf = toolchain.build_arm([src, *SOURCES], incs, work / "w8_test.elf", target="cortex-m4")
        return toolchain.run_qemu(elf, work, timeout=120)
    exe = toolchain.build_host([src, *SOURCES, toolchain.HOST_BOARD_SOURCE], incs, work / "w8_test",
                               cflags=["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-O1"])
    return toolchain.run_host(exe, work, timeout=120)


def fc8_case(rng, tag: str, *, batches=1, in_depth, out_depth, clamp=None):
    in_zp = int(rng.integers(-128, 128))
    out_zp = int(rng.integers(-128, 128))
    w = rand_weights(rng, (out_depth, in_depth))
    if rng.random() < 0.3:
        w[rng.random(out_depth) < 0.2] = 0                  # constant rows
    acc_std = math.sqrt(in_depth) * 60 * np.abs(w).mean() + 1
    bias = fold_bias(rng, w, in_zp, acc_std)
    mult, shift = rand_requant(rng, out_depth, acc_std, special=False)
    if rng.random() < 0.5:
        mult[:], shift[:] = mult[0], shift[0]
    shift = np.minimum(shift, -1)                            # the kernel needs right shifts
    if rng.random() < 0.2:
        shift[:] = rng.integers(-22, -15)                    # huge right shifts
    lo, hi = rand_act(rng, out_zp) if clamp is None else clamp
    try:
        pk = arm_fc8.pack_fc8(w, bias, mult, shift, out_zp)
    except pack.PackError:
        return None
    x = rng.integers(-128, 128, batches * in_depth).astype(np.int8)
    n = f"g{tag}"
    decls = ('#include "tcc_arm_fc8.h"\n' + c_array(f"{n}_in", "int8_t", x) + c_array(f"{n}_w", "int8_t", w)
             + c_array(f"{n}_b", "int32_t", bias) + c_array(f"{n}_m", "int32_t", mult)
             + c_array(f"{n}_s", "int32_t", shift) + c_array(f"{n}_pk", "int32_t", pk["blocks"]))
    geo = dict(batches=batches, in_depth=in_depth, out_depth=out_depth)
    decls += _struct("tcc_fully_connected_s8_params", f"{n}_pp", {**geo, "out_zp": out_zp, "act_min": lo,
                     "act_max": hi, "weights": f"{n}_w", "bias": f"{n}_b", "mult": f"{n}_m", "shift": f"{n}_s"})
    decls += _struct("tcc_arm_fc8_s8_params", f"{n}_fp", {**geo, "groups": pk["groups"], "xshift": pk["xshift"],
                     "act_min": lo, "act_max": hi, "blocks": f"{n}_pk"})
    row = in_depth % 4 != 0 or rng.random() < 0.4          # the row widened into the scratch
    fn = "tcc_arm_fc8" + ("_row" if row else "") + ("_s8" if (lo, hi) == (-128, 127) else "_clamp_s8")
    inplace = f"{fn}(&{n}_fp, buf_b, buf_b, scratch);" if batches == 1 and row else ""
    c = Case("fc8", f"{fn} {geo} act {lo},{hi}", decls,
             _plain_call("tcc_fully_connected_s8", f"&{n}_pp, {n}_in, buf_a"),
             f"{fn}(&{n}_fp, {n}_in, buf_b, scratch);", batches * out_depth,
             arm_fc8.scratch_bytes(in_depth) if row else 0, x.size, inplace, batches * out_depth * in_depth)
    c.reads_min = pack.reads_min_fc(batches, in_depth, out_depth, row_in_scratch=row)
    c.extra["pk"], c.extra["x"], c.extra["ref"] = pk, x, (w, bias, mult, shift, out_zp, lo, hi)
    return c


def fc8_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    out = []
    shapes = [(640, 128), (128, 8), (8, 128), (1, 1), (3, 5), (33, 7), (36, 4), (100, 13), (4, 4), (31, 32),
              (61, 9), (2, 2), (128, 2)]
    for i, (d, o) in enumerate(shapes):
        for _ in range(20):
            c = fc8_case(rng, f"{i}", batches=1 + (i % 4 == 3), in_depth=d, out_depth=o)
            if c is not None:
                out.append(c)
                break
    for j in range(16):
        c = fc8_case(rng, f"r{j}", batches=int(rng.integers(1, 3)), in_depth=int(rng.integers(1, 80)),
                     out_depth=int(rng.integers(1, 24)))
        if c is not None:
            out.append(c)
    return out


def test_fc8_pack_matches_tflite():
    """The packed layout's arithmetic (numpy model of the kernel) equals TFLite's formula."""
    for c in fc8_cases(5):
        w, bias, mult, shift, out_zp, lo, hi = c.extra["ref"]
        x = c.extra["x"].reshape(-1, w.shape[1]).astype(np.int64)
        ref = np.clip(pack.requant_ref(x @ w.T.astype(np.int64) + bias, mult, shift, out_zp), lo, hi)
        assert np.array_equal(arm_fc8.reference(x, c.extra["pk"], w.shape[0], lo, hi), ref), c.desc


def test_fc8_pack_refuses():
    w = np.ones((4, 8), np.int8)
    with pytest.raises(pack.PackError):
        arm_fc8.pack_fc8(w, [0] * 4, [2**30] * 4, [0] * 4, 0)             # right shift 0
    with pytest.raises(pack.PackError):
        arm_fc8.pack_fc8(w, [0] * 4, [2**30] * 4, [-1, -1, 1, -1], 0)     # left shifts differ


@needs_arm
def test_fc8_qemu(tmp_path):
    cases = fc8_cases(11)
    assert len(cases) >= 25
    rc, log = build_and_run(cases, tmp_path, "qemu")
    _check(rc, log, cases)


@needs_host
def test_fc8_host_sanitized(tmp_path):
    cases = fc8_cases(12)[::2]
    rc, log = build_and_run(cases, tmp_path, "host")
    _check(rc, log, cases)
