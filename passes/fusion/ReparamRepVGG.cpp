//===- ReparamRepVGG.cpp - glm-reparam-repvgg -----------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::glm {
#define GEN_PASS_DEF_REPARAMREPVGGPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;

namespace {

/// One branch of a sum: a conv of X, X itself, or an affine of X (BN).
struct Branch {
  Operation *op = nullptr;      // the conv or batch norm (null for identity)
  int64_t k = 1;                // kernel size (square, odd)
  SmallVector<double> w;        // [F, C, k, k] (convs)
  SmallVector<double> b;        // [F]
  SmallVector<double> diag;     // identity/affine: per-channel centre tap
};

/// Collects the terms of a tree of single-use adds.
void collectTerms(Value v, bool root, SmallVectorImpl<Value> &terms, SmallVectorImpl<Operation *> &adds) {
  auto add = v.getDefiningOp<AddOp>();
  if (add && (root || add->hasOneUse()) && add.getA().getType() == add.getType() &&
      add.getB().getType() == add.getType()) {
    adds.push_back(add);
    collectTerms(add.getA(), false, terms, adds);
    collectTerms(add.getB(), false, terms, adds);
    return;
  }
  terms.push_back(v);
}

struct MergeBranches : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp root, PatternRewriter &rewriter) const override {
    // Only the top of an add tree (not an inner add of a bigger sum).
    if (root->hasOneUse())
      if (auto user = dyn_cast<AddOp>(*root->getUsers().begin()))
        if (user.getType() == root.getType())
          return rewriter.notifyMatchFailure(root, "inner add of a larger sum");
    auto outTy = dyn_cast<RankedTensorType>(root.getType());
    if (!outTy || outTy.getRank() != 4)
      return rewriter.notifyMatchFailure(root, "not an NCHW sum");
    SmallVector<Value> terms;
    SmallVector<Operation *> adds;
    collectTerms(root.getResult(), true, terms, adds);
    if (terms.size() < 2)
      return failure();

    // Find the shared input X: a conv's input, or the term itself.
    Value x;
    for (Value t : terms)
      if (auto conv = t.getDefiningOp<ConvOp>()) {
        x = conv.getX();
        break;
      }
    if (!x)
      return rewriter.notifyMatchFailure(root, "no conv branch");
    auto xTy = dyn_cast<RankedTensorType>(x.getType());
    if (!xTy || xTy.getRank() != 4 || xTy.isDynamicDim(1))
      return rewriter.notifyMatchFailure(root, "input channels unknown");
    int64_t c = xTy.getDimSize(1), f = outTy.getDimSize(1);
    if (ShapedType::isDynamic(f))
      return rewriter.notifyMatchFailure(root, "output channels unknown");

    SmallVector<Branch> branches;
    SmallVector<int64_t> stride;
    int64_t group = 0;
    int64_t kmax = 1;
    for (Value t : terms) {
      Branch br;
      if (t == x) {
        // Identity branch.
        if (c != f)
          return failure();
        br.diag.assign(c, 1.0);
        br.b.assign(f, 0.0);
      } else if (auto bn = t.getDefiningOp<BatchNormalizationOp>()) {
        if (bn.getX() != x || !bn->hasOneUse() || c != f)
          return rewriter.notifyMatchFailure(root, "affine branch of another value");
        auto scale = getConstantValuesAsDouble(bn.getScale()), bias = getConstantValuesAsDouble(bn.getB()),
             mean = getConstantValuesAsDouble(bn.getInputMean()), var = getConstantValuesAsDouble(bn.getInputVar());
        if (!scale || !bias || !mean || !var)
          return failure();
        double eps = bn.getEpsilon().convertToDouble();
        for (int64_t i = 0; i < c; ++i) {
          double s = (*scale)[i] / std::sqrt((*var)[i] + eps);
          br.diag.push_back(s);
          br.b.push_back((*bias)[i] - (*mean)[i] * s);
        }
        br.op = bn;
      } else if (auto conv = t.getDefiningOp<ConvOp>()) {
        auto wTy = dyn_cast<RankedTensorType>(conv.getW().getType());
        if (conv.getX() != x || !conv->hasOneUse() || !wTy || !wTy.hasStaticShape() ||
            wTy.getRank() != 4)
          return rewriter.notifyMatchFailure(root, "conv branch does not qualify");
        int64_t kh = wTy.getDimSize(2), kw = wTy.getDimSize(3);
        if (kh != kw || kh % 2 == 0)
          return rewriter.notifyMatchFailure(root, "kernel not square and odd");
        auto pads = conv.getPadsOrDefault();
        if (llvm::any_of(pads, [&](int64_t p) { return p != kh / 2; }))
          return rewriter.notifyMatchFailure(root, "padding not centred");
        if (llvm::any_of(conv.getDilationsOrDefault(), [](int64_t d) { return d != 1; }))
          return rewriter.notifyMatchFailure(root, "dilated conv");
        auto s = conv.getStridesOrDefault();
        if (!stride.empty() && s != stride)
          return rewriter.notifyMatchFailure(root, "strides differ");
        stride = s;
        if (group && group != conv.getGroup())
          return rewriter.notifyMatchFailure(root, "groups differ");
        group = conv.getGroup();
        auto w = getConstantValuesAsDouble(conv.getW());
        if (!w)
          return failure();
        br.w = *w;
        br.k = kh;
        br.b.assign(f, 0.0);
        if (conv.getB()) {
          auto b = getConstantValuesAsDouble(conv.getB());
          if (!b)
            return failure();
          br.b = *b;
        }
        br.op = conv;
      } else {
        return rewriter.notifyMatchFailure(root, "a term is not a branch of the input");
      }
      kmax = std::max(kmax, br.k);
      branches.push_back(std::move(br));
    }
    if (group == 0)
      group = 1;
    // Identity/affine branches need stride 1 and, when grouped, a diagonal
    // that fits the groups (depthwise: one channel per group).
    bool hasDiag = llvm::any_of(branches, [](const Branch &b) { return !b.diag.empty(); });
    if (hasDiag && llvm::any_of(stride, [](int64_t s) { return s != 1; }))
      return rewriter.notifyMatchFailure(root, "identity branch with a stride");
    int64_t cpg = c / group; // input channels per group
    int64_t fpg = f / group;
    if (hasDiag && fpg != cpg)
      return failure();

    // Sum every branch into one [F, C/g, K, K] kernel.
    int64_t K = kmax;
    SmallVector<double> w(f * cpg * K * K, 0.0), b(f, 0.0);
    for (const Branch &br : branches) {
      for (int64_t o = 0; o < f; ++o)
        b[o] += br.b[o];
      if (!br.diag.empty()) {
        for (int64_t o = 0; o < f; ++o) {
          int64_t ic = o % cpg; // the same channel inside its group
          w[((o * cpg + ic) * K + K / 2) * K + K / 2] += br.diag[o];
        }
        continue;
      }
      int64_t off = (K - br.k) / 2;
      for (int64_t o = 0; o < f; ++o)
        for (int64_t i = 0; i < cpg; ++i)
          for (int64_t y = 0; y < br.k; ++y)
            for (int64_t z = 0; z < br.k; ++z)
              w[((o * cpg + i) * K + y + off) * K + z + off] +=
                  br.w[((o * cpg + i) * br.k + y) * br.k + z];
    }
    SmallVector<Location> locs;
    for (Operation *a : adds)
      locs.push_back(a->getLoc());
    Location loc = rewriter.getFusedLoc(locs);
    Type et = outTy.getElementType();
    std::string name = "repvgg";
    if (auto n = dyn_cast<NameLoc>(root->getLoc()))
      name = n.getName().str();
    Value nw = ConstantOp::create(
        rewriter, loc,
        makeResourceElements(RankedTensorType::get({f, cpg, K, K}, et), w, name + ".w"));
    Value nb = ConstantOp::create(
        rewriter, loc, makeResourceElements(RankedTensorType::get({f}, et), b, name + ".b"));
    SmallVector<int64_t> pads(4, K / 2);
    if (stride.empty())
      stride.assign(2, 1);
    auto merged = ConvOp::create(rewriter, loc, root.getType(), x, nw, nb, ArrayAttr(),
                                 rewriter.getI64IntegerAttr(group), ArrayAttr(),
                                 rewriter.getI64ArrayAttr(pads), rewriter.getI64ArrayAttr(stride));
    rewriter.replaceOp(root, merged.getResult());
    return success();
  }
};

struct ReparamRepVGGPass : glm::impl::ReparamRepVGGPassBase<ReparamRepVGGPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MergeBranches>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
