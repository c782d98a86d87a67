//===- Registration.cpp - dialects, passes and pipelines of glmc ----------===//

#include "compiler/pipeline/Registration.h"

#include "compiler/pipeline/Pipeline.h"
#include "compiler/pipeline/Targets.h"
#include "dialects/glm/GLMDialect.h"
#include "passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Dialect/Affine/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/ControlFlow/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/ControlFlow/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/AllInterfaces.h"
#include "mlir/Dialect/MemRef/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/AllocationOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/TensorInferTypeOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/TensorTilingInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/SubsetInsertionOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/IR/ValueBoundsOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Vector/Transforms/SubsetOpInterfaceImpl.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void glmc::pipeline::registerDialects(DialectRegistry &registry) {
  registry.insert<glm::GLMDialect, func::FuncDialect, arith::ArithDialect, math::MathDialect,
                  linalg::LinalgDialect, tensor::TensorDialect, memref::MemRefDialect,
                  scf::SCFDialect, cf::ControlFlowDialect, vector::VectorDialect,
                  bufferization::BufferizationDialect, affine::AffineDialect, ub::UBDialect,
                  LLVM::LLVMDialect, quant::QuantDialect>();
  // External models (bufferization, tiling, value bounds, to-LLVM
  // interfaces) attach only to dialects that get loaded.
  registerAllExtensions(registry);
  // Interface models that upstream registers in registerAllDialects.
  affine::registerValueBoundsOpInterfaceExternalModels(registry);
  arith::registerBufferDeallocationOpInterfaceExternalModels(registry);
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  arith::registerValueBoundsOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(registry);
  cf::registerBufferDeallocationOpInterfaceExternalModels(registry);
  cf::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerAllDialectInterfaceImplementations(registry);
  memref::registerAllocationOpInterfaceExternalModels(registry);
  memref::registerValueBoundsOpInterfaceExternalModels(registry);
  scf::registerBufferDeallocationOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerValueBoundsOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerInferTypeOpInterfaceExternalModels(registry);
  tensor::registerSubsetOpInterfaceExternalModels(registry);
  tensor::registerTilingInterfaceExternalModels(registry);
  tensor::registerValueBoundsOpInterfaceExternalModels(registry);
  vector::registerBufferizableOpInterfaceExternalModels(registry);
  vector::registerSubsetOpInterfaceExternalModels(registry);
  vector::registerValueBoundsOpInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

namespace {
struct LoweringPipelineOptions : public PassPipelineOptions<LoweringPipelineOptions> {
  Option<std::string> target{*this, "target", llvm::cl::desc("Target name (glmc --print-targets)"),
                             llvm::cl::init("host")};
  Option<bool> profile{*this, "profile",
                       llvm::cl::desc("Per-layer profile marks (glmc --profile)"),
                       llvm::cl::init(false)};
};
} // namespace

void glmc::pipeline::registerPassesAndPipelines() {
  glm::registerGLMPasses();
  // Upstream passes the pipelines use, so glm-opt can replay any step.
  registerTransformsPasses();
  registerConversionPasses();
  registerLinalgPasses();
  bufferization::registerBufferizationPasses();
  bufferization::registerBufferizationPipelines();
  memref::registerMemRefPasses();

  PassPipelineRegistration<>("glm-canonical-pipeline",
                             "Fold shape subgraphs and constants, infer shapes, remove dead code",
                             [](OpPassManager &pm) { buildCanonicalPipeline(pm); });
  PassPipelineRegistration<>("glm-decoder-fusion-pipeline",
                             "Fuse RMSNorm, rotary, attention, linear and gated-MLP chains",
                             [](OpPassManager &pm) { buildDecoderFusionPipeline(pm); });
  PassPipelineRegistration<LoweringPipelineOptions>(
      "glm-lowering-pipeline", "Lower glm on tensors to the LLVM dialect for a target",
      [](OpPassManager &pm, const LoweringPipelineOptions &opts) {
        auto target = lookupTarget(opts.target);
        buildLoweringPipeline(pm, target ? *target : detectHostTarget(), opts.profile);
      });
}
