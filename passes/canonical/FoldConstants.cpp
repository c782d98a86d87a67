//===- FoldConstants.cpp - glm-fold-constants -----------------------------===//
//
// Evaluates glm ops whose operands are all constants, for tensors of any
// size, writing the results as new dense_resource blobs. Op folders cover
// small shape arithmetic; this pass covers weights (transposed, scaled,
// reshaped, cast). Reshape-like ops reuse the operand's blob without a copy.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

namespace mlir::glm {
#define GEN_PASS_DEF_FOLDCONSTANTSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;

namespace {

/// A constant unpacked to doubles (floats and ints up to 2^53 are exact).
struct Values {
  RankedTensorType type;
  SmallVector<double> v;
};

std::optional<Values> load(Value value) {
  ElementsAttr attr = getConstantElements(value);
  auto ty = attr ? dyn_cast<RankedTensorType>(attr.getType()) : nullptr;
  if (!ty || !ty.hasStaticShape())
    return std::nullopt;
  auto v = getValuesAsDouble(attr);
  if (!v)
    return std::nullopt;
  return Values{ty, std::move(*v)};
}

/// Flat index into a broadcast operand.
int64_t broadcastIndex(int64_t flat, ArrayRef<int64_t> out, ArrayRef<int64_t> in) {
  int64_t idx = 0, stride = 1, off = out.size() - in.size();
  for (int64_t d = out.size() - 1; d >= 0; --d) {
    int64_t c = flat % out[d];
    flat /= out[d];
    if (d >= off) {
      int64_t id = d - off;
      if (in[id] != 1)
        idx += c * stride;
      stride *= in[id];
    }
  }
  return idx;
}

struct FoldConstantsPass : glm::impl::FoldConstantsPassBase<FoldConstantsPass> {
  using FoldConstantsPassBase::FoldConstantsPassBase;

  /// The evaluated result of `op`, or null if it is not foldable here.
  ElementsAttr evaluate(Operation *op, RankedTensorType resTy, StringRef name) {
    // Reshape-like: same bytes, new type, no copy for resource blobs.
    if (isa<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp>(op)) {
      ElementsAttr in = getConstantElements(op->getOperand(0));
      if (auto res = dyn_cast_or_null<DenseResourceElementsAttr>(in))
        return DenseResourceElementsAttr::get(resTy, res.getRawHandle());
      if (auto dense = dyn_cast_or_null<DenseElementsAttr>(in))
        return dense.reshape(resTy);
      return {};
    }
    if (auto tr = dyn_cast<TransposeOp>(op)) {
      auto in = load(tr.getData());
      if (!in)
        return {};
      auto perm = tr.getPermOrDefault();
      ArrayRef<int64_t> inShape = in->type.getShape();
      int64_t rank = inShape.size(), n = resTy.getNumElements();
      SmallVector<int64_t> inStrides(rank, 1);
      for (int64_t d = rank - 2; d >= 0; --d)
        inStrides[d] = inStrides[d + 1] * inShape[d + 1];
      SmallVector<double> out(n);
      SmallVector<int64_t> coord(rank, 0);
      for (int64_t i = 0; i < n; ++i) {
        int64_t src = 0;
        for (int64_t d = 0; d < rank; ++d)
          src += coord[d] * inStrides[perm[d]];
        out[i] = in->v[src];
        for (int64_t d = rank - 1; d >= 0; --d) {
          if (++coord[d] < resTy.getDimSize(d))
            break;
          coord[d] = 0;
        }
      }
      return makeResourceElements(resTy, out, name);
    }
    if (auto slice = dyn_cast<SliceOp>(op)) {
      // Strided (also reversed) slices of weights: ConvTranspose's flip.
      auto in = load(slice.getData());
      auto starts = getConstantIntValues(slice.getStarts());
      auto ends = getConstantIntValues(slice.getEnds());
      if (!in || !starts || !ends || starts->size() != ends->size())
        return {};
      ArrayRef<int64_t> inShape = in->type.getShape();
      int64_t rank = inShape.size();
      SmallVector<int64_t> axes, steps(starts->size(), 1);
      if (slice.getAxes()) {
        auto a = getConstantIntValues(slice.getAxes());
        if (!a || a->size() != starts->size())
          return {};
        for (int64_t v : *a) {
          auto n = normalizeAxis(v, rank);
          if (!n)
            return {};
          axes.push_back(*n);
        }
      } else {
        for (int64_t i = 0; i < (int64_t)starts->size(); ++i)
          axes.push_back(i);
      }
      if (slice.getSteps()) {
        auto s = getConstantIntValues(slice.getSteps());
        if (!s || s->size() != starts->size() || llvm::is_contained(*s, 0))
          return {};
        steps = *s;
      }
      // First source index and step per dim (ONNX clamping).
      SmallVector<int64_t> first(rank, 0), step(rank, 1);
      for (size_t i = 0; i < axes.size(); ++i) {
        int64_t d = axes[i], n = inShape[d], s = (*starts)[i];
        if (s < 0)
          s += n;
        first[d] = steps[i] > 0 ? std::clamp<int64_t>(s, 0, n) : std::clamp<int64_t>(s, 0, n - 1);
        step[d] = steps[i];
      }
      SmallVector<int64_t> inStrides(rank, 1);
      for (int64_t d = rank - 2; d >= 0; --d)
        inStrides[d] = inStrides[d + 1] * inShape[d + 1];
      int64_t n = resTy.getNumElements();
      SmallVector<double> out(n);
      SmallVector<int64_t> coord(rank, 0);
      for (int64_t i = 0; i < n; ++i) {
        int64_t src = 0;
        for (int64_t d = 0; d < rank; ++d)
          src += (first[d] + coord[d] * step[d]) * inStrides[d];
        out[i] = in->v[src];
        for (int64_t d = rank - 1; d >= 0; --d) {
          if (++coord[d] < resTy.getDimSize(d))
            break;
          coord[d] = 0;
        }
      }
      return makeResourceElements(resTy, out, name);
    }
    if (auto cast = dyn_cast<CastOp>(op)) {
      Type et = resTy.getElementType();
      // float8/float4/int4 results round and saturate (NarrowTypes.cpp):
      // computed by the model, not here.
      if (isNarrowType(et))
        return {};
      auto in = load(cast.getInput());
      if (!in)
        return {};
      for (double &x : in->v) {
        if (et.isInteger(1))
          x = x != 0.0;
        else if (isa<IntegerType>(et))
          x = std::trunc(x);
      }
      return makeResourceElements(resTy, in->v, name);
    }
    if (op->hasTrait<glm::GLMElementwise>() && op->getNumResults() == 1) {
      SmallVector<Values> ins;
      for (Value v : op->getOperands()) {
        auto l = load(v);
        if (!l)
          return {};
        ins.push_back(std::move(*l));
      }
      std::function<double(ArrayRef<double>)> fn;
      if (isa<AddOp>(op)) fn = [](ArrayRef<double> a) { return a[0] + a[1]; };
      else if (isa<SubOp>(op)) fn = [](ArrayRef<double> a) { return a[0] - a[1]; };
      else if (isa<MulOp>(op)) fn = [](ArrayRef<double> a) { return a[0] * a[1]; };
      else if (isa<DivOp>(op) && isa<FloatType>(resTy.getElementType()))
        fn = [](ArrayRef<double> a) { return a[0] / a[1]; };
      else if (isa<DivOp>(op)) {
        // Integer division truncates (ONNX Div on integers); x / 0 is not folded.
        if (llvm::any_of(ins.back().v, [](double x) { return x == 0.0; }))
          return {};
        fn = [](ArrayRef<double> a) { return std::trunc(a[0] / a[1]); };
      }
      else if (isa<PowOp>(op)) fn = [](ArrayRef<double> a) { return std::pow(a[0], a[1]); };
      else if (isa<MaxOp>(op)) fn = [](ArrayRef<double> a) { return std::max(a[0], a[1]); };
      else if (isa<MinOp>(op)) fn = [](ArrayRef<double> a) { return std::min(a[0], a[1]); };
      else if (isa<NegOp>(op)) fn = [](ArrayRef<double> a) { return -a[0]; };
      else if (isa<SqrtOp>(op)) fn = [](ArrayRef<double> a) { return std::sqrt(a[0]); };
      else if (isa<ReciprocalOp>(op)) fn = [](ArrayRef<double> a) { return 1.0 / a[0]; };
      else if (isa<ExpOp>(op)) fn = [](ArrayRef<double> a) { return std::exp(a[0]); };
      else if (isa<WhereOp>(op)) fn = [](ArrayRef<double> a) { return a[0] != 0.0 ? a[1] : a[2]; };
      else return {};
      int64_t n = resTy.getNumElements();
      SmallVector<double> out(n);
      SmallVector<double> args(ins.size());
      for (int64_t i = 0; i < n; ++i) {
        for (size_t k = 0; k < ins.size(); ++k)
          args[k] = ins[k].v[broadcastIndex(i, resTy.getShape(), ins[k].type.getShape())];
        out[i] = fn(args);
      }
      // Round float results through the result precision as the op would.
      return makeResourceElements(resTy, out, name);
    }
    return {};
  }

  void foldKnownShapeValues(IRRewriter &rewriter, Operation *op) {
    auto resTy = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!resTy || !resTy.hasStaticShape() || resTy.getRank() > 1 ||
        !isa<IntegerType>(resTy.getElementType()) || resTy.getNumElements() > 16)
      return;
    std::optional<SmallVector<int64_t>> values = getPartialIntValues(op->getResult(0));
    if (!values || (int64_t)values->size() != resTy.getNumElements() ||
        llvm::any_of(*values, [](int64_t v) { return ShapedType::isDynamic(v); }))
      return;
    rewriter.setInsertionPoint(op);
    auto cst = ConstantOp::create(rewriter, op->getLoc(), resTy, makeIntElements(resTy, *values));
    rewriter.replaceOp(op, cst.getResult());
  }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(func.getContext());
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) {
      if (op->getDialect() && isa<GLMDialect>(op->getDialect()) && !isa<ConstantOp>(op))
        ops.push_back(op);
    });
    unsigned counter = 0;
    for (Operation *op : ops) {
      if (op->getNumResults() == 1 && op->getNumOperands() > 0 &&
          !llvm::all_of(op->getOperands(), [](Value v) { return getConstantElements(v); })) {
        // Shape arithmetic whose every value is known although an operand
        // is not constant: gather(shape(x), 2) where only dim 2 of x is static.
        foldKnownShapeValues(rewriter, op);
        continue;
      }
      if (op->getNumResults() != 1 || op->getNumOperands() == 0)
        continue;
      auto resTy = dyn_cast<RankedTensorType>(op->getResult(0).getType());
      if (!resTy || !resTy.hasStaticShape() || !resTy.getElementType().isIntOrFloat())
        continue;
      int64_t bytes = resTy.getNumElements() * std::max<int64_t>(1, resTy.getElementTypeBitWidth() / 8);
      if (bytes > maxBytes)
        continue;
      std::string name = "folded";
      if (auto nameLoc = dyn_cast<NameLoc>(op->getLoc()))
        name = nameLoc.getName().str();
      ElementsAttr value = evaluate(op, resTy, name + "_" + std::to_string(counter));
      if (!value)
        continue;
      ++counter;
      rewriter.setInsertionPoint(op);
      auto cst = ConstantOp::create(rewriter, op->getLoc(), resTy, value);
      rewriter.replaceOp(op, cst.getResult());
    }
  }
};
} // namespace
