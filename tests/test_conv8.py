"""arm_conv8 (runtime/kernels/arm/tcc_arm_conv8.c, tinycc/variants/arm_conv8.py): CONV_2D with
int8 weights against the plain kernel, byte for byte, on random layers in QEMU (Cortex-M4, the asm
path) and on the host (the portable path, under ASan/UBSan): pointwise, 3x3 with padding and
strides (3 output rows at a time, and the rows left over), few input channels (the gathered
fields), dilation, batches, odd pixel counts (short last blocks), constant channels, every right
shift, the int8 and the widened (arm_conv8w) stream; in place and at the largest overlap
reads_min allows, with canaries after the output and the scratch."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tinycc import driver, ir, packing
from tinycc.testing.models import NetBuilder
from tinycc.variants import arm_conv8
from tinycc.verify import Reference

from .conftest import assert_match, needs_qemu, random_batch, run_compiled

from .test_dsp_kernels import (Case, _check, _plain_call, _struct, build_and_run, c_array, fold_bias,
                               needs_arm, needs_host, out_size, rand_requant, rand_weights)


def conv8_constants(rng, out_c, k_h, k_w, in_c):
    """Random weights, folded bias and (mult, shift) the variant takes: right shifts 1..22 (and a
    few multiplier-0 or all-zero-weight constant channels)."""
    w = rand_weights(rng, (out_c, k_h, k_w, in_c))
    if out_c > 2:
        w[int(rng.integers(out_c))] = 0                  # a constant channel (bias only)
    in_zp = int(rng.integers(-128, 128))
    acc_std = math.sqrt(k_h * k_w * in_c) * 60 * np.abs(w).mean() + 1
    bias = fold_bias(rng, w.reshape(out_c, -1), in_zp, acc_std)
    mult, shift = rand_requant(rng, out_c, acc_std)
    shift = np.where((mult != 0) & (shift >= 0), -1, shift)
    return w, bias, mult, shift, in_zp


def conv8_case(rng, tag, *, batches=1, in_h, in_w, in_c, out_c, k_h, k_w, stride_h=1, stride_w=1,
               dil_h=1, dil_w=1, pad_top=0, pad_left=0, wide=False):
    out_h = out_size(in_h, k_h, stride_h, dil_h, pad_top)
    out_w = out_size(in_w, k_w, stride_w, dil_w, pad_left)
    assert out_h > 0 and out_w > 0
    w, bias, mult, shift, in_zp = conv8_constants(rng, out_c, k_h, k_w, in_c)
    out_zp = int(rng.integers(-128, 128))
    pk = arm_conv8.pack_stream(w, bias, mult, shift, out_zp, wide)
    x = rng.integers(-128, 128, batches * in_h * in_w * in_c).astype(np.int8)
    n = f"e{tag}"
    decls = ('#include "tcc_arm_conv8.h"\n' + c_array(f"{n}_in", "int8_t", x) + c_array(f"{n}_w", "int8_t", w)
             + c_array(f"{n}_b", "int32_t", bias) + c_array(f"{n}_m", "int32_t", mult)
             + c_array(f"{n}_s", "int32_t", shift) + c_array(f"{n}_st", "int32_t", pk.stream))
    geo = dict(batches=batches, in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c,
               k_h=k_h, k_w=k_w)
    common = dict(stride_h=stride_h, stride_w=stride_w, dil_h=dil_h, dil_w=dil_w, pad_top=pad_top,
                  pad_left=pad_left, in_zp=in_zp)
    decls += _struct("tcc_conv2d_s8_params", f"{n}_pp", {**geo, "k_c": in_c, **common, "out_zp": out_zp,
                     "act_min": -128, "act_max": 127, "weights": f"{n}_w", "bias": f"{n}_b",
                     "mult": f"{n}_m", "shift": f"{n}_s"})
    band = int(arm_conv8.band(in_c, k_h, stride_h, dil_h))
    decls += _struct("tcc_arm_conv8_params", f"{n}_fp", {**geo, **common, "groups": pk.groups, "band": band,
                                                         "stream": f"{n}_st"})
    out_bytes = batches * out_h * out_w * out_c
    pointwise = k_h == k_w == 1 and stride_h == stride_w == 1 and pad_top == pad_left == 0
    fast = f"tcc_arm_conv8{'w' if wide else ''}_s8(&{n}_fp, {n}_in, buf_b, scratch);"
    c = Case("conv8", f"conv8{'w' if wide else ''} {geo} s{stride_h}x{stride_w} d{dil_h}x{dil_w} p{pad_top},{pad_left}", decls,
             _plain_call("tcc_conv2d_s8", f"&{n}_pp, {n}_in, buf_a"), fast, out_bytes,
             arm_conv8.scratch_bytes(pk.groups, k_h, k_w, in_c), x.size,
             fast.replace(f"{n}_in", "buf_b") if pointwise and out_c <= in_c else "",
             out_bytes * k_h * k_w * in_c)
    c.reads_min = arm_conv8.reads_min(batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, stride_h,
                                      stride_w, pad_top, pad_left, dil_h, dil_w)
    return c


# (the shared models' kinds of layer, small, and the edges: short last blocks, borders, dilation)
GEOMETRIES = [
    dict(in_h=5, in_w=5, in_c=64, out_c=64, k_h=1, k_w=1),                      # kws pointwise (25 px)
    dict(in_h=3, in_w=4, in_c=16, out_c=32, k_h=1, k_w=1),                      # 12 px
    dict(in_h=2, in_w=7, in_c=8, out_c=16, k_h=1, k_w=1),                       # 14 px: 2 left
    dict(in_h=1, in_w=4, in_c=32, out_c=2, k_h=1, k_w=1),                       # 4 px: 1 left
    dict(in_h=3, in_w=3, in_c=128, out_c=34, k_h=1, k_w=1, batches=2),
    dict(in_h=3, in_w=5, in_c=4, out_c=6, k_h=1, k_w=1),                        # 1 group: no pass
    dict(in_h=2, in_w=4, in_c=76, out_c=4, k_h=1, k_w=1),                       # 19 groups: 1 + a whole pass
    dict(in_h=13, in_w=6, in_c=1, out_c=64, k_h=10, k_w=4, stride_h=2, stride_w=2, pad_top=4, pad_left=1),
    dict(in_h=9, in_w=9, in_c=3, out_c=8, k_h=3, k_w=3, stride_h=2, stride_w=2),  # vww first
    dict(in_h=6, in_w=7, in_c=3, out_c=16, k_h=3, k_w=3, pad_top=1, pad_left=1),  # ic first
    dict(in_h=5, in_w=12, in_c=1, out_c=4, k_h=3, k_w=5, pad_top=1, pad_left=2),  # row tails of 1
    dict(in_h=6, in_w=6, in_c=16, out_c=16, k_h=3, k_w=3, pad_top=1, pad_left=1),
    dict(in_h=11, in_w=4, in_c=8, out_c=6, k_h=3, k_w=3, pad_top=1, pad_left=1, batches=2),  # strips of 6, 3, 2 flat rows
    dict(in_h=7, in_w=7, in_c=16, out_c=32, k_h=3, k_w=3, stride_h=2, stride_w=2),
    dict(in_h=4, in_w=4, in_c=64, out_c=8, k_h=3, k_w=3, pad_top=1, pad_left=1),
    dict(in_h=8, in_w=8, in_c=32, out_c=6, k_h=1, k_w=1, stride_h=2, stride_w=2),  # ic shortcut
    dict(in_h=9, in_w=9, in_c=12, out_c=10, k_h=1, k_w=1, stride_h=2, stride_w=2),  # 5 x 5: blocks cross rows' ends
    dict(in_h=7, in_w=10, in_c=8, out_c=6, k_h=1, k_w=1, stride_h=2, stride_w=3, pad_top=1, pad_left=1),  # padded
    dict(in_h=7, in_w=6, in_c=5, out_c=4, k_h=2, k_w=3, dil_h=2, dil_w=2, pad_top=1, pad_left=2),
    dict(in_h=6, in_w=5, in_c=8, out_c=10, k_h=3, k_w=2, stride_h=1, stride_w=2, dil_w=2, pad_top=2,
         pad_left=1, batches=2),
]


def conv8_cases(seed: int) -> list[Case]:
    """Every geometry with the int8 stream, every third also with the widened one (arm_conv8w)."""
    rng = np.random.default_rng(seed)
    return ([conv8_case(rng, f"{seed}_{i}", **geo) for i, geo in enumerate(GEOMETRIES)]
            + [conv8_case(rng, f"{seed}_w{i}", **geo, wide=True) for i, geo in enumerate(GEOMETRIES) if i % 3 == 1])


def conv_ref(x, w, folded_bias, mult, shift, out_zp):
    """TFLite's ConvPerChannel on a 1x1 layer x [pixels, in_c] (numpy; the input zero point is in
    the folded bias)."""
    acc = x.astype(np.int64) @ w.reshape(w.shape[0], -1).astype(np.int64).T + folded_bias[None, :]
    return packing.requant_ref(acc, mult[None, :], shift[None, :], out_zp).astype(np.int8)


def test_conv8_stream_model():
    """The stream, read back by the numpy model of the kernel, gives TFLite's outputs (1x1 layers,
    every right shift, constant channels), and the refusals: left shift, shift 0, bound."""
    rng = np.random.default_rng(5)
    for in_c, out_c in ((64, 64), (3, 8), (130, 2)):
        w, bias, mult, shift, in_zp = conv8_constants(rng, out_c, 1, 1, in_c)
        shift[: min(out_c, 22)] = -np.arange(1, min(out_c, 22) + 1)
        out_zp = int(rng.integers(-128, 128))
        x = rng.integers(-128, 128, (50, in_c)).astype(np.int8)
        for wide in (False, True):
            pk = arm_conv8.pack_stream(w, bias, mult, shift, out_zp, wide)
            assert pk.stream.size == out_c // 2 * (2 + (4 if wide else 2) * pk.groups + 4)
            got = arm_conv8.reference(pk, x, out_c)
            assert np.array_equal(got, conv_ref(x, w, bias, mult, shift, out_zp))
    w = np.full((2, 1, 1, 64), 127, np.int8)
    for bias, shift in (([0, 0], [0, -3]), ([0, 0], [2, -3]), ([2**30, 0], [-3, -3])):
        with pytest.raises(packing.PackError):
            arm_conv8.pack_stream(w, bias, [2**30, 2**30], shift, 0)


@needs_arm
def test_conv8_qemu(tmp_path):
    cases = conv8_cases(11)
    rc, log = build_and_run(cases, tmp_path, "qemu")
    _check(rc, log, cases)


@needs_host
def test_conv8_host_sanitized(tmp_path):
    cases = conv8_cases(12)[::3]
    rc, log = build_and_run(cases, tmp_path, "host")
    _check(rc, log, cases)


def test_conv8_model_without_rows_part(tmp_path):
    """A model whose CONV_2D layers all have in_c % 4 == 0 (a 1x1 stride-2 layer whose blocks cross
    rows' ends, a padded 3x3, a pointwise one; odd sizes, channel counts not multiples of 4 pairs)
    runs on arm_conv8 (its widened stream here) without tcc_arm_conv8.c's fields of the other layers
    (TCC_OMIT_ARM_CONV8_ROWS) and matches TFLite Micro in QEMU."""
    needs_qemu()
    nb = NetBuilder(np.random.default_rng(3), "int8")
    x = nb.input((1, 11, 14, 32))
    y = nb.conv2d(x, 20, (1, 1), (2, 2), "VALID")            # 6 x 7 out: 14 blocks, 4 of them cross a row's end
    y = nb.conv2d(y, 4, (3, 3), (1, 1), "SAME")
    y = nb.conv2d(y, 6, (1, 1))
    path = tmp_path / "m.tflite"
    path.write_bytes(nb.build([x], [y]))
    g = driver.compile_graph(str(path), target="cortex-m4")
    convs = [ir.op(g, n) for n in ir.ops_in_order(g) if ir.op(g, n).kind == "CONV_2D"]
    assert all(o.params.packed.impl in ("arm_conv8", "arm_conv8w") for o in convs)
    batches = random_batch(g, np.random.default_rng(4), 2)
    ours, _ = run_compiled(path, batches, tmp_path, "qemu", "cortex-m4", g=g)
    assert "#define TCC_OMIT_ARM_CONV8_ROWS" in (tmp_path / "out" / "model_tcc_arm_conv8.c").read_text()
    ref = Reference(str(path), 1)
    assert ref.name == "TFLite Micro"
    assert_match(ours, [ref.run(xs) for xs in batches])
