// RUN: glm-opt %s -glm-outline-weights -allow-unregistered-dialect -split-input-file | FileCheck %s

// Constant globals are laid out in one 64-byte aligned blob (module
// attribute glm.weights: size, offsets, the constants; the packager writes
// the bytes, test/unit/compiler/WeightsTest.cpp); the function reads them
// through a trailing byte buffer.
memref.global "private" constant @a : memref<2xf32> = dense<[1.0, 2.0]>
memref.global "private" constant @b : memref<3xi32> = dense<[7, 8, 9]>

// CHECK: module attributes {glm.weights = {offsets = array<i64: 0, 64>, panels = array<i64: 0, 0>, size = 128 : i64,
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

// -----

// A packed weight (glm-pack-weights) has no initial value: its bytes are
// those of glm.panels_of in panel order, which the layout records as its
// panel width (the packager writes them); it is read like any other
// constant, at its offset.
memref.global "private" constant @p : memref<2x2x4xf32> {alignment = 64 : i64, glm.panel_width = 4 : i64, glm.panels_of = dense<1.0> : tensor<2x8xf32>}
memref.global "private" constant @a : memref<2xf32> = dense<[1.0, 2.0]>

// CHECK: module attributes {glm.weights = {offsets = array<i64: 0, 64>, panels = array<i64: 0, 4>, size = 128 : i64,
// CHECK-SAME: values = [dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>, dense<1.000000e+00> : tensor<2x8xf32>]}}
// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @main
// CHECK: %[[OP:.+]] = arith.constant 64 : index
// CHECK: memref.view %{{.*}}[%[[OP]]][] : memref<?xi8> to memref<2x2x4xf32>
func.func @main(%x: memref<2xf32>) -> memref<2xf32> attributes {glm.entry} {
  %a = memref.get_global @a : memref<2xf32>
  %p = memref.get_global @p : memref<2x2x4xf32>
  "test.use"(%a, %p) : (memref<2xf32>, memref<2x2x4xf32>) -> ()
  return %x : memref<2xf32>
}
