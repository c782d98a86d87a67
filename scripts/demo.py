#!/usr/bin/env python3
"""glmc demo: compile a trained model, run it through the runtime, compare.

Uses test/models/digits-resnet (a residual CNN with BatchNorm trained on
scikit-learn's digits; see docs/models.md). Prints the test accuracy of the
compiled artifact, a few predictions, and artifact size and latency against
ONNX Runtime measured in the same run with the same thread count; then the
same model compiled with `--prune 0.4 --calib` (structured pruning with
calibration and reconstruction) and the change in size, speed, parameters,
FLOPs and accuracy.
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
    ap.add_argument("--prune", type=float, default=0.4)
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
    rel = os.path.relpath(onnx_path, ROOT)
    so = os.path.join(work, a.model + ".so")
    pruned = os.path.join(work, a.model + "-pruned.so")
    report = os.path.join(work, "report.json")
    calib = os.path.join(mdir, "calib")
    print(f"$ glmc {rel} --target host -o {a.model}.so")
    t0 = time.perf_counter()
    sh([glmc, onnx_path, "--target", "host", "--quiet", "-o", so])
    print(f"  compiled in {time.perf_counter() - t0:.1f} s")
    print(f"$ glmc {rel} --prune {a.prune} --calib {os.path.relpath(calib, ROOT)} "
          f"--report report.json -o {a.model}-pruned.so")
    t0 = time.perf_counter()
    sh([glmc, onnx_path, "--target", "host", "--quiet", "--prune", str(a.prune), "--calib", calib,
        "--report", report, "-o", pruned])
    print(f"  compiled in {time.perf_counter() - t0:.1f} s (structured pruning: calibration, "
          f"activation-aware channel scores, least-squares reconstruction, channel trimming)")
    totals = json.load(open(report))["totals"]

    xin = os.path.join(work, "x.npy")
    np.save(xin, xs)

    def run_all(artifact):
        yout = os.path.join(work, "logits.npy")
        sh([run, artifact, "--input", xin, "--output", yout, "--threads", str(a.threads)])
        return np.load(yout)

    logits, logits_p = run_all(so), run_all(pruned)
    pred, pred_p = logits.argmax(axis=1), logits_p.argmax(axis=1)
    acc = float((pred == labels.reshape(-1)).mean())
    acc_p = float((pred_p == labels.reshape(-1)).mean())

    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = a.threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    ref = sess.run(None, {in_name: xs})[0]
    acc_ort = float((ref.argmax(axis=1) == labels.reshape(-1)).mean())
    agree = float((ref.argmax(axis=1) == pred).mean())
    maxdiff = float(np.abs(ref - logits).max())

    print(f"\nglmrt ran {n} held-out test digits: accuracy {acc * 100:.2f}% "
          f"(ONNX Runtime agrees on {agree * 100:.1f}% of predictions, max |logit diff| {maxdiff:.2g}); "
          f"pruned {acc_p * 100:.2f}%")
    for i in range(3):
        art = ascii_digit(xs[i, 0])
        print(f"\n  digit #{i}: predicted {pred[i]} (pruned: {pred_p[i]}), "
              f"label {int(labels.reshape(-1)[i])}")
        for line in art:
            print("    " + line)

    # Latency, batch 1, same thread count, same run; interleaved rounds.
    one = os.path.join(work, "one.npy")
    np.save(one, xs[:1])

    def glm_p50(artifact):
        bench_json = os.path.join(work, "bench.json")
        sh([run, artifact, "--input", one, "--threads", str(a.threads), "--bench", str(a.runs),
            "--warmup", "20", "--bench-json", bench_json])
        return json.load(open(bench_json))["latency_ms"]["p50"]

    def ort_p50():
        x1 = xs[:1]
        for _ in range(20):
            sess.run(None, {in_name: x1})
        ts = []
        for _ in range(a.runs):
            t = time.perf_counter()
            sess.run(None, {in_name: x1})
            ts.append((time.perf_counter() - t) * 1e3)
        return float(np.median(ts))

    rounds = [(ort_p50(), glm_p50(so), glm_p50(pruned)) for _ in range(3)]
    ort_ms, glm_ms, pruned_ms = (float(np.median([r[i] for r in rounds])) for i in range(3))
    onnx_kb = os.path.getsize(onnx_path) / 1024
    so_kb, pruned_kb = os.path.getsize(so) / 1024, os.path.getsize(pruned) / 1024
    b, f = totals["before"], totals["after"]
    print(f"\n  {'':24s}{'ONNX + ORT':>14s}{'glmc':>14s}{'glmc --prune ' + str(a.prune):>20s}")
    print(f"  {'file size':24s}{onnx_kb:>11.1f} KB{so_kb:>11.1f} KB{pruned_kb:>14.1f} KB "
          f"({100 * (pruned_kb / so_kb - 1):+.1f}%)")
    print(f"  {'latency p50, batch 1':24s}{ort_ms:>11.3f} ms{glm_ms:>11.3f} ms{pruned_ms:>14.3f} ms "
          f"({100 * (pruned_ms / glm_ms - 1):+.1f}%)")
    print(f"  {'parameters':24s}{b['params']:>14d}{b['params']:>14d}{f['params']:>17d} "
          f"({-100 * totals['reduction']['params']:+.1f}%)")
    print(f"  {'FLOPs per image':24s}{b['flops']:>14d}{b['flops']:>14d}{f['flops']:>17d} "
          f"({-100 * totals['reduction']['flops']:+.1f}%)")
    print(f"  {'test accuracy':24s}{acc_ort * 100:>13.2f}%{acc * 100:>13.2f}%{acc_p * 100:>16.2f}% "
          f"({100 * (acc_p - acc):+.2f} points)")
    print(f"\n  latency: {a.threads} thread, median of 3 interleaved rounds of {a.runs} runs; "
          f"glmc is {ort_ms / glm_ms:.2f}x ORT speed, pruned {ort_ms / pruned_ms:.2f}x.")
    print("  The per-layer report: glmc ... --report report.html (docs/compression.md).")

if __name__ == "__main__":
    main()
