// RUN: glm-opt %s -glm-outline-parallel-loops | FileCheck %s

// A 2-d parallel loop of the model function becomes one task function over
// a collapsed range and a call to its dispatch declaration.
// CHECK-LABEL: func.func @main
// CHECK-NOT: scf.parallel
// Constants are not captured: only the buffer is passed.
// CHECK: call @glm_dispatch_0(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %arg0) : (index, index, index, index, memref<4x8xf32>) -> ()
func.func @main(%buf: memref<4x8xf32>) attributes {glm.entry} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    memref.store %cst, %buf[%i, %j] : memref<4x8xf32>
  }
  return
}
// CHECK: func.func private @glm_task_0(%[[B:.+]]: index, %[[E:.+]]: index, %{{.*}}: index, %{{.*}}: index, %[[M:.+]]: memref<4x8xf32>)
// CHECK: arith.constant 1.000000e+00 : f32
// CHECK: scf.for %{{.*}} = %[[B]] to %[[E]]
// CHECK: memref.store %{{.*}}, %[[M]]
// CHECK: func.func private @glm_dispatch_0({{.*}}) attributes {glm.grain = 1 : i64, glm.task = @glm_task_0}
