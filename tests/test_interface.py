"""The named interface in NAME.h: every macro read back by a compiled C program and checked against
the .tflite as TFLite (LiteRT) reads it; the quantize helper gives TFLite's QUANTIZE bytes and the
model run on them gives TFLite Micro's outputs; the header compiles as C99 and as C++."""
from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from tinycc import driver, toolchain
from tinycc.codegen.emit import TYPE_CODES
from tinycc.ops.quantize import dequantize_s8, quantize_f32

from .conftest import SHARED_MODELS, model_path, reference_outputs

WARN = ["-Wall", "-Wextra", "-Werror"]


def details(path):
    """Inputs and outputs as LiteRT reads them from the flatbuffer (independent of tinycc's frontend)."""
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=str(path))
    return {"INPUT": it.get_input_details(), "OUTPUT": it.get_output_details()}


def macro_program(name: str, det) -> str:
    lines = ['#include <stdio.h>', f'#include "{name}.h"', "int main(void)", "{"]
    for group, ds in det.items():
        for i, d in enumerate(ds):
            p = f"{name}_{group}{i}"
            lines += [f'    {{ static const long dims[] = {p}_DIMS; size_t k;',
                      f'      printf("{group} {i} type %d rank %d bytes %lu elements %lu csize %lu dims",'
                      f' {p}_TYPE, {p}_RANK, (unsigned long){p}_BYTES, (unsigned long){p}_ELEMENTS,'
                      f' (unsigned long)sizeof({p}_CTYPE));',
                      f'      for (k = 0; k < sizeof dims / sizeof dims[0]; ++k) printf(" %ld", dims[k]);',
                      f'      printf(" fn_bytes %lu\\n", (unsigned long){name}_{group.lower()}_bytes({i})); }}']
            if d["quantization"][0]:
                lines.append(f'    printf("{group} {i} scale %a zero_point %d\\n", (double){p}_SCALE, {p}_ZERO_POINT);')
    lines += ["    return 0;", "}"]
    return "\n".join(lines) + "\n"


def index_macros(h: str, name: str, group: str) -> dict[str, int]:
    return {m: int(v) for m, v in re.findall(rf"#define {name}_{group}_([A-Z_][A-Z0-9_]*) (\d+)\n", h)
            if m != "COUNT"}


@pytest.mark.parametrize("model", SHARED_MODELS)
def test_macros_match_the_model(model, tmp_path):
    path = model_path(model)
    out = tmp_path / "out"
    driver.build(str(path), str(out), "net")
    det = details(path)
    (tmp_path / "main.c").write_text(macro_program("net", det))
    exe = toolchain.build_host([tmp_path / "main.c", *sorted(out.glob("*.c"))], [out], tmp_path / "main")
    printed = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()
    h = (out / "net.h").read_text()
    codes = {np.dtype(np.float32): TYPE_CODES["float32"], np.dtype(np.int8): TYPE_CODES["int8"],
             np.dtype(np.uint8): TYPE_CODES["uint8"], np.dtype(np.int32): TYPE_CODES["int32"],
             np.dtype(np.int16): TYPE_CODES["int16"]}
    for group, ds in det.items():
        assert sorted(index_macros(h, "net", group).values()) == list(range(len(ds)))
        for i, d in enumerate(ds):
            dt = np.dtype(d["dtype"])
            n = int(np.prod(d["shape"]))
            want = (f"{group} {i} type {codes[dt]} rank {len(d['shape'])} bytes {n * dt.itemsize} elements {n} "
                    f"csize {dt.itemsize} dims {' '.join(map(str, d['shape']))} fn_bytes {n * dt.itemsize}")
            assert want in printed
            scale, zp = d["quantization"]
            if scale:
                # the literal is exactly the model's float32 scale
                line = next(x for x in printed if x.startswith(f"{group} {i} scale "))
                assert float.fromhex(line.split()[3]) == float(np.float32(scale))
                assert line.endswith(f" zero_point {zp}")
            else:
                assert f"net_{group}{i}_SCALE" not in h
            # the tensor's name is in the comment above the macros, its identifier names its index
            assert f'"{d["name"]}"' in h
            ident = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9]", "_", d["name"])).strip("_").upper()
            assert index_macros(h, "net", group)[ident] == i


def test_tensor_identifiers_are_unique_and_valid():
    from tinycc.codegen.emit import tensor_idents
    import networkx as nx
    from tinycc import ir
    g = nx.DiGraph()
    names = ["input:0", "input.0", "9lives", "", "count", "a" * 80]
    for k, n in enumerate(names):
        ir.add_tensor(g, f"t{k}", ir.Tensor(n, (1,), "int8"))
    g.graph["inputs"], g.graph["outputs"] = [f"t{k}" for k in range(len(names))], ["t0"]
    ids = tensor_idents(g)
    got = [ids["inputs", f"t{k}"] for k in range(len(names))]
    assert got[:5] == ["INPUT_0", "INPUT_0_2", "T9LIVES", "TENSOR", "COUNT_2"]
    assert len(got[5]) == 40 and ids["outputs", "t0"] == "INPUT_0"
    assert all(re.fullmatch(r"[A-Z_][A-Z0-9_]*", x) for x in got)


def quantize_program(name: str, xs: np.ndarray, n_out: int) -> str:
    vals = ",\n".join(", ".join(_c_float(v) for v in xs[k:k + 8]) for k in range(0, len(xs), 8))
    return f"""#include <math.h>
#include <stdio.h>
#include "{name}.h"
static const float real_input[{len(xs)}] = {{
{vals}
}};
int main(void)
{{
    int8_t *in = (int8_t *){name}_input(0);
    const int8_t *out = (const int8_t *){name}_output(0);
    size_t i;
    for (i = 0; i < {len(xs)}; ++i) in[i] = {name}_input0_quantize(real_input[i]);
    for (i = 0; i < {len(xs)}; ++i) printf("%d\\n", in[i]);
    if ({name}_invoke() != 0) return 1;
    for (i = 0; i < {n_out}; ++i) printf("%d %a\\n", out[i], (double){name}_output0_dequantize(out[i]));
    return 0;
}}
"""


def tflm_quantize(real: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """TFLite Micro's QUANTIZE (float32 -> int8) on ``real``, through a one-op model."""
    from tinycc.testing.tflite_writer import ModelBuilder
    from tinycc.verify import Reference
    import tempfile
    m = ModelBuilder()
    x = m.tensor([real.size], "float32", name="x")
    y = m.tensor([real.size], "int8", scale=float(scale), zero_point=int(zero_point), name="y")
    m.op("QUANTIZE", [x], [y])
    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(m.build([x], [y]))
        f.flush()
        ref = Reference(f.name, 1)
        assert ref.name == "TFLite Micro"
        return ref.run([real.astype(np.float32)])[0].reshape(-1)


def _c_float(v: float) -> str:
    if np.isnan(v):
        return "NAN"
    if np.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return float(v).hex() + "f"


@pytest.mark.parametrize("model", ["kws_ref_model", "ad01_int8", "ic_resnet8_int8"])
def test_quantize_helper_gives_tflite_bytes_and_outputs(model, tmp_path):
    """Real inputs (ties at exact halves of the scale, huge values, infinities, NaN) quantized in C by
    the helper equal TFLite's QUANTIZE formula in numpy (float32 x / scale, rounded half away from zero,
    + zero point, saturated; np.round would round halves to even and differ); the model run on them
    gives TFLite Micro's outputs, and the dequantize helper gives TFLite's DEQUANTIZE of them. The same
    values through TFLite Micro's QUANTIZE kernel give the same bytes."""
    path = model_path(model)
    out = tmp_path / "out"
    driver.build(str(path), str(out), "net")
    d = details(path)
    (scale, zp), shape = d["INPUT"][0]["quantization"], d["INPUT"][0]["shape"]
    (oscale, ozp) = d["OUTPUT"][0]["quantization"]
    n, n_out = int(np.prod(shape)), int(np.prod(d["OUTPUT"][0]["shape"]))
    rng = np.random.default_rng(7)
    real = (rng.standard_normal(n) * 60 * scale).astype(np.float32)
    k = np.arange(n // 4)
    real[k] = ((rng.integers(-300, 300, size=k.size) + 0.5) * np.float32(scale)).astype(np.float32)
    real[:6] = [np.inf, -np.inf, np.nan, 1e30, -1e30, -0.0]
    (tmp_path / "main.c").write_text(quantize_program("net", real, n_out))
    exe = toolchain.build_host([tmp_path / "main.c", *sorted(out.glob("*.c"))], [out], tmp_path / "main")
    lines = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()
    ours_in = np.array([int(x) for x in lines[:n]], np.int8)
    want_in = quantize_f32(real, scale, zp)
    assert np.array_equal(ours_in, want_in)
    # and TFLite Micro's own QUANTIZE kernel on every value where C++ defines it (|x / scale| < 2^31;
    # beyond, x86 builds of TFLite give INT32_MIN, i.e. -128, even for +1e30: the helper saturates)
    finite = slice(6, None)
    assert np.array_equal(ours_in[finite], tflm_quantize(real[finite], scale, zp))
    half_even = np.clip(np.round(real[k] / np.float32(scale)) + zp, -128, 127)
    assert not np.array_equal(ours_in[k], half_even), "the ties must tell the rounding rules apart"
    ref = reference_outputs(path, [[want_in.reshape(shape)]])[0][0].reshape(-1)
    ours_out = np.array([int(x.split()[0]) for x in lines[n:]], np.int8)
    assert np.array_equal(ours_out, ref)
    deq = np.array([float.fromhex(x.split()[1]) for x in lines[n:]], np.float32)
    assert np.array_equal(deq, dequantize_s8(ref, oscale, ozp))


def test_header_compiles_as_cpp_and_with_app_arena(tmp_path):
    """Included from C++ (g++ -Wall -Wextra -Werror, helpers unused and used) and with --app-arena."""
    for app_arena in (False, True):
        out = tmp_path / f"out{app_arena}"
        driver.build(str(model_path("kws_ref_model")), str(out), "kws", app_arena=app_arena)
        src = tmp_path / "user.cpp"
        src.write_text('#include "kws.h"\nint main() { return kws_input0_quantize(0.5f) + '
                       '(int)kws_output0_dequantize(0) + kws_INPUT0_BYTES - 490; }\n')
        subprocess.run(["g++", "-std=c++11", *WARN, "-I", str(out), "-c", str(src), "-o", str(tmp_path / "u.o")],
                       check=True)
        (tmp_path / "unused.c").write_text('#include "kws.h"\nint unused(void);\nint unused(void) { return 0; }\n')
        subprocess.run(["gcc", "-std=c99", "-pedantic", *WARN, "-I", str(out), "-c", str(tmp_path / "unused.c"),
                        "-o", str(tmp_path / "n.o")], check=True)
