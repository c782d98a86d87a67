//===- Tensor.cpp - data movement and shape ops ---------------------------===//

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::glm;

static constexpr int64_t kDyn = ShapedType::kDynamic;
static constexpr int64_t kMaxFoldElements = 4096;



/// A small dense constant attribute (folding input), or null.
static DenseElementsAttr smallDense(Attribute a) {
  auto d = dyn_cast_or_null<DenseElementsAttr>(a);
  if (!d || d.getNumElements() > kMaxFoldElements)
    return {};
  return d;
}

static bool isStaticSmall(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && r.hasStaticShape() && r.getNumElements() <= kMaxFoldElements;
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getType())
    return emitOpError("value type ") << getValue().getType() << " differs from result type "
                                      << getType();
  return success();
}

LogicalResult ConstantOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  types.push_back(getValue().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// Reshape / Flatten
//===----------------------------------------------------------------------===//

/// Resolves ONNX reshape semantics (0 copies, -1 inferred) as far as the
/// known dims allow.
static FailureOr<SmallVector<int64_t>> resolveReshape(Operation *op, ArrayRef<int64_t> in,
                                                       ArrayRef<int64_t> target, bool allowZero) {
  SmallVector<int64_t> out(target);
  int64_t inferIdx = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && !allowZero) {
      if (i >= in.size())
        return op->emitOpError("shape entry ") << i << " is 0 (copy) but the input has rank "
                                               << in.size();
      out[i] = in[i];
    } else if (out[i] == -1) {
      if (inferIdx >= 0)
        return op->emitOpError("shape has more than one -1");
      inferIdx = i;
    } else if (out[i] < -1) {
      return op->emitOpError("invalid shape entry ") << out[i];
    }
  }
  if (inferIdx >= 0) {
    out[inferIdx] = kDyn;
    bool known = llvm::none_of(in, ShapedType::isDynamic) &&
                 llvm::none_of(out, [&](int64_t d) { return d == kDyn; }) ;
    (void)known;
    int64_t inN = 1, outN = 1;
    bool allKnown = true;
    for (int64_t d : in)
      if (ShapedType::isDynamic(d)) allKnown = false; else inN *= d;
    for (size_t i = 0; i < out.size(); ++i)
      if ((int64_t)i != inferIdx) {
        if (ShapedType::isDynamic(out[i])) allKnown = false; else outN *= out[i];
      }
    if (allKnown) {
      if (outN == 0 || inN % outN != 0)
        return op->emitOpError("cannot reshape ") << inN << " elements into the requested shape";
      out[inferIdx] = inN / outN;
    }
  } else if (llvm::none_of(in, ShapedType::isDynamic) &&
             llvm::none_of(out, ShapedType::isDynamic) &&
             getNumElements(in) != getNumElements(out)) {
    return op->emitOpError("cannot reshape ") << getNumElements(in) << " elements into "
                                              << getNumElements(out);
  }
  return out;
}

LogicalResult ReshapeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type et = elementTypeOf(getData());
  auto target = getPartialIntValues(getShape());
  auto in = rankedOrNull(getData());
  if (!target) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  SmallVector<int64_t> inShape = in ? SmallVector<int64_t>(in.getShape()) : SmallVector<int64_t>{};
  if (!in) {
    SmallVector<int64_t> out;
    for (int64_t d : *target)
      out.push_back(d > 0 ? d : kDyn);
    types.push_back(RankedTensorType::get(out, et));
    return success();
  }
  // Unknown entries of a partial shape stay dynamic.
  SmallVector<int64_t> t(*target);
  bool hasUnknown = llvm::is_contained(t, kDyn);
  if (hasUnknown) {
    int64_t inferred = inferWithDynamicEntries(t);
    SmallVector<int64_t> out;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == -1)
        out.push_back(inferred);
      else if (t[i] == kDyn)
        out.push_back(kDyn);
      else if (t[i] == 0 && !getAllowzero())
        out.push_back(i < inShape.size() ? inShape[i] : kDyn);
      else
        out.push_back(t[i]);
    }
    types.push_back(RankedTensorType::get(out, et));
    return success();
  }
  auto out = resolveReshape(*this, inShape, t, getAllowzero());
  if (failed(out))
    return failure();
  // A -1 next to 0 entries that copy the input's dynamic dims
  // ([0, 0, heads, -1] of [b, s, hidden]): the dynamic sizes cancel.
  if (auto minusOne = llvm::find(t, -1); minusOne != t.end()) {
    int64_t &inferred = (*out)[minusOne - t.begin()];
    if (ShapedType::isDynamic(inferred))
      inferred = inferWithDynamicEntries(t);
  }
  types.push_back(RankedTensorType::get(*out, et));
  return success();
}

int64_t ReshapeOp::inferWithDynamicEntries(ArrayRef<int64_t> target) {
  // [batch, seq, -1, 32] from [batch, seq, 256]: when every unknown entry is
  // provably one of the input's dynamic dims (and each such dim is used
  // once), the dynamic sizes cancel in the element count and the -1 is the
  // ratio of the static parts.
  auto in = rankedOrNull(getData());
  auto minusOne = llvm::find(target, -1);
  if (!in || minusOne == target.end())
    return kDyn;
  ArrayRef<int64_t> inShape = in.getShape();
  SmallVector<bool> matched(inShape.size(), false);
  int64_t staticOut = 1;
  for (auto [i, e] : llvm::enumerate(target)) {
    if ((int64_t)i == minusOne - target.begin())
      continue;
    if (e == kDyn) {
      auto src = getShapeEntrySource(getShape(), i);
      bool found = false;
      for (size_t j = 0; src && j < inShape.size() && !found; ++j)
        if (ShapedType::isDynamic(inShape[j]) && !matched[j] &&
            isSameDim(src->first, src->second, getData(), j))
          matched[j] = found = true;
      if (!found)
        return kDyn;
    } else if (e == 0 && !getAllowzero()) {
      if (i >= inShape.size())
        return kDyn;
      if (ShapedType::isDynamic(inShape[i])) {
        if (matched[i])
          return kDyn;
        matched[i] = true;
      } else {
        staticOut *= inShape[i];
      }
    } else if (e > 0) {
      staticOut *= e;
    } else {
      return kDyn;
    }
  }
  int64_t staticIn = 1;
  for (auto [j, d] : llvm::enumerate(inShape)) {
    if (ShapedType::isDynamic(d)) {
      if (!matched[j])
        return kDyn;
    } else {
      staticIn *= d;
    }
  }
  if (staticOut <= 0 || staticIn % staticOut != 0)
    return kDyn;
  return staticIn / staticOut;
}

OpFoldResult ReshapeOp::fold(FoldAdaptor a) {
  if (getData().getType() == getType() && cast<RankedTensorType>(getType()).hasStaticShape())
    return getData();
  if (auto d = smallDense(a.getData()))
    if (isStaticSmall(getType()))
      return d.reshape(cast<ShapedType>(getType()));
  return {};
}

namespace {
/// reshape(reshape(x)) -> reshape(x) when the outer shape is static. The
/// outer target becomes that static shape: its 0 (copy) and -1 entries
/// were relative to the inner result, not to x.
struct FoldDoubleReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getData().getDefiningOp<ReshapeOp>();
    auto ty = dyn_cast<RankedTensorType>(op.getType());
    if (!inner || !ty || !ty.hasStaticShape() || llvm::is_contained(ty.getShape(), 0))
      return rewriter.notifyMatchFailure(op, "no inner reshape, dynamic or empty result");
    auto shapeTy = RankedTensorType::get({ty.getRank()}, rewriter.getI64Type());
    Value cst = ConstantOp::create(rewriter, op.getLoc(), makeIntElements(shapeTy, ty.getShape()));
    rewriter.modifyOpInPlace(op, [&] {
      op.getDataMutable().assign(inner.getData());
      op.getShapeMutable().assign(cst);
      op.setAllowzero(0);
    });
    return success();
  }
};
/// A reshape whose result shape is fully static gets a constant shape
/// operand, which makes the shape subgraph that computed it dead.
struct ConstantReshapeShape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    auto ty = dyn_cast<RankedTensorType>(op.getType());
    if (!ty || !ty.hasStaticShape() || getConstantElements(op.getShape()))
      return rewriter.notifyMatchFailure(op, "dynamic result or shape already constant");
    auto shapeTy = RankedTensorType::get({ty.getRank()}, rewriter.getI64Type());
    Value cst = ConstantOp::create(rewriter, op.getLoc(), makeIntElements(shapeTy, ty.getShape()));
    rewriter.modifyOpInPlace(op, [&] {
      op.getShapeMutable().assign(cst);
      op.setAllowzero(0);
    });
    return success();
  }
};
} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *ctx) {
  results.add<FoldDoubleReshape, ConstantReshapeShape>(ctx);
}

LogicalResult FlattenOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(getInput());
  Type et = elementTypeOf(getInput());
  if (!t) {
    types.push_back(RankedTensorType::get({kDyn, kDyn}, et));
    return success();
  }
  int64_t axis = getAxis();
  if (axis < 0)
    axis += t.getRank();
  if (axis < 0 || axis > t.getRank())
    return emitOpError("axis ") << getAxis() << " is out of range for rank " << t.getRank();
  auto prod = [](ArrayRef<int64_t> dims) {
    int64_t n = 1;
    for (int64_t d : dims) {
      if (ShapedType::isDynamic(d))
        return kDyn;
      n *= d;
    }
    return n;
  };
  types.push_back(RankedTensorType::get(
      {prod(t.getShape().take_front(axis)), prod(t.getShape().drop_front(axis))}, et));
  return success();
}

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

SmallVector<int64_t> TransposeOp::getPermOrDefault() {
  auto p = toI64(getPerm());
  if (p.empty())
    if (auto t = rankedOrNull(getData()))
      for (int64_t i = t.getRank() - 1; i >= 0; --i)
        p.push_back(i);
  return p;
}

LogicalResult TransposeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(getData());
  if (!t) {
    types.push_back(getData().getType());
    return success();
  }
  auto perm = getPermOrDefault();
  if ((int64_t)perm.size() != t.getRank())
    return emitOpError("perm has ") << perm.size() << " entries for rank " << t.getRank();
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> out;
  for (int64_t p : perm) {
    if (p < 0 || p >= t.getRank() || seen[p])
      return emitOpError("perm is not a permutation of [0, ") << t.getRank() << ")";
    seen[p] = true;
    out.push_back(t.getDimSize(p));
  }
  types.push_back(RankedTensorType::get(out, t.getElementType()));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor a) {
  auto perm = getPermOrDefault();
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity &= perm[i] == (int64_t)i;
  if (identity && getData().getType() == getType())
    return getData();
  return {};
}

//===----------------------------------------------------------------------===//
// Concat / Split
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  return success();
}

LogicalResult ConcatOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type et = elementTypeOf(getInputs().front());
  RankedTensorType first;
  for (Value v : getInputs())
    if ((first = rankedOrNull(v)))
      break;
  if (!first) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  auto axis = normalizeAxis(getAxis(), first.getRank());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " is out of range for rank " << first.getRank();
  SmallVector<int64_t> out(first.getShape());
  out[*axis] = 0;
  for (Value v : getInputs()) {
    auto t = rankedOrNull(v);
    if (!t) {
      out[*axis] = kDyn;
      continue;
    }
    if (t.getRank() != first.getRank() || elementTypeOf(v) != et)
      return emitOpError("inputs must have the same rank and element type, got ")
             << first << " and " << t;
    for (int64_t d = 0; d < t.getRank(); ++d) {
      if (d == *axis) {
        out[d] = (ShapedType::isDynamic(out[d]) || t.isDynamicDim(d)) ? kDyn : out[d] + t.getDimSize(d);
        continue;
      }
      if (ShapedType::isDynamic(out[d]))
        out[d] = t.getDimSize(d);
      else if (!t.isDynamicDim(d) && t.getDimSize(d) != out[d])
        return emitOpError("inputs differ in dim ") << d << " (" << out[d] << " vs "
                                                    << t.getDimSize(d) << ")";
    }
  }
  types.push_back(RankedTensorType::get(out, et));
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor a) {
  if (getInputs().size() == 1 && getInputs().front().getType() == getType())
    return getInputs().front();
  auto ty = dyn_cast<RankedTensorType>(getType());
  if (!isStaticSmall(ty) || ty.getRank() != 1)
    return {};
  // 1-d concat of constants: the common shape-subgraph case.
  SmallVector<Attribute> elems;
  for (Attribute in : a.getInputs()) {
    auto d = smallDense(in);
    if (!d)
      return {};
    llvm::append_range(elems, d.getValues<Attribute>());
  }
  return DenseElementsAttr::get(ty, elems);
}

namespace {
/// glm.split of a static dim -> one glm.slice per result.
struct SplitToSlices : OpRewritePattern<SplitOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SplitOp op, PatternRewriter &rewriter) const override {
    auto t = rankedOrNull(op.getInput());
    if (!t)
      return rewriter.notifyMatchFailure(op, "unranked input");
    auto axis = normalizeAxis(op.getAxis(), t.getRank());
    if (!axis || ShapedType::isDynamic(t.getDimSize(*axis)))
      return rewriter.notifyMatchFailure(op, "dynamic split dim");
    SmallVector<Value> pieces;
    auto idx = RankedTensorType::get({1}, rewriter.getI64Type());
    auto cst = [&](int64_t v) -> Value {
      return ConstantOp::create(rewriter, op.getLoc(), makeIntElements(idx, {v}));
    };
    Value axes = cst(*axis);
    int64_t start = 0;
    for (Value r : op.getResults()) {
      auto rt = rankedOrNull(r);
      if (!rt || ShapedType::isDynamic(rt.getDimSize(*axis)))
        return rewriter.notifyMatchFailure(op, "result types not inferred");
      int64_t end = start + rt.getDimSize(*axis);
      pieces.push_back(SliceOp::create(rewriter, op.getLoc(), r.getType(), op.getInput(), cst(start),
                                       cst(end), axes, Value()));
      start = end;
    }
    if (start != t.getDimSize(*axis))
      return rewriter.notifyMatchFailure(op, "pieces do not cover the dim");
    rewriter.replaceOp(op, pieces);
    return success();
  }
};
} // namespace

void SplitOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *ctx) {
  results.add<SplitToSlices>(ctx);
}

LogicalResult SplitOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(getInput());
  unsigned n = getNumResults();
  if (!t) {
    types.append(n, getInput().getType());
    return success();
  }
  auto axis = normalizeAxis(getAxis(), t.getRank());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " is out of range for rank " << t.getRank();
  int64_t dim = t.getDimSize(*axis);
  auto sizes = toI64(getSplit());
  if (!sizes.empty()) {
    if (sizes.size() != n)
      return emitOpError("split has ") << sizes.size() << " entries for " << n << " outputs";
    int64_t sum = 0;
    for (int64_t s : sizes)
      sum += s;
    if (!ShapedType::isDynamic(dim) && sum != dim)
      return emitOpError("split sizes sum to ") << sum << " but the dim is " << dim;
  } else {
    for (unsigned i = 0; i < n; ++i) {
      if (ShapedType::isDynamic(dim)) {
        sizes.push_back(kDyn);
        continue;
      }
      int64_t chunk = (dim + n - 1) / n;
      sizes.push_back(std::min<int64_t>(chunk, std::max<int64_t>(0, dim - chunk * i)));
    }
  }
  for (int64_t s : sizes) {
    SmallVector<int64_t> shape(t.getShape());
    shape[*axis] = s;
    types.push_back(RankedTensorType::get(shape, t.getElementType()));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Shape / Size
//===----------------------------------------------------------------------===//

std::pair<int64_t, int64_t> ShapeOp::getDimRange() {
  auto t = rankedOrNull(getData());
  int64_t r = t ? t.getRank() : 0;
  auto clampDim = [&](int64_t v) {
    if (v < 0)
      v += r;
    return std::clamp<int64_t>(v, 0, r);
  };
  int64_t b = getStart() ? clampDim(*getStart()) : 0;
  int64_t e = getEnd() ? clampDim(*getEnd()) : r;
  return {b, std::max(b, e)};
}

LogicalResult ShapeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto i64 = IntegerType::get(getContext(), 64);
  if (!rankedOrNull(getData())) {
    types.push_back(RankedTensorType::get({kDyn}, i64));
    return success();
  }
  auto [b, e] = getDimRange();
  types.push_back(RankedTensorType::get({e - b}, i64));
  return success();
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto t = rankedOrNull(getData());
  if (!t)
    return {};
  auto [b, e] = getDimRange();
  auto dims = t.getShape().slice(b, e - b);
  if (llvm::any_of(dims, ShapedType::isDynamic))
    return {};
  return makeIntElements(cast<ShapedType>(getType()), dims);
}

LogicalResult SizeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  types.push_back(RankedTensorType::get({}, IntegerType::get(getContext(), 64)));
  return success();
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto t = rankedOrNull(getData());
  if (!t || !t.hasStaticShape())
    return {};
  return makeIntElements(cast<ShapedType>(getType()), {t.getNumElements()});
}

//===----------------------------------------------------------------------===//
// Gather
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto d = rankedOrNull(getData()), i = rankedOrNull(getIndices());
  Type et = elementTypeOf(getData());
  if (!d || !i) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  auto axis = normalizeAxis(getAxis(), d.getRank());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " is out of range for rank " << d.getRank();
  if (auto idx = getConstantIntValues(getIndices())) {
    int64_t n = d.getDimSize(*axis);
    if (!ShapedType::isDynamic(n))
      for (int64_t v : *idx)
        if (v < -n || v >= n)
          return emitOpError("index ") << v << " is out of range for dim " << *axis << " of size "
                                       << n;
  }
  SmallVector<int64_t> out(d.getShape().take_front(*axis));
  llvm::append_range(out, i.getShape());
  llvm::append_range(out, d.getShape().drop_front(*axis + 1));
  types.push_back(RankedTensorType::get(out, et));
  return success();
}

LogicalResult GatherNDOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto d = rankedOrNull(getData()), i = rankedOrNull(getIndices());
  Type et = elementTypeOf(getData());
  if (!d || !i) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  int64_t b = getBatchDims(), q = i.getRank(), r = d.getRank();
  if (q < 1 || r < 1)
    return emitOpError("needs data and indices of rank >= 1");
  if (b < 0 || b >= std::min(q, r))
    return emitOpError("batch_dims ") << b << " must be below the ranks of data and indices";
  int64_t k = i.getDimSize(q - 1);
  if (ShapedType::isDynamic(k))
    return emitOpError("needs a static last indices dim (the index tuple length)");
  if (k < 1 || b + k > r)
    return emitOpError("index tuples of length ")
           << k << " do not fit data of rank " << r << " after " << b << " batch dims";
  for (int64_t j = 0; j < b; ++j) {
    int64_t dd = d.getDimSize(j), id = i.getDimSize(j);
    if (!ShapedType::isDynamic(dd) && !ShapedType::isDynamic(id) && dd != id)
      return emitOpError("batch dim ") << j << " differs: " << dd << " in data, " << id
                                       << " in indices";
  }
  SmallVector<int64_t> out(i.getShape().drop_back());
  llvm::append_range(out, d.getShape().drop_front(b + k));
  types.push_back(RankedTensorType::get(out, et));
  return success();
}

LogicalResult ScatterNDOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  StringRef red = getReduction();
  if (red != "none" && red != "add" && red != "mul" && red != "max" && red != "min")
    return emitOpError("reduction must be none, add, mul, max or min, got '") << red << "'";
  if (elementTypeOf(getData()) != elementTypeOf(getUpdates()))
    return emitOpError("data and updates element types differ: ")
           << getData().getType() << " and " << getUpdates().getType();
  auto d = rankedOrNull(getData()), i = rankedOrNull(getIndices()), u = rankedOrNull(getUpdates());
  if (d && i) {
    int64_t q = i.getRank(), r = d.getRank(), k = q ? i.getDimSize(q - 1) : 0;
    if (q < 1 || r < 1)
      return emitOpError("needs data and indices of rank >= 1");
    if (ShapedType::isDynamic(k))
      return emitOpError("needs a static last indices dim (the index tuple length)");
    if (k < 1 || k > r)
      return emitOpError("index tuples of length ") << k << " do not fit data of rank " << r;
    SmallVector<int64_t> expected(i.getShape().drop_back());
    llvm::append_range(expected, d.getShape().drop_front(k));
    if (u && (u.getRank() != (int64_t)expected.size() ||
              llvm::any_of(llvm::zip(u.getShape(), expected), [](auto p) {
                auto [a, b] = p;
                return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
              })))
      return emitOpError("updates ") << u << " must have shape indices.shape[:-1] + data.shape["
                                     << k << ":], got data " << d << " and indices " << i;
  }
  types.push_back(getData().getType());
  return success();
}

LogicalResult GatherElementsOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto d = rankedOrNull(getData()), i = rankedOrNull(getIndices());
  Type et = elementTypeOf(getData());
  if (!d || !i) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  if (d.getRank() != i.getRank())
    return emitOpError("data and indices must have the same rank, got ")
           << d.getRank() << " and " << i.getRank();
  if (!normalizeAxis(getAxis(), d.getRank()))
    return emitOpError("axis ") << getAxis() << " is out of range for rank " << d.getRank();
  types.push_back(RankedTensorType::get(i.getShape(), et));
  return success();
}

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

LogicalResult ResizeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto x = rankedOrNull(getX());
  Type et = elementTypeOf(getX());
  if (!x) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  SmallVector<double> scales;
  for (Attribute a : getScales())
    scales.push_back(cast<FloatAttr>(a).getValueAsDouble());
  if ((int64_t)getScales().size() != x.getRank())
    return emitOpError("needs one scale per dim: ") << getScales().size() << " scales for rank "
                                                    << x.getRank();
  SmallVector<int64_t> out;
  std::optional<SmallVector<int64_t>> sizes;
  if (getSizes()) {
    sizes = toI64(*getSizes());
    if ((int64_t)sizes->size() != x.getRank())
      return emitOpError("needs one size per dim: ") << sizes->size() << " sizes for rank "
                                                     << x.getRank();
  }
  for (auto [d, scale] : llvm::enumerate(scales)) {
    int64_t in = x.getDimSize(d);
    float f = (float)scale;
    if (sizes)
      out.push_back((*sizes)[d]);
    else if (f == 1.0f || ShapedType::isDynamic(in))
      out.push_back(f == 1.0f ? in : ShapedType::kDynamic);
    else
      out.push_back((int64_t)std::floor((double)in * (double)f));
  }
  types.push_back(RankedTensorType::get(out, et));
  return success();
}

LogicalResult ResizeOp::verify() {
  for (Attribute a : getScales())
    if (double f = cast<FloatAttr>(a).getValueAsDouble(); !(f > 0.0) || !std::isfinite(f))
      return emitOpError("scales must be positive and finite, got ") << getScales();
  if (getSizes())
    for (int64_t n : toI64(*getSizes()))
      if (n < 1 && !ShapedType::isDynamic(n)) // dynamic: a dim that is not resized
        return emitOpError("sizes must be positive, got ") << *getSizes();
  if (getMode() != "nearest" && getMode() != "linear" && getMode() != "cubic")
    return emitOpError("mode must be nearest, linear or cubic, got '") << getMode() << "'";
  StringRef ct = getCoordinateTransformationMode();
  if (ct != "half_pixel" && ct != "half_pixel_symmetric" && ct != "pytorch_half_pixel" &&
      ct != "align_corners" && ct != "asymmetric" && ct != "tf_crop_and_resize")
    return emitOpError("coordinate_transformation_mode '") << ct << "' is not supported";
  if (ct == "tf_crop_and_resize") {
    auto rank = getScales().size();
    if (!getRoi() || getRoi()->size() != 2 * rank)
      return emitOpError("tf_crop_and_resize needs a roi of ") << 2 * rank << " values (start and end per dim)";
  }
  StringRef nm = getNearestMode();
  if (nm != "round_prefer_floor" && nm != "round_prefer_ceil" && nm != "floor" && nm != "ceil")
    return emitOpError("nearest_mode '") << nm << "' is not supported";
  return success();
}

OpFoldResult GatherOp::fold(FoldAdaptor a) {
  auto data = smallDense(a.getData());
  auto idx = smallDense(a.getIndices());
  auto ty = dyn_cast<RankedTensorType>(getType());
  if (!isStaticSmall(ty))
    return {};
  if (!data && idx && ty.getElementType().isInteger(64)) {
    // Entries of a shape whose dims are static (shape(x)[3] of x[?, 1, ?, 8]).
    auto partial = getPartialIntValues(getResult());
    if (partial && (int64_t)partial->size() == ty.getNumElements() &&
        llvm::none_of(*partial, ShapedType::isDynamic))
      return makeIntElements(ty, *partial);
    return {};
  }
  if (!data || !idx)
    return {};
  auto dt = cast<RankedTensorType>(data.getType());
  auto axis = normalizeAxis(getAxis(), dt.getRank());
  auto indices = getIntValues(idx);
  if (!axis || !indices)
    return {};
  int64_t outer = getNumElements(dt.getShape().take_front(*axis));
  int64_t n = dt.getDimSize(*axis);
  int64_t inner = getNumElements(dt.getShape().drop_front(*axis + 1));
  auto values = llvm::to_vector(data.getValues<Attribute>());
  SmallVector<Attribute> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t ix : *indices) {
      if (ix < 0)
        ix += n;
      if (ix < 0 || ix >= n)
        return {};
      for (int64_t k = 0; k < inner; ++k)
        out.push_back(values[(o * n + ix) * inner + k]);
    }
  return DenseElementsAttr::get(ty, out);
}

//===----------------------------------------------------------------------===//
// Unsqueeze / Squeeze
//===----------------------------------------------------------------------===//

LogicalResult UnsqueezeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(getData());
  if (!t) {
    types.push_back(getData().getType());
    return success();
  }
  int64_t outRank = t.getRank() + getAxes().size();
  SmallVector<int64_t> axes;
  for (int64_t a : toI64(getAxes())) {
    auto n = normalizeAxis(a, outRank);
    if (!n || llvm::is_contained(axes, *n))
      return emitOpError("invalid or repeated axis ") << a << " for output rank " << outRank;
    axes.push_back(*n);
  }
  SmallVector<int64_t> out;
  auto it = t.getShape().begin();
  for (int64_t i = 0; i < outRank; ++i)
    out.push_back(llvm::is_contained(axes, i) ? 1 : *it++);
  types.push_back(RankedTensorType::get(out, t.getElementType()));
  return success();
}

OpFoldResult UnsqueezeOp::fold(FoldAdaptor a) {
  if (auto d = smallDense(a.getData()))
    if (isStaticSmall(getType()))
      return d.reshape(cast<ShapedType>(getType()));
  return {};
}

LogicalResult SqueezeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(getData());
  if (!t) {
    types.push_back(getData().getType());
    return success();
  }
  SmallVector<int64_t> axes;
  for (int64_t a : toI64(getAxes())) {
    auto n = normalizeAxis(a, t.getRank());
    if (!n)
      return emitOpError("axis ") << a << " is out of range for rank " << t.getRank();
    if (!t.isDynamicDim(*n) && t.getDimSize(*n) != 1)
      return emitOpError("cannot squeeze dim ") << *n << " of size " << t.getDimSize(*n);
    axes.push_back(*n);
  }
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    bool squeeze = getAxes() ? llvm::is_contained(axes, i) : t.getDimSize(i) == 1;
    if (!squeeze)
      out.push_back(t.getDimSize(i));
  }
  types.push_back(RankedTensorType::get(out, t.getElementType()));
  return success();
}

OpFoldResult SqueezeOp::fold(FoldAdaptor a) {
  if (auto d = smallDense(a.getData()))
    if (isStaticSmall(getType()))
      return d.reshape(cast<ShapedType>(getType()));
  return {};
}

//===----------------------------------------------------------------------===//
// Slice
//===----------------------------------------------------------------------===//

namespace {
/// Normalised slice parameters for one dim.
struct SliceDim {
  int64_t start = 0, end = 0, step = 1;
  bool known = false;
};
} // namespace

/// Clamps ONNX slice bounds for a dim of size n (n static).
static SliceDim normalizeSlice(int64_t start, int64_t end, int64_t step, int64_t n) {
  SliceDim s;
  s.step = step;
  if (start < 0) start += n;
  if (end < 0) end += n;
  if (step > 0) {
    s.start = std::clamp<int64_t>(start, 0, n);
    s.end = std::clamp<int64_t>(end, 0, n);
  } else {
    s.start = std::clamp<int64_t>(start, 0, n - 1);
    s.end = std::clamp<int64_t>(end, -1, n - 1);
  }
  s.known = true;
  return s;
}

static int64_t sliceLength(const SliceDim &s) {
  if (s.step > 0)
    return s.end > s.start ? (s.end - s.start + s.step - 1) / s.step : 0;
  return s.start > s.end ? (s.start - s.end - s.step - 1) / -s.step : 0;
}

LogicalResult SliceOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(getData());
  if (!t) {
    types.push_back(getData().getType());
    return success();
  }
  SmallVector<int64_t> out(t.getShape());
  auto starts = getConstantIntValues(getStarts());
  auto ends = getConstantIntValues(getEnds());
  std::optional<SmallVector<int64_t>> axes, steps;
  if (getAxes())
    axes = getConstantIntValues(getAxes());
  if (getSteps())
    steps = getConstantIntValues(getSteps());
  bool axesKnown = !getAxes() || axes;
  if (!starts || !ends || !axesKnown || (getSteps() && !steps)) {
    // Unknown parameters: every sliced dim may change.
    if (axesKnown && axes) {
      for (int64_t a : *axes)
        if (auto n = normalizeAxis(a, t.getRank()))
          out[*n] = kDyn;
    } else {
      for (auto &d : out)
        d = kDyn;
    }
    types.push_back(RankedTensorType::get(out, t.getElementType()));
    return success();
  }
  if (starts->size() != ends->size() || (axes && axes->size() != starts->size()) ||
      (steps && steps->size() != starts->size()))
    return emitOpError("starts, ends, axes and steps must have the same length");
  for (size_t i = 0; i < starts->size(); ++i) {
    int64_t a = axes ? (*axes)[i] : (int64_t)i;
    auto n = normalizeAxis(a, t.getRank());
    if (!n)
      return emitOpError("axis ") << a << " is out of range for rank " << t.getRank();
    int64_t step = steps ? (*steps)[i] : 1;
    if (step == 0)
      return emitOpError("step must not be 0");
    int64_t dim = t.getDimSize(*n);
    if (ShapedType::isDynamic(dim)) {
      out[*n] = kDyn;
      continue;
    }
    out[*n] = sliceLength(normalizeSlice((*starts)[i], (*ends)[i], step, dim));
  }
  types.push_back(RankedTensorType::get(out, t.getElementType()));
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor a) {
  auto data = smallDense(a.getData());
  auto ty = dyn_cast<RankedTensorType>(getType());
  if (!data || !isStaticSmall(ty))
    return {};
  auto dt = cast<RankedTensorType>(data.getType());
  if (dt.getRank() != 1)
    return {};
  auto starts = getConstantIntValues(getStarts());
  auto ends = getConstantIntValues(getEnds());
  if (!starts || !ends || starts->size() != 1)
    return {};
  int64_t step = 1;
  if (getSteps()) {
    auto steps = getConstantIntValues(getSteps());
    if (!steps)
      return {};
    step = (*steps)[0];
  }
  SliceDim s = normalizeSlice((*starts)[0], (*ends)[0], step, dt.getDimSize(0));
  auto values = llvm::to_vector(data.getValues<Attribute>());
  SmallVector<Attribute> out;
  for (int64_t k = 0, len = sliceLength(s); k < len; ++k)
    out.push_back(values[s.start + k * s.step]);
  if ((int64_t)out.size() != ty.getNumElements())
    return {};
  return DenseElementsAttr::get(ty, out);
}

//===----------------------------------------------------------------------===//
// Expand / Tile / Pad / ConstantOfShape / Range / Trilu
//===----------------------------------------------------------------------===//

LogicalResult ExpandOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(getInput());
  Type et = elementTypeOf(getInput());
  auto target = getPartialIntValues(getShape());
  if (!t || !target) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  // A dynamic entry of the shape operand broadcasts with the input dim: the
  // result is known only when the input dim is > 1.
  SmallVector<int64_t> tgt;
  for (int64_t d : *target)
    tgt.push_back(d == kDyn ? kDyn : d);
  size_t rank = std::max<size_t>(tgt.size(), t.getRank());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t a = i < rank - t.getRank() ? 1 : t.getDimSize(i - (rank - t.getRank()));
    int64_t b = i < rank - tgt.size() ? 1 : tgt[i - (rank - tgt.size())];
    if (b == kDyn)
      out[i] = (!ShapedType::isDynamic(a) && a > 1) ? a : kDyn;
    else if (a == 1)
      out[i] = b;
    else if (b == 1)
      out[i] = a;
    else if (ShapedType::isDynamic(a))
      out[i] = b;
    else if (a == b)
      out[i] = a;
    else
      return emitOpError("cannot expand dim of size ") << a << " to " << b;
  }
  types.push_back(RankedTensorType::get(out, et));
  return success();
}

OpFoldResult ExpandOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType() && cast<RankedTensorType>(getType()).hasStaticShape())
    return getInput();
  auto d = smallDense(a.getInput());
  if (d && d.isSplat() && isStaticSmall(getType()))
    return DenseElementsAttr::get(cast<ShapedType>(getType()), d.getSplatValue<Attribute>());
  return {};
}

LogicalResult TileOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(getInput());
  if (!t) {
    types.push_back(getInput().getType());
    return success();
  }
  auto reps = getPartialIntValues(getRepeats());
  SmallVector<int64_t> out(t.getShape());
  if (reps && (int64_t)reps->size() != t.getRank())
    return emitOpError("repeats has ") << reps->size() << " entries for rank " << t.getRank();
  for (int64_t i = 0; i < t.getRank(); ++i) {
    int64_t r = reps ? (*reps)[i] : kDyn;
    out[i] = (r == kDyn || t.isDynamicDim(i)) ? kDyn : out[i] * r;
  }
  types.push_back(RankedTensorType::get(out, t.getElementType()));
  return success();
}

LogicalResult PadOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(getData());
  if (!t) {
    types.push_back(getData().getType());
    return success();
  }
  auto pads = getPartialIntValues(getPads());
  SmallVector<int64_t> out(t.getShape());
  int64_t r = t.getRank();
  if (pads && (int64_t)pads->size() != 2 * r)
    return emitOpError("pads has ") << pads->size() << " entries for rank " << r;
  for (int64_t i = 0; i < r; ++i) {
    if (!pads || (*pads)[i] == kDyn || (*pads)[i + r] == kDyn || t.isDynamicDim(i))
      out[i] = kDyn;
    else
      out[i] += (*pads)[i] + (*pads)[i + r];
  }
  types.push_back(RankedTensorType::get(out, t.getElementType()));
  return success();
}

LogicalResult ConstantOfShapeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type et = getValue() ? getValue()->getElementType() : Float32Type::get(getContext());
  auto shape = getPartialIntValues(getInput());
  if (!shape) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  SmallVector<int64_t> out;
  for (int64_t d : *shape)
    out.push_back(d == kDyn ? kDyn : d);
  types.push_back(RankedTensorType::get(out, et));
  return success();
}

OpFoldResult ConstantOfShapeOp::fold(FoldAdaptor) {
  auto ty = dyn_cast<RankedTensorType>(getType());
  if (!isStaticSmall(ty))
    return {};
  if (!getValue())
    return DenseElementsAttr::get(ty, FloatAttr::get(ty.getElementType(), 0.0));
  auto v = dyn_cast<DenseElementsAttr>(*getValue());
  if (!v || v.getNumElements() != 1)
    return {};
  return DenseElementsAttr::get(ty, *v.getValues<Attribute>().begin());
}

LogicalResult NonZeroOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto xt = dyn_cast<RankedTensorType>(getInput().getType());
  int64_t rank = xt ? std::max<int64_t>(1, xt.getRank()) : kDyn;
  types.push_back(RankedTensorType::get({rank, kDyn}, IntegerType::get(getContext(), 64)));
  return success();
}

LogicalResult RangeOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type et = elementTypeOf(getStart());
  auto start = getConstantElements(getStart()), limit = getConstantElements(getLimit()),
       delta = getConstantElements(getDelta());
  int64_t n = kDyn;
  if (start && limit && delta) {
    if (isa<IntegerType>(et)) {
      auto s = getIntValues(start), l = getIntValues(limit), d = getIntValues(delta);
      if (s && l && d && (*d)[0] != 0)
        n = std::max<int64_t>(0, ((*l)[0] - (*s)[0] + (*d)[0] - ((*d)[0] > 0 ? 1 : -1)) / (*d)[0]);
    } else {
      auto s = getFloatValues(start), l = getFloatValues(limit), d = getFloatValues(delta);
      if (s && l && d && (*d)[0] != 0)
        n = std::max<int64_t>(0, (int64_t)std::ceil(((*l)[0] - (*s)[0]) / (*d)[0]));
    }
  }
  types.push_back(RankedTensorType::get({n}, et));
  return success();
}

OpFoldResult RangeOp::fold(FoldAdaptor) {
  auto ty = dyn_cast<RankedTensorType>(getType());
  if (!isStaticSmall(ty) || !isa<IntegerType>(ty.getElementType()))
    return {};
  auto s = getConstantIntValues(getStart()), d = getConstantIntValues(getDelta());
  if (!s || !d)
    return {};
  SmallVector<int64_t> vals;
  for (int64_t i = 0; i < ty.getNumElements(); ++i)
    vals.push_back((*s)[0] + i * (*d)[0]);
  return makeIntElements(ty, vals);
}

LogicalResult TriluOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(getInput());
  if (t && t.getRank() < 2)
    return emitOpError("input must have rank >= 2");
  types.push_back(getInput().getType());
  return success();
}
