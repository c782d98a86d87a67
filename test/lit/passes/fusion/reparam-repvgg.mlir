// RUN: glm-opt %s -glm-reparam-repvgg -canonicalize -split-input-file | FileCheck %s

// 3x3 + 1x1 + identity of one input: one 3x3 conv. Weights all 1 (3x3),
// 2 (1x1), identity 1 on the diagonal centre: centre taps of the merged
// kernel are 1 + 2 + 1 = 4 on the diagonal, 1 + 2 = 3 off it; other taps 1.
// Biases 1 + 10 = 11.
// CHECK-LABEL: func.func @three_branches
// CHECK-NOT: glm.add
// CHECK: %[[Y:.+]] = glm.conv %arg0, %{{.*}}, %{{.*}} {pads = [1, 1, 1, 1], strides = [1, 1]} : (tensor<1x2x5x5xf32>, tensor<2x2x3x3xf32>, tensor<2xf32>)
// CHECK-NEXT: return %[[Y]]
func.func @three_branches(%x: tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32> {
  %w3 = glm.constant {value = dense<1.0> : tensor<2x2x3x3xf32>} : tensor<2x2x3x3xf32>
  %b3 = glm.constant {value = dense<1.0> : tensor<2xf32>} : tensor<2xf32>
  %w1 = glm.constant {value = dense<2.0> : tensor<2x2x1x1xf32>} : tensor<2x2x1x1xf32>
  %b1 = glm.constant {value = dense<10.0> : tensor<2xf32>} : tensor<2xf32>
  %a = glm.conv %x, %w3, %b3 {pads = [1, 1, 1, 1]} : (tensor<1x2x5x5xf32>, tensor<2x2x3x3xf32>, tensor<2xf32>) -> tensor<1x2x5x5xf32>
  %b = glm.conv %x, %w1, %b1 : (tensor<1x2x5x5xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x5x5xf32>
  %s = glm.add %a, %b : (tensor<1x2x5x5xf32>, tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  %y = glm.add %s, %x : (tensor<1x2x5x5xf32>, tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  return %y : tensor<1x2x5x5xf32>
}
// Kernel [out][in]: centres 4 (diagonal) and 3 (off-diagonal), every other tap 1.
// CHECK: repvgg.w: "0x400000000000803F0000803F0000803F0000803F000080400000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F000040400000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F000040400000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F000080400000803F0000803F0000803F0000803F"
// CHECK: repvgg.b: "0x400000000000304100003041"

// -----

// Branches of different inputs (a ResNet residual) are left alone.
// CHECK-LABEL: func.func @residual_not_merged
// CHECK: glm.add
func.func @residual_not_merged(%x: tensor<1x2x5x5xf32>, %y: tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32> {
  %w = glm.constant {value = dense<1.0> : tensor<2x2x3x3xf32>} : tensor<2x2x3x3xf32>
  %a = glm.conv %y, %w {pads = [1, 1, 1, 1]} : (tensor<1x2x5x5xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x5x5xf32>
  %s = glm.add %a, %x : (tensor<1x2x5x5xf32>, tensor<1x2x5x5xf32>) -> tensor<1x2x5x5xf32>
  return %s : tensor<1x2x5x5xf32>
}

// -----

// Two strided convs of one input merge (no identity branch involved).
// CHECK-LABEL: func.func @strided_identity_kept
// CHECK: glm.conv %arg0, %{{.*}}, %{{.*}} {pads = [1, 1, 1, 1], strides = [2, 2]}
// CHECK-NOT: glm.add
func.func @strided_identity_kept(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %w = glm.constant {value = dense<1.0> : tensor<2x2x3x3xf32>} : tensor<2x2x3x3xf32>
  %a = glm.conv %x, %w {pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x2x2xf32>
  %w1 = glm.constant {value = dense<1.0> : tensor<2x2x1x1xf32>} : tensor<2x2x1x1xf32>
  %b = glm.conv %x, %w1 {strides = [2, 2]} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x2x2xf32>
  %s = glm.add %a, %b : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  return %s : tensor<1x2x2x2xf32>
}
