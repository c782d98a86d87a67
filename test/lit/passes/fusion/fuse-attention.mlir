// RUN: glm-opt %s -glm-fuse-attention -canonicalize -split-input-file | FileCheck %s

// GQA as transformers exports it: 4 query heads over 2 K/V heads, K/V
// repeated by unsqueeze/expand/reshape, K transposed, scores scaled by a
// mul and masked by an add; the fused op reads the 2 K/V heads in place.
// CHECK-LABEL: func.func @gqa_masked
// CHECK-NEXT: %[[Y:.*]] = glm.attention %arg0, %arg1, %arg2, %arg3 {scale = 2.500000e-01 : f32} : (tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x1x3x5xf32>) -> tensor<1x4x3x16xf32>
// CHECK-NEXT: return %[[Y]]
func.func @gqa_masked(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %mask: tensor<1x1x3x5xf32>) -> tensor<1x4x3x16xf32> {
  %e5 = glm.constant {value = dense<[1, 2, 2, 5, 16]> : tensor<5xi64>} : tensor<5xi64>
  %r4 = glm.constant {value = dense<[1, 4, 5, 16]> : tensor<4xi64>} : tensor<4xi64>
  %scale = glm.constant {value = dense<0.25> : tensor<f32>} : tensor<f32>
  %ku = glm.unsqueeze %k {axes = [2]} : (tensor<1x2x5x16xf32>) -> tensor<1x2x1x5x16xf32>
  %ke = glm.expand %ku, %e5 : (tensor<1x2x1x5x16xf32>, tensor<5xi64>) -> tensor<1x2x2x5x16xf32>
  %kr = glm.reshape %ke, %r4 : (tensor<1x2x2x5x16xf32>, tensor<4xi64>) -> tensor<1x4x5x16xf32>
  %vu = glm.unsqueeze %v {axes = [2]} : (tensor<1x2x5x16xf32>) -> tensor<1x2x1x5x16xf32>
  %ve = glm.expand %vu, %e5 : (tensor<1x2x1x5x16xf32>, tensor<5xi64>) -> tensor<1x2x2x5x16xf32>
  %vr = glm.reshape %ve, %r4 : (tensor<1x2x2x5x16xf32>, tensor<4xi64>) -> tensor<1x4x5x16xf32>
  %kt = glm.transpose %kr {perm = [0, 1, 3, 2]} : (tensor<1x4x5x16xf32>) -> tensor<1x4x16x5xf32>
  %s = glm.mat_mul %q, %kt : (tensor<1x4x3x16xf32>, tensor<1x4x16x5xf32>) -> tensor<1x4x3x5xf32>
  %ss = glm.mul %s, %scale : (tensor<1x4x3x5xf32>, tensor<f32>) -> tensor<1x4x3x5xf32>
  %sm = glm.add %ss, %mask : (tensor<1x4x3x5xf32>, tensor<1x1x3x5xf32>) -> tensor<1x4x3x5xf32>
  %p = glm.softmax %sm {axis = -1 : i64} : (tensor<1x4x3x5xf32>) -> tensor<1x4x3x5xf32>
  %y = glm.mat_mul %p, %vr : (tensor<1x4x3x5xf32>, tensor<1x4x5x16xf32>) -> tensor<1x4x3x16xf32>
  return %y : tensor<1x4x3x16xf32>
}

// -----

// Plain multi-head attention, scores divided by sqrt(d), no mask.
// CHECK-LABEL: func.func @mha_div
// CHECK-NEXT: %[[Y:.*]] = glm.attention %arg0, %arg1, %arg2 {scale = 5.000000e-01 : f32} : (tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>) -> tensor<2x2x3x4xf32>
func.func @mha_div(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x3x4xf32>, %v: tensor<2x2x3x4xf32>) -> tensor<2x2x3x4xf32> {
  %d = glm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %kt = glm.transpose %k {perm = [0, 1, 3, 2]} : (tensor<2x2x3x4xf32>) -> tensor<2x2x4x3xf32>
  %s = glm.mat_mul %q, %kt : (tensor<2x2x3x4xf32>, tensor<2x2x4x3xf32>) -> tensor<2x2x3x3xf32>
  %ss = glm.div %s, %d : (tensor<2x2x3x3xf32>, tensor<f32>) -> tensor<2x2x3x3xf32>
  %p = glm.softmax %ss {axis = 3 : i64} : (tensor<2x2x3x3xf32>) -> tensor<2x2x3x3xf32>
  %y = glm.mat_mul %p, %v : (tensor<2x2x3x3xf32>, tensor<2x2x3x4xf32>) -> tensor<2x2x3x4xf32>
  return %y : tensor<2x2x3x4xf32>
}

// -----

// Not attention: softmax over another dim; scores that are also returned
// (someone reads them) stay unfused.
// CHECK-LABEL: func.func @negative
// CHECK-NOT: glm.attention
// CHECK: return
func.func @negative(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x3x4xf32>, %v: tensor<1x2x3x4xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x3xf32>) {
  %kt = glm.transpose %k {perm = [0, 1, 3, 2]} : (tensor<1x2x3x4xf32>) -> tensor<1x2x4x3xf32>
  %s = glm.mat_mul %q, %kt : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %p = glm.softmax %s {axis = 2 : i64} : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %y = glm.mat_mul %p, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  %kt2 = glm.transpose %k {perm = [0, 1, 3, 2]} : (tensor<1x2x3x4xf32>) -> tensor<1x2x4x3xf32>
  %s2 = glm.mat_mul %q, %kt2 : (tensor<1x2x3x4xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x3x3xf32>
  %p2 = glm.softmax %s2 {axis = -1 : i64} : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %y2 = glm.mat_mul %p2, %v : (tensor<1x2x3x3xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %y, %y2, %s2 : tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x3xf32>
}
