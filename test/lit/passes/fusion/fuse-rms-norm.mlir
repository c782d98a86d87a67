// RUN: glm-opt %s -glm-fuse-rms-norm -canonicalize -split-input-file | FileCheck %s

// The HF form: pow(x, 2), mean, + eps, sqrt, 1/s, x * r, w * n.
// CHECK-LABEL: func.func @hf
// CHECK-NEXT: %[[W:.*]] = glm.constant
// CHECK-NEXT: %[[Y:.*]] = glm.rms_norm %arg0, %[[W]] : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
// CHECK-NEXT: return %[[Y]]
func.func @hf(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %two = glm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = glm.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %one = glm.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %w = glm.constant {value = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]> : tensor<8xf32>} : tensor<8xf32>
  %p = glm.pow %x, %two : (tensor<?x?x8xf32>, tensor<f32>) -> tensor<?x?x8xf32>
  %m = glm.reduce_mean %p {axes = [-1]} : (tensor<?x?x8xf32>) -> tensor<?x?x1xf32>
  %a = glm.add %m, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = glm.sqrt %a : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %r = glm.div %one, %s : (tensor<f32>, tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = glm.mul %x, %r : (tensor<?x?x8xf32>, tensor<?x?x1xf32>) -> tensor<?x?x8xf32>
  %c = glm.cast %n {to = f32} : (tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %y = glm.mul %w, %c : (tensor<8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// x * x, x / sqrt(.), no weight: the scale is ones.
// CHECK-LABEL: func.func @div_no_weight
// CHECK: %[[ONES:.*]] = glm.constant {value = dense<1.000000e+00> : tensor<4xf32>}
// CHECK: glm.rms_norm %arg0, %[[ONES]] {epsilon = 9.99999997E-7 : f32}
// CHECK-NOT: glm.sqrt
func.func @div_no_weight(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %eps = glm.constant {value = dense<1.0e-6> : tensor<1xf32>} : tensor<1xf32>
  %p = glm.mul %x, %x : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = glm.reduce_mean %p {axes = [1]} : (tensor<2x4xf32>) -> tensor<2x1xf32>
  %a = glm.add %eps, %m : (tensor<1xf32>, tensor<2x1xf32>) -> tensor<2x1xf32>
  %s = glm.sqrt %a : (tensor<2x1xf32>) -> tensor<2x1xf32>
  %y = glm.div %x, %s : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// reciprocal spelling, the weight multiplied first-operand-last.
// CHECK-LABEL: func.func @reciprocal
// CHECK-NOT: glm.constant
// CHECK-NEXT: %[[Y:.*]] = glm.rms_norm %arg0, %arg1 :
// CHECK-NEXT: return %[[Y]]
func.func @reciprocal(%x: tensor<3x4xf32>, %w: tensor<4xf32>) -> tensor<3x4xf32> {
  %two = glm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %eps = glm.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %p = glm.pow %x, %two : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>
  %m = glm.reduce_mean %p {axes = [-1]} : (tensor<3x4xf32>) -> tensor<3x1xf32>
  %a = glm.add %m, %eps : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = glm.sqrt %a : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %r = glm.reciprocal %s : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %n = glm.mul %r, %x : (tensor<3x1xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %y = glm.mul %n, %w : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// Not an RMSNorm: the mean is over a leading dim, and pow is not a square.
// CHECK-LABEL: func.func @negative
// CHECK-NOT: glm.rms_norm
// CHECK: return
func.func @negative(%x: tensor<3x4xf32>) -> (tensor<3x4xf32>, tensor<3x4xf32>) {
  %two = glm.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %three = glm.constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
  %eps = glm.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %p = glm.pow %x, %two : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>
  %m = glm.reduce_mean %p {axes = [0]} : (tensor<3x4xf32>) -> tensor<1x4xf32>
  %a = glm.add %m, %eps : (tensor<1x4xf32>, tensor<f32>) -> tensor<1x4xf32>
  %s = glm.sqrt %a : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %y = glm.div %x, %s : (tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>
  %p3 = glm.pow %x, %three : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>
  %m3 = glm.reduce_mean %p3 {axes = [1]} : (tensor<3x4xf32>) -> tensor<3x1xf32>
  %a3 = glm.add %m3, %eps : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s3 = glm.sqrt %a3 : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %y3 = glm.div %x, %s3 : (tensor<3x4xf32>, tensor<3x1xf32>) -> tensor<3x4xf32>
  return %y, %y3 : tensor<3x4xf32>, tensor<3x4xf32>
}

// -----

// An intermediate with another user is not fused (it would be computed twice).
// CHECK-LABEL: func.func @shared
// CHECK-NOT: glm.rms_norm
func.func @shared(%x: tensor<3x4xf32>) -> (tensor<3x4xf32>, tensor<3x1xf32>) {
  %eps = glm.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %p = glm.mul %x, %x : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %m = glm.reduce_mean %p {axes = [1]} : (tensor<3x4xf32>) -> tensor<3x1xf32>
  %a = glm.add %m, %eps : (tensor<3x1xf32>, tensor<f32>) -> tensor<3x1xf32>
  %s = glm.sqrt %a : (tensor<3x1xf32>) -> tensor<3x1xf32>
  %y = glm.div %x, %s : (tensor<3x4xf32>, tensor<3x1xf32>) -> tensor<3x4xf32>
  return %y, %a : tensor<3x4xf32>, tensor<3x1xf32>
}
