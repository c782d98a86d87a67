//===- ApproximateMath.cpp - glm-approximate-math -------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::glm {
#define GEN_PASS_DEF_APPROXIMATEMATHPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {
struct ApproximateMathPass : glm::impl::ApproximateMathPassBase<ApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // f16/bf16 math is computed in f32 first, then approximated.
    populateMathF32ExpansionPatterns(patterns, [](StringRef) { return true; });
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef opName) {
      StringRef name = opName;
      name.consume_front("math.");
      return name == "exp" || name == "expm1" || name == "log" || name == "log1p" ||
             name == "log2" || name == "tanh" || name == "erf" || name == "atan" ||
             name == "atan2" || name == "sin" || name == "cos" || name == "asin" ||
             name == "acos" || name == "cbrt";
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns)))) {
      getOperation().emitError("math approximation did not converge");
      signalPassFailure();
    }
  }
};
} // namespace
