#!/usr/bin/env python3
"""glmc demo: compile a trained model, run it through the runtime, compare.

Uses test/models/digits-resnet (a residual CNN with BatchNorm trained on
scikit-learn's digits; see docs/models.md). Prints the test accuracy of the
compiled artifact, a few predictions, and artifact size and latency against
ONNX Runtime measured in the same run with the same thread count.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"demo: command failed: {' '.join(cmd)}")
    return p.stdout


def ascii_digit(img):
    shades = " .:-=+*#%@"
    rows = []
    for r in range(0, img.shape[0], 2):
        row = img[r]
        rows.append("".join(shades[min(9, int((v + 1) / 2 * 9.99))] for v in row))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--model", default="digits-resnet")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=300)
    a = ap.parse_args()

    glmc = os.path.join(a.build, "bin", "glmc")
    run = os.path.join(a.build, "bin", "glmrt-run")
    mdir = os.path.join(ROOT, "test", "models", a.model)
    onnx_path = os.path.join(mdir, a.model + ".onnx")
    ev = os.path.join(mdir, "eval")
    manifest = json.load(open(os.path.join(ev, "manifest.json")))
    n = manifest["count"]
    xs = np.concatenate([np.load(os.path.join(ev, "x", f"{i:06d}.npy")) for i in range(n)])
    labels = np.concatenate([np.load(os.path.join(ev, "labels", "class", f"{i:06d}.npy"))
                             for i in range(n)])

    tmp = tempfile.TemporaryDirectory(prefix="glmc-demo-")
    work = tmp.name
    so = os.path.join(work, a.model + ".so")
    print(f"$ glmc {os.path.relpath(onnx_path, ROOT)} --target host -o {a.model}.so")
    t0 = time.perf_counter()
    sh([glmc, onnx_path, "--target", "host", "--quiet", "-o", so])
    print(f"  compiled in {time.perf_counter() - t0:.1f} s")

    xin = os.path.join(work, "x.npy")
    yout = os.path.join(work, "logits.npy")
    np.save(xin, xs)
    sh([run, so, "--input", xin, "--output", yout, "--threads", str(a.threads)])
    logits = np.load(yout)
    pred = logits.argmax(axis=1)
    acc = float((pred == labels.reshape(-1)).mean())

    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = a.threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    ref = sess.run(None, {in_name: xs})[0]
    agree = float((ref.argmax(axis=1) == pred).mean())
    maxdiff = float(np.abs(ref - logits).max())

    print(f"\nglmrt ran {n} held-out test digits: accuracy {acc * 100:.2f}% "
          f"(ONNX Runtime agrees on {agree * 100:.1f}% of predictions, max |logit diff| {maxdiff:.2g})")
    for i in range(3):
        art = ascii_digit(xs[i, 0])
        print(f"\n  digit #{i}: predicted {pred[i]}, label {int(labels.reshape(-1)[i])}")
        for line in art:
            print("    " + line)

    # Latency, batch 1, same thread count, same run.
    one = os.path.join(work, "one.npy")
    np.save(one, xs[:1])
    bench_json = os.path.join(work, "bench.json")
    sh([run, so, "--input", one, "--threads", str(a.threads), "--bench", str(a.runs),
        "--warmup", "20", "--bench-json", bench_json])
    glm_ms = json.load(open(bench_json))["latency_ms"]["p50"]
    x1 = xs[:1]
    for _ in range(20):
        sess.run(None, {in_name: x1})
    ts = []
    for _ in range(a.runs):
        t = time.perf_counter()
        sess.run(None, {in_name: x1})
        ts.append((time.perf_counter() - t) * 1e3)
    ort_ms = float(np.median(ts))
    onnx_kb = os.path.getsize(onnx_path) / 1024
    so_kb = os.path.getsize(so) / 1024
    print(f"\n  {'':24s}{'ONNX + ORT':>14s}{'glmc + glmrt':>16s}")
    print(f"  {'file size':24s}{onnx_kb:>11.1f} KB{so_kb:>13.1f} KB")
    print(f"  {'latency p50, batch 1':24s}{ort_ms:>11.3f} ms{glm_ms:>13.3f} ms"
          f"   ({ort_ms / glm_ms:.2f}x ORT speed, {a.threads} thread)")
    print("\n  (--prune is not implemented yet; see the compression issue.)")


if __name__ == "__main__":
    main()
