//===- Math.td - elementwise math ops ---------------------*- tablegen -*-===//

#ifndef GLM_OPS_MATH_TD
#define GLM_OPS_MATH_TD

include "dialects/glm/GLMBase.td"

def GLM_AddOp : GLM_BinaryArithOp<"add", "addition", [Commutative]>;
def GLM_SubOp : GLM_BinaryArithOp<"sub", "subtraction">;
def GLM_MulOp : GLM_BinaryArithOp<"mul", "multiplication", [Commutative]>;
def GLM_DivOp : GLM_BinaryArithOp<"div", "division">;
def GLM_PowOp : GLM_BinaryArithOp<"pow", "power">;
def GLM_MaxOp : GLM_BinaryArithOp<"max", "maximum", [Commutative]>;
def GLM_MinOp : GLM_BinaryArithOp<"min", "minimum", [Commutative]>;

def GLM_EqualOp : GLM_CompareOp<"equal", "equality">;
def GLM_LessOp : GLM_CompareOp<"less", "less-than">;
def GLM_GreaterOp : GLM_CompareOp<"greater", "greater-than">;
def GLM_LessOrEqualOp : GLM_CompareOp<"less_or_equal", "less-or-equal">;
def GLM_GreaterOrEqualOp : GLM_CompareOp<"greater_or_equal", "greater-or-equal">;

def GLM_AndOp : GLM_ElementwiseOp<"and", [Commutative]> {
  let summary = "logical and with broadcasting";
  let description = "Elementwise logical and of i1 tensors.";
  let arguments = (ins GLM_BoolTensor:$A, GLM_BoolTensor:$B);
  let results = (outs GLM_BoolTensor:$C);
}
def GLM_OrOp : GLM_ElementwiseOp<"or", [Commutative]> {
  let summary = "logical or with broadcasting";
  let description = "Elementwise logical or of i1 tensors.";
  let arguments = (ins GLM_BoolTensor:$A, GLM_BoolTensor:$B);
  let results = (outs GLM_BoolTensor:$C);
}
def GLM_NotOp : GLM_ElementwiseOp<"not"> {
  let summary = "logical not";
  let description = "Elementwise logical not of an i1 tensor.";
  let arguments = (ins GLM_BoolTensor:$X);
  let results = (outs GLM_BoolTensor:$Y);
}

def GLM_WhereOp : GLM_ElementwiseOp<"where"> {
  let summary = "select with broadcasting";
  let description = [{
    `Y = condition ? X : Y` elementwise, with all three operands broadcast
    together (ONNX opset 16).
  }];
  let arguments = (ins GLM_BoolTensor:$condition, GLM_AnyTensor:$X, GLM_AnyTensor:$Y);
  let results = (outs GLM_AnyTensor:$output);
  let hasFolder = 1;
  let hasVerifier = 1;
}

def GLM_NegOp : GLM_ElementwiseOp<"neg", [SameOperandsAndResultElementType]> {
  let summary = "negation";
  let description = "Elementwise negation.";
  let arguments = (ins GLM_NumericTensor:$X);
  let results = (outs GLM_NumericTensor:$Y);
  let hasFolder = 1;
}
def GLM_AbsOp : GLM_ElementwiseOp<"abs", [SameOperandsAndResultElementType]> {
  let summary = "absolute value";
  let description = "Elementwise absolute value.";
  let arguments = (ins GLM_NumericTensor:$X);
  let results = (outs GLM_NumericTensor:$Y);
}

def GLM_SqrtOp : GLM_UnaryFloatOp<"sqrt", "square root">;
def GLM_ExpOp : GLM_UnaryFloatOp<"exp", "exponential">;
def GLM_LogOp : GLM_UnaryFloatOp<"log", "natural logarithm">;
def GLM_ErfOp : GLM_UnaryFloatOp<"erf", "error function">;
def GLM_ReciprocalOp : GLM_UnaryFloatOp<"reciprocal", "reciprocal">;
def GLM_ReluOp : GLM_UnaryFloatOp<"relu", "rectified linear unit, max(x, 0)">;
def GLM_SigmoidOp : GLM_UnaryFloatOp<"sigmoid", "logistic sigmoid, 1 / (1 + exp(-x))">;
def GLM_TanhOp : GLM_UnaryFloatOp<"tanh", "hyperbolic tangent">;
def GLM_SiluOp : GLM_UnaryFloatOp<"silu", "SiLU / swish, x * sigmoid(x) (fused; no ONNX op)">;
def GLM_SinOp : GLM_UnaryFloatOp<"sin", "sine">;
def GLM_CosOp : GLM_UnaryFloatOp<"cos", "cosine">;
def GLM_FloorOp : GLM_UnaryFloatOp<"floor", "floor">;
def GLM_CeilOp : GLM_UnaryFloatOp<"ceil", "ceiling">;
def GLM_SoftplusOp : GLM_UnaryFloatOp<"softplus", "softplus, log(1 + exp(x))">;

def GLM_GeluOp : GLM_UnaryFloatOp<"gelu", "Gaussian error linear unit"> {
  let description = [{
    GELU (ONNX opset 20): `approximate = "none"` gives x·Φ(x) with the exact
    erf, `"tanh"` the tanh approximation. The importer also creates it for the
    opset 17 decomposition x·0.5·(1 + erf(x/√2)) via fusion.
  }];
  let arguments = (ins GLM_FloatTensor:$X, DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let hasVerifier = 1;
}

def GLM_LeakyReluOp : GLM_UnaryFloatOp<"leaky_relu", "leaky rectified linear unit"> {
  let arguments = (ins GLM_FloatTensor:$X, DefaultValuedAttr<F32Attr, "0.01">:$alpha);
}
def GLM_HardSigmoidOp : GLM_UnaryFloatOp<"hard_sigmoid", "hard sigmoid, max(0, min(1, alpha*x+beta))"> {
  let arguments = (ins GLM_FloatTensor:$X, DefaultValuedAttr<F32Attr, "0.2">:$alpha,
                       DefaultValuedAttr<F32Attr, "0.5">:$beta);
}
def GLM_HardSwishOp : GLM_UnaryFloatOp<"hard_swish", "hard swish, x * max(0, min(1, x/6 + 1/2))">;
def GLM_MishOp : GLM_UnaryFloatOp<"mish", "mish, x * tanh(softplus(x))">;
def GLM_RoundOp : GLM_UnaryFloatOp<"round", "rounding to the nearest integer, halves to even">;
def GLM_EluOp : GLM_UnaryFloatOp<"elu", "exponential linear unit, x < 0 ? alpha*(exp(x)-1) : x"> {
  let arguments = (ins GLM_FloatTensor:$X, DefaultValuedAttr<F32Attr, "1.0">:$alpha);
}
def GLM_SeluOp : GLM_UnaryFloatOp<"selu", "scaled ELU, gamma * (x <= 0 ? alpha*(exp(x)-1) : x)"> {
  let arguments = (ins GLM_FloatTensor:$X,
                       DefaultValuedAttr<F32Attr, "1.67326319217681884765625">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.05070102214813232421875">:$gamma);
}
def GLM_SignOp : GLM_ElementwiseOp<"sign", [SameOperandsAndResultElementType]> {
  let summary = "sign";
  let description = "Elementwise sign: 1, -1 or 0 (NaN stays NaN).";
  let arguments = (ins GLM_NumericTensor:$input);
  let results = (outs GLM_NumericTensor:$output);
}
def GLM_PReluOp : GLM_ElementwiseOp<"p_relu", [SameOperandsAndResultElementType]> {
  let summary = "parametric ReLU";
  let description = [{
    ONNX `PRelu`: `x < 0 ? slope * x : x`, the slope broadcast to X
    (unidirectionally; per-channel slopes are [C, 1, 1]).
  }];
  let arguments = (ins GLM_NumericTensor:$X, GLM_NumericTensor:$slope);
  let results = (outs GLM_NumericTensor:$Y);
  let hasVerifier = 1;
}
def GLM_ModOp : GLM_ElementwiseOp<"mod", [SameOperandsAndResultElementType]> {
  let summary = "remainder with broadcasting";
  let description = [{
    ONNX `Mod`: `fmod = 0` takes the sign of the divisor (Python's `%`);
    `fmod = 1` the sign of the dividend (C's fmod). ONNX asks floats to use
    fmod = 1; ONNX Runtime and the node tests give fmod = 0 on floats
    Python's meaning, and so does glmc.
  }];
  let arguments = (ins GLM_NumericTensor:$A, GLM_NumericTensor:$B,
                       DefaultValuedAttr<I64Attr, "0">:$fmod);
  let results = (outs GLM_NumericTensor:$C);
  let hasVerifier = 1;
}
def GLM_XorOp : GLM_ElementwiseOp<"xor", [Commutative]> {
  let summary = "logical xor with broadcasting";
  let description = "Elementwise logical xor of i1 tensors.";
  let arguments = (ins GLM_BoolTensor:$A, GLM_BoolTensor:$B);
  let results = (outs GLM_BoolTensor:$C);
}
def GLM_BitShiftOp : GLM_ElementwiseOp<"bit_shift", [SameOperandsAndResultElementType]> {
  let summary = "bit shift with broadcasting";
  let description = "ONNX `BitShift` of unsigned integers: `direction` is LEFT or RIGHT.";
  let arguments = (ins GLM_IntTensor:$X, GLM_IntTensor:$Y, StrAttr:$direction);
  let results = (outs GLM_IntTensor:$Z);
  let hasVerifier = 1;
}
def GLM_IsNaNOp : GLM_ElementwiseOp<"is_nan"> {
  let summary = "NaN test";
  let description = "Elementwise: whether the element is a NaN (ONNX `IsNaN`); the result is i1.";
  let arguments = (ins GLM_FloatTensor:$X);
  let results = (outs GLM_BoolTensor:$Y);
}
def GLM_IsInfOp : GLM_ElementwiseOp<"is_inf"> {
  let summary = "infinity test";
  let description = [{
    Elementwise: whether the element is +inf (when `detect_positive`) or
    -inf (when `detect_negative`) (ONNX `IsInf`); the result is i1.
  }];
  let arguments = (ins GLM_FloatTensor:$X, DefaultValuedAttr<I64Attr, "1">:$detect_negative,
                       DefaultValuedAttr<I64Attr, "1">:$detect_positive);
  let results = (outs GLM_BoolTensor:$Y);
}

def GLM_ClipOp : GLM_ElementwiseOp<"clip", [SameOperandsAndResultElementType, AttrSizedOperandSegments]> {
  let summary = "clamp to [min, max]";
  let description = [{
    Clamps every element to [min, max]; missing bounds mean no bound (ONNX
    opset 13: bounds are optional scalar operands; the importer turns opset 6
    attributes into operands).
  }];
  let arguments = (ins GLM_NumericTensor:$input, Optional<GLM_NumericTensor>:$min,
                       Optional<GLM_NumericTensor>:$max);
  let results = (outs GLM_NumericTensor:$output);
}

def GLM_CastOp : GLM_ElementwiseOp<"cast"> {
  let summary = "element type conversion";
  let description = [{
    Converts every element to the element type of the result (ONNX `Cast`;
    the `to` attribute is carried as the result element type). `saturate`
    (ONNX Cast-19) applies to float8 results only: values beyond the largest
    finite one become it, else NaN (infinity for E5M2).
  }];
  let arguments = (ins GLM_AnyTensor:$input, TypeAttr:$to,
                       DefaultValuedAttr<BoolAttr, "true">:$saturate);
  let results = (outs GLM_AnyTensor:$output);
  let hasFolder = 1;
}

#endif // GLM_OPS_MATH_TD
