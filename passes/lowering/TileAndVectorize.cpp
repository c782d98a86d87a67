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

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
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
/// An element-wise generic to fuse into a contraction's parallel tiles: a
/// convolution's bias init (producer) or its epilogue (consumer).
constexpr llvm::StringLiteral kFusedTile = "glm.fused_tile";

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

/// A convolution input x = tensor.pad(src) with zeros around H and W only:
/// the kernels read src and supply the zeros themselves, so the padded
/// copy of the activation (a memset and a copy per convolution) is never
/// made.
struct ZeroPadded {
  Value src;
  int64_t top = 0, left = 0, h = 0, w = 0;
};

std::optional<ZeroPadded> zeroPaddedInput(Value x) {
  auto pad = x.getDefiningOp<tensor::PadOp>();
  if (!pad || pad.getNofold())
    return std::nullopt;
  Value v = pad.getConstantPaddingValue();
  if (!v || !matchPattern(v, m_AnyZeroFloat()))
    return std::nullopt;
  auto st = dyn_cast<RankedTensorType>(pad.getSource().getType());
  if (!st || !st.hasStaticShape() || st.getRank() != 4)
    return std::nullopt;
  ArrayRef<int64_t> low = pad.getStaticLow(), high = pad.getStaticHigh();
  for (ArrayRef<int64_t> side : {low, high})
    for (int64_t d : side)
      if (ShapedType::isDynamic(d) || d < 0)
        return std::nullopt;
  if (low[0] || low[1] || high[0] || high[1])
    return std::nullopt;
  return ZeroPadded{pad.getSource(), low[2], low[3], st.getDimSize(2), st.getDimSize(3)};
}

/// A vector of `n` pixels of row `ih` of channel `c` of x [1, C, H, W],
/// starting at column `iw`, `stride` apart: one contiguous load, or a load
/// of the strided span and a shuffle that keeps every stride-th element.
/// With `zp`, x is zp->src and `iw` a column of the padded input: only the
/// columns inside src are loaded, and the shuffle puts zeros where the
/// padding was (`ih` is then a row of src, which the caller checks).
/// Without padding, a non-null `iwDynamic` is the column instead of `iw`.
Value loadPixelRow(OpBuilder &b, Location loc, Value x, Value c, Value ih, int64_t iw, int64_t n, int64_t stride,
                   const ZeroPadded *zp = nullptr, Value iwDynamic = {}) {
  Type et = cast<RankedTensorType>(x.getType()).getElementType();
  int64_t width = zp ? zp->w : cast<RankedTensorType>(x.getType()).getDimSize(3);
  int64_t span = (n - 1) * stride + 1;
  int64_t lo = 0, hi = 0;
  if (zp) {
    iw -= zp->left;
    lo = std::max<int64_t>(0, -iw);
    hi = std::max<int64_t>(0, iw + span - zp->w);
  }
  int64_t len = span - lo - hi;
  auto rowT = VectorType::get({n}, et);
  if (len <= 0)
    return arith::ConstantOp::create(b, loc, rowT, DenseElementsAttr::get(rowT, b.getZeroAttr(et)));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(et));
  auto read = [&](int64_t size, Value col) {
    return vector::TransferReadOp::create(b, loc, VectorType::get({size}, et), x, ValueRange{zero, c, ih, col}, pad,
                                          ArrayRef<bool>{true})
        .getResult();
  };
  if (iwDynamic && !zp) {
    // The span, and every stride-th lane of it.
    Value row = read(span, iwDynamic);
    if (stride == 1)
      return row;
    SmallVector<int64_t> pick;
    for (int64_t i = 0; i < n; ++i)
      pick.push_back(i * stride);
    return vector::ShuffleOp::create(b, loc, row, row, pick);
  }
  if (stride == 1 && lo == 0 && hi == 0)
    return read(n, arith::ConstantIndexOp::create(b, loc, iw));
  // Strided or at the padding: load n * stride pixels (whole registers;
  // a load of e.g. 14 or 31 floats becomes lane-by-lane inserts) from
  // where they all lie inside the row, and shuffle the lanes wanted into
  // place, zeros from a second operand where the padding is.
  int64_t size = n * stride;
  int64_t from = iw + lo;
  if (size <= width) {
    from = std::clamp<int64_t>(from, 0, width - size);
  } else {
    size = len;
  }
  Value row = read(size, arith::ConstantIndexOp::create(b, loc, from));
  auto sizeT = VectorType::get({size}, et);
  Value z = arith::ConstantOp::create(b, loc, sizeT, DenseElementsAttr::get(sizeT, b.getZeroAttr(et)));
  SmallVector<int64_t> pick;
  for (int64_t i = 0; i < n; ++i) {
    int64_t q = iw + i * stride;
    pick.push_back(q < 0 || q >= width ? size : q - from);
  }
  return vector::ShuffleOp::create(b, loc, row, z, pick);
}

/// A row of `ow` pixels in chunks of one power-of-two width (a register,
/// `lanes`, or less for a short row, at least 4 pixels where the row has
/// them): from column 0 on, and a last one that ends with the row and
/// overlaps the one before (its pixels are computed twice, the same way,
/// rather than in a vector of an odd width, which LLVM splits and shuffles
/// lane by lane). The chunks are unrolled: a long row (Whisper's 3000
/// frames, 750 chunks of 4 on NEON, took glmc 15 minutes) gets wider ones,
/// at most 16 of them. Returns the width; `starts` gets the chunks' first
/// columns.
int64_t rowChunks(int64_t ow, int64_t lanes, SmallVectorImpl<int64_t> &starts) {
  constexpr int64_t kMaxChunks = 16;
  int64_t width = ow < 4 ? ow : int64_t(llvm::bit_floor(uint64_t(std::min(lanes, ow))));
  while (width >= 4 && width * kMaxChunks < ow && 2 * width <= ow)
    width *= 2;
  for (int64_t x0 = 0; x0 + width <= ow; x0 += width)
    starts.push_back(x0);
  if (ow % width)
    starts.push_back(ow - width);
  return width;
}

/// Whether padded-input row `ih` lies inside zp->src: 0 <= ih - top < h.
Value rowInside(OpBuilder &b, Location loc, Value ih, const ZeroPadded &zp) {
  Value top = arith::ConstantIndexOp::create(b, loc, zp.top);
  Value end = arith::ConstantIndexOp::create(b, loc, zp.top + zp.h);
  Value ge = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, ih, top);
  Value lt = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, ih, end);
  return arith::AndIOp::create(b, loc, ge, lt);
}

/// (n, c, h, w) -> (c): a per-channel operand of an NCHW generic.
AffineMap channelMap(MLIRContext *ctx) { return AffineMap::get(4, 0, {getAffineDimExpr(1, ctx)}, ctx); }

/// Whether `g` broadcasts a per-channel vector over an NCHW tensor (a
/// convolution's bias as its output init): one rank-1 input read at the
/// channel dim, yielded as is.
bool isChannelBroadcast(linalg::GenericOp g) {
  if (g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 || g.getNumReductionLoops() != 0 ||
      g.getNumLoops() != 4)
    return false;
  AffineMap in = g.getIndexingMapsArray()[0], out = g.getIndexingMapsArray()[1];
  if (in != channelMap(g.getContext()) || !out.isIdentity())
    return false;
  auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
  return g.getBody()->getOperations().size() == 1 && yield.getValues().size() == 1 &&
         yield.getValues()[0] == g.getBody()->getArgument(0);
}

/// An element-wise op after a depthwise convolution that its kernel can
/// apply to each accumulator row: all parallel over [1, C, OH, OW], one
/// result of the convolution's type, the convolution read whole (identity
/// map), other operands whole, per channel (d1) or scalar, a body of
/// arith/math ops on scalars that does not read its init.
/// With `anyElementType`, the result may have another element type than
/// the convolution (an int8 convolution's dequantizing epilogue).
bool isRowEpilogue(linalg::GenericOp g, Value conv, bool anyElementType = false) {
  auto rt = dyn_cast<RankedTensorType>(g.getNumResults() == 1 ? g.getResult(0).getType() : Type());
  auto ct = cast<RankedTensorType>(conv.getType());
  if (g.getNumReductionLoops() != 0 || g.getNumLoops() != 4 || !rt || g.getNumDpsInits() != 1 ||
      rt.getShape() != ct.getShape() || (!anyElementType && rt != ct))
    return false;
  MLIRContext *ctx = g.getContext();
  AffineMap channel4 = channelMap(ctx);
  bool readsConv = false;
  for (OpOperand *o : g.getDpsInputOperands()) {
    AffineMap m = g.getMatchingIndexingMap(o);
    if (!m.isIdentity() && m != channel4 && m.getNumResults() != 0)
      return false;
    readsConv |= o->get() == conv && m.isIdentity();
  }
  if (!readsConv || !g.getMatchingIndexingMap(g.getDpsInitOperand(0)).isIdentity() ||
      !g.getRegionOutputArgs()[0].use_empty())
    return false;
  for (Operation &op : g.getBody()->without_terminator()) {
    if (op.getNumRegions() != 0 || !isa<arith::ArithDialect, math::MathDialect>(op.getDialect()))
      return false;
    for (Type t : llvm::concat<Type>(op.getOperandTypes(), op.getResultTypes()))
      if (!t.isIntOrIndexOrFloat() || t.isIndex())
        return false;
  }
  return true;
}

/// Applies `g`'s body (isRowEpilogue) to `acc`, a vector of the
/// convolution's outputs of one channel: the scalar ops become the same
/// ops on vectors. `readWhole(operand)` gives the matching vector of an
/// operand read whole, `readChannel(operand)` the scalar of a per-channel
/// one (scalars are read here).
Value applyVectorEpilogue(OpBuilder &b, Location loc, linalg::GenericOp g, Value conv, Value acc,
                          function_ref<Value(Value)> readWhole,
                          function_ref<Value(Value)> readChannel) {
  auto rowT = cast<VectorType>(acc.getType());
  int64_t ow = rowT.getDimSize(0);
  IRMapping map;
  for (OpOperand *o : g.getDpsInputOperands()) {
    Value arg = g.getMatchingBlockArgument(o);
    AffineMap m = g.getMatchingIndexingMap(o);
    Type et = getElementTypeOrSelf(o->get().getType());
    Value v;
    if (o->get() == conv && m.isIdentity()) {
      v = acc;
    } else if (m.isIdentity()) {
      v = readWhole(o->get());
    } else {
      Value sc = m.getNumResults() == 1 ? readChannel(o->get())
                                        : tensor::ExtractOp::create(b, loc, o->get(), ValueRange{}).getResult();
      v = vector::BroadcastOp::create(b, loc, VectorType::get({ow}, et), sc);
    }
    map.map(arg, v);
  }
  for (Operation &op : g.getBody()->without_terminator()) {
    if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      Value sc = arith::ConstantOp::create(b, loc, c.getValue());
      map.map(c.getResult(), vector::BroadcastOp::create(b, loc, VectorType::get({ow}, c.getType()), sc).getResult());
      continue;
    }
    SmallVector<Value> operands;
    for (Value v : op.getOperands()) {
      Value mv = map.lookupOrNull(v);
      if (!mv) // a value from outside the body: broadcast it
        mv = vector::BroadcastOp::create(b, loc, VectorType::get({ow}, v.getType()), v);
      operands.push_back(mv);
    }
    SmallVector<Type> types;
    for (Type t : op.getResultTypes())
      types.push_back(VectorType::get({ow}, t));
    Operation *n = b.create(loc, op.getName().getIdentifier(), operands, types, op.getAttrs());
    map.map(op.getResults(), n->getResults());
  }
  return map.lookup(cast<linalg::YieldOp>(g.getBody()->getTerminator()).getValues()[0]);
}

/// applyVectorEpilogue on the pixels of channel `ch`, output row `y` from
/// column `col` on.
Value applyRowEpilogue(OpBuilder &b, Location loc, linalg::GenericOp g, Value conv, Value acc, Value ch, Value y,
                       Value col) {
  int64_t ow = cast<VectorType>(acc.getType()).getDimSize(0);
  auto zero = arith::ConstantIndexOp::create(b, loc, 0);
  return applyVectorEpilogue(
      b, loc, g, conv, acc,
      [&](Value v) -> Value {
        Type et = getElementTypeOrSelf(v.getType());
        Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(et));
        return vector::TransferReadOp::create(b, loc, VectorType::get({ow}, et), v,
                                              ValueRange{zero, ch, y, col}, pad, ArrayRef<bool>{true});
      },
      [&](Value v) -> Value { return tensor::ExtractOp::create(b, loc, v, ValueRange{ch}); });
}

/// The operands of a convolution with static shapes, a unit batch and f32
/// elements, the only kind the kernels below take; failure otherwise.
struct ConvOperands {
  Value x, w, out;
  RankedTensorType xt, wt, ot;
  SmallVector<int64_t> strides, dilations;
};

/// With `int8`, also i8 x i8 into i32 (glm-quantize's convolutions).
template <typename ConvOp>
FailureOr<ConvOperands> staticUnitBatchF32(ConvOp conv, bool int8 = false) {
  ConvOperands c{conv.getInputs()[0], conv.getInputs()[1], conv.getOutputs()[0], {}, {}, {}, {}, {}};
  c.xt = cast<RankedTensorType>(c.x.getType());
  c.wt = cast<RankedTensorType>(c.w.getType());
  c.ot = cast<RankedTensorType>(c.out.getType());
  for (RankedTensorType t : {c.xt, c.wt, c.ot})
    if (!t.hasStaticShape())
      return failure();
  bool f32 = c.xt.getElementType().isF32() && c.wt.getElementType().isF32() &&
             c.ot.getElementType().isF32();
  bool i8 = int8 && c.xt.getElementType().isInteger(8) && c.wt.getElementType().isInteger(8) &&
            c.ot.getElementType().isInteger(32);
  if (!f32 && !i8)
    return failure();
  if (c.xt.getDimSize(0) != 1)
    return failure();
  c.strides = llvm::to_vector(conv.getStrides().template getValues<int64_t>());
  c.dilations = llvm::to_vector(conv.getDilations().template getValues<int64_t>());
  return c;
}

/// A static, unit-batch depthwise_conv_2d_nchw_chw as a direct kernel: one
/// parallel task per channel; per output row, the row in chunks of one
/// vector register (`lanes` pixels), each an accumulator updated by KH*KW
/// broadcast-weight FMAs over input pixels (loadPixelRow: a plain load
/// inside the row, a load and a shuffle with zeros only in the chunks at
/// the padding, a load and an even-lane shuffle for stride 2). Left to
/// linalg, the convolution became scalar loops that made MobileNet and
/// EfficientNet 5x slower than ONNX Runtime; a whole row per vector (up to
/// 112 floats, shuffled as one) ran at a third of ONNX Runtime's speed.
LogicalResult rewriteDepthwiseConv(RewriterBase &rewriter, linalg::DepthwiseConv2DNchwChwOp conv, int64_t lanes) {
  FailureOr<ConvOperands> ops = staticUnitBatchF32(conv);
  if (failed(ops))
    return failure();
  Value x = ops->x, w = ops->w, out = ops->out;
  RankedTensorType wt = ops->wt, ot = ops->ot;
  ArrayRef<int64_t> strides = ops->strides, dilations = ops->dilations;
  int64_t c = ot.getDimSize(1), oh = ot.getDimSize(2), ow = ot.getDimSize(3);
  int64_t kh = wt.getDimSize(1), kw = wt.getDimSize(2);
  Location loc = conv.getLoc();
  Type et = ot.getElementType();
  auto planeT = RankedTensorType::get({oh, ow}, et);
  // The bias init (a per-channel broadcast) starts each accumulator
  // instead of a pass over the output; an element-wise consumer (the
  // activation) is applied to each accumulator before it is stored.
  std::optional<ZeroPadded> zp = zeroPaddedInput(x);
  Value src = zp ? zp->src : x;
  Value bias, dest = out;
  auto init = out.getDefiningOp<linalg::GenericOp>();
  if (init && isChannelBroadcast(init) && out.hasOneUse()) {
    bias = init.getDpsInputs()[0];
    dest = init.getDpsInits()[0];
  }
  linalg::GenericOp epilogue;
  Value result = conv.getResult(0);
  if (result.hasOneUse())
    if (auto g = dyn_cast<linalg::GenericOp>(*result.getUsers().begin()); g && isRowEpilogue(g, result))
      epilogue = g;
  rewriter.setInsertionPoint(epilogue ? epilogue.getOperation() : conv.getOperation());
  auto cst = [&](OpBuilder &b, int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
  auto forall = scf::ForallOp::create(rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(c)},
                                      ValueRange{dest}, std::nullopt);
  {
    OpBuilder::InsertionGuard guard(rewriter);
    OpBuilder &b = rewriter;
    Location l = loc;
    b.setInsertionPoint(forall.getTerminator());
    Value ch = forall.getInductionVar(0), o = forall.getRegionIterArgs()[0];
    SmallVector<OpFoldResult> offs{b.getIndexAttr(0), ch, b.getIndexAttr(0), b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(oh), b.getIndexAttr(ow)};
    SmallVector<OpFoldResult> ones(4, b.getIndexAttr(1));
    Value plane = tensor::ExtractSliceOp::create(b, l, planeT, o, offs, sizes, ones);
    // The chunks of a row (rowChunks).
    SmallVector<int64_t> chunkStarts;
    const int64_t n = rowChunks(ow, lanes, chunkStarts);
    auto vt = VectorType::get({n}, et);
    // The channel's bias and KH*KW weights, broadcast once.
    Value biasVector;
    if (bias)
      biasVector = vector::BroadcastOp::create(b, l, vt, tensor::ExtractOp::create(b, l, bias, ValueRange{ch}));
    SmallVector<Value> wVectors;
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j)
        wVectors.push_back(
            vector::BroadcastOp::create(b, l, vt, tensor::ExtractOp::create(b, l, w, ValueRange{ch, cst(b, i), cst(b, j)})));
    auto rows = scf::ForOp::create(
        b, l, cst(b, 0), cst(b, oh), cst(b, 1), ValueRange{plane},
        [&](OpBuilder &nb, Location nl, Value y, ValueRange it) {
          Value pad = arith::ConstantOp::create(nb, nl, nb.getZeroAttr(et));
          Value ybase = strides[0] == 1 ? y : arith::MulIOp::create(nb, nl, y, cst(nb, strides[0])).getResult();
          SmallVector<Value> ihs, insides;
          for (int64_t i = 0; i < kh; ++i) {
            ihs.push_back(arith::AddIOp::create(nb, nl, ybase, cst(nb, i * dilations[0])));
            insides.push_back(zp ? rowInside(nb, nl, ihs.back(), *zp) : Value());
          }
          Value cur = it[0];
          // Without a bias, each chunk starts from the row as it came in,
          // all read before the first write (chunks may overlap, and a read
          // after a write to the same buffer would need a copy).
          SmallVector<Value> inits;
          for (int64_t x0 : chunkStarts)
            inits.push_back(biasVector ? biasVector
                                       : vector::TransferReadOp::create(nb, nl, vt, it[0], ValueRange{y, cst(nb, x0)},
                                                                        pad, ArrayRef<bool>{true})
                                             .getResult());
          for (size_t xi = 0; xi < chunkStarts.size(); ++xi) {
            int64_t x0 = chunkStarts[xi];
            Value col = cst(nb, x0);
            Value acc = inits[xi];
            for (int64_t i = 0; i < kh; ++i) {
              auto kernelRow = [&](OpBuilder &rb, Value a) {
                Value sih = zp ? arith::SubIOp::create(rb, nl, ihs[i], cst(rb, zp->top)).getResult() : ihs[i];
                for (int64_t j = 0; j < kw; ++j) {
                  Value row = loadPixelRow(rb, nl, src, ch, sih, x0 * strides[1] + j * dilations[1], n, strides[1],
                                           zp ? &*zp : nullptr);
                  a = vector::FMAOp::create(rb, nl, row, wVectors[i * kw + j], a);
                }
                return a;
              };
              if (!zp) {
                acc = kernelRow(nb, acc);
                continue;
              }
              // A kernel row over the top or bottom padding adds nothing.
              auto inside = scf::IfOp::create(
                  nb, nl, insides[i],
                  [&](OpBuilder &tb, Location tl) { scf::YieldOp::create(tb, tl, kernelRow(tb, acc)); },
                  [&](OpBuilder &eb, Location el) { scf::YieldOp::create(eb, el, acc); });
              acc = inside.getResult(0);
            }
            if (epilogue)
              acc = applyRowEpilogue(nb, epilogue.getLoc(), epilogue, result, acc, ch, y, col);
            cur = vector::TransferWriteOp::create(nb, nl, acc, cur, ValueRange{y, col}, ArrayRef<bool>{true})
                      .getResult();
          }
          scf::YieldOp::create(nb, nl, cur);
        });
    b.setInsertionPointToEnd(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(b, l, rows.getResult(0), o, offs, sizes, ones);
  }
  if (epilogue) {
    rewriter.replaceOp(epilogue, forall.getResults());
    rewriter.eraseOp(conv);
  } else {
    rewriter.replaceOp(conv, forall.getResults());
  }
  if (bias && init->use_empty())
    rewriter.eraseOp(init);
  if (zp && x.use_empty())
    rewriter.eraseOp(x.getDefiningOp());
  return success();
}

/// The im2col matrix of an NCHW convolution: col[K, P] with
/// col[k, oh*OW + ow] = x[0, c, oh*sh + kh*dh, ow*sw + kw*dw] for
/// k = (c*KH + kh)*KW + kw and P = OH*OW. One loop iteration copies a row
/// of OW pixels as one vector (loadPixelRow); over a zero-padded input,
/// the KW rows of one (c, kh, oh) together, as each needs its own static
/// shuffle. A small matrix is written by one flat loop over the rows (a
/// nest of short loops was fully unrolled by LLVM, and the code outweighed
/// a small model's pruned weights), a large one by one parallel task per
/// input channel. Upstream's im2col is one generic with a floordiv/mod map per
/// element, which stays scalar: it took more time than the contraction.
/// A 1x1, stride-1 convolution reads x itself.
Value buildIm2Col(OpBuilder &b, Location loc, Value x, int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                  ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations, int64_t lanes) {
  auto xt = cast<RankedTensorType>(x.getType());
  int64_t c = xt.getDimSize(1), k = c * kh * kw, p = oh * ow;
  Type et = xt.getElementType();
  auto colT = RankedTensorType::get({k, p}, et);
  if (kh == 1 && kw == 1 && strides[0] == 1 && strides[1] == 1 && xt.getDimSize(2) == oh &&
      xt.getDimSize(3) == ow)
    return tensor::CollapseShapeOp::create(b, loc, colT, x, SmallVector<ReassociationIndices>{{0, 1}, {2, 3}});
  Value col = tensor::EmptyOp::create(b, loc, colT.getShape(), et);
  auto cst = [&](OpBuilder &nb, int64_t v) { return arith::ConstantIndexOp::create(nb, loc, v).getResult(); };
  std::optional<ZeroPadded> zp = zeroPaddedInput(x);
  Value src = zp ? zp->src : x;
  // Each row in chunks of one register (rowChunks): a row of 112 pixels
  // at stride 2 was one 224-float load and shuffle.
  SmallVector<int64_t> chunkStarts;
  int64_t width = rowChunks(ow, lanes, chunkStarts);
  auto chunkT = VectorType::get({width}, et);
  // Writes the row of (ch, kh, kw, oh) into row `row` of `dest`; over a
  // zero-padded input (kx null) the KW rows of (ch, kh, oh) from `row` on,
  // zeros where the kernel row lies over the padding.
  auto writeRows = [&](OpBuilder &wb, Location l, Value dest, Value ch, Value ky, Value kx, Value y,
                       Value row) -> Value {
    auto mul = [&](Value v, int64_t f) -> Value {
      return f == 1 ? v : arith::MulIOp::create(wb, l, v, cst(wb, f)).getResult();
    };
    Value ih = arith::AddIOp::create(wb, l, mul(y, strides[0]), mul(ky, dilations[0]));
    Value at = mul(y, ow);
    auto atChunk = [&](OpBuilder &ab, int64_t x0) {
      return x0 ? arith::AddIOp::create(ab, l, at, cst(ab, x0)).getResult() : at;
    };
    if (!zp) {
      Value iw = mul(kx, dilations[1]);
      for (int64_t x0 : chunkStarts) {
        Value iw0 = x0 ? arith::AddIOp::create(wb, l, iw, cst(wb, x0 * strides[1])).getResult() : iw;
        Value v = loadPixelRow(wb, l, src, ch, ih, 0, width, strides[1], nullptr, iw0);
        dest = vector::TransferWriteOp::create(wb, l, v, dest, ValueRange{row, atChunk(wb, x0)},
                                               ArrayRef<bool>{true})
                   .getResult();
      }
      return dest;
    }
    // Chunk x of kernel column j is result j * chunks + x.
    int64_t chunks = chunkStarts.size();
    auto inside = scf::IfOp::create(
        wb, l, rowInside(wb, l, ih, *zp),
        [&](OpBuilder &tb, Location tl) {
          Value sih = arith::SubIOp::create(tb, tl, ih, cst(tb, zp->top));
          SmallVector<Value> pieces;
          for (int64_t j = 0; j < kw; ++j)
            for (int64_t x0 : chunkStarts)
              pieces.push_back(loadPixelRow(tb, tl, src, ch, sih, j * dilations[1] + x0 * strides[1], width,
                                            strides[1], &*zp));
          scf::YieldOp::create(tb, tl, pieces);
        },
        [&](OpBuilder &eb, Location el) {
          Value z = arith::ConstantOp::create(eb, el, chunkT, DenseElementsAttr::get(chunkT, eb.getZeroAttr(et)));
          scf::YieldOp::create(eb, el, SmallVector<Value>(kw * chunks, z));
        });
    for (int64_t j = 0; j < kw; ++j) {
      Value r = arith::AddIOp::create(wb, l, row, cst(wb, j));
      for (auto [xi, x0] : llvm::enumerate(chunkStarts))
        dest = vector::TransferWriteOp::create(wb, l, inside.getResult(j * chunks + xi), dest,
                                               ValueRange{r, atChunk(wb, x0)}, ArrayRef<bool>{true})
                   .getResult();
    }
    return dest;
  };
  int64_t perRow = zp ? 1 : kw; // loop iterations per (c, kh, oh)
  // A small matrix (under 64K elements) is copied by one loop: a parallel
  // task per channel would cost more to dispatch (and its outlined task
  // more code) than the copy.
  constexpr int64_t kParallelIm2ColElements = 1 << 16;
  if (k * p < kParallelIm2ColElements) {
    // r = ((c * KH + kh) [* KW + kw]) * OH + oh.
    auto loop = scf::ForOp::create(
        b, loc, cst(b, 0), cst(b, c * kh * perRow * oh), cst(b, 1), ValueRange{col},
        [&](OpBuilder &lb, Location l, Value r, ValueRange it) {
          auto div = [&](Value v, int64_t d) { return arith::DivUIOp::create(lb, l, v, cst(lb, d)).getResult(); };
          auto rem = [&](Value v, int64_t d) { return arith::RemUIOp::create(lb, l, v, cst(lb, d)).getResult(); };
          Value y = rem(r, oh), t = div(r, oh);
          Value kx = zp ? Value() : rem(t, kw);
          Value t2 = zp ? t : div(t, kw);
          Value row = zp ? arith::MulIOp::create(lb, l, t, cst(lb, kw)).getResult() : t;
          scf::YieldOp::create(lb, l, writeRows(lb, l, it[0], div(t2, kh), rem(t2, kh), kx, y, row));
        });
    return loop.getResult(0);
  }
  // One parallel task per input channel: its KH*KW rows of col.
  OpBuilder::InsertionGuard guard(b);
  auto forall = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(c)}, ValueRange{col},
                                      std::nullopt);
  b.setInsertionPoint(forall.getTerminator());
  Value ch = forall.getInductionVar(0);
  int64_t rows = kh * kw;
  SmallVector<OpFoldResult> offs{arith::MulIOp::create(b, loc, ch, cst(b, rows)).getResult(), b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes{b.getIndexAttr(rows), b.getIndexAttr(p)};
  SmallVector<OpFoldResult> ones(2, b.getIndexAttr(1));
  Value block = tensor::ExtractSliceOp::create(b, loc, RankedTensorType::get({rows, p}, et),
                                               forall.getRegionIterArgs()[0], offs, sizes, ones);
  // Per channel a nest (kh, [kw], oh): the flat loop's index arithmetic
  // made a 3x3 convolution over 64 channels 15 % slower.
  SmallVector<Value> ubs{cst(b, kh)};
  if (!zp)
    ubs.push_back(cst(b, kw));
  ubs.push_back(cst(b, oh));
  SmallVector<Value> lbs(ubs.size(), cst(b, 0)), steps(ubs.size(), cst(b, 1));
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, ValueRange{block},
      [&](OpBuilder &nb, Location l, ValueRange iv, ValueRange args) -> scf::ValueVector {
        Value first = arith::MulIOp::create(nb, l, iv[0], cst(nb, kw));
        Value kx = zp ? Value() : iv[1];
        Value row = zp ? first : arith::AddIOp::create(nb, l, first, kx).getResult();
        return {writeRows(nb, l, args[0], ch, iv[0], kx, iv.back(), row)};
      });
  Value filled = nest.results.front();
  b.setInsertionPointToEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, filled, forall.getRegionIterArgs()[0], offs, sizes, ones);
  return forall.getResult(0);
}

/// The same all-parallel generic on [F, P] instead of [1, F, OH, OW]:
/// operands read whole (identity map) are collapsed, per-channel ones
/// (map to d1) and scalars kept. Empty when `g` is of another form (a
/// body that reads linalg.index, or other maps).
linalg::GenericOp collapseToChannelsPixels(RewriterBase &rewriter, linalg::GenericOp g,
                                           const DenseMap<Value, Value> &collapsed) {
  if (g.getNumReductionLoops() != 0 || g.getNumLoops() != 4 || g.getNumResults() != 1 ||
      !g.getBody()->getOps<linalg::IndexOp>().empty())
    return {};
  MLIRContext *ctx = g.getContext();
  AffineExpr f = getAffineDimExpr(0, ctx), pe = getAffineDimExpr(1, ctx);
  AffineMap channel4 = channelMap(ctx);
  SmallVector<Value> ins, outs;
  SmallVector<AffineMap> maps;
  Location loc = g.getLoc();
  SmallVector<ReassociationIndices> flat{{0, 1}, {2, 3}};
  for (OpOperand &o : g->getOpOperands()) {
    AffineMap m = g.getMatchingIndexingMap(&o);
    Value v = o.get();
    Value nv;
    AffineMap nm;
    if (m.isIdentity()) {
      auto t = cast<RankedTensorType>(v.getType());
      if (!t.hasStaticShape() || t.getDimSize(0) != 1)
        return {};
      auto it = collapsed.find(v);
      nv = it != collapsed.end()
               ? it->second
               : tensor::CollapseShapeOp::create(
                     rewriter, loc,
                     RankedTensorType::get({t.getDimSize(1), t.getDimSize(2) * t.getDimSize(3)}, t.getElementType()),
                     v, flat)
                     .getResult();
      nm = AffineMap::get(2, 0, {f, pe}, ctx);
    } else if (m == channel4) {
      nv = v;
      nm = AffineMap::get(2, 0, {f}, ctx);
    } else if (m.getNumResults() == 0) {
      nv = v;
      nm = AffineMap::get(2, 0, {}, ctx);
    } else {
      return {};
    }
    (g.isDpsInit(&o) ? outs : ins).push_back(nv);
    maps.push_back(nm);
  }
  auto resT = cast<RankedTensorType>(outs[0].getType());
  SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
  auto n = linalg::GenericOp::create(rewriter, loc, TypeRange{resT}, ins, outs, maps, iters);
  rewriter.cloneRegionBefore(g.getRegion(), n.getRegion(), n.getRegion().end());
  return n;
}

/// A unit-batch, static conv_2d_nchw_fchw as out[F, P] += W[F, K] *
/// col[K, P] (buildIm2Col) on the matmul path; P = OH*OW need not be a
/// whole number of register tiles (remainder tiles are padded vectors).
LogicalResult rewriteConvAsMatmul(RewriterBase &rewriter, linalg::Conv2DNchwFchwOp conv, int64_t lanes) {
  FailureOr<ConvOperands> ops = staticUnitBatchF32(conv, /*int8=*/true);
  if (failed(ops))
    return failure();
  Value x = ops->x, w = ops->w, out = ops->out;
  RankedTensorType wt = ops->wt, ot = ops->ot;
  ArrayRef<int64_t> strides = ops->strides, dilations = ops->dilations;
  int64_t f = wt.getDimSize(0), kh = wt.getDimSize(2), kw = wt.getDimSize(3);
  int64_t oh = ot.getDimSize(2), ow = ot.getDimSize(3);
  int64_t k = wt.getDimSize(1) * kh * kw, p = oh * ow;
  Location loc = conv.getLoc();
  rewriter.setInsertionPoint(conv);
  Value col = buildIm2Col(rewriter, loc, x, kh, kw, oh, ow, strides, dilations, lanes);
  auto w2t = RankedTensorType::get({f, k}, wt.getElementType());
  Value w2 = tensor::CollapseShapeOp::create(rewriter, loc, w2t, w, SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});
  auto o2t = RankedTensorType::get({f, p}, ot.getElementType());
  SmallVector<ReassociationIndices> flat{{0, 1}, {2, 3}};
  // The bias init as a [F, P] broadcast, which the contraction's parallel
  // tiles compute for themselves (fused producer) instead of a pass over
  // the whole output before the contraction.
  Value init;
  auto bias = out.getDefiningOp<linalg::GenericOp>();
  if (bias && isChannelBroadcast(bias) && out.hasOneUse()) {
    Value empty = tensor::EmptyOp::create(rewriter, loc, o2t.getShape(), o2t.getElementType());
    SmallVector<AffineMap> maps{AffineMap::get(2, 0, {rewriter.getAffineDimExpr(0)}, rewriter.getContext()),
                                AffineMap::getMultiDimIdentityMap(2, rewriter.getContext())};
    auto b2 = linalg::GenericOp::create(
        rewriter, loc, TypeRange{o2t}, ValueRange{bias.getDpsInputs()[0]}, ValueRange{empty}, maps,
        SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
        [](OpBuilder &nb, Location l, ValueRange a) { linalg::YieldOp::create(nb, l, a[0]); });
    b2->setAttr(kFusedTile, rewriter.getUnitAttr());
    init = b2.getResult(0);
  } else {
    init = tensor::CollapseShapeOp::create(rewriter, loc, o2t, out, flat);
  }
  auto mm = linalg::MatmulOp::create(rewriter, loc, TypeRange{o2t}, ValueRange{w2, col}, ValueRange{init});
  Value res4 = tensor::ExpandShapeOp::create(rewriter, loc, ot, mm.getResult(0), flat);
  rewriter.replaceOp(conv, res4);
  // The element-wise op after the convolution (activation, residual add,
  // the bias of a bias-free init) on [F, P]: the contraction's parallel
  // tiles apply it to their own tile while it is in cache (fused consumer).
  if (res4.hasOneUse()) {
    if (auto epi = dyn_cast<linalg::GenericOp>(*res4.getUsers().begin())) {
      rewriter.setInsertionPoint(epi);
      DenseMap<Value, Value> collapsed{{res4, mm.getResult(0)}};
      if (linalg::GenericOp e2 = collapseToChannelsPixels(rewriter, epi, collapsed)) {
        e2->setAttr(kFusedTile, rewriter.getUnitAttr());
        rewriter.replaceOp(epi, tensor::ExpandShapeOp::create(rewriter, loc, cast<RankedTensorType>(epi.getResult(0).getType()),
                                                              e2.getResult(0), flat)
                                     .getResult());
      }
    }
  }
  return success();
}

/// The int8 dot-product instruction a kernel is built for.
enum class Int8Dot {
  Vnni,    ///< AVX-512 VNNI vpdpbusd: 16 lanes, uint8 x int8 quads
  Dotprod, ///< AArch64 dotprod sdot: 4 lanes, int8 x int8 quads
  Pmaddwd, ///< AVX2 vpmaddwd: 8 lanes, int16 x int16 pairs (int8 widened)
};

/// An int8 convolution (glm-quantize: i8 x i8 into a zero-filled i32
/// accumulator) on int8 dot-product instructions: im2col (buildIm2Col), its
/// rows packed in quads, then out[F, P] by register tiles of
/// glm.dot4_accumulate (glm-lower-int8-dots makes them vpdpbusd or sdot).
///
/// vpdpbusd adds to each i32 lane the dot product of 4 unsigned bytes and
/// 4 signed bytes. The lanes are 16 pixels; their 4 bytes are 4
/// consecutive rows k of col: colq[q, 4p + j] = col[4q + j, p] + 128 (the
/// int8 data as uint8, by flipping the sign bit), and the weight bytes
/// W[f, 4q..4q+3], one i32 broadcast to every lane, are the signed side.
/// The +128 adds 128 * sum_k W[f, k] to row f, which the accumulators
/// start from minus. No saturation anywhere (unlike vpmaddubsw): the
/// result is exactly the i32 contraction. sdot (AArch64 dotprod) takes
/// int8 on both sides: no flip, no correction, 4 pixels a vector. A tile
/// is MR rows of F by NV vectors of pixels; F and P are padded to whole
/// tiles (the weights at compile time), K to whole quads, and the padding
/// sliced off.
LogicalResult rewriteInt8ConvDot(RewriterBase &rewriter, linalg::Conv2DNchwFchwOp conv,
                                 int64_t lanes, Int8Dot isa) {
  FailureOr<ConvOperands> ops = staticUnitBatchF32(conv, /*int8=*/true);
  if (failed(ops) || !ops->xt.getElementType().isInteger(8))
    return failure();
  // A zero accumulator: a zero fill, or a slice of one (the tile of a
  // dynamic batch, whose loop carries the filled tensor and writes each
  // batch element's slice once).
  Value acc0 = ops->out;
  while (true) {
    if (auto slice = acc0.getDefiningOp<tensor::ExtractSliceOp>()) {
      acc0 = slice.getSource();
      continue;
    }
    auto arg = dyn_cast<BlockArgument>(acc0);
    auto loop = arg ? dyn_cast<scf::ForOp>(arg.getOwner()->getParentOp()) : nullptr;
    if (!loop || arg.getArgNumber() == 0)
      break;
    acc0 = loop.getTiedLoopInit(arg)->get();
  }
  auto fill = acc0.getDefiningOp<linalg::FillOp>();
  if (!fill || !matchPattern(fill.getInputs()[0], m_Zero()))
    return failure();
  ElementsAttr wAttr;
  if (!matchPattern(ops->w, m_Constant(&wAttr)))
    return failure();
  std::optional<SmallVector<double>> wv = glm::getValuesAsDouble(wAttr);
  if (!wv)
    return failure();
  // Per instruction: L lanes of G products of E (G * bits(E) = 32); tiles
  // of MR rows x NV vectors (within the target's registers); PW pixels per
  // step of the packing (its layout does not depend on L).
  const bool flipData = isa == Int8Dot::Vnni;
  const int64_t G = isa == Int8Dot::Pmaddwd ? 2 : 4;
  const int64_t MR = 6, NV = isa == Int8Dot::Pmaddwd ? 2 : 4,
                L = isa == Int8Dot::Vnni ? 16 : isa == Int8Dot::Pmaddwd ? 8 : 4, PT = NV * L, PW = 16;
  Type E = rewriter.getIntegerType(32 / G);
  RankedTensorType wt = ops->wt, ot = ops->ot;
  int64_t f = wt.getDimSize(0), kh = wt.getDimSize(2), kw = wt.getDimSize(3);
  int64_t k = wt.getDimSize(1) * kh * kw, oh = ot.getDimSize(2), ow = ot.getDimSize(3), p = oh * ow;
  int64_t kq = (k + G - 1) / G, fp = (f + MR - 1) / MR * MR,
          pp = (p + std::max(PT, PW) - 1) / std::max(PT, PW) * std::max(PT, PW);
  Location loc = conv.getLoc();
  Type i8 = rewriter.getI8Type(), i32 = rewriter.getI32Type();

  // Weights as [FP, KQ] i32 (G values of a row each, little-endian) and
  // each row's accumulator start (-128 * sum of its weights when flipped).
  SmallVector<int32_t> packed(fp * kq, 0), start(fp, 0);
  const uint32_t mask = G == 4 ? 0xffu : 0xffffu;
  for (int64_t o = 0; o < f; ++o)
    for (int64_t i = 0; i < k; ++i) {
      int32_t value = int32_t(int8_t(int64_t((*wv)[o * k + i])));
      packed[o * kq + i / G] |= int32_t((uint32_t(value) & mask) << ((32 / G) * (i % G)));
      if (flipData)
        start[o] -= 128 * value;
    }
  // The element-wise op after the convolution (its dequantization, with
  // an activation or residual add fused into it), applied by each tile to
  // its accumulators while they are in registers: the float output is
  // written once, by the parallel tiles. The kernel is built where that op
  // is (its other operands, e.g. a residual, may come after the
  // convolution; the convolution's own operands come before both).
  linalg::GenericOp epi;
  Value convResult = conv.getResult(0);
  if (convResult.hasOneUse())
    if (auto g = dyn_cast<linalg::GenericOp>(*convResult.getUsers().begin());
        g && g->getBlock() == conv->getBlock() && isRowEpilogue(g, convResult, /*anyElementType=*/true))
      epi = g;
  rewriter.setInsertionPoint(epi ? epi.getOperation() : conv.getOperation());
  Value w4 = arith::ConstantOp::create(
      rewriter, loc,
      DenseElementsAttr::get(RankedTensorType::get({fp, kq}, i32), ArrayRef<int32_t>(packed)));
  Value starts = arith::ConstantOp::create(
      rewriter, loc, DenseElementsAttr::get(RankedTensorType::get({fp}, i32), ArrayRef<int32_t>(start)));

  Value col = buildIm2Col(rewriter, loc, ops->x, kh, kw, oh, ow, ops->strides, ops->dilations, lanes);
  auto cst = [&](OpBuilder &b, int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
  if (kq * G != k) {
    // Whole groups: the extra rows meet zero weights, any value does.
    SmallVector<OpFoldResult> low{rewriter.getIndexAttr(0), rewriter.getIndexAttr(0)};
    SmallVector<OpFoldResult> high{rewriter.getIndexAttr(kq * G - k), rewriter.getIndexAttr(0)};
    Value padValue = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(i8));
    col = tensor::PadOp::create(rewriter, loc, RankedTensorType::get({kq * G, p}, i8), col, low, high,
                                padValue, /*nofold=*/false);
  }

  // colq[q, G * pix + j] = col[Gq + j, pix] (^ 0x80, or widened to E),
  // pixels past P zero.
  auto rowT = VectorType::get({PW}, i8);
  Value colq = tensor::EmptyOp::create(rewriter, loc, ArrayRef<int64_t>{kq, pp * G}, E);
  Value zero8 = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(i8));
  Value zeroE = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(E));
  Value flip = arith::ConstantOp::create(rewriter, loc, DenseElementsAttr::get(rowT, rewriter.getIntegerAttr(i8, -128)));
  // One row of colq (a quad of col rows) into `dest` at row `destRow`.
  auto packRow = [&](OpBuilder &b, Location l, Value q, Value dest, Value destRow) -> Value {
    auto inner = scf::ForOp::create(
        b, l, cst(b, 0), cst(b, pp / PW), cst(b, 1), ValueRange{dest},
        [&](OpBuilder &ib, Location il, Value c, ValueRange it) {
          Value pix = arith::MulIOp::create(ib, il, c, cst(ib, PW));
          Value base = arith::MulIOp::create(ib, il, q, cst(ib, G));
          SmallVector<Value> rows;
          for (int64_t j = 0; j < G; ++j) {
            Value r = arith::AddIOp::create(ib, il, base, cst(ib, j));
            Value v = vector::TransferReadOp::create(ib, il, rowT, col, ValueRange{r, pix}, zero8,
                                                     ArrayRef<bool>{p % PW == 0});
            if (flipData)
              v = arith::XOrIOp::create(ib, il, v, flip);
            if (E != i8)
              v = arith::ExtSIOp::create(ib, il, VectorType::get({PW}, E), v);
            rows.push_back(v);
          }
          Value quad;
          if (G == 2) {
            quad = vector::InterleaveOp::create(ib, il, rows[0], rows[1]);
          } else {
            Value a = vector::InterleaveOp::create(ib, il, rows[0], rows[2]);
            Value bb = vector::InterleaveOp::create(ib, il, rows[1], rows[3]);
            quad = vector::InterleaveOp::create(ib, il, a, bb);
          }
          Value at = arith::MulIOp::create(ib, il, pix, cst(ib, G));
          Value w = vector::TransferWriteOp::create(ib, il, quad, it[0], ValueRange{destRow, at},
                                                    ArrayRef<bool>{true})
                        .getResult();
          scf::YieldOp::create(ib, il, w);
        });
    return inner.getResult(0);
  };
  // A small matrix in one loop; a large one a parallel task per quad (as
  // buildIm2Col: dispatching tasks costs more than a small copy).
  constexpr int64_t kParallelPackBytes = 1 << 16;
  if (kq * pp * 4 < kParallelPackBytes) { // G * bits(E) = 32: 4 bytes per pixel and group
    colq = scf::ForOp::create(rewriter, loc, cst(rewriter, 0), cst(rewriter, kq), cst(rewriter, 1),
                              ValueRange{colq},
                              [&](OpBuilder &b, Location l, Value q, ValueRange it) {
                                scf::YieldOp::create(b, l, packRow(b, l, q, it[0], q));
                              })
               .getResult(0);
  } else {
    auto forall = scf::ForallOp::create(rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(kq)},
                                        ValueRange{colq}, std::nullopt);
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(forall.getTerminator());
    Value q = forall.getInductionVar(0);
    Value row = tensor::EmptyOp::create(rewriter, loc, ArrayRef<int64_t>{1, pp * G}, E);
    row = packRow(rewriter, loc, q, row, cst(rewriter, 0));
    rewriter.setInsertionPointToEnd(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(
        rewriter, loc, row, forall.getRegionIterArgs()[0], SmallVector<OpFoldResult>{q, rewriter.getIndexAttr(0)},
        SmallVector<OpFoldResult>{rewriter.getIndexAttr(1), rewriter.getIndexAttr(pp * G)},
        SmallVector<OpFoldResult>(2, rewriter.getIndexAttr(1)));
    colq = forall.getResult(0);
  }

  Type outEt = epi ? getElementTypeOrSelf(epi.getResult(0).getType()) : Type(i32);
  // Operands the epilogue reads whole, as [F, P].
  DenseMap<Value, Value> flat;
  if (epi)
    for (OpOperand *o : epi.getDpsInputOperands())
      if (o->get() != convResult && epi.getMatchingIndexingMap(o).isIdentity() && !flat.count(o->get())) {
        auto t = cast<RankedTensorType>(o->get().getType());
        flat[o->get()] = tensor::CollapseShapeOp::create(
            rewriter, loc, RankedTensorType::get({f, p}, t.getElementType()), o->get(),
            SmallVector<ReassociationIndices>{{0, 1}, {2, 3}});
      }

  // out[FP, PP] by tiles of MR x PT, one parallel task each.
  auto accT = VectorType::get({L}, i32);
  auto quadT = VectorType::get({G * L}, E);
  auto outT = RankedTensorType::get({fp, pp}, outEt);
  auto tileT = RankedTensorType::get({MR, PT}, outEt);
  Value out = tensor::EmptyOp::create(rewriter, loc, outT.getShape(), outEt);
  auto forall = scf::ForallOp::create(
      rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(fp / MR), rewriter.getIndexAttr(pp / PT)},
      ValueRange{out}, std::nullopt);
  {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(forall.getTerminator());
    Value f0 = arith::MulIOp::create(rewriter, loc, forall.getInductionVar(0), cst(rewriter, MR));
    Value p0 = arith::MulIOp::create(rewriter, loc, forall.getInductionVar(1), cst(rewriter, PT));
    SmallVector<Value> init;
    for (int64_t m = 0; m < MR; ++m) {
      Value row = arith::AddIOp::create(rewriter, loc, f0, cst(rewriter, m));
      Value s0 = tensor::ExtractOp::create(rewriter, loc, starts, ValueRange{row});
      Value v = vector::BroadcastOp::create(rewriter, loc, accT, s0);
      init.append(NV, v);
    }
    auto kloop = scf::ForOp::create(
        rewriter, loc, cst(rewriter, 0), cst(rewriter, kq), cst(rewriter, 1), init,
        [&](OpBuilder &b, Location l, Value q, ValueRange acc) {
          SmallVector<Value> cols;
          for (int64_t c = 0; c < NV; ++c) {
            Value at = arith::MulIOp::create(
                b, l, arith::AddIOp::create(b, l, p0, cst(b, c * L)), cst(b, G));
            Value v = vector::TransferReadOp::create(b, l, quadT, colq, ValueRange{q, at}, zeroE,
                                                     ArrayRef<bool>{true});
            cols.push_back(vector::BitCastOp::create(b, l, accT, v));
          }
          SmallVector<Value> next;
          for (int64_t m = 0; m < MR; ++m) {
            Value row = arith::AddIOp::create(b, l, f0, cst(b, m));
            Value wq = tensor::ExtractOp::create(b, l, w4, ValueRange{row, q});
            Value wb = vector::BroadcastOp::create(b, l, accT, wq);
            for (int64_t c = 0; c < NV; ++c)
              next.push_back(G == 2 ? glm::Dot2AccumulateOp::create(b, l, acc[m * NV + c], cols[c], wb)
                                          .getResult()
                                    : glm::Dot4AccumulateOp::create(b, l, acc[m * NV + c], cols[c],
                                                                    wb, /*a_signed=*/!flipData)
                                          .getResult());
          }
          scf::YieldOp::create(b, l, next);
        });
    Value tile = tensor::EmptyOp::create(rewriter, loc, tileT.getShape(), outEt);
    for (int64_t m = 0; m < MR; ++m) {
      // Padding rows (F rounded up to MR) read the last real channel; they
      // are sliced off.
      Value ch = arith::MinUIOp::create(rewriter, loc, arith::AddIOp::create(rewriter, loc, f0, cst(rewriter, m)),
                                        cst(rewriter, f - 1));
      for (int64_t c = 0; c < NV; ++c) {
        Value v = kloop.getResult(m * NV + c);
        if (epi) {
          Value pix = arith::AddIOp::create(rewriter, loc, p0, cst(rewriter, c * L));
          v = applyVectorEpilogue(
              rewriter, loc, epi, convResult, v,
              [&](Value operand) -> Value {
                Type et = getElementTypeOrSelf(operand.getType());
                Value pad = arith::ConstantOp::create(rewriter, loc, rewriter.getZeroAttr(et));
                return vector::TransferReadOp::create(rewriter, loc, VectorType::get({L}, et),
                                                      flat.lookup(operand), ValueRange{ch, pix}, pad,
                                                      ArrayRef<bool>{p % L == 0 && pp == p})
                    .getResult();
              },
              [&](Value operand) -> Value {
                return tensor::ExtractOp::create(rewriter, loc, operand, ValueRange{ch});
              });
        }
        tile = vector::TransferWriteOp::create(rewriter, loc, v, tile,
                                               ValueRange{cst(rewriter, m), cst(rewriter, c * L)},
                                               ArrayRef<bool>{true})
                   .getResult();
      }
    }
    rewriter.setInsertionPointToEnd(forall.getTerminator().getBody());
    SmallVector<OpFoldResult> offs{f0, p0}, sizes{rewriter.getIndexAttr(MR), rewriter.getIndexAttr(PT)},
        ones(2, rewriter.getIndexAttr(1));
    tensor::ParallelInsertSliceOp::create(rewriter, loc, tile, forall.getRegionIterArgs()[0], offs, sizes, ones);
  }
  Value res = forall.getResult(0);
  if (fp != f || pp != p)
    res = tensor::ExtractSliceOp::create(
        rewriter, loc, RankedTensorType::get({f, p}, outEt), res,
        SmallVector<OpFoldResult>{rewriter.getIndexAttr(0), rewriter.getIndexAttr(0)},
        SmallVector<OpFoldResult>{rewriter.getIndexAttr(f), rewriter.getIndexAttr(p)},
        SmallVector<OpFoldResult>(2, rewriter.getIndexAttr(1)));
  Value res4 = tensor::ExpandShapeOp::create(rewriter, loc, ot.clone(outEt), res,
                                             SmallVector<ReassociationIndices>{{0, 1}, {2, 3}});
  if (epi) {
    rewriter.replaceOp(epi, res4);
    rewriter.eraseOp(conv);
  } else {
    rewriter.replaceOp(conv, res4);
  }
  return success();
}

/// A static, unit-batch grouped convolution (conv_2d_ngchw_gfchw) as one
/// batched contraction over the groups: the im2col matrix of the whole
/// input (buildIm2Col) holds each group's rows contiguously, so
/// out[G, F/G, P] = W[G, F/G, K/G] x col[G, K/G, P]. Left to linalg, the
/// grouped convolutions of RegNet ran as scalar loops.
LogicalResult rewriteGroupedConvAsMatmul(RewriterBase &rewriter, linalg::Conv2DNgchwGfchwOp conv,
                                         int64_t lanes) {
  FailureOr<ConvOperands> ops = staticUnitBatchF32(conv);
  if (failed(ops))
    return failure();
  Value xg = ops->x, wg = ops->w, out = ops->out;
  RankedTensorType xt = ops->xt, wt = ops->wt, ot = ops->ot;
  ArrayRef<int64_t> strides = ops->strides, dilations = ops->dilations;
  int64_t g = wt.getDimSize(0), fg = wt.getDimSize(1), cg = wt.getDimSize(2), kh = wt.getDimSize(3),
          kw = wt.getDimSize(4);
  int64_t oh = ot.getDimSize(3), ow = ot.getDimSize(4), p = oh * ow, kg = cg * kh * kw;
  Location loc = conv.getLoc();
  Type et = xt.getElementType();
  rewriter.setInsertionPoint(conv);
  // The [1, C, H, W] input (the grouped view's source when it is one).
  Value x;
  if (auto e = xg.getDefiningOp<tensor::ExpandShapeOp>(); e && e.getSrcType().getRank() == 4)
    x = e.getSrc();
  else
    x = tensor::CollapseShapeOp::create(rewriter, loc,
                                        RankedTensorType::get({1, g * cg, xt.getDimSize(3), xt.getDimSize(4)}, et),
                                        xg, SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}});
  Value col = buildIm2Col(rewriter, loc, x, kh, kw, oh, ow, strides, dilations, lanes);
  Value col3 = tensor::ExpandShapeOp::create(rewriter, loc, RankedTensorType::get({g, kg, p}, et), col,
                                             SmallVector<ReassociationIndices>{{0, 1}, {2}});
  Value w3 = tensor::CollapseShapeOp::create(rewriter, loc, RankedTensorType::get({g, fg, kg}, et), wg,
                                             SmallVector<ReassociationIndices>{{0}, {1}, {2, 3, 4}});
  auto o3t = RankedTensorType::get({g, fg, p}, et);
  SmallVector<ReassociationIndices> grouped{{0, 1}, {2}, {3, 4}};
  Value init = tensor::CollapseShapeOp::create(rewriter, loc, o3t, out, grouped);
  auto mm = linalg::BatchMatmulOp::create(rewriter, loc, TypeRange{o3t}, ValueRange{w3, col3}, ValueRange{init});
  rewriter.replaceOp(conv, tensor::ExpandShapeOp::create(rewriter, loc, ot, mm.getResult(0), grouped).getResult());
  return success();
}

/// A sum or max of a static f32 tensor over its trailing dims (a global
/// average or max pool, a ReduceSum/ReduceMean over H and W): per output
/// element (parallel tasks of 16K elements or more), the reduced elements as one row read
/// in vectors into four accumulators, then one horizontal reduction and the
/// init. Left to linalg, it became one scalar loop whose every add waited
/// for the one before: EfficientNet-B0's squeeze-excite pools took 9 % of
/// its time at 5 GB/s.
LogicalResult rewriteRowReduction(RewriterBase &rewriter, linalg::ReduceOp red, int64_t lanes) {
  if (red.getNumDpsInputs() != 1 || red.getNumDpsInits() != 1)
    return failure();
  Value x = red.getInputs()[0], init = red.getInits()[0];
  auto xt = dyn_cast<RankedTensorType>(x.getType());
  auto it = dyn_cast<RankedTensorType>(init.getType());
  if (!xt || !it || !xt.hasStaticShape() || !it.hasStaticShape() || !xt.getElementType().isF32())
    return failure();
  // Reduced dims: the trailing ones, at least one kept in front.
  ArrayRef<int64_t> dims = red.getDimensions();
  int64_t rank = xt.getRank(), k = rank - int64_t(dims.size());
  if (k < 1)
    return failure();
  for (auto [i, d] : llvm::enumerate(dims))
    if (d != k + int64_t(i))
      return failure();
  // The combiner: addf or maximumf of the element and the accumulator.
  Block &body = red.getCombiner().front();
  if (body.getOperations().size() != 2)
    return failure();
  Operation *comb = &body.front();
  bool isAdd = isa<arith::AddFOp>(comb), isMax = isa<arith::MaximumFOp>(comb);
  if ((!isAdd && !isMax) || body.getTerminator()->getOperand(0) != comb->getResult(0) ||
      !llvm::is_contained(comb->getOperands(), body.getArgument(0)) ||
      !llvm::is_contained(comb->getOperands(), body.getArgument(1)))
    return failure();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < k ? outer : inner) *= xt.getDimSize(d);
  constexpr int64_t kAccumulators = 4;
  if (inner < 2 * lanes)
    return failure();

  Location loc = red.getLoc();
  Type et = xt.getElementType();
  rewriter.setInsertionPoint(red);
  ReassociationIndices front, back;
  for (int64_t d = 0; d < rank; ++d)
    (d < k ? front : back).push_back(d);
  Value rows = tensor::CollapseShapeOp::create(rewriter, loc, RankedTensorType::get({outer, inner}, et), x,
                                               SmallVector<ReassociationIndices>{front, back});
  auto flatT = RankedTensorType::get({outer}, et);
  ReassociationIndices all;
  for (int64_t d = 0; d < k; ++d)
    all.push_back(d);
  Value flatInit = k == 1 ? init
                          : tensor::CollapseShapeOp::create(rewriter, loc, flatT, init,
                                                            SmallVector<ReassociationIndices>{all})
                                .getResult();
  auto vt = VectorType::get({lanes}, et);
  auto combine = [&](OpBuilder &b, Value a, Value c) -> Value {
    return isAdd ? arith::AddFOp::create(b, loc, a, c).getResult()
                 : arith::MaximumFOp::create(b, loc, a, c).getResult();
  };
  vector::CombiningKind kind = isAdd ? vector::CombiningKind::ADD : vector::CombiningKind::MAXIMUMF;
  // Rows per task: enough for 16K elements a task (a divisor of the
  // rows), so that 1280 rows of 49 pixels are not 1280 dispatched tasks.
  constexpr int64_t kTaskElements = 1 << 14;
  int64_t perTask = std::min<int64_t>(outer, llvm::divideCeil(kTaskElements, inner));
  while (outer % perTask)
    --perTask;
  auto blockT = RankedTensorType::get({perTask}, et);
  auto forall = scf::ForallOp::create(rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(outer / perTask)},
                                      ValueRange{flatInit}, std::nullopt);
  {
    OpBuilder::InsertionGuard guard(rewriter);
    OpBuilder &b = rewriter;
    b.setInsertionPoint(forall.getTerminator());
    auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
    Value first = arith::MulIOp::create(b, loc, forall.getInductionVar(0), cst(perTask));
    SmallVector<OpFoldResult> blockOffs{first}, blockSizes{b.getIndexAttr(perTask)}, unit{b.getIndexAttr(1)};
    Value block = tensor::ExtractSliceOp::create(b, loc, blockT, forall.getRegionIterArgs()[0], blockOffs,
                                                 blockSizes, unit);
    auto rowLoop = scf::ForOp::create(b, loc, cst(0), cst(perTask), cst(1), ValueRange{block});
    b.setInsertionPointToStart(rowLoop.getBody());
    Value r = rowLoop.getInductionVar();
    Value i = arith::AddIOp::create(b, loc, first, r);
    Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(et));
    APFloat neutralValue = isAdd ? APFloat::getZero(APFloat::IEEEsingle())
                                 : APFloat::getInf(APFloat::IEEEsingle(), /*Negative=*/true);
    Value neutral = arith::ConstantOp::create(b, loc, vt, DenseElementsAttr::get(vt, neutralValue));
    auto read = [&](OpBuilder &rb, VectorType t, Value col) {
      return vector::TransferReadOp::create(rb, loc, t, rows, ValueRange{i, col}, pad, ArrayRef<bool>{true})
          .getResult();
    };
    int64_t step = kAccumulators * lanes, mainEnd = inner / step * step, vecEnd = inner / lanes * lanes;
    SmallVector<Value> accs(kAccumulators, neutral);
    auto main = scf::ForOp::create(b, loc, cst(0), cst(mainEnd), cst(step), accs,
                                   [&](OpBuilder &lb, Location, Value j, ValueRange a) {
                                     SmallVector<Value> next;
                                     for (int64_t u = 0; u < kAccumulators; ++u) {
                                       Value col = arith::AddIOp::create(lb, loc, j, cst(u * lanes));
                                       next.push_back(combine(lb, a[u], read(lb, vt, col)));
                                     }
                                     scf::YieldOp::create(lb, loc, next);
                                   });
    Value acc = main.getResult(0);
    for (int64_t u = 1; u < kAccumulators; ++u)
      acc = combine(b, acc, main.getResult(u));
    for (int64_t j = mainEnd; j < vecEnd; j += lanes)
      acc = combine(b, acc, read(b, vt, cst(j)));
    Value total = vector::ReductionOp::create(b, loc, kind, acc);
    if (vecEnd < inner) {
      auto tailT = VectorType::get({inner - vecEnd}, et);
      total = combine(b, total, vector::ReductionOp::create(b, loc, kind, read(b, tailT, cst(vecEnd))));
    }
    Value blockIn = rowLoop.getRegionIterArgs()[0];
    total = combine(b, total, tensor::ExtractOp::create(b, loc, blockIn, ValueRange{r}));
    scf::YieldOp::create(b, loc, tensor::InsertOp::create(b, loc, total, blockIn, ValueRange{r}).getResult());
    b.setInsertionPointToEnd(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(b, loc, rowLoop.getResult(0), forall.getRegionIterArgs()[0], blockOffs,
                                          blockSizes, unit);
  }
  Value result = forall.getResult(0);
  if (k != 1)
    result = tensor::ExpandShapeOp::create(rewriter, loc, it, result, SmallVector<ReassociationIndices>{all});
  rewriter.replaceOp(red, result);
  return success();
}

struct TileAndVectorizePass : glm::impl::TileAndVectorizePassBase<TileAndVectorizePass> {
  using TileAndVectorizePassBase::TileAndVectorizePassBase;

  /// f32 lanes of one vector register (at least 4).
  int64_t vectorLanes() const { return std::max<int64_t>(vectorBits / 32, 4); }

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);
    ContractionTiles tiles = glm::chooseContractionTiles(vectorBits, numRegisters);

    // 0. Reductions over trailing dims (global pools): vector rows.
    SmallVector<linalg::ReduceOp> reductions;
    func.walk([&](linalg::ReduceOp r) { reductions.push_back(r); });
    for (auto r : reductions)
      (void)rewriteRowReduction(rewriter, r, vectorLanes());

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
      if (vnni && succeeded(rewriteInt8ConvDot(rewriter, target, vectorLanes(), Int8Dot::Vnni)))
        continue;
      if (dotprod &&
          succeeded(rewriteInt8ConvDot(rewriter, target, vectorLanes(), Int8Dot::Dotprod)))
        continue;
      if (pmaddwd &&
          succeeded(rewriteInt8ConvDot(rewriter, target, vectorLanes(), Int8Dot::Pmaddwd)))
        continue;
      if (succeeded(rewriteConvAsMatmul(rewriter, target, vectorLanes())))
        continue;
      if (failed(linalg::rewriteInIm2Col(rewriter, target)))
        LLVM_DEBUG(llvm::dbgs() << "im2col failed for " << target << "\n");
    }

    // Grouped convolutions: one batched contraction over the groups.
    SmallVector<linalg::Conv2DNgchwGfchwOp> grouped;
    func.walk([&](linalg::Conv2DNgchwGfchwOp c) { grouped.push_back(c); });
    for (auto conv : grouped)
      (void)rewriteGroupedConvAsMatmul(rewriter, conv, vectorLanes());

    // Depthwise convolutions: a direct vector kernel.
    SmallVector<linalg::DepthwiseConv2DNchwChwOp> depthwise;
    func.walk([&](linalg::DepthwiseConv2DNchwChwOp c) { depthwise.push_back(c); });
    for (auto conv : depthwise)
      (void)rewriteDepthwiseConv(rewriter, conv, vectorLanes());

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
      // Float contractions, and int8 ones into i32 (glm-quantize).
      Type acc = getElementTypeOrSelf(op->getResult(0).getType());
      if (!op.hasPureTensorSemantics() || !(isa<FloatType>(acc) || acc.isInteger(32)))
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
      if (std::optional<unsigned> col = partialColumns(l)) {
        // A remainder tile whose columns are not whole vectors: padded
        // with zeros to whole vectors (its columns' extent bounded by the
        // tile), vectorized, and the padding folded into out-of-bounds
        // transfers below, which become masked loads and stores.
        linalg::LinalgPaddingOptions pad;
        SmallVector<int64_t> dims = llvm::to_vector(llvm::seq<int64_t>(0, l.getNumLoops()));
        SmallVector<int64_t> multiple(l.getNumLoops(), 1);
        multiple[*col] = vectorLanes();
        SmallVector<Attribute> zeros;
        for (OpOperand &o : l->getOpOperands())
          zeros.push_back(rewriter.getZeroAttr(getElementTypeOrSelf(o.get().getType())));
        pad.setPaddingDimensions(dims).setPadToMultipleOf(multiple).setPaddingValues(zeros);
        pad.copyBackOp = linalg::LinalgPaddingOptions::CopyBackOp::None;
        linalg::LinalgOp padded;
        SmallVector<Value> replacements;
        SmallVector<tensor::PadOp> padOps;
        if (failed(linalg::rewriteAsPaddedOp(rewriter, l, pad, padded, replacements, padOps)))
          continue;
        rewriter.replaceOp(l, replacements);
        l = padded;
        rewriter.setInsertionPoint(l);
      }
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
      op->removeAttr(kFusedTile); // left where a fusion did not take
    });
    // 5. Element-wise ops (bias broadcasts, activations, residual adds):
    // rows of the innermost dim as vectors. Left as scalar loops, LLVM
    // unrolls them into one load/store per element (it cannot prove that
    // the buffers do not alias, so it does not vectorize).
    vectorizeElementwise(rewriter, func);

    // Vector-level clean-up.
    RewritePatternSet patterns(ctx);
    vector::populateVectorReductionToContractPatterns(patterns);
    // An int8 tile's extsi(broadcast(x)) becomes broadcast(extsi(x)), so
    // that the broadcasts fold into the contraction as for floats.
    vector::populateSinkVectorOpsPatterns(patterns);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateCastAwayVectorLeadingOneDimPatterns(patterns);
    tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
    linalg::populatePadOpVectorizationPatterns(patterns);
    patterns.add<FoldInsertOfCoveringWrite>(ctx);
    scf::ForOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(func, std::move(patterns))))
      return signalPassFailure();

    // Keep accumulator tiles in registers across the K loop. A padded
    // remainder tile's slice bounds are computed inside the loop until
    // they fold and are hoisted: only then is its accumulator subset
    // loop-invariant.
    if (failed(foldTileBounds(func)))
      return signalPassFailure();
    func.walk([&](scf::ForOp loop) {
      // Only around padded tiles (out-of-bounds transfers): hoisting
      // everywhere grew the code of a small ResNet by 6 %.
      bool padded = false;
      loop.walk([&](vector::TransferReadOp r) {
        padded |= llvm::any_of(r.getInBoundsValues(), [](bool b) { return !b; });
      });
      if (padded)
        moveLoopInvariantCode(loop);
    });
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

  /// The loop of a register tile's columns (the output's innermost dim)
  /// when they are not a whole number of vectors: a remainder tile of an N
  /// that NR does not divide (a 7x7 feature map has 49 columns: one 32-wide
  /// tile and 17 left), whose extent may still be dynamic here (bounded by
  /// the tile). Scalar code for such a tile ran at a thirtieth of the
  /// vector speed and took most of ResNet-50's time in its 7x7 stage.
  std::optional<unsigned> partialColumns(linalg::LinalgOp l) {
    int64_t lanes = vectorLanes();
    bool elementwise = l.getNumReductionLoops() == 0 && isa<linalg::GenericOp>(l);
    if (l->getNumResults() != 1 || (!elementwise && failed(linalg::inferContractionDims(l))))
      return std::nullopt;
    AffineMap out = l.getIndexingMapMatchingResult(cast<OpResult>(l->getResult(0)));
    if (out.getNumResults() == 0)
      return std::nullopt;
    auto col = dyn_cast<AffineDimExpr>(out.getResults().back());
    if (!col)
      return std::nullopt;
    int64_t n = l.getStaticLoopRanges()[col.getPosition()];
    if (!ShapedType::isDynamic(n) && n % lanes == 0)
      return std::nullopt;
    return col.getPosition();
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

  /// The parallel output tiles [MT, NT] of a contraction: the cache tiles,
  /// halved (NT first, down to one register tile) while there are fewer
  /// than four of them and each would still hold at least half a MFLOP. A
  /// 1x1 convolution over 14x14 pixels (64 x 196 outputs) was one tile:
  /// one thread did it while the others waited.
  std::pair<int64_t, int64_t> parallelTiles(linalg::LinalgOp op, const linalg::ContractionDimensions &dims,
                                            const ContractionTiles &t) {
    constexpr int64_t kMinTasks = 4, kMinTaskFlops = int64_t(1) << 19;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    auto product = [&](ArrayRef<unsigned> ds) {
      int64_t p = 1;
      for (unsigned d : ds) {
        if (ShapedType::isDynamic(ranges[d]))
          return int64_t(-1);
        p *= ranges[d];
      }
      return p;
    };
    int64_t m = product(dims.m), n = product(dims.n), k = product(dims.k), b = product(dims.batch);
    int64_t mt = t.mt, nt = t.nt;
    if (m <= 0 || n <= 0 || k <= 0 || b <= 0)
      return {mt, nt};
    auto tiles = [&](int64_t mt, int64_t nt) { return b * llvm::divideCeil(m, mt) * llvm::divideCeil(n, nt); };
    while (tiles(mt, nt) < kMinTasks) {
      int64_t nextMt = mt, nextNt = nt;
      if (nt / 2 >= t.nr && llvm::divideCeil(n, nt / 2) > llvm::divideCeil(n, nt))
        nextNt = nt / 2;
      else if (mt / 2 >= t.mr && llvm::divideCeil(m, mt / 2) > llvm::divideCeil(m, mt))
        nextMt = mt / 2;
      else
        break;
      if (2 * m * n * k / tiles(nextMt, nextNt) < kMinTaskFlops)
        break;
      mt = nextMt;
      nt = nextNt;
    }
    return {mt, nt};
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
      auto [mt, nt] = parallelTiles(op, *dims, t);
      scf::SCFTilingOptions parOpts;
      parOpts.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      parOpts.setTileSizes(tileSizesFor(rewriter, op, *dims, 1, mt, nt, 0, panel));
      // A fusable init (a convolution's bias) is computed by each tile.
      scf::SCFTileAndFuseOptions fuseOpts;
      fuseOpts.setTilingOptions(parOpts);
      fuseOpts.setFusionControlFn([](tensor::ExtractSliceOp, OpResult producer, bool isDestination)
                                      -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
        if (!isDestination || !producer.getOwner()->hasAttr(kFusedTile))
          return std::nullopt;
        return scf::SCFTileAndFuseOptions::ControlFnResult{};
      });
      Value result = op->getResult(0);
      auto par = scf::tileConsumerAndFuseProducersUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()),
                                                           fuseOpts);
      if (failed(par))
        return;
      auto it = par->replacements.find(result);
      if (it == par->replacements.end())
        return;
      rewriter.replaceAllUsesWith(result, it->second);
      rewriter.eraseOp(op);
      tile = cast<linalg::LinalgOp>(par->tiledAndFusedOps.front());
      // An element-wise consumer marked for fusion runs on each tile too.
      // (Fusing it rebuilds the loop with one more shared output: `loops`
      // is updated.)
      Value tiled = it->second;
      SmallVector<LoopLikeOpInterface> loops = par->loops;
      if (tiled.hasOneUse()) {
        Operation *user = *tiled.getUsers().begin();
        if (user->hasAttr(kFusedTile))
          (void)scf::tileAndFuseConsumer(rewriter, user, loops);
      }
      // The fused element-wise tiles: rows of NR columns, vectorized with
      // the register tiles (a partial row padded to whole vectors).
      if (!loops.empty()) {
        SmallVector<linalg::GenericOp> fused;
        loops.front()->walk([&](linalg::GenericOp g) {
          if (g->hasAttr(kFusedTile) && g.getNumLoops() == 2)
            fused.push_back(g);
        });
        for (linalg::GenericOp g : fused)
          tileFusedRows(rewriter, g, t.nr);
      }
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

  /// Tiles a fused element-wise [rows, cols] tile to [1, NR] rows, the
  /// column loop peeled; the pieces are register tiles to vectorize.
  void tileFusedRows(IRRewriter &rewriter, linalg::GenericOp g, int64_t nr) {
    g->removeAttr(kFusedTile);
    rewriter.setInsertionPoint(g);
    scf::SCFTilingOptions opts;
    opts.setTileSizes({rewriter.getIndexAttr(1), rewriter.getIndexAttr(nr)});
    auto rows = scf::tileUsingSCF(rewriter, cast<TilingInterface>(g.getOperation()), opts);
    if (failed(rows))
      return;
    rewriter.replaceOp(g, rows->replacements);
    for (Operation *op : rows->tiledOps)
      op->setAttr(kRegisterTile, rewriter.getUnitAttr());
    if (rows->loops.size() == 2)
      if (auto cols = dyn_cast<scf::ForOp>(rows->loops.back().getOperation())) {
        scf::ForOp partial;
        (void)scf::peelForLoopAndSimplifyBounds(rewriter, cols, partial);
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
