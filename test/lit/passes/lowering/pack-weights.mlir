// RUN: glm-opt %s -glm-pack-weights -split-input-file | FileCheck %s
// RUN: glm-opt %s -glm-pack-weights="vector-bits=512 num-registers=32" -split-input-file | FileCheck %s --check-prefix=AVX512

// A constant weight [K, N] read by matmuls only becomes one global of
// panels [N/NR, K, NR] (NR = 16 for AVX2's default options, 32 for
// AVX-512) that names the weight it is made of; the weights writer lays
// out its bytes. Each matmul becomes the contraction over [M, N/NR, NR]
// views of its output; both matmuls of the shared weight read one global.
// CHECK: memref.global "private" constant @__glm_panels_0 : memref<2x4x16xf32>
// CHECK-SAME: alignment = 64
// CHECK-SAME: glm.panel_width = 16 : i64
// CHECK-SAME: glm.panels_of = dense<{{.*}}> : tensor<4x32xf32>
// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @shared
// CHECK-NOT: arith.constant dense
// CHECK: %[[G:.*]] = memref.get_global @__glm_panels_0 : memref<2x4x16xf32>
// CHECK: %[[WP:.*]] = bufferization.to_tensor %[[G]] restrict : memref<2x4x16xf32> to tensor<2x4x16xf32>
// CHECK: %[[C3:.*]] = tensor.expand_shape %arg2 {{\[\[}}0], [1, 2]] output_shape [%{{.*}}, 2, 16] : tensor<?x32xf32> into tensor<?x2x16xf32>
// CHECK: %[[Y3:.*]] = linalg.generic {indexing_maps = [#[[A:.*]], #[[B:.*]], #[[C:.*]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%arg0, %[[WP]] : tensor<?x4xf32>, tensor<2x4x16xf32>) outs(%[[C3]] : tensor<?x2x16xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.collapse_shape %[[Y3]] {{\[\[}}0], [1, 2]] : tensor<?x2x16xf32> into tensor<?x32xf32>
// CHECK: memref.get_global @__glm_panels_0
// CHECK: linalg.generic
// CHECK-NOT: linalg.matmul
// CHECK: return
//
// With AVX-512's NR = 32 the weight is one panel, already in panel layout:
// it stays.
// AVX512-NOT: memref.global
// AVX512-LABEL: func.func @shared
// AVX512-COUNT-2: linalg.matmul
func.func @shared(%x: tensor<?x4xf32>, %x2: tensor<3x4xf32>, %c: tensor<?x32xf32>, %c2: tensor<3x32xf32>) -> (tensor<?x32xf32>, tensor<3x32xf32>) {
  %w = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0],
                             [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0],
                             [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0],
                             [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0]]> : tensor<4x32xf32>
  %y = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x32xf32>) outs(%c : tensor<?x32xf32>) -> tensor<?x32xf32>
  %y2 = linalg.matmul ins(%x2, %w : tensor<3x4xf32>, tensor<4x32xf32>) outs(%c2 : tensor<3x32xf32>) -> tensor<3x32xf32>
  return %y, %y2 : tensor<?x32xf32>, tensor<3x32xf32>
}

// -----

// Left as they are: N not a multiple of NR, a splat weight, a weight that
// something else reads too, a weight that is the A operand.
// CHECK-NOT: memref.global
// CHECK-LABEL: func.func @unchanged
// CHECK-COUNT-4: linalg.matmul
// CHECK-NOT: linalg.generic
func.func @unchanged(%x: tensor<2x4xf32>, %c24: tensor<2x24xf32>, %c32: tensor<2x32xf32>, %w24: tensor<4x24xf32>) -> (tensor<2x24xf32>, tensor<2x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>) {
  %r = arith.constant dense_resource<r24> : tensor<4x24xf32>
  %y1 = linalg.matmul ins(%x, %r : tensor<2x4xf32>, tensor<4x24xf32>) outs(%c24 : tensor<2x24xf32>) -> tensor<2x24xf32>
  %s = arith.constant dense<1.0> : tensor<4x32xf32>
  %y2 = linalg.matmul ins(%x, %s : tensor<2x4xf32>, tensor<4x32xf32>) outs(%c32 : tensor<2x32xf32>) -> tensor<2x32xf32>
  %u = arith.constant dense_resource<r32> : tensor<4x32xf32>
  %a = arith.constant dense_resource<r44> : tensor<4x4xf32>
  %c44 = tensor.empty() : tensor<4x32xf32>
  %y3 = linalg.matmul ins(%a, %u : tensor<4x4xf32>, tensor<4x32xf32>) outs(%c44 : tensor<4x32xf32>) -> tensor<4x32xf32>
  %e = tensor.empty() : tensor<4x32xf32>
  %neg = linalg.negf ins(%u : tensor<4x32xf32>) outs(%e : tensor<4x32xf32>) -> tensor<4x32xf32>
  %y4 = linalg.matmul ins(%a, %neg : tensor<4x4xf32>, tensor<4x32xf32>) outs(%c44 : tensor<4x32xf32>) -> tensor<4x32xf32>
  return %y1, %y2, %y3, %y4 : tensor<2x24xf32>, tensor<2x32xf32>, tensor<4x32xf32>, tensor<4x32xf32>
}

{-#
  dialect_resources: {
    builtin: {
      r24: "0x04000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
      r32: "0x04000000",
      r44: "0x04000000"
    }
  }
#-}
