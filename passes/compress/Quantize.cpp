//===- Quantize.cpp - glm-quantize ----------------------------------------===//
//
// Static INT8: int8 weights per output channel (symmetric), int8 data per
// tensor (asymmetric, calibrated range), both as the upstream quant
// dialect's uniform types on the operands of glm.conv / glm.gemm.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"
#include "passes/compress/Calibration.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/Support/Regex.h"

#include <cmath>

namespace mlir::glm {
#define GEN_PASS_DEF_QUANTIZEPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;
using namespace mlir::glm;

namespace {

constexpr int64_t kQMin = -128, kQMax = 127, kWMax = 127;

/// The calibrated range [lo, hi] of an op's data input (0 inside it), and
/// the fraction of calibration values outside it.
struct Range {
  double lo = 0, hi = 0, clipped = 0;
};

std::optional<Range> calibratedRange(Operation *op, StringRef method, double percentile) {
  auto calib = op->getAttrOfType<DictionaryAttr>("glm.calib");
  if (!calib)
    return std::nullopt;
  auto lo = calib.getAs<FloatAttr>("min"), hi = calib.getAs<FloatAttr>("max");
  if (!lo || !hi)
    return std::nullopt;
  Range r{std::min(0.0, lo.getValueAsDouble()), std::max(0.0, hi.getValueAsDouble()), 0.0};
  if (method != "percentile")
    return r;
  auto top = calib.getAs<FloatAttr>("abs_hist_top");
  auto histAttr = calib.getAs<ElementsAttr>("abs_hist");
  std::optional<SmallVector<double>> hist = histAttr ? getValuesAsDouble(histAttr) : std::nullopt;
  if (!top || !hist || hist->empty())
    return r;
  double total = 0;
  for (double c : *hist)
    total += c;
  if (total <= 0)
    return r;
  // The upper edge of the first bin where the cumulative count reaches
  // the percentile.
  double want = total * percentile / 100.0, seen = 0, clip = top.getValueAsDouble();
  for (size_t i = 0; i < hist->size(); ++i) {
    seen += (*hist)[i];
    if (seen >= want) {
      clip = top.getValueAsDouble() * double(i + 1) / double(hist->size());
      break;
    }
  }
  r.clipped = std::max(0.0, (total - seen) / total);
  r.lo = std::max(r.lo, -clip);
  r.hi = std::min(r.hi, clip);
  return r;
}

/// The one value of a constant scalar (or one-element) tensor.
std::optional<double> scalarOf(Value v) {
  std::optional<SmallVector<double>> vals = getConstantValuesAsDouble(v);
  if (!vals || vals->size() != 1)
    return std::nullopt;
  return (*vals)[0];
}

/// A QuantizeLinear -> DequantizeLinear pair per tensor to int8 or uint8,
/// as the importer spells it (compiler/importer/Importer.cpp, Quantization):
///   mul(sub?(cast_f32(cast_int8(clip(add?(round(div(x, S)), Z), lo, hi)))), Z), S)
/// with constant scalars. `zeroPoint` is for int8 storage (uint8's - 128:
/// the same values, shifted).
struct QDQChain {
  Value source;
  double scale = 0;
  int64_t zeroPoint = 0;
};

/// The zero point step of the chain, which the importer leaves out when
/// there is none: `v` = OpT(a, z) with a constant scalar z gives (a, z), a
/// `v` made otherwise (v, 0); nullopt when z is not a constant scalar.
template <typename OpT>
std::optional<std::pair<Value, double>> peelZeroPoint(Value v) {
  auto op = v.getDefiningOp<OpT>();
  if (!op)
    return std::make_pair(v, 0.0);
  std::optional<double> z = scalarOf(op.getB());
  if (!z)
    return std::nullopt;
  return std::make_pair(op.getA(), *z);
}

std::optional<QDQChain> matchQDQ(Value v) {
  auto mul = v.getDefiningOp<MulOp>();
  std::optional<double> s2 = mul ? scalarOf(mul.getB()) : std::nullopt;
  auto dequantized = s2 ? peelZeroPoint<SubOp>(mul.getA()) : std::nullopt;
  if (!dequantized)
    return std::nullopt;
  auto [t, zd] = *dequantized;
  auto toFloat = t.getDefiningOp<CastOp>();
  auto toInt = toFloat ? toFloat.getInput().getDefiningOp<CastOp>() : nullptr;
  auto it = toInt ? dyn_cast<IntegerType>(elementTypeOf(toInt.getOutput())) : nullptr;
  if (!toInt || !it || it.getWidth() != 8 || !elementTypeOf(toFloat.getOutput()).isF32())
    return std::nullopt;
  bool isUnsigned = it.isUnsigned();
  auto clip = toInt.getInput().getDefiningOp<ClipOp>();
  std::optional<double> lo = clip && clip.getMin() ? scalarOf(clip.getMin()) : std::nullopt;
  std::optional<double> hi = clip && clip.getMax() ? scalarOf(clip.getMax()) : std::nullopt;
  if (!lo || !hi || *lo != (isUnsigned ? 0.0 : -128.0) || *hi != (isUnsigned ? 255.0 : 127.0))
    return std::nullopt;
  auto quantized = peelZeroPoint<AddOp>(clip.getInput());
  if (!quantized)
    return std::nullopt;
  auto [a, zq] = *quantized;
  auto round = a.getDefiningOp<RoundOp>();
  auto div = round ? round.getX().getDefiningOp<DivOp>() : nullptr;
  std::optional<double> s1 = div ? scalarOf(div.getB()) : std::nullopt;
  if (!s1 || *s1 != *s2 || !(*s1 > 0) || zq != zd || !elementTypeOf(div.getA()).isF32() ||
      zd != std::nearbyint(zd))
    return std::nullopt;
  int64_t zp = int64_t(zd) - (isUnsigned ? 128 : 0);
  if (zp < kQMin || zp > kQMax)
    return std::nullopt;
  return QDQChain{div.getA(), *s1, zp};
}

struct QuantizePass : glm::impl::QuantizePassBase<QuantizePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (calibMethod != "minmax" && calibMethod != "percentile") {
      func.emitError("glm-quantize: calib-method must be minmax or percentile, got '")
          << calibMethod << "'";
      return signalPassFailure();
    }
    if (!(percentile > 50.0 && percentile <= 100.0)) {
      func.emitError("glm-quantize: percentile must be in (50, 100], got ") << percentile;
      return signalPassFailure();
    }
    SmallVector<llvm::Regex> excluded;
    for (const std::string &p : exclude) {
      std::string err;
      if (!llvm::Regex(p).isValid(err)) {
        func.emitError("glm-quantize: exclude pattern '") << p << "' is not a regular expression: "
                                                          << err;
        return signalPassFailure();
      }
      excluded.emplace_back(p);
    }
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) {
      if (isa<ConvOp, GemmOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      std::string name = getNodeName(op->getLoc());
      if (llvm::any_of(excluded, [&](llvm::Regex &re) { return re.match(name); }))
        continue;
      quantize(op);
    }
    // The ranges are read; the IR does not carry them further.
    func.walk([](Operation *op) { op->removeAttr("glm.calib"); });
  }

  /// The (data, weight) operands of a supported op.
  static std::optional<std::pair<OpOperand *, OpOperand *>> operandsOf(Operation *op) {
    if (auto conv = dyn_cast<ConvOp>(op))
      return std::make_pair(&conv.getXMutable(), &conv.getWMutable());
    auto gemm = cast<GemmOp>(op);
    if (gemm.getTransA())
      return std::nullopt;
    return std::make_pair(&gemm.getAMutable(), &gemm.getBMutable());
  }

  void quantize(Operation *op) {
    auto operands = operandsOf(op);
    if (!operands)
      return;
    auto [data, weight] = *operands;
    auto dt = rankedOrNull(data->get()), wt = rankedOrNull(weight->get());
    if (!dt || !wt || !wt.hasStaticShape() || !dt.getElementType().isF32() ||
        !wt.getElementType().isF32())
      return;
    ElementsAttr wAttr = getConstantElements(weight->get());
    std::optional<SmallVector<double>> w = wAttr ? getValuesAsDouble(wAttr) : std::nullopt;
    if (!w)
      return;
    // The data's scale and zero point: a QDQ pair already in the model
    // (its quantization, exactly), else the calibrated range.
    std::optional<QDQChain> qdq = matchQDQ(data->get());
    std::optional<Range> range;
    if (!qdq && !qdqOnly)
      range = calibratedRange(op, calibMethod, percentile);
    if (!qdq && !(range && range->hi > range->lo))
      return;

    MLIRContext *ctx = op->getContext();
    OpBuilder b(op);
    Location loc = op->getLoc();
    Type f32 = b.getF32Type(), i8 = b.getIntegerType(8);

    // Data: scale and zero point with the real 0 exactly representable.
    double scale = qdq ? qdq->scale : (range->hi - range->lo) / double(kQMax - kQMin);
    int64_t zp = qdq ? qdq->zeroPoint
                     : std::clamp<int64_t>(std::llround(kQMin - range->lo / scale), kQMin, kQMax);
    auto dataType = quant::UniformQuantizedType::get(quant::QuantizationFlags::Signed, i8, f32,
                                                     scale, zp, kQMin, kQMax);
    Value q = quant::QuantizeCastOp::create(
        b, loc, RankedTensorType::get(dt.getShape(), dataType), qdq ? qdq->source : data->get());

    // Weight: symmetric int8 per output channel (the weight as the
    // [output][feature] matrix pruning sees).
    auto prunable = cast<PrunableOpInterface>(op);
    int64_t axis = prunable.getWeightOutputDim();
    WeightView view(prunable);
    ArrayRef<int64_t> shape = wt.getShape();
    int64_t outs = view.outputs();
    SmallVector<double> scales(outs, 0.0);
    for (int64_t o = 0; o < outs; ++o)
      for (int64_t f = 0; f < view.features(); ++f)
        scales[o] = std::max(scales[o], std::fabs((*w)[view.index(o, f)]));
    double top = *llvm::max_element(scales) / double(kWMax);
    for (double &s : scales)
      s = s > 0 ? s / double(kWMax) : 1.0; // an all-zero channel (pruned): any scale
    // A weight dequantized per tensor (a QDQ model quantized without
    // per-channel scales) keeps its one scale: re-deriving per-channel
    // ones would round differently from the model.
    if (qdq && top > 0) {
      bool perTensor = llvm::all_of(*w, [&](double v) {
        double q = v / top;
        return std::fabs(q - std::nearbyint(q)) < 1e-3 && std::fabs(q) <= kWMax + 0.5;
      });
      if (perTensor)
        std::fill(scales.begin(), scales.end(), top);
    }
    SmallVector<double> qw(w->size());
    double signal = 0, noise = 0;
    for (int64_t o = 0; o < outs; ++o)
      for (int64_t f = 0; f < view.features(); ++f) {
        int64_t k = view.index(o, f);
        double v = std::clamp<double>(std::nearbyint((*w)[k] / scales[o]), -kWMax, kWMax);
        qw[k] = v;
        signal += (*w)[k] * (*w)[k];
        noise += ((*w)[k] - v * scales[o]) * ((*w)[k] - v * scales[o]);
      }
    SmallVector<int64_t> zeros(outs, 0);
    auto weightType = quant::UniformQuantizedPerAxisType::get(
        quant::QuantizationFlags::Signed, i8, f32, scales, zeros, int32_t(axis), -kWMax, kWMax);
    Value raw = ConstantOp::create(
        b, loc, makeResourceElements(RankedTensorType::get(shape, i8), qw, "int8_weight"));
    Value qweight = quant::StorageCastOp::create(
        b, loc, RankedTensorType::get(shape, weightType), raw);

    data->set(q);
    weight->set(qweight);
    double sqnr = noise > 0 ? 10.0 * std::log10(signal / noise) : 99.0;
    op->setAttr("glm.quant_info",
                DictionaryAttr::get(ctx, {NamedAttribute(StringAttr::get(ctx, "weight_sqnr_db"),
                                                         FloatAttr::get(Float64Type::get(ctx), sqnr)),
                                          NamedAttribute(StringAttr::get(ctx, "clipped"),
                                                         FloatAttr::get(Float64Type::get(ctx),
                                                                        range ? range->clipped : 0.0)),
                                          NamedAttribute(StringAttr::get(ctx, "from"),
                                                         StringAttr::get(ctx, qdq ? "qdq" : "calibration"))}));
  }
};

} // namespace
