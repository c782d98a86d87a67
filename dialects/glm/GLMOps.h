//===- GLMOps.h - glm op declarations ----------------------------*- C++ -*-===//

#ifndef GLMC_DIALECTS_GLM_GLMOPS_H
#define GLMC_DIALECTS_GLM_GLMOPS_H

#include "dialects/glm/GLMDialect.h"
#include "dialects/glm/GLMInterfaces.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "dialects/glm/GLMOps.h.inc"

#endif // GLMC_DIALECTS_GLM_GLMOPS_H
