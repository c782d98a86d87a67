//===- GLMInterfaces.h - glm op interfaces and traits ------------*- C++ -*-===//

#ifndef GLMC_DIALECTS_GLM_GLMINTERFACES_H
#define GLMC_DIALECTS_GLM_GLMINTERFACES_H

#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::glm {

/// Elementwise op: operands broadcast together (numpy rules), one result.
template <typename ConcreteType>
class GLMElementwise : public OpTrait::TraitBase<ConcreteType, GLMElementwise> {};

} // namespace mlir::glm

#include "dialects/glm/GLMInterfaces.h.inc"

namespace mlir::glm {

/// Runs the op's shape inference and refines its result types in place
/// (types only get more precise: a static dim is never replaced by a dynamic
/// one). Returns failure when inference reports inconsistent operands.
LogicalResult refineResultTypes(Operation *op);

} // namespace mlir::glm

#endif // GLMC_DIALECTS_GLM_GLMINTERFACES_H
