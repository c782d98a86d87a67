//===- GLMBase.td - glm dialect, base op class, constraints -*- tablegen -*-===//
//
// The glm dialect mirrors ONNX: one op per ONNX op (mnemonic = op_type in
// snake_case, attribute names verbatim, semantics of the opset stated in the
// op's description), plus fused ops that name what they compute.
//
//===----------------------------------------------------------------------===//

#ifndef GLM_BASE_TD
#define GLM_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "dialects/glm/GLMInterfaces.td"
include "mlir/Dialect/Quant/IR/QuantBase.td"

def GLM_Dialect : Dialect {
  let name = "glm";
  let cppNamespace = "::mlir::glm";
  let summary = "ONNX-level tensor ops and fused GLM ops for the glmc compiler";
  let description = [{
    The `glm` dialect is glmc's one dialect. The importer creates one op per
    ONNX node (with a `NameLoc` carrying the node name); fusion passes replace
    op chains by fused ops (`glm.rms_norm`, `glm.attention`, ...); compression
    passes rewrite weights; lowering turns every op into `linalg`, `tensor`,
    `arith` and `math`. Operands and results are builtin ranked tensors;
    dynamic dimensions are `?`.
  }];
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    void registerOps();
  }];
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def GLM_FloatTensor : TensorOf<[F16, BF16, F32, F64]>;
// Quantized operands (glm-quantize, docs/quantization.md): the upstream
// quant dialect's uniform types, per tensor or per output channel. An op
// that takes them computes on the dequantized values and returns floats
// (their expressed type); its lowering uses integer arithmetic.
def GLM_QuantTensor : TensorOf<[quant_QuantizedType]>;
def GLM_FloatOrQuantTensor : AnyTypeOf<[GLM_FloatTensor, GLM_QuantTensor]>;
def GLM_IntTensor : TensorOf<[I8, UI8, I16, UI16, I32, I64, SI8, SI32, SI64, UI32, UI64]>;
def GLM_IndexTensor : TensorOf<[I32, I64]>;
def GLM_BoolTensor : TensorOf<[I1]>;
def GLM_NumericTensor : TensorOf<[F16, BF16, F32, F64, I8, UI8, I16, UI16, I32, UI32, I64, UI64]>;
def GLM_AnyTensor : TensorOf<[AnyType]>;

//===----------------------------------------------------------------------===//
// Base op classes
//===----------------------------------------------------------------------===//

// Every glm op infers its result types from its operands and attributes.
class GLM_Op<string mnemonic, list<Trait> traits = []>
    : Op<GLM_Dialect, mnemonic,
         !listconcat(traits, [DeclareOpInterfaceMethods<GLM_ShapeInferenceOpInterface>])> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

// Elementwise op with numpy-style broadcasting.
class GLM_ElementwiseOp<string mnemonic, list<Trait> traits = []>
    : GLM_Op<mnemonic, !listconcat(traits, [Pure, GLM_ElementwiseOpTrait])>;

class GLM_UnaryFloatOp<string mnemonic, string what, list<Trait> traits = []>
    : GLM_ElementwiseOp<mnemonic, !listconcat(traits, [SameOperandsAndResultElementType])> {
  let summary = what;
  let description = "Elementwise " # what # " (ONNX `" # mnemonic # "`).";
  let arguments = (ins GLM_FloatTensor:$X);
  let results = (outs GLM_FloatTensor:$Y);
}

class GLM_BinaryArithOp<string mnemonic, string what, list<Trait> traits = []>
    : GLM_ElementwiseOp<mnemonic, !listconcat(traits, [SameOperandsAndResultElementType])> {
  let summary = what # " with broadcasting";
  let description = "Elementwise " # what # " with multidirectional (numpy) "
                    # "broadcasting, ONNX opset 14 semantics.";
  let arguments = (ins GLM_NumericTensor:$A, GLM_NumericTensor:$B);
  let results = (outs GLM_NumericTensor:$C);
  let hasFolder = 1;
}

class GLM_CompareOp<string mnemonic, string what>
    : GLM_ElementwiseOp<mnemonic, [SameOperandsElementType]> {
  let summary = what # " comparison with broadcasting";
  let description = "Elementwise " # what # " comparison; the result is i1.";
  let arguments = (ins GLM_NumericTensor:$A, GLM_NumericTensor:$B);
  let results = (outs GLM_BoolTensor:$C);
  let hasFolder = 1;
}

#endif // GLM_BASE_TD
