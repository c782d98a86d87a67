#!/usr/bin/env python3
"""Compile every zoo model with glmc, run it with glmrt-run, compare with the ORT references.

    .venv/bin/python test/zoo/run_glmc.py [--models DIR] [--build build] [--work /tmp/zoo]
        [--only NAME ...] [--prune 0.4] [--timeout 600] [--json results.json]

Needs only numpy (requirements/test.txt). For each model in DIR/manifest.json:

    glmc DIR/<name>.onnx --target host -o WORK/<name>.so
    glmrt-run WORK/<name>.so --input DIR/<name>.in.0.npy ... --output WORK/<name>.out.0.npy ...

and compares each output with DIR/<name>.out.<k>.npy (max abs error, outside the model's
dont_care region, against the manifest tolerance |a - b| <= atol + rtol * |b|). With
--prune R the CNNs are also compiled with `--prune R` and run (the error is then only
informative: a pruned model is a different function). Prints one line per model and
writes the results as JSON (default WORK/results.json).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CNNS = ("resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
        "convnext_tiny", "regnet_y", "yolo")


def run(cmd, timeout):
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, (p.stdout + p.stderr).strip(), time.time() - t0
    except subprocess.TimeoutExpired:
        return "timeout", f"timed out after {timeout}s", time.time() - t0


def care_mask(entry, inputs, k, shape):
    outname = entry["outputs"][k]["name"]
    dc = entry.get("dont_care", {}).get(outname)
    if not dc:
        return None
    names = [i["name"] for i in entry["inputs"]]
    keep = inputs[names.index(dc["input"])] != 0
    keep = keep.reshape(keep.shape + (1,) * (len(shape) - keep.ndim))
    return np.broadcast_to(keep, shape)


def compare(entry, name, models, work, suffix=""):
    n_in, n_out = len(entry["inputs"]), len(entry["outputs"])
    if n_out == 0:  # a check must compare something to prove anything
        return [dict(output="(none)", error="the manifest lists no outputs to compare")]
    inputs = [np.load(os.path.join(models, f"{name}.in.{k}.npy")) for k in range(n_in)]
    res = []
    for k in range(n_out):
        ref = np.load(os.path.join(models, f"{name}.out.{k}.npy"))
        p = os.path.join(work, f"{name}{suffix}.out.{k}.npy")
        if not os.path.exists(p):
            res.append(dict(output=entry["outputs"][k]["name"], error="no output file"))
            continue
        got = np.load(p)
        if got.shape != ref.shape:
            res.append(dict(output=entry["outputs"][k]["name"],
                            error=f"shape {list(got.shape)} != reference {list(ref.shape)}"))
            continue
        d = np.abs(got.astype(np.float64) - ref.astype(np.float64))
        bound = entry["tolerance"]["atol"] + entry["tolerance"]["rtol"] * np.abs(ref.astype(np.float64))
        m = care_mask(entry, inputs, k, ref.shape)
        if m is not None:
            d, bound = d[m], bound[m]
        nonfinite = int((~np.isfinite(got)).sum())
        res.append(dict(output=entry["outputs"][k]["name"], max_abs_err=float(d.max()) if d.size else 0.0,
                        ref_absmax=float(np.abs(ref).max()), within_tol=bool((d <= bound).all()),
                        nonfinite=nonfinite))
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=os.path.join(HERE, "models"))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work", default="/tmp/zoo")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--prune", type=float, default=None, help="also compile the CNNs with --prune R")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    glmc = os.path.join(args.build, "bin", "glmc")
    rt = os.path.join(args.build, "bin", "glmrt-run")
    for b in (glmc, rt):
        if not os.path.exists(b):
            print(f"run_glmc: {b} does not exist (build first)", file=sys.stderr)
            return 2
    os.makedirs(args.work, exist_ok=True)
    with open(os.path.join(args.models, "manifest.json")) as f:
        man = json.load(f)
    results = {}
    for name, entry in man["models"].items():
        if args.only and name not in args.only and entry["model"] not in args.only:
            continue
        variants = [("", [])]
        if args.prune is not None and entry["model"] in CNNS:
            variants.append((f".prune{args.prune:g}", ["--prune", f"{args.prune:g}"]))
        for suffix, extra in variants:
            key = name + suffix
            so = os.path.join(args.work, key + ".so")
            for f in os.listdir(args.work):
                if f.startswith(key + ".out."):
                    os.remove(os.path.join(args.work, f))
            cmd = [glmc, os.path.join(args.models, entry["file"]), "--target", "host", "-o", so] + extra
            rc, out, t = run(cmd, args.timeout)
            r = dict(compile_rc=rc, compile_s=round(t, 1), compile_cmd=" ".join(cmd[1:]))
            if rc != 0:
                r["compile_error"] = out
            else:
                if out:
                    r["compile_notes"] = out[-2000:]
                r["so_bytes"] = os.path.getsize(so)
                cmd = [rt, so, "--threads", "1"]
                for k in range(len(entry["inputs"])):
                    cmd += ["--input", os.path.join(args.models, f"{name}.in.{k}.npy")]
                for k in range(len(entry["outputs"])):
                    cmd += ["--output", os.path.join(args.work, f"{key}.out.{k}.npy")]
                rc2, out2, t2 = run(cmd, args.timeout)
                r.update(run_rc=rc2, run_s=round(t2, 2))
                if rc2 != 0:
                    r["run_error"] = out2
                else:
                    r["compare"] = compare(entry, name, args.models, args.work, suffix)
                    if suffix:
                        r["note"] = "pruned model: error vs the unpruned ORT reference is informative only"
            results[key] = r
            if rc != 0:
                msg = "COMPILE FAIL: " + (out.splitlines()[0] if out else f"rc {rc}")
            elif r.get("run_rc") != 0:
                msg = "RUN FAIL: " + (r.get("run_error", "").splitlines() or ["?"])[0]
            else:
                errs = [c.get("max_abs_err", float("nan")) for c in r["compare"]]
                ok = all(c.get("within_tol") for c in r["compare"])
                msg = (f"ran, max abs err {max(errs):.3g} "
                       f"({'within' if ok else 'OUTSIDE'} tolerance atol {entry['tolerance']['atol']:g})")
            print(f"{key:40s} {msg}", flush=True)
    path = args.json or os.path.join(args.work, "results.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"run_glmc: results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
