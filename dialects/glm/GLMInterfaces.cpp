//===- GLMInterfaces.cpp - glm op interfaces ------------------------------===//

#include "dialects/glm/GLMInterfaces.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace mlir::glm;

#include "dialects/glm/GLMInterfaces.cpp.inc"

/// The more precise of two types for the same value, or null when they
/// contradict each other (different static dims, ranks or element types).
static Type meetTypes(Type current, Type inferred) {
  auto cur = dyn_cast<TensorType>(current);
  auto inf = dyn_cast<TensorType>(inferred);
  if (!cur || !inf)
    return inferred;
  auto curRanked = dyn_cast<RankedTensorType>(cur);
  auto infRanked = dyn_cast<RankedTensorType>(inf);
  // An unranked placeholder (from the importer) always yields to inference,
  // including its element type.
  if (!curRanked)
    return inferred;
  if (cur.getElementType() != inf.getElementType())
    return nullptr;
  if (!infRanked)
    return current;
  if (curRanked.getRank() != infRanked.getRank())
    return nullptr;
  SmallVector<int64_t> shape;
  for (auto [c, i] : llvm::zip(curRanked.getShape(), infRanked.getShape())) {
    if (ShapedType::isDynamic(c))
      shape.push_back(i);
    else if (ShapedType::isDynamic(i) || c == i)
      shape.push_back(c);
    else
      return nullptr;
  }
  return RankedTensorType::get(shape, cur.getElementType());
}

LogicalResult mlir::glm::refineResultTypes(Operation *op) {
  auto iface = dyn_cast<ShapeInferenceOpInterface>(op);
  if (!iface)
    return success();
  SmallVector<Type> types;
  if (failed(iface.inferResultTypes(types)))
    return failure();
  if (types.size() != op->getNumResults())
    return op->emitOpError("shape inference produced ")
           << types.size() << " types for " << op->getNumResults() << " results";
  for (auto [result, inferred] : llvm::zip(op->getResults(), types)) {
    Type met = meetTypes(result.getType(), inferred);
    if (!met)
      return op->emitOpError("inferred result type ")
             << inferred << " contradicts the declared type " << result.getType()
             << "; the model's value_info disagrees with its operators";
    result.setType(met);
  }
  return success();
}
