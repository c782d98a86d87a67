// RUN: glm-opt %s --glm-lower-to-linalg -split-input-file | FileCheck %s

// linear: the leading dims collapse into M, the bias initialises the
// accumulator of one linalg.matmul.
// CHECK-LABEL: func.func @linear
// CHECK: %[[X:.*]] = tensor.collapse_shape %arg0 {{\[\[}}0, 1], [2]] : tensor<?x?x4xf32> into tensor<?x4xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%arg2 : tensor<3xf32>)
// CHECK: linalg.matmul ins(%[[X]], %arg1 : tensor<?x4xf32>, tensor<4x3xf32>) outs(%[[INIT]] : tensor<?x3xf32>)
func.func @linear(%x: tensor<?x?x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<?x?x3xf32> {
  %y = glm.linear %x, %w, %b : (tensor<?x?x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<?x?x3xf32>
  return %y : tensor<?x?x3xf32>
}

// -----

// gated_mlp: matmul, gate and up as slices of it, one element-wise generic,
// matmul.
// CHECK-LABEL: func.func @gated_mlp
// CHECK: %[[H:.*]] = linalg.matmul ins({{.*}}, %arg1 : tensor<2x4xf32>, tensor<4x12xf32>)
// CHECK-DAG: %[[G:.*]] = tensor.extract_slice %[[H]][0, 0] [2, 6] [1, 1]
// CHECK-DAG: %[[U:.*]] = tensor.extract_slice %[[H]][0, 6] [2, 6] [1, 1]
// CHECK: %[[M:.*]] = linalg.generic {{.*}} ins(%[[G]], %[[U]] : tensor<2x6xf32>, tensor<2x6xf32>)
// CHECK: math.exp
// CHECK: linalg.matmul ins(%[[M]], %arg2 : tensor<2x6xf32>, tensor<6x4xf32>)
func.func @gated_mlp(%x: tensor<2x4xf32>, %wgu: tensor<4x12xf32>, %wd: tensor<6x4xf32>) -> tensor<2x4xf32> {
  %y = glm.gated_mlp %x, %wgu, %wd : (tensor<2x4xf32>, tensor<4x12xf32>, tensor<6x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// rms_norm: one reduction of squares, one generic with rsqrt and the scale.
// CHECK-LABEL: func.func @rms_norm
// CHECK: %[[S:.*]] = linalg.reduce ins(%arg0 : tensor<?x8xf32>) {{.*}} dimensions = [1]
// CHECK: arith.mulf
// CHECK: linalg.generic {{.*}} ins(%arg0, %[[S]], %arg1 : tensor<?x8xf32>, tensor<?xf32>, tensor<8xf32>)
// CHECK: math.rsqrt
func.func @rms_norm(%x: tensor<?x8xf32>, %w: tensor<8xf32>) -> tensor<?x8xf32> {
  %y = glm.rms_norm %x, %w : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// rotary, interleaved and partial: the pair elements are stride-2 slices of
// the first 8 dims, one generic computes both rotated elements, the other
// 8 dims are copied.
// CHECK-LABEL: func.func @rotary
// CHECK-DAG: %[[A:.*]] = tensor.extract_slice %arg0[0, 0, 0, 0] [1, 2, 3, 4] [1, 1, 1, 2]
// CHECK-DAG: %[[B:.*]] = tensor.extract_slice %arg0[0, 0, 0, 1] [1, 2, 3, 4] [1, 1, 1, 2]
// CHECK: %[[R:.*]]:2 = linalg.generic {{.*}} ins(%[[A]], %[[B]], %arg1, %arg2
// CHECK: tensor.insert_slice %[[R]]#0 into %{{.*}}[0, 0, 0, 0] [1, 2, 3, 4] [1, 1, 1, 2]
// CHECK: tensor.insert_slice %[[R]]#1 into %{{.*}}[0, 0, 0, 1] [1, 2, 3, 4] [1, 1, 1, 2]
// CHECK: %[[P:.*]] = tensor.extract_slice %arg0[0, 0, 0, 8] [1, 2, 3, 8] [1, 1, 1, 1]
// CHECK: tensor.insert_slice %[[P]] into %{{.*}}[0, 0, 0, 8] [1, 2, 3, 8] [1, 1, 1, 1]
func.func @rotary(%x: tensor<1x2x3x16xf32>, %c: tensor<1x1x3x4xf32>, %s: tensor<1x1x3x4xf32>) -> tensor<1x2x3x16xf32> {
  %y = glm.rotary %x, %c, %s {interleaved = true} : (tensor<1x2x3x16xf32>, tensor<1x1x3x4xf32>, tensor<1x1x3x4xf32>) -> tensor<1x2x3x16xf32>
  return %y : tensor<1x2x3x16xf32>
}

// -----

// attention with 4 query heads over 2 K/V heads: Q is viewed as
// [b*kv, g*s, d] (a reshape), K and V as [b*kv, t, d] and read in place (no
// repeat; K transposed once per K/V head), both products batch_matmuls, the
// mask broadcast on the [b, kv, g, s, t] view of the scores.
// CHECK-LABEL: func.func @attention
// CHECK: tensor.expand_shape %arg0 {{\[\[}}0], [1, 2], [3], [4]] output_shape [1, 2, 2, 3, 16]
// CHECK: %[[Q:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2, 3], [4]] : tensor<1x2x2x3x16xf32> into tensor<2x6x16xf32>
// CHECK: %[[K:.*]] = tensor.collapse_shape %arg1 {{\[\[}}0, 1], [2], [3]] : tensor<1x2x5x16xf32> into tensor<2x5x16xf32>
// CHECK: %[[KT:.*]] = linalg.transpose ins(%[[K]] : tensor<2x5x16xf32>) outs(%{{.*}} : tensor<2x16x5xf32>) permutation = [0, 2, 1]
// CHECK: linalg.batch_matmul ins(%[[Q]], %[[KT]] : tensor<2x6x16xf32>, tensor<2x16x5xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %arg3 : tensor<1x2x2x3x5xf32>, tensor<1x1x3x5xf32>)
// CHECK: linalg.reduce {{.*}} dimensions = [4]
// CHECK: math.exp
// CHECK: linalg.reduce {{.*}} dimensions = [4]
// CHECK: linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<2x6x5xf32>, tensor<2x5x16xf32>)
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x2x3x16xf32> into tensor<1x4x3x16xf32>
func.func @attention(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %m: tensor<1x1x3x5xf32>) -> tensor<1x4x3x16xf32> {
  %y = glm.attention %q, %k, %v, %m {scale = 0.25 : f32} : (tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x1x3x5xf32>) -> tensor<1x4x3x16xf32>
  return %y : tensor<1x4x3x16xf32>
}
