#!/usr/bin/env python3
"""The torchvision CNNs at 224x224: glmc + glmrt against ONNX Runtime, same
machine, same run, same thread count (issue 16).

  bench/run_cnn.py [--dir /work/big/cnn] [--build build] [--threads 1 2]
                   [--runs 20] [--rounds 3] [--only resnet50 ...]
                   [--prune 0.4] [--target host] [--json out.json]
                   [--markdown docs/performance.md]

1. Exports each model (random weights, torchvision's own classes, batch 1,
   3x224x224, torch.onnx.export TorchScript path, opset 17, eval mode)
   into DIR with the generation venv (.venv-gen) if it is not there yet.
2. Compiles it with `glmc --target TARGET` (and, with --prune, also the
   pruned form), timing the compile.
3. Times `glmrt-run --bench` and ORT's session.run on the same input in
   --rounds rounds that alternate glmc and ORT (--runs runs each, after a
   warm-up), per thread count; reports medians and ratio = ORT / glmc
   (> 1: glmc is faster). The pruned artifact is compared with ORT on the
   unpruned model (what the user had before).
4. Checks glmc's output against ORT's (max abs diff, dense form).

--markdown writes the table (with the machine, the command and the date)
as a generated Markdown file.

ORT runs with its default graph optimizations (ORT_ENABLE_ALL),
intra_op_num_threads = threads, inter_op 1. Nothing here is a test: there
are no thresholds, and ctest does not run it.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_bench import cpu_name, ort_session, ort_times, sh  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "regnet_y_400mf",
          "convnext_tiny"]

EXPORT = r"""
import sys, torch, torchvision
name, path = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
m = getattr(torchvision.models, name)(weights=None).eval()
x = torch.randn(1, 3, 224, 224)
torch.onnx.export(m, (x,), path, dynamo=False, opset_version=17,
                  input_names=["input"], output_names=["logits"])
"""


def flops(onnx_path):
    """Multiply-add count x 2 of the Conv and Gemm/MatMul nodes (ONNX shape inference)."""
    import onnx
    from onnx import shape_inference
    m = shape_inference.infer_shapes(onnx.load(onnx_path))
    shapes = {}
    for vi in list(m.graph.value_info) + list(m.graph.output) + list(m.graph.input):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    inits = {i.name: list(i.dims) for i in m.graph.initializer}
    total = 0
    for n in m.graph.node:
        if n.op_type == "Conv":
            w = inits[n.input[1]]
            y = shapes.get(n.output[0])
            if y:
                total += 2 * int(np.prod(y)) * int(np.prod(w[1:]))
        elif n.op_type in ("Gemm", "MatMul"):
            w = inits.get(n.input[1])
            y = shapes.get(n.output[0])
            if w and y:
                k = w[0] if n.op_type == "MatMul" else w[1]
                total += 2 * int(np.prod(y)) * k
    return total


def glmc_times(run, so, xin, threads, runs, work):
    j = os.path.join(work, "b.json")
    sh([run, so, "--threads", str(threads), "--input", xin, "--bench", str(runs), "--warmup", "2",
        "--bench-json", j])
    return json.load(open(j))["latency_ms"]["p50"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/work/big/cnn")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--target", default="host")
    ap.add_argument("--prune", type=float, default=None)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--glmc-flags", default="")
    ap.add_argument("--json")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    glmc = os.path.join(a.build, "bin", "glmc")
    run = os.path.join(a.build, "bin", "glmrt-run")
    py_gen = os.path.join(ROOT, ".venv-gen", "bin", "python")
    work = tempfile.mkdtemp(prefix="glmc-cnn-")
    models = [m for m in MODELS if not a.only or m in a.only]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 3, 224, 224)).astype(np.float32)
    xin = os.path.join(work, "x.npy")
    np.save(xin, x)
    results = []
    hdr = f"{'model':26s} {'thr':>3s} {'GFLOP':>6s} {'ORT ms':>8s} {'glmc ms':>8s} {'ORT/glmc':>8s} {'glmc GF/s':>9s} {'compile s':>9s}"
    print(hdr)
    for name in models:
        path = os.path.join(a.dir, name + ".onnx")
        if not os.path.exists(path):
            sh([py_gen, "-c", EXPORT, name, path])
        gf = flops(path) / 1e9
        forms = [("", [])]
        if a.prune:
            forms.append((f" --prune {a.prune}", ["--prune", str(a.prune)]))
        for label, flags in forms:
            so = os.path.join(work, name + ("p" if flags else "") + ".so")
            t0 = time.perf_counter()
            sh([glmc, path, "--target", a.target, "--quiet", "-o", so] + flags + a.glmc_flags.split())
            ct = time.perf_counter() - t0
            if not flags:
                out = os.path.join(work, "y.npy")
                sh([run, so, "--threads", "1", "--input", xin, "--output", out])
                ref = ort_session(path, 1).run(None, {"input": x})[0]
                err = float(np.abs(np.load(out) - ref).max())
            for th in a.threads:
                sess = ort_session(path, th)
                o, g = [], []
                for _ in range(a.rounds):
                    g.append(glmc_times(run, so, xin, th, a.runs, work))
                    o.append(float(np.median(ort_times(sess, [x], a.runs, 1))))
                om, gm = float(np.median(o)), float(np.median(g))
                r = {"model": name + label, "threads": th, "gflop": gf, "ort_ms": om, "glmc_ms": gm,
                     "ratio": om / gm, "glmc_gflops": gf / gm * 1e3, "compile_s": ct,
                     "max_abs_err": err, "so_bytes": os.path.getsize(so)}
                results.append(r)
                print(f"{name + label:26s} {th:3d} {gf:6.2f} {om:8.2f} {gm:8.2f} {om / gm:8.2f} "
                      f"{r['glmc_gflops']:9.1f} {ct:9.1f}   err {err:.2e}", flush=True)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        json.dump({"target": a.target, "results": results}, open(a.json, "w"), indent=1)
    if a.markdown:
        write_markdown(a, results)


def cpu_isa():
    flags = set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    return "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "?"


def write_markdown(a, results):
    import datetime
    import onnxruntime
    name, isa, cpus = cpu_name(), cpu_isa(), os.cpu_count()
    cmd = "bench/run_cnn.py " + " ".join(
        x for x in sys.argv[1:] if x)
    rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    lines = [
        "# Performance: torchvision CNNs against ONNX Runtime",
        "",
        "Generated by `bench/run_cnn.py` (do not edit by hand):",
        "",
        "```sh",
        ".venv/bin/python " + cmd,
        "```",
        "",
        f"glmc `{rev}`, `--target {a.target}`; ONNX Runtime {onnxruntime.__version__} (default "
        f"optimizations, same thread count); {name}, {isa}, {cpus} CPUs; "
        f"{datetime.date.today().isoformat()}. Models: torchvision classes, random weights, batch 1, "
        "3x224x224, TorchScript export at opset 17. Latency: median of --rounds rounds (each the median "
        "of --runs runs) alternating glmc and ORT. ratio = ORT / glmc (above 1: glmc is faster). A "
        "pruned row compares the pruned artifact with ORT on the *unpruned* model (what the user had); "
        "its GFLOP/s counts the unpruned FLOPs. GFLOP counts Conv and Gemm multiply-adds x 2.",
        "",
        "| model | threads | GFLOP | ORT ms | glmc ms | ORT/glmc | glmc GFLOP/s | compile s | .so MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(f"| {r['model']} | {r['threads']} | {r['gflop']:.2f} | {r['ort_ms']:.2f} | "
                     f"{r['glmc_ms']:.2f} | {r['ratio']:.2f} | {r['glmc_gflops']:.1f} | "
                     f"{r['compile_s']:.1f} | {r['so_bytes'] / 1e6:.1f} |")
    lines.append("")
    open(a.markdown, "w").write("\n".join(lines))


if __name__ == "__main__":
    main()
