//===- Quantized.cpp - quant casts and int8 contractions → linalg ---------===//
//
// glm-quantize leaves the upstream quant dialect's uniform types on the
// operands of glm.conv / glm.gemm. Their storage is i8 (the type
// converter), so:
//   quant.qcast   x -> clamp(round_even(x / s) + z) as i8 (ONNX
//                 QuantizeLinear's arithmetic);
//   quant.scast   the i8 constant itself;
// and a quantized contraction accumulates i8 x i8 products in i32, then
// dequantizes once per output:
//   y = float(acc - z * sum_k w[o][k]) * (s_data * s_w[o]) + bias[o]
// which is the contraction of the dequantized operands (the zero point's
// share is a per-channel constant because padding holds the zero point).
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/linalg/Patterns.h"
#include "passes/lowering/linalg/Utils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::lowering;

FailureOr<Int8Contraction> mlir::glm::lowering::int8Contraction(Operation *op, Value data,
                                                                 Value weight, int64_t axis) {
  auto dq = dyn_cast<quant::UniformQuantizedType>(elementTypeOf(data));
  Type wet = elementTypeOf(weight);
  if (!dq)
    return op->emitOpError("needs per-tensor quantized data, got ") << data.getType();
  auto storage = weight.getDefiningOp<quant::StorageCastOp>();
  ElementsAttr raw = storage ? getConstantElements(storage.getInput()) : ElementsAttr();
  std::optional<SmallVector<double>> w = raw ? getValuesAsDouble(raw) : std::nullopt;
  auto wt = rankedOrNull(weight);
  if (!w || !wt || !wt.hasStaticShape())
    return op->emitOpError("needs a constant quantized weight (glm-quantize makes one)");
  int64_t outs = wt.getDimSize(axis), inner = 1, outer = 1;
  for (int64_t d = axis + 1; d < wt.getRank(); ++d)
    inner *= wt.getDimSize(d);
  for (int64_t d = 0; d < axis; ++d)
    outer *= wt.getDimSize(d);
  SmallVector<double> scales(outs), zeros(outs, 0.0);
  if (auto pa = dyn_cast<quant::UniformQuantizedPerAxisType>(wet)) {
    if (pa.getQuantizedDimension() != axis || int64_t(pa.getScales().size()) != outs)
      return op->emitOpError("weight quantized along dim ") << pa.getQuantizedDimension()
                                                             << ", expected " << axis;
    for (int64_t o = 0; o < outs; ++o)
      scales[o] = pa.getScales()[o], zeros[o] = double(pa.getZeroPoints()[o]);
  } else if (auto pt = dyn_cast<quant::UniformQuantizedType>(wet)) {
    std::fill(scales.begin(), scales.end(), pt.getScale());
    std::fill(zeros.begin(), zeros.end(), double(pt.getZeroPoint()));
  } else {
    return op->emitOpError("needs a uniformly quantized weight, got ") << weight.getType();
  }
  if (llvm::any_of(zeros, [](double z) { return z != 0.0; }))
    return op->emitOpError("needs a symmetric (zero point 0) weight");
  Int8Contraction c;
  c.multiplier.resize(outs);
  c.correction.assign(outs, 0);
  for (int64_t i = 0; i < outer; ++i)
    for (int64_t o = 0; o < outs; ++o)
      for (int64_t r = 0; r < inner; ++r)
        c.correction[o] += int64_t((*w)[(i * outs + o) * inner + r]);
  for (int64_t o = 0; o < outs; ++o) {
    c.correction[o] *= dq.getZeroPoint();
    c.multiplier[o] = dq.getScale() * scales[o];
  }
  c.dataZeroPoint = dq.getZeroPoint();
  return c;
}

Value mlir::glm::lowering::dequantizeAccumulator(OpBuilder &b, Location loc, Value acc,
                                                 RankedTensorType outT, int64_t channelDim,
                                                 const Int8Contraction &c, double alpha,
                                                 Value bias, AffineMap biasMap, double beta) {
  MLIRContext *ctx = b.getContext();
  int64_t n = c.multiplier.size(), rank = outT.getRank();
  SmallVector<float> mult;
  SmallVector<int32_t> corr;
  for (int64_t o = 0; o < n; ++o) {
    mult.push_back(float(c.multiplier[o] * alpha));
    corr.push_back(int32_t(c.correction[o]));
  }
  auto vecF = RankedTensorType::get({n}, b.getF32Type());
  auto vecI = RankedTensorType::get({n}, b.getI32Type());
  Value multV = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vecF, ArrayRef<float>(mult)));
  Value corrV = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vecI, ArrayRef<int32_t>(corr)));
  AffineMap id = b.getMultiDimIdentityMap(rank);
  AffineMap chan = AffineMap::get(rank, 0, {getAffineDimExpr(channelDim, ctx)}, ctx);
  SmallVector<Value> inputs{acc, corrV, multV};
  SmallVector<AffineMap> maps{id, chan, chan};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(biasMap);
  }
  Type f32 = b.getF32Type();
  return buildParallelGeneric(
      b, loc, outT, getDims(b, loc, acc), inputs, maps,
      [&](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value centred = arith::SubIOp::create(nb, l, a[0], a[1]);
        Value y = arith::MulFOp::create(nb, l, arith::SIToFPOp::create(nb, l, f32, centred), a[2]);
        if (a.size() > 3) {
          Value bv = a[3];
          if (beta != 1.0)
            bv = arith::MulFOp::create(nb, l, bv, scalarConstant(nb, l, f32, beta));
          y = arith::AddFOp::create(nb, l, y, bv);
        }
        return y;
      });
}

namespace {

struct QuantizeCastToLinalg : OpConversionPattern<quant::QuantizeCastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(quant::QuantizeCastOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    auto rt = convertTensorType(*getTypeConverter(), op.getType());
    auto qt = dyn_cast<quant::UniformQuantizedType>(elementTypeOf(op.getResult()));
    Value x = adaptor.getInput();
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    if (!rt || !xt)
      return rewriter.notifyMatchFailure(op, "unranked");
    if (!qt || !isa<Float32Type>(xt.getElementType()))
      return op.emitOpError("lowers per-tensor quantization of f32 only, got ") << op.getType();
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type(), st = rt.getElementType();
    double lo = qt.getStorageTypeMin(), hi = qt.getStorageTypeMax();
    Value result = buildElementwise(
        rewriter, loc, rt, ValueRange{x}, [&](OpBuilder &b, Location l, ValueRange v) -> Value {
          Value y = arith::DivFOp::create(b, l, v[0], scalarConstant(b, l, f32, qt.getScale()));
          y = math::RoundEvenOp::create(b, l, y);
          y = arith::AddFOp::create(b, l, y, scalarConstant(b, l, f32, double(qt.getZeroPoint())));
          // NaN -> the low end (maxnumf/minnumf pick the number).
          y = arith::MaxNumFOp::create(b, l, y, scalarConstant(b, l, f32, lo));
          y = arith::MinNumFOp::create(b, l, y, scalarConstant(b, l, f32, hi));
          return arith::FPToSIOp::create(b, l, st, y);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct StorageCastToLinalg : OpConversionPattern<quant::StorageCastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult matchAndRewrite(quant::StorageCastOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Type t = getTypeConverter()->convertType(op.getType());
    if (!t || adaptor.getInput().getType() != t)
      return op.emitOpError("storage cast between different storage types: ")
             << op.getInput().getType() << " to " << op.getType();
    rewriter.replaceOp(op, adaptor.getInput());
    return success();
  }
};

} // namespace

void mlir::glm::populateQuantizedToLinalgPatterns(const TypeConverter &converter,
                                                  RewritePatternSet &patterns) {
  patterns.add<QuantizeCastToLinalg, StorageCastToLinalg>(converter, patterns.getContext());
}
