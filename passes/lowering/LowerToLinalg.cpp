#include "passes/Passes.h"
namespace mlir::glm {
#define GEN_PASS_DEF_LOWERTOLINALGPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm
using namespace mlir;
namespace {
struct LowerToLinalgPass : glm::impl::LowerToLinalgPassBase<LowerToLinalgPass> {
  using LowerToLinalgPassBase::LowerToLinalgPassBase;
  void runOnOperation() override {}
};
} // namespace
