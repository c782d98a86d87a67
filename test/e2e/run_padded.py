#!/usr/bin/env python3
"""tiny-glm with padded batches against ONNX Runtime: the causal and
key-padding mask that glm-fuse-attention-mask turns into a computed
glm.attention_mask, and the blocked attention lowering (blocks of 64 score
rows, a partial last block), on inputs the committed references do not
cover (their attention_mask is all ones).

  run_padded.py --glmc B/bin/glmc --run B/bin/glmrt-run --models test/models/tiny-glm --work DIR

Cases, each a batch of 2 rows with different left padding (position ids
as HF computes them for a padded batch: cumsum(mask) - 1, 0 at pads):
- the full-sequence export at 5, 17 and 40 tokens (4 query heads per K/V
  head: 20, 68 and 160 score rows, so one block, a full block and a
  partial one, three blocks with a partial one);
- the KV-cache export with a padded past of 19 and 1 or 3 new tokens, the
  attention_mask covering past and new tokens, and a batch whose second row
  has padding in the middle (a key hidden between visible ones).
Every logit (pad rows included: a query that sees no key averages all
keys, as ORT does) and every present tensor must be within 1e-4 of ORT's,
at 1 and 2 threads.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

TOL = 1e-4
LAYERS, KV_HEADS, HEAD_DIM, VOCAB = 4, 2, 32, 2048


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout}{p.stderr}")


def positions(mask):
    """HF's position ids for a padded batch."""
    return np.maximum(np.cumsum(mask, axis=1) - 1, 0).astype(np.int64)


def full_case(rng, seq, pads):
    mask = np.ones((len(pads), seq), np.int64)
    for b, p in enumerate(pads):
        mask[b, :p] = 0
    ids = rng.integers(1, VOCAB, size=mask.shape, dtype=np.int64)
    return {"input_ids": ids, "position_ids": positions(mask), "attention_mask": mask}


def decode_case(rng, past, new, mask_past):
    batch = mask_past.shape[0]
    mask = np.concatenate([mask_past, np.ones((batch, new), np.int64)], axis=1)
    feed = {"input_ids": rng.integers(1, VOCAB, size=(batch, new), dtype=np.int64),
            "position_ids": positions(mask)[:, past:],
            "attention_mask": mask}
    for layer in range(LAYERS):
        for kv in ("key", "value"):
            feed[f"past_key_values.{layer}.{kv}"] = rng.standard_normal(
                (batch, KV_HEADS, past, HEAD_DIM)).astype(np.float32)
    return feed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--glmc", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--models", required=True, help="test/models/tiny-glm")
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    import onnxruntime as ort

    os.makedirs(a.work, exist_ok=True)
    rng = np.random.default_rng(6)
    mid = np.ones((2, 19), np.int64)
    mid[0, :4] = 0
    mid[1, 7:10] = 0
    cases = {
        "tiny-glm": [full_case(rng, 5, [0, 2]), full_case(rng, 17, [3, 0]),
                     full_case(rng, 40, [0, 29])],
        "tiny-glm-decode": [decode_case(rng, 19, 1, mid), decode_case(rng, 19, 3, mid),
                            decode_case(rng, 19, 1, np.ones((2, 19), np.int64))],
    }
    worst = 0.0
    count = 0
    for model, feeds in cases.items():
        onnx_path = os.path.join(a.models, model + ".onnx")
        so = os.path.join(a.work, model + ".so")
        run([a.glmc, onnx_path, "--target", "host", "--quiet", "-o", so])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        session = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
        in_names = [i.name for i in session.get_inputs()]
        out_names = [o.name for o in session.get_outputs()]
        for c, feed in enumerate(feeds):
            refs = session.run(None, feed)
            cmd = [a.run, so]
            for name in in_names:
                path = os.path.join(a.work, f"{model}.{c}.{name}.npy")
                np.save(path, feed[name])
                cmd += ["--input", path]
            outs = [os.path.join(a.work, f"{model}.{c}.out.{k}.npy") for k in range(len(out_names))]
            for o in outs:
                cmd += ["--output", o]
            shape = "x".join(str(d) for d in feed["input_ids"].shape)
            for threads in (1, 2):
                run(cmd + ["--threads", str(threads)])
                for name, o, ref in zip(out_names, outs, refs):
                    got = np.load(o)
                    if got.shape != ref.shape:
                        fail(f"{model} case {c} ({shape}): {name} is {got.shape}, ORT gives {ref.shape}")
                    err = np.abs(got.astype(np.float64) - ref)
                    if not np.all(err <= TOL):
                        i = np.unravel_index(np.argmax(err), err.shape)
                        fail(f"{model} case {c} ({shape}, mask {feed['attention_mask'].tolist()}), "
                             f"{threads} thread(s): {name} differs at {i}: got {got[i]}, ORT {ref[i]}; "
                             f"max abs err {err.max():.3g}")
                    worst = max(worst, float(err.max()))
            count += 1
    print(f"PASS: {count} padded batches of tiny-glm (full and KV-cache exports) match ORT "
          f"at 1 and 2 threads, max abs err {worst:.3g}")


if __name__ == "__main__":
    main()
