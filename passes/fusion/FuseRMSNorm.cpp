//===- FuseRMSNorm.cpp - glm-fuse-rms-norm ---------------------------------===//
//
// x * rsqrt(mean(x^2) + eps) [* w] in the spellings exporters use:
//   pow(x, 2) or x * x;  reduce_mean over the trailing dims, keepdims;
//   + eps;  sqrt then 1/s (div or reciprocal) times x, or x / sqrt;
//   an optional weight multiply (either operand order).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/fusion/FusionUtils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::glm {
#define GEN_PASS_DEF_FUSERMSNORMPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::fusion;

namespace {

/// The only user of `v`, or null.
Operation *soleUser(Value v) { return v.hasOneUse() ? *v.getUsers().begin() : nullptr; }

/// Rooted at the reduce_mean; walks down to the normalized value.
struct FuseRMSNormPattern : OpRewritePattern<ReduceMeanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReduceMeanOp mean, PatternRewriter &rewriter) const override {
    if (!mean.getKeepdims())
      return rewriter.notifyMatchFailure(mean, "keepdims=0");
    // x^2
    Operation *square = skipIdentityCasts(mean.getData()).getDefiningOp();
    Value x;
    if (auto pow = dyn_cast_or_null<PowOp>(square)) {
      if (getSplatValue(pow.getB()) != 2.0)
        return rewriter.notifyMatchFailure(mean, "pow exponent is not 2");
      x = pow.getA();
    } else if (auto mul = dyn_cast_or_null<MulOp>(square)) {
      if (skipIdentityCasts(mul.getA()) != skipIdentityCasts(mul.getB()))
        return rewriter.notifyMatchFailure(mean, "not x * x");
      x = mul.getA();
    } else {
      return rewriter.notifyMatchFailure(mean, "input is not a square");
    }
    x = skipIdentityCasts(x);
    auto xt = rankedOrNull(x);
    if (!xt || !isa<FloatType>(xt.getElementType()))
      return rewriter.notifyMatchFailure(mean, "unranked or not float");
    // The reduced dims must be the trailing ones.
    SmallVector<int64_t> dims = mean.getReducedDims();
    int64_t rank = xt.getRank();
    if (dims.empty() || dims.back() != rank - 1)
      return rewriter.notifyMatchFailure(mean, "does not reduce the last dim");
    for (size_t i = 0; i < dims.size(); ++i)
      if (dims[i] != rank - (int64_t)dims.size() + (int64_t)i)
        return rewriter.notifyMatchFailure(mean, "reduced dims are not trailing");
    int64_t axis = dims.front();

    SmallVector<Operation *> chain{square, mean};
    // + eps
    auto add = dyn_cast_or_null<AddOp>(soleUser(mean.getResult()));
    if (!add)
      return rewriter.notifyMatchFailure(mean, "no + eps");
    auto eps = getSplatValue(otherOperand(add, mean.getResult()));
    if (!eps || *eps < 0)
      return rewriter.notifyMatchFailure(mean, "eps is not a constant");
    chain.push_back(add);
    // sqrt then a division, or rsqrt-like reciprocal
    auto sqrt = dyn_cast_or_null<SqrtOp>(soleUser(add.getResult()));
    if (!sqrt)
      return rewriter.notifyMatchFailure(mean, "no sqrt");
    chain.push_back(sqrt);
    Operation *next = soleUser(sqrt.getResult());
    Value normalized, inverse;
    if (auto div = dyn_cast_or_null<DivOp>(next); div && div.getB() == sqrt.getResult()) {
      chain.push_back(div);
      if (skipIdentityCasts(div.getA()) == x)
        normalized = div.getResult(); // x / sqrt(.)
      else if (getSplatValue(div.getA()) == 1.0)
        inverse = div.getResult(); // 1 / sqrt(.)
      else
        return rewriter.notifyMatchFailure(mean, "unknown division");
    } else if (auto rec = dyn_cast_or_null<ReciprocalOp>(next)) {
      chain.push_back(rec);
      inverse = rec.getResult();
    } else {
      return rewriter.notifyMatchFailure(mean, "sqrt is not inverted");
    }
    if (inverse) {
      auto mul = dyn_cast_or_null<MulOp>(soleUser(inverse));
      if (!mul || !otherOperand(mul, inverse) || skipIdentityCasts(otherOperand(mul, inverse)) != x)
        return rewriter.notifyMatchFailure(mean, "1/sqrt is not multiplied by x");
      chain.push_back(mul);
      normalized = mul.getResult();
    }
    // Identity casts after the normalization, then an optional weight.
    Value result = normalized;
    while (Operation *u = soleUser(result)) {
      auto cast = dyn_cast<CastOp>(u);
      if (!cast || elementTypeOf(cast.getInput()) != elementTypeOf(cast.getOutput()))
        break;
      chain.push_back(cast);
      result = cast.getResult();
    }
    Value scale;
    if (auto mul = dyn_cast_or_null<MulOp>(soleUser(result))) {
      Value w = otherOperand(mul, result);
      auto wt = w ? rankedOrNull(w) : RankedTensorType();
      // A per-feature weight over the normalized dims only.
      if (wt && wt.getRank() <= rank - axis) {
        bool fits = true;
        for (int64_t i = 0; i < wt.getRank(); ++i) {
          int64_t wd = wt.getDimSize(wt.getRank() - 1 - i), xd = xt.getDimSize(rank - 1 - i);
          fits &= wd == 1 || wd == xd;
        }
        if (fits) {
          chain.push_back(mul);
          scale = w;
          result = mul.getResult();
        }
      }
    }
    if (!singleUseChain(chain))
      return rewriter.notifyMatchFailure(mean, "an intermediate value has other users");
    auto rt = rankedOrNull(result);
    if (!rt || rt.getShape() != xt.getShape() || rt.getElementType() != xt.getElementType())
      return rewriter.notifyMatchFailure(mean, "result type differs from x");
    Location loc = fusedLoc(rewriter, chain);
    if (!scale) {
      int64_t n = xt.getDimSize(rank - 1);
      if (ShapedType::isDynamic(n) || axis != rank - 1)
        return rewriter.notifyMatchFailure(mean, "no weight and a dynamic hidden size");
      auto st = RankedTensorType::get({n}, xt.getElementType());
      scale = ConstantOp::create(rewriter, loc, st, DenseElementsAttr::get(st, rewriter.getFloatAttr(xt.getElementType(), 1.0)));
    }
    auto fused = RMSNormOp::create(rewriter, loc, rt, x, scale, rewriter.getI64IntegerAttr(axis - rank),
                                   rewriter.getF32FloatAttr((float)*eps));
    rewriter.replaceAllUsesWith(result, fused.getResult());
    for (Operation *op : llvm::reverse(chain))
      rewriter.eraseOp(op);
    return success();
  }
};

struct FuseRMSNormPass : glm::impl::FuseRMSNormPassBase<FuseRMSNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRMSNormPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
