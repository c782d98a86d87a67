//===- Math.cpp - elementwise ops: shape inference, verifiers, folders ----===//

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>

using namespace mlir;
using namespace mlir::glm;

/// Folding creates plain dense attributes in the context; keep them small
/// (shape arithmetic). Big constant folding writes resource blobs in
/// glm-fold-constants instead.
static constexpr int64_t kMaxFoldElements = 4096;

//===----------------------------------------------------------------------===//
// Shape inference
//===----------------------------------------------------------------------===//

/// Broadcasts all tensor operands; the result element type is `elementType`.
static LogicalResult inferBroadcast(Operation *op, ValueRange operands, Type elementType,
                                    SmallVectorImpl<Type> &types) {
  SmallVector<int64_t> shape;
  bool first = true;
  for (Value v : operands) {
    auto ty = dyn_cast<RankedTensorType>(v.getType());
    if (!ty) {
      types.push_back(UnrankedTensorType::get(elementType));
      return success();
    }
    if (first) {
      shape.assign(ty.getShape().begin(), ty.getShape().end());
      first = false;
      continue;
    }
    auto b = broadcastShapes(shape, ty.getShape());
    if (failed(b))
      return op->emitOpError("operand shapes cannot be broadcast together: ")
             << operands.getTypes();
    shape = *b;
  }
  types.push_back(RankedTensorType::get(shape, elementType));
  return success();
}


#define GLM_INFER_SAME_ELEMENT(OP)                                                      \
  LogicalResult OP::inferResultTypes(SmallVectorImpl<Type> &types) {                     \
    return inferBroadcast(*this, getOperation()->getOperands(),                          \
                          elementTypeOf(getOperation()->getOperand(0)), types);          \
  }
#define GLM_INFER_BOOL(OP)                                                              \
  LogicalResult OP::inferResultTypes(SmallVectorImpl<Type> &types) {                     \
    return inferBroadcast(*this, getOperation()->getOperands(),                          \
                          IntegerType::get(getContext(), 1), types);                     \
  }

GLM_INFER_SAME_ELEMENT(AddOp)
GLM_INFER_SAME_ELEMENT(SubOp)
GLM_INFER_SAME_ELEMENT(MulOp)
GLM_INFER_SAME_ELEMENT(DivOp)
GLM_INFER_SAME_ELEMENT(PowOp)
GLM_INFER_SAME_ELEMENT(MaxOp)
GLM_INFER_SAME_ELEMENT(MinOp)
GLM_INFER_SAME_ELEMENT(AndOp)
GLM_INFER_SAME_ELEMENT(OrOp)
GLM_INFER_SAME_ELEMENT(NotOp)
GLM_INFER_SAME_ELEMENT(NegOp)
GLM_INFER_SAME_ELEMENT(AbsOp)
GLM_INFER_SAME_ELEMENT(SqrtOp)
GLM_INFER_SAME_ELEMENT(ExpOp)
GLM_INFER_SAME_ELEMENT(LogOp)
GLM_INFER_SAME_ELEMENT(ErfOp)
GLM_INFER_SAME_ELEMENT(ReciprocalOp)
GLM_INFER_SAME_ELEMENT(ReluOp)
GLM_INFER_SAME_ELEMENT(SigmoidOp)
GLM_INFER_SAME_ELEMENT(TanhOp)
GLM_INFER_SAME_ELEMENT(SiluOp)
GLM_INFER_SAME_ELEMENT(SinOp)
GLM_INFER_SAME_ELEMENT(CosOp)
GLM_INFER_SAME_ELEMENT(FloorOp)
GLM_INFER_SAME_ELEMENT(CeilOp)
GLM_INFER_SAME_ELEMENT(SoftplusOp)
GLM_INFER_SAME_ELEMENT(GeluOp)
GLM_INFER_SAME_ELEMENT(LeakyReluOp)
GLM_INFER_SAME_ELEMENT(HardSigmoidOp)
GLM_INFER_SAME_ELEMENT(HardSwishOp)
GLM_INFER_SAME_ELEMENT(MishOp)
GLM_INFER_SAME_ELEMENT(RoundOp)
GLM_INFER_SAME_ELEMENT(EluOp)
GLM_INFER_SAME_ELEMENT(SeluOp)
GLM_INFER_SAME_ELEMENT(SignOp)
GLM_INFER_SAME_ELEMENT(ModOp)
GLM_INFER_SAME_ELEMENT(XorOp)
GLM_INFER_SAME_ELEMENT(BitShiftOp)
GLM_INFER_BOOL(IsNaNOp)
GLM_INFER_BOOL(IsInfOp)
GLM_INFER_BOOL(EqualOp)
GLM_INFER_BOOL(LessOp)
GLM_INFER_BOOL(GreaterOp)
GLM_INFER_BOOL(LessOrEqualOp)
GLM_INFER_BOOL(GreaterOrEqualOp)

LogicalResult ClipOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  // min/max are scalars: the result has the input's shape.
  return inferBroadcast(*this, getInput(), elementTypeOf(getInput()), types);
}

LogicalResult WhereOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferBroadcast(*this, getOperation()->getOperands(), elementTypeOf(getX()), types);
}

LogicalResult CastOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferBroadcast(*this, getInput(), getTo(), types);
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

LogicalResult PReluOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  // The slope broadcasts to X, never the other way.
  return inferBroadcast(*this, getX(), elementTypeOf(getX()), types);
}

LogicalResult PReluOp::verify() {
  auto x = rankedOrNull(getX()), s = rankedOrNull(getSlope());
  if (!x || !s)
    return success();
  bool ok = s.getRank() <= x.getRank();
  for (int64_t i = 0; ok && i < s.getRank(); ++i) {
    int64_t sd = s.getDimSize(i), xd = x.getDimSize(x.getRank() - s.getRank() + i);
    ok = sd == 1 || sd == xd || ShapedType::isDynamic(sd) || ShapedType::isDynamic(xd);
  }
  if (!ok)
    return emitOpError("slope of shape ")
           << s << " does not broadcast to X of shape " << x << " (PRelu broadcasts it one way)";
  return success();
}

LogicalResult BitShiftOp::verify() {
  if (getDirection() != "LEFT" && getDirection() != "RIGHT")
    return emitOpError("direction must be LEFT or RIGHT, got '") << getDirection() << "'";
  return success();
}

LogicalResult ModOp::verify() {
  if (getFmod() != 0 && getFmod() != 1)
    return emitOpError("fmod must be 0 or 1, got ") << getFmod();
  return success();
}

LogicalResult WhereOp::verify() {
  if (elementTypeOf(getX()) != elementTypeOf(getY()))
    return emitOpError("X and Y must have the same element type, got ")
           << elementTypeOf(getX()) << " and " << elementTypeOf(getY());
  return success();
}

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("approximate must be \"none\" or \"tanh\", got \"")
           << getApproximate() << "\"";
  return success();
}

//===----------------------------------------------------------------------===//
// Folders: evaluate small constant elementwise ops (shape arithmetic).
//===----------------------------------------------------------------------===//

namespace {
/// A small constant operand unpacked to doubles or int64s.
struct Scalars {
  RankedTensorType type;
  SmallVector<double> f;
  SmallVector<int64_t> i;
  bool isFloat = false;
};
} // namespace

static std::optional<Scalars> unpack(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  auto ty = dyn_cast<RankedTensorType>(dense.getType());
  if (!ty || ty.getNumElements() > kMaxFoldElements)
    return std::nullopt;
  Scalars s;
  s.type = ty;
  if (isa<FloatType>(ty.getElementType())) {
    auto v = getFloatValues(dense);
    if (!v)
      return std::nullopt;
    s.f = *v;
    s.isFloat = true;
  } else if (isa<IntegerType>(ty.getElementType())) {
    auto v = getIntValues(dense);
    if (!v)
      return std::nullopt;
    s.i = *v;
  } else {
    return std::nullopt;
  }
  return s;
}

/// Index into a broadcast operand for the flat result index.
static int64_t broadcastIndex(int64_t flat, ArrayRef<int64_t> outShape, ArrayRef<int64_t> inShape) {
  int64_t idx = 0, stride = 1;
  int64_t rem = flat;
  SmallVector<int64_t> coord(outShape.size());
  for (int64_t d = outShape.size() - 1; d >= 0; --d) {
    coord[d] = rem % outShape[d];
    rem /= outShape[d];
  }
  int64_t off = outShape.size() - inShape.size();
  for (int64_t d = inShape.size() - 1; d >= 0; --d) {
    int64_t c = inShape[d] == 1 ? 0 : coord[d + off];
    idx += c * stride;
    stride *= inShape[d];
  }
  return idx;
}

static Attribute buildResult(RankedTensorType type, ArrayRef<double> f, ArrayRef<int64_t> i) {
  Type et = type.getElementType();
  if (auto ft = dyn_cast<FloatType>(et)) {
    SmallVector<APFloat> vals;
    for (double d : f) {
      APFloat v(d);
      bool lost;
      v.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      vals.push_back(v);
    }
    return DenseElementsAttr::get(type, vals);
  }
  return makeIntElements(type, i);
}

using FloatFn = function_ref<double(double, double)>;
using IntFn = function_ref<std::optional<int64_t>(int64_t, int64_t)>;

static Attribute foldBinary(Operation *op, ArrayRef<Attribute> operands, FloatFn ff, IntFn fi) {
  auto resTy = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!resTy || !resTy.hasStaticShape() || resTy.getNumElements() > kMaxFoldElements)
    return {};
  auto a = unpack(operands[0]);
  auto b = unpack(operands[1]);
  if (!a || !b || a->isFloat != b->isFloat)
    return {};
  int64_t n = resTy.getNumElements();
  bool cmp = resTy.getElementType().isInteger(1) && !a->type.getElementType().isInteger(1);
  SmallVector<double> f;
  SmallVector<int64_t> i;
  for (int64_t k = 0; k < n; ++k) {
    int64_t ia = broadcastIndex(k, resTy.getShape(), a->type.getShape());
    int64_t ib = broadcastIndex(k, resTy.getShape(), b->type.getShape());
    if (a->isFloat) {
      double r = ff(a->f[ia], b->f[ib]);
      if (cmp)
        i.push_back(r != 0.0);
      else
        f.push_back(r);
    } else {
      std::optional<int64_t> r = fi(a->i[ia], b->i[ib]);
      if (!r)
        return {};
      i.push_back(*r);
    }
  }
  return buildResult(resTy, f, i);
}

OpFoldResult AddOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return x + y; },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x + y; });
}
OpFoldResult SubOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return x - y; },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x - y; });
}
OpFoldResult MulOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return x * y; },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x * y; });
}
OpFoldResult DivOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return x / y; },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> {
                      if (y == 0)
                        return std::nullopt;
                      return x / y; // ONNX integer Div truncates
                    });
}
OpFoldResult PowOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return std::pow(x, y); },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> {
                      if (y < 0)
                        return std::nullopt;
                      int64_t r = 1;
                      for (int64_t k = 0; k < y && k < 64; ++k)
                        r *= x;
                      return r;
                    });
}
OpFoldResult MaxOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return std::max(x, y); },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return std::max(x, y); });
}
OpFoldResult MinOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return std::min(x, y); },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return std::min(x, y); });
}
OpFoldResult EqualOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return double(x == y); },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x == y; });
}
OpFoldResult LessOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return double(x < y); },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x < y; });
}
OpFoldResult GreaterOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return double(x > y); },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x > y; });
}

OpFoldResult LessOrEqualOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return double(x <= y); },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x <= y; });
}
OpFoldResult GreaterOrEqualOp::fold(FoldAdaptor a) {
  return foldBinary(*this, a.getOperands(), [](double x, double y) { return double(x >= y); },
                    [](int64_t x, int64_t y) -> std::optional<int64_t> { return x >= y; });
}

OpFoldResult NegOp::fold(FoldAdaptor a) {
  auto x = unpack(a.getX());
  auto resTy = dyn_cast<RankedTensorType>(getType());
  if (!x || !resTy || !resTy.hasStaticShape())
    return {};
  for (double &v : x->f)
    v = -v;
  for (int64_t &v : x->i)
    v = -v;
  return buildResult(resTy, x->f, x->i);
}

OpFoldResult WhereOp::fold(FoldAdaptor a) {
  auto resTy = dyn_cast<RankedTensorType>(getType());
  if (!resTy || !resTy.hasStaticShape() || resTy.getNumElements() > kMaxFoldElements)
    return {};
  auto c = unpack(a.getCondition());
  auto x = unpack(a.getX());
  auto y = unpack(a.getY());
  if (!c || !x || !y || x->isFloat != y->isFloat)
    return {};
  SmallVector<double> f;
  SmallVector<int64_t> i;
  for (int64_t k = 0, n = resTy.getNumElements(); k < n; ++k) {
    bool cond = c->i[broadcastIndex(k, resTy.getShape(), c->type.getShape())] != 0;
    const Scalars &s = cond ? *x : *y;
    int64_t idx = broadcastIndex(k, resTy.getShape(), s.type.getShape());
    if (s.isFloat)
      f.push_back(s.f[idx]);
    else
      i.push_back(s.i[idx]);
  }
  return buildResult(resTy, f, i);
}

OpFoldResult CastOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType())
    return getInput();
  auto x = unpack(a.getInput());
  auto resTy = dyn_cast<RankedTensorType>(getType());
  if (!x || !resTy || !resTy.hasStaticShape())
    return {};
  Type et = resTy.getElementType();
  // float8/float4/int4 conversions round and saturate as the lowering does
  // (passes/lowering/linalg/NarrowTypes.cpp); they are not folded.
  if (isNarrowType(et) || isNarrowType(getElementTypeOrSelf(getInput().getType())))
    return {};
  SmallVector<double> f;
  SmallVector<int64_t> i;
  int64_t n = resTy.getNumElements();
  for (int64_t k = 0; k < n; ++k) {
    if (isa<FloatType>(et)) {
      f.push_back(x->isFloat ? x->f[k] : double(x->i[k]));
    } else if (et.isInteger(1)) {
      i.push_back(x->isFloat ? x->f[k] != 0.0 : x->i[k] != 0);
    } else {
      if (x->isFloat && !std::isfinite(x->f[k]))
        return {};
      i.push_back(x->isFloat ? (int64_t)std::trunc(x->f[k]) : x->i[k]);
    }
  }
  return buildResult(resTy, f, i);
}
