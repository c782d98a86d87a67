#!/usr/bin/env python3
"""Generation benchmark: tiny-glm with a KV cache, glmc + glmrt's decoder
(through glm-generate) against ONNX Runtime, same machine, same run, same
thread count. Measures the prefill of a 128-token prompt (the first
sequence of tiny-glm's eval set) and then 128 decode steps, each the median
of --runs runs, and prints tokens/s and the ratio glmc / ORT (> 1 means
glmc is faster).

  bench/run_generate_bench.py --build build [--threads 1,2] [--runs 7] [--json out.json]

glm-generate runs --repeat R in one process (the decoder reset between
runs); ORT runs its session from Python with the same KV-cache loop
(presents fed back as the next pasts, greedy tokens), default graph
optimizations. Only session.run is timed on the ORT side and only the
decoder calls on glmc's, so tokenizer and sampling costs are left out of
both.
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
        raise SystemExit(f"bench: failed: {' '.join(cmd)}")
    return p.stdout


def ort_generate(onnx_path, prompt, steps, threads, runs):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    past_names = [i.name for i in sess.get_inputs() if i.name.startswith("past_key_values.")]
    prefill_times, decode_times = [], []
    for _ in range(runs):
        past = {n: np.zeros((1, 2, 0, 32), np.float32) for n in past_names}
        ids = np.array([prompt], dtype=np.int64)
        length, decode_s = 0, 0.0
        for step in range(steps + 1):
            n = ids.shape[1]
            feed = {"input_ids": ids,
                    "position_ids": np.arange(length, length + n, dtype=np.int64)[None, :],
                    "attention_mask": np.ones((1, length + n), dtype=np.int64)}
            feed.update(past)
            t = time.perf_counter()
            outs = sess.run(None, feed)
            dt = time.perf_counter() - t
            if step == 0:
                prefill_times.append(dt)
            else:
                decode_s += dt
            out = dict(zip(names, outs))
            for p in past_names:
                past[p] = out[p.replace("past_key_values.", "present.")]
            length += n
            ids = np.array([[int(np.argmax(out["logits"][0, -1]))]], dtype=np.int64)
        decode_times.append(decode_s)
    return len(prompt) / float(np.median(prefill_times)), steps / float(np.median(decode_times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--steps", type=int, default=128, help="decode steps after the prefill")
    ap.add_argument("--target", default="host")
    ap.add_argument("--json")
    ap.add_argument("--glmc", help="default: BUILD/bin/glmc")
    ap.add_argument("--generate", help="default: BUILD/bin/glm-generate")
    a = ap.parse_args()
    glmc = a.glmc or os.path.join(a.build, "bin", "glmc")
    generate = a.generate or os.path.join(a.build, "bin", "glm-generate")
    d = os.path.join(ROOT, "test", "models", "tiny-glm")
    onnx_path = os.path.join(d, "tiny-glm-decode.onnx")
    prompt = [int(x) for x in np.load(os.path.join(d, "eval", "input_ids", "000000.npy"))[0]]

    tmp = tempfile.TemporaryDirectory(prefix="glmc-bench-generate-")
    so = os.path.join(tmp.name, "tiny-glm-decode.so")
    sh([glmc, onnx_path, "--target", a.target, "--quiet", "-o", so])

    results, crashed = [], []
    print(f"tiny-glm, prefill {len(prompt)} tokens then {a.steps} decode steps, "
          f"median of {a.runs} runs")
    print(f"{'case':22s} {'threads':>7s} {'ORT tok/s':>10s} {'glmc tok/s':>11s} {'glmc/ORT':>9s}")
    for threads in [int(t) for t in a.threads.split(",")]:
        cmd = [generate, so, "--tokenizer", os.path.join(d, "tokenizer.json"),
               "--prompt-ids", ",".join(map(str, prompt)), "-n", str(a.steps + 1),
               "--no-stop", "--json", "--quiet", "--threads", str(threads),
               "--repeat", str(a.runs)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode < 0:  # a signal: the compiled model crashed
            print(f"{'prefill/decode':22s} {threads:7d}   glm-generate died of signal "
                  f"{-p.returncode} (a bug in the compiled model; try --target)", flush=True)
            crashed.append(threads)
            continue
        if p.returncode != 0:
            sys.stderr.write(p.stdout + p.stderr)
            raise SystemExit(f"bench: failed: {' '.join(cmd)}")
        g = json.loads(p.stdout)
        o_prefill, o_decode = ort_generate(onnx_path, prompt, a.steps, threads, a.runs)
        for case, glmc_tps, ort_tps in [(f"prefill {len(prompt)}", g["prefill_tokens_per_s"], o_prefill),
                                        ("decode", g["decode_tokens_per_s"], o_decode)]:
            r = {"case": case, "threads": threads, "ort_tokens_per_s": ort_tps,
                 "glmc_tokens_per_s": glmc_tps, "ratio_glmc_over_ort": glmc_tps / ort_tps}
            results.append(r)
            print(f"{case:22s} {threads:7d} {ort_tps:10.1f} {glmc_tps:11.1f} "
                  f"{r['ratio_glmc_over_ort']:8.2f}x", flush=True)
        results[-1]["glmc_peak_rss_kib"] = g["peak_rss_kib"]
    import onnxruntime
    meta = {"model": "tiny-glm-decode", "prompt_tokens": len(prompt), "decode_steps": a.steps,
            "runs": a.runs, "target": a.target, "onnxruntime": onnxruntime.__version__}
    if a.json:
        json.dump({"meta": meta, "results": results, "crashed_threads": crashed},
                  open(a.json, "w"), indent=1)
    if crashed:
        raise SystemExit(f"bench: the compiled model crashed (threads {crashed})")


if __name__ == "__main__":
    main()
