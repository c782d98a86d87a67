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

// Marks elementwise ops (broadcasting operands, one result).
def GLM_ElementwiseOpTrait : NativeOpTrait<"GLMElementwise"> {
  let cppNamespace = "::mlir::glm";
}

#endif // GLM_INTERFACES_TD
