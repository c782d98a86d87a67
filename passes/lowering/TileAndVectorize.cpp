#include "passes/Passes.h"
namespace mlir::glm {
#define GEN_PASS_DEF_TILEANDVECTORIZEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm
using namespace mlir;
namespace {
struct TileAndVectorizePass : glm::impl::TileAndVectorizePassBase<TileAndVectorizePass> {
  using TileAndVectorizePassBase::TileAndVectorizePassBase;
  void runOnOperation() override {}
};
} // namespace
