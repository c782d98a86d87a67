#!/usr/bin/env python3
"""Indices out of range fail the run, naming the node and the value.

  run_index_checks.py --glmc B/bin/glmc --run B/bin/glmrt-run --models test/models --work DIR

- A model with Gather (an embedding lookup), GatherElements, GatherND and
  ScatterND over run-time indices: in-range indices (negative ones included) match
  ONNX Runtime; each out-of-range index (one past the end, below -size,
  10^12) makes glmrt-run exit 1 with "node '<name>': <Op> index <value> is
  out of range for a dim of <size>", at 1 and 2 threads. ONNX Runtime
  refuses the same inputs (the independent check that they are invalid).
- tiny-glm with a token id of 99999 (vocabulary 2048): the run fails
  naming the embedding's Gather node, where it used to return plausible
  logits from a clamped row.
"""
import argparse
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort

ort.set_default_logger_severity(4)  # its refusals are expected here
from onnx import TensorProto, helper, numpy_helper


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def build(path):
    rng = np.random.default_rng(5)
    emb = rng.standard_normal((50, 8)).astype(np.float32)
    nodes = [
        helper.make_node("Gather", ["emb", "ids"], ["h"], name="/embed/Gather"),
        helper.make_node("GatherElements", ["h", "pick"], ["e"], axis=2, name="/pick/GatherElements"),
        helper.make_node("GatherND", ["emb", "nd"], ["g"], name="/rows/GatherND"),
        helper.make_node("ScatterND", ["emb", "sc", "upd"], ["s"], name="/write/ScatterND"),
    ]
    inputs = [helper.make_tensor_value_info("ids", TensorProto.INT64, [2, 3]),
              helper.make_tensor_value_info("pick", TensorProto.INT64, [2, 3, 2]),
              helper.make_tensor_value_info("nd", TensorProto.INT64, [4, 2]),
              helper.make_tensor_value_info("sc", TensorProto.INT64, [2, 1]),
              helper.make_tensor_value_info("upd", TensorProto.FLOAT, [2, 8])]
    outputs = [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2, 3, 2]),
               helper.make_tensor_value_info("g", TensorProto.FLOAT, [4]),
               helper.make_tensor_value_info("s", TensorProto.FLOAT, [50, 8])]
    m = helper.make_model(helper.make_graph(nodes, "index_checks", inputs, outputs,
                                            [numpy_helper.from_array(emb, "emb")]),
                          opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, path)
    return m


def good_feed():
    return {"ids": np.array([[0, 49, -50], [7, -1, 3]], np.int64),
            "pick": np.array([[[0, 7], [-8, 3]], [[1, 2], [-1, 6]], [[5, 5], [0, -2]]], np.int64)
            .reshape(2, 3, 2),
            "nd": np.array([[0, 0], [49, 7], [-50, -8], [10, 3]], np.int64),
            "sc": np.array([[3], [-1]], np.int64),
            "upd": np.full((2, 8), 7.5, np.float32)}


# (what to break, the expected message's op and value, the dim size)
BAD = [
    ("ids", (0, 1), 50, "/embed/Gather", "Gather", 50),
    ("ids", (1, 2), -51, "/embed/Gather", "Gather", 50),
    ("ids", (0, 0), 10 ** 12, "/embed/Gather", "Gather", 50),
    ("pick", (1, 2, 1), 8, "/pick/GatherElements", "GatherElements", 8),
    ("nd", (2, 0), 50, "/rows/GatherND", "GatherND", 50),
    ("nd", (3, 1), -9, "/rows/GatherND", "GatherND", 8),
    ("sc", (1, 0), 50, "/write/ScatterND", "ScatterND", 50),
    ("sc", (0, 0), -10 ** 9, "/write/ScatterND", "ScatterND", 50),
]


def run_artifact(args, so, feed, tag, threads):
    cmd = [args.run, so, "--threads", str(threads)]
    for k, v in feed.items():
        p = os.path.join(args.work, f"{tag}.{k}.npy")
        np.save(p, v)
        cmd += ["--input", f"{k}={p}"]
    outs = []
    for o in ("e", "g", "s"):
        p = os.path.join(args.work, f"{tag}.out.{o}.npy")
        cmd += ["--output", f"{o}={p}"]
        outs.append(p)
    return run(cmd), outs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--glmc", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    path = os.path.join(args.work, "index_checks.onnx")
    build(path)
    so = os.path.join(args.work, "index_checks.so")
    r = run([args.glmc, path, "--quiet", "-o", so])
    if r.returncode != 0:
        fail(f"glmc exited {r.returncode}: {r.stderr}")
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    refs = sess.run(None, good_feed())
    for threads in (1, 2):
        r, outs = run_artifact(args, so, good_feed(), "good", threads)
        if r.returncode != 0:
            fail(f"in-range indices, {threads} threads: glmrt-run exited {r.returncode}: {r.stderr}")
        for p, ref in zip(outs, refs):
            if not np.allclose(np.load(p), ref, rtol=1e-6, atol=1e-6):
                fail(f"in-range indices, {threads} threads: {os.path.basename(p)} differs from ORT")
    print("ok in-range indices (negative ones too) match ONNX Runtime at 1 and 2 threads")
    for name, at, value, node, op, size in BAD:
        feed = good_feed()
        feed[name][at] = value
        try:
            sess.run(None, feed)
            fail(f"ONNX Runtime accepted {name}[{at}] = {value}")
        except Exception:  # noqa: BLE001 - any refusal is the reference's "invalid"
            pass
        want = (f"node '{node}': {op} index {value} is out of range for a dim of {size} "
                f"(valid: {-size} to {size - 1})")
        for threads in (1, 2):
            r, _ = run_artifact(args, so, feed, "bad", threads)
            if r.returncode != 1 or want not in r.stderr:
                fail(f"{name}[{at}] = {value}, {threads} threads: exit {r.returncode}, "
                     f"stderr {r.stderr!r}; expected exit 1 and {want!r}")
        print(f"ok {name}[{at}] = {value}: refused, naming {node} (ORT refuses it too)")

    # tiny-glm with a token id beyond its vocabulary.
    glm = os.path.join(args.models, "tiny-glm", "tiny-glm.onnx")
    glm_so = os.path.join(args.work, "tiny-glm.so")
    r = run([args.glmc, glm, "--quiet", "-o", glm_so])
    if r.returncode != 0:
        fail(f"glmc tiny-glm exited {r.returncode}: {r.stderr}")
    ids = np.load(os.path.join(args.models, "tiny-glm", "tiny-glm.in.0.npy")).copy()
    cmd = [args.run, glm_so]
    for k, name in enumerate(("input_ids", "position_ids", "attention_mask")):
        src = os.path.join(args.models, "tiny-glm", f"tiny-glm.in.{k}.npy")
        if name == "input_ids":
            ids.flat[3] = 99999
            src = os.path.join(args.work, "bad_ids.npy")
            np.save(src, ids)
        cmd += ["--input", f"{name}={src}"]
    r = run(cmd)
    want = ("node '/m/model/embed_tokens/Gather': Gather index 99999 is out of range for a dim "
            "of 2048")
    if r.returncode != 1 or want not in r.stderr:
        fail(f"tiny-glm, token 99999: exit {r.returncode}, stderr {r.stderr!r}; expected {want!r}")
    print("ok tiny-glm token 99999: refused, naming the embedding's Gather")
    print("PASS")


if __name__ == "__main__":
    main()
