"""The cache of compiled objects (tinycc/objcache.py): an unchanged source is compiled once, any
change to it, to a header it includes or to the flags compiles it again, and the cache is
never required (off, or a folder that cannot be written)."""
from __future__ import annotations

import os
import subprocess

import pytest

from tinycc import objcache, toolchain


def _compile(tmp_path, cache, sources, flags=("-O2",), include_dirs=()):
    runs = []

    def run(cmd, src):
        runs.append(src.name)
        subprocess.run(cmd, check=True, capture_output=True)

    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    objs = objcache.compile_all(toolchain.HOST_CC, [*flags, *(f"-I{d}" for d in include_dirs)], sources,
                                list(include_dirs), work, run)
    return objs, runs


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("TINYCC_CACHE", str(folder))
    return folder / "objects-1"


def _sources(tmp_path):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "k.h").write_text("#define K 3\n")
    src = tmp_path / "a.c"
    src.write_text('#include "k.h"\nint f(int x);\nint f(int x) { return x * K; }\n')
    return src, inc


def test_unchanged_source_is_compiled_once(tmp_path, cache):
    src, inc = _sources(tmp_path)
    (obj,), runs = _compile(tmp_path, cache, [src], include_dirs=[inc])
    assert runs == ["a.c"] and obj.parent.parent == cache and obj.is_file()
    # the same source and header in another folder (a new temporary build folder): a hit
    other = tmp_path / "other"
    (other / "inc").mkdir(parents=True)
    (other / "inc" / "k.h").write_text((inc / "k.h").read_text())
    (other / "a.c").write_text(src.read_text())
    (obj2,), runs = _compile(tmp_path, cache, [other / "a.c"], include_dirs=[other / "inc"])
    assert runs == [] and obj2 == obj


@pytest.mark.parametrize("change", ["source", "header", "flags"])
def test_any_change_compiles_again(tmp_path, cache, change):
    src, inc = _sources(tmp_path)
    (obj,), _ = _compile(tmp_path, cache, [src], include_dirs=[inc])
    flags = ("-O2",)
    if change == "source":
        src.write_text(src.read_text().replace("x * K", "x * K + 1"))
    elif change == "header":
        (inc / "k.h").write_text("#define K 4\n")
    else:
        flags = ("-O1",)
    (obj2,), runs = _compile(tmp_path, cache, [src], flags=flags, include_dirs=[inc])
    assert runs == ["a.c"] and obj2 != obj and obj2.read_bytes() != obj.read_bytes()


def test_computed_include_depends_on_every_header(tmp_path, cache):
    src, inc = _sources(tmp_path)
    src.write_text("#include HEADER\nint f(int x);\nint f(int x) { return x * K; }\n")
    flags = ('-DHEADER="k.h"',)
    _compile(tmp_path, cache, [src], flags=flags, include_dirs=[inc])
    (inc / "unrelated.h").write_text("#define U 1\n")
    _, runs = _compile(tmp_path, cache, [src], flags=flags, include_dirs=[inc])
    assert runs == ["a.c"]


def test_cache_off_or_unwritable(tmp_path, monkeypatch):
    src, inc = _sources(tmp_path)
    monkeypatch.setenv("TINYCC_CACHE", "off")
    (obj,), runs = _compile(tmp_path, None, [src], include_dirs=[inc])
    assert runs == ["a.c"] and obj.parent == tmp_path / "work"
    if os.geteuid() == 0:
        blocked = tmp_path / "file"          # root writes anywhere: a file where the folder should be
        blocked.write_text("")
        monkeypatch.setenv("TINYCC_CACHE", str(blocked / "cache"))
    else:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        monkeypatch.setenv("TINYCC_CACHE", str(ro / "cache"))
    (obj,), runs = _compile(tmp_path, None, [src], include_dirs=[inc])
    assert runs == ["a.c"] and obj.parent == tmp_path / "work"


def test_stack_bound_is_the_same_from_the_cache(tmp_path, cache, monkeypatch):
    """stack_usage from cached objects and facts gives what it gives from a fresh compile."""
    if not toolchain.have_arm_toolchain():
        pytest.skip("arm-none-eabi-gcc not installed")
    src = tmp_path / "s.c"
    src.write_text("#include <math.h>\nfloat g(float x);\nfloat g(float x) { volatile float b[9]; "
                   "b[0] = x; return expf(b[0]); }\n")
    first = toolchain.stack_usage([src], "g", target="cortex-m0", include_dirs=[tmp_path], sizes=True)
    assert list(cache.glob("??/*.facts-1.json")) and list(cache.glob("??/*.library-frames.json"))
    again = toolchain.stack_usage([src], "g", target="cortex-m0", include_dirs=[tmp_path], sizes=True)
    monkeypatch.setenv("TINYCC_CACHE", "off")
    fresh = toolchain.stack_usage([src], "g", target="cortex-m0", include_dirs=[tmp_path], sizes=True)
    assert first == again == fresh and first["bytes"] > 36 and "expf" in first["library_calls"]


@pytest.fixture
def nothing_shipped(tmp_path, monkeypatch):
    """tinycc/kernel_facts.json out of the way: every kernel is measured."""
    monkeypatch.setattr(toolchain, "KERNEL_FACTS", tmp_path / "none.json")
    toolchain.shipped_facts.cache_clear()
    yield
    monkeypatch.undo()
    toolchain.shipped_facts.cache_clear()


def _kernel_facts(cache):
    import json
    return [f for f in cache.glob("??/*.facts-1.json") if json.loads(f.read_text()).get("kernel")]


def test_kernel_facts_are_shared_across_model_names(tmp_path, cache, nothing_shipped):
    """A kernel's facts are kept under its text with the model's prefix taken off: a model built
    under another --name compiles only its own NAME.c, with the same figures."""
    if not toolchain.have_arm_toolchain():
        pytest.skip("arm-none-eabi-gcc not installed")
    from tinycc import driver
    from tinycc.testing import models_scale
    model = tmp_path / "m.tflite"
    model.write_bytes(models_scale.chain(3))
    a = driver.generate(str(model), "alpha", "cortex-m0", stack=True).stack
    kept = _kernel_facts(cache)
    assert kept
    b = driver.generate(str(model), "beta", "cortex-m0", stack=True).stack
    assert _kernel_facts(cache) == kept                 # no kernel measured again for "beta"
    assert a["bytes"] == b["bytes"] and a["sizes"] == b["sizes"]
    assert [fn.replace("alpha", "beta") for fn in a["path"]] == b["path"]


def test_shipped_kernel_facts_cover_the_shared_models_and_are_true(tmp_path, cache, request):
    """tinycc/kernel_facts.json (scripts/measure_kernel_facts.py): a default cortex-m4 build of a
    shared model in an empty cache takes every kernel's facts from it (a kernel changed since the
    table was written is compiled instead: run the script again), and the figures equal those of
    compiling everything afresh."""
    if not toolchain.have_arm_toolchain():
        pytest.skip("arm-none-eabi-gcc not installed")
    from tinycc import driver

    from .conftest import model_path
    for other in ("vww_96_int8", "ic_resnet8_int8", "ad01_int8"):     # their kernel sets differ from kws's
        driver.generate(str(model_path(other)), "m", "cortex-m4", stack=True)
        assert not _kernel_facts(cache), f"{other}: kernels compiled: run python scripts/measure_kernel_facts.py"
    model = str(model_path("kws_ref_model"))
    shipped = driver.generate(model, "kws", "cortex-m4", stack=True).stack
    assert not _kernel_facts(cache), "kernels compiled: run python scripts/measure_kernel_facts.py"
    request.getfixturevalue("nothing_shipped")
    fresh = driver.generate(model, "kws", "cortex-m4", stack=True).stack
    assert _kernel_facts(cache) and shipped == fresh
