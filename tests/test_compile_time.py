"""Compile time grows with the model, not faster (issue 19).

Synthetic int8 models (tinycc/testing/models_scale.py: a chain, wide branches, an unrolled
LSTM-style cell with many small long-lived tensors) are built end to end (frontend, every pass,
codegen; not the stack measurement, which is GCC's time). Times are
CPU seconds of this process, so other work on the machine does not disturb them. The bounds
have a margin of about 2x over the dev machine's figures (README, "Compile time").

GCC's share (the stack and flash measurement compiles the generated NAME.c) is kept linear by
its shape, checked here as work counts: NAME_run calls its ops in parts of at most
``emit.PART_OPS`` (one function each), and the measured NAME.c holds no constant values
(``emit.without_constant_data``), with the same figures as the full file.
"""
from __future__ import annotations

import json
import os
import random
import re
import resource
import subprocess
import sys
import time

import jinja2
import pytest

from tinycc import driver, toolchain, variants
from tinycc.codegen import emit, precompiled
from tinycc.passes import plan_arena as _plan_arena_pass  # noqa: F401  (the module, below)
from tinycc.resources import TEMPLATES
from tinycc.targets import DSP_TARGETS
from tinycc.testing import models_scale

from .conftest import REPO, needs_qemu

PA = sys.modules["tinycc.passes.plan_arena"]

THOUSAND_OPS_SECONDS = 6.0       # dev machine: 2.0-2.6 s per shape
GROWTH_5000_OVER_1000 = 7.5      # the bar is 6x (bench/compile_time.py: 4.5-5.6x); CPU time
                                 # ratios drift by ~20 % on a machine loaded by other jobs


def _build(tmp_path, data: bytes, name: str) -> tuple[float, dict[str, str]]:
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(data)
    start = time.process_time()
    files = driver.build(str(model), str(tmp_path / name), name="m", stack=False).files
    seconds = time.process_time() - start
    assert "m.c" in files and "#define m_ARENA_BYTES" in files["m.h"]
    return seconds, files


def _build_seconds(tmp_path, data: bytes, name: str) -> float:
    return _build(tmp_path, data, name)[0]


@pytest.fixture(scope="module")
def lstm_1000(tmp_path_factory):
    """The LSTM-style cell of 1,000 ops, built once for the tests that need its time or its C."""
    return _build(tmp_path_factory.mktemp("lstm"), models_scale.lstm(1000), "lstm1000")


@pytest.fixture(scope="module")
def lstm_1000_seconds(lstm_1000):
    return lstm_1000[0]


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(models_scale.SHAPES))
def test_thousand_ops_build_quickly(tmp_path, shape, request):
    if shape == "lstm":
        seconds = request.getfixturevalue("lstm_1000_seconds")
    else:
        seconds = _build_seconds(tmp_path, models_scale.SHAPES[shape](1000), shape)
    assert seconds < THOUSAND_OPS_SECONDS, f"{shape} of 1,000 ops took {seconds:.2f} s"


@pytest.mark.slow
def test_five_thousand_ops_grow_linearly(tmp_path, lstm_1000):
    """The LSTM-style cell: the shape whose buffers live longest (most pairs for the planner)."""
    small, small_files = lstm_1000
    large, files = _build(tmp_path, models_scale.lstm(5000), "lstm5000")
    print(f"lstm: 1,000 ops {small:.2f} s, 5,000 ops {large:.2f} s")
    assert large <= GROWTH_5000_OVER_1000 * small, f"1,000 ops {small:.2f} s, 5,000 ops {large:.2f} s"
    # GCC's share: the measured NAME.c of 5,000 ops compiles in at most GROWTH x that of 1,000
    # (the least of two compilations each: other work on the machine only ever adds time)
    if toolchain.have_arm_toolchain():
        gcc = [min(_gcc_seconds(tmp_path / f"{n}_{k}", f) for k in range(2))
               for n, f in (("g1000", small_files), ("g5000", files))]
        print(f"arm-none-eabi-gcc -O2 on the measured m.c: 1,000 ops {gcc[0]:.2f} s, 5,000 ops {gcc[1]:.2f} s")
        assert gcc[1] <= GROWTH_5000_OVER_1000 * gcc[0], gcc


def _gcc_seconds(work, files: dict[str, str]) -> float:
    """CPU seconds of arm-none-eabi-gcc -O2 compiling the measured m.c (as the stack bound does)."""
    work.mkdir()
    with driver.generated_sources(files, "m") as (tmp, sources, _):
        source = next(s for s in sources if s.name == "m.c")
        flags = [*toolchain.cpu_flags("cortex-m4"), "-std=c99", "-O2", "-ffunction-sections", "-fdata-sections",
                 f"-I{tmp}", "-fcallgraph-info=su", "-c", str(source), "-o", str(work / "m.o")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([toolchain.ARM_CC, *flags], check=True, cwd=work)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _statements_per_function(c_text: str) -> dict[str, int]:
    """Op statements (``/* op N KIND */`` at the end of a line) in each function of generated C."""
    counts, fn = {}, None
    for line in c_text.splitlines():
        if m := re.match(r"(?:static )?(?:\w+ )*int (\w+)\(uint8_t \*arena, uint8_t \*state\)$", line):
            fn = m.group(1)
            counts[fn] = 0
        elif fn and re.search(r"/\* op \d+ \w+ \*/$", line):
            counts[fn] += 1
    return counts


def test_constants_are_left_out_only_where_the_code_cannot_read_them():
    text = ("/* m.c */\nstatic const int8_t a_w[3] = {\n    1, 2, 3\n};\n"
            "static const float b_t[2] = {\n    1.0f, 2.0f\n};\n"
            "static const int32_t c_q[2] __attribute__((section(\".w\"))) = {\n    1, 2\n};\n"
            "int f(const int8_t *p);\nint g(void);\nint g(void) { return f(a_w) + (int)b_t[1] + c_q[0]; }\n")
    measured, left_out = emit.without_constant_data(text)
    assert left_out == 3                       # a_w only: b_t is read by index, c_q has its own section
    assert "extern const int8_t a_w[3];" in measured and "1.0f, 2.0f" in measured and "{\n    1, 2\n}" in measured


def test_long_model_is_exact_and_its_stack_bound_true(tmp_path):
    """A model of more than PART_OPS ops (NAME_run in parts of at most PART_OPS op statements,
    the measured NAME.c without its constants' values: GCC's work linear in the ops): bit-exact
    with TFLite Micro on the host; on a Cortex-M4 the measured figures equal those of compiling
    the full NAME.c (with every constant value), and one inference painted in QEMU stays within
    NAME_STACK_BYTES."""
    from tinycc.verify import verify
    model = tmp_path / "lstm150.tflite"
    model.write_bytes(models_scale.lstm(150))
    assert verify(str(model), "generic", samples=2).ok
    needs_qemu()
    out = tmp_path / "out"
    b = driver.build(str(model), str(out), "model", "cortex-m4", stack=True)
    counts = _statements_per_function(b.files["model.c"])      # work counts that keep GCC linear
    parts = {fn: n for fn, n in counts.items() if re.fullmatch(r"model_run\d+", fn)}
    assert len(parts) == 3 and counts["model_run"] == 0 and max(parts.values()) == emit.PART_OPS
    measured, left_out = emit.without_constant_data(b.files["model.c"])
    assert left_out > 30_000 and len(measured) < len(b.files["model.c"]) // 2
    sources = sorted(out.glob("*.c"))
    full = toolchain.stack_usage(sources, "model_invoke", target="cortex-m4", include_dirs=[out], sizes=True)
    assert (full["bytes"], full["path"], full["sizes"]) == (b.stack["bytes"], b.stack["path"], b.stack["sizes"])
    # the deepest path runs through a part (GCC may clone one: model_run0.constprop.0)
    assert any(re.fullmatch(r"model_run\d+(\.\w+)*", fn) for fn in full["path"])
    used = toolchain.painted_stack(out, tmp_path, "model", "cortex-m4")
    assert 0 < used <= b.stack["bytes"]


def test_build_timings_flag(tmp_path, capsys):
    """``tinycc build --timings`` prints the frontend, every pass of the pipeline and codegen."""
    from tinycc import cli
    from tinycc.passes import PIPELINE
    model = tmp_path / "chain.tflite"
    model.write_bytes(models_scale.chain(10))
    assert cli.main(["build", str(model), "-o", str(tmp_path / "out"), "--no-stack", "--timings"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines[1:]]
    assert names == ["frontend", *(p.__name__ for p in PIPELINE), "codegen", "total"]
    assert all(float(line.split()[1]) >= 0 for line in lines[1:])


# -- fixed costs of every build: counted as work, not seconds ---------------------------------

#: Modules a build never needs: other subcommands' (verify, run, bench, report, the self-test), the
#: test-model generators, numpy.ma (np.unique imports it; compress.choose sorts instead),
#: ctypes.util (tflm_math finds libm only when a float kernel's reference needs it) and the tflite
#: package's ~190 schema modules (``tinycc.tflite_schema`` loads the few a build reads).
NOT_IMPORTED_BY_BUILD = ("tinycc.verify", "tinycc.runner", "tinycc.bench", "tinycc.report", "tinycc.selftest",
                         "tinycc.testing", "tflite_micro", "numpy.ma", "ctypes.util", "tflite")


def test_build_imports_and_compiles_only_what_it_needs(tmp_path):
    """``tinycc build`` in a fresh interpreter with an empty cache: none of NOT_IMPORTED_BY_BUILD is
    imported, jinja2 compiles no template (they come compiled, ``codegen.precompiled``), git is
    not asked for an Arduino maintainer, and the build runs without the cycle collector (``cli``)."""
    model = tmp_path / "chain.tflite"
    model.write_bytes(models_scale.chain(10))
    probe = f"""
import json, subprocess, sys, jinja2
compiled, runs = [], []
compile_ = jinja2.Environment.compile
jinja2.Environment.compile = lambda self, source, name=None, *a, **k: compiled.append(name) or compile_(self, source, name, *a, **k)
run_ = subprocess.run
subprocess.run = lambda args, *a, **k: runs.append(str(args[0])) or run_(args, *a, **k)
import gc
from tinycc import cli, driver
during = []
generate_ = driver.generate
driver.generate = lambda *a, **k: during.append(gc.isenabled()) or generate_(*a, **k)
assert cli.main(["build", {str(model)!r}, "-o", {str(tmp_path / "out")!r}, "--no-stack"]) == 0
assert during == [False] and gc.isenabled()      # no cycle collector while building, back after
print(json.dumps(dict(compiled=compiled, runs=runs, modules=sorted(sys.modules))))
"""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TINYCC_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True, cwd=tmp_path)
    seen = json.loads(out.stdout.splitlines()[-1])
    assert [m for m in NOT_IMPORTED_BY_BUILD if m in seen["modules"]] == []
    # a generic build: none of the units for the DSP cores (variants.DSP_ONLY modules)
    assert [m for m in seen["modules"] if m.startswith(f"tinycc.variants.{variants.DSP_ONLY}")] == []
    assert seen["runs"] == []
    if _compiled_by_this_jinja2():     # (another jinja2 ignores them: the templates are compiled)
        assert seen["compiled"] == []


def test_dsp_only_unit_modules_hold_units_for_dsp_cores_only():
    """A build for a core without the DSP extension skips the ``variants.DSP_ONLY`` modules: each
    of their units must run on DSP cores only (a portable unit belongs in another module)."""
    units = variants.units()
    dsp_only = [u for u in units if type(u).__module__.rsplit(".", 1)[1].startswith(variants.DSP_ONLY)]
    assert dsp_only and len(dsp_only) < len(units)
    assert [u.name for u in dsp_only if not set(u.targets) <= set(DSP_TARGETS)] == []


def _compiled_by_this_jinja2() -> bool:
    module = precompiled.COMPILED / f"{precompiled.module_name('model.h.j2')}.py"
    return module.read_text().splitlines()[2] == f"JINJA2_VERSION = {jinja2.__version__!r}"


def test_compiled_templates_are_current():
    """tinycc/codegen/compiled holds jinja2's code of every template as it is now (else run
    scripts/compile_templates.py), and the build's environment takes it from there."""
    env = emit._env()
    for path in sorted(TEMPLATES.glob("*.j2")):
        module = precompiled.COMPILED / f"{precompiled.module_name(path.name)}.py"
        assert module.is_file(), f"{path.name}: run scripts/compile_templates.py"
        if not _compiled_by_this_jinja2():
            pytest.skip("compiled by another jinja2: the templates are compiled from their text")
        assert module.read_text() == precompiled.module_text(env, path.name, path.read_text()), \
            f"{path.name} changed: run scripts/compile_templates.py"
        assert env.get_template(path.name).filename == str(module)


def test_a_changed_template_is_compiled_from_its_text(tmp_path):
    """A template whose text no longer matches its compiled module is compiled from the text."""
    for path in TEMPLATES.glob("*.j2"):
        (tmp_path / path.name).write_text(path.read_text())
    changed = tmp_path / "CMakeLists.txt.j2"
    changed.write_text(changed.read_text() + "# changed {{ name }}\n")
    env = jinja2.Environment(loader=precompiled.Loader(str(tmp_path)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    t = env.get_template("CMakeLists.txt.j2")
    assert t.filename == str(changed)
    assert t.render(version="0", name="m", sources=["m.c"], float_model=False).endswith("# changed m\n")


# -- the exact search of plan_arena: the same plans, less work ----------------------------------

def _exact_from_scratch(p, start, steps):
    """plan_arena.exact as it was: every buffer's lowest offset looked up afresh at every step."""
    best, budget = [p.end(start), dict(start)], [steps]
    floor = p.lower_bound()

    def dfs(placed, remaining, end):
        if not remaining:
            if end < best[0]:
                best[0], best[1] = end, dict(placed)
            return best[0] <= floor
        for t in remaining:
            if budget[0] <= 0:
                return True
            budget[0] -= 1
            off = p.lowest_offset(t, placed)
            if max(end, off + p.sizes[t]) >= best[0]:
                continue
            placed[t] = off
            stop = dfs(placed, [u for u in remaining if u != t], max(end, off + p.sizes[t]))
            del placed[t]
            if stop:
                return True
        return False

    dfs({}, sorted(p.ids, key=lambda t: (-p.sizes[t], p.life[t][0], t)), 0)
    return best[1]


def _random_problem(rng: random.Random):
    """Buffers with random sizes and lifetimes, and overlap rules of every kind between an input
    and the output written at the step where it dies (unaligned "multiple" moduli too)."""
    n = rng.randint(10, 22)
    life = {}
    for i in range(n):
        first = rng.randint(0, 12)
        life[f"t{i:02d}"] = (first, first + rng.randint(0, 4))
    sizes = {t: 4 * rng.randint(1, 40) for t in life}
    rules = {}
    for a in life:
        for b in life:
            if a != b and life[a][1] == life[b][0] and rng.random() < 0.5:
                kind = rng.choice(["at_most", "exactly", "multiple"])
                shift = {"at_most": 4 * rng.randint(-10, 3), "exactly": 4 * rng.randint(-6, 2),
                         "multiple": rng.choice([4, 8, 12, 6, 10])}[kind]
                rules[(a, b)] = PA.Overlap(a, b, shift, "op", kind)
    return PA._Problem(sizes, life, rules)


def test_exact_search_finds_the_same_plans_with_fewer_lookups():
    rng = random.Random(19)
    lookups = steps = 0
    for _ in range(12):
        p = _random_problem(rng)
        start = PA.greedy_by_size(p)
        want = _exact_from_scratch(p, start, 3000)
        counted = []
        lowest = p.lowest_offset
        p.lowest_offset = lambda t, placed: counted.append(t) or lowest(t, placed)
        assert PA.exact(p, start, 3000) == want
        lookups, steps = lookups + len(counted), steps + 3000
    assert lookups < steps // 3, (lookups, steps)
