//===- FusionUtils.h - matching helpers for the decoder fusions -*- C++ -*-===//
//
// Small structural matchers shared by passes/fusion/Fuse*.cpp: exporters
// spell the same computation with operands in either order, with identity
// casts in between and with constants of any broadcastable shape.
//
//===----------------------------------------------------------------------===//

#ifndef GLMC_PASSES_FUSION_FUSIONUTILS_H
#define GLMC_PASSES_FUSION_FUSIONUTILS_H

#include "dialects/glm/GLMOps.h"

#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace mlir::glm::fusion {

/// `v` with identity casts (same element type) looked through.
Value skipIdentityCasts(Value v);

/// The value of a constant whose elements are all equal (a splat of any
/// shape, scalar included), looking through identity casts.
std::optional<double> getSplatValue(Value v);

/// `v` defined by an OpTy, looking through identity casts.
template <typename OpTy>
OpTy definedBy(Value v) {
  return skipIdentityCasts(v).getDefiningOp<OpTy>();
}

/// For a commutative binary op, the operand that is not `known`, or null
/// when neither operand is `known` (both compared after skipIdentityCasts).
Value otherOperand(Operation *binary, Value known);

/// A static slice of one axis: [start, end) with step, normalized against
/// the input's dims (negative axis, clamped bounds).
struct AxisSlice {
  int64_t axis = 0, start = 0, end = 0, step = 1;
};
std::optional<AxisSlice> getAxisSlice(SliceOp slice);

/// True when every op in `ops` (but the last) has exactly one use: the
/// intermediate values of a matched chain must die with the fusion.
bool singleUseChain(ArrayRef<Operation *> ops);

/// Location for a fused op: the matched ops' locations fused, so that
/// diagnostics still name every ONNX node.
Location fusedLoc(PatternRewriter &rewriter, ArrayRef<Operation *> ops);

} // namespace mlir::glm::fusion

#endif // GLMC_PASSES_FUSION_FUSIONUTILS_H
