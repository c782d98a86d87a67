//===- FuseRotary.cpp - glm-fuse-rotary ------------------------------------===//
//
//   xr = slice(x, 0:2r, -1); xp = slice(x, 2r:d, -1)     (xr = x when 2r = d)
//   y  = concat(xr * cos_rep + rotate(xr) * sin_rep, xp)
//
// rotate is the interleaved pair rotation (GLM, GPT-J)
//   reshape(concat(unsqueeze(-xr[1::2], -1), unsqueeze(xr[0::2], -1), -1))
// or rotate_half (GPT-NeoX, Llama)
//   concat(-xr[r:2r], xr[0:r], -1)
// and cos_rep/sin_rep repeat the per-pair tables the matching way:
//   reshape(concat(unsqueeze(c, -1), unsqueeze(c, -1), -1))  or  concat(c, c, -1).
// The result is glm.rotary(x, c, s) {interleaved}.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/fusion/FusionUtils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::glm {
#define GEN_PASS_DEF_FUSEROTARYPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::fusion;

namespace {

bool isLastAxis(int64_t axis, Value v) {
  auto t = rankedOrNull(v);
  return t && normalizeAxis(axis, t.getRank()) == t.getRank() - 1;
}

bool isUnsqueezeLast(UnsqueezeOp u) {
  auto axes = toI64(u.getAxes());
  return u && axes.size() == 1 && isLastAxis(axes[0], u.getResult());
}

/// A slice of the last dim of `x` with the given bounds and step.
bool isLastDimSlice(Value v, Value x, int64_t start, int64_t end, int64_t step) {
  auto slice = definedBy<SliceOp>(v);
  if (!slice || skipIdentityCasts(slice.getData()) != skipIdentityCasts(x))
    return false;
  auto s = getAxisSlice(slice);
  auto xt = rankedOrNull(x);
  return s && xt && s->axis == xt.getRank() - 1 && s->start == start && s->end == end && s->step == step;
}

/// The per-pair table c of a repeated table, and whether pairs interleave.
std::optional<std::pair<Value, bool>> matchRepeatedTable(Value v, int64_t r) {
  v = skipIdentityCasts(v);
  if (auto reshape = v.getDefiningOp<ReshapeOp>()) {
    auto cat = definedBy<ConcatOp>(reshape.getData());
    if (!cat || cat.getInputs().size() != 2 || cat.getInputs()[0] != cat.getInputs()[1] ||
        !isLastAxis(cat.getAxis(), cat.getResult()))
      return std::nullopt;
    auto u = definedBy<UnsqueezeOp>(cat.getInputs()[0]);
    if (!u || !isUnsqueezeLast(u))
      return std::nullopt;
    auto ct = rankedOrNull(u.getData());
    if (!ct || ct.getRank() != 4 || ct.getDimSize(3) != r)
      return std::nullopt;
    return std::make_pair(u.getData(), true);
  }
  if (auto cat = v.getDefiningOp<ConcatOp>()) {
    if (cat.getInputs().size() != 2 || cat.getInputs()[0] != cat.getInputs()[1] ||
        !isLastAxis(cat.getAxis(), cat.getResult()))
      return std::nullopt;
    auto ct = rankedOrNull(cat.getInputs()[0]);
    if (!ct || ct.getRank() != 4 || ct.getDimSize(3) != r)
      return std::nullopt;
    return std::make_pair(cat.getInputs()[0], false);
  }
  return std::nullopt;
}

/// Whether `v` is rotate(xr) (r pairs), and in which pairing.
std::optional<bool> matchRotated(Value v, Value xr, int64_t r) {
  v = skipIdentityCasts(v);
  auto isNegOf = [&](Value n, int64_t start, int64_t end, int64_t step) {
    auto neg = definedBy<NegOp>(n);
    return neg && isLastDimSlice(neg.getX(), xr, start, end, step);
  };
  if (auto reshape = v.getDefiningOp<ReshapeOp>()) {
    auto cat = definedBy<ConcatOp>(reshape.getData());
    if (!cat || cat.getInputs().size() != 2 || !isLastAxis(cat.getAxis(), cat.getResult()))
      return std::nullopt;
    auto u0 = definedBy<UnsqueezeOp>(cat.getInputs()[0]), u1 = definedBy<UnsqueezeOp>(cat.getInputs()[1]);
    if (!u0 || !u1 || !isUnsqueezeLast(u0) || !isUnsqueezeLast(u1))
      return std::nullopt;
    if (isNegOf(u0.getData(), 1, 2 * r, 2) && isLastDimSlice(u1.getData(), xr, 0, 2 * r, 2))
      return true;
    return std::nullopt;
  }
  if (auto cat = v.getDefiningOp<ConcatOp>()) {
    if (cat.getInputs().size() != 2 || !isLastAxis(cat.getAxis(), cat.getResult()))
      return std::nullopt;
    if (isNegOf(cat.getInputs()[0], r, 2 * r, 1) && isLastDimSlice(cat.getInputs()[1], xr, 0, r, 1))
      return false;
  }
  return std::nullopt;
}

/// Rooted at the add of the two products.
struct FuseRotaryPattern : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add, PatternRewriter &rewriter) const override {
    auto at = rankedOrNull(add.getC());
    if (!at || at.getRank() != 4 || ShapedType::isDynamic(at.getDimSize(3)) || at.getDimSize(3) % 2)
      return rewriter.notifyMatchFailure(add, "not a 4-d result with an even static head dim");
    int64_t r = at.getDimSize(3) / 2;
    for (int order = 0; order < 2; ++order) {
      auto cosMul = definedBy<MulOp>(add->getOperand(order));
      auto sinMul = definedBy<MulOp>(add->getOperand(1 - order));
      if (!cosMul || !sinMul)
        continue;
      for (int ci = 0; ci < 2; ++ci) {
        Value xr = skipIdentityCasts(cosMul->getOperand(ci));
        auto cosRep = matchRepeatedTable(cosMul->getOperand(1 - ci), r);
        if (!cosRep)
          continue;
        for (int si = 0; si < 2; ++si) {
          auto sinRep = matchRepeatedTable(sinMul->getOperand(1 - si), r);
          auto rot = matchRotated(sinMul->getOperand(si), xr, r);
          if (!sinRep || !rot || sinRep->second != cosRep->second || *rot != cosRep->second)
            continue;
          if (failed(rewrite(add, cosMul, sinMul, xr, cosRep->first, sinRep->first, *rot, rewriter)))
            continue;
          return success();
        }
      }
    }
    return rewriter.notifyMatchFailure(add, "not x * cos + rotate(x) * sin");
  }

  LogicalResult rewrite(AddOp add, MulOp cosMul, MulOp sinMul, Value xr, Value cs, Value sn,
                        bool interleaved, PatternRewriter &rewriter) const {
    auto rt = rankedOrNull(add.getC());
    if (!cosMul->hasOneUse() || !sinMul->hasOneUse() || rankedOrNull(cosMul.getC()) != rt ||
        rankedOrNull(sinMul.getC()) != rt)
      return failure();
    // xr is x itself, or the rotated head of x with the rest concatenated.
    Value x = xr;
    Operation *root = add;
    int64_t rot = rt.getDimSize(3);
    if (auto slice = definedBy<SliceOp>(xr)) {
      auto s = getAxisSlice(slice);
      auto xt = rankedOrNull(slice.getData());
      if (!s || !xt || s->axis != 3 || s->start != 0 || s->end != rot || s->step != 1)
        return failure();
      if (!add->hasOneUse())
        return failure();
      auto cat = dyn_cast<ConcatOp>(*add->getUsers().begin());
      if (!cat || cat.getInputs().size() != 2 || cat.getInputs()[0] != add.getC() ||
          !isLastAxis(cat.getAxis(), cat.getResult()) ||
          !isLastDimSlice(cat.getInputs()[1], slice.getData(), rot, xt.getDimSize(3), 1))
        return failure();
      x = skipIdentityCasts(slice.getData());
      root = cat;
    }
    auto xt = rankedOrNull(x);
    auto ct = rankedOrNull(cs), st = rankedOrNull(sn);
    if (!xt || !ct || !st || ct.getShape() != st.getShape() || rankedOrNull(root->getResult(0)) != xt)
      return failure();
    for (int64_t i = 0; i < 3; ++i)
      if (ct.getDimSize(i) != 1 && ct.getDimSize(i) != xt.getDimSize(i) &&
          !isSameDim(cs, i, x, i))
        return failure();
    auto fused = RotaryOp::create(rewriter, fusedLoc(rewriter, {cosMul, sinMul, add, root}), xt, x, cs, sn,
                                  rewriter.getBoolAttr(interleaved));
    rewriter.replaceOp(root, fused.getResult());
    return success();
  }
};

struct FuseRotaryPass : glm::impl::FuseRotaryPassBase<FuseRotaryPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRotaryPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
