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
// repeat; K transposed once per K/V head). One scf.forall over (K/V head,
// block of query rows); per block the scores are a matmul against K^T,
// scaled and masked (the additive mask read at the row's query position),
// softmaxed along the row, multiplied by V and divided by the row sums.
// The 6 rows fit one block; no [b, hq, s, t] temporary exists.
// CHECK-LABEL: func.func @attention
// CHECK: tensor.expand_shape %arg0 {{\[\[}}0], [1, 2], [3], [4]] output_shape [1, 2, 2, 3, 16]
// CHECK: %[[Q:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1], [2, 3], [4]] : tensor<1x2x2x3x16xf32> into tensor<2x6x16xf32>
// CHECK: %[[K:.*]] = tensor.collapse_shape %arg1 {{\[\[}}0, 1], [2], [3]] : tensor<1x2x5x16xf32> into tensor<2x5x16xf32>
// CHECK: %[[V:.*]] = tensor.collapse_shape %arg2
// CHECK: %[[KT:.*]] = linalg.transpose ins(%[[K]] : tensor<2x5x16xf32>) outs(%{{.*}} : tensor<2x16x5xf32>) permutation = [0, 2, 1]
// CHECK: scf.forall (%[[N:.*]], %[[R:.*]]) = (0, 0) to (2, 6) step (1, 6)
// CHECK-DAG: %[[QB:.*]] = tensor.extract_slice %[[Q]][%[[N]], %[[R]], 0] [1, 6, 16] [1, 1, 1] : tensor<2x6x16xf32> to tensor<6x16xf32>
// CHECK-DAG: %[[KB:.*]] = tensor.extract_slice %[[KT]][%[[N]], 0, 0] [1, 16, 5] [1, 1, 1] : tensor<2x16x5xf32> to tensor<16x5xf32>
// CHECK-DAG: %[[VB:.*]] = tensor.extract_slice %[[V]][%[[N]], 0, 0] [1, 5, 16] [1, 1, 1] : tensor<2x5x16xf32> to tensor<5x16xf32>
// CHECK: %[[S:.*]] = linalg.matmul ins(%[[QB]], %[[KB]] : tensor<6x16xf32>, tensor<16x5xf32>)
// CHECK: %[[L:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<6x5xf32>)
// CHECK: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK: arith.mulf %{{.*}}, %[[SCALE]]
// CHECK: %[[QI:.*]] = arith.remui
// CHECK: tensor.extract %arg3[%{{.*}}, %{{.*}}, %[[QI]], %{{.*}}] : tensor<1x1x3x5xf32>
// CHECK: linalg.reduce ins(%[[L]] : tensor<6x5xf32>) {{.*}} dimensions = [1]
// CHECK: arith.maximumf
// CHECK: %[[E:.*]] = linalg.generic
// CHECK: math.exp
// CHECK: %[[SUM:.*]] = linalg.reduce ins(%[[E]] : tensor<6x5xf32>) {{.*}} dimensions = [1]
// CHECK: %[[PV:.*]] = linalg.matmul ins(%[[E]], %[[VB]] : tensor<6x5xf32>, tensor<5x16xf32>)
// CHECK: %[[O:.*]] = linalg.generic {{.*}} ins(%[[PV]], %[[SUM]] : tensor<6x16xf32>, tensor<6xf32>)
// CHECK: arith.divf
// CHECK: tensor.parallel_insert_slice %[[O]] into %{{.*}}[%[[N]], %[[R]], 0] [1, 6, 16] [1, 1, 1]
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3], [4]] : tensor<1x2x2x3x16xf32> into tensor<1x4x3x16xf32>
func.func @attention(%q: tensor<1x4x3x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %m: tensor<1x1x3x5xf32>) -> tensor<1x4x3x16xf32> {
  %y = glm.attention %q, %k, %v, %m {scale = 0.25 : f32} : (tensor<1x4x3x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x1x3x5xf32>) -> tensor<1x4x3x16xf32>
  return %y : tensor<1x4x3x16xf32>
}

// -----

// attention with a computed mask and dynamic shapes: per key, its position
// or INT64_MAX where the padding mask hides it ([batch, t], once); per
// block of 64 rows, the rows' query positions; the score loop compares the
// two (no gather, no [b, 1, s, t] mask).
// CHECK-LABEL: func.func @attention_computed_mask
// CHECK: %[[HIDDEN:.*]] = arith.constant 9223372036854775807 : i64
// CHECK: %[[KEYPOS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?x?xi64>)
// CHECK: %[[KP:.*]] = tensor.extract %arg4
// CHECK: %[[KM:.*]] = tensor.extract %arg5
// CHECK: arith.select %[[KM]], %[[KP]], %[[HIDDEN]] : i64
// CHECK: scf.forall (%{{.*}}, %[[R:.*]]) = (0, 0) to (%{{.*}}, %{{.*}}) step (1, 64)
// CHECK: %[[S:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<?x16xf32>, tensor<16x?xf32>)
// CHECK: %[[ROWPOS:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<?xi64>)
// CHECK: tensor.extract %arg3
// CHECK: %[[KEYS:.*]] = tensor.extract_slice %[[KEYPOS]][%{{.*}}, 0] [1, %{{.*}}] [1, 1] : tensor<?x?xi64> to tensor<?xi64>
// CHECK: linalg.generic {{.*}} ins(%[[S]], %[[ROWPOS]], %[[KEYS]] : tensor<?x?xf32>, tensor<?xi64>, tensor<?xi64>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[QPOS:.*]]: i64, %[[KPOS:.*]]: i64, %{{.*}}: f32):
// CHECK-NOT: tensor.extract
// CHECK: %[[VIS:.*]] = arith.cmpi sle, %[[KPOS]], %[[QPOS]] : i64
// CHECK: arith.select %[[VIS]], %{{.*}}, %{{.*}} : f32
// CHECK: linalg.matmul
// CHECK: tensor.parallel_insert_slice
func.func @attention_computed_mask(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>, %qp: tensor<?xi64>, %kp: tensor<?xi64>, %km: tensor<?x?xi1>) -> tensor<?x4x?x16xf32> {
  %m = glm.attention_mask %qp, %kp, %km {masked_value = -3.40282347E+38 : f32} : (tensor<?xi64>, tensor<?xi64>, tensor<?x?xi1>) -> tensor<?x1x?x?xf32>
  %y = glm.attention %q, %k, %v, %m {scale = 0.25 : f32} : (tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x1x?x?xf32>) -> tensor<?x4x?x16xf32>
  return %y : tensor<?x4x?x16xf32>
}

// -----

// attention_mask used outside an attention: one generic over
// [batch, 1, s, t].
// CHECK-LABEL: func.func @attention_mask_alone
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1, %arg2 : tensor<3xi64>, tensor<5xi64>, tensor<2x5xi1>) outs(%{{.*}} : tensor<2x1x3x5xf32>)
// CHECK-NEXT: ^bb0(%[[Q:.*]]: i64, %[[K:.*]]: i64, %[[M:.*]]: i1, %{{.*}}: f32):
// CHECK: %[[C:.*]] = arith.cmpi sle, %[[K]], %[[Q]] : i64
// CHECK: %[[V:.*]] = arith.andi %[[C]], %[[M]] : i1
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[MASKED:.*]] = arith.constant -1.000000e+09 : f32
// CHECK: arith.select %[[V]], %[[ZERO]], %[[MASKED]] : f32
func.func @attention_mask_alone(%qp: tensor<3xi64>, %kp: tensor<5xi64>, %km: tensor<2x5xi1>) -> tensor<2x1x3x5xf32> {
  %m = glm.attention_mask %qp, %kp, %km {masked_value = -1.0e+09 : f32} : (tensor<3xi64>, tensor<5xi64>, tensor<2x5xi1>) -> tensor<2x1x3x5xf32>
  return %m : tensor<2x1x3x5xf32>
}

// -----

// f16 attention accumulates in f32: both products write f32, the mask is
// extended, the softmax runs in f32, and the output rounds to f16 once.
// CHECK-LABEL: func.func @attention_f16
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x8xf16>, tensor<8x5xf16>) outs(%{{.*}} : tensor<3x5xf32>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: math.exp %{{.*}} : f32
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x5xf32>, tensor<5x8xf16>) outs(%{{.*}} : tensor<3x8xf32>)
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @attention_f16(%q: tensor<1x2x3x8xf16>, %k: tensor<1x2x5x8xf16>, %v: tensor<1x2x5x8xf16>, %m: tensor<1x1x3x5xf16>) -> tensor<1x2x3x8xf16> {
  %y = glm.attention %q, %k, %v, %m {scale = 0.25 : f32} : (tensor<1x2x3x8xf16>, tensor<1x2x5x8xf16>, tensor<1x2x5x8xf16>, tensor<1x1x3x5xf16>) -> tensor<1x2x3x8xf16>
  return %y : tensor<1x2x3x8xf16>
}
