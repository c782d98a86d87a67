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

/// acc + the dot products of `group` narrow integers per i32 lane (4
/// bytes or 2 int16), in vector ops: widened to i32 (`a` zero-extended
/// unless `aSigned`, `b` sign-extended), multiplied, summed per lane.
Value expand(OpBuilder &b, Location loc, Value acc, Value a, Value w, int64_t group, bool aSigned) {
  int64_t n = cast<VectorType>(acc.getType()).getDimSize(0);
  Type narrow = b.getIntegerType(32 / group), i32 = b.getI32Type();
  auto narrowT = VectorType::get({group * n}, narrow), wideT = VectorType::get({group * n}, i32);
  a = vector::BitCastOp::create(b, loc, narrowT, a);
  w = vector::BitCastOp::create(b, loc, narrowT, w);
  a = aSigned ? arith::ExtSIOp::create(b, loc, wideT, a).getResult()
              : arith::ExtUIOp::create(b, loc, wideT, a).getResult();
  Value prod = arith::MulIOp::create(b, loc, a, arith::ExtSIOp::create(b, loc, wideT, w));
  Value lanes = vector::ShapeCastOp::create(b, loc, VectorType::get({n, group}, i32), prod);
  return vector::MultiDimReductionOp::create(b, loc, lanes, acc, ArrayRef<bool>{false, true},
                                             vector::CombiningKind::ADD);
}

struct LowerInt8DotsPass : glm::impl::LowerInt8DotsPassBase<LowerInt8DotsPass> {
  using Base::Base;

  /// `op`'s instruction where the target has one, else `expand`.
  Value lower(OpBuilder &b, Operation *op) {
    Location loc = op->getLoc();
    Value acc = op->getOperand(0), a = op->getOperand(1), w = op->getOperand(2);
    int64_t lanes = cast<VectorType>(acc.getType()).getDimSize(0);
    // LLVM's signatures take the narrow integers as vectors of them.
    auto narrow = [&](Value v, int64_t group) -> Value {
      return vector::BitCastOp::create(
          b, loc, VectorType::get({group * lanes}, b.getIntegerType(32 / group)), v);
    };
    auto call = [&](StringRef name, ValueRange args) -> Value {
      return LLVM::CallIntrinsicOp::create(b, loc, acc.getType(), b.getStringAttr(name), args)
          .getResult(0);
    };
    if (isa<glm::Dot2AccumulateOp>(op)) {
      // vpmaddwd (<16 x i16>, <16 x i16>) -> <8 x i32>, then the add (one
      // vpdpwssd where the target has VNNI).
      if (avx2 && lanes == 8)
        return arith::AddIOp::create(b, loc, acc,
                                     call("llvm.x86.avx2.pmadd.wd", {narrow(a, 2), narrow(w, 2)}));
      return expand(b, loc, acc, a, w, /*group=*/2, /*aSigned=*/true);
    }
    bool aSigned = cast<glm::Dot4AccumulateOp>(op).getASigned();
    // (<N x i32> acc, <4N x i8>, <4N x i8>): sdot's both signed,
    // vpdpbusd's first unsigned.
    if (dotprod && lanes == 4 && aSigned)
      return call("llvm.aarch64.neon.sdot.v4i32.v16i8", {acc, narrow(a, 4), narrow(w, 4)});
    if (vnni && lanes == 16 && !aSigned)
      return call("llvm.x86.avx512.vpdpbusd.512", {acc, narrow(a, 4), narrow(w, 4)});
    return expand(b, loc, acc, a, w, /*group=*/4, aSigned);
  }

  void runOnOperation() override {
    SmallVector<Operation *> dots;
    getOperation().walk([&](Operation *op) {
      if (isa<glm::Dot2AccumulateOp, glm::Dot4AccumulateOp>(op))
        dots.push_back(op);
    });
    for (Operation *op : dots) {
      OpBuilder b(op);
      op->getResult(0).replaceAllUsesWith(lower(b, op));
      op->erase();
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
