#!/usr/bin/env python3
"""NonZero of run-time data against ONNX Runtime: one artifact, outputs
whose size depends on the input.

  run_nonzero.py --glmc B/bin/glmc --run B/bin/glmrt-run --work DIR

The model takes a float [3, 4, 5] tensor and returns
- NonZero(x): a [3, count] index tensor (count = x's nonzeros; -0.0 is
  zero, NaN is not);
- the selection pattern detectors and samplers export: the elements above
  a threshold, NonZero(x > 0.5) -> Transpose -> GatherND(x, .), [count];
- NonZero of a 1-d int64 and of a 0-d bool (rank-1 result, one row).
The model declares NonZero's count as a fixed number, as the ONNX node
tests and some exporters write it from their sample; glmc ignores it (the
values computed from the count are declared with a symbolic dim, as torch
writes them). The same artifact runs inputs with none,
some and all elements nonzero; every output must equal ONNX Runtime's
(shape and values).
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout}{p.stderr}")


def build():
    half = helper.make_tensor("half", TensorProto.FLOAT, [], [0.5])
    nodes = [
        helper.make_node("NonZero", ["x"], ["idx"]),
        helper.make_node("Greater", ["x", "half"], ["big"]),
        helper.make_node("NonZero", ["big"], ["bidx"]),
        helper.make_node("Transpose", ["bidx"], ["bidx_t"], perm=[1, 0]),
        helper.make_node("GatherND", ["x", "bidx_t"], ["picked"]),
        helper.make_node("NonZero", ["v"], ["vidx"]),
        helper.make_node("NonZero", ["flag"], ["fidx"]),
    ]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4, 5]),
              helper.make_tensor_value_info("v", TensorProto.INT64, [7]),
              helper.make_tensor_value_info("flag", TensorProto.BOOL, [])]
    # Declared counts from "the exporter's sample": wrong for most inputs.
    outputs = [helper.make_tensor_value_info("idx", TensorProto.INT64, [3, 17]),
               helper.make_tensor_value_info("picked", TensorProto.FLOAT, ["n"]),
               helper.make_tensor_value_info("vidx", TensorProto.INT64, [1, 3]),
               helper.make_tensor_value_info("fidx", TensorProto.INT64, [1, 1])]
    graph = helper.make_graph(nodes, "nonzero", inputs, outputs, [half])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def feeds(rng):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    sparse = np.where(rng.random((3, 4, 5)) < 0.2, x, 0).astype(np.float32)
    sparse[0, 0, :3] = [-0.0, np.nan, 0.0]
    v = np.array([0, 3, 0, -1, 0, 0, 9], np.int64)
    return [
        ("dense", {"x": np.abs(x) + 1.0, "v": np.arange(1, 8), "flag": np.array(True)}),
        ("sparse", {"x": sparse, "v": v, "flag": np.array(False)}),
        ("zeros", {"x": np.zeros((3, 4, 5), np.float32), "v": np.zeros(7, np.int64),
                   "flag": np.array(False)}),
        ("mixed", {"x": x, "v": v[::-1].copy(), "flag": np.array(True)}),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--glmc", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    path = os.path.join(args.work, "nonzero.onnx")
    m = build()
    onnx.save(m, path)
    so_path = os.path.join(args.work, "nonzero.so")
    run([args.glmc, path, "--target", "host", "--quiet", "-o", so_path])
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    outs = [o.name for o in m.graph.output]
    for name, feed in feeds(np.random.default_rng(3)):
        refs = sess.run(None, feed)
        cmd = [args.run, so_path]
        for k, v in feed.items():
            p = os.path.join(args.work, f"{name}.{k}.npy")
            np.save(p, v)
            cmd += ["--input", f"{k}={p}"]
        for o in outs:
            cmd += ["--output", f"{o}={os.path.join(args.work, f'{name}.out.{o}.npy')}"]
        run(cmd)
        for o, ref in zip(outs, refs):
            got = np.load(os.path.join(args.work, f"{name}.out.{o}.npy"))
            if got.shape != ref.shape or got.dtype != ref.dtype:
                fail(f"{name}/{o}: {got.dtype}{list(got.shape)}, ONNX Runtime {ref.dtype}{list(ref.shape)}")
            if not np.array_equal(got, ref, equal_nan=ref.dtype.kind == "f"):
                fail(f"{name}/{o}: got {got}, ONNX Runtime {ref}")
        print(f"ok {name}: " + ", ".join(f"{o} {list(r.shape)}" for o, r in zip(outs, refs)), flush=True)
    print("PASS")


if __name__ == "__main__":
    main()
