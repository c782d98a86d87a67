// RUN: glm-opt %s -glm-outline-weights -allow-unregistered-dialect | FileCheck %s

// Constant globals are laid out in one 64-byte aligned blob (module
// attribute glm.weights: size, offsets, the constants; the packager writes
// the bytes, test/unit/compiler/WeightsTest.cpp); the function reads them
// through a trailing byte buffer.
memref.global "private" constant @a : memref<2xf32> = dense<[1.0, 2.0]>
memref.global "private" constant @b : memref<3xi32> = dense<[7, 8, 9]>

// CHECK: module attributes {glm.weights = {offsets = array<i64: 0, 64>, size = 128 : i64,
// CHECK-SAME: values = [dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>, dense<[7, 8, 9]> : tensor<3xi32>]}}
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
