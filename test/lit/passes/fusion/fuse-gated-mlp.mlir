// RUN: glm-opt %s -glm-fuse-linear -glm-fuse-gated-mlp -canonicalize -split-input-file | FileCheck %s

// GLM-4's MLP as exported: gate first, silu spelled g * sigmoid(g).
// CHECK-LABEL: func.func @swiglu
// CHECK-NEXT: %[[Y:.*]] = glm.gated_mlp %arg0, %arg1, %arg2 : (tensor<?x?x4xf32>, tensor<4x12xf32>, tensor<6x4xf32>) -> tensor<?x?x4xf32>
// CHECK-NEXT: return %[[Y]]
func.func @swiglu(%x: tensor<?x?x4xf32>, %wgu: tensor<4x12xf32>, %wd: tensor<6x4xf32>) -> tensor<?x?x4xf32> {
  %c0 = glm.constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c6 = glm.constant {value = dense<6> : tensor<1xi64>} : tensor<1xi64>
  %c12 = glm.constant {value = dense<12> : tensor<1xi64>} : tensor<1xi64>
  %cm1 = glm.constant {value = dense<-1> : tensor<1xi64>} : tensor<1xi64>
  %h = glm.mat_mul %x, %wgu : (tensor<?x?x4xf32>, tensor<4x12xf32>) -> tensor<?x?x12xf32>
  %g = glm.slice %h, %c0, %c6, %cm1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<?x?x12xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x6xf32>
  %u = glm.slice %h, %c6, %c12, %cm1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<?x?x12xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?x6xf32>
  %sg = glm.sigmoid %g : (tensor<?x?x6xf32>) -> tensor<?x?x6xf32>
  %a = glm.mul %g, %sg : (tensor<?x?x6xf32>, tensor<?x?x6xf32>) -> tensor<?x?x6xf32>
  %m = glm.mul %u, %a : (tensor<?x?x6xf32>, tensor<?x?x6xf32>) -> tensor<?x?x6xf32>
  %y = glm.mat_mul %m, %wd : (tensor<?x?x6xf32>, tensor<6x4xf32>) -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// Up first, glm.gelu: gate_first = false, activation gelu.
// CHECK-LABEL: func.func @geglu_up_first
// CHECK: glm.gated_mlp %arg0, %arg1, %arg2 {activation = "gelu", gate_first = false}
func.func @geglu_up_first(%x: tensor<2x4xf32>, %wgu: tensor<4x12xf32>, %wd: tensor<6x4xf32>) -> tensor<2x4xf32> {
  %c0 = glm.constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c6 = glm.constant {value = dense<6> : tensor<1xi64>} : tensor<1xi64>
  %cbig = glm.constant {value = dense<9223372036854775807> : tensor<1xi64>} : tensor<1xi64>
  %c1 = glm.constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %h = glm.mat_mul %x, %wgu : (tensor<2x4xf32>, tensor<4x12xf32>) -> tensor<2x12xf32>
  %u = glm.slice %h, %c0, %c6, %c1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x12xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x6xf32>
  %g = glm.slice %h, %c6, %cbig, %c1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x12xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x6xf32>
  %a = glm.gelu %g : (tensor<2x6xf32>) -> tensor<2x6xf32>
  %m = glm.mul %a, %u : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
  %y = glm.mat_mul %m, %wd : (tensor<2x6xf32>, tensor<6x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Not a gated MLP: the slices do not split the projection in halves, and
// the gate/up projection has another user.
// CHECK-LABEL: func.func @negative
// CHECK-NOT: glm.gated_mlp
// CHECK: return
func.func @negative(%x: tensor<2x4xf32>, %wgu: tensor<4x12xf32>, %wd: tensor<5x4xf32>, %wd6: tensor<6x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x12xf32>) {
  %c0 = glm.constant {value = dense<0> : tensor<1xi64>} : tensor<1xi64>
  %c5 = glm.constant {value = dense<5> : tensor<1xi64>} : tensor<1xi64>
  %c6 = glm.constant {value = dense<6> : tensor<1xi64>} : tensor<1xi64>
  %c7 = glm.constant {value = dense<7> : tensor<1xi64>} : tensor<1xi64>
  %c12 = glm.constant {value = dense<12> : tensor<1xi64>} : tensor<1xi64>
  %c1 = glm.constant {value = dense<1> : tensor<1xi64>} : tensor<1xi64>
  %h = glm.mat_mul %x, %wgu : (tensor<2x4xf32>, tensor<4x12xf32>) -> tensor<2x12xf32>
  %g = glm.slice %h, %c0, %c5, %c1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x12xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x5xf32>
  %u = glm.slice %h, %c7, %c12, %c1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x12xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x5xf32>
  %a = glm.silu %g : (tensor<2x5xf32>) -> tensor<2x5xf32>
  %m = glm.mul %a, %u : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
  %y = glm.mat_mul %m, %wd : (tensor<2x5xf32>, tensor<5x4xf32>) -> tensor<2x4xf32>
  %h2 = glm.mat_mul %x, %wgu : (tensor<2x4xf32>, tensor<4x12xf32>) -> tensor<2x12xf32>
  %g2 = glm.slice %h2, %c0, %c6, %c1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x12xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x6xf32>
  %u2 = glm.slice %h2, %c6, %c12, %c1 {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x12xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x6xf32>
  %a2 = glm.silu %g2 : (tensor<2x6xf32>) -> tensor<2x6xf32>
  %m2 = glm.mul %a2, %u2 : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
  %y2 = glm.mat_mul %m2, %wd6 : (tensor<2x6xf32>, tensor<6x4xf32>) -> tensor<2x4xf32>
  return %y, %y2, %h2 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x12xf32>
}
