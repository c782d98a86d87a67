//===- NarrowTypes.cpp - float8, float4 and 4-bit integer bytes -----------===//
//
// LLVM has no float8/float4 arithmetic and stores i4 in a byte with
// unspecified high bits, so glm's narrow element types live in bytes (see
// Utils.h) and are converted with integer arithmetic here. The rules are
// ONNX Cast's: round to nearest even; with `saturate`, values beyond the
// largest finite one (infinities included) become it; without, NaN (or
// infinity for E5M2). The NaN patterns are the ones ONNX's reference (and
// ml_dtypes) write: 0x7F (E4M3FN), 0x7E (E5M2), 0x80 (the FNUZ types, which
// have no -0), and float4 E2M1, which has no NaN, writes 0x8 (-0).
//
//===----------------------------------------------------------------------===//

#include "passes/lowering/linalg/Utils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include "llvm/ADT/APFloat.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::glm::lowering;

namespace {

enum class Specials { IEEE, FN, FNUZ, None };

/// The bit layout of a narrow float type.
struct Format {
  unsigned width, mantissa, bias;
  Specials specials;
  uint32_t largest; // bits of the largest finite value
};

Format formatOf(FloatType t) {
  const llvm::fltSemantics &sem = t.getFloatSemantics();
  Format f;
  f.width = llvm::APFloat::semanticsSizeInBits(sem);
  f.mantissa = llvm::APFloat::semanticsPrecision(sem) - 1;
  f.bias = 1 - llvm::APFloat::semanticsMinExponent(sem);
  f.specials = isa<Float8E5M2Type>(t)                                 ? Specials::IEEE
               : isa<Float8E4M3FNType>(t)                             ? Specials::FN
               : isa<Float8E4M3FNUZType, Float8E5M2FNUZType>(t)       ? Specials::FNUZ
                                                                      : Specials::None;
  f.largest = (uint32_t)llvm::APFloat::getLargest(sem).bitcastToAPInt().getZExtValue();
  return f;
}

struct I32Builder {
  OpBuilder &b;
  Location loc;
  Type i32;
  Value c(int64_t v) { return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr((int32_t)v)); }
  Value andI(Value x, int64_t m) { return arith::AndIOp::create(b, loc, x, c(m)); }
  Value orI(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value shl(Value x, int64_t s) { return arith::ShLIOp::create(b, loc, x, c(s)); }
  Value shr(Value x, int64_t s) { return arith::ShRUIOp::create(b, loc, x, c(s)); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, int64_t v) { return arith::CmpIOp::create(b, loc, p, x, c(v)); }
  Value sel(Value cond, Value x, Value y) { return arith::SelectOp::create(b, loc, cond, x, y); }
};

} // namespace

Value mlir::glm::lowering::decodeNibble(OpBuilder &b, Location loc, Value byte, bool isSigned) {
  Type i8 = byte.getType();
  auto c = [&](int64_t v) { return arith::ConstantOp::create(b, loc, b.getIntegerAttr(i8, v)); };
  if (!isSigned)
    return arith::AndIOp::create(b, loc, byte, c(0xf));
  Value up = arith::ShLIOp::create(b, loc, byte, c(4));
  return arith::ShRSIOp::create(b, loc, up, c(4));
}

Value mlir::glm::lowering::decodeNarrowFloat(OpBuilder &b, Location loc, Value byte, FloatType type) {
  Format f = formatOf(type);
  I32Builder i{b, loc, b.getI32Type()};
  Type f32 = b.getF32Type();
  unsigned m = f.mantissa, signBit = f.width - 1;
  Value bits = i.andI(arith::ExtUIOp::create(b, loc, i.i32, byte), (1 << f.width) - 1);
  Value sign = i.shr(bits, signBit);
  Value mag = i.andI(bits, (1 << signBit) - 1);
  Value e = i.shr(mag, m), man = i.andI(mag, (1 << m) - 1);
  // Normal: the f32 with the exponent rebiased and the mantissa shifted up.
  Value normal = i.orI(i.shl(i.add(e, i.c(127 - (int64_t)f.bias)), 23), i.shl(man, 23 - m));
  Value normalF = arith::BitcastOp::create(b, loc, f32, normal);
  // Subnormal: man * 2^(1 - bias - m), exact in f32.
  Value subF = arith::MulFOp::create(
      b, loc, arith::UIToFPOp::create(b, loc, f32, man),
      arith::ConstantOp::create(b, loc, b.getF32FloatAttr(std::ldexp(1.0f, 1 - (int)f.bias - (int)m))));
  Value v = i.sel(i.cmp(arith::CmpIPredicate::eq, e, 0), subF, normalF);
  Value nan = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(std::numeric_limits<float>::quiet_NaN()));
  Value inf = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(std::numeric_limits<float>::infinity()));
  switch (f.specials) {
  case Specials::IEEE: { // all-ones exponent: infinity or NaN
    Value top = i.cmp(arith::CmpIPredicate::eq, e, (1 << (f.width - 1 - m)) - 1);
    Value special = i.sel(i.cmp(arith::CmpIPredicate::eq, man, 0), inf, nan);
    v = i.sel(top, special, v);
    break;
  }
  case Specials::FN: // S.1111.111 is NaN
    v = i.sel(i.cmp(arith::CmpIPredicate::eq, mag, (1 << signBit) - 1), nan, v);
    break;
  case Specials::FNUZ: // 1.0000.000 (-0) is NaN
    v = i.sel(i.cmp(arith::CmpIPredicate::eq, bits, 1 << signBit), nan, v);
    break;
  case Specials::None:
    break;
  }
  Value neg = arith::NegFOp::create(b, loc, v);
  return i.sel(i.cmp(arith::CmpIPredicate::ne, sign, 0), neg, v);
}

Value mlir::glm::lowering::encodeNarrowFloat(OpBuilder &b, Location loc, Value x, FloatType type,
                                             bool saturate) {
  Format f = formatOf(type);
  I32Builder i{b, loc, b.getI32Type()};
  Type f32 = b.getF32Type();
  unsigned m = f.mantissa, signBit = f.width - 1, shift = 23 - m;
  Value xb = arith::BitcastOp::create(b, loc, i.i32, x);
  Value sign = i.shl(i.shr(xb, 31), signBit);
  Value ab = i.andI(xb, 0x7fffffff);
  Value isNan = i.cmp(arith::CmpIPredicate::ugt, ab, 0x7f800000);
  // Normal in the target: round the f32 bits to nearest even at the
  // target's mantissa width, then rebias the exponent.
  Value lsb = i.andI(i.shr(ab, shift), 1);
  Value rounded = i.shr(i.add(i.add(ab, i.c((1 << (shift - 1)) - 1)), lsb), shift);
  Value normal = i.sub(rounded, i.c((int64_t)(127 - f.bias) << m));
  // Subnormal in the target: |x| / 2^(1 - bias - m), rounded to even; 2^m
  // is the smallest normal's encoding.
  Value a = arith::BitcastOp::create(b, loc, f32, ab);
  Value scaled = arith::MulFOp::create(
      b, loc, a,
      arith::ConstantOp::create(b, loc, b.getF32FloatAttr(std::ldexp(1.0f, (int)f.bias - 1 + (int)m))));
  Value sub = arith::FPToUIOp::create(b, loc, i.i32, math::RoundEvenOp::create(b, loc, scaled));
  Value isSub = i.cmp(arith::CmpIPredicate::ult, ab, (int64_t)(127 + 1 - f.bias) << 23);
  Value enc = i.sel(isSub, sub, normal);
  // Beyond the largest finite value (infinity included; NaN below).
  Value over = i.cmp(arith::CmpIPredicate::ugt, enc, f.largest);
  int64_t signMask = int64_t(1) << signBit;
  Value result;
  if (f.specials == Specials::FNUZ) {
    // No -0 and one NaN, 0x80, unsigned.
    Value nanBits = i.c(signMask);
    Value signedEnc = i.sel(i.cmp(arith::CmpIPredicate::eq, enc, 0), enc, i.orI(enc, sign));
    result = i.sel(over, saturate ? i.orI(i.c(f.largest), sign) : nanBits, signedEnc);
    result = i.sel(isNan, nanBits, result);
  } else {
    int64_t overBits = f.largest, nanBits;
    switch (f.specials) {
    case Specials::IEEE: // infinity, and 0x7E for NaN
      if (!saturate)
        overBits = f.largest + 1;
      nanBits = f.largest + 3;
      break;
    case Specials::FN:
      if (!saturate)
        overBits = f.largest + 1;
      nanBits = f.largest + 1;
      break;
    default: // float4: no NaN, no infinity; NaN becomes -0 as in ONNX's reference
      nanBits = signMask;
      break;
    }
    Value v = i.sel(over, i.c(overBits), enc);
    result = i.orI(v, sign);
    Value nan = f.specials == Specials::None ? i.c(nanBits) : i.orI(i.c(nanBits), sign);
    result = i.sel(isNan, nan, result);
  }
  return arith::TruncIOp::create(b, loc, b.getIntegerType(8), result);
}
