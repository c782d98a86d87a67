#!/usr/bin/env python3
"""A GLM-4 decoder in ONNX at any size, with random weights (numpy + onnx only).

    .venv/bin/python test/models/gen/glm4_wide.py OUT_DIR [--preset wide|tiny]
        [--hidden H --heads N --kv-heads K --head-dim D --ffn F --vocab V --layers L]
        [--seed S] [--name NAME]

writes, like tiny-glm (docs/models.md):

    OUT_DIR/NAME.onnx          full sequence: input_ids, position_ids, attention_mask -> logits
    OUT_DIR/NAME-decode.onnx   KV-cache decode: the same plus past_key_values.{i}.key/value
                               -> logits, present.{i}.key/value
    OUT_DIR/NAME.weights       external data shared by both (every tensor of 1 KiB or more,
                               4 KiB aligned so that ONNX Runtime and glmc can map it)
    OUT_DIR/NAME.json          the config, the weight bytes and the file checksums

The graphs are written node for node as the TorchScript exporter writes
transformers' Glm4ForCausalLM (opset 17, IR 8), the export that
test/models/tiny-glm/tiny-glm.onnx and tiny-glm-decode.onnx hold:
decomposed RMSNorm (Cast/Pow/ReduceMean/Add/Sqrt/Div/Mul), GLM-4's four
norms per layer (input, post-self-attention, post-attention, post-MLP),
Q/K/V with bias, partial interleaved RoPE (rotary on the first
head_dim * partial_rotary_factor dims, pairs (2i, 2i+1), cos/sin expanded
by unsqueeze+concat+reshape as the exporter patch does), GQA by
Unsqueeze/Expand/Reshape, transformers' mask builder traced from the 2-D
attention_mask (with the cache offset in the decode form), SwiGLU with one
fused gate_up MatMul split by Slice, untied lm_head. With tiny-glm's config
the graphs equal the committed exports in every op, attribute, constant
and edge, only the value names differ; test/models/test_glm4_wide.py checks
that and that ONNX Runtime gives the same logits with tiny-glm's weights.

`--preset wide` (default) is GLM-4-9B's layer shape with 2 layers: hidden
4096, 32 heads of 128, 2 KV heads, ffn 13696, vocab 151552 (6.59 GB of
fp32 weights; embedding and lm_head 2.48 GB each). Weights are seeded
normal * 0.02 (norm weights 1 + normal * 0.02), generated tensor by
tensor in row blocks of at most 64 MB and written straight to the weights
file: memory stays under ~200 MB at any size. Deterministic: the same
arguments give byte-identical files. The wide model takes about a minute
(mostly random numbers and disk).
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT64_MAX = 9223372036854775807
F32_MIN = float(np.finfo(np.float32).min)

PRESETS = {
    # GLM-4-9B's layer shape (THUDM/GLM-4-9B-0414: hidden 4096, 32 heads x 128,
    # 2 KV groups, intermediate 13696, vocab 151552), two layers.
    "wide": dict(hidden=4096, heads=32, kv_heads=2, head_dim=128, ffn=13696, vocab=151552,
                 layers=2),
    # test/models/tiny-glm (docs/models.md).
    "tiny": dict(hidden=256, heads=8, kv_heads=2, head_dim=32, ffn=512, vocab=2048, layers=4),
}
DEFAULTS = dict(partial_rotary_factor=0.5, rope_theta=10000.0, rms_norm_eps=1e-5)
INLINE_BELOW = 1024      # bytes; smaller initializers stay in the .onnx (as in tiny-glm)
ALIGN = 4096             # external data offsets


def make_config(preset="wide", **overrides):
    cfg = dict(DEFAULTS)
    cfg.update(PRESETS[preset])
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    assert cfg["heads"] % cfg["kv_heads"] == 0, "heads must be a multiple of kv_heads"
    rot = int(cfg["head_dim"] * cfg["partial_rotary_factor"])
    assert rot % 2 == 0 and 0 < rot <= cfg["head_dim"], "rotary dims must be even"
    return cfg


def inv_freq(cfg):
    """transformers' default RoPE init: 1 / base ** (arange(0, dim, 2) / dim), in float32."""
    dim = int(cfg["head_dim"] * cfg["partial_rotary_factor"])
    exps = np.arange(0, dim, 2, dtype=np.int64).astype(np.float32) / np.float32(dim)
    return (np.float32(1.0) / (np.float32(cfg["rope_theta"]) ** exps)).astype(np.float32)


class Weight:
    """An initializer: its name, shape and how random weights fill it."""

    def __init__(self, name, shape, kind):
        self.name, self.shape, self.kind = name, tuple(shape), kind

    @property
    def nbytes(self):
        return int(np.prod(self.shape)) * 4


class Graph:
    """Emits nodes named as the TorchScript exporter names them ("<scope>/<Op>_<k>")."""

    def __init__(self):
        self.nodes = []
        self.weights = {}          # name -> Weight, in first-use order
        self.counts = {}
        self.matmul_ids = 0

    def _name(self, scope, op):
        k = self.counts.get((scope, op), 0)
        self.counts[(scope, op)] = k + 1
        return f"{scope}/{op}" + (f"_{k}" if k else "")

    def op(self, scope, op_type, inputs, output=None, **attrs):
        name = self._name(scope, op_type)
        out = output or f"{name}_output_0"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=name, **attrs))
        return out

    def const(self, scope, value, dtype=np.int64):
        arr = np.array(value, dtype=dtype)
        return self.op(scope, "Constant", [], value=numpy_helper.from_array(arr, name=""))

    def i(self, scope, v):           # int64 scalar
        return self.const(scope, v)

    def i1(self, scope, v):          # int64 [1]
        return self.const(scope, [v])

    def f(self, scope, v):           # float32 scalar
        return self.const(scope, v, np.float32)

    def weight(self, name, shape, kind="normal"):
        if name not in self.weights:
            self.weights[name] = Weight(name, shape, kind)
        return name

    def matmul_weight(self, shape):
        """The exporter names a transposed Linear weight onnx::MatMul_<n>."""
        self.matmul_ids += 1
        return self.weight(f"onnx::MatMul_{self.matmul_ids}", shape)

    # --- transformers' building blocks as the exporter traces them ----------------------------
    def shape_at(self, scope, x, index):
        return self.op(scope, "Gather", [self.op(scope, "Shape", [x]), self.i(scope, index)], axis=0)

    def unsq0(self, scope, x):
        return self.op(scope, "Unsqueeze", [x, self.i1(scope, 0)])

    def rms_norm(self, scope, x, w):
        xc = self.op(scope, "Cast", [x], to=TensorProto.FLOAT)
        p = self.op(scope, "Pow", [xc, self.f(scope, 2.0)])
        var = self.op(scope, "ReduceMean", [p], axes=[-1], keepdims=1)
        a = self.op(scope, "Add", [var, self.f(scope, self.cfg["rms_norm_eps"])])
        sq = self.op(scope, "Sqrt", [a])
        r = self.op(scope, "Div", [self.f(scope, 1.0), sq])
        y = self.op(scope, "Cast", [self.op(scope, "Mul", [xc, r])], to=TensorProto.FLOAT)
        return self.op(scope, "Mul", [w, y]), xc


def build(cfg, decode):
    """The ONNX graph of one form; returns (Graph, inputs, outputs)."""
    g = Graph()
    g.cfg = cfg
    H, NH, KV, D = cfg["hidden"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"]
    F, V, L = cfg["ffn"], cfg["vocab"], cfg["layers"]
    rep = NH // KV
    P = "/m/model"

    # --- embedding and transformers' mask builder -------------------------------------------
    if decode:
        past0 = g.op("", "Concat", ["past_key_values.0.key"], axis=-2)
    emb = g.op(P + "/embed_tokens", "Gather", [g.weight("m.model.embed_tokens.weight", (V, H)), "input_ids"])
    maskb = g.op(P, "Cast", ["attention_mask"], to=TensorProto.BOOL)
    seq = g.shape_at(P, emb, 1)
    if decode:
        past_len = g.shape_at(P, past0, 2)
        past_len64 = g.op(P, "Cast", [past_len], to=TensorProto.INT64)
        kv_len = g.op(P, "Add", [past_len, seq])
    else:
        kv_len = g.shape_at(P, maskb, 1)
    batch = g.shape_at(P, emb, 0)

    def cast_range(n):  # Cast comes before the Range's constants
        c = g.op(P, "Cast", [n], to=TensorProto.INT64)
        return g.op(P, "Range", [g.i(P, 0), c, g.i(P, 1)])

    b_idx = cast_range(batch)
    q_idx = cast_range(seq)
    if decode:
        q_idx = g.op(P, "Add", [q_idx, past_len64])
    kv_idx = cast_range(kv_len)
    ub = g.op(P, "Unsqueeze", [b_idx, g.i1(P, 1)])
    ub = g.op(P, "Unsqueeze", [ub, g.i1(P, 2)])
    ub = g.op(P, "Unsqueeze", [ub, g.i1(P, 3)])
    uq = g.op(P, "Unsqueeze", [q_idx, g.i1(P, 0)])
    uq = g.op(P, "Unsqueeze", [uq, g.i1(P, 1)])
    uq = g.op(P, "Unsqueeze", [uq, g.i1(P, 3)])
    ukv = g.op(P, "Unsqueeze", [kv_idx, g.i1(P, 0)])
    ukv = g.op(P, "Unsqueeze", [ukv, g.i1(P, 1)])
    ukv = g.op(P, "Unsqueeze", [ukv, g.i1(P, 2)])
    true = g.op(P, "ConstantOfShape", [g.const(P, np.zeros(0, np.int64))],
                value=numpy_helper.from_array(np.array([True]), name=""))
    causal = g.op(P, "Cast", [g.op(P, "LessOrEqual", [ukv, uq])], to=TensorProto.BOOL)
    m = g.op(P, "And", [true, causal])
    mask_len = g.op(P, "Gather", [g.op(P, "Shape", [maskb]), g.i1(P, 1)], axis=0)
    flat = g.op(P, "Flatten", [maskb], axis=2)
    flat_idx = g.op(P, "Add", [ukv, g.op(P, "Mul", [ub, mask_len])])
    pad = g.op(P, "Gather", [flat, flat_idx], axis=0)
    idx_shape = g.op(P, "Shape", [flat_idx])
    pad = g.op(P, "Reshape", [pad, g.i1(P, -1)], allowzero=0)
    pad = g.op(P, "Reshape", [pad, g.op(P, "Concat", [idx_shape], axis=0)], allowzero=0)
    m = g.op(P, "And", [m, g.op(P, "Cast", [pad], to=TensorProto.BOOL)])
    ub0 = g.op(P, "Unsqueeze", [batch, g.i1(P, 0)])
    minus1 = g.i1(P, -1)
    useq = g.op(P, "Unsqueeze", [seq, g.i1(P, 0)])
    ukvl = g.op(P, "Unsqueeze", [kv_len, g.i1(P, 0)])
    shape = g.op(P, "Reshape", [g.op(P, "Concat", [ub0, minus1, useq, ukvl], axis=0), g.i1(P, -1)],
                 allowzero=0)
    m = g.op(P, "Expand", [m, expand_shape(g, P, shape)])
    mask = g.op(P, "Where", [m, g.f(P, 0.0), g.f(P, F32_MIN)])

    # --- rotary embedding ---------------------------------------------------------------------
    R = P + "/rotary_emb"
    pos = g.op(R, "Cast", [g.op(R, "Unsqueeze", ["position_ids", g.i1(R, 2)])], to=TensorProto.FLOAT)
    freqs = g.op(R, "Mul", [pos, g.const(R, inv_freq(cfg), np.float32)])
    freqs = g.op(R, "Concat", [freqs, freqs], axis=-1)
    cos = g.op(R, "Mul", [g.op(R, "Cos", [freqs]), g.f(R, 1.0)])
    sin = g.op(R, "Mul", [g.op(R, "Sin", [freqs]), g.f(R, 1.0)])
    cos = g.op(R, "Cast", [cos], to=TensorProto.FLOAT)
    sin = g.op(R, "Cast", [sin], to=TensorProto.FLOAT)

    # --- layers -------------------------------------------------------------------------------
    h = emb
    rot = {}                                     # shared by all layers (traced once, in layer 0)
    outputs = []
    for li in range(L):
        S = f"{P}/layers.{li}"
        A = S + "/self_attn"
        x, resid = g.rms_norm(S + "/input_layernorm", h, g.weight(f"m.model.layers.{li}.input_layernorm.weight", (H,), "norm"))
        bsz = g.shape_at(A, x, 0)
        qlen = g.shape_at(A, x, 1)

        def proj(name, n_out):
            w = g.matmul_weight((H, n_out))
            y = g.op(f"{A}/{name}", "MatMul", [x, w])
            return g.op(f"{A}/{name}", "Add", [g.weight(f"m.model.layers.{li}.self_attn.{name}.bias", (n_out,)), y])

        q = proj("q_proj", NH * D)
        views = []
        for _ in range(3):
            views.append(g.op(A, "Concat", [g.unsq0(A, bsz), g.unsq0(A, qlen), g.i1(A, -1), g.i1(A, D)], axis=0))
        q = g.op(A, "Transpose", [g.op(A, "Reshape", [q, views[0]], allowzero=0)], perm=[0, 2, 1, 3])
        k = proj("k_proj", KV * D)
        k = g.op(A, "Transpose", [g.op(A, "Reshape", [k, views[1]], allowzero=0)], perm=[0, 2, 1, 3])
        v = proj("v_proj", KV * D)
        v = g.op(A, "Transpose", [g.op(A, "Reshape", [v, views[2]], allowzero=0)], perm=[0, 2, 1, 3])

        if not rot:
            # cos/sin[..., :dim // 2].repeat_interleave(2), traced once and reused by every layer.
            c = g.op(A, "Unsqueeze", [cos, g.i1(A, 1)])
            s = g.op(A, "Unsqueeze", [sin, g.i1(A, 1)])
            rot["cos"] = interleave(g, A, c)
            rot["sin"] = interleave(g, A, s)
            rot["dim"] = g.shape_at(A, rot["cos"], 3)
        rd = rot["dim"]

        def head(t):    # t[..., :rd]
            axes, starts = g.i1(A, 3), g.i1(A, 0)
            ends = g.op(A, "Unsqueeze", [rd, g.i1(A, 0)])
            return g.op(A, "Slice", [t, starts, ends, axes, g.i1(A, 1)])

        def tail(t):    # t[..., rd:]
            axes = g.i1(A, 3)
            starts = g.op(A, "Unsqueeze", [rd, g.i1(A, 0)])
            return g.op(A, "Slice", [t, starts, g.i1(A, INT64_MAX), axes, g.i1(A, 1)])

        q_rot, q_pass = head(q), tail(q)
        k_rot, k_pass = head(k), tail(k)

        def rope(t):    # t * cos + rotate_half(t) * sin, GLM-4's interleaved pairs
            a = g.op(A, "Mul", [t, rot["cos"]])
            axes, st, en, stp = g.i1(A, 3), g.i1(A, 0), g.i1(A, INT64_MAX), g.i1(A, 2)
            x1 = g.op(A, "Slice", [t, st, en, axes, stp])
            axes, st, en, stp = g.i1(A, 3), g.i1(A, 1), g.i1(A, INT64_MAX), g.i1(A, 2)
            x2 = g.op(A, "Slice", [t, st, en, axes, stp])
            n = g.op(A, "Neg", [x2])
            n = g.op(A, "Unsqueeze", [n, g.i1(A, -1)])
            x1 = g.op(A, "Unsqueeze", [x1, g.i1(A, -1)])
            st = g.op(A, "Concat", [n, x1], axis=-1)
            sh = g.op(A, "Shape", [st])
            axes, starts, ends = g.i1(A, 0), g.i1(A, 0), g.i1(A, -2)
            lead = g.op(A, "Slice", [sh, starts, ends, axes])
            flat_shape = g.op(A, "Concat", [lead, g.i1(A, -1)], axis=0)
            r = g.op(A, "Reshape", [st, flat_shape], allowzero=0)
            return g.op(A, "Add", [a, g.op(A, "Mul", [r, rot["sin"]])])

        q_rot, k_rot = rope(q_rot), rope(k_rot)
        q = g.op(A, "Concat", [q_rot, q_pass], axis=-1)
        k = g.op(A, "Concat", [k_rot, k_pass], axis=-1)
        if decode:
            past_k = past0 if li == 0 else f"past_key_values.{li}.key"
            k = g.op(A, "Concat", [past_k, k], output=f"present.{li}.key", axis=-2)
            v = g.op(A, "Concat", [f"past_key_values.{li}.value", v], output=f"present.{li}.value", axis=-2)
            outputs += [f"present.{li}.key", f"present.{li}.value"]
        k = repeat_kv(g, A, k, rep)
        v = repeat_kv(g, A, v, rep)
        scores = g.op(A, "MatMul", [q, g.op(A, "Transpose", [k], perm=[0, 1, 3, 2])])
        scale = float(np.float32(1.0) / np.sqrt(np.float32(D)))
        scores = g.op(A, "Add", [g.op(A, "Mul", [scores, g.f(A, scale)]), mask])
        p = g.op(A, "Softmax", [scores], axis=-1)
        p = g.op(A, "Cast", [g.op(A, "Cast", [p], to=TensorProto.FLOAT)], to=TensorProto.FLOAT)
        o = g.op(A, "Transpose", [g.op(A, "MatMul", [p, v])], perm=[0, 2, 1, 3])
        o_shape = g.op(A, "Concat", [g.unsq0(A, bsz), g.unsq0(A, qlen), g.i1(A, -1)], axis=0)
        o = g.op(A, "Reshape", [o, o_shape], allowzero=0)
        o = g.op(A + "/o_proj", "MatMul", [o, g.matmul_weight((NH * D, H))])
        o, _ = g.rms_norm(S + "/post_self_attn_layernorm", o,
                          g.weight(f"m.model.layers.{li}.post_self_attn_layernorm.weight", (H,), "norm"))
        h = g.op(S, "Add", [resid, o])

        x, resid = g.rms_norm(S + "/post_attention_layernorm", h,
                              g.weight(f"m.model.layers.{li}.post_attention_layernorm.weight", (H,), "norm"))
        M = S + "/mlp"
        gu = g.op(M + "/gate_up_proj", "MatMul", [x, g.matmul_weight((H, 2 * F))])
        shape = g.op(M, "Shape", [gu])
        axis = g.i1(M, -1)
        n = g.op(M, "Gather", [shape, axis], axis=0)
        zero = g.i1(M, 0)
        half = g.op(M, "Div", [g.op(M, "Add", [n, g.i1(M, 1)]), g.i1(M, 2)])
        mid = g.op(M, "Mul", [half, g.i1(M, 1)])
        gate = g.op(M, "Slice", [gu, zero, mid, axis])
        end = g.op(M, "Mul", [half, g.i1(M, 2)])
        up = g.op(M, "Slice", [gu, mid, end, axis])
        act = g.op(M + "/activation_fn", "Mul", [gate, g.op(M + "/activation_fn", "Sigmoid", [gate])])
        y = g.op(M + "/down_proj", "MatMul", [g.op(M, "Mul", [up, act]), g.matmul_weight((F, H))])
        y, _ = g.rms_norm(S + "/post_mlp_layernorm", y,
                          g.weight(f"m.model.layers.{li}.post_mlp_layernorm.weight", (H,), "norm"))
        h = g.op(S, "Add", [resid, y])

    h, _ = g.rms_norm(P + "/norm", h, g.weight("m.model.norm.weight", (H,), "norm"))
    g.op("/m/lm_head", "MatMul", [h, g.matmul_weight((H, V))], output="logits")

    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    total = "total_seq" if decode else "seq"
    inputs = [helper.make_tensor_value_info("input_ids", i64, ["batch", "seq"]),
              helper.make_tensor_value_info("position_ids", i64, ["batch", "seq"]),
              helper.make_tensor_value_info("attention_mask", i64, ["batch", total])]
    outs = [helper.make_tensor_value_info("logits", f32, ["batch", "seq", V])]
    if decode:
        for li in range(L):
            for kv in ("key", "value"):
                inputs.append(helper.make_tensor_value_info(f"past_key_values.{li}.{kv}", f32,
                                                            ["batch", KV, "past_seq", D]))
                outs.append(helper.make_tensor_value_info(f"present.{li}.{kv}", f32,
                                                          ["batch", KV, "total_seq", D]))
    return g, inputs, outs


def expand_shape(g, scope, shape):
    """The exporter's Expand target: where(shape == -1, 1, shape)."""
    ones = g.op(scope, "ConstantOfShape", [g.op(scope, "Shape", [shape])],
                value=numpy_helper.from_array(np.array([1], np.int64), name=""))
    neg = g.op(scope, "Mul", [ones, g.i(scope, -1)])
    return g.op(scope, "Where", [g.op(scope, "Equal", [shape, neg]), ones, shape])


def interleave(g, A, t):
    """t[..., :t.shape[-1] // 2] with every element repeated twice along the last axis."""
    n = g.shape_at(A, t, 3)
    half = g.op(A, "Cast", [g.op(A, "Cast", [g.op(A, "Div", [n, g.i(A, 2)])], to=TensorProto.INT64)],
                to=TensorProto.INT64)
    axes, starts = g.i1(A, 3), g.i1(A, 0)
    ends = g.op(A, "Unsqueeze", [half, g.i1(A, 0)])
    part = g.op(A, "Slice", [t, starts, ends, axes, g.i1(A, 1)])
    u = g.op(A, "Unsqueeze", [part, g.i1(A, -1)])
    pair = g.op(A, "Concat", [u, u], axis=-1)
    d = [g.shape_at(A, part, i) for i in range(4)]
    d[3] = g.op(A, "Mul", [d[3], g.i(A, 2)])
    shape = g.op(A, "Concat", [g.unsq0(A, x) for x in d], axis=0)
    return g.op(A, "Reshape", [pair, shape], allowzero=0)


def repeat_kv(g, A, t, rep):
    """transformers' repeat_kv: [b, kv, s, d] -> [b, kv * rep, s, d] by expand + reshape."""
    d = [g.shape_at(A, t, i) for i in range(4)]
    u = g.op(A, "Unsqueeze", [t, g.i1(A, 2)])
    u0, u1 = g.unsq0(A, d[0]), g.unsq0(A, d[1])
    r = g.i1(A, rep)
    u2, u3 = g.unsq0(A, d[2]), g.unsq0(A, d[3])
    shape = g.op(A, "Reshape", [g.op(A, "Concat", [u0, u1, r, u2, u3], axis=0), g.i1(A, -1)], allowzero=0)
    e = g.op(A, "Expand", [u, expand_shape(g, A, shape)])
    heads = g.op(A, "Mul", [d[1], g.i(A, rep)])
    shape = g.op(A, "Concat", [g.unsq0(A, d[0]), g.unsq0(A, heads), g.unsq0(A, d[2]), g.unsq0(A, d[3])],
                 axis=0)
    return g.op(A, "Reshape", [e, shape], allowzero=0)


# ----------------------------------------------------------------------------- weights

def random_source(seed):
    """Yields each weight's data as float32 row blocks of at most 64 MB."""
    def chunks(index, w):
        rng = np.random.default_rng([seed, index])
        rows = w.shape[0]
        row = int(np.prod(w.shape[1:])) if len(w.shape) > 1 else 1
        step = max(1, (16 << 20) // row)
        for r in range(0, rows, step):
            n = min(step, rows - r)
            a = rng.standard_normal(n * row, dtype=np.float32)
            a *= np.float32(0.02)
            if w.kind == "norm":
                a += np.float32(1.0)
            yield a
    return chunks


def array_source(arrays):
    """Weights from a dict name -> array (the structure check uses tiny-glm's own)."""
    def chunks(index, w):
        a = np.ascontiguousarray(arrays[w.name], dtype=np.float32)
        assert a.shape == w.shape, (w.name, a.shape, w.shape)
        yield a.reshape(-1)
    return chunks


def write_weights(weights, path, source):
    """Streams the external weights to `path`; returns name -> initializer TensorProto."""
    protos = {}
    location = os.path.basename(path)
    with open(path, "wb") as f:
        for index, w in enumerate(weights):
            if w.nbytes < INLINE_BELOW:
                data = np.concatenate(list(source(index, w))).reshape(w.shape)
                protos[w.name] = numpy_helper.from_array(data, name=w.name)
                continue
            pad = (-f.tell()) % ALIGN
            f.write(b"\0" * pad)
            offset = f.tell()
            for block in source(index, w):
                f.write(block.astype("<f4", copy=False).tobytes())
            assert f.tell() - offset == w.nbytes, w.name
            t = TensorProto()
            t.name = w.name
            t.data_type = TensorProto.FLOAT
            t.dims.extend(w.shape)
            t.data_location = TensorProto.EXTERNAL
            for k, v in (("location", location), ("offset", str(offset)), ("length", str(w.nbytes))):
                e = t.external_data.add()
                e.key, e.value = k, v
            protos[w.name] = t
    return protos


def make_model(g, inputs, outputs, initializers):
    graph = helper.make_graph(g.nodes, "main_graph", inputs, outputs, initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="glmc glm4_wide.py", producer_version="1")
    model.ir_version = 8
    return model


def generate(out, cfg, name, source):
    """Writes NAME.onnx, NAME-decode.onnx and NAME.weights under `out`; returns their paths."""
    os.makedirs(out, exist_ok=True)
    full = build(cfg, decode=False)
    dec = build(cfg, decode=True)
    weights = list(full[0].weights.values())
    assert [w.name for w in weights] == list(dec[0].weights), "both forms share the weights"
    wpath = os.path.join(out, name + ".weights")
    protos = write_weights(weights, wpath, source)
    paths = []
    for (g, ins, outs), suffix in ((full, ""), (dec, "-decode")):
        model = make_model(g, ins, outs, [protos[w.name] for w in weights])
        path = os.path.join(out, f"{name}{suffix}.onnx")
        onnx.save(model, path)
        paths.append(path)
    return paths, wpath, sum(w.nbytes for w in weights)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="wide")
    for k in ("hidden", "heads", "kv_heads", "head_dim", "ffn", "vocab", "layers"):
        ap.add_argument("--" + k.replace("_", "-"), type=int)
    ap.add_argument("--seed", type=int, default=20250604)
    ap.add_argument("--name", default=None, help="file stem (default glm4-<preset>)")
    args = ap.parse_args(argv)
    cfg = make_config(args.preset, **{k: getattr(args, k) for k in
                                      ("hidden", "heads", "kv_heads", "head_dim", "ffn", "vocab", "layers")})
    name = args.name or f"glm4-{args.preset}"
    paths, wpath, nbytes = generate(args.out, cfg, name, random_source(args.seed))
    info = {"config": cfg, "seed": args.seed, "weight_bytes": nbytes,
            "files": {os.path.basename(p): sha256(p) for p in paths + [wpath]}}
    with open(os.path.join(args.out, name + ".json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{name}: {nbytes / 1e9:.2f} GB of weights; " + ", ".join(paths + [wpath]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
