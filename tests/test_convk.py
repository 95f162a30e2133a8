"""arm_convk / arm_convkw (runtime/kernels/arm/tcc_arm_convk.c, tinycc/variants/arm_convk.py):
CONV_2D with 1..4 input channels against the plain kernel, byte for byte, on random layers (in_c
1, 2, 3, 4; kernels 1x1 to 10x4; strides 1 and 2; same and valid padding; 1, odd and 64 output
channels; per-channel requantization with constant channels) in QEMU (Cortex-M4, the asm path, one
program) and on the host (the portable path, under ASan/UBSan); in place at the largest overlap
reads_min allows, with canaries after the output and the scratch. And the unit: what it applies to,
its geometry and its choice on the shared models' first layers."""
from __future__ import annotations

import numpy as np
import pytest

from tinycc.variants import arm_convk

from .test_conv8 import conv8_constants
from .test_dsp_kernels import Case, _check, _plain_call, _struct, build_and_run, c_array, needs_arm, needs_host, out_size


def convk_case(rng, tag, *, batches=1, in_h, in_w, in_c, out_c, k_h, k_w, stride_h=1, stride_w=1, pad_top=0,
               pad_left=0, wide=False):
    out_h = out_size(in_h, k_h, stride_h, 1, pad_top)
    out_w = out_size(in_w, k_w, stride_w, 1, pad_left)
    assert out_h > 0 and out_w > 0
    w, bias, mult, shift, in_zp = conv8_constants(rng, out_c, k_h, k_w, in_c)
    out_zp = int(rng.integers(-128, 128))
    stream, groups = arm_convk.pack(w, bias, mult, shift, out_zp, wide)
    rows, width = arm_convk.geometry(out_h, out_w, k_h, k_w, stride_h, stride_w)
    x = rng.integers(-128, 128, batches * in_h * in_w * in_c).astype(np.int8)
    n = f"k{tag}"
    decls = ('#include "tcc_arm_convk.h"\n' + c_array(f"{n}_in", "int8_t", x) + c_array(f"{n}_w", "int8_t", w)
             + c_array(f"{n}_b", "int32_t", bias) + c_array(f"{n}_m", "int32_t", mult)
             + c_array(f"{n}_s", "int32_t", shift) + c_array(f"{n}_st", "int32_t", stream))
    geo = dict(batches=batches, in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c,
               k_h=k_h, k_w=k_w)
    common = dict(stride_h=stride_h, stride_w=stride_w, pad_top=pad_top, pad_left=pad_left, in_zp=in_zp)
    decls += _struct("tcc_conv2d_s8_params", f"{n}_pp", {**geo, "k_c": in_c, **common, "dil_h": 1, "dil_w": 1,
                     "out_zp": out_zp, "act_min": -128, "act_max": 127, "weights": f"{n}_w", "bias": f"{n}_b",
                     "mult": f"{n}_m", "shift": f"{n}_s"})
    decls += _struct("tcc_arm_convk_params", f"{n}_fp", {**geo, **common, "groups": groups, "strip_rows": rows,
                                                         "strip_w": width, "stream": f"{n}_st"})
    out_bytes = batches * out_h * out_w * out_c
    fast = f"tcc_arm_convk{'w' if wide else ''}_s8(&{n}_fp, {n}_in, buf_b, scratch);"
    c = Case("convk", f"convk{'w' if wide else ''} {geo} s{stride_h}x{stride_w} p{pad_top},{pad_left}", decls,
             _plain_call("tcc_conv2d_s8", f"&{n}_pp, {n}_in, buf_a"), fast, out_bytes,
             arm_convk.scratch_bytes(groups, rows, width, in_c, k_h, k_w, out_c), x.size, "",
             out_bytes * k_h * k_w * in_c)
    c.reads_min = arm_convk.reads_min(batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, stride_h, pad_top)
    return c


# the shared models' first layers (small), and the edges: odd and single output channels, short
# last blocks, rows of 1 and 2 pixels, the groups' limit, batches
GEOMETRIES = [
    dict(in_h=13, in_w=10, in_c=1, out_c=64, k_h=10, k_w=4, stride_h=2, stride_w=2, pad_top=4, pad_left=1),  # kws
    dict(in_h=6, in_w=7, in_c=3, out_c=16, k_h=3, k_w=3, pad_top=1, pad_left=1),      # ic
    dict(in_h=9, in_w=10, in_c=3, out_c=8, k_h=3, k_w=3, stride_h=2, stride_w=2),    # vww (valid)
    dict(in_h=7, in_w=5, in_c=2, out_c=5, k_h=3, k_w=5, pad_top=1, pad_left=2),      # odd out_c, tails of 2
    dict(in_h=5, in_w=6, in_c=4, out_c=1, k_h=3, k_w=3, stride_h=2, pad_top=1, pad_left=1),  # one channel
    dict(in_h=4, in_w=4, in_c=1, out_c=3, k_h=1, k_w=1),                              # 1x1, one tap
    dict(in_h=9, in_w=1, in_c=3, out_c=6, k_h=4, k_w=1, stride_h=2, pad_top=1),      # rows of 1 pixel
    dict(in_h=6, in_w=2, in_c=4, out_c=10, k_h=2, k_w=2, pad_top=1, pad_left=1, batches=2),  # rows of 3 pixels
    dict(in_h=12, in_w=11, in_c=1, out_c=7, k_h=7, k_w=5, stride_w=2, pad_top=3, pad_left=2),  # 9 groups, tails of 1
    dict(in_h=8, in_w=8, in_c=2, out_c=12, k_h=3, k_w=3, stride_h=2, stride_w=2, pad_top=1, pad_left=0,
         batches=2),
    dict(in_h=9, in_w=11, in_c=4, out_c=4, k_h=1, k_w=1, stride_h=4, stride_w=2),   # rows skipped, a ring of 1
]


def convk_cases(seed: int) -> list[Case]:
    """Every geometry with the int8 stream, every other one also with the widened one."""
    rng = np.random.default_rng(seed)
    return ([convk_case(rng, f"{seed}_{i}", **geo) for i, geo in enumerate(GEOMETRIES)]
            + [convk_case(rng, f"{seed}_w{i}", **geo, wide=True) for i, geo in enumerate(GEOMETRIES) if i % 2 == 0])


def test_geometry():
    """The ring holds every row a block's fields span; the loads go down the rows once."""
    assert arm_convk.geometry(25, 5, 10, 4, 2, 2) == (12, 12)      # kws: 2 output rows a block
    assert arm_convk.geometry(32, 32, 3, 3, 1, 1) == (4, 34)       # ic
    assert arm_convk.geometry(5, 1, 4, 1, 2, 1) == (8, 1)          # 3 output rows a block
    loads = arm_convk.ring_loads(25, 5, 10, 2)
    assert loads[0, 0] == 0 and np.all(loads[1:, 0] == loads[:-1, 1]) and loads[-1, 1] == 58


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


@pytest.mark.parametrize("name, unit", [("kws_ref_model", "arm_convk"), ("ic_resnet8_int8", "arm_convkw"),
                                        ("vww_96_int8", "arm_conv_blocks")])
def test_first_layers_choice(name, unit):
    """pack_weights' choice for the shared models' first layers by the units' estimated cycles within
    the default flash budget: kws's 10x4 on the int8 stream (its budget has no room for widened
    weights), ic's 3x3x3 on the widened one; vww's 3x3x3 stride 2 with 8 output channels stays on
    arm_conv_blocks, which the estimates rank faster (few channels per block)."""
    from tinycc import driver, ir, variants

    from .conftest import model_path
    g = driver.compile_graph(model_path(name), target="cortex-m4")
    o = ir.op(g, ir.ops_in_order(g)[0])
    assert variants.chosen(o).name == unit
