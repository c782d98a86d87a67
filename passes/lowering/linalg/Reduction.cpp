//===- Reduction.cpp - norms, softmax and reductions → linalg -------------===//

#include "passes/lowering/linalg/Patterns.h"
#include "passes/lowering/linalg/Utils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

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
    // f16/bf16 run in f32 (as ONNX Runtime) and round once at the end.
    RankedTensorType outT = xt;
    if (et.getIntOrFloatBitWidth() < 32) {
      et = rewriter.getF32Type();
      xt = xt.clone(et);
      x = buildElementwise(rewriter, loc, xt, ValueRange{x}, [&](OpBuilder &b, Location l, ValueRange v) -> Value {
        return arith::ExtFOp::create(b, l, et, v[0]);
      });
    }
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
    if (outT != xt)
      y = buildElementwise(rewriter, loc, outT, ValueRange{y}, [&](OpBuilder &b, Location l, ValueRange v) -> Value {
        return arith::TruncFOp::create(b, l, outT.getElementType(), v[0]);
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

/// ArgMax/ArgMin: one generic reducing the axis into the running extreme
/// and its index (strict comparison keeps the first of equal elements,
/// non-strict with select_last_index the last).
template <typename ArgOp, bool IsMax>
struct ArgToLinalg : OpConversionPattern<ArgOp> {
  using OpConversionPattern<ArgOp>::OpConversionPattern;
  LogicalResult matchAndRewrite(ArgOp op, typename ArgOp::Adaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*this->getTypeConverter(), op.getType());
    Value x = adaptor.getData();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!rt || !xt)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t rank = xt.getRank(), axis = *normalizeAxis(op.getAxis(), rank);
    Type et = xt.getElementType(), i64 = rewriter.getI64Type();
    bool isFloat = isa<FloatType>(et);
    auto it = dyn_cast<IntegerType>(getElementTypeOrSelf(op.getData().getType()));
    bool isUnsigned = it && it.isUnsigned();
    bool last = op.getSelectLastIndex() != 0;
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<int64_t> redShape;
    SmallVector<OpFoldResult> redSizes;
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iters;
    for (int64_t d = 0; d < rank; ++d) {
      iters.push_back(d == axis ? utils::IteratorType::reduction : utils::IteratorType::parallel);
      if (d == axis)
        continue;
      redShape.push_back(xt.getDimSize(d));
      redSizes.push_back(getDim(rewriter, loc, x, d));
      outExprs.push_back(getAffineDimExpr(d, ctx));
    }
    auto valT = RankedTensorType::get(redShape, et), idxT = RankedTensorType::get(redShape, i64);
    Value valInit = createFilled(rewriter, loc, valT, redSizes,
                                 IsMax ? lowestValue(rewriter, loc, et) : highestValue(rewriter, loc, et));
    Value idxInit = createFilled(rewriter, loc, idxT, redSizes, scalarConstant(rewriter, loc, i64, 0));
    AffineMap outMap = AffineMap::get(rank, 0, outExprs, ctx);
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank), outMap, outMap};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valT, idxT}, ValueRange{x}, ValueRange{valInit, idxInit}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = args[0], cur = args[1], curIdx = args[2];
          Value take;
          if (isFloat) {
            auto pred = IsMax ? (last ? arith::CmpFPredicate::OGE : arith::CmpFPredicate::OGT)
                              : (last ? arith::CmpFPredicate::OLE : arith::CmpFPredicate::OLT);
            take = arith::CmpFOp::create(b, l, pred, v, cur);
          } else {
            using P = arith::CmpIPredicate;
            P pred = IsMax ? (last ? (isUnsigned ? P::uge : P::sge) : (isUnsigned ? P::ugt : P::sgt))
                           : (last ? (isUnsigned ? P::ule : P::sle) : (isUnsigned ? P::ult : P::slt));
            take = arith::CmpIOp::create(b, l, pred, v, cur);
          }
          Value i = arith::IndexCastOp::create(b, l, b.getI64Type(), linalg::IndexOp::create(b, l, axis));
          linalg::YieldOp::create(b, l,
                                  ValueRange{arith::SelectOp::create(b, l, take, v, cur),
                                             arith::SelectOp::create(b, l, take, i, curIdx)});
        });
    Value result = generic.getResult(1);
    if (op.getKeepdims()) {
      SmallVector<OpFoldResult> sizes;
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(d == axis ? OpFoldResult(rewriter.getIndexAttr(1)) : getDim(rewriter, loc, x, d));
      result = reshapeTensor(rewriter, loc, result, rt, sizes);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// CumSum: out[..i..] = sum over k of x[..k..] where k <= i (k < i when
/// exclusive; k >= i / k > i when reversed), one generic with the axis
/// read again as a reduction dim. Quadratic in the axis length, which is a
/// sequence of positions where exporters use it.
struct CumSumToLinalg : OpConversionPattern<CumSumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(CumSumOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value x = adaptor.getX();
    if (!rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t rank = rt.getRank(), axis = *normalizeAxis(op.getAxis(), rank);
    Type et = rt.getElementType();
    bool isFloat = isa<FloatType>(et);
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> inExprs, outExprs;
    for (int64_t d = 0; d < rank; ++d) {
      inExprs.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
      outExprs.push_back(getAffineDimExpr(d, ctx));
    }
    SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
    iters.push_back(utils::IteratorType::reduction);
    Value init = createFilled(rewriter, loc, rt, getDims(rewriter, loc, x), scalarConstant(rewriter, loc, et, 0));
    bool exclusive = op.getExclusive() != 0, reverse = op.getReverse() != 0;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{rt}, ValueRange{x}, ValueRange{init},
        {AffineMap::get(rank + 1, 0, inExprs, ctx), AffineMap::get(rank + 1, 0, outExprs, ctx)}, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value i = linalg::IndexOp::create(b, l, axis), k = linalg::IndexOp::create(b, l, rank);
          using P = arith::CmpIPredicate;
          P pred = reverse ? (exclusive ? P::ugt : P::uge) : (exclusive ? P::ult : P::ule);
          Value in = arith::CmpIOp::create(b, l, pred, k, i);
          Value v = arith::SelectOp::create(b, l, in, args[0], scalarConstant(b, l, et, 0));
          Value sum = isFloat ? arith::AddFOp::create(b, l, args[1], v).getResult()
                              : arith::AddIOp::create(b, l, args[1], v).getResult();
          linalg::YieldOp::create(b, l, sum);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// TopK as loops on tensors: for each row along the axis, the elements are
/// inserted one by one into a sorted buffer of k (values and indices). An
/// element enters when the buffer is not full yet or it beats the last
/// entry; ties keep the earlier element ahead (it was inserted first), as
/// ONNX orders them. O(n) per row when few elements enter, O(n k) at worst.
struct TopKToLinalg : OpConversionPattern<TopKOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(TopKOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto valT = convertTensorType(*getTypeConverter(), op.getValues().getType());
    auto idxT = convertTensorType(*getTypeConverter(), op.getIndices().getType());
    Value x = adaptor.getX();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!valT || !idxT || !xt)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t rank = xt.getRank(), axis = *normalizeAxis(op.getAxis(), rank), k = op.getK();
    Type et = xt.getElementType(), i64 = rewriter.getI64Type();
    bool isFloat = isa<FloatType>(et), largest = op.getLargest() != 0;
    auto it = dyn_cast<IntegerType>(getElementTypeOrSelf(op.getX().getType()));
    bool isUnsigned = it && it.isUnsigned();
    // a strictly better than b.
    auto better = [&](OpBuilder &b, Location l, Value a, Value c) -> Value {
      if (isFloat)
        return arith::CmpFOp::create(b, l, largest ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT, a, c);
      using P = arith::CmpIPredicate;
      P pred = largest ? (isUnsigned ? P::ugt : P::sgt) : (isUnsigned ? P::ult : P::slt);
      return arith::CmpIOp::create(b, l, pred, a, c);
    };
    SmallVector<OpFoldResult> outSizes = getDims(rewriter, loc, x);
    outSizes[axis] = rewriter.getIndexAttr(k);
    Value vals = createEmpty(rewriter, loc, valT, outSizes);
    Value idxs = createEmpty(rewriter, loc, idxT, outSizes);
    if (k == 0) {
      rewriter.replaceOp(op, {vals, idxs});
      return success();
    }
    auto c = [&](OpBuilder &b, Location l, int64_t v) -> Value { return arith::ConstantIndexOp::create(b, l, v); };
    // Rows: every index of the other dims, linearised.
    SmallVector<int64_t> outer;
    Value rows = c(rewriter, loc, 1);
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis) {
        outer.push_back(d);
        rows = arith::MulIOp::create(rewriter, loc, rows, toIndexValue(rewriter, loc, outSizes[d]));
      }
    Value n = toIndexValue(rewriter, loc, getDim(rewriter, loc, x, axis));
    Value kc = c(rewriter, loc, k);
    auto rowLoop = scf::ForOp::create(
        rewriter, loc, c(rewriter, loc, 0), rows, c(rewriter, loc, 1), ValueRange{vals, idxs},
        [&](OpBuilder &b, Location l, Value r, ValueRange rowArgs) {
          // Delinearise r over the other dims.
          SmallVector<Value> at(rank);
          Value rem = r;
          for (int64_t j = (int64_t)outer.size() - 1; j >= 0; --j) {
            Value size = toIndexValue(b, l, outSizes[outer[j]]);
            at[outer[j]] = arith::RemUIOp::create(b, l, rem, size);
            rem = arith::DivUIOp::create(b, l, rem, size);
          }
          auto withAxis = [&](Value i) {
            SmallVector<Value> v(at);
            v[axis] = i;
            return v;
          };
          auto elemLoop = scf::ForOp::create(
              b, l, c(b, l, 0), n, c(b, l, 1), rowArgs,
              [&](OpBuilder &b, Location l, Value i, ValueRange args) {
                Value v = tensor::ExtractOp::create(b, l, x, withAxis(i));
                Value vi = arith::IndexCastOp::create(b, l, i64, i);
                Value filled = arith::MinUIOp::create(b, l, i, kc);
                Value notFull = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult, i, kc);
                Value lastPos = c(b, l, k - 1);
                // Reading the last entry of a buffer not yet full reads
                // garbage; notFull decides then.
                Value last = tensor::ExtractOp::create(b, l, args[0], withAxis(lastPos));
                Value enters = arith::OrIOp::create(b, l, notFull, better(b, l, v, last));
                auto ifOp = scf::IfOp::create(
                    b, l, enters,
                    [&](OpBuilder &b, Location l) {
                      // Position p: the filled entries v does not beat.
                      auto count = scf::ForOp::create(
                          b, l, c(b, l, 0), filled, c(b, l, 1), ValueRange{c(b, l, 0)},
                          [&](OpBuilder &b, Location l, Value j, ValueRange cnt) {
                            Value e = tensor::ExtractOp::create(b, l, args[0], withAxis(j));
                            Value one = arith::SelectOp::create(b, l, better(b, l, v, e), c(b, l, 0), c(b, l, 1));
                            scf::YieldOp::create(b, l, ValueRange{arith::AddIOp::create(b, l, cnt[0], one)});
                          });
                      Value p = count.getResult(0);
                      // Shift entries [p, filled) one place down (the last
                      // one drops out when full), from the end, then put v at p.
                      Value end = arith::MinUIOp::create(b, l, arith::AddIOp::create(b, l, filled, c(b, l, 1)), kc);
                      auto shift = scf::ForOp::create(
                          b, l, arith::AddIOp::create(b, l, p, c(b, l, 1)), end, c(b, l, 1), args,
                          [&](OpBuilder &b, Location l, Value t, ValueRange buf) {
                            // j = end - 1 - (t - p - 1): from end - 1 down to p + 1.
                            Value j = arith::SubIOp::create(b, l, arith::AddIOp::create(b, l, end, p), t);
                            Value src = arith::SubIOp::create(b, l, j, c(b, l, 1));
                            Value ev = tensor::ExtractOp::create(b, l, buf[0], withAxis(src));
                            Value ei = tensor::ExtractOp::create(b, l, buf[1], withAxis(src));
                            Value nv = tensor::InsertOp::create(b, l, ev, buf[0], withAxis(j));
                            Value ni = tensor::InsertOp::create(b, l, ei, buf[1], withAxis(j));
                            scf::YieldOp::create(b, l, ValueRange{nv, ni});
                          });
                      Value nv = tensor::InsertOp::create(b, l, v, shift.getResult(0), withAxis(p));
                      Value ni = tensor::InsertOp::create(b, l, vi, shift.getResult(1), withAxis(p));
                      scf::YieldOp::create(b, l, ValueRange{nv, ni});
                    },
                    [&](OpBuilder &b, Location l) { scf::YieldOp::create(b, l, args); });
                scf::YieldOp::create(b, l, ifOp.getResults());
              });
          scf::YieldOp::create(b, l, elemLoop.getResults());
        });
    rewriter.replaceOp(op, rowLoop.getResults());
    return success();
  }
};

} // namespace

void mlir::glm::populateReductionToLinalgPatterns(const TypeConverter &converter,
                                                  RewritePatternSet &patterns) {
  patterns.add<BatchNormToLinalg, SoftmaxToLinalg<SoftmaxOp>, SoftmaxToLinalg<LogSoftmaxOp>,
               LayerNormToLinalg, ReduceToLinalg<ReduceMeanOp>, ReduceToLinalg<ReduceSumOp>,
               ReduceToLinalg<ReduceMaxOp>, ReduceToLinalg<ReduceMinOp>, ReduceToLinalg<ReduceProdOp>,
               ArgToLinalg<ArgMaxOp, true>, ArgToLinalg<ArgMinOp, false>, CumSumToLinalg, TopKToLinalg>(
      converter, patterns.getContext());
}
