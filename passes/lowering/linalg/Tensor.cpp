//===- Tensor.cpp - data movement and shape ops → tensor/linalg -----------===//

#include "passes/lowering/linalg/Patterns.h"
#include "passes/lowering/linalg/Utils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::lowering;

namespace {


Value idx(OpBuilder &b, Location loc, int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

struct ConstantToArith : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConstantOp op, OpAdaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    ElementsAttr value = op.getValue();
    if (value.getType() != rt) {
      // Unsigned element types become signless and narrow floats their
      // bit patterns: same bytes, new type. 4-bit values widen to a byte.
      Type from = getElementTypeOrSelf(value.getType());
      if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
        if (from.getIntOrFloatBitWidth() == 4) {
          auto bits = dense.bitcast(rewriter.getIntegerType(4));
          value = cast<DenseIntElementsAttr>(bits).mapValues(
              rt.getElementType(), [](const APInt &v) { return v.zext(8); });
        } else {
          value = dense.bitcast(rt.getElementType());
        }
      }
      else if (auto res = dyn_cast<DenseResourceElementsAttr>(value))
        value = DenseResourceElementsAttr::get(rt, res.getRawHandle());
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, rt, cast<TypedAttr>(value));
    return success();
  }
};

/// Reshape, Flatten, Squeeze, Unsqueeze: sizes from the result type where
/// static, else computed.
struct ReshapeToTensor : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value src = adaptor.getData();
    auto st = dyn_cast<RankedTensorType>(src.getType());
    if (!rt || !st)
      return rewriter.notifyMatchFailure(op, "unranked");
    SmallVector<OpFoldResult> sizes;
    if (rt.hasStaticShape()) {
      for (int64_t d : rt.getShape())
        sizes.push_back(rewriter.getIndexAttr(d));
    } else {
      // Runtime ONNX semantics: 0 copies the input dim, -1 is inferred.
      SmallVector<OpFoldResult> raw = readIndexVector(rewriter, loc, adaptor.getShape(), rt.getRank());
      Value total = idx(rewriter, loc, 1);
      for (int64_t d = 0; d < st.getRank(); ++d)
        total = arith::MulIOp::create(rewriter, loc, total, toIndexValue(rewriter, loc, getDim(rewriter, loc, src, d)));
      Value known = idx(rewriter, loc, 1);
      SmallVector<Value> vals;
      Value zero = idx(rewriter, loc, 0), minusOne = idx(rewriter, loc, -1);
      for (int64_t i = 0; i < rt.getRank(); ++i) {
        Value v = toIndexValue(rewriter, loc, raw[i]);
        if (!op.getAllowzero() && i < st.getRank()) {
          Value isZero = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, v, zero);
          v = arith::SelectOp::create(rewriter, loc, isZero,
                                      toIndexValue(rewriter, loc, getDim(rewriter, loc, src, i)), v);
        }
        vals.push_back(v);
        Value isInfer = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, v, minusOne);
        known = arith::MulIOp::create(rewriter, loc, known,
                                      arith::SelectOp::create(rewriter, loc, isInfer, idx(rewriter, loc, 1), v));
      }
      Value inferred = arith::DivUIOp::create(rewriter, loc, total, known);
      for (int64_t i = 0; i < rt.getRank(); ++i) {
        if (!rt.isDynamicDim(i)) {
          sizes.push_back(rewriter.getIndexAttr(rt.getDimSize(i)));
          continue;
        }
        Value isInfer = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, vals[i], minusOne);
        sizes.push_back(arith::SelectOp::create(rewriter, loc, isInfer, inferred, vals[i]).getResult());
      }
    }
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc, src, rt, sizes));
    return success();
  }
};

/// Sizes of a reshape-like op's result from the source dims, by element
/// count where the result type has a dynamic dim (at most one per op here).
template <typename OpTy>
struct ReshapeLikeToTensor : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  using OpAdaptor = typename OpTy::Adaptor;
  LogicalResult matchAndRewrite(OpTy op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*this->getTypeConverter(), op.getType());
    Value src = adaptor.getOperands()[0];
    auto st = dyn_cast<RankedTensorType>(src.getType());
    if (!rt || !st)
      return rewriter.notifyMatchFailure(op, "unranked");
    // Map result dims to source dims: non-unit dims keep their order for
    // squeeze/unsqueeze; flatten multiplies groups.
    SmallVector<OpFoldResult> sizes;
    if constexpr (std::is_same_v<OpTy, FlattenOp>) {
      int64_t axis = op.getAxis() < 0 ? op.getAxis() + st.getRank() : op.getAxis();
      Value a = idx(rewriter, loc, 1), b = idx(rewriter, loc, 1);
      for (int64_t d = 0; d < st.getRank(); ++d) {
        Value v = toIndexValue(rewriter, loc, getDim(rewriter, loc, src, d));
        if (d < axis) a = arith::MulIOp::create(rewriter, loc, a, v);
        else b = arith::MulIOp::create(rewriter, loc, b, v);
      }
      sizes = {rt.isDynamicDim(0) ? OpFoldResult(a) : rewriter.getIndexAttr(rt.getDimSize(0)),
               rt.isDynamicDim(1) ? OpFoldResult(b) : rewriter.getIndexAttr(rt.getDimSize(1))};
    } else {
      // Squeeze/Unsqueeze: the non-removed/non-inserted dims in order.
      SmallVector<OpFoldResult> srcDims;
      SmallVector<bool> removed(st.getRank(), false);
      SmallVector<bool> inserted(rt.getRank(), false);
      if constexpr (std::is_same_v<OpTy, SqueezeOp>) {
        if (std::optional<ArrayAttr> axes = op.getAxes()) {
          for (Attribute a : *axes)
            removed[*normalizeAxis(cast<IntegerAttr>(a).getInt(), st.getRank())] = true;
        } else {
          for (int64_t d = 0; d < st.getRank(); ++d)
            removed[d] = st.getDimSize(d) == 1;
        }
      } else {
        for (Attribute a : op.getAxes())
          inserted[*normalizeAxis(cast<IntegerAttr>(a).getInt(), rt.getRank())] = true;
      }
      for (int64_t d = 0; d < st.getRank(); ++d)
        if (!removed[d])
          srcDims.push_back(getDim(rewriter, loc, src, d));
      unsigned k = 0;
      for (int64_t d = 0; d < rt.getRank(); ++d)
        sizes.push_back(inserted[d] ? OpFoldResult(rewriter.getIndexAttr(1)) : srcDims[k++]);
    }
    rewriter.replaceOp(op, reshapeTensor(rewriter, loc, src, rt, sizes));
    return success();
  }
};

struct TransposeToLinalg : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    SmallVector<int64_t> perm = op.getPermOrDefault();
    SmallVector<OpFoldResult> sizes;
    for (int64_t p : perm)
      sizes.push_back(getDim(rewriter, loc, adaptor.getData(), p));
    Value init = createEmpty(rewriter, loc, rt, sizes);
    rewriter.replaceOp(op, linalg::TransposeOp::create(rewriter, loc, adaptor.getData(), init, perm).getResult()[0]);
    return success();
  }
};

struct ConcatToTensor : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t axis = *normalizeAxis(op.getAxis(), rt.getRank());
    ValueRange ins = adaptor.getInputs();
    SmallVector<OpFoldResult> sizes = getDims(rewriter, loc, ins[0]);
    Value total = idx(rewriter, loc, 0);
    SmallVector<Value> offsets;
    for (Value in : ins) {
      offsets.push_back(total);
      total = arith::AddIOp::create(rewriter, loc, total, toIndexValue(rewriter, loc, getDim(rewriter, loc, in, axis)));
    }
    sizes[axis] = rt.isDynamicDim(axis) ? OpFoldResult(total) : rewriter.getIndexAttr(rt.getDimSize(axis));
    for (int64_t d = 0; d < rt.getRank(); ++d)
      if (!rt.isDynamicDim(d))
        sizes[d] = rewriter.getIndexAttr(rt.getDimSize(d));
    Value result = createEmpty(rewriter, loc, rt, sizes);
    for (auto [in, off] : llvm::zip(ins, offsets)) {
      SmallVector<OpFoldResult> offs(rt.getRank(), rewriter.getIndexAttr(0));
      offs[axis] = off;
      SmallVector<OpFoldResult> strides(rt.getRank(), rewriter.getIndexAttr(1));
      result = tensor::InsertSliceOp::create(rewriter, loc, in, result, offs,
                                             getDims(rewriter, loc, in), strides);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct SplitToTensor : OpConversionPattern<SplitOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SplitOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value src = adaptor.getInput();
    auto st = dyn_cast<RankedTensorType>(src.getType());
    if (!st)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t axis = *normalizeAxis(op.getAxis(), st.getRank());
    unsigned n = op.getNumResults();
    Value dim = toIndexValue(rewriter, loc, getDim(rewriter, loc, src, axis));
    SmallVector<Value> partSizes;
    if (std::optional<ArrayAttr> split = op.getSplit()) {
      for (Attribute a : *split)
        partSizes.push_back(idx(rewriter, loc, cast<IntegerAttr>(a).getInt()));
    } else {
      // ceil(dim / n) each, the last one what is left.
      Value chunk = arith::CeilDivUIOp::create(rewriter, loc, dim, idx(rewriter, loc, n));
      Value left = dim;
      for (unsigned i = 0; i < n; ++i) {
        Value s = arith::MinUIOp::create(rewriter, loc, chunk, left);
        partSizes.push_back(s);
        left = arith::SubIOp::create(rewriter, loc, left, s);
      }
    }
    SmallVector<Value> results;
    Value off = idx(rewriter, loc, 0);
    for (unsigned i = 0; i < n; ++i) {
      auto rt = convertTensorType(*getTypeConverter(), op.getResult(i).getType());
      SmallVector<OpFoldResult> offs(st.getRank(), rewriter.getIndexAttr(0)), sizes = getDims(rewriter, loc, src);
      offs[axis] = off;
      sizes[axis] = partSizes[i];
      SmallVector<OpFoldResult> strides(st.getRank(), rewriter.getIndexAttr(1));
      Value slice = tensor::ExtractSliceOp::create(rewriter, loc, src, offs, sizes, strides);
      if (slice.getType() != rt)
        slice = tensor::CastOp::create(rewriter, loc, rt, slice);
      results.push_back(slice);
      off = arith::AddIOp::create(rewriter, loc, off, partSizes[i]);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct ShapeToTensor : OpConversionPattern<ShapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ShapeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    if (!isa<RankedTensorType>(adaptor.getData().getType()))
      return rewriter.notifyMatchFailure(op, "unranked");
    auto [b, e] = op.getDimRange();
    SmallVector<Value> elems;
    for (int64_t d = b; d < e; ++d)
      elems.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getI64Type(),
          toIndexValue(rewriter, loc, getDim(rewriter, loc, adaptor.getData(), d))));
    auto rt = RankedTensorType::get({e - b}, rewriter.getI64Type());
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, rt, elems);
    return success();
  }
};

struct SizeToTensor : OpConversionPattern<SizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SizeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto t = dyn_cast<RankedTensorType>(adaptor.getData().getType());
    if (!t)
      return rewriter.notifyMatchFailure(op, "unranked");
    Value n = idx(rewriter, loc, 1);
    for (int64_t d = 0; d < t.getRank(); ++d)
      n = arith::MulIOp::create(rewriter, loc, n, toIndexValue(rewriter, loc, getDim(rewriter, loc, adaptor.getData(), d)));
    Value i = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), n);
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, RankedTensorType::get({}, rewriter.getI64Type()), ValueRange{i});
    return success();
  }
};

/// Gather: a generic over the result whose body extracts from `data`.
/// A gathered index: negative values count from the end; out-of-range
/// values are clamped so that a bad index reads a valid element instead of
/// crashing.
/// Checks every index of `indices` (whose last dim, when `perComponent`,
/// picks the bound: GatherND) against [-bound, bound) and reports a bad one
/// with glm.report_index_error naming `op`'s node: the run then fails with
/// OUT_OF_RANGE instead of reading a clamped element (the gather itself
/// clamps, so memory stays safe either way). Constant indices are checked
/// here: in range, no loop; out of range, a compile error.
static LogicalResult checkIndices(OpBuilder &b, Location loc, Operation *op, Value origIndices,
                                  Value indices, ArrayRef<Value> bounds, bool perComponent,
                                  StringRef what) {
  auto it = cast<RankedTensorType>(indices.getType());
  int64_t rank = it.getRank();
  if (perComponent && (rank == 0 || it.isDynamicDim(rank - 1) ||
                       it.getDimSize(rank - 1) != (int64_t)bounds.size()))
    return success(); // GatherND with a dynamic index depth: not checked
  if (auto values = getConstantIntValues(origIndices)) {
    SmallVector<std::optional<int64_t>> staticBounds;
    for (Value v : bounds)
      staticBounds.push_back(getConstantIntValue(v));
    for (auto [k, v] : llvm::enumerate(*values)) {
      std::optional<int64_t> bound = staticBounds[perComponent ? k % bounds.size() : 0];
      if (bound && (v < -*bound || v >= *bound))
        return op->emitError() << what << " " << v << " is out of range for a dim of " << *bound
                               << " (valid: " << -*bound << " to " << *bound - 1 << ")";
    }
    if (llvm::all_of(staticBounds, [](auto x) { return x.has_value(); }))
      return success();
  }
  std::string node = getNodeName(loc);
  std::string site = (node.empty() ? std::string("a ") + op->getName().getStringRef().str()
                                   : "node '" + node + "'") + ": " + what.str();
  Type i64 = b.getI64Type();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0), one = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> lbs(rank, zero), steps(rank, one), ubs;
  for (int64_t d = 0; d < rank; ++d)
    ubs.push_back(toIndexValue(b, loc, getDim(b, loc, indices, d)));
  scf::buildLoopNest(b, loc, lbs, ubs, steps, [&](OpBuilder &nb, Location l, ValueRange ivs) {
    Value v = tensor::ExtractOp::create(nb, l, indices, ivs);
    if (v.getType() != i64)
      v = arith::ExtSIOp::create(nb, l, i64, v);
    Value bound = bounds[0];
    if (perComponent)
      for (size_t k = 1; k < bounds.size(); ++k)
        bound = arith::SelectOp::create(
            nb, l,
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, ivs.back(),
                                  arith::ConstantIndexOp::create(nb, l, k)),
            bounds[k], bound);
    Value bound64 = arith::IndexCastOp::create(nb, l, i64, bound);
    Value low = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt, v,
                                      arith::SubIOp::create(nb, l, arith::ConstantIntOp::create(nb, l, 0, 64), bound64));
    Value high = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge, v, bound64);
    Value bad = arith::OrIOp::create(nb, l, low, high);
    scf::IfOp::create(nb, l, bad, [&](OpBuilder &tb, Location tl) {
      glm::ReportIndexErrorOp::create(tb, tl, v, bound64, tb.getStringAttr(site));
      scf::YieldOp::create(tb, tl);
    });
  });
  return success();
}

static Value normalizeGatherIndex(OpBuilder &b, Location l, Value i, Value size) {
  i = arith::IndexCastOp::create(b, l, b.getIndexType(), i);
  Value zero = arith::ConstantIndexOp::create(b, l, 0), one = arith::ConstantIndexOp::create(b, l, 1);
  Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
  i = arith::SelectOp::create(b, l, neg, arith::AddIOp::create(b, l, i, size), i);
  i = arith::MaxSIOp::create(b, l, i, zero);
  return arith::MinSIOp::create(b, l, i, arith::SubIOp::create(b, l, size, one));
}

struct GatherToLinalg : OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value data = adaptor.getData(), indices = adaptor.getIndices();
    auto dt = dyn_cast<RankedTensorType>(data.getType());
    auto it = dyn_cast<RankedTensorType>(indices.getType());
    if (!rt || !dt || !it)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t axis = *normalizeAxis(op.getAxis(), dt.getRank());
    int64_t ir = it.getRank(), rank = rt.getRank();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> idxExprs;
    for (int64_t i = 0; i < ir; ++i)
      idxExprs.push_back(getAffineDimExpr(axis + i, ctx));
    AffineMap idxMap = AffineMap::get(rank, 0, idxExprs, ctx);
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < axis; ++d)
      sizes.push_back(getDim(rewriter, loc, data, d));
    for (int64_t d = 0; d < ir; ++d)
      sizes.push_back(getDim(rewriter, loc, indices, d));
    for (int64_t d = axis + 1; d < dt.getRank(); ++d)
      sizes.push_back(getDim(rewriter, loc, data, d));
    Value axisSize = toIndexValue(rewriter, loc, getDim(rewriter, loc, data, axis));
    if (failed(checkIndices(rewriter, loc, op, op.getIndices(), indices, {axisSize}, false,
                            "Gather index")))
      return failure();
    Value result = buildParallelGeneric(
        rewriter, loc, rt, sizes, ValueRange{indices}, {idxMap},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value i = normalizeGatherIndex(b, l, args[0], axisSize);
          SmallVector<Value> coords;
          for (int64_t d = 0; d < axis; ++d)
            coords.push_back(linalg::IndexOp::create(b, l, d));
          coords.push_back(i);
          for (int64_t d = axis + 1; d < dt.getRank(); ++d)
            coords.push_back(linalg::IndexOp::create(b, l, d - 1 + ir));
          return tensor::ExtractOp::create(b, l, data, coords);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct GatherNDToLinalg : OpConversionPattern<GatherNDOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(GatherNDOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value data = adaptor.getData(), indices = adaptor.getIndices();
    auto dt = dyn_cast<RankedTensorType>(data.getType());
    auto it = dyn_cast<RankedTensorType>(indices.getType());
    if (!rt || !dt || !it)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t bd = op.getBatchDims(), q = it.getRank(), k = it.getDimSize(q - 1);
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d + 1 < q; ++d)
      sizes.push_back(getDim(rewriter, loc, indices, d));
    for (int64_t d = bd + k; d < dt.getRank(); ++d)
      sizes.push_back(getDim(rewriter, loc, data, d));
    SmallVector<Value> dataSizes;
    for (int64_t d = 0; d < dt.getRank(); ++d)
      dataSizes.push_back(toIndexValue(rewriter, loc, getDim(rewriter, loc, data, d)));
    if (!ShapedType::isDynamic(k) &&
        failed(checkIndices(rewriter, loc, op, op.getIndices(), indices,
                            ArrayRef<Value>(dataSizes).slice(bd, k), true, "GatherND index")))
      return failure();
    Value result = buildParallelGeneric(
        rewriter, loc, rt, sizes, ValueRange{}, {},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          // Output coords: indices' leading q-1 dims, then data's trailing dims.
          SmallVector<Value> idxCoords, coords;
          for (int64_t d = 0; d + 1 < q; ++d)
            idxCoords.push_back(linalg::IndexOp::create(b, l, d));
          for (int64_t d = 0; d < bd; ++d)
            coords.push_back(idxCoords[d]);
          for (int64_t j = 0; j < k; ++j) {
            SmallVector<Value> at(idxCoords);
            at.push_back(arith::ConstantIndexOp::create(b, l, j));
            Value raw = tensor::ExtractOp::create(b, l, indices, at);
            coords.push_back(normalizeGatherIndex(b, l, raw, dataSizes[bd + j]));
          }
          for (int64_t d = bd + k; d < dt.getRank(); ++d)
            coords.push_back(linalg::IndexOp::create(b, l, q - 1 + d - bd - k));
          return tensor::ExtractOp::create(b, l, data, coords);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct GatherElementsToLinalg : OpConversionPattern<GatherElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(GatherElementsOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value data = adaptor.getData(), indices = adaptor.getIndices();
    auto dt = dyn_cast<RankedTensorType>(data.getType());
    if (!rt || !dt)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t axis = *normalizeAxis(op.getAxis(), dt.getRank()), rank = rt.getRank();
    Value axisSize = toIndexValue(rewriter, loc, getDim(rewriter, loc, data, axis));
    if (failed(checkIndices(rewriter, loc, op, op.getIndices(), indices, {axisSize}, false,
                            "GatherElements index")))
      return failure();
    Value result = buildParallelGeneric(
        rewriter, loc, rt, getDims(rewriter, loc, indices), ValueRange{indices},
        {rewriter.getMultiDimIdentityMap(rank)},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          SmallVector<Value> coords;
          for (int64_t d = 0; d < rank; ++d)
            coords.push_back(d == axis ? normalizeGatherIndex(b, l, args[0], axisSize)
                                       : linalg::IndexOp::create(b, l, d).getResult());
          return tensor::ExtractOp::create(b, l, data, coords);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Resize: every output element reads its source coordinates, computed per
/// resized dim from the output coordinate (f32, as ONNX Runtime does);
/// nearest reads one element, linear the 2^k corners around the point,
/// cubic 4^k taps (Keys kernel). tf_crop_and_resize writes the
/// extrapolation value where a source coordinate leaves the input.
struct ResizeToLinalg : OpConversionPattern<ResizeOp> {
  using OpConversionPattern::OpConversionPattern;

  struct Axis {
    int64_t dim;
    Value inSize, outSize; // index
    Value inF, outF, scale; // f32
    float roiStart = 0.0f, roiEnd = 1.0f;
    // Antialias (downscaling, linear or cubic): `aaTaps` taps from
    // floor(src) + aaStart, the kernel stretched by 1 / aaScale.
    int64_t aaStart = 0, aaTaps = 0;
    double aaScale = 1.0;
  };

  LogicalResult matchAndRewrite(ResizeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value x = adaptor.getX();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!rt || !xt)
      return rewriter.notifyMatchFailure(op, "unranked");
    OpBuilder &b = rewriter;
    Type f32 = b.getF32Type();
    auto toF32 = [&](OpBuilder &bb, Location l, Value index) -> Value {
      Value i = arith::IndexCastOp::create(bb, l, bb.getI64Type(), index);
      return arith::SIToFPOp::create(bb, l, f32, i);
    };
    auto cf = [&](OpBuilder &bb, Location l, double v) -> Value {
      return arith::ConstantOp::create(bb, l, bb.getF32FloatAttr(v));
    };
    SmallVector<float> scales;
    for (Attribute a : op.getScales())
      scales.push_back((float)cast<FloatAttr>(a).getValueAsDouble());
    std::optional<SmallVector<int64_t>> sizes;
    if (op.getSizes())
      sizes = toI64(op.getSizes());
    StringRef mode = op.getMode(), ct = op.getCoordinateTransformationMode(),
              nm = op.getNearestMode();
    bool crop = ct == "tf_crop_and_resize";
    SmallVector<float> roi;
    if (crop) {
      ArrayAttr roiAttr = *op.getRoi();
      for (Attribute a : roiAttr)
        roi.push_back((float)cast<FloatAttr>(a).getValueAsDouble());
    }
    int64_t rank = xt.getRank();
    SmallVector<OpFoldResult> outSizes;
    SmallVector<Axis> axes;
    for (int64_t d = 0; d < rank; ++d) {
      OpFoldResult in = getDim(b, loc, x, d);
      // With sizes, a dynamic entry is a dim that keeps its (dynamic) size.
      bool resized = sizes ? !ShapedType::isDynamic((*sizes)[d]) && (*sizes)[d] != xt.getDimSize(d)
                           : scales[d] != 1.0f;
      // A cropped dim is resampled even where its size stays.
      resized |= crop && (roi[d] != 0.0f || roi[rank + d] != 1.0f);
      if (!resized) {
        outSizes.push_back(in);
        continue;
      }
      Axis a;
      a.dim = d;
      if (crop) {
        a.roiStart = roi[d];
        a.roiEnd = roi[rank + d];
      }
      a.inSize = toIndexValue(b, loc, in);
      a.inF = toF32(b, loc, a.inSize);
      if (!rt.isDynamicDim(d)) {
        a.outSize = arith::ConstantIndexOp::create(b, loc, rt.getDimSize(d));
      } else {
        // floor(in * scale), in double as the type inference computes it.
        Value inD = arith::SIToFPOp::create(
            b, loc, b.getF64Type(), arith::IndexCastOp::create(b, loc, b.getI64Type(), a.inSize));
        Value prod = arith::MulFOp::create(
            b, loc, inD, arith::ConstantOp::create(b, loc, b.getF64FloatAttr(scales[d])));
        Value n = arith::FPToSIOp::create(b, loc, b.getI64Type(), math::FloorOp::create(b, loc, prod));
        a.outSize = arith::IndexCastOp::create(b, loc, b.getIndexType(), n);
      }
      a.outF = toF32(b, loc, a.outSize);
      // With sizes the scale is size / input size (in f32, as ONNX).
      a.scale = sizes ? arith::DivFOp::create(b, loc, a.outF, a.inF).getResult()
                      : cf(b, loc, scales[d]);
      if (op.getAntialias() != 0 && mode != "nearest" && scales[d] < 1.0f) {
        // As the ONNX reference: the kernel (support 1 linear, 2 cubic)
        // widened by 1 / scale, taps floor(-support / scale) + 1 .. -that + 1.
        a.aaScale = scales[d];
        a.aaStart = (int64_t)std::floor(-(mode == "cubic" ? 2.0 : 1.0) / a.aaScale) + 1;
        a.aaTaps = 2 - 2 * a.aaStart;
      }
      outSizes.push_back(a.outSize);
      axes.push_back(a);
    }
    bool nearest = mode == "nearest", cubic = mode == "cubic";
    double coeffA = op.getCubicCoeffA().convertToDouble();
    bool excludeOutside = op.getExcludeOutside() != 0;
    // Resamples `from` along `subset` into a tensor of `type` and `sizes`.
    auto resample = [&](Value from, ArrayRef<Axis> subset, RankedTensorType type,
                        ArrayRef<OpFoldResult> sizes) -> Value {
      return buildParallelGeneric(
        rewriter, loc, type, sizes, ValueRange{}, {},
        [&](OpBuilder &bb, Location l, ValueRange) -> Value {
          Value zeroI = arith::ConstantIndexOp::create(bb, l, 0),
                oneI = arith::ConstantIndexOp::create(bb, l, 1);
          Value zeroF = cf(bb, l, 0.0), oneF = cf(bb, l, 1.0), halfF = cf(bb, l, 0.5);
          auto add = [&](Value p, Value q) { return arith::AddFOp::create(bb, l, p, q).getResult(); };
          auto sub = [&](Value p, Value q) { return arith::SubFOp::create(bb, l, p, q).getResult(); };
          auto mul = [&](Value p, Value q) { return arith::MulFOp::create(bb, l, p, q).getResult(); };
          auto div = [&](Value p, Value q) { return arith::DivFOp::create(bb, l, p, q).getResult(); };
          SmallVector<Value> base;
          for (int64_t d = 0; d < rank; ++d)
            base.push_back(linalg::IndexOp::create(bb, l, d));
          // Per resized axis: the taps (indices) and their weights; nearest
          // has one tap and no weight.
          SmallVector<SmallVector<Value>> taps, weights;
          Value outside; // i1: some source coordinate beyond the input
          for (const Axis &a : subset) {
            Value o = toF32(bb, l, base[a.dim]);
            Value lastF = sub(a.inF, oneF);
            Value halfPixel = sub(div(add(o, halfF), a.scale), halfF);
            Value src;
            if (ct == "half_pixel") {
              src = halfPixel;
            } else if (ct == "half_pixel_symmetric") {
              Value adj = div(a.outF, mul(a.scale, a.inF));
              Value center = mul(a.inF, halfF);
              src = add(mul(center, sub(oneF, adj)), halfPixel);
            } else if (ct == "pytorch_half_pixel") {
              Value many = arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OGT, a.outF, oneF);
              src = arith::SelectOp::create(bb, l, many, halfPixel, zeroF);
            } else if (ct == "align_corners") {
              Value one = arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OEQ, a.outF, oneF);
              Value r = div(mul(o, sub(a.inF, oneF)), sub(a.outF, oneF));
              src = arith::SelectOp::create(bb, l, one, zeroF, r);
            } else if (crop) {
              // start * (in - 1) + o * (end - start) * (in - 1) / (out - 1);
              // one output: the middle of the box.
              Value span = cf(bb, l, a.roiEnd - a.roiStart);
              Value start = mul(cf(bb, l, a.roiStart), lastF);
              Value one = arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OEQ, a.outF, oneF);
              Value r = add(start, div(mul(mul(o, span), lastF), sub(a.outF, oneF)));
              Value mid = mul(cf(bb, l, 0.5 * (a.roiStart + a.roiEnd)), lastF);
              src = arith::SelectOp::create(bb, l, one, mid, r);
              Value lo = arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OLT, src, zeroF);
              Value hi = arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OGT, src, lastF);
              Value out = arith::OrIOp::create(bb, l, lo, hi);
              outside = outside ? arith::OrIOp::create(bb, l, outside, out).getResult() : out;
            } else { // asymmetric
              src = div(o, a.scale);
            }
            Value last = arith::SubIOp::create(bb, l, a.inSize, oneI);
            auto toIndex = [&](Value f) -> Value {
              Value i = arith::FPToSIOp::create(bb, l, bb.getI64Type(), f);
              return arith::IndexCastOp::create(bb, l, bb.getIndexType(), i);
            };
            auto clampIndex = [&](Value i) -> Value {
              i = arith::MaxSIOp::create(bb, l, i, zeroI);
              return arith::MinSIOp::create(bb, l, i, last);
            };
            if (nearest) {
              Value r;
              if (nm == "floor")
                r = math::FloorOp::create(bb, l, src);
              else if (nm == "ceil")
                r = math::CeilOp::create(bb, l, src);
              else if (nm == "round_prefer_ceil")
                r = math::FloorOp::create(bb, l, add(src, halfF));
              else // round_prefer_floor: halves go down
                r = math::CeilOp::create(bb, l, sub(src, halfF));
              // Far below 0 the float may not fit an int: clamp it first.
              r = arith::MaximumFOp::create(bb, l, r, cf(bb, l, -1.0));
              r = arith::MinimumFOp::create(bb, l, r, a.inF);
              taps.push_back({clampIndex(toIndex(r))});
              weights.push_back({});
              continue;
            }
            if (a.aaTaps > 0) {
              // Taps floor(src) + aaStart + j (edge values beyond the input),
              // weights kernel(aaScale * (aaStart + j - t)) normalised to
              // sum 1; exclude_outside drops the taps outside the input.
              Value x0f = math::FloorOp::create(bb, l, src);
              Value t = sub(src, x0f);
              double reach = (double)a.aaTaps + 4.0;
              x0f = arith::MaximumFOp::create(bb, l, x0f, cf(bb, l, -reach));
              x0f = arith::MinimumFOp::create(bb, l, x0f, add(a.inF, cf(bb, l, reach)));
              Value x0 = toIndex(x0f);
              Value A = cf(bb, l, coeffA);
              auto kernel = [&](Value d) -> Value {
                d = math::AbsFOp::create(bb, l, d);
                if (!cubic) // max(1 - |d|, 0)
                  return arith::MaximumFOp::create(bb, l, sub(oneF, d), zeroF);
                Value d2 = mul(d, d), d3 = mul(d2, d);
                // |d| <= 1: (A + 2) d^3 - (A + 3) d^2 + 1;
                // 1 < |d| < 2: A d^3 - 5A d^2 + 8A d - 4A; else 0.
                Value nearW = add(sub(mul(add(A, cf(bb, l, 2.0)), d3), mul(add(A, cf(bb, l, 3.0)), d2)),
                                  oneF);
                Value farW = sub(add(sub(mul(A, d3), mul(mul(cf(bb, l, 5.0), A), d2)),
                                     mul(mul(cf(bb, l, 8.0), A), d)),
                                 mul(cf(bb, l, 4.0), A));
                Value isNear = arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OLE, d, oneF);
                Value isFar = arith::CmpFOp::create(bb, l, arith::CmpFPredicate::OLT, d, cf(bb, l, 2.0));
                Value w = arith::SelectOp::create(bb, l, isFar, farW, zeroF);
                return arith::SelectOp::create(bb, l, isNear, nearW, w);
              };
              SmallVector<Value> idx, w;
              Value sum;
              Value s = cf(bb, l, a.aaScale);
              for (int64_t j = 0; j < a.aaTaps; ++j) {
                int64_t k = a.aaStart + j;
                Value wj = kernel(mul(s, sub(cf(bb, l, (double)k), t)));
                Value i = arith::AddIOp::create(bb, l, x0, arith::ConstantIndexOp::create(bb, l, k));
                if (excludeOutside) {
                  Value in = arith::AndIOp::create(
                      bb, l, arith::CmpIOp::create(bb, l, arith::CmpIPredicate::sge, i, zeroI),
                      arith::CmpIOp::create(bb, l, arith::CmpIPredicate::sle, i, last));
                  wj = arith::SelectOp::create(bb, l, in, wj, zeroF);
                }
                sum = sum ? add(sum, wj) : wj;
                idx.push_back(clampIndex(i));
                w.push_back(wj);
              }
              for (Value &wj : w)
                wj = div(wj, sum);
              taps.push_back(idx);
              weights.push_back(w);
              continue;
            }
            if (!cubic) {
              Value xc = arith::MaximumFOp::create(bb, l, src, zeroF);
              xc = arith::MinimumFOp::create(bb, l, xc, lastF);
              Value x0f = math::FloorOp::create(bb, l, xc);
              Value x0 = clampIndex(toIndex(x0f));
              Value x1 = arith::MinSIOp::create(bb, l, arith::AddIOp::create(bb, l, x0, oneI), last);
              Value w1 = sub(xc, x0f);
              taps.push_back({x0, x1});
              weights.push_back({sub(oneF, w1), w1});
              continue;
            }
            // Cubic: taps floor(src) - 1 .. floor(src) + 2 (edge values
            // beyond the input), Keys weights of t = src - floor(src).
            Value x0f = math::FloorOp::create(bb, l, src);
            Value t = sub(src, x0f);
            x0f = arith::MaximumFOp::create(bb, l, x0f, cf(bb, l, -4.0));
            x0f = arith::MinimumFOp::create(bb, l, x0f, add(a.inF, cf(bb, l, 4.0)));
            Value x0 = toIndex(x0f);
            Value A = cf(bb, l, coeffA);
            auto far = [&](Value d) { // 1 < d < 2: ((A d - 5A) d + 8A) d - 4A
              Value r = sub(mul(A, d), mul(cf(bb, l, 5.0), A));
              r = add(mul(r, d), mul(cf(bb, l, 8.0), A));
              return sub(mul(r, d), mul(cf(bb, l, 4.0), A));
            };
            auto near = [&](Value d) { // d <= 1: ((A + 2) d - (A + 3)) d d + 1
              Value r = sub(mul(add(A, cf(bb, l, 2.0)), d), add(A, cf(bb, l, 3.0)));
              return add(mul(mul(r, d), d), oneF);
            };
            Value u = sub(oneF, t);
            SmallVector<Value> w{far(add(t, oneF)), near(t), near(u), far(add(u, oneF))};
            SmallVector<Value> idx;
            for (int64_t k = 0; k < 4; ++k) {
              Value i = arith::AddIOp::create(bb, l, x0, arith::ConstantIndexOp::create(bb, l, k - 1));
              if (excludeOutside) {
                Value in = arith::AndIOp::create(
                    bb, l, arith::CmpIOp::create(bb, l, arith::CmpIPredicate::sge, i, zeroI),
                    arith::CmpIOp::create(bb, l, arith::CmpIPredicate::sle, i, last));
                w[k] = arith::SelectOp::create(bb, l, in, w[k], zeroF);
              }
              idx.push_back(clampIndex(i));
            }
            if (excludeOutside) {
              Value sum = add(add(w[0], w[1]), add(w[2], w[3]));
              for (Value &wk : w)
                wk = div(wk, sum);
            }
            taps.push_back(idx);
            weights.push_back(w);
          }
          Type et = type.getElementType();
          Value result;
          if (nearest) {
            SmallVector<Value> at(base);
            for (auto [k, a] : llvm::enumerate(subset))
              at[a.dim] = taps[k][0];
            result = tensor::ExtractOp::create(bb, l, from, at);
          } else {
            // Sum over every combination of taps; f16/bf16 accumulate in
            // f32, f64 in f64.
            Type acct = et.getIntOrFloatBitWidth() < 32 ? f32 : et;
            Value acc;
            SmallVector<size_t> pick(subset.size(), 0);
            while (true) {
              SmallVector<Value> at(base);
              Value w;
              for (auto [k, a] : llvm::enumerate(subset)) {
                at[a.dim] = taps[k][pick[k]];
                Value wk = weights[k][pick[k]];
                w = w ? arith::MulFOp::create(bb, l, w, wk).getResult() : wk;
              }
              if (w && acct != f32)
                w = arith::ExtFOp::create(bb, l, acct, w);
              Value v = tensor::ExtractOp::create(bb, l, from, at);
              if (v.getType() != acct)
                v = arith::ExtFOp::create(bb, l, acct, v);
              Value term = w ? arith::MulFOp::create(bb, l, w, v).getResult() : v;
              acc = acc ? arith::AddFOp::create(bb, l, acc, term).getResult() : term;
              size_t k = 0;
              while (k < pick.size() && ++pick[k] == taps[k].size())
                pick[k++] = 0;
              if (k == pick.size())
                break;
            }
            if (et != acct)
              acc = arith::TruncFOp::create(bb, l, et, acc);
            result = acc;
          }
          if (outside) {
            Value ev = arith::ConstantOp::create(
                bb, l, bb.getFloatAttr(et, op.getExtrapolationValue().convertToDouble()));
            result = arith::SelectOp::create(bb, l, outside, ev, result);
          }
          return result;
        });
    };
    bool separable = llvm::any_of(axes, [](const Axis &a) { return a.aaTaps > 0; });
    Value result;
    if (!separable) {
      result = resample(x, axes, rt, outSizes);
    } else {
      // The antialias taps grow as 1 / scale: resample one axis at a time (as
      // the ONNX reference does), keeping f32 between the passes for f16/bf16.
      Type et = rt.getElementType();
      Type mid = et.getIntOrFloatBitWidth() < 32 ? f32 : et;
      SmallVector<int64_t> shape(xt.getShape());
      SmallVector<OpFoldResult> curSizes;
      for (int64_t d = 0; d < rank; ++d)
        curSizes.push_back(getDim(b, loc, x, d));
      result = x;
      for (auto [k, a] : llvm::enumerate(axes)) {
        shape[a.dim] = rt.getDimSize(a.dim);
        curSizes[a.dim] = outSizes[a.dim];
        bool lastPass = k + 1 == axes.size();
        auto type = RankedTensorType::get(shape, lastPass ? et : mid);
        result = resample(result, ArrayRef<Axis>(a), type, curSizes);
      }
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// OneHot: values[1] where the coordinate along the new axis equals the
/// (normalised) index, values[0] elsewhere.
struct OneHotToLinalg : OpConversionPattern<OneHotOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(OneHotOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value indices = adaptor.getIndices(), values = adaptor.getValues();
    auto it = dyn_cast<RankedTensorType>(indices.getType());
    if (!rt || !it)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t rank = rt.getRank(), axis = *normalizeAxis(op.getAxis(), rank), depth = op.getDepth();
    MLIRContext *ctx = rewriter.getContext();
    Value off = tensor::ExtractOp::create(rewriter, loc, values,
                                          ValueRange{arith::ConstantIndexOp::create(rewriter, loc, 0)});
    Value on = tensor::ExtractOp::create(rewriter, loc, values,
                                         ValueRange{arith::ConstantIndexOp::create(rewriter, loc, 1)});
    SmallVector<AffineExpr> idxExprs;
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0, j = 0; d < rank; ++d) {
      if (d == axis) {
        sizes.push_back(rewriter.getIndexAttr(depth));
        continue;
      }
      idxExprs.push_back(getAffineDimExpr(d, ctx));
      sizes.push_back(getDim(rewriter, loc, indices, j++));
    }
    Type iet = it.getElementType();
    auto origIt = dyn_cast<IntegerType>(getElementTypeOrSelf(op.getIndices().getType()));
    bool isUnsigned = origIt && origIt.isUnsigned();
    Value result = buildParallelGeneric(
        rewriter, loc, rt, sizes, ValueRange{indices}, {AffineMap::get(rank, 0, idxExprs, ctx)},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Type i64 = b.getI64Type();
          Value i = args[0];
          if (isa<FloatType>(iet))
            i = arith::FPToSIOp::create(b, l, i64, i);
          else if (iet.getIntOrFloatBitWidth() < 64)
            i = isUnsigned ? arith::ExtUIOp::create(b, l, i64, i).getResult()
                           : arith::ExtSIOp::create(b, l, i64, i).getResult();
          else if (iet.getIntOrFloatBitWidth() > 64)
            i = arith::TruncIOp::create(b, l, i64, i);
          Value d = arith::ConstantOp::create(b, l, b.getI64IntegerAttr(depth));
          Value neg = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i,
                                            arith::ConstantOp::create(b, l, b.getI64IntegerAttr(0)));
          i = arith::SelectOp::create(b, l, neg, arith::AddIOp::create(b, l, i, d), i);
          Value c = arith::IndexCastOp::create(b, l, i64, linalg::IndexOp::create(b, l, axis));
          Value eq = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, i, c);
          return arith::SelectOp::create(b, l, eq, on, off);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Slice with positive or negative steps: offsets, sizes and strides are
/// computed (clamped) at run time where not constant; negative steps read
/// through a generic with reversed indices.
struct SliceToTensor : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value src = adaptor.getData();
    auto st = dyn_cast<RankedTensorType>(src.getType());
    if (!rt || !st)
      return rewriter.notifyMatchFailure(op, "unranked");
    auto startsT = cast<RankedTensorType>(adaptor.getStarts().getType());
    if (startsT.isDynamicDim(0))
      return op.emitOpError("needs starts of static length");
    int64_t n = startsT.getDimSize(0);
    SmallVector<OpFoldResult> starts = readIndexVector(rewriter, loc, adaptor.getStarts(), n);
    SmallVector<OpFoldResult> ends = readIndexVector(rewriter, loc, adaptor.getEnds(), n);
    SmallVector<int64_t> axes, steps;
    if (op.getAxes()) {
      auto a = getConstantIntValues(op.getAxes());
      if (!a)
        return op.emitOpError("needs constant axes");
      for (int64_t v : *a)
        axes.push_back(*normalizeAxis(v, st.getRank()));
    } else {
      for (int64_t i = 0; i < n; ++i)
        axes.push_back(i);
    }
    if (op.getSteps()) {
      auto s = getConstantIntValues(op.getSteps());
      if (!s)
        return op.emitOpError("needs constant steps");
      steps = *s;
    } else {
      steps.assign(n, 1);
    }
    SmallVector<OpFoldResult> offs(st.getRank(), rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes = getDims(rewriter, loc, src);
    SmallVector<OpFoldResult> strides(st.getRank(), rewriter.getIndexAttr(1));
    SmallVector<int64_t> reversed;
    for (int64_t i = 0; i < n; ++i) {
      int64_t d = axes[i], step = steps[i];
      Value dim = toIndexValue(rewriter, loc, getDim(rewriter, loc, src, d));
      Value s = toIndexValue(rewriter, loc, starts[i]), e = toIndexValue(rewriter, loc, ends[i]);
      // ONNX ends can be INT64_MAX; clamp in i64 index arithmetic.
      auto normalize = [&](Value v, int64_t lo, Value hi) {
        Value neg = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt, v, idx(rewriter, loc, 0));
        v = arith::SelectOp::create(rewriter, loc, neg, arith::AddIOp::create(rewriter, loc, v, dim), v);
        v = arith::MaxSIOp::create(rewriter, loc, v, idx(rewriter, loc, lo));
        return arith::MinSIOp::create(rewriter, loc, v, hi).getResult();
      };
      Value first, count;
      if (step > 0) {
        s = normalize(s, 0, dim);
        e = normalize(e, 0, dim);
        Value len = arith::MaxSIOp::create(rewriter, loc, arith::SubIOp::create(rewriter, loc, e, s), idx(rewriter, loc, 0));
        count = arith::CeilDivSIOp::create(rewriter, loc, len, idx(rewriter, loc, step));
        first = s;
      } else {
        Value dimM1 = arith::SubIOp::create(rewriter, loc, dim, idx(rewriter, loc, 1));
        s = normalize(s, 0, dimM1);
        e = normalize(e, -1, dimM1);
        Value len = arith::MaxSIOp::create(rewriter, loc, arith::SubIOp::create(rewriter, loc, s, e), idx(rewriter, loc, 0));
        count = arith::CeilDivSIOp::create(rewriter, loc, len, idx(rewriter, loc, -step));
        // Read [s - (count-1)*|step|, s] forward, then reverse this dim.
        Value span = arith::MulIOp::create(rewriter, loc, arith::SubIOp::create(rewriter, loc, count, idx(rewriter, loc, 1)), idx(rewriter, loc, -step));
        first = arith::SubIOp::create(rewriter, loc, s, span);
        Value empty = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, count, idx(rewriter, loc, 0));
        first = arith::SelectOp::create(rewriter, loc, empty, idx(rewriter, loc, 0), first);
        reversed.push_back(d);
      }
      offs[d] = first;
      sizes[d] = count;
      strides[d] = rewriter.getIndexAttr(std::abs(step));
    }
    for (int64_t d = 0; d < rt.getRank(); ++d)
      if (!rt.isDynamicDim(d))
        sizes[d] = rewriter.getIndexAttr(rt.getDimSize(d));
    Value slice = tensor::ExtractSliceOp::create(rewriter, loc, rt, src, offs, sizes, strides);
    if (!reversed.empty()) {
      // Reverse the negative-step dims with a generic reading mirrored indices.
      int64_t rank = rt.getRank();
      Value forward = slice;
      slice = buildParallelGeneric(
                  rewriter, loc, rt, sizes, ValueRange{}, {},
                  [&](OpBuilder &b, Location l, ValueRange) -> Value {
                    SmallVector<Value> coords;
                    for (int64_t d = 0; d < rank; ++d) {
                      Value i = linalg::IndexOp::create(b, l, d);
                      if (llvm::is_contained(reversed, d)) {
                        Value size = toIndexValue(b, l, sizes[d]);
                        i = arith::SubIOp::create(b, l, arith::SubIOp::create(b, l, size, idx(b, l, 1)), i);
                      }
                      coords.push_back(i);
                    }
                    return tensor::ExtractOp::create(b, l, forward, coords);
                  });
    }
    rewriter.replaceOp(op, slice);
    return success();
  }
};

/// Expand (broadcast to a shape) and Tile (repeat).
struct ExpandToLinalg : OpConversionPattern<ExpandOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ExpandOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value src = adaptor.getInput();
    auto st = dyn_cast<RankedTensorType>(src.getType());
    if (!rt || !st)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t rank = rt.getRank();
    auto shapeT = cast<RankedTensorType>(adaptor.getShape().getType());
    SmallVector<OpFoldResult> target = readIndexVector(rewriter, loc, adaptor.getShape(), shapeT.getDimSize(0));
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < rank; ++d) {
      if (!rt.isDynamicDim(d)) {
        sizes.push_back(rewriter.getIndexAttr(rt.getDimSize(d)));
        continue;
      }
      int64_t td = d - (rank - (int64_t)target.size()), sd = d - (rank - st.getRank());
      Value v = td >= 0 ? toIndexValue(rewriter, loc, target[td]) : idx(rewriter, loc, 1);
      if (sd >= 0)
        v = arith::MaxSIOp::create(rewriter, loc, v, toIndexValue(rewriter, loc, getDim(rewriter, loc, src, sd)));
      sizes.push_back(v);
    }
    rewriter.replaceOp(op, buildParallelGeneric(rewriter, loc, rt, sizes, ValueRange{src},
                                                {broadcastMap(rewriter.getContext(), st, rt)},
                                                [](OpBuilder &, Location, ValueRange args) {
                                                  return args[0];
                                                }));
    return success();
  }
};

struct TileToLinalg : OpConversionPattern<TileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(TileOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value src = adaptor.getInput();
    auto st = dyn_cast<RankedTensorType>(src.getType());
    if (!rt || !st)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t rank = rt.getRank();
    SmallVector<OpFoldResult> reps = readIndexVector(rewriter, loc, adaptor.getRepeats(), rank);
    SmallVector<OpFoldResult> sizes;
    SmallVector<Value> srcDims;
    for (int64_t d = 0; d < rank; ++d) {
      Value sd = toIndexValue(rewriter, loc, getDim(rewriter, loc, src, d));
      srcDims.push_back(sd);
      sizes.push_back(rt.isDynamicDim(d) ? OpFoldResult(arith::MulIOp::create(rewriter, loc, sd, toIndexValue(rewriter, loc, reps[d])).getResult())
                                         : rewriter.getIndexAttr(rt.getDimSize(d)));
    }
    rewriter.replaceOp(op, buildParallelGeneric(
                               rewriter, loc, rt, sizes, ValueRange{}, {},
                               [&](OpBuilder &b, Location l, ValueRange) -> Value {
                                 SmallVector<Value> coords;
                                 for (int64_t d = 0; d < rank; ++d)
                                   coords.push_back(arith::RemUIOp::create(
                                       b, l, linalg::IndexOp::create(b, l, d), srcDims[d]));
                                 return tensor::ExtractOp::create(b, l, src, coords);
                               }));
    return success();
  }
};

struct PadToTensor : OpConversionPattern<PadOp> {
  using OpConversionPattern::OpConversionPattern;

  /// Edge, reflect and wrap: every output element reads the source at a
  /// coordinate mapped into range per dim (clamped; mirrored without
  /// repeating the border, period 2(n-1); modulo n).
  static LogicalResult lowerIndexedPad(PadOp op, ConversionPatternRewriter &rewriter,
                                       RankedTensorType rt, Value src,
                                       ArrayRef<OpFoldResult> pads, StringRef mode) {
    Location loc = op.getLoc();
    int64_t rank = rt.getRank();
    SmallVector<Value> low, srcDims;
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < rank; ++d) {
      Value n = toIndexValue(rewriter, loc, getDim(rewriter, loc, src, d));
      Value lo = toIndexValue(rewriter, loc, pads[d]);
      srcDims.push_back(n);
      low.push_back(lo);
      if (rt.isDynamicDim(d)) {
        Value hi = toIndexValue(rewriter, loc, pads[d + rank]);
        sizes.push_back(arith::AddIOp::create(rewriter, loc, arith::AddIOp::create(rewriter, loc, n, lo), hi)
                            .getResult());
      } else {
        sizes.push_back(rewriter.getIndexAttr(rt.getDimSize(d)));
      }
    }
    auto body = [&](OpBuilder &b, Location l, ValueRange) -> Value {
      Value zero = arith::ConstantIndexOp::create(b, l, 0), one = arith::ConstantIndexOp::create(b, l, 1);
      // ((i mod m) + m) mod m: a non-negative remainder.
      auto posMod = [&](Value i, Value m) -> Value {
        Value r = arith::RemSIOp::create(b, l, i, m);
        return arith::RemSIOp::create(b, l, arith::AddIOp::create(b, l, r, m), m);
      };
      SmallVector<Value> coords;
      for (int64_t d = 0; d < rank; ++d) {
        Value i = arith::SubIOp::create(b, l, linalg::IndexOp::create(b, l, d), low[d]);
        Value n = srcDims[d], c;
        if (mode == "edge") {
          Value last = arith::SubIOp::create(b, l, n, one);
          c = arith::MaxSIOp::create(b, l, arith::MinSIOp::create(b, l, i, last), zero);
        } else if (mode == "wrap") {
          c = posMod(i, n);
        } else {
          Value two = arith::ConstantIndexOp::create(b, l, 2);
          Value period = arith::MaxSIOp::create(
              b, l, arith::MulIOp::create(b, l, arith::SubIOp::create(b, l, n, one), two), one);
          Value m = posMod(i, period);
          Value inside = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, m, n);
          c = arith::SelectOp::create(b, l, inside, m, arith::SubIOp::create(b, l, period, m));
        }
        coords.push_back(c);
      }
      return tensor::ExtractOp::create(b, l, src, coords);
    };
    rewriter.replaceOp(op, buildParallelGeneric(rewriter, loc, rt, sizes, ValueRange{}, {}, body));
    return success();
  }

  LogicalResult matchAndRewrite(PadOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value src = adaptor.getData();
    auto st = dyn_cast<RankedTensorType>(src.getType());
    if (!rt || !st)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t rank = st.getRank();
    SmallVector<OpFoldResult> pads = readIndexVector(rewriter, loc, adaptor.getPads(), 2 * rank);
    // Negative pads crop; tensor.pad needs non-negative values.
    for (auto &p : pads)
      if (auto attr = dyn_cast<Attribute>(p); attr && cast<IntegerAttr>(attr).getInt() < 0)
        return op.emitOpError("negative pads are not supported");
    Type et = st.getElementType();
    StringRef mode = op.getMode();
    if (mode != "constant") {
      if (mode != "edge" && mode != "reflect" && mode != "wrap")
        return op.emitOpError("mode '") << mode << "' is not supported";
      return lowerIndexedPad(op, rewriter, rt, src, pads, mode);
    }
    // The value is a scalar or (as ONNX's function bodies write it) a
    // one-element tensor.
    Value value = scalarConstant(rewriter, loc, et, 0.0);
    if (Value cv = adaptor.getConstantValue()) {
      auto ct = dyn_cast<RankedTensorType>(cv.getType());
      if (!ct || !ct.hasStaticShape() || ct.getNumElements() != 1)
        return op.emitOpError("constant_value must have one element, got ") << cv.getType();
      SmallVector<Value> zeros(ct.getRank(), arith::ConstantIndexOp::create(rewriter, loc, 0));
      value = tensor::ExtractOp::create(rewriter, loc, cv, zeros);
    }
    SmallVector<OpFoldResult> low(pads.begin(), pads.begin() + rank), high(pads.begin() + rank, pads.end());
    rewriter.replaceOpWithNewOp<tensor::PadOp>(op, rt, src, low, high, value);
    return success();
  }
};

struct ConstantOfShapeToLinalg : OpConversionPattern<ConstantOfShapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ConstantOfShapeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    SmallVector<OpFoldResult> sizes = readIndexVector(rewriter, loc, adaptor.getInput(), rt.getRank());
    Type et = rt.getElementType();
    Value v;
    if (op.getValue()) {
      auto dense = dyn_cast<DenseElementsAttr>(*op.getValue());
      if (!dense)
        return op.emitOpError("needs a dense value");
      Attribute a = *dense.getValues<Attribute>().begin();
      if (auto ia = dyn_cast<IntegerAttr>(a))
        a = rewriter.getIntegerAttr(et, ia.getValue());
      v = arith::ConstantOp::create(rewriter, loc, cast<TypedAttr>(a));
    } else {
      v = scalarConstant(rewriter, loc, et, 0.0);
    }
    rewriter.replaceOp(op, createFilled(rewriter, loc, rt, sizes, v));
    return success();
  }
};

struct RangeToLinalg : OpConversionPattern<RangeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(RangeOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    Type et = rt.getElementType();
    bool isFloat = isa<FloatType>(et);
    Value start = tensor::ExtractOp::create(rewriter, loc, adaptor.getStart(), ValueRange{});
    Value limit = tensor::ExtractOp::create(rewriter, loc, adaptor.getLimit(), ValueRange{});
    Value delta = tensor::ExtractOp::create(rewriter, loc, adaptor.getDelta(), ValueRange{});
    OpFoldResult size;
    if (!rt.isDynamicDim(0)) {
      size = rewriter.getIndexAttr(rt.getDimSize(0));
    } else if (isFloat) {
      Value q = arith::DivFOp::create(rewriter, loc, arith::SubFOp::create(rewriter, loc, limit, start), delta);
      Value c = math::CeilOp::create(rewriter, loc, q);
      Value i = arith::FPToSIOp::create(rewriter, loc, rewriter.getI64Type(), c);
      i = arith::MaxSIOp::create(rewriter, loc, i, arith::ConstantIntOp::create(rewriter, loc, 0, 64));
      size = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), i).getResult();
    } else {
      Value diff = arith::SubIOp::create(rewriter, loc, limit, start);
      Value q = arith::CeilDivSIOp::create(rewriter, loc, diff, delta);
      q = arith::MaxSIOp::create(rewriter, loc, q, scalarConstant(rewriter, loc, et, 0));
      size = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), q).getResult();
    }
    Value result = buildParallelGeneric(
        rewriter, loc, rt, {size}, ValueRange{}, {},
        [&](OpBuilder &b, Location l, ValueRange) -> Value {
          Value i = linalg::IndexOp::create(b, l, 0);
          Value ii = arith::IndexCastOp::create(b, l, b.getI64Type(), i);
          Value v;
          if (isFloat) {
            Value f = arith::SIToFPOp::create(b, l, et, ii);
            v = arith::AddFOp::create(b, l, start, arith::MulFOp::create(b, l, f, delta));
          } else {
            Value c = et.getIntOrFloatBitWidth() == 64 ? ii : arith::TruncIOp::create(b, l, et, ii).getResult();
            v = arith::AddIOp::create(b, l, start, arith::MulIOp::create(b, l, c, delta));
          }
          return v;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// NonZero: one sequential pass counts the nonzeros (the result's size),
/// a second writes each one's coordinates into column `pos` of the
/// [rank, count] result. Scalar loops: the output size depends on the data.
struct NonZeroToLinalg : OpConversionPattern<NonZeroOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(NonZeroOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value x = adaptor.getInput();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!rt || !xt)
      return rewriter.notifyMatchFailure(op, "unranked");
    if (isNarrowType(getElementTypeOrSelf(op.getInput().getType())))
      return op.emitOpError("of a float8/float4/4-bit tensor is not supported; cast it first");
    if (rt.getRank() != 2 || rt.isDynamicDim(0) || !rt.isDynamicDim(1))
      return op.emitOpError("result must be [rank, ?] (the count depends on the data), got ") << rt;
    OpBuilder &b = rewriter;
    int64_t rank = xt.getRank();
    Type et = xt.getElementType(), i64 = b.getI64Type();
    SmallVector<Value> dims;
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(toIndexValue(b, loc, getDim(b, loc, x, d)));
    Value n = arith::ConstantIndexOp::create(b, loc, 1);
    for (Value d : dims)
      n = arith::MulIOp::create(b, loc, n, d);
    Value zeroI = arith::ConstantIndexOp::create(b, loc, 0), oneI = arith::ConstantIndexOp::create(b, loc, 1);
    // Element `i` (row-major) and whether it is nonzero; its coordinates.
    auto coords = [&](OpBuilder &bb, Location l, Value i) {
      SmallVector<Value> c(rank);
      Value rest = i;
      for (int64_t d = rank - 1; d >= 0; --d) {
        c[d] = arith::RemUIOp::create(bb, l, rest, dims[d]);
        rest = arith::DivUIOp::create(bb, l, rest, dims[d]);
      }
      return c;
    };
    auto nonZeroAt = [&](OpBuilder &bb, Location l, Value i) -> Value {
      Value v = tensor::ExtractOp::create(bb, l, x, coords(bb, l, i));
      Value zero = scalarConstant(bb, l, et, 0.0);
      if (isa<FloatType>(et))
        return arith::CmpFOp::create(bb, l, arith::CmpFPredicate::UNE, v, zero);
      return arith::CmpIOp::create(bb, l, arith::CmpIPredicate::ne, v, zero);
    };
    auto count = scf::ForOp::create(
        b, loc, zeroI, n, oneI, ValueRange{zeroI},
        [&](OpBuilder &bb, Location l, Value i, ValueRange acc) {
          Value inc = arith::SelectOp::create(bb, l, nonZeroAt(bb, l, i), oneI, zeroI);
          scf::YieldOp::create(bb, l, ValueRange{arith::AddIOp::create(bb, l, acc[0], inc).getResult()});
        });
    Value total = count.getResult(0);
    Value empty = tensor::EmptyOp::create(b, loc, rt, ValueRange{total});
    auto fill = scf::ForOp::create(
        b, loc, zeroI, n, oneI, ValueRange{empty, zeroI},
        [&](OpBuilder &bb, Location l, Value i, ValueRange acc) {
          auto ifOp = scf::IfOp::create(
              bb, l, nonZeroAt(bb, l, i),
              [&](OpBuilder &tb, Location tl) {
                Value out = acc[0];
                SmallVector<Value> c = coords(tb, tl, i);
                if (rank == 0) // a 0-d input: one row of index 0
                  c.push_back(zeroI);
                for (auto [d, cd] : llvm::enumerate(c)) {
                  Value v = arith::IndexCastOp::create(tb, tl, i64, cd);
                  Value row = arith::ConstantIndexOp::create(tb, tl, d);
                  out = tensor::InsertOp::create(tb, tl, v, out, ValueRange{row, acc[1]});
                }
                Value next = arith::AddIOp::create(tb, tl, acc[1], oneI);
                scf::YieldOp::create(tb, tl, ValueRange{out, next});
              },
              [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, acc); });
          scf::YieldOp::create(bb, l, ifOp.getResults());
        });
    rewriter.replaceOp(op, fill.getResult(0));
    return success();
  }
};

struct TriluToLinalg : OpConversionPattern<TriluOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(TriluOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!rt)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t rank = rt.getRank();
    Value k = idx(rewriter, loc, 0);
    if (adaptor.getK()) {
      Value kv = tensor::ExtractOp::create(rewriter, loc, adaptor.getK(), ValueRange{});
      k = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), kv);
    }
    bool upper = op.getUpper() != 0;
    Type et = rt.getElementType();
    Value zero = scalarConstant(rewriter, loc, et, 0.0);
    Value result = buildParallelGeneric(
        rewriter, loc, rt, getDims(rewriter, loc, adaptor.getInput()), ValueRange{adaptor.getInput()},
        {rewriter.getMultiDimIdentityMap(rank)},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value i = linalg::IndexOp::create(b, l, rank - 2), j = linalg::IndexOp::create(b, l, rank - 1);
          Value ik = arith::AddIOp::create(b, l, i, k);
          Value keep = upper ? arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, j, ik)
                             : arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle, j, ik);
          return arith::SelectOp::create(b, l, keep, args[0], zero);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// ScatterND as loops on tensors: for each index tuple (in order) and each
/// element of its slice, the output element is replaced by or combined with
/// the update. Sequential, so repeated tuples apply in order as ONNX's
/// reference does.
struct ScatterNDToLinalg : OpConversionPattern<ScatterNDOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(ScatterNDOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value data = adaptor.getData(), indices = adaptor.getIndices(), updates = adaptor.getUpdates();
    auto dt = dyn_cast<RankedTensorType>(data.getType());
    auto it = dyn_cast<RankedTensorType>(indices.getType());
    auto ut = dyn_cast<RankedTensorType>(updates.getType());
    if (!rt || !dt || !it || !ut)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t r = dt.getRank(), q = it.getRank(), k = it.getDimSize(q - 1);
    Type et = dt.getElementType();
    bool isFloat = isa<FloatType>(et);
    auto intTy = dyn_cast<IntegerType>(getElementTypeOrSelf(op.getData().getType()));
    bool isUnsigned = intTy && intTy.isUnsigned();
    StringRef red = op.getReduction();
    if (!isFloat && !isa<IntegerType>(et) && red != "none")
      return op.emitOpError("reduction '") << red << "' needs a numeric element type";
    auto c = [](OpBuilder &b, Location l, int64_t v) -> Value { return arith::ConstantIndexOp::create(b, l, v); };
    // Tuples: every index of indices' leading dims; slice: data's dims from k.
    SmallVector<OpFoldResult> tupleDims, sliceDims;
    Value numTuples = c(rewriter, loc, 1), sliceSize = c(rewriter, loc, 1);
    for (int64_t d = 0; d + 1 < q; ++d) {
      tupleDims.push_back(getDim(rewriter, loc, indices, d));
      numTuples = arith::MulIOp::create(rewriter, loc, numTuples, toIndexValue(rewriter, loc, tupleDims.back()));
    }
    for (int64_t d = k; d < r; ++d) {
      sliceDims.push_back(getDim(rewriter, loc, data, d));
      sliceSize = arith::MulIOp::create(rewriter, loc, sliceSize, toIndexValue(rewriter, loc, sliceDims.back()));
    }
    if (!ShapedType::isDynamic(k)) {
      SmallVector<Value> bounds;
      for (int64_t d = 0; d < k; ++d)
        bounds.push_back(toIndexValue(rewriter, loc, getDim(rewriter, loc, data, d)));
      if (failed(checkIndices(rewriter, loc, op, op.getIndices(), indices, bounds, true,
                              "ScatterND index")))
        return failure();
    }
    auto delinearize = [&](OpBuilder &b, Location l, Value lin, ArrayRef<OpFoldResult> dims) {
      SmallVector<Value> out(dims.size());
      for (int64_t j = (int64_t)dims.size() - 1; j >= 0; --j) {
        Value size = toIndexValue(b, l, dims[j]);
        out[j] = arith::RemUIOp::create(b, l, lin, size);
        lin = arith::DivUIOp::create(b, l, lin, size);
      }
      return out;
    };
    auto combine = [&](OpBuilder &b, Location l, Value cur, Value upd) -> Value {
      if (red == "add")
        return isFloat ? arith::AddFOp::create(b, l, cur, upd).getResult() : arith::AddIOp::create(b, l, cur, upd).getResult();
      if (red == "mul")
        return isFloat ? arith::MulFOp::create(b, l, cur, upd).getResult() : arith::MulIOp::create(b, l, cur, upd).getResult();
      if (red == "max")
        return isFloat ? arith::MaximumFOp::create(b, l, cur, upd).getResult()
               : isUnsigned ? arith::MaxUIOp::create(b, l, cur, upd).getResult()
                            : arith::MaxSIOp::create(b, l, cur, upd).getResult();
      if (red == "min")
        return isFloat ? arith::MinimumFOp::create(b, l, cur, upd).getResult()
               : isUnsigned ? arith::MinUIOp::create(b, l, cur, upd).getResult()
                            : arith::MinSIOp::create(b, l, cur, upd).getResult();
      return upd;
    };
    auto tupleLoop = scf::ForOp::create(
        rewriter, loc, c(rewriter, loc, 0), numTuples, c(rewriter, loc, 1), ValueRange{data},
        [&](OpBuilder &b, Location l, Value t, ValueRange outer) {
          SmallVector<Value> tuple = delinearize(b, l, t, tupleDims);
          SmallVector<Value> target;
          for (int64_t j = 0; j < k; ++j) {
            SmallVector<Value> at(tuple);
            at.push_back(c(b, l, j));
            Value idx = tensor::ExtractOp::create(b, l, indices, at);
            Value dim = toIndexValue(b, l, getDim(b, l, data, j));
            // Clamped: an index out of range (reported above) must not
            // write outside the tensor.
            target.push_back(normalizeGatherIndex(b, l, idx, dim));
          }
          auto sliceLoop = scf::ForOp::create(
              b, l, c(b, l, 0), sliceSize, c(b, l, 1), outer,
              [&](OpBuilder &b, Location l, Value s, ValueRange inner) {
                SmallVector<Value> within = delinearize(b, l, s, sliceDims);
                SmallVector<Value> outAt(target), updAt(tuple);
                llvm::append_range(outAt, within);
                llvm::append_range(updAt, within);
                Value upd = tensor::ExtractOp::create(b, l, updates, updAt);
                Value val = upd;
                if (red != "none")
                  val = combine(b, l, tensor::ExtractOp::create(b, l, inner[0], outAt), upd);
                scf::YieldOp::create(b, l, ValueRange{tensor::InsertOp::create(b, l, val, inner[0], outAt).getResult()});
              });
          scf::YieldOp::create(b, l, sliceLoop.getResults());
        });
    rewriter.replaceOp(op, tupleLoop.getResult(0));
    return success();
  }
};

} // namespace

void mlir::glm::populateTensorToLinalgPatterns(const TypeConverter &converter,
                                               RewritePatternSet &patterns) {
  patterns.add<ConstantToArith, ReshapeToTensor, ReshapeLikeToTensor<FlattenOp>,
               ReshapeLikeToTensor<SqueezeOp>, ReshapeLikeToTensor<UnsqueezeOp>, TransposeToLinalg,
               ConcatToTensor, SplitToTensor, ShapeToTensor, SizeToTensor, GatherToLinalg, GatherNDToLinalg, ScatterNDToLinalg, GatherElementsToLinalg, ResizeToLinalg, OneHotToLinalg,
               SliceToTensor, ExpandToLinalg, TileToLinalg, PadToTensor, ConstantOfShapeToLinalg,
               RangeToLinalg, TriluToLinalg, NonZeroToLinalg>(converter, patterns.getContext());
}
