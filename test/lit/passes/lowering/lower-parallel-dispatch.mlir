// RUN: glm-opt %s -glm-lower-parallel-dispatch | FileCheck %s

llvm.func @glm_task_0(%b: i64, %e: i64, %p: !llvm.ptr) {
  llvm.return
}
llvm.func @glm_dispatch_0(i64, i64, !llvm.ptr) attributes {glm.task = @glm_task_0}

// The captured pointer is stored into a stack struct allocated in the entry
// block; glm_parallel_for gets the trampoline and the struct.
// CHECK-LABEL: llvm.func @main
// CHECK: %[[SLOT:.+]] = llvm.alloca %{{.*}} x !llvm.struct<(ptr)>
// CHECK: llvm.store %arg0, %{{.*}}
// CHECK: %[[F:.+]] = llvm.mlir.addressof @glm_trampoline_0
// CHECK: llvm.call @glm_parallel_for(%{{.*}}, %{{.*}}, %[[F]], %[[SLOT]])
llvm.func @main(%p: !llvm.ptr) {
  %n = llvm.mlir.constant(16 : i64) : i64
  %g = llvm.mlir.constant(1 : i64) : i64
  llvm.call @glm_dispatch_0(%n, %g, %p) : (i64, i64, !llvm.ptr) -> ()
  llvm.return
}
// CHECK-NOT: @glm_dispatch_0
// CHECK: llvm.func internal @glm_trampoline_0(%[[A:.+]]: !llvm.ptr, %[[BEGIN:.+]]: i64, %[[END:.+]]: i64)
// CHECK: %[[V:.+]] = llvm.load
// CHECK: llvm.call @glm_task_0(%[[BEGIN]], %[[END]], %[[V]])
