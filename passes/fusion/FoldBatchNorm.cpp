//===- FoldBatchNorm.cpp - glm-fold-batchnorm -----------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::glm {
#define GEN_PASS_DEF_FOLDBATCHNORMPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;

namespace {

/// The per-channel affine map of a BatchNormalization: y = x * s + t.
struct ChannelAffine {
  SmallVector<double> s, t;
};

std::optional<ChannelAffine> affineOf(BatchNormalizationOp bn) {
  auto scale = getConstantValuesAsDouble(bn.getScale()), bias = getConstantValuesAsDouble(bn.getB()),
       mean = getConstantValuesAsDouble(bn.getInputMean()), var = getConstantValuesAsDouble(bn.getInputVar());
  if (!scale || !bias || !mean || !var)
    return std::nullopt;
  size_t c = scale->size();
  if (bias->size() != c || mean->size() != c || var->size() != c)
    return std::nullopt;
  double eps = bn.getEpsilon().convertToDouble();
  ChannelAffine a;
  for (size_t i = 0; i < c; ++i) {
    double s = (*scale)[i] / std::sqrt((*var)[i] + eps);
    a.s.push_back(s);
    a.t.push_back((*bias)[i] - (*mean)[i] * s);
  }
  return a;
}

Value makeConstant(PatternRewriter &rewriter, Location loc, RankedTensorType type,
                   ArrayRef<double> values, StringRef name) {
  return ConstantOp::create(rewriter, loc, makeResourceElements(type, values, name));
}

std::string nameOf(Operation *op, StringRef suffix) {
  if (auto n = dyn_cast<NameLoc>(op->getLoc()))
    return (n.getName().getValue() + suffix).str();
  return ("folded" + suffix).str();
}

/// conv (or gemm) → batch_normalization: scale the producer's output
/// channels.
struct FoldIntoProducer : OpRewritePattern<BatchNormalizationOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormalizationOp bn, PatternRewriter &rewriter) const override {
    Operation *producer = bn.getX().getDefiningOp();
    if (!producer || !producer->hasOneUse())
      return rewriter.notifyMatchFailure(bn, "input has no single-use producer");
    auto affine = affineOf(bn);
    if (!affine)
      return rewriter.notifyMatchFailure(bn, "statistics are not constant");
    if (auto conv = dyn_cast<ConvOp>(producer))
      return foldConv(conv, bn, *affine, rewriter);
    if (auto gemm = dyn_cast<GemmOp>(producer))
      return foldGemm(gemm, bn, *affine, rewriter);
    return rewriter.notifyMatchFailure(bn, "producer is not a conv or gemm");
  }

  LogicalResult foldConv(ConvOp conv, BatchNormalizationOp bn, const ChannelAffine &a,
                         PatternRewriter &rewriter) const {
    auto wTy = dyn_cast<RankedTensorType>(conv.getW().getType());
    auto w = getConstantValuesAsDouble(conv.getW());
    if (!wTy || !wTy.hasStaticShape() || !w)
      return rewriter.notifyMatchFailure(bn, "conv weights are not constant");
    int64_t f = wTy.getDimSize(0);
    if ((int64_t)a.s.size() != f)
      return rewriter.notifyMatchFailure(bn, "channel count differs");
    SmallVector<double> b(f, 0.0);
    if (conv.getB()) {
      auto bv = getConstantValuesAsDouble(conv.getB());
      if (!bv || (int64_t)bv->size() != f)
        return rewriter.notifyMatchFailure(bn, "conv bias is not constant");
      b = *bv;
    }
    int64_t per = w->size() / f;
    for (int64_t o = 0; o < f; ++o) {
      for (int64_t i = 0; i < per; ++i)
        (*w)[o * per + i] *= a.s[o];
      b[o] = b[o] * a.s[o] + a.t[o];
    }
    Location loc = rewriter.getFusedLoc({conv.getLoc(), bn.getLoc()});
    Value nw = makeConstant(rewriter, loc, wTy, *w, nameOf(conv, ".w_bn"));
    Value nb = makeConstant(rewriter, loc, RankedTensorType::get({f}, wTy.getElementType()), b,
                            nameOf(conv, ".b_bn"));
    auto folded = ConvOp::create(rewriter, loc, bn.getType(), conv.getX(), nw, nb,
                                 conv.getDilationsAttr(), conv.getGroupAttr(),
                                 conv.getKernelShapeAttr(), conv.getPadsAttr(),
                                 conv.getStridesAttr());
    rewriter.replaceOp(bn, folded.getResult());
    rewriter.eraseOp(conv);
    return success();
  }

  LogicalResult foldGemm(GemmOp gemm, BatchNormalizationOp bn, const ChannelAffine &a,
                         PatternRewriter &rewriter) const {
    auto bTy = dyn_cast<RankedTensorType>(gemm.getB().getType());
    auto bv = getConstantValuesAsDouble(gemm.getB());
    auto outTy = dyn_cast<RankedTensorType>(gemm.getType());
    if (!bTy || !bTy.hasStaticShape() || !bv || !outTy || outTy.isDynamicDim(1))
      return rewriter.notifyMatchFailure(bn, "gemm B is not constant");
    int64_t n = outTy.getDimSize(1);
    if ((int64_t)a.s.size() != n)
      return rewriter.notifyMatchFailure(bn, "channel count differs");
    double beta = gemm.getBeta().convertToDouble();
    SmallVector<double> c(n, 0.0);
    if (gemm.getC()) {
      auto cTy = dyn_cast<RankedTensorType>(gemm.getC().getType());
      auto cv = getConstantValuesAsDouble(gemm.getC());
      if (!cTy || !cv || getNumElements(cTy.getShape()) > n)
        return rewriter.notifyMatchFailure(bn, "gemm C is not a constant row");
      for (int64_t j = 0; j < n; ++j)
        c[j] = beta * (*cv)[cv->size() == 1 ? 0 : j];
    }
    // B is [K, N] (or [N, K] with transB): scale column/row j by s[j].
    int64_t k = bTy.getNumElements() / n;
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t i = 0; i < k; ++i) {
        int64_t idx = gemm.getTransB() ? j * k + i : i * n + j;
        (*bv)[idx] *= a.s[j];
      }
      c[j] = c[j] * a.s[j] + a.t[j];
    }
    Location loc = rewriter.getFusedLoc({gemm.getLoc(), bn.getLoc()});
    Value nb = makeConstant(rewriter, loc, bTy, *bv, nameOf(gemm, ".B_bn"));
    Value nc = makeConstant(rewriter, loc, RankedTensorType::get({n}, outTy.getElementType()), c,
                            nameOf(gemm, ".C_bn"));
    auto folded = GemmOp::create(rewriter, loc, bn.getType(), gemm.getA(), nb, nc,
                                 gemm.getAlphaAttr(), rewriter.getF32FloatAttr(1.0),
                                 gemm.getTransAAttr(), gemm.getTransBAttr());
    rewriter.replaceOp(bn, folded.getResult());
    rewriter.eraseOp(gemm);
    return success();
  }
};

/// batch_normalization → conv without padding: scale the conv's input
/// channels and move the shift into the bias.
struct FoldIntoConsumer : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp conv, PatternRewriter &rewriter) const override {
    auto bn = conv.getX().getDefiningOp<BatchNormalizationOp>();
    if (!bn || !bn->hasOneUse())
      return rewriter.notifyMatchFailure(conv, "input is not a single-use batch norm");
    if (llvm::any_of(conv.getPadsOrDefault(), [](int64_t p) { return p != 0; }))
      return rewriter.notifyMatchFailure(conv, "padded zeros would not be normalised");
    if (conv.getGroup() != 1)
      return rewriter.notifyMatchFailure(conv, "grouped conv");
    auto affine = affineOf(bn);
    auto wTy = dyn_cast<RankedTensorType>(conv.getW().getType());
    auto w = getConstantValuesAsDouble(conv.getW());
    if (!affine || !wTy || !wTy.hasStaticShape() || !w)
      return rewriter.notifyMatchFailure(conv, "not constant");
    int64_t f = wTy.getDimSize(0), c = wTy.getDimSize(1);
    if ((int64_t)affine->s.size() != c)
      return rewriter.notifyMatchFailure(conv, "channel count differs");
    int64_t taps = w->size() / (f * c);
    SmallVector<double> b(f, 0.0);
    if (conv.getB()) {
      auto bv = getConstantValuesAsDouble(conv.getB());
      if (!bv)
        return rewriter.notifyMatchFailure(conv, "bias is not constant");
      b = *bv;
    }
    for (int64_t o = 0; o < f; ++o)
      for (int64_t i = 0; i < c; ++i)
        for (int64_t t = 0; t < taps; ++t) {
          double &wv = (*w)[(o * c + i) * taps + t];
          b[o] += wv * affine->t[i];
          wv *= affine->s[i];
        }
    Location loc = rewriter.getFusedLoc({bn.getLoc(), conv.getLoc()});
    Value nw = makeConstant(rewriter, loc, wTy, *w, nameOf(conv, ".w_bn"));
    Value nb = makeConstant(rewriter, loc, RankedTensorType::get({f}, wTy.getElementType()), b,
                            nameOf(conv, ".b_bn"));
    auto folded = ConvOp::create(rewriter, loc, conv.getType(), bn.getX(), nw, nb,
                                 conv.getDilationsAttr(), conv.getGroupAttr(),
                                 conv.getKernelShapeAttr(), conv.getPadsAttr(),
                                 conv.getStridesAttr());
    rewriter.replaceOp(conv, folded.getResult());
    rewriter.eraseOp(bn);
    return success();
  }
};

struct FoldBatchNormPass : glm::impl::FoldBatchNormPassBase<FoldBatchNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldIntoProducer, FoldIntoConsumer>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
