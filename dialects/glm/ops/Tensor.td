//===- Tensor.td - data movement and shape ops ------------*- tablegen -*-===//

#ifndef GLM_OPS_TENSOR_TD
#define GLM_OPS_TENSOR_TD

include "dialects/glm/GLMBase.td"

def GLM_ConstantOp : GLM_Op<"constant", [Pure, ConstantLike]> {
  let summary = "constant tensor";
  let description = [{
    A constant: an ONNX initializer or `Constant` node. Weights are
    `dense_resource` blobs (never copied into the context); small folded
    values (shapes) are plain `dense`.

    ```mlir
    %w = glm.constant {value = dense_resource<conv1.weight> : tensor<16x3x3x3xf32>} : tensor<16x3x3x3xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs GLM_AnyTensor:$output);
  let hasFolder = 1;
  let hasVerifier = 1;
  let assemblyFormat = "attr-dict `:` type($output)";
  let builders = [OpBuilder<(ins "::mlir::ElementsAttr":$value), [{
    build($_builder, $_state, value.getType(), value);
  }]>];
}

def GLM_ReshapeOp : GLM_Op<"reshape", [Pure]> {
  let summary = "reshape to a shape tensor";
  let description = [{
    ONNX `Reshape` (opset 14): `shape` is a 1-d i64 tensor; 0 copies the
    input dim (unless `allowzero`), -1 is inferred.
  }];
  let arguments = (ins GLM_AnyTensor:$data, TensorOf<[I64]>:$shape,
                       DefaultValuedAttr<I64Attr, "0">:$allowzero);
  let results = (outs GLM_AnyTensor:$reshaped);
  let hasFolder = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// The size a -1 entry stands for when other entries are dynamic but
    /// provably equal to input dims (kDynamic when it cannot be shown).
    int64_t inferWithDynamicEntries(llvm::ArrayRef<int64_t> target);
  }];
}

def GLM_FlattenOp : GLM_Op<"flatten", [Pure]> {
  let summary = "flatten into a 2-d tensor at axis";
  let description = "ONNX `Flatten` (opset 13): [d0..d(axis-1)] x [d(axis)..].";
  let arguments = (ins GLM_AnyTensor:$input, DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs GLM_AnyTensor:$output);
}

def GLM_TransposeOp : GLM_Op<"transpose", [Pure]> {
  let summary = "permute dims";
  let description = "ONNX `Transpose`: `perm` (default: reversed dims).";
  let arguments = (ins GLM_AnyTensor:$data, OptionalAttr<I64ArrayAttr>:$perm);
  let results = (outs GLM_AnyTensor:$transposed);
  let hasFolder = 1;
  let extraClassDeclaration = [{
    llvm::SmallVector<int64_t> getPermOrDefault();
  }];
}

def GLM_ConcatOp : GLM_Op<"concat", [Pure]> {
  let summary = "concatenate along an axis";
  let description = "ONNX `Concat` (opset 13).";
  let arguments = (ins Variadic<GLM_AnyTensor>:$inputs, I64Attr:$axis);
  let results = (outs GLM_AnyTensor:$concat_result);
  let hasFolder = 1;
  let hasVerifier = 1;
}

def GLM_SplitOp : GLM_Op<"split", [Pure]> {
  let summary = "split along an axis";
  let description = [{
    ONNX `Split` (opset 18 semantics): `split` sizes as an attribute (the
    importer takes the operand when constant); without it, equal parts
    (the last one smaller when the dim does not divide).
  }];
  let arguments = (ins GLM_AnyTensor:$input, DefaultValuedAttr<I64Attr, "0">:$axis,
                       OptionalAttr<I64ArrayAttr>:$split);
  let results = (outs Variadic<GLM_AnyTensor>:$outputs);
  // A split of a static dim becomes one glm.slice per piece: the channel
  // analysis of --prune follows slices of a fused projection (the dynamo
  // exporter writes chunk() as Split, TorchScript as Slices), and both
  // lower to the same extract_slice.
  let hasCanonicalizer = 1;
}

def GLM_ShapeOp : GLM_Op<"shape", [Pure]> {
  let summary = "shape of a tensor as a 1-d i64 tensor";
  let description = "ONNX `Shape` (opset 15) with optional `start`/`end`.";
  let arguments = (ins GLM_AnyTensor:$data, OptionalAttr<I64Attr>:$start,
                       OptionalAttr<I64Attr>:$end);
  let results = (outs TensorOf<[I64]>:$shape);
  let hasFolder = 1;
  let extraClassDeclaration = [{
    /// The [start, end) range of dims, normalised and clamped.
    std::pair<int64_t, int64_t> getDimRange();
  }];
}

def GLM_SizeOp : GLM_Op<"size", [Pure]> {
  let summary = "number of elements as a 0-d i64 tensor";
  let description = "ONNX `Size`.";
  let arguments = (ins GLM_AnyTensor:$data);
  let results = (outs TensorOf<[I64]>:$size);
  let hasFolder = 1;
}

def GLM_GatherOp : GLM_Op<"gather", [Pure]> {
  let summary = "gather slices along an axis";
  let description = [{
    ONNX `Gather` (opset 13): out = data indexed along `axis` by `indices`
    (negative indices count from the end).
  }];
  let arguments = (ins GLM_AnyTensor:$data, GLM_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs GLM_AnyTensor:$output);
  let hasFolder = 1;
}

def GLM_GatherNDOp : GLM_Op<"gather_nd", [Pure]> {
  let summary = "gather slices by index tuples";
  let description = [{
    ONNX `GatherND` (opset 13): each row of the last indices dim (k
    entries) indexes the leading k dims of `data` after the first
    `batch_dims`, which data and indices share. The result has shape
    indices.shape[:-1] + data.shape[batch_dims + k:]. Negative indices
    count from the end.
  }];
  let arguments = (ins GLM_AnyTensor:$data, GLM_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs GLM_AnyTensor:$output);
}

def GLM_ScatterNDOp : GLM_Op<"scatter_nd", [Pure]> {
  let summary = "scatter slices by index tuples";
  let description = [{
    ONNX `ScatterND` (opset 18): a copy of `data` where, for each index
    tuple in the last dim of `indices` (k entries, negative ones counting
    from the end), the slice data[tuple] is replaced by (`reduction` =
    "none") or combined with ("add", "mul", "max", "min") the matching
    slice of `updates`, whose shape is indices.shape[:-1] + data.shape[k:].
    Tuples are applied in order; with "none" a repeated tuple keeps the
    last update.

    ```mlir
    %y = glm.scatter_nd %x, %i, %u {reduction = "add"}
       : (tensor<4x3xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins GLM_AnyTensor:$data, GLM_IndexTensor:$indices, GLM_AnyTensor:$updates,
                       DefaultValuedStrAttr<StrAttr, "none">:$reduction);
  let results = (outs GLM_AnyTensor:$output);
}

def GLM_GatherElementsOp : GLM_Op<"gather_elements", [Pure]> {
  let summary = "gather elements along an axis";
  let description = [{
    ONNX `GatherElements` (opset 13): out[i...] = data[i... with i[axis]
    replaced by indices[i...]]; the result has the shape of `indices`.
  }];
  let arguments = (ins GLM_AnyTensor:$data, GLM_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs GLM_AnyTensor:$output);
}

def GLM_UnsqueezeOp : GLM_Op<"unsqueeze", [Pure]> {
  let summary = "insert unit dims";
  let description = "ONNX `Unsqueeze` (opset 13; `axes` as an attribute).";
  let arguments = (ins GLM_AnyTensor:$data, I64ArrayAttr:$axes);
  let results = (outs GLM_AnyTensor:$expanded);
  let hasFolder = 1;
}

def GLM_SqueezeOp : GLM_Op<"squeeze", [Pure]> {
  let summary = "remove unit dims";
  let description = "ONNX `Squeeze` (opset 13; `axes` as an attribute; absent: all unit dims).";
  let arguments = (ins GLM_AnyTensor:$data, OptionalAttr<I64ArrayAttr>:$axes);
  let results = (outs GLM_AnyTensor:$squeezed);
  let hasFolder = 1;
}

def GLM_SliceOp : GLM_Op<"slice", [Pure, AttrSizedOperandSegments]> {
  let summary = "strided slice";
  let description = [{
    ONNX `Slice` (opset 13): `starts`, `ends`, optional `axes` and `steps`
    are 1-d integer tensors; out-of-range values are clamped.
  }];
  let arguments = (ins GLM_AnyTensor:$data, GLM_IndexTensor:$starts, GLM_IndexTensor:$ends,
                       Optional<GLM_IndexTensor>:$axes, Optional<GLM_IndexTensor>:$steps);
  let results = (outs GLM_AnyTensor:$output);
  let hasFolder = 1;
}

def GLM_ExpandOp : GLM_Op<"expand", [Pure]> {
  let summary = "broadcast to a shape";
  let description = "ONNX `Expand` (opset 13): numpy broadcast of `input` and `shape`.";
  let arguments = (ins GLM_AnyTensor:$input, TensorOf<[I64]>:$shape);
  let results = (outs GLM_AnyTensor:$output);
  let hasFolder = 1;
}

def GLM_TileOp : GLM_Op<"tile", [Pure]> {
  let summary = "repeat along each dim";
  let description = "ONNX `Tile`: `repeats` is a 1-d i64 tensor.";
  let arguments = (ins GLM_AnyTensor:$input, TensorOf<[I64]>:$repeats);
  let results = (outs GLM_AnyTensor:$output);
}

def GLM_PadOp : GLM_Op<"pad", [Pure]> {
  let summary = "pad with a constant, the edge, a reflection or a wrap";
  let description = [{
    ONNX `Pad` (opset 13): `pads` is a 1-d i64 tensor [begin..., end...]
    (the importer expands opset 18's `axes`). `mode` is "constant" (the
    scalar or one-element `constant_value`, 0 without it), "edge" (the
    border repeated), "reflect" (mirrored without repeating the border) or
    "wrap" (periodic); the last three ignore `constant_value`.
  }];
  let arguments = (ins GLM_AnyTensor:$data, TensorOf<[I64]>:$pads,
                       Optional<GLM_AnyTensor>:$constant_value,
                       DefaultValuedStrAttr<StrAttr, "constant">:$mode);
  let results = (outs GLM_AnyTensor:$output);
}

def GLM_ResizeOp : GLM_Op<"resize", [Pure]> {
  let summary = "nearest, linear or cubic resampling";
  let description = [{
    ONNX `Resize` (opsets 10-19) and `Upsample` with compile-time scales or
    sizes: `scales` has one factor per dim (1 where a dim keeps its size);
    `sizes`, where the model gave sizes, the exact output dims (the scale is
    then size / input size, as ONNX computes it). Otherwise an output dim is
    floor(input dim * scale). `mode` is "nearest", "linear" (n-linear over
    the resized dims) or "cubic" (4 taps per resized dim, Keys kernel with
    `cubic_coeff_a`; `exclude_outside` = 1 drops the taps outside the input
    and renormalises the others; `antialias` = 1 widens the linear or cubic
    kernel by 1 / scale where a dim shrinks and normalises its weights to sum
    1, as the ONNX reference), `coordinate_transformation_mode` one of
    half_pixel, half_pixel_symmetric, pytorch_half_pixel, align_corners,
    asymmetric, tf_crop_and_resize; `nearest_mode` one of
    round_prefer_floor, round_prefer_ceil, floor, ceil. Source coordinates
    are clamped to the input (edge values beyond it, as ONNX Runtime reads
    them). tf_crop_and_resize reads `roi` ([start..., end...], one pair per
    dim, normalised) and writes `extrapolation_value` where a source
    coordinate falls outside the input.
  }];
  let arguments = (ins GLM_FloatTensor:$X, F32ArrayAttr:$scales, OptionalAttr<I64ArrayAttr>:$sizes,
                       DefaultValuedStrAttr<StrAttr, "nearest">:$mode,
                       DefaultValuedStrAttr<StrAttr, "half_pixel">:$coordinate_transformation_mode,
                       DefaultValuedStrAttr<StrAttr, "round_prefer_floor">:$nearest_mode,
                       DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                       DefaultValuedAttr<I64Attr, "0">:$exclude_outside,
                       DefaultValuedAttr<I64Attr, "0">:$antialias,
                       OptionalAttr<F32ArrayAttr>:$roi,
                       DefaultValuedAttr<F32Attr, "0.0">:$extrapolation_value);
  let results = (outs GLM_FloatTensor:$Y);
  let hasVerifier = 1;
}

def GLM_ConstantOfShapeOp : GLM_Op<"constant_of_shape", [Pure]> {
  let summary = "tensor of a given shape filled with one value";
  let description = "ONNX `ConstantOfShape`: `value` is a one-element tensor (default 0.0f).";
  let arguments = (ins TensorOf<[I64]>:$input, OptionalAttr<ElementsAttr>:$value);
  let results = (outs GLM_AnyTensor:$output);
  let hasFolder = 1;
}

def GLM_RangeOp : GLM_Op<"range", [Pure]> {
  let summary = "arithmetic sequence";
  let description = "ONNX `Range`: [start, limit) step delta; scalar operands.";
  let arguments = (ins GLM_NumericTensor:$start, GLM_NumericTensor:$limit, GLM_NumericTensor:$delta);
  let results = (outs GLM_NumericTensor:$output);
  let hasFolder = 1;
}

def GLM_ReportIndexErrorOp : Op<GLM_Dialect, "report_index_error",
                                [MemoryEffects<[MemWrite]>]> {
  let summary = "an index out of range at run time (made by the lowering)";
  let description = [{
    glm-lower-to-linalg checks the indices of Gather, GatherElements,
    GatherND and ScatterND before the (clamped, memory-safe) gather or scatter and reports a bad one
    with this op: `value` is the index, `bound` the size of the dim it
    indexes (ONNX allows -bound to bound - 1), `site` names the ONNX node.
    glm-lower-index-reports turns it into a call of the artifact's
    glm_index_error, which tells the runtime; the run then fails with
    OUT_OF_RANGE naming the node and the value.
  }];
  let arguments = (ins I64:$value, I64:$bound, StrAttr:$site);
  let assemblyFormat = "$value `,` $bound attr-dict";
}

def GLM_Dot4AccumulateOp : Op<GLM_Dialect, "dot4_accumulate",
                               [Pure, AllTypesMatch<["acc", "a", "b", "result"]>]> {
  let summary = "i32 lanes plus 4-byte int8 dot products (made by the lowering)";
  let description = [{
    `result[i] = acc[i] + sum_{j<4} ext(a.byte[4i+j]) * sext(b.byte[4i+j])`,
    each i32 lane of `a` and `b` holding 4 bytes (little-endian), `a`'s
    bytes unsigned (zero-extended) or, with `a_signed`, signed. Made by
    glm-tile-and-vectorize's int8 convolution kernel for targets with
    int8 dot-product instructions; glm-lower-int8-dots turns it into the
    target's instruction (AVX-512 VNNI vpdpbusd for uint8 x int8, AArch64
    sdot for int8 x int8) or into plain vector arithmetic. Exact: no
    saturation.
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I32]>:$acc, VectorOfRankAndType<[1], [I32]>:$a,
                       VectorOfRankAndType<[1], [I32]>:$b, UnitAttr:$a_signed);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$result);
  let assemblyFormat = "$acc `,` $a `,` $b attr-dict `:` type($result)";
}

def GLM_Dot2AccumulateOp : Op<GLM_Dialect, "dot2_accumulate",
                               [Pure, AllTypesMatch<["acc", "a", "b", "result"]>]> {
  let summary = "i32 lanes plus int16 pair dot products (made by the lowering)";
  let description = [{
    `result[i] = acc[i] + sum_{j<2} sext(a.i16[2i+j]) * sext(b.i16[2i+j])`,
    each i32 lane of `a` and `b` holding 2 int16 (little-endian). Made by
    glm-tile-and-vectorize's int8 convolution kernel (int8 widened to
    int16) for AVX2; glm-lower-int8-dots turns it into vpmaddwd + vpaddd
    or plain vector arithmetic. Exact.
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I32]>:$acc, VectorOfRankAndType<[1], [I32]>:$a,
                       VectorOfRankAndType<[1], [I32]>:$b);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$result);
  let assemblyFormat = "$acc `,` $a `,` $b attr-dict `:` type($result)";
}

def GLM_NonZeroOp : GLM_Op<"non_zero", [Pure]> {
  let summary = "indices of the nonzero elements";
  let description = [{
    ONNX `NonZero`: a [rank, count] i64 tensor of the coordinates of the
    input's nonzero elements in row-major order (a 0-d input has rank 1).
    The count depends on the data: the result's second dim is dynamic
    unless the importer folded a constant input.
  }];
  let arguments = (ins GLM_AnyTensor:$input);
  let results = (outs TensorOf<[I64]>:$output);
}

def GLM_TriluOp : GLM_Op<"trilu", [Pure]> {
  let summary = "upper or lower triangle of the last two dims";
  let description = "ONNX `Trilu` (opset 14): `upper` = 1 keeps j >= i + k.";
  let arguments = (ins GLM_AnyTensor:$input, Optional<TensorOf<[I64]>>:$k,
                       DefaultValuedAttr<I64Attr, "1">:$upper);
  let results = (outs GLM_AnyTensor:$output);
}

#endif // GLM_OPS_TENSOR_TD
