//===- TileAndVectorize.cpp - glm-tile-and-vectorize ----------------------===//
//
// Register-blocked contractions on tensors, following the measured recipe
// in MLIR22-NOTES.md §2 (tile, vectorize, hoist the accumulator, lower the
// contraction to outer products):
//
//   1. NCHW convolutions become im2col + a contraction (upstream
//      rewriteInIm2Col), so they share the matmul path.
//   2. Every contraction (matmul, batch_matmul, contraction generics) is
//      tiled to cache tiles [MT, NT, KT], then to register tiles [MR, NR, 1]
//      sized from the target's vector width and register count; batch dims
//      are tiled by 1.
//   3. The register loops over M and N are peeled so that full tiles have
//      static shapes; full tiles are vectorized, partial ones stay scalar.
//   4. The accumulator tile is hoisted out of the K loop and the vector
//      contraction is lowered to broadcast + FMA outer products.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/lowering/ContractionTiles.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

#define DEBUG_TYPE "glm-tile-and-vectorize"

namespace mlir::glm {
#define GEN_PASS_DEF_TILEANDVECTORIZEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

using glm::ContractionTiles;

/// Tile sizes per loop of a contraction: `batch` for batch dims, and m, n,
/// k for the innermost M, N, K dims (outer ones of each kind by 1 when the
/// innermost is tiled, 0 = untiled). With `panel` > 0 the innermost N dim
/// is a panel of that many columns (a packed weight, glm-pack-weights): it
/// is taken whole and the N tile counts panels of the next N dim.
SmallVector<OpFoldResult> tileSizesFor(OpBuilder &b, linalg::LinalgOp op,
                                       const linalg::ContractionDimensions &dims, int64_t batch,
                                       int64_t m, int64_t n, int64_t k, int64_t panel = 0) {
  SmallVector<OpFoldResult> sizes(op.getNumLoops(), b.getIndexAttr(0));
  for (unsigned d : dims.batch)
    sizes[d] = b.getIndexAttr(batch);
  auto assign = [&](ArrayRef<unsigned> ds, int64_t s) {
    for (size_t i = 0; i < ds.size(); ++i)
      sizes[ds[i]] = b.getIndexAttr(i + 1 == ds.size() ? s : (s ? 1 : 0));
  };
  assign(dims.m, m);
  if (panel > 0 && n > 0) {
    ArrayRef<unsigned> outer = ArrayRef<unsigned>(dims.n).drop_back();
    assign(outer, std::max<int64_t>(1, n / panel));
    sizes[dims.n.back()] = b.getIndexAttr(0);
  } else {
    assign(dims.n, n);
  }
  assign(dims.k, k);
  return sizes;
}

/// The panel width of a contraction over a packed weight: its innermost N
/// dim has exactly NR columns and another N dim counts the panels.
int64_t packedPanel(linalg::LinalgOp op, const linalg::ContractionDimensions &dims, int64_t nr) {
  if (dims.n.size() < 2)
    return 0;
  return op.getStaticLoopRanges()[dims.n.back()] == nr ? nr : 0;
}

constexpr llvm::StringLiteral kRegisterTile = "glm.register_tile";
constexpr llvm::StringLiteral kRemainderTile = "glm.remainder_tile";
constexpr llvm::StringLiteral kDropUnitDims = "glm.drop_unit_dims";

/// insert_slice(transfer_write(v, extract_slice(X)[0...]), X) where v
/// covers the whole slice (unit leading dims aside) is transfer_write(v, X)
/// at the slice's offsets. Upstream's folder wants equal ranks; a remainder
/// tile [1, NR] of an M = 1 matmul (decode) has a rank-reduced vector, and
/// without this fold its accumulator is read and written back every K step
/// instead of staying in a register.
struct FoldInsertOfCoveringWrite : OpRewritePattern<tensor::InsertSliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::InsertSliceOp ins, PatternRewriter &rewriter) const override {
    auto w = ins.getSource().getDefiningOp<vector::TransferWriteOp>();
    if (!w || !w->hasOneUse() || w.getMask() || !w.getPermutationMap().isMinorIdentity() ||
        llvm::any_of(w.getInBoundsValues(), [](bool b) { return !b; }))
      return failure();
    auto ex = w.getBase().getDefiningOp<tensor::ExtractSliceOp>();
    if (!ex || ex.getSource() != ins.getDest() || !ex.isSameAs(ins, isEqualConstantIntOrValue) ||
        !ins.hasUnitStride())
      return failure();
    for (Value i : w.getIndices())
      if (!isConstantIntValue(i, 0))
        return failure();
    auto slice = ins.getSourceType();
    VectorType vt = w.getVectorType();
    int64_t lead = slice.getRank() - vt.getRank();
    if (lead < 0 || !slice.hasStaticShape())
      return failure();
    for (int64_t d = 0; d < lead; ++d)
      if (slice.getDimSize(d) != 1)
        return failure();
    if (slice.getShape().drop_front(lead) != vt.getShape())
      return failure();
    // The slice may be rank-reduced relative to the destination: only
    // unit-size dims are dropped, so offsets map one to one.
    auto dest = ins.getDestType();
    if (dest.getRank() != slice.getRank())
      return failure();
    SmallVector<Value> indices;
    for (OpFoldResult o : ins.getMixedOffsets())
      indices.push_back(getValueOrCreateConstantIndexOp(rewriter, ins.getLoc(), o));
    AffineMap map = AffineMap::getMinorIdentityMap(dest.getRank(), vt.getRank(), rewriter.getContext());
    SmallVector<bool> inBounds(vt.getRank(), true);
    auto nw = vector::TransferWriteOp::create(rewriter, ins.getLoc(), w.getVector(), ins.getDest(), indices,
                                              AffineMapAttr::get(map), rewriter.getBoolArrayAttr(inBounds));
    rewriter.replaceOp(ins, nw.getResult());
    return success();
  }
};

struct TileAndVectorizePass : glm::impl::TileAndVectorizePassBase<TileAndVectorizePass> {
  using TileAndVectorizePassBase::TileAndVectorizePassBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);
    ContractionTiles tiles = glm::chooseContractionTiles(vectorBits, numRegisters);

    // 1. Convolutions → im2col + contraction.
    // rewriteInIm2Col needs static shapes: a dynamic batch is tiled by 1
    // first, which is also the loop the matmul runs in.
    SmallVector<linalg::Conv2DNchwFchwOp> convs;
    func.walk([&](linalg::Conv2DNchwFchwOp c) { convs.push_back(c); });
    for (auto conv : convs) {
      linalg::Conv2DNchwFchwOp target = conv;
      if (conv.hasDynamicShape()) {
        rewriter.setInsertionPoint(conv);
        scf::SCFTilingOptions opts;
        SmallVector<OpFoldResult> sizes(conv.getNumLoops(), rewriter.getIndexAttr(0));
        sizes[0] = rewriter.getIndexAttr(1);
        opts.setTileSizes(sizes);
        auto tiled = scf::tileUsingSCF(rewriter, cast<TilingInterface>(conv.getOperation()), opts);
        if (failed(tiled))
          continue;
        rewriter.replaceOp(conv, tiled->replacements);
        target = cast<linalg::Conv2DNchwFchwOp>(tiled->tiledOps.back());
        // The tile's types become static once the slices fold.
        RewritePatternSet fold(ctx);
        tensor::ExtractSliceOp::getCanonicalizationPatterns(fold, ctx);
        tensor::InsertSliceOp::getCanonicalizationPatterns(fold, ctx);
        linalg::populateLinalgTilingCanonicalizationPatterns(fold);
        (void)applyPatternsGreedily(target->getParentOp(), std::move(fold));
        target = nullptr;
        func.walk([&](linalg::Conv2DNchwFchwOp c) {
          if (!c.hasDynamicShape() && !target)
            target = c;
        });
        if (!target)
          continue;
      }
      rewriter.setInsertionPoint(target);
      if (failed(linalg::rewriteInIm2Col(rewriter, target)))
        LLVM_DEBUG(llvm::dbgs() << "im2col failed for " << target << "\n");
    }

    // Drop unit dims (the batch tile of 1, N = 1 models) so that every
    // contraction is a plain (batch) matmul over its real dims. A
    // contraction over a packed weight keeps a unit M (decode's M = 1):
    // without an M dim it would not be tiled at all, while a named matmul
    // (whose unit dims are never dropped) becomes [1, NR] remainder tiles.
    {
      RewritePatternSet unit(ctx);
      linalg::ControlDropUnitDims options;
      options.rankReductionStrategy =
          linalg::ControlDropUnitDims::RankReductionStrategy::ExtractInsertSlice;
      int64_t nr = tiles.nr;
      options.controlFn = [nr](Operation *op) -> SmallVector<unsigned> {
        auto l = dyn_cast<linalg::LinalgOp>(op);
        if (!l)
          return {};
        FailureOr<linalg::ContractionDimensions> dims = linalg::inferContractionDims(l);
        bool packed = succeeded(dims) && packedPanel(l, *dims, nr) > 0;
        SmallVector<unsigned> drop;
        for (auto [i, r] : llvm::enumerate(l.getStaticLoopRanges()))
          if (r == 1 && !(packed && llvm::is_contained(dims->m, (unsigned)i)))
            drop.push_back(i);
        return drop;
      };
      linalg::populateFoldUnitExtentDimsPatterns(unit, options);
      linalg::populateFoldUnitExtentDimsCanonicalizationPatterns(unit, options);
      if (failed(applyPatternsGreedily(func, std::move(unit))))
        return signalPassFailure();
    }

    // 2-3. Tile contractions, peel, vectorize full register tiles.
    SmallVector<linalg::LinalgOp> contractions;
    func.walk([&](linalg::LinalgOp op) {
      if (!op.hasPureTensorSemantics() || !isa<FloatType>(getElementTypeOrSelf(op->getResult(0).getType())))
        return;
      if (succeeded(linalg::inferContractionDims(op)) && linalg::isaContractionOpInterface(op))
        contractions.push_back(op);
    });
    for (linalg::LinalgOp op : contractions)
      tileContraction(rewriter, op, tiles);

    // Peeling left affine.min bounds that are now constant: fold them so
    // that full register tiles get static types.
    if (failed(foldTileBounds(func)))
      return signalPassFailure();
    {
      RewritePatternSet unit(ctx);
      linalg::ControlDropUnitDims options;
      options.rankReductionStrategy =
          linalg::ControlDropUnitDims::RankReductionStrategy::ExtractInsertSlice;
      options.controlFn = [](Operation *op) -> SmallVector<unsigned> {
        auto l = dyn_cast<linalg::LinalgOp>(op);
        if (!l || !op->hasAttr(kDropUnitDims))
          return {};
        SmallVector<unsigned> dims;
        for (auto [i, r] : llvm::enumerate(l.getStaticLoopRanges()))
          if (r == 1)
            dims.push_back(i);
        return dims;
      };
      linalg::populateFoldUnitExtentDimsPatterns(unit, options);
      if (failed(applyPatternsGreedily(func, std::move(unit))))
        return signalPassFailure();
    }
    // Dropping unit dims recreates the remainder ops without attributes:
    // every small static op inside a tiled contraction is a tile to vectorize.
    func.walk([&](linalg::LinalgOp l) {
      if (!l->getParentOfType<scf::ForallOp>() || !l.hasPureTensorSemantics() ||
          l.hasDynamicShape())
        return;
      int64_t n = 1;
      for (int64_t r : l.getStaticLoopRanges())
        n *= r;
      if (n <= tiles.mr * tiles.nr)
        l->setAttr(kRegisterTile, UnitAttr::get(ctx));
    });

    SmallVector<linalg::LinalgOp> registerTiles;
    func.walk([&](linalg::LinalgOp l) {
      if (l->hasAttr(kRegisterTile) && l.hasPureTensorSemantics())
        registerTiles.push_back(l);
    });
    for (linalg::LinalgOp l : registerTiles) {
      rewriter.setInsertionPoint(l);
      if (l.hasDynamicShape())
        continue;
      auto vec = linalg::vectorize(rewriter, l);
      if (succeeded(vec))
        rewriter.replaceOp(l, vec->replacements);
    }
    func.walk([&](Operation *op) {
      op->removeAttr(kRegisterTile);
      op->removeAttr(kRemainderTile);
      op->removeAttr(kDropUnitDims);
    });

    // 5. Element-wise ops (bias broadcasts, activations, residual adds):
    // rows of the innermost dim as vectors. Left as scalar loops, LLVM
    // unrolls them into one load/store per element (it cannot prove that
    // the buffers do not alias, so it does not vectorize).
    vectorizeElementwise(rewriter, func);

    // Vector-level clean-up.
    RewritePatternSet patterns(ctx);
    vector::populateVectorReductionToContractPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
    patterns.add<FoldInsertOfCoveringWrite>(ctx);
    scf::ForOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();

    // Keep accumulator tiles in registers across the K loop.
    func.walk([&](scf::ForOp loop) { hoistLoopInvariantSubsets(rewriter, loop); });

    RewritePatternSet lowering(ctx);
    vector::populateVectorContractLoweringPatterns(lowering,
                                                   vector::VectorContractLowering::OuterProduct);
    vector::populateVectorOuterProductLoweringPatterns(lowering);
    // Vectorized reduction tiles (a row softmax's max and sum inside an
    // attention block): multi_reduction has no LLVM lowering of its own.
    vector::populateVectorMultiReductionLoweringPatterns(
        lowering, vector::VectorMultiReductionLowering::InnerReduction);
    vector::populateVectorTransferPermutationMapLoweringPatterns(lowering);
    vector::populateCastAwayVectorLeadingOneDimPatterns(lowering);
    if (failed(applyPatternsGreedily(func, std::move(lowering))))
      return signalPassFailure();
  }

  /// Tiles every all-parallel generic to rows of its innermost dim (at most
  /// kMaxElementwiseRow elements, a divisor of the dim) and vectorizes the
  /// rows. Generics that gather (tensor.extract, linalg.index) stay scalar.
  void vectorizeElementwise(IRRewriter &rewriter, func::FuncOp func) {
    constexpr int64_t kMaxElementwiseRow = 64;
    SmallVector<linalg::GenericOp> generics;
    func.walk([&](linalg::GenericOp g) {
      if (!g.hasPureTensorSemantics() || g.getNumReductionLoops() != 0 || g.getNumLoops() == 0 ||
          g->getParentOfType<scf::ForallOp>())
        return;
      if (!llvm::all_of(g.getIndexingMapsArray(),
                        [](AffineMap m) { return m.isProjectedPermutation(); }))
        return;
      bool gathers = false;
      g.getBody()->walk([&](Operation *op) {
        gathers |= isa<tensor::ExtractOp, linalg::IndexOp>(op);
      });
      // Bool tensors stay scalar: memory holds one byte per i1, but LLVM
      // loads and stores a vector<N x i1> as N packed bits.
      auto isBool = [](Type t) { return getElementTypeOrSelf(t).isInteger(1); };
      bool bools = llvm::any_of(g->getOperandTypes(), isBool) ||
                   llvm::any_of(g->getResultTypes(), isBool);
      if (!gathers && !bools)
        generics.push_back(g);
    });
    for (linalg::GenericOp g : generics) {
      SmallVector<int64_t> ranges = g.getStaticLoopRanges();
      int64_t inner = ranges.back();
      if (ShapedType::isDynamic(inner))
        continue;
      int64_t row = inner;
      if (row > kMaxElementwiseRow) {
        row = 0;
        for (int64_t t = kMaxElementwiseRow; t >= 8 && !row; --t)
          if (inner % t == 0)
            row = t;
        if (!row)
          continue;
      }
      linalg::LinalgOp target = g;
      bool needsTiling = row != inner || llvm::any_of(ArrayRef(ranges).drop_back(),
                                                       [](int64_t r) { return r != 1; });
      if (needsTiling) {
        rewriter.setInsertionPoint(g);
        scf::SCFTilingOptions opts;
        SmallVector<OpFoldResult> sizes(ranges.size(), rewriter.getIndexAttr(1));
        sizes.back() = rewriter.getIndexAttr(row);
        opts.setTileSizes(sizes);
        auto tiled = scf::tileUsingSCF(rewriter, cast<TilingInterface>(g.getOperation()), opts);
        if (failed(tiled) || tiled->tiledOps.empty())
          continue;
        rewriter.replaceOp(g, tiled->replacements);
        target = dyn_cast<linalg::LinalgOp>(tiled->tiledOps.back());
        if (!target)
          continue;
      }
      if (target.hasDynamicShape())
        continue;
      rewriter.setInsertionPoint(target);
      auto vec = linalg::vectorize(rewriter, target);
      if (succeeded(vec))
        rewriter.replaceOp(target, vec->replacements);
    }
  }

  /// Folds the affine.min/apply bounds tiling and peeling leave behind.
  LogicalResult foldTileBounds(func::FuncOp func) {
    MLIRContext *ctx = func.getContext();
    RewritePatternSet cleanup(ctx);
    scf::ForOp::getCanonicalizationPatterns(cleanup, ctx);
    affine::AffineMinOp::getCanonicalizationPatterns(cleanup, ctx);
    affine::AffineApplyOp::getCanonicalizationPatterns(cleanup, ctx);
    tensor::ExtractSliceOp::getCanonicalizationPatterns(cleanup, ctx);
    tensor::InsertSliceOp::getCanonicalizationPatterns(cleanup, ctx);
    linalg::populateLinalgTilingCanonicalizationPatterns(cleanup);
    return applyPatternsGreedily(func, std::move(cleanup));
  }

  void tileContraction(IRRewriter &rewriter, linalg::LinalgOp op, const ContractionTiles &t) {
    auto dims = linalg::inferContractionDims(op);
    if (failed(dims) || dims->m.empty() || dims->n.empty() || dims->k.empty())
      return;
    int64_t panel = packedPanel(op, *dims, t.nr);
    rewriter.setInsertionPoint(op);
    // Level 1: output tiles [MT, NT] of every batch, as a parallel forall
    // (glm-outline-parallel hands these to the runtime's thread pool). A
    // contraction that already runs inside a parallel loop (a block of
    // the attention lowering) is one task's work: it is not split again.
    linalg::LinalgOp tile = op;
    if (!op->getParentOfType<scf::ForallOp>()) {
      scf::SCFTilingOptions parOpts;
      parOpts.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      parOpts.setTileSizes(tileSizesFor(rewriter, op, *dims, 1, t.mt, t.nt, 0, panel));
      auto par = scf::tileUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()), parOpts);
      if (failed(par))
        return;
      rewriter.replaceOp(op, par->replacements);
      tile = cast<linalg::LinalgOp>(par->tiledOps.back());
    }
    // Level 2: K in cache-sized slices. Over a packed weight, also one
    // panel at a time: the panel dim is then a unit dim, and dropping it
    // leaves a plain contraction [MT, NR, KT] whose B slice is a
    // contiguous [KT, NR] block of the panel. The levels below see an
    // ordinary matmul tile.
    rewriter.setInsertionPoint(tile);
    scf::SCFTilingOptions kOpts;
    SmallVector<OpFoldResult> kSizes = tileSizesFor(rewriter, tile, *dims, 0, 0, 0, t.kt);
    if (panel > 0)
      for (unsigned d : ArrayRef<unsigned>(dims->n).drop_back())
        kSizes[d] = rewriter.getIndexAttr(1);
    kOpts.setTileSizes(kSizes);
    auto kTiled = scf::tileUsingSCF(rewriter, cast<TilingInterface>(tile.getOperation()), kOpts);
    if (failed(kTiled))
      return;
    rewriter.replaceOp(tile, kTiled->replacements);
    auto inner = cast<linalg::LinalgOp>(kTiled->tiledOps.back());
    if (panel > 0) {
      inner = dropPanelDim(rewriter, inner, *dims, kTiled->loops.back());
      if (!inner)
        return;
      auto plain = linalg::inferContractionDims(inner);
      if (failed(plain) || plain->m.empty() || plain->n.size() != 1 || plain->k.empty())
        return;
      *dims = *plain;
    }
    // Level 3: register tiles. M first, by MR, peeled: full row blocks
    // get [MR, NR] tiles, the remaining rows [1, NR] tiles, both with K
    // innermost so that the accumulators stay in registers.
    rewriter.setInsertionPoint(inner);
    scf::SCFTilingOptions mOpts;
    mOpts.setTileSizes(tileSizesFor(rewriter, inner, *dims, 1, t.mr, 0, 0));
    auto mTiled = scf::tileUsingSCF(rewriter, cast<TilingInterface>(inner.getOperation()), mOpts);
    if (failed(mTiled))
      return;
    rewriter.replaceOp(inner, mTiled->replacements);
    scf::ForOp mainRows, restRows;
    for (LoopLikeOpInterface loop : mTiled->loops)
      if (auto forOp = dyn_cast<scf::ForOp>(loop.getOperation()))
        mainRows = forOp;
    if (mainRows && succeeded(scf::peelForLoopAndSimplifyBounds(rewriter, mainRows, restRows))) {
      tileRegisters(rewriter, mainRows, *dims, t.mr, t.nr, kRegisterTile);
      tileRegisters(rewriter, restRows, *dims, 1, t.nr, kRemainderTile);
    } else {
      // A single row block: its op is the tiled op itself.
      for (Operation *op : mTiled->tiledOps)
        if (auto l = dyn_cast<linalg::LinalgOp>(op))
          tileRegisterOp(rewriter, l, *dims, t.mr, t.nr, kRegisterTile);
    }
  }

  /// Drops the unit panel dims (all N dims but the innermost) of `op`, a
  /// tile over one panel of a packed weight, as rank-reducing slices;
  /// returns the new contraction inside `loop`, or null.
  linalg::LinalgOp dropPanelDim(IRRewriter &rewriter, linalg::LinalgOp op,
                                const linalg::ContractionDimensions &dims, LoopLikeOpInterface loop) {
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<unsigned> panelDims(dims.n.begin(), dims.n.end() - 1);
    RewritePatternSet unit(ctx);
    linalg::ControlDropUnitDims options;
    options.rankReductionStrategy = linalg::ControlDropUnitDims::RankReductionStrategy::ExtractInsertSlice;
    options.controlFn = [&](Operation *candidate) -> SmallVector<unsigned> {
      if (candidate != op.getOperation())
        return {};
      return panelDims;
    };
    linalg::populateFoldUnitExtentDimsPatterns(unit, options);
    GreedyRewriteConfig config;
    config.setStrictness(GreedyRewriteStrictness::ExistingAndNewOps);
    if (failed(applyOpPatternsGreedily(ArrayRef<Operation *>{op.getOperation()}, std::move(unit), config)))
      return {};
    linalg::LinalgOp found;
    loop->walk([&](linalg::LinalgOp l) {
      if (!found && succeeded(linalg::inferContractionDims(l)) && linalg::isaContractionOpInterface(l))
        found = l;
    });
    return found;
  }

  /// Tiles the contraction inside `rows` to [m, NR, 1] register tiles.
  void tileRegisters(IRRewriter &rewriter, scf::ForOp rows,
                     const linalg::ContractionDimensions &dims, int64_t m, int64_t nr,
                     StringRef marker) {
    if (!rows)
      return;
    SmallVector<linalg::LinalgOp> ops;
    rows.getBody()->walk([&](linalg::LinalgOp l) { ops.push_back(l); });
    for (linalg::LinalgOp l : ops)
      tileRegisterOp(rewriter, l, dims, m, nr, marker);
  }

  void tileRegisterOp(IRRewriter &rewriter, linalg::LinalgOp op,
                      const linalg::ContractionDimensions &dims, int64_t m, int64_t nr,
                      StringRef marker) {
    rewriter.setInsertionPoint(op);
    scf::SCFTilingOptions opts;
    opts.setTileSizes(tileSizesFor(rewriter, op, dims, 1, m, nr, 1));
    auto reg = scf::tileUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()), opts);
    if (failed(reg))
      return;
    rewriter.replaceOp(op, reg->replacements);
    for (Operation *tile : reg->tiledOps) {
      Operation *marked = tile;
      // Remainder tiles and batched tiles (a unit batch dim) are vectorized
      // without their unit dims, as the plain [m, NR] tile: a 4-d
      // vector.contract over a unit batch lowers to unrolled scalar code
      // (and, for 8x32 AVX-512 tiles, to code that faulted at run time).
      bool dropUnitDims = marker == kRemainderTile || !dims.batch.empty();
      if (dropUnitDims && !isa<linalg::GenericOp>(tile)) {
        // Unit dims can only be dropped from generics.
        rewriter.setInsertionPoint(tile);
        if (auto g = linalg::generalizeNamedOp(rewriter, cast<linalg::LinalgOp>(tile)); succeeded(g))
          marked = *g;
      }
      marked->setAttr(marker, rewriter.getUnitAttr());
      if (dropUnitDims)
        marked->setAttr(kDropUnitDims, rewriter.getUnitAttr());
    }
    // Peel the column loop (the K loop is innermost with tile 1).
    for (LoopLikeOpInterface loop : reg->loops) {
      if (loop == reg->loops.back())
        continue;
      if (auto forOp = dyn_cast<scf::ForOp>(loop.getOperation())) {
        scf::ForOp partial;
        (void)scf::peelForLoopAndSimplifyBounds(rewriter, forOp, partial);
      }
    }
  }
};

} // namespace
