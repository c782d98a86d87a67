//===- Window.cpp - Conv and pools → linalg -------------------------------===//
//
// NCHW convolutions become linalg.conv_2d_nchw_fchw (group 1),
// depthwise_conv_2d_nchw_chw (one filter per channel) or
// conv_2d_ngchw_gfchw (other groups); NCDHW ones conv_3d_ncdhw_fcdhw or
// depthwise_conv_3d_ncdhw_cdhw. The bias initialises the accumulator.
// Pools become pooling_nchw_max/sum on padded inputs (3-d: a linalg.generic
// window, linalg has no NCDHW pooling); average pools divide by the number
// of taps that are counted. 1-d windows are lowered as 2-d with a unit
// height.
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

DenseIntElementsAttr i64Vector(OpBuilder &b, ArrayRef<int64_t> v) {
  return DenseIntElementsAttr::get(RankedTensorType::get({(int64_t)v.size()}, b.getI64Type()), v);
}

/// Pads the spatial dims of an NCHW tensor with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> padsBegin,
                 ArrayRef<int64_t> padsEnd, Value value) {
  if (llvm::all_of(padsBegin, [](int64_t p) { return p == 0; }) &&
      llvm::all_of(padsEnd, [](int64_t p) { return p == 0; }))
    return x;
  auto t = cast<RankedTensorType>(x.getType());
  SmallVector<OpFoldResult> low{b.getIndexAttr(0), b.getIndexAttr(0)}, high = low;
  SmallVector<int64_t> shape(t.getShape());
  for (size_t i = 0; i < padsBegin.size(); ++i) {
    low.push_back(b.getIndexAttr(padsBegin[i]));
    high.push_back(b.getIndexAttr(padsEnd[i]));
    if (!ShapedType::isDynamic(shape[2 + i]))
      shape[2 + i] += padsBegin[i] + padsEnd[i];
  }
  auto padded = RankedTensorType::get(shape, t.getElementType());
  return tensor::PadOp::create(b, loc, padded, x, low, high, value);
}

/// Inserts a unit dim at position 2 (1-d window → 2-d).
Value addUnitHeight(OpBuilder &b, Location loc, Value x) {
  auto t = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape{t.getDimSize(0), t.getDimSize(1), 1, t.getDimSize(2)};
  SmallVector<OpFoldResult> sizes{getDim(b, loc, x, 0), getDim(b, loc, x, 1), b.getIndexAttr(1),
                                  getDim(b, loc, x, 2)};
  return tensor::ExpandShapeOp::create(b, loc, RankedTensorType::get(shape, t.getElementType()), x,
                                       ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}}, sizes);
}

/// A 1-d pooling window as a 2-d one of height 1: `x` gets a unit height,
/// the window attributes a leading 1 (pads [b, e] -> [0, b, 0, e]); returns
/// the 2-d result type of `rt`.
RankedTensorType liftPoolWindowTo2d(OpBuilder &b, Location loc, Value &x,
                                    SmallVector<int64_t> &kernel, SmallVector<int64_t> &strides,
                                    SmallVector<int64_t> &dil, SmallVector<int64_t> &pads,
                                    RankedTensorType rt) {
  x = addUnitHeight(b, loc, x);
  kernel.insert(kernel.begin(), 1);
  strides.insert(strides.begin(), 1);
  dil.insert(dil.begin(), 1);
  pads = {0, pads[0], 0, pads[1]};
  return RankedTensorType::get({rt.getDimSize(0), rt.getDimSize(1), 1, rt.getDimSize(2)},
                               rt.getElementType());
}

Value dropUnitHeight(OpBuilder &b, Location loc, Value x, RankedTensorType resultType) {
  return tensor::CollapseShapeOp::create(b, loc, resultType, x,
                                         ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}});
}

/// Output init for an NC... result: bias broadcast over all but dim 1, or zeros.
Value initWithBias(OpBuilder &b, Location loc, RankedTensorType outT, ArrayRef<OpFoldResult> sizes,
                   Value bias) {
  Type et = outT.getElementType();
  if (!bias)
    return createFilled(b, loc, outT, sizes, scalarConstant(b, loc, et, 0.0));
  MLIRContext *ctx = b.getContext();
  AffineMap biasMap = AffineMap::get(outT.getRank(), 0, {getAffineDimExpr(1, ctx)}, ctx);
  return buildParallelGeneric(b, loc, outT, sizes, ValueRange{bias}, {biasMap},
                              [](OpBuilder &, Location, ValueRange args) { return args[0]; });
}

/// A pooling window over N-d NC... data as linalg.generic (linalg has no
/// named NCDHW pooling): out[n, c, o...] = combine(x[n, c, o*s + k*d...],
/// out[n, c, o...]) reduced over the window dims k.
Value buildWindowGeneric(OpBuilder &b, Location loc, RankedTensorType outT, Value x, Value window,
                         Value init, ArrayRef<int64_t> strides, ArrayRef<int64_t> dil,
                         function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  MLIRContext *ctx = b.getContext();
  unsigned n = outT.getRank() - 2, loops = 2 + 2 * n;
  SmallVector<AffineExpr> xExprs{getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, wExprs, oExprs;
  for (unsigned i = 0; i < n; ++i) {
    xExprs.push_back(getAffineDimExpr(2 + i, ctx) * strides[i] + getAffineDimExpr(2 + n + i, ctx) * dil[i]);
    wExprs.push_back(getAffineDimExpr(2 + n + i, ctx));
  }
  for (unsigned i = 0; i < 2 + n; ++i)
    oExprs.push_back(getAffineDimExpr(i, ctx));
  SmallVector<AffineMap> maps{AffineMap::get(loops, 0, xExprs, ctx), AffineMap::get(loops, 0, wExprs, ctx),
                              AffineMap::get(loops, 0, oExprs, ctx)};
  SmallVector<utils::IteratorType> iters(2 + n, utils::IteratorType::parallel);
  iters.append(n, utils::IteratorType::reduction);
  return linalg::GenericOp::create(b, loc, TypeRange{outT}, ValueRange{x, window}, ValueRange{init}, maps,
                                   iters,
                                   [&](OpBuilder &bb, Location l, ValueRange args) {
                                     linalg::YieldOp::create(bb, l, combine(bb, l, args[0], args[2]));
                                   })
      .getResult(0);
}

struct ConvToLinalg : OpConversionPattern<ConvOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConvOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    auto wt = dyn_cast<RankedTensorType>(adaptor.getW().getType());
    if (!rt || !wt)
      return rewriter.notifyMatchFailure(op, "unranked");
    unsigned s = op.getNumSpatialDims();
    if (s < 1 || s > 3)
      return op.emitOpError("only 1-d, 2-d and 3-d convolutions are supported, this one has ")
             << s << " spatial dims";
    if (!wt.hasStaticShape())
      return op.emitOpError("needs a weight of static shape, got ") << wt;
    Type et = rt.getElementType();
    SmallVector<int64_t> strides = op.getStridesOrDefault(), dil = op.getDilationsOrDefault(),
                         pads = op.getPadsOrDefault();
    Value x = adaptor.getX(), w = adaptor.getW();
    // Quantized operands (glm-quantize): i8 x i8 into an i32 accumulator,
    // padding with the data's zero point, dequantized after.
    std::optional<Int8Contraction> q;
    if (isa<quant::QuantizedType>(elementTypeOf(op.getX()))) {
      FailureOr<Int8Contraction> c = int8Contraction(op, op.getX(), op.getW(), 0);
      if (failed(c))
        return failure();
      q = *c;
    }
    Type inEt = cast<RankedTensorType>(x.getType()).getElementType();
    RankedTensorType outT = rt;
    if (s == 1) {
      x = addUnitHeight(rewriter, loc, x);
      w = addUnitHeight(rewriter, loc, w);
      wt = cast<RankedTensorType>(w.getType());
      strides.insert(strides.begin(), 1);
      dil.insert(dil.begin(), 1);
      pads = {0, pads[0], 0, pads[1]};
      outT = RankedTensorType::get({rt.getDimSize(0), rt.getDimSize(1), 1, rt.getDimSize(2)}, et);
    }
    unsigned n = outT.getRank() - 2; // 2 or 3 spatial dims from here on
    int64_t group = op.getGroup();
    int64_t f = wt.getDimSize(0), cPerGroup = wt.getDimSize(1);
    bool depthwise = group != 1 && cPerGroup == 1 && f == group;
    if (n == 3 && group != 1 && !depthwise)
      return op.emitOpError("3-d convolutions with groups are supported only depthwise (one filter "
                            "per input channel), this one has group ")
             << group;
    x = padSpatial(rewriter, loc, x, ArrayRef<int64_t>(pads).take_front(n),
                   ArrayRef<int64_t>(pads).drop_front(n),
                   scalarConstant(rewriter, loc, inEt, q ? double(q->dataZeroPoint) : 0.0));
    SmallVector<OpFoldResult> outSizes{getDim(rewriter, loc, x, 0), rewriter.getIndexAttr(outT.getDimSize(1))};
    for (unsigned i = 2; i < 2 + n; ++i) {
      if (!outT.isDynamicDim(i)) {
        outSizes.push_back(rewriter.getIndexAttr(outT.getDimSize(i)));
        continue;
      }
      // out = (in_padded - dil*(k-1) - 1) / stride + 1
      Value in = toIndexValue(rewriter, loc, getDim(rewriter, loc, x, i));
      int64_t eff = dil[i - 2] * (wt.getDimSize(i) - 1) + 1;
      Value num = arith::SubIOp::create(rewriter, loc, in,
                                        arith::ConstantIndexOp::create(rewriter, loc, eff));
      Value q = arith::DivUIOp::create(rewriter, loc, num,
                                       arith::ConstantIndexOp::create(rewriter, loc, strides[i - 2]));
      outSizes.push_back(arith::AddIOp::create(rewriter, loc, q,
                                               arith::ConstantIndexOp::create(rewriter, loc, 1))
                             .getResult());
    }
    RankedTensorType floatT = outT;
    if (q)
      outT = outT.clone(rewriter.getI32Type());
    Value init = q ? createFilled(rewriter, loc, outT, outSizes,
                                  scalarConstant(rewriter, loc, outT.getElementType(), 0.0))
                   : initWithBias(rewriter, loc, outT, outSizes, adaptor.getB());
    auto stridesAttr = i64Vector(rewriter, strides), dilAttr = i64Vector(rewriter, dil);
    Value result;
    if (n == 3 && group == 1) {
      result = linalg::Conv3DNcdhwFcdhwOp::create(rewriter, loc, TypeRange{outT}, ValueRange{x, w},
                                                  ValueRange{init}, stridesAttr, dilAttr)
                   .getResult(0);
    } else if (n == 3) {
      // Depthwise: weight [C, 1, kd, kh, kw] → [C, kd, kh, kw].
      auto dwT = RankedTensorType::get({f, wt.getDimSize(2), wt.getDimSize(3), wt.getDimSize(4)}, inEt);
      Value dw = tensor::CollapseShapeOp::create(rewriter, loc, dwT, w,
                                                 ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
      result = linalg::DepthwiseConv3DNcdhwCdhwOp::create(rewriter, loc, TypeRange{outT},
                                                          ValueRange{x, dw}, ValueRange{init},
                                                          stridesAttr, dilAttr)
                   .getResult(0);
    } else if (group == 1) {
      result = linalg::Conv2DNchwFchwOp::create(rewriter, loc, TypeRange{outT}, ValueRange{x, w},
                                                ValueRange{init}, stridesAttr, dilAttr)
                   .getResult(0);
    } else if (depthwise) {
      // Depthwise: weight [C, 1, kh, kw] → [C, kh, kw].
      auto dwT = RankedTensorType::get({f, wt.getDimSize(2), wt.getDimSize(3)}, inEt);
      Value dw = tensor::CollapseShapeOp::create(rewriter, loc, dwT, w,
                                                 ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}});
      result = linalg::DepthwiseConv2DNchwChwOp::create(rewriter, loc, TypeRange{outT},
                                                        ValueRange{x, dw}, ValueRange{init},
                                                        stridesAttr, dilAttr)
                   .getResult(0);
    } else {
      // Grouped: [N, G*C, H, W] → [N, G, C, H, W]; [G*F, C, kh, kw] → [G, F, C, kh, kw].
      auto xt = cast<RankedTensorType>(x.getType());
      int64_t fpg = f / group;
      auto xgT = RankedTensorType::get({xt.getDimSize(0), group, cPerGroup, xt.getDimSize(2), xt.getDimSize(3)}, inEt);
      Value xg = tensor::ExpandShapeOp::create(
          rewriter, loc, xgT, x, ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}, {4}},
          SmallVector<OpFoldResult>{getDim(rewriter, loc, x, 0), rewriter.getIndexAttr(group),
                                    rewriter.getIndexAttr(cPerGroup), getDim(rewriter, loc, x, 2),
                                    getDim(rewriter, loc, x, 3)});
      auto wgT = RankedTensorType::get({group, fpg, cPerGroup, wt.getDimSize(2), wt.getDimSize(3)}, inEt);
      Value wg = tensor::ExpandShapeOp::create(rewriter, loc, wgT, w,
                                               ArrayRef<ReassociationIndices>{{0, 1}, {2}, {3}, {4}});
      auto ogT = RankedTensorType::get({outT.getDimSize(0), group, fpg, outT.getDimSize(2), outT.getDimSize(3)},
                                       outT.getElementType());
      Value og = tensor::ExpandShapeOp::create(
          rewriter, loc, ogT, init, ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}, {4}},
          SmallVector<OpFoldResult>{outSizes[0], rewriter.getIndexAttr(group),
                                    rewriter.getIndexAttr(fpg), outSizes[2], outSizes[3]});
      Value conv = linalg::Conv2DNgchwGfchwOp::create(rewriter, loc, TypeRange{ogT},
                                                      ValueRange{xg, wg}, ValueRange{og},
                                                      stridesAttr, dilAttr)
                       .getResult(0);
      result = tensor::CollapseShapeOp::create(rewriter, loc, outT, conv,
                                               ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
    }
    if (q) {
      MLIRContext *ctx = rewriter.getContext();
      AffineMap chan = AffineMap::get(floatT.getRank(), 0, {getAffineDimExpr(1, ctx)}, ctx);
      result = dequantizeAccumulator(rewriter, loc, result, floatT, 1, *q, 1.0, adaptor.getB(),
                                     chan, 1.0);
    }
    if (s == 1)
      result = dropUnitHeight(rewriter, loc, result, rt);
    rewriter.replaceOp(op, result);
    return success();
  }
};

template <typename PoolOp>
struct PoolToLinalg : OpConversionPattern<PoolOp> {
  using OpConversionPattern<PoolOp>::OpConversionPattern;
  using OpAdaptor = typename PoolOp::Adaptor;
  static constexpr bool isMax = std::is_same_v<PoolOp, MaxPoolOp>;

  LogicalResult matchAndRewrite(PoolOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*this->getTypeConverter(), op.getType());
    if (!rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    SmallVector<int64_t> kernel;
    for (Attribute a : op.getKernelShape())
      kernel.push_back(cast<IntegerAttr>(a).getInt());
    unsigned s = kernel.size();
    if (s < 1 || s > 3)
      return op.emitOpError("only 1-d, 2-d and 3-d pooling is supported, this one has ")
             << s << " spatial dims";
    bool dynamicSpatial = llvm::any_of(rt.getShape().drop_front(2), ShapedType::isDynamic);
    // Max pooling over dynamic spatial dims (detectors exported with a free
    // input size): output sizes computed at run time, floor mode.
    if (dynamicSpatial && (!isMax || op.getCeilMode() != 0))
      return op.emitOpError(isMax ? "with ceil_mode needs static spatial dims"
                                  : "needs static spatial dims");
    Type et = rt.getElementType();
    SmallVector<int64_t> strides = op.getStridesOrDefault(), dil = op.getDilationsOrDefault(),
                         pads = op.getPadsOrDefault();
    Value x = adaptor.getX();
    RankedTensorType outT = rt;
    if (s == 1)
      outT = liftPoolWindowTo2d(rewriter, loc, x, kernel, strides, dil, pads, rt);
    unsigned n = kernel.size(); // 2 or 3 spatial dims from here on
    auto xt = cast<RankedTensorType>(x.getType());
    // ceil_mode: extra end padding so the last window fits; never counted.
    SmallVector<int64_t> inSize(xt.getShape().drop_front(2));
    SmallVector<int64_t> padBegin(ArrayRef<int64_t>(pads).take_front(n)),
        padEnd(ArrayRef<int64_t>(pads).drop_front(n));
    SmallVector<int64_t> paddedEnd(padEnd);
    SmallVector<OpFoldResult> outSizes = {getDim(rewriter, loc, x, 0), getDim(rewriter, loc, x, 1)};
    for (unsigned i = 0; i < n; ++i) {
      if (outT.isDynamicDim(2 + i)) {
        // floor((in + pads - dil*(k-1) - 1) / stride) + 1
        Value in = toIndexValue(rewriter, loc, getDim(rewriter, loc, x, 2 + i));
        int64_t span = padBegin[i] + padEnd[i] - dil[i] * (kernel[i] - 1) - 1;
        Value v = arith::AddIOp::create(rewriter, loc, in, arith::ConstantIndexOp::create(rewriter, loc, span));
        v = arith::DivSIOp::create(rewriter, loc, v, arith::ConstantIndexOp::create(rewriter, loc, strides[i]));
        outSizes.push_back(
            arith::AddIOp::create(rewriter, loc, v, arith::ConstantIndexOp::create(rewriter, loc, 1)).getResult());
        continue;
      }
      outSizes.push_back(rewriter.getIndexAttr(outT.getDimSize(2 + i)));
      int64_t need = (outT.getDimSize(2 + i) - 1) * strides[i] + dil[i] * (kernel[i] - 1) + 1;
      int64_t have = inSize[i] + padBegin[i] + padEnd[i];
      if (need > have)
        paddedEnd[i] += need - have;
    }
    // Integer max pooling (int8, uint8): padding is the type's minimum.
    bool isInt = isa<IntegerType>(et);
    bool isUnsigned = getElementTypeOrSelf(op.getX().getType()).isUnsignedInteger();
    Value padValue = !isMax       ? scalarConstant(rewriter, loc, et, 0.0)
                     : isUnsigned ? scalarConstant(rewriter, loc, et, 0)
                                  : lowestValue(rewriter, loc, et);
    Value xp = padSpatial(rewriter, loc, x, padBegin, paddedEnd, padValue);
    Value init = createFilled(rewriter, loc, outT, outSizes, padValue);
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, et);
    auto stridesAttr = i64Vector(rewriter, strides), dilAttr = i64Vector(rewriter, dil);
    auto combine = [&](OpBuilder &b, Location l, Value in, Value acc) -> Value {
      if (isMax && isInt)
        return isUnsigned ? arith::MaxUIOp::create(b, l, in, acc).getResult()
                          : arith::MaxSIOp::create(b, l, in, acc).getResult();
      if (isMax)
        return arith::MaximumFOp::create(b, l, in, acc);
      return arith::AddFOp::create(b, l, in, acc);
    };
    Value pooled;
    if (n == 3 || isInt) { // linalg's NCHW max pooling is signed
      pooled = buildWindowGeneric(rewriter, loc, outT, xp, window, init, strides, dil, combine);
    } else if constexpr (isMax) {
      pooled = linalg::PoolingNchwMaxOp::create(rewriter, loc, TypeRange{outT}, ValueRange{xp, window},
                                                ValueRange{init}, stridesAttr, dilAttr)
                   .getResult(0);
    } else {
      pooled = linalg::PoolingNchwSumOp::create(rewriter, loc, TypeRange{outT}, ValueRange{xp, window},
                                                ValueRange{init}, stridesAttr, dilAttr)
                   .getResult(0);
    }
    if constexpr (!isMax) {
      // Divide by the number of counted taps of each window.
      bool includePad = op.getCountIncludePad() != 0;
      auto countOf = [&](int64_t o, unsigned i) {
        int64_t lo = includePad ? -padBegin[i] : 0;
        int64_t hi = includePad ? inSize[i] + padEnd[i] : inSize[i];
        int64_t c = 0;
        for (int64_t k = 0; k < kernel[i]; ++k) {
          int64_t pos = o * strides[i] - padBegin[i] + k * dil[i];
          c += pos >= lo && pos < hi;
        }
        return c;
      };
      // Counts are separable: count(o0, o1, ...) = c0(o0) * c1(o1) * ...
      SmallVector<SmallVector<int64_t>> perDim(n);
      for (unsigned i = 0; i < n; ++i)
        for (int64_t o = 0; o < outT.getDimSize(2 + i); ++o)
          perDim[i].push_back(countOf(o, i));
      SmallVector<float> counts;
      bool uniform = true;
      int64_t first = 1;
      for (unsigned i = 0; i < n; ++i)
        first *= perDim[i].front();
      SmallVector<int64_t> spatial(outT.getShape().drop_front(2));
      int64_t total = 1;
      for (int64_t d : spatial)
        total *= d;
      for (int64_t flat = 0; flat < total; ++flat) {
        int64_t c = 1, rem = flat;
        for (int i = n - 1; i >= 0; --i) {
          c *= perDim[i][rem % spatial[i]];
          rem /= spatial[i];
        }
        counts.push_back(1.0f / std::max<int64_t>(c, 1));
        uniform &= c == first;
      }
      MLIRContext *ctx = rewriter.getContext();
      if (uniform) {
        Value inv = scalarConstant(rewriter, loc, et, 1.0 / std::max<int64_t>(first, 1));
        pooled = buildElementwise(rewriter, loc, outT, ValueRange{pooled},
                                  [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                                    return arith::MulFOp::create(b, l, args[0], inv);
                                  });
      } else {
        auto cT = RankedTensorType::get(spatial, rewriter.getF32Type());
        Value cst = arith::ConstantOp::create(rewriter, loc, DenseElementsAttr::get(cT, ArrayRef<float>(counts)));
        SmallVector<AffineExpr> cExprs;
        for (unsigned i = 0; i < n; ++i)
          cExprs.push_back(getAffineDimExpr(2 + i, ctx));
        AffineMap cMap = AffineMap::get(2 + n, 0, cExprs, ctx);
        pooled = buildParallelGeneric(rewriter, loc, outT, outSizes, ValueRange{pooled, cst},
                                      {rewriter.getMultiDimIdentityMap(2 + n), cMap},
                                      [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                                        Value c = args[1];
                                        if (c.getType() != et)
                                          c = arith::TruncFOp::create(b, l, et, c);
                                        return arith::MulFOp::create(b, l, args[0], c);
                                      });
      }
    }
    if (s == 1)
      pooled = dropUnitHeight(rewriter, loc, pooled, rt);
    rewriter.replaceOp(op, pooled);
    return success();
  }
};

/// MaxPool's indices: a generic over the padded input carrying (max, index)
/// through the window dims; a tap replaces the running max only when
/// greater, so the first maximum in window order wins. The index is the
/// tap's position in the unpadded input, flattened row- or column-major.
struct MaxPoolIndicesToLinalg : OpConversionPattern<MaxPoolIndicesOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(MaxPoolIndicesOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    SmallVector<int64_t> kernel = toI64(op.getKernelShape());
    unsigned s = kernel.size();
    if (s < 1 || s > 3)
      return op.emitOpError("only 1-d, 2-d and 3-d pooling is supported, this one has ")
             << s << " spatial dims";
    auto x0t = cast<RankedTensorType>(adaptor.getX().getType());
    if (llvm::any_of(x0t.getShape().drop_front(2), ShapedType::isDynamic))
      return op.emitOpError("needs static spatial dims");
    Type et = x0t.getElementType();
    SmallVector<int64_t> strides = op.getStridesOrDefault(), dil = op.getDilationsOrDefault(),
                         pads = op.getPadsOrDefault();
    Value x = adaptor.getX();
    RankedTensorType outT = rt;
    if (s == 1)
      outT = liftPoolWindowTo2d(rewriter, loc, x, kernel, strides, dil, pads, rt);
    unsigned n = kernel.size();
    auto xt = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> inSize(xt.getShape().drop_front(2));
    SmallVector<int64_t> padBegin(ArrayRef<int64_t>(pads).take_front(n)),
        paddedEnd(ArrayRef<int64_t>(pads).drop_front(n));
    SmallVector<OpFoldResult> outSizes = {getDim(rewriter, loc, x, 0), getDim(rewriter, loc, x, 1)};
    for (unsigned i = 0; i < n; ++i) {
      outSizes.push_back(rewriter.getIndexAttr(outT.getDimSize(2 + i)));
      int64_t need = (outT.getDimSize(2 + i) - 1) * strides[i] + dil[i] * (kernel[i] - 1) + 1;
      int64_t have = inSize[i] + padBegin[i] + paddedEnd[i];
      if (need > have)
        paddedEnd[i] += need - have;
    }
    bool isInt = isa<IntegerType>(et);
    bool isUnsigned = getElementTypeOrSelf(op.getX().getType()).isUnsignedInteger();
    Value lowest = isUnsigned ? scalarConstant(rewriter, loc, et, 0) : lowestValue(rewriter, loc, et);
    Value xp = padSpatial(rewriter, loc, x, padBegin, paddedEnd, lowest);
    auto valT = RankedTensorType::get(outT.getShape(), et);
    Value initV = createFilled(rewriter, loc, valT, outSizes, lowest);
    Value initI = createFilled(rewriter, loc, outT, outSizes, scalarConstant(rewriter, loc, outT.getElementType(), 0));
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, et);
    Value channels = toIndexValue(rewriter, loc, getDim(rewriter, loc, x, 1));
    MLIRContext *ctx = rewriter.getContext();
    unsigned loops = 2 + 2 * n;
    SmallVector<AffineExpr> xExprs{getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, wExprs, oExprs;
    for (unsigned i = 0; i < n; ++i) {
      xExprs.push_back(getAffineDimExpr(2 + i, ctx) * strides[i] + getAffineDimExpr(2 + n + i, ctx) * dil[i]);
      wExprs.push_back(getAffineDimExpr(2 + n + i, ctx));
    }
    for (unsigned i = 0; i < 2 + n; ++i)
      oExprs.push_back(getAffineDimExpr(i, ctx));
    AffineMap oMap = AffineMap::get(loops, 0, oExprs, ctx);
    SmallVector<AffineMap> maps{AffineMap::get(loops, 0, xExprs, ctx), AffineMap::get(loops, 0, wExprs, ctx),
                                oMap, oMap};
    SmallVector<utils::IteratorType> iters(2 + n, utils::IteratorType::parallel);
    iters.append(n, utils::IteratorType::reduction);
    bool columnMajor = op.getStorageOrder() != 0;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valT, outT}, ValueRange{xp, window}, ValueRange{initV, initI}, maps, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          auto cidx = [&](int64_t v) { return arith::ConstantIndexOp::create(b, l, v).getResult(); };
          auto add = [&](Value p, Value q) { return arith::AddIOp::create(b, l, p, q).getResult(); };
          auto mul = [&](Value p, Value q) { return arith::MulIOp::create(b, l, p, q).getResult(); };
          // Unpadded spatial positions of this tap.
          SmallVector<Value> pos;
          for (unsigned i = 0; i < n; ++i) {
            Value o = linalg::IndexOp::create(b, l, 2 + i), k = linalg::IndexOp::create(b, l, 2 + n + i);
            pos.push_back(arith::SubIOp::create(b, l, add(mul(o, cidx(strides[i])), mul(k, cidx(dil[i]))),
                                                cidx(padBegin[i])));
          }
          int64_t plane = 1;
          for (int64_t d : inSize)
            plane *= d;
          Value nc = add(mul(linalg::IndexOp::create(b, l, 0), channels), linalg::IndexOp::create(b, l, 1));
          Value flat = cidx(0);
          if (!columnMajor) {
            for (unsigned i = 0; i < n; ++i)
              flat = add(mul(flat, cidx(inSize[i])), pos[i]);
          } else {
            for (int i = n - 1; i >= 0; --i)
              flat = add(mul(flat, cidx(inSize[i])), pos[i]);
          }
          flat = add(mul(nc, cidx(plane)), flat);
          Value idx = arith::IndexCastOp::create(b, l, b.getI64Type(), flat);
          Value greater =
              !isInt ? arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, args[0], args[2]).getResult()
              : arith::CmpIOp::create(b, l, isUnsigned ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt,
                                      args[0], args[2])
                    .getResult();
          linalg::YieldOp::create(b, l,
                                  ValueRange{arith::SelectOp::create(b, l, greater, args[0], args[2]),
                                             arith::SelectOp::create(b, l, greater, idx, args[3])});
        });
    Value result = generic.getResult(1);
    if (s == 1)
      result = dropUnitHeight(rewriter, loc, result, rt);
    rewriter.replaceOp(op, result);
    return success();
  }
};

template <typename GlobalOp>
struct GlobalPoolToLinalg : OpConversionPattern<GlobalOp> {
  using OpConversionPattern<GlobalOp>::OpConversionPattern;
  using OpAdaptor = typename GlobalOp::Adaptor;
  static constexpr bool isMax = std::is_same_v<GlobalOp, GlobalMaxPoolOp>;

  LogicalResult matchAndRewrite(GlobalOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*this->getTypeConverter(), op.getType());
    Value x = adaptor.getX();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!rt || !xt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Type et = rt.getElementType();
    SmallVector<int64_t> dims;
    for (int64_t d = 2; d < xt.getRank(); ++d)
      dims.push_back(d);
    auto redT = RankedTensorType::get({xt.getDimSize(0), xt.getDimSize(1)}, et);
    SmallVector<OpFoldResult> redSizes{getDim(rewriter, loc, x, 0), getDim(rewriter, loc, x, 1)};
    Value initVal = isMax ? lowestValue(rewriter, loc, et) : scalarConstant(rewriter, loc, et, 0.0);
    Value init = createFilled(rewriter, loc, redT, redSizes, initVal);
    Value red = linalg::ReduceOp::create(
                    rewriter, loc, ValueRange{x}, ValueRange{init}, dims,
                    [&](OpBuilder &b, Location l, ValueRange args) {
                      Value r = isMax ? arith::MaximumFOp::create(b, l, args[0], args[1]).getResult()
                                      : arith::AddFOp::create(b, l, args[0], args[1]).getResult();
                      linalg::YieldOp::create(b, l, r);
                    })
                    .getResult(0);
    if (!isMax) {
      Value count = arith::ConstantIndexOp::create(rewriter, loc, 1);
      for (int64_t d : dims)
        count = arith::MulIOp::create(rewriter, loc, count,
                                      toIndexValue(rewriter, loc, getDim(rewriter, loc, x, d)));
      Value countI = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), count);
      Value countF = arith::SIToFPOp::create(rewriter, loc, et, countI);
      red = buildElementwise(rewriter, loc, redT, ValueRange{red},
                             [&](OpBuilder &b, Location l, ValueRange args) -> Value {
                               return arith::DivFOp::create(b, l, args[0], countF);
                             });
    }
    SmallVector<OpFoldResult> outSizes = redSizes;
    for (size_t i = 0; i < dims.size(); ++i)
      outSizes.push_back(rewriter.getIndexAttr(1));
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc, red, rt, outSizes));
    return success();
  }
};

} // namespace

void mlir::glm::populateWindowToLinalgPatterns(const TypeConverter &converter,
                                               RewritePatternSet &patterns) {
  patterns.add<ConvToLinalg, PoolToLinalg<MaxPoolOp>, PoolToLinalg<AveragePoolOp>, MaxPoolIndicesToLinalg,
               GlobalPoolToLinalg<GlobalAveragePoolOp>, GlobalPoolToLinalg<GlobalMaxPoolOp>>(
      converter, patterns.getContext());
}
