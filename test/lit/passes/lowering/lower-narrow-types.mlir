// RUN: glm-opt %s -glm-lower-to-linalg -split-input-file | FileCheck %s

// float8, float4 and int4 tensors become bytes (one element per byte, a
// 4-bit value in the low nibble); glm.cast converts them with integer
// arithmetic, and constants keep their bit patterns.

// float8 E4M3FN -> f32: rebias the exponent (127 - 7 = 120), shift the
// mantissa up by 20; subnormals are m * 2^-9; S.1111.111 is NaN.
// CHECK-LABEL: func.func @decode_e4m3fn
// CHECK-SAME: (%{{.+}}: tensor<4xi8>) -> tensor<4xf32>
// CHECK: linalg.generic
// CHECK: ^bb0(%[[B:.+]]: i8, %{{.+}}: f32):
// CHECK: arith.extui %[[B]] : i8 to i32
// CHECK: arith.constant 120 : i32
// CHECK: arith.constant 0.001953125 : f32
// CHECK: arith.constant 127 : i32
// CHECK: arith.cmpi eq
// CHECK: arith.negf
func.func @decode_e4m3fn(%x: tensor<4xf8E4M3FN>) -> tensor<4xf32> {
  %0 = glm.cast %x {to = f32} : (tensor<4xf8E4M3FN>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// f32 -> float8 E5M2 without saturation: round the f32 bits at 2 mantissa
// bits (shift 21, bias 2^20 - 1 plus the kept lsb), subnormals by
// roundeven(|x| * 2^16), beyond 0x7B (57344) infinity 0x7C, NaN 0x7E.
// CHECK-LABEL: func.func @encode_e5m2
// CHECK-SAME: -> tensor<4xi8>
// CHECK: arith.bitcast %{{.+}} : f32 to i32
// CHECK: arith.constant 21 : i32
// CHECK: arith.constant 1048575 : i32
// CHECK: arith.constant 6.553600e+04 : f32
// CHECK: math.roundeven
// CHECK: arith.constant 123 : i32
// CHECK: arith.constant 124 : i32
// CHECK: arith.constant 126 : i32
// CHECK: arith.trunci %{{.+}} : i32 to i8
func.func @encode_e5m2(%x: tensor<4xf32>) -> tensor<4xf8E5M2> {
  %0 = glm.cast %x {to = f8E5M2, saturate = false} : (tensor<4xf32>) -> tensor<4xf8E5M2>
  return %0 : tensor<4xf8E5M2>
}

// -----

// int4 -> f32: sign-extend the low nibble (shift left 4, arithmetic shift
// right 4); uint4 -> i8 masks it.
// CHECK-LABEL: func.func @decode_int4
// CHECK-SAME: (%{{.+}}: tensor<3xi8>, %{{.+}}: tensor<3xi8>) -> (tensor<3xf32>, tensor<3xi8>)
// CHECK: arith.shli
// CHECK: arith.shrsi
// CHECK: arith.sitofp %{{.+}} : i8 to f32
// CHECK: arith.andi
// CHECK: linalg.yield
func.func @decode_int4(%x: tensor<3xi4>, %y: tensor<3xui4>) -> (tensor<3xf32>, tensor<3xui8>) {
  %0 = glm.cast %x {to = f32} : (tensor<3xi4>) -> tensor<3xf32>
  %1 = glm.cast %y {to = ui8} : (tensor<3xui4>) -> tensor<3xui8>
  return %0, %1 : tensor<3xf32>, tensor<3xui8>
}

// -----

// A constant int4 tensor widens to one byte per value, the high nibble
// zero (-8 is 0x08, -1 is 0x0F).
// CHECK-LABEL: func.func @int4_constant
// CHECK: arith.constant dense<[8, 15, 0, 7]> : tensor<4xi8>
func.func @int4_constant() -> tensor<4xi4> {
  %0 = glm.constant {value = dense<[-8, -1, 0, 7]> : tensor<4xi4>} : tensor<4xi4>
  return %0 : tensor<4xi4>
}
