#!/usr/bin/env python3
"""Model zoo: real library architectures exported the way people export them.

    .venv-gen/bin/python test/zoo/generate.py [OUTDIR] [--only SUBSTR ...] [--list]

OUTDIR defaults to test/zoo/models. Every model is built from the real library
class (torchvision, transformers; the YOLO-style detector is plain torch),
at a small configuration, with the library's own random initialisation
(seeded), and exported by

    ts17    torch.onnx.export(..., dynamo=False, opset_version=17)   (TorchScript)
    dynamo  torch.onnx.export(..., dynamo=True)                      (its default opset)

For every export that succeeds the generator checks it (onnx.checker full
check, ONNX Runtime against the torch module on the sample and on a second
input shape) and writes, as test/models/gen_e2e.py does:

    <name>.onnx          the exported file, bytes as the exporter wrote them
    <name>.in.<k>.npy    sample input k (k = position in graph.input)
    <name>.out.<k>.npy   ONNX Runtime reference for output k (CPU EP, ORT_DISABLE_ALL,
                         one thread)
    manifest.json        per model: inputs/outputs (name, dtype, dims, sample_shape),
                         ops, tolerance, plus exporter, opset, source class, op counts,
                         torch-vs-ORT differences, don't-care regions; export_failures

<name> is <model>.<exporter>, e.g. resnet18.ts17, glm4_decode.dynamo.
Needs requirements/gen.txt (torch, torchvision, transformers, onnx, onnxruntime,
onnxscript). See test/zoo/README.md.
"""

import argparse
import collections
import contextlib
import hashlib
import json
import math
import os
import sys
import time
import traceback
import warnings
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TS_OPSET = 17
IMG = 64  # CNN sample resolution

# --------------------------------------------------------------------------- helpers


def seed_all(seed):
    import random

    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def name_seed(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def nparams(m):
    return int(sum(p.numel() for p in m.parameters()))


def calibrate_bn(model, shape, seed, batches=4):
    """Give BatchNorm layers realistic running statistics: cumulative averages over a few
    seeded random batches in train mode (no weight update). Without this every BN is the
    identity-like mean 0 / var 1 of a fresh module."""
    import torch
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return 0
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    g = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(*shape, generator=g))
    model.eval()
    return len(bns)


class Spec:
    """What one model needs for export and checking."""

    def __init__(self, module, args, input_names, output_names, dynamic, source, config,
                 sample=None, alt=None, dont_care=None, doc=""):
        # nn.Module taking positional tensors, returning tensor(s). eval() on the wrapper too:
        # torch.onnx.export restores the wrapper's training flag afterwards, recursively.
        self.module = module.eval()
        self.args = args                # torch tensors used for tracing/exporting
        self.sample = sample if sample is not None else args  # reference inputs (torch)
        self.alt = alt                  # second input set of another shape (or None)
        self.input_names = input_names
        self.output_names = output_names
        self.dynamic = dynamic          # name -> {axis: dim name}
        self.source = source
        self.config = config
        self.dont_care = dont_care or {}  # output index -> description (see manifest)
        self.doc = doc


# --------------------------------------------------------------------------- torchvision


def narrow_resnet(block_name, layers, width, num_classes=10):
    """torchvision.models.resnet.ResNet with every width scaled by width/64.

    ResNet hard-codes the stem (64) and the stage widths (64, 128, 256, 512); a full
    resnet18 is 45 MB of fp32 weights. This subclass only changes those numbers: the
    stages are built by ResNet._make_layer with planes * width / 64, the stem conv/BN and
    the fc are rebuilt at the reduced width. forward() and the blocks are torchvision's.
    """
    import torch
    from torchvision.models import resnet

    block = getattr(resnet, block_name)

    class NarrowResNet(resnet.ResNet):
        def __init__(self):
            self._w = width
            super().__init__(block, layers, num_classes=num_classes)
            self.conv1 = torch.nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = torch.nn.BatchNorm2d(width)
            self.fc = torch.nn.Linear(8 * width * block.expansion, num_classes)
            torch.nn.init.kaiming_normal_(self.conv1.weight, mode="fan_out", nonlinearity="relu")

        def _make_layer(self, blk, planes, blocks, stride=1, dilate=False):
            if planes == 64:
                self.inplanes = self._w
            return super()._make_layer(blk, planes * self._w // 64, blocks, stride, dilate)

    return NarrowResNet()


def cnn_spec(name, build, source, config, img=IMG):
    import torch
    seed = name_seed(name)
    seed_all(seed)
    model = build()
    nbn = calibrate_bn(model, (8, 3, img, img), seed + 1)
    model.eval()
    g = torch.Generator().manual_seed(seed + 2)
    x = torch.randn(2, 3, img, img, generator=g)
    x_alt = torch.randn(1, 3, img, img, generator=g)
    config = dict(config, params=nparams(model), bn_layers_calibrated=nbn, input=[2, 3, img, img])
    return Spec(model, (x,), ["input"], ["logits"], {"input": {0: "batch"}, "logits": {0: "batch"}},
                source, config, alt=(x_alt,))


def build_resnet18():
    return cnn_spec("resnet18", lambda: narrow_resnet("BasicBlock", [2, 2, 2, 2], 16),
                    "torchvision.models.resnet.ResNet(BasicBlock, [2, 2, 2, 2]) (resnet18 topology), "
                    "widths x 1/4 via a subclass that rescales ResNet's hard-coded widths",
                    dict(block="BasicBlock", layers=[2, 2, 2, 2], widths=[16, 32, 64, 128],
                         stem=16, num_classes=10))


def build_resnet50():
    return cnn_spec("resnet50", lambda: narrow_resnet("Bottleneck", [3, 4, 6, 3], 8),
                    "torchvision.models.resnet.ResNet(Bottleneck, [3, 4, 6, 3]) (resnet50 topology), "
                    "widths x 1/8 via a subclass that rescales ResNet's hard-coded widths",
                    dict(block="Bottleneck", layers=[3, 4, 6, 3], widths=[8, 16, 32, 64],
                         expansion=4, stem=8, num_classes=10))


def build_mobilenet_v2():
    from torchvision.models import mobilenet_v2
    return cnn_spec("mobilenet_v2", lambda: mobilenet_v2(width_mult=0.25, num_classes=10),
                    "torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10)",
                    dict(width_mult=0.25, num_classes=10))


def build_mobilenet_v3_small():
    from torchvision.models import mobilenet_v3_small
    return cnn_spec("mobilenet_v3_small", lambda: mobilenet_v3_small(width_mult=0.35, num_classes=10),
                    "torchvision.models.mobilenet_v3_small(width_mult=0.35, num_classes=10)",
                    dict(width_mult=0.35, num_classes=10))


def build_efficientnet_b0():
    from torchvision.models import efficientnet

    def mk():
        setting, last = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25,
                                                        depth_mult=1.0)
        return efficientnet.EfficientNet(setting, dropout=0.2, num_classes=10, last_channel=last)
    return cnn_spec("efficientnet_b0", mk,
                    "torchvision.models.efficientnet.EfficientNet(_efficientnet_conf('efficientnet_b0', "
                    "width_mult=0.25, depth_mult=1.0)) (b0 depth, widths x 1/4)",
                    dict(width_mult=0.25, depth_mult=1.0, num_classes=10))


def build_convnext_tiny():
    from torchvision.models import convnext
    C = convnext.CNBlockConfig
    widths, depths = [16, 32, 64, 128], [2, 2, 6, 2]

    def mk():
        cfg = [C(widths[i], widths[i + 1] if i < 3 else None, depths[i]) for i in range(4)]
        # layer_scale: torchvision's default 1e-6 scales every block's residual branch to
        # nothing at init (a pruned or miscompiled block would not show in the output);
        # trained ConvNeXts have layer scales around 0.1-1.
        return convnext.ConvNeXt(cfg, stochastic_depth_prob=0.1, layer_scale=0.5, num_classes=10)
    return cnn_spec("convnext_tiny", mk,
                    "torchvision.models.convnext.ConvNeXt (convnext_tiny structure: CNBlock, "
                    "LayerNorm2d, 4x4 patchify stem) with CNBlockConfig widths 16/32/64/128, depths "
                    "2/2/6/2, layer_scale=0.5",
                    dict(widths=widths, depths=depths, layer_scale=0.5, num_classes=10))


def build_regnet_y():
    from torchvision.models import regnet

    bp_args = dict(depth=10, w_0=24, w_a=12.0, w_m=2.0, group_width=8, se_ratio=0.25)

    def mk():
        return regnet.RegNet(regnet.BlockParams.from_init_params(**bp_args), num_classes=10,
                             stem_width=16)
    return cnn_spec("regnet_y", mk,
                    "torchvision.models.regnet.RegNet(BlockParams.from_init_params(depth=10, w_0=24, "
                    "w_a=12, w_m=2, group_width=8, se_ratio=0.25)) (RegNetY: grouped 3x3, SE)",
                    dict(bp_args, stem_width=16, num_classes=10))


# --------------------------------------------------------------------------- YOLO-style detector


def build_yolo():
    import torch
    from torch import nn

    class Conv(nn.Module):
        def __init__(self, c1, c2, k=1, s=1, p=None):
            super().__init__()
            self.conv = nn.Conv2d(c1, c2, k, s, k // 2 if p is None else p, bias=False)
            self.bn = nn.BatchNorm2d(c2)
            self.act = nn.SiLU()

        def forward(self, x):
            return self.act(self.bn(self.conv(x)))

    class Bottleneck(nn.Module):
        def __init__(self, c, shortcut=True):
            super().__init__()
            self.cv1, self.cv2 = Conv(c, c, 1), Conv(c, c, 3)
            self.add = shortcut

        def forward(self, x):
            y = self.cv2(self.cv1(x))
            return x + y if self.add else y

    class C3(nn.Module):
        def __init__(self, c1, c2, n=1, shortcut=True):
            super().__init__()
            c_ = c2 // 2
            self.cv1, self.cv2, self.cv3 = Conv(c1, c_), Conv(c1, c_), Conv(2 * c_, c2)
            self.m = nn.Sequential(*(Bottleneck(c_, shortcut) for _ in range(n)))

        def forward(self, x):
            return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))

    class SPPF(nn.Module):
        def __init__(self, c1, c2, k=5):
            super().__init__()
            c_ = c1 // 2
            self.cv1, self.cv2 = Conv(c1, c_), Conv(c_ * 4, c2)
            self.m = nn.MaxPool2d(k, 1, k // 2)

        def forward(self, x):
            x = self.cv1(x)
            y1 = self.m(x)
            y2 = self.m(y1)
            return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))

    class Detect(nn.Module):
        def __init__(self, nc, anchors, ch, strides):
            super().__init__()
            self.nc, self.no, self.nl, self.na = nc, nc + 5, len(anchors), len(anchors[0]) // 2
            self.m = nn.ModuleList(nn.Conv2d(c, self.no * self.na, 1) for c in ch)
            # anchors in grid units (pixels / stride), as YOLOv5 stores them
            a = torch.tensor(anchors, dtype=torch.float32).view(self.nl, -1, 2)
            self.register_buffer("anchors", a / torch.tensor(strides).view(-1, 1, 1))
            self.strides = strides

        def forward(self, xs):
            z = []
            for i, x in enumerate(xs):
                x = self.m[i](x)
                bs, _, ny, nx = x.shape
                x = x.view(bs, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).contiguous()
                yv, xv = torch.meshgrid(torch.arange(ny, dtype=torch.float32),
                                        torch.arange(nx, dtype=torch.float32), indexing="ij")
                grid = torch.stack((xv, yv), 2).view(1, 1, ny, nx, 2) - 0.5
                anchor_grid = (self.anchors[i] * self.strides[i]).view(1, self.na, 1, 1, 2)
                y = x.sigmoid()
                xy, wh, conf = y.split((2, 2, self.nc + 1), 4)
                xy = (xy * 2 + grid) * self.strides[i]
                wh = (wh * 2) ** 2 * anchor_grid
                z.append(torch.cat((xy, wh, conf), 4).view(bs, self.na * ny * nx, self.no))
            return torch.cat(z, 1)

    class TinyYolo(nn.Module):
        """YOLOv5-style: CSP backbone, SPPF, PAN neck with nearest upsampling, 3-scale head
        with in-graph box decoding (meshgrid grid, sigmoid, anchors)."""

        def __init__(self, nc=4, w=(8, 16, 24, 48, 96)):
            super().__init__()
            a, b, c, d, e = w
            self.b0 = Conv(3, a, 6, 2, 2)
            self.b1 = nn.Sequential(Conv(a, b, 3, 2), C3(b, b, 1))
            self.b2 = nn.Sequential(Conv(b, c, 3, 2), C3(c, c, 2))       # P3 /8
            self.b3 = nn.Sequential(Conv(c, d, 3, 2), C3(d, d, 2))       # P4 /16
            self.b4 = nn.Sequential(Conv(d, e, 3, 2), C3(e, e, 1), SPPF(e, e))  # P5 /32
            self.h0 = Conv(e, d, 1)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.h1 = C3(2 * d, d, 1, False)
            self.h2 = Conv(d, c, 1)
            self.h3 = C3(2 * c, c, 1, False)                             # out P3
            self.h4 = Conv(c, c, 3, 2)
            self.h5 = C3(2 * c, d, 1, False)                             # out P4
            self.h6 = Conv(d, d, 3, 2)
            self.h7 = C3(2 * d, e, 1, False)                             # out P5
            self.detect = Detect(nc, [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119],
                                      [116, 90, 156, 198, 373, 326]], (c, d, e), (8.0, 16.0, 32.0))

        def forward(self, x):
            p3 = self.b2(self.b1(self.b0(x)))
            p4 = self.b3(p3)
            p5 = self.b4(p4)
            t5 = self.h0(p5)
            t4 = self.h2(self.h1(torch.cat((self.up(t5), p4), 1)))
            o3 = self.h3(torch.cat((self.up(t4), p3), 1))
            o4 = self.h5(torch.cat((self.h4(o3), t4), 1))
            o5 = self.h7(torch.cat((self.h6(o4), t5), 1))
            return self.detect([o3, o4, o5])

    seed = name_seed("yolo")
    seed_all(seed)
    model = TinyYolo()
    nbn = calibrate_bn(model, (8, 3, 96, 96), seed + 1)
    g = torch.Generator().manual_seed(seed + 2)
    x = torch.randn(2, 3, 96, 96, generator=g)
    x_alt = torch.randn(1, 3, 64, 128, generator=g)
    return Spec(model, (x,), ["images"], ["detections"],
                {"images": {0: "batch", 2: "height", 3: "width"},
                 "detections": {0: "batch", 1: "anchors"}},
                "test/zoo/generate.py TinyYolo (YOLOv5-style, plain torch: Conv-BN-SiLU, C3, SPPF, "
                "nn.Upsample nearest, torch.cat, Detect with arange/meshgrid grid decode)",
                dict(num_classes=4, widths=[8, 16, 24, 48, 96], anchors_per_scale=3,
                     strides=[8, 16, 32], params=nparams(model), bn_layers_calibrated=nbn,
                     input=[2, 3, 96, 96], note="height/width dynamic (multiples of 32)"),
                alt=(x_alt,))


# --------------------------------------------------------------------------- transformers

LM_COMMON = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                 max_position_embeddings=256, pad_token_id=0, bos_token_id=1, eos_token_id=2)

LM_FAMILIES = {
    # name: (config class, model class, extra config)
    "glm": ("GlmConfig", "GlmForCausalLM", dict(attention_bias=True)),
    "glm4": ("Glm4Config", "Glm4ForCausalLM", dict(attention_bias=True)),
    "llama": ("LlamaConfig", "LlamaForCausalLM", dict()),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", dict()),
}
PAD_LEFT = 4  # row 1 of the [2, 12] sample batch has 4 left-padding tokens


def make_lm(family):
    import torch
    import transformers
    cfg_cls, model_cls, extra = LM_FAMILIES[family]
    cfg = getattr(transformers, cfg_cls)(**LM_COMMON, **extra)
    seed_all(name_seed(family))
    model = getattr(transformers, model_cls)(cfg).eval()
    src = f"transformers.{model_cls}({cfg_cls}(...)) (attn_implementation={model.config._attn_implementation})"
    conf = {k: v for k, v in cfg.to_dict().items()
            if k in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                     "num_attention_heads", "num_key_value_heads", "head_dim", "attention_bias",
                     "rope_parameters", "rms_norm_eps", "tie_word_embeddings", "initializer_range",
                     "hidden_act")}
    conf["params"] = nparams(model)
    conf["attn_implementation"] = model.config._attn_implementation
    return model, src, conf, torch


def padded_batch(vocab, seed, batch=2, seq=12, pad_left=PAD_LEFT):
    """HF generate() style left padding: pad id 0, position_ids = cumsum(mask) - 1, padded
    positions get position 1."""
    import torch
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, vocab, (batch, seq), generator=g)
    mask = torch.ones(batch, seq, dtype=torch.int64)
    mask[1, :pad_left] = 0
    ids[1, :pad_left] = 0
    pos = mask.cumsum(-1) - 1
    pos = pos.masked_fill(mask == 0, 1)
    return ids, mask, pos


def lm_full(family):
    import torch
    model, src, conf, _ = make_lm(family)

    class FullSeq(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, position_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          position_ids=position_ids, use_cache=False).logits

    ids, mask, pos = padded_batch(conf["vocab_size"], name_seed(family) + 3)
    g = torch.Generator().manual_seed(name_seed(family) + 4)
    ids3 = torch.randint(3, conf["vocab_size"], (3, 7), generator=g)
    alt = (ids3, torch.ones(3, 7, dtype=torch.int64), torch.arange(7).expand(3, 7).contiguous())
    dyn = {n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask", "position_ids", "logits")}
    return Spec(FullSeq(model), (ids, mask, pos), ["input_ids", "attention_mask", "position_ids"],
                ["logits"], dyn, src, dict(conf, sample="[2, 12], row 1 left-padded by 4"), alt=alt,
                dont_care={0: {"input": "attention_mask", "where": "== 0", "axes": [0, 1],
                               "why": "query rows of padding tokens attend to no key; their value "
                                      "depends on how an implementation treats a fully masked "
                                      "softmax row (torch eager, the two exporters and ORT differ)"}},
                doc="full sequence, optimum input order; sample is a left-padded batch")


def lm_decode(family):
    import torch
    model, src, conf, _ = make_lm(family)
    L, KV, HD = conf["num_hidden_layers"], conf["num_key_value_heads"], conf["head_dim"]
    assert L == 2  # Decode.forward below spells out the 2 layers' tensors

    class Decode(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, position_ids, pk0, pv0, pk1, pv1):
            from transformers import DynamicCache
            cache = DynamicCache(ddp_cache_data=[(pk0, pv0), (pk1, pv1)])
            out = self.m(input_ids=input_ids, attention_mask=attention_mask,
                         position_ids=position_ids, cache=cache, use_cache=True)
            pres = []
            for layer in out.cache.layers:
                pres += [layer.keys, layer.values]
            return (out.logits, *pres)

    past_names, pres_names = [], []
    for i in range(L):
        past_names += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        pres_names += [f"present.{i}.key", f"present.{i}.value"]
    dec = Decode(model)
    # export args: 2 new tokens on a past of 3 (no seq==1 specialisation in the trace)
    g = torch.Generator().manual_seed(name_seed(family) + 5)
    B, T, P = 2, 2, 3
    e_ids = torch.randint(3, conf["vocab_size"], (B, T), generator=g)
    e_mask = torch.ones(B, P + T, dtype=torch.int64)
    e_pos = (torch.arange(T) + P).expand(B, T).contiguous()
    e_past = [torch.randn(B, KV, P, HD, generator=g) * 0.5 for _ in range(2 * L)]
    # sample: one decode step after an 11-token prefill of the left-padded batch (torch)
    ids, mask, pos = padded_batch(conf["vocab_size"], name_seed(family) + 3)
    with torch.no_grad():
        pre = dec(ids[:, :11], mask[:, :11], pos[:, :11],
                  *[torch.zeros(B, KV, 0, HD) for _ in range(2 * L)])
    s_past = [t.contiguous() for t in pre[1:]]
    sample = (ids[:, 11:12], mask, pos[:, 11:12], *s_past)
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "position_ids": {0: "batch", 1: "seq"},
           "attention_mask": {0: "batch", 1: "total_seq"}, "logits": {0: "batch", 1: "seq"}}
    for n in past_names:
        dyn[n] = {0: "batch", 2: "past_seq"}
    for n in pres_names:
        dyn[n] = {0: "batch", 2: "total_seq"}
    return Spec(dec, (e_ids, e_mask, e_pos, *e_past),
                ["input_ids", "attention_mask", "position_ids"] + past_names,
                ["logits"] + pres_names, dyn, src + ", KV-cache decode step (DynamicCache)",
                dict(conf, sample="1 new token on an 11-token past of the left-padded [2, 12] batch",
                     export_args="2 new tokens on a past of 3"),
                sample=sample, alt=(e_ids, e_mask, e_pos, *e_past),
                doc="KV-cache decode step, optimum naming: past_key_values.{i}.key/value -> "
                    "present.{i}.key/value; attention_mask is [batch, past_seq + seq]")


def build_bert():
    import torch
    from transformers import BertConfig, BertModel
    cfg = BertConfig(vocab_size=512, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=128, max_position_embeddings=64, type_vocab_size=2)
    seed_all(name_seed("bert"))
    model = BertModel(cfg).eval()

    class W(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            o = self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return o.last_hidden_state, o.pooler_output

    g = torch.Generator().manual_seed(name_seed("bert") + 3)
    ids = torch.randint(5, 512, (2, 12), generator=g)
    mask = torch.ones(2, 12, dtype=torch.int64)
    mask[1, 8:] = 0
    ids[1, 8:] = 0
    tt = torch.zeros(2, 12, dtype=torch.int64)
    tt[:, 6:] = 1
    tt[1, 8:] = 0
    ids3 = torch.randint(5, 512, (1, 9), generator=g)
    alt = (ids3, torch.ones(1, 9, dtype=torch.int64), torch.zeros(1, 9, dtype=torch.int64))
    dyn = {n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask", "token_type_ids",
                                                 "last_hidden_state")}
    dyn["pooler_output"] = {0: "batch"}
    conf = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                vocab_size=512, params=nparams(model),
                attn_implementation=model.config._attn_implementation,
                sample="[2, 12], row 1 right-padded by 4, token types 0/1")
    return Spec(W(model), (ids, mask, tt), ["input_ids", "attention_mask", "token_type_ids"],
                ["last_hidden_state", "pooler_output"], dyn,
                f"transformers.BertModel(BertConfig(...)) (attn_implementation={conf['attn_implementation']})",
                conf, alt=alt)


def build_vit():
    import torch
    from transformers import ViTConfig, ViTModel
    cfg = ViTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                    image_size=32, patch_size=8, num_channels=3)
    seed_all(name_seed("vit"))
    model = ViTModel(cfg).eval()

    class W(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, pixel_values):
            o = self.m(pixel_values=pixel_values)
            return o.last_hidden_state, o.pooler_output

    g = torch.Generator().manual_seed(name_seed("vit") + 3)
    x = torch.randn(2, 3, 32, 32, generator=g)
    conf = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                image_size=32, patch_size=8, params=nparams(model),
                attn_implementation=model.config._attn_implementation)
    return Spec(W(model), (x,), ["pixel_values"], ["last_hidden_state", "pooler_output"],
                {"pixel_values": {0: "batch"}, "last_hidden_state": {0: "batch"},
                 "pooler_output": {0: "batch"}},
                f"transformers.ViTModel(ViTConfig(...)) (attn_implementation={conf['attn_implementation']})",
                conf, alt=(torch.randn(1, 3, 32, 32, generator=g),))


def build_whisper_encoder():
    import torch
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder
    cfg = WhisperConfig(d_model=64, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=128,
                        num_mel_bins=80, max_source_positions=64, decoder_layers=2,
                        decoder_attention_heads=4, decoder_ffn_dim=128, vocab_size=512)
    seed_all(name_seed("whisper_encoder"))
    model = WhisperEncoder(cfg).eval()

    class W(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_features):
            return self.m(input_features=input_features).last_hidden_state

    g = torch.Generator().manual_seed(name_seed("whisper_encoder") + 3)
    x = torch.randn(2, 80, 128, generator=g)
    conf = dict(d_model=64, encoder_layers=2, encoder_attention_heads=4, encoder_ffn_dim=128,
                num_mel_bins=80, max_source_positions=64, params=nparams(model),
                attn_implementation=model.config._attn_implementation,
                note="input length fixed at 2 * max_source_positions = 128 frames")
    return Spec(W(model), (x,), ["input_features"], ["last_hidden_state"],
                {"input_features": {0: "batch"}, "last_hidden_state": {0: "batch"}},
                "transformers.models.whisper.modeling_whisper.WhisperEncoder(WhisperConfig(...)) "
                "(conv1d stem + GELU + sinusoidal positions + attention)", conf,
                alt=(torch.randn(1, 80, 128, generator=g),))


MODELS = collections.OrderedDict([
    ("resnet18", build_resnet18),
    ("resnet50", build_resnet50),
    ("mobilenet_v2", build_mobilenet_v2),
    ("mobilenet_v3_small", build_mobilenet_v3_small),
    ("efficientnet_b0", build_efficientnet_b0),
    ("convnext_tiny", build_convnext_tiny),
    ("regnet_y", build_regnet_y),
    ("yolo", build_yolo),
    ("glm", lambda: lm_full("glm")),
    ("glm_decode", lambda: lm_decode("glm")),
    ("glm4", lambda: lm_full("glm4")),
    ("glm4_decode", lambda: lm_decode("glm4")),
    ("llama", lambda: lm_full("llama")),
    ("llama_decode", lambda: lm_decode("llama")),
    ("qwen2", lambda: lm_full("qwen2")),
    ("bert", build_bert),
    ("vit", build_vit),
    ("whisper_encoder", build_whisper_encoder),
])
EXPORTERS = ("ts17", "dynamo")
CNNS = ("resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
        "convnext_tiny", "regnet_y", "yolo")

# --------------------------------------------------------------------------- exporters


@contextlib.contextmanager
def repeat_interleave_fix():
    """Work around a torch 2.15 TorchScript-exporter bug hit by the GLM classes.

    aten::repeat_interleave's opset-13 symbolic reads a constant `dim` with
    symbolic_helper._maybe_get_scalar, which returns the Constant node's own tensor, and
    then does `dim += rank` on it when dim < 0. The traced graph shares one constant per
    value, so every other user of that -1 (e.g. the torch.cat(..., dim=-1) right after, in
    GLM's apply_rotary_pos_emb) now sees a positive axis, and the export stops with
    "All tensors must have the same rank". This registers a symbolic that gives
    repeat_interleave its own copy of the constant and then calls the stock symbolic.
    """
    import torch
    from torch.onnx._internal.torchscript_exporter import symbolic_helper as sh
    from torch.onnx._internal.torchscript_exporter import symbolic_opset13 as o13

    def fixed(g, self, repeats, dim=None, output_size=None):
        if dim is not None and not sh._is_none(dim) and sh._is_constant(dim):
            dim = g.op("Constant", value_t=sh._maybe_get_const(dim, "t").clone())
        return o13.repeat_interleave(g, self, repeats, dim, output_size)

    torch.onnx.register_custom_op_symbolic("aten::repeat_interleave", fixed, TS_OPSET)
    try:
        yield
    finally:
        torch.onnx.unregister_custom_op_symbolic("aten::repeat_interleave", TS_OPSET)


@contextlib.contextmanager
def quiet_fds():
    """Silence stdout/stderr at the file-descriptor level (the TorchScript exporter prints
    the whole traced graph from C++ when it fails; the dynamo exporter prints progress)."""
    import tempfile
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def export_ts17(spec, path, workaround=False):
    import torch
    call = ("torch.onnx.export(model, args, f, dynamo=False, opset_version=17, "
            "do_constant_folding=True, input_names=..., output_names=..., dynamic_axes=...)")
    ctx = repeat_interleave_fix() if workaround else contextlib.nullcontext()
    with torch.no_grad(), ctx, warnings.catch_warnings(), quiet_fds():
        warnings.simplefilter("ignore")
        torch.onnx.export(spec.module, spec.args, path, dynamo=False, opset_version=TS_OPSET,
                          do_constant_folding=True, input_names=spec.input_names,
                          output_names=spec.output_names, dynamic_axes=spec.dynamic)
    return call


def dynamo_shapes(spec):
    """dynamic_shapes for torch.export from the same per-input axis names as dynamic_axes.
    (Passing dynamic_axes with dynamo=True also works, but the conversion names axes
    wrongly: the decode model's attention_mask [batch, total_seq] came out as
    [batch, seq].) Height/width of the detector are multiples of 32."""
    from torch.export import Dim
    dims = {}

    def dim(n):
        if n not in dims:
            if n in ("height", "width"):
                dims[n] = 32 * Dim("_" + n, min=1, max=64)
            else:
                dims[n] = Dim(n)
        return dims[n]
    return tuple({ax: dim(n) for ax, n in spec.dynamic.get(name, {}).items()} or None
                 for name in spec.input_names)


def export_dynamo(spec, path, workaround=False):
    import torch
    call = ("torch.onnx.export(model, args, f, dynamo=True, external_data=False, "
            "input_names=..., output_names=..., dynamic_shapes=(torch.export.Dim ...))")
    with torch.no_grad(), warnings.catch_warnings(), quiet_fds():
        warnings.simplefilter("ignore")
        torch.onnx.export(spec.module, spec.args, path, dynamo=True, external_data=False,
                          input_names=spec.input_names, output_names=spec.output_names,
                          dynamic_shapes=dynamo_shapes(spec))
    return call


# --------------------------------------------------------------------------- checking


def strip_stack_traces(path):
    """The dynamo exporter stores a Python stack trace (absolute paths of the exporting
    machine) in every node's metadata_props. Drop only those entries and re-save."""
    import onnx
    m = onnx.load(path)
    count = 0

    def walk(graph):
        nonlocal count
        for n in graph.node:
            keep = [p for p in n.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
            if len(keep) != len(n.metadata_props):
                count += len(n.metadata_props) - len(keep)
                del n.metadata_props[:]
                n.metadata_props.extend(keep)
            for a in n.attribute:
                if a.HasField("g"):
                    walk(a.g)
                for sg in a.graphs:
                    walk(sg)
    walk(m.graph)
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return count


def ort_session(path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def torch_run(spec, args):
    import torch
    with torch.no_grad():
        out = spec.module(*args)
    if not isinstance(out, (tuple, list)):
        out = (out,)
    return [o.detach().numpy() for o in out]


def care_mask(spec, k, inputs, shape):
    """Boolean mask over output k: True where values must match."""
    dc = spec.dont_care.get(k)
    if not dc:
        return None
    src = inputs[spec.input_names.index(dc["input"])]
    keep = src != 0  # where == 0 is don't-care
    m = keep.reshape(keep.shape + (1,) * (len(shape) - keep.ndim))
    return np.broadcast_to(m, shape)


def max_diff(a, b, mask=None):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    d = np.abs(a - b)
    if mask is not None:
        d = d[mask]
    return float(d.max()) if d.size else 0.0


def walk_ops(graph, counts):
    for n in graph.node:
        key = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}::{n.op_type}"
        counts[key] += 1
        for a in n.attribute:
            if a.HasField("g"):
                walk_ops(a.g, counts)
            for sg in a.graphs:
                walk_ops(sg, counts)


def io_desc(vis, arrays):
    out = []
    for v, a in zip(vis, arrays):
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or -1)
                for d in v.type.tensor_type.shape.dim]
        out.append(dict(name=v.name, dtype=str(a.dtype), dims=dims, sample_shape=list(a.shape)))
    return out


def first_line(e):
    s = f"{type(e).__name__}: {e}".strip()
    lines = [ln for ln in s.splitlines() if ln.strip()]
    return " | ".join(lines[:3])[:600]


def tol_from(diff):
    """rtol 1e-4 (as gen_e2e); atol 1e-5 or 10x the torch-vs-ORT difference (rounded up to
    one significant digit), whichever is larger: an independent implementation's rounding."""
    a = max(1e-5, 10.0 * diff)
    e = math.floor(math.log10(a))
    return {"rtol": 1e-4, "atol": float(f"{math.ceil(a / 10 ** e)}e{e}")}


def do_one(base, exporter, spec, outdir, log):
    import onnx
    name = f"{base}.{exporter}"
    path = os.path.join(outdir, name + ".onnx")
    for f in os.listdir(outdir):
        if f.startswith(name + "."):
            os.remove(os.path.join(outdir, f))
    fn = export_ts17 if exporter == "ts17" else export_dynamo
    failures, workarounds = [], []
    t0 = time.time()
    try:
        call = fn(spec, path)
    except Exception as e:  # noqa: BLE001
        err = first_line(e)
        failures.append(dict(model=base, exporter=exporter, name=name, error=err))
        log(f"{name}: export failed: {err}")
        if exporter == "ts17" and "All tensors must have the same rank" in str(e):
            try:
                call = fn(spec, path, workaround=True)
                workarounds.append("repeat_interleave_fix: aten::repeat_interleave symbolic given "
                                   "its own copy of the constant dim (torch 2.15 bug, see "
                                   "generate.py repeat_interleave_fix)")
                failures[-1]["workaround"] = "repeat_interleave_fix (export then succeeded)"
            except Exception as e2:  # noqa: BLE001
                failures[-1]["workaround_error"] = first_line(e2)
                return None, failures
        else:
            if os.path.exists(path):
                os.remove(path)
            return None, failures
    t_export = time.time() - t0
    postprocess = []
    if exporter == "dynamo":
        n = strip_stack_traces(path)
        postprocess.append(f"removed the {n} node metadata_props 'pkg.torch.onnx.stack_trace' "
                           "(source paths of this machine); all other metadata kept")
    stray = [f for f in os.listdir(outdir) if f.startswith(name + ".onnx") and f != name + ".onnx"]
    assert not stray, f"exporter wrote external data: {stray}"
    model = onnx.load(path)
    check = "ok"
    try:
        onnx.checker.check_model(path, full_check=True)
    except Exception as e:  # noqa: BLE001
        check = first_line(e)
        log(f"{name}: checker: {check}")
    sess = ort_session(path)
    ort_in = [i.name for i in sess.get_inputs()]
    assert ort_in == [i.name for i in model.graph.input], (ort_in, list(model.graph.input))
    assert ort_in == spec.input_names, (ort_in, spec.input_names)
    sample = [t.numpy() for t in spec.sample]
    outs = sess.run(None, dict(zip(ort_in, sample)))
    ref = torch_run(spec, spec.sample)
    assert len(ref) == len(outs), (len(ref), len(outs))
    diffs, diffs_all = [], []
    for k, (o, r) in enumerate(zip(outs, ref)):
        diffs.append(max_diff(o, r, care_mask(spec, k, sample, o.shape)))
        diffs_all.append(max_diff(o, r))
    alt = None
    if spec.alt is not None:
        a_in = [t.numpy() for t in spec.alt]
        a_out = sess.run(None, dict(zip(ort_in, a_in)))
        a_ref = torch_run(spec, spec.alt)
        alt = dict(input_shapes=[list(a.shape) for a in a_in],
                   max_abs_diff=[max_diff(o, r, care_mask(spec, k, a_in, o.shape))
                                 for k, (o, r) in enumerate(zip(a_out, a_ref))])
    for k, a in enumerate(sample):
        np.save(os.path.join(outdir, f"{name}.in.{k}.npy"), a)
    for k, a in enumerate(outs):
        np.save(os.path.join(outdir, f"{name}.out.{k}.npy"), a)
    counts = collections.Counter()
    walk_ops(model.graph, counts)
    opset = {(o.domain or "ai.onnx"): o.version for o in model.opset_import}
    worst = max(diffs)
    ok = worst <= 1e-3 * max(1.0, max(float(np.abs(r).max()) for r in ref))
    if alt:
        ok = ok and max(alt["max_abs_diff"]) <= 1e-3 * max(1.0, max(float(np.abs(r).max()) for r in ref))
    entry = dict(
        file=name + ".onnx", external_data=None, doc=spec.doc,
        inputs=io_desc(model.graph.input, sample), outputs=io_desc(model.graph.output, outs),
        ops=sorted(counts), op_counts=dict(sorted(counts.items())), tolerance=tol_from(worst),
        exporter={"ts17": "torchscript", "dynamo": "dynamo"}[exporter], exporter_call=call,
        opset=opset.get("ai.onnx"), opsets=opset, ir_version=model.ir_version,
        producer=f"{model.producer_name} {model.producer_version}".strip(),
        model=base, source=spec.source, config=spec.config, size_bytes=os.path.getsize(path),
        nodes=sum(counts.values()), initializers=len(model.graph.initializer),
        checker=check, workarounds=workarounds, postprocess=postprocess,
        torch_vs_ort=dict(max_abs_diff=diffs, max_abs_diff_incl_dont_care=diffs_all,
                          output_absmax=[float(np.abs(o).max()) for o in outs],
                          other_shape=alt, ok=bool(ok)),
        dont_care={spec.output_names[k]: v for k, v in spec.dont_care.items()},
    )
    log(f"{name}: {entry['size_bytes'] / 1e6:.2f} MB, opset {entry['opset']}, {entry['nodes']} nodes, "
        f"torch-vs-ORT {worst:.2e} (alt {alt['max_abs_diff'] if alt else '-'}), "
        f"export {t_export:.1f}s{'' if ok else '  *** MISMATCH ***'}")
    if not ok:
        failures.append(dict(model=base, exporter=exporter, name=name,
                             error=f"exported model disagrees with torch: max abs diff {diffs}, "
                                   f"other shape {alt}", written=True))
    return entry, failures


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", nargs="?", default=os.path.join(HERE, "models"))
    ap.add_argument("--only", nargs="*", default=None, help="model names (exact) to (re)generate; "
                    "the manifest keeps the other entries")
    ap.add_argument("--exporters", nargs="*", default=list(EXPORTERS))
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.list:
        for m in MODELS:
            print(m)
        return 0
    import onnx
    import onnxruntime
    import torch
    import torchvision
    import transformers
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    outdir = args.outdir
    os.makedirs(outdir, exist_ok=True)
    man_path = os.path.join(outdir, "manifest.json")
    old = {}
    if os.path.exists(man_path):
        with open(man_path) as f:
            old = json.load(f)
    if not args.only:
        # A full run regenerates the torch exports; the optimum ones
        # (generate_optimum.py, another venv) stay.
        old = {"models": {k: v for k, v in old.get("models", {}).items()
                          if v.get("exporter") == "optimum"},
               "export_failures": [f for f in old.get("export_failures", [])
                                   if f.get("exporter") == "optimum"],
               "exporters": {k: v for k, v in old.get("exporters", {}).items() if k == "optimum"}}

    def log(msg):
        print("zoo:", msg, flush=True)

    versions = dict(torch=torch.__version__, torchvision=torchvision.__version__,
                    transformers=transformers.__version__, onnx=onnx.__version__,
                    onnxruntime=onnxruntime.__version__)
    try:
        import onnxscript
        versions["onnxscript"] = onnxscript.__version__
    except ImportError:
        pass
    manifest = {
        "generator": "test/zoo/generate.py", "opset": None, "ir_version": None,
        "onnx": onnx.__version__, "versions": versions,
        "naming": "<name>.in.<k>.npy / <name>.out.<k>.npy, k = position in graph.input / "
                  "graph.output; <name> = <model>.<exporter>",
        "exporters": {"ts17": "torch.onnx.export(dynamo=False, opset_version=17) (TorchScript)",
                      "dynamo": "torch.onnx.export(dynamo=True) at its default opset"},
        "dont_care": "outputs listed in a model's dont_care: elements where the named input is 0 "
                     "(over the listed leading axes) are not compared",
        "models": dict(old.get("models", {})), "export_failures": [], "bad": {},
    }
    manifest["exporters"].update(old.get("exporters", {}).get("optimum") and
                                 {"optimum": old["exporters"]["optimum"]} or {})
    manifest["export_failures"] = [f for f in old.get("export_failures", [])
                                   if f.get("exporter") == "optimum" or
                                   not (args.only and f["model"] in args.only)]
    todo = [m for m in MODELS if not args.only or m in args.only]
    t_all = time.time()
    for base in todo:
        t0 = time.time()
        try:
            spec = MODELS[base]()
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            manifest["export_failures"].append(dict(model=base, exporter="-", name=base,
                                                    error="build: " + first_line(e)))
            continue
        for exp in args.exporters:
            manifest["models"].pop(f"{base}.{exp}", None)
            try:
                entry, fails = do_one(base, exp, spec, outdir, log)
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                entry, fails = None, [dict(model=base, exporter=exp, name=f"{base}.{exp}",
                                           error="check: " + first_line(e))]
            manifest["export_failures"].extend(fails)
            if entry:
                manifest["models"][f"{base}.{exp}"] = entry
        log(f"{base}: {time.time() - t0:.1f}s")
    manifest["models"] = dict(sorted(manifest["models"].items()))
    total = 0
    for fn in sorted(os.listdir(outdir)):
        if fn.endswith((".onnx", ".npy")):
            total += os.path.getsize(os.path.join(outdir, fn))
    manifest["total_bytes"] = total
    with open(man_path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    h = hashlib.sha256()
    for fn in sorted(os.listdir(outdir)):
        p = os.path.join(outdir, fn)
        if os.path.isfile(p) and fn != "manifest.json":
            with open(p, "rb") as fh:
                h.update(fn.encode() + b"\0" + fh.read())
    log(f"wrote {len(manifest['models'])} models, {len(manifest['export_failures'])} export "
        f"failures, {total / 1e6:.1f} MB to {outdir} in {time.time() - t_all:.0f}s "
        f"(sha256 {h.hexdigest()[:16]})")
    return 0


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":
        # torch.export writes some metadata (range constraints) in set order: fix str hashing
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    sys.exit(main())
