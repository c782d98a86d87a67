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

/// Bytes `attr` takes in the blob (one byte per i1, as the runtime ABI
/// stores them), or nullopt for element types it cannot serialise.
std::optional<uint64_t> blobBytes(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  Type et = type.getElementType();
  if (!et.isIntOrFloat())
    return std::nullopt;
  uint64_t elem = et.isInteger(1) ? 1 : et.getIntOrFloatBitWidth() / 8;
  uint64_t bytes = elem * uint64_t(type.getNumElements());
  if (elem == 0)
    return std::nullopt;
  if (isa<DenseElementsAttr>(attr))
    return bytes;
  if (isa<DenseResourceElementsAttr>(attr) && glm::getRawBytes(attr).size() == bytes)
    return bytes;
  return std::nullopt;
}

struct OutlineWeightsPass : glm::impl::OutlineWeightsPassBase<OutlineWeightsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SymbolTable symbols(module);
    // The blob is only laid out here: which constant goes at which offset.
    // Its bytes are written by the packager straight from where the
    // constants live (mapped external data, moved-out protobuf strings), so
    // a model's weights are never copied into one buffer in memory.
    uint64_t size = 0;
    llvm::MapVector<memref::GlobalOp, uint64_t> offsets;
    SmallVector<int64_t> layoutOffsets;
    SmallVector<Attribute> layoutValues;
    SmallVector<int64_t> layoutPanels;

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
        if (!global || !global.getConstant())
          continue;
        // A packed weight (glm-pack-weights): the bytes of glm.panels_of,
        // written in panel order by the packager.
        auto panelsOf = global->getAttrOfType<ElementsAttr>("glm.panels_of");
        auto panelWidth = global->getAttrOfType<IntegerAttr>("glm.panel_width");
        ElementsAttr init = panelsOf;
        if (!init && global.getInitialValue())
          init = dyn_cast<ElementsAttr>(*global.getInitialValue());
        if (!init)
          continue;
        auto [it, inserted] = offsets.try_emplace(global, 0);
        if (inserted) {
          std::optional<uint64_t> bytes = blobBytes(init);
          if (!bytes) {
            global.emitError("cannot serialise weights of type ") << init.getType();
            return signalPassFailure();
          }
          size = llvm::alignTo(size, kAlignment);
          it->second = size;
          layoutOffsets.push_back((int64_t)size);
          layoutValues.push_back(init);
          layoutPanels.push_back(panelsOf && panelWidth ? panelWidth.getInt() : 0);
          size += *bytes;
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
    size = llvm::alignTo(std::max<uint64_t>(size, 1), kAlignment);
    Builder b(ctx);
    module->setAttr("glm.weights",
                    b.getDictionaryAttr({b.getNamedAttr("size", b.getI64IntegerAttr((int64_t)size)),
                                         b.getNamedAttr("offsets", b.getDenseI64ArrayAttr(layoutOffsets)),
                                         b.getNamedAttr("values", b.getArrayAttr(layoutValues)),
                                         b.getNamedAttr("panels", b.getDenseI64ArrayAttr(layoutPanels))}));
  }
};

} // namespace
