//===- InferShapes.cpp - glm-infer-shapes ---------------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"

namespace mlir::glm {
#define GEN_PASS_DEF_INFERSHAPESPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;

namespace {
struct InferShapesPass : glm::impl::InferShapesPassBase<InferShapesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    WalkResult walk = func.walk([](Operation *op) {
      if (!isa<ShapeInferenceOpInterface>(op))
        return WalkResult::advance();
      return failed(refineResultTypes(op)) ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    // Refine the function's result types from what is returned.
    Operation *ret = func.getBody().back().getTerminator();
    SmallVector<Type> results(ret->getOperandTypes());
    if (TypeRange(results) != func.getFunctionType().getResults())
      func.setFunctionType(
          FunctionType::get(func.getContext(), func.getArgumentTypes(), results));
  }
};
} // namespace
