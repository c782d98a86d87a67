//===- EnsureFreshResults.cpp - glm-ensure-fresh-results ------------------===//

#include "passes/Passes.h"

#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::glm {
#define GEN_PASS_DEF_ENSUREFRESHRESULTSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

/// The value a memref is a view of, looking through view-like ops.
Value viewRoot(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      break;
    v = view.getViewSource();
  }
  return v;
}

struct EnsureFreshResultsPass : glm::impl::EnsureFreshResultsPassBase<EnsureFreshResultsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    func.walk([&](func::ReturnOp ret) {
      OpBuilder b(ret);
      SmallPtrSet<Operation *, 8> seenAllocs;
      for (OpOperand &operand : ret->getOpOperands()) {
        auto type = dyn_cast<MemRefType>(operand.get().getType());
        if (!type)
          continue;
        Value root = viewRoot(operand.get());
        Operation *alloc = root.getDefiningOp<memref::AllocOp>();
        // A fresh, unaliased allocation of the exact returned buffer is
        // handed over as is; anything else is copied.
        if (alloc && root == operand.get() && seenAllocs.insert(alloc).second)
          continue;
        Location loc = ret.getLoc();
        SmallVector<Value> dynSizes;
        for (int64_t d = 0; d < type.getRank(); ++d)
          if (type.isDynamicDim(d))
            dynSizes.push_back(memref::DimOp::create(b, loc, operand.get(), d));
        auto freshType = MemRefType::get(type.getShape(), type.getElementType());
        Value fresh = memref::AllocOp::create(b, loc, freshType, dynSizes, b.getI64IntegerAttr(64));
        memref::CopyOp::create(b, loc, operand.get(), fresh);
        Value result = fresh;
        if (freshType != type)
          result = memref::CastOp::create(b, loc, type, fresh);
        operand.set(result);
        seenAllocs.insert(fresh.getDefiningOp());
      }
    });
  }
};

} // namespace
