#!/usr/bin/env python3
"""Greedy generation with glm-generate on a zoo KV-cache decoder export
(transformers classes exported in optimum's decoder-with-past naming:
input_ids, attention_mask, position_ids, past_key_values.{i}.key/value ->
logits, present.{i}.key/value) is token for token the greedy loop ONNX
Runtime runs on the same ONNX file.

  run_generate_zoo.py --glmc B/bin/glmc --generate B/bin/glm-generate \\
                      --models test/zoo/models --work DIR NAME [--tokens 24]

The zoo models have a 256-token vocabulary and no tokenizer: the test
writes a byte-level BPE tokenizer.json without merges (token i = byte i)
and passes the prompts as ids. For each prompt the reference feeds ORT
(CPU, graph optimizations off, one thread) the whole prompt from an empty
cache, then one token per step, with an all-ones attention mask and
positions counting from 0, and takes the argmax (the lowest id among
equal logits, as glm-generate). Any difference fails, naming the step and
ORT's margin between its two best logits there; the smallest margin seen
is printed so that a near tie is visible.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

PROMPTS = [[10, 20, 30, 40], [1], [255, 0, 128, 64, 32, 16, 8, 4, 2, 1, 3, 5], list(range(40, 72))]


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def byte_tokenizer(path):
    """A GPT-2 style byte-level BPE tokenizer.json with 256 byte tokens."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    vocab = {chr(c): b for b, c in zip(bs, cs)}
    level = {"add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
           "normalizer": None, "pre_tokenizer": dict(type="ByteLevel", **level),
           "post_processor": None, "decoder": dict(type="ByteLevel", **level),
           "model": {"type": "BPE", "dropout": None, "unk_token": None,
                     "continuing_subword_prefix": None, "end_of_word_suffix": None,
                     "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                     "vocab": vocab, "merges": []}}
    with open(path, "w") as f:
        json.dump(tok, f)


def ort_greedy(session, prompt, tokens):
    inputs = {i.name: i for i in session.get_inputs()}
    past = {}
    for name, info in inputs.items():
        if name.startswith("past_key_values."):
            heads, dim = info.shape[1], info.shape[3]
            past[name] = np.zeros((1, heads, 0, dim), np.float32)
    ids = np.array([prompt], dtype=np.int64)
    length, out, margins = 0, [], []
    for _ in range(tokens):
        s = ids.shape[1]
        feeds = dict(past)
        feeds["input_ids"] = ids
        if "attention_mask" in inputs:
            feeds["attention_mask"] = np.ones((1, length + s), np.int64)
        if "position_ids" in inputs:
            feeds["position_ids"] = np.arange(length, length + s, dtype=np.int64)[None, :]
        results = session.run(None, feeds)
        names = [o.name for o in session.get_outputs()]
        logits = results[names.index("logits")][0, -1].astype(np.float64)
        top = np.argsort(-logits, kind="stable")
        margins.append(float(logits[top[0]] - logits[top[1]]))
        nxt = int(np.argmax(logits))
        out.append(nxt)
        for name, value in zip(names, results):
            if name.startswith("present."):
                past["past_key_values." + name[len("present."):]] = value
        length += s
        ids = np.array([[nxt]], dtype=np.int64)
    return out, margins


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--glmc", required=True)
    ap.add_argument("--generate", required=True)
    ap.add_argument("--models", required=True, help="test/zoo/models")
    ap.add_argument("--work", required=True)
    ap.add_argument("--tokens", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("name")
    a = ap.parse_args()
    import onnxruntime as ort

    os.makedirs(a.work, exist_ok=True)
    onnx_path = os.path.join(a.models, a.name + ".onnx")
    so = os.path.join(a.work, a.name + ".so")
    tok = os.path.join(a.work, "byte-tokenizer.json")
    byte_tokenizer(tok)
    p = subprocess.run([a.glmc, onnx_path, "--quiet", "-o", so], capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"glmc exited {p.returncode}: {p.stdout}{p.stderr}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
    smallest = float("inf")
    for prompt in PROMPTS:
        cmd = [a.generate, so, "--tokenizer", tok, "--prompt-ids", ",".join(map(str, prompt)),
               "-n", str(a.tokens), "--no-stop", "--json", "--quiet",
               "--threads", str(a.threads)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"glm-generate exited {p.returncode}: {p.stderr}\n{' '.join(cmd)}")
        got = json.loads(p.stdout)
        if got["prompt_ids"] != prompt:
            fail(f"glm-generate read the prompt as {got['prompt_ids']}, not {prompt}")
        ref, margins = ort_greedy(session, prompt, a.tokens)
        for step, (g, r) in enumerate(zip(got["generated_ids"], ref)):
            if g != r:
                fail(f"{a.name}, prompt {prompt[:6]}...: step {step} glm-generate {g}, ORT {r} "
                     f"(ORT's top-2 margin {margins[step]:.3g})")
        if len(got["generated_ids"]) != len(ref):
            fail(f"{a.name}: glm-generate made {len(got['generated_ids'])} tokens, ORT {len(ref)}")
        smallest = min(smallest, min(margins))
    print(f"PASS {a.name}: {len(PROMPTS)} prompts x {a.tokens} greedy tokens equal ONNX Runtime's "
          f"(smallest top-2 logit margin {smallest:.3g})")


if __name__ == "__main__":
    main()
