//===- GLMDialect.h - the glm dialect ----------------------------*- C++ -*-===//

#ifndef GLMC_DIALECTS_GLM_GLMDIALECT_H
#define GLMC_DIALECTS_GLM_GLMDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/glm/GLMDialect.h.inc"

#endif // GLMC_DIALECTS_GLM_GLMDIALECT_H
