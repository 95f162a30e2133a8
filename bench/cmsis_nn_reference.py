"""Estimated Cortex-M4 cycles of CMSIS-NN's kernels against tinycc's, layer by layer.

    python bench/cmsis_nn_reference.py CMSIS_NN_DIR [LAYER ...] [--json OUT.json] [--no-tinycc]

CMSIS_NN_DIR is a CMSIS-NN tree (``Include/`` and ``Source/``, or any folders holding its headers
and .c files): it is never part of tinycc and is not shipped with it (Apache-2.0 code from
ARM-software/CMSIS-NN; get it yourself). For each layer (``LAYERS``: realistic sizes of the
sequence and 16x8 layers of issue 15, and kws_ref_model's int8 pointwise convolution as a sanity
check of the reference against tinycc's int8 kernels) a small C harness calls the CMSIS-NN kernels that TFLite Micro's CMSIS-NN kernels call for
that op (``arm_lstm_unidirectional_s8``, ``arm_svdf_state_s16_s8``, ``arm_convolve_s16``, ...),
once, from ``ref_run``; it is built with arm-none-eabi-gcc -O2 -mcpu=cortex-m4 (tinycc's
``build_arm`` flags), run in QEMU (mps2-an386) and costed with ``tinycc/cycles.py`` from the entry
of ``ref_run`` to its return. TFLite Micro's interpreter and kernel glue (Prepare, the per-invoke
parameter set-up, tensor look-ups) are not counted, so the figure is a LOWER bound on TFLM with
CMSIS-NN: a tinycc layer under half of it is under half of TFLM's.

Unless ``--no-tinycc``, the same layer is built as a single-op model (tinycc's test-model
writers) and benched with ``tinycc bench`` (``--target cortex-m4``); the table gives both, their
ratio, tinycc's RAM (arena + state + stack of NAME_invoke) and TFLite Micro's arena for that model
(its Python interpreter's allocation record; reference kernels, so no CMSIS-NN scratch in it).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinycc import toolchain  # noqa: E402
from tinycc.bench import estimate  # noqa: E402

TARGET = "cortex-m4"


@dataclass(frozen=True)
class Layer:
    kind: str                                 # lstm | svdf | conv | dw | fc
    dtype: str                                # activations: int8 | int16
    dims: dict = field(default_factory=dict)

    def get(self, k: str) -> int:
        return int(self.dims[k])


LAYERS: dict[str, Layer] = {
    # 25 time steps of 32 features, 32 cells, batch 1 (batch-major, as Keras converts)
    "lstm_s8": Layer("lstm", "int8", dict(time=25, batches=1, n_input=32, n_cell=32)),
    "lstm_s16": Layer("lstm", "int16", dict(time=25, batches=1, n_input=32, n_cell=32)),
    # a keyword-model SVDF: 40 features a frame, 64 filters of rank 1, 10 frames of memory, int16 state
    "svdf_s8": Layer("svdf", "int8", dict(batches=1, input_size=40, filters=64, rank=1, memory=10)),
    # 16x8: 3x3 convolution 16 -> 16 channels on 25x5 (SAME), the depthwise one, a 256 -> 64 FC
    "conv_s16": Layer("conv", "int16", dict(h=25, w=5, cin=16, cout=16, k=3)),
    "dw_s16": Layer("dw", "int16", dict(h=25, w=5, cin=16, cout=16, k=3)),
    "fc_s16": Layer("fc", "int16", dict(batches=1, n_in=256, n_out=64)),
    # sanity check: kws_ref_model's pointwise convolution, int8 1x1 64 -> 64 on 25x5
    # (arm_convolve_1x1_s8_fast), against tinycc's int8 kernels (issue 4 and 14)
    "kws_pw_s8": Layer("pw8", "int8", dict(h=25, w=5, cin=64, cout=64)),
}

# -- the C harness -------------------------------------------------------------------------------

_PROLOGUE = """\
#include <stdint.h>
#include <string.h>
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"

static uint32_t seed = 12345u;
static void fill8(int8_t *p, int n) { for (int i = 0; i < n; ++i) { seed = seed * 1664525u + 1013904223u; p[i] = (int8_t)(seed >> 24); } }
static void fill16(int16_t *p, int n, int lim) { for (int i = 0; i < n; ++i) { seed = seed * 1664525u + 1013904223u; p[i] = (int16_t)((int32_t)(seed >> 16) % lim); } }
static void fill32(int32_t *p, int n, int lim) { for (int i = 0; i < n; ++i) { seed = seed * 1664525u + 1013904223u; p[i] = (int32_t)(seed >> 8) % lim; } }
static void fill64(int64_t *p, int n, int lim) { for (int i = 0; i < n; ++i) { seed = seed * 1664525u + 1013904223u; p[i] = (int32_t)(seed >> 8) % lim; } }
volatile int32_t ref_status;
"""

_EPILOGUE = """
int main(void)
{
    ref_setup();
    ref_run();
    return ref_status == 0 ? 0 : 1;
}
"""


def _lstm_c(l: Layer) -> str:
    s8 = l.dtype == "int8"
    x, b, wt = ("int8_t", "int32_t", "fill32") if s8 else ("int16_t", "int64_t", "fill64")
    fill_x = "fill8(input, T * B * I)" if s8 else "fill16(input, T * B * I, 8192)"
    gate = ("static const cmsis_nn_lstm_gate gate_{g} = {{1 << 30, -10, w_in[{n}], bias_in[{n}], 1 << 30, -10, "
            "w_rec[{n}], bias_rec[{n}], NULL, {act}}};")
    gates = "\n".join(gate.format(g=g, n=n, act="ARM_TANH" if g == "cell" else "ARM_SIGMOID")
                      for n, g in enumerate(("forget", "input", "cell", "output")))
    return textwrap.dedent(f"""\
        enum {{ T = {l.get('time')}, B = {l.get('batches')}, I = {l.get('n_input')}, H = {l.get('n_cell')} }};
        static int8_t w_in[4][H * I], w_rec[4][H * H];
        static {b} bias_in[4][H], bias_rec[4][H];
        static {x} input[T * B * I], output[T * B * H], hidden[B * H];
        static int16_t cell[B * H], temp1[B * H], temp2[B * H];
        """) + gates + textwrap.dedent(f"""
        static void ref_setup(void)
        {{
            for (int g = 0; g < 4; ++g) {{
                fill8(w_in[g], H * I); fill8(w_rec[g], H * H);
                {wt}(bias_in[g], H, 1 << 12); {wt}(bias_rec[g], H, 1 << 12);
            }}
            {fill_x};
            fill16(cell, B * H, 8192);
        }}

        __attribute__((noinline)) void ref_run(void)
        {{
            const cmsis_nn_lstm_params params = {{0, B, T, I, H, 0, 1 << 30, -15, 1 << 30, -15, 0, -11,
                                                  1 << 30, -12, 0, gate_forget, gate_input, gate_cell, gate_output}};
            cmsis_nn_lstm_context ctx = {{temp1, temp2, cell, hidden}};
            ref_status = arm_lstm_unidirectional_{'s8' if s8 else 's16'}(input, output, &params, &ctx);
        }}
        """)


def _svdf_c(l: Layer) -> str:
    return textwrap.dedent(f"""\
        enum {{ B = {l.get('batches')}, I = {l.get('input_size')}, F = {l.get('filters')}, R = {l.get('rank')},
               M = {l.get('memory')}, U = F / R }};
        static int8_t input[B * I], w_feature[F * I], output[B * U];
        static int16_t w_time[F * M], state[B * F * M];
        static int32_t bias[U], buf_a[B * F], buf_b[B * U];

        static void ref_setup(void)
        {{
            fill8(input, B * I); fill8(w_feature, F * I);
            fill16(w_time, F * M, 32767); fill16(state, B * F * M, 8192); fill32(bias, U, 1 << 14);
        }}

        __attribute__((noinline)) void ref_run(void)
        {{
            const cmsis_nn_context in_ctx = {{buf_a, sizeof buf_a}}, out_ctx = {{buf_b, sizeof buf_b}};
            const cmsis_nn_svdf_params sp = {{R, 3, -2, {{-32768, 32767}}, {{-128, 127}}}};
            const cmsis_nn_per_tensor_quant_params qin = {{1 << 30, -4}}, qout = {{1 << 30, -10}};
            const cmsis_nn_dims in_d = {{B, I, 1, 1}}, st_d = {{B, F * M, 1, 1}}, wf_d = {{F, I, 1, 1}},
                                wt_d = {{F, M, 1, 1}}, b_d = {{U, 1, 1, 1}}, out_d = {{B, U, 1, 1}};
            ref_status = arm_svdf_state_s16_s8(&in_ctx, &out_ctx, &sp, &qin, &qout, &in_d, input, &st_d, state, &wf_d,
                                               w_feature, &wt_d, w_time, &b_d, bias, &out_d, output);
        }}
        """)


def _conv_c(l: Layer) -> str:
    dw = l.kind == "dw"
    call = ("arm_depthwise_conv_fast_s16(&ctx, &dp, &qp, &in_d, input, &f_d, weights, &b_d, bias, &out_d, output)"
            if dw else "arm_convolve_s16(&ctx, &cp, &qp, &in_d, input, &f_d, weights, &b_d, &bd, &out_d, output)")
    return textwrap.dedent(f"""\
        enum {{ H = {l.get('h')}, W = {l.get('w')}, CI = {l.get('cin')}, CO = {l.get('cout')}, K = {l.get('k')} }};
        static int16_t input[H * W * CI], output[H * W * CO], scratch[{'K * K * CI' if dw else '2 * K * K * CI'}];
        static int8_t weights[{'K * K * CO' if dw else 'CO * K * K * CI'}];
        static int64_t bias[CO];
        static int32_t mult[CO], shift[CO];

        static void ref_setup(void)
        {{
            fill16(input, H * W * CI, 8192); fill8(weights, (int)sizeof weights); fill64(bias, CO, 1 << 16);
            for (int c = 0; c < CO; ++c) {{ mult[c] = (1 << 30) + c * 4099; shift[c] = -6; }}
        }}

        __attribute__((noinline)) void ref_run(void)
        {{
            const cmsis_nn_context ctx = {{scratch, sizeof scratch}};
            const cmsis_nn_conv_params cp = {{0, 0, {{1, 1}}, {{K / 2, K / 2}}, {{1, 1}}, {{-32768, 32767}}}};
            const cmsis_nn_dw_conv_params dp = {{0, 0, 1, {{1, 1}}, {{K / 2, K / 2}}, {{1, 1}}, {{-32768, 32767}}}};
            const cmsis_nn_per_channel_quant_params qp = {{mult, shift}};
            const cmsis_nn_bias_data bd = {{bias, false}};
            const cmsis_nn_dims in_d = {{1, H, W, CI}}, f_d = {{{'1' if dw else 'CO'}, K, K, {'CO' if dw else 'CI'}}},
                                b_d = {{CO, 1, 1, 1}}, out_d = {{1, H, W, CO}};
            (void)cp; (void)dp; (void)bd;
            ref_status = {call};
        }}
        """)


def _fc_c(l: Layer) -> str:
    return textwrap.dedent(f"""\
        enum {{ B = {l.get('batches')}, N = {l.get('n_in')}, O = {l.get('n_out')} }};
        static int16_t input[B * N], output[B * O];
        static int8_t weights[O * N];
        static int64_t bias[O];

        static void ref_setup(void)
        {{
            fill16(input, B * N, 8192); fill8(weights, O * N); fill64(bias, O, 1 << 16);
        }}

        __attribute__((noinline)) void ref_run(void)
        {{
            const cmsis_nn_context ctx = {{NULL, 0}};
            const cmsis_nn_fc_params fp = {{0, 0, 0, {{-32768, 32767}}}};
            const cmsis_nn_per_tensor_quant_params qp = {{1 << 30, -6}};
            const cmsis_nn_dims in_d = {{B, 1, 1, N}}, f_d = {{N, 1, 1, O}}, b_d = {{O, 1, 1, 1}}, out_d = {{B, 1, 1, O}};
            ref_status = arm_fully_connected_s16(&ctx, &fp, &qp, &in_d, input, &f_d, weights, &b_d, bias, &out_d, output);
        }}
        """)


def _pw8_c(l: Layer) -> str:
    return textwrap.dedent(f"""\
        enum {{ H = {l.get('h')}, W = {l.get('w')}, CI = {l.get('cin')}, CO = {l.get('cout')} }};
        static int8_t input[H * W * CI], output[H * W * CO], weights[CO * CI];
        static int32_t bias[CO], mult[CO], shift[CO];

        static void ref_setup(void)
        {{
            fill8(input, H * W * CI); fill8(weights, CO * CI); fill32(bias, CO, 1 << 12);
            for (int c = 0; c < CO; ++c) {{ mult[c] = (1 << 30) + c * 4099; shift[c] = -8; }}
        }}

        __attribute__((noinline)) void ref_run(void)
        {{
            const cmsis_nn_context ctx = {{NULL, 0}};
            const cmsis_nn_conv_params cp = {{128, -128, {{1, 1}}, {{0, 0}}, {{1, 1}}, {{-128, 127}}}};
            const cmsis_nn_per_channel_quant_params qp = {{mult, shift}};
            const cmsis_nn_dims in_d = {{1, H, W, CI}}, f_d = {{CO, 1, 1, CI}}, b_d = {{CO, 1, 1, 1}},
                                out_d = {{1, H, W, CO}};
            ref_status = arm_convolve_1x1_s8_fast(&ctx, &cp, &qp, &in_d, input, &f_d, weights, &b_d, bias, &out_d,
                                                  output);
        }}
        """)


HARNESS = {"lstm": _lstm_c, "svdf": _svdf_c, "conv": _conv_c, "dw": _conv_c, "fc": _fc_c, "pw8": _pw8_c}


def harness_source(layer: Layer) -> str:
    return _PROLOGUE + HARNESS[layer.kind](layer) + _EPILOGUE


def cmsis_tree(cmsis_dir: Path) -> tuple[list[Path], list[Path]]:
    """The .c files and the folders holding headers under ``cmsis_dir``."""
    sources = sorted(p for p in cmsis_dir.rglob("*.c"))
    includes = sorted({p.parent for p in cmsis_dir.rglob("*.h")})
    return sources, includes


def reference_cycles(layer: Layer, cmsis_dir: Path, work: Path) -> dict:
    """Estimated cycles (and instructions) of ``ref_run`` for ``layer`` with CMSIS-NN's kernels."""
    sources, includes = cmsis_tree(cmsis_dir)
    work.mkdir(parents=True, exist_ok=True)
    src = work / "ref_harness.c"
    src.write_text(harness_source(layer))
    elf = toolchain.build_arm([src, *sources], includes, work / "ref.elf", target=TARGET,
                              cflags=["-std=gnu99", "-Wno-error", "-w"])
    rc, out = toolchain.run_qemu(elf, work, TARGET, timeout=600, log=work / "ref.log")
    if rc != 0:
        raise RuntimeError(f"CMSIS-NN harness for {layer} exited {rc}: {out.strip()[-300:]}")
    prof = estimate(elf, work / "ref.log", TARGET, "ref_run")
    (work / "ref.log").unlink()
    return {"cycles": prof.total_cycles, "instructions": prof.total_instructions}


# -- tinycc's side -------------------------------------------------------------------------------

def _int16_layer_model(layer: Layer) -> bytes:
    """One 16x8 CONV_2D / DEPTHWISE_CONV_2D (3x3 SAME) or FULLY_CONNECTED of the layer's sizes."""
    import numpy as np
    from tinycc.testing.tflite_writer import ModelBuilder
    rng = np.random.default_rng(15)
    mb = ModelBuilder(f"tinycc 16x8 {layer.kind} bench layer")
    if layer.kind == "fc":
        n, o, bt = layer.get("n_in"), layer.get("n_out"), layer.get("batches")
        x = mb.tensor([bt, n], "int16", scale=1 / 4096, zero_point=0)
        w = mb.tensor([o, n], "int8", data=rng.integers(-127, 128, (o, n)), scale=[0.01])
        b = mb.tensor([o], "int64", data=rng.integers(-2**16, 2**16, o), scale=0.01 / 4096)
        y = mb.tensor([bt, o], "int16", scale=1 / 256, zero_point=0)
        mb.op("FULLY_CONNECTED", [x, w, b], [y])
        return mb.build([x], [y])
    h, wd, ci, co, k = (layer.get(s) for s in ("h", "w", "cin", "cout", "k"))
    x = mb.tensor([1, h, wd, ci], "int16", scale=1 / 4096, zero_point=0)
    scales = list(rng.uniform(0.002, 0.02, co))
    if layer.kind == "dw":
        w = mb.tensor([1, k, k, co], "int8", data=rng.integers(-127, 128, (1, k, k, co)), scale=scales,
                      quantized_dimension=3)
    else:
        w = mb.tensor([co, k, k, ci], "int8", data=rng.integers(-127, 128, (co, k, k, ci)), scale=scales,
                      quantized_dimension=0)
    b = mb.tensor([co], "int64", data=rng.integers(-2**16, 2**16, co), scale=[s / 4096 for s in scales],
                  quantized_dimension=0)
    y = mb.tensor([1, h, wd, co], "int16", scale=1 / 256, zero_point=0)
    kind = "DEPTHWISE_CONV_2D" if layer.kind == "dw" else "CONV_2D"
    mb.op(kind, [x, w, b], [y], padding="SAME", **({"depth_multiplier": 1} if layer.kind == "dw" else {}))
    return mb.build([x], [y])


def _pw8_model(layer: Layer) -> bytes:
    """kws_ref_model's pointwise layer: int8 CONV_2D 1x1 (per-channel weights, RELU) on h x w x cin."""
    import numpy as np
    from tinycc.testing.tflite_writer import ModelBuilder
    rng = np.random.default_rng(4)
    h, wd, ci, co = (layer.get(s) for s in ("h", "w", "cin", "cout"))
    mb = ModelBuilder("tinycc int8 pointwise bench layer")
    x = mb.tensor([1, h, wd, ci], "int8", scale=0.05, zero_point=-128)
    scales = list(rng.uniform(0.002, 0.02, co))
    w = mb.tensor([co, 1, 1, ci], "int8", data=rng.integers(-127, 128, (co, 1, 1, ci)), scale=scales,
                  quantized_dimension=0)
    b = mb.tensor([co], "int32", data=rng.integers(-2**12, 2**12, co), scale=[s * 0.05 for s in scales],
                  quantized_dimension=0)
    y = mb.tensor([1, h, wd, co], "int8", scale=0.1, zero_point=-128)
    mb.op("CONV_2D", [x, w, b], [y], padding="VALID", fused_activation="RELU")
    return mb.build([x], [y])


def tinycc_model(layer: Layer) -> bytes:
    from tinycc.testing import models_sequence as ms
    if layer.kind == "lstm":
        return ms.lstm_model(time=layer.get("time"), batches=layer.get("batches"), n_input=layer.get("n_input"),
                             n_cell=layer.get("n_cell"), time_major=False, dtype=layer.dtype)
    if layer.kind == "svdf":
        return ms.svdf_model("int8", state_dtype="int16", batches=layer.get("batches"),
                             input_size=layer.get("input_size"), filters=layer.get("filters"),
                             rank=layer.get("rank"), memory=layer.get("memory"))
    return _pw8_model(layer) if layer.kind == "pw8" else _int16_layer_model(layer)


def tflm_arena(model: Path) -> int:
    """TFLite Micro's arena for the model (its Python interpreter's allocation record)."""
    code = ("from tflite_micro.python.tflite_micro import runtime\n"
            f"runtime.Interpreter.from_file({str(model)!r}, arena_size=1 << 22).print_allocations()\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = run.stdout + run.stderr      # TFLM logs to stderr
    return int(re.search(r"Arena allocation total (\d+) bytes", out).group(1))


def tinycc_figures(layer: Layer, work: Path, flash_budget: int | None = None) -> dict:
    """tinycc's cycles for the layer's op (``tinycc bench``), its RAM and TFLM's arena (with
    ``flash_budget`` bytes of flash, default the build's)."""
    from tinycc import api
    from tinycc.bench import bench
    work.mkdir(parents=True, exist_ok=True)
    path = work / "layer.tflite"
    path.write_bytes(tinycc_model(layer))
    res = bench(str(path), target=TARGET, flash_budget=flash_budget)
    main = max(res.ops, key=lambda o: o.cycles)
    built = api.build(str(path), work / "out", target=TARGET, flash_budget=flash_budget)
    rep = built.report
    return {"cycles": main.cycles, "kernel": main.kernel, "op": main.kind, "invoke_cycles": res.cycles,
            "arena": rep.arena_bytes, "state": rep.state_bytes, "stack": rep.stack_bytes,
            "ram": rep.arena_bytes + rep.state_bytes + (rep.stack_bytes or 0), "tflm_arena": tflm_arena(path)}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cmsis_nn_dir", help="a CMSIS-NN tree (headers and .c files); not shipped with tinycc")
    ap.add_argument("layers", nargs="*", help=f"layers to run (default all: {', '.join(LAYERS)})")
    ap.add_argument("--json", help="write the figures to this file")
    ap.add_argument("--no-tinycc", action="store_true", help="only the CMSIS-NN reference")
    args = ap.parse_args(argv)
    cmsis = Path(args.cmsis_nn_dir)
    if not cmsis.is_dir() or not any(cmsis.rglob("arm_nnfunctions.h")):
        print(f"cmsis_nn_reference: {cmsis} is not a CMSIS-NN tree (no arm_nnfunctions.h under it); pass the "
              "directory of a CMSIS-NN checkout (Include/ and Source/)", file=sys.stderr)
        return 2
    names = args.layers or list(LAYERS)
    unknown = [n for n in names if n not in LAYERS]
    if unknown:
        print(f"cmsis_nn_reference: unknown layer(s) {', '.join(unknown)}; known: {', '.join(LAYERS)}",
              file=sys.stderr)
        return 2
    rows = {}
    print(f"{'layer':10s} {'CMSIS-NN cyc':>13s} {'tinycc cyc':>11s} {'ratio':>6s} {'tinycc kernel':>16s} "
          f"{'RAM tinycc':>10s} {'TFLM arena':>10s}", flush=True)
    with tempfile.TemporaryDirectory(prefix="tinycc-cmsisref-") as tmp:
        for name in names:
            layer = LAYERS[name]
            row = {"layer": name, "kind": layer.kind, "dtype": layer.dtype, "dims": layer.dims,
                   "cmsis_nn": reference_cycles(layer, cmsis, Path(tmp) / name / "ref")}
            if not args.no_tinycc:
                row["tinycc"] = tinycc_figures(layer, Path(tmp) / name / "tinycc")
            rows[name] = row
            t = row.get("tinycc")
            ref = row["cmsis_nn"]["cycles"]
            print(f"{name:10s} {ref:13,d} " + (f"{t['cycles']:11,d} {t['cycles'] / ref:6.2f} {t['kernel']:>16s} "
                                               f"{t['ram']:10,d} {t['tflm_arena']:10,d}" if t else ""), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
