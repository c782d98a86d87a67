//===- Pipeline.h - pass pipelines from options and targets ------*- C++ -*-===//

#ifndef GLMC_COMPILER_PIPELINE_PIPELINE_H
#define GLMC_COMPILER_PIPELINE_PIPELINE_H

#include "compiler/pipeline/Options.h"
#include "compiler/pipeline/Targets.h"

#include "mlir/Pass/PassManager.h"

namespace glmc::pipeline {

/// Clean-up after import: fold shape subgraphs and constants, infer shapes,
/// remove dead code, and (with `fuse`) the exact graph fusions: conv/gemm-BN
/// folding and RepVGG re-parameterisation. Registered as
/// `glm-canonical-pipeline`.
void buildCanonicalPipeline(mlir::OpPassManager &pm, bool fuse = true);

/// Compression: glm-prune then glm-trim-channels, then shape clean-up.
void buildCompressionPipeline(mlir::OpPassManager &pm, const CompileOptions::Prune &prune);

/// INT8: glm-quantize (the ops need glm.calib ranges, or with mode "qdq"
/// QDQ pairs), then clean-up.
/// `exclude` are the node-name patterns kept in float.
void buildQuantizePipeline(mlir::OpPassManager &pm, const CompileOptions::Quantize &quantize,
                           const std::vector<std::string> &exclude);

/// The decoder fusions, after compression (which works on the primitive
/// graph its channel analysis knows): RMSNorm, rotary embedding, attention,
/// linear and gated MLP, then dead shape code removed. Registered as
/// `glm-decoder-fusion-pipeline`.
void buildDecoderFusionPipeline(mlir::OpPassManager &pm);

/// glm on tensors → LLVM dialect with the artifact entry point, for one
/// target. Registered as `glm-lowering-pipeline{target=...}`.
/// Fixes or ties the inputs' dynamic dims that ops need equal
/// (glm-bind-input-dims) and re-infers shapes: the last step before the
/// model's signature is read.
void buildInputDimsPipeline(mlir::OpPassManager &pm);

/// With `profile`, the model function calls glm_profile_mark(layer) where
/// it moves to the next ONNX node (glm-annotate-profile-layers,
/// glm-insert-profile-marks; `glmc --profile`, docs/profiling.md).
void buildLoweringPipeline(mlir::OpPassManager &pm, const TargetInfo &target,
                           bool profile = false);

} // namespace glmc::pipeline

#endif // GLMC_COMPILER_PIPELINE_PIPELINE_H
