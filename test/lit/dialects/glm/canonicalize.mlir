// RUN: glm-opt %s -canonicalize -split-input-file | FileCheck %s
// Folders evaluate shape arithmetic; the shape subgraph disappears.

// CHECK-LABEL: func.func @shape_of_static
func.func @shape_of_static(%x: tensor<2x3x4xf32>) -> tensor<2xi64> {
  // CHECK: %[[C:.+]] = glm.constant {value = dense<[3, 4]> : tensor<2xi64>}
  // CHECK-NOT: glm.shape
  // CHECK: return %[[C]]
  %0 = glm.shape %x {start = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// CHECK-LABEL: func.func @shape_math
func.func @shape_math(%x: tensor<2x3x4xf32>) -> tensor<2xi64> {
  %s = glm.shape %x : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %i0 = glm.constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %d0 = glm.gather %s, %i0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %u = glm.unsqueeze %d0 {axes = [0]} : (tensor<i64>) -> tensor<1xi64>
  %m = glm.constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %two = glm.constant {value = dense<2> : tensor<1xi64>} : tensor<1xi64>
  %p = glm.mul %u, %two : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %c = glm.concat %p, %m {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  // CHECK: %[[C:.+]] = glm.constant {value = dense<[4, -1]> : tensor<2xi64>}
  // CHECK-NEXT: return %[[C]]
  return %c : tensor<2xi64>
}

// -----

// CHECK-LABEL: func.func @gemm_constant_transposed_b
func.func @gemm_constant_transposed_b(%a: tensor<2x3xf32>) -> tensor<2x4xf32> {
  %b = glm.constant {value = dense<1.0> : tensor<4x3xf32>} : tensor<4x3xf32>
  // CHECK: %[[T:.+]] = glm.transpose %{{.*}} {perm = [1, 0]} : (tensor<4x3xf32>) -> tensor<3x4xf32>
  // CHECK: glm.gemm %arg0, %[[T]] : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %0 = glm.gemm %a, %b {transB = 1 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// A gemm whose B is not constant keeps its transpose for the lowering.
// CHECK-LABEL: func.func @gemm_dynamic_b
func.func @gemm_dynamic_b(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<2x4xf32> {
  // CHECK: glm.gemm %arg0, %arg1 {transB = 1 : i64}
  %0 = glm.gemm %a, %b {transB = 1 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @identity_cast_and_transpose
func.func @identity_cast_and_transpose(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = glm.cast %x {to = f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = glm.transpose %0 {perm = [0, 1]} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: return %arg0
  return %1 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @range_and_where
func.func @range_and_where() -> tensor<4xi64> {
  %s = glm.constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %l = glm.constant {value = dense<4> : tensor<i64>} : tensor<i64>
  %d = glm.constant {value = dense<1> : tensor<i64>} : tensor<i64>
  %r = glm.range %s, %l, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
  %two = glm.constant {value = dense<2> : tensor<i64>} : tensor<i64>
  %lt = glm.less %r, %two : (tensor<4xi64>, tensor<i64>) -> tensor<4xi1>
  %z = glm.constant {value = dense<0> : tensor<i64>} : tensor<i64>
  %w = glm.where %lt, %r, %z : (tensor<4xi1>, tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
  // CHECK: %[[C:.+]] = glm.constant {value = dense<[0, 1, 0, 0]> : tensor<4xi64>}
  // CHECK-NEXT: return %[[C]]
  return %w : tensor<4xi64>
}

// -----

// A split of a static dim becomes one slice per piece (what --prune's
// channel analysis follows); a dynamic dim keeps the split.
// CHECK-LABEL: func.func @split_to_slices
func.func @split_to_slices(%x: tensor<?x6xf32>) -> (tensor<?x2xf32>, tensor<?x4xf32>) {
  // CHECK-DAG: %[[C0:.+]] = glm.constant {value = dense<0> : tensor<1xi64>}
  // CHECK-DAG: %[[C1:.+]] = glm.constant {value = dense<1> : tensor<1xi64>}
  // CHECK-DAG: %[[C2:.+]] = glm.constant {value = dense<2> : tensor<1xi64>}
  // CHECK-DAG: %[[C6:.+]] = glm.constant {value = dense<6> : tensor<1xi64>}
  // CHECK-NOT: glm.split
  // CHECK: %[[A:.+]] = glm.slice %arg0, %[[C0]], %[[C2]], %[[C1]] {{.*}} -> tensor<?x2xf32>
  // CHECK: %[[B:.+]] = glm.slice %arg0, %[[C2]], %[[C6]], %[[C1]] {{.*}} -> tensor<?x4xf32>
  // CHECK: return %[[A]], %[[B]]
  %a, %b = glm.split %x {axis = -1 : i64, split = [2, 4]} : (tensor<?x6xf32>) -> (tensor<?x2xf32>, tensor<?x4xf32>)
  return %a, %b : tensor<?x2xf32>, tensor<?x4xf32>
}

// CHECK-LABEL: func.func @split_dynamic_dim
func.func @split_dynamic_dim(%x: tensor<?x6xf32>) -> (tensor<?x6xf32>, tensor<?x6xf32>) {
  // CHECK: glm.split
  // CHECK-NOT: glm.slice
  %a, %b = glm.split %x {axis = 0 : i64} : (tensor<?x6xf32>) -> (tensor<?x6xf32>, tensor<?x6xf32>)
  return %a, %b : tensor<?x6xf32>, tensor<?x6xf32>
}

// -----

// reshape(reshape(x)) reshapes x to the outer result: a 0 in the outer
// target copied a dim of the inner result, not of x.
// CHECK-LABEL: func.func @double_reshape_copy_dims
func.func @double_reshape_copy_dims(%x: tensor<3x4x2x2xf32>) -> tensor<3x2x8xf32> {
  // CHECK: %[[S:.+]] = glm.constant {value = dense<[3, 2, 8]> : tensor<3xi64>}
  // CHECK: %[[R:.+]] = glm.reshape %arg0, %[[S]] : (tensor<3x4x2x2xf32>, tensor<3xi64>) -> tensor<3x2x8xf32>
  // CHECK-NEXT: return %[[R]]
  %s5 = glm.constant {value = dense<[3, 2, 2, 2, 2]> : tensor<5xi64>} : tensor<5xi64>
  %r5 = glm.reshape %x, %s5 : (tensor<3x4x2x2xf32>, tensor<5xi64>) -> tensor<3x2x2x2x2xf32>
  %s3 = glm.constant {value = dense<[0, 0, -1]> : tensor<3xi64>} : tensor<3xi64>
  %r3 = glm.reshape %r5, %s3 : (tensor<3x2x2x2x2xf32>, tensor<3xi64>) -> tensor<3x2x8xf32>
  return %r3 : tensor<3x2x8xf32>
}

// -----

// An entry of a shape whose dim is static folds even when other dims are
// dynamic; integer reductions of small constants fold.
// CHECK-LABEL: func.func @static_shape_entry
func.func @static_shape_entry(%x: tensor<?x1x?x8xf32>) -> (tensor<i64>, tensor<i64>) {
  // CHECK-DAG: %[[E:.+]] = glm.constant {value = dense<8> : tensor<i64>}
  // CHECK-DAG: %[[M:.+]] = glm.constant {value = dense<5> : tensor<i64>}
  // CHECK-NOT: glm.shape
  // CHECK-NOT: glm.reduce_max
  // CHECK: return %[[E]], %[[M]]
  %s = glm.shape %x : (tensor<?x1x?x8xf32>) -> tensor<4xi64>
  %i = glm.constant {value = dense<3> : tensor<i64>} : tensor<i64>
  %e = glm.gather %s, %i : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %c = glm.constant {value = dense<[2, 5, 1]> : tensor<3xi64>} : tensor<3xi64>
  %m = glm.reduce_max %c {keepdims = 0 : i64} : (tensor<3xi64>) -> tensor<i64>
  return %e, %m : tensor<i64>, tensor<i64>
}
