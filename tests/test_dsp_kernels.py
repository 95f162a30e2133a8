"""Cortex-M DSP kernels (runtime/kernels/arm) against the plain kernels, byte for byte.

Random layers of every kind (conv incl. pointwise and odd channel counts, depthwise general
and 3x3 planar, fully connected, average pool, add) with random zero points and requantization
constants (right and left shifts, shift 0, multiplier 0 channels, clamps) are written into one
C program that runs the plain kernel and the fast kernel (with tinycc.packing's constants) on
the same data and compares the outputs, plus canaries after the output and the scratch, plus
in-place runs where tcc_arm.h says they are safe. The program runs on the Cortex-M4 in QEMU
(arm-none-eabi-gcc -O2 -Wall -Wextra -Werror, the DSP code paths) and on the host with the
portable helpers under AddressSanitizer/UBSan.

The case generators and the C writer are also used by bench/.
"""
from __future__ import annotations

import itertools
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tinycc import toolchain

REPO = Path(__file__).resolve().parents[1]
KERNELS = REPO / "runtime" / "kernels"
ARM_KERNELS = KERNELS / "arm"
from tinycc import packing as pack  # noqa: E402  (the compile-time packing of the fast kernels)
from tinycc.variants import arm_conv  # noqa: E402  (which entry point a conv layer gets)

PLAIN_SOURCES = [KERNELS / f for f in ("tcc_conv.c", "tcc_depthwise.c", "tcc_fully_connected.c",
                                       "tcc_pool.c", "tcc_add.c")]
ARM_SOURCES = sorted(ARM_KERNELS.glob("tcc_arm_*.c"))
CANARY = 16


# ---------------------------------------------------------------------------
# C emission
# ---------------------------------------------------------------------------

def c_array(name: str, ctype: str, values, align: int = 8) -> str:
    vals = np.asarray(values).reshape(-1)
    if vals.size == 0:
        vals = np.zeros(1, dtype=np.int64)
    body = ",".join(str(int(v)) for v in vals)
    return f"static const {ctype} {name}[{vals.size}] __attribute__((aligned({align}))) = {{{body}}};\n"


def c_rq(name: str, rq: np.ndarray) -> str:
    rq = np.asarray(rq).reshape(-1, 3)
    body = ",".join(f"{{{int(m)},{int(a)},{int(s)}}}" for m, a, s in rq)
    return f"static const tcc_arm_rq {name}[{len(rq)}] = {{{body}}};\n"


@dataclass
class Case:
    """One kernel call: C declarations and the statements of its run function."""
    kind: str
    desc: str
    decls: str
    plain_call: str          # writes buf_a (may use the name `in0`)
    fast_call: str           # writes buf_b (scratch: `scratch`)
    out_bytes: int
    scratch_bytes: int = 0
    in_bytes: int = 0
    inplace_call: str = ""   # runs the fast kernel in buf_b after copying the input there
    macs: int = 0
    extra: dict = field(default_factory=dict)
    reads_min: object = None  # pack.reads_min_* of the fast kernel (input slot 0), None: no sharing


def _plain_call(fn: str, args: str) -> str:
    """A call of a plain kernel; kernels whose prototype (in runtime/kernels/*.h) ends with a
    scratch pointer get plain_scratch (the plain kernels' signatures evolve independently)."""
    for h in KERNELS.glob("*.h"):
        m = re.search(rf"void\s+{fn}\s*\(([^)]*)\)", h.read_text())
        if m:
            if "scratch" in m.group(1):
                return f"{fn}({args}, plain_scratch);"
            return f"{fn}({args});"
    raise AssertionError(f"{fn} not declared in {KERNELS}")


def _struct(ctype: str, name: str, fields: dict) -> str:
    body = ", ".join(f".{k} = {v}" for k, v in fields.items())
    return f"static const {ctype} {name} = {{{body}}};\n"


# ---------------------------------------------------------------------------
# Random constants
# ---------------------------------------------------------------------------

def rand_requant(rng, n: int, acc_std: float, special: bool = True):
    """Per-channel (mult, shift) around a multiplier that maps acc_std to ~40 LSB."""
    base = math.log2(40.0 / max(acc_std, 1.0)) + rng.uniform(-2, 2)
    if special and rng.random() < 0.1:
        base = rng.uniform(-1, 3)            # shift 0 and left shifts
    mult = rng.integers(2**30, 2**31, n, dtype=np.int64)
    shift = np.round(base + rng.uniform(-1.5, 1.5, n)).astype(np.int64) + 1
    shift = np.clip(shift, -22, 3)
    if special:
        for i in range(n):
            r = rng.random()
            if r < 0.04:
                mult[i], shift[i] = 0, 0     # quantize_multiplier(0)
            elif r < 0.07:
                shift[i] = 0
            elif r < 0.08:
                mult[i] = 2**30
    return mult, shift


def rand_act(rng, out_zp: int):
    r = rng.random()
    if r < 0.5:
        return -128, 127
    if r < 0.75:
        return max(out_zp, -128), 127
    lo = int(rng.integers(-128, 60))
    return lo, int(rng.integers(lo, 128))


def rand_weights(rng, shape, per_axis0: bool = True):
    w = rng.integers(-127, 128, shape)
    if per_axis0:
        scale = rng.choice([1, 1, 1, 2, 8, 40], size=shape[0])
        w = (w / scale.reshape((-1,) + (1,) * (len(shape) - 1))).round()
    return w.astype(np.int8)


def fold_bias(rng, w2d: np.ndarray, in_zp: int, acc_std: float):
    bias = np.round(rng.normal(0, acc_std, w2d.shape[0])).astype(np.int64)
    return bias - in_zp * w2d.astype(np.int64).sum(axis=1)


def out_size(in_size: int, k: int, stride: int, dil: int, pad: int) -> int:
    return (in_size + 2 * pad - ((k - 1) * dil + 1)) // stride + 1


# ---------------------------------------------------------------------------
# Generators (one per kernel); each returns a Case or None if pack.py refused
# ---------------------------------------------------------------------------

def conv_case(rng, tag: str, *, batches=1, in_h, in_w, in_c, out_c, k_h, k_w, stride_h=1, stride_w=1,
              dil_h=1, dil_w=1, pad_top=0, pad_left=0, data=None, out_h=None, out_w=None):
    out_h = out_h or out_size(in_h, k_h, stride_h, dil_h, pad_top)
    out_w = out_w or out_size(in_w, k_w, stride_w, dil_w, pad_left)
    if out_h <= 0 or out_w <= 0:
        return None
    in_zp = int(rng.integers(-128, 128))
    out_zp = int(rng.integers(-128, 128))
    if data is None:
        w = rand_weights(rng, (out_c, k_h, k_w, in_c))
        kk = k_h * k_w * in_c
        acc_std = math.sqrt(kk) * 60 * np.abs(w).mean() + 1
        bias = fold_bias(rng, w.reshape(out_c, -1), in_zp, acc_std)
        mult, shift = rand_requant(rng, out_c, acc_std)
        lo, hi = rand_act(rng, out_zp)
    else:
        w, bias, mult, shift, in_zp, out_zp, (lo, hi) = (data[k] for k in (
            "w", "bias", "mult", "shift", "in_zp", "out_zp", "act"))
    if np.abs(bias).max(initial=0) >= 2**31:
        return None
    try:
        pk = pack.pack_conv(w, bias, mult, shift, out_zp)
    except pack.PackError:
        return None
    x = rng.integers(-128, 128, batches * in_h * in_w * in_c).astype(np.int8)
    n = f"c{tag}"
    decls = (c_array(f"{n}_in", "int8_t", x) + c_array(f"{n}_w", "int8_t", w)
             + c_array(f"{n}_b", "int32_t", bias) + c_array(f"{n}_m", "int32_t", mult)
             + c_array(f"{n}_s", "int32_t", shift) + c_array(f"{n}_pw", "int32_t", pk["weights"])
             + c_array(f"{n}_pb", "int32_t", pk["bias"]) + c_rq(f"{n}_rq", pk["rq"]))
    records = blocks = "NULL"
    if pk["records"] is not None:
        decls += c_array(f"{n}_pr", "int32_t", pk["records"])
        records = f"{n}_pr"
    if pk["blocks"] is not None:
        decls += c_array(f"{n}_pk", "int32_t", pk["blocks"])
        blocks = f"{n}_pk"
    geo = dict(batches=batches, in_h=in_h, in_w=in_w, in_c=in_c, out_h=out_h, out_w=out_w, out_c=out_c,
               k_h=k_h, k_w=k_w)
    common = dict(stride_h=stride_h, stride_w=stride_w, dil_h=dil_h, dil_w=dil_w, pad_top=pad_top,
                  pad_left=pad_left, in_zp=in_zp)
    decls += _struct("tcc_conv2d_s8_params", f"{n}_pp", {**geo, "k_c": in_c, **common, "out_zp": out_zp,
                     "act_min": lo, "act_max": hi, "weights": f"{n}_w", "bias": f"{n}_b", "mult": f"{n}_m",
                     "shift": f"{n}_s"})
    decls += _struct("tcc_arm_conv_s8_params", f"{n}_fp", {**geo, **common, "act_min": lo, "act_max": hi,
                     "k_packed": pk["k_packed"], "weights": f"{n}_pw", "bias": f"{n}_pb", "rq": f"{n}_rq",
                     "records": records, "blocks": blocks})
    out_bytes = batches * out_h * out_w * out_c
    pointwise = k_h == k_w == 1 and stride_h == stride_w == 1 and pad_top == pad_left == 0
    # the entry point tinycc/variants/arm_conv.py calls for this layer (given the RAM and flash)
    fn = "tcc_arm_conv_s8_" + arm_conv.entry(pk, in_c, k_h, k_w, stride_h, stride_w, pad_top, pad_left, (lo, hi))
    inplace = ""
    if pointwise and out_c <= in_c:
        inplace = f"{fn}(&{n}_fp, buf_b, buf_b, scratch);"
    c = Case("conv", f"conv {geo} s{stride_h}x{stride_w} d{dil_h}x{dil_w} p{pad_top},{pad_left}", decls,
             _plain_call("tcc_conv2d_s8", f"&{n}_pp, {n}_in, buf_a"),
             f"{fn}(&{n}_fp, {n}_in, buf_b, scratch);", out_bytes,
             pack.conv_scratch_bytes(k_h, k_w, in_c, out_c), x.size, inplace, out_bytes * k_h * k_w * in_c)
    c.reads_min = pack.reads_min_conv(batches, in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, stride_h,
                                      stride_w, pad_top, pad_left, dil_h, dil_w)
    return c


def fc_case(rng, tag: str, *, batches=1, in_depth, out_depth, data=None):
    in_zp = int(rng.integers(-128, 128))
    out_zp = int(rng.integers(-128, 128))
    if data is None:
        w = rand_weights(rng, (out_depth, in_depth))
        acc_std = math.sqrt(in_depth) * 60 * np.abs(w).mean() + 1
        bias = fold_bias(rng, w, in_zp, acc_std)
        mult, shift = rand_requant(rng, out_depth, acc_std)
        if rng.random() < 0.5:                       # per-tensor scale, as TFLite FC mostly is
            mult[:], shift[:] = mult[0], shift[0]
        lo, hi = rand_act(rng, out_zp)
    else:
        w, bias, mult, shift, out_zp, (lo, hi) = (data[k] for k in ("w", "bias", "mult", "shift", "out_zp",
                                                                    "act"))
    try:
        pk = pack.pack_fc(w, bias, mult, shift, out_zp)
    except pack.PackError:
        return None
    x = rng.integers(-128, 128, batches * in_depth).astype(np.int8)
    n = f"f{tag}"
    decls = (c_array(f"{n}_in", "int8_t", x) + c_array(f"{n}_w", "int8_t", w)
             + c_array(f"{n}_b", "int32_t", bias) + c_array(f"{n}_m", "int32_t", mult)
             + c_array(f"{n}_s", "int32_t", shift) + c_array(f"{n}_pw", "int32_t", pk["weights"])
             + c_array(f"{n}_pb", "int32_t", pk["bias"]) + c_rq(f"{n}_rq", pk["rq"]))
    geo = dict(batches=batches, in_depth=in_depth, out_depth=out_depth)
    decls += _struct("tcc_fully_connected_s8_params", f"{n}_pp", {**geo, "out_zp": out_zp, "act_min": lo,
                     "act_max": hi, "weights": f"{n}_w", "bias": f"{n}_b", "mult": f"{n}_m", "shift": f"{n}_s"})
    decls += _struct("tcc_arm_fc_s8_params", f"{n}_fp", {**geo, "act_min": lo, "act_max": hi,
                     "k_packed": pk["k_packed"], "weights": f"{n}_pw", "bias": f"{n}_pb", "rq": f"{n}_rq"})
    # the entry tinycc/variants/arm_fc.py calls for the row read in place where it can be (in_depth
    # % 4 == 0), else through the scratch; in place only then (in_depth % 4 != 0)
    row = in_depth % 4 != 0
    call = (lambda x, y: f"tcc_arm_fc_s8_row(&{n}_fp, {x}, {y}, scratch);") if row else \
        (lambda x, y: f"tcc_arm_fc_s8_direct(&{n}_fp, {x}, {y});")
    inplace = call("buf_b", "buf_b") if batches == 1 and row else ""
    c = Case("fc", f"fc {geo}", decls, _plain_call("tcc_fully_connected_s8", f"&{n}_pp, {n}_in, buf_a"),
             call(f"{n}_in", "buf_b"), batches * out_depth,
             pack.fc_scratch_bytes(in_depth), x.size, inplace, batches * out_depth * in_depth)
    c.reads_min = pack.reads_min_fc(batches, in_depth, out_depth)
    return c


def dw_case(rng, tag: str, *, batches=1, in_h, in_w, channels, k_h=3, k_w=3, stride_h=1, stride_w=1,
            dil_h=1, dil_w=1, pad_top=0, pad_left=0, planar=False, data=None, out_h=None, out_w=None,
            transposed=None, chunk=None, staged=False):
    out_h = out_h or out_size(in_h, k_h, stride_h, dil_h, pad_top)
    out_w = out_w or out_size(in_w, k_w, stride_w, dil_w, pad_left)
    if out_h <= 0 or out_w <= 0:
        return None
    in_zp = int(rng.integers(-128, 128))
    out_zp = int(rng.integers(-128, 128))
    if data is None:
        w = rand_weights(rng, (1, k_h, k_w, channels), per_axis0=False)
        acc_std = math.sqrt(k_h * k_w) * 60 * np.abs(w).mean() + 1
        w2d = w.reshape(-1, channels).T
        bias = fold_bias(rng, w2d, in_zp, acc_std)
        mult, shift = rand_requant(rng, channels, acc_std)
        lo, hi = rand_act(rng, out_zp)
    else:
        w, bias, mult, shift, in_zp, out_zp, (lo, hi) = (data[k] for k in (
            "w", "bias", "mult", "shift", "in_zp", "out_zp", "act"))
    if planar and transposed is None:
        transposed = pack.depthwise_planar_transposed(out_h, out_w)
    try:
        if planar:
            pk = pack.pack_depthwise_planar(w, bias, mult, shift, out_zp, transposed=bool(transposed))
        else:
            pk = pack.pack_depthwise(w, bias, mult, shift, out_zp)
    except pack.PackError:
        return None
    x = rng.integers(-128, 128, batches * in_h * in_w * channels).astype(np.int8)
    n = f"d{tag}"
    decls = (c_array(f"{n}_in", "int8_t", x) + c_array(f"{n}_w", "int8_t", w)
             + c_array(f"{n}_b", "int32_t", bias) + c_array(f"{n}_m", "int32_t", mult)
             + c_array(f"{n}_s", "int32_t", shift))
    if planar:
        decls += c_array(f"{n}_pc", "int32_t", pk["records"])
    else:
        decls += (c_array(f"{n}_pw", "int32_t", pk["weights"]) + c_array(f"{n}_pb", "int32_t", pk["bias"])
                  + c_rq(f"{n}_rq", pk["rq"]))
    decls += _struct("tcc_depthwise_s8_params", f"{n}_pp", dict(
        batches=batches, in_h=in_h, in_w=in_w, in_c=channels, out_h=out_h, out_w=out_w, depth_mult=1,
        k_h=k_h, k_w=k_w, stride_h=stride_h, stride_w=stride_w, dil_h=dil_h, dil_w=dil_w, pad_top=pad_top,
        pad_left=pad_left, in_zp=in_zp, out_zp=out_zp, act_min=lo, act_max=hi, weights=f"{n}_w",
        bias=f"{n}_b", mult=f"{n}_m", shift=f"{n}_s"))
    scratch = 0
    inplace = ""
    if planar:
        geo = (in_h, pad_top, out_h) if transposed else (in_w, pad_left, out_w)
        row_len = pack.planar_row_len(*geo, stride_w)
        chunk = channels if chunk is None else min(chunk, channels)
        scratch = pack.depthwise_planar_scratch_bytes(geo[0], geo[1], chunk, geo[2], stride_w,
                                                      out_h * out_w if staged else 0)
        asm_lines = pack.depthwise_planar_asm_lines(pk["records"], lo, hi)
        decls += _struct("tcc_arm_depthwise3x3_s8_params", f"{n}_fp", dict(
            batches=batches, in_h=in_h, in_w=in_w, channels=channels, out_h=out_h, out_w=out_w,
            stride=stride_w, pad_top=pad_top, pad_left=pad_left, in_zp=in_zp, act_min=lo, act_max=hi,
            transposed=int(bool(transposed)), row_len=row_len, chunk=chunk, staged=int(staged),
            records=f"{n}_pc", asm_lines=int(asm_lines),
            block_n=pack.depthwise_planar_block(asm_lines, out_h if transposed else out_w)))
        fast = f"tcc_arm_depthwise3x3_s8(&{n}_fp, {n}_in, buf_b, scratch);"
        if pack.depthwise3x3_in_place(batches, in_h, in_w, out_h, out_w, stride_w, pad_top, pad_left,
                                      bool(transposed)):
            inplace = f"tcc_arm_depthwise3x3_s8(&{n}_fp, buf_b, buf_b, scratch);"
        if staged and batches == 1:   # the output one pixel further on (any multiple of the pixel size)
            inplace = (f"memmove(buf_b + {channels}, buf_b, {x.size}); "
                       f"tcc_arm_depthwise3x3_s8(&{n}_fp, buf_b + {channels}, buf_b, scratch);")
    else:
        decls += _struct("tcc_arm_depthwise_s8_params", f"{n}_fp", dict(
            batches=batches, in_h=in_h, in_w=in_w, channels=channels, out_h=out_h, out_w=out_w, k_h=k_h,
            k_w=k_w, stride_h=stride_h, stride_w=stride_w, dil_h=dil_h, dil_w=dil_w, pad_top=pad_top,
            pad_left=pad_left, in_zp=in_zp, act_min=lo, act_max=hi, weights=f"{n}_pw", bias=f"{n}_pb",
            rq=f"{n}_rq"))
        fast = f"tcc_arm_depthwise_s8(&{n}_fp, {n}_in, buf_b);"
    out_bytes = batches * out_h * out_w * channels
    if planar:
        rmin = None if chunk < channels else pack.reads_min_depthwise3x3(
            batches, in_h, in_w, channels, out_h, out_w, stride_w, pad_top, pad_left, bool(transposed))
    else:
        rmin = pack.reads_min_depthwise(batches, in_h, in_w, channels, out_h, out_w, k_h, k_w, stride_h,
                                        stride_w, pad_top, pad_left, dil_h, dil_w)
    return Case("dw3x3" if planar else "dw",
                f"{'dw3x3' if planar else 'dw'}{'T' if planar and transposed else ''} b{batches} "
                f"{in_h}x{in_w}x{channels} k{k_h}x{k_w} "
                f"s{stride_h}x{stride_w} d{dil_h}x{dil_w} p{pad_top},{pad_left}"
                f"{f' chunk {chunk}' if planar else ''}{' staged' if staged else ''}",
                decls, _plain_call("tcc_depthwise_s8", f"&{n}_pp, {n}_in, buf_a"), fast, out_bytes, scratch, x.size,
                inplace,
                out_bytes * k_h * k_w, reads_min=rmin)


def pool_case(rng, tag: str, *, batches=1, in_h, in_w, channels, f_h, f_w, stride_h, stride_w, pad_top=0,
              pad_left=0, out_h=None, out_w=None):
    out_h = out_h or max(1, (in_h + 2 * pad_top - f_h) // stride_h + 1)
    out_w = out_w or max(1, (in_w + 2 * pad_left - f_w) // stride_w + 1)
    lo, hi = rand_act(rng, int(rng.integers(-128, 128)))
    x = rng.integers(-128, 128, batches * in_h * in_w * channels).astype(np.int8)
    n = f"p{tag}"
    decls = c_array(f"{n}_in", "int8_t", x)
    decls += _struct("tcc_pool_params", f"{n}_pp", dict(
        batches=batches, in_h=in_h, in_w=in_w, channels=channels, out_h=out_h, out_w=out_w, f_h=f_h, f_w=f_w,
        stride_h=stride_h, stride_w=stride_w, pad_top=pad_top, pad_left=pad_left, act_min=lo, act_max=hi))
    out_bytes = batches * out_h * out_w * channels
    glob = out_h == out_w == 1 and pad_top == pad_left == 0
    inplace = f"tcc_arm_avg_pool_s8(&{n}_pp, buf_b, buf_b);" if glob and batches == 1 else ""
    return Case("avgpool", f"avgpool b{batches} {in_h}x{in_w}x{channels} f{f_h}x{f_w} s{stride_h}x{stride_w} "
                f"p{pad_top},{pad_left} -> {out_h}x{out_w}", decls,
                _plain_call("tcc_avg_pool_s8", f"&{n}_pp, {n}_in, buf_a"), f"tcc_arm_avg_pool_s8(&{n}_pp, {n}_in, buf_b);",
                out_bytes, 0, x.size, inplace, out_bytes * f_h * f_w,
                reads_min=pack.reads_min_avg_pool(batches, in_h, in_w, channels, out_h, out_w, f_h, f_w, stride_h,
                                                  stride_w, pad_top, pad_left))


def add_case(rng, tag: str, *, size, scales=None, zps=None, act=None, mults=None):
    """ADD of two same-shape tensors; ``mults`` = ((m1, s1), (m2, s2), (mo, so)) overrides the
    multipliers computed from ``scales``."""
    from tinycc import quant
    sa, sb, sy = scales if scales is not None else np.exp(rng.uniform(-6, -1, 3))
    za, zb, zy = zps if zps is not None else (int(v) for v in rng.integers(-128, 128, 3))
    twice_max = 2 * max(sa, sb)
    m1, s1 = quant.quantize_multiplier(sa / twice_max)
    m2, s2 = quant.quantize_multiplier(sb / twice_max)
    mo, so = quant.quantize_multiplier(twice_max / ((1 << 20) * sy))
    if mults is not None:
        (m1, s1), (m2, s2), (mo, so) = mults
    lo, hi = act if act is not None else rand_act(rng, zy)
    try:
        pk = pack.pack_add(-za, -zb, 20, m1, s1, m2, s2, mo, so, zy)
    except pack.PackError:
        return None
    a = rng.integers(-128, 128, size).astype(np.int8)
    b = rng.integers(-128, 128, size).astype(np.int8)
    n = f"a{tag}"
    decls = (c_array(f"{n}_in", "int8_t", a) + c_array(f"{n}_in2", "int8_t", b)
             + c_array(f"{n}_t", "int32_t", pk["table"]))
    decls += (f"static const tcc_add_s8_params {n}_pp = {{.shape = {{.dims = {{1,1,1,1,1,{size}}}, "
              f".a_strides = {{0,0,0,0,0,1}}, .b_strides = {{0,0,0,0,0,1}}}}, .in1_offset = {-za}, "
              f".in2_offset = {-zb}, .left_shift = 20, .in1_mult = {m1}, .in1_shift = {s1}, "
              f".in2_mult = {m2}, .in2_shift = {s2}, .out_mult = {mo}, .out_shift = {so}, "
              f".out_zp = {zy}, .act_min = {lo}, .act_max = {hi}}};\n")
    rq = pk["rq"]
    decls += (f"static const tcc_arm_add_s8_params {n}_fp = {{.size = {size}, .act_min = {lo}, "
              f".act_max = {hi}, .table = {n}_t, .rq = {{{rq[0]}, {rq[1]}, {rq[2]}}}}};\n")
    return Case("add", f"add n{size}", decls, _plain_call("tcc_add_s8", f"&{n}_pp, {n}_in, {n}_in2, buf_a"),
                f"tcc_arm_add_s8(&{n}_fp, {n}_in, {n}_in2, buf_b);", size, 0, size,
                f"tcc_arm_add_s8(&{n}_fp, buf_b, {n}_in2, buf_b);", reads_min=pack.reads_min_add(size))


# ---------------------------------------------------------------------------
# Program
# ---------------------------------------------------------------------------

PROGRAM_HEAD = """\
#include <stdint.h>
#include <string.h>
#include "board.h"
#include "tcc_conv.h"
#include "tcc_depthwise.h"
#include "tcc_fully_connected.h"
#include "tcc_pool.h"
#include "tcc_add.h"
#include "tcc_arm.h"

#define CANARY %(canary)d
static int8_t buf_a[%(out)d];
static int8_t buf_b[%(out)d + CANARY + 256];   /* + room for inputs moved by a pixel */
static __attribute__((unused)) int8_t plain_scratch[%(out)d];
static uint64_t scratch_words[(%(scratch)d + CANARY + 7) / 8];
static void *const scratch = scratch_words;

static void put_num(const char *label, long v)
{
    char buf[24];
    int i = 23;
    int neg = v < 0;
    unsigned long u = neg ? (unsigned long)(-v) : (unsigned long)v;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + u %% 10u); u /= 10u; } while (u && i > 1);
    if (neg) buf[--i] = '-';
    board_print(label);
    board_print(buf + i);
}

/* Returns the number of differing bytes, or -1 if a canary was overwritten. */
static long check(long n, long scratch_n)
{
    long bad = 0;
    for (long i = 0; i < n; ++i) bad += buf_a[i] != buf_b[i];
    for (long i = 0; i < CANARY; ++i) {
        if ((uint8_t)buf_b[n + i] != 0xA5u) return -1;
        if (((uint8_t *)scratch)[scratch_n + i] != 0x5Au) return -2;
    }
    return bad;
}

static __attribute__((unused)) long diff(long n)
{
    long bad = 0;
    for (long i = 0; i < n; ++i) bad += buf_a[i] != buf_b[i];
    return bad;
}

static void arm(long n, long scratch_n)
{
    memset(buf_b, 0x33, (size_t)n);
    memset(buf_b + n, 0xA5, CANARY);
    memset((uint8_t *)scratch + scratch_n, 0x5A, CANARY);
}
"""


def overlap_layout(c: Case):
    """(input offset, output offset) in the overlap arena: the output at the largest offset
    relative to the input that reads_min allows; None when the kernel shares no memory."""
    d = pack.overlap_shift(c.reads_min, c.in_bytes)
    if d is None:
        return None
    ia = max(0, -d)
    return ia, ia + d


def program(cases: list[Case], overlap: bool = True) -> str:
    out = max(max(c.out_bytes, c.in_bytes) for c in cases)
    scr = max(c.scratch_bytes for c in cases)
    ov = [overlap_layout(c) if overlap else None for c in cases]
    ov_size = max([8] + [max(ia + c.in_bytes, oa + c.out_bytes) for c, l in zip(cases, ov) if l
                         for ia, oa in [l]])
    parts = [PROGRAM_HEAD % dict(canary=CANARY, out=out, scratch=max(scr, 8))]
    parts.append(f"static int8_t ov_arena[{ov_size}];\n")
    for i, c in enumerate(cases):
        parts.append(c.decls)
        body = [f"static long run{i}(void)", "{", "    long bad;",
                f"    {c.plain_call}", f"    arm({c.out_bytes}, {c.scratch_bytes});", f"    {c.fast_call}",
                f"    bad = check({c.out_bytes}, {c.scratch_bytes});", "    if (bad) return bad;"]
        if c.inplace_call:
            src = re.search(r"\((&\w+), (\w+)", c.fast_call).group(2)
            body += [f"    memcpy(buf_b, {src}, {c.in_bytes});", f"    {c.inplace_call}",
                     f"    bad = diff({c.out_bytes});",
                     "    if (bad) return 1000000 + bad;",
                     ]
        if ov[i] is not None:
            ia, oa = ov[i]
            src = re.search(r"\((&\w+), (\w+)", c.fast_call).group(2)
            call = c.fast_call.replace(f"{src}, ", "ov_arena + %d, " % ia, 1).replace("buf_b", f"ov_arena + {oa}")
            body += [f"    memcpy(ov_arena + {ia}, {src}, {c.in_bytes});", f"    {call}",
                     f"    for (long i = 0; i < {c.out_bytes}; ++i) bad += ov_arena[{oa} + i] != buf_a[i];",
                     "    if (bad) return 2000000 + bad;"]
        body += ["    return bad;", "}"]
        parts.append("\n".join(body) + "\n")
    parts.append("int main(void)\n{\n    long fails = 0;\n    board_init();\n")
    for i in range(len(cases)):
        parts.append(f"    {{ long r = run{i}(); if (r) {{ ++fails; put_num(\"FAIL \", {i}); "
                     f"put_num(\" \", r); board_print(\"\\n\"); }} }}\n")
    parts.append(f"    put_num(\"DONE \", {len(cases)}); put_num(\" \", fails); board_print(\"\\n\");\n"
                 "    return fails ? 1 : 0;\n}\n")
    return "".join(parts)


def build_and_run(cases: list[Case], work: Path, mode: str) -> tuple[int, str]:
    src = work / "dsp_test.c"
    src.write_text(program(cases))
    sources = [src, *PLAIN_SOURCES, *ARM_SOURCES]
    incs = [KERNELS, ARM_KERNELS]
    if mode == "qemu":
        elf = toolchain.build_arm(sources, incs, work / "dsp_test.elf", target="cortex-m4")
        return toolchain.run_qemu(elf, work, timeout=120)
    exe = toolchain.build_host([*sources, toolchain.HOST_BOARD_SOURCE], incs, work / "dsp_test",
                               cflags=["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-O1"])
    return toolchain.run_host(exe, work, timeout=120)


# ---------------------------------------------------------------------------
# Case sets
# ---------------------------------------------------------------------------

def random_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    t = iter(range(10**6))

    def want(n: int, make):
        """n cases from make() (geometries without output or refused constants are redrawn)."""
        for _ in range(20 * n):
            if n == 0:
                return
            c = make()
            if c is not None:
                cases.append(c)
                n -= 1
        raise AssertionError("could not generate enough cases")

    def ri(lo, hi):
        return int(rng.integers(lo, hi))

    # pointwise 1x1 (the fast path: in_c % 4 == 0), output channels 1..70
    want(18, lambda: conv_case(rng, str(next(t)), batches=ri(1, 3), in_h=ri(1, 7), in_w=ri(1, 8),
                               in_c=int(rng.choice([4, 8, 12, 16, 20, 32, 36, 64])), out_c=ri(1, 71),
                               k_h=1, k_w=1))

    # pointwise on 8 / 16 channels, no clamp, out_c % 4 == 0: the per-channel records (pw8/16_run), odd and
    # even pixel counts, a constant (all-zero) channel; and the same weights at stride 2 (records unused)
    def pw8(stride=1, in_c=8, one_pixel=False):
        out_c = int(rng.choice([4, 8, 16, 24]))
        w = rand_weights(rng, (out_c, 1, 1, in_c))
        w[int(rng.integers(0, out_c))] = 0
        in_zp, out_zp = int(rng.integers(-128, 128)), int(rng.integers(-128, 128))
        acc_std = math.sqrt(in_c) * 60 * np.abs(w).mean() + 1
        bias = fold_bias(rng, w.reshape(out_c, -1), in_zp, acc_std)
        mult, shift = rand_requant(rng, out_c, acc_std, special=False)
        shift = np.minimum(shift, -1)
        data = dict(w=w, bias=bias, mult=mult, shift=shift, in_zp=in_zp, out_zp=out_zp, act=(-128, 127))
        b, h, w_ = (1, 1, 1) if one_pixel else (ri(1, 3), ri(1, 6), ri(1, 7))
        c = conv_case(rng, str(next(t)), batches=b, in_h=h, in_w=w_, in_c=in_c, out_c=out_c,
                      k_h=1, k_w=1, stride_h=stride, stride_w=stride, data=data)
        assert c is None or stride != 1 or f"tcc_arm_conv_s8_pw{in_c}(" in c.fast_call, "records refused"
        return c
    want(6, pw8)
    want(1, lambda: pw8(2))
    want(6, lambda: pw8(1, 16))
    want(1, lambda: pw8(2, 16))
    want(1, lambda: pw8(1, 8, one_pixel=True))      # no pixel pair at all
    want(1, lambda: pw8(1, 16, one_pixel=True))
    # general convolutions: any in_c, kernels, strides, dilations, paddings
    def conv():
        k_h, k_w = ri(1, 6), ri(1, 6)
        return conv_case(rng, str(next(t)), batches=ri(1, 3), in_h=ri(1, 10), in_w=ri(1, 10), in_c=ri(1, 41),
                         out_c=ri(1, 41), k_h=k_h, k_w=k_w, stride_h=ri(1, 4), stride_w=ri(1, 4),
                         dil_h=int(rng.choice([1, 1, 2])), dil_w=int(rng.choice([1, 1, 2])),
                         pad_top=ri(0, k_h), pad_left=ri(0, k_w))
    want(30, conv)
    # model-like first layers: vww 3x3x3 s2, kws 10x4x1 s2, ic 3x3x3 s1, ic 3x3x16 s2
    want(1, lambda: conv_case(rng, str(next(t)), in_h=13, in_w=11, in_c=3, out_c=8, k_h=3, k_w=3,
                              stride_h=2, stride_w=2))
    want(1, lambda: conv_case(rng, str(next(t)), in_h=12, in_w=10, in_c=1, out_c=16, k_h=10, k_w=4,
                              stride_h=2, stride_w=2, pad_top=4, pad_left=1))
    want(1, lambda: conv_case(rng, str(next(t)), in_h=6, in_w=6, in_c=3, out_c=16, k_h=3, k_w=3, pad_top=1,
                              pad_left=1))
    want(1, lambda: conv_case(rng, str(next(t)), in_h=6, in_w=6, in_c=16, out_c=32, k_h=3, k_w=3,
                              stride_h=2, stride_w=2))
    # fully connected
    want(14, lambda: fc_case(rng, str(next(t)), batches=ri(1, 4), in_depth=ri(1, 300), out_depth=ri(1, 71)))

    # depthwise, general
    def dw():
        k_h, k_w = ri(1, 6), ri(1, 6)
        return dw_case(rng, str(next(t)), batches=ri(1, 3), in_h=ri(1, 10), in_w=ri(1, 10), channels=ri(1, 71),
                       k_h=k_h, k_w=k_w, stride_h=ri(1, 4), stride_w=ri(1, 4), dil_h=int(rng.choice([1, 1, 2])),
                       dil_w=int(rng.choice([1, 1, 2])), pad_top=ri(0, k_h), pad_left=ri(0, k_w))
    want(14, dw)

    # depthwise 3x3 planar, stride 1 and 2, rows and columns as lines
    def dw3():
        s = int(rng.choice([1, 2]))
        return dw_case(rng, str(next(t)), batches=ri(1, 3), in_h=ri(1, 16), in_w=ri(1, 16), channels=ri(1, 71),
                       stride_h=s, stride_w=s, pad_top=ri(0, 3), pad_left=ri(0, 3), planar=True,
                       transposed=bool(rng.random() < 0.4),
                       chunk=int(rng.choice([1, 2, 3, 4, 5, 8, 12, 100])), staged=bool(rng.random() < 0.3))
    want(26, dw3)

    # the same without a clamp and with every shift > 0 (one constant channel): the asm lines
    # (dw_s1_asm), widths 1..11 for every short end
    def dw3_asm(stride=None, transposed=None, pad_top=None, pad_left=None, in_h=None, in_w=None):
        ch = ri(1, 40)
        w = rand_weights(rng, (1, 3, 3, ch), per_axis0=False)
        w[..., int(rng.integers(0, ch))] = 0
        in_zp, out_zp = int(rng.integers(-128, 128)), int(rng.integers(-128, 128))
        acc_std = 3 * 60 * np.abs(w).mean() + 1
        bias = fold_bias(rng, w.reshape(-1, ch).T, in_zp, acc_std)
        mult, shift = rand_requant(rng, ch, acc_std, special=False)
        data = dict(w=w, bias=bias, mult=mult, shift=np.minimum(shift, -1), in_zp=in_zp, out_zp=out_zp,
                    act=(-128, 127))
        s = int(rng.choice([1, 2])) if stride is None else stride
        return dw_case(rng, str(next(t)), batches=ri(1, 3), in_h=in_h or ri(1, 12), in_w=in_w or ri(1, 12),
                       channels=ch, stride_h=s, stride_w=s,
                       pad_top=ri(0, 3) if pad_top is None else pad_top,
                       pad_left=ri(0, 3) if pad_left is None else pad_left, planar=True,
                       transposed=bool(rng.random() < 0.4) if transposed is None else transposed, data=data,
                       chunk=int(rng.choice([1, 2, 3, 4, 8, 100])), staged=bool(rng.random() < 0.3))
    want(12, dw3_asm)
    # lines of 3 or 6k outputs (dw_x3*, dw_x6*): rows, or columns when transposed, of 3, 6, 12
    # or 18 outputs, input sizes with either parity for stride 2
    x6_shapes = itertools.cycle([(n, s) for n in (3, 6, 12, 18) for s in (1, 2)])

    def dw3_x6():
        (n6, s), other = next(x6_shapes), ri(1, 10)
        tr = bool(rng.random() < 0.3)
        out_h, out_w = (n6, other) if tr else (other, n6)
        pad_top, pad_left = ri(0, 2), ri(0, 2)
        return dw3_asm(stride=s, transposed=tr, pad_top=pad_top, pad_left=pad_left,
                       in_h=s * (out_h - 1) + 3 - 2 * pad_top + (s - 1) * ri(0, 2),
                       in_w=s * (out_w - 1) + 3 - 2 * pad_left + (s - 1) * ri(0, 2))
    want(24, dw3_x6)
    # the shared models' depthwise shapes (SAME padding), in place, with chunks
    for (h, w, ch, s) in [(6, 6, 16, 1), (8, 8, 12, 2), (25, 5, 8, 1), (3, 3, 20, 1), (7, 7, 6, 2)]:
        want(1, lambda: dw_case(rng, str(next(t)), in_h=h, in_w=w, channels=ch, stride_h=s, stride_w=s,
                                pad_top=1 if s == 1 else 0, pad_left=1 if s == 1 else 0,
                                out_h=(h + s - 1) // s, out_w=(w + s - 1) // s, planar=True,
                                transposed=h > w, chunk=int(rng.choice([1, 4, ch]))))

    # average pool: small windows, global pools, a window of more than 255 taps
    def pool():
        f_h, f_w = ri(1, 5), ri(1, 5)
        return pool_case(rng, str(next(t)), batches=ri(1, 3), in_h=ri(1, 9), in_w=ri(1, 9), channels=ri(1, 71),
                         f_h=f_h, f_w=f_w, stride_h=ri(1, 3), stride_w=ri(1, 3), pad_top=ri(0, f_h),
                         pad_left=ri(0, f_w))
    want(8, pool)
    want(1, lambda: pool_case(rng, str(next(t)), in_h=25, in_w=5, channels=64, f_h=25, f_w=5, stride_h=25,
                              stride_w=5))
    want(1, lambda: pool_case(rng, str(next(t)), in_h=20, in_w=20, channels=7, f_h=20, f_w=20, stride_h=20,
                              stride_w=20))
    # add
    want(8, lambda: add_case(rng, str(next(t)), size=ri(1, 400)))
    return cases


def requant_cases(seed: int) -> list[Case]:
    """Pointwise and FC layers with every shift from -22 to +7 and extreme biases."""
    rng = np.random.default_rng(seed)
    cases = []
    for sh in range(-22, 8):
        in_c, out_c = 16, 6
        w = rand_weights(rng, (out_c, 1, 1, in_c))
        in_zp, out_zp = int(rng.integers(-128, 128)), int(rng.integers(-128, 128))
        lim = (2**31 - 1) // 2 ** (max(sh, 0) + 1) - 128 * 16 * 127
        bias = rng.integers(-min(lim, 2**24 >> max(sh, 0)), min(lim, 2**24 >> max(sh, 0)), out_c)
        mult = rng.integers(2**30, 2**31, out_c)
        mult[0] = 2**30
        shift = np.full(out_c, sh)
        data = dict(w=w, bias=bias, mult=mult, shift=shift, in_zp=in_zp, out_zp=out_zp, act=(-128, 127))
        c = conv_case(rng, f"rq{sh + 22}", in_h=3, in_w=5, in_c=in_c, out_c=out_c, k_h=1, k_w=1, data=data)
        assert c is not None, f"shift {sh} refused"
        cases.append(c)
    return cases


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

needs_arm = pytest.mark.skipif(not toolchain.have_qemu(), reason="arm-none-eabi-gcc / qemu-system-arm missing")
needs_host = pytest.mark.skipif(not toolchain.have_tools(toolchain.HOST_CC), reason="no host C compiler")


def _check(rc: int, log: str, cases: list[Case]):
    m = re.search(r"DONE (\d+) (\d+)", log)
    fails = [(int(i), int(r)) for i, r in re.findall(r"FAIL (\d+) (-?\d+)", log)]
    def why(r):
        if r < 0:
            return "canary overwritten"
        if r >= 2000000:
            return f"{r - 2000000} bytes differ with the output overlapping the input (reads_min)"
        if r >= 1000000:
            return f"{r - 1000000} bytes differ in place"
        return f"{r} bytes differ"
    msg = "\n".join(f"  {cases[i].desc}: {why(r)}" for i, r in fails)
    assert m is not None, f"test program did not finish (exit {rc}):\n{log[-3000:]}"
    assert int(m.group(1)) == len(cases)
    assert not fails and rc == 0, f"{len(fails)} of {len(cases)} cases differ:\n{msg}"


def test_pack_requant_formula():
    """The kernels' requantization (numpy model) equals TFLite's on ties and random values."""
    rng = np.random.default_rng(7)
    for m in [2**30, 2**30 + 1, 2**31 - 1, *rng.integers(2**30, 2**31, 6)]:
        for sh in range(-22, 8):
            bound = (2**31 - 1) // 2 ** (max(sh, 0) + 1)
            acc = np.concatenate([np.arange(-1500, 1500), rng.integers(-bound, bound + 1, 3000)])
            for zp in (-128, 0, 99):
                rq, sl, _ = pack.pack_requant([m], [sh], zp, [bound])
                ref = pack.requant_ref(acc, m, sh, zp)
                fast = pack.requant_fast(acc.astype(np.int64) << int(sl[0]), rq[0])
                assert np.array_equal(ref, fast), (m, sh, zp)


def test_pack_refuses_unsafe_constants():
    w = np.full((1, 1, 1, 64), 127, np.int8)
    with pytest.raises(pack.PackError):
        pack.pack_conv(w, [2**30], [2**30], [0], 0)            # accumulator may overflow
    with pytest.raises(pack.PackError):
        pack.pack_conv(w, [0], [2**30], [9], 0)                # left shift > 7
    out = pack.pack_conv(w, [2**30 + 5], [0], [0], 3)           # multiplier 0: constant output
    assert out["rq"].tolist() == [[0, 3, 0]] and out["bias"].tolist() == [0]


@needs_arm
def test_dsp_kernels_qemu(tmp_path):
    cases = random_cases(1234) + requant_cases(99)
    assert len(cases) >= 150
    rc, log = build_and_run(cases, tmp_path, "qemu")
    _check(rc, log, cases)


@needs_host
def test_dsp_kernels_host_sanitized(tmp_path):
    # half of a set (the build of the generated source under the sanitizers is what takes time)
    cases = (random_cases(4321) + requant_cases(98))[::2]
    rc, log = build_and_run(cases, tmp_path, "host")
    _check(rc, log, cases)


@needs_arm
@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"])
def test_dsp_kernels_compile_clean(tmp_path, cpu):
    """-Wall -Wextra -Werror plus -Wshadow -Wconversion -Wsign-conversion, for every DSP core."""
    for src in ARM_SOURCES:
        cmd = [toolchain.ARM_CC, *toolchain.cpu_flags(cpu), "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror",
               "-Wshadow", "-Wconversion", "-Wsign-conversion", f"-I{KERNELS}", f"-I{ARM_KERNELS}",
               "-c", str(src), "-o", str(tmp_path / (src.stem + ".o"))]
        toolchain._run_tool(cmd, f"compiling {src.name} for {cpu}")
