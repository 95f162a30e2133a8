"""UNIDIRECTIONAL_SEQUENCE_LSTM, float32, int8 and 16x8 (tinycc/ops/lstm.py, runtime/kernels/tcc_lstm.c),
against TFLite Micro over sequences of invokes on one interpreter (the hidden and cell states
persist): time-major and batch-major, with a cell clip, cell state scales whose tanh input is
shifted left or right; a two-layer model on the host and in QEMU; the Cortex-M DSP units in QEMU
and their sigmoid / tanh on the host; NAME_reset; and TFLite Micro's refusals (peephole,
projection, layer norm, CIFG)."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from pathlib import Path

from tinycc import driver, ir
from tinycc.errors import TinyccError
from tinycc.testing.models_sequence import lstm_model, lstm_stack_model
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import assert_match, needs_qemu, random_batch, reference_outputs, run_compiled
from .test_state import assert_reset_repeats_the_sequence


@pytest.mark.parametrize("kw", [dict(), dict(time_major=False, cell_clip=0.8, batches=3, time=4, seed=2)],
                         ids=["time_major", "batch_major_clip"])
def test_lstm_sequence_matches_tflm(tmp_path, kw):
    model = tmp_path / "lstm.tflite"
    model.write_bytes(lstm_model(**kw))
    g = driver.compile_graph(str(model))
    assert g.graph["plan"].state_size == 2 * 4 * (kw.get("batches", 2) * 4)     # hidden + cell, float32
    batches = random_batch(g, np.random.default_rng(5), 10)
    ours, _ = run_compiled(model, batches, tmp_path, g=g)
    refs = reference_outputs(model, batches, 1)
    assert_match(ours, refs)


def _with_extra_input(slot: int) -> bytes:
    """The LSTM test model with input ``slot`` (absent in it) given a constant."""
    import tflite
    data = bytearray(lstm_model())
    m = tflite.Model.GetRootAs(data, 0)
    op = m.Subgraphs(0).Operators(0)
    mb = ModelBuilder()
    sg = m.Subgraphs(0)
    ids = []
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        buf = m.Buffers(t.Buffer()).DataAsNumpy()
        shape = list(t.ShapeAsNumpy())
        arr = None if isinstance(buf, int) else np.frombuffer(buf.tobytes(), np.float32).reshape(shape)
        ids.append(mb.tensor(shape, "float32", data=arr, variable=t.IsVariable(), name=t.Name().decode()))
    extra = mb.tensor([4], "float32", data=np.ones(4, np.float32), name="extra")
    inputs = [int(i) for i in op.InputsAsNumpy()]
    inputs[slot] = extra
    mb.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [int(op.Outputs(0))], fused_activation="TANH")
    return mb.build([int(sg.Inputs(0))], [int(sg.Outputs(0))])


@pytest.mark.parametrize("slot, what", [(9, "peephole"), (17, "projection"), (21, "layer norm")])
def test_lstm_variants_tflm_refuses(tmp_path, slot, what):
    (tmp_path / "m.tflite").write_bytes(_with_extra_input(slot))
    with pytest.raises(TinyccError, match=what) as e:
        driver.compile_graph(str(tmp_path / "m.tflite"))
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in str(e.value)


def _sequence_matches(tmp_path, data: bytes, mode: str = "host", steps: int = 10):
    model = tmp_path / "lstm.tflite"
    model.write_bytes(data)
    g = driver.compile_graph(str(model))
    batches = random_batch(g, np.random.default_rng(5), steps)
    ours, _ = run_compiled(model, batches, tmp_path, mode=mode, g=g)
    refs = reference_outputs(model, batches, 1)
    assert_match(ours, refs)
    assert len({o[0].tobytes() for o in ours}) == steps        # the outputs move
    return g


@pytest.mark.parametrize("kw", [
    dict(dtype="int8"),
    dict(dtype="int8", time_major=False, batches=3, time=4, cell_clip=0.8, cell_power=-15, seed=2),
    dict(dtype="int16", cell_power=-9, cell_clip=2.5, time_major=False, n_cell=9, n_input=7, seed=5)],
    ids=["int8", "int8_batch_major_clip_q0.15_cell", "16x8_batch_major_clip"])
def test_integer_lstm_sequence_matches_tflm(tmp_path, kw):
    """Gate matmuls onto Q3.12, the table sigmoid/tanh, the int16 cell update and clip, the hidden
    requantization: bit-exact with TFLite Micro over 10 invokes."""
    g = _sequence_matches(tmp_path, lstm_model(**kw))
    batches, n_cell = kw.get("batches", 2), kw.get("n_cell", 4)
    act = 1 if kw["dtype"] == "int8" else 2
    assert g.graph["plan"].state_size >= batches * n_cell * (act + 2)     # hidden + int16 cell


def test_two_layer_int8_lstm(tmp_path):
    """Two stacked int8 LSTMs (the first's output sequence the second's input, the second clipped)."""
    _sequence_matches(tmp_path, lstm_stack_model("int8"))


@pytest.mark.parametrize("model,units", [
    (lambda: lstm_stack_model("int8", time=3, n_input=20, cells=(17, 8)), ["arm_lstm_s8"] * 2),
    (lambda: lstm_stack_model("int16", time=3, n_input=10, cells=(9, 8)), ["arm_lstm_s16"] * 2),
    (lambda: lstm_stack_model("int8", time=3, n_input=12, cells=(10, 6)), ["arm_lstm_w_s8"] * 2),
    (lambda: lstm_stack_model("int16", time=3, n_input=10, cells=(10, 6)), ["arm_lstm_w_s16"] * 2),
    (lambda: lstm_model(dtype="int8", time=3, batches=2, n_input=8, n_cell=12, time_major=True, cell_clip=0.8,
                        cell_power=-12, seed=4), ["arm_lstm_w_s8"])],
    ids=["int8_odd", "16x8_odd", "int8_wide", "16x8_wide", "int8_wide_time_major_clip"])
def test_lstm_dsp_kernels_qemu(tmp_path, model, units):
    """int8 and 16x8 models on Cortex-M4 in QEMU over 10 invokes, through the DSP kernels (fused
    per cell: the 4 gates' rows in one pass, the cell update in registers): tcc_arm_lstm_s8 / _s16
    on the int8 weights interleaved (an odd n_cell, rows whose length is not a multiple of 4, rows
    of more than one pass of 16);
    with even sizes tcc_arm_lstm_w_s8 / _s16 on widened weights with the biases in the stream
    (two stacked layers; one time-major layer of 2 batch rows with a cell clip)."""
    needs_qemu()
    data = model()
    _sequence_matches(tmp_path, data, mode="qemu", steps=10)
    assert list((tmp_path / "out").glob("*tcc_arm_lstm.c")) and not list((tmp_path / "out").glob("*tcc_lstm.c"))
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    g = driver.compile_graph(str(path), target="cortex-m4", optimize="speed")
    assert [ir.op(g, oid).params.packed.impl for oid in ir.ops_in_order(g)] == units


def test_int8_lstm_reset_restores_the_zero_points(tmp_path):
    """NAME_reset puts the int8 hidden state back to its zero point (as TFLite Micro starts it):
    the sequence repeats after it, and on the application's own state."""
    model = tmp_path / "lstm.tflite"
    model.write_bytes(lstm_model(dtype="int8", seed=3))
    ref = assert_reset_repeats_the_sequence(tmp_path, model)
    assert len({row.tobytes() for row in ref}) == len(ref)


def test_integer_lstm_needs_an_int16_cell_state(tmp_path):
    """TFLite Micro's integer kernel takes only an int16 cell state; so does tinycc, in one line."""
    (tmp_path / "m.tflite").write_bytes(lstm_model(dtype="int8", cell_dtype="int8"))
    with pytest.raises(TinyccError, match="needs int16 for input 19, not int8"):
        driver.compile_graph(str(tmp_path / "m.tflite"))


@pytest.mark.parametrize("mode", ["host", "qemu"])
def test_keras_lstm_int8(tmp_path, mode):
    """Two tf_keras LSTM layers and a Dense head as TensorFlow's converter makes them full-integer
    (scripts/make_keras_lstm.py: the converter's intermediate tensors, its cell and hidden scales):
    bit-exact with TFLite Micro over 10 invokes, on the host and on Cortex-M4 (the widened int8
    DSP unit, n_input 10 and 16)."""
    if mode == "qemu":
        needs_qemu()
    data = (Path(__file__).resolve().parent / "data" / "keras_lstm_int8.tflite").read_bytes()
    g = _sequence_matches(tmp_path, data, mode=mode)
    if mode == "qemu":
        assert list((tmp_path / "out").glob("*tcc_arm_lstm.c"))
    assert sum(ir.op(g, o).kind == "UNIDIRECTIONAL_SEQUENCE_LSTM" for o in ir.ops_in_order(g)) == 2


def test_dsp_sigmoid_tanh_equal_the_plain_ones(tmp_path):
    """tcc_arm_lstm.c's sigmoid and tanh (both knots in one word, the sign after the rounding shift)
    give tcc_sigmoid16 / tcc_tanh16's value for every |d| < 2^20 and beyond, on TFLite's table
    (the file compiled for the host: its portable fallbacks, the same arithmetic)."""
    from tinycc import tflm_math
    from tinycc.resources import KERNELS
    table = ", ".join(str(int(v)) for v in tflm_math.sigmoid_table_u16())
    (tmp_path / "t.c").write_text(f"""#include "arm/tcc_arm_lstm.c"
#include <stdio.h>
static const uint16_t table[256] = {{{table}}};
int main(void)
{{
    long bad = 0;
    for (int32_t d = -(1 << 20); d <= (1 << 20); ++d) {{
        bad += tcc_arm_lstm_sigmoid(table, d) != tcc_sigmoid16(table, d);
        bad += tcc_arm_lstm_tanh(table, d) != tcc_tanh16(table, d);
    }}
    for (int32_t d = -2147483647; d < 2147483647 - 9973; d += 9973) {{
        bad += tcc_arm_lstm_sigmoid(table, d) != tcc_sigmoid16(table, d);
        bad += tcc_arm_lstm_tanh(table, d) != tcc_tanh16(table, d);
    }}
    printf("%ld\\n", bad);
    return 0;
}}
""")
    subprocess.run(["gcc", "-std=c99", "-O2", "-I", str(KERNELS), "-I", str(KERNELS / "arm"), str(tmp_path / "t.c"),
                    "-o", str(tmp_path / "t")], check=True, capture_output=True)
    assert subprocess.run([str(tmp_path / "t")], check=True, capture_output=True, text=True).stdout.strip() == "0"
