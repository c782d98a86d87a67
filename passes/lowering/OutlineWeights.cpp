//===- OutlineWeights.cpp - glm-outline-weights ---------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/ShapeUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

namespace mlir::glm {
#define GEN_PASS_DEF_OUTLINEWEIGHTSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

constexpr uint64_t kAlignment = 64; // GLM_ABI_WEIGHTS_ALIGNMENT

/// Appends the little-endian bytes of `attr` (dense, splat or resource) to
/// `blob`. Returns false for element types it cannot serialise.
bool appendBytes(ElementsAttr attr, std::vector<char> &blob) {
  auto type = cast<ShapedType>(attr.getType());
  Type et = type.getElementType();
  int64_t n = type.getNumElements();
  if (et.isInteger(1)) {
    // One byte per bool element, as the runtime ABI stores them.
    if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
      for (bool v : dense.getValues<bool>())
        blob.push_back(v ? 1 : 0);
      return true;
    }
    ArrayRef<char> raw = glm::getRawBytes(attr);
    if ((int64_t)raw.size() != n)
      return false;
    blob.insert(blob.end(), raw.begin(), raw.end());
    return true;
  }
  if (!et.isIntOrFloat())
    return false;
  size_t elem = et.getIntOrFloatBitWidth() / 8;
  ArrayRef<char> raw = glm::getRawBytes(attr);
  if (auto dense = dyn_cast<DenseElementsAttr>(attr); dense && dense.isSplat()) {
    if (raw.size() < elem)
      return false;
    for (int64_t i = 0; i < n; ++i)
      blob.insert(blob.end(), raw.begin(), raw.begin() + elem);
    return true;
  }
  if (raw.size() != size_t(n) * elem)
    return false;
  blob.insert(blob.end(), raw.begin(), raw.end());
  return true;
}

struct OutlineWeightsPass : glm::impl::OutlineWeightsPassBase<OutlineWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SymbolTable symbols(module);
    std::vector<char> blob;
    llvm::MapVector<memref::GlobalOp, uint64_t> offsets;

    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() || !func->hasAttr("glm.entry"))
        continue;
      SmallVector<memref::GetGlobalOp> uses;
      func.walk([&](memref::GetGlobalOp get) { uses.push_back(get); });
      // Record the element sizes of the results for the entry wrapper.
      SmallVector<int64_t> resultBytes;
      for (Type t : func.getResultTypes()) {
        auto mt = cast<MemRefType>(t);
        resultBytes.push_back(std::max<int64_t>(1, mt.getElementTypeBitWidth() / 8));
      }
      func->setAttr("glm.result_elem_bytes", DenseI64ArrayAttr::get(ctx, resultBytes));

      // New trailing argument: the weights blob.
      auto bytesType = MemRefType::get({ShapedType::kDynamic}, IntegerType::get(ctx, 8));
      unsigned argIndex = func.getNumArguments();
      if (failed(func.insertArgument(argIndex, bytesType, {}, func.getLoc())))
        return signalPassFailure();
      Value weights = func.getArgument(argIndex);
      for (memref::GetGlobalOp get : uses) {
        auto global = symbols.lookup<memref::GlobalOp>(get.getName());
        if (!global || !global.getConstant() || !global.getInitialValue())
          continue;
        auto init = dyn_cast<ElementsAttr>(*global.getInitialValue());
        if (!init)
          continue;
        auto [it, inserted] = offsets.try_emplace(global, 0);
        if (inserted) {
          blob.resize(llvm::alignTo(blob.size(), kAlignment));
          it->second = blob.size();
          if (!appendBytes(init, blob)) {
            global.emitError("cannot serialise weights of type ") << init.getType();
            return signalPassFailure();
          }
        }
        OpBuilder b(get);
        Value offset = arith::ConstantIndexOp::create(b, get.getLoc(), it->second);
        auto type = cast<MemRefType>(get.getType());
        Value view = memref::ViewOp::create(b, get.getLoc(), MemRefType::get(type.getShape(), type.getElementType()),
                                            weights, offset, ValueRange{});
        if (view.getType() != type)
          view = memref::CastOp::create(b, get.getLoc(), type, view);
        get.replaceAllUsesWith(view);
        get.erase();
      }
    }
    for (auto &[global, off] : offsets)
      if (SymbolTable::symbolKnownUseEmpty(global, module))
        global.erase();
    blob.resize(llvm::alignTo(std::max<size_t>(blob.size(), 1), kAlignment));
    auto blobType = RankedTensorType::get({(int64_t)blob.size()}, IntegerType::get(ctx, 8));
    AsmResourceBlob resource = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(blob.data(), blob.size()), kAlignment);
    module->setAttr("glm.weights",
                    DenseResourceElementsAttr::get(blobType, "glm_weights", std::move(resource)));
  }
};

} // namespace
