//===- ShapeUtils.h - shape and constant helpers for glm ops ----*- C++ -*-===//
//
// Small helpers shared by the op definitions, the importer and the passes:
// numpy broadcasting, axis normalisation, and reading constant (or partially
// constant) integer tensors such as the outputs of shape subgraphs.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_DIALECTS_GLM_SHAPEUTILS_H
#define GLMC_DIALECTS_GLM_SHAPEUTILS_H

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace mlir::glm {

/// Broadcasts two shapes with numpy rules; kDynamic dims stay dynamic unless
/// the other side fixes them. Fails on a static mismatch.
FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b);

/// Normalises a possibly negative axis into [0, rank); nullopt if out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// The elements attribute of a constant-defined value, or null.
ElementsAttr getConstantElements(Value value);

/// The raw little-endian bytes of a dense or dense_resource elements
/// attribute (a splat dense attr yields one element). Empty if unknown.
ArrayRef<char> getRawBytes(ElementsAttr attr);

/// Integer values of a constant integer tensor (any int width), or nullopt.
std::optional<SmallVector<int64_t>> getConstantIntValues(Value value);
std::optional<SmallVector<int64_t>> getIntValues(ElementsAttr attr);

/// Float values of a constant float tensor, or nullopt.
std::optional<SmallVector<double>> getFloatValues(ElementsAttr attr);

/// Values of a 1-d integer tensor where each element is either a known
/// constant or ShapedType::kDynamic, looking through the ops shape subgraphs
/// are made of (shape, gather, concat, unsqueeze, squeeze, cast, slice of
/// constants and of shape). nullopt when not even the length is known.
std::optional<SmallVector<int64_t>> getPartialIntValues(Value value);

/// The ranked tensor type of `v`, or null.
inline RankedTensorType rankedOrNull(Value v) { return dyn_cast<RankedTensorType>(v.getType()); }
/// The element type of a tensor value (or the type itself).
inline Type elementTypeOf(Value v) { return getElementTypeOrSelf(v.getType()); }
/// The element type of `v`'s values as numbers: a quantized type's
/// expressed type (f32 for !quant.uniform<i8:f32, ...>), else the element
/// type itself.
inline Type valueElementTypeOf(Value v) {
  Type et = elementTypeOf(v);
  if (auto q = dyn_cast<quant::QuantizedType>(et))
    return q.getExpressedType();
  return et;
}
/// The integers of an optional I64ArrayAttr (empty when absent).
SmallVector<int64_t> toI64(std::optional<ArrayAttr> attr);

/// Every element of a static int or float constant as a double (splats
/// expanded; f32 read directly from the blob). nullopt if unsupported.
std::optional<SmallVector<double>> getValuesAsDouble(ElementsAttr attr);

/// getValuesAsDouble of the constant defining `v`; nullopt when `v` is not
/// a glm.constant or its type is unsupported.
std::optional<SmallVector<double>> getConstantValuesAsDouble(Value v);

/// A new dense_resource attribute of `type` (int or float element type)
/// holding `values`, named `name` (the blob manager makes names unique).
ElementsAttr makeResourceElements(RankedTensorType type, ArrayRef<double> values, StringRef name);

/// Where entry `index` of a 1-d shape tensor comes from, when it is one
/// dim of a tensor: `shape(x)[j]` through gather, unsqueeze, concat and
/// cast (how exporters build reshape targets like [batch, seq, -1, 32]).
std::optional<std::pair<Value, int64_t>> getShapeEntrySource(Value shape, int64_t index);

/// Whether dim `i` of `a` and dim `j` of `b` are provably the same size:
/// both trace back, through ops that carry the dim unchanged (element-wise
/// ops, which only broadcast dims that are statically 1; transposes;
/// matmul rows, columns and batch dims; softmax and normalisations;
/// reshape entries copied from a dim), to the same dim of the same value.
bool isSameDim(Value a, int64_t i, Value b, int64_t j);

/// The ONNX node name an op came from: the first NameLoc inside `loc`
/// (through fused and call-site locations), "" when there is none.
std::string getNodeName(Location loc);

/// float8, float4 and 4-bit integer element types (ONNX FLOAT8*, FLOAT4E2M1,
/// INT4, UINT4): storage and conversion only; the lowering holds them one
/// per byte (passes/lowering/linalg/NarrowTypes.cpp).
bool isNarrowType(Type t);

/// Number of elements of a static shape.
int64_t getNumElements(ArrayRef<int64_t> shape);

/// A dense attribute of `type` holding `values` (int or float element type).
DenseElementsAttr makeIntElements(ShapedType type, ArrayRef<int64_t> values);

} // namespace mlir::glm

#endif // GLMC_DIALECTS_GLM_SHAPEUTILS_H
