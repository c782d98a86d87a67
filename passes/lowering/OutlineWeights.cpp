#include "passes/Passes.h"
namespace mlir::glm {
#define GEN_PASS_DEF_OUTLINEWEIGHTSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm
using namespace mlir;
namespace {
struct OutlineWeightsPass : glm::impl::OutlineWeightsPassBase<OutlineWeightsPass> {
  using OutlineWeightsPassBase::OutlineWeightsPassBase;
  void runOnOperation() override {}
};
} // namespace
