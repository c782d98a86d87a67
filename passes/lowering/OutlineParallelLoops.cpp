//===- OutlineParallelLoops.cpp - glm-outline-parallel-loops --------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::glm {
#define GEN_PASS_DEF_OUTLINEPARALLELLOOPSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

struct OutlineParallelLoopsPass
    : glm::impl::OutlineParallelLoopsPassBase<OutlineParallelLoopsPass> {
  using OutlineParallelLoopsPassBase::OutlineParallelLoopsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());
    unsigned counter = 0;
    SmallVector<scf::ParallelOp> loops;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() || !func->hasAttr("glm.entry"))
        continue;
      func.walk([&](scf::ParallelOp p) {
        if (!p->getParentOfType<scf::ParallelOp>())
          loops.push_back(p);
      });
    }
    for (scf::ParallelOp loop : loops)
      if (failed(outline(rewriter, module, loop, counter++)))
        return signalPassFailure();
  }

  LogicalResult outline(IRRewriter &rewriter, ModuleOp module, scf::ParallelOp loop,
                        unsigned index) {
    Location loc = loop.getLoc();
    if (loop.getNumResults() != 0)
      return success(); // reductions stay sequential
    // One dimension, normalised to [0, n) step 1.
    if (loop.getNumLoops() > 1) {
      std::vector<unsigned> all;
      for (unsigned i = 0; i < loop.getNumLoops(); ++i)
        all.push_back(i);
      // collapseParallelLoops replaces the loop; find its successor where
      // the old one stood.
      Operation *prev = loop->getPrevNode();
      Block *block = loop->getBlock();
      rewriter.setInsertionPoint(loop);
      collapseParallelLoops(rewriter, loop, {all});
      Operation *it = prev ? prev->getNextNode() : &block->front();
      scf::ParallelOp collapsed;
      for (; it && !collapsed; it = it->getNextNode())
        collapsed = dyn_cast<scf::ParallelOp>(it);
      if (!collapsed)
        return emitError(loc, "internal: lost the collapsed parallel loop");
      loop = collapsed;
    }
    rewriter.setInsertionPoint(loop);
    Value lb = loop.getLowerBound()[0], ub = loop.getUpperBound()[0], step = loop.getStep()[0];
    // count = ceil((ub - lb) / step)
    Value span = arith::SubIOp::create(rewriter, loc, ub, lb);
    Value count = arith::CeilDivSIOp::create(rewriter, loc, span, step);

    // Values the body uses from outside become task arguments.
    // Constants are cloned into the task (so they stay foldable there).
    SetVector<Value> used, captures;
    SmallVector<Operation *> constants;
    getUsedValuesDefinedAbove(loop.getRegion(), used);
    for (Value v : used) {
      Operation *def = v.getDefiningOp();
      if (def && def->hasTrait<OpTrait::ConstantLike>())
        constants.push_back(def);
      else
        captures.insert(v);
    }
    SmallVector<Type> captureTypes;
    for (Value v : captures)
      captureTypes.push_back(v.getType());

    // func.func private @glm_task_N(%begin: index, %end: index, %lb, %step, captures...)
    OpBuilder mb(module.getBody(), module.getBody()->end());
    auto indexTy = rewriter.getIndexType();
    SmallVector<Type> taskArgs{indexTy, indexTy, indexTy, indexTy};
    taskArgs.append(captureTypes);
    std::string taskName = "glm_task_" + std::to_string(index);
    auto task = func::FuncOp::create(mb, loc, taskName, rewriter.getFunctionType(taskArgs, {}));
    task.setPrivate();
    Block *entry = task.addEntryBlock();
    OpBuilder tb = OpBuilder::atBlockBegin(entry);
    IRMapping map;
    for (Operation *c : constants)
      tb.clone(*c, map);
    for (auto [i, v] : llvm::enumerate(captures))
      map.map(v, entry->getArgument(4 + i));
    Value tBegin = entry->getArgument(0), tEnd = entry->getArgument(1);
    Value tLb = entry->getArgument(2), tStep = entry->getArgument(3);
    auto forOp = scf::ForOp::create(tb, loc, tBegin, tEnd, arith::ConstantIndexOp::create(tb, loc, 1));
    {
      OpBuilder::InsertionGuard g(tb);
      tb.setInsertionPointToStart(forOp.getBody());
      // iv = lb + i * step
      Value iv = arith::AddIOp::create(tb, loc, tLb,
                                       arith::MulIOp::create(tb, loc, forOp.getInductionVar(), tStep));
      map.map(loop.getInductionVars()[0], iv);
      for (Operation &op : loop.getBody()->without_terminator())
        tb.clone(op, map);
    }
    func::ReturnOp::create(tb, loc);

    // The dispatch declaration and its call.
    SmallVector<Type> dispatchArgs{indexTy, indexTy, indexTy, indexTy};
    dispatchArgs.append(captureTypes);
    std::string dispatchName = "glm_dispatch_" + std::to_string(index);
    auto dispatch = func::FuncOp::create(mb, loc, dispatchName,
                                         rewriter.getFunctionType(dispatchArgs, {}));
    dispatch.setPrivate();
    dispatch->setAttr("glm.task", FlatSymbolRefAttr::get(task));
    dispatch->setAttr("glm.grain", rewriter.getI64IntegerAttr(minIterationWork));
    SmallVector<Value> args{count, arith::ConstantIndexOp::create(rewriter, loc, minIterationWork),
                            lb, step};
    args.append(captures.begin(), captures.end());
    func::CallOp::create(rewriter, loc, dispatch, args);
    rewriter.eraseOp(loop);
    return success();
  }
};

} // namespace
