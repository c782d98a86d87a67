// RUN: glm-opt %s -split-input-file -glm-insert-profile-marks | FileCheck %s

// The top-level work of the model function is grouped by ONNX node names:
// of the op, of the ops nested in it and of the parallel task it
// dispatches. Consecutive ops that share a node are one layer; ops without
// a known node go with the layer before; allocations and views are not
// work. Op, shape, FLOPs and bytes come from glm.profile_layers, summed
// over a layer's nodes.
// CHECK: glm.profile_table = {{\[}}["/conv + /relu", "conv+relu", "1x8", 100, 74], ["/fc", "gemm", "1x2", 32, 20]]
// The first layer starts with the function (its allocations count in it).
// CHECK-LABEL: func.func @main
// CHECK-NEXT: %[[C0:.+]] = arith.constant 0 : i32
// CHECK-NEXT: call @glm_profile_mark(%[[C0]]) : (i32) -> ()
// CHECK: %[[A:.+]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT: scf.for
// CHECK-NOT: glm_profile_mark
// CHECK: call @glm_dispatch_0
// CHECK-NOT: glm_profile_mark
// CHECK: memref.copy %[[A]]
// CHECK-NOT: glm_profile_mark
// CHECK: memref.copy %arg0
// CHECK: %[[C1:.+]] = arith.constant 1 : i32
// CHECK-NEXT: call @glm_profile_mark(%[[C1]])
// CHECK-NEXT: scf.for
// CHECK: %[[END:.+]] = arith.constant -1 : i32
// CHECK-NEXT: call @glm_profile_mark(%[[END]])
// CHECK-NEXT: return
// CHECK: func.func private @glm_profile_mark(i32)
module attributes {glm.profile_layers = {"/conv" = ["conv", "1x8", 100, 10], "/relu" = ["relu", "1x8", 0, 64], "/fc" = ["gemm", "1x2", 32, 20]}} {
  func.func @main(%x: memref<8xf32>, %y: memref<8xf32>) -> memref<8xf32> attributes {glm.entry} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    %cst = arith.constant 0.0 : f32
    // Not work: an allocation goes with the layer around it.
    %a = memref.alloc() : memref<8xf32> loc("/conv")
    // /conv's first nest (im2col-like) and its second, with /relu fused in.
    scf.for %i = %c0 to %c8 step %c1 {
      %v = memref.load %x[%i] : memref<8xf32> loc("/conv")
      memref.store %v, %a[%i] : memref<8xf32> loc("/conv")
    } loc("/conv")
    func.call @glm_dispatch_0(%c8, %c1, %a) : (index, index, memref<8xf32>) -> () loc("/conv")
    // No node name: stays in the layer before.
    memref.copy %a, %y : memref<8xf32> to memref<8xf32>
    // A name the table does not know (a weight) is not a layer of its own.
    %w = memref.alloc() : memref<8xf32> loc("fc.weight")
    memref.copy %x, %w : memref<8xf32> to memref<8xf32> loc("fc.weight")
    %o = memref.alloc() : memref<8xf32> loc("/fc")
    scf.for %i = %c0 to %c8 step %c1 {
      %v = memref.load %w[%i] : memref<8xf32>
      memref.store %v, %o[%i] : memref<8xf32>
    } loc("/fc")
    return %o : memref<8xf32>
  }
  func.func private @glm_task_0(%b: index, %e: index, %a: memref<8xf32>) {
    %c1 = arith.constant 1 : index
    %cst = arith.constant 0.0 : f32
    scf.for %i = %b to %e step %c1 {
      %v = memref.load %a[%i] : memref<8xf32> loc("/conv")
      %r = arith.maximumf %v, %cst : f32 loc("/relu")
      memref.store %r, %a[%i] : memref<8xf32> loc("/relu")
    }
    return
  }
  func.func private @glm_dispatch_0(index, index, memref<8xf32>) attributes {glm.task = @glm_task_0}
}

// -----

// Without glm.profile_layers every name is a layer (op, shape, FLOPs and
// bytes empty); work before the first named op is the layer "(model)"; a
// node that comes back after another keeps its id.
// CHECK: glm.profile_table = {{\[}}["(model)", "", "", 0, 0], ["/a", "", "", 0, 0], ["/b", "", "", 0, 0]]
// CHECK-LABEL: func.func @main
// CHECK: arith.constant 0 : i32
// CHECK-NEXT: call @glm_profile_mark
// CHECK-NEXT: memref.copy %arg0, %arg1
// CHECK-NEXT: arith.constant 1 : i32
// CHECK-NEXT: call @glm_profile_mark
// CHECK-NEXT: memref.copy %arg1, %arg0
// CHECK-NEXT: arith.constant 2 : i32
// CHECK-NEXT: call @glm_profile_mark
// CHECK-NEXT: memref.copy %arg0, %arg1
// CHECK-NEXT: arith.constant 1 : i32
// CHECK-NEXT: call @glm_profile_mark
// CHECK-NEXT: memref.copy %arg1, %arg0
// CHECK-NEXT: arith.constant -1 : i32
// CHECK-NEXT: call @glm_profile_mark
// CHECK-NEXT: return
func.func @main(%x: memref<8xf32>, %y: memref<8xf32>) attributes {glm.entry} {
  memref.copy %x, %y : memref<8xf32> to memref<8xf32>
  memref.copy %y, %x : memref<8xf32> to memref<8xf32> loc("/a")
  memref.copy %x, %y : memref<8xf32> to memref<8xf32> loc("/b")
  memref.copy %y, %x : memref<8xf32> to memref<8xf32> loc("/a")
  return
}
