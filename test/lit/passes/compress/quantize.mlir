// RUN: glm-opt %s -glm-quantize -canonicalize -split-input-file | FileCheck %s
// RUN: glm-opt %s -glm-quantize="exclude=c1" -split-input-file | FileCheck %s --check-prefix=EXCL
// RUN: glm-opt %s -glm-quantize="calib-method=percentile percentile=75" -split-input-file | FileCheck %s --check-prefix=PCT
// RUN: not glm-opt %s -glm-quantize="calib-method=entropy" -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: glm-opt %s -glm-quantize="qdq-only=1" -split-input-file | FileCheck %s --check-prefix=QDQ

// Data range [-1, 3]: scale 4/255, zero point round(-128 + 1/scale) = -64.
// Weights per output channel: max|w| 1.0 and 0.25 give scales 1/127 and
// 0.25/127; 0.5 / (1/127) = 63.5 and 0.125 / (0.25/127) = 63.5 round to
// even (64), so the int8 weight is [64, -127, 127, 64] = 0x4081 7F40.
// CHECK-LABEL: func.func @conv
// CHECK: %[[W:.*]] = glm.constant {value = dense_resource<int8_weight> : tensor<2x2x1x1xi8>}
// CHECK: %[[Q:.*]] = quant.qcast %arg0 : tensor<1x2x3x3xf32> to tensor<1x2x3x3x!quant.uniform<i8:f32, 0.015686274509803921:-64>>
// CHECK: %[[S:.*]] = quant.scast %[[W]] : tensor<2x2x1x1xi8> to tensor<2x2x1x1x!quant.uniform<i8<-127:127>:f32:0, {0.0078740157480314959,0.001968503937007874}>>
// CHECK: glm.conv %[[Q]], %[[S]], %{{.*}} {glm.quant_info = {clipped = 0.000000e+00 : f64, from = "calibration", weight_sqnr_db = {{.*}} : f64}
// CHECK-SAME: -> tensor<1x2x3x3xf32>
// CHECK-NOT: glm.calib
// CHECK: int8_weight: "0x4000000040817F40"
// EXCL-LABEL: func.func @conv
// EXCL-NOT: quant.
// EXCL: glm.conv %arg0
// BAD: glm-quantize: calib-method must be minmax or percentile, got 'entropy'
func.func @conv(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> attributes {glm.entry} {
  %w = glm.constant {value = dense<[[[[0.5]], [[-1.0]]], [[[0.25]], [[0.125]]]]> : tensor<2x2x1x1xf32>} : tensor<2x2x1x1xf32>
  %b = glm.constant {value = dense<[0.5, -0.5]> : tensor<2xf32>} : tensor<2xf32>
  %y = glm.conv %x, %w, %b {pads = [0, 0, 0, 0], glm.calib = {min = -1.0 : f64, max = 3.0 : f64}} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32> loc("c1")
  return %y : tensor<1x2x3x3xf32>
}

// -----

// A gemm's weight [K, N] is quantized per column (axis 1); non-negative
// data [0, 2] puts the zero point at -128. A layer without calibration
// ranges stays float.
// CHECK-LABEL: func.func @gemm
// CHECK: quant.qcast %arg0 : tensor<4x3xf32> to tensor<4x3x!quant.uniform<i8:f32, 0.0078431372549019607:-128>>
// CHECK: quant.scast {{.*}} : tensor<3x2xi8> to tensor<3x2x!quant.uniform<i8<-127:127>:f32:1, {0.023622047244094488,0.0078740157480314959}>>
// CHECK: glm.gemm
// CHECK: glm.mat_mul %arg0, %{{.*}} : (tensor<4x3xf32>, tensor<3x2xf32>)
// PCT-LABEL: func.func @gemm
// The histogram's 75th percentile of |x| (bins of 2/4: 3 of 4 values up
// to the 3rd bin's edge 1.5) clips the range to [0, 1.5], 1/4 clipped.
// PCT: quant.qcast %arg0 : tensor<4x3xf32> to tensor<4x3x!quant.uniform<i8:f32, 0.0058823529411764705:-128>>
// PCT: clipped = 2.500000e-01
func.func @gemm(%x: tensor<4x3xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) attributes {glm.entry} {
  %w = glm.constant {value = dense<[[3.0, 1.0], [-1.0, 0.5], [2.0, -0.25]]> : tensor<3x2xf32>} : tensor<3x2xf32>
  %y = glm.gemm %x, %w {glm.calib = {min = 0.0 : f64, max = 2.0 : f64, abs_hist_top = 2.0 : f64, abs_hist = dense<[1.0, 1.0, 1.0, 1.0]> : tensor<4xf64>}} : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32> loc("g1")
  %z = glm.mat_mul %x, %w : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32> loc("m1")
  return %y, %z : tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

// A QDQ pair before a conv (the importer's QuantizeLinear ->
// DequantizeLinear to uint8, scale 0.5, zero point 10) is the conv's data
// quantization: int8 with zero point 10 - 128, reading the pair's input.
// The weight's one scale (2^-7 for both channels: a per-tensor QDQ weight
// [127, -64; 32, 16] * 2^-7, folded to floats) is kept, not re-derived per
// channel (which would give channel 1 the scale 0.25/127). With qdq-only, a conv without such a
// pair stays float even with calibration ranges.
// QDQ-LABEL: func.func @qdq
// QDQ: %[[Q:.*]] = quant.qcast %arg0 : tensor<1x2x3x3xf32> to tensor<1x2x3x3x!quant.uniform<i8:f32, 5.000000e-01:-118>>
// QDQ: quant.scast {{.*}} to tensor<2x2x1x1x!quant.uniform<i8<-127:127>:f32:0, {7.812500e-03,7.812500e-03}>>
// QDQ: glm.conv %[[Q]], {{.*}}from = "qdq"
// QDQ: glm.conv %arg0, %{{.*}} : (tensor<1x2x3x3xf32>
// An all-zero output channel (pruned) does not change the one scale.
// QDQ: quant.scast {{.*}} to tensor<2x2x1x1x!quant.uniform<i8<-127:127>:f32:0, {7.812500e-03,7.812500e-03}>>
// QDQ: glm.conv {{.*}}from = "qdq"
func.func @qdq(%x: tensor<1x2x3x3xf32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) attributes {glm.entry} {
  %s = glm.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %z = glm.constant {value = dense<10.0> : tensor<f32>} : tensor<f32>
  %lo = glm.constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
  %hi = glm.constant {value = dense<255.0> : tensor<f32>} : tensor<f32>
  %0 = glm.div %x, %s : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %1 = glm.round %0 : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %2 = glm.add %1, %z : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %3 = glm.clip %2, %lo, %hi {operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x2x3x3xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %4 = glm.cast %3 {to = ui8} : (tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xui8>
  %5 = glm.cast %4 {to = f32} : (tensor<1x2x3x3xui8>) -> tensor<1x2x3x3xf32>
  %6 = glm.sub %5, %z : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %7 = glm.mul %6, %s : (tensor<1x2x3x3xf32>, tensor<f32>) -> tensor<1x2x3x3xf32>
  %w = glm.constant {value = dense<[[[[0.9921875]], [[-0.5]]], [[[0.25]], [[0.125]]]]> : tensor<2x2x1x1xf32>} : tensor<2x2x1x1xf32>
  %y = glm.conv %7, %w {pads = [0, 0, 0, 0]} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x3x3xf32> loc("c1")
  %y2 = glm.conv %x, %w {pads = [0, 0, 0, 0], glm.calib = {min = -1.0 : f64, max = 3.0 : f64}} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x3x3xf32> loc("c2")
  %wz = glm.constant {value = dense<[[[[0.9921875]], [[-0.5]]], [[[0.0]], [[0.0]]]]> : tensor<2x2x1x1xf32>} : tensor<2x2x1x1xf32>
  %y3 = glm.conv %7, %wz {pads = [0, 0, 0, 0]} : (tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x3x3xf32> loc("c3")
  %s3 = glm.add %y2, %y3 : (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  return %y, %s3 : tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>
}
