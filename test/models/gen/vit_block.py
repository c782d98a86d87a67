#!/usr/bin/env python3
"""vit-block: a vision-encoder block in the style of GLM-4V's ViT (conv patch embedding,
learned position embedding, pre-LayerNorm blocks with multi-head attention and an exact
(erf) GELU MLP, final LayerNorm), exported from torch. Random weights (fixed seed):
used for operator coverage and for compression passes; the harness compares compiled
outputs against this float model. Inputs are the digits images upsampled to 32x32x3.

Usage: vit_block.py --out-root test/models
"""

import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SEED = 4242
CFG = dict(image=32, patch=4, channels=3, dim=96, heads=4, mlp=384, layers=2, eps=1e-6)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.hd = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim, bias=True)

    def forward(self, x):
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, self.hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.hd)
        att = att.softmax(dim=-1)
        out = torch.matmul(att, v).transpose(1, 2).reshape(b, n, d)
        return self.proj(out)


class Block(nn.Module):
    def __init__(self, dim, heads, mlp, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.fc1 = nn.Linear(dim, mlp)
        self.fc2 = nn.Linear(mlp, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))   # exact erf GELU


class VitEncoder(nn.Module):
    def __init__(self, c=CFG):
        super().__init__()
        self.patch_embed = nn.Conv2d(c["channels"], c["dim"], c["patch"], c["patch"])
        n = (c["image"] // c["patch"]) ** 2
        self.pos_embed = nn.Parameter(torch.randn(1, n, c["dim"]) * 0.02)
        self.blocks = nn.ModuleList([Block(c["dim"], c["heads"], c["mlp"], c["eps"])
                                     for _ in range(c["layers"])])
        self.norm = nn.LayerNorm(c["dim"], eps=c["eps"])

    def forward(self, pixel_values):
        x = self.patch_embed(pixel_values).flatten(2).transpose(1, 2) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


def init_weights(m):
    g = torch.Generator().manual_seed(SEED)
    for name, p in sorted(m.named_parameters()):
        with torch.no_grad():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
            elif name != "pos_embed":
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))


def images():
    """digits upsampled to 32x32, 3 channels (slightly different per channel)."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    x = torch.cat([x, 0.8 * x + 0.1, 1.0 - x], dim=1)
    return ((x - 0.5) / 0.5).numpy().astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-root", required=True)
    args = ap.parse_args()
    t0 = time.time()
    common.seed_everything(SEED, threads=1)
    name = "vit-block"
    out = os.path.join(args.out_root, name)
    os.makedirs(out, exist_ok=True)
    model = VitEncoder()
    init_weights(model)
    model.eval()
    path = os.path.join(out, f"{name}.onnx")
    with torch.no_grad():
        torch.onnx.export(model, (torch.zeros(2, 3, 32, 32),), path, dynamo=False, opset_version=17,
                          do_constant_folding=True, input_names=["pixel_values"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"pixel_values": {0: "batch"},
                                        "last_hidden_state": {0: "batch"}})
    m = common.load_ir8(path)
    common.save_embedded(m, path)
    x = images()
    sess = common.ort_session(path)
    np.save(os.path.join(out, f"{name}.in.0.npy"), x[:2])
    ref = sess.run(None, {"pixel_values": x[:2]})[0]
    np.save(os.path.join(out, f"{name}.out.0.npy"), ref)
    with torch.no_grad():
        diff = float((model(torch.from_numpy(x[:2])) - torch.from_numpy(ref)).abs().max())
    common.write_npy_dir(os.path.join(out, "calib"),
                         {"pixel_values": [x[i:i + 1] for i in range(0, 64)]},
                         meta=dict(model=f"{name}.onnx", task="features",
                                   source="digits images 0..63, 32x32x3"))
    common.write_npy_dir(os.path.join(out, "eval"),
                         {"pixel_values": [x[i:i + 1] for i in range(1000, 1064)]},
                         meta=dict(model=f"{name}.onnx", task="features",
                                   logits_output="last_hidden_state",
                                   source="digits images 1000..1063, 32x32x3"))
    import onnx
    from collections import Counter
    metrics = dict(model=name, config=CFG, weights="random (seed %d), not trained" % SEED,
                   params=common.param_count(model),
                   flops_per_image=common.torch_flops(model, torch.from_numpy(x[:1])),
                   flops_note="2*MACs of conv/matmul incl. attention, batch 1, FlopCounterMode",
                   torch_vs_ort_max_abs_diff=diff,
                   onnx=dict(opset=17, ir_version=8,
                             ops=dict(sorted(Counter(n.op_type for n in m.graph.node).items()))),
                   files={f"{name}.onnx": os.path.getsize(path)},
                   versions=dict(torch=torch.__version__, onnx=onnx.__version__))
    common.write_json(os.path.join(out, "metrics.json"), metrics)
    total = time.time() - t0
    common.write_timing(os.path.join(args.out_root, ".work"), name, dict(total_seconds=round(total, 1)))
    print(f"{name}: params {metrics['params']}, torch/ort diff {diff:.2e}, {total:.1f}s")


if __name__ == "__main__":
    main()
