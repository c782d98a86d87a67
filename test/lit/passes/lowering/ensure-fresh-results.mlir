// RUN: glm-opt %s -glm-ensure-fresh-results -split-input-file | FileCheck %s

// Returning an argument or a view of it: copied into a new allocation.
// CHECK-LABEL: func.func @returns_argument_view
func.func @returns_argument_view(%a: memref<2x3xf32>) -> memref<6xf32> {
  %v = memref.collapse_shape %a [[0, 1]] : memref<2x3xf32> into memref<6xf32>
  // CHECK: %[[N:.+]] = memref.alloc() {alignment = 64 : i64} : memref<6xf32>
  // CHECK: memref.copy %{{.*}}, %[[N]]
  // CHECK: return %[[N]]
  return %v : memref<6xf32>
}

// -----

// A fresh allocation is handed over as is; returning it twice copies the
// second so that the caller never frees one block twice.
// CHECK-LABEL: func.func @fresh_and_duplicate
func.func @fresh_and_duplicate(%n: index) -> (memref<?xf32>, memref<?xf32>) {
  // CHECK: %[[A:.+]] = memref.alloc(%arg0) : memref<?xf32>
  %a = memref.alloc(%n) : memref<?xf32>
  // CHECK: %[[D:.+]] = memref.dim %[[A]]
  // CHECK: %[[B:.+]] = memref.alloc(%[[D]]) {alignment = 64 : i64} : memref<?xf32>
  // CHECK: memref.copy %[[A]], %[[B]]
  // CHECK: return %[[A]], %[[B]]
  return %a, %a : memref<?xf32>, memref<?xf32>
}

// -----

// Constants (globals) are copied too.
memref.global "private" constant @c : memref<2xf32> = dense<[1.0, 2.0]>
// CHECK-LABEL: func.func @returns_global
func.func @returns_global() -> memref<2xf32> {
  %g = memref.get_global @c : memref<2xf32>
  // CHECK: memref.alloc
  // CHECK: memref.copy
  return %g : memref<2xf32>
}
