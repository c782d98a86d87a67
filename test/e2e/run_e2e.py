#!/usr/bin/env python3
"""End-to-end check of one model: glmc compiles it, glmrt-run runs it on the
sample inputs, the outputs must match the ONNX Runtime references within the
manifest's tolerances. Also checks that the artifact has no undefined symbols
beyond libc/libm and that compiling twice gives byte-identical files.

  run_e2e.py --glmc B/bin/glmc --run B/bin/glmrt-run --models DIR --work DIR NAME [--target T]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

ALLOWED_LIBS = ("libc.so.6", "libm.so.6")


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return p.returncode, p.stdout + p.stderr


def undefined_symbols(so):
    rc, out = run(["nm", "-D", "--undefined-only", so])
    if rc != 0:
        raise SystemExit(f"nm failed on {so}: {out}")
    return [l.split()[-1] for l in out.splitlines() if l.strip()]


def needed_libs(so):
    rc, out = run(["readelf", "-d", so])
    return [l.split("[")[1].split("]")[0] for l in out.splitlines() if "(NEEDED)" in l]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--glmc", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--target", default="host")
    ap.add_argument("--runner-prefix", default="", help="e.g. qemu command for cross targets")
    ap.add_argument("--threads", type=int, default=2,
                    help="session threads (parallel tiles must give the same result)")
    ap.add_argument("name")
    a = ap.parse_args()

    manifest = json.load(open(os.path.join(a.models, "manifest.json")))
    info = manifest["models"][a.name]
    rtol, atol = info.get("rtol", 1e-4), info.get("atol", 1e-5)
    os.makedirs(a.work, exist_ok=True)
    onnx_path = os.path.join(a.models, a.name + ".onnx")
    so = os.path.join(a.work, f"{a.name}.{a.target}.so")
    so2 = so + ".again"

    for out in (so, so2):
        rc, log = run([a.glmc, onnx_path, "--target", a.target, "--quiet", "-o", out])
        if rc != 0:
            print(log)
            raise SystemExit(f"FAIL {a.name}: glmc exited {rc}")
    if open(so, "rb").read() != open(so2, "rb").read():
        raise SystemExit(f"FAIL {a.name}: two compilations differ (not deterministic)")
    os.remove(so2)

    bad = [s for s in undefined_symbols(so) if not s.split("@")[0] in LIBC_LIBM_OK]
    if bad:
        raise SystemExit(f"FAIL {a.name}: undefined symbols beyond libc/libm: {bad}")
    extra = [l for l in needed_libs(so) if l not in ALLOWED_LIBS]
    if extra:
        raise SystemExit(f"FAIL {a.name}: depends on {extra}")

    n_in = len(info["inputs"])
    n_out = len(info["outputs"])
    cmd = (a.runner_prefix.split() if a.runner_prefix else []) + [a.run, so, "--threads",
                                                                   str(a.threads)]
    for k in range(n_in):
        cmd += ["--input", os.path.join(a.models, f"{a.name}.in.{k}.npy")]
    outs = [os.path.join(a.work, f"{a.name}.{a.target}.got.{k}.npy") for k in range(n_out)]
    for o in outs:
        cmd += ["--output", o]
    rc, log = run(cmd)
    if rc != 0:
        print(log)
        raise SystemExit(f"FAIL {a.name}: glmrt-run exited {rc}")
    worst = 0.0
    for k, o in enumerate(outs):
        got = np.load(o)
        ref = np.load(os.path.join(a.models, f"{a.name}.out.{k}.npy"))
        if got.shape != ref.shape or got.dtype != ref.dtype:
            raise SystemExit(f"FAIL {a.name}: output {k} is {got.dtype}{got.shape}, "
                             f"ORT gives {ref.dtype}{ref.shape}")
        err = np.abs(got.astype(np.float64) - ref.astype(np.float64))
        tol = atol + rtol * np.abs(ref.astype(np.float64))
        if not np.all(err <= tol):
            i = np.unravel_index(np.argmax(err - tol), err.shape)
            raise SystemExit(f"FAIL {a.name}: output {k} differs at {i}: got {got[i]}, "
                             f"ORT {ref[i]} (rtol {rtol}, atol {atol}); max abs err {err.max():.3g}")
        rel = float((err / (np.abs(ref) + 1e-12)).max()) if err.size else 0.0
        worst = max(worst, float(err.max()) if err.size else 0.0)
    print(f"PASS {a.name} [{a.target}]: {n_out} output(s) match ORT, max abs err {worst:.3g}; "
          f"deterministic; imports only libc/libm")


# Symbols an artifact may import: libc and libm only (memcpy/memset from
# LLVM intrinsics; math stays in polynomials).
LIBC_LIBM_OK = {
    "memcpy", "memmove", "memset", "memcmp", "bcmp", "__stack_chk_fail", "__memcpy_chk",
    "__memset_chk", "expf", "exp", "logf", "log", "tanhf", "tanh", "erff", "erf", "powf", "pow",
    "sinf", "cosf", "sqrtf", "sqrt", "fmaf", "fma", "floorf", "ceilf", "roundf", "truncf",
    "fmodf", "fmod", "log1pf", "expm1f", "exp2f", "log2f", "atanf", "atan2f", "sinhf", "coshf",
    "nearbyintf", "rintf", "lrintf", "fminf", "fmaxf",
}

if __name__ == "__main__":
    main()
