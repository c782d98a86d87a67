// RUN: glm-opt %s | glm-opt | FileCheck %s
// Round trip: every op family parses and prints in its declared form.

// CHECK-LABEL: func.func @nn
func.func @nn(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>, %s: tensor<4xf32>) -> tensor<1x4x3x3xf32> {
  // CHECK: glm.conv %{{.*}}, %{{.*}}, %{{.*}} {pads = [1, 1, 1, 1]}
  %0 = glm.conv %x, %w, %b {pads = [1, 1, 1, 1]} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  // CHECK: glm.batch_normalization
  %1 = glm.batch_normalization %0, %s, %b, %b, %s {epsilon = 1.0e-3 : f32} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  // CHECK: glm.max_pool %{{.*}} {kernel_shape = [3, 3], strides = [2, 2]}
  %2 = glm.max_pool %1 {kernel_shape = [3, 3], strides = [2, 2]} : (tensor<1x4x8x8xf32>) -> tensor<1x4x3x3xf32>
  return %2 : tensor<1x4x3x3xf32>
}

// CHECK-LABEL: func.func @tensor_ops
func.func @tensor_ops(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<2xi64>, tensor<6xf32>) {
  // CHECK: glm.transpose %{{.*}} {perm = [1, 0]}
  %t = glm.transpose %x {perm = [1, 0]} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  // CHECK: glm.shape
  %s = glm.shape %x : (tensor<2x3xf32>) -> tensor<2xi64>
  %c = glm.constant {value = dense<[6]> : tensor<1xi64>} : tensor<1xi64>
  // CHECK: glm.reshape
  %r = glm.reshape %x, %c : (tensor<2x3xf32>, tensor<1xi64>) -> tensor<6xf32>
  return %t, %s, %r : tensor<3x2xf32>, tensor<2xi64>, tensor<6xf32>
}

// CHECK-LABEL: func.func @math
func.func @math(%a: tensor<4x1xf32>, %b: tensor<5xf32>) -> tensor<4x5xi1> {
  // CHECK: glm.add %{{.*}}, %{{.*}} : (tensor<4x1xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %0 = glm.add %a, %b : (tensor<4x1xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  // CHECK: glm.gelu %{{.*}} {approximate = "tanh"}
  %1 = glm.gelu %0 {approximate = "tanh"} : (tensor<4x5xf32>) -> tensor<4x5xf32>
  // CHECK: glm.greater
  %2 = glm.greater %1, %0 : (tensor<4x5xf32>, tensor<4x5xf32>) -> tensor<4x5xi1>
  return %2 : tensor<4x5xi1>
}
