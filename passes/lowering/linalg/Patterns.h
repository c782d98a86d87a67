//===- Patterns.h - glm → linalg conversion patterns ------------*- C++ -*-===//

#ifndef GLMC_PASSES_LOWERING_LINALG_PATTERNS_H
#define GLMC_PASSES_LOWERING_LINALG_PATTERNS_H

#include "mlir/Transforms/DialectConversion.h"

namespace mlir::glm {

/// Elementwise ops (broadcasting) → linalg.generic.
void populateElementwiseToLinalgPatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns);
/// MatMul, Gemm → linalg.matmul / batch_matmul.
void populateContractionToLinalgPatterns(const TypeConverter &converter,
                                         RewritePatternSet &patterns);
/// Conv, pools → linalg.conv_* / pooling_*.
void populateWindowToLinalgPatterns(const TypeConverter &converter, RewritePatternSet &patterns);
/// Normalisations, softmax, reductions → linalg.reduce / generic.
void populateReductionToLinalgPatterns(const TypeConverter &converter,
                                       RewritePatternSet &patterns);
/// Constants, reshapes, transposes, concat, gather, slice, ... → tensor/linalg.
/// glm.linear, glm.gated_mlp, glm.rms_norm, glm.rotary, glm.attention.
void populateFusedToLinalgPatterns(const TypeConverter &converter, RewritePatternSet &patterns);

void populateTensorToLinalgPatterns(const TypeConverter &converter, RewritePatternSet &patterns);

/// quant.qcast / quant.scast (glm-quantize's casts) → linalg / their storage.
void populateQuantizedToLinalgPatterns(const TypeConverter &converter,
                                       RewritePatternSet &patterns);

} // namespace mlir::glm

#endif // GLMC_PASSES_LOWERING_LINALG_PATTERNS_H
