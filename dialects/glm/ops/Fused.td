//===- Fused.td - fused decoder ops ------------------------*- tablegen -*-===//
//
// Ops that the decoder fusion passes (passes/fusion/Fuse*.cpp) build from
// the decomposed chains exporters emit, and that the importer builds
// directly from ONNX opset 23's RMSNormalization, RotaryEmbedding and
// Attention. Each has one lowering in passes/lowering/linalg/Fused.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef GLM_OPS_FUSED_TD
#define GLM_OPS_FUSED_TD

include "dialects/glm/GLMBase.td"

def GLM_RMSNormOp : GLM_Op<"rms_norm", [Pure, SameOperandsAndResultElementType]> {
  let summary = "root-mean-square normalization over the trailing dims";
  let description = [{
    `Y = X / sqrt(mean(X^2 over dims [axis, rank)) + epsilon) * Scale`, ONNX
    `RMSNormalization` (opset 23). `Scale` broadcasts against the normalized
    dims (usually [hidden]).

    ```mlir
    %y = glm.rms_norm %x, %w {epsilon = 1.0e-05 : f32}
       : (tensor<?x?x256xf32>, tensor<256xf32>) -> tensor<?x?x256xf32>
    ```
  }];
  let arguments = (ins GLM_FloatTensor:$X, GLM_FloatTensor:$Scale,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1e-05">:$epsilon);
  let results = (outs GLM_FloatTensor:$Y);
  let hasVerifier = 1;
}

def GLM_RotaryOp : GLM_Op<"rotary", [Pure, SameOperandsAndResultElementType]> {
  let summary = "rotary position embedding on the leading dims of each head";
  let description = [{
    Rotates pairs of the first `2 * r` elements of X's last dim, where
    `r = Cos.shape[-1]`, by the angles whose cosines and sines `Cos` and
    `Sin` hold (one per pair); the remaining elements pass through (partial
    rotary, e.g. GLM-4's `partial_rotary_factor` 0.5). With `interleaved`
    the pairs are (2i, 2i+1) (GLM/GPT-J style), otherwise (i, i + r)
    (GPT-NeoX "rotate_half" style):

        y[a] = x[a] * cos[i] - x[b] * sin[i]
        y[b] = x[b] * cos[i] + x[a] * sin[i]

    X is [batch, heads, seq, head_dim]; Cos and Sin broadcast against
    [batch, heads, seq, r] (usually [batch, 1, seq, r]). ONNX
    `RotaryEmbedding` (opset 23) maps to it once its caches are gathered.

    ```mlir
    %y = glm.rotary %x, %cos, %sin {interleaved = true}
       : (tensor<?x8x?x32xf32>, tensor<?x1x?x8xf32>, tensor<?x1x?x8xf32>) -> tensor<?x8x?x32xf32>
    ```
  }];
  let arguments = (ins GLM_FloatTensor:$X, GLM_FloatTensor:$Cos, GLM_FloatTensor:$Sin,
                       DefaultValuedAttr<BoolAttr, "false">:$interleaved);
  let results = (outs GLM_FloatTensor:$Y);
  let hasVerifier = 1;
}

def GLM_AttentionOp : GLM_Op<"attention", [Pure, SameOperandsAndResultElementType]> {
  let summary = "scaled dot-product attention with grouped K/V heads";
  let description = [{
    `Y = softmax(Q K^T * scale + Mask) V` per head. Q is
    [batch, q_heads, seq, head_dim]; K and V are [batch, kv_heads, kv_seq,
    head_dim] with `q_heads` a multiple of `kv_heads`: query head h reads
    K/V head `h / (q_heads / kv_heads)` (grouped-query attention; the K/V
    heads are never materialised per query head). `Mask` is optional and
    additive, broadcast against [batch, q_heads, seq, kv_seq] (a causal or
    padding mask holds large negative values). With a KV cache, K and V
    are the concatenation of the past and the new keys/values (the
    `present` outputs of a decode export), so one op serves prefill and
    decode.

    ```mlir
    %y = glm.attention %q, %k, %v, %mask {scale = 0.176776695 : f32}
       : (tensor<?x8x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x1x?x?xf32>)
       -> tensor<?x8x?x32xf32>
    ```
  }];
  let arguments = (ins GLM_FloatTensor:$Q, GLM_FloatTensor:$K, GLM_FloatTensor:$V,
                       Optional<GLM_FloatTensor>:$Mask, F32Attr:$scale);
  let results = (outs GLM_FloatTensor:$Y);
  let hasVerifier = 1;
}

def GLM_AttentionMaskOp : GLM_Op<"attention_mask", [Pure]> {
  let summary = "additive causal and key-padding mask computed from positions";
  let description = [{
    The mask of a causal decoder without its [batch, 1, seq, kv_seq]
    tensor: query i may see key j when `KPos[j] <= QPos[i]` and, with a
    key-padding mask, `KeyMask[b, j]` holds. The result is 0 where it may
    and `masked_value` where it may not:

        Y[b, 0, i, j] = KPos[j] <= QPos[i] && KeyMask[b, j] ? 0 : masked_value

    QPos [seq] and KPos [kv_seq] are positions (for a KV cache, the query
    positions are offset by the past length); KeyMask is [batch, kv_seq]
    (the `attention_mask` input of an export); without it, Y's batch dim
    is 1. glm-fuse-attention-mask builds it from the mask subgraph
    exporters emit; the lowering of glm.attention evaluates it per score
    instead of reading a materialised mask.

    ```mlir
    %m = glm.attention_mask %qpos, %kpos, %keymask {masked_value = -3.40282347E+38 : f32}
       : (tensor<?xi64>, tensor<?xi64>, tensor<?x?xi1>) -> tensor<?x1x?x?xf32>
    ```
  }];
  let arguments = (ins GLM_IndexTensor:$QPos, GLM_IndexTensor:$KPos,
                       Optional<GLM_BoolTensor>:$KeyMask, F32Attr:$masked_value);
  let results = (outs GLM_FloatTensor:$Y);
  let hasVerifier = 1;
}

def GLM_GatedMLPOp : GLM_Op<"gated_mlp", [Pure, SameOperandsAndResultElementType]> {
  let summary = "gated MLP: down(act(gate(x)) * up(x)) with one fused gate/up weight";
  let description = [{
    `H = X W_gate_up` ([..., 2F]); `G, U = H[..., :F], H[..., F:]` (with
    `gate_first`; otherwise up comes first); `Y = (act(G) * U) W_down`.
    `activation` is `silu` (SwiGLU, GLM-4 and Llama) or `gelu` (GeGLU).
    W_gate_up is [K, 2F] and W_down [F, N], as MatMul weights are.

    ```mlir
    %y = glm.gated_mlp %x, %wgu, %wd {activation = "silu"}
       : (tensor<?x?x256xf32>, tensor<256x1024xf32>, tensor<512x256xf32>) -> tensor<?x?x256xf32>
    ```
  }];
  let arguments = (ins GLM_FloatTensor:$X, GLM_FloatTensor:$W_gate_up, GLM_FloatTensor:$W_down,
                       DefaultValuedAttr<StrAttr, "\"silu\"">:$activation,
                       DefaultValuedAttr<BoolAttr, "true">:$gate_first);
  let results = (outs GLM_FloatTensor:$Y);
  let hasVerifier = 1;
}

def GLM_LinearOp : GLM_Op<"linear", [Pure, SameOperandsAndResultElementType]> {
  let summary = "X W + B over the last dim of X";
  let description = [{
    `Y = X W + B` with X [..., K], W [K, N] and an optional bias B [N]: the
    MatMul + Add pair of a projection. The bias initialises the
    accumulator of the lowered matmul, so it costs no extra pass.

    ```mlir
    %y = glm.linear %x, %w, %b : (tensor<?x?x256xf32>, tensor<256x256xf32>, tensor<256xf32>)
       -> tensor<?x?x256xf32>
    ```
  }];
  let arguments = (ins GLM_FloatTensor:$X, GLM_FloatTensor:$W, Optional<GLM_FloatTensor>:$B);
  let results = (outs GLM_FloatTensor:$Y);
  let hasVerifier = 1;
}

#endif // GLM_OPS_FUSED_TD
