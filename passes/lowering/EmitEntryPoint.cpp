#include "passes/Passes.h"
namespace mlir::glm {
#define GEN_PASS_DEF_EMITENTRYPOINTPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm
using namespace mlir;
namespace {
struct EmitEntryPointPass : glm::impl::EmitEntryPointPassBase<EmitEntryPointPass> {
  using EmitEntryPointPassBase::EmitEntryPointPassBase;
  void runOnOperation() override {}
};
} // namespace
