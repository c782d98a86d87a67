//===- FuseLinear.cpp - glm-fuse-linear ------------------------------------===//
//
// mat_mul(x, W) with a rank-2 W, plus an optional bias add over the last
// dim (either operand order), becomes glm.linear: the projections of a
// transformer. The bias then initialises the matmul's accumulator.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/fusion/FusionUtils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::glm {
#define GEN_PASS_DEF_FUSELINEARPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::fusion;

namespace {

struct FuseLinearPattern : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatMulOp mm, PatternRewriter &rewriter) const override {
    auto xt = rankedOrNull(mm.getA()), wt = rankedOrNull(mm.getB());
    auto rt = rankedOrNull(mm.getY());
    if (!xt || !wt || !rt || xt.getRank() < 2 || wt.getRank() != 2)
      return rewriter.notifyMatchFailure(mm, "not [..., K] x [K, N]");
    Value bias;
    Operation *root = mm;
    Value result = mm.getY();
    if (mm->hasOneUse())
      if (auto add = dyn_cast<AddOp>(*mm->getUsers().begin())) {
        Value b = otherOperand(add, mm.getY());
        auto bt = b ? rankedOrNull(b) : RankedTensorType();
        auto at = rankedOrNull(add.getC());
        if (bt && bt.getRank() == 1 && bt.getDimSize(0) == wt.getDimSize(1) &&
            !ShapedType::isDynamic(bt.getDimSize(0)) && at && at.getShape() == rt.getShape()) {
          bias = b;
          root = add;
          result = add.getC();
        }
      }
    Location loc = root == mm.getOperation() ? mm.getLoc()
                                             : fusedLoc(rewriter, {mm.getOperation(), root});
    auto linear = LinearOp::create(rewriter, loc, result.getType(), mm.getA(), mm.getB(), bias);
    rewriter.replaceOp(root, linear.getResult());
    if (root != mm.getOperation())
      rewriter.eraseOp(mm);
    return success();
  }
};

struct FuseLinearPass : glm::impl::FuseLinearPassBase<FuseLinearPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseLinearPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
