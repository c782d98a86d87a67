// RUN: glm-opt %s -glm-lower-to-linalg -split-input-file -verify-diagnostics | FileCheck %s

// quant.qcast is ONNX QuantizeLinear's arithmetic: divide, round half to
// even, add the zero point, saturate, store as i8.
// CHECK-LABEL: func.func @qcast
// CHECK: linalg.generic
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: math.roundeven
// CHECK: arith.addf
// CHECK: arith.maxnumf
// CHECK: arith.minnumf
// CHECK: arith.fptosi %{{.*}} : f32 to i8
func.func @qcast(%x: tensor<4xf32>) -> tensor<4x!quant.uniform<i8:f32, 0.5:3>> {
  %q = quant.qcast %x : tensor<4xf32> to tensor<4x!quant.uniform<i8:f32, 0.5:3>>
  return %q : tensor<4x!quant.uniform<i8:f32, 0.5:3>>
}

// -----

// A quantized conv pads with the data's zero point (-64), accumulates
// i8 x i8 in i32, and dequantizes once: float(acc - z * sum w[o]) *
// (s_x * s_w[o]) + b[o]. sum w = [64 - 127, 127 + 64] = [-63, 191], times
// -64: [4032, -12224].
// CHECK-LABEL: func.func @conv
// CHECK: %[[ZP:.*]] = arith.constant -64 : i8
// CHECK: tensor.pad
// CHECK: tensor.yield %[[ZP]] : i8
// CHECK: linalg.fill ins(%{{.*}} : i32)
// CHECK: linalg.conv_2d_nchw_fchw {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x2x5x5xi8>, tensor<2x2x1x1xi8>) outs(%{{.*}} : tensor<1x2x5x5xi32>)
// CHECK-DAG: arith.constant dense<[4032, -12224]> : tensor<2xi32>
// CHECK-DAG: arith.constant dense<[1.23513979E-4, 3.08784947E-5]> : tensor<2xf32>
// CHECK: linalg.generic
// CHECK: arith.subi
// CHECK: arith.sitofp %{{.*}} : i32 to f32
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: -> tensor<1x2x5x5xf32>
func.func @conv(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x5x5xf32> {
  %w = glm.constant {value = dense<[[[[64]], [[-127]]], [[[127]], [[64]]]]> : tensor<2x2x1x1xi8>} : tensor<2x2x1x1xi8>
  %b = glm.constant {value = dense<[0.5, -0.5]> : tensor<2xf32>} : tensor<2xf32>
  %q = quant.qcast %x : tensor<1x2x3x3xf32> to tensor<1x2x3x3x!quant.uniform<i8:f32, 0.015686274509803921:-64>>
  %s = quant.scast %w : tensor<2x2x1x1xi8> to tensor<2x2x1x1x!quant.uniform<i8<-127:127>:f32:0, {0.0078740157480314959,0.001968503937007874}>>
  %y = glm.conv %q, %s, %b {pads = [1, 1, 1, 1]} : (tensor<1x2x3x3x!quant.uniform<i8:f32, 0.015686274509803921:-64>>, tensor<2x2x1x1x!quant.uniform<i8<-127:127>:f32:0, {0.0078740157480314959,0.001968503937007874}>>, tensor<2xf32>) -> tensor<1x2x5x5xf32>
  return %y : tensor<1x2x5x5xf32>
}

// -----

// A quantized gemm: linalg.matmul on i8 into i32, then alpha and beta * C
// in the dequantizing epilogue.
// CHECK-LABEL: func.func @gemm
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x3xi8>, tensor<3x2xi8>) outs(%{{.*}} : tensor<4x2xi32>)
// CHECK: linalg.generic
// CHECK: arith.subi
// CHECK: arith.sitofp
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @gemm(%x: tensor<4x3xf32>, %c: tensor<2xf32>) -> tensor<4x2xf32> {
  %w = glm.constant {value = dense<[[127, 42], [-42, 64], [85, -32]]> : tensor<3x2xi8>} : tensor<3x2xi8>
  %q = quant.qcast %x : tensor<4x3xf32> to tensor<4x3x!quant.uniform<i8:f32, 0.0078431372549019607:-128>>
  %s = quant.scast %w : tensor<3x2xi8> to tensor<3x2x!quant.uniform<i8<-127:127>:f32:1, {0.023622047244094488,0.0078740157480314959}>>
  %y = glm.gemm %q, %s, %c {alpha = 0.5 : f32, beta = 2.0 : f32} : (tensor<4x3x!quant.uniform<i8:f32, 0.0078431372549019607:-128>>, tensor<3x2x!quant.uniform<i8<-127:127>:f32:1, {0.023622047244094488,0.0078740157480314959}>>, tensor<2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// The weight must be a constant (its sums are folded into the epilogue).
func.func @dynamic_weight(%x: tensor<4x3xf32>, %w: tensor<3x2xi8>) -> tensor<4x2xf32> {
  %q = quant.qcast %x : tensor<4x3xf32> to tensor<4x3x!quant.uniform<i8:f32, 0.5:0>>
  %s = quant.scast %w : tensor<3x2xi8> to tensor<3x2x!quant.uniform<i8<-127:127>:f32:1, {0.5,0.25}>>
  // expected-error @+2 {{failed to legalize operation 'glm.gemm'}}
  // expected-error @+1 {{needs a constant quantized weight (glm-quantize makes one)}}
  %y = glm.gemm %q, %s : (tensor<4x3x!quant.uniform<i8:f32, 0.5:0>>, tensor<3x2x!quant.uniform<i8<-127:127>:f32:1, {0.5,0.25}>>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
