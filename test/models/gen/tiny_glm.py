#!/usr/bin/env python3
"""tiny-glm: a GLM-4 architecture decoder (transformers' Glm4ForCausalLM) trained on the
English fortunes of Debian's `fortunes` package, exported to ONNX (opset 17, IR 8).

Stages (all deterministic, see docs/models.md):
  corpus    read the fortune files (documents separated by a line '%'), split train/val
  tokenizer byte-level BPE trained on the train split only -> tokenizer.json
  train     Glm4ForCausalLM, AdamW, fixed seeds, deterministic algorithms -> WORK/tiny-glm.pt
  export    full-sequence and KV-cache decode ONNX sharing the external weight shards,
            reference .npy, calib/eval sets, metrics.json

Usage: tiny_glm.py --corpus DIR --work WORK --out OUT [--skip-train]
"""

import argparse
import glob
import hashlib
import json
import math
import os
import random
import shutil
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SEED = 1234
SEQ = 128          # training / evaluation window
EOT = "<|endoftext|>"
EXCLUDE = {"ascii-art", "art"}  # drawings, not English text

CONFIG = dict(
    vocab_size=2048, hidden_size=256, intermediate_size=512, num_hidden_layers=4,
    num_attention_heads=8, num_key_value_heads=2, head_dim=32,
    attention_bias=True, rms_norm_eps=1e-5, max_position_embeddings=1024,
    partial_rotary_factor=0.5, rope_theta=10000.0, tie_word_embeddings=False,
    hidden_act="silu", attention_dropout=0.0, initializer_range=0.02,
    pad_token_id=0, bos_token_id=0, eos_token_id=0,
)
TRAIN = dict(steps=1200, batch=16, lr=3e-3, min_lr=3e-4, warmup=30, weight_decay=0.1,
             betas=(0.9, 0.95), grad_clip=1.0, threads=2)


# ----------------------------------------------------------------------------- corpus

def load_corpus(corpus_dir):
    files = sorted(f for f in glob.glob(os.path.join(corpus_dir, "*"))
                   if os.path.isfile(f) and not os.path.islink(f)
                   and "." not in os.path.basename(f) and os.path.basename(f) not in EXCLUDE)
    assert files, f"no fortune files in {corpus_dir}"
    docs = []
    raw_bytes = 0
    h = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read()
        h.update(os.path.basename(f).encode() + b"\0" + data)
        raw_bytes += len(data)
        text = data.decode("utf-8", errors="replace")
        for d in text.split("\n%\n"):
            d = d.strip("%\n").rstrip()
            if d.strip():
                docs.append(d)
    rng = random.Random(SEED)
    rng.shuffle(docs)
    n_val = len(docs) // 20
    return dict(files=[os.path.basename(f) for f in files], raw_bytes=raw_bytes, sha256=h.hexdigest(),
                val=docs[:n_val], train=docs[n_val:])


def train_tokenizer(train_docs, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=[EOT],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(train_docs, trainer=trainer)
    return tok


def encode_stream(tok, docs):
    eot = tok.token_to_id(EOT)
    ids = []
    for enc in tok.encode_batch(docs):
        ids.extend(enc.ids)
        ids.append(eot)
    return np.asarray(ids, dtype=np.int64)


# ----------------------------------------------------------------------------- model

def make_config():
    from transformers import Glm4Config
    c = dict(CONFIG)
    prf, theta = c.pop("partial_rotary_factor"), c.pop("rope_theta")
    cfg = Glm4Config(**c, rope_parameters=dict(rope_type="default", rope_theta=theta,
                                               partial_rotary_factor=prf))
    cfg._attn_implementation = "eager"
    return cfg


def make_model():
    from transformers import Glm4ForCausalLM
    torch.manual_seed(SEED)
    m = Glm4ForCausalLM(make_config())
    m.config._attn_implementation = "eager"
    return m


def val_windows(stream):
    n = (len(stream) - 1) // SEQ
    x = stream[: n * SEQ].reshape(n, SEQ)
    y = stream[1: n * SEQ + 1].reshape(n, SEQ)
    return x, y


@torch.no_grad()
def model_ppl(model, stream, batch=32):
    x, y = val_windows(stream)
    model.eval()
    nll, cnt = 0.0, 0
    for i in range(0, len(x), batch):
        xb = torch.from_numpy(x[i:i + batch])
        yb = torch.from_numpy(y[i:i + batch])
        logits = model(input_ids=xb, use_cache=False).logits.float()
        nll += torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 yb.reshape(-1), reduction="sum").item()
        cnt += yb.numel()
    return math.exp(nll / cnt)


def unigram_ppl(train_stream, val_stream, vocab):
    counts = np.bincount(train_stream, minlength=vocab).astype(np.float64) + 1.0  # add-one
    logp = np.log(counts / counts.sum())
    _, y = val_windows(val_stream)  # the same predicted tokens as model_ppl
    return float(math.exp(-logp[y.reshape(-1)].mean()))


def train(model, train_stream, val_stream, log):
    cfg = TRAIN
    common.seed_everything(SEED, threads=cfg["threads"])
    gen = torch.Generator().manual_seed(SEED)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg["lr"], betas=cfg["betas"])
    data = torch.from_numpy(train_stream)
    n = len(data) - SEQ - 1
    t0 = time.time()
    model.train()
    for step in range(cfg["steps"]):
        if step < cfg["warmup"]:
            lr = cfg["lr"] * (step + 1) / cfg["warmup"]
        else:
            p = (step - cfg["warmup"]) / max(1, cfg["steps"] - cfg["warmup"])
            lr = cfg["min_lr"] + 0.5 * (cfg["lr"] - cfg["min_lr"]) * (1 + math.cos(math.pi * p))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = torch.randint(0, n, (cfg["batch"],), generator=gen)
        x = torch.stack([data[i:i + SEQ] for i in idx.tolist()])
        y = torch.stack([data[i + 1:i + SEQ + 1] for i in idx.tolist()])
        logits = model(input_ids=x, use_cache=False).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        opt.step()
        if step % 50 == 0 or step == cfg["steps"] - 1:
            msg = f"step {step} loss {loss.item():.4f} lr {lr:.2e} {time.time() - t0:.0f}s"
            if step % 100 == 0 or step == cfg["steps"] - 1:
                msg += f" val_ppl {model_ppl(model, val_stream[:20000]):.2f}"
                model.train()
            log(msg)
    model.eval()
    return time.time() - t0


# ----------------------------------------------------------------------------- export

def _repeat_interleave2(t):
    """t.repeat_interleave(2, dim=-1) written as unsqueeze/cat/reshape (same values)."""
    u = t.unsqueeze(-1)
    return torch.cat([u, u], dim=-1).reshape(t.shape[:-1] + (t.shape[-1] * 2,))


def apply_rotary_pos_emb_export(q, k, cos, sin, unsqueeze_dim=1):
    """transformers.models.glm4.modeling_glm4.apply_rotary_pos_emb with one change for the
    TorchScript exporter: repeat_interleave(2) (whose ONNX symbolic loses the tensor rank and
    then fails on the following Concat) is written as unsqueeze+cat+reshape. Same math
    (checked against the original in check_rope_patch)."""
    from transformers.models.glm4.modeling_glm4 import rotate_half
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    cos = _repeat_interleave2(cos[..., : cos.shape[-1] // 2])
    sin = _repeat_interleave2(sin[..., : sin.shape[-1] // 2])
    rotary_dim = cos.shape[-1]
    q_rot, q_pass = q[..., :rotary_dim], q[..., rotary_dim:]
    k_rot, k_pass = k[..., :rotary_dim], k[..., rotary_dim:]
    q_embed = (q_rot * cos) + (rotate_half(q_rot) * sin)
    k_embed = (k_rot * cos) + (rotate_half(k_rot) * sin)
    q_embed = torch.cat([q_embed, q_pass], dim=-1)
    k_embed = torch.cat([k_embed, k_pass], dim=-1)
    return q_embed, k_embed


def check_rope_patch():
    from transformers.models.glm4 import modeling_glm4 as mg
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 8, 7, 32, generator=g), torch.randn(2, 2, 7, 32, generator=g)
    cos, sin = torch.randn(2, 7, 16, generator=g), torch.randn(2, 7, 16, generator=g)
    a, b = mg.apply_rotary_pos_emb(q, k, cos, sin), apply_rotary_pos_emb_export(q, k, cos, sin)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


class export_patches:
    def __enter__(self):
        from transformers.models.glm4 import modeling_glm4 as mg
        check_rope_patch()
        self.orig = mg.apply_rotary_pos_emb
        mg.apply_rotary_pos_emb = apply_rotary_pos_emb_export

    def __exit__(self, *a):
        from transformers.models.glm4 import modeling_glm4 as mg
        mg.apply_rotary_pos_emb = self.orig


class FullSeq(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, position_ids, attention_mask):
        return self.m(input_ids=input_ids, attention_mask=attention_mask,
                      position_ids=position_ids, use_cache=False).logits


class Decode(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m
        self.L = m.config.num_hidden_layers

    def forward(self, input_ids, position_ids, attention_mask, *past):
        from transformers import DynamicCache
        cache = DynamicCache(ddp_cache_data=[(past[2 * i], past[2 * i + 1]) for i in range(self.L)])
        out = self.m(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                     cache=cache, use_cache=True)
        pres = []
        for layer in out.cache.layers:
            pres += [layer.keys, layer.values]
        return (out.logits, *pres)


def kv_names(L):
    past, pres = [], []
    for i in range(L):
        past += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        pres += [f"present.{i}.key", f"present.{i}.value"]
    return past, pres


def _unused_shard_of(name):
    """Two weight shards (each < 8 MB): embeddings + layers 0-1, then layers 2-3 + norm + head."""
    if "embed_tokens" in name:
        return 0
    for i in (0, 1):
        if f"layers.{i}." in name:
            return 0
    return 1


def export(model, out, tmp):
    import onnx
    cfg = model.config
    L, KV, HD = cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.head_dim
    os.makedirs(tmp, exist_ok=True)
    B, T, P = 2, 5, 3
    ids = torch.randint(1, cfg.vocab_size, (B, T), generator=torch.Generator().manual_seed(7))
    pos = torch.arange(T).unsqueeze(0).expand(B, T).contiguous()
    mask = torch.ones(B, T, dtype=torch.int64)
    full_path = os.path.join(tmp, "tiny-glm.onnx")
    with torch.no_grad(), export_patches():
        torch.onnx.export(FullSeq(model), (ids, pos, mask), full_path, dynamo=False,
                          opset_version=17, do_constant_folding=True,
                          input_names=["input_ids", "position_ids", "attention_mask"],
                          output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                                        "position_ids": {0: "batch", 1: "seq"},
                                        "attention_mask": {0: "batch", 1: "seq"},
                                        "logits": {0: "batch", 1: "seq"}})
    past_names, pres_names = kv_names(L)
    past = [torch.randn(B, KV, P, HD, generator=torch.Generator().manual_seed(8 + i))
            for i in range(2 * L)]
    dpos = (torch.arange(T) + P).unsqueeze(0).expand(B, T).contiguous()
    dmask = torch.ones(B, P + T, dtype=torch.int64)
    dec_path = os.path.join(tmp, "tiny-glm-decode.onnx")
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "position_ids": {0: "batch", 1: "seq"},
           "attention_mask": {0: "batch", 1: "total_seq"}, "logits": {0: "batch", 1: "seq"}}
    for n in past_names:
        dyn[n] = {0: "batch", 2: "past_seq"}
    for n in pres_names:
        dyn[n] = {0: "batch", 2: "total_seq"}
    with torch.no_grad(), export_patches():
        torch.onnx.export(Decode(model), (ids, dpos, dmask, *past), dec_path, dynamo=False,
                          opset_version=17, do_constant_folding=True,
                          input_names=["input_ids", "position_ids", "attention_mask"] + past_names,
                          output_names=["logits"] + pres_names, dynamic_axes=dyn)
    # Both exports reference the same external weight shards (identical tensors stored once).
    models = [("tiny-glm.onnx", common.load_ir8(full_path)),
              ("tiny-glm-decode.onnx", common.load_ir8(dec_path))]
    os.makedirs(out, exist_ok=True)
    return common.save_shared_external(models, out, "tiny-glm.weights")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True, help="directory with the fortune files")
    ap.add_argument("--corpus-package", default="fortunes (Debian)")
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--skip-train", action="store_true", help="reuse WORK/tiny-glm.pt")
    ap.add_argument("--steps", type=int, default=None)
    args = ap.parse_args()
    if args.steps:
        TRAIN["steps"] = args.steps
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    logf = open(os.path.join(args.work, "tiny-glm.log"), "a")

    def log(msg):
        print("tiny-glm:", msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    t_all = time.time()
    common.seed_everything(SEED, threads=TRAIN["threads"])
    corpus = load_corpus(args.corpus)
    log(f"corpus: {len(corpus['files'])} files, {corpus['raw_bytes']} bytes, "
        f"{len(corpus['train'])} train / {len(corpus['val'])} val documents")
    tok = train_tokenizer(corpus["train"], CONFIG["vocab_size"])
    assert tok.get_vocab_size() == CONFIG["vocab_size"], tok.get_vocab_size()
    tok_path = os.path.join(args.out, "tokenizer.json")
    tok.save(tok_path)
    train_stream = encode_stream(tok, corpus["train"])
    val_stream = encode_stream(tok, corpus["val"])
    log(f"tokens: train {len(train_stream)}, val {len(val_stream)}")

    ckpt = os.path.join(args.work, "tiny-glm.pt")
    model = make_model()
    train_s = None
    if args.skip_train and os.path.exists(ckpt):
        state = torch.load(ckpt, map_location="cpu")
        model.load_state_dict(state["model"])
        train_s = state.get("train_seconds")
        log(f"loaded {ckpt}")
    else:
        train_s = train(model, train_stream, val_stream, log)
        torch.save({"model": model.state_dict(), "train_seconds": train_s}, ckpt)
    model.eval()
    common.seed_everything(SEED, threads=TRAIN["threads"])

    ppl = model_ppl(model, val_stream)
    uni = unigram_ppl(train_stream, val_stream, CONFIG["vocab_size"])
    log(f"val ppl {ppl:.3f}, unigram ppl {uni:.3f}, ratio {ppl / uni:.3f}")

    t_exp = time.time()
    export(model, args.out, os.path.join(args.work, "tiny-glm-export"))

    # ---- reference data: samples, calib, eval (windows of the validation split)
    x, y = val_windows(val_stream)
    sess = common.ort_session(os.path.join(args.out, "tiny-glm.onnx"))
    Ts = 16
    s_ids = x[:2, :Ts].copy()
    s_pos = np.broadcast_to(np.arange(Ts, dtype=np.int64), (2, Ts)).copy()
    s_mask = np.ones((2, Ts), np.int64)
    s_out = sess.run(None, {"input_ids": s_ids, "position_ids": s_pos, "attention_mask": s_mask})
    for k, a in enumerate((s_ids, s_pos, s_mask)):
        np.save(os.path.join(args.out, f"tiny-glm.in.{k}.npy"), a)
    np.save(os.path.join(args.out, "tiny-glm.out.0.npy"), s_out[0])
    # decode sample: prefix of 12 tokens as past, 4 new tokens
    dsess = common.ort_session(os.path.join(args.out, "tiny-glm-decode.onnx"))
    L, KV, HD = CONFIG["num_hidden_layers"], CONFIG["num_key_value_heads"], CONFIG["head_dim"]
    past_names, _ = kv_names(L)
    empty = {n: np.zeros((2, KV, 0, HD), np.float32) for n in past_names}
    pre = dsess.run(None, {"input_ids": s_ids[:, :12], "position_ids": s_pos[:, :12],
                           "attention_mask": s_mask[:, :12], **empty})
    d_in = [s_ids[:, 12:], s_pos[:, 12:], s_mask] + pre[1:]
    d_out = dsess.run(None, dict(zip(["input_ids", "position_ids", "attention_mask"] + past_names, d_in)))
    for k, a in enumerate(d_in):
        np.save(os.path.join(args.out, f"tiny-glm-decode.in.{k}.npy"), a)
    for k, a in enumerate(d_out):
        np.save(os.path.join(args.out, f"tiny-glm-decode.out.{k}.npy"), a)

    pos = np.arange(SEQ, dtype=np.int64)[None]
    ones = np.ones((1, SEQ), np.int64)
    n_cal, n_eval = 64, 64
    cal_idx = range(0, n_cal)
    ev_idx = range(len(x) - n_eval, len(x))
    common.write_npy_dir(os.path.join(args.out, "calib"),
                         {"input_ids": [x[i:i + 1] for i in cal_idx],
                          "position_ids": [pos] * n_cal, "attention_mask": [ones] * n_cal},
                         meta=dict(model="tiny-glm.onnx", task="lm", source="validation split, "
                                   f"windows 0..{n_cal - 1} of {SEQ} tokens"))
    common.write_npy_dir(os.path.join(args.out, "eval"),
                         {"input_ids": [x[i:i + 1] for i in ev_idx],
                          "position_ids": [pos] * n_eval, "attention_mask": [ones] * n_eval},
                         labels={"next_token": [y[i:i + 1] for i in ev_idx]},
                         meta=dict(model="tiny-glm.onnx", task="lm", logits_output="logits",
                                   label_note="labels/next_token[b,t] is the target for "
                                   "logits[b,t,:]", source=f"validation split, last {n_eval} "
                                   f"windows of {SEQ} tokens (disjoint from calib)"))
    # eval-set perplexity through ORT (what tools/eval reports for the float model)
    nll, cnt = 0.0, 0
    for i in ev_idx:
        lg = sess.run(None, {"input_ids": x[i:i + 1], "position_ids": pos, "attention_mask": ones})[0]
        lg = lg.astype(np.float64)
        lse = np.log(np.exp(lg - lg.max(-1, keepdims=True)).sum(-1)) + lg.max(-1)
        nll += float((lse[0] - lg[0, np.arange(SEQ), y[i]]).sum())
        cnt += SEQ
    eval_ppl = math.exp(nll / cnt)
    export_s = time.time() - t_exp

    ids_t = torch.from_numpy(x[:1])
    flops_seq = common.torch_flops(model, input_ids=ids_t, use_cache=False)
    sizes = {f: os.path.getsize(os.path.join(args.out, f)) for f in sorted(os.listdir(args.out))
             if os.path.isfile(os.path.join(args.out, f)) and (f.endswith(".onnx") or ".weights" in f
                                                                or f == "tokenizer.json")}
    import onnx
    import tokenizers
    import transformers
    metrics = dict(
        model="tiny-glm", architecture="transformers Glm4ForCausalLM", config=CONFIG,
        params=common.param_count(model),
        params_non_embedding=common.param_count(model) - 2 * CONFIG["vocab_size"] * CONFIG["hidden_size"],
        flops_per_sequence=flops_seq, flops_sequence_length=SEQ,
        flops_note="2*MACs of matmuls incl. attention and lm_head, batch 1, torch FlopCounterMode",
        val_perplexity=round(ppl, 4), unigram_val_perplexity=round(uni, 4),
        ppl_ratio=round(ppl / uni, 4), quality_bar="val_perplexity <= 0.5 * unigram_val_perplexity",
        eval_set_perplexity_ort=round(eval_ppl, 4),
        val_tokens=int(val_windows(val_stream)[1].size), train_tokens=int(len(train_stream)),
        corpus=dict(package=args.corpus_package, files=corpus["files"], bytes=corpus["raw_bytes"],
                    sha256_of_files=corpus["sha256"], path="/usr/share/games/fortunes",
                    excluded=sorted(EXCLUDE),
                    train_documents=len(corpus["train"]), val_documents=len(corpus["val"]),
                    split="documents shuffled with seed 1234, first 5% validation"),
        tokenizer=dict(type="byte-level BPE (tokenizers)", vocab_size=CONFIG["vocab_size"],
                       special=[EOT], trained_on="train split"),
        training=dict(TRAIN, seq=SEQ, seed=SEED),
        files=sizes, onnx=dict(opset=17, ir_version=8),
        versions=dict(torch=torch.__version__, transformers=transformers.__version__,
                      tokenizers=tokenizers.__version__, onnx=onnx.__version__),
    )
    common.write_json(os.path.join(args.out, "metrics.json"), metrics)
    common.write_timing(args.work, "tiny-glm", dict(train_seconds=round(train_s or 0, 1),
                                                    export_and_reference_seconds=round(export_s, 1),
                                                    total_seconds=round(time.time() - t_all, 1)))
    log(f"done in {time.time() - t_all:.0f}s: {json.dumps({k: metrics[k] for k in ('params', 'val_perplexity', 'unigram_val_perplexity', 'eval_set_perplexity_ort')})}")


if __name__ == "__main__":
    main()
