"""Estimated Cortex-M4 cycles of tcc_arm_conv8_s8 (runtime/kernels/arm/tcc_arm_conv8.c) on the
shapes of the shared models' CONV_2D layers, per layer and per function (the block kernel
``c8_pairs`` and the driver with its im2col), with random constants: one QEMU run per layer with
its block log costed by tinycc/cycles.py (zero wait states). Each layer is also checked byte for
byte against the plain kernel.

    python bench/bench_conv8.py              # every layer below
    python bench/bench_conv8.py kws          # the layers whose name starts with kws
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests import test_conv8 as t8  # noqa: E402
from tests.test_dsp_kernels import ARM_KERNELS, KERNELS, PLAIN_SOURCES, program  # noqa: E402
from tinycc import cycles as cycle_model  # noqa: E402
from tinycc import toolchain  # noqa: E402

LAYERS = {
    "kws conv 10x4 s2 on 1": dict(in_h=49, in_w=10, in_c=1, out_c=64, k_h=10, k_w=4, stride_h=2, stride_w=2,
                                  pad_top=4, pad_left=1),
    "kws pointwise 64->64": dict(in_h=25, in_w=5, in_c=64, out_c=64, k_h=1, k_w=1),
    "vww conv 3x3 s2 on 3": dict(in_h=96, in_w=96, in_c=3, out_c=8, k_h=3, k_w=3, stride_h=2, stride_w=2),
    "vww pointwise 8->16": dict(in_h=48, in_w=48, in_c=8, out_c=16, k_h=1, k_w=1),
    "vww pointwise 32->32": dict(in_h=24, in_w=24, in_c=32, out_c=32, k_h=1, k_w=1),
    "vww pointwise 128->128": dict(in_h=6, in_w=6, in_c=128, out_c=128, k_h=1, k_w=1),
    "vww pointwise 256->256": dict(in_h=3, in_w=3, in_c=256, out_c=256, k_h=1, k_w=1),
    "ic conv 3x3 on 3": dict(in_h=32, in_w=32, in_c=3, out_c=16, k_h=3, k_w=3, pad_top=1, pad_left=1),
    "ic conv 3x3 16->16": dict(in_h=32, in_w=32, in_c=16, out_c=16, k_h=3, k_w=3, pad_top=1, pad_left=1),
    "ic conv 3x3 s2 16->32": dict(in_h=32, in_w=32, in_c=16, out_c=32, k_h=3, k_w=3, stride_h=2, stride_w=2),
    "ic conv 3x3 32->32": dict(in_h=16, in_w=16, in_c=32, out_c=32, k_h=3, k_w=3, pad_top=1, pad_left=1),
    "ic conv 3x3 64->64": dict(in_h=8, in_w=8, in_c=64, out_c=64, k_h=3, k_w=3, pad_top=1, pad_left=1),
    "ic conv 1x1 s2 16->32": dict(in_h=32, in_w=32, in_c=16, out_c=32, k_h=1, k_w=1, stride_h=2, stride_w=2),
    "ic conv 1x1 s2 32->64": dict(in_h=16, in_w=16, in_c=32, out_c=64, k_h=1, k_w=1, stride_h=2, stride_w=2),
}


def measure(name: str, geo: dict, work: Path) -> tuple[int, int, dict]:
    """(MACs, cycles of the kernel call, cycles per function)."""
    case = t8.conv8_case(np.random.default_rng(1), "b", **geo)
    src = work / "bench.c"
    text = program([case], overlap=False).replace(f"    {case.fast_call}", "    conv8_call();", 1)
    text = text.replace("static int8_t ov_arena", "static __attribute__((unused)) int8_t ov_arena", 1)
    wrapper = (f"__attribute__((noinline)) void conv8_call(void);\n")
    text = text.replace("static long run0(void)", wrapper + "static long run0(void)", 1)
    text += "\n__attribute__((noinline)) void conv8_call(void) { " + case.fast_call + " }\n"
    src.write_text(text)
    elf = toolchain.build_arm([src, *PLAIN_SOURCES, *sorted(ARM_KERNELS.glob("tcc_arm_*.c"))],
                              [KERNELS, ARM_KERNELS], work / "b.elf", target="cortex-m4")
    rc, out = toolchain.run_qemu(elf, work, "cortex-m4", 600, log=work / "b.log")
    assert rc == 0 and "DONE 1 0" in out, out
    insns, syms = cycle_model.disassemble(elf, toolchain.find_tool("arm-none-eabi-objdump"))
    addr = {s: a for a, s in syms}
    prof = cycle_model.profile_log(work / "b.log", insns, syms, cycle_model.core("cortex-m4"), addr["conv8_call"],
                                   cycle_model.call_return_sites(insns, addr["conv8_call"]))
    return case.macs, prof.total_cycles, {k: v[1] for k, v in prof.per_symbol.items()}


def main() -> None:
    want = sys.argv[1:]
    for name, geo in LAYERS.items():
        if want and not any(name.startswith(w) for w in want):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            macs, cyc, per = measure(name, geo, Path(tmp))
        funcs = ", ".join(f"{k} {v / macs:.3f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1]) if v)
        print(f"{name:26s} {macs:>10,} MACs {cyc:>11,} cycles {cyc / macs:5.2f} /MAC  ({funcs})", flush=True)


if __name__ == "__main__":
    main()
