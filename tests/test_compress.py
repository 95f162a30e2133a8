"""Weights compressed in flash (issue 17): INT4 and palette weights, decoded in the kernels'
inner loops (runtime/kernels/tcc_compressed.c), bit-exact with TFLite Micro.

Models: tinycc/testing/models_compress.py (clustered weights, as TF Model Optimization's
cluster_weights makes them, and INT4 weights). TFLite Micro runs INT4 CONV_2D, DEPTHWISE_CONV_2D
and per-tensor FULLY_CONNECTED but refuses INT4 FULLY_CONNECTED with per-channel scales: that
model is compared with its int8 twin (the same values written as INT8).
"""
from __future__ import annotations

import numpy as np
import pytest

from tinycc import compress, driver, report
from tinycc.errors import TinyccError
from tinycc.testing import models_compress as MC
from tinycc.testing.tflite_writer import ModelBuilder

from .conftest import assert_match, needs_qemu, random_batch, reference_outputs, run_compiled


def _codes(g) -> dict[str, compress.WeightCode]:
    """op name -> its compressed weights."""
    out = {}
    for n in g.nodes:
        o = g.nodes[n]["value"]
        if getattr(o, "params", None) is not None and o.params.compressed is not None:
            out[o.name] = o.params.compressed
    return out


def _check(tmp_path, model: bytes, twin: bytes | None = None, samples: int = 3, mode: str = "host") -> dict:
    """Build ``model``, run it (host or QEMU cortex-m4), compare with TFLite Micro running
    ``twin`` (the model itself by default); return the compressed weights of its ops."""
    path, ref = tmp_path / "m.tflite", tmp_path / "ref.tflite"
    path.write_bytes(model)
    ref.write_bytes(twin or model)
    g = driver.compile_graph(str(path))
    batches = random_batch(g, np.random.default_rng(0), samples)
    ours, _ = run_compiled(path, batches, tmp_path, mode, g=g)
    assert_match(ours, reference_outputs(ref, batches, len(g.graph["outputs"])))
    return _codes(g)


def test_choose_is_lossless_and_smallest():
    rng = np.random.default_rng(0)
    shared = rng.integers(-128, 128, 16)
    w16 = np.stack([rng.choice(shared, 300) for _ in range(8)])            # one table of 16 values
    w4 = np.stack([rng.choice(rng.integers(-128, 128, 4), 300) for _ in range(8)])   # 4 values per channel
    w2 = rng.choice([-3, 77], (5, 61))                                       # odd sizes, 1 bit
    for w, enc in ((w16, "palette4"), (w4, "palette2/ch"), (w2, "palette1")):
        c = compress.choose(w, False)
        assert c.encoding.startswith(enc) and np.array_equal(c.decode(*w.shape), w)
        assert c.stored_bytes < w.size
    assert compress.choose(rng.integers(-128, 128, (8, 300)), False) is None      # incompressible
    assert compress.choose(w16, False, "off") is None
    w = rng.integers(-8, 8, (3, 5))                                          # INT4: kept 4-bit even when off
    c = compress.choose(w, True, "off")
    assert c.encoding == "int4" and np.array_equal(c.decode(3, 5), w) and c.model_bytes == 8


CASES = [  # kind, input shape, size, weights, the encoding expected
    ("conv", (1, 6, 6, 64), 16, dict(clusters=16), "palette4"),
    ("conv", (1, 7, 5, 24), 8, dict(clusters=4), "palette2"),
    ("conv", (1, 6, 6, 8), 8, dict(int4=True), "int4"),
    ("dw", (1, 9, 9, 32), 0, dict(clusters=4), "palette2"),
    ("dw", (1, 8, 7, 6), 0, dict(int4=True), "int4"),
    ("fc", (2, 72), 10, dict(clusters=16), "palette4"),
    ("fc", (1, 45), 7, dict(clusters=2), "palette1"),
    ("fc", (1, 64), 10, dict(int4=True), "int4"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[3].items()))}")
def test_single_op_bit_exact(case, tmp_path):
    kind, shape, size, weights, enc = case
    codes = _check(tmp_path, MC.single(np.random.default_rng(len(shape) + size), kind, shape, size, **weights))
    assert [c.encoding[:len(enc)] for c in codes.values()] == [enc]


def _fc_per_channel(w: np.ndarray, dtype: str) -> bytes:
    """FULLY_CONNECTED with per-channel weight scales, its weights ``w`` written as ``dtype``."""
    units, depth = w.shape
    scales = list(np.linspace(0.01, 0.03, units))
    mb = ModelBuilder()
    x = mb.tensor([2, depth], "int8", scale=0.05, zero_point=3)
    wt = mb.tensor([units, depth], dtype, data=w, scale=scales, zero_point=[0] * units)
    bt = mb.tensor([units], "int32", data=np.arange(units) * 37 - 100, scale=[s * 0.05 for s in scales],
                   zero_point=[0] * units)
    y = mb.tensor([2, units], "int8", scale=0.1, zero_point=-2)
    mb.op("FULLY_CONNECTED", [x, wt, bt], [y])
    return mb.build([x], [y])


@pytest.mark.parametrize("depth,mode", [(37, "host"), (64, "qemu")])
def test_int4_per_channel_fully_connected_against_its_int8_twin(depth, mode, tmp_path):
    """TFLite Micro refuses INT4 FULLY_CONNECTED with per-channel scales (its reference kernel's
    int4 path is per-tensor): the reference runs the same values written as INT8. Host: the
    portable kernel; QEMU cortex-m4: tcc_arm_palette_fc_s8 (rows of whole bytes)."""
    if mode == "qemu":
        needs_qemu()
    w = np.random.default_rng(7).integers(-8, 8, (6, depth))
    (c,) = _check(tmp_path, _fc_per_channel(w, "int4"), _fc_per_channel(w, "int8"), mode=mode).values()
    assert c.encoding == "int4" and c.model_bytes == (w.size + 1) // 2 and c.stored_bytes == c.model_bytes


def _stored(model: bytes, tmp_path, compress_mode="auto") -> tuple[int, int]:
    """(bytes tinycc stores, int8 bytes) of the model's conv/FC weights, from the report (whose
    text and HTML name each layer's encoding)."""
    path = tmp_path / "s.tflite"
    path.write_bytes(model)
    rep = driver.report(str(path), measure=False, compress=compress_mode)
    rows = [r for r in rep.ops if r.kind in ("CONV_2D", "FULLY_CONNECTED")]
    text, page = report.format_text(rep), report.format_html(rep)
    for r in rows:
        assert f"{r.stored_weight_bytes:>10,}  {r.weights}" in text
        assert f"{r.model_weight_bytes:,} / {r.stored_weight_bytes:,} ({r.weights})" in page
    return sum(r.stored_weight_bytes for r in rows), sum(r.int8_weight_bytes for r in rows)


def test_ds_cnn_chain_bit_exact_and_stored_bytes(tmp_path):
    """A DS-CNN-like chain, 16- and 4-cluster and INT4 (host), with conv/FC weights in at most
    55 %, 30 % and 52 % of their int8 bytes; --compress off stores int8."""
    ratios = {}
    for name, weights in (("c16", dict(clusters=16)), ("c4", dict(clusters=4)), ("int4", dict(int4=True))):
        model = MC.ds_cnn(np.random.default_rng(3), **weights)
        work = tmp_path / name
        work.mkdir()
        codes = _check(work, model, samples=2)
        assert len(codes) >= 4
        stored, int8 = _stored(model, work)
        ratios[name] = stored / int8
    assert ratios["c16"] <= 0.55 and ratios["c4"] <= 0.30 and ratios["int4"] <= 0.52, ratios
    stored, int8 = _stored(MC.ds_cnn(np.random.default_rng(3), clusters=16), tmp_path, "off")
    assert stored == int8


def test_ds_cnn_int4_in_qemu(tmp_path):
    needs_qemu()
    codes = _check(tmp_path, MC.ds_cnn(np.random.default_rng(5), int4=True), samples=2, mode="qemu")
    assert {c.encoding for c in codes.values()} == {"int4"}


def test_int4_elsewhere_is_refused(tmp_path):
    """An INT4 constant read by anything but a convolution's or FC's weights: one clear line."""
    mb = ModelBuilder()
    x = mb.tensor([1, 4], "int8", scale=0.1, zero_point=0)
    c = mb.tensor([1, 4], "int4", data=np.array([[1, -2, 3, -8]]), scale=0.1, zero_point=0)
    y = mb.tensor([1, 4], "int8", scale=0.1, zero_point=0)
    mb.op("ADD", [x, c], [y])
    path = tmp_path / "m.tflite"
    path.write_bytes(mb.build([x], [y]))
    with pytest.raises(TinyccError, match="INT4 constants are supported only as the weights") as e:
        driver.compile_graph(str(path))
    assert "ADD" in str(e.value)


def test_compressed_conv_output_shares_its_input_at_the_limit(tmp_path):
    """tcc_conv2d_s8c stores a block of pixels after reading all their windows: the planner puts
    the first convolution's output as far into its input as that allows, still bit-exact."""
    nb = MC.CompressNetBuilder(np.random.default_rng(11), clusters=4)
    x = nb.input((1, 9, 7, 16))
    h = nb.conv2d(x, 16, (3, 3), (1, 1), "SAME", activation="RELU")
    h = nb.conv2d(h, 16, (3, 3), (2, 2), "SAME")
    model = nb.build([x], [nb.conv2d(h, 16, (3, 3), (1, 1), "VALID")])
    codes = _check(tmp_path, model)
    assert len(codes) == 3
    rep = driver.report(str(tmp_path / "m.tflite"), measure=False)
    first = next(x for x in rep.overlaps if x.startswith("op0 CONV_2D"))
    assert "output at -128 B" in first and "allowed up to -128" in first


def test_compressed_ds_cnn_cycles_within_15_percent_of_int8_twin(tmp_path):
    """The default cortex-m4 build of a TFLite Micro-compressed 16-cluster DS-CNN (its
    CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED on tcc_arm_palette.c) costs at most 15 % more
    estimated cycles (tinycc bench, QEMU) than the same model's int8 build (--compress off)."""
    needs_qemu()
    from tinycc import bench
    from tinycc.testing import tflm_compress as TC
    plain = MC.ds_cnn(np.random.default_rng(3), clusters=16)
    (tmp_path / "int8.tflite").write_bytes(plain)
    (tmp_path / "lut.tflite").write_bytes(TC.compress(plain))
    ours = bench.bench(str(tmp_path / "lut.tflite"), "cortex-m4")
    twin = bench.bench(str(tmp_path / "int8.tflite"), "cortex-m4", compress="off")
    assert {o.kernel for o in ours.ops if o.macs} == {"arm_palette"}
    assert ours.cycles <= 1.15 * twin.cycles, (ours.cycles, twin.cycles)


def test_arm_palette_pointwise_kernels_in_qemu(tmp_path):
    """tcc_arm_palette_pw8_s8 (a 1x1 convolution, out_c even: channel groups decoded into
    tcc_arm_conv8_s8's stream) and tcc_arm_palette_conv_s8 over all pixels at once (out_c odd: the
    weights decoded once, the outputs stored in place), with the depthwise kernel, bit-exact with
    TFLite Micro in QEMU cortex-m4. (Blocks of im2col windows: the DS-CNN tests.)"""
    needs_qemu()
    nb = MC.CompressNetBuilder(np.random.default_rng(13), clusters=4)
    x = nb.input((1, 16, 16, 8))
    h = nb.conv2d(x, 16, (3, 3), (2, 2), "SAME", activation="RELU")
    h = nb.conv2d(h, 32, (1, 1), (1, 1), "SAME", activation="RELU")
    h = nb.depthwise_conv2d(h, 1, (3, 3), (1, 1), "SAME", activation="RELU6")
    h = nb.conv2d(h, 15, (1, 1), (1, 1), "SAME", activation="RELU")
    h = nb.pool2d(h, "avg", (8, 8), (1, 1), "VALID")
    model = nb.build([x], [nb.fully_connected(nb.reshape(h, (1, 15)), 8)])
    (tmp_path / "m.tflite").write_bytes(model)
    g = driver.compile_graph(str(tmp_path / "m.tflite"), target="cortex-m4")
    packed = {g.nodes[n]["value"].index: g.nodes[n]["value"].params.packed for n in g.nodes
              if getattr(g.nodes[n]["value"], "params", None) is not None}
    assert all(packed[i].impl == "arm_palette" for i in (1, 2, 3))
    assert packed[1].frame is not None and packed[1].group in (8, 16)
    assert packed[3].block == 64 and packed[3].direct and packed[3].frame is None
    _check(tmp_path, model, samples=2, mode="qemu")


def test_mobilenet_like_on_conv8_loops_in_qemu(tmp_path, monkeypatch):
    """The 4-cluster MobileNet-like model (cortex-m4): its 3x3 stride-2 first layer on
    tcc_arm_palette_c8_s8 (bands of rows), pointwise layers on tcc_arm_palette_pw8_s8 (one chunk by
    chunk, its output sharing its input), the
    depthwise ones with the SMMLAR requantization (frame), one of them a row at a time (band:
    its padded plane over the RAM budget), others with their taps decoded for tcc_arm_depthwise3x3_s8
    (tcc_arm_palette_dw3_s8; the dw8 packings are left out here, as arm_dw8's plane kernel now
    wins some of these layers: test_arm_palette_wide_pairs_and_dw8_in_qemu runs them), bit-exact
    with TFLite Micro in QEMU."""
    needs_qemu()
    from tinycc.variants import arm_palette
    monkeypatch.setattr(arm_palette, "_dw8_packs", lambda g, o: [])
    model = MC.mobilenet(np.random.default_rng(3), clusters=4)
    (tmp_path / "m.tflite").write_bytes(model)
    g = driver.compile_graph(str(tmp_path / "m.tflite"), target="cortex-m4")
    packed = {g.nodes[n]["value"].index: g.nodes[n]["value"].params.packed for n in g.nodes
              if getattr(g.nodes[n]["value"], "params", None) is not None}
    assert packed[0].impl == "arm_palette" and packed[0].rows > 0
    assert any(pk.impl == "arm_palette" and pk.group and not pk.rows and not pk.in_place for pk in packed.values())
    assert packed[2].impl == "arm_palette" and packed[2].in_place      # its output shares its input
    assert packed[3].impl == "arm_palette" and packed[3].frame is not None and packed[3].direct
    assert packed[5].dw3 is not None                                     # on arm_dw3x3's loops
    _check(tmp_path, model, samples=2, mode="qemu")


def test_pair_order_and_small_tensors():
    """compress.pair_order stores each 4 weights as w0 w2 w1 w3 (the same bytes); a palette is
    chosen only where it takes at most 3/4 of the int8 bytes (tables eating the savings: int8) of a
    tensor of at least 256 weights (a first layer's few weights stay int8)."""
    rng = np.random.default_rng(1)
    w = rng.choice(rng.integers(-128, 128, 16), (6, 48))
    c = compress.choose(w, False)
    p = compress.pair_order(c, 6, 48)
    assert p.index.size == c.index.size and p.encoding == c.encoding
    assert np.array_equal(p.decode(6, 48).reshape(-1, 4)[:, [0, 2, 1, 3]], w.reshape(-1, 4))
    tables = np.stack([rng.choice(rng.integers(-128, 128, 16), 36) for _ in range(8)])  # 8 tables of 16
    assert compress.choose(tables, False) is None
    assert compress.choose(w[:5], False) is None and compress.choose(w[:6, :44], False) is not None   # 240, 264 weights


def test_arm_palette_wide_pairs_and_dw8_in_qemu(tmp_path, monkeypatch):
    """tcc_arm_palette_dw8_s8 (depthwise taps decoded for tcc_arm_dw8, with and without the clamp;
    tcc_arm_palette_dw3_s8 left out here, the MobileNet-like test runs it) and tcc_arm_palette_pw8_s8 on
    tcc_arm_conv8w_s8 (int16 pair words) through pair tables of shared tables (16 clusters, 4
    tables), straight from per-channel 4-bit tables, and through each channel pair's own pair
    tables (4 clusters per channel); bit-exact with TFLite Micro in QEMU cortex-m4."""
    needs_qemu()
    from tinycc.variants import arm_palette
    monkeypatch.setattr(arm_palette, "_dw3_packs", lambda g, o: [])
    nb = MC.CompressNetBuilder(np.random.default_rng(17), clusters=4)
    x = nb.input((1, 32, 32, 32))
    h = nb.depthwise_conv2d(x, 1, (3, 3), (2, 2), "SAME", activation="RELU6")
    h = nb.depthwise_conv2d(h, 1, (3, 3), (2, 2), "SAME", activation="RELU6")
    h = nb.depthwise_conv2d(h, 1, (3, 3), (1, 1), "SAME")
    nb.clusters = 16
    h = nb.conv2d(h, 128, (1, 1), (1, 1), "SAME", activation="RELU")
    nb.per_channel = True
    h = nb.conv2d(h, 64, (1, 1), (1, 1), "SAME", activation="RELU")
    nb.clusters = 4
    model = nb.build([x], [nb.conv2d(h, 64, (1, 1), (1, 1), "SAME")])
    (tmp_path / "m.tflite").write_bytes(model)
    g = driver.compile_graph(str(tmp_path / "m.tflite"), target="cortex-m4")
    packed = {g.nodes[n]["value"].index: g.nodes[n]["value"].params.packed for n in g.nodes
              if getattr(g.nodes[n]["value"], "params", None) is not None}
    assert all(packed[i].impl == "arm_palette" for i in range(6))
    assert all(packed[i].dw8 is not None for i in range(3))
    assert packed[3].wide and packed[3].pairs == 4
    assert packed[4].wide and not packed[4].pairs
    assert packed[5].wide and packed[5].pairs == 2
    codes = _check(tmp_path, model, samples=2, mode="qemu")
    assert [c.encoding for c in codes.values()][3:] == ["palette4x4", "palette4/ch", "palette2/ch"]
