//===- NN.td - neural-network ops -------------------------*- tablegen -*-===//

#ifndef GLM_OPS_NN_TD
#define GLM_OPS_NN_TD

include "dialects/glm/GLMBase.td"

def GLM_MatMulOp : GLM_Op<"mat_mul", [Pure, SameOperandsAndResultElementType,
    DeclareOpInterfaceMethods<GLM_PrunableOpInterface>]> {
  let summary = "numpy matmul";
  let description = [{
    Matrix product with numpy semantics (ONNX `MatMul`, opset 13): rank-1
    operands are promoted and the promoted dim removed; leading (batch) dims
    broadcast.

    ```mlir
    %y = glm.mat_mul %x, %w : (tensor<?x64xf32>, tensor<64x10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins GLM_FloatTensor:$A, GLM_FloatTensor:$B);
  let results = (outs GLM_FloatTensor:$Y);
}

def GLM_GemmOp : GLM_Op<"gemm", [Pure, DeclareOpInterfaceMethods<GLM_PrunableOpInterface>]> {
  let summary = "general matrix multiply, alpha*A'*B' + beta*C";
  let description = [{
    ONNX `Gemm` (opset 13): `Y = alpha * op(A) * op(B) + beta * C` with
    op() a transpose when `transA`/`transB` is 1; C is optional and
    unidirectionally broadcast to [M, N].

    After glm-quantize, A is a per-tensor quantized activation and B a
    constant weight quantized per output column (`!quant.uniform`): the
    product is that of the dequantized values, Y is float.
  }];
  let arguments = (ins GLM_FloatOrQuantTensor:$A, GLM_FloatOrQuantTensor:$B, Optional<GLM_FloatTensor>:$C,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0">:$beta,
                       DefaultValuedAttr<I64Attr, "0">:$transA,
                       DefaultValuedAttr<I64Attr, "0">:$transB);
  let results = (outs GLM_FloatTensor:$Y);
  let hasCanonicalizer = 1;
  let hasVerifier = 1;
}

def GLM_ConvOp : GLM_Op<"conv", [Pure, DeclareOpInterfaceMethods<GLM_PrunableOpInterface>]> {
  let summary = "N-d convolution (1-d to 3-d lowered)";
  let description = [{
    ONNX `Conv` (opset 11) on NCHW data with FCHW weights, optional bias [F],
    `group` groups. `pads` are explicit [begin..., end...]; the importer
    resolves `auto_pad` into `pads`, so `auto_pad` is always "NOTSET" here.

    After glm-quantize, X is a per-tensor quantized activation and W a
    constant weight quantized per output channel (`!quant.uniform`, axis 0):
    the convolution is that of the dequantized values (padding is the real
    value 0, i.e. X's zero point) and Y is float.

    ```mlir
    %y = glm.conv %x, %w, %b {pads = [1, 1, 1, 1], strides = [1, 1]}
       : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<1x16x32x32xf32>
    ```
  }];
  let arguments = (ins GLM_FloatOrQuantTensor:$X, GLM_FloatOrQuantTensor:$W, Optional<GLM_FloatTensor>:$B,
                       OptionalAttr<I64ArrayAttr>:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group,
                       OptionalAttr<I64ArrayAttr>:$kernel_shape,
                       OptionalAttr<I64ArrayAttr>:$pads,
                       OptionalAttr<I64ArrayAttr>:$strides);
  let results = (outs GLM_FloatTensor:$Y);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of spatial dims.
    unsigned getNumSpatialDims() { return llvm::cast<ShapedType>(getW().getType()).getRank() - 2; }
    llvm::SmallVector<int64_t> getStridesOrDefault();
    llvm::SmallVector<int64_t> getDilationsOrDefault();
    llvm::SmallVector<int64_t> getPadsOrDefault();
  }];
}

def GLM_BatchNormalizationOp : GLM_Op<"batch_normalization", [Pure]> {
  let summary = "batch normalization, inference form";
  let description = [{
    ONNX `BatchNormalization` (opset 15) in inference mode:
    `Y = (X - mean) / sqrt(var + epsilon) * scale + B` over channel dim 1.
    Training mode (`training_mode = 1`, extra outputs) is refused by the
    importer.
  }];
  let arguments = (ins GLM_FloatTensor:$X, GLM_FloatTensor:$scale, GLM_FloatTensor:$B,
                       GLM_FloatTensor:$input_mean, GLM_FloatTensor:$input_var,
                       DefaultValuedAttr<F32Attr, "1e-05">:$epsilon,
                       DefaultValuedAttr<F32Attr, "0.9">:$momentum);
  let results = (outs GLM_FloatTensor:$Y);
  let hasVerifier = 1;
}

// MaxPool (opset 12+) also takes 8-bit integers.
def GLM_MaxPoolTensor : TensorOf<[F16, BF16, F32, F64, I8, SI8, UI8]>;

class GLM_PoolOp<string mnemonic, string what, Type tensorType = GLM_FloatTensor>
    : GLM_Op<mnemonic, [Pure]> {
  let summary = what # " pooling";
  let description = [{
    ONNX pooling (opset 12/19) on NCHW data with explicit `pads`
    [begin..., end...] (the importer resolves `auto_pad`). Max pooling also
    takes int8 and uint8.
  }];
  let arguments = (ins tensorType:$X,
                       DefaultValuedAttr<I64Attr, "0">:$ceil_mode,
                       OptionalAttr<I64ArrayAttr>:$dilations,
                       I64ArrayAttr:$kernel_shape,
                       OptionalAttr<I64ArrayAttr>:$pads,
                       OptionalAttr<I64ArrayAttr>:$strides,
                       DefaultValuedAttr<I64Attr, "0">:$count_include_pad);
  let results = (outs tensorType:$Y);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    llvm::SmallVector<int64_t> getStridesOrDefault();
    llvm::SmallVector<int64_t> getDilationsOrDefault();
    llvm::SmallVector<int64_t> getPadsOrDefault();
  }];
}
def GLM_MaxPoolOp : GLM_PoolOp<"max_pool", "max", GLM_MaxPoolTensor>;
def GLM_AveragePoolOp : GLM_PoolOp<"average_pool", "average">;

def GLM_MaxPoolIndicesOp : GLM_Op<"max_pool_indices", [Pure]> {
  let summary = "where each max pooling window's maximum is";
  let description = [{
    ONNX `MaxPool` output 1: for every window of `glm.max_pool` with the same
    attributes, the index of its (first) maximum in the flattened input
    [N, C, D...], padding not counted. `storage_order` 0 flattens row-major,
    1 column-major over the spatial dims (N and C stay outermost).
  }];
  let arguments = (ins GLM_MaxPoolTensor:$X,
                       DefaultValuedAttr<I64Attr, "0">:$ceil_mode,
                       OptionalAttr<I64ArrayAttr>:$dilations,
                       I64ArrayAttr:$kernel_shape,
                       OptionalAttr<I64ArrayAttr>:$pads,
                       OptionalAttr<I64ArrayAttr>:$strides,
                       DefaultValuedAttr<I64Attr, "0">:$storage_order);
  let results = (outs TensorOf<[I64]>:$Indices);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    llvm::SmallVector<int64_t> getStridesOrDefault();
    llvm::SmallVector<int64_t> getDilationsOrDefault();
    llvm::SmallVector<int64_t> getPadsOrDefault();
  }];
}

def GLM_GlobalAveragePoolOp : GLM_Op<"global_average_pool", [Pure, SameOperandsAndResultElementType]> {
  let summary = "mean over all spatial dims";
  let description = "ONNX `GlobalAveragePool`: [N, C, D...] -> [N, C, 1...].";
  let arguments = (ins GLM_FloatTensor:$X);
  let results = (outs GLM_FloatTensor:$Y);
}
def GLM_GlobalMaxPoolOp : GLM_Op<"global_max_pool", [Pure, SameOperandsAndResultElementType]> {
  let summary = "max over all spatial dims";
  let description = "ONNX `GlobalMaxPool`: [N, C, D...] -> [N, C, 1...].";
  let arguments = (ins GLM_FloatTensor:$X);
  let results = (outs GLM_FloatTensor:$Y);
}

def GLM_SoftmaxOp : GLM_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax along one axis";
  let description = "ONNX `Softmax` (opset 13): normalised exp along `axis`.";
  let arguments = (ins GLM_FloatTensor:$input, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs GLM_FloatTensor:$output);
  let hasVerifier = 1;
}
def GLM_LogSoftmaxOp : GLM_Op<"log_softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "log of softmax along one axis";
  let description = "ONNX `LogSoftmax` (opset 13).";
  let arguments = (ins GLM_FloatTensor:$input, DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs GLM_FloatTensor:$output);
  let hasVerifier = 1;
}

def GLM_LayerNormalizationOp : GLM_Op<"layer_normalization", [Pure]> {
  let summary = "layer normalization over the trailing dims from axis";
  let description = [{
    ONNX `LayerNormalization` (opset 17), first output only:
    `Y = (X - mean) / sqrt(var + epsilon) * Scale + B` over dims [axis, rank).
  }];
  let arguments = (ins GLM_FloatTensor:$X, GLM_FloatTensor:$Scale, Optional<GLM_FloatTensor>:$B,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1e-05">:$epsilon);
  let results = (outs GLM_FloatTensor:$Y);
  let hasVerifier = 1;
}

class GLM_ReduceOp<string mnemonic, string what> : GLM_Op<mnemonic, [Pure]> {
  let summary = what # " over axes";
  let description = [{
    ONNX reduction (opset 18 form): `axes` (attribute here; the importer
    takes it from the opset 18 input when constant) lists the reduced dims,
    empty means all unless `noop_with_empty_axes`; `keepdims` keeps them as 1.
  }];
  let arguments = (ins GLM_NumericTensor:$data, OptionalAttr<I64ArrayAttr>:$axes,
                       DefaultValuedAttr<I64Attr, "1">:$keepdims,
                       DefaultValuedAttr<I64Attr, "0">:$noop_with_empty_axes);
  let results = (outs GLM_NumericTensor:$reduced);
  // Small integer constants (shape arithmetic) fold.
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// Normalised, sorted reduced dims.
    llvm::SmallVector<int64_t> getReducedDims();
  }];
}
def GLM_ReduceMeanOp : GLM_ReduceOp<"reduce_mean", "mean">;
def GLM_ReduceSumOp : GLM_ReduceOp<"reduce_sum", "sum">;
def GLM_ReduceMaxOp : GLM_ReduceOp<"reduce_max", "maximum">;
def GLM_ReduceMinOp : GLM_ReduceOp<"reduce_min", "minimum">;
def GLM_ReduceProdOp : GLM_ReduceOp<"reduce_prod", "product">;

class GLM_ArgOp<string mnemonic, string what> : GLM_Op<mnemonic, [Pure]> {
  let summary = "index of the " # what # " along an axis";
  let description = [{
    ONNX `ArgMax`/`ArgMin` (opset 13): the i64 index of the extreme element
    along `axis` (the first of equal ones, or the last with
    `select_last_index`); `keepdims` keeps the axis as 1.
  }];
  let arguments = (ins GLM_NumericTensor:$data, DefaultValuedAttr<I64Attr, "0">:$axis,
                       DefaultValuedAttr<I64Attr, "1">:$keepdims,
                       DefaultValuedAttr<I64Attr, "0">:$select_last_index);
  let results = (outs TensorOf<[I64]>:$reduced);
}
def GLM_ArgMaxOp : GLM_ArgOp<"arg_max", "largest">;
def GLM_ArgMinOp : GLM_ArgOp<"arg_min", "smallest">;

def GLM_CumSumOp : GLM_Op<"cum_sum", [Pure]> {
  let summary = "cumulative sum along an axis";
  let description = [{
    ONNX `CumSum` (opset 14) with the axis as an attribute (the importer
    takes the constant axis input): inclusive by default, `exclusive` starts
    from 0, `reverse` sums from the end.
  }];
  let arguments = (ins GLM_NumericTensor:$x, I64Attr:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$exclusive,
                       DefaultValuedAttr<I64Attr, "0">:$reverse);
  let results = (outs GLM_NumericTensor:$y);
}

def GLM_OneHotOp : GLM_Op<"one_hot", [Pure]> {
  let summary = "one-hot encoding";
  let description = [{
    ONNX `OneHot` (opset 11) with a compile-time `depth`: the result has a
    new dim of size depth at `axis`; an element is values[1] where its
    coordinate there equals the index (negative indices count from the
    end), values[0] elsewhere.
  }];
  let arguments = (ins GLM_NumericTensor:$indices, GLM_AnyTensor:$values, I64Attr:$depth,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs GLM_AnyTensor:$output);
}

def GLM_TopKOp : GLM_Op<"top_k", [Pure]> {
  let summary = "the k largest or smallest elements along an axis";
  let description = [{
    ONNX `TopK` (opset 11) with a compile-time `k` (the importer takes the
    constant K input): `Values` holds the k largest (`largest` = 1) or
    smallest elements along `axis`, `Indices` their i64 positions; of equal
    elements the one with the lower index comes first. The result is always
    sorted, which `sorted` = 0 allows.

    ```mlir
    %v, %i = glm.top_k %x {axis = 1 : i64, k = 3 : i64}
       : (tensor<2x10xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>)
    ```
  }];
  let arguments = (ins GLM_NumericTensor:$X, I64Attr:$k,
                       DefaultValuedAttr<I64Attr, "-1">:$axis,
                       DefaultValuedAttr<I64Attr, "1">:$largest,
                       DefaultValuedAttr<I64Attr, "1">:$sorted);
  let results = (outs GLM_NumericTensor:$Values, TensorOf<[I64]>:$Indices);
}

#endif // GLM_OPS_NN_TD
