// RUN: glm-opt %s -split-input-file -verify-diagnostics
// Every verifier message of the dialect, once.

func.func @gelu_mode(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{approximate must be "none" or "tanh", got "fast"}}
  %0 = glm.gelu %x {approximate = "fast"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @conv_strides(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{strides must have 2 entries}}
  %0 = glm.conv %x, %w {strides = [1]} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_group(%x: tensor<1x4x8x8xf32>, %w: tensor<3x2x3x3xf32>) -> tensor<1x3x6x6xf32> {
  // expected-error @+1 {{output channels 3 not divisible by group 2}}
  %0 = glm.conv %x, %w {group = 2 : i64} : (tensor<1x4x8x8xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x6x6xf32>
  return %0 : tensor<1x3x6x6xf32>
}

// -----

func.func @bn_channels(%x: tensor<1x4x2x2xf32>, %c: tensor<3xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{per-channel operand 'tensor<3xf32>' must be 1-d with 4 entries}}
  %0 = glm.batch_normalization %x, %c, %c, %c, %c : (tensor<1x4x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

func.func @softmax_axis(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = glm.softmax %x {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @where_types(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{X and Y must have the same element type}}
  %0 = glm.where %c, %a, %b : (tensor<4xi1>, tensor<4xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @constant_type() -> tensor<3xf32> {
  // expected-error @+1 {{value type 'tensor<2xf32>' differs from result type 'tensor<3xf32>'}}
  %0 = glm.constant {value = dense<1.0> : tensor<2xf32>} : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @pool_pads(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32> {
  // expected-error @+1 {{pads must have 4 entries}}
  %0 = glm.max_pool %x {kernel_shape = [2, 2], pads = [0, 0]} : (tensor<1x1x4x4xf32>) -> tensor<1x1x2x2xf32>
  return %0 : tensor<1x1x2x2xf32>
}

// -----

func.func @concat_empty() -> tensor<0xf32> {
  // expected-error @+1 {{needs at least one input}}
  %0 = glm.concat {axis = 0 : i64} : () -> tensor<0xf32>
  return %0 : tensor<0xf32>
}

// -----

func.func @rms_norm_scale(%x: tensor<2x8xf32>, %w: tensor<4xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{does not broadcast against}}
  %0 = glm.rms_norm %x, %w : (tensor<2x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @rotary_too_wide(%x: tensor<1x2x3x8xf32>, %c: tensor<1x1x3x5xf32>) -> tensor<1x2x3x8xf32> {
  // expected-error @+1 {{rotates 10 elements of a head of 8}}
  %0 = glm.rotary %x, %c, %c : (tensor<1x2x3x8xf32>, tensor<1x1x3x5xf32>, tensor<1x1x3x5xf32>) -> tensor<1x2x3x8xf32>
  return %0 : tensor<1x2x3x8xf32>
}

// -----

func.func @attention_groups(%q: tensor<1x3x4x8xf32>, %k: tensor<1x2x5x8xf32>) -> tensor<1x3x4x8xf32> {
  // expected-error @+1 {{query heads (3) must be a multiple of K/V heads (2)}}
  %0 = glm.attention %q, %k, %k {scale = 1.0 : f32} : (tensor<1x3x4x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) -> tensor<1x3x4x8xf32>
  return %0 : tensor<1x3x4x8xf32>
}

// -----

func.func @attention_mask(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x5x8xf32>, %m: tensor<1x1x4x4xf32>) -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{does not broadcast against the scores}}
  %0 = glm.attention %q, %k, %k, %m {scale = 1.0 : f32} : (tensor<1x2x4x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x1x4x4xf32>) -> tensor<1x2x4x8xf32>
  return %0 : tensor<1x2x4x8xf32>
}

// -----

func.func @gated_mlp_act(%x: tensor<2x4xf32>, %a: tensor<4x12xf32>, %b: tensor<6x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{activation must be silu or gelu, got 'relu'}}
  %0 = glm.gated_mlp %x, %a, %b {activation = "relu"} : (tensor<2x4xf32>, tensor<4x12xf32>, tensor<6x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @gated_mlp_down(%x: tensor<2x4xf32>, %a: tensor<4x12xf32>, %b: tensor<5x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{does not match W_gate_up}}
  %0 = glm.gated_mlp %x, %a, %b : (tensor<2x4xf32>, tensor<4x12xf32>, tensor<5x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @linear_bias(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{B must be [N] = [3]}}
  %0 = glm.linear %x, %w, %b : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A quantized contraction takes quantized data and weights together.
func.func @conv_half_quantized(%x: tensor<1x2x3x3x!quant.uniform<i8:f32, 0.5:0>>, %w: tensor<2x2x1x1xf32>) -> tensor<1x2x3x3xf32> {
  // expected-error @+1 {{takes quantized data and weights together or neither}}
  %y = glm.conv %x, %w : (tensor<1x2x3x3x!quant.uniform<i8:f32, 0.5:0>>, tensor<2x2x1x1xf32>) -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

// -----

// The weight of a quantized gemm is quantized along its output dim.
func.func @gemm_wrong_axis(%x: tensor<4x3x!quant.uniform<i8:f32, 0.5:0>>, %w: tensor<3x2x!quant.uniform<i8:f32:0, {0.5,0.5,0.5}>>) -> tensor<4x2xf32> {
  // expected-error @+1 {{needs the weight quantized along its output dim 1}}
  %y = glm.gemm %x, %w : (tensor<4x3x!quant.uniform<i8:f32, 0.5:0>>, tensor<3x2x!quant.uniform<i8:f32:0, {0.5,0.5,0.5}>>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
