//===- FuseAttentionMask.cpp - glm-fuse-attention-mask ----------------------===//
//
// The additive mask of a causal decoder, as exporters build it:
//
//   causal  = less_or_equal(kv_idx [1,1,1,t], q_pos [1,1,s,1])
//   padding = attention_mask gathered to [b,1,1,t] (bool)
//   keep    = and(causal, padding)          (and-trees, true constants, expands)
//   mask    = where(keep, 0, lowest)        [b,1,s,t] f32
//   y       = glm.attention(q, k, v, mask)
//
// or its negation `where(or(greater(kv_idx, q_pos), not(padding)), lowest, 0)`,
// becomes `glm.attention_mask(reshape(q_pos, [-1]), reshape(kv_idx, [-1]),
// flatten(padding, 1))`: the attention lowering evaluates the mask per score
// from O(s + t + b*t) positions instead of reading an O(b*s*t) tensor.
// Leaves that are neither a causal comparison nor a [b,1,1,t] key mask (a
// sliding window, a document mask) keep the materialised mask.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/fusion/FusionUtils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::glm {
#define GEN_PASS_DEF_FUSEATTENTIONMASKPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::fusion;

namespace {

/// A where with branches 0 and a value at or below this is a mask (HF
/// writes the dtype's lowest value, older exporters -1e9 or -1e4). The
/// fused op keeps the value, so the result is exact for any of them; a
/// small negative constant is more likely a bias than a mask and stays.
constexpr double kMaskedThreshold = -1e4;

/// The leaves of a mask condition.
struct MaskLeaves {
  Value keyPos, queryPos;      // the causal comparison's operands
  SmallVector<Value> keyMasks; // [b, 1, 1, t] bool, true = visible
  SmallVector<Operation *> ops;
};

/// All dims 1 but `keep` (counted from the back: 1 = last dim).
bool onlyDimFromBack(RankedTensorType t, int64_t keep) {
  if (!t || t.getRank() < keep)
    return false;
  for (int64_t d = 0; d < t.getRank(); ++d)
    if (d != t.getRank() - keep && t.getDimSize(d) != 1)
      return false;
  return true;
}

class MaskMatcher {
public:
  /// `masked` selects the negated form: the condition is true where the
  /// key is hidden and its tree is an or-tree.
  explicit MaskMatcher(bool masked) : masked(masked) {}

  bool collect(Value v, MaskLeaves &leaves) {
    v = skipIdentityCasts(v);
    Operation *def = v.getDefiningOp();
    if (!def)
      return !masked && isKeyMask(v, leaves);
    if (auto e = dyn_cast<ExpandOp>(def)) {
      // A broadcast: attention broadcasts the mask against the scores anyway.
      leaves.ops.push_back(def);
      return collect(e.getInput(), leaves);
    }
    if ((!masked && isa<AndOp>(def)) || (masked && isa<OrOp>(def))) {
      leaves.ops.push_back(def);
      return collect(def->getOperand(0), leaves) && collect(def->getOperand(1), leaves);
    }
    if (std::optional<double> c = getSplatValue(v))
      return (*c != 0.0) != masked; // the neutral element: true for and, false for or
    // The causal leaf: key position <= query position (visible), or
    // key position > query position (hidden).
    Value kp, qp;
    if (!masked) {
      if (auto le = dyn_cast<LessOrEqualOp>(def))
        kp = le.getA(), qp = le.getB();
      else if (auto ge = dyn_cast<GreaterOrEqualOp>(def))
        kp = ge.getB(), qp = ge.getA();
    } else {
      if (auto gt = dyn_cast<GreaterOp>(def))
        kp = gt.getA(), qp = gt.getB();
      else if (auto lt = dyn_cast<LessOp>(def))
        kp = lt.getB(), qp = lt.getA();
    }
    if (kp) {
      if (leaves.keyPos || !onlyDimFromBack(rankedOrNull(kp), 1) ||
          !onlyDimFromBack(rankedOrNull(qp), 2))
        return false;
      leaves.keyPos = kp;
      leaves.queryPos = qp;
      leaves.ops.push_back(def);
      return true;
    }
    // A key-padding leaf: [b, 1, 1, t], true where the key is a token.
    if (!masked)
      return isKeyMask(v, leaves);
    auto n = dyn_cast<NotOp>(def);
    if (!n)
      return false;
    leaves.ops.push_back(def);
    return isKeyMask(n.getX(), leaves);
  }

private:
  /// `keep` [b, 1, 1, t] bool, true where key t of batch b is a token.
  static bool isKeyMask(Value keep, MaskLeaves &leaves) {
    auto kt = rankedOrNull(keep);
    if (!kt || !kt.getElementType().isInteger(1) || kt.getRank() != 4 || kt.getDimSize(1) != 1 ||
        kt.getDimSize(2) != 1)
      return false;
    leaves.keyMasks.push_back(keep);
    return true;
  }

  bool masked;
};

/// 1-d view of `v` (all dims but one are 1).
Value flatten1d(PatternRewriter &rewriter, Location loc, Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  if (t.getRank() == 1)
    return v;
  int64_t n = t.hasStaticShape() ? t.getNumElements() : ShapedType::kDynamic;
  auto shapeT = RankedTensorType::get({1}, rewriter.getI64Type());
  Value shape = ConstantOp::create(rewriter, loc, shapeT,
                                   DenseElementsAttr::get(shapeT, rewriter.getI64IntegerAttr(-1)));
  return ReshapeOp::create(rewriter, loc, RankedTensorType::get({n}, t.getElementType()), v, shape);
}

struct FuseAttentionMaskPattern : OpRewritePattern<WhereOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(WhereOp where, PatternRewriter &rewriter) const override {
    auto rt = rankedOrNull(where.getOutput());
    if (!rt || !isa<FloatType>(rt.getElementType()) || rt.getRank() < 2 || rt.getRank() > 4)
      return rewriter.notifyMatchFailure(where, "not a float mask of rank 2 to 4");
    SmallVector<OpOperand *> maskUses;
    for (OpOperand &use : where.getOutput().getUses())
      if (auto att = dyn_cast<AttentionOp>(use.getOwner()); att && att.getMask() == where.getOutput())
        maskUses.push_back(&use);
    if (maskUses.empty())
      return rewriter.notifyMatchFailure(where, "not an attention mask");
    std::optional<double> x = getSplatValue(where.getX()), y = getSplatValue(where.getY());
    if (!x || !y)
      return rewriter.notifyMatchFailure(where, "branches are not constants");
    bool masked;
    double lowest;
    if (*x == 0.0 && *y <= kMaskedThreshold)
      masked = false, lowest = *y;
    else if (*y == 0.0 && *x <= kMaskedThreshold)
      masked = true, lowest = *x;
    else
      return rewriter.notifyMatchFailure(where, "branches are not 0 and a large negative value");
    MaskLeaves leaves;
    if (!MaskMatcher(masked).collect(where.getCondition(), leaves) || !leaves.keyPos)
      return rewriter.notifyMatchFailure(where, "condition is not causal && key padding");
    // The key-padding masks and'ed into one [b, 1, 1, t] mask.
    SmallVector<int64_t> keyMaskShape;
    for (Value m : leaves.keyMasks) {
      ArrayRef<int64_t> shape = cast<RankedTensorType>(m.getType()).getShape();
      FailureOr<SmallVector<int64_t>> joined =
          keyMaskShape.empty() ? SmallVector<int64_t>(shape) : broadcastShapes(keyMaskShape, shape);
      if (failed(joined))
        return rewriter.notifyMatchFailure(where, "key-padding masks do not broadcast");
      keyMaskShape = *joined;
    }
    // Every attention reading the mask must have scores whose query and
    // key dims match the positions (a static 1 in the mask broadcasts).
    auto kpt = rankedOrNull(leaves.keyPos), qpt = rankedOrNull(leaves.queryPos);
    int64_t tDim = kpt.getDimSize(kpt.getRank() - 1), sDim = qpt.getDimSize(qpt.getRank() - 2);
    for (OpOperand *use : maskUses) {
      auto att = cast<AttentionOp>(use->getOwner());
      auto q = rankedOrNull(att.getQ()), k = rankedOrNull(att.getK());
      if (!q || !k || (sDim == 1 && q.getDimSize(2) != 1) || (tDim == 1 && k.getDimSize(2) != 1))
        return rewriter.notifyMatchFailure(where, "mask broadcasts over queries or keys");
    }

    SmallVector<Operation *> ops = leaves.ops;
    ops.push_back(where);
    Location loc = fusedLoc(rewriter, ops);
    rewriter.setInsertionPoint(where);
    Value qpos = flatten1d(rewriter, loc, leaves.queryPos);
    Value kpos = flatten1d(rewriter, loc, leaves.keyPos);
    Value keyMask;
    auto joinedType = RankedTensorType::get(keyMaskShape, rewriter.getI1Type());
    for (Value m : leaves.keyMasks)
      keyMask = keyMask ? AndOp::create(rewriter, loc, joinedType, keyMask, m).getResult() : m;
    if (keyMask) {
      auto ft = RankedTensorType::get({keyMaskShape[0], keyMaskShape[3]}, rewriter.getI1Type());
      keyMask = FlattenOp::create(rewriter, loc, ft, keyMask, rewriter.getI64IntegerAttr(1));
    }
    int64_t batch = keyMask ? cast<RankedTensorType>(keyMask.getType()).getDimSize(0) : 1;
    auto mt = RankedTensorType::get({batch, 1, qpt.getDimSize(qpt.getRank() - 2), tDim}, rt.getElementType());
    auto mask = AttentionMaskOp::create(rewriter, loc, mt, qpos, kpos, keyMask,
                                        rewriter.getF32FloatAttr(static_cast<float>(lowest)));
    for (OpOperand *use : maskUses)
      rewriter.modifyOpInPlace(use->getOwner(), [&] { use->set(mask.getResult()); });
    return success();
  }
};

struct FuseAttentionMaskPass : glm::impl::FuseAttentionMaskPassBase<FuseAttentionMaskPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttentionMaskPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
