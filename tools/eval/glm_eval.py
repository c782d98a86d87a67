#!/usr/bin/env python3
"""Evaluate a compiled model against its float ONNX reference on an evaluation set.

    glm_eval.py --reference test/models/tiny-glm/tiny-glm.onnx \\
                --data test/models/tiny-glm/eval \\
                --compiled build/tiny-glm.so [--runner 'glmrt-run {model} {inputs} --output {output}']

For every sample of the evaluation set (format: test/models/README.md, "Calibration and
evaluation sets") the runner command is executed once; it must write the model's first
output (or the output named by the set's manifest `logits_output`, see --output-index)
to {output} as .npy. The float reference runs in-process with ONNX Runtime (CPU EP, no
graph optimisations). The runner is pluggable:

  --runner TEMPLATE   a command line; `{model}` is replaced by --compiled, `{inputs}` by
                      `--input a.npy --input b.npy ...` (model input order), `{output}` by
                      the .npy path to write. Default: glmrt-run's command line, with
                      glmrt-run found via --glmrt-run or PATH.
  --runner ort        run --compiled (an .onnx file) in-process with ONNX Runtime; a quick
                      self-test of the harness (all metrics then show perfect agreement).

Reported (and written to --json): for language models perplexity (candidate and
reference, from labels/next_token); for classifiers accuracy (candidate and reference,
from labels/class); for all: mean logits cosine (per row of the last axis), top-1
agreement, mean KL(reference || candidate) of the softmax over the last axis, max abs
difference. Thresholds (--min-cosine, --min-top1, --max-kl, --max-ppl-ratio,
--min-accuracy) turn it into a check: exit 1 when one fails.

Needs only numpy and onnxruntime (requirements/test.txt). Streams: one sample in memory.
"""

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

DEFAULT_RUNNER = "{glmrt_run} {model} {inputs} --output {output}"


def ort_session(path, optimize=False):
    import onnxruntime as ort
    so = ort.SessionOptions()
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = int(os.environ.get("GLM_EVAL_THREADS", "1"))
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


class EvalSet:
    """A directory in glmc-npy-dir-v1 format (see test/models/README.md)."""

    def __init__(self, root):
        self.root = root
        with open(os.path.join(root, "manifest.json")) as f:
            self.man = json.load(f)
        if self.man.get("format") != "glmc-npy-dir-v1":
            raise SystemExit(f"{root}: unknown format {self.man.get('format')!r}")
        self.count = int(self.man["count"])
        self.inputs = [i["name"] for i in self.man["inputs"]]
        self.labels = {l["name"]: l["dir"] for l in self.man.get("labels", [])}
        self.task = self.man.get("task", "features")

    def input_path(self, name, i):
        d = next(x["dir"] for x in self.man["inputs"] if x["name"] == name)
        return os.path.join(self.root, d, f"{i:06d}.npy")

    def label(self, name, i):
        return np.load(os.path.join(self.root, self.labels[name], f"{i:06d}.npy"))


def softmax_log(x):
    x = x.astype(np.float64)
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


class Stats:
    def __init__(self):
        self.rows = 0
        self.cos = 0.0
        self.top1 = 0
        self.kl = 0.0
        self.max_abs = 0.0
        self.ref_sq = 0.0
        self.err_sq = 0.0
        self.nll = {"candidate": 0.0, "reference": 0.0}
        self.tokens = 0
        self.correct = {"candidate": 0, "reference": 0}
        self.samples = 0

    def add(self, ref, cand, task, label=None):
        if ref.shape != cand.shape:
            raise SystemExit(f"output shape {cand.shape} differs from reference {ref.shape}")
        r = ref.reshape(-1, ref.shape[-1]).astype(np.float64)
        c = cand.reshape(-1, cand.shape[-1]).astype(np.float64)
        nr, nc = np.linalg.norm(r, axis=1), np.linalg.norm(c, axis=1)
        self.cos += float((np.sum(r * c, 1) / np.maximum(nr * nc, 1e-30)).sum())
        self.top1 += int((r.argmax(1) == c.argmax(1)).sum())
        lr, lc = softmax_log(r), softmax_log(c)
        self.kl += float((np.exp(lr) * (lr - lc)).sum())
        self.rows += r.shape[0]
        self.max_abs = max(self.max_abs, float(np.abs(r - c).max()))
        self.ref_sq += float((r * r).sum())
        self.err_sq += float(((r - c) ** 2).sum())
        self.samples += 1
        if task == "lm" and label is not None:
            y = label.reshape(-1)
            for k, l in (("reference", lr), ("candidate", lc)):
                self.nll[k] -= float(l[np.arange(len(y)), y].sum())
            self.tokens += len(y)
        elif task == "classification" and label is not None:
            y = label.reshape(-1)
            self.correct["reference"] += int((r.argmax(1) == y).sum())
            self.correct["candidate"] += int((c.argmax(1) == y).sum())
            self.tokens += len(y)

    def result(self, task):
        out = dict(samples=self.samples, rows=self.rows,
                   logits_cosine=self.cos / max(self.rows, 1),
                   top1_agreement=self.top1 / max(self.rows, 1),
                   kl_mean=self.kl / max(self.rows, 1),
                   max_abs_diff=self.max_abs,
                   rel_l2_error=math.sqrt(self.err_sq / max(self.ref_sq, 1e-30)))
        if task == "lm" and self.tokens:
            out["perplexity"] = math.exp(self.nll["candidate"] / self.tokens)
            out["reference_perplexity"] = math.exp(self.nll["reference"] / self.tokens)
            out["perplexity_ratio"] = out["perplexity"] / out["reference_perplexity"]
            out["tokens"] = self.tokens
        if task == "classification" and self.tokens:
            out["accuracy"] = self.correct["candidate"] / self.tokens
            out["reference_accuracy"] = self.correct["reference"] / self.tokens
        return out


def make_runner(args, input_names):
    if args.runner == "ort":
        sess = ort_session(args.compiled, optimize=args.ort_optimize)
        names = [i.name for i in sess.get_inputs()]
        if names != input_names:
            raise SystemExit(f"compiled model inputs {names} != reference inputs {input_names}")
        outs = [o.name for o in sess.get_outputs()]

        def run(paths, out_index):
            feeds = {n: np.load(p) for n, p in zip(names, paths)}
            return sess.run([outs[out_index]], feeds)[0]
        return run

    template = args.runner or DEFAULT_RUNNER
    glmrt_run = args.glmrt_run or shutil.which("glmrt-run") or "glmrt-run"
    tmp = tempfile.mkdtemp(prefix="glm_eval_")

    def run(paths, out_index):
        out = os.path.join(tmp, "out.npy")
        if os.path.exists(out):
            os.remove(out)
        argv = []
        for tok in shlex.split(template):
            if tok == "{inputs}":
                for p in paths:
                    argv += ["--input", p]
            else:
                argv.append(tok.replace("{model}", args.compiled).replace("{output}", out)
                            .replace("{glmrt_run}", glmrt_run).replace("{python}", sys.executable))
        p = subprocess.run(argv, capture_output=True, text=True)
        if p.returncode != 0 or not os.path.exists(out):
            raise SystemExit(f"runner failed (exit {p.returncode}): {' '.join(map(shlex.quote, argv))}\n"
                             f"{p.stderr.strip()}")
        return np.load(out)
    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True, help="float ONNX model")
    ap.add_argument("--data", required=True, help="evaluation set directory (manifest.json)")
    ap.add_argument("--compiled", required=True, help="model.so (or .onnx with --runner ort)")
    ap.add_argument("--runner", help="command template, or 'ort' (default: glmrt-run)")
    ap.add_argument("--glmrt-run", help="path to glmrt-run (default: from PATH)")
    ap.add_argument("--ort-optimize", action="store_true",
                    help="with --runner ort: enable ORT graph optimisations for the candidate")
    ap.add_argument("--output-index", type=int, default=None,
                    help="which model output the runner writes / is compared (default: the "
                         "manifest's logits_output, else 0)")
    ap.add_argument("--limit", type=int, help="evaluate only the first N samples")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--min-cosine", type=float)
    ap.add_argument("--min-top1", type=float)
    ap.add_argument("--max-kl", type=float)
    ap.add_argument("--max-ppl-ratio", type=float)
    ap.add_argument("--min-accuracy", type=float)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    data = EvalSet(args.data)
    ref = ort_session(args.reference)
    ref_inputs = [i.name for i in ref.get_inputs()]
    ref_outputs = [o.name for o in ref.get_outputs()]
    if sorted(ref_inputs) != sorted(data.inputs):
        raise SystemExit(f"eval set inputs {data.inputs} do not match model inputs {ref_inputs}")
    out_index = args.output_index
    if out_index is None:
        lo = data.man.get("logits_output")
        out_index = ref_outputs.index(lo) if lo in ref_outputs else 0
    run = make_runner(args, ref_inputs)

    label_name = {"lm": "next_token", "classification": "class"}.get(data.task)
    n = min(data.count, args.limit or data.count)
    stats = Stats()
    t0 = time.time()
    run_s = 0.0
    for i in range(n):
        paths = [data.input_path(name, i) for name in ref_inputs]   # model input order
        feeds = {name: np.load(p) for name, p in zip(ref_inputs, paths)}
        r = ref.run([ref_outputs[out_index]], feeds)[0]
        t1 = time.time()
        c = run(paths, out_index)
        run_s += time.time() - t1
        lab = data.label(label_name, i) if label_name in data.labels else None
        stats.add(r, c, data.task, lab)
        if not args.quiet and sys.stderr.isatty():
            print(f"\r{i + 1}/{n}", end="", file=sys.stderr, flush=True)
    if not args.quiet and sys.stderr.isatty():
        print(file=sys.stderr)
    res = stats.result(data.task)
    res.update(task=data.task, reference=args.reference, compiled=args.compiled, data=args.data,
               runner=args.runner or DEFAULT_RUNNER, output=ref_outputs[out_index],
               seconds=round(time.time() - t0, 2), runner_seconds=round(run_s, 2))

    checks = []
    def check(name, ok, msg):
        checks.append(dict(name=name, ok=bool(ok), detail=msg))
    if args.min_cosine is not None:
        check("min_cosine", res["logits_cosine"] >= args.min_cosine,
              f"{res['logits_cosine']:.6f} >= {args.min_cosine}")
    if args.min_top1 is not None:
        check("min_top1", res["top1_agreement"] >= args.min_top1,
              f"{res['top1_agreement']:.6f} >= {args.min_top1}")
    if args.max_kl is not None:
        check("max_kl", res["kl_mean"] <= args.max_kl, f"{res['kl_mean']:.6g} <= {args.max_kl}")
    if args.max_ppl_ratio is not None:
        pr = res.get("perplexity_ratio", float("inf"))
        check("max_ppl_ratio", pr <= args.max_ppl_ratio, f"{pr:.6f} <= {args.max_ppl_ratio}")
    if args.min_accuracy is not None:
        acc = res.get("accuracy", -1.0)
        check("min_accuracy", acc >= args.min_accuracy, f"{acc:.6f} >= {args.min_accuracy}")
    res["checks"] = checks
    res["passed"] = all(c["ok"] for c in checks)

    lines = [f"eval: {n} samples of {args.data} ({data.task}), output '{res['output']}'"]
    if "perplexity" in res:
        lines.append(f"  perplexity        {res['perplexity']:.4f}  (reference {res['reference_perplexity']:.4f}, "
                     f"ratio {res['perplexity_ratio']:.4f}, {res['tokens']} tokens)")
    if "accuracy" in res:
        lines.append(f"  accuracy          {res['accuracy']:.4f}  (reference {res['reference_accuracy']:.4f})")
    lines += [f"  logits cosine     {res['logits_cosine']:.6f}",
              f"  top-1 agreement   {res['top1_agreement']:.6f}",
              f"  KL(ref||cand)     {res['kl_mean']:.6g}",
              f"  max |diff|        {res['max_abs_diff']:.6g}   rel L2 {res['rel_l2_error']:.6g}"]
    for c in checks:
        lines.append(f"  check {c['name']:<14} {'ok' if c['ok'] else 'FAILED'}  {c['detail']}")
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
            f.write("\n")
    return 0 if res["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
