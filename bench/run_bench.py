#!/usr/bin/env python3
"""Benchmarks: glmc + glmrt against ONNX Runtime, same machine, same run,
same thread count. Reports latency percentiles and the ratio (ORT / glmc,
> 1 means glmc is faster), artifact and runtime sizes.

  bench/run_bench.py --build build [--threads 1] [--runs 200] [--json out.json]
"""
import argparse
import json
import os
import platform
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
        raise SystemExit(f"bench: failed: {' '.join(cmd)}")
    return p.stdout


def make_matmul(path, m, k, n, seed=0):
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array((rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32), "W")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")], "mm",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["M", k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["M", n])], [w])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return [rng.standard_normal((m, k)).astype(np.float32)]


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def ort_session(onnx_path, threads):
    """ORT's CPU session as the benchmarks compare with: default graph
    optimizations, `threads` intra-op threads, one inter-op thread."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])


def ort_times(sess, inputs, runs, warmup):
    """Milliseconds of each of `runs` runs of `sess` on `inputs` (in its
    inputs' order), after `warmup` untimed ones."""
    feed = {i.name: x for i, x in zip(sess.get_inputs(), inputs)}
    for _ in range(warmup):
        sess.run(None, feed)
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        sess.run(None, feed)
        ts.append((time.perf_counter() - t) * 1e3)
    return ts


def ort_latency(onnx_path, inputs, threads, runs, warmup):
    ts = ort_times(ort_session(onnx_path, threads), inputs, runs, warmup)
    return float(np.percentile(ts, 50)), float(np.percentile(ts, 90))


def machine_peak(build):
    """This machine's FMA peak per core and read bandwidth (bench/machine_peak.c),
    or None where the tool is not built."""
    tool = os.path.join(build, "bin", "glmc-machine-peak")
    if not os.path.exists(tool):
        return None
    return json.loads(subprocess.run([tool], check=True, capture_output=True,
                                     text=True).stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--target", default="host")
    ap.add_argument("--json")
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    glmc = os.path.join(a.build, "bin", "glmc")
    run = os.path.join(a.build, "bin", "glmrt-run")
    tmp = tempfile.TemporaryDirectory(prefix="glmc-bench-")
    work = tmp.name

    cases = []
    for name in ["digits-resnet", "digits-repvgg", "vit-block"]:
        d = os.path.join(ROOT, "test", "models", name)
        onnx_path = os.path.join(d, name + ".onnx")
        if os.path.exists(onnx_path):
            x = np.load(os.path.join(d, name + ".in.0.npy"))[:1]
            cases.append((name + " b1", onnx_path, [x]))
            if name == "digits-repvgg":
                # Re-parameterisation off: what the fusions buy.
                cases.append((name + " b1 --no-fuse", onnx_path, [x], ["--no-fuse"]))
            if name == "digits-resnet":
                # Structured pruning with calibration: what compression buys.
                cases.append((name + " b1 --prune 0.4", onnx_path, [x],
                              ["--prune", "0.4", "--calib", os.path.join(d, "calib")]))
    for (m, k, n) in [(1, 1024, 1024), (64, 256, 1024), (512, 512, 512), (1024, 1024, 1024)]:
        p = os.path.join(work, f"matmul_{m}x{k}x{n}.onnx")
        cases.append((f"matmul {m}x{k}x{n}", p, make_matmul(p, m, k, n)))
    if a.only:
        cases = [c for c in cases if any(o in c[0] for o in a.only)]

    peak = machine_peak(a.build)
    if peak:
        print(f"machine: FP32 FMA peak {peak['fma_gflops_per_core']:.1f} GFLOP/s per core "
              f"({peak['isa']}), read bandwidth {peak['read_gbs_1_thread']:.1f} GB/s "
              f"(1 thread), {peak['read_gbs_all_threads']:.1f} GB/s ({peak['cpus']} threads)")
    results = []
    print(f"{'case':30s} {'ORT p50':>10s} {'glmc p50':>10s} {'ORT/glmc':>9s} {'onnx KB':>9s} {'.so KB':>8s}")
    for case in cases:
        name, onnx_path, inputs = case[:3]
        flags = case[3] if len(case) > 3 else []
        so = os.path.join(work, name.replace(" ", "_").replace("-", "") + ".so")
        sh([glmc, onnx_path, "--target", a.target, "--quiet", "-o", so] + flags)
        args = [run, so, "--threads", str(a.threads), "--bench", str(a.runs), "--warmup",
                str(a.warmup), "--bench-json", os.path.join(work, "b.json")]
        for i, x in enumerate(inputs):
            f = os.path.join(work, f"in{i}.npy")
            np.save(f, x)
            args += ["--input", f]
        sh(args)
        g = json.load(open(os.path.join(work, "b.json")))["latency_ms"]
        o50, o90 = ort_latency(onnx_path, inputs, a.threads, a.runs, a.warmup)
        r = {"case": name, "ort_p50_ms": o50, "ort_p90_ms": o90, "glmc_p50_ms": g["p50"],
             "glmc_p90_ms": g["p90"], "ratio_ort_over_glmc": o50 / g["p50"],
             "onnx_bytes": os.path.getsize(onnx_path), "so_bytes": os.path.getsize(so)}
        extra = ""
        if name.startswith("matmul ") and peak:
            # A GEMM against this machine's FMA peak (as many cores as threads).
            m, k, n = (int(v) for v in name.split()[1].split("x"))
            gflops = 2.0 * m * k * n / (g["p50"] * 1e-3) / 1e9
            r["glmc_gflops"] = gflops
            r["fraction_of_fma_peak"] = gflops / (peak["fma_gflops_per_core"] * a.threads)
            extra = f"  {gflops:6.1f} GFLOP/s = {100 * r['fraction_of_fma_peak']:.0f}% of peak"
        results.append(r)
        print(f"{name:30s} {o50:9.3f}ms {g['p50']:9.3f}ms {r['ratio_ort_over_glmc']:8.2f}x "
              f"{r['onnx_bytes'] / 1024:9.1f} {r['so_bytes'] / 1024:8.1f}{extra}")

    rt = os.path.join(a.build, "runtime", "libglmrt.so")
    if not os.path.exists(rt):
        cands = [os.path.join(dp, f) for dp, _, fs in os.walk(a.build) for f in fs
                 if f.startswith("libglmrt.so")]
        rt = cands[0] if cands else None
    meta = {"cpu": cpu_name(), "threads": a.threads, "target": a.target, "machine_peak": peak,
            "runtime_bytes": os.path.getsize(rt) if rt else None,
            "onnxruntime": __import__("onnxruntime").__version__}
    print(f"\ncpu: {meta['cpu']}; threads {a.threads}; target {a.target}; "
          f"libglmrt.so {meta['runtime_bytes']} bytes; onnxruntime {meta['onnxruntime']}")
    if a.json:
        json.dump({"meta": meta, "results": results}, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
