// RUN: glm-opt %s -glm-emit-entry-point | FileCheck %s

// The lowered model function takes (input descriptor, weights descriptor)
// and returns one descriptor; the wrapper reads them from glm_call_t.
// CHECK-LABEL: llvm.func internal @main(
llvm.func @main(%a0: !llvm.ptr, %a1: !llvm.ptr, %a2: i64, %a3: i64, %a4: i64, %a5: i64, %a6: i64,
                %w0: !llvm.ptr, %w1: !llvm.ptr, %w2: i64, %w3: i64, %w4: i64)
    -> !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
    attributes {glm.entry, glm.result_elem_bytes = array<i64: 4>} {
  %0 = llvm.mlir.poison : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
  llvm.return %0 : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
}
// CHECK-LABEL: llvm.func @glm_entry_main(
// CHECK-SAME: %[[CALL:.+]]: !llvm.ptr) -> i32
// Weights, inputs and outputs pointers from glm_call_t:
// CHECK: llvm.getelementptr %[[CALL]][0, 2]
// CHECK: llvm.getelementptr %[[CALL]][0, 3]
// CHECK: llvm.getelementptr %[[CALL]][0, 4]
// Input 0: data pointer and two dims.
// CHECK: llvm.getelementptr %{{.*}}[0, 2, 0]
// CHECK: llvm.getelementptr %{{.*}}[0, 2, 1]
// CHECK: %[[R:.+]] = llvm.call @main(
// Output 0: data, allocation, two dims.
// CHECK: llvm.extractvalue %[[R]][0]
// CHECK: llvm.extractvalue %[[R]][1]
// CHECK: llvm.extractvalue %[[R]][3, 0]
// CHECK: llvm.extractvalue %[[R]][3, 1]
// CHECK: llvm.return %{{.*}} : i32
