"""PyTorch models for the zoo (tests/zoo/torch_*.tflite), converted with LiteRT Torch (ai-edge-torch).

Dev time only, like scripts/make_zoo.py: the .tflite files and their tests/zoo/manifest.json
entries are committed. PyTorch and the LiteRT converter live in their own venv (CPU is enough):

    python3.11 -m venv /work/torchenv
    /work/torchenv/bin/pip install ai-edge-torch     # brings torch, torchao, litert-torch
    /work/torchenv/bin/python scripts/make_zoo_torch.py

Each network is converted twice: float32 (``litert_torch.convert``) and int8 with PyTorch's PT2E
static quantization (``torch.export`` -> ``prepare_pt2e`` with LiteRT's PT2EQuantizer, symmetric
per-channel weights, calibrated on 32 random inputs -> ``convert_pt2e``). The converter keeps
NCHW at the model's edges (TRANSPOSE ops) and leaves some operators float between DEQUANTIZE and
QUANTIZE: that is what a PyTorch user's model looks like. Deterministic: fixed torch seeds.
"""
from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as Fn  # noqa: E402

try:
    import litert_torch as converter  # noqa: E402
    from litert_torch.quantize import pt2e_quantizer  # noqa: E402
    from litert_torch.quantize.quant_config import QuantConfig  # noqa: E402
except ImportError:  # older releases are named ai_edge_torch
    import ai_edge_torch as converter  # noqa: E402
    from ai_edge_torch.quantize import pt2e_quantizer  # noqa: E402
    from ai_edge_torch.quantize.quant_config import QuantConfig  # noqa: E402
from ai_edge_litert import schema_py_generated as schema  # noqa: E402
from torchao.quantization.pt2e import quantize_pt2e  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "tests" / "zoo"
OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


class InvertedResidual(nn.Module):
    def __init__(self, c, expand):
        super().__init__()
        h = c * expand
        self.expand = nn.Sequential(nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(h, h, 3, padding=1, groups=h, bias=False), nn.BatchNorm2d(h), nn.Hardswish())
        self.project = nn.Sequential(nn.Conv2d(h, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return x + self.project(self.dw(self.expand(x)))


class TorchClassifier(nn.Module):
    """MobileNetV2/V3-style: strided stem, inverted residuals with ReLU6 / hard-swish, max pool,
    global average pool, linear, softmax."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.b1 = InvertedResidual(16, 2)
        self.down = nn.Sequential(nn.Conv2d(16, 24, 3, stride=2, padding=1), nn.ReLU())
        self.b2 = InvertedResidual(24, 2)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        h = self.b2(self.down(self.b1(self.stem(x))))
        h = self.pool(h).mean(dim=(2, 3))
        return torch.softmax(self.fc(h), dim=-1)


class TorchDetector(nn.Module):
    """YOLO-style two heads: depthwise-separable backbone, nearest upsampling + concatenation,
    a transposed convolution, sigmoid objectness on one head."""

    def __init__(self):
        super().__init__()

        def sep(cin, cout, stride):
            return nn.Sequential(nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False),
                                 nn.BatchNorm2d(cin), nn.ReLU6(),
                                 nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6())
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU6())   # 32
        self.s1 = sep(8, 16, 2)     # 16
        self.s2 = sep(16, 24, 2)    # 8
        self.s3 = sep(24, 32, 2)    # 4
        self.head_small = nn.Conv2d(32, 3 * 6, 1)
        self.lateral = nn.Conv2d(32, 16, 1)
        self.up_t = nn.ConvTranspose2d(24, 8, 2, stride=2)
        self.head_big = nn.Conv2d(16 + 24, 3 * 6, 1)

    def forward(self, x):
        p3 = self.s2(self.s1(self.stem(x)))
        p4 = self.s3(p3)
        out1 = torch.sigmoid(self.head_small(p4))
        u = Fn.interpolate(self.lateral(p4), scale_factor=2, mode="nearest")
        out2 = self.head_big(torch.cat([u, p3], dim=1))
        return out1, out2, self.up_t(p3)


NETWORKS = {
    "torch_classifier": (TorchClassifier, (1, 3, 64, 64),
                         ["CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "HARD_SWISH", "MAX_POOL_2D", "MEAN",
                          "FULLY_CONNECTED", "SOFTMAX", "TRANSPOSE"]),
    "torch_detector": (TorchDetector, (1, 3, 64, 64),
                       ["CONV_2D", "DEPTHWISE_CONV_2D", "RESIZE_NEAREST_NEIGHBOR", "CONCATENATION", "LOGISTIC",
                        "TRANSPOSE_CONV", "TRANSPOSE"]),
}


def randomize(m: nn.Module, gen: torch.Generator):
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.normal_(0, 0.2, generator=gen)
                mod.running_var.uniform_(0.5, 1.5, generator=gen)
                mod.weight.uniform_(0.5, 1.5, generator=gen)
                mod.bias.normal_(0, 0.2, generator=gen)
            elif isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and mod.bias is not None:
                mod.bias.normal_(0, 0.2, generator=gen)
    return m


def model_info(buf: bytes):
    m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(buf, 0))
    sg = m.subgraphs[0]
    ops, float_ops = [], set()
    for op in sg.operators:
        oc = m.operatorCodes[op.opcodeIndex]
        name = OP_NAMES.get(max(oc.builtinCode, oc.deprecatedBuiltinCode), "CUSTOM")
        ops.append(name)
        if any(sg.tensors[t].type == schema.TensorType.FLOAT32 for t in op.outputs):
            float_ops.add(name)
    return (ops, sorted(float_ops), [TYPE_NAMES[sg.tensors[i].type] for i in sg.inputs],
            [TYPE_NAMES[sg.tensors[i].type] for i in sg.outputs])


def convert(net: nn.Module, shape, variant: str, seed: int) -> bytes:
    x = (torch.randn(*shape, generator=torch.Generator().manual_seed(seed)),)
    if variant == "f32":
        return converter.convert(net, x).model_content()
    pm = torch.export.export(net, x).module()
    q = pt2e_quantizer.PT2EQuantizer().set_global(
        pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True))
    pm = quantize_pt2e.prepare_pt2e(pm, q)
    gen = torch.Generator().manual_seed(seed + 1)
    for _ in range(32):
        pm(torch.randn(*shape, generator=gen))
    pm = quantize_pt2e.convert_pt2e(pm, fold_quantize=False)
    return converter.convert(pm, x, quant_config=QuantConfig(pt2e_quantizer=q)).model_content()


def main(argv):
    manifest_path = ZOO / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    models = manifest["models"]
    for i, (name, (cls, shape, want)) in enumerate(NETWORKS.items()):
        if argv and not any(name.startswith(a) for a in argv):
            continue
        torch.manual_seed(100 + i)
        net = randomize(cls().eval(), torch.Generator().manual_seed(200 + i))
        for variant in ("f32", "int8"):
            buf = bytes(convert(net, shape, variant, 300 + i))
            ops, float_ops, ins, outs = model_info(buf)
            missing = sorted(set(want) - set(ops))
            fname = f"{name}_{variant}.tflite"
            (ZOO / fname).write_bytes(buf)
            models[fname[:-7]] = dict(
                file=fname, model=name, variant=variant, intended=sorted(set(want) - set(missing)),
                not_produced={m: "the converter did not emit it" for m in missing}, ops=sorted(set(ops)),
                op_count=len(ops), inputs=[dict(dtype=t, domain="normal") for t in ins], outputs=outs,
                float_ops=float_ops if variant != "f32" else [], bytes=len(buf),
                note=f"PyTorch {torch.__version__} -> LiteRT Torch"
                     + (" (PT2E static int8, per-channel weights)" if variant == "int8" else ""))
            print(f"{fname:40s} {len(buf):8d} B  ops={','.join(sorted(set(ops)))}"
                  + (f"  MISSING {missing}" if missing else ""))
    manifest["torch"] = torch.__version__
    manifest["models"] = dict(sorted(models.items()))
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
