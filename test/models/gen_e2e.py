#!/usr/bin/env python3
"""Generate the end-to-end test models for glmc (random weights, opset 17, IR 8).

Usage:
    python3 test/models/gen_e2e.py OUTDIR [--check]

Needs only the packages in requirements/test.txt (numpy, onnx, onnxruntime).
Writes, deterministically (byte-identical on re-run), into OUTDIR:

    <name>.onnx               the model (mlp_ext also writes mlp_ext.weights)
    <name>.in.<k>.npy         sample input k (k = position in graph.input order)
    <name>.out.<k>.npy        ONNX Runtime reference for output k (CPU EP,
                              ORT_DISABLE_ALL, one thread)
    bad_*.onnx                malformed / unsupported models (+ side files)
    manifest.json             every model: inputs, outputs, shapes, tolerances;
                              every bad input: what is wrong with it

See test/models/README.md.
"""

import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # libonnx 1.12 (the compiler's) rejects IR >= 9

# Tolerances the e2e test should use when comparing glmc output with the
# references (float32 everywhere; the compiler may fuse and reorder sums).
DEFAULT_TOL = {"rtol": 1e-4, "atol": 1e-5}


class GraphBuilder:
    """Tiny helper: every node gets a stable, readable name."""

    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []
        self.counter = {}

    def _uniq(self, base):
        n = self.counter.get(base, 0)
        self.counter[base] = n + 1
        return f"{base}_{n}"

    def init(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name=name))
        return name

    def randn(self, name, shape, scale=None):
        if scale is None:
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else int(shape[0])
            scale = 1.0 / math.sqrt(max(fan_in, 1))
        return self.init(name, (self.rng.standard_normal(shape) * scale).astype(np.float32))

    def op(self, op_type, inputs, n_out=1, name=None, domain=None, **attrs):
        name = name or self._uniq(op_type.lower())
        outs = [f"{name}_out{i}" if n_out > 1 else f"{name}_out" for i in range(n_out)]
        node = helper.make_node(op_type, inputs, outs, name=name, domain=domain, **attrs)
        self.nodes.append(node)
        return outs if n_out > 1 else outs[0]

    def const(self, array, name=None):
        """A Constant node (not an initializer), as exporters write them."""
        name = name or self._uniq("const")
        arr = np.asarray(array)
        node = helper.make_node("Constant", [], [name + "_out"], name=name,
                                value=numpy_helper.from_array(arr, name=name + "_value"))
        self.nodes.append(node)
        return name + "_out"

    def bn(self, x, c, prefix):
        rng = self.rng
        scale = self.init(prefix + ".weight", (1.0 + 0.1 * rng.standard_normal(c)).astype(np.float32))
        bias = self.init(prefix + ".bias", (0.1 * rng.standard_normal(c)).astype(np.float32))
        mean = self.init(prefix + ".running_mean", (0.1 * rng.standard_normal(c)).astype(np.float32))
        var = self.init(prefix + ".running_var", rng.uniform(0.5, 1.5, c).astype(np.float32))
        return self.op("BatchNormalization", [x, scale, bias, mean, var], name=prefix, epsilon=1e-5)

    def conv(self, x, cin, cout, k, prefix, stride=1, pad=None, group=1, bias=True,
             dilations=None, pads=None):
        w = self.randn(prefix + ".weight", [cout, cin // group, k, k])
        ins = [x, w]
        if bias:
            ins.append(self.init(prefix + ".bias", (0.05 * self.rng.standard_normal(cout)).astype(np.float32)))
        if pads is None:
            p = (k // 2) if pad is None else pad
            pads = [p, p, p, p]
        attrs = dict(kernel_shape=[k, k], strides=[stride, stride], pads=pads, group=group)
        if dilations:
            attrs["dilations"] = dilations
        return self.op("Conv", ins, name=prefix, **attrs)

    def model(self, inputs, outputs, doc="", opset=OPSET):
        graph = helper.make_graph(self.nodes, self.name, inputs, outputs, initializer=self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              ir_version=IR_VERSION, producer_name="glmc-gen_e2e",
                              producer_version="1")
        m.doc_string = doc
        return m


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

def build_mlp(name="mlp", seed=1):
    g = GraphBuilder(name, seed)
    x = "x"
    w1 = g.randn("fc1.weight", [128, 64])          # [out, in]: Gemm transB=1
    b1 = g.init("fc1.bias", (0.1 * g.rng.standard_normal(128)).astype(np.float32))
    h = g.op("Gemm", [x, w1, b1], name="fc1", transB=1, alpha=1.0, beta=1.0)
    h = g.op("Relu", [h], name="fc1_relu")
    w2 = g.randn("fc2.weight", [128, 64], scale=1 / math.sqrt(128))  # [in, out]: MatMul
    b2 = g.init("fc2.bias", (0.1 * g.rng.standard_normal(64)).astype(np.float32))
    h = g.op("MatMul", [h, w2], name="fc2_matmul")
    h = g.op("Add", [h, b2], name="fc2_add")
    s = g.op("Sigmoid", [h], name="mix_sigmoid")
    t = g.op("Tanh", [h], name="mix_tanh")
    h = g.op("Mul", [s, t], name="mix_mul")                 # sigmoid(h)*tanh(h)
    h = g.op("Add", [h, s], name="mix_add")                 # + sigmoid(h)
    w3 = g.randn("fc3.weight", [64, 10], scale=1.0)
    b3 = g.init("fc3.bias", (0.1 * g.rng.standard_normal(10)).astype(np.float32))
    h = g.op("MatMul", [h, w3], name="fc3_matmul")
    h = g.op("Add", [h, b3], name="fc3_add")
    g.op("Softmax", [h], name="softmax", axis=-1)
    g.nodes[-1].output[0] = "y"
    m = g.model([vi("x", TensorProto.FLOAT, ["N", 64])], [vi("y", TensorProto.FLOAT, ["N", 10])],
                doc="MLP: Gemm+Relu, MatMul+Add, sigmoid/tanh mix, softmax")
    rng = np.random.default_rng(seed + 1000)
    inputs = [rng.standard_normal((4, 64)).astype(np.float32)]
    return m, inputs


def build_cnn_bn(seed=2):
    g = GraphBuilder("cnn_bn", seed)
    h = g.conv("x", 3, 16, 3, "stem.conv", bias=False)
    h = g.bn(h, 16, "stem.bn")
    h = g.op("Relu", [h], name="stem.relu")
    # block1: 16 -> 16, stride 1, identity skip
    skip = h
    r = g.conv(h, 16, 16, 3, "block1.conv1", bias=False)
    r = g.bn(r, 16, "block1.bn1")
    r = g.op("Relu", [r], name="block1.relu1")
    r = g.conv(r, 16, 16, 3, "block1.conv2", bias=False)
    r = g.bn(r, 16, "block1.bn2")
    h = g.op("Add", [r, skip], name="block1.add")
    h = g.op("Relu", [h], name="block1.relu_out")
    # block2: 16 -> 32, stride 2, 1x1 projection on the skip
    skip = g.conv(h, 16, 32, 1, "block2.proj.conv", stride=2, pad=0, bias=False)
    skip = g.bn(skip, 32, "block2.proj.bn")
    r = g.conv(h, 16, 32, 3, "block2.conv1", stride=2, bias=False)
    r = g.bn(r, 32, "block2.bn1")
    r = g.op("Relu", [r], name="block2.relu1")
    r = g.conv(r, 32, 32, 3, "block2.conv2", bias=False)
    r = g.bn(r, 32, "block2.bn2")
    h = g.op("Add", [r, skip], name="block2.add")
    h = g.op("Relu", [h], name="block2.relu_out")            # [1,32,16,16]
    h = g.op("MaxPool", [h], name="maxpool", kernel_shape=[2, 2], strides=[2, 2])  # [1,32,8,8]
    h = g.conv(h, 32, 32, 3, "dw.conv", group=32, bias=True)  # depthwise
    h = g.op("Relu", [h], name="dw.relu")
    h = g.op("GlobalAveragePool", [h], name="gap")            # [1,32,1,1]
    h = g.op("Flatten", [h], name="flatten", axis=1)          # [1,32]
    w = g.randn("fc.weight", [10, 32])
    b = g.init("fc.bias", (0.1 * g.rng.standard_normal(10)).astype(np.float32))
    g.op("Gemm", [h, w, b], name="fc", transB=1)
    g.nodes[-1].output[0] = "logits"
    m = g.model([vi("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                [vi("logits", TensorProto.FLOAT, [1, 10])],
                doc="residual CNN with inference-form BatchNormalization")
    rng = np.random.default_rng(seed + 1000)
    return m, [rng.standard_normal((1, 3, 32, 32)).astype(np.float32)]


def build_cnn_misc(seed=3):
    g = GraphBuilder("cnn_misc", seed)
    # dilated conv with asymmetric pads: [2,4,16,16] -> [2,8,15,15]
    c = g.conv("x", 4, 8, 3, "dconv", dilations=[2, 2], pads=[1, 2, 2, 1])
    # GELU, erf form as exporters write it
    d = g.op("Div", [c, g.const(np.array(math.sqrt(2.0), dtype=np.float32))], name="gelu.div")
    e = g.op("Erf", [d], name="gelu.erf")
    e = g.op("Add", [e, g.const(np.array(1.0, dtype=np.float32))], name="gelu.add")
    gl = g.op("Mul", [c, e], name="gelu.mul")
    gl = g.op("Mul", [gl, g.const(np.array(0.5, dtype=np.float32))], name="gelu.mul_half")
    # AveragePool with pads, count_include_pad=0: [2,8,15,15] -> [2,8,8,8]
    a = g.op("AveragePool", [gl], name="avgpool_pad", kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 1, 1, 1], count_include_pad=0)
    # second branch from the input: AveragePool 2x2 + Sigmoid: [2,4,8,8]
    s = g.op("AveragePool", [ "x"], name="avgpool_in", kernel_shape=[2, 2], strides=[2, 2])
    s = g.op("Sigmoid", [s], name="in_sigmoid")
    cat = g.op("Concat", [a, s], name="concat", axis=1)      # [2,12,8,8]
    # instance-norm-like: broadcasting Sub/Mul/Div with ReduceMean keepdims=1
    mean = g.op("ReduceMean", [cat], name="rm_mean", axes=[2, 3], keepdims=1)
    cen = g.op("Sub", [cat, mean], name="center")
    sq = g.op("Mul", [cen, cen], name="square")
    var = g.op("ReduceMean", [sq], name="rm_var", axes=[2, 3], keepdims=1)
    var = g.op("Add", [var, g.const(np.array(1e-5, dtype=np.float32))], name="var_eps")
    std = g.op("Sqrt", [var], name="std")
    nrm = g.op("Div", [cen, std], name="normalize")
    gamma = g.init("gamma", (1.0 + 0.2 * g.rng.standard_normal((12, 1, 1))).astype(np.float32))
    nrm = g.op("Mul", [nrm, gamma], name="scale")
    feat = g.op("Tanh", [nrm], name="feat_tanh")
    g.nodes[-1].output[0] = "feat"
    # Transpose + Reshape with 0 and -1, MatMul, ReduceMean keepdims=0
    t = g.op("Transpose", ["feat"], name="to_nhwc", perm=[0, 2, 3, 1])     # [2,8,8,12]
    shp = g.init("reshape_shape", np.array([0, -1, 12], dtype=np.int64))
    r = g.op("Reshape", [t, shp], name="reshape")                         # [2,64,12]
    w = g.randn("proj.weight", [12, 6])
    p = g.op("MatMul", [r, w], name="proj")                               # [2,64,6]
    g.op("ReduceMean", [p], name="pool_tokens", axes=[1], keepdims=0)     # [2,6]
    g.nodes[-1].output[0] = "y"
    m = g.model([vi("x", TensorProto.FLOAT, [2, 4, 16, 16])],
                [vi("y", TensorProto.FLOAT, [2, 6]), vi("feat", TensorProto.FLOAT, [2, 12, 8, 8])],
                doc="op coverage: dilated conv, asym pads, erf-GELU, avgpool pads, concat, "
                    "reduce-mean, broadcasting, transpose, reshape 0/-1; two outputs")
    rng = np.random.default_rng(seed + 1000)
    return m, [rng.standard_normal((2, 4, 16, 16)).astype(np.float32)]


def build_shape_ops(seed=5):
    g = GraphBuilder("shape_ops", seed)
    i64 = lambda v: np.array(v, dtype=np.int64)
    shp = g.op("Shape", ["x"], name="shape_x")                               # [3]
    B = g.op("Gather", [shp, g.const(i64(0))], name="gather_b", axis=0)      # scalar
    S = g.op("Gather", [shp, g.const(i64(1))], name="gather_s", axis=0)      # scalar
    axes0 = g.const(i64([0]), name="axes0")
    B1 = g.op("Unsqueeze", [B, axes0], name="unsq_b")                        # [1]
    S1 = g.op("Unsqueeze", [S, axes0], name="unsq_s")                        # [1]
    # position ramp: Range(0, S, 1) -> Cast -> Unsqueeze to [1,S,1]
    r = g.op("Range", [g.const(i64(0)), S, g.const(i64(1))], name="range_s")  # [S] int64
    rf = g.op("Cast", [r], name="cast_pos", to=TensorProto.FLOAT)
    pos = g.op("Unsqueeze", [rf, g.const(i64([0, 2]))], name="unsq_pos")   # [1,S,1]
    pos = g.op("Mul", [pos, g.const(np.array(0.01, dtype=np.float32))], name="pos_scale")
    y = g.op("Add", ["x", pos], name="add_pos")                              # [B,S,16]
    # Reshape to [B*S,16] with a computed shape, MatMul, reshape back
    BS = g.op("Mul", [B1, S1], name="mul_bs")
    shp2 = g.op("Concat", [BS, g.const(i64([16]))], name="concat_flat", axis=0)
    y2 = g.op("Reshape", [y, shp2], name="reshape_flat")                     # [B*S,16]
    w = g.randn("proj.weight", [16, 8])
    h = g.op("MatMul", [y2, w], name="proj")                                 # [B*S,8]
    shp3 = g.op("Concat", [B1, S1, g.const(i64([8]))], name="concat_back", axis=0)
    h = g.op("Reshape", [h, shp3], name="reshape_back")                      # [B,S,8]
    # mixing matrix [S,S] from Equal/Expand/Where over the position range
    ri = g.op("Unsqueeze", [r, g.const(i64([1]))], name="unsq_ri")           # [S,1]
    rj = g.op("Unsqueeze", [r, axes0], name="unsq_rj")                       # [1,S]
    SS = g.op("Concat", [S1, S1], name="concat_ss", axis=0)
    rie = g.op("Expand", [ri, SS], name="expand_ri")                          # [S,S]
    eq = g.op("Equal", [rie, rj], name="eq_diag")                            # bool [S,S]
    zeros = g.op("ConstantOfShape", [SS], name="zeros_ss",
                 value=numpy_helper.from_array(np.array([0.1], dtype=np.float32), "v"))
    mix = g.op("Where", [eq, g.const(np.array(1.0, dtype=np.float32)), zeros], name="where_mix")
    z = g.op("MatMul", [mix, h], name="mix_tokens")                          # [B,S,8]
    # outputs: slice on the channel axis, and the last token squeezed
    g.op("Slice", [z, g.const(i64([0])), g.const(i64([4])), g.const(i64([2]))], name="slice_ch")
    g.nodes[-1].output[0] = "y"
    last = g.op("Slice", [z, g.const(i64([-1])), g.const(i64([np.iinfo(np.int64).max])),
                          g.const(i64([1]))], name="slice_last")               # [B,1,8]
    g.op("Squeeze", [last, g.const(i64([1]))], name="squeeze_last")          # [B,8]
    g.nodes[-1].output[0] = "last"
    m = g.model([vi("x", TensorProto.FLOAT, ["B", "S", 16])],
                [vi("y", TensorProto.FLOAT, ["B", "S", 4]), vi("last", TensorProto.FLOAT, ["B", 8])],
                doc="shape subgraphs (Shape/Gather/Unsqueeze/Concat/Reshape, Range, Expand, "
                    "Where, ConstantOfShape, Slice, Squeeze) with dynamic B and S")
    rng = np.random.default_rng(seed + 1000)
    return m, [rng.standard_normal((2, 5, 16)).astype(np.float32)]


def build_decoder_ops(seed=6):
    """The decoder-fusion variants tiny-glm does not have: RMSNorm spelled
    x*x and x/sqrt, NeoX rotate_half RoPE on the whole head with concat(c, c)
    tables, multi-head attention (no GQA) scaled by a Div and unmasked, and
    a SwiGLU MLP with the up half first."""
    g = GraphBuilder("decoder_ops", seed)
    i64 = lambda v: np.array(v, dtype=np.int64)
    hid, heads, hd, ffn = 16, 2, 8, 12
    # RMSNorm: x / sqrt(mean(x*x) + eps) * w
    sq = g.op("Mul", ["x", "x"], name="norm_sq")
    ms = g.op("ReduceMean", [sq], name="norm_mean", axes=[-1], keepdims=1)
    ad = g.op("Add", [ms, g.const(np.array(1e-6, dtype=np.float32))], name="norm_eps")
    rt = g.op("Sqrt", [ad], name="norm_sqrt")
    nx = g.op("Div", ["x", rt], name="norm_div")
    wn = g.init("norm.weight", (1.0 + 0.1 * g.rng.standard_normal(hid)).astype(np.float32))
    h = g.op("Mul", [nx, wn], name="norm_scale")
    # q, k, v projections -> [B, heads, S, hd]
    def heads_of(t, name):
        r = g.op("Reshape", [t, g.const(i64([0, 0, heads, hd]))], name=name + "_reshape")
        return g.op("Transpose", [r], name=name + "_transpose", perm=[0, 2, 1, 3])
    q = g.op("Add", [g.op("MatMul", [h, g.randn("q.weight", [hid, hid])], name="q_proj"),
                     g.init("q.bias", (0.1 * g.rng.standard_normal(hid)).astype(np.float32))], name="q_bias")
    k = g.op("MatMul", [h, g.randn("k.weight", [hid, hid])], name="k_proj")
    v = g.op("MatMul", [h, g.randn("v.weight", [hid, hid])], name="v_proj")
    q, k, v = heads_of(q, "q"), heads_of(k, "k"), heads_of(v, "v")
    # RoPE tables [1, 1, S, hd/2] from positions 0..S-1
    shp = g.op("Shape", ["x"], name="shape_x")
    S = g.op("Gather", [shp, g.const(i64(1))], name="gather_s", axis=0)
    pos = g.op("Cast", [g.op("Range", [g.const(i64(0)), S, g.const(i64(1))], name="range_pos")],
               name="cast_pos", to=TensorProto.FLOAT)
    pos = g.op("Unsqueeze", [pos, g.const(i64([1]))], name="unsq_pos")               # [S, 1]
    inv = (1.0 / (10000.0 ** (np.arange(0, hd, 2, dtype=np.float32) / hd))).astype(np.float32)
    fr = g.op("Mul", [pos, g.const(inv)], name="freqs")                                 # [S, hd/2]
    fr = g.op("Unsqueeze", [fr, g.const(i64([0, 1]))], name="unsq_freqs")            # [1, 1, S, hd/2]
    cos = g.op("Concat", [g.op("Cos", [fr], name="cos")] * 2, name="cos_rep", axis=-1)
    sin = g.op("Concat", [g.op("Sin", [fr], name="sin")] * 2, name="sin_rep", axis=-1)
    def rope(t, name):
        lo = g.op("Slice", [t, g.const(i64([0])), g.const(i64([hd // 2])), g.const(i64([-1]))], name=name + "_lo")
        hi = g.op("Slice", [t, g.const(i64([hd // 2])), g.const(i64([hd])), g.const(i64([-1]))], name=name + "_hi")
        rot = g.op("Concat", [g.op("Neg", [hi], name=name + "_neg"), lo], name=name + "_rot", axis=-1)
        return g.op("Add", [g.op("Mul", [t, cos], name=name + "_cos"), g.op("Mul", [rot, sin], name=name + "_sin")],
                    name=name + "_rope")
    q, k = rope(q, "q"), rope(k, "k")
    kt = g.op("Transpose", [k], name="k_t", perm=[0, 1, 3, 2])
    sc = g.op("Div", [g.op("MatMul", [q, kt], name="scores"), g.const(np.array(math.sqrt(hd), dtype=np.float32))],
              name="scores_scale")
    p = g.op("Softmax", [sc], name="softmax", axis=-1)
    o = g.op("Transpose", [g.op("MatMul", [p, v], name="attn_v")], name="attn_t", perm=[0, 2, 1, 3])
    o = g.op("Reshape", [o, g.const(i64([0, 0, hid]))], name="attn_merge")
    o = g.op("MatMul", [o, g.randn("o.weight", [hid, hid])], name="o_proj")
    r = g.op("Add", ["x", o], name="residual")
    # SwiGLU, up half first, silu as g * sigmoid(g)
    gu = g.op("MatMul", [r, g.randn("gate_up.weight", [hid, 2 * ffn])], name="gate_up_proj")
    up = g.op("Slice", [gu, g.const(i64([0])), g.const(i64([ffn])), g.const(i64([-1]))], name="up")
    gt = g.op("Slice", [gu, g.const(i64([ffn])), g.const(i64([2 * ffn])), g.const(i64([-1]))], name="gate")
    act = g.op("Mul", [gt, g.op("Sigmoid", [gt], name="gate_sigmoid")], name="gate_silu")
    m = g.op("MatMul", [g.op("Mul", [up, act], name="gated"), g.randn("down.weight", [ffn, hid])], name="down_proj")
    g.op("Add", [r, m], name="residual_mlp")
    g.nodes[-1].output[0] = "y"
    model = g.model([vi("x", TensorProto.FLOAT, ["B", "S", hid])], [vi("y", TensorProto.FLOAT, ["B", "S", hid])],
                    doc="decoder block variants for the fusions: RMSNorm (x*x, x/sqrt), NeoX RoPE, "
                        "MHA with Div scale and no mask, SwiGLU with up first")
    rng = np.random.default_rng(seed + 1000)
    return model, [rng.standard_normal((2, 5, hid)).astype(np.float32)]


def build_decoder_ops23(seed=7):
    """Opset 23's native decoder ops, imported straight into the fused glm
    ops: RMSNormalization, RotaryEmbedding on 3-d inputs with position_ids
    (interleaved for Q, half-split for K), grouped-query Attention on 3-d
    inputs (2 query heads over 1 K/V head) with a KV cache (past_key/value
    in, present_key/value out) and is_causal."""
    g = GraphBuilder("decoder_ops23", seed)
    hid, qh, kvh, hd, maxpos = 16, 2, 1, 8, 32
    wn = g.init("norm.weight", (1.0 + 0.1 * g.rng.standard_normal(hid)).astype(np.float32))
    h = g.op("RMSNormalization", ["x", wn], name="norm", epsilon=1e-5, axis=-1)
    q = g.op("MatMul", [h, g.randn("q.weight", [hid, qh * hd])], name="q_proj")
    k = g.op("MatMul", [h, g.randn("k.weight", [hid, kvh * hd])], name="k_proj")
    v = g.op("MatMul", [h, g.randn("v.weight", [hid, kvh * hd])], name="v_proj")
    inv = 1.0 / (10000.0 ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    ang = np.arange(maxpos, dtype=np.float64)[:, None] * inv[None, :]
    cos = g.init("rope.cos", np.cos(ang).astype(np.float32))
    sin = g.init("rope.sin", np.sin(ang).astype(np.float32))
    q = g.op("RotaryEmbedding", [q, cos, sin, "position_ids"], name="q_rope", num_heads=qh, interleaved=1)
    k = g.op("RotaryEmbedding", [k, cos, sin, "position_ids"], name="k_rope", num_heads=kvh, interleaved=0)
    y, pk, pv = g.op("Attention", [q, k, v, "", "past_key", "past_value"], n_out=3, name="attn",
                     q_num_heads=qh, kv_num_heads=kvh, is_causal=1)
    g.nodes[-1].output[1] = "present_key"
    g.nodes[-1].output[2] = "present_value"
    g.op("MatMul", [y, g.randn("o.weight", [qh * hd, hid])], name="o_proj")
    g.nodes[-1].output[0] = "y"
    graph = helper.make_graph(g.nodes, g.name,
                              [vi("x", TensorProto.FLOAT, ["B", "S", hid]),
                               vi("position_ids", TensorProto.INT64, ["B", "S"]),
                               vi("past_key", TensorProto.FLOAT, ["B", kvh, "P", hd]),
                               vi("past_value", TensorProto.FLOAT, ["B", kvh, "P", hd])],
                              [vi("y", TensorProto.FLOAT, ["B", "S", hid]),
                               vi("present_key", TensorProto.FLOAT, ["B", kvh, "T", hd]),
                               vi("present_value", TensorProto.FLOAT, ["B", kvh, "T", hd])],
                              initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 23)], ir_version=10,
                              producer_name="glmc-gen_e2e", producer_version="1")
    model.doc_string = ("opset 23 RMSNormalization, RotaryEmbedding (3-d, position_ids, both "
                        "pairings), causal GQA Attention with a KV cache")
    rng = np.random.default_rng(seed + 1000)
    b, s, past = 2, 4, 3
    pos = np.tile(np.arange(past, past + s, dtype=np.int64), (b, 1))
    return model, [rng.standard_normal((b, s, hid)).astype(np.float32), pos,
                   rng.standard_normal((b, kvh, past, hd)).astype(np.float32),
                   rng.standard_normal((b, kvh, past, hd)).astype(np.float32)]


# --------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------

def build_index_ops(seed=11):
    """Index and reduction ops of detectors and text models: ArgMax/ArgMin
    (keepdims and select_last_index), CumSum (position ids from a mask,
    exclusive and reverse), OneHot, BitShift, ReduceL2/L1/LogSumExp/
    SumSquare, DepthToSpace (both modes), SpaceToDepth, Dropout's mask."""
    g = GraphBuilder("index_ops", seed)
    i64 = lambda v: np.array(v, dtype=np.int64)
    am = g.op("ArgMax", ["x"], name="argmax", axis=1, keepdims=0)
    an = g.op("ArgMin", ["x"], name="argmin", axis=-3, keepdims=1, select_last_index=1)
    g.op("Add", [g.op("Cast", [am], name="am_f", to=TensorProto.FLOAT),
                 g.op("Reshape", [g.op("Cast", [an], name="an_f", to=TensorProto.FLOAT),
                                  g.const(i64([2, 8, 8]))], name="an_r")], name="args")
    g.nodes[-1].output[0] = "args"
    pos = g.op("CumSum", ["mask", g.const(i64(1))], name="cumsum")
    pos_ex = g.op("CumSum", ["mask", g.const(i64(-1))], name="cumsum_ex_rev", exclusive=1, reverse=1)
    g.op("Add", [pos, pos_ex], name="positions")
    g.nodes[-1].output[0] = "positions"
    oh = g.op("OneHot", [am, g.const(i64(16)), g.const(np.array([0.0, 2.5], np.float32))],
              name="onehot", axis=1)
    g.op("ReduceSum", [oh, g.const(i64([3]))], name="onehot_sum", keepdims=0)
    g.nodes[-1].output[0] = "onehot"
    sh = g.op("BitShift", [g.const(np.array([1, 2, 3, 200], np.uint8)),
                           g.const(np.array([1, 2, 3, 1], np.uint8))], name="shl", direction="LEFT")
    shr = g.op("BitShift", [sh, g.const(np.array([1], np.uint8))], name="shr", direction="RIGHT")
    g.op("Cast", [shr], name="shifts", to=TensorProto.FLOAT)
    g.nodes[-1].output[0] = "shifts"
    l2 = g.op("ReduceL2", ["x"], name="l2", axes=[1, 2], keepdims=0)
    l1 = g.op("ReduceL1", ["x"], name="l1", axes=[1], keepdims=0)
    lse = g.op("ReduceLogSumExp", ["x"], name="lse", axes=[1], keepdims=0)
    ss = g.op("ReduceSumSquare", ["x"], name="ss", axes=[1], keepdims=0)
    norms = g.op("Add", [g.op("Add", [l1, lse], name="n1"), ss], name="n2")
    g.op("Add", [g.op("Reshape", [l2, g.const(i64([2, 1, 8]))], name="l2r"), norms], name="norms")
    g.nodes[-1].output[0] = "norms"
    d2s = g.op("DepthToSpace", ["x"], name="d2s", blocksize=2)
    d2s_crd = g.op("DepthToSpace", ["x"], name="d2s_crd", blocksize=2, mode="CRD")
    s2d = g.op("SpaceToDepth", [g.op("Add", [d2s, d2s_crd], name="d2s_sum")], name="s2d", blocksize=2)
    y, mask = g.op("Dropout", [s2d], n_out=2, name="dropout")
    g.op("Where", [mask, y, g.const(np.array(-1.0, np.float32))], name="dropped")
    g.nodes[-1].output[0] = "space"
    m = g.model([vi("x", TensorProto.FLOAT, [2, 16, 8, 8]), vi("mask", TensorProto.INT64, [2, 12])],
                [vi("args", TensorProto.FLOAT, [2, 8, 8]), vi("positions", TensorProto.INT64, [2, 12]),
                 vi("onehot", TensorProto.FLOAT, [2, 16, 8]), vi("shifts", TensorProto.FLOAT, [4]),
                 vi("norms", TensorProto.FLOAT, [2, 8, 8]), vi("space", TensorProto.FLOAT, [2, 16, 8, 8])],
                doc="ArgMax/ArgMin, CumSum, OneHot, BitShift, ReduceL2/L1/LogSumExp/SumSquare, "
                    "DepthToSpace, SpaceToDepth, Dropout mask")
    rng = np.random.default_rng(seed + 1000)
    x = rng.standard_normal((2, 16, 8, 8)).astype(np.float32)
    mask = (rng.uniform(size=(2, 12)) > 0.3).astype(np.int64)
    return m, [x, mask]


def build_resnet_basic(seed=10):
    """torchvision's ResNet-18 topology at small widths: 7x7/2 stem, BN,
    max pool, four stages of two BasicBlocks (the first block of stage 1
    has an identity skip, so the stem's channels are tied to the whole
    stage; later stages start with a strided 1x1 projection), global
    average pool, fc. --prune 0.4 on this topology once failed to trim fc
    (issue 15)."""
    g = GraphBuilder("resnet_basic", seed)
    widths = (8, 16, 24, 32)
    h = g.conv("x", 3, widths[0], 7, "conv1", stride=2, pad=3, bias=False)
    h = g.op("Relu", [g.bn(h, widths[0], "bn1")], name="relu")
    h = g.op("MaxPool", [h], name="maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = widths[0]
    for s, w in enumerate(widths):
        for b in range(2):
            stride = 2 if s > 0 and b == 0 else 1
            p = f"layer{s + 1}.{b}"
            r = g.bn(g.conv(h, cin, w, 3, p + ".conv1", stride=stride, bias=False), w, p + ".bn1")
            r = g.op("Relu", [r], name=p + ".relu1")
            r = g.bn(g.conv(r, w, w, 3, p + ".conv2", bias=False), w, p + ".bn2")
            skip = h
            if stride != 1 or cin != w:
                skip = g.conv(h, cin, w, 1, p + ".downsample.0", stride=stride, pad=0, bias=False)
                skip = g.bn(skip, w, p + ".downsample.1")
            h = g.op("Relu", [g.op("Add", [r, skip], name=p + ".add")], name=p + ".relu2")
            cin = w
    h = g.op("Flatten", [g.op("GlobalAveragePool", [h], name="avgpool")], name="flatten", axis=1)
    wt = g.randn("fc.weight", [10, cin])
    bt = g.init("fc.bias", (0.1 * g.rng.standard_normal(10)).astype(np.float32))
    g.op("Gemm", [h, wt, bt], name="fc", transB=1)
    g.nodes[-1].output[0] = "logits"
    m = g.model([vi("x", TensorProto.FLOAT, [1, 3, 64, 64])], [vi("logits", TensorProto.FLOAT, [1, 10])],
                doc="ResNet-18 topology (BasicBlock, [2, 2, 2, 2]) at widths 8-32")
    rng = np.random.default_rng(seed + 1000)
    return m, [rng.standard_normal((1, 3, 64, 64)).astype(np.float32)]


def build_exporter_ops(seed=8):
    """Ops that today's exporters write and the older models here do not:
    HardSwish (MobileNetV3), PRelu, Mish (opset 18), Elu, Selu, Sign,
    Round, IsNaN/IsInf with Where (transformers' mask code), Xor, GatherND
    with a batch dim and GatherElements (the dynamo exporter), Mod in both
    modes, Resize with antialias (torchvision). NaN and inf appear inside
    the graph only (x/0 and inf-inf), so the outputs are finite."""
    g = GraphBuilder("exporter_ops", seed)
    f32 = lambda v: np.array(v, dtype=np.float32)
    i64 = lambda v: np.array(v, dtype=np.int64)
    hs = g.op("HardSwish", ["x"], name="hardswish")
    slope = g.init("prelu.slope", f32(g.rng.uniform(0.05, 0.3, (3, 1, 1))))
    pr = g.op("PRelu", [hs, slope], name="prelu")
    mi = g.op("Mish", [pr], name="mish")
    el = g.op("Elu", [mi], name="elu", alpha=0.7)
    se = g.op("Selu", [el], name="selu")
    sg = g.op("Sign", ["x"], name="sign")
    rd = g.op("Round", [g.op("Mul", ["x", g.const(f32(3.0))], name="scale3")], name="round")
    y = g.op("Add", [g.op("Add", [se, sg], name="sum1"), rd], name="sum2")
    g.nodes[-1].output[0] = "act"
    # x / z with zeros in z: +-inf there, and inf - inf = NaN.
    z = g.init("div.z", f32([1.0, 0.0, 2.0, 0.0, 0.5, 1.0, 0.0, 4.0]))
    d = g.op("Div", ["x", z], name="div_z")
    nan = g.op("IsNaN", [g.op("Sub", [d, d], name="inf_minus_inf")], name="isnan")
    pinf = g.op("IsInf", [d], name="isposinf", detect_negative=0)
    ninf = g.op("IsInf", [d], name="isneginf", detect_positive=0)
    bad = g.op("Or", [nan, g.op("Or", [pinf, ninf], name="or_inf")], name="or_bad")
    clean = g.op("Where", [bad, g.const(f32(0.0)), d], name="where_clean")
    xo = g.op("Cast", [g.op("Xor", [pinf, nan], name="xor")], name="cast_xor", to=TensorProto.FLOAT)
    g.op("Add", [clean, xo], name="masked")
    g.nodes[-1].output[0] = "masked"
    # GatherND over [2, 24, 8] with one batch dim: rows (c*8+h) picked per batch.
    xf = g.op("Reshape", ["x", g.const(i64([2, 24, 8]))], name="flat_rows")
    ind = g.init("gnd.indices", i64([[[3], [-1], [0], [17]], [[5], [5], [-24], [12]]]))
    g.op("GatherND", [xf, ind], name="gathernd", batch_dims=1)
    g.nodes[-1].output[0] = "rows"
    ind2 = g.init("ge.indices", g.rng.integers(-8, 8, (2, 3, 8, 3)).astype(np.int64))
    g.op("GatherElements", ["x", ind2], name="gatherelements", axis=3)
    g.nodes[-1].output[0] = "picked"
    # Mod: Python's % on ints (the divisor's sign), C's fmod on floats.
    xi = g.op("Cast", [g.op("Round", [g.op("Mul", ["x", g.const(f32(7.0))], name="scale7")],
                                name="round7")], name="to_int", to=TensorProto.INT32)
    di = g.init("mod.divisor", np.array([3, -3, 4, -5, 2, 7, -2, 5], dtype=np.int32))
    mi_ = g.op("Cast", [g.op("Mod", [xi, di], name="mod_int")], name="mod_to_float", to=TensorProto.FLOAT)
    mf = g.op("Mod", ["x", g.const(f32([0.3, -0.7, 0.5, 1.1, -0.2, 0.9, 0.4, -1.3]))],
              name="mod_float", fmod=1)
    g.op("Add", [mi_, mf], name="mods")
    g.nodes[-1].output[0] = "mods"
    # torchvision's resize(antialias=True): Resize-18 with antialias, cubic.
    g.op("Resize", ["x", "", g.const(f32([1, 1, 0.5, 0.375]))], name="resize_aa", mode="cubic",
         antialias=1)
    g.nodes[-1].output[0] = "small"
    m = g.model([vi("x", TensorProto.FLOAT, [2, 3, 8, 8])],
                [vi("act", TensorProto.FLOAT, [2, 3, 8, 8]), vi("masked", TensorProto.FLOAT, [2, 3, 8, 8]),
                 vi("rows", TensorProto.FLOAT, [2, 4, 8]), vi("picked", TensorProto.FLOAT, [2, 3, 8, 3]),
                 vi("mods", TensorProto.FLOAT, [2, 3, 8, 8]), vi("small", TensorProto.FLOAT, [2, 3, 4, 3])],
                doc="exporter ops: HardSwish, PRelu, Mish, Elu, Selu, Sign, Round, IsNaN, IsInf, Xor, "
                    "GatherND, GatherElements, Mod, Resize antialias", opset=18)
    rng = np.random.default_rng(seed + 1000)
    return m, [(2.0 * rng.standard_normal((2, 3, 8, 8))).astype(np.float32)]


def build_detector_head(seed=9):
    """A YOLO-style neck and head: a stride-2 branch upsampled back with
    Resize nearest (scales, opset 13 defaults) and concatenated with the
    stride-1 map, a 1x1 prediction conv, sigmoid, and the grid decode
    (Range/Expand grid, (sig*2 - 0.5 + grid) * stride, (sig*2)^2 * anchor).
    A second output resizes with linear/align_corners to given sizes and a
    third with linear/half_pixel by a non-integer scale."""
    g = GraphBuilder("detector_head", seed)
    f32 = lambda v: np.array(v, dtype=np.float32)
    i64 = lambda v: np.array(v, dtype=np.int64)
    c1 = g.op("Relu", [g.conv("x", 8, 16, 3, "p3.conv")], name="p3.relu")               # [1,16,16,16]
    c2 = g.op("Relu", [g.conv(c1, 16, 16, 3, "p4.conv", stride=2)], name="p4.relu")     # [1,16,8,8]
    up = g.op("Resize", [c2, "", g.const(f32([1, 1, 2, 2]))], name="p4.upsample", mode="nearest")
    cat = g.op("Concat", [c1, up], name="neck.concat", axis=1)                          # [1,32,16,16]
    na, no = 2, 6  # anchors, outputs per anchor (x, y, w, h, obj, cls)
    pred = g.conv(cat, 32, na * no, 1, "head.conv", pad=0)                              # [1,12,16,16]
    p = g.op("Reshape", [pred, g.const(i64([1, na, no, 16, 16]))], name="head.reshape")
    p = g.op("Transpose", [p], name="head.permute", perm=[0, 1, 3, 4, 2])              # [1,2,16,16,6]
    sg = g.op("Sigmoid", [p], name="head.sigmoid")
    xy = g.op("Slice", [sg, g.const(i64([0])), g.const(i64([2])), g.const(i64([4]))], name="head.xy")
    wh = g.op("Slice", [sg, g.const(i64([2])), g.const(i64([4])), g.const(i64([4]))], name="head.wh")
    rest = g.op("Slice", [sg, g.const(i64([4])), g.const(i64([6])), g.const(i64([4]))], name="head.rest")
    r = g.op("Cast", [g.op("Range", [g.const(i64(0)), g.const(i64(16)), g.const(i64(1))], name="grid.range")],
             name="grid.cast", to=TensorProto.FLOAT)
    gx = g.op("Expand", [g.op("Reshape", [r, g.const(i64([1, 16, 1]))], name="grid.gx_r"),
                         g.const(i64([16, 16, 1]))], name="grid.gx")
    gy = g.op("Expand", [g.op("Reshape", [r, g.const(i64([16, 1, 1]))], name="grid.gy_r"),
                         g.const(i64([16, 16, 1]))], name="grid.gy")
    grid = g.op("Concat", [gx, gy], name="grid.concat", axis=2)                          # [16,16,2]
    xy = g.op("Sub", [g.op("Mul", [xy, g.const(f32(2.0))], name="xy.mul2"), g.const(f32(0.5))], name="xy.sub")
    xy = g.op("Mul", [g.op("Add", [xy, grid], name="xy.grid"), g.const(f32(8.0))], name="xy.stride")
    anchors = g.init("head.anchors", f32([[[[[10.0, 13.0]]]], [[[[16.0, 30.0]]]]]).reshape(1, 2, 1, 1, 2))
    w2 = g.op("Mul", [wh, g.const(f32(2.0))], name="wh.mul2")
    wh = g.op("Mul", [g.op("Mul", [w2, w2], name="wh.sq"), anchors], name="wh.anchor")
    dec = g.op("Concat", [xy, wh, rest], name="head.decode", axis=4)
    g.op("Reshape", [dec, g.const(i64([1, -1, no]))], name="head.flatten")
    g.nodes[-1].output[0] = "boxes"
    g.op("Resize", [c2, "", "", g.const(i64([1, 16, 13, 21]))], name="seg.resize",
         mode="linear", coordinate_transformation_mode="align_corners")
    g.nodes[-1].output[0] = "seg"
    g.op("Resize", [c2, "", g.const(f32([1, 1, 1.5, 2.5]))], name="seg.resize_hp", mode="linear")
    g.nodes[-1].output[0] = "seg_hp"
    m = g.model([vi("x", TensorProto.FLOAT, [1, 8, 16, 16])],
                [vi("boxes", TensorProto.FLOAT, [1, 512, 6]), vi("seg", TensorProto.FLOAT, [1, 16, 13, 21]),
                 vi("seg_hp", TensorProto.FLOAT, [1, 16, 12, 20])],
                doc="YOLO-style neck and head: Resize nearest, Concat, Sigmoid, grid decode; "
                    "linear Resize with sizes/align_corners and half_pixel scales")
    rng = np.random.default_rng(seed + 1000)
    return m, [rng.standard_normal((1, 8, 16, 16)).astype(np.float32)]


def simple_model(nodes, inputs, outputs, inits=(), name="bad", opset=OPSET, extra_opsets=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    return helper.make_model(graph, opset_imports=ops, ir_version=IR_VERSION,
                             producer_name="glmc-gen_e2e")


def write_bad(outdir, good_bytes):
    """Returns {file: description}."""
    bad = {}

    def save(name, model_or_bytes, what, **extra):
        path = os.path.join(outdir, name)
        if isinstance(model_or_bytes, (bytes, bytearray)):
            with open(path, "wb") as f:
                f.write(model_or_bytes)
        else:
            with open(path, "wb") as f:
                f.write(model_or_bytes.SerializeToString())
        bad[name] = dict(problem=what, **extra)

    save("bad_truncated.onnx", good_bytes["cnn_bn.onnx"][: len(good_bytes["cnn_bn.onnx"]) // 2],
         "cnn_bn.onnx cut at half its bytes (protobuf parse error)")
    save("bad_empty.onnx", b"", "zero-byte file")
    save("bad_not_onnx.onnx", b"this is not an ONNX model\njust some text\n",
         "a text file, not a protobuf")

    x = vi("x", TensorProto.FLOAT, [1, 4])
    y = vi("y", TensorProto.FLOAT, [1, 4])

    # valid model with an op the compiler does not support (NonMaxSuppression)
    boxes = vi("boxes", TensorProto.FLOAT, [1, 6, 4])
    scores = vi("scores", TensorProto.FLOAT, [1, 1, 6])
    sel = vi("selected", TensorProto.INT64, ["K", 3])
    m = simple_model(
        [helper.make_node("NonMaxSuppression", ["boxes", "scores", "max_out"], ["selected"],
                          name="nms_unsupported", center_point_box=0)],
        [boxes, scores], [sel],
        inits=[numpy_helper.from_array(np.array([3], dtype=np.int64), "max_out")], name="bad_nms")
    onnx.checker.check_model(m)
    save("bad_unsupported_op.onnx", m, "valid model; NonMaxSuppression is unsupported",
         node="nms_unsupported", op="NonMaxSuppression")

    # custom-domain op
    m = simple_model([helper.make_node("FancyOp", ["x"], ["y"], name="custom_fancy",
                                       domain="com.example.glmc")],
                     [x], [y], name="bad_custom", extra_opsets=[("com.example.glmc", 1)])
    save("bad_custom_domain.onnx", m, "op FancyOp from unknown domain com.example.glmc",
         node="custom_fancy", op="com.example.glmc.FancyOp")

    # external data problems
    ext = onnx.ModelProto()
    ext.ParseFromString(good_bytes["mlp_ext.onnx"])
    missing = onnx.ModelProto()
    missing.CopyFrom(ext)
    for t in missing.graph.initializer:
        for kv in t.external_data:
            if kv.key == "location":
                kv.value = "bad_missing_external.weights"   # does not exist
    save("bad_missing_external.onnx", missing,
         "mlp_ext.onnx whose external weights file (bad_missing_external.weights) is absent")

    trav = onnx.ModelProto()
    trav.CopyFrom(ext)
    for t in trav.graph.initializer:
        for kv in t.external_data:
            if kv.key == "location":
                kv.value = "../../etc/passwd"
    save("bad_external_traversal.onnx", trav,
         "external data location ../../etc/passwd (path traversal, must be refused)")

    absol = onnx.ModelProto()
    absol.CopyFrom(ext)
    for t in absol.graph.initializer:
        for kv in t.external_data:
            if kv.key == "location":
                kv.value = "/etc/passwd"
    save("bad_external_absolute.onnx", absol,
         "external data location /etc/passwd (absolute path, must be refused)")

    # offset/length past the end of the side file
    oob = onnx.ModelProto()
    oob.CopyFrom(ext)
    with open(os.path.join(outdir, "bad_external_oob.weights"), "wb") as f:
        f.write(b"\0" * 64)
    for t in oob.graph.initializer:
        for kv in t.external_data:
            if kv.key == "location":
                kv.value = "bad_external_oob.weights"
    save("bad_external_oob.onnx", oob,
         "external data offset/length past the end of bad_external_oob.weights (64 bytes)")

    # MatMul with inner dims that disagree
    m = simple_model([helper.make_node("MatMul", ["a", "w"], ["y"], name="bad_matmul")],
                     [vi("a", TensorProto.FLOAT, [2, 3])], [vi("y", TensorProto.FLOAT, [2, 5])],
                     inits=[numpy_helper.from_array(np.ones((4, 5), np.float32), "w")],
                     name="bad_shape")
    save("bad_shape.onnx", m, "MatMul [2,3] x [4,5]: inner dims disagree", node="bad_matmul")

    # cycle
    m = simple_model([helper.make_node("Add", ["x", "b"], ["a"], name="cycle_a"),
                      helper.make_node("Relu", ["a"], ["b"], name="cycle_b"),
                      helper.make_node("Identity", ["a"], ["y"], name="cycle_out")],
                     [x], [y], name="bad_cycle")
    save("bad_cycle.onnx", m, "graph has a cycle (cycle_a <-> cycle_b)", node="cycle_a")

    # dangling input
    m = simple_model([helper.make_node("Add", ["x", "never_produced"], ["y"], name="dangling_add")],
                     [x], [y], name="bad_dangling")
    save("bad_dangling_input.onnx", m, "node input 'never_produced' is never produced",
         node="dangling_add")

    # two nodes write the same value
    m = simple_model([helper.make_node("Relu", ["x"], ["t"], name="dup_a"),
                      helper.make_node("Sigmoid", ["x"], ["t"], name="dup_b"),
                      helper.make_node("Identity", ["t"], ["y"], name="dup_out")],
                     [x], [y], name="bad_duplicate")
    save("bad_duplicate_output.onnx", m, "value 't' is produced by two nodes (not SSA)",
         node="dup_b")

    # graph output never produced
    m = simple_model([helper.make_node("Relu", ["x"], ["t"], name="relu")], [x], [y],
                     name="bad_missing_output")
    save("bad_missing_output.onnx", m, "graph output 'y' is produced by no node")

    # initializer whose raw data size does not match its dims
    w = TensorProto()
    w.name = "w"
    w.data_type = TensorProto.FLOAT
    w.dims.extend([4, 4])
    w.raw_data = b"\0" * 10
    m = simple_model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm_badinit")],
                     [x], [y], inits=[w], name="bad_init")
    save("bad_initializer_size.onnx", m, "initializer 'w' dims [4,4] but 10 bytes of raw_data",
         tensor="w")

    # an opset nobody knows
    m = simple_model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [x], [y],
                     name="bad_opset", opset=99)
    save("bad_opset_future.onnx", m, "default-domain opset 99 (unknown)")

    # wrong attribute type / missing required attribute
    m = simple_model([helper.make_node("Transpose", ["x"], ["y"], name="transpose_badperm",
                                       perm=[0, 5])],
                     [x], [vi("y", TensorProto.FLOAT, [1, 4])], name="bad_attr")
    save("bad_attribute.onnx", m, "Transpose perm=[0,5] out of range for rank 2",
         node="transpose_badperm")

    # a model with no graph at all
    m = onnx.ModelProto()
    m.ir_version = IR_VERSION
    m.opset_import.extend([helper.make_opsetid("", OPSET)])
    save("bad_no_graph.onnx", m, "ModelProto without a graph")
    return bad


# --------------------------------------------------------------------------

def run_ort(path, inputs):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, inputs)))


def io_desc(vis, arrays):
    out = []
    for v, a in zip(vis, arrays):
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or -1)
                for d in v.type.tensor_type.shape.dim]
        out.append(dict(name=v.name, dtype=str(a.dtype), dims=dims, sample_shape=list(a.shape)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    args = ap.parse_args(argv)
    outdir = args.outdir
    os.makedirs(outdir, exist_ok=True)

    models = [
        ("mlp", build_mlp("mlp", 1), None),
        ("cnn_bn", build_cnn_bn(), None),
        ("cnn_misc", build_cnn_misc(), None),
        ("mlp_ext", build_mlp("mlp_ext", 4), "mlp_ext.weights"),
        ("shape_ops", build_shape_ops(), None),
        ("decoder_ops", build_decoder_ops(), None),
        ("decoder_ops23", build_decoder_ops23(), None),
        ("exporter_ops", build_exporter_ops(), None),
        ("detector_head", build_detector_head(), None),
        ("resnet_basic", build_resnet_basic(), None),
        ("index_ops", build_index_ops(), None),
    ]
    manifest = {"generator": "test/models/gen_e2e.py", "opset": OPSET, "ir_version": IR_VERSION,
                "onnx": onnx.__version__, "naming": "<name>.in.<k>.npy / <name>.out.<k>.npy, "
                "k = position in graph.input / graph.output", "models": {}, "bad": {}}
    good_bytes = {}
    for name, (model, inputs), ext in models:
        path = os.path.join(outdir, name + ".onnx")
        if ext:
            wpath = os.path.join(outdir, ext)
            if os.path.exists(wpath):
                os.remove(wpath)  # onnx appends to an existing side file
            onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=ext, size_threshold=0)
            onnx.checker.check_model(path, full_check=True)
        else:
            onnx.save_model(model, path)
            onnx.checker.check_model(model, full_check=True)
        with open(path, "rb") as f:
            good_bytes[name + ".onnx"] = f.read()
        outs = run_ort(path, inputs)
        for k, a in enumerate(inputs):
            np.save(os.path.join(outdir, f"{name}.in.{k}.npy"), a)
        for k, a in enumerate(outs):
            np.save(os.path.join(outdir, f"{name}.out.{k}.npy"), a)
        manifest["models"][name] = dict(
            file=name + ".onnx", external_data=ext, doc=model.doc_string,
            inputs=io_desc(model.graph.input, inputs), outputs=io_desc(model.graph.output, outs),
            ops=sorted({n.op_type for n in model.graph.node}), tolerance=DEFAULT_TOL)
    manifest["bad"] = write_bad(outdir, good_bytes)
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    # digest, handy to check determinism
    h = hashlib.sha256()
    for fn in sorted(os.listdir(outdir)):
        p = os.path.join(outdir, fn)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                h.update(fn.encode() + b"\0" + f.read())
    print(f"gen_e2e: wrote {len(models)} models + {len(manifest['bad'])} bad inputs to {outdir} "
          f"(sha256 {h.hexdigest()[:16]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
