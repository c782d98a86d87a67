//===- LowerParallelDispatch.cpp - glm-lower-parallel-dispatch ------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::glm {
#define GEN_PASS_DEF_LOWERPARALLELDISPATCHPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

struct LowerParallelDispatchPass
    : glm::impl::LowerParallelDispatchPassBase<LowerParallelDispatchPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto ptrTy = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    SmallVector<LLVM::LLVMFuncOp> dispatches;
    module.walk([&](LLVM::LLVMFuncOp f) {
      if (f->hasAttr("glm.task"))
        dispatches.push_back(f);
    });
    if (dispatches.empty())
      return;
    OpBuilder mb(module.getBody(), module.getBody()->end());
    // void glm_parallel_for(i64 n, i64 grain, ptr fn, ptr arg): host glue.
    auto pforTy = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {i64, i64, ptrTy, ptrTy});
    auto pfor = module.lookupSymbol<LLVM::LLVMFuncOp>("glm_parallel_for");
    if (!pfor)
      pfor = LLVM::LLVMFuncOp::create(mb, module.getLoc(), "glm_parallel_for", pforTy);

    for (LLVM::LLVMFuncOp dispatch : dispatches) {
      auto taskName = dispatch->getAttrOfType<FlatSymbolRefAttr>("glm.task");
      auto task = module.lookupSymbol<LLVM::LLVMFuncOp>(taskName.getValue());
      if (!task) {
        dispatch.emitError("dispatch without its task ") << taskName;
        return signalPassFailure();
      }
      task.setLinkage(LLVM::Linkage::Internal);
      // Captured arguments: everything after (count, grain).
      ArrayRef<Type> params = dispatch.getFunctionType().getParams();
      SmallVector<Type> captured(params.begin() + 2, params.end());
      auto argsTy = LLVM::LLVMStructType::getLiteral(ctx, captured);

      // void glm_trampoline_N(ptr arg, i64 begin, i64 end)
      std::string trampName = ("glm_trampoline_" + taskName.getValue().drop_front(9)).str();
      auto trampTy = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptrTy, i64, i64});
      auto tramp = LLVM::LLVMFuncOp::create(mb, dispatch.getLoc(), trampName, trampTy,
                                            LLVM::Linkage::Internal);
      {
        Block *b = tramp.addEntryBlock(mb);
        OpBuilder tb = OpBuilder::atBlockBegin(b);
        SmallVector<Value> callArgs{b->getArgument(1), b->getArgument(2)};
        for (unsigned i = 0; i < captured.size(); ++i) {
          Value p = LLVM::GEPOp::create(tb, dispatch.getLoc(), ptrTy, argsTy, b->getArgument(0),
                                        ArrayRef<LLVM::GEPArg>{0, (int32_t)i});
          callArgs.push_back(LLVM::LoadOp::create(tb, dispatch.getLoc(), captured[i], p));
        }
        LLVM::CallOp::create(tb, dispatch.getLoc(), task, callArgs);
        LLVM::ReturnOp::create(tb, dispatch.getLoc(), ValueRange{});
      }

      SmallVector<LLVM::CallOp> calls;
      module.walk([&](LLVM::CallOp c) {
        if (c.getCallee() == dispatch.getName())
          calls.push_back(c);
      });
      for (LLVM::CallOp call : calls) {
        auto fn = call->getParentOfType<LLVM::LLVMFuncOp>();
        Location loc = call.getLoc();
        // The argument struct lives in the caller's entry block (no stack
        // growth when the dispatch sits inside a loop).
        OpBuilder eb = OpBuilder::atBlockBegin(&fn.getBody().front());
        Value one = LLVM::ConstantOp::create(eb, loc, i64, eb.getI64IntegerAttr(1));
        Value slot = LLVM::AllocaOp::create(eb, loc, ptrTy, argsTy, one, 16);
        OpBuilder b(call);
        for (unsigned i = 0; i < captured.size(); ++i) {
          Value p = LLVM::GEPOp::create(b, loc, ptrTy, argsTy, slot,
                                        ArrayRef<LLVM::GEPArg>{0, (int32_t)i});
          LLVM::StoreOp::create(b, loc, call.getArgOperands()[2 + i], p);
        }
        Value fnPtr = LLVM::AddressOfOp::create(b, loc, ptrTy, tramp.getName());
        LLVM::CallOp::create(b, loc, pfor,
                             ValueRange{call.getArgOperands()[0], call.getArgOperands()[1], fnPtr, slot});
        call.erase();
      }
      dispatch.erase();
    }
  }
};

} // namespace
