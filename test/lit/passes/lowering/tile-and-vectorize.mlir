// RUN: glm-opt %s -glm-tile-and-vectorize="vector-bits=256 num-registers=16" -canonicalize | FileCheck %s --check-prefix=AVX2
// RUN: glm-opt %s -glm-tile-and-vectorize="vector-bits=128 num-registers=32" -canonicalize | FileCheck %s --check-prefix=NEON
// RUN: glm-opt %s -glm-tile-and-vectorize="vector-bits=512 num-registers=32" -canonicalize | FileCheck %s --check-prefix=AVX512

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

// A convolution becomes an im2col matrix [K, P] (K = 8*3*3, P = 8*8
// output pixels) written one row of OW pixels at a time with vector
// copies, and the contraction W[16, 72] x col[72, 64] on the matmul path.
// This matrix is small (under 64K elements): one flat loop over the 576
// rows (c, kh, kw, oh), not a parallel task per channel (@conv_large).
// The matmul with the remainder tile below keeps its accumulator in
// registers across the K loop (a padded tile's bounds fold first).
// AVX2-LABEL: func.func @conv(
// AVX2-NOT: linalg.conv_2d_nchw_fchw
// AVX2: scf.for %{{.*}} = %c0 to %c576 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (tensor<72x64xf32>)
// AVX2: %[[ROW:.+]] = vector.transfer_read %arg0{{.*}} {in_bounds = [true]} : tensor<1x8x10x10xf32>, vector<8xf32>
// AVX2: vector.transfer_write %[[ROW]], {{.*}} : vector<8xf32>, tensor<72x64xf32>
// AVX2: vector.fma {{.*}} : vector<16xf32>
// AVX2-NOT: linalg.generic
func.func @conv(%x: tensor<1x8x10x10xf32>, %w: tensor<16x8x3x3xf32>, %o: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x10x10xf32>, tensor<16x8x3x3xf32>) outs(%o : tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  return %r : tensor<1x16x8x8xf32>
}

// A large im2col matrix (16*9 rows of 32*32 pixels) is written by one
// parallel task per input channel (its 9 rows), each row of 32 pixels in
// chunks of one register (8 floats on AVX2).
// AVX2-LABEL: func.func @conv_large
// AVX2: scf.forall (%[[C:.+]]) in (16) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<144x1024xf32>)
// AVX2: tensor.extract_slice {{.*}} [9, 1024] [1, 1] : tensor<144x1024xf32> to tensor<9x1024xf32>
// AVX2: vector.transfer_read %arg0[%c0, %[[C]], {{.*}} {in_bounds = [true]} : tensor<1x16x34x34xf32>, vector<8xf32>
// AVX2-NEXT: vector.transfer_write {{.*}} : vector<8xf32>, tensor<9x1024xf32>
// AVX2-COUNT-3: vector.transfer_write {{.*}} : vector<8xf32>, tensor<9x1024xf32>
// AVX2: tensor.parallel_insert_slice
func.func @conv_large(%x: tensor<1x16x34x34xf32>, %w: tensor<16x16x3x3xf32>, %o: tensor<1x16x32x32xf32>) -> tensor<1x16x32x32xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x16x34x34xf32>, tensor<16x16x3x3xf32>) outs(%o : tensor<1x16x32x32xf32>) -> tensor<1x16x32x32xf32>
  return %r : tensor<1x16x32x32xf32>
}

// A stride-2 convolution whose 7x7 output (49 columns) is not a whole
// number of register tiles: each im2col row of 7 pixels is two chunks of 4
// (columns 0-3 and 3-6), each a load of the strided span (7 elements) and
// a shuffle picking every second one; the last 1 of the 49 columns (three
// 16-wide tiles on AVX2, and a remainder) is a remainder tile padded to a
// whole vector, its accumulator kept in registers across K.
// AVX2-LABEL: func.func @conv_stride2
// AVX2: %[[SPAN:.+]] = vector.transfer_read %arg0{{.*}} : tensor<1x4x15x15xf32>, vector<7xf32>
// AVX2: vector.shuffle %[[SPAN]], %[[SPAN]] [0, 2, 4, 6] : vector<7xf32>, vector<7xf32>
// AVX2: vector.transfer_write {{.*}} : vector<4xf32>, tensor<36x49xf32>
// AVX2: vector.transfer_write {{.*}} : vector<4xf32>, tensor<36x49xf32>
// AVX2: vector.fma {{.*}} : vector<16xf32>
// AVX2: %[[ACC:.+]] = vector.transfer_read {{.*}} {in_bounds = [true, false]} : tensor<6x1xf32>, vector<6x16xf32>
// AVX2: scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<6x16xf32>)
// AVX2: vector.transfer_read {{.*}} : tensor<1x1xf32>, vector<16xf32>
func.func @conv_stride2(%x: tensor<1x4x15x15xf32>, %w: tensor<16x4x3x3xf32>, %o: tensor<1x16x7x7xf32>) -> tensor<1x16x7x7xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<1x4x15x15xf32>, tensor<16x4x3x3xf32>) outs(%o : tensor<1x16x7x7xf32>) -> tensor<1x16x7x7xf32>
  return %r : tensor<1x16x7x7xf32>
}

// A 1x1 stride-1 convolution reads its input as the B matrix directly: no
// im2col copy.
// AVX2-LABEL: func.func @conv_1x1
// AVX2: tensor.collapse_shape %arg0 {{\[}}[0, 1], [2, 3]] : tensor<1x8x8x8xf32> into tensor<8x64xf32>
// AVX2-NOT: tensor.empty() : tensor<8x64xf32>
// AVX2: vector.fma {{.*}} : vector<16xf32>
func.func @conv_1x1(%x: tensor<1x8x8x8xf32>, %w: tensor<16x8x1x1xf32>, %o: tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x8x8xf32>, tensor<16x8x1x1xf32>) outs(%o : tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  return %r : tensor<1x16x8x8xf32>
}

// A convolution's bias init (a per-channel broadcast) and its element-wise
// consumer (here ReLU) are fused into the contraction's parallel tiles:
// each tile writes its bias, accumulates over K and applies the ReLU while
// the tile is in cache, vectorized; no separate pass over the output.
// AVX2-LABEL: func.func @conv_bias_relu
// AVX2: vector.transfer_read %arg2{{.*}} : tensor<32xf32>, vector<1xf32>
// AVX2: vector.transfer_write {{.*}} : vector<16xf32>
// AVX2: scf.for {{.*}} -> (vector<6x16xf32>)
// AVX2-COUNT-6: vector.fma {{.*}} : vector<16xf32>
// AVX2: arith.maximumf {{.*}} : vector<16xf32>
// AVX2-NOT: linalg.generic
// AVX2: return
#bias_c = affine_map<(n, c, h, w) -> (c)>
#id_4 = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @conv_bias_relu(%x: tensor<1x8x10x10xf32>, %w: tensor<32x8x3x3xf32>, %b: tensor<32xf32>) -> tensor<1x32x8x8xf32> {
  %e = tensor.empty() : tensor<1x32x8x8xf32>
  %init = linalg.generic {indexing_maps = [#bias_c, #id_4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<32xf32>) outs(%e : tensor<1x32x8x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  } -> tensor<1x32x8x8xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x10x10xf32>, tensor<32x8x3x3xf32>) outs(%init : tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32>
  %r = linalg.generic {indexing_maps = [#id_4, #id_4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : tensor<1x32x8x8xf32>) outs(%e : tensor<1x32x8x8xf32>) {
  ^bb0(%in: f32, %o: f32):
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %in, %z : f32
    linalg.yield %m : f32
  } -> tensor<1x32x8x8xf32>
  return %r : tensor<1x32x8x8xf32>
}

// A depthwise convolution is a direct kernel: one parallel task per
// channel, the channel's 9 weights broadcast once, and per output row
// accumulators of one power-of-two width (4 of the 6 pixels here; on
// AVX-512 16 of a 56-pixel row) updated by 9 FMAs over input pixels, the
// last one ending with the row and overlapping the one before (columns 0
// and 2); stride 2: a load of 2 x 4 pixels and an even-lane shuffle. Each
// chunk starts from the row as it came in, all read before the first write
// (the overlap is computed twice; a read after the write would make
// bufferization copy the row).
// AVX2-LABEL: func.func @depthwise
// AVX2: scf.forall (%[[C:.+]]) in (8)
// AVX2-COUNT-9: vector.broadcast {{.*}} : f32 to vector<4xf32>
// AVX2: scf.for %[[Y:.+]] = {{.*}} iter_args(%[[PLANE:.+]] = %{{.*}})
// AVX2: vector.transfer_read %[[PLANE]][%[[Y]], %c0]{{.*}} : tensor<6x6xf32>, vector<4xf32>
// AVX2-NEXT: vector.transfer_read %[[PLANE]][%[[Y]], %c2]{{.*}} : tensor<6x6xf32>, vector<4xf32>
// AVX2: %[[P:.+]] = vector.transfer_read %arg0[%c0, %[[C]], {{.*}} : tensor<1x8x13x13xf32>, vector<8xf32>
// AVX2: vector.shuffle %[[P]], %{{.*}} [0, 2, 4, 6] : vector<8xf32>, vector<8xf32>
// AVX2-COUNT-9: vector.fma {{.*}} : vector<4xf32>
// AVX2: %[[W:.+]] = vector.transfer_write {{.*}}, %[[PLANE]][%[[Y]], %c0] {{.*}} : vector<4xf32>, tensor<6x6xf32>
// AVX2-NOT: vector.transfer_read %[[PLANE]]
// AVX2-COUNT-9: vector.fma {{.*}} : vector<4xf32>
// AVX2: vector.transfer_write {{.*}}, %[[W]][%[[Y]], %c2] {{.*}} : vector<4xf32>, tensor<6x6xf32>
// AVX2: tensor.parallel_insert_slice
// AVX2-NOT: linalg.depthwise_conv_2d_nchw_chw
func.func @depthwise(%x: tensor<1x8x13x13xf32>, %w: tensor<8x3x3xf32>, %o: tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32> {
  %r = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : tensor<1x8x13x13xf32>, tensor<8x3x3xf32>) outs(%o : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  return %r : tensor<1x8x6x6xf32>
}

// A depthwise convolution's bias init starts each accumulator row (no
// pass over the output before it) and its element-wise consumer (ReLU6
// here) is applied to each row before the store; neither stays a generic.
// AVX2-LABEL: func.func @depthwise_bias_relu6
// AVX2: scf.forall (%[[C:.+]]) in (8)
// AVX2: %[[B:.+]] = tensor.extract %arg2[%[[C]]] : tensor<8xf32>
// AVX2: %[[ROW:.+]] = vector.broadcast %[[B]] : f32 to vector<4xf32>
// AVX2: scf.for
// AVX2-NOT: vector.transfer_read %{{.*}} : tensor<6x6xf32>
// AVX2: vector.fma {{.*}}, %[[ROW]] : vector<4xf32>
// AVX2-COUNT-8: vector.fma {{.*}} : vector<4xf32>
// AVX2: arith.maximumf {{.*}} : vector<4xf32>
// AVX2: arith.minimumf {{.*}} : vector<4xf32>
// AVX2: vector.transfer_write {{.*}} : vector<4xf32>, tensor<6x6xf32>
// AVX2: vector.fma {{.*}}, %[[ROW]] : vector<4xf32>
// AVX2-NOT: linalg.generic
// AVX2: return
func.func @depthwise_bias_relu6(%x: tensor<1x8x8x8xf32>, %w: tensor<8x3x3xf32>, %b: tensor<8xf32>) -> tensor<1x8x6x6xf32> {
  %e = tensor.empty() : tensor<1x8x6x6xf32>
  %init = linalg.generic {indexing_maps = [#bias_c, #id_4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<8xf32>) outs(%e : tensor<1x8x6x6xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  } -> tensor<1x8x6x6xf32>
  %c = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x8x8x8xf32>, tensor<8x3x3xf32>) outs(%init : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %r = linalg.generic {indexing_maps = [#id_4, #id_4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c : tensor<1x8x6x6xf32>) outs(%e : tensor<1x8x6x6xf32>) {
  ^bb0(%in: f32, %o: f32):
    %z = arith.constant 0.0 : f32
    %six = arith.constant 6.0 : f32
    %lo = arith.maximumf %in, %z : f32
    %hi = arith.minimumf %lo, %six : f32
    linalg.yield %hi : f32
  } -> tensor<1x8x6x6xf32>
  return %r : tensor<1x8x6x6xf32>
}

// A zero tensor.pad of a convolution's input is not materialized: the
// kernels read the unpadded input, skip kernel rows over the top and bottom
// padding (scf.if) and shuffle zeros into the columns over the left and
// right padding: a whole-vector load from where it lies inside the row, and
// lanes of a zero vector (index 4 and up) where the padding is; inside the
// row, plain loads. A conv's im2col writes zero rows where a kernel row lies
// over the padding.
// AVX2-LABEL: func.func @depthwise_padded
// AVX2-NOT: tensor.pad
// AVX2: scf.forall
// AVX2: scf.if
// AVX2: %[[R:.+]] = vector.transfer_read %arg0[%c0, %{{.*}}, %{{.*}}, %c0]{{.*}} : tensor<1x8x6x6xf32>, vector<4xf32>
// AVX2: vector.shuffle %[[R]], %{{.*}} [4, 0, 1, 2] : vector<4xf32>, vector<4xf32>
// AVX2: vector.transfer_read %arg0[%c0, %{{.*}}, %{{.*}}, %c0]{{.*}} : tensor<1x8x6x6xf32>, vector<4xf32>
// AVX2-NEXT: vector.fma
// AVX2: vector.transfer_read %arg0[%c0, %{{.*}}, %{{.*}}, %c2]{{.*}} : tensor<1x8x6x6xf32>, vector<4xf32>
// AVX2-NEXT: vector.fma
// AVX2-NEXT: %[[L:.+]] = vector.transfer_read %arg0[%c0, %{{.*}}, %{{.*}}, %c2]{{.*}} : tensor<1x8x6x6xf32>, vector<4xf32>
// AVX2-NEXT: vector.shuffle %[[L]], %{{.*}} [1, 2, 3, 4] : vector<4xf32>, vector<4xf32>
// AVX2-LABEL: func.func @conv_padded
// AVX2-NOT: tensor.pad
// AVX2: scf.if {{.*}} -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// AVX2: } else {
// AVX2: scf.yield %[[Z:.+]], %[[Z]], %[[Z]], %[[Z]], %[[Z]], %[[Z]] : vector<4xf32>
func.func @depthwise_padded(%x: tensor<1x8x6x6xf32>, %w: tensor<8x3x3xf32>, %o: tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32> {
  %z = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %z : f32
  } : tensor<1x8x6x6xf32> to tensor<1x8x8x8xf32>
  %r = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%p, %w : tensor<1x8x8x8xf32>, tensor<8x3x3xf32>) outs(%o : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  return %r : tensor<1x8x6x6xf32>
}
func.func @conv_padded(%x: tensor<1x8x6x6xf32>, %w: tensor<16x8x3x3xf32>, %o: tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32> {
  %z = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %z : f32
  } : tensor<1x8x6x6xf32> to tensor<1x8x8x8xf32>
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%p, %w : tensor<1x8x8x8xf32>, tensor<16x8x3x3xf32>) outs(%o : tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32>
  return %r : tensor<1x16x6x6xf32>
}

// A grouped convolution (2 groups of 8 input and 8 output channels) is one
// batched contraction over the groups on the im2col matrix of the whole
// input, whose rows [g*72, (g+1)*72) are group g's.
// AVX2-LABEL: func.func @conv_grouped
// AVX2-NOT: linalg.conv_2d_ngchw_gfchw
// AVX2: tensor.collapse_shape %arg0 {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x8x10x10xf32> into tensor<1x16x10x10xf32>
// AVX2: scf.for {{.*}} -> (tensor<144x64xf32>)
// AVX2: tensor.expand_shape {{.*}} : tensor<144x64xf32> into tensor<2x72x64xf32>
// AVX2: scf.forall (%{{.*}}) in (2)
// AVX2: scf.for {{.*}} -> (vector<6x16xf32>)
// AVX2: vector.transfer_read {{.*}} : tensor<2x72x64xf32>, vector<16xf32>
// AVX2-NOT: linalg.
// AVX2: return
func.func @conv_grouped(%x: tensor<1x2x8x10x10xf32>, %w: tensor<2x8x8x3x3xf32>, %o: tensor<1x2x8x8x8xf32>) -> tensor<1x2x8x8x8xf32> {
  %r = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : tensor<1x2x8x10x10xf32>, tensor<2x8x8x3x3xf32>) outs(%o : tensor<1x2x8x8x8xf32>) -> tensor<1x2x8x8x8xf32>
  return %r : tensor<1x2x8x8x8xf32>
}

// A matmul whose N (20) leaves a remainder of 4 columns after a 16-wide
// register tile: the remainder tile (its extent bounded by the tile's 16
// when it is padded) is padded to whole vectors and vectorized
// (out-of-bounds transfers: masked loads and stores), not left as scalar
// code.
// AVX2-LABEL: func.func @matmul_column_remainder
// AVX2: %[[ACC:.+]] = vector.transfer_read {{.*}} {in_bounds = [true, false]} : tensor<6x4xf32>, vector<6x16xf32>
// AVX2: scf.for {{.*}} iter_args(%{{.*}} = %[[ACC]]) -> (vector<6x16xf32>)
// AVX2: vector.transfer_read %{{.*}}, %{{.*}} : tensor<1x4xf32>, vector<16xf32>
// AVX2-COUNT-6: vector.fma {{.*}} : vector<16xf32>
// AVX2: scf.yield
// AVX2: vector.transfer_write {{.*}} {in_bounds = [true, false]} : vector<6x16xf32>, tensor<6x4xf32>
func.func @matmul_column_remainder(%a: tensor<48x64xf32>, %b: tensor<64x20xf32>, %c: tensor<48x20xf32>) -> tensor<48x20xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<48x64xf32>, tensor<64x20xf32>) outs(%c : tensor<48x20xf32>) -> tensor<48x20xf32>
  return %r : tensor<48x20xf32>
}

// Element-wise generics (here a bias broadcast over NCHW, as a conv's
// output init) are tiled to rows of the innermost dim and vectorized; a
// dynamic batch becomes a loop.
// AVX2-LABEL: func.func @bias_broadcast
// AVX2: scf.for
// AVX2: scf.for
// AVX2: scf.for
// AVX2: vector.transfer_read %arg0
// AVX2: vector.transfer_write %{{.*}} : vector<8xf32>, tensor<?x4x8x8xf32>
// AVX2-NOT: linalg.generic
// AVX2-LABEL: func.func @relu_rows
#bias = affine_map<(n, c, h, w) -> (c)>
#id4 = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @bias_broadcast(%b: tensor<4xf32>, %n: index) -> tensor<?x4x8x8xf32> {
  %e = tensor.empty(%n) : tensor<?x4x8x8xf32>
  %r = linalg.generic {indexing_maps = [#bias, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<4xf32>) outs(%e : tensor<?x4x8x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<?x4x8x8xf32>
  return %r : tensor<?x4x8x8xf32>
}


// Rows longer than 64 elements are split into the largest divisor <= 64.
// AVX2: scf.for {{.*}} step %c48
// AVX2: arith.maximumf {{.*}} : vector<48xf32>
#id2 = affine_map<(i, j) -> (i, j)>
func.func @relu_rows(%x: tensor<2x96xf32>) -> tensor<2x96xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x96xf32>
  %r = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x96xf32>) outs(%e : tensor<2x96xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %z : f32
    linalg.yield %m : f32
  } -> tensor<2x96xf32>
  return %r : tensor<2x96xf32>
}

// A comparison writing bools stays a scalar loop: LLVM would store a
// vector<N x i1> as N packed bits where memory holds a byte per i1.
// AVX2-LABEL: func.func @compare_rows
// AVX2-NOT: vector<
// AVX2: arith.cmpf ogt, %{{.*}}, %{{.*}} : f32
// AVX2: return
func.func @compare_rows(%x: tensor<2x32xf32>) -> tensor<2x32xi1> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x32xi1>
  %r = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x32xf32>) outs(%e : tensor<2x32xi1>) {
  ^bb0(%a: f32, %o: i1):
    %c = arith.cmpf ogt, %a, %z : f32
    linalg.yield %c : i1
  } -> tensor<2x32xi1>
  return %r : tensor<2x32xi1>
}

// An M = 1 matmul (decode) is all [1 x NR] remainder tiles: their
// accumulator stays in a register across the K loop (the loop carries the
// vector, one read before and one write after it).
// AVX512-LABEL: func.func @matvec
// AVX512: vector.transfer_read %{{.*}} : tensor<1x256xf32>, vector<32xf32>
// AVX512-NEXT: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<32xf32>)
// AVX512: vector.transfer_read %{{.*}} : tensor<512x256xf32>, vector<32xf32>
// AVX512-NOT: tensor.insert_slice
// AVX512: scf.yield %{{.*}} : vector<32xf32>
// AVX512: vector.transfer_write %{{.*}} : vector<32xf32>, tensor<1x256xf32>
func.func @matvec(%a: tensor<1x512xf32>, %w: tensor<512x256xf32>) -> tensor<1x256xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x256xf32>
  %o = linalg.fill ins(%z : f32) outs(%e : tensor<1x256xf32>) -> tensor<1x256xf32>
  %r = linalg.matmul ins(%a, %w : tensor<1x512xf32>, tensor<512x256xf32>) outs(%o : tensor<1x256xf32>) -> tensor<1x256xf32>
  return %r : tensor<1x256xf32>
}

// A contraction over a packed weight (glm-pack-weights: panels
// [N/NR, K, NR]): output tiles count panels (8 of 16 columns for AVX2), the
// K level takes one panel at a time and drops its unit dim, and what is
// left is the plain [6 x 16] register tile whose B row is contiguous in the
// panel, its accumulator carried in registers across the K loop.
// AVX2-LABEL: func.func @packed
// AVX2: scf.forall ({{.*}}) = (0, 0) to (96, 16) step (48, 8)
// AVX2: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<48x8x16xf32>)
// AVX2: tensor.extract_slice %{{.*}}[0, %[[J]], 0] [48, 1, 16] [1, 1, 1] : tensor<48x8x16xf32> to tensor<48x1x16xf32>
// AVX2: tensor.extract_slice %{{.*}}[0, 0, 0] [48, 1, 16] [1, 1, 1] : tensor<48x1x16xf32> to tensor<48x16xf32>
// AVX2: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<6x16xf32>)
// AVX2: vector.transfer_read %{{.*}} : tensor<16x512x16xf32>, vector<16xf32>
// AVX2-COUNT-6: vector.fma
// AVX2: scf.yield %{{.*}} : vector<6x16xf32>
func.func @packed(%a: tensor<96x512xf32>, %wp: tensor<16x512x16xf32>) -> tensor<96x16x16xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<96x16x16xf32>
  %o = linalg.fill ins(%z : f32) outs(%e : tensor<96x16x16xf32>) -> tensor<96x16x16xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, j, r, k) -> (m, k)>, affine_map<(m, j, r, k) -> (j, k, r)>,
                                        affine_map<(m, j, r, k) -> (m, j, r)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %wp : tensor<96x512xf32>, tensor<16x512x16xf32>) outs(%o : tensor<96x16x16xf32>) {
  ^bb0(%x: f32, %w: f32, %acc: f32):
    %p = arith.mulf %x, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<96x16x16xf32>
  return %r : tensor<96x16x16xf32>
}

// M = 1 over a packed weight keeps its unit M dim (it would not be tiled
// without one): [1 x 16] remainder tiles reading each panel row once, the
// accumulator in a register across K.
// AVX2-LABEL: func.func @packed_matvec
// AVX2: scf.forall
// AVX2: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<16xf32>)
// AVX2: vector.transfer_read %{{.*}} : tensor<16x512x16xf32>, vector<16xf32>
// AVX2: scf.yield %{{.*}} : vector<16xf32>
func.func @packed_matvec(%a: tensor<1x512xf32>, %wp: tensor<16x512x16xf32>) -> tensor<1x16x16xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x16x16xf32>
  %o = linalg.fill ins(%z : f32) outs(%e : tensor<1x16x16xf32>) -> tensor<1x16x16xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, j, r, k) -> (m, k)>, affine_map<(m, j, r, k) -> (j, k, r)>,
                                        affine_map<(m, j, r, k) -> (m, j, r)>],
                       iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %wp : tensor<1x512xf32>, tensor<16x512x16xf32>) outs(%o : tensor<1x16x16xf32>) {
  ^bb0(%x: f32, %w: f32, %acc: f32):
    %p = arith.mulf %x, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x16x16xf32>
  return %r : tensor<1x16x16xf32>
}

// A small reduction inside a parallel block (an attention block's row max)
// is a register tile: vectorized, and its multi_reduction lowered to
// per-row vector.reduction (LLVM has no lowering for multi_reduction).
// AVX2-LABEL: func.func @row_max_in_forall
// AVX2-NOT: vector.multi_reduction
// AVX2: vector.reduction <maximumf>
// AVX2-NOT: vector.multi_reduction
// AVX2: return
func.func @row_max_in_forall(%x: tensor<2x4x6xf32>) -> tensor<2x4xf32> {
  %init = tensor.empty() : tensor<2x4xf32>
  %ninf = arith.constant 0xFF800000 : f32
  %r = scf.forall (%i) in (2) shared_outs(%o = %init) -> tensor<2x4xf32> {
    %s = tensor.extract_slice %x[%i, 0, 0] [1, 4, 6] [1, 1, 1] : tensor<2x4x6xf32> to tensor<4x6xf32>
    %os = tensor.extract_slice %o[%i, 0] [1, 4] [1, 1] : tensor<2x4xf32> to tensor<4xf32>
    %f = linalg.fill ins(%ninf : f32) outs(%os : tensor<4xf32>) -> tensor<4xf32>
    %m = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                         iterator_types = ["parallel", "reduction"]}
        ins(%s : tensor<4x6xf32>) outs(%f : tensor<4xf32>) {
    ^bb0(%a: f32, %b: f32):
      %mx = arith.maximumf %a, %b : f32
      linalg.yield %mx : f32
    } -> tensor<4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %o[%i, 0] [1, 4] [1, 1] : tensor<4xf32> into tensor<2x4xf32>
    }
  }
  return %r : tensor<2x4xf32>
}

// A sum over the trailing dims (a global average pool's reduction): each
// of 512 channels reads its 80 pixels as one row in vectors, four
// accumulators over two steps of 4 x 8 on AVX2 (64 pixels), the 16 left as
// two more vectors, then one horizontal reduction; the init is added last.
// Not a scalar loop with one add waiting for the one before. Parallel tasks
// take 16K elements or more: 205 rows, rounded down to a divisor of 512
// (128), so 4 tasks.
// AVX2-LABEL: func.func @global_sum
// AVX2: %[[ROWS:.+]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2, 3]] : tensor<1x512x5x16xf32> into tensor<512x80xf32>
// AVX2: scf.forall (%[[T:.+]]) in (4)
// AVX2: tensor.extract_slice {{.*}} [128] [1] : tensor<512xf32> to tensor<128xf32>
// AVX2: scf.for %[[R:.+]] = %c0 to %c128
// AVX2: %[[C:.+]] = arith.addi
// AVX2: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2-COUNT-4: vector.transfer_read %[[ROWS]][%[[C]], %{{.*}}]{{.*}} : tensor<512x80xf32>, vector<8xf32>
// AVX2: vector.transfer_read %[[ROWS]][%[[C]], %c64]{{.*}} : tensor<512x80xf32>, vector<8xf32>
// AVX2: vector.transfer_read %[[ROWS]][%[[C]], %c72]{{.*}} : tensor<512x80xf32>, vector<8xf32>
// AVX2: vector.reduction <add>, %{{.*}} : vector<8xf32> into f32
// AVX2: tensor.insert
// AVX2: tensor.parallel_insert_slice
// AVX2-NOT: linalg.reduce
// A max over a row too short for two vectors stays a linalg.reduce.
// AVX2-LABEL: func.func @short_max
// AVX2: linalg.reduce
func.func @global_sum(%x: tensor<1x512x5x16xf32>, %init: tensor<1x512xf32>) -> tensor<1x512xf32> {
  %r = linalg.reduce ins(%x : tensor<1x512x5x16xf32>) outs(%init : tensor<1x512xf32>) dimensions = [2, 3]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return %r : tensor<1x512xf32>
}
func.func @short_max(%x: tensor<4x6xf32>, %init: tensor<4xf32>) -> tensor<4xf32> {
  %r = linalg.reduce ins(%x : tensor<4x6xf32>) outs(%init : tensor<4xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.maximumf %in, %acc : f32
      linalg.yield %s : f32
    }
  return %r : tensor<4xf32>
}

// The parallel output tiles of a contraction with fewer than four cache
// tiles are halved (NT first) while each keeps half a MFLOP: on AVX-512 a
// 64x196 output (a 1x1 convolution over 14x14 pixels) was one 64x256 tile,
// now four 64-column tiles; on AVX2 its 48x128 cache tiles are already four.
// AVX512-LABEL: func.func @matmul_few_tiles
// AVX512: scf.forall (%{{.*}}) = (0) to (196) step (64)
// AVX2-LABEL: func.func @matmul_few_tiles
// AVX2: scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (64, 196) step (48, 128)
func.func @matmul_few_tiles(%a: tensor<64x384xf32>, %b: tensor<384x196xf32>, %c: tensor<64x196xf32>) -> tensor<64x196xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x384xf32>, tensor<384x196xf32>) outs(%c : tensor<64x196xf32>) -> tensor<64x196xf32>
  return %r : tensor<64x196xf32>
}
