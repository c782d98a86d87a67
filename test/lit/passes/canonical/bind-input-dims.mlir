// RUN: glm-opt %s -glm-bind-input-dims -glm-infer-shapes -split-input-file -verify-diagnostics | FileCheck %s

// A dynamic input dim added to a static one must have its size: the input
// becomes static there (the lowering broadcasts only static 1s).
// CHECK-LABEL: func.func @fixed_by_broadcast
// CHECK-SAME: (%{{.*}}: tensor<3x4xf32> {glm.name = "x"}) -> tensor<3x4xf32>
func.func @fixed_by_broadcast(%x: tensor<?x4xf32> {glm.name = "x"}) -> tensor<3x4xf32> attributes {glm.entry} {
  %w = glm.constant {value = dense<1.0> : tensor<3x4xf32>} : tensor<3x4xf32>
  // expected-warning @+1 {{input 'x' dim 0 is fixed to 3}}
  %y = glm.add %x, %w : (tensor<?x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// Through a transpose and a unary op, and a static 1 broadcasts without
// fixing anything.
// CHECK-LABEL: func.func @through_transpose
// The dims of x[0] and b[1] meet in the add: one class.
// CHECK-SAME: (%{{.*}}: tensor<?x5xf32> {glm.dim_symbols = array<i64: 0, -1>, glm.name = "x"},
// CHECK-SAME: %{{.*}}: tensor<1x?xf32> {glm.dim_symbols = array<i64: -1, 0>, glm.name = "b"})
func.func @through_transpose(%x: tensor<?x5xf32> {glm.name = "x"}, %b: tensor<1x?xf32> {glm.name = "b"}) -> tensor<5x?xf32> attributes {glm.entry} {
  %t = glm.transpose %x {perm = [1, 0]} : (tensor<?x5xf32>) -> tensor<5x?xf32>
  %r = glm.relu %t : (tensor<5x?xf32>) -> tensor<5x?xf32>
  %y = glm.add %r, %b : (tensor<5x?xf32>, tensor<1x?xf32>) -> tensor<5x?xf32>
  return %y : tensor<5x?xf32>
}

// -----

// A matmul's contracted dims must be equal; the rows pass on.
// CHECK-LABEL: func.func @contraction
// CHECK-SAME: glm.dim_symbols = array<i64: 0, 1>
// CHECK-SAME: glm.dim_symbols = array<i64: 1, -1>
// CHECK-SAME: glm.dim_symbols = array<i64: 0, -1>
func.func @contraction(%x: tensor<?x?xf32> {glm.name = "x"}, %w: tensor<?x5xf32> {glm.name = "w"},
                       %r: tensor<?x1xf32> {glm.name = "r"}) -> tensor<?x5xf32> attributes {glm.entry} {
  %y = glm.mat_mul %x, %w : (tensor<?x?xf32>, tensor<?x5xf32>) -> tensor<?x5xf32>
  %z = glm.add %y, %r : (tensor<?x5xf32>, tensor<?x1xf32>) -> tensor<?x5xf32>
  return %z : tensor<?x5xf32>
}

// -----

// A conv's input channels come from its weights.
// CHECK-LABEL: func.func @conv_channels
// CHECK-SAME: tensor<?x3x8x8xf32>
func.func @conv_channels(%x: tensor<?x?x8x8xf32> {glm.name = "x"}) -> tensor<?x4x8x8xf32> attributes {glm.entry} {
  %w = glm.constant {value = dense<1.0> : tensor<4x3x3x3xf32>} : tensor<4x3x3x3xf32>
  // expected-warning @+1 {{input 'x' dim 1 is fixed to 3}}
  %y = glm.conv %x, %w {pads = [1, 1, 1, 1]} : (tensor<?x?x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<?x4x8x8xf32>
  return %y : tensor<?x4x8x8xf32>
}

// -----

// Two different sizes for one input dim: the model cannot run.
func.func @conflict(%x: tensor<?xf32> {glm.name = "x"}) -> (tensor<3xf32>, tensor<4xf32>) attributes {glm.entry} {
  %a = glm.constant {value = dense<1.0> : tensor<3xf32>} : tensor<3xf32>
  %b = glm.constant {value = dense<1.0> : tensor<4xf32>} : tensor<4xf32>
  %y = glm.add %x, %a : (tensor<?xf32>, tensor<3xf32>) -> tensor<3xf32>
  // expected-error @+1 {{input 'x' dim 0 must be 4 here, but node '' needs it to be 3}}
  %z = glm.add %x, %b : (tensor<?xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y, %z : tensor<3xf32>, tensor<4xf32>
}

// -----

// A dim the analysis cannot follow (a computed reshape) is left alone.
// CHECK-LABEL: func.func @unfollowed
// CHECK-SAME: (%{{.*}}: tensor<?xf32> {glm.name = "x"}, %{{.*}}: tensor<2xi64> {glm.name = "s"})
// CHECK-NOT: glm.dim_symbols
func.func @unfollowed(%x: tensor<?xf32> {glm.name = "x"}, %s: tensor<2xi64> {glm.name = "s"}) -> tensor<?x?xf32> attributes {glm.entry} {
  %r = glm.reshape %x, %s : (tensor<?xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  %w = glm.constant {value = dense<1.0> : tensor<3x3xf32>} : tensor<3x3xf32>
  %y = glm.mat_mul %r, %w : (tensor<?x?xf32>, tensor<3x3xf32>) -> tensor<?x3xf32>
  %z = glm.relu %r : (tensor<?x?xf32>) -> tensor<?x?xf32>
  return %z : tensor<?x?xf32>
}
