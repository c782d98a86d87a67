// RUN: glm-opt %s -glm-tile-and-vectorize="vector-bits=256 num-registers=16" -canonicalize | FileCheck %s --check-prefix=AVX2
// RUN: glm-opt %s -glm-tile-and-vectorize="vector-bits=128 num-registers=32" -canonicalize | FileCheck %s --check-prefix=NEON

// A matmul with a dynamic M: parallel output tiles (scf.forall), a K loop,
// a 6x16 (AVX2) / 8x8 (NEON) register tile kept in registers across K
// (loop-carried vector), FMAs, and a scalar remainder for partial tiles.
// AVX2-LABEL: func.func @matmul
// AVX2: scf.forall
// AVX2: scf.for
// AVX2: %[[ACC:.+]] = vector.transfer_read {{.*}} vector<6x16xf32>
// AVX2: scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<6x16xf32>)
// AVX2-COUNT-6: vector.fma {{.*}} : vector<16xf32>
// AVX2: vector.transfer_write {{.*}} : vector<6x16xf32>
// NEON-LABEL: func.func @matmul
// NEON: scf.for {{.*}} -> (vector<8x8xf32>)
// NEON-COUNT-8: vector.fma {{.*}} : vector<8xf32>
func.func @matmul(%a: tensor<?x512xf32>, %b: tensor<512x256xf32>, %c: tensor<?x256xf32>) -> tensor<?x256xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<?x512xf32>, tensor<512x256xf32>) outs(%c : tensor<?x256xf32>) -> tensor<?x256xf32>
  return %r : tensor<?x256xf32>
}

// A convolution goes through im2col into the same contraction path.
// AVX2-LABEL: func.func @conv
// AVX2-NOT: linalg.conv_2d_nchw_fchw
// AVX2: linalg.generic
// AVX2: vector.fma
func.func @conv(%x: tensor<1x8x10x10xf32>, %w: tensor<16x8x3x3xf32>, %o: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x10x10xf32>, tensor<16x8x3x3xf32>) outs(%o : tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  return %r : tensor<1x16x8x8xf32>
}
