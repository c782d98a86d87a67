//===- Pipeline.cpp - pass pipelines from options and targets -------------===//

#include "compiler/pipeline/Pipeline.h"

#include "passes/Passes.h"

#include "runtime/include/glmrt/artifact_abi.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void glmc::pipeline::buildCanonicalPipeline(OpPassManager &pm, bool fuse) {
  OpPassManager &fpm = pm.nest<func::FuncOp>();
  fpm.addPass(createCanonicalizerPass());
  fpm.addPass(glm::createInferShapesPass());
  fpm.addPass(createCanonicalizerPass());
  fpm.addPass(glm::createFoldConstantsPass());
  fpm.addPass(createCanonicalizerPass());
  fpm.addPass(createCSEPass());
  fpm.addPass(glm::createInferShapesPass());
  fpm.addPass(createCanonicalizerPass());
  // Shapes refined by the first round (a reshape's -1 resolved through
  // dims it provably copies) make more shape values constant: once more.
  fpm.addPass(glm::createFoldConstantsPass());
  fpm.addPass(createCanonicalizerPass());
  fpm.addPass(createCSEPass());
  fpm.addPass(glm::createInferShapesPass());
  fpm.addPass(createCanonicalizerPass());
  if (fuse) {
    fpm.addPass(glm::createFoldBatchNormPass());
    fpm.addPass(glm::createReparamRepVGGPass());
    fpm.addPass(createCanonicalizerPass());
  }
}

void glmc::pipeline::buildCompressionPipeline(OpPassManager &pm,
                                              const CompileOptions::Prune &prune) {
  if (prune.ratio <= 0.0)
    return;
  OpPassManager &fpm = pm.nest<func::FuncOp>();
  glm::PrunePassOptions opts;
  opts.ratio = prune.ratio;
  opts.mode = prune.mode;
  opts.criterion = prune.criterion;
  opts.alloc = prune.alloc;
  opts.reconstruct = prune.reconstruct;
  opts.exclude.assign(prune.exclude.begin(), prune.exclude.end());
  opts.layerRatio.assign(prune.layerRatios.begin(), prune.layerRatios.end());
  fpm.addPass(glm::createPrunePass(opts));
  if (prune.trim)
    fpm.addPass(glm::createTrimChannelsPass());
  fpm.addPass(createCanonicalizerPass());
  fpm.addPass(glm::createInferShapesPass());
}

void glmc::pipeline::buildQuantizePipeline(OpPassManager &pm,
                                           const CompileOptions::Quantize &quantize,
                                           const std::vector<std::string> &exclude) {
  if (quantize.mode.empty())
    return;
  OpPassManager &fpm = pm.nest<func::FuncOp>();
  glm::QuantizePassOptions opts;
  opts.calibMethod = quantize.calibMethod;
  opts.percentile = quantize.percentile;
  opts.exclude.assign(exclude.begin(), exclude.end());
  opts.qdqOnly = quantize.mode == "qdq";
  fpm.addPass(glm::createQuantizePass(opts));
  fpm.addPass(createCanonicalizerPass());
  fpm.addPass(createCSEPass());
}

void glmc::pipeline::buildDecoderFusionPipeline(OpPassManager &pm) {
  OpPassManager &fpm = pm.nest<func::FuncOp>();
  fpm.addPass(glm::createFuseRMSNormPass());
  fpm.addPass(glm::createFuseRotaryPass());
  fpm.addPass(glm::createFuseAttentionPass());
  fpm.addPass(glm::createFuseAttentionMaskPass());
  fpm.addPass(glm::createFuseLinearPass());
  fpm.addPass(glm::createFuseGatedMLPPass());
  fpm.addPass(createCanonicalizerPass());
  fpm.addPass(createCSEPass());
}

void glmc::pipeline::buildInputDimsPipeline(OpPassManager &pm) {
  OpPassManager &fpm = pm.nest<func::FuncOp>();
  fpm.addPass(glm::createBindInputDimsPass());
  fpm.addPass(glm::createInferShapesPass());
  fpm.addPass(createCanonicalizerPass());
}

void glmc::pipeline::buildLoweringPipeline(OpPassManager &pm, const TargetInfo &target,
                                           bool profile) {
  if (profile)
    pm.addPass(glm::createAnnotateProfileLayersPass());
  {
    OpPassManager &fpm = pm.nest<func::FuncOp>();
    fpm.addPass(glm::createLowerToLinalgPass());
    fpm.addPass(createCanonicalizerPass());
    fpm.addPass(glm::createFuseElementwisePass());
    fpm.addPass(createCanonicalizerPass());
    fpm.addPass(createCSEPass());
    // Every tensor.dim of an intermediate value resolved through the ops
    // that made it, down to the model inputs' dims, while the ops still
    // say how (tiling below turns them into loops that do not). Without
    // this, one-shot-bufferize's slice analysis walks each dynamic dim
    // back through every earlier loop nest: ResNet-18 with a dynamic batch
    // took 45 s for its first 22 nodes and did not finish as a whole.
    fpm.addPass(memref::createResolveRankedShapeTypeResultDimsPass());
    fpm.addPass(createCanonicalizerPass());
    fpm.addPass(createCSEPass());
  }
  // Constant weights as panels of one register tile (same target options
  // as the tiling below, which reads them).
  glm::PackWeightsPassOptions pack;
  pack.vectorBits = target.vectorBits;
  pack.numRegisters = target.numVectorRegisters;
  pm.addPass(glm::createPackWeightsPass(pack));
  {
    OpPassManager &fpm = pm.nest<func::FuncOp>();
    glm::TileAndVectorizePassOptions tv;
    tv.vectorBits = target.vectorBits;
    tv.numRegisters = target.numVectorRegisters;
    tv.vnni = target.vectorBits == 512 && (target.cpuFeatures & GLM_CPU_X86_AVX512VNNI);
    tv.dotprod = target.cpuFeatures & GLM_CPU_ARM_DOTPROD;
    tv.pmaddwd = target.vectorBits == 256 && (target.cpuFeatures & GLM_CPU_X86_AVX2);
    fpm.addPass(glm::createTileAndVectorizePass(tv));
    fpm.addPass(createCanonicalizerPass());
    fpm.addPass(createCSEPass());
  }
  // Tensors → buffers. Function boundaries get identity layouts: the entry
  // wrapper hands dense row-major buffers in and expects them back.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion = bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferize.bufferAlignment = 64;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createCanonicalizerPass());
  pm.nest<func::FuncOp>().addPass(createForallToParallelLoopPass());
  pm.nest<func::FuncOp>().addPass(glm::createEnsureFreshResultsPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(glm::createOutlineWeightsPass());
  pm.addPass(glm::createOutlineParallelLoopsPass());
  pm.addPass(glm::createLowerIndexReportsPass());
  if (profile)
    pm.addPass(glm::createInsertProfileMarksPass());
  pm.addPass(createCanonicalizerPass());
  {
    OpPassManager &fpm = pm.nest<func::FuncOp>();
    glm::LowerStridedCopiesPassOptions copies;
    copies.vectorBits = target.vectorBits;
    fpm.addPass(glm::createLowerStridedCopiesPass(copies));
    fpm.addPass(createConvertLinalgToLoopsPass());
    glm::LowerInt8DotsPassOptions dots;
    dots.vnni = target.vectorBits == 512 && (target.cpuFeatures & GLM_CPU_X86_AVX512VNNI);
    dots.dotprod = target.cpuFeatures & GLM_CPU_ARM_DOTPROD;
    dots.avx2 = target.cpuFeatures & GLM_CPU_X86_AVX2;
    fpm.addPass(glm::createLowerInt8DotsPass(dots));
    fpm.addPass(glm::createApproximateMathPass());
    fpm.addPass(createLowerAffinePass());
    // Fully unrolled: the n-d transfers that are left become 1-d ones.
    // Otherwise they go through a memref.alloca at the point of use, and an
    // alloca inside a loop grows the stack every iteration (an 8x32 AVX-512
    // register tile inside batch and K loops overflowed an 8 MiB stack).
    fpm.addPass(createConvertVectorToSCFPass(VectorTransferToSCFOptions().enableFullUnroll()));
    fpm.addPass(createSCFToControlFlowPass());
    fpm.addPass(createCanonicalizerPass());
  }
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertVectorToLLVMPass());
  FinalizeMemRefToLLVMConversionPassOptions memrefOpts;
  // Allocations go through _mlir_memref_to_llvm_alloc/free, which the
  // artifact's support code routes to the runtime's host table.
  memrefOpts.useGenericFunctions = true;
  memrefOpts.useAlignedAlloc = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefOpts));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(glm::createLowerParallelDispatchPass());
  pm.addPass(glm::createEmitEntryPointPass());
}
