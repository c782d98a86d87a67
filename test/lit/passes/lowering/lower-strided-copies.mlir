// RUN: glm-opt %s -glm-lower-strided-copies | FileCheck %s

// CHECK-LABEL: func.func @strided
func.func @strided(%a: memref<4x4xf32>, %b: memref<2x2xf32>) {
  %s = memref.subview %a[1, 1] [2, 2] [1, 1] : memref<4x4xf32> to memref<2x2xf32, strided<[4, 1], offset: 5>>
  // CHECK-NOT: memref.copy
  // CHECK: linalg.copy ins(%{{.*}} : memref<2x2xf32, strided<[4, 1], offset: 5>>) outs(%arg1 : memref<2x2xf32>)
  memref.copy %s, %b : memref<2x2xf32, strided<[4, 1], offset: 5>> to memref<2x2xf32>
  return
}

// Contiguous copies stay: they become llvm.memcpy.
// CHECK-LABEL: func.func @contiguous
func.func @contiguous(%a: memref<8xf32>, %b: memref<8xf32>) {
  // CHECK: memref.copy %arg0, %arg1
  memref.copy %a, %b : memref<8xf32> to memref<8xf32>
  return
}
