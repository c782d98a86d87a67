//===- PackWeights.cpp - glm-pack-weights ----------------------------------===//
//
// Constant matmul weights W [K, N] read as panels Wp [N/NR, K, NR]: the B
// slice of a register tile is then contiguous along K. The panel bytes are
// produced by the weights writer from W's own bytes (glm.panels_of), not
// here, so a multi-gigabyte model is never copied in compiler memory.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/lowering/ContractionTiles.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::glm {
#define GEN_PASS_DEF_PACKWEIGHTSPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kPanelsOf = "glm.panels_of";
constexpr llvm::StringLiteral kPanelWidth = "glm.panel_width";

/// The constant weight [K, N] that `mm` reads as B, when `mm` is a plain f32
/// matmul (default indexing maps) and N is a multiple of `nr` larger than it.
arith::ConstantOp packableWeight(linalg::MatmulOp mm, int64_t nr) {
  if (!mm.hasPureTensorSemantics() ||
      mm.getIndexingMapsArray() != linalg::MatmulOp::getDefaultIndexingMaps(mm.getContext()))
    return {};
  auto w = mm.getInputs()[1].getDefiningOp<arith::ConstantOp>();
  if (!w)
    return {};
  auto wt = dyn_cast<RankedTensorType>(w.getType());
  auto at = dyn_cast<RankedTensorType>(mm.getInputs()[0].getType());
  auto ct = dyn_cast<RankedTensorType>(mm.getOutputs()[0].getType());
  if (!wt || !at || !ct || !wt.hasStaticShape() || wt.getRank() != 2 || !wt.getElementType().isF32() ||
      !at.getElementType().isF32() || !ct.getElementType().isF32())
    return {};
  int64_t n = wt.getDimSize(1);
  if (n <= nr || n % nr != 0)
    return {};
  // A splat has no layout to change; anything else must be a blob the
  // writer can read (dense or dense_resource).
  auto value = dyn_cast<ElementsAttr>(w.getValue());
  if (!value || isa<SplatElementsAttr>(value) || !isa<DenseElementsAttr, DenseResourceElementsAttr>(value))
    return {};
  return w;
}

struct PackWeightsPass : glm::impl::PackWeightsPassBase<PackWeightsPass> {
  using PackWeightsPassBase::PackWeightsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t nr = glm::chooseContractionTiles(vectorBits, numRegisters).nr;
    // Candidates per weight constant; a weight is packed only when every
    // use of it is the B operand of a packable matmul (a weight read by
    // anything else would be stored twice).
    llvm::MapVector<arith::ConstantOp, SmallVector<linalg::MatmulOp>> uses;
    module.walk([&](linalg::MatmulOp mm) {
      if (arith::ConstantOp w = packableWeight(mm, nr))
        uses[w].push_back(mm);
    });
    SymbolTable symbols(module);
    DenseMap<Attribute, memref::GlobalOp> globals;
    unsigned counter = 0;
    for (auto &entry : uses) {
      arith::ConstantOp w = entry.first;
      ArrayRef<linalg::MatmulOp> matmuls = entry.second;
      bool onlyMatmuls = llvm::all_of(w->getUses(), [&](OpOperand &use) {
        auto mm = dyn_cast<linalg::MatmulOp>(use.getOwner());
        return mm && use.getOperandNumber() == 1 && llvm::is_contained(matmuls, mm);
      });
      if (!onlyMatmuls)
        continue;
      auto wt = cast<RankedTensorType>(w.getType());
      int64_t k = wt.getDimSize(0), n = wt.getDimSize(1);
      auto packedType = MemRefType::get({n / nr, k, nr}, wt.getElementType());
      memref::GlobalOp &global = globals[w.getValue()];
      if (!global) {
        OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
        std::string name;
        do
          name = "__glm_panels_" + std::to_string(counter++);
        while (symbols.lookup(name));
        global = memref::GlobalOp::create(mb, w.getLoc(), name, mb.getStringAttr("private"), packedType,
                                          /*initial_value=*/Attribute(), /*constant=*/true,
                                          /*alignment=*/mb.getI64IntegerAttr(64));
        global->setAttr(kPanelsOf, w.getValue());
        global->setAttr(kPanelWidth, mb.getI64IntegerAttr(nr));
        symbols.insert(global);
      }
      for (linalg::MatmulOp mm : matmuls)
        rewriteMatmul(mm, global, nr);
      if (w->use_empty())
        w->erase();
    }
  }

  /// C[m, n] += A[m, k] W[k, n] as C3[m, j, r] += A[m, k] Wp[j, k, r] on the
  /// [M, N/NR, NR] view of C.
  void rewriteMatmul(linalg::MatmulOp mm, memref::GlobalOp global, int64_t nr) {
    OpBuilder b(mm);
    Location loc = mm.getLoc();
    MLIRContext *ctx = b.getContext();
    auto packedType = global.getType();
    Value get = memref::GetGlobalOp::create(b, loc, packedType, global.getSymName());
    auto packedTensor = RankedTensorType::get(packedType.getShape(), packedType.getElementType());
    auto toTensor = bufferization::ToTensorOp::create(b, loc, packedTensor, get, /*restrict=*/true,
                                                      /*writable=*/false);
    Value c = mm.getOutputs()[0];
    auto ct = cast<RankedTensorType>(c.getType());
    int64_t panels = packedType.getDimSize(0);
    auto c3t = RankedTensorType::get({ct.getDimSize(0), panels, nr}, ct.getElementType());
    SmallVector<ReassociationIndices> reassoc{{0}, {1, 2}};
    SmallVector<OpFoldResult> c3Sizes{tensor::getMixedSize(b, loc, c, 0), b.getIndexAttr(panels),
                                      b.getIndexAttr(nr)};
    Value c3 = tensor::ExpandShapeOp::create(b, loc, c3t, c, reassoc, c3Sizes);
    AffineExpr m = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx), r = getAffineDimExpr(2, ctx),
               kk = getAffineDimExpr(3, ctx);
    SmallVector<AffineMap> maps{AffineMap::get(4, 0, {m, kk}, ctx), AffineMap::get(4, 0, {j, kk, r}, ctx),
                                AffineMap::get(4, 0, {m, j, r}, ctx)};
    SmallVector<utils::IteratorType> iterators{utils::IteratorType::parallel, utils::IteratorType::parallel,
                                               utils::IteratorType::parallel, utils::IteratorType::reduction};
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange{c3t}, ValueRange{mm.getInputs()[0], toTensor.getResult()}, ValueRange{c3}, maps,
        iterators, [](OpBuilder &nb, Location l, ValueRange args) {
          Value prod = arith::MulFOp::create(nb, l, args[0], args[1]);
          linalg::YieldOp::create(nb, l, ValueRange{arith::AddFOp::create(nb, l, args[2], prod).getResult()});
        });
    Value out = tensor::CollapseShapeOp::create(b, loc, ct, generic.getResult(0), reassoc);
    mm.getResult(0).replaceAllUsesWith(out);
    mm.erase();
  }
};

} // namespace
