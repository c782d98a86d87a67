//===- Contraction.cpp - MatMul and Gemm → linalg -------------------------===//
//
// The common transformer case [B..., M, K] x [K, N] collapses the batch into
// M and becomes one linalg.matmul; equal batch dims become
// linalg.batch_matmul; broadcasting batch dims a linalg.generic contraction.
// Gemm's bias initialises the accumulator, so it costs no extra pass.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/linalg/Patterns.h"
#include "passes/lowering/linalg/Utils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::lowering;

namespace {

/// Multiplies 2-d a[M,K] x b[K,N] into `init` (accumulating).
Value matmul2d(OpBuilder &b, Location loc, Value a, Value bm, Value init) {
  return linalg::MatmulOp::create(b, loc, TypeRange{init.getType()}, ValueRange{a, bm},
                                  ValueRange{init})
      .getResult(0);
}

Value zeroFilled(OpBuilder &b, Location loc, RankedTensorType type, ArrayRef<OpFoldResult> sizes) {
  return createFilled(b, loc, type, sizes, scalarConstant(b, loc, type.getElementType(), 0.0));
}

/// Collapses the leading `n` dims of `v` into one.
Value collapseLeading(OpBuilder &b, Location loc, Value v, int64_t n) {
  auto t = cast<RankedTensorType>(v.getType());
  if (n == 1)
    return v;
  SmallVector<ReassociationIndices> reassoc;
  ReassociationIndices first;
  int64_t size = 1;
  for (int64_t i = 0; i < n; ++i) {
    first.push_back(i);
    size = (size == ShapedType::kDynamic || t.isDynamicDim(i)) ? ShapedType::kDynamic
                                                               : size * t.getDimSize(i);
  }
  reassoc.push_back(first);
  SmallVector<int64_t> shape{size};
  for (int64_t i = n; i < t.getRank(); ++i) {
    reassoc.push_back({i});
    shape.push_back(t.getDimSize(i));
  }
  return tensor::CollapseShapeOp::create(b, loc, RankedTensorType::get(shape, t.getElementType()),
                                         v, reassoc);
}

struct MatMulToLinalg : OpConversionPattern<MatMulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(MatMulOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value a = adaptor.getA(), bm = adaptor.getB();
    auto at = dyn_cast<RankedTensorType>(a.getType());
    auto bt = dyn_cast<RankedTensorType>(bm.getType());
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!at || !bt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked operands");
    Type outEt = rt.getElementType();
    // f16/bf16 products accumulate in f32 (as ONNX Runtime) and round once.
    Type et = isa<FloatType>(outEt) && outEt.getIntOrFloatBitWidth() < 32 ? Type(rewriter.getF32Type()) : outEt;
    // Promote 1-d operands to matrices.
    auto promote = [&](Value v, bool front) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<int64_t> shape = front ? SmallVector<int64_t>{1, t.getDimSize(0)}
                                         : SmallVector<int64_t>{t.getDimSize(0), 1};
      return tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get(shape, t.getElementType()), v,
          ArrayRef<ReassociationIndices>{{0, 1}},
          front ? SmallVector<OpFoldResult>{rewriter.getIndexAttr(1), getDim(rewriter, loc, v, 0)}
                : SmallVector<OpFoldResult>{getDim(rewriter, loc, v, 0), rewriter.getIndexAttr(1)});
    };
    bool vecA = at.getRank() == 1, vecB = bt.getRank() == 1;
    if (vecA)
      a = promote(a, true);
    if (vecB)
      bm = promote(bm, false);
    at = cast<RankedTensorType>(a.getType());
    bt = cast<RankedTensorType>(bm.getType());
    int64_t ra = at.getRank(), rb = bt.getRank();
    Value result;
    SmallVector<int64_t> fullShape; // result shape before removing promoted dims
    SmallVector<OpFoldResult> fullSizes;
    if (rb == 2) {
      // [B..., M, K] x [K, N]: fold the batch into M.
      Value a2 = collapseLeading(rewriter, loc, a, ra - 1);
      auto a2t = cast<RankedTensorType>(a2.getType());
      auto outT = RankedTensorType::get({a2t.getDimSize(0), bt.getDimSize(1)}, et);
      Value init = zeroFilled(rewriter, loc, outT,
                              {getDim(rewriter, loc, a2, 0), getDim(rewriter, loc, bm, 1)});
      Value mm = matmul2d(rewriter, loc, a2, bm, init);
      for (int64_t i = 0; i < ra - 1; ++i) {
        fullShape.push_back(at.getDimSize(i));
        fullSizes.push_back(getDim(rewriter, loc, a, i));
      }
      fullShape.push_back(bt.getDimSize(1));
      fullSizes.push_back(getDim(rewriter, loc, bm, 1));
      auto fullT = RankedTensorType::get(fullShape, et);
      result = ra == 2 ? mm : reshapeTensor(rewriter, loc, mm, fullT, fullSizes);
    } else if (ra == rb && at.getShape().drop_back(2) == bt.getShape().drop_back(2) &&
               llvm::none_of(at.getShape().drop_back(2), ShapedType::isDynamic)) {
      // Equal static batch dims: one batch_matmul over the collapsed batch.
      Value a3 = ra == 3 ? a : collapseLeading(rewriter, loc, a, ra - 2);
      Value b3 = rb == 3 ? bm : collapseLeading(rewriter, loc, bm, rb - 2);
      auto a3t = cast<RankedTensorType>(a3.getType());
      auto outT = RankedTensorType::get(
          {a3t.getDimSize(0), a3t.getDimSize(1), cast<RankedTensorType>(b3.getType()).getDimSize(2)}, et);
      Value init = zeroFilled(rewriter, loc, outT,
                              {getDim(rewriter, loc, a3, 0), getDim(rewriter, loc, a3, 1),
                               getDim(rewriter, loc, b3, 2)});
      Value bmm = linalg::BatchMatmulOp::create(rewriter, loc, TypeRange{outT}, ValueRange{a3, b3},
                                                ValueRange{init})
                      .getResult(0);
      for (int64_t i = 0; i < ra - 1; ++i) {
        fullShape.push_back(at.getDimSize(i));
        fullSizes.push_back(getDim(rewriter, loc, a, i));
      }
      fullShape.push_back(bt.getDimSize(rb - 1));
      fullSizes.push_back(getDim(rewriter, loc, bm, rb - 1));
      result = ra == 3 ? bmm
                       : reshapeTensor(rewriter, loc, bmm, RankedTensorType::get(fullShape, et),
                                       fullSizes);
    } else {
      // General broadcasting batch: a generic contraction.
      int64_t batch = std::max(ra, rb) - 2;
      int64_t rank = batch + 3; // batch..., m, n, k
      MLIRContext *ctx = rewriter.getContext();
      auto operandMap = [&](RankedTensorType t, bool isA) {
        SmallVector<AffineExpr> exprs;
        int64_t tb = t.getRank() - 2, off = batch - tb;
        for (int64_t i = 0; i < tb; ++i) {
          bool bc = t.getDimSize(i) == 1;
          exprs.push_back(bc ? getAffineConstantExpr(0, ctx) : getAffineDimExpr(i + off, ctx));
        }
        if (isA) {
          exprs.push_back(getAffineDimExpr(batch, ctx));
          exprs.push_back(getAffineDimExpr(batch + 2, ctx));
        } else {
          exprs.push_back(getAffineDimExpr(batch + 2, ctx));
          exprs.push_back(getAffineDimExpr(batch + 1, ctx));
        }
        return AffineMap::get(rank, 0, exprs, ctx);
      };
      SmallVector<AffineExpr> outExprs;
      for (int64_t i = 0; i < batch + 2; ++i)
        outExprs.push_back(getAffineDimExpr(i, ctx));
      AffineMap outMap = AffineMap::get(rank, 0, outExprs, ctx);
      // Batch sizes: from whichever operand has a non-1 dim.
      for (int64_t i = 0; i < batch; ++i) {
        int64_t ia = i - (batch - (ra - 2)), ib = i - (batch - (rb - 2));
        int64_t da = ia >= 0 ? at.getDimSize(ia) : 1, db = ib >= 0 ? bt.getDimSize(ib) : 1;
        if (da != 1 && ia >= 0) {
          fullShape.push_back(da);
          fullSizes.push_back(getDim(rewriter, loc, a, ia));
        } else if (ib >= 0) {
          fullShape.push_back(db);
          fullSizes.push_back(getDim(rewriter, loc, bm, ib));
        } else {
          fullShape.push_back(1);
          fullSizes.push_back(rewriter.getIndexAttr(1));
        }
      }
      fullShape.push_back(at.getDimSize(ra - 2));
      fullSizes.push_back(getDim(rewriter, loc, a, ra - 2));
      fullShape.push_back(bt.getDimSize(rb - 1));
      fullSizes.push_back(getDim(rewriter, loc, bm, rb - 1));
      auto outT = RankedTensorType::get(fullShape, et);
      Value init = zeroFilled(rewriter, loc, outT, fullSizes);
      SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
      iters.back() = utils::IteratorType::reduction;
      bool isFloat = isa<FloatType>(et);
      result = linalg::GenericOp::create(
                   rewriter, loc, TypeRange{outT}, ValueRange{a, bm}, ValueRange{init},
                   ArrayRef<AffineMap>{operandMap(at, true), operandMap(bt, false), outMap}, iters,
                   [&](OpBuilder &b, Location l, ValueRange args) {
                     SmallVector<Value> in(args.take_front(2));
                     for (Value &v : in)
                       if (v.getType() != et)
                         v = arith::ExtFOp::create(b, l, et, v);
                     args = ValueRange{in[0], in[1], args[2]};
                     Value m = isFloat ? arith::MulFOp::create(b, l, args[0], args[1]).getResult()
                                       : arith::MulIOp::create(b, l, args[0], args[1]).getResult();
                     Value s = isFloat ? arith::AddFOp::create(b, l, args[2], m).getResult()
                                       : arith::AddIOp::create(b, l, args[2], m).getResult();
                     linalg::YieldOp::create(b, l, s);
                   })
                   .getResult(0);
    }
    if (vecA || vecB) {
      SmallVector<OpFoldResult> fullDims = getDims(rewriter, loc, result), sizes;
      int64_t fr = fullDims.size();
      for (int64_t i = 0; i < fr; ++i)
        if (!(vecA && i == fr - 2) && !(vecB && i == fr - 1))
          sizes.push_back(fullDims[i]);
      result = reshapeTensor(rewriter, loc, result, rt, sizes);
    }
    if (et != outEt) {
      auto rt32 = cast<RankedTensorType>(result.getType());
      result = buildElementwise(rewriter, loc, rt32.clone(outEt), ValueRange{result},
                                [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                                  return arith::TruncFOp::create(b, l, outEt, v[0]);
                                });
    }
    if (result.getType() != rt)
      result = tensor::CastOp::create(rewriter, loc, rt, result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct GemmToLinalg : OpConversionPattern<GemmOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(GemmOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!rt)
      return rewriter.notifyMatchFailure(op, "unranked result");
    Type et = rt.getElementType();
    auto transpose = [&](Value v) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      auto tt = RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)}, t.getElementType());
      Value init = createEmpty(rewriter, loc, tt, {getDim(rewriter, loc, v, 1), getDim(rewriter, loc, v, 0)});
      return linalg::TransposeOp::create(rewriter, loc, v, init, ArrayRef<int64_t>{1, 0})
          .getResult()[0];
    };
    Value a = op.getTransA() ? transpose(adaptor.getA()) : adaptor.getA();
    Value bm = op.getTransB() ? transpose(adaptor.getB()) : adaptor.getB();
    SmallVector<OpFoldResult> sizes{getDim(rewriter, loc, a, 0), getDim(rewriter, loc, bm, 1)};
    double alpha = op.getAlpha().convertToDouble(), beta = op.getBeta().convertToDouble();
    if (isa<quant::QuantizedType>(elementTypeOf(op.getA()))) {
      // Quantized operands (glm-quantize): i8 x i8 into an i32 accumulator,
      // dequantized with alpha and beta * C.
      FailureOr<Int8Contraction> q =
          int8Contraction(op, op.getA(), op.getB(), op.getTransB() ? 0 : 1);
      if (failed(q))
        return failure();
      auto accT = rt.clone(rewriter.getI32Type());
      Value acc = matmul2d(rewriter, loc, a, bm, zeroFilled(rewriter, loc, accT, sizes));
      Value c = beta != 0.0 ? adaptor.getC() : Value();
      AffineMap cMap = c ? broadcastMap(rewriter.getContext(),
                                        cast<RankedTensorType>(c.getType()), rt)
                         : AffineMap();
      rewriter.replaceOp(op, dequantizeAccumulator(rewriter, loc, acc, rt, 1, *q, alpha, c, cMap,
                                                   beta));
      return success();
    }
    Value init;
    if (adaptor.getC() && beta != 0.0) {
      // Accumulator starts at beta * C broadcast to [M, N].
      Value c = adaptor.getC();
      auto ct = cast<RankedTensorType>(c.getType());
      init = buildParallelGeneric(rewriter, loc, rt, sizes, ValueRange{c},
                                  {broadcastMap(rewriter.getContext(), ct, rt)},
                                  [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                                    if (beta == 1.0)
                                      return args[0];
                                    return arith::MulFOp::create(b, l, args[0],
                                                                 scalarConstant(b, l, et, beta));
                                  });
      if (alpha != 1.0) {
        // (alpha * A) B + beta C: scale A instead of the product.
        a = buildElementwise(rewriter, loc, cast<RankedTensorType>(a.getType()), ValueRange{a},
                             [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                               return arith::MulFOp::create(b, l, args[0], scalarConstant(b, l, et, alpha));
                             });
      }
    } else {
      init = zeroFilled(rewriter, loc, rt, sizes);
      if (alpha != 1.0)
        a = buildElementwise(rewriter, loc, cast<RankedTensorType>(a.getType()), ValueRange{a},
                             [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                               return arith::MulFOp::create(b, l, args[0], scalarConstant(b, l, et, alpha));
                             });
    }
    rewriter.replaceOp(op, matmul2d(rewriter, loc, a, bm, init));
    return success();
  }
};

} // namespace

void mlir::glm::populateContractionToLinalgPatterns(const TypeConverter &converter,
                                                    RewritePatternSet &patterns) {
  patterns.add<MatMulToLinalg, GemmToLinalg>(converter, patterns.getContext());
}
