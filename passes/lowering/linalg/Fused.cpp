//===- Fused.cpp - fused decoder ops → linalg -----------------------------===//
//
// glm.linear and glm.gated_mlp become linalg.matmul over the collapsed
// leading dims (the tuned contraction path of glm-tile-and-vectorize), the
// bias initialising the accumulator and the gating one element-wise generic
// over two slices of the fused gate/up result. glm.rms_norm is one
// reduction and one element-wise generic. glm.rotary is one generic over
// the pairs of each head (their two elements as strided slices, two
// results) and a copy of the rest. glm.attention
// groups the query heads of each K/V head into the rows of one batched
// matmul, so grouped K/V heads are read in place instead of being repeated.
//
//===----------------------------------------------------------------------===//

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

constexpr int64_t kDyn = ShapedType::kDynamic;

int64_t mulDims(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) ? kDyn : a * b;
}

/// Collapses `v` by `groups` (a reassociation) into `shape`.
Value collapse(OpBuilder &b, Location loc, Value v, ArrayRef<ReassociationIndices> groups) {
  auto t = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape;
  for (const ReassociationIndices &g : groups) {
    int64_t n = 1;
    for (int64_t d : g)
      n = mulDims(n, t.getDimSize(d));
    shape.push_back(n);
  }
  return tensor::CollapseShapeOp::create(b, loc, RankedTensorType::get(shape, t.getElementType()), v,
                                         groups);
}

/// [..., K] → [M, K].
Value collapseToMatrix(OpBuilder &b, Location loc, Value x) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  if (rank == 2)
    return x;
  ReassociationIndices lead;
  for (int64_t i = 0; i + 1 < rank; ++i)
    lead.push_back(i);
  return collapse(b, loc, x, {lead, {rank - 1}});
}

/// [M, N] → the leading dims of `like` and N.
Value expandFromMatrix(OpBuilder &b, Location loc, Value m, Value like, RankedTensorType rt) {
  if (rt.getRank() == 2)
    return m;
  SmallVector<OpFoldResult> sizes;
  for (int64_t i = 0; i + 1 < rt.getRank(); ++i)
    sizes.push_back(getDim(b, loc, like, i));
  sizes.push_back(getDim(b, loc, m, 1));
  return reshapeTensor(b, loc, m, rt, sizes);
}

/// x[M,K] W[K,N] (+ bias[N] broadcast as the accumulator's initial value).
Value matmulWithBias(OpBuilder &b, Location loc, Value x2, Value w, Value bias) {
  auto xt = cast<RankedTensorType>(x2.getType());
  auto wt = cast<RankedTensorType>(w.getType());
  Type et = xt.getElementType();
  auto outT = RankedTensorType::get({xt.getDimSize(0), wt.getDimSize(1)}, et);
  SmallVector<OpFoldResult> sizes{getDim(b, loc, x2, 0), getDim(b, loc, w, 1)};
  Value init;
  if (bias) {
    MLIRContext *ctx = b.getContext();
    AffineMap col = AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx);
    init = buildParallelGeneric(b, loc, outT, sizes, ValueRange{bias}, {col},
                                [](OpBuilder &, Location, ValueRange v) -> Value { return v[0]; });
  } else {
    init = createFilled(b, loc, outT, sizes, scalarConstant(b, loc, et, 0.0));
  }
  return linalg::MatmulOp::create(b, loc, TypeRange{outT}, ValueRange{x2, w}, ValueRange{init})
      .getResult(0);
}

/// The map of a per-row value (a reduction over the last dim) into the
/// iteration space of its input.
AffineMap rowMap(MLIRContext *ctx, int64_t rank) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i + 1 < rank; ++i)
    exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

struct LinearToLinalg : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!rt || !isa<RankedTensorType>(adaptor.getX().getType()))
      return rewriter.notifyMatchFailure(op, "unranked");
    Location loc = op.getLoc();
    Value x = adaptor.getX();
    Value y = matmulWithBias(rewriter, loc, collapseToMatrix(rewriter, loc, x), adaptor.getW(),
                             adaptor.getB());
    y = expandFromMatrix(rewriter, loc, y, x, rt);
    if (y.getType() != rt)
      y = tensor::CastOp::create(rewriter, loc, rt, y);
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct GatedMLPToLinalg : OpConversionPattern<GatedMLPOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(GatedMLPOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    auto wt = dyn_cast<RankedTensorType>(adaptor.getWGateUp().getType());
    if (!rt || !wt || !isa<RankedTensorType>(adaptor.getX().getType()) ||
        ShapedType::isDynamic(wt.getDimSize(1)))
      return rewriter.notifyMatchFailure(op, "unranked or dynamic width");
    Location loc = op.getLoc();
    Type et = rt.getElementType();
    Value x = adaptor.getX();
    Value h = matmulWithBias(rewriter, loc, collapseToMatrix(rewriter, loc, x), adaptor.getWGateUp(), {});
    int64_t f = wt.getDimSize(1) / 2;
    OpFoldResult m = getDim(rewriter, loc, h, 0);
    auto half = [&](int64_t offset) -> Value {
      auto st = RankedTensorType::get({cast<RankedTensorType>(h.getType()).getDimSize(0), f}, et);
      return tensor::ExtractSliceOp::create(
          rewriter, loc, st, h, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0), rewriter.getIndexAttr(offset)},
          ArrayRef<OpFoldResult>{m, rewriter.getIndexAttr(f)},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1), rewriter.getIndexAttr(1)});
    };
    bool gateFirst = op.getGateFirst();
    Value gate = half(gateFirst ? 0 : f), up = half(gateFirst ? f : 0);
    StringRef act = op.getActivation();
    auto gatedT = RankedTensorType::get({cast<RankedTensorType>(h.getType()).getDimSize(0), f}, et);
    Value gated = buildElementwise(rewriter, loc, gatedT, ValueRange{gate, up},
                                   [&](OpBuilder &b, Location l, ValueRange v) -> Value {
                                     Value a = act == "gelu" ? buildGelu(b, l, v[0], "none") : buildSilu(b, l, v[0]);
                                     return arith::MulFOp::create(b, l, a, v[1]);
                                   });
    Value y = matmulWithBias(rewriter, loc, gated, adaptor.getWDown(), {});
    y = expandFromMatrix(rewriter, loc, y, x, rt);
    if (y.getType() != rt)
      y = tensor::CastOp::create(rewriter, loc, rt, y);
    rewriter.replaceOp(op, y);
    return success();
  }
};

struct RMSNormToLinalg : OpConversionPattern<RMSNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(RMSNormOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getX();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!xt)
      return rewriter.notifyMatchFailure(op, "unranked");
    int64_t rank = xt.getRank();
    int64_t axis = *normalizeAxis(op.getAxis(), rank);
    Type et = xt.getElementType();
    // Normalize over [axis, rank) as one trailing dim.
    Value flat = x;
    if (axis != rank - 1) {
      SmallVector<ReassociationIndices> groups;
      for (int64_t i = 0; i < axis; ++i)
        groups.push_back({i});
      ReassociationIndices tail;
      for (int64_t i = axis; i < rank; ++i)
        tail.push_back(i);
      groups.push_back(tail);
      flat = collapse(rewriter, loc, x, groups);
    }
    auto ft = cast<RankedTensorType>(flat.getType());
    int64_t frank = ft.getRank();
    Value sumsq = reduceDims(rewriter, loc, flat, {frank - 1}, scalarConstant(rewriter, loc, et, 0.0),
                             [](OpBuilder &b, Location l, Value v, Value acc) -> Value {
                               return arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, v, v), acc);
                             });
    Value n = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(),
                                         toIndexValue(rewriter, loc, getDim(rewriter, loc, flat, frank - 1)));
    Value nf = arith::SIToFPOp::create(rewriter, loc, et, n);
    double eps = op.getEpsilon().convertToDouble();
    // The scale broadcast over the normalized dims, flattened the same way.
    Value scale = adaptor.getScale();
    auto st = cast<RankedTensorType>(scale.getType());
    MLIRContext *ctx = rewriter.getContext();
    AffineMap scaleMap;
    if (axis == rank - 1 || st.getRank() <= 1) {
      bool bc = st.getRank() == 0 || st.getDimSize(st.getRank() - 1) == 1;
      scaleMap = AffineMap::get(frank, 0,
                                st.getRank() == 0 ? ArrayRef<AffineExpr>{}
                                                  : ArrayRef<AffineExpr>{bc ? getAffineConstantExpr(0, ctx)
                                                                            : getAffineDimExpr(frank - 1, ctx)},
                                ctx);
    } else {
      // A multi-dim scale over several normalized dims: materialize it at
      // the normalized shape, then flatten.
      auto full = RankedTensorType::get(xt.getShape().drop_front(axis), et);
      SmallVector<OpFoldResult> sizes;
      for (int64_t i = axis; i < rank; ++i)
        sizes.push_back(getDim(rewriter, loc, x, i));
      Value bcast = buildParallelGeneric(rewriter, loc, full, sizes, ValueRange{scale},
                                         {broadcastMap(ctx, st, full)},
                                         [](OpBuilder &, Location, ValueRange v) -> Value { return v[0]; });
      ReassociationIndices all;
      for (int64_t i = 0; i < full.getRank(); ++i)
        all.push_back(i);
      scale = collapse(rewriter, loc, bcast, {all});
      scaleMap = AffineMap::get(frank, 0, {getAffineDimExpr(frank - 1, ctx)}, ctx);
    }
    Value y = buildParallelGeneric(
        rewriter, loc, ft, getDims(rewriter, loc, flat), ValueRange{flat, sumsq, scale},
        {rewriter.getMultiDimIdentityMap(frank), rowMap(ctx, frank), scaleMap},
        [&](OpBuilder &b, Location l, ValueRange v) -> Value {
          Value ms = arith::DivFOp::create(b, l, v[1], nf);
          Value r = math::RsqrtOp::create(b, l, arith::AddFOp::create(b, l, ms, scalarConstant(b, l, et, eps)));
          return arith::MulFOp::create(b, l, arith::MulFOp::create(b, l, v[0], r), v[2]);
        });
    if (axis != rank - 1)
      y = reshapeTensor(rewriter, loc, y, xt, getDims(rewriter, loc, x));
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (rt && y.getType() != rt)
      y = tensor::CastOp::create(rewriter, loc, rt, y);
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// The map reading a [b|1, h|1, s|1, *] operand at (d0, d1, d2, last).
AffineMap broadcast4(MLIRContext *ctx, RankedTensorType t, AffineExpr last) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < 3; ++i)
    exprs.push_back(t.getDimSize(i) == 1 ? getAffineConstantExpr(0, ctx) : getAffineDimExpr(i, ctx));
  exprs.push_back(last);
  return AffineMap::get(4, 0, exprs, ctx);
}

struct RotaryToLinalg : OpConversionPattern<RotaryOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(RotaryOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getX(), cs = adaptor.getCos(), sn = adaptor.getSin();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    auto ct = dyn_cast<RankedTensorType>(cs.getType());
    if (!xt || !ct || ShapedType::isDynamic(ct.getDimSize(3)) || ShapedType::isDynamic(xt.getDimSize(3)))
      return rewriter.notifyMatchFailure(op, "dynamic head or rotary dim");
    int64_t r = ct.getDimSize(3), d = xt.getDimSize(3);
    Type et = xt.getElementType();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<OpFoldResult> sizes = getDims(rewriter, loc, x);
    // The two elements of every pair as strided slices of the head dim:
    // (2i, 2i+1) interleaved, (i, i+r) half-split.
    bool inter = op.getInterleaved();
    int64_t offA = 0, offB = inter ? 1 : r, stride = inter ? 2 : 1;
    SmallVector<OpFoldResult> pairSizes = sizes;
    pairSizes[3] = rewriter.getIndexAttr(r);
    auto pairT = RankedTensorType::get({xt.getDimSize(0), xt.getDimSize(1), xt.getDimSize(2), r}, et);
    auto at = [&](int64_t off) {
      SmallVector<OpFoldResult> offsets(4, rewriter.getIndexAttr(0));
      offsets[3] = rewriter.getIndexAttr(off);
      return offsets;
    };
    SmallVector<OpFoldResult> strides(4, rewriter.getIndexAttr(1));
    strides[3] = rewriter.getIndexAttr(stride);
    Value xa = tensor::ExtractSliceOp::create(rewriter, loc, pairT, x, at(offA), pairSizes, strides);
    Value xb = tensor::ExtractSliceOp::create(rewriter, loc, pairT, x, at(offB), pairSizes, strides);
    AffineMap id = rewriter.getMultiDimIdentityMap(4);
    AffineMap csMap = broadcast4(ctx, ct, getAffineDimExpr(3, ctx));
    AffineMap snMap = broadcast4(ctx, cast<RankedTensorType>(sn.getType()), getAffineDimExpr(3, ctx));
    Value initA = createEmpty(rewriter, loc, pairT, pairSizes), initB = createEmpty(rewriter, loc, pairT, pairSizes);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{pairT, pairT}, ValueRange{xa, xb, cs, sn}, ValueRange{initA, initB},
        ArrayRef<AffineMap>{id, id, csMap, snMap, id, id},
        SmallVector<utils::IteratorType>(4, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange v) {
          // ya = a c - b s, yb = b c + a s
          Value ya = arith::SubFOp::create(b, l, arith::MulFOp::create(b, l, v[0], v[2]),
                                           arith::MulFOp::create(b, l, v[1], v[3]));
          Value yb = arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, v[1], v[2]),
                                           arith::MulFOp::create(b, l, v[0], v[3]));
          linalg::YieldOp::create(b, l, ValueRange{ya, yb});
        });
    Value out = createEmpty(rewriter, loc, xt, sizes);
    out = tensor::InsertSliceOp::create(rewriter, loc, generic.getResult(0), out, at(offA), pairSizes, strides);
    out = tensor::InsertSliceOp::create(rewriter, loc, generic.getResult(1), out, at(offB), pairSizes, strides);
    if (2 * r < d) {
      SmallVector<OpFoldResult> passSizes = sizes, ones(4, rewriter.getIndexAttr(1));
      passSizes[3] = rewriter.getIndexAttr(d - 2 * r);
      auto passT = RankedTensorType::get({xt.getDimSize(0), xt.getDimSize(1), xt.getDimSize(2), d - 2 * r}, et);
      Value pass = tensor::ExtractSliceOp::create(rewriter, loc, passT, x, at(2 * r), passSizes, ones);
      out = tensor::InsertSliceOp::create(rewriter, loc, pass, out, at(2 * r), passSizes, ones);
    }
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (rt && out.getType() != rt)
      out = tensor::CastOp::create(rewriter, loc, rt, out);
    rewriter.replaceOp(op, out);
    return success();
  }
};

/// `idx`, or 0 where the mask dim `dim` is 1 (numpy broadcasting of a
/// dim whose size is only known at run time).
Value broadcastIndex(OpBuilder &b, Location loc, Value idx, Value dimIsOne) {
  if (!dimIsOne)
    return idx;
  return arith::SelectOp::create(b, loc, dimIsOne, arith::ConstantIndexOp::create(b, loc, 0), idx);
}

/// `dim(v, d) == 1` for a dynamic dim, null for a static one (which the
/// caller resolves at compile time).
Value dynamicDimIsOne(OpBuilder &b, Location loc, Value v, int64_t d) {
  if (!cast<RankedTensorType>(v.getType()).isDynamicDim(d))
    return {};
  Value dim = tensor::DimOp::create(b, loc, v, d);
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, dim,
                               arith::ConstantIndexOp::create(b, loc, 1));
}

/// The additive mask value of a score: 0 where the key is `visible`,
/// `maskedValue` where it is not.
Value maskTerm(OpBuilder &b, Location loc, Type et, Value visible, double maskedValue) {
  return arith::SelectOp::create(b, loc, visible, scalarConstant(b, loc, et, 0.0),
                                 scalarConstant(b, loc, et, maskedValue));
}

/// The mask term of one score, as the attention lowering reads it: an
/// additive mask broadcast against [b, hq, s, t], or a glm.attention_mask
/// evaluated from its positions. Everything that does not depend on the
/// score's coordinates is computed once, outside the score loop.
///
/// A glm.attention_mask becomes two vectors the score loop reads
/// contiguously: per key, its position, or the largest position where the
/// key-padding mask hides it (`keyPos`, [batch, t], built once per
/// attention), and per query row of a block, its position (`rowPos`,
/// [rows], built per block). Query i sees key j iff keyPos[j] <= rowPos[i],
/// one compare and one select per score, with no gathers.
class AttentionMaskTerm {
public:
  AttentionMaskTerm(ConversionPatternRewriter &rewriter, Location loc, AttentionMaskOp computed,
                    Value additive, OpFoldResult tSize)
      : mask(additive) {
    OpBuilder &b = rewriter;
    if (!computed) {
      if (mask)
        for (int64_t d = 0; d < cast<RankedTensorType>(mask.getType()).getRank(); ++d)
          maskDimIsOne.push_back(dimIsOne(b, loc, mask, d));
      return;
    }
    mask = {};
    maskedValue = computed.getMaskedValue().convertToDouble();
    qpos = rewriter.getRemappedValue(computed.getQPos());
    qposIsOne = dimIsOne(b, loc, qpos, 0);
    Value kpos = rewriter.getRemappedValue(computed.getKPos());
    Value keyMask = computed.getKeyMask() ? rewriter.getRemappedValue(computed.getKeyMask()) : Value();
    Dim kposIsOne = dimIsOne(b, loc, kpos, 0), kmKeyIsOne;
    OpFoldResult batch = b.getIndexAttr(1);
    int64_t batchStatic = 1;
    if (keyMask) {
      keyBatchIsOne = dimIsOne(b, loc, keyMask, 0);
      kmKeyIsOne = dimIsOne(b, loc, keyMask, 1);
      batch = getDim(b, loc, keyMask, 0);
      batchStatic = cast<RankedTensorType>(keyMask.getType()).getDimSize(0);
    }
    Type pt = getElementTypeOrSelf(kpos.getType());
    auto kt = RankedTensorType::get({batchStatic, ShapedType::kDynamic}, pt);
    if (auto st = getConstantIntValue(tSize))
      kt = RankedTensorType::get({batchStatic, *st}, pt);
    Value hidden = arith::ConstantOp::create(
        b, loc, b.getIntegerAttr(pt, APInt::getSignedMaxValue(pt.getIntOrFloatBitWidth())));
    keyPos = buildParallelGeneric(b, loc, kt, {batch, tSize}, ValueRange{}, {},
                                  [&](OpBuilder &nb, Location l, ValueRange) -> Value {
                                    Value bi = linalg::IndexOp::create(nb, l, 0);
                                    Value j = linalg::IndexOp::create(nb, l, 1);
                                    Value kp = tensor::ExtractOp::create(nb, l, kpos, ValueRange{at(nb, l, j, kposIsOne)});
                                    if (!keyMask)
                                      return kp;
                                    Value km = tensor::ExtractOp::create(
                                        nb, l, keyMask, ValueRange{at(nb, l, bi, keyBatchIsOne), at(nb, l, j, kmKeyIsOne)});
                                    return arith::SelectOp::create(nb, l, km, kp, hidden);
                                  });
  }

  bool present() const { return mask || qpos; }

  /// The inputs of a block's score loop beyond the scores, and their maps
  /// (rows i, keys j): for a computed mask the block's row positions and
  /// the batch's key positions. `rowQuery(b, i)` is the query index of
  /// block row i.
  void blockInputs(OpBuilder &b, Location loc, Value batchIdx, RankedTensorType rowsType,
                   ArrayRef<OpFoldResult> blockSizes,
                   function_ref<Value(OpBuilder &, Location, Value)> rowQuery,
                   SmallVectorImpl<Value> &ins, SmallVectorImpl<AffineMap> &maps) const {
    if (!qpos)
      return;
    MLIRContext *ctx = b.getContext();
    Type pt = getElementTypeOrSelf(qpos.getType());
    auto rpT = RankedTensorType::get({rowsType.getDimSize(0)}, pt);
    Value rowPos = buildParallelGeneric(b, loc, rpT, {blockSizes[0]}, ValueRange{}, {},
                                        [&](OpBuilder &nb, Location l, ValueRange) -> Value {
                                          Value iq = rowQuery(nb, l, linalg::IndexOp::create(nb, l, 0));
                                          return tensor::ExtractOp::create(nb, l, qpos, ValueRange{at(nb, l, iq, qposIsOne)});
                                        });
    Value row = at(b, loc, batchIdx, keyBatchIsOne);
    auto kpT = RankedTensorType::get({rowsType.getDimSize(1)}, pt);
    Value keys = tensor::ExtractSliceOp::create(
        b, loc, kpT, keyPos, ArrayRef<OpFoldResult>{row, b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), blockSizes[1]},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    ins.append({rowPos, keys});
    maps.append({AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx),
                 AffineMap::get(2, 0, {getAffineDimExpr(1, ctx)}, ctx)});
  }

  bool computed() const { return static_cast<bool>(qpos); }

  /// A computed mask's term from the block inputs' elements `extra`.
  Value buildComputed(OpBuilder &b, Location loc, Type et, ValueRange extra) const {
    Value visible = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, extra[1], extra[0]);
    return maskTerm(b, loc, et, visible, maskedValue);
  }

  /// An additive mask's term for the score of batch `bi`, query head `h`,
  /// query `iq`, key `j` (index values).
  Value buildAdditive(OpBuilder &b, Location loc, Value bi, Value h, Value iq, Value j) const {
    auto mt = cast<RankedTensorType>(mask.getType());
    Value full[4] = {bi, h, iq, j};
    SmallVector<Value> idx;
    for (int64_t a = 0; a < mt.getRank(); ++a)
      idx.push_back(at(b, loc, full[4 - mt.getRank() + a], maskDimIsOne[a]));
    return tensor::ExtractOp::create(b, loc, mask, idx);
  }

private:
  /// Broadcast state of one dim: static 1 (always index 0), static other
  /// (the index itself) or dynamic (decided at run time).
  struct Dim {
    bool staticOne = false;
    Value runtimeOne;
  };
  static Dim dimIsOne(OpBuilder &b, Location loc, Value v, int64_t d) {
    auto t = cast<RankedTensorType>(v.getType());
    return {t.getDimSize(d) == 1, dynamicDimIsOne(b, loc, v, d)};
  }
  static Value at(OpBuilder &b, Location loc, Value idx, const Dim &dim) {
    if (dim.staticOne)
      return arith::ConstantIndexOp::create(b, loc, 0);
    return broadcastIndex(b, loc, idx, dim.runtimeOne);
  }

  Value mask, qpos, keyPos;
  double maskedValue = 0.0;
  SmallVector<Dim> maskDimIsOne;
  Dim qposIsOne, keyBatchIsOne{true, {}};
};

/// glm.attention as one parallel loop over (K/V head, block of query rows):
/// the g query heads of a K/V head are the g*s rows of its score matrix, so
/// a block reads K and V once for all of them. Per block the scores
/// [rows, t] are one matmul against K^T, scaled and masked in place
/// (a glm.attention_mask is evaluated from its positions), softmaxed along
/// the row and multiplied by V, with the 1/sum applied to the [rows, dv]
/// output. Temporaries are O(kBlockRows * t) per block, never
/// [b, hq, s, t]; the exact row softmax over a block equals the online
/// (flash) formulation at this size, with one pass fewer.
struct AttentionToLinalg : OpConversionPattern<AttentionOp> {
  using OpConversionPattern::OpConversionPattern;
  static constexpr int64_t kBlockRows = 64;

  LogicalResult matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value q = adaptor.getQ(), k = adaptor.getK(), v = adaptor.getV(), mask = adaptor.getMask();
    auto qt = dyn_cast<RankedTensorType>(q.getType());
    auto kt = dyn_cast<RankedTensorType>(k.getType());
    auto vt = dyn_cast<RankedTensorType>(v.getType());
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    if (!qt || !kt || !vt || !rt || (mask && !isa<RankedTensorType>(mask.getType())))
      return rewriter.notifyMatchFailure(op, "unranked");
    AttentionMaskOp computed = op.getMask() ? op.getMask().getDefiningOp<AttentionMaskOp>() : nullptr;
    if (computed && (!isa<RankedTensorType>(computed.getQPos().getType()) ||
                     !isa<RankedTensorType>(computed.getKPos().getType()) ||
                     (computed.getKeyMask() && !isa<RankedTensorType>(computed.getKeyMask().getType()))))
      return rewriter.notifyMatchFailure(op, "unranked mask positions");
    Type et = qt.getElementType();
    MLIRContext *ctx = rewriter.getContext();
    int64_t hq = qt.getDimSize(1), hkv = kt.getDimSize(1), g = hq / hkv;
    int64_t dh = qt.getDimSize(3), dv = vt.getDimSize(3);
    // Q [b, hq, s, d] → [b*hkv, g*s, d]: the g query heads of a K/V head
    // are consecutive, so this is a pure reshape.
    OpFoldResult bSize = getDim(rewriter, loc, q, 0), sSize = getDim(rewriter, loc, q, 2);
    OpFoldResult tSize = getDim(rewriter, loc, k, 2);
    auto q5t = RankedTensorType::get({qt.getDimSize(0), hkv, g, qt.getDimSize(2), dh}, et);
    Value q5 = tensor::ExpandShapeOp::create(
        rewriter, loc, q5t, q, ArrayRef<ReassociationIndices>{{0}, {1, 2}, {3}, {4}},
        ArrayRef<OpFoldResult>{bSize, rewriter.getIndexAttr(hkv), rewriter.getIndexAttr(g), sSize,
                               rewriter.getIndexAttr(dh)});
    Value q3 = collapse(rewriter, loc, q5, {{0, 1}, {2, 3}, {4}});
    Value k3 = collapse(rewriter, loc, k, {{0, 1}, {2}, {3}});
    Value v3 = collapse(rewriter, loc, v, {{0, 1}, {2}, {3}});
    auto q3t = cast<RankedTensorType>(q3.getType());
    auto k3t = cast<RankedTensorType>(k3.getType());
    int64_t tStatic = k3t.getDimSize(1), rStatic = q3t.getDimSize(1);
    OpFoldResult heads = getDim(rewriter, loc, q3, 0), rows = getDim(rewriter, loc, q3, 1);
    // K^T materialised once per K/V head ([n, d, t], t contiguous), so that
    // the score product is a plain matmul, the contraction form the tiling
    // and register tiles are tuned for.
    auto ktT = RankedTensorType::get({k3t.getDimSize(0), dh, tStatic}, et);
    Value ktInit = createEmpty(rewriter, loc, ktT, {heads, rewriter.getIndexAttr(dh), tSize});
    Value kT = linalg::TransposeOp::create(rewriter, loc, k3, ktInit, ArrayRef<int64_t>{0, 2, 1})
                   .getResult()[0];
    AttentionMaskTerm term(rewriter, loc, computed, mask, tSize);
    Value sIdx = toIndexValue(rewriter, loc, sSize);

    // Row blocks: all rows at once when they are few and static, else
    // kBlockRows (static when it divides the row count).
    int64_t blockRows = kBlockRows, rsStatic = kDyn;
    if (!ShapedType::isDynamic(rStatic) && rStatic <= kBlockRows)
      blockRows = rsStatic = std::max<int64_t>(rStatic, 1);
    else if (!ShapedType::isDynamic(rStatic) && rStatic % kBlockRows == 0)
      rsStatic = kBlockRows;
    auto oT = RankedTensorType::get({q3t.getDimSize(0), rStatic, dv}, et);
    Value out = createEmpty(rewriter, loc, oT, {heads, rows, rewriter.getIndexAttr(dv)});
    auto forall = scf::ForallOp::create(
        rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0), rewriter.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{heads, rows},
        ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1), rewriter.getIndexAttr(blockRows)}, ValueRange{out},
        std::nullopt);
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPoint(forall.getTerminator());
      Value n = forall.getInductionVars()[0], r0 = forall.getInductionVars()[1];
      OpFoldResult rs = rewriter.getIndexAttr(rsStatic);
      if (ShapedType::isDynamic(rsStatic)) {
        Value left = arith::SubIOp::create(rewriter, loc, toIndexValue(rewriter, loc, rows), r0);
        rs = arith::MinSIOp::create(rewriter, loc, left,
                                    arith::ConstantIndexOp::create(rewriter, loc, kBlockRows))
                 .getResult();
      }
      Value hkvC = arith::ConstantIndexOp::create(rewriter, loc, hkv);
      Value batchIdx = arith::DivUIOp::create(rewriter, loc, n, hkvC);
      Value headBase = arith::MulIOp::create(rewriter, loc, arith::RemUIOp::create(rewriter, loc, n, hkvC),
                                             arith::ConstantIndexOp::create(rewriter, loc, g));
      OpFoldResult zeroI = rewriter.getIndexAttr(0), oneI = rewriter.getIndexAttr(1);
      auto slice2d = [&](Value src, RankedTensorType type, OpFoldResult off1, OpFoldResult size1,
                         OpFoldResult size2) -> Value {
        return tensor::ExtractSliceOp::create(rewriter, loc, type, src,
                                              ArrayRef<OpFoldResult>{n, off1, zeroI},
                                              ArrayRef<OpFoldResult>{oneI, size1, size2},
                                              ArrayRef<OpFoldResult>{oneI, oneI, oneI});
      };
      Value qb = slice2d(q3, RankedTensorType::get({rsStatic, dh}, et), r0, rs, rewriter.getIndexAttr(dh));
      Value kn = slice2d(kT, RankedTensorType::get({dh, tStatic}, et), zeroI, rewriter.getIndexAttr(dh), tSize);
      Value vn = slice2d(v3, RankedTensorType::get({tStatic, dv}, et), zeroI, tSize, rewriter.getIndexAttr(dv));
      // f16/bf16 accumulate the products and the softmax in f32 (as ONNX
      // Runtime does), rounding to the element type once, at the end.
      Type ct = et.getIntOrFloatBitWidth() < 32 ? Type(rewriter.getF32Type()) : et;
      Value zero = scalarConstant(rewriter, loc, ct, 0.0);
      // scores[i, j] = sum_d q[i, d] k[j, d]
      auto scT = RankedTensorType::get({rsStatic, tStatic}, ct);
      SmallVector<OpFoldResult> scSizes{rs, tSize};
      Value scores = linalg::MatmulOp::create(rewriter, loc, TypeRange{scT}, ValueRange{qb, kn},
                                              ValueRange{createFilled(rewriter, loc, scT, scSizes, zero)})
                         .getResult(0);
      double scale = op.getScale().convertToDouble();
      AffineMap id2 = rewriter.getMultiDimIdentityMap(2), row2 = rowMap(ctx, 2);
      // Row r0 + i is query head headBase + r / s at position r % s.
      auto rowQuery = [&](OpBuilder &b, Location l, Value i) -> Value {
        return arith::RemUIOp::create(b, l, arith::AddIOp::create(b, l, r0, i), sIdx);
      };
      SmallVector<Value> logitIns{scores};
      SmallVector<AffineMap> logitMaps{id2};
      term.blockInputs(rewriter, loc, batchIdx, scT, scSizes, rowQuery, logitIns, logitMaps);
      Value logits = buildParallelGeneric(
          rewriter, loc, scT, scSizes, logitIns, logitMaps,
          [&](OpBuilder &b, Location l, ValueRange vals) -> Value {
            Value x = arith::MulFOp::create(b, l, vals[0], scalarConstant(b, l, ct, scale));
            if (!term.present())
              return x;
            if (term.computed())
              return arith::AddFOp::create(b, l, x, term.buildComputed(b, l, ct, vals.drop_front()));
            Value i = linalg::IndexOp::create(b, l, 0), j = linalg::IndexOp::create(b, l, 1);
            Value r = arith::AddIOp::create(b, l, r0, i);
            Value h = arith::AddIOp::create(b, l, headBase, arith::DivUIOp::create(b, l, r, sIdx));
            Value m = term.buildAdditive(b, l, batchIdx, h, rowQuery(b, l, i), j);
            if (m.getType() != ct)
              m = arith::ExtFOp::create(b, l, ct, m);
            return arith::AddFOp::create(b, l, x, m);
          });
      // Softmax along the row; the division is applied to the output.
      Value mx = reduceDims(rewriter, loc, logits, {1}, lowestValue(rewriter, loc, ct),
                            [](OpBuilder &b, Location l, Value x, Value acc) -> Value {
                              return arith::MaximumFOp::create(b, l, x, acc);
                            });
      Value ex = buildParallelGeneric(rewriter, loc, scT, scSizes, ValueRange{logits, mx}, {id2, row2},
                                      [](OpBuilder &b, Location l, ValueRange vals) -> Value {
                                        return math::ExpOp::create(b, l, arith::SubFOp::create(b, l, vals[0], vals[1]));
                                      });
      Value sum = reduceDims(rewriter, loc, ex, {1}, zero, [](OpBuilder &b, Location l, Value x, Value acc) -> Value {
        return arith::AddFOp::create(b, l, x, acc);
      });
      // out[i, e] = sum_j e[i, j] v[j, e] / sum[i]
      auto pvT = RankedTensorType::get({rsStatic, dv}, ct), obT = RankedTensorType::get({rsStatic, dv}, et);
      SmallVector<OpFoldResult> obSizes{rs, rewriter.getIndexAttr(dv)};
      Value pv = linalg::MatmulOp::create(rewriter, loc, TypeRange{pvT}, ValueRange{ex, vn},
                                          ValueRange{createFilled(rewriter, loc, pvT, obSizes, zero)})
                     .getResult(0);
      Value ob = buildParallelGeneric(rewriter, loc, obT, obSizes, ValueRange{pv, sum}, {id2, row2},
                                      [&](OpBuilder &b, Location l, ValueRange vals) -> Value {
                                        Value o = arith::DivFOp::create(b, l, vals[0], vals[1]);
                                        return o.getType() == et ? o : arith::TruncFOp::create(b, l, et, o);
                                      });
      rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
      tensor::ParallelInsertSliceOp::create(rewriter, loc, ob, forall.getRegionIterArgs()[0],
                                            ArrayRef<OpFoldResult>{n, r0, zeroI},
                                            ArrayRef<OpFoldResult>{oneI, rs, rewriter.getIndexAttr(dv)},
                                            ArrayRef<OpFoldResult>{oneI, oneI, oneI});
    }
    Value o3 = forall.getResult(0);
    auto o5t = RankedTensorType::get({qt.getDimSize(0), hkv, g, qt.getDimSize(2), dv}, et);
    Value o5 = tensor::ExpandShapeOp::create(
        rewriter, loc, o5t, o3, ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}, {4}},
        ArrayRef<OpFoldResult>{bSize, rewriter.getIndexAttr(hkv), rewriter.getIndexAttr(g), sSize,
                               rewriter.getIndexAttr(dv)});
    Value y = collapse(rewriter, loc, o5, {{0}, {1, 2}, {3}, {4}});
    if (y.getType() != rt)
      y = tensor::CastOp::create(rewriter, loc, rt, y);
    rewriter.replaceOp(op, y);
    return success();
  }
};

/// glm.attention_mask outside an attention (its only users are usually
/// attention ops, whose lowering evaluates it in place): one generic.
struct AttentionMaskToLinalg : OpConversionPattern<AttentionMaskOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(AttentionMaskOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    Value qpos = adaptor.getQPos(), kpos = adaptor.getKPos(), keyMask = adaptor.getKeyMask();
    if (!rt || !isa<RankedTensorType>(qpos.getType()) || !isa<RankedTensorType>(kpos.getType()) ||
        (keyMask && !isa<RankedTensorType>(keyMask.getType())))
      return rewriter.notifyMatchFailure(op, "unranked");
    MLIRContext *ctx = rewriter.getContext();
    AffineExpr bd = getAffineDimExpr(0, ctx), i = getAffineDimExpr(2, ctx), j = getAffineDimExpr(3, ctx);
    SmallVector<Value> ins{qpos, kpos};
    SmallVector<AffineMap> maps{AffineMap::get(4, 0, {i}, ctx), AffineMap::get(4, 0, {j}, ctx)};
    OpFoldResult batch = rewriter.getIndexAttr(1);
    if (keyMask) {
      auto kmt = cast<RankedTensorType>(keyMask.getType());
      ins.push_back(keyMask);
      maps.push_back(AffineMap::get(
          4, 0, {kmt.getDimSize(0) == 1 ? getAffineConstantExpr(0, ctx) : bd, j}, ctx));
      batch = getDim(rewriter, loc, keyMask, 0);
    }
    Type et = rt.getElementType();
    double masked = op.getMaskedValue().convertToDouble();
    Value y = buildParallelGeneric(
        rewriter, loc, rt,
        {batch, rewriter.getIndexAttr(1), getDim(rewriter, loc, qpos, 0), getDim(rewriter, loc, kpos, 0)}, ins,
        maps, [&](OpBuilder &b, Location l, ValueRange vals) -> Value {
          Value visible = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sle, vals[1], vals[0]);
          if (vals.size() > 2)
            visible = arith::AndIOp::create(b, l, visible, vals[2]);
          return maskTerm(b, l, et, visible, masked);
        });
    rewriter.replaceOp(op, y);
    return success();
  }
};

} // namespace

void mlir::glm::populateFusedToLinalgPatterns(const TypeConverter &converter,
                                              RewritePatternSet &patterns) {
  patterns.add<LinearToLinalg, GatedMLPToLinalg, RMSNormToLinalg, RotaryToLinalg, AttentionToLinalg,
               AttentionMaskToLinalg>(
      converter, patterns.getContext());
}
