//===- FusionUtils.cpp - matching helpers for the decoder fusions ---------===//

#include "passes/fusion/FusionUtils.h"

#include "dialects/glm/ShapeUtils.h"

using namespace mlir;
using namespace mlir::glm;

Value fusion::skipIdentityCasts(Value v) {
  while (auto cast = v.getDefiningOp<CastOp>()) {
    if (elementTypeOf(cast.getInput()) != elementTypeOf(cast.getOutput()))
      break;
    v = cast.getInput();
  }
  return v;
}

std::optional<double> fusion::getSplatValue(Value v) {
  v = skipIdentityCasts(v);
  auto values = getConstantValuesAsDouble(v);
  if (!values || values->empty())
    return std::nullopt;
  for (double x : *values)
    if (x != values->front())
      return std::nullopt;
  return values->front();
}

Value fusion::otherOperand(Operation *binary, Value known) {
  if (binary->getNumOperands() != 2)
    return {};
  Value a = skipIdentityCasts(binary->getOperand(0)), b = skipIdentityCasts(binary->getOperand(1));
  known = skipIdentityCasts(known);
  if (a == known)
    return binary->getOperand(1);
  if (b == known)
    return binary->getOperand(0);
  return {};
}

std::optional<fusion::AxisSlice> fusion::getAxisSlice(SliceOp slice) {
  auto in = rankedOrNull(slice.getData());
  auto starts = getConstantIntValues(slice.getStarts()), ends = getConstantIntValues(slice.getEnds());
  if (!in || !starts || !ends || starts->size() != 1 || ends->size() != 1)
    return std::nullopt;
  AxisSlice s;
  s.axis = 0;
  if (slice.getAxes()) {
    auto axes = getConstantIntValues(slice.getAxes());
    if (!axes || axes->size() != 1)
      return std::nullopt;
    s.axis = (*axes)[0];
  }
  if (slice.getSteps()) {
    auto steps = getConstantIntValues(slice.getSteps());
    if (!steps || steps->size() != 1)
      return std::nullopt;
    s.step = (*steps)[0];
  }
  auto axis = normalizeAxis(s.axis, in.getRank());
  if (!axis || s.step <= 0)
    return std::nullopt;
  s.axis = *axis;
  int64_t dim = in.getDimSize(s.axis);
  if (ShapedType::isDynamic(dim))
    return std::nullopt;
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v += dim;
    return std::clamp<int64_t>(v, 0, dim);
  };
  s.start = clamp((*starts)[0]);
  s.end = clamp((*ends)[0]);
  return s;
}

bool fusion::singleUseChain(ArrayRef<Operation *> ops) {
  for (Operation *op : ops.drop_back())
    if (!op->hasOneUse())
      return false;
  return true;
}

Location fusion::fusedLoc(PatternRewriter &rewriter, ArrayRef<Operation *> ops) {
  SmallVector<Location> locs;
  for (Operation *op : ops)
    locs.push_back(op->getLoc());
  return rewriter.getFusedLoc(locs);
}
