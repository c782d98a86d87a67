//===- FuseAttention.cpp - glm-fuse-attention ------------------------------===//
//
//   kr = repeat_kv(k)   // unsqueeze(k, 2) -> expand [b, kv, g, t, d] -> reshape [b, kv*g, t, d]
//   s  = mat_mul(q, transpose(kr, [0, 1, 3, 2]))
//   s  = s * c  (or s / c)          optional
//   s  = s + mask                   optional, additive
//   y  = mat_mul(softmax(s, -1), repeat_kv(v))
//
// becomes glm.attention(q, k, v, mask) {scale}: grouped K/V heads are read
// in place by the lowering instead of being repeated per query head. The
// matcher is fusion::matchAttention (DecoderPatterns).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/fusion/DecoderPatterns.h"
#include "passes/fusion/FusionUtils.h"

#include "dialects/glm/GLMOps.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::glm {
#define GEN_PASS_DEF_FUSEATTENTIONPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::fusion;

namespace {

struct FuseAttentionPattern : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatMulOp pv, PatternRewriter &rewriter) const override {
    std::string why;
    FailureOr<AttentionMatch> m = matchAttention(pv, &why);
    if (failed(m))
      return rewriter.notifyMatchFailure(pv, why);
    SmallVector<Operation *> ops = m->chain;
    ops.push_back(pv);
    auto fused = AttentionOp::create(rewriter, fusedLoc(rewriter, ops), pv.getType(), m->q, m->k, m->v,
                                     m->mask, rewriter.getF32FloatAttr((float)m->scale));
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
