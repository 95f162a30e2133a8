"""Pruned (sparse) weights: tinycc/variants/sparse.py (portable, every target) and arm_sparse.py
(Cortex-M DSP), checked against TFLite Micro on the host and in QEMU, and the memory report's
encoding and decode-cost columns."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from tinycc import driver, ir, ops, report
from tinycc.testing import models_sparse as MS
from tinycc.variants import arm_sparse, sparse

from .conftest import assert_match, needs_qemu, random_batch, reference_outputs, run_compiled


def _kernels(g) -> list[str]:
    return [ops.kernel_impl(ir.op(g, o)) for o in ir.ops_in_order(g)]


def _check(tmp_path, model: bytes, mode: str = "host", samples: int = 3) -> list[str]:
    """Build and run ``model`` (host: generic build; qemu: cortex-m4), compare with TFLite Micro,
    return the kernel of every op."""
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    target = "generic" if mode == "host" else "cortex-m4"
    g = driver.compile_graph(str(path), target=target)
    batches = random_batch(g, np.random.default_rng(0), samples)
    ours, _ = run_compiled(path, batches, tmp_path, mode, g=g)
    assert_match(ours, reference_outputs(path, batches, len(g.graph["outputs"])))
    return _kernels(g)


def test_layouts_keep_every_nonzero_weight():
    rng = np.random.default_rng(0)
    w = rng.integers(-128, 128, (6, 700)).astype(np.int8)
    w[np.abs(w) < 110] = 0                          # ~86 % zeros: gaps over 255 and over 15 taps
    w[3] = 0                                         # a channel without weights
    count, pairs = sparse.entries(w)
    assert np.array_equal(sparse.decode(count, pairs, w.shape[1]), w)
    assert pairs.size < w.size                       # 2 bytes per nonzero (and bridges)
    for row, tap_bytes in itertools.product(w, (16, 8)):
        words = arm_sparse.channel_words(row, tap_bytes)
        back, k = np.zeros(row.size, np.int64), 0
        for word in words:
            for d, v in ((word & 0xFF, (word >> 8) & 0xFF), ((word >> 16) & 0xFF, word >> 24)):
                k += d // tap_bytes
                back[k] += np.int8(np.uint8(v).view(np.int8))
        assert np.array_equal(back, row)
    assert sparse.is_sparse(w) and not sparse.is_sparse(rng.integers(1, 100, (4, 8)))


CASES = [  # kind, input shape, size, pruning, the kernel expected in a generic build
    ("pw", (1, 6, 6, 48), 32, dict(sparsity=0.5), "sparse_conv"),
    ("fc", (2, 96), 24, dict(pattern="2:4"), "sparse_fc"),
    ("fc", (1, 300), 10, dict(sparsity=0.9), "sparse_fc"),          # gaps over 255 taps
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[3].values()))}")
def test_single_op_bit_exact_on_the_host(case, tmp_path):
    kind, shape, size, pruning, kernel = case
    assert _check(tmp_path, MS.single(np.random.default_rng(size), kind, shape, size, **pruning)) == [kernel]


def test_pruned_models_on_the_host_and_in_qemu(tmp_path):
    """A 75 %-pruned DS-CNN-like model (generic build, host) and MobileNet-like model (cortex-m4
    build, QEMU: its convolutions on arm_sparse, the classifier on sparse_fc)."""
    host = tmp_path / "host"
    host.mkdir()
    assert "sparse_conv" in _check(host, MS.ds_cnn(np.random.default_rng(7), sparsity=0.75), samples=2)
    needs_qemu()
    arm = tmp_path / "arm"
    arm.mkdir()
    kernels = _check(arm, MS.mobilenet(np.random.default_rng(7), sparsity=0.75), "qemu", samples=2)
    # the two last 1x1 layers at least (the one before them fits the RAM budget only with arm_dw8
    # next to it; pack_weights now prefers arm_dw3x3 there: fewer estimated cycles in all)
    assert kernels.count("arm_sparse") >= 2 and "sparse_fc" in kernels


def test_arm_sparse_padded_strided_clamped_in_qemu(tmp_path):
    """arm_sparse's general im2col (SAME padding, stride 2, a last block of 6 pixels), an output
    channel without weights, RELU and RELU6 clamps: bit-exact in QEMU."""
    needs_qemu()
    model = MS.pooled_conv(np.random.default_rng(3), sparsity=0.9, dead_channel=True)
    assert _check(tmp_path, model, "qemu", samples=2)[1:] == ["arm_sparse", "arm_sparse"]


def test_arm_sparse_stream_passes_and_markers():
    """A channel of 40 entry words runs 8 words in its first pass, then 2 passes of 16 after a
    marker each; a channel without weights enters at the loop's end; the tail holds bias2, mult,
    add and shift - 1."""
    w = np.zeros((2, 200), np.int8)
    w[0, :80] = np.arange(1, 81)                    # 80 nonzero: 40 words
    s = arm_sparse.pack_stream(w, [5, 7], [2**30, 2**30], [-3, -3], 0, pairs=4).stream.view(np.uint32)
    assert s[0] & 0xFFFF == 4 * 42 and s[0] >> 16 == 8 * arm_sparse.WORD_BYTES[4]
    assert [i for i in range(1, 43) if s[i] == arm_sparse.MARKER] == [9, 26]
    assert s[43:47].view(np.int32).tolist() == [2 * (5 - 2**22), 2**30, 1 << 2, 2]
    assert s[47] == 16 * arm_sparse.WORD_BYTES[4] << 16            # the constant channel


def test_arm_sparse_dw_in_qemu(tmp_path):
    """A 90 %-pruned 5x5 depthwise (no arm_dw8 / arm_dw3x3 for it) on arm_sparse_dw: bit-exact in
    QEMU."""
    needs_qemu()
    nb = MS.PrunedNetBuilder(np.random.default_rng(5), sparsity=0.9)
    x = nb.input((1, 9, 11, 24))
    y = nb.depthwise_conv2d(x, 1, (5, 5), (1, 1), "SAME")
    assert _check(tmp_path, nb.build([x], [y]), "qemu", samples=2) == ["arm_sparse_dw"]


def test_report_names_the_encoding_and_its_decode_cost(tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(MS.mobilenet(np.random.default_rng(7), sparsity=0.75))
    rep = driver.report(str(path), measure=False, target="cortex-m4")
    rows = {r.index: r for r in rep.ops if r.weights}
    sparse_rows = [r for r in rows.values() if r.weights in ("sparse", "sparse8")]
    assert sparse_rows and all(r.decode_cycles is not None for r in sparse_rows)
    assert all(r.decode_cycles == 0 for r in rows.values() if r.weights == "int8")
    big = max(sparse_rows, key=lambda r: r.int8_weight_bytes)
    assert big.decode_cycles < 0 and big.stored_weight_bytes < 0.6 * big.int8_weight_bytes
    text, page = report.format_text(rep), report.format_html(rep)
    assert f"{big.stored_weight_bytes:>10,}  {big.weights:<16} {big.decode_cycles:>+10,}" in text
    assert f"decode {big.decode_cycles:+,} cycles" in page
    assert json.loads(rep.to_json())["ops"][big.step]["decode_cycles"] == big.decode_cycles
