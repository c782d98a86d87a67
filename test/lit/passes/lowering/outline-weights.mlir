// RUN: glm-opt %s -glm-outline-weights -allow-unregistered-dialect | FileCheck %s

// Constant globals move into one 64-byte aligned blob (module attribute
// glm.weights); the function reads them through a trailing byte buffer.
memref.global "private" constant @a : memref<2xf32> = dense<[1.0, 2.0]>
memref.global "private" constant @b : memref<3xi32> = dense<[7, 8, 9]>

// CHECK: module attributes {glm.weights = dense_resource<glm_weights> : tensor<128xi8>}
// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[X:.+]]: memref<2xf32>, %[[W:.+]]: memref<?xi8>) -> memref<2xf32>
// CHECK-SAME: glm.result_elem_bytes = array<i64: 4>
func.func @main(%x: memref<2xf32>) -> memref<2xf32> attributes {glm.entry} {
  // CHECK: %[[OA:.+]] = arith.constant 0 : index
  // CHECK: memref.view %[[W]][%[[OA]]][] : memref<?xi8> to memref<2xf32>
  %a = memref.get_global @a : memref<2xf32>
  // CHECK: %[[OB:.+]] = arith.constant 64 : index
  // CHECK: memref.view %[[W]][%[[OB]]][] : memref<?xi8> to memref<3xi32>
  %b = memref.get_global @b : memref<3xi32>
  "test.use"(%a, %b) : (memref<2xf32>, memref<3xi32>) -> ()
  return %x : memref<2xf32>
}
// 1.0f, 2.0f, then 7, 8, 9 at offset 64:
// CHECK: glm_weights: "0x400000000000803F00000040{{(00)+}}070000000800000009000000{{(00)+}}"
