#include "passes/Passes.h"
namespace mlir::glm {
#define GEN_PASS_DEF_ENSUREFRESHRESULTSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm
using namespace mlir;
namespace {
struct EnsureFreshResultsPass : glm::impl::EnsureFreshResultsPassBase<EnsureFreshResultsPass> {
  using EnsureFreshResultsPassBase::EnsureFreshResultsPassBase;
  void runOnOperation() override {}
};
} // namespace
