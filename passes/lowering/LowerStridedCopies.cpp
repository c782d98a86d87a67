//===- LowerStridedCopies.cpp - glm-lower-strided-copies ------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::glm {
#define GEN_PASS_DEF_LOWERSTRIDEDCOPIESPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

bool isContiguous(MemRefType t) { return t.getLayout().isIdentity(); }

/// Rows of at most this many elements are copied with straight-line vector
/// moves; longer rows loop over vector-sized chunks.
constexpr int64_t kMaxUnrolledChunks = 8;

/// Whether `t`'s innermost dim is static and unit-stride (rows are
/// contiguous, so they can move as vectors).
bool hasContiguousRows(MemRefType t) {
  if (t.getRank() == 0 || ShapedType::isDynamic(t.getShape().back()))
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(t.getStridesAndOffset(strides, offset)))
    return false;
  return strides.back() == 1;
}

struct LowerStridedCopiesPass : glm::impl::LowerStridedCopiesPassBase<LowerStridedCopiesPass> {
  using LowerStridedCopiesPassBase::LowerStridedCopiesPassBase;

  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      auto src = dyn_cast<MemRefType>(copy.getSource().getType());
      auto dst = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (src && dst && (!isContiguous(src) || !isContiguous(dst)))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder b(copy);
      auto src = cast<MemRefType>(copy.getSource().getType());
      auto dst = cast<MemRefType>(copy.getTarget().getType());
      Type elt = src.getElementType();
      if (hasContiguousRows(src) && hasContiguousRows(dst) && elt.isIntOrFloat() &&
          elt.getIntOrFloatBitWidth() % 8 == 0 && elt == dst.getElementType())
        vectorCopy(b, copy, src);
      else
        linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(), copy.getTarget());
      copy.erase();
    }
  }

  /// Loops over the outer dims; each row moves as vector loads and stores
  /// of `vectorBits` (and one shorter vector for the remainder). Scalar
  /// loops would be fully unrolled by LLVM into one load/store pair per
  /// element: slower and much larger code.
  void vectorCopy(OpBuilder &b, memref::CopyOp copy, MemRefType type) {
    Location loc = copy.getLoc();
    Value src = copy.getSource(), dst = copy.getTarget();
    int64_t rank = type.getRank();
    int64_t n = type.getShape().back();
    int64_t lanes = std::max<int64_t>(1, vectorBits / type.getElementTypeBitWidth());
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    SmallVector<Value> ivs;
    for (int64_t d = 0; d + 1 < rank; ++d) {
      Value ub = memref::DimOp::create(b, loc, src, d);
      auto loop = scf::ForOp::create(b, loc, zero, ub, one);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      ivs.push_back(loop.getInductionVar());
    }
    auto move = [&](Value col, int64_t width) {
      auto vt = VectorType::get({width}, type.getElementType());
      SmallVector<Value> idx(ivs);
      idx.push_back(col);
      Value v = vector::LoadOp::create(b, loc, vt, src, idx);
      vector::StoreOp::create(b, loc, v, dst, idx);
    };
    int64_t full = n / lanes, rest = n % lanes;
    if (full <= kMaxUnrolledChunks) {
      for (int64_t c = 0; c < full; ++c)
        move(arith::ConstantIndexOp::create(b, loc, c * lanes), lanes);
    } else if (full > 0) {
      Value ub = arith::ConstantIndexOp::create(b, loc, full * lanes);
      Value step = arith::ConstantIndexOp::create(b, loc, lanes);
      auto loop = scf::ForOp::create(b, loc, zero, ub, step);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      move(loop.getInductionVar(), lanes);
    }
    if (rest)
      move(arith::ConstantIndexOp::create(b, loc, full * lanes), rest);
  }
};

} // namespace
