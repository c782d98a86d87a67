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

struct AttentionToLinalg : OpConversionPattern<AttentionOp> {
  using OpConversionPattern::OpConversionPattern;
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
    OpFoldResult bh = getDim(rewriter, loc, q3, 0), rows = getDim(rewriter, loc, q3, 1);
    // scores[n, i, j] = sum_d q[n, i, d] k[n, j, d]
    auto sT = RankedTensorType::get({q3t.getDimSize(0), q3t.getDimSize(1), k3t.getDimSize(1)}, et);
    Value zero = scalarConstant(rewriter, loc, et, 0.0);
    Value sInit = createFilled(rewriter, loc, sT, {bh, rows, tSize}, zero);
    // K^T materialised once per K/V head ([n, d, t], t contiguous): the
    // score product is then a plain batch_matmul, the contraction form the
    // tiling and register tiles are tuned for (reading K as [n, t, d] in
    // the product itself makes every register tile gather along d).
    auto ktT = RankedTensorType::get({k3t.getDimSize(0), dh, k3t.getDimSize(1)}, et);
    Value ktInit = createEmpty(rewriter, loc, ktT, {bh, rewriter.getIndexAttr(dh), tSize});
    Value kT = linalg::TransposeOp::create(rewriter, loc, k3, ktInit, ArrayRef<int64_t>{0, 2, 1})
                   .getResult()[0];
    Value scores = linalg::BatchMatmulOp::create(rewriter, loc, TypeRange{sT}, ValueRange{q3, kT},
                                                 ValueRange{sInit})
                       .getResult(0);
    // Scale and mask on the [b, hkv, g, s, t] view of the scores.
    auto s5t = RankedTensorType::get({qt.getDimSize(0), hkv, g, qt.getDimSize(2), kt.getDimSize(2)}, et);
    SmallVector<OpFoldResult> s5Sizes{bSize, rewriter.getIndexAttr(hkv), rewriter.getIndexAttr(g), sSize, tSize};
    Value s5 = tensor::ExpandShapeOp::create(rewriter, loc, s5t, scores,
                                             ArrayRef<ReassociationIndices>{{0, 1}, {2, 3}, {4}}, s5Sizes);
    double scale = op.getScale().convertToDouble();
    SmallVector<Value> ins{s5};
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(5)};
    if (mask) {
      auto mt = cast<RankedTensorType>(mask.getType());
      // mask broadcast against [b, hq, s, t] with hq = kv * g + gi.
      SmallVector<AffineExpr> full{getAffineDimExpr(0, ctx),
                                   getAffineDimExpr(1, ctx) * g + getAffineDimExpr(2, ctx),
                                   getAffineDimExpr(3, ctx), getAffineDimExpr(4, ctx)};
      SmallVector<AffineExpr> exprs;
      for (int64_t a = 0; a < mt.getRank(); ++a) {
        int64_t fullIdx = 4 - mt.getRank() + a;
        exprs.push_back(mt.getDimSize(a) == 1 ? getAffineConstantExpr(0, ctx) : full[fullIdx]);
      }
      ins.push_back(mask);
      maps.push_back(AffineMap::get(5, 0, exprs, ctx));
    }
    Value logits = buildParallelGeneric(rewriter, loc, s5t, s5Sizes, ins, maps,
                                        [&](OpBuilder &b, Location l, ValueRange vals) -> Value {
                                          Value x = arith::MulFOp::create(b, l, vals[0], scalarConstant(b, l, et, scale));
                                          if (vals.size() > 1)
                                            x = arith::AddFOp::create(b, l, x, vals[1]);
                                          return x;
                                        });
    // Softmax over kv_seq.
    Value mx = reduceDims(rewriter, loc, logits, {4}, lowestValue(rewriter, loc, et),
                          [](OpBuilder &b, Location l, Value x, Value acc) -> Value {
                            return arith::MaximumFOp::create(b, l, x, acc);
                          });
    AffineMap row5 = rowMap(ctx, 5), id5 = rewriter.getMultiDimIdentityMap(5);
    Value ex = buildParallelGeneric(rewriter, loc, s5t, s5Sizes, ValueRange{logits, mx}, {id5, row5},
                                    [](OpBuilder &b, Location l, ValueRange vals) -> Value {
                                      return math::ExpOp::create(b, l, arith::SubFOp::create(b, l, vals[0], vals[1]));
                                    });
    Value sum = reduceDims(rewriter, loc, ex, {4}, zero, [](OpBuilder &b, Location l, Value x, Value acc) -> Value {
      return arith::AddFOp::create(b, l, x, acc);
    });
    Value probs = buildParallelGeneric(rewriter, loc, s5t, s5Sizes, ValueRange{ex, sum}, {id5, row5},
                                       [](OpBuilder &b, Location l, ValueRange vals) -> Value {
                                         return arith::DivFOp::create(b, l, vals[0], vals[1]);
                                       });
    Value p3 = collapse(rewriter, loc, probs, {{0, 1}, {2, 3}, {4}});
    // out[n, i, e] = sum_j p[n, i, j] v[n, j, e]
    auto oT = RankedTensorType::get({q3t.getDimSize(0), q3t.getDimSize(1), dv}, et);
    Value oInit = createFilled(rewriter, loc, oT, {bh, rows, rewriter.getIndexAttr(dv)}, zero);
    Value o3 = linalg::BatchMatmulOp::create(rewriter, loc, TypeRange{oT}, ValueRange{p3, v3},
                                             ValueRange{oInit})
                   .getResult(0);
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

} // namespace

void mlir::glm::populateFusedToLinalgPatterns(const TypeConverter &converter,
                                              RewritePatternSet &patterns) {
  patterns.add<LinearToLinalg, GatedMLPToLinalg, RMSNormToLinalg, RotaryToLinalg, AttentionToLinalg>(
      converter, patterns.getContext());
}
