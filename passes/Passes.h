//===- Passes.h - glm passes -------------------------------------*- C++ -*-===//

#ifndef GLMC_PASSES_PASSES_H
#define GLMC_PASSES_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Action.h"
#include "mlir/Pass/Pass.h"

namespace mlir::glm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// One layer's work in glm-prune (scoring and masking a layer, or the
/// least-squares refit of a consumer), run through MLIR's action framework
/// so that a driver can show "layer i/n" (MLIRContext::registerActionHandler)
/// without the pass printing anything.
class PruneLayerAction : public tracing::ActionImpl<PruneLayerAction> {
public:
  using Base = tracing::ActionImpl<PruneLayerAction>;
  PruneLayerAction(ArrayRef<IRUnit> units, StringRef what, size_t index, size_t count)
      : Base(units), what(what), index(index), count(count) {}
  static constexpr StringLiteral tag = "glm-prune-layer";
  void print(raw_ostream &os) const override {
    os << tag << ": " << what << " " << index + 1 << "/" << count;
  }
  /// "pruning" or "reconstructing".
  StringRef what;
  size_t index, count;
};

} // namespace mlir::glm

#endif // GLMC_PASSES_PASSES_H
