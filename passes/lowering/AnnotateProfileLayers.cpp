//===- AnnotateProfileLayers.cpp - glm-annotate-profile-layers ------------===//
//
// What the per-layer profile shows next to each ONNX node's time, taken
// from the glm ops while they still exist: op names, output shape, FLOPs
// and bytes moved, as the module attribute `glm.profile_layers`.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "llvm/ADT/MapVector.h"

#include <map>

namespace mlir::glm {
#define GEN_PASS_DEF_ANNOTATEPROFILELAYERSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

/// The shape of `v` with dynamic dims as 1 (exact for the usual profiling
/// run, batch 1), or nullopt when it is not a ranked tensor.
std::optional<SmallVector<int64_t>> unitShape(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t)
    return std::nullopt;
  SmallVector<int64_t> dims(t.getShape());
  for (int64_t &d : dims)
    if (ShapedType::isDynamic(d))
      d = 1;
  return dims;
}

/// Bytes of a tensor value (dynamic dims as 1), 0 for other values.
int64_t unitBytes(Value v) {
  auto shape = unitShape(v);
  Type e = getElementTypeOrSelf(v.getType());
  if (!shape || !e.isIntOrFloat())
    return 0;
  return glm::getNumElements(*shape) * std::max<int64_t>(1, e.getIntOrFloatBitWidth() / 8);
}

/// Multiply-accumulates of a contraction (dynamic dims as 1); 0 for other
/// ops.
int64_t unitMacs(Operation *op) {
  auto elems = [](Value v) {
    auto s = unitShape(v);
    return s ? glm::getNumElements(*s) : 0;
  };
  if (auto linear = dyn_cast<glm::LinearOp>(op)) {
    auto w = unitShape(linear.getW());
    return w && w->size() == 2 ? elems(linear.getY()) * (*w)[0] : 0;
  }
  if (auto mlp = dyn_cast<glm::GatedMLPOp>(op)) {
    auto x = unitShape(mlp.getX()), wgu = unitShape(mlp.getWGateUp()),
         wd = unitShape(mlp.getWDown());
    if (!x || !wgu || !wd || x->empty() || wgu->size() != 2 || wd->size() != 2)
      return 0;
    int64_t rows = glm::getNumElements(*x) / std::max<int64_t>(1, x->back());
    return rows * ((*wgu)[0] * (*wgu)[1] + (*wd)[0] * (*wd)[1]);
  }
  if (auto att = dyn_cast<glm::AttentionOp>(op)) {
    auto q = unitShape(att.getQ()), k = unitShape(att.getK());
    if (!q || !k || q->size() != 4 || k->size() != 4)
      return 0;
    // Q K^T and P V: batch x heads x seq x kv_seq x head_dim each.
    return 2 * (*q)[0] * (*q)[1] * (*q)[2] * (*k)[2] * (*q)[3];
  }
  if (auto p = dyn_cast<glm::PrunableOpInterface>(op))
    return std::max<int64_t>(p.getNumMacs(), 0);
  return 0;
}

std::string shapeString(Operation *op) {
  if (op->getNumResults() == 0)
    return "";
  auto t = dyn_cast<ShapedType>(op->getResult(0).getType());
  if (!t || !t.hasRank())
    return "?";
  std::string s;
  for (auto [i, d] : llvm::enumerate(t.getShape()))
    s += (i ? "x" : "") + (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d));
  return s.empty() ? "scalar" : s;
}

struct LayerInfo {
  SmallVector<std::string> ops;
  std::string shape;
  int64_t flops = 0, bytes = 0;
};

struct AnnotateProfileLayersPass
    : glm::impl::AnnotateProfileLayersPassBase<AnnotateProfileLayersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::MapVector<std::string, LayerInfo, std::map<std::string, unsigned>> layers;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() || !func->hasAttr("glm.entry"))
        continue;
      func.walk([&](Operation *op) {
        if (!isa_and_nonnull<glm::GLMDialect>(op->getDialect()) || isa<glm::ConstantOp>(op))
          return;
        std::string name = glm::getNodeName(op->getLoc());
        if (name.empty())
          return;
        LayerInfo &info = layers[name];
        std::string opName = op->getName().stripDialect().str();
        if (!llvm::is_contained(info.ops, opName))
          info.ops.push_back(opName);
        info.shape = shapeString(op);
        info.flops += 2 * unitMacs(op);
        for (Value v : llvm::concat<Value>(op->getOperands(), op->getResults()))
          info.bytes += unitBytes(v);
      });
    }
    Builder b(&getContext());
    SmallVector<NamedAttribute> entries;
    for (auto &[name, info] : layers) {
      int64_t flops = info.flops, bytes = info.bytes;
      entries.push_back(b.getNamedAttr(
          name, b.getArrayAttr({b.getStringAttr(llvm::join(info.ops, "+")),
                                b.getStringAttr(info.shape), b.getI64IntegerAttr(flops),
                                b.getI64IntegerAttr(bytes)})));
    }
    module->setAttr("glm.profile_layers", b.getDictionaryAttr(entries));
  }
};

} // namespace
