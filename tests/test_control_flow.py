"""IF and WHILE (``tinycc/ops/control_flow.py``): subgraphs as static functions whose arena is the
calling op's scratch, checked against TFLite Micro on models from ``models_control``."""
from __future__ import annotations

import pytest

from tinycc import bench, driver, ir
from tinycc.errors import TinyccError
from tinycc.testing import models_control

from .conftest import needs_qemu


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_if(tmp_path, check_model, dtype):
    f = tmp_path / "if.tflite"
    f.write_bytes(models_control.if_model(dtype))
    check_model(f, samples=8)


@pytest.mark.parametrize("model", ["accumulate_nested", "rnn"])
def test_while(tmp_path, check_model, model):
    """A data-dependent count of loops (2 to 4 here) with an IF inside the body (the nested
    call), and the int8 recurrent cell over 5 time steps."""
    build = {"accumulate_nested": models_control.while_accumulate_model,
             "rnn": models_control.while_rnn_model}[model]
    f = tmp_path / "while.tflite"
    f.write_bytes(build())
    check_model(f, samples=6)


@pytest.mark.parametrize("fault, message", [
    ("recursion", "operator 0 (WHILE in subgraph 2): body_subgraph_index 2 calls a subgraph that is running"),
    ("types", "operator 0 (IF): tensor 'x': then subgraph 1's input tensor a is int8 [1, 4], the operator's float32"),
    ("index", "operator 0 (IF): subgraph index 7 out of range (model has 3 subgraphs)"),
    ("cond", "the condition (input 0) must be a bool of one element, not float32 [1]"),
])
def test_refused(fault, message):
    with pytest.raises(TinyccError) as e:
        driver.compile_graph(models_control.broken_model(fault))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_while_rnn_cortex_m4(tmp_path, check_model):
    """A recurrent cell whose FCs are large enough for the default flash budget, in QEMU
    (cortex-m4, --optimize speed): the body's FCs get the fast DSP kernels as subgraph 0's would
    (``passes.compile_subgraphs``), the bench lists them under the WHILE, and the outputs stay
    bit-exact with TFLite Micro. Measured: 306 k est. cycles against 1.41 M with the plain kernels
    (tinycc bench, after the flash budget check of driver.generate)."""
    needs_qemu()
    f = tmp_path / "rnn.tflite"
    f.write_bytes(models_control.while_rnn_model(steps=4, features=320, units=96))
    g = driver.compile_graph(str(f), target="cortex-m4")
    body = g.graph["subgraphs"][2]
    fcs = [ir.op(body, n) for n in ir.ops_in_order(body) if ir.op(body, n).kind == "FULLY_CONNECTED"]
    assert len(fcs) == 2 and all(o.params.packed is not None for o in fcs)
    check_model(f, samples=3, mode="qemu", target="cortex-m4")
    r = bench.bench(str(f), "cortex-m4")
    rows = [o for o in r.ops if o.subgraph == 2 and o.kind == "FULLY_CONNECTED"]
    assert [o.kernel for o in rows] == [o.params.packed.impl for o in fcs]
    assert "sg2:1 FULLY_CONNECTED      arm_" in bench.format_text(r)
    assert r.cycles < 0.5 * 39_936 * 35          # the plain kernels: 35 est. cycles per MAC
