"""arm_convk (runtime/kernels/arm/tcc_arm_convk.c, tinycc/variants/arm_convk.py): CONV_2D with a
small K against the plain kernel, byte for byte, on random layers in QEMU (Cortex-M4) and on the
host (the portable path, under ASan/UBSan): K = 1 .. 64 (one chunk, a first chunk of 8 or 16,
middle chunks), 1x1 and 3x3 with padding and strides, 10x4 on one channel, dilation, batches,
odd channel counts, short last blocks, constant channels; at the largest overlap reads_min
allows, with canaries after the output and the scratch."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc.packing import PackError
from tinycc.variants import arm_convk

from .test_conv8 import conv8_constants
from .test_dsp_kernels import Case, _check, _plain_call, _struct, build_and_run, c_array, needs_arm, needs_host, out_size


def convk_case(rng, tag, pix, *, batches=1, in_h, in_w, in_c, out_c, k_h, k_w, stride_h=1, stride_w=1,
               dil_h=1, dil_w=1, pad_top=0, pad_left=0):
    out_h = out_size(in_h, k_h, stride_h, dil_h, pad_top)
    out_w = out_size(in_w, k_w, stride_w, dil_w, pad_left)
    w, bias, mult, shift, in_zp = conv8_constants(rng, out_c, k_h, k_w, in_c)
    out_zp = int(rng.integers(-128, 128))
    pk = arm_convk.pack_records(w, bias, mult, shift, out_zp, pix)
    x = rng.integers(-128, 128, batches * in_h * in_w * in_c).astype(np.int8)
    n = f"k{tag}"
    decls = ('#include "tcc_arm_convk.h"\n' + c_array(f"{n}_in", "int8_t", x) + c_array(f"{n}_w", "int8_t", w)
             + c_array(f"{n}_b", "int32_t", bias) + c_array(f"{n}_m", "int32_t", mult)
             + c_array(f"{n}_s", "int32_t", shift) + c_array(f"{n}_r", "int32_t", pk.records))
    geo = dict(batches=batches, in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c,
               k_h=k_h, k_w=k_w)
    common = dict(stride_h=stride_h, stride_w=stride_w, dil_h=dil_h, dil_w=dil_w, pad_top=pad_top,
                  pad_left=pad_left, in_zp=in_zp)
    decls += _struct("tcc_conv2d_s8_params", f"{n}_pp", {**geo, "k_c": in_c, **common, "out_zp": out_zp,
                     "act_min": -128, "act_max": 127, "weights": f"{n}_w", "bias": f"{n}_b",
                     "mult": f"{n}_m", "shift": f"{n}_s"})
    decls += _struct("tcc_arm_convk_params", f"{n}_fp", {**geo, **common, "k8": pk.k8, "pix": pix,
                                                         "records": f"{n}_r"})
    out_bytes = batches * out_h * out_w * out_c
    fast = f"tcc_arm_convk_s8(&{n}_fp, {n}_in, buf_b, scratch);"
    c = Case("convk", f"convk {geo} s{stride_h}x{stride_w} d{dil_h}x{dil_w} p{pad_top},{pad_left} pix {pix}",
             decls, _plain_call("tcc_conv2d_s8", f"&{n}_pp, {n}_in, buf_a"), fast, out_bytes,
             arm_convk.scratch_bytes(pix, pk.k8, k_h, k_w, in_c), x.size, "", out_bytes * k_h * k_w * in_c)
    c.reads_min = arm_convk.reads_min(batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, stride_h,
                                      stride_w, pad_top, pad_left, dil_h, dil_w, pix)
    return c


# (the shared models' small-K layers, small, and the edges: every chunk count, borders, dilation)
GEOMETRIES = [
    dict(in_h=9, in_w=9, in_c=3, out_c=8, k_h=3, k_w=3, stride_h=2, stride_w=2, pad_top=1, pad_left=1),  # vww first
    dict(in_h=5, in_w=7, in_c=8, out_c=16, k_h=1, k_w=1),                       # vww 1x1, K 8
    dict(in_h=4, in_w=5, in_c=16, out_c=32, k_h=1, k_w=1),                      # K 16
    dict(in_h=3, in_w=5, in_c=32, out_c=7, k_h=1, k_w=1),                       # K 32, odd out_c
    dict(in_h=13, in_w=6, in_c=1, out_c=64, k_h=10, k_w=4, stride_h=2, stride_w=2, pad_top=4, pad_left=1),  # kws
    dict(in_h=6, in_w=7, in_c=3, out_c=16, k_h=3, k_w=3, pad_top=1, pad_left=1),  # ic first
    dict(in_h=8, in_w=8, in_c=16, out_c=6, k_h=1, k_w=1, stride_h=2, stride_w=2),  # ic shortcut
    dict(in_h=5, in_w=12, in_c=1, out_c=5, k_h=3, k_w=5, pad_top=1, pad_left=2),  # K 15, row tails of 1
    dict(in_h=7, in_w=6, in_c=5, out_c=4, k_h=2, k_w=3, dil_h=2, dil_w=2, pad_top=1, pad_left=2),  # K 30
    dict(in_h=6, in_w=5, in_c=3, out_c=3, k_h=3, k_w=2, stride_w=2, dil_w=2, pad_top=2, pad_left=1,
         batches=2),                                                            # K 18
    dict(in_h=4, in_w=4, in_c=1, out_c=2, k_h=1, k_w=1),                        # K 1
    dict(in_h=5, in_w=5, in_c=7, out_c=9, k_h=3, k_w=3, pad_top=1, pad_left=1),  # K 63: 4 chunks
    dict(in_h=3, in_w=7, in_c=12, out_c=5, k_h=1, k_w=2, stride_w=3),           # K 24: 8 + 16
]


def convk_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    return [convk_case(rng, f"{seed}_{i}", (16, 4, 5)[i % 3], **geo) for i, geo in enumerate(GEOMETRIES)]


def test_convk_records():
    """The records' layout and the refusals (K over the maximum, a left shift)."""
    rng = np.random.default_rng(3)
    w, bias, mult, shift, _ = conv8_constants(rng, 6, 3, 3, 3)
    pk = arm_convk.pack_records(w, bias, mult, shift, 5)
    assert pk.k8 == 32 and pk.records.size == 6 * (arm_convk.HEAD_WORDS + 8)
    rec = pk.records.reshape(6, -1)
    const = rec[:, 1] == 0                               # multiplier 0: the output in add
    assert np.array_equal(rec[~const, 0], 2 * np.asarray(bias)[~const]) and np.all(rec[const, 0] == 0)
    assert np.all(rec[const, 3] == 1) and const.any()
    with pytest.raises(PackError):
        arm_convk.pack_records(np.ones((2, 3, 3, 8), np.int8), [0, 0], [2**30] * 2, [-3, -3], 0)
    with pytest.raises(PackError):
        arm_convk.pack_records(np.ones((2, 1, 1, 8), np.int8), [0, 0], [2**30] * 2, [2, -3], 0)


@needs_arm
def test_convk_qemu(tmp_path):
    cases = convk_cases(21)
    rc, log = build_and_run(cases, tmp_path, "qemu")
    _check(rc, log, cases)


@needs_host
def test_convk_host_sanitized(tmp_path):
    cases = convk_cases(22)[::2]
    rc, log = build_and_run(cases, tmp_path, "host")
    _check(rc, log, cases)
