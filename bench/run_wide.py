#!/usr/bin/env python3
"""GLM-4 at full layer width: glmc + glmrt against ONNX Runtime, same
machine, same run, same thread count (issue 6 acceptance 4 and 5).

  bench/run_wide.py --dir /work/big/glm4-wide [--build build] [--threads 2]
                    [--runs 5] [--json out.json] [--keep]
                    [--preset wide | --hidden H --layers L --vocab V ...]

1. Generates the model with test/models/gen/glm4_wide.py into DIR if it is
   not there yet (--preset wide: GLM-4-9B's layer shape, hidden 4096, 32
   heads, 2 KV groups, ffn 13696, vocab 151552, 2 layers, random weights,
   6.60 GB of fp32 in one external data file shared by both forms; about
   two minutes).
2. Compiles the full-sequence form and the decode form with
   `glmc --target host` (peak RSS and wall time of each compile, measured
   with wait4 on the glmc process: its resident set and its children's,
   ld.lld included). Weights over 2 GiB go to <artifact>.weights.
3. Prefill: the full-sequence form on 128 tokens (`glmrt-run --bench`)
   against ORT's session.run on the same inputs, in --rounds rounds that
   alternate glmc and ORT (--runs runs each, after one warm-up; the ORT
   session stays loaded), so that both see the same load on a shared
   machine; tokens/s = 128 / median latency; "best" compares the fastest
   runs.
4. Decode: the decode form, one token with a past of 128 (random KV of
   the right shape); tokens/s = 1 / median.
5. Checks that glmc's logits equal ORT's (max abs diff) for both cases.
6. With --breakdown, times each weight MatMul shape of the model alone
   (x[M, K] @ W[K, N], M = 128 and 1) in both, with GFLOP/s and the weight
   bytes streamed per second, and compares their sum with the end-to-end
   times: the rest is attention, norms, RoPE and element-wise work.

ORT runs with its default graph optimizations, intra_op_num_threads =
--threads, inter_op 1, one process per form (so that its peak RSS is its
own); glmrt-run with --threads. Nothing here is a test: there are no
thresholds, and ctest does not run it. Disk: the ONNX weights plus one
side file per form (3 x 6.6 GB for the wide preset; --keep leaves the
artifacts in DIR/bench, otherwise they are deleted at the end). Memory:
one process at a time maps the weights (~6.6 GB resident while it runs).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test", "models", "gen"))
import glm4_wide  # noqa: E402

PREFILL = 128
PAST = 128


def run_rss(cmd):
    """Runs cmd with wait4; returns (stdout, stderr, wall s, peak RSS bytes)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Read the pipes to the end before reaping, so that wait4 gets the rusage.
    out, err = p.stdout.read(), p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    out, err = out.decode(), err.decode()
    if p.returncode != 0:
        sys.stderr.write(out + err)
        raise SystemExit(f"bench: failed ({p.returncode}): {' '.join(cmd)}")
    return out, err, wall, usage.ru_maxrss * 1024


def make_inputs(d, cfg, seed=1234):
    """Prefill and decode inputs as .npy files; returns {case: {name: path}}."""
    rng = np.random.default_rng(seed)
    cases = {}
    pre = {"input_ids": rng.integers(0, cfg["vocab"], (1, PREFILL), dtype=np.int64),
           "position_ids": np.arange(PREFILL, dtype=np.int64)[None],
           "attention_mask": np.ones((1, PREFILL), np.int64)}
    dec = {"input_ids": rng.integers(0, cfg["vocab"], (1, 1), dtype=np.int64),
           "position_ids": np.array([[PAST]], np.int64),
           "attention_mask": np.ones((1, PAST + 1), np.int64)}
    for i in range(cfg["layers"]):
        for kv in ("key", "value"):
            dec[f"past_key_values.{i}.{kv}"] = rng.standard_normal(
                (1, cfg["kv_heads"], PAST, cfg["head_dim"]), dtype=np.float32)
    for case, feeds in (("prefill", pre), ("decode", dec)):
        os.makedirs(os.path.join(d, case), exist_ok=True)
        cases[case] = {}
        for name, a in feeds.items():
            path = os.path.join(d, case, name + ".npy")
            np.save(path, a)
            cases[case][name] = path
    return cases


def ort_worker(args):
    """Serves one form under ORT: loads it, runs it once (logits to --logits),
    prints {"load_s"}; then for each line N on stdin times N runs and prints
    {"latency_s": [...]}; on "quit" prints {"peak_rss"} and exits."""
    import onnxruntime as ort
    import resource
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    t = time.perf_counter()
    sess = ort.InferenceSession(args.ort_worker, so, providers=["CPUExecutionProvider"])
    load = time.perf_counter() - t
    feeds = {name: np.load(path) for name, path in json.loads(args.inputs).items()}
    np.save(args.logits, sess.run(["logits"], feeds)[0])
    print(json.dumps({"load_s": load}), flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        times = []
        for _ in range(int(line)):
            t = time.perf_counter()
            sess.run(["logits"], feeds)
            times.append(time.perf_counter() - t)
        print(json.dumps({"latency_s": times}), flush=True)
    print(json.dumps({"peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}),
          flush=True)


def compare(a, artifact, onnx_path, inputs, work, stem):
    """glmrt-run --bench and ORT on the same inputs, in --rounds alternating
    rounds of --runs runs each (so that both see the same load on a shared
    machine); returns medians and minimums of the latencies, peak RSS of
    both, ORT's load time and the two logits files."""
    logits = os.path.join(work, f"{stem}.glmc.npy")
    ort_logits = os.path.join(work, f"{stem}.ort.npy")
    bench_json = os.path.join(work, f"{stem}.bench.json")
    cmd = [a.run, artifact, "--threads", str(a.threads), "--bench", str(a.runs), "--warmup", "1",
           "--bench-json", bench_json, "--output", f"logits={logits}"]
    for n, p in inputs.items():
        cmd += ["--input", f"{n}={p}"]
    worker = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--dir", a.dir,
                               "--ort-worker", onnx_path, "--inputs", json.dumps(inputs),
                               "--logits", ort_logits, "--threads", str(a.threads)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    load = json.loads(worker.stdout.readline())["load_s"]
    g_p50, g_min, o_times, g_rss, g_wall = [], [], [], 0, 0.0
    for r in range(a.rounds):
        # The weights checksum is checked once; it is load time, not run time.
        _, _, wall, rss = run_rss(cmd + (["--no-checksum"] if r else []))
        g_rss, g_wall = max(g_rss, rss), g_wall if r else wall
        lat = json.load(open(bench_json))["latency_ms"]
        g_p50.append(lat["p50"] / 1e3)
        g_min.append(lat["min"] / 1e3)
        worker.stdin.write(f"{a.runs}\n")
        worker.stdin.flush()
        o_times += json.loads(worker.stdout.readline())["latency_s"]
    worker.stdin.write("quit\n")
    worker.stdin.flush()
    o_rss = json.loads(worker.stdout.readline())["peak_rss"]
    worker.stdin.close()
    worker.wait()
    return {"glmc_s": float(np.median(g_p50)), "glmc_min_s": float(min(g_min)),
            "ort_s": float(np.median(o_times)), "ort_min_s": float(min(o_times)),
            "glmc_peak_rss": g_rss, "glmc_first_process_s": g_wall, "ort_peak_rss": o_rss,
            "ort_load_s": load, "logits": (logits, ort_logits)}


def matmul_shapes(cfg):
    """(name, K, N, count in the model) of every MatMul with a weight."""
    H, D, F = cfg["hidden"], cfg["head_dim"], cfg["ffn"]
    L = cfg["layers"]
    return [("q_proj/o_proj", H, cfg["heads"] * D, 2 * L),
            ("k_proj/v_proj", H, cfg["kv_heads"] * D, 2 * L),
            ("gate_up_proj", H, 2 * F, L),
            ("down_proj", F, H, L),
            ("lm_head", H, cfg["vocab"], 1)]


def write_matmul(path, weights, m_dim, k, n, seed):
    """x[M, K] @ W[K, N] with W (seeded normal * 0.02) in the external data file
    `weights` (same directory; written once, shared by the models of one shape)."""
    import onnx
    from onnx import TensorProto, helper
    w = glm4_wide.Weight("W", (k, n), "normal")
    if not os.path.exists(weights):
        glm4_wide.write_weights([w], weights + ".tmp", glm4_wide.random_source(seed))
        os.rename(weights + ".tmp", weights)
    protos = {"W": external_tensor(w, os.path.basename(weights))}
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["logits"], name="mm")], "mm",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m_dim, k])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [m_dim, n])],
                          [protos["W"]])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def external_tensor(w, location):
    from onnx import TensorProto
    t = TensorProto()
    t.name, t.data_type = w.name, TensorProto.FLOAT
    t.dims.extend(w.shape)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(w.nbytes))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def breakdown(a, cfg, glmc, work, e2e):
    """Each weight MatMul of the model alone, at M = 128 (prefill) and M = 1
    (decode), glmc against ORT: where the end-to-end time goes."""
    d = os.path.join(work, "breakdown")
    os.makedirs(d, exist_ok=True)
    rows = []
    print(f"\nbreakdown: each weight MatMul alone ({a.threads} threads, medians of "
          f"{a.rounds} x {a.runs})")
    print(f"{'matmul':14s} {'K x N':>14s} {'M':>4s} {'x':>3s} {'ORT ms':>8s} {'glmc ms':>8s} "
          f"{'glmc/ORT':>9s} {'glmc GFLOP/s':>12s} {'glmc GB/s':>10s}")
    for i, (name, k, n, count) in enumerate(matmul_shapes(cfg)):
        for m_dim in (PREFILL, 1):
            stem = f"mm{i}_{m_dim}"
            onnx_path = os.path.join(d, stem + ".onnx")
            if not os.path.exists(onnx_path):
                write_matmul(onnx_path, os.path.join(d, f"mm{i}.weights"), m_dim, k, n, seed=i)
            so = os.path.join(d, stem + ".so")
            run_rss([glmc, onnx_path, "--target", "host", "--quiet", "--external-weights", "-o", so])
            x = os.path.join(d, stem + ".x.npy")
            np.save(x, np.random.default_rng(i).standard_normal((m_dim, k), dtype=np.float32))
            m = compare(a, so, onnx_path, {"x": x}, d, stem)
            g_s, o_s = m["glmc_s"], m["ort_s"]
            got, want = (np.load(p) for p in m["logits"])
            assert float(np.max(np.abs(got - want))) <= 1e-3 * float(np.max(np.abs(want))), stem
            flops = 2.0 * m_dim * k * n
            r = {"matmul": name, "K": k, "N": n, "M": m_dim, "count": count, "glmc_s": g_s,
                 "ort_s": o_s, "glmc_gflops": flops / g_s / 1e9, "ort_gflops": flops / o_s / 1e9,
                 "glmc_weight_gbps": 4.0 * k * n / g_s / 1e9}
            rows.append(r)
            print(f"{name:14s} {f'{k} x {n}':>14s} {m_dim:4d} {count:3d} {o_s * 1e3:8.2f} "
                  f"{g_s * 1e3:8.2f} {o_s / g_s:8.2f}x {r['glmc_gflops']:12.1f} "
                  f"{r['glmc_weight_gbps']:10.1f}", flush=True)
            for p in (so, so + ".weights"):
                if os.path.exists(p):
                    os.remove(p)
    for case, m_dim in (("prefill", PREFILL), ("decode", 1)):
        parts = [r for r in rows if r["M"] == m_dim]
        g_sum = sum(r["glmc_s"] * r["count"] for r in parts)
        o_sum = sum(r["ort_s"] * r["count"] for r in parts)
        e = next(r for r in e2e if r["case"] == case)
        print(f"{case}: weight MatMuls alone sum to glmc {g_sum * 1e3:.0f} ms of {e['glmc_s'] * 1e3:.0f} ms "
              f"end to end, ORT {o_sum * 1e3:.0f} ms of {e['ort_s'] * 1e3:.0f} ms")
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, help="where the model is (generated if missing)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--glmc")
    ap.add_argument("--glmrt-run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3, help="runs per round")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating glmc/ORT rounds (medians over all of them)")
    ap.add_argument("--json")
    ap.add_argument("--keep", action="store_true", help="keep the compiled artifacts")
    ap.add_argument("--breakdown", action="store_true",
                    help="also time each weight MatMul of the model alone at M = 128 and M = 1 "
                         "(writes one single-MatMul model per shape under DIR/bench/breakdown)")
    ap.add_argument("--preset", default="wide", choices=sorted(glm4_wide.PRESETS))
    for k in ("hidden", "heads", "kv_heads", "head_dim", "ffn", "vocab", "layers"):
        ap.add_argument("--" + k.replace("_", "-"), type=int)
    ap.add_argument("--name", help="model file stem (default glm4-<preset>)")
    # Internal: run one form under ORT in this process.
    ap.add_argument("--ort-worker", help=argparse.SUPPRESS)
    ap.add_argument("--inputs", help=argparse.SUPPRESS)
    ap.add_argument("--logits", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.ort_worker:
        return ort_worker(a)

    glmc = a.glmc or os.path.join(a.build, "bin", "glmc")
    a.run = a.glmrt_run or os.path.join(a.build, "bin", "glmrt-run")
    cfg = glm4_wide.make_config(a.preset, **{k: getattr(a, k) for k in
                                             ("hidden", "heads", "kv_heads", "head_dim", "ffn",
                                              "vocab", "layers")})
    name = a.name or f"glm4-{a.preset}"
    full_onnx = os.path.join(a.dir, name + ".onnx")
    dec_onnx = os.path.join(a.dir, name + "-decode.onnx")
    info_path = os.path.join(a.dir, name + ".json")
    info = json.load(open(info_path)) if os.path.exists(info_path) else None
    if info is None or info["config"] != cfg or not all(map(os.path.exists, (full_onnx, dec_onnx))):
        print(f"generating {name} into {a.dir} ...", flush=True)
        subprocess.run([sys.executable, os.path.join(ROOT, "test", "models", "gen", "glm4_wide.py"),
                        a.dir, "--preset", a.preset, "--name", name] +
                       [x for k in ("hidden", "heads", "kv_heads", "head_dim", "ffn", "vocab", "layers")
                        if getattr(a, k) is not None for x in ("--" + k.replace("_", "-"), str(getattr(a, k)))],
                       check=True)
        info = json.load(open(info_path))
    weight_bytes = info["weight_bytes"]
    work = os.path.join(a.dir, "bench")
    os.makedirs(work, exist_ok=True)
    inputs = make_inputs(os.path.join(work, "inputs"), cfg)

    results = {"meta": {"model": name, "config": cfg, "weight_bytes": weight_bytes,
                        "threads": a.threads, "runs": a.runs, "prefill_tokens": PREFILL,
                        "decode_past": PAST, "machine": platform.processor() or platform.machine(),
                        "cpus": os.cpu_count()}}
    import onnxruntime
    results["meta"]["onnxruntime"] = onnxruntime.__version__
    print(f"{name}: hidden {cfg['hidden']}, {cfg['heads']} heads / {cfg['kv_heads']} KV, ffn "
          f"{cfg['ffn']}, vocab {cfg['vocab']}, {cfg['layers']} layers; "
          f"{weight_bytes / 1e9:.2f} GB of weights; {a.threads} threads", flush=True)

    artifacts = {}
    compiles = {}
    for case, onnx_path in (("prefill", full_onnx), ("decode", dec_onnx)):
        so = os.path.join(work, f"{name}{'-decode' if case == 'decode' else ''}.so")
        _, err, wall, rss = run_rss([glmc, onnx_path, "--target", "host", "-o", so])
        artifacts[case] = so
        compiles[case] = {"wall_s": wall, "peak_rss": rss, "peak_rss_over_weights": rss / weight_bytes,
                          "external_weights": os.path.exists(so + ".weights")}
        print(f"compile {os.path.basename(onnx_path)}: {wall:.1f} s, peak RSS {rss / 1e9:.2f} GB "
              f"({rss / weight_bytes:.2f}x the weights)"
              + (", weights in " + os.path.basename(so) + ".weights" if compiles[case]["external_weights"] else ""),
              flush=True)
    results["compile"] = compiles

    rows = []
    for case, onnx_path in (("prefill", full_onnx), ("decode", dec_onnx)):
        tokens = PREFILL if case == "prefill" else 1
        m = compare(a, artifacts[case], onnx_path, inputs[case], work, case)
        got, want = (np.load(p) for p in m.pop("logits"))
        m.update({"case": case, "tokens": tokens,
                  "glmc_tokens_per_s": tokens / m["glmc_s"], "ort_tokens_per_s": tokens / m["ort_s"],
                  "ratio_glmc_over_ort": m["ort_s"] / m["glmc_s"],
                  "ratio_best_glmc_over_ort": m["ort_min_s"] / m["glmc_min_s"],
                  "max_abs_diff": float(np.max(np.abs(want - got))),
                  "max_abs_logit": float(np.max(np.abs(want)))})
        rows.append(m)
    results["results"] = rows

    print()
    print(f"{'case':22s} {'ORT tok/s':>10s} {'glmc tok/s':>11s} {'glmc/ORT':>9s} {'best':>6s} "
          f"{'max|diff|':>10s} {'RSS glmrt':>10s} {'RSS ORT':>8s}")
    for r in rows:
        label = f"prefill {PREFILL}" if r["case"] == "prefill" else f"decode 1 (past {PAST})"
        print(f"{label:22s} {r['ort_tokens_per_s']:10.2f} {r['glmc_tokens_per_s']:11.2f} "
              f"{r['ratio_glmc_over_ort']:8.2f}x {r['ratio_best_glmc_over_ort']:5.2f}x "
              f"{r['max_abs_diff']:10.2e} {r['glmc_peak_rss'] / 1e9:8.2f}GB "
              f"{r['ort_peak_rss'] / 1e9:6.2f}GB")
    print(f"(medians of {a.rounds} alternating rounds of {a.runs} runs, best = ratio of the fastest "
          f"runs; {a.threads} threads; ORT {onnxruntime.__version__}, ORT load "
          f"{rows[0]['ort_load_s']:.1f} s, glmrt-run first process {rows[0]['glmc_first_process_s']:.1f} s "
          f"incl. the weights checksum)")
    if a.breakdown:
        results["breakdown"] = breakdown(a, cfg, glmc, work, rows)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    if not a.keep:
        for so in artifacts.values():
            for p in (so, so + ".weights"):
                if os.path.exists(p):
                    os.remove(p)
    return 0


if __name__ == "__main__":
    sys.exit(main() or 0)
