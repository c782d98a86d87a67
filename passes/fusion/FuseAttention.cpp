//===- FuseAttention.cpp - glm-fuse-attention ------------------------------===//
//
//   kr = repeat_kv(k)   // unsqueeze(k, 2) -> expand [b, kv, g, t, d] -> reshape [b, kv*g, t, d]
//   s  = mat_mul(q, transpose(kr, [0, 1, 3, 2]))
//   s  = s * c  (or s / c)          optional
//   s  = s + mask                   optional, additive
//   y  = mat_mul(softmax(s, -1), repeat_kv(v))
//
// becomes glm.attention(q, k, v, mask) {scale}: grouped K/V heads are read
// in place by the lowering instead of being repeated per query head.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/fusion/FusionUtils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::glm {
#define GEN_PASS_DEF_FUSEATTENTIONPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::fusion;

namespace {

/// Dim i of a equals dim j of b: equal static sizes or provably the same
/// dynamic dim.
bool sameDim(Value a, int64_t i, Value b, int64_t j) {
  int64_t da = rankedOrNull(a).getDimSize(i), db = rankedOrNull(b).getDimSize(j);
  if (!ShapedType::isDynamic(da) && !ShapedType::isDynamic(db))
    return da == db;
  return isSameDim(a, i, b, j);
}

/// K/V heads as the attention reads them: `v` itself when it is
/// [b, h, t, d], or the source of a repeat_kv chain. Appends the chain.
Value matchRepeatKV(Value v, int64_t qHeads, SmallVectorImpl<Operation *> &chain) {
  v = skipIdentityCasts(v);
  auto vt = rankedOrNull(v);
  if (!vt || vt.getRank() != 4)
    return {};
  if (auto reshape = v.getDefiningOp<ReshapeOp>()) {
    auto expand = definedBy<ExpandOp>(reshape.getData());
    auto unsq = expand ? definedBy<UnsqueezeOp>(expand.getInput()) : UnsqueezeOp();
    if (unsq) {
      auto axes = toI64(unsq.getAxes());
      auto src = rankedOrNull(unsq.getData());
      auto et = rankedOrNull(expand.getOutput());
      if (axes.size() == 1 && axes[0] == 2 && src && src.getRank() == 4 && et && et.getRank() == 5 &&
          !ShapedType::isDynamic(src.getDimSize(1)) && !ShapedType::isDynamic(et.getDimSize(2)) &&
          et.getDimSize(1) == src.getDimSize(1) && src.getDimSize(1) * et.getDimSize(2) == qHeads &&
          vt.getDimSize(1) == qHeads && sameDim(unsq.getData(), 0, v, 0) &&
          sameDim(unsq.getData(), 2, v, 2) && sameDim(unsq.getData(), 3, v, 3)) {
        chain.append({unsq, expand, reshape});
        return unsq.getData();
      }
    }
  }
  return vt.getDimSize(1) == qHeads ? v : Value();
}

struct FuseAttentionPattern : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatMulOp pv, PatternRewriter &rewriter) const override {
    auto softmax = definedBy<SoftmaxOp>(pv.getA());
    if (!softmax)
      return rewriter.notifyMatchFailure(pv, "A is not a softmax");
    auto st = rankedOrNull(softmax.getOutput());
    if (!st || st.getRank() != 4 || !normalizeAxis(softmax.getAxis(), 4) ||
        *normalizeAxis(softmax.getAxis(), 4) != 3)
      return rewriter.notifyMatchFailure(pv, "not a softmax over the last dim of 4-d scores");
    SmallVector<Operation *> chain;
    Value s = skipIdentityCasts(softmax.getInput());
    Value mask;
    if (auto add = s.getDefiningOp<AddOp>()) {
      // The scores are the operand with the full score shape.
      auto at = rankedOrNull(add.getA()), bt = rankedOrNull(add.getB());
      auto ct = rankedOrNull(add.getC());
      if (!at || !bt || !ct)
        return rewriter.notifyMatchFailure(pv, "unranked scores");
      bool aIsScores = at.getShape() == ct.getShape() &&
                       (skipIdentityCasts(add.getA()).getDefiningOp<MatMulOp>() ||
                        skipIdentityCasts(add.getA()).getDefiningOp<MulOp>() ||
                        skipIdentityCasts(add.getA()).getDefiningOp<DivOp>());
      mask = aIsScores ? add.getB() : add.getA();
      s = skipIdentityCasts(aIsScores ? add.getA() : add.getB());
      chain.push_back(add);
    }
    double scale = 1.0;
    bool scaled = false;
    if (auto mul = s.getDefiningOp<MulOp>()) {
      for (int i = 0; i < 2 && !scaled; ++i)
        if (auto c = getSplatValue(mul->getOperand(i))) {
          scale = *c;
          s = skipIdentityCasts(mul->getOperand(1 - i));
          scaled = true;
        }
      if (!scaled)
        return rewriter.notifyMatchFailure(pv, "scores multiplied by a non-constant");
      chain.push_back(mul);
    } else if (auto div = s.getDefiningOp<DivOp>()) {
      auto c = getSplatValue(div.getB());
      if (!c || *c == 0.0)
        return rewriter.notifyMatchFailure(pv, "scores divided by a non-constant");
      scale = 1.0 / *c;
      s = skipIdentityCasts(div.getA());
      chain.push_back(div);
    }
    auto qk = s.getDefiningOp<MatMulOp>();
    if (!qk)
      return rewriter.notifyMatchFailure(pv, "scores are not a matmul");
    chain.push_back(qk);
    auto kt = definedBy<TransposeOp>(qk.getB());
    if (!kt || toI64(kt.getPerm()) != SmallVector<int64_t>{0, 1, 3, 2})
      return rewriter.notifyMatchFailure(pv, "K is not transposed by [0, 1, 3, 2]");
    chain.push_back(kt);
    Value q = qk.getA();
    auto qt = rankedOrNull(q);
    if (!qt || qt.getRank() != 4 || ShapedType::isDynamic(qt.getDimSize(1)))
      return rewriter.notifyMatchFailure(pv, "Q is not [b, h, s, d] with static heads");
    int64_t heads = qt.getDimSize(1);
    Value k = matchRepeatKV(kt.getData(), heads, chain);
    Value v = matchRepeatKV(pv.getB(), heads, chain);
    if (!k || !v)
      return rewriter.notifyMatchFailure(pv, "K/V are not [b, kv, t, d] repeated to the query heads");
    auto ktt = rankedOrNull(k), vtt = rankedOrNull(v);
    if (ktt.getDimSize(1) != vtt.getDimSize(1))
      return rewriter.notifyMatchFailure(pv, "K and V have different head counts");
    if (mask) {
      auto mt = rankedOrNull(mask);
      if (!mt || mt.getRank() > 4 || !isa<FloatType>(mt.getElementType()))
        return rewriter.notifyMatchFailure(pv, "mask is not a float tensor of rank <= 4");
    }
    // Everything between q/k/v/mask and the result dies with the fusion.
    chain.push_back(softmax);
    for (Operation *op : chain)
      if (!op->hasOneUse())
        return rewriter.notifyMatchFailure(pv, "an intermediate value has other users");
    chain.push_back(pv);
    auto fused = AttentionOp::create(rewriter, fusedLoc(rewriter, chain), pv.getType(), q, k, v, mask,
                                     rewriter.getF32FloatAttr((float)scale));
    rewriter.replaceOp(pv, fused.getResult());
    return success();
  }
};

struct FuseAttentionPass : glm::impl::FuseAttentionPassBase<FuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttentionPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
