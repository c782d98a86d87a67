//===- LowerIndexReports.cpp - glm-lower-index-reports ---------------------===//
//
// glm.report_index_error (made by glm-lower-to-linalg where a gather's index
// is out of range) -> func.call @glm_index_error(site, value, bound), the
// site a constant C string ("node 'X': Gather indices"). The artifact's
// glm_index_error passes it to the runtime (host table report_error).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"

#include "llvm/ADT/StringMap.h"

namespace mlir::glm {
#define GEN_PASS_DEF_LOWERINDEXREPORTSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

constexpr StringLiteral kReportFn = "glm_index_error";

struct LowerIndexReportsPass : glm::impl::LowerIndexReportsPassBase<LowerIndexReportsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<glm::ReportIndexErrorOp> reports;
    module.walk([&](glm::ReportIndexErrorOp op) { reports.push_back(op); });
    if (reports.empty())
      return;
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    b.setInsertionPointToStart(module.getBody());
    auto ptrTy = LLVM::LLVMPointerType::get(ctx);
    Type i64 = b.getI64Type();
    auto fn = module.lookupSymbol<func::FuncOp>(kReportFn);
    if (!fn) {
      fn = func::FuncOp::create(b, module.getLoc(), kReportFn, b.getFunctionType({ptrTy, i64, i64}, {}));
      fn.setPrivate();
    }
    // One global per distinct site, in the order the sites first appear
    // (deterministic names).
    llvm::StringMap<LLVM::GlobalOp> globals;
    for (glm::ReportIndexErrorOp op : reports) {
      StringRef site = op.getSite();
      LLVM::GlobalOp &g = globals[site];
      if (!g) {
        std::string text = site.str();
        text.push_back('\0');
        auto ty = LLVM::LLVMArrayType::get(b.getI8Type(), text.size());
        std::string name = "glm_site_" + std::to_string(globals.size() - 1);
        g = LLVM::GlobalOp::create(b, op.getLoc(), ty, /*isConstant=*/true, LLVM::Linkage::Internal,
                                   name, b.getStringAttr(text));
      }
      OpBuilder ob(op);
      Value addr = LLVM::AddressOfOp::create(ob, op.getLoc(), g);
      func::CallOp::create(ob, op.getLoc(), fn, ValueRange{addr, op.getValue(), op.getBound()});
      op.erase();
    }
  }
};

} // namespace
