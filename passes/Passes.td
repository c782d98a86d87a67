//===- Passes.td - glm passes ------------------------------*- tablegen -*-===//
//
// Every glmc pass, one per file, alphabetical within each folder's banner.
// `glm-opt` runs each alone; compiler/pipeline strings them together.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_PASSES_TD
#define GLMC_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// canonical/
//===----------------------------------------------------------------------===//

def FoldConstantsPass : Pass<"glm-fold-constants", "func::FuncOp"> {
  let summary = "Evaluate glm ops whose operands are all constants";
  let description = [{
    Evaluates elementwise ops, transposes, reshapes, casts, gathers and
    slices whose operands are constants of any size (folders only handle
    small shape arithmetic) and replaces them with `glm.constant` holding a
    new `dense_resource` blob. Typical targets are exporter leftovers such as
    a transposed weight or a weight scaled by a constant.

    ```mlir
    %w = glm.constant {value = dense_resource<w> : tensor<64x32xf32>} ...
    %t = glm.transpose %w {perm = [1, 0]} ...
    // becomes
    %t = glm.constant {value = dense_resource<w_folded> : tensor<32x64xf32>} ...
    ```
  }];
  let options = [
    Option<"maxBytes", "max-bytes", "int64_t", /*default=*/"int64_t(1) << 30",
           "Do not fold results larger than this many bytes">,
  ];
}

def InferShapesPass : Pass<"glm-infer-shapes", "func::FuncOp"> {
  let summary = "Propagate shapes through glm ops and refine function results";
  let description = [{
    Re-runs each op's `ShapeInferenceOpInterface` in program order so that
    dims that became known (after constant folding of shape subgraphs) are
    made static, then refines the function's result types.

    ```mlir
    %s = glm.constant {value = dense<[4, 16]> : tensor<2xi64>} ...
    %r = glm.reshape %x, %s : (tensor<64xf32>, tensor<2xi64>) -> tensor<?x?xf32>
    // becomes
    %r = glm.reshape %x, %s : (tensor<64xf32>, tensor<2xi64>) -> tensor<4x16xf32>
    ```
  }];
}

def BindInputDimsPass : Pass<"glm-bind-input-dims", "func::FuncOp"> {
  let summary = "Fix or tie the model inputs' dynamic dims that ops need equal";
  let description = [{
    The lowered code broadcasts only dims that are statically 1, so a
    dynamic dim of a model input that an op combines with a static dim
    (or with another input's dynamic dim) must have that size at run
    time. Follows each input's dynamic dims through the ops that carry a
    dim unchanged (element-wise ops, casts, normalisations, transposes,
    matmul rows/columns/batch, concat, gather, unsqueeze, pooling), makes
    an input dim that must equal a constant static (with a warning at the
    node that needs it), and numbers the classes of input dims that must
    agree in `glm.dim_symbols` (a class id or -1 per dim), which the
    artifact carries and the runtime checks before a run. Run
    glm-infer-shapes after it.

    ```mlir
    func.func @main(%x: tensor<?x4xf32>) -> tensor<3x4xf32> attributes {glm.entry} {
      %w = glm.constant ... : tensor<3x4xf32>
      %y = glm.add %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
    // becomes
    func.func @main(%x: tensor<3x4xf32>) -> tensor<3x4xf32> attributes {glm.entry} {
    ```
  }];
}

//===----------------------------------------------------------------------===//
// compress/
//===----------------------------------------------------------------------===//

def PrunePass : Pass<"glm-prune", "func::FuncOp"> {
  let summary = "Score and mask weights to remove a fraction of the prunable parameters";
  let description = [{
    Removes (by zeroing) the fraction `ratio` of the parameters of prunable
    ops (PrunableOpInterface with constant weights).

    - `mode=structured` (default): whole output channels, chosen per
      dependency group (glm ChannelGroups: residual-tied channels, depthwise
      convs and concats are pruned together; groups that reach a model
      input or output, or pass through ops whose f(0) is not 0, are kept
      and reported with a remark), and whole K/V groups of attention (a K/V
      head with its query heads: q/k/v columns and o_proj rows; glm
      AttentionHeads). A channel's score is the norm of its
      producers' filters (`criterion=magnitude`: L2, `l1`: L1), normalised
      per producer. `alloc=uniform` prunes the same channel fraction in
      every group; `alloc=auto` ranks all channels globally by their
      group-normalised score per removed parameter. Either way the
      parameter budget is met exactly up to one channel. Pruned channels
      get zero weights and biases and are recorded as `glm.pruned_channels`
      on their producers for glm-trim-channels.
    - `mode=unstructured`: the smallest-magnitude weights of each layer.
    - `mode=2:4`: in every run of 4 weights along the contraction dim, the 2
      smallest (the NVIDIA sparse tensor core pattern).

    `exclude` lists regular expressions matched against the ONNX node names
    of producers; matching layers are kept. `layer-ratio` entries
    `PATTERN=R` give the layers whose node name matches a fixed sparsity R
    (first match wins; structured: the channel fraction of the group the
    layer produces); the other layers share the rest of the budget, so the
    total stays `ratio`.
  }];
  let options = [
    Option<"ratio", "ratio", "double", /*default=*/"0.0", "Fraction of prunable parameters to remove">,
    Option<"mode", "mode", "std::string", /*default=*/"\"structured\"", "structured, unstructured or 2:4">,
    Option<"criterion", "criterion", "std::string", /*default=*/"\"l1\"", "magnitude or l1">,
    Option<"alloc", "alloc", "std::string", /*default=*/"\"uniform\"", "uniform or auto">,
    ListOption<"exclude", "exclude", "std::string", "Node-name patterns to keep">,
    ListOption<"layerRatio", "layer-ratio", "std::string",
               "PATTERN=R: fixed sparsity R for layers whose node name matches">,
    Option<"reconstruct", "reconstruct", "bool", /*default=*/"true",
           "With glm.calib statistics: least-squares refit of the weights reading pruned channels">,
  ];
}

def TrimChannelsPass : Pass<"glm-trim-channels", "func::FuncOp"> {
  let summary = "Physically remove pruned channels from producers and consumers";
  let description = [{
    For every channel dependency group whose producers carry the same
    `glm.pruned_channels` (and every attention whose q, k and v projections
    lost the same whole K/V groups; the repeat_kv head entries are
    rewritten), removes those channels: producer weights and
    biases along their output dim, consumer weights along their input dim
    (with the channel's offset inside concatenated inputs), depthwise
    weights, biases and group counts, and per-channel constants of
    elementwise ops; then re-infers every type. Pruned channels are exactly
    zero through the group (glm-prune only selects zero-preserving groups),
    so the trimmed model computes the same function as the masked one.
  }];
}

def QuantizePass : Pass<"glm-quantize", "func::FuncOp"> {
  let summary = "Static INT8 quantization of convolutions and gemms from calibration ranges";
  let description = [{
    For every glm.conv and glm.gemm (transA = 0) with a constant float
    weight and a `glm.calib` range of its data input (`min`, `max`, and
    for `calib-method=percentile` the |x| histogram; glmc attaches them
    from --calib, compiler/calibrate/Statistics.h):

    - the weight becomes int8 per output channel, symmetric:
      `s[o] = max|W[o]| / 127`, `q = round(W / s)` in [-127, 127], stored
      as an i8 constant viewed as
      `!quant.uniform<i8<-127:127>:f32:AXIS, {s...}>` (quant.scast);
    - the data input is quantized per tensor, asymmetric int8, by
      quant.qcast to `!quant.uniform<i8:f32, S:Z>` with the range
      [min(lo, 0), max(hi, 0)] (the real 0 is exact, so zero padding is
      the zero point): `minmax` takes the observed range, `percentile`
      clips it at the `percentile`-th percentile of |x|.

    A data input that is already a QuantizeLinear -> DequantizeLinear pair
    per tensor to int8 or uint8 (a QDQ model, e.g. from ONNX Runtime's
    quantize_static; the importer's composition of the two) takes that
    pair's scale and zero point instead (uint8 as int8 with the zero point
    - 128: the same values) and reads the pair's float input; the weight,
    which constant folding dequantized, is re-quantized (per tensor when
    one scale reproduces it exactly, as the model had it). With
    `qdq-only`, only such ops are quantized (no calibration ranges needed).

    The op then computes on the dequantized operands and still returns
    floats; its lowering uses int8 operands and an int32 accumulator.
    `exclude` lists regular expressions of ONNX node names to keep in
    float. Each quantized op gets `glm.quant_info` (the weight's SQNR in dB
    and the fraction of calibration values clipped) for the report.
  }];
  let options = [
    Option<"calibMethod", "calib-method", "std::string", /*default=*/"\"minmax\"",
           "minmax or percentile">,
    Option<"percentile", "percentile", "double", /*default=*/"99.99",
           "With calib-method=percentile: the percentile of |x| kept">,
    ListOption<"exclude", "exclude", "std::string", "Node-name patterns to keep in float">,
    Option<"qdqOnly", "qdq-only", "bool", /*default=*/"false",
           "Only the ops whose data comes through a QDQ pair (no calibration)">,
  ];
  let dependentDialects = ["quant::QuantDialect"];
}

//===----------------------------------------------------------------------===//
// fusion/
//===----------------------------------------------------------------------===//

def FoldBatchNormPass : Pass<"glm-fold-batchnorm", "func::FuncOp"> {
  let summary = "Fold inference BatchNormalization into the adjacent conv or gemm";
  let description = [{
    With constant weights and statistics, BatchNormalization is an affine
    map per channel, `y = x * s + t` with `s = scale / sqrt(var + eps)` and
    `t = B - mean * s`. It is folded into:
    - the conv or gemm that produces its input (weights of output channel c
      scaled by s[c], bias `(b - mean) * s + B`), or
    - the conv that consumes its output when that conv has no padding
      (weights of input channel c scaled by s[c], bias += sum W * t); with
      padding the padded zeros would not be transformed, so it is refused.
    The result equals the unfused model up to float rounding. Nothing is
    folded when the producer has other users.

    ```mlir
    %c = glm.conv %x, %w, %b ...
    %y = glm.batch_normalization %c, %scale, %bias, %mean, %var ...
    // becomes
    %y = glm.conv %x, %w_folded, %b_folded ...
    ```
  }];
}

def ReparamRepVGGPass : Pass<"glm-reparam-repvgg", "func::FuncOp"> {
  let summary = "Merge parallel conv branches of one input into a single conv";
  let description = [{
    RepVGG re-parameterisation: a sum of branches that all read the same
    input X — convolutions (odd kernels, centred padding, same stride and
    groups), an identity X, or a per-channel affine of X (an unfolded
    BatchNormalization) — is one convolution whose kernel is the sum of the
    branch kernels zero-padded to the largest size (identity and affine
    branches become a centre tap on the diagonal) and whose bias is the sum
    of the biases. Run after glm-fold-batchnorm.

    ```mlir
    %a = glm.conv %x, %w3, %b3 {pads = [1, 1, 1, 1]} ...
    %b = glm.conv %x, %w1, %b1 ...
    %s = glm.add %a, %b ...
    %y = glm.add %s, %x ...
    // becomes
    %y = glm.conv %x, %w_merged, %b_merged {pads = [1, 1, 1, 1]} ...
    ```
  }];
}

def FuseAttentionPass : Pass<"glm-fuse-attention", "func::FuncOp"> {
  let summary = "Fuse scaled dot-product attention chains (GQA, masks, KV cache) into glm.attention";
  let description = [{
    Matches `softmax(Q K^T * scale + mask) V` as exporters write it: the
    scale as a mul (or div) of the scores by a constant; K transposed by a
    transpose op; grouped K/V heads
    repeated per query head by `unsqueeze -> expand -> reshape` (the
    `repeat_kv` of transformers), which the fused op reads without
    materialising; an optional additive mask (causal/padding); identity
    casts anywhere. The K/V operands stay whatever they were, e.g. the
    `concat(past, new)` of a KV cache.

    ```mlir
    %kt = glm.transpose %kr {perm = [0, 1, 3, 2]} ...
    %s  = glm.mat_mul %q, %kt ...
    %ss = glm.mul %s, %scale ...
    %sm = glm.add %ss, %mask ...
    %p  = glm.softmax %sm {axis = -1} ...
    %y  = glm.mat_mul %p, %vr ...
    // becomes
    %y = glm.attention %q, %k, %v, %mask {scale = 0.176776695 : f32} ...
    ```
  }];
}

def FuseAttentionMaskPass : Pass<"glm-fuse-attention-mask", "func::FuncOp"> {
  let summary = "Compute causal and key-padding attention masks from positions instead of materialising them";
  let description = [{
    An attention mask built as `where(keep, 0, lowest)` (or
    `where(hide, lowest, 0)`), where `keep` is an and-tree of one causal
    comparison `kv_idx [1,1,1,t] <= q_pos [1,1,s,1]` and any number of
    [b,1,1,t] key-padding masks (expands, identity casts and true
    constants looked through; the hide form is the or-tree of the negated
    leaves), becomes `glm.attention_mask(q_pos, kv_idx, padding)` for the
    glm.attention ops that read it. Their lowering then computes each
    masked score from the positions instead of reading a [b,1,s,t] tensor.
    Run after glm-fuse-attention; a mask with other leaves (a sliding
    window) stays as it is.

    ```mlir
    %c = glm.less_or_equal %kv_idx, %q_pos ...
    %k = glm.and %c, %padding ...
    %m = glm.where %k, %zero, %lowest ...
    %y = glm.attention %q, %k, %v, %m ...
    // becomes
    %qp = glm.reshape %q_pos, %minus1 ...
    %kp = glm.reshape %kv_idx, %minus1 ...
    %km = glm.flatten %padding ...
    %m2 = glm.attention_mask %qp, %kp, %km {masked_value = -3.40282347E+38 : f32} ...
    %y = glm.attention %q, %k, %v, %m2 ...
    ```
  }];
}

def FuseGatedMLPPass : Pass<"glm-fuse-gated-mlp", "func::FuncOp"> {
  let summary = "Fuse the SwiGLU/GeGLU MLP with a fused gate/up projection into glm.gated_mlp";
  let description = [{
    `linear(act(slice(h, 0:F)) * slice(h, F:2F), W_down)` with
    `h = linear(x, W_gate_up)`, act silu (also spelled `g * sigmoid(g)`) or
    exact gelu, gate first or second, no biases. Run after glm-fuse-linear.

    ```mlir
    %h = glm.linear %x, %wgu ...
    %g = glm.slice %h, %c0, %cF, %cm1 ...
    %u = glm.slice %h, %cF, %c2F, %cm1 ...
    %a = glm.silu %g ...
    %m = glm.mul %u, %a ...
    %y = glm.linear %m, %wd ...
    // becomes
    %y = glm.gated_mlp %x, %wgu, %wd {activation = "silu", gate_first = true} ...
    ```
  }];
}

def FuseLinearPass : Pass<"glm-fuse-linear", "func::FuncOp"> {
  let summary = "Fuse mat_mul with a rank-2 weight and its bias add into glm.linear";
  let description = [{
    `add(mat_mul(x, W), b)` (either operand order) with W [K, N] and b [N]
    becomes `glm.linear %x, %W, %b`; a mat_mul with a rank-2 weight and no
    bias add becomes `glm.linear %x, %W`.
  }];
}

def FuseRMSNormPass : Pass<"glm-fuse-rms-norm", "func::FuncOp"> {
  let summary = "Fuse decomposed RMSNorm chains into glm.rms_norm";
  let description = [{
    Matches `x / sqrt(mean(x^2) + eps) * w` in the spellings exporters use:
    `pow(x, 2)` or `x * x`; `reduce_mean` over trailing dims with keepdims;
    `sqrt` followed by `1 / s` times x, `reciprocal`, or `x / s`; identity
    casts (the fp32 upcast of HF models) anywhere; the weight multiply in
    either operand order, or none (then the scale is 1).

    ```mlir
    %p = glm.pow %x, %two ...
    %m = glm.reduce_mean %p {axes = [-1]} ...
    %a = glm.add %m, %eps ...
    %s = glm.sqrt %a ...
    %r = glm.div %one, %s ...
    %n = glm.mul %x, %r ...
    %y = glm.mul %w, %n ...
    // becomes
    %y = glm.rms_norm %x, %w {epsilon = 1.0e-05 : f32} ...
    ```
  }];
}

def FuseRotaryPass : Pass<"glm-fuse-rotary", "func::FuncOp"> {
  let summary = "Fuse rotary position embedding chains (partial, interleaved or half-split) into glm.rotary";
  let description = [{
    Matches `concat(x_rot * cos + rotate(x_rot) * sin, x_pass)` where
    `x_rot`/`x_pass` are slices of the head dim (or the whole head), and
    `rotate` is the interleaved pair rotation of GLM/GPT-J
    (`stack(-x[1::2], x[0::2])` flattened) or `rotate_half` of GPT-NeoX
    (`concat(-x[r:], x[:r])`). The per-pair cos/sin are recovered from the
    repeated tables (`repeat_interleave` spelled unsqueeze/concat/reshape, or
    `concat(c, c)`), so the fused op reads half as much.
  }];
}

//===----------------------------------------------------------------------===//
// lowering/
//===----------------------------------------------------------------------===//

def ApproximateMathPass : Pass<"glm-approximate-math", "func::FuncOp"> {
  let summary = "Replace transcendental math ops by vectorizable polynomials";
  let description = [{
    Rewrites `math.exp`, `math.tanh`, `math.erf`, `math.log`, ... (scalar or
    vector, f32) into polynomial approximations built from arith ops, so that
    vector code never scalarises into libm calls and the artifact needs no
    libm symbols. Accuracy is within a few ulp of libm (upstream MLIR's
    approximations).
  }];
  let dependentDialects = ["arith::ArithDialect", "math::MathDialect", "vector::VectorDialect"];
}

def AnnotateProfileLayersPass : Pass<"glm-annotate-profile-layers", "ModuleOp"> {
  let summary = "Record each ONNX node's op, output shape, FLOPs and bytes for the profiler";
  let description = [{
    Runs on the glm dialect before lowering, for `glmc --profile`. Walks
    the `glm.entry` functions and records, per ONNX node name (the op's
    `NameLoc`; a fused op's first name), what the per-layer profile shows
    next to its time: the glm op names, the output shape, the FLOPs
    (2 x multiply-accumulates of conv, gemm, matmul, linear, gated_mlp and
    attention) and the bytes read and written (operands and results).
    Dynamic dims count as 1 (exact for the usual profiling run, batch 1;
    the shape shows them as "?"). The result is the module attribute
    `glm.profile_layers` = `{name = [op, shape, flops, bytes], ...}`, read
    by glm-insert-profile-marks after lowering, when the ops are gone.

    ```mlir
    module attributes {glm.profile_layers = {"/conv1/Conv" = ["conv", "1x8x6x6", 7776, 1840]}}
    ```
  }];
}

def LowerIndexReportsPass : Pass<"glm-lower-index-reports", "ModuleOp"> {
  let summary = "glm.report_index_error -> a call of glm_index_error(site, value, bound)";
  let description = [{
    Runs after bufferization and glm-outline-parallel-loops. Each
    `glm.report_index_error` becomes `func.call @glm_index_error(ptr, i64,
    i64)` with the address of a constant C string naming its site (one
    `llvm.mlir.global` per distinct site, `glm_site_N`). The artifact
    defines glm_index_error (compiler/package/ArtifactWriter.cpp): it calls
    the host table's report_error when the runtime has one (ABI 1.2).
  }];
  let dependentDialects = ["func::FuncDialect", "LLVM::LLVMDialect"];
}

def LowerInt8DotsPass : Pass<"glm-lower-int8-dots", "func::FuncOp"> {
  let summary = "glm.dot4_accumulate -> vpdpbusd (AVX-512 VNNI), sdot (AArch64) or vector arithmetic";
  let description = [{
    Runs after bufferization and buffer deallocation (the intrinsic call
    has no memory-effect model they could read). With `vnni`, a 16-lane
    uint8 x int8 glm.dot4_accumulate becomes
    `llvm.x86.avx512.vpdpbusd.512`; with `dotprod`, a 4-lane int8 x int8
    one (`a_signed`) becomes `llvm.aarch64.neon.sdot`; otherwise the bytes
    are widened, multiplied and summed in fours with vector ops, which any
    target lowers.
  }];
  let options = [
    Option<"vnni", "vnni", "bool", /*default=*/"false", "The target has AVX-512 VNNI">,
    Option<"dotprod", "dotprod", "bool", /*default=*/"false", "The target has AArch64 dotprod">,
    Option<"avx2", "avx2", "bool", /*default=*/"false", "The target has AVX2 (vpmaddwd)">,
  ];
  let dependentDialects = ["LLVM::LLVMDialect", "vector::VectorDialect", "arith::ArithDialect"];
}

def InsertProfileMarksPass : Pass<"glm-insert-profile-marks", "ModuleOp"> {
  let summary = "Call glm_profile_mark(layer) where the model function moves to the next ONNX node";
  let description = [{
    Runs after bufferization and glm-outline-parallel-loops, for `glmc
    --profile`. The ops at the top level of a `glm.entry` function that do
    work (loops, dispatches, copies, calls, linalg ops) are grouped by the
    ONNX node names of their locations and of the ops inside them (or, for
    a dispatch, inside its parallel task): the nodes fused into one loop
    nest, joined by " + ", make one layer (the first one from the
    function's start, its allocations included). Where the group changes, a call `glm_profile_mark(i32 id)` goes
    before the op, and `glm_profile_mark(-1)` before the return. Ops that
    only describe memory (allocations, views, constants) belong to the
    group around them. The runtime time-stamps each mark, so a layer's
    time is from its mark to the next one; one call per layer, nothing in
    the parallel tasks. A node whose ops are not contiguous keeps one id.

    The layer table goes into the module attribute `glm.profile_table` =
    `[[name, op, shape, flops, bytes], ...]` (indexed by id; op, shape,
    FLOPs and bytes from `glm.profile_layers`, summed over a fused group's
    names), which the packager writes into the artifact descriptor.
    `glm_profile_mark` is declared here and defined by the artifact's host
    glue on the runtime's host table.
  }];
  let dependentDialects = ["func::FuncDialect", "arith::ArithDialect"];
}

def EmitEntryPointPass : Pass<"glm-emit-entry-point", "ModuleOp"> {
  let summary = "Write the artifact ABI entry wrapper around the lowered model function";
  let description = [{
    Runs on the LLVM dialect after lowering. For the model function (marked
    `glm.entry`), emits `glm_entry_<name>(ptr %call) -> i32` following
    runtime/include/glmrt/artifact_abi.h: reads the weights pointer and the
    input data pointers and dims from the `glm_call_t`, builds memref
    descriptors, calls the function and writes every output's data pointer,
    allocation and dims back.
  }];
  let dependentDialects = ["LLVM::LLVMDialect"];
}

def EnsureFreshResultsPass : Pass<"glm-ensure-fresh-results", "func::FuncOp"> {
  let summary = "Make every returned buffer a fresh allocation the caller owns";
  let description = [{
    After bufferization, a function may return a view of an argument, of a
    global or of another result. The artifact ABI hands outputs to the
    runtime as owned blocks, so such results are copied into a new
    `memref.alloc`; results that are already distinct allocations are kept.
  }];
  let dependentDialects = ["memref::MemRefDialect"];
}

def LowerToLinalgPass : Pass<"glm-lower-to-linalg", "func::FuncOp"> {
  let summary = "Lower glm ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Dialect conversion of every glm op into upstream ops on tensors:
    contractions to `linalg.matmul`/`linalg.batch_matmul`, convolutions to
    `linalg.conv_2d_*` (grouped and depthwise forms), pools to
    `linalg.pooling_*`, elementwise ops to `linalg.generic` with broadcasting
    maps, reductions to `linalg.reduce`, and data movement to `tensor` ops.
    Constants become `arith.constant` (weights stay `dense_resource`).
    Fails with a located error on an op it cannot lower.
  }];
  let dependentDialects = ["linalg::LinalgDialect", "tensor::TensorDialect",
                           "arith::ArithDialect", "math::MathDialect",
                           "scf::SCFDialect"];
}

def FuseElementwisePass : Pass<"glm-fuse-elementwise", "func::FuncOp"> {
  let summary = "Fuse elementwise linalg producers into consumers without recomputation";
  let description = [{
    Upstream elementwise fusion, restricted so that fusion never multiplies
    work: a producer is fused only when its consumer reads it through a
    permutation (not a broadcast) and it has no other users. Per-channel
    precomputations (e.g. BatchNorm's scale / sqrt(var + eps)) therefore
    stay computed once per channel instead of once per element.
  }];
  let dependentDialects = ["linalg::LinalgDialect"];
}

def LowerStridedCopiesPass : Pass<"glm-lower-strided-copies", "func::FuncOp"> {
  let summary = "Turn memref.copy between strided buffers into loops";
  let description = [{
    `memref.copy` between buffers that are not both contiguous row-major
    lowers to a call to `memrefCopy` from MLIR's C runner utils, which an
    artifact must not depend on. Copies whose rows are contiguous (static,
    unit-stride innermost dim: tiles of a larger buffer, padded
    interiors) become loops over the rows with each row moved as
    `vector.load`/`vector.store` of `vector-bits`; others become
    `linalg.copy`, which the loop lowering turns into plain loads and stores.
    Contiguous copies stay and become `llvm.memcpy`.
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"256",
           "Width of the vector moves of one row">,
  ];
  let dependentDialects = ["linalg::LinalgDialect", "scf::SCFDialect", "vector::VectorDialect",
                           "arith::ArithDialect"];
}

def OutlineParallelLoopsPass : Pass<"glm-outline-parallel-loops", "ModuleOp"> {
  let summary = "Hand parallel loops to the runtime's thread pool";
  let description = [{
    Every outermost `scf.parallel` of the model function (from the parallel
    output tiles of contractions) is collapsed to one dimension and its body
    outlined into `func.func private @glm_task_<n>(%begin, %end, captures...)`
    that runs iterations [begin, end). The loop becomes a call to the
    declaration `@glm_dispatch_<n>(%count, %grain, captures...)`, which
    glm-lower-parallel-dispatch turns into a call of the host table's
    `parallel_for` once everything is in the LLVM dialect.
  }];
  let options = [
    Option<"minIterationWork", "min-iteration-work", "int64_t", /*default=*/"1",
           "Minimum iterations per task chunk (the grain passed to parallel_for)">,
  ];
  let dependentDialects = ["func::FuncDialect", "scf::SCFDialect", "arith::ArithDialect",
                           "affine::AffineDialect"];
}

def OutlineWeightsPass : Pass<"glm-outline-weights", "ModuleOp"> {
  let summary = "Move constant globals into one weights blob read through a pointer";
  let description = [{
    After bufferization, every constant `memref.global` used by the model
    function is laid out (64-byte aligned, in first-use order) in one blob,
    described by the module attribute `glm.weights` = `{size, offsets,
    values, panels}` (the constants themselves, not a copy of their bytes:
    the packager writes the blob straight from them,
    compiler/package/Weights.h; `panels` is the panel width of a weight
    glm-pack-weights packed, 0 for the others);
    each `memref.get_global` becomes a `memref.view` into a new trailing
    `memref<?xi8>` argument of the function. The runtime passes the embedded
    or memory-mapped blob there, which is what makes `--external-weights`
    possible.
  }];
  let dependentDialects = ["memref::MemRefDialect", "arith::ArithDialect"];
}

def LowerParallelDispatchPass : Pass<"glm-lower-parallel-dispatch", "ModuleOp"> {
  let summary = "Turn glm_dispatch calls into parallel_for calls with packed arguments";
  let description = [{
    Runs on the LLVM dialect. Each call to a `@glm_dispatch_<n>` declaration
    (made by glm-outline-parallel-loops) becomes: the captured arguments
    stored into a stack struct, and a call
    `glm_parallel_for(count, grain, @glm_trampoline_<n>, struct)`, where the
    trampoline unpacks the struct and calls `@glm_task_<n>(begin, end, ...)`.
    `glm_parallel_for` is defined by the artifact's host glue on top of the
    runtime's host table.
  }];
  let dependentDialects = ["LLVM::LLVMDialect"];
}

def PackWeightsPass : Pass<"glm-pack-weights", "ModuleOp"> {
  let summary = "Store constant matmul weights as panels of one register tile's width";
  let description = [{
    A `linalg.matmul` whose B operand is a constant weight W [K, N] (N a
    multiple of the target's register tile width NR) reads W through a new
    constant global of panels, Wp [N/NR, K, NR] with
    `Wp[j, k, r] = W[k, j*NR + r]`, and becomes the equivalent contraction
    generic over [M, N/NR, NR] views of its output. A register tile then
    reads its B slice contiguously along K instead of one NR-wide row every
    N elements, which made every K step of a large weight a new cache line
    set and TLB page (a [128, 4096] x [4096, 4096] product ran at half of
    ONNX Runtime's speed, an M = 1 product at a third).

    The panels are not computed in the compiler: the global is declared
    with `glm.panels_of = <W>` and `glm.panel_width = NR`, and the
    weights writer (compiler/package/Weights.h) streams W's bytes in panel
    order into the blob, so that packing costs no compile-time memory.
    Weights read by anything else stay as they are. Runs before
    glm-tile-and-vectorize, with the same target options.

    ```mlir
    %w = arith.constant dense_resource<W> : tensor<256x64xf32>
    %y = linalg.matmul ins(%x, %w : tensor<?x256xf32>, tensor<256x64xf32>) outs(%c : tensor<?x64xf32>)
    // becomes, with NR = 16
    memref.global "private" constant @__glm_panels_0 : memref<4x256x16xf32>
        {glm.panel_width = 16 : i64, glm.panels_of = dense_resource<W> : tensor<256x64xf32>}
    %wp = bufferization.to_tensor (memref.get_global @__glm_panels_0) restrict
    %c3 = tensor.expand_shape %c [[0], [1, 2]] : tensor<?x64xf32> into tensor<?x4x16xf32>
    %y3 = linalg.generic {(m, j, r, k) -> (m, k), (j, k, r), (m, j, r)} ins(%x, %wp) outs(%c3)
    %y = tensor.collapse_shape %y3 [[0], [1, 2]]
    ```
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"256",
           "Vector register width in bits (128 NEON, 256 AVX2, 512 AVX-512)">,
    Option<"numRegisters", "num-registers", "int64_t", /*default=*/"16",
           "Number of vector registers">,
  ];
  let dependentDialects = ["linalg::LinalgDialect", "memref::MemRefDialect",
                           "bufferization::BufferizationDialect", "tensor::TensorDialect"];
}

def TileAndVectorizePass : Pass<"glm-tile-and-vectorize", "func::FuncOp"> {
  let summary = "Tile and vectorize linalg ops on tensors for the target's registers";
  let description = [{
    Tiles contractions (matmul, batch matmul, convolutions in im2col form)
    to cache and register tiles chosen from the target's vector width and
    register count, vectorizes the register tiles, hoists the accumulators
    out of the reduction loop, and tiles elementwise and reduction ops to
    vector-width strips. Ops it cannot vectorize are left to the scalar path.

    Convolutions (static, unit batch): a dense NCHW convolution is a matmul
    W[F, K] x col[K, P] over an im2col matrix written one row of OW pixels
    per vector copy (one parallel task per input channel); a grouped one a
    batched matmul over the groups on the same matrix; a depthwise one a
    direct kernel (one task per channel, one accumulator vector per output
    row, KH*KW broadcast-weight FMAs). A zero tensor.pad of the input is
    not materialized (the loads skip and shuffle in the zeros). A bias init
    and an element-wise consumer (activation, residual add) are fused: into
    the matmul's parallel tiles, or into the depthwise kernel's rows.
    Register tiles with fewer columns than NR are padded to whole vectors
    (masked loads and stores) instead of running as scalar code.

    ```mlir
    %y = linalg.conv_2d_nchw_fchw ins(%x, %w : tensor<1x8x10x10xf32>, tensor<16x8x3x3xf32>) outs(%o : ...)
    // becomes
    %col = scf.forall (%c) in (8) shared_outs(%t = %empty : tensor<72x64xf32>) {
      // 9 rows of col per channel: vector<8xf32> reads of x, writes into %t
    }
    %y2 = <register-tiled matmul> (collapse(%w) : tensor<16x72xf32>, %col) outs(collapse(%o) : tensor<16x64xf32>)
    ```
  }];
  let options = [
    Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"256",
           "Vector register width in bits (128 NEON, 256 AVX2, 512 AVX-512)">,
    Option<"numRegisters", "num-registers", "int64_t", /*default=*/"16",
           "Number of vector registers">,
    Option<"vnni", "vnni", "bool", /*default=*/"false",
           "int8 convolutions with AVX-512 VNNI dot products (vpdpbusd); needs vector-bits=512">,
    Option<"dotprod", "dotprod", "bool", /*default=*/"false",
           "int8 convolutions with AArch64 dot products (sdot)">,
    Option<"pmaddwd", "pmaddwd", "bool", /*default=*/"false",
           "int8 convolutions with AVX2 int16 pair products (vpmaddwd); needs vector-bits=256">,
  ];
  let dependentDialects = ["linalg::LinalgDialect", "scf::SCFDialect",
                           "vector::VectorDialect", "tensor::TensorDialect", "glm::GLMDialect"];
}

#endif // GLMC_PASSES_TD
