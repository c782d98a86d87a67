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

// -----

// Splitting heads: [batch, seq, 256] -> [batch, seq, -1, 32] with batch and
// seq taken from the shape of the reshape's producer's input. Both entries
// are provably the input's dynamic dims (through the matmul's rows and
// batch dim), so they cancel and the -1 is 256 / 32 = 8. Merging back after
// a transpose recovers 256 the same way.
// CHECK-LABEL: func.func @heads
// CHECK: glm.reshape {{.*}} -> tensor<?x?x8x32xf32>
// CHECK: glm.transpose {{.*}} -> tensor<?x8x?x32xf32>
// CHECK: glm.reshape {{.*}} -> tensor<?x?x256xf32>
func.func @heads(%x: tensor<?x?x256xf32>, %w: tensor<256x256xf32>) -> tensor<?x?x?xf32> {
  %q = glm.mat_mul %x, %w : (tensor<?x?x256xf32>, tensor<256x256xf32>) -> tensor<?x?x256xf32>
  %s = glm.shape %x : (tensor<?x?x256xf32>) -> tensor<3xi64>
  %i0 = glm.constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %i1 = glm.constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %b = glm.gather %s, %i0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %n = glm.gather %s, %i1 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %b1 = glm.unsqueeze %b {axes = [0]} : (tensor<i64>) -> tensor<1xi64>
  %n1 = glm.unsqueeze %n {axes = [0]} : (tensor<i64>) -> tensor<1xi64>
  %tail = glm.constant {value = dense<[-1, 32]> : tensor<2xi64>} : tensor<2xi64>
  %shape = glm.concat %b1, %n1, %tail {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<4xi64>
  %h = glm.reshape %q, %shape : (tensor<?x?x256xf32>, tensor<4xi64>) -> tensor<*xf32>
  %t = glm.transpose %h {perm = [0, 2, 1, 3]} : (tensor<*xf32>) -> tensor<*xf32>
  %back = glm.transpose %t {perm = [0, 2, 1, 3]} : (tensor<*xf32>) -> tensor<*xf32>
  %m1 = glm.constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %shape2 = glm.concat %b1, %n1, %m1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %y = glm.reshape %back, %shape2 : (tensor<*xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %y : tensor<?x?x?xf32>
}

// -----

// Without that proof the -1 stays dynamic: here the entries come from
// another tensor's shape.
// CHECK-LABEL: func.func @unrelated
// CHECK: glm.reshape {{.*}} -> tensor<?x?x?x32xf32>
func.func @unrelated(%x: tensor<?x?x256xf32>, %other: tensor<?x?xf32>) -> tensor<*xf32> {
  %s = glm.shape %other : (tensor<?x?xf32>) -> tensor<2xi64>
  %tail = glm.constant {value = dense<[-1, 32]> : tensor<2xi64>} : tensor<2xi64>
  %shape = glm.concat %s, %tail {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %h = glm.reshape %x, %shape : (tensor<?x?x256xf32>, tensor<4xi64>) -> tensor<*xf32>
  return %h : tensor<*xf32>
}
