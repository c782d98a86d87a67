// RUN: glm-opt %s -glm-lower-to-linalg -split-input-file | FileCheck %s

// [B, M, K] x [K, N] folds the batch into M: one linalg.matmul.
// CHECK-LABEL: func.func @batched_matmul_2d_weight
func.func @batched_matmul_2d_weight(%x: tensor<?x5x8xf32>, %w: tensor<8x4xf32>) -> tensor<?x5x4xf32> {
  // CHECK: %[[A:.+]] = tensor.collapse_shape %arg0 {{\[}}[0, 1], [2]] : tensor<?x5x8xf32> into tensor<?x8xf32>
  // CHECK: %[[Z:.+]] = linalg.fill
  // CHECK: %[[MM:.+]] = linalg.matmul ins(%[[A]], %arg1 : tensor<?x8xf32>, tensor<8x4xf32>) outs(%[[Z]] : tensor<?x4xf32>)
  // CHECK: tensor.expand_shape %[[MM]] {{\[}}[0, 1], [2]]
  %0 = glm.mat_mul %x, %w : (tensor<?x5x8xf32>, tensor<8x4xf32>) -> tensor<?x5x4xf32>
  return %0 : tensor<?x5x4xf32>
}

// -----

// Equal batch dims: linalg.batch_matmul.
// CHECK-LABEL: func.func @batch_matmul
func.func @batch_matmul(%a: tensor<2x3x5x8xf32>, %b: tensor<2x3x8x4xf32>) -> tensor<2x3x5x4xf32> {
  // CHECK: linalg.batch_matmul ins({{.*}} : tensor<6x5x8xf32>, tensor<6x8x4xf32>)
  %0 = glm.mat_mul %a, %b : (tensor<2x3x5x8xf32>, tensor<2x3x8x4xf32>) -> tensor<2x3x5x4xf32>
  return %0 : tensor<2x3x5x4xf32>
}

// -----

// Gemm's bias initialises the accumulator.
// CHECK-LABEL: func.func @gemm_bias
func.func @gemm_bias(%a: tensor<?x8xf32>, %b: tensor<8x4xf32>, %c: tensor<4xf32>) -> tensor<?x4xf32> {
  // CHECK: %[[INIT:.+]] = linalg.generic {{.*}} ins(%arg2 : tensor<4xf32>)
  // CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<?x8xf32>, tensor<8x4xf32>) outs(%[[INIT]] : tensor<?x4xf32>)
  %0 = glm.gemm %a, %b, %c : (tensor<?x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Conv: explicit padding, bias in the init, the named NCHW op.
// CHECK-LABEL: func.func @conv
func.func @conv(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x8x8xf32> {
  // CHECK: %[[P:.+]] = tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
  // CHECK: %[[INIT:.+]] = linalg.generic {{.*}} ins(%arg2 : tensor<4xf32>)
  // CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[P]], %arg1 : {{.*}}) outs(%[[INIT]] : tensor<1x4x8x8xf32>)
  %0 = glm.conv %x, %w, %b {pads = [1, 1, 1, 1]} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

// One filter per channel: the depthwise named op.
// CHECK-LABEL: func.func @depthwise
func.func @depthwise(%x: tensor<1x8x6x6xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<1x8x4x4xf32> {
  // CHECK: tensor.collapse_shape %arg1 {{\[}}[0, 1], [2], [3]] : tensor<8x1x3x3xf32> into tensor<8x3x3xf32>
  // CHECK: linalg.depthwise_conv_2d_nchw_chw
  %0 = glm.conv %x, %w {group = 8 : i64} : (tensor<1x8x6x6xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

// Other group counts: the grouped named op on expanded views.
// CHECK-LABEL: func.func @grouped
func.func @grouped(%x: tensor<1x8x6x6xf32>, %w: tensor<4x4x3x3xf32>) -> tensor<1x4x4x4xf32> {
  // CHECK: linalg.conv_2d_ngchw_gfchw {{.*}} ins({{.*}} : tensor<1x2x4x6x6xf32>, tensor<2x2x4x3x3xf32>)
  %0 = glm.conv %x, %w {group = 2 : i64} : (tensor<1x8x6x6xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// Broadcasting elementwise: one generic; the [4] operand reads dim 1 only.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @broadcast_add
func.func @broadcast_add(%a: tensor<?x4xf32>, %b: tensor<4xf32>) -> tensor<?x4xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]]
  // CHECK: arith.addf
  %0 = glm.add %a, %b : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Softmax: max, exp(x - max), sum, divide.
// CHECK-LABEL: func.func @softmax
func.func @softmax(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // CHECK: linalg.reduce
  // CHECK: arith.maximumf
  // CHECK: math.exp
  // CHECK: linalg.reduce
  // CHECK: arith.addf
  // CHECK: arith.divf
  %0 = glm.softmax %x {axis = -1 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Average pool without counted padding divides each window by its own
// number of taps.
// CHECK-LABEL: func.func @avg_pool_exclude_pad
func.func @avg_pool_exclude_pad(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  // CHECK: linalg.pooling_nchw_sum
  // CHECK: arith.constant dense<{{\[}}[2.500000e-01, 0.166666672, 0.166666672, 2.500000e-01], [0.166666672, 0.111111112
  %0 = glm.average_pool %x {kernel_shape = [3, 3], pads = [1, 1, 1, 1]} : (tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  return %0 : tensor<1x1x4x4xf32>
}

// -----

// Unsigned element types become signless; the op keeps unsigned semantics.
// CHECK-LABEL: func.func @unsigned_cast(%{{.*}}: tensor<4xi8>) -> tensor<4xf32>
func.func @unsigned_cast(%x: tensor<4xui8>) -> tensor<4xf32> {
  // CHECK: arith.uitofp
  %0 = glm.cast %x {to = f32} : (tensor<4xui8>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// GatherND with one batch dim: each [k]-tuple of indices is read with
// tensor.extract, normalised (negative from the end) and clamped; the
// trailing data dims are copied.
// CHECK-LABEL: func.func @gather_nd
func.func @gather_nd(%d: tensor<2x5x4x3xf32>, %i: tensor<2x7x2xi64>) -> tensor<2x7x3xf32> {
  // CHECK: linalg.generic
  // CHECK-SAME: outs(%{{.*}} : tensor<2x7x3xf32>)
  // CHECK: %[[B:.+]] = linalg.index 0
  // CHECK: %[[R:.+]] = linalg.index 1
  // CHECK: %[[I0:.+]] = tensor.extract %arg1[%[[B]], %[[R]], %c0{{.*}}] : tensor<2x7x2xi64>
  // CHECK: arith.cmpi slt
  // CHECK: arith.maxsi
  // CHECK: arith.minsi
  // CHECK: tensor.extract %arg1[%[[B]], %[[R]], %c1{{.*}}] : tensor<2x7x2xi64>
  // CHECK: %[[T:.+]] = linalg.index 2
  // CHECK: tensor.extract %arg0[%[[B]], %{{.+}}, %{{.+}}, %[[T]]] : tensor<2x5x4x3xf32>
  %0 = glm.gather_nd %d, %i {batch_dims = 1 : i64} : (tensor<2x5x4x3xf32>, tensor<2x7x2xi64>) -> tensor<2x7x3xf32>
  return %0 : tensor<2x7x3xf32>
}

// -----

// GatherElements: the result has the indices' shape; the axis coordinate
// comes from the index.
// CHECK-LABEL: func.func @gather_elements
func.func @gather_elements(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>) -> tensor<3x2xf32> {
  // CHECK: linalg.generic {{.*}} ins(%arg1 : tensor<3x2xi64>)
  // CHECK: %[[R:.+]] = linalg.index 0
  // CHECK: tensor.extract %arg0[%[[R]], %{{.+}}] : tensor<3x4xf32>
  %0 = glm.gather_elements %d, %i {axis = 1 : i64} : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// IsNaN is an unordered self-compare; HardSwish x * clamp(x/6 + 1/2, 0, 1).
// CHECK-LABEL: func.func @isnan_hardswish
func.func @isnan_hardswish(%x: tensor<4xf32>) -> (tensor<4xi1>, tensor<4xf32>) {
  // CHECK: arith.cmpf uno, %[[A:.+]], %[[A]] : f32
  // CHECK: arith.mulf %{{.+}}, %cst
  // CHECK: arith.addf
  // CHECK: arith.maximumf
  // CHECK: arith.minimumf
  // CHECK: arith.mulf
  %0 = glm.is_nan %x : (tensor<4xf32>) -> tensor<4xi1>
  %1 = glm.hard_swish %x : (tensor<4xf32>) -> tensor<4xf32>
  return %0, %1 : tensor<4xi1>, tensor<4xf32>
}

// -----

// Integer Mod with fmod = 0 takes the divisor's sign (Python's %).
// CHECK-LABEL: func.func @mod_python
func.func @mod_python(%a: tensor<4xi32>, %b: tensor<4xi32>) -> tensor<4xi32> {
  // CHECK: %[[R:.+]] = arith.remsi
  // CHECK: arith.xori
  // CHECK: %[[S:.+]] = arith.addi %[[R]]
  // CHECK: arith.select %{{.+}}, %[[S]], %[[R]]
  %0 = glm.mod %a, %b : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// Nearest resize by 2 (half_pixel, round_prefer_floor): the source index is
// ceil((o + 0.5) / 2 - 0.5 - 0.5), clamped to the input; one extract.
// CHECK-LABEL: func.func @resize_nearest
func.func @resize_nearest(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32> {
  // CHECK: linalg.generic
  // CHECK: arith.addf
  // CHECK: arith.divf
  // CHECK: arith.subf
  // CHECK: math.ceil
  // CHECK: arith.fptosi
  // CHECK: arith.maxsi
  // CHECK: arith.minsi
  // CHECK: tensor.extract %arg0
  // CHECK-NOT: tensor.extract
  // CHECK: linalg.yield
  %0 = glm.resize %x {scales = [1.0 : f32, 1.0 : f32, 2.0 : f32, 2.0 : f32]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}

// -----

// Bilinear: four corners, weighted.
// CHECK-LABEL: func.func @resize_linear
func.func @resize_linear(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x7x9xf32> {
  // CHECK: linalg.generic
  // CHECK-COUNT-2: math.floor
  // CHECK-COUNT-4: tensor.extract %arg0
  // CHECK: linalg.yield
  %0 = glm.resize %x {mode = "linear", coordinate_transformation_mode = "align_corners", scales = [1.0 : f32, 1.0 : f32, 1.75 : f32, 2.25 : f32], sizes = [1, 2, 7, 9]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x7x9xf32>
  return %0 : tensor<1x2x7x9xf32>
}

// -----

// A static reshape with no direct reassociation ([3, 4] -> [1, 12]) goes
// through one dim; tensor.reshape would need an index shape constant.
// CHECK-LABEL: func.func @flatten_axis0
func.func @flatten_axis0(%x: tensor<3x4xf32>) -> tensor<1x12xf32> {
  // CHECK: %[[F:.+]] = tensor.collapse_shape %arg0 {{\[}}[0, 1]] : tensor<3x4xf32> into tensor<12xf32>
  // CHECK: tensor.expand_shape %[[F]] {{\[}}[0, 1]] output_shape [1, 12] : tensor<12xf32> into tensor<1x12xf32>
  // CHECK-NOT: tensor.reshape
  %0 = glm.flatten %x {axis = 0 : i64} : (tensor<3x4xf32>) -> tensor<1x12xf32>
  return %0 : tensor<1x12xf32>
}

// -----

// A static result from a dim inference could not resolve (a repeat_kv
// expand of a computed shape) collapses, casts to the static count and
// expands: no tensor.reshape with a constant index shape.
// CHECK-LABEL: func.func @reshape_unresolved_dim
func.func @reshape_unresolved_dim(%x: tensor<2x?x4xf32>) -> tensor<2x4xf32> {
  // CHECK: %[[F:.+]] = tensor.collapse_shape %arg0 {{\[}}[0, 1, 2]] : tensor<2x?x4xf32> into tensor<?xf32>
  // CHECK: %[[C:.+]] = tensor.cast %[[F]] : tensor<?xf32> to tensor<8xf32>
  // CHECK: tensor.expand_shape %[[C]] {{\[}}[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
  // CHECK-NOT: tensor.reshape
  %s = glm.constant {value = dense<[2, 4]> : tensor<2xi64>} : tensor<2xi64>
  %0 = glm.reshape %x, %s : (tensor<2x?x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Max pooling over a dynamic height and width (a detector exported with a
// free input size): the output size is computed at run time,
// floor((in + 4 - 4 - 1) / 1) + 1 for a 5x5 window padded by 2.
// CHECK-LABEL: func.func @max_pool_dynamic_spatial
func.func @max_pool_dynamic_spatial(%x: tensor<1x8x?x?xf32>) -> tensor<1x8x?x?xf32> {
  // CHECK: %[[H:.+]] = tensor.dim %arg0, %c2
  // CHECK: arith.addi %[[H]], %c-1
  // CHECK: tensor.pad %arg0 low[0, 0, 2, 2] high[0, 0, 2, 2]
  // CHECK: linalg.pooling_nchw_max
  %0 = glm.max_pool %x {kernel_shape = [5, 5], pads = [2, 2, 2, 2]} : (tensor<1x8x?x?xf32>) -> tensor<1x8x?x?xf32>
  return %0 : tensor<1x8x?x?xf32>
}

// -----

// TopK inserts each element of a row into a sorted buffer of k (values and
// indices): loops over rows and elements, an scf.if for the elements that
// enter (strict comparison, so ties keep the earlier index first).
// CHECK-LABEL: func.func @top_k
func.func @top_k(%x: tensor<2x10xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>) {
  // CHECK: %[[R:.+]]:2 = scf.for
  // CHECK: scf.for
  // CHECK: tensor.extract %arg0
  // CHECK: arith.cmpf olt
  // CHECK: scf.if
  // CHECK: tensor.insert
  // CHECK: return %[[R]]#0, %[[R]]#1
  %v, %i = glm.top_k %x {axis = 1 : i64, k = 3 : i64, largest = 0 : i64} : (tensor<2x10xf32>) -> (tensor<2x3xf32>, tensor<2x3xi64>)
  return %v, %i : tensor<2x3xf32>, tensor<2x3xi64>
}

// -----

// Pad with a one-element (not scalar) constant value reads its element.
// CHECK-LABEL: func.func @pad_one_element_value
func.func @pad_one_element_value(%x: tensor<2x3xf32>, %v: tensor<1xf32>) -> tensor<2x5xf32> {
  // CHECK: %[[V:.+]] = tensor.extract %arg1[%{{.+}}] : tensor<1xf32>
  // CHECK: tensor.pad %arg0 low[0, 1] high[0, 1]
  // CHECK: tensor.yield %[[V]]
  %p = glm.constant {value = dense<[0, 1, 0, 1]> : tensor<4xi64>} : tensor<4xi64>
  %0 = glm.pad %x, %p, %v : (tensor<2x3xf32>, tensor<4xi64>, tensor<1xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// ScatterND loops over the index tuples, then over the elements of each
// slice, combining the output element with the update (add here); negative
// indices count from the end.
// CHECK-LABEL: func.func @scatter_nd_add
func.func @scatter_nd_add(%x: tensor<4x3xf32>, %i: tensor<2x1xi64>, %u: tensor<2x3xf32>) -> tensor<4x3xf32> {
  // CHECK: %[[R:.+]] = scf.for {{.*}} iter_args(%{{.*}} = %arg0)
  // CHECK: tensor.extract %arg1
  // CHECK: arith.cmpi slt
  // CHECK: scf.for
  // CHECK: tensor.extract %arg2
  // CHECK: arith.addf
  // CHECK: tensor.insert
  // CHECK: return %[[R]]
  %y = glm.scatter_nd %x, %i, %u {reduction = "add"} : (tensor<4x3xf32>, tensor<2x1xi64>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// Pad modes edge, reflect and wrap: each output element reads the source at
// a coordinate brought into range (clamped, mirrored with period 2(n-1),
// modulo n).
// CHECK-LABEL: func.func @pad_edge
func.func @pad_edge(%x: tensor<2x3xf32>) -> tensor<2x5xf32> {
  // CHECK: linalg.generic
  // CHECK: %[[I:.+]] = linalg.index 1 : index
  // CHECK: %[[S:.+]] = arith.subi %[[I]], %c1
  // CHECK: %[[MIN:.+]] = arith.minsi %[[S]], %{{.+}}
  // CHECK: %[[C:.+]] = arith.maxsi %[[MIN]], %{{.+}}
  // CHECK: tensor.extract %arg0[%{{.+}}, %[[C]]] : tensor<2x3xf32>
  %p = glm.constant {value = dense<[0, 1, 0, 1]> : tensor<4xi64>} : tensor<4xi64>
  %0 = glm.pad %x, %p {mode = "edge"} : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// CHECK-LABEL: func.func @pad_reflect
func.func @pad_reflect(%x: tensor<2x3xf32>) -> tensor<2x5xf32> {
  // CHECK: linalg.generic
  // CHECK: arith.remsi
  // CHECK: arith.cmpi slt
  // CHECK: arith.select
  // CHECK: tensor.extract %arg0
  %p = glm.constant {value = dense<[0, 1, 0, 1]> : tensor<4xi64>} : tensor<4xi64>
  %0 = glm.pad %x, %p {mode = "reflect"} : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// 3-d convolution: conv_3d_ncdhw_fcdhw on the padded input, the bias
// broadcast into the accumulator.
// CHECK-LABEL: func.func @conv_3d
func.func @conv_3d(%x: tensor<1x2x4x5x6xf32>, %w: tensor<3x2x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x3x2x3x3xf32> {
  // CHECK: tensor.pad %arg0 low[0, 0, 1, 1, 1] high[0, 0, 1, 1, 1]
  // CHECK: linalg.generic {{.*}} ins(%arg2 : tensor<3xf32>)
  // CHECK: linalg.conv_3d_ncdhw_fcdhw {dilations = dense<[1, 1, 2]> : tensor<3xi64>, strides = dense<[2, 2, 1]> : tensor<3xi64>} ins({{.*}} : tensor<1x2x6x7x8xf32>, tensor<3x2x3x3x3xf32>) outs({{.*}} : tensor<1x3x2x3x3xf32>)
  %0 = glm.conv %x, %w, %b {pads = [1, 1, 1, 1, 1, 1], strides = [2, 2, 1], dilations = [1, 1, 2]} : (tensor<1x2x4x5x6xf32>, tensor<3x2x3x3x3xf32>, tensor<3xf32>) -> tensor<1x3x2x3x3xf32>
  return %0 : tensor<1x3x2x3x3xf32>
}

// -----

// Depthwise 3-d convolution: weight [C, 1, k...] collapsed to [C, k...].
// CHECK-LABEL: func.func @conv_3d_depthwise
func.func @conv_3d_depthwise(%x: tensor<1x4x3x3x3xf32>, %w: tensor<4x1x2x2x2xf32>) -> tensor<1x4x2x2x2xf32> {
  // CHECK: tensor.collapse_shape %arg1 {{\[}}[0, 1], [2], [3], [4]] : tensor<4x1x2x2x2xf32> into tensor<4x2x2x2xf32>
  // CHECK: linalg.depthwise_conv_3d_ncdhw_cdhw
  %0 = glm.conv %x, %w {group = 4 : i64} : (tensor<1x4x3x3x3xf32>, tensor<4x1x2x2x2xf32>) -> tensor<1x4x2x2x2xf32>
  return %0 : tensor<1x4x2x2x2xf32>
}

// -----

// 3-d max pooling: linalg has no NCDHW pooling, so a generic reduces the
// window (strided, dilated input map) over the input padded with the lowest
// value; ceil_mode pads the end further so the last window fits.
// CHECK-DAG: #[[X3:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2 * 2 + d5, d3 * 2 + d6 * 2, d4 + d7)>
// CHECK-DAG: #[[K3:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d5, d6, d7)>
// CHECK-LABEL: func.func @max_pool_3d
func.func @max_pool_3d(%x: tensor<1x2x5x5x4xf32>) -> tensor<1x2x3x2x5xf32> {
  // CHECK: tensor.pad %arg0 low[0, 0, 0, 0, 1] high[0, 0, 1, 0, 1]
  // CHECK: linalg.generic {indexing_maps = [#[[X3]], #[[K3]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
  // CHECK: arith.maximumf
  %0 = glm.max_pool %x {kernel_shape = [2, 2, 2], strides = [2, 2, 1], dilations = [1, 2, 1], pads = [0, 0, 1, 0, 0, 1], ceil_mode = 1 : i64} : (tensor<1x2x5x5x4xf32>) -> tensor<1x2x3x2x5xf32>
  return %0 : tensor<1x2x3x2x5xf32>
}

// -----

// 3-d average pooling excluding the padding: the window sum is scaled by
// 1 / count per output element, the counts a product over the spatial dims.
// CHECK-LABEL: func.func @avg_pool_3d_exclude_pad
func.func @avg_pool_3d_exclude_pad(%x: tensor<1x1x2x2x2xf32>) -> tensor<1x1x2x2x2xf32> {
  // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
  // CHECK: arith.addf
  // CHECK: arith.constant dense<{{\[}}{{\[}}[1.000000e+00, 5.000000e-01], [5.000000e-01, 2.500000e-01]], {{\[}}[5.000000e-01, 2.500000e-01], [2.500000e-01, 1.250000e-01]]]> : tensor<2x2x2xf32>
  %0 = glm.average_pool %x {kernel_shape = [2, 2, 2], pads = [1, 1, 1, 0, 0, 0]} : (tensor<1x1x2x2x2xf32>) -> tensor<1x1x2x2x2xf32>
  return %0 : tensor<1x1x2x2x2xf32>
}

// -----

// Cubic resize: per resized dim 4 taps around floor(src), Keys weights of
// the fraction; exclude_outside zeroes the taps beyond the input and
// renormalises. Two resized dims read 16 elements.
// CHECK-LABEL: func.func @resize_cubic
func.func @resize_cubic(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x8x6xf32> {
  // CHECK: linalg.generic
  // CHECK: math.floor
  // CHECK: arith.constant -5.000000e-01 : f32
  // CHECK: arith.cmpi sge
  // CHECK: arith.select
  // CHECK-COUNT-16: tensor.extract %arg0
  // CHECK-NOT: tensor.extract
  // CHECK: linalg.yield
  %0 = glm.resize %x {mode = "cubic", cubic_coeff_a = -5.000000e-01 : f32, exclude_outside = 1 : i64, scales = [1.0 : f32, 1.0 : f32, 2.0 : f32, 1.5 : f32]} : (tensor<1x1x4x4xf32>) -> tensor<1x1x8x6xf32>
  return %0 : tensor<1x1x8x6xf32>
}

// -----

// Antialias: one pass per resized dim (as the ONNX reference), f32 between
// the passes; the linear kernel widened by 1 / scale gives 2 - 2 *
// (floor(-1 / scale) + 1) taps: 4 for H (scale 0.5), 6 for W (scale 0.375),
// with |d|-kernel weights normalised by their sum.
// CHECK-LABEL: func.func @resize_antialias
func.func @resize_antialias(%x: tensor<1x1x4x8xf16>) -> tensor<1x1x2x3xf16> {
  // CHECK: %[[H:.+]] = linalg.generic
  // CHECK-COUNT-4: math.absf
  // CHECK-COUNT-4: arith.divf
  // CHECK-COUNT-4: tensor.extract %arg0
  // CHECK-NOT: tensor.extract
  // CHECK: } -> tensor<1x1x2x8xf32>
  // CHECK: linalg.generic
  // CHECK-COUNT-6: math.absf
  // CHECK-COUNT-6: tensor.extract %[[H]]
  // CHECK-NOT: tensor.extract
  // CHECK: arith.truncf %{{.*}} : f32 to f16
  // CHECK: } -> tensor<1x1x2x3xf16>
  %0 = glm.resize %x {mode = "linear", antialias = 1 : i64, scales = [1.0 : f32, 1.0 : f32, 0.5 : f32, 0.375 : f32]} : (tensor<1x1x4x8xf16>) -> tensor<1x1x2x3xf16>
  return %0 : tensor<1x1x2x3xf16>
}

// -----

// tf_crop_and_resize: src = start * (in - 1) + o * (end - start) * (in - 1)
// / (out - 1); outside [0, in - 1] the output is extrapolation_value.
// CHECK-LABEL: func.func @resize_crop
func.func @resize_crop(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x3x3xf32> {
  // CHECK: linalg.generic
  // CHECK: arith.cmpf olt
  // CHECK: arith.cmpf ogt
  // CHECK: arith.ori
  // CHECK-COUNT-4: tensor.extract %arg0
  // CHECK: %[[E:.+]] = arith.constant 1.000000e+01 : f32
  // CHECK: %[[R:.+]] = arith.select %{{.*}}, %[[E]], %{{.*}} : f32
  // CHECK: linalg.yield %[[R]]
  %0 = glm.resize %x {mode = "linear", coordinate_transformation_mode = "tf_crop_and_resize", extrapolation_value = 1.0e+01 : f32, roi = [0.0 : f32, 0.0 : f32, 0.4 : f32, 0.6 : f32, 1.0 : f32, 1.0 : f32, 1.2 : f32, 1.7 : f32], scales = [1.0 : f32, 1.0 : f32, 0.75 : f32, 0.75 : f32], sizes = [1, 1, 3, 3]} : (tensor<1x1x4x4xf32>) -> tensor<1x1x3x3xf32>
  return %0 : tensor<1x1x3x3xf32>
}

// -----

// Integer max pooling: padded with the type's minimum (0 for uint8, -128 for
// int8), maxui / maxsi in a window generic (linalg's NCHW max pooling is
// signed).
// CHECK-LABEL: func.func @max_pool_u8
func.func @max_pool_u8(%x: tensor<1x2x5x5xui8>) -> tensor<1x2x3x3xui8> {
  // CHECK: %[[Z:.+]] = arith.constant 0 : i8
  // CHECK: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 1, 1]
  // CHECK: tensor.yield %[[Z]] : i8
  // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]
  // CHECK: arith.maxui
  %0 = glm.max_pool %x {kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x2x5x5xui8>) -> tensor<1x2x3x3xui8>
  return %0 : tensor<1x2x3x3xui8>
}

// -----

// CHECK-LABEL: func.func @max_pool_i8
func.func @max_pool_i8(%x: tensor<1x2x5x5xi8>) -> tensor<1x2x3x3xi8> {
  // CHECK: %[[M:.+]] = arith.constant -128 : i8
  // CHECK: tensor.yield %[[M]] : i8
  // CHECK: arith.maxsi
  %0 = glm.max_pool %x {kernel_shape = [3, 3], pads = [1, 1, 1, 1], strides = [2, 2]} : (tensor<1x2x5x5xi8>) -> tensor<1x2x3x3xi8>
  return %0 : tensor<1x2x3x3xi8>
}

// -----

// MaxPool indices on uint8: unsigned comparison.
// CHECK-LABEL: func.func @max_pool_indices_u8
func.func @max_pool_indices_u8(%x: tensor<1x1x4x4xui8>) -> tensor<1x1x2x2xi64> {
  // CHECK: linalg.generic
  // CHECK: arith.cmpi ugt
  %0 = glm.max_pool_indices %x {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<1x1x4x4xui8>) -> tensor<1x1x2x2xi64>
  return %0 : tensor<1x1x2x2xi64>
}

// -----

// MaxPool indices: (max, index) carried through the window dims; the index
// of a tap is its unpadded position flattened over [N, C, H, W], here
// column-major over H, W (storage_order 1): (n * C + c) * H * W + w * H + h.
// CHECK-LABEL: func.func @max_pool_indices
func.func @max_pool_indices(%x: tensor<1x2x5x4xf32>) -> tensor<1x2x3x2xi64> {
  // CHECK: tensor.pad %arg0 low[0, 0, 1, 0] high[0, 0, 0, 0]
  // CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]{{.*}} outs(%{{.*}}, %{{.*}} : tensor<1x2x3x2xf32>, tensor<1x2x3x2xi64>)
  // CHECK: arith.muli %{{.*}}, %c4
  // CHECK: arith.addi
  // CHECK: arith.muli %{{.*}}, %c5
  // CHECK: %[[GT:.+]] = arith.cmpf ogt
  // CHECK: arith.select %[[GT]]
  // CHECK: arith.select %[[GT]]
  %0 = glm.max_pool_indices %x {kernel_shape = [2, 2], strides = [2, 2], pads = [1, 0, 0, 0], storage_order = 1 : i64} : (tensor<1x2x5x4xf32>) -> tensor<1x2x3x2xi64>
  return %0 : tensor<1x2x3x2xi64>
}

// -----

// NonZero: a counting loop sizes the [rank, count] result, a second loop
// writes each nonzero element's coordinates into the next column.
// CHECK-LABEL: func.func @non_zero
// CHECK: %[[N:.+]] = scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %{{.+}}) -> (index)
// CHECK: arith.cmpf une
// CHECK: %[[E:.+]] = tensor.empty(%[[N]]) : tensor<2x?xi64>
// CHECK: scf.for {{.+}} iter_args(%{{.+}} = %[[E]], %{{.+}} = %{{.+}}) -> (tensor<2x?xi64>, index)
// CHECK: scf.if
// CHECK: tensor.insert
// CHECK: tensor.insert
func.func @non_zero(%x: tensor<3x4xf32>) -> tensor<2x?xi64> {
  %0 = glm.non_zero %x : (tensor<3x4xf32>) -> tensor<2x?xi64>
  return %0 : tensor<2x?xi64>
}

// -----

// f16 MatMul accumulates in f32 and rounds once (as ONNX Runtime).
// CHECK-LABEL: func.func @matmul_f16
// CHECK: linalg.matmul ins(%{{.*}}, %arg1 : tensor<6x8xf16>, tensor<8x4xf16>) outs(%{{.*}} : tensor<6x4xf32>)
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @matmul_f16(%a: tensor<2x3x8xf16>, %b: tensor<8x4xf16>) -> tensor<2x3x4xf16> {
  %0 = glm.mat_mul %a, %b : (tensor<2x3x8xf16>, tensor<8x4xf16>) -> tensor<2x3x4xf16>
  return %0 : tensor<2x3x4xf16>
}

// -----

// f16 Softmax runs in f32: extended first, rounded after the division.
// CHECK-LABEL: func.func @softmax_f16
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: linalg.reduce ins(%{{.*}} : tensor<2x5xf32>)
// CHECK: math.exp %{{.*}} : f32
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @softmax_f16(%x: tensor<2x5xf16>) -> tensor<2x5xf16> {
  %0 = glm.softmax %x {axis = 1 : i64} : (tensor<2x5xf16>) -> tensor<2x5xf16>
  return %0 : tensor<2x5xf16>
}
