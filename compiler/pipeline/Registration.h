//===- Registration.h - dialects, passes and pipelines of glmc --*- C++ -*-===//

#ifndef GLMC_COMPILER_PIPELINE_REGISTRATION_H
#define GLMC_COMPILER_PIPELINE_REGISTRATION_H

#include "mlir/IR/DialectRegistry.h"

namespace glmc::pipeline {

/// The dialects glmc parses and produces, with the external interface
/// models (bufferization, tiling, LLVM translation) they need.
void registerDialects(mlir::DialectRegistry &registry);

/// glm passes, the upstream passes the pipelines use, and the named
/// pipelines, so that glm-opt can run each alone.
void registerPassesAndPipelines();

} // namespace glmc::pipeline

#endif // GLMC_COMPILER_PIPELINE_REGISTRATION_H
