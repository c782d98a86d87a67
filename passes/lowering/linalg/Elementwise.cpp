//===- Elementwise.cpp - elementwise glm ops → linalg.generic -------------===//
//
// One pattern for every op with the GLMElementwise trait: operands broadcast
// with indexing maps, the scalar body comes from the table below. Adding an
// elementwise op is one ODS entry plus one case here.
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/linalg/Patterns.h"
#include "passes/lowering/linalg/Utils.h"

#include "dialects/glm/GLMOps.h"
#include "dialects/glm/ShapeUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::glm;
using namespace mlir::glm::lowering;

namespace {

bool isUnsignedType(Type t) {
  auto it = dyn_cast<IntegerType>(t);
  return it && it.isUnsigned();
}

/// Converts a scalar between element types with ONNX Cast semantics.
/// `fromOrig`/`toOrig` are the glm element types (they carry signedness
/// and the narrow types, which arrive and leave as bytes: Utils.h).
/// `saturate` is Cast's attribute for float8 targets.
Value castScalar(OpBuilder &b, Location loc, Value v, Type fromOrig, Type toOrig, Type to,
                 bool saturate = true) {
  Type i8 = b.getIntegerType(8), f32 = b.getF32Type();
  if (fromOrig == toOrig)
    return v;
  // Narrow sources: decode to f32 (floats) or i8 (4-bit integers) first.
  if (isNarrowType(fromOrig)) {
    if (auto ft = dyn_cast<FloatType>(fromOrig))
      return castScalar(b, loc, decodeNarrowFloat(b, loc, v, ft), f32, toOrig, to, saturate);
    bool isSigned = !cast<IntegerType>(fromOrig).isUnsigned();
    return castScalar(b, loc, decodeNibble(b, loc, v, isSigned),
                      isSigned ? b.getIntegerType(8) : b.getIntegerType(8, /*isSigned=*/false),
                      toOrig, to, saturate);
  }
  if (isNarrowType(toOrig)) {
    Type from = v.getType();
    if (auto ft = dyn_cast<FloatType>(toOrig))
      return encodeNarrowFloat(b, loc, castScalar(b, loc, v, fromOrig, f32, f32), ft, saturate);
    // int4/uint4: integers keep their low 4 bits (ONNX: higher bits are
    // discarded); floats out of range (undefined in ONNX) become 0, as in
    // ONNX's reference.
    Value byte;
    if (isa<FloatType>(from)) {
      bool isSigned = !cast<IntegerType>(toOrig).isUnsigned();
      double lo = isSigned ? -8.0 : 0.0, hi = isSigned ? 7.0 : 15.0;
      Value inRange = arith::AndIOp::create(
          b, loc,
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, v, scalarConstant(b, loc, from, lo - 1)),
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, v, scalarConstant(b, loc, from, hi + 1)));
      Value safe = arith::SelectOp::create(b, loc, inRange, v, scalarConstant(b, loc, from, 0.0));
      byte = arith::FPToSIOp::create(b, loc, i8, safe);
    } else {
      byte = castScalar(b, loc, v, fromOrig, i8, i8);
    }
    return arith::AndIOp::create(b, loc, byte, scalarConstant(b, loc, i8, 15));
  }
  Type from = v.getType();
  if (from == to)
    return v;
  bool fromFloat = isa<FloatType>(from), toFloat = isa<FloatType>(to);
  if (fromFloat && toFloat) {
    if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
      return arith::ExtFOp::create(b, loc, to, v);
    return arith::TruncFOp::create(b, loc, to, v);
  }
  if (to.isInteger(1)) {
    Value zero = scalarConstant(b, loc, from, 0);
    if (fromFloat)
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, v, zero);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v, zero);
  }
  if (fromFloat) {
    if (isUnsignedType(toOrig))
      return arith::FPToUIOp::create(b, loc, to, v);
    return arith::FPToSIOp::create(b, loc, to, v);
  }
  bool srcUnsigned = isUnsignedType(fromOrig) || from.isInteger(1);
  if (toFloat) {
    if (srcUnsigned)
      return arith::UIToFPOp::create(b, loc, to, v);
    return arith::SIToFPOp::create(b, loc, to, v);
  }
  unsigned fw = from.getIntOrFloatBitWidth(), tw = to.getIntOrFloatBitWidth();
  if (fw < tw)
    return srcUnsigned ? arith::ExtUIOp::create(b, loc, to, v).getResult()
                       : arith::ExtSIOp::create(b, loc, to, v).getResult();
  return arith::TruncIOp::create(b, loc, to, v);
}

/// The scalar computation of an elementwise op. `args` are converted
/// (signless) scalars; `origTypes` the glm operand element types.
Value buildScalar(OpBuilder &b, Location loc, Operation *op, ValueRange args,
                  ArrayRef<Type> origTypes, Type resultType) {
  Type t = args.empty() ? resultType : args[0].getType();
  bool isFloat = isa<FloatType>(t);
  bool isUnsigned = !origTypes.empty() && isUnsignedType(origTypes[0]);
  auto cmp = [&](arith::CmpFPredicate fp, arith::CmpIPredicate sp,
                 arith::CmpIPredicate up) -> Value {
    if (isFloat)
      return arith::CmpFOp::create(b, loc, fp, args[0], args[1]);
    return arith::CmpIOp::create(b, loc, isUnsigned ? up : sp, args[0], args[1]);
  };
  // A constant of the operands' element type.
  auto c = [&](double v) { return scalarConstant(b, loc, t, v); };
  auto cmp1 = [&](arith::CmpFPredicate fp, arith::CmpIPredicate sp, arith::CmpIPredicate up,
                  Value x, Value y) -> Value {
    if (isFloat)
      return arith::CmpFOp::create(b, loc, fp, x, y);
    return arith::CmpIOp::create(b, loc, isUnsigned ? up : sp, x, y);
  };
  // max(x, 0) + log(1 + exp(-|x|)): no overflow for large |x|.
  auto softplus = [&](Value x) -> Value {
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, math::AbsFOp::create(b, loc, x)));
    return arith::AddFOp::create(b, loc, arith::MaximumFOp::create(b, loc, x, c(0.0)),
                                 math::Log1pOp::create(b, loc, e));
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](AddOp) -> Value {
        return isFloat ? arith::AddFOp::create(b, loc, args[0], args[1]).getResult()
                       : arith::AddIOp::create(b, loc, args[0], args[1]).getResult();
      })
      .Case([&](SubOp) -> Value {
        return isFloat ? arith::SubFOp::create(b, loc, args[0], args[1]).getResult()
                       : arith::SubIOp::create(b, loc, args[0], args[1]).getResult();
      })
      .Case([&](MulOp) -> Value {
        return isFloat ? arith::MulFOp::create(b, loc, args[0], args[1]).getResult()
                       : arith::MulIOp::create(b, loc, args[0], args[1]).getResult();
      })
      .Case([&](DivOp) -> Value {
        if (isFloat)
          return arith::DivFOp::create(b, loc, args[0], args[1]);
        if (isUnsigned)
          return arith::DivUIOp::create(b, loc, args[0], args[1]);
        return arith::DivSIOp::create(b, loc, args[0], args[1]);
      })
      .Case([&](PowOp) -> Value {
        if (isFloat)
          return math::PowFOp::create(b, loc, args[0], args[1]);
        // Integer powers through f64 (exact while the result fits in 53
        // bits): math.ipowi has no LLVM lowering.
        Type f64 = b.getF64Type();
        auto toF = [&](Value v) -> Value {
          return isUnsigned ? arith::UIToFPOp::create(b, loc, f64, v).getResult()
                            : arith::SIToFPOp::create(b, loc, f64, v).getResult();
        };
        Value p = math::PowFOp::create(b, loc, toF(args[0]), toF(args[1]));
        return isUnsigned ? arith::FPToUIOp::create(b, loc, t, p).getResult()
                          : arith::FPToSIOp::create(b, loc, t, p).getResult();
      })
      .Case([&](MaxOp) -> Value {
        if (isFloat)
          return arith::MaximumFOp::create(b, loc, args[0], args[1]);
        return isUnsigned ? arith::MaxUIOp::create(b, loc, args[0], args[1]).getResult()
                          : arith::MaxSIOp::create(b, loc, args[0], args[1]).getResult();
      })
      .Case([&](MinOp) -> Value {
        if (isFloat)
          return arith::MinimumFOp::create(b, loc, args[0], args[1]);
        return isUnsigned ? arith::MinUIOp::create(b, loc, args[0], args[1]).getResult()
                          : arith::MinSIOp::create(b, loc, args[0], args[1]).getResult();
      })
      .Case([&](EqualOp) {
        return cmp(arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq, arith::CmpIPredicate::eq);
      })
      .Case([&](LessOp) {
        return cmp(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt, arith::CmpIPredicate::ult);
      })
      .Case([&](GreaterOp) {
        return cmp(arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt, arith::CmpIPredicate::ugt);
      })
      .Case([&](LessOrEqualOp) {
        return cmp(arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle, arith::CmpIPredicate::ule);
      })
      .Case([&](GreaterOrEqualOp) {
        return cmp(arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge, arith::CmpIPredicate::uge);
      })
      .Case([&](AndOp) -> Value { return arith::AndIOp::create(b, loc, args[0], args[1]); })
      .Case([&](OrOp) -> Value { return arith::OrIOp::create(b, loc, args[0], args[1]); })
      .Case([&](NotOp) -> Value {
        return arith::XOrIOp::create(b, loc, args[0], scalarConstant(b, loc, t, 1));
      })
      .Case([&](WhereOp) -> Value {
        return arith::SelectOp::create(b, loc, args[0], args[1], args[2]);
      })
      .Case([&](NegOp) -> Value {
        if (isFloat)
          return arith::NegFOp::create(b, loc, args[0]);
        return arith::SubIOp::create(b, loc, scalarConstant(b, loc, t, 0), args[0]);
      })
      .Case([&](AbsOp) -> Value {
        if (isFloat)
          return math::AbsFOp::create(b, loc, args[0]);
        return math::AbsIOp::create(b, loc, args[0]);
      })
      .Case([&](SqrtOp) -> Value { return math::SqrtOp::create(b, loc, args[0]); })
      .Case([&](ExpOp) -> Value { return math::ExpOp::create(b, loc, args[0]); })
      .Case([&](LogOp) -> Value { return math::LogOp::create(b, loc, args[0]); })
      .Case([&](ErfOp) -> Value { return math::ErfOp::create(b, loc, args[0]); })
      .Case([&](SinOp) -> Value { return math::SinOp::create(b, loc, args[0]); })
      .Case([&](CosOp) -> Value { return math::CosOp::create(b, loc, args[0]); })
      .Case([&](FloorOp) -> Value { return math::FloorOp::create(b, loc, args[0]); })
      .Case([&](CeilOp) -> Value { return math::CeilOp::create(b, loc, args[0]); })
      .Case([&](TanhOp) -> Value { return math::TanhOp::create(b, loc, args[0]); })
      .Case([&](ReciprocalOp) -> Value {
        return arith::DivFOp::create(b, loc, scalarConstant(b, loc, t, 1.0), args[0]);
      })
      .Case([&](ReluOp) -> Value {
        return arith::MaximumFOp::create(b, loc, args[0], scalarConstant(b, loc, t, 0.0));
      })
      .Case([&](SigmoidOp) { return buildSigmoid(b, loc, args[0]); })
      .Case([&](SiluOp) { return buildSilu(b, loc, args[0]); })
      .Case([&](SoftplusOp) { return softplus(args[0]); })
      .Case([&](MishOp) -> Value {
        Value x = args[0];
        return arith::MulFOp::create(b, loc, x, math::TanhOp::create(b, loc, softplus(x)));
      })
      .Case([&](HardSwishOp) -> Value {
        Value x = args[0];
        Value y = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, x, c(1.0 / 6.0)), c(0.5));
        y = arith::MinimumFOp::create(b, loc, arith::MaximumFOp::create(b, loc, y, c(0.0)), c(1.0));
        return arith::MulFOp::create(b, loc, x, y);
      })
      .Case([&](RoundOp) -> Value { return math::RoundEvenOp::create(b, loc, args[0]); })
      .Case([&](EluOp e) -> Value {
        Value x = args[0];
        Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, c(0.0));
        Value em1 = arith::SubFOp::create(b, loc, math::ExpOp::create(b, loc, x), c(1.0));
        Value scaled = arith::MulFOp::create(b, loc, c(e.getAlpha().convertToDouble()), em1);
        return arith::SelectOp::create(b, loc, neg, scaled, x);
      })
      .Case([&](SeluOp e) -> Value {
        Value x = args[0];
        Value le = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, x, c(0.0));
        Value em1 = arith::SubFOp::create(b, loc, math::ExpOp::create(b, loc, x), c(1.0));
        Value scaled = arith::MulFOp::create(b, loc, c(e.getAlpha().convertToDouble()), em1);
        Value y = arith::SelectOp::create(b, loc, le, scaled, x);
        return arith::MulFOp::create(b, loc, c(e.getGamma().convertToDouble()), y);
      })
      .Case([&](SignOp) -> Value {
        Value x = args[0];
        Value pos = cmp1(arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                         arith::CmpIPredicate::ugt, x, c(0));
        Value neg = cmp1(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                         arith::CmpIPredicate::ult, x, c(0));
        // Else x itself: 0, -0 or NaN.
        Value y = arith::SelectOp::create(b, loc, neg, c(-1), x);
        return arith::SelectOp::create(b, loc, pos, c(1), y);
      })
      .Case([&](PReluOp) -> Value {
        Value x = args[0];
        Value neg = cmp1(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                         arith::CmpIPredicate::ult, x, c(0));
        Value scaled = isFloat ? arith::MulFOp::create(b, loc, args[1], x).getResult()
                               : arith::MulIOp::create(b, loc, args[1], x).getResult();
        return arith::SelectOp::create(b, loc, neg, scaled, x);
      })
      .Case([&](ModOp m) -> Value {
        Value a = args[0], d = args[1];
        if (isUnsigned)
          return arith::RemUIOp::create(b, loc, a, d);
        // C's fmod: the dividend's sign.
        Value r = isFloat ? arith::RemFOp::create(b, loc, a, d).getResult()
                          : arith::RemSIOp::create(b, loc, a, d).getResult();
        if (m.getFmod() == 1)
          return r;
        // Python's %: a non-zero remainder takes the divisor's sign.
        auto lt0 = [&](Value v) {
          return cmp1(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                      arith::CmpIPredicate::ult, v, c(0));
        };
        Value nz = isFloat ? arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, r, c(0)).getResult()
                           : arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, r, c(0)).getResult();
        Value differ = arith::XOrIOp::create(b, loc, lt0(r), lt0(d));
        Value fix = arith::AndIOp::create(b, loc, nz, differ);
        Value shifted = isFloat ? arith::AddFOp::create(b, loc, r, d).getResult()
                                : arith::AddIOp::create(b, loc, r, d).getResult();
        return arith::SelectOp::create(b, loc, fix, shifted, r);
      })
      .Case([&](XorOp) -> Value { return arith::XOrIOp::create(b, loc, args[0], args[1]); })
      .Case([&](BitShiftOp s) -> Value {
        if (s.getDirection() == "LEFT")
          return arith::ShLIOp::create(b, loc, args[0], args[1]);
        return arith::ShRUIOp::create(b, loc, args[0], args[1]);
      })
      .Case([&](IsNaNOp) -> Value {
        return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, args[0], args[0]);
      })
      .Case([&](IsInfOp i) -> Value {
        Value x = args[0];
        Value inf = c(std::numeric_limits<double>::infinity());
        Value posInf = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x, inf);
        Value negInf = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x,
                                             arith::NegFOp::create(b, loc, inf));
        Value no = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
        Value p = i.getDetectPositive() ? posInf : no;
        Value n = i.getDetectNegative() ? negInf : no;
        return arith::OrIOp::create(b, loc, p, n);
      })
      .Case([&](GeluOp g) { return buildGelu(b, loc, args[0], g.getApproximate()); })
      .Case([&](LeakyReluOp l) -> Value {
        Value x = args[0];
        Value zero = scalarConstant(b, loc, t, 0.0);
        Value alpha = scalarConstant(b, loc, t, l.getAlpha().convertToDouble());
        Value neg = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, zero);
        return arith::SelectOp::create(b, loc, neg, arith::MulFOp::create(b, loc, alpha, x), x);
      })
      .Case([&](HardSigmoidOp h) -> Value {
        Value alpha = scalarConstant(b, loc, t, h.getAlpha().convertToDouble());
        Value beta = scalarConstant(b, loc, t, h.getBeta().convertToDouble());
        Value y = arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, alpha, args[0]), beta);
        y = arith::MaximumFOp::create(b, loc, y, scalarConstant(b, loc, t, 0.0));
        return arith::MinimumFOp::create(b, loc, y, scalarConstant(b, loc, t, 1.0));
      })
      .Case([&](ClipOp c) -> Value {
        Value x = args[0];
        unsigned i = 1;
        if (c.getMin()) {
          Value lo = args[i++];
          x = isFloat ? arith::MaximumFOp::create(b, loc, x, lo).getResult()
                      : (isUnsigned ? arith::MaxUIOp::create(b, loc, x, lo).getResult()
                                    : arith::MaxSIOp::create(b, loc, x, lo).getResult());
        }
        if (c.getMax()) {
          Value hi = args[i++];
          x = isFloat ? arith::MinimumFOp::create(b, loc, x, hi).getResult()
                      : (isUnsigned ? arith::MinUIOp::create(b, loc, x, hi).getResult()
                                    : arith::MinSIOp::create(b, loc, x, hi).getResult());
        }
        return x;
      })
      .Case([&](CastOp c) -> Value {
        return castScalar(b, loc, args[0], origTypes[0], c.getTo(), resultType, c.getSaturate());
      })
      .Default([](Operation *) { return Value(); });
}

/// Lowers any GLMElementwise op into one linalg.generic.
struct ElementwiseToLinalg : ConversionPattern {
  ElementwiseToLinalg(const TypeConverter &converter, MLIRContext *ctx)
      : ConversionPattern(converter, MatchTraitOpTypeTag(), TypeID::get<GLMElementwise>(),
                          /*benefit=*/1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op, ArrayRef<Value> operands,
                                ConversionPatternRewriter &rewriter) const override {
    auto resultType = convertTensorType(*getTypeConverter(), op->getResult(0).getType());
    if (!resultType)
      return rewriter.notifyMatchFailure(op, "result is not a ranked tensor");
    for (Value v : operands)
      if (!isa<RankedTensorType>(v.getType()))
        return rewriter.notifyMatchFailure(op, "operand is not a ranked tensor");
    SmallVector<Type> origTypes;
    for (Value v : op->getOperands())
      origTypes.push_back(getElementTypeOrSelf(v.getType()));
    Location loc = op->getLoc();
    bool failedBody = false;
    Value result = buildElementwise(
        rewriter, loc, resultType, operands, [&](OpBuilder &b, Location l, ValueRange args) {
          Value r = buildScalar(b, l, op, args, origTypes, resultType.getElementType());
          if (!r) {
            failedBody = true;
            return args.empty() ? Value() : args[0];
          }
          return r;
        });
    if (failedBody)
      return op->emitOpError("has no elementwise lowering for its element types");
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::glm::populateElementwiseToLinalgPatterns(const TypeConverter &converter,
                                                    RewritePatternSet &patterns) {
  patterns.add<ElementwiseToLinalg>(converter, patterns.getContext());
}
