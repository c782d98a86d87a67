//===- Fused.cpp - fused decoder ops: shape inference, verifiers ----------===//

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::glm;

/// True when static dims a and b disagree.
static bool conflict(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

//===----------------------------------------------------------------------===//
// rms_norm
//===----------------------------------------------------------------------===//

LogicalResult RMSNormOp::verify() {
  auto x = rankedOrNull(getX()), s = rankedOrNull(getScale());
  if (!x)
    return success();
  auto axis = normalizeAxis(getAxis(), x.getRank());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " is out of range for rank " << x.getRank();
  if (s) {
    int64_t normRank = x.getRank() - *axis;
    if (s.getRank() > normRank)
      return emitOpError("scale ") << s << " has more dims than the normalized dims of " << x;
    for (int64_t i = 0; i < s.getRank(); ++i) {
      int64_t sd = s.getDimSize(s.getRank() - 1 - i), xd = x.getDimSize(x.getRank() - 1 - i);
      if (sd != 1 && conflict(sd, xd))
        return emitOpError("scale ") << s << " does not broadcast against " << x;
    }
  }
  return success();
}

LogicalResult RMSNormOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  types.push_back(getX().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// rotary
//===----------------------------------------------------------------------===//

LogicalResult RotaryOp::verify() {
  auto x = rankedOrNull(getX());
  if (!x)
    return success();
  if (x.getRank() != 4)
    return emitOpError("X must be [batch, heads, seq, head_dim], got ") << x;
  for (Value cs : {getCos(), getSin()}) {
    auto t = rankedOrNull(cs);
    if (!t)
      continue;
    if (t.getRank() != 4)
      return emitOpError("cos/sin must have rank 4 (broadcast against X), got ") << t;
    for (int64_t i = 0; i < 3; ++i)
      if (t.getDimSize(i) != 1 && conflict(t.getDimSize(i), x.getDimSize(i)))
        return emitOpError("cos/sin ") << t << " do not broadcast against " << x;
    int64_t r = t.getDimSize(3), d = x.getDimSize(3);
    if (!ShapedType::isDynamic(r) && !ShapedType::isDynamic(d) && 2 * r > d)
      return emitOpError("rotates ") << 2 * r << " elements of a head of " << d;
  }
  auto c = rankedOrNull(getCos()), s = rankedOrNull(getSin());
  if (c && s && c.getShape() != s.getShape())
    return emitOpError("cos ") << c << " and sin " << s << " differ";
  return success();
}

LogicalResult RotaryOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  types.push_back(getX().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// attention
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  auto q = rankedOrNull(getQ()), k = rankedOrNull(getK()), v = rankedOrNull(getV());
  if (!q || !k || !v)
    return success();
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4)
    return emitOpError("Q, K and V must be [batch, heads, seq, head_dim], got ")
           << q << ", " << k << ", " << v;
  if (conflict(k.getDimSize(1), v.getDimSize(1)) || conflict(k.getDimSize(2), v.getDimSize(2)) ||
      conflict(k.getDimSize(0), v.getDimSize(0)))
    return emitOpError("K ") << k << " and V " << v << " disagree";
  if (conflict(q.getDimSize(3), k.getDimSize(3)))
    return emitOpError("Q ") << q << " and K " << k << " have different head dims";
  if (conflict(q.getDimSize(0), k.getDimSize(0)))
    return emitOpError("Q ") << q << " and K " << k << " have different batch sizes";
  int64_t hq = q.getDimSize(1), hkv = k.getDimSize(1);
  if (ShapedType::isDynamic(hq) || ShapedType::isDynamic(hkv))
    return emitOpError("head counts must be static, got Q ") << q << " and K " << k;
  if (hkv <= 0 || hq % hkv != 0)
    return emitOpError("query heads (") << hq << ") must be a multiple of K/V heads (" << hkv << ")";
  if (getMask()) {
    auto m = rankedOrNull(getMask());
    if (m) {
      if (m.getRank() > 4)
        return emitOpError("mask ") << m << " has rank > 4";
      SmallVector<int64_t> want{q.getDimSize(0), hq, q.getDimSize(2), k.getDimSize(2)};
      for (int64_t i = 0; i < m.getRank(); ++i) {
        int64_t md = m.getDimSize(m.getRank() - 1 - i), wd = want[3 - i];
        if (md != 1 && conflict(md, wd))
          return emitOpError("mask ") << m << " does not broadcast against the scores [batch, "
                                      << hq << ", seq, kv_seq]";
      }
    }
  }
  return success();
}

LogicalResult AttentionOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto q = rankedOrNull(getQ()), v = rankedOrNull(getV());
  if (!q || !v) {
    types.push_back(getQ().getType());
    return success();
  }
  SmallVector<int64_t> shape(q.getShape());
  shape[3] = v.getDimSize(3);
  types.push_back(RankedTensorType::get(shape, q.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// attention_mask
//===----------------------------------------------------------------------===//

LogicalResult AttentionMaskOp::verify() {
  auto qp = rankedOrNull(getQPos()), kp = rankedOrNull(getKPos());
  if (qp && qp.getRank() != 1)
    return emitOpError("query positions must be 1-d [seq], got ") << qp;
  if (kp && kp.getRank() != 1)
    return emitOpError("key positions must be 1-d [kv_seq], got ") << kp;
  if (getElementTypeOrSelf(getQPos().getType()) != getElementTypeOrSelf(getKPos().getType()))
    return emitOpError("query and key positions must have one element type, got ")
           << getQPos().getType() << " and " << getKPos().getType();
  if (Value km = getKeyMask()) {
    auto kmt = rankedOrNull(km);
    if (kmt && kmt.getRank() != 2)
      return emitOpError("key mask must be 2-d [batch, kv_seq], got ") << kmt;
    if (kmt && kp && conflict(kmt.getDimSize(1), kp.getDimSize(0)))
      return emitOpError("key mask ") << kmt << " and key positions " << kp
                                      << " disagree on kv_seq";
  }
  if (auto yt = dyn_cast<RankedTensorType>(getY().getType()); yt && yt.getRank() != 4)
    return emitOpError("result must be [batch, 1, seq, kv_seq], got ") << yt;
  return success();
}

LogicalResult AttentionMaskOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto qp = rankedOrNull(getQPos()), kp = rankedOrNull(getKPos());
  int64_t batch = 1;
  if (Value km = getKeyMask()) {
    auto kmt = rankedOrNull(km);
    batch = kmt ? kmt.getDimSize(0) : ShapedType::kDynamic;
  }
  int64_t s = qp ? qp.getDimSize(0) : ShapedType::kDynamic;
  int64_t t = kp ? kp.getDimSize(0) : ShapedType::kDynamic;
  types.push_back(RankedTensorType::get({batch, 1, s, t}, getElementTypeOrSelf(getY().getType())));
  return success();
}

//===----------------------------------------------------------------------===//
// gated_mlp
//===----------------------------------------------------------------------===//

LogicalResult GatedMLPOp::verify() {
  if (getActivation() != "silu" && getActivation() != "gelu")
    return emitOpError("activation must be silu or gelu, got '") << getActivation() << "'";
  auto x = rankedOrNull(getX()), gu = rankedOrNull(getWGateUp()), d = rankedOrNull(getWDown());
  if (gu && gu.getRank() != 2)
    return emitOpError("W_gate_up must be [K, 2F], got ") << gu;
  if (d && d.getRank() != 2)
    return emitOpError("W_down must be [F, N], got ") << d;
  if (gu && !ShapedType::isDynamic(gu.getDimSize(1)) && gu.getDimSize(1) % 2 != 0)
    return emitOpError("W_gate_up ") << gu << " has an odd number of columns";
  if (x && gu && (x.getRank() < 1 || conflict(x.getShape().back(), gu.getDimSize(0))))
    return emitOpError("X ") << x << " does not match W_gate_up " << gu;
  if (gu && d && !ShapedType::isDynamic(gu.getDimSize(1)) &&
      conflict(gu.getDimSize(1) / 2, d.getDimSize(0)))
    return emitOpError("W_down ") << d << " does not match W_gate_up " << gu;
  return success();
}

LogicalResult GatedMLPOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto x = rankedOrNull(getX()), d = rankedOrNull(getWDown());
  if (!x || !d) {
    types.push_back(UnrankedTensorType::get(elementTypeOf(getX())));
    return success();
  }
  SmallVector<int64_t> shape(x.getShape());
  shape.back() = d.getDimSize(1);
  types.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// linear
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  auto x = rankedOrNull(getX()), w = rankedOrNull(getW());
  if (w && w.getRank() != 2)
    return emitOpError("W must be [K, N], got ") << w;
  if (x && (x.getRank() < 1 || (w && conflict(x.getShape().back(), w.getDimSize(0)))))
    return emitOpError("X ") << x << " does not match W " << w;
  if (getB()) {
    auto b = rankedOrNull(getB());
    if (b && (b.getRank() != 1 || (w && conflict(b.getDimSize(0), w.getDimSize(1)))))
      return emitOpError("B must be [N] = [") << (w ? w.getDimSize(1) : -1) << "], got " << b;
  }
  return success();
}

LogicalResult LinearOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto x = rankedOrNull(getX()), w = rankedOrNull(getW());
  if (!x || !w) {
    types.push_back(UnrankedTensorType::get(elementTypeOf(getX())));
    return success();
  }
  SmallVector<int64_t> shape(x.getShape());
  shape.back() = w.getDimSize(1);
  types.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}
