// RUN: glm-opt %s -glm-tile-and-vectorize="vector-bits=512 num-registers=32 vnni=1" | FileCheck %s --check-prefix=VNNI
// RUN: glm-opt %s -glm-tile-and-vectorize="vector-bits=256 num-registers=16" | FileCheck %s --check-prefix=AVX2
// RUN: glm-opt %s -glm-tile-and-vectorize="vector-bits=128 num-registers=32 dotprod=1" | FileCheck %s --check-prefix=SDOT
// RUN: glm-opt %s -glm-tile-and-vectorize="vector-bits=256 num-registers=16 pmaddwd=1" | FileCheck %s --check-prefix=PMADD

// An int8 convolution (i8 x i8 into a zero-filled i32 accumulator) with
// vnni=1 has the weights as one i32 per 4 bytes of a row ([F rounded up to 6
// rows, K/4 = 9]), each row's accumulator start -128 * its weight sum
// (16 rows of 36 weights of 1: -4608; the 2 padding rows 0), im2col
// packed in quads with the sign bit flipped, 6 x 4 vectors of 16 lanes
// per tile, one glm.dot4_accumulate per row and vector.
// VNNI-LABEL: func.func @conv
// VNNI-DAG: arith.constant dense<[-4608, {{.*}}, -4608, 0, 0]> : tensor<18xi32>
// VNNI-DAG: arith.constant dense<"0x01010101{{.*}}01010101{{(00)+}}"> : tensor<18x9xi32>
// VNNI: vector.interleave
// VNNI: scf.forall (%{{.*}}, %{{.*}}) in (3, 1)
// VNNI-COUNT-24: glm.dot4_accumulate
// VNNI: tensor.extract_slice %{{.*}}[0, 0] [16, 36] [1, 1] : tensor<18x64xi32> to tensor<16x36xi32>
// With dotprod (sdot takes int8 on both sides): no sign-bit flip, the
// accumulators start at 0, 4 pixels a vector (tiles of 6 rows x 16).
// SDOT-LABEL: func.func @conv
// SDOT-NOT: arith.xori
// SDOT: scf.forall (%{{.*}}, %{{.*}}) in (3, 3) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<18x48xi32>)
// SDOT-COUNT-24: glm.dot4_accumulate {{.*}} {a_signed} : vector<4xi32>
// With pmaddwd (AVX2): im2col rows in pairs widened to int16 (K 36 = 18
// pairs), the weights as 2 x int16 per i32, tiles of 6 rows x 2 vectors
// of 8 lanes.
// PMADD-LABEL: func.func @conv
// PMADD: arith.extsi %{{.*}} : vector<16xi8> to vector<16xi16>
// PMADD: vector.interleave %{{.*}}, %{{.*}} : vector<16xi16> -> vector<32xi16>
// PMADD: scf.forall (%{{.*}}, %{{.*}}) in (3, 3) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<18x48xi32>)
// PMADD-COUNT-12: glm.dot2_accumulate {{.*}} : vector<8xi32>
// Without any of them: the im2col contraction in i32 outer products.
// AVX2-LABEL: func.func @conv
// AVX2-NOT: glm.dot4_accumulate
// AVX2: arith.muli %{{.*}} : vector<{{[0-9]+}}xi32>
func.func @conv(%x: tensor<1x4x6x6xi8>) -> tensor<1x16x6x6xi32> {
  %w = arith.constant dense<1> : tensor<16x4x3x3xi8>
  %c0 = arith.constant 0 : i32
  %cpad = arith.constant -5 : i8
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %cpad : i8
  } : tensor<1x4x6x6xi8> to tensor<1x4x8x8xi8>
  %e = tensor.empty() : tensor<1x16x6x6xi32>
  %z = linalg.fill ins(%c0 : i32) outs(%e : tensor<1x16x6x6xi32>) -> tensor<1x16x6x6xi32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%p, %w : tensor<1x4x8x8xi8>, tensor<16x4x3x3xi8>) outs(%z : tensor<1x16x6x6xi32>) -> tensor<1x16x6x6xi32>
  return %y : tensor<1x16x6x6xi32>
}

// A large im2col (K 288 = 72 quads x P 256) is packed by one parallel task
// per quad.
// VNNI-LABEL: func.func @large
// VNNI: scf.forall (%{{.*}}) in (72) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<72x1024xi8>)
// VNNI: vector.interleave
// VNNI: tensor.parallel_insert_slice %{{.*}} into %{{.*}}[%{{.*}}, 0] [1, 1024] [1, 1]
// VNNI: glm.dot4_accumulate
func.func @large(%x: tensor<1x32x16x16xi8>) -> tensor<1x16x16x16xi32> {
  %w = arith.constant dense<1> : tensor<16x32x3x3xi8>
  %c0 = arith.constant 0 : i32
  %cpad = arith.constant 3 : i8
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %cpad : i8
  } : tensor<1x32x16x16xi8> to tensor<1x32x18x18xi8>
  %e = tensor.empty() : tensor<1x16x16x16xi32>
  %z = linalg.fill ins(%c0 : i32) outs(%e : tensor<1x16x16x16xi32>) -> tensor<1x16x16x16xi32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%p, %w : tensor<1x32x18x18xi8>, tensor<16x32x3x3xi8>) outs(%z : tensor<1x16x16x16xi32>) -> tensor<1x16x16x16xi32>
  return %y : tensor<1x16x16x16xi32>
}

// The dequantizing element-wise op after the convolution (here with a
// residual read whole) runs inside the kernel's tiles: they write floats,
// no separate pass over the i32 result is left.
// VNNI-LABEL: func.func @epilogue
// VNNI: scf.forall (%{{.*}}, %{{.*}}) in (3, 1) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<18x64xf32>)
// VNNI: glm.dot4_accumulate
// VNNI: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// VNNI: vector.transfer_read %{{.*}} : tensor<16x36xf32>, vector<16xf32>
// VNNI: arith.addf %{{.*}} : vector<16xf32>
// VNNI-NOT: linalg.generic
// VNNI: return
func.func @epilogue(%x: tensor<1x4x6x6xi8>, %res: tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32> {
  %w = arith.constant dense<1> : tensor<16x4x3x3xi8>
  %m = arith.constant dense<0.5> : tensor<16xf32>
  %c0 = arith.constant 0 : i32
  %cpad = arith.constant -5 : i8
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %cpad : i8
  } : tensor<1x4x6x6xi8> to tensor<1x4x8x8xi8>
  %e = tensor.empty() : tensor<1x16x6x6xi32>
  %z = linalg.fill ins(%c0 : i32) outs(%e : tensor<1x16x6x6xi32>) -> tensor<1x16x6x6xi32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%p, %w : tensor<1x4x8x8xi8>, tensor<16x4x3x3xi8>) outs(%z : tensor<1x16x6x6xi32>) -> tensor<1x16x6x6xi32>
  %ef = tensor.empty() : tensor<1x16x6x6xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c)>,
                                        affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (n, c, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
       ins(%y, %m, %res : tensor<1x16x6x6xi32>, tensor<16xf32>, tensor<1x16x6x6xf32>) outs(%ef : tensor<1x16x6x6xf32>) {
  ^bb0(%a: i32, %s: f32, %q: f32, %o: f32):
    %f = arith.sitofp %a : i32 to f32
    %t = arith.mulf %f, %s : f32
    %u = arith.addf %t, %q : f32
    linalg.yield %u : f32
  } -> tensor<1x16x6x6xf32>
  return %r : tensor<1x16x6x6xf32>
}
