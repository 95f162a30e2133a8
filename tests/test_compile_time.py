"""Compile time grows with the model, not faster (issue 19).

Synthetic int8 models (tinycc/testing/models_scale.py: a chain, wide branches, an unrolled
LSTM-style cell with many small long-lived tensors) are built end to end (frontend, every pass,
codegen; not the stack measurement, which is GCC's time). Times are
CPU seconds of this process, so other work on the machine does not disturb them. The bounds
have a margin of about 2x over the dev machine's figures (README, "Compile time").
"""
from __future__ import annotations

import time

import pytest

from tinycc import driver
from tinycc.testing import models_scale

THOUSAND_OPS_SECONDS = 6.0       # dev machine: 2.0-2.6 s per shape
GROWTH_5000_OVER_1000 = 7.5      # the bar is 6x (bench/compile_time.py: 4.5-5.6x); CPU time
                                 # ratios drift by ~20 % on a machine loaded by other jobs


def _build_seconds(tmp_path, data: bytes, name: str) -> float:
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(data)
    start = time.process_time()
    files = driver.build(str(model), str(tmp_path / name), name="m", stack=False).files
    seconds = time.process_time() - start
    assert "m.c" in files and "#define m_ARENA_BYTES" in files["m.h"]
    return seconds


@pytest.fixture(scope="module")
def lstm_1000_seconds(tmp_path_factory):
    """The LSTM-style cell of 1,000 ops, built once for both tests that need its time."""
    return _build_seconds(tmp_path_factory.mktemp("lstm"), models_scale.lstm(1000), "lstm1000")


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(models_scale.SHAPES))
def test_thousand_ops_build_quickly(tmp_path, shape, request):
    if shape == "lstm":
        seconds = request.getfixturevalue("lstm_1000_seconds")
    else:
        seconds = _build_seconds(tmp_path, models_scale.SHAPES[shape](1000), shape)
    assert seconds < THOUSAND_OPS_SECONDS, f"{shape} of 1,000 ops took {seconds:.2f} s"


@pytest.mark.slow
def test_five_thousand_ops_grow_linearly(tmp_path, lstm_1000_seconds):
    """The LSTM-style cell: the shape whose buffers live longest (most pairs for the planner)."""
    small = lstm_1000_seconds
    large = _build_seconds(tmp_path, models_scale.lstm(5000), "lstm5000")
    print(f"lstm: 1,000 ops {small:.2f} s, 5,000 ops {large:.2f} s")
    assert large <= GROWTH_5000_OVER_1000 * small, f"1,000 ops {small:.2f} s, 5,000 ops {large:.2f} s"


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
