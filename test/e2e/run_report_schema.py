#!/usr/bin/env python3
"""glmc --report JSON against its published schema (issue 20).

  run_report_schema.py --glmc B/bin/glmc --models test/models --work DIR

docs/schemas/compression-report-v1.schema.json is the contract CI
pipelines read reports by. This compiles digits-resnet with every kind of
compression the report describes (structured l1 and wanda with calibration
and --eval quality, unstructured, 2:4, a schedule from the seed article's
--config, auto allocation with an exclude, a per-layer sparsity from a
config, no pruning) and validates each report. The schema must also refuse broken
reports (a missing section, an unknown mode, a sparsity above 1, an unknown
key), so that the validation can fail.
"""
import argparse
import copy
import json
import os
import subprocess
import sys

import jsonschema

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCHEMA = os.path.join(ROOT, "docs", "schemas", "compression-report-v1.schema.json")
SEED_CONFIG = os.path.join(ROOT, "test", "lit", "tools", "glmc", "Inputs", "prune-seed.yaml")


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--glmc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    with open(SCHEMA) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    m = os.path.join(args.models, "digits-resnet")
    model = os.path.join(m, "digits-resnet.onnx")
    calib, evals = os.path.join(m, "calib"), os.path.join(m, "eval")
    cases = {
        "structured": ["--prune", "0.3"],
        "wanda-eval": ["--prune", "0.4", "--calib", calib, "--eval", evals],
        "unstructured": ["--prune", "0.5", "--prune-mode", "unstructured"],
        "2-4": ["--prune", "0.5", "--prune-mode", "2:4"],
        "seed-config": ["--config", SEED_CONFIG],
        "auto-exclude": ["--prune", "0.3", "--prune-alloc", "auto", "--calib", calib,
                         "--exclude", "/stem/"],
        "layers-config": ["--config", os.path.join(args.work, "layers.yaml")],
        "no-prune": [],
    }
    with open(os.path.join(args.work, "layers.yaml"), "w") as f:
        f.write("target_sparsity: 0.3\nlayers:\n  - {match: 'Conv', sparsity: 0.2}\n")
    reports = {}
    for name, flags in cases.items():
        path = os.path.join(args.work, name + ".json")
        cmd = [args.glmc, model] + flags + ["--quiet", "--report", path, "-o",
                                            os.path.join(args.work, name + ".so")]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"{name}: {' '.join(cmd)} exited {r.returncode}: {r.stderr}")
        with open(path) as f:
            report = json.load(f)
        errors = sorted(validator.iter_errors(report), key=str)
        if errors:
            fail(f"{name}: {errors[0].json_path}: {errors[0].message}")
        reports[name] = report
        print(f"ok {name}: {len(report['layers'])} layers, "
              f"{'with' if 'quality' in report else 'no'} quality, follows the schema", flush=True)
    if ("quality" not in reports["wanda-eval"] or not reports["seed-config"]["options"]["schedule"]
            or not reports["layers-config"]["options"]["layer_sparsity"]):
        fail("the reports lack the quality / schedule the cases were chosen for")

    base = reports["wanda-eval"]
    broken = {
        "no totals": lambda r: r.pop("totals"),
        "unknown prune mode": lambda r: r["options"].__setitem__("prune_mode", "3:8"),
        "sparsity above 1": lambda r: r["layers"][0].__setitem__("sparsity", 1.5),
        "unknown key": lambda r: r.__setitem__("extra", 1),
        "negative FLOPs": lambda r: r["totals"]["after"].__setitem__("flops", -1),
        "metric without before/after": lambda r: r["quality"].pop("before"),
    }
    for what, mutate in broken.items():
        r = copy.deepcopy(base)
        mutate(r)
        if validator.is_valid(r):
            fail(f"the schema accepts a report with {what}")
        print(f"ok the schema refuses a report with {what}", flush=True)
    print("PASS")


if __name__ == "__main__":
    main()
