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
#include "passes/fusion/DecoderPatterns.h"
#include "passes/fusion/FusionUtils.h"

#include "dialects/glm/GLMOps.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::glm {
#define GEN_PASS_DEF_FUSEROTARYPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::fusion;

namespace {

/// Rooted at the add of the two products (fusion::matchRotary).
struct FuseRotaryPattern : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add, PatternRewriter &rewriter) const override {
    FailureOr<RotaryMatch> m = matchRotary(add);
    if (failed(m))
      return rewriter.notifyMatchFailure(add, "not x * cos + rotate(x) * sin");
    auto fused = RotaryOp::create(rewriter, fusedLoc(rewriter, m->ops), m->x.getType(), m->x, m->cos,
                                  m->sin, rewriter.getBoolAttr(m->interleaved));
    rewriter.replaceOp(m->root, fused.getResult());
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
