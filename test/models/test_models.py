#!/usr/bin/env python3
"""Checks on the committed trained test models (needs only requirements/test.txt).

    .venv/bin/python test/models/test_models.py [-k SUBSTRING] [-v]

Also collectable by pytest. Prints 'N passed, N failed' and exits non-zero on a failure.
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EVAL = os.path.join(ROOT, "tools", "eval")
MAX_FILE = 8 * 1024 * 1024
MODELS = {  # dir -> onnx files
    "tiny-glm": ["tiny-glm.onnx", "tiny-glm-decode.onnx"],
    "digits-resnet": ["digits-resnet.onnx"],
    "digits-repvgg": ["digits-repvgg.onnx"],
    "vit-block": ["vit-block.onnx"],
}


def sess(path):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def mdir(name):
    return os.path.join(HERE, name)


def metrics(name):
    with open(os.path.join(mdir(name), "metrics.json")) as f:
        return json.load(f)


def load_set(root, name, i):
    man = json.load(open(os.path.join(root, "manifest.json")))
    d = next(x["dir"] for x in man["inputs"] + man["labels"] if x["name"] == name)
    return np.load(os.path.join(root, d, f"{i:06d}.npy"))


# ----------------------------------------------------------------------------- all models

def test_files_small_and_present():
    for name, files in MODELS.items():
        d = mdir(name)
        assert os.path.isfile(os.path.join(d, "metrics.json")), name
        for f in files:
            assert os.path.isfile(os.path.join(d, f)), f
        for dp, _, fs in os.walk(d):
            for f in fs:
                p = os.path.join(dp, f)
                assert os.path.getsize(p) <= MAX_FILE, f"{p} is over 8 MB"


def test_onnx_ir8_opset17_checker():
    for name, files in MODELS.items():
        for f in files:
            p = os.path.join(mdir(name), f)
            m = onnx.load(p, load_external_data=False)
            assert m.ir_version == 8, (f, m.ir_version)
            ops = {o.domain: o.version for o in m.opset_import}
            assert ops.get("", ops.get("ai.onnx")) == 17, (f, ops)
            onnx.checker.check_model(p, full_check=True)


def test_ort_loads_and_matches_samples():
    for name, files in MODELS.items():
        for f in files:
            base = f[:-5]
            s = sess(os.path.join(mdir(name), f))
            k = 0
            ins = []
            while os.path.exists(os.path.join(mdir(name), f"{base}.in.{k}.npy")):
                ins.append(np.load(os.path.join(mdir(name), f"{base}.in.{k}.npy")))
                k += 1
            assert len(ins) == len(s.get_inputs()), (f, len(ins))
            outs = s.run(None, {i.name: a for i, a in zip(s.get_inputs(), ins)})
            for k, o in enumerate(outs):
                ref = np.load(os.path.join(mdir(name), f"{base}.out.{k}.npy"))
                np.testing.assert_allclose(o, ref, rtol=1e-4, atol=1e-4, err_msg=f"{f} output {k}")


def test_calib_eval_sets_consistent():
    for name, files in MODELS.items():
        s = sess(os.path.join(mdir(name), files[0]))
        names = [i.name for i in s.get_inputs()]
        for sub in ("calib", "eval"):
            root = os.path.join(mdir(name), sub)
            man = json.load(open(os.path.join(root, "manifest.json")))
            assert man["format"] == "glmc-npy-dir-v1"
            assert [i["name"] for i in man["inputs"]] == names, (name, sub)
            for ent in man["inputs"] + man["labels"]:
                fs = sorted(os.listdir(os.path.join(root, ent["dir"])))
                assert fs == [f"{i:06d}.npy" for i in range(man["count"])], (name, sub, ent["name"])
                a = np.load(os.path.join(root, ent["dir"], fs[0]))
                assert str(a.dtype) == ent["dtype"] and list(a.shape) == ent["shape"], ent
                assert a.shape[0] == 1  # batch dimension first, one sample per file
            assert 16 <= man["count"] <= 400


# ----------------------------------------------------------------------------- CNNs

def test_digits_accuracy_bar():
    for name in ("digits-resnet", "digits-repvgg"):
        met = metrics(name)
        root = os.path.join(mdir(name), "eval")
        man = json.load(open(os.path.join(root, "manifest.json")))
        s = sess(os.path.join(mdir(name), f"{name}.onnx"))
        # the set is evaluated in batches of 40 (dynamic batch)
        xs = np.concatenate([load_set(root, "x", i) for i in range(man["count"])])
        ys = np.concatenate([load_set(root, "class", i) for i in range(man["count"])])
        pred = np.concatenate([s.run(None, {"x": xs[i:i + 40]})[0] for i in range(0, len(xs), 40)]).argmax(1)
        acc = float((pred == ys).mean())
        assert abs(acc - met["test_accuracy"]) < 1e-9, (name, acc, met["test_accuracy"])
        assert acc >= 0.97, (name, acc)
        assert man["count"] == met["test_samples"]


def test_cnn_structure():
    for name, need in (("digits-resnet", {"BatchNormalization", "Concat", "Add", "Conv"}),
                       ("digits-repvgg", {"BatchNormalization", "Add", "Conv"})):
        m = onnx.load(os.path.join(mdir(name), f"{name}.onnx"))
        ops = {n.op_type for n in m.graph.node}
        assert need <= ops, (name, need - ops)
        if name == "digits-resnet":  # a depthwise conv
            assert any(n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)
                       for n in m.graph.node)


# ----------------------------------------------------------------------------- tiny-glm

def test_glm_quality_bar():
    met = metrics("tiny-glm")
    assert met["val_perplexity"] <= 0.5 * met["unigram_val_perplexity"], met
    assert met["params"] == met["params_non_embedding"] + 2 * met["config"]["vocab_size"] * met["config"]["hidden_size"]
    tok = json.load(open(os.path.join(mdir("tiny-glm"), "tokenizer.json")))
    assert len(tok["model"]["vocab"]) + len([t for t in tok["added_tokens"] if t["content"] not in tok["model"]["vocab"]]) \
        == met["config"]["vocab_size"]


def test_glm_eval_set_perplexity():
    met = metrics("tiny-glm")
    root = os.path.join(mdir("tiny-glm"), "eval")
    man = json.load(open(os.path.join(root, "manifest.json")))
    s = sess(os.path.join(mdir("tiny-glm"), "tiny-glm.onnx"))
    nll, cnt = 0.0, 0
    for i in range(man["count"]):
        feeds = {n: load_set(root, n, i) for n in ("input_ids", "position_ids", "attention_mask")}
        y = load_set(root, "next_token", i)[0]
        lg = s.run(None, feeds)[0][0].astype(np.float64)
        m = lg.max(-1, keepdims=True)
        lse = (np.log(np.exp(lg - m).sum(-1, keepdims=True)) + m)[:, 0]
        nll += float((lse - lg[np.arange(len(y)), y]).sum())
        cnt += len(y)
    ppl = math.exp(nll / cnt)
    assert abs(ppl / met["eval_set_perplexity_ort"] - 1) < 1e-4, (ppl, met["eval_set_perplexity_ort"])
    assert ppl <= 0.5 * met["unigram_val_perplexity"]


def test_glm_shared_weight_files():
    locs = {}
    for f in MODELS["tiny-glm"]:
        m = onnx.load(os.path.join(mdir("tiny-glm"), f), load_external_data=False)
        locs[f] = {dict((e.key, e.value) for e in t.external_data)["location"]
                   for t in m.graph.initializer if t.external_data}
    assert locs["tiny-glm.onnx"] == locs["tiny-glm-decode.onnx"], locs
    for l in locs["tiny-glm.onnx"]:
        assert l.startswith("tiny-glm.weights.") and os.path.isfile(os.path.join(mdir("tiny-glm"), l))


def _glm_inputs(B, T, seed=0):
    root = os.path.join(mdir("tiny-glm"), "eval")
    ids = np.concatenate([load_set(root, "input_ids", i)[:, 7:7 + T] for i in range(B)])
    pos = np.broadcast_to(np.arange(T, dtype=np.int64), (B, T)).copy()
    return ids, pos, np.ones((B, T), np.int64)


def test_glm_decode_matches_full_sequence_token_by_token():
    d = mdir("tiny-glm")
    full, dec = sess(os.path.join(d, "tiny-glm.onnx")), sess(os.path.join(d, "tiny-glm-decode.onnx"))
    B, T, pad = 2, 24, 3
    ids, pos, mask = _glm_inputs(B, T)
    mask[0, :pad] = 0                                   # row 0 is left-padded
    pos[0] = np.maximum(np.cumsum(mask[0]) - 1, 0)
    ref = full.run(None, {"input_ids": ids, "position_ids": pos, "attention_mask": mask})[0]
    past_in = [i for i in dec.get_inputs()][3:]
    kv = {i.name: np.zeros((B, i.shape[1], 0, i.shape[3]), np.float32) for i in past_in}
    names = [i.name for i in past_in]
    steps = []
    for t in range(T):
        r = dec.run(None, {"input_ids": ids[:, t:t + 1], "position_ids": pos[:, t:t + 1],
                           "attention_mask": mask[:, :t + 1], **kv})
        steps.append(r[0])
        kv = dict(zip(names, r[1:]))
        assert r[1].shape[2] == t + 1
    got = np.concatenate(steps, axis=1)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-4, atol=2e-4)
    np.testing.assert_allclose(got[0, pad:], ref[0, pad:], rtol=1e-4, atol=2e-4)
    assert (got[1].argmax(-1) == ref[1].argmax(-1)).all()
    assert (got[0, pad:].argmax(-1) == ref[0, pad:].argmax(-1)).all()


def test_glm_decode_chunked_prefill():
    d = mdir("tiny-glm")
    full, dec = sess(os.path.join(d, "tiny-glm.onnx")), sess(os.path.join(d, "tiny-glm-decode.onnx"))
    B, T, P = 2, 20, 13
    ids, pos, mask = _glm_inputs(B, T)
    ref = full.run(None, {"input_ids": ids, "position_ids": pos, "attention_mask": mask})[0]
    past_in = [i for i in dec.get_inputs()][3:]
    kv = {i.name: np.zeros((B, i.shape[1], 0, i.shape[3]), np.float32) for i in past_in}
    r1 = dec.run(None, {"input_ids": ids[:, :P], "position_ids": pos[:, :P],
                        "attention_mask": mask[:, :P], **kv})
    kv = dict(zip([i.name for i in past_in], r1[1:]))
    r2 = dec.run(None, {"input_ids": ids[:, P:], "position_ids": pos[:, P:], "attention_mask": mask, **kv})
    np.testing.assert_allclose(np.concatenate([r1[0], r2[0]], 1), ref, rtol=1e-4, atol=2e-4)


def test_glm_dynamic_batch_and_padding_mask():
    """batch 1 vs batch 3 give the same logits; a left-padded row equals the unpadded one."""
    s = sess(os.path.join(mdir("tiny-glm"), "tiny-glm.onnx"))
    ids, pos, mask = _glm_inputs(3, 16)
    all3 = s.run(None, {"input_ids": ids, "position_ids": pos, "attention_mask": mask})[0]
    one = s.run(None, {"input_ids": ids[1:2], "position_ids": pos[1:2], "attention_mask": mask[1:2]})[0]
    np.testing.assert_allclose(all3[1:2], one, rtol=1e-4, atol=2e-4)
    pad = 4
    pids = np.concatenate([np.zeros((1, pad), np.int64), ids[:1]], 1)
    ppos = np.concatenate([np.zeros((1, pad), np.int64), pos[:1]], 1)
    pmask = np.concatenate([np.zeros((1, pad), np.int64), mask[:1]], 1)
    padded = s.run(None, {"input_ids": pids, "position_ids": ppos, "attention_mask": pmask})[0]
    np.testing.assert_allclose(padded[:, pad:], all3[:1], rtol=1e-4, atol=2e-4)


# ----------------------------------------------------------------------------- harness

def _eval(args):
    sys.path.insert(0, EVAL)
    import glm_eval
    return glm_eval.main(args + ["--quiet"])


def test_harness_ort_runner_is_exact():
    tmp = tempfile.mkdtemp()
    try:
        for name in ("digits-resnet", "tiny-glm", "vit-block"):
            ref = os.path.join(mdir(name), f"{name}.onnx")
            out = os.path.join(tmp, f"{name}.json")
            rc = _eval(["--reference", ref, "--data", os.path.join(mdir(name), "eval"), "--compiled", ref,
                        "--runner", "ort", "--limit", "8", "--json", out, "--min-cosine", "0.99999",
                        "--min-top1", "1.0", "--max-kl", "1e-9"])
            assert rc == 0, name
            res = json.load(open(out))
            assert res["samples"] == 8 and res["passed"]
            if name == "tiny-glm":
                assert abs(res["perplexity_ratio"] - 1) < 1e-9
            if name == "digits-resnet":
                assert res["accuracy"] == res["reference_accuracy"]
    finally:
        shutil.rmtree(tmp)


def test_harness_subprocess_runner_like_glmrt_run():
    tmp = tempfile.mkdtemp()
    try:
        ref = os.path.join(mdir("tiny-glm"), "tiny-glm.onnx")
        out = os.path.join(tmp, "r.json")
        runner = f"{{python}} {os.path.join(EVAL, 'ort_run.py')} {{model}} {{inputs}} --output {{output}}"
        rc = _eval(["--reference", ref, "--data", os.path.join(mdir("tiny-glm"), "eval"), "--compiled", ref,
                    "--runner", runner, "--limit", "2", "--json", out, "--max-ppl-ratio", "1.0001"])
        assert rc == 0
        res = json.load(open(out))
        assert res["logits_cosine"] > 0.99999 and res["top1_agreement"] == 1.0
    finally:
        shutil.rmtree(tmp)


def test_harness_detects_degraded_model():
    """A copy of digits-resnet with noisy weights: metrics move, thresholds fail (exit 1)."""
    tmp = tempfile.mkdtemp()
    try:
        name = "digits-resnet"
        ref = os.path.join(mdir(name), f"{name}.onnx")
        m = onnx.load(ref)
        rng = np.random.default_rng(0)
        for t in m.graph.initializer:
            a = onnx.numpy_helper.to_array(t)
            if a.dtype == np.float32 and a.ndim == 4:
                a = a + rng.standard_normal(a.shape).astype(np.float32) * 0.3 * float(a.std())
                t.CopyFrom(onnx.numpy_helper.from_array(a, t.name))
        bad = os.path.join(tmp, "bad.onnx")
        onnx.save(m, bad)
        out = os.path.join(tmp, "r.json")
        rc = _eval(["--reference", ref, "--data", os.path.join(mdir(name), "eval"), "--compiled", bad,
                    "--runner", "ort", "--limit", "60", "--json", out, "--min-cosine", "0.99999"])
        res = json.load(open(out))
        assert rc == 1 and not res["passed"]
        assert res["logits_cosine"] < 0.99999 and res["kl_mean"] > 0
    finally:
        shutil.rmtree(tmp)


# ----------------------------------------------------------------------------- runner

def main(argv):
    import time
    sel = None
    if "-k" in argv:
        sel = argv[argv.index("-k") + 1]
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    tests.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
    passed = failed = 0
    for n, f in tests:
        if sel and sel not in n:
            continue
        t0 = time.time()
        try:
            f()
            passed += 1
            print(f"PASS {n} ({time.time() - t0:.1f}s)", flush=True)
        except Exception as e:  # noqa: BLE001
            failed += 1
            import traceback
            print(f"FAIL {n}: {type(e).__name__}: {e}", flush=True)
            if "-v" in argv:
                traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
