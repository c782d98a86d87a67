// RUN: glm-opt %s -glm-lower-to-linalg -canonicalize -split-input-file | FileCheck %s
// RUN: glm-opt %s -glm-lower-to-linalg -canonicalize -split-input-file -glm-lower-index-reports | FileCheck %s --check-prefix=CALL

// A gather over run-time indices checks them first: every index outside
// [-size, size) is reported with glm.report_index_error naming the node
// (the gather clamps, so memory stays safe; the runtime fails the run).
// CHECK-LABEL: func.func @gather
// CHECK: scf.for %[[I:.+]] = %c0 to %c2 step %c1
// CHECK: scf.for %[[J:.+]] = %c0 to %c3 step %c1
// CHECK: %[[V:.+]] = tensor.extract %arg1[%[[I]], %[[J]]] : tensor<2x3xi64>
// CHECK: %[[LO:.+]] = arith.cmpi slt, %[[V]], %c-50_i64
// CHECK: %[[HI:.+]] = arith.cmpi sge, %[[V]], %c50_i64
// CHECK: %[[BAD:.+]] = arith.ori %[[LO]], %[[HI]]
// CHECK: scf.if %[[BAD]]
// CHECK: glm.report_index_error %[[V]], %c50_i64 {site = "node '/embed/Gather': Gather index"}
// CHECK: linalg.generic
// CALL: func.func private @glm_index_error(!llvm.ptr, i64, i64)
// CALL: llvm.mlir.global internal constant @glm_site_0("node '/embed/Gather': Gather index\00")
// CALL-LABEL: func.func @gather
// CALL: %[[P:.+]] = llvm.mlir.addressof @glm_site_0 : !llvm.ptr
// CALL: func.call @glm_index_error(%[[P]], %{{.+}}, %c50_i64) : (!llvm.ptr, i64, i64) -> ()
// CALL-NOT: glm.report_index_error
func.func @gather(%emb: tensor<50x8xf32>, %ids: tensor<2x3xi64>) -> tensor<2x3x8xf32> {
  %0 = glm.gather %emb, %ids {axis = 0 : i64} : (tensor<50x8xf32>, tensor<2x3xi64>) -> tensor<2x3x8xf32> loc("/embed/Gather")
  return %0 : tensor<2x3x8xf32>
}

// -----

// GatherND: the bound depends on the index component (the last dim).
// CHECK-LABEL: func.func @gather_nd
// CHECK: scf.for
// CHECK: scf.for %[[K:.+]] = %c0 to %c2 step %c1
// CHECK: %[[IS1:.+]] = arith.cmpi eq, %[[K]], %c1
// CHECK: %[[B:.+]] = arith.select %[[IS1]], %c4, %c5
// CHECK: glm.report_index_error %{{.+}}, %{{.+}} {site = "node 'nd': GatherND index"}
func.func @gather_nd(%d: tensor<5x4x3xf32>, %i: tensor<7x2xi64>) -> tensor<7x3xf32> {
  %0 = glm.gather_nd %d, %i : (tensor<5x4x3xf32>, tensor<7x2xi64>) -> tensor<7x3xf32> loc("nd")
  return %0 : tensor<7x3xf32>
}

// -----

// Constant indices in range need no check.
// CHECK-LABEL: func.func @constant_indices
// CHECK-NOT: scf.for
// CHECK-NOT: glm.report_index_error
// CHECK: linalg.generic
func.func @constant_indices(%d: tensor<5x4xf32>) -> tensor<2x4xf32> {
  %i = glm.constant {value = dense<[4, -5]> : tensor<2xi64>} : tensor<2xi64>
  %0 = glm.gather %d, %i {axis = 0 : i64} : (tensor<5x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// ScatterND: the same check on the target index, and the write clamps (an
// index out of range must not write outside the tensor).
// CHECK-LABEL: func.func @scatter_nd
// CHECK: glm.report_index_error %{{.+}}, %c6_i64 {site = "node 'sc': ScatterND index"}
// CHECK: scf.for
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: tensor.insert
func.func @scatter_nd(%d: tensor<6x4xf32>, %i: tensor<2x1xi64>, %u: tensor<2x4xf32>) -> tensor<6x4xf32> {
  %0 = glm.scatter_nd %d, %i, %u : (tensor<6x4xf32>, tensor<2x1xi64>, tensor<2x4xf32>) -> tensor<6x4xf32> loc("sc")
  return %0 : tensor<6x4xf32>
}
