//===- GLMInterfaces.td - glm op interfaces ----------------*- tablegen -*-===//

#ifndef GLM_INTERFACES_TD
#define GLM_INTERFACES_TD

include "mlir/IR/OpBase.td"

def GLM_ShapeInferenceOpInterface : OpInterface<"ShapeInferenceOpInterface"> {
  let cppNamespace = "::mlir::glm";
  let description = [{
    Computes the result types of an op from its operand types, attributes and
    (where an operand is constant) operand values. The importer calls it on
    every op it creates; `glm-infer-shapes` calls it again after folding so
    that shapes that depended on constants become static.
  }];
  let methods = [
    InterfaceMethod<
      /*desc=*/[{Computes result types into `types` (one per result). Returns
        failure, with a diagnostic on the op, when the operands are
        inconsistent (e.g. mismatched matmul dims).}],
      /*retTy=*/"::llvm::LogicalResult", /*methodName=*/"inferResultTypes",
      /*args=*/(ins "::llvm::SmallVectorImpl<::mlir::Type> &":$types)>,
  ];
}

def GLM_PrunableOpInterface : OpInterface<"PrunableOpInterface"> {
  let cppNamespace = "::mlir::glm";
  let description = [{
    An op that contracts the channels of one data input with a constant
    weight and produces new channels: a convolution, a gemm, a matmul with a
    constant right-hand side. Compression passes ask it which dims of which
    operands are channels instead of switching on op names: pruning scores
    and masks weight slices along the output dim; channel trimming slices
    the weight along the output dim (producer side) or the input dim
    (consumer side) and the bias along its only dim.
  }];
  let methods = [
    InterfaceMethod<"The data operand whose channels are contracted.",
      "::mlir::Value", "getPrunableInput">,
    InterfaceMethod<"The channel dim of the data operand.",
      "int64_t", "getInputChannelDim">,
    InterfaceMethod<"The weight operand (null when there is none).",
      "::mlir::Value", "getPrunableWeight">,
    InterfaceMethod<"The weight dim indexed by output channels.",
      "int64_t", "getWeightOutputDim">,
    InterfaceMethod<"The weight dim indexed by input channels (-1: none, "
                    "each output channel reads its own input channel).",
      "int64_t", "getWeightInputDim">,
    InterfaceMethod<"The per-output-channel bias operand, or null.",
      "::mlir::Value", "getPrunableBias">,
    InterfaceMethod<"The channel dim of the result.",
      "int64_t", "getResultChannelDim">,
    InterfaceMethod<"Multiply-accumulates of one execution, dynamic dims "
                    "counted as 1 (-1: unranked operands).",
      "int64_t", "getNumMacs">,
  ];
}

// Marks elementwise ops (broadcasting operands, one result).
def GLM_ElementwiseOpTrait : NativeOpTrait<"GLMElementwise"> {
  let cppNamespace = "::mlir::glm";
}

#endif // GLM_INTERFACES_TD
