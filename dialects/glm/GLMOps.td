//===- GLMOps.td - all glm ops ----------------------------*- tablegen -*-===//

#ifndef GLM_OPS_TD
#define GLM_OPS_TD

include "dialects/glm/GLMBase.td"
include "dialects/glm/ops/Math.td"
include "dialects/glm/ops/NN.td"
include "dialects/glm/ops/Tensor.td"
include "dialects/glm/ops/Fused.td"

#endif // GLM_OPS_TD
