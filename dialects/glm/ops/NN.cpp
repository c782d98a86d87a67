//===- NN.cpp - neural-network ops: shape inference, verifiers ------------===//

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::glm;

static constexpr int64_t kDyn = ShapedType::kDynamic;


/// Two dims that must agree: the known one, or failure on a static mismatch.
static FailureOr<int64_t> unifyDims(int64_t a, int64_t b) {
  if (ShapedType::isDynamic(a))
    return b;
  if (ShapedType::isDynamic(b) || a == b)
    return a;
  return failure();
}

//===----------------------------------------------------------------------===//
// MatMul / Gemm
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto a = rankedOrNull(getA()), b = rankedOrNull(getB());
  Type et = elementTypeOf(getA());
  if (!a || !b) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  SmallVector<int64_t> as(a.getShape()), bs(b.getShape());
  if (as.empty() || bs.empty())
    return emitOpError("operands must have rank >= 1");
  bool vecA = as.size() == 1, vecB = bs.size() == 1;
  if (vecA)
    as.insert(as.begin(), 1);
  if (vecB)
    bs.push_back(1);
  int64_t k1 = as.back(), k2 = bs[bs.size() - 2];
  if (failed(unifyDims(k1, k2)))
    return emitOpError("contraction dims differ: A is ")
           << a << " and B is " << b << " (A's last dim must equal B's second-to-last)";
  auto batch = broadcastShapes(ArrayRef<int64_t>(as).drop_back(2), ArrayRef<int64_t>(bs).drop_back(2));
  if (failed(batch))
    return emitOpError("batch dims of ") << a << " and " << b << " cannot be broadcast";
  SmallVector<int64_t> out = *batch;
  if (!vecA)
    out.push_back(as[as.size() - 2]);
  if (!vecB)
    out.push_back(bs.back());
  types.push_back(RankedTensorType::get(out, et));
  return success();
}

LogicalResult GemmOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto a = rankedOrNull(getA()), b = rankedOrNull(getB());
  Type et = valueElementTypeOf(getA());
  if (!a || !b) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  if (a.getRank() != 2 || b.getRank() != 2)
    return emitOpError("A and B must be 2-d, got ") << a << " and " << b;
  int64_t m = getTransA() ? a.getDimSize(1) : a.getDimSize(0);
  int64_t ka = getTransA() ? a.getDimSize(0) : a.getDimSize(1);
  int64_t kb = getTransB() ? b.getDimSize(1) : b.getDimSize(0);
  int64_t n = getTransB() ? b.getDimSize(0) : b.getDimSize(1);
  if (failed(unifyDims(ka, kb)))
    return emitOpError("contraction dims differ: K is ") << ka << " for A and " << kb << " for B";
  if (auto c = getC()) {
    if (auto ct = rankedOrNull(c))
      if (failed(broadcastShapes({m, n}, ct.getShape())) || ct.getRank() > 2)
        return emitOpError("C of type ") << ct << " cannot be broadcast to [" << m << ", " << n << "]";
  }
  types.push_back(RankedTensorType::get({m, n}, et));
  return success();
}

namespace {
/// gemm(transB = 1) with a constant B becomes gemm(transpose(B)): the
/// transpose folds into the weights at compile time (glm-fold-constants)
/// instead of running at every call.
struct TransposeConstantGemmOperand : OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GemmOp op, PatternRewriter &rewriter) const override {
    bool a = op.getTransA() && getConstantElements(op.getA());
    bool b = op.getTransB() && getConstantElements(op.getB());
    if (!a && !b)
      return rewriter.notifyMatchFailure(op, "no transposed constant operand");
    auto transpose = [&](Value v) -> Value {
      auto t = cast<RankedTensorType>(v.getType());
      auto tt = RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)}, t.getElementType());
      return TransposeOp::create(rewriter, op.getLoc(), tt, v, rewriter.getI64ArrayAttr({1, 0}));
    };
    rewriter.modifyOpInPlace(op, [&] {
      if (a) {
        op.getAMutable().assign(transpose(op.getA()));
        op.setTransA(0);
      }
      if (b) {
        op.getBMutable().assign(transpose(op.getB()));
        op.setTransB(0);
      }
    });
    return success();
  }
};
} // namespace

void GemmOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *ctx) {
  results.add<TransposeConstantGemmOperand>(ctx);
}

//===----------------------------------------------------------------------===//
// PrunableOpInterface
//===----------------------------------------------------------------------===//

static int64_t rankOf(Value v) {
  auto t = rankedOrNull(v);
  return t ? t.getRank() : -1;
}

Value ConvOp::getPrunableInput() { return getX(); }
int64_t ConvOp::getInputChannelDim() { return 1; }
Value ConvOp::getPrunableWeight() { return getW(); }
int64_t ConvOp::getWeightOutputDim() { return 0; }
int64_t ConvOp::getWeightInputDim() {
  // Depthwise (one input channel per group, as many groups as outputs):
  // output channel c reads input channel c only.
  auto w = rankedOrNull(getW());
  if (getGroup() > 1 && w && w.getDimSize(1) == 1 && w.getDimSize(0) == getGroup())
    return -1;
  return 1;
}
Value ConvOp::getPrunableBias() { return getB(); }
int64_t ConvOp::getResultChannelDim() { return 1; }

/// Product of `dims`, dynamic dims counted as 1.
static int64_t staticProduct(ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= ShapedType::isDynamic(d) ? 1 : d;
  return n;
}

int64_t ConvOp::getNumMacs() {
  auto w = rankedOrNull(getW()), y = rankedOrNull(getY());
  if (!w || !y || y.getRank() < 2)
    return -1;
  // Every output element reads (C/group) x kernel weights.
  return staticProduct(y.getShape()) * staticProduct(w.getShape().drop_front());
}

Value GemmOp::getPrunableInput() { return getA(); }
int64_t GemmOp::getInputChannelDim() { return getTransA() ? 0 : 1; }
Value GemmOp::getPrunableWeight() { return getB(); }
int64_t GemmOp::getWeightOutputDim() { return getTransB() ? 0 : 1; }
int64_t GemmOp::getWeightInputDim() { return getTransB() ? 1 : 0; }
Value GemmOp::getPrunableBias() {
  // Only a per-column C with beta 1 is a per-channel bias.
  if (!getC() || getBeta().convertToDouble() != 1.0)
    return nullptr;
  auto c = rankedOrNull(getC());
  return c && c.getRank() == 1 ? getC() : nullptr;
}
int64_t GemmOp::getResultChannelDim() { return 1; }
int64_t GemmOp::getNumMacs() {
  auto a = rankedOrNull(getA()), y = rankedOrNull(getY());
  if (!a || !y || a.getRank() != 2)
    return -1;
  return staticProduct(y.getShape()) * staticProduct(a.getDimSize(getTransA() ? 0 : 1));
}

Value MatMulOp::getPrunableInput() { return getA(); }
int64_t MatMulOp::getInputChannelDim() { return rankOf(getA()) - 1; }
Value MatMulOp::getPrunableWeight() { return getB(); }
int64_t MatMulOp::getWeightOutputDim() { return rankOf(getB()) - 1; }
int64_t MatMulOp::getWeightInputDim() { return rankOf(getB()) - 2; }
Value MatMulOp::getPrunableBias() { return nullptr; }
int64_t MatMulOp::getResultChannelDim() { return rankOf(getY()) - 1; }
int64_t MatMulOp::getNumMacs() {
  auto a = rankedOrNull(getA()), b = rankedOrNull(getB()), y = rankedOrNull(getY());
  if (!a || !y || a.getRank() == 0)
    return -1;
  // Dims lost to a reshape of computed shape are often known from B (the
  // weight): the contraction dim and the output columns.
  int64_t k = a.getShape().back();
  SmallVector<int64_t> out(y.getShape());
  if (b && b.getRank() >= 2) {
    if (ShapedType::isDynamic(k))
      k = b.getDimSize(b.getRank() - 2);
    if (!out.empty() && ShapedType::isDynamic(out.back()))
      out.back() = b.getShape().back();
  }
  return staticProduct(out) * staticProduct(k);
}

//===----------------------------------------------------------------------===//
// Conv and pools
//===----------------------------------------------------------------------===//

/// Output size of one spatial dim of a window op (ONNX formula).
static int64_t windowOutSize(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t padB,
                             int64_t padE, bool ceil) {
  if (ShapedType::isDynamic(in))
    return kDyn;
  int64_t eff = dil * (k - 1) + 1;
  int64_t num = in + padB + padE - eff;
  if (num < 0)
    return -1;
  int64_t out = (ceil ? (num + stride - 1) / stride : num / stride) + 1;
  // ONNX (and PyTorch) drop a last window that starts in the end padding.
  if (ceil && (out - 1) * stride >= in + padB)
    --out;
  return out;
}

SmallVector<int64_t> ConvOp::getStridesOrDefault() {
  auto v = toI64(getStrides());
  return v.empty() ? SmallVector<int64_t>(getNumSpatialDims(), 1) : v;
}
SmallVector<int64_t> ConvOp::getDilationsOrDefault() {
  auto v = toI64(getDilations());
  return v.empty() ? SmallVector<int64_t>(getNumSpatialDims(), 1) : v;
}
SmallVector<int64_t> ConvOp::getPadsOrDefault() {
  auto v = toI64(getPads());
  return v.empty() ? SmallVector<int64_t>(2 * getNumSpatialDims(), 0) : v;
}

/// A quantized contraction (glm-quantize): both data operands quantized
/// or neither; the data per tensor, the weight per tensor or per channel
/// along `weightAxis`.
static LogicalResult verifyQuantizedOperands(Operation *op, Value data, Value weight,
                                             int64_t weightAxis) {
  auto qd = dyn_cast<quant::QuantizedType>(elementTypeOf(data));
  auto qw = dyn_cast<quant::QuantizedType>(elementTypeOf(weight));
  if (!qd && !qw)
    return success();
  if (!qd || !qw)
    return op->emitOpError("takes quantized data and weights together or neither, got ")
           << data.getType() << " and " << weight.getType();
  if (!isa<quant::UniformQuantizedType>(qd))
    return op->emitOpError("needs per-tensor quantized data, got ") << data.getType();
  if (auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(qw))
    if (pa.getQuantizedDimension() != weightAxis)
      return op->emitOpError("needs the weight quantized along its output dim ")
             << weightAxis << ", got " << weight.getType();
  if (qd.getExpressedType() != qw.getExpressedType())
    return op->emitOpError("data and weight express different float types");
  return success();
}

LogicalResult GemmOp::verify() {
  return verifyQuantizedOperands(*this, getA(), getB(), getTransB() ? 0 : 1);
}

LogicalResult ConvOp::verify() {
  if (failed(verifyQuantizedOperands(*this, getX(), getW(), 0)))
    return failure();
  auto w = rankedOrNull(getW());
  if (!w)
    return success();
  if (w.getRank() < 3)
    return emitOpError("weight must have rank >= 3, got ") << w;
  unsigned s = w.getRank() - 2;
  if (getStrides() && getStrides()->size() != s)
    return emitOpError("strides must have ") << s << " entries";
  if (getDilations() && getDilations()->size() != s)
    return emitOpError("dilations must have ") << s << " entries";
  if (getPads() && getPads()->size() != 2 * s)
    return emitOpError("pads must have ") << 2 * s << " entries";
  if (getKernelShape()) {
    auto ks = toI64(getKernelShape());
    if (ks.size() != s || !llvm::equal(ks, w.getShape().drop_front(2)))
      return emitOpError("kernel_shape does not match the weight shape ") << w;
  }
  if (getGroup() < 1)
    return emitOpError("group must be >= 1");
  if (!w.isDynamicDim(0) && w.getDimSize(0) % getGroup() != 0)
    return emitOpError("output channels ") << w.getDimSize(0) << " not divisible by group "
                                           << getGroup();
  return success();
}

LogicalResult ConvOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto x = rankedOrNull(getX()), w = rankedOrNull(getW());
  Type et = valueElementTypeOf(getX());
  if (!x || !w) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  if (x.getRank() != w.getRank())
    return emitOpError("input ") << x << " and weight " << w << " ranks differ";
  if (!x.isDynamicDim(1) && !w.isDynamicDim(1) && x.getDimSize(1) != w.getDimSize(1) * getGroup())
    return emitOpError("input has ") << x.getDimSize(1) << " channels but weight " << w
                                     << " with group " << getGroup() << " expects "
                                     << w.getDimSize(1) * getGroup();
  if (auto b = getB())
    if (auto bt = rankedOrNull(b))
      if (bt.getRank() != 1 || failed(unifyDims(bt.getDimSize(0), w.getDimSize(0))))
        return emitOpError("bias ") << bt << " must be 1-d with " << w.getDimSize(0) << " entries";
  auto strides = getStridesOrDefault(), dil = getDilationsOrDefault(), pads = getPadsOrDefault();
  unsigned s = getNumSpatialDims();
  SmallVector<int64_t> out{x.getDimSize(0), w.getDimSize(0)};
  for (unsigned i = 0; i < s; ++i) {
    int64_t o = windowOutSize(x.getDimSize(2 + i), w.getDimSize(2 + i), strides[i], dil[i], pads[i],
                              pads[i + s], false);
    if (o == -1 || o == 0)
      return emitOpError("kernel ") << w.getDimSize(2 + i) << " does not fit spatial dim " << i
                                    << " of size " << x.getDimSize(2 + i) << " with padding";
    out.push_back(o);
  }
  types.push_back(RankedTensorType::get(out, et));
  return success();
}

template <typename PoolOp>
static SmallVector<int64_t> poolAttrOrDefault(PoolOp op, std::optional<ArrayAttr> attr,
                                              int64_t value, unsigned mult = 1) {
  auto v = toI64(attr);
  return v.empty() ? SmallVector<int64_t>(mult * op.getKernelShape().size(), value) : v;
}

template <typename PoolOp>
static LogicalResult verifyPool(PoolOp op) {
  size_t s = op.getKernelShape().size();
  if (op.getStrides() && op.getStrides()->size() != s)
    return op.emitOpError("strides must have ") << s << " entries";
  if (op.getDilations() && op.getDilations()->size() != s)
    return op.emitOpError("dilations must have ") << s << " entries";
  if (op.getPads() && op.getPads()->size() != 2 * s)
    return op.emitOpError("pads must have ") << 2 * s << " entries";
  if (auto x = rankedOrNull(op.getX()))
    if ((size_t)x.getRank() != s + 2)
      return op.emitOpError("input rank ") << x.getRank() << " does not match kernel_shape of "
                                           << s << " dims";
  return success();
}

template <typename PoolOp>
static LogicalResult inferPool(PoolOp op, SmallVectorImpl<Type> &types) {
  auto x = rankedOrNull(op.getX());
  Type et = elementTypeOf(op.getX());
  if constexpr (std::is_same_v<PoolOp, MaxPoolIndicesOp>)
    et = IntegerType::get(op.getContext(), 64);
  if (!x) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  auto ks = toI64(op.getKernelShape());
  auto strides = op.getStridesOrDefault(), dil = op.getDilationsOrDefault(),
       pads = op.getPadsOrDefault();
  unsigned s = ks.size();
  SmallVector<int64_t> out{x.getDimSize(0), x.getDimSize(1)};
  for (unsigned i = 0; i < s; ++i) {
    int64_t o = windowOutSize(x.getDimSize(2 + i), ks[i], strides[i], dil[i], pads[i], pads[i + s],
                              op.getCeilMode() != 0);
    if (o == -1 || o == 0)
      return op.emitOpError("window ") << ks[i] << " does not fit spatial dim " << i;
    out.push_back(o);
  }
  types.push_back(RankedTensorType::get(out, et));
  return success();
}

#define GLM_POOL_METHODS(OP)                                                              \
  SmallVector<int64_t> OP::getStridesOrDefault() { return poolAttrOrDefault(*this, getStrides(), 1); } \
  SmallVector<int64_t> OP::getDilationsOrDefault() {                                      \
    return poolAttrOrDefault(*this, getDilations(), 1);                                    \
  }                                                                                        \
  SmallVector<int64_t> OP::getPadsOrDefault() { return poolAttrOrDefault(*this, getPads(), 0, 2); } \
  LogicalResult OP::verify() { return verifyPool(*this); }                                 \
  LogicalResult OP::inferResultTypes(SmallVectorImpl<Type> &types) { return inferPool(*this, types); }

GLM_POOL_METHODS(MaxPoolOp)
GLM_POOL_METHODS(AveragePoolOp)
GLM_POOL_METHODS(MaxPoolIndicesOp)

static LogicalResult inferGlobalPool(Operation *op, Value x, SmallVectorImpl<Type> &types) {
  auto xt = rankedOrNull(x);
  if (!xt) {
    types.push_back(x.getType());
    return success();
  }
  if (xt.getRank() < 3)
    return op->emitOpError("input must have rank >= 3, got ") << xt;
  SmallVector<int64_t> out(xt.getShape());
  for (int64_t i = 2; i < xt.getRank(); ++i)
    out[i] = 1;
  types.push_back(RankedTensorType::get(out, xt.getElementType()));
  return success();
}

LogicalResult GlobalAveragePoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferGlobalPool(*this, getX(), types);
}
LogicalResult GlobalMaxPoolOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  return inferGlobalPool(*this, getX(), types);
}

//===----------------------------------------------------------------------===//
// Normalisation and softmax
//===----------------------------------------------------------------------===//

LogicalResult BatchNormalizationOp::verify() {
  auto x = rankedOrNull(getX());
  if (!x || x.getRank() < 2)
    return x ? emitOpError("input must have rank >= 2") : success();
  int64_t c = x.getDimSize(1);
  for (Value v : {getScale(), getB(), getInputMean(), getInputVar()}) {
    auto t = rankedOrNull(v);
    if (t && (t.getRank() != 1 || failed(unifyDims(t.getDimSize(0), c))))
      return emitOpError("per-channel operand ") << t << " must be 1-d with " << c << " entries";
  }
  return success();
}

LogicalResult BatchNormalizationOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  types.push_back(getX().getType());
  return success();
}

static LogicalResult verifyAxis(Operation *op, Value input, int64_t axis) {
  if (auto t = rankedOrNull(input))
    if (!normalizeAxis(axis, t.getRank()))
      return op->emitOpError("axis ") << axis << " is out of range for rank " << t.getRank();
  return success();
}

LogicalResult SoftmaxOp::verify() { return verifyAxis(*this, getInput(), getAxis()); }
LogicalResult LogSoftmaxOp::verify() { return verifyAxis(*this, getInput(), getAxis()); }
LogicalResult LayerNormalizationOp::verify() { return verifyAxis(*this, getX(), getAxis()); }

LogicalResult SoftmaxOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  types.push_back(getInput().getType());
  return success();
}
LogicalResult LogSoftmaxOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  types.push_back(getInput().getType());
  return success();
}
LogicalResult LayerNormalizationOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  types.push_back(getX().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

template <typename ReduceOp>
static SmallVector<int64_t> reducedDims(ReduceOp op) {
  auto t = rankedOrNull(op.getData());
  SmallVector<int64_t> dims;
  if (!t)
    return dims;
  auto axes = toI64(op.getAxes());
  if (axes.empty()) {
    if (op.getNoopWithEmptyAxes())
      return dims;
    for (int64_t i = 0; i < t.getRank(); ++i)
      dims.push_back(i);
    return dims;
  }
  for (int64_t a : axes)
    if (auto n = normalizeAxis(a, t.getRank()))
      dims.push_back(*n);
  llvm::sort(dims);
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
  return dims;
}

template <typename ReduceOp>
static LogicalResult inferReduce(ReduceOp op, SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(op.getData());
  if (!t) {
    types.push_back(op.getData().getType());
    return success();
  }
  for (int64_t a : toI64(op.getAxes()))
    if (!normalizeAxis(a, t.getRank()))
      return op.emitOpError("axis ") << a << " is out of range for rank " << t.getRank();
  auto dims = reducedDims(op);
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < t.getRank(); ++i) {
    bool reduced = llvm::is_contained(dims, i);
    if (!reduced)
      out.push_back(t.getDimSize(i));
    else if (op.getKeepdims())
      out.push_back(1);
  }
  types.push_back(RankedTensorType::get(out, t.getElementType()));
  return success();
}

/// Folds a reduction of a small integer constant (the shape arithmetic of
/// exporters: ReduceMax over a repeat count); `combine` is null for mean,
/// which does not fold on integers.
template <typename ReduceOp>
static OpFoldResult foldReduce(ReduceOp op, Attribute data,
                               int64_t (*combine)(int64_t, int64_t)) {
  auto d = dyn_cast_or_null<DenseIntElementsAttr>(data);
  auto rt = dyn_cast<RankedTensorType>(op.getType());
  if (!combine || !d || d.getNumElements() > 4096 || !rt || !rt.hasStaticShape() ||
      !rt.getElementType().isInteger(64) || d.getNumElements() == 0)
    return {};
  auto t = cast<RankedTensorType>(d.getType());
  SmallVector<int64_t> dims = reducedDims(op);
  int64_t rank = t.getRank();
  // Output index of each input element: the kept dims, row-major.
  SmallVector<int64_t> keptStrides(rank, 0);
  int64_t stride = 1;
  for (int64_t i = rank - 1; i >= 0; --i)
    if (!llvm::is_contained(dims, i)) {
      keptStrides[i] = stride;
      stride *= t.getDimSize(i);
    }
  if (stride != rt.getNumElements())
    return {};
  SmallVector<std::optional<int64_t>> acc(stride);
  int64_t flat = 0;
  for (APInt v : d.getValues<APInt>()) {
    int64_t out = 0, rest = flat++;
    for (int64_t i = rank - 1; i >= 0; --i) {
      out += (rest % t.getDimSize(i)) * keptStrides[i];
      rest /= t.getDimSize(i);
    }
    int64_t x = v.getSExtValue();
    acc[out] = acc[out] ? combine(*acc[out], x) : x;
  }
  SmallVector<int64_t> values;
  for (auto &a : acc)
    values.push_back(*a);
  return makeIntElements(rt, values);
}

#define GLM_REDUCE_METHODS(OP, COMBINE)                                                    \
  SmallVector<int64_t> OP::getReducedDims() { return reducedDims(*this); }                 \
  LogicalResult OP::inferResultTypes(SmallVectorImpl<Type> &types) { return inferReduce(*this, types); } \
  OpFoldResult OP::fold(FoldAdaptor a) { return foldReduce(*this, a.getData(), COMBINE); }

GLM_REDUCE_METHODS(ReduceMeanOp, nullptr)
GLM_REDUCE_METHODS(ReduceSumOp, [](int64_t a, int64_t b) { return a + b; })
GLM_REDUCE_METHODS(ReduceMaxOp, [](int64_t a, int64_t b) { return std::max(a, b); })
GLM_REDUCE_METHODS(ReduceMinOp, [](int64_t a, int64_t b) { return std::min(a, b); })
GLM_REDUCE_METHODS(ReduceProdOp, [](int64_t a, int64_t b) { return a * b; })

//===----------------------------------------------------------------------===//
// ArgMax / ArgMin, CumSum, OneHot
//===----------------------------------------------------------------------===//

template <typename ArgOp>
static LogicalResult inferArg(ArgOp op, SmallVectorImpl<Type> &types) {
  auto i64 = IntegerType::get(op.getContext(), 64);
  auto t = rankedOrNull(op.getData());
  if (!t) {
    types.push_back(UnrankedTensorType::get(i64));
    return success();
  }
  auto axis = normalizeAxis(op.getAxis(), t.getRank());
  if (!axis)
    return op.emitOpError("axis ") << op.getAxis() << " is out of range for rank " << t.getRank();
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < t.getRank(); ++i)
    if (i != *axis)
      out.push_back(t.getDimSize(i));
    else if (op.getKeepdims())
      out.push_back(1);
  types.push_back(RankedTensorType::get(out, i64));
  return success();
}

LogicalResult ArgMaxOp::inferResultTypes(SmallVectorImpl<Type> &types) { return inferArg(*this, types); }
LogicalResult ArgMinOp::inferResultTypes(SmallVectorImpl<Type> &types) { return inferArg(*this, types); }

LogicalResult CumSumOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto t = rankedOrNull(getX());
  if (t && !normalizeAxis(getAxis(), t.getRank()))
    return emitOpError("axis ") << getAxis() << " is out of range for rank " << t.getRank();
  types.push_back(getX().getType());
  return success();
}

LogicalResult OneHotOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  Type et = elementTypeOf(getValues());
  auto t = rankedOrNull(getIndices());
  auto v = rankedOrNull(getValues());
  if (v && (v.getRank() != 1 || (!v.isDynamicDim(0) && v.getDimSize(0) != 2)))
    return emitOpError("values must be [off, on], got ") << getValues().getType();
  if (getDepth() < 1)
    return emitOpError("depth must be positive, got ") << getDepth();
  if (!t) {
    types.push_back(UnrankedTensorType::get(et));
    return success();
  }
  auto axis = normalizeAxis(getAxis(), t.getRank() + 1);
  if (!axis)
    return emitOpError("axis ") << getAxis() << " is out of range for rank " << t.getRank() + 1;
  SmallVector<int64_t> out(t.getShape());
  out.insert(out.begin() + *axis, getDepth());
  types.push_back(RankedTensorType::get(out, et));
  return success();
}

//===----------------------------------------------------------------------===//
// TopK
//===----------------------------------------------------------------------===//

LogicalResult TopKOp::inferResultTypes(SmallVectorImpl<Type> &types) {
  auto i64 = IntegerType::get(getContext(), 64);
  Type et = elementTypeOf(getX());
  int64_t k = (int64_t)getK();
  if (k < 0)
    return emitOpError("k must be non-negative, got ") << k;
  auto t = rankedOrNull(getX());
  if (!t) {
    types.push_back(UnrankedTensorType::get(et));
    types.push_back(UnrankedTensorType::get(i64));
    return success();
  }
  auto axis = normalizeAxis(getAxis(), t.getRank());
  if (!axis)
    return emitOpError("axis ") << getAxis() << " is out of range for rank " << t.getRank();
  if (!t.isDynamicDim(*axis) && k > t.getDimSize(*axis))
    return emitOpError("k = ") << k << " exceeds the " << t.getDimSize(*axis)
                               << " elements along axis " << *axis;
  SmallVector<int64_t> out(t.getShape());
  out[*axis] = k;
  types.push_back(RankedTensorType::get(out, et));
  types.push_back(RankedTensorType::get(out, i64));
  return success();
}
