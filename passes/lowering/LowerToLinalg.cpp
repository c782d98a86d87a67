//===- LowerToLinalg.cpp - glm-lower-to-linalg ----------------------------===//

#include "passes/Passes.h"

#include "dialects/glm/GLMOps.h"
#include "passes/lowering/linalg/Patterns.h"

#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::glm {
#define GEN_PASS_DEF_LOWERTOLINALGPASS
#include "passes/Passes.h.inc"
} // namespace mlir::glm

using namespace mlir;

namespace {

/// glm types are builtin tensors; only unsigned integer element types
/// change (to signless, as arith requires), and the 8- and 4-bit float and
/// 4-bit integer types become bytes. Signedness stays visible to the
/// patterns through the original op's types.
class GLMTypeConverter : public TypeConverter {
public:
  GLMTypeConverter() {
    addConversion([](Type t) { return t; });
    addConversion([](IntegerType t) -> Type {
      // int4/uint4 are held one per byte (passes/lowering/linalg/Utils.h).
      unsigned width = t.getWidth() == 4 ? 8 : t.getWidth();
      return t.isSignless() && width == t.getWidth() ? t : IntegerType::get(t.getContext(), width);
    });
    addConversion([](FloatType t) -> Type {
      // float8/float4 are held as their bit patterns, one per byte.
      return t.getWidth() < 16 ? IntegerType::get(t.getContext(), 8) : Type(t);
    });
    // Quantized values (glm-quantize) are their integer storage.
    addConversion([](quant::QuantizedType t) -> Type {
      return IntegerType::get(t.getContext(), t.getStorageTypeIntegralWidth());
    });
    addConversion([this](RankedTensorType t) -> Type {
      return RankedTensorType::get(t.getShape(), convertType(t.getElementType()));
    });
    auto cast = [](OpBuilder &b, Type type, ValueRange inputs, Location loc) -> Value {
      return UnrealizedConversionCastOp::create(b, loc, type, inputs).getResult(0);
    };
    addSourceMaterialization(cast);
    addTargetMaterialization(cast);
  }
};

struct LowerToLinalgPass : glm::impl::LowerToLinalgPassBase<LowerToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    GLMTypeConverter converter;
    RewritePatternSet patterns(ctx);
    glm::populateElementwiseToLinalgPatterns(converter, patterns);
    glm::populateContractionToLinalgPatterns(converter, patterns);
    glm::populateWindowToLinalgPatterns(converter, patterns);
    glm::populateReductionToLinalgPatterns(converter, patterns);
    glm::populateTensorToLinalgPatterns(converter, patterns);
    glm::populateFusedToLinalgPatterns(converter, patterns);
    glm::populateQuantizedToLinalgPatterns(converter, patterns);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns, converter);
    populateReturnOpTypeConversionPattern(patterns, converter);

    ConversionTarget target(*ctx);
    target.addIllegalDialect<glm::GLMDialect, quant::QuantDialect>();
    // Made by the gather patterns; glm-lower-index-reports lowers it.
    target.addLegalOp<glm::ReportIndexErrorOp>();
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect, arith::ArithDialect,
                           math::MathDialect, scf::SCFDialect>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp f) {
      return converter.isSignatureLegal(f.getFunctionType()) && converter.isLegal(&f.getBody());
    });
    target.addDynamicallyLegalOp<func::ReturnOp>(
        [&](func::ReturnOp r) { return converter.isLegal(r.getOperandTypes()); });
    if (failed(applyFullConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
