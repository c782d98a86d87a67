//===- Reduction.cpp - norms, softmax and reductions → linalg -------------===//

#include "passes/lowering/linalg/Patterns.h"
#include "passes/lowering/linalg/Utils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::lowering;

namespace {

/// Re-inserts reduced dims as size 1 so the result broadcasts against `x`.
Value keepDims(OpBuilder &b, Location loc, Value reduced, Value x, ArrayRef<int64_t> dims) {
  auto xt = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < xt.getRank(); ++d) {
    bool red = llvm::is_contained(dims, d);
    shape.push_back(red ? 1 : xt.getDimSize(d));
    sizes.push_back(red ? OpFoldResult(b.getIndexAttr(1)) : getDim(b, loc, x, d));
  }
  return reshapeTensor(b, loc, reduced, RankedTensorType::get(shape, xt.getElementType()), sizes);
}

/// Number of elements of `x` over `dims` as a scalar of type `et`.
Value countOver(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> dims, Type et) {
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t d : dims)
    count = arith::MulIOp::create(b, loc, count, toIndexValue(b, loc, getDim(b, loc, x, d)));
  Value i = arith::IndexCastOp::create(b, loc, b.getI64Type(), count);
  if (isa<FloatType>(et))
    return arith::SIToFPOp::create(b, loc, et, i);
  if (et.getIntOrFloatBitWidth() < 64)
    return arith::TruncIOp::create(b, loc, et, i);
  return i;
}

Value addf(OpBuilder &b, Location l, Value x, Value y) { return arith::AddFOp::create(b, l, x, y); }
Value maxf(OpBuilder &b, Location l, Value x, Value y) { return arith::MaximumFOp::create(b, l, x, y); }

struct BatchNormToLinalg : OpConversionPattern<BatchNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(BatchNormalizationOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!rt || rt.getRank() < 2)
      return rewriter.notifyMatchFailure(op, "unranked");
    Type et = rt.getElementType();
    double eps = op.getEpsilon().convertToDouble();
    auto ct = cast<RankedTensorType>(adaptor.getScale().getType());
    // a = scale / sqrt(var + eps), b = B - mean * a: per channel, then y = x*a + b.
    Value a = buildElementwise(rewriter, loc, ct, ValueRange{adaptor.getScale(), adaptor.getInputVar()},
                               [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                                 Value d = arith::AddFOp::create(b, l, v[1], scalarConstant(b, l, et, eps));
                                 return arith::DivFOp::create(b, l, v[0], math::SqrtOp::create(b, l, d));
                               });
    Value bias = buildElementwise(rewriter, loc, ct, ValueRange{adaptor.getB(), adaptor.getInputMean(), a},
                                  [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                                    return arith::SubFOp::create(b, l, v[0], arith::MulFOp::create(b, l, v[1], v[2]));
                                  });
    MLIRContext *ctx = rewriter.getContext();
    int64_t rank = rt.getRank();
    AffineMap chan = AffineMap::get(rank, 0, {getAffineDimExpr(1, ctx)}, ctx);
    Value x = adaptor.getX();
    Value y = buildParallelGeneric(rewriter, loc, rt, getDims(rewriter, loc, x), ValueRange{x, a, bias},
                                   {rewriter.getMultiDimIdentityMap(rank), chan, chan},
                                   [](OpBuilder &b, Location l, ValueRange v) -> Value {
                                     Value m = arith::MulFOp::create(b, l, v[0], v[1]);
                                     return arith::AddFOp::create(b, l, m, v[2]);
                                   });
    rewriter.replaceOp(op, y);
    return success();
  }
};

template <typename SoftmaxLike>
struct SoftmaxToLinalg : OpConversionPattern<SoftmaxLike> {
  using OpConversionPattern<SoftmaxLike>::OpConversionPattern;
  using OpAdaptor = typename SoftmaxLike::Adaptor;
  static constexpr bool isLog = std::is_same_v<SoftmaxLike, LogSoftmaxOp>;

  LogicalResult matchAndRewrite(SoftmaxLike op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!xt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Type et = xt.getElementType();
    int64_t axis = *normalizeAxis(op.getAxis(), xt.getRank());
    // Numerically stable: m = max, e = exp(x - m), s = sum e, y = e / s.
    Value m = keepDims(rewriter, loc, reduceDims(rewriter, loc, x, {axis}, lowestValue(rewriter, loc, et), maxf), x, {axis});
    Value shifted = buildElementwise(rewriter, loc, xt, ValueRange{x, m},
                                     [](OpBuilder &b, Location l, ValueRange v) -> Value {
                                       return arith::SubFOp::create(b, l, v[0], v[1]);
                                     });
    Value e = buildElementwise(rewriter, loc, xt, ValueRange{shifted},
                               [](OpBuilder &b, Location l, ValueRange v) -> Value {
                                 return math::ExpOp::create(b, l, v[0]);
                               });
    Value s = keepDims(rewriter, loc, reduceDims(rewriter, loc, e, {axis}, scalarConstant(rewriter, loc, et, 0.0), addf), x, {axis});
    Value y;
    if (isLog)
      y = buildElementwise(rewriter, loc, xt, ValueRange{shifted, s},
                           [](OpBuilder &b, Location l, ValueRange v) -> Value {
                             return arith::SubFOp::create(b, l, v[0], math::LogOp::create(b, l, v[1]));
                           });
    else
      y = buildElementwise(rewriter, loc, xt, ValueRange{e, s},
                           [](OpBuilder &b, Location l, ValueRange v) -> Value {
                             return arith::DivFOp::create(b, l, v[0], v[1]);
                           });
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct LayerNormToLinalg : OpConversionPattern<LayerNormalizationOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(LayerNormalizationOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getX();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!xt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Type et = xt.getElementType();
    int64_t axis = *normalizeAxis(op.getAxis(), xt.getRank());
    SmallVector<int64_t> dims;
    for (int64_t d = axis; d < xt.getRank(); ++d)
      dims.push_back(d);
    Value n = countOver(rewriter, loc, x, dims, et);
    Value zero = scalarConstant(rewriter, loc, et, 0.0);
    Value sum = reduceDims(rewriter, loc, x, dims, zero, addf);
    Value mean = keepDims(rewriter, loc, sum, x, dims);
    Value centered = buildElementwise(rewriter, loc, xt, ValueRange{x, mean},
                                      [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                                        return arith::SubFOp::create(b, l, v[0], arith::DivFOp::create(b, l, v[1], n));
                                      });
    Value sq = reduceDims(rewriter, loc, centered, dims, zero,
                      [](OpBuilder &b, Location l, Value v, Value acc) -> Value {
                        return arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, v, v), acc);
                      });
    Value var = keepDims(rewriter, loc, sq, x, dims);
    double eps = op.getEpsilon().convertToDouble();
    SmallVector<Value> ins{centered, var, adaptor.getScale()};
    if (adaptor.getB())
      ins.push_back(adaptor.getB());
    Value y = buildElementwise(rewriter, loc, xt, ins, [&](OpBuilder &b, Location l, ValueRange v) -> Value {
      Value vv = arith::AddFOp::create(b, l, arith::DivFOp::create(b, l, v[1], n), scalarConstant(b, l, et, eps));
      Value r = arith::MulFOp::create(b, l, v[0], math::RsqrtOp::create(b, l, vv));
      r = arith::MulFOp::create(b, l, r, v[2]);
      if (v.size() > 3)
        r = arith::AddFOp::create(b, l, r, v[3]);
      return r;
    });
    rewriter.replaceOp(op, y);
    return success();
  }
};

template <typename ReduceLike>
struct ReduceToLinalg : OpConversionPattern<ReduceLike> {
  using OpConversionPattern<ReduceLike>::OpConversionPattern;
  using OpAdaptor = typename ReduceLike::Adaptor;

  LogicalResult matchAndRewrite(ReduceLike op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getData();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto rt = convertTensorType(*this->getTypeConverter(), op.getType());
    if (!xt || !rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Type et = xt.getElementType();
    bool isFloat = isa<FloatType>(et);
    bool isUnsigned = getElementTypeOrSelf(op.getData().getType()).isUnsignedInteger();
    SmallVector<int64_t> dims = op.getReducedDims();
    if (dims.empty()) {
      rewriter.replaceOp(op, x);
      return success();
    }
    Value init;
    std::function<Value(OpBuilder &, Location, Value, Value)> combine;
    if constexpr (std::is_same_v<ReduceLike, ReduceMaxOp>) {
      init = lowestValue(rewriter, loc, et);
      combine = [&](OpBuilder &b, Location l, Value v, Value a) -> Value {
        if (isFloat) return arith::MaximumFOp::create(b, l, v, a);
        return isUnsigned ? arith::MaxUIOp::create(b, l, v, a).getResult() : arith::MaxSIOp::create(b, l, v, a).getResult();
      };
      if (isUnsigned)
        init = scalarConstant(rewriter, loc, et, 0);
    } else if constexpr (std::is_same_v<ReduceLike, ReduceMinOp>) {
      init = highestValue(rewriter, loc, et);
      combine = [&](OpBuilder &b, Location l, Value v, Value a) -> Value {
        if (isFloat) return arith::MinimumFOp::create(b, l, v, a);
        return isUnsigned ? arith::MinUIOp::create(b, l, v, a).getResult() : arith::MinSIOp::create(b, l, v, a).getResult();
      };
      if (isUnsigned)
        init = arith::ConstantOp::create(rewriter, loc, rewriter.getIntegerAttr(et, -1));
    } else if constexpr (std::is_same_v<ReduceLike, ReduceProdOp>) {
      init = scalarConstant(rewriter, loc, et, 1.0);
      combine = [&](OpBuilder &b, Location l, Value v, Value a) -> Value {
        return isFloat ? arith::MulFOp::create(b, l, v, a).getResult() : arith::MulIOp::create(b, l, v, a).getResult();
      };
    } else {
      init = scalarConstant(rewriter, loc, et, 0.0);
      combine = [&](OpBuilder &b, Location l, Value v, Value a) -> Value {
        return isFloat ? arith::AddFOp::create(b, l, v, a).getResult() : arith::AddIOp::create(b, l, v, a).getResult();
      };
    }
    Value r = reduceDims(rewriter, loc, x, dims, init, combine);
    if constexpr (std::is_same_v<ReduceLike, ReduceMeanOp>) {
      Value n = countOver(rewriter, loc, x, dims, et);
      r = buildElementwise(rewriter, loc, cast<RankedTensorType>(r.getType()), ValueRange{r},
                           [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                             return isFloat ? arith::DivFOp::create(b, l, v[0], n).getResult()
                                            : arith::DivSIOp::create(b, l, v[0], n).getResult();
                           });
    }
    if (op.getKeepdims())
      r = keepDims(rewriter, loc, r, x, dims);
    if (r.getType() != rt)
      r = tensor::CastOp::create(rewriter, loc, rt, r);
    rewriter.replaceOp(op, r);
    return success();
  }
};

} // namespace

void mlir::glm::populateReductionToLinalgPatterns(const TypeConverter &converter,
                                                  RewritePatternSet &patterns) {
  patterns.add<BatchNormToLinalg, SoftmaxToLinalg<SoftmaxOp>, SoftmaxToLinalg<LogSoftmaxOp>,
               LayerNormToLinalg, ReduceToLinalg<ReduceMeanOp>, ReduceToLinalg<ReduceSumOp>,
               ReduceToLinalg<ReduceMaxOp>, ReduceToLinalg<ReduceMinOp>, ReduceToLinalg<ReduceProdOp>>(
      converter, patterns.getContext());
}
