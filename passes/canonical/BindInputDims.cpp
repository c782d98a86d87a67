//===- BindInputDims.cpp - glm-bind-input-dims ----------------------------===//
//
// The compiled code reads an operand with a dynamic dim as if it had the
// size of the op's result there: only statically-1 dims broadcast. A
// model input whose dynamic dim meets a static dim (x[N, 4] + w[3, 4]),
// or another input's dynamic dim (the K of x[N, K] @ w[K2, 5]), must
// therefore have that size at run time, and a run with any other (1
// included, which ONNX would broadcast) read out of bounds before.
//
// This pass follows each model input's dynamic dims forward through the
// ops that carry a dim unchanged, unites the dims an op needs equal, and
// then
//   - fixes an input dim that must equal a constant (the argument type
//     becomes static there, so the runtime refuses other sizes with a
//     status naming the input), with a warning at the node that needs it;
//   - numbers the classes of input dims that must agree
//     (`glm.dim_symbols` on the argument: class id or -1 per dim), which
//     the artifact's input descriptors carry as dims -2, -3, ... and the
//     runtime checks before a run.
// Dims it cannot follow (computed shapes) keep today's behaviour.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::glm {
#define GEN_PASS_DEF_BINDINPUTDIMSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;

namespace {

/// One dynamic dim of a model input.
struct InputDim {
  unsigned arg;
  int64_t dim;
  unsigned parent;
  int64_t fixed = ShapedType::kDynamic; ///< the size it must have
  Operation *fixedBy = nullptr;
};

class DimBinder {
public:
  explicit DimBinder(func::FuncOp func) : func(func) {}

  LogicalResult run();

private:
  /// Class of dim `d` of `v`: an input dim id, or -1 (static or unknown).
  int classOf(Value v, int64_t d) const {
    auto it = classes.find(v);
    if (it == classes.end() || d < 0 || d >= (int64_t)it->second.size())
      return -1;
    return it->second[d] < 0 ? -1 : (int)find(it->second[d]);
  }
  unsigned find(unsigned s) const {
    while (dims[s].parent != s)
      s = dims[s].parent = dims[dims[s].parent].parent;
    return s;
  }
  LogicalResult unite(int a, int b, Operation *op);
  LogicalResult fix(int s, int64_t size, Operation *op);
  /// The dims `dims` (operand, dim) must be equal, or broadcast where a
  /// dim is statically 1 and `broadcast` is set; returns the joint class.
  FailureOr<int> join(ArrayRef<std::pair<Value, int64_t>> dims, bool broadcast, Operation *op);
  void setClasses(Value v, SmallVector<int> c) { classes[v] = std::move(c); }
  LogicalResult visit(Operation *op);
  LogicalResult visitElementwise(Operation *op);
  std::string describe(unsigned s) const;

  mutable func::FuncOp func;
  mutable std::vector<InputDim> dims;
  llvm::DenseMap<Value, SmallVector<int>> classes;
};

std::string DimBinder::describe(unsigned s) const {
  const InputDim &d = dims[s];
  std::string name = "#" + std::to_string(d.arg);
  if (auto n = func.getArgAttrOfType<StringAttr>(d.arg, "glm.name"))
    name = n.str();
  std::string text = "input '" + name + "' dim " + std::to_string(d.dim);
  if (auto params = func.getArgAttrOfType<ArrayAttr>(d.arg, "glm.dim_params"))
    if (d.dim < (int64_t)params.size())
      if (auto p = dyn_cast<StringAttr>(params[d.dim]); p && !p.getValue().empty())
        text += " ('" + p.str() + "')";
  return text;
}

LogicalResult DimBinder::fix(int s, int64_t size, Operation *op) {
  if (s < 0)
    return success();
  s = find(s);
  if (ShapedType::isDynamic(dims[s].fixed)) {
    dims[s].fixed = size;
    dims[s].fixedBy = op;
    return success();
  }
  if (dims[s].fixed == size)
    return success();
  InFlightDiagnostic diag = op->emitError()
                            << describe(s) << " must be " << size << " here, but node '"
                            << getNodeName(dims[s].fixedBy->getLoc()) << "' needs it to be "
                            << dims[s].fixed << "; the model cannot run with any size of it";
  return failure();
}

LogicalResult DimBinder::unite(int a, int b, Operation *op) {
  if (a < 0 || b < 0)
    return success();
  a = find(a);
  b = find(b);
  if (a == b)
    return success();
  if (a > b)
    std::swap(a, b);
  int64_t fb = dims[b].fixed;
  Operation *by = dims[b].fixedBy;
  dims[b].parent = a;
  if (!ShapedType::isDynamic(fb))
    return fix(a, fb, by ? by : op);
  return success();
}

FailureOr<int> DimBinder::join(ArrayRef<std::pair<Value, int64_t>> operandDims, bool broadcast,
                               Operation *op) {
  int cls = -1;
  int64_t size = ShapedType::kDynamic;
  for (auto [v, d] : operandDims) {
    auto t = rankedOrNull(v);
    if (!t || d < 0 || d >= t.getRank())
      continue;
    int64_t n = t.getDimSize(d);
    if (!ShapedType::isDynamic(n)) {
      if (!(broadcast && n == 1))
        size = n;
      continue;
    }
    int c = classOf(v, d);
    if (c < 0)
      continue;
    if (cls < 0)
      cls = c;
    else if (failed(unite(cls, c, op)))
      return failure();
    cls = find(cls);
  }
  if (cls >= 0 && !ShapedType::isDynamic(size) && failed(fix(cls, size, op)))
    return failure();
  return cls < 0 ? -1 : (int)find(cls);
}

LogicalResult DimBinder::visitElementwise(Operation *op) {
  auto rt = rankedOrNull(op->getResult(0));
  if (!rt)
    return success();
  int64_t r = rt.getRank();
  SmallVector<int> out(r, -1);
  for (int64_t d = 0; d < r; ++d) {
    SmallVector<std::pair<Value, int64_t>> ds;
    for (Value in : op->getOperands())
      if (auto it = rankedOrNull(in))
        ds.push_back({in, d - (r - it.getRank())});
    auto cls = join(ds, /*broadcast=*/true, op);
    if (failed(cls))
      return failure();
    if (rt.isDynamicDim(d))
      out[d] = *cls;
  }
  setClasses(op->getResult(0), out);
  return success();
}

LogicalResult DimBinder::visit(Operation *op) {
  if (op->getNumResults() == 0)
    return success();
  Value res = op->getResult(0);
  auto rt = rankedOrNull(res);
  if (!rt)
    return success();
  int64_t r = rt.getRank();
  auto copyFrom = [&](Value src, ArrayRef<int64_t> srcDims) {
    SmallVector<int> out(r, -1);
    for (int64_t d = 0; d < r && d < (int64_t)srcDims.size(); ++d)
      if (rt.isDynamicDim(d) && srcDims[d] >= 0)
        out[d] = classOf(src, srcDims[d]);
    setClasses(res, out);
  };
  auto identity = [&](int64_t n) {
    SmallVector<int64_t> ids;
    for (int64_t d = 0; d < n; ++d)
      ids.push_back(d);
    return ids;
  };

  if (op->hasTrait<GLMElementwise>() && op->getNumResults() == 1)
    return visitElementwise(op);

  if (isa<CastOp, SoftmaxOp, LogSoftmaxOp, LayerNormalizationOp, BatchNormalizationOp, RMSNormOp,
          CumSumOp, TriluOp>(op)) {
    copyFrom(op->getOperand(0), identity(r));
    return success();
  }

  if (auto tr = dyn_cast<TransposeOp>(op)) {
    copyFrom(tr.getData(), tr.getPermOrDefault());
    return success();
  }

  if (auto mm = dyn_cast<MatMulOp>(op)) {
    auto a = rankedOrNull(mm.getA()), b = rankedOrNull(mm.getB());
    if (!a || !b || a.getRank() < 2 || b.getRank() < 2 || r < 2)
      return success();
    // The contracted dims are equal; batch dims broadcast.
    if (failed(join({{mm.getA(), a.getRank() - 1}, {mm.getB(), b.getRank() - 2}}, false, op)))
      return failure();
    SmallVector<int> out(r, -1);
    for (int64_t d = 0; d < r - 2; ++d) {
      auto cls = join({{mm.getA(), d - (r - a.getRank())}, {mm.getB(), d - (r - b.getRank())}},
                      true, op);
      if (failed(cls))
        return failure();
      out[d] = rt.isDynamicDim(d) ? *cls : -1;
    }
    if (rt.isDynamicDim(r - 2))
      out[r - 2] = classOf(mm.getA(), a.getRank() - 2);
    if (rt.isDynamicDim(r - 1))
      out[r - 1] = classOf(mm.getB(), b.getRank() - 1);
    setClasses(res, out);
    return success();
  }

  if (auto g = dyn_cast<GemmOp>(op)) {
    auto a = rankedOrNull(g.getA()), b = rankedOrNull(g.getB());
    if (!a || !b || a.getRank() != 2 || b.getRank() != 2)
      return success();
    int64_t ak = g.getTransA() ? 0 : 1, bk = g.getTransB() ? 1 : 0;
    if (failed(join({{g.getA(), ak}, {g.getB(), bk}}, false, op)))
      return failure();
    SmallVector<int> out{rt.isDynamicDim(0) ? classOf(g.getA(), 1 - ak) : -1,
                         rt.isDynamicDim(1) ? classOf(g.getB(), 1 - bk) : -1};
    setClasses(res, out);
    return success();
  }

  if (isa<LinearOp, GatedMLPOp>(op)) {
    // X [..., K] against W [K, N]: K must match; leading dims pass.
    Value x = op->getOperand(0), w = op->getOperand(1);
    auto xt = rankedOrNull(x);
    if (!xt || xt.getRank() != r)
      return success();
    if (failed(join({{x, xt.getRank() - 1}, {w, 0}}, false, op)))
      return failure();
    SmallVector<int64_t> src = identity(r);
    src[r - 1] = -1;
    copyFrom(x, src);
    return success();
  }

  if (auto conv = dyn_cast<ConvOp>(op)) {
    auto xt = rankedOrNull(conv.getX()), wt = rankedOrNull(conv.getW());
    if (!xt || !wt || xt.getRank() < 2 || wt.getRank() < 2)
      return success();
    // Input channels = W's channels per group x groups.
    if (!wt.isDynamicDim(1) && xt.isDynamicDim(1))
      if (failed(fix(classOf(conv.getX(), 1), wt.getDimSize(1) * conv.getGroup(), op)))
        return failure();
    SmallVector<int64_t> src(r, -1);
    src[0] = 0;
    copyFrom(conv.getX(), src);
    return success();
  }

  if (isa<GlobalAveragePoolOp, GlobalMaxPoolOp, MaxPoolOp, AveragePoolOp>(op)) {
    SmallVector<int64_t> src(r, -1);
    src[0] = 0;
    if (r > 1)
      src[1] = 1;
    copyFrom(op->getOperand(0), src);
    return success();
  }

  if (auto c = dyn_cast<ConcatOp>(op)) {
    auto axis = normalizeAxis(c.getAxis(), r);
    if (!axis)
      return success();
    SmallVector<int> out(r, -1);
    for (int64_t d = 0; d < r; ++d) {
      if (d == *axis)
        continue;
      SmallVector<std::pair<Value, int64_t>> ds;
      for (Value in : c.getInputs())
        ds.push_back({in, d});
      auto cls = join(ds, false, op);
      if (failed(cls))
        return failure();
      out[d] = rt.isDynamicDim(d) ? *cls : -1;
    }
    setClasses(res, out);
    return success();
  }

  if (auto u = dyn_cast<UnsqueezeOp>(op)) {
    SmallVector<int64_t> axes;
    for (int64_t a : toI64(u.getAxes()))
      if (auto n = normalizeAxis(a, r))
        axes.push_back(*n);
    SmallVector<int64_t> src;
    for (int64_t d = 0, k = 0; d < r; ++d)
      src.push_back(llvm::is_contained(axes, d) ? -1 : k++);
    copyFrom(u.getData(), src);
    return success();
  }

  if (auto g = dyn_cast<GatherOp>(op)) {
    auto dt = rankedOrNull(g.getData()), it = rankedOrNull(g.getIndices());
    auto axis = dt ? normalizeAxis(g.getAxis(), dt.getRank()) : std::nullopt;
    if (!dt || !it || !axis || r != dt.getRank() - 1 + it.getRank())
      return success();
    SmallVector<int> out(r, -1);
    for (int64_t d = 0; d < r; ++d) {
      if (!rt.isDynamicDim(d))
        continue;
      if (d < *axis)
        out[d] = classOf(g.getData(), d);
      else if (d < *axis + it.getRank())
        out[d] = classOf(g.getIndices(), d - *axis);
      else
        out[d] = classOf(g.getData(), d - it.getRank() + 1);
    }
    setClasses(res, out);
    return success();
  }
  // Anything else: its dims are not followed.
  return success();
}

LogicalResult DimBinder::run() {
  Block &entry = func.getBody().front();
  for (BlockArgument arg : entry.getArguments()) {
    auto t = rankedOrNull(arg);
    if (!t)
      continue;
    SmallVector<int> c(t.getRank(), -1);
    for (int64_t d = 0; d < t.getRank(); ++d)
      if (t.isDynamicDim(d)) {
        c[d] = dims.size();
        dims.push_back({arg.getArgNumber(), d, (unsigned)dims.size()});
      }
    setClasses(arg, c);
  }
  if (dims.empty())
    return success();
  WalkResult walk = func.walk([&](Operation *op) {
    return failed(visit(op)) ? WalkResult::interrupt() : WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  // Fixed dims: static argument types. Others: classes of two or more
  // dims get an id, in argument order.
  llvm::MapVector<unsigned, int64_t> ids;
  llvm::DenseMap<unsigned, unsigned> members;
  for (unsigned s = 0; s < dims.size(); ++s)
    ++members[find(s)];
  SmallVector<Type> argTypes(func.getArgumentTypes());
  bool changed = false;
  for (unsigned s = 0; s < dims.size(); ++s) {
    const InputDim &d = dims[s];
    unsigned root = find(s);
    auto t = cast<RankedTensorType>(argTypes[d.arg]);
    if (!ShapedType::isDynamic(dims[root].fixed)) {
      SmallVector<int64_t> shape(t.getShape());
      shape[d.dim] = dims[root].fixed;
      argTypes[d.arg] = t.clone(shape);
      changed = true;
      dims[root].fixedBy->emitWarning()
          << describe(s) << " is fixed to " << dims[root].fixed
          << ": this node needs that size (the compiled code broadcasts only dims that are 1 "
             "at compile time); the artifact refuses other sizes of it";
      continue;
    }
    if (members[root] < 2 || ids.size() > 65535)
      continue;
    int64_t id = ids.insert({root, (int64_t)ids.size()}).first->second;
    SmallVector<int64_t> sym(t.getRank(), -1);
    if (auto old = func.getArgAttrOfType<DenseI64ArrayAttr>(d.arg, "glm.dim_symbols"))
      sym.assign(old.asArrayRef().begin(), old.asArrayRef().end());
    sym[d.dim] = id;
    func.setArgAttr(d.arg, "glm.dim_symbols", DenseI64ArrayAttr::get(func.getContext(), sym));
  }
  if (changed) {
    for (auto [arg, ty] : llvm::zip(entry.getArguments(), argTypes))
      arg.setType(ty);
    func.setFunctionType(FunctionType::get(func.getContext(), argTypes,
                                           func.getFunctionType().getResults()));
  }
  return success();
}

struct BindInputDimsPass : glm::impl::BindInputDimsPassBase<BindInputDimsPass> {
  void runOnOperation() override {
    if (!getOperation()->hasAttr("glm.entry"))
      return;
    if (failed(DimBinder(getOperation()).run()))
      signalPassFailure();
  }
};

} // namespace
