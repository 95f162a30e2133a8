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
from tinycc.variants import arm_dw8, arm_fc8


# only the kernels under test (test_dsp_kernels builds every kernel file; the sanitizer build is slow)
SOURCES = [KERNELS / "tcc_fully_connected.c", KERNELS / "tcc_depthwise.c", ARM_KERNELS / "tcc_arm_fc8.c",
           ARM_KERNELS / "tcc_arm_dw8.c"]


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


def dw8_case(rng, tag: str, *, batches=1, in_h, in_w, channels, stride=1, pad_top=0, pad_left=0,
             transposed=None, ring=None, group=None, plane=None, shift0=False):
    out_h = (in_h + 2 * pad_top - 3) // stride + 1
    out_w = (in_w + 2 * pad_left - 3) // stride + 1
    if out_h <= 0 or out_w <= 0:
        return None
    in_zp, out_zp = (int(v) for v in rng.integers(-128, 128, 2))
    w = rand_weights(rng, (1, 3, 3, channels), per_axis0=False)
    if shift0:                             # small taps: outputs within range without a right shift
        w = rng.integers(-2, 3, w.shape).astype(np.int8)
    w[..., rng.random(channels) < 0.1] = 0                  # constant channels
    acc_std = 3 * 60 * np.abs(w).mean() + 1
    bias = fold_bias(rng, w.reshape(-1, channels).T, in_zp, acc_std)
    mult, shift = rand_requant(rng, channels, acc_std)
    if shift0:                             # no right shift (the kernels' shift-0 requantization)
        mult[mult != 0], shift[:] = 2**30, 0
    lo, hi = rand_act(rng, out_zp)
    if transposed is None:
        transposed = bool(rng.random() < 0.5)
    if ring is None:
        ring = bool(rng.random() < 0.5)
    if plane is None:
        plane = stride == 1 and ring is None and group is None and bool(rng.random() < 0.3)
    if plane:                              # tcc_arm_dw8_plane_s8: stride 1, group 1, the whole plane
        ring, group = False, 1
    if group is None:
        group = int(rng.choice(arm_dw8.GROUPS))
    try:
        pk = arm_dw8.pack_dw8(w, bias, mult, shift, out_zp, transposed)
    except pack.PackError:
        return None
    x = rng.integers(-128, 128, batches * in_h * in_w * channels).astype(np.int8)
    n = f"e{tag}"
    lines, length = arm_dw8.geometry(in_h, in_w, out_h, out_w, stride, pad_top, pad_left, transposed)
    decls = ('#include "tcc_arm_dw8.h"\n' + c_array(f"{n}_in", "int8_t", x) + c_array(f"{n}_w", "int8_t", w)
             + c_array(f"{n}_b", "int32_t", bias) + c_array(f"{n}_m", "int32_t", mult)
             + c_array(f"{n}_s", "int32_t", shift) + c_array(f"{n}_t", "int8_t", pk["taps"])
             + c_array(f"{n}_pm", "int32_t", pk["mult"]) + c_array(f"{n}_pb", "int32_t", pk["bias"]))
    common = dict(batches=batches, in_h=in_h, in_w=in_w)
    decls += _struct("tcc_depthwise_s8_params", f"{n}_pp", dict(
        **common, in_c=channels, out_h=out_h, out_w=out_w, depth_mult=1, k_h=3, k_w=3, stride_h=stride,
        stride_w=stride, dil_h=1, dil_w=1, pad_top=pad_top, pad_left=pad_left, in_zp=in_zp, out_zp=out_zp,
        act_min=lo, act_max=hi, weights=f"{n}_w", bias=f"{n}_b", mult=f"{n}_m", shift=f"{n}_s"))
    decls += _struct("tcc_arm_dw8_s8_params", f"{n}_fp", dict(
        **common, channels=channels, out_h=out_h, out_w=out_w, stride=stride, pad_top=pad_top,
        pad_left=pad_left, in_zp=in_zp, out_zp=out_zp, act_min=lo, act_max=hi, transposed=int(transposed),
        lines=lines, line_len=length, ring=int(ring), group=group, taps=f"{n}_t", mult=f"{n}_pm", bias=f"{n}_pb"))
    fn = "tcc_arm_dw8_plane_s8" if plane else "tcc_arm_dw8_s8" if (lo, hi) == (-128, 127) else "tcc_arm_dw8_clamp_s8"
    inplace = ""
    if ring and pack.depthwise3x3_in_place(batches, in_h, in_w, out_h, out_w, stride, pad_top, pad_left, transposed):
        inplace = f"{fn}(&{n}_fp, buf_b, buf_b, scratch);"
    elif batches == 1 and not ring:   # the output one pixel further on (any multiple of the pixel size)
        inplace = (f"memmove(buf_b + {channels}, buf_b, {x.size}); "
                   f"{fn}(&{n}_fp, buf_b + {channels}, buf_b, scratch);")
    out_bytes = batches * out_h * out_w * channels
    c = Case("dw8", f"{fn}{'T' if transposed else ''}{' ring' if ring else ''} g{group} b{batches} {in_h}x{in_w}x{channels} s{stride} "
                    f"p{pad_top},{pad_left}", decls,
             _plain_call("tcc_depthwise_s8", f"&{n}_pp, {n}_in, buf_a"),
             f"{fn}(&{n}_fp, {n}_in, buf_b, scratch);", out_bytes,
             arm_dw8.scratch_bytes(lines, length, ring, group, plane), x.size, inplace,
             out_bytes * 9)
    c.extra["args"] = (w, bias, mult, shift, out_zp, bool(transposed), pk)
    return c


def dw8_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    out = []
    fixed = [dict(in_h=25, in_w=5, channels=64, pad_top=1, pad_left=1),            # kws
             dict(in_h=25, in_w=5, channels=64, pad_top=1, pad_left=1, transposed=True, plane=True),   # kws's way
             # the plane kernel with each short end of a line: 4, 2, 5, 0 (and 3, 1 above / at random)
             dict(in_h=8, in_w=10, channels=7, pad_top=1, pad_left=1, transposed=False, plane=True),
             dict(in_h=14, in_w=4, channels=5, pad_top=1, pad_left=1, transposed=True, plane=True),
             dict(in_h=4, in_w=13, channels=3, pad_top=0, pad_left=0, transposed=False, plane=True),
             dict(in_h=6, in_w=12, channels=9, pad_top=1, pad_left=1, transposed=False, plane=True, batches=2),
             dict(in_h=5, in_w=11, channels=4, pad_top=0, pad_left=0, transposed=False, plane=True),
             dict(in_h=1, in_w=1, channels=3, pad_top=1, pad_left=1, plane=True, shift0=True),
             dict(in_h=13, in_w=3, channels=6, pad_top=1, pad_left=1, transposed=True, plane=True, shift0=True),
             dict(in_h=4, in_w=9, channels=5, pad_top=1, pad_left=1, transposed=False, plane=True, shift0=True),
             dict(in_h=3, in_w=11, channels=4, pad_top=1, pad_left=1, transposed=False, plane=True, shift0=True),
             dict(in_h=25, in_w=5, channels=6, pad_top=1, pad_left=1, transposed=True, ring=False, group=1),
             dict(in_h=14, in_w=3, channels=5, stride=2, pad_top=1, pad_left=1, transposed=True, ring=True, group=2),  # 7: 6 + 1
             dict(in_h=12, in_w=12, channels=13, stride=2, pad_top=0, pad_left=0, ring=False, group=4),
             dict(in_h=6, in_w=6, channels=20, pad_top=1, pad_left=1),
             dict(in_h=7, in_w=9, channels=5, stride=2, pad_top=1, pad_left=1),
             dict(in_h=8, in_w=3, channels=6, pad_top=1, pad_left=1),
             dict(in_h=3, in_w=3, channels=9, pad_top=1, pad_left=1, batches=2),
             dict(in_h=1, in_w=1, channels=7, pad_top=1, pad_left=1, ring=False),        # a 1x1 plane
             # vww op 3 (48x48 stride 2, pad 0) scaled down: the ring in place, rows
             dict(in_h=16, in_w=16, channels=7, stride=2, pad_top=0, pad_left=0, transposed=False, ring=True)]
    for i, kw in enumerate(fixed):
        for _ in range(20):
            c = dw8_case(rng, f"{i}", **kw)
            if c is not None:
                out.append(c)
                break
    for j in range(10):
        s = int(rng.integers(1, 3))
        c = dw8_case(rng, f"r{j}", in_h=int(rng.integers(2, 14)), in_w=int(rng.integers(2, 14)),
                     channels=int(rng.integers(1, 12)), stride=s, pad_top=int(rng.integers(0, 2)),
                     pad_left=int(rng.integers(0, 2)), batches=int(rng.integers(1, 3)))
        if c is not None:
            out.append(c)
    return out


def test_dw8_records_match_planar_pack():
    """The per-channel constants the kernel builds from the compact ones are those of
    tcc_arm_depthwise3x3_s8's records (packing.pack_depthwise_planar), constant channels aside
    (zeroed weights and bias)."""
    for c in dw8_cases(6):
        w, bias, mult, shift, out_zp, tr, pk = c.extra["args"]
        ref = pack.pack_depthwise_planar(w, bias, mult, shift, out_zp, tr)["records"].reshape(-1, 10)
        got = pk["records"].reshape(-1, 10)
        live = got[:, 0] != 0
        assert np.array_equal(got[live], ref[live]), c.desc
        assert np.array_equal(got[~live][:, [0, 2, 3]], np.zeros((int((~live).sum()), 3))), c.desc
        assert np.array_equal(got[~live][:, 1], ref[~live][:, 1]), c.desc


@needs_arm
def test_w8_kernels_qemu(tmp_path):
    cases = fc8_cases(11) + dw8_cases(21)
    assert len(cases) >= 40
    assert any(c.inplace_call and "ring" in c.desc and " s2 " in c.desc for c in cases)   # vww op 3's way
    layouts = {(" ring " in c.desc, c.desc.split(" g")[1].split()[0]) for c in cases if c.kind == "dw8"}
    assert layouts == {(ring, str(g)) for ring in (False, True) for g in arm_dw8.GROUPS}   # every layout
    assert sum("plane" in c.desc for c in cases) >= 10                                    # and the plane kernel
    rc, log = build_and_run(cases, tmp_path, "qemu")
    _check(rc, log, cases)


@needs_host
def test_w8_kernels_host_sanitized(tmp_path):
    # small layers only: the sanitizer build of the large constant arrays is what costs
    cases = [c for c in fc8_cases(12) + dw8_cases(22) if c.macs <= 4096][::2]
    assert len(cases) >= 10
    rc, log = build_and_run(cases, tmp_path, "host")
    _check(rc, log, cases)
