#!/usr/bin/env python3
"""Acceptance of issue 6 ("GLM decoder end to end"): greedy generation with
glm-generate on tiny-glm-decode compiled by glmc is token for token the
generation of a reference greedy loop driven by ONNX Runtime on the same
ONNX export, from the same prompt ids.

  run_generate.py --glmc B/bin/glmc --generate B/bin/glm-generate \\
                  --models test/models --work DIR [--tokens 64] [--threads 2]

For each of five prompts: glm-generate tokenizes it (its prompt ids must be
HF tokenizers' ids, from tokenizer-fixtures.json), prefills and decodes
--tokens tokens greedily without stopping at <|endoftext|> (--no-stop,
--json); the reference feeds the same prompt ids to ONNX Runtime (CPU,
graph optimizations off, one thread) with the KV cache in the same
decoder-with-past form (prefill from an empty cache, then one token per
step) and takes the argmax each step (the lowest id among equal logits, as
glm-generate). Any difference fails, naming the first differing step and
ORT's margin between its two best logits there. Prints the smallest margin
seen, so that a near tie is visible.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

PROMPTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Q: What is the meaning of life?\nA: 42.\n\n-- Douglas Adams",
    "You will be successful in your work.  Your lucky numbers are 7, 13 and 21.",
    "It's a dog's life; they're sure we've won, I'm told, we'll see, he'd go.",
    "naïve café résumé façade Ångström Øre ß ẞ",
]


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def ort_greedy(session, prompt_ids, tokens, layers):
    """Greedy decoding with ORT; returns (ids, smallest top-2 margin, margins)."""
    inputs = {i.name for i in session.get_inputs()}
    past = {f"past_key_values.{i}.{kv}": np.zeros((1, 2, 0, 32), np.float32)
            for i in range(layers) for kv in ("key", "value")}
    ids = np.array([prompt_ids], dtype=np.int64)
    length = 0
    generated, margins = [], []
    out_names = [o.name for o in session.get_outputs()]
    while len(generated) < tokens:
        n = ids.shape[1]
        feed = {"input_ids": ids,
                "position_ids": np.arange(length, length + n, dtype=np.int64)[None, :],
                "attention_mask": np.ones((1, length + n), dtype=np.int64)}
        feed.update(past)
        feed = {k: v for k, v in feed.items() if k in inputs}
        outs = dict(zip(out_names, session.run(None, feed)))
        logits = outs["logits"][0, -1]
        best = int(np.argmax(logits))
        top2 = np.sort(logits)[-2:]
        margins.append(float(top2[1] - top2[0]))
        generated.append(best)
        for i in range(layers):
            for kv in ("key", "value"):
                past[f"past_key_values.{i}.{kv}"] = outs[f"present.{i}.{kv}"]
        length += n
        ids = np.array([[best]], dtype=np.int64)
    return generated, margins


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--glmc", required=True)
    ap.add_argument("--generate", required=True)
    ap.add_argument("--models", required=True, help="test/models")
    ap.add_argument("--work", required=True)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="glm-generate's threads")
    a = ap.parse_args()

    import onnxruntime as ort

    d = os.path.join(a.models, "tiny-glm")
    onnx_path = os.path.join(d, "tiny-glm-decode.onnx")
    tokenizer = os.path.join(d, "tokenizer.json")
    fixtures = json.load(open(os.path.join(d, "tokenizer-fixtures.json"), encoding="utf-8"))
    hf_ids = {c["text"]: c["ids"] for c in fixtures["encode"]}
    os.makedirs(a.work, exist_ok=True)
    so = os.path.join(a.work, "tiny-glm-decode.so")

    t0 = time.time()
    p = subprocess.run([a.glmc, onnx_path, "--target", "host", "--quiet", "-o", so],
                       capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"glmc could not compile {onnx_path}:\n{p.stdout}{p.stderr}")
    print(f"compiled {os.path.basename(onnx_path)} in {time.time() - t0:.1f} s", flush=True)

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    layers = sum(1 for i in session.get_inputs() if i.name.endswith(".key"))

    smallest = float("inf")
    for k, prompt in enumerate(PROMPTS):
        if prompt not in hf_ids:
            fail(f"prompt {prompt!r} is not in tokenizer-fixtures.json")
        cmd = [a.generate, so, "--tokenizer", tokenizer, "--prompt", prompt,
               "-n", str(a.tokens), "--no-stop", "--json", "--threads", str(a.threads)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"glm-generate failed (exit {p.returncode}):\n{p.stderr}")
        result = json.loads(p.stdout)
        if result["prompt_ids"] != hf_ids[prompt]:
            fail(f"prompt {k}: glm-generate tokenizes {prompt!r} as {result['prompt_ids']}, "
                 f"HF tokenizers as {hf_ids[prompt]}")
        got = result["generated_ids"]
        want, margins = ort_greedy(session, result["prompt_ids"], a.tokens, layers)
        smallest = min(smallest, min(margins))
        if got != want:
            i = next((j for j, (g, w) in enumerate(zip(got, want)) if g != w),
                     min(len(got), len(want)))
            fail(f"prompt {k} ({prompt!r}): the generations differ first at token {i}: "
                 f"glm-generate {got[i:i + 8]}..., ORT {want[i:i + 8]}... "
                 f"(ORT's top-2 logit margin there {margins[min(i, len(margins) - 1)]:.3g})")
        print(f"prompt {k}: {len(result['prompt_ids'])} prompt tokens, {len(got)} generated "
              f"tokens identical to ORT (smallest top-2 margin {min(margins):.3g}); "
              f"glm-generate prefill {result['prefill_tokens_per_s']:.0f} tokens/s, "
              f"decode {result['decode_tokens_per_s']:.0f} tokens/s, "
              f"peak {result['peak_rss_kib'] / 1024:.1f} MiB; "
              f"text {result['text'][:60]!r}...", flush=True)
    # A long prompt: the prefill runs the model on 100 tokens at once (the
    # attention and projections as [100, ...] products; AVX-512 artifacts
    # once overflowed the stack from 64 rows on).
    long_ids = [int(t) for t in np.random.default_rng(64).integers(1, 2000, 100)]
    cmd = [a.generate, so, "--tokenizer", tokenizer, "--prompt-ids", ",".join(map(str, long_ids)),
           "-n", "16", "--no-stop", "--json", "--threads", str(a.threads), "--max-length", "256"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"glm-generate with a 100-token prompt failed (exit {p.returncode}):\n{p.stderr}")
    got = json.loads(p.stdout)["generated_ids"]
    want, margins = ort_greedy(session, long_ids, 16, layers)
    if got != want:
        fail(f"100-token prompt: glm-generate {got}, ORT {want}")
    print(f"100-token prompt: 16 generated tokens identical to ORT "
          f"(smallest top-2 margin {min(margins):.3g})", flush=True)
    print(f"PASS: {len(PROMPTS)} prompts x {a.tokens} greedy tokens identical to ONNX Runtime "
          f"(smallest top-2 margin {smallest:.3g}) in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
