#!/usr/bin/env python3
"""Stand-in for glmrt-run that executes an ONNX model with ONNX Runtime.

    ort_run.py model.onnx --input a.npy [--input b.npy ...] --output y.npy [--output z.npy]

Same command line as glmrt-run: inputs are positional in model input order; the k-th
--output receives model output k. Used to test tools/eval/glm_eval.py without a
compiled model (the "compiled model" is then the .onnx itself).
"""

import argparse
import sys

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--input", action="append", default=[])
    ap.add_argument("--output", action="append", default=[])
    ap.add_argument("--optimize", action="store_true", help="enable ORT graph optimisations")
    args = ap.parse_args(argv)
    import onnxruntime as ort
    so = ort.SessionOptions()
    if not args.optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    if len(args.input) != len(names):
        print(f"ort_run: model has {len(names)} inputs ({', '.join(names)}), got {len(args.input)}",
              file=sys.stderr)
        return 2
    feeds = {n: np.load(p) for n, p in zip(names, args.input)}
    outs = sess.run(None, feeds)
    for k, p in enumerate(args.output):
        np.save(p, outs[k])
    return 0


if __name__ == "__main__":
    sys.exit(main())
