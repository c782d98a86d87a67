#!/usr/bin/env python3
"""End-to-end check of one model: glmc compiles it, glmrt-run runs it on the
sample inputs, the outputs must match the ONNX Runtime references within the
manifest's tolerances. Also checks that the artifact is built for the
machine glmrt-run is built for, has no undefined symbols beyond libc/libm,
and that compiling twice gives byte-identical files.

  run_e2e.py --glmc B/bin/glmc --run B/bin/glmrt-run --models DIR --work DIR NAME [--target T]

Cross targets: --run names a glmrt-run built for the target and
--runner-prefix the emulator, e.g.
  --target rpi5 --run B/bin/aarch64/glmrt-run
  --runner-prefix "qemu-aarch64-static -L /usr/aarch64-linux-gnu -cpu cortex-a76"
--expect-refusal TEXT (repeatable) turns the run into a check that
glmrt-run refuses the artifact (exit 1) with every TEXT in its message.
--prune R turns it into a check of structured pruning: the model compiled
with --prune R (deterministically) must have really lost parameters (the
pruned model written by --emit=onnx counts fewer weights), and the pruned
artifact must match ONNX Runtime run on that exported pruned model.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np

ALLOWED_LIBS = ("libc.so.6", "libm.so.6")
ELF_MACHINES = {3: "x86", 40: "arm", 62: "x86-64", 183: "aarch64"}


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return p.returncode, p.stdout + p.stderr


def elf_machine(path):
    """e_machine of a 64-bit little-endian ELF file, as a name."""
    with open(path, "rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        raise SystemExit(f"FAIL: {path} is not an ELF file")
    if head[4] != 2 or head[5] != 1:
        raise SystemExit(f"FAIL: {path} is not a 64-bit little-endian ELF file")
    machine = struct.unpack_from("<H", head, 18)[0]
    return ELF_MACHINES.get(machine, f"machine {machine}")


def binutil(so, candidates, args):
    """Output of the first of `candidates` (GNU binutils, then LLVM's, which
    read every architecture) that reads `so`."""
    errors = []
    for tool in candidates:
        if not shutil.which(tool):
            continue
        rc, out = run([tool] + args + [so])
        if rc == 0:
            return out
        errors.append(f"{tool}: {out.strip()}")
    raise SystemExit(f"FAIL: cannot read {so} with any of {', '.join(candidates)}: "
                     + ("; ".join(errors) or "none is installed"))


def undefined_symbols(so):
    out = binutil(so, ["nm", "llvm-nm-22", "llvm-nm"], ["-D", "--undefined-only"])
    return [l.split()[-1] for l in out.splitlines() if l.strip()]


def needed_libs(so):
    out = binutil(so, ["readelf", "llvm-readelf-22", "llvm-readelf"], ["-d"])
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
    ap.add_argument("--expect-refusal", action="append", default=[], metavar="TEXT",
                    help="glmrt-run must refuse the artifact with TEXT in its message")
    ap.add_argument("--timeout", type=float, default=300,
                    help="seconds glmrt-run may take (qemu is slow)")
    ap.add_argument("--prune", type=float, default=0.0,
                    help="check --prune R against ORT on the --emit=onnx export of the pruned model")
    ap.add_argument("--profile", action="store_true",
                    help="compile with --profile, run glmrt-run --profile: outputs still match, "
                         "and the layer times add up to the measured run time within 10%%")
    ap.add_argument("name")
    a = ap.parse_args()

    manifest_path = os.path.join(a.models, "manifest.json")
    if os.path.exists(manifest_path):
        info = json.load(open(manifest_path))["models"][a.name]
    else:
        # A trained model folder (test/models/<name>): inputs and outputs by
        # file name; logits-scale tolerances.
        import glob
        count = lambda kind: len(glob.glob(os.path.join(a.models, f"{a.name}.{kind}.*.npy")))
        info = {"inputs": [None] * count("in"), "outputs": [None] * count("out"),
                "rtol": 1e-4, "atol": 1e-4}
    tol = info.get("tolerance", {})
    rtol, atol = info.get("rtol", tol.get("rtol", 1e-4)), info.get("atol", tol.get("atol", 1e-5))
    os.makedirs(a.work, exist_ok=True)
    onnx_path = os.path.join(a.models, a.name + ".onnx")
    tag = f"{a.target}.prune{a.prune:g}" if a.prune else a.target
    if a.profile:
        tag += ".profile"
    so = os.path.join(a.work, f"{a.name}.{tag}.so")
    so2 = so + ".again"
    flags = ["--prune", f"{a.prune:g}"] if a.prune else []
    if a.profile:
        flags.append("--profile")
    refs = [os.path.join(a.models, f"{a.name}.out.{k}.npy") for k in range(len(info["outputs"]))]
    if a.prune:
        refs = prune_references(a, info, onnx_path, flags, tag)

    # A refusal test leaves determinism to the model's own test.
    for out in (so,) if a.expect_refusal else (so, so2):
        rc, log = run([a.glmc, onnx_path, "--target", a.target, "--quiet", "-o", out] + flags)
        if rc != 0:
            print(log)
            raise SystemExit(f"FAIL {a.name}: glmc exited {rc}")
    if not a.expect_refusal:
        if open(so, "rb").read() != open(so2, "rb").read():
            raise SystemExit(f"FAIL {a.name}: two compilations differ (not deterministic)")
        os.remove(so2)

    # The runtime would refuse another machine's artifact; say so up front.
    run_machine, so_machine = elf_machine(a.run), elf_machine(so)
    if run_machine != so_machine:
        raise SystemExit(f"FAIL {a.name}: --target {a.target} gave an artifact for {so_machine}, "
                         f"but glmrt-run ({a.run}) is built for {run_machine}")

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
    outs = [os.path.join(a.work, f"{a.name}.{tag}.got.{k}.npy") for k in range(n_out)]
    for o in outs:
        cmd += ["--output", o]
    profile_json = os.path.join(a.work, f"{a.name}.{tag}.profile.json")
    if a.profile:
        cmd += ["--profile", "--bench", "20", "--warmup", "2", "--profile-json", profile_json]
    try:
        rc, log = run(cmd, timeout=a.timeout)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"FAIL {a.name}: glmrt-run took more than {a.timeout:g} s: "
                         + " ".join(cmd))
    if a.expect_refusal:
        missing = [t for t in a.expect_refusal if t not in log]
        if rc != 1 or missing or "glmrt-run: error:" not in log:
            print(log)
            raise SystemExit(f"FAIL {a.name}: expected glmrt-run to refuse the artifact "
                             f"(exit 1, a message with {missing or a.expect_refusal}); "
                             f"it exited {rc}")
        print(f"PASS {a.name} [{a.target}]: refused as expected: {log.strip()}")
        return
    if rc != 0:
        print(log)
        raise SystemExit(f"FAIL {a.name}: glmrt-run exited {rc}")
    if not outs:  # a test must compare something to prove anything
        raise SystemExit(f"FAIL {a.name}: the model has no outputs to compare with ORT")
    worst = 0.0
    for k, o in enumerate(outs):
        got = np.load(o)
        ref = np.load(refs[k])
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
    profiled = check_profile(a, profile_json) if a.profile else ""
    print(f"PASS {a.name} [{tag}]: {n_out} output(s) match ORT"
          + (" on the exported pruned model" if a.prune else "") + f", max abs err {worst:.3g}; "
          f"deterministic; {so_machine} artifact importing only libc/libm"
          + (f"; ran under {a.runner_prefix}" if a.runner_prefix else "") + profiled)


def check_profile(a, path):
    """The per-layer profile of a --profile run: every layer named and run,
    and the layers' times adding up to the run time measured around them:
    within 10% of the model's time (the entry call, timed by the runtime;
    plus 2 us for the entry wrapper and the clock reads) and of the
    wall-clock time glmrt-run measured around each run (plus 0.05 ms for
    the run's own input checks and output wrapping, which outweigh the
    model on the smallest tests)."""
    p = json.load(open(path))
    layers = p["layers"]
    if p["runs"] != 20 or not layers:
        raise SystemExit(f"FAIL {a.name}: profile of {p['runs']} runs, {len(layers)} layers")
    for l in layers:
        if not l["name"] or l["calls"] < p["runs"]:
            raise SystemExit(f"FAIL {a.name}: profile layer {l} has no name or ran less "
                             f"than once per run")
    total = sum(l["ms"] for l in layers)
    if abs(total - p["layers_ms"]) > 1e-3 * max(total, 1e-3):
        raise SystemExit(f"FAIL {a.name}: layer times add up to {total} ms, the profile "
                         f"says {p['layers_ms']} ms")
    run_ms, measured = p["run_ms"], p["measured_ms"]
    if abs(total - run_ms) > 0.1 * run_ms + 0.002 or abs(total - measured) > 0.1 * measured + 0.05:
        raise SystemExit(f"FAIL {a.name}: layers take {total:.4f} ms per run, but the model "
                         f"ran {run_ms:.4f} ms ({measured:.4f} ms measured around the run)")
    return (f"; profile: {len(layers)} layers, {total:.4f} ms = "
            f"{100 * total / measured:.1f}% of the {measured:.4f} ms measured")


def weight_count(path):
    import onnx
    m = onnx.load(path)
    return sum(int(np.prod(t.dims)) for t in m.graph.initializer if len(t.dims) >= 2)


def prune_references(a, info, onnx_path, flags, tag):
    """ORT outputs of the pruned model glmc exports with --emit=onnx; checks
    that pruning removed weights."""
    import onnxruntime as ort
    pruned = os.path.join(a.work, f"{a.name}.{tag}.onnx")
    rc, log = run([a.glmc, onnx_path, "--quiet", "--emit=onnx", "-o", pruned] + flags)
    if rc != 0:
        print(log)
        raise SystemExit(f"FAIL {a.name}: glmc {' '.join(flags)} --emit=onnx exited {rc}")
    before, after = weight_count(onnx_path), weight_count(pruned)
    print(f"{a.name}: --prune {a.prune:g}: weights {before} -> {after} "
          f"({100.0 * (before - after) / max(before, 1):.1f} % fewer)")
    if not after < before * (1.0 - 0.5 * a.prune):
        raise SystemExit(f"FAIL {a.name}: --prune {a.prune:g} removed too little: "
                         f"{before} -> {after} weights")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(pruned, opts, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.load(os.path.join(a.models, f"{a.name}.in.{k}.npy"))
             for k, i in enumerate(sess.get_inputs())}
    refs = []
    for k, r in enumerate(sess.run(None, feeds)):
        path = os.path.join(a.work, f"{a.name}.{tag}.ref.{k}.npy")
        np.save(path, r)
        refs.append(path)
    return refs


# Symbols an artifact may import: libc and libm only (memcpy/memset from
# LLVM intrinsics; math stays in polynomials).
LIBC_LIBM_OK = {
    "memcpy", "memmove", "memset", "memcmp", "bcmp", "__stack_chk_fail", "__memcpy_chk",
    "__memset_chk", "expf", "exp", "logf", "log", "tanhf", "tanh", "erff", "erf", "powf", "pow",
    "sinf", "cosf", "sqrtf", "sqrt", "fmaf", "fma", "floorf", "ceilf", "roundf", "truncf",
    "fmodf", "fmod", "log1pf", "expm1f", "exp2f", "log2f", "atanf", "atan2f", "sinhf", "coshf",
    "nearbyintf", "rintf", "lrintf", "fminf", "fmaxf", "roundevenf",
}

if __name__ == "__main__":
    main()
