//===- Utils.h - helpers for lowering glm to linalg -------------*- C++ -*-===//

#ifndef GLMC_PASSES_LOWERING_LINALG_UTILS_H
#define GLMC_PASSES_LOWERING_LINALG_UTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::glm::lowering {

/// Size of dim `d` of a ranked tensor value, as an index OpFoldResult.
OpFoldResult getDim(OpBuilder &b, Location loc, Value tensor, int64_t d);
/// All dims of a ranked tensor value.
SmallVector<OpFoldResult> getDims(OpBuilder &b, Location loc, Value tensor);
/// An index Value for an OpFoldResult.
Value toIndexValue(OpBuilder &b, Location loc, OpFoldResult ofr);

/// tensor.empty of `type` with the given (mixed) sizes.
Value createEmpty(OpBuilder &b, Location loc, RankedTensorType type, ArrayRef<OpFoldResult> sizes);
/// tensor.empty filled with `value` (linalg.fill).
Value createFilled(OpBuilder &b, Location loc, RankedTensorType type,
                   ArrayRef<OpFoldResult> sizes, Value value);

/// A scalar constant of element type `type` (float or int) with `value`.
Value scalarConstant(OpBuilder &b, Location loc, Type type, double value);
/// The lowest / highest finite value of `type`, for max/min reductions.
Value lowestValue(OpBuilder &b, Location loc, Type type);
Value highestValue(OpBuilder &b, Location loc, Type type);

/// The indexing map reading `operandType` broadcast (numpy rules) into a
/// result of rank `resultRank`: leading dims dropped, static 1 dims read at 0.
AffineMap broadcastMap(MLIRContext *ctx, RankedTensorType operandType, RankedTensorType resultType);

/// Result sizes of a numpy broadcast of `operands` to `resultType`: static
/// dims are constants, dynamic dims the max over operands that have them.
SmallVector<OpFoldResult> broadcastSizes(OpBuilder &b, Location loc, ValueRange operands,
                                         RankedTensorType resultType);

/// Reshapes `src` into `resultType` with sizes `sizes` using collapse/expand
/// when a reassociation exists, else collapse to 1-d and expand.
Value reshapeTensor(OpBuilder &b, Location loc, Value src, RankedTensorType resultType,
                    ArrayRef<OpFoldResult> sizes);

/// Reads the integer values of a 1-d (or 0-d) shape-like tensor as index
/// values: constants where known, tensor.extract otherwise.
SmallVector<OpFoldResult> readIndexVector(OpBuilder &b, Location loc, Value tensor, int64_t n);

/// Builds an all-parallel `linalg.generic` over a new tensor of `resultType`
/// with `sizes`, reading `inputs` through `inputMaps` (the output map is the
/// identity). `body` gets the input scalars and returns the output scalar;
/// it may use linalg.index for the iteration coordinates.
Value buildParallelGeneric(OpBuilder &b, Location loc, RankedTensorType resultType,
                           ArrayRef<OpFoldResult> sizes, ValueRange inputs,
                           ArrayRef<AffineMap> inputMaps,
                           function_ref<Value(OpBuilder &, Location, ValueRange)> body);

/// The constants of a quantized contraction (glm-quantize's operand
/// types): per output channel o, `multiplier[o] = s_data * s_w[o]` and
/// `correction[o] = z_data * sum of the int8 weights of o`.
struct Int8Contraction {
  int64_t dataZeroPoint = 0;
  SmallVector<double> multiplier;
  SmallVector<int64_t> correction;
};

/// Int8Contraction of `op` whose `data` is per-tensor quantized and whose
/// `weight` is a quant.scast of an int8 constant quantized (symmetric)
/// along `axis`, the output-channel dim. Emits an error on `op` otherwise.
FailureOr<Int8Contraction> int8Contraction(Operation *op, Value data, Value weight, int64_t axis);

/// The float result of a quantized contraction from its i32 accumulator
/// `acc` (shape of `outT`, output channel `channelDim`):
/// `float(acc - correction[o]) * multiplier[o] * alpha (+ beta * bias)`,
/// the bias read through `biasMap`.
Value dequantizeAccumulator(OpBuilder &b, Location loc, Value acc, RankedTensorType outT,
                            int64_t channelDim, const Int8Contraction &c, double alpha, Value bias,
                            AffineMap biasMap, double beta);

/// Builds `linalg.generic` computing an elementwise function of `inputs`
/// (broadcast) into a new tensor of `resultType`.
Value buildElementwise(OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs,
                       function_ref<Value(OpBuilder &, Location, ValueRange)> body);

/// Reduces `x` over `dims` (sorted) with `combine`, starting from
/// `initVal`; the result drops the reduced dims (linalg.reduce).
Value reduceDims(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> dims, Value initVal,
                 function_ref<Value(OpBuilder &, Location, Value, Value)> combine);

/// Scalar activations, as the element-wise lowering computes them.
Value buildSigmoid(OpBuilder &b, Location loc, Value x);
Value buildSilu(OpBuilder &b, Location loc, Value x);
/// `approximate` is "none" (erf) or "tanh", as glm.gelu's attribute.
Value buildGelu(OpBuilder &b, Location loc, Value x, StringRef approximate);

/// 8- and 4-bit element types (float8 E4M3FN/E4M3FNUZ/E5M2/E5M2FNUZ,
/// float4 E2M1FN, int4, uint4) are held one per byte: the lowering's type
/// converter maps them to i8, float8 as its bit pattern, a 4-bit value in
/// the low nibble with the high nibble zero (glm::isNarrowType, ShapeUtils.h).
/// These convert such bytes.
/// A narrow float's byte -> f32 (exact; NaN, infinities and -0 kept).
Value decodeNarrowFloat(OpBuilder &b, Location loc, Value byte, FloatType type);
/// f32 -> a narrow float's byte: round to nearest even; beyond the largest
/// finite value the largest (saturate) or NaN/infinity (ONNX Cast's tables).
Value encodeNarrowFloat(OpBuilder &b, Location loc, Value x, FloatType type, bool saturate);
/// A 4-bit integer's byte -> its i8 value (sign- or zero-extended).
Value decodeNibble(OpBuilder &b, Location loc, Value byte, bool isSigned);

/// The converted (signless) tensor type for a glm type.
RankedTensorType convertTensorType(const TypeConverter &converter, Type type);

} // namespace mlir::glm::lowering

#endif // GLMC_PASSES_LOWERING_LINALG_UTILS_H
