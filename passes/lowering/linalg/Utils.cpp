//===- Utils.cpp - helpers for lowering glm to linalg ---------------------===//

#include "passes/lowering/linalg/Utils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::glm::lowering;

OpFoldResult mlir::glm::lowering::getDim(OpBuilder &b, Location loc, Value tensor, int64_t d) {
  auto ty = cast<RankedTensorType>(tensor.getType());
  if (!ty.isDynamicDim(d))
    return b.getIndexAttr(ty.getDimSize(d));
  return tensor::DimOp::create(b, loc, tensor, d).getResult();
}

SmallVector<OpFoldResult> mlir::glm::lowering::getDims(OpBuilder &b, Location loc, Value tensor) {
  SmallVector<OpFoldResult> dims;
  for (int64_t d = 0, r = cast<RankedTensorType>(tensor.getType()).getRank(); d < r; ++d)
    dims.push_back(getDim(b, loc, tensor, d));
  return dims;
}

Value mlir::glm::lowering::toIndexValue(OpBuilder &b, Location loc, OpFoldResult ofr) {
  return getValueOrCreateConstantIndexOp(b, loc, ofr);
}

Value mlir::glm::lowering::createEmpty(OpBuilder &b, Location loc, RankedTensorType type,
                                       ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> dyn;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dyn.push_back(toIndexValue(b, loc, sizes[d]));
  return tensor::EmptyOp::create(b, loc, type, dyn);
}

Value mlir::glm::lowering::createFilled(OpBuilder &b, Location loc, RankedTensorType type,
                                        ArrayRef<OpFoldResult> sizes, Value value) {
  Value empty = createEmpty(b, loc, type, sizes);
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

Value mlir::glm::lowering::scalarConstant(OpBuilder &b, Location loc, Type type, double value) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, value));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, (int64_t)value));
}

Value mlir::glm::lowering::lowestValue(OpBuilder &b, Location loc, Type type) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc, b.getFloatAttr(ft, APFloat::getInf(ft.getFloatSemantics(), /*Negative=*/true)));
  auto it = cast<IntegerType>(type);
  APInt v = it.getWidth() == 1 ? APInt(1, 0) : APInt::getSignedMinValue(it.getWidth());
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, v));
}

Value mlir::glm::lowering::highestValue(OpBuilder &b, Location loc, Type type) {
  if (auto ft = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc, b.getFloatAttr(ft, APFloat::getInf(ft.getFloatSemantics(), /*Negative=*/false)));
  auto it = cast<IntegerType>(type);
  APInt v = it.getWidth() == 1 ? APInt(1, 1) : APInt::getSignedMaxValue(it.getWidth());
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, v));
}

AffineMap mlir::glm::lowering::broadcastMap(MLIRContext *ctx, RankedTensorType operandType,
                                            RankedTensorType resultType) {
  int64_t rank = resultType.getRank(), off = rank - operandType.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < operandType.getRank(); ++d) {
    bool bcast = operandType.getDimSize(d) == 1 && resultType.getDimSize(d + off) != 1;
    exprs.push_back(bcast ? getAffineConstantExpr(0, ctx) : getAffineDimExpr(d + off, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

SmallVector<OpFoldResult> mlir::glm::lowering::broadcastSizes(OpBuilder &b, Location loc,
                                                              ValueRange operands,
                                                              RankedTensorType resultType) {
  SmallVector<OpFoldResult> sizes;
  int64_t rank = resultType.getRank();
  for (int64_t d = 0; d < rank; ++d) {
    if (!resultType.isDynamicDim(d)) {
      sizes.push_back(b.getIndexAttr(resultType.getDimSize(d)));
      continue;
    }
    Value acc;
    for (Value v : operands) {
      auto t = cast<RankedTensorType>(v.getType());
      int64_t od = d - (rank - t.getRank());
      if (od < 0 || t.getDimSize(od) == 1)
        continue;
      Value dim = toIndexValue(b, loc, getDim(b, loc, v, od));
      acc = acc ? arith::MaxSIOp::create(b, loc, acc, dim).getResult() : dim;
    }
    sizes.push_back(acc ? OpFoldResult(acc) : OpFoldResult(b.getIndexAttr(1)));
  }
  return sizes;
}

Value mlir::glm::lowering::reshapeTensor(OpBuilder &b, Location loc, Value src,
                                         RankedTensorType resultType,
                                         ArrayRef<OpFoldResult> sizes) {
  auto srcType = cast<RankedTensorType>(src.getType());
  // A scalar becomes a tensor of ones: rebuild it from its element
  // (expanding a 0-d memref trips upstream's expand-strided-metadata).
  if (srcType.getRank() == 0) {
    Value elem = tensor::ExtractOp::create(b, loc, src, ValueRange{});
    return tensor::FromElementsOp::create(b, loc, resultType, ValueRange{elem});
  }
  // Same type with at most one dynamic dim: the sizes must be equal.
  if (srcType == resultType &&
      llvm::count_if(srcType.getShape(), ShapedType::isDynamic) <= 1)
    return src;
  if (auto reassoc = getReassociationIndicesForReshape(srcType, resultType)) {
    if (srcType.getRank() > resultType.getRank())
      return tensor::CollapseShapeOp::create(b, loc, resultType, src, *reassoc);
    // Upstream's expand-strided-metadata crashes on an expand group with
    // more than one dynamic dim (MLIR 22); those take tensor.reshape below.
    bool simple = llvm::all_of(*reassoc, [&](const ReassociationIndices &group) {
      return llvm::count_if(group, [&](int64_t d) { return resultType.isDynamicDim(d); }) <= 1;
    });
    if (srcType.getRank() < resultType.getRank() && simple)
      return tensor::ExpandShapeOp::create(b, loc, resultType, src, *reassoc, sizes);
  }
  // A static result without a direct reassociation ([3, 4] -> [1, 12]):
  // collapse to one dim and expand (a tensor.reshape would need an index
  // shape tensor, which folds into a constant no buffer can hold).
  // A static result from a source with dynamic dims the inference could
  // not resolve: the same, with a cast to the static element count.
  if (resultType.hasStaticShape() && resultType.getRank() > 0 && srcType.getRank() > 0) {
    ReassociationIndices all;
    for (int64_t d = 0; d < srcType.getRank(); ++d)
      all.push_back(d);
    int64_t n = resultType.getNumElements();
    auto flatType = RankedTensorType::get({n}, srcType.getElementType());
    Value flat = src;
    if (srcType.getRank() != 1) {
      auto collapsed = RankedTensorType::get(
          {srcType.hasStaticShape() ? srcType.getNumElements() : ShapedType::kDynamic},
          srcType.getElementType());
      flat = tensor::CollapseShapeOp::create(b, loc, collapsed, src,
                                             SmallVector<ReassociationIndices>{all});
    }
    if (flat.getType() != flatType)
      flat = tensor::CastOp::create(b, loc, flatType, flat);
    if (resultType.getRank() == 1)
      return flat;
    ReassociationIndices outAll;
    for (int64_t d = 0; d < resultType.getRank(); ++d)
      outAll.push_back(d);
    return tensor::ExpandShapeOp::create(b, loc, resultType, flat,
                                         SmallVector<ReassociationIndices>{outAll});
  }
  // General case: tensor.reshape with the sizes as a shape tensor.
  SmallVector<Value> dims;
  for (OpFoldResult s : sizes)
    dims.push_back(toIndexValue(b, loc, s));
  auto shapeType = RankedTensorType::get({(int64_t)dims.size()}, b.getIndexType());
  Value shape = tensor::FromElementsOp::create(b, loc, shapeType, dims);
  return tensor::ReshapeOp::create(b, loc, resultType, src, shape);
}

SmallVector<OpFoldResult> mlir::glm::lowering::readIndexVector(OpBuilder &b, Location loc,
                                                               Value tensor, int64_t n) {
  SmallVector<OpFoldResult> out;
  auto ty = cast<RankedTensorType>(tensor.getType());
  DenseIntElementsAttr cst;
  bool isConst = matchPattern(tensor, m_Constant(&cst));
  for (int64_t i = 0; i < n; ++i) {
    if (isConst) {
      out.push_back(b.getIndexAttr(cst.getValues<APInt>()[cst.isSplat() ? 0 : i].getSExtValue()));
      continue;
    }
    SmallVector<Value> idx;
    if (ty.getRank() == 1)
      idx.push_back(arith::ConstantIndexOp::create(b, loc, i));
    Value v = tensor::ExtractOp::create(b, loc, tensor, idx);
    if (!v.getType().isIndex())
      v = arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
    out.push_back(v);
  }
  return out;
}

Value mlir::glm::lowering::buildParallelGeneric(
    OpBuilder &b, Location loc, RankedTensorType resultType, ArrayRef<OpFoldResult> sizes,
    ValueRange inputs, ArrayRef<AffineMap> inputMaps,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  int64_t rank = resultType.getRank();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = createEmpty(b, loc, resultType, sizes);
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  return linalg::GenericOp::create(
             b, loc, resultType, inputs, init, maps, iters,
             [&](OpBuilder &nb, Location nloc, ValueRange args) {
               linalg::YieldOp::create(nb, nloc, body(nb, nloc, args.drop_back()));
             })
      .getResult(0);
}

Value mlir::glm::lowering::buildElementwise(
    OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange inputs,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<AffineMap> maps;
  for (Value in : inputs)
    maps.push_back(broadcastMap(b.getContext(), cast<RankedTensorType>(in.getType()), resultType));
  return buildParallelGeneric(b, loc, resultType, broadcastSizes(b, loc, inputs, resultType), inputs,
                              maps, body);
}

RankedTensorType mlir::glm::lowering::convertTensorType(const TypeConverter &converter, Type type) {
  return dyn_cast_or_null<RankedTensorType>(converter.convertType(type));
}

Value mlir::glm::lowering::reduceDims(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> dims,
                                      Value initVal,
                                      function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto xt = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> sizes;
  for (int64_t d = 0; d < xt.getRank(); ++d)
    if (!llvm::is_contained(dims, d)) {
      shape.push_back(xt.getDimSize(d));
      sizes.push_back(getDim(b, loc, x, d));
    }
  auto rt = RankedTensorType::get(shape, xt.getElementType());
  Value init = createFilled(b, loc, rt, sizes, initVal);
  return linalg::ReduceOp::create(b, loc, ValueRange{x}, ValueRange{init}, dims,
                                  [&](OpBuilder &nb, Location l, ValueRange args) {
                                    linalg::YieldOp::create(nb, l, combine(nb, l, args[0], args[1]));
                                  })
      .getResult(0);
}

Value mlir::glm::lowering::buildSigmoid(OpBuilder &b, Location loc, Value x) {
  Type t = x.getType();
  Value one = scalarConstant(b, loc, t, 1.0);
  Value negx = arith::NegFOp::create(b, loc, x);
  Value e = math::ExpOp::create(b, loc, negx);
  return arith::DivFOp::create(b, loc, one, arith::AddFOp::create(b, loc, one, e));
}

Value mlir::glm::lowering::buildSilu(OpBuilder &b, Location loc, Value x) {
  return arith::MulFOp::create(b, loc, x, buildSigmoid(b, loc, x));
}

Value mlir::glm::lowering::buildGelu(OpBuilder &b, Location loc, Value x, StringRef approximate) {
  Type t = x.getType();
  Value half = scalarConstant(b, loc, t, 0.5), one = scalarConstant(b, loc, t, 1.0);
  Value inner;
  if (approximate == "tanh") {
    Value c0 = scalarConstant(b, loc, t, std::sqrt(2.0 / M_PI));
    Value c1 = scalarConstant(b, loc, t, 0.044715);
    Value x3 = arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
    Value poly = arith::AddFOp::create(b, loc, x, arith::MulFOp::create(b, loc, c1, x3));
    inner = math::TanhOp::create(b, loc, arith::MulFOp::create(b, loc, c0, poly));
  } else {
    Value rs2 = scalarConstant(b, loc, t, M_SQRT1_2);
    inner = math::ErfOp::create(b, loc, arith::MulFOp::create(b, loc, x, rs2));
  }
  Value s = arith::AddFOp::create(b, loc, one, inner);
  return arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, half, x), s);
}
