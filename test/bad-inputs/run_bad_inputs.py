#!/usr/bin/env python3
"""Every malformed model must give a clear error, exit status 1, and never a
crash or a hang.

- the bad_*.onnx files written by test/models/gen_e2e.py (their manifest says
  which node the message must name),
- the textual models in this directory (first line: `# expect: <text>`),
- a deterministic corruption sweep over a valid model: random byte flips and
  truncations must each either compile or fail with exit 1, never crash.
"""
import argparse
import json
import os
import random
import subprocess
import sys

CRASH_MARKERS = ("Stack dump", "PLEASE submit a bug report", "Segmentation fault", "Assertion")


def run_glmc(glmc, path, out):
    try:
        p = subprocess.run([glmc, path, "--quiet", "-o", out], capture_output=True,
                           encoding="utf-8", errors="replace", timeout=120)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    return p.returncode, p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--glmc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--extra", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--fuzz", type=int, default=60)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    out = os.path.join(a.work, "out.so")
    failures = []

    def check(path, expect_texts):
        rc, log = run_glmc(a.glmc, path, out)
        name = os.path.basename(path)
        if rc is None:
            failures.append(f"{name}: glmc hung")
            return
        if any(m in log for m in CRASH_MARKERS) or rc < 0:
            failures.append(f"{name}: glmc crashed (rc {rc}):\n{log}")
            return
        if rc != 1:
            failures.append(f"{name}: expected exit 1, got {rc}:\n{log}")
            return
        for t in expect_texts:
            if t not in log:
                failures.append(f"{name}: message does not mention '{t}':\n{log}")
                return
        print(f"ok   {name}: {log.strip().splitlines()[0][:160]}")

    manifest = json.load(open(os.path.join(a.models, "manifest.json")))
    for fname, info in sorted(manifest["bad"].items()):
        expect = [fname]
        if info.get("node"):
            expect.append(info["node"])
        check(os.path.join(a.models, fname), expect)

    for fname in sorted(os.listdir(a.extra)):
        if not fname.endswith(".onnxtext"):
            continue
        path = os.path.join(a.extra, fname)
        first = open(path).readline()
        expect = [fname] + ([first.split("expect:", 1)[1].strip()] if "expect:" in first else [])
        check(path, expect)

    # Corruption sweep: never a crash.
    src = open(os.path.join(a.models, "cnn_bn.onnx"), "rb").read()
    rng = random.Random(1234)
    for i in range(a.fuzz):
        data = bytearray(src)
        if i % 3 == 0:
            data = data[: rng.randrange(1, len(data))]
        else:
            for _ in range(rng.randrange(1, 16)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        path = os.path.join(a.work, f"fuzz_{i:03d}.onnx")
        open(path, "wb").write(bytes(data))
        rc, log = run_glmc(a.glmc, path, out)
        if rc is None or rc < 0 or rc not in (0, 1) or any(m in log for m in CRASH_MARKERS):
            failures.append(f"fuzz_{i:03d}.onnx: rc {rc}:\n{log[-2000:]}")
        else:
            os.remove(path)
    print(f"corruption sweep: {a.fuzz} corrupted copies of cnn_bn.onnx, none crashed"
          if not any(f.startswith("fuzz") for f in failures) else "corruption sweep: FAILURES")

    if failures:
        print("\n".join("FAIL " + f for f in failures))
        sys.exit(1)
    print("PASS all bad inputs rejected cleanly")


if __name__ == "__main__":
    main()
