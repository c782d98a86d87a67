//===- LowerInt8Dots.cpp - glm-lower-int8-dots ----------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::glm {
#define GEN_PASS_DEF_LOWERINT8DOTSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

/// acc + the 4-byte dot products, in vector ops: bytes widened to i32
/// (a zero-, b sign-extended), multiplied, summed in fours.
Value expand(OpBuilder &b, Location loc, glm::Dot4AccumulateOp op) {
  auto t = cast<VectorType>(op.getType());
  int64_t n = t.getDimSize(0);
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  auto bytesT = VectorType::get({4 * n}, i8), wideT = VectorType::get({4 * n}, i32);
  Value a = vector::BitCastOp::create(b, loc, bytesT, op.getA());
  Value w = vector::BitCastOp::create(b, loc, bytesT, op.getB());
  Value wa = op.getASigned() ? arith::ExtSIOp::create(b, loc, wideT, a).getResult()
                            : arith::ExtUIOp::create(b, loc, wideT, a).getResult();
  Value prod = arith::MulIOp::create(b, loc, wa, arith::ExtSIOp::create(b, loc, wideT, w));
  Value quads = vector::ShapeCastOp::create(b, loc, VectorType::get({n, 4}, i32), prod);
  Value sum = vector::MultiDimReductionOp::create(b, loc, quads, op.getAcc(), ArrayRef<bool>{false, true},
                                                  vector::CombiningKind::ADD);
  return sum;
}

/// acc + the int16 pair products, in vector ops.
Value expand2(OpBuilder &b, Location loc, glm::Dot2AccumulateOp op) {
  auto t = cast<VectorType>(op.getType());
  int64_t n = t.getDimSize(0);
  Type i16 = b.getI16Type(), i32 = b.getI32Type();
  auto halvesT = VectorType::get({2 * n}, i16), wideT = VectorType::get({2 * n}, i32);
  Value a = arith::ExtSIOp::create(b, loc, wideT, vector::BitCastOp::create(b, loc, halvesT, op.getA()));
  Value w = arith::ExtSIOp::create(b, loc, wideT, vector::BitCastOp::create(b, loc, halvesT, op.getB()));
  Value pairs = vector::ShapeCastOp::create(b, loc, VectorType::get({n, 2}, i32),
                                            arith::MulIOp::create(b, loc, a, w));
  return vector::MultiDimReductionOp::create(b, loc, pairs, op.getAcc(), ArrayRef<bool>{false, true},
                                             vector::CombiningKind::ADD);
}

struct LowerInt8DotsPass : glm::impl::LowerInt8DotsPassBase<LowerInt8DotsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<glm::Dot2AccumulateOp> pairs;
    getOperation().walk([&](glm::Dot2AccumulateOp op) { pairs.push_back(op); });
    for (glm::Dot2AccumulateOp op : pairs) {
      OpBuilder b(op);
      Location loc = op.getLoc();
      Value r;
      if (avx2 && cast<VectorType>(op.getType()).getDimSize(0) == 8) {
        // vpmaddwd (<16 x i16>, <16 x i16>) -> <8 x i32>, then the add
        // (one vpdpwssd where the target has VNNI).
        auto halvesT = VectorType::get({16}, b.getI16Type());
        Value a = vector::BitCastOp::create(b, loc, halvesT, op.getA());
        Value w = vector::BitCastOp::create(b, loc, halvesT, op.getB());
        Value prod = LLVM::CallIntrinsicOp::create(b, loc, op.getType(),
                                                   b.getStringAttr("llvm.x86.avx2.pmadd.wd"),
                                                   ValueRange{a, w})
                         .getResult(0);
        r = arith::AddIOp::create(b, loc, op.getAcc(), prod);
      } else {
        r = expand2(b, loc, op);
      }
      op.replaceAllUsesWith(r);
      op.erase();
    }
    SmallVector<glm::Dot4AccumulateOp> dots;
    getOperation().walk([&](glm::Dot4AccumulateOp op) { dots.push_back(op); });
    for (glm::Dot4AccumulateOp op : dots) {
      OpBuilder b(op);
      Location loc = op.getLoc();
      Value r;
      int64_t lanes = cast<VectorType>(op.getType()).getDimSize(0);
      // LLVM's signatures: (<N x i32> acc, <4N x i8>, <4N x i8>), sdot's
      // both signed, vpdpbusd's first unsigned.
      auto intrinsic = [&](StringRef name) -> Value {
        auto bytesT = VectorType::get({4 * lanes}, b.getI8Type());
        Value a = vector::BitCastOp::create(b, loc, bytesT, op.getA());
        Value w = vector::BitCastOp::create(b, loc, bytesT, op.getB());
        return LLVM::CallIntrinsicOp::create(b, loc, op.getType(), b.getStringAttr(name),
                                             ValueRange{op.getAcc(), a, w})
            .getResult(0);
      };
      if (dotprod && lanes == 4 && op.getASigned()) {
        r = intrinsic("llvm.aarch64.neon.sdot.v4i32.v16i8");
      } else if (vnni && lanes == 16 && !op.getASigned()) {
        r = intrinsic("llvm.x86.avx512.vpdpbusd.512");
      } else {
        r = expand(b, loc, op);
      }
      op.replaceAllUsesWith(r);
      op.erase();
    }
    // The expansion's 2-d shape cast and row sums, as LLVM takes them.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorMultiReductionLoweringPatterns(
        patterns, vector::VectorMultiReductionLowering::InnerReduction);
    vector::populateVectorShapeCastLoweringPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
