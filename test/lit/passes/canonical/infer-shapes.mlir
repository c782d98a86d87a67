// RUN: glm-opt %s -glm-infer-shapes -split-input-file -verify-diagnostics | FileCheck %s

// Unranked placeholders and dynamic dims become what the ops imply, and the
// function's result type follows.
// CHECK-LABEL: func.func @refine(%{{.*}}: tensor<2x8xf32>) -> tensor<4x4xf32>
func.func @refine(%x: tensor<2x8xf32>) -> tensor<*xf32> {
  %s = glm.constant {value = dense<[4, -1]> : tensor<2xi64>} : tensor<2xi64>
  // CHECK: glm.reshape {{.*}} -> tensor<4x4xf32>
  %r = glm.reshape %x, %s : (tensor<2x8xf32>, tensor<2xi64>) -> tensor<*xf32>
  // CHECK: glm.relu {{.*}} -> tensor<4x4xf32>
  %y = glm.relu %r : (tensor<*xf32>) -> tensor<*xf32>
  return %y : tensor<*xf32>
}

// -----

// A shape built from the input's own (dynamic) shape keeps the known parts.
// CHECK-LABEL: func.func @partial_shape
func.func @partial_shape(%x: tensor<?x3x4xf32>) -> tensor<*xf32> {
  %s = glm.shape %x : (tensor<?x3x4xf32>) -> tensor<3xi64>
  %i = glm.constant {value = dense<[0]> : tensor<1xi64>} : tensor<1xi64>
  %b = glm.gather %s, %i : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %c = glm.constant {value = dense<[12]> : tensor<1xi64>} : tensor<1xi64>
  %t = glm.concat %b, %c {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  // CHECK: glm.reshape {{.*}} -> tensor<?x12xf32>
  %r = glm.reshape %x, %t : (tensor<?x3x4xf32>, tensor<2xi64>) -> tensor<*xf32>
  return %r : tensor<*xf32>
}

// -----

// Static dims already known are never made dynamic again.
// CHECK-LABEL: func.func @keep_static
func.func @keep_static(%x: tensor<?x4xf32>) -> tensor<8x4xf32> {
  // CHECK: glm.sigmoid {{.*}} -> tensor<8x4xf32>
  %y = glm.sigmoid %x : (tensor<?x4xf32>) -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}

// -----

func.func @contradiction(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{inferred result type 'tensor<2x4xf32>' contradicts the declared type 'tensor<2x5xf32>'}}
  %y = glm.mat_mul %x, %w : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}
