#!/usr/bin/env python3
"""digits-resnet and digits-repvgg: small CNNs trained on scikit-learn's bundled digits
data set (8x8 images upsampled to 16x16), exported to ONNX opset 17 / IR 8 with
BatchNormalization kept as separate nodes (so glmc's conv-BN fold and RepVGG
re-parameterisation passes have work to do).

Usage: digits.py --out-root test/models [--only resnet|repvgg]
"""

import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SEED = 20240
SIZE = 16
TRAIN = dict(epochs=40, batch=64, lr=0.05, momentum=0.9, weight_decay=5e-4, threads=1)


def load_data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    x = d.images.astype(np.float32) / 16.0                       # [n,8,8] in [0,1]
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)

    def up(a):  # bilinear 8x8 -> 16x16, [n,1,16,16]
        t = torch.from_numpy(a).unsqueeze(1)
        t = F.interpolate(t, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
        return ((t - 0.5) / 0.5).numpy().astype(np.float32)    # roughly zero-centred
    return up(xtr), ytr, up(xte), yte


def conv_bn(cin, cout, k, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1, self.c2 = conv_bn(c, c, 3), conv_bn(c, c, 3)

    def forward(self, x):
        return F.relu(self.c2(F.relu(self.c1(x))) + x)


class SplitDownBlock(nn.Module):
    """cin -> 2*cin, stride 2: a 3x3 branch and a depthwise-separable branch are
    concatenated, then a 3x3 conv; 1x1 projection on the skip; residual add."""

    def __init__(self, cin):
        super().__init__()
        cout = 2 * cin
        self.a = conv_bn(cin, cin, 3, stride=2)
        self.dw = conv_bn(cin, cin, 3, stride=2, groups=cin)     # depthwise
        self.pw = conv_bn(cin, cin, 1)
        self.fuse = conv_bn(cout, cout, 3)
        self.proj = conv_bn(cin, cout, 1, stride=2)

    def forward(self, x):
        a = F.relu(self.a(x))
        b = F.relu(self.pw(F.relu(self.dw(x))))
        h = self.fuse(torch.cat([a, b], dim=1))
        return F.relu(h + self.proj(x))


class DigitsResNet(nn.Module):
    def __init__(self, c=16, classes=10):
        super().__init__()
        self.stem = conv_bn(1, c, 3)
        self.block1 = BasicBlock(c)
        self.block2 = SplitDownBlock(c)          # -> 2c, 8x8
        self.block3 = BasicBlock(2 * c)
        self.fc = nn.Linear(2 * c, classes)

    def forward(self, x):
        h = F.relu(self.stem(x))
        h = self.block3(self.block2(self.block1(h)))
        h = torch.flatten(F.adaptive_avg_pool2d(h, 1), 1)
        return self.fc(h)


class RepVGGBlock(nn.Module):
    """Training-form RepVGG block: 3x3 conv+BN, 1x1 conv+BN and (when shapes allow) an
    identity BN branch, summed, ReLU."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.dense = conv_bn(cin, cout, 3, stride)
        self.one = conv_bn(cin, cout, 1, stride)
        self.identity = nn.BatchNorm2d(cout) if cin == cout and stride == 1 else None

    def forward(self, x):
        h = self.dense(x) + self.one(x)
        if self.identity is not None:
            h = h + self.identity(x)
        return F.relu(h)


class DigitsRepVGG(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        cfg = [(1, 16, 1), (16, 16, 1), (16, 32, 2), (32, 32, 1), (32, 64, 2), (64, 64, 1)]
        self.stages = nn.Sequential(*[RepVGGBlock(a, b, s) for a, b, s in cfg])
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        h = self.stages(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


def augment(x, gen):
    """random shift by up to 1 pixel (zero padded: background is -1)."""
    n = x.shape[0]
    pad = F.pad(x, (1, 1, 1, 1), value=-1.0)
    dx = torch.randint(0, 3, (n,), generator=gen)
    dy = torch.randint(0, 3, (n,), generator=gen)
    out = torch.empty_like(x)
    for i in range(n):
        out[i] = pad[i, :, dy[i]:dy[i] + SIZE, dx[i]:dx[i] + SIZE]
    return out


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def train(model, xtr, ytr, log):
    cfg = TRAIN
    common.seed_everything(SEED, threads=cfg["threads"])
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"],
                          weight_decay=cfg["weight_decay"], nesterov=True)
    steps_per_epoch = (len(xtr) + cfg["batch"] - 1) // cfg["batch"]
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], epochs=cfg["epochs"],
                                                steps_per_epoch=steps_per_epoch)
    X, Y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    t0 = time.time()
    for ep in range(cfg["epochs"]):
        model.train()
        perm = torch.randperm(len(X), generator=gen)
        tot = 0.0
        for i in range(0, len(X), cfg["batch"]):
            idx = perm[i:i + cfg["batch"]]
            xb = augment(X[idx], gen)
            loss = F.cross_entropy(model(xb), Y[idx], label_smoothing=0.05)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item() * len(idx)
        if ep % 10 == 9 or ep == cfg["epochs"] - 1:
            log(f"epoch {ep} loss {tot / len(X):.4f} train_acc {accuracy(model, xtr, ytr):.4f}")
    model.eval()
    return time.time() - t0


def export(model, path):
    x = torch.zeros(2, 1, SIZE, SIZE)
    with torch.no_grad():
        torch.onnx.export(model, (x,), path, dynamo=False, opset_version=17,
                          training=torch.onnx.TrainingMode.PRESERVE,  # keeps BN nodes
                          do_constant_folding=True, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    m = common.load_ir8(path)
    common.save_embedded(m, path)
    return m


def build(kind, out_root, data, log):
    t_all = time.time()
    name = f"digits-{kind}"
    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    xtr, ytr, xte, yte = data
    common.seed_everything(SEED, threads=TRAIN["threads"])
    model = DigitsResNet() if kind == "resnet" else DigitsRepVGG()
    train_s = train(model, xtr, ytr, lambda m: log(f"{name}: {m}"))
    acc = accuracy(model, xte, yte)
    path = os.path.join(out, f"{name}.onnx")
    m = export(model, path)
    sess = common.ort_session(path)
    logits = np.concatenate([sess.run(None, {"x": xte[i:i + 1]})[0] for i in range(len(xte))])
    ort_acc = float((logits.argmax(1) == yte).mean())
    with torch.no_grad():
        tl = model(torch.from_numpy(xte)).numpy()
    max_diff = float(np.abs(tl - logits).max())
    # samples: first 4 test images
    np.save(os.path.join(out, f"{name}.in.0.npy"), xte[:4])
    np.save(os.path.join(out, f"{name}.out.0.npy"), sess.run(None, {"x": xte[:4]})[0])
    n_cal = 64
    common.write_npy_dir(os.path.join(out, "calib"), {"x": [xtr[i:i + 1] for i in range(n_cal)]},
                         meta=dict(model=f"{name}.onnx", task="classification",
                                   source=f"first {n_cal} images of the training split"))
    common.write_npy_dir(os.path.join(out, "eval"), {"x": [xte[i:i + 1] for i in range(len(xte))]},
                         labels={"class": [yte[i:i + 1] for i in range(len(yte))]},
                         meta=dict(model=f"{name}.onnx", task="classification",
                                   logits_output="logits", source="the whole test split"))
    import onnx
    import sklearn
    from collections import Counter
    ops = Counter(n.op_type for n in m.graph.node)
    metrics = dict(
        model=name, params=common.param_count(model),
        flops_per_image=common.torch_flops(model, torch.from_numpy(xte[:1])),
        flops_note="2*MACs of conv/linear, batch 1, torch FlopCounterMode (BN, ReLU, add not counted)",
        test_accuracy_torch=round(acc, 6), test_accuracy=round(ort_acc, 6),
        quality_bar="test_accuracy >= 0.97", test_samples=int(len(yte)),
        train_samples=int(len(ytr)), torch_vs_ort_max_abs_diff=max_diff,
        data=dict(source="sklearn.datasets.load_digits (bundled with scikit-learn)",
                  split="train_test_split(test_size=0.2, random_state=0, stratify=y)",
                  preprocess="x/16, bilinear upsample 8x8->16x16 (align_corners=False), (x-0.5)/0.5",
                  input="x [batch,1,16,16] float32"),
        training=dict(TRAIN, seed=SEED, augment="random shift <=1px"),
        onnx=dict(opset=17, ir_version=8, ops=dict(sorted(ops.items()))),
        files={f: os.path.getsize(os.path.join(out, f)) for f in sorted(os.listdir(out))
               if f.endswith(".onnx")},
        versions=dict(torch=torch.__version__, sklearn=sklearn.__version__, onnx=onnx.__version__),
    )
    common.write_json(os.path.join(out, "metrics.json"), metrics)
    total = time.time() - t_all
    common.write_timing(os.path.join(out_root, ".work"), name,
                        dict(train_seconds=round(train_s, 1), total_seconds=round(total, 1)))
    log(f"{name}: test accuracy {ort_acc:.4f} (torch {acc:.4f}), params {metrics['params']}, "
        f"train {train_s:.0f}s, total {total:.0f}s")
    return metrics


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-root", required=True)
    ap.add_argument("--only", choices=["resnet", "repvgg"])
    ap.add_argument("--epochs", type=int)
    args = ap.parse_args()
    if args.epochs:
        TRAIN["epochs"] = args.epochs
    data = load_data()
    for kind in ("resnet", "repvgg"):
        if args.only in (None, kind):
            build(kind, args.out_root, data, lambda m: print(m, flush=True))


if __name__ == "__main__":
    main()
