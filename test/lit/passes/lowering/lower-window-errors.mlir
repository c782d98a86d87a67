// RUN: glm-opt %s -glm-lower-to-linalg -split-input-file -verify-diagnostics

// Grouped 3-d convolutions other than depthwise have no lowering.
func.func @conv_3d_grouped(%x: tensor<1x4x3x3x3xf32>, %w: tensor<4x2x2x2x2xf32>) -> tensor<1x4x2x2x2xf32> {
  // expected-error @+2 {{failed to legalize operation 'glm.conv'}}
  // expected-error @+1 {{'glm.conv' op 3-d convolutions with groups are supported only depthwise (one filter per input channel), this one has group 2}}
  %0 = glm.conv %x, %w {group = 2 : i64} : (tensor<1x4x3x3x3xf32>, tensor<4x2x2x2x2xf32>) -> tensor<1x4x2x2x2xf32>
  return %0 : tensor<1x4x2x2x2xf32>
}

// -----

func.func @max_pool_4d(%x: tensor<1x1x2x2x2x2xf32>) -> tensor<1x1x1x1x1x1xf32> {
  // expected-error @+2 {{failed to legalize operation 'glm.max_pool'}}
  // expected-error @+1 {{'glm.max_pool' op only 1-d, 2-d and 3-d pooling is supported, this one has 4 spatial dims}}
  %0 = glm.max_pool %x {kernel_shape = [2, 2, 2, 2]} : (tensor<1x1x2x2x2x2xf32>) -> tensor<1x1x1x1x1x1xf32>
  return %0 : tensor<1x1x1x1x1x1xf32>
}
