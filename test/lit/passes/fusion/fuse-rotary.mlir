// RUN: glm-opt %s -glm-fuse-rotary -canonicalize -split-input-file | FileCheck %s

// GLM-4: rotary on the first 8 of 16 dims of each head, interleaved pairs,
// cos/sin repeated with repeat_interleave (unsqueeze, concat, reshape).
// CHECK-LABEL: func.func @glm4_partial_interleaved
// CHECK-NEXT: %[[Y:.*]] = glm.rotary %arg0, %arg1, %arg2 {interleaved = true} : (tensor<1x2x3x16xf32>, tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x16xf32>
// CHECK-NEXT: return %[[Y]]
func.func @glm4_partial_interleaved(%x: tensor<1x2x3x16xf32>, %c: tensor<1x1x3x4xf32>, %s: tensor<1x1x3x4xf32>) -> tensor<1x2x3x16xf32> {
  %c0 = glm.constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c1 = glm.constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %c2 = glm.constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %c8 = glm.constant {value = dense<8> : tensor<1xi64>} : tensor<1xi64>
  %cbig = glm.constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %cm1 = glm.constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %shape = glm.constant {value = dense<[1, 1, 3, 8]> : tensor<4xi64>} : tensor<4xi64>
  %shapex = glm.constant {value = dense<[1, 2, 3, -1]> : tensor<4xi64>} : tensor<4xi64>
  // cos/sin [.., 4] -> [.., 8] as c0 c0 c1 c1 ...
  %cu = glm.unsqueeze %c {axes = [-1]} : (tensor<1x1x3x4xf32>) -> tensor<1x1x3x4x1xf32>
  %cc = glm.concat %cu, %cu {axis = -1 : i64} : (tensor<1x1x3x4x1xf32>, tensor<1x1x3x4x1xf32>) -> tensor<1x1x3x4x2xf32>
  %cr = glm.reshape %cc, %shape : (tensor<1x1x3x4x2xf32>, tensor<4xi64>) -> tensor<1x1x3x8xf32>
  %su = glm.unsqueeze %s {axes = [-1]} : (tensor<1x1x3x4xf32>) -> tensor<1x1x3x4x1xf32>
  %sc = glm.concat %su, %su {axis = -1 : i64} : (tensor<1x1x3x4x1xf32>, tensor<1x1x3x4x1xf32>) -> tensor<1x1x3x4x2xf32>
  %sr = glm.reshape %sc, %shape : (tensor<1x1x3x4x2xf32>, tensor<4xi64>) -> tensor<1x1x3x8xf32>
  %xr = glm.slice %x, %c0, %c8, %cm1, %c1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x3x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x3x8xf32>
  %xp = glm.slice %x, %c8, %cbig, %cm1, %c1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x3x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x3x8xf32>
  %m1 = glm.mul %xr, %cr : (tensor<1x2x3x8xf32>, tensor<1x1x3x8xf32>) -> tensor<1x2x3x8xf32>
  // rotate: stack(-x[1::2], x[0::2]) flattened
  %ev = glm.slice %xr, %c0, %cbig, %cm1, %c2 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x3x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x3x4xf32>
  %od = glm.slice %xr, %c1, %cbig, %cm1, %c2 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x3x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x3x4xf32>
  %nod = glm.neg %od : (tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %u0 = glm.unsqueeze %nod {axes = [-1]} : (tensor<1x2x3x4xf32>) -> tensor<1x2x3x4x1xf32>
  %u1 = glm.unsqueeze %ev {axes = [-1]} : (tensor<1x2x3x4xf32>) -> tensor<1x2x3x4x1xf32>
  %st = glm.concat %u0, %u1 {axis = -1 : i64} : (tensor<1x2x3x4x1xf32>, tensor<1x2x3x4x1xf32>) -> tensor<1x2x3x4x2xf32>
  %rot = glm.reshape %st, %shapex : (tensor<1x2x3x4x2xf32>, tensor<4xi64>) -> tensor<1x2x3x8xf32>
  %m2 = glm.mul %rot, %sr : (tensor<1x2x3x8xf32>, tensor<1x1x3x8xf32>) -> tensor<1x2x3x8xf32>
  %a = glm.add %m1, %m2 : (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  %y = glm.concat %a, %xp {axis = -1 : i64} : (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) -> tensor<1x2x3x16xf32>
  return %y : tensor<1x2x3x16xf32>
}

// -----

// Llama/NeoX: the whole head rotated, rotate_half = concat(-x[r:], x[:r]),
// the tables repeated as concat(c, c); products in the other order.
// CHECK-LABEL: func.func @neox_full_half
// CHECK-NEXT: %[[Y:.*]] = glm.rotary %arg0, %arg1, %arg2 : (tensor<1x2x3x8xf32>, tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @neox_full_half(%x: tensor<1x2x3x8xf32>, %c: tensor<1x1x3x4xf32>, %s: tensor<1x1x3x4xf32>) -> tensor<1x2x3x8xf32> {
  %c0 = glm.constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c4 = glm.constant {value = dense<4> : tensor<1xi64>} : tensor<1xi64>
  %c8 = glm.constant {value = dense<8> : tensor<1xi64>} : tensor<1xi64>
  %cm1 = glm.constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %cr = glm.concat %c, %c {axis = 3 : i64} : (tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x8xf32>
  %sr = glm.concat %s, %s {axis = -1 : i64} : (tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x8xf32>
  %lo = glm.slice %x, %c0, %c4, %cm1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<1x2x3x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x3x4xf32>
  %hi = glm.slice %x, %c4, %c8, %cm1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<1x2x3x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x3x4xf32>
  %nhi = glm.neg %hi : (tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %rot = glm.concat %nhi, %lo {axis = -1 : i64} : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x8xf32>
  %m1 = glm.mul %cr, %x : (tensor<1x1x3x8xf32>, tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  %m2 = glm.mul %sr, %rot : (tensor<1x1x3x8xf32>, tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  %y = glm.add %m2, %m1 : (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  return %y : tensor<1x2x3x8xf32>
}

// -----

// Mixed pairings (interleaved rotation, half-split tables) are not a rotary
// embedding: left alone.
// CHECK-LABEL: func.func @mixed
// CHECK-NOT: glm.rotary
// CHECK: return
func.func @mixed(%x: tensor<1x2x3x8xf32>, %c: tensor<1x1x3x4xf32>, %s: tensor<1x1x3x4xf32>) -> tensor<1x2x3x8xf32> {
  %c0 = glm.constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c1 = glm.constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %c2 = glm.constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %cbig = glm.constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %cm1 = glm.constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %shapex = glm.constant {value = dense<[1, 2, 3, 8]> : tensor<4xi64>} : tensor<4xi64>
  %cr = glm.concat %c, %c {axis = -1 : i64} : (tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x8xf32>
  %sr = glm.concat %s, %s {axis = -1 : i64} : (tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x1x3x8xf32>
  %ev = glm.slice %x, %c0, %cbig, %cm1, %c2 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x3x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x3x4xf32>
  %od = glm.slice %x, %c1, %cbig, %cm1, %c2 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x3x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x3x4xf32>
  %nod = glm.neg %od : (tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %u0 = glm.unsqueeze %nod {axes = [-1]} : (tensor<1x2x3x4xf32>) -> tensor<1x2x3x4x1xf32>
  %u1 = glm.unsqueeze %ev {axes = [-1]} : (tensor<1x2x3x4xf32>) -> tensor<1x2x3x4x1xf32>
  %st = glm.concat %u0, %u1 {axis = -1 : i64} : (tensor<1x2x3x4x1xf32>, tensor<1x2x3x4x1xf32>) -> tensor<1x2x3x4x2xf32>
  %rot = glm.reshape %st, %shapex : (tensor<1x2x3x4x2xf32>, tensor<4xi64>) -> tensor<1x2x3x8xf32>
  %m1 = glm.mul %x, %cr : (tensor<1x2x3x8xf32>, tensor<1x1x3x8xf32>) -> tensor<1x2x3x8xf32>
  %m2 = glm.mul %rot, %sr : (tensor<1x2x3x8xf32>, tensor<1x1x3x8xf32>) -> tensor<1x2x3x8xf32>
  %y = glm.add %m1, %m2 : (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32>
  return %y : tensor<1x2x3x8xf32>
}
