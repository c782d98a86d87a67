//===- ShapeUtils.cpp - shape and constant helpers for glm ops ------------===//

#include "dialects/glm/ShapeUtils.h"

#include "dialects/glm/GLMOps.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::glm;

FailureOr<SmallVector<int64_t>> mlir::glm::broadcastShapes(ArrayRef<int64_t> a,
                                                          ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1) {
      out[i] = db;
    } else if (db == 1) {
      out[i] = da;
    } else if (ShapedType::isDynamic(da)) {
      out[i] = db; // db is dynamic or static > 1: the result equals db
    } else if (ShapedType::isDynamic(db)) {
      out[i] = da;
    } else if (da == db) {
      out[i] = da;
    } else {
      return failure();
    }
  }
  return out;
}

std::optional<int64_t> mlir::glm::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

ElementsAttr mlir::glm::getConstantElements(Value value) {
  if (!value)
    return {};
  if (auto cst = value.getDefiningOp<ConstantOp>())
    return cst.getValue();
  return {};
}

ArrayRef<char> mlir::glm::getRawBytes(ElementsAttr attr) {
  if (auto dense = dyn_cast<DenseElementsAttr>(attr))
    return dense.getRawData();
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    if (AsmResourceBlob *blob = res.getRawHandle().getBlob())
      return blob->getData();
  }
  return {};
}

std::optional<SmallVector<double>> mlir::glm::getConstantValuesAsDouble(Value v) {
  ElementsAttr attr = getConstantElements(v);
  if (!attr)
    return std::nullopt;
  return getValuesAsDouble(attr);
}

std::string mlir::glm::getNodeName(Location loc) {
  if (auto n = dyn_cast<NameLoc>(loc))
    return n.getName().str();
  if (auto f = dyn_cast<FusedLoc>(loc))
    for (Location l : f.getLocations())
      if (std::string s = getNodeName(l); !s.empty())
        return s;
  if (auto c = dyn_cast<CallSiteLoc>(loc))
    return getNodeName(c.getCallee());
  return "";
}

SmallVector<int64_t> mlir::glm::toI64(std::optional<ArrayAttr> attr) {
  SmallVector<int64_t> out;
  if (attr)
    for (Attribute a : *attr)
      out.push_back(cast<IntegerAttr>(a).getInt());
  return out;
}

std::optional<SmallVector<double>> mlir::glm::getValuesAsDouble(ElementsAttr attr) {
  auto ty = dyn_cast<RankedTensorType>(attr.getType());
  if (!ty || !ty.hasStaticShape())
    return std::nullopt;
  int64_t n = ty.getNumElements();
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  SmallVector<double> out;
  if (isa<FloatType>(ty.getElementType())) {
    if (ty.getElementType().isF32() && !(dense && dense.isSplat())) {
      ArrayRef<char> raw = getRawBytes(attr);
      if (raw.size() != size_t(n) * 4)
        return std::nullopt;
      out.resize(n);
      const float *f = reinterpret_cast<const float *>(raw.data());
      for (int64_t i = 0; i < n; ++i)
        out[i] = f[i];
      return out;
    }
    if (ty.getElementType().isF64() && !(dense && dense.isSplat())) {
      ArrayRef<char> raw = getRawBytes(attr);
      if (raw.size() != size_t(n) * 8)
        return std::nullopt;
      out.resize(n);
      memcpy(out.data(), raw.data(), raw.size());
      return out;
    }
    auto fv = getFloatValues(attr);
    if (!fv)
      return std::nullopt;
    if (dense && dense.isSplat())
      fv->assign(n, (*fv)[0]);
    return fv;
  }
  auto iv = getIntValues(attr);
  if (!iv)
    return std::nullopt;
  if (dense && dense.isSplat())
    iv->assign(n, (*iv)[0]);
  for (int64_t x : *iv)
    out.push_back(double(x));
  return out;
}

ElementsAttr mlir::glm::makeResourceElements(RankedTensorType type, ArrayRef<double> values, StringRef name) {
  Type et = type.getElementType();
  unsigned bits = et.getIntOrFloatBitWidth();
  unsigned bytes = std::max(1u, bits / 8);
  AsmResourceBlob blob = HeapAsmResourceBlob::allocate(values.size() * bytes, 64);
  MutableArrayRef<char> data = blob.getMutableData();
  for (size_t i = 0; i < values.size(); ++i) {
    char *p = data.data() + i * bytes;
    if (et.isF32()) {
      float f = float(values[i]);
      memcpy(p, &f, 4);
    } else if (et.isF64()) {
      memcpy(p, &values[i], 8);
    } else if (auto ft = dyn_cast<FloatType>(et)) {
      // Exact for values read from this type (narrow floats are written
      // only by moves: FoldConstants does not cast to them).
      APFloat f(values[i]);
      bool lost;
      f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      uint64_t w = f.bitcastToAPInt().getZExtValue();
      memcpy(p, &w, bytes);
    } else {
      int64_t w = int64_t(values[i]);
      if (bits == 1)
        w = values[i] != 0.0;
      if (bits == 4) // int4/uint4: one per byte, in the low nibble
        w &= 0xf;
      memcpy(p, &w, bytes); // little-endian truncation
    }
  }
  return DenseResourceElementsAttr::get(type, name, std::move(blob));
}

bool mlir::glm::isNarrowType(Type t) {
  if (auto ft = dyn_cast<FloatType>(t))
    return ft.getWidth() < 16;
  if (auto it = dyn_cast<IntegerType>(t))
    return it.getWidth() == 4;
  return false;
}

int64_t mlir::glm::getNumElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::optional<SmallVector<int64_t>> mlir::glm::getIntValues(ElementsAttr attr) {
  if (!attr)
    return std::nullopt;
  auto intTy = dyn_cast<IntegerType>(attr.getElementType());
  if (!intTy)
    return std::nullopt;
  SmallVector<int64_t> out;
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    for (const APInt &v : dense.getValues<APInt>())
      out.push_back(intTy.isUnsigned() || intTy.getWidth() == 1 ? (int64_t)v.getZExtValue()
                                                                : v.getSExtValue());
    return out;
  }
  ArrayRef<char> raw = getRawBytes(attr);
  int64_t n = attr.getNumElements();
  unsigned bytes = intTy.getWidth() / 8;
  if (intTy.getWidth() % 8 != 0 || raw.size() != size_t(n) * bytes)
    return std::nullopt;
  for (int64_t i = 0; i < n; ++i) {
    const char *p = raw.data() + i * bytes;
    switch (bytes) {
    case 1: out.push_back(intTy.isUnsigned() ? (int64_t)(uint8_t)*p : (int64_t)(int8_t)*p); break;
    case 2: { int16_t v; memcpy(&v, p, 2); out.push_back(v); break; }
    case 4: { int32_t v; memcpy(&v, p, 4); out.push_back(v); break; }
    case 8: { int64_t v; memcpy(&v, p, 8); out.push_back(v); break; }
    default: return std::nullopt;
    }
  }
  return out;
}

std::optional<SmallVector<double>> mlir::glm::getFloatValues(ElementsAttr attr) {
  if (!attr || !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  SmallVector<double> out;
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    for (const APFloat &v : dense.getValues<APFloat>())
      out.push_back(v.convertToDouble());
    return out;
  }
  auto fty = cast<FloatType>(attr.getElementType());
  ArrayRef<char> raw = getRawBytes(attr);
  int64_t n = attr.getNumElements();
  unsigned bytes = fty.getWidth() / 8;
  if (raw.size() != size_t(n) * bytes)
    return std::nullopt;
  for (int64_t i = 0; i < n; ++i) {
    APInt bits(fty.getWidth(), 0);
    uint64_t word = 0;
    memcpy(&word, raw.data() + i * bytes, bytes);
    bits = APInt(fty.getWidth(), word);
    out.push_back(APFloat(fty.getFloatSemantics(), bits).convertToDouble());
  }
  return out;
}

std::optional<SmallVector<int64_t>> mlir::glm::getConstantIntValues(Value value) {
  return getIntValues(getConstantElements(value));
}

DenseElementsAttr mlir::glm::makeIntElements(ShapedType type, ArrayRef<int64_t> values) {
  Type et = type.getElementType();
  if (auto it = dyn_cast<IntegerType>(et)) {
    SmallVector<APInt> ints;
    for (int64_t v : values)
      ints.push_back(APInt(it.getWidth(), v, /*isSigned=*/!it.isUnsigned(), /*implicitTrunc=*/true));
    return DenseElementsAttr::get(type, ints);
  }
  auto ft = cast<FloatType>(et);
  SmallVector<APFloat> fls;
  for (int64_t v : values) {
    APFloat f((double)v);
    bool lost;
    f.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
    fls.push_back(f);
  }
  return DenseElementsAttr::get(type, fls);
}

/// All-unknown values for a 1-d tensor of static length.
static std::optional<SmallVector<int64_t>> unknownValues(Value value) {
  if (auto ty = dyn_cast<RankedTensorType>(value.getType()))
    if (ty.getRank() == 1 && !ty.isDynamicDim(0))
      return SmallVector<int64_t>(ty.getDimSize(0), ShapedType::kDynamic);
  if (auto ty = dyn_cast<RankedTensorType>(value.getType()); ty && ty.getRank() == 0)
    return SmallVector<int64_t>(1, ShapedType::kDynamic);
  return std::nullopt;
}

static std::optional<SmallVector<int64_t>> partialIntValuesImpl(Value value);

std::optional<SmallVector<int64_t>> mlir::glm::getPartialIntValues(Value value) {
  if (auto vals = partialIntValuesImpl(value))
    return vals;
  return unknownValues(value);
}

static std::optional<SmallVector<int64_t>> partialIntValuesImpl(Value value) {
  if (auto vals = getConstantIntValues(value))
    return vals;
  Operation *def = value.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto shape = dyn_cast<ShapeOp>(def)) {
    auto ty = dyn_cast<RankedTensorType>(shape.getData().getType());
    if (!ty)
      return std::nullopt;
    auto [b, e] = shape.getDimRange();
    return SmallVector<int64_t>(ty.getShape().slice(b, e - b));
  }
  if (auto cast = dyn_cast<CastOp>(def)) {
    if (isa<IntegerType>(getElementTypeOrSelf(cast.getInput().getType())))
      return getPartialIntValues(cast.getInput());
    return std::nullopt;
  }
  if (auto concat = dyn_cast<ConcatOp>(def)) {
    SmallVector<int64_t> out;
    for (Value in : concat.getInputs()) {
      auto part = getPartialIntValues(in);
      if (!part)
        return std::nullopt;
      out.append(*part);
    }
    return out;
  }
  if (auto unsq = dyn_cast<UnsqueezeOp>(def))
    return getPartialIntValues(unsq.getData());
  if (auto sq = dyn_cast<SqueezeOp>(def))
    return getPartialIntValues(sq.getData());
  if (auto gather = dyn_cast<GatherOp>(def)) {
    auto src = getPartialIntValues(gather.getData());
    auto idx = getConstantIntValues(gather.getIndices());
    if (!src || !idx)
      return std::nullopt;
    SmallVector<int64_t> out;
    for (int64_t i : *idx) {
      if (i < 0)
        i += src->size();
      if (i < 0 || i >= (int64_t)src->size())
        return std::nullopt;
      out.push_back((*src)[i]);
    }
    return out;
  }
  if (auto slice = dyn_cast<SliceOp>(def)) {
    auto src = getPartialIntValues(slice.getData());
    auto starts = getConstantIntValues(slice.getStarts());
    auto ends = getConstantIntValues(slice.getEnds());
    if (!src || !starts || !ends || starts->size() != 1 || ends->size() != 1)
      return std::nullopt;
    int64_t step = 1;
    if (slice.getSteps()) {
      auto steps = getConstantIntValues(slice.getSteps());
      if (!steps || steps->size() != 1)
        return std::nullopt;
      step = (*steps)[0];
    }
    if (step != 1)
      return std::nullopt;
    int64_t n = src->size();
    int64_t s = (*starts)[0], e = (*ends)[0];
    if (s < 0) s += n;
    if (e < 0) e += n;
    s = std::clamp<int64_t>(s, 0, n);
    e = std::clamp<int64_t>(e, 0, n);
    if (e < s) e = s;
    return SmallVector<int64_t>(ArrayRef<int64_t>(*src).slice(s, e - s));
  }
  // Elementwise arithmetic and selection on shape values (the "-1 → 1"
  // idiom exporters write: Where(Equal(shape, -1), ones, shape)).
  auto binary = [&](Value a, Value b, function_ref<int64_t(int64_t, int64_t)> fn)
      -> std::optional<SmallVector<int64_t>> {
    auto x = getPartialIntValues(a), y = getPartialIntValues(b);
    if (!x || !y || (x->size() != y->size() && x->size() != 1 && y->size() != 1))
      return std::nullopt;
    size_t n = std::max(x->size(), y->size());
    SmallVector<int64_t> out;
    for (size_t i = 0; i < n; ++i) {
      int64_t u = (*x)[x->size() == 1 ? 0 : i], v = (*y)[y->size() == 1 ? 0 : i];
      out.push_back(u == ShapedType::kDynamic || v == ShapedType::kDynamic ? ShapedType::kDynamic
                                                                         : fn(u, v));
    }
    return out;
  };
  if (auto op = dyn_cast<MulOp>(def))
    return binary(op.getA(), op.getB(), [](int64_t u, int64_t v) { return u * v; });
  if (auto op = dyn_cast<AddOp>(def))
    return binary(op.getA(), op.getB(), [](int64_t u, int64_t v) { return u + v; });
  if (auto op = dyn_cast<SubOp>(def))
    return binary(op.getA(), op.getB(), [](int64_t u, int64_t v) { return u - v; });
  if (auto op = dyn_cast<EqualOp>(def))
    return binary(op.getA(), op.getB(), [](int64_t u, int64_t v) -> int64_t { return u == v; });
  if (auto op = dyn_cast<WhereOp>(def)) {
    auto c = getPartialIntValues(op.getCondition());
    auto x = getPartialIntValues(op.getX()), y = getPartialIntValues(op.getY());
    if (!c || !x || !y)
      return std::nullopt;
    size_t n = std::max({c->size(), x->size(), y->size()});
    auto at = [&](const SmallVector<int64_t> &v, size_t i) { return v[v.size() == 1 ? 0 : i]; };
    SmallVector<int64_t> out;
    for (size_t i = 0; i < n; ++i) {
      int64_t ci = at(*c, i);
      out.push_back(ci == ShapedType::kDynamic ? ShapedType::kDynamic
                                               : (ci ? at(*x, i) : at(*y, i)));
    }
    return out;
  }
  if (auto op = dyn_cast<ReshapeOp>(def)) {
    auto ty = dyn_cast<RankedTensorType>(op.getType());
    if (ty && ty.getRank() <= 1)
      return getPartialIntValues(op.getData());
    return std::nullopt;
  }
  if (auto op = dyn_cast<ConstantOfShapeOp>(def)) {
    auto shape = getConstantIntValues(op.getInput());
    if (!shape || shape->size() != 1 || !op.getValue())
      return std::nullopt;
    auto v = getIntValues(*op.getValue());
    if (!v || v->size() != 1)
      return std::nullopt;
    return SmallVector<int64_t>((*shape)[0], (*v)[0]);
  }
  // A 1-d tensor of statically known length whose values are unknown.
  if (auto ty = dyn_cast<RankedTensorType>(value.getType()))
    if (ty.getRank() == 1 && !ty.isDynamicDim(0))
      return SmallVector<int64_t>(ty.getDimSize(0), ShapedType::kDynamic);
  return std::nullopt;
}

std::optional<std::pair<Value, int64_t>> mlir::glm::getShapeEntrySource(Value shape,
                                                                       int64_t index) {
  for (int depth = 0; depth < 32 && shape; ++depth) {
    Operation *def = shape.getDefiningOp();
    if (!def)
      return std::nullopt;
    if (auto s = dyn_cast<ShapeOp>(def))
      return std::make_pair(s.getData(), s.getDimRange().first + index);
    if (auto c = dyn_cast<CastOp>(def)) {
      shape = c.getInput();
    } else if (auto u = dyn_cast<UnsqueezeOp>(def)) {
      // A scalar made 1-d: entry 0 is the scalar.
      auto in = rankedOrNull(u.getData());
      if (!in || in.getRank() != 0 || index != 0)
        return std::nullopt;
      shape = u.getData();
    } else if (auto g = dyn_cast<GatherOp>(def)) {
      auto idx = getConstantIntValues(g.getIndices());
      auto data = rankedOrNull(g.getData());
      auto out = rankedOrNull(g.getOutput());
      if (!idx || !data || data.getRank() != 1 || !out || g.getAxis() != 0 ||
          index >= (int64_t)idx->size() || (out.getRank() == 0 && index != 0))
        return std::nullopt;
      int64_t k = (*idx)[index];
      if (k < 0 && !data.isDynamicDim(0))
        k += data.getDimSize(0);
      if (k < 0)
        return std::nullopt;
      shape = g.getData();
      index = k;
    } else if (auto c = dyn_cast<ConcatOp>(def)) {
      Value next;
      for (Value in : c.getInputs()) {
        auto t = rankedOrNull(in);
        if (!t || t.getRank() != 1 || t.isDynamicDim(0))
          return std::nullopt;
        if (index < t.getDimSize(0)) {
          next = in;
          break;
        }
        index -= t.getDimSize(0);
      }
      if (!next)
        return std::nullopt;
      shape = next;
    } else if (auto w = dyn_cast<WhereOp>(def)) {
      // A constant condition picks the entry from one side (a shape with
      // some entries overwritten, e.g. -1 replaced by 1 before an Expand).
      auto cond = getConstantIntValues(w.getCondition());
      if (!cond || cond->empty())
        return std::nullopt;
      bool pick = (*cond)[cond->size() == 1 ? 0 : index] != 0;
      Value side = pick ? w.getX() : w.getY();
      auto t = rankedOrNull(side);
      if (!t || t.getRank() != 1 || t.isDynamicDim(0))
        return std::nullopt;
      if (t.getDimSize(0) == 1)
        index = 0;
      shape = side;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

namespace {
/// One step back from dim `i` of `v` to a dim of an operand that has the
/// same size, or nullopt.
std::optional<std::pair<Value, int64_t>> sameDimOfOperand(Value v, int64_t i) {
  using namespace mlir::glm;
  Operation *def = v.getDefiningOp();
  auto t = rankedOrNull(v);
  if (!def || !t || i < 0 || i >= t.getRank())
    return std::nullopt;
  int64_t r = t.getRank();
  if (def->hasTrait<GLMElementwise>()) {
    // Only a statically-1 dim broadcasts; any other operand dim is this one.
    for (Value in : def->getOperands()) {
      auto it = rankedOrNull(in);
      if (!it)
        continue;
      int64_t k = i - (r - it.getRank());
      if (k >= 0 && it.getDimSize(k) != 1)
        return std::make_pair(in, k);
    }
    return std::nullopt;
  }
  if (isa<SoftmaxOp, LogSoftmaxOp, LayerNormalizationOp, BatchNormalizationOp>(def))
    return std::make_pair(def->getOperand(0), i);
  if (auto tr = dyn_cast<TransposeOp>(def)) {
    SmallVector<int64_t> perm = tr.getPermOrDefault();
    if (i < (int64_t)perm.size())
      return std::make_pair(tr.getData(), perm[i]);
    return std::nullopt;
  }
  if (auto mm = dyn_cast<MatMulOp>(def)) {
    auto a = rankedOrNull(mm.getA()), b = rankedOrNull(mm.getB());
    if (!a || !b || a.getRank() < 2 || b.getRank() < 2)
      return std::nullopt;
    if (i == r - 1)
      return std::make_pair(mm.getB(), b.getRank() - 1);
    if (i == r - 2)
      return std::make_pair(mm.getA(), a.getRank() - 2);
    // Batch dims: from whichever operand has them not statically 1.
    for (auto [val, ty] : {std::make_pair(mm.getA(), a), std::make_pair(mm.getB(), b)}) {
      int64_t k = i - (r - ty.getRank());
      if (k >= 0 && ty.getDimSize(k) != 1)
        return std::make_pair(val, k);
    }
    return std::nullopt;
  }
  if (auto c = dyn_cast<ConcatOp>(def)) {
    auto axis = normalizeAxis(c.getAxis(), r);
    if (axis && *axis != i && !c.getInputs().empty())
      return std::make_pair(c.getInputs().front(), i);
    return std::nullopt;
  }
  if (auto sl = dyn_cast<SliceOp>(def)) {
    // Dims the slice does not name keep their size.
    SmallVector<int64_t> axes;
    if (sl.getAxes()) {
      auto a = getConstantIntValues(sl.getAxes());
      if (!a)
        return std::nullopt;
      axes = *a;
    } else {
      auto starts = rankedOrNull(sl.getStarts());
      if (!starts || starts.isDynamicDim(0))
        return std::nullopt;
      for (int64_t k = 0; k < starts.getDimSize(0); ++k)
        axes.push_back(k);
    }
    for (int64_t ax : axes)
      if (normalizeAxis(ax, r) == i)
        return std::nullopt;
    return std::make_pair(sl.getData(), i);
  }
  if (auto u = dyn_cast<UnsqueezeOp>(def)) {
    SmallVector<int64_t> axes;
    for (int64_t ax : toI64(u.getAxes()))
      if (auto n = normalizeAxis(ax, r))
        axes.push_back(*n);
    if (llvm::is_contained(axes, i))
      return std::nullopt;
    int64_t before = llvm::count_if(axes, [&](int64_t ax) { return ax < i; });
    return std::make_pair(u.getData(), i - before);
  }
  if (auto ex = dyn_cast<ExpandOp>(def)) {
    // Only statically-1 input dims are broadcast.
    auto in = rankedOrNull(ex.getInput());
    if (!in)
      return std::nullopt;
    int64_t k = i - (r - in.getRank());
    if (k >= 0 && in.getDimSize(k) != 1)
      return std::make_pair(ex.getInput(), k);
    return std::nullopt;
  }
  if (auto rs = dyn_cast<ReshapeOp>(def)) {
    auto target = getPartialIntValues(rs.getShape());
    if (!target || i >= (int64_t)target->size())
      return std::nullopt;
    if ((*target)[i] == 0 && !rs.getAllowzero())
      return std::make_pair(rs.getData(), i);
    if (ShapedType::isDynamic((*target)[i]))
      return getShapeEntrySource(rs.getShape(), i);
    return std::nullopt;
  }
  return std::nullopt;
}

/// The furthest (value, dim) that dim `i` of `v` provably equals.
std::pair<Value, int64_t> dimRoot(Value v, int64_t i) {
  for (int depth = 0; depth < 256; ++depth) {
    auto next = sameDimOfOperand(v, i);
    if (!next)
      break;
    std::tie(v, i) = *next;
  }
  return {v, i};
}
} // namespace

bool mlir::glm::isSameDim(Value a, int64_t i, Value b, int64_t j) {
  return dimRoot(a, i) == dimRoot(b, j);
}
