//===- FuseGatedMLP.cpp - glm-fuse-gated-mlp -------------------------------===//
//
// The SwiGLU/GeGLU MLP of GLM-4 and Llama as exported with a fused
// gate/up projection:
//
//   h = linear(x, W_gate_up)            // [..., 2F], no bias
//   g = slice(h, 0:F, -1); u = slice(h, F:2F, -1)
//   m = act(g) * u                      // silu(g) or g * sigmoid(g); gelu
//   y = linear(m, W_down)               // no bias
//
// becomes glm.gated_mlp. Runs after glm-fuse-linear.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/fusion/FusionUtils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::glm {
#define GEN_PASS_DEF_FUSEGATEDMLPPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::fusion;

namespace {

/// `v` = act(g): returns g and the activation name, appending the matched
/// ops to `chain`.
std::optional<std::pair<Value, StringRef>> matchActivation(Value v, SmallVectorImpl<Operation *> &chain) {
  Operation *op = skipIdentityCasts(v).getDefiningOp();
  if (auto silu = dyn_cast_or_null<SiluOp>(op)) {
    chain.push_back(silu);
    return std::make_pair(silu.getX(), StringRef("silu"));
  }
  if (auto gelu = dyn_cast_or_null<GeluOp>(op)) {
    if (gelu.getApproximate() != "none")
      return std::nullopt;
    chain.push_back(gelu);
    return std::make_pair(gelu.getX(), StringRef("gelu"));
  }
  if (auto mul = dyn_cast_or_null<MulOp>(op)) {
    for (int i = 0; i < 2; ++i) {
      auto sig = definedBy<SigmoidOp>(mul->getOperand(i));
      if (sig && skipIdentityCasts(sig.getX()) == skipIdentityCasts(mul->getOperand(1 - i))) {
        chain.push_back(sig);
        chain.push_back(mul);
        return std::make_pair(skipIdentityCasts(sig.getX()), StringRef("silu"));
      }
    }
  }
  return std::nullopt;
}

struct FuseGatedMLPPattern : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp down, PatternRewriter &rewriter) const override {
    if (down.getB())
      return rewriter.notifyMatchFailure(down, "down projection has a bias");
    auto prod = definedBy<MulOp>(down.getX());
    if (!prod)
      return rewriter.notifyMatchFailure(down, "input is not a product");
    for (int gateIdx = 0; gateIdx < 2; ++gateIdx) {
      SmallVector<Operation *> chain;
      auto act = matchActivation(prod->getOperand(gateIdx), chain);
      if (!act)
        continue;
      auto gate = definedBy<SliceOp>(act->first);
      auto up = definedBy<SliceOp>(prod->getOperand(1 - gateIdx));
      if (!gate || !up || gate.getData() != up.getData())
        continue;
      auto h = gate.getData().getDefiningOp<LinearOp>();
      auto gs = getAxisSlice(gate), us = getAxisSlice(up);
      auto ht = h ? rankedOrNull(h.getY()) : RankedTensorType();
      if (!h || h.getB() || !gs || !us || !ht || gs->step != 1 || us->step != 1)
        continue;
      int64_t last = ht.getRank() - 1, width = ht.getDimSize(last);
      if (gs->axis != last || us->axis != last || ShapedType::isDynamic(width) || width % 2)
        continue;
      int64_t f = width / 2;
      bool gateFirst;
      if (gs->start == 0 && gs->end == f && us->start == f && us->end == width)
        gateFirst = true;
      else if (us->start == 0 && us->end == f && gs->start == f && gs->end == width)
        gateFirst = false;
      else
        continue;
      // h feeds exactly the two slices; every intermediate dies here.
      if (llvm::any_of(h->getUsers(), [&](Operation *u) { return u != gate && u != up; }))
        continue;
      SmallVector<Operation *> all{h, gate, up};
      all.append(chain);
      all.push_back(prod);
      all.push_back(down);
      // The gate feeds only the activation (silu spelled g * sigmoid(g)
      // reads it twice).
      bool single = up->hasOneUse() && prod->hasOneUse() &&
                    llvm::all_of(gate->getUsers(), [&](Operation *u) { return llvm::is_contained(chain, u); });
      for (Operation *op : chain)
        single &= op == chain.back() ? op->hasOneUse()
                                     : llvm::all_of(op->getUsers(), [&](Operation *u) {
                                         return llvm::is_contained(chain, u);
                                       });
      if (!single)
        continue;
      auto fused = GatedMLPOp::create(rewriter, fusedLoc(rewriter, all), down.getType(), h.getX(),
                                      h.getW(), down.getW(), rewriter.getStringAttr(act->second),
                                      rewriter.getBoolAttr(gateFirst));
      rewriter.replaceOp(down, fused.getResult());
      return success();
    }
    return rewriter.notifyMatchFailure(down, "not act(slice(h)) * slice(h) of one gate/up linear");
  }
};

struct FuseGatedMLPPass : glm::impl::FuseGatedMLPPassBase<FuseGatedMLPPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseGatedMLPPattern>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
