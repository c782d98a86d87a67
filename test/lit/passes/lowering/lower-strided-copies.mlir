// RUN: glm-opt %s -glm-lower-strided-copies | FileCheck %s
// RUN: glm-opt %s -glm-lower-strided-copies="vector-bits=128" | FileCheck %s --check-prefix=NEON

// Rows with a static unit-stride innermost dim move as vectors: 20 floats
// are 8 + 8 + 4 with 256-bit vectors (4 x 4 + 4 with 128-bit ones), in a
// loop over the rows.
// CHECK-LABEL: func.func @rows
// CHECK-NOT: memref.copy
// CHECK: scf.for %[[I:.*]] = %c0 to %{{.*}} step %c1
// CHECK: %[[A:.*]] = vector.load %{{.*}}[%[[I]], %c0{{.*}}] : memref<3x20xf32, strided<[32, 1], offset: 5>>, vector<8xf32>
// CHECK: vector.store %[[A]], %arg1[%[[I]], %c0{{.*}}] : memref<3x20xf32>, vector<8xf32>
// CHECK: vector.load %{{.*}}[%[[I]], %c8{{.*}}] {{.*}} vector<8xf32>
// CHECK: vector.load %{{.*}}[%[[I]], %c16{{.*}}] {{.*}} vector<4xf32>
// NEON-LABEL: func.func @rows
// NEON-COUNT-5: vector.load {{.*}} vector<4xf32>
func.func @rows(%a: memref<4x32xf32>, %b: memref<3x20xf32>) {
  %s = memref.subview %a[0, 5] [3, 20] [1, 1] : memref<4x32xf32> to memref<3x20xf32, strided<[32, 1], offset: 5>>
  memref.copy %s, %b : memref<3x20xf32, strided<[32, 1], offset: 5>> to memref<3x20xf32>
  return
}

// Long rows loop over vector-sized chunks.
// CHECK-LABEL: func.func @long_rows
// CHECK: scf.for
// CHECK: scf.for %[[J:.*]] = %c0{{.*}} to %c256{{.*}} step %c8
// CHECK: vector.load %{{.*}}[%{{.*}}, %[[J]]] {{.*}} vector<8xf32>
func.func @long_rows(%a: memref<2x512xf32>, %b: memref<2x256xf32>) {
  %s = memref.subview %a[0, 0] [2, 256] [1, 1] : memref<2x512xf32> to memref<2x256xf32, strided<[512, 1]>>
  memref.copy %s, %b : memref<2x256xf32, strided<[512, 1]>> to memref<2x256xf32>
  return
}

// A column (inner stride 4) or a dynamic row length: element by element.
// CHECK-LABEL: func.func @column
// CHECK: linalg.copy ins(%{{.*}} : memref<4xf32, strided<[4]>>) outs(%arg1 : memref<4xf32>)
func.func @column(%a: memref<4x4xf32>, %b: memref<4xf32>) {
  %s = memref.subview %a[0, 0] [4, 1] [1, 1] : memref<4x4xf32> to memref<4xf32, strided<[4]>>
  memref.copy %s, %b : memref<4xf32, strided<[4]>> to memref<4xf32>
  return
}
// CHECK-LABEL: func.func @dynamic_rows
// CHECK: linalg.copy
func.func @dynamic_rows(%a: memref<4x?xf32, strided<[?, 1]>>, %b: memref<4x?xf32>) {
  memref.copy %a, %b : memref<4x?xf32, strided<[?, 1]>> to memref<4x?xf32>
  return
}

// Contiguous copies stay: they become llvm.memcpy.
// CHECK-LABEL: func.func @contiguous
func.func @contiguous(%a: memref<8xf32>, %b: memref<8xf32>) {
  // CHECK: memref.copy %arg0, %arg1
  memref.copy %a, %b : memref<8xf32> to memref<8xf32>
  return
}
