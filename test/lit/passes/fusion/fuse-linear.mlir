// RUN: glm-opt %s -glm-fuse-linear -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @bias_either_order
// CHECK: %[[A:.*]] = glm.linear %arg0, %arg1, %arg2 : (tensor<?x?x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<?x?x3xf32>
// CHECK: %[[B:.*]] = glm.linear %arg0, %arg1, %arg2 :
// CHECK-NOT: glm.mat_mul
// CHECK-NOT: glm.add
func.func @bias_either_order(%x: tensor<?x?x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> (tensor<?x?x3xf32>, tensor<?x?x3xf32>) {
  %m = glm.mat_mul %x, %w : (tensor<?x?x4xf32>, tensor<4x3xf32>) -> tensor<?x?x3xf32>
  %y = glm.add %m, %b : (tensor<?x?x3xf32>, tensor<3xf32>) -> tensor<?x?x3xf32>
  %m2 = glm.mat_mul %x, %w : (tensor<?x?x4xf32>, tensor<4x3xf32>) -> tensor<?x?x3xf32>
  %y2 = glm.add %b, %m2 : (tensor<3xf32>, tensor<?x?x3xf32>) -> tensor<?x?x3xf32>
  return %y, %y2 : tensor<?x?x3xf32>, tensor<?x?x3xf32>
}

// -----

// No bias; a matmul whose result has another user keeps its add separate;
// an add that broadcasts the product (bias [2, 3]) is not a bias.
// CHECK-LABEL: func.func @no_bias
// CHECK: %[[L:.*]] = glm.linear %arg0, %arg1 : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
// CHECK: glm.add %[[L]], %arg2
// CHECK: %[[L2:.*]] = glm.linear %arg0, %arg1 :
// CHECK: glm.add %[[L2]], %arg3
func.func @no_bias(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>, %b2: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %m = glm.mat_mul %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %y = glm.add %m, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %m2 = glm.mat_mul %x, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %y2 = glm.add %m2, %b2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y, %m, %y2 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Batched products of activations (attention scores) stay mat_mul.
// CHECK-LABEL: func.func @batched
// CHECK: glm.mat_mul
// CHECK-NOT: glm.linear
func.func @batched(%q: tensor<1x2x5x4xf32>, %k: tensor<1x2x4x5xf32>) -> tensor<1x2x5x5xf32> {
  %s = glm.mat_mul %q, %k : (tensor<1x2x5x4xf32>, tensor<1x2x4x5xf32>) -> tensor<1x2x5x5xf32>
  return %s : tensor<1x2x5x5xf32>
}
